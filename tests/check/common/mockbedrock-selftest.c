/* gst-bidi: the mock Bedrock server against a client made of the HTTP/2
 * client and the Nova Sonic codec
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

#include "gstbidih2.h"
#include "gstbidisigv4.h"
#include "gstbidieventstream.h"
#include "mockbedrock.h"

/* generous: valgrind is ten times slower */
#define WAIT_MS 20000
#define MODEL_PATH \
  "/model/amazon.nova-2-sonic-v1%3A0/invoke-with-bidirectional-stream"

/* The client events of the protocol notes' golden exchange (§15) */
static const gchar *const golden_setup[] = {
  "{\"event\":{\"sessionStart\":{\"inferenceConfiguration\":{\"maxTokens\":"
      "1024,\"topP\":0.9,\"temperature\":0.7},\"turnDetectionConfiguration\":"
      "{\"endpointingSensitivity\":\"MEDIUM\"}}}}",
  "{\"event\":{\"promptStart\":{\"promptName\":\"p-1\","
      "\"textOutputConfiguration\":{\"mediaType\":\"text/plain\"},"
      "\"audioOutputConfiguration\":{\"mediaType\":\"audio/lpcm\","
      "\"sampleRateHertz\":24000,\"sampleSizeBits\":16,\"channelCount\":1,"
      "\"voiceId\":\"matthew\",\"encoding\":\"base64\",\"audioType\":"
      "\"SPEECH\"},\"toolUseOutputConfiguration\":{\"mediaType\":"
      "\"application/json\"},\"toolConfiguration\":{\"tools\":[{\"toolSpec\":"
      "{\"name\":\"get_weather\",\"description\":\"Current weather for a "
      "city\",\"inputSchema\":{\"json\":\"{\\\"type\\\":\\\"object\\\","
      "\\\"properties\\\":{\\\"city\\\":{\\\"type\\\":\\\"string\\\"}},"
      "\\\"required\\\":[\\\"city\\\"]}\"}}}]}}}}",
  "{\"event\":{\"contentStart\":{\"promptName\":\"p-1\",\"contentName\":"
      "\"c-sys\",\"type\":\"TEXT\",\"role\":\"SYSTEM\",\"interactive\":false,"
      "\"textInputConfiguration\":{\"mediaType\":\"text/plain\"}}}}",
  "{\"event\":{\"textInput\":{\"promptName\":\"p-1\",\"contentName\":"
      "\"c-sys\",\"content\":\"You are a friendly assistant. Keep answers "
      "short.\"}}}",
  "{\"event\":{\"contentEnd\":{\"promptName\":\"p-1\",\"contentName\":"
      "\"c-sys\"}}}",
  "{\"event\":{\"contentStart\":{\"promptName\":\"p-1\",\"contentName\":"
      "\"c-audio\",\"type\":\"AUDIO\",\"interactive\":true,\"role\":\"USER\","
      "\"audioInputConfiguration\":{\"mediaType\":\"audio/lpcm\","
      "\"sampleRateHertz\":16000,\"sampleSizeBits\":16,\"channelCount\":1,"
      "\"audioType\":\"SPEECH\",\"encoding\":\"base64\"}}}}",
  NULL
};

static const gchar *const golden_close[] = {
  "{\"event\":{\"contentEnd\":{\"promptName\":\"p-1\",\"contentName\":"
      "\"c-audio\"}}}",
  "{\"event\":{\"promptEnd\":{\"promptName\":\"p-1\"}}}",
  "{\"event\":{\"sessionEnd\":{}}}",
  NULL
};

/* ------------------------------------------------------------------------
 * The client: GstBidiH2Stream on a context of its own, pumped by the test
 * ------------------------------------------------------------------------ */

typedef struct
{
  GMainContext *ctx;
  GstBidiH2Stream *h2;
  GstBidiSigV4Signer *signer;
  GstBidiEsDecoder *decoder;
  guint status;
  gchar *error_type;
  GString *body;                /* a response that is not an event stream */
  GPtrArray *events;            /* server event JSON */
  gchar *exception;             /* "type: message" */
  GByteArray *audio;            /* audioOutput, decoded */
  gboolean closed;
  gchar *close_error;           /* NULL: closed cleanly */
} Client;

static void
on_response (GstBidiH2Stream * h2, guint status, const gchar * const *headers,
    gpointer user_data)
{
  Client *c = user_data;
  guint i;

  (void) h2;
  c->status = status;
  for (i = 0; headers[i] && headers[i + 1]; i += 2)
    if (strcmp (headers[i], "x-amzn-errortype") == 0)
      c->error_type = g_strdup (headers[i + 1]);
}

/* An audioOutput's audio is kept apart */
static void
take_event (Client * c, const gchar * json)
{
  JsonNode *node = json_from_string (json, NULL);
  JsonObject *ev;

  fail_unless (node && JSON_NODE_HOLDS_OBJECT (node), "not JSON: %s", json);
  ev = json_object_get_object_member (json_node_get_object (node), "event");
  fail_unless (ev != NULL, "no event: %s", json);
  if (json_object_has_member (ev, "audioOutput")) {
    const gchar *b64 = json_object_get_string_member
        (json_object_get_object_member (ev, "audioOutput"), "content");
    gsize n;
    guchar *pcm = g_base64_decode (b64, &n);
    g_byte_array_append (c->audio, pcm, n);
    g_free (pcm);
  }
  g_ptr_array_add (c->events, g_strdup (json));
  json_node_unref (node);
}

