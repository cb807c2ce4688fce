/* gst-bidi: benchmarks of the local provider
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* localbench: prints figures of the offline "local" provider for
 * tests/bench/RESULTS.md. It never fails on a time: the exit status is
 * non-zero only when something does not work.
 *
 *  1. recognition: CPU time of the listener (VAD + pocketsphinx streaming
 *     pass + final pass) per second of audio (real-time factor), on flite
 *     phrases; with the accuracy it reaches (sentences, words, intents)
 *  2. latency with the built-in responder, in a live pipeline fed in real
 *     time: end of the user's speech -> first sample of the answer pushed
 *     on bidiagent's src pad (into fakesink sync=true, like a sound card)
 *  3. CPU and RSS per session: N sessions in this process, listening to
 *     noise only, then holding a conversation (a question every few
 *     seconds)
 *
 * Everything is local: the fixtures are made with flite at run time.
 * Run: meson test -C build --benchmark -v localbench, or
 *      GST_PLUGIN_PATH=build/gst/bidiagent build/tests/bench/localbench
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

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

#include "gstbidivad.h"
#include "gstbidiasr.h"
#include "gstbidiintents.h"
#include "gstbiditts.h"
#include "benchutil.h"

#define RATE 16000
#define CHUNK_MS 20
#define CHUNK (RATE * CHUNK_MS / 1000)
#define MS(n) ((gsize) (n) * RATE / 1000)
#define NOISE_50DB 179.5
#define TARGET_LATENCY_MS 300.0

static gboolean opt_quick = FALSE;
static gint opt_sessions = -1;
static gint opt_seconds = -1;
static gint opt_questions = -1;
static gint opt_seeds = -1;
static gint opt_vad_end_ms = -1;
static gchar *opt_only = NULL;

static GOptionEntry entries[] = {
  {"quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick,
      "Short run (smoke test)", NULL},
  {"sessions", 'n', 0, G_OPTION_ARG_INT, &opt_sessions,
      "Sessions in the CPU/RSS run (default 4, quick 2)", "N"},
  {"seconds", 's', 0, G_OPTION_ARG_INT, &opt_seconds,
      "Measured seconds of each CPU window (default 20, quick 6)", "S"},
  {"questions", 'k', 0, G_OPTION_ARG_INT, &opt_questions,
      "Questions in the latency run (default 20, quick 4)", "K"},
  {"seeds", 'r', 0, G_OPTION_ARG_INT, &opt_seeds,
      "Noise seeds in the recognition run (default 3, quick 1)", "R"},
  {"vad-end-ms", 'e', 0, G_OPTION_ARG_INT, &opt_vad_end_ms,
      "The sessions' vad-end-ms (default: the provider's, 500)", "MS"},
  {"only", 'o', 0, G_OPTION_ARG_STRING, &opt_only,
      "Run only \"asr\", \"latency\" or \"cpu\"", "PART"},
  {NULL, 0, 0, 0, NULL, NULL, NULL}
};

/* what the recognition run says, and the questions of the other runs */
static const gchar *phrases[] = {
  "what time is it",
  "what is twenty five times forty eight",
  "what is seven divided by two",
  "what is the date today",
  "what is one hundred and five minus seven",
  "what is two to the power of ten",
  "what is twelve plus thirty",
  "what day is it",
  "tell me a story about a dragon",
  "stop the conversation",
  "end the conversation",
  "goodbye",
};

/* tool questions, answered in a few words */
static const gchar *questions[] = {
  "what time is it",
  "what is twenty five times forty eight",
  "what is seven divided by two",
  "what is the date today",
  "what is twelve plus thirty",
};


/* ------------------------------------------------------------------------
 * Fixtures
 * ------------------------------------------------------------------------ */

static void
add_noise (GArray * pcm, gsize n, GRand * rng)
{
  gsize i;

  for (i = 0; i < n; i++) {
    gint16 v = (gint16) g_rand_double_range (rng, -NOISE_50DB, NOISE_50DB);
    g_array_append_val (pcm, v);
  }
}

