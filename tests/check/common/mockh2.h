/* gst-bidi: an HTTP/2 server over TLS for the mock servers of the tests
 * (libnghttp2 on the server side)
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MOCK_H2_H__
#define __MOCK_H2_H__

#include <gio/gio.h>

G_BEGIN_DECLS

/* Listens on 127.0.0.1 (port chosen by the system) over TLS with ALPN
 * "h2" only, with the certificate and key of a PEM file, in a thread of
 * its own with its own GMainContext (thread-default there). Each client
 * connection is one nghttp2 server session; each request is a
 * MockH2Stream. The hooks run on the server's thread with @user_data, and
 * every mock_h2_stream_* call must be made there (from a hook, or from a
 * source attached to mock_h2_context()). */
typedef struct _MockH2 MockH2;
typedef struct _MockH2Stream MockH2Stream;

typedef struct
{
  /* A request's headers came (the client's END_HEADERS). @headers: a
   * NULL-terminated list of names and values, pseudo-headers included
   * (":method", ":path", ":authority", ":scheme"), in the order sent. */
  void (*request) (MockH2Stream * stream, const gchar * const *headers,
      gpointer user_data);
  /* Bytes of the request body, as they come */
  void (*data) (MockH2Stream * stream, const guint8 * data, gsize len,
      gpointer user_data);
  /* The client ended its side (END_STREAM) */
  void (*end) (MockH2Stream * stream, gpointer user_data);
  /* The stream is gone: closed both ways, reset by either side, or its
   * connection lost. The stream is freed after this returns. */
  void (*closed) (MockH2Stream * stream, guint32 error_code,
      gpointer user_data);
} MockH2Callbacks;

/* @name names the thread. Returns once listening. */
MockH2 *mock_h2_new (const gchar * name, const gchar * pem_file,
    const MockH2Callbacks * callbacks, gpointer user_data);
/* Stops the thread, drops the connections that are left (no hook runs)
 * and frees everything */
void mock_h2_free (MockH2 * mock);
guint mock_h2_port (MockH2 * mock);
GMainContext *mock_h2_context (MockH2 * mock);
/* Connections accepted so far (any thread) */
guint mock_h2_n_connections (MockH2 * mock);

/* The response's headers: @status and a NULL-terminated list of extra
 * names and values (nullable). With @end, the response has no body. */
void mock_h2_stream_respond (MockH2Stream * stream, guint status,
    const gchar * const *headers, gboolean end);
/* Queues @data (transfer none) for the response body (after respond) */
void mock_h2_stream_send (MockH2Stream * stream, GBytes * data);
/* Ends the response (END_STREAM) after what is queued */
void mock_h2_stream_end (MockH2Stream * stream);
/* RST_STREAM with @error_code (NGHTTP2_CANCEL, ...) */
void mock_h2_stream_reset (MockH2Stream * stream, guint32 error_code);
/* Closes the stream's TCP connection at once, without GOAWAY: a peer
 * that died */
void mock_h2_stream_drop (MockH2Stream * stream);
/* Stops reading and answering on the stream's connection (PINGs
 * included) while the socket stays open: a peer that hangs. Undone by
 * mock_h2_stream_drop() or mock_h2_free(). */
void mock_h2_stream_freeze (MockH2Stream * stream);
/* Request body bytes received so far on @stream */
guint64 mock_h2_stream_received (MockH2Stream * stream);
/* The stream's data for the hooks' user */
void mock_h2_stream_set_data (MockH2Stream * stream, gpointer data,
    GDestroyNotify destroy);
gpointer mock_h2_stream_get_data (MockH2Stream * stream);

G_END_DECLS

#endif /* __MOCK_H2_H__ */
