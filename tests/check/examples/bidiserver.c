/* gst-bidi: tests of the bidi-server example, driven as a user would
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* bidi-server runs as a child process (the local provider, offline) on
 * 127.0.0.1; the tests talk to it with libsoup WebSocket and HTTP clients,
 * raw sockets and the seeds' own client.py. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <signal.h>
#include <sys/socket.h>

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include <gst/bidi/gstbidievents.h>
#include "program.h"
#include "speech.h"

#define SERVER_PATH BIDI_BUILDDIR "/tests/examples/bidi-server/bidi-server"
#define CLIENT_PY BIDI_SRCDIR "/tests/examples/bidi-server/client.py"
#define INDEX_HTML BIDI_SRCDIR "/tests/examples/bidi-server/web/index.html"
#define PYTHON "/usr/bin/python3"
#define SEEDS_PORT 8000
/* generous, only against hangs; the server runs 10 times slower under
 * valgrind (the valgrind setup) */
#define TIMEOUT_MS (60000 * test_program_slowdown ())

/* ------------------------------------------------------------------------
 * The server process
 * ------------------------------------------------------------------------ */

typedef struct
{
  GSubprocess *proc;
  gchar *dir;
  gchar *out_path, *err_path;
  guint port;
  gboolean exited;
  TestProgramCheck *valgrind;
} Server;

static void
server_on_exit (GObject * source, GAsyncResult * res, gpointer data)
{
  Server *s = data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  s->exited = TRUE;
}

static gboolean
server_has_exited (gpointer data)
{
  return ((Server *) data)->exited;
}

static gchar *
read_file (const gchar * path)
{
  gchar *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

static void
iterate_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end) {
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (5000);
  }
}

typedef gboolean (*Pred) (gpointer data);

static gboolean
wait_until (Pred pred, gpointer data, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_GINT64_CONSTANT (1000);

  while (!pred (data)) {
    if (g_get_monotonic_time () > end)
      return FALSE;
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (2000);
  }
  return TRUE;
}

/* @args: NULL-terminated extra arguments */
/* Starts bidi-server with @args (NULL-terminated) */
static Server *
server_spawnv (const gchar * first_arg, va_list ap)
{
  Server *s = g_new0 (Server, 1);
  GSubprocessLauncher *launcher;
  GPtrArray *argv = g_ptr_array_new ();
  GError *err = NULL;
  const gchar *arg;
  gchar *registry;

  fail_unless (g_file_test (SERVER_PATH, G_FILE_TEST_IS_EXECUTABLE),
      "%s is not built", SERVER_PATH);
  s->dir = g_dir_make_tmp ("bidiserver-XXXXXX", &err);
  fail_unless (s->dir != NULL, "%s", err ? err->message : "");
  s->out_path = g_build_filename (s->dir, "stdout", NULL);
  s->err_path = g_build_filename (s->dir, "stderr", NULL);

  s->valgrind = test_program_wrap (argv, "bidi-server");
  g_ptr_array_add (argv, (gpointer) SERVER_PATH);
  for (arg = first_arg; arg; arg = va_arg (ap, const gchar *))
    g_ptr_array_add (argv, (gpointer) arg);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  /* never a real key: the only cloud provider used talks to 127.0.0.1 */
  g_subprocess_launcher_setenv (launcher, "OPENAI_API_KEY",
      "sk-test-not-a-secret", TRUE);
  g_subprocess_launcher_setenv (launcher, "GST_PLUGIN_PATH",
      BIDI_BUILDDIR "/gst/bidiagent", TRUE);
  registry = g_build_filename (s->dir, "registry.bin", NULL);
  g_subprocess_launcher_setenv (launcher, "GST_REGISTRY", registry, TRUE);
  g_free (registry);
  g_subprocess_launcher_set_child_setup (launcher, test_program_child_setup,
      NULL, NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, s->out_path);
  g_subprocess_launcher_set_stderr_file_path (launcher, s->err_path);
  s->proc = g_subprocess_launcher_spawnv (launcher,
      (const gchar * const *) argv->pdata, &err);
  g_object_unref (launcher);
  g_ptr_array_unref (argv);
  fail_unless (s->proc != NULL, "cannot start %s: %s", SERVER_PATH,
      err ? err->message : "");
  g_subprocess_wait_async (s->proc, NULL, server_on_exit, s);
  return s;
}

static Server *
server_spawn (const gchar * first_arg, ...)
{
  Server *s;
  va_list ap;

  va_start (ap, first_arg);
  s = server_spawnv (first_arg, ap);
  va_end (ap);
  return s;
}

/* Starts bidi-server with @args (NULL-terminated) and waits until it
 * listens */
static Server *
server_start (const gchar * first_arg, ...)
{
  Server *s;
  gint64 end;
  va_list ap;

  va_start (ap, first_arg);
  s = server_spawnv (first_arg, ap);
  va_end (ap);

  /* "listening on http://127.0.0.1:PORT/" */
  end = g_get_monotonic_time () + TIMEOUT_MS * G_GINT64_CONSTANT (1000);
  while (s->port == 0) {
    gchar *out = read_file (s->out_path);
    const gchar *line = strstr (out, "listening on http://127.0.0.1:");

    if (line && strchr (line, '\n'))
      s->port = atoi (line + strlen ("listening on http://127.0.0.1:"));
    g_free (out);
    if (s->port)
      break;
    if (s->exited || g_get_monotonic_time () > end) {
      gchar *errs = read_file (s->err_path);

      fail ("bidi-server did not start listening; its stderr:\n%s", errs);
      g_free (errs);
    }
    iterate_for (20);
  }
  GST_INFO ("bidi-server listening on port %u", s->port);
  return s;
}

