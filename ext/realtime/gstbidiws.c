/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* A WebSocket connection carrying JSON objects: see gstbidiws.h.
 *
 * Lifetime: GstBidiWs is reference counted. The owner holds one reference
 * until gst_bidi_transport_close(); every asynchronous operation in
 * flight holds another (given as its user_data) and drops it in its
 * callback, so a callback never finds freed memory.
 * gst_bidi_transport_close() marks the object detached and cancels:
 * callbacks that still come see that and do nothing. The
 * SoupWebsocketConnection's signal handlers are disconnected
 * at close; a connection that was open is closed politely and kept until
 * libsoup says it is closed (it sends the close frame and waits at most a
 * few seconds for the server's).
 *
 * A refused upgrade: libsoup 3.2 does not keep the body of the HTTP
 * answer, which is where servers say why (e.g. "Incorrect API key
 * provided"). For a 4xx status the same request (handshake headers
 * included) is made once more with a plain send, which keeps the body; if
 * its status is the same, the body gives the message.
 *
 * A peer that stopped reading: libsoup 3.2 sends pings but cannot see the
 * pongs, and queues without bound what the socket cannot take. The TCP
 * socket (kept from the message's network-event) shows both: the bytes
 * the kernel holds unacknowledged (SIOCOUTQ), and whether it can take
 * more (what was sent while it could not waits in libsoup's queue). See
 * gst_bidi_transport_get_send_state(). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#ifdef __linux__
#include <sys/ioctl.h>
#include <linux/sockios.h>
#endif

#include <libsoup/soup.h>

#include "gstbidiws.h"
#include "gstbidirealtime.h"

GST_DEBUG_CATEGORY_STATIC (bidi_ws_debug);
#define GST_CAT_DEFAULT bidi_ws_debug

#define DEFAULT_MAX_MESSAGE_SIZE (16 * 1024 * 1024)
#define DEFAULT_CONNECT_TIMEOUT_S 20
/* what is read of the body of a refused upgrade */
#define MAX_ERROR_BODY_SIZE (16 * 1024)
#define ERROR_EXCERPT_CHARS 300
/* the server's messages are shallow; this is far above */
#define MAX_MESSAGE_DEPTH 64

typedef enum
{
  WS_CONNECTING,
  WS_FETCHING_ERROR,            /* upgrade refused, reading why */
  WS_OPEN,
  WS_DONE                       /* closed callback called, or detached */
} WsState;

typedef struct _GstBidiWs GstBidiWs;

/* Every field: the network thread only (the thread of the context that was
 * thread-default at gst_bidi_ws_connect()) */
struct _GstBidiWs
{
  GstBidiTransport parent;      /* first: a GstBidiWs is a transport */
  gint refcount;
  WsState state;
  gboolean detached;            /* gst_bidi_transport_close () was called */
  GstBidiTransportCallbacks cb;
  gpointer user_data;

  GMainContext *context;
  GUri *uri;
  gchar *display_url;           /* no query */
  gchar *server_name;
  gchar *secret;                /* for scrubbing; wiped when freed */
  GTlsDatabase *ca_database;
  gboolean ssl_strict;
  guint64 max_message_size;
  guint keepalive_s;
  gboolean binary_json;         /* binary frames hold JSON too */
  guint connect_timeout_s;

  SoupSession *session;
  SoupMessage *msg;
  GCancellable *cancellable;
  GSource *timeout_source;
  SoupWebsocketConnection *conn;
  GError *conn_error;           /* the connection's first "error" */

  /* how the peer takes what is written (get_send_state) */
  GSocket *socket;              /* the TCP socket; NULL once closed */
  guint64 queued;               /* sent while the socket was full */
  guint64 last_outq;            /* unacknowledged at the last look */
  guint64 written;              /* handed to the socket since the last
                                 * look, when it could take them */
  gint64 stuck_since;

  /* a refused upgrade */
  guint http_status;
  gchar *reason_phrase;
  SoupMessage *body_msg;
  GInputStream *body_stream;
  GByteArray *body;
  guint8 buf[4096];
};

static void
debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (bidi_ws_debug, "bidiws", 0,
        "bidiagent providers: WebSocket client");
    g_once_init_leave (&done, 1);
  }
}

static GstBidiWs *
ws_ref (GstBidiWs * ws)
{
  g_atomic_int_inc (&ws->refcount);
  return ws;
}

static void ws_disconnect_conn (GstBidiWs * ws);

static void
ws_unref (GstBidiWs * ws)
{
  if (!g_atomic_int_dec_and_test (&ws->refcount))
    return;

  GST_TRACE ("ws %p freed", ws);
  if (ws->conn) {
    ws_disconnect_conn (ws);
    g_clear_object (&ws->conn);
  }
  if (ws->timeout_source) {
    g_source_destroy (ws->timeout_source);
    g_source_unref (ws->timeout_source);
  }
  g_clear_object (&ws->cancellable);
  g_clear_object (&ws->body_stream);
  if (ws->body_msg)
    g_signal_handlers_disconnect_by_data (ws->body_msg, ws);
  g_clear_object (&ws->body_msg);
  if (ws->msg)
    g_signal_handlers_disconnect_by_data (ws->msg, ws);
  g_clear_object (&ws->msg);
  g_clear_object (&ws->socket);
  g_clear_object (&ws->session);
  g_clear_object (&ws->ca_database);
  if (ws->body)
    g_byte_array_unref (ws->body);
  g_clear_error (&ws->conn_error);
  g_clear_pointer (&ws->uri, g_uri_unref);
  g_clear_pointer (&ws->context, g_main_context_unref);
  g_free (ws->display_url);
  g_free (ws->server_name);
  g_free (ws->reason_phrase);
  if (ws->secret) {
    explicit_bzero (ws->secret, strlen (ws->secret));
    g_free (ws->secret);
  }
  g_free (ws);
}

/* Untrusted text from the server, safe for a message */
static gchar *
ws_clean (GstBidiWs * ws, const gchar * text, gssize len)
{
  if (!text)
    return NULL;
  return gst_bidi_realtime_clean_text (text, len < 0 ? strlen (text) :
      (gsize) len, ws->secret, ERROR_EXCERPT_CHARS);
}

/* ------------------------------------------------------------------------
 * Ending
 * ------------------------------------------------------------------------ */

static void
stop_timeout (GstBidiWs * ws)
{
  if (ws->timeout_source) {
    g_source_destroy (ws->timeout_source);
    g_source_unref (ws->timeout_source);
    ws->timeout_source = NULL;
  }
}

/* The one closed callback. */
static void
ws_report_closed (GstBidiWs * ws, const GstBidiTransportCloseInfo * info,
    GError * error)
{
  if (ws->detached || ws->state == WS_DONE)
    return;
  ws->state = WS_DONE;
  stop_timeout (ws);
  g_clear_object (&ws->socket);
  GST_INFO ("%s: %s", ws->server_name, error->message);

  ws_ref (ws);
  if (ws->cb.closed)
    ws->cb.closed ((GstBidiTransport *) ws, info, error, ws->user_data);
  ws_unref (ws);
}

/* The connection could not be made: no upgrade, or refused. @body is
 * the refusal's body when one was read. */
static void
ws_fail_connect (GstBidiWs * ws, const GError * err)
{
  GstBidiTransportCloseInfo info = { 0, };
  GString *msg = g_string_new (NULL);
  GError *error;
  gint code = GST_RESOURCE_ERROR_OPEN_READ_WRITE;

  info.http_status = ws->http_status;

  if (ws->http_status >= 100) {
    gchar *reason = ws_clean (ws, ws->reason_phrase ? ws->reason_phrase :
        soup_status_get_phrase (ws->http_status), -1);
    gchar *detail = NULL;

    if (ws->body && ws->body->len > 0) {
      JsonObject *obj = gst_bidi_json_parse_object ((const gchar *)
          ws->body->data, ws->body->len, MAX_ERROR_BODY_SIZE, 16, NULL);
      const gchar *m = obj ? gst_bidi_json_error_message (obj) : NULL;

      detail = m ? ws_clean (ws, m, -1) : ws_clean (ws, (const gchar *)
          ws->body->data, ws->body->len);
      if (obj)
        json_object_unref (obj);
    }

    if (ws->http_status == SOUP_STATUS_UNAUTHORIZED ||
        ws->http_status == SOUP_STATUS_FORBIDDEN) {
      info.not_authorized = TRUE;
      code = GST_RESOURCE_ERROR_NOT_AUTHORIZED;
      g_string_append_printf (msg, "%s refused the credentials (HTTP %u %s)",
          ws->server_name, ws->http_status, reason);
    } else {
      g_string_append_printf (msg, "%s refused the connection to %s (HTTP "
          "%u %s)", ws->server_name, ws->display_url, ws->http_status, reason);
    }
    if (detail && *detail)
      g_string_append_printf (msg, ": %s", detail);
    g_free (reason);
    g_free (detail);
  } else {
    gchar *why = ws_clean (ws, err ? err->message : "unknown error", -1);

    g_string_append_printf (msg, "Could not connect to %s at %s: %s",
        ws->server_name, ws->display_url, why);
    if (err && err->domain == G_TLS_ERROR)
      g_string_append (msg, " (the server's TLS certificate was not "
          "accepted; the ssl-ca-file property adds trusted authorities)");
    g_free (why);
  }

  error = g_error_new_literal (GST_RESOURCE_ERROR, code, msg->str);
  g_string_free (msg, TRUE);
  ws_report_closed (ws, &info, error);
  g_error_free (error);
}

static gboolean
timeout_cb (gpointer user_data)
{
  GstBidiWs *ws = user_data;
  GstBidiTransportCloseInfo info = { 0, };
  GError *error;

  g_source_unref (ws->timeout_source);
  ws->timeout_source = NULL;

  if (ws->state == WS_FETCHING_ERROR) {
    /* what we know is enough */
    g_cancellable_cancel (ws->cancellable);
    ws_fail_connect (ws, NULL);
    return G_SOURCE_REMOVE;
  }
  if (ws->state != WS_CONNECTING)
    return G_SOURCE_REMOVE;

  g_cancellable_cancel (ws->cancellable);
  error = g_error_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
      "Could not connect to %s at %s: no answer within %u seconds",
      ws->server_name, ws->display_url, ws->connect_timeout_s);
  ws_report_closed (ws, &info, error);
  g_error_free (error);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------
 * A refused upgrade: reading why
 * ------------------------------------------------------------------------ */

static void body_read_next (GstBidiWs * ws);

static void
body_read_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstBidiWs *ws = user_data;
  GError *err = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, &err);
  if (ws->detached || ws->state != WS_FETCHING_ERROR) {
    g_clear_error (&err);
    ws_unref (ws);
    return;
  }
  if (n < 0) {
    GST_DEBUG ("reading the refusal failed: %s", err->message);
    g_clear_error (&err);
  } else if (n > 0) {
    gsize room = MAX_ERROR_BODY_SIZE - ws->body->len;

    g_byte_array_append (ws->body, ws->buf, MIN ((gsize) n, room));
    if (ws->body->len < MAX_ERROR_BODY_SIZE) {
      body_read_next (ws);
      ws_unref (ws);
      return;
    }
  }
  ws_fail_connect (ws, NULL);
  ws_unref (ws);
}

