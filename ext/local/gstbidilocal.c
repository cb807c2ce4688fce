/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gstbidilocal
 * @title: local provider
 * @short_description: offline voice agent: VAD, pocketsphinx, flite
 *
 * The default provider of bidiagent. It needs no network and no
 * credentials: voice activity detection and pocketsphinx turn the user's
 * speech into text, a responder answers it, and flite speaks the answer.
 *
 * The responder is built in: it understands the time and the date
 * (current_time tool), spoken arithmetic such as "what is twenty five
 * times forty eight" (calculator tool) and "stop the conversation" /
 * "goodbye" (stop_conversation tool), and answers anything else by
 * repeating what it heard. With `llm-url`, an OpenAI-compatible
 * chat-completions server (llama.cpp's server, Ollama ...) answers
 * instead; its streamed text is spoken sentence by sentence.
 *
 * provider-config fields:
 *
 * * `vad-threshold-db` (double, 12): how far above the noise floor speech
 *   must be
 * * `vad-min-level-db` (double, -55): the quietest level counted as speech,
 *   dBFS
 * * `vad-start-ms` (int, 100): speech must last this long before a turn
 *   starts (shorter sounds never count)
 * * `vad-end-ms` (int, 500): this much quiet ends the turn
 * * `early-end-ms` (int, 100): with the built-in responder, this much quiet
 *   already ends the turn when the words heard are a whole request (a
 *   time, date, arithmetic or stop question), so the answer starts without
 *   waiting for `vad-end-ms` (words only the responder's grammar made out
 *   wait 180 ms); 0 turns it off
 * * `preroll-ms` (int, 300): audio before the onset given to the
 *   recogniser
 * * `max-turn-ms` (int, 20000): a turn is cut after this
 * * `hmm`, `lm`, `dict` (strings): pocketsphinx model files; the default is
 *   the pocketsphinx-en-us package's US English model
 * * `grammar` (string): a JSGF grammar file, instead of the language model
 * * `keywords` (string): a keyword list file, instead of the language model
 * * `llm-url` (string): base URL of a chat-completions server, e.g.
 *   `http://127.0.0.1:8080/v1`; `llm-model` (string) its model (else the
 *   element's model property)
 * * `tool-timeout-ms` (int, 10000): how long to wait for a tool result
 * * `asr-url` (string): base URL of an OpenAI-compatible transcription
 *   server (whisper.cpp's server ...), with or without the final `/v1`:
 *   each turn's audio goes to `{asr-url}/v1/audio/transcriptions` and its
 *   words replace pocketsphinx's final ones (the VAD still decides the
 *   turn, pocketsphinx still gives the partial words, and `early-end-ms`
 *   does not apply); `asr-model` (string, "whisper-1");
 *   `asr-timeout-ms` (int, 8000): the longest a transcription may take
 * * `tts-url` (string): base URL of an OpenAI-compatible speech server
 *   (Piper, Kokoro ...), with or without `/v1`: `{tts-url}/v1/audio/speech`
 *   speaks instead of flite, sentence by sentence, each played as it
 *   arrives; `tts-model` (string, "tts-1"); `tts-voice` (string,
 *   "alloy"); `tts-format` ("pcm" (default) or "wav"); `tts-rate` (int,
 *   24000): the rate of "pcm" answers (a WAV says its own; the audio is
 *   converted to 16 kHz); `tts-timeout-ms` (int, 5000): the longest the
 *   server may keep silent, before the audio and within it
 *
 * A server that is down, refuses, answers something else or is too slow
 * costs only that turn or sentence: pocketsphinx's words or flite's voice
 * stand in, with one warning (a bidi_error with code "asr" or "tts") for
 * the first failure of each server and debug lines after.
 *
 * The element's `voice` property picks the flite voice: slt (default),
 * kal, awb or rms. A sentence's audio goes out in pieces while flite
 * makes it (the first after about 20 ms of speech), so a long sentence
 * starts as soon as a short one does.
 *
 * Threads: the element calls the vfuncs on its network thread, and every
 * event is emitted there. Recognition (VAD + pocketsphinx) runs on a
 * worker thread of its own, synthesis on another; they hand their results
 * to the network thread through an outbox drained by an idle source on the
 * network thread's main context.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/gst.h>
#include <gst/audio/audio.h>

#include <gst/bidi/gstbidiarrivals.h>
#include <gst/bidi/gstbidiaudioqueue.h>
#include <gst/bidi/gstbidievents.h>
#include <gst/bidi/gstbiditools.h>

#include "gstbidilocal.h"
#include "gstbidiasr.h"
#include "gstbidiintents.h"
#include "gstbidillm.h"
#include "gstbiditts.h"
#include "gstbidiremote.h"

GST_DEBUG_CATEGORY_STATIC (bidi_local_debug);
#define GST_CAT_DEFAULT bidi_local_debug

#define PROVIDER_NAME "local"
#define MODEL_NAME "pocketsphinx+flite"
#define RATE 16000
/* answers are emitted in pieces of this much audio */
#define AUDIO_CHUNK_MS 100
/* after the estimated end of playback, an answer may still be heard for
 * this long (element latency, sink buffers) */
#define PLAYBACK_MARGIN_US (300 * G_TIME_SPAN_MILLISECOND)
#define DEFAULT_TOOL_TIMEOUT_MS 10000
/* audio waiting for the recognition worker, at most */
#define MAX_QUEUED_AUDIO_MS 60000
/* Past this much waiting audio the provider says its input is full (the
 * element then holds the rest back: a file waits, nothing is lost), and
 * below the second one it takes more. Real-time input never gets near. */
#define INPUT_FULL_MS 10000
#define INPUT_READY_MS 5000
#define MS_TO_BYTES(ms) ((gsize) RATE * 2 * (ms) / 1000)
#define DEFAULT_ASR_MODEL "whisper-1"
#define DEFAULT_ASR_TIMEOUT_MS 8000
#define DEFAULT_TTS_MODEL "tts-1"
#define DEFAULT_TTS_VOICE "alloy"
#define DEFAULT_TTS_RATE 24000
#define DEFAULT_TTS_TIMEOUT_MS 5000

typedef struct
{
  GstBidiListenerParams listener;
  GstBidiAsrModel model;
  gchar *voice;
  gchar *llm_url;
  gchar *llm_model;
  guint tool_timeout_ms;
  /* servers instead of pocketsphinx's final words and flite */
  gchar *asr_url, *asr_model;
  guint asr_timeout_ms;
  gchar *tts_url, *tts_model, *tts_voice, *tts_format;
  guint tts_rate, tts_timeout_ms;
} Settings;

/* worker -> network thread */
typedef enum
{
  MSG_READY,
  MSG_LOAD_ERROR,
  MSG_SPEECH_START,
  MSG_PARTIAL,
  MSG_FINAL,
  MSG_REVISED,
  MSG_INPUT_DONE,
  MSG_AUDIO,
  MSG_TOOL_RESULT,
  MSG_WARNING,
} MsgType;

typedef struct
{
  MsgType type;
  guint gen;                    /* AUDIO */
  guint sentence;               /* AUDIO */
  gchar *text;                  /* PARTIAL, FINAL, REVISED, LOAD_ERROR;
                                 * TOOL_RESULT: the result's JSON */
  gchar *id, *name, *status;    /* TOOL_RESULT; WARNING: name is the code */
  GBytes *pcm;                  /* AUDIO */
  gboolean more;                /* AUDIO: more of the sentence follows */
  guint64 position;
  guint64 speech_start;
  guint64 speech_end;           /* FINAL, REVISED */
  gint64 told_us;               /* monotonic time the listener told */
  gboolean revised_follows;     /* FINAL: the transcript comes with REVISED */
} Msg;

/* network thread -> synthesis worker */
typedef struct
{
  guint gen;
  guint sentence;
  gchar *text;
} Job;

typedef struct
{
  gchar *text;
  guint64 dur_ms;
  gboolean emitted;
} Sentence;

typedef struct
{
  gchar *id;
  gchar *name;
  gchar *result;                /* NULL until it comes */
} ToolCall;

/* One answer, from bidi_response_start to bidi_response_complete. Network
 * thread only. */
typedef struct
{
  guint seq;
  guint gen;
  gchar *id;
  guint user_words;
  const gchar *stop_reason;

  GPtrArray *sentences;         /* Sentence */
  guint n_synth_pending;
  gboolean text_done;
  GString *full_text;           /* of the sentences emitted */
  guint64 emitted_ms;
  gint64 started_us;

  /* tools: built-in responder (one call) and LLM (a round of calls) */
  GstBidiIntent *intent;
  GPtrArray *tools;             /* ToolCall */
  GSource *tool_timeout;

  /* LLM */
  gboolean llm_running;
  gboolean llm_waiting_tools;
  GString *llm_pending;
  gint prompt_tokens;
  gint completion_tokens;
} Answer;

struct _GstBidiLocalProvider
{
  GstBidiProvider parent;

  /* set by configure (application thread), read by start; protected by
   * GST_OBJECT_LOCK */
  Settings *settings;

  /* protected by lock: queues between the threads */
  GMutex lock;
  GCond cond;
  GstBidiAudioQueue asr_audio;  /* input for the recognition worker */
  GstBidiArrivals arrivals;     /* when asr_audio's samples came in */
  gboolean asr_end_input;       /* after asr_audio, the input ends */
  gboolean input_full;          /* told the element: asr_audio is full */
  GQueue tts_jobs;
  gboolean quit;
  GQueue outbox;
  GSource *outbox_source;
  GMainContext *net_ctx;

  /* the generation of the answer being synthesised; the TTS worker drops
   * jobs of other generations. Atomic. */
  gint tts_gen;
  /* the speech server's request in flight (TTS worker), and the
   * transcription server's (cancelled at stop) */
  GCancellable *tts_cancel;
  GCancellable *asr_cancel;
  /* recognition worker only */
  GstBidiRemoteAsr *asr_remote;
  gboolean asr_warned;

  /* network thread only */
  Settings *run;
  GThread *asr_thread;
  GThread *tts_thread;
  gboolean started;
  gboolean connected;
  gboolean closed;
  gboolean stopping;            /* stop_conversation succeeded */
  gboolean end_input;
  gboolean input_done;
  gboolean user_speaking;
  gchar *conn_id;
  gchar *model_name;
  GstBidiIntentTools tools;
  GstBidiLlm *llm;
  /* the LLM client reads the element's conversation: it keeps only what
   * the element does not record */
  gboolean llm_in_history;
  Answer *answer;
  Answer *last_answer;          /* completed, maybe still playing */
  guint answer_seq;
  guint gen;
  guint tool_seq;
  gint64 play_end_us;
  GQueue pending_turns;         /* typed text */
  /* after an early end of turn, until the user's transcript is out: the
   * answer's transcripts and its end wait here, so that a transcript of
   * the conversation reads in order */
  gboolean user_transcript_due;
  GQueue held_events;
};

#define gst_bidi_local_provider_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstBidiLocalProvider, gst_bidi_local_provider,
    GST_TYPE_BIDI_PROVIDER,
    GST_DEBUG_CATEGORY_INIT (bidi_local_debug, "bidilocal", 0,
        "bidiagent local provider"));

static void answer_start (GstBidiLocalProvider * self, const gchar * text);
static void answer_maybe_finish (GstBidiLocalProvider * self, Answer * a);
static void check_close (GstBidiLocalProvider * self);
static void llm_submit_tool_results (GstBidiLocalProvider * self, Answer * a);

/* ------------------------------------------------------------------------
 * Settings
 * ------------------------------------------------------------------------ */

static void
settings_free (Settings * s)
{
  if (!s)
    return;
  gst_bidi_asr_model_clear (&s->model);
  g_free (s->voice);
  g_free (s->llm_url);
  g_free (s->llm_model);
  g_free (s->asr_url);
  g_free (s->asr_model);
  g_free (s->tts_url);
  g_free (s->tts_model);
  g_free (s->tts_voice);
  g_free (s->tts_format);
  g_free (s);
}

static Settings *
settings_copy (const Settings * s)
{
  Settings *c = g_new0 (Settings, 1);

  c->listener = s->listener;
  gst_bidi_asr_model_copy (&c->model, &s->model);
  c->voice = g_strdup (s->voice);
  c->llm_url = g_strdup (s->llm_url);
  c->llm_model = g_strdup (s->llm_model);
  c->tool_timeout_ms = s->tool_timeout_ms;
  c->asr_url = g_strdup (s->asr_url);
  c->asr_model = g_strdup (s->asr_model);
  c->asr_timeout_ms = s->asr_timeout_ms;
  c->tts_url = g_strdup (s->tts_url);
  c->tts_model = g_strdup (s->tts_model);
  c->tts_voice = g_strdup (s->tts_voice);
  c->tts_format = g_strdup (s->tts_format);
  c->tts_rate = s->tts_rate;
  c->tts_timeout_ms = s->tts_timeout_ms;
  return c;
}

/* The listener's early end of turn: a question the built-in responder
 * answers in full (anything else may have more words to come). */
static gboolean
request_is_complete (const gchar * text, gpointer user_data)
{
  gboolean complete = gst_bidi_intent_request_complete (text);

  GST_LOG_OBJECT (user_data, "\"%s\" after early-end-ms of quiet: %s", text,
      complete ? "a whole request, the turn ends" : "waiting for more");
  return complete;
}

/* The string fields of the servers, with their defaults */
static void
settings_parse_servers (Settings * s, const GstStructure * pc)
{
  const gchar *v;

#define GET_STRING(field, def) \
  (g_strdup ((pc && (v = gst_structure_get_string (pc, field))) ? v : def))
  s->asr_url = GET_STRING ("asr-url", NULL);
  s->asr_model = GET_STRING ("asr-model", DEFAULT_ASR_MODEL);
  s->tts_url = GET_STRING ("tts-url", NULL);
  s->tts_model = GET_STRING ("tts-model", DEFAULT_TTS_MODEL);
  s->tts_voice = GET_STRING ("tts-voice", DEFAULT_TTS_VOICE);
#undef GET_STRING
}

/* An URL the servers' clients take (they are made later, on the worker
 * threads) */
static gboolean
check_server_url (const gchar * field, const gchar * url, GError ** error)
{
  GError *err = NULL;

  if (!url || gst_bidi_remote_check_url (field, url, &err))
    return TRUE;
  gst_bidi_provider_config_error (error, PROVIDER_NAME, "%s (not \"%s\")",
      err->message, url);
  g_error_free (err);
  return FALSE;
}

static Settings *
settings_parse (const GstBidiProviderConfig * config, GError ** error)
{
  static const gchar *const formats[] = { "pcm", "wav", NULL };
  const GstStructure *pc = config->provider_config;
  Settings *s = g_new0 (Settings, 1);
  const gchar *url;

  gst_bidi_listener_params_init (&s->listener);
  s->tool_timeout_ms = DEFAULT_TOOL_TIMEOUT_MS;
  s->asr_timeout_ms = DEFAULT_ASR_TIMEOUT_MS;
  s->tts_timeout_ms = DEFAULT_TTS_TIMEOUT_MS;
  s->tts_rate = DEFAULT_TTS_RATE;
  s->tts_format = g_strdup ("pcm");

  if (!gst_bidi_provider_check_config (pc, PROVIDER_NAME, error,
          "vad-threshold-db", G_TYPE_DOUBLE,
          "vad-min-level-db", G_TYPE_DOUBLE,
          "vad-start-ms", G_TYPE_INT,
          "vad-end-ms", G_TYPE_INT,
          "early-end-ms", G_TYPE_INT,
          "preroll-ms", G_TYPE_INT,
          "max-turn-ms", G_TYPE_INT,
          "hmm", G_TYPE_STRING,
          "lm", G_TYPE_STRING,
          "dict", G_TYPE_STRING,
          "grammar", G_TYPE_STRING,
          "keywords", G_TYPE_STRING,
          "llm-url", G_TYPE_STRING,
          "llm-model", G_TYPE_STRING, "tool-timeout-ms", G_TYPE_INT,
          "asr-url", G_TYPE_STRING, "asr-model", G_TYPE_STRING,
          "asr-timeout-ms", G_TYPE_INT, "tts-url", G_TYPE_STRING,
          "tts-model", G_TYPE_STRING, "tts-voice", G_TYPE_STRING,
          "tts-format", G_TYPE_STRING, "tts-rate", G_TYPE_INT,
          "tts-timeout-ms", G_TYPE_INT, NULL))
    goto fail;

  if (!gst_bidi_provider_config_get_double (pc, PROVIDER_NAME,
          "vad-threshold-db", 0, 60, &s->listener.vad.threshold_db, error) ||
      !gst_bidi_provider_config_get_double (pc, PROVIDER_NAME,
          "vad-min-level-db", -100, 0, &s->listener.vad.min_level_db, error) ||
      !gst_bidi_provider_config_get_uint (pc, PROVIDER_NAME, "vad-start-ms",
          20, 2000, &s->listener.vad.start_ms, error) ||
      !gst_bidi_provider_config_get_uint (pc, PROVIDER_NAME, "vad-end-ms",
          100, 10000, &s->listener.vad.end_ms, error) ||
      !gst_bidi_provider_config_get_uint (pc, PROVIDER_NAME, "early-end-ms",
          0, 10000, &s->listener.early_end_ms, error) ||
      !gst_bidi_provider_config_get_uint (pc, PROVIDER_NAME, "preroll-ms",
          0, 2000, &s->listener.preroll_ms, error) ||
      !gst_bidi_provider_config_get_uint (pc, PROVIDER_NAME, "max-turn-ms",
          1000, 120000, &s->listener.max_turn_ms, error) ||
      !gst_bidi_provider_config_get_uint (pc, PROVIDER_NAME,
          "tool-timeout-ms", 100, 600000, &s->tool_timeout_ms, error) ||
      !gst_bidi_provider_config_get_uint (pc, PROVIDER_NAME,
          "asr-timeout-ms", 100, 600000, &s->asr_timeout_ms, error) ||
      !gst_bidi_provider_config_get_uint (pc, PROVIDER_NAME,
          "tts-timeout-ms", 100, 600000, &s->tts_timeout_ms, error) ||
      !gst_bidi_provider_config_get_uint (pc, PROVIDER_NAME, "tts-rate",
          8000, 192000, &s->tts_rate, error) ||
      !gst_bidi_provider_config_get_choice (pc, PROVIDER_NAME, "tts-format",
          formats, &s->tts_format, error))
    goto fail;

  if (pc) {
    s->model.hmm = g_strdup (gst_structure_get_string (pc, "hmm"));
    s->model.lm = g_strdup (gst_structure_get_string (pc, "lm"));
    s->model.dict = g_strdup (gst_structure_get_string (pc, "dict"));
    s->model.grammar = g_strdup (gst_structure_get_string (pc, "grammar"));
    s->model.keywords = g_strdup (gst_structure_get_string (pc, "keywords"));
    s->llm_url = g_strdup (gst_structure_get_string (pc, "llm-url"));
    s->llm_model = g_strdup (gst_structure_get_string (pc, "llm-model"));
  }
  settings_parse_servers (s, pc);
  if (!check_server_url ("asr-url", s->asr_url, error) ||
      !check_server_url ("tts-url", s->tts_url, error))
    goto fail;
  /* only the built-in responder can tell a whole request, and only from
   * words that are final: with asr-url they come after the turn (and
   * pocketsphinx's final words, which the bias is for, are not used) */
  if (!s->llm_url && !s->asr_url) {
    s->listener.complete = request_is_complete;
    s->model.bias = TRUE;
  }
  gst_bidi_asr_model_set_defaults (&s->model);
  if (!gst_bidi_asr_model_check (&s->model, error))
    goto fail;

  if (config->voice && !gst_bidi_tts_voice_exists (config->voice))
    goto bad_voice;
  s->voice = g_strdup (config->voice ? config->voice :
      GST_BIDI_TTS_DEFAULT_VOICE);

  url = s->llm_url;
  if (url && (!g_uri_is_valid (url, G_URI_FLAGS_NONE, NULL) ||
          (g_ascii_strncasecmp (url, "http://", 7) != 0 &&
              g_ascii_strncasecmp (url, "https://", 8) != 0)))
    goto bad_url;
  return s;

  /* ERRORS */
bad_voice:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Provider \"" PROVIDER_NAME "\" has no voice \"%s\" (flite voices: "
        "%s)", config->voice, gst_bidi_tts_voice_names ());
    goto fail;
  }
