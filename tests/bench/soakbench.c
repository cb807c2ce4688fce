/* gst-bidi: soak benchmarks (issue 13 §5)
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* soakbench: long runs that look for deadlocks, criticals and memory
 * growth, not for times. It prints figures for tests/bench/RESULTS.md; the
 * exit status is non-zero when a state change hangs, a GLib critical or
 * warning (or a GStreamer ERROR log, or an error message) comes, the mock
 * saw a protocol violation, or the memory of the long conversation grows.
 *
 *  1. states: --states random state changes (NULL, READY, PAUSED,
 *     PLAYING; seeded, the seed is printed) of
 *
 *       appsrc is-live=true (speech-like, paced) ! bidiagent provider=X !
 *         fakesink sync=true
 *
 *     for X = local (flite questions that its recognizer hears and its
 *     responder answers) and X = openai (against the mock OpenAI Realtime
 *     server, which answers every 200 ms of input with a paced answer, on
 *     every connection). Mostly the pipeline stays 0-200 ms in a state
 *     so that audio flows and answers are mid-flight, now and then
 *     --long-stay-ms so that answers complete. A change that has
 *     not completed after --state-timeout seconds is a deadlock: the
 *     threads' stacks are dumped (gdb) and the run ends.
 *  2. conversation: one openai session against the mock for
 *     --conversation-minutes of audio (input + output), pushed faster
 *     than real time (appsrc is-live=false, fakesink sync=false, the
 *     mock's answers unpaced). The RSS (after malloc_trim) is read every
 *     simulated minute; from the end of the warm-up to the end it must
 *     not grow more than 1%, once what grows by design is taken out: the
 *     element's conversation history (which keeps up to
 *     GST_BIDI_HISTORY_MAX_MESSAGES messages; its cost per message is
 *     measured on a GstBidiHistory alone) and the mock's record of the
 *     conversation (measured when the mock is freed). With GLib < 2.76 run
 *     it with G_SLICE=always-malloc (meson does): the slice allocator
 *     trims its caches on wall-clock time, which a run this fast does not
 *     give it.
 *
 * Nothing goes beyond 127.0.0.1; the API key is a fake one.
 * Run: meson test -C build --benchmark -v soakbench, or
 *      G_SLICE=always-malloc GST_PLUGIN_PATH=build/gst/bidiagent \
 *        build/tests/bench/soakbench
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <gst/gst.h>

#include <gst/bidi/gstbidihistory.h>

#include "mockrealtime.h"
#include "gstbiditts.h"
#include "benchutil.h"

#define BPF 2
#define CHUNK_MS 20
#define FAKE_KEY "sk-soak-not-a-real-key-0123456789"
#define WAIT_MS 60000
#define FLAT_PERCENT 1.0

static gint opt_states = 1000;
static gint opt_minutes = 60;
static gint opt_warmup = 5;
static gint opt_user_ms = 2000;
static gint opt_answer_ms = 2000;
static gint opt_timeout_s = 30;
static gint opt_max_pause_ms = 200;
static gint opt_long_stay_ms = 6000;
static gint64 opt_seed = -1;
static gchar *opt_providers = NULL;
static gchar *opt_only = NULL;

static GOptionEntry entries[] = {
  {"states", 'n', 0, G_OPTION_ARG_INT, &opt_states,
      "Random state changes per provider (default 1000)", "N"},
  {"providers", 'p', 0, G_OPTION_ARG_STRING, &opt_providers,
      "Providers of the state run (default \"local,openai\")", "LIST"},
  {"seed", 's', 0, G_OPTION_ARG_INT64, &opt_seed,
      "Seed of the random state changes (default: from the time)", "SEED"},
  {"state-timeout", 't', 0, G_OPTION_ARG_INT, &opt_timeout_s,
      "Seconds a state change may take before it is a deadlock (default 30)",
      "S"},
  {"max-pause-ms", 0, 0, G_OPTION_ARG_INT, &opt_max_pause_ms,
      "Longest random stay in a state (default 200)", "MS"},
  {"long-stay-ms", 0, 0, G_OPTION_ARG_INT, &opt_long_stay_ms,
        "One step in 20 stays this long, for answers to complete "
        "(default 6000)", "MS"},
  {"conversation-minutes", 'm', 0, G_OPTION_ARG_INT, &opt_minutes,
      "Minutes of conversation audio, input + output (default 60)", "M"},
  {"warmup-minutes", 'w', 0, G_OPTION_ARG_INT, &opt_warmup,
      "Memory is compared from this simulated minute on (default 5)", "M"},
  {"user-ms", 'u', 0, G_OPTION_ARG_INT, &opt_user_ms,
      "Audio of each user turn in the conversation (default 2000)", "MS"},
  {"answer-ms", 'a', 0, G_OPTION_ARG_INT, &opt_answer_ms,
      "Audio of each answer in the conversation (default 2000)", "MS"},
  {"only", 'o', 0, G_OPTION_ARG_STRING, &opt_only,
      "Run only \"states\" or \"conversation\"", "RUN"},
  {NULL, 0, 0, 0, NULL, NULL, NULL}
};

/* ------------------------------------------------------------------------
 * Problems that are not times: GLib criticals and warnings, GStreamer
 * ERROR logs (WARNING logs are counted and shown, as the element warns on
 * purpose, e.g. about dropped live input)
 * ------------------------------------------------------------------------ */

static gint n_glib_problems, n_gst_errors, n_gst_warnings;
static GMutex warn_lock;
static GHashTable *warn_where;   /* "category file:line" -> count */

