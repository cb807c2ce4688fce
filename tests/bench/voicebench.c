/* gst-bidi: what a user of the offline voice hears
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* voicebench: spoken questions, each made with several flite voices at run
 * time, go through bidiagent provider=local in a live pipeline fed in real
 * time (appsrc ! bidiagent ! fakesink sync=true). It prints
 *
 *  - the share heard right: the user's final transcript is the question's
 *    words (both normalised as the responder does);
 *  - the share answered right: the answer is the one the responder gives
 *    to the true words (the time, the date, the right sum, goodbye; any
 *    refusal for the questions it should refuse);
 *  - end of speech -> first audible answer sample (the first output sample
 *    above -40 dBFS), on the pipeline's running time: the input's from
 *    the clock when the chunk with the last speech sample went in, the
 *    output's from the timestamps of bidiagent's src pad;
 *
 * overall and per voice, with the misses. It never fails on a figure: the
 * exit status is non-zero only when something does not work (no
 * connection, no answer, an error, an interruption).
 *
 * Run: meson test -C build --benchmark -v voicebench, or
 *      GST_PLUGIN_PATH=build/gst/bidiagent build/tests/bench/voicebench
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/audio/audio.h>

#include "gstbidiintents.h"
#include "gstbiditts.h"
#include "benchutil.h"

#define RATE 16000
#define CHUNK_MS 20
#define CHUNK (RATE * CHUNK_MS / 1000)
#define MS(n) ((gsize) (n) * RATE / 1000)
#define NOISE_50DB 179.5
/* -40 dBFS: flite's near-silence is below it, speech above */
#define AUDIBLE 328
#define ANSWER_TIMEOUT_S 25

typedef enum
{
  EXPECT_TIME,
  EXPECT_DATE,
  EXPECT_CALC,
  EXPECT_STOP,
  EXPECT_REFUSE,
} Expect;

typedef struct
{
  const gchar *text;
  Expect expect;
  gdouble result;               /* EXPECT_CALC */
} Question;

/* every intent of the responder (gstbidiintents.c), in the words people
 * use and with the tools' names, and questions it should refuse. The stop
 * questions end the session: each gets a session of its own. */
static const Question questions[] = {
  {"what time is it", EXPECT_TIME, 0},
  {"what is the time", EXPECT_TIME, 0},
  {"tell me the time", EXPECT_TIME, 0},
  {"what is the current time", EXPECT_TIME, 0},
  {"what time is it now", EXPECT_TIME, 0},
  {"what is the date today", EXPECT_DATE, 0},
  {"what day is it", EXPECT_DATE, 0},
  {"what is the date", EXPECT_DATE, 0},
  {"what year is it", EXPECT_DATE, 0},
  {"what month is it", EXPECT_DATE, 0},
  {"what is twenty five times forty eight", EXPECT_CALC, 1200},
  {"what is seven times eight", EXPECT_CALC, 56},
  {"what is seven divided by two", EXPECT_CALC, 3.5},
  {"what is twelve plus thirty", EXPECT_CALC, 42},
  {"what is one hundred and five minus seven", EXPECT_CALC, 98},
  {"what is two to the power of ten", EXPECT_CALC, 1024},
  {"what is nine squared", EXPECT_CALC, 81},
  {"what is eighty one divided by nine", EXPECT_CALC, 9},
  {"how much is fifteen plus twenty seven", EXPECT_CALC, 42},
  {"what is six times seven", EXPECT_CALC, 42},
  {"what is three hundred minus forty", EXPECT_CALC, 260},
  {"what is eight plus eight", EXPECT_CALC, 16},
  {"calculate eleven times eleven", EXPECT_CALC, 121},
  {"what is four times four", EXPECT_CALC, 16},
  {"tell me a story about a dragon", EXPECT_REFUSE, 0},
  {"what is the weather like", EXPECT_REFUSE, 0},
  {"play some music", EXPECT_REFUSE, 0},
  {"what is your name", EXPECT_REFUSE, 0},
  {"who wrote this song", EXPECT_REFUSE, 0},
  {"open the door please", EXPECT_REFUSE, 0},
  {"goodbye", EXPECT_STOP, 0},
  {"stop the conversation", EXPECT_STOP, 0},
  {"end the conversation", EXPECT_STOP, 0},
};

static gchar *opt_voices = NULL;
static gchar *opt_config = NULL;
static gboolean opt_quick = FALSE;
static gboolean opt_verbose = FALSE;

