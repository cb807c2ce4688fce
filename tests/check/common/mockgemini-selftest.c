/* gst-bidi: the mock Gemini Live server against a plain libsoup WebSocket
 * client
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

#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "mockclient.h"
#include "mockgemini.h"

#define WAIT_MS MOCK_CLIENT_WAIT_MS
#define KEY "test-key-123"

/* The setup of the protocol notes' golden exchange (§10) */
static const gchar golden_setup[] =
    "{\"setup\":{\"model\":\"models/gemini-3.8-live\","
    "\"generationConfig\":{\"responseModalities\":[\"AUDIO\"],"
    "\"speechConfig\":{\"voiceConfig\":{\"prebuiltVoiceConfig\":"
    "{\"voiceName\":\"Kore\"}}}},\"systemInstruction\":{\"parts\":"
    "[{\"text\":\"Be brief.\"}]},\"tools\":[{\"functionDeclarations\":"
    "[{\"name\":\"get_weather\",\"description\":\"Current weather for a "
    "city\",\"parametersJsonSchema\":{\"type\":\"object\",\"properties\":"
    "{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}]}],"
    "\"inputAudioTranscription\":{},\"outputAudioTranscription\":{},"
    "\"sessionResumption\":{}}}";

/* Every setup field the mock knows, with manual activity detection */
static const gchar full_setup[] =
    "{\"setup\":{\"model\":\"models/gemini-3.8-live\","
    "\"generationConfig\":{\"responseModalities\":[\"TEXT\"],"
    "\"temperature\":0.7,\"topP\":0.9,\"topK\":40,\"maxOutputTokens\":1024,"
    "\"seed\":7,\"mediaResolution\":\"MEDIA_RESOLUTION_LOW\","
    "\"speechConfig\":{\"voiceConfig\":{\"prebuiltVoiceConfig\":"
    "{\"voiceName\":\"Puck\"}},\"languageCode\":\"en-US\"}},"
    "\"systemInstruction\":{\"parts\":[{\"text\":\"Be brief.\"}],"
    "\"role\":\"user\"},\"tools\":[{\"functionDeclarations\":["
    "{\"name\":\"get_weather\",\"parameters\":{\"type\":\"OBJECT\","
    "\"properties\":{\"city_name\":{\"type\":\"STRING\"}}},"
    "\"behavior\":\"NON_BLOCKING\"},{\"name\":\"ns.tool:x-1\","
    "\"behavior\":\"BLOCKING\"}]}],"
    "\"realtimeInputConfig\":{\"automaticActivityDetection\":"
    "{\"disabled\":true,\"startOfSpeechSensitivity\":"
    "\"START_SENSITIVITY_LOW\",\"endOfSpeechSensitivity\":"
    "\"END_SENSITIVITY_HIGH\",\"prefixPaddingMs\":20,"
    "\"silenceDurationMs\":500},\"activityHandling\":\"NO_INTERRUPTION\","
    "\"turnCoverage\":\"TURN_INCLUDES_ALL_INPUT\"},"
    "\"inputAudioTranscription\":{\"languageCodes\":[\"en-US\"]},"
    "\"outputAudioTranscription\":{},"
    "\"sessionResumption\":{\"handle\":\"abc\"},"
    "\"contextWindowCompression\":{\"triggerTokens\":\"25600\","
    "\"slidingWindow\":{\"targetTokens\":12800}},"
    "\"historyConfig\":{\"initialHistoryInClientContent\":true},"
    "\"proactivity\":{\"proactiveAudio\":true}}}";

/* ------------------------------------------------------------------------
 * The client (mockclient.h)
 * ------------------------------------------------------------------------ */

/* Connects to @url (+ @query) with @key in x-goog-api-key (none when
 * NULL); TRUE when the WebSocket is open. The frames of the last
 * connection are forgotten. */
static gboolean
gemini_connect (MockClient * c, const gchar * url, const gchar * query,
    const gchar * key)
{
  const gchar *headers[] = { "x-goog-api-key", key, NULL };
  gchar *full = g_strconcat (url, query, NULL);
  gboolean ok;

  g_ptr_array_set_size (c->received, 0);
  c->parse_binary = TRUE;
  ok = mock_client_connect (c, full, key ? headers : NULL);
  g_free (full);
  return ok;
}

/* Waits until @n frames came in all */
static void
client_wait_n (MockClient * c, guint n)
{
  fail_unless (mock_client_iterate (c, mock_client_has_n,
          GUINT_TO_POINTER (n), WAIT_MS), "%u frames, not %u",
      c->received->len, n);
}

static MockClientFrame *
received (MockClient * c, guint i)
{
  return g_ptr_array_index (c->received, i);
}

/* The one member name of a received JSON object */
static const gchar *
top_field (MockClientFrame * r)
{
  GList *names;
  const gchar *name;

  fail_unless (r->json != NULL);
  names = json_object_get_members (json_node_get_object (r->json));
  name = names ? names->data : NULL;
  g_list_free (names);
  return name;
}

/* @ms of a triangle wave, S16LE mono at @rate */
static GBytes *
make_tone (guint ms, guint rate)
{
  guint n = ms * rate / 1000, i;
  gint16 *samples = g_new (gint16, n);

  for (i = 0; i < n; i++) {
    gint phase = i % 60;
    gint v = phase < 30 ? phase * 500 - 7500 : (60 - phase) * 500 - 7500;
    samples[i] = GINT16_TO_LE ((gint16) v);
  }
  return g_bytes_new_take (samples, n * sizeof (gint16));
}

