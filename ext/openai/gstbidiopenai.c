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
 * `gpt-realtime` unless the element's `model` is set). The element's
 * `url` replaces the endpoint (a `model` query parameter is added when it
 * has none); plain `ws://` is accepted for loopback hosts only. The key is
 * the element's `api-key`, else the `OPENAI_API_KEY` environment variable;
 * it only ever goes into the Authorization header. TLS is verified, with
 * the element's `ssl-ca-file` as extra trust (`ssl-strict=false` is
 * honoured for loopback hosts only).
 *
 * The element's `system-prompt` becomes the session's instructions, its
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
 * * `reconnect-attempts` (int, 5): reconnections tried in a row after the
 *   connection dropped (or the 60-minute session limit) before giving up;
 *   0 never reconnects
 * * `reconnect-delay-ms` (int, 500): first delay; doubled at each attempt
 *   up to 30 s, with jitter
 * * `max-session-s` (int, 3300): renew the session at the first quiet
 *   moment after this many seconds, before the server's 60-minute limit
 *   cuts it (0: never)
 * * `connect-timeout-ms` (int, 20000): connecting and configuring the
 *   session must take at most this long
 * * `keepalive-s` (int, 20): seconds between WebSocket pings (0: none)
 * * `max-message-size` (int, 16777216): largest server message, in bytes
 *
 * Reconnecting: when an established session drops (network, server close,
 * the session limit) the provider connects again with exponential backoff,
 * configures the new session the same way and replays the conversation so
 * far as items (initial history, final user and assistant transcripts,
 * tool calls and results, typed text), then emits
 * `bidi_connection_restart`. Audio and inputs that come meanwhile wait
 * (audio: the last 10 s). Failing to connect at start, a refused key or a
 * rejected session configuration is fatal at once.
 *
 * Interruption: `interrupt (played_ms)` truncates the assistant audio item
 * being played to what was heard (`conversation.item.truncate`), cancels
 * the answer when it is still running (unless the server's VAD already
 * did), and keeps only the heard share of its transcript in the history.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <json-glib/json-glib.h>

#include <gst/bidi/gstbidievents.h>

#include "gstbidiopenai.h"
#include <gst/bidi/gstbidihistory.h>
#include <gst/bidi/gstbiditools.h>
#include "gstbidirealtime.h"
#include "gstbidiws.h"

GST_DEBUG_CATEGORY_STATIC (bidi_openai_debug);
#define GST_CAT_DEFAULT bidi_openai_debug

#define PROVIDER_NAME "openai"
#define SERVER_NAME "OpenAI Realtime"
#define DEFAULT_URL "wss://api.openai.com/v1/realtime"
#define DEFAULT_MODEL "gpt-realtime"
#define DEFAULT_VOICE "alloy"
#define DEFAULT_TRANSCRIPTION_MODEL "gpt-4o-transcribe"
#define DEFAULT_VAD_THRESHOLD 0.5
#define DEFAULT_PREFIX_PADDING_MS 300
#define DEFAULT_SILENCE_DURATION_MS 500
#define DEFAULT_EAGERNESS "auto"
#define DEFAULT_IMAGE_DETAIL "auto"
#define DEFAULT_RECONNECT_ATTEMPTS 5
#define DEFAULT_RECONNECT_DELAY_MS 500
#define DEFAULT_MAX_SESSION_S 3300
#define DEFAULT_CONNECT_TIMEOUT_MS 20000
#define DEFAULT_KEEPALIVE_S 20
#define DEFAULT_MAX_MESSAGE_SIZE (16 * 1024 * 1024)

#define RATE 24000
#define BYTES_PER_MS (RATE * 2 / 1000)

/* Bounds */
#define RECONNECT_MAX_DELAY_MS 30000
#define MAX_BUFFERED_AUDIO_MS 10000     /* audio kept while (re)connecting */
#define MAX_PENDING_INPUTS 64   /* texts, images, while (re)connecting */
#define MAX_IMAGE_SIZE (8 * 1024 * 1024)
#define MAX_PENDING_IMAGE_BYTES (16 * 1024 * 1024)
#define MAX_TEXT_SIZE (64 * 1024)       /* a transcript, a typed text */
#define MAX_ARGS_SIZE (1024 * 1024)     /* tool arguments, tool results */
#define MAX_CALLS 64
#define MAX_USER_TRANSCRIPTS 16
#define MAX_OUT_ITEMS 32        /* output items of one response */
#define MAX_HISTORY_ITEMS 256
#define MAX_HISTORY_BYTES (1024 * 1024)
#define MAX_BAD_MESSAGE_EVENTS 10       /* per connection; then logs only */
#define MAX_UNKNOWN_TYPES 64
#define MAX_CALL_ID 32          /* OpenAI refuses longer call ids */
#define MAX_JSON_DEPTH 64
#define EXCERPT_CHARS 300
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
  gchar *url;                   /* full endpoint, with ?model= */
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
  JsonArray *tools;             /* GA function tools, NULL when none */
  GPtrArray *history;           /* HistItem: the initial history */
  guint reconnect_attempts;
  guint reconnect_delay_ms;
  guint max_session_s;
  guint connect_timeout_ms;
  guint keepalive_s;
  guint max_message_size;
  gboolean ssl_strict;
} Settings;

/* The conversation as it would be replayed on a new connection */
typedef enum
{
  ITEM_MESSAGE,
  ITEM_FUNCTION_CALL,
  ITEM_FUNCTION_OUTPUT
} ItemKind;

typedef struct
{
  ItemKind kind;
  gchar *role;                  /* messages: user, assistant, system */
  gchar *text;                  /* messages; NULL while its text is due */
  gchar *server_id;             /* the server's item id, when known */
  gchar *call_id;
  gchar *name;
  gchar *data;                  /* arguments or output */
} HistItem;

/* An assistant message of a response */
typedef struct
{
  gchar *item_id;
  gint content_index;
  guint64 audio_bytes;          /* audio received for it */
  GString *transcript;          /* deltas, then the final text */
  gboolean transcript_done;
  guint64 heard_ms;             /* G_MAXUINT64: not interrupted */
} OutItem;

typedef struct
{
  gchar *id;
  gboolean done;
  gboolean cancel_sent;
  GPtrArray *items;             /* OutItem, in order */
} Response;

typedef struct
{
  gchar *call_id;
  gchar *name;
  gchar *item_id;
  gchar *resp_id;
  GString *args;
  gboolean emitted;             /* tool_use_stream emitted */
  gboolean invalid;             /* malformed: never emitted */
  gboolean closed;              /* its response ended */
  gboolean respond;             /* ask for an answer once all are sent */
  gchar *result;                /* NULL until the result comes */
  gboolean sent;                /* function_call_output sent */
} Call;

typedef enum
{
  INPUT_TEXT,
  INPUT_IMAGE,
  INPUT_END
} InputKind;

typedef struct
{
  InputKind kind;
  gchar *text;
  gchar *role;
  GBytes *data;
  gchar *mime;
} Input;

typedef enum
{
  STATE_IDLE,                   /* not started */
  STATE_CONNECTING,             /* WebSocket upgrade */
  STATE_CONFIGURING,            /* session.update sent, waiting for
                                 * session.updated */
  STATE_READY,
  STATE_WAITING,                /* before a reconnection attempt */
  STATE_CLOSED                  /* ended: complete or fatal */
} State;

struct _GstBidiOpenAIProvider
{
  GstBidiProvider parent;

  /* network thread only */
  gboolean started;
  guint epoch;                  /* bumped by stop: detects a re-entrant
                                 * stop from inside an emit */
  State state;
  Settings *run;
  gchar *api_key;               /* wiped when stopped */
  gchar *conn_id;
  GMainContext *ctx;
  GTlsDatabase *ca_database;
  GstBidiWs *ws;
  guint n_sessions;             /* sessions made ready since start */
  guint attempt;                /* failed reconnection attempts in a row */
  gchar *restart_reason;
  gchar *last_failure;
  GSource *setup_timer;
  GSource *retry_timer;
  GSource *age_timer;
  GSource *settle_timer;
  GSource *recheck_timer;
  gboolean renew;               /* max-session-s reached */
  guint event_seq;
  gchar *update_event_id;
  gchar *create_event_id;
  gchar *commit_event_id;
  guint n_bad_messages;
  /* unknown server event types already warned about */
  GHashTable *unknown_types;

  /* input */
  GQueue audio;                 /* GBytes waiting for the session */
  gsize audio_bytes;
  gboolean audio_dropping;
  GQueue inputs;                /* Input waiting for the session */
  gsize input_image_bytes;
  guint64 audio_since_commit;
  gboolean user_speaking;
  gboolean end_input;
  gboolean input_finished;
  gboolean settling;

  /* output */
  Response *resp;               /* the latest response */
  gboolean want_response;
  gint64 awaiting_until;        /* monotonic; 0: no answer is expected */
  gboolean server_interrupting;
  GHashTable *user_transcripts; /* item id -> GString */
  GPtrArray *calls;             /* Call */

  GPtrArray *history;           /* HistItem */
  gsize history_bytes;
};

#define gst_bidi_openai_provider_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstBidiOpenAIProvider, gst_bidi_openai_provider,
    GST_TYPE_BIDI_PROVIDER,
    GST_DEBUG_CATEGORY_INIT (bidi_openai_debug, "bidiopenai", 0,
        "bidiagent OpenAI Realtime provider"));

static void connect_session (GstBidiOpenAIProvider * self);
static void connection_lost (GstBidiOpenAIProvider * self,
    const gchar * reason, const gchar * message, gboolean immediate);
static void check_close (GstBidiOpenAIProvider * self);
static void flush_calls (GstBidiOpenAIProvider * self);
static void maybe_renew (GstBidiOpenAIProvider * self);
static void request_response (GstBidiOpenAIProvider * self);
static void gst_bidi_openai_provider_stop (GstBidiProvider * provider);
static gboolean age_cb (gpointer user_data);
static void fail (GstBidiOpenAIProvider * self, const gchar * message,
    const gchar * code, const gchar * details);

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

