/* gst-bidi: an HTTP/2 server over TLS for the mock servers of the tests
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Everything below runs on the server's thread. A connection is freed
 * only at its teardown, never from inside nghttp2_session_mem_recv():
 * hooks run there and may drop the connection, so a teardown asked for
 * while reading (in_recv) waits until the read returns. Sending from
 * inside nghttp2's callbacks is not allowed either: the mock_h2_stream_*
 * calls only submit then, and the read flushes after. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>

#include "mockh2.h"

typedef struct _MockH2Conn MockH2Conn;

struct _MockH2
{
  gchar *name;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GTlsCertificate *certificate;
  MockH2Callbacks cb;
  gpointer user_data;
  gboolean stopping;            /* no hook runs any more */
  GList *conns;                 /* MockH2Conn, the thread only */

  GMutex lock;
  GCond cond;
  gboolean ready;
  guint port;
  gint n_connections;
};

struct _MockH2Conn
{
  MockH2 *mock;
  GSocketConnection *tcp;
  GIOStream *tls;
  GCancellable *cancellable;
  GPollableInputStream *in;
  GPollableOutputStream *out;
  GSource *in_source;
  GSource *out_source;
  GSource *teardown_source;
  nghttp2_session *session;
  GByteArray *outbuf;
  GList *streams;               /* MockH2Stream */
  gboolean in_recv;             /* inside nghttp2: hooks may run */
  gboolean frozen;
  gboolean dead;                /* to be torn down */
  gboolean handshaking;         /* the handshake's callback is to come */
  guint8 readbuf[16384];
};

struct _MockH2Stream
{
  MockH2Conn *conn;
  int32_t id;
  GPtrArray *headers;
  GQueue queue;                 /* GBytes of the response body */
  gsize offset;
  gboolean ending;              /* mock_h2_stream_end() was called */
  gboolean deferred;
  guint64 received;
  gpointer data;
  GDestroyNotify destroy;
};

static void conn_flush (MockH2Conn * conn);
static void conn_kill (MockH2Conn * conn);

static void
destroy_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_source_unref (*source);
    *source = NULL;
  }
}

static void
stream_free (MockH2Stream * stream)
{
  if (stream->destroy)
    stream->destroy (stream->data);
  g_queue_clear_full (&stream->queue, (GDestroyNotify) g_bytes_unref);
  g_ptr_array_unref (stream->headers);
  g_free (stream);
}

/* The closed hook, then the stream freed */
static void
stream_closed (MockH2Stream * stream, guint32 error_code)
{
  MockH2 *mock = stream->conn->mock;

  stream->conn->streams = g_list_remove (stream->conn->streams, stream);
  if (!mock->stopping && mock->cb.closed)
    mock->cb.closed (stream, error_code, mock->user_data);
  stream_free (stream);
}

/* ------------------------------------------------------------------------
 * Connections
 * ------------------------------------------------------------------------ */

static void
conn_teardown (MockH2Conn * conn)
{
  MockH2 *mock = conn->mock;

  mock->conns = g_list_remove (mock->conns, conn);
  destroy_source (&conn->in_source);
  destroy_source (&conn->out_source);
  destroy_source (&conn->teardown_source);
  g_cancellable_cancel (conn->cancellable);
  g_socket_close (g_socket_connection_get_socket (conn->tcp), NULL);
  while (conn->streams)
    stream_closed (conn->streams->data, NGHTTP2_CANCEL);
  g_clear_pointer (&conn->session, nghttp2_session_del);
  g_byte_array_unref (conn->outbuf);
  g_clear_object (&conn->tls);
  g_object_unref (conn->tcp);
  g_object_unref (conn->cancellable);
  g_free (conn);
}

static gboolean
teardown_cb (gpointer user_data)
{
  MockH2Conn *conn = user_data;

  /* the cancelled handshake still calls back with conn */
  if (conn->handshaking)
    return G_SOURCE_CONTINUE;
  conn_teardown (conn);
  return G_SOURCE_REMOVE;
}

/* The socket closed now, the rest from the main loop (a hook may be on
 * the stack) */