static GOptionEntry entries[] = {
  {"voices", 'V', 0, G_OPTION_ARG_STRING, &opt_voices,
      "flite voices of the questions (default slt,kal,rms)", "LIST"},
  {"quick", 'q', 0, G_OPTION_ARG_NONE, &opt_quick,
      "Every fourth question only (smoke test)", NULL},
  {"verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
      "Print every question, not only the misses", NULL},
  {"provider-config", 'c', 0, G_OPTION_ARG_STRING, &opt_config,
      "bidiagent's provider-config (e.g. \"local, early-end-ms=100\")",
      "STRUCTURE"},
  {NULL, 0, 0, 0, NULL, NULL, NULL}
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

/* flite's @text in @voice; *end: after its last sample above -40 dBFS */
static gboolean
add_speech (GArray * pcm, const gchar * voice, const gchar * text,
    gsize * end)
{
  GBytes *b = gst_bidi_tts_synthesize_seeded (voice, text, 1, NULL);
  const gint16 *s;
  gsize size, n, i, last = 0;

  if (!b)
    return FALSE;
  s = g_bytes_get_data (b, &size);
  n = size / 2;
  for (i = 0; i < n; i++)
    if (ABS (s[i]) > AUDIBLE)
      last = i + 1;
  *end = pcm->len + last;
  g_array_append_vals (pcm, s, n);
  g_bytes_unref (b);
  return last > 0;
}

/* ------------------------------------------------------------------------
 * A session: appsrc (live, real time) ! bidiagent ! fakesink sync=true
 * ------------------------------------------------------------------------ */

typedef struct
{
  BenchSession b;
  gboolean armed;
  GstClockTime first_audible;   /* running time, since armed */
  GstClockTime last_audible;
  GstClockTime played_until;    /* running time: end of any audible sample */
} Sess;

static GstPadProbeReturn
out_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Sess *s = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstAudioInfo ai;
  GstMapInfo map;
  gsize i, n, first = G_MAXSIZE, last = 0;

  if (!caps || !gst_audio_info_from_caps (&ai, caps) ||
      GST_AUDIO_INFO_FORMAT (&ai) != GST_AUDIO_FORMAT_S16 ||
      !GST_BUFFER_PTS_IS_VALID (buf) ||
      !gst_buffer_map (buf, &map, GST_MAP_READ)) {
    gst_clear_caps (&caps);
    return GST_PAD_PROBE_OK;
  }
  n = map.size / 2 / GST_AUDIO_INFO_CHANNELS (&ai);
  for (i = 0; i < n * GST_AUDIO_INFO_CHANNELS (&ai); i++) {
    gint16 v = ((const gint16 *) map.data)[i];

    if (ABS (v) > AUDIBLE) {
      if (first == G_MAXSIZE)
        first = i / GST_AUDIO_INFO_CHANNELS (&ai);
      last = i / GST_AUDIO_INFO_CHANNELS (&ai) + 1;
    }
  }
  gst_buffer_unmap (buf, &map);

  if (first != G_MAXSIZE) {
    GstClockTime pts = GST_BUFFER_PTS (buf);

    g_mutex_lock (&s->b.lock);
    s->played_until = pts + gst_util_uint64_scale (last, GST_SECOND,
        GST_AUDIO_INFO_RATE (&ai));
    if (s->armed && !GST_CLOCK_TIME_IS_VALID (s->first_audible))
      s->first_audible = pts + gst_util_uint64_scale (first, GST_SECOND,
          GST_AUDIO_INFO_RATE (&ai));
    if (s->armed)
      s->last_audible = pts + gst_util_uint64_scale (last, GST_SECOND,
          GST_AUDIO_INFO_RATE (&ai));
    g_cond_broadcast (&s->b.cond);
    g_mutex_unlock (&s->b.lock);
  }
  gst_caps_unref (caps);
  return GST_PAD_PROBE_OK;
}

static Sess *
sess_new (void)
{
  Sess *s = bench_session_new (sizeof (Sess), "provider=local ! "
      "audio/x-raw,format=S16LE ! fakesink sync=true", opt_config, out_probe);

  s->first_audible = s->last_audible = GST_CLOCK_TIME_NONE;
  return s;
}

/* ------------------------------------------------------------------------
 * Scoring
 * ------------------------------------------------------------------------ */

typedef struct
{
  const gchar *voice;
  guint n, heard_ok, answered_ok;
  GArray *latency_ms;           /* gdouble */
  GArray *refusal_ms;           /* gdouble: how long a refusal plays */
  GString *misses;
} Tally;

