/* gst-bidi: bidi-server's web page in a real headless Chromium
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* bidi-server (provider local) serves its page to /usr/bin/chromium
 * --headless, whose fake microphone plays a WAV made here with flite. The
 * test drives the browser over the Chrome DevTools Protocol with a libsoup
 * WebSocket client, as a user would: it types a message, clicks the
 * microphone button while the answer plays, and reads what the page shows
 * (transcript lines, window.bidiStats). Any JavaScript exception or console
 * error of the page fails the test. Nothing leaves 127.0.0.1. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "program.h"
#include "speech.h"

#define CHROMIUM "/usr/bin/chromium"
#define SERVER BIDI_BUILDDIR "/tests/examples/bidi-server/bidi-server"
#define QUESTION "what time is it"
/* Chromium loops the fake microphone's file: silence after the question
 * keeps it from asking again at once */
#define PAD_SECONDS 10
/* a long typed question, so the answer still plays when the user talks */
#define LONG_QUESTION "hello there"

/* valgrind slows this process (not Chromium nor the server): scale waits */
static guint slow = 1;

#define WAIT_S (60 * slow)

typedef struct
{
  gchar *tmpdir;
  gchar *wav;

  GSubprocess *server;
  pid_t server_pid;
  gchar *server_log;
  gchar *url;

  GSubprocess *chromium;
  pid_t chromium_pid;
  gchar *chromium_log;
  gchar *devtools_url;

  /* the DevTools connection */
  GMainContext *ctx;
  GSource *tick;
  SoupSession *session;
  SoupWebsocketConnection *ws;
  GError *ws_error;
  gboolean ws_closed;
  gint next_id;
  /* id -> JsonNode of the reply */
  GHashTable *replies;
  gchar *session_id;
  gboolean crashed;
  /* JavaScript exceptions and console errors of the page */
  GPtrArray *js_errors;
} Browser;

static Browser *b;

/* made before the tests and removed after them by the check runner's own
 * process: a failed check ends a forked test at once, without its
 * teardown. Each process group started is noted in it as pgid-N. */
static gchar *root_dir;

/* ------------------------------------------------------------------------
 * Files and processes
 * ------------------------------------------------------------------------ */