static void
conn_kill (MockH2Conn * conn)
{
  if (conn->dead)
    return;
  conn->dead = TRUE;
  destroy_source (&conn->in_source);
  destroy_source (&conn->out_source);
  g_cancellable_cancel (conn->cancellable);
  g_socket_close (g_socket_connection_get_socket (conn->tcp), NULL);
  conn->teardown_source = g_idle_source_new ();
  g_source_set_callback (conn->teardown_source, teardown_cb, conn, NULL);
  g_source_attach (conn->teardown_source, conn->mock->context);
}

static gboolean
out_ready_cb (G_GNUC_UNUSED GObject * pollable, gpointer user_data)
{
  MockH2Conn *conn = user_data;

  destroy_source (&conn->out_source);
  conn_flush (conn);
  return G_SOURCE_REMOVE;
}

/* FALSE when the socket cannot take all of outbuf now */
static gboolean
conn_write_out (MockH2Conn * conn)
{
  GError *err = NULL;
  gssize n;

  while (conn->outbuf->len > 0) {
    n = g_pollable_output_stream_write_nonblocking (conn->out,
        conn->outbuf->data, conn->outbuf->len, NULL, &err);
    if (n < 0) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        conn->out_source =
            g_pollable_output_stream_create_source (conn->out, NULL);
        g_source_set_callback (conn->out_source,
            G_SOURCE_FUNC (out_ready_cb), conn, NULL);
        g_source_attach (conn->out_source, conn->mock->context);
      } else {
        conn_kill (conn);
      }
      g_clear_error (&err);
      return FALSE;
    }
    g_byte_array_remove_range (conn->outbuf, 0, n);
  }
  return TRUE;
}

static void
conn_flush (MockH2Conn * conn)
{
  const uint8_t *data;
  gssize n;

  if (conn->in_recv || conn->frozen || conn->dead || conn->out_source ||
      !conn->session)
    return;
  while (conn_write_out (conn)) {
    /* the closed hook may run in there, and call us */
    conn->in_recv = TRUE;
    n = nghttp2_session_mem_send (conn->session, &data);
    if (n > 0)
      g_byte_array_append (conn->outbuf, data, n);
    conn->in_recv = FALSE;
    if (n < 0)
      conn_kill (conn);
    if (n <= 0 || conn->dead)
      return;
  }
}

static gboolean
in_ready_cb (G_GNUC_UNUSED GObject * pollable, gpointer user_data)
{
  MockH2Conn *conn = user_data;
  GError *err = NULL;
  gssize n;

  while (!conn->dead && !conn->frozen) {
    n = g_pollable_input_stream_read_nonblocking (conn->in, conn->readbuf,
        sizeof (conn->readbuf), NULL, &err);
    if (n < 0 && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_clear_error (&err);
      break;
    }
    g_clear_error (&err);
    if (n <= 0) {
      conn_kill (conn);
      break;
    }
    conn->in_recv = TRUE;
    n = nghttp2_session_mem_recv (conn->session, conn->readbuf, n);
    conn->in_recv = FALSE;
    if (n < 0)
      conn_kill (conn);
    conn_flush (conn);
  }
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------
 * nghttp2 callbacks
 * ------------------------------------------------------------------------ */

static ssize_t
response_read_cb (G_GNUC_UNUSED nghttp2_session * session,
    G_GNUC_UNUSED int32_t stream_id, uint8_t * buf, size_t length,
    uint32_t * data_flags, nghttp2_data_source * source,
    G_GNUC_UNUSED void *user_data)
{
  MockH2Stream *stream = source->ptr;
  gsize copied = 0;

  while (copied < length && !g_queue_is_empty (&stream->queue)) {
    GBytes *head = g_queue_peek_head (&stream->queue);
    gsize size, n;
    const guint8 *data = g_bytes_get_data (head, &size);

    n = MIN (length - copied, size - stream->offset);
    memcpy (buf + copied, data + stream->offset, n);
    copied += n;
    stream->offset += n;
    if (stream->offset == size) {
      g_bytes_unref (g_queue_pop_head (&stream->queue));
      stream->offset = 0;
    }
  }
  if (g_queue_is_empty (&stream->queue) && stream->ending)
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  else if (copied == 0) {
    stream->deferred = TRUE;
    return NGHTTP2_ERR_DEFERRED;
  }
  return copied;
}

static int
on_begin_headers_cb (nghttp2_session * session, const nghttp2_frame * frame,
    void *user_data)
{
  MockH2Conn *conn = user_data;
  MockH2Stream *stream;

  if (frame->hd.type != NGHTTP2_HEADERS ||
      frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  stream = g_new0 (MockH2Stream, 1);
  stream->conn = conn;
  stream->id = frame->hd.stream_id;
  stream->headers = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&stream->queue);
  conn->streams = g_list_append (conn->streams, stream);
  nghttp2_session_set_stream_user_data (session, stream->id, stream);
  return 0;
}

static int
on_header_cb (nghttp2_session * session, const nghttp2_frame * frame,
    const uint8_t * name, size_t namelen, const uint8_t * value,
    size_t valuelen, G_GNUC_UNUSED uint8_t flags,
    G_GNUC_UNUSED void *user_data)
{
  MockH2Stream *stream =
      nghttp2_session_get_stream_user_data (session, frame->hd.stream_id);

  if (stream && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    g_ptr_array_add (stream->headers, g_strndup ((const gchar *) name,
            namelen));
    g_ptr_array_add (stream->headers, g_strndup ((const gchar *) value,
            valuelen));
  }
  return 0;
}

static int
on_frame_recv_cb (nghttp2_session * session, const nghttp2_frame * frame,
    void *user_data)
{
  MockH2Conn *conn = user_data;
  MockH2 *mock = conn->mock;
  MockH2Stream *stream =
      nghttp2_session_get_stream_user_data (session, frame->hd.stream_id);

  if (!stream || mock->stopping || conn->dead)
    return 0;
  if (frame->hd.type == NGHTTP2_HEADERS &&
      frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    g_ptr_array_add (stream->headers, NULL);
    if (mock->cb.request)
      mock->cb.request (stream, (const gchar * const *) stream->headers->pdata,
          mock->user_data);
  }
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)
      && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && !conn->dead &&
      mock->cb.end)
    mock->cb.end (stream, mock->user_data);
  return 0;
}

