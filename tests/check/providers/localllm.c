/* gst-bidi: the local provider's chat-completions client, against a mock
 * server; and bidiagent end to end in LLM mode.
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

#include <glib/gstdio.h>

#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>

#include "gstbidillm.h"
#include "mockchat.h"
#include "testcert.h"
#include "secretwatch.h"
#include "leftover.h"

/* valgrind makes everything much slower (a 2 MB line or 600 KB of
 * nesting takes seconds there): the waits scale with this */
static guint slow = 1;
#define WAIT_MS (5000 * slow)

static const gchar *calculator_tools =
    "[{\"name\": \"calculator\", \"description\": \"Evaluates arithmetic\", "
    "\"parameters\": {\"type\": \"object\", \"properties\": {\"expression\": "
    "{\"type\": \"string\"}}, \"required\": [\"expression\"]}}, "
    "{\"name\": \"current_time\"}]";

/* ------------------------------------------------------------------------
 * Fixture: a mock server, a client, its own main context in this thread
 * ------------------------------------------------------------------------ */

typedef struct
{
  GMainContext *ctx;
  MockChat *mock;
  GstBidiLlm *llm;

  GPtrArray *events;            /* gchar *: "text:..", "tool:..", "done:..",
                                 * "error:.." in callback order */
  GString *text;
  guint n_text;
  guint n_terminal;
  gchar *finish_reason;
  gint prompt_tokens;
  gint completion_tokens;
  GError *error;

  /* what to do from inside a callback */
  gboolean cancel_on_text;
  gboolean free_on_text;
  gboolean free_on_tool_call;
} Fixture;

static void
on_text (const gchar * delta, gpointer user_data)
{
  Fixture *f = user_data;

  fail_unless (f->n_terminal == 0, "text after the end");
  g_ptr_array_add (f->events, g_strdup_printf ("text:%s", delta));
  g_string_append (f->text, delta);
  f->n_text++;
  if (f->cancel_on_text)
    gst_bidi_llm_cancel (f->llm);
  if (f->free_on_text)
    g_clear_pointer (&f->llm, gst_bidi_llm_free);
}

static void
on_tool_call (const gchar * id, const gchar * name, const gchar * args,
    gpointer user_data)
{
  Fixture *f = user_data;

  fail_unless (f->n_terminal == 0, "tool call after the end");
  g_ptr_array_add (f->events, g_strdup_printf ("tool:%s|%s|%s", id, name,
          args));
  if (f->free_on_tool_call)
    g_clear_pointer (&f->llm, gst_bidi_llm_free);
}

static void
on_done (const gchar * finish_reason, gint prompt_tokens,
    gint completion_tokens, gpointer user_data)
{
  Fixture *f = user_data;

  f->n_terminal++;
  g_ptr_array_add (f->events, g_strdup_printf ("done:%s:%d:%d", finish_reason,
          prompt_tokens, completion_tokens));
  g_free (f->finish_reason);
  f->finish_reason = g_strdup (finish_reason);
  f->prompt_tokens = prompt_tokens;
  f->completion_tokens = completion_tokens;
}

static void
on_error (const GError * error, gpointer user_data)
{
  Fixture *f = user_data;

  f->n_terminal++;
  g_ptr_array_add (f->events, g_strdup_printf ("error:%s", error->message));
  g_clear_error (&f->error);
  f->error = g_error_copy (error);
}

static const GstBidiLlmCallbacks callbacks = {
  on_text, on_tool_call, on_done, on_error
};

static void
fixture_reset (Fixture * f)
{
  g_ptr_array_set_size (f->events, 0);
  g_string_truncate (f->text, 0);
  f->n_text = 0;
  f->n_terminal = 0;
  g_clear_pointer (&f->finish_reason, g_free);
  f->prompt_tokens = f->completion_tokens = -2;
  g_clear_error (&f->error);
}

static void
fixture_setup_full (Fixture * f, const gchar * model, const gchar * api_key,
    const gchar * system_prompt, const gchar * tools)
{
  GError *err = NULL;

  memset (f, 0, sizeof (*f));
  f->ctx = g_main_context_new ();
  g_main_context_push_thread_default (f->ctx);
  f->mock = mock_chat_new ();
  f->events = g_ptr_array_new_with_free_func (g_free);
  f->text = g_string_new (NULL);
  fixture_reset (f);
  f->llm = gst_bidi_llm_new (mock_chat_url (f->mock), model, api_key,
      system_prompt, tools, NULL, &err);
  fail_unless (f->llm != NULL, "%s", err ? err->message : "");
}

static void
fixture_setup (Fixture * f)
{
  fixture_setup_full (f, "test-model", NULL, "You are a test.",
      calculator_tools);
}

/* Runs the context for @ms */
static void
iterate_for (Fixture * f, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end) {
    if (!g_main_context_iteration (f->ctx, FALSE))
      g_usleep (1000);
  }
}

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the context until @cond (an int or gboolean in @f) is non-zero */
static gboolean
run_until (Fixture * f, guint * counter, guint n)
{
  gboolean timed_out = FALSE;
  GSource *timeout = g_timeout_source_new (WAIT_MS);

  g_source_set_callback (timeout, timeout_cb, &timed_out, NULL);
  g_source_attach (timeout, f->ctx);
  while (*counter < n && !timed_out)
    g_main_context_iteration (f->ctx, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
  return *counter >= n;
}

/* Runs the context (where the client sends) until the mock got @n
 * requests */
static gboolean
wait_requests (Fixture * f, guint n)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (mock_chat_n_requests (f->mock) < n && g_get_monotonic_time () < end) {
    if (!g_main_context_iteration (f->ctx, FALSE))
      g_usleep (1000);
  }
  return mock_chat_n_requests (f->mock) >= n;
}

static void
request_and_wait (Fixture * f)
{
  fixture_reset (f);
  fail_unless (gst_bidi_llm_request (f->llm, &callbacks, f));
  fail_unless (run_until (f, &f->n_terminal, 1), "no end of the answer");
  /* nothing after the end */
  iterate_for (f, 50);
  fail_unless_equals_int (f->n_terminal, 1);
}

static void
fixture_teardown (Fixture * f)
{
  g_clear_pointer (&f->llm, gst_bidi_llm_free);
  mock_chat_free (f->mock);
  /* whatever the client left behind (a cancelled read) completes here */
  while (g_main_context_iteration (f->ctx, FALSE));
  g_main_context_pop_thread_default (f->ctx);
  g_main_context_unref (f->ctx);
  g_ptr_array_unref (f->events);
  g_string_free (f->text, TRUE);
  g_free (f->finish_reason);
  g_clear_error (&f->error);
}

/* ------------------------------------------------------------------------
 * JSON helpers for the recorded request bodies
 * ------------------------------------------------------------------------ */

static JsonNode *
parse_json (const gchar * text)
{
  JsonParser *parser = json_parser_new ();
  GError *err = NULL;
  JsonNode *root;

  fail_unless (text != NULL);
  fail_unless (json_parser_load_from_data (parser, text, -1, &err),
      "bad JSON %s: %s", text, err ? err->message : "");
  root = json_node_copy (json_parser_get_root (parser));
  g_object_unref (parser);
  return root;
}

/* The body of request @i */
static JsonNode *
get_body (Fixture * f, guint i)
{
  gchar *s = mock_chat_get_request (f->mock, i);
  JsonNode *root;

  fail_unless (s != NULL, "no request %u", i);
  GST_INFO ("request %u: %s", i, s);
  root = parse_json (s);
  g_free (s);
  fail_unless (JSON_NODE_HOLDS_OBJECT (root));
  return root;
}

static JsonArray *
body_messages (JsonNode * body)
{
  return json_object_get_array_member (json_node_get_object (body), "messages");
}

static JsonObject *
message_at (JsonNode * body, guint i)
{
  JsonArray *messages = body_messages (body);

  fail_unless (i < json_array_get_length (messages), "no message %u", i);
  return json_array_get_object_element (messages, i);
}

static void
assert_message (JsonNode * body, guint i, const gchar * role,
    const gchar * content)
{
  JsonObject *msg = message_at (body, i);

  fail_unless_equals_string (json_object_get_string_member (msg, "role"), role);
  if (content)
    fail_unless_equals_string (json_object_get_string_member (msg, "content"),
        content);
}

