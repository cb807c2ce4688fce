/* gst-bidi: the core of the mock WebSocket servers of the tests
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
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "mockwscore.h"

/* what the server accepts from the client in one frame */
#define MAX_INCOMING_PAYLOAD (64 * 1024 * 1024)
/* output audio: S16LE mono at 24 kHz, for both protocols */
#define PCM_BYTES_PER_MS 48

static void conn_next (MockWsConn * conn);

/* ------------------------------------------------------------------------
 * Steps and scripts
 * ------------------------------------------------------------------------ */

static const gchar *const step_names[] = {
  "send", "wait", "sleep", "send raw", "send audio", "close", "drop",
  "stall", "freeze", "custom"
};

void
mock_ws_step_free (MockWsStep * s)
{
  g_free (s->text);
  if (s->data)
    g_bytes_unref (s->data);
  if (s->extra_free)
    s->extra_free (s->extra);
  g_free (s);
}

MockWsStep *
mock_ws_script_add (MockWsScript * script, MockWsStepKind kind,
    const gchar * text)
{
  MockWsStep *s = g_new0 (MockWsStep, 1);

  s->kind = kind;
  s->name = step_names[kind];
  s->text = g_strdup (text);
  g_queue_push_tail (&script->steps, s);
  return s;
}

MockWsScript *
mock_ws_script_new (void)
{
  MockWsScript *script = g_new0 (MockWsScript, 1);

  g_queue_init (&script->steps);
  return script;
}

void
mock_ws_script_free (MockWsScript * script)
{
  if (!script)
    return;
  g_queue_clear_full (&script->steps, (GDestroyNotify) mock_ws_step_free);
  g_free (script->reject_body);
  g_free (script);
}

void
mock_ws_script_wait (MockWsScript * script, const gchar * what, guint count,
    guint timeout_ms)
{
  MockWsStep *s;

  g_return_if_fail (script != NULL && what != NULL);
  s = mock_ws_script_add (script, MOCK_WS_STEP_WAIT, what);
  s->n = MAX (count, 1);
  s->timeout_ms = timeout_ms;
}

void
mock_ws_script_sleep (MockWsScript * script, guint ms)
{
  g_return_if_fail (script != NULL);
  mock_ws_script_add (script, MOCK_WS_STEP_SLEEP, NULL)->n = ms;
}

void
mock_ws_script_close (MockWsScript * script, guint16 code,
    const gchar * reason)
{
  g_return_if_fail (script != NULL);
  mock_ws_script_add (script, MOCK_WS_STEP_CLOSE, reason)->n = code;
}

void
mock_ws_script_drop (MockWsScript * script)
{
  g_return_if_fail (script != NULL);
  mock_ws_script_add (script, MOCK_WS_STEP_DROP, NULL);
}

void
mock_ws_script_stall (MockWsScript * script)
{
  g_return_if_fail (script != NULL);
  mock_ws_script_add (script, MOCK_WS_STEP_STALL, NULL);
}

MockWsStep *
mock_ws_script_audio (MockWsScript * script, gconstpointer pcm, gsize size,
    guint chunk_ms, gboolean paced)
{
  MockWsStep *s = mock_ws_script_add (script, MOCK_WS_STEP_AUDIO, NULL);

  s->data = g_bytes_new (pcm, size);
  s->n = chunk_ms;
  s->paced = paced;
  return s;
}

gboolean
mock_ws_check_server_json (const MockWsClass * klass, const gchar * what,
    const gchar * json)
{
  GError *err = NULL;
  JsonObject *obj = klass->parse (json, &err);

  if (!obj) {
    g_critical ("%s: not a server %s (%s): %s", klass->name, what,
        err->message, json);
    g_clear_error (&err);
    return FALSE;
  }
  json_object_unref (obj);
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Connections
 * ------------------------------------------------------------------------ */

static void
frame_free (MockWsFrame * f)
{
  g_free (f->text);
  g_free (f->kind);
  g_free (f->member);
  g_free (f);
}

MockWsConn *
mock_ws_conn_new (MockWsServer * mock)
{
  MockWsConn *conn = g_malloc0 (mock->klass->conn_size);

  conn->server = mock;
  conn->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) frame_free);
  conn->audio = g_byte_array_new ();
  conn->close_code = -1;
  conn->frozen_fd = conn->freeze_peer = -1;
  g_queue_init (&conn->steps);
  if (mock->klass->conn_init)
    mock->klass->conn_init (conn);
  return conn;
}

/* Everything the thread owned is gone by now */
static void
conn_free (MockWsConn * conn)
{
  if (conn->server->klass->conn_clear)
    conn->server->klass->conn_clear (conn);
  g_free (conn->path);
  if (conn->query)
    g_hash_table_unref (conn->query);
  if (conn->headers)
    soup_message_headers_unref (conn->headers);
  g_ptr_array_unref (conn->frames);
  g_byte_array_unref (conn->audio);
  g_queue_clear_full (&conn->steps, (GDestroyNotify) mock_ws_step_free);
  if (conn->step)
    mock_ws_step_free (conn->step);
  g_free (conn);
}

/* A server that stops reading, without libsoup knowing: the socket's
 * descriptor is moved aside (kept open and never read, so that TCP holds
 * what the client sends until the window closes) and the end of a quiet
 * socketpair takes its number, which the main loop goes on polling by
 * number and never finds readable. */
