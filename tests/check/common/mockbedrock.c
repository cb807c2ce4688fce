/* gst-bidi: a mock Amazon Bedrock server for the Nova Sonic provider's
 * tests: InvokeModelWithBidirectionalStream over HTTP/2 and TLS
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* What the WebSocket mocks share is used as it is: the scripts, the
 * records of connections, events and audio with their queries
 * (mockwscore.h: its records alone, without its SoupServer), and the JSON
 * checks (mockws.h). This file adds the wire (HTTP/2 streams of mockh2.c,
 * their body a chain of signed event-stream frames), SigV4, the Nova
 * order, and its own runner of the script steps on that wire. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#define MOCK_WS_SHORTHANDS
#include "mockws.h"
#include "mockwscore.h"
#include "mockbedrock.h"
#include "mockh2.h"
#include "testcert.h"
#include "gstbidisigv4.h"
#include "gstbidieventstream.h"

#define EVENTSTREAM_TYPE "application/vnd.amazon.eventstream"
#define REQUEST_PATH_END "/invoke-with-bidirectional-stream"
/* the rates of §1: what the mock expects and what it speaks */
#define INPUT_RATE 16000
#define OUTPUT_RATE 24000
/* the largest Nova event JSON taken from a client */
#define MAX_EVENT_JSON (4 * 1024 * 1024)
/* RST_STREAM INTERNAL_ERROR (RFC 9113) */
#define H2_INTERNAL_ERROR 2
/* the default script's wait for the system prompt: long, since a client
 * that does not send one within it is broken anyway */
#define DEFAULT_SETUP_WAIT_MS (3 * MOCK_BEDROCK_GOLDEN_TIMEOUT_MS)

#define SIGNATURE_MISMATCH_TYPE "InvalidSignatureException"
#define SIGNATURE_MISMATCH_MESSAGE "The request signature we calculated " \
  "does not match the signature you provided. Check your AWS Secret Access " \
  "Key and signing method. Consult the service documentation for details."
#define BAD_TOKEN_TYPE "UnrecognizedClientException"
#define BAD_TOKEN_MESSAGE \
  "The security token included in the request is invalid."

/* ------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------ */

/* Scripts are the WebSocket mocks' (mockwscore.h): send, raw, wait,
 * sleep, audio, drop and stall steps as they are, the rest custom steps
 * of these kinds (in n) */
typedef MockWsStep Step;
#define CORE(script) ((MockWsScript *) (script))

enum
{
  CUSTOM_EXCEPTION,             /* text: type, extra: message */
  CUSTOM_USAGE,                 /* extra: the four deltas */
  CUSTOM_RESPOND,               /* the 200 headers alone */
  CUSTOM_END,
  CUSTOM_RESET,
  CUSTOM_ERROR_TYPE             /* text: a rejection's x-amzn-errortype */
};

static const gchar *const custom_names[] = {
  "exception", "usage", "respond", "end", "reset", "error type"
};

/* A content block the client opened */
typedef struct
{
  gchar *type;                  /* TEXT, AUDIO, TOOL (or NULL when bad) */
  gchar *role;
  gboolean open;
} Block;

/* A connection: the core's record (its script fields are used as the core
 * uses them), then the wire and the protocol (the mock thread only, but
 * for request, set before the connection is added) */
typedef struct
{
  MockWsConn ws;
  gchar **request;              /* header names and values, as received */
  gboolean client_ended;        /* under the lock */

  MockH2Stream *stream;         /* NULL once closed */
  gboolean rejected;            /* the body is not read */
  gboolean responded;
  gboolean halted;              /* a last step ran: nothing is sent */
  gboolean running;             /* inside run_step () */
  GstBidiSigV4Signer *signer;
  gboolean chain_broken;
  GstBidiEsDecoder *decoder;
  guint n_frames;
  gboolean end_frame;           /* the signed empty frame came */
  gboolean after_end_told;
  /* the Nova order */
  guint n_events;
  gboolean session_started, session_ended;
  gchar *prompt_name;
  gboolean prompt_ended;
  gint system_block;            /* 0 not yet, 1 open, 2 done */
  gboolean live;                /* past the history */
  guint n_history;
  GHashTable *blocks;           /* contentName -> Block */
  gchar *audio_block;           /* the open AUDIO block's contentName */
  GHashTable *tools_sent;       /* toolUseId set */
  GHashTable *tools_answered;
  gchar *session_id;
  gchar *completion_id;
  guint64 totals[4];
} Conn;

#define CONN(c) ((Conn *) (c))
#define MOCK(conn) ((MockBedrock *) (conn)->ws.server)

/* What requests are signed with: the key id, the secret, the session
 * token (nullable) and the region */
enum
{
  CRED_KEY_ID,
  CRED_SECRET,
  CRED_TOKEN,
  CRED_REGION,
  N_CRED
};

typedef struct
{
  gchar *v[N_CRED];
} Credentials;

/* @c takes copies of @values (its old ones freed) */
static void
credentials_set (Credentials * c, const gchar * const values[N_CRED])
{
  guint i;

  for (i = 0; i < N_CRED; i++) {
    gchar *old = c->v[i];
    c->v[i] = g_strdup (values[i]);
    g_free (old);
  }
}

static void
credentials_clear (Credentials * c)
{
  const gchar *const none[N_CRED] = { NULL };

  credentials_set (c, none);
}

/* The core first: a connection's server is the mock */
struct _MockBedrock
{
  MockWsServer core;
  TestCert cert;
  MockH2 *h2;
  gboolean shut;                /* under the lock: shut_down_cb () ran */
  Credentials cred;             /* under the lock */
};

static void conn_next (Conn * conn);

/* ------------------------------------------------------------------------
 * Scripts
 * ------------------------------------------------------------------------ */

static Step *
add_custom (MockBedrockScript * script, guint custom, const gchar * text)
{
  Step *s = mock_ws_script_add (CORE (script), MOCK_WS_STEP_CUSTOM, text);

  s->n = custom;
  s->name = custom_names[custom];
  return s;
}

MockBedrockScript *
mock_bedrock_script_new (void)
{
  return (MockBedrockScript *) mock_ws_script_new ();
}

void
mock_bedrock_script_free (MockBedrockScript * script)
{
  mock_ws_script_free (CORE (script));
}

/* @json parsed when it is a JSON object, else a critical warning */
static JsonNode *
parse_test_object (const gchar * api, const gchar * json)
{
  JsonNode *node = json ? json_from_string (json, NULL) : NULL;

  if (node && JSON_NODE_HOLDS_OBJECT (node))
    return node;
  g_critical ("%s: not a JSON object: %s", api, json ? json : "(null)");
  if (node)
    json_node_unref (node);
  return NULL;
}

void
mock_bedrock_script_send (MockBedrockScript * script, const gchar * json)
{
  JsonNode *node = parse_test_object ("mock_bedrock_script_send", json);

  if (!node)
    return;
  json_node_unref (node);
  mock_ws_script_add (CORE (script), MOCK_WS_STEP_SEND, json);
}

void
mock_bedrock_script_send_printf (MockBedrockScript * script,
    const gchar * format, ...)
{
  va_list args;
  GString *json = g_string_new (NULL);

  va_start (args, format);
  g_string_append_vprintf (json, format, args);
  va_end (args);
  mock_bedrock_script_send (script, json->str);
  g_string_free (json, TRUE);
}

void
mock_bedrock_script_send_raw (MockBedrockScript * script,
    gconstpointer data, gsize size)
{
  mock_ws_script_add (CORE (script), MOCK_WS_STEP_RAW, NULL)->data =
      g_bytes_new (data, size);
}

void
mock_bedrock_script_exception (MockBedrockScript * script,
    const gchar * type, const gchar * message)
{
  Step *s = add_custom (script, CUSTOM_EXCEPTION, type);

  s->extra = g_strdup (message);
  s->extra_free = g_free;
}

void
mock_bedrock_script_wait (MockBedrockScript * script, const gchar * kind,
    guint count, guint timeout_ms)
{
  mock_ws_script_wait (CORE (script), kind, count, timeout_ms);
}

void
mock_bedrock_script_sleep (MockBedrockScript * script, guint ms)
{
  mock_ws_script_sleep (CORE (script), ms);
}

/* Each content block the mock sends has an id of its own, over all
 * connections (a script may be run on any of them) */
static gchar *
new_content_id (void)
{
  static gint counter;

  return g_strdup_printf ("mock-content-%d", g_atomic_int_add (&counter, 1));
}

/* Queues the event {"event": {@name: @body}} (@body taken) */
static void
add_event (MockBedrockScript * script, const gchar * name, JsonObject * body)
{
  JsonObject *inner = json_object_new (), *top = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_object_member (inner, name, body);
  json_object_set_object_member (top, "event", inner);
  json_node_take_object (node, top);
  gchar *json = json_to_string (node, FALSE);

  mock_ws_script_add (CORE (script), MOCK_WS_STEP_SEND, json);
  g_free (json);
  json_node_unref (node);
}

/* A body with "contentId" and, when not NULL, "type" and "role" */
static JsonObject *
block_body (const gchar * id, const gchar * type, const gchar * role)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "contentId", id);
  if (type)
    json_object_set_string_member (o, "type", type);
  if (role)
    json_object_set_string_member (o, "role", role);
  return o;
}

static JsonObject *
media_type (const gchar * type)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "mediaType", type);
  return o;
}

