/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_TRANSPORT_H__
#define __GST_BIDI_TRANSPORT_H__

#include <gst/gst.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* One connection to a realtime model server that carries one JSON object
 * per message in both directions: what the realtime provider base
 * (gstbidirealtimeprovider.h) talks through. The WebSocket client
 * (gstbidiws.h) is one; an HTTP/2 event stream can be another.
 *
 * A transport lives on the thread whose thread-default GMainContext was
 * current when it was made (the provider's network thread): every function
 * must be called there, and every callback runs there, never from inside
 * a gst_bidi_transport_* call. Callbacks never see a secret: errors and
 * close reasons are scrubbed of the options' @secret and shortened. */

typedef struct _GstBidiTransport GstBidiTransport;

typedef struct
{
  /* HTTP status of a refused connection, 0 otherwise */
  guint http_status;
  /* close code from the server (WebSocket codes), 0 if none (a refused
   * or failed connection, or one that died without a close frame) */
  gushort close_code;
  /* the server's close reason, scrubbed, or NULL */
  const gchar *close_reason;
  /* whether the connection had been open */
  gboolean was_open;
  /* the server refused the credentials (HTTP 401 or 403) */
  gboolean not_authorized;
} GstBidiTransportCloseInfo;

typedef struct
{
  /* The connection is up: messages may be sent. */
  void (*open) (GstBidiTransport * transport, gpointer user_data);
  /* One message holding a JSON object. @json / @len is its text. Whole
   * copies of the secret are already replaced with "***" in both; use
   * gst_bidi_realtime_clean_text() before logging pieces of it. */
  void (*message) (GstBidiTransport * transport, JsonObject * message,
      const gchar * json, gsize len, gpointer user_data);
  /* A message was refused (binary unless binary_json, too large, not
   * JSON, nested too deep): @error (GST_STREAM_ERROR_DECODE) says why. The connection stays open. */
  void (*bad_message) (GstBidiTransport * transport, const GError * error,
      gpointer user_data);
  /* The connection failed or ended (not after gst_bidi_transport_close()).
   * @error is in the GST_RESOURCE_ERROR domain: NOT_AUTHORIZED for HTTP
   * 401/403, OPEN_READ_WRITE when the connection could not be made, READ
   * when an open connection ended. No callback follows. */
  void (*closed) (GstBidiTransport * transport,
      const GstBidiTransportCloseInfo * info, const GError * error,
      gpointer user_data);
} GstBidiTransportCallbacks;

typedef struct
{
  /* the endpoint, as checked by gst_bidi_realtime_parse_ws_url() */
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
  /* binary messages hold JSON too (UTF-8), as text ones do; otherwise a
   * binary message is refused (bad_message) */
  gboolean binary_json;
  /* what a subclass's own transport needs beyond these (the realtime
   * class's get_transport_data), e.g. credentials to sign with; NULL for
   * the WebSocket */
  gconstpointer transport_data;
} GstBidiTransportOptions;

/* How the peer takes what is written, for a dead peer that a protocol
 * cannot show (libsoup 3.2 sends pings but never sees the pongs) */
typedef struct
{
  /* bytes given to send that wait in the transport's own queue because
   * the socket could not take them (an upper bound): what memory grows
   * by while the peer does not read */
  guint64 queued;
  /* bytes the kernel holds that the peer has not acknowledged */
  guint64 unacked;
  /* g_get_monotonic_time () since when the peer has taken nothing of what
   * waits for it (the unacknowledged bytes never went down); 0 while it
   * takes what is written, or when nothing waits */
  gint64 stuck_since;
} GstBidiTransportSendState;

/* Starts connecting. Returns NULL with @error (GST_RESOURCE_ERROR_SETTINGS)
 * for a bad URL; every later failure goes to the closed callback. */
typedef GstBidiTransport *(*GstBidiTransportConnectFunc) (const
    GstBidiTransportOptions * options,
    const GstBidiTransportCallbacks * callbacks, gpointer user_data,
    GError ** error);

/* What a transport implements */
typedef struct
{
  /* one JSON object, or text that is one (valid UTF-8); FALSE when the
   * connection is not open */
  gboolean (*send_object) (GstBidiTransport * transport, JsonObject * object);
  gboolean (*send_text) (GstBidiTransport * transport, const gchar * text);
  gboolean (*is_open) (GstBidiTransport * transport);
  /* closes (with @code when open), cancels what is pending and frees the
   * transport: no callback after this, even when called from a callback */
  void (*close) (GstBidiTransport * transport, gushort code);
  /* looks at the connection now (a few system calls: call it at most
   * about once a second) and fills @state; FALSE when it cannot tell (not
   * open, or no socket to look at). NULL: never can. */
  gboolean (*get_send_state) (GstBidiTransport * transport,
      GstBidiTransportSendState * state);
} GstBidiTransportFuncs;

/* The first member of every transport */
struct _GstBidiTransport
{
  const GstBidiTransportFuncs *funcs;
};

static inline gboolean
gst_bidi_transport_send_object (GstBidiTransport * transport,
    JsonObject * object)
{
  return transport && transport->funcs->send_object (transport, object);
}

static inline gboolean
gst_bidi_transport_send_text (GstBidiTransport * transport,
    const gchar * text)
{
  return transport && transport->funcs->send_text (transport, text);
}

static inline gboolean
gst_bidi_transport_is_open (GstBidiTransport * transport)
{
  return transport && transport->funcs->is_open (transport);
}

static inline void
gst_bidi_transport_close (GstBidiTransport * transport, gushort code)
{
  if (transport)
    transport->funcs->close (transport, code);
}

static inline gboolean
gst_bidi_transport_get_send_state (GstBidiTransport * transport,
    GstBidiTransportSendState * state)
{
  return transport && transport->funcs->get_send_state &&
      transport->funcs->get_send_state (transport, state);
}

/* Closes with the normal close code (1000): for g_clear_pointer() */
static inline void
gst_bidi_transport_close_normal (GstBidiTransport * transport)
{
  gst_bidi_transport_close (transport, 1000);
}

G_END_DECLS

#endif /* __GST_BIDI_TRANSPORT_H__ */
