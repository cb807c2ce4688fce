/* gst-bidi: bidiagent with provider=openai, end to end against a mock
 * OpenAI Realtime server
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Each test runs a real pipeline whose bidiagent (provider=openai) talks to
 * the mock server of tests/check/common/mockrealtime.h on 127.0.0.1, with a
 * fake key that is only ever set with g_object_set (GStreamer's parser logs
 * the pipeline description). The mock checks every client event against
 * the GA protocol; the tests end by asserting it saw no breach. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>

#include <gst/bidi/gstbidievents.h>
#include <gst/bidi/gstbidiprovider.h>
#include "mockrealtime.h"
#include "testcert.h"
#include "buslog.h"
#include "secretwatch.h"
#include "leftover.h"
#include "session.h"
#include "testjson.h"

#define KEY "sk-test-0123456789abcdef"
#define KEY_TAIL "0123456789abcdef"

#define RATE 24000
#define BYTES_PER_MS (RATE * 2 / 1000)
#define MS_BYTES(ms) ((gsize) (ms) * BYTES_PER_MS)
/* the audio deltas the tests' scripts send */
#define CHUNK_MS 100

#define PCM_CAPS "audio/x-raw,format=S16LE,rate=24000,channels=1," \
    "layout=interleaved"

/* typed or scripted turns only: nothing on the agent's sink pad */
#define DESC_NO_INPUT \
  "bidiagent name=agent ! " PCM_CAPS " ! fakesink name=sink sync=false"
/* the test pushes the microphone audio */
#define DESC_APPSRC \
  "appsrc name=src is-live=false format=time block=true caps=" PCM_CAPS \
  " ! bidiagent name=agent ! " PCM_CAPS " ! fakesink name=sink sync=false"
/* a live microphone and a sink that plays in real time */
#define DESC_LIVE \
  "audiotestsrc is-live=true wave=silence samplesperbuffer=480 ! " \
  PCM_CAPS " ! bidiagent name=agent ! " PCM_CAPS \
  " ! fakesink name=sink sync=true signal-handoffs=true"

/* valgrind makes everything much slower: the waits scale with this */
static guint slow = 1;
#define WAIT_MS (10000 * slow)
/* answers long enough that a barge-in under valgrind still comes while
 * they play (it takes the element and the mock seconds there) */
#define LONG_MS (slow > 1 ? 9000 : 3000)
#define MEDIUM_MS (slow > 1 ? 6000 : 2000)

/* The monotonic time @ms from now */
static gint64
deadline (guint ms)
{
  return g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
}

/* ------------------------------------------------------------------------
 * Fixtures
 * ------------------------------------------------------------------------ */

/* @ms of S16LE 24 kHz mono, never silent, different for each @seed */
static GBytes *
make_pcm (guint ms, guint seed)
{
  return session_make_pcm (MS_BYTES (ms), seed);
}

/* ------------------------------------------------------------------------
 * The mock
 * ------------------------------------------------------------------------ */

static void
assert_mock_clean (MockRealtime * mock)
{
  assert_mock_clean_lists (mock_realtime_get_violations (mock),
      mock_realtime_get_failures (mock));
}

/* Client event @type number @index of @conn, parsed (json_node_unref) */
static JsonNode *
mock_event (MockRealtime * mock, guint conn, const gchar * type, guint index)
{
  return parse_waited (mock_realtime_wait_event (mock, conn, type, index,
          WAIT_MS), type, index, conn);
}

/* The type of frame @i of @conn (g_free), NULL if not a JSON event */
static gchar *
frame_type (MockRealtime * mock, guint conn, guint i)
{
  gchar *text = mock_realtime_get_frame (mock, conn, i);
  JsonNode *node = text ? json_from_string (text, NULL) : NULL;
  gchar *type = NULL;

  if (node && JSON_NODE_HOLDS_OBJECT (node))
    type = g_strdup (jstr (json_node_get_object (node), "type"));
  if (node)
    json_node_unref (node);
  g_free (text);
  return type;
}

/* Which frame of @conn is the client event @type number @nth; -1 if none */
static gint
frame_index (MockRealtime * mock, guint conn, const gchar * type, guint nth)
{
  guint i, n = mock_realtime_n_frames (mock, conn), seen = 0;

  for (i = 0; i < n; i++) {
    gchar *t = frame_type (mock, conn, i);
    gboolean match = g_strcmp0 (t, type) == 0;

    g_free (t);
    if (match && seen++ == nth)
      return i;
  }
  return -1;
}

static MockRealtimeScript *
script_session_created (MockRealtimeScript * sc, const gchar * session_id)
{
  if (!sc)
    sc = mock_realtime_script_new ();
  mock_realtime_script_send_printf (sc, "{\"type\":\"session.created\","
      "\"session\":{\"type\":\"realtime\",\"object\":\"realtime.session\","
      "\"id\":\"%s\",\"model\":\"gpt-realtime-2\","
      "\"output_modalities\":[\"audio\"]}}", session_id);
  mock_realtime_script_wait (sc, "session.update", 1, WAIT_MS);
  return sc;
}

/* session.created, wait for session.update, session.updated */
static MockRealtimeScript *
script_setup (const gchar * session_id)
{
  MockRealtimeScript *sc = script_session_created (NULL, session_id);

  mock_realtime_script_send_session_updated (sc);
  return sc;
}

#define IDS(resp, item) \
  "\"response_id\":\"" resp "\",\"item_id\":\"" item "\"," \
  "\"output_index\":0,\"content_index\":0"

/* The start of a spoken answer: response.created, the assistant item, its
 * transcript in one delta, then @pcm in CHUNK_MS deltas (all at once, as
 * the server sends faster than real time). Its end is script_answer_end. */
static void
script_answer_start (MockRealtimeScript * sc, const gchar * resp,
    const gchar * item, const gchar * transcript, GBytes * pcm)
{
  mock_realtime_script_send_printf (sc, "{\"type\":\"response.created\","
      "\"response\":{\"id\":\"%s\",\"object\":\"realtime.response\","
      "\"status\":\"in_progress\",\"status_details\":null,\"output\":[],"
      "\"output_modalities\":[\"audio\"],\"usage\":null}}", resp);
  mock_realtime_script_send_printf (sc,
      "{\"type\":\"response.output_item.added\",\"response_id\":\"%s\","
      "\"output_index\":0,\"item\":{\"id\":\"%s\",\"object\":"
      "\"realtime.item\",\"type\":\"message\",\"role\":\"assistant\","
      "\"status\":\"in_progress\",\"content\":[]}}", resp, item);
  mock_realtime_script_send_printf (sc,
      "{\"type\":\"response.content_part.added\",\"response_id\":\"%s\","
      "\"item_id\":\"%s\",\"output_index\":0,\"content_index\":0,"
      "\"part\":{\"type\":\"audio\",\"transcript\":\"\"}}", resp, item);
  if (transcript)
    mock_realtime_script_send_printf (sc,
        "{\"type\":\"response.output_audio_transcript.delta\","
        "\"response_id\":\"%s\",\"item_id\":\"%s\",\"output_index\":0,"
        "\"content_index\":0,\"delta\":\"%s\"}", resp, item, transcript);
  if (pcm)
    mock_realtime_script_send_audio (sc, g_bytes_get_data (pcm, NULL),
        g_bytes_get_size (pcm), CHUNK_MS, FALSE, resp, item, 0, 0);
}

/* The end of an answer; @status "completed" or "cancelled" */
static void
script_answer_end (MockRealtimeScript * sc, const gchar * resp,
    const gchar * item, const gchar * transcript, const gchar * status)
{
  gboolean completed = strcmp (status, "completed") == 0;
  gchar *message;

  mock_realtime_script_send_printf (sc,
      "{\"type\":\"response.output_audio.done\",\"response_id\":\"%s\","
      "\"item_id\":\"%s\",\"output_index\":0,\"content_index\":0}", resp, item);
  mock_realtime_script_send_printf (sc,
      "{\"type\":\"response.output_audio_transcript.done\","
      "\"response_id\":\"%s\",\"item_id\":\"%s\",\"output_index\":0,"
      "\"content_index\":0,\"transcript\":\"%s\"}", resp, item,
      transcript ? transcript : "");
  message = g_strdup_printf ("{\"id\":\"%s\",\"object\":\"realtime.item\","
      "\"type\":\"message\",\"role\":\"assistant\",\"status\":\"%s\","
      "\"content\":[{\"type\":\"output_audio\",\"transcript\":\"%s\"}]}",
      item, completed ? "completed" : "incomplete",
      transcript ? transcript : "");
  mock_realtime_script_send_printf (sc,
      "{\"type\":\"response.output_item.done\",\"response_id\":\"%s\","
      "\"output_index\":0,\"item\":%s}", resp, message);
  mock_realtime_script_send_printf (sc, "{\"type\":\"response.done\","
      "\"response\":{\"id\":\"%s\",\"object\":\"realtime.response\","
      "\"status\":\"%s\",\"status_details\":%s,\"output\":[%s],"
      "\"usage\":{\"total_tokens\":30,\"input_tokens\":20,"
      "\"output_tokens\":10}}}", resp, status, completed ? "null" :
      "{\"type\":\"cancelled\",\"reason\":\"turn_detected\"}", message);
  g_free (message);
}

static void
script_answer (MockRealtimeScript * sc, const gchar * resp,
    const gchar * item, const gchar * transcript, GBytes * pcm)
{
  script_answer_start (sc, resp, item, transcript, pcm);
  script_answer_end (sc, resp, item, transcript, "completed");
}

/* What the server's VAD sends when the user talks over an answer */
static void
script_speech_started (MockRealtimeScript * sc, const gchar * user_item)
{
  mock_realtime_script_send_printf (sc,
      "{\"type\":\"input_audio_buffer.speech_started\","
      "\"audio_start_ms\":4000,\"item_id\":\"%s\"}", user_item);
}

/* ------------------------------------------------------------------------
 * Sessions: a pipeline and what it says on the bus and at its sink
 * ------------------------------------------------------------------------ */

/* A session (see session.h) whose agent talks to @mock (its url, and the
 * key when @with_key), recording the tool calls; not started. */
static Session *
openai_session (MockRealtime * mock, const gchar * desc, gboolean with_key)
{
  Session *s = session_create (desc, RATE, 2, WAIT_MS);

  g_object_set (s->agent, "provider", "openai", "url",
      mock_realtime_url (mock), NULL);
  if (with_key)
    g_object_set (s->agent, "api-key", KEY, NULL);
  session_take_tool_calls (s);
  return s;
}

/* A session with the key and these agent properties (as in
 * g_object_set), started (PLAYING) */
static Session *
openai_session_new (MockRealtime * mock, const gchar * desc,
    const gchar * first_property, ...)
{
  Session *s = openai_session (mock, desc, TRUE);
  va_list args;

  va_start (args, first_property);
  if (first_property)
    g_object_set_valist (G_OBJECT (s->agent), first_property, args);
  va_end (args);
  session_start (s);
  return s;
}

/* ------------------------------------------------------------------------
 * 1. Setup: the upgrade request and session.update
 * ------------------------------------------------------------------------ */

/* Every function tool is in the GA flat form */
static void
assert_flat_tools (JsonObject * session, guint n_tools)
{
  static const gchar *const tool_fields[] = { "type", "name", "description",
    "parameters", NULL
  };
  JsonNode *node = jget (session, "tools");
  JsonArray *tools;
  guint i;

  fail_unless (node && JSON_NODE_HOLDS_ARRAY (node), "no tools");
  tools = json_node_get_array (node);
  fail_unless_equals_int (json_array_get_length (tools), n_tools);
  for (i = 0; i < n_tools; i++) {
    JsonObject *t = json_array_get_object_element (tools, i);
    GList *members = json_object_get_members (t), *l;

    fail_unless_equals_string (jstr (t, "type"), "function");
    fail_unless (jstr (t, "name") != NULL);
    fail_unless (jhas (t, "parameters") &&
        JSON_NODE_HOLDS_OBJECT (jget (t, "parameters")));
    for (l = members; l; l = l->next)
      fail_unless (g_strv_contains (tool_fields, l->data),
          "tool %s has a member %s", jstr (t, "name"), (gchar *) l->data);
    g_list_free (members);
  }
}

static JsonObject *
find_tool (JsonObject * session, const gchar * name)
{
  JsonArray *tools = json_node_get_array (jget (session, "tools"));
  guint i;

  for (i = 0; i < json_array_get_length (tools); i++) {
    JsonObject *t = json_array_get_object_element (tools, i);

    if (g_strcmp0 (jstr (t, "name"), name) == 0)
      return t;
  }
  return NULL;
}

/* The session.update of connection @conn, its first frame
 * (json_node_unref) */
static JsonNode *
first_session_update (MockRealtime * mock, guint conn)
{
  JsonNode *ev = mock_event (mock, conn, "session.update", 0);
  gchar *type = frame_type (mock, conn, 0);

  fail_unless_equals_string (type, "session.update");
  g_free (type);
  fail_unless (jobj (json_node_get_object (ev), "session") != NULL);
  return ev;
}

GST_START_TEST (test_setup_request_defaults)
{
  MockRealtime *mock = mock_realtime_new ();
  GstStructure *pc;
  Session *s;
  JsonNode *ev;
  JsonObject *session;
  gchar *str;

  /* the defaults, with organization and project headers */
  pc = gst_structure_new ("config", "organization", G_TYPE_STRING,
      "org-test123", "project", G_TYPE_STRING, "proj_test456", NULL);
  s = openai_session_new (mock, DESC_NO_INPUT, "provider-config", pc, NULL);
  gst_structure_free (pc);
  ev = first_session_update (mock, 0);
  session = jobj (json_node_get_object (ev), "session");

  str = mock_realtime_get_path (mock, 0);
  fail_unless_equals_string (str, "/v1/realtime?model=gpt-realtime-2");
  g_free (str);
  str = mock_realtime_get_query_param (mock, 0, "model");
  fail_unless_equals_string (str, "gpt-realtime-2");
  g_free (str);
  str = mock_realtime_get_header (mock, 0, "Authorization");
  fail_unless_equals_string (str, "Bearer " KEY);
  g_free (str);
  str = mock_realtime_get_header (mock, 0, "OpenAI-Beta");
  fail_unless (str == NULL, "OpenAI-Beta: %s", str);
  str = mock_realtime_get_header (mock, 0, "OpenAI-Organization");
  fail_unless_equals_string (str, "org-test123");
  g_free (str);
  str = mock_realtime_get_header (mock, 0, "OpenAI-Project");
  fail_unless_equals_string (str, "proj_test456");
  g_free (str);

  /* the session */
  fail_unless_equals_string (jstr (session, "type"), "realtime");
  fail_if (jhas (session, "instructions"));
  str = jstrings (session, "output_modalities");
  fail_unless_equals_string (str, "audio");
  g_free (str);
  fail_if (jhas (session, "max_output_tokens"));
  fail_if (jhas (session, "reasoning"));
  fail_unless_equals_string (jstr (session, "audio.input.format.type"),
      "audio/pcm");
  fail_unless_equals_int (jint (session, "audio.input.format.rate"), 24000);
  fail_unless_equals_string (jstr (session, "audio.output.format.type"),
      "audio/pcm");
  fail_unless_equals_int (jint (session, "audio.output.format.rate"), 24000);
  fail_unless_equals_string (jstr (session, "audio.output.voice"), "alloy");
  fail_if (jhas (session, "audio.output.speed"));
  fail_unless_equals_string (jstr (session,
          "audio.input.transcription.model"), "gpt-4o-transcribe");
  fail_if (jhas (session, "audio.input.noise_reduction"));
  fail_unless_equals_string (jstr (session,
          "audio.input.turn_detection.type"), "server_vad");
  fail_unless (G_APPROX_VALUE (jdouble (session,
              "audio.input.turn_detection.threshold"), 0.5, 1e-9));
  fail_unless_equals_int (jint (session,
          "audio.input.turn_detection.prefix_padding_ms"), 300);
  fail_unless_equals_int (jint (session,
          "audio.input.turn_detection.silence_duration_ms"), 500);
  fail_if (jhas (session, "audio.input.turn_detection.idle_timeout_ms"));
  fail_unless (jbool (session, "audio.input.turn_detection.create_response"));
  fail_unless (jbool (session,
          "audio.input.turn_detection.interrupt_response"));
  /* the element's built-in tools: by default ("auto") stop_conversation
   * only, for a cloud model */
  assert_flat_tools (session, 1);
  fail_unless (find_tool (session, "stop_conversation") != NULL);
  fail_unless_equals_string (jstr (session, "tool_choice"), "auto");
  json_node_unref (ev);

  /* nothing else was sent: no session.updated came */
  fail_unless_equals_int (mock_realtime_n_frames (mock, 0), 1);
  session_free (s);

  /* the element's model, and no extra headers */
  s = openai_session_new (mock, DESC_NO_INPUT, "model",
      "gpt-realtime-2025-08-28", "builtin-tools", "", NULL);
  ev = first_session_update (mock, 1);
  str = mock_realtime_get_path (mock, 1);
  fail_unless_equals_string (str, "/v1/realtime?model=gpt-realtime-2025-08-28");
  g_free (str);
  str = mock_realtime_get_query_param (mock, 1, "model");
  fail_unless_equals_string (str, "gpt-realtime-2025-08-28");
  g_free (str);
  str = mock_realtime_get_header (mock, 1, "Authorization");
  fail_unless_equals_string (str, "Bearer " KEY);
  g_free (str);
  str = mock_realtime_get_header (mock, 1, "OpenAI-Organization");
  fail_unless (str == NULL, "OpenAI-Organization: %s", str);
  str = mock_realtime_get_header (mock, 1, "OpenAI-Project");
  fail_unless (str == NULL, "OpenAI-Project: %s", str);
  /* no tools at all: no tools member */
  session = jobj (json_node_get_object (ev), "session");
  fail_if (jhas (session, "tools"));
  fail_if (jhas (session, "tool_choice"));
  json_node_unref (ev);
  session_free (s);

  assert_mock_clean (mock);
  mock_realtime_free (mock);
}

GST_END_TEST;

static const gchar app_tools[] =
    "[{\"name\": \"get_weather\", \"description\": \"Current weather in a "
    "city\", \"parameters\": {\"type\": \"object\", \"properties\": "
    "{\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}, "
    "{\"name\": \"lookup_order\", \"description\": \"Finds an order\", "
    "\"inputSchema\": {\"json\": {\"type\": \"object\", \"properties\": "
    "{\"order_id\": {\"type\": \"integer\"}}}}}]";

