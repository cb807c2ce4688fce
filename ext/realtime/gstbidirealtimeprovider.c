/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gstbidirealtimeprovider
 * @title: GstBidiRealtimeProvider
 * @short_description: base class of the providers that talk to a
 *     realtime model server
 *
 * Implements the #GstBidiProvider vfuncs once for every provider that
 * keeps a session open with a server through a #GstBidiTransport (the
 * WebSocket client by default), and leaves its subclass only the wire
 * format (see #GstBidiRealtimeProviderClass).
 *
 * The life of a run: start() reads the settings and connects. The
 * transport's open calls the subclass's open (which configures the
 * session), then the conversation so far is replayed (send_history). When
 * the subclass says the session is ready, the input that waited is sent in
 * order (audio first, in a drop-oldest queue of the last 10 s; then texts,
 * images and the end of input, at most 64 of them and 16 MiB of images),
 * then bidi_connection_start is emitted (after a reconnection,
 * bidi_connection_restart first). While a dropped session is made again,
 * the element is told the input is full (gst_bidi_provider_set_input_full)
 * and keeps the audio itself, where a file waits and loses nothing; the
 * queue here takes only what was on its way.
 *
 * Transport settings (provider-config, read here for every subclass):
 *
 * * `reconnect-attempts` (int, 5): reconnections tried in a row after the
 *   connection dropped (or the session limit) before giving up; 0 never
 *   reconnects
 * * `reconnect-delay-ms` (int, 500): first delay; doubled at each attempt
 *   up to 30 s, with jitter
 * * `max-session-s` (int, 3300): renew the session at the first quiet
 *   moment (the subclass's busy() says 0) after this many seconds, before
 *   the server's limit cuts it (0: never)
 * * `connect-timeout-ms` (int, 20000): connecting and configuring the
 *   session must take at most this long
 * * `keepalive-s` (int, 20): seconds between pings (0: none)
 * * `stall-timeout-ms` (int, 15000): while the server owes a reply (an
 *   answer was asked for or is under way, see the subclass's
 *   awaiting_reply), a connection on which nothing arrives for this long is
 *   taken as dead: it is closed and made again (0: never). So is one
 *   whose server takes none of what is sent (the socket's unacknowledged
 *   bytes never go down) for this long, owed or not: a hung server while
 *   the microphone streams, which pings cannot show with libsoup 3.2
 * * `reconnect-reset-ms` (int, 10000): a session counts as established, and
 *   the reconnection attempts start again from the first, once it has
 *   completed an answer or stayed up this long; a server that drops every
 *   session sooner uses up `reconnect-attempts`
 * * `max-message-size` (int, 16777216): largest server message, in bytes
 *
 * The key is the element's `api-key`, else the class's environment
 * variable; it only ever goes into the subclass's headers. TLS is
 * verified, with the element's `ssl-ca-file` as extra trust (`ssl-strict`
 * false is honoured for loopback hosts only).
 *
 * Failing to connect at start, a refused key or a refused connection is
 * fatal at once. A session that drops later is made again with backoff.
 *
 * What is sent and not yet taken by the server is bounded: past about
 * 3 s of audio waiting (in the transport's queue and the socket's; a
 * server that reads slower than the input comes, or not at all), the
 * element is told the input is full (gst_bidi_provider_set_input_full())
 * until half of it was taken.
 *
 * The conversation replayed into a new session is the element's history
 * (GstBidiProviderConfig.history, history_json when there is none) as it
 * stood when the connection went, plus what the element has not recorded
 * yet: the answer being spoken (as far as it was heard) and the tool calls
 * still waiting for their result. Inputs queued during the gap are sent
 * after it, once.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <libsoup/soup.h>

#include <gst/bidi/gstbidievents.h>
#include <gst/bidi/gstbidijson.h>
#include <gst/bidi/gstbiditools.h>
#include <gst/bidi/gstbidiaudioqueue.h>

#include "gstbidirealtimeprovider.h"
#include "gstbidirealtime.h"
#include "gstbidiws.h"

GST_DEBUG_CATEGORY_STATIC (bidi_realtime_provider_debug);
#define GST_CAT_DEFAULT bidi_realtime_provider_debug

#define DEFAULT_RECONNECT_ATTEMPTS 5
#define DEFAULT_RECONNECT_DELAY_MS 500
#define DEFAULT_MAX_SESSION_S 3300
#define DEFAULT_CONNECT_TIMEOUT_MS 20000
#define DEFAULT_KEEPALIVE_S 20
#define DEFAULT_MAX_MESSAGE_SIZE (16 * 1024 * 1024)
#define DEFAULT_MAX_PENDING_AUDIO_MS 10000
#define DEFAULT_STALL_TIMEOUT_MS 15000
#define DEFAULT_RECONNECT_RESET_MS 10000
/* how often the transport's sending is looked at, while something waits */
#define SEND_CHECK_MS 1000

/* Bounds */
#define RECONNECT_MAX_DELAY_MS 30000
#define MAX_PENDING_INPUTS 64   /* texts, images, while (re)connecting */
#define MAX_PENDING_IMAGE_BYTES (16 * 1024 * 1024)
#define MAX_ARGS_SIZE (1024 * 1024)     /* tool arguments, tool results */
#define MAX_CALLS 64
#define MAX_BAD_MESSAGE_EVENTS 10       /* per connection; then logs only */
#define MAX_JSON_DEPTH 64
#define MAX_ANSWER_SIZE (64 * 1024)
/* what may wait to be taken by the server (in the transport's queue and
 * the kernel's) before the input is held back: this much audio, base64 in
 * JSON (4/3), and never less than the bytes. A server that keeps up has
 * far less in flight. */
#define MAX_SEND_BACKLOG_MS 3000
#define MIN_SEND_BACKLOG (64 * 1024)
#define EXCERPT_CHARS 300

typedef enum
{
  STATE_IDLE,                   /* not started */
  STATE_CONNECTING,             /* transport connecting */
  STATE_CONFIGURING,            /* open, waiting for session_ready () */
  STATE_READY,
  STATE_WAITING,                /* before a reconnection attempt */
  STATE_CLOSED                  /* ended: complete or fatal */
} State;

/* What every realtime provider reads from provider-config */
typedef struct
{
  guint reconnect_attempts;
  guint reconnect_delay_ms;
  guint max_session_s;
  guint connect_timeout_ms;
  guint keepalive_s;
  gint max_message_size;
  guint stall_timeout_ms;
  guint reconnect_reset_ms;
} Settings;

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
  gboolean sent;                /* the result was sent */
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

typedef struct
{
  /* all network thread only (configure, on the application thread, uses
   * none of them) */
  gboolean started;
  guint epoch;                  /* bumped by stop: detects a re-entrant
                                 * stop from inside an emit */
  State state;
  Settings set;
  gchar *url;
  gchar *model;                 /* of the session ready, for the events */
  gchar *api_key;               /* wiped when stopped */
  gboolean ssl_strict;
  GTlsDatabase *ca_database;
  gchar *conn_id;
  GMainContext *ctx;
  GstBidiTransport *transport;
  guint n_sessions;             /* sessions made ready since start */
  guint attempt;                /* failed reconnection attempts in a row */
  gchar *restart_reason;
  GSource *setup_timer;
  GSource *retry_timer;
  GSource *age_timer;
  GSource *recheck_timer;
  gboolean renew;               /* max-session-s reached, or asked for */
  gchar *renew_reason;          /* the restart reason when asked for */

  /* the health of the session ready: one timer watches both */
  GSource *watch_timer;
  gint64 ready_at;              /* monotonic */
  gint64 last_rx;               /* the last message from the server */
  gboolean established;         /* did useful work: attempts reset */
  gboolean due;                 /* the server owes a reply (since due_since) */
  gint64 due_since;
  gboolean send_check;          /* something was sent: look at the transport */
  gint64 send_checked_at;
  gboolean input_full;          /* told the element (set_input_full) */
  guint64 max_backlog;          /* bytes waiting in the transport */
  guint n_bad_messages;

  /* input that waits for the session */
  GstBidiAudioQueue audio;
  gboolean audio_dropping;
  GQueue inputs;                /* Input */
  gsize input_image_bytes;
  gboolean end_input;
  gboolean input_finished;

  GPtrArray *calls;             /* Call */

  /* the conversation: the element's (not owned, valid until stop), the
   * JSON to replay into the next session, and the answer the element has
   * not recorded yet (it records an answer's final transcripts once the
   * conversation moves on) */
  GstBidiHistory *history;
  gchar *history_json;
  gchar *replay;
  GString *answer;
  GArray *answer_cuts;          /* gsize: where each phased item ends */
  gchar *answer_partial;        /* the item being spoken, not final yet */
  gboolean user_pending;        /* the user's words are being transcribed */
  guint64 answer_bytes;
  guint64 answer_heard_ms;      /* G_MAXUINT64: not interrupted */
} GstBidiRealtimeProviderPrivate;

#define gst_bidi_realtime_provider_parent_class parent_class
G_DEFINE_ABSTRACT_TYPE_WITH_CODE (GstBidiRealtimeProvider,
    gst_bidi_realtime_provider, GST_TYPE_BIDI_PROVIDER,
    G_ADD_PRIVATE (GstBidiRealtimeProvider);
    GST_DEBUG_CATEGORY_INIT (bidi_realtime_provider_debug,
        "bidirealtimeprovider", 0, "bidiagent realtime provider base"));

#define PRIV(self) ((GstBidiRealtimeProviderPrivate *) \
    gst_bidi_realtime_provider_get_instance_private (self))
