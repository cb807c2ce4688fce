/* gst-bidi: the mock OpenAI Realtime server against a plain libsoup
 * WebSocket client
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
#include <libsoup/soup.h>

#include "mockclient.h"
#include "mockrealtime.h"
#include "testcert.h"

#define WAIT_MS MOCK_CLIENT_WAIT_MS

static const gchar session_update[] =
    "{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\","
    "\"instructions\":\"Be brief.\",\"output_modalities\":[\"audio\"],"
    "\"audio\":{\"input\":{\"format\":{\"type\":\"audio/pcm\",\"rate\":24000},"
    "\"transcription\":{\"model\":\"gpt-4o-transcribe\"},"
    "\"turn_detection\":{\"type\":\"server_vad\",\"threshold\":0.5,"
    "\"prefix_padding_ms\":300,\"silence_duration_ms\":500}},"
    "\"output\":{\"format\":{\"type\":\"audio/pcm\",\"rate\":24000},"
    "\"voice\":\"alloy\"}},\"tools\":[{\"type\":\"function\","
    "\"name\":\"get_weather\",\"description\":\"Current weather for a city\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":"
    "{\"type\":\"string\"}},\"required\":[\"city\"]}}]}}";

/* ------------------------------------------------------------------------
 * What the client received (mockclient.h)
 * ------------------------------------------------------------------------ */

/* The JSON type of received frame @i, NULL when it has none */
static const gchar *
received_type (MockClient * c, guint i)
{
  MockClientFrame *r = g_ptr_array_index (c->received, i);

  return r->json ? json_object_get_string_member_with_default
      (json_node_get_object (r->json), "type", NULL) : NULL;
}

static JsonNode *
received_json (MockClient * c, guint i)
{
  MockClientFrame *r = g_ptr_array_index (c->received, i);

  fail_unless (r->json != NULL);
  return json_node_ref (r->json);
}

typedef struct
{
  const gchar *type;
  gint found;
} Seek;

static gboolean
has_type (MockClient * c, gpointer data)
{
  Seek *seek = data;
  guint i;

  for (i = 0; i < c->received->len; i++) {
    if (g_strcmp0 (received_type (c, i), seek->type) == 0) {
      seek->found = i;
      return TRUE;
    }
  }
  return FALSE;
}

/* Waits for the first received event of @type; its JSON */
static JsonNode *
client_wait_type (MockClient * c, const gchar * type)
{
  Seek seek = { type, -1 };

  fail_unless (mock_client_iterate (c, has_type, &seek, WAIT_MS), "no %s",
      type);
  return received_json (c, seek.found);
}

/* @ms of a 400 Hz triangle wave, S16LE 24 kHz mono */
static GBytes *
make_tone (guint ms)
{
  guint n = ms * 24, i;
  gint16 *samples = g_new (gint16, n);

  for (i = 0; i < n; i++) {
    gint phase = i % 60;        /* 60 samples a period */
    gint v = phase < 30 ? phase * 500 - 7500 : (60 - phase) * 500 - 7500;
    samples[i] = GINT16_TO_LE ((gint16) v);
  }
  return g_bytes_new_take (samples, n * sizeof (gint16));
}