static void
log_handler (const gchar * domain, GLogLevelFlags level, const gchar * msg,
    gpointer user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL |
          G_LOG_LEVEL_WARNING))
    g_atomic_int_inc (&n_glib_problems);
  g_log_default_handler (domain, level, msg, user_data);
}

static void
gst_log_counter (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, G_GNUC_UNUSED gpointer user_data)
{
  gint n;

  gchar *where;

  if (level == GST_LEVEL_ERROR)
    n = g_atomic_int_add (&n_gst_errors, 1);
  else if (level == GST_LEVEL_WARNING)
    n = g_atomic_int_add (&n_gst_warnings, 1);
  else
    return;
  where = g_strdup_printf ("%s %s %s:%d", gst_debug_level_get_name (level),
      gst_debug_category_get_name (category), file, line);
  g_mutex_lock (&warn_lock);
  g_hash_table_insert (warn_where, where, GINT_TO_POINTER (GPOINTER_TO_INT
          (g_hash_table_lookup (warn_where, where)) + 1));
  g_mutex_unlock (&warn_lock);
  /* the first few of each, as GStreamer would have printed them */
  if (n < 5)
    gst_debug_log_default (category, level, file, function, line, object,
        message, NULL);
}

/* Where the GStreamer ERROR and WARNING logs came from */
static void
print_log_sources (void)
{
  GHashTableIter it;
  gpointer key, value;

  g_mutex_lock (&warn_lock);
  g_hash_table_iter_init (&it, warn_where);
  while (g_hash_table_iter_next (&it, &key, &value))
    g_print ("  %6d x %s\n", GPOINTER_TO_INT (value), (gchar *) key);
  g_mutex_unlock (&warn_lock);
}

static void
problems_init (void)
{
  warn_where = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_log_set_default_handler (log_handler, NULL);
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (gst_log_counter, NULL, NULL);
  if (!g_getenv ("GST_DEBUG"))
    gst_debug_set_default_threshold (GST_LEVEL_WARNING);
}

/* ------------------------------------------------------------------------
 * Watchdog: a state change that does not return is a deadlock even when
 * gst_element_set_state() itself never returns
 * ------------------------------------------------------------------------ */

static GMutex watch_lock;
static gchar *watch_what;       /* the transition under way, or NULL */
static gint64 watch_since;

static void
dump_threads (void)
{
  gchar *pid = g_strdup_printf ("%d", (gint) getpid ());
  const gchar *argv[] = { "gdb", "-p", pid, "-batch", "-nx", "-ex",
    "thread apply all bt", NULL
  };

  g_printerr ("soakbench: the threads' stacks (gdb):\n");
  if (!g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH,
          NULL, NULL, NULL, NULL, NULL, NULL))
    g_printerr ("  (gdb could not run)\n");
  g_free (pid);
}

static void
deadlock (const gchar * what, gint64 waited_us)
{
  g_printerr ("soakbench: DEADLOCK: %s did not complete in %.1f s\n", what,
      waited_us / 1e6);
  dump_threads ();
  _exit (3);
}

static gpointer
watchdog (G_GNUC_UNUSED gpointer data)
{
  for (;;) {
    gint64 now;

    g_usleep (G_USEC_PER_SEC);
    now = g_get_monotonic_time ();
    g_mutex_lock (&watch_lock);
    /* get_state's own timeout catches most; this one catches a
     * set_state that never returns */
    if (watch_what && now - watch_since > (opt_timeout_s + 10) *
        G_USEC_PER_SEC)
      deadlock (watch_what, now - watch_since);
    g_mutex_unlock (&watch_lock);
  }
  return NULL;
}

static void
watch (const gchar * what)
{
  g_mutex_lock (&watch_lock);
  g_free (watch_what);
  watch_what = g_strdup (what);
  watch_since = g_get_monotonic_time ();
  g_mutex_unlock (&watch_lock);
}

/* ------------------------------------------------------------------------
 * Memory
 * ------------------------------------------------------------------------ */

typedef struct
{
  glong rss, anon, heap;        /* KiB; heap: malloc'd in use, -1 unknown */
  glong heap_free;              /* KiB held by malloc, free */
} Mem;

static Mem
mem_now (void)
{
  Mem m;

#ifdef __GLIBC__
  malloc_trim (0);
#endif
  m.rss = bench_status_kib ("VmRSS:");
  m.anon = bench_status_kib ("RssAnon:");
  m.heap = m.heap_free = -1;
#if defined (__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  {
    struct mallinfo2 mi = mallinfo2 ();
    m.heap = (glong) ((mi.uordblks + mi.hblkhd) / 1024);
    m.heap_free = (glong) (mi.fordblks / 1024);
  }
#endif
  return m;
}

/* ------------------------------------------------------------------------
 * The mock's answers: one user turn and the model's answer to it, the
 * way the server VAD would report them
 * ------------------------------------------------------------------------ */

static MockRealtime *mock;

static const gchar *
session_created (void)
{
  return "{\"type\":\"session.created\",\"session\":{\"type\":\"realtime\","
      "\"object\":\"realtime.session\",\"id\":\"sess_soak\",\"model\":"
      "\"gpt-realtime\",\"output_modalities\":[\"audio\"],\"audio\":"
      "{\"input\":{\"format\":{\"type\":\"audio/pcm\",\"rate\":24000}},"
      "\"output\":{\"format\":{\"type\":\"audio/pcm\",\"rate\":24000},"
      "\"voice\":\"alloy\"}}}}";
}

