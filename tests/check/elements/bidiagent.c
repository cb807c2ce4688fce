/* gst-bidi: bidiagent element tests, with the scripted provider
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
#include <math.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/audio/audio.h>

#include "scriptedprovider.h"
#include "secretwatch.h"
#include "leftover.h"
#include "buslog.h"

#define WAIT_MS 5000

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* Everything the element pushes on its src pad, in order. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GPtrArray *items;             /* GstMiniObject: buffers and events */
  gulong probe;
  GstPad *pad;
} Recorder;

static GstPadProbeReturn
recorder_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Recorder *rec = user_data;
  GstMiniObject *obj = GST_PAD_PROBE_INFO_DATA (info);

  (void) pad;
  g_mutex_lock (&rec->lock);
  g_ptr_array_add (rec->items, gst_mini_object_ref (obj));
  g_cond_broadcast (&rec->cond);
  g_mutex_unlock (&rec->lock);
  return GST_PAD_PROBE_OK;
}

static Recorder *
recorder_new (GstElement * element)
{
  Recorder *rec = g_new0 (Recorder, 1);

  g_mutex_init (&rec->lock);
  g_cond_init (&rec->cond);
  rec->items = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_mini_object_unref);
  rec->pad = gst_element_get_static_pad (element, "src");
  rec->probe = gst_pad_add_probe (rec->pad,
      GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
      GST_PAD_PROBE_TYPE_EVENT_FLUSH, recorder_probe, rec, NULL);
  return rec;
}

static void
recorder_free (Recorder * rec)
{
  gst_pad_remove_probe (rec->pad, rec->probe);
  gst_object_unref (rec->pad);
  g_ptr_array_unref (rec->items);
  g_mutex_clear (&rec->lock);
  g_cond_clear (&rec->cond);
  g_free (rec);
}

static gboolean
is_buffer (gpointer obj)
{
  return GST_IS_BUFFER (obj);
}

static gboolean
is_event (gpointer obj, GstEventType type)
{
  return GST_IS_EVENT (obj) && GST_EVENT_TYPE (obj) == type;
}

/* First S16 sample of a buffer. */
static gint
buffer_first_sample (GstBuffer * buf)
{
  gint16 v = 0;

  gst_buffer_extract (buf, 0, &v, 2);
  return v;
}

/* Whether every S16 sample of @buf equals @value. */
static gboolean
buffer_all_samples (GstBuffer * buf, gint value)
{
  GstMapInfo map;
  gboolean ok = TRUE;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_READ);
  for (i = 0; i + 1 < map.size; i += 2) {
    gint16 v;
    memcpy (&v, map.data + i, 2);
    if (v != value) {
      ok = FALSE;
      break;
    }
  }
  gst_buffer_unmap (buf, &map);
  return ok;
}

/* Counts recorded buffers whose samples all equal @value. */
static guint
recorder_count_buffers (Recorder * rec, gint value)
{
  guint i, n = 0;

  g_mutex_lock (&rec->lock);
  for (i = 0; i < rec->items->len; i++) {
    gpointer obj = g_ptr_array_index (rec->items, i);
    if (is_buffer (obj) && buffer_all_samples (obj, value))
      n++;
  }
  g_mutex_unlock (&rec->lock);
  return n;
}

/* Waits until at least @n buffers of @value were pushed. */
static gboolean
recorder_wait_buffers (Recorder * rec, gint value, guint n)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (recorder_count_buffers (rec, value) < n) {
    g_mutex_lock (&rec->lock);
    if (!g_cond_wait_until (&rec->cond, &rec->lock, end)) {
      g_mutex_unlock (&rec->lock);
      return recorder_count_buffers (rec, value) >= n;
    }
    g_mutex_unlock (&rec->lock);
  }
  return TRUE;
}

static gboolean
recorder_wait_event (Recorder * rec, GstEventType type)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  gboolean found = FALSE;
  guint i;

  g_mutex_lock (&rec->lock);
  while (!found) {
    for (i = 0; i < rec->items->len && !found; i++)
      found = is_event (g_ptr_array_index (rec->items, i), type);
    if (!found && !g_cond_wait_until (&rec->cond, &rec->lock, end))
      break;
  }
  g_mutex_unlock (&rec->lock);
  return found;
}

/* A snapshot of what was recorded so far (transfer container). */
static GPtrArray *
recorder_snapshot (Recorder * rec)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_mini_object_unref);
  guint i;

  g_mutex_lock (&rec->lock);
  for (i = 0; i < rec->items->len; i++)
    g_ptr_array_add (copy,
        gst_mini_object_ref (g_ptr_array_index (rec->items, i)));
  g_mutex_unlock (&rec->lock);
  return copy;
}

static GstStructure *
make_config (const gchar * fields, const gchar * first_event, ...)
{
  GstStructure *config;
  GValue script = G_VALUE_INIT;
  const gchar *ev;
  va_list ap;
  gchar *str = g_strdup_printf ("config%s%s", fields ? ", " : "",
      fields ? fields : "");

  config = gst_structure_from_string (str, NULL);
  fail_unless (config != NULL, "bad config %s", str);
  g_free (str);

  if (!first_event)
    return config;

  gst_value_array_init (&script, 0);
  va_start (ap, first_event);
  for (ev = first_event; ev; ev = va_arg (ap, const gchar *)) {
    GValue v = G_VALUE_INIT;
    GstStructure *s = gst_structure_from_string (ev, NULL);

    fail_unless (s != NULL, "bad script entry %s", ev);
    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, s);
    gst_value_array_append_and_take_value (&script, &v);
  }
  va_end (ap);
  gst_structure_take_value (config, "script", &script);
  return config;
}

typedef struct
{
  GstHarness *h;
  GstBus *bus;
  Recorder *rec;
  GstBidiScriptedProvider *provider;
} Fixture;

/* bidiagent with the scripted provider in a harness (PLAYING, test clock).
 * @config: (transfer full) (nullable) */
static void
fixture_setup (Fixture * f, GstStructure * config, const gchar * props)
{
  GstElement *e;

  memset (f, 0, sizeof (*f));
  gst_bidi_scripted_provider_register ();
  gst_bidi_scripted_provider_reset_last ();

  e = gst_element_factory_make ("bidiagent", NULL);
  fail_unless (e != NULL);
  g_object_set (e, "provider", "scripted", NULL);
  if (config) {
    g_object_set (e, "provider-config", config, NULL);
    gst_structure_free (config);
  }
  if (props) {
    gchar **kv = g_strsplit_set (props, " ", -1), **p;
    for (p = kv; *p; p++) {
      gchar **pair = g_strsplit (*p, "=", 2);
      if (pair[0] && pair[1])
        gst_util_set_object_arg (G_OBJECT (e), pair[0], pair[1]);
      g_strfreev (pair);
    }
    g_strfreev (kv);
  }

  f->bus = gst_bus_new ();
  gst_element_set_bus (e, f->bus);
  f->rec = recorder_new (e);
  f->h = gst_harness_new_with_element (e, "sink", "src");
  leftover_watch (f->h->element);
  gst_object_unref (e);
  gst_harness_set_drop_buffers (f->h, TRUE);
  gst_harness_set_sink_caps_str (f->h,
      "audio/x-raw, format=S16LE, rate=24000, channels=1, "
      "layout=interleaved");

  f->provider = gst_bidi_scripted_provider_get_last ();
  fail_unless (f->provider != NULL);
}

static void
fixture_teardown (Fixture * f)
{
  gst_element_set_bus (f->h->element, NULL);
  gst_harness_teardown (f->h);
  recorder_free (f->rec);
  gst_bus_set_flushing (f->bus, TRUE);
  gst_object_unref (f->bus);
  gst_object_unref (f->provider);
  gst_bidi_scripted_provider_reset_last ();
}

/* Pops element messages until one named @name (or timeout). */
static GstStructure *
wait_message (GstBus * bus, const gchar * name)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 100 * GST_MSECOND,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
    GstStructure *s;

    if (!msg)
      continue;
    GST_INFO ("waiting for %s, got %" GST_PTR_FORMAT, name, msg);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR && g_strcmp0 (name,
            "error") != 0) {
      GError *err = NULL;
      gchar *dbg = NULL;
      gst_message_parse_error (msg, &err, &dbg);
      fail ("unexpected error: %s (%s)", err->message, dbg);
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gchar *dbg = NULL;
      gst_message_parse_error (msg, &err, &dbg);
      s = gst_structure_new ("error", "message", G_TYPE_STRING, err->message,
          "debug", G_TYPE_STRING, dbg, NULL);
      GST_INFO ("error structure %" GST_PTR_FORMAT " from %s / %s", s, err->message, dbg);
      g_error_free (err);
      g_free (dbg);
      gst_message_unref (msg);
      return s;
    }
    if (gst_message_has_name (msg, name)) {
      s = gst_structure_copy (gst_message_get_structure (msg));
      gst_message_unref (msg);
      return s;
    }
    gst_message_unref (msg);
  }
  return NULL;
}

static void
wait_connected (Fixture * f)
{
  GstStructure *s = wait_message (f->bus, "bidi_connection_start");

  fail_unless (s != NULL, "provider did not connect");
  gst_structure_free (s);
}

/* One buffer of @ms milliseconds, every sample = @value, in @format. */
static GstBuffer *
make_input (const gchar * format, gint rate, gint channels, guint ms,
    gdouble value)
{
  GstAudioInfo info;
  GstBuffer *buf;
  GstMapInfo map;
  gsize frames = (gsize) rate * ms / 1000, i;
  GstAudioFormat fmt = gst_audio_format_from_string (format);

  gst_audio_info_set_format (&info, fmt, rate, channels, NULL);
  buf = gst_buffer_new_allocate (NULL, frames * GST_AUDIO_INFO_BPF (&info),
      NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < frames * channels; i++) {
    if (fmt == GST_AUDIO_FORMAT_F32LE) {
      gfloat v = value;
      memcpy (map.data + i * 4, &v, 4);
    } else {
      gint16 v = (gint16) (value * 32767);
      memcpy (map.data + i * 2, &v, 2);
    }
  }
  gst_buffer_unmap (buf, &map);
  return buf;
}

static void
push_input (Fixture * f, const gchar * format, gint rate, gint channels,
    guint total_ms, gdouble value)
{
  guint done;

  for (done = 0; done < total_ms; done += 10)
    fail_unless_equals_int (gst_harness_push (f->h, make_input (format, rate,
                channels, 10, value)), GST_FLOW_OK);
}

/* Mean of the S16 samples the provider received, skipping the first
 * @skip_ms (resampler start-up) at 16 kHz. */
static gdouble
received_mean (GstBidiScriptedProvider * p, guint skip_ms, gsize * n_bytes)
{
  GBytes *audio = gst_bidi_scripted_provider_get_audio (p);
  gsize size, i, skip = 16 * skip_ms * 2;
  const gint16 *s = g_bytes_get_data (audio, &size);
  gdouble sum = 0;
  gsize n = 0;

  for (i = skip / 2; i < size / 2; i++, n++)
    sum += s[i];
  *n_bytes = size;
  g_bytes_unref (audio);
  return n ? sum / n : 0;
}

