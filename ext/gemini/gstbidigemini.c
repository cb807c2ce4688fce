/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gstbidigemini
 * @title: gemini provider
 * @short_description: Gemini Live (BidiGenerateContent) over WebSocket
 *
 * Streams the user's audio (PCM 16 kHz mono) to a Gemini Live model and
 * turns its answers into unified events: spoken audio (PCM 24 kHz mono),
 * transcripts of both sides, interruptions, tool calls and usage.
 *
 * Endpoint: the Developer API's v1beta BidiGenerateContent method,
 * `wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent`;
 * the element's `url` replaces it (plain `ws://` for loopback hosts
 * only). The key is the element's `api-key`, else `GEMINI_API_KEY`, else
 * `GOOGLE_API_KEY`; it only ever goes into the `x-goog-api-key` header,
 * never into the URL, where proxies log it. The model is `gemini-3.8-live`
 * unless the element's `model` names another (`gemini-3.1-flash-live-preview`,
 * `gemini-2.5-flash-native-audio-...`).
 *
 * The setup message comes from the element's settings: `system-prompt`
 * (at most 256 KiB) as the system instruction, `voice` (a prebuilt voice
 * such as Puck, Kore or Charon; the server's default when not set), the
 * tools as function declarations, audio answers with the transcription of
 * both sides, the server's activity detection, session resumption and
 * context window compression (so that a session is not cut after 15
 * minutes). Nothing is sent before the server's `setupComplete`: the input
 * waits. Fields the 3.x models refuse (affective dialog, thinking config,
 * proactive audio off) are never sent to them, not even from `setup`.
 *
 * provider-config fields:
 *
 * * `response-modality` (string, `audio`): `audio`, or `text` for written
 *   answers
 * * `language-code` (string, not set): the answer's language (BCP-47)
 * * `turn-detection` (string, `auto`): `auto` (the server detects the
 *   user's turns) or `none` (push-to-talk: the whole input until its end
 *   is one turn, sent between activityStart and activityEnd)
 * * `start-sensitivity`, `end-sensitivity` (strings, not set = the
 *   server's): `high` or `low`; `prefix-padding-ms`, `silence-duration-ms`
 *   (ints, not set): the activity detection's settings
 * * `activity-handling` (string, not set = `interrupt`): `interrupt` (the
 *   user's speech interrupts the answer) or `no-interruption`
 * * `turn-coverage` (string, not set): `only-activity`, `all-input` or
 *   `audio-activity-and-all-video`
 * * `input-transcription`, `output-transcription` (booleans, TRUE)
 * * `session-resumption` (boolean, TRUE): reconnect into the same session
 * * `session-lifetime-s` (int, 3000): a session resumed across connections
 *   is started afresh, with the conversation replayed, at the first
 *   reconnection after this long (sessions are reported cut with 1011 at 58
 *   minutes, and resuming them then fails); 0: never
 * * `context-compression` (boolean, TRUE), `compression-trigger-tokens`,
 *   `compression-target-tokens` (ints, not set = the server's)
 * * `temperature` (double, not set), `max-output-tokens` (int, not set),
 *   `media-resolution` (string, not set: `low`, `medium` or `high`)
 * * `tool-behavior` (string, not set = the model's: non-blocking on 3.8):
 *   `blocking` or `non-blocking`, for every tool, or a list such as
 *   `"non-blocking,get_time=blocking"` (a bare mode is the default, and
 *   `name=mode` sets one tool)
 * * `tool-scheduling` (string, not set = the server's, when-idle): how the
 *   model takes a non-blocking tool's result: `silent` (into its context,
 *   nothing said), `when-idle` (it speaks of it when idle) or `interrupt`
 *   (now), for every tool or in a list as for `tool-behavior`
 * * `setup` (string): a JSON object merged into the setup message last
 *   (objects merged member by member, a null removes a member): any field
 *   of the protocol, e.g. `{"realtimeInputConfig": {"turnCoverage":
 *   "TURN_INCLUDES_ALL_INPUT"}}`
 * * `api-version` (string, `v1beta`): `v1beta` or `v1alpha` (the default
 *   endpoint's version)
 * * `reconnect-attempts`, `reconnect-delay-ms`, `max-session-s` (int, 540:
 *   the connection is renewed at the first pause after 9 minutes, before
 *   the service's own cut), `connect-timeout-ms`, `keepalive-s`,
 *   `max-message-size`, `stall-timeout-ms`, `reconnect-reset-ms`: the
 *   transport settings of every realtime provider, see
 *   #GstBidiRealtimeProvider
 *
 * Answers: the first content of a turn (audio, or the transcript of what
 * is said) starts a response (`bidi_response_start`); `turnComplete`
 * completes it, `interrupted` ends it as interrupted, a tool call as
 * tool_use. Transcripts come as partial events as the server sends them
 * and become final at the turn's end (the user's when the answer starts),
 * since the server's `finished` flag is not reliable. Thoughts are neither
 * spoken nor shown. Every part of a message is handled, not only the
 * first.
 *
 * Tools: each call becomes `tool_use_stream`; the result goes back with
 * the call's id and name (a failure as `error`, an empty result as a
 * sentence saying so: the model retries calls whose result tells it
 * nothing). The model may keep talking while a non-blocking tool runs.
 * `toolCallCancellation` withdraws a call: `tool_cancel` is posted and a
 * result that comes later is dropped.
 *
 * Interruption: the server stops its answer when the user speaks
 * (`interrupted`): `bidi_interruption`, the element flushes. Gemini has no
 * truncate message; the element's history keeps what was heard.
 *
 * Reconnecting: the server's `sessionResumptionUpdate` handles are kept;
 * on `goAway`, after `max-session-s`, or when the connection drops, the
 * provider reconnects at a pause with the latest handle (the server
 * restores the conversation: nothing is replayed), posted as
 * `bidi_connection_restart`. Without a handle, or when the server refuses
 * it (close code 1007), the conversation is replayed as clientContent
 * turns into a new session. Close codes: 1007 (invalid argument: a bad
 * key is a NOT_AUTHORIZED error) and 1008 (policy: e.g. an unknown model)
 * end the run with the server's reason; 1011 (internal error, the service
 * unavailable) and others reconnect.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <json-glib/json-glib.h>

#include <gst/bidi/gstbidievents.h>
#include <gst/bidi/gstbidihistory.h>
#include <gst/bidi/gstbiditools.h>

#include "gstbidigemini.h"
#include "gstbidigeminiprivate.h"
#include "gstbidirealtime.h"

GST_DEBUG_CATEGORY (bidi_gemini_debug);
#define GST_CAT_DEFAULT bidi_gemini_debug

#define SERVER_NAME "Gemini Live"
#define DEFAULT_MAX_SESSION_S 540

#define IN_RATE 16000
#define OUT_RATE 24000
#define IN_BYTES_PER_MS (IN_RATE * 2 / 1000)
#define OUT_BYTES_PER_MS (OUT_RATE * 2 / 1000)
#define AUDIO_IN_MIME "audio/pcm;rate=16000"

/* Bounds */
#define MAX_IMAGE_SIZE (7 * 1024 * 1024)
#define MAX_HANDLE_SIZE 4096
#define MAX_UNKNOWN_FIELDS 64
#define MAX_CALL_NAMES 64
/* after a question was sent, how long a missing answer may hold the end
 * of the session or a renewal */
#define AWAIT_REPLY_MS 15000
/* after the end of the input: the server's detection ends the turn in
 * progress within its silence duration; this much longer is waited for an
 * answer to start */
#define END_SETTLE_MS 2500
/* after an interruption, what still comes of the answer that was cut is
 * dropped until the turn's end, or this long */
#define CUT_STRAGGLERS_MS 1000

typedef enum
{
  TURN_IDLE,
  TURN_ACTIVE,                  /* the model answers: response started */
  TURN_CUT                      /* interrupted; its turnComplete not seen */
} TurnState;

/* A tool call of the model, until its result is sent */
typedef struct
{
  gchar *name;
  guint conn;                   /* the connection it came on */
} CallInfo;

struct _GstBidiGeminiProvider
{
  GstBidiRealtimeProvider parent;

  /* network thread only: made by start, freed by stop */
  Settings *run;
  gchar *handle;                /* the latest resumption handle */
  gint64 session_start;         /* monotonic: the session (resumed across
                                 * connections) began */

  /* network thread only */
  guint conn_seq;               /* connections opened since start */
  gboolean setup_done;          /* setupComplete seen on this connection */
  gboolean resumed;             /* this connection resumed with a handle */
  gboolean sent_handle;         /* its setup carried a handle */
  gchar *history_msg;           /* clientContent sent after setupComplete */
  GHashTable *unknown_fields;   /* warned about once */
  GHashTable *calls;            /* call id -> CallInfo */
  guint call_group;

  /* input */
  gboolean activity_open;       /* manual: activityStart sent */
  gboolean user_speaking;       /* voiceActivity */
  gboolean settling;
  GSource *settle_timer;
  gint64 reply_due_until;       /* monotonic; 0: no reply expected */

  /* output */
  TurnState turn;
  gint64 cut_at;                /* monotonic time of the interruption */
  guint turn_seq;
  gchar *turn_id;
  GString *user_text;
  gboolean user_open;
  GString *answer_text;
};

#define gst_bidi_gemini_provider_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstBidiGeminiProvider, gst_bidi_gemini_provider,
    GST_TYPE_BIDI_REALTIME_PROVIDER,
    GST_DEBUG_CATEGORY_INIT (bidi_gemini_debug, "bidigemini", 0,
        "bidiagent Gemini Live provider"));

#define BASE(self) GST_BIDI_REALTIME_PROVIDER (self)

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

static gboolean
emit (GstBidiGeminiProvider * self, GstStructure * event)
{
  return gst_bidi_realtime_provider_emit (BASE (self), event);
}

static void
report_bad_message (GstBidiGeminiProvider * self, const gchar * message)
{
  gst_bidi_realtime_provider_report_bad_message (BASE (self), message);
}

static gchar *
clean (GstBidiGeminiProvider * self, const gchar * text)
{
  return gst_bidi_realtime_provider_clean (BASE (self), text,
      text ? strlen (text) : 0);
}

/* {@field: @value} as one client message */
static gboolean
send_message (GstBidiGeminiProvider * self, const gchar * field,
    JsonObject * value)
{
  JsonObject *msg = json_object_new ();

  json_object_set_object_member (msg, field, value);
  return gst_bidi_realtime_provider_send_object (BASE (self), msg);
}

static void
call_info_free (CallInfo * info)
{
  g_free (info->name);
  g_free (info);
}

/* Whether @node says nothing: null, "", blank, [] or {} */
static gboolean
json_is_empty (JsonNode * node)
{
  if (!node || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_ARRAY (node))
    return json_array_get_length (json_node_get_array (node)) == 0;
  if (JSON_NODE_HOLDS_OBJECT (node))
    return json_object_get_size (json_node_get_object (node)) == 0;
  if (json_node_get_value_type (node) == G_TYPE_STRING)
    return gst_bidi_realtime_is_blank (json_node_get_string (node));
  return FALSE;
}

/* ------------------------------------------------------------------------
 * Turns: what the model says, and the user's words
 * ------------------------------------------------------------------------ */

static void
expect_reply (GstBidiGeminiProvider * self)
{
  self->reply_due_until = g_get_monotonic_time () +
      AWAIT_REPLY_MS * G_TIME_SPAN_MILLISECOND;
}

static gboolean
reply_due (GstBidiGeminiProvider * self)
{
  return self->reply_due_until &&
      g_get_monotonic_time () < self->reply_due_until;
}

/* The user's words so far become final (the answer starts, or the turn
 * ended) */
static gboolean
user_finish (GstBidiGeminiProvider * self)
{
  gchar *text;
  gboolean alive;

  if (!self->user_open)
    return TRUE;
  self->user_open = FALSE;
  text = g_strstrip (g_strdup (self->user_text->str));
  g_string_truncate (self->user_text, 0);
  if (!*text) {
    g_free (text);
    return TRUE;
  }
  GST_DEBUG_OBJECT (self, "user said: %s", text);
  alive = emit (self, gst_bidi_event_new_transcript ("user", text, TRUE,
          text));
  g_free (text);
  return alive;
}

static gboolean
user_fragment (GstBidiGeminiProvider * self, const gchar * fragment)
{
  gchar *text;
  gboolean alive;

  if (!fragment || gst_bidi_realtime_is_blank (fragment))
    return TRUE;
  text = gst_bidi_realtime_make_valid (fragment, MAX_TEXT_SIZE);
  if (!self->user_open) {
    self->user_open = TRUE;
    g_string_truncate (self->user_text, 0);
  }
  if (self->user_text->len + strlen (text) <= MAX_TEXT_SIZE)
    g_string_append (self->user_text, text);
  alive = emit (self, gst_bidi_event_new_transcript ("user", text, FALSE,
          self->user_text->str));
  g_free (text);
  return alive;
}

/* What still comes of an answer that was cut is dropped until its turn
 * ends; a server that never says so is given CUT_STRAGGLERS_MS */
static gboolean
in_cut_answer (GstBidiGeminiProvider * self)
{
  if (self->turn != TURN_CUT)
    return FALSE;
  if (g_get_monotonic_time () - self->cut_at <
      CUT_STRAGGLERS_MS * G_TIME_SPAN_MILLISECOND)
    return TRUE;
  self->turn = TURN_IDLE;
  return FALSE;
}

/* The model's answer starts (if it has not) */
static gboolean
turn_begin (GstBidiGeminiProvider * self)
{
  if (self->turn == TURN_ACTIVE)
    return TRUE;
  /* the user's words are over once the model speaks */
  if (!user_finish (self))
    return FALSE;
  self->turn = TURN_ACTIVE;
  self->reply_due_until = 0;
  g_free (self->turn_id);
  self->turn_id = g_strdup_printf ("turn_%u", ++self->turn_seq);
  g_string_truncate (self->answer_text, 0);
  GST_DEBUG_OBJECT (self, "answer %s started", self->turn_id);
  return emit (self, gst_bidi_event_new_response_start (self->turn_id));
}

static gboolean
answer_fragment (GstBidiGeminiProvider * self, const gchar * fragment)
{
  gchar *text;
  gboolean alive;

  if (!fragment || !*fragment)
    return TRUE;
  if (in_cut_answer (self)) {
    GST_DEBUG_OBJECT (self, "dropping words of the answer that was cut");
    return TRUE;
  }
  if (!turn_begin (self))
    return FALSE;
  text = gst_bidi_realtime_make_valid (fragment, MAX_TEXT_SIZE);
  if (self->answer_text->len + strlen (text) <= MAX_TEXT_SIZE)
    g_string_append (self->answer_text, text);
  alive = emit (self, gst_bidi_event_new_transcript ("assistant", text,
          FALSE, self->answer_text->str));
  g_free (text);
  return alive;
}

/* The answer ends: its words become final, then bidi_response_complete */
static gboolean
turn_end (GstBidiGeminiProvider * self, const gchar * stop_reason)
{
  gchar *text, *id;
  gboolean alive = TRUE;

  if (self->turn != TURN_ACTIVE)
    return TRUE;
  self->turn = strcmp (stop_reason, "interrupted") == 0 ? TURN_CUT :
      TURN_IDLE;
  self->cut_at = g_get_monotonic_time ();
  text = g_strstrip (g_strdup (self->answer_text->str));
  g_string_truncate (self->answer_text, 0);
  if (*text) {
    GST_DEBUG_OBJECT (self, "assistant said: %s", text);
    alive = emit (self, gst_bidi_event_new_transcript ("assistant", text,
            TRUE, text));
  }
  g_free (text);
  if (!alive)
    return FALSE;
  GST_DEBUG_OBJECT (self, "answer %s done: %s", self->turn_id, stop_reason);
  id = g_strdup (self->turn_id);
  alive = emit (self, gst_bidi_event_new_response_complete (id,
          stop_reason));
  g_free (id);
  return alive;
}

/* ------------------------------------------------------------------------
 * Server messages
 * ------------------------------------------------------------------------ */

static void
on_setup_complete (GstBidiGeminiProvider * self, JsonObject * sc)
{
  const gchar *session_id = gst_bidi_json_get_string (sc, "sessionId");
  gchar *history;

  if (self->setup_done) {
    GST_DEBUG_OBJECT (self, "a second setupComplete: ignored");
    return;
  }
  self->setup_done = TRUE;
  if (!self->resumed)
    self->session_start = g_get_monotonic_time ();
  GST_INFO_OBJECT (self, "session ready (%s%s%s%s)", self->run->model,
      self->resumed ? ", resumed" : "", session_id ? ", " : "",
      session_id ? session_id : "");
  /* the conversation first, then what waited (the base sends it) */
  history = g_steal_pointer (&self->history_msg);
  if (history)
    gst_bidi_realtime_provider_send_json_text (BASE (self), history);
  g_free (history);
  gst_bidi_realtime_provider_session_ready (BASE (self), self->run->model);
}

/* "audio/pcm;rate=24000" (or without a rate: the protocol's output) */
static gboolean
is_output_audio (const gchar * mime)
{
  const gchar *rate;

  if (!g_str_has_prefix (mime, "audio/pcm"))
    return FALSE;
  rate = strstr (mime, "rate=");
  return !rate || atoi (rate + 5) == OUT_RATE;
}

static gboolean
on_inline_audio (GstBidiGeminiProvider * self, JsonObject * blob)
{
  const gchar *mime = gst_bidi_json_get_string (blob, "mimeType");
  const gchar *data = gst_bidi_json_get_string (blob, "data");
  GError *err = NULL;
  GBytes *pcm;
  gchar *msg;

  if (!mime || !is_output_audio (mime)) {
    gchar *what = clean (self, mime ? mime : "no type");
    msg = g_strdup_printf (SERVER_NAME " sent output of type \"%s\", not "
        "24 kHz PCM; ignored", what);
    g_free (what);
    goto bad;
  }
  if (!data) {
    msg = g_strdup (SERVER_NAME " sent audio without data; ignored");
    goto bad;
  }
  pcm = gst_bidi_base64_decode (data, -1, 2,
      gst_bidi_realtime_provider_get_max_message_size (BASE (self)), &err);
  if (!pcm) {
    msg = g_strdup_printf (SERVER_NAME " sent audio that was ignored: %s",
        err->message);
    g_error_free (err);
    goto bad;
  }
  if (g_bytes_get_size (pcm) > 0) {
    if (in_cut_answer (self)) {
      GST_LOG_OBJECT (self, "dropping audio of the answer that was cut");
    } else if (turn_begin (self)) {
      GST_LOG_OBJECT (self, "audio: %" G_GSIZE_FORMAT " bytes",
          g_bytes_get_size (pcm));
      gst_bidi_realtime_provider_emit_audio (BASE (self), pcm);
    } else {
      g_bytes_unref (pcm);
      return FALSE;
    }
  }
  g_bytes_unref (pcm);
  return TRUE;

bad:
  report_bad_message (self, msg);
  g_free (msg);
  return TRUE;
}

/* serverContent.modelTurn: every part (audio, text, thoughts) */
static gboolean
on_model_turn (GstBidiGeminiProvider * self, JsonObject * turn)
{
  JsonNode *parts_node = json_object_get_member (turn, "parts");
  JsonArray *parts;
  guint i;

  if (!parts_node || !JSON_NODE_HOLDS_ARRAY (parts_node))
    return TRUE;
  parts = json_node_get_array (parts_node);
  for (i = 0; i < json_array_get_length (parts); i++) {
    JsonNode *n = json_array_get_element (parts, i);
    JsonObject *part = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) :
        NULL;
    JsonObject *blob = gst_bidi_json_get_object (part, "inlineData");
    const gchar *text = gst_bidi_json_get_string (part, "text");

    if (!part)
      continue;
    if (gst_bidi_json_get_boolean (part, "thought", FALSE)) {
      GST_LOG_OBJECT (self, "a thought: not spoken, not shown");
      continue;
    }
    if (blob && !on_inline_audio (self, blob))
      return FALSE;
    /* written answers; with audio, the transcription says what is spoken */
    if (text && (self->run->text_only || !self->run->output_transcription) &&
        !answer_fragment (self, text))
      return FALSE;
  }
  return TRUE;
}

static gboolean
on_interrupted (GstBidiGeminiProvider * self)
{
  gchar *id = g_strdup (self->turn_id);
  gboolean alive;

  GST_DEBUG_OBJECT (self, "the server stopped the answer: the user spoke");
  /* the element flushes what plays, even an answer already complete here
   * (the server sends audio faster than it plays) */
  alive = emit (self, gst_bidi_event_new_interruption ("user_speech", id));
  g_free (id);
  return alive && turn_end (self, "interrupted");
}

static gboolean
on_turn_complete (GstBidiGeminiProvider * self, JsonObject * content)
{
  const gchar *reason = gst_bidi_json_get_string (content,
      "turnCompleteReason");

  if (reason && strcmp (reason, "TURN_COMPLETE_REASON_UNSPECIFIED") != 0) {
    gchar *why = clean (self, reason);
    GST_WARNING_OBJECT (self, "the turn ended: %s", why);
    g_free (why);
  }
  if (self->turn == TURN_CUT)
    self->turn = TURN_IDLE;
  if (!user_finish (self) || !turn_end (self, "complete"))
    return FALSE;
  self->reply_due_until = 0;
  return TRUE;
}

static const gchar *
transcription_text (JsonObject * content, const gchar * field)
{
  return gst_bidi_json_get_string (gst_bidi_json_get_object (content, field),
      "text");
}

/* The words and audio of serverContent; its end markers come after the
 * message's other parts (on_server_content_end) */
static gboolean
on_server_content (GstBidiGeminiProvider * self, JsonObject * content)
{
  JsonObject *turn = gst_bidi_json_get_object (content, "modelTurn");

  if (!user_fragment (self, transcription_text (content,
              "inputTranscription")))
    return FALSE;
  if (turn && !on_model_turn (self, turn))
    return FALSE;
  return answer_fragment (self, transcription_text (content,
          "outputTranscription"));
}

static gboolean
on_server_content_end (GstBidiGeminiProvider * self, JsonObject * content)
{
  gboolean done = FALSE;

  if (gst_bidi_json_get_boolean (content, "interrupted", FALSE) &&
      !on_interrupted (self))
    return FALSE;
  if (gst_bidi_json_get_boolean (content, "generationComplete", FALSE))
    GST_DEBUG_OBJECT (self, "generation complete");
  if (gst_bidi_json_get_boolean (content, "turnComplete", FALSE)) {
    if (!on_turn_complete (self, content))
      return FALSE;
    done = TRUE;
  }
  if (done)
    gst_bidi_realtime_provider_check_idle (BASE (self));
  return TRUE;
}

/* toolCall: each call is announced (tool_use_stream); its result may go
 * back at once, since the model does not wait for its answer to end */
static gboolean
on_tool_call (GstBidiGeminiProvider * self, JsonObject * tc)
{
  GstBidiRealtimeProvider *base = BASE (self);
  JsonNode *calls_node = json_object_get_member (tc, "functionCalls");
  JsonArray *calls;
  gchar *group;
  guint i, n;

  if (!calls_node || !JSON_NODE_HOLDS_ARRAY (calls_node)) {
    report_bad_message (self, SERVER_NAME " sent a tool call without "
        "functionCalls; ignored");
    return TRUE;
  }
  /* the answer so far is complete: it asked for tools */
  if (!turn_begin (self) || !turn_end (self, "tool_use"))
    return FALSE;
  self->reply_due_until = 0;

  calls = json_node_get_array (calls_node);
  n = json_array_get_length (calls);
  group = g_strdup_printf ("calls_%u", ++self->call_group);
  for (i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element (calls, i);
    JsonObject *call = JSON_NODE_HOLDS_OBJECT (node) ?
        json_node_get_object (node) : NULL;
    const gchar *id = gst_bidi_json_get_string (call, "id");
    const gchar *name = gst_bidi_json_get_string (call, "name");
    CallInfo *info;

    if (!id || !*id || !name || !*name) {
      report_bad_message (self, SERVER_NAME " sent a tool call without an "
          "id or a name; ignored");
      continue;
    }
    if (g_hash_table_contains (self->calls, id) ||
        g_hash_table_size (self->calls) >= MAX_CALL_NAMES ||
        !gst_bidi_realtime_provider_call_add (base, id, name, NULL, group))
      continue;
    info = g_new0 (CallInfo, 1);
    info->name = gst_bidi_realtime_make_valid (name, 256);
    info->conn = self->conn_seq;
    g_hash_table_insert (self->calls, g_strdup (id), info);
  }
  gst_bidi_realtime_provider_calls_close (base, group, TRUE);
  for (i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element (calls, i);
    JsonObject *call = JSON_NODE_HOLDS_OBJECT (node) ?
        json_node_get_object (node) : NULL;
    const gchar *id = gst_bidi_json_get_string (call, "id");
    JsonNode *args = call ? json_object_get_member (call, "args") : NULL;
    gchar *args_text = NULL;

    if (!id || !g_hash_table_contains (self->calls, id))
      continue;
    if (args && JSON_NODE_HOLDS_OBJECT (args))
      args_text = gst_bidi_json_to_string (args);
    else if (args && !JSON_NODE_HOLDS_NULL (args))
      args_text = g_strdup ("not an object");   /* refused by the base */
    gst_bidi_realtime_provider_call_ready (base, id, NULL, args_text ?
        args_text : "{}");
    g_free (args_text);
    /* the element may have stopped us from inside */
    if (!self->run) {
      g_free (group);
      return FALSE;
    }
  }
  g_free (group);
  gst_bidi_realtime_provider_flush_calls (base);
  return self->run != NULL;
}

static void
on_tool_cancel (GstBidiGeminiProvider * self, JsonObject * tcc)
{
  JsonNode *ids_node = json_object_get_member (tcc, "ids");
  JsonArray *ids;
  guint i;

  if (!ids_node || !JSON_NODE_HOLDS_ARRAY (ids_node))
    return;
  ids = json_node_get_array (ids_node);
  for (i = 0; i < json_array_get_length (ids) && self->run; i++) {
    JsonNode *n = json_array_get_element (ids, i);
    const gchar *id = JSON_NODE_HOLDS_VALUE (n) &&
        json_node_get_value_type (n) == G_TYPE_STRING ?
        json_node_get_string (n) : NULL;

    if (!id)
      continue;
    g_hash_table_remove (self->calls, id);
    gst_bidi_realtime_provider_call_cancel (BASE (self), id);
  }
  if (self->run)
    gst_bidi_realtime_provider_check_idle (BASE (self));
}

static gint
usage_count (JsonObject * obj, const gchar * name)
{
  return (gint) CLAMP (gst_bidi_json_get_int (obj, name, 0), 0, G_MAXINT);
}

/* The modalities of @details ([{modality, tokenCount}]) into @counts:
 * modality (lower case) -> counts[2] (input, output) */
static void
add_details (GHashTable * counts, JsonObject * usage, const gchar * field,
    guint which, GPtrArray * order)
{
  JsonNode *node = json_object_get_member (usage, field);
  JsonArray *a;
  guint i;

  if (!node || !JSON_NODE_HOLDS_ARRAY (node))
    return;
  a = json_node_get_array (node);
  for (i = 0; i < json_array_get_length (a) && i < 16; i++) {
    JsonNode *n = json_array_get_element (a, i);
    JsonObject *d = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) :
        NULL;
    const gchar *modality = gst_bidi_json_get_string (d, "modality");
    gint *c;
    gchar *key;

    if (!modality || !*modality || strlen (modality) > 32)
      continue;
    key = g_ascii_strdown (modality, -1);
    if (!(c = g_hash_table_lookup (counts, key))) {
      c = g_new0 (gint, 2);
      g_hash_table_insert (counts, key, c);
      g_ptr_array_add (order, key);
    } else {
      g_free (key);
    }
    c[which] = usage_count (d, "tokenCount");
  }
}

static gboolean
on_usage (GstBidiGeminiProvider * self, JsonObject * usage)
{
  GHashTable *counts = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, g_free);
  GPtrArray *order = g_ptr_array_new ();
  GstStructure *ev;
  guint i;

  ev = gst_bidi_event_new_usage (usage_count (usage, "promptTokenCount"),
      usage_count (usage, "responseTokenCount"), usage_count (usage,
          "totalTokenCount"));
  add_details (counts, usage, "promptTokensDetails", 0, order);
  add_details (counts, usage, "responseTokensDetails", 1, order);
  for (i = 0; i < order->len; i++) {
    const gchar *modality = g_ptr_array_index (order, i);
    gint *c = g_hash_table_lookup (counts, modality);

    gst_bidi_event_usage_add_modality (ev, modality, c[0], c[1]);
  }
  if (json_object_has_member (usage, "cachedContentTokenCount"))
    gst_structure_set (ev, "cacheReadInputTokens", G_TYPE_INT,
        usage_count (usage, "cachedContentTokenCount"), NULL);
  g_ptr_array_unref (order);
  g_hash_table_unref (counts);
  return emit (self, ev);
}