/* ------------------------------------------------------------------------
 * Streaming and the request
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_stream_text)
{
  Fixture f;
  const gchar *answer = "Hello there. It is a fine day, isn't it? "
      "Ünïcödé survives — and so does this.";
  JsonNode *body;
  JsonObject *obj, *tool, *fn;
  JsonArray *tools;
  gchar *s;
  guint i;

  fixture_setup (&f);
  mock_chat_push_text (f.mock, answer, 8, 20, 12, 7);
  gst_bidi_llm_add_user (f.llm, "How is the day?");
  request_and_wait (&f);

  /* in order and whole, in several pieces, then done */
  fail_unless_equals_string (f.text->str, answer);
  fail_unless (f.n_text >= 8, "only %u pieces", f.n_text);
  for (i = 0; i + 1 < f.events->len; i++)
    fail_unless (g_str_has_prefix (g_ptr_array_index (f.events, i), "text:"));
  fail_unless_equals_string (g_ptr_array_index (f.events, f.events->len - 1),
      "done:stop:12:7");

  /* the request */
  fail_unless_equals_int (mock_chat_n_requests (f.mock), 1);
  s = mock_chat_get_path (f.mock, 0);
  fail_unless_equals_string (s, "/v1/chat/completions");
  g_free (s);
  s = mock_chat_get_header (f.mock, 0, "Content-Type");
  fail_unless (g_str_has_prefix (s, "application/json"), "%s", s);
  g_free (s);
  s = mock_chat_get_header (f.mock, 0, "Accept");
  fail_unless_equals_string (s, "text/event-stream");
  g_free (s);
  /* no key, no header */
  fail_unless (mock_chat_get_header (f.mock, 0, "Authorization") == NULL);

  body = get_body (&f, 0);
  obj = json_node_get_object (body);
  fail_unless_equals_string (json_object_get_string_member (obj, "model"),
      "test-model");
  fail_unless (json_object_get_boolean_member (obj, "stream"));
  fail_unless (json_object_get_boolean_member (json_object_get_object_member
          (obj, "stream_options"), "include_usage"));
  fail_unless_equals_int (json_array_get_length (body_messages (body)), 2);
  assert_message (body, 0, "system", "You are a test.");
  assert_message (body, 1, "user", "How is the day?");

  /* tools in OpenAI form */
  tools = json_object_get_array_member (obj, "tools");
  fail_unless_equals_int (json_array_get_length (tools), 2);
  tool = json_array_get_object_element (tools, 0);
  fail_unless_equals_string (json_object_get_string_member (tool, "type"),
      "function");
  fn = json_object_get_object_member (tool, "function");
  fail_unless_equals_string (json_object_get_string_member (fn, "name"),
      "calculator");
  fail_unless_equals_string (json_object_get_string_member (fn,
          "description"), "Evaluates arithmetic");
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (fn, "parameters"), "type"), "object");
  fail_unless (json_object_has_member (json_object_get_object_member
          (json_object_get_object_member (fn, "parameters"), "properties"),
          "expression"));
  /* a tool without parameters gets an empty schema */
  fn = json_object_get_object_member (json_array_get_object_element (tools,
          1), "function");
  fail_unless_equals_string (json_object_get_string_member (fn, "name"),
      "current_time");
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (fn, "parameters"), "type"), "object");
  json_node_unref (body);

  /* the answer is in the conversation */
  mock_chat_push_text (f.mock, "Yes.", 1, 0, -1, -1);
  gst_bidi_llm_add_user (f.llm, "Really?");
  request_and_wait (&f);
  body = get_body (&f, 1);
  fail_unless_equals_int (json_array_get_length (body_messages (body)), 4);
  assert_message (body, 2, "assistant", answer);
  assert_message (body, 3, "user", "Really?");
  json_node_unref (body);

  fixture_teardown (&f);
}

GST_END_TEST;

/* No model, no tools, no system prompt: none in the body */
GST_START_TEST (test_request_minimal)
{
  Fixture f;
  JsonNode *body;
  JsonObject *obj;

  fixture_setup_full (&f, NULL, NULL, NULL, NULL);
  mock_chat_push_text (f.mock, "Hi.", 1, 0, -1, -1);
  gst_bidi_llm_add_user (f.llm, "hello");
  request_and_wait (&f);
  fail_unless_equals_string (f.text->str, "Hi.");
  /* no usage reported */
  fail_unless_equals_string (f.finish_reason, "stop");
  fail_unless_equals_int (f.prompt_tokens, -1);
  fail_unless_equals_int (f.completion_tokens, -1);

  body = get_body (&f, 0);
  obj = json_node_get_object (body);
  fail_if (json_object_has_member (obj, "model"));
  fail_if (json_object_has_member (obj, "tools"));
  fail_unless_equals_int (json_array_get_length (body_messages (body)), 1);
  assert_message (body, 0, "user", "hello");
  json_node_unref (body);
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_usage)
{
  Fixture f;

  fixture_setup (&f);
  mock_chat_push_text (f.mock, "Counted.", 2, 0, 123, 45);
  gst_bidi_llm_add_user (f.llm, "count");
  request_and_wait (&f);
  fail_unless_equals_int (f.prompt_tokens, 123);
  fail_unless_equals_int (f.completion_tokens, 45);
  fixture_teardown (&f);
}

GST_END_TEST;

/* A server that ignores "stream" and answers with one JSON document */
GST_START_TEST (test_non_streamed_answer)
{
  Fixture f;

  fixture_setup (&f);
  mock_chat_push_json (f.mock, "{\"id\": \"x\", \"object\": "
      "\"chat.completion\", \"choices\": [{\"index\": 0, \"message\": "
      "{\"role\": \"assistant\", \"content\": \"All at once.\"}, "
      "\"finish_reason\": \"length\"}], \"usage\": {\"prompt_tokens\": 3, "
      "\"completion_tokens\": 4, \"total_tokens\": 7}}");
  gst_bidi_llm_add_user (f.llm, "hi");
  request_and_wait (&f);
  fail_unless_equals_string (f.text->str, "All at once.");
  fail_unless_equals_string (g_ptr_array_index (f.events, f.events->len - 1),
      "done:length:3:4");
  fixture_teardown (&f);
}

GST_END_TEST;

/* CRLF and CR line ends, comments, other fields, several data lines */
GST_START_TEST (test_sse_framing)
{
  Fixture f;

  fixture_setup (&f);
  mock_chat_push_malformed (f.mock,
      ": keep-alive\r\n\r\n"
      "id: 1\r\nevent: message\r\nretry: 100\r\n"
      "data: {\"choices\": [{\"index\": 0, \"delta\": {\"content\": \"one \"},"
      " \"finish_reason\": null}]}\r\n\r\n"
      "data:{\"choices\": [{\"index\": 0, \"delta\": {\"content\": \"two \"}}]}"
      "\r\r"
      "data: {\"choices\": [{\"index\": 0,\n"
      "data: \"delta\": {\"content\": \"three\"}}]}\n\n"
      "unknown-field: whatever\n"
      "data: {\"choices\": [{\"index\": 0, \"delta\": {}, \"finish_reason\":"
      " \"stop\"}], \"usage\": null}\n\n" "data: [DONE]\n\n");
  gst_bidi_llm_add_user (f.llm, "count to three");
  request_and_wait (&f);
  fail_unless_equals_string (f.text->str, "one two three");
  fail_unless_equals_string (f.finish_reason, "stop");
  fixture_teardown (&f);
}

GST_END_TEST;

