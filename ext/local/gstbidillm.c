/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* A streaming client of OpenAI-compatible chat-completions servers.
 *
 * The conversation is kept in the OpenAI message form (system, user,
 * assistant with optional tool_calls, tool). Each request POSTs the whole
 * conversation with "stream": true and reads the Server-Sent Events of the
 * answer with its own bounded line splitter (GDataInputStream has no limit
 * on the length of a line, and everything read here is untrusted).
 *
 * Lifetime of a request: the Request struct is attached to its
 * GCancellable (qdata with a destroy notify). The client holds a reference
 * on the cancellable while the request is current, and so does every
 * GTask in flight for it (soup_session_send_async, g_input_stream_read_async
 * keep a reference on the cancellable they are given). So the Request
 * lives exactly as long as someone can still call back into it, and it is
 * freed even if the main context is destroyed with an operation pending
 * (the GTask is then dropped with the context's sources). A request that
 * was cancelled, failed or finished is "detached": req->llm is NULL and no
 * callback of the user is called for it any more. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include <gst/bidi/gstbidihistory.h>
#include <gst/bidi/gstbidijson.h>
#include <gst/bidi/gstbiditools.h>

#include "gstbidillm.h"
#include "gstbidirealtime.h"

GST_DEBUG_CATEGORY_STATIC (bidillm_debug);
#define GST_CAT_DEFAULT bidillm_debug

/* Limits for what the server sends. An answer that a speech agent says
 * aloud is a few hundred tokens; these are far above that and far below
 * what could hurt the process. */
#define MAX_LINE_SIZE (1024 * 1024)     /* one SSE line or event */
#define MAX_ANSWER_SIZE (1024 * 1024)   /* text + tool names and arguments */
#define MAX_STREAM_SIZE (64 * 1024 * 1024)      /* all bytes of one answer */
#define MAX_JSON_BODY_SIZE (4 * 1024 * 1024)    /* a non-streamed answer */
#define MAX_ERROR_BODY_SIZE (64 * 1024) /* read of an HTTP error body */
#define MAX_TOOL_CALLS 64
#define ERROR_EXCERPT_CHARS 200
#define READ_SIZE 16384

/* Seconds without any byte from the server before the request fails. A
 * local model on a small CPU may think for a while before the first token
 * of a long prompt. */
#define IO_TIMEOUT_S 120

#define CANCELLED_REASON "cancelled"
#define TURN_AT_END G_MAXUINT

typedef struct
{
  gchar *id;
  gchar *name;
  GString *args;
} ToolCall;

typedef enum
{
  BODY_SSE,                     /* text/event-stream */
  BODY_JSON,                    /* a non-streamed chat.completion */
  BODY_ERROR                    /* HTTP status >= 400 */
} BodyMode;

typedef struct _Request Request;

struct _GstBidiLlm
{
  GMainContext *context;
  SoupSession *session;
  GUri *uri;                    /* {base_url}/chat/completions */
  gchar *host;                  /* for messages */
  gchar *model;
  gchar *api_key;
  gchar *system_prompt;
  JsonNode *tools;              /* OpenAI form, NULL when none */
  GTlsDatabase *ca_database;    /* trusted in addition to the system's */

  /* The conversation, when someone else keeps it (set_conversation):
   * read and converted at each request. Not owned. */
  GstBidiHistory *conversation;

  /* JsonNode objects in OpenAI form: the replayed history, then the turns
   * of this session. Kept apart so that set_history can replace the
   * former. With a conversation, history is unused and turns only holds
   * what the conversation does not have (yet): the tool calls of the
   * answer in progress and their results, and answers cut short. */
  GPtrArray *history;
  GPtrArray *turns;
  /* With a conversation: for each turn, the number of conversation
   * messages it goes after (TURN_AT_END: after all of them) */
  GArray *anchors;

  Request *current;
  GCancellable *cancellable;    /* of current, a reference */
  /* The answer of the last request, what truncate_last_answer changes
   * (NULL when it appended nothing) */
  JsonNode *last_answer;
  gboolean requested;
  guint n_made_up_ids;
};

struct _Request
{
  GstBidiLlm *llm;              /* NULL once detached */
  GstBidiLlmCallbacks cb;
  gpointer user_data;
  GCancellable *cancellable;    /* not a reference: it owns us */

  SoupMessage *msg;
  GInputStream *stream;
  guint8 buf[READ_SIZE];
  BodyMode mode;
  guint status;
  gsize n_read;
  gboolean finished;            /* [DONE] or final error: stop reading */

  /* SSE parsing */
  GByteArray *line;
  gboolean skip_lf;             /* the previous line ended with '\r' */
  GString *data;                /* data of the event being read */
  gboolean have_data;
  gboolean error_event;         /* "event: error" */

  /* non-SSE bodies */
  GByteArray *body;

  /* the answer */
  GString *text;
  GPtrArray *tool_calls;        /* ToolCall *, by index; holes are NULL */
  gsize answer_size;
  gchar *finish_reason;
  gint prompt_tokens;
  gint completion_tokens;
  guint insert_at;              /* where the answer goes in llm->turns */
  gboolean appended;            /* the answer is in the conversation */
};

static GQuark request_quark;

static void
debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (bidillm_debug, "bidillm", 0,
        "bidiagent local provider: chat-completions client");
    request_quark = g_quark_from_static_string ("gst-bidi-llm-request");
    g_once_init_leave (&done, 1);
  }
}

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

static void
tool_call_free (ToolCall * call)
{
  if (!call)
    return;
  g_free (call->id);
  g_free (call->name);
  g_string_free (call->args, TRUE);
  g_free (call);
}

static JsonNode *
node_take_object (JsonObject * obj)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, obj);
  return node;
}

static gchar *
node_to_string (JsonNode * node)
{
  return gst_bidi_json_to_string (node);
}

/* Text from outside (ASR, the application) may not be valid UTF-8, and
 * json-glib would then write invalid JSON. */
static gchar *
make_valid (const gchar * text)
{
  return g_utf8_make_valid (text ? text : "", -1);
}

/* Removes the API key from @str: a server may echo it in an error
 * message, and it must never reach a log or a bus message. */
static void
scrub_secret (GstBidiLlm * llm, GString * str)
{
  if (llm)
    gst_bidi_realtime_scrub_secret (str, llm->api_key);
}

/* At most ERROR_EXCERPT_CHARS characters of untrusted text, valid UTF-8,
 * without control characters. */
static gchar *
make_excerpt (const gchar * data, gsize len)
{
  return gst_bidi_realtime_excerpt (data, len, ERROR_EXCERPT_CHARS);
}

/* ------------------------------------------------------------------------
 * Conversation
 * ------------------------------------------------------------------------ */

static JsonObject *
message_new (const gchar * role)
{
  JsonObject *msg = json_object_new ();

  json_object_set_string_member (msg, "role", role);
  return msg;
}

static const gchar *
message_role (JsonNode * node)
{
  return gst_bidi_json_get_string (json_node_get_object (node), "role");
}