#define KLASS(self) GST_BIDI_REALTIME_PROVIDER_GET_CLASS (self)

static void connect_session (GstBidiRealtimeProvider * self);
static void watch_update_due (GstBidiRealtimeProvider * self);
static void watch_note_send (GstBidiRealtimeProvider * self);
static void mark_established (GstBidiRealtimeProvider * self,
    const gchar * why);
static void gst_bidi_realtime_provider_stop (GstBidiProvider * provider);

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

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

void
gst_bidi_realtime_provider_clear_timer (GSource ** timer)
{
  if (*timer) {
    g_source_destroy (*timer);
    g_source_unref (*timer);
    *timer = NULL;
  }
}

void
gst_bidi_realtime_provider_start_timer (GstBidiRealtimeProvider * self,
    GSource ** timer, guint ms, GSourceFunc func, const gchar * name)
{
  gst_bidi_realtime_provider_clear_timer (timer);
  *timer = g_timeout_source_new (ms);
  g_source_set_callback (*timer, func, self, NULL);
  g_source_set_name (*timer, name);
  g_source_attach (*timer, PRIV (self)->ctx);
}

void
gst_bidi_realtime_provider_timer_fired (GSource ** timer)
{
  g_source_unref (*timer);
  *timer = NULL;
}

static void
clear_timers (GstBidiRealtimeProviderPrivate * priv)
{
  gst_bidi_realtime_provider_clear_timer (&priv->setup_timer);
  gst_bidi_realtime_provider_clear_timer (&priv->retry_timer);
  gst_bidi_realtime_provider_clear_timer (&priv->age_timer);
  gst_bidi_realtime_provider_clear_timer (&priv->recheck_timer);
  gst_bidi_realtime_provider_clear_timer (&priv->watch_timer);
}

gchar *
gst_bidi_realtime_provider_clean (GstBidiRealtimeProvider * self,
    const gchar * text, gsize len)
{
  return gst_bidi_realtime_clean_text (text, len, PRIV (self)->api_key,
      EXCERPT_CHARS);
}

gint
gst_bidi_realtime_provider_get_max_message_size (GstBidiRealtimeProvider *
    self)
{
  return PRIV (self)->set.max_message_size;
}

gboolean
gst_bidi_realtime_provider_is_ready (GstBidiRealtimeProvider * self)
{
  return PRIV (self)->state == STATE_READY;
}

gboolean
gst_bidi_realtime_provider_send_object (GstBidiRealtimeProvider * self,
    JsonObject * obj)
{
  gboolean ret;

  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_LOG) {
    const gchar *type = gst_bidi_json_get_string (obj, "type");
    GST_LOG_OBJECT (self, "sending %s", GST_STR_NULL (type));
  }
  ret = gst_bidi_transport_send_object (PRIV (self)->transport, obj);
  if (!ret)
    GST_DEBUG_OBJECT (self, "not connected: message dropped");
  json_object_unref (obj);
  /* it may have asked the server for something */
  watch_update_due (self);
  watch_note_send (self);
  return ret;
}

gboolean
gst_bidi_realtime_provider_send_json_text (GstBidiRealtimeProvider * self,
    const gchar * text)
{
  gboolean ret = gst_bidi_transport_send_text (PRIV (self)->transport, text);

  watch_update_due (self);
  watch_note_send (self);
  return ret;
}

/* ------------------------------------------------------------------------
 * Events, and the answer the element has not recorded yet
 * ------------------------------------------------------------------------ */

static void
answer_clear (GstBidiRealtimeProviderPrivate * priv)
{
  g_string_truncate (priv->answer, 0);
  g_array_set_size (priv->answer_cuts, 0);
  g_clear_pointer (&priv->answer_partial, g_free);
  priv->answer_bytes = 0;
  priv->answer_heard_ms = G_MAXUINT64;
}

/* Follows the element's history recorder: an answer goes into the
 * element's history once the conversation moves on (the user speaks or
 * types, the next answer starts, a tool result comes); until then, only
 * this provider knows it. */
static void
answer_note (GstBidiRealtimeProviderPrivate * priv, const GstStructure * ev)
{
  const gchar *name = gst_structure_get_name (ev);
  const gchar *role, *text;
  gboolean is_final = FALSE;

  if (strcmp (name, GST_BIDI_EVENT_RESPONSE_START) == 0) {
    if (!priv->user_pending)
      answer_clear (priv);
    return;
  }
  if (strcmp (name, GST_BIDI_EVENT_TRANSCRIPT_STREAM) != 0)
    return;
  role = gst_structure_get_string (ev, "role");
  text = gst_structure_get_string (ev, "text");
  gst_structure_get_boolean (ev, "is_final", &is_final);
  if (!text || !*text)
    return;
  if (g_strcmp0 (role, "user") == 0) {
    if (!priv->user_pending)
      answer_clear (priv);
    priv->user_pending = !is_final;
  } else if (g_strcmp0 (role, "assistant") == 0 && !is_final) {
    const gchar *cur = gst_structure_get_string (ev, "current_transcript");

    /* the text so far, or (past the size events carry it at) a delta */
    if (cur || !priv->answer_partial) {
      g_free (priv->answer_partial);
      priv->answer_partial = g_strdup (cur ? cur : text);
    } else if (strlen (priv->answer_partial) + strlen (text) <
        MAX_ANSWER_SIZE) {
      gchar *all = g_strconcat (priv->answer_partial, text, NULL);

      g_free (priv->answer_partial);
      priv->answer_partial = all;
    }
  } else if (g_strcmp0 (role, "assistant") == 0) {
    g_clear_pointer (&priv->answer_partial, g_free);
    if (priv->answer->len + strlen (text) < MAX_ANSWER_SIZE) {
      if (priv->answer->len > 0)
        g_string_append_c (priv->answer, ' ');
      g_string_append (priv->answer, text);
      /* the element records each item of a phased answer as a message of
       * its own: so does the replay */
      if (gst_structure_has_field (ev, "phase"))
        g_array_append_val (priv->answer_cuts, priv->answer->len);
    }
  }
}

void
gst_bidi_realtime_provider_set_heard_answer (GstBidiRealtimeProvider * self,
    const gchar * text)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  gsize len = text ? strlen (text) : 0;
  GArray *kept = g_array_new (FALSE, FALSE, sizeof (gsize));
  guint i;

  /* the server's text replaces ours; the items heard whole begin it, as
   * they began ours: their ends stay */
  for (i = 0; i < priv->answer_cuts->len; i++) {
    gsize cut = g_array_index (priv->answer_cuts, gsize, i);

    if (cut < len && text[cut] == ' ' && cut <= priv->answer->len &&
        strncmp (text, priv->answer->str, cut) == 0)
      g_array_append_val (kept, cut);
  }
  answer_clear (priv);
  if (text && len < MAX_ANSWER_SIZE) {
    g_string_assign (priv->answer, text);
    g_array_append_vals (priv->answer_cuts, kept->data, kept->len);
  }
  g_array_unref (kept);
}

gboolean
gst_bidi_realtime_provider_emit (GstBidiRealtimeProvider * self,
    GstStructure * event)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  guint epoch = priv->epoch;

  if (!priv->started) {
    gst_structure_free (event);
    return FALSE;
  }
  answer_note (priv, event);
  /* an answer the server finished: the session does useful work */
  if (gst_structure_has_name (event, GST_BIDI_EVENT_RESPONSE_COMPLETE) &&
      g_strcmp0 (gst_structure_get_string (event, "stop_reason"),
          "error") != 0)
    mark_established (self, "an answer was completed");
  gst_bidi_provider_emit (GST_BIDI_PROVIDER (self), event);
  /* the element may have stopped us from inside the emit */
  return priv->started && priv->epoch == epoch;
}

void
gst_bidi_realtime_provider_emit_audio (GstBidiRealtimeProvider * self,
    GBytes * pcm)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  if (!priv->started)
    return;
  priv->answer_bytes += g_bytes_get_size (pcm);
  gst_bidi_provider_emit_audio (GST_BIDI_PROVIDER (self), pcm);
}