/* No [DONE] but a finish_reason, then the end of the body: done */
GST_START_TEST (test_sse_no_done)
{
  Fixture f;

  fixture_setup (&f);
  mock_chat_push_malformed (f.mock,
      "data: {\"choices\": [{\"delta\": {\"content\": \"fine\"}}]}\n\n"
      "data: {\"choices\": [{\"delta\": {}, \"finish_reason\": \"stop\"}]}");
  gst_bidi_llm_add_user (f.llm, "hi");
  request_and_wait (&f);
  fail_unless_equals_string (f.text->str, "fine");
  fail_unless_equals_string (f.finish_reason, "stop");
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_one_request_at_a_time)
{
  Fixture f;

  fixture_setup (&f);
  mock_chat_push_text (f.mock, "First.", 1, 0, -1, -1);
  gst_bidi_llm_add_user (f.llm, "hi");
  fail_unless (gst_bidi_llm_request (f.llm, &callbacks, &f));
  fail_if (gst_bidi_llm_request (f.llm, &callbacks, &f));
  fail_unless (run_until (&f, &f.n_terminal, 1));
  fail_unless_equals_string (f.finish_reason, "stop");
  fail_unless_equals_int (mock_chat_n_requests (f.mock), 1);
  fixture_teardown (&f);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Tool calls
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_tool_call_round_trip)
{
  Fixture f;
  JsonNode *body, *args;
  JsonObject *msg, *call, *fn;
  JsonArray *calls;

  fixture_setup (&f);
  mock_chat_push_tool_call (f.mock, "call_abc", "calculator",
      "{\"expression\": \"25 * 48\"}", 6);
  mock_chat_push_text (f.mock, "Twenty five times forty eight is 1200.", 3,
      0, 40, 10);

  gst_bidi_llm_add_user (f.llm, "what is twenty five times forty eight");
  request_and_wait (&f);
  /* assembled from its pieces, delivered once, before done */
  fail_unless_equals_int (f.events->len, 2);
  fail_unless_equals_string (g_ptr_array_index (f.events, 0),
      "tool:call_abc|calculator|{\"expression\": \"25 * 48\"}");
  fail_unless_equals_string (g_ptr_array_index (f.events, 1),
      "done:tool_calls:10:5");

  gst_bidi_llm_add_tool_result (f.llm, "call_abc", "{\"result\": 1200}");
  request_and_wait (&f);
  fail_unless_equals_string (f.text->str,
      "Twenty five times forty eight is 1200.");

  body = get_body (&f, 1);
  fail_unless_equals_int (json_array_get_length (body_messages (body)), 4);
  assert_message (body, 0, "system", NULL);
  assert_message (body, 1, "user", "what is twenty five times forty eight");
  assert_message (body, 2, "assistant", NULL);
  msg = message_at (body, 2);
  calls = json_object_get_array_member (msg, "tool_calls");
  fail_unless_equals_int (json_array_get_length (calls), 1);
  call = json_array_get_object_element (calls, 0);
  fail_unless_equals_string (json_object_get_string_member (call, "id"),
      "call_abc");
  fail_unless_equals_string (json_object_get_string_member (call, "type"),
      "function");
  fn = json_object_get_object_member (call, "function");
  fail_unless_equals_string (json_object_get_string_member (fn, "name"),
      "calculator");
  /* arguments are a JSON text, as OpenAI wants */
  args = parse_json (json_object_get_string_member (fn, "arguments"));
  fail_unless_equals_string (json_object_get_string_member
      (json_node_get_object (args), "expression"), "25 * 48");
  json_node_unref (args);

  msg = message_at (body, 3);
  fail_unless_equals_string (json_object_get_string_member (msg, "role"),
      "tool");
  fail_unless_equals_string (json_object_get_string_member (msg,
          "tool_call_id"), "call_abc");
  fail_unless_equals_string (json_object_get_string_member (msg, "content"),
      "{\"result\": 1200}");
  json_node_unref (body);

  /* and the final answer is remembered */
  mock_chat_push_text (f.mock, "Bye.", 1, 0, -1, -1);
  gst_bidi_llm_add_user (f.llm, "thanks");
  request_and_wait (&f);
  body = get_body (&f, 2);
  fail_unless_equals_int (json_array_get_length (body_messages (body)), 6);
  assert_message (body, 4, "assistant",
      "Twenty five times forty eight is 1200.");
  assert_message (body, 5, "user", "thanks");
  json_node_unref (body);
  fixture_teardown (&f);
}

GST_END_TEST;

/* Two calls in one answer, interleaved, one without an id (made up), the
 * user speaking before the results arrive, one result never arriving */
GST_START_TEST (test_tool_calls_parallel)
{
  Fixture f;
  JsonNode *body;
  JsonObject *msg;
  const gchar *id2;
  gchar **parts;

  fixture_setup (&f);
  mock_chat_push_malformed (f.mock,
      "data: {\"choices\": [{\"delta\": {\"tool_calls\": ["
      "{\"index\": 0, \"id\": \"c0\", \"type\": \"function\", \"function\": "
      "{\"name\": \"calculator\", \"arguments\": \"\"}}]}}]}\n\n"
      "data: {\"choices\": [{\"delta\": {\"tool_calls\": ["
      "{\"index\": 1, \"function\": {\"name\": \"current_time\", "
      "\"arguments\": \"{\"}}]}}]}\n\n"
      "data: {\"choices\": [{\"delta\": {\"tool_calls\": ["
      "{\"index\": 0, \"function\": {\"arguments\": \"{\\\"expression\\\":\"}},"
      "{\"index\": 1, \"function\": {\"arguments\": \"}\"}}]}}]}\n\n"
      "data: {\"choices\": [{\"delta\": {\"tool_calls\": ["
      "{\"index\": 0, \"id\": \"c0\", \"function\": {\"arguments\": "
      "\" \\\"1+1\\\"}\"}}]}}]}\n\n"
      /* some servers say stop */
      "data: {\"choices\": [{\"delta\": {}, \"finish_reason\": \"stop\"}]}\n\n"
      "data: [DONE]\n\n");
  mock_chat_push_text (f.mock, "Two.", 1, 0, -1, -1);

  gst_bidi_llm_add_user (f.llm, "one plus one, and the time");
  request_and_wait (&f);
  fail_unless_equals_int (f.events->len, 3);
  fail_unless_equals_string (g_ptr_array_index (f.events, 0),
      "tool:c0|calculator|{\"expression\": \"1+1\"}");
  parts = g_strsplit (g_ptr_array_index (f.events, 1), "|", 3);
  fail_unless (g_str_has_prefix (parts[0], "tool:"));
  id2 = parts[0] + 5;
  fail_unless (*id2 != '\0');
  fail_unless_equals_string (parts[1], "current_time");
  fail_unless_equals_string (parts[2], "{}");
  fail_unless_equals_string (g_ptr_array_index (f.events, 2),
      "done:tool_calls:-1:-1");

  /* the user speaks while the tools run, then one result comes */
  gst_bidi_llm_add_user (f.llm, "hurry up");
  gst_bidi_llm_add_tool_result (f.llm, "c0", "{\"result\": 2}");
  request_and_wait (&f);
  body = get_body (&f, 1);
  /* system, user, assistant, tool c0, tool (placeholder), user */
  fail_unless_equals_int (json_array_get_length (body_messages (body)), 6);
  assert_message (body, 2, "assistant", "");
  msg = message_at (body, 3);
  fail_unless_equals_string (json_object_get_string_member (msg, "role"),
      "tool");
  fail_unless_equals_string (json_object_get_string_member (msg,
          "tool_call_id"), "c0");
  msg = message_at (body, 4);
  fail_unless_equals_string (json_object_get_string_member (msg, "role"),
      "tool");
  fail_unless_equals_string (json_object_get_string_member (msg,
          "tool_call_id"), id2);
  fail_unless (strstr (json_object_get_string_member (msg, "content"),
          "no result") != NULL);
  assert_message (body, 5, "user", "hurry up");
  json_node_unref (body);
  g_strfreev (parts);
  fixture_teardown (&f);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Cancellation and freeing
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_cancel_hanging)
{
  Fixture f;
  JsonNode *body;

  fixture_setup (&f);
  mock_chat_push_hang (f.mock);
  gst_bidi_llm_add_user (f.llm, "hello?");
  fail_unless (gst_bidi_llm_request (f.llm, &callbacks, &f));
  fail_unless (wait_requests (&f, 1));
  /* the headers and the comment arrive */
  iterate_for (&f, 200);
  fail_unless_equals_int (f.events->len, 0);

  gst_bidi_llm_cancel (f.llm);
  /* at once, from cancel */
  fail_unless_equals_int (f.events->len, 1);
  fail_unless_equals_string (g_ptr_array_index (f.events, 0),
      "done:cancelled:-1:-1");
  /* and nothing more */
  iterate_for (&f, 300);
  fail_unless_equals_int (f.events->len, 1);
  /* cancelling again does nothing */
  gst_bidi_llm_cancel (f.llm);
  fail_unless_equals_int (f.events->len, 1);

  /* the client is still usable; nothing was said, so no answer in the
   * conversation, and the two user turns are one message */
  mock_chat_push_text (f.mock, "Here.", 1, 0, -1, -1);
  gst_bidi_llm_add_user (f.llm, "anyone?");
  request_and_wait (&f);
  fail_unless_equals_string (f.text->str, "Here.");
  body = get_body (&f, 1);
  fail_unless_equals_int (json_array_get_length (body_messages (body)), 2);
  assert_message (body, 1, "user", "hello?\nanyone?");
  json_node_unref (body);
  fixture_teardown (&f);
}

