/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Bedrock's bidirectional stream as a GstBidiTransport: three layers
 * (nova-sonic.md, top of the notes) on one HTTP/2 request.
 *
 *   a Nova event (JSON) -> a Bedrock chunk (gstbidieventstream.h) -> a
 *   signed event-stream frame (gstbidisigv4.h) -> the request body
 *   (gstbidih2.h)
 *
 * and back, without the signature, on the response body. Everything runs
 * on the provider's network thread.
 *
 * Ending: a clean close writes the signed empty frame and ends the body
 * (the HTTP/2 client writes them to the socket at once), then cancels the
 * stream: the server has seen a complete stream and frees its resources,
 * as AWS asks, and nothing waits for its answer. Waiting for it would
 * need the network thread's loop, which stops right after a provider
 * does. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/bidi/gstbidijson.h>

#include "gstbidinovatransport.h"
#include "gstbidieventstream.h"
#include "gstbidih2.h"
#include "gstbidirealtime.h"
#include "gstbidisigv4.h"

GST_DEBUG_CATEGORY_STATIC (bidi_nova_transport_debug);
#define GST_CAT_DEFAULT bidi_nova_transport_debug

#define DEFAULT_MAX_MESSAGE_SIZE (16 * 1024 * 1024)
#define MAX_MESSAGE_DEPTH 64
/* a refused request's body: only its message is wanted */
#define MAX_ERROR_BODY_SIZE (64 * 1024)
#define ERROR_EXCERPT_CHARS 300

typedef struct
{
  GstBidiTransport parent;
  /* one for the provider until close(), one for each callback running */
  guint refcount;

  GstBidiTransportCallbacks cb;
  gpointer user_data;
  gchar *server_name;
  gchar *display_url;           /* scheme://host:port/path, no secret */

  /* scrubbed from what the server sends back; wiped when freed */
  gchar *secret_key;
  gchar *session_token;

  GstBidiH2Stream *h2;
  GstBidiSigV4Signer *signer;
  GstBidiEsDecoder *decoder;
  gsize max_message_size;

  gboolean connected;
  gboolean done;                /* closed was reported, or close() ran */
  gboolean detached;            /* close() ran: no callback from now on */
  gboolean ended;               /* the empty frame was written */

  /* the response */
  guint status;
  gchar *error_type;            /* x-amzn-errortype of a refusal */
  GByteArray *error_body;
} NovaTransport;

static void
debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (bidi_nova_transport_debug, "bidinovatransport",
        0, "bidiagent nova-sonic: Bedrock event stream over HTTP/2");
    g_once_init_leave (&done, 1);
  }
}

static void
wipe_free (gchar * s)
{
  if (s) {
    explicit_bzero (s, strlen (s));
    g_free (s);
  }
}

static void
nt_free (NovaTransport * t)
{
  gst_bidi_h2_stream_free (t->h2);
  g_clear_pointer (&t->signer, gst_bidi_sigv4_signer_free);
  g_clear_pointer (&t->decoder, gst_bidi_es_decoder_free);
  wipe_free (t->secret_key);
  wipe_free (t->session_token);
  g_free (t->server_name);
  g_free (t->display_url);
  g_free (t->error_type);
  if (t->error_body)
    g_byte_array_unref (t->error_body);
  g_free (t);
}

static NovaTransport *
nt_ref (NovaTransport * t)
{
  t->refcount++;
  return t;
}

static void
nt_unref (NovaTransport * t)
{
  if (--t->refcount == 0)
    nt_free (t);
}

/* Untrusted server text, safe for a message: neither secret, one line,
 * short */