/* ------------------------------------------------------------------------
 * Input conversion
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_input_44k1_stereo_f32)
{
  Fixture f;
  gsize n_bytes;
  gdouble mean;

  fixture_setup (&f, NULL, NULL);
  wait_connected (&f);
  gst_harness_set_src_caps_str (f.h, "audio/x-raw, format=F32LE, "
      "rate=44100, channels=2, layout=interleaved, channel-mask=(bitmask)0x3");
  push_input (&f, "F32LE", 44100, 2, 1000, 0.5);

  /* 1 s at 16 kHz mono S16 = 32000 bytes, in 40 ms chunks of 1280 bytes;
   * the resampler may hold back a few samples */
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "send-audio",
          24, WAIT_MS));
  mean = received_mean (f.provider, 100, &n_bytes);
  fail_unless (n_bytes >= 32000 - 1280 && n_bytes <= 32000,
      "got %" G_GSIZE_FORMAT " bytes", n_bytes);
  /* stereo 0.5 downmixed to mono stays 0.5 = 16384 */
  fail_unless (fabs (mean - 16384) < 200, "mean %f", mean);
  {
    GstStructure *call = gst_bidi_scripted_provider_get_call (f.provider,
        "send-audio", 0);
    guint64 bytes;
    fail_unless (gst_structure_get_uint64 (call, "bytes", &bytes));
    fail_unless_equals_uint64 (bytes, 1280);
    gst_structure_free (call);
  }
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_input_8k_mono_s16)
{
  Fixture f;
  gsize n_bytes;
  gdouble mean;

  fixture_setup (&f, NULL, "input-chunk-ms=20");
  wait_connected (&f);
  gst_harness_set_src_caps_str (f.h, "audio/x-raw, format=S16LE, "
      "rate=8000, channels=1, layout=interleaved");
  push_input (&f, "S16LE", 8000, 1, 1000, 0.25);

  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "send-audio",
          49, WAIT_MS));
  mean = received_mean (f.provider, 100, &n_bytes);
  fail_unless (n_bytes >= 32000 - 640 && n_bytes <= 32000,
      "got %" G_GSIZE_FORMAT " bytes", n_bytes);
  fail_unless (fabs (mean - 8192) < 200, "mean %f", mean);
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_input_caps_change)
{
  Fixture f;
  gsize n_bytes;

  fixture_setup (&f, NULL, NULL);
  wait_connected (&f);
  gst_harness_set_src_caps_str (f.h, "audio/x-raw, format=F32LE, "
      "rate=44100, channels=2, layout=interleaved, channel-mask=(bitmask)0x3");
  push_input (&f, "F32LE", 44100, 2, 500, 0.5);
  gst_harness_set_src_caps_str (f.h, "audio/x-raw, format=S16LE, "
      "rate=8000, channels=1, layout=interleaved");
  push_input (&f, "S16LE", 8000, 1, 500, 0.25);

  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "send-audio",
          23, WAIT_MS));
  {
    GBytes *audio = gst_bidi_scripted_provider_get_audio (f.provider);
    const gint16 *s = g_bytes_get_data (audio, &n_bytes);
    /* the first half is ~16384, the second ~8192 */
    fail_unless (abs (s[4000] - 16384) < 300, "got %d", s[4000]);
    fail_unless (abs (s[n_bytes / 2 - 800] - 8192) < 300, "got %d",
        s[n_bytes / 2 - 800]);
    g_bytes_unref (audio);
  }
  fail_unless (n_bytes >= 32000 - 2 * 1280 && n_bytes <= 32000,
      "got %" G_GSIZE_FORMAT, n_bytes);
  fixture_teardown (&f);
}

GST_END_TEST;

/* The arrival the provider is told for its @index-th chunk */
static gint64
chunk_arrival (Fixture * f, guint index)
{
  GstStructure *call = gst_bidi_scripted_provider_get_call (f->provider,
      "send-audio", index);
  gint64 us = 0;

  fail_unless (call != NULL);
  fail_unless (gst_structure_get_int64 (call, "arrived_us", &us));
  gst_structure_free (call);
  return us;
}

GST_START_TEST (test_input_buffered_before_connect)
{
  Fixture f;
  gsize n_bytes;
  GstStructure *stats;
  guint64 dropped;
  gint64 before, pushed, connected, later;
  guint i;

  fixture_setup (&f, make_config ("connect-delay-ms=300", NULL), NULL);
  gst_harness_set_src_caps_str (f.h, "audio/x-raw, format=S16LE, "
      "rate=16000, channels=1, layout=interleaved");
  /* pushed before the provider connects: kept, then sent in order */
  before = g_get_monotonic_time ();
  push_input (&f, "S16LE", 16000, 1, 200, 0.1);
  pushed = g_get_monotonic_time ();
  fail_unless_equals_int (gst_bidi_scripted_provider_count_calls (f.provider,
          "send-audio"), 0);
  wait_connected (&f);
  connected = g_get_monotonic_time ();
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "send-audio",
          5, WAIT_MS));
  received_mean (f.provider, 0, &n_bytes);
  fail_unless_equals_int (n_bytes, 6400);
  /* each chunk is dated by when it came in, not by when it was sent: a
   * moment the provider finds in it is not late by the connection time */
  for (i = 0; i < 5; i++) {
    gint64 at = chunk_arrival (&f, i);

    fail_unless (at >= before && at <= pushed && at < connected,
        "chunk %u came in at %" G_GINT64_FORMAT " us, pushed between %"
        G_GINT64_FORMAT " and %" G_GINT64_FORMAT, i, at, before, pushed);
  }
  /* once connected, a chunk goes at once */
  later = g_get_monotonic_time ();
  push_input (&f, "S16LE", 16000, 1, 40, 0.1);
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "send-audio",
          6, WAIT_MS));
  fail_unless (chunk_arrival (&f, 5) >= later);

  g_object_get (f.h->element, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "input-dropped-ms",
          &dropped));
  fail_unless_equals_uint64 (dropped, 0);
  gst_structure_free (stats);
  fixture_teardown (&f);
}

GST_END_TEST;

/* A pipeline of the input tests below, playing, its bus recorded */
static GstElement *
input_pipeline (const gchar * desc, BusLog ** log)
{
  GError *err = NULL;
  GstElement *pipe;
  GstBus *bus;

  gst_bidi_scripted_provider_register ();
  pipe = gst_parse_launch (desc, &err);
  fail_unless (pipe != NULL, "%s", err ? err->message : "");
  leftover_watch (pipe);
  bus = gst_element_get_bus (pipe);
  *log = bus_log_new (bus);
  gst_object_unref (bus);
  fail_if (gst_element_set_state (pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  return pipe;
}

static void
input_pipeline_stop (GstElement * pipe, BusLog * log)
{
  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  bus_log_free (log);
  gst_object_unref (pipe);
  gst_bidi_scripted_provider_reset_last ();
}

static guint64
input_dropped_ms (GstElement * pipe)
{
  GstElement *agent = gst_bin_get_by_name (GST_BIN (pipe), "agent");
  GstStructure *stats;
  guint64 dropped = G_MAXUINT64;

  g_object_get (agent, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "input-dropped-ms",
          &dropped));
  gst_structure_free (stats);
  gst_object_unref (agent);
  return dropped;
}

#define INPUT_CAPS "audio/x-raw,format=S16LE,rate=16000,channels=1"

/* concat does not answer the LATENCY query. Unknown liveness is not live:
 * the question, then a file's worth of unpaced silence, all reach the
 * provider, however long it takes to connect; nothing is dropped. */
GST_START_TEST (test_input_unknown_liveness_waits)
{
  BusLog *log;
  GstElement *pipe = input_pipeline ("concat name=c ! bidiagent name=agent "
      "provider=scripted provider-config=\"config,connect-delay-ms=1000\" "
      "input-buffer-ms=200 ! fakesink sync=false "
      "audiotestsrc num-buffers=10 samplesperbuffer=1600 ! " INPUT_CAPS
      " ! c. audiotestsrc num-buffers=40 samplesperbuffer=1600 wave=silence "
      "! " INPUT_CAPS " ! c.", &log);
  GstBidiScriptedProvider *provider;
  GBytes *audio;

  fail_unless (bus_log_wait (log, 0, "eos", NULL, NULL, WAIT_MS) >= 0,
      "the input did not end");
  provider = gst_bidi_scripted_provider_get_last ();
  audio = gst_bidi_scripted_provider_get_audio (provider);
  /* 50 buffers of 1600 samples, S16 mono */
  fail_unless_equals_int (g_bytes_get_size (audio), 50 * 1600 * 2);
  g_bytes_unref (audio);
  gst_object_unref (provider);
  fail_unless_equals_uint64 (input_dropped_ms (pipe), 0);
  fail_unless_equals_int (bus_log_count (log, "warning", NULL, NULL), 0);

  input_pipeline_stop (pipe, log);
}

GST_END_TEST;

/* A live source that overflows: the oldest audio goes, counted, and the
 * warning comes once, not once a drop */
GST_START_TEST (test_input_live_overflow_warns_once)
{
  BusLog *log;
  GstElement *pipe = input_pipeline ("audiotestsrc is-live=true "
      "samplesperbuffer=320 ! " INPUT_CAPS " ! bidiagent name=agent "
      "provider=scripted provider-config=\"config,connect-delay-ms=2500\" "
      "input-buffer-ms=100 ! fakesink sync=false", &log);
  gint i;

  i = bus_log_wait (log, 0, "warning", NULL, NULL, WAIT_MS);
  fail_unless (i >= 0, "no warning about dropped input");
  fail_unless (strstr (gst_structure_get_string (bus_log_get (log, i),
              "message"), "Input buffer full") != NULL);
  fail_unless (bus_log_wait (log, 0, "bidi_connection_start", NULL, NULL,
          WAIT_MS) >= 0);
  /* well over a second dropped before the connection, one warning */
  fail_unless (input_dropped_ms (pipe) >= 1000, "%" G_GUINT64_FORMAT " ms",
      input_dropped_ms (pipe));
  fail_unless_equals_int (bus_log_count (log, "warning", NULL, NULL), 1);

  input_pipeline_stop (pipe, log);
}

GST_END_TEST;

GST_START_TEST (test_input_buffer_bounded)
{
  Fixture f;
  gsize n_bytes;
  GstStructure *stats;
  guint64 dropped;
  GstMessage *msg;

  fixture_setup (&f, make_config ("connect-delay-ms=400", NULL),
      "input-buffer-ms=100");
  gst_harness_set_src_caps_str (f.h, "audio/x-raw, format=S16LE, "
      "rate=16000, channels=1, layout=interleaved");
  /* 120 ms of 0.1, then 80 ms of 0.2: only the newest 100 ms survive */
  push_input (&f, "S16LE", 16000, 1, 120, 0.1);
  push_input (&f, "S16LE", 16000, 1, 80, 0.2);

  msg = gst_bus_timed_pop_filtered (f.bus, WAIT_MS * GST_MSECOND,
      GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning about dropped input");
  gst_message_unref (msg);

  g_object_get (f.h->element, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, "input-dropped-ms",
          &dropped));
  fail_unless_equals_uint64 (dropped, 120);
  gst_structure_free (stats);

  wait_connected (&f);
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "send-audio",
          2, WAIT_MS));
  {
    GBytes *audio = gst_bidi_scripted_provider_get_audio (f.provider);
    const gint16 *s = g_bytes_get_data (audio, &n_bytes);
    fail_unless_equals_int (n_bytes, 2560);
    /* the oldest kept chunk straddles: it is the last 0.1 one */
    fail_unless_equals_int (s[n_bytes / 2 - 1], (gint16) (0.2 * 32767));
    g_bytes_unref (audio);
  }
  fixture_teardown (&f);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Output
 * ------------------------------------------------------------------------ */