GST_END_TEST;

/* Cancel in the middle of a slow stream; then the provider says what was
 * heard */
GST_START_TEST (test_cancel_mid_stream)
{
  Fixture f;
  JsonNode *body;
  guint n;

  fixture_setup (&f);
  mock_chat_push_text (f.mock, "One. Two. Three. Four. Five. Six. Seven.", 14,
      50, 5, 5);
  gst_bidi_llm_add_user (f.llm, "count");
  fail_unless (gst_bidi_llm_request (f.llm, &callbacks, &f));
  fail_unless (run_until (&f, &f.n_text, 2));
  gst_bidi_llm_cancel (f.llm);
  n = f.events->len;
  fail_unless_equals_string (g_ptr_array_index (f.events, n - 1),
      "done:cancelled:-1:-1");
  iterate_for (&f, 400);
  fail_unless_equals_int (f.events->len, n);

  /* The received text was kept: the provider cuts it to what was heard */
  gst_bidi_llm_truncate_last_answer (f.llm, "One.");
  mock_chat_push_text (f.mock, "Okay.", 1, 0, -1, -1);
  gst_bidi_llm_add_user (f.llm, "stop counting");
  request_and_wait (&f);
  body = get_body (&f, 1);
  fail_unless_equals_int (json_array_get_length (body_messages (body)), 4);
  assert_message (body, 2, "assistant", "One.");
  assert_message (body, 3, "user", "stop counting");
  json_node_unref (body);
  fixture_teardown (&f);
}

GST_END_TEST;

/* Cancel and free from inside the callbacks */
GST_START_TEST (test_cancel_from_callback)
{
  Fixture f;

  fixture_setup (&f);
  mock_chat_push_text (f.mock, "a b c d e f g h", 8, 0, -1, -1);
  gst_bidi_llm_add_user (f.llm, "letters");
  f.cancel_on_text = TRUE;
  fail_unless (gst_bidi_llm_request (f.llm, &callbacks, &f));
  fail_unless (run_until (&f, &f.n_terminal, 1));
  iterate_for (&f, 200);
  fail_unless_equals_int (f.events->len, 2);
  fail_unless_equals_string (g_ptr_array_index (f.events, 0), "text:a ");
  fail_unless_equals_string (g_ptr_array_index (f.events, 1),
      "done:cancelled:-1:-1");
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_free_from_callback)
{
  Fixture f;

  fixture_setup (&f);
  mock_chat_push_text (f.mock, "a b c d e f g h", 8, 0, -1, -1);
  gst_bidi_llm_add_user (f.llm, "letters");
  f.free_on_text = TRUE;
  fail_unless (gst_bidi_llm_request (f.llm, &callbacks, &f));
  fail_unless (run_until (&f, &f.n_text, 1));
  iterate_for (&f, 200);
  /* freed silently: no done */
  fail_unless_equals_int (f.events->len, 1);
  fail_unless (f.llm == NULL);
  fixture_teardown (&f);

  fixture_setup (&f);
  mock_chat_push_tool_call (f.mock, "c1", "calculator", "{}", 1);
  gst_bidi_llm_add_user (f.llm, "calc");
  f.free_on_tool_call = TRUE;
  fail_unless (gst_bidi_llm_request (f.llm, &callbacks, &f));
  iterate_for (&f, 500);
  fail_unless_equals_int (f.events->len, 1);
  fail_unless (g_str_has_prefix (g_ptr_array_index (f.events, 0), "tool:c1"));
  fixture_teardown (&f);
}

GST_END_TEST;

/* Freed while waiting for the server, then the context is dropped
 * without running again (what the element does when it stops) */