static void
body_read_next (GstBidiWs * ws)
{
  g_input_stream_read_async (ws->body_stream, ws->buf, sizeof (ws->buf),
      G_PRIORITY_DEFAULT, ws->cancellable, body_read_cb, ws_ref (ws));
}

static void
body_send_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstBidiWs *ws = user_data;
  GError *err = NULL;
  GInputStream *stream;

  stream = soup_session_send_finish (SOUP_SESSION (source), res, &err);
  if (ws->detached || ws->state != WS_FETCHING_ERROR) {
    g_clear_object (&stream);
    g_clear_error (&err);
    ws_unref (ws);
    return;
  }
  if (!stream) {
    GST_DEBUG ("could not ask again: %s", err->message);
    g_clear_error (&err);
    ws_fail_connect (ws, NULL);
  } else if (soup_message_get_status (ws->body_msg) != ws->http_status) {
    /* something else answered; its body says nothing about the refusal */
    GST_DEBUG ("asked again, got HTTP %u instead of %u",
        soup_message_get_status (ws->body_msg), ws->http_status);
    g_object_unref (stream);
    ws_fail_connect (ws, NULL);
  } else {
    ws->body_stream = stream;
    ws->body = g_byte_array_new ();
    body_read_next (ws);
  }
  ws_unref (ws);
}

