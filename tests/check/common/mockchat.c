/* gst-bidi: a mock OpenAI-compatible chat-completions server for tests
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "mockchat.h"
#include "mockserver.h"

typedef enum
{
  SCRIPT_TEXT,
  SCRIPT_TOOL_CALL,
  SCRIPT_ERROR,
  SCRIPT_RAW,
  SCRIPT_JSON,
  SCRIPT_HANG
} ScriptKind;

typedef struct
{
  ScriptKind kind;
  gchar *text;                  /* text, tool arguments, error body, raw */
  gchar *id;
  gchar *name;
  guint n_chunks;
  guint delay_ms;
  gint prompt_tokens;
  gint completion_tokens;
  guint status;
} Script;

typedef struct
{
  gchar *path;
  gchar *body;
  GPtrArray *header_names;
  GPtrArray *header_values;
} Recorded;

struct _MockChat
{
  MockServer *server;
  GMainContext *context;        /* the server's */
  gchar *url;

  GMutex lock;
  GCond cond;
  GQueue scripts;               /* Script * */
  GPtrArray *requests;          /* Recorded * */
  guint n_completed;
};

/* A response being written slowly, attached to its message */
typedef struct
{
  MockChat *mock;
  SoupServerMessage *msg;       /* not a reference: it owns us */
  GPtrArray *pieces;            /* gchar *, still to write */
  guint next;
  guint delay_ms;
  GSource *timeout;
  gboolean finished;
} Serve;

static void
script_free (Script * s)
{
  g_free (s->text);
  g_free (s->id);
  g_free (s->name);
  g_free (s);
}

static void
recorded_free (Recorded * r)
{
  g_free (r->path);
  g_free (r->body);
  g_ptr_array_unref (r->header_names);
  g_ptr_array_unref (r->header_values);
  g_free (r);
}

/* ------------------------------------------------------------------------
 * SSE chunks
 * ------------------------------------------------------------------------ */

static gchar *
sse_event (JsonObject * obj)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  gchar *json, *event;

  json_node_take_object (node, obj);
  json = json_to_string (node, FALSE);
  json_node_unref (node);
  event = g_strdup_printf ("data: %s\n\n", json);
  g_free (json);
  return event;
}

/* A chat.completion.chunk with @delta (transfer full, may be NULL) */
static gchar *
chunk_event (JsonObject * delta, const gchar * finish_reason)
{
  JsonObject *obj = json_object_new ();
  JsonObject *choice = json_object_new ();
  JsonArray *choices = json_array_new ();

  json_object_set_string_member (obj, "id", "chatcmpl-mock");
  json_object_set_string_member (obj, "object", "chat.completion.chunk");
  json_object_set_int_member (obj, "created", 0);
  json_object_set_string_member (obj, "model", "mock");
  json_object_set_int_member (choice, "index", 0);
  json_object_set_object_member (choice, "delta",
      delta ? delta : json_object_new ());
  if (finish_reason)
    json_object_set_string_member (choice, "finish_reason", finish_reason);
  else
    json_object_set_null_member (choice, "finish_reason");
  json_array_add_object_element (choices, choice);
  json_object_set_array_member (obj, "choices", choices);
  return sse_event (obj);
}

static gchar *
usage_event (gint prompt_tokens, gint completion_tokens)
{
  JsonObject *obj = json_object_new ();
  JsonObject *usage = json_object_new ();

  json_object_set_string_member (obj, "id", "chatcmpl-mock");
  json_object_set_string_member (obj, "object", "chat.completion.chunk");
  json_object_set_array_member (obj, "choices", json_array_new ());
  json_object_set_int_member (usage, "prompt_tokens", prompt_tokens);
  json_object_set_int_member (usage, "completion_tokens", completion_tokens);
  json_object_set_int_member (usage, "total_tokens",
      prompt_tokens + completion_tokens);
  json_object_set_object_member (obj, "usage", usage);
  return sse_event (obj);
}

/* @text in @n pieces of about the same number of characters */
static GPtrArray *
split_text (const gchar * text, guint n)
{
  GPtrArray *pieces = g_ptr_array_new_with_free_func (g_free);
  glong n_chars = g_utf8_strlen (text, -1), per, i;
  const gchar *p = text;

  n = MAX (n, 1);
  per = MAX ((n_chars + n - 1) / n, 1);
  for (i = 0; i < n_chars; i += per) {
    const gchar *end = g_utf8_offset_to_pointer (p, MIN (per, n_chars - i));
    g_ptr_array_add (pieces, g_strndup (p, end - p));
    p = end;
  }
  return pieces;
}

