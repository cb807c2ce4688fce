/* gst-bidi: bidiagent with provider=nova-sonic, end to end against a mock
 * Amazon Bedrock server
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Each test runs a real pipeline whose bidiagent (provider=nova-sonic)
 * talks HTTP/2 over TLS to the mock server of
 * tests/check/common/mockbedrock.h on 127.0.0.1, trusting its certificate
 * through ssl-ca-file, with fake credentials that are only ever set with
 * g_object_set. The mock verifies the request's SigV4 signature and every
 * event's, decodes every frame and checks the Nova event order; the tests
 * end by asserting it saw no breach. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>

#include "gstbidieventstream.h"
#include "mockbedrock.h"
#include "buslog.h"
#include "secretwatch.h"
#include "leftover.h"
#include "session.h"
#include "testjson.h"

/* a piece of the secret that a leak would show */
#define SECRET_TAIL "not-a-real-key-0123456789"
#define TOKEN "fake-session-token-abcdefghijklmnopqrstuvwxyz"
#define TOKEN_TAIL "abcdefghijklmnopqrstuvwxyz"

#define IN_RATE 16000
#define OUT_RATE 24000
#define OUT_MS_BYTES(ms) ((gsize) (ms) * (OUT_RATE * 2 / 1000))
#define IN_MS_BYTES(ms) ((gsize) (ms) * (IN_RATE * 2 / 1000))
#define CHUNK_MS 100

#define OUT_CAPS "audio/x-raw,format=S16LE,rate=24000,channels=1," \
    "layout=interleaved"
#define IN_CAPS "audio/x-raw,format=S16LE,rate=16000,channels=1," \
    "layout=interleaved"

#define DESC_NO_INPUT \
  "bidiagent name=agent ! " OUT_CAPS " ! fakesink name=sink sync=false"
#define DESC_APPSRC \
  "appsrc name=src is-live=false format=time block=true caps=" IN_CAPS \
  " ! bidiagent name=agent ! " OUT_CAPS " ! fakesink name=sink sync=false"
#define DESC_LIVE \
  "audiotestsrc is-live=true wave=silence samplesperbuffer=320 ! " \
  IN_CAPS " ! bidiagent name=agent ! " OUT_CAPS \
  " ! fakesink name=sink sync=true signal-handoffs=true"

/* valgrind makes everything much slower: the waits scale with this */
static guint slow = 1;
#define WAIT_MS (10000 * slow)
#define LONG_MS (slow > 1 ? 9000 : 3000)

static const gchar app_tools[] =
    "[{\"name\": \"get_weather\", \"description\": \"Current weather in a "
    "city\", \"parameters\": {\"type\": \"object\", \"properties\": "
    "{\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}]";

/* ------------------------------------------------------------------------
 * Fixtures
 * ------------------------------------------------------------------------ */

static GBytes *
make_answer (guint ms, guint seed)
{
  return session_make_pcm (OUT_MS_BYTES (ms), seed);
}

static GBytes *
make_question (guint ms, guint seed)
{
  return session_make_pcm (IN_MS_BYTES (ms), seed);
}

static void
assert_mock_clean (MockBedrock * mock)
{
  assert_mock_clean_lists (mock_bedrock_get_violations (mock),
      mock_bedrock_get_failures (mock));
}

/* Client event @kind number @index of @conn: its inner object (the value
 * of its one member of "event"), in @node_out to unref */
static JsonObject *
mock_event (MockBedrock * mock, guint conn, const gchar * kind, guint index,
    JsonNode ** node_out)
{
  gchar *name = g_strdup (kind), *dot = strchr (name, '.');
  JsonNode *node;
  JsonObject *inner;

  node = parse_waited (mock_bedrock_wait_event (mock, conn, kind, index,
          WAIT_MS), kind, index, conn);
  if (dot)
    *dot = '\0';
  inner = jobj (json_node_get_object (node), "event");
  fail_unless (inner != NULL, "no \"event\" in %s", kind);
  inner = jobj (inner, name);
  fail_unless (inner != NULL, "no %s in the event", name);
  g_free (name);
  *node_out = node;
  return inner;
}

/* The names of the events of @conn, in order, from @from, at most @n:
 * "sessionStart promptStart ...". Waits (up to WAIT_MS) for the mock to
 * have them all: the client's events cross a socket. */
static gchar *
event_names (MockBedrock * mock, guint conn, guint from, guint n)
{
  GString *names = g_string_new (NULL);
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  guint i, total;

  while ((total = mock_bedrock_n_events (mock, conn)) < from + n &&
      g_get_monotonic_time () < end)
    g_usleep (10 * 1000);

  for (i = from; i < total && i < from + n; i++) {
    gchar *text = mock_bedrock_get_event (mock, conn, i);
    JsonNode *node = parse_json (text);
    JsonObject *ev = jobj (json_node_get_object (node), "event");
    GList *members = json_object_get_members (ev);

    g_string_append_printf (names, "%s%s", names->len ? " " : "",
        members ? (const gchar *) members->data : "?");
    g_list_free (members);
    json_node_unref (node);
    g_free (text);
  }
  return g_string_free (names, FALSE);
}

/* A USER turn answered with @text said as @pcm */
static void
script_answer (MockBedrockScript * sc, const gchar * user, const gchar * text,
    GBytes * pcm)
{
  if (user)
    mock_bedrock_script_user_text (sc, user);
  mock_bedrock_script_say (sc, text, g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm), CHUNK_MS, FALSE, TRUE);
}