/* Plays an answer of @ms ms of @value (all at once) in response @id. */
static void
play_answer (Fixture * f, const gchar * id, guint ms, gint value)
{
  gst_bidi_scripted_provider_play (f->provider,
      gst_bidi_event_new_response_start (id));
  gst_bidi_scripted_provider_play (f->provider,
      gst_structure_new (GST_BIDI_EVENT_AUDIO_STREAM, "duration-ms",
          G_TYPE_INT, ms, "value", G_TYPE_INT, value, "response_id",
          G_TYPE_STRING, id, NULL));
}

GST_START_TEST (test_output_contiguous_answer)
{
  Fixture f;
  GPtrArray *items;
  GstClockTime expect = GST_CLOCK_TIME_NONE;
  guint i, n_answer = 0;
  gboolean seen_caps = FALSE, seen_segment = FALSE;

  fixture_setup (&f, NULL, NULL);
  wait_connected (&f);
  play_answer (&f, "r1", 500, 1000);
  fail_unless (recorder_wait_buffers (f.rec, 1000, 25));

  items = recorder_snapshot (f.rec);
  for (i = 0; i < items->len; i++) {
    gpointer obj = g_ptr_array_index (items, i);

    if (is_event (obj, GST_EVENT_CAPS))
      seen_caps = TRUE;
    if (is_event (obj, GST_EVENT_SEGMENT))
      seen_segment = TRUE;
    if (!is_buffer (obj))
      continue;
    fail_unless (seen_caps && seen_segment, "buffer before caps/segment");
    fail_unless (GST_BUFFER_PTS_IS_VALID (obj));
    fail_unless (GST_BUFFER_DURATION_IS_VALID (obj));
    /* the whole stream, silence and answer, has no holes */
    if (GST_CLOCK_TIME_IS_VALID (expect))
      fail_unless_equals_clocktime (GST_BUFFER_PTS (obj), expect);
    expect = GST_BUFFER_PTS (obj) + GST_BUFFER_DURATION (obj);
    if (buffer_all_samples (obj, 1000))
      n_answer++;
  }
  fail_unless_equals_int (n_answer, 25);
  g_ptr_array_unref (items);
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_output_silence_between_answers)
{
  Fixture f;
  GPtrArray *items;
  GstClockTime expect = GST_CLOCK_TIME_NONE;
  guint i, phase = 0, n_silence_between = 0;

  fixture_setup (&f, NULL, NULL);
  wait_connected (&f);
  play_answer (&f, "r1", 100, 1000);
  fail_unless (recorder_wait_buffers (f.rec, 1000, 5));
  /* let the clock run past the answer: silence is pushed as it falls due */
  for (i = 0; i < 15; i++)
    fail_unless (gst_harness_crank_single_clock_wait (f.h));
  play_answer (&f, "r2", 100, 2000);
  fail_unless (recorder_wait_buffers (f.rec, 2000, 5));

  items = recorder_snapshot (f.rec);
  for (i = 0; i < items->len; i++) {
    GstBuffer *buf = g_ptr_array_index (items, i);

    if (!is_buffer (buf))
      continue;
    if (GST_CLOCK_TIME_IS_VALID (expect))
      fail_unless_equals_clocktime (GST_BUFFER_PTS (buf), expect);
    expect = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
    if (phase == 0 && buffer_all_samples (buf, 1000))
      phase = 1;
    else if (phase == 1 && buffer_all_samples (buf, 0)) {
      fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP));
      n_silence_between++;
    } else if (phase == 1 && buffer_all_samples (buf, 2000))
      phase = 2;
  }
  fail_unless_equals_int (phase, 2);
  fail_unless (n_silence_between >= 5, "only %u silent buffers",
      n_silence_between);
  g_ptr_array_unref (items);
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_output_idle_gap)
{
  Fixture f;
  GPtrArray *items;
  guint i, n_gaps = 0, n_silence = 0;

  fixture_setup (&f, NULL, "idle=gap");
  wait_connected (&f);
  for (i = 0; i < 5; i++)
    fail_unless (gst_harness_crank_single_clock_wait (f.h));
  items = recorder_snapshot (f.rec);
  for (i = 0; i < items->len; i++) {
    gpointer obj = g_ptr_array_index (items, i);
    if (is_event (obj, GST_EVENT_GAP)) {
      GstClockTime ts, dur;
      gst_event_parse_gap (obj, &ts, &dur);
      fail_unless_equals_clocktime (dur, 20 * GST_MSECOND);
      n_gaps++;
    }
    if (is_buffer (obj))
      n_silence++;
  }
  fail_unless (n_gaps >= 5);
  fail_unless_equals_int (n_silence, 0);
  g_ptr_array_unref (items);
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_output_converted_downstream)
{
  Fixture f;
  GPtrArray *items;
  guint i, n = 0;

  fixture_setup (&f, NULL, NULL);
  gst_harness_set_sink_caps_str (f.h, "audio/x-raw, format=F32LE, "
      "rate=48000, channels=2, layout=interleaved, "
      "channel-mask=(bitmask)0x3");
  wait_connected (&f);
  play_answer (&f, "r1", 200, 16384);
  /* count buffers whose middle sample is ~0.5 */
  for (i = 0; i < 100 && n < 5; i++) {
    guint j;
    g_usleep (20000);
    n = 0;
    items = recorder_snapshot (f.rec);
    for (j = 0; j < items->len; j++) {
      GstBuffer *buf = g_ptr_array_index (items, j);
      gfloat v;
      if (!is_buffer (buf) || gst_buffer_get_size (buf) < 1000)
        continue;
      gst_buffer_extract (buf, gst_buffer_get_size (buf) / 2 & ~7, &v, 4);
      if (fabs (v - 0.5) < 0.01)
        n++;
    }
    g_ptr_array_unref (items);
  }
  fail_unless (n >= 5, "no converted answer buffers");
  {
    GstCaps *caps = gst_pad_get_current_caps (f.rec->pad);
    GstAudioInfo info;
    fail_unless (gst_audio_info_from_caps (&info, caps));
    fail_unless_equals_int (GST_AUDIO_INFO_RATE (&info), 48000);
    fail_unless_equals_int (GST_AUDIO_INFO_CHANNELS (&info), 2);
    fail_unless_equals_int (GST_AUDIO_INFO_FORMAT (&info),
        GST_AUDIO_FORMAT_F32LE);
    gst_caps_unref (caps);
  }
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_latency_query)
{
  Fixture f;

  fixture_setup (&f, NULL, "latency=30");
  gst_harness_set_upstream_latency (f.h, 20 * GST_MSECOND);
  fail_unless_equals_clocktime (gst_harness_query_latency (f.h),
      50 * GST_MSECOND);
  g_object_set (f.h->element, "latency", 70, NULL);
  fail_unless_equals_clocktime (gst_harness_query_latency (f.h),
      90 * GST_MSECOND);
  {
    GstQuery *q = gst_query_new_latency ();
    gboolean live;
    GstClockTime min, max;
    fail_unless (gst_pad_peer_query (f.h->sinkpad, q));
    gst_query_parse_latency (q, &live, &min, &max);
    fail_unless (live);
    gst_query_unref (q);
  }
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_no_preroll)
{
  GstElement *e;

  gst_bidi_scripted_provider_register ();
  e = gst_element_factory_make ("bidiagent", NULL);
  leftover_watch (e);
  g_object_set (e, "provider", "scripted", NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_NO_PREROLL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (e);
  gst_bidi_scripted_provider_reset_last ();
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Interruption
 * ------------------------------------------------------------------------ */

/* Checks the recorded stream: FLUSH_START, FLUSH_STOP (no reset), SEGMENT,
 * in that order, after the answer, and no answer sample (@value) after. */
static void
check_flush_order (Recorder * rec, gint value)
{
  GPtrArray *items = recorder_snapshot (rec);
  guint i, state = 0;
  guint32 seqnum = 0;

  for (i = 0; i < items->len; i++) {
    gpointer obj = g_ptr_array_index (items, i);

    if (is_event (obj, GST_EVENT_FLUSH_START)) {
      fail_unless_equals_int (state, 0);
      seqnum = gst_event_get_seqnum (obj);
      state = 1;
    } else if (is_event (obj, GST_EVENT_FLUSH_STOP)) {
      gboolean reset;
      fail_unless_equals_int (state, 1);
      gst_event_parse_flush_stop (obj, &reset);
      fail_if (reset, "FLUSH_STOP resets running time");
      fail_unless_equals_int (gst_event_get_seqnum (obj), seqnum);
      state = 2;
    } else if (is_event (obj, GST_EVENT_SEGMENT) && state == 2) {
      fail_unless_equals_int (gst_event_get_seqnum (obj), seqnum);
      state = 3;
    } else if (is_buffer (obj) && state >= 1) {
      fail_unless (state == 3, "buffer between flush and segment");
      fail_if (buffer_all_samples (obj, value), "stale answer audio");
      fail_unless (GST_BUFFER_FLAG_IS_SET (obj, GST_BUFFER_FLAG_DISCONT)
          || i > 0);
    }
  }
  fail_unless_equals_int (state, 3);
  g_ptr_array_unref (items);
}

GST_START_TEST (test_interrupt_signal_flush_order)
{
  Fixture f;
  gboolean ret;
  GstStructure *s;
  guint i;

  fixture_setup (&f, NULL, NULL);
  wait_connected (&f);
  play_answer (&f, "r1", 2000, 1000);
  fail_unless (recorder_wait_buffers (f.rec, 1000, 100));

  g_signal_emit_by_name (f.h->element, "interrupt", &ret);
  fail_unless (ret);
  s = wait_message (f.bus, "bidi_interruption");
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "reason"),
      "user_speech");
  fail_unless_equals_string (gst_structure_get_string (s, "response_id"),
      "r1");
  fail_unless (gst_structure_has_field_typed (s, "played_ms", G_TYPE_UINT64));
  fail_unless (gst_structure_has_field_typed (s, "running_time",
          G_TYPE_UINT64));
  gst_structure_free (s);
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "interrupt",
          1, WAIT_MS));

  /* late audio of the cancelled answer, with and without its id */
  gst_bidi_scripted_provider_play (f.provider,
      gst_structure_new (GST_BIDI_EVENT_AUDIO_STREAM, "duration-ms",
          G_TYPE_INT, 200, "value", G_TYPE_INT, 1000, "response_id",
          G_TYPE_STRING, "r1", NULL));
  gst_bidi_scripted_provider_play (f.provider,
      gst_structure_new (GST_BIDI_EVENT_AUDIO_STREAM, "duration-ms",
          G_TYPE_INT, 200, "value", G_TYPE_INT, 1000, NULL));
  for (i = 0; i < 10; i++)
    fail_unless (gst_harness_crank_single_clock_wait (f.h));

  check_flush_order (f.rec, 1000);

  /* the next answer plays */
  play_answer (&f, "r2", 100, 3000);
  fail_unless (recorder_wait_buffers (f.rec, 3000, 5));
  fixture_teardown (&f);
}

GST_END_TEST;