static void
hist_item_free (HistItem * item)
{
  g_free (item->role);
  g_free (item->text);
  g_free (item->server_id);
  g_free (item->call_id);
  g_free (item->name);
  g_free (item->data);
  g_free (item);
}

static gsize
hist_item_size (HistItem * item)
{
  return (item->text ? strlen (item->text) : 0) +
      (item->data ? strlen (item->data) : 0) +
      (item->name ? strlen (item->name) : 0) + 64;
}

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
call_free (Call * c)
{
  g_free (c->call_id);
  g_free (c->name);
  g_free (c->item_id);
  g_free (c->resp_id);
  g_string_free (c->args, TRUE);
  g_free (c->result);
  g_free (c);
}

static void
input_free (Input * in)
{
  g_free (in->text);
  g_free (in->role);
  if (in->data)
    g_bytes_unref (in->data);
  g_free (in->mime);
  g_free (in);
}

static void
string_free (GString * s)
{
  g_string_free (s, TRUE);
}

/* Text from outside (the application, the server) as valid UTF-8, at most
 * @max bytes (cut at a character boundary). */
static gchar *
make_valid (const gchar * text, gsize max)
{
  gchar *valid = g_utf8_make_valid (text ? text : "", -1);

  if (strlen (valid) > max) {
    const gchar *end = g_utf8_find_prev_char (valid, valid + max + 1);
    valid[end ? end - valid : 0] = '\0';
  }
  return valid;
}

static gboolean
is_blank (const gchar * s)
{
  for (; s && *s; s++)
    if (!g_ascii_isspace (*s))
      return FALSE;
  return TRUE;
}

/* A call id as OpenAI accepts it (at most 32 characters). Applied the same
 * way to calls and to their results, so they still match. */
static gchar *
wire_call_id (const gchar * id)
{
  gchar *valid = make_valid (id, 256);

  if (g_utf8_strlen (valid, -1) > MAX_CALL_ID)
    *g_utf8_offset_to_pointer (valid, MAX_CALL_ID) = '\0';
  return valid;
}

static gboolean
emit (GstBidiOpenAIProvider * self, GstStructure * event)
{
  guint epoch = self->epoch;

  gst_bidi_provider_emit (GST_BIDI_PROVIDER (self), event);
  /* the element may have stopped us from inside the emit */
  return self->started && self->epoch == epoch;
}

/* Text from the server, safe for a message: scrubbed, one line, short. */
static gchar *
clean (GstBidiOpenAIProvider * self, const gchar * text)
{
  return gst_bidi_realtime_clean_text (text, text ? strlen (text) : 0,
      self->api_key, EXCERPT_CHARS);
}

static gchar *
next_event_id (GstBidiOpenAIProvider * self, const gchar * what)
{
  return g_strdup_printf ("bidi_%s_%u", what, ++self->event_seq);
}

static void
clear_timer (GSource ** timer)
{
  if (*timer) {
    g_source_destroy (*timer);
    g_source_unref (*timer);
    *timer = NULL;
  }
}

static void
start_timer (GstBidiOpenAIProvider * self, GSource ** timer, guint ms,
    GSourceFunc func, const gchar * name)
{
  clear_timer (timer);
  *timer = g_timeout_source_new (ms);
  g_source_set_callback (*timer, func, self, NULL);
  g_source_set_name (*timer, name);
  g_source_attach (*timer, self->ctx);
}

/* Marks a one-shot timer as fired, from its callback. */
static void
timer_fired (GSource ** timer)
{
  g_source_unref (*timer);
  *timer = NULL;
}

static gboolean
send_object (GstBidiOpenAIProvider * self, JsonObject * obj)
{
  gboolean ret;

  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_LOG) {
    const gchar *type = gst_bidi_json_get_string (obj, "type");
    GST_LOG_OBJECT (self, "sending %s", GST_STR_NULL (type));
  }
  ret = gst_bidi_ws_send_object (self->ws, obj);
  if (!ret)
    GST_DEBUG_OBJECT (self, "not connected: message dropped");
  json_object_unref (obj);
  return ret;
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
  g_free (s->url);
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
  if (s->tools)
    json_array_unref (s->tools);
  if (s->history)
    g_ptr_array_unref (s->history);
  g_free (s);
}

/* *INDENT-OFF* */
static gboolean
config_error (GError ** error, const gchar * format, ...) G_GNUC_PRINTF (2, 3);
/* *INDENT-ON* */

static gboolean
config_error (GError ** error, const gchar * format, ...)
{
  va_list ap;
  gchar *msg;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "Invalid provider-config of provider \"" PROVIDER_NAME "\": %s", msg);
  g_free (msg);
  return FALSE;
}

static gboolean
get_int (const GstStructure * pc, const gchar * field, gint lo, gint hi,
    gint * value, GError ** error)
{
  gint v;

  if (!pc || !gst_structure_get_int (pc, field, &v))
    return TRUE;
  if (v < lo || v > hi)
    return config_error (error, "\"%s\" must be between %d and %d, not %d",
        field, lo, hi, v);
  *value = v;
  return TRUE;
}

static gboolean
get_uint (const GstStructure * pc, const gchar * field, gint lo, gint hi,
    guint * value, GError ** error)
{
  gint v = *value;

  if (!get_int (pc, field, lo, hi, &v, error))
    return FALSE;
  *value = v;
  return TRUE;
}

static gboolean
get_double (const GstStructure * pc, const gchar * field, gdouble lo,
    gdouble hi, gdouble * value, GError ** error)
{
  const GValue *v = pc ? gst_structure_get_value (pc, field) : NULL;
  gdouble d;

  if (!v)
    return TRUE;
  if (G_VALUE_HOLDS_DOUBLE (v))
    d = g_value_get_double (v);
  else if (G_VALUE_HOLDS_INT (v))
    d = g_value_get_int (v);
  else if (G_VALUE_HOLDS_UINT (v))
    d = g_value_get_uint (v);
  else if (G_VALUE_HOLDS_INT64 (v))
    d = g_value_get_int64 (v);
  else if (G_VALUE_HOLDS_UINT64 (v))
    d = g_value_get_uint64 (v);
  else
    return TRUE;
  if (!(d >= lo && d <= hi))
    return config_error (error, "\"%s\" must be between %g and %g, not %g",
        field, lo, hi, d);
  *value = d;
  return TRUE;
}

/* A string field that must be one of @choices (NULL-terminated). */
static gboolean
get_choice (const GstStructure * pc, const gchar * field,
    const gchar * const *choices, gchar ** value, GError ** error)
{
  const gchar *v = pc ? gst_structure_get_string (pc, field) : NULL;
  gchar *list;

  if (!v)
    return TRUE;
  if (g_strv_contains (choices, v)) {
    g_free (*value);
    *value = g_strdup (v);
    return TRUE;
  }
  list = g_strjoinv (", ", (gchar **) choices);
  config_error (error, "\"%s\" must be one of %s, not \"%s\"", field, list, v);
  g_free (list);
  return FALSE;
}

