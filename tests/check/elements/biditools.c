/* gst-bidi: built-in tools, and how bidiagent runs them
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

#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <string.h>

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <gst/bidi/gstbiditools.h>
#include <gst/bidi/gstbidihistory.h>
#include "scriptedprovider.h"
#include "leftover.h"

#define WAIT_MS 5000

/* ------------------------------------------------------------------------
 * The tools themselves
 * ------------------------------------------------------------------------ */

static JsonObject *
run_ok (const gchar * name, const gchar * input)
{
  gchar *result = NULL;
  JsonNode *node;
  JsonObject *obj;

  fail_unless (gst_bidi_builtin_tool_run (name, input, &result),
      "%s %s failed: %s", name, input, result);
  node = json_from_string (result, NULL);
  fail_unless (node && JSON_NODE_HOLDS_OBJECT (node), "%s", result);
  obj = json_object_ref (json_node_get_object (node));
  json_node_unref (node);
  g_free (result);
  return obj;
}

static const struct
{
  const gchar *expression;
  gdouble result;
} good_expressions[] = {
  {"25 * 48", 1200},
  {"2 + 3 * 4", 14},
  {"(2 + 3) * 4", 20},
  {"-2 ^ 2", -4},
  {"2 ^ 3 ^ 2", 512},
  {"10 / 4", 2.5},
  {"10 % 4", 2},
  {"0.1 + 0.2", 0.3},
  {" 7 ", 7},
  {"-(3 - 5)", 2},
  {"1e3 + 1", 1001},
  {"1000000 * 1000000", 1e12},
  {"sqrt(16) + abs(-2)", 6},
  {"max(3, 7) * 2", 14},
  {"min(3, -7)", -7},
  {"round(2 * pi)", 6},
  {"sin(0) + cos(0)", 1},
  {"log(1000)", 3},
  {"ln(e)", 1},
  {"2 * PI", 2 * G_PI},
  {"sqrt(pow(3, 2) + hypot(0, 4) ^ 2)", 5},
  {"floor(2.7) + ceil(2.2) + log2(8)", 8},
  {"sin(radians(90))", 1},
};

GST_START_TEST (test_calculator)
{
  gchar *input = g_strdup_printf ("{\"expression\":\"%s\"}",
      good_expressions[__i__].expression);
  JsonObject *obj = run_ok ("calculator", input);

  fail_unless (json_object_has_member (obj, "result"));
  fail_unless (G_APPROX_VALUE (json_object_get_double_member (obj, "result"),
          good_expressions[__i__].result, 1e-9),
      "%s = %f", good_expressions[__i__].expression,
      json_object_get_double_member (obj, "result"));
  fail_unless_equals_string (json_object_get_string_member (obj,
          "expression"), good_expressions[__i__].expression);
  json_object_unref (obj);
  g_free (input);
}

GST_END_TEST;

static const gchar *const bad_inputs[] = {
  "{\"expression\":\"1 / 0\"}",
  "{\"expression\":\"2 +\"}",
  "{\"expression\":\"(1 + 2\"}",
  "{\"expression\":\"system('rm')\"}",
  "{\"expression\":\"sqrt 4\"}",
  "{\"expression\":\"max(1)\"}",
  "{\"expression\":\"sqrt(1, 2)\"}",
  "{\"expression\":\"exec(1)\"}",
  "{\"expression\":\"sqrt(-1)\"}",
  "{\"expression\":\"2e\"}",
  "{\"expression\":\"0x10\"}",
  "{\"expression\":\"inf\"}",
  "{\"expression\":\"1e999\"}",
  "{\"expression\":\"((((((((((((((((((((((((((((((((((1))))))))))))))))))"
      "))))))))))))))))\"}",
  "{\"expression\":12}",
  "{}",
  "[1]",
  "not json",
};

GST_START_TEST (test_calculator_bad_input)
{
  gchar *result = NULL;
  JsonNode *node;

  fail_if (gst_bidi_builtin_tool_run ("calculator", bad_inputs[__i__],
          &result), "%s was accepted: %s", bad_inputs[__i__], result);
  node = json_from_string (result, NULL);
  fail_unless (node && JSON_NODE_HOLDS_OBJECT (node));
  fail_unless (json_object_has_member (json_node_get_object (node), "error"),
      "%s", result);
  json_node_unref (node);
  g_free (result);
}

GST_END_TEST;

/* A failed call's result always says "error", whatever the tool gave */
GST_START_TEST (test_error_result)
{
  static const struct
  {
    const gchar *in, *out;
  } cases[] = {
    {"{\"error\":\"down\",\"retry\":true}",
        "{\"error\":\"down\",\"retry\":true}"},
    {"{\"code\":7}", "{\"error\":{\"code\":7}}"},
    {"[1,2]", "{\"error\":[1,2]}"},
    {"the service is down", "{\"error\":\"the service is down\"}"},
    {"", "{\"error\":\"the tool failed\"}"},
    {NULL, "{\"error\":\"the tool failed\"}"},
    /* found by fuzz_tools: not UTF-8 */
    {"\xdb", "{\"error\":\"\xef\xbf\xbd\"}"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *out = gst_bidi_tool_error_result (cases[i].in);

    fail_unless_equals_string (out, cases[i].out);
    g_free (out);
  }
}

GST_END_TEST;

GST_START_TEST (test_current_time)
{
  JsonObject *obj = run_ok ("current_time", "{}");
  GDateTime *now = g_date_time_new_now_local ();
  const gchar *time = json_object_get_string_member (obj, "time");
  gint h, m;

  fail_unless (sscanf (time, "%d:%d", &h, &m) == 2);
  /* within a minute of now */
  fail_unless (abs ((h * 60 + m) - (g_date_time_get_hour (now) * 60 +
              g_date_time_get_minute (now))) <= 1 || (h == 0 && m == 0));
  fail_unless (json_object_has_member (obj, "time_12h"));
  fail_unless (json_object_has_member (obj, "date"));
  fail_unless (json_object_has_member (obj, "iso"));
  g_date_time_unref (now);
  json_object_unref (obj);

  obj = run_ok ("current_time", "{\"timezone\":\"UTC\"}");
  fail_unless_equals_string (json_object_get_string_member (obj, "timezone"),
      "UTC");
  json_object_unref (obj);

  {
    gchar *result = NULL;
    fail_if (gst_bidi_builtin_tool_run ("current_time",
            "{\"timezone\":\"Nowhere/Atlantis\"}", &result));
    fail_unless (strstr (result, "Nowhere/Atlantis") != NULL);
    g_free (result);
  }
}

GST_END_TEST;

GST_START_TEST (test_specs)
{
  const gchar *names[] = { "calculator", "nonesuch", "stop_conversation",
    NULL
  };
  gchar *json = gst_bidi_builtin_tools_spec_json (names);
  JsonNode *node = json_from_string (json, NULL);
  JsonArray *array;

  fail_unless (node && JSON_NODE_HOLDS_ARRAY (node));
  array = json_node_get_array (node);
  fail_unless_equals_int (json_array_get_length (array), 2);
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (array, 0), "name"), "calculator");
  fail_unless (json_object_has_member (json_array_get_object_element (array,
              0), "parameters"));
  json_node_unref (node);
  g_free (json);

  fail_unless (gst_bidi_builtin_tool_exists ("current_time"));
  fail_if (gst_bidi_builtin_tool_exists ("rm"));
}