GST_START_TEST (test_free_pending)
{
  Fixture f;

  fixture_setup (&f);
  mock_chat_push_hang (f.mock);
  gst_bidi_llm_add_user (f.llm, "hello?");
  fail_unless (gst_bidi_llm_request (f.llm, &callbacks, &f));
  fail_unless (wait_requests (&f, 1));
  iterate_for (&f, 100);
  gst_bidi_llm_free (f.llm);
  f.llm = NULL;
  fail_unless_equals_int (f.events->len, 0);
  /* no iteration: the context goes with the pending read */
  g_main_context_pop_thread_default (f.ctx);
  g_main_context_unref (f.ctx);
  f.ctx = g_main_context_new ();
  g_main_context_push_thread_default (f.ctx);
  fixture_teardown (&f);

  /* and freed before the connection was even made */
  fixture_setup (&f);
  mock_chat_push_hang (f.mock);
  fail_unless (gst_bidi_llm_request (f.llm, &callbacks, &f));
  gst_bidi_llm_free (f.llm);
  f.llm = NULL;
  iterate_for (&f, 100);
  fail_unless_equals_int (f.events->len, 0);
  fixture_teardown (&f);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

static const gchar *secret = "sk-test-DO-NOT-LEAK-0123456789";


GST_START_TEST (test_http_401)
{
  Fixture f;
  gchar *auth, *body_text;

  /* everything the client logs is checked for the key */
  bidi_secret_watch_start (secret, "bidillm");

  fixture_setup_full (&f, "m", secret, NULL, NULL);
  /* servers like to quote the key back */
  body_text = g_strdup_printf ("{\"error\": {\"message\": \"Incorrect API key "
      "provided: %s\", \"type\": \"invalid_request_error\"}}", secret);
  mock_chat_push_error (f.mock, 401, body_text);
  g_free (body_text);
  gst_bidi_llm_add_user (f.llm, "hi");
  request_and_wait (&f);

  fail_unless (f.error != NULL);
  fail_unless (g_error_matches (f.error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", f.error->message);
  GST_INFO ("error: %s", f.error->message);
  fail_unless (strstr (f.error->message, "401") != NULL);
  fail_unless (strstr (f.error->message, "Incorrect API key") != NULL);
  fail_if (strstr (f.error->message, secret) != NULL);
  fail_if (strstr (f.error->message, "0123456789") != NULL);

  /* but the server got it */
  auth = mock_chat_get_header (f.mock, 0, "Authorization");
  fail_unless (auth != NULL);
  fail_unless (g_str_has_prefix (auth, "Bearer "));
  fail_unless_equals_string (auth + 7, secret);
  g_free (auth);

  /* 403 too */
  mock_chat_push_error (f.mock, 403, "forbidden");
  request_and_wait (&f);
  fail_unless (g_error_matches (f.error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", f.error->message);

  fixture_teardown (&f);
  fail_if (bidi_secret_watch_stop (NULL), "the key was logged");
}

GST_END_TEST;

GST_START_TEST (test_http_500)
{
  Fixture f;
  GString *big = g_string_new (NULL);

  fixture_setup (&f);
  mock_chat_push_error (f.mock, 500, "the model crashed\n\tbadly");
  gst_bidi_llm_add_user (f.llm, "hi");
  request_and_wait (&f);
  fail_unless (g_error_matches (f.error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_READ));
  GST_INFO ("error: %s", f.error->message);
  fail_unless (strstr (f.error->message, "500") != NULL);
  fail_unless (strstr (f.error->message, "the model crashed badly") != NULL);

  /* Ollama's {"error": "..."} */
  mock_chat_push_error (f.mock, 404, "{\"error\": \"model 'x' not found\"}");
  request_and_wait (&f);
  fail_unless (strstr (f.error->message, "404") != NULL);
  fail_unless (strstr (f.error->message, "model 'x' not found") != NULL);

  /* a huge error body: a short excerpt */
  while (big->len < 200000)
    g_string_append (big, "blah ");
  mock_chat_push_error (f.mock, 503, big->str);
  g_string_free (big, TRUE);
  request_and_wait (&f);
  fail_unless (strstr (f.error->message, "503") != NULL);
  fail_unless (strlen (f.error->message) < 400, "%" G_GSIZE_FORMAT,
      strlen (f.error->message));
  fixture_teardown (&f);
}

GST_END_TEST;

typedef struct
{
  const gchar *raw;
  GQuark domain;
  gint code;
  const gchar *in_message;
} MalformedCase;

GST_START_TEST (test_malformed)
{
  const MalformedCase cases[] = {
    {"data: {not json\n\n", 0, GST_STREAM_ERROR_DECODE, "malformed JSON"},
    {"data: [1, 2]\n\n", 0, GST_STREAM_ERROR_DECODE, "object"},
    {"data: {\"choices\": 5}\n\n", 0, GST_STREAM_ERROR_DECODE, "types"},
    {"data: {\"choices\": [{\"delta\": {\"content\": 7}}]}\n\n", 0,
        GST_STREAM_ERROR_DECODE, "types"},
    {"data: {\"choices\": [\"x\"]}\n\n", 0, GST_STREAM_ERROR_DECODE, "types"},
    {"data: {\"choices\": [{\"delta\": {\"tool_calls\": [{\"index\": 999, "
          "\"function\": {\"name\": \"x\"}}]}}]}\n\n", 0,
        GST_STREAM_ERROR_DECODE, "index"},
    {"data: {\"choices\": [{\"delta\": {\"tool_calls\": [{\"index\": 0, "
          "\"function\": {\"arguments\": \"{}\"}}]}, \"finish_reason\": "
          "\"tool_calls\"}]}\n\ndata: [DONE]\n\n", 0,
        GST_STREAM_ERROR_DECODE, "no function name"},
    {"data: {\"choices\": [], \"usage\": {\"prompt_tokens\": \"many\"}}\n\n",
        0, GST_STREAM_ERROR_DECODE, "usage"},
    {"data: {\"choices\": [{\"delta\": {\"content\": \"cut\"}}]}\n\n", 1,
        GST_RESOURCE_ERROR_READ, "before the answer was complete"},
    {"", 1, GST_RESOURCE_ERROR_READ, "before the answer was complete"},
    {"data: {\"error\": {\"message\": \"out of memory\"}}\n\n", 1,
        GST_RESOURCE_ERROR_READ, "out of memory"},
    {"error: {\"code\": 500, \"message\": \"slot unavailable\"}\n\n", 1,
        GST_RESOURCE_ERROR_READ, "slot unavailable"},
    {"event: error\ndata: {\"message\": \"went wrong\"}\n\n", 1,
        GST_RESOURCE_ERROR_READ, "went wrong"},
    {"data: \xff\xfe{}\n\n", 0, GST_STREAM_ERROR_DECODE, "malformed JSON"},
  };
  Fixture f;
  guint i;
  GString *huge;

  fixture_setup (&f);
  gst_bidi_llm_add_user (f.llm, "hi");
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GQuark domain = cases[i].domain ? GST_RESOURCE_ERROR : GST_STREAM_ERROR;

    mock_chat_push_malformed (f.mock, cases[i].raw);
    request_and_wait (&f);
    fail_unless (f.error != NULL, "case %u: no error", i);
    GST_INFO ("case %u: %s", i, f.error->message);
    fail_unless (g_error_matches (f.error, domain, cases[i].code),
        "case %u: %s", i, f.error->message);
    fail_unless (strstr (f.error->message, cases[i].in_message) != NULL,
        "case %u: %s", i, f.error->message);
  }

  /* a line without end */
  huge = g_string_new ("data: ");
  while (huge->len < 2 * 1024 * 1024)
    g_string_append (huge, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  mock_chat_push_malformed (f.mock, huge->str);
  g_string_free (huge, TRUE);
  request_and_wait (&f);
  fail_unless (g_error_matches (f.error, GST_STREAM_ERROR,
          GST_STREAM_ERROR_DECODE));
  fail_unless (strstr (f.error->message, "too long") != NULL, "%s",
      f.error->message);

  /* nesting that would overflow json-glib's recursive parser */
  huge = g_string_new ("data: ");
  while (huge->len < 600 * 1024)
    g_string_append (huge, "{\"a\":[");
  g_string_append (huge, "\n\n");
  mock_chat_push_malformed (f.mock, huge->str);
  g_string_free (huge, TRUE);
  request_and_wait (&f);
  fail_unless (g_error_matches (f.error, GST_STREAM_ERROR,
          GST_STREAM_ERROR_DECODE));
  fail_unless (strstr (f.error->message, "nested too deeply") != NULL, "%s",
      f.error->message);

  /* the same as an error body */
  huge = g_string_new (NULL);
  while (huge->len < 60 * 1024)
    g_string_append (huge, "[");
  mock_chat_push_error (f.mock, 500, huge->str);
  g_string_free (huge, TRUE);
  request_and_wait (&f);
  fail_unless (g_error_matches (f.error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_READ));

  /* an answer larger than the limit, in reasonable lines */
  huge = g_string_new (NULL);
  while (huge->len < 2 * 1024 * 1024)
    g_string_append (huge, "data: {\"choices\": [{\"delta\": {\"content\": "
        "\"blah blah blah blah blah blah blah blah blah blah blah blah blah "
        "blah blah blah blah blah blah blah blah blah blah blah\"}}]}\n\n");
  mock_chat_push_malformed (f.mock, huge->str);
  g_string_free (huge, TRUE);
  request_and_wait (&f);
  fail_unless (g_error_matches (f.error, GST_STREAM_ERROR,
          GST_STREAM_ERROR_DECODE));
  fail_unless (strstr (f.error->message, "larger") != NULL, "%s",
      f.error->message);

  /* still usable */
  mock_chat_push_text (f.mock, "Fine.", 1, 0, -1, -1);
  request_and_wait (&f);
  fail_unless_equals_string (f.text->str, "Fine.");
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_connection_refused)
{
  Fixture f;
  GError *err = NULL;
  gchar *url;

  fixture_setup (&f);
  /* a port nobody listens on any more */
  url = g_strdup (mock_chat_url (f.mock));
  mock_chat_free (f.mock);
  f.mock = mock_chat_new ();
  gst_bidi_llm_free (f.llm);
  f.llm = gst_bidi_llm_new (url, NULL, NULL, NULL, NULL, NULL, &err);
  fail_unless (f.llm != NULL);
  g_free (url);

  gst_bidi_llm_add_user (f.llm, "hi");
  request_and_wait (&f);
  fail_unless (f.error != NULL);
  GST_INFO ("error: %s", f.error->message);
  fail_unless (g_error_matches (f.error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ_WRITE), "%s", f.error->message);
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_settings)
{
  const gchar *refused[] = {
    "http://example.com/v1", "http://10.0.0.1:8080/v1", "http://[::2]/v1",
    "http://localhost.example.com/v1",
  };
  const gchar *bad[] = {
    "ftp://127.0.0.1/v1", "127.0.0.1:8080/v1", "", "http:///v1",
    "http://user:pw@127.0.0.1/v1", "not a url",
  };
  const gchar *accepted[] = {
    "http://127.0.0.1:8080/v1", "http://127.1.2.3/v1/", "http://[::1]:80/v1",
    "http://localhost:11434/v1", "http://LOCALHOST/v1",
    "https://example.com/v1", "https://api.example.com",
  };
  GstBidiLlm *llm;
  GError *err = NULL;
  GMainContext *ctx = g_main_context_new ();
  guint i;

  g_main_context_push_thread_default (ctx);
  for (i = 0; i < G_N_ELEMENTS (refused); i++) {
    llm = gst_bidi_llm_new (refused[i], NULL, NULL, NULL, NULL, NULL, &err);
    fail_unless (llm == NULL, "%s accepted", refused[i]);
    fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_SETTINGS));
    fail_unless (strstr (err->message, "use https for non-loopback hosts"),
        "%s", err->message);
    g_clear_error (&err);
  }
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    llm = gst_bidi_llm_new (bad[i], NULL, NULL, NULL, NULL, NULL, &err);
    fail_unless (llm == NULL, "%s accepted", bad[i]);
    fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_SETTINGS));
    g_clear_error (&err);
  }
  for (i = 0; i < G_N_ELEMENTS (accepted); i++) {
    llm = gst_bidi_llm_new (accepted[i], NULL, NULL, NULL, NULL, NULL, &err);
    fail_unless (llm != NULL, "%s: %s", accepted[i], err ? err->message : "");
    gst_bidi_llm_free (llm);
  }

  /* tools */
  llm = gst_bidi_llm_new ("http://127.0.0.1/v1", NULL, NULL, NULL,
      "{\"name\": \"x\"}", NULL, &err);
  fail_unless (llm == NULL);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS));
  g_clear_error (&err);
  llm = gst_bidi_llm_new ("http://127.0.0.1/v1", NULL, NULL, NULL,
      "[{\"description\": \"no name\"}]", NULL, &err);
  fail_unless (llm == NULL);
  g_clear_error (&err);
  llm = gst_bidi_llm_new ("http://127.0.0.1/v1", NULL, NULL, NULL,
      "[{\"name\": \"x\", \"parameters\": 5}]", NULL, &err);
  fail_unless (llm == NULL);
  g_clear_error (&err);
  llm = gst_bidi_llm_new ("http://127.0.0.1/v1", NULL, NULL, NULL,
      "[not json", NULL, &err);
  fail_unless (llm == NULL);
  g_clear_error (&err);
  llm = gst_bidi_llm_new ("http://127.0.0.1/v1", NULL, NULL, NULL, "[]",
      NULL, &err);
  fail_unless (llm != NULL);
  gst_bidi_llm_free (llm);

  /* CA file */
  llm = gst_bidi_llm_new ("https://example.com/v1", NULL, NULL, NULL, NULL,
      "/nonexistent/ca.pem", &err);
  fail_unless (llm == NULL);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS));
  fail_unless (strstr (err->message, "/nonexistent/ca.pem") != NULL);
  g_clear_error (&err);

  gst_bidi_llm_free (NULL);
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
}