static void
on_data (GstBidiH2Stream * h2, const guint8 * data, gsize len,
    gpointer user_data)
{
  Client *c = user_data;
  GstBidiEsMessage *msg;
  GstBidiBedrockChunk chunk;
  GError *err = NULL;

  (void) h2;
  if (c->status != 200) {
    g_string_append_len (c->body, (const gchar *) data, len);
    return;
  }
  fail_unless (gst_bidi_es_decoder_feed (c->decoder, data, len, NULL));
  while ((msg = gst_bidi_es_decoder_next (c->decoder, &err))) {
    fail_unless (gst_bidi_bedrock_chunk_decode (msg, 1 << 20, &chunk, &err),
        "%s", err ? err->message : "");
    if (chunk.kind == GST_BIDI_BEDROCK_CHUNK_EVENT)
      take_event (c, chunk.json);
    else if (chunk.kind == GST_BIDI_BEDROCK_CHUNK_EXCEPTION)
      c->exception = g_strdup_printf ("%s: %s", chunk.name, chunk.message);
    gst_bidi_bedrock_chunk_clear (&chunk);
    gst_bidi_es_message_free (msg);
  }
  fail_unless (err == NULL, "%s", err ? err->message : "");
}

static void
on_closed (GstBidiH2Stream * h2, const GError * error, gpointer user_data)
{
  Client *c = user_data;

  (void) h2;
  c->closed = TRUE;
  c->close_error = error ? g_strdup (error->message) : NULL;
}

static const GstBidiH2Callbacks client_callbacks = {
  .response = on_response,
  .data = on_data,
  .closed = on_closed,
};

/* Opens the stream to @mock, signed with @access_key and @secret_key; with
 * @break_signature, one hex digit of the signature is changed */
static void
client_open (Client * c, MockBedrock * mock, const gchar * access_key,
    const gchar * secret_key, gboolean break_signature, guint keepalive_s)
{
  gchar *url = g_strconcat (mock_bedrock_url (mock), MODEL_PATH, NULL);
  GUri *uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  gchar *authority = gst_bidi_h2_authority (uri);
  gchar *date = gst_bidi_sigv4_format_date (g_get_real_time () / G_USEC_PER_SEC);
  GstBidiSigV4Header signed_headers[] = {
    {":authority", authority},
    {"content-type", "application/vnd.amazon.eventstream"},
    {"x-amz-content-sha256", GST_BIDI_SIGV4_STREAMING_PAYLOAD},
    {"x-amz-date", date},
  };
  GstBidiSigV4Signed *signed_req;
  GstBidiH2Options options = { 0 };
  GError *err = NULL;
  gchar *auth;

  memset (c, 0, sizeof (*c));
  c->ctx = g_main_context_new ();
  c->decoder = gst_bidi_es_decoder_new (0);
  c->body = g_string_new (NULL);
  c->events = g_ptr_array_new_with_free_func (g_free);
  c->audio = g_byte_array_new ();
  c->signer = gst_bidi_sigv4_signer_new (access_key, secret_key, NULL,
      MOCK_BEDROCK_REGION, GST_BIDI_SIGV4_SERVICE_BEDROCK, &err);
  fail_unless (c->signer != NULL);
  signed_req = gst_bidi_sigv4_signer_sign_request (c->signer, "POST",
      MODEL_PATH, signed_headers, G_N_ELEMENTS (signed_headers), NULL, &err);
  fail_unless (signed_req != NULL, "%s", err ? err->message : "");
  auth = g_strdup (signed_req->authorization);
  if (break_signature)
    auth[strlen (auth) - 1] = auth[strlen (auth) - 1] == '0' ? '1' : '0';
  {
    const gchar *headers[] = {
      "content-type", "application/vnd.amazon.eventstream",
      "x-amz-content-sha256", GST_BIDI_SIGV4_STREAMING_PAYLOAD,
      "x-amz-date", date, "authorization", auth, NULL
    };
    options.url = url;
    options.method = "POST";
    options.headers = headers;
    options.ca_database = g_tls_file_database_new (mock_bedrock_ca_file
        (mock), &err);
    fail_unless (options.ca_database != NULL);
    options.ssl_strict = TRUE;
    options.keepalive_s = keepalive_s;
    g_main_context_push_thread_default (c->ctx);
    c->h2 = gst_bidi_h2_stream_open (&options, &client_callbacks, c, &err);
    g_main_context_pop_thread_default (c->ctx);
    fail_unless (c->h2 != NULL, "%s", err ? err->message : "");
    g_object_unref (options.ca_database);
  }
  gst_bidi_sigv4_signed_free (signed_req);
  g_free (auth);
  g_free (date);
  g_free (authority);
  g_uri_unref (uri);
  g_free (url);
}