bad_url:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid provider-config: \"llm-url\" must be an http:// or https:// "
        "URL, not \"%s\"", url);
    goto fail;
  }
fail:
  settings_free (s);
  return NULL;
}

/* ------------------------------------------------------------------------
 * Messages and jobs
 * ------------------------------------------------------------------------ */

static void
msg_free (Msg * m)
{
  g_free (m->text);
  g_free (m->id);
  g_free (m->name);
  g_free (m->status);
  if (m->pcm)
    g_bytes_unref (m->pcm);
  g_free (m);
}

static void
job_free (Job * j)
{
  g_free (j->text);
  g_free (j);
}

static gboolean outbox_dispatch (gpointer user_data);

/* Any thread. Hands @m to the network thread. */
static void
post (GstBidiLocalProvider * self, Msg * m)
{
  g_mutex_lock (&self->lock);
  if (!self->net_ctx) {
    g_mutex_unlock (&self->lock);
    msg_free (m);
    return;
  }
  g_queue_push_tail (&self->outbox, m);
  if (!self->outbox_source) {
    self->outbox_source = g_idle_source_new ();
    /* ahead of the element's input deliveries: barge-in is urgent */
    g_source_set_priority (self->outbox_source, G_PRIORITY_HIGH);
    g_source_set_callback (self->outbox_source, outbox_dispatch, self, NULL);
    g_source_set_name (self->outbox_source, "bidilocal-outbox");
    g_source_attach (self->outbox_source, self->net_ctx);
  }
  g_mutex_unlock (&self->lock);
}