/* A tool call in OpenAI form; @args_json is a JSON text. */
static JsonObject *
tool_call_object (const gchar * id, const gchar * name, const gchar * args)
{
  JsonObject *call = json_object_new ();
  JsonObject *function = json_object_new ();

  json_object_set_string_member (call, "id", id);
  json_object_set_string_member (call, "type", "function");
  json_object_set_string_member (function, "name", name);
  json_object_set_string_member (function, "arguments", args);
  json_object_set_object_member (call, "function", function);
  return call;
}

/* Appends the chat messages of one history message to @out: tool results
 * first (they answer the previous assistant message; a text typed along
 * with them is a new user turn after them), then the text and the tool
 * calls. */
static void
convert_message (const GstBidiMessage * m, GPtrArray * out)
{
  const gchar *role = m->assistant ? "assistant" : "user";
  JsonArray *tool_calls = NULL;
  JsonObject *converted;
  gchar *text = gst_bidi_message_text (m);
  guint i;

  for (i = 0; i < m->blocks->len; i++) {
    const GstBidiBlock *b = g_ptr_array_index (m->blocks, i);

    if (b->type == GST_BIDI_BLOCK_TOOL_RESULT) {
      JsonObject *tool_msg = message_new ("tool");
      gchar *content = b->error ? g_strconcat ("error: ", b->content, NULL) :
          g_strdup (b->content);

      json_object_set_string_member (tool_msg, "tool_call_id",
          b->tool_use_id);
      json_object_set_string_member (tool_msg, "content", content);
      g_free (content);
      g_ptr_array_add (out, node_take_object (tool_msg));
    } else if (b->type == GST_BIDI_BLOCK_TOOL_USE) {
      if (!tool_calls)
        tool_calls = json_array_new ();
      json_array_add_object_element (tool_calls,
          tool_call_object (b->tool_use_id, b->name, b->input));
    }
  }

  if (text || tool_calls) {
    converted = message_new (role);
    json_object_set_string_member (converted, "content", text ? text : "");
    if (tool_calls)
      json_object_set_array_member (converted, "tool_calls", tool_calls);
    g_ptr_array_add (out, node_take_object (converted));
  }
  g_free (text);
}

/* Puts @node (transfer full) at @pos of the turns, after the
 * conversation's message @anchor */
static void
turns_insert (GstBidiLlm * llm, guint pos, JsonNode * node, guint anchor)
{
  g_ptr_array_insert (llm->turns, pos, node);
  g_array_insert_val (llm->anchors, pos, anchor);
}

static void
turns_remove (GstBidiLlm * llm, guint pos)
{
  g_ptr_array_remove_index (llm->turns, pos);
  g_array_remove_index (llm->anchors, pos);
}

void
gst_bidi_llm_set_conversation (GstBidiLlm * llm, GstBidiHistory * history)
{
  g_return_if_fail (llm != NULL);

  llm->conversation = history;
}

gboolean
gst_bidi_llm_set_history (GstBidiLlm * llm, const gchar * history_json,
    GError ** error)
{
  GPtrArray *messages, *history;
  guint i;

  g_return_val_if_fail (llm != NULL, FALSE);

  messages = gst_bidi_history_parse (history_json, error);
  if (!messages)
    return FALSE;
  history = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  for (i = 0; i < messages->len; i++)
    convert_message (g_ptr_array_index (messages, i), history);
  g_ptr_array_unref (messages);

  g_ptr_array_unref (llm->history);
  llm->history = history;
  GST_DEBUG ("history: %u messages", history->len);
  return TRUE;
}

void
gst_bidi_llm_add_user (GstBidiLlm * llm, const gchar * text)
{
  JsonObject *msg;
  JsonNode *last;
  gchar *valid;

  g_return_if_fail (llm != NULL);

  if (llm->conversation) {
    guint i, n = gst_bidi_history_length (llm->conversation);

    /* The conversation has the user's words already, last: what it lacks
     * of the answers before them goes before them */
    for (i = 0; i < llm->anchors->len; i++)
      if (g_array_index (llm->anchors, guint, i) == TURN_AT_END)
        g_array_index (llm->anchors, guint, i) = n > 0 ? n - 1 : 0;
    return;
  }

  valid = make_valid (text);
  last = llm->turns->len ? g_ptr_array_index (llm->turns,
      llm->turns->len - 1) : NULL;

  /* Two user turns in a row (the previous one got no answer, e.g. it was
   * cancelled before the first word): one message, because many chat
   * templates insist on alternating roles. */
  if (last && g_strcmp0 (message_role (last), "user") == 0 &&
      gst_bidi_json_get_string (json_node_get_object (last), "content")) {
    JsonObject *obj = json_node_get_object (last);
    gchar *joined = g_strdup_printf ("%s\n%s",
        gst_bidi_json_get_string (obj, "content"), valid);

    json_object_set_string_member (obj, "content", joined);
    g_free (joined);
  } else {
    msg = message_new ("user");
    json_object_set_string_member (msg, "content", valid);
    turns_insert (llm, llm->turns->len, node_take_object (msg), TURN_AT_END);
  }
  g_free (valid);
}

/* Whether the assistant message @node asked for the tool call @id. */
static gboolean
message_has_tool_call (JsonNode * node, const gchar * id)
{
  JsonObject *obj = json_node_get_object (node);
  JsonNode *calls = json_object_get_member (obj, "tool_calls");
  JsonArray *array;
  guint i;

  if (!calls || !JSON_NODE_HOLDS_ARRAY (calls))
    return FALSE;
  array = json_node_get_array (calls);
  for (i = 0; i < json_array_get_length (array); i++) {
    JsonNode *c = json_array_get_element (array, i);
    if (JSON_NODE_HOLDS_OBJECT (c) &&
        g_strcmp0 (gst_bidi_json_get_string (json_node_get_object (c), "id"),
            id) == 0)
      return TRUE;
  }
  return FALSE;
}

void
gst_bidi_llm_add_tool_result (GstBidiLlm * llm, const gchar * id,
    const gchar * content_json)
{
  JsonObject *msg;
  gchar *content;
  guint i, pos;

  g_return_if_fail (llm != NULL);
  g_return_if_fail (id != NULL);

  content = make_valid (content_json ? content_json : "null");
  msg = message_new ("tool");
  json_object_set_string_member (msg, "tool_call_id", id);
  json_object_set_string_member (msg, "content", content);
  g_free (content);

  /* Right after the assistant message that asked (and the results already
   * there): the user may have spoken while the tool ran, and OpenAI wants
   * the tool messages to follow their tool_calls directly. */
  pos = llm->turns->len;
  for (i = llm->turns->len; i > 0; i--) {
    if (message_has_tool_call (g_ptr_array_index (llm->turns, i - 1), id)) {
      pos = i;
      while (pos < llm->turns->len &&
          g_strcmp0 (message_role (g_ptr_array_index (llm->turns, pos)),
              "tool") == 0)
        pos++;
      break;
    }
  }
  if (i == 0)
    GST_WARNING ("tool result for unknown call %s, appended", id);

  turns_insert (llm, pos, node_take_object (msg), pos > 0 ?
      g_array_index (llm->anchors, guint, pos - 1) : TURN_AT_END);
  /* An answer being streamed goes where its request started */
  if (llm->current && llm->current->insert_at >= pos)
    llm->current->insert_at++;
}