static gboolean
conn_freeze (MockWsConn * conn)
{
  gint fd, pair[2];

  if (!conn->socket || conn->frozen_fd >= 0)
    return FALSE;
  fd = g_socket_get_fd (conn->socket);
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    return FALSE;
  conn->frozen_fd = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  if (conn->frozen_fd < 0 || !g_unix_set_fd_nonblocking (pair[0], TRUE,
          NULL) || dup2 (pair[0], fd) < 0) {
    if (conn->frozen_fd >= 0)
      close (conn->frozen_fd);
    conn->frozen_fd = -1;
    close (pair[0]);
    close (pair[1]);
    return FALSE;
  }
  /* dup2 leaves the new descriptor open across exec */
  fcntl (fd, F_SETFD, FD_CLOEXEC);
  close (pair[0]);
  conn->freeze_peer = pair[1];
  return TRUE;
}

/* The real socket goes (the client sees the connection end) once libsoup
 * is done with the one that replaced it */
static void
conn_unfreeze (MockWsConn * conn)
{
  if (conn->frozen_fd >= 0)
    close (conn->frozen_fd);
  if (conn->freeze_peer >= 0)
    close (conn->freeze_peer);
  conn->frozen_fd = conn->freeze_peer = -1;
}

static void
stop_timer (MockWsConn * conn)
{
  if (conn->timer) {
    g_source_destroy (conn->timer);
    g_clear_pointer (&conn->timer, g_source_unref);
  }
}

static void
clear_steps (MockWsConn * conn)
{
  stop_timer (conn);
  g_queue_clear_full (&conn->steps, (GDestroyNotify) mock_ws_step_free);
  g_queue_init (&conn->steps);
  g_clear_pointer (&conn->step, mock_ws_step_free);
}

/* A script step that could not run: recorded, and the script ends */
void
mock_ws_conn_add_failure (MockWsConn * conn, const gchar * format, ...)
{
  MockWsServer *mock = conn->server;
  va_list args;
  gchar *what, *line;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  line = g_strdup_printf ("connection %u, step %u (%s): %s", conn->index,
      conn->step_no, conn->step ? conn->step->name : "-", what);
  g_free (what);
  clear_steps (conn);

  g_mutex_lock (&mock->lock);
  g_ptr_array_add (mock->failures, line);
  conn->script_ended = TRUE;
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);
}

#define add_failure mock_ws_conn_add_failure

static MockWsConn *
get_conn (MockWsServer * mock, guint i)
{
  return i < mock->conns->len ? g_ptr_array_index (mock->conns, i) : NULL;
}

static gboolean
frame_matches (MockWsServer * mock, MockWsFrame * f, const gchar * what)
{
  if (mock->klass->frame_matches)
    return mock->klass->frame_matches (f, what);
  return g_strcmp0 (f->kind, what) == 0;
}

/* ------------------------------------------------------------------------
 * The WebSocket (mock thread)
 * ------------------------------------------------------------------------ */

void
mock_ws_conn_record (MockWsConn * conn, MockWsCheck * c, MockWsFrame * frame,
    GByteArray * audio)
{
  MockWsServer *mock = conn->server;
  guint i;

  g_mutex_lock (&mock->lock);
  for (i = 0; i < c->problems->len; i++)
    g_ptr_array_add (mock->violations, g_ptr_array_index (c->problems, i));
  g_ptr_array_set_size (c->problems, 0);
  if (mock->drop_audio && frame_matches (mock, frame,
          mock->klass->audio_kind)) {
    if (audio)
      conn->audio_not_kept += audio->len;
    frame_free (frame);
  } else {
    if (audio)
      g_byte_array_append (conn->audio, audio->data, audio->len);
    g_ptr_array_add (conn->frames, frame);
  }
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);
}

/* The frame's problems into @c; the input audio it carries, or NULL */
static GByteArray *
check_frame (MockWsConn * conn, MockWsCheck * c, MockWsFrame * frame)
{
  const MockWsClass *klass = conn->server->klass;
  GError *err = NULL;
  GByteArray *audio;
  JsonObject *msg;

  if (frame->binary) {
    mock_ws_problem (c, "a binary frame of %" G_GSIZE_FORMAT " bytes: "
        "client %s are JSON text frames", frame->size, klass->frames_are);
    return NULL;
  }
  if (!(msg = klass->parse (frame->text, &err))) {
    mock_ws_problem (c, "not a JSON %s (%s)", klass->parse_noun,
        err->message);
    g_clear_error (&err);
    return NULL;
  }
  audio = klass->check_message (conn, c, frame, msg);
  json_object_unref (msg);
  return audio;
}

