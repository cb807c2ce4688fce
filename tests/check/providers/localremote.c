/* gst-bidi: the local provider with a transcription server (asr-url) and a
 * speech server (tts-url), against a mock of both on 127.0.0.1
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The user's speech is made at test time with flite (slt voice, 16 kHz).
 * The mock's answers differ from what pocketsphinx and flite would give,
 * so that every check tells which one was used. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <gst/check/gstcheck.h>

#include "gstbidiremote.h"
#include "gstbiditts.h"
#include "gstbidivad.h"
#include "leftover.h"
#include "mockspeech.h"
#include "session.h"

#define RATE 16000
#define FRAME (RATE * GST_BIDI_VAD_FRAME_MS / 1000)
#define MS(n) ((gsize) (n) * RATE / 1000)

/* valgrind is 10 to 50 times slower: the waits and the mock's delays scale
 * with this */
static guint slow = 1;
#define WAIT_MS (30000 * slow)

#define APPSRC_DESC \
  "appsrc name=src is-live=false format=time block=true " \
  "caps=audio/x-raw,format=S16LE,rate=16000,channels=1,layout=interleaved ! "
#define AGENT_DESC APPSRC_DESC "bidiagent name=agent ! " \
  "audio/x-raw,format=S16LE,rate=16000,channels=1 ! " \
  "fakesink name=sink sync=false"

/* ------------------------------------------------------------------------
 * Fixtures
 * ------------------------------------------------------------------------ */

/* flite's @text between stretches of quiet (a little noise, as a room
 * has), in whole frames */
static GArray *
make_phrase (const gchar * text, guint before_ms, guint after_ms)
{
  GArray *pcm = g_array_new (FALSE, FALSE, sizeof (gint16));
  GRand *rng = g_rand_new_with_seed (16);
  GError *err = NULL;
  GBytes *speech = gst_bidi_tts_synthesize_seeded ("slt", text, 1, &err);
  gsize i, n = MS (before_ms) + MS (after_ms), size;
  const gint16 *s;

  fail_unless (speech != NULL, "flite: %s", err ? err->message : "?");
  s = g_bytes_get_data (speech, &size);
  for (i = 0; i < MS (before_ms); i++) {
    gint16 v = (gint16) g_rand_int_range (rng, -180, 180);
    g_array_append_val (pcm, v);
  }
  g_array_append_vals (pcm, s, size / 2);
  for (i = MS (before_ms); i < n || pcm->len % FRAME; i++) {
    gint16 v = (gint16) g_rand_int_range (rng, -180, 180);
    g_array_append_val (pcm, v);
  }
  g_bytes_unref (speech);
  g_rand_free (rng);
  return pcm;
}

/* A sine of @freq Hz at @rate, @ms long, little endian */
static GBytes *
make_sine (guint rate, guint freq, guint ms)
{
  gsize n = (gsize) rate * ms / 1000, i;
  gint16 *d = g_new (gint16, n);

  for (i = 0; i < n; i++)
    d[i] = GINT16_TO_LE ((gint16) (12000 * sin (2 * G_PI * freq * i / rate)));
  return g_bytes_new_take (d, n * 2);
}

/* Audio no voice makes: a saw-tooth with a step every 7 samples, so that
 * any change shows */
static GBytes *
make_pattern (guint ms)
{
  gsize n = MS (ms), i;
  gint16 *d = g_new (gint16, n);

  for (i = 0; i < n; i++)
    d[i] = GINT16_TO_LE ((gint16) ((i % 7) * 3000 - 9000 + (i / 7) % 5));
  return g_bytes_new_take (d, n * 2);
}

static Session *
remote_session (GstStructure * config)
{
  Session *s = session_create (AGENT_DESC, RATE, 2, WAIT_MS);

  g_object_set (s->agent, "provider-config", config, NULL);
  gst_structure_free (config);
  session_start (s);
  session_wait_connected (s);
  return s;
}