static void
add_content_end (MockBedrockScript * script, const gchar * id,
    const gchar * type, const gchar * stop_reason)
{
  JsonObject *o = block_body (id, type, NULL);

  json_object_set_string_member (o, "stopReason", stop_reason);
  add_event (script, "contentEnd", o);
}

/* A TEXT block of @role at @stage holding @text */
static void
add_text_block (MockBedrockScript * script, const gchar * role,
    const gchar * stage, const gchar * text, const gchar * stop_reason)
{
  gchar *id = new_content_id ();
  gchar *fields = g_strdup_printf ("{\"generationStage\":\"%s\"}", stage);
  JsonObject *o = block_body (id, "TEXT", role);

  json_object_set_string_member (o, "additionalModelFields", fields);
  json_object_set_object_member (o, "textOutputConfiguration",
      media_type ("text/plain"));
  add_event (script, "contentStart", o);
  o = block_body (id, NULL, role);
  json_object_set_string_member (o, "content", text);
  add_event (script, "textOutput", o);
  add_content_end (script, id, "TEXT", stop_reason);
  g_free (fields);
  g_free (id);
}

void
mock_bedrock_script_user_text (MockBedrockScript * script,
    const gchar * text)
{
  add_text_block (script, "USER", "FINAL", text, "END_TURN");
}

void
mock_bedrock_script_say (MockBedrockScript * script, const gchar * text,
    gconstpointer pcm, gsize size, guint chunk_ms, gboolean paced,
    gboolean end_turn)
{
  const gchar *stop = end_turn ? "END_TURN" : "PARTIAL_TURN";
  JsonObject *o, *conf;
  gchar *id;
  Step *s;

  add_text_block (script, "ASSISTANT", "SPECULATIVE", text, "PARTIAL_TURN");
  id = new_content_id ();
  o = block_body (id, "AUDIO", "ASSISTANT");
  conf = media_type ("audio/lpcm");
  json_object_set_int_member (conf, "sampleRateHertz", OUTPUT_RATE);
  json_object_set_int_member (conf, "sampleSizeBits", 16);
  json_object_set_int_member (conf, "channelCount", 1);
  json_object_set_string_member (conf, "encoding", "base64");
  json_object_set_string_member (conf, "audioType", "SPEECH");
  json_object_set_object_member (o, "audioOutputConfiguration", conf);
  add_event (script, "contentStart", o);
  s = mock_ws_script_audio (CORE (script), pcm, size, MAX (chunk_ms, 1),
      paced);
  s->text = id;
  add_content_end (script, id, "AUDIO", stop);
  add_text_block (script, "ASSISTANT", "FINAL", text, stop);
}

void
mock_bedrock_script_interrupted (MockBedrockScript * script)
{
  add_text_block (script, "ASSISTANT", "FINAL", "{ \"interrupted\" : true }",
      "INTERRUPTED");
}

void
mock_bedrock_script_tool_use (MockBedrockScript * script, const gchar * id,
    const gchar * name, const gchar * args_json)
{
  JsonNode *args = parse_test_object ("mock_bedrock_script_tool_use",
      args_json);
  gchar *content_id;
  JsonObject *o;

  if (!args)
    return;
  json_node_unref (args);
  content_id = new_content_id ();
  o = block_body (content_id, "TOOL", "TOOL");
  json_object_set_object_member (o, "toolUseOutputConfiguration",
      media_type ("application/json"));
  add_event (script, "contentStart", o);
  o = block_body (content_id, NULL, "TOOL");
  json_object_set_string_member (o, "toolName", name);
  json_object_set_string_member (o, "toolUseId", id);
  json_object_set_string_member (o, "content", args_json);
  add_event (script, "toolUse", o);
  add_content_end (script, content_id, "TOOL", "TOOL_USE");
  g_free (content_id);
}

void
mock_bedrock_script_usage (MockBedrockScript * script, guint input_speech,
    guint input_text, guint output_speech, guint output_text)
{
  const guint deltas[4] = { input_speech, input_text, output_speech,
    output_text
  };
  Step *s = add_custom (script, CUSTOM_USAGE, NULL);

  s->extra = g_memdup2 (deltas, sizeof (deltas));
  s->extra_free = g_free;
}

void
mock_bedrock_script_end (MockBedrockScript * script)
{
  add_custom (script, CUSTOM_END, NULL);
}

void
mock_bedrock_script_reset (MockBedrockScript * script)
{
  add_custom (script, CUSTOM_RESET, NULL);
}

void
mock_bedrock_script_drop (MockBedrockScript * script)
{
  mock_ws_script_drop (CORE (script));
}

void
mock_bedrock_script_stall (MockBedrockScript * script)
{
  mock_ws_script_stall (CORE (script));
}

void
mock_bedrock_script_add_golden (MockBedrockScript * script,
    gconstpointer pcm, gsize size)
{
  const guint t = MOCK_BEDROCK_GOLDEN_TIMEOUT_MS;

  mock_bedrock_script_wait (script, "contentEnd", 1, t);
  mock_bedrock_script_wait (script, "audioInput", 1, t);
  mock_bedrock_script_send (script, "{\"event\":{\"completionStart\":{}}}");
  mock_bedrock_script_user_text (script, MOCK_BEDROCK_GOLDEN_USER_TRANSCRIPT);
  mock_bedrock_script_usage (script, MOCK_BEDROCK_GOLDEN_INPUT_SPEECH_TOKENS,
      MOCK_BEDROCK_GOLDEN_INPUT_TEXT_TOKENS, 0, 0);
  mock_bedrock_script_say (script, MOCK_BEDROCK_GOLDEN_ASSISTANT_TRANSCRIPT,
      pcm, size, MOCK_BEDROCK_GOLDEN_CHUNK_MS, FALSE, TRUE);
  mock_bedrock_script_usage (script, 0, 0,
      MOCK_BEDROCK_GOLDEN_OUTPUT_SPEECH_TOKENS,
      MOCK_BEDROCK_GOLDEN_OUTPUT_TEXT_TOKENS);
}

/* Without a pushed script: the 200 once the system prompt is in */
static MockBedrockScript *
default_script (void)
{
  MockBedrockScript *script = mock_bedrock_script_new ();

  mock_bedrock_script_wait (script, "contentEnd", 1, DEFAULT_SETUP_WAIT_MS);
  add_custom (script, CUSTOM_RESPOND, NULL);
  return script;
}

/* ------------------------------------------------------------------------
 * Connections
 * ------------------------------------------------------------------------ */

static void
block_free (Block * b)
{
  g_free (b->type);
  g_free (b->role);
  g_free (b);
}

/* The klass's conn_init and conn_clear: what the core does not know */
static void
conn_init (MockWsConn * ws)
{
  Conn *conn = CONN (ws);

  conn->blocks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) block_free);
  conn->tools_sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  conn->tools_answered = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
}

static void
conn_clear (MockWsConn * ws)
{
  Conn *conn = CONN (ws);

  g_strfreev (conn->request);
  g_clear_pointer (&conn->signer, gst_bidi_sigv4_signer_free);
  g_clear_pointer (&conn->decoder, gst_bidi_es_decoder_free);
  g_free (conn->prompt_name);
  g_hash_table_unref (conn->blocks);
  g_free (conn->audio_block);
  g_hash_table_unref (conn->tools_sent);
  g_hash_table_unref (conn->tools_answered);
  g_free (conn->session_id);
  g_free (conn->completion_id);
}

static void
stop_timer (Conn * conn)
{
  if (!conn->ws.timer)
    return;
  g_source_destroy (conn->ws.timer);
  g_clear_pointer (&conn->ws.timer, g_source_unref);
}

/* Drops what is left of the script (the running step is conn_next's) */
static void
drop_steps (Conn * conn)
{
  stop_timer (conn);
  g_queue_clear_full (&conn->ws.steps, (GDestroyNotify) mock_ws_step_free);
  g_queue_init (&conn->ws.steps);
  if (!conn->running)
    g_clear_pointer (&conn->ws.step, mock_ws_step_free);
}

/* The first value of request header @name, or NULL */
static const gchar *
conn_header (Conn * conn, const gchar * name)
{
  guint i;

  for (i = 0; conn->request[i] && conn->request[i + 1]; i += 2)
    if (g_ascii_strcasecmp (conn->request[i], name) == 0)
      return conn->request[i + 1];
  return NULL;
}

/* Appends a line to @list (the violations or the failures) */
static void
add_line (MockBedrock * mock, GPtrArray * list, gchar * line)
{
  g_mutex_lock (&mock->core.lock);
  g_ptr_array_add (list, line);
  g_cond_broadcast (&mock->core.cond);
  g_mutex_unlock (&mock->core.lock);
}

/* A violation of the request or the body as a whole */
static void
conn_violation (Conn * conn, const gchar * format, ...) G_GNUC_PRINTF (2, 3);

static void
conn_violation (Conn * conn, const gchar * format, ...)
{
  GString *line = g_string_new (NULL);
  va_list args;

  g_string_printf (line, "connection %u: ", conn->ws.index);
  va_start (args, format);
  g_string_append_vprintf (line, format, args);
  va_end (args);
  add_line (MOCK (conn), MOCK (conn)->core.violations,
      g_string_free (line, FALSE));
}

/* A script failure: the script of @conn ends here (its running step is
 * freed) */
