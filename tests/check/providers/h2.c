/* gst-bidi: the full-duplex HTTP/2 client (ext/realtime/gstbidih2.c)
 * against the mock HTTP/2 server (common/mockh2.c), both on real sockets
 * on 127.0.0.1: the client on the test's thread-default context, the
 * mock in its thread.
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
#include <nghttp2/nghttp2.h>

#include "gstbidih2.h"
#include "gstbidirealtime.h"
#include "mockh2.h"
#include "testcert.h"

/* valgrind makes everything much slower: the waits scale with this */
static guint slow = 1;
#define WAIT_MS (10000 * slow)

/* ------------------------------------------------------------------------
 * The server side: what the mock does with a request, and what it saw
 * ------------------------------------------------------------------------ */

typedef enum
{
  SERVER_ECHO,                  /* 200, each body chunk back transformed,
                                 * the end after the client's end */
  SERVER_REFUSE,                /* 403 with a JSON body */
  SERVER_RESET,                 /* 200, RST_STREAM at the first data */
  SERVER_DROP,                  /* 200, the connection closed at the first
                                 * data */
  SERVER_FREEZE,                /* 200, frozen at the first data */
  SERVER_SILENT                 /* 200, then reads only */
} ServerMode;

typedef struct
{
  GMutex lock;
  ServerMode mode;
  gchar **request;              /* the last request's headers */
  gboolean client_ended;
  gboolean stream_closed;
  guint64 received;
} Server;

#define REFUSAL "{\"message\":\"The security token is invalid\"}"

static guint8
transform (guint8 b)
{
  return b ^ 0x5a;
}

static void
server_request (MockH2Stream * stream, const gchar * const *headers,
    gpointer user_data)
{
  Server *s = user_data;
  static const gchar *const refusal_headers[] = {
    "content-type", "application/json",
    "x-amzn-errortype", "UnrecognizedClientException", NULL
  };
  static const gchar *const ok_headers[] = {
    "content-type", "application/x-test", NULL
  };
  GBytes *body;

  g_mutex_lock (&s->lock);
  g_strfreev (s->request);
  s->request = g_strdupv ((gchar **) headers);
  g_mutex_unlock (&s->lock);
  if (s->mode != SERVER_REFUSE) {
    mock_h2_stream_respond (stream, 200, ok_headers, FALSE);
    return;
  }
  mock_h2_stream_respond (stream, 403, refusal_headers, FALSE);
  body = g_bytes_new_static (REFUSAL, strlen (REFUSAL));
  mock_h2_stream_send (stream, body);
  g_bytes_unref (body);
  mock_h2_stream_end (stream);
}

static void
server_data (MockH2Stream * stream, const guint8 * data, gsize len,
    gpointer user_data)
{
  Server *s = user_data;
  GBytes *body;
  guint8 *echo;
  gsize i;

  g_mutex_lock (&s->lock);
  s->received = mock_h2_stream_received (stream);
  g_mutex_unlock (&s->lock);
  switch (s->mode) {
    case SERVER_ECHO:
      echo = g_malloc (len);
      for (i = 0; i < len; i++)
        echo[i] = transform (data[i]);
      body = g_bytes_new_take (echo, len);
      mock_h2_stream_send (stream, body);
      g_bytes_unref (body);
      break;
    case SERVER_RESET:
      mock_h2_stream_reset (stream, NGHTTP2_INTERNAL_ERROR);
      break;
    case SERVER_DROP:
      mock_h2_stream_drop (stream);
      break;
    case SERVER_FREEZE:
      mock_h2_stream_freeze (stream);
      break;
    default:
      break;
  }
}

static void
server_end (MockH2Stream * stream, gpointer user_data)
{
  Server *s = user_data;

  g_mutex_lock (&s->lock);
  s->client_ended = TRUE;
  g_mutex_unlock (&s->lock);
  if (s->mode == SERVER_ECHO)
    mock_h2_stream_end (stream);
}

static void
server_closed (G_GNUC_UNUSED MockH2Stream * stream,
    G_GNUC_UNUSED guint32 error_code, gpointer user_data)
{
  Server *s = user_data;

  g_mutex_lock (&s->lock);
  s->stream_closed = TRUE;
  g_mutex_unlock (&s->lock);
}

static const MockH2Callbacks server_callbacks = {
  server_request, server_data, server_end, server_closed
};