GST_END_TEST;

/* Application tools: the accepted spec shapes, and clear refusals */
GST_START_TEST (test_app_tools_merge)
{
  const gchar *builtins[] = { "calculator", NULL };
  gchar *json = NULL, **names = NULL;
  GError *err = NULL;
  JsonNode *node;
  JsonArray *array;
  JsonObject *o;
  guint i;
  const struct
  {
    const gchar *json;
    const gchar *says;
  } bad[] = {
    {"{\"name\": \"x\"}", "JSON array"},
    {"[{\"name\": \"x\"", "not JSON"},
    {"[42]", "tool 0 is not a JSON object"},
    {"[{\"description\": \"no name\"}]", "no \"name\""},
    {"[{\"name\": \"has space\"}]", "letters, digits"},
    {"[{\"name\": \"a\"}, {\"name\": \"a\"}]",
        "tool 1 has the name of another tool"},
    {"[{\"name\": \"calculator\"}]", "built-in tool in use"},
    {"[{\"name\": \"x\", \"description\": 3}]", "description"},
    {"[{\"name\": \"x\", \"parameters\": []}]", "not a JSON object"},
    {"[{\"name\": \"x\", \"inputSchema\": {\"json\": 1}}]", "inputSchema.json"},
    /* C strings end at a NUL: "a\0b" would be taken as "a" */
    {"[{\"name\": \"a\\u0000b\"}]", "unsupported escape"},
  };

  fail_unless (gst_bidi_tools_merge (builtins, "[{\"name\": \"get_weather\", "
          "\"description\": \"Weather\", \"parameters\": {\"type\": "
          "\"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}},"
          "{\"name\": \"strands-style\", \"inputSchema\": {\"json\": "
          "{\"type\": \"object\", \"properties\": {\"n\": {}}}}},"
          "{\"name\": \"anthropic_style\", \"input_schema\": {\"type\": "
          "\"object\", \"properties\": {\"m\": {}}}},"
          "{\"name\": \"no_args\"}]", &json, &names, &err));
  fail_unless (err == NULL);
  fail_unless_equals_int (g_strv_length (names), 4);
  fail_unless_equals_string (names[0], "get_weather");
  fail_unless_equals_string (names[3], "no_args");
  node = json_from_string (json, NULL);
  array = json_node_get_array (node);
  fail_unless_equals_int (json_array_get_length (array), 5);
  o = json_array_get_object_element (array, 0);
  fail_unless_equals_string (json_object_get_string_member (o, "name"),
      "calculator");
  o = json_array_get_object_element (array, 2);
  fail_unless_equals_string (json_object_get_string_member (o, "name"),
      "strands-style");
  fail_unless (json_object_has_member (json_object_get_object_member
          (json_object_get_object_member (o, "parameters"), "properties"),
          "n"));
  o = json_array_get_object_element (array, 3);
  fail_unless (json_object_has_member (json_object_get_object_member
          (json_object_get_object_member (o, "parameters"), "properties"),
          "m"));
  o = json_array_get_object_element (array, 4);
  fail_unless_equals_string (json_object_get_string_member (o, "description"),
      "");
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (o, "parameters"), "type"), "object");
  json_node_unref (node);
  g_free (json);
  g_strfreev (names);

  /* none */
  fail_unless (gst_bidi_tools_merge (NULL, NULL, &json, &names, NULL));
  fail_unless_equals_string (json, "[]");
  fail_unless_equals_int (g_strv_length (names), 0);
  g_free (json);
  g_strfreev (names);

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    fail_if (gst_bidi_tools_merge (builtins, bad[i].json, &json, &names,
            &err), "accepted %s", bad[i].json);
    fail_unless (json == NULL && names == NULL);
    fail_unless (err != NULL);
    fail_unless (strstr (err->message, bad[i].says) != NULL, "%s: %s",
        bad[i].json, err->message);
    g_clear_error (&err);
  }
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * In the element
 * ------------------------------------------------------------------------ */

typedef struct
{
  GstElement *pipe;
  GstElement *agent;
  GstBus *bus;
  GstBidiScriptedProvider *provider;
} Session;

/* Starts a session; the NULL-terminated property name/value pairs are set
 * on the agent before it starts */