static void
assert_clean (MockRealtime * mock)
{
  gchar *v = mock_realtime_get_violations (mock);
  gchar *f = mock_realtime_get_failures (mock);

  fail_unless (mock_realtime_n_violations (mock) == 0, "violations:\n%s", v);
  fail_unless (mock_realtime_n_failures (mock) == 0, "failures:\n%s", f);
  fail_unless_equals_string (v, "");
  fail_unless_equals_string (f, "");
  g_free (v);
  g_free (f);
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

/* The golden exchange, and everything the mock records of it */
GST_START_TEST (test_golden)
{
  static const gchar *const expected[] = {
    "session.created", "session.updated",
    "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed", "conversation.item.added",
    "conversation.item.done", "response.created", "rate_limits.updated",
    "conversation.item.input_audio_transcription.delta",
    "response.output_item.added", "conversation.item.added",
    "response.content_part.added",
    "response.output_audio_transcript.delta", "response.output_audio.delta",
    "conversation.item.input_audio_transcription.delta",
    "conversation.item.input_audio_transcription.completed",
    "response.output_audio_transcript.delta", "response.output_audio.delta",
    "response.output_audio_transcript.delta", "response.output_audio.delta",
    "response.output_audio_transcript.delta",
    "response.output_audio_transcript.delta",
    "response.output_audio_transcript.delta",
    "response.output_audio_transcript.delta",
    "response.output_audio_transcript.delta",
    "response.output_audio_transcript.delta",
    "response.output_audio.done", "response.output_audio_transcript.done",
    "response.content_part.done", "response.output_item.done",
    "conversation.item.done", "response.done", NULL
  };
  const gchar *headers[] = {
    "Authorization", "Bearer sk-test-key-123",
    "OpenAI-Project", "proj_mock", NULL
  };
  MockRealtime *mock = mock_realtime_new ();
  MockRealtimeScript *script = mock_realtime_script_new ();
  GBytes *tone = make_tone (250), *input = make_tone (20), *got;
  GString *answer_audio = g_string_new (NULL);
  GString *assistant = g_string_new (NULL), *user = g_string_new (NULL);
  GHashTable *ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  JsonNode *node;
  gchar *url, *s, *b64, *append;
  MockClient c;
  guint i;

  mock_realtime_script_add_golden (script, g_bytes_get_data (tone, NULL),
      g_bytes_get_size (tone));
  mock_realtime_push_script (mock, script);
  fail_unless (g_str_has_prefix (mock_realtime_url (mock), "ws://127.0.0.1:"));
  fail_unless (g_str_has_suffix (mock_realtime_url (mock), "/v1/realtime"));

  mock_client_init (&c);
  url = g_strdup_printf ("%s?model=gpt-realtime", mock_realtime_url (mock));
  fail_unless (mock_client_connect (&c, url, headers), "%s",
      c.error ? c.error->message : "");
  g_free (url);

  /* setup */
  node = client_wait_type (&c, "session.created");
  fail_unless_equals_string (mock_json_str (node, "session.id"),
      MOCK_REALTIME_GOLDEN_SESSION_ID);
  fail_unless_equals_string (mock_json_str (node, "session.type"), "realtime");
  json_node_unref (node);
  mock_client_send (&c, session_update);
  node = client_wait_type (&c, "session.updated");
  /* the defaults with the client's settings merged in */
  fail_unless_equals_string (mock_json_str (node, "session.id"),
      MOCK_REALTIME_GOLDEN_SESSION_ID);
  fail_unless_equals_string (mock_json_str (node, "session.instructions"),
      "Be brief.");
  fail_unless_equals_int (mock_json_int (node,
          "session.audio.input.turn_detection.silence_duration_ms"), 500);
  fail_unless (json_node_get_boolean (mock_json_get (node,
              "session.audio.input.turn_detection.create_response")));
  fail_unless_equals_string (mock_json_str (node,
          "session.audio.input.transcription.model"), "gpt-4o-transcribe");
  fail_unless_equals_int (json_array_get_length (json_node_get_array
          (mock_json_get (node, "session.tools"))), 1);
  json_node_unref (node);
  fail_unless_equals_int (c.received->len, 2);

  /* the user speaks: 20 ms */
  b64 = g_base64_encode (g_bytes_get_data (input, NULL),
      g_bytes_get_size (input));
  append = g_strdup_printf ("{\"type\":\"input_audio_buffer.append\","
      "\"audio\":\"%s\"}", b64);
  mock_client_send (&c, append);
  g_free (append);
  g_free (b64);

  /* the answer */
  node = client_wait_type (&c, "response.done");
  fail_unless_equals_string (mock_json_str (node, "response.status"),
      "completed");
  fail_unless_equals_int (mock_json_int (node, "response.usage.total_tokens"),
      MOCK_REALTIME_GOLDEN_TOTAL_TOKENS);
  fail_unless_equals_int (mock_json_int (node, "response.usage.input_tokens"),
      MOCK_REALTIME_GOLDEN_INPUT_TOKENS);
  fail_unless_equals_int (mock_json_int (node, "response.usage.output_tokens"),
      MOCK_REALTIME_GOLDEN_OUTPUT_TOKENS);
  fail_unless_equals_int (mock_json_int (node,
          "response.usage.input_token_details.text_tokens"),
      MOCK_REALTIME_GOLDEN_INPUT_TEXT_TOKENS);
  fail_unless_equals_int (mock_json_int (node,
          "response.usage.input_token_details.audio_tokens"),
      MOCK_REALTIME_GOLDEN_INPUT_AUDIO_TOKENS);
  fail_unless_equals_int (mock_json_int (node,
          "response.usage.input_token_details.cached_tokens"),
      MOCK_REALTIME_GOLDEN_CACHED_TOKENS);
  fail_unless_equals_int (mock_json_int (node,
          "response.usage.output_token_details.text_tokens"),
      MOCK_REALTIME_GOLDEN_OUTPUT_TEXT_TOKENS);
  fail_unless_equals_int (mock_json_int (node,
          "response.usage.output_token_details.audio_tokens"),
      MOCK_REALTIME_GOLDEN_OUTPUT_AUDIO_TOKENS);
  json_node_unref (node);
  fail_unless (mock_realtime_wait_script_done (mock, 0, WAIT_MS));

  /* exactly the events of the exchange, in order, with unique ids */
  fail_unless_equals_int (c.received->len, g_strv_length ((gchar **)
          expected));
  for (i = 0; expected[i]; i++) {
    const gchar *type = received_type (&c, i), *id;
    fail_unless_equals_string (type, expected[i]);
    node = received_json (&c, i);
    id = mock_json_str (node, "event_id");
    fail_unless (g_hash_table_add (ids, g_strdup (id)), "twice: %s", id);
    if (strcmp (type, "response.output_audio.delta") == 0) {
      guchar *pcm;
      gsize n;
      fail_unless_equals_string (mock_json_str (node, "item_id"),
          MOCK_REALTIME_GOLDEN_ASSISTANT_ITEM);
      fail_unless_equals_string (mock_json_str (node, "response_id"),
          MOCK_REALTIME_GOLDEN_RESPONSE_ID);
      pcm = g_base64_decode (mock_json_str (node, "delta"), &n);
      g_string_append_len (answer_audio, (gchar *) pcm, n);
      g_free (pcm);
    } else if (strcmp (type, "response.output_audio_transcript.delta") == 0) {
      g_string_append (assistant, mock_json_str (node, "delta"));
    } else if (strcmp (type,
            "conversation.item.input_audio_transcription.delta") == 0) {
      g_string_append (user, mock_json_str (node, "delta"));
    } else if (strcmp (type,
            "conversation.item.input_audio_transcription.completed") == 0) {
      fail_unless_equals_string (mock_json_str (node, "transcript"),
          MOCK_REALTIME_GOLDEN_USER_TRANSCRIPT);
    } else if (strcmp (type, "response.output_audio_transcript.done") == 0) {
      fail_unless_equals_string (mock_json_str (node, "transcript"),
          MOCK_REALTIME_GOLDEN_ASSISTANT_TRANSCRIPT);
    }
    json_node_unref (node);
  }
  fail_unless_equals_int (answer_audio->len, g_bytes_get_size (tone));
  fail_unless (memcmp (answer_audio->str, g_bytes_get_data (tone, NULL),
          answer_audio->len) == 0);
  fail_unless_equals_string (assistant->str,
      MOCK_REALTIME_GOLDEN_ASSISTANT_TRANSCRIPT);
  fail_unless_equals_string (user->str, MOCK_REALTIME_GOLDEN_USER_TRANSCRIPT);

  /* what the mock recorded */
  fail_unless_equals_int (mock_realtime_n_connections (mock), 1);
  fail_unless_equals_int (mock_realtime_get_status (mock, 0), 101);
  s = mock_realtime_get_path (mock, 0);
  fail_unless_equals_string (s, "/v1/realtime?model=gpt-realtime");
  g_free (s);
  s = mock_realtime_get_query_param (mock, 0, "model");
  fail_unless_equals_string (s, "gpt-realtime");
  g_free (s);
  s = mock_realtime_get_header (mock, 0, "authorization");
  fail_unless_equals_string (s, "Bearer sk-test-key-123");
  g_free (s);
  s = mock_realtime_get_header (mock, 0, "OpenAI-Project");
  fail_unless_equals_string (s, "proj_mock");
  g_free (s);
  fail_unless (mock_realtime_get_header (mock, 0, "OpenAI-Beta") == NULL);
  fail_unless (mock_realtime_get_header (mock, 0, "OpenAI-Organization") ==
      NULL);
  fail_unless (mock_realtime_get_header (mock, 1, "Authorization") == NULL);
  fail_unless_equals_int (mock_realtime_n_frames (mock, 0), 2);
  s = mock_realtime_get_frame (mock, 0, 0);
  fail_unless_equals_string (s, session_update);
  g_free (s);
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "session.update"), 1);
  fail_unless_equals_int (mock_realtime_count_events (mock,
          MOCK_REALTIME_ANY_CONNECTION, "input_audio_buffer.append"), 1);
  s = mock_realtime_wait_event (mock, 0, "session.update", 0, WAIT_MS);
  fail_unless_equals_string (s, session_update);
  g_free (s);
  fail_unless (mock_realtime_wait_event (mock, 0, "session.update", 1,
          10) == NULL);
  fail_unless_equals_int (mock_realtime_get_audio_bytes (mock, 0), 960);
  got = mock_realtime_get_audio (mock, MOCK_REALTIME_ANY_CONNECTION);
  fail_unless (g_bytes_equal (got, input));
  g_bytes_unref (got);
  assert_clean (mock);

  /* truncating the answer: within the 250 ms sent, then beyond */
  mock_client_send (&c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\""
      MOCK_REALTIME_GOLDEN_ASSISTANT_ITEM "\",\"content_index\":0,"
      "\"audio_end_ms\":250}");
  mock_client_send (&c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\""
      MOCK_REALTIME_GOLDEN_ASSISTANT_ITEM "\",\"content_index\":0,"
      "\"audio_end_ms\":251}");
  mock_client_send (&c, "{\"type\":\"conversation.item.retrieve\","
      "\"event_id\":\"ev_client_1\",\"item_id\":\""
      MOCK_REALTIME_GOLDEN_ASSISTANT_ITEM "\"}");
  s = mock_realtime_wait_event (mock, 0, "conversation.item.retrieve", 0,
      WAIT_MS);
  fail_unless (s != NULL);
  g_free (s);
  fail_unless_equals_int (mock_realtime_n_violations (mock), 1);
  s = mock_realtime_get_violations (mock);
  fail_unless (strstr (s, "audio_end_ms 251 is beyond the 250 ms") != NULL,
      "%s", s);
  fail_unless (g_str_has_prefix (s, "connection 0, frame 3 "
          "(conversation.item.truncate): "), "%s", s);
  g_free (s);

  /* the client closes */
  mock_client_close (&c);
  fail_unless (mock_realtime_wait_closed (mock, 0, WAIT_MS));
  fail_unless_equals_int (mock_realtime_get_close_code (mock, 0), 1000);
  fail_unless_equals_int (mock_realtime_n_failures (mock), 0);

  mock_client_clear (&c);
  mock_realtime_free (mock);
  g_bytes_unref (tone);
  g_bytes_unref (input);
  g_string_free (answer_audio, TRUE);
  g_string_free (assistant, TRUE);
  g_string_free (user, TRUE);
  g_hash_table_unref (ids);
}