/* Header values: printable, one line. */
static gboolean
header_value_ok (const gchar * v)
{
  for (; *v; v++)
    if ((guchar) * v < 0x20 || *v == 0x7f)
      return FALSE;
  return TRUE;
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

static HistItem *
hist_message_new (const gchar * role, const gchar * text)
{
  HistItem *item = g_new0 (HistItem, 1);

  item->kind = ITEM_MESSAGE;
  item->role = g_strdup (role);
  item->text = text ? make_valid (text, MAX_TEXT_SIZE) : NULL;
  return item;
}

/* One history message into items: tool results (function call outputs)
 * first, as they answer the previous assistant message; then the text as
 * one message; then the tool uses (function calls), which follow the
 * assistant's words. */
static void
convert_message (const GstBidiMessage * m, GPtrArray * out)
{
  gchar *text = gst_bidi_message_text (m);
  guint pass, i;

  for (pass = 0; pass < 2; pass++) {
    for (i = 0; i < m->blocks->len; i++) {
      const GstBidiBlock *b = g_ptr_array_index (m->blocks, i);
      HistItem *item;

      if (b->type != (pass == 0 ? GST_BIDI_BLOCK_TOOL_RESULT :
              GST_BIDI_BLOCK_TOOL_USE))
        continue;
      item = g_new0 (HistItem, 1);
      item->call_id = wire_call_id (b->tool_use_id);
      if (pass == 0) {
        item->kind = ITEM_FUNCTION_OUTPUT;
        item->data = b->error ? g_strconcat ("error: ", b->content, NULL) :
            g_strdup (b->content);
      } else {
        item->kind = ITEM_FUNCTION_CALL;
        item->name = make_valid (b->name, 256);
        item->data = g_strdup (b->input);
      }
      g_ptr_array_add (out, item);
    }
    if (pass == 0 && text)
      g_ptr_array_add (out, hist_message_new (m->assistant ? "assistant" :
              "user", text));
  }
  g_free (text);
}

static gboolean
parse_history (const gchar * history_json, GPtrArray ** out, GError ** error)
{
  GPtrArray *messages = gst_bidi_history_parse (history_json, error);
  guint i;

  *out = NULL;
  if (!messages)
    return FALSE;
  if (messages->len > 0) {
    *out = g_ptr_array_new_with_free_func ((GDestroyNotify) hist_item_free);
    for (i = 0; i < messages->len; i++)
      convert_message (g_ptr_array_index (messages, i), *out);
  }
  g_ptr_array_unref (messages);
  return TRUE;
}

/* The endpoint: the element's url or the default, with ?model=. */
static gchar *
make_url (const gchar * base, const gchar * model, GError ** error)
{
  GUri *uri;
  gchar *url, *escaped;
  const gchar *query;

  if (!(uri = gst_bidi_realtime_parse_ws_url (base, "url", error)))
    return NULL;

  query = g_uri_get_query (uri);
  if (query && (g_str_has_prefix (query, "model=") ||
          strstr (query, "&model="))) {
    url = g_uri_to_string (uri);
  } else {
    GUri *with_model;
    gchar *q;

    escaped = g_uri_escape_string (model, NULL, FALSE);
    q = query && *query ? g_strdup_printf ("%s&model=%s", query, escaped) :
        g_strdup_printf ("model=%s", escaped);
    with_model = g_uri_build (G_URI_FLAGS_ENCODED, g_uri_get_scheme (uri),
        NULL, g_uri_get_host (uri), g_uri_get_port (uri),
        g_uri_get_path (uri), q, NULL);
    url = g_uri_to_string (with_model);
    g_uri_unref (with_model);
    g_free (q);
    g_free (escaped);
  }
  g_uri_unref (uri);
  return url;
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

/* The API key: the element's, else OPENAI_API_KEY. Not a copy. */
static const gchar *
find_api_key (const GstBidiProviderConfig * config)
{
  if (config->api_key && *config->api_key)
    return config->api_key;
  if (g_getenv ("OPENAI_API_KEY") && *g_getenv ("OPENAI_API_KEY"))
    return g_getenv ("OPENAI_API_KEY");
  return NULL;
}

static Settings *
settings_parse (const GstBidiProviderConfig * config, GError ** error)
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
  gchar *turn = NULL, *modality = NULL;
  const gchar *str, *key;
  gint max_size = DEFAULT_MAX_MESSAGE_SIZE;

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
          "reconnect-attempts", G_TYPE_INT,
          "reconnect-delay-ms", G_TYPE_INT,
          "max-session-s", G_TYPE_INT,
          "connect-timeout-ms", G_TYPE_INT,
          "keepalive-s", G_TYPE_INT, "max-message-size", G_TYPE_INT, NULL))
    goto fail;

  /* credentials: checked before anything connects */
  key = find_api_key (config);
  if (!key)
    goto no_key;
  if (!header_value_ok (key))
    goto bad_key;

  s->model = g_strdup (config->model && *config->model ? config->model :
      DEFAULT_MODEL);
  s->url = make_url (config->url && *config->url ? config->url : DEFAULT_URL,
      s->model, error);
  if (!s->url)
    goto fail;
  if (config->instructions && *config->instructions)
    s->instructions = make_valid (config->instructions, 256 * 1024);
  s->voice = g_strdup (config->voice && *config->voice ? config->voice :
      DEFAULT_VOICE);
  if (!voice_ok (s->voice))
    goto bad_voice;
  s->ssl_strict = config->ssl_strict;

  s->turn = TURN_SERVER_VAD;
  s->vad_threshold = DEFAULT_VAD_THRESHOLD;
  s->prefix_padding_ms = DEFAULT_PREFIX_PADDING_MS;
  s->silence_duration_ms = DEFAULT_SILENCE_DURATION_MS;
  s->eagerness = g_strdup (DEFAULT_EAGERNESS);
  s->create_response = TRUE;
  s->interrupt_response = TRUE;
  s->transcription_model = g_strdup (DEFAULT_TRANSCRIPTION_MODEL);
  s->image_detail = g_strdup (DEFAULT_IMAGE_DETAIL);
  s->reconnect_attempts = DEFAULT_RECONNECT_ATTEMPTS;
  s->reconnect_delay_ms = DEFAULT_RECONNECT_DELAY_MS;
  s->max_session_s = DEFAULT_MAX_SESSION_S;
  s->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
  s->keepalive_s = DEFAULT_KEEPALIVE_S;

  if (!get_choice (pc, "turn-detection", turn_modes, &turn, error) ||
      !get_double (pc, "vad-threshold", 0, 1, &s->vad_threshold, error) ||
      !get_int (pc, "prefix-padding-ms", 0, 10000, &s->prefix_padding_ms,
          error) ||
      !get_int (pc, "silence-duration-ms", 0, 10000, &s->silence_duration_ms,
          error) ||
      !get_int (pc, "idle-timeout-ms", 0, 3600000, &s->idle_timeout_ms,
          error) ||
      !get_choice (pc, "eagerness", eagerness, &s->eagerness, error) ||
      !get_choice (pc, "noise-reduction", noise, &s->noise_reduction, error) ||
      !get_choice (pc, "output-modalities", modalities, &modality, error) ||
      !get_int (pc, "max-output-tokens", 0, 4096, &s->max_output_tokens,
          error) ||
      !get_double (pc, "speed", 0.25, 1.5, &s->speed, error) ||
      !get_choice (pc, "tool-choice", tool_choices, &s->tool_choice, error) ||
      !get_choice (pc, "image-detail", details, &s->image_detail, error) ||
      !get_uint (pc, "reconnect-attempts", 0, 100, &s->reconnect_attempts,
          error) ||
      !get_uint (pc, "reconnect-delay-ms", 0, 60000, &s->reconnect_delay_ms,
          error) ||
      !get_uint (pc, "max-session-s", 0, 86400, &s->max_session_s, error) ||
      !get_uint (pc, "connect-timeout-ms", 100, 600000,
          &s->connect_timeout_ms, error) ||
      !get_uint (pc, "keepalive-s", 0, 3600, &s->keepalive_s, error) ||
      !get_int (pc, "max-message-size", 1024, G_MAXINT, &max_size, error))
    goto fail;
  s->max_message_size = max_size;

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
          make_valid (str, 256) : NULL;
    }
    if ((str = gst_structure_get_string (pc, "transcription-language")) && *str)
      s->transcription_language = make_valid (str, 64);
    if ((str = gst_structure_get_string (pc, "transcription-prompt")) && *str)
      s->transcription_prompt = make_valid (str, MAX_TEXT_SIZE);
    if ((str = gst_structure_get_string (pc, "organization")))
      s->organization = g_strdup (str);
    if ((str = gst_structure_get_string (pc, "project")))
      s->project = g_strdup (str);
  }
  if (!s->organization && g_getenv ("OPENAI_ORG_ID"))
    s->organization = g_strdup (g_getenv ("OPENAI_ORG_ID"));
  if (!s->project && g_getenv ("OPENAI_PROJECT_ID"))
    s->project = g_strdup (g_getenv ("OPENAI_PROJECT_ID"));
  if ((s->organization && !header_value_ok (s->organization)) ||
      (s->project && !header_value_ok (s->project))) {
    config_error (error, "\"organization\" and \"project\" must be printable "
        "text on one line");
    goto fail;
  }
  if (s->organization && !*s->organization)
    g_clear_pointer (&s->organization, g_free);
  if (s->project && !*s->project)
    g_clear_pointer (&s->project, g_free);

  if (!parse_tools (config->tools_json, &s->tools, error) ||
      !parse_history (config->history_json, &s->history, error))
    goto fail;
  return s;

  /* ERRORS */
no_key:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
        "No OpenAI API key: set the element's api-key property or the "
        "OPENAI_API_KEY environment variable");
    goto fail;
  }
bad_key:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
        "The OpenAI API key contains control characters");
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
  settings_free (s);
  return NULL;
}

/* ------------------------------------------------------------------------
 * History
 * ------------------------------------------------------------------------ */

static void
history_trim (GstBidiOpenAIProvider * self)
{
  while (self->history->len > 0 && (self->history->len > MAX_HISTORY_ITEMS ||
          self->history_bytes > MAX_HISTORY_BYTES)) {
    HistItem *first = g_ptr_array_index (self->history, 0);

    self->history_bytes -= MIN (self->history_bytes, hist_item_size (first));
    g_ptr_array_remove_index (self->history, 0);
    /* a result whose call went is refused by the server */
    while (self->history->len > 0) {
      first = g_ptr_array_index (self->history, 0);
      if (first->kind != ITEM_FUNCTION_OUTPUT)
        break;
      self->history_bytes -= MIN (self->history_bytes, hist_item_size (first));
      g_ptr_array_remove_index (self->history, 0);
    }
  }
}

static void
history_add (GstBidiOpenAIProvider * self, HistItem * item)
{
  g_ptr_array_add (self->history, item);
  self->history_bytes += hist_item_size (item);
  history_trim (self);
}

static HistItem *
history_find (GstBidiOpenAIProvider * self, const gchar * server_id)
{
  guint i;

  if (!server_id)
    return NULL;
  for (i = self->history->len; i > 0; i--) {
    HistItem *item = g_ptr_array_index (self->history, i - 1);
    if (g_strcmp0 (item->server_id, server_id) == 0)
      return item;
  }
  return NULL;
}

/* A slot for a message whose text comes later (a user turn being
 * transcribed, an answer being spoken): the conversation's order is the
 * order of the slots. */
static void
history_reserve (GstBidiOpenAIProvider * self, const gchar * role,
    const gchar * server_id)
{
  HistItem *item;

  if (!server_id || history_find (self, server_id))
    return;
  item = hist_message_new (role, NULL);
  item->server_id = g_strdup (server_id);
  history_add (self, item);
}

static void
history_set_text (GstBidiOpenAIProvider * self, const gchar * role,
    const gchar * server_id, const gchar * text)
{
  HistItem *item = history_find (self, server_id);

  if (!item) {
    item = hist_message_new (role, NULL);
    item->server_id = g_strdup (server_id);
    history_add (self, item);
  }
  self->history_bytes -= MIN (self->history_bytes, hist_item_size (item));
  g_free (item->text);
  item->text = make_valid (text, MAX_TEXT_SIZE);
  self->history_bytes += hist_item_size (item);
  GST_LOG_OBJECT (self, "history: %s %s", role, item->text);
  history_trim (self);
}

/* What of @text was heard when @heard_ms of @total_ms were played: the
 * same share of its characters, cut back to a word boundary. */