static gboolean
heard_right (const gchar * question, const gchar * heard)
{
  gchar *a = gst_bidi_intent_normalize (question);
  gchar *b = gst_bidi_intent_normalize (heard);
  gboolean ok;

  /* the dictionary spells it both ways */
  if (g_str_has_prefix (b, "good bye"))
    memmove (b + 4, b + 5, strlen (b + 5) + 1);
  ok = strcmp (a, b) == 0;
  g_free (a);
  g_free (b);
  return ok;
}

static gboolean
is_refusal (const gchar * answer)
{
  return g_str_has_prefix (answer, "You said") ||
      g_str_has_prefix (answer, "I did not catch") ||
      g_str_has_prefix (answer, "I cannot") ||
      g_str_has_prefix (answer, "I can only") ||
      g_str_has_prefix (answer, "I only know") ||
      (g_str_has_prefix (answer, "Sorry") &&
      !g_str_has_prefix (answer, "Sorry, I could not"));
}

/* The answer the responder gives to the true words */
static gchar *
expected_calc_answer (const Question * q)
{
  GstBidiIntent *in = gst_bidi_intent_classify (q->text);
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE], *json, *ret;

  json = g_strdup_printf ("{\"result\": %s}", g_ascii_dtostr (buf,
          sizeof (buf), q->result));
  ret = gst_bidi_intent_answer (in, json, TRUE);
  g_free (json);
  gst_bidi_intent_free (in);
  return ret;
}

static gboolean
answered_right (const Question * q, const gchar * answer)
{
  gchar *want;
  gboolean ok;

  if (!answer)
    return FALSE;
  switch (q->expect) {
    case EXPECT_TIME:
      return g_str_has_prefix (answer, "It is ");
    case EXPECT_DATE:
      return g_str_has_prefix (answer, "Today is ");
    case EXPECT_STOP:
      return strcmp (answer, "Goodbye.") == 0;
    case EXPECT_REFUSE:
      return is_refusal (answer);
    case EXPECT_CALC:
    default:
      want = expected_calc_answer (q);
      ok = g_ascii_strcasecmp (want, answer) == 0;
      g_free (want);
      return ok;
  }
}

/* ------------------------------------------------------------------------
 * Questions
 * ------------------------------------------------------------------------ */

typedef struct
{
  Sess *s;
  GRand *rng;
  gint64 t0;                    /* monotonic time of sample 0 */
  guint64 pos;                  /* samples pushed */
} Feed;

/* Pushes @n samples of @pcm in real time; returns the running time at
 * which the sample @mark (an index in @pcm, or G_MAXSIZE) went in */
static GstClockTime
feed_pcm (Feed * f, GArray * pcm, gsize mark)
{
  GstClockTime at = GST_CLOCK_TIME_NONE;
  gsize i;

  for (i = 0; i < pcm->len; i += CHUNK) {
    gsize n = MIN (CHUNK, pcm->len - i);

    bench_sleep_until (f->t0 + (gint64) (f->pos + n) * G_USEC_PER_SEC / RATE);
    if (mark != G_MAXSIZE && mark >= i && mark <= i + n &&
        !GST_CLOCK_TIME_IS_VALID (at)) {
      GstClockTime now = bench_session_running_time (&f->s->b);

      /* the chunk goes in now that its last sample is due: the mark was
       * (i + n - mark) samples ago */
      at = now - MIN (now, gst_util_uint64_scale (i + n - mark, GST_SECOND,
              RATE));
      g_mutex_lock (&f->s->b.lock);
      f->s->armed = TRUE;
      g_mutex_unlock (&f->s->b.lock);
    }
    bench_session_push (&f->s->b, &g_array_index (pcm, gint16, i), n);
    f->pos += n;
  }
  return at;
}

/* Noise in real time until @done says so or @timeout_s */
static gboolean
feed_noise_until (Feed * f, gboolean (*done) (Sess * s), gdouble timeout_s)
{
  GArray *noise = g_array_new (FALSE, FALSE, sizeof (gint16));
  gint64 end = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
  gboolean ok = FALSE;

  while (g_get_monotonic_time () < end) {
    g_mutex_lock (&f->s->b.lock);
    ok = done (f->s);
    g_mutex_unlock (&f->s->b.lock);
    if (ok)
      break;
    g_array_set_size (noise, 0);
    add_noise (noise, CHUNK, f->rng);
    feed_pcm (f, noise, G_MAXSIZE);
  }
  g_array_unref (noise);
  return ok;
}

static gboolean
answer_done (Sess * s)
{
  return s->b.error || s->b.eos || (s->b.completes > 0 && s->b.answer &&
      GST_CLOCK_TIME_IS_VALID (s->first_audible));
}