/* {"realtimeInput":{"audio":...}} of @bytes */
static gchar *
audio_input (GBytes * bytes)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  gchar *b64 = g_base64_encode (data, size);
  gchar *json = g_strdup_printf ("{\"realtimeInput\":{\"audio\":"
      "{\"mimeType\":\"audio/pcm;rate=16000\",\"data\":\"%s\"}}}", b64);

  g_free (b64);
  return json;
}

static void
assert_clean (MockGemini * mock)
{
  gchar *v = mock_gemini_get_violations (mock);
  gchar *f = mock_gemini_get_failures (mock);

  fail_unless (mock_gemini_n_violations (mock) == 0, "violations:\n%s", v);
  fail_unless (mock_gemini_n_failures (mock) == 0, "failures:\n%s", f);
  fail_unless_equals_string (v, "");
  fail_unless_equals_string (f, "");
  g_free (v);
  g_free (f);
}

/* Connects with the key, sends @setup and waits for setupComplete */
static void
start_session (MockClient * c, MockGemini * mock, const gchar * setup)
{
  fail_unless (gemini_connect (c, mock_gemini_url (mock), NULL, KEY));
  mock_client_send (c, setup);
  client_wait_n (c, 1);
  fail_unless_equals_string (top_field (received (c, 0)), "setupComplete");
}

/* Polls (the violations have no wait of their own) until there are more
 * than @before */
static gboolean
wait_violations (MockGemini * mock, guint before)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (mock_gemini_n_violations (mock) <= before) {
    if (g_get_monotonic_time () > end)
      return FALSE;
    g_usleep (5000);
  }
  return TRUE;
}

/* Sends @msg and expects a violation that contains @expect; the client
 * then closes */