void
gst_bidi_llm_truncate_last_answer (GstBidiLlm * llm, const gchar * heard_text)
{
  JsonNode *answer = llm ? llm->last_answer : NULL;
  gchar *valid;
  guint i;

  g_return_if_fail (llm != NULL);

  /* Before any request, the answer is the history's last one; after a
   * request that produced nothing there is nothing to cut (an older
   * answer was heard whole). */
  if (!answer && !llm->requested && !llm->conversation) {
    for (i = llm->history->len; i > 0 && !answer; i--) {
      JsonNode *node = g_ptr_array_index (llm->history, i - 1);
      if (g_strcmp0 (message_role (node), "assistant") == 0)
        answer = node;
    }
  }
  if (!answer) {
    GST_DEBUG ("no answer to truncate");
    return;
  }

  /* A conversation kept elsewhere has no answer cut short: keep it */
  if (llm->conversation && !g_ptr_array_find (llm->turns, answer, NULL))
    turns_insert (llm, llm->turns->len, json_node_ref (answer), TURN_AT_END);

  valid = make_valid (heard_text);
  /* tool_calls stay: their results follow */
  json_object_set_string_member (json_node_get_object (answer), "content",
      valid);
  GST_DEBUG ("last answer truncated to %" G_GSIZE_FORMAT " bytes",
      strlen (valid));
  g_free (valid);
}

/* Whether the conversation has the turn @node by now: a tool call's
 * result, or an answer whose tool calls are all in @recorded */
static gboolean
turn_recorded (JsonNode * node, GHashTable * recorded)
{
  JsonObject *obj = json_node_get_object (node);
  const gchar *role = message_role (node);
  JsonNode *calls;
  JsonArray *a;
  guint j;

  if (g_strcmp0 (role, "tool") == 0)
    return g_hash_table_contains (recorded,
        gst_bidi_json_get_string (obj, "tool_call_id"));
  calls = json_object_get_member (obj, "tool_calls");
  if (!calls || !JSON_NODE_HOLDS_ARRAY (calls))
    return FALSE;
  a = json_node_get_array (calls);
  for (j = 0; j < json_array_get_length (a); j++) {
    JsonNode *c = json_array_get_element (a, j);

    if (!JSON_NODE_HOLDS_OBJECT (c) || !g_hash_table_contains (recorded,
            gst_bidi_json_get_string (json_node_get_object (c), "id")))
      return FALSE;
  }
  return TRUE;
}

/* A copy of the turn @node without the tool calls in @recorded */
static JsonNode *
turn_copy (JsonNode * node, GHashTable * recorded)
{
  JsonNode *copy = json_node_copy (node);
  JsonNode *calls = json_object_get_member (json_node_get_object (copy),
      "tool_calls");
  JsonArray *a;
  guint j;

  if (!calls || !JSON_NODE_HOLDS_ARRAY (calls))
    return copy;
  a = json_node_get_array (calls);
  for (j = json_array_get_length (a); j > 0; j--) {
    JsonNode *c = json_array_get_element (a, j - 1);

    if (JSON_NODE_HOLDS_OBJECT (c) && g_hash_table_contains (recorded,
            gst_bidi_json_get_string (json_node_get_object (c), "id")))
      json_array_remove_element (a, j - 1);
  }
  return copy;
}

/* The conversation kept elsewhere, in chat messages, with the turns it
 * does not have where they go. The turns it has by now are forgotten. */
static GPtrArray *
conversation_messages (GstBidiLlm * llm)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_node_unref);
  gchar *json = gst_bidi_history_to_json (llm->conversation);
  GPtrArray *msgs = gst_bidi_history_parse (json, NULL);
  GHashTable *recorded = g_hash_table_new (g_str_hash, g_str_equal);
  guint i, j, t;

  g_free (json);
  if (!msgs)
    msgs = g_ptr_array_new ();
  for (i = 0; i < msgs->len; i++) {
    const GstBidiMessage *m = g_ptr_array_index (msgs, i);

    for (j = 0; j < m->blocks->len; j++) {
      const GstBidiBlock *b = g_ptr_array_index (m->blocks, j);

      if (b->type == GST_BIDI_BLOCK_TOOL_USE)
        g_hash_table_add (recorded, b->tool_use_id);
    }
  }

  for (t = llm->turns->len; t > 0; t--)
    if (turn_recorded (g_ptr_array_index (llm->turns, t - 1), recorded))
      turns_remove (llm, t - 1);

  t = 0;
  for (i = 0; i <= msgs->len; i++) {
    while (t < llm->turns->len && (i == msgs->len ||
            g_array_index (llm->anchors, guint, t) <= i)) {
      g_ptr_array_add (out, turn_copy (g_ptr_array_index (llm->turns, t),
              recorded));
      t++;
    }
    if (i < msgs->len)
      convert_message (g_ptr_array_index (msgs, i), out);
  }

  g_hash_table_unref (recorded);
  g_ptr_array_unref (msgs);
  return out;
}

/* The request body's messages: system prompt, history, turns. A tool call
 * without a result yet (still running, or lost to an interruption) gets a
 * placeholder result: servers refuse a conversation where a tool_calls
 * message is not followed by a result for each call. */
static JsonArray *
build_messages (GstBidiLlm * llm)
{
  JsonArray *messages = json_array_new ();
  GPtrArray *lists[2];
  GPtrArray *pending = g_ptr_array_new_with_free_func (g_free);
  guint l, i, j;

  if (llm->system_prompt && *llm->system_prompt) {
    JsonObject *sys = message_new ("system");
    json_object_set_string_member (sys, "content", llm->system_prompt);
    json_array_add_object_element (messages, sys);
  }

  if (llm->conversation) {
    lists[0] = conversation_messages (llm);
    lists[1] = g_ptr_array_new ();
  } else {
    lists[0] = g_ptr_array_ref (llm->history);
    lists[1] = g_ptr_array_ref (llm->turns);
  }
  for (l = 0; l < 2; l++) {
    for (i = 0; i <= lists[l]->len; i++) {
      JsonNode *node = NULL;
      const gchar *role = NULL;
      gboolean last = (l == 1 && i == lists[l]->len);

      if (i < lists[l]->len) {
        node = g_ptr_array_index (lists[l], i);
        role = message_role (node);
      } else if (!last) {
        continue;
      }

      if (g_strcmp0 (role, "tool") == 0) {
        const gchar *id = gst_bidi_json_get_string (json_node_get_object (node),
            "tool_call_id");
        for (j = 0; j < pending->len; j++) {
          if (g_strcmp0 (g_ptr_array_index (pending, j), id) == 0) {
            g_ptr_array_remove_index (pending, j);
            break;
          }
        }
      } else {
        for (j = 0; j < pending->len; j++) {
          JsonObject *ph = message_new ("tool");
          json_object_set_string_member (ph, "tool_call_id",
              g_ptr_array_index (pending, j));
          json_object_set_string_member (ph, "content",
              "{\"error\": \"no result\"}");
          json_array_add_object_element (messages, ph);
        }
        g_ptr_array_set_size (pending, 0);
      }
      if (!node)
        continue;

      if (g_strcmp0 (role, "assistant") == 0) {
        JsonNode *calls = json_object_get_member (json_node_get_object (node),
            "tool_calls");
        if (calls && JSON_NODE_HOLDS_ARRAY (calls)) {
          JsonArray *a = json_node_get_array (calls);
          for (j = 0; j < json_array_get_length (a); j++) {
            JsonNode *c = json_array_get_element (a, j);
            const gchar *id = JSON_NODE_HOLDS_OBJECT (c) ?
                gst_bidi_json_get_string (json_node_get_object (c), "id") :
                NULL;
            if (id)
              g_ptr_array_add (pending, g_strdup (id));
          }
        }
      }
      /* a node has one parent: the body gets copies */
      json_array_add_element (messages, json_node_copy (node));
    }
  }
  g_ptr_array_unref (pending);
  g_ptr_array_unref (lists[0]);
  g_ptr_array_unref (lists[1]);
  return messages;
}