static int
on_data_chunk_recv_cb (nghttp2_session * session,
    G_GNUC_UNUSED uint8_t flags, int32_t stream_id, const uint8_t * data,
    size_t len, void *user_data)
{
  MockH2Conn *conn = user_data;
  MockH2Stream *stream =
      nghttp2_session_get_stream_user_data (session, stream_id);

  if (!stream || conn->dead)
    return 0;
  stream->received += len;
  if (!conn->mock->stopping && conn->mock->cb.data)
    conn->mock->cb.data (stream, data, len, conn->mock->user_data);
  return 0;
}

static int
on_stream_close_cb (nghttp2_session * session, int32_t stream_id,
    uint32_t error_code, G_GNUC_UNUSED void *user_data)
{
  MockH2Stream *stream =
      nghttp2_session_get_stream_user_data (session, stream_id);

  if (stream)
    stream_closed (stream, error_code);
  return 0;
}

static nghttp2_session *
session_new (MockH2Conn * conn)
{
  nghttp2_session_callbacks *callbacks;
  nghttp2_session *session = NULL;
  nghttp2_settings_entry settings[] = {
    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
  };

  nghttp2_session_callbacks_new (&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback (callbacks,
      on_begin_headers_cb);
  nghttp2_session_callbacks_set_on_header_callback (callbacks, on_header_cb);
  nghttp2_session_callbacks_set_on_frame_recv_callback (callbacks,
      on_frame_recv_cb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback (callbacks,
      on_data_chunk_recv_cb);
  nghttp2_session_callbacks_set_on_stream_close_callback (callbacks,
      on_stream_close_cb);
  nghttp2_session_server_new (&session, callbacks, conn);
  nghttp2_session_callbacks_del (callbacks);
  nghttp2_submit_settings (session, NGHTTP2_FLAG_NONE, settings,
      G_N_ELEMENTS (settings));
  return session;
}

/* ------------------------------------------------------------------------
 * Accepting
 * ------------------------------------------------------------------------ */

static void
handshake_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  MockH2Conn *conn = user_data;
  GError *err = NULL;
  const gchar *alpn;

  conn->handshaking = FALSE;
  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), res,
          &err)) {
    /* a client that refused the certificate, or the mock is stopping */
    g_clear_error (&err);
    if (!conn->dead)
      conn_kill (conn);
    return;
  }
  if (conn->dead)
    return;
  alpn = g_tls_connection_get_negotiated_protocol (G_TLS_CONNECTION (source));
  if (g_strcmp0 (alpn, "h2") != 0) {
    conn_kill (conn);
    return;
  }
  conn->in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream
      (conn->tls));
  conn->out = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream
      (conn->tls));
  conn->session = session_new (conn);
  conn->in_source = g_pollable_input_stream_create_source (conn->in, NULL);
  g_source_set_callback (conn->in_source, G_SOURCE_FUNC (in_ready_cb),
      conn, NULL);
  g_source_attach (conn->in_source, conn->mock->context);
  conn_flush (conn);
}