GST_START_TEST (test_setup_session_fields)
{
  MockRealtime *mock = mock_realtime_new ();
  GstStructure *pc;
  Session *s;
  JsonNode *ev, *expect;
  JsonObject *session, *tool;
  gchar *str;

  pc = gst_structure_new ("config",
      "turn-detection", G_TYPE_STRING, "server_vad",
      "vad-threshold", G_TYPE_DOUBLE, 0.7,
      "prefix-padding-ms", G_TYPE_INT, 250,
      "silence-duration-ms", G_TYPE_INT, 800,
      "idle-timeout-ms", G_TYPE_INT, 6000,
      "create-response", G_TYPE_BOOLEAN, FALSE,
      "interrupt-response", G_TYPE_BOOLEAN, FALSE,
      "transcription-model", G_TYPE_STRING, "whisper-1",
      "transcription-language", G_TYPE_STRING, "fr",
      "transcription-prompt", G_TYPE_STRING, "Names: Zoë, Aurélien",
      "noise-reduction", G_TYPE_STRING, "near_field",
      "output-modalities", G_TYPE_STRING, "audio",
      "max-output-tokens", G_TYPE_INT, 512,
      "speed", G_TYPE_DOUBLE, 1.25,
      "tool-choice", G_TYPE_STRING, "required", NULL);
  s = openai_session_new (mock, DESC_NO_INPUT, "provider-config", pc,
      "system-prompt", "You are a test assistant. Answer in one sentence.",
      "voice", "coral", "builtin-tools", "calculator", "tools", app_tools,
      NULL);
  gst_structure_free (pc);
  ev = first_session_update (mock, 0);
  session = jobj (json_node_get_object (ev), "session");

  fail_unless_equals_string (jstr (session, "type"), "realtime");
  fail_unless_equals_string (jstr (session, "instructions"),
      "You are a test assistant. Answer in one sentence.");
  fail_unless_equals_string (jstr (session, "audio.output.voice"), "coral");
  fail_unless (G_APPROX_VALUE (jdouble (session, "audio.output.speed"), 1.25,
          1e-9));
  fail_unless_equals_int (jint (session, "audio.input.format.rate"), 24000);
  fail_unless_equals_int (jint (session, "audio.output.format.rate"), 24000);
  str = jstrings (session, "output_modalities");
  fail_unless_equals_string (str, "audio");
  g_free (str);
  fail_unless_equals_int (jint (session, "max_output_tokens"), 512);

  fail_unless_equals_string (jstr (session,
          "audio.input.transcription.model"), "whisper-1");
  fail_unless_equals_string (jstr (session,
          "audio.input.transcription.language"), "fr");
  fail_unless_equals_string (jstr (session,
          "audio.input.transcription.prompt"), "Names: Zoë, Aurélien");
  fail_unless_equals_string (jstr (session,
          "audio.input.noise_reduction.type"), "near_field");

  fail_unless_equals_string (jstr (session,
          "audio.input.turn_detection.type"), "server_vad");
  fail_unless (G_APPROX_VALUE (jdouble (session,
              "audio.input.turn_detection.threshold"), 0.7, 1e-9));
  fail_unless_equals_int (jint (session,
          "audio.input.turn_detection.prefix_padding_ms"), 250);
  fail_unless_equals_int (jint (session,
          "audio.input.turn_detection.silence_duration_ms"), 800);
  fail_unless_equals_int (jint (session,
          "audio.input.turn_detection.idle_timeout_ms"), 6000);
  fail_if (jbool (session, "audio.input.turn_detection.create_response"));
  fail_if (jbool (session, "audio.input.turn_detection.interrupt_response"));
  fail_if (jhas (session, "audio.input.turn_detection.eagerness"));

  /* the built-in calculator and the application's two tools */
  assert_flat_tools (session, 3);
  fail_unless_equals_string (jstr (session, "tool_choice"), "required");
  fail_unless (find_tool (session, "calculator") != NULL);
  fail_if (find_tool (session, "current_time") != NULL);
  tool = find_tool (session, "get_weather");
  fail_unless (tool != NULL);
  fail_unless_equals_string (jstr (tool, "description"),
      "Current weather in a city");
  expect = parse_json ("{\"type\": \"object\", \"properties\": {\"city\": "
      "{\"type\": \"string\"}}, \"required\": [\"city\"]}");
  fail_unless (json_node_equal (expect, jget (tool, "parameters")),
      "get_weather parameters differ");
  json_node_unref (expect);
  /* Strands' inputSchema {json: ...} is unwrapped */
  tool = find_tool (session, "lookup_order");
  fail_unless (tool != NULL);
  expect = parse_json ("{\"type\": \"object\", \"properties\": "
      "{\"order_id\": {\"type\": \"integer\"}}}");
  fail_unless (json_node_equal (expect, jget (tool, "parameters")),
      "lookup_order parameters differ");
  json_node_unref (expect);
  json_node_unref (ev);

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
}

GST_END_TEST;

GST_START_TEST (test_setup_turn_detection)
{
  MockRealtime *mock = mock_realtime_new ();
  GstStructure *pc;
  Session *s;
  JsonNode *ev;
  JsonObject *session, *td;
  gchar *str;

  /* semantic VAD */
  pc = gst_structure_new ("config", "turn-detection", G_TYPE_STRING,
      "semantic_vad", "eagerness", G_TYPE_STRING, "high", "noise-reduction",
      G_TYPE_STRING, "far_field", NULL);
  s = openai_session_new (mock, DESC_NO_INPUT, "provider-config", pc, NULL);
  gst_structure_free (pc);
  ev = first_session_update (mock, 0);
  session = jobj (json_node_get_object (ev), "session");
  td = jobj (session, "audio.input.turn_detection");
  fail_unless_equals_string (jstr (td, "type"), "semantic_vad");
  fail_unless_equals_string (jstr (td, "eagerness"), "high");
  fail_unless (jbool (td, "create_response"));
  fail_unless (jbool (td, "interrupt_response"));
  fail_if (jhas (td, "threshold"));
  fail_if (jhas (td, "silence_duration_ms"));
  fail_if (jhas (td, "prefix_padding_ms"));
  fail_unless_equals_string (jstr (session,
          "audio.input.noise_reduction.type"), "far_field");
  json_node_unref (ev);
  session_free (s);

  /* push-to-talk, no transcription, noise reduction explicitly off, text
   * answers, a custom voice */
  pc = gst_structure_new ("config", "turn-detection", G_TYPE_STRING, "none",
      "transcription-model", G_TYPE_STRING, "none", "noise-reduction",
      G_TYPE_STRING, "none", "output-modalities", G_TYPE_STRING, "text", NULL);
  s = openai_session_new (mock, DESC_NO_INPUT, "provider-config", pc, "voice",
      "voice_1234abcd", NULL);
  gst_structure_free (pc);
  ev = first_session_update (mock, 1);
  session = jobj (json_node_get_object (ev), "session");
  fail_unless (jnull (session, "audio.input.turn_detection"));
  fail_unless (jnull (session, "audio.input.transcription"));
  fail_unless (jnull (session, "audio.input.noise_reduction"));
  str = jstrings (session, "output_modalities");
  fail_unless_equals_string (str, "text");
  g_free (str);
  fail_unless_equals_string (jstr (session, "audio.output.voice.id"),
      "voice_1234abcd");
  json_node_unref (ev);
  session_free (s);

  assert_mock_clean (mock);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* No audio before session.updated; what was said meanwhile comes after it,
 * whole and in order */
GST_START_TEST (test_setup_audio_waits)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *before = make_pcm (400, 1), *after = make_pcm (200, 2), *got;
  MockRealtimeScript *sc;
  Session *s;
  gint64 end;
  gsize n;
  guint i, n_frames;

  mock_realtime_push_script (mock, script_session_created (NULL, "sess_a"));
  s = openai_session_new (mock, DESC_APPSRC, NULL);
  json_node_unref (mock_event (mock, 0, "session.update", 0));

  /* the user speaks while the session is being configured: the audio is
   * held (in 40 ms chunks) */
  session_push_bytes (s, before, 20);
  end = deadline (WAIT_MS);
  while (session_stat (s, "input-queued-ms") < 400 &&
      g_get_monotonic_time () < end)
    g_usleep (5000);
  fail_unless_equals_uint64 (session_stat (s, "input-queued-ms"), 400);
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "input_audio_buffer.append"), 0);
  fail_unless_equals_int (mock_realtime_n_frames (mock, 0), 1);
  fail_unless_equals_int (session_count (s, "bidi_connection_start", NULL,
          NULL), 0);

  /* configured: the held audio goes, then the rest */
  sc = mock_realtime_script_new ();
  mock_realtime_script_send_session_updated (sc);
  mock_realtime_run (mock, 0, sc);
  session_wait_connected (s);
  session_push_bytes (s, after, 20);
  fail_unless (mock_realtime_wait_audio_bytes (mock, 0, MS_BYTES (600),
          WAIT_MS));

  got = mock_realtime_get_audio (mock, 0);
  n = g_bytes_get_size (got);
  fail_unless_equals_uint64 (n, MS_BYTES (600));
  fail_unless (memcmp (g_bytes_get_data (got, NULL),
          g_bytes_get_data (before, NULL), MS_BYTES (400)) == 0,
      "the audio held during the setup differs");
  fail_unless (memcmp ((const guint8 *) g_bytes_get_data (got, NULL) +
          MS_BYTES (400), g_bytes_get_data (after, NULL),
          MS_BYTES (200)) == 0, "the audio after the setup differs");
  g_bytes_unref (got);

  /* session.update, then audio only */
  n_frames = mock_realtime_n_frames (mock, 0);
  for (i = 0; i < n_frames; i++) {
    gchar *type = frame_type (mock, 0, i);

    fail_unless_equals_string (type, i == 0 ? "session.update" :
        "input_audio_buffer.append");
    g_free (type);
  }

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (before);
  g_bytes_unref (after);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 2. A spoken turn: the golden exchange
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_golden_turn)
{
  MockRealtime *mock = mock_realtime_new ();
  /* 13 deltas of 100 ms, the last one half */
  GBytes *pcm = make_pcm (1250, 3), *question = make_pcm (300, 4);
  MockRealtimeScript *sc = mock_realtime_script_new ();
  const GstStructure *st, *d;
  gint i_conn, i_start, i_done, i_usage, i_final;
  gchar *text;
  Session *s;
  GstAudioInfo info;
  GstCaps *caps;
  GstFlowReturn ret;
  GBytes *sent;
  guint n_flush;
  gsize i;
  gint cached = -1, i_close;

  mock_realtime_script_add_golden (sc, g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm));
  mock_realtime_push_script (mock, sc);
  s = openai_session_new (mock, DESC_APPSRC, "system-prompt",
      "Tell stories.", NULL);
  i_conn = session_wait_connected (s);
  st = session_msg (s, i_conn);
  fail_unless_equals_string (gst_structure_get_string (st, "model"),
      "gpt-realtime-2");
  fail_unless (gst_structure_get_string (st, "connection_id") != NULL);

  /* the user asks */
  session_push_bytes (s, question, 20);
  i_done = session_wait (s, i_conn, "bidi_response_complete", NULL, NULL,
      WAIT_MS);
  fail_unless (i_done > i_conn, "the answer did not complete");
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_done), "response_id"), MOCK_REALTIME_GOLDEN_RESPONSE_ID);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_done), "stop_reason"), "complete");
  i_start = session_wait (s, i_conn, "bidi_response_start", NULL, NULL, 0);
  fail_unless (i_start > i_conn && i_start < i_done);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_start), "response_id"), MOCK_REALTIME_GOLDEN_RESPONSE_ID);

  /* the audio, byte for byte, in the format the server speaks */
  session_assert_answer_tail (s, 0, pcm);
  g_mutex_lock (&s->lock);
  caps = s->caps ? gst_caps_ref (s->caps) : NULL;
  g_mutex_unlock (&s->lock);
  fail_unless (caps != NULL);
  fail_unless (gst_audio_info_from_caps (&info, caps));
  gst_caps_unref (caps);
  fail_unless_equals_int (GST_AUDIO_INFO_FORMAT (&info),
      GST_AUDIO_FORMAT_S16LE);
  fail_unless_equals_int (GST_AUDIO_INFO_RATE (&info), 24000);
  fail_unless_equals_int (GST_AUDIO_INFO_CHANNELS (&info), 1);

  /* transcripts: the user's in two pieces, the assistant's word by word,
   * then the final ones */
  text = session_transcripts (s, "user");
  fail_unless_equals_string (text,
      "Tell me a|Tell me a|partial\n"
      " story.|Tell me a story.|partial\n"
      "Tell me a story.|Tell me a story.|final");
  g_free (text);
  text = session_transcripts (s, "assistant");
  fail_unless_equals_string (text,
      "Sure! |Sure! |partial\n"
      "Once |Sure! Once |partial\n"
      "upon |Sure! Once upon |partial\n"
      "a |Sure! Once upon a |partial\n"
      "time |Sure! Once upon a time |partial\n"
      "there |Sure! Once upon a time there |partial\n"
      "was |Sure! Once upon a time there was |partial\n"
      "a |Sure! Once upon a time there was a |partial\n"
      "fox.|" MOCK_REALTIME_GOLDEN_ASSISTANT_TRANSCRIPT "|partial\n"
      MOCK_REALTIME_GOLDEN_ASSISTANT_TRANSCRIPT "|"
      MOCK_REALTIME_GOLDEN_ASSISTANT_TRANSCRIPT "|final");
  g_free (text);
  i_final = session_wait (s, i_start, "bidi_transcript_stream", "is_final",
      "true", 0);
  fail_unless (i_final > i_start && i_final < i_done);

  /* the usage of response.done */
  i_usage = session_wait (s, i_start, "bidi_usage", NULL, NULL, 0);
  fail_unless (i_usage > i_start && i_usage < i_done);
  st = session_msg (s, i_usage);
  session_assert_tokens (st, "inputTokens", MOCK_REALTIME_GOLDEN_INPUT_TOKENS);
  session_assert_tokens (st, "outputTokens", MOCK_REALTIME_GOLDEN_OUTPUT_TOKENS);
  session_assert_tokens (st, "totalTokens", MOCK_REALTIME_GOLDEN_TOTAL_TOKENS);
  fail_unless (gst_structure_get_int (st, "cacheReadInputTokens", &cached));
  fail_unless_equals_int (cached, MOCK_REALTIME_GOLDEN_CACHED_TOKENS);
  d = session_find_modality (st, "text");
  fail_unless (d != NULL);
  session_assert_tokens (d, "input_tokens", MOCK_REALTIME_GOLDEN_INPUT_TEXT_TOKENS);
  session_assert_tokens (d, "output_tokens", MOCK_REALTIME_GOLDEN_OUTPUT_TEXT_TOKENS);
  d = session_find_modality (st, "audio");
  fail_unless (d != NULL);
  session_assert_tokens (d, "input_tokens", MOCK_REALTIME_GOLDEN_INPUT_AUDIO_TOKENS);
  session_assert_tokens (d, "output_tokens", MOCK_REALTIME_GOLDEN_OUTPUT_AUDIO_TOKENS);

  /* the server VAD's turn on the bus */
  session_assert_turn (s);

  /* speech_started came with nothing playing: no interruption */
  fail_unless_equals_int (session_count (s, "bidi_interruption", NULL, NULL),
      0);
  g_mutex_lock (&s->lock);
  n_flush = s->n_flush;
  g_mutex_unlock (&s->lock);
  fail_unless_equals_int (n_flush, 0);
  fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 0);
  fail_unless_equals_int (session_count (s, "warning", NULL, NULL), 0);

  fail_unless (mock_realtime_wait_script_done (mock, 0, WAIT_MS));

  /* the input ends: some silence lets the server's VAD end a turn in
   * progress, then the session is complete, the client says goodbye and
   * the src pad goes EOS */
  g_signal_emit_by_name (s->src, "end-of-stream", &ret);
  i_close = session_wait (s, i_done, "bidi_connection_close", "reason",
      "complete", WAIT_MS);
  fail_unless (i_close > i_done, "the session did not complete");
  fail_unless (session_wait (s, i_close, "eos", NULL, NULL, WAIT_MS) > i_close);
  fail_unless (mock_realtime_wait_closed (mock, 0, WAIT_MS));
  fail_unless_equals_int (mock_realtime_get_close_code (mock, 0), 1000);
  sent = mock_realtime_get_audio (mock, 0);
  fail_unless (g_bytes_get_size (sent) > g_bytes_get_size (question));
  fail_unless (memcmp (g_bytes_get_data (sent, NULL),
          g_bytes_get_data (question, NULL), g_bytes_get_size (question)) == 0);
  for (i = g_bytes_get_size (question); i < g_bytes_get_size (sent); i++)
    if (((const guint8 *) g_bytes_get_data (sent, NULL))[i] != 0)
      break;
  fail_unless (i == g_bytes_get_size (sent), "the end is not silence");
  g_bytes_unref (sent);

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
  g_bytes_unref (question);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 3. Barge-in
 * ------------------------------------------------------------------------ */

/* How far the element's played_ms and the time since the sink rendered
 * the answer's first buffer may differ: the latency (the element's 50 ms
 * and the source's 20 ms), one delta (a buffer at the sink) */
static guint
cut_tolerance_ms (void)
{
  return 50 + 20 + CHUNK_MS + (slow > 1 ? 500 : 0);
}

/* Waits until @ms of the current answer reached the sink (from @offset) */
static void
wait_played (Session * s, gsize offset, guint ms)
{
  fail_unless (session_wait_answer (s, offset + MS_BYTES (ms), WAIT_MS),
      "the answer does not play (%" G_GSIZE_FORMAT " bytes)",
      session_answer_len (s));
}

/* After an interruption at message @i_int: the sink was flushed, the
 * truncate of @conn number @nth cut @item at what was played, which is
 * what the sink's clock says too. Returns played_ms. */
static guint64
check_cut (Session * s, MockRealtime * mock, guint conn, guint nth,
    gint i_int, const gchar * resp, const gchar * item)
{
  const GstStructure *st = session_msg (s, i_int);
  guint64 played = 0;
  gint64 wall_ms, diff, rendered_us;
  guint n_flush;
  JsonNode *ev;
  JsonObject *tr;
  gint64 end = deadline (WAIT_MS);

  fail_unless_equals_string (gst_structure_get_string (st, "reason"),
      "user_speech");
  fail_unless_equals_string (gst_structure_get_string (st, "response_id"),
      resp);
  fail_unless (gst_structure_get_uint64 (st, "played_ms", &played));

  /* the sink heard FLUSH_START */
  g_mutex_lock (&s->lock);
  while (s->n_flush == 0 && g_cond_wait_until (&s->cond, &s->lock, end));
  n_flush = s->n_flush;
  rendered_us = s->first_render_us;
  wall_ms = (s->flush_us - s->first_render_us) / 1000;
  g_mutex_unlock (&s->lock);
  fail_unless (n_flush > 0, "no FLUSH_START at the sink");
  fail_unless (rendered_us > 0, "the sink rendered nothing");

  ev = mock_event (mock, conn, "conversation.item.truncate", nth);
  tr = json_node_get_object (ev);
  fail_unless_equals_string (jstr (tr, "item_id"), item);
  fail_unless_equals_int (jint (tr, "content_index"), 0);
  diff = jint (tr, "audio_end_ms") - (gint64) played;
  GST_INFO ("played %" G_GUINT64_FORMAT " ms, truncated at %" G_GINT64_FORMAT
      " ms, %" G_GINT64_FORMAT " ms by the wall clock", played,
      jint (tr, "audio_end_ms"), wall_ms);
  fail_unless (ABS (diff) <= 1, "truncated at %" G_GINT64_FORMAT " ms, "
      "but %" G_GUINT64_FORMAT " ms were played", jint (tr, "audio_end_ms"),
      played);
  diff = (gint64) played - wall_ms;
  fail_unless ((guint64) ABS (diff) <= cut_tolerance_ms (), "played %"
      G_GUINT64_FORMAT " ms, but the answer played for %" G_GINT64_FORMAT
      " ms", played, wall_ms);
  json_node_unref (ev);
  return played;
}