/* ------------------------------------------------------------------------
 * Requests: life cycle
 * ------------------------------------------------------------------------ */

static void
request_free (gpointer data)
{
  Request *req = data;

  GST_TRACE ("request %p freed", req);
  /* Closing a soup response stream does not read the rest of the body: it
   * marks the message finished (the connection is dropped if unfinished) */
  g_clear_object (&req->stream);
  g_clear_object (&req->msg);
  g_byte_array_unref (req->line);
  g_string_free (req->data, TRUE);
  if (req->body)
    g_byte_array_unref (req->body);
  g_string_free (req->text, TRUE);
  g_ptr_array_unref (req->tool_calls);
  g_free (req->finish_reason);
  g_free (req);
}

/* Makes @req no longer current: no callback for it after this. Returns the
 * client's reference on the cancellable, which keeps @req alive: drop it
 * once done with @req. */
static GCancellable *
request_detach (Request * req, gboolean cancel)
{
  GstBidiLlm *llm = req->llm;
  GCancellable *cancellable;

  g_assert (llm && llm->current == req);
  cancellable = g_steal_pointer (&llm->cancellable);
  llm->current = NULL;
  req->llm = NULL;
  req->finished = TRUE;
  if (cancel)
    g_cancellable_cancel (cancellable);
  return cancellable;
}

/* Puts the answer into the conversation (once). With @with_tool_calls
 * FALSE only the text: a cancelled or failed answer's tool calls were
 * never delivered and would have no results. */
static void
request_append_answer (Request * req, gboolean with_tool_calls)
{
  GstBidiLlm *llm = req->llm;
  JsonArray *calls = NULL;
  JsonObject *msg;
  guint i;

  if (req->appended)
    return;
  req->appended = TRUE;

  if (with_tool_calls) {
    for (i = 0; i < req->tool_calls->len; i++) {
      ToolCall *call = g_ptr_array_index (req->tool_calls, i);
      if (!call)
        continue;
      if (!calls)
        calls = json_array_new ();
      json_array_add_object_element (calls, tool_call_object (call->id,
              call->name, call->args->str));
    }
  }
  if (!calls && req->text->len == 0)
    return;

  msg = message_new ("assistant");
  json_object_set_string_member (msg, "content", req->text->str);
  if (calls)
    json_object_set_array_member (msg, "tool_calls", calls);
  llm->last_answer = node_take_object (msg);
  /* A conversation kept elsewhere gets a whole answer from its transcript */
  if (llm->conversation && with_tool_calls && !calls)
    return;
  turns_insert (llm, MIN (req->insert_at, llm->turns->len),
      json_node_ref (llm->last_answer), TURN_AT_END);
}

/* Ends @req with an error (the one terminal callback). */
/* *INDENT-OFF* */
static void
request_fail (Request * req, GQuark domain, gint code, const gchar * format,
    ...) G_GNUC_PRINTF (4, 5);
/* *INDENT-ON* */

static void
request_fail (Request * req, GQuark domain, gint code, const gchar * format,
    ...)
{
  GCancellable *cancellable;
  GString *message = g_string_new (NULL);
  GError *error;
  va_list ap;

  if (!req->llm)
    return;

  va_start (ap, format);
  g_string_append_vprintf (message, format, ap);
  va_end (ap);
  scrub_secret (req->llm, message);
  error = g_error_new_literal (domain, code, message->str);
  g_string_free (message, TRUE);
  GST_WARNING ("request failed: %s", error->message);

  /* What was said before the failure was said */
  request_append_answer (req, FALSE);
  cancellable = request_detach (req, TRUE);
  if (req->cb.error)
    req->cb.error (error, req->user_data);
  g_error_free (error);
  g_object_unref (cancellable);
}

static void
request_fail_decode (Request * req, const gchar * what)
{
  request_fail (req, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
      "malformed answer from the chat server: %s", what);
}

static void
request_finish (Request * req)
{
  GCancellable *cancellable;
  const gchar *reason;
  gboolean have_calls = FALSE;
  gchar *reason_copy;
  guint i;

  req->finished = TRUE;

  /* Every call must have a name; ids are made up when the server gave
   * none (llama.cpp did not always), so that results can be matched */
  for (i = 0; i < req->tool_calls->len; i++) {
    ToolCall *call = g_ptr_array_index (req->tool_calls, i);
    if (!call)
      continue;
    if (!call->name || !*call->name) {
      request_fail_decode (req, "a tool call has no function name");
      return;
    }
    if (!call->id || !*call->id) {
      g_free (call->id);
      call->id = g_strdup_printf ("bidillm-call-%u",
          ++req->llm->n_made_up_ids);
    }
    if (call->args->len == 0)
      g_string_assign (call->args, "{}");
    have_calls = TRUE;
  }

  /* Some servers say "stop" even when they called tools; the caller must
   * know that results are expected. */
  if (have_calls)
    reason = "tool_calls";
  else if (req->finish_reason && g_strcmp0 (req->finish_reason,
          "tool_calls") != 0)
    reason = req->finish_reason;
  else
    reason = "stop";
  reason_copy = g_strdup (reason);

  GST_DEBUG ("answer done: %s, %" G_GSIZE_FORMAT " bytes of text, usage %d/%d",
      reason_copy, req->text->len, req->prompt_tokens, req->completion_tokens);

  /* In the conversation before the tool calls are delivered, so that a
   * result added from the callback finds its call. */
  request_append_answer (req, TRUE);

  for (i = 0; i < req->tool_calls->len; i++) {
    ToolCall *call = g_ptr_array_index (req->tool_calls, i);
    if (!call)
      continue;
    GST_DEBUG ("tool call %s: %s", call->id, call->name);
    if (req->cb.tool_call)
      req->cb.tool_call (call->id, call->name, call->args->str, req->user_data);
    /* cancelled or freed from the callback */
    if (!req->llm) {
      g_free (reason_copy);
      return;
    }
  }

  cancellable = request_detach (req, FALSE);
  if (req->cb.done)
    req->cb.done (reason_copy, req->prompt_tokens, req->completion_tokens,
        req->user_data);
  g_free (reason_copy);
  g_object_unref (cancellable);
}

/* ------------------------------------------------------------------------
 * Answer chunks
 * ------------------------------------------------------------------------ */

/* Member @name of @obj when it is of @type; absent and null give NULL
 * without error; another type is an error. */