static gboolean
incoming_cb (G_GNUC_UNUSED GSocketService * service,
    GSocketConnection * tcp, G_GNUC_UNUSED GObject * source,
    gpointer user_data)
{
  static const gchar *const protocols[] = { "h2", NULL };
  MockH2 *mock = user_data;
  MockH2Conn *conn;
  GError *err = NULL;
  GIOStream *tls;

  g_atomic_int_inc (&mock->n_connections);
  /* as a production server's: no 200 ms stalls from Nagle and delayed
   * ACKs in the latency figures */
  g_socket_set_option (g_socket_connection_get_socket (tcp), IPPROTO_TCP,
      TCP_NODELAY, TRUE, NULL);
  tls = g_tls_server_connection_new (G_IO_STREAM (tcp), mock->certificate,
      &err);
  if (!tls) {
    g_warning ("%s: no TLS: %s", mock->name, err->message);
    g_clear_error (&err);
    return TRUE;
  }
  g_tls_connection_set_advertised_protocols (G_TLS_CONNECTION (tls),
      protocols);
  conn = g_new0 (MockH2Conn, 1);
  conn->mock = mock;
  conn->tcp = g_object_ref (tcp);
  conn->tls = tls;
  conn->cancellable = g_cancellable_new ();
  conn->outbuf = g_byte_array_new ();
  mock->conns = g_list_prepend (mock->conns, conn);
  /* conn lives until its teardown, which waits for this callback */
  conn->handshaking = TRUE;
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls),
      G_PRIORITY_DEFAULT, conn->cancellable, handshake_cb, conn);
  return TRUE;
}

static gpointer
server_thread (gpointer user_data)
{
  MockH2 *mock = user_data;
  GSocketService *service;
  GSocketAddress *addr, *effective = NULL;
  GInetAddress *loopback;
  GError *err = NULL;

  g_main_context_push_thread_default (mock->context);
  service = g_socket_service_new ();
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  addr = g_inet_socket_address_new (loopback, 0);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), addr,
          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective, &err))
    g_error ("%s: cannot listen: %s", mock->name, err->message);
  g_object_unref (addr);
  g_object_unref (loopback);
  g_signal_connect (service, "incoming", G_CALLBACK (incoming_cb), mock);
  g_socket_service_start (service);

  g_mutex_lock (&mock->lock);
  mock->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS
      (effective));
  mock->ready = TRUE;
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);
  g_object_unref (effective);

  g_main_loop_run (mock->loop);

  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  g_object_unref (service);
  mock->stopping = TRUE;
  /* a handshake in flight ends cancelled: let it finish before its
   * connection goes */
  while (mock->conns) {
    MockH2Conn *conn = mock->conns->data;

    conn_kill (conn);
    g_main_context_iteration (mock->context, TRUE);
  }
  while (g_main_context_iteration (mock->context, FALSE));
  g_main_context_pop_thread_default (mock->context);
  return NULL;
}

/* ------------------------------------------------------------------------
 * API
 * ------------------------------------------------------------------------ */

