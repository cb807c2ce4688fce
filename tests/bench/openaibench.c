/* gst-bidi: benchmarks of the realtime providers (OpenAI Realtime, Gemini
 * Live, Nova Sonic)
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* openaibench: prints figures of bidiagent with provider=openai and
 * provider=gemini and provider=nova-sonic for tests/bench/RESULTS.md, one
 * provider after the other in the same process, each against its mock
 * server of tests/check/common (mockrealtime.c, mockgemini.c: libsoup
 * WebSocket servers; mockbedrock.c: HTTP/2 over TLS; on 127.0.0.1, in a
 * thread of this process), so that every set of figures comes from the
 * same machine at the same time. It never fails on a time: the exit status
 * is non-zero only when something does not work.
 *
 * Each session is
 *
 *   appsrc is-live=true (S16LE mono at the provider's input rate, 24 kHz
 *     for openai, 16 kHz for gemini and nova-sonic; 20 ms every 20 ms) !
 *     bidiagent provider=openai|gemini|nova-sonic url=<mock> !
 *     fakesink sync=true
 *
 * and the mock answers it without a pause with answers of --answer-ms in
 * paced audio messages of --delta-ms (24 kHz), so audio flows both ways
 * all the time. OpenAI: a response.created ... response.done envelope
 * around response.output_audio.delta events; Gemini: serverContent
 * modelTurn audio messages, then turnComplete; Nova Sonic: a SPECULATIVE
 * text block, an AUDIO block of audioOutput events and a FINAL text block
 * ending the turn, each an event-stream chunk on the HTTP/2 response
 * (the client's side is signed, frame by frame). What differs between the
 * providers is only the mock and its scripts (the Mock table below). Runs,
 * for each provider (--provider, default all), one after the other:
 *
 *  0. one session comes and goes: what stays is the process's one-time
 *     cost (libraries, types, malloc arenas), not a session's
 *  1. one session, 2. --sessions sessions: CPU per session (getrusage over
 *     the window, with the CPU time of every thread read from
 *     /proc/self/task so that the mock's own thread can be taken out), RSS
 *     per session (VmRSS / RssAnon after malloc_trim), and the latency from
 *     the mock writing an audio delta to the socket to the first sample of
 *     that delta leaving bidiagent's src pad
 *  3. (openai only: its clients speak the OpenAI protocol) the same
 *     traffic between the mock and as many bare libsoup WebSocket clients
 *     (one thread, no GStreamer): what the mock and a minimal client cost,
 *     and the transport's share of the latency
 *  4. (openai only) the sessions again with fakesink sync=false (latency
 *     only): the delivery part of the latency, without waiting for the sink
 *
 * then, when several providers ran, a table of their figures side by
 * side.
 *
 * The mocks' sockets get TCP_NODELAY, as a production server's would;
 * without it (--mock-nagle) Nagle's algorithm holds each delta until the
 * client's delayed ACK, adding up to 40 ms.
 *
 * Matching deltas to buffers: the first four samples of every delta carry
 * a marker (a magic value, the session, the delta's number). The mock
 * reports when it sent each delta (mock_realtime_set_audio_sent_func (),
 * mock_gemini_set_audio_sent_func ()), a buffer probe on bidiagent's src
 * pad when the buffer holding it was pushed.
 *
 * Nothing goes beyond 127.0.0.1; the API keys are fake ones.
 * Run: meson test -C build --benchmark -v openaibench, or
 *      GST_PLUGIN_PATH=build/gst/bidiagent build/tests/bench/openaibench
 *      [--provider openai|gemini|nova-sonic|all] [--tls]
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <gst/gst.h>
#include <libsoup/soup.h>

#include "mockrealtime.h"
#include "testcert.h"
#ifdef HAVE_BENCH_GEMINI
#include "mockgemini.h"
#ifdef HAVE_BENCH_NOVA
#include "mockbedrock.h"
#endif
#endif
#include "benchutil.h"

/* the answers' rate, the same for both providers */
#define RATE 24000
#define BPF 2
#define IN_CHUNK_MS 20
#define MAGIC 0x7a5a
#define FAKE_KEY "sk-bench-not-a-real-key-0123456789"
#define TARGET_CPU_PERCENT 0.3
#define TARGET_RSS_MIB 3.0

static gboolean opt_quick = FALSE;
static gint opt_sessions = -1;
static gint opt_seconds = -1;
static gint opt_delta_ms = 40;
static gint opt_answer_ms = 1000;
static gint opt_stagger_ms = 20;
static gint opt_input_chunk_ms = 40;
static gboolean opt_no_extra = FALSE;
static gboolean opt_mock_nagle = FALSE;
static gboolean opt_tls = FALSE;
static gchar *opt_only = NULL;
static gchar *opt_provider = NULL;

static GOptionEntry entries[] = {
  {"quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick,
      "Short run, ~30 s (10 sessions, 5 s windows)", NULL},
  {"sessions", 'n', 0, G_OPTION_ARG_INT, &opt_sessions,
      "Sessions in the multi-session run (default 50, quick 10)", "N"},
  {"seconds", 's', 0, G_OPTION_ARG_INT, &opt_seconds,
      "Measured seconds of each window (default 20, quick 5)", "S"},
  {"delta-ms", 'd', 0, G_OPTION_ARG_INT, &opt_delta_ms,
      "Audio per response.output_audio.delta (default 40)", "MS"},
  {"answer-ms", 'a', 0, G_OPTION_ARG_INT, &opt_answer_ms,
      "Audio per answer (default 1000)", "MS"},
  {"stagger-ms", 'g', 0, G_OPTION_ARG_INT, &opt_stagger_ms,
      "Pause between two session starts (default 20)", "MS"},
  {"input-chunk-ms", 'i', 0, G_OPTION_ARG_INT, &opt_input_chunk_ms,
      "bidiagent's input-chunk-ms, and the bare clients' appends "
        "(default 40, the element's default)", "MS"},
  {"no-extra", 'x', 0, G_OPTION_ARG_NONE, &opt_no_extra,
      "Skip runs 3 and 4 (bare clients, sync=false)", NULL},
  {"tls", 0, 0, G_OPTION_ARG_NONE, &opt_tls,
        "OpenAI's mock over TLS (wss://, a certificate made for the run), "
        "as Nova Sonic's always is: TLS's share of the figures (skips runs "
        "3 and 4)", NULL},
  {"mock-nagle", 0, 0, G_OPTION_ARG_NONE, &opt_mock_nagle,
        "Leave Nagle's algorithm on the mock's sockets (no TCP_NODELAY)",
      NULL},
  {"only", 'o', 0, G_OPTION_ARG_STRING, &opt_only,
      "Run only \"one\", \"many\", \"clients\" or \"nosync\"", "RUN"},
  {"provider", 'p', 0, G_OPTION_ARG_STRING, &opt_provider,
      "\"openai\", \"gemini\", \"nova-sonic\" or \"all\" (default; \"both\" "
        "says the same), one after the other",
      "NAME"},
  {NULL, 0, 0, 0, NULL, NULL, NULL}
};


/* ------------------------------------------------------------------------
 * Measuring tools
 * ------------------------------------------------------------------------ */

static gdouble
process_cpu_s (struct rusage *ru)
{
  getrusage (RUSAGE_SELF, ru);
  return ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
      ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}


#if defined (__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
#define HAVE_MALLINFO2 1
#define HAVE_HEAP TRUE
#else
#define HAVE_HEAP FALSE
#endif

typedef struct
{
  glong rss, anon;
  glong heap;                   /* malloc'd and in use, all arenas; -1 */
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
#ifdef HAVE_MALLINFO2
  {
    struct mallinfo2 mi = mallinfo2 ();
    m.heap = (glong) ((mi.uordblks + mi.hblkhd) / 1024);
  }
#else
  m.heap = -1;
#endif
  return m;
}




/* CPU time per thread: the first field of /proc/self/task/TID/schedstat
 * is the time on CPU in ns (user + system, like getrusage) */
typedef enum
{
  T_MOCK,
  T_NET,
  T_AGENT_SRC,
  T_APPSRC,
  T_FEEDER,
  T_CLIENT,
  T_MAIN,
  T_OTHER,
  N_KINDS
} ThreadKind;

static const gchar *kind_names[N_KINDS] = {
  "mock server thread (not the sessions')",
  "bidiagent network threads (provider)",
  "bidiagent src tasks (+ fakesink)",
  "appsrc threads (+ bidiagent chain)",
  "bench feeder (push-buffer, scripts)",
  "bare WebSocket client thread",
  "bench main thread",
  "other threads",
};

typedef struct
{
  gint tid;
  ThreadKind kind;
  guint64 ns;
} ThreadCpu;