#define conn_failure(conn, ...) \
  mock_ws_conn_add_failure (&(conn)->ws, __VA_ARGS__)

/* ------------------------------------------------------------------------
 * The request: headers and SigV4
 * ------------------------------------------------------------------------ */

/* The model id is one path segment, URI-encoded once: nothing but
 * unreserved characters and %XX, and no "%25" (an encoded '%', which a
 * model id does not have: encoded twice) */
static gboolean
model_segment_ok (const gchar * id)
{
  const gchar *p;

  if (!*id)
    return FALSE;
  for (p = id; *p; p++) {
    if (*p == '%') {
      if (!g_ascii_isxdigit (p[1]) || !g_ascii_isxdigit (p[2])
          || strncmp (p, "%25", 3) == 0)
        return FALSE;
      p += 2;
    } else if (!g_ascii_isalnum (*p) && !strchr ("-_.~", *p)) {
      return FALSE;
    }
  }
  return TRUE;
}

static void
check_path (Conn * conn, const gchar * path)
{
  const gsize head = strlen ("/model/"), tail = strlen (REQUEST_PATH_END);
  gchar *id = NULL;

  if (path && g_str_has_prefix (path, "/model/")
      && g_str_has_suffix (path, REQUEST_PATH_END)
      && strlen (path) > head + tail)
    id = g_strndup (path + head, strlen (path) - head - tail);
  if (!id || !model_segment_ok (id))
    conn_violation (conn, "request: :path %s is not /model/<model id "
        "encoded once>" REQUEST_PATH_END, path ? path : "missing");
  g_free (id);
}

static void
check_request_headers (Conn * conn)
{
  const gchar *method = conn_header (conn, ":method");
  const gchar *path = conn_header (conn, ":path");
  const gchar *type = conn_header (conn, "content-type");
  const gchar *sha = conn_header (conn, "x-amz-content-sha256");

  if (g_strcmp0 (method, "POST") != 0)
    conn_violation (conn, "request: :method is %s, not POST",
        method ? method : "missing");
  check_path (conn, path);
  if (g_strcmp0 (type, EVENTSTREAM_TYPE) != 0)
    conn_violation (conn, "request: content-type is %s, not "
        EVENTSTREAM_TYPE, type ? type : "missing");
  if (g_strcmp0 (sha, GST_BIDI_SIGV4_STREAMING_PAYLOAD) != 0)
    conn_violation (conn, "request: x-amz-content-sha256 is %s, not "
        GST_BIDI_SIGV4_STREAMING_PAYLOAD, sha ? sha : "missing");
}

/* The parts of an authorization header */
typedef struct
{
  gchar **credential;           /* key id, date, region, service, term */
  gchar *signed_headers;
  gchar *signature;
} Authorization;

static void
authorization_clear (Authorization * a)
{
  g_strfreev (a->credential);
  g_free (a->signed_headers);
  g_free (a->signature);
}

static gboolean
parse_authorization (const gchar * value, Authorization * a)
{
  const gchar *prefix = "AWS4-HMAC-SHA256 ";
  gchar **parts;
  guint i;

  memset (a, 0, sizeof (*a));
  if (!value || !g_str_has_prefix (value, prefix))
    return FALSE;
  parts = g_strsplit (value + strlen (prefix), ",", -1);
  for (i = 0; parts[i]; i++) {
    gchar *p = g_strstrip (parts[i]);
    if (g_str_has_prefix (p, "Credential=") && !a->credential)
      a->credential = g_strsplit (p + strlen ("Credential="), "/", -1);
    else if (g_str_has_prefix (p, "SignedHeaders=") && !a->signed_headers)
      a->signed_headers = g_strdup (p + strlen ("SignedHeaders="));
    else if (g_str_has_prefix (p, "Signature=") && !a->signature)
      a->signature = g_strdup (p + strlen ("Signature="));
  }
  g_strfreev (parts);
  return a->credential && g_strv_length (a->credential) == 5
      && a->signed_headers && a->signature;
}

/* The headers SignedHeaders must name (a violation otherwise) */
static void
check_signed_names (Conn * conn, gchar ** names, gboolean with_token)
{
  const gchar *required[] = { "content-type", "x-amz-content-sha256",
    "x-amz-date", with_token ? "x-amz-security-token" : NULL
  };
  guint i;

  if (!g_strv_contains ((const gchar * const *) names, ":authority")
      && !g_strv_contains ((const gchar * const *) names, "host"))
    conn_violation (conn, "request: SignedHeaders has neither :authority "
        "nor host");
  for (i = 0; i < G_N_ELEMENTS (required); i++)
    if (required[i]
        && !g_strv_contains ((const gchar * const *) names, required[i]))
      conn_violation (conn, "request: SignedHeaders lacks %s", required[i]);
}

/* Recomputes the request's signature from the headers it names; TRUE when
 * it matches, with the signer left to check the event chain */
static gboolean
signature_matches (Conn * conn, const Credentials * cred, Authorization * a)
{
  gchar **names = g_strsplit (a->signed_headers, ";", -1);
  guint n = g_strv_length (names), i;
  GstBidiSigV4Header *headers = g_new0 (GstBidiSigV4Header, MAX (n, 1));
  GstBidiSigV4Signed *signed_req = NULL;
  GstBidiSigV4Signer *signer;
  gboolean ok = TRUE;

  check_signed_names (conn, names, cred->v[CRED_TOKEN] != NULL);
  for (i = 0; i < n && ok; i++) {
    headers[i].name = names[i];
    headers[i].value = conn_header (conn, names[i]);
    ok = headers[i].value != NULL;
  }
  signer = gst_bidi_sigv4_signer_new (cred->v[CRED_KEY_ID],
      cred->v[CRED_SECRET], cred->v[CRED_TOKEN], cred->v[CRED_REGION],
      GST_BIDI_SIGV4_SERVICE_BEDROCK,
      NULL);
  if (ok && signer)
    signed_req = gst_bidi_sigv4_signer_sign_request (signer,
        conn_header (conn, ":method"), conn_header (conn, ":path"), headers,
        n, NULL, NULL);
  ok = signed_req && g_strcmp0 (signed_req->signed_headers,
      a->signed_headers) == 0 && g_strcmp0 (signed_req->signature,
      a->signature) == 0;
  if (ok)
    conn->signer = g_steal_pointer (&signer);
  else if (signed_req)
    g_debug ("mockbedrock: connection %u: expected the canonical request\n%s",
        conn->ws.index, signed_req->canonical_request);
  g_clear_pointer (&signed_req, gst_bidi_sigv4_signed_free);
  g_clear_pointer (&signer, gst_bidi_sigv4_signer_free);
  g_free (headers);
  g_strfreev (names);
  return ok;
}

/* NULL when the request is authorized, else the error type, with the
 * message in @message */
static const gchar *
authorize (Conn * conn, const gchar ** message)
{
  MockBedrock *mock = MOCK (conn);
  Credentials cred = { {NULL} };
  Authorization a;
  const gchar *date = conn_header (conn, "x-amz-date");
  const gchar *token = conn_header (conn, "x-amz-security-token");
  const gchar *verdict = NULL;

  g_mutex_lock (&mock->core.lock);
  credentials_set (&cred, (const gchar * const *) mock->cred.v);
  g_mutex_unlock (&mock->core.lock);

  *message = SIGNATURE_MISMATCH_MESSAGE;
  if (!parse_authorization (conn_header (conn, "authorization"), &a)) {
    conn_violation (conn, "request: no authorization header of the form "
        "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...");
    verdict = SIGNATURE_MISMATCH_TYPE;
  } else if (g_strcmp0 (a.credential[0], cred.v[CRED_KEY_ID]) != 0
      || g_strcmp0 (token, cred.v[CRED_TOKEN]) != 0) {
    *message = BAD_TOKEN_MESSAGE;
    verdict = BAD_TOKEN_TYPE;
  } else if (!date || strlen (date) < 8
      || strncmp (a.credential[1], date, 8) != 0
      || g_strcmp0 (a.credential[2], cred.v[CRED_REGION]) != 0
      || strcmp (a.credential[3], GST_BIDI_SIGV4_SERVICE_BEDROCK) != 0
      || strcmp (a.credential[4], "aws4_request") != 0) {
    conn_violation (conn, "request: the credential scope is not "
        "<x-amz-date's day>/%s/bedrock/aws4_request", cred.v[CRED_REGION]);
    verdict = SIGNATURE_MISMATCH_TYPE;
  } else if (!signature_matches (conn, &cred, &a)) {
    verdict = SIGNATURE_MISMATCH_TYPE;
  }
  authorization_clear (&a);
  credentials_clear (&cred);
  return verdict;
}

/* ------------------------------------------------------------------------
 * Sending
 * ------------------------------------------------------------------------ */

/* The 200 headers, once, before anything of the body */
static void
ensure_response (Conn * conn)
{
  gchar *id = g_strdup_printf ("mock-request-%u", conn->ws.index);
  const gchar *headers[] = { "content-type", EVENTSTREAM_TYPE,
    "x-amzn-requestid", id, NULL
  };

  if (!conn->responded)
    mock_h2_stream_respond (conn->stream, 200, headers, FALSE);
  conn->responded = TRUE;
  g_free (id);
}

/* FALSE and a failure when the response can take no more */
static gboolean
can_send (Conn * conn)
{
  if (conn->stream && !conn->halted) {
    ensure_response (conn);
    return TRUE;
  }
  conn_failure (conn, "the stream is closed");
  return FALSE;
}