static void
say (Session * s, const gchar * text)
{
  GArray *pcm = make_phrase (text, 400, 1200);

  session_push (s, (gint16 *) pcm->data, pcm->len, FRAME);
  g_array_unref (pcm);
}

/* Index of the final user transcript after @from, which must come */
static gint
wait_user_final (Session * s, guint from)
{
  gint i;

  do {
    i = session_wait (s, from, "bidi_transcript_stream", "is_final", "true",
        WAIT_MS);
    fail_unless (i >= 0, "no final transcript");
    from = i + 1;
  } while (g_strcmp0 (gst_structure_get_string (session_msg (s, i), "role"),
          "user") != 0);
  return i;
}

static void
send_text (Session * s, const gchar * text)
{
  gboolean ok = FALSE;

  g_signal_emit_by_name (s->agent, "send-text", text, &ok);
  fail_unless (ok);
}

/* The answer's audio at the sink is speech rather than silence */
static void
check_audible (Session * s)
{
  gdouble level;
  gsize n;

  g_mutex_lock (&s->lock);
  n = s->answer->len / 2;
  level = gst_bidi_vad_level_db ((const gint16 *) s->answer->data, n);
  g_mutex_unlock (&s->lock);
  fail_unless (n >= MS (200), "only %" G_GSIZE_FORMAT " ms of answer",
      n * 1000 / RATE);
  fail_unless (level > -35, "the answer is silent (%.1f dBFS)", level);
}

/* The bidi_error with @code after @from, which must be there; its
 * message */
static const gchar *
warning_message (Session * s, const gchar * code)
{
  gint i = session_wait (s, 0, "bidi_error", "code", code, WAIT_MS);

  fail_unless (i >= 0, "no %s warning", code);
  return gst_structure_get_string (session_msg (s, i), "message");
}

static void
assert_no_problems (MockSpeech * m)
{
  gchar *p = mock_speech_problems (m);

  fail_unless (p == NULL, "bad requests: %s", p);
}

/* Zero crossings per second of @pcm at RATE */
static gdouble
crossings_per_s (const gint16 * pcm, gsize n)
{
  gsize i, c = 0;

  for (i = 1; i < n; i++)
    if ((pcm[i - 1] < 0) != (pcm[i] < 0))
      c++;
  return n ? (gdouble) c * RATE / n : 0;
}

/* ------------------------------------------------------------------------
 * Settings
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_bad_settings)
{
  static const gchar *bad[] = {
    "c, asr-url=(string)\"ftp://127.0.0.1/\"",
    "c, asr-url=(string)\"http://example.com:8080\"",
    "c, tts-url=(string)\"not-a-url\"",
    "c, tts-url=(string)\"http://user:pw@127.0.0.1:8000\"",
    "c, tts-format=(string)mp3",
    "c, tts-rate=(int)100",
    "c, asr-timeout-ms=(int)5",
    "c, tts-timeout-ms=(string)soon",
    "c, asr-model=(int)3",
  };
  guint k;

  /* each message names the field */
  for (k = 0; k < G_N_ELEMENTS (bad); k++)
    session_assert_config_refused (bad[k], TRUE);

  /* the URL rules themselves */
  fail_unless (gst_bidi_remote_check_url ("asr-url", "http://127.0.0.1:9",
          NULL));
  fail_unless (gst_bidi_remote_check_url ("asr-url",
          "https://speech.example.com/v1/", NULL));
  fail_unless (gst_bidi_remote_check_url ("asr-url", "http://localhost/v1",
          NULL));
  fail_if (gst_bidi_remote_check_url ("asr-url", "http://10.0.0.2:80", NULL));
  fail_if (gst_bidi_remote_check_url ("asr-url", "", NULL));
  fail_if (gst_bidi_remote_check_url ("asr-url", "ws://127.0.0.1", NULL));
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Transcription
 * ------------------------------------------------------------------------ */

/* The server's words are the turn's: the built-in responder answers them
 * (pocketsphinx heard something else entirely) */
