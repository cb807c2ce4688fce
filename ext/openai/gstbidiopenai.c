/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gstbidiopenai
 * @title: openai provider
 * @short_description: OpenAI Realtime (GA protocol) over WebSocket
 *
 * Streams the user's audio to an OpenAI Realtime model and turns its
 * answers into unified events: spoken audio (PCM 24 kHz mono both ways),
 * transcripts of both sides, interruptions, tool calls and usage.
 *
 * Endpoint: `wss://api.openai.com/v1/realtime?model=<model>` (model
 * `gpt-realtime-2` unless the element's `model` is set; older models such
 * as `gpt-realtime` keep working through it). The element's
 * `url` replaces the endpoint (a `model` query parameter is added when it
 * has none); plain `ws://` is accepted for loopback hosts only. The key is
 * the element's `api-key`, else the `OPENAI_API_KEY` environment variable;
 * it only ever goes into the Authorization header. TLS is verified, with
 * the element's `ssl-ca-file` as extra trust (`ssl-strict=false` is
 * honoured for loopback hosts only).
 *
 * The element's `system-prompt` becomes the session's instructions (at
 * most 256 KiB: a longer one is refused at start), its
 * `voice` the output voice (default `alloy`; `voice_...` names a custom
 * voice), its tools the session's function tools.
 *
 * provider-config fields:
 *
 * * `organization`, `project` (strings): sent as OpenAI-Organization and
 *   OpenAI-Project headers; default from `OPENAI_ORG_ID` and
 *   `OPENAI_PROJECT_ID`
 * * `turn-detection` (string, `server_vad`): `server_vad`, `semantic_vad`,
 *   or `none` for push-to-talk (the input is committed at end of input or
 *   on the application's request)
 * * `vad-threshold` (double, 0.5), `prefix-padding-ms` (int, 300),
 *   `silence-duration-ms` (int, 500), `idle-timeout-ms` (int, 0 = none):
 *   server_vad settings
 * * `eagerness` (string, `auto`): semantic_vad's `low`, `medium`, `high`
 *   or `auto`
 * * `create-response`, `interrupt-response` (booleans, TRUE): whether the
 *   server answers each turn by itself, and cancels its answer when the
 *   user talks over it
 * * `transcription-model` (string, `gpt-4o-transcribe`): the model that
 *   transcribes the user's speech; `none` turns it off (then spoken user
 *   turns are missing from the history replayed after a reconnect)
 * * `transcription-language` (string, ISO-639-1), `transcription-prompt`
 *   (string): hints for it
 * * `noise-reduction` (string, not set = the server's default, off):
 *   `near_field`, `far_field` or `none`
 * * `output-modalities` (string, `audio`): `audio` or `text`
 * * `max-output-tokens` (int, 0 = "inf"): 1-4096 tokens per answer
 * * `speed` (double, not set): 0.25-1.5
 * * `tool-choice` (string, not set = `auto`): `auto`, `none`, `required`
 * * `image-detail` (string, `auto`): `auto`, `low` or `high`
 * * `reasoning-effort` (string, not set = the server's default, `low`):
 *   `minimal`, `low`, `medium`, `high` or `xhigh`; the `gpt-realtime-2`
 *   family only (older models refuse the session)
 * * `reconnect-attempts` (int, 5), `reconnect-delay-ms` (int, 500),
 *   `max-session-s` (int, 3300: renewed before the server's 60-minute
 *   limit), `connect-timeout-ms` (int, 20000), `keepalive-s` (int, 20:
 *   WebSocket pings), `max-message-size` (int, 16777216),
 *   `stall-timeout-ms` (int, 15000: a server silent this long while it owes
 *   an answer is taken as dead), `reconnect-reset-ms` (int, 10000): the
 *   transport settings of every realtime provider, see
 *   #GstBidiRealtimeProvider
 *
 * This is the OpenAI wire protocol on #GstBidiRealtimeProvider, which
 * owns the connection, reconnecting and the replay of the conversation.
 * Reconnecting: when an established session drops (network, server close,
 * close code 1001 or the error `session_expired` for the session limit)
 * the provider connects again with exponential backoff, configures the new
 * session the same way (`session.update`) and replays the conversation so
 * far as `conversation.item.create` items (messages, function calls and
 * their outputs), then emits `bidi_connection_restart`. Audio and inputs
 * that come meanwhile wait (audio in the element, which is told the input
 * is full: a file loses nothing, a live source keeps the last
 * input-buffer-ms). Failing to connect at
 * start, a refused key or a rejected session configuration is fatal at
 * once.
 *
 * Interruption: `interrupt (played_ms)` truncates the assistant audio item
 * being played to what was heard of it (`conversation.item.truncate`),
 * deletes the answer's spoken items that were not heard at all
 * (`conversation.item.delete`),
 * cancels the answer when it is still running (unless the server's VAD
 * already did); the history keeps only the heard share of its transcript.
 *
 * Response phases: an answer of the `gpt-realtime-2` family may hold
 * several spoken items, a `commentary` preamble ("let me check") and the
 * `final_answer`. Each item has transcripts of its own, which carry its
 * `phase`; a barge-in truncates whichever item was playing.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <json-glib/json-glib.h>

#include <gst/bidi/gstbidiarrivals.h>
#include <gst/bidi/gstbidievents.h>
#include <gst/bidi/gstbidihistory.h>
#include <gst/bidi/gstbiditools.h>

#include "gstbidiopenai.h"
#include "gstbidirealtime.h"

GST_DEBUG_CATEGORY_STATIC (bidi_openai_debug);
#define GST_CAT_DEFAULT bidi_openai_debug

#define PROVIDER_NAME "openai"
#define SERVER_NAME "OpenAI Realtime"
#define DEFAULT_URL "wss://api.openai.com/v1/realtime"
#define DEFAULT_MODEL "gpt-realtime-2"
#define DEFAULT_VOICE "alloy"
#define DEFAULT_TRANSCRIPTION_MODEL "gpt-4o-transcribe"
#define DEFAULT_VAD_THRESHOLD 0.5
#define DEFAULT_PREFIX_PADDING_MS 300
#define DEFAULT_SILENCE_DURATION_MS 500
#define DEFAULT_EAGERNESS "auto"
#define DEFAULT_IMAGE_DETAIL "auto"

#define RATE 24000
#define BYTES_PER_MS (RATE * 2 / 1000)

/* Bounds */
#define MAX_IMAGE_SIZE (8 * 1024 * 1024)
#define MAX_TEXT_SIZE (64 * 1024)       /* a transcript, a typed text */
#define MAX_USER_TRANSCRIPTS 16
#define MAX_OUT_ITEMS 32        /* output items of one response */
#define MAX_UNKNOWN_TYPES 64
#define MAX_CALL_ID 32          /* OpenAI refuses longer call ids */
/* the system prompt: the protocol notes give no limit of their own; this
 * keeps it well inside the model's 128k-token context, and a longer one is
 * refused rather than cut (a cut prompt changes what the agent does) */
#define MAX_INSTRUCTIONS_SIZE (256 * 1024)
/* after asking for an answer, how long a missing response.created may
 * hold the end of the session */
#define AWAIT_RESPONSE_MS 15000
/* after the input ended with server VAD: silence appended so that the
 * server can end a turn in progress */
#define END_SILENCE_EXTRA_MS 300

typedef enum
{
  TURN_SERVER_VAD,
  TURN_SEMANTIC_VAD,
  TURN_NONE
} TurnMode;

typedef struct
{
  gchar *model;
  gchar *instructions;
  gchar *voice;
  gchar *organization;
  gchar *project;
  gchar *transcription_model;   /* NULL: off */
  gchar *transcription_language;
  gchar *transcription_prompt;
  TurnMode turn;
  gdouble vad_threshold;
  gint prefix_padding_ms;
  gint silence_duration_ms;
  gint idle_timeout_ms;
  gchar *eagerness;
  gboolean create_response;
  gboolean interrupt_response;
  gchar *noise_reduction;       /* NULL: not sent */
  gboolean text_only;
  gint max_output_tokens;       /* 0: "inf" (not sent) */
  gdouble speed;                /* 0: not sent */
  gchar *tool_choice;
  gchar *image_detail;
  gchar *reasoning_effort;      /* NULL: not sent */
  JsonArray *tools;             /* GA function tools, NULL when none */
} Settings;

/* An assistant message of a response */
typedef struct
{
  gchar *item_id;
  gint content_index;
  guint64 audio_bytes;          /* audio received for it */
  GString *transcript;          /* deltas, then the final text */
  guint64 heard_ms;             /* G_MAXUINT64: not interrupted */
  const gchar *phase;           /* static; NULL: the server told none */
} OutItem;

typedef struct
{
  gchar *id;
  gboolean done;
  gboolean cancel_sent;
  GPtrArray *items;             /* OutItem, in order */
} Response;

struct _GstBidiOpenAIProvider
{
  GstBidiRealtimeProvider parent;

  /* network thread only: made by start, freed by stop */
  Settings *run;

  /* network thread only */
  GSource *settle_timer;
  guint event_seq;
  gchar *update_event_id;
  gchar *create_event_id;
  gchar *commit_event_id;
  /* unknown server event types already warned about */
  GHashTable *unknown_types;

  /* input */
  guint64 audio_since_commit;
  /* bytes sent in this session: the server VAD's audio_start_ms and
   * audio_end_ms count from its start; and when they came in, so a moment
   * in audio that waited for the connection is not dated late */
  guint64 audio_sent;
  GstBidiArrivals sent_arrivals;
  gboolean user_speaking;
  gboolean settling;

  /* output */
  Response *resp;               /* the latest response */
  gboolean want_response;
  gint64 awaiting_until;        /* monotonic; 0: no answer is expected */
  gboolean server_interrupting;
  GHashTable *user_transcripts; /* item id -> GString */
};

#define gst_bidi_openai_provider_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstBidiOpenAIProvider, gst_bidi_openai_provider,
    GST_TYPE_BIDI_REALTIME_PROVIDER,
    GST_DEBUG_CATEGORY_INIT (bidi_openai_debug, "bidiopenai", 0,
        "bidiagent OpenAI Realtime provider"));

#define BASE(self) GST_BIDI_REALTIME_PROVIDER (self)

static void request_response (GstBidiOpenAIProvider * self);

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

static void
out_item_free (OutItem * item)
{
  g_free (item->item_id);
  g_string_free (item->transcript, TRUE);
  g_free (item);
}

static void
response_free (Response * r)
{
  if (!r)
    return;
  g_free (r->id);
  g_ptr_array_unref (r->items);
  g_free (r);
}

static Response *
response_new (const gchar * id)
{
  Response *r = g_new0 (Response, 1);

  r->id = g_strdup (id);
  r->items = g_ptr_array_new_with_free_func ((GDestroyNotify) out_item_free);
  return r;
}

static void
string_free (GString * s)
{
  g_string_free (s, TRUE);
}

/* A call id as OpenAI accepts it (at most 32 characters). Applied the same
 * way to calls and to their results, so they still match. */
static gchar *
wire_call_id (const gchar * id)
{
  gchar *valid = gst_bidi_realtime_make_valid (id, 256);

  if (g_utf8_strlen (valid, -1) > MAX_CALL_ID)
    *g_utf8_offset_to_pointer (valid, MAX_CALL_ID) = '\0';
  return valid;
}

static gboolean
emit (GstBidiOpenAIProvider * self, GstStructure * event)
{
  return gst_bidi_realtime_provider_emit (BASE (self), event);
}

static void
report_bad_message (GstBidiOpenAIProvider * self, const gchar * message)
{
  gst_bidi_realtime_provider_report_bad_message (BASE (self), message);
}

/* Text from the server, safe for a message: scrubbed, one line, short. */
static gchar *
clean (GstBidiOpenAIProvider * self, const gchar * text)
{
  return gst_bidi_realtime_provider_clean (BASE (self), text,
      text ? strlen (text) : 0);
}

static gchar *
next_event_id (GstBidiOpenAIProvider * self, const gchar * what)
{
  return g_strdup_printf ("bidi_%s_%u", what, ++self->event_seq);
}

static gboolean
send_object (GstBidiOpenAIProvider * self, JsonObject * obj)
{
  return gst_bidi_realtime_provider_send_object (BASE (self), obj);
}

static JsonObject *
client_event (const gchar * type)
{
  JsonObject *obj = json_object_new ();

  json_object_set_string_member (obj, "type", type);
  return obj;
}

/* ------------------------------------------------------------------------
 * Settings
 * ------------------------------------------------------------------------ */

static void
settings_free (Settings * s)
{
  if (!s)
    return;
  g_free (s->model);
  g_free (s->instructions);
  g_free (s->voice);
  g_free (s->organization);
  g_free (s->project);
  g_free (s->transcription_model);
  g_free (s->transcription_language);
  g_free (s->transcription_prompt);
  g_free (s->eagerness);
  g_free (s->noise_reduction);
  g_free (s->tool_choice);
  g_free (s->image_detail);
  g_free (s->reasoning_effort);
  if (s->tools)
    json_array_unref (s->tools);
  g_free (s);
}

/* Tools from the element ({name, description, parameters}, or a Strands
 * spec with input_schema / inputSchema {json: schema}) into the GA shape:
 * {type: "function", name, description, parameters}. */
static gboolean
parse_tools (const gchar * tools_json, JsonArray ** out, GError ** error)
{
  GPtrArray *specs = gst_bidi_tools_parse (tools_json, error);
  JsonArray *tools;
  guint i;

  *out = NULL;
  if (!specs)
    return FALSE;
  tools = json_array_new ();
  /* the GA flat form */
  for (i = 0; i < specs->len; i++) {
    GstBidiToolSpec *spec = g_ptr_array_index (specs, i);
    JsonObject *fn = json_object_new ();

    json_object_set_string_member (fn, "type", "function");
    json_object_set_string_member (fn, "name", spec->name);
    if (*spec->description)
      json_object_set_string_member (fn, "description", spec->description);
    json_object_set_member (fn, "parameters",
        json_from_string (spec->parameters, NULL));
    json_array_add_object_element (tools, fn);
  }
  g_ptr_array_unref (specs);
  if (json_array_get_length (tools) > 0)
    *out = tools;
  else
    json_array_unref (tools);
  return TRUE;
}

static gboolean
voice_ok (const gchar * voice)
{
  const gchar *p;

  if (!*voice || strlen (voice) > 64)
    return FALSE;
  for (p = voice; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

static gboolean
config_error (GError ** error, const gchar * message)
{
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "Invalid provider-config of provider \"" PROVIDER_NAME "\": %s",
      message);
  return FALSE;
}

/* Reads everything but the transport settings (the base reads those);
 * returns the endpoint. */
static Settings *
settings_parse (const GstBidiProviderConfig * config, gchar ** url,
    GError ** error)
{
  const GstStructure *pc = config->provider_config;
  Settings *s = g_new0 (Settings, 1);
  const gchar *const turn_modes[] =
      { "server_vad", "semantic_vad", "none", NULL };
  const gchar *const eagerness[] = { "low", "medium", "high", "auto", NULL };
  const gchar *const noise[] = { "near_field", "far_field", "none", NULL };
  const gchar *const modalities[] = { "audio", "text", NULL };
  const gchar *const tool_choices[] = { "auto", "none", "required", NULL };
  const gchar *const details[] = { "auto", "low", "high", NULL };
  const gchar *const efforts[] = { "minimal", "low", "medium", "high",
    "xhigh", NULL
  };
  const gchar *name = PROVIDER_NAME;
  gchar *turn = NULL, *modality = NULL;
  const gchar *str;

  *url = NULL;
  if (!gst_bidi_provider_check_config (pc, PROVIDER_NAME, error,
          "organization", G_TYPE_STRING,
          "project", G_TYPE_STRING,
          "turn-detection", G_TYPE_STRING,
          "vad-threshold", G_TYPE_DOUBLE,
          "prefix-padding-ms", G_TYPE_INT,
          "silence-duration-ms", G_TYPE_INT,
          "idle-timeout-ms", G_TYPE_INT,
          "eagerness", G_TYPE_STRING,
          "create-response", G_TYPE_BOOLEAN,
          "interrupt-response", G_TYPE_BOOLEAN,
          "transcription-model", G_TYPE_STRING,
          "transcription-language", G_TYPE_STRING,
          "transcription-prompt", G_TYPE_STRING,
          "noise-reduction", G_TYPE_STRING,
          "output-modalities", G_TYPE_STRING,
          "max-output-tokens", G_TYPE_INT,
          "speed", G_TYPE_DOUBLE,
          "tool-choice", G_TYPE_STRING,
          "image-detail", G_TYPE_STRING,
          "reasoning-effort", G_TYPE_STRING,
          GST_BIDI_REALTIME_CONFIG_FIELDS, NULL))
    goto fail;

  s->model = g_strdup (config->model && *config->model ? config->model :
      DEFAULT_MODEL);
  *url = gst_bidi_realtime_ws_url_with_param (config->url && *config->url ?
      config->url : DEFAULT_URL, "model", s->model, error);
  if (!*url)
    goto fail;
  if (config->instructions && strlen (config->instructions) >
      MAX_INSTRUCTIONS_SIZE)
    goto prompt_too_long;
  if (config->instructions && *config->instructions)
    s->instructions = gst_bidi_realtime_make_valid (config->instructions,
        MAX_INSTRUCTIONS_SIZE);
  s->voice = g_strdup (config->voice && *config->voice ? config->voice :
      DEFAULT_VOICE);
  if (!voice_ok (s->voice))
    goto bad_voice;

  s->turn = TURN_SERVER_VAD;
  s->vad_threshold = DEFAULT_VAD_THRESHOLD;
  s->prefix_padding_ms = DEFAULT_PREFIX_PADDING_MS;
  s->silence_duration_ms = DEFAULT_SILENCE_DURATION_MS;
  s->eagerness = g_strdup (DEFAULT_EAGERNESS);
  s->create_response = TRUE;
  s->interrupt_response = TRUE;
  s->transcription_model = g_strdup (DEFAULT_TRANSCRIPTION_MODEL);
  s->image_detail = g_strdup (DEFAULT_IMAGE_DETAIL);

  if (!gst_bidi_provider_config_get_choice (pc, name, "turn-detection",
          turn_modes, &turn, error) ||
      !gst_bidi_provider_config_get_double (pc, name, "vad-threshold", 0, 1,
          &s->vad_threshold, error) ||
      !gst_bidi_provider_config_get_int (pc, name, "prefix-padding-ms", 0,
          10000, &s->prefix_padding_ms, error) ||
      !gst_bidi_provider_config_get_int (pc, name, "silence-duration-ms", 0,
          10000, &s->silence_duration_ms, error) ||
      !gst_bidi_provider_config_get_int (pc, name, "idle-timeout-ms", 0,
          3600000, &s->idle_timeout_ms, error) ||
      !gst_bidi_provider_config_get_choice (pc, name, "eagerness", eagerness,
          &s->eagerness, error) ||
      !gst_bidi_provider_config_get_choice (pc, name, "noise-reduction",
          noise, &s->noise_reduction, error) ||
      !gst_bidi_provider_config_get_choice (pc, name, "output-modalities",
          modalities, &modality, error) ||
      !gst_bidi_provider_config_get_int (pc, name, "max-output-tokens", 0,
          4096, &s->max_output_tokens, error) ||
      !gst_bidi_provider_config_get_double (pc, name, "speed", 0.25, 1.5,
          &s->speed, error) ||
      !gst_bidi_provider_config_get_choice (pc, name, "tool-choice",
          tool_choices, &s->tool_choice, error) ||
      !gst_bidi_provider_config_get_choice (pc, name, "image-detail",
          details, &s->image_detail, error) ||
      !gst_bidi_provider_config_get_choice (pc, name, "reasoning-effort",
          efforts, &s->reasoning_effort, error))
    goto fail;

  if (g_strcmp0 (turn, "semantic_vad") == 0)
    s->turn = TURN_SEMANTIC_VAD;
  else if (g_strcmp0 (turn, "none") == 0)
    s->turn = TURN_NONE;
  s->text_only = g_strcmp0 (modality, "text") == 0;
  g_clear_pointer (&turn, g_free);
  g_clear_pointer (&modality, g_free);

  if (pc) {
    gst_structure_get_boolean (pc, "create-response", &s->create_response);
    gst_structure_get_boolean (pc, "interrupt-response",
        &s->interrupt_response);
    if ((str = gst_structure_get_string (pc, "transcription-model"))) {
      g_free (s->transcription_model);
      s->transcription_model = (*str && g_strcmp0 (str, "none") != 0) ?
          gst_bidi_realtime_make_valid (str, 256) : NULL;
    }
    if ((str = gst_structure_get_string (pc, "transcription-language")) && *str)
      s->transcription_language = gst_bidi_realtime_make_valid (str, 64);
    if ((str = gst_structure_get_string (pc, "transcription-prompt")) && *str)
      s->transcription_prompt = gst_bidi_realtime_make_valid (str,
          MAX_TEXT_SIZE);
    if ((str = gst_structure_get_string (pc, "organization")))
      s->organization = g_strdup (str);
    if ((str = gst_structure_get_string (pc, "project")))
      s->project = g_strdup (str);
  }
  if (!s->organization && g_getenv ("OPENAI_ORG_ID"))
    s->organization = g_strdup (g_getenv ("OPENAI_ORG_ID"));
  if (!s->project && g_getenv ("OPENAI_PROJECT_ID"))
    s->project = g_strdup (g_getenv ("OPENAI_PROJECT_ID"));
  if ((s->organization &&
          !gst_bidi_realtime_header_value_ok (s->organization)) ||
      (s->project && !gst_bidi_realtime_header_value_ok (s->project))) {
    config_error (error, "\"organization\" and \"project\" must be printable "
        "text on one line");
    goto fail;
  }
  if (s->organization && !*s->organization)
    g_clear_pointer (&s->organization, g_free);
  if (s->project && !*s->project)
    g_clear_pointer (&s->project, g_free);

  if (!parse_tools (config->tools_json, &s->tools, error))
    goto fail;
  /* the conversation to start from is checked here; the base replays it */
  if (config->history_json) {
    GPtrArray *messages = gst_bidi_history_parse (config->history_json,
        error);
    if (!messages)
      goto fail;
    g_ptr_array_unref (messages);
  }
  return s;

  /* ERRORS */
prompt_too_long:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Provider \"" PROVIDER_NAME "\": the system prompt is %"
        G_GSIZE_FORMAT " bytes; at most %u bytes (256 KiB) are accepted",
        strlen (config->instructions), MAX_INSTRUCTIONS_SIZE);
    goto fail;
  }
bad_voice:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Provider \"" PROVIDER_NAME "\": invalid voice name \"%s\" (e.g. "
        "alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, "
        "cedar, or a custom voice_... id)", s->voice);
    goto fail;
  }
