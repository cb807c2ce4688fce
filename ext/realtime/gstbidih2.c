/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* One full-duplex HTTP/2 request over TLS: see gstbidih2.h.
 *
 * Why libnghttp2 and not libsoup: measured for issue 15, libsoup 3.2.3
 * does full duplex over h2 only with a non-pollable request body (a
 * pollable one trips an assertion); soup_session_send_async() returns
 * only at the first DATA frame of the response although the request
 * headers went long before, so nothing can tell "connected" from
 * "answered"; and the session's default 60 s I/O timeout silently hangs a
 * stream that is quiet for a while. Driving nghttp2 ourselves over a
 * GTlsClientConnection, we own the keepalive (PINGs), the watchdog (a
 * PING that is not answered) and the teardown.
 *
 * Failure modes: TCP, TLS (trust as gst_bidi_realtime_message_setup_tls()
 * decides, through gst_bidi_realtime_tls_accept_certificate()), an ALPN
 * other than "h2", and the connect timeout all close the stream with
 * OPEN_READ_WRITE before `connected`. After it, the server's RST_STREAM,
 * a GOAWAY that leaves our stream out or names an error, EOF, an I/O
 * error, an nghttp2 protocol error, or a PING left unanswered for
 * keepalive_s all close it with READ. The server ending its side
 * (END_STREAM) is a clean close (NULL error) even when the request body
 * is still open: Bedrock does that, and writes after it are moot.
 *
 * Lifetime: the stream is reference counted. The owner holds one
 * reference until gst_bidi_h2_stream_free(); each asynchronous GIO
 * operation in flight and each dispatch on the stack hold another, so
 * nothing is freed under a callback. Our own sources (reads, writes,
 * timers, the deferred `closed`) are destroyed at teardown. Free marks
 * the stream freed: no callback runs after that. nghttp2 must not be
 * asked to send from inside its own callbacks, so while mem_recv or
 * mem_send runs (in_nghttp2) writes only queue and the teardown waits
 * until it returns.
 *
 * Output: nghttp2 frames go to `outbuf` one mem_send chunk at a time and
 * are written without blocking; a pollable output source exists only
 * while the socket cannot take more. Flow control on the receiving side
 * is nghttp2's automatic WINDOW_UPDATE once a DATA chunk was handed to
 * the `data` callback, so a long session never stalls. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>

#include "gstbidih2.h"
#include "gstbidirealtime.h"

GST_DEBUG_CATEGORY_STATIC (bidi_h2_debug);
#define GST_CAT_DEFAULT bidi_h2_debug

#define DEFAULT_CONNECT_TIMEOUT_S 20
#define DEFAULT_RECEIVE_WINDOW (1024 * 1024)
#define READ_CHUNK 16384

struct _GstBidiH2Stream
{
  gint refcount;
  gboolean freed;               /* gst_bidi_h2_stream_free() was called */
  gboolean done;                /* closed: `closed` is due or was called */
  gboolean connected;
  gboolean torn_down;
  gboolean teardown_pending;    /* asked for while in_nghttp2 */
  gboolean in_nghttp2;          /* inside nghttp2_session_mem_recv() or
                                 * _mem_send(): its callbacks may run */
  GstBidiH2Callbacks cb;
  gpointer user_data;
  GMainContext *context;

  gchar *host;
  guint16 port;
  gchar *authority;
  gchar *path;
  gchar *method;
  gchar **headers;
  GTlsDatabase *ca_database;
  gboolean ssl_strict;
  guint connect_timeout_s;
  guint keepalive_s;
  guint32 receive_window;

  GCancellable *cancellable;
  GSource *timeout_source;
  GSource *closed_source;
  GError *error;                /* what `closed` gets */
  GSocketClient *client;
  GSocketConnection *tcp;
  GIOStream *tls;
  GPollableInputStream *in;
  GPollableOutputStream *out;
  GSource *in_source;
  GSource *out_source;
  GSource *ping_source;
  gboolean ping_due;            /* a PING is out, no ACK yet */