/* The server's VAD hears the user over an answer that is still coming:
 * the element flushes, the provider truncates what was not heard and
 * leaves the cancelling to the server (interrupt-response) */
/* The server VAD's moments are audio_start_ms and audio_end_ms of the
 * session's input: the user's state changes are dated there, not when the
 * events came in */
GST_START_TEST (test_vad_moments)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *q = make_pcm (1200, 21), *pcm = make_pcm (300, 22);
  MockRealtimeScript *sc = script_setup ("sess_vad");
  Session *s;
  gint i_speak, i_listen;
  guint64 t_speak = 0, t_listen = 0;
  gsize off;

  /* all the question is sent, and the pipeline runs for long enough that
   * no moment comes before its start */
  mock_realtime_script_wait (sc, "input_audio_buffer.append", 30, WAIT_MS);
  mock_realtime_script_sleep (sc, 1500);
  mock_realtime_script_send (sc, "{\"type\":"
      "\"input_audio_buffer.speech_started\",\"audio_start_ms\":100,"
      "\"item_id\":\"item_U1\"}");
  mock_realtime_script_send (sc, "{\"type\":"
      "\"input_audio_buffer.speech_stopped\",\"audio_end_ms\":700,"
      "\"item_id\":\"item_U1\"}");
  mock_realtime_script_send (sc, "{\"type\":\"input_audio_buffer.committed\","
      "\"item_id\":\"item_U1\",\"previous_item_id\":null}");
  script_answer (sc, "resp_1", "item_A1", "Hello.", pcm);
  mock_realtime_push_script (mock, sc);

  s = openai_session_new (mock, DESC_APPSRC, NULL);
  session_wait_connected (s);
  /* as a microphone gives it: the moments are dated by when their audio
   * came in, so the speech lasts as long as it took to come */
  for (off = 0; off < g_bytes_get_size (q); off += 20 * BYTES_PER_MS) {
    session_push (s, (const guint8 *) g_bytes_get_data (q, NULL) + off,
        20 * BYTES_PER_MS / 2, 20 * BYTES_PER_MS / 2);
    g_usleep (20 * G_TIME_SPAN_MILLISECOND);
  }
  fail_unless (session_wait (s, 0, "bidi_response_complete", NULL, NULL,
          WAIT_MS) >= 0);
  fail_unless (session_wait (s, 0, "bidi_turn_latency", NULL, NULL,
          WAIT_MS) >= 0);
  session_assert_turn (s);

  i_speak = session_wait (s, 0, "bidi_user_state", "state", "speaking", 0);
  i_listen = session_wait (s, 0, "bidi_user_state", "state", "listening", 0);
  fail_unless (gst_structure_get_uint64 (session_msg (s, i_speak),
          "running_time", &t_speak));
  fail_unless (gst_structure_get_uint64 (session_msg (s, i_listen),
          "running_time", &t_listen));
  /* 600 ms of speech, plus the time between the two events */
  fail_unless (t_listen >= t_speak + 590 * GST_MSECOND &&
      t_listen <= t_speak + 1500 * GST_MSECOND, "speech of %" GST_TIME_FORMAT,
      GST_TIME_ARGS (t_listen - t_speak));

  session_free (s);
  mock_realtime_free (mock);
  g_bytes_unref (q);
  g_bytes_unref (pcm);
}

GST_END_TEST;

GST_START_TEST (test_barge_in)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (LONG_MS, 5), *next = make_pcm (400, 6);
  MockRealtimeScript *sc = script_setup ("sess_b");
  Session *s;
  gint i_int, i_done;
  guint64 played;
  gsize heard, at_flush;

  mock_realtime_script_wait (sc, "input_audio_buffer.append", 1, WAIT_MS);
  script_answer_start (sc, "resp_B", "item_B", "One two three four five "
      "six seven eight nine ten.", pcm);
  mock_realtime_push_script (mock, sc);
  s = openai_session_new (mock, DESC_LIVE, NULL);
  session_wait_connected (s);

  /* a second of it plays, then the user talks */
  wait_played (s, 0, 1000);
  sc = mock_realtime_script_new ();
  script_speech_started (sc, "item_U2");
  mock_realtime_run (mock, 0, sc);

  i_int = session_wait (s, 0, "bidi_interruption", NULL, NULL, WAIT_MS);
  fail_unless (i_int >= 0, "no bidi_interruption");
  played = check_cut (s, mock, 0, 0, i_int, "resp_B", "item_B");
  fail_unless (played >= 700 && played < LONG_MS, "played %" G_GUINT64_FORMAT
      " ms", played);
  /* the server cancels by itself: no response.cancel came before the
   * truncate (they would be sent in that order) */
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "response.cancel"), 0);

  /* audio of the answer still in flight, the server's cancellation: none
   * of that audio plays */
  sc = mock_realtime_script_new ();
  mock_realtime_script_send_audio (sc, g_bytes_get_data (next, NULL),
      g_bytes_get_size (next), CHUNK_MS, FALSE, "resp_B", "item_B", 0, 0);
  script_answer_end (sc, "resp_B", "item_B", "One two three four five six "
      "seven eight nine ten.", "cancelled");
  mock_realtime_run (mock, 0, sc);
  i_done = session_wait (s, i_int, "bidi_response_complete", "response_id",
      "resp_B", WAIT_MS);
  fail_unless (i_done > i_int);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_done), "stop_reason"), "interrupted");
  g_mutex_lock (&s->lock);
  heard = s->answer->len;
  at_flush = s->answer_at_flush;
  g_mutex_unlock (&s->lock);
  fail_unless_equals_uint64 (heard, at_flush);
  fail_unless (heard < MS_BYTES (LONG_MS), "the whole answer was played");
  fail_unless (session_stat (s, "output-dropped-ms") >= 400);

  sc = mock_realtime_script_new ();
  script_answer (sc, "resp_C", "item_C", "Yes?", next);
  mock_realtime_run (mock, 0, sc);
  fail_unless (session_wait (s, i_done, "bidi_response_complete",
          "response_id", "resp_C", WAIT_MS) > i_done);
  session_assert_answer_tail (s, heard, next);

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
  g_bytes_unref (next);
}

GST_END_TEST;

/* With interrupt-response=false the client cancels a running answer
 * itself; a finished one is only truncated */
GST_START_TEST (test_barge_in_client_cancel)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (LONG_MS, 7), *pcm2 = make_pcm (MEDIUM_MS, 8);
  MockRealtimeScript *sc = script_setup ("sess_c");
  GstStructure *pc;
  JsonNode *ev;
  Session *s;
  gint i_int, i_done, i_int2;
  gint cancel_at, truncate_at;
  guint64 played;
  gsize heard;

  mock_realtime_script_wait (sc, "input_audio_buffer.append", 1, WAIT_MS);
  script_answer_start (sc, "resp_B", "item_B", "A long answer.", pcm);
  mock_realtime_push_script (mock, sc);
  pc = gst_structure_new ("config", "interrupt-response", G_TYPE_BOOLEAN,
      FALSE, NULL);
  s = openai_session_new (mock, DESC_LIVE, "provider-config", pc, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);

  /* running: cancelled and truncated */
  wait_played (s, 0, 1000);
  sc = mock_realtime_script_new ();
  script_speech_started (sc, "item_U2");
  mock_realtime_script_wait (sc, "response.cancel", 1, WAIT_MS);
  script_answer_end (sc, "resp_B", "item_B", "A long answer.", "cancelled");
  mock_realtime_run (mock, 0, sc);
  i_int = session_wait (s, 0, "bidi_interruption", NULL, NULL, WAIT_MS);
  fail_unless (i_int >= 0, "no bidi_interruption");
  played = check_cut (s, mock, 0, 0, i_int, "resp_B", "item_B");
  fail_unless (played >= 700 && played < LONG_MS, "played %" G_GUINT64_FORMAT
      " ms", played);
  ev = mock_event (mock, 0, "response.cancel", 0);
  fail_unless_equals_string (jstr (json_node_get_object (ev),
          "response_id"), "resp_B");
  json_node_unref (ev);
  cancel_at = frame_index (mock, 0, "response.cancel", 0);
  truncate_at = frame_index (mock, 0, "conversation.item.truncate", 0);
  fail_unless (cancel_at >= 0 && truncate_at >= 0);
  i_done = session_wait (s, i_int, "bidi_response_complete", "response_id",
      "resp_B", WAIT_MS);
  fail_unless (i_done > i_int);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_done), "stop_reason"), "interrupted");

  /* finished (response.done came), still playing: truncated only */
  heard = session_answer_len (s);
  g_mutex_lock (&s->lock);
  s->first_render_us = 0;
  s->n_flush = 0;
  g_mutex_unlock (&s->lock);
  sc = mock_realtime_script_new ();
  script_answer (sc, "resp_C", "item_C", "Another long answer.", pcm2);
  mock_realtime_run (mock, 0, sc);
  fail_unless (session_wait (s, i_done, "bidi_response_complete",
          "response_id", "resp_C", WAIT_MS) > i_done);
  wait_played (s, heard, 500);
  sc = mock_realtime_script_new ();
  script_speech_started (sc, "item_U3");
  mock_realtime_run (mock, 0, sc);
  i_int2 = session_wait (s, i_done, "bidi_interruption", NULL, NULL, WAIT_MS);
  fail_unless (i_int2 > i_done, "no second bidi_interruption");
  played = check_cut (s, mock, 0, 1, i_int2, "resp_C", "item_C");
  fail_unless (played >= 200 && played < MEDIUM_MS, "played %"
      G_GUINT64_FORMAT " ms", played);
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "response.cancel"), 1);

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
  g_bytes_unref (pcm2);
}

GST_END_TEST;

#define LONG_ANSWER \
  "One two three four five six seven eight nine ten eleven twelve."
/* what the server keeps of it after the truncation */
#define KEPT_ANSWER "One two three four five"

static void assert_text_item (JsonObject * ev, const gchar * role,
    const gchar * part, const gchar * text);

/* The application cuts the answer with the interrupt action signal; the
 * provider cancels it, truncates it, and keeps what the server says is
 * left of it for the history */
GST_START_TEST (test_interrupt_signal)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (LONG_MS, 9);
  MockRealtimeScript *sc = script_setup ("sess_i");
  Session *s;
  JsonNode *ev;
  gboolean ok = FALSE;
  gint i_int, i_done;
  guint64 played;

  mock_realtime_script_wait (sc, "input_audio_buffer.append", 1, WAIT_MS);
  script_answer_start (sc, "resp_B", "item_B", LONG_ANSWER, pcm);
  mock_realtime_script_wait (sc, "response.cancel", 1, WAIT_MS);
  script_answer_end (sc, "resp_B", "item_B", LONG_ANSWER, "cancelled");
  mock_realtime_push_script (mock, sc);
  /* the next session, after the server's time limit: the history holds
   * what the server said it kept of the cut answer */
  sc = script_session_created (NULL, "sess_i2");
  mock_realtime_script_wait (sc, "conversation.item.create", 1, WAIT_MS);
  mock_realtime_script_send_session_updated (sc);
  mock_realtime_push_script (mock, sc);
  s = openai_session_new (mock, DESC_LIVE, NULL);
  /* nothing to interrupt yet (asked before the connection is up: once it
   * is, the answer starts with the first audio the mock gets, and a slow
   * machine may ask after that) */
  g_signal_emit_by_name (s->agent, "interrupt", &ok);
  fail_if (ok);
  session_wait_connected (s);

  wait_played (s, 0, 1000);
  g_signal_emit_by_name (s->agent, "interrupt", &ok);
  fail_unless (ok, "nothing was interrupted");
  i_int = session_wait (s, 0, "bidi_interruption", NULL, NULL, WAIT_MS);
  fail_unless (i_int >= 0);
  played = check_cut (s, mock, 0, 0, i_int, "resp_B", "item_B");
  fail_unless (played >= 700 && played < LONG_MS, "played %" G_GUINT64_FORMAT
      " ms", played);
  /* the answer was still coming: cancelled, before the truncate */
  ev = mock_event (mock, 0, "response.cancel", 0);
  fail_unless_equals_string (jstr (json_node_get_object (ev),
          "response_id"), "resp_B");
  json_node_unref (ev);
  fail_unless (frame_index (mock, 0, "response.cancel", 0) <
      frame_index (mock, 0, "conversation.item.truncate", 0));
  i_done = session_wait (s, i_int, "bidi_response_complete", "response_id",
      "resp_B", WAIT_MS);
  fail_unless (i_done > i_int);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_done), "stop_reason"), "interrupted");
  fail_unless (mock_realtime_wait_script_done (mock, 0, WAIT_MS));

  /* the server confirms the truncation; the client asks what is left */
  sc = mock_realtime_script_new ();
  mock_realtime_script_send_printf (sc, "{\"type\":"
      "\"conversation.item.truncated\",\"item_id\":\"item_B\","
      "\"content_index\":0,\"audio_end_ms\":%" G_GUINT64_FORMAT "}", played);
  mock_realtime_script_wait (sc, "conversation.item.retrieve", 1, WAIT_MS);
  mock_realtime_script_send (sc, "{\"type\":\"conversation.item.retrieved\","
      "\"item\":{\"id\":\"item_B\",\"object\":\"realtime.item\","
      "\"type\":\"message\",\"role\":\"assistant\",\"status\":"
      "\"incomplete\",\"content\":[{\"type\":\"output_audio\","
      "\"transcript\":\"" KEPT_ANSWER "\"}]}}");
  mock_realtime_script_close (sc, 1001, "Your session hit the maximum "
      "duration of 60 minutes.");
  mock_realtime_run (mock, 0, sc);
  ev = mock_event (mock, 0, "conversation.item.retrieve", 0);
  fail_unless_equals_string (jstr (json_node_get_object (ev), "item_id"),
      "item_B");
  json_node_unref (ev);
  fail_unless (session_wait (s, i_done, "bidi_connection_restart", NULL, NULL,
          WAIT_MS) > i_done);
  ev = mock_event (mock, 1, "conversation.item.create", 0);
  assert_text_item (json_node_get_object (ev), "assistant", "output_text",
      KEPT_ANSWER);
  json_node_unref (ev);
  fail_unless_equals_int (mock_realtime_count_events (mock, 1,
          "conversation.item.create"), 1);

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 3b. The gpt-realtime-2 family: reasoning, response phases
 * ------------------------------------------------------------------------ */

/* reasoning-effort goes into session.reasoning only when set; a value
 * the server does not know is refused at start, before connecting */
GST_START_TEST (test_reasoning_effort)
{
  MockRealtime *mock = mock_realtime_new ();
  GstStructure *pc;
  const GstStructure *st;
  const gchar *msg;
  Session *s;
  JsonNode *ev;
  gint i_error, code = -1;

  /* set: sent as is (the mock checks it too) */
  mock_realtime_expect_reasoning_effort (mock, "xhigh");
  pc = gst_structure_new ("config", "reasoning-effort", G_TYPE_STRING,
      "xhigh", NULL);
  s = openai_session_new (mock, DESC_NO_INPUT, "provider-config", pc, NULL);
  gst_structure_free (pc);
  ev = first_session_update (mock, 0);
  fail_unless_equals_string (jstr (json_node_get_object (ev),
          "session.reasoning.effort"), "xhigh");
  json_node_unref (ev);
  session_free (s);

  /* not set: left out, so that an older model takes the session */
  mock_realtime_expect_reasoning_effort (mock, NULL);
  s = openai_session_new (mock, DESC_NO_INPUT, "model", "gpt-realtime",
      NULL);
  ev = first_session_update (mock, 1);
  fail_if (jhas (json_node_get_object (ev), "session.reasoning"));
  json_node_unref (ev);
  session_free (s);
  assert_mock_clean (mock);

  /* a value the server does not know */
  s = openai_session (mock, DESC_NO_INPUT, TRUE);
  pc = gst_structure_new ("config", "reasoning-effort", G_TYPE_STRING,
      "maximal", NULL);
  g_object_set (s->agent, "provider-config", pc, NULL);
  gst_structure_free (pc);
  fail_unless_equals_int (gst_element_set_state (s->pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  i_error = session_wait (s, 0, "error", NULL, NULL, WAIT_MS);
  fail_unless (i_error >= 0, "no ERROR message");
  st = session_msg (s, i_error);
  gst_structure_get_int (st, "code", &code);
  fail_unless_equals_int (code, GST_RESOURCE_ERROR_SETTINGS);
  msg = gst_structure_get_string (st, "message");
  fail_unless (strstr (msg, "\"reasoning-effort\" must be one of minimal, "
          "low, medium, high, xhigh, not \"maximal\"") != NULL, "%s", msg);
  session_free (s);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 2);

  assert_mock_clean (mock);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* The assistant's transcripts, one line each: "text|phase|final" */
static gchar *
assistant_lines (Session * s)
{
  GString *out = g_string_new (NULL);
  guint i;

  for (i = 0; i < bus_log_length (s->log); i++) {
    const GstStructure *st = bus_log_get (s->log, i);
    gboolean final = FALSE;

    if (!bus_log_matches (st, "bidi_transcript_stream", "role", "assistant"))
      continue;
    gst_structure_get_boolean (st, "is_final", &final);
    g_string_append_printf (out, "%s%s|%s|%s", out->len ? "\n" : "",
        gst_structure_get_string (st, "text"),
        GST_STR_NULL (gst_structure_get_string (st, "phase")),
        final ? "final" : "partial");
  }
  return g_string_free (out, FALSE);
}

/* The agent's history, one line per text block: "role: text" */
static gchar *
history_lines (Session * s)
{
  GString *out = g_string_new (NULL);
  gchar *json = NULL;
  JsonNode *root;
  JsonArray *messages;
  guint i, k;

  g_object_get (s->agent, "history", &json, NULL);
  root = parse_json (json);
  g_free (json);
  messages = json_node_get_array (root);
  for (i = 0; i < json_array_get_length (messages); i++) {
    JsonObject *msg = json_array_get_object_element (messages, i);
    JsonArray *content = json_node_get_array (jget (msg, "content"));

    for (k = 0; k < json_array_get_length (content); k++) {
      JsonObject *block = json_array_get_object_element (content, k);

      if (jhas (block, "text"))
        g_string_append_printf (out, "%s%s: %s", out->len ? "\n" : "",
            jstr (msg, "role"), jstr (block, "text"));
    }
  }
  json_node_unref (root);
  return g_string_free (out, FALSE);
}

/* @st in the JSON form and back: the same event */
static void
assert_json_round_trip (const GstStructure * st, const gchar * member)
{
  gchar *json = gst_bidi_event_to_json (st);
  GError *err = NULL;
  GstStructure *back = gst_bidi_event_from_json (json, -1, &err);

  fail_unless (strstr (json, member) != NULL, "%s has no %s", json, member);
  fail_unless (back != NULL, "%s: %s", json, err ? err->message : "");
  fail_unless (gst_structure_is_equal (st, back), "%s came back different",
      json);
  gst_structure_free (back);
  g_free (json);
}

/* One answer, a commentary then the final answer: each item is a
 * transcript of its own with its phase; the usage counts the reasoning */
GST_START_TEST (test_response_phases)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm1 = make_pcm (300, 40), *pcm2 = make_pcm (500, 41);
  MockRealtimeScript *sc = script_setup ("sess_ph");
  const GstStructure *st;
  GstStructure *copy;
  Session *s;
  gint i_done, i_usage, i_final, reasoning = -1;
  gchar *text;

  mock_realtime_script_add_phased_answer (sc, g_bytes_get_data (pcm1, NULL),
      g_bytes_get_size (pcm1), g_bytes_get_data (pcm2, NULL),
      g_bytes_get_size (pcm2));
  mock_realtime_push_script (mock, sc);
  s = openai_session_new (mock, DESC_NO_INPUT, NULL);
  i_done = session_wait (s, 0, "bidi_response_complete", "response_id",
      MOCK_REALTIME_PHASED_RESPONSE_ID, WAIT_MS);
  fail_unless (i_done >= 0, "the answer did not complete");
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_done), "stop_reason"), "complete");

  /* both items spoken, one after the other */
  fail_unless (session_wait_answer (s, g_bytes_get_size (pcm1) +
          g_bytes_get_size (pcm2), WAIT_MS));
  session_assert_answer_tail (s, g_bytes_get_size (pcm1), pcm2);

  /* two transcripts, each final once, each with its phase */
  text = assistant_lines (s);
  fail_unless_equals_string (text,
      MOCK_REALTIME_PHASED_COMMENTARY "|commentary|partial\n"
      MOCK_REALTIME_PHASED_COMMENTARY "|commentary|final\n"
      MOCK_REALTIME_PHASED_FINAL "|final_answer|partial\n"
      MOCK_REALTIME_PHASED_FINAL "|final_answer|final");
  g_free (text);
  i_final = session_wait (s, 0, "bidi_transcript_stream", "phase",
      "final_answer", 0);
  fail_unless (i_final >= 0);
  /* the phase in the JSON form (without the bus's running_time) */
  copy = gst_structure_copy (session_msg (s, i_final));
  gst_structure_remove_field (copy, "running_time");
  assert_json_round_trip (copy, "\"phase\":\"final_answer\"");
  gst_structure_free (copy);
  /* and two messages in the history */
  text = history_lines (s);
  fail_unless_equals_string (text,
      "assistant: " MOCK_REALTIME_PHASED_COMMENTARY "\n"
      "assistant: " MOCK_REALTIME_PHASED_FINAL);
  g_free (text);

  /* the usage, reasoning tokens included */
  i_usage = session_wait (s, 0, "bidi_usage", NULL, NULL, 0);
  fail_unless (i_usage >= 0 && i_usage < i_done);
  st = session_msg (s, i_usage);
  session_assert_tokens (st, "totalTokens",
      MOCK_REALTIME_PHASED_TOTAL_TOKENS);
  session_assert_tokens (st, "outputTokens",
      MOCK_REALTIME_PHASED_OUTPUT_TOKENS);
  fail_unless (gst_structure_get_int (st, "reasoningTokens", &reasoning));
  fail_unless_equals_int (reasoning, MOCK_REALTIME_PHASED_REASONING_TOKENS);
  session_assert_tokens (session_find_modality (st, "audio"),
      "output_tokens", MOCK_REALTIME_PHASED_OUTPUT_AUDIO_TOKENS);
  copy = gst_structure_copy (st);
  gst_structure_remove_field (copy, "running_time");
  assert_json_round_trip (copy, "\"reasoningTokens\":40");
  gst_structure_free (copy);
  /* the golden usage has none: left out */
  fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 0);

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm1);
  g_bytes_unref (pcm2);
}