static void
session_start_set (Session * s, const gchar * props, const gchar * first,
    ...)
{
  va_list ap;
  gchar *desc = g_strdup_printf ("audiotestsrc is-live=true wave=silence ! "
      "bidiagent name=agent provider=scripted %s ! fakesink sync=true",
      props ? props : "");
  GError *err = NULL;

  gst_bidi_scripted_provider_register ();
  gst_bidi_scripted_provider_reset_last ();
  s->pipe = gst_parse_launch (desc, &err);
  fail_unless (s->pipe != NULL, "%s", err ? err->message : "");
  leftover_watch (s->pipe);
  g_free (desc);
  s->agent = gst_bin_get_by_name (GST_BIN (s->pipe), "agent");
  va_start (ap, first);
  if (first)
    g_object_set_valist (G_OBJECT (s->agent), first, ap);
  va_end (ap);
  s->bus = gst_element_get_bus (s->pipe);
  fail_if (gst_element_set_state (s->pipe, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  s->provider = gst_bidi_scripted_provider_get_last ();
  fail_unless (s->provider != NULL);
}

static void
session_start_with_tools (Session * s, const gchar * props,
    const gchar * tools)
{
  session_start_set (s, props, "tools", tools, NULL);
}

static void
session_start (Session * s, const gchar * props)
{
  session_start_set (s, props, NULL);
}

static void
session_stop (Session * s)
{
  gst_element_set_state (s->pipe, GST_STATE_NULL);
  gst_object_unref (s->provider);
  gst_object_unref (s->bus);
  gst_object_unref (s->agent);
  gst_object_unref (s->pipe);
  gst_bidi_scripted_provider_reset_last ();
}

/* Pops messages until an element message named @name, or EOS/ERROR if
 * @name is "eos"/"error". */
static GstStructure *
session_wait (Session * s, const gchar * name)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end) {
    GstMessage *msg = gst_bus_timed_pop (s->bus, 100 * GST_MSECOND);
    GstStructure *st = NULL;

    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS && !strcmp (name, "eos"))
      st = gst_structure_new_empty ("eos");
    else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gst_message_parse_error (msg, &err, NULL);
      if (strcmp (name, "error") != 0)
        fail ("unexpected error: %s", err->message);
      st = gst_structure_new ("error", "message", G_TYPE_STRING,
          err->message, NULL);
      g_error_free (err);
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
        gst_message_has_name (msg, name))
      st = gst_structure_copy (gst_message_get_structure (msg));
    gst_message_unref (msg);
    if (st)
      return st;
  }
  return NULL;
}

GST_START_TEST (test_element_runs_builtin)
{
  Session s;
  GstStructure *st, *call;
  const gchar *json;

  session_start (&s, NULL);
  gst_structure_free (session_wait (&s, "bidi_connection_start"));
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("t1", "calculator",
          "{\"expression\":\"25 * 48\"}"));

  st = session_wait (&s, "tool_use_stream");
  fail_unless (st != NULL);
  fail_unless_equals_string (gst_structure_get_string (st, "name"),
      "calculator");
  gst_structure_free (st);
  st = session_wait (&s, "tool_result");
  fail_unless (st != NULL);
  fail_unless_equals_string (gst_structure_get_string (st, "toolUseId"), "t1");
  fail_unless_equals_string (gst_structure_get_string (st, "status"),
      "success");
  fail_unless (strstr (gst_structure_get_string (st, "content"), "1200"));
  gst_structure_free (st);

  fail_unless (gst_bidi_scripted_provider_wait_call (s.provider,
          "send-tool-result", 1, WAIT_MS));
  call = gst_bidi_scripted_provider_get_call (s.provider, "send-tool-result",
      0);
  fail_unless_equals_string (gst_structure_get_string (call, "id"), "t1");
  fail_unless_equals_string (gst_structure_get_string (call, "name"),
      "calculator");
  fail_unless_equals_string (gst_structure_get_string (call, "status"),
      "success");
  json = gst_structure_get_string (call, "json");
  fail_unless (strstr (json, "\"result\":1200") != NULL, "%s", json);
  gst_structure_free (call);

  /* the provider was told which tools exist */
  call = gst_bidi_scripted_provider_get_call (s.provider, "start", 0);
  json = gst_structure_get_string (call, "tools-json");
  fail_unless (json && strstr (json, "current_time") &&
      strstr (json, "stop_conversation"), "tools: %s", json);
  gst_structure_free (call);
  session_stop (&s);
}

GST_END_TEST;

GST_START_TEST (test_element_disabled_tool)
{
  Session s;
  GstStructure *call;

  session_start (&s, "builtin-tools=current_time");
  gst_structure_free (session_wait (&s, "bidi_connection_start"));
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("t2", "calculator",
          "{\"expression\":\"1+1\"}"));
  fail_unless (gst_bidi_scripted_provider_wait_call (s.provider,
          "send-tool-result", 1, WAIT_MS));
  call = gst_bidi_scripted_provider_get_call (s.provider, "send-tool-result",
      0);
  fail_unless_equals_string (gst_structure_get_string (call, "status"),
      "error");
  gst_structure_free (call);

  call = gst_bidi_scripted_provider_get_call (s.provider, "start", 0);
  fail_if (strstr (gst_structure_get_string (call, "tools-json"),
          "calculator") != NULL);
  gst_structure_free (call);
  session_stop (&s);
}

GST_END_TEST;

/* A bidiagent on the scripted provider with the NULL-terminated
 * properties; going to PAUSED must fail, and the ERROR message must say
 * @says. The element is left in NULL (transfer full). */
static GstElement *
start_fails (const gchar * says, const gchar * first, ...)
{
  GstElement *e;
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  va_list ap;

  gst_bidi_scripted_provider_register ();
  e = gst_element_factory_make ("bidiagent", NULL);
  g_object_set (e, "provider", "scripted", NULL);
  va_start (ap, first);
  g_object_set_valist (G_OBJECT (e), first, ap);
  va_end (ap);
  gst_element_set_bus (e, bus);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, says) != NULL, "%s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  return e;
}

GST_START_TEST (test_element_unknown_builtin)
{
  gst_object_unref (start_fails ("rm_rf", "builtin-tools",
          "calculator, rm_rf", NULL));
  gst_bidi_scripted_provider_reset_last ();
}

GST_END_TEST;

/* stop_conversation: the goodbye plays, then bidi_connection_close with
 * reason user_request, then EOS: the pipeline ends by itself. */