GST_END_TEST;

/* MockClient events that break the GA protocol, each counted */
GST_START_TEST (test_violations)
{
  static const guint8 binary[] = { 0x00, 0x01, 0xfe, 0xff };
  static const struct
  {
    const gchar *text;
    guint n_violations;
    const gchar *says;
  } frames[] = {
    /* 4 bytes, fine, but no session.update yet */
    {"{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAAAAA==\"}", 1,
        "before any session.update"},
    {"{\"type\":\"session.update\",\"session\":{\"modalities\":[\"audio\"],"
          "\"voice\":\"alloy\"}}", 3, "modalities is a beta protocol field"},
    {"{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\"}}", 0,
        NULL},
    {"{\"type\":\"input_audio_buffer.append\",\"audio\":\"not base64!\"}", 1,
        "not valid base64"},
    {"{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAA=\"}", 0, NULL},
    {"{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAAA\"}", 1,
        "not whole 2-byte frames"},
    {"{\"type\":\"conversation.item.truncate\",\"item_id\":\"item_X\","
          "\"content_index\":0,\"audio_end_ms\":-5}", 2,
        "audio_end_ms must be >= 0"},
    {"{\"type\":\"conversation.item.truncate\",\"item_id\":\"item_X\","
          "\"content_index\":0,\"audio_end_ms\":12.5}", 2,
        "audio_end_ms must be an integer"},
    {"{\"type\":\"conversation.item.create\",\"item\":{\"type\":"
          "\"function_call_output\",\"call_id\":\"call_1\",\"output\":"
          "{\"temp_c\":18}}}", 1, "item.output must be a string"},
    {"{\"type\":\"conversation.item.create\",\"item\":{\"type\":"
          "\"function_call_output\",\"output\":\"18\"}}", 1,
        "item.call_id is missing"},
    {"{\"type\":\"response.audio.delta\"}", 1, "a beta protocol event"},
    {"{\"type\":\"output_audio_buffer.clear\"}", 1, "WebRTC/SIP"},
    {"{\"type\":\"bogus.event\"}", 1, "not a client event type"},
    {"{\"type\":\"response.create\",\"response\":{\"modalities\":"
          "[\"text\"]}}", 1, "response.modalities is a beta"},
    {"this is not JSON", 1, "not a JSON event"},
    {NULL, 1, "a binary frame of 4 bytes"},
    /* all fine */
    {"{\"type\":\"conversation.item.create\",\"item\":{\"type\":"
          "\"function_call_output\",\"call_id\":\"call_1\",\"output\":"
          "\"{\\\"temp_c\\\":18}\"}}", 0, NULL},
    {"{\"type\":\"conversation.item.create\",\"item\":{\"type\":\"message\","
          "\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
          "\"text\":\"Hi\"}]}}", 0, NULL},
    {"{\"type\":\"input_audio_buffer.commit\"}", 0, NULL},
    {"{\"type\":\"input_audio_buffer.clear\",\"event_id\":\"c1\"}", 0, NULL},
    {"{\"type\":\"response.create\"}", 0, NULL},
    {"{\"type\":\"response.cancel\",\"response_id\":\"resp_9\"}", 0, NULL},
  };
  MockRealtime *mock = mock_realtime_new ();
  MockRealtimeScript *script = mock_realtime_script_new ();
  guint i, total = 0;
  gchar *all, *s;
  MockClient c;

  mock_realtime_script_send (script, "{\"type\":\"session.created\","
      "\"session\":{\"type\":\"realtime\",\"id\":\"sess_v\"}}");
  mock_realtime_push_script (mock, script);

  mock_client_init (&c);
  fail_unless (mock_client_connect (&c, mock_realtime_url (mock), NULL));
  for (i = 0; i < G_N_ELEMENTS (frames); i++) {
    if (frames[i].text)
      mock_client_send (&c, frames[i].text);
    else
      soup_websocket_connection_send_binary (c.ws, binary, sizeof (binary));
    /* one at a time, so each count is checked */
    fail_unless (mock_realtime_wait_connections (mock, 1, WAIT_MS));
    total += frames[i].n_violations;
    {
      gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;
      while (mock_realtime_n_frames (mock, 0) < i + 1 &&
          g_get_monotonic_time () < end) {
        g_main_context_iteration (c.ctx, FALSE);
        g_usleep (1000);
      }
    }
    fail_unless_equals_int (mock_realtime_n_frames (mock, 0), i + 1);
    s = mock_realtime_get_violations (mock);
    fail_unless (mock_realtime_n_violations (mock) == total,
        "frame %u: %u violations, not %u:\n%s", i,
        mock_realtime_n_violations (mock), total, s);
    if (frames[i].says)
      fail_unless (strstr (s, frames[i].says) != NULL, "frame %u: %s", i, s);
    g_free (s);
  }
  fail_unless_equals_int (total, 18);

  /* as sent */
  s = mock_realtime_get_frame (mock, 0, 14);
  fail_unless_equals_string (s, "this is not JSON");
  g_free (s);
  fail_unless (mock_realtime_get_frame (mock, 0, 15) == NULL);
  fail_unless_equals_int (mock_realtime_count_events (mock, 0,
          "input_audio_buffer.append"), 4);
  /* what decodes counts, whole frames or not: 4 + 2 + 3 bytes */
  fail_unless_equals_int (mock_realtime_get_audio_bytes (mock, 0), 4 + 2 + 3);

  all = mock_realtime_get_violations (mock);
  GST_INFO ("violations:\n%s", all);
  fail_unless (g_str_has_prefix (all, "connection 0, frame 0 "
          "(input_audio_buffer.append): audio appended before any "
          "session.update\n"), "%s", all);
  g_free (all);
  fail_unless_equals_int (mock_realtime_n_failures (mock), 0);

  mock_client_clear (&c);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* Waits until the mock recorded @n frames of connection @conn */
static void
wait_frames (MockRealtime * mock, MockClient * c, guint conn, guint n)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * 1000;

  while (mock_realtime_n_frames (mock, conn) < n &&
      g_get_monotonic_time () < end) {
    g_main_context_iteration (c->ctx, FALSE);
    g_usleep (1000);
  }
  fail_unless_equals_int (mock_realtime_n_frames (mock, conn), n);
}