static void
on_resumption_update (GstBidiGeminiProvider * self, JsonObject * update)
{
  const gchar *handle = gst_bidi_json_get_string (update, "newHandle");

  if (!gst_bidi_json_get_boolean (update, "resumable", FALSE) || !handle ||
      !*handle)
    return;
  if (strlen (handle) > MAX_HANDLE_SIZE ||
      !gst_bidi_realtime_header_value_ok (handle)) {
    report_bad_message (self, SERVER_NAME " sent a malformed session "
        "resumption handle; ignored");
    return;
  }
  GST_DEBUG_OBJECT (self, "new session resumption handle");
  g_free (self->handle);
  self->handle = g_strdup (handle);
}

static void
on_go_away (GstBidiGeminiProvider * self, JsonObject * go_away)
{
  gchar *left = clean (self, gst_bidi_json_get_string (go_away, "timeLeft"));

  GST_INFO_OBJECT (self, "the server will close the connection in %s",
      *left ? left : "a moment");
  g_free (left);
  gst_bidi_realtime_provider_request_renew (BASE (self), "timeout");
}

static void
on_voice_activity (GstBidiGeminiProvider * self, JsonObject * activity)
{
  const gchar *type = gst_bidi_json_get_string (activity,
      "voiceActivityType");

  /* the server's VAD, when it tells: dated when it came (its audioOffset
   * is not documented well enough to count back from) */
  if (g_strcmp0 (type, "ACTIVITY_START") == 0) {
    self->user_speaking = TRUE;
    emit (self, gst_bidi_event_new_user_state ("speaking", 0));
  } else if (g_strcmp0 (type, "ACTIVITY_END") == 0) {
    self->user_speaking = FALSE;
    if (!emit (self, gst_bidi_event_new_user_state ("listening", 0)) ||
        !emit (self, gst_bidi_event_new_agent_state ("thinking", 0)))
      return;
    expect_reply (self);
    gst_bidi_realtime_provider_check_idle (BASE (self));
  }
}