static void
send_bytes (Conn * conn, GBytes * bytes)
{
  mock_h2_stream_send (conn->stream, bytes);
  g_bytes_unref (bytes);
}

/* Adds @name with @value to @o when it has none */
static void
default_member (JsonObject * o, const gchar * name, const gchar * value)
{
  if (value && !json_object_has_member (o, name))
    json_object_set_string_member (o, name, value);
}

/* A send step's event with the ids of the connection; a toolUse's id is
 * remembered for the toolResult checks */
static gchar *
prepare_event (Conn * conn, const gchar * json)
{
  JsonNode *node = json_from_string (json, NULL);
  JsonObject *ev = node && JSON_NODE_HOLDS_OBJECT (node) ?
      json_object_get_object_member (json_node_get_object (node), "event") :
      NULL;
  GList *names = ev ? json_object_get_members (ev) : NULL;
  JsonNode *inner = names && !names->next ?
      json_object_get_member (ev, names->data) : NULL;
  gchar *out;

  if (!node)
    return g_strdup (json);
  if (inner && JSON_NODE_HOLDS_OBJECT (inner)) {
    JsonObject *o = json_node_get_object (inner);
    default_member (o, "sessionId", conn->session_id);
    default_member (o, "promptName", conn->prompt_name);
    default_member (o, "completionId", conn->completion_id);
    if (strcmp (names->data, "toolUse") == 0
        && json_object_has_member (o, "toolUseId"))
      g_hash_table_add (conn->tools_sent,
          g_strdup (json_object_get_string_member (o, "toolUseId")));
  }
  out = json_to_string (node, FALSE);
  g_list_free (names);
  json_node_unref (node);
  return out;
}

/* FALSE after a failure */
static gboolean
send_event (Conn * conn, const gchar * json)
{
  gchar *text = prepare_event (conn, json);
  GBytes *chunk = gst_bidi_bedrock_chunk_encode (text, -1, NULL);

  g_free (text);
  if (!chunk) {
    conn_failure (conn, "the event cannot be framed");
    return FALSE;
  }
  send_bytes (conn, chunk);
  return TRUE;
}

static void
send_exception (Conn * conn, Step * s)
{
  GstBidiEsMessage *msg = gst_bidi_es_message_new ();
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  GBytes *payload, *bytes;
  gchar *text;

  json_object_set_string_member (o, "message", s->extra);
  json_node_take_object (node, o);
  text = json_to_string (node, FALSE);
  payload = g_bytes_new_take (text, strlen (text));
  gst_bidi_es_message_add_string (msg, ":message-type", "exception");
  gst_bidi_es_message_add_string (msg, ":exception-type", s->text);
  gst_bidi_es_message_add_string (msg, ":content-type", "application/json");
  gst_bidi_es_message_set_payload (msg, payload);
  bytes = gst_bidi_es_message_encode (msg, NULL);
  if (bytes)
    send_bytes (conn, bytes);
  mock_h2_stream_end (conn->stream);
  g_bytes_unref (payload);
  gst_bidi_es_message_free (msg);
  json_node_unref (node);
}

static JsonObject *
token_pair (guint64 speech, guint64 text)
{
  JsonObject *o = json_object_new ();

  json_object_set_int_member (o, "speechTokens", speech);
  json_object_set_int_member (o, "textTokens", text);
  return o;
}

/* {"input": ..., "output": ...} of four figures */
static JsonObject *
token_figures (const guint64 f[4])
{
  JsonObject *o = json_object_new ();

  json_object_set_object_member (o, "input", token_pair (f[0], f[1]));
  json_object_set_object_member (o, "output", token_pair (f[2], f[3]));
  return o;
}

/* A usageEvent of the step's deltas and the connection's running totals */
static void
send_usage (Conn * conn, const guint * deltas)
{
  JsonObject *body = json_object_new (), *details = json_object_new ();
  JsonObject *inner = json_object_new (), *top = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  guint64 delta[4];
  gchar *json;
  guint i;

  for (i = 0; i < 4; i++) {
    delta[i] = deltas[i];
    conn->totals[i] += deltas[i];
  }
  json_object_set_object_member (details, "delta", token_figures (delta));
  json_object_set_object_member (details, "total",
      token_figures (conn->totals));
  json_object_set_object_member (body, "details", details);
  json_object_set_int_member (body, "totalInputTokens",
      conn->totals[0] + conn->totals[1]);
  json_object_set_int_member (body, "totalOutputTokens",
      conn->totals[2] + conn->totals[3]);
  json_object_set_int_member (body, "totalTokens", conn->totals[0] +
      conn->totals[1] + conn->totals[2] + conn->totals[3]);
  json_object_set_object_member (inner, "usageEvent", body);
  json_object_set_object_member (top, "event", inner);
  json_node_take_object (node, top);
  json = json_to_string (node, FALSE);
  send_event (conn, json);
  g_free (json);
  json_node_unref (node);
}

static void
report_audio_sent (Conn * conn, const guint8 * pcm, gsize size)
{
  MockBedrock *mock = MOCK (conn);
  MockWsAudioSentFunc func;
  gpointer data;

  g_mutex_lock (&mock->core.lock);
  func = mock->core.audio_sent;
  data = mock->core.audio_sent_data;
  g_mutex_unlock (&mock->core.lock);
  if (func)
    func (conn->ws.index, pcm, size, g_get_monotonic_time (), data);
}

/* FALSE after a failure (which freed the step that holds @pcm) */
static gboolean
send_audio_chunk (Conn * conn, const gchar * content_id, const guint8 * pcm,
    gsize size)
{
  gchar *b64 = g_base64_encode (pcm, size);
  gchar *json = g_strdup_printf ("{\"event\":{\"audioOutput\":{\"contentId\":"
      "\"%s\",\"role\":\"ASSISTANT\",\"content\":\"%s\"}}}", content_id, b64);
  gboolean sent = send_event (conn, json);

  if (sent)
    report_audio_sent (conn, pcm, size);
  g_free (json);
  g_free (b64);
  return sent;
}

/* ------------------------------------------------------------------------
 * The script runner (mock thread)
 * ------------------------------------------------------------------------ */

static gboolean
timer_cb (gpointer user_data)
{
  Conn *conn = user_data;
  Step *s = conn->ws.step;

  g_clear_pointer (&conn->ws.timer, g_source_unref);
  if (s && s->kind == MOCK_WS_STEP_WAIT) {
    conn_failure (conn, "no \"%s\" (%u of them) from the client within %u "
        "ms", s->text, s->n, s->timeout_ms);
    g_clear_pointer (&conn->ws.step, mock_ws_step_free);
    return G_SOURCE_REMOVE;
  }
  conn_next (conn);
  return G_SOURCE_REMOVE;
}

static void
start_timer (Conn * conn, gint64 delay_us)
{
  stop_timer (conn);
  conn->ws.timer = g_timeout_source_new (MAX (delay_us, 0) / 1000);
  g_source_set_callback (conn->ws.timer, timer_cb, conn, NULL);
  g_source_attach (conn->ws.timer, mock_h2_context (MOCK (conn)->h2));
}

/* The klass's frame_matches: an event is recorded as a frame of kind its
 * name and, for contentStart, member its type */
static gboolean
event_is (MockWsFrame * ev, const gchar * kind)
{
  return g_strcmp0 (ev->kind, kind) == 0 || (ev->member
      && g_str_has_prefix (kind, "contentStart.")
      && g_strcmp0 (ev->kind, "contentStart") == 0
      && strcmp (ev->member, kind + strlen ("contentStart.")) == 0);
}

/* TRUE when the running wait has its events; the next wait counts from
 * the one after the last */
static gboolean
wait_satisfied (Conn * conn, Step * s)
{
  guint i, seen = 0;

  if (strcmp (s->text, "end") == 0)
    return conn->end_frame;
  for (i = conn->ws.wait_from; i < conn->ws.frames->len; i++) {
    if (event_is (g_ptr_array_index (conn->ws.frames, i), s->text)
        && ++seen == s->n) {
      conn->ws.wait_from = i + 1;
      return TRUE;
    }
  }
  return FALSE;
}

/* Paced or not, the chunks of an audio step; FALSE while it waits */
static gboolean
run_audio (Conn * conn, Step * s, gboolean first)
{
  gsize size, chunk = (gsize) OUTPUT_RATE * 2 * s->n / 1000;
  const guint8 *pcm = g_bytes_get_data (s->data, &size);

  chunk = MAX (chunk - chunk % 2, 2);
  if (first) {
    conn->ws.audio_pos = 0;
    conn->ws.audio_start = g_get_monotonic_time ();
  }
  while (conn->ws.audio_pos < size) {
    gsize n = MIN (chunk, size - conn->ws.audio_pos);
    gint64 due = conn->ws.audio_start +
        (gint64) (conn->ws.audio_pos / chunk) * s->n * 1000;

    if (s->paced && due > g_get_monotonic_time ()) {
      start_timer (conn, due - g_get_monotonic_time ());
      return FALSE;
    }
    if (!can_send (conn)
        || !send_audio_chunk (conn, s->text, pcm + conn->ws.audio_pos, n))
      return TRUE;
    conn->ws.audio_pos += n;
  }
  return TRUE;
}