/* flite speech; *end = its last 10 ms above -40 dBFS, in @pcm */
static void
add_speech (GArray * pcm, const gchar * text, GRand * mix, gsize * start,
    gsize * end)
{
  GBytes *b = gst_bidi_tts_synthesize_seeded ("slt", text, 1, NULL);
  gsize size, n, i, base = pcm->len, first = 0, last = 0;
  const gint16 *s = g_bytes_get_data (b, &size);

  n = size / 2;
  for (i = 0; i + 160 <= n; i += 160)
    if (gst_bidi_vad_level_db (s + i, 160) > -40) {
      if (!first)
        first = i;
      last = i + 160;
    }
  for (i = 0; i < n; i++) {
    gint v = s[i] + (mix ? (gint) g_rand_double_range (mix, -NOISE_50DB,
            NOISE_50DB) : 0);
    gint16 x = (gint16) CLAMP (v, -32768, 32767);
    g_array_append_val (pcm, x);
  }
  if (start)
    *start = base + first;
  if (end)
    *end = base + last;
  g_bytes_unref (b);
}

static void
pad_chunks (GArray * pcm, GRand * rng)
{
  if (pcm->len % CHUNK)
    add_noise (pcm, CHUNK - pcm->len % CHUNK, rng);
}

static gdouble
thread_cpu_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static gdouble
process_cpu_s (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
      ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}


static glong
rss_kib (void)
{
  return bench_status_kib ("VmRSS:");
}



/* ------------------------------------------------------------------------
 * 1. Recognition
 * ------------------------------------------------------------------------ */

typedef struct
{
  GPtrArray *finals;
} Heard;

static void
on_heard (const GstBidiListenerEvent * ev, gpointer user_data)
{
  Heard *h = user_data;

  if (ev->type == GST_BIDI_LISTENER_FINAL)
    g_ptr_array_add (h->finals, g_strdup (ev->text));
}

/* word edit distance */
static guint
word_errors (const gchar * ref, const gchar * hyp, guint * n_ref)
{
  gchar **r = g_strsplit (ref, " ", -1), **h = g_strsplit (hyp, " ", -1);
  guint nr = g_strv_length (r), nh = g_strv_length (h), i, j, res;
  guint *d = g_new (guint, (nr + 1) * (nh + 1));

  for (i = 0; i <= nr; i++)
    d[i * (nh + 1)] = i;
  for (j = 0; j <= nh; j++)
    d[j] = j;
  for (i = 1; i <= nr; i++)
    for (j = 1; j <= nh; j++) {
      guint sub = d[(i - 1) * (nh + 1) + j - 1] + (strcmp (r[i - 1],
              h[j - 1]) != 0);
      guint del = d[(i - 1) * (nh + 1) + j] + 1;
      guint ins = d[i * (nh + 1) + j - 1] + 1;
      d[i * (nh + 1) + j] = MIN (sub, MIN (del, ins));
    }
  res = d[nr * (nh + 1) + nh];
  *n_ref = nr;
  g_free (d);
  g_strfreev (r);
  g_strfreev (h);
  return res;
}