static void
rm_rf (const gchar * path)
{
  GDir *dir;
  const gchar *name;

  if (!g_file_test (path, G_FILE_TEST_IS_SYMLINK) &&
      g_file_test (path, G_FILE_TEST_IS_DIR)) {
    dir = g_dir_open (path, 0, NULL);
    if (dir) {
      while ((name = g_dir_read_name (dir))) {
        gchar *child = g_build_filename (path, name, NULL);

        rm_rf (child);
        g_free (child);
      }
      g_dir_close (dir);
    }
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

static void
wr16 (GByteArray * a, guint16 v)
{
  guint8 p[2] = { v & 0xff, v >> 8 };

  g_byte_array_append (a, p, 2);
}

static void
wr32 (GByteArray * a, guint32 v)
{
  guint8 p[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

  g_byte_array_append (a, p, 4);
}

/* flite's WAV of @text, with @pad_s seconds of silence after it, at @path */
static void
make_question_wav (const gchar * text, guint pad_s, const gchar * path)
{
  gchar *raw_path = g_strconcat (path, ".flite.wav", NULL);
  GByteArray *wav;
  TestWav *w;

  test_speech_say (text, raw_path);
  w = test_wav_read (raw_path);

  {
    guint32 block = w->channels * 2;
    guint32 lead = w->rate / 5 * block;
    guint32 data_size = w->frames * block;
    guint32 pad = pad_s * w->rate * block;
    guint32 total = lead + data_size + pad;

    wav = g_byte_array_sized_new (44 + total);
    g_byte_array_append (wav, (const guint8 *) "RIFF", 4);
    wr32 (wav, 36 + total);
    g_byte_array_append (wav, (const guint8 *) "WAVEfmt ", 8);
    wr32 (wav, 16);
    wr16 (wav, 1);
    wr16 (wav, w->channels);
    wr32 (wav, w->rate);
    wr32 (wav, w->rate * block);
    wr16 (wav, block);
    wr16 (wav, 16);
    g_byte_array_append (wav, (const guint8 *) "data", 4);
    wr32 (wav, total);
    g_byte_array_set_size (wav, 44 + lead);
    memset (wav->data + 44, 0, lead);
    g_byte_array_append (wav, (const guint8 *) w->samples, data_size);
    g_byte_array_set_size (wav, 44 + total);
    memset (wav->data + 44 + lead + data_size, 0, pad);
  }
  fail_unless (g_file_set_contents (path, (const gchar *) wav->data,
          wav->len, NULL));

  g_byte_array_unref (wav);
  test_wav_free (w);
  g_unlink (raw_path);
  g_free (raw_path);
}

/* In the child: a process group of its own (killed whole at teardown),
 * and killed with us if we die first */
static void
child_setup (G_GNUC_UNUSED gpointer data)
{
  setpgid (0, 0);
  test_program_child_setup (NULL);
}

static GSubprocess *
spawn (const gchar * const *argv, const gchar * log_path,
    const gchar * const *env, pid_t * pid)
{
  GSubprocessLauncher *launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  GSubprocess *proc;
  GError *err = NULL;
  gchar *note;

  for (; env && *env; env += 2)
    g_subprocess_launcher_setenv (launcher, env[0], env[1], TRUE);
  /* the output goes to one file: nothing to drain */
  g_subprocess_launcher_set_stdout_file_path (launcher, log_path);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &err);
  fail_unless (proc != NULL, "cannot start %s: %s", argv[0],
      err ? err->message : "?");
  *pid = (pid_t) atoi (g_subprocess_get_identifier (proc));
  g_object_unref (launcher);
  note = g_strdup_printf ("%s/pgid-%d", root_dir, (gint) * pid);
  fail_unless (g_file_set_contents (note, "", 0, NULL));
  g_free (note);
  return proc;
}

/* the whole group, even when its leader is gone (Chromium's helpers) */
static void
kill_group (GSubprocess ** proc, pid_t pid)
{
  gchar *note;

  if (!*proc)
    return;
  kill (-pid, SIGKILL);
  g_subprocess_force_exit (*proc);
  g_subprocess_wait (*proc, NULL, NULL);
  g_clear_object (proc);
  note = g_strdup_printf ("%s/pgid-%d", root_dir, (gint) pid);
  g_unlink (note);
  g_free (note);
}

static gchar *
log_tail (const gchar * path)
{
  gchar *contents = NULL, *tail;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return g_strdup ("(no output)");
  tail = g_strdup (len > 3000 ? contents + len - 3000 : contents);
  g_free (contents);
  return tail;
}

/* Waits for a line of @path that holds @marker; returns what follows it on
 * the line, up to a space. Fails when @proc exits or after WAIT_S. */
static gchar *
wait_for_log (const gchar * path, GSubprocess * proc, const gchar * marker,
    const gchar * what)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;

  for (;;) {
    gchar *contents = NULL, *hit, *tail;

    if (g_file_get_contents (path, &contents, NULL, NULL) &&
        (hit = strstr (contents, marker)) && strchr (hit, '\n')) {
      gchar *value;

      hit += strlen (marker);
      value = g_strndup (hit, strcspn (hit, " \r\n"));
      g_free (contents);
      return value;
    }
    g_free (contents);

    tail = log_tail (path);
    /* g_subprocess_get_if_exited () needs a finished wait */
    fail_if (g_subprocess_get_identifier (proc) == NULL,
        "%s exited before it was ready:\n%s", what, tail);
    fail_unless (g_get_monotonic_time () < deadline,
        "%s not ready after %u s:\n%s", what, WAIT_S, tail);
    g_free (tail);
    g_usleep (50 * 1000);
  }
}

/* ------------------------------------------------------------------------
 * The DevTools connection
 * ------------------------------------------------------------------------ */

static gchar *
json_quote (const gchar * s)
{
  JsonNode *node = json_node_init_string (json_node_alloc (), s);
  gchar *text = json_to_string (node, FALSE);

  json_node_unref (node);
  return text;
}

static const gchar *
member_string (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_STRING ?
      json_node_get_string (n) : NULL;
}

static JsonObject *
member_object (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static void
add_js_error (const gchar * kind, const gchar * text)
{
  gchar *line = g_strdup_printf ("%s: %s", kind, text ? text : "?");

  GST_WARNING ("page %s", line);
  g_ptr_array_add (b->js_errors, line);
}

/* the text of a console call's arguments */
static gchar *
console_text (JsonObject * params)
{
  JsonNode *args = json_object_get_member (params, "args");
  GString *s = g_string_new (NULL);
  guint i;

  if (args && JSON_NODE_HOLDS_ARRAY (args)) {
    JsonArray *a = json_node_get_array (args);

    for (i = 0; i < json_array_get_length (a); i++) {
      JsonObject *arg = json_array_get_object_element (a, i);
      JsonNode *v = arg ? json_object_get_member (arg, "value") : NULL;
      const gchar *desc = member_string (arg, "description");

      if (i > 0)
        g_string_append_c (s, ' ');
      if (v && JSON_NODE_HOLDS_VALUE (v) &&
          json_node_get_value_type (v) == G_TYPE_STRING)
        g_string_append (s, json_node_get_string (v));
      else if (desc)
        g_string_append (s, desc);
      else if (v) {
        gchar *t = json_to_string (v, FALSE);

        g_string_append (s, t);
        g_free (t);
      }
    }
  }
  return g_string_free (s, FALSE);
}

static void
on_cdp_event (const gchar * method, JsonObject * params)
{
  if (strcmp (method, "Runtime.exceptionThrown") == 0) {
    JsonObject *details = member_object (params, "exceptionDetails");
    JsonObject *exc = member_object (details, "exception");
    const gchar *desc = member_string (exc, "description");

    add_js_error ("exception", desc ? desc : member_string (details, "text"));
  } else if (strcmp (method, "Runtime.consoleAPICalled") == 0) {
    const gchar *type = member_string (params, "type");
    gchar *text = console_text (params);

    if (g_strcmp0 (type, "error") == 0 || g_strcmp0 (type, "assert") == 0)
      add_js_error ("console error", text);
    else
      GST_INFO ("page console.%s: %s", type, text);
    g_free (text);
  } else if (strcmp (method, "Log.entryAdded") == 0) {
    JsonObject *entry = member_object (params, "entry");
    const gchar *level = member_string (entry, "level");
    gchar *text = g_strdup_printf ("%s (%s, %s)",
        member_string (entry, "text"), member_string (entry, "source"),
        member_string (entry, "url"));

    if (g_strcmp0 (level, "error") == 0)
      add_js_error ("log error", text);
    else
      GST_INFO ("page log %s: %s", level, text);
    g_free (text);
  } else if (strcmp (method, "Inspector.targetCrashed") == 0 ||
      strcmp (method, "Target.targetCrashed") == 0) {
    b->crashed = TRUE;
  }
}

static void
on_ws_message (G_GNUC_UNUSED SoupWebsocketConnection * ws,
    SoupWebsocketDataType type, GBytes * message, G_GNUC_UNUSED gpointer data)
{
  JsonParser *parser;
  JsonNode *root;
  JsonObject *o;
  gsize len;
  const gchar *text = g_bytes_get_data (message, &len);
  const gchar *method;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    return;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    GST_WARNING ("DevTools sent something else than a JSON object");
    g_object_unref (parser);
    return;
  }
  root = json_parser_get_root (parser);
  o = json_node_get_object (root);
  if (json_object_has_member (o, "id")) {
    gint id = (gint) json_object_get_int_member (o, "id");

    g_hash_table_insert (b->replies, GINT_TO_POINTER (id),
        json_node_ref (root));
  } else if ((method = member_string (o, "method"))) {
    JsonObject *params = member_object (o, "params");

    if (params)
      on_cdp_event (method, params);
  }
  g_object_unref (parser);
}

static void
on_ws_closed (G_GNUC_UNUSED SoupWebsocketConnection * ws,
    G_GNUC_UNUSED gpointer data)
{
  b->ws_closed = TRUE;
}

static void
on_ws_connected (GObject * source, GAsyncResult * res,
    G_GNUC_UNUSED gpointer data)
{
  b->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
      &b->ws_error);
}