/* The message's fields that are known; any other is warned about once */
static const gchar *const known_fields[] = {
  "setupComplete", "serverContent", "toolCall", "toolCallCancellation",
  "usageMetadata", "goAway", "sessionResumptionUpdate", "voiceActivity",
  "voiceActivityDetectionSignal", NULL
};

static void
warn_unknown_fields (GstBidiGeminiProvider * self, JsonObject * msg)
{
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *node;

  json_object_iter_init (&iter, msg);
  while (json_object_iter_next (&iter, &name, &node)) {
    gchar *safe;

    if (g_strv_contains (known_fields, name))
      continue;
    safe = clean (self, name);
    if (g_hash_table_contains (self->unknown_fields, safe) ||
        g_hash_table_size (self->unknown_fields) >= MAX_UNKNOWN_FIELDS) {
      GST_DEBUG_OBJECT (self, "ignoring unknown server field %s", safe);
      g_free (safe);
    } else {
      GST_WARNING_OBJECT (self, "ignoring unknown server field %s (newer "
          "protocol?)", safe);
      g_hash_table_add (self->unknown_fields, safe);
    }
  }
}

/* One server message: every part of it, in the order that keeps the
 * events in sense (words and audio, calls, usage, then the turn's end and
 * what concerns the connection) */
static void
gst_bidi_gemini_provider_handle_message (GstBidiRealtimeProvider * base,
    JsonObject * msg, const gchar * json, gsize len)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);
  JsonObject *content = gst_bidi_json_get_object (msg, "serverContent");
  JsonObject *part;

  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_TRACE &&
      !(content && json_object_has_member (content, "modelTurn"))) {
    gchar *text = gst_bidi_realtime_provider_clean (base, json, len);
    GST_TRACE_OBJECT (self, "received %s", text);
    g_free (text);
  } else {
    GST_LOG_OBJECT (self, "received %" G_GSIZE_FORMAT " bytes", len);
  }
  warn_unknown_fields (self, msg);

  if ((part = gst_bidi_json_get_object (msg, "setupComplete")) ||
      json_object_has_member (msg, "setupComplete"))
    on_setup_complete (self, part);
  if (!self->run)
    return;
  if (content && !on_server_content (self, content))
    return;
  if ((part = gst_bidi_json_get_object (msg, "toolCall")) &&
      !on_tool_call (self, part))
    return;
  if ((part = gst_bidi_json_get_object (msg, "usageMetadata")) &&
      !on_usage (self, part))
    return;
  if (content && !on_server_content_end (self, content))
    return;
  if ((part = gst_bidi_json_get_object (msg, "toolCallCancellation")))
    on_tool_cancel (self, part);
  if (!self->run)
    return;
  if ((part = gst_bidi_json_get_object (msg, "voiceActivity")))
    on_voice_activity (self, part);
  if ((part = gst_bidi_json_get_object (msg, "sessionResumptionUpdate")))
    on_resumption_update (self, part);
  if ((part = gst_bidi_json_get_object (msg, "goAway")))
    on_go_away (self, part);
}