/* The exit status, or -1 if it did not exit in time */
static gint
server_wait (Server * s, guint timeout_ms)
{
  if (!wait_until (server_has_exited, s, timeout_ms))
    return -1;
  if (g_subprocess_get_if_signaled (s->proc))
    return 128 + g_subprocess_get_term_sig (s->proc);
  return g_subprocess_get_exit_status (s->proc);
}

/* Stops it as a service manager does: SIGTERM, then SIGKILL if it does not
 * go (a clean exit is where valgrind checks for leaks) */
static void
server_free (Server * s)
{
  gchar *errs;
  TestProgramCheck *valgrind = s->valgrind;

  if (!s->exited) {
    g_subprocess_send_signal (s->proc, SIGTERM);
    if (!wait_until (server_has_exited, s, TIMEOUT_MS))
      g_subprocess_force_exit (s->proc);
  }
  fail_unless (wait_until (server_has_exited, s, TIMEOUT_MS));
  errs = read_file (s->err_path);
  GST_INFO ("bidi-server's stderr:\n%s", errs);
  g_free (errs);
  g_object_unref (s->proc);
  g_unlink (s->out_path);
  g_unlink (s->err_path);
  {
    gchar *registry = g_build_filename (s->dir, "registry.bin", NULL);

    g_unlink (registry);
    g_free (registry);
  }
  g_rmdir (s->dir);
  g_free (s->out_path);
  g_free (s->err_path);
  g_free (s->dir);
  g_free (s);
  test_program_check (valgrind);
}

/* Only 127.0.0.1: no proxy (and no libproxy, whose C++ unwinding upsets
 * valgrind) */
static SoupSession *
session_new (void)
{
  GProxyResolver *direct = g_simple_proxy_resolver_new (NULL, NULL);
  SoupSession *session = soup_session_new_with_options ("proxy-resolver",
      direct, NULL);

  g_object_unref (direct);
  return session;
}

/* ------------------------------------------------------------------------
 * A WebSocket client (libsoup), on the test thread's main context
 * ------------------------------------------------------------------------ */

typedef struct
{
  SoupSession *session;
  SoupWebsocketConnection *conn;
  GError *error;
  gboolean done_connecting;
  /* the events received (GstStructure *), parsed and validated */
  GPtrArray *events;
  gboolean closed;
  gushort close_code;
  gchar *close_reason;
  guint64 audio_bytes;
  guint64 audio_sum_squares;
} Ws;

static void
ws_on_message (G_GNUC_UNUSED SoupWebsocketConnection * conn, gint type,
    GBytes * message, gpointer data)
{
  Ws *ws = data;
  gsize size;
  const gchar *text = g_bytes_get_data (message, &size);
  GstStructure *event;
  GError *err = NULL;

  fail_unless_equals_int (type, SOUP_WEBSOCKET_DATA_TEXT);
  event = gst_bidi_event_from_json (text, size, &err);
  fail_unless (event != NULL, "the server sent a bad event: %s (%.*s)",
      err ? err->message : "", (gint) MIN (size, 200), text);
  if (gst_structure_has_name (event, GST_BIDI_EVENT_AUDIO_STREAM)) {
    GBytes *audio = g_value_get_boxed (gst_structure_get_value (event,
            "audio"));
    gsize n;
    const gint16 *pcm = g_bytes_get_data (audio, &n);
    gsize i;

    fail_unless_equals_string (gst_structure_get_string (event, "format"),
        "S16LE");
    fail_unless (n % 2 == 0);
    ws->audio_bytes += n;
    for (i = 0; i < n / 2; i++)
      ws->audio_sum_squares += (gint64) pcm[i] * pcm[i];
  }
  g_ptr_array_add (ws->events, event);
}

static void
ws_on_closed (SoupWebsocketConnection * conn, gpointer data)
{
  Ws *ws = data;

  ws->closed = TRUE;
  ws->close_code = soup_websocket_connection_get_close_code (conn);
  ws->close_reason = g_strdup (soup_websocket_connection_get_close_data
      (conn));
}

static void
ws_on_connected (GObject * source, GAsyncResult * res, gpointer data)
{
  Ws *ws = data;

  ws->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source),
      res, &ws->error);
  ws->done_connecting = TRUE;
  if (ws->conn) {
    g_signal_connect (ws->conn, "message", G_CALLBACK (ws_on_message), ws);
    g_signal_connect (ws->conn, "closed", G_CALLBACK (ws_on_closed), ws);
  }
}

/* Starts connecting; @origin may be NULL */
static Ws *
ws_new (guint port, const gchar * query, const gchar * origin)
{
  Ws *ws = g_new0 (Ws, 1);
  gchar *url = g_strdup_printf ("ws://127.0.0.1:%u/text-chat%s%s", port,
      query ? "?" : "", query ? query : "");
  SoupMessage *msg = soup_message_new ("GET", url);

  ws->events = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  ws->session = session_new ();
  soup_session_websocket_connect_async (ws->session, msg, origin, NULL,
      G_PRIORITY_DEFAULT, NULL, ws_on_connected, ws);
  g_object_unref (msg);
  g_free (url);
  return ws;
}