/* What flush_src does first: FLUSH_START goes out before the output marks
 * itself as flushing. Here it goes out while the task asks downstream for
 * its caps. */
static GstPadProbeReturn
flush_on_caps_query (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  if (GST_QUERY_TYPE (GST_PAD_PROBE_INFO_QUERY (info)) != GST_QUERY_CAPS)
    return GST_PAD_PROBE_OK;
  gst_pad_push_event (pad, gst_event_new_flush_start ());
  g_atomic_int_set ((gint *) user_data, 1);
  return GST_PAD_PROBE_REMOVE;
}

/* A flush that begins while the src task negotiates: the caps the flushing
 * pad refused are no error; the flush restarts the task, which negotiates
 * again and plays the next answer */
GST_START_TEST (test_flush_while_negotiating)
{
  Fixture f;
  gint fired = 0;
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  gboolean ret = FALSE;
  GstMessage *msg;
  GstPad *src;

  fixture_setup (&f, NULL, NULL);
  wait_connected (&f);
  play_answer (&f, "r1", 200, 1000);
  fail_unless (recorder_wait_buffers (f.rec, 1000, 5));

  src = gst_element_get_static_pad (f.h->element, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM,
      flush_on_caps_query, &fired, NULL);
  gst_pad_mark_reconfigure (src);
  play_answer (&f, "r2", 2000, 2000);
  while (!g_atomic_int_get (&fired) && g_get_monotonic_time () < end)
    g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  fail_unless (g_atomic_int_get (&fired), "the task did not negotiate");

  /* the rest of the flush */
  g_signal_emit_by_name (f.h->element, "interrupt", &ret);
  fail_unless (ret);
  play_answer (&f, "r3", 200, 3000);
  fail_unless (recorder_wait_buffers (f.rec, 3000, 5));
  msg = gst_bus_pop_filtered (f.bus, GST_MESSAGE_ERROR);
  if (msg) {
    GError *err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    fail ("error: %s", err->message);
  }

  gst_object_unref (src);
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_interrupt_from_provider)
{
  Fixture f;
  GstStructure *s;
  guint64 played;

  fixture_setup (&f, NULL, NULL);
  wait_connected (&f);
  play_answer (&f, "r1", 1000, 1000);
  fail_unless (recorder_wait_buffers (f.rec, 1000, 50));
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_interruption ("user_speech", NULL));
  s = wait_message (f.bus, "bidi_interruption");
  fail_unless (s != NULL);
  fail_unless (gst_structure_get_uint64 (s, "played_ms", &played));
  gst_structure_free (s);
  fail_unless (recorder_wait_event (f.rec, GST_EVENT_SEGMENT));
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "interrupt",
          1, WAIT_MS));
  fail_unless (gst_harness_crank_single_clock_wait (f.h));
  check_flush_order (f.rec, 1000);
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_interrupt_nothing_playing)
{
  Fixture f;
  gboolean ret = TRUE;

  fixture_setup (&f, NULL, NULL);
  wait_connected (&f);
  g_signal_emit_by_name (f.h->element, "interrupt", &ret);
  fail_if (ret);
  fail_unless (gst_harness_crank_single_clock_wait (f.h));
  fail_if (recorder_wait_event (f.rec, GST_EVENT_FLUSH_START) &&
      FALSE);
  {
    GPtrArray *items = recorder_snapshot (f.rec);
    guint i;
    for (i = 0; i < items->len; i++)
      fail_if (is_event (g_ptr_array_index (items, i),
              GST_EVENT_FLUSH_START), "flushed with nothing playing");
    g_ptr_array_unref (items);
  }
  fixture_teardown (&f);
}

GST_END_TEST;

/* played_ms is what the clock says was heard: answer start + played +
 * pipeline latency = now, within one buffer. */
static void
check_played_ms (GstClockTime latency, guint advance_ms)
{
  Fixture f;
  GstTestClock *clock;
  GPtrArray *items;
  GstClockTime start = GST_CLOCK_TIME_NONE, now;
  GstStructure *call;
  guint64 played, truth;
  gboolean ret;
  guint i;

  fixture_setup (&f, NULL, NULL);
  if (GST_CLOCK_TIME_IS_VALID (latency))
    gst_harness_push_upstream_event (f.h, gst_event_new_latency (latency));
  wait_connected (&f);
  play_answer (&f, "r1", 3000, 1000);
  fail_unless (recorder_wait_buffers (f.rec, 1000, 150));

  items = recorder_snapshot (f.rec);
  for (i = 0; i < items->len && start == GST_CLOCK_TIME_NONE; i++) {
    GstBuffer *buf = g_ptr_array_index (items, i);
    if (is_buffer (buf) && buffer_first_sample (buf) == 1000)
      start = GST_BUFFER_PTS (buf);
  }
  g_ptr_array_unref (items);
  fail_unless (GST_CLOCK_TIME_IS_VALID (start));

  clock = gst_harness_get_testclock (f.h);
  now = start + advance_ms * GST_MSECOND;
  gst_test_clock_set_time (clock, now);
  gst_object_unref (clock);

  g_signal_emit_by_name (f.h->element, "interrupt", &ret);
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "interrupt",
          1, WAIT_MS));
  call = gst_bidi_scripted_provider_get_call (f.provider, "interrupt", 0);
  fail_unless (gst_structure_get_uint64 (call, "played-ms", &played));
  gst_structure_free (call);

  if (!GST_CLOCK_TIME_IS_VALID (latency))
    latency = 0;
  truth = now > start + latency ? (now - start - latency) / GST_MSECOND : 0;
  truth = MIN (truth, 3000);    /* what was pushed */
  GST_INFO ("played %" G_GUINT64_FORMAT " truth %" G_GUINT64_FORMAT, played,
      truth);
  fail_unless (played + 20 >= truth && played <= truth + 20,
      "played_ms %" G_GUINT64_FORMAT ", truth %" G_GUINT64_FORMAT, played,
      truth);
  fixture_teardown (&f);
}

GST_START_TEST (test_played_ms)
{
  check_played_ms (GST_CLOCK_TIME_NONE, 700);
  check_played_ms (200 * GST_MSECOND, 700);
  check_played_ms (200 * GST_MSECOND, 150);     /* nothing heard yet */
  check_played_ms (GST_CLOCK_TIME_NONE, 5000);  /* clamped to 3000 */
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Turn state and latency
 * ------------------------------------------------------------------------ */

/* Pops element messages until one named @name whose "state" is @state (any
 * when NULL); fails the test on a timeout */
static GstStructure *
wait_state (Fixture * f, const gchar * name, const gchar * state)
{
  GstStructure *s;

  while ((s = wait_message (f->bus, name))) {
    if (!state || g_strcmp0 (gst_structure_get_string (s, "state"),
            state) == 0)
      return s;
    GST_INFO ("skipping %" GST_PTR_FORMAT, s);
    gst_structure_free (s);
  }
  fail ("no %s %s", name, GST_STR_NULL (state));
  return NULL;
}

static GstClockTime
get_time (const GstStructure * s, const gchar * field)
{
  guint64 t = GST_CLOCK_TIME_NONE;

  fail_unless (gst_structure_get_uint64 (s, field, &t), "no %s in %"
      GST_PTR_FORMAT, field, s);
  return t;
}

static gint
get_ms (const GstStructure * s, const gchar * field)
{
  gint ms = G_MININT;

  fail_unless (gst_structure_get_int (s, field, &ms), "no %s in %"
      GST_PTR_FORMAT, field, s);
  return ms;
}

static void
set_clock (Fixture * f, GstClockTime t)
{
  GstTestClock *clock = gst_harness_get_testclock (f->h);

  gst_test_clock_set_time (clock, t);
  gst_object_unref (clock);
}

/* Checks @s's running_time, and frees it */
static void
assert_at (GstStructure * s, GstClockTime t)
{
  fail_unless_equals_clocktime (get_time (s, "running_time"), t);
  fail_unless (gst_bidi_event_validate (s, NULL));
  gst_structure_free (s);
}

#define T(ms) ((GstClockTime) (ms) * GST_MSECOND)

GST_START_TEST (test_turn_state_and_latency)
{
  Fixture f;
  GstStructure *s;
  GstClockTime push, first_push;
  guint i;

  fixture_setup (&f, NULL, NULL);
  wait_connected (&f);

  /* each message is waited for before the clock moves on: the provider's
   * events reach the element on its network thread */
  set_clock (&f, T (2000));
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_user_state ("speaking", 0));
  s = wait_state (&f, "bidi_user_state", NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "state"),
      "speaking");
  fail_if (gst_structure_has_field (s, "ago_ms"));
  assert_at (s, T (2000));
  /* told twice, posted once: the next user state is the change */
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_user_state ("speaking", 0));

  set_clock (&f, T (3000));
  /* the VAD decided 400 ms after the speech ended */
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_user_state ("listening", 400));
  s = wait_state (&f, "bidi_user_state", NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "state"),
      "listening");
  assert_at (s, T (2600));

  set_clock (&f, T (3200));
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_agent_state ("thinking", 0));
  assert_at (wait_state (&f, "bidi_agent_state", "thinking"), T (3200));

  set_clock (&f, T (3500));
  play_answer (&f, "r1", 200, 1000);

  s = wait_state (&f, "bidi_agent_state", NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "state"),
      "speaking");
  push = get_time (s, "running_time");
  /* the first sample cannot play before it came in */
  fail_unless (push >= T (3500));
  assert_at (s, push);

  s = wait_message (f.bus, "bidi_turn_latency");
  fail_unless (s != NULL);
  fail_unless (gst_bidi_event_validate (s, NULL));
  fail_unless_equals_string (gst_structure_get_string (s, "response_id"),
      "r1");
  fail_unless_equals_clocktime (get_time (s, "speech_end"), T (2600));
  fail_unless_equals_clocktime (get_time (s, "turn_end"), T (3200));
  fail_unless_equals_clocktime (get_time (s, "first_audio"), T (3500));
  first_push = get_time (s, "first_push");
  fail_unless_equals_clocktime (first_push, push);
  fail_unless_equals_int (get_ms (s, "speech_end_to_turn_end_ms"), 600);
  fail_unless_equals_int (get_ms (s, "turn_end_to_first_audio_ms"), 300);
  fail_unless_equals_int (get_ms (s, "first_audio_to_first_push_ms"),
      (gint) ((first_push - T (3500)) / GST_MSECOND));
  fail_unless_equals_int (get_ms (s, "speech_end_to_first_push_ms"),
      (gint) ((first_push - T (2600)) / GST_MSECOND));
  gst_structure_free (s);

  /* the answer is over: once its last sample played, the agent listens */
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_response_complete ("r1", "complete"));
  for (i = 0; i < 20; i++)
    fail_unless (gst_harness_crank_single_clock_wait (f.h));
  s = wait_state (&f, "bidi_agent_state", "listening");
  fail_unless (get_time (s, "running_time") >= push + T (200));
  gst_structure_free (s);
  fixture_teardown (&f);
}

GST_END_TEST;

/* A provider that never tells the user's turns (Gemini, Nova Sonic): each
 * answer has its latency from what the element saw, nothing guessed */