GST_START_TEST (test_asr_transcript)
{
  MockSpeech *m = mock_speech_new ();
  gchar *url = g_strdup_printf ("%s/v1/", mock_speech_url (m));
  Session *s;
  gint i_user, i_done, i;
  gchar *v;
  gint16 *audio;
  gsize n = 0;
  guint rate = 0;

  mock_speech_set_transcript (m, " What time is it?", 0);
  s = remote_session (gst_structure_new ("c", "asr-url", G_TYPE_STRING, url,
          "asr-model", G_TYPE_STRING, "ggml-base.en", NULL));
  say (s, "the weather is nice");
  session_end_input (s);

  i_user = wait_user_final (s, 0);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_user), "text"), "What time is it?");
  i_done = session_wait (s, i_user, "bidi_response_complete", NULL, NULL,
      WAIT_MS);
  fail_unless (i_done > i_user);
  /* the time, from the built-in responder's tool */
  fail_unless (session_wait (s, i_user, "tool_use_stream", "name",
          "current_time", 0) > i_user);
  i = session_wait (s, i_user + 1, "bidi_transcript_stream", "is_final",
      "true", 0);
  fail_unless (i > i_user && i < i_done);
  fail_unless (g_str_has_prefix (gst_structure_get_string (session_msg (s,
                  i), "text"), "It is "), "%s",
      gst_structure_get_string (session_msg (s, i), "text"));
  fail_unless (session_wait (s, i_done, "bidi_connection_close", "reason",
          "complete", WAIT_MS) > i_done);
  fail_unless (session_wait (s, i_done, "eos", NULL, NULL, WAIT_MS) > i_done);
  check_audible (s);
  fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 0);

  /* one request, as the server wants it */
  fail_unless_equals_int (mock_speech_n_requests (m, MOCK_SPEECH_ASR), 1);
  assert_no_problems (m);
  v = mock_speech_get_path (m, MOCK_SPEECH_ASR, 0);
  fail_unless_equals_string (v, "/v1/audio/transcriptions");
  g_free (v);
  v = mock_speech_get_field (m, MOCK_SPEECH_ASR, 0, "model");
  fail_unless_equals_string (v, "ggml-base.en");
  g_free (v);
  v = mock_speech_get_field (m, MOCK_SPEECH_ASR, 0, "response_format");
  fail_unless_equals_string (v, "json");
  g_free (v);
  /* the WAV holds the turn: the phrase, at the listener's rate */
  audio = mock_speech_get_audio (m, 0, &rate, &n);
  fail_unless (audio != NULL);
  fail_unless_equals_int (rate, RATE);
  fail_unless (n > MS (800) && n < MS (6000), "%" G_GSIZE_FORMAT " ms",
      n * 1000 / RATE);
  fail_unless (gst_bidi_vad_level_db (audio, n) > -35, "no speech in it");
  g_free (audio);

  session_free (s);
  mock_speech_free (m);
  g_free (url);
}

GST_END_TEST;

/* A server that is not there: pocketsphinx's words, over two turns, with
 * one warning */
GST_START_TEST (test_asr_down)
{
  MockSpeech *gone = mock_speech_new ();
  gchar *url = g_strdup (mock_speech_url (gone));
  Session *s;
  gint i1, i2;
  const gchar *msg;

  mock_speech_free (gone);
  s = remote_session (gst_structure_new ("c", "asr-url", G_TYPE_STRING, url,
          NULL));
  say (s, "what time is it");
  i1 = wait_user_final (s, 0);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s, i1),
          "text"), "what time is it");
  fail_unless (session_wait (s, i1, "bidi_response_complete", NULL, NULL,
          WAIT_MS) > i1);
  say (s, "what time is it");
  session_end_input (s);
  i2 = wait_user_final (s, i1 + 1);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s, i2),
          "text"), "what time is it");
  fail_unless (session_wait (s, i2, "bidi_connection_close", "reason",
          "complete", WAIT_MS) > i2);

  msg = warning_message (s, "asr");
  fail_unless (strstr (msg, "transcription server at 127.0.0.1") &&
      strstr (msg, "pocketsphinx"), "%s", msg);
  fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 1);
  /* a warning, not an error */
  fail_unless (session_wait (s, 0, "error", NULL, NULL, 0) < 0);
  session_free (s);
  g_free (url);
}

