/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gstbidinovasonic
 * @title: nova-sonic provider
 * @short_description: Amazon Bedrock Nova Sonic over an HTTP/2 event stream
 *
 * Streams the user's audio (PCM 16 kHz mono) to Amazon Nova Sonic through
 * Bedrock's InvokeModelWithBidirectionalStream and turns its answers into
 * unified events: spoken audio (PCM 24 kHz mono), transcripts of both
 * sides, interruptions, tool calls and usage.
 *
 * Credentials: AWS SigV4 only (Bedrock API keys are not taken for this
 * operation). The element's `access-key`, `secret-access-key` and
 * `session-token`, else AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN, else the profile (AWS_PROFILE or "default") of the
 * shared credentials and config files. The region: `region`, AWS_REGION,
 * AWS_DEFAULT_REGION, the profile's, else us-east-1. `api-key` is ignored.
 *
 * Endpoint: `https://bedrock-runtime.REGION.amazonaws.com/model/MODEL/
 * invoke-with-bidirectional-stream`; the element's `url` (https) replaces
 * the host, and its path when it has one. The model is
 * `amazon.nova-2-sonic-v1:0` unless `model` names another
 * (`amazon.nova-2-5-sonic`).
 *
 * A stream starts with sessionStart, promptStart (the voice, 24 kHz
 * output, the tools), the system prompt (a default one when the element
 * has none: Nova requires it) and the conversation replayed as
 * non-interactive text; the audio block opens with the first audio. Typed
 * text goes as an interactive USER text block. Before the provider closes
 * a stream (the end, a renewal, a failure, stop) it ends it cleanly:
 * contentEnd of the audio, promptEnd, sessionEnd.
 *
 * Answers: the first assistant block of a turn starts a response;
 * speculative text (what the model is about to say) is the partial
 * transcript, the final text (what was said) becomes the final one when
 * the turn ends (END_TURN), which completes the response ("tool_use" when
 * it only made calls). The barge-in marker or an INTERRUPTED block end
 * posts one `bidi_interruption` (the element flushes) and completes the
 * response as interrupted; what is left of that turn is dropped. Usage is
 * posted as the increment of each usageEvent.
 *
 * provider-config fields:
 *
 * * `voice` (string, `matthew`; the element's `voice` wins)
 * * `max-tokens` (int, 1024), `top-p` (double, 0.9), `temperature`
 *   (double, 0.7)
 * * `endpointing-sensitivity` (string, `MEDIUM`): `HIGH` (answers after
 *   the shortest pause), `MEDIUM` or `LOW`
 * * `silence-restart-s` (int, 150): a stream on which the user said
 *   nothing for this long is renewed at a pause, before Nova ends it
 *   (~175 s); 0: never
 * * `history-max-bytes` (int, 204800): the conversation replayed into a
 *   new stream, the oldest messages dropped beyond it (each message is
 *   cut at 50 KiB)
 * * `reconnect-attempts`, `reconnect-delay-ms`, `max-session-s` (int, 420:
 *   streams end after 8 minutes), `connect-timeout-ms`, `keepalive-s`,
 *   `max-message-size`, `stall-timeout-ms`, `reconnect-reset-ms`: see
 *   #GstBidiRealtimeProvider
 *
 * Server exceptions: modelTimeoutException, and a validationException
 * with code 531 (the user was silent too long), make a new stream with
 * the conversation replayed (`bidi_connection_restart` "timeout");
 * throttling, service unavailable, internal server and model stream
 * errors are posted as `bidi_error` and the stream is made again after a
 * backoff; any other validationException ends the run with its message.
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
#include <gst/bidi/gstbidijson.h>
#include <gst/bidi/gstbiditools.h>

#include "gstbidinovasonic.h"
#include "gstbidinovasonicprivate.h"
#include "gstbidinovatransport.h"
#include "gstbidirealtime.h"

GST_DEBUG_CATEGORY (bidi_nova_sonic_debug);
#define GST_CAT_DEFAULT bidi_nova_sonic_debug

#define SERVER_NAME "Amazon Bedrock Nova Sonic"
/* newer Strands renews at 420 s, before the 8 minute limit */
#define DEFAULT_MAX_SESSION_S 420
#define IN_BYTES_PER_MS (IN_RATE * 2 / 1000)
#define OUT_BYTES_PER_MS (OUT_RATE * 2 / 1000)

/* after a question was sent, how long a missing answer may hold the end
 * of the session or a renewal */
#define AWAIT_REPLY_MS 15000
/* end of input: silence the server's turn detection needs to end the
 * turn (its longest pause, LOW, is ~2 s), in chunks */
#define END_SILENCE_MS 2500
#define END_SILENCE_CHUNK_MS 100
/* then this long is waited for an answer to start */
#define END_SETTLE_MS 3000
/* an audio block that ended the turn, and no final text after it */
#define TURN_END_GRACE_MS 2000
#define MAX_CALLS 64

typedef enum
{
  STAGE_NONE,
  STAGE_SPECULATIVE,
  STAGE_FINAL
} Stage;

typedef enum
{
  TURN_IDLE,
  TURN_ACTIVE,                  /* the model answers: response started */
  TURN_CUT                      /* interrupted: the rest is dropped */
} TurnState;

/* The usage counters of a usageEvent */
enum
{
  IN_SPEECH, IN_TEXT, OUT_SPEECH, OUT_TEXT, N_COUNTS
};

struct _GstBidiNovaSonic
{
  GstBidiRealtimeProvider parent;

  /* network thread only: made by start, freed by stop */
  NovaSettings *run;

  /* the stream */
  guint stream_seq;
  gchar *prompt;                /* promptName, a UUID per stream */
  gboolean prompt_open;         /* promptStart sent: promptEnd owed */
  guint content_seq;
  gchar *audio_content;         /* the open audio block, or NULL */
  GSource *ready_timer;

  /* the server's block being received */
  gchar *block_id;
  gchar *block_type;
  gchar *block_role;
  Stage stage;

  /* turns */
  TurnState turn;
  guint turn_seq;
  gchar *turn_id;
  gboolean turn_spoke;          /* it said something */
  gboolean turn_calls;          /* it made calls */
  gboolean end_pending;         /* its audio ended the turn */
  GSource *end_timer;
  guint cut_seq;                /* the turn whose interruption was posted */
  GString *user_text;
  gboolean user_open;
  GString *answer_text;         /* FINAL text of the turn */
  GString *preview_text;        /* SPECULATIVE text of the turn */

  /* toolUseId -> stream_seq of the stream that made it, until answered */
  GHashTable *calls;
  guint call_group;

  /* usage: the stream's totals at the last usageEvent */
  gint64 last[N_COUNTS];
  gint64 last_in, last_out;

  /* input */
  gboolean settling;
  GSource *settle_timer;
  gint64 reply_due_until;
  GSource *silence_timer;
};

#define gst_bidi_nova_sonic_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstBidiNovaSonic, gst_bidi_nova_sonic,
    GST_TYPE_BIDI_REALTIME_PROVIDER,
    GST_DEBUG_CATEGORY_INIT (bidi_nova_sonic_debug, "bidinovasonic", 0,
        "bidiagent Amazon Nova Sonic provider"));

