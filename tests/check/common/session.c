/* gst-bidi: a provider session in a test
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>

#include "session.h"
#include "leftover.h"

static gint64
deadline (guint ms)
{
  return g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
}

static GstPadProbeReturn
session_probe (G_GNUC_UNUSED GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  Session *s = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstMapInfo map;

    if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP))
      return GST_PAD_PROBE_OK;
    gst_buffer_map (buf, &map, GST_MAP_READ);
    g_mutex_lock (&s->lock);
    g_byte_array_append (s->answer, map.data, map.size);
    s->n_answer_buffers++;
    g_cond_broadcast (&s->cond);
    g_mutex_unlock (&s->lock);
    gst_buffer_unmap (buf, &map);
  } else {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

    if (GST_EVENT_TYPE (ev) == GST_EVENT_FLUSH_START) {
      g_mutex_lock (&s->lock);
      if (s->n_flush++ == 0)
        s->flush_pos = s->pushed;
      s->flush_us = g_get_monotonic_time ();
      s->answer_at_flush = s->answer->len;
      g_cond_broadcast (&s->cond);
      g_mutex_unlock (&s->lock);
    } else if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS) {
      GstCaps *caps;

      gst_event_parse_caps (ev, &caps);
      g_mutex_lock (&s->lock);
      gst_caps_replace (&s->caps, caps);
      g_mutex_unlock (&s->lock);
    }
  }
  return GST_PAD_PROBE_OK;
}

/* The sink renders @buf: after waiting for its time on the clock */
static void
on_handoff (G_GNUC_UNUSED GstElement * sink, GstBuffer * buf,
    G_GNUC_UNUSED GstPad * pad, gpointer user_data)
{
  Session *s = user_data;

  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP))
    return;
  g_mutex_lock (&s->lock);
  if (s->first_render_us == 0)
    s->first_render_us = g_get_monotonic_time ();
  g_mutex_unlock (&s->lock);
}

static gboolean
on_tool_call (G_GNUC_UNUSED GstElement * agent, const gchar * id,
    const gchar * name, const gchar * input, gpointer user_data)
{
  Session *s = user_data;

  g_mutex_lock (&s->lock);
  g_ptr_array_add (s->tool_calls, gst_structure_new ("tool-call",
          "id", G_TYPE_STRING, id, "name", G_TYPE_STRING, name,
          "input", G_TYPE_STRING, input, NULL));
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  /* the test answers */
  return TRUE;
}

Session *
session_create (const gchar * desc, guint rate, guint bpf, guint wait_ms)
{
  Session *s = g_new0 (Session, 1);
  GError *err = NULL;
  GstElement *sink;
  GstBus *bus;

  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  s->rate = rate;
  s->bpf = bpf;
  s->wait_ms = wait_ms;
  s->tool_calls = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  s->answer = g_byte_array_new ();

  s->pipeline = gst_parse_launch (desc, &err);
  fail_unless (s->pipeline != NULL && err == NULL, "%s: %s", desc,
      err ? err->message : "");
  leftover_watch (s->pipeline);
  s->src = gst_bin_get_by_name (GST_BIN (s->pipeline), "src");
  s->agent = gst_bin_get_by_name (GST_BIN (s->pipeline), "agent");
  sink = gst_bin_get_by_name (GST_BIN (s->pipeline), "sink");
  fail_unless (s->agent != NULL && sink != NULL);
  s->sinkpad = gst_element_get_static_pad (sink, "sink");
  if (g_signal_lookup ("handoff", G_OBJECT_TYPE (sink)))
    g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), s);
  gst_object_unref (sink);

  gst_pad_add_probe (s->sinkpad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_EVENT_FLUSH,
      session_probe, s, NULL);
  bus = gst_element_get_bus (s->pipeline);
  s->log = bus_log_new (bus);
  gst_object_unref (bus);
  return s;
}

void
session_take_tool_calls (Session * s)
{
  g_signal_connect (s->agent, "tool-call", G_CALLBACK (on_tool_call), s);
}