static void
expect_violation (MockClient * c, MockGemini * mock, const gchar * msg,
    const gchar * expect)
{
  guint before = mock_gemini_n_violations (mock), i;
  gchar *v, *new;

  mock_client_send (c, msg);
  fail_unless (wait_violations (mock, before), "no violation for %s", msg);
  v = mock_gemini_get_violations (mock);
  /* only the lines this message added */
  for (new = v, i = 0; i < before; i++)
    new = strchr (new, '\n') + 1;
  fail_unless (strstr (new, expect) != NULL, "no \"%s\" in:\n%s", expect,
      new);
  g_free (v);
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

typedef struct
{
  guint calls;
  gsize bytes;
  gint64 times[16];             /* of the first calls */
} SentLog;

static void
audio_sent_cb (guint conn, gconstpointer pcm, gsize size, gint64 sent_us,
    gpointer user_data)
{
  SentLog *log = user_data;

  (void) conn;
  (void) pcm;
  if (log->calls < G_N_ELEMENTS (log->times))
    log->times[log->calls] = sent_us;
  log->calls++;
  log->bytes += size;
}

/* Checks the golden answer's frames from @i on: audio and transcript in
 * order, the last audio message carrying the last words */
static guint
check_golden_answer (MockClient * c, guint i, GBytes * tone)
{
  GByteArray *audio = g_byte_array_new ();
  GString *transcript = g_string_new (NULL);
  guint n_audio = 0;

  for (; i < c->received->len; i++) {
    MockClientFrame *r = received (c, i);
    JsonNode *sc = mock_json_get (r->json, "serverContent");
    JsonNode *data = mock_json_get (sc, "modelTurn.parts");
    JsonNode *text = mock_json_get (sc, "outputTranscription.text");

    if (!sc || (!data && !text))
      break;
    if (data) {
      JsonArray *parts = json_node_get_array (data);
      JsonNode *part = json_array_get_element (parts, 0);
      guchar *pcm;
      gsize n;

      fail_unless_equals_int (json_array_get_length (parts), 1);
      fail_unless_equals_string (mock_json_str (part, "inlineData.mimeType"),
          "audio/pcm;rate=24000");
      pcm = g_base64_decode (mock_json_str (part, "inlineData.data"), &n);
      g_byte_array_append (audio, pcm, n);
      g_free (pcm);
      n_audio++;
    }
    if (text)
      g_string_append (transcript, json_node_get_string (text));
  }
  /* the last answer message was audio with the last transcript */
  fail_unless (mock_json_get (received (c, i - 1)->json,
          "serverContent.modelTurn") != NULL);
  fail_unless (mock_json_get (received (c, i - 1)->json,
          "serverContent.outputTranscription") != NULL);
  fail_unless_equals_int (n_audio, (g_bytes_get_size (tone) + 4799) / 4800);
  fail_unless (audio->len == g_bytes_get_size (tone) &&
      memcmp (audio->data, g_bytes_get_data (tone, NULL), audio->len) == 0);
  fail_unless_equals_string (transcript->str,
      MOCK_GEMINI_GOLDEN_ASSISTANT_TRANSCRIPT);
  g_byte_array_unref (audio);
  g_string_free (transcript, TRUE);
  return i;
}

static void
check_golden_end (MockClient * c, guint i)
{
  JsonNode *j;

  fail_unless_equals_int (c->received->len, i + 3);
  j = received (c, i)->json;
  fail_unless (json_node_get_boolean (mock_json_get (j,
              "serverContent.generationComplete")));
  j = received (c, i + 1)->json;
  fail_unless (json_node_get_boolean (mock_json_get (j,
              "serverContent.turnComplete")));
  fail_unless_equals_int (mock_json_int (j, "usageMetadata.promptTokenCount"),
      MOCK_GEMINI_GOLDEN_PROMPT_TOKENS);
  fail_unless_equals_int (mock_json_int (j, "usageMetadata.responseTokenCount"),
      MOCK_GEMINI_GOLDEN_RESPONSE_TOKENS);
  fail_unless_equals_int (mock_json_int (j, "usageMetadata.totalTokenCount"),
      MOCK_GEMINI_GOLDEN_TOTAL_TOKENS);
  j = received (c, i + 2)->json;
  fail_unless_equals_string (mock_json_str (j,
          "sessionResumptionUpdate.newHandle"), MOCK_GEMINI_GOLDEN_HANDLE);
  fail_unless (json_node_get_boolean (mock_json_get (j,
              "sessionResumptionUpdate.resumable")));
}

/* The golden exchange end to end, and what the mock records of it */
GST_START_TEST (test_golden)
{
  MockGemini *mock = mock_gemini_new ();
  MockGeminiScript *script = mock_gemini_script_new ();
  GBytes *tone = make_tone (1050, 24000), *input = make_tone (100, 16000);
  GBytes *got;
  SentLog log = { 0, 0, {0} };
  gchar *audio = audio_input (input), *s;
  GString *user = g_string_new (NULL);
  MockClient c;
  guint i;

  mock_gemini_set_api_key (mock, KEY);
  mock_gemini_set_audio_sent_func (mock, audio_sent_cb, &log);
  mock_gemini_script_add_golden (script, g_bytes_get_data (tone, NULL),
      g_bytes_get_size (tone));
  mock_gemini_push_script (mock, script);

  mock_client_init (&c);
  fail_unless (g_str_has_prefix (mock_gemini_url (mock), "ws://127.0.0.1:"));
  fail_unless (g_str_has_suffix (mock_gemini_url (mock), MOCK_GEMINI_PATH));
  start_session (&c, mock, golden_setup);
  fail_unless_equals_int (mock_gemini_get_status (mock, 0), 101);
  s = mock_gemini_get_header (mock, 0, "X-Goog-Api-Key");
  fail_unless_equals_string (s, KEY);
  g_free (s);
  s = mock_gemini_get_path (mock, 0);
  fail_unless_equals_string (s, MOCK_GEMINI_PATH);
  g_free (s);
  mock_client_send (&c, audio);
  mock_client_send (&c, audio);
  fail_unless (mock_gemini_wait_script_done (mock, 0, WAIT_MS));
  /* setupComplete, 2 user transcripts, 11 audio + 7 transcripts, 3 more */
  client_wait_n (&c, 24);

  for (i = 0; i < c.received->len; i++)
    fail_unless_equals_int (received (&c, i)->type,
        SOUP_WEBSOCKET_DATA_BINARY);
  for (i = 1; i < 3; i++)
    g_string_append (user, mock_json_str (received (&c, i)->json,
            "serverContent.inputTranscription.text"));
  fail_unless_equals_string (user->str, MOCK_GEMINI_GOLDEN_USER_TRANSCRIPT);
  g_string_free (user, TRUE);
  check_golden_end (&c, check_golden_answer (&c, 3, tone));
  fail_unless_equals_int (log.calls, 11);
  fail_unless_equals_int (log.bytes, g_bytes_get_size (tone));

  /* what was recorded */
  fail_unless (mock_gemini_wait_audio_bytes (mock, 0, 2 *
          g_bytes_get_size (input), WAIT_MS));
  fail_unless_equals_int (mock_gemini_n_frames (mock, 0), 3);
  s = mock_gemini_get_frame (mock, 0, 0);
  fail_unless_equals_string (s, golden_setup);
  g_free (s);
  fail_unless_equals_int (mock_gemini_count_messages (mock, 0, "setup"), 1);
  fail_unless_equals_int (mock_gemini_count_messages (mock,
          MOCK_GEMINI_ANY_CONNECTION, "realtimeInput"), 2);
  fail_unless_equals_int (mock_gemini_count_messages (mock, 0,
          "realtimeInput.audio"), 2);
  fail_unless_equals_int (mock_gemini_count_messages (mock, 0,
          "realtimeInput.text"), 0);
  s = mock_gemini_wait_message (mock, MOCK_GEMINI_ANY_CONNECTION,
      "realtimeInput.audio", 1, WAIT_MS);
  fail_unless_equals_string (s, audio);
  g_free (s);
  fail_unless (mock_gemini_wait_message (mock, 0, "realtimeInput.audio", 2,
          100) == NULL);
  got = mock_gemini_get_audio (mock, 0);
  fail_unless_equals_int (g_bytes_get_size (got), 2 *
      g_bytes_get_size (input));
  fail_unless (memcmp (g_bytes_get_data (got, NULL),
          g_bytes_get_data (input, NULL), g_bytes_get_size (input)) == 0);
  g_bytes_unref (got);
  assert_clean (mock);

  mock_client_close (&c);
  fail_unless (mock_gemini_wait_closed (mock, 0, WAIT_MS));
  fail_unless_equals_int (mock_gemini_get_close_code (mock, 0), 1000);
  fail_unless_equals_int (mock_gemini_n_connections (mock), 1);
  mock_client_clear (&c);
  mock_gemini_free (mock);
  g_bytes_unref (tone);
  g_bytes_unref (input);
  g_free (audio);
}

GST_END_TEST;

/* The key: in the header, never in the query; a wrong one is closed with
 * 1007 at the first message, its script never runs */
GST_START_TEST (test_key)
{
  MockGemini *mock = mock_gemini_new ();
  MockGeminiScript *script = mock_gemini_script_new ();
  gchar *v;
  MockClient c;

  mock_gemini_set_api_key (mock, KEY);
  mock_client_init (&c);
  fail_unless (gemini_connect (&c, mock_gemini_url (mock),
          "?key=" KEY, KEY));
  fail_unless_equals_int (mock_gemini_n_violations (mock), 1);
  v = mock_gemini_get_violations (mock);
  fail_unless (strstr (v, "x-goog-api-key") != NULL, "%s", v);
  /* the secret is not repeated */
  fail_unless (strstr (v, KEY) == NULL, "%s", v);
  g_free (v);
  mock_client_close (&c);

  /* a script for the wrong key, that never runs */
  mock_gemini_script_setup (script, WAIT_MS);
  mock_gemini_script_send (script, "{\"goAway\":{\"timeLeft\":\"1s\"}}");
  mock_gemini_push_script (mock, script);
  fail_unless (gemini_connect (&c, mock_gemini_url (mock), NULL, "wrong"));
  fail_unless_equals_int (mock_gemini_get_status (mock, 1), 101);
  mock_client_send (&c, golden_setup);
  fail_unless (mock_client_iterate (&c, mock_client_is_closed, NULL, WAIT_MS));
  fail_unless_equals_int (soup_websocket_connection_get_close_code (c.ws),
      1007);
  fail_unless_equals_string (soup_websocket_connection_get_close_data (c.ws),
      "API key not valid. Please pass a valid API key.");
  fail_unless_equals_int (c.received->len, 0);
  fail_if (mock_gemini_wait_script_done (mock, 1, WAIT_MS));
  fail_unless (mock_gemini_wait_closed (mock, 1, WAIT_MS));
  fail_unless_equals_int (mock_gemini_n_frames (mock, 1), 1);

  /* no key at all */
  fail_unless (gemini_connect (&c, mock_gemini_url (mock), NULL, NULL));
  mock_client_send (&c, golden_setup);
  fail_unless (mock_client_iterate (&c, mock_client_is_closed, NULL, WAIT_MS));
  fail_unless_equals_int (soup_websocket_connection_get_close_code (c.ws),
      1007);
  fail_unless_equals_int (mock_gemini_n_violations (mock), 1);
  fail_unless_equals_int (mock_gemini_n_failures (mock), 0);
  mock_client_clear (&c);
  mock_gemini_free (mock);
}

GST_END_TEST;

/* Order and framing: setup first and once, nothing before setupComplete,
 * one top-level field, camelCase, text frames */
GST_START_TEST (test_framing_violations)
{
  MockGemini *mock = mock_gemini_new ();
  MockGeminiScript *script = mock_gemini_script_new ();
  const gchar text[] = "{\"realtimeInput\":{\"text\":\"hi\"}}";
  MockClient c;

  mock_client_init (&c);
  /* nothing but setup before setupComplete (this script never sends it) */
  mock_gemini_script_wait (script, "setup", 1, WAIT_MS);
  mock_gemini_script_stall (script);
  mock_gemini_push_script (mock, script);
  fail_unless (gemini_connect (&c, mock_gemini_url (mock), NULL, NULL));
  mock_client_send (&c, golden_setup);
  expect_violation (&c, mock, text, "before the server's setupComplete");
  mock_client_close (&c);

  /* setup first */
  fail_unless (gemini_connect (&c, mock_gemini_url (mock), NULL, NULL));
  expect_violation (&c, mock, text, "the first message must be setup");
  mock_client_close (&c);

  start_session (&c, mock, golden_setup);
  expect_violation (&c, mock, golden_setup, "setup sent again");
  expect_violation (&c, mock, "{\"realtimeInput\":{\"text\":\"a\"},"
      "\"clientContent\":{\"turnComplete\":true}}",
      "2 top-level fields, not exactly one");
  expect_violation (&c, mock, "{\"realtime_input\":{\"text\":\"a\"}}",
      "realtime_input is not lowerCamelCase");
  expect_violation (&c, mock, "{\"realtimeInput\":{\"media_chunks\":[]}}",
      "realtimeInput.media_chunks is not lowerCamelCase");
  expect_violation (&c, mock, "{\"goAway\":{}}", "none of the top-level");
  expect_violation (&c, mock, "[1,2]", "not a JSON object");
  expect_violation (&c, mock, "{\"clientContent\":{\"turns\":[{\"role\":"
      "\"system\",\"parts\":[{\"text\":\"x\"}]}]}}",
      "role is \"system\", not one of \"user\", \"model\"");
  expect_violation (&c, mock, "{\"clientContent\":{\"turnComplete\":1}}",
      "turnComplete must be a boolean");
  {
    guint before = mock_gemini_n_violations (mock);
    soup_websocket_connection_send_binary (c.ws, text, strlen (text));
    fail_unless (wait_violations (mock, before));
    fail_unless_equals_int (mock_gemini_n_frames (mock, 2), 10);
    fail_unless (mock_gemini_get_frame (mock, 2, 9) == NULL);
  }
  mock_client_clear (&c);
  mock_gemini_free (mock);
}

GST_END_TEST;

/* Setup fields: refused ones, unknown and snake_case ones, values */
GST_START_TEST (test_setup_violations)
{
  static const struct
  {
    const gchar *setup;
    const gchar *expect;
  } cases[] = {
    {"{\"setup\":{\"model\":\"models/m\",\"generationConfig\":"
          "{\"thinkingConfig\":{\"thinkingBudget\":0}}}}",
        "thinkingConfig is not supported"},
    {"{\"setup\":{\"model\":\"models/m\",\"generationConfig\":"
          "{\"enableAffectiveDialog\":true}}}", "enableAffectiveDialog was "
          "removed"},
    {"{\"setup\":{\"model\":\"models/m\",\"proactivity\":"
          "{\"proactiveAudio\":false}}}", "proactiveAudio false is refused"},
    {"{\"setup\":{\"model\":\"models/m\",\"generation_config\":{}}}",
        "setup.generation_config is not lowerCamelCase"},
    {"{\"setup\":{\"model\":\"models/m\",\"safetyFilters\":{}}}",
        "setup.safetyFilters is not a known field"},
    {"{\"setup\":{\"model\":\"gemini-3.8-live\"}}", "is not \"models/<id>\""},
    {"{\"setup\":{}}", "setup.model is missing"},
    {"{\"setup\":{\"model\":\"models/m\",\"generationConfig\":"
          "{\"responseModalities\":[\"AUDIO\",\"TEXT\"]}}}",
        "responseModalities must be [\"AUDIO\"] or [\"TEXT\"]"},
    {"{\"setup\":{\"model\":\"models/m\",\"tools\":[{\"functionDeclarations\":"
          "[{\"name\":\"bad name\"}]}]}}", "is not 1-128 of"},
    {"{\"setup\":{\"model\":\"models/m\",\"tools\":[{\"functionDeclarations\":"
          "[{\"name\":\"f\",\"behavior\":\"ASYNC\"}]}]}}",
        "behavior is \"ASYNC\""},
    {"{\"setup\":{\"model\":\"models/m\",\"tools\":[{\"googleSearch\":{}}]}}",
        "tools[].googleSearch is not a known field"},
    {"{\"setup\":{\"model\":\"models/m\",\"contextWindowCompression\":"
          "{\"triggerTokens\":\"many\"}}}", "triggerTokens must be an "
          "integer"},
    {"{\"setup\":{\"model\":\"models/m\",\"realtimeInputConfig\":"
          "{\"automaticActivityDetection\":{\"prefix_padding_ms\":20}}}}",
        "prefix_padding_ms is not lowerCamelCase"},
  };
  MockGemini *mock = mock_gemini_new ();
  MockClient c;
  guint i;

  mock_client_init (&c);
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    fail_unless (gemini_connect (&c, mock_gemini_url (mock), NULL, NULL));
    expect_violation (&c, mock, cases[i].setup, cases[i].expect);
    mock_client_close (&c);
  }
  fail_unless_equals_int (mock_gemini_n_failures (mock), 0);
  mock_client_clear (&c);
  mock_gemini_free (mock);
}