#define BASE(self) GST_BIDI_REALTIME_PROVIDER (self)

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

static gboolean
emit (GstBidiNovaSonic * self, GstStructure * event)
{
  return gst_bidi_realtime_provider_emit (BASE (self), event);
}

static void
bad_message (GstBidiNovaSonic * self, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);

static void
bad_message (GstBidiNovaSonic * self, const gchar * format, ...)
{
  va_list ap;
  gchar *what, *msg;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  msg = g_strconcat (SERVER_NAME " sent ", what, "; ignored", NULL);
  gst_bidi_realtime_provider_report_bad_message (BASE (self), msg);
  g_free (msg);
  g_free (what);
}

static gchar *
clean (GstBidiNovaSonic * self, const gchar * text)
{
  return gst_bidi_realtime_provider_clean (BASE (self), text,
      text ? strlen (text) : 0);
}

static void
send_event (GstBidiNovaSonic * self, const gchar * name, JsonObject * body)
{
  gst_bidi_realtime_provider_send_object (BASE (self),
      gst_bidi_nova_event (name, body));
}

/* Sends @events (JsonObject, taken) in order */
static void
send_events (GstBidiNovaSonic * self, GPtrArray * events)
{
  guint i;

  for (i = 0; i < events->len; i++)
    gst_bidi_realtime_provider_send_object (BASE (self),
        json_object_ref (g_ptr_array_index (events, i)));
  g_ptr_array_unref (events);
}

static gchar *
next_content_name (GstBidiNovaSonic * self, const gchar * kind)
{
  return g_strdup_printf ("%s-%u", kind, ++self->content_seq);
}

static void
expect_reply (GstBidiNovaSonic * self)
{
  self->reply_due_until = g_get_monotonic_time () +
      AWAIT_REPLY_MS * G_TIME_SPAN_MILLISECOND;
}

/* ------------------------------------------------------------------------
 * The silence watchdog: Nova ends a stream after ~175 s without speech
 * ------------------------------------------------------------------------ */

static gboolean
silence_cb (gpointer user_data)
{
  GstBidiNovaSonic *self = user_data;

  gst_bidi_realtime_provider_timer_fired (&self->silence_timer);
  GST_INFO_OBJECT (self, "the user said nothing for %d s: renewing the "
      "stream before Nova ends it", self->run->silence_restart_s);
  gst_bidi_realtime_provider_request_renew (BASE (self), "timeout");
  return G_SOURCE_REMOVE;
}

static void
silence_watch (GstBidiNovaSonic * self)
{
  if (self->run->silence_restart_s > 0)
    gst_bidi_realtime_provider_start_timer (BASE (self),
        &self->silence_timer, self->run->silence_restart_s * 1000,
        silence_cb, "bidinovasonic-silence");
}

/* ------------------------------------------------------------------------
 * Turns: the user's words, and what the model says
 * ------------------------------------------------------------------------ */

/* The user's words so far become final */
static gboolean
user_finish (GstBidiNovaSonic * self)
{
  gchar *text;
  gboolean alive = TRUE;

  if (!self->user_open)
    return TRUE;
  self->user_open = FALSE;
  text = g_strstrip (g_strdup (self->user_text->str));
  g_string_truncate (self->user_text, 0);
  if (*text) {
    GST_DEBUG_OBJECT (self, "user said: %s", text);
    alive = emit (self, gst_bidi_event_new_transcript ("user", text, TRUE,
            text));
  }
  g_free (text);
  return alive;
}

static gboolean
user_fragment (GstBidiNovaSonic * self, const gchar * fragment)
{
  gchar *text;
  gboolean alive;

  if (gst_bidi_realtime_is_blank (fragment))
    return TRUE;
  silence_watch (self);
  text = gst_bidi_realtime_make_valid (fragment, MAX_TEXT_SIZE);
  if (self->user_open && self->user_text->len > 0)
    g_string_append_c (self->user_text, ' ');
  self->user_open = TRUE;
  if (self->user_text->len + strlen (text) <= MAX_TEXT_SIZE)
    g_string_append (self->user_text, text);
  alive = emit (self, gst_bidi_event_new_transcript ("user", text, FALSE,
          self->user_text->str));
  g_free (text);
  /* the user spoke: an answer comes */
  expect_reply (self);
  return alive;
}

static gboolean
turn_begin (GstBidiNovaSonic * self)
{
  if (self->turn == TURN_ACTIVE)
    return TRUE;
  if (!user_finish (self))
    return FALSE;
  self->turn = TURN_ACTIVE;
  self->turn_spoke = self->turn_calls = self->end_pending = FALSE;
  self->reply_due_until = 0;
  g_free (self->turn_id);
  self->turn_id = g_strdup_printf ("turn_%u", ++self->turn_seq);
  g_string_truncate (self->answer_text, 0);
  g_string_truncate (self->preview_text, 0);
  GST_DEBUG_OBJECT (self, "answer %s started", self->turn_id);
  return emit (self, gst_bidi_event_new_response_start (self->turn_id));
}

