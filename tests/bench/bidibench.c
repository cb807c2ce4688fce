/* gst-bidi: bidiagent benchmarks, with the scripted provider
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* bidibench: prints figures for tests/bench/RESULTS.md. It never fails on a
 * time: the exit status is non-zero only when something does not work
 * (a pipeline error, an answer or a flush that never comes).
 *
 *  1. added latency: provider event -> first buffer of the answer pushed on
 *     bidiagent's src pad (emit hook on the network thread -> buffer probe),
 *     into fakesink sync=false; then, for information, the same in front of
 *     a sink that renders in real time (sync=true): event -> rendered, and
 *     the hole the answer leaves in the output timeline
 *  2. interruption latency: "interrupt" signal, or a bidi_interruption from
 *     the provider -> FLUSH_START at the sink's pad
 *  3. CPU time per session of bidirectional 24 kHz audio (echo provider),
 *     1 and N sessions in this process, minus a baseline without bidiagent
 *  4. RSS per session, N sessions, with and without bidiagent
 *
 * Everything is local: the "scripted" provider from tests/check/common.
 * Run: meson test -C build --benchmark -v, or
 *      GST_PLUGIN_PATH=build/gst/bidiagent build/tests/bench/bidibench
 * See tests/bench/RESULTS.md for what the figures mean.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <gst/gst.h>
#include <gst/audio/audio.h>

#include "scriptedprovider.h"

/* targets the figures are compared against (printed, never enforced) */
#define TARGET_ADDED_P99_US 1000.0
#define TARGET_INTERRUPT_P99_US 2000.0
#define TARGET_CPU_PCT 0.3

#define WAIT_US (5 * G_USEC_PER_SEC)
#define LATENCY_WARMUP 10
#define INTERRUPT_WARMUP 5
#define LATENCY_BASE_VALUE 1000
#define INTERRUPT_BASE_VALUE 5000
#define ANSWER_MS 3000
/* after the pipelines are PLAYING (and connected), before the window */
#define CPU_WARMUP_US (1 * G_USEC_PER_SEC)
#define CPU_WARMUP_1_US (G_USEC_PER_SEC / 2)     /* 1 session, per round */

#define CPU_CAPS "audio/x-raw,format=S16LE,rate=24000,channels=1"
#define AGENT_DESC \
    "audiotestsrc is-live=true samplesperbuffer=480 ! " CPU_CAPS " ! " \
    "bidiagent name=agent provider=scripted provider-config=\"config," \
    "echo=true,in-rate=24000,out-rate=24000,record-audio=false\" ! " \
    "fakesink name=sink sync=true"
#define BASELINE_DESC \
    "audiotestsrc is-live=true samplesperbuffer=480 ! " CPU_CAPS " ! " \
    "fakesink name=sink sync=true"

/* ------------------------------------------------------------------------
 * Options and helpers
 * ------------------------------------------------------------------------ */

static gboolean opt_quick = FALSE;
static gint opt_sessions = -1;
static gint opt_seconds = -1;
static gint opt_samples = -1;
static gchar *opt_only = NULL;

static GOptionEntry entries[] = {
  {"quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick,
      "Short run (smoke test): fewer samples, sessions and seconds", NULL},
  {"sessions", 'n', 0, G_OPTION_ARG_INT, &opt_sessions,
      "Sessions in the multi-session CPU/RSS run (default 50, quick 5)", "N"},
  {"seconds", 's', 0, G_OPTION_ARG_INT, &opt_seconds,
      "Measured seconds of each CPU run (default 10, quick 2); one session "
        "is measured in 4 rounds of S/4 when S >= 8", "S"},
  {"samples", 'm', 0, G_OPTION_ARG_INT, &opt_samples,
      "Samples of each latency figure (default 300, quick 30)", "K"},
  {"only", 'o', 0, G_OPTION_ARG_STRING, &opt_only,
      "Run only the \"latency\" or the \"cpu\" (CPU and RSS) part", "PART"},
  {NULL, 0, 0, 0, NULL, NULL, NULL}
};

/* The first error seen on any bus (or a timeout), reported at the end. */
static GMutex error_lock;
static gchar *first_error;

static void
set_error (const gchar * format, ...) G_GNUC_PRINTF (1, 2);

static void
set_error (const gchar * format, ...)
{
  va_list ap;
  gchar *msg;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_printerr ("bidibench: %s\n", msg);
  g_mutex_lock (&error_lock);
  if (!first_error)
    first_error = msg;
  else
    g_free (msg);
  g_mutex_unlock (&error_lock);
}

static gboolean
have_error (void)
{
  gboolean ret;

  g_mutex_lock (&error_lock);
  ret = first_error != NULL;
  g_mutex_unlock (&error_lock);
  return ret;
}

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static gdouble
timeval_s (const struct timeval *tv)
{
  return tv->tv_sec + tv->tv_usec / 1e6;
}

/* CPU time of the whole process (all threads), and its voluntary context
 * switches (a thread blocking: one per wake-up, roughly) */
static gdouble
cpu_seconds (gint64 * switches)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  *switches = ru.ru_nvcsw;
  return timeval_s (&ru.ru_utime) + timeval_s (&ru.ru_stime);
}

/* VmRSS of this process in KiB, -1 if unknown. */
static gint64
rss_kib (void)
{
  gchar *contents = NULL, *line;
  gint64 kib = -1;

  if (!g_file_get_contents ("/proc/self/status", &contents, NULL, NULL))
    return -1;
  line = strstr (contents, "VmRSS:");
  if (line)
    kib = g_ascii_strtoll (line + strlen ("VmRSS:"), NULL, 10);
  g_free (contents);
  return kib;
}

/* Gives freed heap back, so that "before" is what is really in use. */
static void
trim_heap (void)
{
#ifdef __GLIBC__
  malloc_trim (0);
#endif
}

/* The scripted provider records every call the element makes (a
 * GstStructure in a GPtrArray, forever): with echo that is one
 * "send-audio" record per 40 ms chunk, which shows up as RSS growing with
 * time. Measures what one such record costs, in bytes of RSS, so the
 * report can take the log out of the element's share. */