GST_END_TEST;

/* https: a certificate the system does not trust is refused, and
 * accepted with ssl_ca_file */
GST_START_TEST (test_tls_ca_file)
{
  GError *err = NULL;
  TestCert tc;
  Fixture f;

  test_cert_init (&tc);

  /* untrusted */
  fixture_setup (&f);
  mock_chat_free (f.mock);
  f.mock = mock_chat_new_tls (tc.pem);
  fail_unless (g_str_has_prefix (mock_chat_url (f.mock), "https://"));
  gst_bidi_llm_free (f.llm);
  f.llm = gst_bidi_llm_new (mock_chat_url (f.mock), NULL, "sk-tls-secret",
      NULL, NULL, NULL, &err);
  fail_unless (f.llm != NULL);
  gst_bidi_llm_add_user (f.llm, "hi");
  request_and_wait (&f);
  fail_unless (f.error != NULL);
  GST_INFO ("untrusted: %s", f.error->message);
  fail_unless (g_error_matches (f.error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ_WRITE), "%s", f.error->message);
  /* the key never went out */
  fail_unless_equals_int (mock_chat_n_requests (f.mock), 0);

  /* trusted through the CA file */
  gst_bidi_llm_free (f.llm);
  f.llm = gst_bidi_llm_new (mock_chat_url (f.mock), NULL, "sk-tls-secret",
      NULL, NULL, tc.cert, &err);
  fail_unless (f.llm != NULL, "%s", err ? err->message : "");
  gst_bidi_llm_add_user (f.llm, "hi");
  mock_chat_push_text (f.mock, "Secure.", 2, 0, -1, -1);
  request_and_wait (&f);
  fail_unless (f.error == NULL, "%s", f.error ? f.error->message : "");
  fail_unless_equals_string (f.text->str, "Secure.");
  fixture_teardown (&f);
  test_cert_clear (&tc);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Conversation
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_history)
{
  Fixture f;
  JsonNode *body, *args;
  JsonObject *msg, *fn;
  JsonArray *calls;
  GError *err = NULL;
  const gchar *history =
      "[{\"role\": \"user\", \"content\": [{\"text\": \"What is 2+3?\"}]},"
      " {\"role\": \"assistant\", \"content\": [{\"text\": \"Let me see.\"},"
      "   {\"toolUse\": {\"toolUseId\": \"t1\", \"name\": \"calculator\","
      "    \"input\": {\"expression\": \"2+3\"}}}]},"
      " {\"role\": \"user\", \"content\": [{\"toolResult\": {\"toolUseId\":"
      "   \"t1\", \"status\": \"success\", \"content\": [{\"json\":"
      "   {\"result\": 5}}]}}]},"
      " {\"role\": \"assistant\", \"content\": [{\"text\": \"It is 5.\"}]},"
      " {\"role\": \"user\", \"content\": [{\"image\": {\"format\": \"png\"}},"
      "   {\"text\": \"And this?\"}]},"
      " {\"role\": \"assistant\", \"content\": [{\"toolUse\": {\"toolUseId\":"
      "   \"t2\", \"name\": \"current_time\", \"input\": {}}}]},"
      " {\"role\": \"user\", \"content\": [{\"toolResult\": {\"toolUseId\":"
      "   \"t2\", \"status\": \"error\", \"content\": [{\"text\":"
      "   \"no clock\"}]}},"
      "   {\"text\": \"Never mind.\"}]}]";

  fixture_setup (&f);
  fail_unless (gst_bidi_llm_set_history (f.llm, history, &err), "%s",
      err ? err->message : "");
  gst_bidi_llm_add_user (f.llm, "Hello again.");
  mock_chat_push_text (f.mock, "Hi.", 1, 0, -1, -1);
  request_and_wait (&f);

  body = get_body (&f, 0);
  fail_unless_equals_int (json_array_get_length (body_messages (body)), 10);
  assert_message (body, 0, "system", "You are a test.");
  assert_message (body, 1, "user", "What is 2+3?");
  assert_message (body, 2, "assistant", "Let me see.");
  msg = message_at (body, 2);
  calls = json_object_get_array_member (msg, "tool_calls");
  fail_unless_equals_int (json_array_get_length (calls), 1);
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (calls, 0), "id"), "t1");
  fn = json_object_get_object_member (json_array_get_object_element (calls,
          0), "function");
  fail_unless_equals_string (json_object_get_string_member (fn, "name"),
      "calculator");
  args = parse_json (json_object_get_string_member (fn, "arguments"));
  fail_unless_equals_string (json_object_get_string_member
      (json_node_get_object (args), "expression"), "2+3");
  json_node_unref (args);
  assert_message (body, 3, "tool", "{\"result\":5}");
  fail_unless_equals_string (json_object_get_string_member (message_at (body,
              3), "tool_call_id"), "t1");
  assert_message (body, 4, "assistant", "It is 5.");
  assert_message (body, 5, "user", "And this?");
  assert_message (body, 6, "assistant", "");
  assert_message (body, 7, "tool", "error: no clock");
  assert_message (body, 8, "user", "Never mind.");
  assert_message (body, 9, "user", "Hello again.");
  json_node_unref (body);
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_history_invalid)
{
  const gchar *invalid[] = {
    "{}", "[1]", "[{\"role\": \"system\", \"content\": [{\"text\": \"x\"}]}]",
    "[{\"role\": \"user\", \"content\": 5}]",
    "[{\"role\": \"user\", \"content\": [{\"text\": 5}]}]",
    "[{\"role\": \"user\", \"content\": [{\"toolUse\": {\"toolUseId\": \"a\","
        " \"name\": \"b\"}}]}]",
    "[{\"role\": \"assistant\", \"content\": [{\"toolUse\": {\"name\": "
        "\"b\"}}]}]",
    "[{\"role\": \"user\", \"content\": [{\"toolResult\": {\"toolUseId\": "
        "\"a\", \"content\": \"x\"}}]}]",
    "[not json",
  };
  Fixture f;
  GError *err = NULL;
  JsonNode *body;
  guint i;

  fixture_setup (&f);
  fail_unless (gst_bidi_llm_set_history (f.llm,
          "[{\"role\": \"user\", \"content\": \"plain\"}]", &err));
  for (i = 0; i < G_N_ELEMENTS (invalid); i++) {
    fail_if (gst_bidi_llm_set_history (f.llm, invalid[i], &err), "%s",
        invalid[i]);
    fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_SETTINGS));
    GST_INFO ("%s: %s", invalid[i], err->message);
    g_clear_error (&err);
  }
  /* the valid history stays */
  mock_chat_push_text (f.mock, "Hi.", 1, 0, -1, -1);
  request_and_wait (&f);
  body = get_body (&f, 0);
  fail_unless_equals_int (json_array_get_length (body_messages (body)), 2);
  assert_message (body, 1, "user", "plain");
  json_node_unref (body);
  fixture_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_truncate_last_answer)
{
  Fixture f;
  JsonNode *body;
  JsonObject *msg;

  fixture_setup (&f);
  mock_chat_push_text (f.mock, "A long answer. With a second sentence.", 2, 0,
      -1, -1);
  gst_bidi_llm_add_user (f.llm, "talk");
  request_and_wait (&f);
  gst_bidi_llm_truncate_last_answer (f.llm, "A long answer.");

  /* with tool calls: the calls stay */
  mock_chat_push_tool_call (f.mock, "c9", "current_time", "{}", 1);
  gst_bidi_llm_add_user (f.llm, "time?");
  request_and_wait (&f);
  gst_bidi_llm_truncate_last_answer (f.llm, "");
  gst_bidi_llm_add_tool_result (f.llm, "c9", "{\"time\": \"noon\"}");

  mock_chat_push_text (f.mock, "Noon.", 1, 0, -1, -1);
  request_and_wait (&f);
  body = get_body (&f, 2);
  fail_unless_equals_int (json_array_get_length (body_messages (body)), 6);
  assert_message (body, 2, "assistant", "A long answer.");
  assert_message (body, 3, "user", "time?");
  assert_message (body, 4, "assistant", "");
  msg = message_at (body, 4);
  fail_unless (json_object_has_member (msg, "tool_calls"));
  assert_message (body, 5, "tool", "{\"time\": \"noon\"}");
  json_node_unref (body);

  /* a request that said nothing: there is nothing to truncate, the
   * previous answer stays whole */
  mock_chat_push_hang (f.mock);
  gst_bidi_llm_add_user (f.llm, "and now?");
  fixture_reset (&f);
  fail_unless (gst_bidi_llm_request (f.llm, &callbacks, &f));
  fail_unless (wait_requests (&f, 4));
  gst_bidi_llm_cancel (f.llm);
  gst_bidi_llm_truncate_last_answer (f.llm, "");
  mock_chat_push_text (f.mock, "Ok.", 1, 0, -1, -1);
  request_and_wait (&f);
  body = get_body (&f, 4);
  assert_message (body, 6, "assistant", "Noon.");
  assert_message (body, 7, "user", "and now?");
  json_node_unref (body);
  fixture_teardown (&f);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * End to end: bidiagent, default provider "local", in LLM mode
 * ------------------------------------------------------------------------ */

#define E2E_WAIT_MS 30000

typedef struct
{
  GstElement *pipe;
  GstElement *agent;
  GstBus *bus;
  MockChat *mock;
  GPtrArray *messages;          /* GstStructure *: element messages seen */

  GMutex lock;
  GCond cond;
  guint n_buffers;
  guint n_loud;                 /* buffers with speech in them */
  gulong probe;
  GstPad *srcpad;
} E2e;

static GstPadProbeReturn
e2e_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  E2e *e = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;
  gint peak = 0;
  gsize i;

  (void) pad;
  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    for (i = 0; i + 1 < map.size; i += 2) {
      gint16 v;
      memcpy (&v, map.data + i, 2);
      peak = MAX (peak, ABS ((gint) v));
    }
    gst_buffer_unmap (buf, &map);
  }
  g_mutex_lock (&e->lock);
  e->n_buffers++;
  if (peak > 1000)
    e->n_loud++;
  g_cond_broadcast (&e->cond);
  g_mutex_unlock (&e->lock);
  return GST_PAD_PROBE_OK;
}