GST_END_TEST;

/* The second session was given @items (the answer's, in order) and
 * nothing else */
static void
assert_replayed_answer (MockRealtime * mock, const gchar * const *items,
    guint n_items)
{
  JsonNode *ev;
  guint i;

  for (i = 0; i < n_items; i++) {
    ev = mock_event (mock, 1, "conversation.item.create", i);
    assert_text_item (json_node_get_object (ev), "assistant", "output_text",
        items[i]);
    json_node_unref (ev);
  }
  fail_unless_equals_int (mock_realtime_count_events (mock, 1,
          "conversation.item.create"), n_items);
}

/* A phased answer (@pcm1 the commentary, @pcm2 the final answer) in a
 * live session; the server's VAD hears the user after @at_ms of it.
 * Returns the session, with how much was played when it was cut. */
static Session *
phased_barge_in (MockRealtime * mock, GBytes * pcm1, GBytes * pcm2,
    guint at_ms, guint64 * played)
{
  MockRealtimeScript *sc = script_setup ("sess_pb");
  const GstStructure *st;
  Session *s;
  gint i_int;

  mock_realtime_script_wait (sc, "input_audio_buffer.append", 1, WAIT_MS);
  mock_realtime_script_add_phased_answer (sc, g_bytes_get_data (pcm1, NULL),
      g_bytes_get_size (pcm1), g_bytes_get_data (pcm2, NULL),
      g_bytes_get_size (pcm2));
  mock_realtime_push_script (mock, sc);
  s = openai_session_new (mock, DESC_LIVE, NULL);
  session_wait_connected (s);

  wait_played (s, 0, at_ms);
  sc = mock_realtime_script_new ();
  script_speech_started (sc, "item_U2");
  mock_realtime_run (mock, 0, sc);

  i_int = session_wait (s, 0, "bidi_interruption", NULL, NULL, WAIT_MS);
  fail_unless (i_int >= 0, "no bidi_interruption");
  st = session_msg (s, i_int);
  fail_unless_equals_string (gst_structure_get_string (st, "response_id"),
      MOCK_REALTIME_PHASED_RESPONSE_ID);
  fail_unless (gst_structure_get_uint64 (st, "played_ms", played));
  return s;
}

/* The user talks over the final answer, after the commentary was heard
 * whole: the final answer is truncated to what was heard of it, the
 * commentary is left alone */
GST_START_TEST (test_response_phases_barge_in)
{
  MockRealtime *mock = mock_realtime_new ();
  const guint commentary_ms = slow > 1 ? 2000 : 1000;
  GBytes *pcm1 = make_pcm (commentary_ms, 42), *pcm2 = make_pcm (LONG_MS, 43);
  Session *s;
  JsonNode *ev;
  JsonObject *tr;
  guint64 played = 0;
  gint64 diff;
  gchar *history;
  const gchar *rest;

  /* the commentary, then half a second of the final answer */
  s = phased_barge_in (mock, pcm1, pcm2, commentary_ms + 500, &played);
  fail_unless (played >= commentary_ms + 300 &&
      played < commentary_ms + LONG_MS, "played %" G_GUINT64_FORMAT " ms",
      played);

  /* the first truncate is the final answer's, at its own heard ms */
  ev = mock_event (mock, 0, "conversation.item.truncate", 0);
  tr = json_node_get_object (ev);
  fail_unless_equals_string (jstr (tr, "item_id"),
      MOCK_REALTIME_PHASED_FINAL_ITEM);
  fail_unless_equals_int (jint (tr, "content_index"), 0);
  diff = jint (tr, "audio_end_ms") - (gint64) (played - commentary_ms);
  fail_unless (ABS (diff) <= 1, "truncated at %" G_GINT64_FORMAT " ms, but "
      "%" G_GUINT64_FORMAT " ms of the final answer were played",
      jint (tr, "audio_end_ms"), played - commentary_ms);
  json_node_unref (ev);
  /* the answer was over: no cancel; and nothing else was cut */
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "response.cancel"), 0);
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "conversation.item.truncate"), 1);

  /* the history: the commentary whole, then what was heard of the final
   * answer (a word or two, or nothing) */
  history = history_lines (s);
  fail_unless (g_str_has_prefix (history, "assistant: "
          MOCK_REALTIME_PHASED_COMMENTARY), "%s", history);
  rest = history + strlen ("assistant: " MOCK_REALTIME_PHASED_COMMENTARY);
  if (*rest) {
    fail_unless (g_str_has_prefix (rest, "\nassistant: "), "%s", history);
    rest += strlen ("\nassistant: ");
    fail_unless (strlen (rest) < strlen (MOCK_REALTIME_PHASED_FINAL) &&
        g_str_has_prefix (MOCK_REALTIME_PHASED_FINAL, rest), "%s", history);
  }
  g_free (history);

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm1);
  g_bytes_unref (pcm2);
}

GST_END_TEST;

/* The user talks over the final answer, and the session ends (its time
 * limit) before the element recorded the answer: the new session gets the
 * commentary and what the server kept of the final answer as two
 * messages, as the element's history will have them */
#define KEPT_FINAL "It is sunny"
GST_START_TEST (test_response_phases_barge_in_reconnect)
{
  MockRealtime *mock = mock_realtime_new ();
  const guint commentary_ms = slow > 1 ? 2000 : 1000;
  GBytes *pcm1 = make_pcm (commentary_ms, 48), *pcm2 = make_pcm (LONG_MS, 49);
  const gchar *const items[] = { MOCK_REALTIME_PHASED_COMMENTARY,
    KEPT_FINAL
  };
  MockRealtimeScript *sc;
  Session *s;
  guint64 played = 0;

  s = phased_barge_in (mock, pcm1, pcm2, commentary_ms + 500, &played);
  fail_unless (mock_realtime_wait_script_done (mock, 0, WAIT_MS));
  mock_realtime_push_script (mock, script_setup ("sess_pb2"));

  /* the server confirms the truncation, the client asks what is left */
  sc = mock_realtime_script_new ();
  mock_realtime_script_send_printf (sc, "{\"type\":"
      "\"conversation.item.truncated\",\"item_id\":\""
      MOCK_REALTIME_PHASED_FINAL_ITEM "\",\"content_index\":0,"
      "\"audio_end_ms\":%" G_GUINT64_FORMAT "}", played - commentary_ms);
  mock_realtime_script_wait (sc, "conversation.item.retrieve", 1, WAIT_MS);
  mock_realtime_script_send (sc, "{\"type\":\"conversation.item.retrieved\","
      "\"item\":{\"id\":\"" MOCK_REALTIME_PHASED_FINAL_ITEM "\","
      "\"object\":\"realtime.item\",\"type\":\"message\",\"role\":"
      "\"assistant\",\"status\":\"incomplete\",\"content\":[{\"type\":"
      "\"output_audio\",\"transcript\":\"" KEPT_FINAL "\"}]}}");
  mock_realtime_script_close (sc, 1001, "Your session hit the maximum "
      "duration of 60 minutes.");
  mock_realtime_run (mock, 0, sc);
  fail_unless (session_wait (s, 0, "bidi_connection_restart", NULL, NULL,
          WAIT_MS) >= 0, "no bidi_connection_restart");

  fail_unless (mock_realtime_wait_script_done (mock, 1, WAIT_MS));
  assert_replayed_answer (mock, items, G_N_ELEMENTS (items));

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm1);
  g_bytes_unref (pcm2);
}

GST_END_TEST;

/* A barge-in during the commentary: it is cut where it was heard, and the
 * final answer behind it, never heard, leaves the server's memory */
GST_START_TEST (test_response_phases_barge_in_commentary)
{
  MockRealtime *mock = mock_realtime_new ();
  const guint commentary_ms = slow > 1 ? 4000 : 2000;
  GBytes *pcm1 = make_pcm (commentary_ms, 44), *pcm2 = make_pcm (1000, 45);
  Session *s;
  JsonNode *ev;
  guint64 played = 0;
  gchar *history;

  /* both items came in at once; half a second of the commentary played */
  s = phased_barge_in (mock, pcm1, pcm2, 500, &played);
  fail_unless (played < commentary_ms, "played %" G_GUINT64_FORMAT " ms",
      played);

  ev = mock_event (mock, 0, "conversation.item.truncate", 0);
  fail_unless_equals_string (jstr (json_node_get_object (ev), "item_id"),
      MOCK_REALTIME_PHASED_COMMENTARY_ITEM);
  fail_unless_equals_int (jint (json_node_get_object (ev), "audio_end_ms"),
      played);
  json_node_unref (ev);
  ev = mock_event (mock, 0, "conversation.item.delete", 0);
  fail_unless_equals_string (jstr (json_node_get_object (ev), "item_id"),
      MOCK_REALTIME_PHASED_FINAL_ITEM);
  json_node_unref (ev);
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "conversation.item.truncate"), 1);

  /* the history has no word of the final answer */
  history = history_lines (s);
  fail_if (strstr (history, MOCK_REALTIME_PHASED_FINAL) != NULL, "%s",
      history);
  fail_if (strchr (history, '\n') != NULL, "%s", history);
  g_free (history);

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm1);
  g_bytes_unref (pcm2);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 4. Text input
 * ------------------------------------------------------------------------ */

static void
assert_text_item (JsonObject * ev, const gchar * role, const gchar * part,
    const gchar * text)
{
  JsonArray *content;
  JsonObject *p;

  fail_unless_equals_string (jstr (ev, "item.type"), "message");
  fail_unless_equals_string (jstr (ev, "item.role"), role);
  content = json_node_get_array (jget (ev, "item.content"));
  fail_unless_equals_int (json_array_get_length (content), 1);
  p = json_array_get_object_element (content, 0);
  fail_unless_equals_string (jstr (p, "type"), part);
  fail_unless_equals_string (jstr (p, "text"), text);
}

GST_START_TEST (test_send_text)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (300, 10);
  MockRealtimeScript *sc = script_session_created (NULL, "sess_t");
  Session *s;
  JsonNode *ev;
  gboolean ok = FALSE;
  gint i_done;

  mock_realtime_push_script (mock, sc);
  s = openai_session_new (mock, DESC_NO_INPUT, NULL);
  json_node_unref (mock_event (mock, 0, "session.update", 0));

  /* typed before the session is ready: it waits */
  g_signal_emit_by_name (s->agent, "send-text", "Hello there", &ok);
  fail_unless (ok);
  fail_unless_equals_int (mock_realtime_n_frames (mock, 0), 1);
  sc = mock_realtime_script_new ();
  mock_realtime_script_send_session_updated (sc);
  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_answer (sc, "resp_T1", "item_T1", "Hi.", pcm);
  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_answer (sc, "resp_T2", "item_T2", "Sunny.", pcm);
  mock_realtime_run (mock, 0, sc);
  session_wait_connected (s);
  i_done = session_wait (s, 0, "bidi_response_complete", "response_id",
      "resp_T1", WAIT_MS);
  fail_unless (i_done >= 0);

  /* typed while connected */
  g_signal_emit_by_name (s->agent, "send-text",
      "What's the weather in Paris?", &ok);
  fail_unless (ok);
  fail_unless (session_wait (s, i_done, "bidi_response_complete",
          "response_id", "resp_T2", WAIT_MS) > i_done);
  session_assert_answer_tail (s, MS_BYTES (300), pcm);

  /* each text: a user input_text item, then response.create */
  ev = mock_event (mock, 0, "conversation.item.create", 0);
  assert_text_item (json_node_get_object (ev), "user", "input_text",
      "Hello there");
  json_node_unref (ev);
  ev = mock_event (mock, 0, "conversation.item.create", 1);
  assert_text_item (json_node_get_object (ev), "user", "input_text",
      "What's the weather in Paris?");
  json_node_unref (ev);
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "conversation.item.create"), 2);
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "response.create"), 2);
  fail_unless (frame_index (mock, 0, "conversation.item.create", 0) <
      frame_index (mock, 0, "response.create", 0));
  fail_unless (frame_index (mock, 0, "response.create", 0) <
      frame_index (mock, 0, "conversation.item.create", 1));
  fail_unless (frame_index (mock, 0, "conversation.item.create", 1) <
      frame_index (mock, 0, "response.create", 1));

  fail_unless (mock_realtime_wait_script_done (mock, 0, WAIT_MS));
  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 5. Images
 * ------------------------------------------------------------------------ */

static void
assert_image_item (JsonObject * ev, GBytes * image, const gchar * mime,
    const gchar * detail)
{
  JsonArray *content;
  JsonObject *p;
  gchar *b64, *uri;

  fail_unless_equals_string (jstr (ev, "item.type"), "message");
  fail_unless_equals_string (jstr (ev, "item.role"), "user");
  content = json_node_get_array (jget (ev, "item.content"));
  fail_unless_equals_int (json_array_get_length (content), 1);
  p = json_array_get_object_element (content, 0);
  fail_unless_equals_string (jstr (p, "type"), "input_image");
  b64 = g_base64_encode (g_bytes_get_data (image, NULL),
      g_bytes_get_size (image));
  uri = g_strdup_printf ("data:%s;base64,%s", mime, b64);
  fail_unless_equals_string (jstr (p, "image_url"), uri);
  fail_unless_equals_string (jstr (p, "detail"), detail);
  g_free (uri);
  g_free (b64);
}

/* The element's send-image signal */
GST_START_TEST (test_send_image)
{
  MockRealtime *mock;
  GBytes *png, *webp;
  Session *s;
  JsonNode *ev;
  gboolean ok = FALSE;
  gint i_err;
  static const guint8 webp_data[] = { 'R', 'I', 'F', 'F', 30, 0, 0, 0, 'W',
    'E', 'B', 'P', 'V', 'P', '8', 'L', 0, 0, 0, 0
  };
  GstElement *probe = gst_element_factory_make ("bidiagent", NULL);
  guint signal_id;

  signal_id = g_signal_lookup ("send-image", G_OBJECT_TYPE (probe));
  gst_object_unref (probe);
  fail_unless (signal_id != 0, "bidiagent has no send-image signal");

  mock = mock_realtime_new ();
  png = session_make_png ();
  webp = g_bytes_new_static (webp_data, sizeof (webp_data));
  mock_realtime_push_script (mock, script_setup ("sess_img"));
  s = openai_session_new (mock, DESC_NO_INPUT, NULL);
  session_wait_connected (s);

  g_signal_emit_by_name (s->agent, "send-image", png, "image/png", &ok);
  fail_unless (ok);
  /* the element takes WebP; OpenAI does not: said on the bus */
  g_signal_emit_by_name (s->agent, "send-image", webp, NULL, &ok);
  fail_unless (ok);
  g_signal_emit_by_name (s->agent, "send-text", "What is this?", &ok);
  fail_unless (ok);

  ev = mock_event (mock, 0, "response.create", 0);
  json_node_unref (ev);
  ev = mock_event (mock, 0, "conversation.item.create", 0);
  assert_image_item (json_node_get_object (ev), png, "image/png", "auto");
  json_node_unref (ev);
  ev = mock_event (mock, 0, "conversation.item.create", 1);
  assert_text_item (json_node_get_object (ev), "user", "input_text",
      "What is this?");
  json_node_unref (ev);
  /* an image does not ask for an answer: the text does */
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "conversation.item.create"), 2);
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "response.create"), 1);
  fail_unless (frame_index (mock, 0, "conversation.item.create", 1) <
      frame_index (mock, 0, "response.create", 0));
  i_err = session_wait (s, 0, "bidi_error", "code", "bad_image", WAIT_MS);
  fail_unless (i_err >= 0, "the WebP image was not refused");

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (png);
  g_bytes_unref (webp);
}