GST_START_TEST (test_turn_latency_without_vad)
{
  Fixture f;
  GstStructure *s;
  const gchar *ids[] = { "r1", "r2" };
  guint i, j;

  fixture_setup (&f, NULL, NULL);
  wait_connected (&f);
  for (i = 0; i < G_N_ELEMENTS (ids); i++) {
    play_answer (&f, ids[i], 100, 1000 + i);
    gst_bidi_scripted_provider_play (f.provider,
        gst_bidi_event_new_response_complete (ids[i], "complete"));
    s = wait_message (f.bus, "bidi_turn_latency");
    fail_unless (s != NULL);
    fail_unless_equals_string (gst_structure_get_string (s, "response_id"),
        ids[i]);
    fail_if (gst_structure_has_field (s, "speech_end"));
    fail_if (gst_structure_has_field (s, "turn_end"));
    fail_if (gst_structure_has_field (s, "speech_end_to_turn_end_ms"));
    fail_if (gst_structure_has_field (s, "turn_end_to_first_audio_ms"));
    fail_if (gst_structure_has_field (s, "speech_end_to_first_push_ms"));
    fail_unless (get_time (s, "first_push") >= get_time (s, "first_audio"));
    fail_unless (get_ms (s, "first_audio_to_first_push_ms") >= 0);
    gst_structure_free (s);
    for (j = 0; j < 15; j++)
      fail_unless (gst_harness_crank_single_clock_wait (f.h));
    gst_structure_free (wait_state (&f, "bidi_agent_state", "listening"));
  }
  fixture_teardown (&f);
}

GST_END_TEST;

/* The agent stops speaking when it is interrupted; an answer with no audio
 * (text only) puts it back to listening, one with a tool call does not; a
 * turn that got no answer lends nothing to the next one. */
GST_START_TEST (test_turn_state_interrupt_and_silent_answers)
{
  Fixture f;
  GstStructure *s;
  gboolean ret = FALSE;

  fixture_setup (&f, NULL, NULL);
  wait_connected (&f);

  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_user_state ("speaking", 0));
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_user_state ("listening", 0));
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_agent_state ("thinking", 0));
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_response_start ("r1"));
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_response_complete ("r1", "tool_use"));
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_response_start ("r2"));
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_response_complete ("r2", "complete"));
  gst_structure_free (wait_state (&f, "bidi_agent_state", "thinking"));
  s = wait_message (f.bus, "bidi_response_complete");
  fail_unless_equals_string (gst_structure_get_string (s, "response_id"),
      "r1");
  gst_structure_free (s);
  /* still thinking after the tool call; listening after r2 */
  s = wait_state (&f, "bidi_agent_state", NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "state"),
      "listening");
  gst_structure_free (s);

  /* the user speaks again: the old turn's moments are forgotten */
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_user_state ("speaking", 0));
  play_answer (&f, "r3", 3000, 1000);
  gst_structure_free (wait_state (&f, "bidi_agent_state", "speaking"));
  s = wait_message (f.bus, "bidi_turn_latency");
  fail_unless (s != NULL);
  fail_if (gst_structure_has_field (s, "speech_end"));
  fail_if (gst_structure_has_field (s, "turn_end"));
  gst_structure_free (s);

  g_signal_emit_by_name (f.h->element, "interrupt", &ret);
  fail_unless (ret);
  gst_structure_free (wait_message (f.bus, "bidi_interruption"));
  gst_structure_free (wait_state (&f, "bidi_agent_state", "listening"));
  fixture_teardown (&f);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Events -> messages
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_every_event_posted)
{
  Fixture f;
  GstStructure *events[10];
  guint i;

  fixture_setup (&f, NULL, NULL);
  wait_connected (&f);

  events[0] = gst_bidi_event_new_connection_restart ("timeout", "c1");
  events[1] = gst_bidi_event_new_response_start ("r9");
  events[2] = gst_bidi_event_new_transcript ("user", "hello there", TRUE,
      "hello there");
  events[3] = gst_bidi_event_new_transcript ("assistant", "Hi", FALSE, "Hi");
  events[4] = gst_bidi_event_new_usage (10, 20, 30);
  events[5] = gst_bidi_event_new_tool_use ("t1", "calculator",
      "{\"expression\":\"2+2\"}");
  /* the element runs the built-in calculator and posts this same result */
  events[6] = gst_bidi_event_new_tool_result ("t1", "success",
      "{\"expression\":\"2+2\",\"result\":4}");
  events[7] = gst_bidi_event_new_error ("something odd", "E42", "details");
  events[8] = gst_bidi_event_new_response_complete ("r9", "complete");
  events[9] = gst_bidi_event_new_connection_close ("c1", "complete");

  for (i = 0; i < G_N_ELEMENTS (events); i++)
    gst_bidi_scripted_provider_play (f.provider,
        gst_structure_copy (events[i]));

  for (i = 0; i < G_N_ELEMENTS (events); i++) {
    const gchar *name = gst_structure_get_name (events[i]);
    GstStructure *s = wait_message (f.bus, name);
    guint j;

    fail_unless (s != NULL, "no %s message", name);
    fail_unless (gst_structure_has_field_typed (s, "running_time",
            G_TYPE_UINT64), "%s without running_time", name);
    /* every field the provider gave is there, unchanged */
    for (j = 0; j < (guint) gst_structure_n_fields (events[i]); j++) {
      const gchar *field = gst_structure_nth_field_name (events[i], j);
      fail_unless (gst_value_compare (gst_structure_get_value (s, field),
              gst_structure_get_value (events[i], field)) == GST_VALUE_EQUAL,
          "%s.%s differs", name, field);
    }
    /* and it is valid as an event, including running_time */
    fail_unless (gst_bidi_event_validate (s, NULL));
    gst_structure_free (s);
    gst_structure_free (events[i]);
  }
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_send_text)
{
  Fixture f;
  GstStructure *call;
  gboolean ret = FALSE;

  fixture_setup (&f, make_config ("connect-delay-ms=200", NULL), NULL);
  /* before the connection: kept and sent once connected */
  g_signal_emit_by_name (f.h->element, "send-text", "hello agent", &ret);
  fail_unless (ret);
  wait_connected (&f);
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "send-text",
          1, WAIT_MS));
  call = gst_bidi_scripted_provider_get_call (f.provider, "send-text", 0);
  fail_unless_equals_string (gst_structure_get_string (call, "text"),
      "hello agent");
  fail_unless_equals_string (gst_structure_get_string (call, "role"), "user");
  gst_structure_free (call);
  fixture_teardown (&f);
}

GST_END_TEST;

/* send-image: PNG/JPEG/WebP only, the media type from the data, kept in
 * order with text until the provider is connected */