  nghttp2_session *session;
  int32_t stream_id;
  GQueue body;                  /* GBytes not handed to nghttp2 yet */
  gsize body_offset;            /* in the head of body */
  guint64 body_queued;
  gboolean body_ended;
  gboolean deferred;            /* the data provider said DEFERRED */
  GByteArray *outbuf;
  gboolean response_sent;
  guint status;
  GPtrArray *resp_headers;      /* names and values, NULL-terminated */
  guint8 readbuf[READ_CHUNK];
};

static void
debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (bidi_h2_debug, "bidih2", 0,
        "bidiagent providers: HTTP/2 full-duplex client");
    g_once_init_leave (&done, 1);
  }
}

static GstBidiH2Stream *
h2_ref (GstBidiH2Stream * h2)
{
  h2->refcount++;
  return h2;
}

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
h2_unref (GstBidiH2Stream * h2)
{
  if (--h2->refcount > 0)
    return;
  GST_TRACE ("stream %p freed", h2);
  destroy_source (&h2->timeout_source);
  destroy_source (&h2->closed_source);
  destroy_source (&h2->in_source);
  destroy_source (&h2->out_source);
  destroy_source (&h2->ping_source);
  g_clear_pointer (&h2->session, nghttp2_session_del);
  g_queue_clear_full (&h2->body, (GDestroyNotify) g_bytes_unref);
  g_byte_array_unref (h2->outbuf);
  g_ptr_array_unref (h2->resp_headers);
  g_clear_error (&h2->error);
  if (h2->tls)
    g_signal_handlers_disconnect_by_data (h2->tls, h2);
  g_clear_object (&h2->tls);
  g_clear_object (&h2->tcp);
  g_clear_object (&h2->client);
  g_clear_object (&h2->cancellable);
  g_clear_object (&h2->ca_database);
  g_main_context_unref (h2->context);
  g_free (h2->host);
  g_free (h2->authority);
  g_free (h2->path);
  g_free (h2->method);
  g_strfreev (h2->headers);
  g_free (h2);
}

static GSource *
h2_attach (GstBidiH2Stream * h2, GSource * source, GSourceFunc func)
{
  g_source_set_callback (source, func, h2, NULL);
  g_source_attach (source, h2->context);
  return source;
}

/* ------------------------------------------------------------------------
 * Output
 * ------------------------------------------------------------------------ */

static void h2_fail (GstBidiH2Stream * h2, GQuark domain, gint code,
    const gchar * format, ...) G_GNUC_PRINTF (4, 5);
static void h2_flush (GstBidiH2Stream * h2);
static void h2_teardown (GstBidiH2Stream * h2);

/* After a call into nghttp2: what its callbacks asked for */
static void
h2_leave_nghttp2 (GstBidiH2Stream * h2)
{
  h2->in_nghttp2 = FALSE;
  if (h2->teardown_pending) {
    h2->teardown_pending = FALSE;
    h2_teardown (h2);
  }
}

static gboolean
out_ready_cb (G_GNUC_UNUSED GObject * pollable, gpointer user_data)
{
  GstBidiH2Stream *h2 = h2_ref (user_data);

  destroy_source (&h2->out_source);
  h2_flush (h2);
  h2_unref (h2);
  return G_SOURCE_REMOVE;
}

/* Writes what outbuf holds; FALSE when the socket cannot take it all now
 * or failed */
static gboolean
h2_write_out (GstBidiH2Stream * h2, gboolean watch)
{
  GError *err = NULL;
  gssize n;

  while (h2->outbuf->len > 0) {
    n = g_pollable_output_stream_write_nonblocking (h2->out,
        h2->outbuf->data, h2->outbuf->len, NULL, &err);
    if (n < 0 && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_clear_error (&err);
      if (watch && !h2->out_source)
        h2->out_source = h2_attach (h2,
            g_pollable_output_stream_create_source (h2->out, NULL),
            G_SOURCE_FUNC (out_ready_cb));
      return FALSE;
    }
    if (n < 0) {
      if (watch)
        h2_fail (h2, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
            "writing to %s failed: %s", h2->authority, err->message);
      g_clear_error (&err);
      return FALSE;
    }
    g_byte_array_remove_range (h2->outbuf, 0, n);
  }
  return TRUE;
}