static gdouble
call_log_record_bytes (void)
{
  const guint n = 20000;
  GPtrArray *log = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  gint64 before, after;
  guint i;

  trim_heap ();
  before = rss_kib ();
  for (i = 0; i < n; i++)
    g_ptr_array_add (log, gst_structure_new ("send-audio", "bytes",
            G_TYPE_UINT64, (guint64) 1920, NULL));
  after = rss_kib ();
  g_ptr_array_unref (log);
  trim_heap ();
  if (before < 0 || after < before)
    return 0;
  return (after - before) * 1024.0 / n;
}

/* Whole machine, from /proc/stat: busy and steal time, in seconds. */
typedef struct
{
  gdouble busy;
  gdouble steal;
  gdouble total;
} MachineTimes;

static void
machine_times (MachineTimes * t)
{
  gchar *contents = NULL;
  guint64 v[10] = { 0, };
  gdouble hz = sysconf (_SC_CLK_TCK);
  guint64 total = 0, idle;
  guint i;

  memset (t, 0, sizeof (*t));
  if (!g_file_get_contents ("/proc/stat", &contents, NULL, NULL))
    return;
  /* cpu user nice system idle iowait irq softirq steal guest guest_nice */
  if (sscanf (contents, "cpu %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
          " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
          " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
          &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
    for (i = 0; i < 8; i++)
      total += v[i];
    idle = v[3] + v[4];
    t->total = total / hz;
    t->busy = (total - idle - v[7]) / hz;
    t->steal = v[7] / hz;
  }
  g_free (contents);
}

static gchar *
cpu_model (void)
{
  gchar *contents = NULL, *model = NULL;
  gchar **lines, **l;

  if (!g_file_get_contents ("/proc/cpuinfo", &contents, NULL, NULL))
    return g_strdup ("unknown");
  lines = g_strsplit (contents, "\n", -1);
  for (l = lines; *l && !model; l++) {
    if (g_str_has_prefix (*l, "model name")) {
      const gchar *colon = strchr (*l, ':');
      if (colon)
        model = g_strstrip (g_strdup (colon + 1));
    }
  }
  g_strfreev (lines);
  g_free (contents);
  return model ? model : g_strdup ("unknown");
}

static gint
cmp_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

typedef struct
{
  guint n;
  gdouble p50, p90, p99, max, min, mean;        /* microseconds */
} Stats;

/* Nearest-rank percentiles of @n values in nanoseconds (sorted in place). */
static void
compute_stats (gint64 * ns, guint n, Stats * s)
{
  gdouble sum = 0;
  guint i;

  memset (s, 0, sizeof (*s));
  s->n = n;
  if (n == 0)
    return;
  qsort (ns, n, sizeof (gint64), cmp_gint64);
  for (i = 0; i < n; i++)
    sum += ns[i];
#define RANK(p) (ns[MIN (n - 1, (guint) ((p) * n + 0.999999) - 1)] / 1000.0)
  s->p50 = RANK (0.50);
  s->p90 = RANK (0.90);
  s->p99 = RANK (0.99);
#undef RANK
  s->min = ns[0] / 1000.0;
  s->max = ns[n - 1] / 1000.0;
  s->mean = sum / n / 1000.0;
}

/* ------------------------------------------------------------------------
 * Pipelines
 * ------------------------------------------------------------------------ */

/* Warnings posted on any bus: printed, counted, not fatal. */
static gint n_warnings;

/* Messages are dropped as they are posted (nobody pops the buses); an
 * error ends the run, warnings are printed. */
static GstBusSyncReply
bus_sync_handler (G_GNUC_UNUSED GstBus * bus, GstMessage * msg,
    G_GNUC_UNUSED gpointer user_data)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR ||
      GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
    GError *err = NULL;
    gchar *dbg = NULL;

    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      gst_message_parse_error (msg, &err, &dbg);
      set_error ("error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
          err->message, GST_STR_NULL (dbg));
    } else {
      gst_message_parse_warning (msg, &err, &dbg);
      g_atomic_int_inc (&n_warnings);
      g_printerr ("bidibench: warning from %s: %s (%s)\n",
          GST_MESSAGE_SRC_NAME (msg), err->message, GST_STR_NULL (dbg));
    }
    g_error_free (err);
    g_free (dbg);
  }
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

static GstElement *
pipeline_new (const gchar * desc)
{
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch (desc, &err);
  GstBus *bus;

  if (!pipe) {
    set_error ("could not create \"%s\": %s", desc,
        err ? err->message : "?");
    g_clear_error (&err);
    return NULL;
  }
  if (err) {
    set_error ("\"%s\": %s", desc, err->message);
    g_clear_error (&err);
    gst_object_unref (pipe);
    return NULL;
  }
  bus = gst_element_get_bus (pipe);
  gst_bus_set_sync_handler (bus, bus_sync_handler, NULL, NULL);
  gst_object_unref (bus);
  return pipe;
}