GST_END_TEST;

/* The provider driven directly, the way the element's network thread
 * does: its vfuncs called on a thread with its own thread-default
 * GMainContext */
typedef struct
{
  GMainContext *ctx;
  GstBidiProvider *provider;
  GPtrArray *events;            /* GstStructure */
} Direct;

static void
direct_event (G_GNUC_UNUSED gpointer provider, GstStructure * event,
    gpointer user_data)
{
  Direct *d = user_data;

  GST_INFO ("provider event %" GST_PTR_FORMAT, event);
  g_ptr_array_add (d->events, event);
}

static gint
direct_find (Direct * d, const gchar * name, const gchar * field,
    const gchar * value)
{
  guint i;

  for (i = 0; i < d->events->len; i++)
    if (bus_log_matches (g_ptr_array_index (d->events, i), name, field, value))
      return i;
  return -1;
}

/* Runs the context until @name is among the events */
static gboolean
direct_wait_event (Direct * d, const gchar * name)
{
  gint64 end = deadline (WAIT_MS);

  while (direct_find (d, name, NULL, NULL) < 0) {
    if (g_get_monotonic_time () > end)
      return FALSE;
    if (!g_main_context_iteration (d->ctx, FALSE))
      g_usleep (1000);
  }
  return TRUE;
}

/* Runs the context until the mock got @n client events of @type */
static gboolean
direct_wait_mock (Direct * d, MockRealtime * mock, const gchar * type, guint n)
{
  gint64 end = deadline (WAIT_MS);

  while (mock_realtime_count_events (mock, 0, type) < n) {
    if (g_get_monotonic_time () > end)
      return FALSE;
    if (!g_main_context_iteration (d->ctx, FALSE))
      g_usleep (1000);
  }
  return TRUE;
}

GST_START_TEST (test_image_provider)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *png = session_make_png (), *jpeg = session_make_jpeg (), *gif;
  GstBidiProviderConfig *config;
  GstElement *agent;
  GError *err = NULL;
  JsonNode *ev;
  Direct d = { NULL, NULL, NULL };
  gint64 end;
  gint i_err;

  /* loading the plugin registers its providers */
  agent = gst_element_factory_make ("bidiagent", NULL);
  fail_unless (agent != NULL);
  gst_object_unref (agent);

  mock_realtime_push_script (mock, script_setup ("sess_direct"));
  d.events = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  d.ctx = g_main_context_new ();
  g_main_context_push_thread_default (d.ctx);

  d.provider = gst_bidi_provider_new ("openai", &err);
  fail_unless (d.provider != NULL, "%s", err ? err->message : "");
  gst_bidi_provider_set_event_func (d.provider, direct_event, &d, NULL);
  config = gst_bidi_provider_config_new ();
  config->url = g_strdup (mock_realtime_url (mock));
  config->api_key = g_strdup (KEY);
  config->ssl_strict = TRUE;
  config->provider_config = gst_structure_new ("config", "image-detail",
      G_TYPE_STRING, "low", NULL);
  fail_unless (gst_bidi_provider_configure (d.provider, config, &err), "%s",
      err ? err->message : "");
  fail_unless (gst_bidi_provider_start (d.provider, config, &err), "%s",
      err ? err->message : "");
  fail_unless (direct_wait_event (&d, "bidi_connection_start"));

  gst_bidi_provider_send_image (d.provider, png, "image/png");
  /* "image/jpg" is taken for image/jpeg */
  gst_bidi_provider_send_image (d.provider, jpeg, "image/jpg");
  /* GIF is not */
  gif = g_bytes_new_static ("GIF89a", 6);
  gst_bidi_provider_send_image (d.provider, gif, "image/gif");
  g_bytes_unref (gif);
  i_err = direct_find (&d, "bidi_error", "code", "bad_image");
  fail_unless (i_err >= 0, "a GIF image was not refused");
  gst_bidi_provider_send_text (d.provider, "Compare these pictures.", "user");
  fail_unless (direct_wait_mock (&d, mock, "response.create", 1));

  ev = mock_event (mock, 0, "conversation.item.create", 0);
  assert_image_item (json_node_get_object (ev), png, "image/png", "low");
  json_node_unref (ev);
  ev = mock_event (mock, 0, "conversation.item.create", 1);
  assert_image_item (json_node_get_object (ev), jpeg, "image/jpeg", "low");
  json_node_unref (ev);
  ev = mock_event (mock, 0, "conversation.item.create", 2);
  assert_text_item (json_node_get_object (ev), "user", "input_text",
      "Compare these pictures.");
  json_node_unref (ev);
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "conversation.item.create"), 3);
  /* only the text asked for an answer */
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "response.create"), 1);
  fail_unless (frame_index (mock, 0, "conversation.item.create", 2) <
      frame_index (mock, 0, "response.create", 0));

  /* stop, and let the close handshake finish on the context */
  gst_bidi_provider_stop (d.provider);
  end = deadline (WAIT_MS);
  while (!mock_realtime_wait_closed (mock, 0, 0) &&
      g_get_monotonic_time () < end) {
    if (!g_main_context_iteration (d.ctx, FALSE))
      g_usleep (1000);
  }
  fail_unless_equals_int (mock_realtime_get_close_code (mock, 0), 1000);
  while (g_main_context_iteration (d.ctx, FALSE));
  gst_object_unref (d.provider);
  g_main_context_pop_thread_default (d.ctx);
  g_main_context_unref (d.ctx);
  g_ptr_array_unref (d.events);
  gst_bidi_provider_config_free (config);

  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (png);
  g_bytes_unref (jpeg);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 6. Tool calls
 * ------------------------------------------------------------------------ */

/* The model calls @name (@args split in two deltas) in response @resp */
static void
script_function_call (MockRealtimeScript * sc, const gchar * resp,
    const gchar * item, const gchar * call_id, const gchar * name,
    const gchar * args_a, const gchar * args_b)
{
  gchar *args = g_strconcat (args_a, args_b, NULL);
  gchar *args_json = g_strescape (args, NULL);
  gchar *a_json = g_strescape (args_a, NULL), *b_json = g_strescape (args_b,
      NULL);
  gchar *done_item;

  mock_realtime_script_send_printf (sc, "{\"type\":\"response.created\","
      "\"response\":{\"id\":\"%s\",\"object\":\"realtime.response\","
      "\"status\":\"in_progress\",\"status_details\":null,\"output\":[],"
      "\"usage\":null}}", resp);
  mock_realtime_script_send_printf (sc,
      "{\"type\":\"response.output_item.added\",\"response_id\":\"%s\","
      "\"output_index\":0,\"item\":{\"id\":\"%s\",\"object\":"
      "\"realtime.item\",\"type\":\"function_call\",\"status\":"
      "\"in_progress\",\"call_id\":\"%s\",\"name\":\"%s\",\"arguments\":"
      "\"\"}}", resp, item, call_id, name);
  mock_realtime_script_send_printf (sc,
      "{\"type\":\"response.function_call_arguments.delta\","
      "\"response_id\":\"%s\",\"item_id\":\"%s\",\"output_index\":0,"
      "\"call_id\":\"%s\",\"delta\":\"%s\"}", resp, item, call_id, a_json);
  mock_realtime_script_send_printf (sc,
      "{\"type\":\"response.function_call_arguments.delta\","
      "\"response_id\":\"%s\",\"item_id\":\"%s\",\"output_index\":0,"
      "\"call_id\":\"%s\",\"delta\":\"%s\"}", resp, item, call_id, b_json);
  mock_realtime_script_send_printf (sc,
      "{\"type\":\"response.function_call_arguments.done\","
      "\"response_id\":\"%s\",\"item_id\":\"%s\",\"output_index\":0,"
      "\"call_id\":\"%s\",\"name\":\"%s\",\"arguments\":\"%s\"}", resp, item,
      call_id, name, args_json);
  done_item = g_strdup_printf ("{\"id\":\"%s\",\"object\":\"realtime.item\","
      "\"type\":\"function_call\",\"status\":\"completed\",\"call_id\":"
      "\"%s\",\"name\":\"%s\",\"arguments\":\"%s\"}", item, call_id, name,
      args_json);
  mock_realtime_script_send_printf (sc,
      "{\"type\":\"response.output_item.done\",\"response_id\":\"%s\","
      "\"output_index\":0,\"item\":%s}", resp, done_item);
  mock_realtime_script_send_printf (sc, "{\"type\":\"response.done\","
      "\"response\":{\"id\":\"%s\",\"object\":\"realtime.response\","
      "\"status\":\"completed\",\"status_details\":null,\"output\":[%s],"
      "\"usage\":{\"total_tokens\":40,\"input_tokens\":30,"
      "\"output_tokens\":10}}}", resp, done_item);
  g_free (done_item);
  g_free (args);
  g_free (args_json);
  g_free (a_json);
  g_free (b_json);
}

/* The function_call_output item @conn got as item.create number @nth:
 * its output parsed (json_node_unref) */
static JsonNode *
assert_call_output (MockRealtime * mock, guint nth, const gchar * call_id)
{
  JsonNode *ev = mock_event (mock, 0, "conversation.item.create", nth);
  JsonObject *obj = json_node_get_object (ev);
  JsonNode *output;

  fail_unless_equals_string (jstr (obj, "item.type"), "function_call_output");
  fail_unless_equals_string (jstr (obj, "item.call_id"), call_id);
  fail_unless (jstr (obj, "item.output") != NULL);
  output = parse_json (jstr (obj, "item.output"));
  json_node_unref (ev);
  return output;
}

/* The model calls a tool nobody offers, and an application tool the
 * application takes but never answers: both get an error output (the
 * second after tool-timeout) and the model is asked to go on each time. */
GST_START_TEST (test_tool_call_unknown_and_timeout)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (200, 12);
  MockRealtimeScript *sc = script_setup ("sess_tool_err");
  JsonNode *output;
  Session *s;
  gboolean ok = FALSE;
  gint64 t0;

  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_function_call (sc, "resp_U1", "item_FU1", "call_U1",
      "launch_rockets", "{\"count\":", "3}");
  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_function_call (sc, "resp_U2", "item_FU2", "call_U2", "get_weather",
      "{\"city\":", "\"Oslo\"}");
  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_answer (sc, "resp_U3", "item_U3", "Sorry, I could not do that.",
      pcm);
  mock_realtime_push_script (mock, sc);
  s = openai_session_new (mock, DESC_NO_INPUT, "builtin-tools", "", "tools",
      app_tools, "tool-timeout", 400, NULL);
  session_wait_connected (s);
  g_signal_emit_by_name (s->agent, "send-text", "Launch and check.", &ok);
  fail_unless (ok);

  /* an unknown tool: an error output at once, the application not asked */
  json_node_unref (mock_event (mock, 0, "response.create", 1));
  output = assert_call_output (mock, 1, "call_U1");
  fail_unless (JSON_NODE_HOLDS_VALUE (output) ||
      JSON_NODE_HOLDS_OBJECT (output));
  json_node_unref (output);
  {
    gchar *item = mock_realtime_wait_event (mock, 0,
        "conversation.item.create", 1, WAIT_MS);
    fail_unless (strstr (item, "no such tool") != NULL, "%s", item);
    g_free (item);
  }

  /* the application's tool: taken, never answered */
  t0 = g_get_monotonic_time ();
  fail_unless (session_wait_tool_call (s, 0) != NULL);
  json_node_unref (mock_event (mock, 0, "response.create", 2));
  fail_unless (g_get_monotonic_time () - t0 >= 300 * 1000,
      "the error came before tool-timeout");
  {
    gchar *item = mock_realtime_wait_event (mock, 0,
        "conversation.item.create", 2, WAIT_MS);
    fail_unless (strstr (item, "call_U2") != NULL, "%s", item);
    fail_unless (strstr (item, "did not answer within 400 ms") != NULL, "%s",
        item);
    g_free (item);
  }
  fail_unless (session_wait (s, 0, "warning", NULL, NULL, WAIT_MS) >= 0);
  /* too late now */
  g_signal_emit_by_name (s->agent, "send-tool-result", "call_U2", "{}",
      "success", &ok);
  fail_if (ok);

  fail_unless (session_wait (s, 0, "bidi_response_complete", "response_id",
          "resp_U3", WAIT_MS) >= 0);
  session_assert_answer_tail (s, 0, pcm);
  fail_unless (mock_realtime_wait_script_done (mock, 0, WAIT_MS));
  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* An application tool: tool-call signal, send-tool-result, the output
 * item, and the answer asked for */
GST_START_TEST (test_tool_call_app)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (300, 11);
  MockRealtimeScript *sc = script_setup ("sess_tool");
  const GstStructure *call, *st;
  JsonNode *input, *expect, *output;
  Session *s;
  gboolean ok = FALSE;
  gint i_use, i_res, i_done;

  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_function_call (sc, "resp_T1", "item_FC1", "call_W1", "get_weather",
      "{\"city\":", "\"Paris\"}");
  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_answer (sc, "resp_T2", "item_T2", "It is 18 degrees in Paris.", pcm);
  mock_realtime_push_script (mock, sc);
  s = openai_session_new (mock, DESC_NO_INPUT, "builtin-tools", "calculator",
      "tools", app_tools, NULL);
  session_wait_connected (s);
  g_signal_emit_by_name (s->agent, "send-text", "Weather in Paris?", &ok);
  fail_unless (ok);

  /* the application is asked */
  call = session_wait_tool_call (s, 0);
  fail_unless (call != NULL, "no tool-call signal");
  fail_unless_equals_string (gst_structure_get_string (call, "id"), "call_W1");
  fail_unless_equals_string (gst_structure_get_string (call, "name"),
      "get_weather");
  input = parse_json (gst_structure_get_string (call, "input"));
  expect = parse_json ("{\"city\": \"Paris\"}");
  fail_unless (json_node_equal (input, expect), "input %s",
      gst_structure_get_string (call, "input"));
  json_node_unref (input);
  i_use = session_wait (s, 0, "tool_use_stream", "toolUseId", "call_W1", 0);
  fail_unless (i_use >= 0);
  st = session_msg (s, i_use);
  fail_unless_equals_string (gst_structure_get_string (st, "name"),
      "get_weather");
  input = parse_json (gst_structure_get_string (st, "input"));
  fail_unless (json_node_equal (input, expect));
  json_node_unref (input);
  json_node_unref (expect);
  /* the call ended the response */
  i_done = session_wait (s, 0, "bidi_response_complete", "response_id",
      "resp_T1", WAIT_MS);
  fail_unless (i_done >= 0);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_done), "stop_reason"), "tool_use");

  /* it answers */
  g_signal_emit_by_name (s->agent, "send-tool-result", "call_W1",
      "{\"temp_c\": 18}", "success", &ok);
  fail_unless (ok);
  g_signal_emit_by_name (s->agent, "send-tool-result", "call_W1", "{}",
      "success", &ok);
  fail_if (ok, "a second result was taken");
  i_res = session_wait (s, 0, "tool_result", "toolUseId", "call_W1", WAIT_MS);
  fail_unless (i_res >= 0);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_res), "status"), "success");

  /* the model gets the output and is asked to answer */
  output = assert_call_output (mock, 1, "call_W1");
  expect = parse_json ("{\"temp_c\": 18}");
  fail_unless (json_node_equal (output, expect));
  json_node_unref (output);
  json_node_unref (expect);
  json_node_unref (mock_event (mock, 0, "response.create", 1));
  fail_unless (frame_index (mock, 0, "conversation.item.create", 1) <
      frame_index (mock, 0, "response.create", 1));
  fail_unless (session_wait (s, i_done, "bidi_response_complete",
          "response_id", "resp_T2", WAIT_MS) > i_done);
  session_assert_answer_tail (s, 0, pcm);
  fail_unless_equals_int (session_n_tool_calls (s), 1);

  fail_unless (mock_realtime_wait_script_done (mock, 0, WAIT_MS));
  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* A built-in tool is answered by the element itself */
GST_START_TEST (test_tool_call_builtin)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (300, 12);
  MockRealtimeScript *sc = script_setup ("sess_calc");
  const GstStructure *st;
  JsonNode *output;
  Session *s;
  gboolean ok = FALSE;
  gint i_res;

  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_function_call (sc, "resp_C1", "item_FC2", "call_C1", "calculator",
      "{\"expression\": ", "\"25 * 48\"}");
  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_answer (sc, "resp_C2", "item_C2", "That is 1200.", pcm);
  mock_realtime_push_script (mock, sc);
  s = openai_session_new (mock, DESC_NO_INPUT, "builtin-tools",
      "calculator", NULL);
  session_wait_connected (s);
  g_signal_emit_by_name (s->agent, "send-text", "What is 25 times 48?", &ok);
  fail_unless (ok);

  fail_unless (session_wait (s, 0, "tool_use_stream", "toolUseId",
          "call_C1", WAIT_MS) >= 0);
  i_res = session_wait (s, 0, "tool_result", "toolUseId", "call_C1", WAIT_MS);
  fail_unless (i_res >= 0);
  st = session_msg (s, i_res);
  fail_unless_equals_string (gst_structure_get_string (st, "status"),
      "success");
  fail_unless (strstr (gst_structure_get_string (st, "content"), "1200"),
      "%s", gst_structure_get_string (st, "content"));

  output = assert_call_output (mock, 1, "call_C1");
  fail_unless (JSON_NODE_HOLDS_OBJECT (output));
  fail_unless (G_APPROX_VALUE (jdouble (json_node_get_object (output),
              "result"), 1200.0, 1e-9));
  json_node_unref (output);
  json_node_unref (mock_event (mock, 0, "response.create", 1));
  fail_unless (frame_index (mock, 0, "conversation.item.create", 1) <
      frame_index (mock, 0, "response.create", 1));
  fail_unless (session_wait (s, 0, "bidi_response_complete", "response_id",
          "resp_C2", WAIT_MS) >= 0);
  session_assert_answer_tail (s, 0, pcm);
  /* the application was not asked */
  fail_unless_equals_int (session_n_tool_calls (s), 0);
  g_signal_emit_by_name (s->agent, "send-tool-result", "call_C1", "{}",
      "success", &ok);
  fail_if (ok);

  fail_unless (mock_realtime_wait_script_done (mock, 0, WAIT_MS));
  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 7. Server errors
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_server_error)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (300, 13);
  MockRealtimeScript *sc = script_setup ("sess_err");
  const GstStructure *st;
  Session *s;
  gboolean ok = FALSE;
  gint i_err, i_warn;

  /* a race the client must shrug off, then a real error */
  mock_realtime_script_send (sc, "{\"type\":\"error\",\"error\":{\"type\":"
      "\"invalid_request_error\",\"code\":\"response_cancel_not_active\","
      "\"message\":\"Cancellation failed: no active response found\","
      "\"param\":null,\"event_id\":null}}");
  mock_realtime_script_send (sc, "{\"type\":\"error\",\"error\":{\"type\":"
      "\"invalid_request_error\",\"code\":\"invalid_value\",\"message\":"
      "\"The 'foo' parameter is not valid here.\",\"param\":\"foo\","
      "\"event_id\":\"evt_123\"}}");
  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_answer (sc, "resp_E", "item_E", "Still here.", pcm);
  mock_realtime_push_script (mock, sc);
  s = openai_session_new (mock, DESC_NO_INPUT, NULL);
  session_wait_connected (s);

  i_err = session_wait (s, 0, "bidi_error", NULL, NULL, WAIT_MS);
  fail_unless (i_err >= 0, "no bidi_error");
  st = session_msg (s, i_err);
  fail_unless_equals_string (gst_structure_get_string (st, "code"),
      "invalid_value");
  fail_unless (strstr (gst_structure_get_string (st, "message"),
          "The 'foo' parameter is not valid here.") != NULL, "%s",
      gst_structure_get_string (st, "message"));
  fail_unless_equals_string (gst_structure_get_string (st, "details"),
      "invalid_request_error");
  i_warn = session_wait (s, 0, "warning", NULL, NULL, WAIT_MS);
  fail_unless (i_warn >= 0, "no WARNING message");
  st = session_msg (s, i_warn);
  fail_unless_equals_string (gst_structure_get_string (st, "domain"),
      g_quark_to_string (GST_RESOURCE_ERROR));
  fail_unless (strstr (gst_structure_get_string (st, "message"),
          "The 'foo' parameter is not valid here.") != NULL);

  /* the session goes on */
  g_signal_emit_by_name (s->agent, "send-text", "Are you there?", &ok);
  fail_unless (ok);
  fail_unless (session_wait (s, 0, "bidi_response_complete", "stop_reason",
          "complete", WAIT_MS) >= 0);
  session_assert_answer_tail (s, 0, pcm);
  /* one error, not two */
  fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 1);
  fail_unless_equals_int (session_count (s, "error", NULL, NULL), 0);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 1);

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* Errors that end the session: the session settings refused, the
 * credentials refused mid-session */