static Msg *
msg_new (MsgType type)
{
  Msg *m = g_new0 (Msg, 1);

  m->type = type;
  return m;
}

static void
queue_job (GstBidiLocalProvider * self, Job * job)
{
  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->tts_jobs, job);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Waits for a synthesis job; NULL when quitting. */
static Job *
next_job (GstBidiLocalProvider * self)
{
  Job *job = NULL;

  g_mutex_lock (&self->lock);
  while (!self->quit && g_queue_is_empty (&self->tts_jobs))
    g_cond_wait (&self->cond, &self->lock);
  if (!self->quit)
    job = g_queue_pop_head (&self->tts_jobs);
  g_mutex_unlock (&self->lock);
  return job;
}

/* Waits for input audio, or the end of input once all audio is taken.
 * FALSE when quitting; else *@pcm is the next chunk, or NULL at the end of
 * input (reported once). */
static gboolean
next_input (GstBidiLocalProvider * self, GBytes ** pcm)
{
  gboolean ret = FALSE, ready = FALSE;

  g_mutex_lock (&self->lock);
  while (!self->quit && !self->asr_end_input &&
      gst_bidi_audio_queue_get_bytes (&self->asr_audio) == 0)
    g_cond_wait (&self->cond, &self->lock);
  if (!self->quit) {
    *pcm = gst_bidi_audio_queue_pop (&self->asr_audio, NULL);
    if (!*pcm)
      self->asr_end_input = FALSE;
    ret = TRUE;
  }
  ready = self->input_full &&
      gst_bidi_audio_queue_get_bytes (&self->asr_audio) <
      MS_TO_BYTES (INPUT_READY_MS);
  if (ready)
    self->input_full = FALSE;
  g_mutex_unlock (&self->lock);

  if (ready)
    gst_bidi_provider_set_input_full (GST_BIDI_PROVIDER (self), FALSE);
  return ret;
}

/* ------------------------------------------------------------------------
 * Workers
 * ------------------------------------------------------------------------ */

/* A worker's server (strings owned) */
typedef struct
{
  gchar *url, *model, *api_key, *ssl_ca_file;
  guint timeout_ms;
} Server;

static void
server_init (Server * sv, const gchar * url, const gchar * model,
    guint timeout_ms, const GstBidiProviderConfig * config)
{
  sv->url = g_strdup (url);
  sv->model = g_strdup (model);
  sv->api_key = g_strdup (config->api_key);
  sv->ssl_ca_file = g_strdup (config->ssl_ca_file);
  sv->timeout_ms = timeout_ms;
}

static GstBidiRemoteParams
server_params (const Server * sv)
{
  GstBidiRemoteParams p = { sv->url, sv->model, sv->api_key,
    sv->ssl_ca_file, sv->timeout_ms
  };
  return p;
}

static void
server_clear (Server * sv)
{
  g_free (sv->url);
  g_free (sv->model);
  if (sv->api_key)
    memset (sv->api_key, 0, strlen (sv->api_key));
  g_free (sv->api_key);
  g_free (sv->ssl_ca_file);
}

/* Worker threads: a server failed, its stand-in takes over for the turn
 * or the sentence. The first failure is a warning on the bus (a
 * non-fatal bidi_error), the next ones only debug lines: a server that is
 * down would otherwise warn at every turn. */
static void
server_failed (GstBidiLocalProvider * self, gboolean * warned,
    const gchar * code, const GError * err, const gchar * fallback)
{
  Msg *m;

  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (*warned) {
    GST_DEBUG_OBJECT (self, "%s; %s", err->message, fallback);
    return;
  }
  *warned = TRUE;
  m = msg_new (MSG_WARNING);
  m->name = g_strdup (code);
  m->text = g_strdup_printf ("%s; %s (further failures are only logged)",
      err->message, fallback);
  m->text[0] = g_ascii_toupper (m->text[0]);
  GST_WARNING_OBJECT (self, "%s", m->text);
  post (self, m);
}

typedef struct
{
  GstBidiLocalProvider *self;
  GstBidiListenerParams params;
  GstBidiAsrModel model;
  Server server;
} AsrSetup;

/* Recognition worker: the transcription server's words for the turn that
 * @ev ends, else pocketsphinx's */
static gchar *
final_words (GstBidiLocalProvider * self, const GstBidiListenerEvent * ev)
{
  GError *err = NULL;
  gchar *text;

  if (!self->asr_remote)
    return g_strdup (ev->text);
  text = gst_bidi_remote_asr_transcribe (self->asr_remote, ev->speech_start,
      ev->position, self->asr_cancel, &err);
  if (!text) {
    server_failed (self, &self->asr_warned, "asr", err,
        "pocketsphinx's words are used");
    g_error_free (err);
    return g_strdup (ev->text);
  }
  GST_INFO_OBJECT (self, "the transcription server heard \"%s\" "
      "(pocketsphinx: \"%s\")", text, GST_STR_NULL (ev->text));
  return text;
}

static void
on_listener_event (const GstBidiListenerEvent * ev, gpointer user_data)
{
  GstBidiLocalProvider *self = user_data;
  Msg *m;

  switch (ev->type) {
    case GST_BIDI_LISTENER_SPEECH_START:
      m = msg_new (MSG_SPEECH_START);
      break;
    case GST_BIDI_LISTENER_PARTIAL:
      m = msg_new (MSG_PARTIAL);
      break;
    case GST_BIDI_LISTENER_REVISED:
      /* the server's words are the turn's already */
      if (self->asr_remote)
        return;
      m = msg_new (MSG_REVISED);
      break;
    case GST_BIDI_LISTENER_FINAL:
    default:
      m = msg_new (MSG_FINAL);
      m->revised_follows = ev->revised_follows && !self->asr_remote;
      break;
  }
  m->text = ev->type == GST_BIDI_LISTENER_FINAL ? final_words (self, ev) :
      g_strdup (ev->text);
  m->position = ev->position;
  m->speech_start = ev->speech_start;
  m->speech_end = ev->speech_end;
  m->told_us = g_get_monotonic_time ();
  GST_LOG_OBJECT (self, "listener event %d at %" G_GUINT64_FORMAT
      " samples: %s", ev->type, ev->position, GST_STR_NULL (ev->text));
  if (ev->type == GST_BIDI_LISTENER_FINAL)
    GST_DEBUG_OBJECT (self, "final hypothesis %s%s", ev->early ?
        "decoded during the hangover" : ev->semantic ?
        "of the streaming pass" : "decoded at the end of the turn",
        ev->semantic ? ", a whole request: early end of turn" : "");
  post (self, m);
}

