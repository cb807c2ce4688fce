/* gst-bidi: bidiagent with provider=gemini, end to end against a mock
 * Gemini Live server
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Each test runs a real pipeline whose bidiagent (provider=gemini) talks
 * to the mock server of tests/check/common/mockgemini.h on 127.0.0.1, with
 * a fake key that is only ever set with g_object_set (GStreamer's parser
 * logs the pipeline description). The mock checks every client message
 * against the protocol notes; the tests end by asserting it saw no
 * breach. The server's frames are binary unless a test says otherwise. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>

#include "mockgemini.h"
#include "buslog.h"
#include "secretwatch.h"
#include "leftover.h"
#include "session.h"
#include "testjson.h"

#define KEY "fake-gemini-key-0123456789abcdefghij"
#define KEY_TAIL "0123456789abcdefghij"

#define IN_RATE 16000
#define OUT_RATE 24000
#define OUT_MS_BYTES(ms) ((gsize) (ms) * (OUT_RATE * 2 / 1000))
#define IN_MS_BYTES(ms) ((gsize) (ms) * (IN_RATE * 2 / 1000))
/* the audio messages the tests' scripts send */
#define CHUNK_MS 100

#define OUT_CAPS "audio/x-raw,format=S16LE,rate=24000,channels=1," \
    "layout=interleaved"
#define IN_CAPS "audio/x-raw,format=S16LE,rate=16000,channels=1," \
    "layout=interleaved"

/* typed or scripted turns only: nothing on the agent's sink pad */
#define DESC_NO_INPUT \
  "bidiagent name=agent ! " OUT_CAPS " ! fakesink name=sink sync=false"
/* the test pushes the microphone audio */
#define DESC_APPSRC \
  "appsrc name=src is-live=false format=time block=true caps=" IN_CAPS \
  " ! bidiagent name=agent ! " OUT_CAPS " ! fakesink name=sink sync=false"
/* a live microphone and a sink that plays in real time */
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
    "{\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}, "
    "{\"name\": \"lookup_order\", \"description\": \"Finds an order\", "
    "\"parameters\": {\"type\": \"object\", \"properties\": "
    "{\"order_id\": {\"type\": \"integer\"}}}}]";

/* ------------------------------------------------------------------------
 * Fixtures
 * ------------------------------------------------------------------------ */

/* @ms of the model's voice (24 kHz) */
static GBytes *
make_answer (guint ms, guint seed)
{
  return session_make_pcm (OUT_MS_BYTES (ms), seed);
}

/* @ms of the user's voice (16 kHz) */
static GBytes *
make_question (guint ms, guint seed)
{
  return session_make_pcm (IN_MS_BYTES (ms), seed);
}

/* ------------------------------------------------------------------------
 * The mock
 * ------------------------------------------------------------------------ */

static void
assert_mock_clean (MockGemini * mock)
{
  assert_mock_clean_lists (mock_gemini_get_violations (mock),
      mock_gemini_get_failures (mock));
}

/* Client message @kind number @index of @conn, parsed (json_node_unref) */
static JsonNode *
mock_message (MockGemini * mock, guint conn, const gchar * kind, guint index)
{
  return parse_waited (mock_gemini_wait_message (mock, conn, kind, index,
          WAIT_MS), kind, index, conn);
}

/* The setup of @conn: its first frame (json_node_unref) */
static JsonNode *
mock_setup (MockGemini * mock, guint conn)
{
  JsonNode *msg = mock_message (mock, conn, "setup", 0);
  gchar *first = mock_gemini_get_frame (mock, conn, 0);
  JsonNode *node = parse_json (first);

  fail_unless (json_node_equal (node, msg), "the setup is not the first "
      "frame: %s", first);
  json_node_unref (node);
  g_free (first);
  return msg;
}

/* @pcm as modelTurn audio, then the transcript, then turnComplete */
static void
script_answer (MockGeminiScript * sc, const gchar * transcript, GBytes * pcm)
{
  if (pcm)
    mock_gemini_script_send_audio (sc, g_bytes_get_data (pcm, NULL),
        g_bytes_get_size (pcm), CHUNK_MS, FALSE);
  if (transcript)
    mock_gemini_script_send_printf (sc, "{\"serverContent\":"
        "{\"outputTranscription\":{\"text\":\"%s\"}}}", transcript);
  mock_gemini_script_send (sc, "{\"serverContent\":{\"generationComplete\":"
      "true}}");
  mock_gemini_script_send (sc, "{\"serverContent\":{\"turnComplete\":true}}");
}

/* setupComplete after the setup */
static MockGeminiScript *
script_setup (void)
{
  MockGeminiScript *sc = mock_gemini_script_new ();

  mock_gemini_script_setup (sc, WAIT_MS);
  return sc;
}

/* ------------------------------------------------------------------------
 * Sessions
 * ------------------------------------------------------------------------ */

/* A session (see session.h) whose agent talks to @mock (its url, and the
 * key when @with_key), recording the tool calls; not started. */
static Session *
gemini_session (MockGemini * mock, const gchar * desc, gboolean with_key)
{
  Session *s = session_create (desc, IN_RATE, 2, WAIT_MS);

  g_object_set (s->agent, "provider", "gemini", "url",
      mock_gemini_url (mock), NULL);
  if (with_key)
    g_object_set (s->agent, "api-key", KEY, NULL);
  session_take_tool_calls (s);
  return s;
}