static void
script_add_setup (MockRealtimeScript * script)
{
  mock_realtime_script_send (script, session_created ());
  mock_realtime_script_wait (script, "session.update", 1, WAIT_MS);
  mock_realtime_script_send_session_updated (script);
}

/* Turn @n (unique in the connection): the user item with its
 * transcription, then an answer of @pcm (24 kHz S16LE) in 100 ms deltas
 * and its transcript. @vad: the server's speech_started / speech_stopped
 * come first; speech_started while the answer before is still audible is a
 * barge-in that cuts it. */
static void
script_add_turn (MockRealtimeScript * script, guint n, gconstpointer pcm,
    gsize size, gboolean paced, gboolean vad)
{
  gchar *user = g_strdup_printf ("{\"id\":\"item_u%u\",\"object\":"
      "\"realtime.item\",\"type\":\"message\",\"role\":\"user\",\"status\":"
      "\"completed\",\"content\":[{\"type\":\"input_audio\","
      "\"transcript\":null}]}", n);
  gchar *ids = g_strdup_printf ("\"response_id\":\"resp_%u\",\"item_id\":"
      "\"item_a%u\",\"output_index\":0,\"content_index\":0", n, n);
  gchar *item_start = g_strdup_printf ("{\"id\":\"item_a%u\",\"object\":"
      "\"realtime.item\",\"type\":\"message\",\"role\":\"assistant\","
      "\"status\":\"in_progress\",\"content\":[]}", n);
  gchar *item_done = g_strdup_printf ("{\"id\":\"item_a%u\",\"object\":"
      "\"realtime.item\",\"type\":\"message\",\"role\":\"assistant\","
      "\"status\":\"completed\",\"content\":[{\"type\":\"output_audio\","
      "\"transcript\":\"Answer number %u.\"}]}", n, n);
  gchar *resp_id = g_strdup_printf ("resp_%u", n);
  gchar *item_id = g_strdup_printf ("item_a%u", n);

  if (vad) {
    mock_realtime_script_send_printf (script, "{\"type\":"
        "\"input_audio_buffer.speech_started\",\"audio_start_ms\":0,"
        "\"item_id\":\"item_u%u\"}", n);
    mock_realtime_script_send_printf (script, "{\"type\":"
        "\"input_audio_buffer.speech_stopped\",\"audio_end_ms\":%u,"
        "\"item_id\":\"item_u%u\"}", opt_user_ms, n);
  }
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"input_audio_buffer.committed\",\"item_id\":\"item_u%u\","
      "\"previous_item_id\":null}", n);
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"conversation.item.added\",\"previous_item_id\":null,\"item\":%s}",
      user);
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"conversation.item.done\",\"previous_item_id\":null,\"item\":%s}",
      user);
  mock_realtime_script_send_printf (script, "{\"type\":\"response.created\","
      "\"response\":{\"id\":\"resp_%u\",\"object\":\"realtime.response\","
      "\"status\":\"in_progress\",\"status_details\":null,\"output\":[],"
      "\"conversation_id\":\"conv_soak\",\"output_modalities\":[\"audio\"],"
      "\"usage\":null,\"metadata\":null}}", n);
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"conversation.item.input_audio_transcription.completed\","
      "\"item_id\":\"item_u%u\",\"content_index\":0,\"transcript\":"
      "\"Question number %u.\",\"usage\":{\"type\":\"duration\","
      "\"seconds\":1.0}}", n, n);
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"response.output_item.added\",\"response_id\":\"resp_%u\","
      "\"output_index\":0,\"item\":%s}", n, item_start);
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"conversation.item.added\",\"previous_item_id\":\"item_u%u\","
      "\"item\":%s}", n, item_start);
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"response.content_part.added\",%s,\"part\":{\"type\":\"audio\","
      "\"transcript\":\"\"}}", ids);
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"response.output_audio_transcript.delta\",%s,\"delta\":\"Answer \"}",
      ids);
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"response.output_audio_transcript.delta\",%s,\"delta\":\"number "
      "%u.\"}", ids, n);
  mock_realtime_script_send_audio (script, pcm, size, 100, paced, resp_id,
      item_id, 0, 0);
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"response.output_audio.done\",%s}", ids);
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"response.output_audio_transcript.done\",%s,\"transcript\":"
      "\"Answer number %u.\"}", ids, n);
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"response.content_part.done\",%s,\"part\":{\"type\":\"audio\","
      "\"transcript\":\"Answer number %u.\"}}", ids, n);
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"response.output_item.done\",\"response_id\":\"resp_%u\","
      "\"output_index\":0,\"item\":%s}", n, item_done);
  mock_realtime_script_send_printf (script, "{\"type\":"
      "\"conversation.item.done\",\"previous_item_id\":\"item_u%u\","
      "\"item\":%s}", n, item_done);
  mock_realtime_script_send_printf (script, "{\"type\":\"response.done\","
      "\"response\":{\"id\":\"resp_%u\",\"object\":\"realtime.response\","
      "\"status\":\"completed\",\"status_details\":null,\"output\":[%s],"
      "\"conversation_id\":\"conv_soak\",\"output_modalities\":[\"audio\"],"
      "\"usage\":null,\"metadata\":null}}", n, item_done);
  g_free (user);
  g_free (ids);
  g_free (item_start);
  g_free (item_done);
  g_free (resp_id);
  g_free (item_id);
}