static GPtrArray *
text_events (Script * s)
{
  GPtrArray *events = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *pieces = split_text (s->text, s->n_chunks);
  guint i;

  for (i = 0; i < pieces->len; i++) {
    JsonObject *delta = json_object_new ();
    if (i == 0)
      json_object_set_string_member (delta, "role", "assistant");
    json_object_set_string_member (delta, "content",
        g_ptr_array_index (pieces, i));
    g_ptr_array_add (events, chunk_event (delta, NULL));
  }
  g_ptr_array_unref (pieces);
  g_ptr_array_add (events, chunk_event (NULL, "stop"));
  if (s->prompt_tokens >= 0)
    g_ptr_array_add (events, usage_event (s->prompt_tokens,
            s->completion_tokens));
  g_ptr_array_add (events, g_strdup ("data: [DONE]\n\n"));
  return events;
}

/* A delta with one tool call piece */
static JsonObject *
tool_delta (const gchar * id, const gchar * name, const gchar * args)
{
  JsonObject *delta = json_object_new ();
  JsonObject *call = json_object_new ();
  JsonObject *function = json_object_new ();
  JsonArray *calls = json_array_new ();

  json_object_set_int_member (call, "index", 0);
  if (id) {
    json_object_set_string_member (call, "id", id);
    json_object_set_string_member (call, "type", "function");
  }
  if (name)
    json_object_set_string_member (function, "name", name);
  json_object_set_string_member (function, "arguments", args);
  json_object_set_object_member (call, "function", function);
  json_array_add_object_element (calls, call);
  json_object_set_array_member (delta, "tool_calls", calls);
  return delta;
}

static GPtrArray *
tool_call_events (Script * s)
{
  GPtrArray *events = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *pieces = split_text (s->text, s->n_chunks);
  JsonObject *first;
  guint i;

  first = tool_delta (s->id, s->name, "");
  json_object_set_string_member (first, "role", "assistant");
  json_object_set_null_member (first, "content");
  g_ptr_array_add (events, chunk_event (first, NULL));
  for (i = 0; i < pieces->len; i++)
    g_ptr_array_add (events, chunk_event (tool_delta (NULL, NULL,
                g_ptr_array_index (pieces, i)), NULL));
  g_ptr_array_unref (pieces);
  g_ptr_array_add (events, chunk_event (NULL, "tool_calls"));
  g_ptr_array_add (events, usage_event (10, 5));
  g_ptr_array_add (events, g_strdup ("data: [DONE]\n\n"));
  return events;
}

/* ------------------------------------------------------------------------
 * Serving (mock thread)
 * ------------------------------------------------------------------------ */

static void
serve_free (Serve * serve)
{
  if (serve->timeout) {
    g_source_destroy (serve->timeout);
    g_source_unref (serve->timeout);
  }
  g_ptr_array_unref (serve->pieces);
  g_free (serve);
}

static void
serve_finished_cb (SoupServerMessage * msg, Serve * serve)
{
  (void) msg;
  serve->finished = TRUE;
  if (serve->timeout) {
    g_source_destroy (serve->timeout);
    g_clear_pointer (&serve->timeout, g_source_unref);
  }
}

/* Writes the next piece; the body is complete after the last one */
static void
serve_write_next (Serve * serve)
{
  SoupMessageBody *body = soup_server_message_get_response_body (serve->msg);
  const gchar *piece = g_ptr_array_index (serve->pieces, serve->next);

  soup_message_body_append (body, SOUP_MEMORY_COPY, piece, strlen (piece));
  serve->next++;
  if (serve->next == serve->pieces->len) {
    soup_message_body_complete (body);
    g_mutex_lock (&serve->mock->lock);
    serve->mock->n_completed++;
    g_mutex_unlock (&serve->mock->lock);
  }
}

static gboolean
serve_timeout_cb (gpointer user_data)
{
  Serve *serve = user_data;

  g_clear_pointer (&serve->timeout, g_source_unref);
  if (serve->finished)
    return G_SOURCE_REMOVE;

  serve_write_next (serve);
  /* a chunked response pauses itself when it runs out of data */
  soup_server_message_unpause (serve->msg);
  if (serve->next < serve->pieces->len) {
    serve->timeout = g_timeout_source_new (serve->delay_ms);
    g_source_set_callback (serve->timeout, serve_timeout_cb, serve, NULL);
    g_source_attach (serve->timeout, serve->mock->context);
  }
  return G_SOURCE_REMOVE;
}