GST_START_TEST (test_element_stop_conversation)
{
  Session s;
  GstStructure *st;

  session_start (&s, NULL);
  gst_structure_free (session_wait (&s, "bidi_connection_start"));
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_response_start ("r1"));
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("t3", "stop_conversation", "{}"));
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_response_complete ("r1", "tool_use"));
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_response_start ("r2"));
  gst_bidi_scripted_provider_play (s.provider,
      gst_structure_new (GST_BIDI_EVENT_AUDIO_STREAM, "duration-ms",
          G_TYPE_INT, 300, NULL));
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_response_complete ("r2", "complete"));

  st = session_wait (&s, "bidi_connection_close");
  fail_unless (st != NULL, "no bidi_connection_close");
  fail_unless_equals_string (gst_structure_get_string (st, "reason"),
      "user_request");
  gst_structure_free (st);
  st = session_wait (&s, "eos");
  fail_unless (st != NULL, "the pipeline did not end");
  gst_structure_free (st);
  session_stop (&s);
}

GST_END_TEST;

/* A provider that never says goodbye: the session still ends, after
 * drain-timeout. */
GST_START_TEST (test_element_stop_conversation_silent_provider)
{
  Session s;
  GstStructure *st;

  session_start (&s, "drain-timeout=300");
  gst_structure_free (session_wait (&s, "bidi_connection_start"));
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("t4", "stop_conversation", "{}"));
  st = session_wait (&s, "bidi_connection_close");
  fail_unless (st != NULL);
  fail_unless_equals_string (gst_structure_get_string (st, "reason"),
      "user_request");
  gst_structure_free (st);
  st = session_wait (&s, "eos");
  fail_unless (st != NULL);
  gst_structure_free (st);
  session_stop (&s);
}

GST_END_TEST;

#define WEATHER_TOOL "[{\"name\": \"get_weather\", \"description\": " \
    "\"The weather in a city\", \"parameters\": {\"type\": \"object\", " \
    "\"properties\": {\"city\": {\"type\": \"string\"}}}}]"

typedef struct
{
  GMutex lock;
  GCond cond;
  GPtrArray *calls;             /* "id name input" */
  gboolean answer_at_once;
  gboolean refuse;
} ToolCalls;

static gboolean
on_tool_call (GstElement * agent, const gchar * id, const gchar * name,
    const gchar * input, ToolCalls * tc)
{
  gboolean ret;

  if (tc->answer_at_once) {
    g_signal_emit_by_name (agent, "send-tool-result", id,
        "answered inside the handler", "success", &ret);
    fail_unless (ret);
  }
  g_mutex_lock (&tc->lock);
  g_ptr_array_add (tc->calls, g_strdup_printf ("%s %s %s", id, name, input));
  g_cond_broadcast (&tc->cond);
  g_mutex_unlock (&tc->lock);
  return !tc->refuse;
}

static void
wait_tool_calls (ToolCalls * tc, guint n)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  g_mutex_lock (&tc->lock);
  while (tc->calls->len < n && g_cond_wait_until (&tc->cond, &tc->lock, end));
  fail_unless (tc->calls->len >= n, "%u tool calls, not %u", tc->calls->len,
      n);
  g_mutex_unlock (&tc->lock);
}

/* tools: the model calls an application tool; tool_use_stream is posted,
 * tool-call emitted, and the application's answer (later, from its own
 * thread) reaches the provider and the bus. */