/* Moves what nghttp2 has to send to the socket, as far as it takes it */
static gboolean
h2_send_all (GstBidiH2Stream * h2, gboolean watch)
{
  const uint8_t *data;
  gssize n;

  while (h2_write_out (h2, watch)) {
    h2->in_nghttp2 = TRUE;
    n = nghttp2_session_mem_send (h2->session, &data);
    if (n > 0)
      g_byte_array_append (h2->outbuf, data, n);
    h2_leave_nghttp2 (h2);
    if (n < 0) {
      if (watch)
        h2_fail (h2, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
            "HTTP/2 error: %s", nghttp2_strerror ((int) n));
      return FALSE;
    }
    if (n == 0)
      return TRUE;
    /* closed by a callback of nghttp2's while sending */
    if (watch && h2->torn_down)
      return FALSE;
  }
  return FALSE;
}

static void
h2_flush (GstBidiH2Stream * h2)
{
  if (h2->session && !h2->in_nghttp2 && !h2->torn_down && !h2->out_source)
    h2_send_all (h2, TRUE);
}

/* ------------------------------------------------------------------------
 * Closing
 * ------------------------------------------------------------------------ */

/* RST_STREAM CANCEL and GOAWAY when connected, written as far as the
 * socket takes them now; then the socket closed. Nothing waits. */
static void
h2_teardown (GstBidiH2Stream * h2)
{
  if (h2->torn_down)
    return;
  if (h2->in_nghttp2) {
    h2->teardown_pending = TRUE;
    return;
  }
  h2->torn_down = TRUE;
  g_cancellable_cancel (h2->cancellable);
  destroy_source (&h2->timeout_source);
  destroy_source (&h2->in_source);
  destroy_source (&h2->out_source);
  destroy_source (&h2->ping_source);
  if (h2->session && h2->connected) {
    /* what nghttp2 still has of the body (an ended body's last frames and
     * END_STREAM) goes before the reset, as far as the socket takes it */
    h2_send_all (h2, FALSE);
    if (h2->stream_id > 0 &&
        nghttp2_session_find_stream (h2->session, h2->stream_id))
      nghttp2_submit_rst_stream (h2->session, NGHTTP2_FLAG_NONE,
          h2->stream_id, NGHTTP2_CANCEL);
    nghttp2_submit_goaway (h2->session, NGHTTP2_FLAG_NONE,
        nghttp2_session_get_last_proc_stream_id (h2->session),
        NGHTTP2_NO_ERROR, NULL, 0);
    h2_send_all (h2, FALSE);
  }
  /* closing the socket itself never blocks, unlike a TLS close_notify to
   * a peer that does not read */
  if (h2->tcp)
    g_socket_close (g_socket_connection_get_socket (h2->tcp), NULL);
  g_queue_clear_full (&h2->body, (GDestroyNotify) g_bytes_unref);
  h2->body_queued = 0;
  g_byte_array_set_size (h2->outbuf, 0);
}

static gboolean
closed_cb (gpointer user_data)
{
  GstBidiH2Stream *h2 = h2_ref (user_data);

  destroy_source (&h2->closed_source);
  if (!h2->freed && h2->cb.closed)
    h2->cb.closed (h2, h2->error, h2->user_data);
  h2_unref (h2);
  return G_SOURCE_REMOVE;
}

/* The stream is over with @error (owned, nullable): the connection goes
 * now, `closed` is called from the main loop */
static void
h2_close (GstBidiH2Stream * h2, GError * error)
{
  if (h2->done || h2->freed) {
    g_clear_error (&error);
    return;
  }
  h2->done = TRUE;
  h2->error = error;
  if (error)
    GST_INFO ("stream to %s closed: %s", h2->authority, error->message);
  else
    GST_INFO ("stream to %s ended by the server", h2->authority);
  h2_teardown (h2);
  h2->closed_source = h2_attach (h2, g_idle_source_new (), closed_cb);
}