static void
client_close (Client * c)
{
  g_main_context_push_thread_default (c->ctx);
  gst_bidi_h2_stream_free (c->h2);
  g_main_context_pop_thread_default (c->ctx);
  /* what the free left to do on the context */
  while (g_main_context_iteration (c->ctx, FALSE));
  g_main_context_unref (c->ctx);
  gst_bidi_sigv4_signer_free (c->signer);
  gst_bidi_es_decoder_free (c->decoder);
  g_string_free (c->body, TRUE);
  g_ptr_array_unref (c->events);
  g_byte_array_unref (c->audio);
  g_free (c->error_type);
  g_free (c->exception);
  g_free (c->close_error);
}

typedef gboolean (*Done) (Client * c, MockBedrock * mock, gconstpointer arg);

static gboolean
tick_cb (gpointer data)
{
  (void) data;
  return G_SOURCE_CONTINUE;
}

/* Runs the client's context until @done; FALSE after @timeout_ms */
static gboolean
pump (Client * c, MockBedrock * mock, Done done, gconstpointer arg,
    guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  GSource *tick = g_timeout_source_new (5);
  gboolean ok;

  g_source_set_callback (tick, tick_cb, NULL, NULL);
  g_source_attach (tick, c->ctx);
  g_main_context_push_thread_default (c->ctx);
  while (!(ok = done (c, mock, arg)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (c->ctx, TRUE);
  g_main_context_pop_thread_default (c->ctx);
  g_source_destroy (tick);
  g_source_unref (tick);
  return ok;
}

static void
client_write (Client * c, GBytes * frame)
{
  g_main_context_push_thread_default (c->ctx);
  fail_unless (gst_bidi_h2_stream_write (c->h2, frame));
  g_main_context_pop_thread_default (c->ctx);
  g_bytes_unref (frame);
}

/* @json as a chunk, signed: the frame to write */
static GBytes *
signed_frame (Client * c, const gchar * json)
{
  GBytes *chunk = gst_bidi_bedrock_chunk_encode (json, -1, NULL);
  GBytes *frame = gst_bidi_sigv4_signer_next (c->signer,
      g_get_real_time () / 1000, chunk, NULL);

  fail_unless (frame != NULL);
  g_bytes_unref (chunk);
  return frame;
}

static void
client_send (Client * c, const gchar * json)
{
  client_write (c, signed_frame (c, json));
}

static void
client_send_all (Client * c, const gchar * const *events)
{
  guint i;

  for (i = 0; events[i]; i++)
    client_send (c, events[i]);
}

/* The signed empty frame, then END_STREAM */
static void
client_finish (Client * c)
{
  client_write (c, gst_bidi_sigv4_signer_finish (c->signer,
          g_get_real_time () / 1000, NULL));
  g_main_context_push_thread_default (c->ctx);
  gst_bidi_h2_stream_end (c->h2);
  g_main_context_pop_thread_default (c->ctx);
}

/* An audioInput of @n_bytes of a ramp */
static void
client_send_audio (Client * c, gsize n_bytes, GByteArray * sent)
{
  guint8 *pcm = g_malloc (n_bytes);
  gchar *b64, *json;
  gsize i;

  for (i = 0; i < n_bytes; i++)
    pcm[i] = (guint8) (sent->len + i);
  g_byte_array_append (sent, pcm, n_bytes);
  b64 = g_base64_encode (pcm, n_bytes);
  json = g_strdup_printf ("{\"event\":{\"audioInput\":{\"promptName\":\"p-1\","
      "\"contentName\":\"c-audio\",\"content\":\"%s\"}}}", b64);
  client_send (c, json);
  g_free (json);
  g_free (b64);
  g_free (pcm);
}

/* ------------------------------------------------------------------------
 * Conditions
 * ------------------------------------------------------------------------ */

static gboolean
is_closed (Client * c, MockBedrock * mock, gconstpointer arg)
{
  (void) mock;
  (void) arg;
  return c->closed;
}

static gboolean
has_status (Client * c, MockBedrock * mock, gconstpointer arg)
{
  (void) mock;
  (void) arg;
  return c->status != 0 && (c->status == 200 || c->closed);
}

/* The client received an event holding the text @arg */
static gboolean
got_event (Client * c, MockBedrock * mock, gconstpointer arg)
{
  guint i;

  (void) mock;
  for (i = 0; i < c->events->len; i++)
    if (strstr (g_ptr_array_index (c->events, i), arg))
      return TRUE;
  return FALSE;
}

/* A violation holding the text @arg is recorded */
static gboolean
has_violation (Client * c, MockBedrock * mock, gconstpointer arg)
{
  gchar *v = mock_bedrock_get_violations (mock);
  gboolean found = strstr (v, arg) != NULL;

  (void) c;
  g_free (v);
  return found;
}

/* The mock got @arg ("kind") from connection 0 */
static gboolean
mock_got (Client * c, MockBedrock * mock, gconstpointer arg)
{
  (void) c;
  return mock_bedrock_count_events (mock, 0, arg) > 0;
}

static gboolean
has_audio (Client * c, MockBedrock * mock, gconstpointer arg)
{
  (void) mock;
  return c->audio->len >= GPOINTER_TO_SIZE (arg);
}

static gboolean
mock_saw_end (Client * c, MockBedrock * mock, gconstpointer arg)
{
  (void) c;
  (void) arg;
  return mock_bedrock_client_ended (mock, 0);
}

static void
assert_clean (MockBedrock * mock)
{
  gchar *v = mock_bedrock_get_violations (mock);
  gchar *f = mock_bedrock_get_failures (mock);

  fail_unless_equals_string (v, "");
  fail_unless_equals_string (f, "");
  g_free (v);
  g_free (f);
}

/* A violation holding @what comes */
static void
assert_violation (Client * c, MockBedrock * mock, const gchar * what)
{
  gchar *v;

  if (pump (c, mock, has_violation, what, WAIT_MS))
    return;
  v = mock_bedrock_get_violations (mock);
  fail ("no violation holding %s in: %s", what, v);
  g_free (v);
}

static GBytes *
make_pcm (gsize n_bytes)
{
  guint8 *pcm = g_malloc (n_bytes);
  gsize i;

  for (i = 0; i < n_bytes; i++)
    pcm[i] = (guint8) (i * 7);
  return g_bytes_new_take (pcm, n_bytes);
}

/* A client through the golden setup on the default credentials */
static void
open_setup (Client * c, MockBedrock * mock)
{
  client_open (c, mock, MOCK_BEDROCK_ACCESS_KEY, MOCK_BEDROCK_SECRET_KEY,
      FALSE, 0);
  client_send_all (c, golden_setup);
}

/* ------------------------------------------------------------------------
 * Checks
 * ------------------------------------------------------------------------ */

typedef struct
{
  guint n;
  gsize bytes;
} AudioSent;

static void
audio_sent_cb (guint conn, gconstpointer pcm, gsize size, gint64 sent_us,
    gpointer user_data)
{
  AudioSent *sent = user_data;

  (void) conn;
  (void) pcm;
  fail_unless (sent_us > 0);
  g_atomic_int_inc (&sent->n);
  sent->bytes += size;
}

GST_START_TEST (test_golden)
{
  MockBedrock *mock = mock_bedrock_new ();
  MockBedrockScript *script = mock_bedrock_script_new ();
  GBytes *pcm = make_pcm (24000 * 2 * 35 / 100), *heard;
  GByteArray *sent = g_byte_array_new ();
  AudioSent hook = { 0 };
  Client c;
  gchar *s, *last;
  JsonNode *node;
  JsonObject *usage;
  guint i;

  mock_bedrock_set_audio_sent_func (mock, audio_sent_cb, &hook);
  mock_bedrock_script_add_golden (script, g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm));
  mock_bedrock_push_script (mock, script);
  open_setup (&c, mock);
  for (i = 0; i < 3; i++)
    client_send_audio (&c, 640, sent);

  /* the answer, its audio, the usage with the output figures */
  fail_unless (pump (&c, mock, got_event, "\"totalOutputTokens\":102",
          WAIT_MS), "no second usage event");
  fail_unless_equals_int (c.status, 200);
  fail_unless (got_event (&c, mock, MOCK_BEDROCK_GOLDEN_USER_TRANSCRIPT));
  fail_unless (got_event (&c, mock, "completionStart"));
  fail_unless (got_event (&c, mock, "\"sessionId\":\"mock-session-0\""));
  fail_unless (got_event (&c, mock, "\"promptName\":\"p-1\""));
  fail_unless (got_event (&c, mock, "SPECULATIVE"));
  fail_unless_equals_int (c.audio->len, g_bytes_get_size (pcm));
  fail_unless (memcmp (c.audio->data, g_bytes_get_data (pcm, NULL),
          c.audio->len) == 0);
  /* 350 ms in 100 ms chunks */
  fail_unless_equals_int (hook.n, 4);
  fail_unless_equals_int (hook.bytes, g_bytes_get_size (pcm));
  last = g_ptr_array_index (c.events, c.events->len - 1);
  node = json_from_string (last, NULL);
  usage = json_object_get_object_member (json_object_get_object_member
      (json_node_get_object (node), "event"), "usageEvent");
  fail_unless_equals_int (json_object_get_int_member (usage, "totalTokens"),
      150 + 22 + 90 + 12);
  fail_unless_equals_int (json_object_get_int_member (json_object_get_object_member (json_object_get_object_member (json_object_get_object_member (usage, "details"), "total"), "input"), "speechTokens"), 150);
  json_node_unref (node);

  client_send_all (&c, golden_close);
  client_finish (&c);
  fail_unless (pump (&c, mock, mock_saw_end, NULL, WAIT_MS));
  fail_unless (mock_bedrock_wait_script_done (mock, 0, WAIT_MS));
  assert_clean (mock);

  /* what the mock recorded */
  fail_unless_equals_int (mock_bedrock_n_connections (mock), 1);
  fail_unless_equals_int (mock_bedrock_get_status (mock, 0), 200);
  s = mock_bedrock_get_path (mock, 0);
  fail_unless_equals_string (s, MODEL_PATH);
  g_free (s);
  s = mock_bedrock_get_header (mock, 0, "x-amz-content-sha256");
  fail_unless_equals_string (s, GST_BIDI_SIGV4_STREAMING_PAYLOAD);
  g_free (s);
  fail_unless_equals_int (mock_bedrock_n_events (mock, 0), 6 + 3 + 3);
  s = mock_bedrock_get_event (mock, 0, 0);
  fail_unless (strstr (s, "sessionStart") != NULL);
  g_free (s);
  fail_unless_equals_int (mock_bedrock_count_events (mock, 0,
          "contentStart.AUDIO"), 1);
  fail_unless_equals_int (mock_bedrock_count_events (mock,
          MOCK_BEDROCK_ANY_CONNECTION, "audioInput"), 3);
  s = mock_bedrock_wait_event (mock, 0, "contentEnd", 1, WAIT_MS);
  fail_unless (s && strstr (s, "c-audio") != NULL);
  g_free (s);
  fail_unless (mock_bedrock_wait_event (mock, 0, "promptStart", 1, 0) ==
      NULL);
  heard = mock_bedrock_get_audio (mock, 0);
  fail_unless_equals_int (g_bytes_get_size (heard), sent->len);
  fail_unless (memcmp (g_bytes_get_data (heard, NULL), sent->data,
          sent->len) == 0);
  fail_unless_equals_int (mock_bedrock_get_audio_bytes (mock, 0), 3 * 640);

  client_close (&c);
  fail_unless (mock_bedrock_wait_closed (mock, 0, WAIT_MS));
  g_bytes_unref (heard);
  g_byte_array_unref (sent);
  g_bytes_unref (pcm);
  mock_bedrock_free (mock);
}

GST_END_TEST;

/* A refused request: @status with @type, and the message holding @text,
 * before the client sent a single frame */
static void
check_refused (Client * c, MockBedrock * mock, guint status,
    const gchar * type, const gchar * text)
{
  fail_unless (pump (c, mock, has_status, NULL, WAIT_MS));
  fail_unless (pump (c, mock, is_closed, NULL, WAIT_MS));
  fail_unless_equals_int (c->status, status);
  fail_unless_equals_string (c->error_type, type);
  fail_unless (strstr (c->body->str, text) != NULL, "body: %s",
      c->body->str);
  fail_unless (g_str_has_prefix (c->body->str, "{\"message\":"));
  fail_unless_equals_int (c->events->len, 0);
  fail_unless_equals_int (mock_bedrock_get_status (mock, 0), status);
  fail_unless_equals_int (mock_bedrock_n_events (mock, 0), 0);
}

GST_START_TEST (test_bad_signature)
{
  MockBedrock *mock = mock_bedrock_new ();
  MockBedrockScript *script = mock_bedrock_script_new ();
  Client c;

  /* its script does not run */
  mock_bedrock_script_send (script, "{\"event\":{\"completionStart\":{}}}");
  mock_bedrock_push_script (mock, script);
  client_open (&c, mock, MOCK_BEDROCK_ACCESS_KEY, MOCK_BEDROCK_SECRET_KEY,
      TRUE, 0);
  check_refused (&c, mock, 403, "InvalidSignatureException",
      "The request signature we calculated does not match");
  client_close (&c);

  /* the next connection takes the default script: no leftover */
  client_open (&c, mock, MOCK_BEDROCK_ACCESS_KEY, "another-secret", FALSE, 0);
  fail_unless (pump (&c, mock, has_status, NULL, WAIT_MS));
  fail_unless_equals_int (c.status, 403);
  client_close (&c);
  assert_clean (mock);
  mock_bedrock_free (mock);
}

GST_END_TEST;

GST_START_TEST (test_bad_key_id)
{
  MockBedrock *mock = mock_bedrock_new ();
  Client c;

  client_open (&c, mock, "AKIDNOTTHEMOCKS", MOCK_BEDROCK_SECRET_KEY, FALSE,
      0);
  check_refused (&c, mock, 403, "UnrecognizedClientException",
      "The security token included in the request is invalid.");
  client_close (&c);

  /* the mock's own credentials */
  mock_bedrock_set_credentials (mock, "AKIDOTHER", "other-secret", NULL,
      MOCK_BEDROCK_REGION);
  client_open (&c, mock, "AKIDOTHER", "other-secret", FALSE, 0);
  client_send_all (&c, golden_setup);
  fail_unless (pump (&c, mock, has_status, NULL, WAIT_MS));
  fail_unless_equals_int (c.status, 200);
  client_close (&c);
  assert_clean (mock);
  mock_bedrock_free (mock);
}

GST_END_TEST;

GST_START_TEST (test_reject)
{
  MockBedrock *mock = mock_bedrock_new ();
  Client c;

  mock_bedrock_push_reject (mock, 429, "ThrottlingException",
      "Too many requests, please wait before trying again.");
  client_open (&c, mock, MOCK_BEDROCK_ACCESS_KEY, MOCK_BEDROCK_SECRET_KEY,
      FALSE, 0);
  check_refused (&c, mock, 429, "ThrottlingException", "Too many requests");
  client_close (&c);
  assert_clean (mock);
  mock_bedrock_free (mock);
}

GST_END_TEST;

/* The payload of a signed frame replaced: its signature no longer holds */
GST_START_TEST (test_bad_event_signature)
{
  MockBedrock *mock = mock_bedrock_new ();
  GstBidiEsMessage *msg;
  GBytes *frame, *other, *forged;
  Client c;

  open_setup (&c, mock);
  frame = signed_frame (&c, "{\"event\":{\"audioInput\":{\"promptName\":"
      "\"p-1\",\"contentName\":\"c-audio\",\"content\":\"AAAAAA==\"}}}");
  msg = gst_bidi_es_message_decode (g_bytes_get_data (frame, NULL),
      g_bytes_get_size (frame), 0, NULL);
  other = gst_bidi_bedrock_chunk_encode ("{\"event\":{\"audioInput\":{"
      "\"promptName\":\"p-1\",\"contentName\":\"c-audio\",\"content\":"
      "\"AQIDBA==\"}}}", -1, NULL);
  gst_bidi_es_message_set_payload (msg, other);
  forged = gst_bidi_es_message_encode (msg, NULL);
  client_write (&c, forged);
  assert_violation (&c, mock, ":chunk-signature does not chain");
  fail_unless_equals_int (mock_bedrock_n_violations (mock), 1);
  gst_bidi_es_message_free (msg);
  g_bytes_unref (other);
  g_bytes_unref (frame);
  client_close (&c);
  mock_bedrock_free (mock);
}

GST_END_TEST;

GST_START_TEST (test_bad_crc)
{
  MockBedrock *mock = mock_bedrock_new ();
  GBytes *frame;
  guint8 *data;
  gsize size;
  Client c;

  open_setup (&c, mock);
  frame = signed_frame (&c, golden_close[0]);
  data = g_bytes_unref_to_data (frame, &size);
  data[size - 1] ^= 0x5a;
  client_write (&c, g_bytes_new_take (data, size));
  assert_violation (&c, mock, "not an event stream");
  client_close (&c);
  mock_bedrock_free (mock);
}

GST_END_TEST;

/* Sends @events after @setup events of the golden setup, and expects a
 * violation holding @what */
static void
check_order_violation (guint setup, const gchar * const *events,
    const gchar * what)
{
  MockBedrock *mock = mock_bedrock_new ();
  Client c;
  guint i;

  client_open (&c, mock, MOCK_BEDROCK_ACCESS_KEY, MOCK_BEDROCK_SECRET_KEY,
      FALSE, 0);
  for (i = 0; i < setup; i++)
    client_send (&c, golden_setup[i]);
  client_send_all (&c, events);
  assert_violation (&c, mock, what);
  client_close (&c);
  mock_bedrock_free (mock);
}

GST_START_TEST (test_out_of_order)
{
  const gchar *const prompt_first[] = { golden_setup[1], golden_setup[0],
    NULL
  };
  const gchar *const audio_before_system[] = { golden_setup[5], NULL };

  check_order_violation (0, prompt_first, "before sessionStart");
  check_order_violation (2, audio_before_system,
      "a block before the SYSTEM block");
  check_order_violation (6, golden_close + 1,
      "the AUDIO block \"c-audio\" is still open");
}

GST_END_TEST;

GST_START_TEST (test_connection_end)
{
  const gchar *const events[] = { golden_close[0], golden_close[1],
    "{\"event\":{\"connectionEnd\":{}}}", NULL
  };

  check_order_violation (6, events, "connectionEnd is not a Nova input event");
}

GST_END_TEST;

GST_START_TEST (test_second_system)
{
  const gchar *const events[] = {
    "{\"event\":{\"contentStart\":{\"promptName\":\"p-1\",\"contentName\":"
        "\"c-sys-2\",\"type\":\"TEXT\",\"role\":\"SYSTEM\",\"interactive\":"
        "false,\"textInputConfiguration\":{\"mediaType\":\"text/plain\"}}}}",
    NULL
  };

  check_order_violation (5, events, "a second SYSTEM block");
}

GST_END_TEST;

static const gchar tool_result_fmt[] =
    "{\"event\":{\"contentStart\":{\"promptName\":\"p-1\",\"contentName\":"
    "\"%s\",\"interactive\":false,\"type\":\"TOOL\",\"role\":\"TOOL\","
    "\"toolResultInputConfiguration\":{\"toolUseId\":\"%s\",\"type\":"
    "\"TEXT\",\"textInputConfiguration\":{\"mediaType\":\"text/plain\"}}}}}\n"
    "{\"event\":{\"toolResult\":{\"promptName\":\"p-1\",\"contentName\":"
    "\"%s\",\"content\":\"{\\\"temp_c\\\":18}\"}}}\n"
    "{\"event\":{\"contentEnd\":{\"promptName\":\"p-1\",\"contentName\":"
    "\"%s\"}}}";

/* The three events of a tool result in block @name for @id */
static void
send_tool_result (Client * c, const gchar * name, const gchar * id)
{
  gchar *text = g_strdup_printf (tool_result_fmt, name, id, name, name);
  gchar **events = g_strsplit (text, "\n", -1);

  client_send_all (c, (const gchar * const *) events);
  g_strfreev (events);
  g_free (text);
}

GST_START_TEST (test_tool_result)
{
  MockBedrock *mock = mock_bedrock_new ();
  MockBedrockScript *script = mock_bedrock_script_new ();
  Client c;

  mock_bedrock_script_wait (script, "contentStart.AUDIO", 1, WAIT_MS);
  mock_bedrock_script_tool_use (script, "tu-77", "get_weather",
      "{\"city\":\"Paris\"}");
  mock_bedrock_script_wait (script, "toolResult", 1, WAIT_MS);
  mock_bedrock_push_script (mock, script);
  open_setup (&c, mock);
  fail_unless (pump (&c, mock, got_event, "\"stopReason\":\"TOOL_USE\"",
          WAIT_MS));
  fail_unless (got_event (&c, mock, "\"toolUseId\":\"tu-77\""));
  send_tool_result (&c, "c-tool-1", "tu-77");
  fail_unless (pump (&c, mock, mock_got, "contentStart.TOOL", WAIT_MS));
  fail_unless (mock_bedrock_wait_script_done (mock, 0, WAIT_MS));
  assert_clean (mock);

  /* answered twice, then an id the mock never sent */
  send_tool_result (&c, "c-tool-2", "tu-77");
  assert_violation (&c, mock, "toolUseId \"tu-77\" was answered before");
  send_tool_result (&c, "c-tool-3", "tu-unknown");
  fail_unless (pump (&c, mock, mock_got, "toolResult", WAIT_MS));
  assert_violation (&c, mock, "toolUseId \"tu-unknown\" is not a toolUse");
  client_close (&c);
  mock_bedrock_free (mock);
}

GST_END_TEST;

GST_START_TEST (test_audio_outside)
{
  const gchar *const events[] = {
    "{\"event\":{\"audioInput\":{\"promptName\":\"p-1\",\"contentName\":"
        "\"c-sys\",\"content\":\"AAAA\"}}}",
    NULL
  };

  /* after the system prompt, before the AUDIO block */
  check_order_violation (5, events, "\"c-sys\" is not an open block");
}

GST_END_TEST;

/* What the client sees of each step kind */
static Client *
run_steps (MockBedrock * mock, MockBedrockScript * script, Client * c,
    guint keepalive_s)
{
  mock_bedrock_push_script (mock, script);
  client_open (c, mock, MOCK_BEDROCK_ACCESS_KEY, MOCK_BEDROCK_SECRET_KEY,
      FALSE, keepalive_s);
  client_send_all (c, golden_setup);
  return c;
}

GST_START_TEST (test_step_exception)
{
  MockBedrock *mock = mock_bedrock_new ();
  MockBedrockScript *script = mock_bedrock_script_new ();
  Client c;

  mock_bedrock_script_user_text (script, "hello");
  mock_bedrock_script_exception (script, "validationException",
      "InternalErrorCode=531");
  run_steps (mock, script, &c, 0);
  fail_unless (pump (&c, mock, is_closed, NULL, WAIT_MS));
  fail_unless (c.close_error == NULL, "%s", c.close_error);
  fail_unless_equals_string (c.exception,
      "validationException: InternalErrorCode=531");
  fail_unless (got_event (&c, mock, "\"content\":\"hello\""));
  fail_unless (mock_bedrock_wait_script_done (mock, 0, WAIT_MS));
  assert_clean (mock);
  client_close (&c);
  mock_bedrock_free (mock);
}

GST_END_TEST;

/* A script of @last_step after one event: the client's stream closes with
 * an error (or cleanly for end) once the event came */
static void
check_last_step (void (*last_step) (MockBedrockScript *), gboolean clean,
    guint keepalive_s)
{
  MockBedrock *mock = mock_bedrock_new ();
  MockBedrockScript *script = mock_bedrock_script_new ();
  GByteArray *sent = g_byte_array_new ();
  Client c;

  /* reset, drop and stall cut what is still queued: the client answers
   * the event first */
  mock_bedrock_script_interrupted (script);
  mock_bedrock_script_wait (script, "audioInput", 1, WAIT_MS);
  last_step (script);
  run_steps (mock, script, &c, keepalive_s);
  fail_unless (pump (&c, mock, got_event, "\"stopReason\":\"INTERRUPTED\"",
          WAIT_MS));
  fail_unless (got_event (&c, mock, "{ \\\"interrupted\\\" : true }"));
  client_send_audio (&c, 320, sent);
  fail_unless (pump (&c, mock, is_closed, NULL, WAIT_MS));
  g_byte_array_unref (sent);
  if (clean)
    fail_unless (c.close_error == NULL, "%s", c.close_error);
  else
    fail_unless (c.close_error != NULL);
  fail_unless (mock_bedrock_wait_script_done (mock, 0, WAIT_MS));
  assert_clean (mock);
  client_close (&c);
  /* a stalled stream reads nothing: it is over when the mock is freed */
  if (last_step != mock_bedrock_script_stall)
    fail_unless (mock_bedrock_wait_closed (mock, 0, WAIT_MS));
  else
    fail_if (mock_bedrock_wait_closed (mock, 0, 300));
  mock_bedrock_free (mock);
}

/* end, reset, drop, stall: a stalled server answers no PING, the
 * client's keepalive gives up */
GST_START_TEST (test_last_steps)
{
  check_last_step (mock_bedrock_script_end, TRUE, 0);
  check_last_step (mock_bedrock_script_reset, FALSE, 0);
  check_last_step (mock_bedrock_script_drop, FALSE, 0);
  check_last_step (mock_bedrock_script_stall, FALSE, 1);
}

GST_END_TEST;

/* raw bytes, sleep (a lower bound), paced audio, cumulative usage, and
 * steps added with mock_bedrock_run () */
GST_START_TEST (test_steps_more)
{
  MockBedrock *mock = mock_bedrock_new ();
  MockBedrockScript *script = mock_bedrock_script_new ();
  GBytes *pcm = make_pcm (24000 * 2 * 3 / 10);
  GBytes *raw = gst_bidi_bedrock_chunk_encode ("{\"event\":{\"raw\":{}}}",
      -1, NULL);
  gint64 start;
  gchar *f;
  Client c;

  mock_bedrock_script_send_raw (script, g_bytes_get_data (raw, NULL),
      g_bytes_get_size (raw));
  mock_bedrock_script_usage (script, 10, 1, 0, 0);
  mock_bedrock_script_sleep (script, 300);
  mock_bedrock_script_usage (script, 5, 2, 7, 3);
  mock_bedrock_script_say (script, "paced", g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm), 100, TRUE, FALSE);
  run_steps (mock, script, &c, 0);
  fail_unless (pump (&c, mock, got_event, "\"raw\"", WAIT_MS));
  start = g_get_monotonic_time ();
  fail_unless (pump (&c, mock, got_event, "\"totalTokens\":28", WAIT_MS));
  fail_unless (g_get_monotonic_time () - start >= 250 * 1000);
  fail_unless (got_event (&c, mock, "\"totalInputTokens\":18"));
  /* three chunks 100 ms apart: the last 200 ms after the first */
  start = g_get_monotonic_time ();
  fail_unless (pump (&c, mock, has_audio, GSIZE_TO_POINTER
          (g_bytes_get_size (pcm)), WAIT_MS));
  fail_unless (g_get_monotonic_time () - start >= 150 * 1000);
  fail_unless_equals_int (c.audio->len, g_bytes_get_size (pcm));
  fail_unless (mock_bedrock_wait_script_done (mock, 0, WAIT_MS));

  /* more steps on the open connection */
  script = mock_bedrock_script_new ();
  mock_bedrock_script_send_printf (script,
      "{\"event\":{\"completionEnd\":{\"stopReason\":\"%s\"}}}", "END_TURN");
  mock_bedrock_script_end (script);
  mock_bedrock_run (mock, 0, script);
  fail_unless (pump (&c, mock, is_closed, NULL, WAIT_MS));
  fail_unless (got_event (&c, mock, "completionEnd"));
  fail_unless (mock_bedrock_wait_script_done (mock, 0, WAIT_MS));
  assert_clean (mock);

  /* on a closed stream: a failure */
  client_close (&c);
  fail_unless (mock_bedrock_wait_closed (mock, 0, WAIT_MS));
  mock_bedrock_run (mock, 0, mock_bedrock_script_new ());
  f = mock_bedrock_get_failures (mock);
  fail_unless (strstr (f, "not open") != NULL, "%s", f);
  g_free (f);
  g_bytes_unref (raw);
  g_bytes_unref (pcm);
  mock_bedrock_free (mock);
}