GST_END_TEST;

/* A server that does not answer in time, then one that answers garbage,
 * then an HTTP error: pocketsphinx's words each time */
static void
check_asr_fallback (MockSpeech * m, GstStructure * config,
    const gchar * expect)
{
  Session *s = remote_session (config);
  const gchar *msg;
  gint i;

  say (s, "what time is it");
  session_end_input (s);
  i = wait_user_final (s, 0);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s, i),
          "text"), "what time is it");
  fail_unless (session_wait (s, i, "bidi_connection_close", "reason",
          "complete", WAIT_MS) > i);
  fail_unless (mock_speech_n_requests (m, MOCK_SPEECH_ASR) >= 1);
  msg = warning_message (s, "asr");
  fail_unless (strstr (msg, expect) != NULL, "%s", msg);
  fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 1);
  session_free (s);
}

GST_START_TEST (test_asr_slow_garbage_error)
{
  MockSpeech *m = mock_speech_new ();

  mock_speech_set_hang (m, MOCK_SPEECH_ASR);
  check_asr_fallback (m, gst_structure_new ("c", "asr-url", G_TYPE_STRING,
          mock_speech_url (m), "asr-timeout-ms", G_TYPE_INT, 400, NULL),
      "did not answer within 400 ms");

  mock_speech_set_answer (m, MOCK_SPEECH_ASR, 200, "text/html",
      "<html>It works!</html>");
  check_asr_fallback (m, gst_structure_new ("c", "asr-url", G_TYPE_STRING,
          mock_speech_url (m), NULL), "did not answer JSON");

  mock_speech_set_answer (m, MOCK_SPEECH_ASR, 200, "application/json",
      "{\"segments\": []}");
  check_asr_fallback (m, gst_structure_new ("c", "asr-url", G_TYPE_STRING,
          mock_speech_url (m), NULL), "without a \"text\"");

  mock_speech_set_answer (m, MOCK_SPEECH_ASR, 503, "application/json",
      "{\"error\": {\"message\": \"model is loading\"}}");
  check_asr_fallback (m, gst_structure_new ("c", "asr-url", G_TYPE_STRING,
          mock_speech_url (m), NULL), "HTTP 503 Service Unavailable: model "
      "is loading");
  assert_no_problems (m);
  mock_speech_free (m);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Speech
 * ------------------------------------------------------------------------ */

/* The server's audio is what comes out, sample for sample */
GST_START_TEST (test_tts_audio)
{
  MockSpeech *m = mock_speech_new ();
  GBytes *pcm = make_pattern (300);
  Session *s;
  gint i_done, i_final;
  guint k, n_req;
  GString *inputs = g_string_new (NULL);
  GByteArray *expect = g_byte_array_new ();
  const gchar *final;

  mock_speech_set_pcm (m, pcm, 3, 0);
  s = remote_session (gst_structure_new ("c", "tts-url", G_TYPE_STRING,
          mock_speech_url (m), "tts-rate", G_TYPE_INT, RATE, "tts-model",
          G_TYPE_STRING, "kokoro", "tts-voice", G_TYPE_STRING, "af_heart",
          NULL));
  send_text (s, "what is two plus three");
  i_done = session_wait (s, 0, "bidi_response_complete", NULL, NULL, WAIT_MS);
  fail_unless (i_done >= 0);
  i_final = session_wait (s, 0, "bidi_transcript_stream", "is_final", "true",
      0);
  fail_unless (i_final >= 0 && i_final < i_done);
  final = gst_structure_get_string (session_msg (s, i_final), "text");

  /* one request per sentence, which together are the answer */
  n_req = mock_speech_n_requests (m, MOCK_SPEECH_TTS);
  fail_unless (n_req >= 1);
  assert_no_problems (m);
  for (k = 0; k < n_req; k++) {
    gchar *v = mock_speech_get_field (m, MOCK_SPEECH_TTS, k, "input");

    g_string_append_printf (inputs, "%s%s", k ? " " : "", v);
    g_free (v);
    v = mock_speech_get_field (m, MOCK_SPEECH_TTS, k, "model");
    fail_unless_equals_string (v, "kokoro");
    g_free (v);
    v = mock_speech_get_field (m, MOCK_SPEECH_TTS, k, "voice");
    fail_unless_equals_string (v, "af_heart");
    g_free (v);
    v = mock_speech_get_field (m, MOCK_SPEECH_TTS, k, "response_format");
    fail_unless_equals_string (v, "pcm");
    g_free (v);
    v = mock_speech_get_path (m, MOCK_SPEECH_TTS, k);
    fail_unless_equals_string (v, "/v1/audio/speech");
    g_free (v);
    g_byte_array_append (expect, g_bytes_get_data (pcm, NULL),
        g_bytes_get_size (pcm));
  }
  fail_unless_equals_string (inputs->str, final);
  fail_unless (strstr (final, "five") || strstr (final, "5"), "%s", final);
  {
    GBytes *all = g_byte_array_free_to_bytes (expect);
    session_assert_answer_tail (s, 0, all);
    g_bytes_unref (all);
  }
  fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 0);

  session_free (s);
  g_string_free (inputs, TRUE);
  g_bytes_unref (pcm);
  mock_speech_free (m);
}