static gboolean
pipeline_play (GstElement * pipe)
{
  if (gst_element_set_state (pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    set_error ("%s did not go to PLAYING", GST_OBJECT_NAME (pipe));
    return FALSE;
  }
  return TRUE;
}

static void
pipeline_free (GstElement * pipe)
{
  GstBus *bus;

  if (!pipe)
    return;
  gst_element_set_state (pipe, GST_STATE_NULL);
  bus = gst_element_get_bus (pipe);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
}

static GstElement *
get_by_name (GstElement * pipe, const gchar * name)
{
  return gst_bin_get_by_name (GST_BIN (pipe), name);
}

static gboolean
wait_connected (GstElement * agent)
{
  gint64 end = g_get_monotonic_time () + WAIT_US;
  gboolean connected = FALSE;

  while (!have_error ()) {
    g_object_get (agent, "connected", &connected, NULL);
    if (connected)
      return TRUE;
    if (g_get_monotonic_time () > end)
      break;
    g_usleep (2000);
  }
  if (!connected)
    set_error ("%s did not connect", GST_OBJECT_NAME (agent));
  return FALSE;
}

/* Plays an answer: bidi_response_start, @ms of audio of @value (one event
 * per 20 ms chunk, all at once), and bidi_response_complete if @complete. */
static void
play_answer (GstBidiScriptedProvider * provider, const gchar * id,
    gint ms, gint value, gboolean complete)
{
  gst_bidi_scripted_provider_play (provider,
      gst_bidi_event_new_response_start (id));
  gst_bidi_scripted_provider_play (provider,
      gst_structure_new (GST_BIDI_EVENT_AUDIO_STREAM, "duration-ms",
          G_TYPE_INT, ms, "value", G_TYPE_INT, value, "chunk-ms", G_TYPE_INT,
          20, "response_id", G_TYPE_STRING, id, NULL));
  if (complete)
    gst_bidi_scripted_provider_play (provider,
        gst_bidi_event_new_response_complete (id, "complete"));
}

/* First S16 sample of an audio event's payload, or G_MININT. */
static gint
event_first_sample (const GstStructure * event)
{
  const GValue *v = gst_structure_get_value (event, "audio");
  GBytes *bytes;
  const guint8 *data;
  gsize size = 0;

  if (!v || !G_VALUE_HOLDS (v, G_TYPE_BYTES)
      || !(bytes = g_value_get_boxed (v)))
    return G_MININT;
  data = g_bytes_get_data (bytes, &size);
  if (size < 2)
    return G_MININT;
  return (gint16) GST_READ_UINT16_LE (data);
}

static gint
buffer_first_sample (GstBuffer * buf)
{
  guint8 b[2];

  if (gst_buffer_extract (buf, 0, b, 2) != 2)
    return G_MININT;
  return (gint16) GST_READ_UINT16_LE (b);
}

/* ------------------------------------------------------------------------
 * 1. Added latency: provider event -> buffer on the src pad
 * ------------------------------------------------------------------------ */

typedef struct
{
  GMutex lock;
  GCond cond;
  guint n;                      /* answers, warm-up included */
  gint64 *t_emit;               /* ns, per answer index; 0 = not yet */
  gint64 *t_push;               /* first buffer at bidiagent's src pad */
  gint64 *t_render;             /* first buffer rendered (sync=true only) */
  gint64 *hole;                 /* ns of timeline skipped before it */
  GstClockTime last_end;        /* end of the previous buffer pushed */
} AddedLatency;

/* network thread, right before the event goes to the element */
static void
added_emit_hook (G_GNUC_UNUSED GstBidiScriptedProvider * provider,
    const GstStructure * event, gpointer user_data)
{
  AddedLatency *al = user_data;
  gint value, idx;
  gint64 t;

  if (!gst_structure_has_name (event, GST_BIDI_EVENT_AUDIO_STREAM))
    return;
  value = event_first_sample (event);
  idx = value - LATENCY_BASE_VALUE;
  if (idx < 0 || (guint) idx >= al->n)
    return;
  t = now_ns ();                /* last thing before the emit */
  g_mutex_lock (&al->lock);
  if (al->t_emit[idx] == 0)
    al->t_emit[idx] = t;
  g_mutex_unlock (&al->lock);
}

/* src task, as the buffer is pushed */
static GstPadProbeReturn
added_buffer_probe (G_GNUC_UNUSED GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  AddedLatency *al = user_data;
  gint64 t = now_ns ();         /* first thing */
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gint idx = buffer_first_sample (buf) - LATENCY_BASE_VALUE;

  g_mutex_lock (&al->lock);
  if (idx >= 0 && (guint) idx < al->n && al->t_push[idx] == 0) {
    al->t_push[idx] = t;
    if (GST_CLOCK_TIME_IS_VALID (al->last_end)
        && GST_BUFFER_PTS_IS_VALID (buf))
      al->hole[idx] = (gint64) GST_BUFFER_PTS (buf) - (gint64) al->last_end;
    g_cond_broadcast (&al->cond);
  }
  if (GST_BUFFER_PTS_IS_VALID (buf) && GST_BUFFER_DURATION_IS_VALID (buf))
    al->last_end = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
  g_mutex_unlock (&al->lock);
  return GST_PAD_PROBE_OK;
}

/* fakesink's streaming thread, after its clock wait: the buffer is
 * "heard" */
static void
added_handoff (G_GNUC_UNUSED GstElement * sink, GstBuffer * buf,
    G_GNUC_UNUSED GstPad * pad, gpointer user_data)
{
  AddedLatency *al = user_data;
  gint64 t = now_ns ();
  gint idx = buffer_first_sample (buf) - LATENCY_BASE_VALUE;

  if (idx < 0 || (guint) idx >= al->n)
    return;
  g_mutex_lock (&al->lock);
  if (al->t_render[idx] == 0) {
    al->t_render[idx] = t;
    g_cond_broadcast (&al->cond);
  }
  g_mutex_unlock (&al->lock);
}

typedef struct
{
  Stats push;                   /* event -> src pad */
  Stats render;                 /* event -> rendered (sync only) */
  gdouble hole_mean_ms;         /* timeline skipped before an answer */
  gdouble hole_max_ms;
  guint discont;                /* answers that started after a hole */
} AddedResult;

/* @sync: FALSE measures the element alone (fakesink sync=false, the task
 * waits on the clock between its pieces of silence); TRUE puts it in front
 * of a sink that renders in real time, as an audio sink would. */
static gboolean
bench_added_latency (guint samples, gboolean sync, AddedResult * res)
{
  GstElement *pipe, *agent = NULL, *sink = NULL;
  GstBidiScriptedProvider *provider = NULL;
  GstPad *srcpad = NULL;
  AddedLatency al;
  gint64 *push, *render;
  gdouble hole_sum = 0;
  gchar *desc;
  guint i, n_lat = 0;
  gboolean ok = FALSE;

  memset (&al, 0, sizeof (al));
  memset (res, 0, sizeof (*res));
  g_mutex_init (&al.lock);
  g_cond_init (&al.cond);
  al.n = samples + LATENCY_WARMUP;
  al.t_emit = g_new0 (gint64, al.n);
  al.t_push = g_new0 (gint64, al.n);
  al.t_render = g_new0 (gint64, al.n);
  al.hole = g_new0 (gint64, al.n);
  al.last_end = GST_CLOCK_TIME_NONE;
  push = g_new0 (gint64, al.n);
  render = g_new0 (gint64, al.n);

  gst_bidi_scripted_provider_reset_last ();
  desc = g_strdup_printf ("bidiagent name=agent provider=scripted "
      "provider-config=\"config,record-audio=false\" ! fakesink name=sink "
      "sync=%s signal-handoffs=%s", sync ? "true" : "false",
      sync ? "true" : "false");
  pipe = pipeline_new (desc);
  g_free (desc);
  if (!pipe)
    goto out;
  agent = get_by_name (pipe, "agent");
  sink = get_by_name (pipe, "sink");
  srcpad = gst_element_get_static_pad (agent, "src");
  gst_pad_add_probe (srcpad, GST_PAD_PROBE_TYPE_BUFFER, added_buffer_probe,
      &al, NULL);
  if (sync)
    g_signal_connect (sink, "handoff", G_CALLBACK (added_handoff), &al);
  if (!pipeline_play (pipe))
    goto out;
  provider = gst_bidi_scripted_provider_get_last ();
  if (!provider) {
    set_error ("no scripted provider");
    goto out;
  }
  gst_bidi_scripted_provider_set_emit_hook (provider, added_emit_hook, &al);
  if (!wait_connected (agent))
    goto out;
  /* let the src task settle into pushing idle silence */
  g_usleep (200 * 1000);

  for (i = 0; i < al.n && !have_error (); i++) {
    gchar *id = g_strdup_printf ("lat-%u", i);
    gint64 end = g_get_monotonic_time () + WAIT_US;
    gboolean got = TRUE;

    play_answer (provider, id, 20, LATENCY_BASE_VALUE + (gint) i, TRUE);
    g_free (id);

    g_mutex_lock (&al.lock);
    while ((al.t_push[i] == 0 || (sync && al.t_render[i] == 0)) && got)
      got = g_cond_wait_until (&al.cond, &al.lock, end);
    got = al.t_push[i] != 0 && al.t_emit[i] != 0 &&
        (!sync || al.t_render[i] != 0);
    if (got && i >= LATENCY_WARMUP) {
      push[n_lat] = al.t_push[i] - al.t_emit[i];
      render[n_lat] = sync ? al.t_render[i] - al.t_emit[i] : 0;
      n_lat++;
      hole_sum += al.hole[i] / 1e6;
      res->hole_max_ms = MAX (res->hole_max_ms, al.hole[i] / 1e6);
      if (al.hole[i] > 1000)    /* more than rounding */
        res->discont++;
    }
    g_mutex_unlock (&al.lock);
    if (!got) {
      set_error ("answer %u never reached the %s", i, sync && al.t_push[i] ?
          "sink" : "src pad");
      break;
    }
    /* 30..50 ms apart: the task is idle (waiting on the clock for the next
     * piece of silence, or in the sink), at a random phase of its 20 ms
     * period */
    g_usleep (30000 + g_random_int_range (0, 20000));
  }
  ok = n_lat == samples;
  compute_stats (push, n_lat, &res->push);
  if (sync)
    compute_stats (render, n_lat, &res->render);
  res->hole_mean_ms = n_lat ? hole_sum / n_lat : 0;

out:
  if (provider) {
    gst_bidi_scripted_provider_set_emit_hook (provider, NULL, NULL);
    gst_object_unref (provider);
  }
  pipeline_free (pipe);
  if (srcpad)
    gst_object_unref (srcpad);
  if (agent)
    gst_object_unref (agent);
  if (sink)
    gst_object_unref (sink);
  gst_bidi_scripted_provider_reset_last ();
  g_free (al.t_emit);
  g_free (al.t_push);
  g_free (al.t_render);
  g_free (al.hole);
  g_free (push);
  g_free (render);
  g_mutex_clear (&al.lock);
  g_cond_clear (&al.cond);
  return ok;
}

/* ------------------------------------------------------------------------
 * 2. Interruption latency: interrupt -> FLUSH_START at the sink
 * ------------------------------------------------------------------------ */

typedef struct
{
  GMutex lock;
  GCond cond;
  gint value;                   /* sample value of the current answer */
  gboolean playing;             /* a buffer of it was pushed */
  gint64 t_interrupt;           /* ns: signal call, or provider emit */
  gint64 t_flush_start;
  gboolean flush_stop;
} Interruption;

static void
interrupt_emit_hook (G_GNUC_UNUSED GstBidiScriptedProvider * provider,
    const GstStructure * event, gpointer user_data)
{
  Interruption *it = user_data;
  gint64 t;

  if (!gst_structure_has_name (event, GST_BIDI_EVENT_INTERRUPTION))
    return;
  t = now_ns ();
  g_mutex_lock (&it->lock);
  it->t_interrupt = t;
  g_mutex_unlock (&it->lock);
}

static GstPadProbeReturn
interrupt_buffer_probe (G_GNUC_UNUSED GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  Interruption *it = user_data;
  gint value = buffer_first_sample (GST_PAD_PROBE_INFO_BUFFER (info));

  g_mutex_lock (&it->lock);
  if (value == it->value && !it->playing) {
    it->playing = TRUE;
    g_cond_broadcast (&it->cond);
  }
  g_mutex_unlock (&it->lock);
  return GST_PAD_PROBE_OK;
}

/* at fakesink's sink pad */
static GstPadProbeReturn
interrupt_event_probe (G_GNUC_UNUSED GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  Interruption *it = user_data;
  gint64 t = now_ns ();
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START) {
    g_mutex_lock (&it->lock);
    if (it->t_flush_start == 0)
      it->t_flush_start = t;
    g_cond_broadcast (&it->cond);
    g_mutex_unlock (&it->lock);
  } else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP) {
    g_mutex_lock (&it->lock);
    it->flush_stop = TRUE;
    g_cond_broadcast (&it->cond);
    g_mutex_unlock (&it->lock);
  }
  return GST_PAD_PROBE_OK;
}