GST_END_TEST;

/* A wait that times out is a failure; keep-audio FALSE counts the audio
 * without keeping it or its events */
GST_START_TEST (test_wait_failure_keep_audio)
{
  MockBedrock *mock = mock_bedrock_new ();
  MockBedrockScript *script = mock_bedrock_script_new ();
  GByteArray *sent = g_byte_array_new ();
  GBytes *kept;
  gchar *f, *ev;
  Client c;

  mock_bedrock_set_keep_audio (mock, FALSE);
  mock_bedrock_script_wait (script, "toolResult", 1, 200);
  mock_bedrock_script_user_text (script, "never sent");
  run_steps (mock, script, &c, 0);
  client_send_audio (&c, 320, sent);
  fail_unless (pump (&c, mock, mock_got, "contentStart.AUDIO", WAIT_MS));
  fail_unless (!mock_bedrock_wait_script_done (mock, 0, WAIT_MS));
  f = mock_bedrock_get_failures (mock);
  fail_unless (strstr (f, "no \"toolResult\"") != NULL, "%s", f);
  g_free (f);
  fail_unless (mock_bedrock_wait_audio_bytes (mock, 0, 320, WAIT_MS));
  kept = mock_bedrock_get_audio (mock, 0);
  fail_unless_equals_int (g_bytes_get_size (kept), 0);
  fail_unless_equals_int (mock_bedrock_count_events (mock, 0, "audioInput"),
      0);
  ev = mock_bedrock_get_event (mock, 0, 5);
  fail_unless (ev && strstr (ev, "contentStart") != NULL);
  g_free (ev);
  fail_unless (!got_event (&c, mock, "never sent"));
  g_bytes_unref (kept);
  g_byte_array_unref (sent);
  client_close (&c);
  mock_bedrock_free (mock);
}

GST_END_TEST;

static Suite *
mock_bedrock_suite (void)
{
  Suite *s = suite_create ("mockbedrock");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_golden);
  tcase_add_test (tc, test_bad_signature);
  tcase_add_test (tc, test_bad_key_id);
  tcase_add_test (tc, test_reject);
  tcase_add_test (tc, test_bad_event_signature);
  tcase_add_test (tc, test_bad_crc);
  tcase_add_test (tc, test_out_of_order);
  tcase_add_test (tc, test_connection_end);
  tcase_add_test (tc, test_second_system);
  tcase_add_test (tc, test_tool_result);
  tcase_add_test (tc, test_audio_outside);
  tcase_add_test (tc, test_step_exception);
  tcase_add_test (tc, test_last_steps);
  tcase_add_test (tc, test_steps_more);
  tcase_add_test (tc, test_wait_failure_keep_audio);
  return s;
}

GST_CHECK_MAIN (mock_bedrock);