GST_END_TEST;

/* The answer at the sink after @text: its samples (g_free) */
static gint16 *
speak_and_collect (Session * s, const gchar * text, gsize * n)
{
  gint16 *out;

  send_text (s, text);
  fail_unless (session_wait (s, 0, "bidi_response_complete", NULL, NULL,
          WAIT_MS) >= 0);
  /* the audio may still be on its way to the sink */
  g_usleep (300 * 1000 * slow);
  g_mutex_lock (&s->lock);
  *n = s->answer->len / 2;
  out = g_memdup2 (s->answer->data, MAX (s->answer->len, 1));
  g_mutex_unlock (&s->lock);
  return out;
}

/* 24 kHz audio ("pcm" as OpenAI and Kokoro send it) and a 22.05 kHz WAV
 * (Piper's, asked for or not) are converted: the same length and pitch
 * at 16 kHz */
GST_START_TEST (test_tts_rates)
{
  MockSpeech *m = mock_speech_new ();
  guint rates[] = { 24000, 22050, 22050 };
  guint k;

  for (k = 0; k < G_N_ELEMENTS (rates); k++) {
    GBytes *sine = make_sine (rates[k], 500, 600);
    GstStructure *config = gst_structure_new ("c", "tts-url", G_TYPE_STRING,
        mock_speech_url (m), NULL);
    Session *s;
    gint16 *out;
    gsize n, n_req;
    gdouble per_req_ms, freq;

    if (k == 0) {
      mock_speech_set_pcm (m, sine, 4, 0);
    } else if (k == 1) {
      mock_speech_set_wav (m, sine, rates[k], 1, 16, 5, 0);
      gst_structure_set (config, "tts-format", G_TYPE_STRING, "wav",
          "tts-rate", G_TYPE_INT, 8000, NULL);
    } else {
      /* "pcm" is asked for, a WAV comes */
      mock_speech_set_wav (m, sine, rates[k], 1, 16, 3, 0);
    }
    s = remote_session (config);
    n_req = mock_speech_n_requests (m, MOCK_SPEECH_TTS);
    out = speak_and_collect (s, "hello", &n);
    n_req = mock_speech_n_requests (m, MOCK_SPEECH_TTS) - n_req;
    fail_unless (n_req >= 1);
    per_req_ms = (gdouble) n * 1000 / RATE / n_req;
    freq = crossings_per_s (out, n) / 2;
    GST_INFO ("%u Hz: %.1f ms per sentence, %.1f Hz", rates[k], per_req_ms,
        freq);
    fail_unless (per_req_ms > 570 && per_req_ms < 630, "%.1f ms", per_req_ms);
    fail_unless (freq > 470 && freq < 530, "%.1f Hz", freq);
    fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 0);
    g_free (out);
    session_free (s);
    g_bytes_unref (sine);
  }
  assert_no_problems (m);
  mock_speech_free (m);
}