static gpointer
asr_thread_func (gpointer data)
{
  AsrSetup *setup = data;
  GstBidiLocalProvider *self = setup->self;
  GstBidiListener *listener = NULL;
  GstBidiAsr *asr;
  GError *err = NULL;
  GBytes *pcm;
  gint64 t0 = g_get_monotonic_time ();

  asr = gst_bidi_asr_new (&setup->model, &err);
  if (asr) {
    GST_INFO_OBJECT (self, "speech model loaded in %" G_GINT64_FORMAT " ms",
        (g_get_monotonic_time () - t0) / 1000);
    listener = gst_bidi_listener_new (&setup->params, asr, on_listener_event,
        self);
    post (self, msg_new (MSG_READY));
  } else {
    Msg *m = msg_new (MSG_LOAD_ERROR);
    m->text = g_strdup (err->message);
    g_clear_error (&err);
    post (self, m);
  }
  if (setup->server.url) {
    GstBidiRemoteParams p = server_params (&setup->server);
    /* a whole turn, and what came before it */
    guint keep_ms = setup->params.max_turn_ms + setup->params.vad.end_ms +
        setup->params.preroll_ms + 2000;

    self->asr_remote = gst_bidi_remote_asr_new (&p, RATE, keep_ms, &err);
    if (!self->asr_remote) {
      server_failed (self, &self->asr_warned, "asr", err,
          "pocketsphinx's words are used");
      g_clear_error (&err);
    }
  }

  while (next_input (self, &pcm)) {
    if (pcm && listener) {
      gsize size;
      const gint16 *samples = g_bytes_get_data (pcm, &size);
      gint16 *swapped = NULL;
#if G_BYTE_ORDER == G_BIG_ENDIAN
      gsize i;
      swapped = g_memdup2 (samples, size);
      for (i = 0; i < size / 2; i++)
        swapped[i] = GUINT16_SWAP_LE_BE (swapped[i]);
      samples = swapped;
#endif
      if (self->asr_remote)
        gst_bidi_remote_asr_record (self->asr_remote, samples, size / 2);
      gst_bidi_listener_push (listener, samples, size / 2);
      g_free (swapped);
    } else if (!pcm) {
      if (listener)
        gst_bidi_listener_finish (listener);
      post (self, msg_new (MSG_INPUT_DONE));
    }
    if (pcm)
      g_bytes_unref (pcm);
  }

  gst_bidi_listener_free (listener);
  g_clear_pointer (&self->asr_remote, gst_bidi_remote_asr_free);
  gst_bidi_asr_model_clear (&setup->model);
  server_clear (&setup->server);
  g_free (setup);
  return NULL;
}

typedef struct
{
  GstBidiLocalProvider *self;
  gchar *voice;
  Server server;
  gchar *server_voice, *server_format;
  guint server_rate;
  GstBidiRemoteTts *remote;
  gboolean warned;
  /* the sentence being spoken by the server */
  Job *job;
  gsize n_spoken;
} TtsSetup;

static void
audio_msg (TtsSetup * setup, GBytes * pcm, gboolean more)
{
  Msg *m = msg_new (MSG_AUDIO);

  m->gen = setup->job->gen;
  m->sentence = setup->job->sentence;
  m->pcm = pcm;
  m->more = more;
  post (setup->self, m);
}

/* A piece of the sentence being spoken, from the speech server or flite */
static void
on_speech_piece (const gint16 * samples, gsize n, gpointer user_data)
{
  TtsSetup *setup = user_data;

  setup->n_spoken += n;
  audio_msg (setup, g_bytes_new (samples, n * 2), TRUE);
}

/* A piece of a sentence from flite; FALSE (stop) once the answer is cut
 * off */
static gboolean
on_flite_audio (const gint16 * samples, gsize n, gpointer user_data)
{
  TtsSetup *setup = user_data;

  if ((guint) g_atomic_int_get (&setup->self->tts_gen) != setup->job->gen)
    return FALSE;
  on_speech_piece (samples, n, user_data);
  return TRUE;
}

/* Synthesis worker: @job spoken by the speech server, as it comes. FALSE
 * when flite should say it. */
static gboolean
speak_with_server (TtsSetup * setup, Job * job)
{
  GstBidiLocalProvider *self = setup->self;
  GCancellable *cancel = NULL;
  GError *err = NULL;
  gboolean ok;

  /* under the lock: a barge-in cancels what this sets (set_tts_gen) */
  g_mutex_lock (&self->lock);
  if (!self->quit && (guint) g_atomic_int_get (&self->tts_gen) == job->gen) {
    self->tts_cancel = g_cancellable_new ();
    cancel = g_object_ref (self->tts_cancel);
  }
  g_mutex_unlock (&self->lock);
  if (!cancel)
    return TRUE;

  setup->job = job;
  setup->n_spoken = 0;
  ok = gst_bidi_remote_tts_speak (setup->remote, job->text, cancel,
      on_speech_piece, setup, &err);
  g_mutex_lock (&self->lock);
  g_clear_object (&self->tts_cancel);
  g_mutex_unlock (&self->lock);
  g_object_unref (cancel);

  if (!ok && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    /* the answer was cut off, or the provider stops */
    g_error_free (err);
    return TRUE;
  }
  if (!ok) {
    server_failed (self, &setup->warned, "tts", err, setup->n_spoken ?
        "the sentence ends there" : "flite speaks instead");
    g_error_free (err);
    if (!setup->n_spoken)
      return FALSE;
  }
  audio_msg (setup, g_bytes_new (NULL, 0), FALSE);
  return TRUE;
}

static gpointer
tts_thread_func (gpointer data)
{
  TtsSetup *setup = data;
  GstBidiLocalProvider *self = setup->self;
  Job *job;

  /* voices load on first use; do it before the first answer */
  if (!gst_bidi_tts_prepare (setup->voice, NULL))
    GST_WARNING_OBJECT (self, "could not load voice %s", setup->voice);
  if (setup->server.url) {
    GstBidiRemoteParams p = server_params (&setup->server);
    GError *err = NULL;

    setup->remote = gst_bidi_remote_tts_new (&p, setup->server_voice,
        setup->server_format, setup->server_rate, RATE, &err);
    if (!setup->remote) {
      server_failed (self, &setup->warned, "tts", err, "flite speaks");
      g_error_free (err);
    }
  }

  while ((job = next_job (self))) {
    GError *err = NULL;

    if ((guint) g_atomic_int_get (&self->tts_gen) != job->gen) {
      /* the answer was cut off: skip the rest of it */
      job_free (job);
      continue;
    }
    if (setup->remote && speak_with_server (setup, job)) {
      job_free (job);
      continue;
    }
    /* the first piece goes out while flite makes the rest */
    setup->job = job;
    if (!gst_bidi_tts_synthesize_stream (setup->voice, job->text,
            on_flite_audio, setup, &err)) {
      GST_WARNING_OBJECT (self, "synthesis failed: %s", err->message);
      g_clear_error (&err);
    }
    audio_msg (setup, g_bytes_new (NULL, 0), FALSE);
    setup->job = NULL;
    job_free (job);
  }

  g_clear_pointer (&setup->remote, gst_bidi_remote_tts_free);
  server_clear (&setup->server);
  g_free (setup->server_voice);
  g_free (setup->server_format);
  g_free (setup->voice);
  g_free (setup);
  return NULL;
}

/* ------------------------------------------------------------------------
 * Events (network thread)
 * ------------------------------------------------------------------------ */

static void
emit (GstBidiLocalProvider * self, GstStructure * event)
{
  if (self->user_transcript_due && (gst_structure_has_name (event,
              "bidi_transcript_stream") ||
          gst_structure_has_name (event, "bidi_response_complete") ||
          gst_structure_has_name (event, "bidi_usage"))) {
    g_queue_push_tail (&self->held_events, event);
    return;
  }
  gst_bidi_provider_emit (GST_BIDI_PROVIDER (self), event);
}

static void
emit_usage (GstBidiLocalProvider * self, Answer * a, const gchar * spoken)
{
  GstStructure *s;

  if (a->prompt_tokens >= 0 && a->completion_tokens >= 0) {
    s = gst_bidi_event_new_usage (a->prompt_tokens, a->completion_tokens,
        a->prompt_tokens + a->completion_tokens);
    gst_structure_set (s, "unit", G_TYPE_STRING, "tokens", NULL);
  } else {
    guint out = gst_bidi_count_words (spoken);

    s = gst_bidi_event_new_usage (a->user_words, out, a->user_words + out);
    gst_structure_set (s, "unit", G_TYPE_STRING, "words", NULL);
  }
  emit (self, s);
}

/* ------------------------------------------------------------------------
 * Answers (network thread)
 * ------------------------------------------------------------------------ */

static void
sentence_free (Sentence * s)
{
  g_free (s->text);
  g_free (s);
}

static void
tool_call_free (ToolCall * t)
{
  g_free (t->id);
  g_free (t->name);
  g_free (t->result);
  g_free (t);
}

static void
answer_clear_timeout (Answer * a)
{
  if (a->tool_timeout) {
    g_source_destroy (a->tool_timeout);
    g_source_unref (a->tool_timeout);
    a->tool_timeout = NULL;
  }
}

static void
answer_free (Answer * a)
{
  if (!a)
    return;
  answer_clear_timeout (a);
  g_free (a->id);
  g_ptr_array_unref (a->sentences);
  g_string_free (a->full_text, TRUE);
  gst_bidi_intent_free (a->intent);
  g_ptr_array_unref (a->tools);
  g_string_free (a->llm_pending, TRUE);
  g_free (a);
}