GST_START_TEST (test_server_error_fatal)
{
  MockRealtime *mock = mock_realtime_new ();
  MockRealtimeScript *sc;
  const GstStructure *st;
  Session *s;
  JsonNode *ev;
  gint i_err, i_close, i_error;

  mock_realtime_push_script (mock, script_session_created (NULL, "sess_f"));
  s = openai_session_new (mock, DESC_NO_INPUT, "voice", "shimmerx", NULL);
  /* an error about that very session.update */
  ev = mock_event (mock, 0, "session.update", 0);
  fail_unless (jstr (json_node_get_object (ev), "event_id") != NULL,
      "session.update has no event_id");
  sc = mock_realtime_script_new ();
  mock_realtime_script_send_printf (sc, "{\"type\":\"error\",\"error\":"
      "{\"type\":\"invalid_request_error\",\"code\":\"invalid_value\","
      "\"message\":\"Invalid value: 'shimmerx'. Supported values are: "
      "'alloy', 'ash'.\",\"param\":\"session.audio.output.voice\","
      "\"event_id\":\"%s\"}}", jstr (json_node_get_object (ev), "event_id"));
  json_node_unref (ev);
  mock_realtime_run (mock, 0, sc);

  i_err = session_wait (s, 0, "bidi_error", NULL, NULL, WAIT_MS);
  fail_unless (i_err >= 0);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_err), "code"), "invalid_value");
  i_close = session_wait (s, i_err, "bidi_connection_close", "reason",
      "error", WAIT_MS);
  fail_unless (i_close > i_err);
  i_error = session_wait (s, i_close, "error", NULL, NULL, WAIT_MS);
  fail_unless (i_error > i_close, "no ERROR message");
  st = session_msg (s, i_error);
  fail_unless_equals_string (gst_structure_get_string (st, "domain"),
      g_quark_to_string (GST_RESOURCE_ERROR));
  fail_unless (strstr (gst_structure_get_string (st, "message"),
          "refused the session settings") != NULL, "%s",
      gst_structure_get_string (st, "message"));
  fail_unless (strstr (gst_structure_get_string (st, "message"),
          "Invalid value: 'shimmerx'") != NULL);
  fail_unless_equals_int (session_count (s, "bidi_connection_start", NULL,
          NULL), 0);
  /* the client hung up */
  fail_unless (mock_realtime_wait_closed (mock, 0, WAIT_MS));
  session_free (s);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 1);

  /* the key refused by an error event in an established session */
  sc = script_setup ("sess_f2");
  mock_realtime_script_send (sc, "{\"type\":\"error\",\"error\":{\"type\":"
      "\"authentication_error\",\"code\":\"invalid_api_key\",\"message\":"
      "\"Incorrect API key provided: " KEY ".\",\"param\":null,"
      "\"event_id\":null}}");
  mock_realtime_push_script (mock, sc);
  s = openai_session_new (mock, DESC_NO_INPUT, NULL);
  session_wait_connected (s);
  i_err = session_wait (s, 0, "bidi_error", "code", "not_authorized", WAIT_MS);
  fail_unless (i_err >= 0);
  i_error = session_wait (s, i_err, "error", NULL, NULL, WAIT_MS);
  fail_unless (i_error > i_err, "no ERROR message");
  st = session_msg (s, i_error);
  fail_unless_equals_int (g_value_get_int (gst_structure_get_value (st,
              "code")), GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  fail_unless (strstr (gst_structure_get_string (st, "message"),
          "Incorrect API key provided") != NULL, "%s",
      gst_structure_get_string (st, "message"));
  session_assert_no_secret (s, KEY, KEY_TAIL);
  fail_unless (mock_realtime_wait_closed (mock, 1, WAIT_MS));
  session_free (s);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 2);

  assert_mock_clean (mock);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 8. A refused key
 * ------------------------------------------------------------------------ */

static const gchar refusal[] = "{\"error\": {\"message\": \"Incorrect API "
    "key provided: " KEY ". You can find your API key at "
    "https://platform.openai.com/account/api-keys.\", \"type\": "
    "\"invalid_request_error\", \"param\": null, \"code\": "
    "\"invalid_api_key\"}}";

/* Runs a session refused with 401 (body quoting the key) to its ERROR */
static void
run_unauthorized (MockRealtime * mock, guint first_conn)
{
  const GstStructure *st;
  Session *s;
  gint i_err, i_error;
  guint i;
  gchar *auth;

  /* the upgrade, then the same request again to read the body */
  mock_realtime_push_reject (mock, 401, refusal);
  mock_realtime_push_reject (mock, 401, refusal);
  s = openai_session_new (mock, DESC_NO_INPUT, NULL);

  i_error = session_wait (s, 0, "error", NULL, NULL, WAIT_MS);
  fail_unless (i_error >= 0, "no ERROR message");
  st = session_msg (s, i_error);
  GST_INFO ("error: %" GST_PTR_FORMAT, st);
  fail_unless_equals_string (gst_structure_get_string (st, "domain"),
      g_quark_to_string (GST_RESOURCE_ERROR));
  fail_unless_equals_int (g_value_get_int (gst_structure_get_value (st,
              "code")), GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  fail_unless (strstr (gst_structure_get_string (st, "message"),
          "Incorrect API key provided") != NULL, "%s",
      gst_structure_get_string (st, "message"));
  i_err = session_wait (s, 0, "bidi_error", "code", "not_authorized", 0);
  fail_unless (i_err >= 0 && i_err < i_error);
  fail_unless (session_wait (s, i_err, "bidi_connection_close", "reason",
          "error", 0) > i_err);
  fail_unless_equals_int (session_count (s, "bidi_connection_start", NULL,
          NULL), 0);
  session_assert_no_secret (s, KEY, KEY_TAIL);

  /* both requests carried the key; no upgrade happened */
  fail_unless_equals_int (mock_realtime_n_connections (mock), first_conn + 2);
  for (i = first_conn; i < first_conn + 2; i++) {
    fail_unless_equals_int (mock_realtime_get_status (mock, i), 401);
    auth = mock_realtime_get_header (mock, i, "Authorization");
    fail_unless_equals_string (auth, "Bearer " KEY);
    g_free (auth);
  }
  session_free (s);
}

GST_START_TEST (test_unauthorized)
{
  MockRealtime *mock = mock_realtime_new ();

  run_unauthorized (mock, 0);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* No key anywhere: the element fails to start, nothing connects */
GST_START_TEST (test_missing_key)
{
  MockRealtime *mock = mock_realtime_new ();
  const GstStructure *st;
  Session *s;
  gint i_error;

  g_unsetenv ("OPENAI_API_KEY");
  s = openai_session (mock, DESC_NO_INPUT, FALSE);
  fail_unless_equals_int (gst_element_set_state (s->pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  i_error = session_wait (s, 0, "error", NULL, NULL, WAIT_MS);
  fail_unless (i_error >= 0, "no ERROR message");
  st = session_msg (s, i_error);
  fail_unless_equals_string (gst_structure_get_string (st, "domain"),
      g_quark_to_string (GST_RESOURCE_ERROR));
  {
    gint code = -1;

    gst_structure_get_int (st, "code", &code);
    fail_unless_equals_int (code, GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  }
  fail_unless (strstr (gst_structure_get_string (st, "message"),
          "No OpenAI API key") != NULL, "%s",
      gst_structure_get_string (st, "message"));
  fail_unless (strstr (gst_structure_get_string (st, "message"),
          "OPENAI_API_KEY") != NULL);
  session_free (s);
  /* an empty key is no key */
  s = openai_session (mock, DESC_NO_INPUT, FALSE);
  g_object_set (s->agent, "api-key", "", NULL);
  fail_unless_equals_int (gst_element_set_state (s->pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  fail_unless (session_wait (s, 0, "error", NULL, NULL, WAIT_MS) >= 0);
  session_free (s);

  fail_unless_equals_int (mock_realtime_n_connections (mock), 0);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 9. Reconnecting
 * ------------------------------------------------------------------------ */

/* The server closes (its time limit) in the middle of an answer: the
 * session is made again, the conversation replayed, and goes on */
GST_START_TEST (test_reconnect)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm1 = make_pcm (2000, 14), *pcm2 = make_pcm (500, 15);
  GBytes *q1 = make_pcm (200, 16), *q2 = make_pcm (200, 17);
  MockRealtimeScript *sc = script_setup ("sess_r1");
  const gchar *conn_id;
  JsonNode *upd0, *upd1, *ev;
  Session *s;
  gint i_start, i_restart, i_done1, i_done2, first_append, i_start2;
  gboolean same;
  gchar *text;
  guint i;

  mock_realtime_script_wait (sc, "input_audio_buffer.append", 1, WAIT_MS);
  mock_realtime_script_send (sc, "{\"type\":"
      "\"input_audio_buffer.speech_started\",\"audio_start_ms\":100,"
      "\"item_id\":\"item_U1\"}");
  mock_realtime_script_send (sc, "{\"type\":"
      "\"input_audio_buffer.speech_stopped\",\"audio_end_ms\":900,"
      "\"item_id\":\"item_U1\"}");
  mock_realtime_script_send (sc, "{\"type\":\"input_audio_buffer.committed\","
      "\"item_id\":\"item_U1\",\"previous_item_id\":null}");
  mock_realtime_script_send (sc, "{\"type\":"
      "\"conversation.item.input_audio_transcription.completed\","
      "\"item_id\":\"item_U1\",\"content_index\":0,\"transcript\":"
      "\"Tell me a story.\"}");
  script_answer_start (sc, "resp_1", "item_A1", "Sure! ", NULL);
  mock_realtime_script_send (sc, "{\"type\":"
      "\"response.output_audio_transcript.delta\"," IDS ("resp_1", "item_A1")
      ",\"delta\":\"Once upon\"}");
  mock_realtime_script_send_audio (sc, g_bytes_get_data (pcm1, NULL),
      g_bytes_get_size (pcm1), CHUNK_MS, FALSE, "resp_1", "item_A1", 0, 0);
  mock_realtime_script_close (sc, 1001, "Your session hit the maximum "
      "duration of 60 minutes.");
  mock_realtime_push_script (mock, sc);

  /* the new session: configured, the history comes, then (after a while,
   * while the user speaks) the session is ready and the audio comes */
  sc = script_session_created (NULL, "sess_r2");
  mock_realtime_script_wait (sc, "conversation.item.create", 2, WAIT_MS);
  mock_realtime_script_sleep (sc, 400);
  mock_realtime_script_send_session_updated (sc);
  mock_realtime_script_wait (sc, "input_audio_buffer.append", 1, WAIT_MS);
  script_answer (sc, "resp_2", "item_A2", "A fox.", pcm2);
  mock_realtime_push_script (mock, sc);

  s = openai_session_new (mock, DESC_APPSRC, NULL);
  i_start = session_wait_connected (s);
  conn_id = gst_structure_get_string (session_msg (s, i_start),
      "connection_id");
  session_push_bytes (s, q1, 20);

  /* the drop cuts the answer; the user speaks during the gap */
  i_done1 = session_wait (s, i_start, "bidi_response_complete",
      "response_id", "resp_1", WAIT_MS);
  fail_unless (i_done1 > i_start);
  session_push_bytes (s, q2, 20);

  i_restart = session_wait (s, i_start, "bidi_connection_restart", NULL,
      NULL, WAIT_MS);
  fail_unless (i_restart > i_start, "no bidi_connection_restart");
  /* then a new bidi_connection_start */
  i_start2 = session_wait (s, i_restart, "bidi_connection_start", NULL, NULL,
      WAIT_MS);
  fail_unless (i_start2 > i_restart);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_restart), "reason"), "timeout");
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_restart), "connection_id"), conn_id);
  /* the answer cut by the drop ended as an error */
  fail_unless (i_done1 < i_restart);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_done1), "stop_reason"), "error");

  i_done2 = session_wait (s, i_restart, "bidi_response_complete",
      "response_id", "resp_2", WAIT_MS);
  fail_unless (i_done2 > i_restart);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_done2), "stop_reason"), "complete");
  /* both answers played whole */
  session_assert_answer_tail (s, MS_BYTES (2000), pcm2);
  g_mutex_lock (&s->lock);
  same = memcmp (s->answer->data, g_bytes_get_data (pcm1, NULL),
      MS_BYTES (2000)) == 0;
  g_mutex_unlock (&s->lock);
  fail_unless (same, "the first answer differs from what the server sent");

  /* the same session settings */
  upd0 = mock_event (mock, 0, "session.update", 0);
  upd1 = mock_event (mock, 1, "session.update", 0);
  fail_unless (json_node_equal (jget (json_node_get_object (upd0),
              "session"), jget (json_node_get_object (upd1), "session")),
      "the new session is configured differently");
  json_node_unref (upd0);
  json_node_unref (upd1);
  /* session.update, the history, then audio */
  text = frame_type (mock, 1, 0);
  fail_unless_equals_string (text, "session.update");
  g_free (text);
  fail_unless_equals_int (frame_index (mock, 1, "conversation.item.create",
          0), 1);
  fail_unless_equals_int (frame_index (mock, 1, "conversation.item.create",
          1), 2);
  fail_unless_equals_int (mock_realtime_count_events (mock, 1,
          "conversation.item.create"), 2);
  first_append = frame_index (mock, 1, "input_audio_buffer.append", 0);
  fail_unless (first_append > 2);
  ev = mock_event (mock, 1, "conversation.item.create", 0);
  assert_text_item (json_node_get_object (ev), "user", "input_text",
      "Tell me a story.");
  json_node_unref (ev);
  /* what was said of the answer before the drop (all of it was heard) */
  ev = mock_event (mock, 1, "conversation.item.create", 1);
  text = g_strdup (jstr (json_array_get_object_element (json_node_get_array
              (jget (json_node_get_object (ev), "item.content")), 0), "text"));
  fail_unless (text != NULL);
  assert_text_item (json_node_get_object (ev), "assistant", "output_text",
      text);
  fail_unless_equals_string (g_strstrip (text), "Sure! Once upon");
  g_free (text);
  json_node_unref (ev);
  /* no audio went missing or twice: what the user said during the gap
   * came after the reconnect */
  for (i = 0; i < 2; i++)
    fail_unless (mock_realtime_get_audio_bytes (mock, i) > 0);
  /* what the user said during the gap all came after the reconnect; of
   * the first connection's audio, whatever was on the wire when the
   * server closed may be lost, nothing else */
  fail_unless (mock_realtime_wait_audio_bytes (mock, 1, g_bytes_get_size (q2),
          WAIT_MS), "the audio of the gap went missing");
  {
    GBytes *a0 = mock_realtime_get_audio (mock, 0);
    GBytes *a1 = mock_realtime_get_audio (mock, 1);
    gsize n0 = g_bytes_get_size (a0), n1 = g_bytes_get_size (a1);
    gsize nq1 = g_bytes_get_size (q1), nq2 = g_bytes_get_size (q2);

    fail_unless (n0 <= nq1 && memcmp (g_bytes_get_data (a0, NULL),
            g_bytes_get_data (q1, NULL), n0) == 0,
        "the first connection got other audio than the user's");
    fail_unless (n1 >= nq2 && memcmp ((const guint8 *) g_bytes_get_data (a1,
                NULL) + n1 - nq2, g_bytes_get_data (q2, NULL), nq2) == 0,
        "the audio of the gap differs");
    g_bytes_unref (a0);
    g_bytes_unref (a1);
  }

  fail_unless (mock_realtime_wait_script_done (mock, 1, WAIT_MS));
  session_free (s);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 2);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm1);
  g_bytes_unref (pcm2);
  g_bytes_unref (q1);
  g_bytes_unref (q2);
}

GST_END_TEST;

/* Before the server's time limit (max-session-s), the session is renewed
 * at the next pause, never in the middle of an answer: the answer plays
 * to its end, then bidi_connection_restart (timeout), and the new session
 * gets the conversation. */
GST_START_TEST (test_preemptive_renew)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (1500, 19);
  MockRealtimeScript *sc = script_setup ("sess_n1");
  GstStructure *pc;
  Session *s;
  JsonNode *ev;
  gint i_done, i_restart;
  gboolean ok;

  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_answer_start (sc, "resp_L", "item_L", "A long answer.", NULL);
  /* paced: the answer lasts past the session's 1 s */
  mock_realtime_script_send_audio (sc, g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm), CHUNK_MS, TRUE, "resp_L", "item_L", 0, 0);
  script_answer_end (sc, "resp_L", "item_L", "A long answer.", "completed");
  mock_realtime_push_script (mock, sc);
  mock_realtime_push_script (mock, script_setup ("sess_n2"));

  pc = gst_structure_new ("config", "max-session-s", G_TYPE_INT, 1, NULL);
  s = openai_session_new (mock, DESC_NO_INPUT, "provider-config", pc, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);
  g_signal_emit_by_name (s->agent, "send-text", "Tell me something long.",
      &ok);
  fail_unless (ok);

  i_restart = session_wait (s, 0, "bidi_connection_restart", NULL, NULL,
      WAIT_MS);
  fail_unless (i_restart >= 0, "the session was not renewed");
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_restart), "reason"), "timeout");
  i_done = session_wait (s, 0, "bidi_response_complete", "response_id",
      "resp_L", 0);
  fail_unless (i_done >= 0 && i_done < i_restart,
      "renewed in the middle of the answer");
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_done), "stop_reason"), "complete");
  session_assert_answer_tail (s, 0, pcm);
  fail_unless_equals_int (session_count (s, "bidi_interruption", NULL, NULL),
      0);

  /* the client closed the old session itself; the new one got the
   * conversation */
  fail_unless (mock_realtime_wait_closed (mock, 0, WAIT_MS));
  ev = mock_event (mock, 1, "conversation.item.create", 0);
  assert_text_item (json_node_get_object (ev), "user", "input_text",
      "Tell me something long.");
  json_node_unref (ev);

  session_free (s);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 2);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* wss:// is verified: a server certificate nobody trusts is refused
 * before the key is sent; ssl-ca-file adds trust */