static gboolean
on_tick (G_GNUC_UNUSED gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* one turn of our context: at most ~20 ms */
static void
iterate (void)
{
  g_main_context_iteration (b->ctx, TRUE);
}

static void
cdp_connect (void)
{
  SoupMessage *msg;
  gint64 deadline;

  b->ctx = g_main_context_new ();
  g_main_context_push_thread_default (b->ctx);
  b->tick = g_timeout_source_new (20);
  g_source_set_callback (b->tick, on_tick, NULL, NULL);
  g_source_attach (b->tick, b->ctx);
  b->session = soup_session_new ();
  /* 127.0.0.1 only: no proxy (and no libproxy under valgrind) */
  soup_session_set_proxy_resolver (b->session, NULL);
  b->replies = g_hash_table_new_full (NULL, NULL, NULL,
      (GDestroyNotify) json_node_unref);

  msg = soup_message_new ("GET", b->devtools_url);
  fail_unless (msg != NULL, "bad DevTools URL %s", b->devtools_url);
  /* no Origin: Chromium refuses WebSockets from other origins */
  soup_session_websocket_connect_async (b->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, on_ws_connected, NULL);
  g_object_unref (msg);
  deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  while (!b->ws && !b->ws_error && g_get_monotonic_time () < deadline)
    iterate ();
  fail_unless (b->ws != NULL, "cannot connect to DevTools at %s: %s",
      b->devtools_url, b->ws_error ? b->ws_error->message : "timeout");
  /* page dumps can be large */
  soup_websocket_connection_set_max_incoming_payload_size (b->ws, 64 << 20);
  g_signal_connect (b->ws, "message", G_CALLBACK (on_ws_message), NULL);
  g_signal_connect (b->ws, "closed", G_CALLBACK (on_ws_closed), NULL);
}

/* Calls @method with @params (JSON object text or NULL) in the page's
 * session (or the browser's before we attach); returns its "result". */
static JsonNode *
cdp_call (const gchar * method, const gchar * params, gboolean in_page)
{
  gint id = ++b->next_id;
  gchar *session = NULL, *text;
  JsonNode *reply, *result;
  JsonObject *o;
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;

  fail_if (b->ws_closed, "DevTools connection closed (%s)", method);
  if (in_page) {
    gchar *q = json_quote (b->session_id);

    session = g_strdup_printf (",\"sessionId\":%s", q);
    g_free (q);
  }
  text = g_strdup_printf ("{\"id\":%d,\"method\":\"%s\",\"params\":%s%s}",
      id, method, params ? params : "{}", session ? session : "");
  soup_websocket_connection_send_text (b->ws, text);
  g_free (text);
  g_free (session);

  while (!(reply = g_hash_table_lookup (b->replies, GINT_TO_POINTER (id)))) {
    fail_if (b->ws_closed, "DevTools connection closed during %s", method);
    fail_if (b->crashed, "the page crashed");
    fail_unless (g_get_monotonic_time () < deadline, "no answer to %s "
        "after %u s", method, WAIT_S);
    iterate ();
  }
  o = json_node_get_object (reply);
  if (json_object_has_member (o, "error")) {
    gchar *e = json_to_string (json_object_get_member (o, "error"), FALSE);

    fail ("%s failed: %s", method, e);
    g_free (e);
  }
  result = json_object_get_member (o, "result");
  fail_unless (result != NULL && JSON_NODE_HOLDS_OBJECT (result),
      "%s: no result", method);
  result = json_node_ref (result);
  g_hash_table_remove (b->replies, GINT_TO_POINTER (id));
  return result;
}

static void
cdp_call_simple (const gchar * method, const gchar * params, gboolean in_page)
{
  json_node_unref (cdp_call (method, params, in_page));
}

/* Evaluates @expr in the page (a promise is awaited); returns its JSON
 * value. */
static JsonNode *
eval (const gchar * expr)
{
  gchar *q = json_quote (expr);
  gchar *params = g_strdup_printf ("{\"expression\":%s,\"returnByValue\":true,"
      "\"awaitPromise\":true}", q);
  JsonNode *res = cdp_call ("Runtime.evaluate", params, TRUE);
  JsonObject *o = json_node_get_object (res);
  JsonObject *details = member_object (o, "exceptionDetails");
  JsonObject *value = member_object (o, "result");
  JsonNode *v;

  if (details) {
    JsonObject *exc = member_object (details, "exception");

    fail ("%s threw: %s", expr, exc && member_string (exc, "description") ?
        member_string (exc, "description") : member_string (details, "text"));
  }
  fail_unless (value != NULL, "%s: no value", expr);
  v = json_object_get_member (value, "value");
  v = v ? json_node_copy (v) : json_node_new (JSON_NODE_NULL);
  json_node_unref (res);
  g_free (params);
  g_free (q);
  return v;
}

static gboolean
eval_bool (const gchar * expr)
{
  JsonNode *v = eval (expr);
  gboolean ret;

  fail_unless (JSON_NODE_HOLDS_VALUE (v) &&
      json_node_get_value_type (v) == G_TYPE_BOOLEAN, "%s: not a boolean",
      expr);
  ret = json_node_get_boolean (v);
  json_node_unref (v);
  return ret;
}

static gdouble
eval_double (const gchar * expr)
{
  JsonNode *v = eval (expr);
  gdouble ret;

  fail_unless (JSON_NODE_HOLDS_VALUE (v), "%s: not a number", expr);
  ret = json_node_get_double (v);
  json_node_unref (v);
  return ret;
}

/* what the page shows and counts, for failure messages */
static gchar *
page_dump (void)
{
  JsonNode *v = eval ("JSON.stringify({stats: window.bidiStats, "
      "lines: Array.from(document.querySelectorAll('#transcript li'))"
      ".map(function (li) { return li.className + ': ' + li.textContent; })"
      "}, null, 1)");
  gchar *dump = g_strdup (JSON_NODE_HOLDS_VALUE (v) &&
      json_node_get_value_type (v) == G_TYPE_STRING ?
      json_node_get_string (v) : "(no page)");
  gchar *server = log_tail (b->server_log);
  gchar *ret = g_strdup_printf ("%s\nserver output:\n%s", dump, server);

  json_node_unref (v);
  g_free (dump);
  g_free (server);
  return ret;
}

static void
fail_on_js_errors (void)
{
  if (b->js_errors->len > 0) {
    g_ptr_array_add (b->js_errors, NULL);
    fail ("the page logged errors:\n%s",
        g_strjoinv ("\n", (gchar **) b->js_errors->pdata));
  }
}

/* Polls @expr until it is true; fails with @what after WAIT_S */
static void
wait_js (const gchar * expr, const gchar * what)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_TIME_SPAN_SECOND;
  gint64 next;

  while (!eval_bool (expr)) {
    fail_on_js_errors ();
    if (g_get_monotonic_time () >= deadline) {
      gchar *dump = page_dump ();

      fail ("%s: not after %u s (%s)\n%s", what, WAIT_S, expr, dump);
      g_free (dump);
    }
    next = g_get_monotonic_time () + 200 * G_TIME_SPAN_MILLISECOND;
    while (g_get_monotonic_time () < next)
      iterate ();
  }
  fail_on_js_errors ();
}