void
gst_bidi_realtime_provider_report_bad_message (GstBidiRealtimeProvider *
    self, const gchar * message)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  GST_WARNING_OBJECT (self, "%s", message);
  if (++priv->n_bad_messages > MAX_BAD_MESSAGE_EVENTS) {
    if (priv->n_bad_messages == MAX_BAD_MESSAGE_EVENTS + 1)
      GST_WARNING_OBJECT (self, "too many malformed messages: only logging "
          "them from now on");
    return;
  }
  gst_bidi_realtime_provider_emit (self, gst_bidi_event_new_error (message,
          "bad_message", NULL));
}

/* ------------------------------------------------------------------------
 * The conversation replayed into a new session
 * ------------------------------------------------------------------------ */

static JsonObject *
text_message (gboolean assistant, const gchar * text)
{
  JsonObject *msg = json_object_new (), *block = json_object_new ();
  JsonArray *content = json_array_new ();

  json_object_set_string_member (block, "text", text);
  json_array_add_object_element (content, block);
  json_object_set_string_member (msg, "role", assistant ? "assistant" :
      "user");
  json_object_set_array_member (msg, "content", content);
  return msg;
}

/* The answer as far as it was heard (@text, a prefix of the items joined
 * by a space), one message per item ended at @cuts, as the element's
 * history has it. A cut that is not at a joining space is ignored: the
 * text is not the one the cuts were taken in. */
static void
add_answer_messages (JsonArray * messages, const gchar * text, GArray * cuts)
{
  gsize from = 0, len = strlen (text);
  guint i;

  for (i = 0; i <= cuts->len && from < len; i++) {
    gsize to = i < cuts->len ? g_array_index (cuts, gsize, i) : len;
    gchar *part;

    if (to < len && text[to] != ' ')
      continue;
    to = MIN (to, len);
    if (to <= from)
      continue;
    part = g_strndup (text + from, to - from);
    if (!gst_bidi_realtime_is_blank (part))
      json_array_add_object_element (messages, text_message (TRUE, part));
    g_free (part);
    from = to < len ? to + 1 : len;
  }
}

/* The conversation as it stands now: the element's, and what it has not
 * recorded yet. Calls whose result already came are in the element's
 * history with it: they are not sent again. */
static void
take_replay (GstBidiRealtimeProvider * self)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  gchar *json = priv->history ? gst_bidi_history_to_json (priv->history) :
      g_strdup (priv->history_json);
  JsonNode *root = json && *json ? json_from_string (json, NULL) : NULL;
  JsonArray *messages;
  JsonObject *uses = NULL;
  gchar *text = NULL;
  guint i;

  g_free (json);
  if (root && !JSON_NODE_HOLDS_ARRAY (root))
    g_clear_pointer (&root, json_node_unref);
  if (!root) {
    root = json_node_new (JSON_NODE_ARRAY);
    json_node_take_array (root, json_array_new ());
  }
  messages = json_node_get_array (root);

  /* the answer being spoken, as far as it was heard */
  if (priv->answer->len > 0 || priv->answer_partial) {
    GString *all = g_string_new (priv->answer->str);
    guint64 total_ms = KLASS (self)->out_bytes_per_ms ?
        priv->answer_bytes / KLASS (self)->out_bytes_per_ms : 0;

    if (priv->answer_partial) {
      if (all->len > 0)
        g_string_append_c (all, ' ');
      g_string_append (all, priv->answer_partial);
    }
    text = priv->answer_heard_ms == G_MAXUINT64 ? g_strdup (all->str) :
        gst_bidi_heard_text (all->str, priv->answer_heard_ms, total_ms);
    g_string_free (all, TRUE);
  }
  if (text)
    add_answer_messages (messages, text, priv->answer_cuts);
  g_free (text);

  /* the calls the model made that wait for their result */
  for (i = 0; i < priv->calls->len; i++) {
    Call *c = g_ptr_array_index (priv->calls, i);
    JsonObject *use, *block;
    JsonNode *input;

    if (!c->emitted || c->sent)
      continue;
    if (c->result) {
      c->sent = TRUE;
      continue;
    }
    if (!uses) {
      uses = json_object_new ();
      json_object_set_string_member (uses, "role", "assistant");
      json_object_set_array_member (uses, "content", json_array_new ());
    }
    use = json_object_new ();
    json_object_set_string_member (use, "toolUseId", c->call_id);
    json_object_set_string_member (use, "name", c->name);
    input = gst_bidi_json_parse (c->args->str, NULL);
    if (!input || !JSON_NODE_HOLDS_OBJECT (input)) {
      g_clear_pointer (&input, json_node_unref);
      input = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (input, json_object_new ());
    }
    json_object_set_member (use, "input", input);
    block = json_object_new ();
    json_object_set_object_member (block, "toolUse", use);
    json_array_add_object_element (json_object_get_array_member (uses,
            "content"), block);
  }
  if (uses)
    json_array_add_object_element (messages, uses);

  g_free (priv->replay);
  priv->replay = gst_bidi_json_to_string (root);
  json_node_unref (root);
}

static void
replay_history (GstBidiRealtimeProvider * self)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  GPtrArray *messages;
  GError *err = NULL;

  messages = gst_bidi_history_parse (priv->replay, &err);
  if (!messages) {
    GST_WARNING_OBJECT (self, "the conversation cannot be replayed: %s",
        err->message);
    g_error_free (err);
    return;
  }
  if (messages->len > 0 && KLASS (self)->send_history)
    KLASS (self)->send_history (self, messages);
  g_ptr_array_unref (messages);
}

/* ------------------------------------------------------------------------
 * Tool calls
 * ------------------------------------------------------------------------ */

static Call *
find_call (GstBidiRealtimeProviderPrivate * priv, const gchar * call_id,
    const gchar * item_id)
{
  guint i;

  for (i = 0; i < priv->calls->len; i++) {
    Call *c = g_ptr_array_index (priv->calls, i);
    if ((call_id && g_strcmp0 (c->call_id, call_id) == 0) ||
        (!call_id && item_id && g_strcmp0 (c->item_id, item_id) == 0))
      return c;
  }
  return NULL;
}

static Call *
add_call (GstBidiRealtimeProvider * self, const gchar * call_id,
    const gchar * name, const gchar * item_id, const gchar * resp_id)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  Call *c;

  if (priv->calls->len >= MAX_CALLS) {
    /* the oldest finished one makes room; else refuse */
    guint i;
    for (i = 0; i < priv->calls->len; i++) {
      c = g_ptr_array_index (priv->calls, i);
      if (c->closed && (!c->emitted || c->sent)) {
        g_ptr_array_remove_index (priv->calls, i);
        break;
      }
    }
    if (priv->calls->len >= MAX_CALLS) {
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
  g_ptr_array_add (priv->calls, c);
  return c;
}

gboolean
gst_bidi_realtime_provider_call_known (GstBidiRealtimeProvider * self,
    const gchar * call_id, const gchar * item_id)
{
  return find_call (PRIV (self), call_id, item_id) != NULL;
}

gboolean
gst_bidi_realtime_provider_call_add (GstBidiRealtimeProvider * self,
    const gchar * call_id, const gchar * name, const gchar * item_id,
    const gchar * response_id)
{
  Call *c = find_call (PRIV (self), call_id, item_id);

  if (!c) {
    if (!call_id)
      return FALSE;
    return add_call (self, call_id, name, item_id, response_id) != NULL;
  }
  if (!c->name && name)
    c->name = g_strdup (name);
  return TRUE;
}

void
gst_bidi_realtime_provider_call_append_args (GstBidiRealtimeProvider * self,
    const gchar * call_id, const gchar * item_id, const gchar * delta)
{
  Call *c = find_call (PRIV (self), call_id, item_id);

  if (c && delta && c->args->len + strlen (delta) <= MAX_ARGS_SIZE)
    g_string_append (c->args, delta);
}

/* The model asks for a tool: tool_use_stream, once per call. The element
 * may answer from inside the emit (built-in tools). */
void
gst_bidi_realtime_provider_call_ready (GstBidiRealtimeProvider * self,
    const gchar * call_id, const gchar * item_id, const gchar * args)
{
  Call *c = find_call (PRIV (self), call_id, item_id);
  const gchar *server = KLASS (self)->server_name;
  JsonObject *obj;
  gchar *input, *id, *name;

  if (!c || c->emitted || c->invalid)
    return;
  if (!c->name || !*c->name) {
    gchar *msg = g_strdup_printf ("%s sent a tool call without a name; "
        "ignored", server);
    c->invalid = TRUE;
    gst_bidi_realtime_provider_report_bad_message (self, msg);
    g_free (msg);
    return;
  }

  if (!args)
    args = c->args->str;
  input = g_strdup (args && !gst_bidi_realtime_is_blank (args) ? args : "{}");
  obj = gst_bidi_json_parse_object (input, strlen (input), MAX_ARGS_SIZE,
      MAX_JSON_DEPTH, NULL);
  if (!obj) {
    gchar *msg = g_strdup_printf ("%s sent malformed arguments for a call "
        "of tool \"%s\"; the call is ignored", server, c->name);
    c->invalid = TRUE;
    gst_bidi_realtime_provider_report_bad_message (self, msg);
    g_free (msg);
    g_free (input);
    return;
  }
  json_object_unref (obj);

  c->emitted = TRUE;
  /* kept for a replay while the result is due */
  g_string_assign (c->args, input);
  GST_INFO_OBJECT (self, "tool call %s: %s %s", c->call_id, c->name, input);
  /* @c may be gone when the emit returns */
  id = g_strdup (c->call_id);
  name = g_strdup (c->name);
  gst_bidi_realtime_provider_emit (self, gst_bidi_event_new_tool_use (id,
          name, input));
  g_free (id);
  g_free (name);
  g_free (input);
}

gboolean
gst_bidi_realtime_provider_calls_close (GstBidiRealtimeProvider * self,
    const gchar * response_id, gboolean completed)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  gboolean has_calls = FALSE;
  guint i;

  for (i = 0; i < priv->calls->len; i++) {
    Call *c = g_ptr_array_index (priv->calls, i);
    if (g_strcmp0 (c->resp_id, response_id) != 0 || c->closed)
      continue;
    c->closed = TRUE;
    /* after a cancel (the user spoke) the next turn answers; results are
     * still given to the model */
    c->respond = completed;
    has_calls |= c->emitted;
  }
  return has_calls;
}