static ThreadKind
thread_kind (const gchar * comm, gint tid)
{
  if (tid == getpid ())
    return T_MAIN;
  if (strcmp (comm, "mockrealtime") == 0 || strcmp (comm, "mockgemini") == 0
      || strcmp (comm, "mockbedrock") == 0)
    return T_MOCK;
  if (strcmp (comm, "feeder") == 0)
    return T_FEEDER;
  if (strcmp (comm, "clients") == 0)
    return T_CLIENT;
  if (g_str_has_suffix (comm, ":net"))
    return T_NET;
  if (comm[0] == 'a' && g_str_has_suffix (comm, ":src"))
    return T_AGENT_SRC;
  if (comm[0] == 's' && g_str_has_suffix (comm, ":src"))
    return T_APPSRC;
  return T_OTHER;
}

static GArray *
threads_snapshot (void)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (ThreadCpu));
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir))) {
    gchar *path, *comm = NULL, *stat = NULL;
    ThreadCpu t;

    t.tid = atoi (name);
    path = g_strdup_printf ("/proc/self/task/%s/comm", name);
    g_file_get_contents (path, &comm, NULL, NULL);
    g_free (path);
    path = g_strdup_printf ("/proc/self/task/%s/schedstat", name);
    g_file_get_contents (path, &stat, NULL, NULL);
    g_free (path);
    if (comm && stat) {
      g_strchomp (comm);
      t.kind = thread_kind (comm, t.tid);
      t.ns = g_ascii_strtoull (stat, NULL, 10);
      g_array_append_val (a, t);
    }
    g_free (comm);
    g_free (stat);
  }
  if (dir)
    g_dir_close (dir);
  return a;
}

/* CPU seconds per kind between two snapshots (threads born in between
 * count from 0, threads gone are lost) */
static void
threads_diff (GArray * before, GArray * after, gdouble * secs)
{
  guint i, j;

  for (i = 0; i < N_KINDS; i++)
    secs[i] = 0;
  for (i = 0; i < after->len; i++) {
    ThreadCpu *t = &g_array_index (after, ThreadCpu, i);
    guint64 base = 0;

    for (j = 0; j < before->len; j++)
      if (g_array_index (before, ThreadCpu, j).tid == t->tid) {
        base = g_array_index (before, ThreadCpu, j).ns;
        break;
      }
    secs[t->kind] += (t->ns - MIN (base, t->ns)) / 1e9;
  }
}

/* ------------------------------------------------------------------------
 * Peers: a bidiagent session or a bare WebSocket client, with what the
 * mock sends it
 * ------------------------------------------------------------------------ */

typedef struct _Run Run;

/* One audio delta, by its number; monotonic times in µs, 0 = not yet */
typedef struct
{
  gint64 sent;                  /* the mock wrote it */
  gint64 got;                   /* its first sample left the src pad */
  gint64 due;                   /* ... to be rendered at (base time + PTS +
                                 * pipeline latency) */
} Delta;

typedef struct
{
  Run *run;
  guint index;                  /* in the run: the marker's session number */
  guint conn;                   /* the mock's connection number */

  GMutex lock;
  gboolean ready;               /* connected: answers may flow */
  gint64 t_start, t_ready;
  gchar *error;
  guint errors;                 /* bidi_error events */
  guint completes;              /* bidi_response_complete */
  Delta *deltas;                /* by delta number */
  guint n_sent;
  GstClockTime latency;         /* the pipeline's, from the LATENCY event */
  guint64 out_samples;          /* answer samples pushed (not GAP) */
  guint64 gap_buffers;          /* silence pushed */

  /* the feeder thread only */
  guint n_queued;               /* deltas given to the mock */
  guint n_answers;

  /* a session */
  GstElement *pipeline, *src, *agent;

  /* a bare client (its thread only) */
  SoupSession *soup;
  SoupWebsocketConnection *ws;
  guint64 rx_bytes;
} Peer;

struct _Run
{
  const gchar *what;
  gboolean clients;
  gboolean sync;
  guint n;
  Peer **peers;
  gint n_active;                /* atomic: peers the feeder serves */
  guint max_seq;                /* size of the per-delta arrays */
  guint conn_base;

  GMutex lock;
  GCond cond;
  guint n_ready;

  GThread *feeder;
  gint stop;                    /* atomic */

  /* bare clients: a thread with its own main context */
  GThread *client_thread;
  GMainContext *client_ctx;
  GMainLoop *client_loop;
  gchar *append_text;           /* a prebuilt input_audio_buffer.append */
  guint n_open;
};

static const gchar *mock_url;
/* the mock's certificate, for ssl-ca-file, when it speaks TLS (--tls) */
static TestCert mock_cert;
static const gchar *mock_ca_file;
static GMutex runs_lock;
static Run *current_run;        /* for the mock's audio callback */

static void
peer_set_ready (Peer * p)
{
  Run *run = p->run;
  gboolean first;

  g_mutex_lock (&p->lock);
  first = !p->ready;
  p->ready = TRUE;
  p->t_ready = g_get_monotonic_time ();
  g_mutex_unlock (&p->lock);
  if (first) {
    g_mutex_lock (&run->lock);
    run->n_ready++;
    g_cond_broadcast (&run->cond);
    g_mutex_unlock (&run->lock);
  }
}

static void
peer_set_error (Peer * p, const gchar * error)
{
  g_mutex_lock (&p->lock);
  if (!p->error)
    p->error = g_strdup (error);
  g_mutex_unlock (&p->lock);
  g_mutex_lock (&p->run->lock);
  g_cond_broadcast (&p->run->cond);
  g_mutex_unlock (&p->run->lock);
}

/* The marker in the first 4 samples of a delta: magic, session, number */
static void
marker_write (gint16 * pcm, guint session, guint seq)
{
  pcm[0] = GINT16_TO_LE (MAGIC);
  pcm[1] = GINT16_TO_LE ((gint16) session);
  pcm[2] = GINT16_TO_LE ((gint16) (seq & 0x7fff));
  pcm[3] = GINT16_TO_LE ((gint16) (seq >> 15));
}

static gboolean
marker_read (const guint8 * data, gsize size, guint * session, guint * seq)
{
  gint16 m[4];

  if (size < sizeof (m))
    return FALSE;
  memcpy (m, data, sizeof (m));
  if (GINT16_FROM_LE (m[0]) != MAGIC)
    return FALSE;
  *session = (guint16) GINT16_FROM_LE (m[1]);
  *seq = (guint) GINT16_FROM_LE (m[2]) | ((guint) GINT16_FROM_LE (m[3]) << 15);
  return TRUE;
}

static Peer *
run_peer (Run * run, guint session)
{
  return session < run->n ? run->peers[session] : NULL;
}

/* @sent: the mock wrote delta @seq at @t; else it was pushed at @t, to
 * be rendered at @due (0: unknown) */
static void
peer_record (Peer * p, guint seq, gboolean sent, gint64 t, gint64 due)
{
  Delta *d;

  if (seq >= p->run->max_seq)
    return;
  d = &p->deltas[seq];
  g_mutex_lock (&p->lock);
  if (sent) {
    d->sent = t;
    p->n_sent++;
  } else if (!d->got) {
    d->got = t;
    d->due = due;
  }
  g_mutex_unlock (&p->lock);
}

/* The mock's thread: a delta went to the socket */
static void
audio_sent_cb (G_GNUC_UNUSED guint conn, gconstpointer pcm, gsize size,
    gint64 sent_us, G_GNUC_UNUSED gpointer user_data)
{
  guint session, seq;
  Peer *p;

  if (!marker_read (pcm, size, &session, &seq))
    return;
  g_mutex_lock (&runs_lock);
  if (current_run && (p = run_peer (current_run, session)))
    peer_record (p, seq, TRUE, sent_us, 0);
  g_mutex_unlock (&runs_lock);
}

/* ------------------------------------------------------------------------
 * The mocks: what differs between the providers is only the server
 * ------------------------------------------------------------------------ */

typedef struct
{
  const gchar *name;            /* bidiagent's provider */
  const gchar *key;             /* a fake one */
  /* sets the credentials when an API key is not what the provider takes
   * (nullable) */
  void (*configure) (GstElement * agent);
  guint in_rate;                /* of the input bidiagent takes */
  gboolean extra;               /* runs 3 and 4 (bare OpenAI clients) */
  void (*start) (void);         /* a new mock with the bench's hooks */
  void (*finish) (void);        /* reports its complaints and frees it */
  void (*push_setup) (void);    /* the next connection's script */
  /* an answer of @size bytes of @pcm for @p's connection */
  void (*answer) (Peer * p, const gint16 * pcm, gsize size);
  guint (*n_connections) (void);
  gboolean (*wait_connections) (guint n, guint timeout_ms);
  gboolean (*wait_script_done) (guint conn, guint timeout_ms);
  gboolean (*wait_closed) (guint conn, guint timeout_ms);
  gsize (*audio_bytes) (void);  /* input received, all connections */
} Mock;

static const Mock *mk;          /* the provider being measured */