static void
run_recognition (gint seeds)
{
  GstBidiAsrModel model = { NULL, };
  GstBidiListenerParams params;
  gdouble load_s, t;
  guint mixed;
  GError *err = NULL;
  GstBidiAsr *asr;

  gst_bidi_asr_model_set_defaults (&model);
  /* as the provider runs it with its built-in responder */
  model.bias = TRUE;
  gst_bidi_listener_params_init (&params);

  t = g_get_monotonic_time () / 1e6;
  asr = gst_bidi_asr_new (&model, &err);
  load_s = g_get_monotonic_time () / 1e6 - t;
  if (!asr) {
    bench_failed ("no speech model: %s", err->message);
    g_clear_error (&err);
    gst_bidi_asr_model_clear (&model);
    return;
  }
  gst_bidi_asr_free (asr);

  g_print ("\n== recognition (pocketsphinx en-us, %d x %u flite phrases per "
      "condition) ==\n", seeds, (guint) G_N_ELEMENTS (phrases));
  g_print ("  model load (ps_init): %.0f ms\n", load_s * 1000);
  g_print ("  %-34s %8s %8s %9s %9s %9s\n", "condition", "audio s", "RTF",
      "sentences", "WER", "intents");

  for (mixed = 0; mixed < 3; mixed++) {
    GString *misses = g_string_new (NULL);
    gdouble cpu = 0, audio = 0;
    guint ok = 0, total = 0, werr = 0, wref = 0, intents_ok = 0;
    gint seed;

    for (seed = 1; seed <= seeds; seed++) {
      GRand *rng = g_rand_new_with_seed (seed);
      Heard h = { g_ptr_array_new_with_free_func (g_free) };
      GstBidiListener *l;
      GArray *pcm = g_array_new (FALSE, FALSE, sizeof (gint16));
      guint i;

      /* mixed == 2: the VAD alone (no recogniser) */
      l = gst_bidi_listener_new (&params, mixed == 2 ? NULL :
          gst_bidi_asr_new (&model, NULL), on_heard, &h);
      for (i = 0; i < G_N_ELEMENTS (phrases); i++) {
        add_noise (pcm, MS (600), rng);
        add_speech (pcm, phrases[i], mixed == 1 ? rng : NULL, NULL, NULL);
        add_noise (pcm, MS (900), rng);
      }
      t = thread_cpu_s ();
      for (i = 0; i < pcm->len; i += CHUNK)
        gst_bidi_listener_push (l, &g_array_index (pcm, gint16, i),
            MIN (CHUNK, pcm->len - i));
      gst_bidi_listener_finish (l);
      cpu += thread_cpu_s () - t;
      audio += (gdouble) pcm->len / RATE;

      if (h.finals->len != G_N_ELEMENTS (phrases))
        bench_failed ("%u turns for %u phrases (seed %d)", h.finals->len,
            (guint) G_N_ELEMENTS (phrases), seed);
      for (i = 0; mixed < 2 && i < MIN (h.finals->len,
              G_N_ELEMENTS (phrases)); i++) {
        const gchar *hyp = g_ptr_array_index (h.finals, i);
        GstBidiIntent *a = gst_bidi_intent_classify (phrases[i]);
        GstBidiIntent *b = gst_bidi_intent_classify (hyp);
        guint nref;

        total++;
        ok += strcmp (hyp, phrases[i]) == 0;
        if (strcmp (hyp, phrases[i]) != 0 && seed == 1)
          g_string_append_printf (misses, "      \"%s\" -> \"%s\"\n",
              phrases[i], hyp);
        werr += word_errors (phrases[i], hyp, &nref);
        wref += nref;
        intents_ok += a->type == b->type && g_strcmp0 (a->expression,
            b->expression) == 0;
        gst_bidi_intent_free (a);
        gst_bidi_intent_free (b);
      }
      gst_bidi_listener_free (l);
      g_ptr_array_unref (h.finals);
      g_array_unref (pcm);
      g_rand_free (rng);
    }
    if (mixed < 2)
      g_print ("  %-34s %8.1f %8.3f %5u/%-3u %8.1f%% %5u/%-3u\n",
          mixed ? "noise between and over the speech" :
          "noise between the phrases", audio, cpu / audio, ok, total,
          wref ? 100.0 * werr / wref : 0, intents_ok, total);
    else
      g_print ("  %-34s %8.1f %8.4f\n", "VAD only (no recogniser)", audio,
          cpu / audio);
    if (misses->len)
      g_print ("    misheard (first seed):\n%s", misses->str);
    g_string_free (misses, TRUE);
  }
  g_print ("  (RTF = CPU seconds of the listener thread per second of "
      "input; intents = the built-in responder would do the same as for "
      "the true words)\n");
  gst_bidi_asr_model_clear (&model);
}