/* ------------------------------------------------------------------------
 * Sessions
 * ------------------------------------------------------------------------ */

/* A session whose agent talks to @mock with its credentials (when
 * @with_keys); not started */
static Session *
nova_session (MockBedrock * mock, const gchar * desc, gboolean with_keys)
{
  Session *s = session_create (desc, IN_RATE, 2, WAIT_MS);

  g_object_set (s->agent, "provider", "nova-sonic", "url",
      mock_bedrock_url (mock), "ssl-ca-file", mock_bedrock_ca_file (mock),
      NULL);
  if (with_keys)
    g_object_set (s->agent, "access-key", MOCK_BEDROCK_ACCESS_KEY,
        "secret-access-key", MOCK_BEDROCK_SECRET_KEY, "region",
        MOCK_BEDROCK_REGION, NULL);
  session_take_tool_calls (s);
  return s;
}

static Session *
nova_session_new (MockBedrock * mock, const gchar * desc,
    const gchar * first_property, ...)
{
  Session *s = nova_session (mock, desc, TRUE);
  va_list args;

  va_start (args, first_property);
  if (first_property)
    g_object_set_valist (G_OBJECT (s->agent), first_property, args);
  va_end (args);
  session_start (s);
  return s;
}

static const gchar *
msg_str (Session * s, gint i, const gchar * field)
{
  return gst_structure_get_string (session_msg (s, i), field);
}

static const gchar *
wait_error (Session * s, gint * code)
{
  gint i = session_wait (s, 0, "error", NULL, NULL, WAIT_MS);
  const GstStructure *st;

  fail_unless (i >= 0, "no ERROR message");
  st = session_msg (s, i);
  *code = -1;
  gst_structure_get_int (st, "code", code);
  return gst_structure_get_string (st, "message");
}

/* ------------------------------------------------------------------------
 * 1. The request and the session's first events
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_request_and_setup)
{
  MockBedrock *mock = mock_bedrock_new ();
  GBytes *question = make_question (400, 1), *sent;
  JsonNode *n1, *n2, *n3, *n4, *n5;
  JsonObject *ev, *tool;
  JsonArray *tools;
  guint i;
  gchar *value, *names, *schema_text;
  JsonNode *schema;
  Session *s;

  s = nova_session_new (mock, DESC_APPSRC, "tools", app_tools,
      "system-prompt", "You are a test.", NULL);
  session_wait_connected (s);
  /* the session is ready once the request went: the mock may take a
   * moment more to read it */
  fail_unless (mock_bedrock_wait_connections (mock, 1, WAIT_MS));

  /* the request */
  value = mock_bedrock_get_path (mock, 0);
  fail_unless_equals_string (value, "/model/amazon.nova-2-sonic-v1%3A0/"
      "invoke-with-bidirectional-stream");
  g_free (value);
  value = mock_bedrock_get_header (mock, 0, "content-type");
  fail_unless_equals_string (value, "application/vnd.amazon.eventstream");
  g_free (value);
  value = mock_bedrock_get_header (mock, 0, "x-amz-content-sha256");
  fail_unless_equals_string (value, "STREAMING-AWS4-HMAC-SHA256-EVENTS");
  g_free (value);
  value = mock_bedrock_get_header (mock, 0, "authorization");
  fail_unless (g_str_has_prefix (value, "AWS4-HMAC-SHA256 Credential="
          MOCK_BEDROCK_ACCESS_KEY "/"), "%s", value);
  fail_unless (strstr (value, "/" MOCK_BEDROCK_REGION "/bedrock/aws4_request")
      != NULL, "%s", value);
  fail_if (strstr (value, SECRET_TAIL) != NULL);
  g_free (value);
  value = mock_bedrock_get_header (mock, 0, "x-amz-security-token");
  fail_unless (value == NULL, "a token without one: %s", value);

  /* the first events, in order */
  ev = mock_event (mock, 0, "sessionStart", 0, &n1);
  fail_unless (jhas (ev, "inferenceConfiguration.maxTokens"));
  fail_unless_equals_string (jstr (ev,
          "turnDetectionConfiguration.endpointingSensitivity"), "MEDIUM");
  ev = mock_event (mock, 0, "promptStart", 0, &n2);
  fail_unless_equals_int (jint (ev,
          "audioOutputConfiguration.sampleRateHertz"), OUT_RATE);
  fail_unless_equals_string (jstr (ev, "audioOutputConfiguration.voiceId"),
      "matthew");
  tools = json_node_get_array (jget (ev, "toolConfiguration.tools"));
  for (i = 0, tool = NULL; i < json_array_get_length (tools); i++) {
    JsonObject *t = json_array_get_object_element (tools, i);

    if (g_strcmp0 (jstr (t, "toolSpec.name"), "get_weather") == 0)
      tool = t;
  }
  fail_unless (tool != NULL, "no get_weather tool");
  /* the schema is a string holding JSON */
  schema_text = g_strdup (jstr (tool, "toolSpec.inputSchema.json"));
  fail_unless (schema_text != NULL);
  schema = parse_json (schema_text);
  fail_unless_equals_string (jstr (json_node_get_object (schema),
          "properties.city.type"), "string");
  json_node_unref (schema);
  g_free (schema_text);
  ev = mock_event (mock, 0, "textInput", 0, &n3);
  fail_unless_equals_string (jstr (ev, "content"), "You are a test.");
  ev = mock_event (mock, 0, "contentStart", 0, &n4);
  fail_unless_equals_string (jstr (ev, "role"), "SYSTEM");
  fail_if (jbool (ev, "interactive"));
  names = event_names (mock, 0, 0, 5);
  fail_unless_equals_string (names, "sessionStart promptStart contentStart "
      "textInput contentEnd");
  g_free (names);

  /* the audio block opens with the first audio, not before */
  g_usleep (200 * 1000);
  fail_unless_equals_int (mock_bedrock_count_events (mock, 0,
          "contentStart.AUDIO"), 0);
  session_push_bytes (s, question, 20);
  ev = mock_event (mock, 0, "contentStart.AUDIO", 0, &n5);
  fail_unless (jbool (ev, "interactive"));
  fail_unless_equals_string (jstr (ev, "role"), "USER");
  fail_unless_equals_int (jint (ev, "audioInputConfiguration.sampleRateHertz"),
      IN_RATE);
  fail_unless (mock_bedrock_wait_audio_bytes (mock, 0,
          g_bytes_get_size (question), WAIT_MS));
  sent = mock_bedrock_get_audio (mock, 0);
  fail_unless (g_bytes_get_size (sent) >= g_bytes_get_size (question));
  fail_unless (memcmp (g_bytes_get_data (sent, NULL),
          g_bytes_get_data (question, NULL),
          g_bytes_get_size (question)) == 0, "the audio was changed");
  g_bytes_unref (sent);

  session_free (s);
  assert_mock_clean (mock);
  mock_bedrock_free (mock);
  json_node_unref (n1);
  json_node_unref (n2);
  json_node_unref (n3);
  json_node_unref (n4);
  json_node_unref (n5);
  g_bytes_unref (question);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 2. A spoken turn, and the end of the session
 * ------------------------------------------------------------------------ */