static void
ws_message_cb (SoupWebsocketConnection * ws, gint type, GBytes * message,
    MockWsConn * conn)
{
  const MockWsClass *klass = conn->server->klass;
  MockWsFrame *frame = g_new0 (MockWsFrame, 1);
  /* only this thread adds frames */
  MockWsCheck c = { conn->index, conn->frames->len, NULL, g_ptr_array_new () };
  const gchar *data = g_bytes_get_data (message, &frame->size);
  GByteArray *audio;

  if (type == SOUP_WEBSOCKET_DATA_BINARY)
    frame->binary = TRUE;
  else
    frame->text = g_strndup (data, frame->size);
  audio = check_frame (conn, &c, frame);
  mock_ws_conn_record (conn, &c, frame, audio);
  g_ptr_array_unref (c.problems);
  if (audio)
    g_byte_array_unref (audio);

  if (conn->held) {
    /* as the service does: closed at the first message */
    conn->held = FALSE;
    if (soup_websocket_connection_get_state (ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (ws, klass->held_close_code,
          klass->held_close_reason);
    return;
  }
  if (conn->step && conn->step->kind == MOCK_WS_STEP_WAIT)
    conn_next (conn);
}

static void
ws_closed_cb (SoupWebsocketConnection * ws, MockWsConn * conn)
{
  MockWsServer *mock = conn->server;
  gboolean unfinished = conn->step != NULL || !g_queue_is_empty (&conn->steps);

  clear_steps (conn);
  conn_unfreeze (conn);
  mock->n_live--;

  g_mutex_lock (&mock->lock);
  conn->closed = TRUE;
  conn->close_code = soup_websocket_connection_get_close_code (ws);
  if (unfinished)
    conn->script_ended = TRUE;
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);
}

static void
ws_error_cb (SoupWebsocketConnection * ws, GError * err, MockWsConn * conn)
{
  (void) ws;
  g_debug ("%s: connection %u: %s", conn->server->klass->name, conn->index,
      err->message);
}

gboolean
mock_ws_conn_can_send (MockWsConn * conn)
{
  if (soup_websocket_connection_get_state (conn->ws) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    return TRUE;
  add_failure (conn, "the WebSocket is no longer open");
  return FALSE;
}

/* The audio-sent hook */
static void
report_audio_sent (MockWsConn * conn, const guint8 * pcm, gsize size)
{
  MockWsServer *mock = conn->server;
  MockWsAudioSentFunc func;
  gpointer data;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&mock->lock);
  func = mock->audio_sent;
  data = mock->audio_sent_data;
  g_mutex_unlock (&mock->lock);
  if (func)
    func (conn->index, pcm, size, now, data);
}

static gboolean
timer_cb (gpointer user_data)
{
  MockWsConn *conn = user_data;
  MockWsStep *s = conn->step;

  g_clear_pointer (&conn->timer, g_source_unref);
  if (s && s->kind == MOCK_WS_STEP_WAIT) {
    add_failure (conn, "no \"%s\" (%u of them) from the client within %u ms",
        s->text, s->n, s->timeout_ms);
    return G_SOURCE_REMOVE;
  }
  /* the sleep or the pause between two audio chunks is over */
  conn_next (conn);
  return G_SOURCE_REMOVE;
}

static void
start_timer (MockWsConn * conn, gint64 delay_us)
{
  if (conn->timer) {
    g_source_destroy (conn->timer);
    g_source_unref (conn->timer);
  }
  conn->timer = g_timeout_source_new (MAX (delay_us, 0) / 1000);
  g_source_set_callback (conn->timer, timer_cb, conn, NULL);
  g_source_attach (conn->timer, conn->server->context);
}

/* TRUE when the running wait step has what it waits for */
static gboolean
wait_done (MockWsConn * conn, MockWsStep * s)
{
  guint i, seen = 0;

  for (i = conn->wait_from; i < conn->frames->len; i++) {
    MockWsFrame *f = g_ptr_array_index (conn->frames, i);
    if (frame_matches (conn->server, f, s->text) && ++seen == s->n) {
      conn->wait_from = i + 1;
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean
run_send (MockWsConn * conn, MockWsStep * s)
{
  gchar *json;

  if (!mock_ws_conn_can_send (conn))
    return TRUE;
  json = conn->server->klass->prepare_send (conn, s);
  if (s->binary)
    soup_websocket_connection_send_binary (conn->ws, json, strlen (json));
  else
    soup_websocket_connection_send_text (conn->ws, json);
  g_free (json);
  if (s->data)
    report_audio_sent (conn, g_bytes_get_data (s->data, NULL),
        g_bytes_get_size (s->data));
  return TRUE;
}

static gboolean
run_raw (MockWsConn * conn, MockWsStep * s)
{
  gsize size;
  gconstpointer data;

  if (!mock_ws_conn_can_send (conn))
    return TRUE;
  data = g_bytes_get_data (s->data, &size);
  if (s->binary) {
    soup_websocket_connection_send_binary (conn->ws, data, size);
    return TRUE;
  }
  if (conn->server->klass->sent_raw)
    conn->server->klass->sent_raw (conn, s);
  soup_websocket_connection_send_message (conn->ws, SOUP_WEBSOCKET_DATA_TEXT,
      s->data);
  return TRUE;
}

/* Sends the chunks of a send-audio step; TRUE when it is over */
static gboolean
run_audio (MockWsConn * conn, MockWsStep * s, gboolean first)
{
  const MockWsClass *klass = conn->server->klass;
  gsize total;
  const guint8 *pcm = g_bytes_get_data (s->data, &total);
  gsize chunk = s->n > 0 ? s->n * PCM_BYTES_PER_MS : MAX (total, 1);

  if (first) {
    conn->audio_pos = 0;
    conn->audio_chunk = 0;
    conn->audio_start = g_get_monotonic_time ();
  }
  while (conn->audio_pos < total || (total == 0 && conn->audio_chunk == 0
          && klass->audio_empty_message)) {
    gsize n = MIN (chunk, total - conn->audio_pos);

    if (!klass->send_audio (conn, s, pcm + conn->audio_pos, n))
      return TRUE;
    report_audio_sent (conn, pcm + conn->audio_pos, n);
    conn->audio_pos += n;
    conn->audio_chunk++;
    if (s->paced && conn->audio_pos < total) {
      gint64 due = conn->audio_start +
          (gint64) conn->audio_chunk * s->n * 1000;
      start_timer (conn, due - g_get_monotonic_time ());
      return FALSE;
    }
  }
  return TRUE;
}

/* A step that must be the last one: FALSE and a failure when it is not */
static gboolean
is_last (MockWsConn * conn, MockWsStep * s, gboolean first)
{
  if (first && !g_queue_is_empty (&conn->steps)) {
    add_failure (conn, "%u steps after the %s step never run",
        g_queue_get_length (&conn->steps), s->name);
    return FALSE;
  }
  return TRUE;
}

static gboolean
run_close (MockWsConn * conn, MockWsStep * s, gboolean first)
{
  const guint16 *code;

  if (!conn->server->klass->close_checks_after && !is_last (conn, s, first))
    return TRUE;
  for (code = conn->server->klass->unsendable_codes; *code; code++) {
    if (s->n == *code) {
      add_failure (conn, "close code %u cannot be sent (use a drop step)",
          s->n);
      return TRUE;
    }
  }
  if (mock_ws_conn_can_send (conn))
    soup_websocket_connection_close (conn->ws, s->n, s->text);
  return TRUE;
}

/* Runs the current step; TRUE when it is complete */
static gboolean
run_step (MockWsConn * conn, MockWsStep * s, gboolean first)
{
  switch (s->kind) {
    case MOCK_WS_STEP_SEND:
      return run_send (conn, s);
    case MOCK_WS_STEP_RAW:
      return run_raw (conn, s);
    case MOCK_WS_STEP_CUSTOM:
      return conn->server->klass->run_custom (conn, s, first);
    case MOCK_WS_STEP_WAIT:
      if (wait_done (conn, s))
        return TRUE;
      if (first)
        start_timer (conn, (gint64) s->timeout_ms * 1000);
      return FALSE;
    case MOCK_WS_STEP_SLEEP:
      if (first && s->n > 0) {
        start_timer (conn, (gint64) s->n * 1000);
        return FALSE;
      }
      return TRUE;
    case MOCK_WS_STEP_AUDIO:
      return run_audio (conn, s, first);
    case MOCK_WS_STEP_CLOSE:
      return run_close (conn, s, first);
    case MOCK_WS_STEP_DROP:
      if ((conn->server->klass->close_checks_after || is_last (conn, s,
                  first)) && conn->socket)
        g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
      return TRUE;
    case MOCK_WS_STEP_STALL:
      /* never done: nothing is sent any more, the socket stays open */
      return !is_last (conn, s, first);
    case MOCK_WS_STEP_FREEZE:
      if (!is_last (conn, s, first))
        return TRUE;
      if (first && !conn_freeze (conn)) {
        add_failure (conn, "the socket could not be frozen");
        return TRUE;
      }
      /* never done, like a stall; nothing is read any more either */
      return FALSE;
  }
  return TRUE;
}

/* Runs steps until one has to wait (a timer, a client frame) */
static void
conn_next (MockWsConn * conn)
{
  MockWsServer *mock = conn->server;

  while (conn->ws && !mock->stopping) {
    gboolean first = FALSE;
    MockWsStep *s;

    if (!conn->step) {
      conn->step = g_queue_pop_head (&conn->steps);
      if (!conn->step) {
        g_mutex_lock (&mock->lock);
        conn->script_done = TRUE;
        g_cond_broadcast (&mock->cond);
        g_mutex_unlock (&mock->lock);
        return;
      }
      conn->step_no++;
      first = TRUE;
    }
    s = conn->step;
    if (!run_step (conn, s, first))
      return;
    if (conn->step != s)
      return;                   /* a failure ended the script */
    stop_timer (conn);
    if (mock->klass->close_checks_after && (s->kind == MOCK_WS_STEP_CLOSE
            || s->kind == MOCK_WS_STEP_DROP) && !is_last (conn, s, TRUE))
      return;
    g_clear_pointer (&conn->step, mock_ws_step_free);
  }
}

static void
websocket_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * ws, gpointer user_data)
{
  MockWsServer *mock = user_data;
  MockWsConn *conn = g_object_get_data (G_OBJECT (msg), "mockws-conn");

  (void) server;
  (void) path;
  if (!conn)
    return;
  conn->ws = g_object_ref (ws);
  soup_websocket_connection_set_max_incoming_payload_size (ws,
      MAX_INCOMING_PAYLOAD);
  g_signal_connect (ws, "message", G_CALLBACK (ws_message_cb), conn);
  g_signal_connect (ws, "closed", G_CALLBACK (ws_closed_cb), conn);
  g_signal_connect (ws, "error", G_CALLBACK (ws_error_cb), conn);
  mock->n_live++;
  if (!conn->held)
    conn_next (conn);
}

static void
respond (MockWsServer * mock, SoupServerMessage * msg, guint status,
    const gchar * body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, mock->klass->json_replies &&
      body[0] == '{' ? "application/json" : "text/plain", SOUP_MEMORY_COPY,
      body, strlen (body));
}

static void
copy_header (const char *name, const char *value, gpointer user_data)
{
  soup_message_headers_append (user_data, name, value);
}

/* The request as it came, and the socket it came on */
static void
record_request (MockWsServer * mock, MockWsConn * conn,
    SoupServerMessage * msg, const char *path, GHashTable * query)
{
  GUri *uri = soup_server_message_get_uri (msg);
  GSocketAddress *remote;

  conn->request_time = g_get_monotonic_time ();
  conn->path = g_uri_get_query (uri) ?
      g_strdup_printf ("%s?%s", path, g_uri_get_query (uri)) : g_strdup (path);
  if (query)
    conn->query = g_hash_table_ref (query);
  conn->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  soup_message_headers_foreach (soup_server_message_get_request_headers (msg),
      copy_header, conn->headers);
  remote = soup_server_message_get_remote_address (msg);
  if (remote && G_IS_INET_SOCKET_ADDRESS (remote))
    conn->socket = g_hash_table_lookup (mock->sockets,
        GUINT_TO_POINTER (g_inet_socket_address_get_port
            (G_INET_SOCKET_ADDRESS (remote))));
  if (conn->socket)
    g_object_ref (conn->socket);
  if (mock->klass->on_request)
    conn->held = mock->klass->on_request (conn);
}

/* Before the upgrade: record, then reject or let it go on */
static void
request_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  MockWsServer *mock = user_data;
  MockWsScript *script = NULL;
  GError *err = NULL;
  gboolean upgrade;
  MockWsConn *conn;

  (void) server;
  if (strcmp (path, mock->klass->path) != 0) {
    respond (mock, msg, SOUP_STATUS_NOT_FOUND, mock->klass->not_found);
    return;
  }

  conn = mock_ws_conn_new (mock);
  record_request (mock, conn, msg, path, query);
  upgrade = soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &err);
  if (upgrade) {
    g_mutex_lock (&mock->lock);
    script = g_queue_pop_head (&mock->queue);
    g_mutex_unlock (&mock->lock);
    if (!script && mock->klass->default_script)
      script = mock->klass->default_script ();
  }

  if (!upgrade) {
    conn->status = SOUP_STATUS_BAD_REQUEST;
    respond (mock, msg, conn->status, err->message);
    g_clear_error (&err);
    conn->script_ended = TRUE;
  } else if (script && script->reject_status) {
    conn->status = script->reject_status;
    respond (mock, msg, conn->status, script->reject_body);
    conn->script_ended = TRUE;
  } else {
    conn->status = SOUP_STATUS_SWITCHING_PROTOCOLS;
    if (conn->held)
      conn->script_ended = TRUE;        /* it never runs */
    else if (script) {
      conn->steps = script->steps;
      g_queue_init (&script->steps);
    }
    g_object_set_data (G_OBJECT (msg), "mockws-conn", conn);
  }
  mock_ws_script_free (script);
  mock_ws_server_add_conn (mock, conn);
}