static void
h2_fail (GstBidiH2Stream * h2, GQuark domain, gint code,
    const gchar * format, ...)
{
  va_list args;
  gchar *msg;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  h2_close (h2, g_error_new_literal (domain, code, msg));
  g_free (msg);
}

/* A failure before `connected` */
static void
h2_fail_open (GstBidiH2Stream * h2, const gchar * what, GError * err)
{
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;                     /* freed or timed out: said already */
  h2_fail (h2, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
      "%s %s failed: %s", what, h2->authority, err->message);
}

/* ------------------------------------------------------------------------
 * nghttp2 callbacks
 * ------------------------------------------------------------------------ */

static gboolean
is_ours (GstBidiH2Stream * h2, int32_t stream_id)
{
  return stream_id == h2->stream_id && !h2->done && !h2->freed;
}

static ssize_t
body_read_cb (G_GNUC_UNUSED nghttp2_session * session,
    G_GNUC_UNUSED int32_t stream_id, uint8_t * buf, size_t length,
    uint32_t * data_flags, G_GNUC_UNUSED nghttp2_data_source * source,
    void *user_data)
{
  GstBidiH2Stream *h2 = user_data;
  gsize copied = 0;

  while (copied < length && !g_queue_is_empty (&h2->body)) {
    GBytes *head = g_queue_peek_head (&h2->body);
    gsize size, n;
    const guint8 *data = g_bytes_get_data (head, &size);

    n = MIN (length - copied, size - h2->body_offset);
    memcpy (buf + copied, data + h2->body_offset, n);
    copied += n;
    h2->body_offset += n;
    if (h2->body_offset == size) {
      g_bytes_unref (g_queue_pop_head (&h2->body));
      h2->body_offset = 0;
    }
  }
  h2->body_queued -= copied;
  if (g_queue_is_empty (&h2->body) && h2->body_ended)
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  else if (copied == 0) {
    h2->deferred = TRUE;
    return NGHTTP2_ERR_DEFERRED;
  }
  return copied;
}

static int
on_begin_headers_cb (G_GNUC_UNUSED nghttp2_session * session,
    const nghttp2_frame * frame, void *user_data)
{
  GstBidiH2Stream *h2 = user_data;

  /* an interim (1xx) answer's headers are dropped with it */
  if (is_ours (h2, frame->hd.stream_id) && !h2->response_sent) {
    g_ptr_array_set_size (h2->resp_headers, 0);
    h2->status = 0;
  }
  return 0;
}

static int
on_header_cb (G_GNUC_UNUSED nghttp2_session * session,
    const nghttp2_frame * frame, const uint8_t * name, size_t namelen,
    const uint8_t * value, size_t valuelen, G_GNUC_UNUSED uint8_t flags,
    void *user_data)
{
  GstBidiH2Stream *h2 = user_data;

  if (!is_ours (h2, frame->hd.stream_id) || h2->response_sent)
    return 0;                   /* trailers, or not for us */
  if (namelen == 7 && memcmp (name, ":status", 7) == 0) {
    gchar *s = g_strndup ((const gchar *) value, valuelen);
    h2->status = (guint) g_ascii_strtoull (s, NULL, 10);
    g_free (s);
  } else if (namelen > 0 && name[0] != ':') {
    g_ptr_array_add (h2->resp_headers, g_strndup ((const gchar *) name,
            namelen));
    g_ptr_array_add (h2->resp_headers, g_strndup ((const gchar *) value,
            valuelen));
  }
  return 0;
}

static void
h2_headers_done (GstBidiH2Stream * h2)
{
  if (h2->response_sent || h2->status < 200)
    return;
  h2->response_sent = TRUE;
  GST_DEBUG ("response %u with %u headers", h2->status,
      h2->resp_headers->len / 2);
  g_ptr_array_add (h2->resp_headers, NULL);
  if (h2->cb.response)
    h2->cb.response (h2, h2->status,
        (const gchar * const *) h2->resp_headers->pdata, h2->user_data);
}