/* ------------------------------------------------------------------------
 * GstBidiRealtimeProvider vfuncs
 * ------------------------------------------------------------------------ */

static gchar *
gst_bidi_gemini_provider_parse_settings (GstBidiRealtimeProvider * base,
    const GstBidiProviderConfig * config, gboolean keep, GError ** error)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);
  Settings *s;
  gchar *url;

  if (!(s = gst_bidi_gemini_settings_parse (config, &url, error)))
    return NULL;
  if (!keep) {
    gst_bidi_gemini_settings_free (s);
    return url;
  }
  gst_bidi_gemini_settings_free (self->run);
  self->run = s;
  GST_INFO_OBJECT (self, "model %s, voice %s, turn detection %s, %u tools",
      s->model, s->voice ? s->voice : "(the server's)", s->manual ? "none" :
      "auto", s->declarations ? json_array_get_length (s->declarations) : 0);
  return url;
}

static void
gst_bidi_gemini_provider_get_headers (G_GNUC_UNUSED GstBidiRealtimeProvider
    * base, const gchar * api_key, GPtrArray * headers)
{
  g_ptr_array_add (headers, g_strdup ("x-goog-api-key"));
  g_ptr_array_add (headers, g_strdup (api_key));
}

static void
gst_bidi_gemini_provider_open (GstBidiRealtimeProvider * base)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);

  self->conn_seq++;
  self->setup_done = FALSE;
  /* a session near the service's limit is not resumed: a new one gets the
   * conversation */
  if (self->handle && self->run->session_lifetime_s > 0 &&
      g_get_monotonic_time () - self->session_start >=
      (gint64) self->run->session_lifetime_s * G_TIME_SPAN_SECOND) {
    GST_INFO_OBJECT (self, "the session is %d s old: starting a new one",
        self->run->session_lifetime_s);
    g_clear_pointer (&self->handle, g_free);
  }
  self->sent_handle = self->resumed = self->handle != NULL &&
      self->run->resumption;
  if (self->resumed)
    GST_INFO_OBJECT (self, "resuming the session");
  send_message (self, "setup", gst_bidi_gemini_build_setup (G_OBJECT (self),
          self->run, self->handle));
}