/* Streams @events (transfer full): at once, or @delay_ms apart */
static void
serve_events (MockChat * mock, SoupServerMessage * msg, GPtrArray * events,
    guint delay_ms, gboolean complete)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  Serve *serve;

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (headers, "text/event-stream", NULL);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);

  serve = g_new0 (Serve, 1);
  serve->mock = mock;
  serve->msg = msg;
  serve->pieces = events;
  serve->delay_ms = delay_ms;
  g_object_set_data_full (G_OBJECT (msg), "mockchat-serve", serve,
      (GDestroyNotify) serve_free);
  g_signal_connect (msg, "finished", G_CALLBACK (serve_finished_cb), serve);

  if (!complete) {
    /* headers and what there is, then silence */
    guint i;
    for (i = 0; i < events->len; i++) {
      const gchar *piece = g_ptr_array_index (events, i);
      soup_message_body_append (soup_server_message_get_response_body (msg),
          SOUP_MEMORY_COPY, piece, strlen (piece));
    }
    return;
  }
  if (events->len == 0) {
    soup_message_body_complete (soup_server_message_get_response_body (msg));
    return;
  }

  if (delay_ms == 0) {
    while (serve->next < events->len)
      serve_write_next (serve);
    return;
  }
  serve_write_next (serve);
  if (serve->next < events->len) {
    serve->timeout = g_timeout_source_new (delay_ms);
    g_source_set_callback (serve->timeout, serve_timeout_cb, serve, NULL);
    g_source_attach (serve->timeout, mock->context);
  }
}

static void
serve_body (SoupServerMessage * msg, guint status, const gchar * content_type,
    const gchar * body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY,
      body, strlen (body));
}

static void
record_header (const char *name, const char *value, gpointer user_data)
{
  Recorded *r = user_data;

  g_ptr_array_add (r->header_names, g_strdup (name));
  g_ptr_array_add (r->header_values, g_strdup (value));
}

static void
handler (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  MockChat *mock = user_data;
  SoupMessageBody *req_body;
  GBytes *bytes;
  Recorded *rec;
  Script *s;

  (void) server;
  (void) query;

  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0 ||
      !g_str_has_suffix (path, "/chat/completions")) {
    serve_body (msg, SOUP_STATUS_NOT_FOUND, "application/json",
        "{\"error\": {\"message\": \"mockchat: not found\"}}");
    return;
  }

  rec = g_new0 (Recorded, 1);
  rec->path = g_strdup (path);
  req_body = soup_server_message_get_request_body (msg);
  bytes = soup_message_body_flatten (req_body);
  rec->body = g_strndup (g_bytes_get_data (bytes, NULL),
      g_bytes_get_size (bytes));
  g_bytes_unref (bytes);
  rec->header_names = g_ptr_array_new_with_free_func (g_free);
  rec->header_values = g_ptr_array_new_with_free_func (g_free);
  soup_message_headers_foreach (soup_server_message_get_request_headers (msg),
      record_header, rec);

  g_mutex_lock (&mock->lock);
  g_ptr_array_add (mock->requests, rec);
  s = g_queue_pop_head (&mock->scripts);
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);

  if (!s) {
    serve_body (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "application/json",
        "{\"error\": {\"message\": \"mockchat: no scripted response\"}}");
    return;
  }

  switch (s->kind) {
    case SCRIPT_TEXT:
      serve_events (mock, msg, text_events (s), s->delay_ms, TRUE);
      break;
    case SCRIPT_TOOL_CALL:
      serve_events (mock, msg, tool_call_events (s), 0, TRUE);
      break;
    case SCRIPT_ERROR:
      serve_body (msg, s->status, s->text[0] == '{' ? "application/json" :
          "text/plain", s->text);
      break;
    case SCRIPT_RAW:{
      GPtrArray *events = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (events, g_strdup (s->text));
      serve_events (mock, msg, events, 0, TRUE);
      break;
    }
    case SCRIPT_JSON:
      serve_body (msg, SOUP_STATUS_OK, "application/json", s->text);
      break;
    case SCRIPT_HANG:{
      GPtrArray *events = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (events, g_strdup (": mockchat hangs here\n\n"));
      serve_events (mock, msg, events, 0, FALSE);
      break;
    }
  }
  script_free (s);
}

static void
setup_cb (SoupServer * server, gpointer user_data)
{
  soup_server_add_handler (server, NULL, handler, user_data, NULL);
}

/* ------------------------------------------------------------------------
 * API
 * ------------------------------------------------------------------------ */

MockChat *
mock_chat_new (void)
{
  return mock_chat_new_tls (NULL);
}

MockChat *
mock_chat_new_tls (const gchar * pem_file)
{
  MockChat *mock = g_new0 (MockChat, 1);

  g_mutex_init (&mock->lock);
  g_cond_init (&mock->cond);
  g_queue_init (&mock->scripts);
  mock->requests = g_ptr_array_new_with_free_func ((GDestroyNotify)
      recorded_free);
  mock->server = mock_server_new ("mockchat", pem_file, setup_cb, NULL, NULL,
      mock);
  mock->context = mock_server_context (mock->server);
  mock->url = g_strdup_printf ("%s://127.0.0.1:%u/v1",
      mock_server_is_tls (mock->server) ? "https" : "http",
      mock_server_port (mock->server));
  return mock;
}