gboolean
gst_bidi_realtime_provider_call_cancel (GstBidiRealtimeProvider * self,
    const gchar * call_id)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  Call *c = call_id ? find_call (priv, call_id, NULL) : NULL;
  gboolean announced;

  if (!c || c->sent || c->result) {
    GST_DEBUG_OBJECT (self, "cancel of call %s, which is not pending",
        GST_STR_NULL (call_id));
    return FALSE;
  }
  announced = c->emitted;
  /* its response needs no result for it any more; a late one is dropped
   * by the element, told by tool_cancel */
  c->emitted = FALSE;
  c->invalid = TRUE;
  GST_INFO_OBJECT (self, "the server withdrew tool call %s", call_id);
  if (announced && !gst_bidi_realtime_provider_emit (self,
          gst_bidi_event_new_tool_cancel (call_id)))
    return TRUE;
  gst_bidi_realtime_provider_flush_calls (self);
  return TRUE;
}

static gboolean
calls_pending (GstBidiRealtimeProviderPrivate * priv)
{
  guint i;

  for (i = 0; i < priv->calls->len; i++) {
    Call *c = g_ptr_array_index (priv->calls, i);
    if (c->emitted && !c->sent)
      return TRUE;
  }
  return FALSE;
}

/* Sends the results that can go (their response is over), and asks for
 * an answer once every call of a response has its result. */
void
gst_bidi_realtime_provider_flush_calls (GstBidiRealtimeProvider * self)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  gboolean respond = FALSE;
  guint i, j;

  if (priv->state != STATE_READY)
    return;

  for (i = 0; i < priv->calls->len; i++) {
    Call *c = g_ptr_array_index (priv->calls, i);

    if (!c->closed || !c->result || c->sent)
      continue;
    KLASS (self)->send_tool_result (self, c->call_id, c->result);
    c->sent = TRUE;
    GST_DEBUG_OBJECT (self, "tool result for %s sent", c->call_id);
  }

  /* a response's calls are done when each was answered (or ignored) */
  for (i = 0; i < priv->calls->len;) {
    Call *c = g_ptr_array_index (priv->calls, i);
    gboolean complete = TRUE, any_respond = FALSE;
    gchar *resp_id;

    if (!c->closed) {
      i++;
      continue;
    }
    for (j = 0; j < priv->calls->len && complete; j++) {
      Call *o = g_ptr_array_index (priv->calls, j);
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
    for (j = priv->calls->len; j > 0; j--) {
      Call *o = g_ptr_array_index (priv->calls, j - 1);
      if (g_strcmp0 (o->resp_id, resp_id) != 0)
        continue;
      any_respond |= o->respond && o->sent;
      g_ptr_array_remove_index (priv->calls, j - 1);
    }
    g_free (resp_id);
    respond |= any_respond;
    i = 0;
  }

  if (respond) {
    GST_DEBUG_OBJECT (self, "all tool results are in: asking for an answer");
    KLASS (self)->tool_results_done (self);
  }
}

/* Closes the connection we close ourselves (not one the peer closed or
 * that was lost: on_closed clears it first), letting the subclass end the
 * session cleanly on the server first */
static void
close_transport (GstBidiRealtimeProvider * self)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  if (!priv->transport)
    return;
  if (KLASS (self)->closing && gst_bidi_transport_is_open (priv->transport))
    KLASS (self)->closing (self);
  g_clear_pointer (&priv->transport, gst_bidi_transport_close_normal);
}

/* ------------------------------------------------------------------------
 * Ending, renewing
 * ------------------------------------------------------------------------ */

static gboolean
recheck_cb (gpointer user_data)
{
  GstBidiRealtimeProvider *self = user_data;

  gst_bidi_realtime_provider_timer_fired (&PRIV (self)->recheck_timer);
  gst_bidi_realtime_provider_check_idle (self);
  return G_SOURCE_REMOVE;
}

/* A session near its time limit is replaced while nobody speaks. */
static void
maybe_renew (GstBidiRealtimeProvider * self)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  gchar *reason;
  guint busy;

  if (!priv->renew || priv->state != STATE_READY || priv->end_input)
    return;
  busy = KLASS (self)->busy (self);
  if (busy == G_MAXUINT)
    return;
  if (busy > 0) {
    /* asked again then: nothing else may come to say it is idle */
    gst_bidi_realtime_provider_start_timer (self, &priv->recheck_timer,
        busy, recheck_cb, "bidirealtime-recheck");
    return;
  }
  priv->renew = FALSE;
  priv->attempt = 0;
  reason = g_steal_pointer (&priv->renew_reason);
  gst_bidi_realtime_provider_connection_lost (self, reason ? reason :
      "timeout", reason ? "renewing the session as the server asked" :
      "renewing the session before its time limit", TRUE);
  g_free (reason);
}

/* After end_input: once nothing is left to answer, the session is
 * complete. */
static void
check_close (GstBidiRealtimeProvider * self)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  guint busy;

  if (!priv->started || !priv->end_input || !priv->input_finished ||
      priv->state != STATE_READY)
    return;
  if (!g_queue_is_empty (&priv->inputs) || calls_pending (priv))
    return;
  busy = KLASS (self)->busy (self);
  if (busy == G_MAXUINT)
    return;
  if (busy > 0) {
    gst_bidi_realtime_provider_start_timer (self, &priv->recheck_timer,
        busy, recheck_cb, "bidirealtime-recheck");
    return;
  }

  GST_INFO_OBJECT (self, "input ended and answered: session complete");
  priv->state = STATE_CLOSED;
  gst_bidi_realtime_provider_clear_timer (&priv->age_timer);
  gst_bidi_realtime_provider_clear_timer (&priv->recheck_timer);
  gst_bidi_realtime_provider_clear_timer (&priv->watch_timer);
  close_transport (self);
  gst_bidi_realtime_provider_emit (self,
      gst_bidi_event_new_connection_close (priv->conn_id, "complete"));
}

void
gst_bidi_realtime_provider_check_idle (GstBidiRealtimeProvider * self)
{
  maybe_renew (self);
  check_close (self);
}

void
gst_bidi_realtime_provider_request_renew (GstBidiRealtimeProvider * self,
    const gchar * reason)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  if (priv->state != STATE_READY)
    return;
  GST_INFO_OBJECT (self, "renewing the session at the next pause (%s)",
      reason);
  g_free (priv->renew_reason);
  priv->renew_reason = g_strdup (reason);
  priv->renew = TRUE;
  maybe_renew (self);
}

static gboolean
age_cb (gpointer user_data)
{
  GstBidiRealtimeProvider *self = user_data;
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  gst_bidi_realtime_provider_timer_fired (&priv->age_timer);
  GST_INFO_OBJECT (self, "the session is %u s old: renewing it at the next "
      "pause", priv->set.max_session_s);
  priv->renew = TRUE;
  maybe_renew (self);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------
 * Health of the session ready: a server that went silent while it owes a
 * reply, and when a session counts as established. One timer per
 * connection, armed only while there is something to decide: none while
 * an established session is idle.
 * ------------------------------------------------------------------------ */

/* The reconnection attempts count failures in a row: a session that
 * works ends the row. One that is ready and then drops at once (a server
 * that fails every session just after setting it up) does not, so that
 * such a server uses up reconnect-attempts with a growing backoff. */
static void
mark_established (GstBidiRealtimeProvider * self, const gchar * why)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  if (priv->established || priv->state != STATE_READY)
    return;
  priv->established = TRUE;
  if (priv->attempt > 0)
    GST_INFO_OBJECT (self, "session established (%s): the reconnection "
        "attempts start again", why);
  priv->attempt = 0;
}