GST_START_TEST (test_element_app_tool)
{
  ToolCalls tc = { 0, };
  Session s;
  GstStructure *st, *call;
  gboolean ret;

  g_mutex_init (&tc.lock);
  g_cond_init (&tc.cond);
  tc.calls = g_ptr_array_new_with_free_func (g_free);

  session_start_with_tools (&s, NULL, WEATHER_TOOL);
  g_signal_connect (s.agent, "tool-call", G_CALLBACK (on_tool_call), &tc);
  gst_structure_free (session_wait (&s, "bidi_connection_start"));

  /* the provider was given the built-in tools and the application's */
  call = gst_bidi_scripted_provider_get_call (s.provider, "start", 0);
  fail_unless (strstr (gst_structure_get_string (call, "tools-json"),
          "\"get_weather\"") != NULL);
  fail_unless (strstr (gst_structure_get_string (call, "tools-json"),
          "\"calculator\"") != NULL);
  gst_structure_free (call);

  /* nothing waits for an answer yet */
  g_signal_emit_by_name (s.agent, "send-tool-result", "w1", "{}", "success",
      &ret);
  fail_if (ret);

  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("w1", "get_weather",
          "{\"city\":\"Oslo\"}"));
  st = session_wait (&s, "tool_use_stream");
  fail_unless (st != NULL);
  fail_unless_equals_string (gst_structure_get_string (st, "name"),
      "get_weather");
  gst_structure_free (st);
  wait_tool_calls (&tc, 1);
  fail_unless_equals_string (g_ptr_array_index (tc.calls, 0),
      "w1 get_weather {\"city\":\"Oslo\"}");
  /* no answer from the element itself */
  g_usleep (100 * 1000);
  fail_unless_equals_int (gst_bidi_scripted_provider_count_calls (s.provider,
          "send-tool-result"), 0);

  /* a bad status is refused; the call still waits */
  g_signal_emit_by_name (s.agent, "send-tool-result", "w1", "{}", "fine",
      &ret);
  fail_if (ret);
  g_signal_emit_by_name (s.agent, "send-tool-result", "w1",
      "{\"temp_c\": 21}", "success", &ret);
  fail_unless (ret);
  fail_unless (gst_bidi_scripted_provider_wait_call (s.provider,
          "send-tool-result", 1, WAIT_MS));
  call = gst_bidi_scripted_provider_get_call (s.provider, "send-tool-result",
      0);
  fail_unless_equals_string (gst_structure_get_string (call, "id"), "w1");
  fail_unless_equals_string (gst_structure_get_string (call, "name"),
      "get_weather");
  fail_unless_equals_string (gst_structure_get_string (call, "status"),
      "success");
  fail_unless_equals_string (gst_structure_get_string (call, "json"),
      "{\"temp_c\":21}");
  gst_structure_free (call);
  st = session_wait (&s, "tool_result");
  fail_unless (st != NULL);
  fail_unless_equals_string (gst_structure_get_string (st, "toolUseId"), "w1");
  fail_unless_equals_string (gst_structure_get_string (st, "status"),
      "success");
  gst_structure_free (st);

  /* answered once only */
  g_signal_emit_by_name (s.agent, "send-tool-result", "w1", "{}", "success",
      &ret);
  fail_if (ret);

  /* answered from inside the handler (on the network thread), as plain
   * text: sent as a JSON string */
  tc.answer_at_once = TRUE;
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("w2", "get_weather", "{}"));
  fail_unless (gst_bidi_scripted_provider_wait_call (s.provider,
          "send-tool-result", 2, WAIT_MS));
  call = gst_bidi_scripted_provider_get_call (s.provider, "send-tool-result",
      1);
  fail_unless_equals_string (gst_structure_get_string (call, "id"), "w2");
  fail_unless_equals_string (gst_structure_get_string (call, "json"),
      "\"answered inside the handler\"");
  gst_structure_free (call);

  /* two calls at once, answered in the other order, one from another
   * thread later: each result goes with its own call */
  tc.answer_at_once = FALSE;
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("w4", "get_weather", "{\"city\":\"A\"}"));
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("w5", "get_weather", "{\"city\":\"B\"}"));
  wait_tool_calls (&tc, 4);
  g_signal_emit_by_name (s.agent, "send-tool-result", "w5", "{\"t\": 5}",
      "success", &ret);
  fail_unless (ret);
  g_usleep (50 * 1000);
  g_signal_emit_by_name (s.agent, "send-tool-result", "w4",
      "the weather service is down", "error", &ret);
  fail_unless (ret);
  fail_unless (gst_bidi_scripted_provider_wait_call (s.provider,
          "send-tool-result", 4, WAIT_MS));
  call = gst_bidi_scripted_provider_get_call (s.provider, "send-tool-result",
      2);
  fail_unless_equals_string (gst_structure_get_string (call, "id"), "w5");
  fail_unless_equals_string (gst_structure_get_string (call, "json"),
      "{\"t\":5}");
  gst_structure_free (call);
  call = gst_bidi_scripted_provider_get_call (s.provider, "send-tool-result",
      3);
  fail_unless_equals_string (gst_structure_get_string (call, "id"), "w4");
  fail_unless_equals_string (gst_structure_get_string (call, "status"),
      "error");
  gst_structure_free (call);

  /* a tool nobody declared still gets an error at once */
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("w3", "launch_rockets", "{}"));
  fail_unless (gst_bidi_scripted_provider_wait_call (s.provider,
          "send-tool-result", 5, WAIT_MS));
  call = gst_bidi_scripted_provider_get_call (s.provider, "send-tool-result",
      4);
  fail_unless_equals_string (gst_structure_get_string (call, "id"), "w3");
  fail_unless_equals_string (gst_structure_get_string (call, "status"),
      "error");
  gst_structure_free (call);
  fail_unless_equals_int (tc.calls->len, 4);

  session_stop (&s);
  g_ptr_array_unref (tc.calls);
  g_mutex_clear (&tc.lock);
  g_cond_clear (&tc.cond);
}

GST_END_TEST;

/* No handler takes the call: an error result at once. A call taken but
 * not answered within tool-timeout: an error result, a warning, and the
 * late answer is refused. Built-in calls run side by side. */
GST_START_TEST (test_element_app_tool_refused_and_timeout)
{
  ToolCalls tc = { 0, };
  Session s;
  GstStructure *call;
  gboolean ret;
  GstMessage *msg;
  GError *err = NULL;
  guint i;

  g_mutex_init (&tc.lock);
  g_cond_init (&tc.cond);
  tc.calls = g_ptr_array_new_with_free_func (g_free);

  session_start_with_tools (&s, "tool-timeout=300", WEATHER_TOOL);
  gst_structure_free (session_wait (&s, "bidi_connection_start"));

  /* nobody listens */
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("r1", "get_weather", "{}"));
  fail_unless (gst_bidi_scripted_provider_wait_call (s.provider,
          "send-tool-result", 1, WAIT_MS));
  call = gst_bidi_scripted_provider_get_call (s.provider, "send-tool-result",
      0);
  fail_unless_equals_string (gst_structure_get_string (call, "status"),
      "error");
  fail_unless (strstr (gst_structure_get_string (call, "json"),
          "did not take") != NULL);
  gst_structure_free (call);

  /* a handler that refuses is no better */
  tc.refuse = TRUE;
  g_signal_connect (s.agent, "tool-call", G_CALLBACK (on_tool_call), &tc);
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("r2", "get_weather", "{}"));
  fail_unless (gst_bidi_scripted_provider_wait_call (s.provider,
          "send-tool-result", 2, WAIT_MS));
  wait_tool_calls (&tc, 1);

  /* taken, never answered */
  tc.refuse = FALSE;
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("r3", "get_weather", "{}"));
  wait_tool_calls (&tc, 2);
  fail_unless (gst_bidi_scripted_provider_wait_call (s.provider,
          "send-tool-result", 3, WAIT_MS));
  call = gst_bidi_scripted_provider_get_call (s.provider, "send-tool-result",
      2);
  fail_unless_equals_string (gst_structure_get_string (call, "id"), "r3");
  fail_unless_equals_string (gst_structure_get_string (call, "status"),
      "error");
  fail_unless (strstr (gst_structure_get_string (call, "json"),
          "did not answer within 300 ms") != NULL);
  gst_structure_free (call);
  msg = gst_bus_timed_pop_filtered (s.bus, WAIT_MS * GST_MSECOND,
      GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (strstr (err->message, "get_weather") != NULL);
  g_clear_error (&err);
  gst_message_unref (msg);
  g_signal_emit_by_name (s.agent, "send-tool-result", "r3", "{}", "success",
      &ret);
  fail_if (ret, "a result after the timeout was taken");

  /* built-in calls side by side, each answered */
  for (i = 0; i < 8; i++) {
    gchar *id = g_strdup_printf ("c%u", i);
    gchar *input = g_strdup_printf ("{\"expression\": \"%u * 2\"}", i);

    gst_bidi_scripted_provider_play (s.provider,
        gst_bidi_event_new_tool_use (id, "calculator", input));
    g_free (id);
    g_free (input);
  }
  fail_unless (gst_bidi_scripted_provider_wait_call (s.provider,
          "send-tool-result", 11, WAIT_MS));
  for (i = 0; i < 8; i++) {
    gchar *id = g_strdup_printf ("c%u", i), *want;
    guint j;

    for (j = 3; j < 11; j++) {
      call = gst_bidi_scripted_provider_get_call (s.provider,
          "send-tool-result", j);
      if (!g_strcmp0 (gst_structure_get_string (call, "id"), id))
        break;
      gst_structure_free (call);
      call = NULL;
    }
    fail_unless (call != NULL, "no result for %s", id);
    want = g_strdup_printf ("\"result\":%u", i * 2);
    fail_unless (strstr (gst_structure_get_string (call, "json"), want));
    gst_structure_free (call);
    g_free (want);
    g_free (id);
  }
  session_stop (&s);
  g_ptr_array_unref (tc.calls);
  g_mutex_clear (&tc.lock);
  g_cond_clear (&tc.cond);
}