/* The answer ends: what was said becomes final, then
 * bidi_response_complete */
static gboolean
turn_end (GstBidiNovaSonic * self, const gchar * stop_reason)
{
  gchar *text, *id;
  gboolean alive = TRUE;

  if (self->turn != TURN_ACTIVE)
    return TRUE;
  gst_bidi_realtime_provider_clear_timer (&self->end_timer);
  self->end_pending = FALSE;
  self->turn = strcmp (stop_reason, "interrupted") == 0 ? TURN_CUT :
      TURN_IDLE;
  text = g_strstrip (g_strdup (self->answer_text->str));
  g_string_truncate (self->answer_text, 0);
  g_string_truncate (self->preview_text, 0);
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
  if (alive)
    gst_bidi_realtime_provider_check_idle (BASE (self));
  return alive && self->run != NULL;
}

static gboolean
turn_complete (GstBidiNovaSonic * self)
{
  return turn_end (self, self->turn_calls && !self->turn_spoke ?
      "tool_use" : "complete");
}

static gboolean
end_grace_cb (gpointer user_data)
{
  GstBidiNovaSonic *self = user_data;

  gst_bidi_realtime_provider_timer_fired (&self->end_timer);
  if (self->end_pending)
    turn_complete (self);
  return G_SOURCE_REMOVE;
}