static gchar *
heard_text (const gchar * text, guint64 heard_ms, guint64 total_ms)
{
  glong n_chars, keep;
  const gchar *end, *p;

  if (heard_ms == G_MAXUINT64 || total_ms == 0 || heard_ms >= total_ms)
    return g_strdup (text);
  n_chars = g_utf8_strlen (text, -1);
  keep = (glong) (n_chars * heard_ms / total_ms);
  end = g_utf8_offset_to_pointer (text, keep);
  /* a word cut in the middle was not heard */
  if (*end && !g_ascii_isspace (*end)) {
    for (p = end; p > text && !g_ascii_isspace (p[-1]); p--);
    end = p;
  }
  while (end > text && g_ascii_isspace (end[-1]))
    end--;
  return g_strndup (text, end - text);
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

static void
send_session_update (GstBidiOpenAIProvider * self)
{
  JsonObject *obj = client_event ("session.update");

  g_free (self->update_event_id);
  self->update_event_id = next_event_id (self, "session");
  json_object_set_string_member (obj, "event_id", self->update_event_id);
  json_object_set_object_member (obj, "session", build_session (self));
  send_object (self, obj);
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

static JsonObject *
hist_item_to_wire (HistItem * h)
{
  JsonObject *item;

  switch (h->kind) {
    case ITEM_MESSAGE:
      if (!h->text || !*h->text)
        return NULL;
      return message_item (h->role, h->text);
    case ITEM_FUNCTION_CALL:
      item = json_object_new ();
      json_object_set_string_member (item, "type", "function_call");
      json_object_set_string_member (item, "call_id", h->call_id);
      json_object_set_string_member (item, "name", h->name);
      json_object_set_string_member (item, "arguments", h->data);
      return item;
    case ITEM_FUNCTION_OUTPUT:
      item = json_object_new ();
      json_object_set_string_member (item, "type", "function_call_output");
      json_object_set_string_member (item, "call_id", h->call_id);
      json_object_set_string_member (item, "output", h->data);
      return item;
  }
  return NULL;
}

/* The conversation so far, as items of the new session */
static void
replay_history (GstBidiOpenAIProvider * self)
{
  guint i, n = 0;

  for (i = 0; i < self->history->len; i++) {
    JsonObject *item = hist_item_to_wire (g_ptr_array_index (self->history,
            i));
    if (item) {
      send_item (self, item);
      n++;
    }
  }
  if (n)
    GST_INFO_OBJECT (self, "replayed %u conversation items", n);
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

  if (self->state != STATE_READY || response_active (self) ||
      awaiting_response (self)) {
    self->want_response = TRUE;
    return;
  }
  self->want_response = FALSE;
  obj = client_event ("response.create");
  g_free (self->create_event_id);
  self->create_event_id = next_event_id (self, "response");
  json_object_set_string_member (obj, "event_id", self->create_event_id);
  send_object (self, obj);
  expect_response (self);
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

static void
send_audio_now (GstBidiOpenAIProvider * self, GBytes * pcm)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (pcm, &size);
  gchar *b64, *text;

  if (size == 0)
    return;
  b64 = g_base64_encode (data, size);
  /* base64 needs no JSON escaping */
  text = g_strconcat ("{\"type\":\"input_audio_buffer.append\",\"audio\":\"",
      b64, "\"}", NULL);
  if (gst_bidi_ws_send_text (self->ws, text))
    self->audio_since_commit += size;
  g_free (text);
  g_free (b64);
}

static void
send_text_now (GstBidiOpenAIProvider * self, const gchar * text,
    const gchar * role)
{
  gchar *valid = make_valid (text, MAX_TEXT_SIZE);

  if (g_strcmp0 (role, "system") != 0 && g_strcmp0 (role, "assistant") != 0)
    role = "user";
  GST_DEBUG_OBJECT (self, "%s text: %s", role, valid);
  send_item (self, message_item (role, valid));
  history_add (self, hist_message_new (role, valid));
  g_free (valid);
  /* a typed question gets an answer; other roles only add context */
  if (strcmp (role, "user") == 0)
    request_response (self);
}

static void
send_image_now (GstBidiOpenAIProvider * self, GBytes * data, const gchar * mime)
{
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

/* ------------------------------------------------------------------------
 * Ending the input
 * ------------------------------------------------------------------------ */

static gboolean
settle_done_cb (gpointer user_data)
{
  GstBidiOpenAIProvider *self = user_data;

  timer_fired (&self->settle_timer);
  self->settling = FALSE;
  GST_DEBUG_OBJECT (self, "end of input settled");
  check_close (self);
  return G_SOURCE_REMOVE;
}

/* The input ended: make the server answer what is still unanswered. */
static void
finish_input (GstBidiOpenAIProvider * self)
{
  Settings *s = self->run;
  gboolean auto_answer = s->turn != TURN_NONE && s->create_response;

  if (self->input_finished)
    return;
  self->input_finished = TRUE;

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
    send_audio_now (self, silence);
    g_bytes_unref (silence);
    self->settling = TRUE;
    start_timer (self, &self->settle_timer, s->silence_duration_ms +
        s->prefix_padding_ms + 1000, settle_done_cb, "bidiopenai-settle");
  } else if (self->user_speaking) {
    /* semantic VAD may wait seconds for more: the turn is over */
    GST_INFO_OBJECT (self, "input ended while the user spoke: committing");
    commit_input (self);
    request_response (self);
  } else {
    self->settling = TRUE;
    start_timer (self, &self->settle_timer, 1500, settle_done_cb,
        "bidiopenai-settle");
  }
  check_close (self);
}

static gboolean
recheck_cb (gpointer user_data)
{
  GstBidiOpenAIProvider *self = user_data;

  timer_fired (&self->recheck_timer);
  check_close (self);
  return G_SOURCE_REMOVE;
}

static gboolean
calls_pending (GstBidiOpenAIProvider * self)
{
  guint i;

  for (i = 0; i < self->calls->len; i++) {
    Call *c = g_ptr_array_index (self->calls, i);
    if (c->emitted && !c->sent)
      return TRUE;
  }
  return FALSE;
}

/* After end_input: once nothing is left to answer, the session is
 * complete. */
static void
check_close (GstBidiOpenAIProvider * self)
{
  if (!self->started || !self->end_input || !self->input_finished ||
      self->state != STATE_READY)
    return;
  if (self->settling || self->user_speaking || response_active (self) ||
      self->want_response || !g_queue_is_empty (&self->inputs) ||
      calls_pending (self))
    return;
  if (awaiting_response (self)) {
    gint64 left = self->awaiting_until - g_get_monotonic_time ();
    start_timer (self, &self->recheck_timer, MAX (left / 1000, 1) + 1,
        recheck_cb, "bidiopenai-recheck");
    return;
  }

  GST_INFO_OBJECT (self, "input ended and answered: session complete");
  self->state = STATE_CLOSED;
  clear_timer (&self->age_timer);
  clear_timer (&self->recheck_timer);
  if (self->ws) {
    gst_bidi_ws_close (self->ws, SOUP_WEBSOCKET_CLOSE_NORMAL);
    self->ws = NULL;
  }
  emit (self, gst_bidi_event_new_connection_close (self->conn_id, "complete"));
}

/* ------------------------------------------------------------------------
 * Tool calls
 * ------------------------------------------------------------------------ */

static Call *
find_call (GstBidiOpenAIProvider * self, const gchar * call_id,
    const gchar * item_id)
{
  guint i;

  for (i = 0; i < self->calls->len; i++) {
    Call *c = g_ptr_array_index (self->calls, i);
    if ((call_id && g_strcmp0 (c->call_id, call_id) == 0) ||
        (!call_id && item_id && g_strcmp0 (c->item_id, item_id) == 0))
      return c;
  }
  return NULL;
}

static Call *
add_call (GstBidiOpenAIProvider * self, const gchar * call_id,
    const gchar * name, const gchar * item_id, const gchar * resp_id)
{
  Call *c;

  if (self->calls->len >= MAX_CALLS) {
    /* the oldest finished one makes room; else refuse */
    guint i;
    for (i = 0; i < self->calls->len; i++) {
      c = g_ptr_array_index (self->calls, i);
      if (c->closed && (!c->emitted || c->sent)) {
        g_ptr_array_remove_index (self->calls, i);
        break;
      }
    }
    if (self->calls->len >= MAX_CALLS) {
      GST_WARNING_OBJECT (self, "too many tool calls pending; ignoring %s",
          call_id);
      return NULL;
    }
  }
  c = g_new0 (Call, 1);
  c->call_id = g_strdup (call_id);
  c->name = g_strdup (name);
  c->item_id = g_strdup (item_id);
  c->resp_id = g_strdup (resp_id);
  c->args = g_string_new (NULL);
  g_ptr_array_add (self->calls, c);
  return c;
}

static void
report_bad_message (GstBidiOpenAIProvider * self, const gchar * message)
{
  GST_WARNING_OBJECT (self, "%s", message);
  if (++self->n_bad_messages > MAX_BAD_MESSAGE_EVENTS) {
    if (self->n_bad_messages == MAX_BAD_MESSAGE_EVENTS + 1)
      GST_WARNING_OBJECT (self, "too many malformed messages: only logging "
          "them from now on");
    return;
  }
  emit (self, gst_bidi_event_new_error (message, "bad_message", NULL));
}

/* The model asks for a tool: tool_use_stream, once per call. The element
 * may answer from inside the emit (built-in tools). */
static void
emit_tool_use (GstBidiOpenAIProvider * self, Call * c, const gchar * args)
{
  JsonObject *obj;
  HistItem *h;
  gchar *input, *call_id, *name;

  if (c->emitted || c->invalid)
    return;
  if (!c->name || !*c->name) {
    c->invalid = TRUE;
    report_bad_message (self, SERVER_NAME " sent a tool call without a "
        "name; ignored");
    return;
  }

  input = g_strdup (args && !is_blank (args) ? args : "{}");
  obj = gst_bidi_json_parse_object (input, strlen (input), MAX_ARGS_SIZE,
      MAX_JSON_DEPTH, NULL);
  if (!obj) {
    gchar *msg = g_strdup_printf (SERVER_NAME " sent malformed arguments "
        "for a call of tool \"%s\"; the call is ignored", c->name);
    c->invalid = TRUE;
    report_bad_message (self, msg);
    g_free (msg);
    g_free (input);
    return;
  }
  json_object_unref (obj);

  c->emitted = TRUE;
  h = g_new0 (HistItem, 1);
  h->kind = ITEM_FUNCTION_CALL;
  h->call_id = wire_call_id (c->call_id);
  h->name = g_strdup (c->name);
  h->data = g_strdup (input);
  history_add (self, h);

  GST_INFO_OBJECT (self, "tool call %s: %s %s", c->call_id, c->name, input);
  /* @c may be gone when the emit returns */
  call_id = g_strdup (c->call_id);
  name = g_strdup (c->name);
  emit (self, gst_bidi_event_new_tool_use (call_id, name, input));
  g_free (call_id);
  g_free (name);
  g_free (input);
}

/* Sends the results that can go (their response is over), and asks for
 * an answer once every call of a response has its result. */
static void
flush_calls (GstBidiOpenAIProvider * self)
{
  gboolean respond = FALSE;
  guint i, j;

  if (self->state != STATE_READY)
    return;

  for (i = 0; i < self->calls->len; i++) {
    Call *c = g_ptr_array_index (self->calls, i);
    JsonObject *item;
    HistItem *h;

    if (!c->closed || !c->result || c->sent)
      continue;
    item = json_object_new ();
    json_object_set_string_member (item, "type", "function_call_output");
    h = g_new0 (HistItem, 1);
    h->kind = ITEM_FUNCTION_OUTPUT;
    h->call_id = wire_call_id (c->call_id);
    h->data = g_strdup (c->result);
    json_object_set_string_member (item, "call_id", h->call_id);
    json_object_set_string_member (item, "output", c->result);
    send_item (self, item);
    history_add (self, h);
    c->sent = TRUE;
    GST_DEBUG_OBJECT (self, "tool result for %s sent", c->call_id);
  }

  /* a response's calls are done when each was answered (or ignored) */
  for (i = 0; i < self->calls->len;) {
    Call *c = g_ptr_array_index (self->calls, i);
    gboolean complete = TRUE, any_respond = FALSE;
    gchar *resp_id;

    if (!c->closed) {
      i++;
      continue;
    }
    for (j = 0; j < self->calls->len && complete; j++) {
      Call *o = g_ptr_array_index (self->calls, j);
      if (g_strcmp0 (o->resp_id, c->resp_id) != 0)
        continue;
      if (!o->closed || (o->emitted && !o->sent))
        complete = FALSE;
    }
    if (!complete) {
      i++;
      continue;
    }
    resp_id = g_strdup (c->resp_id);
    for (j = self->calls->len; j > 0; j--) {
      Call *o = g_ptr_array_index (self->calls, j - 1);
      if (g_strcmp0 (o->resp_id, resp_id) != 0)
        continue;
      any_respond |= o->respond && o->sent;
      g_ptr_array_remove_index (self->calls, j - 1);
    }
    g_free (resp_id);
    respond |= any_respond;
    i = 0;
  }

  if (respond) {
    GST_DEBUG_OBJECT (self, "all tool results are in: asking for an answer");
    request_response (self);
  }
}

/* ------------------------------------------------------------------------
 * Server events
 * ------------------------------------------------------------------------ */

static OutItem *
out_item_get (Response * r, const gchar * item_id, gint content_index)
{
  OutItem *item;
  guint i;

  for (i = 0; i < r->items->len; i++) {
    item = g_ptr_array_index (r->items, i);
    if (g_strcmp0 (item->item_id, item_id) == 0)
      return item;
  }
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

/* The history keeps what was heard of an interrupted answer. */
static void
out_item_update_history (GstBidiOpenAIProvider * self, OutItem * item)
{
  gchar *text = heard_text (item->transcript->str, item->heard_ms,
      out_item_ms (item));

  if (item->heard_ms != G_MAXUINT64)
    GST_INFO_OBJECT (self, "answer %s heard for %" G_GUINT64_FORMAT " of %"
        G_GUINT64_FORMAT " ms: \"%s\"", item->item_id, item->heard_ms,
        out_item_ms (item), text);
  history_set_text (self, "assistant", item->item_id, text);
  g_free (text);
}

static void
on_session_ready (GstBidiOpenAIProvider * self)
{
  gboolean first = self->n_sessions == 0, finish = FALSE;
  GBytes *pcm;
  Input *in;

  GST_INFO_OBJECT (self, "session ready (%s)", self->run->model);
  self->state = STATE_READY;
  clear_timer (&self->setup_timer);
  self->attempt = 0;
  self->n_sessions++;
  g_clear_pointer (&self->last_failure, g_free);
  self->renew = FALSE;
  if (self->run->max_session_s > 0)
    start_timer (self, &self->age_timer, self->run->max_session_s * 1000,
        age_cb, "bidiopenai-session-age");

  /* what waited for the session, in order */
  if (self->audio_dropping)
    GST_WARNING_OBJECT (self, "audio was dropped while reconnecting");
  self->audio_dropping = FALSE;
  while ((pcm = g_queue_pop_head (&self->audio))) {
    send_audio_now (self, pcm);
    g_bytes_unref (pcm);
  }
  self->audio_bytes = 0;
  while ((in = g_queue_pop_head (&self->inputs))) {
    if (in->kind == INPUT_TEXT)
      send_text_now (self, in->text, in->role);
    else if (in->kind == INPUT_IMAGE)
      send_image_now (self, in->data, in->mime);
    else
      finish = TRUE;            /* after the session is announced */
    input_free (in);
  }
  self->input_image_bytes = 0;
  flush_calls (self);
  if (self->want_response)
    request_response (self);

  if (first) {
    if (!emit (self, gst_bidi_event_new_connection_start (self->conn_id,
                self->run->model)))
      return;
  } else {
    GST_INFO_OBJECT (self, "reconnected (%s)", self->restart_reason);
    if (!emit (self, gst_bidi_event_new_connection_restart
            (self->restart_reason ? self->restart_reason : "reconnect",
                self->conn_id)))
      return;
    /* and the connection is up again, as at the start */
    if (!emit (self, gst_bidi_event_new_connection_start (self->conn_id,
                self->run->model)))
      return;
  }
  g_clear_pointer (&self->restart_reason, g_free);
  if (finish)
    finish_input (self);
  check_close (self);
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

    if (call_id && !find_call (self, call_id, NULL))
      add_call (self, call_id, gst_bidi_json_get_string (item, "name"),
          id, gst_bidi_json_get_string (ev, "response_id"));
  } else if (g_strcmp0 (type, "message") == 0 && id) {
    if (r)
      out_item_get (r, id, 0);
    history_reserve (self, "assistant", id);
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
      self->run->max_message_size, &err);
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
  gst_bidi_provider_emit_audio (GST_BIDI_PROVIDER (self), pcm);
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
  text = make_valid (delta, MAX_TEXT_SIZE);
  if (item && item->transcript->len + strlen (text) <= MAX_TEXT_SIZE)
    g_string_append (item->transcript, text);
  emit (self, gst_bidi_event_new_transcript ("assistant", text, FALSE,
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

  text = make_valid (final ? final : (item ? item->transcript->str : ""),
      MAX_TEXT_SIZE);
  if (item) {
    g_string_assign (item->transcript, text);
    item->transcript_done = TRUE;
    out_item_update_history (self, item);
  } else if (item_id) {
    history_set_text (self, "assistant", item_id, text);
  }
  GST_DEBUG_OBJECT (self, "assistant said: %s", text);
  emit (self, gst_bidi_event_new_transcript ("assistant", text, TRUE, text));
  g_free (text);
}

static void
on_user_delta (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  const gchar *delta = gst_bidi_json_get_string (ev, "delta");
  const gchar *item_id = gst_bidi_json_get_string (ev, "item_id");
  GString *acc = NULL;
  gchar *text;

  if (!delta || is_blank (delta))
    return;
  text = make_valid (delta, MAX_TEXT_SIZE);
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
  text = make_valid (transcript, MAX_TEXT_SIZE);
  GST_DEBUG_OBJECT (self, "user said: %s", text);
  if (!is_blank (text))
    history_set_text (self, "user", item_id, text);
  emit (self, gst_bidi_event_new_transcript ("user", text, TRUE, text));
  g_free (text);
}

static void
on_function_call_args (GstBidiOpenAIProvider * self, JsonObject * ev,
    gboolean done)
{
  const gchar *call_id = gst_bidi_json_get_string (ev, "call_id");
  const gchar *item_id = gst_bidi_json_get_string (ev, "item_id");
  Call *c = find_call (self, call_id, item_id);

  if (!c) {
    if (!call_id) {
      report_bad_message (self, SERVER_NAME " sent a tool call without "
          "call_id; ignored");
      return;
    }
    c = add_call (self, call_id, gst_bidi_json_get_string (ev, "name"),
        item_id, gst_bidi_json_get_string (ev, "response_id"));
    if (!c)
      return;
  }
  if (!c->name && gst_bidi_json_get_string (ev, "name"))
    c->name = g_strdup (gst_bidi_json_get_string (ev, "name"));

  if (!done) {
    const gchar *delta = gst_bidi_json_get_string (ev, "delta");
    if (delta && c->args->len + strlen (delta) <= MAX_ARGS_SIZE)
      g_string_append (c->args, delta);
    return;
  }
  {
    const gchar *args = gst_bidi_json_get_string (ev, "arguments");
    gchar *copy = g_strdup (args ? args : c->args->str);

    emit_tool_use (self, c, copy);
    g_free (copy);
  }
}

static void
on_output_item_done (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  JsonObject *item = gst_bidi_json_get_object (ev, "item");
  const gchar *call_id;
  Call *c;

  if (g_strcmp0 (gst_bidi_json_get_string (item, "type"),
          "function_call") != 0)
    return;
  if (g_strcmp0 (gst_bidi_json_get_string (item, "status"),
          "completed") != 0)
    return;
  call_id = gst_bidi_json_get_string (item, "call_id");
  if (!call_id)
    return;
  if (!(c = find_call (self, call_id, NULL)) &&
      !(c = add_call (self, call_id, gst_bidi_json_get_string (item,
                  "name"), gst_bidi_json_get_string (item, "id"),
              gst_bidi_json_get_string (ev, "response_id"))))
    return;
  if (!c->name && gst_bidi_json_get_string (item, "name"))
    c->name = g_strdup (gst_bidi_json_get_string (item, "name"));
  if (!c->emitted && !c->invalid) {
    const gchar *args = gst_bidi_json_get_string (item, "arguments");
    gchar *copy = g_strdup (args ? args : c->args->str);

    emit_tool_use (self, c, copy);
    g_free (copy);
  }
}

static gint
usage_count (JsonObject * obj, const gchar * name)
{
  return (gint) CLAMP (gst_bidi_json_get_int (obj, name, 0), 0, G_MAXINT);
}

static void
add_modality (GValue * array, const gchar * modality, JsonObject * in,
    JsonObject * out, const gchar * name)
{
  GValue v = G_VALUE_INIT;
  GstStructure *s;

  if (!(in && json_object_has_member (in, name)) &&
      !(out && json_object_has_member (out, name)))
    return;
  s = gst_structure_new ("modality_details",
      "modality", G_TYPE_STRING, modality,
      "input_tokens", G_TYPE_INT, in ? usage_count (in, name) : 0,
      "output_tokens", G_TYPE_INT, out ? usage_count (out, name) : 0, NULL);
  g_value_init (&v, GST_TYPE_STRUCTURE);
  g_value_take_boxed (&v, s);
  gst_value_array_append_and_take_value (array, &v);
}

static gboolean
emit_usage (GstBidiOpenAIProvider * self, JsonObject * usage)
{
  JsonObject *in = gst_bidi_json_get_object (usage, "input_token_details");
  JsonObject *out = gst_bidi_json_get_object (usage,
      "output_token_details");
  GstStructure *ev;
  GValue details = G_VALUE_INIT;

  ev = gst_bidi_event_new_usage (usage_count (usage, "input_tokens"),
      usage_count (usage, "output_tokens"), usage_count (usage,
          "total_tokens"));
  if (in || out) {
    g_value_init (&details, GST_TYPE_ARRAY);
    add_modality (&details, "text", in, out, "text_tokens");
    add_modality (&details, "audio", in, out, "audio_tokens");
    add_modality (&details, "image", in, out, "image_tokens");
    gst_structure_take_value (ev, "modality_details", &details);
  }
  if (in && json_object_has_member (in, "cached_tokens"))
    gst_structure_set (ev, "cacheReadInputTokens", G_TYPE_INT,
        usage_count (in, "cached_tokens"), NULL);
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
  gboolean has_calls = FALSE, completed;
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

  /* answers whose final transcript never came keep what was said */
  for (i = 0; i < self->resp->items->len; i++) {
    OutItem *item = g_ptr_array_index (self->resp->items, i);
    if (!item->transcript_done && item->transcript->len > 0)
      out_item_update_history (self, item);
  }

  /* its tool calls may be answered now */
  for (i = 0; i < self->calls->len; i++) {
    Call *c = g_ptr_array_index (self->calls, i);
    if (g_strcmp0 (c->resp_id, id) != 0 || c->closed)
      continue;
    c->closed = TRUE;
    /* after a cancel (the user spoke) the next turn answers; results are
     * still given to the model */
    c->respond = completed;
    has_calls |= c->emitted;
  }
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
    if (!emit (self, gst_bidi_event_new_error (msg, code ? code :
                "response_failed", NULL))) {
      g_free (msg);
      g_free (resp_id);
      return;
    }
    g_free (msg);
  }
  if (usage && !emit_usage (self, usage)) {
    g_free (resp_id);
    return;
  }
  if (!emit (self, gst_bidi_event_new_response_complete (resp_id, stop_reason))) {
    g_free (resp_id);
    return;
  }
  g_free (resp_id);

  flush_calls (self);
  if (self->want_response)
    request_response (self);
  maybe_renew (self);
  check_close (self);
}

static void
on_speech_started (GstBidiOpenAIProvider * self)
{
  gchar *resp_id = self->resp ? g_strdup (self->resp->id) : NULL;
  gboolean alive;

  self->user_speaking = TRUE;
  GST_DEBUG_OBJECT (self, "user speech started");
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
  gchar *full;

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
  } else if (event_id && g_strcmp0 (event_id, self->update_event_id) == 0) {
    full = g_strdup_printf (SERVER_NAME " refused the session settings: %s",
        message);
    fail (self, full, code ? code : "invalid_session", type);
    g_free (full);
    g_free (message);
    return;
  } else if (g_strcmp0 (type, "authentication_error") == 0 ||
      g_strcmp0 (code, "invalid_api_key") == 0) {
    full = g_strdup_printf (SERVER_NAME " refused the credentials: %s",
        message);
    fail (self, full, "not_authorized", type);
    g_free (full);
    g_free (message);
    return;
  } else if (g_strcmp0 (code, "session_expired") == 0) {
    g_free (message);
    connection_lost (self, "timeout", SERVER_NAME " ended the session (its "
        "time limit)", TRUE);
    return;
  } else {
    full = g_strdup_printf (SERVER_NAME " reported an error: %s", message);
    GST_WARNING_OBJECT (self, "%s", full);
    if (!emit (self, gst_bidi_event_new_error (full, code ? code : "error",
                type))) {
      g_free (full);
      g_free (message);
      return;
    }
    g_free (full);
  }
  g_free (message);
  check_close (self);
}

/* The server cut the transcript of an item we truncated: ask for it, so
 * that the history keeps exactly what is left (the proportional cut is an
 * estimate). */
static void
on_item_truncated (GstBidiOpenAIProvider * self, JsonObject * ev)
{
  const gchar *item_id = gst_bidi_json_get_string (ev, "item_id");
  HistItem *h = history_find (self, item_id);
  JsonObject *obj;

  if (!h || h->kind != ITEM_MESSAGE || g_strcmp0 (h->role, "assistant") != 0)
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
  HistItem *h = history_find (self, item_id);
  JsonNode *content = item ? json_object_get_member (item, "content") : NULL;
  GString *text;
  JsonArray *parts;
  guint i;

  if (!h || h->kind != ITEM_MESSAGE || g_strcmp0 (h->role, "assistant") != 0
      || !content || !JSON_NODE_HOLDS_ARRAY (content))
    return;
  text = g_string_new (NULL);
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
  history_set_text (self, "assistant", item_id, text->str);
  g_string_free (text, TRUE);
}

static void
handle_event (GstBidiOpenAIProvider * self, JsonObject * ev, const gchar * json,
    gsize len)
{
  const gchar *type = gst_bidi_json_get_string (ev, "type");

  if (!type) {
    report_bad_message (self, SERVER_NAME " sent a message without a type; "
        "ignored");
    return;
  }
  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_TRACE &&
      strcmp (type, "response.output_audio.delta") != 0) {
    gchar *text = gst_bidi_realtime_clean_text (json, len, self->api_key,
        EXCERPT_CHARS);
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
    if (text && !is_blank (text)) {
      gchar *valid = make_valid (text, MAX_TEXT_SIZE);
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
    on_speech_started (self);
  } else if (strcmp (type, "input_audio_buffer.speech_stopped") == 0) {
    self->user_speaking = FALSE;
    /* the server commits and answers by itself */
    if (self->run->turn != TURN_NONE && self->run->create_response)
      expect_response (self);
    check_close (self);
  } else if (strcmp (type, "input_audio_buffer.committed") == 0) {
    self->audio_since_commit = 0;
    if (self->run->transcription_model)
      history_reserve (self, "user", gst_bidi_json_get_string (ev,
              "item_id"));
  } else if (strcmp (type, "session.updated") == 0) {
    if (self->state == STATE_CONFIGURING)
      on_session_ready (self);
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
 * Connection
 * ------------------------------------------------------------------------ */

static void
drop_ws (GstBidiOpenAIProvider * self, gushort code)
{
  if (self->ws) {
    gst_bidi_ws_close (self->ws, code);
    self->ws = NULL;
  }
}

/* Ends for good, with an error. */
static void
fail (GstBidiOpenAIProvider * self, const gchar * message, const gchar * code,
    const gchar * details)
{
  if (self->state == STATE_CLOSED)
    return;
  GST_ERROR_OBJECT (self, "%s", message);
  self->state = STATE_CLOSED;
  drop_ws (self, SOUP_WEBSOCKET_CLOSE_NORMAL);
  clear_timer (&self->setup_timer);
  clear_timer (&self->retry_timer);
  clear_timer (&self->age_timer);
  clear_timer (&self->settle_timer);
  clear_timer (&self->recheck_timer);
  if (emit (self, gst_bidi_event_new_error (message, code, details)))
    emit (self, gst_bidi_event_new_connection_close (self->conn_id, "error"));
}

static gboolean
retry_cb (gpointer user_data)
{
  GstBidiOpenAIProvider *self = user_data;

  timer_fired (&self->retry_timer);
  connect_session (self);
  return G_SOURCE_REMOVE;
}

/* What belonged to the connection that went */
static void
forget_connection (GstBidiOpenAIProvider * self)
{
  OutItem *item;
  guint i;

  if (self->resp) {
    for (i = 0; i < self->resp->items->len; i++) {
      item = g_ptr_array_index (self->resp->items, i);
      if (!item->transcript_done && item->transcript->len > 0)
        out_item_update_history (self, item);
    }
  }
  /* calls of a response that was cut: their results go to the new session,
   * then an answer is asked for */
  for (i = 0; i < self->calls->len; i++) {
    Call *c = g_ptr_array_index (self->calls, i);
    if (!c->closed) {
      c->closed = TRUE;
      c->respond = TRUE;
    }
  }
  g_hash_table_remove_all (self->user_transcripts);
  self->user_speaking = FALSE;
  /* an answer asked for and not started yet is asked for again */
  if (self->create_event_id && awaiting_response (self))
    self->want_response = TRUE;
  self->awaiting_until = 0;
  self->audio_since_commit = 0;
  self->n_bad_messages = 0;
  g_clear_pointer (&self->create_event_id, g_free);
  g_clear_pointer (&self->commit_event_id, g_free);
  g_clear_pointer (&self->update_event_id, g_free);
  clear_timer (&self->setup_timer);
  clear_timer (&self->age_timer);
  clear_timer (&self->recheck_timer);
}

/* The session is gone (dropped, or the server's limit): reconnect with
 * backoff, unless the attempts are used up. */
static void
connection_lost (GstBidiOpenAIProvider * self, const gchar * reason,
    const gchar * message, gboolean immediate)
{
  guint delay;

  if (self->state == STATE_CLOSED || self->state == STATE_IDLE)
    return;
  drop_ws (self, SOUP_WEBSOCKET_CLOSE_NORMAL);

  if (response_active (self)) {
    gchar *resp_id = g_strdup (self->resp->id);

    self->resp->done = TRUE;
    if (!emit (self, gst_bidi_event_new_response_complete (resp_id, "error"))) {
      g_free (resp_id);
      return;
    }
    g_free (resp_id);
  }
  forget_connection (self);

  if (!self->restart_reason)
    self->restart_reason = g_strdup (reason);
  g_free (self->last_failure);
  self->last_failure = g_strdup (message);

  if (self->attempt >= self->run->reconnect_attempts) {
    gchar *msg;

    if (self->run->reconnect_attempts == 0)
      msg = g_strdup_printf ("%s (reconnecting is off)", message);
    else
      msg = g_strdup_printf ("%s; gave up after %u reconnection attempts",
          message, self->attempt);
    fail (self, msg, "connection_lost", NULL);
    g_free (msg);
    return;
  }
  self->attempt++;
  delay = (immediate && self->attempt == 1) ? 0 :
      gst_bidi_realtime_backoff_ms (self->attempt,
      self->run->reconnect_delay_ms, RECONNECT_MAX_DELAY_MS);
  GST_WARNING_OBJECT (self, "%s; reconnecting in %u ms (attempt %u of %u)",
      message, delay, self->attempt, self->run->reconnect_attempts);
  self->state = STATE_WAITING;
  start_timer (self, &self->retry_timer, delay, retry_cb,
      "bidiopenai-reconnect");
}

static gboolean
setup_timeout_cb (gpointer user_data)
{
  GstBidiOpenAIProvider *self = user_data;
  gchar *msg;

  timer_fired (&self->setup_timer);
  msg = g_strdup_printf ("%s did not %s within %u ms", SERVER_NAME,
      self->state == STATE_CONNECTING ? "accept the connection" :
      "confirm the session settings", self->run->connect_timeout_ms);
  if (self->n_sessions == 0)
    fail (self, msg, "timeout", NULL);
  else
    connection_lost (self, "connection_lost", msg, FALSE);
  g_free (msg);
  return G_SOURCE_REMOVE;
}

static void
on_ws_open (GstBidiWs * ws, gpointer user_data)
{
  GstBidiOpenAIProvider *self = user_data;

  if (ws != self->ws || !self->started)
    return;
  self->state = STATE_CONFIGURING;
  /* the server accepts session.update before session.created */
  send_session_update (self);
  replay_history (self);
}

static void
on_ws_message (GstBidiWs * ws, JsonObject * message, const gchar * json,
    gsize len, gpointer user_data)
{
  GstBidiOpenAIProvider *self = user_data;

  if (ws != self->ws || !self->started)
    return;
  handle_event (self, message, json, len);
}

static void
on_ws_bad_message (GstBidiWs * ws, const GError * error, gpointer user_data)
{
  GstBidiOpenAIProvider *self = user_data;
  gchar *msg;

  if (ws != self->ws || !self->started)
    return;
  msg = clean (self, error->message);
  report_bad_message (self, msg);
  g_free (msg);
}

static void
on_ws_closed (GstBidiWs * ws, const GstBidiWsCloseInfo * info,
    const GError * error, gpointer user_data)
{
  GstBidiOpenAIProvider *self = user_data;
  gboolean refused;

  if (ws != self->ws || !self->started)
    return;
  drop_ws (self, SOUP_WEBSOCKET_CLOSE_NORMAL);

  refused = info->http_status >= 400 && info->http_status < 500 &&
      info->http_status != 408 && info->http_status != 429;
  if (info->not_authorized) {
    fail (self, error->message, "not_authorized", NULL);
  } else if (self->n_sessions == 0 || refused) {
    /* the first connection, or a refusal: no point in trying again */
    fail (self, error->message, info->was_open ? "connection_lost" :
        "connection_failed", NULL);
  } else if (info->close_code == SOUP_WEBSOCKET_CLOSE_TOO_BIG) {
    /* libsoup closes on a frame above max-message-size: say so, and go
     * on with a new session */
    report_bad_message (self, error->message);
    if (self->started)
      connection_lost (self, "connection_lost", error->message, TRUE);
  } else {
    /* 1001 "going away": the session hit its time limit */
    gboolean limit = info->close_code == SOUP_WEBSOCKET_CLOSE_GOING_AWAY;
    connection_lost (self, limit ? "timeout" : "connection_lost",
        error->message, limit);
  }
}

static const GstBidiWsCallbacks ws_callbacks = {
  on_ws_open,
  on_ws_message,
  on_ws_bad_message,
  on_ws_closed,
};

/* One connection attempt */
static void
connect_session (GstBidiOpenAIProvider * self)
{
  GstBidiWsOptions options = { 0, };
  const gchar *headers[7];
  gchar *auth;
  GError *err = NULL;
  guint n = 0;

  auth = g_strconcat ("Bearer ", self->api_key, NULL);
  headers[n++] = "Authorization";
  headers[n++] = auth;
  if (self->run->organization) {
    headers[n++] = "OpenAI-Organization";
    headers[n++] = self->run->organization;
  }
  if (self->run->project) {
    headers[n++] = "OpenAI-Project";
    headers[n++] = self->run->project;
  }
  headers[n] = NULL;

  options.url = self->run->url;
  options.server_name = SERVER_NAME;
  options.headers = headers;
  options.secret = self->api_key;
  options.ca_database = self->ca_database;
  options.ssl_strict = self->run->ssl_strict;
  options.max_message_size = self->run->max_message_size;
  options.keepalive_s = self->run->keepalive_s;
  options.connect_timeout_s = (self->run->connect_timeout_ms + 999) / 1000;

  self->state = STATE_CONNECTING;
  self->ws = gst_bidi_ws_connect (&options, &ws_callbacks, self, &err);
  explicit_bzero (auth, strlen (auth));
  g_free (auth);
  if (!self->ws) {
    /* the URL was checked by configure: not expected */
    fail (self, err->message, "connection_failed", NULL);
    g_error_free (err);
    return;
  }
  start_timer (self, &self->setup_timer, self->run->connect_timeout_ms,
      setup_timeout_cb, "bidiopenai-setup");
}

static gboolean
age_cb (gpointer user_data)
{
  GstBidiOpenAIProvider *self = user_data;

  timer_fired (&self->age_timer);
  GST_INFO_OBJECT (self, "the session is %u s old: renewing it at the next "
      "pause", self->run->max_session_s);
  self->renew = TRUE;
  maybe_renew (self);
  return G_SOURCE_REMOVE;
}

/* A session near its time limit is replaced while nobody speaks. */
static void
maybe_renew (GstBidiOpenAIProvider * self)
{
  if (!self->renew || self->state != STATE_READY || self->end_input ||
      response_active (self) || self->user_speaking ||
      awaiting_response (self) || self->want_response)
    return;
  self->renew = FALSE;
  self->attempt = 0;
  connection_lost (self, "timeout", "renewing the session before its time "
      "limit", TRUE);
}

/* ------------------------------------------------------------------------
 * vfuncs
 * ------------------------------------------------------------------------ */

static gboolean
gst_bidi_openai_provider_configure (G_GNUC_UNUSED GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error)
{
  Settings *s = settings_parse (config, error);

  if (!s)
    return FALSE;
  settings_free (s);
  return TRUE;
}

static void
gst_bidi_openai_provider_get_audio_formats (G_GNUC_UNUSED GstBidiProvider *
    provider, GstAudioInfo * in_info, GstAudioInfo * out_info)
{
  gst_audio_info_set_format (in_info, GST_AUDIO_FORMAT_S16LE, RATE, 1, NULL);
  gst_audio_info_set_format (out_info, GST_AUDIO_FORMAT_S16LE, RATE, 1, NULL);
}

static gboolean
gst_bidi_openai_provider_start (GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (provider);
  Settings *s;
  GTlsDatabase *ca = NULL;

  if (self->started)
    gst_bidi_openai_provider_stop (provider);

  if (!(s = settings_parse (config, error)))
    return FALSE;
  if (config->ssl_ca_file && *config->ssl_ca_file &&
      !(ca = gst_bidi_realtime_load_ca_file (config->ssl_ca_file, error))) {
    settings_free (s);
    return FALSE;
  }

  self->run = s;
  self->ca_database = ca;
  self->api_key = g_strdup (find_api_key (config));
  self->conn_id = g_uuid_string_random ();
  self->ctx = g_main_context_ref_thread_default ();
  while (s->history && s->history->len > 0)
    history_add (self, g_ptr_array_steal_index (s->history, 0));
  self->started = TRUE;
  self->n_sessions = 0;
  self->attempt = 0;

  GST_INFO_OBJECT (self, "starting: model %s, voice %s, turn detection %s, "
      "%u tools, %u history items", s->model, s->voice,
      s->turn == TURN_SERVER_VAD ? "server_vad" :
      s->turn == TURN_SEMANTIC_VAD ? "semantic_vad" : "none",
      s->tools ? json_array_get_length (s->tools) : 0, self->history->len);
  connect_session (self);
  return TRUE;
}

static void
gst_bidi_openai_provider_send_audio (GstBidiProvider * provider, GBytes * pcm)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (provider);

  if (!self->started || self->state == STATE_CLOSED || self->end_input)
    return;
  if (self->state == STATE_READY) {
    send_audio_now (self, pcm);
    return;
  }

  /* (re)connecting: keep the latest audio */
  g_queue_push_tail (&self->audio, g_bytes_ref (pcm));
  self->audio_bytes += g_bytes_get_size (pcm);
  while (self->audio_bytes > MAX_BUFFERED_AUDIO_MS * BYTES_PER_MS &&
      g_queue_get_length (&self->audio) > 1) {
    GBytes *old = g_queue_pop_head (&self->audio);

    self->audio_bytes -= g_bytes_get_size (old);
    g_bytes_unref (old);
    if (!self->audio_dropping)
      GST_WARNING_OBJECT (self, "not connected: dropping the oldest audio");
    self->audio_dropping = TRUE;
  }
}

/* Sends @in (taken) now if the session is ready, else keeps it for then */
static gboolean
send_or_queue_input (GstBidiOpenAIProvider * self, Input * in)
{
  if (self->state == STATE_READY) {
    if (in->kind == INPUT_TEXT)
      send_text_now (self, in->text, in->role);
    else
      send_image_now (self, in->data, in->mime);
    input_free (in);
    return TRUE;
  }
  if (g_queue_get_length (&self->inputs) >= MAX_PENDING_INPUTS ||
      (in->data && self->input_image_bytes + g_bytes_get_size (in->data) >
          MAX_PENDING_IMAGE_BYTES)) {
    GST_WARNING_OBJECT (self, "not connected and too much input waiting: "
        "dropped");
    input_free (in);
    return FALSE;
  }
  if (in->data)
    self->input_image_bytes += g_bytes_get_size (in->data);
  g_queue_push_tail (&self->inputs, in);
  return TRUE;
}

static void
gst_bidi_openai_provider_send_text (GstBidiProvider * provider,
    const gchar * text, const gchar * role)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (provider);
  Input *in;

  if (!self->started || self->state == STATE_CLOSED || !text || !*text)
    return;
  in = g_new0 (Input, 1);
  in->kind = INPUT_TEXT;
  in->text = g_strdup (text);
  in->role = g_strdup (role);
  send_or_queue_input (self, in);
}

static void
gst_bidi_openai_provider_send_image (GstBidiProvider * provider,
    GBytes * data, const gchar * mime)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (provider);
  const gchar *type;
  Input *in;

  if (!self->started || self->state == STATE_CLOSED || !data)
    return;
  if (g_strcmp0 (mime, "image/jpeg") == 0 || g_strcmp0 (mime, "image/jpg") == 0)
    type = "image/jpeg";
  else if (g_strcmp0 (mime, "image/png") == 0)
    type = "image/png";
  else
    type = NULL;
  if (!type || g_bytes_get_size (data) == 0 ||
      g_bytes_get_size (data) > MAX_IMAGE_SIZE) {
    gchar *msg = g_strdup_printf ("Image not sent to " SERVER_NAME ": %s",
        !type ? "only PNG and JPEG images are accepted" :
        "empty, or larger than 8 MiB");
    GST_WARNING_OBJECT (self, "%s (%s, %" G_GSIZE_FORMAT " bytes)", msg,
        GST_STR_NULL (mime), g_bytes_get_size (data));
    emit (self, gst_bidi_event_new_error (msg, "bad_image", NULL));
    g_free (msg);
    return;
  }

  in = g_new0 (Input, 1);
  in->kind = INPUT_IMAGE;
  in->data = g_bytes_ref (data);
  in->mime = g_strdup (type);
  send_or_queue_input (self, in);
}

static void
gst_bidi_openai_provider_send_tool_result (GstBidiProvider * provider,
    const gchar * tool_use_id, const gchar * name, const gchar * json,
    const gchar * status)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (provider);
  Call *c;

  if (!self->started || self->state == STATE_CLOSED || !tool_use_id)
    return;

  c = find_call (self, tool_use_id, NULL);
  if (!c) {
    /* a call we do not track (a restart since, or the history): give the
     * model the result and let it answer */
    GST_DEBUG_OBJECT (self, "result for an unknown call %s", tool_use_id);
    if (!(c = add_call (self, tool_use_id, name, NULL, NULL)))
      return;
    c->emitted = c->closed = c->respond = TRUE;
  }
  if (c->result) {
    GST_WARNING_OBJECT (self, "a second result for call %s: ignored",
        tool_use_id);
    return;
  }
  if (json && strlen (json) > MAX_ARGS_SIZE) {
    GST_WARNING_OBJECT (self, "result of %s is too large", tool_use_id);
    c->result = g_strdup ("{\"error\": \"the result was too large\"}");
  } else {
    c->result = make_valid (json ? json : "{}", MAX_ARGS_SIZE);
  }
  GST_DEBUG_OBJECT (self, "tool result for %s (%s): %s", tool_use_id,
      GST_STR_NULL (status), c->result);
  flush_calls (self);
  check_close (self);
}