GST_START_TEST (test_send_image)
{
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
    0, 0, 0, 13, 'I', 'H', 'D', 'R'
  };
  static const guint8 jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F' };
  GBytes *b;
  Fixture f;
  GstStructure *call;
  gboolean ret = FALSE;

  fixture_setup (&f, make_config ("connect-delay-ms=200", NULL), NULL);
  b = g_bytes_new_static (png, sizeof (png));
  /* the data decides, whatever the application says */
  g_signal_emit_by_name (f.h->element, "send-image", b, "image/jpeg", &ret);
  fail_unless (ret);
  g_bytes_unref (b);
  g_signal_emit_by_name (f.h->element, "send-text", "what is this?", &ret);
  fail_unless (ret);
  b = g_bytes_new_static (jpeg, sizeof (jpeg));
  g_signal_emit_by_name (f.h->element, "send-image", b, NULL, &ret);
  fail_unless (ret);
  g_bytes_unref (b);
  /* not an image, or nothing */
  b = g_bytes_new_static ("GIF89a....", 10);
  g_signal_emit_by_name (f.h->element, "send-image", b, "image/gif", &ret);
  fail_if (ret);
  g_bytes_unref (b);
  b = g_bytes_new_static ("", 0);
  g_signal_emit_by_name (f.h->element, "send-image", b, NULL, &ret);
  fail_if (ret);
  g_bytes_unref (b);

  wait_connected (&f);
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "send-image",
          2, WAIT_MS));
  call = gst_bidi_scripted_provider_get_call (f.provider, "send-image", 0);
  fail_unless_equals_string (gst_structure_get_string (call, "mime"),
      "image/png");
  gst_structure_free (call);
  call = gst_bidi_scripted_provider_get_call (f.provider, "send-image", 1);
  fail_unless_equals_string (gst_structure_get_string (call, "mime"),
      "image/jpeg");
  gst_structure_free (call);
  fail_unless_equals_int (gst_bidi_scripted_provider_count_calls (f.provider,
          "send-text"), 1);
  /* in the order given */
  call = gst_bidi_scripted_provider_get_call (f.provider, "send-text", 0);
  fail_unless (call != NULL);
  gst_structure_free (call);
  {
    gint image0 = gst_bidi_scripted_provider_get_call_position (f.provider,
        "send-image", 0);
    gint text0 = gst_bidi_scripted_provider_get_call_position (f.provider,
        "send-text", 0);
    gint image1 = gst_bidi_scripted_provider_get_call_position (f.provider,
        "send-image", 1);

    fail_unless (image0 >= 0 && image0 < text0 && text0 < image1);
  }
  fixture_teardown (&f);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * EOS
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_eos_drain)
{
  Fixture f;
  GPtrArray *items;
  guint i, n_answer = 0;
  gboolean eos_after = FALSE;

  fixture_setup (&f, make_config ("end-input-delay-ms=0",
          "bidi_response_start, at-ms=(int)0, response_id=(string)r1",
          "bidi_audio_stream, at-ms=(int)0, duration-ms=(int)300, "
          "value=(int)1000, paced=(boolean)true",
          "bidi_response_complete, at-ms=(int)300, response_id=(string)r1, "
          "stop_reason=(string)complete", NULL), NULL);
  gst_harness_set_src_caps_str (f.h, "audio/x-raw, format=S16LE, "
      "rate=16000, channels=1, layout=interleaved");
  wait_connected (&f);
  push_input (&f, "S16LE", 16000, 1, 100, 0.1);
  fail_unless (gst_harness_push_event (f.h, gst_event_new_eos ()));
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "end-input",
          1, WAIT_MS));
  /* the last input chunk reached the provider before end-input */
  fail_unless_equals_int (gst_bidi_scripted_provider_count_calls (f.provider,
          "send-audio"), 3);
  fail_unless (recorder_wait_event (f.rec, GST_EVENT_EOS));

  items = recorder_snapshot (f.rec);
  for (i = 0; i < items->len; i++) {
    gpointer obj = g_ptr_array_index (items, i);
    if (is_buffer (obj) && buffer_all_samples (obj, 1000)) {
      fail_if (eos_after);
      n_answer++;
    }
    if (is_event (obj, GST_EVENT_EOS))
      eos_after = TRUE;
  }
  /* the whole answer was played before EOS */
  fail_unless_equals_int (n_answer, 15);
  g_ptr_array_unref (items);
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_eos_drain_timeout)
{
  Fixture f;
  gint64 start;

  fixture_setup (&f, make_config ("end-input-delay-ms=-1", NULL),
      "drain-timeout=300");
  gst_harness_set_src_caps_str (f.h, "audio/x-raw, format=S16LE, "
      "rate=16000, channels=1, layout=interleaved");
  wait_connected (&f);
  start = g_get_monotonic_time ();
  fail_unless (gst_harness_push_event (f.h, gst_event_new_eos ()));
  /* the provider never says it finished: EOS comes after drain-timeout */
  fail_unless (recorder_wait_event (f.rec, GST_EVENT_EOS));
  fail_unless (g_get_monotonic_time () - start >= 290 * 1000);
  fixture_teardown (&f);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Errors and settings
 * ------------------------------------------------------------------------ */

/* Sets @e to PAUSED and returns the error message text it posts. */
static gchar *
start_and_get_error (GstElement * e)
{
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  gchar *text = NULL;

  gst_element_set_bus (e, bus);
  gst_element_set_state (e, GST_STATE_PAUSED);
  msg = gst_bus_timed_pop_filtered (bus, WAIT_MS * GST_MSECOND,
      GST_MESSAGE_ERROR);
  if (msg) {
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    text = g_strdup (err->message);
    g_error_free (err);
    gst_message_unref (msg);
  }
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  return text;
}

GST_START_TEST (test_unknown_provider)
{
  GstElement *e = gst_element_factory_make ("bidiagent", NULL);
  leftover_watch (e);
  gchar *text;

  g_object_set (e, "provider", "nonesuch", NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  gst_element_set_state (e, GST_STATE_NULL);
  text = start_and_get_error (e);
  fail_unless (text && strstr (text, "nonesuch"), "error: %s", text);
  g_free (text);
  gst_object_unref (e);
}

GST_END_TEST;

GST_START_TEST (test_bad_provider_config)
{
  GstElement *e;
  GstStructure *config;
  gchar *text;

  gst_bidi_scripted_provider_register ();

  e = gst_element_factory_make ("bidiagent", NULL);
  leftover_watch (e);
  config = gst_structure_from_string ("config, no-such-setting=1", NULL);
  g_object_set (e, "provider", "scripted", "provider-config", config, NULL);
  gst_structure_free (config);
  text = start_and_get_error (e);
  fail_unless (text && strstr (text, "no-such-setting"), "error: %s", text);
  g_free (text);

  config = gst_structure_from_string ("config, in-rate=(string)fast", NULL);
  g_object_set (e, "provider-config", config, NULL);
  gst_structure_free (config);
  text = start_and_get_error (e);
  fail_unless (text && strstr (text, "in-rate"), "error: %s", text);
  g_free (text);
  gst_object_unref (e);
  gst_bidi_scripted_provider_reset_last ();
}

GST_END_TEST;

/* The provider-config getters every provider reads its fields with: NaN,
 * infinities, fractions and other types are refused, saying why */
GST_START_TEST (test_provider_config_numbers)
{
  static const struct
  {
    const gchar *config;
    const gchar *says;
  } bad[] = {
    {"c, x=(double)nan", "between 0 and 60, not nan"},
    {"c, x=(double)inf", "between 0 and 60, not inf"},
    {"c, x=(double)-inf", "between 0 and 60, not -inf"},
    {"c, x=61", "between 0 and 60, not 61"},
    {"c, x=(string)loud", "\"x\""},
  };
  GstStructure *config;
  GError *err = NULL;
  gdouble d = 12;
  gint n = 3;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    config = gst_structure_from_string (bad[i].config, NULL);
    fail_unless (config != NULL, "%s", bad[i].config);
    fail_if (gst_bidi_provider_config_get_double (config, "p", "x", 0, 60, &d,
            &err), "%s", bad[i].config);
    fail_unless (err != NULL && strstr (err->message, bad[i].says) != NULL,
        "%s: %s", bad[i].config, err ? err->message : "no error");
    fail_unless (strstr (err->message, "provider \"p\"") != NULL);
    g_clear_error (&err);
    gst_structure_free (config);
  }
  /* refused values leave the default */
  fail_unless_equals_float (d, 12);

  config = gst_structure_from_string ("c, x=(double)2.5", NULL);
  fail_if (gst_bidi_provider_config_get_int (config, "p", "x", 0, 10, &n,
          &err));
  fail_unless (strstr (err->message, "whole number") != NULL, "%s",
      err->message);
  g_clear_error (&err);
  fail_unless_equals_int (n, 3);
  fail_unless (gst_bidi_provider_config_get_double (config, "p", "x", 0, 60,
          &d, NULL));
  fail_unless_equals_float (d, 2.5);
  gst_structure_free (config);
}

GST_END_TEST;

GST_START_TEST (test_provider_fails_to_start)
{
  GstElement *e;
  GstStructure *config;
  gchar *text;

  gst_bidi_scripted_provider_register ();
  e = gst_element_factory_make ("bidiagent", NULL);
  leftover_watch (e);
  config = gst_structure_from_string ("config, fail-start=true", NULL);
  g_object_set (e, "provider", "scripted", "provider-config", config, NULL);
  gst_structure_free (config);
  text = start_and_get_error (e);
  fail_unless (text && strstr (text, "scripted") && strstr (text,
          "failed to start"), "error: %s", text);
  g_free (text);
  gst_object_unref (e);
  gst_bidi_scripted_provider_reset_last ();
}

GST_END_TEST;

GST_START_TEST (test_provider_error_midstream)
{
  Fixture f;
  GstStructure *s;

  fixture_setup (&f, make_config ("fail-after-ms=100", NULL), NULL);
  wait_connected (&f);
  s = wait_message (f.bus, "bidi_error");
  fail_unless (s != NULL);
  gst_structure_free (s);
  s = wait_message (f.bus, "error");
  fail_unless (s != NULL);
  fail_unless (strstr (gst_structure_get_string (s, "message"),
          "scripted failure") != NULL);
  gst_structure_free (s);
  fixture_teardown (&f);
}

GST_END_TEST;

/* bidi_error is a WARNING (with a resource error code from its "code");
 * a fatal close after it is an ERROR with the same code. A provider
 * interruption with nothing playing (a server VAD on every user turn)
 * posts nothing. */
GST_START_TEST (test_provider_error_codes)
{
  Fixture f;
  GstMessage *msg;
  GError *err = NULL;
  gboolean warned = FALSE;

  fixture_setup (&f, make_config (NULL,
          "bidi_interruption, at-ms=(int)0, reason=(string)user_speech",
          "bidi_error, at-ms=(int)50, message=(string)\"Key refused\", "
          "code=(string)not_authorized",
          "bidi_connection_close, at-ms=(int)60, connection_id=(string)c1, "
          "reason=(string)error", NULL), NULL);
  wait_connected (&f);
  while ((msg = gst_bus_timed_pop_filtered (f.bus, WAIT_MS * GST_MSECOND,
              GST_MESSAGE_ELEMENT | GST_MESSAGE_WARNING |
              GST_MESSAGE_ERROR))) {
    fail_if (gst_message_has_name (msg, "bidi_interruption"));
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      gst_message_parse_warning (msg, &err, NULL);
      fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
              GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", err->message);
      fail_unless_equals_string (err->message, "Key refused");
      g_clear_error (&err);
      warned = TRUE;
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      gst_message_parse_error (msg, &err, NULL);
      fail_unless (warned);
      fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
              GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", err->message);
      fail_unless (strstr (err->message, "Key refused") != NULL);
      g_clear_error (&err);
      gst_message_unref (msg);
      break;
    }
    gst_message_unref (msg);
  }
  fail_unless (msg != NULL, "no error");
  fail_unless_equals_int (gst_bidi_scripted_provider_count_calls (f.provider,
          "interrupt"), 0);
  fixture_teardown (&f);
}

GST_END_TEST;

static const gchar *secret = "sk-test-DO-NOT-LEAK-0123456789";
GST_START_TEST (test_api_key_secret)
{
  const gchar *const secret_props[] = { "api-key", "access-key",
    "secret-access-key", "session-token"
  };
  GParamSpec *pspec;
  guint i;
  Fixture f;
  GstMessage *msg;
  GstStructure *call;
  GstElement *probe = gst_element_factory_make ("bidiagent", NULL);
  gboolean secret_seen;
  guint n_log_lines;

  for (i = 0; i < G_N_ELEMENTS (secret_props); i++) {
    pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (probe),
        secret_props[i]);
    fail_unless (pspec != NULL, "no %s", secret_props[i]);
    fail_if (pspec->flags & G_PARAM_READABLE, "%s can be read back",
        secret_props[i]);
  }
  gst_object_unref (probe);

  bidi_secret_watch_start (secret, "bidi*");

  fixture_setup (&f, NULL, NULL);
  gst_element_set_state (f.h->element, GST_STATE_NULL);
  /* the AWS secrets are the same string: the watch catches any of them */
  g_object_set (f.h->element, "api-key", secret, "model", "m1",
      "access-key", "AKIDTEST", "secret-access-key", secret,
      "session-token", secret, "region", "eu-west-1", NULL);
  gst_element_set_state (f.h->element, GST_STATE_PLAYING);
  gst_object_unref (f.provider);
  f.provider = gst_bidi_scripted_provider_get_last ();
  wait_connected (&f);
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "start", 1,
          WAIT_MS));
  call = gst_bidi_scripted_provider_get_call (f.provider, "start", 0);
  {
    gboolean has_key = FALSE;
    fail_unless (gst_structure_get_boolean (call, "has-api-key", &has_key));
    fail_unless (has_key, "the key did not reach the provider");
    has_key = FALSE;
    fail_unless (gst_structure_get_boolean (call, "has-aws-secret",
            &has_key) && has_key, "the AWS secret did not reach it");
    has_key = FALSE;
    fail_unless (gst_structure_get_boolean (call, "has-aws-token",
            &has_key) && has_key, "the AWS token did not reach it");
    fail_unless_equals_string (gst_structure_get_string (call,
            "aws-access-key-id"), "AKIDTEST");
    fail_unless_equals_string (gst_structure_get_string (call,
            "aws-region"), "eu-west-1");
  }
  gst_structure_free (call);

  /* no message carries it */
  while ((msg = gst_bus_pop (f.bus))) {
    const GstStructure *s = gst_message_get_structure (msg);
    if (s) {
      gchar *str = gst_structure_to_string (s);
      fail_if (strstr (str, secret) != NULL, "secret in %s", str);
      g_free (str);
    }
    gst_message_unref (msg);
  }
  fixture_teardown (&f);

  secret_seen = bidi_secret_watch_stop (&n_log_lines);
  fail_unless (n_log_lines > 0, "nothing was logged");
  fail_if (secret_seen, "the API key appeared in the debug log");
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * States
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_random_state_changes)
{
  GstElement *pipe, *agent;
  GError *err = NULL;
  GRand *rand = g_rand_new_with_seed (4242);
  gboolean queued;
  static const GstState states[] = { GST_STATE_NULL, GST_STATE_READY,
    GST_STATE_PAUSED, GST_STATE_PLAYING
  };
  guint i;

  gst_bidi_scripted_provider_register ();
  pipe = gst_parse_launch ("audiotestsrc is-live=true samplesperbuffer=480 ! "
      "audio/x-raw,rate=48000,channels=2 ! bidiagent name=agent "
      "provider=scripted provider-config=\"config,echo=true,in-rate=24000,"
      "out-rate=24000,record-audio=false\" ! fakesink sync=true", &err);
  fail_unless (pipe != NULL, "%s", err ? err->message : "");
  leftover_watch (pipe);
  agent = gst_bin_get_by_name (GST_BIN (pipe), "agent");

  for (i = 0; i < 200; i++) {
    GstState s = states[g_rand_int_range (rand, 0, 4)];
    GstStateChangeReturn ret = gst_element_set_state (pipe, s);

    fail_if (ret == GST_STATE_CHANGE_FAILURE, "change %u to %s failed", i,
        gst_element_state_get_name (s));
    if (g_rand_boolean (rand))
      g_usleep (g_rand_int_range (rand, 0, 30000));
    if (g_rand_int_range (rand, 0, 4) == 0)
      g_signal_emit_by_name (agent, "interrupt", &queued);
    if (g_rand_int_range (rand, 0, 8) == 0)
      g_signal_emit_by_name (agent, "send-text", "hi", &queued);
  }
  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (agent);
  gst_object_unref (pipe);
  g_rand_free (rand);
  gst_bidi_scripted_provider_reset_last ();
}