/* The next moment the watch has something to decide, 0 for none */
static gint64
watch_deadline (GstBidiRealtimeProviderPrivate * priv)
{
  gint64 next = 0;

  if (!priv->established)
    next = priv->ready_at +
        (gint64) priv->set.reconnect_reset_ms * G_TIME_SPAN_MILLISECOND;
  if (priv->due && priv->set.stall_timeout_ms > 0) {
    gint64 stall = MAX (priv->last_rx, priv->due_since) +
        (gint64) priv->set.stall_timeout_ms * G_TIME_SPAN_MILLISECOND;
    next = next ? MIN (next, stall) : stall;
  }
  if (priv->send_check) {
    gint64 check = priv->send_checked_at +
        SEND_CHECK_MS * G_TIME_SPAN_MILLISECOND;
    next = next ? MIN (next, check) : check;
  }
  return next;
}

static gboolean watch_cb (gpointer user_data);

static void
watch_schedule (GstBidiRealtimeProvider * self)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  gint64 next = priv->state == STATE_READY ? watch_deadline (priv) : 0;
  gint64 ms;

  if (!next) {
    gst_bidi_realtime_provider_clear_timer (&priv->watch_timer);
    return;
  }
  ms = (next - g_get_monotonic_time () + 999) / 1000;
  gst_bidi_realtime_provider_start_timer (self, &priv->watch_timer,
      (guint) CLAMP (ms, 1, G_MAXINT32), watch_cb, "bidirealtime-watch");
}

/* Follows whether the server owes a reply, after each message either
 * way: the subclass knows (an answer asked for, or under way). */
static void
watch_update_due (GstBidiRealtimeProvider * self)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  GstBidiRealtimeProviderClass *klass = KLASS (self);
  gboolean due;

  if (priv->state != STATE_READY || !priv->started)
    return;
  due = klass->awaiting_reply && klass->awaiting_reply (self);
  if (due == priv->due)
    return;
  priv->due = due;
  /* the silence before the question does not count */
  if (due) {
    priv->due_since = g_get_monotonic_time ();
    if (priv->set.stall_timeout_ms > 0)
      watch_schedule (self);
  }
}

/* Something was sent: the transport is looked at within a second (not
 * more often, however much is sent) */
static void
watch_note_send (GstBidiRealtimeProvider * self)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  if (priv->send_check || priv->state != STATE_READY || !priv->started)
    return;
  priv->send_check = TRUE;
  watch_schedule (self);
}

/* Tells the element, once per change (@why: for the log). It may send the
 * input it held back from inside this call. */
static void
set_input_full (GstBidiRealtimeProvider * self, gboolean full,
    const gchar * why)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  if (priv->input_full == full)
    return;
  priv->input_full = full;
  GST_INFO_OBJECT (self, "the input is %s (%s)", full ? "held back" :
      "taken again", why);
  gst_bidi_provider_set_input_full (GST_BIDI_PROVIDER (self), full);
}

/* A server that takes none of what is sent for stall-timeout-ms is dead,
 * owed a reply or not (libsoup 3.2 cannot see the pongs that would tell);
 * one that takes less than is sent has the input held back, so that what
 * waits for it stays bounded (libsoup's queue has no limit). FALSE: the
 * connection was dropped. */
static gboolean
watch_check_sending (GstBidiRealtimeProvider * self, gint64 now)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  GstBidiTransportSendState st;
  guint stall_ms = priv->set.stall_timeout_ms;
  guint64 waiting;

  priv->send_checked_at = now;
  if (!gst_bidi_transport_get_send_state (priv->transport, &st)) {
    priv->send_check = FALSE;
    return TRUE;
  }
  if (stall_ms > 0 && st.stuck_since && now - st.stuck_since >=
      (gint64) stall_ms * G_TIME_SPAN_MILLISECOND) {
    gchar *msg = g_strdup_printf ("%s took none of what was sent for %u ms "
        "(%" G_GUINT64_FORMAT " bytes waiting): the connection is taken as "
        "dead", KLASS (self)->server_name, stall_ms, st.unacked + st.queued);

    gst_bidi_realtime_provider_connection_lost (self, "connection_lost", msg,
        TRUE);
    g_free (msg);
    return FALSE;
  }
  waiting = st.queued + st.unacked;
  priv->send_check = waiting > 0;
  /* held back until half of it went, not to flap about the bound */
  if (waiting > priv->max_backlog && !priv->input_full) {
    GST_WARNING_OBJECT (self, "%s takes less than is sent (%"
        G_GUINT64_FORMAT " bytes waiting)", KLASS (self)->server_name,
        waiting);
    set_input_full (self, TRUE, "the server is behind");
  } else if (waiting <= priv->max_backlog / 2) {
    set_input_full (self, FALSE, "the server caught up");
  }
  return priv->state == STATE_READY;
}

static gboolean
watch_cb (gpointer user_data)
{
  GstBidiRealtimeProvider *self = user_data;
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  guint stall_ms = priv->set.stall_timeout_ms;
  gint64 now = g_get_monotonic_time ();

  gst_bidi_realtime_provider_timer_fired (&priv->watch_timer);
  /* armed from inside an emit while the session was being dropped */
  if (priv->state != STATE_READY)
    return G_SOURCE_REMOVE;
  if (!priv->established && now >= priv->ready_at +
      (gint64) priv->set.reconnect_reset_ms * G_TIME_SPAN_MILLISECOND)
    mark_established (self, "it stayed up");
  if (priv->send_check && now >= priv->send_checked_at +
      SEND_CHECK_MS * G_TIME_SPAN_MILLISECOND &&
      !watch_check_sending (self, now))
    return G_SOURCE_REMOVE;

  watch_update_due (self);
  if (priv->due && stall_ms > 0 && now - MAX (priv->last_rx,
          priv->due_since) >= (gint64) stall_ms * G_TIME_SPAN_MILLISECOND) {
    gchar *msg = g_strdup_printf ("%s sent nothing for %u ms while a reply "
        "was due: the connection is taken as dead",
        KLASS (self)->server_name, stall_ms);

    gst_bidi_realtime_provider_connection_lost (self, "connection_lost", msg,
        TRUE);
    g_free (msg);
    return G_SOURCE_REMOVE;
  }
  watch_schedule (self);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------
 * Connection
 * ------------------------------------------------------------------------ */

void
gst_bidi_realtime_provider_fail (GstBidiRealtimeProvider * self,
    const gchar * message, const gchar * code, const gchar * details)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  if (priv->state == STATE_CLOSED)
    return;
  GST_ERROR_OBJECT (self, "%s", message);
  priv->state = STATE_CLOSED;
  close_transport (self);
  clear_timers (priv);
  set_input_full (self, FALSE, "closed");
  if (gst_bidi_realtime_provider_emit (self, gst_bidi_event_new_error
          (message, code, details)))
    gst_bidi_realtime_provider_emit (self,
        gst_bidi_event_new_connection_close (priv->conn_id, "error"));
}

static gboolean
retry_cb (gpointer user_data)
{
  GstBidiRealtimeProvider *self = user_data;

  gst_bidi_realtime_provider_timer_fired (&PRIV (self)->retry_timer);
  connect_session (self);
  return G_SOURCE_REMOVE;
}

void
gst_bidi_realtime_provider_connection_lost (GstBidiRealtimeProvider * self,
    const gchar * reason, const gchar * message, gboolean immediate)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  guint i, delay;

  if (priv->state == STATE_CLOSED || priv->state == STATE_IDLE)
    return;
  close_transport (self);

  /* what belonged to the connection that went */
  if (!KLASS (self)->connection_lost (self))
    return;
  /* the conversation for the next session, as it stands now (inputs that
   * come meanwhile wait, and go after it) */
  if (priv->state == STATE_READY)
    take_replay (self);
  /* calls of a response that was cut: their results go to the new session,
   * then an answer is asked for */
  for (i = 0; i < priv->calls->len; i++) {
    Call *c = g_ptr_array_index (priv->calls, i);
    if (!c->closed) {
      c->closed = TRUE;
      c->respond = TRUE;
    }
  }
  priv->n_bad_messages = 0;
  priv->user_pending = FALSE;
  priv->due = FALSE;
  priv->send_check = FALSE;
  gst_bidi_realtime_provider_clear_timer (&priv->setup_timer);
  gst_bidi_realtime_provider_clear_timer (&priv->age_timer);
  gst_bidi_realtime_provider_clear_timer (&priv->recheck_timer);
  gst_bidi_realtime_provider_clear_timer (&priv->watch_timer);

  if (!priv->restart_reason)
    priv->restart_reason = g_strdup (reason);

  if (priv->attempt >= priv->set.reconnect_attempts) {
    gchar *msg;

    if (priv->set.reconnect_attempts == 0)
      msg = g_strdup_printf ("%s (reconnecting is off)", message);
    else
      msg = g_strdup_printf ("Gave up after %u reconnection attempts in a "
          "row (reconnect-attempts): %s", priv->attempt, message);
    gst_bidi_realtime_provider_fail (self, msg, "connection_lost", NULL);
    g_free (msg);
    return;
  }
  priv->attempt++;
  delay = (immediate && priv->attempt == 1) ? 0 :
      gst_bidi_realtime_backoff_ms (priv->attempt,
      priv->set.reconnect_delay_ms, RECONNECT_MAX_DELAY_MS);
  GST_WARNING_OBJECT (self, "%s; reconnecting in %u ms (attempt %u of %u)",
      message, delay, priv->attempt, priv->set.reconnect_attempts);
  priv->state = STATE_WAITING;
  gst_bidi_realtime_provider_start_timer (self, &priv->retry_timer, delay,
      retry_cb, "bidirealtime-reconnect");
  /* the element holds the input back until the next session: a file
   * waits and loses nothing, a live source drops its oldest, counted (what
   * was on its way still waits here) */
  set_input_full (self, TRUE, "reconnecting");
}