/* ------------------------------------------------------------------------
 * Sessions: appsrc (live, real time) ! bidiagent ! fakesink sync=true
 * ------------------------------------------------------------------------ */

typedef struct
{
  BenchSession b;
  gint64 first_answer_us;       /* first non-silent buffer since armed */
  gint64 last_answer_us;        /* the last non-silent buffer */
  gboolean armed;
  guint64 answer_samples;
} Sess;

static GstPadProbeReturn
sess_probe (G_GNUC_UNUSED GstPad * pad, GstPadProbeInfo * info,
    gpointer user_data)
{
  Sess *s = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP))
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&s->b.lock);
  s->last_answer_us = g_get_monotonic_time ();
  if (s->armed && !s->first_answer_us)
    s->first_answer_us = s->last_answer_us;
  s->answer_samples += gst_buffer_get_size (buf) / 2;
  g_cond_broadcast (&s->b.cond);
  g_mutex_unlock (&s->b.lock);
  return GST_PAD_PROBE_OK;
}

static Sess *
sess_new (void)
{
  gchar *config = opt_vad_end_ms > 0 ?
      g_strdup_printf ("config, vad-end-ms=%d", opt_vad_end_ms) : NULL;
  Sess *s = bench_session_new (sizeof (Sess), "! fakesink sync=true", config,
      sess_probe);

  g_free (config);
  return s;
}

/* ------------------------------------------------------------------------
 * 2. Latency
 * ------------------------------------------------------------------------ */