GST_END_TEST;

/* Answers and interruptions from other threads while states change. */
typedef struct
{
  GstElement *agent;
  volatile gint stop;
  guint n;
} Chaos;

static gpointer
chaos_thread (gpointer data)
{
  Chaos *c = data;
  GRand *rand = g_rand_new_with_seed (77);
  gboolean ret;

  while (!g_atomic_int_get (&c->stop)) {
    GstBidiScriptedProvider *p = gst_bidi_scripted_provider_get_last ();

    if (p) {
      gchar *id = g_strdup_printf ("r%u", c->n++);
      gst_bidi_scripted_provider_play (p,
          gst_bidi_event_new_response_start (id));
      gst_bidi_scripted_provider_play (p,
          gst_structure_new (GST_BIDI_EVENT_AUDIO_STREAM, "duration-ms",
              G_TYPE_INT, g_rand_int_range (rand, 20, 400), "paced",
              G_TYPE_BOOLEAN, g_rand_boolean (rand), NULL));
      if (g_rand_boolean (rand))
        gst_bidi_scripted_provider_play (p,
            gst_bidi_event_new_interruption ("user_speech", NULL));
      g_free (id);
      gst_object_unref (p);
    }
    g_usleep (g_rand_int_range (rand, 0, 15000));
    g_signal_emit_by_name (c->agent, "interrupt", &ret);
  }
  g_rand_free (rand);
  return NULL;
}

GST_START_TEST (test_state_changes_mid_answer)
{
  GstElement *pipe;
  GError *err = NULL;
  GRand *rand = g_rand_new_with_seed (99);
  static const GstState states[] = { GST_STATE_NULL, GST_STATE_READY,
    GST_STATE_PAUSED, GST_STATE_PLAYING
  };
  /* not on the stack: a failed check leaves the thread running */
  static Chaos c;
  GThread *thread;
  guint i;

  gst_bidi_scripted_provider_register ();
  gst_bidi_scripted_provider_reset_last ();
  pipe = gst_parse_launch ("audiotestsrc is-live=true ! bidiagent name=agent "
      "provider=scripted provider-config=\"config,record-audio=false\" ! "
      "audioconvert ! queue max-size-time=50000000 ! fakesink sync=true",
      &err);
  fail_unless (pipe != NULL, "%s", err ? err->message : "");
  leftover_watch (pipe);
  c.agent = gst_bin_get_by_name (GST_BIN (pipe), "agent");
  c.stop = 0;
  thread = g_thread_new ("chaos", chaos_thread, &c);

  for (i = 0; i < 100; i++) {
    GstState st = states[g_rand_int_range (rand, 0, 4)];

    fail_if (gst_element_set_state (pipe, st) == GST_STATE_CHANGE_FAILURE);
    g_usleep (g_rand_int_range (rand, 0, 40000));
  }
  g_atomic_int_set (&c.stop, 1);
  g_thread_join (thread);
  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (c.agent);
  gst_object_unref (pipe);
  g_rand_free (rand);
  gst_bidi_scripted_provider_reset_last ();
}

GST_END_TEST;

/* A flush from upstream (a seek on the input) reaches downstream with its
 * seqnum, cuts the answer, and input flows again afterwards. */
GST_START_TEST (test_upstream_flush)
{
  Fixture f;
  GstEvent *ev;
  GPtrArray *items;
  guint i, n_start = 0, n_stop = 0;
  guint32 seqnum = gst_util_seqnum_next ();

  fixture_setup (&f, NULL, NULL);
  gst_harness_set_src_caps_str (f.h, "audio/x-raw, format=S16LE, "
      "rate=16000, channels=1, layout=interleaved");
  wait_connected (&f);
  play_answer (&f, "r1", 1000, 1000);
  fail_unless (recorder_wait_buffers (f.rec, 1000, 50));

  ev = gst_event_new_flush_start ();
  gst_event_set_seqnum (ev, seqnum);
  fail_unless (gst_harness_push_event (f.h, ev));
  ev = gst_event_new_flush_stop (TRUE);
  gst_event_set_seqnum (ev, seqnum);
  fail_unless (gst_harness_push_event (f.h, ev));
  fail_unless (recorder_wait_event (f.rec, GST_EVENT_FLUSH_STOP));

  items = recorder_snapshot (f.rec);
  for (i = 0; i < items->len; i++) {
    gpointer obj = g_ptr_array_index (items, i);
    if (is_event (obj, GST_EVENT_FLUSH_START)) {
      fail_unless_equals_int (gst_event_get_seqnum (obj), seqnum);
      n_start++;
    }
    if (is_event (obj, GST_EVENT_FLUSH_STOP)) {
      fail_unless_equals_int (gst_event_get_seqnum (obj), seqnum);
      n_stop++;
    }
  }
  g_ptr_array_unref (items);
  fail_unless_equals_int (n_start, 1);
  fail_unless_equals_int (n_stop, 1);
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "interrupt",
          1, WAIT_MS));

  /* the input side works again after the flush */
  gst_harness_set_src_caps_str (f.h, "audio/x-raw, format=S16LE, "
      "rate=16000, channels=1, layout=interleaved");
  push_input (&f, "S16LE", 16000, 1, 80, 0.1);
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "send-audio",
          2, WAIT_MS));
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_send_text_needs_paused)
{
  GstElement *e = gst_element_factory_make ("bidiagent", NULL);
  leftover_watch (e);
  gboolean ret = TRUE;

  g_signal_emit_by_name (e, "send-text", "hello", &ret);
  fail_if (ret);
  gst_object_unref (e);
}

GST_END_TEST;

/* Behind a sink that syncs, the task runs up to the latency behind the
 * clock; an answer still continues the timeline: no hole, no DISCONT.
 * (A task held up longer than the latency skips ahead, by design: 1 s so
 * that a busy machine does not do that; 500 ms was seen to be too little
 * with the two cores shared by four builds.) */
GST_START_TEST (test_answer_continuous_behind_syncing_sink)
{
  GstElement *pipe, *agent;
  GError *err = NULL;
  GstBidiScriptedProvider *p;
  Recorder *rec;
  GPtrArray *items;
  GstClockTime expect = GST_CLOCK_TIME_NONE;
  guint i, n, n_answer = 0;

  gst_bidi_scripted_provider_register ();
  gst_bidi_scripted_provider_reset_last ();
  pipe = gst_parse_launch ("bidiagent name=agent provider=scripted "
      "latency=1000 ! fakesink sync=true", &err);
  fail_unless (pipe != NULL, "%s", err ? err->message : "");
  leftover_watch (pipe);
  agent = gst_bin_get_by_name (GST_BIN (pipe), "agent");
  rec = recorder_new (agent);
  fail_if (gst_element_set_state (pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  p = gst_bidi_scripted_provider_get_last ();

  for (n = 1; n <= 3; n++) {
    gchar *id = g_strdup_printf ("r%u", n);
    g_usleep (300 * 1000);
    gst_bidi_scripted_provider_play (p, gst_bidi_event_new_response_start (id));
    gst_bidi_scripted_provider_play (p,
        gst_structure_new (GST_BIDI_EVENT_AUDIO_STREAM, "duration-ms",
            G_TYPE_INT, 100, "value", G_TYPE_INT, 1000 * n, NULL));
    fail_unless (recorder_wait_buffers (rec, 1000 * n, 5));
    g_free (id);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);

  items = recorder_snapshot (rec);
  for (i = 0; i < items->len; i++) {
    GstBuffer *buf = g_ptr_array_index (items, i);

    if (!is_buffer (buf))
      continue;
    if (GST_CLOCK_TIME_IS_VALID (expect))
      fail_unless_equals_clocktime (GST_BUFFER_PTS (buf), expect);
    expect = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
    if (!buffer_all_samples (buf, 0)) {
      fail_if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT),
          "answer buffer %u is a discontinuity", i);
      n_answer++;
    }
  }
  fail_unless_equals_int (n_answer, 15);
  g_ptr_array_unref (items);
  recorder_free (rec);
  gst_object_unref (p);
  gst_object_unref (agent);
  gst_object_unref (pipe);
  gst_bidi_scripted_provider_reset_last ();
}

GST_END_TEST;