static gboolean
setup_timeout_cb (gpointer user_data)
{
  GstBidiRealtimeProvider *self = user_data;
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  gchar *msg;

  gst_bidi_realtime_provider_timer_fired (&priv->setup_timer);
  msg = g_strdup_printf ("%s did not %s within %u ms",
      KLASS (self)->server_name, priv->state == STATE_CONNECTING ?
      "accept the connection" : "confirm the session settings",
      priv->set.connect_timeout_ms);
  if (priv->n_sessions == 0)
    gst_bidi_realtime_provider_fail (self, msg, "timeout", NULL);
  else
    gst_bidi_realtime_provider_connection_lost (self, "connection_lost", msg,
        FALSE);
  g_free (msg);
  return G_SOURCE_REMOVE;
}

void
gst_bidi_realtime_provider_session_ready (GstBidiRealtimeProvider * self,
    const gchar * model)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  GstBidiRealtimeProviderClass *klass = KLASS (self);
  gboolean first = priv->n_sessions == 0, finish = FALSE;
  GBytes *pcm;
  gint64 arrived_us = 0;
  Input *in;

  if (priv->state != STATE_CONFIGURING)
    return;
  priv->state = STATE_READY;
  g_free (priv->model);
  priv->model = g_strdup (model);
  gst_bidi_realtime_provider_clear_timer (&priv->setup_timer);
  /* the attempts start again only once this session proves itself */
  priv->ready_at = priv->last_rx = g_get_monotonic_time ();
  priv->due = FALSE;
  priv->established = FALSE;
  priv->send_check = FALSE;
  priv->send_checked_at = 0;
  if (priv->set.reconnect_reset_ms == 0)
    mark_established (self, "reconnect-reset-ms is 0");
  watch_schedule (self);
  priv->n_sessions++;
  priv->renew = FALSE;
  if (priv->set.max_session_s > 0)
    gst_bidi_realtime_provider_start_timer (self, &priv->age_timer,
        priv->set.max_session_s * 1000, age_cb, "bidirealtime-session-age");

  /* what waited for the session, in order */
  if (priv->audio_dropping)
    GST_WARNING_OBJECT (self, "audio was dropped while reconnecting");
  priv->audio_dropping = FALSE;
  while ((pcm = gst_bidi_audio_queue_pop (&priv->audio, &arrived_us))) {
    klass->send_audio (self, pcm, arrived_us);
    g_bytes_unref (pcm);
  }
  while ((in = g_queue_pop_head (&priv->inputs))) {
    if (in->kind == INPUT_TEXT)
      klass->send_text (self, in->text, in->role);
    else if (in->kind == INPUT_IMAGE)
      klass->send_image (self, in->data, in->mime);
    else
      finish = TRUE;            /* after the session is announced */
    input_free (in);
  }
  priv->input_image_bytes = 0;
  /* then what the element held back, from inside this call */
  set_input_full (self, FALSE, "session ready");
  if (priv->state != STATE_READY || !priv->started)
    return;
  gst_bidi_realtime_provider_flush_calls (self);
  if (klass->resume)
    klass->resume (self);

  if (first) {
    if (!gst_bidi_realtime_provider_emit (self,
            gst_bidi_event_new_connection_start (priv->conn_id,
                priv->model)))
      return;
  } else {
    GST_INFO_OBJECT (self, "reconnected (%s)", priv->restart_reason);
    if (!gst_bidi_realtime_provider_emit (self,
            gst_bidi_event_new_connection_restart (priv->restart_reason ?
                priv->restart_reason : "reconnect", priv->conn_id)))
      return;
    /* and the connection is up again, as at the start */
    if (!gst_bidi_realtime_provider_emit (self,
            gst_bidi_event_new_connection_start (priv->conn_id,
                priv->model)))
      return;
  }
  g_clear_pointer (&priv->restart_reason, g_free);
  if (finish) {
    priv->input_finished = TRUE;
    klass->end_input (self);
  }
  check_close (self);
}

static void
on_open (GstBidiTransport * transport, gpointer user_data)
{
  GstBidiRealtimeProvider *self = user_data;
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  if (transport != priv->transport || !priv->started)
    return;
  priv->state = STATE_CONFIGURING;
  KLASS (self)->open (self);
  if (priv->transport == transport && priv->started)
    replay_history (self);
}

static void
on_message (GstBidiTransport * transport, JsonObject * message,
    const gchar * json, gsize len, gpointer user_data)
{
  GstBidiRealtimeProvider *self = user_data;
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  if (transport != priv->transport || !priv->started)
    return;
  priv->last_rx = g_get_monotonic_time ();
  KLASS (self)->handle_message (self, message, json, len);
  if (transport == priv->transport)
    watch_update_due (self);
}

static void
on_bad_message (GstBidiTransport * transport, const GError * error,
    gpointer user_data)
{
  GstBidiRealtimeProvider *self = user_data;
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  gchar *msg;

  if (transport != priv->transport || !priv->started)
    return;
  msg = gst_bidi_realtime_provider_clean (self, error->message,
      strlen (error->message));
  gst_bidi_realtime_provider_report_bad_message (self, msg);
  g_free (msg);
}

static void
on_closed (GstBidiTransport * transport,
    const GstBidiTransportCloseInfo * info, const GError * error,
    gpointer user_data)
{
  GstBidiRealtimeProvider *self = user_data;
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  const gchar *reason = "connection_lost";
  GstBidiRealtimeClose how;
  gboolean refused;

  if (transport != priv->transport || !priv->started)
    return;
  g_clear_pointer (&priv->transport, gst_bidi_transport_close_normal);

  how = KLASS (self)->classify_close ? KLASS (self)->classify_close (self,
      info, &reason) : GST_BIDI_REALTIME_CLOSE_RETRY;
  refused = info->http_status >= 400 && info->http_status < 500 &&
      info->http_status != 408 && info->http_status != 429;
  if (info->not_authorized || how == GST_BIDI_REALTIME_CLOSE_NOT_AUTHORIZED) {
    gst_bidi_realtime_provider_fail (self, error->message, "not_authorized",
        NULL);
  } else if (how == GST_BIDI_REALTIME_CLOSE_FATAL || priv->n_sessions == 0 ||
      refused) {
    /* the subclass says so, the first connection, or a refusal: no point
     * in trying again */
    gst_bidi_realtime_provider_fail (self, error->message, info->was_open ?
        "connection_lost" : "connection_failed", NULL);
  } else if (info->close_code == SOUP_WEBSOCKET_CLOSE_TOO_BIG) {
    /* a message above max-message-size: say so, and go on with a new
     * session */
    gst_bidi_realtime_provider_report_bad_message (self, error->message);
    if (priv->started)
      gst_bidi_realtime_provider_connection_lost (self, "connection_lost",
          error->message, TRUE);
  } else {
    gst_bidi_realtime_provider_connection_lost (self, reason,
        error->message, how == GST_BIDI_REALTIME_CLOSE_RETRY_NOW);
  }
}

static const GstBidiTransportCallbacks transport_callbacks = {
  on_open,
  on_message,
  on_bad_message,
  on_closed,
};