/* ------------------------------------------------------------------------
 * The client side
 * ------------------------------------------------------------------------ */

typedef enum
{
  FREE_NEVER,
  FREE_IN_CONNECTED,
  FREE_IN_RESPONSE,
  FREE_IN_DATA,
  FREE_IN_CLOSED
} FreeIn;

typedef struct
{
  GMainContext *context;
  TestCert tc;
  Server server;
  MockH2 *mock;
  GstBidiH2Stream *stream;
  FreeIn free_in;
  gboolean freed;
  gint n_connected;
  gint n_response;
  gint n_closed;
  guint status;
  gchar **headers;
  GByteArray *body;
  GError *error;
  GString *order;               /* c: connected, r: response, d: data (a
                                 * run counts once), x: closed */
} Test;

static void
test_free_stream (Test * t)
{
  gst_bidi_h2_stream_free (t->stream);
  t->stream = NULL;
  t->freed = TRUE;
}

static void
note (Test * t, gchar what)
{
  fail_if (t->freed, "a callback (%c) after free", what);
  if (what != 'd' || t->order->len == 0 ||
      t->order->str[t->order->len - 1] != 'd')
    g_string_append_c (t->order, what);
}

static void
client_connected (GstBidiH2Stream * stream, gpointer user_data)
{
  Test *t = user_data;

  fail_unless (stream == t->stream);
  note (t, 'c');
  t->n_connected++;
  fail_unless (gst_bidi_h2_stream_is_open (stream));
  if (t->free_in == FREE_IN_CONNECTED)
    test_free_stream (t);
}

static void
client_response (G_GNUC_UNUSED GstBidiH2Stream * stream, guint status,
    const gchar * const *headers, gpointer user_data)
{
  Test *t = user_data;

  note (t, 'r');
  t->n_response++;
  t->status = status;
  t->headers = g_strdupv ((gchar **) headers);
  if (t->free_in == FREE_IN_RESPONSE)
    test_free_stream (t);
}

static void
client_data (G_GNUC_UNUSED GstBidiH2Stream * stream, const guint8 * data,
    gsize len, gpointer user_data)
{
  Test *t = user_data;

  note (t, 'd');
  fail_unless (len > 0);
  g_byte_array_append (t->body, data, len);
  if (t->free_in == FREE_IN_DATA)
    test_free_stream (t);
}

/* What gst_bidi_h2_stream_write() says to one byte */
static gboolean
write_one (GstBidiH2Stream * stream)
{
  GBytes *b = g_bytes_new_static ("x", 1);
  gboolean ret = gst_bidi_h2_stream_write (stream, b);

  g_bytes_unref (b);
  return ret;
}

static void
client_closed (G_GNUC_UNUSED GstBidiH2Stream * stream, const GError * error,
    gpointer user_data)
{
  Test *t = user_data;

  note (t, 'x');
  t->n_closed++;
  t->error = error ? g_error_copy (error) : NULL;
  fail_if (gst_bidi_h2_stream_is_open (stream));
  fail_if (write_one (stream));
  if (t->free_in == FREE_IN_CLOSED)
    test_free_stream (t);
}

static const GstBidiH2Callbacks client_callbacks = {
  client_connected, client_response, client_data, client_closed
};

static Test *
test_new (ServerMode mode)
{
  Test *t = g_new0 (Test, 1);

  t->context = g_main_context_new ();
  g_main_context_push_thread_default (t->context);
  test_cert_init (&t->tc);
  g_mutex_init (&t->server.lock);
  t->server.mode = mode;
  t->mock = mock_h2_new ("mockh2", t->tc.pem, &server_callbacks, &t->server);
  t->body = g_byte_array_new ();
  t->order = g_string_new (NULL);
  return t;
}