/* @n complaints of the mock, listed in @text (taken) */
static void
mock_complaints (const gchar * what, guint n, gchar * text)
{
  if (n > 0)
    bench_failed ("%s reported by the mock:\n%.2000s", what, text);
  g_free (text);
}

static MockRealtime *rt_mock;

static void
rt_start (void)
{
  if (opt_tls) {
    test_cert_init (&mock_cert);
    rt_mock = mock_realtime_new_tls (mock_cert.pem);
    mock_ca_file = mock_cert.cert;
  } else {
    rt_mock = mock_realtime_new ();
  }
  mock_url = mock_realtime_url (rt_mock);
  mock_realtime_set_keep_audio (rt_mock, FALSE);
  mock_realtime_set_audio_sent_func (rt_mock, audio_sent_cb, NULL);
  mock_realtime_set_tcp_nodelay (rt_mock, !opt_mock_nagle);
}

static void
rt_finish (void)
{
  mock_complaints ("protocol violations",
      mock_realtime_n_violations (rt_mock),
      mock_realtime_get_violations (rt_mock));
  mock_complaints ("script failures", mock_realtime_n_failures (rt_mock),
      mock_realtime_get_failures (rt_mock));
  g_clear_pointer (&rt_mock, mock_realtime_free);
  mock_ca_file = NULL;
  test_cert_clear (&mock_cert);
}

/* session.created; session.update awaited and answered */
static void
rt_push_setup (void)
{
  MockRealtimeScript *script = mock_realtime_script_new ();

  mock_realtime_script_send (script, "{\"type\":\"session.created\","
      "\"session\":{\"type\":\"realtime\",\"object\":\"realtime.session\","
      "\"id\":\"sess_bench\",\"model\":\"gpt-realtime\","
      "\"output_modalities\":[\"audio\"],\"audio\":{\"input\":{\"format\":"
      "{\"type\":\"audio/pcm\",\"rate\":24000}},\"output\":{\"format\":"
      "{\"type\":\"audio/pcm\",\"rate\":24000},\"voice\":\"alloy\"}}}}");
  mock_realtime_script_wait (script, "session.update", 1, 30000);
  mock_realtime_script_send_session_updated (script);
  mock_realtime_push_script (rt_mock, script);
}

/* response.created, the assistant item, paced audio, a pause of one delta
 * (a paced step sends its first delta at once: without it the answers
 * would run ahead of real time), then the done events */
static void
rt_answer (Peer * p, const gint16 * pcm, gsize size)
{
  MockRealtimeScript *script = mock_realtime_script_new ();
  gchar *resp = g_strdup_printf ("resp_%u_%u", p->index, p->n_answers);
  gchar *item = g_strdup_printf ("item_%u_%u", p->index, p->n_answers);

  mock_realtime_script_send_printf (script, "{\"type\":\"response.created\","
      "\"response\":{\"id\":\"%s\",\"object\":\"realtime.response\","
      "\"status\":\"in_progress\",\"status_details\":null,\"output\":[],"
      "\"conversation_id\":\"conv_1\",\"output_modalities\":[\"audio\"],"
      "\"usage\":null,\"metadata\":null}}", resp);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.output_item.added\",\"response_id\":\"%s\","
      "\"output_index\":0,\"item\":{\"id\":\"%s\",\"object\":"
      "\"realtime.item\",\"type\":\"message\",\"role\":\"assistant\","
      "\"status\":\"in_progress\",\"content\":[]}}", resp, item);
  mock_realtime_script_send_audio (script, pcm, size, opt_delta_ms, TRUE,
      resp, item, 0, 0);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.output_audio.done\",\"response_id\":\"%s\","
      "\"item_id\":\"%s\",\"output_index\":0,\"content_index\":0}", resp, item);
  mock_realtime_script_sleep (script, opt_delta_ms);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.output_item.done\",\"response_id\":\"%s\","
      "\"output_index\":0,\"item\":{\"id\":\"%s\",\"object\":"
      "\"realtime.item\",\"type\":\"message\",\"role\":\"assistant\","
      "\"status\":\"completed\",\"content\":[{\"type\":\"output_audio\","
      "\"transcript\":\"\"}]}}", resp, item);
  mock_realtime_script_send_printf (script, "{\"type\":\"response.done\","
      "\"response\":{\"id\":\"%s\",\"object\":\"realtime.response\","
      "\"status\":\"completed\",\"status_details\":null,\"output\":[],"
      "\"conversation_id\":\"conv_1\",\"output_modalities\":[\"audio\"],"
      "\"usage\":null,\"metadata\":null}}", resp);
  mock_realtime_run (rt_mock, p->conn, script);
  g_free (resp);
  g_free (item);
}

static guint
rt_n_connections (void)
{
  return mock_realtime_n_connections (rt_mock);
}

static gboolean
rt_wait_connections (guint n, guint timeout_ms)
{
  return mock_realtime_wait_connections (rt_mock, n, timeout_ms);
}

static gboolean
rt_wait_script_done (guint conn, guint timeout_ms)
{
  return mock_realtime_wait_script_done (rt_mock, conn, timeout_ms);
}

static gboolean
rt_wait_closed (guint conn, guint timeout_ms)
{
  return mock_realtime_wait_closed (rt_mock, conn, timeout_ms);
}

static gsize
rt_audio_bytes (void)
{
  return mock_realtime_get_audio_bytes (rt_mock,
      MOCK_REALTIME_ANY_CONNECTION);
}

#ifdef HAVE_BENCH_GEMINI
static MockGemini *gm_mock;

static void
gm_start (void)
{
  gm_mock = mock_gemini_new ();
  mock_url = mock_gemini_url (gm_mock);
  mock_gemini_set_keep_audio (gm_mock, FALSE);
  mock_gemini_set_audio_sent_func (gm_mock, audio_sent_cb, NULL);
  mock_gemini_set_tcp_nodelay (gm_mock, !opt_mock_nagle);
}

static void
gm_finish (void)
{
  mock_complaints ("protocol violations", mock_gemini_n_violations (gm_mock),
      mock_gemini_get_violations (gm_mock));
  mock_complaints ("script failures", mock_gemini_n_failures (gm_mock),
      mock_gemini_get_failures (gm_mock));
  g_clear_pointer (&gm_mock, mock_gemini_free);
}

static void
gm_push_setup (void)
{
  MockGeminiScript *script = mock_gemini_script_new ();

  mock_gemini_script_setup (script, 30000);
  mock_gemini_push_script (gm_mock, script);
}

/* paced modelTurn audio, the same pause as OpenAI's, turnComplete */
static void
gm_answer (Peer * p, const gint16 * pcm, gsize size)
{
  MockGeminiScript *script = mock_gemini_script_new ();

  mock_gemini_script_send_audio (script, pcm, size, opt_delta_ms, TRUE);
  mock_gemini_script_sleep (script, opt_delta_ms);
  mock_gemini_script_send (script, "{\"serverContent\":{\"turnComplete\":"
      "true}}");
  mock_gemini_run (gm_mock, p->conn, script);
}

static guint
gm_n_connections (void)
{
  return mock_gemini_n_connections (gm_mock);
}

static gboolean
gm_wait_connections (guint n, guint timeout_ms)
{
  return mock_gemini_wait_connections (gm_mock, n, timeout_ms);
}

static gboolean
gm_wait_script_done (guint conn, guint timeout_ms)
{
  return mock_gemini_wait_script_done (gm_mock, conn, timeout_ms);
}

static gboolean
gm_wait_closed (guint conn, guint timeout_ms)
{
  return mock_gemini_wait_closed (gm_mock, conn, timeout_ms);
}

static gsize
gm_audio_bytes (void)
{
  return mock_gemini_get_audio_bytes (gm_mock, MOCK_GEMINI_ANY_CONNECTION);
}
#endif

#ifdef HAVE_BENCH_NOVA
static MockBedrock *nv_mock;

static void
nv_start (void)
{
  nv_mock = mock_bedrock_new ();
  mock_url = mock_bedrock_url (nv_mock);
  mock_bedrock_set_keep_audio (nv_mock, FALSE);
  mock_bedrock_set_audio_sent_func (nv_mock, audio_sent_cb, NULL);
}

static void
nv_configure (GstElement * agent)
{
  g_object_set (agent, "access-key", MOCK_BEDROCK_ACCESS_KEY,
      "secret-access-key", MOCK_BEDROCK_SECRET_KEY, "region",
      MOCK_BEDROCK_REGION, "ssl-ca-file", mock_bedrock_ca_file (nv_mock),
      NULL);
}

static void
nv_finish (void)
{
  mock_complaints ("protocol violations", mock_bedrock_n_violations (nv_mock),
      mock_bedrock_get_violations (nv_mock));
  mock_complaints ("script failures", mock_bedrock_n_failures (nv_mock),
      mock_bedrock_get_failures (nv_mock));
  g_clear_pointer (&nv_mock, mock_bedrock_free);
}

/* Nova sends nothing to confirm a session: the script waits for the
 * system prompt */