/* @from_provider: a bidi_interruption event from the provider, else the
 * "interrupt" action signal from this thread. */
static gboolean
bench_interruption (guint samples, gboolean from_provider, Stats * out)
{
  static gint next_value = INTERRUPT_BASE_VALUE;
  GstElement *pipe, *agent = NULL, *sink = NULL;
  GstBidiScriptedProvider *provider = NULL;
  GstPad *srcpad = NULL, *sinkpad = NULL;
  Interruption it;
  gint64 *lat;
  guint i, n = samples + INTERRUPT_WARMUP, n_lat = 0;
  gboolean ok = FALSE;

  memset (&it, 0, sizeof (it));
  g_mutex_init (&it.lock);
  g_cond_init (&it.cond);
  it.value = G_MININT;
  lat = g_new0 (gint64, n);

  gst_bidi_scripted_provider_reset_last ();
  /* sync=true: the sink renders in real time, so the answer's seconds of
   * audio wait in bidiagent's queue, as with a real audio sink */
  pipe = pipeline_new ("bidiagent name=agent provider=scripted "
      "provider-config=\"config,record-audio=false\" ! "
      "fakesink name=sink sync=true");
  if (!pipe)
    goto out;
  agent = get_by_name (pipe, "agent");
  sink = get_by_name (pipe, "sink");
  srcpad = gst_element_get_static_pad (agent, "src");
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (srcpad, GST_PAD_PROBE_TYPE_BUFFER,
      interrupt_buffer_probe, &it, NULL);
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
      GST_PAD_PROBE_TYPE_EVENT_FLUSH, interrupt_event_probe, &it, NULL);
  if (!pipeline_play (pipe))
    goto out;
  provider = gst_bidi_scripted_provider_get_last ();
  if (!provider) {
    set_error ("no scripted provider");
    goto out;
  }
  gst_bidi_scripted_provider_set_emit_hook (provider, interrupt_emit_hook,
      &it);
  if (!wait_connected (agent))
    goto out;
  g_usleep (200 * 1000);

  for (i = 0; i < n && !have_error (); i++) {
    gchar *id = g_strdup_printf ("int-%u", i);
    gint64 end = g_get_monotonic_time () + WAIT_US;
    gint value = next_value++;
    gboolean got = TRUE, ret = FALSE;

    g_mutex_lock (&it.lock);
    it.value = value;
    it.playing = FALSE;
    it.t_interrupt = 0;
    it.t_flush_start = 0;
    it.flush_stop = FALSE;
    g_mutex_unlock (&it.lock);

    play_answer (provider, id, ANSWER_MS, value, FALSE);
    g_free (id);

    g_mutex_lock (&it.lock);
    while (!it.playing && got)
      got = g_cond_wait_until (&it.cond, &it.lock, end);
    got = it.playing;
    g_mutex_unlock (&it.lock);
    if (!got) {
      set_error ("answer %u never started playing", i);
      break;
    }

    /* the answer plays for a while, then the user talks over it */
    g_usleep (5000 + g_random_int_range (0, 20000));
    if (from_provider) {
      gst_bidi_scripted_provider_play (provider,
          gst_bidi_event_new_interruption ("user_speech", NULL));
    } else {
      gint64 t = now_ns ();

      g_mutex_lock (&it.lock);
      it.t_interrupt = t;
      g_mutex_unlock (&it.lock);
      g_signal_emit_by_name (agent, "interrupt", &ret);
      if (!ret) {
        set_error ("interrupt signal %u: nothing to interrupt", i);
        break;
      }
    }

    end = g_get_monotonic_time () + WAIT_US;
    got = TRUE;
    g_mutex_lock (&it.lock);
    while (!(it.t_flush_start && it.flush_stop) && got)
      got = g_cond_wait_until (&it.cond, &it.lock, end);
    got = it.t_flush_start && it.flush_stop && it.t_interrupt;
    if (got && i >= INTERRUPT_WARMUP)
      lat[n_lat++] = it.t_flush_start - it.t_interrupt;
    g_mutex_unlock (&it.lock);
    if (!got) {
      set_error ("interruption %u: no flush downstream", i);
      break;
    }
    /* the provider is told played_ms on the network thread; let the task
     * restart after the flush */
    g_usleep (5000);
  }
  ok = n_lat == samples;
  compute_stats (lat, n_lat, out);