GST_END_TEST;

/* The first audio plays before the server sent the rest */
GST_START_TEST (test_tts_streaming)
{
  MockSpeech *m = mock_speech_new ();
  GBytes *pcm = make_pattern (1000);
  Session *s;

  /* five pieces, the last one 1.2 s (valgrind: 12 s) after the first */
  mock_speech_set_pcm (m, pcm, 5, 300 * slow);
  s = remote_session (gst_structure_new ("c", "tts-url", G_TYPE_STRING,
          mock_speech_url (m), "tts-rate", G_TYPE_INT, RATE, NULL));
  send_text (s, "hello");
  fail_unless (session_wait_answer (s, 2, WAIT_MS), "no audio");
  fail_unless_equals_int (mock_speech_n_completed (m, MOCK_SPEECH_TTS), 0);
  fail_unless (session_wait (s, 0, "bidi_response_complete", NULL, NULL,
          WAIT_MS) >= 0);
  fail_unless (mock_speech_n_completed (m, MOCK_SPEECH_TTS) >= 1);
  session_free (s);
  g_bytes_unref (pcm);
  mock_speech_free (m);
}

GST_END_TEST;

/* A speech server that is down: flite speaks, one warning over two
 * answers */
GST_START_TEST (test_tts_down)
{
  MockSpeech *gone = mock_speech_new ();
  gchar *url = g_strdup (mock_speech_url (gone));
  Session *s;
  gint i;
  const gchar *msg;

  mock_speech_free (gone);
  s = remote_session (gst_structure_new ("c", "tts-url", G_TYPE_STRING, url,
          NULL));
  send_text (s, "what is two plus three");
  i = session_wait (s, 0, "bidi_response_complete", NULL, NULL, WAIT_MS);
  fail_unless (i >= 0);
  send_text (s, "what is four plus four");
  fail_unless (session_wait (s, i + 1, "bidi_response_complete", NULL, NULL,
          WAIT_MS) > i);
  g_usleep (300 * 1000 * slow);
  check_audible (s);
  msg = warning_message (s, "tts");
  fail_unless (strstr (msg, "speech server at 127.0.0.1") &&
      strstr (msg, "flite"), "%s", msg);
  fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 1);
  session_free (s);
  g_free (url);
}

GST_END_TEST;

static void
check_tts_fallback (MockSpeech * m, GstStructure * config,
    const gchar * expect)
{
  Session *s = remote_session (config);
  const gchar *msg;

  send_text (s, "what is two plus three");
  fail_unless (session_wait (s, 0, "bidi_response_complete", NULL, NULL,
          WAIT_MS) >= 0);
  fail_unless (mock_speech_n_requests (m, MOCK_SPEECH_TTS) >= 1);
  g_usleep (300 * 1000 * slow);
  check_audible (s);
  msg = warning_message (s, "tts");
  fail_unless (strstr (msg, expect) != NULL, "%s", msg);
  fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 1);
  session_free (s);
}