static Session *
gemini_session_new (MockGemini * mock, const gchar * desc,
    const gchar * first_property, ...)
{
  Session *s = gemini_session (mock, desc, TRUE);
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

/* The error message of the pipeline: its domain code, and its text */
static const gchar *
wait_error (Session * s, gint * code)
{
  gint i = session_wait (s, 0, "error", NULL, NULL, WAIT_MS);
  const GstStructure *st;

  fail_unless (i >= 0, "no ERROR message");
  st = session_msg (s, i);
  fail_unless_equals_string (gst_structure_get_string (st, "domain"),
      g_quark_to_string (GST_RESOURCE_ERROR));
  *code = -1;
  gst_structure_get_int (st, "code", code);
  return gst_structure_get_string (st, "message");
}

/* ------------------------------------------------------------------------
 * 1. Setup
 * ------------------------------------------------------------------------ */

/* The function declaration @name of the setup, or NULL */
static JsonObject *
find_declaration (JsonObject * setup, const gchar * name)
{
  JsonNode *tools = jget (setup, "tools");
  JsonArray *decls;
  guint i;

  fail_unless (tools && JSON_NODE_HOLDS_ARRAY (tools), "no tools");
  decls = json_node_get_array (jget (json_array_get_object_element
          (json_node_get_array (tools), 0), "functionDeclarations"));
  for (i = 0; i < json_array_get_length (decls); i++) {
    JsonObject *fd = json_array_get_object_element (decls, i);

    if (g_strcmp0 (jstr (fd, "name"), name) == 0)
      return fd;
  }
  return NULL;
}

/* The upgrade request and the setup message, with the element's settings;
 * nothing goes before setupComplete */
GST_START_TEST (test_setup_defaults)
{
  MockGemini *mock = mock_gemini_new ();
  MockGeminiScript *sc = mock_gemini_script_new ();
  GBytes *question = make_question (400, 1), *sent;
  JsonObject *setup, *fd;
  JsonNode *msg, *tools;
  gchar *header, *path;
  Session *s;

  /* the server takes its time to confirm: the audio waits */
  mock_gemini_script_wait (sc, "setup", 1, WAIT_MS);
  mock_gemini_script_sleep (sc, 300);
  mock_gemini_script_send (sc, "{\"setupComplete\":{}}");
  mock_gemini_push_script (mock, sc);
  s = gemini_session_new (mock, DESC_APPSRC, "system-prompt",
      "Be brief.", "voice", "Kore", "tools", app_tools, NULL);
  session_push_bytes (s, question, 20);
  session_wait_connected (s);
  fail_unless_equals_string (msg_str (s, session_wait (s, 0,
              "bidi_connection_start", NULL, NULL, 0), "model"),
      "gemini-3.8-live");

  /* the key is in the header, not in the URL */
  header = mock_gemini_get_header (mock, 0, "x-goog-api-key");
  fail_unless_equals_string (header, KEY);
  g_free (header);
  path = mock_gemini_get_path (mock, 0);
  fail_unless_equals_string (path, MOCK_GEMINI_PATH);
  g_free (path);

  msg = mock_setup (mock, 0);
  setup = jobj (json_node_get_object (msg), "setup");
  fail_unless_equals_string (jstr (setup, "model"), "models/gemini-3.8-live");
  {
    gchar *mod = jstrings (setup, "generationConfig.responseModalities");
    fail_unless_equals_string (mod, "AUDIO");
    g_free (mod);
  }
  fail_unless_equals_string (jstr (setup, "generationConfig.speechConfig."
          "voiceConfig.prebuiltVoiceConfig.voiceName"), "Kore");
  fail_unless_equals_string (jstr (json_array_get_object_element
          (json_node_get_array (jget (setup, "systemInstruction.parts")), 0),
          "text"), "Be brief.");
  fail_unless (jhas (setup, "inputAudioTranscription"));
  fail_unless (jhas (setup, "outputAudioTranscription"));
  fail_unless (jhas (setup, "sessionResumption"));
  fail_if (jhas (setup, "sessionResumption.handle"));
  fail_unless (jhas (setup, "contextWindowCompression.slidingWindow"));
  fail_if (jbool (setup,
          "realtimeInputConfig.automaticActivityDetection.disabled"));
  /* nothing the current model refuses */
  fail_if (jhas (setup, "generationConfig.thinkingConfig"));
  fail_if (jhas (setup, "generationConfig.enableAffectiveDialog"));
  fail_if (jhas (setup, "proactivity"));
  /* the tools as declarations with their JSON schemas */
  tools = jget (setup, "tools");
  fail_unless (tools && JSON_NODE_HOLDS_ARRAY (tools));
  fail_unless_equals_int (json_array_get_length (json_node_get_array
          (tools)), 1);
  fd = find_declaration (setup, "get_weather");
  fail_unless (fd != NULL, "no get_weather declaration");
  fail_unless_equals_string (jstr (fd, "description"),
      "Current weather in a city");
  fail_unless_equals_string (jstr (fd, "parametersJsonSchema.type"),
      "object");
  fail_if (jhas (fd, "behavior"));
  json_node_unref (msg);

  /* the audio came after setupComplete (else the mock says so), whole */
  fail_unless (mock_gemini_wait_audio_bytes (mock, 0,
          g_bytes_get_size (question), WAIT_MS));
  sent = mock_gemini_get_audio (mock, 0);
  fail_unless (g_bytes_equal (sent, question));
  g_bytes_unref (sent);

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
  g_bytes_unref (question);
}

GST_END_TEST;

/* provider-config reaches the setup; "setup" overrides any field, but
 * never sends what the model refuses */
GST_START_TEST (test_setup_config)
{
  MockGemini *mock = mock_gemini_new ();
  GstStructure *pc;
  JsonObject *setup, *aad, *fd;
  JsonArray *decls;
  JsonNode *msg;
  Session *s;
  guint i;

  mock_gemini_push_script (mock, script_setup ());
  pc = gst_structure_new ("config",
      "start-sensitivity", G_TYPE_STRING, "low",
      "end-sensitivity", G_TYPE_STRING, "high",
      "silence-duration-ms", G_TYPE_INT, 700,
      "prefix-padding-ms", G_TYPE_INT, 40,
      "activity-handling", G_TYPE_STRING, "no-interruption",
      "language-code", G_TYPE_STRING, "fr-FR",
      "temperature", G_TYPE_DOUBLE, 0.5,
      "compression-trigger-tokens", G_TYPE_INT, 25600,
      "compression-target-tokens", G_TYPE_INT, 12800,
      "tool-behavior", G_TYPE_STRING, "non-blocking,lookup_order=blocking",
      "setup", G_TYPE_STRING, "{\"realtimeInputConfig\": {\"turnCoverage\": "
      "\"TURN_INCLUDES_ALL_INPUT\"}, \"generationConfig\": {\"thinkingConfig\":"
      " {\"thinkingBudget\": 10}, \"topK\": 5}, \"proactivity\": "
      "{\"proactiveAudio\": false}}", NULL);
  s = gemini_session_new (mock, DESC_NO_INPUT, "provider-config", pc,
      "model", "models/gemini-3.8-live", "tools", app_tools, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);
  msg = mock_setup (mock, 0);
  setup = jobj (json_node_get_object (msg), "setup");
  fail_unless_equals_string (jstr (setup, "model"), "models/gemini-3.8-live");
  aad = jobj (setup, "realtimeInputConfig.automaticActivityDetection");
  fail_if (jbool (aad, "disabled"));
  fail_unless_equals_string (jstr (aad, "startOfSpeechSensitivity"),
      "START_SENSITIVITY_LOW");
  fail_unless_equals_string (jstr (aad, "endOfSpeechSensitivity"),
      "END_SENSITIVITY_HIGH");
  fail_unless_equals_int (jint (aad, "silenceDurationMs"), 700);
  fail_unless_equals_int (jint (aad, "prefixPaddingMs"), 40);
  fail_unless_equals_string (jstr (setup,
          "realtimeInputConfig.activityHandling"), "NO_INTERRUPTION");
  fail_unless_equals_string (jstr (setup,
          "realtimeInputConfig.turnCoverage"), "TURN_INCLUDES_ALL_INPUT");
  fail_unless_equals_string (jstr (setup,
          "generationConfig.speechConfig.languageCode"), "fr-FR");
  fail_unless (G_APPROX_VALUE (jdouble (setup, "generationConfig.temperature"),
          0.5, 1e-9));
  fail_unless_equals_int (jint (setup, "generationConfig.topK"), 5);
  fail_unless_equals_int (jint (setup,
          "contextWindowCompression.triggerTokens"), 25600);
  fail_unless_equals_int (jint (setup,
          "contextWindowCompression.slidingWindow.targetTokens"), 12800);
  fail_if (jhas (setup, "generationConfig.thinkingConfig"));
  fail_if (jhas (setup, "proactivity"));
  decls = json_node_get_array (jget (json_array_get_object_element
          (json_node_get_array (jget (setup, "tools")), 0),
          "functionDeclarations"));
  for (i = 0; i < json_array_get_length (decls); i++) {
    fd = json_array_get_object_element (decls, i);
    fail_unless_equals_string (jstr (fd, "behavior"),
        g_strcmp0 (jstr (fd, "name"), "lookup_order") == 0 ? "BLOCKING" :
        "NON_BLOCKING");
  }
  json_node_unref (msg);
  session_free (s);

  /* push-to-talk: no activity detection; a bad value is refused at once */
  mock_gemini_push_script (mock, script_setup ());
  pc = gst_structure_new ("config", "turn-detection", G_TYPE_STRING, "none",
      "response-modality", G_TYPE_STRING, "text", NULL);
  s = gemini_session_new (mock, DESC_NO_INPUT, "provider-config", pc, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);
  msg = mock_setup (mock, 1);
  setup = jobj (json_node_get_object (msg), "setup");
  fail_unless (jbool (setup,
          "realtimeInputConfig.automaticActivityDetection.disabled"));
  {
    gchar *mod = jstrings (setup, "generationConfig.responseModalities");
    fail_unless_equals_string (mod, "TEXT");
    g_free (mod);
  }
  fail_if (jhas (setup, "outputAudioTranscription"));
  json_node_unref (msg);
  session_free (s);

  s = gemini_session (mock, DESC_NO_INPUT, TRUE);
  pc = gst_structure_new ("config", "tool-scheduling", G_TYPE_STRING,
      "sometimes", NULL);
  g_object_set (s->agent, "provider-config", pc, NULL);
  gst_structure_free (pc);
  fail_unless_equals_int (gst_element_set_state (s->pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  {
    gint code;
    const gchar *text = wait_error (s, &code);

    fail_unless_equals_int (code, GST_RESOURCE_ERROR_SETTINGS);
    fail_unless (strstr (text, "tool-scheduling") != NULL, "%s", text);
  }
  session_free (s);
  fail_unless_equals_int (mock_gemini_n_connections (mock), 2);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 2. A spoken turn: the golden exchange, and messages of several parts
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_golden_turn)
{
  MockGemini *mock = mock_gemini_new ();
  GBytes *pcm = make_answer (1250, 3), *question = make_question (300, 4);
  MockGeminiScript *sc = mock_gemini_script_new ();
  const GstStructure *st, *d;
  gint i_conn, i_start, i_done, i_usage, i_final, i_close;
  GString *partials = g_string_new (NULL);
  gchar *text;
  Session *s;
  GstFlowReturn ret;
  guint i;

  mock_gemini_script_add_golden (sc, g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm));
  mock_gemini_push_script (mock, sc);
  s = gemini_session_new (mock, DESC_APPSRC, NULL);
  i_conn = session_wait_connected (s);
  session_push_bytes (s, question, 20);

  i_done = session_wait (s, i_conn, "bidi_response_complete", NULL, NULL,
      WAIT_MS);
  fail_unless (i_done > i_conn, "the answer did not complete");
  fail_unless_equals_string (msg_str (s, i_done, "stop_reason"), "complete");
  i_start = session_wait (s, i_conn, "bidi_response_start", NULL, NULL, 0);
  fail_unless (i_start > i_conn && i_start < i_done);
  fail_unless_equals_string (msg_str (s, i_start, "response_id"),
      msg_str (s, i_done, "response_id"));
  session_assert_answer_tail (s, 0, pcm);

  /* the user's words: partial as they came, final when the answer starts */
  text = session_transcripts (s, "user");
  fail_unless_equals_string (text,
      "Tell me|Tell me|partial\n"
      " a story.|Tell me a story.|partial\n"
      "Tell me a story.|Tell me a story.|final");
  g_free (text);
  i_final = session_wait (s, i_conn, "bidi_transcript_stream", "role",
      "user", 0);
  fail_unless (i_final < i_start);
  /* the assistant's: the partial pieces make the whole, final at the end */
  for (i = i_start; i < (guint) i_done; i++) {
    gboolean fin = TRUE;

    st = session_msg (s, i);
    if (!bus_log_matches (st, "bidi_transcript_stream", "role", "assistant"))
      continue;
    gst_structure_get_boolean (st, "is_final", &fin);
    if (!fin)
      g_string_append (partials, gst_structure_get_string (st, "text"));
    else
      fail_unless_equals_string (gst_structure_get_string (st, "text"),
          MOCK_GEMINI_GOLDEN_ASSISTANT_TRANSCRIPT);
  }
  fail_unless_equals_string (partials->str,
      MOCK_GEMINI_GOLDEN_ASSISTANT_TRANSCRIPT);
  fail_unless (session_wait (s, i_start, "bidi_transcript_stream",
          "is_final", "true", 0) < i_done);

  /* the usage, with its modalities */
  i_usage = session_wait (s, i_start, "bidi_usage", NULL, NULL, 0);
  fail_unless (i_usage > i_start && i_usage < i_done);
  st = session_msg (s, i_usage);
  session_assert_tokens (st, "inputTokens", MOCK_GEMINI_GOLDEN_PROMPT_TOKENS);
  session_assert_tokens (st, "outputTokens",
      MOCK_GEMINI_GOLDEN_RESPONSE_TOKENS);
  session_assert_tokens (st, "totalTokens", MOCK_GEMINI_GOLDEN_TOTAL_TOKENS);
  d = session_find_modality (st, "text");
  fail_unless (d != NULL);
  session_assert_tokens (d, "input_tokens",
      MOCK_GEMINI_GOLDEN_PROMPT_TEXT_TOKENS);
  d = session_find_modality (st, "audio");
  fail_unless (d != NULL);
  session_assert_tokens (d, "input_tokens",
      MOCK_GEMINI_GOLDEN_PROMPT_AUDIO_TOKENS);
  session_assert_tokens (d, "output_tokens",
      MOCK_GEMINI_GOLDEN_RESPONSE_AUDIO_TOKENS);

  fail_unless_equals_int (session_count (s, "bidi_interruption", NULL, NULL),
      0);
  fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 0);
  fail_unless_equals_int (session_count (s, "warning", NULL, NULL), 0);
  fail_unless (mock_gemini_wait_script_done (mock, 0, WAIT_MS));

  /* the input ends: audioStreamEnd, then the session is complete */
  g_signal_emit_by_name (s->src, "end-of-stream", &ret);
  json_node_unref (mock_message (mock, 0, "realtimeInput.audioStreamEnd",
          0));
  i_close = session_wait (s, i_done, "bidi_connection_close", "reason",
      "complete", WAIT_MS * 2);
  fail_unless (i_close > i_done, "the session did not complete");
  fail_unless (session_wait (s, i_close, "eos", NULL, NULL, WAIT_MS) >
      i_close);
  fail_unless (mock_gemini_wait_closed (mock, 0, WAIT_MS));
  fail_unless_equals_int (mock_gemini_get_close_code (mock, 0), 1000);

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
  g_string_free (partials, TRUE);
  g_bytes_unref (pcm);
  g_bytes_unref (question);
}

GST_END_TEST;

/* One message may carry several parts: each is handled, in order; text
 * frames are taken as binary ones are */
GST_START_TEST (test_combined_parts)
{
  MockGemini *mock = mock_gemini_new ();
  GBytes *pcm = make_answer (200, 5);
  MockGeminiScript *sc = script_setup ();
  gchar *b64 = g_base64_encode (g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm));
  gint i_user, i_start, i_audio_done, i_usage, i_done;
  gchar *text;
  Session *s;

  /* the user's last words and the answer's first audio */
  mock_gemini_script_send_printf (sc, "{\"serverContent\":{"
      "\"inputTranscription\":{\"text\":\"Hello\"},\"modelTurn\":{\"parts\":["
      "{\"text\":\"thinking about it\",\"thought\":true},{\"inlineData\":"
      "{\"mimeType\":\"audio/pcm;rate=24000\",\"data\":\"%s\"}}]},"
      "\"outputTranscription\":{\"text\":\"Hi there.\"}}}", b64);
  /* its end, its usage, as a text frame */
  mock_gemini_script_send_text (sc, "{\"serverContent\":{\"generationComplete\""
      ":true,\"turnComplete\":true},\"usageMetadata\":{\"promptTokenCount\":10,"
      "\"responseTokenCount\":4,\"totalTokenCount\":14}}");
  mock_gemini_push_script (mock, sc);
  s = gemini_session_new (mock, DESC_NO_INPUT, NULL);
  session_wait_connected (s);

  i_done = session_wait (s, 0, "bidi_response_complete", "stop_reason",
      "complete", WAIT_MS);
  fail_unless (i_done >= 0, "no answer");
  session_assert_answer_tail (s, 0, pcm);
  i_user = session_wait (s, 0, "bidi_transcript_stream", "is_final", "true",
      0);
  fail_unless_equals_string (msg_str (s, i_user, "role"), "user");
  fail_unless_equals_string (msg_str (s, i_user, "text"), "Hello");
  i_start = session_wait (s, 0, "bidi_response_start", NULL, NULL, 0);
  fail_unless (i_user < i_start && i_start < i_done);
  i_audio_done = session_wait (s, i_start, "bidi_transcript_stream",
      "is_final", "true", 0);
  fail_unless_equals_string (msg_str (s, i_audio_done, "text"), "Hi there.");
  i_usage = session_wait (s, i_start, "bidi_usage", NULL, NULL, 0);
  fail_unless (i_usage > i_start && i_usage < i_done);
  session_assert_tokens (session_msg (s, i_usage), "totalTokens", 14);
  /* the thought is neither spoken nor shown */
  text = session_transcripts (s, "assistant");
  fail_unless_equals_string (text, "Hi there.|Hi there.|partial\n"
      "Hi there.|Hi there.|final");
  g_free (text);

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
  g_free (b64);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 3. Barge-in
 * ------------------------------------------------------------------------ */

/* The server stops its answer when the user speaks: the element flushes,
 * what still comes of that answer does not play, the history keeps what
 * was heard, and the next answer plays whole */
GST_START_TEST (test_barge_in)
{
  MockGemini *mock = mock_gemini_new ();
  GBytes *pcm = make_answer (LONG_MS, 5), *late = make_answer (400, 6),
      *next = make_answer (400, 7);
  MockGeminiScript *sc = script_setup ();
  const gchar *words = "One two three four five six seven eight nine ten.";
  gint i_int, i_done, i_next;
  gsize heard, at_flush;
  gchar *history;
  Session *s;

  mock_gemini_script_send_printf (sc, "{\"serverContent\":"
      "{\"outputTranscription\":{\"text\":\"%s\"}}}", words);
  mock_gemini_script_send_audio (sc, g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm), CHUNK_MS, FALSE);
  mock_gemini_push_script (mock, sc);
  s = gemini_session_new (mock, DESC_LIVE, NULL);
  session_wait_connected (s);

  /* a second of it plays, then the user talks */
  fail_unless (session_wait_answer (s, OUT_MS_BYTES (1000), WAIT_MS));
  sc = mock_gemini_script_new ();
  mock_gemini_script_send (sc, "{\"serverContent\":{\"interrupted\":true}}");
  /* audio of the cut answer still in flight */
  mock_gemini_script_send_audio (sc, g_bytes_get_data (late, NULL),
      g_bytes_get_size (late), CHUNK_MS, FALSE);
  mock_gemini_script_send (sc, "{\"serverContent\":{\"turnComplete\":true}}");
  mock_gemini_script_send (sc, "{\"serverContent\":{\"inputTranscription\":"
      "{\"text\":\"Wait, stop.\"}}}");
  mock_gemini_run (mock, 0, sc);

  i_int = session_wait (s, 0, "bidi_interruption", NULL, NULL, WAIT_MS);
  fail_unless (i_int >= 0, "no bidi_interruption");
  fail_unless_equals_string (msg_str (s, i_int, "reason"), "user_speech");
  i_done = session_wait (s, i_int, "bidi_response_complete", NULL, NULL,
      WAIT_MS);
  fail_unless (i_done > i_int);
  fail_unless_equals_string (msg_str (s, i_done, "stop_reason"),
      "interrupted");
  fail_unless_equals_string (msg_str (s, i_done, "response_id"),
      msg_str (s, i_int, "response_id"));
  fail_unless (mock_gemini_wait_script_done (mock, 0, WAIT_MS));
  fail_unless (session_wait (s, i_done, "bidi_transcript_stream", "text",
          "Wait, stop.", WAIT_MS) > i_done);

  /* the next answer: it plays whole, right after what was heard */
  g_mutex_lock (&s->lock);
  fail_unless (s->n_flush > 0, "no FLUSH_START at the sink");
  heard = s->answer->len;
  at_flush = s->answer_at_flush;
  g_mutex_unlock (&s->lock);
  fail_unless_equals_uint64 (heard, at_flush);
  fail_unless (heard < OUT_MS_BYTES (LONG_MS), "the whole answer played");
  sc = mock_gemini_script_new ();
  script_answer (sc, "Yes?", next);
  mock_gemini_run (mock, 0, sc);
  i_next = session_wait (s, i_done, "bidi_response_complete", "stop_reason",
      "complete", WAIT_MS);
  fail_unless (i_next > i_done);
  session_assert_answer_tail (s, heard, next);

  /* the history keeps only the words that were heard */
  g_object_get (s->agent, "history", &history, NULL);
  GST_INFO ("history: %s", history);
  fail_unless (strstr (history, "\"One") != NULL, "%s", history);
  fail_if (strstr (history, words) != NULL, "%s", history);
  fail_unless (strstr (history, "Wait, stop.") != NULL, "%s", history);
  g_free (history);

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
  g_bytes_unref (pcm);
  g_bytes_unref (late);
  g_bytes_unref (next);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 4. Text and images
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_text_and_image)
{
  MockGemini *mock = mock_gemini_new ();
  GBytes *png = session_make_png (), *jpeg = session_make_jpeg (), *pcm = make_answer (200,
      8);
  MockGeminiScript *sc = script_setup ();
  JsonNode *msg;
  JsonObject *cc, *video, *turn;
  gboolean ok = FALSE;
  gchar *b64;
  Session *s;
  static const guint8 webp[] = { 'R', 'I', 'F', 'F', 30, 0, 0, 0, 'W',
    'E', 'B', 'P', 'V', 'P', '8', 'L', 0, 0, 0, 0
  };
  GBytes *webp_bytes = g_bytes_new_static (webp, sizeof (webp));

  mock_gemini_script_wait (sc, "clientContent", 1, WAIT_MS);
  script_answer (sc, "A cat.", pcm);
  mock_gemini_push_script (mock, sc);
  s = gemini_session_new (mock, DESC_NO_INPUT, NULL);
  session_wait_connected (s);

  g_signal_emit_by_name (s->agent, "send-image", png, "image/png", &ok);
  fail_unless (ok);
  g_signal_emit_by_name (s->agent, "send-image", jpeg, "image/jpeg", &ok);
  fail_unless (ok);
  /* the element takes WebP, Gemini does not: said on the bus */
  g_signal_emit_by_name (s->agent, "send-image", webp_bytes, NULL, &ok);
  fail_unless (ok);
  g_signal_emit_by_name (s->agent, "send-text", "What is this?", &ok);
  fail_unless (ok);

  msg = mock_message (mock, 0, "realtimeInput.video", 0);
  video = jobj (json_node_get_object (msg), "realtimeInput.video");
  fail_unless_equals_string (jstr (video, "mimeType"), "image/png");
  b64 = g_base64_encode (g_bytes_get_data (png, NULL), g_bytes_get_size (png));
  fail_unless_equals_string (jstr (video, "data"), b64);
  g_free (b64);
  json_node_unref (msg);
  msg = mock_message (mock, 0, "realtimeInput.video", 1);
  fail_unless_equals_string (jstr (json_node_get_object (msg),
          "realtimeInput.video.mimeType"), "image/jpeg");
  json_node_unref (msg);

  msg = mock_message (mock, 0, "clientContent", 0);
  cc = jobj (json_node_get_object (msg), "clientContent");
  fail_unless (jbool (cc, "turnComplete"));
  turn = json_array_get_object_element (json_node_get_array (jget (cc,
              "turns")), 0);
  fail_unless_equals_string (jstr (turn, "role"), "user");
  fail_unless_equals_string (jstr (json_array_get_object_element
          (json_node_get_array (jget (turn, "parts")), 0), "text"),
      "What is this?");
  json_node_unref (msg);

  fail_unless (session_wait (s, 0, "bidi_error", "code", "bad_image",
          WAIT_MS) >= 0, "the WebP image was not refused");
  fail_unless_equals_int (mock_gemini_count_messages (mock, 0,
          "realtimeInput.video"), 2);
  fail_unless (session_wait (s, 0, "bidi_response_complete", "stop_reason",
          "complete", WAIT_MS) >= 0);
  session_assert_answer_tail (s, 0, pcm);

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
  g_bytes_unref (png);
  g_bytes_unref (jpeg);
  g_bytes_unref (webp_bytes);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 5. Tools
 * ------------------------------------------------------------------------ */

/* The function response of @conn number @nth (json_node_unref) */
static JsonObject *
function_response (JsonNode * msg)
{
  JsonNode *frs = jget (json_node_get_object (msg),
      "toolResponse.functionResponses");

  fail_unless (frs && JSON_NODE_HOLDS_ARRAY (frs));
  fail_unless_equals_int (json_array_get_length (json_node_get_array (frs)),
      1);
  return json_array_get_object_element (json_node_get_array (frs), 0);
}

/* A non-blocking call: the model keeps talking while the application
 * works; the result goes back with the call's id and name and the
 * scheduling asked for; a failure says why */
GST_START_TEST (test_tool_call)
{
  MockGemini *mock = mock_gemini_new ();
  GBytes *pcm = make_answer (300, 9), *more = make_answer (300, 10);
  MockGeminiScript *sc = script_setup ();
  const GstStructure *call;
  GstStructure *pc;
  JsonNode *msg, *expect;
  JsonObject *fr;
  gboolean ok = FALSE;
  gint i_use, i_done;
  Session *s;

  mock_gemini_script_wait (sc, "clientContent", 1, WAIT_MS);
  mock_gemini_script_send_audio (sc, g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm), CHUNK_MS, FALSE);
  mock_gemini_script_send_tool_call (sc, "fc_1", "get_weather",
      "{\"city\":\"Paris\"}");
  /* the model goes on while the tool runs */
  script_answer (sc, "Let me check.", more);
  mock_gemini_script_wait (sc, "toolResponse", 1, WAIT_MS);
  mock_gemini_script_send_tool_call (sc, "fc_2", "lookup_order",
      "{\"order_id\":7}");
  mock_gemini_script_wait (sc, "toolResponse", 1, WAIT_MS);
  mock_gemini_script_send_tool_call (sc, "fc_3", "get_weather",
      "{\"city\":\"Lima\"}");
  mock_gemini_script_wait (sc, "toolResponse", 1, WAIT_MS);
  mock_gemini_push_script (mock, sc);
  pc = gst_structure_new ("config", "tool-scheduling", G_TYPE_STRING,
      "interrupt,lookup_order=silent", NULL);
  s = gemini_session_new (mock, DESC_NO_INPUT, "tools", app_tools,
      "provider-config", pc, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);
  g_signal_emit_by_name (s->agent, "send-text", "Weather in Paris?", &ok);

  call = session_wait_tool_call (s, 0);
  fail_unless (call != NULL, "no tool-call signal");
  fail_unless_equals_string (gst_structure_get_string (call, "id"), "fc_1");
  fail_unless_equals_string (gst_structure_get_string (call, "name"),
      "get_weather");
  i_use = session_wait (s, 0, "tool_use_stream", "toolUseId", "fc_1", 0);
  fail_unless (i_use >= 0);
  /* the call ended the answer before it */
  i_done = session_wait (s, 0, "bidi_response_complete", NULL, NULL, 0);
  fail_unless (i_done >= 0 && i_done < i_use);
  fail_unless_equals_string (msg_str (s, i_done, "stop_reason"), "tool_use");
  /* the model's next words play before the result is in */
  fail_unless (session_wait (s, i_use, "bidi_response_complete",
          "stop_reason", "complete", WAIT_MS) > i_use);
  fail_unless (session_wait_answer (s, g_bytes_get_size (pcm) +
          g_bytes_get_size (more), WAIT_MS));

  g_signal_emit_by_name (s->agent, "send-tool-result", "fc_1",
      "{\"temp_c\": 18}", "success", &ok);
  fail_unless (ok);
  msg = mock_message (mock, 0, "toolResponse", 0);
  fr = function_response (msg);
  fail_unless_equals_string (jstr (fr, "id"), "fc_1");
  fail_unless_equals_string (jstr (fr, "name"), "get_weather");
  fail_unless_equals_string (jstr (fr, "scheduling"), "INTERRUPT");
  expect = parse_json ("{\"temp_c\": 18}");
  fail_unless (json_node_equal (jget (fr, "response.output"), expect));
  json_node_unref (expect);
  json_node_unref (msg);

  /* the second tool fails: the model hears why */
  call = session_wait_tool_call (s, 1);
  fail_unless (call != NULL);
  g_signal_emit_by_name (s->agent, "send-tool-result", "fc_2",
      "{\"error\": \"the order service is down, retry later\"}", "error",
      &ok);
  fail_unless (ok);
  msg = mock_message (mock, 0, "toolResponse", 1);
  fr = function_response (msg);
  fail_unless_equals_string (jstr (fr, "id"), "fc_2");
  fail_unless_equals_string (jstr (fr, "name"), "lookup_order");
  fail_unless_equals_string (jstr (fr, "scheduling"), "SILENT");
  fail_unless_equals_string (jstr (fr, "response.error"),
      "the order service is down, retry later");
  fail_if (jhas (fr, "response.output"));
  json_node_unref (msg);
  fail_unless (session_wait (s, 0, "tool_result", "toolUseId", "fc_2",
          WAIT_MS) >= 0);

  /* an empty result would make the model call again: it is said in words */
  fail_unless (session_wait_tool_call (s, 2) != NULL);
  g_signal_emit_by_name (s->agent, "send-tool-result", "fc_3", "[]",
      "success", &ok);
  fail_unless (ok);
  msg = mock_message (mock, 0, "toolResponse", 2);
  fr = function_response (msg);
  fail_unless_equals_string (jstr (fr, "id"), "fc_3");
  fail_unless (jstr (fr, "response.output") != NULL &&
      strstr (jstr (fr, "response.output"), "no data") != NULL);
  json_node_unref (msg);
  fail_unless (mock_gemini_wait_script_done (mock, 0, WAIT_MS));

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
  g_bytes_unref (pcm);
  g_bytes_unref (more);
}