out:
  if (provider) {
    gst_bidi_scripted_provider_set_emit_hook (provider, NULL, NULL);
    gst_object_unref (provider);
  }
  pipeline_free (pipe);
  if (srcpad)
    gst_object_unref (srcpad);
  if (sinkpad)
    gst_object_unref (sinkpad);
  if (agent)
    gst_object_unref (agent);
  if (sink)
    gst_object_unref (sink);
  gst_bidi_scripted_provider_reset_last ();
  g_free (lat);
  g_mutex_clear (&it.lock);
  g_cond_clear (&it.cond);
  return ok;
}

/* ------------------------------------------------------------------------
 * 3./4. CPU and RSS per session
 * ------------------------------------------------------------------------ */

typedef struct
{
  gboolean with_agent;
  guint sessions;
  gdouble wall_s;               /* measured window */
  gdouble cpu_s;                /* process CPU in the window */
  gdouble switches;             /* voluntary context switches in it */
  gint64 rss_before_kib;        /* before creating the pipelines */
  gint64 rss_start_kib;         /* at the start of the window */
  gint64 rss_end_kib;           /* at its end */
  gdouble audio_out_s;          /* non-GAP audio at the sinks, all sessions */
  gdouble audio_in_s;           /* audio the providers received */
  guint64 calls_end;            /* calls the providers recorded, at the end */
  gdouble machine_busy_s;       /* whole machine, /proc/stat */
  gdouble machine_steal_s;
  gdouble machine_total_s;
} CpuRun;

/* Non-GAP audio that reached a sink, in bytes; one counter per session,
 * written by its streaming thread. */
static GstPadProbeReturn
count_probe (G_GNUC_UNUSED GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP))
    g_atomic_int_add ((gint *) user_data, (gint) gst_buffer_get_size (buf));
  return GST_PAD_PROBE_OK;
}