static void
copy_header (const char *name, const char *value, gpointer user_data)
{
  soup_message_headers_append (user_data, name, value);
}

/* A server that upgrades this time has nothing to explain */
static void
refusal_informational_cb (SoupMessage * msg, gpointer user_data)
{
  GstBidiWs *ws = user_data;

  if (soup_message_get_status (msg) == SOUP_STATUS_SWITCHING_PROTOCOLS &&
      ws->state == WS_FETCHING_ERROR) {
    GST_DEBUG ("asked again, the server upgraded: no explanation");
    g_cancellable_cancel (ws->cancellable);
  }
}

/* Makes the refused request again (the same headers, handshake included,
 * so that the server treats it the same way) with a plain send, which
 * keeps the body of the answer. */
static void
fetch_refusal_body (GstBidiWs * ws)
{
  GUri *http_uri;
  gboolean secure = g_ascii_strcasecmp (g_uri_get_scheme (ws->uri),
      "wss") == 0;

  http_uri = g_uri_build (G_URI_FLAGS_ENCODED, secure ? "https" : "http",
      NULL, g_uri_get_host (ws->uri), g_uri_get_port (ws->uri),
      g_uri_get_path (ws->uri), g_uri_get_query (ws->uri), NULL);
  ws->body_msg = soup_message_new_from_uri (SOUP_METHOD_GET, http_uri);
  g_uri_unref (http_uri);
  soup_message_add_flags (ws->body_msg, SOUP_MESSAGE_NO_REDIRECT |
      SOUP_MESSAGE_NEW_CONNECTION);
  soup_message_headers_foreach (soup_message_get_request_headers (ws->msg),
      copy_header, soup_message_get_request_headers (ws->body_msg));
  gst_bidi_realtime_message_setup_tls (ws->body_msg, ws->ca_database,
      ws->ssl_strict);
  g_signal_connect (ws->body_msg, "got-informational",
      G_CALLBACK (refusal_informational_cb), ws);

  ws->state = WS_FETCHING_ERROR;
  soup_session_send_async (ws->session, ws->body_msg, G_PRIORITY_DEFAULT,
      ws->cancellable, body_send_cb, ws_ref (ws));
}