GST_END_TEST;

/* Every field the doc allows, every kind of client message: no violation
 * (so the checks above are not just blanket refusals) */
GST_START_TEST (test_valid_messages)
{
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
    0, 0
  };
  MockGemini *mock = mock_gemini_new ();
  MockGeminiScript *script = mock_gemini_script_new ();
  gchar *b64 = g_base64_encode (png, sizeof (png)), *msg;
  MockClient c;

  mock_gemini_script_setup (script, WAIT_MS);
  mock_gemini_script_send_tool_call (script, "call-1", "get_weather",
      "{\"city\":\"Paris\"}");
  mock_gemini_script_wait (script, "toolResponse", 1, WAIT_MS);
  mock_gemini_push_script (mock, script);
  mock_client_init (&c);
  start_session (&c, mock, full_setup);
  client_wait_n (&c, 2);
  mock_client_send (&c, "{\"clientContent\":{\"turns\":[{\"role\":\"user\","
      "\"parts\":[{\"text\":\"Hi\"}]},{\"role\":\"model\",\"parts\":"
      "[{\"text\":\"Hello\"}]}],\"turnComplete\":false}}");
  mock_client_send (&c, "{\"realtimeInput\":{\"activityStart\":{}}}");
  mock_client_send (&c, "{\"realtimeInput\":{\"text\":\"What's up?\"}}");
  mock_client_send (&c, "{\"realtimeInput\":{\"video\":{\"mimeType\":"
      "\"image/jpeg\",\"data\":\"/9j/4A==\"}}}");
  msg = g_strdup_printf ("{\"realtimeInput\":{\"video\":{\"mimeType\":"
      "\"image/png\",\"data\":\"%s\"}}}", b64);
  mock_client_send (&c, msg);
  mock_client_send (&c, "{\"realtimeInput\":{\"activityEnd\":{}}}");
  mock_client_send (&c, "{\"toolResponse\":{\"functionResponses\":[{\"id\":"
      "\"call-1\",\"name\":\"get_weather\",\"response\":{\"output\":"
      "{\"temp_c\":18}},\"scheduling\":\"WHEN_IDLE\"}]}}");
  mock_client_send (&c, "{\"contextUpdate\":{\"systemInstruction\":{\"parts\":"
      "[{\"text\":\"Be terse.\"}]},\"tools\":{\"tools\":"
      "[{\"functionDeclarations\":[{\"name\":\"f\",\"parametersJsonSchema\":"
      "{\"type\":\"object\"}}]}]}}}");
  fail_unless (mock_gemini_wait_script_done (mock, 0, WAIT_MS));
  g_free (mock_gemini_wait_message (mock, 0, "contextUpdate", 0, WAIT_MS));
  fail_unless_equals_int (mock_gemini_count_messages (mock, 0,
          "realtimeInput.video"), 2);
  fail_unless_equals_int (mock_gemini_count_messages (mock, 0,
          "realtimeInput.activityStart"), 1);
  assert_clean (mock);
  mock_client_clear (&c);
  mock_gemini_free (mock);
  g_free (msg);
  g_free (b64);
}