fail:
  g_free (turn);
  g_free (modality);
  g_clear_pointer (url, g_free);
  settings_free (s);
  return NULL;
}

/* ------------------------------------------------------------------------
 * Sending
 * ------------------------------------------------------------------------ */

static JsonObject *
build_session (GstBidiOpenAIProvider * self)
{
  Settings *s = self->run;
  JsonObject *session = json_object_new ();
  JsonObject *audio = json_object_new ();
  JsonObject *in = json_object_new (), *out = json_object_new ();
  JsonObject *format;
  JsonArray *modalities = json_array_new ();

  json_object_set_string_member (session, "type", "realtime");
  if (s->instructions)
    json_object_set_string_member (session, "instructions", s->instructions);
  json_array_add_string_element (modalities, s->text_only ? "text" : "audio");
  json_object_set_array_member (session, "output_modalities", modalities);
  if (s->max_output_tokens > 0)
    json_object_set_int_member (session, "max_output_tokens",
        s->max_output_tokens);
  /* only when asked for, whatever the model: the server's default is
   * already "low", and older models (and deployments whose names tell
   * nothing of the model) refuse the whole session when it is there */
  if (s->reasoning_effort) {
    JsonObject *reasoning = json_object_new ();
    json_object_set_string_member (reasoning, "effort", s->reasoning_effort);
    json_object_set_object_member (session, "reasoning", reasoning);
  }

  format = json_object_new ();
  json_object_set_string_member (format, "type", "audio/pcm");
  json_object_set_int_member (format, "rate", RATE);
  json_object_set_object_member (in, "format", format);

  if (g_strcmp0 (s->noise_reduction, "none") == 0) {
    json_object_set_null_member (in, "noise_reduction");
  } else if (s->noise_reduction) {
    JsonObject *nr = json_object_new ();
    json_object_set_string_member (nr, "type", s->noise_reduction);
    json_object_set_object_member (in, "noise_reduction", nr);
  }

  if (s->transcription_model) {
    JsonObject *tr = json_object_new ();
    json_object_set_string_member (tr, "model", s->transcription_model);
    if (s->transcription_language)
      json_object_set_string_member (tr, "language", s->transcription_language);
    if (s->transcription_prompt)
      json_object_set_string_member (tr, "prompt", s->transcription_prompt);
    json_object_set_object_member (in, "transcription", tr);
  } else {
    json_object_set_null_member (in, "transcription");
  }

  if (s->turn == TURN_NONE) {
    json_object_set_null_member (in, "turn_detection");
  } else {
    JsonObject *td = json_object_new ();

    if (s->turn == TURN_SERVER_VAD) {
      json_object_set_string_member (td, "type", "server_vad");
      json_object_set_double_member (td, "threshold", s->vad_threshold);
      json_object_set_int_member (td, "prefix_padding_ms",
          s->prefix_padding_ms);
      json_object_set_int_member (td, "silence_duration_ms",
          s->silence_duration_ms);
      if (s->idle_timeout_ms > 0)
        json_object_set_int_member (td, "idle_timeout_ms", s->idle_timeout_ms);
    } else {
      json_object_set_string_member (td, "type", "semantic_vad");
      json_object_set_string_member (td, "eagerness", s->eagerness);
    }
    json_object_set_boolean_member (td, "create_response", s->create_response);
    json_object_set_boolean_member (td, "interrupt_response",
        s->interrupt_response);
    json_object_set_object_member (in, "turn_detection", td);
  }
  json_object_set_object_member (audio, "input", in);

  format = json_object_new ();
  json_object_set_string_member (format, "type", "audio/pcm");
  json_object_set_int_member (format, "rate", RATE);
  json_object_set_object_member (out, "format", format);
  if (g_str_has_prefix (s->voice, "voice_")) {
    JsonObject *custom = json_object_new ();
    json_object_set_string_member (custom, "id", s->voice);
    json_object_set_object_member (out, "voice", custom);
  } else {
    json_object_set_string_member (out, "voice", s->voice);
  }
  if (s->speed > 0)
    json_object_set_double_member (out, "speed", s->speed);
  json_object_set_object_member (audio, "output", out);
  json_object_set_object_member (session, "audio", audio);

  if (s->tools) {
    json_object_set_array_member (session, "tools", json_array_ref (s->tools));
    json_object_set_string_member (session, "tool_choice",
        s->tool_choice ? s->tool_choice : "auto");
  } else if (s->tool_choice) {
    json_object_set_string_member (session, "tool_choice", s->tool_choice);
  }
  return session;
}