static void
gst_bidi_gemini_provider_send_history (GstBidiRealtimeProvider * base,
    GPtrArray * messages)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);

  /* a resumed session has its conversation */
  if (self->resumed)
    return;
  /* nothing goes before setupComplete */
  g_free (self->history_msg);
  self->history_msg = gst_bidi_gemini_build_history (G_OBJECT (self), messages);
}

static void
gst_bidi_gemini_provider_send_audio (GstBidiRealtimeProvider * base,
    GBytes * pcm, G_GNUC_UNUSED gint64 arrived_us)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);
  gsize size;
  const guint8 *data = g_bytes_get_data (pcm, &size);
  gchar *b64, *text;

  if (size == 0)
    return;
  if (self->run->manual && !self->activity_open) {
    /* push-to-talk: the input is one turn */
    gst_bidi_realtime_provider_send_json_text (base,
        "{\"realtimeInput\":{\"activityStart\":{}}}");
    self->activity_open = TRUE;
  }
  b64 = g_base64_encode (data, size);
  /* base64 needs no JSON escaping */
  text = g_strconcat ("{\"realtimeInput\":{\"audio\":{\"mimeType\":\""
      AUDIO_IN_MIME "\",\"data\":\"", b64, "\"}}}", NULL);
  gst_bidi_realtime_provider_send_json_text (base, text);
  g_free (text);
  g_free (b64);
}