static void
h2_goaway (GstBidiH2Stream * h2, const nghttp2_goaway * goaway)
{
  if (goaway->error_code == NGHTTP2_NO_ERROR &&
      goaway->last_stream_id >= h2->stream_id) {
    GST_DEBUG ("GOAWAY: our stream may finish");
    return;
  }
  h2_fail (h2, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
      "%s closed the connection (HTTP/2 GOAWAY %s)", h2->authority,
      nghttp2_http2_strerror (goaway->error_code));
}

static int
on_frame_recv_cb (G_GNUC_UNUSED nghttp2_session * session,
    const nghttp2_frame * frame, void *user_data)
{
  GstBidiH2Stream *h2 = user_data;

  if (h2->done || h2->freed)
    return 0;
  switch (frame->hd.type) {
    case NGHTTP2_PING:
      if (frame->hd.flags & NGHTTP2_FLAG_ACK)
        h2->ping_due = FALSE;
      break;
    case NGHTTP2_GOAWAY:
      h2_goaway (h2, &frame->goaway);
      break;
    case NGHTTP2_RST_STREAM:
      if (is_ours (h2, frame->hd.stream_id))
        h2_fail (h2, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
            "%s reset the stream (HTTP/2 %s)", h2->authority,
            nghttp2_http2_strerror (frame->rst_stream.error_code));
      break;
    case NGHTTP2_HEADERS:
      if (is_ours (h2, frame->hd.stream_id))
        h2_headers_done (h2);
      G_GNUC_FALLTHROUGH;       /* HEADERS may end the stream too */
    case NGHTTP2_DATA:
      if (is_ours (h2, frame->hd.stream_id) &&
          (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        h2_close (h2, NULL);
      break;
    default:
      break;
  }
  return 0;
}

static int
on_data_chunk_recv_cb (G_GNUC_UNUSED nghttp2_session * session,
    G_GNUC_UNUSED uint8_t flags, int32_t stream_id, const uint8_t * data,
    size_t len, void *user_data)
{
  GstBidiH2Stream *h2 = user_data;

  if (is_ours (h2, stream_id) && h2->cb.data)
    h2->cb.data (h2, data, len, h2->user_data);
  return 0;
}

static int
on_stream_close_cb (G_GNUC_UNUSED nghttp2_session * session,
    int32_t stream_id, uint32_t error_code, void *user_data)
{
  GstBidiH2Stream *h2 = user_data;

  if (!is_ours (h2, stream_id))
    return 0;
  if (error_code == NGHTTP2_NO_ERROR)
    h2_close (h2, NULL);
  else
    h2_fail (h2, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "the stream to %s closed (HTTP/2 %s)", h2->authority,
        nghttp2_http2_strerror (error_code));
  return 0;
}

/* ------------------------------------------------------------------------
 * Input and keepalive
 * ------------------------------------------------------------------------ */

/* Hands @len bytes to nghttp2; FALSE when the stream is over */
static gboolean
h2_recv (GstBidiH2Stream * h2, gssize len)
{
  gssize n;

  h2->in_nghttp2 = TRUE;
  n = nghttp2_session_mem_recv (h2->session, h2->readbuf, len);
  h2_leave_nghttp2 (h2);
  if (n < 0)
    h2_fail (h2, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "HTTP/2 error from %s: %s", h2->authority, nghttp2_strerror ((int) n));
  if (h2->torn_down)
    return FALSE;
  h2_flush (h2);
  return !h2->torn_down;
}

static gboolean
in_ready_cb (G_GNUC_UNUSED GObject * pollable, gpointer user_data)
{
  GstBidiH2Stream *h2 = h2_ref (user_data);
  GError *err = NULL;
  gssize n;

  for (;;) {
    n = g_pollable_input_stream_read_nonblocking (h2->in, h2->readbuf,
        sizeof (h2->readbuf), NULL, &err);
    if (n < 0 && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_clear_error (&err);
      break;
    }
    if (n < 0) {
      h2_fail (h2, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
          "reading from %s failed: %s", h2->authority, err->message);
      g_clear_error (&err);
      break;
    }
    if (n == 0) {
      h2_fail (h2, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
          "%s closed the connection", h2->authority);
      break;
    }
    if (!h2_recv (h2, n))
      break;
  }
  h2_unref (h2);
  /* a torn down stream destroyed this source already */
  return G_SOURCE_CONTINUE;
}

static gboolean
ping_cb (gpointer user_data)
{
  GstBidiH2Stream *h2 = h2_ref (user_data);

  if (h2->ping_due) {
    h2_fail (h2, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "%s: no answer to a PING in %u s", h2->authority, h2->keepalive_s);
  } else {
    GST_LOG ("PING");
    h2->ping_due = TRUE;
    nghttp2_submit_ping (h2->session, NGHTTP2_FLAG_NONE, NULL);
    h2_flush (h2);
  }
  h2_unref (h2);
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------
 * Connecting
 * ------------------------------------------------------------------------ */

static nghttp2_session *
h2_session_new (GstBidiH2Stream * h2)
{
  nghttp2_session_callbacks *callbacks;
  nghttp2_session *session = NULL;

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
  nghttp2_session_client_new (&session, callbacks, h2);
  nghttp2_session_callbacks_del (callbacks);
  return session;
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

/* SETTINGS, the connection window and the request */
static gboolean
h2_submit (GstBidiH2Stream * h2)
{
  nghttp2_settings_entry settings[] = {
    {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, h2->receive_window},
  };
  nghttp2_data_provider provider = {.source.ptr = h2,.read_callback =
        body_read_cb
  };
  guint n_headers = h2->headers ? g_strv_length (h2->headers) / 2 : 0;
  nghttp2_nv *nva = g_new0 (nghttp2_nv, 4 + n_headers);
  guint i;

  nghttp2_submit_settings (h2->session, NGHTTP2_FLAG_NONE, settings,
      G_N_ELEMENTS (settings));
  nghttp2_session_set_local_window_size (h2->session, NGHTTP2_FLAG_NONE, 0,
      h2->receive_window);
  nv_set (&nva[0], ":method", h2->method);
  nv_set (&nva[1], ":scheme", "https");
  nv_set (&nva[2], ":authority", h2->authority);
  nv_set (&nva[3], ":path", h2->path);
  for (i = 0; i < n_headers; i++)
    nv_set (&nva[4 + i], h2->headers[2 * i], h2->headers[2 * i + 1]);
  h2->stream_id = nghttp2_submit_request (h2->session, NULL, nva,
      4 + n_headers, &provider, h2);
  g_free (nva);
  if (h2->stream_id < 0) {
    h2_fail (h2, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
        "cannot make the request to %s: %s", h2->authority,
        nghttp2_strerror (h2->stream_id));
    return FALSE;
  }
  return TRUE;
}

static void
h2_start (GstBidiH2Stream * h2)
{
  const gchar *alpn =
      g_tls_connection_get_negotiated_protocol (G_TLS_CONNECTION (h2->tls));

  if (g_strcmp0 (alpn, "h2") != 0) {
    h2_fail (h2, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
        "%s does not speak HTTP/2 (TLS ALPN protocol: %s)", h2->authority,
        alpn ? alpn : "none");
    return;
  }
  destroy_source (&h2->timeout_source);
  h2->in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (h2->tls));
  h2->out =
      G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (h2->tls));
  h2->session = h2_session_new (h2);
  if (!h2_submit (h2))
    return;
  h2->connected = TRUE;
  GST_INFO ("connected to %s, stream %d", h2->authority, h2->stream_id);
  h2->in_source = h2_attach (h2,
      g_pollable_input_stream_create_source (h2->in, NULL),
      G_SOURCE_FUNC (in_ready_cb));
  if (h2->keepalive_s > 0)
    h2->ping_source = h2_attach (h2,
        g_timeout_source_new (h2->keepalive_s * 1000), ping_cb);
  h2_flush (h2);
  if (!h2->done && h2->cb.connected)
    h2->cb.connected (h2, h2->user_data);
}

static void
handshake_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstBidiH2Stream *h2 = user_data;
  GError *err = NULL;

  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), res,
          &err)) {
    if (!h2->done && !h2->freed)
      h2_fail_open (h2, "TLS handshake with", err);
    g_error_free (err);
  } else if (!h2->done && !h2->freed) {
    h2_start (h2);
  }
  h2_unref (h2);
}