/* What the user heard of @a after @played_ms */
static gchar *
answer_heard (Answer * a, guint64 played_ms)
{
  GPtrArray *texts = g_ptr_array_new ();
  GArray *durs = g_array_new (FALSE, FALSE, sizeof (guint64));
  gchar *heard;
  guint i;

  for (i = 0; i < a->sentences->len; i++) {
    Sentence *s = g_ptr_array_index (a->sentences, i);
    if (!s->emitted)
      break;
    g_ptr_array_add (texts, s->text);
    g_array_append_val (durs, s->dur_ms);
  }
  heard = gst_bidi_tts_heard_text ((const gchar * const *) texts->pdata,
      (const guint64 *) durs->data, texts->len, played_ms);
  g_ptr_array_unref (texts);
  g_array_unref (durs);
  return heard;
}

/* Queues @text (one sentence) for synthesis. */
static void
answer_add_sentence (GstBidiLocalProvider * self, Answer * a,
    const gchar * text)
{
  Sentence *s;
  Job *job;

  if (!text || !*text)
    return;
  s = g_new0 (Sentence, 1);
  s->text = g_strdup (text);
  g_ptr_array_add (a->sentences, s);
  a->n_synth_pending++;

  job = g_new0 (Job, 1);
  job->gen = a->gen;
  job->sentence = a->sentences->len - 1;
  job->text = g_strdup (text);
  queue_job (self, job);
}

/* Says @text (any number of sentences) as the end of the answer. */
static void
answer_say (GstBidiLocalProvider * self, Answer * a, const gchar * text)
{
  GString *pending = g_string_new (text);
  gchar *s;

  GST_INFO_OBJECT (self, "answer %s: %s", a->id, text);
  while ((s = gst_bidi_tts_next_sentence (pending, TRUE))) {
    answer_add_sentence (self, a, s);
    g_free (s);
  }
  g_string_free (pending, TRUE);
  a->text_done = TRUE;
  answer_maybe_finish (self, a);
}

static void
process_pending_turns (GstBidiLocalProvider * self)
{
  gchar *text;

  if (self->answer || self->user_speaking || self->stopping)
    return;
  text = g_queue_pop_head (&self->pending_turns);
  if (text) {
    answer_start (self, text);
    g_free (text);
  }
}

static void
answer_finish (GstBidiLocalProvider * self, Answer * a,
    const gchar * stop_reason)
{
  gchar *full = g_strdup (a->full_text->str);

  if (*full)
    emit (self, gst_bidi_event_new_transcript ("assistant", full, TRUE, full));
  emit_usage (self, a, full);
  emit (self, gst_bidi_event_new_response_complete (a->id, stop_reason));
  g_free (full);

  if (self->answer == a)
    self->answer = NULL;
  answer_clear_timeout (a);
  answer_free (self->last_answer);
  self->last_answer = a;

  process_pending_turns (self);
  check_close (self);
}

static void
answer_maybe_finish (GstBidiLocalProvider * self, Answer * a)
{
  if (self->answer != a || !a->text_done || a->n_synth_pending > 0 ||
      a->llm_running || a->llm_waiting_tools || a->tools->len > 0)
    return;
  answer_finish (self, a, a->stop_reason ? a->stop_reason : "complete");
}

/* The answer being synthesised is now @gen: the TTS worker drops the
 * sentences of others, and a speech server's request for one of them
 * stops */
static void
set_tts_gen (GstBidiLocalProvider * self, guint gen)
{
  g_atomic_int_set (&self->tts_gen, gen);
  g_mutex_lock (&self->lock);
  if (self->tts_cancel)
    g_cancellable_cancel (self->tts_cancel);
  g_mutex_unlock (&self->lock);
}

/* Cuts the current answer off after @played_ms (network thread). */
static void
answer_cancel (GstBidiLocalProvider * self, guint64 played_ms)
{
  Answer *a = self->answer;
  gchar *heard;
  guint i;

  if (!a)
    return;

  /* nothing more of it: the TTS worker skips its remaining sentences */
  self->gen++;
  set_tts_gen (self, self->gen);
  answer_clear_timeout (a);

  if (self->llm && a->llm_running) {
    a->llm_running = FALSE;
    /* calls done ("cancelled"), which we ignore */
    gst_bidi_llm_cancel (self->llm);
  }
  if (self->llm && a->llm_waiting_tools) {
    /* the conversation has the tool calls: give each a result */
    for (i = 0; i < a->tools->len; i++) {
      ToolCall *t = g_ptr_array_index (a->tools, i);
      gst_bidi_llm_add_tool_result (self->llm, t->id, t->result ? t->result :
          "{\"error\": \"cancelled: the user interrupted\"}");
    }
  }
  a->llm_waiting_tools = FALSE;
  g_ptr_array_set_size (a->tools, 0);

  heard = answer_heard (a, played_ms);
  GST_INFO_OBJECT (self, "answer %s interrupted after %" G_GUINT64_FORMAT
      " ms; heard: \"%s\"", a->id, played_ms, heard);
  if (self->llm)
    gst_bidi_llm_truncate_last_answer (self->llm, heard);

  self->answer = NULL;
  emit_usage (self, a, heard);
  emit (self, gst_bidi_event_new_response_complete (a->id, "interrupted"));
  g_free (heard);

  answer_free (self->last_answer);
  self->last_answer = NULL;
  answer_free (a);
  self->play_end_us = 0;

  process_pending_turns (self);
  check_close (self);
}

/* ---- built-in responder ---- */

static gboolean
on_tool_timeout (gpointer user_data)
{
  GstBidiLocalProvider *self = user_data;
  Answer *a = self->answer;
  guint i;

  if (!a)
    return G_SOURCE_REMOVE;
  /* the source is being dispatched: drop our reference only */
  g_source_unref (a->tool_timeout);
  a->tool_timeout = NULL;

  GST_WARNING_OBJECT (self, "no tool result after %u ms",
      self->run->tool_timeout_ms);

  if (self->llm) {
    /* tell the model, and let it answer */
    for (i = 0; i < a->tools->len; i++) {
      ToolCall *t = g_ptr_array_index (a->tools, i);
      if (!t->result)
        t->result = g_strdup ("{\"error\": \"the tool did not answer in "
            "time\"}");
    }
    llm_submit_tool_results (self, a);
    return G_SOURCE_REMOVE;
  }

  {
    ToolCall *t = a->tools->len ? g_ptr_array_index (a->tools, 0) : NULL;
    gchar *text = g_strdup_printf ("Sorry, the %s tool did not answer in "
        "time.", t && g_strcmp0 (t->name, "current_time") == 0 ? "clock" :
        t && g_strcmp0 (t->name, "calculator") == 0 ? "calculator" :
        "conversation");

    g_ptr_array_set_size (a->tools, 0);
    a->stop_reason = "error";
    answer_say (self, a, text);
    g_free (text);
  }
  return G_SOURCE_REMOVE;
}

static void
arm_tool_timeout (GstBidiLocalProvider * self, Answer * a)
{
  answer_clear_timeout (a);
  a->tool_timeout = g_timeout_source_new (self->run->tool_timeout_ms);
  g_source_set_callback (a->tool_timeout, on_tool_timeout, self, NULL);
  g_source_attach (a->tool_timeout, self->net_ctx);
}

/* Emits a tool call. The element may answer at once, from inside the
 * emit; results are taken through the outbox, so the answer's state is
 * final before the result is looked at. */
static void
call_tool (GstBidiLocalProvider * self, Answer * a, const gchar * id,
    const gchar * name, const gchar * input_json)
{
  ToolCall *t = g_new0 (ToolCall, 1);

  t->id = g_strdup (id);
  t->name = g_strdup (name);
  g_ptr_array_add (a->tools, t);
  GST_INFO_OBJECT (self, "tool call %s: %s %s", id, name, input_json);
  emit (self, gst_bidi_event_new_tool_use (id, name, input_json));
}

static gboolean
tool_available (GstBidiLocalProvider * self, const gchar * name)
{
  if (g_strcmp0 (name, GST_BIDI_TOOL_CURRENT_TIME) == 0)
    return self->tools.current_time;
  if (g_strcmp0 (name, GST_BIDI_TOOL_CALCULATOR) == 0)
    return self->tools.calculator;
  if (g_strcmp0 (name, GST_BIDI_TOOL_STOP_CONVERSATION) == 0)
    return self->tools.stop_conversation;
  return FALSE;
}

static void
builtin_turn (GstBidiLocalProvider * self, Answer * a, const gchar * text)
{
  const gchar *tool;

  a->intent = gst_bidi_intent_classify (text);
  tool = gst_bidi_intent_tool (a->intent);
  GST_INFO_OBJECT (self, "intent %s for \"%s\"%s%s",
      gst_bidi_intent_type_name (a->intent->type), text,
      a->intent->expression ? ": " : "", a->intent->expression ?
      a->intent->expression : "");

  if (tool && tool_available (self, tool)) {
    gchar *id = g_strdup_printf ("local-tool-%u", ++self->tool_seq);
    gchar *input = gst_bidi_intent_tool_input (a->intent);

    arm_tool_timeout (self, a);
    call_tool (self, a, id, tool, input);
    g_free (input);
    g_free (id);
  } else {
    gchar *say = gst_bidi_intent_answer_without_tool (a->intent,
        &self->tools);
    answer_say (self, a, say);
    g_free (say);
  }
}

static void
builtin_tool_result (GstBidiLocalProvider * self, Answer * a, ToolCall * t,
    const gchar * json, gboolean success)
{
  gchar *say;

  answer_clear_timeout (a);
  if (success && g_strcmp0 (t->name, GST_BIDI_TOOL_STOP_CONVERSATION) == 0)
    self->stopping = TRUE;
  say = gst_bidi_intent_answer (a->intent, json, success);
  g_ptr_array_set_size (a->tools, 0);
  answer_say (self, a, say);
  g_free (say);
}

/* ---- LLM responder ---- */