GST_END_TEST;

/* realtimeInput: audio base64, video signatures, manual activity */
GST_START_TEST (test_input_violations)
{
  MockGemini *mock = mock_gemini_new ();
  MockClient c;

  mock_client_init (&c);
  start_session (&c, mock, golden_setup);
  expect_violation (&c, mock, "{\"realtimeInput\":{\"audio\":{\"mimeType\":"
      "\"audio/pcm;rate=16000\",\"data\":\"AAA\"}}}", "not valid base64");
  expect_violation (&c, mock, "{\"realtimeInput\":{\"audio\":{\"mimeType\":"
      "\"audio/pcm;rate=16000\",\"data\":\"AA-A\"}}}", "not valid base64");
  expect_violation (&c, mock, "{\"realtimeInput\":{\"audio\":{\"mimeType\":"
      "\"audio/pcm;rate=16000\",\"data\":\"AAAA\"}}}",
      "3 bytes: not whole 16-bit samples");
  expect_violation (&c, mock, "{\"realtimeInput\":{\"audio\":{\"mimeType\":"
      "\"audio/pcm\",\"data\":\"AAA=\"}}}", "not \"audio/pcm;rate=16000\"");
  /* the audio of those with valid base64 is kept all the same */
  fail_unless (mock_gemini_wait_audio_bytes (mock, 0, 5, WAIT_MS));
  fail_unless_equals_int (mock_gemini_get_audio_bytes (mock, 0), 5);
  expect_violation (&c, mock, "{\"realtimeInput\":{\"video\":{\"mimeType\":"
      "\"image/jpeg\",\"data\":\"iVBORw0KGgo=\"}}}",
      "does not start with the image/jpeg signature");
  expect_violation (&c, mock, "{\"realtimeInput\":{\"video\":{\"mimeType\":"
      "\"image/png\",\"data\":\"/9j/4A==\"}}}",
      "does not start with the image/png signature");
  expect_violation (&c, mock, "{\"realtimeInput\":{\"video\":{\"mimeType\":"
      "\"image/gif\",\"data\":\"R0lG\"}}}", "not image/jpeg or image/png");
  expect_violation (&c, mock, "{\"realtimeInput\":{\"activityStart\":{}}}",
      "activityStart without automaticActivityDetection.disabled");
  expect_violation (&c, mock, "{\"realtimeInput\":{\"audioStreamEnd\":"
      "false}}", "audioStreamEnd must be true");
  expect_violation (&c, mock, "{\"realtimeInput\":{\"text\":\"a\","
      "\"audioStreamEnd\":true}}", "realtimeInput has 2 members");
  mock_client_close (&c);

  /* manual activity: in turn */
  start_session (&c, mock, full_setup);
  expect_violation (&c, mock, "{\"realtimeInput\":{\"activityEnd\":{}}}",
      "activityEnd without an activityStart");
  mock_client_send (&c, "{\"realtimeInput\":{\"activityStart\":{}}}");
  expect_violation (&c, mock, "{\"realtimeInput\":{\"activityStart\":{}}}",
      "while an activity is open");
  mock_client_clear (&c);
  mock_gemini_free (mock);
}