static gboolean
accept_certificate_cb (G_GNUC_UNUSED GTlsConnection * conn,
    GTlsCertificate * cert, GTlsCertificateFlags errors, gpointer user_data)
{
  GstBidiH2Stream *h2 = user_data;

  return gst_bidi_realtime_tls_accept_certificate (h2->host, h2->port, cert,
      errors, h2->ca_database, h2->ssl_strict);
}

static void
tcp_connected_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstBidiH2Stream *h2 = user_data;
  static const gchar *const protocols[] = { "h2", NULL };
  GSocketConnectable *identity;
  GError *err = NULL;

  h2->tcp = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), res,
      &err);
  if (!h2->tcp) {
    if (!h2->done && !h2->freed)
      h2_fail_open (h2, "connecting to", err);
    g_error_free (err);
    goto out;
  }
  if (h2->done || h2->freed) {
    g_socket_close (g_socket_connection_get_socket (h2->tcp), NULL);
    goto out;
  }
  /* every frame is small and due now (20-100 ms of audio): Nagle's
   * algorithm would hold each one until the previous one is acknowledged,
   * and the peer's delayed ACK makes that up to 200 ms */
  g_socket_set_option (g_socket_connection_get_socket (h2->tcp), IPPROTO_TCP,
      TCP_NODELAY, TRUE, NULL);
  identity = g_network_address_new (h2->host, h2->port);
  h2->tls = g_tls_client_connection_new (G_IO_STREAM (h2->tcp), identity,
      &err);
  g_object_unref (identity);
  if (!h2->tls) {
    h2_fail_open (h2, "TLS to", err);
    g_error_free (err);
    goto out;
  }
  g_tls_connection_set_advertised_protocols (G_TLS_CONNECTION (h2->tls),
      protocols);
  /* the handler lives as long as the connection, which h2 outlives */
  g_signal_connect (h2->tls, "accept-certificate",
      G_CALLBACK (accept_certificate_cb), h2);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (h2->tls),
      G_PRIORITY_DEFAULT, h2->cancellable, handshake_cb, h2_ref (h2));