static void
gst_bidi_gemini_provider_send_text (GstBidiRealtimeProvider * base,
    const gchar * text, const gchar * role)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);
  gchar *valid = gst_bidi_realtime_make_valid (text, MAX_TEXT_SIZE);
  JsonObject *cc = json_object_new ();
  JsonArray *turns = json_array_new ();
  gboolean ask = g_strcmp0 (role, "assistant") != 0 &&
      g_strcmp0 (role, "system") != 0;

  GST_DEBUG_OBJECT (self, "%s text: %s", ask ? "user" : role, valid);
  /* a typed question is a turn, answered; other roles add context */
  json_array_add_object_element (turns,
      gst_bidi_gemini_text_content (g_strcmp0 (role, "assistant") == 0 ?
          "model" : "user", valid));
  json_object_set_array_member (cc, "turns", turns);
  json_object_set_boolean_member (cc, "turnComplete", ask);
  send_message (self, "clientContent", cc);
  if (ask)
    expect_reply (self);
  g_free (valid);
}

static void
gst_bidi_gemini_provider_send_image (GstBidiRealtimeProvider * base,
    GBytes * data, const gchar * mime)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);
  JsonObject *input = json_object_new (), *blob = json_object_new ();
  gsize size;
  const guint8 *bytes = g_bytes_get_data (data, &size);
  gchar *b64 = g_base64_encode (bytes, size);

  json_object_set_string_member (blob, "mimeType", mime);
  json_object_set_string_member (blob, "data", b64);
  g_free (b64);
  json_object_set_object_member (input, "video", blob);
  GST_DEBUG_OBJECT (self, "image %s, %" G_GSIZE_FORMAT " bytes", mime, size);
  send_message (self, "realtimeInput", input);
}