/* An answer in two phases: each item with its phase, its own audio and
 * transcript, and the usage with reasoning tokens; a truncate is checked
 * against the audio of its own item, not of the response */
GST_START_TEST (test_phased_answer)
{
  static const gchar update[] = "{\"type\":\"session.update\",\"session\":"
      "{\"type\":\"realtime\",\"reasoning\":{\"effort\":\"high\"}}}";
  MockRealtime *mock = mock_realtime_new ();
  MockRealtimeScript *script = mock_realtime_script_new ();
  GBytes *first = make_tone (300), *second = make_tone (500);
  GString *audio[2] = { g_string_new (NULL), g_string_new (NULL) };
  const gchar *items[2] = { MOCK_REALTIME_PHASED_COMMENTARY_ITEM,
    MOCK_REALTIME_PHASED_FINAL_ITEM
  };
  guint n_added = 0, n_done = 0, i, k;
  JsonArray *output;
  JsonNode *node;
  gchar *url, *v;
  MockClient c;

  mock_realtime_script_send (script, "{\"type\":\"session.created\","
      "\"session\":{\"type\":\"realtime\",\"id\":\"sess_p\"}}");
  mock_realtime_script_wait (script, "session.update", 1, WAIT_MS);
  mock_realtime_script_add_phased_answer (script, g_bytes_get_data (first,
          NULL), g_bytes_get_size (first), g_bytes_get_data (second, NULL),
      g_bytes_get_size (second));
  mock_realtime_push_script (mock, script);
  mock_realtime_expect_reasoning_effort (mock, "high");

  mock_client_init (&c);
  url = g_strdup_printf ("%s?model=gpt-realtime-2", mock_realtime_url (mock));
  fail_unless (mock_client_connect (&c, url, NULL));
  g_free (url);
  mock_client_send (&c, update);
  node = client_wait_type (&c, "response.done");
  fail_unless_equals_string (mock_json_str (node, "response.status"),
      "completed");
  fail_unless_equals_int (mock_json_int (node, "response.usage.total_tokens"),
      MOCK_REALTIME_PHASED_TOTAL_TOKENS);
  fail_unless_equals_int (mock_json_int (node,
          "response.usage.output_tokens"), MOCK_REALTIME_PHASED_OUTPUT_TOKENS);
  fail_unless_equals_int (mock_json_int (node,
          "response.usage.output_token_details.reasoning_tokens"),
      MOCK_REALTIME_PHASED_REASONING_TOKENS);
  output = json_node_get_array (mock_json_get (node, "response.output"));
  fail_unless_equals_int (json_array_get_length (output), 2);
  fail_unless_equals_string (json_object_get_string_member
      (json_array_get_object_element (output, 1), "phase"), "final_answer");
  json_node_unref (node);
  fail_unless (mock_realtime_wait_script_done (mock, 0, WAIT_MS));

  /* the items, in order, each with its phase, audio and transcript */
  for (i = 0; i < c.received->len; i++) {
    const gchar *type = received_type (&c, i);

    node = received_json (&c, i);
    if (g_strcmp0 (type, "response.output_item.added") == 0) {
      fail_unless (n_added < 2);
      fail_unless_equals_string (mock_json_str (node, "item.id"),
          items[n_added]);
      fail_unless_equals_string (mock_json_str (node, "item.phase"),
          n_added == 0 ? "commentary" : "final_answer");
      fail_unless_equals_int (mock_json_int (node, "output_index"), n_added);
      n_added++;
    } else if (g_strcmp0 (type, "response.output_audio.delta") == 0) {
      guchar *pcm;
      gsize n;

      fail_unless_equals_string (mock_json_str (node, "item_id"),
          items[n_added - 1]);
      pcm = g_base64_decode (mock_json_str (node, "delta"), &n);
      g_string_append_len (audio[n_added - 1], (gchar *) pcm, n);
      g_free (pcm);
    } else if (g_strcmp0 (type,
            "response.output_audio_transcript.done") == 0) {
      fail_unless_equals_string (mock_json_str (node, "item_id"),
          items[n_done]);
      fail_unless_equals_string (mock_json_str (node, "transcript"),
          n_done == 0 ? MOCK_REALTIME_PHASED_COMMENTARY :
          MOCK_REALTIME_PHASED_FINAL);
      n_done++;
    }
    json_node_unref (node);
  }
  fail_unless_equals_int (n_added, 2);
  fail_unless_equals_int (n_done, 2);
  for (k = 0; k < 2; k++) {
    GBytes *pcm = k == 0 ? first : second;

    fail_unless_equals_int (audio[k]->len, g_bytes_get_size (pcm));
    fail_unless (memcmp (audio[k]->str, g_bytes_get_data (pcm, NULL),
            audio[k]->len) == 0);
    g_string_free (audio[k], TRUE);
  }
  assert_clean (mock);

  /* the final answer has 500 ms, the response 800 */
  mock_client_send (&c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"" MOCK_REALTIME_PHASED_FINAL_ITEM "\","
      "\"content_index\":0,\"audio_end_ms\":500}");
  mock_client_send (&c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"" MOCK_REALTIME_PHASED_FINAL_ITEM "\","
      "\"content_index\":0,\"audio_end_ms\":700}");
  wait_frames (mock, &c, 0, 3);
  v = mock_realtime_get_violations (mock);
  fail_unless_equals_int (mock_realtime_n_violations (mock), 1);
  fail_unless (strstr (v, "audio_end_ms 700 is beyond the 500 ms of audio "
          "sent for item " MOCK_REALTIME_PHASED_FINAL_ITEM) != NULL, "%s", v);
  g_free (v);

  mock_client_clear (&c);
  mock_realtime_free (mock);
  g_bytes_unref (first);
  g_bytes_unref (second);
}