MockH2 *
mock_h2_new (const gchar * name, const gchar * pem_file,
    const MockH2Callbacks * callbacks, gpointer user_data)
{
  MockH2 *mock = g_new0 (MockH2, 1);
  GError *err = NULL;

  mock->name = g_strdup (name);
  mock->certificate = g_tls_certificate_new_from_file (pem_file, &err);
  if (!mock->certificate)
    g_error ("%s: %s: %s", name, pem_file, err->message);
  if (callbacks)
    mock->cb = *callbacks;
  mock->user_data = user_data;
  g_mutex_init (&mock->lock);
  g_cond_init (&mock->cond);
  mock->context = g_main_context_new ();
  mock->loop = g_main_loop_new (mock->context, FALSE);
  mock->thread = g_thread_new (name, server_thread, mock);

  g_mutex_lock (&mock->lock);
  while (!mock->ready)
    g_cond_wait (&mock->cond, &mock->lock);
  g_mutex_unlock (&mock->lock);
  return mock;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

void
mock_h2_free (MockH2 * mock)
{
  GSource *source;

  if (!mock)
    return;
  /* from inside the loop: a quit before the thread reaches
   * g_main_loop_run() would be lost */
  source = g_idle_source_new ();
  g_source_set_callback (source, quit_cb, mock->loop, NULL);
  g_source_attach (source, mock->context);
  g_source_unref (source);
  g_thread_join (mock->thread);
  g_main_loop_unref (mock->loop);
  g_main_context_unref (mock->context);
  g_object_unref (mock->certificate);
  g_mutex_clear (&mock->lock);
  g_cond_clear (&mock->cond);
  g_free (mock->name);
  g_free (mock);
}

guint
mock_h2_port (MockH2 * mock)
{
  return mock->port;
}

GMainContext *
mock_h2_context (MockH2 * mock)
{
  return mock->context;
}

guint
mock_h2_n_connections (MockH2 * mock)
{
  return g_atomic_int_get (&mock->n_connections);
}

static void
nv_set (nghttp2_nv * nv, const gchar * name, const gchar * value)
{
  nv->name = (uint8_t *) name;
  nv->namelen = strlen (name);
  nv->value = (uint8_t *) value;
  nv->valuelen = strlen (value);
  nv->flags = NGHTTP2_NV_FLAG_NONE;
}

void
mock_h2_stream_respond (MockH2Stream * stream, guint status,
    const gchar * const *headers, gboolean end)
{
  guint n = headers ? g_strv_length ((gchar **) headers) / 2 : 0, i;
  nghttp2_nv *nva = g_new0 (nghttp2_nv, n + 1);
  nghttp2_data_provider provider = {.source.ptr = stream,.read_callback =
        response_read_cb
  };
  gchar *status_str = g_strdup_printf ("%u", status);

  if (stream->conn->dead)
    goto out;
  nv_set (&nva[0], ":status", status_str);
  for (i = 0; i < n; i++)
    nv_set (&nva[1 + i], headers[2 * i], headers[2 * i + 1]);
  nghttp2_submit_response (stream->conn->session, stream->id, nva, n + 1,
      end ? NULL : &provider);
  conn_flush (stream->conn);
out:
  g_free (status_str);
  g_free (nva);
}

static void
stream_resume (MockH2Stream * stream)
{
  if (stream->deferred) {
    stream->deferred = FALSE;
    nghttp2_session_resume_data (stream->conn->session, stream->id);
  }
  conn_flush (stream->conn);
}

void
mock_h2_stream_send (MockH2Stream * stream, GBytes * data)
{
  if (stream->conn->dead || stream->ending || g_bytes_get_size (data) == 0)
    return;
  g_queue_push_tail (&stream->queue, g_bytes_ref (data));
  stream_resume (stream);
}

void
mock_h2_stream_end (MockH2Stream * stream)
{
  if (stream->conn->dead || stream->ending)
    return;
  stream->ending = TRUE;
  stream_resume (stream);
}

void
mock_h2_stream_reset (MockH2Stream * stream, guint32 error_code)
{
  if (stream->conn->dead)
    return;
  nghttp2_submit_rst_stream (stream->conn->session, NGHTTP2_FLAG_NONE,
      stream->id, error_code);
  conn_flush (stream->conn);
}

void
mock_h2_stream_drop (MockH2Stream * stream)
{
  conn_kill (stream->conn);
}

void
mock_h2_stream_freeze (MockH2Stream * stream)
{
  MockH2Conn *conn = stream->conn;

  conn->frozen = TRUE;
  destroy_source (&conn->in_source);
  destroy_source (&conn->out_source);
}

guint64
mock_h2_stream_received (MockH2Stream * stream)
{
  return stream->received;
}

void
mock_h2_stream_set_data (MockH2Stream * stream, gpointer data,
    GDestroyNotify destroy)
{
  if (stream->destroy)
    stream->destroy (stream->data);
  stream->data = data;
  stream->destroy = destroy;
}

gpointer
mock_h2_stream_get_data (MockH2Stream * stream)
{
  return stream->data;
}