static gboolean
get_member (JsonObject * obj, const gchar * name, JsonNodeType type,
    GType value_type, JsonNode ** out)
{
  JsonNode *node = json_object_get_member (obj, name);

  *out = NULL;
  if (!node || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_TYPE (node) != type)
    return FALSE;
  if (type == JSON_NODE_VALUE && json_node_get_value_type (node) != value_type)
    return FALSE;
  *out = node;
  return TRUE;
}

static gboolean
answer_grow (Request * req, gsize len)
{
  req->answer_size += len;
  if (req->answer_size > MAX_ANSWER_SIZE) {
    request_fail (req, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "the answer is larger than %d bytes", MAX_ANSWER_SIZE);
    return FALSE;
  }
  return TRUE;
}

/* An "arguments" member: a string to append, or (not in the spec, but
 * some servers do it) an object. */
static gboolean
append_arguments (Request * req, ToolCall * call, JsonNode * node)
{
  if (JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING) {
    const gchar *s = json_node_get_string (node);
    if (!answer_grow (req, strlen (s)))
      return FALSE;
    g_string_append (call->args, s);
  } else if (JSON_NODE_HOLDS_OBJECT (node)) {
    gchar *s = node_to_string (node);
    if (!answer_grow (req, strlen (s))) {
      g_free (s);
      return FALSE;
    }
    g_string_append (call->args, s);
    g_free (s);
  } else if (!JSON_NODE_HOLDS_NULL (node)) {
    request_fail_decode (req, "tool call arguments are not a string");
    return FALSE;
  }
  return TRUE;
}

/* One element of delta.tool_calls (streamed, @position is its place in
 * the array when it has no index) or of message.tool_calls. */
static gboolean
handle_tool_call (Request * req, JsonNode * node, guint position)
{
  JsonObject *obj;
  JsonNode *index_node, *id_node, *fn_node, *name_node, *args_node;
  ToolCall *call;
  gint64 index = position;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    goto malformed;
  obj = json_node_get_object (node);
  if (!get_member (obj, "index", JSON_NODE_VALUE, G_TYPE_INT64, &index_node) ||
      !get_member (obj, "id", JSON_NODE_VALUE, G_TYPE_STRING, &id_node) ||
      !get_member (obj, "function", JSON_NODE_OBJECT, 0, &fn_node))
    goto malformed;
  if (index_node)
    index = json_node_get_int (index_node);
  if (index < 0 || index >= MAX_TOOL_CALLS)
    goto bad_index;

  if ((guint) index >= req->tool_calls->len)
    g_ptr_array_set_size (req->tool_calls, index + 1);
  call = g_ptr_array_index (req->tool_calls, index);
  if (!call) {
    call = g_new0 (ToolCall, 1);
    call->args = g_string_new (NULL);
    g_ptr_array_index (req->tool_calls, index) = call;
  }

  /* The id and name come whole in the first piece; some servers repeat
   * them in later pieces, so the first one wins. */
  if (id_node && !call->id) {
    const gchar *id = json_node_get_string (id_node);
    if (*id) {
      if (!answer_grow (req, strlen (id)))
        return FALSE;
      call->id = g_strdup (id);
    }
  }
  if (fn_node) {
    JsonObject *fn = json_node_get_object (fn_node);

    if (!get_member (fn, "name", JSON_NODE_VALUE, G_TYPE_STRING, &name_node))
      goto malformed;
    if (name_node && !call->name) {
      const gchar *name = json_node_get_string (name_node);
      if (*name) {
        if (!answer_grow (req, strlen (name)))
          return FALSE;
        call->name = g_strdup (name);
      }
    }
    args_node = json_object_get_member (fn, "arguments");
    if (args_node && !append_arguments (req, call, args_node))
      return FALSE;
  }
  return TRUE;

  /* ERRORS */
malformed:
  {
    request_fail_decode (req, "malformed tool call");
    return FALSE;
  }
bad_index:
  {
    request_fail_decode (req, "tool call index out of range");
    return FALSE;
  }
}

static gboolean
handle_usage (Request * req, JsonObject * root)
{
  JsonNode *usage, *n;
  JsonObject *obj;

  if (!get_member (root, "usage", JSON_NODE_OBJECT, 0, &usage))
    goto malformed;
  if (!usage)
    return TRUE;
  obj = json_node_get_object (usage);
  if (!get_member (obj, "prompt_tokens", JSON_NODE_VALUE, G_TYPE_INT64, &n))
    goto malformed;
  if (n)
    req->prompt_tokens = CLAMP (json_node_get_int (n), 0, G_MAXINT);
  if (!get_member (obj, "completion_tokens", JSON_NODE_VALUE, G_TYPE_INT64, &n))
    goto malformed;
  if (n)
    req->completion_tokens = CLAMP (json_node_get_int (n), 0, G_MAXINT);
  return TRUE;

  /* ERRORS */
malformed:
  {
    request_fail_decode (req, "malformed usage");
    return FALSE;
  }
}

/* The message of an error object, shortened to an excerpt */
static gchar *
error_object_message (JsonObject * root)
{
  const gchar *s = gst_bidi_json_error_message (root);

  return s ? make_excerpt (s, strlen (s)) : NULL;
}

/* A JSON object from the network, NULL when it is not one */
static JsonObject *
load_object (const gchar * data, gsize len, GError ** error)
{
  return gst_bidi_json_parse_object (data, len, G_MAXSIZE,
      GST_BIDI_REALTIME_MAX_JSON_DEPTH, error);
}

/* The error a server reported in a stream (a chunk with "error", or an
 * "error" event). */
static void
request_fail_server (Request * req, const gchar * data)
{
  JsonObject *root = load_object (data, strlen (data), NULL);
  gchar *message = NULL;

  if (root) {
    message = error_object_message (root);
    json_object_unref (root);
  }
  if (!message)
    message = make_excerpt (data, strlen (data));

  request_fail (req, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
      "the chat server reported an error: %s", message);
  g_free (message);
}

/* One chat.completion.chunk (streamed, @streamed TRUE) or chat.completion.
 * Returns FALSE when the request failed or was detached. */
