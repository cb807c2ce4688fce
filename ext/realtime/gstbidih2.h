/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_H2_H__
#define __GST_BIDI_H2_H__

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

/* One full-duplex HTTP/2 request over TLS (ALPN "h2"): the request body is
 * written while the response body is read, for as long as both sides
 * want. libnghttp2 drives the framing over a GTlsClientConnection; the
 * reasons for not using libsoup are in gstbidih2.c.
 *
 * A stream lives on the thread whose thread-default GMainContext was
 * current when it was opened: every function must be called there, and
 * every callback runs there, never from inside a gst_bidi_h2_* call.
 * Nothing here logs a header value (they hold signatures and tokens). */

typedef struct _GstBidiH2Stream GstBidiH2Stream;

typedef struct
{
  /* TLS is up with ALPN h2 and the request headers are submitted: body
   * writes go out from now on (the ones made before were queued). */
  void (*connected) (GstBidiH2Stream * stream, gpointer user_data);
  /* The response's headers: @status and @headers, a NULL-terminated list
   * of names (lower-case) and values, pseudo-headers left out. */
  void (*response) (GstBidiH2Stream * stream, guint status,
      const gchar * const *headers, gpointer user_data);
  /* Bytes of the response body, as they come */
  void (*data) (GstBidiH2Stream * stream, const guint8 * data, gsize len,
      gpointer user_data);
  /* The stream is over (never after gst_bidi_h2_stream_free()); no
   * callback follows. @error is NULL when the server ended its side
   * cleanly (END_STREAM); else in the GST_RESOURCE_ERROR domain:
   * OPEN_READ_WRITE when the connection, TLS or ALPN failed or timed out
   * before `connected`, READ after it (reset by the server, GOAWAY, the
   * connection lost, no PING answered within the keepalive). */
  void (*closed) (GstBidiH2Stream * stream, const GError * error,
      gpointer user_data);
} GstBidiH2Callbacks;

typedef struct
{
  /* https://host[:port]/path; the path is sent as it is (already
   * encoded). http:// is refused: this client speaks h2 over TLS only. */
  const gchar *url;
  const gchar *method;          /* "POST" */
  /* NULL-terminated list of header names (lower-case) and values, no
   * pseudo-headers: the client adds :method, :scheme, :authority (see
   * gst_bidi_h2_authority()) and :path. Copied. */
  const gchar *const *headers;
  /* extra trusted CAs (nullable) and ssl-strict, applied as
   * gst_bidi_realtime_message_setup_tls() does for libsoup */
  GTlsDatabase *ca_database;
  gboolean ssl_strict;
  /* seconds for TCP, TLS and ALPN together (0: 20) */
  guint connect_timeout_s;
  /* seconds between PINGs while the connection is open (0: none); a PING
   * not acknowledged within the same time closes the stream with an
   * error (a dead peer) */
  guint keepalive_s;
  /* what the server may send before we read it: the stream's and the
   * connection's receive window (0: 1 MiB) */
  guint32 receive_window;
} GstBidiH2Options;

/* Starts connecting. NULL with @error (GST_RESOURCE_ERROR_SETTINGS) for a
 * URL that is not https:// with a host; every later failure goes to the
 * closed callback. */
GstBidiH2Stream *gst_bidi_h2_stream_open (const GstBidiH2Options * options,
    const GstBidiH2Callbacks * callbacks, gpointer user_data,
    GError ** error);

/* Queues @data (transfer none, not empty) for the request body, in order.
 * FALSE once the body was ended or the stream closed. */
gboolean gst_bidi_h2_stream_write (GstBidiH2Stream * stream, GBytes * data);

/* Ends the request body (END_STREAM) once what is queued went out. The
 * response goes on until the server ends it. */
void gst_bidi_h2_stream_end (GstBidiH2Stream * stream);

/* Bytes queued for the body that nghttp2 has not taken yet, and bytes
 * nghttp2 produced that the socket has not taken: what memory grows by
 * while the peer does not read */
guint64 gst_bidi_h2_stream_get_queued (GstBidiH2Stream * stream);

/* Whether `connected` came and the stream is not closed */
gboolean gst_bidi_h2_stream_is_open (GstBidiH2Stream * stream);

/* Cancels the stream (RST_STREAM CANCEL and GOAWAY when connected, sent
 * without waiting), closes the connection and frees: no callback after
 * this, even when called from a callback. NULL is ignored. */
void gst_bidi_h2_stream_free (GstBidiH2Stream * stream);

/* The :authority the client sends for @uri: the host, with ":port" when
 * the port is not 443. (transfer full) The signer of a request signs this
 * value. */
gchar *gst_bidi_h2_authority (GUri * uri);

G_END_DECLS

#endif /* __GST_BIDI_H2_H__ */