/* The barge-in marker or an INTERRUPTED block: once per turn */
static gboolean
on_interrupted (GstBidiNovaSonic * self)
{
  gchar *id;
  gboolean alive;

  if (self->turn == TURN_CUT || !self->turn_id ||
      self->cut_seq == self->turn_seq)
    return TRUE;
  self->cut_seq = self->turn_seq;
  GST_DEBUG_OBJECT (self, "the user spoke over the answer");
  /* the element flushes what plays, even an answer complete here (audio
   * comes faster than it plays) */
  id = g_strdup (self->turn_id);
  alive = emit (self, gst_bidi_event_new_interruption ("user_speech", id));
  g_free (id);
  if (!alive)
    return FALSE;
  if (self->turn == TURN_ACTIVE)
    return turn_end (self, "interrupted");
  self->turn = TURN_CUT;
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Server events
 * ------------------------------------------------------------------------ */

static Stage
parse_stage (GstBidiNovaSonic * self, JsonObject * body)
{
  JsonNode *node = json_object_get_member (body, "additionalModelFields");
  JsonNode *fields;
  const gchar *stage;
  Stage ret = STAGE_NONE;

  if (!node)
    return STAGE_NONE;
  if (!JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING ||
      !(fields = gst_bidi_json_parse (json_node_get_string (node), NULL))) {
    bad_message (self, "a block whose additionalModelFields is not JSON "
        "text");
    return STAGE_NONE;
  }
  stage = JSON_NODE_HOLDS_OBJECT (fields) ?
      gst_bidi_json_get_string (json_node_get_object (fields),
      "generationStage") : NULL;
  if (g_strcmp0 (stage, "SPECULATIVE") == 0)
    ret = STAGE_SPECULATIVE;
  else if (g_strcmp0 (stage, "FINAL") == 0)
    ret = STAGE_FINAL;
  json_node_unref (fields);
  return ret;
}

static gboolean
is_role (const gchar * role, const gchar * name)
{
  return g_strcmp0 (role, name) == 0;
}

static gboolean
on_content_start (GstBidiNovaSonic * self, JsonObject * body)
{
  const gchar *id = gst_bidi_json_get_string (body, "contentId");
  const gchar *type = gst_bidi_json_get_string (body, "type");
  const gchar *role = gst_bidi_json_get_string (body, "role");

  if (!type) {
    bad_message (self, "a contentStart without a type");
    return TRUE;
  }
  g_free (self->block_id);
  g_free (self->block_type);
  g_free (self->block_role);
  self->block_id = g_strdup (id);
  self->block_type = g_strdup (type);
  self->block_role = g_strdup (role);
  self->stage = parse_stage (self, body);
  GST_LOG_OBJECT (self, "block %s: %s %s", GST_STR_NULL (id), type,
      GST_STR_NULL (role));

  /* the user's words end where another speaks */
  if (!is_role (role, "USER") && !user_finish (self))
    return FALSE;
  /* an audio block that ended the turn, not followed by its final text */
  if (self->end_pending && !(is_role (role, "ASSISTANT") &&
          strcmp (type, "TEXT") == 0 && self->stage != STAGE_SPECULATIVE) &&
      !turn_complete (self))
    return FALSE;
  if (is_role (role, "USER")) {
    /* the user's next turn: what was cut is over */
    if (self->turn == TURN_CUT)
      self->turn = TURN_IDLE;
    return TRUE;
  }
  if (is_role (role, "ASSISTANT") && self->turn != TURN_CUT)
    return turn_begin (self);
  return TRUE;
}

static gboolean
is_interrupted_marker (const gchar * text)
{
  GString *s = g_string_new (NULL);
  const gchar *p;
  gboolean ret;

  for (p = text; *p && s->len < 32; p++)
    if (!g_ascii_isspace (*p))
      g_string_append_c (s, *p);
  ret = *p == '\0' && strcmp (s->str, "{\"interrupted\":true}") == 0;
  g_string_free (s, TRUE);
  return ret;
}

static gboolean
answer_text (GstBidiNovaSonic * self, const gchar * content)
{
  gchar *text;
  GString *into;
  gboolean alive = TRUE;

  if (self->turn == TURN_CUT) {
    GST_DEBUG_OBJECT (self, "dropping words of the answer that was cut");
    return TRUE;
  }
  if (!turn_begin (self))
    return FALSE;
  text = gst_bidi_realtime_make_valid (content, MAX_TEXT_SIZE);
  into = self->stage == STAGE_SPECULATIVE ? self->preview_text :
      self->answer_text;
  if (into->len > 0 && into->len + strlen (text) + 1 <= MAX_TEXT_SIZE)
    g_string_append_c (into, ' ');
  if (into->len + strlen (text) <= MAX_TEXT_SIZE)
    g_string_append (into, text);
  self->turn_spoke = TRUE;
  /* what it is about to say is shown as it comes; what it said is final
   * at the turn's end */
  if (self->stage == STAGE_SPECULATIVE)
    alive = emit (self, gst_bidi_event_new_transcript ("assistant", text,
            FALSE, self->preview_text->str));
  g_free (text);
  return alive;
}

static gboolean
on_text_output (GstBidiNovaSonic * self, JsonObject * body)
{
  const gchar *content = gst_bidi_json_get_string (body, "content");
  const gchar *role = gst_bidi_json_get_string (body, "role");

  if (!content) {
    bad_message (self, "a textOutput without content");
    return TRUE;
  }
  if (!role)
    role = self->block_role;
  if (is_interrupted_marker (content))
    return on_interrupted (self);
  if (is_role (role, "USER"))
    return user_fragment (self, content);
  if (is_role (role, "ASSISTANT"))
    return answer_text (self, content);
  GST_DEBUG_OBJECT (self, "text of role %s ignored", GST_STR_NULL (role));
  return TRUE;
}

static gboolean
on_audio_output (GstBidiNovaSonic * self, JsonObject * body)
{
  const gchar *content = gst_bidi_json_get_string (body, "content");
  GError *err = NULL;
  GBytes *pcm;
  gboolean alive = TRUE;

  if (!content) {
    bad_message (self, "an audioOutput without content");
    return TRUE;
  }
  pcm = gst_bidi_base64_decode (content, -1, 2,
      gst_bidi_realtime_provider_get_max_message_size (BASE (self)), &err);
  if (!pcm) {
    bad_message (self, "audio that is not valid: %s", err->message);
    g_error_free (err);
    return TRUE;
  }
  if (self->turn == TURN_CUT) {
    GST_LOG_OBJECT (self, "dropping audio of the answer that was cut");
  } else if (g_bytes_get_size (pcm) > 0 && (alive = turn_begin (self))) {
    self->turn_spoke = TRUE;
    gst_bidi_realtime_provider_emit_audio (BASE (self), pcm);
  }
  g_bytes_unref (pcm);
  return alive;
}

/* @args (nullable) is the text of a JSON object */
static gboolean
args_are_object (const gchar * args)
{
  JsonNode *node = args ? gst_bidi_json_parse (args, NULL) : NULL;
  gboolean ok = node && JSON_NODE_HOLDS_OBJECT (node);

  if (node)
    json_node_unref (node);
  return ok;
}

/* A tool result: the TOOL block's three events back to back */
static void
send_tool_block (GstBidiNovaSonic * self, const gchar * call_id,
    const gchar * output)
{
  JsonObject *start, *conf, *result;
  gchar *name = next_content_name (self, "tool");

  start = gst_bidi_nova_content_ref (self->prompt, name);
  json_object_set_boolean_member (start, "interactive", FALSE);
  json_object_set_string_member (start, "type", "TOOL");
  json_object_set_string_member (start, "role", "TOOL");
  conf = json_object_new ();
  json_object_set_string_member (conf, "toolUseId", call_id);
  json_object_set_string_member (conf, "type", "TEXT");
  json_object_set_object_member (conf, "textInputConfiguration",
      gst_bidi_nova_media_type ("text/plain"));
  json_object_set_object_member (start, "toolResultInputConfiguration",
      conf);
  result = gst_bidi_nova_content_ref (self->prompt, name);
  json_object_set_string_member (result, "content", output);
  GST_DEBUG_OBJECT (self, "result of %s", call_id);
  send_event (self, "contentStart", start);
  send_event (self, "toolResult", result);
  send_event (self, "contentEnd", gst_bidi_nova_content_ref (self->prompt,
          name));
  g_free (name);
}

/* toolUse: announced at once; the model may go on talking, so the result
 * may go back as soon as it comes */
static gboolean
on_tool_use (GstBidiNovaSonic * self, JsonObject * body)
{
  GstBidiRealtimeProvider *base = BASE (self);
  const gchar *id = gst_bidi_json_get_string (body, "toolUseId");
  const gchar *name = gst_bidi_json_get_string (body, "toolName");
  const gchar *args = gst_bidi_json_get_string (body, "content");
  gchar *group;

  /* no arguments: none are needed */
  if (!json_object_has_member (body, "content"))
    args = "{}";

  if (!id || !*id || !name || !*name) {
    bad_message (self, "a toolUse without a toolUseId or a toolName");
    return TRUE;
  }
  if (g_hash_table_contains (self->calls, id) ||
      g_hash_table_size (self->calls) >= MAX_CALLS) {
    bad_message (self, "a tool call it made already, or too many");
    return TRUE;
  }
  if (!args_are_object (args)) {
    gchar *error = gst_bidi_tool_error_json ("the call's arguments were not "
        "a JSON object");

    /* the model waits for a result: it gets an error, not silence */
    bad_message (self, "a tool call whose arguments are not a JSON object "
        "(the call gets an error)");
    send_tool_block (self, id, error);
    g_free (error);
    return TRUE;
  }
  if (!turn_begin (self))
    return FALSE;
  group = g_strdup_printf ("calls_%u", ++self->call_group);
  if (!gst_bidi_realtime_provider_call_add (base, id, name, NULL, group)) {
    g_free (group);
    return TRUE;
  }
  self->turn_calls = TRUE;
  g_hash_table_insert (self->calls, g_strdup (id),
      GUINT_TO_POINTER (self->stream_seq));
  gst_bidi_realtime_provider_calls_close (base, group, TRUE);
  g_free (group);
  gst_bidi_realtime_provider_call_ready (base, id, NULL, args);
  if (!self->run)
    return FALSE;
  gst_bidi_realtime_provider_flush_calls (base);
  return self->run != NULL;
}

static gboolean
on_content_end (GstBidiNovaSonic * self, JsonObject * body)
{
  const gchar *reason = gst_bidi_json_get_string (body, "stopReason");
  const gchar *type = gst_bidi_json_get_string (body, "type");
  gboolean user = is_role (self->block_role, "USER");
  gboolean assistant = is_role (self->block_role, "ASSISTANT");

  if (!type)
    type = self->block_type;
  if (g_strcmp0 (reason, "INTERRUPTED") == 0) {
    if (!on_interrupted (self))
      return FALSE;
  } else if (g_strcmp0 (reason, "END_TURN") == 0) {
    if (user && !user_finish (self))
      return FALSE;
    if (assistant && g_strcmp0 (type, "TEXT") == 0 &&
        self->stage != STAGE_SPECULATIVE && !turn_complete (self))
      return FALSE;
    if (assistant && g_strcmp0 (type, "AUDIO") == 0 &&
        self->turn == TURN_ACTIVE) {
      /* its final text, if any, follows */
      self->end_pending = TRUE;
      gst_bidi_realtime_provider_start_timer (BASE (self), &self->end_timer,
          TURN_END_GRACE_MS, end_grace_cb, "bidinovasonic-turn-end");
    }
  }
  g_clear_pointer (&self->block_id, g_free);
  g_clear_pointer (&self->block_type, g_free);
  g_clear_pointer (&self->block_role, g_free);
  self->stage = STAGE_NONE;
  return TRUE;
}

static gint64
usage_count (JsonObject * obj, const gchar * side, const gchar * name)
{
  JsonObject *o = gst_bidi_json_get_object (obj, side);

  return CLAMP (gst_bidi_json_get_int (o, name, 0), 0, G_MAXINT);
}

static void
read_counts (JsonObject * obj, gint64 * counts)
{
  counts[IN_SPEECH] = usage_count (obj, "input", "speechTokens");
  counts[IN_TEXT] = usage_count (obj, "input", "textTokens");
  counts[OUT_SPEECH] = usage_count (obj, "output", "speechTokens");
  counts[OUT_TEXT] = usage_count (obj, "output", "textTokens");
}

/* usageEvent: its totals are the stream's so far; the increment is
 * posted (details.delta, else the difference from the last totals) */
static gboolean
on_usage (GstBidiNovaSonic * self, JsonObject * body)
{
  JsonObject *details = gst_bidi_json_get_object (body, "details");
  JsonObject *delta = gst_bidi_json_get_object (details, "delta");
  JsonObject *total = gst_bidi_json_get_object (details, "total");
  gint64 d[N_COUNTS], t[N_COUNTS];
  gint64 in, out, tin, tout;
  GstStructure *ev;
  guint i;

  tin = CLAMP (gst_bidi_json_get_int (body, "totalInputTokens", -1), -1,
      G_MAXINT);
  tout = CLAMP (gst_bidi_json_get_int (body, "totalOutputTokens", -1), -1,
      G_MAXINT);
  if (total)
    read_counts (total, t);
  if (delta) {
    read_counts (delta, d);
  } else if (total) {
    for (i = 0; i < N_COUNTS; i++)
      d[i] = MAX (t[i] - self->last[i], 0);
  }
  if (delta || total) {
    in = d[IN_SPEECH] + d[IN_TEXT];
    out = d[OUT_SPEECH] + d[OUT_TEXT];
  } else if (tin >= 0 || tout >= 0) {
    in = tin >= 0 ? MAX (tin - self->last_in, 0) : 0;
    out = tout >= 0 ? MAX (tout - self->last_out, 0) : 0;
  } else {
    bad_message (self, "a usageEvent without counts");
    return TRUE;
  }
  if (total)
    memcpy (self->last, t, sizeof (t));
  if (tin >= 0)
    self->last_in = tin;
  if (tout >= 0)
    self->last_out = tout;

  in = MIN (in, G_MAXINT);
  out = MIN (out, G_MAXINT);
  ev = gst_bidi_event_new_usage (in, out, MIN (in + out, G_MAXINT));
  if (delta || total) {
    gst_bidi_event_usage_add_modality (ev, "text", d[IN_TEXT], d[OUT_TEXT]);
    gst_bidi_event_usage_add_modality (ev, "audio", d[IN_SPEECH],
        d[OUT_SPEECH]);
  }
  return emit (self, ev);
}

/* {"exception": {"type", "message"}}: the transport's form of a server
 * exception (gstbidinovatransport.h) */
static void
on_exception (GstBidiNovaSonic * self, JsonObject * exc)
{
  GstBidiRealtimeProvider *base = BASE (self);
  const gchar *type = gst_bidi_json_get_string (exc, "type");
  gchar *why = clean (self, gst_bidi_json_get_string (exc, "message"));
  gchar *kind = clean (self, type ? type : "exception");
  gchar *msg = g_strdup_printf ("%s: %s%s%s", SERVER_NAME, kind,
      *why ? ": " : "", why);
  const gchar *const retry[] = { "throttlingException",
    "serviceUnavailableException", "internalServerException",
    "modelStreamErrorException", NULL
  };

  if (g_strcmp0 (type, "modelTimeoutException") == 0 ||
      (g_strcmp0 (type, "validationException") == 0 && strstr (why, "531"))) {
    /* the stream's time is up: a new one, with the conversation */
    GST_INFO_OBJECT (self, "%s: a new stream", msg);
    gst_bidi_realtime_provider_connection_lost (base, "timeout", msg, TRUE);
  } else if (type && g_strv_contains (retry, type)) {
    if (emit (self, gst_bidi_event_new_error (msg, kind, NULL)))
      gst_bidi_realtime_provider_connection_lost (base, "connection_lost",
          msg, FALSE);
  } else {
    gst_bidi_realtime_provider_fail (base, msg, kind, NULL);
  }
  g_free (msg);
  g_free (kind);
  g_free (why);
}

static void
handle_event (GstBidiNovaSonic * self, const gchar * name, JsonObject * body)
{
  if (strcmp (name, "completionStart") == 0) {
    GST_DEBUG_OBJECT (self, "completion started");
  } else if (strcmp (name, "contentStart") == 0) {
    on_content_start (self, body);
  } else if (strcmp (name, "textOutput") == 0) {
    on_text_output (self, body);
  } else if (strcmp (name, "audioOutput") == 0) {
    on_audio_output (self, body);
  } else if (strcmp (name, "toolUse") == 0) {
    on_tool_use (self, body);
  } else if (strcmp (name, "contentEnd") == 0) {
    on_content_end (self, body);
  } else if (strcmp (name, "usageEvent") == 0) {
    on_usage (self, body);
  } else if (strcmp (name, "completionEnd") == 0) {
    GST_DEBUG_OBJECT (self, "completion ended");
    if (self->end_pending)
      turn_complete (self);
  } else {
    gchar *safe = clean (self, name);
    GST_DEBUG_OBJECT (self, "ignoring unknown event %s", safe);
    g_free (safe);
  }
}

static void mark_ready (GstBidiNovaSonic * self);

static void
gst_bidi_nova_sonic_handle_message (GstBidiRealtimeProvider * base,
    JsonObject * msg, const gchar * json, gsize len)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (base);
  JsonObject *exc = gst_bidi_json_get_object (msg, "exception");
  JsonObject *ev = gst_bidi_json_get_object (msg, "event");
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *node;

  /* the server spoke first (a context that ran the timer late): the
   * stream is up before what it says */
  if (self->ready_timer) {
    gst_bidi_realtime_provider_clear_timer (&self->ready_timer);
    mark_ready (self);
    if (!gst_bidi_realtime_provider_is_ready (base))
      return;
  }

  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_TRACE) {
    gchar *text = gst_bidi_realtime_provider_clean (base, json, len);
    GST_TRACE_OBJECT (self, "received %s", text);
    g_free (text);
  }
  if (exc) {
    on_exception (self, exc);
    return;
  }
  if (!ev || json_object_get_size (ev) != 1) {
    bad_message (self, "a message that is not one event");
    return;
  }
  json_object_iter_init (&iter, ev);
  json_object_iter_next (&iter, &name, &node);
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    bad_message (self, "an event that is not an object");
    return;
  }
  handle_event (self, name, json_node_get_object (node));
}