GST_END_TEST;

/* toolResponse: only to open calls of this connection, by name, with an
 * informative result and a known scheduling */
GST_START_TEST (test_tool_violations)
{
  static const struct
  {
    const gchar *response;
    const gchar *expect;
  } cases[] = {
    {"{\"id\":\"nope\",\"name\":\"get_weather\",\"response\":{\"output\":1}}",
        "id \"nope\" is not a call the server made"},
    {"{\"id\":\"call-2\",\"name\":\"get_weather\",\"response\":{\"output\":"
          "1}}", "id \"call-2\" was cancelled"},
    {"{\"id\":\"call-1\",\"name\":\"get_time\",\"response\":{\"output\":1}}",
        "name \"get_time\" is not the call's name \"get_weather\""},
    {"{\"id\":\"call-3\",\"name\":\"get_weather\",\"response\":{\"output\":"
          "{}}}", "response.output is empty or null"},
    {"{\"id\":\"call-3\",\"name\":\"get_weather\",\"response\":{\"error\":"
          "null}}", "response.error is empty or null"},
    {"{\"id\":\"call-3\",\"name\":\"get_weather\",\"response\":{\"x\":1}}",
        "response has neither output nor error"},
    {"{\"id\":\"call-3\",\"name\":\"get_weather\",\"response\":{\"output\":"
          "[]},\"scheduling\":\"LATER\"}", "scheduling is \"LATER\""},
    {"{\"name\":\"get_weather\",\"response\":{\"output\":\"x\"}}",
        "id is missing"},
    {"{\"id\":\"call-1\",\"name\":\"get_weather\",\"response\":{\"output\":"
          "\"again\"}}", "id \"call-1\" was answered before"},
  };
  MockGemini *mock = mock_gemini_new ();
  MockGeminiScript *script = mock_gemini_script_new ();
  MockClient c;
  guint i;

  mock_gemini_script_setup (script, WAIT_MS);
  mock_gemini_script_send_tool_call (script, "call-1", "get_weather", "{}");
  mock_gemini_script_send_tool_call (script, "call-2", "get_weather", "{}");
  mock_gemini_script_send_tool_call (script, "call-3", "get_weather", "{}");
  mock_gemini_script_send_tool_cancel (script, "call-2");
  mock_gemini_push_script (mock, script);
  mock_client_init (&c);
  start_session (&c, mock, golden_setup);
  client_wait_n (&c, 5);
  fail_unless (mock_json_get (received (&c, 1)->json,
          "toolCall.functionCalls"));
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gchar *msg = g_strdup_printf ("{\"toolResponse\":{\"functionResponses\":"
        "[%s]}}", cases[i].response);
    /* answered once, cleanly, before it is answered again */
    if (i + 1 == G_N_ELEMENTS (cases)) {
      guint before = mock_gemini_n_violations (mock);
      mock_client_send (&c, "{\"toolResponse\":{\"functionResponses\":[{\"id\":"
          "\"call-1\",\"name\":\"get_weather\",\"response\":{\"output\":"
          "\"ok\"}}]}}");
      g_free (mock_gemini_wait_message (mock, 0, "toolResponse", i,
              WAIT_MS));
      fail_unless_equals_int (mock_gemini_n_violations (mock), before);
    }
    expect_violation (&c, mock, msg, cases[i].expect);
    g_free (msg);
  }
  expect_violation (&c, mock, "{\"toolResponse\":{\"functionResponses\":[]}}",
      "functionResponses is empty");
  mock_client_clear (&c);
  mock_gemini_free (mock);
}