static gboolean
handle_answer_object (Request * req, JsonObject * root, gboolean streamed)
{
  JsonNode *choices, *choice_node, *part, *content, *calls, *finish;
  JsonObject *choice;
  JsonArray *array;
  guint i;

  if (json_object_has_member (root, "error") &&
      !JSON_NODE_HOLDS_NULL (json_object_get_member (root, "error"))) {
    JsonNode *n = json_object_get_member (root, "error");
    gchar *s = node_to_string (n);
    /* the whole object, so that request_fail_server finds the message */
    gchar *whole = g_strdup_printf ("{\"error\": %s}", s);
    request_fail_server (req, whole);
    g_free (whole);
    g_free (s);
    return FALSE;
  }

  if (!handle_usage (req, root))
    return FALSE;

  if (!get_member (root, "choices", JSON_NODE_ARRAY, 0, &choices))
    goto malformed;
  /* the usage chunk has no choices */
  if (!choices || json_array_get_length (json_node_get_array (choices)) == 0)
    return TRUE;

  /* n = 1: only the first choice */
  choice_node = json_array_get_element (json_node_get_array (choices), 0);
  if (!JSON_NODE_HOLDS_OBJECT (choice_node))
    goto malformed;
  choice = json_node_get_object (choice_node);

  if (!get_member (choice, "finish_reason", JSON_NODE_VALUE, G_TYPE_STRING,
          &finish))
    goto malformed;
  if (!get_member (choice, streamed ? "delta" : "message", JSON_NODE_OBJECT, 0,
          &part))
    goto malformed;

  if (part) {
    JsonObject *obj = json_node_get_object (part);

    if (!get_member (obj, "content", JSON_NODE_VALUE, G_TYPE_STRING, &content)
        || !get_member (obj, "tool_calls", JSON_NODE_ARRAY, 0, &calls))
      goto malformed;

    if (calls) {
      array = json_node_get_array (calls);
      for (i = 0; i < json_array_get_length (array); i++)
        if (!handle_tool_call (req, json_array_get_element (array, i), i))
          return FALSE;
    }

    if (content && *json_node_get_string (content)) {
      const gchar *delta = json_node_get_string (content);
      gsize len = strlen (delta);

      if (!answer_grow (req, len))
        return FALSE;
      g_string_append_len (req->text, delta, len);
      if (req->cb.text)
        req->cb.text (delta, req->user_data);
      /* cancelled or freed from the callback */
      if (!req->llm)
        return FALSE;
    }
  }

  if (finish) {
    g_free (req->finish_reason);
    req->finish_reason = g_strdup (json_node_get_string (finish));
  }
  return TRUE;

  /* ERRORS */
malformed:
  {
    request_fail_decode (req, streamed ? "unexpected types in a chunk" :
        "unexpected types in the answer");
    return FALSE;
  }
}

/* Parses @data as a JSON object, failing the request otherwise. */
static JsonObject *
parse_object (Request * req, const gchar * data, gsize len)
{
  JsonNode *root;
  JsonObject *obj;
  GError *err = NULL;

  root = gst_bidi_json_parse_strict (data, len,
      GST_BIDI_REALTIME_MAX_JSON_DEPTH, &err);
  if (!root) {
    gchar *excerpt = make_excerpt (data, MIN (len, 80));
    request_fail (req, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "malformed JSON from the chat server (%s): %s", err->message, excerpt);
    g_free (excerpt);
    g_clear_error (&err);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    request_fail_decode (req, "a JSON object was expected");
    json_node_unref (root);
    return NULL;
  }
  obj = json_object_ref (json_node_get_object (root));
  json_node_unref (root);
  return obj;
}

/* One complete SSE event's data. */
static gboolean
handle_event_data (Request * req, const gchar * data, gsize len)
{
  JsonObject *obj;
  gboolean ret;

  if (req->error_event) {
    request_fail_server (req, data);
    return FALSE;
  }
  if (len == 6 && memcmp (data, "[DONE]", 6) == 0) {
    request_finish (req);
    return FALSE;
  }
  if (!(obj = parse_object (req, data, len)))
    return FALSE;
  ret = handle_answer_object (req, obj, TRUE);
  json_object_unref (obj);
  return ret;
}

static gboolean
dispatch_event (Request * req)
{
  gboolean ret = TRUE;

  if (req->have_data)
    ret = handle_event_data (req, req->data->str, req->data->len);
  g_string_truncate (req->data, 0);
  req->have_data = FALSE;
  req->error_event = FALSE;
  return ret;
}

/* One line of the event stream (without its end of line). Returns FALSE
 * when reading must stop. */
static gboolean
handle_line (Request * req, const gchar * line, gsize len)
{
  const gchar *colon, *value;
  gsize name_len, value_len;

  if (len == 0)
    return dispatch_event (req);
  if (line[0] == ':')           /* comment, e.g. a keep-alive */
    return TRUE;

  colon = memchr (line, ':', len);
  name_len = colon ? (gsize) (colon - line) : len;
  value = colon ? colon + 1 : line + len;
  value_len = len - (value - line);
  if (value_len > 0 && value[0] == ' ') {
    value++;
    value_len--;
  }

  if (name_len == 4 && memcmp (line, "data", 4) == 0) {
    if (req->have_data)
      g_string_append_c (req->data, '\n');
    g_string_append_len (req->data, value, value_len);
    req->have_data = TRUE;
    if (req->data->len > MAX_LINE_SIZE) {
      request_fail_decode (req, "an event is too large");
      return FALSE;
    }
  } else if (name_len == 5 && memcmp (line, "event", 5) == 0) {
    req->error_event = (value_len == 5 && memcmp (value, "error", 5) == 0);
  } else if (name_len == 5 && memcmp (line, "error", 5) == 0) {
    /* llama.cpp's server reports a failure as an "error:" line */
    gchar *v = g_strndup (value, value_len);
    request_fail_server (req, v);
    g_free (v);
    return FALSE;
  }
  /* id, retry and unknown fields: nothing for us */
  return TRUE;
}

/* Splits @data into lines (LF, CRLF or CR). Returns FALSE when reading
 * must stop. */
static gboolean
feed_sse (Request * req, const guint8 * data, gsize len)
{
  gsize i = 0;

  while (i < len) {
    const guint8 *start = data + i;
    gsize n;

    if (req->skip_lf) {
      req->skip_lf = FALSE;
      if (data[i] == '\n') {
        i++;
        continue;
      }
    }

    for (n = 0; i + n < len && start[n] != '\n' && start[n] != '\r'; n++);

    if (req->line->len + n > MAX_LINE_SIZE)
      goto too_long;

    if (i + n == len) {
      /* no end of line yet */
      g_byte_array_append (req->line, start, n);
      return TRUE;
    }

    req->skip_lf = (start[n] == '\r');
    i += n + 1;
    if (req->line->len) {
      gboolean ret;
      g_byte_array_append (req->line, start, n);
      ret = handle_line (req, (const gchar *) req->line->data, req->line->len);
      g_byte_array_set_size (req->line, 0);
      if (!ret)
        return FALSE;
    } else if (!handle_line (req, (const gchar *) start, n)) {
      return FALSE;
    }
  }
  return TRUE;

  /* ERRORS */
too_long:
  {
    request_fail_decode (req, "a line is too long");
    return FALSE;
  }
}

/* ------------------------------------------------------------------------
 * Response bodies
 * ------------------------------------------------------------------------ */

static void
handle_sse_eof (Request * req)
{
  /* a last event without its blank line */
  if (req->line->len) {
    gboolean ret = handle_line (req, (const gchar *) req->line->data,
        req->line->len);
    g_byte_array_set_size (req->line, 0);
    if (!ret)
      return;
  }
  if (!dispatch_event (req))
    return;

  /* No [DONE]: fine if the answer said it was finished */
  if (req->finish_reason)
    request_finish (req);
  else
    request_fail (req, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "the chat server closed the stream before the answer was complete");
}

static void
handle_json_body (Request * req)
{
  JsonObject *obj;

  if (!(obj = parse_object (req, (const gchar *) req->body->data,
              req->body->len)))
    return;
  if (handle_answer_object (req, obj, FALSE))
    request_finish (req);
  json_object_unref (obj);
}