/* A step that must be the last: the ones after it are a failure (which
 * frees @s) */
static void
run_last (Conn * conn, Step * s)
{
  gboolean custom = s->kind == MOCK_WS_STEP_CUSTOM;

  if (!g_queue_is_empty (&conn->ws.steps)) {
    conn_failure (conn, "steps after %s, which must be the last", s->name);
    return;
  }
  if (custom && (s->n == CUSTOM_EXCEPTION || s->n == CUSTOM_END)) {
    if (!can_send (conn))
      return;
    if (s->n == CUSTOM_EXCEPTION)
      send_exception (conn, s);
    else
      mock_h2_stream_end (conn->stream);
  } else if (custom) {
    mock_h2_stream_reset (conn->stream, H2_INTERNAL_ERROR);
  } else if (s->kind == MOCK_WS_STEP_DROP) {
    mock_h2_stream_drop (conn->stream);
  } else {
    mock_h2_stream_freeze (conn->stream);
  }
  conn->halted = TRUE;
}

static gboolean
is_last_step (Step * s)
{
  return s->kind == MOCK_WS_STEP_DROP || s->kind == MOCK_WS_STEP_STALL
      || (s->kind == MOCK_WS_STEP_CUSTOM && s->n != CUSTOM_USAGE
      && s->n != CUSTOM_RESPOND);
}

/* TRUE when @s is complete (a failure frees it: not used after one) */
static gboolean
run_step (Conn * conn, Step * s, gboolean first)
{
  if (s->kind == MOCK_WS_STEP_WAIT) {
    if (wait_satisfied (conn, s))
      return TRUE;
    if (first)
      start_timer (conn, (gint64) s->timeout_ms * 1000);
    return FALSE;
  }
  if (s->kind == MOCK_WS_STEP_SLEEP) {
    if (first)
      start_timer (conn, (gint64) s->n * 1000);
    return !first;
  }
  if (s->kind == MOCK_WS_STEP_AUDIO)
    return run_audio (conn, s, first);
  if (is_last_step (s)) {
    if (conn->stream)
      run_last (conn, s);
    return TRUE;
  }
  /* send, raw, usage, respond: the response goes on */
  if (!can_send (conn))
    return TRUE;
  if (s->kind == MOCK_WS_STEP_SEND)
    send_event (conn, s->text);
  else if (s->kind == MOCK_WS_STEP_RAW)
    send_bytes (conn, g_bytes_ref (s->data));
  else if (s->n == CUSTOM_USAGE)
    send_usage (conn, s->extra);
  return TRUE;
}

static void
set_script_done (Conn * conn)
{
  g_mutex_lock (&MOCK (conn)->core.lock);
  conn->ws.script_done = TRUE;
  g_cond_broadcast (&MOCK (conn)->core.cond);
  g_mutex_unlock (&MOCK (conn)->core.lock);
}

/* Runs steps until one has to wait for a timer or the client */
static void
conn_next (Conn * conn)
{
  while (!conn->running) {
    gboolean first = FALSE, complete;
    Step *s;

    if (!conn->ws.step) {
      if (g_queue_is_empty (&conn->ws.steps)) {
        set_script_done (conn);
        return;
      }
      if (!conn->stream || MOCK (conn)->core.stopping)
        return;
      conn->ws.step = g_queue_pop_head (&conn->ws.steps);
      conn->ws.step_no++;
      first = TRUE;
    }
    s = conn->ws.step;
    conn->running = TRUE;
    complete = run_step (conn, s, first);
    conn->running = FALSE;
    if (!complete && conn->ws.step == s && conn->stream)
      return;
    stop_timer (conn);
    g_clear_pointer (&conn->ws.step, mock_ws_step_free);
  }
}

/* The klass's next_step: mock_bedrock_run () gave steps to an idle
 * connection */
static void
next_step (MockWsConn * ws)
{
  conn_next (CONN (ws));
}

/* A client event or the end frame came: a wait may be over */
static void
conn_poke (Conn * conn)
{
  if (conn->ws.step && conn->ws.step->kind == MOCK_WS_STEP_WAIT && !conn->running)
    conn_next (conn);
}

/* ------------------------------------------------------------------------
 * Client events: the Nova order (§7)
 * ------------------------------------------------------------------------ */

typedef struct
{
  MockWsCheck ws;
  Conn *conn;
} Check;

/* Whether promptStart came, and the event names its promptName */
static gboolean
in_prompt (Check * c, JsonObject * body)
{
  Conn *conn = c->conn;
  const gchar *name;

  if (!conn->prompt_name) {
    problem (c, "before promptStart");
    return FALSE;
  }
  if (conn->prompt_ended)
    problem (c, "after promptEnd");
  name = string_member (c, body, "", "promptName", TRUE);
  if (name && strcmp (name, conn->prompt_name) != 0)
    problem (c, "promptName \"%s\" is not the prompt's \"%s\"", name,
        conn->prompt_name);
  return TRUE;
}

static void
check_session_start (Check * c, JsonObject * body)
{
  Conn *conn = c->conn;

  if (conn->session_started)
    problem (c, "a second sessionStart");
  else if (conn->n_events > 1)
    problem (c, "sessionStart must be the first event");
  conn->session_started = TRUE;
  object_member (c, body, "", "inferenceConfiguration", TRUE);
}

static void
check_tool_spec (Check * c, JsonNode * tool, guint i)
{
  gchar *where = g_strdup_printf ("toolConfiguration.tools[%u].", i);
  gchar *spec_where = g_strconcat (where, "toolSpec.", NULL);
  gchar *schema_where = g_strconcat (spec_where, "inputSchema.", NULL);
  JsonObject *spec, *schema;
  const gchar *json;
  JsonObject *parsed;

  spec = JSON_NODE_HOLDS_OBJECT (tool) ? object_member (c,
      json_node_get_object (tool), where, "toolSpec", TRUE) : NULL;
  if (!JSON_NODE_HOLDS_OBJECT (tool))
    problem (c, "%s is %s, not an object", where, json_kind (tool));
  if (spec) {
    string_member (c, spec, spec_where, "name", TRUE);
    schema = object_member (c, spec, spec_where, "inputSchema", TRUE);
    json = schema ? string_member (c, schema, schema_where, "json",
        TRUE) : NULL;
    parsed = json ? mock_ws_parse_object (json, NULL) : NULL;
    if (json && !parsed)
      problem (c, "%sjson is not a string of a JSON object", schema_where);
    if (parsed)
      json_object_unref (parsed);
  }
  g_free (schema_where);
  g_free (spec_where);
  g_free (where);
}

static void
check_prompt_start (Check * c, JsonObject * body)
{
  Conn *conn = c->conn;
  JsonObject *audio, *tools_conf;
  JsonArray *tools;
  const gchar *name;
  guint i;

  if (conn->prompt_name) {
    problem (c, "a second promptStart");
    return;
  }
  name = string_member (c, body, "", "promptName", TRUE);
  conn->prompt_name = g_strdup (name ? name : "");
  audio = object_member (c, body, "", "audioOutputConfiguration", TRUE);
  if (audio) {
    int_member (c, audio, "audioOutputConfiguration.", "sampleRateHertz",
        TRUE, 8000, NULL);
    string_member (c, audio, "audioOutputConfiguration.", "voiceId", TRUE);
  }
  tools_conf = object_member (c, body, "", "toolConfiguration", FALSE);
  tools = tools_conf ? array_member (c, tools_conf, "toolConfiguration.",
      "tools", TRUE) : NULL;
  for (i = 0; tools && i < json_array_get_length (tools); i++)
    check_tool_spec (c, json_array_get_element (tools, i), i);
}

/* Where a new TEXT block may stand: the SYSTEM block first and once, then
 * the history (interactive false, USER first), then the live part */
static void
check_text_block (Check * c, const gchar * role, gboolean interactive)
{
  Conn *conn = c->conn;

  if (strcmp (role, "SYSTEM") == 0) {
    if (conn->system_block != 0)
      problem (c, "a second SYSTEM block (SYSTEM content can only be "
          "provided once per prompt)");
    else
      conn->system_block = 1;
    return;
  }
  if (interactive) {
    conn->live = TRUE;
    return;
  }
  if (conn->live)
    problem (c, "a history block (interactive false) after the live part "
        "began");
  if (strcmp (role, "USER") != 0 && strcmp (role, "ASSISTANT") != 0)
    problem (c, "a history block of role %s, not USER or ASSISTANT", role);
  else if (conn->n_history++ == 0 && strcmp (role, "USER") != 0)
    problem (c, "the first history block is %s, not USER", role);
}

static void
check_audio_block (Check * c, JsonObject * body, const gchar * name)
{
  Conn *conn = c->conn;
  JsonObject *conf = object_member (c, body, "", "audioInputConfiguration",
      TRUE);
  gint64 rate = 0;

  if (conf && int_member (c, conf, "audioInputConfiguration.",
          "sampleRateHertz", TRUE, 0, &rate) && rate != INPUT_RATE)
    problem (c, "audioInputConfiguration.sampleRateHertz is %" G_GINT64_FORMAT
        ", not %d", rate, INPUT_RATE);
  if (conn->audio_block)
    problem (c, "a second AUDIO block while %s is open", conn->audio_block);
  else
    conn->audio_block = g_strdup (name);
  conn->live = TRUE;
}