static void
ws_free (Ws * ws)
{
  if (ws->conn) {
    g_signal_handlers_disconnect_by_data (ws->conn, ws);
    if (soup_websocket_connection_get_state (ws->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
          NULL);
    g_object_unref (ws->conn);
  }
  g_object_unref (ws->session);
  g_clear_error (&ws->error);
  g_ptr_array_unref (ws->events);
  g_free (ws->close_reason);
  g_free (ws);
  /* let libsoup finish its closes */
  iterate_for (20);
}

static gboolean
ws_is_connected (gpointer data)
{
  return ((Ws *) data)->done_connecting;
}

static void
ws_connect_wait (Ws * ws)
{
  fail_unless (wait_until (ws_is_connected, ws, TIMEOUT_MS),
      "connecting timed out");
  fail_unless (ws->conn != NULL, "cannot connect: %s",
      ws->error ? ws->error->message : "");
}

static gboolean
ws_is_closed (gpointer data)
{
  return ((Ws *) data)->closed;
}

static void
ws_send (Ws * ws, const gchar * json)
{
  fail_unless (ws->conn != NULL);
  soup_websocket_connection_send_text (ws->conn, json);
}

static void
ws_send_event (Ws * ws, GstStructure * event)
{
  gchar *json = gst_bidi_event_to_json (event);

  ws_send (ws, json);
  g_free (json);
  gst_structure_free (event);
}

/* Index of the first event from @from named @name with @field = @value
 * (both NULL: any), -1 if none */
static gint
ws_find (Ws * ws, guint from, const gchar * name, const gchar * field,
    const gchar * value)
{
  guint i;

  for (i = from; i < ws->events->len; i++) {
    const GstStructure *s = g_ptr_array_index (ws->events, i);
    gchar *v;
    gboolean match;

    if (!gst_structure_has_name (s, name))
      continue;
    if (!field)
      return i;
    if (!gst_structure_has_field (s, field))
      continue;
    if (gst_structure_get_field_type (s, field) == G_TYPE_STRING)
      v = g_strdup (gst_structure_get_string (s, field));
    else
      v = g_strdup_value_contents (gst_structure_get_value (s, field));
    match = g_strcmp0 (v, value) == 0;
    g_free (v);
    if (match)
      return i;
  }
  return -1;
}

typedef struct
{
  Ws *ws;
  guint from;
  const gchar *name, *field, *value;
  gint found;
} Wait;

static gboolean
ws_has (gpointer data)
{
  Wait *w = data;

  w->found = ws_find (w->ws, w->from, w->name, w->field, w->value);
  return w->found >= 0 || w->ws->closed;
}

static gint
ws_wait (Ws * ws, guint from, const gchar * name, const gchar * field,
    const gchar * value)
{
  Wait w = { ws, from, name, field, value, -1 };

  wait_until (ws_has, &w, TIMEOUT_MS);
  ws_has (&w);
  return w.found;
}

static const GstStructure *
ws_event (Ws * ws, gint i)
{
  fail_unless (i >= 0 && (guint) i < ws->events->len);
  return g_ptr_array_index (ws->events, i);
}

/* The first final transcript of @role from @from; fails after the timeout */
static const gchar *
ws_wait_final (Ws * ws, guint from, const gchar * role, gint * index)
{
  gint i = from;

  for (;;) {
    const GstStructure *s;
    gboolean final = FALSE;

    i = ws_wait (ws, i, GST_BIDI_EVENT_TRANSCRIPT_STREAM, "is_final", "TRUE");
    fail_unless (i >= 0, "no final %s transcript (closed: %d)", role,
        ws->closed);
    s = ws_event (ws, i);
    gst_structure_get_boolean (s, "is_final", &final);
    if (final && g_strcmp0 (gst_structure_get_string (s, "role"), role) == 0) {
      if (index)
        *index = i;
      return gst_structure_get_string (s, "text");
    }
    i++;
  }
}

/* ------------------------------------------------------------------------
 * The local provider's arithmetic answers
 * ------------------------------------------------------------------------ */

static gchar *
number_words (guint n)
{
  static const gchar *ones[] = { "zero", "one", "two", "three", "four",
    "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen"
  };
  static const gchar *tens[] = { "", "", "twenty", "thirty", "forty",
    "fifty", "sixty", "seventy", "eighty", "ninety"
  };

  g_assert (n < 100);
  if (n < 20)
    return g_strdup (ones[n]);
  if (n % 10 == 0)
    return g_strdup (tens[n / 10]);
  return g_strdup_printf ("%s %s", tens[n / 10], ones[n % 10]);
}

/* "Three plus four is seven." */
static gchar *
plus_answer (guint a, guint b)
{
  gchar *wa = number_words (a), *wb = number_words (b),
      *ws = number_words (a + b);
  gchar *text = g_strdup_printf ("%s plus %s is %s.", wa, wb, ws);

  text[0] = g_ascii_toupper (text[0]);
  g_free (wa);
  g_free (wb);
  g_free (ws);
  return text;
}

static void
ask (Ws * ws, const gchar * text)
{
  ws_send_event (ws, gst_bidi_event_new_text_input (text, NULL));
}

/* ------------------------------------------------------------------------
 * 1. The seeds' client, unchanged, on port 8000
 * ------------------------------------------------------------------------ */

static gboolean
port_is_free (guint port)
{
  GSocket *sock;
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, port);
  gboolean ok;

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  ok = sock && g_socket_bind (sock, addr, TRUE, NULL);
  if (sock)
    g_object_unref (sock);
  g_object_unref (addr);
  g_object_unref (lo);
  return ok;
}

typedef struct
{
  GSubprocess *proc;
  gboolean done;
  gchar *out, *err;
} Run;

static void
run_done (GObject * source, GAsyncResult * res, gpointer data)
{
  Run *r = data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), res, &r->out,
      &r->err, NULL);
  r->done = TRUE;
}

static gboolean
run_is_done (gpointer data)
{
  return ((Run *) data)->done;
}