/* Cuts the answer being played to @played_ms: the server's memory of it
 * (conversation.item.truncate) and the history. */
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
    if (item->heard_ms != G_MAXUINT64)
      continue;
    item->heard_ms = remaining;
    if (remaining > 0 && self->state == STATE_READY) {
      JsonObject *obj = client_event ("conversation.item.truncate");

      json_object_set_string_member (obj, "item_id", item->item_id);
      json_object_set_int_member (obj, "content_index", item->content_index);
      json_object_set_int_member (obj, "audio_end_ms", remaining);
      GST_INFO_OBJECT (self, "truncating %s to %" G_GUINT64_FORMAT " of %"
          G_GUINT64_FORMAT " ms", item->item_id, remaining, item_ms);
      send_object (self, obj);
    }
    if (item->transcript_done)
      out_item_update_history (self, item);
    remaining = 0;
  }
}

static void
gst_bidi_openai_provider_interrupt (GstBidiProvider * provider,
    guint64 played_ms)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (provider);
  Response *r = self->resp;
  gboolean server_cancels;

  if (!self->started || self->state == STATE_CLOSED || !r)
    return;
  GST_DEBUG_OBJECT (self, "interrupt after %" G_GUINT64_FORMAT " ms of %s",
      played_ms, GST_STR_NULL (r->id));

  /* the server's VAD cancels its own answer when the user speaks; else
   * the answer is cancelled here, unless it already ended */
  server_cancels = self->server_interrupting &&
      self->run->turn != TURN_NONE && self->run->interrupt_response;
  if (!r->done && !r->cancel_sent && !server_cancels &&
      self->state == STATE_READY) {
    JsonObject *obj = client_event ("response.cancel");

    if (r->id)
      json_object_set_string_member (obj, "response_id", r->id);
    r->cancel_sent = TRUE;
    GST_INFO_OBJECT (self, "cancelling response %s", GST_STR_NULL (r->id));
    send_object (self, obj);
  }
  truncate_response (self, r, played_ms);
}