void
mock_ws_server_add_conn (MockWsServer * mock, MockWsConn * conn)
{
  g_mutex_lock (&mock->lock);
  conn->index = mock->conns->len;
  g_ptr_array_add (mock->conns, conn);
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);
}

/* Each accepted connection: its socket is kept by the client's port, for
 * the drop and freeze steps */
static void
accept_cb (GSocketConnection * sconn, gpointer user_data)
{
  MockWsServer *mock = user_data;
  GSocketAddress *remote;
  gboolean nodelay;

  g_mutex_lock (&mock->lock);
  nodelay = mock->nodelay;
  g_mutex_unlock (&mock->lock);
  if (nodelay)
    g_socket_set_option (g_socket_connection_get_socket (sconn), IPPROTO_TCP,
        TCP_NODELAY, TRUE, NULL);
  remote = g_socket_connection_get_remote_address (sconn, NULL);
  if (remote && G_IS_INET_SOCKET_ADDRESS (remote))
    g_hash_table_replace (mock->sockets,
        GUINT_TO_POINTER (g_inet_socket_address_get_port
            (G_INET_SOCKET_ADDRESS (remote))),
        g_object_ref (g_socket_connection_get_socket (sconn)));
  g_clear_object (&remote);
}

static gboolean
tick_cb (gpointer user_data)
{
  (void) user_data;
  return G_SOURCE_CONTINUE;
}