static void
nv_push_setup (void)
{
  MockBedrockScript *script = mock_bedrock_script_new ();

  mock_bedrock_script_wait (script, "contentEnd", 1, 30000);
  mock_bedrock_push_script (nv_mock, script);
}

/* one sentence as Nova says it: speculative text, paced audio, final
 * text ending the turn; then the same pause as the others' (the last
 * delta's time: without it the next answer's first delta would go while
 * the last one plays, and each answer would come one delta earlier) */
static void
nv_answer (Peer * p, const gint16 * pcm, gsize size)
{
  MockBedrockScript *script = mock_bedrock_script_new ();

  mock_bedrock_script_say (script, "Fine.", pcm, size, opt_delta_ms, TRUE,
      TRUE);
  mock_bedrock_script_sleep (script, opt_delta_ms);
  mock_bedrock_run (nv_mock, p->conn, script);
}

static guint
nv_n_connections (void)
{
  return mock_bedrock_n_connections (nv_mock);
}

static gboolean
nv_wait_connections (guint n, guint timeout_ms)
{
  return mock_bedrock_wait_connections (nv_mock, n, timeout_ms);
}

static gboolean
nv_wait_script_done (guint conn, guint timeout_ms)
{
  return mock_bedrock_wait_script_done (nv_mock, conn, timeout_ms);
}

static gboolean
nv_wait_closed (guint conn, guint timeout_ms)
{
  return mock_bedrock_wait_closed (nv_mock, conn, timeout_ms);
}

static gsize
nv_audio_bytes (void)
{
  return mock_bedrock_get_audio_bytes (nv_mock, MOCK_BEDROCK_ANY_CONNECTION);
}
#endif

static const Mock mocks[] = {
  {"openai", FAKE_KEY, NULL, 24000, TRUE, rt_start, rt_finish, rt_push_setup,
        rt_answer, rt_n_connections, rt_wait_connections, rt_wait_script_done,
      rt_wait_closed, rt_audio_bytes},
#ifdef HAVE_BENCH_GEMINI
  {"gemini", "fake-gemini-bench-key-0123456789", NULL, 16000, FALSE,
        gm_start, gm_finish, gm_push_setup, gm_answer, gm_n_connections,
        gm_wait_connections, gm_wait_script_done, gm_wait_closed,
      gm_audio_bytes},
#endif
#ifdef HAVE_BENCH_NOVA
  {"nova-sonic", NULL, nv_configure, 16000, FALSE, nv_start, nv_finish,
        nv_push_setup, nv_answer, nv_n_connections, nv_wait_connections,
      nv_wait_script_done, nv_wait_closed, nv_audio_bytes},
#endif
};

/* One answer for @p (the feeder thread): --answer-ms of @tone with a
 * marker in every delta */
static void
peer_queue_answer (Peer * p, const gint16 * tone)
{
  guint delta = RATE * opt_delta_ms / 1000;
  guint n = opt_answer_ms / opt_delta_ms, i;
  gint16 *pcm = g_new (gint16, (gsize) n * delta);

  memcpy (pcm, tone, (gsize) n * delta * BPF);
  for (i = 0; i < n; i++)
    marker_write (pcm + (gsize) i * delta, p->index, p->n_queued + i);
  mk->answer (p, pcm, (gsize) n * delta * BPF);
  p->n_queued += n;
  p->n_answers++;
  g_free (pcm);
}

/* ------------------------------------------------------------------------
 * Sessions
 * ------------------------------------------------------------------------ */

static GstPadProbeReturn
src_probe (G_GNUC_UNUSED GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  gint64 now = g_get_monotonic_time ();
  GstBuffer *buf;
  Peer *p = user_data;
  guint8 head[8];
  guint session, seq;
  gint64 due = 0;
  gsize n;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_UPSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

    if (GST_EVENT_TYPE (event) == GST_EVENT_LATENCY) {
      GstClockTime latency;

      gst_event_parse_latency (event, &latency);
      g_mutex_lock (&p->lock);
      p->latency = latency;
      g_mutex_unlock (&p->lock);
    }
    return GST_PAD_PROBE_OK;
  }
  buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
    g_mutex_lock (&p->lock);
    p->gap_buffers++;
    g_mutex_unlock (&p->lock);
    return GST_PAD_PROBE_OK;
  }
  n = gst_buffer_extract (buf, 0, head, sizeof (head));
  g_mutex_lock (&p->lock);
  p->out_samples += gst_buffer_get_size (buf) / BPF;
  /* the system clock is CLOCK_MONOTONIC in ns, like g_get_monotonic_time */
  if (GST_CLOCK_TIME_IS_VALID (p->latency) && GST_BUFFER_PTS_IS_VALID (buf))
    due = (gst_element_get_base_time (p->agent) + GST_BUFFER_PTS (buf) +
        p->latency) / GST_USECOND;
  g_mutex_unlock (&p->lock);
  if (marker_read (head, n, &session, &seq) && session == p->index)
    peer_record (p, seq, FALSE, now, due);
  return GST_PAD_PROBE_OK;
}

static GstBusSyncReply
session_bus (G_GNUC_UNUSED GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Peer *p = user_data;
  const GstStructure *st = gst_message_get_structure (msg);

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    peer_set_error (p, err->message);
    g_error_free (err);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && st) {
    if (gst_structure_has_name (st, "bidi_connection_start")) {
      peer_set_ready (p);
    } else if (gst_structure_has_name (st, "bidi_response_complete")) {
      g_mutex_lock (&p->lock);
      p->completes++;
      g_mutex_unlock (&p->lock);
    } else if (gst_structure_has_name (st, "bidi_error")) {
      g_mutex_lock (&p->lock);
      p->errors++;
      g_mutex_unlock (&p->lock);
    }
  }
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

/* Element @prefix@index of @bin */
static GstElement *
bin_get (GstElement * bin, const gchar * prefix, guint index)
{
  gchar *name = g_strdup_printf ("%s%u", prefix, index);
  GstElement *e = gst_bin_get_by_name (GST_BIN (bin), name);

  g_free (name);
  return e;
}

static void
session_start (Peer * p)
{
  GError *err = NULL;
  GstPad *pad;
  GstBus *bus;
  gchar *desc;

  /* short element names: the thread names (a12:net, a12:src, s12:src) say
   * which thread is whose */
  desc = g_strdup_printf ("appsrc name=s%u is-live=true do-timestamp=true "
      "format=time caps=audio/x-raw,format=S16LE,rate=%d,channels=1,"
      "layout=interleaved ! bidiagent name=a%u provider=%s ! "
      "fakesink sync=%s", p->index, mk->in_rate, p->index, mk->name,
      p->run->sync ? "true" : "false");
  p->pipeline = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!p->pipeline)
    g_error ("pipeline: %s", err->message);
  p->src = bin_get (p->pipeline, "s", p->index);
  p->agent = bin_get (p->pipeline, "a", p->index);
  g_object_set (p->agent, "url", mock_url, "input-chunk-ms",
      (guint) opt_input_chunk_ms, NULL);
  if (mk->configure)
    mk->configure (p->agent);
  else
    g_object_set (p->agent, "api-key", mk->key, NULL);
  if (mock_ca_file)
    g_object_set (p->agent, "ssl-ca-file", mock_ca_file, NULL);
  pad = gst_element_get_static_pad (p->agent, "src");
  p->latency = GST_CLOCK_TIME_NONE;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, src_probe, p, NULL);
  gst_object_unref (pad);
  bus = gst_element_get_bus (p->pipeline);
  gst_bus_set_sync_handler (bus, session_bus, p, NULL);
  gst_object_unref (bus);
  p->t_start = g_get_monotonic_time ();
  if (gst_element_set_state (p->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    peer_set_error (p, "cannot go to PLAYING");
}

static void
session_stop (Peer * p)
{
  GstBus *bus;

  if (!p->pipeline)
    return;
  /* no answer is queued for it from now on (the feeder checks under the
   * lock): a script for a connection the client closed is a failure */
  g_mutex_lock (&p->lock);
  p->ready = FALSE;
  g_mutex_unlock (&p->lock);
  bus = gst_element_get_bus (p->pipeline);
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (bus);
  gst_clear_object (&p->src);
  gst_clear_object (&p->agent);
  gst_clear_object (&p->pipeline);
}

/* ------------------------------------------------------------------------
 * Bare clients: libsoup WebSockets on one thread, sending what bidiagent
 * sends (session.update, then a 40 ms append every 40 ms) and only
 * looking at the marker of each delta they receive
 * ------------------------------------------------------------------------ */

static void
client_message_cb (G_GNUC_UNUSED SoupWebsocketConnection * ws, gint type,
    GBytes * message, gpointer user_data)
{
  gint64 now = g_get_monotonic_time ();
  Peer *p = user_data;
  gsize len;
  const gchar *data = g_bytes_get_data (message, &len);
  const gchar *d;
  guint session, seq;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;
  p->rx_bytes += len;
  /* the type comes first in the mock's events */
  if (g_strstr_len (data, MIN (len, 64), "\"response.output_audio.delta\"")) {
    d = g_strstr_len (data, len, "\"delta\":\"");
    if (d && d + 9 + 12 <= data + len) {
      guchar head[12];
      gint state = 0;
      guint save = 0;
      gsize n = g_base64_decode_step (d + 9, 12, head, &state, &save);

      if (marker_read (head, n, &session, &seq) && session == p->index)
        peer_record (p, seq, FALSE, now, 0);
    }
  } else if (g_strstr_len (data, MIN (len, 64), "\"session.updated\"")) {
    peer_set_ready (p);
  }
}

static void
client_closed_cb (G_GNUC_UNUSED SoupWebsocketConnection * ws,
    gpointer user_data)
{
  Peer *p = user_data;
  Run *run = p->run;

  if (run->n_open > 0 && --run->n_open == 0 && g_atomic_int_get (&run->stop))
    g_main_loop_quit (run->client_loop);
}

static void
client_connected_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Peer *p = user_data;
  GError *err = NULL;

  p->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
      &err);
  if (!p->ws) {
    peer_set_error (p, err->message);
    g_error_free (err);
    return;
  }
  p->run->n_open++;
  g_signal_connect (p->ws, "message", G_CALLBACK (client_message_cb), p);
  g_signal_connect (p->ws, "closed", G_CALLBACK (client_closed_cb), p);
  soup_websocket_connection_send_text (p->ws, "{\"type\":\"session.update\","
      "\"session\":{\"type\":\"realtime\",\"output_modalities\":[\"audio\"],"
      "\"audio\":{\"input\":{\"format\":{\"type\":\"audio/pcm\","
      "\"rate\":24000},\"turn_detection\":{\"type\":\"server_vad\"}},"
      "\"output\":{\"format\":{\"type\":\"audio/pcm\",\"rate\":24000},"
      "\"voice\":\"alloy\"}}}}");
}