const gchar *
mock_chat_url (MockChat * mock)
{
  return mock->url;
}

void
mock_chat_free (MockChat * mock)
{
  if (!mock)
    return;
  /* hanging responses end there: their clients see the connection close */
  mock_server_free (mock->server);
  g_queue_clear_full (&mock->scripts, (GDestroyNotify) script_free);
  g_ptr_array_unref (mock->requests);
  g_free (mock->url);
  g_mutex_clear (&mock->lock);
  g_cond_clear (&mock->cond);
  g_free (mock);
}

static void
push (MockChat * mock, Script * s)
{
  g_mutex_lock (&mock->lock);
  g_queue_push_tail (&mock->scripts, s);
  g_mutex_unlock (&mock->lock);
}

static Script *
script_new (ScriptKind kind, const gchar * text)
{
  Script *s = g_new0 (Script, 1);

  s->kind = kind;
  s->text = g_strdup (text ? text : "");
  s->prompt_tokens = -1;
  s->completion_tokens = -1;
  return s;
}

void
mock_chat_push_text (MockChat * mock, const gchar * text, guint n_chunks,
    guint chunk_delay_ms, gint prompt_tokens, gint completion_tokens)
{
  Script *s = script_new (SCRIPT_TEXT, text);

  s->n_chunks = n_chunks;
  s->delay_ms = chunk_delay_ms;
  s->prompt_tokens = prompt_tokens;
  s->completion_tokens = completion_tokens;
  push (mock, s);
}

void
mock_chat_push_tool_call (MockChat * mock, const gchar * id,
    const gchar * name, const gchar * args_json, guint n_chunks)
{
  Script *s = script_new (SCRIPT_TOOL_CALL, args_json);

  s->id = g_strdup (id);
  s->name = g_strdup (name);
  s->n_chunks = n_chunks;
  push (mock, s);
}

void
mock_chat_push_error (MockChat * mock, guint http_status, const gchar * body)
{
  Script *s = script_new (SCRIPT_ERROR, body);

  s->status = http_status;
  push (mock, s);
}

void
mock_chat_push_malformed (MockChat * mock, const gchar * raw_sse)
{
  push (mock, script_new (SCRIPT_RAW, raw_sse));
}

void
mock_chat_push_json (MockChat * mock, const gchar * json)
{
  push (mock, script_new (SCRIPT_JSON, json));
}

void
mock_chat_push_hang (MockChat * mock)
{
  push (mock, script_new (SCRIPT_HANG, NULL));
}

guint
mock_chat_n_requests (MockChat * mock)
{
  guint n;

  g_mutex_lock (&mock->lock);
  n = mock->requests->len;
  g_mutex_unlock (&mock->lock);
  return n;
}

static Recorded *
get_recorded (MockChat * mock, guint i)
{
  return i < mock->requests->len ? g_ptr_array_index (mock->requests, i) : NULL;
}

gchar *
mock_chat_get_request (MockChat * mock, guint i)
{
  Recorded *r;
  gchar *ret;

  g_mutex_lock (&mock->lock);
  r = get_recorded (mock, i);
  ret = r ? g_strdup (r->body) : NULL;
  g_mutex_unlock (&mock->lock);
  return ret;
}

gchar *
mock_chat_get_path (MockChat * mock, guint i)
{
  Recorded *r;
  gchar *ret;

  g_mutex_lock (&mock->lock);
  r = get_recorded (mock, i);
  ret = r ? g_strdup (r->path) : NULL;
  g_mutex_unlock (&mock->lock);
  return ret;
}

gchar *
mock_chat_get_header (MockChat * mock, guint i, const gchar * name)
{
  Recorded *r;
  gchar *ret = NULL;
  guint j;

  g_mutex_lock (&mock->lock);
  r = get_recorded (mock, i);
  for (j = 0; r && j < r->header_names->len && !ret; j++)
    if (g_ascii_strcasecmp (g_ptr_array_index (r->header_names, j), name) == 0)
      ret = g_strdup (g_ptr_array_index (r->header_values, j));
  g_mutex_unlock (&mock->lock);
  return ret;
}

gboolean
mock_chat_wait_requests (MockChat * mock, guint n, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  gboolean ok = TRUE;

  g_mutex_lock (&mock->lock);
  while (mock->requests->len < n && ok)
    ok = g_cond_wait_until (&mock->cond, &mock->lock, end);
  ok = mock->requests->len >= n;
  g_mutex_unlock (&mock->lock);
  return ok;
}

guint
mock_chat_n_completed (MockChat * mock)
{
  guint n;

  g_mutex_lock (&mock->lock);
  n = mock->n_completed;
  g_mutex_unlock (&mock->lock);
  return n;
}