/* Iterates until every WebSocket is closed or @timeout_ms passed */
static void
wait_all_closed (MockWsServer * mock, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  GSource *tick = g_timeout_source_new (10);

  g_source_set_callback (tick, tick_cb, NULL, NULL);
  g_source_attach (tick, mock->context);
  while (mock->n_live > 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (mock->context, TRUE);
  g_source_destroy (tick);
  g_source_unref (tick);
}

static void
shut_down (MockWsServer * mock)
{
  guint i;

  mock->stopping = TRUE;
  /* Politely first ... */
  for (i = 0; i < mock->conns->len; i++) {
    MockWsConn *conn = g_ptr_array_index (mock->conns, i);
    stop_timer (conn);
    if (conn->ws && soup_websocket_connection_get_state (conn->ws) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (conn->ws,
          SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "mock server going away");
  }
  wait_all_closed (mock, 1000);
  /* ... then not */
  for (i = 0; i < mock->conns->len; i++) {
    MockWsConn *conn = g_ptr_array_index (mock->conns, i);
    if (conn->ws && soup_websocket_connection_get_state (conn->ws) !=
        SOUP_WEBSOCKET_STATE_CLOSED && conn->socket)
      g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
  }
  wait_all_closed (mock, 2000);
  if (mock->n_live > 0)
    g_warning ("%s: %u WebSockets did not close", mock->klass->name,
        mock->n_live);

  for (i = 0; i < mock->conns->len; i++) {
    MockWsConn *conn = g_ptr_array_index (mock->conns, i);
    if (conn->ws) {
      g_signal_handlers_disconnect_by_data (conn->ws, conn);
      g_clear_object (&conn->ws);
    }
    g_clear_object (&conn->socket);
    conn_unfreeze (conn);
  }
}

static void
setup_cb (SoupServer * server, gpointer user_data)
{
  MockWsServer *mock = user_data;

  /* frames travel as sent: no permessage-deflate */
  soup_server_remove_websocket_extension (server,
      SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_handler (server, mock->klass->path, request_cb, mock, NULL);
  soup_server_add_websocket_handler (server, mock->klass->path, NULL, NULL,
      websocket_cb, mock, NULL);
}

static void
stop_cb (gpointer user_data)
{
  shut_down (user_data);
}

/* ------------------------------------------------------------------------
 * The server
 * ------------------------------------------------------------------------ */

void
mock_ws_records_init (MockWsServer * mock, const MockWsClass * klass)
{
  mock->klass = klass;
  g_mutex_init (&mock->lock);
  g_cond_init (&mock->cond);
  g_queue_init (&mock->queue);
  mock->conns = g_ptr_array_new_with_free_func ((GDestroyNotify) conn_free);
  mock->violations = g_ptr_array_new_with_free_func (g_free);
  mock->failures = g_ptr_array_new_with_free_func (g_free);
}

void
mock_ws_records_clear (MockWsServer * mock)
{
  g_queue_clear_full (&mock->queue, (GDestroyNotify) mock_ws_script_free);
  g_ptr_array_unref (mock->conns);
  g_ptr_array_unref (mock->violations);
  g_ptr_array_unref (mock->failures);
  g_mutex_clear (&mock->lock);
  g_cond_clear (&mock->cond);
}

void
mock_ws_server_init (MockWsServer * mock, const MockWsClass * klass,
    const gchar * pem_file)
{
  mock_ws_records_init (mock, klass);
  mock->sockets = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  mock->nodelay = TRUE;
  mock->server = mock_server_new (klass->name, pem_file, setup_cb, accept_cb,
      stop_cb, mock);
  mock->context = mock_server_context (mock->server);
  mock->url = g_strdup_printf ("%s://127.0.0.1:%u%s",
      mock_server_is_tls (mock->server) ? "wss" : "ws",
      mock_server_port (mock->server), klass->path);
}

void
mock_ws_server_clear (MockWsServer * mock)
{
  mock_server_free (mock->server);
  g_hash_table_remove_all (mock->sockets);
  mock_ws_records_clear (mock);
  g_hash_table_unref (mock->sockets);
  g_free (mock->url);
}

void
mock_ws_server_push_script (MockWsServer * mock, MockWsScript * script)
{
  g_return_if_fail (script != NULL);
  g_mutex_lock (&mock->lock);
  g_queue_push_tail (&mock->queue, script);
  g_mutex_unlock (&mock->lock);
}

void
mock_ws_server_push_reject (MockWsServer * mock, guint http_status,
    const gchar * body)
{
  MockWsScript *script;

  g_return_if_fail (http_status >= 200);
  script = mock_ws_script_new ();
  script->reject_status = http_status;
  script->reject_body = g_strdup (body ? body : "");
  mock_ws_server_push_script (mock, script);
}

/* The status of a connection that goes on */
static guint
open_status (MockWsServer * mock)
{
  return mock->klass->open_status ? mock->klass->open_status :
      SOUP_STATUS_SWITCHING_PROTOCOLS;
}

typedef struct
{
  MockWsConn *conn;
  MockWsScript *script;
} Run;

static gboolean
run_cb (gpointer user_data)
{
  Run *run = user_data;
  MockWsConn *conn = run->conn;
  MockWsServer *mock = conn->server;
  gboolean ended, idle;
  MockWsStep *s;

  g_mutex_lock (&mock->lock);
  conn->runs_pending--;
  ended = conn->script_ended || conn->closed || mock->stopping;
  if (ended)
    g_ptr_array_add (mock->failures, g_strdup_printf ("connection %u: "
            "%s_run() after its script ended", conn->index, mock->klass->api));
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);

  if (!ended) {
    idle = conn->step == NULL && g_queue_is_empty (&conn->steps);
    while ((s = g_queue_pop_head (&run->script->steps)))
      g_queue_push_tail (&conn->steps, s);
    if (idle && mock->klass->next_step)
      mock->klass->next_step (conn);
    else if (idle)
      conn_next (conn);
  }
  mock_ws_script_free (run->script);
  g_free (run);
  return G_SOURCE_REMOVE;
}

void
mock_ws_server_run (MockWsServer * mock, guint conn, MockWsScript * script)
{
  MockWsConn *c;
  Run *run;

  g_return_if_fail (script != NULL);
  g_mutex_lock (&mock->lock);
  c = get_conn (mock, conn);
  if (!c || c->status != open_status (mock) || c->closed || c->script_ended) {
    g_ptr_array_add (mock->failures, g_strdup_printf ("connection %u: "
            "%s_run() on a connection that is not open", conn,
            mock->klass->api));
    g_cond_broadcast (&mock->cond);
    g_mutex_unlock (&mock->lock);
    mock_ws_script_free (script);
    return;
  }
  c->script_done = FALSE;
  c->runs_pending++;
  g_mutex_unlock (&mock->lock);

  run = g_new0 (Run, 1);
  run->conn = c;
  run->script = script;
  g_main_context_invoke (mock->context, run_cb, run);
}

/* ------------------------------------------------------------------------
 * Queries
 * ------------------------------------------------------------------------ */

/* Waits on the mock's condition until @done (called with the lock held)
 * returns TRUE; FALSE after @timeout_ms */
static gboolean
wait_until (MockWsServer * mock, gboolean (*done) (MockWsServer *, gpointer),
    gpointer data, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  gboolean ok;

  g_mutex_lock (&mock->lock);
  while (!(ok = done (mock, data)))
    if (!g_cond_wait_until (&mock->cond, &mock->lock, end)) {
      ok = done (mock, data);
      break;
    }
  g_mutex_unlock (&mock->lock);
  return ok;
}

/* What a connection recorded: a copy of the member at @offset (a string,
 * or a number of @size bytes) */
typedef enum
{
  FIELD_STRING,
  FIELD_UINT,
  FIELD_INT,
  FIELD_INT64
} FieldType;

static void
get_field (MockWsServer * mock, guint conn, gsize offset, FieldType type,
    gpointer out)
{
  MockWsConn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn))) {
    gpointer field = G_STRUCT_MEMBER_P (c, offset);
    switch (type) {
      case FIELD_STRING:
        *(gchar **) out = g_strdup (*(gchar **) field);
        break;
      case FIELD_UINT:
        *(guint *) out = *(guint *) field;
        break;
      case FIELD_INT:
        *(gint *) out = *(gint *) field;
        break;
      case FIELD_INT64:
        *(gint64 *) out = *(gint64 *) field;
        break;
    }
  }
  g_mutex_unlock (&mock->lock);
}