static gchar *
nt_clean (NovaTransport * t, const gchar * text, gsize len)
{
  GString *s;
  gchar *out;

  if (!text)
    return NULL;
  /* the excerpt keeps far less than this: bounds the scrubbing */
  s = g_string_new_len (text, MIN (len, (gsize) ERROR_EXCERPT_CHARS * 8));
  gst_bidi_realtime_scrub_secret (s, t->secret_key);
  gst_bidi_realtime_scrub_secret (s, t->session_token);
  out = gst_bidi_realtime_excerpt (s->str, s->len, ERROR_EXCERPT_CHARS);
  g_string_free (s, TRUE);
  return out;
}

/* ------------------------------------------------------------------------
 * Reporting
 * ------------------------------------------------------------------------ */

/* The one closed callback: nothing is reported after it */
static void
nt_report_closed (NovaTransport * t, const GstBidiTransportCloseInfo * info,
    GError * error)
{
  if (t->done)
    return;
  t->done = TRUE;
  GST_INFO ("%s: %s", t->server_name, error->message);
  if (t->cb.closed && !t->detached)
    t->cb.closed ((GstBidiTransport *) t, info, error, t->user_data);
}

static void
nt_bad_message (NovaTransport * t, GError * error)
{
  GST_WARNING ("%s: %s", t->server_name, error->message);
  if (t->cb.bad_message && !t->detached)
    t->cb.bad_message ((GstBidiTransport *) t, error, t->user_data);
  g_error_free (error);
}

/* The request was refused: its status, type and message */
static void
nt_report_refused (NovaTransport * t)
{
  GstBidiTransportCloseInfo info = { 0, };
  GString *msg = g_string_new (NULL);
  gchar *detail = NULL, *type;
  GError *error;
  gint code = GST_RESOURCE_ERROR_OPEN_READ_WRITE;

  info.http_status = t->status;
  if (t->error_body && t->error_body->len > 0) {
    JsonObject *obj = gst_bidi_json_parse_object ((const gchar *)
        t->error_body->data, t->error_body->len, MAX_ERROR_BODY_SIZE, 16,
        NULL);
    const gchar *m = obj ? gst_bidi_json_error_message (obj) : NULL;

    detail = m ? nt_clean (t, m, strlen (m)) : nt_clean (t, (const gchar *)
        t->error_body->data, t->error_body->len);
    if (obj)
      json_object_unref (obj);
  }
  /* "AccessDeniedException:http://internal.amazon.com/..." : the name */
  type = t->error_type ? nt_clean (t, t->error_type, strcspn (t->error_type,
          ":")) : NULL;

  if (t->status == 401 || t->status == 403) {
    info.not_authorized = TRUE;
    code = GST_RESOURCE_ERROR_NOT_AUTHORIZED;
    g_string_append_printf (msg, "%s refused the credentials (HTTP %u%s%s)",
        t->server_name, t->status, type ? " " : "", type ? type : "");
  } else {
    g_string_append_printf (msg, "%s refused the request to %s (HTTP %u%s%s)",
        t->server_name, t->display_url, t->status, type ? " " : "",
        type ? type : "");
  }
  if (detail && *detail)
    g_string_append_printf (msg, ": %s", detail);

  error = g_error_new_literal (GST_RESOURCE_ERROR, code, msg->str);
  nt_report_closed (t, &info, error);
  g_error_free (error);
  g_string_free (msg, TRUE);
  g_free (detail);
  g_free (type);
}

/* An open stream ended: @why says how (transfer full) */
static void
nt_report_lost (NovaTransport * t, gchar * why)
{
  GstBidiTransportCloseInfo info = { 0, };
  GError *error;

  info.was_open = TRUE;
  info.http_status = t->status;
  error = g_error_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "%s: %s",
      t->server_name, why);
  nt_report_closed (t, &info, error);
  g_error_free (error);
  g_free (why);
}

/* ------------------------------------------------------------------------
 * The response body
 * ------------------------------------------------------------------------ */

/* Gives the provider @obj with its text @json (taken) */
static void
nt_deliver (NovaTransport * t, JsonObject * obj, gchar * json, gsize len)
{
  if (t->cb.message && !t->detached)
    t->cb.message ((GstBidiTransport *) t, obj, json, len, t->user_data);
  json_object_unref (obj);
  g_free (json);
}