/* Slow, garbage, a WAV gst-bidi does not take, an HTTP error: flite */
GST_START_TEST (test_tts_slow_garbage_error)
{
  MockSpeech *m = mock_speech_new ();
  GBytes *pcm = make_pattern (200);

  mock_speech_set_hang (m, MOCK_SPEECH_TTS);
  check_tts_fallback (m, gst_structure_new ("c", "tts-url", G_TYPE_STRING,
          mock_speech_url (m), "tts-timeout-ms", G_TYPE_INT, 300, NULL),
      "did not answer within 300 ms");

  mock_speech_set_answer (m, MOCK_SPEECH_TTS, 200, "application/json",
      "{\"error\": \"no voice alloy\"}");
  check_tts_fallback (m, gst_structure_new ("c", "tts-url", G_TYPE_STRING,
          mock_speech_url (m), NULL), "instead of audio");

  mock_speech_set_answer (m, MOCK_SPEECH_TTS, 200, "audio/wav",
      "ID3 this is an mp3 file really");
  check_tts_fallback (m, gst_structure_new ("c", "tts-url", G_TYPE_STRING,
          mock_speech_url (m), "tts-format", G_TYPE_STRING, "wav", NULL),
      "did not answer a WAV file");

  mock_speech_set_wav (m, pcm, 16000, 2, 16, 1, 0);
  check_tts_fallback (m, gst_structure_new ("c", "tts-url", G_TYPE_STRING,
          mock_speech_url (m), "tts-format", G_TYPE_STRING, "wav", NULL),
      "2 channels");

  mock_speech_set_answer (m, MOCK_SPEECH_TTS, 200, "audio/pcm", "");
  check_tts_fallback (m, gst_structure_new ("c", "tts-url", G_TYPE_STRING,
          mock_speech_url (m), NULL), "answered no audio");

  mock_speech_set_answer (m, MOCK_SPEECH_TTS, 404, "application/json",
      "{\"detail\": \"Not Found\"}");
  check_tts_fallback (m, gst_structure_new ("c", "tts-url", G_TYPE_STRING,
          mock_speech_url (m), NULL), "HTTP 404");
  assert_no_problems (m);
  g_bytes_unref (pcm);
  mock_speech_free (m);
}

GST_END_TEST;

/* The API key goes to both servers, and never into a message, even when
 * a server quotes it back */
GST_START_TEST (test_api_key)
{
  static const gchar *key = "sk-remote-DO-NOT-LEAK-0123456789";
  MockSpeech *m = mock_speech_new ();
  gchar *quoted = g_strdup_printf ("{\"error\": {\"message\": \"Incorrect "
      "API key provided: %s\"}}", key);
  gchar *bearer = g_strdup_printf ("Bearer %s", key), *v;
  GstStructure *config;
  Session *s;
  gint i;

  mock_speech_set_answer (m, MOCK_SPEECH_ASR, 401, "application/json",
      quoted);
  mock_speech_set_answer (m, MOCK_SPEECH_TTS, 401, "application/json",
      quoted);
  config = gst_structure_new ("c", "asr-url", G_TYPE_STRING,
      mock_speech_url (m), "tts-url", G_TYPE_STRING, mock_speech_url (m),
      NULL);
  s = session_create (AGENT_DESC, RATE, 2, WAIT_MS);
  g_object_set (s->agent, "api-key", key, "provider-config", config, NULL);
  gst_structure_free (config);
  session_start (s);
  session_wait_connected (s);
  say (s, "what time is it");
  session_end_input (s);
  i = wait_user_final (s, 0);
  fail_unless (session_wait (s, i, "bidi_connection_close", "reason",
          "complete", WAIT_MS) > i);
  fail_unless (strstr (warning_message (s, "asr"), "Incorrect API key"));
  fail_unless (strstr (warning_message (s, "tts"), "Incorrect API key"));
  session_assert_no_secret (s, key, "DO-NOT-LEAK");

  v = mock_speech_get_field (m, MOCK_SPEECH_ASR, 0, "Authorization");
  fail_unless_equals_string (v, bearer);
  g_free (v);
  v = mock_speech_get_field (m, MOCK_SPEECH_TTS, 0, "Authorization");
  fail_unless_equals_string (v, bearer);
  g_free (v);
  assert_no_problems (m);
  session_free (s);
  mock_speech_free (m);
  g_free (quoted);
  g_free (bearer);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Interruptions
 * ------------------------------------------------------------------------ */

/* Barge-in while the speech server is silent: the request ends, no
 * warning, no flite; the next answer is the server's */
GST_START_TEST (test_tts_barge_in)
{
  MockSpeech *m = mock_speech_new ();
  GBytes *pcm = make_pattern (200);
  Session *s;
  gboolean ok = FALSE;
  gint i;

  mock_speech_set_hang (m, MOCK_SPEECH_TTS);
  s = remote_session (gst_structure_new ("c", "tts-url", G_TYPE_STRING,
          mock_speech_url (m), "tts-rate", G_TYPE_INT, RATE,
          "tts-timeout-ms", G_TYPE_INT, 600000, NULL));
  send_text (s, "what is two plus three");
  fail_unless (mock_speech_wait_requests (m, MOCK_SPEECH_TTS, 1, WAIT_MS));
  fail_unless (session_wait (s, 0, "bidi_response_start", NULL, NULL,
          WAIT_MS) >= 0);
  mock_speech_set_pcm (m, pcm, 1, 0);
  g_signal_emit_by_name (s->agent, "interrupt", &ok);
  fail_unless (ok, "nothing to interrupt");
  i = session_wait (s, 0, "bidi_response_complete", "stop_reason",
      "interrupted", WAIT_MS);
  fail_unless (i >= 0);
  fail_unless_equals_int (session_answer_len (s), 0);

  send_text (s, "hello");
  fail_unless (session_wait (s, i + 1, "bidi_response_complete",
          "stop_reason", "complete", WAIT_MS) > i);
  g_usleep (300 * 1000 * slow);
  /* the server's audio only: a whole number of its answers */
  fail_unless (session_answer_len (s) > 0);
  fail_unless_equals_int (session_answer_len (s) % g_bytes_get_size (pcm), 0);
  fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 0);
  session_free (s);
  g_bytes_unref (pcm);
  mock_speech_free (m);
}