/* ------------------------------------------------------------------------
 * GstBidiRealtimeProvider vfuncs: sending
 * ------------------------------------------------------------------------ */

static gchar *
gst_bidi_nova_sonic_parse_settings (GstBidiRealtimeProvider * base,
    const GstBidiProviderConfig * config, gboolean keep, GError ** error)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (base);
  NovaSettings *s;
  gchar *url;

  if (!(s = gst_bidi_nova_settings_parse (G_OBJECT (self), config, &url,
              error)))
    return NULL;
  if (!keep) {
    gst_bidi_nova_settings_free (s);
    return url;
  }
  gst_bidi_nova_settings_free (self->run);
  self->run = s;
  GST_INFO_OBJECT (self, "model %s, region %s, voice %s, %u tools",
      s->model, s->creds->region, s->voice, s->tools ?
      json_array_get_length (s->tools) : 0);
  return url;
}

static gconstpointer
gst_bidi_nova_sonic_get_transport_data (GstBidiRealtimeProvider * base)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (base);

  return self->run ? self->run->creds : NULL;
}

static void
gst_bidi_nova_sonic_get_headers (G_GNUC_UNUSED GstBidiRealtimeProvider *
    base, G_GNUC_UNUSED const gchar * api_key,
    G_GNUC_UNUSED GPtrArray * headers)
{
  /* the transport signs the request itself */
}