/* The golden exchange: transcripts partial then final, the answer's audio
 * whole, its usage as deltas; then the input ends and the stream is
 * closed as AWS asks: contentEnd, promptEnd, sessionEnd, the signed empty
 * frame */
GST_START_TEST (test_golden_turn)
{
  MockBedrock *mock = mock_bedrock_new ();
  GBytes *pcm = make_answer (1200, 3), *question = make_question (300, 4);
  MockBedrockScript *sc = mock_bedrock_script_new ();
  const GstStructure *st;
  gint i_conn, i_start, i_done, i_close, i_user, i_usage;
  gint64 in_tokens = 0, out_tokens = 0;
  gchar *text, *names;
  Session *s;
  GstFlowReturn ret;
  guint i, n;


  mock_bedrock_script_add_golden (sc, g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm));
  mock_bedrock_push_script (mock, sc);
  s = nova_session_new (mock, DESC_APPSRC, NULL);
  i_conn = session_wait_connected (s);
  session_push_bytes (s, question, 20);

  i_done = session_wait (s, i_conn, "bidi_response_complete", NULL, NULL,
      WAIT_MS);
  fail_unless (i_done > i_conn, "the answer did not complete");
  fail_unless_equals_string (msg_str (s, i_done, "stop_reason"), "complete");
  i_start = session_wait (s, i_conn, "bidi_response_start", NULL, NULL, 0);
  fail_unless (i_start > i_conn && i_start < i_done);
  session_assert_answer_tail (s, 0, pcm);

  /* the user's words, final before the answer */
  i_user = session_wait (s, i_conn, "bidi_transcript_stream", "text",
      MOCK_BEDROCK_GOLDEN_USER_TRANSCRIPT, 0);
  fail_unless (i_user >= 0);
  text = session_transcripts (s, "user");
  fail_unless (strstr (text, MOCK_BEDROCK_GOLDEN_USER_TRANSCRIPT "|final")
      != NULL, "%s", text);
  g_free (text);
  /* the assistant's: partial (the speculative text), then final */
  text = session_transcripts (s, "assistant");
  fail_unless (strstr (text, "|partial") != NULL, "%s", text);
  fail_unless (g_str_has_suffix (text,
          MOCK_BEDROCK_GOLDEN_ASSISTANT_TRANSCRIPT "|final"), "%s", text);
  g_free (text);

  /* the usage: the deltas add up to the last totals, never the totals
   * added again */
  i_usage = session_wait (s, 0, "bidi_usage", NULL, NULL, WAIT_MS);
  fail_unless (i_usage >= 0, "no usage");
  fail_unless (session_wait (s, i_usage + 1, "bidi_usage", NULL, NULL,
          WAIT_MS) > i_usage, "no usage after the answer");
  for (i = 0; (st = session_msg (s, i)); i++) {
    gint v;

    if (!bus_log_matches (st, "bidi_usage", NULL, NULL))
      continue;
    if (gst_structure_get_int (st, "inputTokens", &v))
      in_tokens += v;
    if (gst_structure_get_int (st, "outputTokens", &v))
      out_tokens += v;
  }
  fail_unless_equals_int64 (in_tokens,
      MOCK_BEDROCK_GOLDEN_INPUT_SPEECH_TOKENS +
      MOCK_BEDROCK_GOLDEN_INPUT_TEXT_TOKENS);
  fail_unless_equals_int64 (out_tokens,
      MOCK_BEDROCK_GOLDEN_OUTPUT_SPEECH_TOKENS +
      MOCK_BEDROCK_GOLDEN_OUTPUT_TEXT_TOKENS);

  fail_unless_equals_int (session_count (s, "bidi_interruption", NULL, NULL),
      0);
  fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 0);
  fail_unless_equals_int (session_count (s, "warning", NULL, NULL), 0);

  /* the input ends: the session completes, the stream ends cleanly */
  g_signal_emit_by_name (s->src, "end-of-stream", &ret);
  i_close = session_wait (s, i_done, "bidi_connection_close", "reason",
      "complete", WAIT_MS * 2);
  fail_unless (i_close > i_done, "the session did not complete");
  fail_unless (session_wait (s, i_close, "eos", NULL, NULL, WAIT_MS) >
      i_close);
  fail_unless (mock_bedrock_wait_closed (mock, 0, WAIT_MS));
  fail_unless (mock_bedrock_client_ended (mock, 0),
      "no signed empty frame and END_STREAM");
  n = mock_bedrock_n_events (mock, 0);
  names = event_names (mock, 0, n - 3, 3);
  fail_unless_equals_string (names, "contentEnd promptEnd sessionEnd");
  g_free (names);

  session_free (s);
  assert_mock_clean (mock);
  mock_bedrock_free (mock);
  g_bytes_unref (pcm);
  g_bytes_unref (question);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 3. Barge-in
 * ------------------------------------------------------------------------ */