GST_END_TEST;

/* Server frames: binary by default, text on request, raw bytes as they
 * are; a script step added while connected */
GST_START_TEST (test_frames)
{
  static const guint8 junk[] = { 0xff, 0x00, 0x7b };
  MockGemini *mock = mock_gemini_new ();
  MockGeminiScript *script = mock_gemini_script_new ();
  MockClientFrame *r;
  gsize size;
  MockClient c;

  mock_gemini_script_setup (script, WAIT_MS);
  mock_gemini_script_send_text (script, "{\"goAway\":{\"timeLeft\":\"50s\"}}");
  mock_gemini_script_send_raw (script, junk, sizeof (junk), TRUE);
  mock_gemini_script_send_raw (script, "{\"half\":", 8, FALSE);
  mock_gemini_script_wait (script, "realtimeInput.text", 2, WAIT_MS);
  mock_gemini_script_send_printf (script, "{\"n\":%d}", 2);
  mock_gemini_push_script (mock, script);

  mock_client_init (&c);
  start_session (&c, mock, golden_setup);
  client_wait_n (&c, 4);
  fail_unless_equals_int (received (&c, 0)->type, SOUP_WEBSOCKET_DATA_BINARY);
  r = received (&c, 1);
  fail_unless_equals_int (r->type, SOUP_WEBSOCKET_DATA_TEXT);
  fail_unless_equals_string (mock_json_str (r->json, "goAway.timeLeft"), "50s");
  r = received (&c, 2);
  fail_unless_equals_int (r->type, SOUP_WEBSOCKET_DATA_BINARY);
  fail_unless (memcmp (g_bytes_get_data (r->data, &size), junk, 3) == 0);
  fail_unless_equals_int (size, 3);
  r = received (&c, 3);
  fail_unless_equals_int (r->type, SOUP_WEBSOCKET_DATA_TEXT);
  fail_unless (r->json == NULL);
  /* the wait counts from the connection's start */
  mock_client_send (&c, "{\"realtimeInput\":{\"text\":\"a\"}}");
  fail_if (mock_gemini_wait_script_done (mock, 0, 200));
  mock_client_send (&c, "{\"realtimeInput\":{\"text\":\"b\"}}");
  fail_unless (mock_gemini_wait_script_done (mock, 0, WAIT_MS));
  client_wait_n (&c, 5);
  fail_unless_equals_int (mock_json_int (received (&c, 4)->json, "n"), 2);

  /* more steps on the open connection */
  script = mock_gemini_script_new ();
  mock_gemini_script_wait (script, "clientContent", 1, WAIT_MS);
  mock_gemini_script_send (script, "{\"n\":3}");
  mock_gemini_run (mock, 0, script);
  fail_if (mock_gemini_wait_script_done (mock, 0, 200));
  mock_client_send (&c, "{\"clientContent\":{\"turns\":[{\"role\":\"user\","
      "\"parts\":[{\"text\":\"x\"}]}],\"turnComplete\":true}}");
  fail_unless (mock_gemini_wait_script_done (mock, 0, WAIT_MS));
  client_wait_n (&c, 6);
  fail_unless_equals_int (mock_json_int (received (&c, 5)->json, "n"), 3);
  assert_clean (mock);
  mock_client_close (&c);

  /* running on a closed connection is a failure */
  fail_unless (mock_gemini_wait_closed (mock, 0, WAIT_MS));
  script = mock_gemini_script_new ();
  mock_gemini_script_sleep (script, 1);
  mock_gemini_run (mock, 0, script);
  fail_unless_equals_int (mock_gemini_n_failures (mock), 1);
  mock_client_clear (&c);
  mock_gemini_free (mock);
}

GST_END_TEST;

/* send_audio: chunks paced in real time or all at once, the hook, and
 * keep-audio off */
GST_START_TEST (test_send_audio)
{
  MockGemini *mock = mock_gemini_new ();
  MockGeminiScript *script = mock_gemini_script_new ();
  GBytes *tone = make_tone (500, 24000), *input = make_tone (40, 16000);
  SentLog log = { 0, 0, {0} };
  gchar *audio = audio_input (input);
  MockClient c;

  mock_gemini_set_audio_sent_func (mock, audio_sent_cb, &log);
  mock_gemini_script_setup (script, WAIT_MS);
  mock_gemini_script_send_audio (script, g_bytes_get_data (tone, NULL),
      g_bytes_get_size (tone), 100, TRUE);
  mock_gemini_script_send_audio (script, g_bytes_get_data (tone, NULL),
      g_bytes_get_size (tone), 0, FALSE);
  mock_gemini_push_script (mock, script);
  mock_client_init (&c);
  start_session (&c, mock, golden_setup);
  client_wait_n (&c, 7);
  fail_unless (mock_gemini_wait_script_done (mock, 0, WAIT_MS));
  fail_unless_equals_int (log.calls, 6);
  fail_unless_equals_int (log.bytes, 2 * g_bytes_get_size (tone));
  /* 5 paced chunks: the last one at least 400 ms after the first (a lower
   * bound only; the timer may fire up to a ms early), the unpaced one at
   * once after it */
  fail_unless (log.times[4] - log.times[0] >= 390000, "%" G_GINT64_FORMAT,
      log.times[4] - log.times[0]);
  fail_unless (log.times[5] >= log.times[4]);
  fail_unless_equals_string (mock_json_str (json_array_get_element
          (json_node_get_array (mock_json_get (received (&c, 6)->json,
                      "serverContent.modelTurn.parts")), 0),
          "inlineData.mimeType"), "audio/pcm;rate=24000");

  /* keep-audio off: counted, not kept */
  mock_gemini_set_keep_audio (mock, FALSE);
  mock_client_send (&c, audio);
  mock_client_send (&c, "{\"realtimeInput\":{\"text\":\"a\"}}");
  g_free (mock_gemini_wait_message (mock, 0, "realtimeInput.text", 0,
          WAIT_MS));
  fail_unless_equals_int (mock_gemini_get_audio_bytes (mock, 0),
      g_bytes_get_size (input));
  fail_unless_equals_int (mock_gemini_count_messages (mock, 0,
          "realtimeInput.audio"), 0);
  fail_unless_equals_int (mock_gemini_n_frames (mock, 0), 2);
  assert_clean (mock);
  mock_client_clear (&c);
  mock_gemini_free (mock);
  g_bytes_unref (tone);
  g_bytes_unref (input);
  g_free (audio);
}