/* A server exception, as the message {"exception": {type, message}} */
static void
nt_deliver_exception (NovaTransport * t, const GstBidiBedrockChunk * chunk)
{
  JsonObject *obj = json_object_new (), *inner = json_object_new ();
  JsonNode *root;
  gchar *text, *type, *message;

  type = nt_clean (t, chunk->name ? chunk->name : "unknown",
      chunk->name ? strlen (chunk->name) : 7);
  message = chunk->message ? nt_clean (t, chunk->message,
      strlen (chunk->message)) : g_strdup ("");
  json_object_set_string_member (inner, "type", type);
  json_object_set_string_member (inner, "message", message);
  json_object_set_object_member (obj, "exception", inner);
  root = json_node_init_object (json_node_alloc (), obj);
  text = json_to_string (root, FALSE);
  json_node_unref (root);
  GST_INFO ("%s sent %s: %s", t->server_name, type, message);
  g_free (type);
  g_free (message);
  nt_deliver (t, obj, text, strlen (text));
}

/* One Nova event's JSON (@json, valid UTF-8, taken) */
static void
nt_deliver_event (NovaTransport * t, gchar * json, gsize len)
{
  JsonObject *obj;
  GError *err = NULL;

  /* the token goes out in a header: a server that quotes it back must not
   * get it into a log or an event */
  if ((t->session_token && g_strstr_len (json, len, t->session_token)) ||
      (t->secret_key && g_strstr_len (json, len, t->secret_key))) {
    GString *s = g_string_new_len (json, len);

    gst_bidi_realtime_scrub_secret_exact (s, t->session_token);
    gst_bidi_realtime_scrub_secret_exact (s, t->secret_key);
    g_free (json);
    len = s->len;
    json = g_string_free (s, FALSE);
  }

  obj = gst_bidi_json_parse_object (json, len, t->max_message_size,
      MAX_MESSAGE_DEPTH, &err);
  if (!obj) {
    nt_bad_message (t, g_error_new (GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
            "%s sent an event that was ignored: %s", t->server_name,
            err->message));
    g_error_free (err);
    g_free (json);
    return;
  }
  nt_deliver (t, obj, json, len);
}

/* One event-stream message of the response */
static void
nt_handle_frame (NovaTransport * t, GstBidiEsMessage * msg)
{
  GstBidiBedrockChunk chunk = { 0, };
  GError *err = NULL;

  if (!gst_bidi_bedrock_chunk_decode (msg, t->max_message_size, &chunk,
          &err)) {
    nt_bad_message (t, g_error_new (GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
            "%s sent a message that was ignored: %s", t->server_name,
            err->message));
    g_error_free (err);
    return;
  }
  switch (chunk.kind) {
    case GST_BIDI_BEDROCK_CHUNK_EVENT:
      nt_deliver_event (t, chunk.json, chunk.json_len);
      chunk.json = NULL;
      break;
    case GST_BIDI_BEDROCK_CHUNK_EXCEPTION:
    case GST_BIDI_BEDROCK_CHUNK_ERROR:
      nt_deliver_exception (t, &chunk);
      break;
    case GST_BIDI_BEDROCK_CHUNK_OTHER:
      GST_DEBUG ("%s: ignoring a message of another kind", t->server_name);
      break;
  }
  gst_bidi_bedrock_chunk_clear (&chunk);
}