static void
check_tool_block (Check * c, JsonObject * body)
{
  Conn *conn = c->conn;
  JsonObject *conf = object_member (c, body, "",
      "toolResultInputConfiguration", TRUE);
  const gchar *id = conf ? string_member (c, conf,
      "toolResultInputConfiguration.", "toolUseId", TRUE) : NULL;

  if (id && !g_hash_table_contains (conn->tools_sent, id))
    problem (c, "toolUseId \"%s\" is not a toolUse the mock sent", id);
  else if (id && !g_hash_table_add (conn->tools_answered, g_strdup (id)))
    problem (c, "toolUseId \"%s\" was answered before", id);
  conn->live = TRUE;
}

static void
check_content_start (Check * c, JsonObject * body, MockWsFrame * ev)
{
  static const gchar *const types[] = { "TEXT", "AUDIO", "TOOL", NULL };
  static const gchar *const roles[] = { "SYSTEM", "USER", "ASSISTANT",
    "TOOL", "SYSTEM_SPEECH", NULL
  };
  Conn *conn = c->conn;
  const gchar *name, *type, *role;
  JsonNode *interactive;
  Block *b;

  if (!in_prompt (c, body))
    return;
  name = string_member (c, body, "", "contentName", TRUE);
  type = enum_member (c, body, "", "type", TRUE, types);
  role = enum_member (c, body, "", "role", TRUE, roles);
  interactive = bool_member (c, body, "", "interactive", FALSE);
  ev->member = g_strdup (type);
  if (!name)
    return;
  if (g_hash_table_contains (conn->blocks, name)) {
    problem (c, "contentName \"%s\" is not new", name);
    return;
  }
  if (conn->system_block == 0 && g_strcmp0 (role, "SYSTEM") != 0)
    problem (c, "a block before the SYSTEM block");
  if (conn->system_block == 1)
    problem (c, "a block starts while the SYSTEM block is open");
  if (g_strcmp0 (type, "TEXT") == 0 && role)
    check_text_block (c, role, interactive
        && json_node_get_boolean (interactive));
  else if (g_strcmp0 (type, "AUDIO") == 0)
    check_audio_block (c, body, name);
  else if (g_strcmp0 (type, "TOOL") == 0)
    check_tool_block (c, body);
  if (type && role && ((strcmp (type, "AUDIO") == 0
              && strcmp (role, "USER") != 0) || (strcmp (type, "TOOL") == 0
              && strcmp (role, "TOOL") != 0)))
    problem (c, "a %s block of role %s", type, role);
  b = g_new0 (Block, 1);
  b->type = g_strdup (type);
  b->role = g_strdup (role);
  b->open = TRUE;
  g_hash_table_insert (conn->blocks, g_strdup (name), b);
}

/* The open block an input event names, when of @type */
static Block *
input_block (Check * c, JsonObject * body, const gchar * type)
{
  const gchar *name;
  Block *b;

  if (!in_prompt (c, body))
    return NULL;
  name = string_member (c, body, "", "contentName", TRUE);
  if (!name)
    return NULL;
  b = g_hash_table_lookup (c->conn->blocks, name);
  if (!b || !b->open) {
    problem (c, "contentName \"%s\" is not an open block", name);
    return NULL;
  }
  if (g_strcmp0 (b->type, type) != 0) {
    problem (c, "in the %s block \"%s\", not a %s block", b->type, name,
        type);
    return NULL;
  }
  return b;
}

/* The input audio of an audioInput, or NULL */
static GByteArray *
check_audio_input (Check * c, JsonObject * body)
{
  const gchar *content = string_member (c, body, "", "content", TRUE);
  GByteArray *pcm;

  if (!input_block (c, body, "AUDIO") || !content)
    return NULL;
  pcm = g_byte_array_new ();
  if (!mock_ws_decode_base64 (content, pcm)) {
    problem (c, "content is not valid base64");
    g_clear_pointer (&pcm, g_byte_array_unref);
  } else if (pcm->len % 2 != 0) {
    problem (c, "content holds %u bytes, not whole 16-bit samples",
        pcm->len);
    g_clear_pointer (&pcm, g_byte_array_unref);
  }
  return pcm;
}

static void
check_text_input (Check * c, JsonObject * body)
{
  input_block (c, body, "TEXT");
  string_member (c, body, "", "content", TRUE);
}

static void
check_tool_result (Check * c, JsonObject * body)
{
  const gchar *content;

  input_block (c, body, "TOOL");
  content = string_member (c, body, "", "content", TRUE);
  if (content && !*content)
    problem (c, "content is empty");
}

static void
check_content_end (Check * c, JsonObject * body)
{
  Conn *conn = c->conn;
  const gchar *name;
  Block *b;

  if (!in_prompt (c, body))
    return;
  name = string_member (c, body, "", "contentName", TRUE);
  b = name ? g_hash_table_lookup (conn->blocks, name) : NULL;
  if (name && (!b || !b->open)) {
    problem (c, "contentName \"%s\" is not an open block", name);
    return;
  }
  if (!b)
    return;
  b->open = FALSE;
  if (g_strcmp0 (b->role, "SYSTEM") == 0)
    conn->system_block = 2;
  if (g_strcmp0 (conn->audio_block, name) == 0)
    g_clear_pointer (&conn->audio_block, g_free);
}

static void
check_prompt_end (Check * c, JsonObject * body)
{
  Conn *conn = c->conn;
  GHashTableIter iter;
  gpointer name, b;

  if (!in_prompt (c, body))
    return;
  if (conn->audio_block)
    problem (c, "the AUDIO block \"%s\" is still open", conn->audio_block);
  g_hash_table_iter_init (&iter, conn->blocks);
  while (g_hash_table_iter_next (&iter, &name, &b))
    if (((Block *) b)->open && g_strcmp0 (name, conn->audio_block) != 0)
      problem (c, "the block \"%s\" is still open", (gchar *) name);
  conn->prompt_ended = TRUE;
}

static void
check_session_end (Check * c)
{
  if (!c->conn->prompt_ended)
    problem (c, "before promptEnd");
  c->conn->session_ended = TRUE;
}

/* Checks @name's @body in the order so far; the audio of an audioInput */
static GByteArray *
check_event (Check * c, const gchar * name, JsonObject * body, MockWsFrame * ev)
{
  Conn *conn = c->conn;

  if (conn->session_ended)
    problem (c, "after sessionEnd");
  else if (!conn->session_started && strcmp (name, "sessionStart") != 0)
    problem (c, "before sessionStart");
  if (strcmp (name, "sessionStart") == 0)
    check_session_start (c, body);
  else if (strcmp (name, "promptStart") == 0)
    check_prompt_start (c, body);
  else if (strcmp (name, "contentStart") == 0)
    check_content_start (c, body, ev);
  else if (strcmp (name, "textInput") == 0)
    check_text_input (c, body);
  else if (strcmp (name, "audioInput") == 0)
    return check_audio_input (c, body);
  else if (strcmp (name, "toolResult") == 0)
    check_tool_result (c, body);
  else if (strcmp (name, "contentEnd") == 0)
    check_content_end (c, body);
  else if (strcmp (name, "promptEnd") == 0)
    check_prompt_end (c, body);
  else if (strcmp (name, "sessionEnd") == 0)
    check_session_end (c);
  else if (strcmp (name, "connectionEnd") == 0)
    problem (c, "connectionEnd is not a Nova input event (sessionEnd is)");
  else
    problem (c, "not a Nova input event");
  return NULL;
}

/* One Nova event {"event": {"<name>": {...}}} of the client */
static void
handle_event (Conn * conn, Check * c, const gchar * json)
{
  GError *err = NULL;
  JsonObject *top = mock_ws_parse_object (json, &err), *inner = NULL;
  GList *names = NULL;
  JsonNode *body;
  GByteArray *pcm = NULL;
  MockWsFrame *ev;

  if (!top) {
    problem (c, "the chunk is not a JSON object (%s)", err->message);
    g_error_free (err);
    return;
  }
  inner = object_member (c, top, "", "event", TRUE);
  if (json_object_get_size (top) != 1)
    problem (c, "members other than \"event\"");
  names = inner ? json_object_get_members (inner) : NULL;
  if (inner && g_list_length (names) != 1) {
    problem (c, "event has %u members, not one", g_list_length (names));
  } else if (names) {
    c->ws.what = names->data;
    body = json_object_get_member (inner, names->data);
    ev = g_new0 (MockWsFrame, 1);
    ev->text = g_strdup (json);
    ev->size = strlen (json);
    ev->kind = g_strdup (names->data);
    conn->n_events++;
    if (JSON_NODE_HOLDS_OBJECT (body))
      pcm = check_event (c, names->data, json_node_get_object (body), ev);
    else
      problem (c, "the event is %s, not an object", json_kind (body));
    mock_ws_conn_record (&conn->ws, &c->ws, ev, pcm);
    c->ws.what = NULL;          /* top's, freed below */
    if (pcm)
      g_byte_array_unref (pcm);
  }
  g_list_free (names);
  json_object_unref (top);
}

/* ------------------------------------------------------------------------
 * Client frames: event-stream, the signature chain, the chunk layer
 * ------------------------------------------------------------------------ */

/* The outer frame's headers (the two of §5) and its signature, checked
 * against the chain */