/* the answer played out: its last audible sample is 500 ms in the past of
 * the running time (so the next question is no barge-in) */
static gboolean
answer_played (Sess * s)
{
  GstClockTime now = bench_session_running_time (&s->b);

  return s->b.error || s->b.eos || (GST_CLOCK_TIME_IS_VALID (now) &&
      now > s->played_until + 500 * GST_MSECOND);
}

static void
ask (Feed * f, const Question * q, Tally * t)
{
  Sess *s = f->s;
  GArray *pcm = g_array_new (FALSE, FALSE, sizeof (gint16));
  GstClockTime speech_end, first, last;
  gchar *heard, *answer;
  gsize end = 0;
  gboolean got, h_ok, a_ok;

  add_noise (pcm, MS (600), f->rng);
  if (!add_speech (pcm, t->voice, q->text, &end))
    bench_failed ("flite %s could not say \"%s\"", t->voice, q->text);

  g_mutex_lock (&s->b.lock);
  s->armed = FALSE;
  s->first_audible = s->last_audible = GST_CLOCK_TIME_NONE;
  s->b.completes = 0;
  g_clear_pointer (&s->b.user, g_free);
  g_clear_pointer (&s->b.answer, g_free);
  g_mutex_unlock (&s->b.lock);

  speech_end = feed_pcm (f, pcm, end);
  got = feed_noise_until (f, answer_done, ANSWER_TIMEOUT_S);
  g_array_unref (pcm);
  if (q->expect != EXPECT_STOP)
    feed_noise_until (f, answer_played, 30);

  g_mutex_lock (&s->b.lock);
  heard = g_strdup (s->b.user ? s->b.user : "");
  answer = g_strdup (s->b.answer);
  first = s->first_audible;
  last = s->last_audible;
  if (s->b.error)
    bench_failed ("%s \"%s\": %s", t->voice, q->text, s->b.error);
  g_mutex_unlock (&s->b.lock);

  t->n++;
  if (!got || !answer || !GST_CLOCK_TIME_IS_VALID (first)) {
    bench_failed ("%s \"%s\": no answer (heard \"%s\")", t->voice, q->text,
        heard);
  } else {
    gdouble ms = GST_CLOCK_DIFF (speech_end, first) / 1e6;

    g_array_append_val (t->latency_ms, ms);
    /* what played was a refusal (a question to refuse may be misheard
     * and answered) */
    if (is_refusal (answer)) {
      gdouble play = GST_CLOCK_DIFF (first, last) / 1e6;
      g_array_append_val (t->refusal_ms, play);
    }
  }
  h_ok = heard_right (q->text, heard);
  a_ok = answered_right (q, answer);
  t->heard_ok += h_ok;
  t->answered_ok += a_ok;
  if (!a_ok || !h_ok || opt_verbose)
    g_string_append_printf (t->misses, "    %s %s %-40s heard \"%s\" -> "
        "\"%s\" (%.0f ms)\n", h_ok ? " " : "H", a_ok ? " " : "A", q->text,
        heard, GST_STR_NULL (answer), GST_CLOCK_TIME_IS_VALID (first) ?
        GST_CLOCK_DIFF (speech_end, first) / 1e6 : -1.0);
  g_free (heard);
  g_free (answer);
}

static void
run_voice (Tally * t, guint step)
{
  Feed f = { NULL, };
  guint i;

  f.rng = g_rand_new_with_seed (7);
  /* the questions that do not end the session, in one conversation */
  f.s = sess_new ();
  if (!bench_session_wait_connected (&f.s->b, 30 * G_USEC_PER_SEC)) {
    bench_failed ("%s: no connection: %s", t->voice,
        GST_STR_NULL (f.s->b.error));
    goto done;
  }
  f.t0 = g_get_monotonic_time ();
  for (i = 0; i < G_N_ELEMENTS (questions); i += step)
    if (questions[i].expect != EXPECT_STOP)
      ask (&f, &questions[i], t);
  if (f.s->b.interruptions)
    bench_failed ("%s: %u unexpected interruptions", t->voice,
        f.s->b.interruptions);

  /* each stop question in a session of its own */
  for (i = 0; i < G_N_ELEMENTS (questions); i++) {
    if (questions[i].expect != EXPECT_STOP)
      continue;
    bench_session_free (&f.s->b);
    f.s = sess_new ();
    if (!bench_session_wait_connected (&f.s->b, 30 * G_USEC_PER_SEC)) {
      bench_failed ("%s: no connection", t->voice);
      goto done;
    }
    f.t0 = g_get_monotonic_time ();
    f.pos = 0;
    ask (&f, &questions[i], t);
  }
done:
  bench_session_free (&f.s->b);
  g_rand_free (f.rng);
}