static JsonObject *
message_item (const gchar * role, const gchar * text)
{
  JsonObject *item = json_object_new ();
  JsonObject *part = json_object_new ();
  JsonArray *content = json_array_new ();

  json_object_set_string_member (item, "type", "message");
  json_object_set_string_member (item, "role", role);
  json_object_set_string_member (part, "type",
      g_strcmp0 (role, "assistant") == 0 ? "output_text" : "input_text");
  json_object_set_string_member (part, "text", text);
  json_array_add_object_element (content, part);
  json_object_set_array_member (item, "content", content);
  return item;
}

static void
send_item (GstBidiOpenAIProvider * self, JsonObject * item)
{
  JsonObject *obj = client_event ("conversation.item.create");

  json_object_set_object_member (obj, "item", item);
  send_object (self, obj);
}

static void
send_call_output (GstBidiOpenAIProvider * self, const gchar * call_id,
    const gchar * output)
{
  JsonObject *item = json_object_new ();
  gchar *id = wire_call_id (call_id);

  json_object_set_string_member (item, "type", "function_call_output");
  json_object_set_string_member (item, "call_id", id);
  json_object_set_string_member (item, "output", output);
  send_item (self, item);
  g_free (id);
}

/* One history message as items: tool results (function call outputs)
 * first, as they answer the previous assistant message; then the text as
 * one message; then the tool uses (function calls), which follow the
 * assistant's words. Returns how many items were sent. */