/* ------------------------------------------------------------------------
 * Fixture
 * ------------------------------------------------------------------------ */

static void
cleanup (void)
{
  if (!b)
    return;
  if (b->ws) {
    gint64 deadline = g_get_monotonic_time () + 2 * G_TIME_SPAN_SECOND;

    if (soup_websocket_connection_get_state (b->ws) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (b->ws, SOUP_WEBSOCKET_CLOSE_NORMAL,
          NULL);
    while (!b->ws_closed && g_get_monotonic_time () < deadline)
      iterate ();
    g_signal_handlers_disconnect_by_func (b->ws, on_ws_message, NULL);
    g_signal_handlers_disconnect_by_func (b->ws, on_ws_closed, NULL);
  }
  kill_group (&b->chromium, b->chromium_pid);
  kill_group (&b->server, b->server_pid);
  g_clear_object (&b->ws);
  g_clear_error (&b->ws_error);
  g_clear_object (&b->session);
  if (b->ctx) {
    g_source_destroy (b->tick);
    g_source_unref (b->tick);
    while (g_main_context_iteration (b->ctx, FALSE));
    g_main_context_pop_thread_default (b->ctx);
    g_main_context_unref (b->ctx);
  }
  if (b->replies)
    g_hash_table_unref (b->replies);
  if (b->tmpdir)
    rm_rf (b->tmpdir);
  g_ptr_array_unref (b->js_errors);
  g_free (b->session_id);
  g_free (b->devtools_url);
  g_free (b->chromium_log);
  g_free (b->url);
  g_free (b->server_log);
  g_free (b->wav);
  g_free (b->tmpdir);
  g_free (b);
  b = NULL;
}

static void
setup (void)
{
  b = g_new0 (Browser, 1);
  b->js_errors = g_ptr_array_new_with_free_func (g_free);

  fail_unless (g_file_test (CHROMIUM, G_FILE_TEST_IS_EXECUTABLE),
      CHROMIUM " is missing: this test drives the page in a headless "
      "Chromium (Debian package chromium, tests/debian-packages-tests.txt)");
  fail_unless (g_file_test (SERVER, G_FILE_TEST_IS_EXECUTABLE),
      "%s was not built", SERVER);
  b->tmpdir = g_build_filename (root_dir, "test-XXXXXX", NULL);
  fail_unless (g_mkdtemp (b->tmpdir) != NULL, "%s: %s", b->tmpdir,
      g_strerror (errno));
  b->wav = g_build_filename (b->tmpdir, "question.wav", NULL);
  make_question_wav (QUESTION, PAD_SECONDS, b->wav);
}

static void
teardown (void)
{
  cleanup ();
}

static void
setup_root (void)
{
  GError *err = NULL;

  root_dir = g_dir_make_tmp ("bidi-browser-XXXXXX", &err);
  fail_unless (root_dir != NULL, "%s", err ? err->message : "?");
}

/* what a test that failed left: its processes (the browser's and the
 * server's leaders died with it, not always their children) and files */
static void
teardown_root (void)
{
  GDir *dir = g_dir_open (root_dir, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir))) {
    if (g_str_has_prefix (name, "pgid-")) {
      pid_t pgid = (pid_t) atoi (name + 5);

      if (pgid > 1)
        kill (-pgid, SIGKILL);
    }
  }
  if (dir)
    g_dir_close (dir);
  rm_rf (root_dir);
  g_clear_pointer (&root_dir, g_free);
}