GST_END_TEST;

/* Stopping while both servers are silent does not wait for them */
GST_START_TEST (test_stop_during_requests)
{
  MockSpeech *m = mock_speech_new ();
  Session *s;
  gint64 t0;

  mock_speech_set_hang (m, MOCK_SPEECH_ASR);
  mock_speech_set_hang (m, MOCK_SPEECH_TTS);
  s = remote_session (gst_structure_new ("c", "tts-url", G_TYPE_STRING,
          mock_speech_url (m), "asr-url", G_TYPE_STRING, mock_speech_url (m),
          "tts-timeout-ms", G_TYPE_INT, 600000, "asr-timeout-ms", G_TYPE_INT,
          600000, NULL));
  send_text (s, "hello");
  say (s, "what time is it");
  fail_unless (mock_speech_wait_requests (m, MOCK_SPEECH_TTS, 1, WAIT_MS));
  fail_unless (mock_speech_wait_requests (m, MOCK_SPEECH_ASR, 1, WAIT_MS));
  t0 = g_get_monotonic_time ();
  session_free (s);
  /* far below the timeouts */
  fail_unless (g_get_monotonic_time () - t0 < 60 * G_TIME_SPAN_SECOND * slow);
  mock_speech_free (m);
}

GST_END_TEST;

static Suite *
localremote_suite (void)
{
  Suite *s = suite_create ("localremote");
  TCase *tc = tcase_create ("remote");
  const gchar *preload = g_getenv ("LD_PRELOAD");

  if (preload && strstr (preload, "vgpreload"))
    slow = 10;

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, leftover_stop);
  tcase_set_timeout (tc, 120 * slow);
  tcase_add_test (tc, test_bad_settings);
  tcase_add_test (tc, test_asr_transcript);
  tcase_add_test (tc, test_asr_down);
  tcase_add_test (tc, test_asr_slow_garbage_error);
  tcase_add_test (tc, test_tts_audio);
  tcase_add_test (tc, test_tts_rates);
  tcase_add_test (tc, test_tts_streaming);
  tcase_add_test (tc, test_tts_down);
  tcase_add_test (tc, test_tts_slow_garbage_error);
  tcase_add_test (tc, test_api_key);
  tcase_add_test (tc, test_tts_barge_in);
  tcase_add_test (tc, test_stop_during_requests);
  return s;
}

GST_CHECK_MAIN (localremote);