static void
e2e_setup (E2e * e)
{
  GstStructure *config;
  GError *err = NULL;

  memset (e, 0, sizeof (*e));
  g_mutex_init (&e->lock);
  g_cond_init (&e->cond);
  e->mock = mock_chat_new ();
  e->messages = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);

  /* no input at all: the turns are typed */
  e->pipe = gst_parse_launch ("bidiagent name=agent ! audio/x-raw,rate=16000 "
      "! fakesink sync=true", &err);
  fail_unless (e->pipe != NULL && err == NULL, "%s", err ? err->message : "");
  leftover_watch (e->pipe);
  e->agent = gst_bin_get_by_name (GST_BIN (e->pipe), "agent");
  config = gst_structure_new ("config", "llm-url", G_TYPE_STRING,
      mock_chat_url (e->mock), NULL);
  g_object_set (e->agent, "provider-config", config, "model", "mock-model",
      "system-prompt", "Answer briefly.", NULL);
  gst_structure_free (config);
  e->srcpad = gst_element_get_static_pad (e->agent, "src");
  e->probe = gst_pad_add_probe (e->srcpad, GST_PAD_PROBE_TYPE_BUFFER,
      e2e_probe, e, NULL);
  e->bus = gst_element_get_bus (e->pipe);
  fail_if (gst_element_set_state (e->pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
}

static void
e2e_teardown (E2e * e)
{
  gst_element_set_state (e->pipe, GST_STATE_NULL);
  gst_pad_remove_probe (e->srcpad, e->probe);
  gst_object_unref (e->srcpad);
  gst_object_unref (e->bus);
  gst_object_unref (e->agent);
  gst_object_unref (e->pipe);
  mock_chat_free (e->mock);
  g_ptr_array_unref (e->messages);
  g_mutex_clear (&e->lock);
  g_cond_clear (&e->cond);
}

/* Pops bus messages (keeping the element ones) until one named @name;
 * returns it (owned by e->messages) or NULL on timeout. An ERROR fails. */
static const GstStructure *
e2e_wait (E2e * e, const gchar * name)
{
  gint64 end = g_get_monotonic_time () + E2E_WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end) {
    GstMessage *msg = gst_bus_timed_pop_filtered (e->bus, 100 * GST_MSECOND,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
    const GstStructure *s;

    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gchar *dbg = NULL;
      gst_message_parse_error (msg, &err, &dbg);
      fail ("unexpected error: %s (%s)", err->message, GST_STR_NULL (dbg));
    }
    s = gst_message_get_structure (msg);
    if (s) {
      GST_INFO ("message %" GST_PTR_FORMAT, s);
      g_ptr_array_add (e->messages, gst_structure_copy (s));
    }
    gst_message_unref (msg);
    if (s && gst_structure_has_name (g_ptr_array_index (e->messages,
                e->messages->len - 1), name))
      return g_ptr_array_index (e->messages, e->messages->len - 1);
  }
  return NULL;
}

/* The last element message named @name seen so far */
static const GstStructure *
e2e_find (E2e * e, const gchar * name)
{
  guint i;

  for (i = e->messages->len; i > 0; i--)
    if (gst_structure_has_name (g_ptr_array_index (e->messages, i - 1), name))
      return g_ptr_array_index (e->messages, i - 1);
  return NULL;
}

static gboolean
e2e_wait_loud (E2e * e, guint n)
{
  gint64 end = g_get_monotonic_time () + E2E_WAIT_MS * G_TIME_SPAN_MILLISECOND;
  gboolean ok;

  g_mutex_lock (&e->lock);
  while (e->n_loud < n && g_cond_wait_until (&e->cond, &e->lock, end));
  ok = e->n_loud >= n;
  g_mutex_unlock (&e->lock);
  return ok;
}

/* The assistant transcripts seen so far: the partial ones (each a
 * sentence) in @partials, the last final one returned */
static gchar *
e2e_assistant_transcripts (E2e * e, GPtrArray * partials)
{
  gchar *final = NULL;
  guint i;

  for (i = 0; i < e->messages->len; i++) {
    const GstStructure *s = g_ptr_array_index (e->messages, i);
    gboolean is_final = FALSE;

    if (!gst_structure_has_name (s, "bidi_transcript_stream") ||
        g_strcmp0 (gst_structure_get_string (s, "role"), "assistant") != 0)
      continue;
    gst_structure_get_boolean (s, "is_final", &is_final);
    if (is_final) {
      g_free (final);
      final = g_strdup (gst_structure_get_string (s, "text"));
    } else if (partials) {
      g_ptr_array_add (partials, g_strdup (gst_structure_get_string (s,
                  "text")));
    }
  }
  return final;
}