static guint
send_message_items (GstBidiOpenAIProvider * self, const GstBidiMessage * m)
{
  gchar *text = gst_bidi_message_text (m);
  guint pass, i, n = 0;

  for (pass = 0; pass < 2; pass++) {
    for (i = 0; i < m->blocks->len; i++) {
      const GstBidiBlock *b = g_ptr_array_index (m->blocks, i);

      if (b->type == GST_BIDI_BLOCK_TOOL_RESULT && pass == 0) {
        gchar *output = b->error ? g_strconcat ("error: ", b->content,
            NULL) : g_strdup (b->content);

        send_call_output (self, b->tool_use_id, output);
        g_free (output);
        n++;
      } else if (b->type == GST_BIDI_BLOCK_TOOL_USE && pass == 1) {
        JsonObject *item = json_object_new ();
        gchar *id = wire_call_id (b->tool_use_id);
        gchar *name = gst_bidi_realtime_make_valid (b->name, 256);

        json_object_set_string_member (item, "type", "function_call");
        json_object_set_string_member (item, "call_id", id);
        json_object_set_string_member (item, "name", name);
        json_object_set_string_member (item, "arguments", b->input);
        send_item (self, item);
        g_free (id);
        g_free (name);
        n++;
      }
    }
    if (pass == 0 && text && *text) {
      gchar *valid = gst_bidi_realtime_make_valid (text, MAX_TEXT_SIZE);

      send_item (self, message_item (m->assistant ? "assistant" : "user",
              valid));
      g_free (valid);
      n++;
    }
  }
  g_free (text);
  return n;
}

static gboolean
awaiting_response (GstBidiOpenAIProvider * self)
{
  return self->awaiting_until && g_get_monotonic_time () < self->awaiting_until;
}

static void
expect_response (GstBidiOpenAIProvider * self)
{
  self->awaiting_until = g_get_monotonic_time () +
      AWAIT_RESPONSE_MS * G_TIME_SPAN_MILLISECOND;
}

static gboolean
response_active (GstBidiOpenAIProvider * self)
{
  return self->resp && !self->resp->done;
}

/* Asks for an answer now, or when the one running (or coming) is done:
 * the server refuses a second one. */
static void
request_response (GstBidiOpenAIProvider * self)
{
  JsonObject *obj;

  if (!gst_bidi_realtime_provider_is_ready (BASE (self)) ||
      response_active (self) || awaiting_response (self)) {
    self->want_response = TRUE;
    return;
  }
  self->want_response = FALSE;
  obj = client_event ("response.create");
  g_free (self->create_event_id);
  self->create_event_id = next_event_id (self, "response");
  json_object_set_string_member (obj, "event_id", self->create_event_id);
  /* first: the base asks whether an answer is due once it is sent */
  expect_response (self);
  send_object (self, obj);
}

static void
commit_input (GstBidiOpenAIProvider * self)
{
  JsonObject *obj = client_event ("input_audio_buffer.commit");

  g_free (self->commit_event_id);
  self->commit_event_id = next_event_id (self, "commit");
  json_object_set_string_member (obj, "event_id", self->commit_event_id);
  send_object (self, obj);
  self->audio_since_commit = 0;
}

/* ------------------------------------------------------------------------
 * Ending the input
 * ------------------------------------------------------------------------ */