/* A tone with some noise, 24 kHz */
static GBytes *
make_tone (guint ms, GRand * rng)
{
  gsize i, n = (gsize) 24 * ms;
  gint16 *pcm = g_new (gint16, n);

  for (i = 0; i < n; i++)
    pcm[i] = (gint16) (3000 * sin (2 * G_PI * 220 * i / 24000.0) +
        g_rand_double_range (rng, -300, 300));
  return g_bytes_new_take (pcm, n * BPF);
}

/* ------------------------------------------------------------------------
 * A session: pipeline, bus and src pad counters
 * ------------------------------------------------------------------------ */

typedef struct
{
  GstElement *pipeline, *src, *agent;
  GBytes *pcm;                  /* what the source loops (states) */
  gsize pos;
  guint rate;
  gint64 next_us;               /* the next chunk is due (states) */

  GMutex lock;
  GCond cond;
  guint completes, bidi_errors, errors, connects;
  guint64 out_samples;          /* answer samples out of the src pad */
} Sess;

static GstBusSyncReply
sess_bus (G_GNUC_UNUSED GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Sess *s = user_data;
  const GstStructure *st = gst_message_get_structure (msg);

  g_mutex_lock (&s->lock);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gchar *dbg = NULL;

    gst_message_parse_error (msg, &err, &dbg);
    if (s->errors++ < 5)
      g_printerr ("soakbench: error from %s: %s (%s)\n",
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message,
          GST_STR_NULL (dbg));
    g_error_free (err);
    g_free (dbg);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && st) {
    if (gst_structure_has_name (st, "bidi_response_complete"))
      s->completes++;
    else if (gst_structure_has_name (st, "bidi_error"))
      s->bidi_errors++;
    else if (gst_structure_has_name (st, "bidi_connection_start"))
      s->connects++;
  }
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

static GstPadProbeReturn
sess_probe (G_GNUC_UNUSED GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  Sess *s = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
    g_mutex_lock (&s->lock);
    s->out_samples += gst_buffer_get_size (buf) / BPF;
    g_cond_broadcast (&s->cond);
    g_mutex_unlock (&s->lock);
  }
  return GST_PAD_PROBE_OK;
}

static Sess *
sess_new (const gchar * provider, guint rate, gboolean live)
{
  Sess *s = g_new0 (Sess, 1);
  GError *err = NULL;
  gchar *desc;
  GstPad *pad;
  GstBus *bus;

  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  s->rate = rate;
  /* live: timestamps from the clock; not live: ours, pushed as fast as
   * appsrc takes them (block=true) */
  desc = g_strdup_printf ("appsrc name=src format=time is-live=%s "
      "do-timestamp=%s block=true max-bytes=%u caps=audio/x-raw,"
      "format=S16LE,rate=%u,channels=1,layout=interleaved ! "
      "bidiagent name=agent provider=%s ! fakesink sync=%s",
      live ? "true" : "false", live ? "true" : "false", rate * BPF / 5,
      rate, provider, live ? "true" : "false");
  s->pipeline = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!s->pipeline)
    g_error ("pipeline: %s", err->message);
  s->src = gst_bin_get_by_name (GST_BIN (s->pipeline), "src");
  s->agent = gst_bin_get_by_name (GST_BIN (s->pipeline), "agent");
  if (mock)
    g_object_set (s->agent, "url", mock_realtime_url (mock), "api-key",
        FAKE_KEY, NULL);
  pad = gst_element_get_static_pad (s->agent, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, sess_probe, s, NULL);
  gst_object_unref (pad);
  bus = gst_element_get_bus (s->pipeline);
  gst_bus_set_sync_handler (bus, sess_bus, s, NULL);
  gst_object_unref (bus);
  return s;
}

static void
sess_free (Sess * s)
{
  GstBus *bus = gst_element_get_bus (s->pipeline);

  watch ("the final change to NULL");
  gst_element_set_state (s->pipeline, GST_STATE_NULL);
  watch (NULL);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  gst_object_unref (s->src);
  gst_object_unref (s->agent);
  gst_object_unref (s->pipeline);
  if (s->pcm)
    g_bytes_unref (s->pcm);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s);
}

/* ------------------------------------------------------------------------
 * 1. Random state changes
 * ------------------------------------------------------------------------ */

/* appsrc's streaming thread asks for more: the next 20 ms of the loop, in
 * real time like a capture device (after a stay in PAUSED it starts again
 * from now rather than catching up) */
static void
need_data (GstElement * src, G_GNUC_UNUSED guint length, gpointer user_data)
{
  Sess *s = user_data;
  gsize size, chunk = (gsize) s->rate * CHUNK_MS / 1000 * BPF;
  const guint8 *pcm = g_bytes_get_data (s->pcm, &size);
  gint64 now = g_get_monotonic_time ();
  GstFlowReturn ret;
  GstBuffer *buf;

  if (s->next_us < now - 100 * 1000)
    s->next_us = now;
  bench_sleep_until (s->next_us);
  s->next_us += CHUNK_MS * 1000;
  if (s->pos + chunk > size)
    s->pos = 0;
  buf = gst_buffer_new_memdup (pcm + s->pos, chunk);
  s->pos += chunk;
  g_signal_emit_by_name (src, "push-buffer", buf, &ret);
  gst_buffer_unref (buf);
}