static void
start_server (void)
{
  const gchar *argv[] = { SERVER, "--port", "0", "--provider", "local",
    NULL
  };
  const gchar *env[] = {
    "GST_PLUGIN_PATH", BIDI_BUILDDIR "/gst/bidiagent",
    NULL
  };

  b->server_log = g_build_filename (b->tmpdir, "server.log", NULL);
  b->server = spawn (argv, b->server_log, env, &b->server_pid);
  b->url = wait_for_log (b->server_log, b->server, "listening on ",
      "bidi-server");
  fail_unless (g_str_has_prefix (b->url, "http://127.0.0.1:"), "%s", b->url);
}

static void
start_chromium (void)
{
  gchar *profile = g_build_filename (b->tmpdir, "profile", NULL);
  gchar *audio_arg = g_strconcat ("--use-file-for-fake-audio-capture=",
      b->wav, NULL);
  gchar *profile_arg = g_strconcat ("--user-data-dir=", profile, NULL);
  const gchar *argv[] = { CHROMIUM, "--headless=new", "--no-sandbox",
    "--disable-gpu", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream", audio_arg,
    "--autoplay-policy=no-user-gesture-required",
    "--remote-debugging-port=0", profile_arg,
    "--no-first-run", "--no-default-browser-check", "--disable-extensions",
    "--disable-background-networking", "--disable-sync",
    "--disable-component-update", "--disable-default-apps",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--metrics-recording-only", "--password-store=basic",
    "about:blank", NULL
  };
  /* keep Chromium's caches and crash reports in our directory */
  const gchar *env[] = {
    "HOME", b->tmpdir,
    "XDG_CONFIG_HOME", b->tmpdir,
    "XDG_CACHE_HOME", b->tmpdir,
    NULL
  };

  b->chromium_log = g_build_filename (b->tmpdir, "chromium.log", NULL);
  b->chromium = spawn (argv, b->chromium_log, env, &b->chromium_pid);
  b->devtools_url = wait_for_log (b->chromium_log, b->chromium,
      "DevTools listening on ", "chromium");
  fail_unless (g_str_has_prefix (b->devtools_url, "ws://127.0.0.1:"),
      "%s", b->devtools_url);
  g_free (profile_arg);
  g_free (audio_arg);
  g_free (profile);
}