static gboolean
settle_done_cb (gpointer user_data)
{
  GstBidiOpenAIProvider *self = user_data;

  gst_bidi_realtime_provider_timer_fired (&self->settle_timer);
  self->settling = FALSE;
  GST_DEBUG_OBJECT (self, "end of input settled");
  gst_bidi_realtime_provider_check_idle (BASE (self));
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------
 * Server events
 * ------------------------------------------------------------------------ */

/* The assistant item @item_id of @r (nullable), or NULL; its index in
 * @index */
static OutItem *
out_item_find (Response * r, const gchar * item_id, guint * index)
{
  guint i;

  for (i = 0; r && item_id && i < r->items->len; i++) {
    OutItem *item = g_ptr_array_index (r->items, i);
    if (g_strcmp0 (item->item_id, item_id) == 0) {
      *index = i;
      return item;
    }
  }
  return NULL;
}

static OutItem *
out_item_get (Response * r, const gchar * item_id, gint content_index)
{
  OutItem *item;
  guint i;

  if ((item = out_item_find (r, item_id, &i)))
    return item;
  if (r->items->len >= MAX_OUT_ITEMS)
    return NULL;
  item = g_new0 (OutItem, 1);
  item->item_id = g_strdup (item_id);
  item->content_index = MAX (content_index, 0);
  item->transcript = g_string_new (NULL);
  item->heard_ms = G_MAXUINT64;
  g_ptr_array_add (r->items, item);
  return item;
}

/* The response an output event belongs to, when it is the latest one */
static Response *
response_for (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  const gchar *id = gst_bidi_json_get_string (ev, "response_id");

  if (!self->resp) {
    /* no response.created seen: track it anyway */
    self->resp = response_new (id);
    return self->resp;
  }
  if (id && self->resp->id && strcmp (id, self->resp->id) != 0)
    return NULL;
  return self->resp;
}

static guint64
out_item_ms (OutItem * item)
{
  return item->audio_bytes / BYTES_PER_MS;
}

/* The phase of an assistant message item, as the schema names it: a
 * phase the schema does not know is left out (the transcript stays a
 * plain assistant transcript) */
static void
out_item_set_phase (GstBidiOpenAIProvider * self, Response * r,
    JsonObject * item)
{
  static const gchar *const phases[] = { "commentary", "final_answer", NULL };
  const gchar *phase = gst_bidi_json_get_string (item, "phase");
  const gchar *id = gst_bidi_json_get_string (item, "id");
  OutItem *out;
  guint i;

  if (!phase || !id || !r || !(out = out_item_get (r, id, 0)))
    return;
  for (i = 0; phases[i]; i++)
    if (strcmp (phase, phases[i]) == 0)
      out->phase = phases[i];
  if (!out->phase)
    GST_DEBUG_OBJECT (self, "item %s: unknown phase ignored", id);
}

/* An assistant transcript event, with the phase of its item */
static GstStructure *
assistant_transcript (OutItem * item, const gchar * text, gboolean is_final,
    const gchar * so_far)
{
  GstStructure *ev = gst_bidi_event_new_transcript ("assistant", text,
      is_final, so_far);

  if (item)
    gst_bidi_event_transcript_set_phase (ev, item->phase);
  return ev;
}

static void
on_session_updated (GstBidiOpenAIProvider * self)
{
  GST_INFO_OBJECT (self, "session ready (%s)", self->run->model);
  gst_bidi_realtime_provider_session_ready (BASE (self), self->run->model);
}

static void
on_response_created (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  JsonObject *resp = gst_bidi_json_get_object (ev, "response");
  const gchar *id = gst_bidi_json_get_string (resp, "id");

  self->awaiting_until = 0;
  g_clear_pointer (&self->create_event_id, g_free);
  response_free (self->resp);
  self->resp = response_new (id);
  GST_DEBUG_OBJECT (self, "response %s started", GST_STR_NULL (id));
  emit (self, gst_bidi_event_new_response_start (id));
}

static void
on_output_item_added (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  JsonObject *item = gst_bidi_json_get_object (ev, "item");
  const gchar *type = gst_bidi_json_get_string (item, "type");
  const gchar *id = gst_bidi_json_get_string (item, "id");
  Response *r = response_for (self, ev);

  if (g_strcmp0 (type, "function_call") == 0) {
    const gchar *call_id = gst_bidi_json_get_string (item, "call_id");

    if (call_id && !gst_bidi_realtime_provider_call_known (BASE (self),
            call_id, NULL))
      gst_bidi_realtime_provider_call_add (BASE (self), call_id,
          gst_bidi_json_get_string (item, "name"), id,
          gst_bidi_json_get_string (ev, "response_id"));
  } else if (g_strcmp0 (type, "message") == 0 && id && r) {
    out_item_get (r, id, 0);
    out_item_set_phase (self, r, item);
  }
}

static void
on_audio_delta (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  const gchar *delta = gst_bidi_json_get_string (ev, "delta");
  const gchar *item_id = gst_bidi_json_get_string (ev, "item_id");
  GError *err = NULL;
  Response *r;
  GBytes *pcm;

  if (!delta) {
    report_bad_message (self, SERVER_NAME " sent audio without data; "
        "ignored");
    return;
  }
  pcm = gst_bidi_base64_decode (delta, -1, 2,
      gst_bidi_realtime_provider_get_max_message_size (BASE (self)), &err);
  if (!pcm) {
    gchar *msg = g_strdup_printf (SERVER_NAME " sent audio that was "
        "ignored: %s", err->message);
    g_error_free (err);
    report_bad_message (self, msg);
    g_free (msg);
    return;
  }
  if (g_bytes_get_size (pcm) == 0) {
    g_bytes_unref (pcm);
    return;
  }

  if ((r = response_for (self, ev)) && item_id) {
    OutItem *item = out_item_get (r, item_id,
        gst_bidi_json_get_int (ev, "content_index", 0));
    if (item)
      item->audio_bytes += g_bytes_get_size (pcm);
  }
  GST_LOG_OBJECT (self, "audio: %" G_GSIZE_FORMAT " bytes",
      g_bytes_get_size (pcm));
  gst_bidi_realtime_provider_emit_audio (BASE (self), pcm);
  g_bytes_unref (pcm);
}

static void
on_assistant_delta (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  const gchar *delta = gst_bidi_json_get_string (ev, "delta");
  const gchar *item_id = gst_bidi_json_get_string (ev, "item_id");
  Response *r = response_for (self, ev);
  OutItem *item = r && item_id ? out_item_get (r, item_id, 0) : NULL;
  gchar *text;

  if (!delta || !*delta)
    return;
  text = gst_bidi_realtime_make_valid (delta, MAX_TEXT_SIZE);
  if (item && item->transcript->len + strlen (text) <= MAX_TEXT_SIZE)
    g_string_append (item->transcript, text);
  emit (self, assistant_transcript (item, text, FALSE,
          item ? item->transcript->str : NULL));
  g_free (text);
}

static void
on_assistant_done (GstBidiOpenAIProvider * self, JsonObject * ev,
    const gchar * field)
{
  const gchar *final = gst_bidi_json_get_string (ev, field);
  const gchar *item_id = gst_bidi_json_get_string (ev, "item_id");
  Response *r = response_for (self, ev);
  OutItem *item = r && item_id ? out_item_get (r, item_id, 0) : NULL;
  gchar *text;

  text = gst_bidi_realtime_make_valid (final ? final :
      (item ? item->transcript->str : ""), MAX_TEXT_SIZE);
  if (item) {
    g_string_assign (item->transcript, text);
  }
  GST_DEBUG_OBJECT (self, "assistant said: %s", text);
  emit (self, assistant_transcript (item, text, TRUE, text));
  g_free (text);
}

static void
on_user_delta (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  const gchar *delta = gst_bidi_json_get_string (ev, "delta");
  const gchar *item_id = gst_bidi_json_get_string (ev, "item_id");
  GString *acc = NULL;
  gchar *text;

  if (!delta || gst_bidi_realtime_is_blank (delta))
    return;
  text = gst_bidi_realtime_make_valid (delta, MAX_TEXT_SIZE);
  if (item_id) {
    acc = g_hash_table_lookup (self->user_transcripts, item_id);
    if (!acc && g_hash_table_size (self->user_transcripts) <
        MAX_USER_TRANSCRIPTS) {
      acc = g_string_new (NULL);
      g_hash_table_insert (self->user_transcripts, g_strdup (item_id), acc);
    }
    if (acc && acc->len + strlen (text) <= MAX_TEXT_SIZE)
      g_string_append (acc, text);
  }
  emit (self, gst_bidi_event_new_transcript ("user", text, FALSE,
          acc ? acc->str : NULL));
  g_free (text);
}

static void
on_user_done (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  const gchar *transcript = gst_bidi_json_get_string (ev, "transcript");
  const gchar *item_id = gst_bidi_json_get_string (ev, "item_id");
  gchar *text;

  if (item_id)
    g_hash_table_remove (self->user_transcripts, item_id);
  if (!transcript) {
    report_bad_message (self, SERVER_NAME " sent a user transcript without "
        "text; ignored");
    return;
  }
  text = gst_bidi_realtime_make_valid (transcript, MAX_TEXT_SIZE);
  GST_DEBUG_OBJECT (self, "user said: %s", text);
  emit (self, gst_bidi_event_new_transcript ("user", text, TRUE, text));
  g_free (text);
}

static void
on_function_call_args (GstBidiOpenAIProvider * self, JsonObject * ev,
    gboolean done)
{
  GstBidiRealtimeProvider *base = BASE (self);
  const gchar *call_id = gst_bidi_json_get_string (ev, "call_id");
  const gchar *item_id = gst_bidi_json_get_string (ev, "item_id");

  if (!gst_bidi_realtime_provider_call_add (base, call_id,
          gst_bidi_json_get_string (ev, "name"), item_id,
          gst_bidi_json_get_string (ev, "response_id"))) {
    if (!call_id)
      report_bad_message (self, SERVER_NAME " sent a tool call without "
          "call_id; ignored");
    return;
  }
  if (!done)
    gst_bidi_realtime_provider_call_append_args (base, call_id, item_id,
        gst_bidi_json_get_string (ev, "delta"));
  else
    gst_bidi_realtime_provider_call_ready (base, call_id, item_id,
        gst_bidi_json_get_string (ev, "arguments"));
}

static void
on_output_item_done (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  JsonObject *item = gst_bidi_json_get_object (ev, "item");
  const gchar *call_id;

  if (g_strcmp0 (gst_bidi_json_get_string (item, "type"), "message") == 0)
    out_item_set_phase (self, response_for (self, ev), item);
  if (g_strcmp0 (gst_bidi_json_get_string (item, "type"),
          "function_call") != 0)
    return;
  if (g_strcmp0 (gst_bidi_json_get_string (item, "status"),
          "completed") != 0)
    return;
  call_id = gst_bidi_json_get_string (item, "call_id");
  if (!call_id || !gst_bidi_realtime_provider_call_add (BASE (self), call_id,
          gst_bidi_json_get_string (item, "name"),
          gst_bidi_json_get_string (item, "id"),
          gst_bidi_json_get_string (ev, "response_id")))
    return;
  gst_bidi_realtime_provider_call_ready (BASE (self), call_id, NULL,
      gst_bidi_json_get_string (item, "arguments"));
}

static gint
usage_count (JsonObject * obj, const gchar * name)
{
  return (gint) CLAMP (gst_bidi_json_get_int (obj, name, 0), 0, G_MAXINT);
}

static void
add_modality (GstStructure * ev, const gchar * modality, JsonObject * in,
    JsonObject * out, const gchar * name)
{
  if (!(in && json_object_has_member (in, name)) &&
      !(out && json_object_has_member (out, name)))
    return;
  gst_bidi_event_usage_add_modality (ev, modality, in ? usage_count (in,
          name) : 0, out ? usage_count (out, name) : 0);
}

static gboolean
emit_usage (GstBidiOpenAIProvider * self, JsonObject * usage)
{
  JsonObject *in = gst_bidi_json_get_object (usage, "input_token_details");
  JsonObject *out = gst_bidi_json_get_object (usage,
      "output_token_details");
  GstStructure *ev;

  ev = gst_bidi_event_new_usage (usage_count (usage, "input_tokens"),
      usage_count (usage, "output_tokens"), usage_count (usage,
          "total_tokens"));
  add_modality (ev, "text", in, out, "text_tokens");
  add_modality (ev, "audio", in, out, "audio_tokens");
  add_modality (ev, "image", in, out, "image_tokens");
  if (in && json_object_has_member (in, "cached_tokens"))
    gst_structure_set (ev, "cacheReadInputTokens", G_TYPE_INT,
        usage_count (in, "cached_tokens"), NULL);
  /* the gpt-realtime-2 family: the output tokens spent thinking */
  if (out && json_object_has_member (out, "reasoning_tokens"))
    gst_structure_set (ev, "reasoningTokens", G_TYPE_INT,
        usage_count (out, "reasoning_tokens"), NULL);
  return emit (self, ev);
}

static void
on_response_done (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  JsonObject *resp = gst_bidi_json_get_object (ev, "response");
  JsonObject *usage = gst_bidi_json_get_object (resp, "usage");
  JsonObject *details = gst_bidi_json_get_object (resp, "status_details");
  JsonNode *output = resp ? json_object_get_member (resp, "output") : NULL;
  const gchar *id = gst_bidi_json_get_string (resp, "id");
  const gchar *status = gst_bidi_json_get_string (resp, "status");
  const gchar *stop_reason;
  gboolean has_calls = FALSE, completed, alive = TRUE;
  gchar *resp_id;
  guint i;

  if (!resp) {
    report_bad_message (self, SERVER_NAME " ended a response without "
        "describing it; ignored");
    return;
  }
  if (!self->resp || (id && self->resp->id && strcmp (id, self->resp->id))) {
    response_free (self->resp);
    self->resp = response_new (id);
  }
  self->resp->done = TRUE;
  resp_id = g_strdup (id);
  completed = g_strcmp0 (status, "completed") == 0;

  /* its tool calls may be answered now */
  has_calls = gst_bidi_realtime_provider_calls_close (BASE (self), id,
      completed);
  if (output && JSON_NODE_HOLDS_ARRAY (output)) {
    JsonArray *a = json_node_get_array (output);
    for (i = 0; i < json_array_get_length (a); i++) {
      JsonNode *n = json_array_get_element (a, i);
      if (JSON_NODE_HOLDS_OBJECT (n) &&
          g_strcmp0 (gst_bidi_json_get_string (json_node_get_object (n),
                  "type"), "function_call") == 0)
        has_calls = TRUE;
    }
  }

  if (completed)
    stop_reason = has_calls ? "tool_use" : "complete";
  else if (g_strcmp0 (status, "cancelled") == 0 ||
      g_strcmp0 (status, "incomplete") == 0)
    stop_reason = "interrupted";
  else if (g_strcmp0 (status, "failed") == 0)
    stop_reason = "error";
  else
    stop_reason = "complete";
  GST_DEBUG_OBJECT (self, "response %s done: %s (%s)", GST_STR_NULL (id),
      GST_STR_NULL (status), stop_reason);

  if (g_strcmp0 (status, "failed") == 0) {
    JsonObject *err = gst_bidi_json_get_object (details, "error");
    const gchar *code = gst_bidi_json_get_string (err, "code");
    gchar *why = clean (self, gst_bidi_json_get_string (err, "message") ?
        gst_bidi_json_get_string (err, "message") : code);
    gchar *msg = g_strdup_printf (SERVER_NAME " could not answer%s%s",
        *why ? ": " : "", why);

    g_free (why);
    alive = emit (self, gst_bidi_event_new_error (msg, code ? code :
            "response_failed", NULL));
    g_free (msg);
  }
  /* each emit may stop us */
  if (alive && usage)
    alive = emit_usage (self, usage);
  if (alive)
    alive = emit (self, gst_bidi_event_new_response_complete (resp_id,
            stop_reason));
  g_free (resp_id);
  if (!alive)
    return;

  gst_bidi_realtime_provider_flush_calls (BASE (self));
  if (self->want_response)
    request_response (self);
  gst_bidi_realtime_provider_check_idle (BASE (self));
}

/* How long ago the server VAD's moment @field (ms of the session's input
 * audio) was, counted back from the audio sent so far; 0 if not told */
static guint64
vad_ago_ms (GstBidiOpenAIProvider * self, JsonObject * ev, const gchar * field)
{
  guint64 sent_ms = self->audio_sent / BYTES_PER_MS;
  gint64 at = gst_bidi_json_get_int (ev, field, -1);
  gint64 now = g_get_monotonic_time (), then;

  if (at < 0 || (guint64) at >= sent_ms)
    return 0;
  then = gst_bidi_arrivals_time (&self->sent_arrivals, (guint64) at *
      BYTES_PER_MS, now);
  return MAX (now - then, 0) / 1000;
}

static void
on_speech_started (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  gchar *resp_id = self->resp ? g_strdup (self->resp->id) : NULL;
  gboolean alive;

  self->user_speaking = TRUE;
  GST_DEBUG_OBJECT (self, "user speech started");
  if (!emit (self, gst_bidi_event_new_user_state ("speaking",
              vad_ago_ms (self, ev, "audio_start_ms")))) {
    g_free (resp_id);
    return;
  }
  /* the element flushes and calls interrupt () from inside */
  self->server_interrupting = TRUE;
  alive = emit (self, gst_bidi_event_new_interruption ("user_speech", resp_id));
  if (alive)
    self->server_interrupting = FALSE;
  g_free (resp_id);
}

static void
on_server_error (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  JsonObject *err = gst_bidi_json_get_object (ev, "error");
  const gchar *code = gst_bidi_json_get_string (err, "code");
  const gchar *type = gst_bidi_json_get_string (err, "type");
  const gchar *event_id = gst_bidi_json_get_string (err, "event_id");
  const gchar *raw = gst_bidi_json_get_string (err, "message");
  gchar *message = clean (self, raw ? raw : (code ? code : "unknown error"));
  gchar *full = NULL;

  GST_INFO_OBJECT (self, "server error %s (%s): %s", GST_STR_NULL (code),
      GST_STR_NULL (type), message);

  /* our response.create or commit failed: no answer is coming */
  if (event_id && (g_strcmp0 (event_id, self->create_event_id) == 0 ||
          g_strcmp0 (event_id, self->commit_event_id) == 0)) {
    self->awaiting_until = 0;
    if (g_strcmp0 (code, "conversation_already_has_active_response") == 0 &&
        g_strcmp0 (event_id, self->create_event_id) == 0)
      self->want_response = TRUE;
  }

  if (g_strcmp0 (code, "response_cancel_not_active") == 0 ||
      g_strcmp0 (code, "conversation_already_has_active_response") == 0) {
    /* races between the server's VAD and us: harmless */
    GST_DEBUG_OBJECT (self, "ignoring %s", code);
    gst_bidi_realtime_provider_check_idle (BASE (self));
  } else if (event_id && g_strcmp0 (event_id, self->update_event_id) == 0) {
    full = g_strdup_printf (SERVER_NAME " refused the session settings: %s",
        message);
    gst_bidi_realtime_provider_fail (BASE (self), full, code ? code :
        "invalid_session", type);
  } else if (g_strcmp0 (type, "authentication_error") == 0 ||
      g_strcmp0 (code, "invalid_api_key") == 0) {
    full = g_strdup_printf (SERVER_NAME " refused the credentials: %s",
        message);
    gst_bidi_realtime_provider_fail (BASE (self), full, "not_authorized",
        type);
  } else if (g_strcmp0 (code, "session_expired") == 0) {
    gst_bidi_realtime_provider_connection_lost (BASE (self), "timeout",
        SERVER_NAME " ended the session (its time limit)", TRUE);
  } else {
    full = g_strdup_printf (SERVER_NAME " reported an error: %s", message);
    GST_WARNING_OBJECT (self, "%s", full);
    if (emit (self, gst_bidi_event_new_error (full, code ? code : "error",
                type)))
      gst_bidi_realtime_provider_check_idle (BASE (self));
  }
  g_free (full);
  g_free (message);
}

/* The server cut the transcript of an item we truncated: ask for it, so
 * that a replay keeps exactly what is left (the proportional cut is an
 * estimate). */
static void
on_item_truncated (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  const gchar *item_id = gst_bidi_json_get_string (ev, "item_id");
  JsonObject *obj;
  guint i;

  if (!out_item_find (self->resp, item_id, &i))
    return;
  obj = client_event ("conversation.item.retrieve");
  json_object_set_string_member (obj, "item_id", item_id);
  send_object (self, obj);
}

static void
on_item_retrieved (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  JsonObject *item = gst_bidi_json_get_object (ev, "item");
  const gchar *item_id = gst_bidi_json_get_string (item, "id");
  JsonNode *content = item ? json_object_get_member (item, "content") : NULL;
  GString *text;
  JsonArray *parts;
  guint i, n;

  if (!out_item_find (self->resp, item_id, &n) || !content ||
      !JSON_NODE_HOLDS_ARRAY (content))
    return;
  /* the answer's items before this one were heard whole, those after it
   * not at all */
  text = g_string_new (NULL);
  for (i = 0; i < n; i++) {
    OutItem *before = g_ptr_array_index (self->resp->items, i);
    if (before->transcript->len > 0)
      g_string_append_printf (text, "%s ", before->transcript->str);
  }
  parts = json_node_get_array (content);
  for (i = 0; i < json_array_get_length (parts); i++) {
    JsonNode *n = json_array_get_element (parts, i);
    JsonObject *part = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) :
        NULL;
    const gchar *t = gst_bidi_json_get_string (part, "transcript");

    if (!t)
      t = gst_bidi_json_get_string (part, "text");
    if (t)
      g_string_append (text, t);
  }
  GST_DEBUG_OBJECT (self, "the server kept of %s: \"%s\"", item_id, text->str);
  gst_bidi_realtime_provider_set_heard_answer (BASE (self), text->str);
  g_string_free (text, TRUE);
}