/* flite questions the local responder answers, 1.5 s apart, 16 kHz */
static GBytes *
make_questions (void)
{
  static const gchar *questions[] = { "what time is it",
    "what is twelve plus thirty", "what day is it"
  };
  GByteArray *a = g_byte_array_new ();
  guint8 *gap = g_malloc0 (16000 * BPF * 3 / 2);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (questions); i++) {
    GError *err = NULL;
    GBytes *b = gst_bidi_tts_synthesize_seeded ("slt", questions[i], 1, &err);
    gsize size;
    gconstpointer data;

    if (!b)
      g_error ("flite: %s", err->message);
    data = g_bytes_get_data (b, &size);
    g_byte_array_append (a, data, size);
    g_byte_array_append (a, gap, 16000 * BPF * 3 / 2);
    g_bytes_unref (b);
  }
  g_free (gap);
  return g_byte_array_free_to_bytes (a);
}

/* Keeps a script ready for the next connections: setup, then forty turns,
 * each answering 200 ms of input (five 40 ms appends) with 600 ms of paced
 * audio */
static void
stock_scripts (guint * pushed, GBytes * answer)
{
  gsize size;
  gconstpointer pcm = g_bytes_get_data (answer, &size);

  while (*pushed < mock_realtime_n_connections (mock) + 2) {
    MockRealtimeScript *script = mock_realtime_script_new ();
    guint i;

    script_add_setup (script);
    for (i = 0; i < 40; i++) {
      mock_realtime_script_wait (script, "input_audio_buffer.append", 5,
          600000);
      script_add_turn (script, i, pcm, size, TRUE, TRUE);
    }
    mock_realtime_push_script (mock, script);
    (*pushed)++;
  }
}

static const gchar *
state_name (GstState s)
{
  return gst_element_state_get_name (s);
}

/* One change to @target; its time in ms, or -1 after a failure */
static gdouble
change_state (Sess * s, GstState from, GstState target, guint step)
{
  gchar *what = g_strdup_printf ("step %u, %s -> %s", step, state_name (from),
      state_name (target));
  gint64 t0 = g_get_monotonic_time ();
  GstStateChangeReturn ret;
  GstState cur = GST_STATE_VOID_PENDING, pending;
  gdouble ms = -1;

  watch (what);
  ret = gst_element_set_state (s->pipeline, target);
  if (ret != GST_STATE_CHANGE_FAILURE)
    ret = gst_element_get_state (s->pipeline, &cur, &pending,
        (GstClockTime) opt_timeout_s * GST_SECOND);
  watch (NULL);
  if (ret == GST_STATE_CHANGE_ASYNC)
    deadlock (what, g_get_monotonic_time () - t0);
  if (ret == GST_STATE_CHANGE_FAILURE)
    bench_failed ("%s failed", what);
  else if (cur != target)
    bench_failed ("%s ended in %s", what, state_name (cur));
  else
    ms = (g_get_monotonic_time () - t0) / 1000.0;
  g_free (what);
  return ms;
}

static void
run_states (const gchar * provider, guint64 seed)
{
  gboolean openai = g_str_equal (provider, "openai");
  GRand *rng = g_rand_new_with_seed ((guint32) seed);
  GBytes *answer = NULL;
  GArray *times = g_array_new (FALSE, FALSE, sizeof (gdouble));
  guint kinds[4][4] = { {0,}, };
  gdouble kind_max[4][4] = { {0,}, };
  guint pushed = 0, i, from, to, paused_ms = 0, g0 = n_glib_problems;
  guint e0 = n_gst_errors, w0 = n_gst_warnings;
  GstState cur = GST_STATE_NULL;
  gint64 t0 = g_get_monotonic_time ();
  Mem m0, m1, m100 = { 0, 0, 0, 0 };
  Sess *s;

  g_print ("\n== %d random state changes, provider=%s (seed %" G_GUINT64_FORMAT
      ") ==\n", opt_states, provider, seed);
  if (openai) {
    mock = mock_realtime_new ();
    answer = make_tone (600, rng);
  }
  s = sess_new (provider, openai ? 24000 : 16000, TRUE);
  s->pcm = openai ? make_tone (3000, rng) : make_questions ();
  g_signal_connect (s->src, "need-data", G_CALLBACK (need_data), s);
  m0 = mem_now ();

  for (i = 0; i < (guint) opt_states; i++) {
    GstState target;
    gdouble ms;

    if (openai)
      stock_scripts (&pushed, answer);
    /* one of the three other states */
    target = (GstState) (GST_STATE_NULL + (cur - GST_STATE_NULL + 1 +
            g_rand_int_range (rng, 0, 3)) % 4);
    ms = change_state (s, cur, target, i);
    if (ms < 0)
      break;
    kinds[cur - GST_STATE_NULL][target - GST_STATE_NULL]++;
    kind_max[cur - GST_STATE_NULL][target - GST_STATE_NULL] =
        MAX (ms, kind_max[cur - GST_STATE_NULL][target - GST_STATE_NULL]);
    g_array_append_val (times, ms);
    cur = target;
    /* mostly let audio flow and answers start for a while, now and then
     * long enough for a question to be heard and answered */
    if (g_rand_int_range (rng, 0, 20) == 0) {
      g_usleep (opt_long_stay_ms * 1000);
      paused_ms += opt_long_stay_ms;
    } else if (g_rand_int_range (rng, 0, 10) < 7) {
      guint pause = g_rand_int_range (rng, 0, opt_max_pause_ms + 1);

      g_usleep (pause * 1000);
      paused_ms += pause;
    }
    if (i == 99)
      m100 = mem_now ();
  }
  change_state (s, cur, GST_STATE_NULL, i);
  m1 = mem_now ();

  g_print ("  transitions done: %u of %d in %.1f s (%.1f s of random stays)\n",
      times->len, opt_states, (g_get_monotonic_time () - t0) / 1e6,
      paused_ms / 1000.0);
  g_print ("  per kind (from -> to): count, longest in ms\n");
  for (from = 0; from < 4; from++)
    for (to = 0; to < 4; to++)
      if (from != to)
        g_print ("    %-8s -> %-8s %5u %9.1f\n",
            state_name (GST_STATE_NULL + from), state_name (GST_STATE_NULL +
                to), kinds[from][to], kind_max[from][to]);
  g_print ("  transition time, ms: median %.2f, p99 %.2f, max %.2f\n",
      bench_percentile (times, 0.5), bench_percentile (times, 0.99),
      bench_percentile (times, 1.0));
  g_print ("  answers completed: %u (%.1f s of answer audio out); "
      "bidi_error: %u; error messages: %u; connections "
      "(bidi_connection_start): %u\n", s->completes,
      s->out_samples / (gdouble) s->rate, s->bidi_errors, s->errors,
      s->connects);
  if (openai)
    g_print ("  mock: %u connections, %u protocol violations, %u script "
        "steps cut short (expected: a connection closes mid-script)\n",
        mock_realtime_n_connections (mock), mock_realtime_n_violations (mock),
        mock_realtime_n_failures (mock));
  g_print ("  GLib criticals/warnings: %d; GStreamer ERROR logs: %d, WARNING "
      "logs: %d\n", n_glib_problems - g0, n_gst_errors - e0,
      n_gst_warnings - w0);
  g_print ("  RSS, MiB: %.1f at the start, %.1f after 100 steps, %.1f at the "
      "end (RssAnon %.1f, %.1f, %.1f; malloc'd in use %.1f, %.1f, %.1f, free "
      "in malloc at the end %.1f)\n",
      m0.rss / 1024.0, m100.rss / 1024.0, m1.rss / 1024.0, m0.anon / 1024.0,
      m100.anon / 1024.0, m1.anon / 1024.0, m0.heap / 1024.0,
      m100.heap / 1024.0, m1.heap / 1024.0, m1.heap_free / 1024.0);

  if (s->errors)
    bench_failed ("%s: %u error messages", provider, s->errors);
  if (openai && mock_realtime_n_violations (mock)) {
    gchar *v = mock_realtime_get_violations (mock);

    bench_failed ("%s: protocol violations:\n%s", provider, v);
    g_free (v);
  }
  if (s->completes == 0)
    bench_failed ("%s: no answer completed: audio did not flow", provider);
  sess_free (s);
  if (mock) {
    glong h0 = mem_now ().heap;

    mock_realtime_free (mock);
    mock = NULL;
    g_print ("  heap freed with the pipeline: %.1f MiB, then with the mock "
        "(it keeps every client frame): %.1f MiB\n", (m1.heap -
            h0) / 1024.0, (h0 - mem_now ().heap) / 1024.0);
    g_bytes_unref (answer);
  }
  g_array_free (times, TRUE);
  g_rand_free (rng);
}