guint
mock_ws_server_n_connections (MockWsServer * mock)
{
  guint n;

  g_mutex_lock (&mock->lock);
  n = mock->conns->len;
  g_mutex_unlock (&mock->lock);
  return n;
}

static gboolean
have_connections (MockWsServer * mock, gpointer data)
{
  return mock->conns->len >= GPOINTER_TO_UINT (data);
}

gboolean
mock_ws_server_wait_connections (MockWsServer * mock, guint n,
    guint timeout_ms)
{
  return wait_until (mock, have_connections, GUINT_TO_POINTER (n), timeout_ms);
}

gchar *
mock_ws_server_get_path (MockWsServer * mock, guint conn)
{
  gchar *ret = NULL;

  get_field (mock, conn, G_STRUCT_OFFSET (MockWsConn, path), FIELD_STRING,
      &ret);
  return ret;
}

gchar *
mock_ws_server_get_query_param (MockWsServer * mock, guint conn,
    const gchar * name)
{
  gchar *ret = NULL;
  MockWsConn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn)) && c->query)
    ret = g_strdup (g_hash_table_lookup (c->query, name));
  g_mutex_unlock (&mock->lock);
  return ret;
}

gchar *
mock_ws_server_get_header (MockWsServer * mock, guint conn,
    const gchar * name)
{
  gchar *ret = NULL;
  MockWsConn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn)))
    ret = g_strdup (soup_message_headers_get_list (c->headers, name));
  g_mutex_unlock (&mock->lock);
  return ret;
}