static void llm_on_text (const gchar * delta, gpointer user_data);
static void llm_on_tool_call (const gchar * id, const gchar * name,
    const gchar * args_json, gpointer user_data);
static void llm_on_done (const gchar * finish_reason, gint prompt_tokens,
    gint completion_tokens, gpointer user_data);
static void llm_on_error (const GError * error, gpointer user_data);

static const GstBidiLlmCallbacks llm_callbacks = {
  llm_on_text, llm_on_tool_call, llm_on_done, llm_on_error
};

static void
llm_failed (GstBidiLocalProvider * self, Answer * a, const gchar * message)
{
  a->llm_running = FALSE;
  a->llm_waiting_tools = FALSE;
  g_ptr_array_set_size (a->tools, 0);
  answer_clear_timeout (a);
  emit (self, gst_bidi_event_new_error (message, "llm", NULL));
  a->stop_reason = "error";
  /* what was streamed before the failure is still spoken */
  {
    gchar *rest = gst_bidi_tts_next_sentence (a->llm_pending, TRUE);
    if (rest) {
      gchar *clean = gst_bidi_tts_clean_text (rest);
      answer_add_sentence (self, a, clean);
      g_free (clean);
      g_free (rest);
    }
  }
  answer_say (self, a, "Sorry, I could not get an answer from the language "
      "model.");
}

static void
llm_request (GstBidiLocalProvider * self, Answer * a)
{
  /* set first: a callback may come from inside the request */
  a->llm_running = TRUE;
  if (!gst_bidi_llm_request (self->llm, &llm_callbacks, self) &&
      self->answer == a && a->llm_running)
    llm_failed (self, a, "the language model client is busy");
}

static void
llm_submit_tool_results (GstBidiLocalProvider * self, Answer * a)
{
  guint i;

  if (!a->llm_waiting_tools)
    return;
  for (i = 0; i < a->tools->len; i++) {
    ToolCall *t = g_ptr_array_index (a->tools, i);
    if (!t->result)
      return;
  }
  answer_clear_timeout (a);
  for (i = 0; i < a->tools->len; i++) {
    ToolCall *t = g_ptr_array_index (a->tools, i);
    gst_bidi_llm_add_tool_result (self->llm, t->id, t->result);
  }
  g_ptr_array_set_size (a->tools, 0);
  a->llm_waiting_tools = FALSE;
  GST_DEBUG_OBJECT (self, "tool results in, asking the model again");
  llm_request (self, a);
}

static void
llm_on_text (const gchar * delta, gpointer user_data)
{
  GstBidiLocalProvider *self = user_data;
  Answer *a = self->answer;
  gchar *s;

  if (!a || !a->llm_running)
    return;
  g_string_append (a->llm_pending, delta);
  while ((s = gst_bidi_tts_next_sentence (a->llm_pending, FALSE))) {
    gchar *clean = gst_bidi_tts_clean_text (s);
    answer_add_sentence (self, a, clean);
    g_free (clean);
    g_free (s);
  }
}

static void
llm_on_tool_call (const gchar * id, const gchar * name,
    const gchar * args_json, gpointer user_data)
{
  GstBidiLocalProvider *self = user_data;
  Answer *a = self->answer;

  if (!a || !a->llm_running)
    return;
  call_tool (self, a, id, name, args_json && *args_json ? args_json : "{}");
}

static void
llm_on_done (const gchar * finish_reason, gint prompt_tokens,
    gint completion_tokens, gpointer user_data)
{
  GstBidiLocalProvider *self = user_data;
  Answer *a = self->answer;
  gchar *s;

  GST_DEBUG_OBJECT (self, "model done: %s (%d + %d tokens)", finish_reason,
      prompt_tokens, completion_tokens);
  if (!a || !a->llm_running || g_strcmp0 (finish_reason, "cancelled") == 0)
    return;
  a->llm_running = FALSE;

  if (prompt_tokens >= 0 && completion_tokens >= 0) {
    a->prompt_tokens = MAX (a->prompt_tokens, 0) + prompt_tokens;
    a->completion_tokens = MAX (a->completion_tokens, 0) + completion_tokens;
  }

  /* text before the tool calls, or the end of the answer */
  while ((s = gst_bidi_tts_next_sentence (a->llm_pending, TRUE))) {
    gchar *clean = gst_bidi_tts_clean_text (s);
    answer_add_sentence (self, a, clean);
    g_free (clean);
    g_free (s);
  }

  if (a->tools->len > 0) {
    a->llm_waiting_tools = TRUE;
    arm_tool_timeout (self, a);
    llm_submit_tool_results (self, a);
    return;
  }
  if (g_strcmp0 (finish_reason, "length") == 0)
    GST_INFO_OBJECT (self, "the model's answer was cut at its length limit");
  a->text_done = TRUE;
  answer_maybe_finish (self, a);
}

static void
llm_on_error (const GError * error, gpointer user_data)
{
  GstBidiLocalProvider *self = user_data;
  Answer *a = self->answer;
  gchar *msg;

  GST_WARNING_OBJECT (self, "language model request failed: %s",
      error->message);
  if (!a || !a->llm_running)
    return;
  msg = g_strdup_printf ("Language model request failed: %s", error->message);
  llm_failed (self, a, msg);
  g_free (msg);
}

/* ---- turns ---- */

static void
answer_start (GstBidiLocalProvider * self, const gchar * text)
{
  Answer *a;

  if (self->answer)
    answer_cancel (self, self->answer->emitted_ms);

  a = g_new0 (Answer, 1);
  a->seq = ++self->answer_seq;
  a->gen = ++self->gen;
  set_tts_gen (self, a->gen);
  a->id = g_strdup_printf ("local-response-%u", a->seq);
  a->user_words = gst_bidi_count_words (text);
  a->sentences = g_ptr_array_new_with_free_func ((GDestroyNotify)
      sentence_free);
  a->full_text = g_string_new (NULL);
  a->tools = g_ptr_array_new_with_free_func ((GDestroyNotify) tool_call_free);
  a->llm_pending = g_string_new (NULL);
  a->prompt_tokens = a->completion_tokens = -1;
  a->started_us = g_get_monotonic_time ();
  self->answer = a;

  emit (self, gst_bidi_event_new_response_start (a->id));

  if (self->llm) {
    gst_bidi_llm_add_user (self->llm, text);
    llm_request (self, a);
  } else {
    builtin_turn (self, a, text);
  }
}

static void
on_tool_result (GstBidiLocalProvider * self, Msg * m)
{
  Answer *a = self->answer;
  ToolCall *t = NULL;
  gboolean success = g_strcmp0 (m->status, "success") == 0;
  guint i;

  for (i = 0; a && i < a->tools->len; i++) {
    ToolCall *c = g_ptr_array_index (a->tools, i);
    if (g_strcmp0 (c->id, m->id) == 0 && !c->result)
      t = c;
  }
  if (!t) {
    GST_DEBUG_OBJECT (self, "late or unknown tool result %s", m->id);
    return;
  }
  GST_INFO_OBJECT (self, "tool result %s (%s): %s", m->id, m->status, m->text);
  if (success && g_strcmp0 (t->name, GST_BIDI_TOOL_STOP_CONVERSATION) == 0)
    self->stopping = TRUE;

  if (self->llm) {
    t->result = g_strdup (m->text);
    llm_submit_tool_results (self, a);
  } else {
    builtin_tool_result (self, a, t, m->text, success);
  }
}

/* Emits the synthesised sentence, or the next piece of it: its
 * transcript first, then its audio. */
static void
on_audio (GstBidiLocalProvider * self, Msg * m)
{
  Answer *a = self->answer;
  Sentence *s;
  gsize size, off, chunk = RATE * 2 * AUDIO_CHUNK_MS / 1000;
  guint64 dur_ms;
  gint64 now;

  if (!a || m->gen != a->gen || m->sentence >= a->sentences->len) {
    GST_LOG_OBJECT (self, "dropping audio of a cancelled answer");
    return;
  }
  s = g_ptr_array_index (a->sentences, m->sentence);
  size = g_bytes_get_size (m->pcm);
  dur_ms = size / 2 * 1000 / RATE;
  s->dur_ms += dur_ms;
  if (!s->emitted) {
    s->emitted = TRUE;
    if (a->full_text->len)
      g_string_append_c (a->full_text, ' ');
    g_string_append (a->full_text, s->text);
    emit (self, gst_bidi_event_new_transcript ("assistant", s->text, FALSE,
            a->full_text->str));
  }

  now = g_get_monotonic_time ();
  if (a->emitted_ms == 0)
    GST_DEBUG_OBJECT (self, "first audio of %s, %" G_GINT64_FORMAT " ms after "
        "the turn", a->id, (now - a->started_us) / 1000);
  for (off = 0; off < size; off += chunk) {
    gsize n = MIN (chunk, size - off);
    GBytes *piece = g_bytes_new_from_bytes (m->pcm, off, n);
    GstStructure *ev = gst_bidi_event_new_audio_stream (piece, "S16LE", RATE,
        1);

    gst_structure_set (ev, "response_id", G_TYPE_STRING, a->id, NULL);
    emit (self, ev);
    g_bytes_unref (piece);
  }
  /* the element plays it after what it has queued, or now */
  self->play_end_us = MAX (self->play_end_us, now) +
      (gint64) (size / 2) * G_USEC_PER_SEC / RATE;
  a->emitted_ms += dur_ms;

  if (m->more)
    return;
  a->n_synth_pending--;
  answer_maybe_finish (self, a);
}

/* How long ago, in ms, the input sample @sample came in (the listener may
 * run behind the input) */