/* ------------------------------------------------------------------------
 * 2. A long conversation, faster than real time
 * ------------------------------------------------------------------------ */

/* The element's history as it would be handed out: messages and bytes */
static void
history_size (Sess * s, guint * messages, gsize * bytes)
{
  gchar *json = NULL, *p;

  g_object_get (s->agent, "history", &json, NULL);
  *messages = 0;
  *bytes = json ? strlen (json) : 0;
  for (p = json; p && (p = strstr (p, "\"role\"")); p++)
    (*messages)++;
  g_free (json);
}

/* Waits until @cond_fn holds (with s->lock held) */
static gboolean
sess_wait (Sess * s, gboolean (*cond_fn) (Sess *, gpointer), gpointer data)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;
  gboolean ok;

  g_mutex_lock (&s->lock);
  while (!(ok = cond_fn (s, data)) && !s->errors &&
      g_cond_wait_until (&s->cond, &s->lock, end));
  g_mutex_unlock (&s->lock);
  return ok;
}

static gboolean
connected (Sess * s, G_GNUC_UNUSED gpointer data)
{
  return s->connects > 0;
}

/* The answer is complete and all its audio left the src pad */
static gboolean
answered (Sess * s, gpointer data)
{
  guint turns = GPOINTER_TO_UINT (data);

  return s->completes >= turns &&
      s->out_samples >= (guint64) turns * opt_answer_ms * 24;
}

/* Pushes @ms of @pcm from the running position with our timestamps, as
 * fast as appsrc takes it */
static gboolean
push_turn (Sess * s, guint ms, GstClockTime * pts)
{
  gsize size, chunk = 24 * CHUNK_MS * BPF;
  const guint8 *pcm = g_bytes_get_data (s->pcm, &size);
  guint i;

  for (i = 0; i < ms / CHUNK_MS; i++) {
    GstBuffer *buf;
    GstFlowReturn ret;

    if (s->pos + chunk > size)
      s->pos = 0;
    buf = gst_buffer_new_memdup (pcm + s->pos, chunk);
    s->pos += chunk;
    GST_BUFFER_PTS (buf) = *pts;
    GST_BUFFER_DURATION (buf) = CHUNK_MS * GST_MSECOND;
    *pts += CHUNK_MS * GST_MSECOND;
    g_signal_emit_by_name (s->src, "push-buffer", buf, &ret);
    gst_buffer_unref (buf);
    if (ret != GST_FLOW_OK)
      return FALSE;
  }
  return TRUE;
}

/* Waits until the mock received @bytes of input audio, but for what the
 * element may keep back as the start of its next chunk */