static void
nt_h2_data (G_GNUC_UNUSED GstBidiH2Stream * h2, const guint8 * data,
    gsize len, gpointer user_data)
{
  NovaTransport *t = user_data;
  GstBidiEsMessage *msg;
  GError *err = NULL;

  if (t->done)
    return;
  if (t->status != 200) {
    guint room = MAX_ERROR_BODY_SIZE - t->error_body->len;

    g_byte_array_append (t->error_body, data, MIN (len, room));
    return;
  }

  nt_ref (t);
  if (!gst_bidi_es_decoder_feed (t->decoder, data, len, &err))
    goto broken;
  /* the provider may close the transport from any callback: then it is
   * done, and nothing more is read */
  while (!t->done && (msg = gst_bidi_es_decoder_next (t->decoder, &err))) {
    nt_handle_frame (t, msg);
    gst_bidi_es_message_free (msg);
  }
  if (err)
    goto broken;
  nt_unref (t);
  return;

broken:
  /* the next message boundary cannot be found: the stream is over */
  if (!t->done)
    nt_report_lost (t, g_strdup_printf ("the event stream is broken (%s)",
            err->message));
  g_error_free (err);
  nt_unref (t);
}

static void
nt_h2_response (G_GNUC_UNUSED GstBidiH2Stream * h2, guint status,
    const gchar * const *headers, gpointer user_data)
{
  NovaTransport *t = user_data;
  guint i;

  t->status = status;
  GST_DEBUG ("%s answered HTTP %u", t->server_name, status);
  if (status == 200)
    return;
  t->error_body = g_byte_array_new ();
  for (i = 0; headers && headers[i] && headers[i + 1]; i += 2) {
    if (g_ascii_strcasecmp (headers[i], "x-amzn-errortype") == 0) {
      g_free (t->error_type);
      t->error_type = g_strdup (headers[i + 1]);
    }
  }
}

static void
nt_h2_closed (G_GNUC_UNUSED GstBidiH2Stream * h2, const GError * error,
    gpointer user_data)
{
  NovaTransport *t = user_data;

  if (t->done)
    return;

  nt_ref (t);

  if (t->status != 0 && t->status != 200) {
    nt_report_refused (t);
  } else if (!t->connected) {
    GstBidiTransportCloseInfo info = { 0, };
    gchar *why = nt_clean (t, error ? error->message : "closed",
        error ? strlen (error->message) : 6);
    GError *err = g_error_new (GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Could not connect to %s at %s: "
        "%s", t->server_name, t->display_url, why);

    nt_report_closed (t, &info, err);
    g_error_free (err);
    g_free (why);
  } else if (error) {
    nt_report_lost (t, nt_clean (t, error->message, strlen (error->message)));
  } else if (gst_bidi_es_decoder_pending (t->decoder) > 0) {
    nt_report_lost (t, g_strdup_printf ("the stream ended in the middle of "
            "a message (%" G_GSIZE_FORMAT " bytes left)",
            gst_bidi_es_decoder_pending (t->decoder)));
  } else {
    nt_report_lost (t, g_strdup ("the server ended the stream"));
  }
  nt_unref (t);
}

static void
nt_h2_connected (G_GNUC_UNUSED GstBidiH2Stream * h2, gpointer user_data)
{
  NovaTransport *t = user_data;

  t->connected = TRUE;
  GST_DEBUG ("%s: stream open", t->server_name);
  nt_ref (t);
  if (t->cb.open && !t->detached)
    t->cb.open ((GstBidiTransport *) t, t->user_data);
  nt_unref (t);
}

static const GstBidiH2Callbacks h2_callbacks = {
  nt_h2_connected,
  nt_h2_response,
  nt_h2_data,
  nt_h2_closed,
};

/* ------------------------------------------------------------------------
 * GstBidiTransport
 * ------------------------------------------------------------------------ */

static gboolean
nt_is_open (GstBidiTransport * transport)
{
  NovaTransport *t = (NovaTransport *) transport;

  return t->connected && !t->done && gst_bidi_h2_stream_is_open (t->h2);
}