static guint64
sum_counters (const gint * counters, guint n)
{
  guint64 total = 0;
  guint i;

  for (i = 0; i < n; i++)
    total += (guint) g_atomic_int_get (&counters[i]);
  return total;
}

/* Bytes the providers received: send_audio calls times the chunk size
 * (the element sends fixed chunks until EOS). */
static guint64
total_send_audio (GPtrArray * providers)
{
  guint64 total = 0;
  guint i;

  for (i = 0; i < providers->len; i++) {
    GstBidiScriptedProvider *p = g_ptr_array_index (providers, i);
    guint n = gst_bidi_scripted_provider_count_calls (p, "send-audio");
    GstStructure *call = n ? gst_bidi_scripted_provider_get_call (p,
        "send-audio", 0) : NULL;
    guint64 bytes = 0;

    if (call) {
      gst_structure_get_uint64 (call, "bytes", &bytes);
      gst_structure_free (call);
    }
    total += n * bytes;
  }
  return total;
}

static gboolean
bench_cpu (gboolean with_agent, guint sessions, gint64 window_us, CpuRun * r)
{
  GPtrArray *pipes = g_ptr_array_new_with_free_func ((GDestroyNotify)
      pipeline_free);
  GPtrArray *providers = g_ptr_array_new_with_free_func (gst_object_unref);
  gint *out_bytes = g_new0 (gint, sessions);
  guint64 in0 = 0, in1 = 0, out0, out1;
  MachineTimes m0, m1;
  gdouble cpu0, cpu1;
  gint64 t0, t1, sw0, sw1;
  guint i;
  gboolean ok = FALSE;

  memset (r, 0, sizeof (*r));
  r->with_agent = with_agent;
  r->sessions = sessions;

  gst_bidi_scripted_provider_reset_last ();
  trim_heap ();
  r->rss_before_kib = rss_kib ();

  for (i = 0; i < sessions; i++) {
    GstElement *pipe = pipeline_new (with_agent ? AGENT_DESC : BASELINE_DESC);
    GstElement *sink;
    GstPad *pad;

    if (!pipe)
      goto out;
    g_ptr_array_add (pipes, pipe);
    sink = get_by_name (pipe, "sink");
    pad = gst_element_get_static_pad (sink, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_probe,
        &out_bytes[i], NULL);
    gst_object_unref (pad);
    gst_object_unref (sink);
    if (!pipeline_play (pipe))
      goto out;
    if (with_agent) {
      GstBidiScriptedProvider *p = gst_bidi_scripted_provider_get_last ();

      if (!p) {
        set_error ("no scripted provider");
        goto out;
      }
      g_ptr_array_add (providers, p);
    }
  }
  gst_bidi_scripted_provider_reset_last ();

  if (with_agent) {
    for (i = 0; i < sessions; i++) {
      GstElement *agent = get_by_name (g_ptr_array_index (pipes, i), "agent");
      gboolean connected = wait_connected (agent);

      gst_object_unref (agent);
      if (!connected)
        goto out;
    }
  }
  g_usleep (sessions == 1 ? CPU_WARMUP_1_US : CPU_WARMUP_US);
  if (have_error ())
    goto out;

  /* the window: counters read outside of it */
  in0 = with_agent ? total_send_audio (providers) : 0;
  out0 = sum_counters (out_bytes, sessions);
  r->rss_start_kib = rss_kib ();
  machine_times (&m0);
  t0 = g_get_monotonic_time ();
  cpu0 = cpu_seconds (&sw0);

  g_usleep ((gulong) window_us);

  cpu1 = cpu_seconds (&sw1);
  t1 = g_get_monotonic_time ();
  machine_times (&m1);
  r->rss_end_kib = rss_kib ();
  out1 = sum_counters (out_bytes, sessions);
  in1 = with_agent ? total_send_audio (providers) : 0;
  for (i = 0; i < providers->len; i++) {
    GstBidiScriptedProvider *p = g_ptr_array_index (providers, i);

    r->calls_end += gst_bidi_scripted_provider_count_calls (p, "send-audio")
        + gst_bidi_scripted_provider_count_calls (p, "configure")
        + gst_bidi_scripted_provider_count_calls (p, "start");
  }

  r->wall_s = (t1 - t0) / 1e6;
  r->cpu_s = cpu1 - cpu0;
  r->switches = sw1 - sw0;
  r->audio_out_s = (out1 - out0) / (24000.0 * 2);
  r->audio_in_s = (in1 - in0) / (24000.0 * 2);
  r->machine_busy_s = m1.busy - m0.busy;
  r->machine_steal_s = m1.steal - m0.steal;
  r->machine_total_s = m1.total - m0.total;
  ok = !have_error ();

out:
  /* the pipelines go before the providers they hold */
  g_ptr_array_unref (pipes);
  g_ptr_array_unref (providers);
  gst_bidi_scripted_provider_reset_last ();
  g_free (out_bytes);
  return ok;
}

/* Baseline and bidiagent runs of @sessions, @rounds times each, alternating
 * which goes first; @seconds split between the rounds. The CPU figures are
 * summed over the rounds, RSS is the last round's; @share_lo/hi: the
 * smallest and largest per-round difference, in % of a core per session. */
