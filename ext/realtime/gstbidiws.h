/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_WS_H__
#define __GST_BIDI_WS_H__

#include <gst/gst.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* One WebSocket connection to a realtime model server, carrying one JSON
 * object per text frame in both directions.
 *
 * It lives on the thread whose thread-default GMainContext was current at
 * gst_bidi_ws_connect() (the provider's network thread): every function
 * must be called there, and every callback runs there, never from inside
 * a gst_bidi_ws_* call. The connection is asynchronous
 * (soup_session_websocket_connect_async), bounded by a timeout; the
 * incoming message size is bounded (libsoup's 128 KiB frame limit is
 * raised to the configured maximum); keepalive pings detect a dead peer.
 *
 * Callbacks never see a secret: errors and close reasons are scrubbed of
 * @secret and shortened. */

typedef struct _GstBidiWs GstBidiWs;

typedef struct
{
  /* HTTP status of a refused upgrade, 0 otherwise */
  guint http_status;
  /* WebSocket close code from the server, 0 if none (a refused or failed
   * connection, or a connection that died without a close frame) */
  gushort close_code;
  /* the close frame's reason, scrubbed, or NULL */
  const gchar *close_reason;
  /* whether the connection had been open */
  gboolean was_open;
  /* the server refused the credentials (HTTP 401 or 403) */
  gboolean not_authorized;
} GstBidiWsCloseInfo;

typedef struct
{
  /* The upgrade succeeded: messages may be sent. */
  void (*open) (GstBidiWs * ws, gpointer user_data);
  /* One text frame holding a JSON object. @json / @len is its text.
   * Whole copies of @secret are already replaced with "***" in both; use
   * gst_bidi_realtime_clean_text() before logging pieces of it. */
  void (*message) (GstBidiWs * ws, JsonObject * message, const gchar * json,
      gsize len, gpointer user_data);
  /* A frame was refused (binary, too large, not JSON, nested too deep):
   * @error (GST_STREAM_ERROR_DECODE) says why. The connection stays open. */
  void (*bad_message) (GstBidiWs * ws, const GError * error,
      gpointer user_data);
  /* The connection failed or ended (not after gst_bidi_ws_close()). @error
   * is in the GST_RESOURCE_ERROR domain: NOT_AUTHORIZED for HTTP 401/403,
   * OPEN_READ_WRITE when the connection could not be made, READ when an
   * open connection ended. No callback follows. */
  void (*closed) (GstBidiWs * ws, const GstBidiWsCloseInfo * info,
      const GError * error, gpointer user_data);
} GstBidiWsCallbacks;

typedef struct
{
  /* ws:// (loopback hosts only) or wss://, as checked by
   * gst_bidi_realtime_parse_ws_url() */
  const gchar *url;
  /* name of the server in messages, e.g. "OpenAI Realtime" */
  const gchar *server_name;
  /* NULL-terminated list of header names and values: "Authorization",
   * "Bearer ...", ... Copied into the request only. */
  const gchar *const *headers;
  /* scrubbed from everything the server sends back that reaches a
   * callback's error or reason; nullable */
  const gchar *secret;
  /* extra trusted CAs (nullable) and ssl-strict, see
   * gst_bidi_realtime_message_setup_tls() */
  GTlsDatabase *ca_database;
  gboolean ssl_strict;
  /* largest incoming message, in bytes (0: 16 MiB) */
  guint64 max_message_size;
  /* seconds between pings, 0 for none */
  guint keepalive_s;
  /* seconds for the connection and upgrade (0: 20) */
  guint connect_timeout_s;
} GstBidiWsOptions;

/* Starts connecting. Returns NULL with @error (GST_RESOURCE_ERROR_SETTINGS)
 * for a bad URL; every later failure goes to the closed callback. */
GstBidiWs *gst_bidi_ws_connect (const GstBidiWsOptions * options,
    const GstBidiWsCallbacks * callbacks, gpointer user_data,
    GError ** error);

/* Sends one JSON object, or text that is one (valid UTF-8). FALSE when the
 * connection is not open. */
gboolean gst_bidi_ws_send_object (GstBidiWs * ws, JsonObject * object);
gboolean gst_bidi_ws_send_text (GstBidiWs * ws, const gchar * text);

gboolean gst_bidi_ws_is_open (GstBidiWs * ws);

/* Closes (with @code, e.g. 1000, when open), cancels what is pending and
 * frees @ws: no callback after this, even when called from a callback. */
void gst_bidi_ws_close (GstBidiWs * ws, gushort code);

G_END_DECLS

#endif /* __GST_BIDI_WS_H__ */