GST_END_TEST;

/* session.reasoning: its form, the models that take it, and the effort
 * the test expects */
GST_START_TEST (test_reasoning)
{
  static const struct
  {
    const gchar *model;
    const gchar *reasoning;     /* the session's member, NULL: none */
    guint n_violations;
    const gchar *says;
  } cases[] = {
    /* not checked yet: any valid effort, or none */
    {"gpt-realtime-2", "{\"effort\":\"xhigh\"}", 0, NULL},
    {"gpt-realtime-2.1-mini", "{\"effort\":\"minimal\"}", 0, NULL},
    {"gpt-realtime-2", NULL, 0, NULL},
    /* an older model refuses it */
    {"gpt-realtime", "{\"effort\":\"low\"}", 1, "does not take it"},
    {"gpt-realtime-2025-08-28", "{\"effort\":\"low\"}", 1,
        "does not take it"},
    /* its form */
    {"gpt-realtime-2", "{\"effort\":\"max\"}", 1, "session.reasoning.effort"},
    {"gpt-realtime-2", "{\"effort\":\"low\",\"summary\":\"auto\"}", 1,
        "session.reasoning.summary"},
    {"gpt-realtime-2", "\"low\"", 1, "session.reasoning"},
  };
  MockRealtime *mock = mock_realtime_new ();
  guint i, total = 0;
  gchar *v;

  for (i = 0; i < G_N_ELEMENTS (cases) + 2; i++) {
    const gchar *model = i < G_N_ELEMENTS (cases) ? cases[i].model :
        "gpt-realtime-2";
    const gchar *reasoning = i < G_N_ELEMENTS (cases) ? cases[i].reasoning :
        NULL;
    gchar *url, *update;
    MockClient c;

    /* the last two: the test expects "low", then no reasoning */
    if (i == G_N_ELEMENTS (cases))
      mock_realtime_expect_reasoning_effort (mock, "low");
    else if (i == G_N_ELEMENTS (cases) + 1) {
      mock_realtime_expect_reasoning_effort (mock, NULL);
      reasoning = "{\"effort\":\"low\"}";
    }
    mock_client_init (&c);
    url = g_strdup_printf ("%s?model=%s", mock_realtime_url (mock), model);
    fail_unless (mock_client_connect (&c, url, NULL));
    update = g_strdup_printf ("{\"type\":\"session.update\",\"session\":"
        "{\"type\":\"realtime\"%s%s}}", reasoning ? ",\"reasoning\":" : "",
        reasoning ? reasoning : "");
    mock_client_send (&c, update);
    wait_frames (mock, &c, i, 1);
    total += i < G_N_ELEMENTS (cases) ? cases[i].n_violations : 1;
    v = mock_realtime_get_violations (mock);
    fail_unless (mock_realtime_n_violations (mock) == total, "case %u: %u "
        "violations, not %u:\n%s", i, mock_realtime_n_violations (mock),
        total, v);
    if (i < G_N_ELEMENTS (cases) && cases[i].says)
      fail_unless (strstr (v, cases[i].says) != NULL, "case %u: %s", i, v);
    g_free (v);
    g_free (update);
    g_free (url);
    mock_client_close (&c);
    mock_client_clear (&c);
  }
  v = mock_realtime_get_violations (mock);
  fail_unless (strstr (v, "session.reasoning.effort is left out, expected "
          "\"low\"") != NULL, "%s", v);
  fail_unless (strstr (v, "session.reasoning.effort is \"low\", expected "
          "left out") != NULL, "%s", v);
  g_free (v);
  fail_unless_equals_int (mock_realtime_n_failures (mock), 0);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* A 401, then a script closing with 1001, then a reconnect with the next
 * script that drops the TCP connection */
GST_START_TEST (test_reject_reconnect)
{
  static const gchar error_body[] =
      "{\"error\":{\"message\":\"Incorrect API key provided: sk-bad. You "
      "can find your API key at https://platform.openai.com/account/"
      "api-keys.\",\"type\":\"invalid_request_error\",\"code\":"
      "\"invalid_api_key\",\"param\":null}}";
  const gchar *headers[] = { "Authorization", "Bearer sk-bad", NULL };
  MockRealtime *mock = mock_realtime_new ();
  MockRealtimeScript *script;
  SoupMessage *plain;
  GBytes *body;
  JsonNode *node;
  GError *err = NULL;
  MockClient c;

  mock_realtime_push_reject (mock, 401, error_body);
  mock_realtime_push_reject (mock, 403, error_body);
  script = mock_realtime_script_new ();
  mock_realtime_script_send (script, "{\"type\":\"session.created\","
      "\"session\":{\"type\":\"realtime\",\"id\":\"sess_A\"}}");
  mock_realtime_script_wait (script, "session.update", 1, WAIT_MS);
  mock_realtime_script_close (script, 1001,
      "Your session hit the maximum duration of 60 minutes.");
  mock_realtime_push_script (mock, script);
  script = mock_realtime_script_new ();
  mock_realtime_script_send (script, "{\"type\":\"session.created\","
      "\"session\":{\"type\":\"realtime\",\"id\":\"sess_B\"}}");
  mock_realtime_script_wait (script, "session.update", 1, WAIT_MS);
  mock_realtime_script_drop (script);
  mock_realtime_push_script (mock, script);

  mock_client_init (&c);

  /* rejected: the WebSocket client gets the status */
  fail_if (mock_client_connect (&c, mock_realtime_url (mock), headers));
  fail_unless (g_error_matches (c.error, SOUP_WEBSOCKET_ERROR,
          SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET), "%s", c.error->message);
  fail_unless_equals_int (soup_message_get_status (c.msg), 401);
  fail_unless_equals_int (mock_realtime_n_connections (mock), 1);
  fail_unless_equals_int (mock_realtime_get_status (mock, 0), 401);
  fail_unless (mock_realtime_wait_closed (mock, 0, 10));
  fail_if (mock_realtime_wait_script_done (mock, 0, 10));

  /* the body of a rejection, read by a plain request with the handshake
   * headers */
  plain = soup_message_new ("GET", mock_realtime_url (mock));
  soup_websocket_client_prepare_handshake (plain, NULL, NULL, NULL);
  body = soup_session_send_and_read (c.session, plain, NULL, &err);
  fail_unless (body != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (soup_message_get_status (plain), 403);
  fail_unless_equals_string (soup_message_headers_get_content_type
      (soup_message_get_response_headers (plain), NULL), "application/json");
  fail_unless_equals_int (g_bytes_get_size (body), strlen (error_body));
  fail_unless (memcmp (g_bytes_get_data (body, NULL), error_body,
          strlen (error_body)) == 0);
  g_bytes_unref (body);
  g_object_unref (plain);
  fail_unless_equals_int (mock_realtime_get_status (mock, 1), 403);

  /* the first script: the server closes with 1001 */
  fail_unless (mock_client_connect (&c, mock_realtime_url (mock), headers));
  node = client_wait_type (&c, "session.created");
  fail_unless_equals_string (mock_json_str (node, "session.id"), "sess_A");
  json_node_unref (node);
  mock_client_send (&c, session_update);
  fail_unless (mock_client_iterate (&c, mock_client_is_closed, NULL, WAIT_MS));
  fail_unless_equals_int (soup_websocket_connection_get_close_code (c.ws),
      1001);
  fail_unless_equals_string (soup_websocket_connection_get_close_data (c.ws),
      "Your session hit the maximum duration of 60 minutes.");
  fail_unless (mock_realtime_wait_closed (mock, 2, WAIT_MS));
  /* the client's echo */
  fail_unless_equals_int (mock_realtime_get_close_code (mock, 2), 1001);
  fail_unless (mock_realtime_wait_script_done (mock, 2, WAIT_MS));
  mock_client_close (&c);
  g_ptr_array_set_size (c.received, 0);

  /* the reconnect gets the next script: a drop */
  fail_unless (mock_client_connect (&c, mock_realtime_url (mock), headers));
  node = client_wait_type (&c, "session.created");
  fail_unless_equals_string (mock_json_str (node, "session.id"), "sess_B");
  json_node_unref (node);
  mock_client_send (&c, session_update);
  fail_unless (mock_client_iterate (&c, mock_client_is_closed, NULL, WAIT_MS));
  /* no close frame */
  fail_unless_equals_int (soup_websocket_connection_get_close_code (c.ws), 0);
  fail_unless (mock_realtime_wait_closed (mock, 3, WAIT_MS));
  fail_unless_equals_int (mock_realtime_get_close_code (mock, 3), 0);
  fail_unless (mock_realtime_wait_script_done (mock, 3, WAIT_MS));

  fail_unless_equals_int (mock_realtime_n_connections (mock), 4);
  fail_unless_equals_int (mock_realtime_get_status (mock, 3), 101);
  fail_unless_equals_int (mock_realtime_count_events (mock,
          MOCK_REALTIME_ANY_CONNECTION, "session.update"), 2);
  assert_clean (mock);

  mock_client_clear (&c);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* Raw and binary frames, padding, paced audio, run(), a wait that times
 * out */
GST_START_TEST (test_frames)
{
  static const guint8 binary[] = { 0x00, 0x7b, 0xff, 0x80, 0x01 };
  MockRealtime *mock = mock_realtime_new ();
  MockRealtimeScript *script = mock_realtime_script_new ();
  GBytes *tone = make_tone (250);
  JsonNode *node;
  MockClientFrame *r;
  gsize size;
  const gchar *data;
  gint64 start;
  guint i;
  gchar *s, *b64, *append;
  guint8 *big;
  MockClient c;

  mock_realtime_script_send_raw (script, "{\"type\":\"session.created\"");
  mock_realtime_script_send_raw (script, "[1,2,3]");
  mock_realtime_script_send_binary (script, binary, sizeof (binary));
  mock_realtime_script_send_padded (script,
      "{\"type\":\"session.updated\",\"session\":{\"type\":\"realtime\"}}",
      300000);
  mock_realtime_script_send (script, "{\"type\":\"error\",\"event_id\":"
      "\"event_890\",\"error\":{\"type\":\"invalid_request_error\","
      "\"code\":\"response_cancel_not_active\",\"message\":\"Cancellation "
      "failed: no active response found\",\"param\":null,"
      "\"event_id\":null}}");
  mock_realtime_script_send_audio (script, g_bytes_get_data (tone, NULL),
      g_bytes_get_size (tone), 100, TRUE, "resp_P", "item_P", 0, 0);
  mock_realtime_script_sleep (script, 50);
  mock_realtime_script_send (script, "{\"type\":\"response.done\","
      "\"response\":{\"id\":\"resp_P\",\"status\":\"completed\"}}");
  mock_realtime_push_script (mock, script);
  /* a connection with nothing queued: accepted, nothing sent */
  script = NULL;

  mock_client_init (&c);
  start = g_get_monotonic_time ();
  fail_unless (mock_client_connect (&c, mock_realtime_url (mock), NULL));
  fail_unless (mock_client_iterate (&c, mock_client_has_n,
          GUINT_TO_POINTER (9), WAIT_MS));
  fail_unless (mock_realtime_wait_script_done (mock, 0, WAIT_MS));
  fail_unless_equals_int (c.received->len, 9);

  r = g_ptr_array_index (c.received, 0);
  data = g_bytes_get_data (r->data, &size);
  fail_unless_equals_int (r->type, SOUP_WEBSOCKET_DATA_TEXT);
  fail_unless (size == strlen ("{\"type\":\"session.created\"") &&
      memcmp (data, "{\"type\":\"session.created\"", size) == 0);
  r = g_ptr_array_index (c.received, 1);
  data = g_bytes_get_data (r->data, &size);
  fail_unless (size == 7 && memcmp (data, "[1,2,3]", 7) == 0);
  r = g_ptr_array_index (c.received, 2);
  fail_unless_equals_int (r->type, SOUP_WEBSOCKET_DATA_BINARY);
  data = g_bytes_get_data (r->data, &size);
  fail_unless (size == sizeof (binary) && memcmp (data, binary, size) == 0);

  /* exactly 300000 bytes, still a valid event */
  r = g_ptr_array_index (c.received, 3);
  fail_unless_equals_int (g_bytes_get_size (r->data), 300000);
  node = received_json (&c, 3);
  fail_unless_equals_string (mock_json_str (node, "type"), "session.updated");
  fail_unless_equals_string (mock_json_str (node, "session.type"), "realtime");
  fail_unless (mock_json_get (node, "event_id") != NULL);
  json_node_unref (node);

  /* an event_id given is kept */
  node = received_json (&c, 4);
  fail_unless_equals_string (mock_json_str (node, "event_id"), "event_890");
  json_node_unref (node);

  /* 250 ms as 100 + 100 + 50, in real time */
  for (i = 5; i < 8; i++) {
    guchar *pcm;
    gsize n;
    node = received_json (&c, i);
    fail_unless_equals_string (mock_json_str (node, "type"),
        "response.output_audio.delta");
    fail_unless_equals_string (mock_json_str (node, "item_id"), "item_P");
    fail_unless_equals_string (mock_json_str (node, "response_id"), "resp_P");
    fail_unless_equals_int (mock_json_int (node, "output_index"), 0);
    fail_unless_equals_int (mock_json_int (node, "content_index"), 0);
    pcm = g_base64_decode (mock_json_str (node, "delta"), &n);
    fail_unless_equals_int (n, i < 7 ? 4800 : 2400);
    fail_unless (memcmp (pcm, (const guint8 *) g_bytes_get_data (tone, NULL)
            + (i - 5) * 4800, n) == 0);
    g_free (pcm);
    json_node_unref (node);
  }
  node = received_json (&c, 8);
  fail_unless_equals_string (mock_json_str (node, "type"), "response.done");
  json_node_unref (node);
  /* Paced, not a burst. Only lower bounds are safe: a busy machine (or
   * valgrind parsing the 300 kB event) can hold up any receive, which
   * shortens a gap measured between two receives. The last chunk is sent
   * 200 ms after the first, response.done 50 ms after that, and the first
   * chunk cannot be sent before the client connected. */
  r = g_ptr_array_index (c.received, 7);
  fail_unless (r->time - start >= 200 * 1000, "%" G_GINT64_FORMAT,
      r->time - start);
  r = g_ptr_array_index (c.received, 8);
  fail_unless (r->time - start >= 250 * 1000, "%" G_GINT64_FORMAT,
      r->time - start);

  /* more steps on the open connection: a wait that times out ends them */
  script = mock_realtime_script_new ();
  mock_realtime_script_send (script, "{\"type\":\"conversation.item."
      "truncated\",\"item_id\":\"item_P\",\"content_index\":0,"
      "\"audio_end_ms\":100}");
  mock_realtime_script_wait (script, "response.create", 1, 100);
  mock_realtime_script_send (script, "{\"type\":\"never.sent\"}");
  mock_realtime_run (mock, 0, script);
  fail_if (mock_realtime_wait_script_done (mock, 0, WAIT_MS));
  fail_unless_equals_int (mock_realtime_n_failures (mock), 1);
  s = mock_realtime_get_failures (mock);
  fail_unless_equals_string (s, "connection 0, step 10 (wait): no "
      "\"response.create\" (1 of them) from the client within 100 ms\n");
  g_free (s);
  fail_unless (mock_client_iterate (&c, mock_client_has_n,
          GUINT_TO_POINTER (10), WAIT_MS));
  mock_client_iterate (&c, mock_client_nothing, NULL, 50);
  fail_unless_equals_int (c.received->len, 10);

  /* the client may truncate what it got of item_P */
  mock_client_send (&c, "{\"type\":\"session.update\",\"session\":"
      "{\"type\":\"realtime\"}}");
  mock_client_send (&c, "{\"type\":\"conversation.item.truncate\","
      "\"item_id\":\"item_P\",\"content_index\":0,\"audio_end_ms\":250}");
  s = mock_realtime_wait_event (mock, 0, "conversation.item.truncate", 0,
      WAIT_MS);
  fail_unless (s != NULL);
  g_free (s);
  fail_unless_equals_int (mock_realtime_n_violations (mock), 0);

  /* a big append: more than libsoup's default 128 KiB frame limit */
  big = g_malloc0 (1024 * 1024);
  b64 = g_base64_encode (big, 1024 * 1024);
  append = g_strdup_printf ("{\"type\":\"input_audio_buffer.append\","
      "\"audio\":\"%s\"}", b64);
  mock_client_send (&c, append);
  fail_unless (mock_realtime_wait_audio_bytes (mock, 0, 1024 * 1024, WAIT_MS));
  fail_unless_equals_int (mock_realtime_get_audio_bytes (mock, 0), 1024 * 1024);
  fail_unless_equals_int (mock_realtime_get_audio_bytes (mock, 1), 0);
  fail_unless_equals_int (mock_realtime_n_violations (mock), 0);
  g_free (append);
  g_free (b64);
  g_free (big);
  mock_client_close (&c);
  g_ptr_array_set_size (c.received, 0);

  /* nothing queued: accepted, silent; run() gives it steps */
  fail_unless (mock_client_connect (&c, mock_realtime_url (mock), NULL));
  fail_unless (mock_realtime_wait_script_done (mock, 1, WAIT_MS));
  script = mock_realtime_script_new ();
  mock_realtime_script_send (script, "{\"type\":\"session.created\","
      "\"session\":{\"type\":\"realtime\",\"id\":\"sess_run\"}}");
  mock_realtime_script_close (script, 4000, "bye");
  mock_realtime_script_send (script, "{\"type\":\"never.sent\"}");
  mock_realtime_run (mock, 1, script);
  fail_unless (mock_client_iterate (&c, mock_client_is_closed, NULL, WAIT_MS));
  fail_unless_equals_int (c.received->len, 1);
  node = received_json (&c, 0);
  fail_unless_equals_string (mock_json_str (node, "session.id"), "sess_run");
  json_node_unref (node);
  fail_unless_equals_int (soup_websocket_connection_get_close_code (c.ws),
      4000);
  fail_unless_equals_string (soup_websocket_connection_get_close_data (c.ws),
      "bye");
  /* the step after the close never ran */
  fail_if (mock_realtime_wait_script_done (mock, 1, WAIT_MS));
  fail_unless_equals_int (mock_realtime_n_failures (mock), 2);
  s = mock_realtime_get_failures (mock);
  fail_unless (strstr (s, "\nconnection 1, step 2 (close): 1 steps after "
          "the close step never run\n") != NULL, "%s", s);
  g_free (s);
  fail_unless (mock_realtime_wait_closed (mock, 1, WAIT_MS));
  mock_client_close (&c);

  /* run() on a closed connection is a failure */
  mock_realtime_run (mock, 1, mock_realtime_script_new ());
  fail_unless_equals_int (mock_realtime_n_failures (mock), 3);
  fail_unless_equals_int (mock_realtime_n_violations (mock), 0);

  mock_client_clear (&c);
  mock_realtime_free (mock);
  g_bytes_unref (tone);
}

GST_END_TEST;

/* The mock goes away while a client is connected and a script waits */
GST_START_TEST (test_free_while_open)
{
  MockRealtime *mock = mock_realtime_new ();
  MockRealtimeScript *script = mock_realtime_script_new ();
  MockClient c;

  mock_realtime_script_send (script, "{\"type\":\"session.created\","
      "\"session\":{\"type\":\"realtime\"}}");
  mock_realtime_script_wait (script, "response.create", 1, 60000);
  mock_realtime_push_script (mock, script);
  /* one left over in the queue */
  script = mock_realtime_script_new ();
  mock_realtime_script_sleep (script, 10);
  mock_realtime_push_script (mock, script);

  mock_client_init (&c);
  fail_unless (mock_client_connect (&c, mock_realtime_url (mock), NULL));
  json_node_unref (client_wait_type (&c, "session.created"));
  mock_realtime_free (mock);
  fail_unless (mock_client_iterate (&c, mock_client_is_closed, NULL, WAIT_MS));
  fail_unless_equals_int (soup_websocket_connection_get_close_code (c.ws),
      1001);
  mock_client_clear (&c);
}

GST_END_TEST;

/* A stall step: the server says nothing more, but keeps the socket open
 * and still records what the client sends; a later step is a failure */
GST_START_TEST (test_stall)
{
  MockRealtime *mock = mock_realtime_new ();
  MockRealtimeScript *script = mock_realtime_script_new ();
  gint64 before = g_get_monotonic_time ();
  gchar *ev;
  MockClient c;

  mock_realtime_script_send (script, "{\"type\":\"session.created\","
      "\"session\":{\"type\":\"realtime\"}}");
  mock_realtime_script_stall (script);
  mock_realtime_push_script (mock, script);
  script = mock_realtime_script_new ();
  mock_realtime_script_stall (script);
  mock_realtime_script_send (script, "{\"type\":\"session.created\","
      "\"session\":{\"type\":\"realtime\"}}");
  mock_realtime_push_script (mock, script);

  mock_client_init (&c);
  fail_unless (mock_client_connect (&c, mock_realtime_url (mock), NULL));
  fail_unless (mock_realtime_get_request_time (mock, 0) >= before);
  fail_unless (mock_realtime_get_request_time (mock, 0) <=
      g_get_monotonic_time ());
  fail_unless_equals_int (mock_realtime_get_request_time (mock, 1), 0);
  json_node_unref (client_wait_type (&c, "session.created"));
  mock_client_send (&c, "{\"type\":\"response.create\"}");
  ev = mock_realtime_wait_event (mock, 0, "response.create", 0, WAIT_MS);
  fail_unless (ev != NULL, "the frame after the stall was not recorded");
  g_free (ev);
  /* nothing more comes, the script never ends, the socket stays open */
  fail_if (mock_realtime_wait_script_done (mock, 0, 300));
  fail_unless_equals_int (c.received->len, 1);
  fail_if (c.closed);
  fail_unless_equals_int (mock_realtime_n_failures (mock), 0);
  mock_client_close (&c);

  /* a step after a stall never runs: a failure */
  fail_unless (mock_client_connect (&c, mock_realtime_url (mock), NULL));
  fail_if (mock_realtime_wait_script_done (mock, 1, WAIT_MS));
  fail_unless_equals_int (mock_realtime_n_failures (mock), 1);
  fail_unless_equals_int (c.received->len, 1);
  mock_client_clear (&c);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* wss:// with a certificate the client is told to accept */
GST_START_TEST (test_tls)
{
  MockRealtime *mock;
  MockRealtimeScript *script;
  JsonNode *node;
  TestCert tc;
  MockClient c;

  test_cert_init (&tc);
  mock = mock_realtime_new_tls (tc.pem);
  fail_unless (g_str_has_prefix (mock_realtime_url (mock), "wss://"));
  script = mock_realtime_script_new ();
  mock_realtime_script_send (script, "{\"type\":\"session.created\","
      "\"session\":{\"type\":\"realtime\",\"id\":\"sess_tls\"}}");
  mock_realtime_script_wait (script, "session.update", 1, WAIT_MS);
  mock_realtime_script_send_session_updated (script);
  mock_realtime_script_drop (script);
  mock_realtime_push_script (mock, script);

  mock_client_init (&c);
  c.accept_any_certificate = TRUE;
  fail_unless (mock_client_connect (&c, mock_realtime_url (mock), NULL), "%s",
      c.error ? c.error->message : "");
  node = client_wait_type (&c, "session.created");
  fail_unless_equals_string (mock_json_str (node, "session.id"), "sess_tls");
  json_node_unref (node);
  mock_client_send (&c, session_update);
  node = client_wait_type (&c, "session.updated");
  fail_unless_equals_string (mock_json_str (node, "session.id"), "sess_tls");
  fail_unless_equals_string (mock_json_str (node, "session.instructions"),
      "Be brief.");
  json_node_unref (node);
  fail_unless (mock_client_iterate (&c, mock_client_is_closed, NULL, WAIT_MS));
  fail_unless (mock_realtime_wait_closed (mock, 0, WAIT_MS));
  fail_unless (mock_realtime_wait_script_done (mock, 0, WAIT_MS));
  assert_clean (mock);
  mock_client_clear (&c);
  mock_realtime_free (mock);
  test_cert_clear (&tc);
}

GST_END_TEST;

static Suite *
mockrealtime_suite (void)
{
  Suite *s = suite_create ("mockrealtime");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_golden);
  tcase_add_test (tc, test_violations);
  tcase_add_test (tc, test_phased_answer);
  tcase_add_test (tc, test_reasoning);
  tcase_add_test (tc, test_reject_reconnect);
  tcase_add_test (tc, test_frames);
  tcase_add_test (tc, test_free_while_open);
  tcase_add_test (tc, test_stall);
  tcase_add_test (tc, test_tls);
  return s;
}

GST_CHECK_MAIN (mockrealtime);