static void
gst_bidi_openai_provider_end_input (GstBidiProvider * provider)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (provider);
  Input *in;

  /* not started, or stopped: nothing to finish, and no events */
  if (!self->started || self->end_input || self->state == STATE_CLOSED)
    return;
  self->end_input = TRUE;
  GST_INFO_OBJECT (self, "input ended");
  if (self->state == STATE_READY) {
    finish_input (self);
    return;
  }
  /* after what waits for the session */
  in = g_new0 (Input, 1);
  in->kind = INPUT_END;
  g_queue_push_tail (&self->inputs, in);
}

static void
gst_bidi_openai_provider_stop (GstBidiProvider * provider)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (provider);

  /* no events after this */
  self->started = FALSE;
  self->epoch++;
  self->state = STATE_IDLE;

  drop_ws (self, SOUP_WEBSOCKET_CLOSE_NORMAL);
  clear_timer (&self->setup_timer);
  clear_timer (&self->retry_timer);
  clear_timer (&self->age_timer);
  clear_timer (&self->settle_timer);
  clear_timer (&self->recheck_timer);

  g_queue_clear_full (&self->audio, (GDestroyNotify) g_bytes_unref);
  self->audio_bytes = 0;
  self->audio_dropping = FALSE;
  g_queue_clear_full (&self->inputs, (GDestroyNotify) input_free);
  self->input_image_bytes = 0;
  g_clear_pointer (&self->resp, response_free);
  g_ptr_array_set_size (self->calls, 0);
  g_ptr_array_set_size (self->history, 0);
  self->history_bytes = 0;
  g_hash_table_remove_all (self->user_transcripts);

  if (self->api_key) {
    explicit_bzero (self->api_key, strlen (self->api_key));
    g_clear_pointer (&self->api_key, g_free);
  }
  g_clear_object (&self->ca_database);
  g_clear_pointer (&self->ctx, g_main_context_unref);
  g_clear_pointer (&self->conn_id, g_free);
  g_clear_pointer (&self->restart_reason, g_free);
  g_clear_pointer (&self->last_failure, g_free);
  g_clear_pointer (&self->update_event_id, g_free);
  g_clear_pointer (&self->create_event_id, g_free);
  g_clear_pointer (&self->commit_event_id, g_free);
  settings_free (self->run);
  self->run = NULL;

  self->n_sessions = self->attempt = 0;
  self->renew = FALSE;
  self->n_bad_messages = 0;
  self->audio_since_commit = 0;
  self->user_speaking = self->end_input = self->input_finished = FALSE;
  self->settling = self->want_response = self->server_interrupting = FALSE;
  self->awaiting_until = 0;
}