static guint64
sample_ago_ms (GstBidiLocalProvider * self, guint64 sample)
{
  gint64 now = g_get_monotonic_time (), then;

  g_mutex_lock (&self->lock);
  then = gst_bidi_arrivals_time (&self->arrivals, sample, now);
  g_mutex_unlock (&self->lock);
  return MAX (now - then, 0) / 1000;
}

/* How long ago, in ms, the listener told @m */
static guint64
msg_ago_ms (const Msg * m)
{
  return MAX (g_get_monotonic_time () - m->told_us, 0) / 1000;
}

/* The VAD confirmed speech: a barge-in if an answer is open or may still
 * be playing. */
static void
on_speech_start (GstBidiLocalProvider * self, Msg * m)
{
  gint64 now = g_get_monotonic_time ();
  gboolean playing = self->play_end_us + PLAYBACK_MARGIN_US > now;
  Answer *a = self->answer;
  guint seq = a ? a->seq : 0;

  GST_DEBUG_OBJECT (self, "speech at %" G_GUINT64_FORMAT " ms of input "
      "(onset at %" G_GUINT64_FORMAT " ms)", m->speech_start * 1000 / RATE,
      m->position * 1000 / RATE);
  self->user_speaking = TRUE;
  emit (self, gst_bidi_event_new_user_state ("speaking",
          sample_ago_ms (self, m->speech_start)));

  if (!a && !playing)
    return;

  GST_INFO_OBJECT (self, "user speech while answering: barge-in");
  emit (self, gst_bidi_event_new_interruption ("user_speech",
          a ? a->id : (self->last_answer ? self->last_answer->id : NULL)));

  /* The element answers with interrupt (played_ms), normally from inside
   * the emit. If it did not, cut the answer here with our own estimate. */
  if (self->answer && self->answer->seq == seq) {
    gint64 left = MAX (self->play_end_us - now, 0) / 1000;
    answer_cancel (self, a->emitted_ms > (guint64) left ?
        a->emitted_ms - left : 0);
  }
  self->play_end_us = 0;
}

static void
post_user_transcript (GstBidiLocalProvider * self, Msg * m)
{
  GstStructure *ev = gst_bidi_event_new_transcript ("user", m->text, TRUE,
      m->text);

  /* where in the input the turn was, for applications that align */
  gst_structure_set (ev, "audio_start_ms", G_TYPE_UINT64,
      m->speech_start * 1000 / RATE, "audio_end_ms", G_TYPE_UINT64,
      m->position * 1000 / RATE, NULL);
  self->user_transcript_due = FALSE;
  emit (self, ev);
  while ((ev = g_queue_pop_head (&self->held_events)))
    emit (self, ev);
}

static void
on_final (GstBidiLocalProvider * self, Msg * m)
{
  self->user_speaking = FALSE;
  emit (self, gst_bidi_event_new_user_state ("listening",
          sample_ago_ms (self, m->speech_end)));
  if (!m->text || !*m->text) {
    GST_INFO_OBJECT (self, "speech at %" G_GUINT64_FORMAT " ms was not "
        "recognised: no turn", m->speech_start * 1000 / RATE);
    process_pending_turns (self);
    check_close (self);
    return;
  }
  GST_INFO_OBJECT (self, "user said \"%s\" (%" G_GUINT64_FORMAT " - %"
      G_GUINT64_FORMAT " ms of input)", m->text, m->speech_start * 1000 / RATE,
      m->position * 1000 / RATE);
  /* after an early end of turn the transcript waits for the second pass's
   * words (MSG_REVISED, right behind) while the answer starts */
  if (m->revised_follows)
    self->user_transcript_due = TRUE;
  else
    post_user_transcript (self, m);
  if (self->stopping)
    return;
  /* the listener ended the turn: the answer is being made */
  emit (self, gst_bidi_event_new_agent_state ("thinking",
          msg_ago_ms (m)));
  answer_start (self, m->text);
}

static void
check_close (GstBidiLocalProvider * self)
{
  if (!self->connected || self->closed || !self->end_input ||
      !self->input_done || self->answer || self->user_speaking ||
      !g_queue_is_empty (&self->pending_turns))
    return;
  self->closed = TRUE;
  if (self->stopping) {
    /* stop_conversation: the element ends the session itself */
    GST_INFO_OBJECT (self, "input ended after stop_conversation");
    return;
  }
  GST_INFO_OBJECT (self, "input ended and answered: closing");
  emit (self, gst_bidi_event_new_connection_close (self->conn_id, "complete"));
}

static void
handle_msg (GstBidiLocalProvider * self, Msg * m)
{
  switch (m->type) {
    case MSG_READY:
      self->connected = TRUE;
      GST_INFO_OBJECT (self, "ready: %s", self->model_name);
      emit (self, gst_bidi_event_new_connection_start (self->conn_id,
              self->model_name));
      process_pending_turns (self);
      break;
    case MSG_LOAD_ERROR:
      GST_ERROR_OBJECT (self, "%s", m->text);
      emit (self, gst_bidi_event_new_error (m->text, "model", NULL));
      self->closed = TRUE;
      emit (self, gst_bidi_event_new_connection_close (self->conn_id, "error"));
      break;
    case MSG_SPEECH_START:
      on_speech_start (self, m);
      break;
    case MSG_PARTIAL:
      emit (self, gst_bidi_event_new_transcript ("user", m->text, FALSE,
              m->text));
      break;
    case MSG_FINAL:
      on_final (self, m);
      break;
    case MSG_REVISED:
      post_user_transcript (self, m);
      break;
    case MSG_INPUT_DONE:
      self->input_done = TRUE;
      check_close (self);
      break;
    case MSG_AUDIO:
      on_audio (self, m);
      break;
    case MSG_TOOL_RESULT:
      on_tool_result (self, m);
      break;
    case MSG_WARNING:
      emit (self, gst_bidi_event_new_error (m->text, m->name, NULL));
      break;
  }
}