static void
mark_ready (GstBidiNovaSonic * self)
{
  GST_INFO_OBJECT (self, "stream %u ready (%s)", self->stream_seq,
      self->run->model);
  silence_watch (self);
  gst_bidi_realtime_provider_session_ready (BASE (self), self->run->model);
}

static gboolean
ready_cb (gpointer user_data)
{
  GstBidiNovaSonic *self = user_data;

  gst_bidi_realtime_provider_timer_fired (&self->ready_timer);
  mark_ready (self);
  return G_SOURCE_REMOVE;
}

static void
gst_bidi_nova_sonic_open (GstBidiRealtimeProvider * base)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (base);
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_object_unref);
  gchar *sys;

  self->stream_seq++;
  g_free (self->prompt);
  self->prompt = g_uuid_string_random ();
  self->content_seq = 0;
  memset (self->last, 0, sizeof (self->last));
  self->last_in = self->last_out = 0;

  g_ptr_array_add (events, gst_bidi_nova_session_start (self->run));
  g_ptr_array_add (events, gst_bidi_nova_prompt_start (self->run,
          self->prompt));
  sys = next_content_name (self, "system");
  gst_bidi_nova_text_block (events, self->prompt, sys, "SYSTEM", FALSE,
      self->run->instructions);
  g_free (sys);
  self->prompt_open = TRUE;
  send_events (self, events);
  /* Nova confirms nothing: ready once the base replayed the conversation
   * (right after this returns) */
  gst_bidi_realtime_provider_start_timer (base, &self->ready_timer, 0,
      ready_cb, "bidinovasonic-ready");
  /* before anything the server sends or does is dispatched: the stream
   * is up, and a stream that breaks later is not a refused connection */
  g_source_set_priority (self->ready_timer, G_PRIORITY_HIGH);
}

static void
gst_bidi_nova_sonic_send_history (GstBidiRealtimeProvider * base,
    GPtrArray * messages)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (base);
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_object_unref);

  gst_bidi_nova_history_blocks (G_OBJECT (self), events, messages,
      self->prompt, &self->content_seq, self->run->history_max_bytes);
  send_events (self, events);
}

static void
open_audio (GstBidiNovaSonic * self)
{
  JsonObject *start, *conf;

  self->audio_content = next_content_name (self, "audio");
  start = gst_bidi_nova_content_ref (self->prompt, self->audio_content);
  json_object_set_string_member (start, "type", "AUDIO");
  json_object_set_boolean_member (start, "interactive", TRUE);
  json_object_set_string_member (start, "role", "USER");
  conf = json_object_new ();
  json_object_set_string_member (conf, "mediaType", "audio/lpcm");
  json_object_set_int_member (conf, "sampleRateHertz", IN_RATE);
  json_object_set_int_member (conf, "sampleSizeBits", 16);
  json_object_set_int_member (conf, "channelCount", 1);
  json_object_set_string_member (conf, "audioType", "SPEECH");
  json_object_set_string_member (conf, "encoding", "base64");
  json_object_set_object_member (start, "audioInputConfiguration", conf);
  send_event (self, "contentStart", start);
}