static void
gst_bidi_openai_provider_finalize (GObject * object)
{
  GstBidiOpenAIProvider *self = GST_BIDI_OPENAI_PROVIDER (object);

  /* the element stops us first; this is the safety net */
  gst_bidi_openai_provider_stop (GST_BIDI_PROVIDER (self));
  g_ptr_array_unref (self->calls);
  g_ptr_array_unref (self->history);
  g_hash_table_unref (self->user_transcripts);
  g_hash_table_unref (self->unknown_types);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_bidi_openai_provider_class_init (GstBidiOpenAIProviderClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBidiProviderClass *provider_class = GST_BIDI_PROVIDER_CLASS (klass);

  gobject_class->finalize = gst_bidi_openai_provider_finalize;
  provider_class->configure =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_configure);
  provider_class->get_audio_formats =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_get_audio_formats);
  provider_class->start = GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_start);
  provider_class->send_audio =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_send_audio);
  provider_class->send_text =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_send_text);
  provider_class->send_image =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_send_image);
  provider_class->send_tool_result =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_send_tool_result);
  provider_class->interrupt =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_interrupt);
  provider_class->end_input =
      GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_end_input);
  provider_class->stop = GST_DEBUG_FUNCPTR (gst_bidi_openai_provider_stop);
}

static void
gst_bidi_openai_provider_init (GstBidiOpenAIProvider * self)
{
  g_queue_init (&self->audio);
  g_queue_init (&self->inputs);
  self->calls = g_ptr_array_new_with_free_func ((GDestroyNotify) call_free);
  self->history = g_ptr_array_new_with_free_func ((GDestroyNotify)
      hist_item_free);
  self->user_transcripts = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, (GDestroyNotify) string_free);
  self->unknown_types = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
}