GST_START_TEST (test_seeds_client)
{
  Server *s;
  Ws *ws;
  Run r = { 0, };
  GError *err = NULL;
  gchar *expected;
  gint i;
  gint64 end;

  fail_unless (g_file_test (PYTHON, G_FILE_TEST_IS_EXECUTABLE),
      "%s is missing (Debian python3 with python3-websockets)", PYTHON);
  /* the seeds' client hard-codes ws://localhost:8000; another test run may
   * hold it for a while */
  end = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  while (!port_is_free (SEEDS_PORT)) {
    fail_unless (g_get_monotonic_time () < end, "port %u is taken on this "
        "machine: the seeds' client.py needs it for bidi-server; free it",
        SEEDS_PORT);
    g_usleep (200000);
  }
  s = server_start (NULL);
  fail_unless_equals_int (s->port, SEEDS_PORT);

  /* what the server answers to the seeds' question */
  ws = ws_new (s->port, NULL, NULL);
  ws_connect_wait (ws);
  ask (ws, "Hello, how are you?");
  expected = g_strdup (ws_wait_final (ws, 0, "assistant", &i));
  fail_unless (*expected);
  ws_free (ws);

  r.proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_PIPE, &err, PYTHON, CLIENT_PY, NULL);
  fail_unless (r.proc != NULL, "%s", err ? err->message : "");
  g_subprocess_communicate_utf8_async (r.proc, NULL, NULL, run_done, &r);
  if (!wait_until (run_is_done, &r, TIMEOUT_MS)) {
    g_subprocess_force_exit (r.proc);
    fail ("client.py did not finish");
  }
  g_subprocess_wait (r.proc, NULL, NULL);
  fail_unless (g_subprocess_get_if_exited (r.proc) &&
      g_subprocess_get_exit_status (r.proc) == 0,
      "client.py failed; stderr:\n%s", r.err);
  GST_INFO ("client.py printed: %s", r.out);
  fail_unless (g_str_has_suffix (r.out, "\n"));
  r.out[strlen (r.out) - 1] = '\0';
  fail_unless (strchr (r.out, '\n') == NULL, "more than one line: %s", r.out);
  fail_unless_equals_string (r.out, expected);

  g_object_unref (r.proc);
  g_free (r.out);
  g_free (r.err);
  g_free (expected);
  server_free (s);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 2. Twenty clients at once, each its own answer
 * ------------------------------------------------------------------------ */

#define N_CLIENTS 20