static void
check_signature (Conn * conn, Check * c, GstBidiEsMessage * msg)
{
  const GstBidiEsHeader *date = gst_bidi_es_message_get_header (msg, ":date");
  const GstBidiEsHeader *sig = gst_bidi_es_message_get_header (msg,
      ":chunk-signature");
  guint8 expected[GST_BIDI_SIGV4_SIGNATURE_SIZE];
  gsize len = 0, sig_len = 0;
  const guint8 *payload = g_bytes_get_data (msg->payload, &len);
  const guint8 *got = sig && sig->data ? g_bytes_get_data (sig->data,
      &sig_len) : NULL;

  if (!date || date->type != GST_BIDI_ES_TIMESTAMP)
    problem (c, "no :date timestamp header");
  if (!sig || sig->type != GST_BIDI_ES_BYTES
      || sig_len != GST_BIDI_SIGV4_SIGNATURE_SIZE)
    problem (c, "no :chunk-signature header of %d bytes",
        GST_BIDI_SIGV4_SIGNATURE_SIZE);
  if (msg->headers->len != 2)
    problem (c, "%u headers, not :date and :chunk-signature",
        msg->headers->len);
  if (conn->chain_broken || !date || !got
      || sig_len != GST_BIDI_SIGV4_SIGNATURE_SIZE)
    return;
  if (!gst_bidi_sigv4_signer_sign_event (conn->signer, date->num, payload,
          len, expected, NULL, NULL)
      || memcmp (expected, got, sizeof (expected)) != 0) {
    /* the rest of the chain would follow from a wrong link: one problem */
    problem (c, ":chunk-signature does not chain from the previous "
        "signature (checked no further)");
    conn->chain_broken = TRUE;
  }
}

/* The inner message of a signed frame: one Nova event in a chunk */
static void
handle_chunk (Conn * conn, Check * c, GBytes * payload)
{
  GError *err = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);
  GstBidiEsMessage *inner = gst_bidi_es_message_decode (data, len, 0, &err);
  GstBidiBedrockChunk chunk = { 0 };
  const gchar *const expect[] = { ":event-type", "chunk", ":message-type",
    "event", ":content-type", "application/json"
  };
  guint i;

  if (!inner) {
    problem (c, "the payload is not an event-stream message (%s)",
        err->message);
    g_error_free (err);
    return;
  }
  for (i = 0; i < G_N_ELEMENTS (expect); i += 2)
    if (g_strcmp0 (gst_bidi_es_message_get_string (inner, expect[i]),
            expect[i + 1]) != 0)
      problem (c, "the chunk's %s is not \"%s\"", expect[i], expect[i + 1]);
  if (!gst_bidi_bedrock_chunk_decode (inner, MAX_EVENT_JSON, &chunk, &err)) {
    problem (c, "not a Bedrock chunk (%s)", err->message);
    g_error_free (err);
  } else if (chunk.kind == GST_BIDI_BEDROCK_CHUNK_EVENT) {
    handle_event (conn, c, chunk.json);
  }
  gst_bidi_bedrock_chunk_clear (&chunk);
  gst_bidi_es_message_free (inner);
}

/* Moves the problems of @c that no event took to the violations */
static void
flush_problems (Conn * conn, Check * c)
{
  guint i;

  for (i = 0; i < c->ws.problems->len; i++)
    add_line (MOCK (conn), MOCK (conn)->core.violations,
        c->ws.problems->pdata[i]);
  g_ptr_array_set_size (c->ws.problems, 0);
}

static void
handle_frame (Conn * conn, GstBidiEsMessage * msg)
{
  /* the problems are taken by the records: the array does not own them */
  Check c = { {conn->ws.index, ++conn->n_frames, NULL, g_ptr_array_new ()},
  conn
  };

  if (conn->end_frame) {
    if (!conn->after_end_told)
      problem (&c, "a frame after the signed empty frame");
    conn->after_end_told = TRUE;
  } else {
    check_signature (conn, &c, msg);
    if (g_bytes_get_size (msg->payload) == 0) {
      conn->end_frame = TRUE;
      if (!conn->session_ended)
        problem (&c, "the signed empty frame before sessionEnd");
    } else {
      handle_chunk (conn, &c, msg->payload);
    }
  }
  flush_problems (conn, &c);
  g_ptr_array_unref (c.ws.problems);
}

/* ------------------------------------------------------------------------
 * The HTTP/2 hooks (mock thread)
 * ------------------------------------------------------------------------ */

/* Appends the steps of @script (taken) to those of @conn */
static void
take_steps (Conn * conn, MockBedrockScript * script)
{
  Step *s;

  while ((s = g_queue_pop_head (&CORE (script)->steps)))
    g_queue_push_tail (&conn->ws.steps, s);
  mock_bedrock_script_free (script);
}

static void
respond_error (Conn * conn, guint status, const gchar * type,
    const gchar * message)
{
  const gchar *headers[] = { "content-type", "application/json",
    type ? "x-amzn-errortype" : NULL, type, NULL
  };
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  gchar *body;

  json_object_set_string_member (o, "message", message ? message : "");
  json_node_take_object (node, o);
  body = json_to_string (node, FALSE);
  conn->rejected = TRUE;
  conn->responded = TRUE;
  conn->halted = TRUE;
  mock_h2_stream_respond (conn->stream, status, headers, FALSE);
  send_bytes (conn, g_bytes_new_take (body, strlen (body)));
  mock_h2_stream_end (conn->stream);
  json_node_unref (node);

  g_mutex_lock (&MOCK (conn)->core.lock);
  conn->ws.status = status;
  conn->ws.script_done = TRUE;
  g_cond_broadcast (&MOCK (conn)->core.cond);
  g_mutex_unlock (&MOCK (conn)->core.lock);
}

/* The request recorded: the core's connection, numbered */
static Conn *
conn_add (MockBedrock * mock, MockH2Stream * stream,
    const gchar * const *headers)
{
  Conn *conn = CONN (mock_ws_conn_new (&mock->core));

  conn->request = g_strdupv ((gchar **) headers);
  conn->ws.request_time = g_get_monotonic_time ();
  conn->ws.path = g_strdup (conn_header (conn, ":path"));
  conn->stream = stream;
  mock_h2_stream_set_data (stream, conn, NULL);
  mock_ws_server_add_conn (&mock->core, &conn->ws);
  conn->session_id = g_strdup_printf ("mock-session-%u", conn->ws.index);
  conn->completion_id = g_strdup_printf ("mock-completion-%u",
      conn->ws.index);
  return conn;
}

static void
on_request (MockH2Stream * stream, const gchar * const *headers,
    gpointer user_data)
{
  MockBedrock *mock = user_data;
  Conn *conn = conn_add (mock, stream, headers);
  const gchar *type, *message;
  MockWsScript *script;

  g_mutex_lock (&mock->core.lock);
  script = g_queue_pop_head (&mock->core.queue);
  g_mutex_unlock (&mock->core.lock);

  check_request_headers (conn);
  /* a bad signature is answered at once, as the service does */
  type = authorize (conn, &message);
  if (type) {
    respond_error (conn, 403, type, message);
  } else if (script && script->reject_status) {
    Step *s = g_queue_peek_head (&script->steps);
    respond_error (conn, script->reject_status, s ? s->text : NULL,
        script->reject_body);
  } else {
    /* the 200 goes before the first thing sent; it is decided now */
    g_mutex_lock (&mock->core.lock);
    conn->ws.status = 200;
    g_mutex_unlock (&mock->core.lock);
    conn->decoder = gst_bidi_es_decoder_new (0);
    take_steps (conn, script ? (MockBedrockScript *) g_steal_pointer (&script)
        : default_script ());
    conn_next (conn);
  }
  mock_ws_script_free (script);
}

static void
on_data (MockH2Stream * stream, const guint8 * data, gsize len,
    gpointer user_data)
{
  Conn *conn = mock_h2_stream_get_data (stream);
  GError *err = NULL;
  GstBidiEsMessage *msg;

  (void) user_data;
  if (!conn || conn->rejected || gst_bidi_es_decoder_failed (conn->decoder))
    return;
  gst_bidi_es_decoder_feed (conn->decoder, data, len, NULL);
  while ((msg = gst_bidi_es_decoder_next (conn->decoder, &err))) {
    handle_frame (conn, msg);
    gst_bidi_es_message_free (msg);
  }
  if (err) {
    conn_violation (conn, "frame %u: the body is not an event stream any "
        "more (%s)", conn->n_frames + 1, err->message);
    g_error_free (err);
  }
  conn_poke (conn);
}

static void
on_end (MockH2Stream * stream, gpointer user_data)
{
  Conn *conn = mock_h2_stream_get_data (stream);
  MockBedrock *mock = user_data;

  if (!conn || conn->rejected)
    return;
  if (!gst_bidi_es_decoder_failed (conn->decoder)
      && gst_bidi_es_decoder_pending (conn->decoder) > 0)
    conn_violation (conn, "END_STREAM inside a frame (%" G_GSIZE_FORMAT
        " bytes of a truncated frame)",
        gst_bidi_es_decoder_pending (conn->decoder));
  if (!conn->end_frame)
    conn_violation (conn, "END_STREAM without the signed empty frame");
  g_mutex_lock (&mock->core.lock);
  conn->client_ended = conn->end_frame;
  g_cond_broadcast (&mock->core.cond);
  g_mutex_unlock (&mock->core.lock);
}