static void
gst_bidi_openai_provider_handle_message (GstBidiRealtimeProvider * base,
    JsonObject * ev, const gchar * json, gsize len)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);
  const gchar *type = gst_bidi_json_get_string (ev, "type");

  if (!type) {
    report_bad_message (self, SERVER_NAME " sent a message without a type; "
        "ignored");
    return;
  }
  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_TRACE &&
      strcmp (type, "response.output_audio.delta") != 0) {
    gchar *text = gst_bidi_realtime_provider_clean (base, json, len);
    GST_TRACE_OBJECT (self, "received %s", text);
    g_free (text);
  } else {
    GST_LOG_OBJECT (self, "received %s (%" G_GSIZE_FORMAT " bytes)", type, len);
  }

  if (strcmp (type, "response.output_audio.delta") == 0) {
    on_audio_delta (self, ev);
  } else if (strcmp (type, "response.output_audio_transcript.delta") == 0 ||
      strcmp (type, "response.output_text.delta") == 0) {
    on_assistant_delta (self, ev);
  } else if (strcmp (type, "response.output_audio_transcript.done") == 0) {
    on_assistant_done (self, ev, "transcript");
  } else if (strcmp (type, "response.output_text.done") == 0) {
    on_assistant_done (self, ev, "text");
  } else if (strcmp (type, "conversation.item.input_audio_transcription.delta")
      == 0) {
    on_user_delta (self, ev);
  } else if (strcmp (type,
          "conversation.item.input_audio_transcription.completed") == 0) {
    on_user_done (self, ev);
  } else if (strcmp (type,
          "conversation.item.input_audio_transcription.segment") == 0) {
    const gchar *text = gst_bidi_json_get_string (ev, "text");
    if (text && !gst_bidi_realtime_is_blank (text)) {
      gchar *valid = gst_bidi_realtime_make_valid (text, MAX_TEXT_SIZE);
      emit (self, gst_bidi_event_new_transcript ("user", valid, TRUE, valid));
      g_free (valid);
    }
  } else if (strcmp (type,
          "conversation.item.input_audio_transcription.failed") == 0) {
    gchar *why = clean (self, gst_bidi_json_error_message (ev));
    GST_WARNING_OBJECT (self, "transcription of %s failed: %s",
        GST_STR_NULL (gst_bidi_json_get_string (ev, "item_id")), why);
    g_free (why);
  } else if (strcmp (type, "response.created") == 0) {
    on_response_created (self, ev);
  } else if (strcmp (type, "response.done") == 0) {
    on_response_done (self, ev);
  } else if (strcmp (type, "response.output_item.added") == 0) {
    on_output_item_added (self, ev);
  } else if (strcmp (type, "response.output_item.done") == 0) {
    on_output_item_done (self, ev);
  } else if (strcmp (type, "response.function_call_arguments.delta") == 0) {
    on_function_call_args (self, ev, FALSE);
  } else if (strcmp (type, "response.function_call_arguments.done") == 0) {
    on_function_call_args (self, ev, TRUE);
  } else if (strcmp (type, "input_audio_buffer.speech_started") == 0) {
    on_speech_started (self, ev);
  } else if (strcmp (type, "input_audio_buffer.speech_stopped") == 0) {
    self->user_speaking = FALSE;
    if (!emit (self, gst_bidi_event_new_user_state ("listening",
                vad_ago_ms (self, ev, "audio_end_ms"))))
      return;
    /* the server commits and answers by itself */
    if (self->run->turn != TURN_NONE && self->run->create_response)
      expect_response (self);
    gst_bidi_realtime_provider_check_idle (base);
  } else if (strcmp (type, "input_audio_buffer.committed") == 0) {
    self->audio_since_commit = 0;
    /* the turn is over (the server VAD's decision, or the end of a
     * push-to-talk turn): the answer is on its way */
    if (!emit (self, gst_bidi_event_new_agent_state ("thinking", 0)))
      return;
  } else if (strcmp (type, "session.updated") == 0) {
    on_session_updated (self);
  } else if (strcmp (type, "session.created") == 0) {
    JsonObject *session = gst_bidi_json_get_object (ev, "session");
    GST_INFO_OBJECT (self, "session %s created",
        GST_STR_NULL (gst_bidi_json_get_string (session, "id")));
  } else if (strcmp (type, "error") == 0) {
    on_server_error (self, ev);
  } else if (strcmp (type, "rate_limits.updated") == 0) {
    JsonNode *limits = json_object_get_member (ev, "rate_limits");
    if (limits && JSON_NODE_HOLDS_ARRAY (limits)) {
      JsonArray *a = json_node_get_array (limits);
      guint i;
      for (i = 0; i < json_array_get_length (a); i++) {
        JsonNode *n = json_array_get_element (a, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ?
            json_node_get_object (n) : NULL;
        GST_DEBUG_OBJECT (self, "rate limit %s: %" G_GINT64_FORMAT " of %"
            G_GINT64_FORMAT " left", GST_STR_NULL (gst_bidi_json_get_string
                (o, "name")), gst_bidi_json_get_int (o, "remaining", -1),
            gst_bidi_json_get_int (o, "limit", -1));
      }
    }
  } else if (strcmp (type, "conversation.item.truncated") == 0) {
    on_item_truncated (self, ev);
  } else if (strcmp (type, "conversation.item.retrieved") == 0) {
    on_item_retrieved (self, ev);
  } else if (strcmp (type, "conversation.item.added") == 0 ||
      strcmp (type, "conversation.item.created") == 0 ||
      strcmp (type, "conversation.item.done") == 0 ||
      strcmp (type, "conversation.item.deleted") == 0 ||
      strcmp (type, "input_audio_buffer.cleared") == 0 ||
      strcmp (type, "input_audio_buffer.timeout_triggered") == 0 ||
      strcmp (type, "response.content_part.added") == 0 ||
      strcmp (type, "response.content_part.done") == 0 ||
      strcmp (type, "response.output_audio.done") == 0 ||
      g_str_has_prefix (type, "output_audio_buffer.") ||
      g_str_has_prefix (type, "mcp_list_tools.") ||
      g_str_has_prefix (type, "response.mcp_call")) {
    GST_DEBUG_OBJECT (self, "%s", type);
  } else if (g_hash_table_contains (self->unknown_types, type) ||
      g_hash_table_size (self->unknown_types) >= MAX_UNKNOWN_TYPES) {
    GST_DEBUG_OBJECT (self, "ignoring unknown server event %s", type);
  } else {
    /* once per type: the server may add events faster than we learn them */
    g_hash_table_add (self->unknown_types, g_strdup (type));
    GST_WARNING_OBJECT (self, "ignoring unknown server event %s (newer "
        "protocol?)", type);
  }
}

