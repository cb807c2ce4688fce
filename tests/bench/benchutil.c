/* gst-bidi: what the benchmarks share
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"

static const gchar *bench_name = "bench";
static gint failures;

void
bench_set_name (const gchar * name)
{
  bench_name = name;
}

void
bench_failed (const gchar * format, ...)
{
  va_list ap;

  va_start (ap, format);
  g_printerr ("%s: ", bench_name);
  vfprintf (stderr, format, ap);
  g_printerr ("\n");
  va_end (ap);
  g_atomic_int_inc (&failures);
}

gint
bench_failures (void)
{
  return g_atomic_int_get (&failures);
}

glong
bench_status_kib (const gchar * what)
{
  gchar *status = NULL, *p;
  glong v = 0;

  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL) &&
      (p = strstr (status, what)))
    v = strtol (p + strlen (what), NULL, 10);
  g_free (status);
  return v;
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

gdouble
bench_percentile (GArray * v, gdouble p)
{
  guint i;

  if (v->len == 0)
    return 0;
  g_array_sort (v, cmp_double);
  i = (guint) (p * (v->len - 1) + 0.5);
  return g_array_index (v, gdouble, MIN (i, v->len - 1));
}

void
bench_sleep_until (gint64 t_us)
{
  gint64 now = g_get_monotonic_time ();

  if (t_us > now)
    g_usleep (t_us - now);
}

/* ------------------------------------------------------------------------
 * A live session
 * ------------------------------------------------------------------------ */

static void
session_transcript (BenchSession * s, const GstStructure * st)
{
  gboolean final = FALSE;
  const gchar *role = gst_structure_get_string (st, "role");

  gst_structure_get_boolean (st, "is_final", &final);
  if (!final)
    return;
  if (g_strcmp0 (role, "user") == 0) {
    g_free (s->user);
    s->user = g_strdup (gst_structure_get_string (st, "text"));
    gst_structure_get_uint64 (st, "audio_end_ms", &s->user_audio_end_ms);
    s->turns++;
  } else {
    g_free (s->answer);
    s->answer = g_strdup (gst_structure_get_string (st, "text"));
  }
}

static GstBusSyncReply
session_bus (G_GNUC_UNUSED GstBus * bus, GstMessage * msg, gpointer user_data)
{
  BenchSession *s = user_data;
  const GstStructure *st = gst_message_get_structure (msg);

  g_mutex_lock (&s->lock);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    if (!s->error)
      s->error = g_strdup (err->message);
    g_error_free (err);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
    s->eos = TRUE;
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && st) {
    if (gst_structure_has_name (st, "bidi_connection_start"))
      s->connected = TRUE;
    else if (gst_structure_has_name (st, "bidi_response_complete"))
      s->completes++;
    else if (gst_structure_has_name (st, "bidi_interruption"))
      s->interruptions++;
    else if (gst_structure_has_name (st, "bidi_transcript_stream"))
      session_transcript (s, st);
  }
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  /* a sync handler that drops a message owns it */
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

gpointer
bench_session_new (gsize size, const gchar * agent_tail,
    const gchar * provider_config, GstPadProbeCallback probe)
{
  BenchSession *s = g_malloc0 (MAX (size, sizeof (BenchSession)));
  GError *err = NULL;
  gchar *line;
  GstBus *bus;

  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  line = g_strdup_printf ("appsrc name=src is-live=true do-timestamp=true "
      "format=time max-bytes=0 caps=audio/x-raw,format=S16LE,rate=16000,"
      "channels=1,layout=interleaved ! bidiagent name=agent %s", agent_tail);
  s->pipeline = gst_parse_launch (line, &err);
  if (!s->pipeline)
    g_error ("pipeline %s: %s", line, err->message);
  g_free (line);
  s->src = gst_bin_get_by_name (GST_BIN (s->pipeline), "src");
  s->agent = gst_bin_get_by_name (GST_BIN (s->pipeline), "agent");
  if (provider_config)
    gst_util_set_object_arg (G_OBJECT (s->agent), "provider-config",
        provider_config);
  if (probe) {
    GstPad *pad = gst_element_get_static_pad (s->agent, "src");

    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, probe, s, NULL);
    gst_object_unref (pad);
  }
  bus = gst_element_get_bus (s->pipeline);
  gst_bus_set_sync_handler (bus, session_bus, s, NULL);
  gst_object_unref (bus);
  gst_element_set_state (s->pipeline, GST_STATE_PLAYING);
  return s;
}

gboolean
bench_session_wait_connected (BenchSession * s, gint64 timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;
  gboolean connected;

  g_mutex_lock (&s->lock);
  while (!s->connected && !s->error &&
      g_cond_wait_until (&s->cond, &s->lock, end));
  connected = s->connected;
  g_mutex_unlock (&s->lock);
  return connected;
}

void
bench_session_push (BenchSession * s, const gint16 * data, gsize n)
{
  GstBuffer *buf = gst_buffer_new_memdup (data, n * sizeof (gint16));
  GstFlowReturn ret;

  g_signal_emit_by_name (s->src, "push-buffer", buf, &ret);
  gst_buffer_unref (buf);
}

GstClockTime
bench_session_running_time (BenchSession * s)
{
  GstClock *clock = gst_element_get_clock (s->pipeline);
  GstClockTime now, base;

  if (!clock)
    return GST_CLOCK_TIME_NONE;
  now = gst_clock_get_time (clock);
  base = gst_element_get_base_time (s->pipeline);
  gst_object_unref (clock);
  return now > base ? now - base : 0;
}

void
bench_session_free (BenchSession * s)
{
  GstBus *bus = gst_element_get_bus (s->pipeline);

  gst_element_set_state (s->pipeline, GST_STATE_NULL);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  gst_object_unref (s->src);
  gst_object_unref (s->agent);
  gst_object_unref (s->pipeline);
  g_free (s->user);
  g_free (s->answer);
  g_free (s->error);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s);
}