static gboolean
wait_input (gsize bytes)
{
  gsize slack = 24 * 100 * BPF;
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

  while (mock_realtime_get_audio_bytes (mock, 0) + slack < bytes) {
    if (g_get_monotonic_time () > end)
      return FALSE;
    g_usleep (1000);
  }
  return TRUE;
}

typedef struct
{
  gdouble minute;
  guint turns;
  Mem mem;
  guint hist_messages;
  gsize hist_bytes;
} Sample;

static void
print_samples (GArray * samples)
{
  guint i;

  g_print ("  minute   VmRSS KiB  RssAnon KiB  heap KiB  history msgs  "
      "history bytes\n");
  for (i = 0; i < samples->len; i++) {
    Sample *x = &g_array_index (samples, Sample, i);

    g_print ("  %6.1f  %10ld  %11ld  %8ld  %12u  %13" G_GSIZE_FORMAT "\n",
        x->minute, x->mem.rss, x->mem.anon, x->mem.heap, x->hist_messages,
        x->hist_bytes);
  }
}

/* What one message of the conversation costs in a GstBidiHistory, in
 * bytes of heap: @n messages like the conversation's (a question, an
 * answer, ...) added to an empty one. Measured while nothing else runs. */
static gdouble
history_message_cost (guint n)
{
  GstBidiHistory *h = gst_bidi_history_new ();
  glong before, after;
  guint i;

  before = mem_now ().heap;
  for (i = 0; i < n; i++) {
    gchar *text = g_strdup_printf ("%s number %u.", i % 2 ? "Answer" :
        "Question", i / 2);

    gst_bidi_history_add_text (h, i % 2, text, NULL);
    g_free (text);
  }
  after = mem_now ().heap;
  gst_bidi_history_free (h);
  return (after - before) * 1024.0 / n;
}

/* The flatness check: from the first sample at or after the warm-up to
 * the last one, with what grows by design taken out: the element's
 * history (@msg_cost bytes a message) and the mock's record of the
 * conversation (@mock_kib at the end, for all the turns) */
static void
judge_samples (GArray * samples, gdouble msg_cost, glong mock_kib)
{
  Sample *a = NULL, *b;
  glong grow, hist, mockg, heap;
  gdouble raw, net;
  guint i;

  for (i = 0; i < samples->len && !a; i++)
    if (g_array_index (samples, Sample, i).minute >= opt_warmup)
      a = &g_array_index (samples, Sample, i);
  b = &g_array_index (samples, Sample, samples->len - 1);
  if (!a || a == b) {
    bench_failed ("conversation: too short for the memory check (warm-up "
        "%d min)", opt_warmup);
    return;
  }
  grow = b->mem.rss - a->mem.rss;
  heap = b->mem.heap - a->mem.heap;
  hist = (glong) ((b->hist_messages - a->hist_messages) * msg_cost / 1024);
  mockg = b->turns ? mock_kib * (glong) (b->turns - a->turns) /
      (glong) b->turns : 0;
  raw = 100.0 * grow / a->mem.rss;
  net = 100.0 * (grow - hist - mockg) / a->mem.rss;
  g_print ("  from minute %.1f to %.1f (turns %u to %u):\n", a->minute,
      b->minute, a->turns, b->turns);
  g_print ("    the element's history: %u -> %u messages (%" G_GSIZE_FORMAT
      " -> %" G_GSIZE_FORMAT " bytes of JSON); at %.0f bytes a message in "
      "memory (measured on a GstBidiHistory alone): %+ld KiB\n",
      a->hist_messages, b->hist_messages, a->hist_bytes, b->hist_bytes,
      msg_cost, hist);
  g_print ("    the mock's record of the conversation (%ld KiB freed with it "
      "at the end, pro rata): %+ld KiB\n", mock_kib, mockg);
  g_print ("    heap (malloc'd in use): %+ld KiB; without the two above "
      "%+ld KiB\n", heap, heap - hist - mockg);
  g_print ("    VmRSS: %+ld KiB = %+.2f%%; without the two above %+ld KiB = "
      "%+.2f%% (limit %.0f%%)\n", grow, raw, grow - hist - mockg, net,
      FLAT_PERCENT);
  if (net > FLAT_PERCENT)
    bench_failed ("conversation: memory grew %.2f%% (more than %.0f%%)", net,
        FLAT_PERCENT);
}