/* ------------------------------------------------------------------------
 * GstBidiRealtimeProvider vfuncs
 * ------------------------------------------------------------------------ */

static gchar *
gst_bidi_openai_provider_parse_settings (GstBidiRealtimeProvider * base,
    const GstBidiProviderConfig * config, gboolean keep, GError ** error)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);
  Settings *s;
  gchar *url;

  if (!(s = settings_parse (config, &url, error)))
    return NULL;
  if (!keep) {
    settings_free (s);
    return url;
  }
  settings_free (self->run);
  self->run = s;
  GST_INFO_OBJECT (self, "model %s, voice %s, turn detection %s, %u tools",
      s->model, s->voice, s->turn == TURN_SERVER_VAD ? "server_vad" :
      s->turn == TURN_SEMANTIC_VAD ? "semantic_vad" : "none",
      s->tools ? json_array_get_length (s->tools) : 0);
  return url;
}

static void
gst_bidi_openai_provider_get_headers (GstBidiRealtimeProvider * base,
    const gchar * api_key, GPtrArray * headers)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);

  g_ptr_array_add (headers, g_strdup ("Authorization"));
  g_ptr_array_add (headers, g_strconcat ("Bearer ", api_key, NULL));
  if (self->run->organization) {
    g_ptr_array_add (headers, g_strdup ("OpenAI-Organization"));
    g_ptr_array_add (headers, g_strdup (self->run->organization));
  }
  if (self->run->project) {
    g_ptr_array_add (headers, g_strdup ("OpenAI-Project"));
    g_ptr_array_add (headers, g_strdup (self->run->project));
  }
}

static void
gst_bidi_openai_provider_open (GstBidiRealtimeProvider * base)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);
  JsonObject *obj = client_event ("session.update");

  /* the server accepts session.update before session.created; the
   * conversation is replayed right after */
  g_free (self->update_event_id);
  self->update_event_id = next_event_id (self, "session");
  json_object_set_string_member (obj, "event_id", self->update_event_id);
  json_object_set_object_member (obj, "session", build_session (self));
  send_object (self, obj);
}

static void
gst_bidi_openai_provider_send_history (GstBidiRealtimeProvider * base,
    GPtrArray * messages)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);
  guint i, n = 0;

  for (i = 0; i < messages->len; i++)
    n += send_message_items (self, g_ptr_array_index (messages, i));
  if (n)
    GST_INFO_OBJECT (self, "replayed %u conversation items", n);
}

static void
gst_bidi_openai_provider_send_audio (GstBidiRealtimeProvider * base,
    GBytes * pcm, gint64 arrived_us)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);
  gsize size;
  const guint8 *data = g_bytes_get_data (pcm, &size);
  gchar *b64, *text;

  if (size == 0)
    return;
  b64 = g_base64_encode (data, size);
  /* base64 needs no JSON escaping */
  text = g_strconcat ("{\"type\":\"input_audio_buffer.append\",\"audio\":\"",
      b64, "\"}", NULL);
  if (gst_bidi_realtime_provider_send_json_text (base, text)) {
    self->audio_since_commit += size;
    self->audio_sent += size;
    gst_bidi_arrivals_add (&self->sent_arrivals, size, 0, arrived_us);
  }
  g_free (text);
  g_free (b64);
}

static void
gst_bidi_openai_provider_send_text (GstBidiRealtimeProvider * base,
    const gchar * text, const gchar * role)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);
  gchar *valid = gst_bidi_realtime_make_valid (text, MAX_TEXT_SIZE);

  if (g_strcmp0 (role, "system") != 0 && g_strcmp0 (role, "assistant") != 0)
    role = "user";
  GST_DEBUG_OBJECT (self, "%s text: %s", role, valid);
  send_item (self, message_item (role, valid));
  g_free (valid);
  /* a typed question gets an answer; other roles only add context */
  if (strcmp (role, "user") == 0)
    request_response (self);
}

static void
gst_bidi_openai_provider_send_image (GstBidiRealtimeProvider * base,
    GBytes * data, const gchar * mime)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);
  JsonObject *item = json_object_new (), *part = json_object_new ();
  JsonArray *content = json_array_new ();
  gsize size;
  const guint8 *bytes = g_bytes_get_data (data, &size);
  gchar *b64 = g_base64_encode (bytes, size);
  gchar *uri = g_strconcat ("data:", mime, ";base64,", b64, NULL);

  g_free (b64);
  json_object_set_string_member (item, "type", "message");
  json_object_set_string_member (item, "role", "user");
  json_object_set_string_member (part, "type", "input_image");
  json_object_set_string_member (part, "image_url", uri);
  json_object_set_string_member (part, "detail", self->run->image_detail);
  json_array_add_object_element (content, part);
  json_object_set_array_member (item, "content", content);
  g_free (uri);
  GST_DEBUG_OBJECT (self, "image %s, %" G_GSIZE_FORMAT " bytes", mime, size);
  /* no response.create: an image is context for what is said next */
  send_item (self, item);
}

static void
gst_bidi_openai_provider_send_tool_result (GstBidiRealtimeProvider * base,
    const gchar * call_id, const gchar * output)
{
  send_call_output (GST_BIDI_OPENAI_PROVIDER (base), call_id, output);
}

static void
gst_bidi_openai_provider_tool_results_done (GstBidiRealtimeProvider * base)
{
  request_response (GST_BIDI_OPENAI_PROVIDER (base));
}

/* Cuts the answer being played to @played_ms: the server's memory of it
 * (conversation.item.truncate). @played_ms counts from the start of the
 * response; an answer may hold several spoken items (a commentary, then
 * the final answer), played one after the other: the item that was
 * playing is cut to what was heard of it, those before were heard whole,
 * and those after not at all. */
static void
truncate_response (GstBidiOpenAIProvider * self, Response * r,
    guint64 played_ms)
{
  guint64 remaining = played_ms;
  guint i;

  for (i = 0; i < r->items->len; i++) {
    OutItem *item = g_ptr_array_index (r->items, i);
    guint64 item_ms = out_item_ms (item);

    if (item->audio_bytes == 0)
      continue;
    if (remaining >= item_ms) {
      /* heard whole */
      remaining -= item_ms;
      continue;
    }
    /* the first cut counts; the items after it were not heard */
    if (item->heard_ms != G_MAXUINT64) {
      remaining = 0;
      continue;
    }
    item->heard_ms = remaining;
    if (!gst_bidi_realtime_provider_is_ready (BASE (self))) {
      /* the session is gone: the next one gets the heard history */
    } else if (remaining > 0) {
      JsonObject *obj = client_event ("conversation.item.truncate");

      json_object_set_string_member (obj, "item_id", item->item_id);
      json_object_set_int_member (obj, "content_index", item->content_index);
      json_object_set_int_member (obj, "audio_end_ms", remaining);
      GST_INFO_OBJECT (self, "truncating %s to %" G_GUINT64_FORMAT " of %"
          G_GUINT64_FORMAT " ms", item->item_id, remaining, item_ms);
      send_object (self, obj);
    } else {
      /* never heard (a final answer behind the commentary being played):
       * the model must not believe it said it */
      JsonObject *obj = client_event ("conversation.item.delete");

      json_object_set_string_member (obj, "item_id", item->item_id);
      GST_INFO_OBJECT (self, "deleting %s: none of its %" G_GUINT64_FORMAT
          " ms was heard", item->item_id, item_ms);
      send_object (self, obj);
    }
    remaining = 0;
  }
}