/* Both signals of §9 come (the marker and INTERRUPTED): one
 * interruption, one flush; what still comes of the cut answer does not
 * play; the history keeps what was heard; the next answer plays whole */
GST_START_TEST (test_barge_in)
{
  MockBedrock *mock = mock_bedrock_new ();
  GBytes *pcm = make_answer (LONG_MS, 5), *late = make_answer (400, 6),
      *next = make_answer (400, 7);
  MockBedrockScript *sc = mock_bedrock_script_new ();
  const gchar *words = "One two three four five six seven eight nine ten.";
  gint i_int, i_done, i_next;
  gsize heard, at_flush;
  gchar *history;
  Session *s;

  mock_bedrock_script_wait (sc, "contentEnd", 1, WAIT_MS);
  mock_bedrock_script_user_text (sc, "Count to ten.");
  mock_bedrock_script_say (sc, words, g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm), CHUNK_MS, FALSE, FALSE);
  mock_bedrock_push_script (mock, sc);
  s = nova_session_new (mock, DESC_LIVE, NULL);
  session_wait_connected (s);

  /* a second of it plays, then the user talks */
  fail_unless (session_wait_answer (s, OUT_MS_BYTES (1000), WAIT_MS));
  sc = mock_bedrock_script_new ();
  mock_bedrock_script_interrupted (sc);
  /* audio of the cut answer still in flight */
  mock_bedrock_script_say (sc, "Eleven.", g_bytes_get_data (late, NULL),
      g_bytes_get_size (late), CHUNK_MS, FALSE, TRUE);
  mock_bedrock_script_user_text (sc, "Wait, stop.");
  mock_bedrock_run (mock, 0, sc);

  i_int = session_wait (s, 0, "bidi_interruption", NULL, NULL, WAIT_MS);
  fail_unless (i_int >= 0, "no bidi_interruption");
  i_done = session_wait (s, i_int, "bidi_response_complete", NULL, NULL,
      WAIT_MS);
  fail_unless (i_done > i_int);
  fail_unless_equals_string (msg_str (s, i_done, "stop_reason"),
      "interrupted");
  fail_unless (mock_bedrock_wait_script_done (mock, 0, WAIT_MS));
  fail_unless (session_wait (s, i_done, "bidi_transcript_stream", "text",
          "Wait, stop.", WAIT_MS) > i_done);
  fail_unless_equals_int (session_count (s, "bidi_interruption", NULL, NULL),
      1);

  g_mutex_lock (&s->lock);
  fail_unless (s->n_flush > 0, "no FLUSH_START at the sink");
  heard = s->answer->len;
  at_flush = s->answer_at_flush;
  g_mutex_unlock (&s->lock);
  fail_unless_equals_uint64 (heard, at_flush);
  fail_unless (heard < OUT_MS_BYTES (LONG_MS), "the whole answer played");

  sc = mock_bedrock_script_new ();
  mock_bedrock_script_say (sc, "Yes?", g_bytes_get_data (next, NULL),
      g_bytes_get_size (next), CHUNK_MS, FALSE, TRUE);
  mock_bedrock_run (mock, 0, sc);
  i_next = session_wait (s, i_done, "bidi_response_complete", "stop_reason",
      "complete", WAIT_MS);
  fail_unless (i_next > i_done);
  session_assert_answer_tail (s, heard, next);

  g_object_get (s->agent, "history", &history, NULL);
  GST_INFO ("history: %s", history);
  fail_unless (strstr (history, "\"One") != NULL, "%s", history);
  fail_if (strstr (history, words) != NULL, "%s", history);
  fail_if (strstr (history, "Eleven") != NULL, "%s", history);
  fail_unless (strstr (history, "Wait, stop.") != NULL, "%s", history);
  g_free (history);

  session_free (s);
  assert_mock_clean (mock);
  mock_bedrock_free (mock);
  g_bytes_unref (pcm);
  g_bytes_unref (late);
  g_bytes_unref (next);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 4. Tools and typed text
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_tool_call)
{
  MockBedrock *mock = mock_bedrock_new ();
  GBytes *pcm = make_answer (300, 9), *more = make_answer (300, 10);
  MockBedrockScript *sc = mock_bedrock_script_new ();
  const GstStructure *call;
  JsonNode *n1, *n2, *n3, *expect, *got;
  JsonObject *ev;
  gboolean ok = FALSE;
  gint i_use;
  Session *s;

  mock_bedrock_script_wait (sc, "textInput", 2, WAIT_MS);
  mock_bedrock_script_user_text (sc, "Weather in Paris?");
  mock_bedrock_script_tool_use (sc, "tu-77", "get_weather",
      "{\"city\":\"Paris\"}");
  /* the model goes on while the tool runs */
  mock_bedrock_script_say (sc, "Let me check.", g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm), CHUNK_MS, FALSE, TRUE);
  mock_bedrock_script_wait (sc, "toolResult", 1, WAIT_MS);
  mock_bedrock_script_say (sc, "It is 18 degrees.", g_bytes_get_data (more,
          NULL), g_bytes_get_size (more), CHUNK_MS, FALSE, TRUE);
  mock_bedrock_push_script (mock, sc);
  s = nova_session_new (mock, DESC_NO_INPUT, "tools", app_tools, NULL);
  session_wait_connected (s);
  g_signal_emit_by_name (s->agent, "send-text", "Weather in Paris?", &ok);
  fail_unless (ok);

  /* typed text: a cross-modal USER block */
  ev = mock_event (mock, 0, "contentStart.TEXT", 1, &n1);
  fail_unless_equals_string (jstr (ev, "role"), "USER");
  fail_unless (jbool (ev, "interactive"));
  ev = mock_event (mock, 0, "textInput", 1, &n2);
  fail_unless_equals_string (jstr (ev, "content"), "Weather in Paris?");

  call = session_wait_tool_call (s, 0);
  fail_unless (call != NULL, "no tool-call signal");
  fail_unless_equals_string (gst_structure_get_string (call, "id"), "tu-77");
  fail_unless_equals_string (gst_structure_get_string (call, "name"),
      "get_weather");
  i_use = session_wait (s, 0, "tool_use_stream", "toolUseId", "tu-77", 0);
  fail_unless (i_use >= 0);
  /* the model's words play before the result is in */
  fail_unless (session_wait_answer (s, g_bytes_get_size (pcm), WAIT_MS));

  g_signal_emit_by_name (s->agent, "send-tool-result", "tu-77",
      "{\"temp_c\": 18}", "success", &ok);
  fail_unless (ok);
  ev = mock_event (mock, 0, "toolResult", 0, &n3);
  expect = parse_json ("{\"temp_c\": 18}");
  got = parse_json (jstr (ev, "content"));
  fail_unless (json_node_equal (got, expect), "%s", jstr (ev, "content"));
  json_node_unref (expect);
  json_node_unref (got);
  fail_unless (session_wait (s, i_use, "bidi_transcript_stream", "text",
          "It is 18 degrees.", WAIT_MS) > i_use);
  fail_unless (mock_bedrock_wait_script_done (mock, 0, WAIT_MS));

  session_free (s);
  assert_mock_clean (mock);
  mock_bedrock_free (mock);
  json_node_unref (n1);
  json_node_unref (n2);
  json_node_unref (n3);
  g_bytes_unref (pcm);
  g_bytes_unref (more);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 5. Credentials
 * ------------------------------------------------------------------------ */