/* Signs @payload into the chain and writes it */
static gboolean
nt_write_signed (NovaTransport * t, GBytes * payload)
{
  gint64 now_ms = g_get_real_time () / 1000;
  GError *err = NULL;
  GBytes *frame;
  gboolean ok;

  frame = payload ? gst_bidi_sigv4_signer_next (t->signer, now_ms, payload,
      &err) : gst_bidi_sigv4_signer_finish (t->signer, now_ms, &err);
  if (!frame) {
    GST_WARNING ("%s: cannot sign an event: %s", t->server_name,
        err->message);
    g_error_free (err);
    return FALSE;
  }
  ok = gst_bidi_h2_stream_write (t->h2, frame);
  g_bytes_unref (frame);
  return ok;
}

static gboolean
nt_send_text (GstBidiTransport * transport, const gchar * text)
{
  NovaTransport *t = (NovaTransport *) transport;
  GError *err = NULL;
  GBytes *chunk;
  gboolean ok;

  if (!nt_is_open (transport) || t->ended)
    return FALSE;
  chunk = gst_bidi_bedrock_chunk_encode (text, -1, &err);
  if (!chunk) {
    GST_WARNING ("%s: an event was not sent: %s", t->server_name,
        err->message);
    g_error_free (err);
    return FALSE;
  }
  ok = nt_write_signed (t, chunk);
  g_bytes_unref (chunk);
  return ok;
}

static gboolean
nt_send_object (GstBidiTransport * transport, JsonObject * object)
{
  JsonNode *root = json_node_init_object (json_node_alloc (), object);
  gchar *text = json_to_string (root, FALSE);
  gboolean ok = nt_send_text (transport, text);

  json_node_unref (root);
  g_free (text);
  return ok;
}

static gboolean
nt_get_send_state (GstBidiTransport * transport,
    GstBidiTransportSendState * state)
{
  NovaTransport *t = (NovaTransport *) transport;

  if (!nt_is_open (transport))
    return FALSE;
  /* a dead peer is found by the HTTP/2 PINGs (gstbidih2.c): only the
   * backlog is told here */
  memset (state, 0, sizeof (*state));
  state->queued = gst_bidi_h2_stream_get_queued (t->h2);
  return TRUE;
}

static void
nt_close (GstBidiTransport * transport, G_GNUC_UNUSED gushort code)
{
  NovaTransport *t = (NovaTransport *) transport;

  gboolean clean;

  if (!t)
    return;
  g_return_if_fail (!t->detached);

  clean = nt_is_open (transport) && (t->status == 0 || t->status == 200);
  t->detached = TRUE;
  t->done = TRUE;
  /* the signed empty frame closes the chain, then END_STREAM */
  if (clean && nt_write_signed (t, NULL)) {
    t->ended = TRUE;
    gst_bidi_h2_stream_end (t->h2);
  }
  nt_unref (t);
}

static const GstBidiTransportFuncs nova_transport_funcs = {
  nt_send_object,
  nt_send_text,
  nt_is_open,
  nt_close,
  nt_get_send_state,
};

/* ------------------------------------------------------------------------
 * Connecting
 * ------------------------------------------------------------------------ */

/* The signed request headers (names and values, NULL-terminated, without
 * :authority, which the HTTP/2 client adds) for @uri */
static GPtrArray *
nt_sign_request (NovaTransport * t, GUri * uri, GError ** error)
{
  GstBidiSigV4Header headers[5];
  GstBidiSigV4Signed *signed_req;
  GPtrArray *out;
  gchar *authority = gst_bidi_h2_authority (uri);
  gchar *date = gst_bidi_sigv4_format_date (g_get_real_time () /
      G_USEC_PER_SEC);
  guint n = 0, i;

  headers[n++] = (GstBidiSigV4Header) {
  ":authority", authority};
  headers[n++] = (GstBidiSigV4Header) {
  "content-type", "application/vnd.amazon.eventstream"};
  headers[n++] = (GstBidiSigV4Header) {
  "x-amz-content-sha256", GST_BIDI_SIGV4_STREAMING_PAYLOAD};
  headers[n++] = (GstBidiSigV4Header) {
  "x-amz-date", date};
  if (t->session_token)
    headers[n++] = (GstBidiSigV4Header) {
  "x-amz-security-token", t->session_token};

  signed_req = gst_bidi_sigv4_signer_sign_request (t->signer, "POST",
      g_uri_get_path (uri), headers, n, NULL, error);
  g_free (authority);
  if (!signed_req) {
    g_free (date);
    return NULL;
  }

  out = g_ptr_array_new_with_free_func ((GDestroyNotify) wipe_free);
  for (i = 1; i < n; i++) {
    g_ptr_array_add (out, g_strdup (headers[i].name));
    g_ptr_array_add (out, g_strdup (headers[i].value));
  }
  g_ptr_array_add (out, g_strdup ("authorization"));
  g_ptr_array_add (out, g_strdup (signed_req->authorization));
  g_ptr_array_add (out, NULL);
  gst_bidi_sigv4_signed_free (signed_req);
  g_free (date);
  return out;
}