static void
handle_error_body (Request * req)
{
  const gchar *data = (const gchar *) req->body->data;
  gsize len = req->body->len;
  JsonObject *root = load_object (data, len, NULL);
  gchar *excerpt = NULL;
  gint code;

  if (root) {
    excerpt = error_object_message (root);
    json_object_unref (root);
  }
  if (!excerpt)
    excerpt = make_excerpt (data, len);

  code = (req->status == SOUP_STATUS_UNAUTHORIZED ||
      req->status == SOUP_STATUS_FORBIDDEN) ?
      GST_RESOURCE_ERROR_NOT_AUTHORIZED : GST_RESOURCE_ERROR_READ;
  request_fail (req, GST_RESOURCE_ERROR, code,
      "the chat server answered HTTP %u %s%s%s", req->status,
      soup_status_get_phrase (req->status), *excerpt ? ": " : "", excerpt);
  g_free (excerpt);
}

static void read_next (Request * req);

static void
read_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Request *req = user_data;
  GError *err = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, &err);
  if (!req->llm || req->finished) {
    /* detached: cancelled, or freed */
    g_clear_error (&err);
    return;
  }
  if (n < 0)
    goto read_failed;

  if (n == 0) {
    switch (req->mode) {
      case BODY_SSE:
        handle_sse_eof (req);
        break;
      case BODY_JSON:
        handle_json_body (req);
        break;
      case BODY_ERROR:
        handle_error_body (req);
        break;
    }
    return;
  }

  req->n_read += n;
  switch (req->mode) {
    case BODY_SSE:
      if (req->n_read > MAX_STREAM_SIZE)
        goto too_large;
      if (!feed_sse (req, req->buf, n))
        return;
      break;
    case BODY_JSON:
      if (req->n_read > MAX_JSON_BODY_SIZE)
        goto too_large;
      g_byte_array_append (req->body, req->buf, n);
      break;
    case BODY_ERROR:
      /* enough to say what went wrong */
      g_byte_array_append (req->body, req->buf, n);
      if (req->body->len >= MAX_ERROR_BODY_SIZE) {
        handle_error_body (req);
        return;
      }
      break;
  }
  read_next (req);
  return;

  /* ERRORS */
read_failed:
  {
    request_fail (req, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "could not read the answer from %s: %s", req->msg ?
        g_uri_get_host (soup_message_get_uri (req->msg)) : "the chat server",
        err->message);
    g_clear_error (&err);
    return;
  }
too_large:
  {
    request_fail (req, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "the answer from the chat server is too large");
    return;
  }
}

static void
read_next (Request * req)
{
  g_input_stream_read_async (req->stream, req->buf, sizeof (req->buf),
      G_PRIORITY_DEFAULT, req->cancellable, read_cb, req);
}

static void
send_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Request *req = user_data;
  GError *err = NULL;
  GInputStream *stream;
  const gchar *content_type;

  stream = soup_session_send_finish (SOUP_SESSION (source), res, &err);
  if (!req->llm) {
    g_clear_object (&stream);
    g_clear_error (&err);
    return;
  }
  if (!stream)
    goto send_failed;

  req->stream = stream;
  req->status = soup_message_get_status (req->msg);
  content_type = soup_message_headers_get_content_type
      (soup_message_get_response_headers (req->msg), NULL);
  GST_DEBUG ("HTTP %u, %s", req->status, GST_STR_NULL (content_type));

  if (req->status >= 400) {
    req->mode = BODY_ERROR;
    req->body = g_byte_array_new ();
  } else if (req->status < 200 || req->status >= 300) {
    goto bad_status;
  } else if (g_strcmp0 (content_type, "application/json") == 0) {
    /* the server ignored "stream": the whole answer at once */
    req->mode = BODY_JSON;
    req->body = g_byte_array_new ();
  } else {
    req->mode = BODY_SSE;
  }
  read_next (req);
  return;

  /* ERRORS */
send_failed:
  {
    request_fail (req, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
        "could not connect to the chat server at %s: %s",
        g_uri_get_host (soup_message_get_uri (req->msg)), err->message);
    g_clear_error (&err);
    return;
  }
bad_status:
  {
    request_fail (req, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "the chat server answered HTTP %u %s", req->status,
        soup_status_get_phrase (req->status));
    return;
  }
}

/* ------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------ */

static gboolean
parse_tools (GstBidiLlm * llm, const gchar * tools_json, GError ** error)
{
  GPtrArray *specs = gst_bidi_tools_parse (tools_json, error);
  JsonArray *out;
  guint i;

  if (!specs)
    return FALSE;
  out = json_array_new ();
  /* chat completions: {"type": "function", "function": {...}} */
  for (i = 0; i < specs->len; i++) {
    GstBidiToolSpec *spec = g_ptr_array_index (specs, i);
    JsonObject *function = json_object_new (), *wrapper = json_object_new ();

    json_object_set_string_member (function, "name", spec->name);
    if (*spec->description)
      json_object_set_string_member (function, "description",
          spec->description);
    json_object_set_member (function, "parameters",
        json_from_string (spec->parameters, NULL));
    json_object_set_string_member (wrapper, "type", "function");
    json_object_set_object_member (wrapper, "function", function);
    json_array_add_object_element (out, wrapper);
  }
  g_ptr_array_unref (specs);

  if (json_array_get_length (out) > 0) {
    llm->tools = json_node_new (JSON_NODE_ARRAY);
    json_node_take_array (llm->tools, out);
  } else {
    json_array_unref (out);
  }
  return TRUE;
}

GUri *
gst_bidi_llm_endpoint (const gchar * what, const gchar * base_url,
    const gchar * suffix, gboolean add_v1, GError ** error)
{
  GUri *base, *uri;
  const gchar *scheme, *host;
  gchar *path, *full;
  gsize len;

  if (!base_url || !*base_url)
    goto bad_url;
  base = g_uri_parse (base_url, G_URI_FLAGS_ENCODED, NULL);
  if (!base)
    goto bad_url;

  scheme = g_uri_get_scheme (base);
  host = g_uri_get_host (base);
  if (!host || !*host || (g_ascii_strcasecmp (scheme, "http") != 0 &&
          g_ascii_strcasecmp (scheme, "https") != 0)) {
    g_uri_unref (base);
    goto bad_url;
  }
  if (g_uri_get_user (base)) {
    g_uri_unref (base);
    goto userinfo;
  }
  if (g_ascii_strcasecmp (scheme, "http") == 0
      && !gst_bidi_realtime_host_is_loopback (host)) {
    g_uri_unref (base);
    goto not_loopback;
  }

  path = g_strdup (g_uri_get_path (base));
  len = strlen (path);
  while (len > 0 && path[len - 1] == '/')
    path[--len] = '\0';
  /* servers document their base URL with and without the API version */
  add_v1 = add_v1 && !g_str_has_suffix (path, "/v1");
  full = g_strconcat (path, add_v1 ? "/v1" : "", suffix, NULL);
  uri = g_uri_build (G_URI_FLAGS_ENCODED, scheme, NULL, host,
      g_uri_get_port (base), full, g_uri_get_query (base), NULL);
  g_free (full);
  g_free (path);
  g_uri_unref (base);
  return uri;

  /* ERRORS */
bad_url:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "%s must be an http:// or https:// URL, like "
        "http://127.0.0.1:8080/v1", what);
    return NULL;
  }
userinfo:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "%s must not contain user information; use the api key", what);
    return NULL;
  }
not_loopback:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "%s: use https for non-loopback hosts", what);
    return NULL;
  }
}