/* One connection attempt */
static void
connect_session (GstBidiRealtimeProvider * self)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  GstBidiRealtimeProviderClass *klass = KLASS (self);
  GstBidiTransportOptions options = { 0, };
  GPtrArray *headers = g_ptr_array_new_with_free_func (g_free);
  GError *err = NULL;
  guint i;

  klass->get_headers (self, priv->api_key, headers);
  g_ptr_array_add (headers, NULL);

  options.url = priv->url;
  options.server_name = klass->server_name;
  options.headers = (const gchar * const *) headers->pdata;
  options.secret = priv->api_key;
  options.ca_database = priv->ca_database;
  options.ssl_strict = priv->ssl_strict;
  options.max_message_size = priv->set.max_message_size;
  options.keepalive_s = priv->set.keepalive_s;
  options.connect_timeout_s = (priv->set.connect_timeout_ms + 999) / 1000;
  options.binary_json = klass->binary_messages;
  options.transport_data = klass->get_transport_data ?
      klass->get_transport_data (self) : NULL;

  priv->state = STATE_CONNECTING;
  priv->transport = klass->connect (&options, &transport_callbacks, self,
      &err);
  /* the values may hold the key */
  for (i = 0; i + 1 < headers->len; i++) {
    gchar *s = g_ptr_array_index (headers, i);
    explicit_bzero (s, strlen (s));
  }
  g_ptr_array_unref (headers);
  if (!priv->transport) {
    /* the URL was checked by configure: not expected */
    gst_bidi_realtime_provider_fail (self, err->message,
        "connection_failed", NULL);
    g_error_free (err);
    return;
  }
  gst_bidi_realtime_provider_start_timer (self, &priv->setup_timer,
      priv->set.connect_timeout_ms, setup_timeout_cb, "bidirealtime-setup");
}

/* ------------------------------------------------------------------------
 * Settings
 * ------------------------------------------------------------------------ */

/* The API key: the element's, else the class's environment variable. Not
 * a copy. */
static const gchar *
find_api_key (GstBidiRealtimeProviderClass * klass,
    const GstBidiProviderConfig * config)
{
  const gchar *env;

  if (!klass->key_name)
    return NULL;
  if (config->api_key && *config->api_key)
    return config->api_key;
  env = klass->key_env ? g_getenv (klass->key_env) : NULL;
  if ((!env || !*env) && klass->key_env_fallback)
    env = g_getenv (klass->key_env_fallback);
  return env && *env ? env : NULL;
}

/* The subclass's settings, then the key and the base's own fields.
 * Returns the endpoint. */
static gchar *
read_settings (GstBidiRealtimeProvider * self,
    const GstBidiProviderConfig * config, gboolean keep, Settings * s,
    GError ** error)
{
  GstBidiRealtimeProviderClass *klass = KLASS (self);
  const GstStructure *pc = config->provider_config;
  const gchar *name = klass->name;
  const gchar *key;
  gchar *url;

  /* credentials: checked before anything connects (a class without
   * key_name reads its own in parse_settings) */
  key = find_api_key (klass, config);
  if (klass->key_name && !key)
    goto no_key;
  if (key && !gst_bidi_realtime_header_value_ok (key))
    goto bad_key;

  if (!(url = klass->parse_settings (self, config, keep, error)))
    return NULL;

  s->reconnect_attempts = DEFAULT_RECONNECT_ATTEMPTS;
  s->reconnect_delay_ms = DEFAULT_RECONNECT_DELAY_MS;
  s->max_session_s = klass->default_max_session_s ?
      klass->default_max_session_s : DEFAULT_MAX_SESSION_S;
  s->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
  s->keepalive_s = DEFAULT_KEEPALIVE_S;
  s->max_message_size = DEFAULT_MAX_MESSAGE_SIZE;
  s->stall_timeout_ms = DEFAULT_STALL_TIMEOUT_MS;
  s->reconnect_reset_ms = DEFAULT_RECONNECT_RESET_MS;
  if (!gst_bidi_provider_config_get_uint (pc, name, "reconnect-attempts", 0,
          100, &s->reconnect_attempts, error) ||
      !gst_bidi_provider_config_get_uint (pc, name, "reconnect-delay-ms", 0,
          60000, &s->reconnect_delay_ms, error) ||
      !gst_bidi_provider_config_get_uint (pc, name, "max-session-s", 0,
          86400, &s->max_session_s, error) ||
      !gst_bidi_provider_config_get_uint (pc, name, "connect-timeout-ms",
          100, 600000, &s->connect_timeout_ms, error) ||
      !gst_bidi_provider_config_get_uint (pc, name, "keepalive-s", 0, 3600,
          &s->keepalive_s, error) ||
      !gst_bidi_provider_config_get_int (pc, name, "max-message-size", 1024,
          G_MAXINT, &s->max_message_size, error) ||
      !gst_bidi_provider_config_get_uint (pc, name, "stall-timeout-ms", 0,
          3600000, &s->stall_timeout_ms, error) ||
      !gst_bidi_provider_config_get_uint (pc, name, "reconnect-reset-ms", 0,
          3600000, &s->reconnect_reset_ms, error)) {
    g_free (url);
    return NULL;
  }
  return url;

  /* ERRORS */
no_key:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
        "No %s API key: set the element's api-key property or the %s%s%s "
        "environment variable", klass->key_name, klass->key_env,
        klass->key_env_fallback ? " or " : "", klass->key_env_fallback ?
        klass->key_env_fallback : "");
    return NULL;
  }
bad_key:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
        "The %s API key contains control characters", klass->key_name);
    return NULL;
  }
}

/* ------------------------------------------------------------------------
 * GstBidiProvider vfuncs
 * ------------------------------------------------------------------------ */

static gboolean
gst_bidi_realtime_provider_configure (GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error)
{
  Settings s;
  gchar *url = read_settings (GST_BIDI_REALTIME_PROVIDER (provider), config,
      FALSE, &s, error);

  g_free (url);
  return url != NULL;
}

static gboolean
gst_bidi_realtime_provider_start (GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error)
{
  GstBidiRealtimeProvider *self = GST_BIDI_REALTIME_PROVIDER (provider);
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  GTlsDatabase *ca = NULL;
  gchar *url;

  if (priv->started)
    gst_bidi_realtime_provider_stop (provider);

  if (!(url = read_settings (self, config, TRUE, &priv->set, error)))
    return FALSE;
  if (config->ssl_ca_file && *config->ssl_ca_file &&
      !(ca = gst_bidi_realtime_load_ca_file (config->ssl_ca_file, error))) {
    g_free (url);
    KLASS (self)->reset (self);
    return FALSE;
  }

  priv->url = url;
  priv->ca_database = ca;
  priv->ssl_strict = config->ssl_strict;
  priv->api_key = g_strdup (find_api_key (KLASS (self), config));
  priv->conn_id = g_uuid_string_random ();
  priv->ctx = g_main_context_ref_thread_default ();
  priv->history = config->history;
  priv->history_json = g_strdup (config->history_json);
  gst_bidi_audio_queue_set_max_bytes (&priv->audio,
      (gsize) KLASS (self)->max_pending_audio_ms *
      KLASS (self)->in_bytes_per_ms);
  priv->max_backlog = MAX (MIN_SEND_BACKLOG, (guint64) MAX_SEND_BACKLOG_MS *
      KLASS (self)->in_bytes_per_ms * 4 / 3);
  priv->started = TRUE;
  priv->n_sessions = 0;
  priv->attempt = 0;
  answer_clear (priv);
  take_replay (self);

  connect_session (self);
  return TRUE;
}

static void
gst_bidi_realtime_provider_send_audio (GstBidiProvider * provider,
    GBytes * pcm, gint64 arrived_us)
{
  GstBidiRealtimeProvider *self = GST_BIDI_REALTIME_PROVIDER (provider);
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  if (!priv->started || priv->state == STATE_CLOSED || priv->end_input)
    return;
  if (priv->state == STATE_READY) {
    KLASS (self)->send_audio (self, pcm, arrived_us);
    return;
  }

  /* (re)connecting: keep the latest audio, and when it came in */
  if (gst_bidi_audio_queue_push (&priv->audio, g_bytes_ref (pcm),
          arrived_us) > 0) {
    if (!priv->audio_dropping)
      GST_WARNING_OBJECT (self, "not connected: dropping the oldest audio");
    priv->audio_dropping = TRUE;
  }
}

/* Sends @in (taken) now if the session is ready, else keeps it for then */
static void
send_or_queue_input (GstBidiRealtimeProvider * self, Input * in)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  if (priv->state == STATE_READY) {
    if (in->kind == INPUT_TEXT)
      KLASS (self)->send_text (self, in->text, in->role);
    else
      KLASS (self)->send_image (self, in->data, in->mime);
    input_free (in);
    return;
  }
  if (g_queue_get_length (&priv->inputs) >= MAX_PENDING_INPUTS ||
      (in->data && priv->input_image_bytes + g_bytes_get_size (in->data) >
          MAX_PENDING_IMAGE_BYTES)) {
    GST_WARNING_OBJECT (self, "not connected and too much input waiting: "
        "dropped");
    input_free (in);
    return;
  }
  if (in->data)
    priv->input_image_bytes += g_bytes_get_size (in->data);
  g_queue_push_tail (&priv->inputs, in);
}

static void
gst_bidi_realtime_provider_send_text (GstBidiProvider * provider,
    const gchar * text, const gchar * role)
{
  GstBidiRealtimeProvider *self = GST_BIDI_REALTIME_PROVIDER (provider);
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  Input *in;

  if (!priv->started || priv->state == STATE_CLOSED || !text || !*text)
    return;
  /* the element recorded the answer before, and records this text */
  if (!priv->user_pending)
    answer_clear (priv);
  in = g_new0 (Input, 1);
  in->kind = INPUT_TEXT;
  in->text = g_strdup (text);
  in->role = g_strdup (role);
  send_or_queue_input (self, in);
}