/* a new tab, attached, its Runtime and Log events on, at the server's page */
static void
open_page (void)
{
  JsonNode *res;
  gchar *params, *q;

  res = cdp_call ("Target.createTarget", "{\"url\":\"about:blank\"}", FALSE);
  q = json_quote (member_string (json_node_get_object (res), "targetId"));
  json_node_unref (res);
  params = g_strdup_printf ("{\"targetId\":%s,\"flatten\":true}", q);
  res = cdp_call ("Target.attachToTarget", params, FALSE);
  b->session_id =
      g_strdup (member_string (json_node_get_object (res), "sessionId"));
  fail_unless (b->session_id != NULL);
  json_node_unref (res);
  g_free (params);
  g_free (q);

  cdp_call_simple ("Runtime.enable", NULL, TRUE);
  cdp_call_simple ("Log.enable", NULL, TRUE);
  cdp_call_simple ("Page.enable", NULL, TRUE);
  q = json_quote (b->url);
  params = g_strdup_printf ("{\"url\":%s}", q);
  res = cdp_call ("Page.navigate", params, TRUE);
  fail_if (member_string (json_node_get_object (res), "errorText") != NULL,
      "cannot open %s: %s", b->url,
      member_string (json_node_get_object (res), "errorText"));
  json_node_unref (res);
  g_free (params);
  g_free (q);
}