static void
print_row (const gchar * name, guint n, guint heard, guint answered,
    GArray * lat, GArray * refusal)
{
  g_print ("  %-8s %4u %7.1f%% %9.1f%% %7.0f %7.0f %7.0f %9.0f\n", name, n,
      n ? 100.0 * heard / n : 0, n ? 100.0 * answered / n : 0,
      bench_percentile (lat, 0.5), bench_percentile (lat, 0.9),
      bench_percentile (lat, 1.0), bench_percentile (refusal, 1.0));
}

int
main (int argc, char **argv)
{
  GOptionContext *ctx = g_option_context_new ("- offline voice benchmark");
  GError *err = NULL;
  gchar **voices;
  Tally *tallies;
  GArray *all_lat, *all_ref;
  guint n_voices, i, n = 0, heard = 0, answered = 0, step;
  gint64 t_start;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  voices = g_strsplit (opt_voices ? opt_voices : "slt,kal,rms", ",", -1);
  n_voices = g_strv_length (voices);
  step = opt_quick ? 4 : 1;
  for (i = 0; i < n_voices; i++) {
    if (!gst_bidi_tts_voice_exists (voices[i])) {
      g_printerr ("no flite voice \"%s\" (flite has %s)\n", voices[i],
          gst_bidi_tts_voice_names ());
      return 2;
    }
  }

  g_print ("voicebench: gst-bidi %s, %s\n", VERSION, gst_version_string ());
  g_print ("%u questions x %u voices (%s), through appsrc (live, real time) "
      "! bidiagent provider=local ! fakesink sync=true\n",
      (guint) G_N_ELEMENTS (questions), n_voices,
      opt_voices ? opt_voices : "slt,kal,rms");
  t_start = g_get_monotonic_time ();
  tallies = g_new0 (Tally, n_voices);
  all_lat = g_array_new (FALSE, FALSE, sizeof (gdouble));
  all_ref = g_array_new (FALSE, FALSE, sizeof (gdouble));
  for (i = 0; i < n_voices; i++) {
    Tally *t = &tallies[i];

    t->voice = voices[i];
    t->latency_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
    t->refusal_ms = g_array_new (FALSE, FALSE, sizeof (gdouble));
    t->misses = g_string_new (NULL);
    bench_set_name (t->voice);
    run_voice (t, step);
    n += t->n;
    heard += t->heard_ok;
    answered += t->answered_ok;
    g_array_append_vals (all_lat, t->latency_ms->data, t->latency_ms->len);
    g_array_append_vals (all_ref, t->refusal_ms->data, t->refusal_ms->len);
  }

  g_print ("\n  misses (H: heard wrong, A: answered wrong):\n");
  for (i = 0; i < n_voices; i++)
    if (tallies[i].misses->len)
      g_print ("  %s:\n%s", tallies[i].voice, tallies[i].misses->str);

  g_print ("\n  %-8s %4s %8s %10s %7s %7s %7s %9s\n", "voice", "n", "heard",
      "answered", "p50", "p90", "max", "refusal");
  for (i = 0; i < n_voices; i++)
    print_row (tallies[i].voice, tallies[i].n, tallies[i].heard_ok,
        tallies[i].answered_ok, tallies[i].latency_ms, tallies[i].refusal_ms);
  print_row ("all", n, heard, answered, all_lat, all_ref);
  g_print ("  (p50/p90/max: end of speech -> first audible answer sample "
      "(> -40 dBFS), ms of running time; refusal: the longest refusal "
      "played, ms. Targets: answered >= 90%%, p50 < 250 ms)\n");
  g_print ("\n(figures only: nothing here fails on a figure; total run %.0f "
      "s; %d problem%s)\n", (g_get_monotonic_time () - t_start) / 1e6,
      bench_failures (), bench_failures () == 1 ? "" : "s");

  for (i = 0; i < n_voices; i++) {
    g_array_unref (tallies[i].latency_ms);
    g_array_unref (tallies[i].refusal_ms);
    g_string_free (tallies[i].misses, TRUE);
  }
  g_free (tallies);
  g_array_unref (all_lat);
  g_array_unref (all_ref);
  g_strfreev (voices);
  g_free (opt_voices);
  g_free (opt_config);
  return bench_failures () ? 1 : 0;
}