GST_START_TEST (test_concurrent_clients)
{
  Server *s = server_start ("--port", "0", "--max-clients", "20", NULL);
  Ws *ws[N_CLIENTS];
  guint i;

  for (i = 0; i < N_CLIENTS; i++)
    ws[i] = ws_new (s->port, NULL, NULL);
  for (i = 0; i < N_CLIENTS; i++)
    ws_connect_wait (ws[i]);
  for (i = 0; i < N_CLIENTS; i++) {
    gchar *q = g_strdup_printf ("what is %u plus %u", i + 2, 2 * i + 3);

    ask (ws[i], q);
    g_free (q);
  }
  for (i = 0; i < N_CLIENTS; i++) {
    gchar *expected = plus_answer (i + 2, 2 * i + 3);
    gint start, rstart, final, complete;
    const gchar *text;

    start = ws_wait (ws[i], 0, GST_BIDI_EVENT_CONNECTION_START, NULL, NULL);
    fail_unless (start >= 0, "client %u: no bidi_connection_start", i);
    rstart = ws_wait (ws[i], start, GST_BIDI_EVENT_RESPONSE_START, NULL,
        NULL);
    fail_unless (rstart > start, "client %u: no bidi_response_start", i);
    text = ws_wait_final (ws[i], rstart, "assistant", &final);
    fail_unless_equals_string (text, expected);
    complete = ws_wait (ws[i], rstart, GST_BIDI_EVENT_RESPONSE_COMPLETE,
        "stop_reason", "complete");
    fail_unless (complete > rstart, "client %u: no bidi_response_complete",
        i);
    fail_unless (ws_find (ws[i], 0, GST_BIDI_EVENT_ERROR, NULL, NULL) < 0);
    g_free (expected);
  }
  /* no cross-talk: no final answer but its own */
  for (i = 0; i < N_CLIENTS; i++) {
    gchar *expected = plus_answer (i + 2, 2 * i + 3);
    guint j;

    for (j = 0; j < ws[i]->events->len; j++) {
      const GstStructure *e = g_ptr_array_index (ws[i]->events, j);
      gboolean final = FALSE;

      gst_structure_get_boolean (e, "is_final", &final);
      if (gst_structure_has_name (e, GST_BIDI_EVENT_TRANSCRIPT_STREAM) &&
          final)
        fail_unless_equals_string (gst_structure_get_string (e, "text"),
            expected);
    }
    g_free (expected);
  }
  for (i = 0; i < N_CLIENTS; i++)
    ws_free (ws[i]);
  server_free (s);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 3. Spoken input
 * ------------------------------------------------------------------------ */

/* S16LE mono PCM of a WAV file made by flite; its rate in @rate */
static GBytes *
speech_pcm (const gchar * text, gint * rate)
{
  gchar *dir = g_dir_make_tmp ("bidiserver-wav-XXXXXX", NULL);
  gchar *wav = g_build_filename (dir, "speech.wav", NULL);
  TestWav *w;
  GBytes *pcm;

  fail_unless (dir != NULL);
  test_speech_say (text, wav);
  w = test_wav_read (wav);
  fail_unless_equals_int (w->channels, 1);
  *rate = w->rate;
  pcm = g_bytes_new (w->samples, w->frames * 2);
  test_wav_free (w);
  g_unlink (wav);
  g_rmdir (dir);
  g_free (wav);
  g_free (dir);
  return pcm;
}

static void
send_audio (Ws * ws, const guint8 * data, gsize len, gint rate)
{
  GBytes *b = g_bytes_new (data, len);
  GstStructure *event = gst_structure_new (GST_BIDI_EVENT_AUDIO_INPUT,
      "audio", G_TYPE_BYTES, b, "format", G_TYPE_STRING, "S16LE",
      "sample_rate", G_TYPE_INT, rate, "channels", G_TYPE_INT, 1, NULL);

  g_bytes_unref (b);
  ws_send_event (ws, event);
}

typedef struct
{
  Ws *ws;
  guint64 bytes;
} AudioWait;

static gboolean
has_audio (gpointer data)
{
  AudioWait *w = data;

  return w->ws->audio_bytes >= w->bytes || w->ws->closed;
}

GST_START_TEST (test_audio_input)
{
  Server *s = server_start ("--port", "0", NULL);
  Ws *ws;
  GBytes *pcm;
  gint rate, user, answer_i;
  gsize len, chunk, pos;
  const guint8 *data;
  guint8 *silence;
  const gchar *answer;
  AudioWait aw;
  gdouble mean_square;

  pcm = speech_pcm ("what time is it", &rate);
  ws = ws_new (s->port, "sample_rate=24000", NULL);
  ws_connect_wait (ws);
  fail_unless (ws_wait (ws, 0, GST_BIDI_EVENT_CONNECTION_START, NULL,
          NULL) >= 0);

  /* 100 ms chunks, twice as fast as real time, then a second of silence
   * that ends the turn */
  data = g_bytes_get_data (pcm, &len);
  chunk = rate / 10 * 2;
  for (pos = 0; pos < len; pos += chunk) {
    send_audio (ws, data + pos, MIN (chunk, len - pos), rate);
    iterate_for (50);
  }
  silence = g_malloc0 (chunk);
  for (pos = 0; pos < 15; pos++) {
    send_audio (ws, silence, chunk, rate);
    iterate_for (50);
  }
  g_free (silence);

  fail_unless_equals_string (ws_wait_final (ws, 0, "user", &user),
      "what time is it");
  answer = ws_wait_final (ws, user, "assistant", &answer_i);
  fail_unless (g_str_has_prefix (answer, "It is "), "%s", answer);

  /* the answer's voice: at least half a second at 24 kHz, not silence */
  aw.ws = ws;
  aw.bytes = 24000 * 2 / 2;
  fail_unless (wait_until (has_audio, &aw, TIMEOUT_MS) && !ws->closed,
      "only %" G_GUINT64_FORMAT " bytes of audio", ws->audio_bytes);
  {
    gint i = ws_find (ws, 0, GST_BIDI_EVENT_AUDIO_STREAM, NULL, NULL);
    gint r = 0, ch = 0;

    gst_structure_get_int (ws_event (ws, i), "sample_rate", &r);
    gst_structure_get_int (ws_event (ws, i), "channels", &ch);
    fail_unless_equals_int (r, 24000);
    fail_unless_equals_int (ch, 1);
  }
  /* all of it: until nothing comes for a while */
  {
    guint64 before;

    do {
      before = ws->audio_bytes;
      iterate_for (1500);
    } while (ws->audio_bytes != before);
  }
  GST_INFO ("answer \"%s\": %" G_GUINT64_FORMAT " bytes of audio", answer,
      ws->audio_bytes);
  /* "It is 10:49 AM." takes one to ten seconds to say */
  fail_unless (ws->audio_bytes >= 24000 * 2 && ws->audio_bytes <= 24000 * 2
      * 10, "%" G_GUINT64_FORMAT " bytes of audio", ws->audio_bytes);
  mean_square = (gdouble) ws->audio_sum_squares / (ws->audio_bytes / 2);
  fail_unless (mean_square > 300.0 * 300.0, "the answer is silence (mean "
      "square %f)", mean_square);

  g_bytes_unref (pcm);
  ws_free (ws);
  server_free (s);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 4. Bad input
 * ------------------------------------------------------------------------ */

static gint
count_errors (Ws * ws)
{
  guint i;
  gint n = 0;

  for (i = 0; i < ws->events->len; i++)
    if (gst_structure_has_name (g_ptr_array_index (ws->events, i),
            GST_BIDI_EVENT_ERROR))
      n++;
  return n;
}

typedef struct
{
  Ws *ws;
  gint n;
} ErrWait;

static gboolean
has_errors (gpointer data)
{
  ErrWait *w = data;

  return count_errors (w->ws) >= w->n || w->ws->closed;
}

static const gchar *
nth_error (Ws * ws, gint n)
{
  guint i;

  for (i = 0; i < ws->events->len; i++) {
    const GstStructure *e = g_ptr_array_index (ws->events, i);

    if (gst_structure_has_name (e, GST_BIDI_EVENT_ERROR) && n-- == 0)
      return gst_structure_get_string (e, "message");
  }
  return NULL;
}

GST_START_TEST (test_bad_input)
{
  Server *s = server_start ("--port", "0", NULL);
  Ws *bad, *good;
  ErrWait ew;
  gchar *expected;
  static const guint8 junk[] = { 0x00, 0xff, 0x10 };

  bad = ws_new (s->port, NULL, NULL);
  good = ws_new (s->port, NULL, NULL);
  ws_connect_wait (bad);
  ws_connect_wait (good);
  ask (good, "what is 5 plus 6");

  ws_send (bad, "this is not JSON");
  soup_websocket_connection_send_binary (bad->conn, junk, sizeof (junk));
  ws_send (bad, "{\"type\": \"bidi_dance\", \"text\": \"hi\"}");
  ws_send (bad, "{\"type\": \"bidi_audio_input\", \"audio\": \"@@not base64"
      "@@\", \"format\": \"pcm\", \"sample_rate\": 16000, \"channels\": 1}");
  ws_send (bad, "{\"type\": \"bidi_audio_input\", \"audio\": \"AAAA\", "
      "\"format\": \"pcm\", \"sample_rate\": 16000, \"channels\": 1}");
  ws_send (bad, "{\"type\": \"bidi_text_input\"}");
  ws_send (bad, "{\"type\": \"bidi_image_input\", \"image\": \"AAAA\", "
      "\"mime_type\": \"image/png\"}");
  ws_send (bad, "[1, 2, 3]");

  ew.ws = bad;
  ew.n = 8;
  fail_unless (wait_until (has_errors, &ew, TIMEOUT_MS) && !bad->closed,
      "%d errors, closed %d", count_errors (bad), bad->closed);
  GST_INFO ("errors: %s | %s | %s | %s | %s | %s | %s | %s",
      nth_error (bad, 0), nth_error (bad, 1), nth_error (bad, 2),
      nth_error (bad, 3), nth_error (bad, 4), nth_error (bad, 5),
      nth_error (bad, 6), nth_error (bad, 7));
  fail_unless (strstr (nth_error (bad, 0), "JSON") != NULL);
  fail_unless (strstr (nth_error (bad, 1), "binary") != NULL);
  fail_unless (strstr (nth_error (bad, 2), "bidi_dance") != NULL);
  fail_unless (strstr (nth_error (bad, 3), "base64") != NULL);
  /* 3 bytes are not whole 16-bit samples */
  fail_unless (strstr (nth_error (bad, 4), "frame") != NULL);
  fail_unless (strstr (nth_error (bad, 5), "text") != NULL);
  fail_unless (strstr (nth_error (bad, 6), "image") != NULL);
  fail_unless (nth_error (bad, 7) != NULL);

  /* the same client still gets its answers */
  ask (bad, "what is 2 plus 2");
  expected = plus_answer (2, 2);
  fail_unless_equals_string (ws_wait_final (bad, 0, "assistant", NULL),
      expected);
  g_free (expected);

  /* the other one was not disturbed */
  expected = plus_answer (5, 6);
  fail_unless_equals_string (ws_wait_final (good, 0, "assistant", NULL),
      expected);
  g_free (expected);
  fail_unless_equals_int (count_errors (good), 0);
  fail_if (good->closed);
  fail_if (bad->closed);

  ws_free (bad);
  ws_free (good);
  server_free (s);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 5. Limits
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_max_clients)
{
  Server *s = server_start ("--port", "0", "--max-clients", "2", NULL);
  Ws *a, *b, *c, *d;

  a = ws_new (s->port, NULL, NULL);
  b = ws_new (s->port, NULL, NULL);
  ws_connect_wait (a);
  ws_connect_wait (b);
  fail_unless (ws_wait (a, 0, GST_BIDI_EVENT_CONNECTION_START, NULL, NULL)
      >= 0);
  fail_unless (ws_wait (b, 0, GST_BIDI_EVENT_CONNECTION_START, NULL, NULL)
      >= 0);

  c = ws_new (s->port, NULL, NULL);
  ws_connect_wait (c);
  fail_unless (wait_until (ws_is_closed, c, TIMEOUT_MS));
  fail_unless_equals_int (c->close_code, 1013);
  fail_unless (c->close_reason && strstr (c->close_reason, "too many"),
      "%s", c->close_reason);
  fail_unless_equals_int (c->events->len, 0);
  ws_free (c);

  /* a place frees up */
  ws_free (a);
  iterate_for (300);
  d = ws_new (s->port, NULL, NULL);
  ws_connect_wait (d);
  fail_unless (ws_wait (d, 0, GST_BIDI_EVENT_CONNECTION_START, NULL, NULL)
      >= 0, "closed %u %s", d->close_code, d->close_reason);
  fail_if (d->closed);
  fail_if (b->closed);

  ws_free (b);
  ws_free (d);
  server_free (s);
}

GST_END_TEST;

GST_START_TEST (test_too_big)
{
  Server *s = server_start ("--port", "0", "--max-message-kb", "4", NULL);
  Ws *ws, *other;
  GString *big;
  gchar *expected;

  ws = ws_new (s->port, NULL, NULL);
  other = ws_new (s->port, NULL, NULL);
  ws_connect_wait (ws);
  ws_connect_wait (other);
  big = g_string_new ("{\"type\": \"bidi_text_input\", \"text\": \"");
  /* over the limit, under the hard limit where libsoup cuts */
  while (big->len < 6000)
    g_string_append (big, "blah ");
  g_string_append (big, "\"}");
  ws_send (ws, big->str);
  g_string_free (big, TRUE);
  fail_unless (wait_until (ws_is_closed, ws, TIMEOUT_MS));
  fail_unless_equals_int (ws->close_code, SOUP_WEBSOCKET_CLOSE_TOO_BIG);

  ask (other, "what is 1 plus 1");
  expected = plus_answer (1, 1);
  fail_unless_equals_string (ws_wait_final (other, 0, "assistant", NULL),
      expected);
  g_free (expected);

  ws_free (ws);
  ws_free (other);
  server_free (s);
}

GST_END_TEST;

/* A client that never reads: a raw socket with a small receive buffer */
static void
raw_send_text (GSocket * sock, const gchar * text)
{
  gsize len = strlen (text), i, hl;
  guint8 *frame = g_malloc (len + 14);
  const guint8 mask[4] = { 0x12, 0x34, 0x56, 0x78 };

  frame[0] = 0x81;
  if (len < 126) {
    frame[1] = 0x80 | len;
    hl = 2;
  } else {
    frame[1] = 0x80 | 126;
    GST_WRITE_UINT16_BE (frame + 2, len);
    hl = 4;
  }
  memcpy (frame + hl, mask, 4);
  hl += 4;
  for (i = 0; i < len; i++)
    frame[hl + i] = text[i] ^ mask[i % 4];
  fail_unless (g_socket_send (sock, (gchar *) frame, hl + len, NULL,
          NULL) == (gssize) (hl + len));
  g_free (frame);
}

GST_START_TEST (test_not_reading)
{
  Server *s = server_start ("--port", "0", "--max-output-kb", "64",
      "--sample-rate", "48000", NULL);
  GSocket *sock;
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, s->port);
  gchar *req, buf[4096];
  GByteArray *all = g_byte_array_new ();
  gssize n;
  gint64 end;
  gint i;
  gchar *errs = NULL;
  gsize pos;
  gint close_code = -1;
  Ws *other;
  gchar *expected;

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  fail_unless (g_socket_set_option (sock, SOL_SOCKET, SO_RCVBUF, 4096, NULL));
  fail_unless (g_socket_connect (sock, addr, NULL, NULL));
  req = g_strdup_printf ("GET /text-chat HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n", s->port);
  fail_unless (g_socket_send (sock, req, strlen (req), NULL, NULL) > 0);
  g_free (req);
  /* read the handshake's answer, then nothing more */
  n = g_socket_receive (sock, buf, 12, NULL, NULL);
  fail_unless (n == 12 && memcmp (buf, "HTTP/1.1 101", 12) == 0);

  other = ws_new (s->port, NULL, NULL);
  ws_connect_wait (other);

  /* long spoken answers, one after the other */
  for (i = 0; i < 20; i++) {
    gchar *q = g_strdup_printf ("{\"type\": \"bidi_text_input\", \"text\": "
        "\"what is %d plus %d\"}", 10 + i, 40 + i);

    raw_send_text (sock, q);
    g_free (q);
  }

  end = g_get_monotonic_time () + 2 * TIMEOUT_MS * G_GINT64_CONSTANT (1000);
  do {
    iterate_for (200);
    g_free (errs);
    errs = read_file (s->err_path);
    fail_unless (g_get_monotonic_time () < end,
        "the client that does not read was not closed:\n%s", errs);
  } while (!strstr (errs, "does not read"));
  g_free (errs);

  /* now read everything: the events, then the close frame */
  g_socket_set_timeout (sock, 30);
  while ((n = g_socket_receive (sock, buf, sizeof (buf), NULL, NULL)) > 0)
    g_byte_array_append (all, (guint8 *) buf, n);
  /* skip the rest of the HTTP answer, then walk the frames */
  for (pos = 0; pos + 4 <= all->len; pos++)
    if (memcmp (all->data + pos, "\r\n\r\n", 4) == 0)
      break;
  pos += 4;
  while (pos + 2 <= all->len) {
    guint8 op = all->data[pos] & 0x0f;
    guint64 plen = all->data[pos + 1] & 0x7f;
    gsize hl = 2;

    if (plen == 126) {
      plen = GST_READ_UINT16_BE (all->data + pos + 2);
      hl = 4;
    } else if (plen == 127) {
      plen = GST_READ_UINT64_BE (all->data + pos + 2);
      hl = 10;
    }
    if (pos + hl + plen > all->len)
      break;
    if (op == 0x8 && plen >= 2)
      close_code = GST_READ_UINT16_BE (all->data + pos + hl);
    pos += hl + plen;
  }
  GST_INFO ("read %u bytes after the close", all->len);
  fail_unless_equals_int (close_code, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);

  /* the others did not notice */
  ask (other, "what is 3 plus 3");
  expected = plus_answer (3, 3);
  fail_unless_equals_string (ws_wait_final (other, 0, "assistant", NULL),
      expected);
  g_free (expected);
  fail_if (other->closed);

  ws_free (other);
  g_byte_array_unref (all);
  g_object_unref (sock);
  g_object_unref (addr);
  g_object_unref (lo);
  server_free (s);
}

GST_END_TEST;

/* A client's pipeline fails (nothing listens at the provider's URL): it
 * gets bidi_error and 1011; the server goes on serving */
GST_START_TEST (test_pipeline_error)
{
  Server *s = server_start ("--port", "0", "--provider", "openai", "--url",
      "ws://127.0.0.1:9/v1/realtime", NULL);
  guint round;

  for (round = 0; round < 2; round++) {
    Ws *ws = ws_new (s->port, NULL, NULL);

    ws_connect_wait (ws);
    ask (ws, "hello");
    fail_unless (wait_until (ws_is_closed, ws, TIMEOUT_MS));
    fail_unless_equals_int (ws->close_code, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR);
    fail_unless (ws_find (ws, 0, GST_BIDI_EVENT_ERROR, "code",
            "pipeline_error") >= 0, "no bidi_error before the close");
    ws_free (ws);
  }
  server_free (s);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 6. The web page
 * ------------------------------------------------------------------------ */

static GBytes *
http_get (SoupSession * session, guint port, const gchar * path,
    guint * status, gchar ** ctype)
{
  gchar *url = g_strdup_printf ("http://127.0.0.1:%u%s", port, path);
  SoupMessage *msg = soup_message_new ("GET", url);
  GError *err = NULL;
  GBytes *body;

  body = soup_session_send_and_read (session, msg, NULL, &err);
  fail_unless (body != NULL, "GET %s: %s", url, err ? err->message : "");
  *status = soup_message_get_status (msg);
  *ctype = g_strdup (soup_message_headers_get_content_type
      (soup_message_get_response_headers (msg), NULL));
  g_object_unref (msg);
  g_free (url);
  return body;
}

GST_START_TEST (test_web_page)
{
  Server *s = server_start ("--port", "0", NULL);
  SoupSession *session = session_new ();
  GBytes *body, *file;
  gchar *ctype = NULL, *data;
  gsize len;
  guint status;
  Ws *ws;

  fail_unless (g_file_get_contents (INDEX_HTML, &data, &len, NULL));
  file = g_bytes_new_take (data, len);

  body = http_get (session, s->port, "/", &status, &ctype);
  fail_unless_equals_int (status, 200);
  fail_unless_equals_string (ctype, "text/html");
  fail_unless (g_bytes_equal (body, file), "/ is not index.html");
  g_bytes_unref (body);
  g_free (ctype);

  body = http_get (session, s->port, "/index.html", &status, &ctype);
  fail_unless_equals_int (status, 200);
  fail_unless (g_bytes_equal (body, file));
  g_bytes_unref (body);
  g_free (ctype);

  body = http_get (session, s->port, "/no-such-file.html", &status, &ctype);
  fail_unless_equals_int (status, 404);
  g_bytes_unref (body);
  g_free (ctype);

  body = http_get (session, s->port, "/../bidi-server.gresource.xml",
      &status, &ctype);
  fail_unless_equals_int (status, 404);
  g_bytes_unref (body);
  g_free (ctype);

  g_bytes_unref (file);
  g_object_unref (session);

  /* a page of another site may not use the agent */
  ws = ws_new (s->port, NULL, "http://evil.example");
  fail_unless (wait_until (ws_is_connected, ws, TIMEOUT_MS));
  fail_unless (ws->conn == NULL, "a foreign origin got a WebSocket");
  ws_free (ws);
  /* our own page may */
  {
    gchar *own = g_strdup_printf ("http://127.0.0.1:%u", s->port);

    ws = ws_new (s->port, NULL, own);
    ws_connect_wait (ws);
    fail_unless (ws_wait (ws, 0, GST_BIDI_EVENT_CONNECTION_START, NULL,
            NULL) >= 0);
    ws_free (ws);
    g_free (own);
  }
  server_free (s);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 7. SIGTERM
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_sigterm)
{
  Server *s = server_start ("--port", "0", NULL);
  Ws *ws = ws_new (s->port, NULL, NULL);
  gchar *expected;
  AudioWait aw;

  ws_connect_wait (ws);
  ask (ws, "what is 7 plus 8");
  expected = plus_answer (7, 8);
  fail_unless_equals_string (ws_wait_final (ws, 0, "assistant", NULL),
      expected);
  g_free (expected);
  /* a text-only client hears the answer too (16 kHz), at least half a
   * second of it */
  aw.ws = ws;
  aw.bytes = 16000 * 2 / 2;
  fail_unless (wait_until (has_audio, &aw, TIMEOUT_MS) && !ws->closed,
      "only %" G_GUINT64_FORMAT " bytes of audio", ws->audio_bytes);

  g_subprocess_send_signal (s->proc, SIGTERM);
  fail_unless (wait_until (ws_is_closed, ws, TIMEOUT_MS));
  fail_unless_equals_int (ws->close_code, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  fail_unless_equals_int (server_wait (s, TIMEOUT_MS), 0);
  ws_free (ws);
  server_free (s);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * --tools: the built-in tools, as in bidi-chat
 * ------------------------------------------------------------------------ */

/* What the agent answers to "what time is it" with --tools @tools */
static gchar *
time_answer (const gchar * tools)
{
  Server *s = server_start ("--port", "0", "--tools", tools, NULL);
  Ws *ws = ws_new (s->port, NULL, NULL);
  gchar *answer;
  gint i;

  ws_connect_wait (ws);
  ask (ws, "what time is it");
  answer = g_strdup (ws_wait_final (ws, 0, "assistant", &i));
  ws_free (ws);
  server_free (s);
  return answer;
}

GST_START_TEST (test_tools_option)
{
  Server *s;
  gchar *errs, *answer;

  /* an unknown name: refused at the start, with the names there are */
  s = server_spawn ("--port", "0", "--tools", "current_time,clock", NULL);
  fail_unless_equals_int (server_wait (s, TIMEOUT_MS *
          test_program_slowdown ()), 2);
  errs = read_file (s->err_path);
  fail_unless (strstr (errs, "unknown built-in tool \"clock\" (there are: "
          "current_time,calculator,stop_conversation; auto; none)") != NULL,
      "%s", errs);
  g_free (errs);
  server_free (s);

  /* the names given are the tools the agent has: the local provider
   * tells the time with current_time, and says it cannot without */
  answer = time_answer ("current_time, stop_conversation");
  fail_unless (g_str_has_prefix (answer, "It is "), "%s", answer);
  g_free (answer);
  answer = time_answer ("none");
  fail_unless_equals_string (answer, "Sorry, no clock here.");
  g_free (answer);
}

GST_END_TEST;

static Suite *
bidiserver_suite (void)
{
  Suite *s = suite_create ("bidiserver");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_seeds_client);
  tcase_add_test (tc, test_concurrent_clients);
  tcase_add_test (tc, test_audio_input);
  tcase_add_test (tc, test_bad_input);
  tcase_add_test (tc, test_max_clients);
  tcase_add_test (tc, test_too_big);
  tcase_add_test (tc, test_not_reading);
  tcase_add_test (tc, test_pipeline_error);
  tcase_add_test (tc, test_web_page);
  tcase_add_test (tc, test_sigterm);
  tcase_add_test (tc, test_tools_option);
  return s;
}

GST_CHECK_MAIN (bidiserver);