GstBidiLlm *
gst_bidi_llm_new (const gchar * base_url, const gchar * model,
    const gchar * api_key, const gchar * system_prompt,
    const gchar * tools_json, const gchar * ssl_ca_file, GError ** error)
{
  GstBidiLlm *llm;
  GUri *uri;
  gchar *uri_str;

  debug_init ();

  if (!(uri = gst_bidi_llm_endpoint ("llm-url", base_url,
              "/chat/completions", FALSE, error)))
    return NULL;

  llm = g_new0 (GstBidiLlm, 1);
  llm->uri = uri;
  llm->host = g_strdup (g_uri_get_host (uri));
  llm->history = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_node_unref);
  llm->turns = g_ptr_array_new_with_free_func ((GDestroyNotify)
      json_node_unref);
  llm->anchors = g_array_new (FALSE, FALSE, sizeof (guint));

  if (!parse_tools (llm, tools_json, error))
    goto failed;

  if (ssl_ca_file && *ssl_ca_file &&
      !(llm->ca_database = gst_bidi_realtime_load_ca_file (ssl_ca_file, error)))
    goto failed;

  llm->model = (model && *model) ? g_strdup (model) : NULL;
  llm->api_key = (api_key && *api_key) ? g_strdup (api_key) : NULL;
  llm->system_prompt = g_strdup (system_prompt);

  /* libsoup runs its I/O on the thread-default context of the thread that
   * made the session: the caller's network thread */
  llm->context = g_main_context_ref_thread_default ();
  llm->session = gst_bidi_realtime_session_new (llm->host, IO_TIMEOUT_S);

  uri_str = g_uri_to_string (uri);
  GST_INFO ("chat completions at %s, model %s%s%s", uri_str,
      llm->model ? llm->model : "(the server's default)",
      llm->api_key ? ", api key set" : "", llm->tools ? ", with tools" : "");
  g_free (uri_str);
  return llm;

  /* ERRORS */
failed:
  {
    gst_bidi_llm_free (llm);
    return NULL;
  }
}

static gboolean
on_own_context (GstBidiLlm * llm)
{
  GMainContext *ctx = g_main_context_ref_thread_default ();
  gboolean ret = (ctx == llm->context);

  g_main_context_unref (ctx);
  return ret;
}

gboolean
gst_bidi_llm_request (GstBidiLlm * llm, const GstBidiLlmCallbacks * callbacks,
    gpointer user_data)
{
  Request *req;
  JsonObject *body, *options;
  JsonNode *root;
  gchar *data;
  gsize len;
  GBytes *bytes;
  SoupMessageHeaders *headers;

  g_return_val_if_fail (llm != NULL, FALSE);
  g_return_val_if_fail (callbacks != NULL, FALSE);
  /* libsoup would run the request on another context than its session's */
  g_return_val_if_fail (on_own_context (llm), FALSE);

  if (llm->current) {
    GST_WARNING ("a request is already running");
    return FALSE;
  }

  req = g_new0 (Request, 1);
  req->llm = llm;
  req->cb = *callbacks;
  req->user_data = user_data;
  req->line = g_byte_array_new ();
  req->data = g_string_new (NULL);
  req->text = g_string_new (NULL);
  req->tool_calls = g_ptr_array_new_with_free_func ((GDestroyNotify)
      tool_call_free);
  req->prompt_tokens = -1;
  req->completion_tokens = -1;
  g_clear_pointer (&llm->last_answer, json_node_unref);
  llm->requested = TRUE;

  req->cancellable = g_cancellable_new ();
  g_object_set_qdata_full (G_OBJECT (req->cancellable), request_quark, req,
      request_free);
  llm->cancellable = req->cancellable;
  llm->current = req;

  body = json_object_new ();
  if (llm->model)
    json_object_set_string_member (body, "model", llm->model);
  json_object_set_array_member (body, "messages", build_messages (llm));
  /* (building them forgets the turns a conversation kept elsewhere has) */
  req->insert_at = llm->turns->len;
  json_object_set_boolean_member (body, "stream", TRUE);
  options = json_object_new ();
  json_object_set_boolean_member (options, "include_usage", TRUE);
  json_object_set_object_member (body, "stream_options", options);
  if (llm->tools)
    json_object_set_member (body, "tools", json_node_copy (llm->tools));
  root = node_take_object (body);
  data = gst_bidi_json_to_string (root);
  json_node_unref (root);
  len = strlen (data);

  req->msg = soup_message_new_from_uri (SOUP_METHOD_POST, llm->uri);
  /* A redirect could take the key elsewhere, or to plain http */
  soup_message_add_flags (req->msg, SOUP_MESSAGE_NO_REDIRECT);
  headers = soup_message_get_request_headers (req->msg);
  soup_message_headers_replace (headers, "Accept", "text/event-stream");
  if (llm->api_key) {
    gchar *auth = g_strconcat ("Bearer ", llm->api_key, NULL);
    soup_message_headers_replace (headers, "Authorization", auth);
    memset (auth, 0, strlen (auth));
    g_free (auth);
  }
  bytes = g_bytes_new_take (data, len);
  soup_message_set_request_body_from_bytes (req->msg, "application/json",
      bytes);
  g_bytes_unref (bytes);
  gst_bidi_realtime_message_setup_tls (req->msg, llm->ca_database, TRUE);

  GST_DEBUG ("request %p: %" G_GSIZE_FORMAT " bytes, %u+%u messages", req, len,
      llm->history->len, llm->turns->len);
  soup_session_send_async (llm->session, req->msg, G_PRIORITY_DEFAULT,
      req->cancellable, send_cb, req);
  return TRUE;
}

void
gst_bidi_llm_cancel (GstBidiLlm * llm)
{
  Request *req;
  GCancellable *cancellable;

  g_return_if_fail (llm != NULL);

  if (!(req = llm->current))
    return;

  GST_DEBUG ("request %p cancelled after %" G_GSIZE_FORMAT " bytes of text",
      req, req->text->len);
  /* The words received so far, so that truncate_last_answer can cut them
   * to what was heard. */
  request_append_answer (req, FALSE);
  cancellable = request_detach (req, TRUE);
  if (req->cb.done)
    req->cb.done (CANCELLED_REASON, req->prompt_tokens,
        req->completion_tokens, req->user_data);
  g_object_unref (cancellable);
}

void
gst_bidi_llm_free (GstBidiLlm * llm)
{
  if (!llm)
    return;

  if (llm->current)
    g_object_unref (request_detach (llm->current, TRUE));

  g_clear_object (&llm->session);
  g_clear_pointer (&llm->context, g_main_context_unref);
  g_clear_pointer (&llm->uri, g_uri_unref);
  g_free (llm->host);
  g_free (llm->model);
  if (llm->api_key) {
    memset (llm->api_key, 0, strlen (llm->api_key));
    g_free (llm->api_key);
  }
  g_free (llm->system_prompt);
  g_clear_pointer (&llm->tools, json_node_unref);
  g_clear_pointer (&llm->last_answer, json_node_unref);
  g_clear_object (&llm->ca_database);
  g_ptr_array_unref (llm->history);
  g_ptr_array_unref (llm->turns);
  g_array_unref (llm->anchors);
  g_free (llm);
}
