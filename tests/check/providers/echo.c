/* gst-bidi: provider=echo, the provider that docs/providers.md adds
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* ext/echo/ is a folder and nothing else: its meson.build registers it.
 * These tests check that the element finds it by name and that it works
 * as a provider, so that the steps of docs/providers.md stay true. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/app/gstappsrc.h>
#include <gst/bidi/gstbidiprovider.h>

#include "buslog.h"
#include "leftover.h"

#define WAIT_MS 20000
#define RATE 16000

typedef struct
{
  GstElement *pipeline, *src, *agent;
  BusLog *log;
  GMutex lock;
  GByteArray *out;              /* the samples of the answer buffers */
} Run;

static GstPadProbeReturn
answer_probe (G_GNUC_UNUSED GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  Run *r = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;

  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    g_mutex_lock (&r->lock);
    g_byte_array_append (r->out, map.data, map.size);
    g_mutex_unlock (&r->lock);
    gst_buffer_unmap (buf, &map);
  }
  return GST_PAD_PROBE_OK;
}

static Run *
run_new (const gchar * agent_props)
{
  Run *r = g_new0 (Run, 1);
  GstBus *bus;
  GstPad *pad;
  gchar *desc;
  GError *err = NULL;

  /* idle=gap: between answers the src pad sends GAPs, no buffers, so
   * every buffer is answer audio */
  desc = g_strdup_printf ("appsrc name=src format=time "
      "caps=audio/x-raw,format=S16LE,rate=%d,channels=1,layout=interleaved "
      "! bidiagent name=agent provider=echo idle=gap %s "
      "! audio/x-raw,format=S16LE,rate=%d,channels=1 "
      "! fakesink name=sink sync=false", RATE, agent_props, RATE);
  r->pipeline = gst_parse_launch (desc, &err);
  g_free (desc);
  fail_unless (r->pipeline != NULL, "%s", err ? err->message : "?");
  leftover_watch (r->pipeline);
  r->src = gst_bin_get_by_name (GST_BIN (r->pipeline), "src");
  r->agent = gst_bin_get_by_name (GST_BIN (r->pipeline), "agent");
  g_mutex_init (&r->lock);
  r->out = g_byte_array_new ();
  pad = gst_element_get_static_pad (r->agent, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, answer_probe, r, NULL);
  gst_object_unref (pad);
  bus = gst_element_get_bus (r->pipeline);
  r->log = bus_log_new (bus);
  gst_object_unref (bus);
  return r;
}

static void
run_free (Run * r)
{
  gst_element_set_state (r->pipeline, GST_STATE_NULL);
  bus_log_free (r->log);
  gst_object_unref (r->src);
  gst_object_unref (r->agent);
  gst_object_unref (r->pipeline);
  g_byte_array_unref (r->out);
  g_mutex_clear (&r->lock);
  g_free (r);
}

/* @ms of a ramp that no two samples of share */
static GBytes *
make_pcm (guint ms)
{
  gsize n = (gsize) RATE * ms / 1000, i;
  gint16 *s = g_new (gint16, n);

  for (i = 0; i < n; i++)
    s[i] = (gint16) ((i * 7) % 60000 - 30000);
  return g_bytes_new_take (s, n * 2);
}

GST_START_TEST (test_found_by_name)
{
  gchar **names;

  /* the plugin registers what ext/ built when it loads */
  gst_object_unref (gst_element_factory_make ("bidiagent", NULL));
  fail_unless (gst_bidi_provider_lookup ("echo") != G_TYPE_INVALID);
  names = gst_bidi_provider_list ();
  fail_unless (g_strv_contains ((const gchar * const *) names, "echo"));
  g_strfreev (names);
}

GST_END_TEST;

GST_START_TEST (test_plays_input_back)
{
  Run *r = run_new ("");
  GBytes *pcm = make_pcm (1500);
  gsize size;
  gconstpointer data = g_bytes_get_data (pcm, &size);
  GstBuffer *buf;
  gint i;

  fail_unless (gst_element_set_state (r->pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (bus_log_wait (r->log, 0, "bidi_connection_start", "model",
          "echo", WAIT_MS) >= 0);
  buf = gst_buffer_new_memdup (data, size);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = 1500 * GST_MSECOND;
  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (r->src), buf),
      GST_FLOW_OK);
  gst_app_src_end_of_stream (GST_APP_SRC (r->src));

  fail_unless (bus_log_wait (r->log, 0, "eos", NULL, NULL, WAIT_MS) >= 0);
  i = bus_log_wait (r->log, 0, "bidi_response_complete", "stop_reason",
      "complete", 0);
  fail_unless (i >= 0);
  fail_unless (bus_log_wait (r->log, 0, "bidi_connection_close", "reason",
          "complete", 0) > i);

  /* the answer is the input, sample for sample */
  g_mutex_lock (&r->lock);
  fail_unless_equals_uint64 (r->out->len, size);
  fail_unless (memcmp (r->out->data, data, size) == 0);
  g_mutex_unlock (&r->lock);

  g_bytes_unref (pcm);
  run_free (r);
}

GST_END_TEST;

GST_START_TEST (test_text_answered_with_text)
{
  Run *r = run_new ("");
  gboolean queued = FALSE;
  gint i;

  fail_unless (gst_element_set_state (r->pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless (bus_log_wait (r->log, 0, "bidi_connection_start", NULL, NULL,
          WAIT_MS) >= 0);
  g_signal_emit_by_name (r->agent, "send-text", "Is anybody there?", &queued);
  fail_unless (queued);
  i = bus_log_wait (r->log, 0, "bidi_transcript_stream", "role",
      "assistant", WAIT_MS);
  fail_unless (i >= 0);
  fail_unless_equals_string (gst_structure_get_string (bus_log_get (r->log,
              i), "text"), "Is anybody there?");
  fail_unless (bus_log_wait (r->log, i, "bidi_response_complete", NULL, NULL,
          WAIT_MS) > i);
  run_free (r);
}

GST_END_TEST;

GST_START_TEST (test_refuses_config)
{
  Run *r = run_new ("provider-config=\"s,volume=3\"");
  const GstStructure *st;
  gint i;

  fail_unless (gst_element_set_state (r->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  i = bus_log_wait (r->log, 0, "error", NULL, NULL, WAIT_MS);
  fail_unless (i >= 0);
  st = bus_log_get (r->log, i);
  fail_unless (strstr (gst_structure_get_string (st, "debug"), "volume") !=
      NULL || strstr (gst_structure_get_string (st, "message"), "volume") !=
      NULL, "%" GST_PTR_FORMAT, st);
  run_free (r);
}

GST_END_TEST;

static Suite *
echo_suite (void)
{
  Suite *s = suite_create ("echo");
  TCase *tc = tcase_create ("provider");

  tcase_add_checked_fixture (tc, NULL, leftover_stop);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_found_by_name);
  tcase_add_test (tc, test_plays_input_back);
  tcase_add_test (tc, test_text_answered_with_text);
  tcase_add_test (tc, test_refuses_config);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (echo);