/* The canonical type of an image the server takes, else NULL: refused */
static const gchar *
accepted_image (GstBidiRealtimeProvider * self, GBytes * data,
    const gchar * mime)
{
  GstBidiRealtimeProviderClass *klass = KLASS (self);
  const gchar *type = NULL;
  gsize size = g_bytes_get_size (data);
  gchar *msg;
  guint i;

  if (g_strcmp0 (mime, "image/jpg") == 0)
    mime = "image/jpeg";
  for (i = 0; mime && klass->image_types && klass->image_types[i]; i++)
    if (strcmp (klass->image_types[i], mime) == 0)
      type = klass->image_types[i];
  if (type && size > 0 && size <= klass->max_image_size)
    return type;

  if (!klass->image_types)
    msg = g_strdup_printf ("Image not sent: %s takes no images",
        klass->server_name);
  else if (!type)
    msg = g_strdup_printf ("Image not sent to %s: only %s images are "
        "accepted", klass->server_name, klass->image_types_text);
  else
    msg = g_strdup_printf ("Image not sent to %s: empty, or larger than %"
        G_GSIZE_FORMAT " MiB", klass->server_name,
        klass->max_image_size / (1024 * 1024));
  GST_WARNING_OBJECT (self, "%s (%s, %" G_GSIZE_FORMAT " bytes)", msg,
      GST_STR_NULL (mime), size);
  gst_bidi_realtime_provider_emit (self, gst_bidi_event_new_error (msg,
          "bad_image", NULL));
  g_free (msg);
  return NULL;
}

static void
gst_bidi_realtime_provider_send_image (GstBidiProvider * provider,
    GBytes * data, const gchar * mime)
{
  GstBidiRealtimeProvider *self = GST_BIDI_REALTIME_PROVIDER (provider);
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  const gchar *type;
  Input *in;

  if (!priv->started || priv->state == STATE_CLOSED || !data)
    return;
  if (!(type = accepted_image (self, data, mime)))
    return;
  in = g_new0 (Input, 1);
  in->kind = INPUT_IMAGE;
  in->data = g_bytes_ref (data);
  in->mime = g_strdup (type);
  send_or_queue_input (self, in);
}

static void
gst_bidi_realtime_provider_send_tool_result (GstBidiProvider * provider,
    const gchar * tool_use_id, const gchar * name, const gchar * json,
    const gchar * status)
{
  GstBidiRealtimeProvider *self = GST_BIDI_REALTIME_PROVIDER (provider);
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  Call *c;

  if (!priv->started || priv->state == STATE_CLOSED || !tool_use_id)
    return;
  /* the element records the pair, after the answer before it */
  if (!priv->user_pending)
    answer_clear (priv);

  c = find_call (priv, tool_use_id, NULL);
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
  } else if (g_strcmp0 (status, "error") == 0) {
    /* so that every server tells it from an answer */
    c->result = gst_bidi_tool_error_result (json);
  } else {
    c->result = gst_bidi_realtime_make_valid (json ? json : "{}",
        MAX_ARGS_SIZE);
  }
  GST_DEBUG_OBJECT (self, "tool result for %s (%s): %s", tool_use_id,
      GST_STR_NULL (status), c->result);
  gst_bidi_realtime_provider_flush_calls (self);
  check_close (self);
}

static void
gst_bidi_realtime_provider_interrupt (GstBidiProvider * provider,
    guint64 played_ms)
{
  GstBidiRealtimeProvider *self = GST_BIDI_REALTIME_PROVIDER (provider);
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  if (!priv->started || priv->state == STATE_CLOSED)
    return;
  if (priv->answer_heard_ms == G_MAXUINT64)
    priv->answer_heard_ms = played_ms;
  KLASS (self)->interrupt (self, played_ms);
}

static void
gst_bidi_realtime_provider_end_input (GstBidiProvider * provider)
{
  GstBidiRealtimeProvider *self = GST_BIDI_REALTIME_PROVIDER (provider);
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);
  Input *in;

  /* not started, or stopped: nothing to finish, and no events */
  if (!priv->started || priv->end_input || priv->state == STATE_CLOSED)
    return;
  priv->end_input = TRUE;
  GST_INFO_OBJECT (self, "input ended");
  if (priv->state == STATE_READY) {
    priv->input_finished = TRUE;
    KLASS (self)->end_input (self);
    check_close (self);
    return;
  }
  /* after what waits for the session */
  in = g_new0 (Input, 1);
  in->kind = INPUT_END;
  g_queue_push_tail (&priv->inputs, in);
}

static void
gst_bidi_realtime_provider_stop (GstBidiProvider * provider)
{
  GstBidiRealtimeProvider *self = GST_BIDI_REALTIME_PROVIDER (provider);
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  /* no events after this */
  priv->started = FALSE;
  priv->epoch++;
  priv->state = STATE_IDLE;

  close_transport (self);
  clear_timers (priv);
  KLASS (self)->reset (self);

  gst_bidi_audio_queue_clear (&priv->audio);
  priv->audio_dropping = FALSE;
  g_queue_clear_full (&priv->inputs, (GDestroyNotify) input_free);
  priv->input_image_bytes = 0;
  g_ptr_array_set_size (priv->calls, 0);
  priv->history = NULL;
  g_clear_pointer (&priv->history_json, g_free);
  g_clear_pointer (&priv->replay, g_free);
  answer_clear (priv);
  priv->user_pending = FALSE;

  if (priv->api_key) {
    explicit_bzero (priv->api_key, strlen (priv->api_key));
    g_clear_pointer (&priv->api_key, g_free);
  }
  g_clear_object (&priv->ca_database);
  g_clear_pointer (&priv->ctx, g_main_context_unref);
  g_clear_pointer (&priv->conn_id, g_free);
  g_clear_pointer (&priv->url, g_free);
  g_clear_pointer (&priv->model, g_free);
  g_clear_pointer (&priv->restart_reason, g_free);
  g_clear_pointer (&priv->renew_reason, g_free);

  priv->n_sessions = priv->attempt = 0;
  priv->renew = FALSE;
  priv->send_check = FALSE;
  set_input_full (self, FALSE, "stopped");
  priv->n_bad_messages = 0;
  priv->end_input = priv->input_finished = FALSE;
}

static void
gst_bidi_realtime_provider_finalize (GObject * object)
{
  GstBidiRealtimeProvider *self = GST_BIDI_REALTIME_PROVIDER (object);
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  /* the element stops us first; this is the safety net */
  gst_bidi_realtime_provider_stop (GST_BIDI_PROVIDER (self));
  g_ptr_array_unref (priv->calls);
  g_string_free (priv->answer, TRUE);
  g_array_unref (priv->answer_cuts);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_bidi_realtime_provider_class_init (GstBidiRealtimeProviderClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBidiProviderClass *provider_class = GST_BIDI_PROVIDER_CLASS (klass);

  gobject_class->finalize = gst_bidi_realtime_provider_finalize;
  provider_class->configure =
      GST_DEBUG_FUNCPTR (gst_bidi_realtime_provider_configure);
  provider_class->start = GST_DEBUG_FUNCPTR (gst_bidi_realtime_provider_start);
  provider_class->send_audio =
      GST_DEBUG_FUNCPTR (gst_bidi_realtime_provider_send_audio);
  provider_class->send_text =
      GST_DEBUG_FUNCPTR (gst_bidi_realtime_provider_send_text);
  provider_class->send_image =
      GST_DEBUG_FUNCPTR (gst_bidi_realtime_provider_send_image);
  provider_class->send_tool_result =
      GST_DEBUG_FUNCPTR (gst_bidi_realtime_provider_send_tool_result);
  provider_class->interrupt =
      GST_DEBUG_FUNCPTR (gst_bidi_realtime_provider_interrupt);
  provider_class->end_input =
      GST_DEBUG_FUNCPTR (gst_bidi_realtime_provider_end_input);
  provider_class->stop = GST_DEBUG_FUNCPTR (gst_bidi_realtime_provider_stop);

  klass->connect = gst_bidi_ws_connect;
  klass->max_pending_audio_ms = DEFAULT_MAX_PENDING_AUDIO_MS;
}

static void
gst_bidi_realtime_provider_init (GstBidiRealtimeProvider * self)
{
  GstBidiRealtimeProviderPrivate *priv = PRIV (self);

  gst_bidi_audio_queue_init (&priv->audio, 0);
  g_queue_init (&priv->inputs);
  priv->calls = g_ptr_array_new_with_free_func ((GDestroyNotify) call_free);
  priv->answer = g_string_new (NULL);
  priv->answer_cuts = g_array_new (FALSE, FALSE, sizeof (gsize));
  priv->answer_heard_ms = G_MAXUINT64;
}