static gboolean
bench_cpu_pair (guint sessions, guint seconds, guint rounds, CpuRun * agent,
    CpuRun * base, gdouble * share_lo, gdouble * share_hi)
{
  gint64 window_us = (gint64) seconds * G_USEC_PER_SEC / rounds;
  guint i;

  memset (agent, 0, sizeof (*agent));
  memset (base, 0, sizeof (*base));
  *share_lo = G_MAXDOUBLE;
  *share_hi = -G_MAXDOUBLE;

  for (i = 0; i < rounds; i++) {
    CpuRun a, b, *runs[2] = { agent, base }, *one[2] = { &a, &b };
    guint k;
    gdouble share;

    if (i % 2 == 0) {
      if (!bench_cpu (FALSE, sessions, window_us, &b) ||
          !bench_cpu (TRUE, sessions, window_us, &a))
        return FALSE;
    } else {
      if (!bench_cpu (TRUE, sessions, window_us, &a) ||
          !bench_cpu (FALSE, sessions, window_us, &b))
        return FALSE;
    }
    share = 100.0 * (a.cpu_s / a.wall_s - b.cpu_s / b.wall_s) / sessions;
    *share_lo = MIN (*share_lo, share);
    *share_hi = MAX (*share_hi, share);

    for (k = 0; k < 2; k++) {
      CpuRun *sum = runs[k], *r = one[k];
      gdouble wall = sum->wall_s + r->wall_s, cpu = sum->cpu_s + r->cpu_s;
      gdouble switches = sum->switches + r->switches;
      gdouble in = sum->audio_in_s + r->audio_in_s;
      gdouble out = sum->audio_out_s + r->audio_out_s;
      gdouble busy = sum->machine_busy_s + r->machine_busy_s;
      gdouble steal = sum->machine_steal_s + r->machine_steal_s;
      gdouble total = sum->machine_total_s + r->machine_total_s;

      *sum = *r;
      sum->wall_s = wall;
      sum->cpu_s = cpu;
      sum->switches = switches;
      sum->audio_in_s = in;
      sum->audio_out_s = out;
      sum->machine_busy_s = busy;
      sum->machine_steal_s = steal;
      sum->machine_total_s = total;
    }
  }
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Report
 * ------------------------------------------------------------------------ */

static void
print_latency_row (const gchar * what, const Stats * s, gdouble target)
{
  g_print ("  %-38s %5u %9.1f %9.1f %9.1f %9.1f", what, s->n, s->p50,
      s->p90, s->p99, s->max);
  if (target > 0)
    g_print ("   p99 < %.0f", target);
  g_print ("\n");
}

static gdouble
pct_core_per_session (const CpuRun * r)
{
  if (r->wall_s <= 0 || r->sessions == 0)
    return 0;
  return 100.0 * r->cpu_s / r->wall_s / r->sessions;
}

static void
print_cpu_rows (const CpuRun * agent, const CpuRun * base, guint rounds,
    gdouble share_lo, gdouble share_hi)
{
  gdouble a = pct_core_per_session (agent), b = pct_core_per_session (base);
  gdouble others = agent->machine_busy_s - agent->cpu_s;

  g_print ("  %u session%s, %.1f s measured", agent->sessions,
      agent->sessions == 1 ? "" : "s", agent->wall_s);
  if (rounds > 1)
    g_print (" in %u rounds, alternating with the baseline", rounds);
  g_print (":\n");
  g_print ("    %-44s %8.3f %%   (%.5f CPU s per s)\n",
      "raw, with bidiagent (whole pipeline)", a, a / 100);
  g_print ("    %-44s %8.3f %%   (%.5f CPU s per s)\n",
      "baseline, audiotestsrc ! fakesink", b, b / 100);
  g_print ("    %-44s %8.3f %%   target < %.1f %%",
      "bidiagent's share (raw - baseline)", a - b, TARGET_CPU_PCT);
  if (rounds > 1)
    g_print ("   (rounds: %.3f .. %.3f)", share_lo, share_hi);
  g_print ("\n");
  if (agent->wall_s > 0 && base->wall_s > 0)
    g_print ("    %-44s %6.1f with, %6.1f baseline\n",
        "thread wake-ups per s per session",
        agent->switches / agent->wall_s / agent->sessions,
        base->switches / base->wall_s / base->sessions);
  g_print ("    %-44s %5.2f s in, %5.2f s out per s per session\n",
      "audio through bidiagent", agent->wall_s > 0 ? agent->audio_in_s /
      agent->wall_s / agent->sessions : 0, agent->wall_s > 0 ?
      agent->audio_out_s / agent->wall_s / agent->sessions : 0);
  g_print ("    %-44s steal %.1f %%, other load ~%.1f %% of all CPUs\n",
      "machine, bidiagent windows (/proc/stat)",
      agent->machine_total_s > 0 ? 100 * agent->machine_steal_s /
      agent->machine_total_s : 0, agent->machine_total_s > 0 ?
      100 * MAX (others, 0) / agent->machine_total_s : 0);
}

static gdouble
rss_per_session (const CpuRun * r, gint64 at)
{
  if (r->sessions == 0 || r->rss_before_kib < 0 || at < 0)
    return 0;
  return (gdouble) (at - r->rss_before_kib) / r->sessions;
}

int
main (int argc, char **argv)
{
  GOptionContext *ctx;
  GError *err = NULL;
  GstElementFactory *factory;
  guint sessions, seconds, samples;
  Stats int_signal, int_provider;
  AddedResult added, added_sync;
  guint samples_sync;
  CpuRun base1, agent1, baseN, agentN;
  gchar *model, *loadavg = NULL, *version;
  gint64 start = g_get_monotonic_time ();
  gdouble call_log_bytes, lo1, hi1, loN, hiN;
  guint rounds1;
  gboolean ok = TRUE, do_latency = TRUE, do_cpu = TRUE;

  ctx = g_option_context_new ("- bidiagent benchmarks");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("bidibench: %s\n", err->message);
    g_clear_error (&err);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  gst_init (NULL, NULL);

  if (opt_only && strcmp (opt_only, "latency") == 0) {
    do_cpu = FALSE;
  } else if (opt_only && strcmp (opt_only, "cpu") == 0) {
    do_latency = FALSE;
  } else if (opt_only) {
    g_printerr ("bidibench: --only takes \"latency\" or \"cpu\"\n");
    return 2;
  }
  sessions = opt_sessions > 0 ? (guint) opt_sessions : opt_quick ? 5 : 50;
  seconds = opt_seconds > 0 ? (guint) opt_seconds : opt_quick ? 2 : 10;
  samples = opt_samples > 0 ? (guint) opt_samples : opt_quick ? 30 : 300;
  samples_sync = MAX (samples / 5, 1);
  /* one session costs little: alternate short rounds against the drift */
  rounds1 = seconds >= 8 ? 4 : 1;
  if (samples > 10000) {
    g_printerr ("bidibench: at most 10000 samples\n");
    return 2;
  }

  factory = gst_element_factory_find ("bidiagent");
  if (!factory) {
    g_printerr ("bidibench: no bidiagent element; set GST_PLUGIN_PATH to "
        "the build's gst/bidiagent directory\n");
    return 1;
  }
  gst_object_unref (factory);
  gst_bidi_scripted_provider_register ();
  call_log_bytes = call_log_record_bytes ();

  model = cpu_model ();
  if (g_file_get_contents ("/proc/loadavg", &loadavg, NULL, NULL))
    g_strchomp (loadavg);
  version = gst_version_string ();
  g_print ("bidibench: gst-bidi %s, %s\n", VERSION, version);
  g_print ("machine: %u CPUs, %s; load average at start: %s\n",
      g_get_num_processors (), model, loadavg ? loadavg : "?");
  g_print ("run: %u latency samples per figure; CPU windows of %u s for 1 "
      "session (%u rounds) and %u sessions%s\n\n", samples, seconds,
      rounds1, sessions, opt_quick ? " (--quick)" : "");
  g_print ("[0/4] scripted provider call log: %.0f B per record\n",
      call_log_bytes);
  g_free (version);
  g_free (loadavg);
  g_free (model);

#define PHASE_DONE() g_print ("      done, %.0f s so far\n", \
    (g_get_monotonic_time () - start) / 1e6)
  if (do_latency) {
    g_print ("[1/4] added latency (fakesink sync=false, then sync=true) "
        "...\n");
    ok &= bench_added_latency (samples, FALSE, &added);
    if (ok)
      ok &= bench_added_latency (samples_sync, TRUE, &added_sync);
    PHASE_DONE ();
    g_print ("[2/4] interruption latency (signal, provider event) ...\n");
    if (ok)
      ok &= bench_interruption (samples, FALSE, &int_signal);
    if (ok)
      ok &= bench_interruption (samples, TRUE, &int_provider);
    PHASE_DONE ();
  }
  if (do_cpu) {
    g_print ("[3/4] CPU, 1 session (baseline, bidiagent) ...\n");
    if (ok)
      ok &= bench_cpu_pair (1, seconds, rounds1, &agent1, &base1, &lo1,
          &hi1);
    PHASE_DONE ();
    g_print ("[4/4] CPU and RSS, %u sessions (baseline, bidiagent) ...\n",
        sessions);
    if (ok)
      ok &= bench_cpu_pair (sessions, seconds, 1, &agentN, &baseN, &loN,
          &hiN);
    PHASE_DONE ();
  }
#undef PHASE_DONE

  if (!ok || have_error ()) {
    g_printerr ("bidibench: did not complete: %s\n",
        first_error ? first_error : "?");
    g_free (first_error);
    return 1;
  }

  if (do_latency) {
    g_print ("\n== latency, microseconds "
        "==============================================================\n");
    g_print ("  %-38s %5s %9s %9s %9s %9s   %s\n", "", "n", "p50", "p90",
        "p99", "max", "target");
    print_latency_row ("added: audio event -> src buffer", &added.push,
        TARGET_ADDED_P99_US);
    print_latency_row ("interrupt signal -> FLUSH_START", &int_signal,
        TARGET_INTERRUPT_P99_US);
    print_latency_row ("bidi_interruption -> FLUSH_START", &int_provider,
        TARGET_INTERRUPT_P99_US);
    g_print ("  with a sink that renders in real time (fakesink sync=true; "
        "informational):\n");
    print_latency_row ("  audio event -> src buffer", &added_sync.push, 0);
    print_latency_row ("  audio event -> rendered (handoff)",
        &added_sync.render, 0);
    g_print ("    answers that started after a hole in the output timeline: "
        "%u of %u, mean %.1f ms, max %.1f ms\n", added_sync.discont,
        added_sync.render.n, added_sync.hole_mean_ms, added_sync.hole_max_ms);
    g_print ("    (without that sink: %u of %u, mean %.1f ms, max %.1f ms)\n",
        added.discont, added.push.n, added.hole_mean_ms, added.hole_max_ms);
  }

  if (do_cpu) {
    gdouble with = rss_per_session (&agentN, agentN.rss_end_kib);
    gdouble base = rss_per_session (&baseN, baseN.rss_end_kib);
    gdouble log = agentN.sessions ? agentN.calls_end * call_log_bytes /
        1024.0 / agentN.sessions : 0;

    g_print ("\n== CPU per session, %% of one core "
        "(24 kHz mono S16 both ways, echo provider) =========\n");
    print_cpu_rows (&agent1, &base1, rounds1, lo1, hi1);
    print_cpu_rows (&agentN, &baseN, 1, loN, hiN);

    g_print ("\n== RSS per session, KiB (%u sessions, after %.0f s) "
        "=======================================\n", sessions,
        agentN.wall_s + CPU_WARMUP_US / 1e6);
    g_print ("    %-44s %8.1f   (growth in the window: %+.1f)\n",
        "raw, with bidiagent (whole pipeline)", with,
        with - rss_per_session (&agentN, agentN.rss_start_kib));
    g_print ("    %-44s %8.1f   (%.0f records of %.0f B)\n",
        "  of which the scripted provider's call log", log,
        agentN.sessions ? (gdouble) agentN.calls_end / agentN.sessions : 0,
        call_log_bytes);
    g_print ("    %-44s %8.1f   (growth in the window: %+.1f)\n",
        "baseline, audiotestsrc ! fakesink", base,
        base - rss_per_session (&baseN, baseN.rss_start_kib));
    g_print ("    %-44s %8.1f\n", "bidiagent's share (raw - log - baseline)",
        with - log - base);
  }
  g_print ("\n(targets are for comparison only; nothing here fails on a "
      "time; %d warnings posted; total run %.0f s)\n",
      g_atomic_int_get (&n_warnings), (g_get_monotonic_time () - start) / 1e6);

  g_free (first_error);
  g_free (opt_only);
  gst_deinit ();
  return 0;
}