GST_END_TEST;

/* A bad tools property fails the state change with a clear error */
GST_START_TEST (test_element_bad_app_tools)
{
  GstElement *e = start_fails ("current_time", "tools",
      "[{\"name\": \"current_time\"}]", NULL);

  /* without the built-in, the same name is the application's */
  g_object_set (e, "builtin-tools", "calculator", NULL);
  fail_unless (gst_element_set_state (e, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_object_unref (e);
  gst_bidi_scripted_provider_reset_last ();
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Conversation memory
 * ------------------------------------------------------------------------ */

#define TWO_MESSAGES "[{\"role\": \"user\", \"content\": [{\"text\": " \
    "\"hi\"}]}, {\"role\": \"assistant\", \"content\": [{\"text\": " \
    "\"hello\"}]}]"

static void
play_transcript (Session * s, const gchar * role, const gchar * text)
{
  gst_bidi_scripted_provider_play (s->provider,
      gst_bidi_event_new_transcript (role, text, TRUE, text));
}

/* Waits until the history property has @n messages; returns them */
static GPtrArray *
wait_history (Session * s, guint n)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  GPtrArray *h = NULL;

  do {
    gchar *json = NULL;

    if (h)
      g_ptr_array_unref (h);
    g_object_get (s->agent, "history", &json, NULL);
    h = gst_bidi_history_parse (json, NULL);
    fail_unless (h != NULL, "history is not valid: %s", json);
    g_free (json);
    if (h->len >= n)
      return h;
    g_usleep (10 * 1000);
  } while (g_get_monotonic_time () < end);
  fail ("history has %u messages, not %u", h->len, n);
  return h;
}

static void
check_text (GPtrArray * h, guint i, gboolean assistant, const gchar * text)
{
  GstBidiMessage *m = g_ptr_array_index (h, i);
  gchar *t = gst_bidi_message_text (m);

  fail_unless_equals_int (m->assistant, assistant);
  fail_unless_equals_string (t, text);
  g_free (t);
}

static const GstBidiBlock *
first_block (GPtrArray * h, guint i)
{
  GstBidiMessage *m = g_ptr_array_index (h, i);

  fail_unless (m->blocks->len > 0);
  return g_ptr_array_index (m->blocks, 0);
}

/* messages is given to the provider; final transcripts, typed text and
 * tool pairs are added, in the order of the conversation */
GST_START_TEST (test_history_conversation)
{
  Session s;
  GstStructure *call;
  GPtrArray *h;
  gboolean ret;

  session_start_set (&s, NULL, "messages", TWO_MESSAGES, NULL);
  gst_structure_free (session_wait (&s, "bidi_connection_start"));
  call = gst_bidi_scripted_provider_get_call (s.provider, "start", 0);
  h = gst_bidi_history_parse (gst_structure_get_string (call,
          "history-json"), NULL);
  fail_unless (h != NULL && h->len == 2);
  g_ptr_array_unref (h);
  gst_structure_free (call);

  play_transcript (&s, "user", "what is two and two");
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_response_start ("r1"));
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("t1", "calculator",
          "{\"expression\": \"2 + 2\"}"));
  fail_unless (gst_bidi_scripted_provider_wait_call (s.provider,
          "send-tool-result", 1, WAIT_MS));
  /* partial transcripts are not history */
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_transcript ("assistant", "It is", FALSE, "It is"));
  play_transcript (&s, "assistant", "It is four.");
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_response_complete ("r1", "complete"));
  g_signal_emit_by_name (s.agent, "send-text", "thanks", &ret);
  fail_unless (ret);

  h = wait_history (&s, 7);
  fail_unless_equals_int (h->len, 7);
  check_text (h, 0, FALSE, "hi");
  check_text (h, 1, TRUE, "hello");
  check_text (h, 2, FALSE, "what is two and two");
  fail_unless_equals_int (first_block (h, 3)->type, GST_BIDI_BLOCK_TOOL_USE);
  fail_unless_equals_string (first_block (h, 3)->name, "calculator");
  fail_unless_equals_string (first_block (h, 3)->input,
      "{\"expression\":\"2 + 2\"}");
  fail_unless_equals_int (first_block (h, 4)->type,
      GST_BIDI_BLOCK_TOOL_RESULT);
  fail_unless_equals_string (first_block (h, 4)->tool_use_id, "t1");
  fail_unless (strstr (first_block (h, 4)->content, "4") != NULL);
  check_text (h, 5, TRUE, "It is four.");
  check_text (h, 6, FALSE, "thanks");
  g_ptr_array_unref (h);
  session_stop (&s);

  /* a bad messages property: a clear error at start */
  gst_object_unref (start_fails ("History message 0", "messages",
          "[{\"role\": \"robot\", \"content\": []}]", NULL));
  gst_bidi_scripted_provider_reset_last ();
}