/* ------------------------------------------------------------------------
 * The test
 * ------------------------------------------------------------------------ */

/* transcript lines of the page, as the user sees them */
#define LINES(sel) "Array.from(document.querySelectorAll('#transcript li" \
    sel "')).map(function (li) { return li.textContent; })"
#define SPOKEN_USER_FINAL LINES ("[data-role=user][data-final=true]" \
    ":not([data-typed])")
#define ASSISTANT_FINAL LINES ("[data-role=assistant][data-final=true]")

GST_START_TEST (test_browser_talk)
{
  gdouble voiced, scheduled, played;
  gchar *dump;
  JsonNode *v;
  JsonObject *o;

  start_server ();
  start_chromium ();
  cdp_connect ();
  open_page ();

  wait_js ("!!window.bidiStats && bidiStats.connection === 'open' && "
      "bidiStats.connectionId !== null", "the page connected to the agent");
  fail_unless (eval_bool ("document.getElementById('connection')"
          ".dataset.state === 'open' && document.getElementById('mic-state')"
          ".textContent === 'stopped'"));

  /* the user types a question with a long answer ... */
  json_node_unref (eval ("document.getElementById('text').value = '"
          LONG_QUESTION "'; document.getElementById('send').click()"));
  wait_js ("bidiStats.textsSent === 1 && bidiStats.activeSources > 0 && "
      "bidiStats.audioSecondsVoiced > 0.2", "the answer to the typed text "
      "plays");

  /* ... and while it plays, turns the microphone on and asks the time */
  json_node_unref (eval ("document.getElementById('mic').click()"));
  wait_js ("bidiStats.microphone === 'listening'", "the microphone listens");
  fail_unless (eval_bool ("document.getElementById('mic-state').textContent "
          "=== 'listening' && document.getElementById('mic')"
          ".getAttribute('aria-pressed') === 'true'"));

  /* the agent heard the user: barge-in, the page cut its playback */
  wait_js ("bidiStats.interruptions >= 1", "the answer was interrupted");
  v = eval ("bidiStats.lastInterruption");
  o = json_node_get_object (v);
  fail_unless_equals_string (json_object_get_string_member (o, "reason"),
      "user_speech");
  fail_unless (json_object_get_int_member (o, "stoppedSources") > 0,
      "the interruption stopped no playback");
  fail_unless_equals_int (json_object_get_int_member (o,
          "activeSourcesAfter"), 0);
  json_node_unref (v);
  fail_unless (eval_bool ("document.querySelector('#transcript "
          "li.interrupted') !== null && Array.from(document.querySelectorAll("
          "'#transcript li.event')).some(function (li) { return "
          "li.textContent.indexOf('interrupted (user_speech)') === 0; })"),
      "the page does not show the interruption");
  voiced = eval_double ("bidiStats.audioSecondsVoiced");
  scheduled = eval_double ("bidiStats.audioSecondsScheduled");
  played = eval_double ("bidiStats.audioSecondsPlayed");

  /* the spoken question, then the answer, shown as final lines */
  wait_js (SPOKEN_USER_FINAL ".some(function (t) { return "
      "/time/i.test(t); })", "the page shows the spoken question");
  /* the user is done: microphone off */
  json_node_unref (eval ("document.getElementById('mic').click()"));
  wait_js ("bidiStats.microphone === 'stopped'", "the microphone stopped");
  wait_js (ASSISTANT_FINAL ".some(function (t) { return "
      "/^It is .*[0-9]/.test(t); })", "the page shows the answer");
  /* who speaks, and how fast the spoken question was answered */
  wait_js ("bidiStats.latencies >= 2 && bidiStats.lastLatencyMs > 0 && "
      "document.getElementById('latency').textContent === "
      "bidiStats.lastLatencyMs + ' ms' && bidiStats.userState !== null && "
      "document.getElementById('agent-state').textContent === "
      "bidiStats.agentState", "the page shows the turn state and latency");
  fail_unless (eval_bool ("document.querySelector('#transcript "
          "li.partial') === null"), "a partial line stayed");

  /* its audio came, was scheduled and played */
  {
    gchar *expr = g_strdup_printf ("bidiStats.audioSecondsVoiced > %f && "
        "bidiStats.audioSecondsScheduled > %f && "
        "bidiStats.audioSecondsPlayed > %f && bidiStats.activeSources === 0",
        voiced + 0.5, scheduled + 0.5, played + 0.5);

    wait_js (expr, "the answer's audio played");
    g_free (expr);
  }
  fail_unless (eval_bool ("bidiStats.audioSecondsSent > 0.5 && "
          "bidiStats.audioChunksSent > 10"), "the page sent no audio");
  fail_unless (eval_bool ("bidiStats.errors.length === 0 && "
          "document.getElementById('error').hidden"), "the page shows an "
      "error");
  fail_on_js_errors ();

  dump = page_dump ();
  GST_INFO ("the page at the end:\n%s", dump);
  g_free (dump);
}