/* Echo through a real pipeline, system clock: what goes in comes back. */
GST_START_TEST (test_pipeline_echo)
{
  GstElement *pipe;
  GError *err = NULL;
  GstBus *bus;
  GstMessage *msg;

  gst_bidi_scripted_provider_register ();
  pipe = gst_parse_launch ("audiotestsrc num-buffers=50 samplesperbuffer=480 "
      "! audio/x-raw,rate=48000 ! bidiagent provider=scripted "
      "provider-config=\"config,echo=true,in-rate=24000,out-rate=24000,"
      "end-input-delay-ms=100\" ! audioconvert ! fakesink sync=true", &err);
  fail_unless (pipe != NULL, "%s", err ? err->message : "");
  leftover_watch (pipe);
  bus = gst_element_get_bus (pipe);
  fail_if (gst_element_set_state (pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no EOS");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  gst_bidi_scripted_provider_reset_last ();
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Output: interruption=cut, the bounded playout queue, channel masks
 * ------------------------------------------------------------------------ */

static guint64
stats_uint64 (GstElement * agent, const gchar * field)
{
  GstStructure *stats;
  guint64 v = G_MAXUINT64;

  g_object_get (agent, "stats", &stats, NULL);
  fail_unless (gst_structure_get_uint64 (stats, field, &v), "no %s", field);
  gst_structure_free (stats);
  return v;
}

/* Waits until the stats' @field is @value */
static gboolean
wait_stats (GstElement * agent, const gchar * field, guint64 value)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (stats_uint64 (agent, field) != value) {
    if (g_get_monotonic_time () > end)
      return FALSE;
    g_usleep (10 * 1000);
  }
  return TRUE;
}

/* Counts recorded buffers that are not all silence */
static guint
recorder_count_sound (Recorder * rec)
{
  GPtrArray *items = recorder_snapshot (rec);
  guint i, n = 0;

  for (i = 0; i < items->len; i++) {
    gpointer obj = g_ptr_array_index (items, i);
    if (is_buffer (obj) && !buffer_all_samples (obj, 0))
      n++;
  }
  g_ptr_array_unref (items);
  return n;
}

static gboolean
recorder_wait_sound (Recorder * rec, guint n)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (recorder_count_sound (rec) < n) {
    if (g_get_monotonic_time () > end)
      return FALSE;
    g_usleep (10 * 1000);
  }
  return TRUE;
}

/* interruption=cut: the answer stops without a flush or a new segment, the
 * timeline goes on sample for sample, and played_ms is all that was
 * pushed of the answer (downstream plays it out) */
GST_START_TEST (test_interrupt_cut_without_flush)
{
  BusLog *log;
  GstElement *pipe = input_pipeline ("bidiagent name=agent provider=scripted "
      "interruption=cut ! fakesink sync=true", &log);
  GstElement *agent = gst_bin_get_by_name (GST_BIN (pipe), "agent");
  Recorder *rec = recorder_new (agent);
  GstBidiScriptedProvider *p;
  GstClockTime expect = GST_CLOCK_TIME_NONE;
  GPtrArray *items;
  guint64 played_ms;
  guint i, n_segments = 0, n_silence_after = 0, answer_ms = 0;
  gboolean ret = FALSE, after = FALSE;
  gint i_cut;

  fail_unless (bus_log_wait (log, 0, "bidi_connection_start", NULL, NULL,
          WAIT_MS) >= 0);
  p = gst_bidi_scripted_provider_get_last ();
  /* ten seconds of answer, in 20 ms deltas */
  gst_bidi_scripted_provider_play (p, gst_bidi_event_new_response_start
      ("r1"));
  gst_bidi_scripted_provider_play (p,
      gst_structure_new (GST_BIDI_EVENT_AUDIO_STREAM, "duration-ms",
          G_TYPE_INT, 10000, "value", G_TYPE_INT, 1000, "response_id",
          G_TYPE_STRING, "r1", NULL));
  fail_unless (recorder_wait_buffers (rec, 1000, 10));
  g_signal_emit_by_name (agent, "interrupt", &ret);
  fail_unless (ret);
  i_cut = bus_log_wait (log, 0, "bidi_interruption", NULL, NULL, WAIT_MS);
  fail_unless (i_cut >= 0);
  fail_unless (gst_structure_get_uint64 (bus_log_get (log, i_cut),
          "played_ms", &played_ms));
  /* then silence goes on */
  fail_unless (recorder_wait_buffers (rec, 0,
          recorder_count_buffers (rec, 0) + 10));
  gst_element_set_state (pipe, GST_STATE_NULL);

  items = recorder_snapshot (rec);
  for (i = 0; i < items->len; i++) {
    gpointer obj = g_ptr_array_index (items, i);

    fail_if (is_event (obj, GST_EVENT_FLUSH_START) ||
        is_event (obj, GST_EVENT_FLUSH_STOP), "flushed in cut mode");
    /* the pipeline played before the recorder was there: the stream's
     * segment may have gone by; none may come once buffers flow */
    if (is_event (obj, GST_EVENT_SEGMENT) && GST_CLOCK_TIME_IS_VALID (expect))
      n_segments++;
    if (!is_buffer (obj))
      continue;
    if (GST_CLOCK_TIME_IS_VALID (expect)) {
      fail_unless_equals_clocktime (GST_BUFFER_PTS (obj), expect);
      fail_if (GST_BUFFER_FLAG_IS_SET (obj, GST_BUFFER_FLAG_DISCONT));
    }
    expect = GST_BUFFER_PTS (obj) + GST_BUFFER_DURATION (obj);
    if (buffer_all_samples (obj, 1000)) {
      fail_if (after, "answer audio after the cut");
      answer_ms += GST_BUFFER_DURATION (obj) / GST_MSECOND;
    } else if (answer_ms > 0) {
      after = TRUE;
      n_silence_after++;
    }
  }
  g_ptr_array_unref (items);
  fail_unless_equals_int (n_segments, 0);
  fail_unless (n_silence_after >= 10);
  fail_unless (answer_ms < 10000, "the cut dropped nothing");
  fail_unless_equals_uint64 (played_ms, answer_ms);
  fail_unless_equals_uint64 (stats_uint64 (agent, "output-queued-ms"), 0);

  recorder_free (rec);
  gst_object_unref (p);
  gst_object_unref (agent);
  input_pipeline_stop (pipe, log);
}

GST_END_TEST;

static void
play_deltas (GstBidiScriptedProvider * p, const gchar * id, gint ms,
    gint chunk_ms)
{
  gst_bidi_scripted_provider_play (p, gst_bidi_event_new_response_start (id));
  gst_bidi_scripted_provider_play (p,
      gst_structure_new (GST_BIDI_EVENT_AUDIO_STREAM, "duration-ms",
          G_TYPE_INT, ms, "chunk-ms", G_TYPE_INT, chunk_ms, "value",
          G_TYPE_INT, 1000, "response_id", G_TYPE_STRING, id, NULL));
}

/* A provider far ahead of real time: output-buffer-ms of audio is kept,
 * the newest goes (the rest of the answer, then the next answer while the
 * queue is full), counted, with one warning */
GST_START_TEST (test_output_buffer_bounded)
{
  Fixture f;
  GstMessage *msg;
  GError *err = NULL;
  gchar *dbg = NULL;
  gint64 start;
  guint n_warnings = 1;

  fixture_setup (&f, NULL, "output-buffer-ms=1000");
  wait_connected (&f);
  /* PAUSED: nothing plays, the audio waits in the queue */
  gst_element_set_state (f.h->element, GST_STATE_PAUSED);
  start = g_get_monotonic_time ();
  play_deltas (f.provider, "r1", 6000, 2000);

  msg = gst_bus_timed_pop_filtered (f.bus, WAIT_MS * GST_MSECOND,
      GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning about the output buffer");
  gst_message_parse_warning (msg, &err, &dbg);
  fail_unless (strstr (err->message, "Output buffer full") != NULL, "%s",
      err->message);
  g_error_free (err);
  g_free (dbg);
  gst_message_unref (msg);

  /* 1000 ms of the first delta kept, the rest of the answer dropped */
  fail_unless (wait_stats (f.h->element, "output-dropped-ms", 5000));
  fail_unless_equals_uint64 (stats_uint64 (f.h->element,
          "output-queued-ms"), 1000);
  /* the queue is full: the next answer has no room */
  play_deltas (f.provider, "r2", 500, 500);
  fail_unless (wait_stats (f.h->element, "output-dropped-ms", 5500));
  fail_unless_equals_uint64 (stats_uint64 (f.h->element,
          "output-queued-ms"), 1000);

  /* throttled: no more warnings, but after 5 s one may come again */
  while ((msg = gst_bus_pop_filtered (f.bus, GST_MESSAGE_WARNING))) {
    n_warnings++;
    gst_message_unref (msg);
  }
  if (g_get_monotonic_time () - start < 4 * G_TIME_SPAN_SECOND) {
    fail_unless_equals_int (n_warnings, 1);
  } else {
    fail_unless (n_warnings <= 2, "%u warnings", n_warnings);
  }

  /* what was kept plays */
  gst_element_set_state (f.h->element, GST_STATE_PLAYING);
  fail_unless (recorder_wait_buffers (f.rec, 1000, 1));
  fail_unless (wait_stats (f.h->element, "output-queued-ms", 0));
  fixture_teardown (&f);
}

GST_END_TEST;

/* Downstream wants 8 channels and does not say where they go: the usual
 * 7.1 layout, and the answer plays */
GST_START_TEST (test_output_channels_without_mask)
{
  BusLog *log;
  GstElement *pipe = input_pipeline ("bidiagent name=agent provider=scripted "
      "! audio/x-raw,channels=8 ! fakesink sync=true", &log);
  GstElement *agent = gst_bin_get_by_name (GST_BIN (pipe), "agent");
  Recorder *rec = recorder_new (agent);
  GstBidiScriptedProvider *p;
  GstAudioInfo info;
  GstCaps *caps;

  fail_unless (bus_log_wait (log, 0, "bidi_connection_start", NULL, NULL,
          WAIT_MS) >= 0);
  p = gst_bidi_scripted_provider_get_last ();
  play_deltas (p, "r1", 200, 20);
  fail_unless (recorder_wait_sound (rec, 5), "the answer did not play");
  fail_unless_equals_int (bus_log_count (log, "error", NULL, NULL), 0);

  caps = gst_pad_get_current_caps (rec->pad);
  fail_unless (gst_audio_info_from_caps (&info, caps));
  fail_unless_equals_int (GST_AUDIO_INFO_CHANNELS (&info), 8);
  {
    guint64 mask = 0;
    fail_unless (gst_structure_get (gst_caps_get_structure (caps, 0),
            "channel-mask", GST_TYPE_BITMASK, &mask, NULL));
    fail_unless_equals_uint64 (mask,
        gst_audio_channel_get_fallback_mask (8));
  }
  gst_caps_unref (caps);

  recorder_free (rec);
  gst_object_unref (p);
  gst_object_unref (agent);
  input_pipeline_stop (pipe, log);
}

GST_END_TEST;

static Suite *
bidiagent_suite (void)
{
  Suite *s = suite_create ("bidiagent");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, leftover_stop);
  tcase_add_test (tc, test_input_44k1_stereo_f32);
  tcase_add_test (tc, test_input_8k_mono_s16);
  tcase_add_test (tc, test_input_caps_change);
  tcase_add_test (tc, test_input_buffered_before_connect);
  tcase_add_test (tc, test_input_unknown_liveness_waits);
  tcase_add_test (tc, test_input_live_overflow_warns_once);
  tcase_add_test (tc, test_input_buffer_bounded);
  tcase_add_test (tc, test_output_contiguous_answer);
  tcase_add_test (tc, test_output_silence_between_answers);
  tcase_add_test (tc, test_output_idle_gap);
  tcase_add_test (tc, test_output_converted_downstream);
  tcase_add_test (tc, test_latency_query);
  tcase_add_test (tc, test_no_preroll);
  tcase_add_test (tc, test_interrupt_signal_flush_order);
  tcase_add_test (tc, test_flush_while_negotiating);
  tcase_add_test (tc, test_interrupt_from_provider);
  tcase_add_test (tc, test_interrupt_nothing_playing);
  tcase_add_test (tc, test_played_ms);
  tcase_add_test (tc, test_every_event_posted);
  tcase_add_test (tc, test_turn_state_and_latency);
  tcase_add_test (tc, test_turn_latency_without_vad);
  tcase_add_test (tc, test_turn_state_interrupt_and_silent_answers);
  tcase_add_test (tc, test_send_text);
  tcase_add_test (tc, test_send_image);
  tcase_add_test (tc, test_eos_drain);
  tcase_add_test (tc, test_eos_drain_timeout);
  tcase_add_test (tc, test_unknown_provider);
  tcase_add_test (tc, test_bad_provider_config);
  tcase_add_test (tc, test_provider_config_numbers);
  tcase_add_test (tc, test_provider_fails_to_start);
  tcase_add_test (tc, test_provider_error_midstream);
  tcase_add_test (tc, test_provider_error_codes);
  tcase_add_test (tc, test_api_key_secret);
  tcase_add_test (tc, test_random_state_changes);
  tcase_add_test (tc, test_state_changes_mid_answer);
  tcase_add_test (tc, test_upstream_flush);
  tcase_add_test (tc, test_send_text_needs_paused);
  tcase_add_test (tc, test_pipeline_echo);
  tcase_add_test (tc, test_answer_continuous_behind_syncing_sink);
  tcase_add_test (tc, test_interrupt_cut_without_flush);
  tcase_add_test (tc, test_output_buffer_bounded);
  tcase_add_test (tc, test_output_channels_without_mask);
  return s;
}

GST_CHECK_MAIN (bidiagent);