guint
mock_ws_server_get_status (MockWsServer * mock, guint conn)
{
  guint ret = 0;

  get_field (mock, conn, G_STRUCT_OFFSET (MockWsConn, status), FIELD_UINT,
      &ret);
  return ret;
}

gint64
mock_ws_server_get_request_time (MockWsServer * mock, guint conn)
{
  gint64 ret = 0;

  get_field (mock, conn, G_STRUCT_OFFSET (MockWsConn, request_time),
      FIELD_INT64, &ret);
  return ret;
}

static gboolean
is_closed (MockWsServer * mock, gpointer data)
{
  MockWsConn *c = get_conn (mock, GPOINTER_TO_UINT (data));

  /* a refused request is over; 0: no answer yet */
  return c && (c->closed || (c->status != 0
          && c->status != open_status (mock)));
}

gboolean
mock_ws_server_wait_closed (MockWsServer * mock, guint conn, guint timeout_ms)
{
  return wait_until (mock, is_closed, GUINT_TO_POINTER (conn), timeout_ms);
}

gint
mock_ws_server_get_close_code (MockWsServer * mock, guint conn)
{
  gint ret = -1;

  get_field (mock, conn, G_STRUCT_OFFSET (MockWsConn, close_code), FIELD_INT,
      &ret);
  return ret;
}

/* With the lock held: the script of @conn is done, or never will be */
static gboolean
script_settled (MockWsServer * mock, gpointer data)
{
  MockWsConn *c = get_conn (mock, GPOINTER_TO_UINT (data));

  return c && (c->script_ended || (c->script_done && c->runs_pending == 0));
}