/* ------------------------------------------------------------------------
 * The open connection
 * ------------------------------------------------------------------------ */

static void
ws_bad_message (GstBidiWs * ws, GError * error)
{
  GST_WARNING ("%s: %s", ws->server_name, error->message);
  ws_ref (ws);
  if (ws->cb.bad_message)
    ws->cb.bad_message ((GstBidiTransport *) ws, error, ws->user_data);
  ws_unref (ws);
  g_error_free (error);
}

static void
on_message (G_GNUC_UNUSED SoupWebsocketConnection * conn, gint type,
    GBytes * message, gpointer user_data)
{
  GstBidiWs *ws = user_data;
  const gchar *data;
  gsize len;
  JsonObject *obj;
  GError *err = NULL;
  GString *scrubbed = NULL;

  if (ws->detached || ws->state != WS_OPEN)
    return;

  data = g_bytes_get_data (message, &len);
  if (type != SOUP_WEBSOCKET_DATA_TEXT && !ws->binary_json) {
    ws_bad_message (ws, g_error_new (GST_STREAM_ERROR,
            GST_STREAM_ERROR_DECODE, "%s sent a binary frame of %"
            G_GSIZE_FORMAT " bytes; ignored", ws->server_name, len));
    return;
  }
  GST_TRACE ("received %" G_GSIZE_FORMAT " bytes", len);

  /* a server that quotes the key back anywhere (an id, a type, a text)
   * must not get it into a log or an event: verbatim copies go here, before
   * anything reads the message */
  if (ws->secret && *ws->secret && len <= ws->max_message_size &&
      g_strstr_len (data, len, ws->secret)) {
    scrubbed = g_string_new_len (data, len);
    gst_bidi_realtime_scrub_secret_exact (scrubbed, ws->secret);
    data = scrubbed->str;
    len = scrubbed->len;
  }

  obj = gst_bidi_json_parse_object (data, len, ws->max_message_size,
      MAX_MESSAGE_DEPTH, &err);
  if (!obj) {
    GError *error = g_error_new (GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "%s sent a message that was ignored: %s", ws->server_name,
        err->message);
    g_error_free (err);
    ws_bad_message (ws, error);
    if (scrubbed)
      g_string_free (scrubbed, TRUE);
    return;
  }

  ws_ref (ws);
  if (ws->cb.message)
    ws->cb.message ((GstBidiTransport *) ws, obj, data, len, ws->user_data);
  ws_unref (ws);
  json_object_unref (obj);
  if (scrubbed)
    g_string_free (scrubbed, TRUE);
}