void
session_start (Session * s)
{
  fail_if (gst_element_set_state (s->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
}

void
session_free (Session * s)
{
  gst_element_set_state (s->pipeline, GST_STATE_NULL);
  bus_log_free (s->log);
  if (s->src)
    gst_object_unref (s->src);
  gst_object_unref (s->agent);
  gst_object_unref (s->sinkpad);
  gst_object_unref (s->pipeline);
  g_ptr_array_unref (s->tool_calls);
  g_byte_array_unref (s->answer);
  gst_caps_replace (&s->caps, NULL);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s);
}

gint
session_wait (Session * s, guint from, const gchar * name,
    const gchar * field, const gchar * value, guint timeout_ms)
{
  return bus_log_wait (s->log, from, name, field, value, timeout_ms);
}

const GstStructure *
session_msg (Session * s, gint i)
{
  return bus_log_get (s->log, i);
}

guint
session_count (Session * s, const gchar * name, const gchar * field,
    const gchar * value)
{
  return bus_log_count (s->log, name, field, value);
}

gint
session_wait_connected (Session * s)
{
  gint i = session_wait (s, 0, "bidi_connection_start", NULL, NULL,
      s->wait_ms);

  fail_unless (i >= 0, "the provider did not connect");
  return i;
}

void
session_push (Session * s, gconstpointer data, gsize n_frames,
    gsize chunk_frames)
{
  const guint8 *bytes = data;
  gsize i;

  fail_unless (s->src != NULL);
  for (i = 0; i < n_frames; i += chunk_frames) {
    gsize k = MIN (chunk_frames, n_frames - i);
    GstBuffer *buf = gst_buffer_new_memdup (bytes + i * s->bpf, k * s->bpf);
    GstFlowReturn ret;

    g_mutex_lock (&s->lock);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (s->pushed, GST_SECOND,
        s->rate);
    g_mutex_unlock (&s->lock);
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (k, GST_SECOND, s->rate);
    g_signal_emit_by_name (s->src, "push-buffer", buf, &ret);
    gst_buffer_unref (buf);
    fail_unless_equals_int (ret, GST_FLOW_OK);
    g_mutex_lock (&s->lock);
    s->pushed += k;
    g_mutex_unlock (&s->lock);
  }
}

void
session_push_bytes (Session * s, GBytes * pcm, guint chunk_ms)
{
  gsize size;
  gconstpointer data = g_bytes_get_data (pcm, &size);

  session_push (s, data, size / s->bpf, (gsize) s->rate * chunk_ms / 1000);
}

void
session_end_input (Session * s)
{
  GstFlowReturn ret;

  g_signal_emit_by_name (s->src, "end-of-stream", &ret);
}

gboolean
session_wait_answer (Session * s, gsize n_bytes, guint timeout_ms)
{
  gint64 end = deadline (timeout_ms);
  gboolean ok;

  g_mutex_lock (&s->lock);
  while (s->answer->len < n_bytes &&
      g_cond_wait_until (&s->cond, &s->lock, end));
  ok = s->answer->len >= n_bytes;
  g_mutex_unlock (&s->lock);
  return ok;
}

gsize
session_answer_len (Session * s)
{
  gsize n;

  g_mutex_lock (&s->lock);
  n = s->answer->len;
  g_mutex_unlock (&s->lock);
  return n;
}

guint64
session_stat (Session * s, const gchar * field)
{
  GstStructure *st = NULL;
  guint64 v = 0;

  g_object_get (s->agent, "stats", &st, NULL);
  fail_unless (st != NULL);
  fail_unless (gst_structure_get_uint64 (st, field, &v), "no %s", field);
  gst_structure_free (st);
  return v;
}

const GstStructure *
session_wait_tool_call (Session * s, guint nth)
{
  gint64 end = deadline (s->wait_ms);
  const GstStructure *st = NULL;

  g_mutex_lock (&s->lock);
  while (s->tool_calls->len <= nth &&
      g_cond_wait_until (&s->cond, &s->lock, end));
  if (s->tool_calls->len > nth)
    st = g_ptr_array_index (s->tool_calls, nth);
  g_mutex_unlock (&s->lock);
  return st;
}

guint
session_n_tool_calls (Session * s)
{
  guint n;

  g_mutex_lock (&s->lock);
  n = s->tool_calls->len;
  g_mutex_unlock (&s->lock);
  return n;
}

const GstStructure *
session_find_modality (const GstStructure * usage, const gchar * modality)
{
  const GValue *details = gst_structure_get_value (usage,
      "modality_details");
  guint i;

  fail_unless (details != NULL && GST_VALUE_HOLDS_ARRAY (details),
      "no modality_details");
  for (i = 0; i < gst_value_array_get_size (details); i++) {
    const GstStructure *d =
        gst_value_get_structure (gst_value_array_get_value (details, i));

    if (g_strcmp0 (gst_structure_get_string (d, "modality"), modality) == 0)
      return d;
  }
  return NULL;
}

void
session_assert_tokens (const GstStructure * st, const gchar * field, gint expected)
{
  gint v = -1;

  fail_unless (gst_structure_get_int (st, field, &v), "no %s in %"
      GST_PTR_FORMAT, field, st);
  fail_unless_equals_int (v, expected);
}

/* The transcripts of @role in order: "text|current|final" lines */
gchar *
session_transcripts (Session * s, const gchar * role)
{
  GString *out = g_string_new (NULL);
  guint i;

  for (i = 0; i < bus_log_length (s->log); i++) {
    const GstStructure *st = bus_log_get (s->log, i);
    gboolean final = FALSE;

    if (!bus_log_matches (st, "bidi_transcript_stream", "role", role))
      continue;
    gst_structure_get_boolean (st, "is_final", &final);
    g_string_append_printf (out, "%s%s|%s|%s", out->len ? "\n" : "",
        gst_structure_get_string (st, "text"),
        GST_STR_NULL (gst_structure_get_string (st, "current_transcript")),
        final ? "final" : "partial");
  }
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------------
 * What the provider tests share
 * ------------------------------------------------------------------------ */

GBytes *
session_make_pcm (gsize bytes, guint seed)
{
  gsize n = bytes / 2, i;
  gint16 *s = g_new (gint16, n);

  for (i = 0; i < n; i++)
    s[i] = (gint16) (((i * (7 + 2 * seed) + seed * 977) % 16001) - 8000);
  return g_bytes_new_take (s, n * 2);
}

GBytes *
session_make_png (void)
{
  gsize len;
  guchar *data = g_base64_decode ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1"
      "HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=", &len);

  return g_bytes_new_take (data, len);
}

GBytes *
session_make_jpeg (void)
{
  static const guint8 jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J',
    'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
    0x00, 0xff, 0xd9
  };

  return g_bytes_new (jpeg, sizeof (jpeg));
}