GST_END_TEST;

/* An answer interrupted while it plays is kept only as far as it was
 * heard */
GST_START_TEST (test_history_interrupted_answer)
{
  const gchar *answer = "one two three four five six seven eight nine ten";
  Session s;
  GstStructure *st;
  GPtrArray *h;
  gboolean ret;
  guint64 played_ms = 0;
  gchar *heard, *t;

  session_start (&s, NULL);
  gst_structure_free (session_wait (&s, "bidi_connection_start"));
  play_transcript (&s, "user", "count to ten");
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_response_start ("r1"));
  gst_bidi_scripted_provider_play (s.provider,
      gst_structure_new (GST_BIDI_EVENT_AUDIO_STREAM, "duration-ms",
          G_TYPE_INT, 2000, NULL));
  play_transcript (&s, "assistant", answer);
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_response_complete ("r1", "complete"));
  /* the whole answer arrived; the user cuts in after ~0.8 s of it */
  g_usleep (800 * 1000);
  g_signal_emit_by_name (s.agent, "interrupt", &ret);
  fail_unless (ret);
  st = session_wait (&s, "bidi_interruption");
  fail_unless (st != NULL);
  fail_unless (gst_structure_get_uint64 (st, "played_ms", &played_ms));
  gst_structure_free (st);
  fail_unless (played_ms > 200 && played_ms < 1800, "played %"
      G_GUINT64_FORMAT " ms", played_ms);
  play_transcript (&s, "user", "stop");

  h = wait_history (&s, 3);
  fail_unless_equals_int (h->len, 3);
  heard = gst_bidi_heard_text (answer, played_ms, 2000);
  t = gst_bidi_message_text (g_ptr_array_index (h, 1));
  fail_unless_equals_string (t, heard);
  fail_unless (strlen (t) > 0 && strlen (t) < strlen (answer), "kept \"%s\"",
      t);
  g_free (t);
  g_free (heard);
  check_text (h, 2, FALSE, "stop");
  g_ptr_array_unref (h);
  session_stop (&s);
}

GST_END_TEST;

/* session-file: the conversation goes to the file as it happens; a new
 * pipeline on the file continues it; two at once are refused */
GST_START_TEST (test_history_session_file)
{
  gchar *dir = g_dir_make_tmp ("bidihistory-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "session.jsonl", NULL);
  gchar *contents = NULL, **lines;
  Session s, s2;
  GstStructure *call, *st;
  GPtrArray *h;

  session_start_set (&s, NULL, "session-file", path, NULL);
  gst_structure_free (session_wait (&s, "bidi_connection_start"));
  play_transcript (&s, "user", "remember the number seven");
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_response_start ("r1"));
  play_transcript (&s, "assistant", "I will.");
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_response_complete ("r1", "complete"));
  play_transcript (&s, "user", "goodbye for now");
  g_ptr_array_unref (wait_history (&s, 3));

  /* on disk already, one message per line */
  fail_unless (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (g_strstrip (contents), "\n", -1);
  fail_unless_equals_int (g_strv_length (lines), 3);
  fail_unless (strstr (lines[0], "remember the number seven") != NULL);
  g_strfreev (lines);
  g_free (contents);

  /* a second pipeline on the same file */
  {
    gchar *desc = g_strdup_printf ("audiotestsrc is-live=true ! bidiagent "
        "name=agent provider=scripted session-file=\"%s\" ! fakesink", path);
    GstElement *pipe = gst_parse_launch (desc, NULL);
    GstBus *bus = gst_element_get_bus (pipe);
    GstMessage *msg;
    GError *err = NULL;

    leftover_watch (pipe);

    fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_PLAYING),
        GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (msg != NULL);
    gst_message_parse_error (msg, &err, NULL);
    fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_BUSY), "%s", err->message);
    fail_unless (strstr (err->message, "session.jsonl") != NULL, "%s",
        err->message);
    g_error_free (err);
    gst_message_unref (msg);
    gst_element_set_state (pipe, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (pipe);
    g_free (desc);
  }
  session_stop (&s);

  /* the next run continues the conversation */
  session_start_set (&s2, NULL, "session-file", path, NULL);
  st = session_wait (&s2, "bidi_connection_start");
  gst_structure_free (st);
  call = gst_bidi_scripted_provider_get_call (s2.provider, "start", 0);
  h = gst_bidi_history_parse (gst_structure_get_string (call,
          "history-json"), NULL);
  fail_unless (h != NULL);
  fail_unless_equals_int (h->len, 3);
  check_text (h, 0, FALSE, "remember the number seven");
  check_text (h, 1, TRUE, "I will.");
  check_text (h, 2, FALSE, "goodbye for now");
  g_ptr_array_unref (h);
  gst_structure_free (call);
  session_stop (&s2);

  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

/* 100,000 levels of nesting in 200 KB: the tools property, a built-in
 * tool's input and an application's tool result are refused or taken as
 * text, never parsed into a stack overflow */