/* A signature the server does not accept: NOT_AUTHORIZED at once with the
 * server's words, one request, no reconnection, never the secret */
GST_START_TEST (test_bad_signature)
{
  MockBedrock *mock = mock_bedrock_new ();
  const gchar *text;
  gint code;
  Session *s;

  mock_bedrock_set_credentials (mock, MOCK_BEDROCK_ACCESS_KEY,
      "another-secret-0000000000000000000", NULL, MOCK_BEDROCK_REGION);
  s = nova_session_new (mock, DESC_NO_INPUT, NULL);
  text = wait_error (s, &code);
  fail_unless_equals_int (code, GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  fail_unless (strstr (text, "signature") != NULL, "%s", text);
  fail_unless (strstr (text, "403") != NULL, "%s", text);
  fail_unless (session_wait (s, 0, "bidi_error", "code", "not_authorized",
          0) >= 0);
  session_assert_no_secret (s, MOCK_BEDROCK_SECRET_KEY, SECRET_TAIL);
  g_usleep (300 * 1000);
  fail_unless_equals_int (mock_bedrock_n_connections (mock), 1);
  fail_unless_equals_int (mock_bedrock_get_status (mock, 0), 403);
  session_free (s);

  /* an access key the service does not know */
  mock_bedrock_set_credentials (mock, "AKIDSOMEONEELSE0000", "x-secret",
      NULL, MOCK_BEDROCK_REGION);
  s = nova_session_new (mock, DESC_NO_INPUT, NULL);
  text = wait_error (s, &code);
  fail_unless_equals_int (code, GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  fail_unless (strstr (text, "security token") != NULL, "%s", text);
  session_free (s);
  mock_bedrock_free (mock);
}

GST_END_TEST;

/* No credentials anywhere: a clear error before anything connects;
 * then the environment's, with a session token, as the SDKs read them */
GST_START_TEST (test_credentials_from_environment)
{
  MockBedrock *mock = mock_bedrock_new ();
  gchar *home = g_dir_make_tmp ("bidi-nova-home-XXXXXX", NULL);
  const gchar *text;
  gchar *value;
  gint code;
  Session *s;

  g_setenv ("HOME", home, TRUE);
  s = nova_session (mock, DESC_NO_INPUT, FALSE);
  fail_unless_equals_int (gst_element_set_state (s->pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  text = wait_error (s, &code);
  fail_unless_equals_int (code, GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  fail_unless (strstr (text, "AWS_ACCESS_KEY_ID") != NULL, "%s", text);
  session_free (s);
  fail_unless_equals_int (mock_bedrock_n_connections (mock), 0);

  mock_bedrock_set_credentials (mock, MOCK_BEDROCK_ACCESS_KEY,
      MOCK_BEDROCK_SECRET_KEY, TOKEN, "us-west-2");
  g_setenv ("AWS_ACCESS_KEY_ID", MOCK_BEDROCK_ACCESS_KEY, TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", MOCK_BEDROCK_SECRET_KEY, TRUE);
  g_setenv ("AWS_SESSION_TOKEN", TOKEN, TRUE);
  g_setenv ("AWS_REGION", "us-west-2", TRUE);
  s = nova_session (mock, DESC_NO_INPUT, FALSE);
  session_start (s);
  session_wait_connected (s);
  fail_unless (mock_bedrock_wait_connections (mock, 1, WAIT_MS));
  value = mock_bedrock_get_header (mock, 0, "x-amz-security-token");
  fail_unless_equals_string (value, TOKEN);
  g_free (value);
  value = mock_bedrock_get_header (mock, 0, "authorization");
  fail_unless (strstr (value, "/us-west-2/bedrock/") != NULL, "%s", value);
  g_free (value);
  session_assert_no_secret (s, MOCK_BEDROCK_SECRET_KEY, SECRET_TAIL);
  session_assert_no_secret (s, TOKEN, TOKEN_TAIL);
  session_free (s);
  g_unsetenv ("AWS_ACCESS_KEY_ID");
  g_unsetenv ("AWS_SECRET_ACCESS_KEY");
  g_unsetenv ("AWS_SESSION_TOKEN");
  g_unsetenv ("AWS_REGION");
  g_rmdir (home);
  g_free (home);

  assert_mock_clean (mock);
  mock_bedrock_free (mock);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 6. Restarts
 * ------------------------------------------------------------------------ */

/* Waits until the element's history holds @text: the answer was heard */
static void
wait_history_has (Session * s, const gchar * text)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  gchar *history = NULL;

  do {
    g_free (history);
    g_usleep (20 * 1000);
    g_object_get (s->agent, "history", &history, NULL);
  } while ((!history || !strstr (history, text)) &&
      g_get_monotonic_time () < end);
  fail_unless (history && strstr (history, text), "%s is not in the "
      "history: %s", text, history);
  g_free (history);
}

/* The history of the conversation, as the @n_blocks replayed blocks of
 * @conn: "USER:text;ASSISTANT:text;" */
static gchar *
replayed_history (MockBedrock * mock, guint conn, guint n_blocks)
{
  GString *all = g_string_new (NULL);
  guint i, n;

  /* the system prompt's block and the replayed ones have come */
  g_free (mock_bedrock_wait_event (mock, conn, "contentStart.TEXT", n_blocks,
          WAIT_MS));
  n = mock_bedrock_count_events (mock, conn, "contentStart.TEXT");

  /* block 0 is the system prompt */
  for (i = 1; i < n; i++) {
    JsonNode *n1, *n2;
    JsonObject *start = mock_event (mock, conn, "contentStart.TEXT", i, &n1);
    JsonObject *input = mock_event (mock, conn, "textInput", i, &n2);

    if (!jbool (start, "interactive"))
      g_string_append_printf (all, "%s:%s;", jstr (start, "role"),
          jstr (input, "content"));
    json_node_unref (n1);
    json_node_unref (n2);
  }
  return g_string_free (all, FALSE);
}

/* The server ends the stream (its ~8 minute limit): a new stream, posted
 * as bidi_connection_restart, with the conversation replayed as
 * non-interactive text */
GST_START_TEST (test_server_ends_stream)
{
  MockBedrock *mock = mock_bedrock_new ();
  GBytes *pcm = make_answer (300, 14);
  MockBedrockScript *sc = mock_bedrock_script_new ();
  gboolean ok = FALSE;
  gchar *history;
  gint i_restart;
  Session *s;

  mock_bedrock_script_wait (sc, "textInput", 2, WAIT_MS);
  script_answer (sc, NULL, "Nice to meet you, Ada.", pcm);
  mock_bedrock_push_script (mock, sc);
  s = nova_session_new (mock, DESC_NO_INPUT, NULL);
  session_wait_connected (s);
  g_signal_emit_by_name (s->agent, "send-text", "I am Ada.", &ok);
  /* once the answer was heard, the server ends the stream */
  wait_history_has (s, "Nice to meet you, Ada.");
  sc = mock_bedrock_script_new ();
  mock_bedrock_script_end (sc);
  mock_bedrock_run (mock, 0, sc);

  i_restart = session_wait (s, 0, "bidi_connection_restart", NULL, NULL,
      WAIT_MS * 2);
  fail_unless (i_restart >= 0, "no restart");
  fail_unless (mock_bedrock_wait_connections (mock, 2, WAIT_MS));
  fail_unless (session_wait (s, i_restart, "bidi_connection_start", NULL,
          NULL, WAIT_MS) > i_restart);
  history = replayed_history (mock, 1, 2);
  fail_unless_equals_string (history, "USER:I am Ada.;ASSISTANT:Nice to "
      "meet you, Ada.;");
  g_free (history);
  fail_unless_equals_int (session_count (s, "error", NULL, NULL), 0);

  session_free (s);
  assert_mock_clean (mock);
  mock_bedrock_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* The service's time limits end a stream with an exception: a restart
 * with the history ("timeout"); an exception it cannot recover from ends
 * the run with the server's words */
GST_START_TEST (test_exceptions)
{
  MockBedrock *mock = mock_bedrock_new ();
  GBytes *pcm = make_answer (200, 15);
  MockBedrockScript *sc = mock_bedrock_script_new ();
  gboolean ok = FALSE;
  const gchar *text;
  gchar *history;
  gint i_restart, code;
  Session *s;

  mock_bedrock_script_wait (sc, "textInput", 2, WAIT_MS);
  script_answer (sc, NULL, "Hi.", pcm);
  mock_bedrock_push_script (mock, sc);
  sc = mock_bedrock_script_new ();
  mock_bedrock_script_wait (sc, "contentEnd", 3, WAIT_MS);
  mock_bedrock_script_exception (sc, "validationException",
      "Timed out waiting for input events (InternalErrorCode=531)");
  mock_bedrock_push_script (mock, sc);
  sc = mock_bedrock_script_new ();
  mock_bedrock_script_wait (sc, "contentEnd", 3, WAIT_MS);
  mock_bedrock_script_exception (sc, "validationException",
      "Duplicate SYSTEM content. SYSTEM content can only be provided once "
      "per prompt.");
  mock_bedrock_push_script (mock, sc);
  s = nova_session_new (mock, DESC_NO_INPUT, NULL);
  session_wait_connected (s);
  g_signal_emit_by_name (s->agent, "send-text", "Hello there.", &ok);
  /* once the answer was heard, the stream's time is up */
  wait_history_has (s, "Hi.");
  sc = mock_bedrock_script_new ();
  mock_bedrock_script_exception (sc, "modelTimeoutException",
      "Model has timed out in processing the request");
  mock_bedrock_run (mock, 0, sc);

  i_restart = session_wait (s, 0, "bidi_connection_restart", NULL, NULL,
      WAIT_MS * 2);
  fail_unless (i_restart >= 0, "no restart");
  fail_unless_equals_string (msg_str (s, i_restart, "reason"), "timeout");
  fail_unless (mock_bedrock_wait_connections (mock, 3, WAIT_MS * 2));
  history = replayed_history (mock, 2, 2);
  fail_unless_equals_string (history, "USER:Hello there.;ASSISTANT:Hi.;");
  g_free (history);

  text = wait_error (s, &code);
  fail_unless (strstr (text, "Duplicate SYSTEM content") != NULL, "%s",
      text);
  g_usleep (300 * 1000);
  fail_unless_equals_int (mock_bedrock_n_connections (mock), 3);

  session_free (s);
  assert_mock_clean (mock);
  mock_bedrock_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 7. Garbage
 * ------------------------------------------------------------------------ */

/* An event-stream message holding @payload with the chunk's headers */
static GBytes *
chunk_with_payload (const gchar * payload)
{
  GstBidiEsMessage *msg = gst_bidi_es_message_new ();
  GBytes *p = g_bytes_new (payload, strlen (payload)), *out;

  gst_bidi_es_message_add_string (msg, ":event-type", "chunk");
  gst_bidi_es_message_add_string (msg, ":message-type", "event");
  gst_bidi_es_message_add_string (msg, ":content-type", "application/json");
  gst_bidi_es_message_set_payload (msg, p);
  out = gst_bidi_es_message_encode (msg, NULL);
  gst_bidi_es_message_free (msg);
  g_bytes_unref (p);
  return out;
}

/* Malformed chunks and events are survived, said on the bus; a stream
 * whose framing breaks is made again; the conversation goes on */
GST_START_TEST (test_garbage)
{
  MockBedrock *mock = mock_bedrock_new ();
  GBytes *pcm = make_answer (200, 16), *next = make_answer (200, 17);
  MockBedrockScript *sc = mock_bedrock_script_new ();
  const gchar *bad[] = {
    "not json", "{\"bytes\": \"%%% not base64\"}", "{\"bytes\": 7}",
    "{\"bytes\": \"WzEsMiwzXQ==\"}",    /* [1,2,3] */
  };
  static const guint8 broken[] = { 0, 0, 0, 40, 0, 0, 0, 0, 1, 2, 3, 4,
    'g', 'a', 'r', 'b', 'a', 'g', 'e'
  };
  Session *s;
  guint i;

  mock_bedrock_script_wait (sc, "contentEnd", 1, WAIT_MS);
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    GBytes *frame = chunk_with_payload (bad[i]);

    mock_bedrock_script_send_raw (sc, g_bytes_get_data (frame, NULL),
        g_bytes_get_size (frame));
    g_bytes_unref (frame);
  }
  mock_bedrock_script_send (sc, "{\"event\":{\"audioOutput\":{\"content\":"
      "\"%%%\"}}}");
  mock_bedrock_script_send (sc, "{\"event\":{\"textOutput\":7}}");
  mock_bedrock_script_send (sc, "{\"event\":{\"contentStart\":{"
      "\"type\":\"TEXT\",\"role\":\"ASSISTANT\",\"additionalModelFields\":"
      "\"{not json\"}}}");
  mock_bedrock_script_send (sc, "{\"event\":{\"brandNewEvent\":{}}}");
  mock_bedrock_script_send (sc, "{}");
  script_answer (sc, NULL, "Fine.", pcm);
  /* bytes that break the framing: the stream cannot go on */
  mock_bedrock_script_send_raw (sc, broken, sizeof (broken));
  mock_bedrock_push_script (mock, sc);
  sc = mock_bedrock_script_new ();
  mock_bedrock_script_wait (sc, "contentEnd", 1, WAIT_MS);
  script_answer (sc, NULL, "Still here.", next);
  mock_bedrock_push_script (mock, sc);
  s = nova_session_new (mock, DESC_NO_INPUT, NULL);
  session_wait_connected (s);

  fail_unless (session_wait (s, 0, "bidi_transcript_stream", "text",
          "Fine.", WAIT_MS) >= 0, "the session did not go on");
  fail_unless (session_count (s, "bidi_error", "code", "bad_message") >= 3,
      "%u bad_message errors", session_count (s, "bidi_error", "code",
          "bad_message"));
  fail_unless (session_wait (s, 0, "bidi_connection_restart", NULL, NULL,
          WAIT_MS) >= 0, "no restart after the broken framing");
  fail_unless (session_wait (s, 0, "bidi_transcript_stream", "text",
          "Still here.", WAIT_MS) >= 0);
  fail_unless_equals_int (session_count (s, "error", NULL, NULL), 0);
  fail_unless_equals_int (mock_bedrock_n_connections (mock), 2);

  session_free (s);
  assert_mock_clean (mock);
  mock_bedrock_free (mock);
  g_bytes_unref (pcm);
  g_bytes_unref (next);
}

GST_END_TEST;

/* A whole spoken turn with a session token and a refused signature,
 * everything logged at level 9: neither the secret key (run 0) nor the
 * token (run 1, the one that goes out, in a header) */
GST_START_TEST (test_no_secret_in_logs)
{
  const gchar *watched = __i__ == 0 ? MOCK_BEDROCK_SECRET_KEY : TOKEN;
  MockBedrock *mock;
  GBytes *pcm = make_answer (500, 18), *question = make_question (200, 19);
  MockBedrockScript *sc = mock_bedrock_script_new ();
  guint n_lines = 0;
  gboolean seen;
  gint code;
  Session *s;

  bidi_secret_watch_start (watched, "*");

  mock = mock_bedrock_new ();
  mock_bedrock_set_credentials (mock, MOCK_BEDROCK_ACCESS_KEY,
      MOCK_BEDROCK_SECRET_KEY, TOKEN, MOCK_BEDROCK_REGION);
  mock_bedrock_script_add_golden (sc, g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm));
  mock_bedrock_push_script (mock, sc);
  s = nova_session_new (mock, DESC_APPSRC, "session-token", TOKEN, NULL);
  session_wait_connected (s);
  session_push_bytes (s, question, 20);
  fail_unless (session_wait (s, 0, "bidi_response_complete", NULL, NULL,
          WAIT_MS) >= 0);
  session_assert_no_secret (s, MOCK_BEDROCK_SECRET_KEY, SECRET_TAIL);
  session_assert_no_secret (s, TOKEN, TOKEN_TAIL);
  session_free (s);

  mock_bedrock_set_credentials (mock, MOCK_BEDROCK_ACCESS_KEY,
      "another-secret-0000000000000000000", NULL, MOCK_BEDROCK_REGION);
  s = nova_session_new (mock, DESC_NO_INPUT, NULL);
  wait_error (s, &code);
  fail_unless_equals_int (code, GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  session_assert_no_secret (s, MOCK_BEDROCK_SECRET_KEY, SECRET_TAIL);
  session_free (s);
  mock_bedrock_free (mock);

  seen = bidi_secret_watch_stop (&n_lines);
  GST_INFO ("%u log lines watched", n_lines);
  fail_unless (n_lines > 1000, "only %u log lines", n_lines);
  fail_if (seen, "%s appeared in the debug log", __i__ == 0 ?
      "the secret key" : "the session token");
  g_bytes_unref (pcm);
  g_bytes_unref (question);
}

GST_END_TEST;

static Suite *
novasonic_suite (void)
{
  Suite *s = suite_create ("novasonic");
  TCase *tc = tcase_create ("e2e");
  const gchar *preload = g_getenv ("LD_PRELOAD");

  if (preload && strstr (preload, "vgpreload"))
    slow = 20;
  /* never real credentials from the environment or the home directory */
  g_unsetenv ("AWS_ACCESS_KEY_ID");
  g_unsetenv ("AWS_SECRET_ACCESS_KEY");
  g_unsetenv ("AWS_SESSION_TOKEN");
  g_unsetenv ("AWS_PROFILE");
  g_unsetenv ("AWS_REGION");
  g_unsetenv ("AWS_DEFAULT_REGION");
  g_setenv ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", TRUE);
  g_setenv ("AWS_CONFIG_FILE", "/nonexistent/config", TRUE);

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, leftover_stop);
  tcase_set_timeout (tc, 60 * slow);
  tcase_add_test (tc, test_request_and_setup);
  tcase_add_test (tc, test_golden_turn);
  tcase_add_test (tc, test_barge_in);
  tcase_add_test (tc, test_tool_call);
  tcase_add_test (tc, test_bad_signature);
  tcase_add_test (tc, test_credentials_from_environment);
  tcase_add_test (tc, test_server_ends_stream);
  tcase_add_test (tc, test_exceptions);
  tcase_add_test (tc, test_garbage);
  tcase_add_loop_test (tc, test_no_secret_in_logs, 0, 2);
  return s;
}

GST_CHECK_MAIN (novasonic);