/* The result @output (JSON text) as a functionResponse's response: a
 * failure as "error", anything else as "output"; an empty result says so
 * in words, since the model retries a call whose result tells nothing */
static JsonObject *
tool_response (const gchar * output)
{
  JsonNode *node = gst_bidi_json_parse (output, NULL);
  JsonObject *response = json_object_new ();
  JsonObject *obj = node && JSON_NODE_HOLDS_OBJECT (node) ?
      json_node_get_object (node) : NULL;

  if (obj && json_object_get_size (obj) == 1 &&
      json_object_has_member (obj, "error")) {
    JsonNode *err = json_object_get_member (obj, "error");

    if (json_is_empty (err))
      json_object_set_string_member (response, "error", "the tool failed "
          "without saying why");
    else
      json_object_set_member (response, "error", json_node_copy (err));
  } else if (!node) {
    /* not JSON: the text itself */
    json_object_set_string_member (response, "output", output);
  } else if (json_is_empty (node)) {
    json_object_set_string_member (response, "output", "done: the tool "
        "returned no data");
  } else {
    json_object_set_member (response, "output", json_node_ref (node));
  }
  if (node)
    json_node_unref (node);
  return response;
}

static void
gst_bidi_gemini_provider_send_tool_result (GstBidiRealtimeProvider * base,
    const gchar * call_id, const gchar * output)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);
  CallInfo *info = g_hash_table_lookup (self->calls, call_id);
  JsonObject *fr, *tr;
  JsonArray *responses;
  const gchar *scheduling;

  if (!info || (info->conn != self->conn_seq && !self->resumed)) {
    /* a call this session does not know (made before a new session, or
     * in the history): the model hears the result in words */
    gchar *text = g_strdup_printf ("[the tool %s answered the call %s: %s]",
        info ? info->name : "", call_id, output);

    GST_DEBUG_OBJECT (self, "result of %s for a new session: as text",
        call_id);
    gst_bidi_gemini_provider_send_text (base, text, "user");
    g_free (text);
    g_hash_table_remove (self->calls, call_id);
    return;
  }

  fr = json_object_new ();
  json_object_set_string_member (fr, "id", call_id);
  json_object_set_string_member (fr, "name", info->name);
  json_object_set_object_member (fr, "response", tool_response (output));
  scheduling = g_hash_table_lookup (self->run->scheduling, info->name);
  if (!scheduling)
    scheduling = self->run->default_scheduling;
  if (scheduling)
    json_object_set_string_member (fr, "scheduling", scheduling);
  responses = json_array_new ();
  json_array_add_object_element (responses, fr);
  tr = json_object_new ();
  json_object_set_array_member (tr, "functionResponses", responses);
  GST_DEBUG_OBJECT (self, "result of %s (%s)%s%s", call_id, info->name,
      scheduling ? ", scheduling " : "", scheduling ? scheduling : "");
  if (g_strcmp0 (scheduling, "SILENT") != 0)
    expect_reply (self);
  send_message (self, "toolResponse", tr);
  g_hash_table_remove (self->calls, call_id);
}

static void
gst_bidi_gemini_provider_tool_results_done (G_GNUC_UNUSED
    GstBidiRealtimeProvider * base)
{
  /* the server goes on by itself once it has the results */
}

static void
gst_bidi_gemini_provider_interrupt (GstBidiRealtimeProvider * base,
    guint64 played_ms)
{
  /* nothing to send: the server's own detection stopped the answer, and
   * it has no message to cut its memory; the element's history keeps what
   * was heard */
  GST_DEBUG_OBJECT (base, "interrupted after %" G_GUINT64_FORMAT " ms",
      played_ms);
}

static gboolean
settle_done_cb (gpointer user_data)
{
  GstBidiGeminiProvider *self = user_data;

  gst_bidi_realtime_provider_timer_fired (&self->settle_timer);
  self->settling = FALSE;
  GST_DEBUG_OBJECT (self, "end of input settled");
  gst_bidi_realtime_provider_check_idle (BASE (self));
  return G_SOURCE_REMOVE;
}

/* The input ended: the server answers what is unanswered */
static void
gst_bidi_gemini_provider_end_input (GstBidiRealtimeProvider * base)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);

  if (self->run->manual) {
    if (self->activity_open) {
      GST_INFO_OBJECT (self, "input ended: the turn is over");
      gst_bidi_realtime_provider_send_json_text (base,
          "{\"realtimeInput\":{\"activityEnd\":{}}}");
      self->activity_open = FALSE;
      /* push-to-talk: this is where the turn ends */
      if (!emit (self, gst_bidi_event_new_agent_state ("thinking", 0)))
        return;
      expect_reply (self);
    }
    return;
  }
  /* the server flushes the audio it holds and ends a turn in progress */
  GST_INFO_OBJECT (self, "input ended: audioStreamEnd");
  gst_bidi_realtime_provider_send_json_text (base,
      "{\"realtimeInput\":{\"audioStreamEnd\":true}}");
  self->settling = TRUE;
  gst_bidi_realtime_provider_start_timer (base, &self->settle_timer,
      MAX (self->run->silence_duration_ms, 0) + END_SETTLE_MS,
      settle_done_cb, "bidigemini-settle");
}

static guint
gst_bidi_gemini_provider_busy (GstBidiRealtimeProvider * base)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);

  if (self->settling || self->user_speaking || self->turn == TURN_ACTIVE ||
      g_hash_table_size (self->calls) > 0)
    return G_MAXUINT;
  if (reply_due (self)) {
    gint64 left = self->reply_due_until - g_get_monotonic_time ();
    return MAX (left / 1000, 1) + 1;
  }
  return 0;
}

static gboolean
gst_bidi_gemini_provider_awaiting_reply (GstBidiRealtimeProvider * base)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);

  return self->turn == TURN_ACTIVE || self->reply_due_until != 0;
}

/* What belonged to the connection that went */
static void
forget_connection (GstBidiGeminiProvider * self)
{
  self->setup_done = FALSE;
  self->activity_open = FALSE;
  self->user_speaking = FALSE;
  self->reply_due_until = 0;
  g_clear_pointer (&self->history_msg, g_free);
  if (self->turn == TURN_CUT)
    self->turn = TURN_IDLE;
}