static gboolean
client_start_cb (gpointer user_data)
{
  Peer *p = user_data;
  SoupMessage *msg;

  p->soup = soup_session_new ();
  soup_session_set_proxy_resolver (p->soup, NULL);
  msg = soup_message_new (SOUP_METHOD_GET, mock_url);
  soup_message_headers_replace (soup_message_get_request_headers (msg),
      "Authorization", "Bearer " FAKE_KEY);
  p->t_start = g_get_monotonic_time ();
  soup_session_websocket_connect_async (p->soup, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, client_connected_cb, p);
  g_object_unref (msg);
  return G_SOURCE_REMOVE;
}

static gboolean
client_tick_cb (gpointer user_data)
{
  Run *run = user_data;
  guint i, n = g_atomic_int_get (&run->n_active);

  for (i = 0; i < n; i++) {
    Peer *p = run->peers[i];
    if (p->ws && p->ready && soup_websocket_connection_get_state (p->ws) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_send_text (p->ws, run->append_text);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
client_stop_cb (gpointer user_data)
{
  Run *run = user_data;
  guint i;

  for (i = 0; i < run->n; i++) {
    Peer *p = run->peers[i];
    if (p->ws && soup_websocket_connection_get_state (p->ws) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (p->ws, SOUP_WEBSOCKET_CLOSE_NORMAL,
          NULL);
  }
  if (run->n_open == 0)
    g_main_loop_quit (run->client_loop);
  return G_SOURCE_REMOVE;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static gpointer
client_thread (gpointer user_data)
{
  Run *run = user_data;
  GSource *tick;
  guint i;

  g_main_context_push_thread_default (run->client_ctx);
  tick = g_timeout_source_new (opt_input_chunk_ms);
  g_source_set_callback (tick, client_tick_cb, run, NULL);
  g_source_attach (tick, run->client_ctx);
  g_main_loop_run (run->client_loop);
  g_source_destroy (tick);
  g_source_unref (tick);
  for (i = 0; i < run->n; i++) {
    Peer *p = run->peers[i];
    if (p->ws)
      g_signal_handlers_disconnect_by_data (p->ws, p);
    g_clear_object (&p->ws);
    g_clear_object (&p->soup);
  }
  while (g_main_context_iteration (run->client_ctx, FALSE));
  g_main_context_pop_thread_default (run->client_ctx);
  return NULL;
}

/* ------------------------------------------------------------------------
 * The feeder: input in real time, answers topped up
 * ------------------------------------------------------------------------ */

static gpointer
feeder_thread (gpointer user_data)
{
  Run *run = user_data;
  guint delta = RATE * opt_delta_ms / 1000;
  guint n_tone = opt_answer_ms / opt_delta_ms * delta, i;
  gint16 *tone = g_new (gint16, n_tone);
  guint in_chunk = mk->in_rate * IN_CHUNK_MS / 1000;
  gint16 *input = g_new (gint16, in_chunk);
  gint64 t0 = g_get_monotonic_time ();
  guint64 k = 0;

  /* answers: a quiet 440 Hz tone; input: quiet noise */
  for (i = 0; i < n_tone; i++)
    tone[i] = (gint16) (1000 * sin (2 * G_PI * 440 * i / RATE));
  for (i = 0; i < in_chunk; i++)
    input[i] = (gint16) g_random_int_range (-200, 200);

  while (!g_atomic_int_get (&run->stop)) {
    guint n = g_atomic_int_get (&run->n_active);

    for (i = 0; i < n; i++) {
      Peer *p = run->peers[i];
      gboolean ready;
      guint sent;

      if (p->src) {
        GstBuffer *buf = gst_buffer_new_memdup (input, in_chunk * BPF);
        GstFlowReturn ret;

        g_signal_emit_by_name (p->src, "push-buffer", buf, &ret);
        gst_buffer_unref (buf);
      }
      g_mutex_lock (&p->lock);
      ready = p->ready;
      sent = p->n_sent;
      /* keep 0.5 to 1.5 answers queued at the mock; a Nova session is
       * ready before the mock has read its request (nothing confirms
       * it): the mock must know the connection first */
      if (ready && (p->n_queued - sent) * opt_delta_ms < (guint) opt_answer_ms
          / 2 && p->conn < mk->n_connections ())
        peer_queue_answer (p, tone);
      g_mutex_unlock (&p->lock);
    }
    k++;
    bench_sleep_until (t0 + (gint64) k * IN_CHUNK_MS * 1000);
  }
  g_free (tone);
  g_free (input);
  return NULL;
}

/* ------------------------------------------------------------------------
 * A run
 * ------------------------------------------------------------------------ */

typedef struct
{
  guint n;
  gdouble wall_s;
  gdouble cpu_s;                /* getrusage */
  gdouble kinds[N_KINDS];       /* CPU s per kind of thread */
  gdouble csw;                  /* context switches */
  Mem mem0, mem1, mem2;
  GArray *lat;                  /* ms, every delta sent in the window */
  GArray *lat_first;            /* ms, first delta of each answer */
  GArray *lat_due;              /* ms, sent -> due to be rendered */
  gdouble pipeline_latency_ms;
  guint lost;
  GArray *setup;                /* ms, start -> connected */
  gdouble in_s, out_s;          /* audio seconds per second per peer */
  gdouble gaps;                 /* silence buffers per second per peer */
  gdouble queued_ms_mean, queued_ms_max;
  guint completes, errors;
} Result;

static void
result_clear (Result * r)
{
  if (!r->n)
    return;
  g_array_unref (r->lat);
  g_array_unref (r->lat_first);
  g_array_unref (r->lat_due);
  g_array_unref (r->setup);
}

/* Touches every page of @mem, so that the bench's own records are in
 * the RSS before the first reading and not counted as the sessions' */
static void
prefault (gpointer mem, gsize size)
{
  volatile guint8 *b = mem;
  gsize i;

  for (i = 0; i < size; i += 4096)
    b[i] = 0;
}

static Run *
run_new (const gchar * what, guint n, gboolean clients, gboolean sync,
    gdouble seconds, gdouble warmup)
{
  Run *run = g_new0 (Run, 1);
  guint i;

  run->what = what;
  run->n = n;
  run->clients = clients;
  run->sync = sync;
  /* every delta the run can see, with room to spare */
  run->max_seq = (guint) ((n * (opt_stagger_ms + 100) / 1000.0 + 60 +
          warmup + seconds) * 1000 / opt_delta_ms);
  g_mutex_init (&run->lock);
  g_cond_init (&run->cond);
  run->peers = g_new0 (Peer *, n);
  for (i = 0; i < n; i++) {
    Peer *p = g_new0 (Peer, 1);
    p->run = run;
    p->index = i;
    g_mutex_init (&p->lock);
    p->deltas = g_new0 (Delta, run->max_seq);
    prefault (p->deltas, sizeof (Delta) * run->max_seq);
    run->peers[i] = p;
  }
  if (clients) {
    gsize size = (gsize) RATE * opt_input_chunk_ms / 1000 * BPF;
    guint8 *zero = g_malloc0 (size);
    gchar *b64 = g_base64_encode (zero, size);

    run->append_text = g_strconcat ("{\"type\":\"input_audio_buffer.append\","
        "\"audio\":\"", b64, "\"}", NULL);
    g_free (b64);
    g_free (zero);
  }
  return run;
}

static void
run_free (Run * run)
{
  guint i;

  for (i = 0; i < run->n; i++) {
    Peer *p = run->peers[i];
    g_free (p->deltas);
    g_free (p->error);
    g_mutex_clear (&p->lock);
    g_free (p);
  }
  g_free (run->peers);
  g_free (run->append_text);
  g_mutex_clear (&run->lock);
  g_cond_clear (&run->cond);
  g_free (run);
}

static gboolean
run_wait_ready (Run * run, guint n, gint64 timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;
  gboolean ok;

  g_mutex_lock (&run->lock);
  while (run->n_ready < n && g_cond_wait_until (&run->cond, &run->lock, end));
  ok = run->n_ready >= n;
  g_mutex_unlock (&run->lock);
  return ok;
}

static Result
run_measure (const gchar * what, guint n, gboolean clients, gboolean sync,
    gdouble seconds, gdouble warmup)
{
  Run *run = run_new (what, n, clients, sync, seconds, warmup);
  Result r;
  struct rusage ru0, ru1;
  GArray *th0, *th1;
  gint64 t0, t1;
  gsize in0, in1;
  guint64 *out0 = g_new0 (guint64, n), *gap0 = g_new0 (guint64, n);
  gdouble cpu0, dq = 0;
  guint i, dq_n = 0;

  memset (&r, 0, sizeof (r));
  r.n = n;
  r.lat = g_array_new (FALSE, FALSE, sizeof (gdouble));
  r.lat_first = g_array_new (FALSE, FALSE, sizeof (gdouble));
  r.lat_due = g_array_new (FALSE, FALSE, sizeof (gdouble));
  r.setup = g_array_new (FALSE, FALSE, sizeof (gdouble));

  g_print ("\n[%s] %u %s%s ...\n", what, n, clients ? "bare WebSocket client"
      : "session", n == 1 ? "" : "s");
  run->conn_base = mk->n_connections ();
  g_mutex_lock (&runs_lock);
  current_run = run;
  g_mutex_unlock (&runs_lock);

  /* the threads of the previous run that wait in GLib's thread pool (and
   * what they hold) would leave during this run */
  g_thread_pool_stop_unused_threads ();
  g_usleep (G_USEC_PER_SEC / 5);
  r.mem0 = mem_now ();
  run->feeder = g_thread_new ("feeder", feeder_thread, run);
  if (clients) {
    run->client_ctx = g_main_context_new ();
    run->client_loop = g_main_loop_new (run->client_ctx, FALSE);
    run->client_thread = g_thread_new ("clients", client_thread, run);
  }

  /* one at a time, so that connection i is the mock's conn_base + i */
  for (i = 0; i < n; i++) {
    Peer *p = run->peers[i];

    mk->push_setup ();
    p->conn = run->conn_base + i;
    if (clients)
      g_main_context_invoke (run->client_ctx, client_start_cb, p);
    else
      session_start (p);
    g_atomic_int_inc (&run->n_active);
    if (!mk->wait_connections (p->conn + 1, 20000)) {
      bench_failed ("%s: peer %u never reached the mock", what, i);
      break;
    }
    g_usleep (opt_stagger_ms * 1000);
  }
  if (!run_wait_ready (run, n, 30 * G_USEC_PER_SEC))
    bench_failed ("%s: %u of %u connected", what, run->n_ready, n);

  g_usleep ((gulong) (warmup * G_USEC_PER_SEC));
  r.mem1 = mem_now ();

  /* the window */
  th0 = threads_snapshot ();
  in0 = mk->audio_bytes ();
  for (i = 0; i < n; i++) {
    Peer *p = run->peers[i];
    g_mutex_lock (&p->lock);
    out0[i] = p->out_samples;
    gap0[i] = p->gap_buffers;
    g_mutex_unlock (&p->lock);
  }
  cpu0 = process_cpu_s (&ru0);
  t0 = g_get_monotonic_time ();
  g_usleep ((gulong) (seconds * G_USEC_PER_SEC));
  r.cpu_s = process_cpu_s (&ru1) - cpu0;
  t1 = g_get_monotonic_time ();
  th1 = threads_snapshot ();
  r.wall_s = (t1 - t0) / 1e6;
  threads_diff (th0, th1, r.kinds);
  g_array_unref (th0);
  g_array_unref (th1);
  r.csw = (ru1.ru_nvcsw - ru0.ru_nvcsw) + (ru1.ru_nivcsw - ru0.ru_nivcsw);
  in1 = mk->audio_bytes ();
  r.in_s = (gdouble) (in1 - in0) / (mk->in_rate * BPF) / r.wall_s / n;
  for (i = 0; i < n; i++) {
    Peer *p = run->peers[i];
    GstStructure *stats = NULL;
    guint64 q = 0;

    g_mutex_lock (&p->lock);
    r.out_s += (gdouble) (p->out_samples - out0[i]) / RATE / r.wall_s / n;
    r.gaps += (gdouble) (p->gap_buffers - gap0[i]) / r.wall_s / n;
    g_mutex_unlock (&p->lock);
    if (p->agent) {
      g_object_get (p->agent, "stats", &stats, NULL);
      if (stats && gst_structure_get_uint64 (stats, "output-queued-ms", &q)) {
        dq += q;
        dq_n++;
        r.queued_ms_max = MAX (r.queued_ms_max, q);
      }
      if (stats)
        gst_structure_free (stats);
    }
  }
  r.queued_ms_mean = dq_n ? dq / dq_n : 0;

  /* what was sent in the window has arrived by now */
  g_usleep (G_USEC_PER_SEC / 2);
  r.mem2 = mem_now ();
  for (i = 0; i < n; i++) {
    Peer *p = run->peers[i];
    guint s, per_answer = opt_answer_ms / opt_delta_ms;

    g_mutex_lock (&p->lock);
    for (s = 0; s < run->max_seq; s++) {
      Delta *d = &p->deltas[s];
      gdouble ms;

      if (d->sent < t0 || d->sent > t1)
        continue;
      if (!d->got) {
        r.lost++;
        continue;
      }
      ms = (d->got - d->sent) / 1000.0;
      g_array_append_val (r.lat, ms);
      if (s % per_answer == 0)
        g_array_append_val (r.lat_first, ms);
      if (d->due) {
        ms = (d->due - d->sent) / 1000.0;
        g_array_append_val (r.lat_due, ms);
      }
    }
    if (GST_CLOCK_TIME_IS_VALID (p->latency))
      r.pipeline_latency_ms = p->latency / 1e6;
    if (p->ready) {
      gdouble ms = (p->t_ready - p->t_start) / 1000.0;
      g_array_append_val (r.setup, ms);
    }
    if (p->error)
      bench_failed ("%s: peer %u: %s", what, i, p->error);
    r.completes += p->completes;
    r.errors += p->errors;
    g_mutex_unlock (&p->lock);
  }

  /* stop */
  g_atomic_int_set (&run->stop, 1);
  g_thread_join (run->feeder);
  /* the answers given to the mock are played out before the peers go
   * (sending on a closing socket is a script failure for the mock) */
  for (i = 0; i < n; i++)
    if (run->peers[i]->ready && !mk->wait_script_done (run->conn_base + i,
            5000))
      bench_failed ("%s: the mock's script for peer %u did not end", what, i);
  if (clients) {
    GSource *timeout = g_timeout_source_new (3000);

    g_source_set_callback (timeout, quit_cb, run->client_loop, NULL);
    g_source_attach (timeout, run->client_ctx);
    g_source_unref (timeout);
    g_main_context_invoke (run->client_ctx, client_stop_cb, run);
    g_thread_join (run->client_thread);
    g_main_loop_unref (run->client_loop);
    g_main_context_unref (run->client_ctx);
  } else {
    for (i = 0; i < n; i++)
      session_stop (run->peers[i]);
  }
  g_mutex_lock (&runs_lock);
  current_run = NULL;
  g_mutex_unlock (&runs_lock);
  /* the mock's side of these connections is closed too */
  for (i = 0; i < n; i++)
    mk->wait_closed (run->conn_base + i, 5000);
  if (r.lat->len == 0)
    bench_failed ("%s: no audio delta was matched to a buffer", what);
  if (r.errors)
    bench_failed ("%s: %u bidi_error events", what, r.errors);
  run_free (run);
  g_free (out0);
  g_free (gap0);
  return r;
}

/* ------------------------------------------------------------------------
 * Printing
 * ------------------------------------------------------------------------ */

static gdouble
pct_per_peer (const Result * r, gdouble cpu_s)
{
  return 100.0 * cpu_s / r->wall_s / r->n;
}

static gdouble
mib_per_peer (const Result * r, glong from, glong to)
{
  return (to - from) / 1024.0 / r->n;
}

static void
print_latency_line (const gchar * label, GArray * v, const gchar * extra)
{
  g_print ("    %-44s %7u %8.1f %8.1f %8.1f %8.1f%s%s\n", label, v->len,
      bench_percentile (v, 0.5), bench_percentile (v, 0.9), bench_percentile (v, 0.99),
      bench_percentile (v, 1.0), *extra ? "   " : "", extra);
}

static void
print_result (const Result * r, gboolean clients)
{
  gdouble net = r->cpu_s - r->kinds[T_MOCK];
  guint k;

  g_print ("  CPU, %% of a core per %s (window %.1f s, %u %s):\n",
      clients ? "connection" : "session", r->wall_s, r->n,
      clients ? "connections" : "sessions");
  g_print ("    %-44s %7.3f %%\n", "whole process (getrusage)",
      pct_per_peer (r, r->cpu_s));
  for (k = 0; k < N_KINDS; k++)
    if (r->kinds[k] > 0 || k == T_MOCK)
      g_print ("      %-42s %7.3f %%\n", kind_names[k], pct_per_peer (r,
              r->kinds[k]));
  if (!clients)
    g_print ("    %-44s %7.3f %%   target < %.1f %%\n",
        "process minus the mock thread", pct_per_peer (r, net),
        TARGET_CPU_PERCENT);
  else
    g_print ("    %-44s %7.3f %%\n", "process minus the mock thread",
        pct_per_peer (r, net));
  g_print ("    %-44s %7.1f per s per %s\n", "context switches",
      r->csw / r->wall_s / r->n, clients ? "connection" : "session");
  g_print ("    %-44s %.2f s in, %.2f s out per s per %s%s\n", "audio",
      r->in_s, clients ? 0 : r->out_s, clients ? "connection" : "session",
      clients ? " (out: not decoded)" : "");
  if (!clients)
    g_print ("    %-44s %.2f per s per session; bidiagent's output queue "
        "at the end: %.0f ms mean, %.0f ms max\n", "silence buffers pushed",
        r->gaps, r->queued_ms_mean, r->queued_ms_max);
  g_print ("  RSS per %s, MiB (VmRSS delta / %u, after malloc_trim; "
      "process %.1f MiB before):\n", clients ? "connection" : "session", r->n,
      r->mem0.rss / 1024.0);
  g_print ("    %-44s %7.3f   (RssAnon %.3f)\n", "connected, after warm-up",
      mib_per_peer (r, r->mem0.rss, r->mem1.rss),
      mib_per_peer (r, r->mem0.anon, r->mem1.anon));
  g_print ("    %-44s %7.3f   (RssAnon %.3f)%s\n", "after the window",
      mib_per_peer (r, r->mem0.rss, r->mem2.rss),
      mib_per_peer (r, r->mem0.anon, r->mem2.anon),
      clients ? "" : "   target < 3 MiB");
  if (r->mem0.heap >= 0)
    g_print ("    %-44s %7.3f connected, %.3f after the window\n",
        "of which malloc'd and in use (mallinfo2)", mib_per_peer (r,
            r->mem0.heap, r->mem1.heap), mib_per_peer (r, r->mem0.heap,
            r->mem2.heap));
  g_print ("  latency, ms:                                     n      p50      "
      "p90      p99      max\n");
  print_latency_line (clients ? "mock wrote delta -> client got it" :
      "mock wrote delta -> src pad push", r->lat, "");
  if (!clients) {
    print_latency_line ("  first delta of each answer", r->lat_first, "");
    if (r->lat_due->len) {
      gchar *l = g_strdup_printf ("mock wrote delta -> due at the sink (%.0f)",
          r->pipeline_latency_ms);
      print_latency_line (l, r->lat_due, "");
      g_free (l);
    }
  }
  print_latency_line ("connection setup (start -> session ready)", r->setup,
      "");
  g_print ("    deltas sent in the window and not seen: %u; answers "
      "completed: %u; bidi_error: %u\n", r->lost, r->completes, r->errors);
}

static gboolean
wants (const gchar * run)
{
  return !opt_only || strcmp (opt_only, run) == 0;
}

typedef enum
{
  SUM_CPU,
  SUM_CPU_AGENT,
  SUM_CPU_MOCK,
  SUM_RSS,
  SUM_HEAP,
  SUM_LAT,
  SUM_LAT_DUE,
  SUM_SETUP
} SumKind;

static gchar *
summary_cell (const Result * r, SumKind kind)
{
  if (!r || !r->n)
    return g_strdup ("-");
  switch (kind) {
    case SUM_CPU:
      return g_strdup_printf ("%.3f %%", pct_per_peer (r,
              r->cpu_s - r->kinds[T_MOCK]));
    case SUM_CPU_AGENT:
      return g_strdup_printf ("%.3f %%", pct_per_peer (r, r->kinds[T_NET] +
              r->kinds[T_AGENT_SRC] + r->kinds[T_APPSRC]));
    case SUM_CPU_MOCK:
      return g_strdup_printf ("%.3f %%", pct_per_peer (r, r->kinds[T_MOCK]));
    case SUM_RSS:
      return g_strdup_printf ("%.2f/%.2f MiB", mib_per_peer (r, r->mem0.rss,
              r->mem1.rss), mib_per_peer (r, r->mem0.rss, r->mem2.rss));
    case SUM_HEAP:
      return g_strdup_printf ("%.2f/%.2f MiB", mib_per_peer (r, r->mem0.heap,
              r->mem1.heap), mib_per_peer (r, r->mem0.heap, r->mem2.heap));
    case SUM_LAT:
      return g_strdup_printf ("%.1f/%.1f/%.1f", bench_percentile (r->lat, 0.5),
          bench_percentile (r->lat, 0.99), bench_percentile (r->lat, 1.0));
    case SUM_LAT_DUE:
      return g_strdup_printf ("%.0f/%.0f/%.0f", bench_percentile (r->lat_due, 0.5),
          bench_percentile (r->lat_due, 0.99), bench_percentile (r->lat_due, 1.0));
    case SUM_SETUP:
      return g_strdup_printf ("%.1f/%.1f", bench_percentile (r->setup, 0.5),
          bench_percentile (r->setup, 1.0));
  }
  return g_strdup ("?");
}

static void
summary_line (const gchar * label, const Result * const *cols, guint n_cols,
    SumKind kind, const gchar * target)
{
  guint i;

  g_print ("  %-54s", label);
  for (i = 0; i < n_cols; i++) {
    gchar *c = summary_cell (cols[i], kind);

    g_print (" %14s", c);
    g_free (c);
  }
  g_print ("%s%s\n", *target ? "   " : "", target);
}

/* The rows both summaries give */
static const struct
{
  const gchar *label;
  SumKind kind;
  const gchar *target;
} summary_rows[] = {
  {"CPU per session, process minus the mock thread", SUM_CPU, "< 0.3 %"},
  {"  of which bidiagent's threads (net, src, appsrc)", SUM_CPU_AGENT, ""},
  {"  the mock's thread, per session (not included)", SUM_CPU_MOCK, ""},
  {"RSS per session (VmRSS), connected/after the window", SUM_RSS,
      "< 3 MiB"},
  {"  of which malloc'd and in use (mallinfo2)", SUM_HEAP, ""},
  {"latency, mock write -> src pad push, p50/p99/max ms", SUM_LAT, ""},
  {"latency, mock write -> due at the sink, p50/p99/max ms", SUM_LAT_DUE,
      ""},
  {"connection setup, p50/max ms", SUM_SETUP, ""},
};

/* The header @heads (@n_cols of them) and the rows for @cols */
static void
summary_table (const gchar * const *heads, const Result * const *cols,
    guint n_cols)
{
  guint i;

  g_print ("  %-54s", "figure");
  for (i = 0; i < n_cols; i++)
    g_print (" %14s", heads[i]);
  g_print ("   target\n");
  for (i = 0; i < G_N_ELEMENTS (summary_rows); i++)
    if (summary_rows[i].kind != SUM_HEAP || HAVE_HEAP)
      summary_line (summary_rows[i].label, cols, n_cols,
          summary_rows[i].kind, summary_rows[i].target);
}

/* Run @k of @n_runs of the current provider, @note after its number */
static Result
run_numbered (guint k, guint n_runs, const gchar * note, guint n,
    gboolean clients, gboolean sync, gdouble seconds, gdouble warmup)
{
  gchar *what = g_strdup_printf ("%s %u/%u%s", mk->name, k, n_runs, note);
  Result r = run_measure (what, n, clients, sync, seconds, warmup);

  g_free (what);
  return r;
}

/* Every run of provider @m, with its results and summary; @first: no
 * provider ran before in this process. Keeps runs 1 and 2 in @res. */
static void
bench_provider (const Mock * m, gboolean first, Result * res)
{
  gdouble warmup = opt_quick ? 1.0 : 3.0;
  gboolean extra = m->extra && !opt_no_extra && !opt_tls;
  guint n_runs = extra ? 4 : 2;
  Result prime, bare = { 0, }, nosync = { 0, };
  const Result *cols[2] = { &res[0], &res[1] }, *alone[2] = { NULL, };
  gchar *heads[2];
  Mem before, after;

  mk = m;
  g_print ("\n==== provider=%s%s ====\n", m->name, m->extra ? "" :
      ": runs 0 to 2 (the bare clients and sync=false runs are OpenAI's "
      "only)");
  m->start ();

  /* what the first session costs once per process (libraries, type and
   * plugin setup, malloc arenas) is not a session's: one session comes and
   * goes before the runs */
  before = mem_now ();
  prime = run_numbered (0, n_runs, " priming, not measured", 1, FALSE, TRUE,
      1, 0.5);
  after = mem_now ();
  result_clear (&prime);
  g_print ("  once per process%s: %.1f MiB of RSS (RssAnon %.1f MiB) stay "
      "after the first session is gone\n", first ? "" :
      " (beyond the providers before)", (after.rss - before.rss) / 1024.0,
      (after.anon - before.anon) / 1024.0);

  if (wants ("one")) {
    res[0] = run_numbered (1, n_runs, "", 1, FALSE, TRUE, opt_seconds, warmup);
    print_result (&res[0], FALSE);
  }
  if (wants ("many")) {
    res[1] = run_numbered (2, n_runs, "", opt_sessions, FALSE, TRUE,
        opt_seconds, warmup);
    print_result (&res[1], FALSE);
  }
  if (extra && wants ("clients")) {
    bare = run_numbered (3, n_runs, "", opt_sessions, TRUE, TRUE,
        opt_seconds, warmup);
    print_result (&bare, TRUE);
  }
  if (extra && wants ("nosync")) {
    nosync = run_numbered (4, n_runs, " fakesink sync=false, latency only",
        opt_sessions, FALSE, FALSE, MAX (3, opt_seconds / 4), warmup);
    g_print ("  latency, ms:                                     n      p50"
        "      p90      p99      max\n");
    print_latency_line ("mock wrote delta -> src pad push", nosync.lat, "");
  }

  g_print ("\n== provider=%s summary (targets are for comparison; nothing "
      "fails on a time) ==\n", m->name);
  heads[0] = g_strdup ("1 session");
  heads[1] = g_strdup_printf ("%d sessions", opt_sessions);
  summary_table ((const gchar * const *) heads, cols, 2);
  g_free (heads[0]);
  g_free (heads[1]);
  /* runs 3 and 4 in the second column */
  alone[1] = &bare;
  if (bare.n) {
    summary_line ("bare libsoup client: CPU per connection, minus mock",
        alone, 2, SUM_CPU, "");
    summary_line ("bare libsoup client: mock write -> received, ms", alone, 2,
        SUM_LAT, "");
  }
  alone[1] = &nosync;
  if (nosync.n)
    summary_line ("sync=false: mock write -> src pad push, ms", alone, 2,
        SUM_LAT, "");
  m->finish ();
  result_clear (&bare);
  result_clear (&nosync);
}

/* The providers' runs 1 and 2 side by side (@res: two per provider, in
 * the order of mocks[]; those that did not run have n == 0) */
static void
print_side_by_side (Result (*res)[2])
{
  const Result *cols[2 * G_N_ELEMENTS (mocks)];
  gchar *heads[2 * G_N_ELEMENTS (mocks)];
  guint i, n = 0;

  g_print ("\n== side by side, same process, one provider after the other "
      "(%d sessions in the second column of each) ==\n", opt_sessions);
  for (i = 0; i < G_N_ELEMENTS (mocks); i++) {
    if (!res[i][0].n && !res[i][1].n)
      continue;
    heads[n] = g_strdup_printf ("%s 1", mocks[i].name);
    cols[n++] = &res[i][0];
    heads[n] = g_strdup_printf ("%s %d", mocks[i].name, opt_sessions);
    cols[n++] = &res[i][1];
  }
  summary_table ((const gchar * const *) heads, cols, n);
  for (i = 0; i < n; i++)
    g_free (heads[i]);
}

static const gchar *const all_providers[] = { "openai", "gemini",
  "nova-sonic"
};

/* The mock @name, NULL when not built */
static const Mock *
find_mock (const gchar * name)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (mocks); i++)
    if (strcmp (mocks[i].name, name) == 0)
      return &mocks[i];
  return NULL;
}

int
main (int argc, char **argv)
{
  GOptionContext *ctx = g_option_context_new ("- realtime providers' "
      "benchmark");
  GError *err = NULL;
  gchar *cpuinfo = NULL, *model = NULL, *load = NULL;
  gint64 t_start;
  Result res[G_N_ELEMENTS (mocks)][2];
  gboolean both;
  gchar *v;
  guint i, n_ran = 0;

  memset (res, 0, sizeof (res));
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (opt_sessions < 0)
    opt_sessions = opt_quick ? 10 : 50;
  if (opt_seconds < 0)
    opt_seconds = opt_quick ? 5 : 20;
  both = !opt_provider || strcmp (opt_provider, "both") == 0 ||
      strcmp (opt_provider, "all") == 0;
  if (opt_sessions < 1 || opt_sessions > 1000 || opt_seconds < 1 ||
      opt_delta_ms < 10 || opt_delta_ms > 1000 || opt_answer_ms <
      opt_delta_ms || opt_stagger_ms < 0 || opt_input_chunk_ms < 10 ||
      opt_input_chunk_ms > 1000 || (opt_only && !wants ("one") &&
          !wants ("many") && !wants ("clients") && !wants ("nosync")) ||
      (!both && strcmp (opt_provider, "openai") != 0 &&
          strcmp (opt_provider, "gemini") != 0 &&
          strcmp (opt_provider, "nova-sonic") != 0)) {
    g_printerr ("openaibench: bad option value\n");
    return 2;
  }
  if (!both && !find_mock (opt_provider)) {
    g_printerr ("openaibench: provider=%s and its mock were not built\n",
        opt_provider);
    return 1;
  }

  if (!gst_element_factory_find ("bidiagent")) {
    g_printerr ("openaibench: no bidiagent (set GST_PLUGIN_PATH)\n");
    return 1;
  }

  if (g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL)) {
    gchar *p = strstr (cpuinfo, "model name");
    if (p && (p = strchr (p, ':')))
      model = g_strndup (p + 2, strcspn (p + 2, "\n"));
  }
  g_file_get_contents ("/proc/loadavg", &load, NULL, NULL);
  g_print ("openaibench: gst-bidi %s, %s, libsoup %u.%u.%u\n", VERSION,
      v = gst_version_string (), soup_get_major_version (),
      soup_get_minor_version (), soup_get_micro_version ());
  g_free (v);
  g_print ("machine: %ld CPUs, %s; load average at start: %s",
      sysconf (_SC_NPROCESSORS_ONLN), GST_STR_NULL (model),
      load ? load : "?\n");
  g_print ("run: 1 then %d sessions, %d s windows after %.0f s of warm-up; "
      "answers of %d ms in deltas of %d ms, paced; input pushed in %d ms "
      "buffers, sent in %d ms appends (input-chunk-ms); sessions started %d "
      "ms apart%s\n", opt_sessions, opt_seconds, opt_quick ? 1.0 : 3.0,
      opt_answer_ms, opt_delta_ms, IN_CHUNK_MS, opt_input_chunk_ms,
      opt_stagger_ms, opt_mock_nagle ? "; Nagle left on at the mock" : "");
  for (i = 0; both && i < G_N_ELEMENTS (all_providers); i++)
    if (!find_mock (all_providers[i]))
      g_print ("provider=%s was not built: left out\n", all_providers[i]);
  g_free (cpuinfo);
  g_free (model);
  g_free (load);

  t_start = g_get_monotonic_time ();
  for (i = 0; i < G_N_ELEMENTS (mocks); i++)
    if (both || strcmp (opt_provider, mocks[i].name) == 0)
      bench_provider (&mocks[i], n_ran++ == 0, res[i]);
  if (n_ran > 1)
    print_side_by_side (res);

  {
    gchar *l = NULL;
    g_file_get_contents ("/proc/loadavg", &l, NULL, NULL);
    g_print ("\n(load average at the end: %s", l ? l : "?\n");
    g_free (l);
  }
  g_print ("total run %.0f s; %d problem%s)\n",
      (g_get_monotonic_time () - t_start) / 1e6, bench_failures (),
      bench_failures () == 1 ? "" : "s");
  for (i = 0; i < G_N_ELEMENTS (mocks); i++) {
    result_clear (&res[i][0]);
    result_clear (&res[i][1]);
  }
  g_free (opt_only);
  g_free (opt_provider);
  return bench_failures () ? 1 : 0;
}