static void
on_error (G_GNUC_UNUSED SoupWebsocketConnection * conn, GError * error,
    gpointer user_data)
{
  GstBidiWs *ws = user_data;

  GST_DEBUG ("connection error: %s", error->message);
  if (!ws->conn_error)
    ws->conn_error = g_error_copy (error);
}

static void
on_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  GstBidiWs *ws = user_data;
  GstBidiTransportCloseInfo info = { 0, };
  GError *error;
  gchar *reason;

  if (ws->detached || ws->state != WS_OPEN)
    return;

  info.was_open = TRUE;
  info.close_code = soup_websocket_connection_get_close_code (conn);
  if (info.close_code == 0 && ws->conn_error &&
      ws->conn_error->domain == SOUP_WEBSOCKET_ERROR)
    info.close_code = ws->conn_error->code;
  reason = ws_clean (ws, soup_websocket_connection_get_close_data (conn), -1);
  info.close_reason = reason && *reason ? reason : NULL;

  if (ws->conn_error && g_error_matches (ws->conn_error, SOUP_WEBSOCKET_ERROR,
          SOUP_WEBSOCKET_CLOSE_TOO_BIG)) {
    error = g_error_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "%s sent a message larger than %" G_GUINT64_FORMAT " bytes; the "
        "connection was closed", ws->server_name, ws->max_message_size);
  } else if (soup_websocket_connection_get_close_code (conn) != 0) {
    error = g_error_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "%s closed the connection (code %u%s%s)", ws->server_name,
        info.close_code, info.close_reason ? ": " : "",
        info.close_reason ? info.close_reason : "");
  } else {
    gchar *why = ws->conn_error ? ws_clean (ws, ws->conn_error->message, -1) :
        NULL;

    error = g_error_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "The connection to %s was lost%s%s", ws->server_name, why ? ": " : "",
        why ? why : "");
    g_free (why);
  }

  ws_disconnect_conn (ws);
  ws_report_closed (ws, &info, error);
  g_error_free (error);
  g_free (reason);
}