static void
send_pcm (GstBidiNovaSonic * self, const guint8 * data, gsize size)
{
  gchar *b64, *text;

  if (size == 0)
    return;
  if (!self->audio_content)
    open_audio (self);
  b64 = g_base64_encode (data, size);
  /* our own names and base64 need no JSON escaping */
  text = g_strconcat ("{\"event\":{\"audioInput\":{\"promptName\":\"",
      self->prompt, "\",\"contentName\":\"", self->audio_content,
      "\",\"content\":\"", b64, "\"}}}", NULL);
  gst_bidi_realtime_provider_send_json_text (BASE (self), text);
  g_free (text);
  g_free (b64);
}

static void
gst_bidi_nova_sonic_send_audio (GstBidiRealtimeProvider * base, GBytes * pcm,
    G_GNUC_UNUSED gint64 arrived_us)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (pcm, &size);

  send_pcm (GST_BIDI_NOVA_SONIC (base), data, size);
}

static void
send_text_block (GstBidiNovaSonic * self, const gchar * role,
    gboolean interactive, const gchar * text)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_object_unref);
  gchar *name = next_content_name (self, "text");

  gst_bidi_nova_text_block (events, self->prompt, name, role, interactive,
      text);
  g_free (name);
  send_events (self, events);
}

static void
gst_bidi_nova_sonic_send_text (GstBidiRealtimeProvider * base,
    const gchar * text, const gchar * role)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (base);
  gchar *valid = gst_bidi_realtime_make_valid (text, MAX_TEXT_SIZE);

  if (g_strcmp0 (role, "assistant") == 0) {
    /* context, not a question */
    send_text_block (self, "ASSISTANT", FALSE, valid);
  } else {
    /* Nova takes one SYSTEM block per prompt: later instructions are the
     * user's words, answered only when they are the user's */
    gboolean ask = g_strcmp0 (role, "system") != 0;

    GST_DEBUG_OBJECT (self, "%s text: %s", ask ? "user" : "system", valid);
    send_text_block (self, "USER", ask, valid);
    if (ask) {
      /* a new turn of the user's: what was cut is over */
      if (self->turn == TURN_CUT)
        self->turn = TURN_IDLE;
      expect_reply (self);
      silence_watch (self);
    }
  }
  g_free (valid);
}

static void
gst_bidi_nova_sonic_send_tool_result (GstBidiRealtimeProvider * base,
    const gchar * call_id, const gchar * output)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (base);
  gpointer stream;

  if (!g_hash_table_lookup_extended (self->calls, call_id, NULL, &stream) ||
      GPOINTER_TO_UINT (stream) != self->stream_seq) {
    /* a call of an earlier stream, which this one does not know: the
     * model hears the result in words */
    gchar *text = g_strdup_printf ("[the tool call %s returned: %s]",
        call_id, output);

    GST_DEBUG_OBJECT (self, "result of %s for a new stream: as text",
        call_id);
    gst_bidi_nova_sonic_send_text (base, text, "user");
    g_free (text);
    g_hash_table_remove (self->calls, call_id);
    return;
  }
  send_tool_block (self, call_id, output);
  g_hash_table_remove (self->calls, call_id);
  expect_reply (self);
}

static void
gst_bidi_nova_sonic_tool_results_done (G_GNUC_UNUSED
    GstBidiRealtimeProvider * base)
{
  /* Nova goes on by itself once it has a result */
}

static void
gst_bidi_nova_sonic_interrupt (GstBidiRealtimeProvider * base,
    guint64 played_ms)
{
  /* nothing to send: Nova has no truncate; the base keeps what was heard
   * for the history */
  GST_DEBUG_OBJECT (base, "interrupted after %" G_GUINT64_FORMAT " ms",
      played_ms);
}

static gboolean
settle_done_cb (gpointer user_data)
{
  GstBidiNovaSonic *self = user_data;

  gst_bidi_realtime_provider_timer_fired (&self->settle_timer);
  self->settling = FALSE;
  GST_DEBUG_OBJECT (self, "end of input settled");
  gst_bidi_realtime_provider_check_idle (BASE (self));
  return G_SOURCE_REMOVE;
}

/* The input ended. Nova's turn detection runs on the audio alone: the
 * silence after the last words makes it answer them. */
static void
gst_bidi_nova_sonic_end_input (GstBidiRealtimeProvider * base)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (base);
  gsize chunk = END_SILENCE_CHUNK_MS * IN_BYTES_PER_MS;
  guint8 *zeros = g_malloc0 (chunk);
  guint i;

  GST_INFO_OBJECT (self, "input ended: %u ms of silence", END_SILENCE_MS);
  for (i = 0; i < END_SILENCE_MS / END_SILENCE_CHUNK_MS; i++)
    send_pcm (self, zeros, chunk);
  g_free (zeros);
  self->settling = TRUE;
  gst_bidi_realtime_provider_start_timer (base, &self->settle_timer,
      END_SETTLE_MS, settle_done_cb, "bidinovasonic-settle");
}

/* Ends the stream cleanly on the server before the base closes it */
static void
gst_bidi_nova_sonic_closing (GstBidiRealtimeProvider * base)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (base);

  if (!self->prompt)
    return;
  if (self->audio_content)
    send_event (self, "contentEnd", gst_bidi_nova_content_ref (self->prompt,
            self->audio_content));
  if (self->prompt_open)
    send_event (self, "promptEnd", gst_bidi_nova_content_ref (self->prompt,
            NULL));
  send_event (self, "sessionEnd", json_object_new ());
  g_clear_pointer (&self->audio_content, g_free);
  self->prompt_open = FALSE;
}

static guint
gst_bidi_nova_sonic_busy (GstBidiRealtimeProvider * base)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (base);
  gint64 left;

  if (self->settling || self->user_open || self->turn == TURN_ACTIVE ||
      g_hash_table_size (self->calls) > 0)
    return G_MAXUINT;
  if (!self->reply_due_until)
    return 0;
  left = self->reply_due_until - g_get_monotonic_time ();
  if (left <= 0) {
    self->reply_due_until = 0;
    return 0;
  }
  return MAX (left / 1000, 1) + 1;
}