/* The streamed answer is spoken, sentence by sentence */
GST_START_TEST (test_e2e_spoken_answer)
{
  E2e e;
  const gchar *answer = "Hello, nice to meet you. I am a mock model. "
      "How can I help?";
  GPtrArray *partials = g_ptr_array_new_with_free_func (g_free);
  const GstStructure *s;
  gboolean ret = FALSE;
  JsonNode *body;
  JsonObject *obj;
  JsonArray *messages;
  gchar *final, *text;
  guint n_loud_before;

  e2e_setup (&e);
  mock_chat_push_text (e.mock, answer, 12, 30, 20, 16);
  fail_unless (e2e_wait (&e, "bidi_connection_start") != NULL,
      "the local provider did not start");

  g_mutex_lock (&e.lock);
  n_loud_before = e.n_loud;
  g_mutex_unlock (&e.lock);
  fail_unless_equals_int (n_loud_before, 0);

  g_signal_emit_by_name (e.agent, "send-text", "hello", &ret);
  fail_unless (ret);
  fail_unless (e2e_wait (&e, "bidi_response_start") != NULL);
  s = e2e_wait (&e, "bidi_response_complete");
  fail_unless (s != NULL, "the answer did not complete");
  fail_unless_equals_string (gst_structure_get_string (s, "stop_reason"),
      "complete");

  final = e2e_assistant_transcripts (&e, partials);
  fail_unless (final != NULL, "no final assistant transcript");
  fail_unless_equals_string (final, answer);
  /* one partial per sentence, in order */
  fail_unless (partials->len >= 3, "%u partial transcripts", partials->len);
  g_ptr_array_add (partials, NULL);
  text = g_strjoinv (" ", (gchar **) partials->pdata);
  fail_unless_equals_string (text, answer);
  g_free (text);
  g_free (final);

  /* and it is heard */
  fail_unless (e2e_wait_loud (&e, 5), "no speech on the src pad");

  /* what the server got */
  fail_unless_equals_int (mock_chat_n_requests (e.mock), 1);
  text = mock_chat_get_request (e.mock, 0);
  body = parse_json (text);
  g_free (text);
  obj = json_node_get_object (body);
  fail_unless_equals_string (json_object_get_string_member (obj, "model"),
      "mock-model");
  fail_unless (json_object_get_boolean_member (obj, "stream"));
  messages = json_object_get_array_member (obj, "messages");
  fail_unless_equals_int (json_array_get_length (messages), 2);
  assert_message (body, 0, "system", "Answer briefly.");
  assert_message (body, 1, "user", "hello");
  /* the element's built-in tools are offered */
  fail_unless (json_object_has_member (obj, "tools"));
  json_node_unref (body);

  /* the server's token counts are reported */
  s = e2e_find (&e, "bidi_usage");
  fail_unless (s != NULL, "no usage");
  fail_unless_equals_string (gst_structure_get_string (s, "unit"), "tokens");
  {
    gint in = -1, out = -1;
    gst_structure_get_int (s, "inputTokens", &in);
    gst_structure_get_int (s, "outputTokens", &out);
    fail_unless_equals_int (in, 20);
    fail_unless_equals_int (out, 16);
  }

  g_ptr_array_unref (partials);
  e2e_teardown (&e);
}

GST_END_TEST;

/* One tool-call round trip through the element's built-in calculator */
GST_START_TEST (test_e2e_tool_call)
{
  E2e e;
  const GstStructure *s;
  gboolean ret = FALSE;
  JsonNode *body;
  JsonArray *messages, *tools;
  JsonObject *tool_msg = NULL;
  gchar *text, *final;
  gboolean have_calculator = FALSE;
  guint i;

  e2e_setup (&e);
  mock_chat_push_tool_call (e.mock, "call_calc_1", "calculator",
      "{\"expression\": \"25 * 48\"}", 4);
  mock_chat_push_text (e.mock, "Twenty five times forty eight is 1200. "
      "Anything else?", 6, 20, 30, 12);
  fail_unless (e2e_wait (&e, "bidi_connection_start") != NULL,
      "the local provider did not start");

  g_signal_emit_by_name (e.agent, "send-text",
      "what is twenty five times forty eight", &ret);
  fail_unless (ret);

  s = e2e_wait (&e, "tool_use_stream");
  fail_unless (s != NULL, "no tool call");
  fail_unless_equals_string (gst_structure_get_string (s, "toolUseId"),
      "call_calc_1");
  fail_unless_equals_string (gst_structure_get_string (s, "name"),
      "calculator");
  s = e2e_wait (&e, "tool_result");
  fail_unless (s != NULL, "no tool result");
  fail_unless_equals_string (gst_structure_get_string (s, "status"), "success");
  fail_unless (strstr (gst_structure_get_string (s, "content"), "1200"),
      "%s", gst_structure_get_string (s, "content"));

  s = e2e_wait (&e, "bidi_response_complete");
  fail_unless (s != NULL, "the answer did not complete");
  final = e2e_assistant_transcripts (&e, NULL);
  fail_unless (final != NULL, "no final assistant transcript");
  fail_unless (strstr (final, "1200") != NULL, "%s", final);
  g_free (final);
  fail_unless (e2e_wait_loud (&e, 5), "no speech on the src pad");

  /* the first request offered the calculator */
  fail_unless_equals_int (mock_chat_n_requests (e.mock), 2);
  text = mock_chat_get_request (e.mock, 0);
  body = parse_json (text);
  g_free (text);
  tools = json_object_get_array_member (json_node_get_object (body), "tools");
  for (i = 0; tools && i < json_array_get_length (tools); i++) {
    JsonObject *fn = json_object_get_object_member
        (json_array_get_object_element (tools, i), "function");
    if (g_strcmp0 (json_object_get_string_member (fn, "name"),
            "calculator") == 0)
      have_calculator = TRUE;
  }
  fail_unless (have_calculator, "calculator not offered");
  json_node_unref (body);

  /* the second one has the call and its result */
  text = mock_chat_get_request (e.mock, 1);
  body = parse_json (text);
  g_free (text);
  messages = json_object_get_array_member (json_node_get_object (body),
      "messages");
  for (i = 0; i < json_array_get_length (messages); i++) {
    JsonObject *m = json_array_get_object_element (messages, i);
    if (g_strcmp0 (json_object_get_string_member (m, "role"), "tool") == 0)
      tool_msg = m;
  }
  fail_unless (tool_msg != NULL, "no tool message");
  fail_unless_equals_string (json_object_get_string_member (tool_msg,
          "tool_call_id"), "call_calc_1");
  fail_unless (strstr (json_object_get_string_member (tool_msg, "content"),
          "1200") != NULL, "%s", json_object_get_string_member (tool_msg,
          "content"));
  assert_message (body, json_array_get_length (messages) - 2, "assistant",
      NULL);
  fail_unless (json_object_has_member (message_at (body,
              json_array_get_length (messages) - 2), "tool_calls"));
  json_node_unref (body);

  e2e_teardown (&e);
}

GST_END_TEST;

/* A server error is reported, and something is still said */
GST_START_TEST (test_e2e_server_error)
{
  E2e e;
  gboolean ret = FALSE;
  const GstStructure *s;

  e2e_setup (&e);
  mock_chat_push_error (e.mock, 500, "{\"error\": {\"message\": \"boom\"}}");
  fail_unless (e2e_wait (&e, "bidi_connection_start") != NULL,
      "the local provider did not start");
  g_signal_emit_by_name (e.agent, "send-text", "hello", &ret);
  fail_unless (ret);
  s = e2e_wait (&e, "bidi_error");
  fail_unless (s != NULL, "no error event");
  fail_unless (strstr (gst_structure_get_string (s, "message"), "boom"),
      "%s", gst_structure_get_string (s, "message"));
  fail_unless (e2e_wait (&e, "bidi_response_complete") != NULL);
  e2e_teardown (&e);
}

GST_END_TEST;

static Suite *
localllm_suite (void)
{
  Suite *s = suite_create ("localllm");
  TCase *tc = tcase_create ("client");
  const gchar *preload = g_getenv ("LD_PRELOAD");

  if (preload && strstr (preload, "vgpreload"))
    slow = 10;

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, leftover_stop);
  tcase_add_test (tc, test_stream_text);
  tcase_add_test (tc, test_request_minimal);
  tcase_add_test (tc, test_usage);
  tcase_add_test (tc, test_non_streamed_answer);
  tcase_add_test (tc, test_sse_framing);
  tcase_add_test (tc, test_sse_no_done);
  tcase_add_test (tc, test_one_request_at_a_time);
  tcase_add_test (tc, test_tool_call_round_trip);
  tcase_add_test (tc, test_tool_calls_parallel);
  tcase_add_test (tc, test_cancel_hanging);
  tcase_add_test (tc, test_cancel_mid_stream);
  tcase_add_test (tc, test_cancel_from_callback);
  tcase_add_test (tc, test_free_from_callback);
  tcase_add_test (tc, test_free_pending);
  tcase_add_test (tc, test_http_401);
  tcase_add_test (tc, test_http_500);
  tcase_add_test (tc, test_malformed);
  tcase_add_test (tc, test_connection_refused);
  tcase_add_test (tc, test_settings);
  tcase_add_test (tc, test_tls_ca_file);
  tcase_add_test (tc, test_history);
  tcase_add_test (tc, test_history_invalid);
  tcase_add_test (tc, test_truncate_last_answer);

  tc = tcase_create ("e2e");
  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, leftover_stop);
  tcase_add_test (tc, test_e2e_spoken_answer);
  tcase_add_test (tc, test_e2e_tool_call);
  tcase_add_test (tc, test_e2e_server_error);
  return s;
}

GST_CHECK_MAIN (localllm);