static void
ws_disconnect_conn (GstBidiWs * ws)
{
  if (ws->conn)
    g_signal_handlers_disconnect_by_data (ws->conn, ws);
}

/* libsoup 3.6 and later close a connection whose ping went unanswered
 * for this long (a dead peer); 3.2 cannot see pongs at all, and there the
 * realtime base's stall-timeout-ms watch has to do. */
static void
set_pong_timeout (SoupWebsocketConnection * conn, guint seconds)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (conn),
      "keepalive-pong-timeout");

  if (seconds > 0 && pspec && pspec->value_type == G_TYPE_UINT)
    g_object_set (conn, "keepalive-pong-timeout", seconds, NULL);
}

/* The TCP socket, before TLS wraps it: libsoup 3.2 has no public way to
 * reach it from the WebSocket connection. A reference only to look at it:
 * given back when the connection ends, so it never keeps it open. */
static void
network_event_cb (G_GNUC_UNUSED SoupMessage * msg, GSocketClientEvent event,
    GIOStream * connection, gpointer user_data)
{
  GstBidiWs *ws = user_data;

  if (event != G_SOCKET_CLIENT_CONNECTED || ws->detached ||
      !G_IS_SOCKET_CONNECTION (connection))
    return;
  g_clear_object (&ws->socket);
  ws->socket = g_object_ref (g_socket_connection_get_socket
      (G_SOCKET_CONNECTION (connection)));
  GST_DEBUG ("%s: TCP connection made", ws->server_name);
}

static void
connect_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstBidiWs *ws = user_data;
  SoupWebsocketConnection *conn;
  GError *err = NULL;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
      &err);
  if (ws->detached || ws->state != WS_CONNECTING) {
    /* closed, or timed out: a late connection is dropped */
    g_clear_object (&conn);
    g_clear_error (&err);
    ws_unref (ws);
    return;
  }

  if (!conn) {
    ws->http_status = soup_message_get_status (ws->msg);
    if (ws->http_status >= 100)
      ws->reason_phrase = g_strdup (soup_message_get_reason_phrase (ws->msg));
    GST_DEBUG ("upgrade failed, HTTP %u: %s", ws->http_status, err->message);
    if (ws->http_status >= 400 && ws->http_status < 500)
      fetch_refusal_body (ws);
    else
      ws_fail_connect (ws, err);
    g_clear_error (&err);
    ws_unref (ws);
    return;
  }

  ws->conn = conn;
  ws->state = WS_OPEN;
  stop_timeout (ws);
  soup_websocket_connection_set_max_incoming_payload_size (conn,
      ws->max_message_size);
  soup_websocket_connection_set_keepalive_interval (conn, ws->keepalive_s);
  set_pong_timeout (conn, ws->keepalive_s);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), ws);
  g_signal_connect (conn, "error", G_CALLBACK (on_error), ws);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), ws);
  GST_INFO ("connected to %s at %s", ws->server_name, ws->display_url);

  if (ws->cb.open)
    ws->cb.open ((GstBidiTransport *) ws, ws->user_data);
  ws_unref (ws);
}

/* ------------------------------------------------------------------------
 * API
 * ------------------------------------------------------------------------ */

static const GstBidiTransportFuncs ws_funcs;