out:
  h2_unref (h2);
}

static gboolean
connect_timeout_cb (gpointer user_data)
{
  GstBidiH2Stream *h2 = h2_ref (user_data);

  destroy_source (&h2->timeout_source);
  h2_fail (h2, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
      "connecting to %s timed out after %u s", h2->authority,
      h2->connect_timeout_s);
  h2_unref (h2);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------
 * API
 * ------------------------------------------------------------------------ */

gchar *
gst_bidi_h2_authority (GUri * uri)
{
  const gchar *host = g_uri_get_host (uri);
  gint port = g_uri_get_port (uri);
  gboolean v6 = host && strchr (host, ':') != NULL;

  if (port <= 0 || port == 443)
    return v6 ? g_strdup_printf ("[%s]", host) : g_strdup (host);
  return g_strdup_printf (v6 ? "[%s]:%d" : "%s:%d", host, port);
}

/* The URL's parts, or FALSE with @error */
static gboolean
h2_parse_url (GstBidiH2Stream * h2, const gchar * url, GError ** error)
{
  GUri *uri = url ? g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL) : NULL;
  const gchar *path, *query;

  if (!uri || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 ||
      !g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "'%s' is not an https:// URL with a host (HTTP/2 needs TLS here)",
        url ? url : "(null)");
    g_clear_pointer (&uri, g_uri_unref);
    return FALSE;
  }
  h2->host = g_strdup (g_uri_get_host (uri));
  h2->port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 443;
  h2->authority = gst_bidi_h2_authority (uri);
  path = g_uri_get_path (uri);
  query = g_uri_get_query (uri);
  h2->path = g_strdup_printf ("%s%s%s", *path ? path : "/",
      query ? "?" : "", query ? query : "");
  g_uri_unref (uri);
  return TRUE;
}