GST_START_TEST (test_tls)
{
  MockRealtime *mock;
  TestCert tc;
  Session *s;
  gint i_error;

  test_cert_init (&tc);
  mock = mock_realtime_new_tls (tc.pem);
  fail_unless (g_str_has_prefix (mock_realtime_url (mock), "wss://"));
  mock_realtime_push_script (mock, script_setup ("sess_tls"));

  /* untrusted: an error, and no upgrade request (which holds the key) */
  s = openai_session_new (mock, DESC_NO_INPUT, NULL);
  i_error = session_wait (s, 0, "error", NULL, NULL, WAIT_MS);
  fail_unless (i_error >= 0, "an untrusted server was accepted");
  fail_unless (strstr (gst_structure_get_string (session_msg (s, i_error),
              "message"), KEY) == NULL);
  session_free (s);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 0);

  /* trusted through ssl-ca-file */
  s = openai_session_new (mock, DESC_NO_INPUT, "ssl-ca-file", tc.cert, NULL);
  session_wait_connected (s);
  session_free (s);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 1);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  test_cert_clear (&tc);
}

GST_END_TEST;

/* Plain ws:// goes to loopback hosts only: anything else is refused at
 * start, before any connection is tried */
GST_START_TEST (test_plain_ws_loopback_only)
{
  static const gchar *const urls[] = {
    "ws://192.0.2.1/v1/realtime", "ws://example.com/v1/realtime",
    "http://192.0.2.1:8080/v1/realtime", "ftp://127.0.0.1/x",
    "wss://user:pass@192.0.2.1/v1/realtime",
  };
  static const gchar *const says[] = { "wss://", "wss://", "wss://",
    "wss://", "user information"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (urls); i++) {
    GstElement *e = gst_element_factory_make ("bidiagent", NULL);
    GstBus *bus = gst_bus_new ();
    GstMessage *msg;
    GError *err = NULL;

    g_object_set (e, "provider", "openai", "api-key", KEY, "url", urls[i],
        NULL);
    gst_element_set_bus (e, bus);
    fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
        GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "%s was accepted", urls[i]);
    gst_message_parse_error (msg, &err, NULL);
    fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_SETTINGS), "%s: %s", urls[i], err->message);
    fail_unless (strstr (err->message, says[i]) != NULL, "%s: %s", urls[i],
        err->message);
    fail_unless (strstr (err->message, "pass") == NULL);
    g_error_free (err);
    gst_message_unref (msg);
    gst_element_set_state (e, GST_STATE_NULL);
    gst_element_set_bus (e, NULL);
    gst_object_unref (bus);
    gst_object_unref (e);
  }
}

GST_END_TEST;

/* The key from OPENAI_API_KEY, and the conversation from the messages
 * property, replayed as items before anything else */
GST_START_TEST (test_env_key_and_messages)
{
  MockRealtime *mock = mock_realtime_new ();
  Session *s;
  JsonNode *ev;
  JsonObject *item;
  gchar *auth;

  mock_realtime_push_script (mock, script_setup ("sess_env"));
  g_setenv ("OPENAI_API_KEY", KEY, TRUE);
  s = openai_session (mock, DESC_NO_INPUT, FALSE);
  g_object_set (s->agent, "messages", "["
      "{\"role\": \"user\", \"content\": [{\"text\": \"My name is Ada.\"}]},"
      "{\"role\": \"assistant\", \"content\": [{\"text\": \"Hello Ada.\"},"
      " {\"toolUse\": {\"toolUseId\": \"t1\", \"name\": \"current_time\","
      "  \"input\": {}}}]},"
      "{\"role\": \"user\", \"content\": [{\"toolResult\": {\"toolUseId\":"
      " \"t1\", \"status\": \"success\", \"content\": [{\"text\": \"9:00\"}]}}]}"
      "]", NULL);
  fail_if (gst_element_set_state (s->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  session_wait_connected (s);
  g_unsetenv ("OPENAI_API_KEY");

  auth = mock_realtime_get_header (mock, 0, "Authorization");
  fail_unless_equals_string (auth, "Bearer " KEY);
  g_free (auth);

  /* session.update, then the conversation in the GA item forms */
  ev = mock_event (mock, 0, "conversation.item.create", 0);
  assert_text_item (json_node_get_object (ev), "user", "input_text",
      "My name is Ada.");
  json_node_unref (ev);
  ev = mock_event (mock, 0, "conversation.item.create", 1);
  assert_text_item (json_node_get_object (ev), "assistant", "output_text",
      "Hello Ada.");
  json_node_unref (ev);
  ev = mock_event (mock, 0, "conversation.item.create", 2);
  item = json_node_get_object (ev);
  fail_unless_equals_string (jstr (item, "item.type"), "function_call");
  fail_unless_equals_string (jstr (item, "item.call_id"), "t1");
  fail_unless_equals_string (jstr (item, "item.name"), "current_time");
  json_node_unref (ev);
  ev = mock_event (mock, 0, "conversation.item.create", 3);
  item = json_node_get_object (ev);
  fail_unless_equals_string (jstr (item, "item.type"), "function_call_output");
  fail_unless_equals_string (jstr (item, "item.call_id"), "t1");
  fail_unless_equals_string (jstr (item, "item.output"), "9:00");
  json_node_unref (ev);
  fail_unless (frame_index (mock, 0, "session.update", 0) <
      frame_index (mock, 0, "conversation.item.create", 0));

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* A server that keeps failing: after reconnect-attempts, a clear error */
GST_START_TEST (test_reconnect_gives_up)
{
  MockRealtime *mock = mock_realtime_new ();
  MockRealtimeScript *sc = script_setup ("sess_g1");
  GstStructure *pc;
  Session *s;
  gint i_error;
  guint i;

  mock_realtime_script_drop (sc);
  mock_realtime_push_script (mock, sc);
  for (i = 0; i < 3; i++)
    mock_realtime_push_reject (mock, 503, "{\"error\": {\"message\": "
        "\"Service unavailable\"}}");

  pc = gst_structure_new ("config", "reconnect-attempts", G_TYPE_INT, 2,
      "reconnect-delay-ms", G_TYPE_INT, 10, NULL);
  s = openai_session_new (mock, DESC_NO_INPUT, "provider-config", pc, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);
  i_error = session_wait (s, 0, "error", NULL, NULL, WAIT_MS);
  fail_unless (i_error >= 0, "no error after the attempts ran out");
  fail_unless (strstr (gst_structure_get_string (session_msg (s, i_error),
              "message"), "2") != NULL, "%s",
      gst_structure_get_string (session_msg (s, i_error), "message"));
  fail_unless (session_wait (s, 0, "bidi_connection_close", "reason", "error",
          0) >= 0);
  session_free (s);
  /* the first connection, then two attempts (each may read the refusal's
   * body once more) */
  fail_unless (mock_realtime_n_connections (mock) >= 3);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* The TCP connection drops without a close frame: reconnected after the
 * backoff delay */
GST_START_TEST (test_reconnect_drop)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (300, 18);
  MockRealtimeScript *sc = script_setup ("sess_d1");
  GstStructure *pc;
  Session *s;
  gboolean ok = FALSE;
  gint i_restart;

  mock_realtime_script_drop (sc);
  mock_realtime_push_script (mock, sc);
  sc = script_setup ("sess_d2");
  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_answer (sc, "resp_D", "item_D", "Back.", pcm);
  mock_realtime_push_script (mock, sc);

  pc = gst_structure_new ("config", "reconnect-delay-ms", G_TYPE_INT, 20, NULL);
  s = openai_session_new (mock, DESC_NO_INPUT, "provider-config", pc, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);
  i_restart = session_wait (s, 0, "bidi_connection_restart", NULL, NULL,
      WAIT_MS);
  fail_unless (i_restart >= 0, "no bidi_connection_restart");
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_restart), "reason"), "connection_lost");
  g_signal_emit_by_name (s->agent, "send-text", "Still there?", &ok);
  fail_unless (ok);
  fail_unless (session_wait (s, i_restart, "bidi_response_complete",
          "response_id", "resp_D", WAIT_MS) > i_restart);
  session_assert_answer_tail (s, 0, pcm);
  fail_unless_equals_int (session_count (s, "error", NULL, NULL), 0);

  session_free (s);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 2);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* The connection drops while a phased answer (a commentary, then the
 * final answer) is still being spoken, before the element recorded it;
 * the server had sent it @whole, or only up to the final answer's audio.
 * The new session gets it as two assistant messages, in order, as the
 * element's history will have it, not glued into one. */
static void
check_reconnect_phases (gboolean whole)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm1 = make_pcm (300, 46), *pcm2 = make_pcm (1000, 47);
  MockRealtimeScript *sc = script_setup ("sess_q1");
  const gchar *const items[] = { MOCK_REALTIME_PHASED_COMMENTARY,
    MOCK_REALTIME_PHASED_FINAL
  };
  GstStructure *pc;
  Session *s;
  gint i_restart;

  (whole ? mock_realtime_script_add_phased_answer :
      mock_realtime_script_add_phased_answer_start) (sc,
      g_bytes_get_data (pcm1, NULL), g_bytes_get_size (pcm1),
      g_bytes_get_data (pcm2, NULL), g_bytes_get_size (pcm2));
  mock_realtime_script_drop (sc);
  mock_realtime_push_script (mock, sc);
  mock_realtime_push_script (mock, script_setup ("sess_q2"));

  pc = gst_structure_new ("config", "reconnect-delay-ms", G_TYPE_INT, 20, NULL);
  s = openai_session_new (mock, DESC_NO_INPUT, "provider-config", pc, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);
  i_restart = session_wait (s, 0, "bidi_connection_restart", NULL, NULL,
      WAIT_MS);
  fail_unless (i_restart >= 0, "no bidi_connection_restart");
  fail_unless (session_wait (s, i_restart, "bidi_connection_start", NULL,
          NULL, WAIT_MS) > i_restart);
  /* the final answer's words had come before the drop */
  fail_unless (session_wait (s, 0, "bidi_transcript_stream", "phase",
          "final_answer", 0) < i_restart);
  fail_unless (session_wait (s, 0, "bidi_response_complete", "stop_reason",
          whole ? "complete" : "error", 0) < i_restart);

  fail_unless (mock_realtime_wait_script_done (mock, 1, WAIT_MS));
  assert_replayed_answer (mock, items, G_N_ELEMENTS (items));
  fail_unless_equals_int (session_count (s, "error", NULL, NULL), 0);

  session_free (s);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 2);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm1);
  g_bytes_unref (pcm2);
}

GST_START_TEST (test_reconnect_phases)
{
  check_reconnect_phases (TRUE);
  check_reconnect_phases (FALSE);
}

GST_END_TEST;

/* A server that hangs in the middle of an answer (the socket stays open,
 * nothing more comes): once it was silent for stall-timeout-ms while it
 * owed the answer, the connection is taken as dead, the answer ends as an
 * error and the session is made again. A session that is silent as long
 * while nothing is owed is left alone. */
GST_START_TEST (test_stall_reconnect)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (300, 21);
  MockRealtimeScript *sc = script_setup ("sess_t1");
  guint stall_ms = 1000 * slow;
  GstStructure *pc;
  Session *s;
  gboolean ok = FALSE;
  gint i_start, i_done, i_restart, i_start2;
  gint64 asked;

  mock_realtime_script_wait (sc, "response.create", 1, 4 * WAIT_MS);
  script_answer_start (sc, "resp_T1", "item_T1", "Once upon", pcm);
  mock_realtime_script_stall (sc);
  mock_realtime_push_script (mock, sc);
  sc = script_setup ("sess_t2");
  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_answer (sc, "resp_T2", "item_T2", "Back.", pcm);
  mock_realtime_push_script (mock, sc);

  pc = gst_structure_new ("config", "stall-timeout-ms", G_TYPE_INT, stall_ms,
      "reconnect-delay-ms", G_TYPE_INT, 20, NULL);
  s = openai_session_new (mock, DESC_NO_INPUT, "provider-config", pc, NULL);
  gst_structure_free (pc);
  i_start = session_wait_connected (s);

  /* idle: nothing is owed, silence is normal */
  g_usleep (2 * stall_ms * G_TIME_SPAN_MILLISECOND);
  fail_unless_equals_int (session_count (s, "bidi_connection_restart", NULL,
          NULL), 0);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 1);

  asked = g_get_monotonic_time ();
  g_signal_emit_by_name (s->agent, "send-text", "Tell me a story.", &ok);
  fail_unless (ok);
  i_done = session_wait (s, i_start, "bidi_response_complete", "response_id",
      "resp_T1", WAIT_MS + stall_ms);
  fail_unless (i_done > i_start, "the answer of the hung server never ended");
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_done), "stop_reason"), "error");
  i_restart = session_wait (s, i_done, "bidi_connection_restart", NULL, NULL,
      WAIT_MS);
  fail_unless (i_restart > i_done, "no bidi_connection_restart");
  /* not before the server was silent that long */
  fail_unless (g_get_monotonic_time () - asked >=
      (gint64) stall_ms * G_TIME_SPAN_MILLISECOND);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_restart), "reason"), "connection_lost");
  fail_unless (mock_realtime_wait_closed (mock, 0, WAIT_MS),
      "the hung connection was not closed");

  /* the new session works */
  i_start2 = session_wait (s, i_restart, "bidi_connection_start", NULL, NULL,
      WAIT_MS);
  fail_unless (i_start2 > i_restart);
  g_signal_emit_by_name (s->agent, "send-text", "Still there?", &ok);
  fail_unless (ok);
  fail_unless (session_wait (s, i_start2, "bidi_response_complete",
          "stop_reason", "complete", WAIT_MS) > i_start2);
  fail_unless (mock_realtime_wait_script_done (mock, 1, WAIT_MS));
  fail_unless_equals_int (session_count (s, "error", NULL, NULL), 0);
  fail_unless_equals_int (session_count (s, "bidi_connection_restart", NULL,
          NULL), 1);

  session_free (s);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 2);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* A server that fails every session just after setting it up (close 1011
 * 50 ms after session.updated): such a session is not established, so it
 * does not reset the attempts. reconnect-attempts reconnections with a
 * growing backoff, then a clear error, and no connection after it. */