GstBidiTransport *
gst_bidi_ws_connect (const GstBidiTransportOptions * options,
    const GstBidiTransportCallbacks * callbacks, gpointer user_data,
    GError ** error)
{
  GstBidiWs *ws;
  GUri *uri;
  SoupMessageHeaders *headers;
  guint i;

  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (callbacks != NULL, NULL);

  debug_init ();

  if (!(uri = gst_bidi_realtime_parse_ws_url (options->url, "url", error)))
    return NULL;

  ws = g_new0 (GstBidiWs, 1);
  ws->parent.funcs = &ws_funcs;
  ws->refcount = 1;
  ws->state = WS_CONNECTING;
  ws->cb = *callbacks;
  ws->user_data = user_data;
  ws->uri = uri;
  ws->display_url = gst_bidi_realtime_uri_for_display (uri);
  ws->server_name = g_strdup (options->server_name ? options->server_name :
      "the server");
  ws->secret = g_strdup (options->secret);
  ws->ca_database = options->ca_database ?
      g_object_ref (options->ca_database) : NULL;
  ws->ssl_strict = options->ssl_strict;
  ws->max_message_size = options->max_message_size ?
      options->max_message_size : DEFAULT_MAX_MESSAGE_SIZE;
  ws->keepalive_s = options->keepalive_s;
  ws->binary_json = options->binary_json;
  ws->connect_timeout_s = options->connect_timeout_s ?
      options->connect_timeout_s : DEFAULT_CONNECT_TIMEOUT_S;

  /* libsoup runs its I/O on the thread-default context of the thread that
   * made the session: the caller's network thread */
  ws->context = g_main_context_ref_thread_default ();
  ws->session = gst_bidi_realtime_session_new (g_uri_get_host (uri),
      ws->connect_timeout_s);
  ws->cancellable = g_cancellable_new ();

  ws->msg = soup_message_new_from_uri (SOUP_METHOD_GET, uri);
  /* a redirect could take the key elsewhere, or to plain ws:// */
  soup_message_add_flags (ws->msg, SOUP_MESSAGE_NO_REDIRECT);
  headers = soup_message_get_request_headers (ws->msg);
  for (i = 0; options->headers && options->headers[i] &&
      options->headers[i + 1]; i += 2)
    soup_message_headers_replace (headers, options->headers[i],
        options->headers[i + 1]);
  gst_bidi_realtime_message_setup_tls (ws->msg, ws->ca_database,
      ws->ssl_strict);
  g_signal_connect (ws->msg, "network-event", G_CALLBACK (network_event_cb),
      ws);

  ws->timeout_source = g_timeout_source_new_seconds (ws->connect_timeout_s);
  g_source_set_callback (ws->timeout_source, timeout_cb, ws, NULL);
  g_source_set_name (ws->timeout_source, "bidiws-connect-timeout");
  g_source_attach (ws->timeout_source, ws->context);

  GST_INFO ("connecting to %s at %s", ws->server_name, ws->display_url);
  soup_session_websocket_connect_async (ws->session, ws->msg, NULL, NULL,
      G_PRIORITY_DEFAULT, ws->cancellable, connect_cb, ws_ref (ws));
  return (GstBidiTransport *) ws;
}

static gboolean
ws_is_open (GstBidiTransport * transport)
{
  GstBidiWs *ws = (GstBidiWs *) transport;

  return ws && !ws->detached && ws->state == WS_OPEN && ws->conn &&
      soup_websocket_connection_get_state (ws->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN;
}

static gboolean
ws_send_text (GstBidiTransport * transport, const gchar * text)
{
  GstBidiWs *ws = (GstBidiWs *) transport;
  gsize len;

  g_return_val_if_fail (text != NULL, FALSE);

  if (!ws_is_open (transport))
    return FALSE;
  len = strlen (text);
  GST_TRACE ("sending %" G_GSIZE_FORMAT " bytes", len);
  soup_websocket_connection_send_text (ws->conn, text);
  /* a socket that cannot take more: libsoup keeps the rest */
  if (ws->socket && !(g_socket_condition_check (ws->socket, G_IO_OUT) &
          G_IO_OUT)) {
    ws->queued += len;
  } else {
    ws->queued = 0;
    ws->written += len;
  }
  return TRUE;
}

static gboolean
ws_send_object (GstBidiTransport * transport, JsonObject * object)
{
  JsonNode *node;
  gchar *text;
  gboolean ret;

  g_return_val_if_fail (object != NULL, FALSE);

  if (!ws_is_open (transport))
    return FALSE;
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, object);
  text = gst_bidi_json_to_string (node);
  json_node_unref (node);
  ret = ws_send_text (transport, text);
  g_free (text);
  return ret;
}