GstBidiH2Stream *
gst_bidi_h2_stream_open (const GstBidiH2Options * options,
    const GstBidiH2Callbacks * callbacks, gpointer user_data,
    GError ** error)
{
  GstBidiH2Stream *h2;
  GSocketConnectable *address;

  debug_init ();
  g_return_val_if_fail (options != NULL && callbacks != NULL, NULL);

  h2 = g_new0 (GstBidiH2Stream, 1);
  h2->refcount = 1;
  h2->context = g_main_context_ref_thread_default ();
  h2->outbuf = g_byte_array_new ();
  h2->resp_headers = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&h2->body);
  if (!h2_parse_url (h2, options->url, error)) {
    h2_unref (h2);
    return NULL;
  }
  h2->cb = *callbacks;
  h2->user_data = user_data;
  h2->method = g_strdup (options->method ? options->method : "POST");
  h2->headers = g_strdupv ((gchar **) options->headers);
  h2->ca_database = options->ca_database ?
      g_object_ref (options->ca_database) : NULL;
  h2->ssl_strict = options->ssl_strict;
  h2->connect_timeout_s = options->connect_timeout_s ?
      options->connect_timeout_s : DEFAULT_CONNECT_TIMEOUT_S;
  h2->keepalive_s = options->keepalive_s;
  /* HTTP/2 windows stop at 2^31 - 1 */
  h2->receive_window = options->receive_window ?
      MIN (options->receive_window, (guint32) NGHTTP2_MAX_WINDOW_SIZE) :
      DEFAULT_RECEIVE_WINDOW;
  h2->cancellable = g_cancellable_new ();

  GST_INFO ("connecting to %s", h2->authority);
  h2->timeout_source = h2_attach (h2,
      g_timeout_source_new (h2->connect_timeout_s * 1000),
      connect_timeout_cb);
  h2->client = g_socket_client_new ();
  /* a proxy from the environment has no business with a local server */
  if (gst_bidi_realtime_host_is_loopback (h2->host))
    g_socket_client_set_enable_proxy (h2->client, FALSE);
  address = g_network_address_new (h2->host, h2->port);
  g_socket_client_connect_async (h2->client, address, h2->cancellable,
      tcp_connected_cb, h2_ref (h2));
  g_object_unref (address);
  return h2;
}

gboolean
gst_bidi_h2_stream_write (GstBidiH2Stream * h2, GBytes * data)
{
  g_return_val_if_fail (h2 != NULL && data != NULL, FALSE);

  if (h2->body_ended || h2->done || h2->freed || g_bytes_get_size (data) == 0)
    return FALSE;
  g_queue_push_tail (&h2->body, g_bytes_ref (data));
  h2->body_queued += g_bytes_get_size (data);
  if (h2->connected && h2->deferred) {
    h2->deferred = FALSE;
    nghttp2_session_resume_data (h2->session, h2->stream_id);
  }
  h2_flush (h2);
  return TRUE;
}

void
gst_bidi_h2_stream_end (GstBidiH2Stream * h2)
{
  g_return_if_fail (h2 != NULL);

  if (h2->body_ended || h2->done || h2->freed)
    return;
  h2->body_ended = TRUE;
  GST_DEBUG ("request body ends after %" G_GUINT64_FORMAT " queued bytes",
      h2->body_queued);
  if (h2->connected && h2->deferred) {
    h2->deferred = FALSE;
    nghttp2_session_resume_data (h2->session, h2->stream_id);
  }
  h2_flush (h2);
}

guint64
gst_bidi_h2_stream_get_queued (GstBidiH2Stream * h2)
{
  g_return_val_if_fail (h2 != NULL, 0);

  return h2->body_queued + h2->outbuf->len;
}

gboolean
gst_bidi_h2_stream_is_open (GstBidiH2Stream * h2)
{
  g_return_val_if_fail (h2 != NULL, FALSE);

  return h2->connected && !h2->done && !h2->freed;
}

void
gst_bidi_h2_stream_free (GstBidiH2Stream * h2)
{
  if (!h2)
    return;

  GST_DEBUG ("freeing the stream to %s", h2->authority);
  h2->freed = TRUE;
  destroy_source (&h2->closed_source);
  h2_teardown (h2);
  h2_unref (h2);
}