void
session_assert_answer_tail (Session * s, gsize offset, GBytes * pcm)
{
  gsize size, len;
  gboolean same;
  const guint8 *data = g_bytes_get_data (pcm, &size);

  fail_unless (session_wait_answer (s, offset + size, s->wait_ms),
      "only %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " answer bytes reached "
      "the sink", session_answer_len (s), offset + size);
  g_mutex_lock (&s->lock);
  len = s->answer->len;
  same = len == offset + size &&
      memcmp (s->answer->data + offset, data, size) == 0;
  g_mutex_unlock (&s->lock);
  fail_unless_equals_uint64 (len, offset + size);
  fail_unless (same, "the answer audio differs from what the server sent");
}

void
session_assert_no_secret (Session * s, const gchar * secret,
    const gchar * piece)
{
  guint i, n = bus_log_length (s->log);

  for (i = 0; i < n; i++) {
    gchar *str = gst_structure_to_string (session_msg (s, i));

    fail_if (strstr (str, secret) != NULL, "the key is in %s", str);
    fail_if (piece && strstr (str, piece) != NULL, "part of the key is in "
        "%s", str);
    g_free (str);
  }
}

const GstStructure *
session_assert_turn (Session * s)
{
  return bus_log_assert_turn (s->log);
}

void
session_assert_config_refused (const gchar * config, gboolean names_field)
{
  GstElement *e = gst_element_factory_make ("bidiagent", NULL);
  GstBus *bus = gst_bus_new ();
  GstStructure *pc = gst_structure_from_string (config, NULL);
  GstMessage *msg;
  GError *err = NULL;

  fail_unless (pc != NULL, "%s does not parse", config);
  gst_element_set_bus (e, bus);
  g_object_set (e, "provider-config", pc, NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "%s: no error", config);
  gst_message_parse_error (msg, &err, NULL);
  GST_INFO ("%s: %s", config, err->message);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS), "%s: %s", config, err->message);
  fail_unless (strstr (err->message, "Invalid provider-config") != NULL,
      "%s: %s", config, err->message);
  if (names_field)
    fail_unless (strstr (err->message, gst_structure_nth_field_name (pc,
                0)) != NULL, "%s: %s", config, err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_structure_free (pc);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}