/* Bytes the kernel holds for the peer, not yet acknowledged */
static gboolean
socket_unacked (GSocket * socket, guint64 * bytes)
{
#ifdef SIOCOUTQ
  int n = 0;

  if (g_socket_is_closed (socket) ||
      ioctl (g_socket_get_fd (socket), SIOCOUTQ, &n) < 0 || n < 0)
    return FALSE;
  *bytes = (guint64) n;
  return TRUE;
#else
  return FALSE;
#endif
}

/* A peer that reads acknowledges some of what the kernel holds between two
 * looks: what was unacknowledged at the last look, plus what was written
 * since, is more than what is unacknowledged now. One that does not leaves
 * at least all of that (a closed TCP window, or a peer that is gone). The
 * count alone does not tell: a steady stream may hold the same number of
 * bytes in flight at every look, each time other bytes. */
static gboolean
ws_get_send_state (GstBidiTransport * transport,
    GstBidiTransportSendState * state)
{
  GstBidiWs *ws = (GstBidiWs *) transport;
  guint64 unacked;

  if (!ws_is_open (transport) || !ws->socket ||
      !socket_unacked (ws->socket, &unacked))
    return FALSE;
  /* room in the socket: libsoup has written what it kept */
  if (g_socket_condition_check (ws->socket, G_IO_OUT) & G_IO_OUT)
    ws->queued = 0;
  if (unacked == 0 || unacked < ws->last_outq + ws->written)
    ws->stuck_since = 0;
  else if (!ws->stuck_since)
    ws->stuck_since = g_get_monotonic_time ();
  ws->last_outq = unacked;
  ws->written = 0;

  state->queued = ws->queued;
  state->unacked = unacked;
  state->stuck_since = ws->stuck_since;
  GST_LOG ("%s: %" G_GUINT64_FORMAT " bytes queued, %" G_GUINT64_FORMAT
      " unacknowledged", ws->server_name, ws->queued, unacked);
  return TRUE;
}

static void
linger_closed_cb (SoupWebsocketConnection * conn,
    G_GNUC_UNUSED gpointer user_data)
{
  GST_TRACE ("lingering connection %p closed", conn);
  g_signal_handlers_disconnect_by_func (conn, linger_closed_cb, NULL);
  g_object_unref (conn);
}

static void
ws_close (GstBidiTransport * transport, gushort code)
{
  GstBidiWs *ws = (GstBidiWs *) transport;
  SoupWebsocketConnection *conn;

  if (!ws)
    return;
  g_return_if_fail (!ws->detached);

  ws->detached = TRUE;
  ws->state = WS_DONE;
  stop_timeout (ws);
  g_cancellable_cancel (ws->cancellable);
  g_clear_object (&ws->socket);

  if ((conn = ws->conn)) {
    ws_disconnect_conn (ws);
    ws->conn = NULL;
    if (soup_websocket_connection_get_state (conn) ==
        SOUP_WEBSOCKET_STATE_CLOSED) {
      g_object_unref (conn);
    } else {
      /* keep it until the close frames are exchanged (libsoup gives the
       * server a few seconds), then let it go */
      g_signal_connect (conn, "closed", G_CALLBACK (linger_closed_cb), NULL);
      if (soup_websocket_connection_get_state (conn) ==
          SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (conn, code, NULL);
    }
  }
  ws_unref (ws);
}

static const GstBidiTransportFuncs ws_funcs = {
  ws_send_object,
  ws_send_text,
  ws_is_open,
  ws_close,
  ws_get_send_state,
};