gboolean
mock_ws_server_wait_script_done (MockWsServer * mock, guint conn,
    guint timeout_ms)
{
  gboolean ok;

  if (!wait_until (mock, script_settled, GUINT_TO_POINTER (conn), timeout_ms))
    return FALSE;
  g_mutex_lock (&mock->lock);
  ok = !get_conn (mock, conn)->script_ended;
  g_mutex_unlock (&mock->lock);
  return ok;
}

guint
mock_ws_server_n_frames (MockWsServer * mock, guint conn)
{
  guint n = 0;
  MockWsConn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn)))
    n = c->frames->len;
  g_mutex_unlock (&mock->lock);
  return n;
}

gchar *
mock_ws_server_get_frame (MockWsServer * mock, guint conn, guint i)
{
  gchar *ret = NULL;
  MockWsConn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn)) && i < c->frames->len)
    ret = g_strdup (((MockWsFrame *) g_ptr_array_index (c->frames, i))->text);
  g_mutex_unlock (&mock->lock);
  return ret;
}

static gboolean
is_conn (guint conn, guint i)
{
  return conn == MOCK_WS_ANY_CONNECTION || conn == i;
}

typedef struct
{
  guint conn;
  const gchar *what;
  guint index;
  MockWsFrame *found;           /* out */
  guint count;                  /* out */
} Find;

/* With the lock held: counts the frames matching find->what, and finds the
 * one number find->index */
static gboolean
find_frame (MockWsServer * mock, gpointer data)
{
  Find *find = data;
  guint i, j;

  find->found = NULL;
  find->count = 0;
  for (i = 0; i < mock->conns->len; i++) {
    MockWsConn *c = g_ptr_array_index (mock->conns, i);
    if (!is_conn (find->conn, i))
      continue;
    for (j = 0; j < c->frames->len; j++) {
      MockWsFrame *f = g_ptr_array_index (c->frames, j);
      if (!frame_matches (mock, f, find->what))
        continue;
      if (find->count == find->index)
        find->found = f;
      find->count++;
    }
  }
  return find->found != NULL;
}

guint
mock_ws_server_count_frames (MockWsServer * mock, guint conn,
    const gchar * what)
{
  Find find = { conn, what, G_MAXUINT, NULL, 0 };

  g_mutex_lock (&mock->lock);
  find_frame (mock, &find);
  g_mutex_unlock (&mock->lock);
  return find.count;
}

gchar *
mock_ws_server_wait_frame (MockWsServer * mock, guint conn,
    const gchar * what, guint index, guint timeout_ms)
{
  Find find = { conn, what, index, NULL, 0 };
  gchar *ret;

  if (!wait_until (mock, find_frame, &find, timeout_ms))
    return NULL;
  /* frames are never removed before the mock is freed */
  g_mutex_lock (&mock->lock);
  ret = g_strdup (find.found->text);
  g_mutex_unlock (&mock->lock);
  return ret;
}

/* With the lock held */
static gsize
audio_bytes (MockWsServer * mock, guint conn)
{
  gsize n = 0;
  guint i;

  for (i = 0; i < mock->conns->len; i++)
    if (is_conn (conn, i)) {
      MockWsConn *c = g_ptr_array_index (mock->conns, i);
      n += c->audio->len + c->audio_not_kept;
    }
  return n;
}

gsize
mock_ws_server_get_audio_bytes (MockWsServer * mock, guint conn)
{
  gsize n;

  g_mutex_lock (&mock->lock);
  n = audio_bytes (mock, conn);
  g_mutex_unlock (&mock->lock);
  return n;
}

typedef struct
{
  guint conn;
  gsize n_bytes;
} AudioWait;

static gboolean
have_audio (MockWsServer * mock, gpointer data)
{
  AudioWait *w = data;

  return audio_bytes (mock, w->conn) >= w->n_bytes;
}

gboolean
mock_ws_server_wait_audio_bytes (MockWsServer * mock, guint conn,
    gsize n_bytes, guint timeout_ms)
{
  AudioWait w = { conn, n_bytes };

  return wait_until (mock, have_audio, &w, timeout_ms);
}

GBytes *
mock_ws_server_get_audio (MockWsServer * mock, guint conn)
{
  GByteArray *all = g_byte_array_new ();
  guint i;

  g_mutex_lock (&mock->lock);
  for (i = 0; i < mock->conns->len; i++) {
    MockWsConn *c = g_ptr_array_index (mock->conns, i);
    if (is_conn (conn, i))
      g_byte_array_append (all, c->audio->data, c->audio->len);
  }
  g_mutex_unlock (&mock->lock);
  return g_byte_array_free_to_bytes (all);
}

void
mock_ws_server_set_audio_sent_func (MockWsServer * mock,
    MockWsAudioSentFunc func, gpointer user_data)
{
  g_mutex_lock (&mock->lock);
  mock->audio_sent = func;
  mock->audio_sent_data = user_data;
  g_mutex_unlock (&mock->lock);
}

void
mock_ws_server_set_keep_audio (MockWsServer * mock, gboolean keep)
{
  g_mutex_lock (&mock->lock);
  mock->drop_audio = !keep;
  g_mutex_unlock (&mock->lock);
}

void
mock_ws_server_set_tcp_nodelay (MockWsServer * mock, gboolean nodelay)
{
  g_mutex_lock (&mock->lock);
  mock->nodelay = nodelay;
  g_mutex_unlock (&mock->lock);
}