GST_END_TEST;

/* The server withdraws a call: tool_cancel is posted, the application's
 * late result is dropped and never reaches the server */
GST_START_TEST (test_tool_call_cancelled)
{
  MockGemini *mock = mock_gemini_new ();
  GBytes *pcm = make_answer (200, 11);
  MockGeminiScript *sc = script_setup ();
  gboolean ok = TRUE;
  gint i_cancel;
  Session *s;

  mock_gemini_script_send_tool_call (sc, "fc_9", "get_weather",
      "{\"city\":\"Oslo\"}");
  mock_gemini_push_script (mock, sc);
  s = gemini_session_new (mock, DESC_NO_INPUT, "tools", app_tools, NULL);
  session_wait_connected (s);
  fail_unless (session_wait_tool_call (s, 0) != NULL);

  sc = mock_gemini_script_new ();
  mock_gemini_script_send_tool_cancel (sc, "fc_9");
  script_answer (sc, "Never mind.", pcm);
  mock_gemini_run (mock, 0, sc);
  i_cancel = session_wait (s, 0, "tool_cancel", "toolUseId", "fc_9",
      WAIT_MS);
  fail_unless (i_cancel >= 0, "no tool_cancel");
  fail_unless (session_wait (s, i_cancel, "bidi_response_complete",
          "stop_reason", "complete", WAIT_MS) > i_cancel);
  g_signal_emit_by_name (s->agent, "send-tool-result", "fc_9",
      "{\"temp_c\": 3}", "success", &ok);
  fail_if (ok, "the result of a withdrawn call was taken");
  session_assert_answer_tail (s, 0, pcm);
  fail_unless_equals_int (mock_gemini_count_messages (mock, 0,
          "toolResponse"), 0);
  fail_unless_equals_int (session_count (s, "tool_result", NULL, NULL), 0);

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 6. Reconnecting: resumption, and history when it cannot be resumed
 * ------------------------------------------------------------------------ */

/* goAway: the provider reconnects at the next pause with the latest
 * handle; the server restores the conversation, nothing is replayed */
GST_START_TEST (test_go_away_resumes)
{
  MockGemini *mock = mock_gemini_new ();
  GBytes *pcm = make_answer (300, 12), *pcm2 = make_answer (300, 13);
  MockGeminiScript *sc = script_setup ();
  JsonNode *msg;
  gint i_restart;
  gboolean ok = FALSE;
  Session *s;

  /* the history, then the question */
  mock_gemini_script_wait (sc, "clientContent", 2, WAIT_MS);
  script_answer (sc, "Hello!", pcm);
  mock_gemini_script_send (sc, "{\"sessionResumptionUpdate\":{\"newHandle\":"
      "\"old-handle\",\"resumable\":true}}");
  mock_gemini_script_send (sc, "{\"sessionResumptionUpdate\":{\"newHandle\":"
      "\"handle-2\",\"resumable\":true}}");
  /* a handle while busy is not resumable */
  mock_gemini_script_send (sc, "{\"sessionResumptionUpdate\":"
      "{\"resumable\":false}}");
  mock_gemini_script_send (sc, "{\"goAway\":{\"timeLeft\":\"50s\"}}");
  mock_gemini_push_script (mock, sc);
  sc = script_setup ();
  mock_gemini_script_wait (sc, "clientContent", 1, WAIT_MS);
  script_answer (sc, "Still me.", pcm2);
  mock_gemini_push_script (mock, sc);
  s = gemini_session_new (mock, DESC_NO_INPUT, "messages",
      "[{\"role\": \"user\", \"content\": [{\"text\": \"My name is Ada.\"}]}]",
      NULL);
  session_wait_connected (s);
  g_signal_emit_by_name (s->agent, "send-text", "Hi", &ok);

  i_restart = session_wait (s, 0, "bidi_connection_restart", NULL, NULL,
      WAIT_MS);
  fail_unless (i_restart >= 0, "no restart after goAway");
  fail_unless_equals_string (msg_str (s, i_restart, "reason"), "timeout");
  fail_unless (session_wait (s, i_restart, "bidi_connection_start", NULL,
          NULL, WAIT_MS) > i_restart);
  fail_unless (mock_gemini_wait_closed (mock, 0, WAIT_MS));

  /* the first session got the history; the resumed one did not */
  msg = mock_message (mock, 0, "clientContent", 0);
  fail_if (jbool (json_node_get_object (msg), "clientContent.turnComplete"));
  json_node_unref (msg);
  msg = mock_setup (mock, 1);
  fail_unless_equals_string (jstr (json_node_get_object (msg),
          "setup.sessionResumption.handle"), "handle-2");
  json_node_unref (msg);

  g_signal_emit_by_name (s->agent, "send-text", "Still there?", &ok);
  fail_unless (session_wait (s, i_restart, "bidi_response_complete",
          "stop_reason", "complete", WAIT_MS) > i_restart);
  fail_unless_equals_int (mock_gemini_count_messages (mock, 1,
          "clientContent"), 1);
  msg = mock_message (mock, 1, "clientContent", 0);
  fail_unless (jbool (json_node_get_object (msg),
          "clientContent.turnComplete"));
  json_node_unref (msg);

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
  g_bytes_unref (pcm);
  g_bytes_unref (pcm2);
}

GST_END_TEST;

/* The server closes with 1011 (unavailable); the next one refuses the
 * handle (1007): a new session gets the conversation so far, without
 * prompting an answer */
GST_START_TEST (test_resume_refused_replays)
{
  MockGemini *mock = mock_gemini_new ();
  GBytes *pcm = make_answer (300, 14);
  MockGeminiScript *sc = script_setup ();
  JsonNode *msg;
  JsonObject *cc;
  JsonArray *turns;
  gchar *all;
  gboolean ok = FALSE;
  Session *s;
  guint i;

  mock_gemini_script_wait (sc, "clientContent", 1, WAIT_MS);
  script_answer (sc, "Nice to meet you, Ada.", pcm);
  mock_gemini_script_send (sc, "{\"sessionResumptionUpdate\":{\"newHandle\":"
      "\"h-1\",\"resumable\":true}}");
  mock_gemini_script_sleep (sc, 200);
  /* the service is unavailable for a moment: reconnect, resuming */
  mock_gemini_script_close (sc, 1011, "The service is currently "
      "unavailable.");
  mock_gemini_push_script (mock, sc);
  sc = mock_gemini_script_new ();
  mock_gemini_script_wait (sc, "setup", 1, WAIT_MS);
  mock_gemini_script_close (sc, 1007, "Session not found.");
  mock_gemini_push_script (mock, sc);
  mock_gemini_push_script (mock, script_setup ());
  s = gemini_session_new (mock, DESC_NO_INPUT, NULL);
  session_wait_connected (s);
  g_signal_emit_by_name (s->agent, "send-text", "I am Ada.", &ok);

  fail_unless (session_wait (s, 0, "bidi_connection_restart", NULL, NULL,
          WAIT_MS * 2) >= 0, "no restart");
  fail_unless (mock_gemini_wait_connections (mock, 3, WAIT_MS));
  msg = mock_setup (mock, 1);
  fail_unless_equals_string (jstr (json_node_get_object (msg),
          "setup.sessionResumption.handle"), "h-1");
  json_node_unref (msg);
  msg = mock_setup (mock, 2);
  fail_if (jhas (json_node_get_object (msg), "setup.sessionResumption.handle"));
  json_node_unref (msg);

  msg = mock_message (mock, 2, "clientContent", 0);
  cc = jobj (json_node_get_object (msg), "clientContent");
  fail_if (jbool (cc, "turnComplete"));
  turns = json_node_get_array (jget (cc, "turns"));
  fail_unless_equals_int (json_array_get_length (turns), 2);
  all = g_strdup ("");
  for (i = 0; i < 2; i++) {
    JsonObject *t = json_array_get_object_element (turns, i);
    gchar *tmp = g_strconcat (all, jstr (t, "role"), ":",
        jstr (json_array_get_object_element (json_node_get_array (jget (t,
                        "parts")), 0), "text"), ";", NULL);

    g_free (all);
    all = tmp;
  }
  fail_unless_equals_string (all, "user:I am Ada.;model:Nice to meet you, "
      "Ada.;");
  g_free (all);
  json_node_unref (msg);
  fail_unless_equals_int (session_count (s, "error", NULL, NULL), 0);

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* max-session-s: the connection is renewed at a pause, before the
 * service's own cut, resuming with the latest handle */
GST_START_TEST (test_session_renewed)
{
  MockGemini *mock = mock_gemini_new ();
  MockGeminiScript *sc = script_setup ();
  GstStructure *pc;
  JsonNode *msg;
  gint i_restart;
  Session *s;

  mock_gemini_script_send (sc, "{\"sessionResumptionUpdate\":{\"newHandle\":"
      "\"h-renew\",\"resumable\":true}}");
  mock_gemini_push_script (mock, sc);
  mock_gemini_push_script (mock, script_setup ());
  pc = gst_structure_new ("config", "max-session-s", G_TYPE_INT, 1, NULL);
  s = gemini_session_new (mock, DESC_NO_INPUT, "provider-config", pc, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);
  i_restart = session_wait (s, 0, "bidi_connection_restart", NULL, NULL,
      WAIT_MS);
  fail_unless (i_restart >= 0, "not renewed");
  fail_unless_equals_string (msg_str (s, i_restart, "reason"), "timeout");
  msg = mock_setup (mock, 1);
  fail_unless_equals_string (jstr (json_node_get_object (msg),
          "setup.sessionResumption.handle"), "h-renew");
  json_node_unref (msg);
  fail_unless (mock_gemini_wait_closed (mock, 0, WAIT_MS));
  fail_unless_equals_int (mock_gemini_get_close_code (mock, 0), 1000);
  fail_unless_equals_int (session_count (s, "bidi_error", NULL, NULL), 0);

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
}

GST_END_TEST;

/* session-lifetime-s: past it, a renewal starts a new session (no handle)
 * that gets the conversation replayed */
GST_START_TEST (test_session_lifetime)
{
  MockGemini *mock = mock_gemini_new ();
  MockGeminiScript *sc = script_setup ();
  GstStructure *pc;
  JsonNode *msg;
  Session *s;

  mock_gemini_script_send (sc, "{\"sessionResumptionUpdate\":{\"newHandle\":"
      "\"h-old\",\"resumable\":true}}");
  mock_gemini_push_script (mock, sc);
  mock_gemini_push_script (mock, script_setup ());
  pc = gst_structure_new ("config", "max-session-s", G_TYPE_INT, 1,
      "session-lifetime-s", G_TYPE_INT, 1, NULL);
  s = gemini_session_new (mock, DESC_NO_INPUT, "provider-config", pc,
      "messages", "[{\"role\": \"user\", \"content\": [{\"text\": "
      "\"Remember 42.\"}]}]", NULL);
  gst_structure_free (pc);
  session_wait_connected (s);
  fail_unless (session_wait (s, 0, "bidi_connection_restart", NULL, NULL,
          WAIT_MS) >= 0, "not renewed");
  msg = mock_setup (mock, 1);
  fail_if (jhas (json_node_get_object (msg), "setup.sessionResumption.handle"));
  json_node_unref (msg);
  msg = mock_message (mock, 1, "clientContent", 0);
  fail_unless (strstr (jstr (json_array_get_object_element
              (json_node_get_array (jget (json_array_get_object_element
                          (json_node_get_array (jget (json_node_get_object
                                      (msg), "clientContent.turns")), 0),
                      "parts")), 0), "text"), "Remember 42.") != NULL);
  json_node_unref (msg);

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
}

GST_END_TEST;

/* The server's voiceActivity hints are the user's state and the end of
 * the turn */
GST_START_TEST (test_voice_activity)
{
  MockGemini *mock = mock_gemini_new ();
  GBytes *pcm = make_answer (300, 20), *question = make_question (400, 21);
  MockGeminiScript *sc = script_setup ();
  Session *s;

  mock_gemini_script_wait (sc, "realtimeInput.audio", 3, WAIT_MS);
  mock_gemini_script_send (sc, "{\"voiceActivity\":{\"voiceActivityType\":"
      "\"ACTIVITY_START\"}}");
  mock_gemini_script_send (sc, "{\"voiceActivity\":{\"voiceActivityType\":"
      "\"ACTIVITY_END\"}}");
  script_answer (sc, "Heard you.", pcm);
  mock_gemini_push_script (mock, sc);
  s = gemini_session_new (mock, DESC_APPSRC, NULL);
  session_wait_connected (s);
  session_push_bytes (s, question, 20);

  fail_unless (session_wait (s, 0, "bidi_turn_latency", NULL, NULL,
          WAIT_MS) >= 0);
  session_assert_turn (s);

  session_free (s);
  mock_gemini_free (mock);
  g_bytes_unref (pcm);
  g_bytes_unref (question);
}

GST_END_TEST;

/* turn-detection=none: the input is one turn between activityStart and
 * activityEnd; its end asks for the answer, then the session completes */
GST_START_TEST (test_push_to_talk)
{
  MockGemini *mock = mock_gemini_new ();
  GBytes *pcm = make_answer (300, 18), *question = make_question (400, 19);
  MockGeminiScript *sc = script_setup ();
  GstStructure *pc;
  GstFlowReturn ret;
  gchar *first, *last;
  guint n;
  Session *s;

  mock_gemini_script_wait (sc, "realtimeInput.activityEnd", 1, WAIT_MS);
  script_answer (sc, "Heard you.", pcm);
  mock_gemini_push_script (mock, sc);
  pc = gst_structure_new ("config", "turn-detection", G_TYPE_STRING, "none",
      NULL);
  s = gemini_session_new (mock, DESC_APPSRC, "provider-config", pc, NULL);
  gst_structure_free (pc);
  session_wait_connected (s);
  session_push_bytes (s, question, 20);
  g_signal_emit_by_name (s->src, "end-of-stream", &ret);

  fail_unless (session_wait (s, 0, "bidi_connection_close", "reason",
          "complete", WAIT_MS) >= 0, "the session did not complete");
  session_assert_answer_tail (s, 0, pcm);
  /* the frames: setup, activityStart, the audio, activityEnd */
  n = mock_gemini_n_frames (mock, 0);
  first = mock_gemini_get_frame (mock, 0, 1);
  last = mock_gemini_get_frame (mock, 0, n - 1);
  fail_unless (strstr (first, "activityStart") != NULL, "%s", first);
  fail_unless (strstr (last, "activityEnd") != NULL, "%s", last);
  g_free (first);
  g_free (last);
  fail_unless_equals_int (mock_gemini_count_messages (mock, 0,
          "realtimeInput.activityStart"), 1);
  fail_unless_equals_int (mock_gemini_count_messages (mock, 0,
          "realtimeInput.audioStreamEnd"), 0);
  fail_unless (mock_gemini_get_audio_bytes (mock, 0) ==
      g_bytes_get_size (question));

  /* the turn ended where the element sent activityEnd; no VAD told when
   * the speech ended, so the latency says nothing of it */
  {
    gint i_lat = session_wait (s, 0, "bidi_turn_latency", NULL, NULL, 0);
    const GstStructure *lat;

    fail_unless (session_wait (s, 0, "bidi_agent_state", "state",
            "thinking", 0) >= 0);
    fail_unless (i_lat >= 0);
    lat = session_msg (s, i_lat);
    fail_unless (gst_structure_has_field (lat, "turn_end"));
    fail_unless (gst_structure_has_field (lat, "first_push"));
    fail_if (gst_structure_has_field (lat, "speech_end"));
    fail_unless_equals_int (session_count (s, "bidi_user_state", NULL, NULL),
        0);
  }

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
  g_bytes_unref (pcm);
  g_bytes_unref (question);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 7. Errors: close codes, the key, malformed messages
 * ------------------------------------------------------------------------ */

/* 1008 (policy: an unknown model): a clear error with the server's
 * reason, no reconnection */
GST_START_TEST (test_close_1008)
{
  MockGemini *mock = mock_gemini_new ();
  MockGeminiScript *sc = mock_gemini_script_new ();
  const gchar *text;
  gint code;
  Session *s;

  mock_gemini_script_wait (sc, "setup", 1, WAIT_MS);
  mock_gemini_script_close (sc, 1008, "models/gemini-9-live is not found "
      "for API version v1beta");
  mock_gemini_push_script (mock, sc);
  s = gemini_session_new (mock, DESC_NO_INPUT, "model", "gemini-9-live",
      NULL);
  text = wait_error (s, &code);
  fail_unless (strstr (text, "gemini-9-live is not found") != NULL, "%s",
      text);
  fail_unless (strstr (text, "1008") != NULL, "%s", text);
  fail_unless (session_wait (s, 0, "bidi_connection_close", "reason",
          "error", 0) >= 0);
  fail_unless_equals_int (session_count (s, "bidi_connection_start", NULL,
          NULL), 0);

  /* the same after a session was up: still no reconnection */
  session_free (s);
  sc = script_setup ();
  mock_gemini_script_sleep (sc, 100);
  mock_gemini_script_close (sc, 1008, "Policy violation");
  mock_gemini_push_script (mock, sc);
  s = gemini_session_new (mock, DESC_NO_INPUT, NULL);
  session_wait_connected (s);
  text = wait_error (s, &code);
  fail_unless (strstr (text, "Policy violation") != NULL, "%s", text);
  g_usleep (300 * 1000);
  fail_unless_equals_int (mock_gemini_n_connections (mock), 2);
  fail_unless_equals_int (session_count (s, "bidi_connection_restart", NULL,
          NULL), 0);

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
}

GST_END_TEST;

/* A bad key: NOT_AUTHORIZED with the server's reason, never the key */
GST_START_TEST (test_bad_key)
{
  MockGemini *mock = mock_gemini_new ();
  const gchar *text;
  gint code;
  Session *s;

  mock_gemini_set_api_key (mock, "fake-right-key-000000000000");
  s = gemini_session_new (mock, DESC_NO_INPUT, NULL);
  text = wait_error (s, &code);
  fail_unless_equals_int (code, GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  fail_unless (strstr (text, "API key not valid") != NULL, "%s", text);
  fail_unless (session_wait (s, 0, "bidi_error", "code", "not_authorized",
          0) >= 0);
  session_assert_no_secret (s, KEY, KEY_TAIL);
  fail_unless_equals_int (mock_gemini_n_connections (mock), 1);
  session_free (s);
  mock_gemini_free (mock);
}

GST_END_TEST;

/* No key: a clear error naming both variables; GOOGLE_API_KEY is read
 * when GEMINI_API_KEY is not set */
GST_START_TEST (test_key_from_environment)
{
  MockGemini *mock = mock_gemini_new ();
  const gchar *text;
  gchar *header;
  gint code;
  Session *s;

  s = gemini_session (mock, DESC_NO_INPUT, FALSE);
  fail_unless_equals_int (gst_element_set_state (s->pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  text = wait_error (s, &code);
  fail_unless_equals_int (code, GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  fail_unless (strstr (text, "GEMINI_API_KEY") != NULL, "%s", text);
  fail_unless (strstr (text, "GOOGLE_API_KEY") != NULL, "%s", text);
  session_free (s);
  fail_unless_equals_int (mock_gemini_n_connections (mock), 0);

  mock_gemini_push_script (mock, script_setup ());
  g_setenv ("GOOGLE_API_KEY", KEY, TRUE);
  s = gemini_session (mock, DESC_NO_INPUT, FALSE);
  session_start (s);
  session_wait_connected (s);
  header = mock_gemini_get_header (mock, 0, "x-goog-api-key");
  fail_unless_equals_string (header, KEY);
  g_free (header);
  session_free (s);
  g_unsetenv ("GOOGLE_API_KEY");

  assert_mock_clean (mock);
  mock_gemini_free (mock);
}

GST_END_TEST;

/* Malformed messages are survived, said once each on the bus; the session
 * goes on and the next answer plays */
GST_START_TEST (test_bad_messages)
{
  MockGemini *mock = mock_gemini_new ();
  GBytes *pcm = make_answer (200, 15);
  MockGeminiScript *sc = script_setup ();
  static const guint8 not_utf8[] = { '{', '"', 0xff, 0xfe, '"', ':', '1', '}' };
  Session *s;

  mock_gemini_script_send_raw (sc, "not json", 8, FALSE);
  mock_gemini_script_send_raw (sc, not_utf8, sizeof (not_utf8), TRUE);
  mock_gemini_script_send_raw (sc, "[1,2,3]", 7, TRUE);
  mock_gemini_script_send (sc, "{\"serverContent\":{\"modelTurn\":{\"parts\":"
      "[{\"inlineData\":{\"mimeType\":\"audio/pcm;rate=24000\",\"data\":"
      "\"%%%not base64\"}}]}}}");
  mock_gemini_script_send (sc, "{\"serverContent\":{\"modelTurn\":{\"parts\":"
      "[{\"inlineData\":{\"mimeType\":\"audio/pcm;rate=8000\",\"data\":"
      "\"AAAA\"}}]}}}");
  mock_gemini_script_send (sc, "{\"serverContent\":{\"turnComplete\":true}}");
  mock_gemini_script_send (sc, "{\"toolCall\":{\"functionCalls\":[{\"name\":"
      "\"get_weather\"}]}}");
  mock_gemini_script_send (sc, "{\"toolCall\":{\"functionCalls\":\"no\"}}");
  mock_gemini_script_send (sc, "{\"serverContent\":\"nope\",\"usageMetadata\":"
      "[],\"goAway\":7,\"brandNewThing\":{}}");
  mock_gemini_script_send (sc, "{\"sessionResumptionUpdate\":{\"newHandle\":"
      "\"bad\\nhandle\",\"resumable\":true}}");
  mock_gemini_script_send (sc, "{}");
  /* flags that are not booleans (found by fuzz_gemini: json-glib's
   * getters complained of them) */
  mock_gemini_script_send (sc, "{\"serverContent\":{\"turnComplete\":{"
      "\"text\":\"x\"},\"interrupted\":[1],\"generationComplete\":\"yes\","
      "\"modelTurn\":{\"parts\":[{\"thought\":{},\"text\":\"t\"}]}},"
      "\"sessionResumptionUpdate\":{\"newHandle\":\"h\",\"resumable\":{}}}");
  script_answer (sc, "Fine.", pcm);
  mock_gemini_push_script (mock, sc);
  s = gemini_session_new (mock, DESC_NO_INPUT, "tools", app_tools, NULL);
  session_wait_connected (s);

  fail_unless (session_wait (s, 0, "bidi_transcript_stream", "text",
          "Fine.", WAIT_MS) >= 0, "the session did not go on");
  session_assert_answer_tail (s, 0, pcm);
  fail_unless (session_count (s, "bidi_error", "code", "bad_message") >= 5,
      "%u bad_message errors", session_count (s, "bidi_error", "code",
          "bad_message"));
  fail_unless_equals_int (session_count (s, "error", NULL, NULL), 0);
  fail_unless_equals_int (session_n_tool_calls (s), 0);
  fail_unless_equals_int (mock_gemini_n_connections (mock), 1);

  session_free (s);
  assert_mock_clean (mock);
  mock_gemini_free (mock);
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* A whole spoken turn and a refused key, everything logged at level 9 */
GST_START_TEST (test_no_secret_in_logs)
{
  MockGemini *mock;
  GBytes *pcm = make_answer (500, 16), *question = make_question (200, 17);
  MockGeminiScript *sc = mock_gemini_script_new ();
  guint n_lines = 0;
  gboolean seen;
  gint code;
  Session *s;

  bidi_secret_watch_start (KEY, "*");

  mock = mock_gemini_new ();
  mock_gemini_script_add_golden (sc, g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm));
  mock_gemini_push_script (mock, sc);
  s = gemini_session_new (mock, DESC_APPSRC, NULL);
  session_wait_connected (s);
  session_push_bytes (s, question, 20);
  fail_unless (session_wait (s, 0, "bidi_response_complete", NULL, NULL,
          WAIT_MS) >= 0);
  session_assert_answer_tail (s, 0, pcm);
  session_assert_no_secret (s, KEY, KEY_TAIL);
  session_free (s);

  mock_gemini_set_api_key (mock, "fake-right-key-000000000000");
  s = gemini_session_new (mock, DESC_NO_INPUT, NULL);
  wait_error (s, &code);
  fail_unless_equals_int (code, GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  session_assert_no_secret (s, KEY, KEY_TAIL);
  session_free (s);
  mock_gemini_free (mock);

  seen = bidi_secret_watch_stop (&n_lines);
  GST_INFO ("%u log lines watched", n_lines);
  fail_unless (n_lines > 1000, "only %u log lines", n_lines);
  fail_if (seen, "the API key appeared in the debug log");
  g_bytes_unref (pcm);
  g_bytes_unref (question);
}

GST_END_TEST;

static Suite *
gemini_suite (void)
{
  Suite *s = suite_create ("gemini");
  TCase *tc = tcase_create ("e2e");
  const gchar *preload = g_getenv ("LD_PRELOAD");

  if (preload && strstr (preload, "vgpreload"))
    slow = 20;
  /* never a real key from the environment */
  g_unsetenv ("GEMINI_API_KEY");
  g_unsetenv ("GOOGLE_API_KEY");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, leftover_stop);
  tcase_set_timeout (tc, 60 * slow);
  tcase_add_test (tc, test_setup_defaults);
  tcase_add_test (tc, test_setup_config);
  tcase_add_test (tc, test_golden_turn);
  tcase_add_test (tc, test_combined_parts);
  tcase_add_test (tc, test_barge_in);
  tcase_add_test (tc, test_text_and_image);
  tcase_add_test (tc, test_tool_call);
  tcase_add_test (tc, test_tool_call_cancelled);
  tcase_add_test (tc, test_go_away_resumes);
  tcase_add_test (tc, test_resume_refused_replays);
  tcase_add_test (tc, test_session_renewed);
  tcase_add_test (tc, test_session_lifetime);
  tcase_add_test (tc, test_push_to_talk);
  tcase_add_test (tc, test_voice_activity);
  tcase_add_test (tc, test_close_1008);
  tcase_add_test (tc, test_bad_key);
  tcase_add_test (tc, test_key_from_environment);
  tcase_add_test (tc, test_bad_messages);
  tcase_add_test (tc, test_no_secret_in_logs);
  return s;
}

GST_CHECK_MAIN (gemini);