static void
run_conversation (void)
{
  GRand *rng = g_rand_new_with_seed (13);
  GBytes *answer = make_tone (opt_answer_ms, rng);
  GArray *samples = g_array_new (FALSE, FALSE, sizeof (Sample));
  GstClockTime pts = 0;
  gint64 t0 = g_get_monotonic_time ();
  guint turns = 0, g0 = n_glib_problems, e0 = n_gst_errors;
  gdouble in_ms = 0, out_ms = 0, next_minute = 0;
  MockRealtimeScript *script;
  gsize size;
  gconstpointer pcm = g_bytes_get_data (answer, &size);
  gdouble msg_cost = history_message_cost (2000);
  glong h0, h1, h2;
  Sess *s;

  g_print ("\n== conversation: %d minutes of audio (user turns %d ms, "
      "answers %d ms), faster than real time ==\n", opt_minutes,
      opt_user_ms, opt_answer_ms);
  if (glib_check_version (2, 76, 0) &&
      g_strcmp0 (g_getenv ("G_SLICE"), "always-malloc") != 0)
    g_print ("  (GLib < 2.76 without G_SLICE=always-malloc: its slice "
        "allocator trims its caches every few seconds of wall-clock time, "
        "too seldom for a run this fast, and they look like growth here)\n");
  mock = mock_realtime_new ();
  /* the input is counted, not kept: an hour of it would be a growth of
   * its own */
  mock_realtime_set_keep_audio (mock, FALSE);
  script = mock_realtime_script_new ();
  script_add_setup (script);
  mock_realtime_push_script (mock, script);
  s = sess_new ("openai", 24000, FALSE);
  s->pcm = make_tone (3000, rng);
  if (gst_element_set_state (s->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE || !sess_wait (s, connected, NULL)) {
    bench_failed ("conversation: no connection");
    goto done;
  }

  while (in_ms + out_ms < opt_minutes * 60000.0) {
    if ((in_ms + out_ms) / 60000.0 >= next_minute) {
      Sample x;

      x.minute = (in_ms + out_ms) / 60000.0;
      x.turns = turns;
      x.mem = mem_now ();
      history_size (s, &x.hist_messages, &x.hist_bytes);
      g_array_append_val (samples, x);
      next_minute += 1;
    }
    if (!push_turn (s, opt_user_ms, &pts) ||
        !wait_input ((gsize) (turns + 1) * opt_user_ms * 24 * BPF)) {
      bench_failed ("conversation: turn %u: the input did not get through",
          turns);
      break;
    }
    script = mock_realtime_script_new ();
    /* no speech_started: running ahead of the clock, every answer would
     * still be audible when the next question starts and be cut as a
     * barge-in; in real time it would have been heard to the end */
    script_add_turn (script, turns, pcm, size, FALSE, FALSE);
    mock_realtime_run (mock, 0, script);
    turns++;
    if (!sess_wait (s, answered, GUINT_TO_POINTER (turns))) {
      bench_failed ("conversation: turn %u: no complete answer", turns - 1);
      break;
    }
    in_ms = mock_realtime_get_audio_bytes (mock, 0) / (24.0 * BPF);
    g_mutex_lock (&s->lock);
    out_ms = s->out_samples / 24.0;
    g_mutex_unlock (&s->lock);
  }
  {
    Sample x;

    x.minute = (in_ms + out_ms) / 60000.0;
    x.turns = turns;
    x.mem = mem_now ();
    history_size (s, &x.hist_messages, &x.hist_bytes);
    g_array_append_val (samples, x);
  }

  g_print ("  %u turns; audio: %.1f min in, %.1f min out, in %.1f min of "
      "wall time (%.1fx real time)\n", turns, in_ms / 60000, out_ms / 60000,
      (g_get_monotonic_time () - t0) / 6e7,
      (in_ms + out_ms) / 1000.0 / ((g_get_monotonic_time () - t0) / 1e6));
  g_print ("  answers completed: %u; bidi_error: %u; error messages: %u; "
      "mock violations: %u, steps cut short: %u\n", s->completes,
      s->bidi_errors, s->errors, mock_realtime_n_violations (mock),
      mock_realtime_n_failures (mock));
  g_print ("  GLib criticals/warnings: %d; GStreamer ERROR logs: %d\n",
      n_glib_problems - g0, n_gst_errors - e0);
  print_samples (samples);
  if (s->errors || mock_realtime_n_violations (mock) ||
      mock_realtime_n_failures (mock))
    bench_failed ("conversation: errors, violations or failed script steps");

done:
  /* where the memory is: freed with the pipeline, or with the mock */
  h0 = mem_now ().heap;
  sess_free (s);
  h1 = mem_now ().heap;
  mock_realtime_free (mock);
  mock = NULL;
  h2 = mem_now ().heap;
  g_print ("  heap freed with the pipeline: %ld KiB, with the mock: %ld KiB "
      "(%ld KiB left)\n", h0 - h1, h1 - h2, h2);
  if (samples->len > 1)
    judge_samples (samples, msg_cost, h1 - h2);
  g_bytes_unref (answer);
  g_array_free (samples, TRUE);
  g_rand_free (rng);
}

/* ------------------------------------------------------------------------ */

int
main (int argc, char **argv)
{
  GOptionContext *ctx = g_option_context_new ("- soak benchmarks");
  GError *err = NULL;
  gchar **providers;
  guint64 seed;
  guint i;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  gst_init (&argc, &argv);
  bench_set_name ("soakbench");
  problems_init ();
  /* gdb, run from here, may look at this process's threads */
#ifdef PR_SET_PTRACER
  prctl (PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
#endif
  g_thread_unref (g_thread_new ("watchdog", watchdog, NULL));
  seed = opt_seed >= 0 ? (guint64) opt_seed :
      (guint64) (g_get_real_time () % 1000000);

  if (!opt_only || g_str_equal (opt_only, "states")) {
    providers = g_strsplit (opt_providers ? opt_providers : "local,openai",
        ",", -1);
    for (i = 0; providers[i]; i++)
      run_states (providers[i], seed);
    g_strfreev (providers);
  }
  if (!opt_only || g_str_equal (opt_only, "conversation"))
    run_conversation ();

  g_print ("\nGStreamer ERROR and WARNING logs, by source:\n");
  print_log_sources ();
  g_print ("(total: GLib criticals/warnings %d, GStreamer ERROR logs %d, "
      "WARNING logs %d; %d problems)\n", n_glib_problems, n_gst_errors,
      n_gst_warnings, bench_failures () + (n_glib_problems + n_gst_errors > 0));
  if (n_glib_problems + n_gst_errors > 0)
    bench_failed ("GLib criticals/warnings or GStreamer ERROR logs");
  return bench_failures () ? 1 : 0;
}