static gboolean
outbox_dispatch (gpointer user_data)
{
  GstBidiLocalProvider *self = user_data;
  GQueue q;
  Msg *m;

  g_mutex_lock (&self->lock);
  q = self->outbox;
  g_queue_init (&self->outbox);
  /* the context holds its own reference while dispatching */
  g_source_unref (self->outbox_source);
  self->outbox_source = NULL;
  g_mutex_unlock (&self->lock);

  while ((m = g_queue_pop_head (&q))) {
    if (self->started)
      handle_msg (self, m);
    msg_free (m);
  }
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------
 * vfuncs
 * ------------------------------------------------------------------------ */

static gboolean
gst_bidi_local_provider_configure (GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error)
{
  GstBidiLocalProvider *self = GST_BIDI_LOCAL_PROVIDER (provider);
  Settings *s = settings_parse (config, error);

  if (!s)
    return FALSE;
  GST_OBJECT_LOCK (self);
  settings_free (self->settings);
  self->settings = s;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static void
gst_bidi_local_provider_get_audio_formats (G_GNUC_UNUSED GstBidiProvider *
    provider, GstAudioInfo * in_info, GstAudioInfo * out_info)
{
  gst_audio_info_set_format (in_info, GST_AUDIO_FORMAT_S16LE, RATE, 1, NULL);
  gst_audio_info_set_format (out_info, GST_AUDIO_FORMAT_S16LE, RATE, 1, NULL);
}

static void gst_bidi_local_provider_stop (GstBidiProvider * provider);

static gboolean
gst_bidi_local_provider_start (GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error)
{
  GstBidiLocalProvider *self = GST_BIDI_LOCAL_PROVIDER (provider);
  AsrSetup *asr_setup;
  TtsSetup *tts_setup;
  Settings *s;

  if (self->started)
    gst_bidi_local_provider_stop (provider);

  GST_OBJECT_LOCK (self);
  s = self->settings ? settings_copy (self->settings) : NULL;
  GST_OBJECT_UNLOCK (self);
  if (!s && !(s = settings_parse (config, error)))
    return FALSE;

  self->run = s;
  self->conn_id = g_uuid_string_random ();
  gst_bidi_intent_tools_from_json (config->tools_json, &self->tools);

  if (s->llm_url) {
    const gchar *model = s->llm_model ? s->llm_model : config->model;

    self->llm = gst_bidi_llm_new (s->llm_url, model, config->api_key,
        config->instructions, config->tools_json, config->ssl_ca_file, error);
    if (!self->llm)
      goto llm_failed;
    /* the element's conversation, read at each request; without one (the
     * provider driven on its own) the client keeps it, from history_json */
    self->llm_in_history = config->history != NULL;
    if (config->history)
      gst_bidi_llm_set_conversation (self->llm, config->history);
    else if (config->history_json &&
        !gst_bidi_llm_set_history (self->llm, config->history_json, error))
      goto llm_failed;
    self->model_name = g_strdup (model ? model : "chat-completions");
  } else {
    self->model_name = g_strdup (MODEL_NAME);
  }

  g_mutex_lock (&self->lock);
  self->net_ctx = g_main_context_ref_thread_default ();
  self->quit = FALSE;
  g_mutex_unlock (&self->lock);
  self->started = TRUE;

  GST_INFO_OBJECT (self, "starting: %s, voice %s, tools:%s%s%s",
      s->llm_url ? s->llm_url : "built-in responder", s->voice,
      self->tools.current_time ? " current_time" : "",
      self->tools.calculator ? " calculator" : "",
      self->tools.stop_conversation ? " stop_conversation" : "");

  self->asr_cancel = g_cancellable_new ();
  self->asr_warned = FALSE;

  tts_setup = g_new0 (TtsSetup, 1);
  tts_setup->self = self;
  tts_setup->voice = g_strdup (s->voice);
  if (s->tts_url) {
    server_init (&tts_setup->server, s->tts_url, s->tts_model,
        s->tts_timeout_ms, config);
    tts_setup->server_voice = g_strdup (s->tts_voice);
    tts_setup->server_format = g_strdup (s->tts_format);
    tts_setup->server_rate = s->tts_rate;
  }
  self->tts_thread = g_thread_new ("bidilocal-tts", tts_thread_func, tts_setup);

  asr_setup = g_new0 (AsrSetup, 1);
  asr_setup->self = self;
  asr_setup->params = s->listener;
  gst_bidi_asr_model_copy (&asr_setup->model, &s->model);
  if (s->asr_url)
    server_init (&asr_setup->server, s->asr_url, s->asr_model,
        s->asr_timeout_ms, config);
  self->asr_thread = g_thread_new ("bidilocal-asr", asr_thread_func, asr_setup);
  return TRUE;

  /* ERRORS */
llm_failed:
  {
    g_clear_pointer (&self->llm, gst_bidi_llm_free);
    g_clear_pointer (&self->conn_id, g_free);
    settings_free (self->run);
    self->run = NULL;
    return FALSE;
  }
}

static void
gst_bidi_local_provider_send_audio (GstBidiProvider * provider, GBytes * pcm,
    gint64 arrived_us)
{
  GstBidiLocalProvider *self = GST_BIDI_LOCAL_PROVIDER (provider);
  gboolean full = FALSE;
  gsize dropped;

  if (!self->started || self->stopping || self->end_input)
    return;

  /* past INPUT_FULL_MS the element holds the input back; should it still
   * come (a provider is told, not obeyed), past a minute the oldest goes */
  g_mutex_lock (&self->lock);
  dropped = gst_bidi_audio_queue_push (&self->asr_audio, g_bytes_ref (pcm),
      arrived_us);
  /* dated by when it reached the element: it may have waited there while
   * the models loaded (the recogniser asks about any sample, not chunks) */
  gst_bidi_arrivals_add (&self->arrivals, g_bytes_get_size (pcm) / 2,
      dropped / 2, arrived_us);
  if (!self->input_full && gst_bidi_audio_queue_get_bytes (&self->asr_audio)
      >= MS_TO_BYTES (INPUT_FULL_MS))
    full = self->input_full = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (full) {
    GST_DEBUG_OBJECT (self, "recognition is behind: input full");
    gst_bidi_provider_set_input_full (provider, TRUE);
  }
  if (dropped > 0)
    GST_WARNING_OBJECT (self, "recognition is too slow, dropping audio");
}

static void
gst_bidi_local_provider_send_text (GstBidiProvider * provider,
    const gchar * text, const gchar * role)
{
  GstBidiLocalProvider *self = GST_BIDI_LOCAL_PROVIDER (provider);

  if (!self->started || !text || !*text)
    return;
  if (g_strcmp0 (role, "user") != 0) {
    GST_WARNING_OBJECT (self, "ignoring text with role %s", role);
    return;
  }
  if (self->stopping) {
    GST_INFO_OBJECT (self, "conversation stopped, ignoring \"%s\"", text);
    return;
  }
  if (self->answer || self->user_speaking || !self->connected) {
    g_queue_push_tail (&self->pending_turns, g_strdup (text));
    return;
  }
  answer_start (self, text);
}

static void
gst_bidi_local_provider_send_tool_result (GstBidiProvider * provider,
    const gchar * tool_use_id, const gchar * name, const gchar * json,
    const gchar * status)
{
  GstBidiLocalProvider *self = GST_BIDI_LOCAL_PROVIDER (provider);
  Msg *m;

  if (!self->started)
    return;
  /* through the outbox: the element may call this from inside our own
   * emit of the tool call */
  m = msg_new (MSG_TOOL_RESULT);
  m->id = g_strdup (tool_use_id);
  m->name = g_strdup (name);
  m->text = g_strdup (json ? json : "{}");
  m->status = g_strdup (status ? status : "success");
  post (self, m);
}

static void
gst_bidi_local_provider_interrupt (GstBidiProvider * provider,
    guint64 played_ms)
{
  GstBidiLocalProvider *self = GST_BIDI_LOCAL_PROVIDER (provider);

  if (!self->started)
    return;
  GST_DEBUG_OBJECT (self, "interrupt after %" G_GUINT64_FORMAT " ms",
      played_ms);

  if (self->answer) {
    answer_cancel (self, played_ms);
  } else if (self->last_answer) {
    /* complete, but it was still playing: keep what was heard */
    Answer *a = self->last_answer;
    gchar *heard = answer_heard (a, played_ms);

    GST_INFO_OBJECT (self, "answer %s cut after %" G_GUINT64_FORMAT " ms; "
        "heard: \"%s\"", a->id, played_ms, heard);
    /* the element's conversation has its transcript, cut as heard */
    if (self->llm && !self->llm_in_history)
      gst_bidi_llm_truncate_last_answer (self->llm, heard);
    g_free (heard);
    answer_free (a);
    self->last_answer = NULL;
  }
  self->play_end_us = 0;
}

static void
gst_bidi_local_provider_end_input (GstBidiProvider * provider)
{
  GstBidiLocalProvider *self = GST_BIDI_LOCAL_PROVIDER (provider);

  if (!self->started) {
    emit (self, gst_bidi_event_new_connection_close (NULL, "complete"));
    return;
  }
  if (self->end_input)
    return;
  self->end_input = TRUE;
  GST_INFO_OBJECT (self, "input ended");

  g_mutex_lock (&self->lock);
  self->asr_end_input = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
gst_bidi_local_provider_stop (GstBidiProvider * provider)
{
  GstBidiLocalProvider *self = GST_BIDI_LOCAL_PROVIDER (provider);
  gchar *text;

  g_mutex_lock (&self->lock);
  self->quit = TRUE;
  /* the servers' requests in flight end now */
  if (self->tts_cancel)
    g_cancellable_cancel (self->tts_cancel);
  if (self->asr_cancel)
    g_cancellable_cancel (self->asr_cancel);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (self->asr_thread)
    g_thread_join (self->asr_thread);
  if (self->tts_thread)
    g_thread_join (self->tts_thread);
  self->asr_thread = self->tts_thread = NULL;
  g_clear_object (&self->asr_cancel);

  /* no events after this */
  self->started = FALSE;

  g_mutex_lock (&self->lock);
  if (self->outbox_source) {
    g_source_destroy (self->outbox_source);
    g_source_unref (self->outbox_source);
    self->outbox_source = NULL;
  }
  g_queue_clear_full (&self->outbox, (GDestroyNotify) msg_free);
  gst_bidi_audio_queue_clear (&self->asr_audio);
  gst_bidi_arrivals_reset (&self->arrivals, RATE);
  self->asr_end_input = FALSE;
  self->input_full = FALSE;
  g_queue_clear_full (&self->tts_jobs, (GDestroyNotify) job_free);
  g_clear_pointer (&self->net_ctx, g_main_context_unref);
  g_mutex_unlock (&self->lock);

  if (self->llm) {
    gst_bidi_llm_cancel (self->llm);
    g_clear_pointer (&self->llm, gst_bidi_llm_free);
  }
  self->llm_in_history = FALSE;
  g_clear_pointer (&self->answer, answer_free);
  g_clear_pointer (&self->last_answer, answer_free);
  while ((text = g_queue_pop_head (&self->pending_turns)))
    g_free (text);
  self->user_transcript_due = FALSE;
  g_queue_clear_full (&self->held_events, (GDestroyNotify) gst_structure_free);
  g_clear_pointer (&self->conn_id, g_free);
  g_clear_pointer (&self->model_name, g_free);
  settings_free (self->run);
  self->run = NULL;
  self->connected = self->closed = self->stopping = FALSE;
  self->end_input = self->input_done = self->user_speaking = FALSE;
  self->play_end_us = 0;
}

static void
gst_bidi_local_provider_finalize (GObject * object)
{
  GstBidiLocalProvider *self = GST_BIDI_LOCAL_PROVIDER (object);

  /* the element stops us first; this is the safety net */
  if (self->started || self->asr_thread || self->tts_thread)
    gst_bidi_local_provider_stop (GST_BIDI_PROVIDER (self));
  settings_free (self->settings);
  g_queue_clear_full (&self->held_events, (GDestroyNotify) gst_structure_free);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_bidi_local_provider_class_init (GstBidiLocalProviderClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBidiProviderClass *provider_class = GST_BIDI_PROVIDER_CLASS (klass);

  gobject_class->finalize = gst_bidi_local_provider_finalize;
  provider_class->configure = gst_bidi_local_provider_configure;
  provider_class->get_audio_formats = gst_bidi_local_provider_get_audio_formats;
  provider_class->start = gst_bidi_local_provider_start;
  provider_class->send_audio = gst_bidi_local_provider_send_audio;
  provider_class->send_text = gst_bidi_local_provider_send_text;
  provider_class->send_tool_result = gst_bidi_local_provider_send_tool_result;
  provider_class->interrupt = gst_bidi_local_provider_interrupt;
  provider_class->end_input = gst_bidi_local_provider_end_input;
  provider_class->stop = gst_bidi_local_provider_stop;
  /* the built-in responder answers the time and arithmetic with them */
  provider_class->builtin_tools = GST_BIDI_BUILTIN_TOOLS_ALL;
}

static void
gst_bidi_local_provider_init (GstBidiLocalProvider * self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  gst_bidi_audio_queue_init (&self->asr_audio,
      MS_TO_BYTES (MAX_QUEUED_AUDIO_MS));
  gst_bidi_arrivals_reset (&self->arrivals, RATE);
  g_queue_init (&self->tts_jobs);
  g_queue_init (&self->outbox);
  g_queue_init (&self->pending_turns);
  g_queue_init (&self->held_events);
}