GST_END_TEST;

/* The page's barge-in handler against synthetic events: two seconds of
 * scheduled audio, all cut at once by a bidi_interruption */
GST_START_TEST (test_browser_interruption_handler)
{
  JsonNode *v;
  JsonObject *o;

  start_server ();
  start_chromium ();
  cdp_connect ();
  open_page ();
  wait_js ("!!window.bidiStats && bidiStats.connection === 'open'",
      "the page connected");

  v = eval ("(function () {"
      "  var rate = 16000, n = rate / 2, i;"
      "  var bytes = new Uint8Array(n * 2), view = new DataView(bytes.buffer);"
      "  for (i = 0; i < n; i++)"
      "    view.setInt16(2 * i, Math.round(8000 * Math.sin(2 * Math.PI * 440"
      "        * i / rate)), true);"
      "  var bin = '';"
      "  for (i = 0; i < bytes.length; i++)"
      "    bin += String.fromCharCode(bytes[i]);"
      "  var ev = { type: 'bidi_audio_stream', audio: btoa(bin),"
      "      format: 'pcm', sample_rate: rate, channels: 1 };"
      "  for (i = 0; i < 4; i++)"
      "    bidiApp.handleEvent(ev);"
      "  var r = { active: bidiStats.activeSources,"
      "      scheduled: bidiStats.audioSecondsScheduled,"
      "      playing: document.getElementById('playback').dataset.state };"
      "  bidiApp.handleEvent({ type: 'bidi_interruption',"
      "      reason: 'user_speech', played_ms: 0 });"
      "  r.after = bidiStats.activeSources;"
      "  r.stopped = bidiStats.lastInterruption.stoppedSources;"
      "  r.interruptions = bidiStats.interruptions;"
      "  r.idle = document.getElementById('playback').dataset.state;"
      "  return r;"
      "})()");
  o = json_node_get_object (v);
  fail_unless_equals_int (json_object_get_int_member (o, "active"), 4);
  fail_unless (json_object_get_double_member (o, "scheduled") > 1.9);
  fail_unless_equals_string (json_object_get_string_member (o, "playing"),
      "playing");
  fail_unless_equals_int (json_object_get_int_member (o, "after"), 0);
  fail_unless_equals_int (json_object_get_int_member (o, "stopped"), 4);
  fail_unless_equals_int (json_object_get_int_member (o, "interruptions"), 1);
  fail_unless_equals_string (json_object_get_string_member (o, "idle"), "idle");
  json_node_unref (v);

  /* nothing of the cut audio plays on: the played time stays below what
   * was scheduled */
  fail_unless (eval_bool ("bidiStats.audioSecondsPlayed < 1.0"));
  fail_on_js_errors ();
}

GST_END_TEST;

static Suite *
browser_suite (void)
{
  Suite *s = suite_create ("browser");
  TCase *tc = tcase_create ("general");
  const gchar *preload = g_getenv ("LD_PRELOAD");

  if (preload && strstr (preload, "vgpreload"))
    slow = 3;
  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 4 * WAIT_S);
  tcase_add_unchecked_fixture (tc, setup_root, teardown_root);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_browser_interruption_handler);
  tcase_add_test (tc, test_browser_talk);
  return s;
}

/* This process loads no element: it reads no registry. (Loading it with
 * every system plugin would also take GLib's quark table past its first
 * block, which GLib drops on purpose: a "definite" leak under valgrind.)
 * The server started later finds its plugins as usual. */
int
main (int argc, char **argv)
{
  g_setenv ("GST_REGISTRY_DISABLE", "yes", TRUE);
  gst_check_init (&argc, &argv);
  g_unsetenv ("GST_REGISTRY_DISABLE");
  return gst_check_run_suite (browser_suite (), "browser", __FILE__);
}