static void
gst_bidi_openai_provider_interrupt (GstBidiRealtimeProvider * base,
    guint64 played_ms)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);
  Response *r = self->resp;
  gboolean server_cancels;

  if (!r)
    return;
  GST_DEBUG_OBJECT (self, "interrupt after %" G_GUINT64_FORMAT " ms of %s",
      played_ms, GST_STR_NULL (r->id));

  /* the server's VAD cancels its own answer when the user speaks; else
   * the answer is cancelled here, unless it already ended */
  server_cancels = self->server_interrupting &&
      self->run->turn != TURN_NONE && self->run->interrupt_response;
  if (!r->done && !r->cancel_sent && !server_cancels &&
      gst_bidi_realtime_provider_is_ready (base)) {
    JsonObject *obj = client_event ("response.cancel");

    if (r->id)
      json_object_set_string_member (obj, "response_id", r->id);
    r->cancel_sent = TRUE;
    GST_INFO_OBJECT (self, "cancelling response %s", GST_STR_NULL (r->id));
    send_object (self, obj);
  }
  truncate_response (self, r, played_ms);
}

/* The input ended: make the server answer what is still unanswered. */
static void
gst_bidi_openai_provider_end_input (GstBidiRealtimeProvider * base)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);
  Settings *s = self->run;
  gboolean auto_answer = s->turn != TURN_NONE && s->create_response;

  if (!auto_answer) {
    /* push-to-talk: this is the end of the turn */
    if (self->audio_since_commit > 0) {
      GST_INFO_OBJECT (self, "input ended: committing %" G_GUINT64_FORMAT
          " ms of audio", self->audio_since_commit / BYTES_PER_MS);
      commit_input (self);
      request_response (self);
    }
  } else if (s->turn == TURN_SERVER_VAD) {
    /* silence ends a turn in progress; then give the server's VAD time to
     * report speech still in flight */
    guint ms = s->silence_duration_ms + END_SILENCE_EXTRA_MS;
    GBytes *silence = g_bytes_new_take (g_malloc0 (ms * BYTES_PER_MS),
        ms * BYTES_PER_MS);

    GST_INFO_OBJECT (self, "input ended: %u ms of silence for the VAD", ms);
    gst_bidi_openai_provider_send_audio (base, silence,
        g_get_monotonic_time ());
    g_bytes_unref (silence);
    self->settling = TRUE;
    gst_bidi_realtime_provider_start_timer (base, &self->settle_timer,
        s->silence_duration_ms + s->prefix_padding_ms + 1000, settle_done_cb,
        "bidiopenai-settle");
  } else if (self->user_speaking) {
    /* semantic VAD may wait seconds for more: the turn is over */
    GST_INFO_OBJECT (self, "input ended while the user spoke: committing");
    commit_input (self);
    request_response (self);
  } else {
    self->settling = TRUE;
    gst_bidi_realtime_provider_start_timer (base, &self->settle_timer, 1500,
        settle_done_cb, "bidiopenai-settle");
  }
}

static guint
gst_bidi_openai_provider_busy (GstBidiRealtimeProvider * base)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);

  if (self->settling || self->user_speaking || response_active (self) ||
      self->want_response)
    return G_MAXUINT;
  if (awaiting_response (self)) {
    gint64 left = self->awaiting_until - g_get_monotonic_time ();
    return MAX (left / 1000, 1) + 1;
  }
  return 0;
}

/* An answer was asked for (response.create, a commit the server answers
 * by itself) and has not started, or it is under way: the server owes
 * its events. The user speaking is not: a long turn is silent. */
static gboolean
gst_bidi_openai_provider_awaiting_reply (GstBidiRealtimeProvider * base)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);

  return response_active (self) || self->awaiting_until != 0;
}

static void
gst_bidi_openai_provider_resume (GstBidiRealtimeProvider * base)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);

  if (self->want_response)
    request_response (self);
}

/* What belonged to the connection that went */
static void
forget_connection (GstBidiOpenAIProvider * self)
{
  if (self->user_transcripts)
    g_hash_table_remove_all (self->user_transcripts);
  self->user_speaking = FALSE;
  self->awaiting_until = 0;
  self->audio_since_commit = 0;
  self->audio_sent = 0;
  gst_bidi_arrivals_reset (&self->sent_arrivals, BYTES_PER_MS * 1000);
  g_clear_pointer (&self->create_event_id, g_free);
  g_clear_pointer (&self->commit_event_id, g_free);
  g_clear_pointer (&self->update_event_id, g_free);
}

static gboolean
gst_bidi_openai_provider_connection_lost (GstBidiRealtimeProvider * base)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);

  if (response_active (self)) {
    gchar *resp_id = g_strdup (self->resp->id);

    self->resp->done = TRUE;
    if (!emit (self, gst_bidi_event_new_response_complete (resp_id, "error"))) {
      g_free (resp_id);
      return FALSE;
    }
    g_free (resp_id);
  }
  /* an answer asked for and not started yet is asked for again */
  if (self->create_event_id && awaiting_response (self))
    self->want_response = TRUE;
  forget_connection (self);
  return TRUE;
}

static GstBidiRealtimeClose
gst_bidi_openai_provider_classify_close (G_GNUC_UNUSED GstBidiRealtimeProvider
    * base, const GstBidiTransportCloseInfo * info, const gchar ** reason)
{
  /* 1001 "going away": the session hit its time limit */
  if (info->close_code == 1001) {
    *reason = "timeout";
    return GST_BIDI_REALTIME_CLOSE_RETRY_NOW;
  }
  return GST_BIDI_REALTIME_CLOSE_RETRY;
}

static void
gst_bidi_openai_provider_reset (GstBidiRealtimeProvider * base)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (base);

  gst_bidi_realtime_provider_clear_timer (&self->settle_timer);
  g_clear_pointer (&self->resp, response_free);
  forget_connection (self);
  g_clear_pointer (&self->run, settings_free);
  self->settling = self->want_response = self->server_interrupting = FALSE;
}

/* ------------------------------------------------------------------------
 * GstBidiProvider vfuncs
 * ------------------------------------------------------------------------ */

static void
gst_bidi_openai_provider_get_audio_formats (G_GNUC_UNUSED GstBidiProvider *
    provider, GstAudioInfo * in_info, GstAudioInfo * out_info)
{
  gst_audio_info_set_format (in_info, GST_AUDIO_FORMAT_S16LE, RATE, 1, NULL);
  gst_audio_info_set_format (out_info, GST_AUDIO_FORMAT_S16LE, RATE, 1, NULL);
}

static void
gst_bidi_openai_provider_finalize (GObject * object)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (object);

  /* the element stops us first; this is the safety net (the base's
   * finalize stops again, and reset then finds no tables) */
  gst_bidi_provider_stop (GST_BIDI_PROVIDER (self));
  g_clear_pointer (&self->user_transcripts, g_hash_table_unref);
  g_clear_pointer (&self->unknown_types, g_hash_table_unref);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static const gchar *const image_types[] = { "image/png", "image/jpeg", NULL };

static void
gst_bidi_openai_provider_class_init (GstBidiOpenAIProviderClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBidiProviderClass *provider_class = GST_BIDI_PROVIDER_CLASS (klass);
  GstBidiRealtimeProviderClass *rt_class =
      GST_BIDI_REALTIME_PROVIDER_CLASS (klass);

  gobject_class->finalize = gst_bidi_openai_provider_finalize;
  provider_class->get_audio_formats =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_get_audio_formats);

  rt_class->name = PROVIDER_NAME;
  rt_class->server_name = SERVER_NAME;
  rt_class->key_name = "OpenAI";
  rt_class->key_env = "OPENAI_API_KEY";
  rt_class->in_bytes_per_ms = BYTES_PER_MS;
  rt_class->out_bytes_per_ms = BYTES_PER_MS;
  rt_class->image_types = image_types;
  rt_class->image_types_text = "PNG and JPEG";
  rt_class->max_image_size = MAX_IMAGE_SIZE;
  rt_class->parse_settings =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_parse_settings);
  rt_class->reset = GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_reset);
  rt_class->get_headers =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_get_headers);
  rt_class->open = GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_open);
  rt_class->send_history =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_send_history);
  rt_class->handle_message =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_handle_message);
  rt_class->send_audio =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_send_audio);
  rt_class->send_text = GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_send_text);
  rt_class->send_image =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_send_image);
  rt_class->send_tool_result =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_send_tool_result);
  rt_class->tool_results_done =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_tool_results_done);
  rt_class->interrupt = GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_interrupt);
  rt_class->end_input = GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_end_input);
  rt_class->busy = GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_busy);
  rt_class->resume = GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_resume);
  rt_class->connection_lost =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_connection_lost);
  rt_class->awaiting_reply =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_awaiting_reply);
  rt_class->classify_close =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_classify_close);
}

static void
gst_bidi_openai_provider_init (GstBidiOpenAIProvider * self)
{
  self->user_transcripts = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, (GDestroyNotify) string_free);
  self->unknown_types = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  gst_bidi_arrivals_reset (&self->sent_arrivals, BYTES_PER_MS * 1000);
}