GST_END_TEST;

/* The end of a connection: close with a code, drop, stall, rejection,
 * the mock freed under an open socket */
GST_START_TEST (test_endings)
{
  MockGemini *mock = mock_gemini_new ();
  MockGeminiScript *script = mock_gemini_script_new ();
  MockClient c;

  mock_gemini_script_setup (script, WAIT_MS);
  mock_gemini_script_close (script, 1011, "The service is unavailable.");
  mock_gemini_push_script (mock, script);
  script = mock_gemini_script_new ();
  mock_gemini_script_setup (script, WAIT_MS);
  mock_gemini_script_drop (script);
  mock_gemini_push_script (mock, script);
  mock_gemini_push_reject (mock, 429, "quota");
  script = mock_gemini_script_new ();
  mock_gemini_script_stall (script);
  mock_gemini_script_send (script, "{\"setupComplete\":{}}");
  mock_gemini_push_script (mock, script);

  mock_client_init (&c);
  start_session (&c, mock, golden_setup);
  fail_unless (mock_client_iterate (&c, mock_client_is_closed, NULL, WAIT_MS));
  fail_unless_equals_int (soup_websocket_connection_get_close_code (c.ws),
      1011);
  fail_unless_equals_string (soup_websocket_connection_get_close_data (c.ws),
      "The service is unavailable.");
  fail_unless (mock_gemini_wait_closed (mock, 0, WAIT_MS));
  fail_unless_equals_int (mock_gemini_get_close_code (mock, 0), 1011);
  fail_unless (mock_gemini_wait_script_done (mock, 0, WAIT_MS));
  mock_client_close (&c);

  /* drop: no close frame */
  start_session (&c, mock, golden_setup);
  fail_unless (mock_client_iterate (&c, mock_client_is_closed, NULL, WAIT_MS));
  fail_unless (mock_gemini_wait_closed (mock, 1, WAIT_MS));
  fail_unless_equals_int (mock_gemini_get_close_code (mock, 1), 0);
  mock_client_close (&c);

  /* rejected */
  fail_if (gemini_connect (&c, mock_gemini_url (mock), NULL, NULL));
  fail_unless_equals_int (mock_gemini_get_status (mock, 2), 429);
  fail_unless_equals_int (mock_gemini_get_close_code (mock, 2), -1);
  fail_if (mock_gemini_wait_script_done (mock, 2, WAIT_MS));
  fail_unless (mock_gemini_wait_closed (mock, 2, WAIT_MS));

  /* a step after the stall never runs; the socket stays open and frames
   * are still recorded */
  fail_unless (gemini_connect (&c, mock_gemini_url (mock), NULL, NULL));
  fail_if (mock_gemini_wait_script_done (mock, 3, WAIT_MS));
  fail_unless_equals_int (mock_gemini_n_failures (mock), 1);
  mock_client_send (&c, golden_setup);
  g_free (mock_gemini_wait_message (mock, 3, "setup", 0, WAIT_MS));
  fail_unless_equals_int (c.received->len, 0);
  fail_if (c.closed);
  mock_client_close (&c);

  /* the default script with the queue empty, then the mock goes away */
  start_session (&c, mock, golden_setup);
  fail_unless (mock_gemini_wait_connections (mock, 5, WAIT_MS));
  fail_unless (mock_gemini_wait_script_done (mock, 4, WAIT_MS));
  fail_unless_equals_int (mock_gemini_get_close_code (mock, 4), -1);
  fail_unless_equals_int (mock_gemini_n_violations (mock), 0);
  mock_gemini_free (mock);
  fail_unless (mock_client_iterate (&c, mock_client_is_closed, NULL, WAIT_MS));
  fail_unless_equals_int (soup_websocket_connection_get_close_code (c.ws),
      1001);
  mock_client_clear (&c);
}

GST_END_TEST;

static Suite *
mockgemini_suite (void)
{
  Suite *s = suite_create ("mockgemini");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_golden);
  tcase_add_test (tc, test_key);
  tcase_add_test (tc, test_framing_violations);
  tcase_add_test (tc, test_setup_violations);
  tcase_add_test (tc, test_valid_messages);
  tcase_add_test (tc, test_input_violations);
  tcase_add_test (tc, test_tool_violations);
  tcase_add_test (tc, test_frames);
  tcase_add_test (tc, test_send_audio);
  tcase_add_test (tc, test_endings);
  return s;
}

GST_CHECK_MAIN (mockgemini);