static gboolean
tick_cb (G_GNUC_UNUSED gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the test's context until @cond holds or @ms passed */
static gboolean
wait_for (Test * t, gboolean (*cond) (Test * t), guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  GSource *tick = g_timeout_source_new (20);
  gboolean ret;

  g_source_set_callback (tick, tick_cb, NULL, NULL);
  g_source_attach (tick, t->context);
  while (!(ret = cond (t)) && g_get_monotonic_time () < end)
    g_main_context_iteration (t->context, TRUE);
  g_source_destroy (tick);
  g_source_unref (tick);
  return ret;
}

static gboolean
never (G_GNUC_UNUSED Test * t)
{
  return FALSE;
}

static gboolean
is_connected (Test * t)
{
  return t->n_connected > 0 || t->n_closed > 0;
}

static gboolean
is_closed (Test * t)
{
  return t->n_closed > 0;
}

static gboolean
server_has_request (Test * t)
{
  gboolean ret;

  g_mutex_lock (&t->server.lock);
  ret = t->server.request != NULL;
  g_mutex_unlock (&t->server.lock);
  return ret;
}

static gboolean
server_stream_closed (Test * t)
{
  gboolean ret;

  g_mutex_lock (&t->server.lock);
  ret = t->server.stream_closed;
  g_mutex_unlock (&t->server.lock);
  return ret;
}

static void
test_free (Test * t)
{
  gst_bidi_h2_stream_free (t->stream);
  /* what the client left on the context runs, and must not call back */
  t->freed = TRUE;
  wait_for (t, never, 100);
  mock_h2_free (t->mock);
  g_strfreev (t->server.request);
  g_mutex_clear (&t->server.lock);
  test_cert_clear (&t->tc);
  g_strfreev (t->headers);
  g_byte_array_unref (t->body);
  g_clear_error (&t->error);
  g_string_free (t->order, TRUE);
  while (g_main_context_iteration (t->context, FALSE));
  g_main_context_pop_thread_default (t->context);
  g_main_context_unref (t->context);
  g_free (t);
}

static gchar *
test_url (Test * t, const gchar * path)
{
  return g_strdup_printf ("https://127.0.0.1:%u%s", mock_h2_port (t->mock),
      path);
}

/* Opens a stream to the mock (trusting its certificate), or to @url */
static void
test_open_full (Test * t, const gchar * url, guint keepalive_s)
{
  static const gchar *const headers[] = {
    "content-type", "application/vnd.amazon.eventstream",
    "x-custom", "secret-value", NULL
  };
  GstBidiH2Options opts = { 0 };
  gchar *own_url = url ? NULL : test_url (t, "/model/a%3Ab/x");
  GError *err = NULL;

  opts.url = url ? url : own_url;
  opts.method = "POST";
  opts.headers = headers;
  opts.ssl_strict = FALSE;
  opts.keepalive_s = keepalive_s;
  t->stream = gst_bidi_h2_stream_open (&opts, &client_callbacks, t, &err);
  fail_unless (t->stream != NULL, "%s", err ? err->message : "");
  g_free (own_url);
}

static void
test_open (Test * t)
{
  test_open_full (t, NULL, 0);
}

static const gchar *
header (const gchar * const *headers, const gchar * name)
{
  for (; headers && headers[0] && headers[1]; headers += 2)
    if (g_strcmp0 (headers[0], name) == 0)
      return headers[1];
  return NULL;
}

static GBytes *
pattern (gsize size, guint seed)
{
  guint8 *data = g_malloc (size);
  gsize i;

  for (i = 0; i < size; i++)
    data[i] = (guint8) ((i * 7 + seed * 13 + (i >> 8)) & 0xff);
  return g_bytes_new_take (data, size);
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

#define CHUNK (64 * 1024)
#define N_CHUNKS 64             /* 4 MiB each way */

static void
write_chunks (Test * t, GByteArray * sent, guint from, guint to)
{
  guint i;

  for (i = from; i < to; i++) {
    GBytes *b = pattern (CHUNK, i);

    fail_unless (gst_bidi_h2_stream_write (t->stream, b));
    g_byte_array_append (sent, g_bytes_get_data (b, NULL), CHUNK);
    g_bytes_unref (b);
  }
}

static gboolean
echo_half (Test * t)
{
  return t->body->len >= CHUNK * N_CHUNKS / 2 || t->n_closed > 0;
}

GST_START_TEST (test_full_duplex)
{
  Test *t = test_new (SERVER_ECHO);
  GByteArray *sent = g_byte_array_new ();
  guint i;

  test_open (t);
  /* written before `connected`: queued */
  write_chunks (t, sent, 0, N_CHUNKS / 2);
  fail_unless (gst_bidi_h2_stream_get_queued (t->stream) > 0);
  fail_if (gst_bidi_h2_stream_is_open (t->stream));
  fail_unless (wait_for (t, is_connected, WAIT_MS));
  fail_unless (t->n_connected == 1, "%s", t->error ? t->error->message : "");
  /* the answer flows while the request body is still open, and more of
   * the body goes after it: both ways at once, beyond the windows */
  fail_unless (wait_for (t, echo_half, WAIT_MS * 3));
  fail_unless_equals_string (t->order->str, "crd");
  write_chunks (t, sent, N_CHUNKS / 2, N_CHUNKS);
  gst_bidi_h2_stream_end (t->stream);
  fail_if (write_one (t->stream));
  fail_unless (wait_for (t, is_closed, WAIT_MS * 3));
  fail_unless (t->error == NULL, "%s", t->error->message);
  fail_unless_equals_string (t->order->str, "crdx");
  fail_unless_equals_int (t->status, 200);
  fail_unless_equals_string (header ((const gchar * const *) t->headers,
          "content-type"), "application/x-test");
  fail_unless (t->body->len == sent->len, "%u != %u", t->body->len,
      sent->len);
  for (i = 0; i < sent->len; i++)
    if (t->body->data[i] != transform (sent->data[i]))
      fail ("byte %u differs", i);
  fail_unless_equals_int (gst_bidi_h2_stream_get_queued (t->stream), 0);
  g_mutex_lock (&t->server.lock);
  fail_unless (t->server.client_ended);
  fail_unless_equals_uint64 (t->server.received, (guint64) sent->len);
  g_mutex_unlock (&t->server.lock);
  fail_unless (wait_for (t, server_stream_closed, WAIT_MS));
  fail_unless_equals_int (mock_h2_n_connections (t->mock), 1);
  g_byte_array_unref (sent);
  test_free (t);
}

GST_END_TEST;

GST_START_TEST (test_request_headers)
{
  Test *t = test_new (SERVER_SILENT);
  const gchar *const *h;
  gchar *authority;

  test_open (t);
  fail_unless (wait_for (t, server_has_request, WAIT_MS));
  authority = g_strdup_printf ("127.0.0.1:%u", mock_h2_port (t->mock));
  h = (const gchar * const *) t->server.request;
  /* the pseudo-headers first, then ours in order */
  fail_unless_equals_string (h[0], ":method");
  fail_unless_equals_string (header (h, ":method"), "POST");
  fail_unless_equals_string (header (h, ":scheme"), "https");
  fail_unless_equals_string (header (h, ":authority"), authority);
  fail_unless_equals_string (header (h, ":path"), "/model/a%3Ab/x");
  fail_unless_equals_string (h[8], "content-type");
  fail_unless_equals_string (h[9], "application/vnd.amazon.eventstream");
  fail_unless_equals_string (h[10], "x-custom");
  fail_unless_equals_string (h[11], "secret-value");
  fail_unless (h[12] == NULL);
  fail_unless (wait_for (t, is_connected, WAIT_MS));
  g_free (authority);
  test_free (t);
}

GST_END_TEST;

GST_START_TEST (test_path_query)
{
  Test *t = test_new (SERVER_SILENT);
  gchar *url = test_url (t, "/a%2Fb/c?x=1%3A2&y");

  test_open_full (t, url, 0);
  fail_unless (wait_for (t, server_has_request, WAIT_MS));
  fail_unless_equals_string (header ((const gchar * const *)
          t->server.request, ":path"), "/a%2Fb/c?x=1%3A2&y");
  g_free (url);
  test_free (t);
}

GST_END_TEST;

GST_START_TEST (test_authority)
{
  const gchar *cases[][2] = {
    {"https://bedrock-runtime.us-east-1.amazonaws.com/model/x",
        "bedrock-runtime.us-east-1.amazonaws.com"},
    {"https://example.com:443/", "example.com"},
    {"https://example.com:8443/", "example.com:8443"},
    {"https://127.0.0.1:1234/x", "127.0.0.1:1234"},
    {"https://[::1]:1234/x", "[::1]:1234"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GUri *uri = g_uri_parse (cases[i][0], G_URI_FLAGS_ENCODED, NULL);
    gchar *authority = gst_bidi_h2_authority (uri);

    fail_unless_equals_string (authority, cases[i][1]);
    g_free (authority);
    g_uri_unref (uri);
  }
}

GST_END_TEST;

GST_START_TEST (test_refused_403)
{
  Test *t = test_new (SERVER_REFUSE);

  test_open (t);
  fail_unless (wait_for (t, is_closed, WAIT_MS));
  fail_unless (t->error == NULL, "%s", t->error->message);
  fail_unless_equals_string (t->order->str, "crdx");
  fail_unless_equals_int (t->status, 403);
  fail_unless_equals_string (header ((const gchar * const *) t->headers,
          "x-amzn-errortype"), "UnrecognizedClientException");
  fail_unless (t->body->len == strlen (REFUSAL));
  fail_unless (memcmp (t->body->data, REFUSAL, t->body->len) == 0);
  test_free (t);
}

GST_END_TEST;

/* Writes one chunk and waits for the stream to close */
static void
write_and_wait_closed (Test * t, guint ms)
{
  GBytes *b = pattern (1000, 1);

  fail_unless (gst_bidi_h2_stream_write (t->stream, b));
  g_bytes_unref (b);
  fail_unless (wait_for (t, is_closed, ms));
}

static void
check_read_error (Test * t, const gchar * part)
{
  fail_unless (t->error != NULL);
  fail_unless (g_error_matches (t->error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_READ), "%s", t->error->message);
  fail_unless (strstr (t->error->message, part) != NULL, "%s",
      t->error->message);
  fail_unless_equals_int (t->n_closed, 1);
}

GST_START_TEST (test_server_reset)
{
  Test *t = test_new (SERVER_RESET);

  test_open (t);
  write_and_wait_closed (t, WAIT_MS);
  check_read_error (t, "INTERNAL_ERROR");
  fail_unless_equals_string (t->order->str, "crx");
  test_free (t);
}

GST_END_TEST;

GST_START_TEST (test_server_drop)
{
  Test *t = test_new (SERVER_DROP);

  test_open (t);
  write_and_wait_closed (t, WAIT_MS);
  check_read_error (t, "127.0.0.1");
  test_free (t);
}

GST_END_TEST;

GST_START_TEST (test_server_freeze)
{
  Test *t = test_new (SERVER_FREEZE);
  gint64 start;

  test_open_full (t, NULL, 1);
  fail_unless (wait_for (t, is_connected, WAIT_MS));
  start = g_get_monotonic_time ();
  write_and_wait_closed (t, WAIT_MS * 2);
  check_read_error (t, "no answer to a PING in 1 s");
  /* one PING period at least */
  fail_unless (g_get_monotonic_time () - start >= G_TIME_SPAN_SECOND);
  test_free (t);
}

GST_END_TEST;

/* keepalive on a live connection: PINGs answered, nothing closes */
GST_START_TEST (test_keepalive_alive)
{
  Test *t = test_new (SERVER_SILENT);

  test_open_full (t, NULL, 1);
  fail_unless (wait_for (t, is_connected, WAIT_MS));
  wait_for (t, is_closed, 3500);
  fail_unless_equals_int (t->n_closed, 0);
  fail_unless (gst_bidi_h2_stream_is_open (t->stream));
  test_free (t);
}

GST_END_TEST;

static void
check_open_error (Test * t, const gchar * part)
{
  fail_unless (wait_for (t, is_closed, WAIT_MS * 2));
  fail_unless_equals_int (t->n_connected, 0);
  fail_unless (t->error != NULL);
  fail_unless (g_error_matches (t->error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ_WRITE), "%s", t->error->message);
  fail_unless (strstr (t->error->message, part) != NULL, "%s",
      t->error->message);
  fail_unless_equals_string (t->order->str, "x");
}

/* A port on 127.0.0.1 that nothing listens on (bound and closed) */
static guint
closed_port (void)
{
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;
  guint port;

  fail_unless (g_socket_bind (sock, addr, FALSE, NULL));
  bound = g_socket_get_local_address (sock, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (sock, NULL);
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  g_object_unref (sock);
  return port;
}

GST_START_TEST (test_connection_refused)
{
  Test *t = test_new (SERVER_SILENT);
  gchar *url = g_strdup_printf ("https://127.0.0.1:%u/x", closed_port ());

  test_open_full (t, url, 0);
  check_open_error (t, "connecting to 127.0.0.1");
  g_free (url);
  test_free (t);
}

GST_END_TEST;

/* Opens with @strict and @ca_file (nullable) */
static void
test_open_tls (Test * t, gboolean strict, const gchar * ca_file)
{
  GstBidiH2Options opts = { 0 };
  gchar *url = test_url (t, "/x");

  opts.url = url;
  opts.method = "POST";
  opts.ssl_strict = strict;
  opts.ca_database = gst_bidi_realtime_load_ca_file (ca_file, NULL);
  t->stream = gst_bidi_h2_stream_open (&opts, &client_callbacks, t, NULL);
  fail_unless (t->stream != NULL);
  g_clear_object (&opts.ca_database);
  g_free (url);
}

GST_START_TEST (test_tls_trust)
{
  Test *t = test_new (SERVER_SILENT);

  /* not trusted by the system, no ssl-ca-file, strict */
  test_open_tls (t, TRUE, NULL);
  check_open_error (t, "TLS handshake with 127.0.0.1");
  gst_bidi_h2_stream_free (t->stream);
  g_clear_error (&t->error);
  t->n_closed = 0;
  g_string_truncate (t->order, 0);

  /* trusted through ssl-ca-file */
  test_open_tls (t, TRUE, t->tc.cert);
  fail_unless (wait_for (t, is_connected, WAIT_MS));
  fail_unless_equals_int (t->n_connected, 1);
  gst_bidi_h2_stream_free (t->stream);
  t->n_connected = 0;

  /* ssl-strict=false on a loopback host */
  test_open_tls (t, FALSE, NULL);
  fail_unless (wait_for (t, is_connected, WAIT_MS));
  fail_unless_equals_int (t->n_connected, 1);
  fail_unless_equals_int (t->n_closed, 0);
  test_free (t);
}

GST_END_TEST;

/* Makes @listener listen on 127.0.0.1, port chosen by the system */
static guint
listen_loopback (GSocketListener * listener)
{
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *effective;
  guint port;

  fail_unless (g_socket_listener_add_address (listener, addr,
          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective,
          NULL));
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_object_unref (effective);
  g_object_unref (addr);
  g_object_unref (lo);
  return port;
}

/* A TLS server that offers http/1.1 only: one handshake, then it waits
 * for the client to go */
typedef struct
{
  GSocketService *service;
  GTlsCertificate *cert;
  guint port;
} Http1Server;

static gboolean
http1_run (G_GNUC_UNUSED GThreadedSocketService * service,
    GSocketConnection * conn, G_GNUC_UNUSED GObject * source,
    gpointer user_data)
{
  static const gchar *const protocols[] = { "http/1.1", NULL };
  Http1Server *srv = user_data;
  GIOStream *tls = g_tls_server_connection_new (G_IO_STREAM (conn),
      srv->cert, NULL);
  guint8 buf[256];

  g_tls_connection_set_advertised_protocols (G_TLS_CONNECTION (tls),
      protocols);
  if (g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, NULL))
    while (g_input_stream_read (g_io_stream_get_input_stream (tls), buf,
            sizeof (buf), NULL, NULL) > 0);
  g_object_unref (tls);
  return TRUE;
}

GST_START_TEST (test_no_h2)
{
  Test *t = test_new (SERVER_SILENT);
  Http1Server srv = { 0 };
  gchar *url;

  srv.cert = g_tls_certificate_new_from_file (t->tc.pem, NULL);
  srv.service = g_threaded_socket_service_new (2);
  srv.port = listen_loopback (G_SOCKET_LISTENER (srv.service));
  g_signal_connect (srv.service, "run", G_CALLBACK (http1_run), &srv);
  g_socket_service_start (srv.service);
  url = g_strdup_printf ("https://127.0.0.1:%u/x", srv.port);
  test_open_full (t, url, 0);
  check_open_error (t, "does not speak HTTP/2 (TLS ALPN protocol: none)");
  gst_bidi_h2_stream_free (t->stream);
  t->stream = NULL;
  g_socket_service_stop (srv.service);
  g_socket_listener_close (G_SOCKET_LISTENER (srv.service));
  g_object_unref (srv.service);
  g_object_unref (srv.cert);
  g_free (url);
  test_free (t);
}

GST_END_TEST;

GST_START_TEST (test_connect_timeout)
{
  Test *t = test_new (SERVER_SILENT);
  GstBidiH2Options opts = { 0 };
  GSocketListener *listener = g_socket_listener_new ();
  guint port = listen_loopback (listener);
  gchar *url = g_strdup_printf ("https://127.0.0.1:%u/x", port);
  gint64 start = g_get_monotonic_time ();

  /* TCP connects (the backlog), TLS never answers */
  opts.url = url;
  opts.connect_timeout_s = 1;
  opts.ssl_strict = FALSE;
  t->stream = gst_bidi_h2_stream_open (&opts, &client_callbacks, t, NULL);
  check_open_error (t, "timed out after 1 s");
  fail_unless (g_get_monotonic_time () - start >= G_TIME_SPAN_SECOND);
  g_socket_listener_close (listener);
  g_object_unref (listener);
  g_free (url);
  test_free (t);
}

GST_END_TEST;

static void
free_in (FreeIn where, ServerMode mode)
{
  Test *t = test_new (mode);
  GBytes *b = pattern (1000, 2);

  t->free_in = where;
  test_open (t);
  gst_bidi_h2_stream_write (t->stream, b);
  g_bytes_unref (b);
  fail_unless (wait_for (t, is_connected, WAIT_MS));
  fail_unless (t->freed || wait_for (t, is_closed, WAIT_MS) || t->freed);
  fail_unless (t->freed, "not freed: %s", t->order->str);
  /* nothing calls back after (note() fails the test if so) */
  wait_for (t, never, 300);
  test_free (t);
}

GST_START_TEST (test_free_in_callbacks)
{
  free_in (FREE_IN_CONNECTED, SERVER_ECHO);
  free_in (FREE_IN_RESPONSE, SERVER_ECHO);
  free_in (FREE_IN_DATA, SERVER_ECHO);
  free_in (FREE_IN_CLOSED, SERVER_REFUSE);
  free_in (FREE_IN_CLOSED, SERVER_RESET);
}

GST_END_TEST;

GST_START_TEST (test_free_queued)
{
  Test *t = test_new (SERVER_FREEZE);
  GByteArray *sent = g_byte_array_new ();

  test_open (t);
  fail_unless (wait_for (t, is_connected, WAIT_MS));
  /* the frozen server reads nothing: past the windows, writes queue */
  write_chunks (t, sent, 0, 32);
  wait_for (t, never, 200);
  fail_unless (gst_bidi_h2_stream_get_queued (t->stream) > 0);
  test_free_stream (t);
  wait_for (t, never, 300);
  g_byte_array_unref (sent);
  test_free (t);
}

GST_END_TEST;

GST_START_TEST (test_free_before_connected)
{
  Test *t = test_new (SERVER_ECHO);
  GBytes *b = pattern (100, 3);

  test_open (t);
  gst_bidi_h2_stream_write (t->stream, b);
  gst_bidi_h2_stream_end (t->stream);
  test_free_stream (t);
  wait_for (t, never, 300);
  g_bytes_unref (b);
  test_free (t);
}

GST_END_TEST;

GST_START_TEST (test_bad_urls)
{
  const gchar *urls[] = {
    "http://127.0.0.1:1234/x", "https:///x", "https://", "not a url",
    "wss://127.0.0.1/x", "", NULL
  };
  GstBidiH2Options opts = { 0 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (urls); i++) {
    GError *err = NULL;

    opts.url = urls[i];
    fail_unless (gst_bidi_h2_stream_open (&opts, &client_callbacks, NULL,
            &err) == NULL, "%s", urls[i]);
    fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_SETTINGS));
    fail_unless (strstr (err->message, "https://") != NULL);
    g_error_free (err);
  }
}

GST_END_TEST;

static Suite *
h2_suite (void)
{
  Suite *s = suite_create ("h2");
  TCase *tc = tcase_create ("general");
  const gchar *preload = g_getenv ("LD_PRELOAD");

  if (preload && strstr (preload, "vgpreload"))
    slow = 20;
  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60 * slow);
  tcase_add_test (tc, test_full_duplex);
  tcase_add_test (tc, test_request_headers);
  tcase_add_test (tc, test_path_query);
  tcase_add_test (tc, test_authority);
  tcase_add_test (tc, test_refused_403);
  tcase_add_test (tc, test_server_reset);
  tcase_add_test (tc, test_server_drop);
  tcase_add_test (tc, test_server_freeze);
  tcase_add_test (tc, test_keepalive_alive);
  tcase_add_test (tc, test_connection_refused);
  tcase_add_test (tc, test_tls_trust);
  tcase_add_test (tc, test_no_h2);
  tcase_add_test (tc, test_connect_timeout);
  tcase_add_test (tc, test_free_in_callbacks);
  tcase_add_test (tc, test_free_queued);
  tcase_add_test (tc, test_free_before_connected);
  tcase_add_test (tc, test_bad_urls);
  return s;
}

GST_CHECK_MAIN (h2);