static gboolean
gst_bidi_gemini_provider_connection_lost (GstBidiRealtimeProvider * base)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);
  gchar *id;

  /* the user's words so far are what was heard of them */
  if (!user_finish (self))
    return FALSE;
  if (self->turn == TURN_ACTIVE) {
    self->turn = TURN_IDLE;
    g_string_truncate (self->answer_text, 0);
    id = g_strdup (self->turn_id);
    if (!emit (self, gst_bidi_event_new_response_complete (id, "error"))) {
      g_free (id);
      return FALSE;
    }
    g_free (id);
  }
  forget_connection (self);
  return TRUE;
}

static GstBidiRealtimeClose
gst_bidi_gemini_provider_classify_close (GstBidiRealtimeProvider * base,
    const GstBidiTransportCloseInfo * info, const gchar ** reason)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);
  const gchar *why = info->close_reason ? info->close_reason : "";

  switch (info->close_code) {
    case 1007:
      /* invalid argument: a bad key, a bad setup, or a handle the server
       * no longer takes (then a new session gets the history) */
      if (self->sent_handle) {
        GST_WARNING_OBJECT (self, "the server refused to resume the "
            "session (%s): starting a new one with the conversation", why);
        g_clear_pointer (&self->handle, g_free);
        self->sent_handle = FALSE;
        return GST_BIDI_REALTIME_CLOSE_RETRY_NOW;
      }
      if (strstr (why, "API key") || strstr (why, "api key") ||
          strstr (why, "PERMISSION_DENIED") || strstr (why,
              "UNAUTHENTICATED") || strstr (why, "credential"))
        return GST_BIDI_REALTIME_CLOSE_NOT_AUTHORIZED;
      return GST_BIDI_REALTIME_CLOSE_FATAL;
    case 1008:
      /* policy: an unknown or unsupported model, a refused request */
      return GST_BIDI_REALTIME_CLOSE_FATAL;
    case 1000:
    case 1001:
      /* the server's time for this connection is up (after goAway) */
      *reason = "timeout";
      return GST_BIDI_REALTIME_CLOSE_RETRY_NOW;
    default:
      /* 1011 (internal error, the service unavailable) and the rest */
      return GST_BIDI_REALTIME_CLOSE_RETRY;
  }
}

static void
gst_bidi_gemini_provider_reset (GstBidiRealtimeProvider * base)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (base);

  gst_bidi_realtime_provider_clear_timer (&self->settle_timer);
  forget_connection (self);
  /* none after finalize (the base's stops again) */
  if (self->calls)
    g_hash_table_remove_all (self->calls);
  g_clear_pointer (&self->handle, g_free);
  g_clear_pointer (&self->turn_id, g_free);
  g_clear_pointer (&self->run, gst_bidi_gemini_settings_free);
  if (self->user_text) {
    g_string_truncate (self->user_text, 0);
    g_string_truncate (self->answer_text, 0);
  }
  self->user_open = self->settling = FALSE;
  self->resumed = self->sent_handle = FALSE;
  self->turn = TURN_IDLE;
  self->conn_seq = self->turn_seq = self->call_group = 0;
}

/* ------------------------------------------------------------------------
 * GstBidiProvider vfuncs
 * ------------------------------------------------------------------------ */

static void
gst_bidi_gemini_provider_get_audio_formats (G_GNUC_UNUSED GstBidiProvider *
    provider, GstAudioInfo * in_info, GstAudioInfo * out_info)
{
  gst_audio_info_set_format (in_info, GST_AUDIO_FORMAT_S16LE, IN_RATE, 1,
      NULL);
  gst_audio_info_set_format (out_info, GST_AUDIO_FORMAT_S16LE, OUT_RATE, 1,
      NULL);
}

static void
gst_bidi_gemini_provider_finalize (GObject * object)
{
  GstBidiGeminiProvider *self = GST_BIDI_GEMINI_PROVIDER (object);

  /* the element stops us first; this is the safety net (the base's
   * finalize stops again, and reset then finds no tables) */
  gst_bidi_provider_stop (GST_BIDI_PROVIDER (self));
  g_clear_pointer (&self->unknown_fields, g_hash_table_unref);
  g_clear_pointer (&self->calls, g_hash_table_unref);
  g_string_free (self->user_text, TRUE);
  g_string_free (self->answer_text, TRUE);
  self->user_text = self->answer_text = NULL;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static const gchar *const image_types[] = { "image/jpeg", "image/png", NULL };

static void
gst_bidi_gemini_provider_class_init (GstBidiGeminiProviderClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBidiProviderClass *provider_class = GST_BIDI_PROVIDER_CLASS (klass);
  GstBidiRealtimeProviderClass *rt_class =
      GST_BIDI_REALTIME_PROVIDER_CLASS (klass);

  gobject_class->finalize = gst_bidi_gemini_provider_finalize;
  provider_class->get_audio_formats =
      GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_get_audio_formats);

  rt_class->name = PROVIDER_NAME;
  rt_class->server_name = SERVER_NAME;
  rt_class->key_name = "Gemini";
  rt_class->key_env = "GEMINI_API_KEY";
  rt_class->key_env_fallback = "GOOGLE_API_KEY";
  rt_class->in_bytes_per_ms = IN_BYTES_PER_MS;
  rt_class->out_bytes_per_ms = OUT_BYTES_PER_MS;
  rt_class->default_max_session_s = DEFAULT_MAX_SESSION_S;
  rt_class->binary_messages = TRUE;
  rt_class->image_types = image_types;
  rt_class->image_types_text = "JPEG and PNG";
  rt_class->max_image_size = MAX_IMAGE_SIZE;
  rt_class->parse_settings =
      GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_parse_settings);
  rt_class->reset = GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_reset);
  rt_class->get_headers =
      GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_get_headers);
  rt_class->open = GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_open);
  rt_class->send_history =
      GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_send_history);
  rt_class->handle_message =
      GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_handle_message);
  rt_class->send_audio =
      GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_send_audio);
  rt_class->send_text = GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_send_text);
  rt_class->send_image =
      GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_send_image);
  rt_class->send_tool_result =
      GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_send_tool_result);
  rt_class->tool_results_done =
      GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_tool_results_done);
  rt_class->interrupt = GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_interrupt);
  rt_class->end_input = GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_end_input);
  rt_class->busy = GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_busy);
  rt_class->connection_lost =
      GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_connection_lost);
  rt_class->awaiting_reply =
      GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_awaiting_reply);
  rt_class->classify_close =
      GST_DEBUG_FUNCPTR (gst_bidi_gemini_provider_classify_close);
}

static void
gst_bidi_gemini_provider_init (GstBidiGeminiProvider * self)
{
  self->unknown_fields = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  self->calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) call_info_free);
  self->user_text = g_string_new (NULL);
  self->answer_text = g_string_new (NULL);
}