static void
run_latency (gint n_questions)
{
  GArray *from_speech = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GArray *from_vad = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GRand *rng = g_rand_new_with_seed (7);
  GstBidiVadParams vad;
  guint64 pos = 0;              /* samples pushed */
  guint n_early = 0;
  gint64 t0;
  Sess *s;
  gint q;

  gst_bidi_vad_params_init (&vad);
  if (opt_vad_end_ms > 0)
    vad.end_ms = opt_vad_end_ms;
  s = sess_new ();
  if (!bench_session_wait_connected (&s->b, 20 * G_USEC_PER_SEC)) {
    bench_failed ("latency: the provider did not connect: %s",
        GST_STR_NULL (s->b.error));
    bench_session_free (&s->b);
    return;
  }

  g_print ("\n== latency, built-in responder (appsrc live, real time ! "
      "bidiagent ! fakesink sync=true) ==\n");
  t0 = g_get_monotonic_time ();
  for (q = 0; q < n_questions; q++) {
    GArray *pcm = g_array_new (FALSE, FALSE, sizeof (gint16));
    GArray *push_us = g_array_new (FALSE, FALSE, sizeof (gint64));
    gsize end, i;
    guint completes;
    gint64 first = 0, deadline, t_end, t_vad;
    guint64 base = pos, audio_end_ms = 0;
    gchar *heard = NULL, *answer = NULL;

    add_noise (pcm, MS (600), rng);
    add_speech (pcm, questions[q % G_N_ELEMENTS (questions)], NULL, NULL, &end);
    add_noise (pcm, MS (vad.end_ms + 1000), rng);
    pad_chunks (pcm, rng);

    g_mutex_lock (&s->b.lock);
    completes = s->b.completes;
    s->armed = FALSE;
    s->first_answer_us = 0;
    g_mutex_unlock (&s->b.lock);

    for (i = 0; i < pcm->len; i += CHUNK) {
      gint64 now;

      bench_sleep_until (t0 + (gint64) (pos + CHUNK) * G_USEC_PER_SEC / RATE);
      now = g_get_monotonic_time ();
      if (i + CHUNK > end && !s->armed) {
        g_mutex_lock (&s->b.lock);
        s->armed = TRUE;
        g_mutex_unlock (&s->b.lock);
      }
      bench_session_push (&s->b, &g_array_index (pcm, gint16, i), CHUNK);
      g_array_append_val (push_us, now);
      pos += CHUNK;
    }

    /* the answer, then its playing time (so the next question is not a
     * barge-in) */
    deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
    g_mutex_lock (&s->b.lock);
    while (s->b.completes == completes && !s->b.error &&
        g_cond_wait_until (&s->b.cond, &s->b.lock, deadline));
    first = s->first_answer_us;
    audio_end_ms = s->b.user_audio_end_ms;
    heard = g_strdup (s->b.user);
    answer = g_strdup (s->b.answer);
    g_mutex_unlock (&s->b.lock);
    if (!first) {
      bench_failed ("latency: no answer to question %d", q);
      g_free (heard);
      g_free (answer);
      g_array_unref (pcm);
      g_array_unref (push_us);
      break;
    }

    /* when the chunk with the last speech sample was pushed; when the one
     * with the VAD's end-of-turn decision was */
    t_end = g_array_index (push_us, gint64, MIN (end / CHUNK,
            push_us->len - 1));
    {
      gint64 idx = (gint64) (audio_end_ms * RATE / 1000) - (gint64) base;

      /* the turn ended well before vad-end-ms of quiet */
      if (idx - (gint64) end < (gint64) MS (vad.end_ms) - (gint64) MS (100))
        n_early++;
      idx = idx > 0 ? (idx - 1) / CHUNK : 0;
      t_vad = g_array_index (push_us, gint64, MIN ((guint) idx,
              push_us->len - 1));
    }
    {
      gdouble a = (first - t_end) / 1000.0, b = (first - t_vad) / 1000.0;
      g_array_append_val (from_speech, a);
      g_array_append_val (from_vad, b);
      if (q < (gint) G_N_ELEMENTS (questions))
        g_print ("  \"%s\" -> \"%s\": %.0f ms after the speech, %.0f ms "
            "after the end of turn\n", heard, answer, a, b);
    }
    g_free (heard);
    g_free (answer);

    /* let the answer play out (no answer buffer for 800 ms), with noise
     * going in */
    {
      g_array_set_size (pcm, 0);
      for (;;) {
        gint64 last;

        g_mutex_lock (&s->b.lock);
        last = s->last_answer_us;
        g_mutex_unlock (&s->b.lock);
        if (g_get_monotonic_time () > last + 800 * 1000)
          break;
        add_noise (pcm, CHUNK, rng);
        bench_sleep_until (t0 + (gint64) (pos + CHUNK) * G_USEC_PER_SEC / RATE);
        bench_session_push (&s->b, (gint16 *) pcm->data, CHUNK);
        g_array_set_size (pcm, 0);
        pos += CHUNK;
      }
    }
    g_array_unref (pcm);
    g_array_unref (push_us);
  }

  g_print ("  %-52s %5s %8s %8s %8s   target\n", "", "n", "p50", "p90", "max");
  g_print ("  %-52s %5u %8.0f %8.0f %8.0f\n",
      "end of turn (the listener's decision) -> first sample", from_vad->len,
      bench_percentile (from_vad, 0.5), bench_percentile (from_vad, 0.9),
      bench_percentile (from_vad, 1.0));
  g_print ("  %-52s %5u %8.0f %8.0f %8.0f   p50 < %.0f ms\n",
      "end of speech -> first answer sample", from_speech->len,
      bench_percentile (from_speech, 0.5), bench_percentile (from_speech, 0.9),
      bench_percentile (from_speech, 1.0), TARGET_LATENCY_MS);
  g_print ("  (milliseconds; a turn ends after early-end-ms = %u of quiet "
      "when its words are a whole request, else after vad-end-ms = %u; "
      "early ends: %u of %u; interruptions: %u)\n",
      GST_BIDI_LISTENER_DEFAULT_EARLY_END_MS, vad.end_ms, n_early,
      from_speech->len, s->b.interruptions);
  if (s->b.interruptions)
    bench_failed ("latency: %u unexpected interruptions", s->b.interruptions);
  bench_session_free (&s->b);
  g_array_unref (from_speech);
  g_array_unref (from_vad);
  g_rand_free (rng);
}