GST_START_TEST (test_reconnect_storm)
{
  MockRealtime *mock = mock_realtime_new ();
  const guint attempts = 3, delay_ms = 200;
  MockRealtimeScript *sc;
  GstStructure *pc;
  const GstStructure *st;
  const gchar *msg;
  Session *s;
  gint i_error;
  guint i;

  for (i = 0; i < attempts + 2; i++) {
    gchar *id = g_strdup_printf ("sess_x%u", i);

    sc = script_setup (id);
    mock_realtime_script_sleep (sc, 50);
    mock_realtime_script_close (sc, 1011, "Internal server error");
    mock_realtime_push_script (mock, sc);
    g_free (id);
  }

  pc = gst_structure_new ("config", "reconnect-attempts", G_TYPE_INT,
      attempts, "reconnect-delay-ms", G_TYPE_INT, delay_ms, NULL);
  s = openai_session_new (mock, DESC_NO_INPUT, "provider-config", pc, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);
  i_error = session_wait (s, 0, "error", NULL, NULL, 3 * WAIT_MS);
  fail_unless (i_error >= 0, "no error after the attempts ran out");
  st = session_msg (s, i_error);
  msg = gst_structure_get_string (st, "message");
  fail_unless (strstr (msg, "Gave up after 3 reconnection attempts") != NULL,
      "%s", msg);
  fail_unless (strstr (msg, "1011") != NULL, "%s", msg);
  fail_unless (session_wait (s, 0, "bidi_error", NULL, NULL, 0) >= 0);
  fail_unless (session_wait (s, 0, "bidi_connection_close", "reason", "error",
          0) >= 0);
  /* every reconnection made a session: one restart each */
  fail_unless_equals_int (session_count (s, "bidi_connection_restart", NULL,
          NULL), attempts);

  /* exactly reconnect-attempts reconnections, and none after the error */
  fail_unless_equals_int (mock_realtime_n_connections (mock), attempts + 1);
  g_usleep (4 * delay_ms * G_TIME_SPAN_MILLISECOND);
  fail_unless_equals_int (mock_realtime_n_connections (mock), attempts + 1);
  /* the backoff grows: attempt k waits at least half of delay * 2^(k-1)
   * (the jitter) after the close, which came after the session was set up */
  for (i = 1; i <= attempts; i++) {
    gint64 gap = mock_realtime_get_request_time (mock, i) -
        mock_realtime_get_request_time (mock, i - 1);
    gint64 least = (gint64) delay_ms * (1 << (i - 1)) / 2;

    fail_unless (gap >= least * G_TIME_SPAN_MILLISECOND, "attempt %u came "
        "%" G_GINT64_FORMAT " ms after the one before, not after %"
        G_GINT64_FORMAT " ms at least", i, gap / 1000, least);
  }

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* The system prompt beyond what is accepted is refused at start with a
 * clear error, never cut; the limit itself is taken whole */
GST_START_TEST (test_system_prompt_too_long)
{
  MockRealtime *mock = mock_realtime_new ();
  gchar *prompt = g_strnfill (256 * 1024 + 1, 'a');
  const GstStructure *st;
  JsonNode *upd;
  Session *s;
  gint i_error, code = -1;

  s = openai_session (mock, DESC_NO_INPUT, TRUE);
  g_object_set (s->agent, "system-prompt", prompt, NULL);
  fail_unless_equals_int (gst_element_set_state (s->pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  i_error = session_wait (s, 0, "error", NULL, NULL, WAIT_MS);
  fail_unless (i_error >= 0, "no ERROR message");
  st = session_msg (s, i_error);
  fail_unless_equals_string (gst_structure_get_string (st, "domain"),
      g_quark_to_string (GST_RESOURCE_ERROR));
  gst_structure_get_int (st, "code", &code);
  fail_unless_equals_int (code, GST_RESOURCE_ERROR_SETTINGS);
  fail_unless (strstr (gst_structure_get_string (st, "message"),
          "system prompt is 262145 bytes") != NULL, "%s",
      gst_structure_get_string (st, "message"));
  fail_unless (strstr (gst_structure_get_string (st, "message"),
          "256 KiB") != NULL);
  session_free (s);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 0);

  prompt[256 * 1024] = '\0';
  mock_realtime_push_script (mock, script_setup ("sess_p1"));
  s = openai_session_new (mock, DESC_NO_INPUT, "system-prompt", prompt, NULL);
  session_wait_connected (s);
  upd = first_session_update (mock, 0);
  fail_unless (g_strcmp0 (jstr (json_node_get_object (upd),
              "session.instructions"), prompt) == 0,
      "the prompt at the limit was not sent whole");
  json_node_unref (upd);
  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_free (prompt);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 10. Bad messages from the server
 * ------------------------------------------------------------------------ */

/* Log lines of the bidiopenai category, gathered for a test */
static GMutex log_lock;
static GString *log_lines;

static void
log_func (GstDebugCategory * category, G_GNUC_UNUSED GstDebugLevel level,
    G_GNUC_UNUSED const gchar * file, G_GNUC_UNUSED const gchar * function,
    G_GNUC_UNUSED gint line, G_GNUC_UNUSED GObject * object,
    GstDebugMessage * message, G_GNUC_UNUSED gpointer user_data)
{
  if (strcmp (gst_debug_category_get_name (category), "bidiopenai") != 0)
    return;
  g_mutex_lock (&log_lock);
  if (log_lines)
    g_string_append_printf (log_lines, "%s\n", gst_debug_message_get (message));
  g_mutex_unlock (&log_lock);
}

GST_START_TEST (test_bad_messages)
{
  static const guint8 binary[] = { 0, 1, 2, 3, 0xff, 0xfe, 0x80, 0x81 };
  static const struct
  {
    const gchar *frame;
    const gchar *says;
  } bad[] = {
    {"{\"type\": \"response.created\", oops", "malformed JSON"},
    {"[1, 2, 3]", "JSON object"},
    {"{\"no_type\": true}", "without a type"},
    {"{\"type\":\"response.output_audio.delta\"," IDS ("resp_X", "item_X")
        ",\"delta\":\"@@@@not/base64!!\"}", "invalid base64"},
    /* three bytes: not whole 16-bit samples */
    {"{\"type\":\"response.output_audio.delta\"," IDS ("resp_X", "item_X")
        ",\"delta\":\"AAAA\"}", "partial audio frame"},
  };
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (400, 19);
  MockRealtimeScript *sc = script_setup ("sess_bad");
  Session *s;
  gboolean ok = FALSE;
  guint i, n_errors;
  gint i_err = -1;
  gchar *logged;

  g_mutex_lock (&log_lock);
  log_lines = g_string_new (NULL);
  g_mutex_unlock (&log_lock);
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (log_func, NULL, NULL);
  gst_debug_set_threshold_for_name ("bidiopenai", GST_LEVEL_INFO);
  gst_debug_set_active (TRUE);

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    mock_realtime_script_send_raw (sc, bad[i].frame);
  mock_realtime_script_send_binary (sc, binary, sizeof (binary));
  /* a type from a newer protocol */
  mock_realtime_script_send (sc, "{\"type\":\"response.hologram.delta\","
      "\"delta\":\"...\"}");
  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  script_answer (sc, "resp_OK", "item_OK", "All good.", pcm);
  mock_realtime_push_script (mock, sc);
  s = openai_session_new (mock, DESC_NO_INPUT, NULL);
  session_wait_connected (s);

  /* each malformed message is reported, in order */
  for (i = 0; i < G_N_ELEMENTS (bad) + 1; i++) {
    const GstStructure *st;

    i_err = session_wait (s, i_err + 1, "bidi_error", NULL, NULL, WAIT_MS);
    fail_unless (i_err >= 0, "bad message %u was not reported", i);
    st = session_msg (s, i_err);
    GST_INFO ("%" GST_PTR_FORMAT, st);
    fail_unless_equals_string (gst_structure_get_string (st, "code"),
        "bad_message");
    if (i < G_N_ELEMENTS (bad))
      fail_unless (strstr (gst_structure_get_string (st, "message"),
              bad[i].says) != NULL, "%u: %s", i,
          gst_structure_get_string (st, "message"));
    if (i == G_N_ELEMENTS (bad))
      fail_unless (strstr (gst_structure_get_string (st, "message"),
              "binary") != NULL, "%s", gst_structure_get_string (st,
              "message"));
  }

  /* and the session goes on */
  g_signal_emit_by_name (s->agent, "send-text", "Hello?", &ok);
  fail_unless (ok);
  fail_unless (session_wait (s, 0, "bidi_response_complete", "response_id",
          "resp_OK", WAIT_MS) >= 0);
  session_assert_answer_tail (s, 0, pcm);
  n_errors = session_count (s, "bidi_error", NULL, NULL);
  fail_unless_equals_int (n_errors, G_N_ELEMENTS (bad) + 1);
  fail_unless (session_count (s, "warning", NULL, NULL) >= n_errors);
  fail_unless_equals_int (session_count (s, "error", NULL, NULL), 0);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 1);

  session_free (s);
  gst_debug_remove_log_function (log_func);
  gst_debug_unset_threshold_for_name ("bidiopenai");
  gst_debug_add_log_function (gst_debug_log_default, NULL, NULL);
  g_mutex_lock (&log_lock);
  logged = g_string_free (log_lines, FALSE);
  log_lines = NULL;
  g_mutex_unlock (&log_lock);
  /* the unknown event is only logged, as a warning */
  fail_unless (strstr (logged, "ignoring unknown server event "
          "response.hologram.delta (newer protocol?)") != NULL,
      "the unknown event was not logged");
  g_free (logged);

  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* A message above max-message-size: libsoup closes the socket; reported,
 * and a new session takes over */
GST_START_TEST (test_oversized_message)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (300, 20);
  MockRealtimeScript *sc = script_setup ("sess_big1");
  GstStructure *pc;
  const GstStructure *st;
  Session *s;
  gint i_err, i_restart;

  mock_realtime_script_send_padded (sc, "{\"type\":"
      "\"response.output_audio_transcript.delta\"," IDS ("resp_Y", "item_Y")
      ",\"delta\":\"big\"}", 32768);
  mock_realtime_push_script (mock, sc);
  sc = script_setup ("sess_big2");
  script_answer (sc, "resp_Z", "item_Z", "After the big one.", pcm);
  mock_realtime_push_script (mock, sc);

  /* room for a 100 ms audio delta (6.4 kB of base64), not for 32 kB */
  pc = gst_structure_new ("config", "max-message-size", G_TYPE_INT, 16384,
      NULL);
  s = openai_session_new (mock, DESC_NO_INPUT, "provider-config", pc, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);

  i_err = session_wait (s, 0, "bidi_error", NULL, NULL, WAIT_MS);
  fail_unless (i_err >= 0, "the big message was not reported");
  st = session_msg (s, i_err);
  fail_unless_equals_string (gst_structure_get_string (st, "code"),
      "bad_message");
  fail_unless (strstr (gst_structure_get_string (st, "message"), "16384"),
      "%s", gst_structure_get_string (st, "message"));
  fail_unless (session_wait (s, 0, "warning", NULL, NULL, WAIT_MS) >= 0);
  i_restart = session_wait (s, i_err, "bidi_connection_restart", NULL, NULL,
      WAIT_MS);
  fail_unless (i_restart > i_err, "no reconnection");
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_restart), "reason"), "connection_lost");
  fail_unless (session_wait (s, i_restart, "bidi_response_complete",
          "response_id", "resp_Z", WAIT_MS) > i_restart);
  session_assert_answer_tail (s, 0, pcm);
  /* the client dropped the first socket (libsoup closes the stream of an
   * oversized frame at once, without a close frame) */
  fail_unless (mock_realtime_wait_closed (mock, 0, WAIT_MS));

  session_free (s);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 2);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 11. The key in the logs
 * ------------------------------------------------------------------------ */

/* A whole spoken turn and a refused key, everything logged at level 9 */
GST_START_TEST (test_no_secret_in_logs)
{
  MockRealtime *mock;
  GBytes *pcm = make_pcm (500, 21), *question = make_pcm (200, 22);
  MockRealtimeScript *sc = mock_realtime_script_new ();
  Session *s;
  guint n_lines = 0;
  gboolean seen;

  bidi_secret_watch_start (KEY, "*");

  mock = mock_realtime_new ();
  mock_realtime_script_add_golden (sc, g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm));
  mock_realtime_push_script (mock, sc);
  s = openai_session_new (mock, DESC_APPSRC, NULL);
  session_wait_connected (s);
  session_push_bytes (s, question, 20);
  fail_unless (session_wait (s, 0, "bidi_response_complete", NULL, NULL,
          WAIT_MS) >= 0);
  session_assert_answer_tail (s, 0, pcm);
  session_assert_no_secret (s, KEY, KEY_TAIL);
  session_free (s);

  run_unauthorized (mock, 1);
  mock_realtime_free (mock);

  seen = bidi_secret_watch_stop (&n_lines);
  GST_INFO ("%u log lines watched", n_lines);
  fail_unless (n_lines > 1000, "only %u log lines", n_lines);
  fail_if (seen, "the API key appeared in the debug log");
  g_bytes_unref (pcm);
  g_bytes_unref (question);
}

GST_END_TEST;

/* A server that hangs while nothing is owed and stops reading (libsoup
 * 3.2 cannot see that its pings go unanswered): the live microphone's
 * audio is no longer taken, the socket's unacknowledged bytes never go
 * down, and once that lasted stall-timeout-ms the connection is taken as
 * dead and made again; the new session answers. Over ws:// (__i__ 0) and
 * wss:// (1), where TLS wraps the socket. */
GST_START_TEST (test_frozen_server_reconnect)
{
  TestCert tc;
  MockRealtime *mock;
  GBytes *pcm = make_pcm (300, 23);
  MockRealtimeScript *sc = script_setup ("sess_f1");
  guint stall_ms = 1000 * slow;
  GstStructure *pc;
  Session *s;
  gboolean ok = FALSE;
  gint i_start, i_restart, i_start2;
  gint64 connected;
  gchar *ev;

  test_cert_init (&tc);
  mock = __i__ ? mock_realtime_new_tls (tc.pem) : mock_realtime_new ();
  mock_realtime_script_freeze (sc);
  mock_realtime_push_script (mock, sc);
  sc = script_setup ("sess_f2");
  mock_realtime_script_wait (sc, "response.create", 1, 4 * WAIT_MS);
  script_answer (sc, "resp_F2", "item_F2", "Back.", pcm);
  mock_realtime_push_script (mock, sc);

  pc = gst_structure_new ("config", "stall-timeout-ms", G_TYPE_INT, stall_ms,
      "reconnect-delay-ms", G_TYPE_INT, 20, NULL);
  s = openai_session_new (mock, DESC_LIVE, "provider-config", pc,
      "ssl-ca-file", __i__ ? tc.cert : NULL, NULL);
  gst_structure_free (pc);
  i_start = session_wait_connected (s);
  connected = g_get_monotonic_time ();

  /* nothing is owed: only what is sent and never taken tells */
  i_restart = session_wait (s, i_start, "bidi_connection_restart", NULL,
      NULL, 4 * WAIT_MS);
  fail_unless (i_restart > i_start, "the frozen server was never noticed");
  fail_unless (g_get_monotonic_time () - connected >=
      (gint64) stall_ms * G_TIME_SPAN_MILLISECOND);
  fail_unless_equals_string (gst_structure_get_string (session_msg (s,
              i_restart), "reason"), "connection_lost");
  fail_unless_equals_int (session_count (s, "bidi_response_complete", NULL,
          NULL), 0);

  /* the new session takes the microphone and answers */
  i_start2 = session_wait (s, i_restart, "bidi_connection_start", NULL, NULL,
      WAIT_MS);
  fail_unless (i_start2 > i_restart);
  ev = mock_realtime_wait_event (mock, 1, "input_audio_buffer.append", 0,
      WAIT_MS);
  fail_unless (ev != NULL, "no audio in the new session");
  g_free (ev);
  g_signal_emit_by_name (s->agent, "send-text", "Still there?", &ok);
  fail_unless (ok);
  fail_unless (session_wait (s, i_start2, "bidi_response_complete",
          "response_id", "resp_F2", WAIT_MS) > i_start2);
  fail_unless (mock_realtime_wait_script_done (mock, 1, WAIT_MS));
  fail_unless_equals_int (session_count (s, "error", NULL, NULL), 0);
  fail_unless_equals_int (session_count (s, "bidi_connection_restart", NULL,
          NULL), 1);

  session_free (s);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 2);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  test_cert_clear (&tc);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* A server that stops reading, and no dead-peer rule (stall-timeout-ms
 * 0): what waits to be sent stays bounded. Past a few seconds of audio
 * queued behind the full socket the element is told the input is full,
 * and the live microphone's oldest audio is dropped there, counted. */
GST_START_TEST (test_frozen_server_input_bounded)
{
  MockRealtime *mock = mock_realtime_new ();
  MockRealtimeScript *sc = script_setup ("sess_b1");
  GstStructure *pc;
  Session *s;
  gint64 end;

  mock_realtime_script_freeze (sc);
  mock_realtime_push_script (mock, sc);

  pc = gst_structure_new ("config", "stall-timeout-ms", G_TYPE_INT, 0, NULL);
  s = openai_session_new (mock, DESC_LIVE, "provider-config", pc,
      "input-buffer-ms", 500, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);

  end = deadline (6 * WAIT_MS);
  while (session_stat (s, "input-dropped-ms") == 0 &&
      g_get_monotonic_time () < end)
    g_usleep (100 * G_TIME_SPAN_MILLISECOND);
  fail_unless (session_stat (s, "input-dropped-ms") > 0,
      "the input was never held back");
  fail_unless_equals_int (session_count (s, "bidi_connection_restart", NULL,
          NULL), 0);
  fail_unless_equals_int (session_count (s, "error", NULL, NULL), 0);

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* While a dropped session is made again, the element keeps the input: a
 * file (non-live) waits and loses nothing, even past the 10 s the
 * provider itself would keep. 15 s of audio pushed during the gap all
 * reach the new session, in order. */
GST_START_TEST (test_reconnect_file_waits)
{
  MockRealtime *mock = mock_realtime_new ();
  GBytes *pcm = make_pcm (15000, 31);
  MockRealtimeScript *sc = script_setup ("sess_w1");
  GstStructure *pc;
  Session *s;
  GBytes *got;
  gint64 end;

  mock_realtime_script_drop (sc);
  mock_realtime_push_script (mock, sc);
  /* the gap: the second session is confirmed only after a while */
  sc = mock_realtime_script_new ();
  mock_realtime_script_sleep (sc, 1000 + 1000 * slow);
  script_session_created (sc, "sess_w2");
  mock_realtime_script_send_session_updated (sc);
  mock_realtime_push_script (mock, sc);

  pc = gst_structure_new ("config", "reconnect-delay-ms", G_TYPE_INT, 20,
      "connect-timeout-ms", G_TYPE_INT, 2 * WAIT_MS, NULL);
  s = openai_session_new (mock, DESC_APPSRC, "provider-config", pc, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);
  end = deadline (WAIT_MS);
  while (mock_realtime_n_connections (mock) < 2 &&
      g_get_monotonic_time () < end)
    g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 2);

  /* blocks once the element's buffer is full, until the session is back */
  session_push_bytes (s, pcm, 100);
  fail_unless (mock_realtime_wait_audio_bytes (mock, 1, g_bytes_get_size
          (pcm), 2 * WAIT_MS), "only %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
      " bytes of audio reached the new session",
      mock_realtime_get_audio_bytes (mock, 1), g_bytes_get_size (pcm));
  got = mock_realtime_get_audio (mock, 1);
  fail_unless (g_bytes_equal (got, pcm), "the audio changed on its way");
  g_bytes_unref (got);
  fail_unless_equals_int (mock_realtime_get_audio_bytes (mock, 0), 0);
  fail_unless_equals_uint64 (session_stat (s, "input-dropped-ms"), 0);
  fail_unless_equals_int (session_count (s, "bidi_connection_restart", NULL,
          NULL), 1);

  session_free (s);
  assert_mock_clean (mock);
  mock_realtime_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

static Suite *
openai_suite (void)
{
  Suite *s = suite_create ("openai");
  TCase *tc = tcase_create ("e2e");
  const gchar *preload = g_getenv ("LD_PRELOAD");

  if (preload && strstr (preload, "vgpreload"))
    slow = 20;
  /* never a real key, organization or project from the environment */
  g_unsetenv ("OPENAI_API_KEY");
  g_unsetenv ("OPENAI_ORG_ID");
  g_unsetenv ("OPENAI_PROJECT_ID");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, leftover_stop);
  tcase_set_timeout (tc, 60 * slow);
  tcase_add_test (tc, test_setup_request_defaults);
  tcase_add_test (tc, test_setup_session_fields);
  tcase_add_test (tc, test_setup_turn_detection);
  tcase_add_test (tc, test_setup_audio_waits);
  tcase_add_test (tc, test_golden_turn);
  tcase_add_test (tc, test_vad_moments);
  tcase_add_test (tc, test_barge_in);
  tcase_add_test (tc, test_barge_in_client_cancel);
  tcase_add_test (tc, test_interrupt_signal);
  tcase_add_test (tc, test_reasoning_effort);
  tcase_add_test (tc, test_response_phases);
  tcase_add_test (tc, test_response_phases_barge_in);
  tcase_add_test (tc, test_response_phases_barge_in_commentary);
  tcase_add_test (tc, test_response_phases_barge_in_reconnect);
  tcase_add_test (tc, test_send_text);
  tcase_add_test (tc, test_send_image);
  tcase_add_test (tc, test_image_provider);
  tcase_add_test (tc, test_tool_call_app);
  tcase_add_test (tc, test_tool_call_builtin);
  tcase_add_test (tc, test_tool_call_unknown_and_timeout);
  tcase_add_test (tc, test_server_error);
  tcase_add_test (tc, test_server_error_fatal);
  tcase_add_test (tc, test_unauthorized);
  tcase_add_test (tc, test_missing_key);
  tcase_add_test (tc, test_reconnect);
  tcase_add_test (tc, test_reconnect_drop);
  tcase_add_test (tc, test_reconnect_phases);
  tcase_add_test (tc, test_preemptive_renew);
  tcase_add_test (tc, test_reconnect_gives_up);
  tcase_add_test (tc, test_stall_reconnect);
  tcase_add_test (tc, test_reconnect_storm);
  tcase_add_test (tc, test_system_prompt_too_long);
  tcase_add_test (tc, test_tls);
  tcase_add_test (tc, test_plain_ws_loopback_only);
  tcase_add_test (tc, test_env_key_and_messages);
  tcase_add_test (tc, test_bad_messages);
  tcase_add_test (tc, test_oversized_message);
  tcase_add_test (tc, test_no_secret_in_logs);
  tcase_add_loop_test (tc, test_frozen_server_reconnect, 0, 2);
  tcase_add_test (tc, test_frozen_server_input_bounded);
  tcase_add_test (tc, test_reconnect_file_waits);
  return s;
}

GST_CHECK_MAIN (openai);