static gboolean
gst_bidi_nova_sonic_awaiting_reply (GstBidiRealtimeProvider * base)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (base);

  return self->turn == TURN_ACTIVE || self->reply_due_until != 0;
}

/* What belonged to the stream that went */
static void
forget_stream (GstBidiNovaSonic * self)
{
  gst_bidi_realtime_provider_clear_timer (&self->ready_timer);
  gst_bidi_realtime_provider_clear_timer (&self->end_timer);
  gst_bidi_realtime_provider_clear_timer (&self->silence_timer);
  g_clear_pointer (&self->audio_content, g_free);
  g_clear_pointer (&self->prompt, g_free);
  g_clear_pointer (&self->block_id, g_free);
  g_clear_pointer (&self->block_type, g_free);
  g_clear_pointer (&self->block_role, g_free);
  self->prompt_open = FALSE;
  self->stage = STAGE_NONE;
  self->end_pending = FALSE;
  self->reply_due_until = 0;
  if (self->turn == TURN_CUT)
    self->turn = TURN_IDLE;
}

static gboolean
gst_bidi_nova_sonic_connection_lost (GstBidiRealtimeProvider * base)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (base);
  gchar *id;
  gboolean alive = TRUE;

  /* the user's words so far are what was heard of them */
  if (!user_finish (self))
    return FALSE;
  if (self->turn == TURN_ACTIVE) {
    self->turn = TURN_IDLE;
    g_string_truncate (self->answer_text, 0);
    g_string_truncate (self->preview_text, 0);
    id = g_strdup (self->turn_id);
    alive = emit (self, gst_bidi_event_new_response_complete (id, "error"));
    g_free (id);
  }
  forget_stream (self);
  return alive;
}

static void
gst_bidi_nova_sonic_reset (GstBidiRealtimeProvider * base)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (base);

  gst_bidi_realtime_provider_clear_timer (&self->settle_timer);
  forget_stream (self);
  /* none after finalize (the base's stops again) */
  if (self->calls)
    g_hash_table_remove_all (self->calls);
  if (self->user_text) {
    g_string_truncate (self->user_text, 0);
    g_string_truncate (self->answer_text, 0);
    g_string_truncate (self->preview_text, 0);
  }
  g_clear_pointer (&self->turn_id, g_free);
  g_clear_pointer (&self->run, gst_bidi_nova_settings_free);
  self->user_open = self->settling = FALSE;
  self->turn = TURN_IDLE;
  self->stream_seq = self->turn_seq = self->cut_seq = self->call_group = 0;
}

/* ------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------ */

static void
gst_bidi_nova_sonic_get_audio_formats (G_GNUC_UNUSED GstBidiProvider *
    provider, GstAudioInfo * in_info, GstAudioInfo * out_info)
{
  gst_audio_info_set_format (in_info, GST_AUDIO_FORMAT_S16LE, IN_RATE, 1,
      NULL);
  gst_audio_info_set_format (out_info, GST_AUDIO_FORMAT_S16LE, OUT_RATE, 1,
      NULL);
}

static void
gst_bidi_nova_sonic_finalize (GObject * object)
{
  GstBidiNovaSonic *self = GST_BIDI_NOVA_SONIC (object);

  /* the element stops us first; this is the safety net (the base's
   * finalize stops again, and reset then finds no tables) */
  gst_bidi_provider_stop (GST_BIDI_PROVIDER (self));
  g_clear_pointer (&self->calls, g_hash_table_unref);
  g_string_free (self->user_text, TRUE);
  g_string_free (self->answer_text, TRUE);
  g_string_free (self->preview_text, TRUE);
  self->user_text = self->answer_text = self->preview_text = NULL;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_bidi_nova_sonic_class_init (GstBidiNovaSonicClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBidiProviderClass *provider_class = GST_BIDI_PROVIDER_CLASS (klass);
  GstBidiRealtimeProviderClass *rt_class =
      GST_BIDI_REALTIME_PROVIDER_CLASS (klass);

  gobject_class->finalize = gst_bidi_nova_sonic_finalize;
  provider_class->get_audio_formats =
      GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_get_audio_formats);

  rt_class->name = PROVIDER_NAME;
  rt_class->server_name = SERVER_NAME;
  rt_class->key_name = NULL;    /* AWS credentials, read in parse_settings */
  rt_class->connect = gst_bidi_nova_transport_connect;
  rt_class->in_bytes_per_ms = IN_BYTES_PER_MS;
  rt_class->out_bytes_per_ms = OUT_BYTES_PER_MS;
  rt_class->default_max_session_s = DEFAULT_MAX_SESSION_S;
  rt_class->image_types = NULL; /* Nova takes no images */
  rt_class->parse_settings =
      GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_parse_settings);
  rt_class->reset = GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_reset);
  rt_class->get_headers = GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_get_headers);
  rt_class->open = GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_open);
  rt_class->send_history =
      GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_send_history);
  rt_class->handle_message =
      GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_handle_message);
  rt_class->send_audio = GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_send_audio);
  rt_class->send_text = GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_send_text);
  rt_class->send_tool_result =
      GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_send_tool_result);
  rt_class->tool_results_done =
      GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_tool_results_done);
  rt_class->interrupt = GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_interrupt);
  rt_class->end_input = GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_end_input);
  rt_class->busy = GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_busy);
  rt_class->connection_lost =
      GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_connection_lost);
  rt_class->awaiting_reply =
      GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_awaiting_reply);
  rt_class->get_transport_data =
      GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_get_transport_data);
  rt_class->closing = GST_DEBUG_FUNCPTR (gst_bidi_nova_sonic_closing);
}

static void
gst_bidi_nova_sonic_init (GstBidiNovaSonic * self)
{
  self->calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  self->user_text = g_string_new (NULL);
  self->answer_text = g_string_new (NULL);
  self->preview_text = g_string_new (NULL);
}