static gchar *
nt_display_url (GUri * uri)
{
  return g_uri_join (G_URI_FLAGS_ENCODED, g_uri_get_scheme (uri), NULL,
      g_uri_get_host (uri), g_uri_get_port (uri), g_uri_get_path (uri), NULL,
      NULL);
}

GstBidiTransport *
gst_bidi_nova_transport_connect (const GstBidiTransportOptions * options,
    const GstBidiTransportCallbacks * callbacks, gpointer user_data,
    GError ** error)
{
  const GstBidiAwsCredentials *creds = options->transport_data;
  GstBidiH2Options h2_options = { 0, };
  NovaTransport *t;
  GPtrArray *headers;
  GUri *uri;

  debug_init ();
  g_return_val_if_fail (creds != NULL, NULL);

  uri = g_uri_parse (options->url, G_URI_FLAGS_ENCODED, NULL);
  if (!uri || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 ||
      !g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "The %s endpoint must be an https:// URL with a host",
        options->server_name);
    if (uri)
      g_uri_unref (uri);
    return NULL;
  }

  t = g_new0 (NovaTransport, 1);
  t->refcount = 1;
  t->parent.funcs = &nova_transport_funcs;
  t->cb = *callbacks;
  t->user_data = user_data;
  t->server_name = g_strdup (options->server_name);
  t->display_url = nt_display_url (uri);
  t->secret_key = g_strdup (creds->secret_access_key);
  t->session_token = g_strdup (creds->session_token);
  t->max_message_size = options->max_message_size ?
      options->max_message_size : DEFAULT_MAX_MESSAGE_SIZE;
  /* a chunk holds the event in base64, in a small JSON wrapper */
  t->decoder = gst_bidi_es_decoder_new (MIN (GST_BIDI_ES_MAX_MESSAGE_SIZE,
          t->max_message_size / 3 * 4 + 4096));

  t->signer = gst_bidi_sigv4_signer_new (creds->access_key_id,
      creds->secret_access_key, creds->session_token, creds->region,
      GST_BIDI_SIGV4_SERVICE_BEDROCK, error);
  if (!t->signer || !(headers = nt_sign_request (t, uri, error))) {
    g_uri_unref (uri);
    nt_free (t);
    return NULL;
  }

  h2_options.url = options->url;
  h2_options.method = "POST";
  h2_options.headers = (const gchar * const *) headers->pdata;
  h2_options.ca_database = options->ca_database;
  h2_options.ssl_strict = options->ssl_strict;
  h2_options.connect_timeout_s = options->connect_timeout_s;
  h2_options.keepalive_s = options->keepalive_s;
  t->h2 = gst_bidi_h2_stream_open (&h2_options, &h2_callbacks, t, error);
  g_ptr_array_unref (headers);
  g_uri_unref (uri);
  if (!t->h2) {
    nt_free (t);
    return NULL;
  }
  GST_DEBUG ("%s: connecting to %s", t->server_name, t->display_url);
  return (GstBidiTransport *) t;
}