static void
on_closed (MockH2Stream * stream, guint32 error_code, gpointer user_data)
{
  Conn *conn = mock_h2_stream_get_data (stream);
  MockBedrock *mock = user_data;
  gboolean unfinished;

  if (!conn)
    return;
  g_debug ("mockbedrock: connection %u: stream closed (%u)", conn->ws.index,
      error_code);
  /* a last step (reset, drop) may close it while it runs: that is done */
  unfinished = (conn->ws.step && !conn->running)
      || !g_queue_is_empty (&conn->ws.steps);
  conn->stream = NULL;
  drop_steps (conn);
  g_mutex_lock (&mock->core.lock);
  conn->ws.closed = TRUE;
  if (unfinished)
    conn->ws.script_ended = TRUE;
  g_cond_broadcast (&mock->core.cond);
  g_mutex_unlock (&mock->core.lock);
}

static const MockH2Callbacks h2_callbacks = {
  .request = on_request,
  .data = on_data,
  .end = on_end,
  .closed = on_closed,
};

/* ------------------------------------------------------------------------
 * The server
 * ------------------------------------------------------------------------ */

static const MockWsClass bedrock_class = {
  .name = "mockbedrock",
  .api = "mock_bedrock",
  .open_status = 200,
  .conn_size = sizeof (Conn),
  .conn_init = conn_init,
  .conn_clear = conn_clear,
  .frame_matches = event_is,
  .next_step = next_step,
  .audio_kind = "audioInput",
};

MockBedrock *
mock_bedrock_new (void)
{
  MockBedrock *mock = g_new0 (MockBedrock, 1);

  mock_ws_records_init (&mock->core, &bedrock_class);
  mock_bedrock_set_credentials (mock, MOCK_BEDROCK_ACCESS_KEY,
      MOCK_BEDROCK_SECRET_KEY, NULL, MOCK_BEDROCK_REGION);
  test_cert_init (&mock->cert);
  mock->h2 = mock_h2_new ("mockbedrock", mock->cert.pem, &h2_callbacks,
      mock);
  mock->core.context = mock_h2_context (mock->h2);
  mock->core.url = g_strdup_printf ("https://127.0.0.1:%u",
      mock_h2_port (mock->h2));
  return mock;
}

const gchar *
mock_bedrock_url (MockBedrock * mock)
{
  return mock->core.url;
}

const gchar *
mock_bedrock_ca_file (MockBedrock * mock)
{
  return mock->cert.cert;
}

/* On the thread: no step runs any more and the open streams are reset */
static gboolean
shut_down_cb (gpointer user_data)
{
  MockBedrock *mock = user_data;
  guint i;

  mock->core.stopping = TRUE;
  for (i = 0; i < mock->core.conns->len; i++) {
    Conn *conn = g_ptr_array_index (mock->core.conns, i);
    drop_steps (conn);
    if (conn->stream)
      mock_h2_stream_reset (conn->stream, H2_INTERNAL_ERROR);
  }
  g_mutex_lock (&mock->core.lock);
  mock->shut = TRUE;
  g_cond_broadcast (&mock->core.cond);
  g_mutex_unlock (&mock->core.lock);
  return G_SOURCE_REMOVE;
}

void
mock_bedrock_free (MockBedrock * mock)
{
  if (!mock)
    return;
  /* the streams are the thread's: it resets them, then says so */
  g_main_context_invoke (mock->core.context, shut_down_cb, mock);
  g_mutex_lock (&mock->core.lock);
  while (!mock->shut)
    g_cond_wait (&mock->core.cond, &mock->core.lock);
  g_mutex_unlock (&mock->core.lock);
  mock_h2_free (mock->h2);
  mock_ws_records_clear (&mock->core);
  g_free (mock->core.url);
  credentials_clear (&mock->cred);
  test_cert_clear (&mock->cert);
  g_free (mock);
}

void
mock_bedrock_set_credentials (MockBedrock * mock, const gchar * access_key,
    const gchar * secret_key, const gchar * session_token,
    const gchar * region)
{
  const gchar *const values[N_CRED] = { access_key, secret_key,
    session_token, region
  };

  g_mutex_lock (&mock->core.lock);
  credentials_set (&mock->cred, values);
  g_mutex_unlock (&mock->core.lock);
}

void
mock_bedrock_push_script (MockBedrock * mock, MockBedrockScript * script)
{
  mock_ws_server_push_script (&mock->core, CORE (script));
}

/* A rejection is a script with a status, its body the message and its one
 * step the error type */
void
mock_bedrock_push_reject (MockBedrock * mock, guint http_status,
    const gchar * error_type, const gchar * message)
{
  MockBedrockScript *script = mock_bedrock_script_new ();

  g_return_if_fail (http_status >= 200);
  CORE (script)->reject_status = http_status;
  CORE (script)->reject_body = g_strdup (message);
  add_custom (script, CUSTOM_ERROR_TYPE, error_type);
  mock_ws_server_push_script (&mock->core, CORE (script));
}

void
mock_bedrock_run (MockBedrock * mock, guint conn, MockBedrockScript * script)
{
  mock_ws_server_run (&mock->core, conn, CORE (script));
}

/* ------------------------------------------------------------------------
 * Queries (any thread): the core's records
 * ------------------------------------------------------------------------ */

guint
mock_bedrock_n_connections (MockBedrock * mock)
{
  return mock_ws_server_n_connections (&mock->core);
}

gboolean
mock_bedrock_wait_connections (MockBedrock * mock, guint n, guint timeout_ms)
{
  return mock_ws_server_wait_connections (&mock->core, n, timeout_ms);
}

gchar *
mock_bedrock_get_path (MockBedrock * mock, guint conn)
{
  return mock_ws_server_get_path (&mock->core, conn);
}

/* Pseudo-headers included: not the core's SoupMessageHeaders */
gchar *
mock_bedrock_get_header (MockBedrock * mock, guint conn, const gchar * name)
{
  gchar *value = NULL;

  g_mutex_lock (&mock->core.lock);
  if (conn < mock->core.conns->len)
    value = g_strdup (conn_header (g_ptr_array_index (mock->core.conns, conn),
            name));
  g_mutex_unlock (&mock->core.lock);
  return value;
}

guint
mock_bedrock_get_status (MockBedrock * mock, guint conn)
{
  return mock_ws_server_get_status (&mock->core, conn);
}

gboolean
mock_bedrock_wait_closed (MockBedrock * mock, guint conn, guint timeout_ms)
{
  return mock_ws_server_wait_closed (&mock->core, conn, timeout_ms);
}

gboolean
mock_bedrock_client_ended (MockBedrock * mock, guint conn)
{
  gboolean ended = FALSE;

  g_mutex_lock (&mock->core.lock);
  if (conn < mock->core.conns->len)
    ended = CONN (g_ptr_array_index (mock->core.conns, conn))->client_ended;
  g_mutex_unlock (&mock->core.lock);
  return ended;
}

gboolean
mock_bedrock_wait_script_done (MockBedrock * mock, guint conn,
    guint timeout_ms)
{
  return mock_ws_server_wait_script_done (&mock->core, conn, timeout_ms);
}

guint
mock_bedrock_n_events (MockBedrock * mock, guint conn)
{
  return mock_ws_server_n_frames (&mock->core, conn);
}

gchar *
mock_bedrock_get_event (MockBedrock * mock, guint conn, guint i)
{
  return mock_ws_server_get_frame (&mock->core, conn, i);
}

guint
mock_bedrock_count_events (MockBedrock * mock, guint conn,
    const gchar * kind)
{
  return mock_ws_server_count_frames (&mock->core, conn, kind);
}

gchar *
mock_bedrock_wait_event (MockBedrock * mock, guint conn, const gchar * kind,
    guint index, guint timeout_ms)
{
  return mock_ws_server_wait_frame (&mock->core, conn, kind, index,
      timeout_ms);
}

gsize
mock_bedrock_get_audio_bytes (MockBedrock * mock, guint conn)
{
  return mock_ws_server_get_audio_bytes (&mock->core, conn);
}

gboolean
mock_bedrock_wait_audio_bytes (MockBedrock * mock, guint conn, gsize n_bytes,
    guint timeout_ms)
{
  return mock_ws_server_wait_audio_bytes (&mock->core, conn, n_bytes,
      timeout_ms);
}

GBytes *
mock_bedrock_get_audio (MockBedrock * mock, guint conn)
{
  return mock_ws_server_get_audio (&mock->core, conn);
}

guint
mock_bedrock_n_violations (MockBedrock * mock)
{
  return mock_ws_count_lines (&mock->core.lock, mock->core.violations);
}

gchar *
mock_bedrock_get_violations (MockBedrock * mock)
{
  return mock_ws_join_lines (&mock->core.lock, mock->core.violations);
}

guint
mock_bedrock_n_failures (MockBedrock * mock)
{
  return mock_ws_count_lines (&mock->core.lock, mock->core.failures);
}

gchar *
mock_bedrock_get_failures (MockBedrock * mock)
{
  return mock_ws_join_lines (&mock->core.lock, mock->core.failures);
}

void
mock_bedrock_set_audio_sent_func (MockBedrock * mock,
    MockBedrockAudioSentFunc func, gpointer user_data)
{
  mock_ws_server_set_audio_sent_func (&mock->core, func, user_data);
}

void
mock_bedrock_set_keep_audio (MockBedrock * mock, gboolean keep)
{
  mock_ws_server_set_keep_audio (&mock->core, keep);
}