/* ------------------------------------------------------------------------
 * 3. CPU and RSS per session
 * ------------------------------------------------------------------------ */

typedef struct
{
  Sess *sess;
  GArray *script;               /* gint16, looped */
  gsize pos;
} Feed;

/* Feeds every session in real time for @seconds; returns CPU s / wall s */
static gdouble
feed_sessions (Feed * feeds, guint n, gdouble seconds, gboolean speech)
{
  gint64 t0 = g_get_monotonic_time (), end = t0 + seconds * G_USEC_PER_SEC;
  GRand *rng = g_rand_new_with_seed (11);
  GArray *noise = g_array_new (FALSE, FALSE, sizeof (gint16));
  gdouble cpu0 = process_cpu_s ();
  guint64 k = 0;
  guint i;

  add_noise (noise, CHUNK * 50, rng);
  while (g_get_monotonic_time () < end) {
    k++;
    bench_sleep_until (t0 + (gint64) k * CHUNK_MS * 1000);
    for (i = 0; i < n; i++) {
      Feed *f = &feeds[i];
      const gint16 *data;

      if (speech) {
        data = &g_array_index (f->script, gint16, f->pos);
        f->pos = (f->pos + CHUNK) % f->script->len;
      } else {
        data = &g_array_index (noise, gint16, (k % 50) * CHUNK);
      }
      bench_session_push (&f->sess->b, data, CHUNK);
    }
  }
  g_array_unref (noise);
  g_rand_free (rng);
  return (process_cpu_s () - cpu0) / ((g_get_monotonic_time () - t0) / 1e6);
}