static gchar *
deep_json (guint levels)
{
  GString *s = g_string_sized_new (2 * levels);
  guint i;

  for (i = 0; i < levels; i++)
    g_string_append_c (s, '[');
  for (i = 0; i < levels; i++)
    g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

GST_START_TEST (test_deep_json)
{
  gchar *deep = deep_json (100000), *json = NULL, **names = NULL, *result;
  gchar *deep_object = g_strconcat ("{\"expression\": ", deep, "}", NULL);
  const gchar *builtins[] = { "calculator", NULL }, *sent;
  ToolCalls tc = { 0, };
  GstStructure *call;
  GError *err = NULL;
  gboolean ret;
  Session s;

  g_mutex_init (&tc.lock);
  g_cond_init (&tc.cond);
  tc.calls = g_ptr_array_new_with_free_func (g_free);

  fail_if (gst_bidi_tools_merge (builtins, deep, &json, &names, &err));
  fail_unless (err != NULL);
  fail_unless (strstr (err->message, "nested too deeply") != NULL, "%s",
      err->message);
  g_clear_error (&err);

  fail_if (gst_bidi_builtin_tool_run ("calculator", deep_object, &result));
  fail_unless (strstr (result, "\"error\"") != NULL, "%s", result);
  g_free (result);

  session_start_with_tools (&s, NULL, WEATHER_TOOL);
  g_signal_connect (s.agent, "tool-call", G_CALLBACK (on_tool_call), &tc);
  gst_structure_free (session_wait (&s, "bidi_connection_start"));
  gst_bidi_scripted_provider_play (s.provider,
      gst_bidi_event_new_tool_use ("w1", "get_weather", "{}"));
  wait_tool_calls (&tc, 1);
  g_signal_emit_by_name (s.agent, "send-tool-result", "w1", deep, "success",
      &ret);
  fail_unless (ret);
  fail_unless (gst_bidi_scripted_provider_wait_call (s.provider,
          "send-tool-result", 1, WAIT_MS));
  call = gst_bidi_scripted_provider_get_call (s.provider, "send-tool-result",
      0);
  /* not JSON that can be taken: passed on as text, a JSON string */
  sent = gst_structure_get_string (call, "json");
  fail_unless (g_str_has_prefix (sent, "\"[[["), "%.20s", sent);
  fail_unless_equals_int (strlen (sent), strlen (deep) + 2);
  gst_structure_free (call);
  session_stop (&s);

  g_ptr_array_unref (tc.calls);
  g_mutex_clear (&tc.lock);
  g_cond_clear (&tc.cond);
  g_free (deep_object);
  g_free (deep);
}

GST_END_TEST;

/* The session file cannot be written (a full disk, the size limit): the
 * conversation goes on in memory, with one warning. RLIMIT_FSIZE makes
 * every write fail; no check assertion runs while it is set, since check
 * reports through a file of its own. */
GST_START_TEST (test_history_session_file_write_fails)
{
  gchar *dir = g_dir_make_tmp ("bidihistory-XXXXXX", NULL);
  gchar *path = g_build_filename (dir, "session.jsonl", NULL);
  struct rlimit old, limit;
  void (*old_handler) (int);
  GstMessage *msg, *second;
  GError *err = NULL;
  GPtrArray *h;
  Session s;
  gint64 end;

  session_start_set (&s, NULL, "session-file", path, NULL);
  gst_structure_free (session_wait (&s, "bidi_connection_start"));

  fail_unless (getrlimit (RLIMIT_FSIZE, &old) == 0);
  limit = old;
  limit.rlim_cur = 0;
  old_handler = signal (SIGXFSZ, SIG_IGN);
  if (setrlimit (RLIMIT_FSIZE, &limit) == 0) {
    play_transcript (&s, "user", "remember the number seven");
    play_transcript (&s, "user", "and the number eight");
    /* both written (or not) once they are in the history */
    end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
    do {
      gchar *json = NULL;

      g_usleep (10 * 1000);
      g_object_get (s.agent, "history", &json, NULL);
      h = gst_bidi_history_parse (json, NULL);
      g_free (json);
      if (h && h->len >= 2) {
        g_ptr_array_unref (h);
        break;
      }
      if (h)
        g_ptr_array_unref (h);
    } while (g_get_monotonic_time () < end);
    setrlimit (RLIMIT_FSIZE, &old);
  }
  signal (SIGXFSZ, old_handler);

  msg = gst_bus_timed_pop_filtered (s.bus, WAIT_MS * GST_MSECOND,
      GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning");
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (strstr (err->message, "session") != NULL, "%s", err->message);
  g_clear_error (&err);
  gst_message_unref (msg);
  /* one warning for both failed writes */
  second = gst_bus_pop_filtered (s.bus, GST_MESSAGE_WARNING);
  fail_unless (second == NULL, "a second warning");

  /* the conversation goes on: kept in memory, written again once it can */
  play_transcript (&s, "user", "goodbye for now");
  h = wait_history (&s, 3);
  check_text (h, 0, FALSE, "remember the number seven");
  check_text (h, 1, FALSE, "and the number eight");
  check_text (h, 2, FALSE, "goodbye for now");
  g_ptr_array_unref (h);
  session_stop (&s);

  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

GST_END_TEST;

static Suite *
biditools_suite (void)
{
  Suite *s = suite_create ("biditools");
  TCase *tc = tcase_create ("tools");
  TCase *tc_el = tcase_create ("element");

  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_calculator, 0,
      G_N_ELEMENTS (good_expressions));
  tcase_add_loop_test (tc, test_calculator_bad_input, 0,
      G_N_ELEMENTS (bad_inputs));
  tcase_add_test (tc, test_current_time);
  tcase_add_test (tc, test_error_result);
  tcase_add_test (tc, test_specs);
  tcase_add_test (tc, test_app_tools_merge);

  suite_add_tcase (s, tc_el);
  tcase_add_checked_fixture (tc_el, NULL, leftover_stop);
  tcase_add_test (tc_el, test_element_runs_builtin);
  tcase_add_test (tc_el, test_element_disabled_tool);
  tcase_add_test (tc_el, test_element_app_tool);
  tcase_add_test (tc_el, test_element_app_tool_refused_and_timeout);
  tcase_add_test (tc_el, test_element_bad_app_tools);
  tcase_add_test (tc_el, test_element_unknown_builtin);
  tcase_add_test (tc_el, test_element_stop_conversation);
  tcase_add_test (tc_el, test_element_stop_conversation_silent_provider);
  tcase_add_test (tc_el, test_history_conversation);
  tcase_add_test (tc_el, test_history_interrupted_answer);
  tcase_add_test (tc_el, test_history_session_file);
  tcase_add_test (tc_el, test_history_session_file_write_fails);
  tcase_add_test (tc_el, test_deep_json);
  return s;
}

GST_CHECK_MAIN (biditools);