static void
run_cpu (guint n, gint seconds)
{
  Feed *feeds = g_new0 (Feed, n);
  glong rss0, rss1, rss2, anon0, anon2, file0, file2;
  gdouble idle, talk, audio_s = 0, speech_s = 0;
  guint i, turns = 0, answers = 0, interruptions = 0;

#ifdef __GLIBC__
  malloc_trim (0);
#endif
  rss0 = rss_kib ();
  anon0 = bench_status_kib ("RssAnon:");
  file0 = bench_status_kib ("RssFile:");
  for (i = 0; i < n; i++)
    feeds[i].sess = sess_new ();
  for (i = 0; i < n; i++)
    if (!bench_session_wait_connected (&feeds[i].sess->b,
            60 * G_USEC_PER_SEC))
      bench_failed ("cpu: session %u did not connect", i);

  /* each session: a question, then quiet while it is answered; the
   * sessions start at different points of the script */
  for (i = 0; i < n; i++) {
    GRand *rng = g_rand_new_with_seed (100 + i);
    GArray *s = g_array_new (FALSE, FALSE, sizeof (gint16));
    guint j;
    gsize start, end;

    for (j = 0; j < 2; j++) {
      add_noise (s, MS (1000), rng);
      add_speech (s, questions[(i + j) % G_N_ELEMENTS (questions)], NULL,
          &start, &end);
      speech_s += (gdouble) (end - start) / RATE;
      add_noise (s, MS (6000), rng);
    }
    pad_chunks (s, rng);
    feeds[i].script = s;
    feeds[i].pos = (s->len / n * i) / CHUNK * CHUNK;
    audio_s = (gdouble) s->len / RATE;
    g_rand_free (rng);
  }
  speech_s /= n;

  idle = feed_sessions (feeds, n, seconds / 2.0, FALSE);
  rss1 = rss_kib ();
  talk = feed_sessions (feeds, n, seconds, TRUE);
  rss2 = rss_kib ();
  anon2 = bench_status_kib ("RssAnon:");
  file2 = bench_status_kib ("RssFile:");

  for (i = 0; i < n; i++) {
    Sess *s = feeds[i].sess;
    g_mutex_lock (&s->b.lock);
    turns += s->b.turns;
    answers += s->b.completes;
    interruptions += s->b.interruptions;
    if (s->b.error)
      bench_failed ("cpu: session %u: %s", i, s->b.error);
    g_mutex_unlock (&s->b.lock);
  }

  g_print ("\n== CPU and RSS per session (%u sessions in this process, fed "
      "in real time) ==\n", n);
  g_print ("  listening to noise (%4.1f s):              %6.2f %% of a core "
      "per session\n", seconds / 2.0, 100 * idle / n);
  g_print ("  conversation (%4.1f s): a question (%.1f s of speech) every "
      "%.1f s:\n", (gdouble) seconds, speech_s / 2, audio_s / 2);
  g_print ("                                              %6.2f %% of a "
      "core per session\n", 100 * talk / n);
  g_print ("    turns %u, answers %u, interruptions %u\n", turns, answers,
      interruptions);
  g_print ("  RSS: %.1f MiB per session when connected, %.1f MiB after the "
      "conversation (process: %.0f MiB before, %.0f MiB after)\n",
      (rss1 - rss0) / 1024.0 / n, (rss2 - rss0) / 1024.0 / n, rss0 / 1024.0,
      rss2 / 1024.0);
  g_print ("    of which anonymous (heap) %.1f MiB, file-backed (mapped model "
      "files, shared with other processes) %.1f MiB per session\n",
      (anon2 - anon0) / 1024.0 / n, (file2 - file0) / 1024.0 / n);
  if (turns == 0 || answers == 0)
    bench_failed ("cpu: the sessions did not converse");

  for (i = 0; i < n; i++) {
    bench_session_free (&feeds[i].sess->b);
    g_array_unref (feeds[i].script);
  }
  g_free (feeds);
}

int
main (int argc, char **argv)
{
  GOptionContext *ctx = g_option_context_new ("- local provider benchmark");
  GError *err = NULL;
  gchar *cpuinfo = NULL, *model = NULL;
  gint64 t_start;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (opt_sessions < 0)
    opt_sessions = opt_quick ? 2 : 4;
  if (opt_seconds < 0)
    opt_seconds = opt_quick ? 6 : 20;
  if (opt_questions < 0)
    opt_questions = opt_quick ? 4 : 20;
  if (opt_seeds < 0)
    opt_seeds = opt_quick ? 1 : 3;

  if (g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL)) {
    gchar *p = strstr (cpuinfo, "model name");
    if (p && (p = strchr (p, ':')))
      model = g_strndup (p + 2, strcspn (p + 2, "\n"));
  }
  g_print ("localbench: gst-bidi %s, %s\n", VERSION, gst_version_string ());
  g_print ("machine: %ld CPUs, %s\n", sysconf (_SC_NPROCESSORS_ONLN),
      GST_STR_NULL (model));
  g_free (cpuinfo);
  g_free (model);

  t_start = g_get_monotonic_time ();
  if (!opt_only || g_strcmp0 (opt_only, "asr") == 0)
    run_recognition (opt_seeds);
  if (!opt_only || g_strcmp0 (opt_only, "latency") == 0)
    run_latency (opt_questions);
  if (!opt_only || g_strcmp0 (opt_only, "cpu") == 0)
    run_cpu (opt_sessions, opt_seconds);

  g_print ("\n(figures only: nothing here fails on a time; total run %.0f s;"
      " %d problem%s)\n", (g_get_monotonic_time () - t_start) / 1e6,
      bench_failures (), bench_failures () == 1 ? "" : "s");
  g_free (opt_only);
  return bench_failures () ? 1 : 0;
}
