/* gst-bidi: bidiagent with provider=nova-sonic, its events against a fake
 * transport
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Each test runs a real pipeline whose bidiagent (provider=nova-sonic)
 * talks to an in-process fake of Nova's transport: the provider class's
 * connect is replaced, so no socket is opened. The fake records every Nova
 * event the provider sends, per connection, and the test injects the
 * server's events (as the transport would pass them on, exceptions in its
 * {"exception": ...} form) on the provider's own thread. The end-to-end
 * tests against the mock Bedrock server are tests/check/providers/
 * novasonic.c. The fake AWS keys are only ever set with g_object_set or in
 * the environment; no test reads real credentials (the AWS variables are
 * unset and HOME is an empty directory). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>

#include <gst/bidi/gstbidijson.h>

#include "gstbidirealtimeprovider.h"
#include "gstbidiawscreds.h"
#include "buslog.h"
#include "secretwatch.h"
#include "leftover.h"
#include "session.h"
#include "testjson.h"

#define KEY_ID "AKIDFAKENOVATEST0001"
#define SECRET "fake-nova-secret-0123456789abcdefghij"
#define SECRET_TAIL "0123456789abcdefghij"
#define TOKEN "fake-nova-token-zyxwvutsrqponmlkjihg"
#define ENV_KEY_ID "AKIDFAKENOVAENV00002"
#define ENV_SECRET "fake-nova-env-secret-abcdefghij0123456789"

#define IN_RATE 16000
#define OUT_RATE 24000
#define OUT_MS_BYTES(ms) ((gsize) (ms) * (OUT_RATE * 2 / 1000))
#define IN_MS_BYTES(ms) ((gsize) (ms) * (IN_RATE * 2 / 1000))

#define OUT_CAPS "audio/x-raw,format=S16LE,rate=24000,channels=1," \
    "layout=interleaved"
#define IN_CAPS "audio/x-raw,format=S16LE,rate=16000,channels=1," \
    "layout=interleaved"
#define DESC_NO_INPUT \
  "bidiagent name=agent ! " OUT_CAPS " ! fakesink name=sink sync=false"
#define DESC_APPSRC \
  "appsrc name=src is-live=false format=time block=true caps=" IN_CAPS \
  " ! bidiagent name=agent ! " OUT_CAPS " ! fakesink name=sink sync=false"

#define FAKE_URL "https://127.0.0.1:9"
#define DEFAULT_PATH \
  "/model/amazon.nova-2-sonic-v1%3A0/invoke-with-bidirectional-stream"

static guint slow = 1;
#define WAIT_MS (10000 * slow)

static const gchar app_tools[] =
    "[{\"name\": \"get_weather\", \"description\": \"Current weather for a "
    "city\", \"parameters\": {\"type\": \"object\", \"properties\": "
    "{\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}]";

/* ------------------------------------------------------------------------
 * The fake transport
 * ------------------------------------------------------------------------ */

typedef struct
{
  GstBidiTransport parent;
  const GstBidiTransportCallbacks *cb;
  gpointer user_data;
  GMainContext *ctx;
  guint index;
  gboolean opened;
} FakeTransport;

/* What one connection saw */
typedef struct
{
  gchar *url;
  gchar *key_id;
  gchar *secret;
  gchar *token;
  gchar *region;
  GPtrArray *sent;              /* JSON text of each event sent */
  gboolean closed;              /* by the client */
} Conn;

static GMutex lock;
static GCond cond;
static GPtrArray *conns;        /* Conn */
static FakeTransport *current;  /* the open one, NULL when none */

static void
conn_free (Conn * c)
{
  g_free (c->url);
  g_free (c->key_id);
  g_free (c->secret);
  g_free (c->token);
  g_free (c->region);
  g_ptr_array_unref (c->sent);
  g_free (c);
}

static void
record (FakeTransport * t, gchar * text)
{
  g_mutex_lock (&lock);
  g_ptr_array_add (((Conn *) g_ptr_array_index (conns, t->index))->sent,
      text);
  g_cond_broadcast (&cond);
  g_mutex_unlock (&lock);
}

static gboolean
fake_send_object (GstBidiTransport * transport, JsonObject * object)
{
  FakeTransport *t = (FakeTransport *) transport;
  JsonNode *node = json_node_init_object (json_node_alloc (), object);

  if (t->opened)
    record (t, gst_bidi_json_to_string (node));
  json_node_unref (node);
  return t->opened;
}

static gboolean
fake_send_text (GstBidiTransport * transport, const gchar * text)
{
  FakeTransport *t = (FakeTransport *) transport;

  if (t->opened)
    record (t, g_strdup (text));
  return t->opened;
}

static gboolean
fake_is_open (GstBidiTransport * transport)
{
  return ((FakeTransport *) transport)->opened;
}

static void
fake_close (GstBidiTransport * transport, G_GNUC_UNUSED gushort code)
{
  FakeTransport *t = (FakeTransport *) transport;

  g_mutex_lock (&lock);
  ((Conn *) g_ptr_array_index (conns, t->index))->closed = TRUE;
  if (current == t)
    current = NULL;
  g_cond_broadcast (&cond);
  g_mutex_unlock (&lock);
  g_main_context_unref (t->ctx);
  g_free (t);
}

static const GstBidiTransportFuncs fake_funcs = {
  fake_send_object,
  fake_send_text,
  fake_is_open,
  fake_close,
  NULL,
};

static gboolean
open_cb (gpointer user_data)
{
  FakeTransport *t = user_data;

  g_mutex_lock (&lock);
  if (current != t) {
    g_mutex_unlock (&lock);
    return G_SOURCE_REMOVE;
  }
  g_mutex_unlock (&lock);
  t->opened = TRUE;
  t->cb->open (&t->parent, t->user_data);
  return G_SOURCE_REMOVE;
}

static GstBidiTransport *
fake_connect (const GstBidiTransportOptions * options,
    const GstBidiTransportCallbacks * callbacks, gpointer user_data,
    G_GNUC_UNUSED GError ** error)
{
  const GstBidiAwsCredentials *creds = options->transport_data;
  FakeTransport *t = g_new0 (FakeTransport, 1);
  Conn *c = g_new0 (Conn, 1);
  GSource *src;

  fail_unless (creds != NULL, "no credentials for the transport");
  c->url = g_strdup (options->url);
  c->key_id = g_strdup (creds->access_key_id);
  c->secret = g_strdup (creds->secret_access_key);
  c->token = g_strdup (creds->session_token);
  c->region = g_strdup (creds->region);
  c->sent = g_ptr_array_new_with_free_func (g_free);
  t->parent.funcs = &fake_funcs;
  t->cb = callbacks;
  t->user_data = user_data;
  t->ctx = g_main_context_ref_thread_default ();
  g_mutex_lock (&lock);
  fail_unless (current == NULL, "two connections at once");
  t->index = conns->len;
  g_ptr_array_add (conns, c);
  current = t;
  g_cond_broadcast (&cond);
  g_mutex_unlock (&lock);
  /* it opens once the provider's loop runs again, as a real one would */
  src = g_idle_source_new ();
  g_source_set_callback (src, open_cb, t, NULL);
  g_source_attach (src, t->ctx);
  g_source_unref (src);
  return &t->parent;
}

/* Replaces nova-sonic's transport with the fake (the plugin is loaded) */
static void
fake_install (void)
{
  GType type = g_type_from_name ("GstBidiNovaSonic");
  GstBidiRealtimeProviderClass *klass;

  fail_unless (type != 0, "provider nova-sonic is not registered");
  klass = g_type_class_ref (type);
  klass->connect = fake_connect;
  g_type_class_unref (klass);
  g_mutex_lock (&lock);
  if (conns)
    g_ptr_array_unref (conns);
  conns = g_ptr_array_new_with_free_func ((GDestroyNotify) conn_free);
  current = NULL;
  g_mutex_unlock (&lock);
}

/* Server input, run on the provider's thread */
typedef struct
{
  guint conn;
  gchar **lines;                /* frames; "#close" closes */
  gboolean done;
} Inject;

static gboolean
inject_cb (gpointer user_data)
{
  Inject *in = user_data;
  guint i;

  for (i = 0; in->lines[i]; i++) {
    FakeTransport *t;
    GError *err = NULL;
    JsonObject *obj;

    g_mutex_lock (&lock);
    t = current && current->index == in->conn && current->opened ?
        current : NULL;
    g_mutex_unlock (&lock);
    if (!t)
      break;
    if (strcmp (in->lines[i], "#close") == 0) {
      GstBidiTransportCloseInfo info = { 0, };
      GError *e = g_error_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
          "the server ended the stream");

      info.was_open = TRUE;
      t->cb->closed (&t->parent, &info, e, t->user_data);
      g_error_free (e);
      continue;
    }
    obj = gst_bidi_json_parse_object (in->lines[i], strlen (in->lines[i]),
        16 * 1024 * 1024, 64, &err);
    if (obj) {
      t->cb->message (&t->parent, obj, in->lines[i], strlen (in->lines[i]),
          t->user_data);
      json_object_unref (obj);
    } else {
      t->cb->bad_message (&t->parent, err, t->user_data);
      g_error_free (err);
    }
  }
  g_mutex_lock (&lock);
  in->done = TRUE;
  g_cond_broadcast (&cond);
  g_mutex_unlock (&lock);
  return G_SOURCE_REMOVE;
}

/* Waits until connection @conn is open */
static void
wait_open (guint conn)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  gboolean ok;

  g_mutex_lock (&lock);
  while (!(current && current->index == conn && current->opened) &&
      g_cond_wait_until (&cond, &lock, end));
  ok = current && current->index == conn && current->opened;
  g_mutex_unlock (&lock);
  fail_unless (ok, "connection %u did not open", conn);
}

/* The server sends @lines (NULL-terminated) on @conn, in one go */
static void
inject_v (guint conn, const gchar * const *lines)
{
  Inject in = { conn, (gchar **) lines, FALSE };
  gint64 end;
  GMainContext *ctx;

  wait_open (conn);
  g_mutex_lock (&lock);
  ctx = g_main_context_ref (current->ctx);
  g_mutex_unlock (&lock);
  g_main_context_invoke (ctx, inject_cb, &in);
  end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&lock);
  while (!in.done && g_cond_wait_until (&cond, &lock, end));
  g_mutex_unlock (&lock);
  g_main_context_unref (ctx);
  fail_unless (in.done, "the provider's thread did not take the events");
}

#define inject(conn, ...) G_STMT_START { \
    const gchar *const _lines[] = { __VA_ARGS__, NULL }; \
    inject_v (conn, _lines); \
  } G_STMT_END

static guint
n_conns (void)
{
  guint n;

  g_mutex_lock (&lock);
  n = conns->len;
  g_mutex_unlock (&lock);
  return n;
}

static Conn *
get_conn (guint conn)
{
  Conn *c;

  g_mutex_lock (&lock);
  fail_unless (conn < conns->len, "no connection %u", conn);
  c = g_ptr_array_index (conns, conn);
  g_mutex_unlock (&lock);
  return c;
}

static gboolean
wait_conns (guint n)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  gboolean ok;

  g_mutex_lock (&lock);
  while (conns->len < n && g_cond_wait_until (&cond, &lock, end));
  ok = conns->len >= n;
  g_mutex_unlock (&lock);
  return ok;
}

static gboolean
wait_closed (guint conn)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  gboolean ok;

  g_mutex_lock (&lock);
  while (!((Conn *) g_ptr_array_index (conns, conn))->closed &&
      g_cond_wait_until (&cond, &lock, end));
  ok = ((Conn *) g_ptr_array_index (conns, conn))->closed;
  g_mutex_unlock (&lock);
  return ok;
}

/* The name of event @text ({"event": {NAME: ...}}), or NULL */
static gchar *
event_name (const gchar * text)
{
  JsonNode *node = parse_json (text);
  JsonObject *ev = jobj (json_node_get_object (node), "event");
  GList *names = ev ? json_object_get_members (ev) : NULL;
  gchar *name = names ? g_strdup (names->data) : NULL;

  g_list_free (names);
  json_node_unref (node);
  return name;
}

/* The names of the events sent on @conn so far, comma-separated
 * (consecutive audioInput events as one "audioInput*") */
static gchar *
sent_names (guint conn)
{
  GString *out = g_string_new (NULL);
  gchar *last = NULL;
  GPtrArray *sent;
  guint i;

  g_mutex_lock (&lock);
  sent = ((Conn *) g_ptr_array_index (conns, conn))->sent;
  for (i = 0; i < sent->len; i++) {
    gchar *name = event_name (g_ptr_array_index (sent, i));

    if (g_strcmp0 (name, "audioInput") == 0 &&
        g_strcmp0 (last, "audioInput") == 0) {
      g_free (name);
      continue;
    }
    g_string_append_printf (out, "%s%s", out->len ? "," : "", name);
    if (g_strcmp0 (name, "audioInput") == 0)
      g_string_append_c (out, '*');
    g_free (last);
    last = name;
  }
  g_mutex_unlock (&lock);
  g_free (last);
  return g_string_free (out, FALSE);
}

/* Index of the @nth event named @name sent on @conn from @from on,
 * waiting for it; -1 if it does not come */
static gint
wait_sent (guint conn, guint from, const gchar * name, guint nth)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  guint i = from, seen = 0;
  gint found = -1;

  g_mutex_lock (&lock);
  while (found < 0) {
    GPtrArray *sent = ((Conn *) g_ptr_array_index (conns, conn))->sent;

    for (; i < sent->len && found < 0; i++) {
      gchar *n = event_name (g_ptr_array_index (sent, i));

      if (g_strcmp0 (n, name) == 0 && seen++ == nth)
        found = i;
      g_free (n);
    }
    if (found < 0 && !g_cond_wait_until (&cond, &lock, end))
      break;
  }
  g_mutex_unlock (&lock);
  return found;
}

/* How many events named @name were sent on @conn so far */
static guint
count_sent (guint conn, const gchar * name)
{
  GPtrArray *sent;
  guint i, n = 0;

  g_mutex_lock (&lock);
  sent = ((Conn *) g_ptr_array_index (conns, conn))->sent;
  for (i = 0; i < sent->len; i++) {
    gchar *e = event_name (g_ptr_array_index (sent, i));

    n += g_strcmp0 (e, name) == 0;
    g_free (e);
  }
  g_mutex_unlock (&lock);
  return n;
}

/* Event @i of @conn: its body (json_node_unref the returned root) */
static JsonObject *
sent_body (guint conn, gint i, JsonNode ** root)
{
  gchar *text, *name;
  JsonObject *ev;

  fail_unless (i >= 0, "the event was not sent");
  g_mutex_lock (&lock);
  while (((Conn *) g_ptr_array_index (conns, conn))->sent->len <= (guint) i)
    if (!g_cond_wait_until (&cond, &lock, g_get_monotonic_time () +
            WAIT_MS * G_TIME_SPAN_MILLISECOND)) {
      g_mutex_unlock (&lock);
      fail ("event %d of connection %u was not sent", i, conn);
    }
  text = g_strdup (g_ptr_array_index (((Conn *) g_ptr_array_index (conns,
              conn))->sent, i));
  g_mutex_unlock (&lock);
  *root = parse_json (text);
  name = event_name (text);
  ev = jobj (json_node_get_object (*root), "event");
  g_free (text);
  ev = jobj (ev, name);
  g_free (name);
  return ev;
}

static guint
n_sent (guint conn)
{
  guint n;

  g_mutex_lock (&lock);
  n = ((Conn *) g_ptr_array_index (conns, conn))->sent->len;
  g_mutex_unlock (&lock);
  return n;
}

/* ------------------------------------------------------------------------
 * Server events (§15 of the protocol notes)
 * ------------------------------------------------------------------------ */

#define EV(name, body) "{\"event\":{\"" name "\":{" body "}}}"
#define IDS "\"sessionId\":\"s-1\",\"promptName\":\"p-1\",\"completionId\":\"k-1\","

static gchar *
ev_start (const gchar * id, const gchar * type, const gchar * role,
    const gchar * stage)
{
  if (stage)
    return g_strdup_printf (EV ("contentStart", IDS "\"contentId\":\"%s\","
            "\"type\":\"%s\",\"role\":\"%s\",\"additionalModelFields\":"
            "\"{\\\"generationStage\\\":\\\"%s\\\"}\""), id, type, role,
        stage);
  return g_strdup_printf (EV ("contentStart", IDS "\"contentId\":\"%s\","
          "\"type\":\"%s\",\"role\":\"%s\""), id, type, role);
}

static gchar *
ev_text (const gchar * id, const gchar * role, const gchar * text)
{
  return g_strdup_printf (EV ("textOutput", IDS "\"contentId\":\"%s\","
          "\"role\":\"%s\",\"content\":\"%s\""), id, role, text);
}

static gchar *
ev_end (const gchar * id, const gchar * type, const gchar * reason)
{
  return g_strdup_printf (EV ("contentEnd", IDS "\"contentId\":\"%s\","
          "\"type\":\"%s\",\"stopReason\":\"%s\""), id, type, reason);
}

static gchar *
ev_audio (const gchar * id, GBytes * pcm)
{
  gchar *b64 = g_base64_encode (g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm));
  gchar *ev = g_strdup_printf (EV ("audioOutput", IDS "\"contentId\":\"%s\","
          "\"content\":\"%s\""), id, b64);

  g_free (b64);
  return ev;
}

/* A list of events to inject, freed with the test's lines */
static void
lines_inject (guint conn, GPtrArray * lines)
{
  g_ptr_array_add (lines, NULL);
  inject_v (conn, (const gchar * const *) lines->pdata);
  g_ptr_array_unref (lines);
}

static GPtrArray *
lines_new (void)
{
  return g_ptr_array_new_with_free_func (g_free);
}

/* The user's turn: ASR text @text in block @id */
static void
add_user_turn (GPtrArray * l, const gchar * id, const gchar * text)
{
  g_ptr_array_add (l, ev_start (id, "TEXT", "USER", "FINAL"));
  g_ptr_array_add (l, ev_text (id, "USER", text));
  g_ptr_array_add (l, ev_end (id, "TEXT", "END_TURN"));
}

/* One sentence of the answer: SPECULATIVE text, audio, FINAL text; the
 * last one ends the turn */
static void
add_sentence (GPtrArray * l, guint n, const gchar * text, GBytes * pcm,
    gboolean last)
{
  gchar *spec = g_strdup_printf ("a-%u-s", n), *aud =
      g_strdup_printf ("a-%u-a", n), *fin = g_strdup_printf ("a-%u-f", n);

  g_ptr_array_add (l, ev_start (spec, "TEXT", "ASSISTANT", "SPECULATIVE"));
  g_ptr_array_add (l, ev_text (spec, "ASSISTANT", text));
  g_ptr_array_add (l, ev_end (spec, "TEXT", "PARTIAL_TURN"));
  g_ptr_array_add (l, ev_start (aud, "AUDIO", "ASSISTANT", NULL));
  if (pcm)
    g_ptr_array_add (l, ev_audio (aud, pcm));
  g_ptr_array_add (l, ev_end (aud, "AUDIO", last ? "END_TURN" :
          "PARTIAL_TURN"));
  g_ptr_array_add (l, ev_start (fin, "TEXT", "ASSISTANT", "FINAL"));
  g_ptr_array_add (l, ev_text (fin, "ASSISTANT", text));
  g_ptr_array_add (l, ev_end (fin, "TEXT", last ? "END_TURN" :
          "PARTIAL_TURN"));
  g_free (spec);
  g_free (aud);
  g_free (fin);
}

/* ------------------------------------------------------------------------
 * Sessions
 * ------------------------------------------------------------------------ */

static Session *
nova_session (const gchar * desc, gboolean with_keys)
{
  Session *s = session_create (desc, IN_RATE, 2, WAIT_MS);

  fake_install ();
  g_object_set (s->agent, "provider", "nova-sonic", "url", FAKE_URL, NULL);
  if (with_keys)
    g_object_set (s->agent, "access-key", KEY_ID, "secret-access-key",
        SECRET, NULL);
  session_take_tool_calls (s);
  return s;
}

static Session *
nova_session_new (const gchar * desc, const gchar * first_property, ...)
{
  Session *s = nova_session (desc, TRUE);
  va_list args;

  va_start (args, first_property);
  if (first_property)
    g_object_set_valist (G_OBJECT (s->agent), first_property, args);
  va_end (args);
  session_start (s);
  return s;
}

static const gchar *
msg_str (Session * s, gint i, const gchar * field)
{
  return gst_structure_get_string (session_msg (s, i), field);
}

static gint
msg_int (Session * s, gint i, const gchar * field)
{
  gint v = -1;

  fail_unless (gst_structure_get_int (session_msg (s, i), field, &v),
      "no %s", field);
  return v;
}

static const gchar *
wait_error (Session * s, gint * code)
{
  gint i = session_wait (s, 0, "error", NULL, NULL, WAIT_MS);
  const GstStructure *st;

  fail_unless (i >= 0, "no ERROR message");
  st = session_msg (s, i);
  *code = -1;
  gst_structure_get_int (st, "code", code);
  return gst_structure_get_string (st, "message");
}

/* ------------------------------------------------------------------------
 * Setup
 * ------------------------------------------------------------------------ */

/* The toolSpec entry of @name in promptStart @b */
static JsonObject *
find_tool (JsonObject * b, const gchar * name)
{
  JsonArray *tools = json_node_get_array (jget (b, "toolConfiguration.tools"));
  guint i;

  for (i = 0; i < json_array_get_length (tools); i++) {
    JsonObject *t = json_array_get_object_element (tools, i);

    if (g_strcmp0 (jstr (t, "toolSpec.name"), name) == 0)
      return t;
  }
  fail ("no tool %s", name);
  return NULL;
}

/* The events that open a stream, their order and fields; the audio block
 * opens with the first audio; the URL and credentials reach the
 * transport */
GST_START_TEST (test_setup_events)
{
  GBytes *question = session_make_pcm (IN_MS_BYTES (200), 1);
  JsonNode *root, *schema;
  JsonObject *b, *tool;
  const gchar *prompt;
  gchar *names;
  Session *s;
  gint i;

  s = nova_session_new (DESC_APPSRC, "tools", app_tools, "system-prompt",
      "You are a friendly assistant.", "session-token", TOKEN, "region",
      "us-west-2", NULL);
  session_wait_connected (s);
  fail_unless_equals_string (get_conn (0)->url, FAKE_URL DEFAULT_PATH);
  fail_unless_equals_string (get_conn (0)->key_id, KEY_ID);
  fail_unless_equals_string (get_conn (0)->secret, SECRET);
  fail_unless_equals_string (get_conn (0)->token, TOKEN);
  fail_unless_equals_string (get_conn (0)->region, "us-west-2");
  names = sent_names (0);
  fail_unless_equals_string (names,
      "sessionStart,promptStart,contentStart,textInput,contentEnd");
  g_free (names);

  b = sent_body (0, 0, &root);
  fail_unless_equals_int (jint (b, "inferenceConfiguration.maxTokens"), 1024);
  fail_unless (G_APPROX_VALUE (jdouble (b, "inferenceConfiguration.topP"),
          0.9, 1e-9));
  fail_unless (G_APPROX_VALUE (jdouble (b,
              "inferenceConfiguration.temperature"), 0.7, 1e-9));
  fail_unless_equals_string (jstr (b,
          "turnDetectionConfiguration.endpointingSensitivity"), "MEDIUM");
  json_node_unref (root);

  b = sent_body (0, 1, &root);
  prompt = jstr (b, "promptName");
  fail_unless (prompt && g_uuid_string_is_valid (prompt), "%s", prompt);
  fail_unless_equals_string (jstr (b, "textOutputConfiguration.mediaType"),
      "text/plain");
  fail_unless_equals_int (jint (b,
          "audioOutputConfiguration.sampleRateHertz"), 24000);
  fail_unless_equals_string (jstr (b, "audioOutputConfiguration.voiceId"),
      "matthew");
  fail_unless_equals_string (jstr (b, "audioOutputConfiguration.encoding"),
      "base64");
  fail_unless_equals_string (jstr (b,
          "toolUseOutputConfiguration.mediaType"), "application/json");
  tool = find_tool (b, "get_weather");
  fail_unless_equals_string (jstr (tool, "toolSpec.name"), "get_weather");
  /* the schema is a string holding JSON */
  fail_unless (jstr (tool, "toolSpec.inputSchema.json") != NULL);
  schema = parse_json (jstr (tool, "toolSpec.inputSchema.json"));
  fail_unless_equals_string (jstr (json_node_get_object (schema), "type"),
      "object");
  json_node_unref (schema);
  json_node_unref (root);

  b = sent_body (0, 2, &root);
  fail_unless_equals_string (jstr (b, "type"), "TEXT");
  fail_unless_equals_string (jstr (b, "role"), "SYSTEM");
  fail_if (jbool (b, "interactive"));
  json_node_unref (root);
  b = sent_body (0, 3, &root);
  fail_unless_equals_string (jstr (b, "content"),
      "You are a friendly assistant.");
  json_node_unref (root);

  /* the audio block opens with the first audio, once */
  session_push_bytes (s, question, 20);
  i = wait_sent (0, 0, "audioInput", 0);
  fail_unless (i > 0);
  names = sent_names (0);
  fail_unless_equals_string (names, "sessionStart,promptStart,contentStart,"
      "textInput,contentEnd,contentStart,audioInput*");
  g_free (names);
  b = sent_body (0, 5, &root);
  fail_unless_equals_string (jstr (b, "type"), "AUDIO");
  fail_unless_equals_string (jstr (b, "role"), "USER");
  fail_unless (jbool (b, "interactive"));
  fail_unless_equals_int (jint (b, "audioInputConfiguration.sampleRateHertz"),
      16000);
  json_node_unref (root);
  b = sent_body (0, 6, &root);
  fail_unless_equals_string (jstr (b, "contentName"), "audio-2");
  fail_unless (jstr (b, "content") != NULL);
  json_node_unref (root);

  session_free (s);
  g_bytes_unref (question);
}

GST_END_TEST;

/* provider-config and the model; no tools: no tool configuration; no
 * prompt: a default one; a URL with a path is used as it is */
GST_START_TEST (test_setup_config)
{
  GstStructure *pc = gst_structure_new ("config", "voice", G_TYPE_STRING,
      "tiffany", "max-tokens", G_TYPE_INT, 2048, "top-p", G_TYPE_DOUBLE, 0.5,
      "temperature", G_TYPE_DOUBLE, 0.2, "endpointing-sensitivity",
      G_TYPE_STRING, "high", NULL);
  JsonNode *root;
  JsonObject *b;
  Session *s;
  gint code;

  s = nova_session (DESC_NO_INPUT, TRUE);
  g_object_set (s->agent, "provider-config", pc, "model",
      "amazon.nova-2-5-sonic", "url", FAKE_URL "/custom/path",
      "builtin-tools", "", NULL);
  session_start (s);
  session_wait_connected (s);
  fail_unless_equals_string (get_conn (0)->url, FAKE_URL "/custom/path");
  /* no region anywhere: the default */
  fail_unless_equals_string (get_conn (0)->region, "us-east-1");
  b = sent_body (0, 0, &root);
  fail_unless_equals_int (jint (b, "inferenceConfiguration.maxTokens"), 2048);
  fail_unless (G_APPROX_VALUE (jdouble (b, "inferenceConfiguration.topP"),
          0.5, 1e-9));
  fail_unless_equals_string (jstr (b,
          "turnDetectionConfiguration.endpointingSensitivity"), "HIGH");
  json_node_unref (root);
  b = sent_body (0, 1, &root);
  fail_unless_equals_string (jstr (b, "audioOutputConfiguration.voiceId"),
      "tiffany");
  fail_if (jhas (b, "toolConfiguration"));
  fail_if (jhas (b, "toolUseOutputConfiguration"));
  json_node_unref (root);
  b = sent_body (0, 3, &root);
  fail_if (gst_bidi_json_get_string (b, "content") == NULL ||
      strlen (jstr (b, "content")) < 10, "no default system prompt");
  json_node_unref (root);
  session_free (s);

  /* the model id is encoded once in the default path */
  s = nova_session (DESC_NO_INPUT, TRUE);
  g_object_set (s->agent, "model", "amazon.nova-2-5-sonic", "url", FAKE_URL
      "/", NULL);
  session_start (s);
  session_wait_connected (s);
  fail_unless_equals_string (get_conn (0)->url, FAKE_URL
      "/model/amazon.nova-2-5-sonic/invoke-with-bidirectional-stream");
  session_free (s);

  /* plain http is refused, as is a bad choice */
  s = nova_session (DESC_NO_INPUT, TRUE);
  g_object_set (s->agent, "url", "http://127.0.0.1:9", NULL);
  fail_unless_equals_int (gst_element_set_state (s->pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  fail_unless (strstr (wait_error (s, &code), "https") != NULL);
  session_free (s);
  gst_structure_set (pc, "endpointing-sensitivity", G_TYPE_STRING, "fast",
      NULL);
  s = nova_session (DESC_NO_INPUT, TRUE);
  g_object_set (s->agent, "provider-config", pc, NULL);
  fail_unless_equals_int (gst_element_set_state (s->pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  fail_unless (strstr (wait_error (s, &code), "endpointing-sensitivity") !=
      NULL);
  fail_unless_equals_int (code, GST_RESOURCE_ERROR_SETTINGS);
  session_free (s);
  gst_structure_free (pc);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Turns
 * ------------------------------------------------------------------------ */

/* The golden exchange: the user's words, the answer's speculative and
 * final text and its audio, the response's start and completion */
GST_START_TEST (test_golden_exchange)
{
  GBytes *pcm1 = session_make_pcm (OUT_MS_BYTES (300), 2);
  GBytes *pcm2 = session_make_pcm (OUT_MS_BYTES (200), 3);
  GPtrArray *l = lines_new ();
  gchar *user, *assistant;
  gint i_start, i_done, i_final;
  Session *s;

  s = nova_session_new (DESC_NO_INPUT, NULL);
  session_wait_connected (s);
  g_ptr_array_add (l, g_strdup (EV ("completionStart", "\"sessionId\":"
              "\"s-1\",\"promptName\":\"p-1\",\"completionId\":\"k-1\"")));
  add_user_turn (l, "u-1", "tell me a story");
  add_sentence (l, 1, "Once upon a time, a fox found a key.", pcm1, FALSE);
  add_sentence (l, 2, "The end.", pcm2, TRUE);
  lines_inject (0, l);

  i_done = session_wait (s, 0, "bidi_response_complete", NULL, NULL,
      WAIT_MS);
  fail_unless (i_done >= 0);
  fail_unless_equals_string (msg_str (s, i_done, "stop_reason"), "complete");
  fail_unless_equals_int (session_count (s, "bidi_response_start", NULL,
          NULL), 1);
  i_start = session_wait (s, 0, "bidi_response_start", NULL, NULL, 0);
  fail_unless (i_start < i_done);
  user = session_transcripts (s, "user");
  fail_unless_equals_string (user, "tell me a story|tell me a story|partial\n"
      "tell me a story|tell me a story|final");
  assistant = session_transcripts (s, "assistant");
  fail_unless_equals_string (assistant,
      "Once upon a time, a fox found a key.|Once upon a time, a fox found a "
      "key.|partial\n"
      "The end.|Once upon a time, a fox found a key. The end.|partial\n"
      "Once upon a time, a fox found a key. The end.|Once upon a time, a fox "
      "found a key. The end.|final");
  g_free (user);
  g_free (assistant);
  /* the user's final words come before the answer starts */
  i_final = session_wait (s, 0, "bidi_transcript_stream", "is_final", "true",
      0);
  fail_unless (i_final < i_start);
  fail_unless (session_wait_answer (s, g_bytes_get_size (pcm1) +
          g_bytes_get_size (pcm2), WAIT_MS));
  session_free (s);
  g_bytes_unref (pcm1);
  g_bytes_unref (pcm2);
}

GST_END_TEST;

/* Typed text is an interactive USER text block; images are refused */
GST_START_TEST (test_text_and_image)
{
  GBytes *png = session_make_png ();
  JsonNode *root;
  JsonObject *b;
  gboolean ok = FALSE;
  Session *s;
  gint i;

  s = nova_session_new (DESC_NO_INPUT, NULL);
  session_wait_connected (s);
  g_signal_emit_by_name (s->agent, "send-text", "What time is it?", &ok);
  fail_unless (ok);
  i = wait_sent (0, 5, "contentStart", 0);
  b = sent_body (0, i, &root);
  fail_unless_equals_string (jstr (b, "type"), "TEXT");
  fail_unless_equals_string (jstr (b, "role"), "USER");
  fail_unless (jbool (b, "interactive"));
  json_node_unref (root);
  b = sent_body (0, i + 1, &root);
  fail_unless_equals_string (jstr (b, "content"), "What time is it?");
  json_node_unref (root);
  fail_unless (wait_sent (0, i + 2, "contentEnd", 0) == i + 2);

  g_signal_emit_by_name (s->agent, "send-image", png, "image/png", &ok);
  fail_unless (session_wait (s, 0, "bidi_error", "code", "bad_image",
          WAIT_MS) >= 0);
  /* nothing went for it */
  g_usleep (100 * 1000);
  fail_unless_equals_int (n_sent (0), i + 3);
  session_free (s);
  g_bytes_unref (png);
}

GST_END_TEST;

/* A tool call and its result: the TOOL block with the call's id, the
 * result as a string, three events back to back; a failed call's result
 * as {"error": ...}; arguments that are not an object are refused */
GST_START_TEST (test_tool_round_trip)
{
  const GstStructure *call;
  JsonNode *root, *content;
  JsonObject *b;
  gboolean ok = FALSE;
  Session *s;
  guint n, k;
  gint i;

  s = nova_session_new (DESC_NO_INPUT, "tools", app_tools, NULL);
  session_wait_connected (s);
  inject (0, EV ("contentStart", IDS "\"contentId\":\"t-1\",\"type\":"
          "\"TOOL\",\"role\":\"TOOL\""),
      EV ("toolUse", IDS "\"contentId\":\"t-1\",\"toolName\":"
          "\"get_weather\",\"toolUseId\":\"tu-77\",\"content\":"
          "\"{\\\"city\\\":\\\"Paris\\\"}\""),
      EV ("contentEnd", IDS "\"contentId\":\"t-1\",\"type\":\"TOOL\","
          "\"stopReason\":\"TOOL_USE\""));
  call = session_wait_tool_call (s, 0);
  fail_unless (call != NULL, "no tool-call signal");
  fail_unless_equals_string (gst_structure_get_string (call, "id"), "tu-77");
  fail_unless_equals_string (gst_structure_get_string (call, "name"),
      "get_weather");
  g_signal_emit_by_name (s->agent, "send-tool-result", "tu-77",
      "{\"temp_c\": 18}", "success", &ok);
  fail_unless (ok);
  i = wait_sent (0, 5, "contentStart", 0);
  b = sent_body (0, i, &root);
  fail_unless_equals_string (jstr (b, "type"), "TOOL");
  fail_unless_equals_string (jstr (b, "role"), "TOOL");
  fail_unless_equals_string (jstr (b,
          "toolResultInputConfiguration.toolUseId"), "tu-77");
  json_node_unref (root);
  fail_unless_equals_int (wait_sent (0, i, "toolResult", 0), i + 1);
  b = sent_body (0, i + 1, &root);
  content = parse_json (jstr (b, "content"));
  fail_unless_equals_int (jint (json_node_get_object (content), "temp_c"), 18);
  json_node_unref (content);
  json_node_unref (root);
  fail_unless_equals_int (wait_sent (0, i + 1, "contentEnd", 0), i + 2);

  /* the model goes on: a turn that only made a call ends as tool_use */
  inject (0, EV ("contentStart", IDS "\"contentId\":\"t-2\",\"type\":"
          "\"TOOL\",\"role\":\"TOOL\""),
      EV ("toolUse", IDS "\"contentId\":\"t-2\",\"toolName\":"
          "\"get_weather\",\"toolUseId\":\"tu-78\",\"content\":"
          "\"{\\\"city\\\":\\\"Lima\\\"}\""));
  fail_unless (session_wait_tool_call (s, 1) != NULL);
  g_signal_emit_by_name (s->agent, "send-tool-result", "tu-78",
      "{\"error\": \"the weather service is down\"}", "error", &ok);
  fail_unless (ok);
  i = wait_sent (0, i + 3, "toolResult", 0);
  b = sent_body (0, i, &root);
  content = parse_json (jstr (b, "content"));
  fail_unless_equals_string (jstr (json_node_get_object (content), "error"),
      "the weather service is down");
  json_node_unref (content);
  json_node_unref (root);

  /* arguments that are not an object: no call, an error back at once */
  n = n_sent (0);
  inject (0, EV ("toolUse", IDS "\"contentId\":\"t-3\",\"toolName\":"
          "\"get_weather\",\"toolUseId\":\"tu-79\",\"content\":\"[1,2]\""),
      EV ("toolUse", IDS "\"contentId\":\"t-4\",\"toolName\":"
          "\"get_weather\",\"toolUseId\":\"tu-80\",\"content\":{}"));
  fail_unless (session_wait (s, 0, "bidi_error", "code", "bad_message",
          WAIT_MS) >= 0);
  for (k = 0; k < 2; k++) {
    i = wait_sent (0, n, "contentStart", k);
    b = sent_body (0, i, &root);
    fail_unless_equals_string (jstr (b,
            "toolResultInputConfiguration.toolUseId"), k ? "tu-80" :
        "tu-79");
    json_node_unref (root);
    b = sent_body (0, i + 1, &root);
    content = parse_json (jstr (b, "content"));
    fail_unless (jstr (json_node_get_object (content), "error") != NULL);
    json_node_unref (content);
    json_node_unref (root);
  }
  fail_unless_equals_int (session_n_tool_calls (s), 2);
  session_free (s);
}

GST_END_TEST;

/* The result of a call the stream before made: the new stream does not
 * know the call, the model hears the result in words */
GST_START_TEST (test_tool_result_new_stream)
{
  GstStructure *pc = gst_structure_new ("config", "reconnect-delay-ms",
      G_TYPE_INT, 0, NULL);
  JsonNode *root;
  JsonObject *b;
  gboolean ok = FALSE;
  Session *s;
  gint i;

  s = nova_session_new (DESC_NO_INPUT, "tools", app_tools,
      "provider-config", pc, NULL);
  session_wait_connected (s);
  inject (0, EV ("toolUse", IDS "\"contentId\":\"t-1\",\"toolName\":"
          "\"get_weather\",\"toolUseId\":\"tu-90\",\"content\":"
          "\"{\\\"city\\\":\\\"Oslo\\\"}\""),
      "{\"exception\":{\"type\":\"modelTimeoutException\",\"message\":"
      "\"timed out\"}}");
  fail_unless (session_wait_tool_call (s, 0) != NULL);
  fail_unless (wait_conns (2));
  wait_open (1);
  fail_unless (session_wait (s, 0, "bidi_connection_restart", NULL, NULL,
          WAIT_MS) >= 0);
  g_signal_emit_by_name (s->agent, "send-tool-result", "tu-90",
      "{\"temp_c\": 3}", "success", &ok);
  fail_unless (ok);
  i = wait_sent (1, 5, "textInput", 0);
  b = sent_body (1, i, &root);
  fail_unless (strstr (jstr (b, "content"), "tu-90") != NULL &&
      strstr (jstr (b, "content"), "temp_c") != NULL, "%s",
      jstr (b, "content"));
  json_node_unref (root);
  b = sent_body (1, i - 1, &root);
  fail_unless_equals_string (jstr (b, "role"), "USER");
  fail_unless (jbool (b, "interactive"));
  json_node_unref (root);
  fail_unless_equals_int (count_sent (1, "toolResult"), 0);
  session_free (s);
  gst_structure_free (pc);
}

GST_END_TEST;

/* Barge-in, the marker first or INTERRUPTED first: one interruption (the
 * element flushes), the response complete as interrupted, what is left of
 * the turn dropped, the next turn plays */
static void
check_barge_in (gboolean marker_first)
{
  GBytes *pcm1 = session_make_pcm (OUT_MS_BYTES (300), 4);
  GBytes *late = session_make_pcm (OUT_MS_BYTES (200), 5);
  GBytes *pcm2 = session_make_pcm (OUT_MS_BYTES (200), 6);
  const gchar *marker = "{ \\\"interrupted\\\" : true }";
  GPtrArray *l = lines_new ();
  gchar *assistant;
  gsize at_flush;
  gint64 end;
  Session *s;
  gint i_int, i_done;

  s = nova_session_new (DESC_NO_INPUT, NULL);
  session_wait_connected (s);
  add_user_turn (l, "u-1", "tell me a story");
  g_ptr_array_add (l, ev_start ("a-1", "TEXT", "ASSISTANT", "SPECULATIVE"));
  g_ptr_array_add (l, ev_text ("a-1", "ASSISTANT", "Once upon a time."));
  g_ptr_array_add (l, ev_end ("a-1", "TEXT", "PARTIAL_TURN"));
  g_ptr_array_add (l, ev_start ("a-2", "AUDIO", "ASSISTANT", NULL));
  g_ptr_array_add (l, ev_audio ("a-2", pcm1));
  if (marker_first) {
    g_ptr_array_add (l, ev_end ("a-2", "AUDIO", "END_TURN"));
    g_ptr_array_add (l, ev_start ("a-3", "TEXT", "ASSISTANT", "FINAL"));
    g_ptr_array_add (l, ev_text ("a-3", "ASSISTANT", marker));
    g_ptr_array_add (l, ev_end ("a-3", "TEXT", "INTERRUPTED"));
  } else {
    g_ptr_array_add (l, ev_end ("a-2", "AUDIO", "INTERRUPTED"));
    g_ptr_array_add (l, ev_start ("a-3", "TEXT", "ASSISTANT", "FINAL"));
    g_ptr_array_add (l, ev_text ("a-3", "ASSISTANT", marker));
    g_ptr_array_add (l, ev_end ("a-3", "TEXT", "END_TURN"));
  }
  /* what still comes of the turn that was cut */
  g_ptr_array_add (l, ev_start ("a-4", "AUDIO", "ASSISTANT", NULL));
  g_ptr_array_add (l, ev_audio ("a-4", late));
  g_ptr_array_add (l, ev_end ("a-4", "AUDIO", "END_TURN"));
  lines_inject (0, l);

  i_done = session_wait (s, 0, "bidi_response_complete", NULL, NULL,
      WAIT_MS);
  fail_unless (i_done >= 0);
  fail_unless_equals_string (msg_str (s, i_done, "stop_reason"),
      "interrupted");
  i_int = session_wait (s, 0, "bidi_interruption", NULL, NULL, 0);
  fail_unless (i_int >= 0 && i_int < i_done);
  fail_unless_equals_string (msg_str (s, i_int, "reason"), "user_speech");

  /* the user's next turn is answered and plays */
  l = lines_new ();
  add_user_turn (l, "u-2", "what's the weather in Paris");
  add_sentence (l, 1, "It is sunny.", pcm2, TRUE);
  lines_inject (0, l);
  fail_unless (session_wait (s, i_done + 1, "bidi_response_complete",
          "stop_reason", "complete", WAIT_MS) > i_done);
  fail_unless_equals_int (session_count (s, "bidi_interruption", NULL, NULL),
      1);
  fail_unless_equals_int (session_count (s, "bidi_response_start", NULL,
          NULL), 2);
  /* the late audio never played: what follows the flush is the next
   * answer, and nothing else */
  end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&s->lock);
  while ((s->n_flush == 0 || s->answer->len - s->answer_at_flush <
          g_bytes_get_size (pcm2)) && g_get_monotonic_time () < end) {
    g_mutex_unlock (&s->lock);
    g_usleep (20 * 1000);
    g_mutex_lock (&s->lock);
  }
  fail_unless_equals_int (s->n_flush, 1);
  at_flush = s->answer_at_flush;
  g_mutex_unlock (&s->lock);
  session_assert_answer_tail (s, at_flush, pcm2);
  assistant = session_transcripts (s, "assistant");
  fail_if (strstr (assistant, "interrupted") != NULL, "%s", assistant);
  g_free (assistant);
  session_free (s);
  g_bytes_unref (pcm1);
  g_bytes_unref (late);
  g_bytes_unref (pcm2);
}

GST_START_TEST (test_barge_in_marker_first)
{
  check_barge_in (TRUE);
}

GST_END_TEST;

GST_START_TEST (test_barge_in_interrupted_first)
{
  check_barge_in (FALSE);
}

GST_END_TEST;

/* Usage: the increments, from the totals when there is no delta */
GST_START_TEST (test_usage_deltas)
{
  const GstStructure *audio, *text;
  Session *s;
  gint i;

  s = nova_session_new (DESC_NO_INPUT, NULL);
  session_wait_connected (s);
  inject (0, EV ("usageEvent", "\"details\":{\"delta\":{\"input\":"
          "{\"speechTokens\":150,\"textTokens\":0},\"output\":"
          "{\"speechTokens\":0,\"textTokens\":0}},\"total\":{\"input\":"
          "{\"speechTokens\":150,\"textTokens\":22},\"output\":"
          "{\"speechTokens\":0,\"textTokens\":0}}},\"totalInputTokens\":172,"
          "\"totalOutputTokens\":0,\"totalTokens\":172"),
      EV ("usageEvent", "\"details\":{\"total\":{\"input\":"
          "{\"speechTokens\":200,\"textTokens\":22},\"output\":"
          "{\"speechTokens\":40,\"textTokens\":5}}},\"totalInputTokens\":222,"
          "\"totalOutputTokens\":45,\"totalTokens\":267"),
      EV ("usageEvent", "\"totalInputTokens\":230,\"totalOutputTokens\":50,"
          "\"totalTokens\":280"));
  i = session_wait (s, 0, "bidi_usage", NULL, NULL, WAIT_MS);
  fail_unless (i >= 0);
  fail_unless_equals_int (msg_int (s, i, "inputTokens"), 150);
  fail_unless_equals_int (msg_int (s, i, "outputTokens"), 0);
  i = session_wait (s, i + 1, "bidi_usage", NULL, NULL, WAIT_MS);
  fail_unless (i >= 0);
  fail_unless_equals_int (msg_int (s, i, "inputTokens"), 50);
  fail_unless_equals_int (msg_int (s, i, "outputTokens"), 45);
  fail_unless_equals_int (msg_int (s, i, "totalTokens"), 95);
  audio = session_find_modality (session_msg (s, i), "audio");
  text = session_find_modality (session_msg (s, i), "text");
  fail_unless (audio && text);
  session_assert_tokens (audio, "input_tokens", 50);
  session_assert_tokens (audio, "output_tokens", 40);
  session_assert_tokens (text, "input_tokens", 0);
  session_assert_tokens (text, "output_tokens", 5);
  i = session_wait (s, i + 1, "bidi_usage", NULL, NULL, WAIT_MS);
  fail_unless (i >= 0);
  fail_unless_equals_int (msg_int (s, i, "inputTokens"), 8);
  fail_unless_equals_int (msg_int (s, i, "outputTokens"), 5);
  session_free (s);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * The stream's end, exceptions
 * ------------------------------------------------------------------------ */

/* How many audioInput events of @conn hold 100 ms of silence */
static guint
count_silent_chunks (guint conn)
{
  guint i, n = 0;

  for (i = 0; i < n_sent (conn); i++) {
    JsonNode *root;
    JsonObject *b = sent_body (conn, i, &root);
    const gchar *content = jstr (json_node_get_object (root),
        "event.audioInput.content");
    guchar *data;
    gsize len, j;

    (void) b;
    if (content) {
      data = g_base64_decode (content, &len);
      for (j = 0; j < len && data[j] == 0; j++);
      n += len == 3200 && j == len;
      g_free (data);
    }
    json_node_unref (root);
  }
  return n;
}

/* The end of the input: silence so that the last words are answered; then
 * the stream ends cleanly (contentEnd of the audio, promptEnd,
 * sessionEnd) before the connection closes */
GST_START_TEST (test_end_input)
{
  GBytes *question = session_make_pcm (IN_MS_BYTES (200), 7);
  GBytes *pcm = session_make_pcm (OUT_MS_BYTES (200), 8);
  GPtrArray *l;
  gchar *names;
  JsonNode *root;
  JsonObject *b;
  Session *s;
  gint64 end;
  guint zeros;

  s = nova_session_new (DESC_APPSRC, NULL);
  session_wait_connected (s);
  session_push_bytes (s, question, 20);
  fail_unless (wait_sent (0, 0, "audioInput", 0) > 0);
  session_end_input (s);
  /* 2.5 s of silence in 100 ms chunks (the question is never silent) */
  end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  while ((zeros = count_silent_chunks (0)) < 25 &&
      g_get_monotonic_time () < end)
    g_usleep (20 * 1000);
  fail_unless_equals_int (zeros, 25);
  l = lines_new ();
  add_user_turn (l, "u-1", "hello");
  add_sentence (l, 1, "Hi.", pcm, TRUE);
  lines_inject (0, l);
  fail_unless (session_wait (s, 0, "bidi_connection_close", "reason",
          "complete", WAIT_MS) >= 0);
  fail_unless (wait_closed (0));
  names = sent_names (0);
  fail_unless (g_str_has_suffix (names,
          "audioInput*,contentEnd,promptEnd,sessionEnd"), "%s", names);
  g_free (names);
  b = sent_body (0, n_sent (0) - 3, &root);
  fail_unless_equals_string (jstr (b, "contentName"), "audio-2");
  json_node_unref (root);
  session_free (s);
  g_bytes_unref (question);
  g_bytes_unref (pcm);
}

GST_END_TEST;

static const gchar history[] =
    "[{\"role\": \"assistant\", \"content\": [{\"text\": \"Welcome!\"}]},"
    " {\"role\": \"user\", \"content\": [{\"text\": \"My name is Ada.\"}]},"
    " {\"role\": \"assistant\", \"content\": [{\"toolUse\": {\"toolUseId\":"
    " \"t1\", \"name\": \"get_weather\", \"input\": {\"city\": \"Paris\"}}}]},"
    " {\"role\": \"user\", \"content\": [{\"toolResult\": {\"toolUseId\":"
    " \"t1\", \"status\": \"success\", \"content\": [{\"text\": \"sunny\"}]}}]},"
    " {\"role\": \"assistant\", \"content\": [{\"text\": \"Nice to meet you,"
    " Ada.\"}]}]";

/* The history of connection @conn, "ROLE:text|..." */
static gchar *
history_of (guint conn)
{
  GString *out = g_string_new (NULL);
  guint i, n = n_sent (conn);

  for (i = 5; i + 2 < n; i++) {
    JsonNode *root, *root2;
    JsonObject *b = sent_body (conn, i, &root);

    if (!g_str_has_prefix (GST_STR_NULL (jstr (b, "contentName")),
            "history-")) {
      json_node_unref (root);
      continue;
    }
    if (jhas (b, "role")) {
      fail_if (jbool (b, "interactive"));
      b = sent_body (conn, i + 1, &root2);
      g_string_append_printf (out, "%s%s:%s", out->len ? "|" : "",
          jstr (json_node_get_object (root), "event.contentStart.role"),
          jstr (b, "content"));
      json_node_unref (root2);
    }
    json_node_unref (root);
  }
  return g_string_free (out, FALSE);
}

/* Exceptions: a timeout (and 531) makes a new stream with the
 * conversation replayed; a throttling error is posted and the stream is
 * made again; another validation error ends the run with its message */
GST_START_TEST (test_exceptions)
{
  GstStructure *pc = gst_structure_new ("config", "reconnect-delay-ms",
      G_TYPE_INT, 0, NULL);
  gchar *names, *h;
  const gchar *text;
  Session *s;
  gint code, i;

  s = nova_session_new (DESC_NO_INPUT, "provider-config", pc, "messages",
      history, NULL);
  session_wait_connected (s);
  /* the history: the first USER, tool calls left out */
  h = history_of (0);
  fail_unless_equals_string (h, "USER:My name is Ada.|ASSISTANT:Nice to "
      "meet you, Ada.");
  g_free (h);

  inject (0, "{\"exception\":{\"type\":\"modelTimeoutException\","
      "\"message\":\"Model has timed out in processing the request\"}}");
  i = session_wait (s, 0, "bidi_connection_restart", "reason", "timeout",
      WAIT_MS);
  fail_unless (i >= 0);
  fail_unless (wait_closed (0));
  names = sent_names (0);
  fail_unless (g_str_has_suffix (names, "contentEnd,promptEnd,sessionEnd"),
      "%s", names);
  g_free (names);
  fail_unless (wait_conns (2));
  wait_open (1);
  fail_unless (wait_sent (1, 0, "contentStart", 2) > 0);
  h = history_of (1);
  fail_unless_equals_string (h, "USER:My name is Ada.|ASSISTANT:Nice to "
      "meet you, Ada.");
  g_free (h);
  fail_unless (session_wait (s, i, "bidi_connection_start", NULL, NULL,
          WAIT_MS) > i);

  inject (1, "{\"exception\":{\"type\":\"validationException\",\"message\":"
      "\"InternalErrorCode=531: no audio for too long\"}}");
  fail_unless (wait_conns (3));
  i = session_wait (s, i + 1, "bidi_connection_restart", NULL, NULL,
      WAIT_MS);
  fail_unless (i >= 0);
  fail_unless_equals_string (msg_str (s, i, "reason"), "timeout");

  inject (2, "{\"exception\":{\"type\":\"throttlingException\",\"message\":"
      "\"Too many requests\"}}");
  fail_unless (session_wait (s, 0, "bidi_error", "code",
          "throttlingException", WAIT_MS) >= 0);
  fail_unless (wait_conns (4));
  wait_open (3);
  fail_unless (session_wait (s, 0, "bidi_connection_restart", "reason",
          "connection_lost", WAIT_MS) >= 0);

  inject (3, "{\"exception\":{\"type\":\"validationException\",\"message\":"
      "\"Duplicate SYSTEM content.\"}}");
  text = wait_error (s, &code);
  fail_unless (strstr (text, "Duplicate SYSTEM content.") != NULL, "%s",
      text);
  fail_unless (session_wait (s, 0, "bidi_error", "code",
          "validationException", 0) >= 0);
  fail_unless_equals_int (n_conns (), 4);
  session_assert_no_secret (s, SECRET, SECRET_TAIL);
  session_free (s);
  gst_structure_free (pc);
}

GST_END_TEST;

/* The other retried exceptions, and a stream the server ended */
GST_START_TEST (test_retried_exceptions)
{
  const gchar *const types[] = { "serviceUnavailableException",
    "internalServerException", "modelStreamErrorException", NULL
  };
  GstStructure *pc = gst_structure_new ("config", "reconnect-delay-ms",
      G_TYPE_INT, 0, "reconnect-reset-ms", G_TYPE_INT, 0, NULL);
  Session *s;
  guint i;

  s = nova_session_new (DESC_NO_INPUT, "provider-config", pc, NULL);
  session_wait_connected (s);
  for (i = 0; types[i]; i++) {
    gchar *line = g_strdup_printf ("{\"exception\":{\"type\":\"%s\","
        "\"message\":\"try again\"}}", types[i]);

    inject (i, line);
    g_free (line);
    fail_unless (session_wait (s, 0, "bidi_error", "code", types[i],
            WAIT_MS) >= 0);
    fail_unless (wait_conns (i + 2));
    wait_open (i + 1);
  }
  inject (i, "#close");
  fail_unless (wait_conns (i + 2));
  fail_unless_equals_int (session_count (s, "error", NULL, NULL), 0);
  session_free (s);
  gst_structure_free (pc);
}

GST_END_TEST;

/* A stream on which the user says nothing for silence-restart-s is
 * renewed before Nova ends it; the user's words put it off */
GST_START_TEST (test_silence_renewal)
{
  GstStructure *pc = gst_structure_new ("config", "silence-restart-s",
      G_TYPE_INT, 1, NULL);
  GPtrArray *l = lines_new ();
  gint64 start;
  Session *s;
  gint i;

  s = nova_session_new (DESC_NO_INPUT, "provider-config", pc, NULL);
  session_wait_connected (s);
  start = g_get_monotonic_time ();
  /* words, and the answer the user waited for */
  add_user_turn (l, "u-1", "hello");
  add_sentence (l, 1, "Hi.", NULL, TRUE);
  lines_inject (0, l);
  i = session_wait (s, 0, "bidi_connection_restart", NULL, NULL, WAIT_MS);
  fail_unless (i >= 0, "the silent stream was not renewed");
  fail_unless_equals_string (msg_str (s, i, "reason"), "timeout");
  /* not before a second without words (a lower bound only) */
  fail_unless (g_get_monotonic_time () - start >= G_TIME_SPAN_SECOND);
  fail_unless (wait_closed (0));
  fail_unless_equals_int (n_conns (), 2);
  session_free (s);
  gst_structure_free (pc);
}

GST_END_TEST;

/* History limits: the oldest messages beyond history-max-bytes go, and
 * the first replayed is the user's */
GST_START_TEST (test_history_limits)
{
  GstStructure *pc = gst_structure_new ("config", "history-max-bytes",
      G_TYPE_INT, 40, NULL);
  GString *big = g_string_new ("[");
  gchar *h, *long_text;
  Session *s;
  guint i;

  /* user, assistant, user, assistant: the last two fit in 40 bytes */
  g_string_append (big, "{\"role\": \"user\", \"content\": [{\"text\": "
      "\"first question, long enough to go\"}]}, {\"role\": \"assistant\", "
      "\"content\": [{\"text\": \"first answer\"}]}, {\"role\": \"user\", "
      "\"content\": [{\"text\": \"second q\"}]}, {\"role\": \"assistant\", "
      "\"content\": [{\"text\": \"second answer\"}]}]");
  s = nova_session_new (DESC_NO_INPUT, "provider-config", pc, "messages",
      big->str, NULL);
  session_wait_connected (s);
  h = history_of (0);
  fail_unless_equals_string (h, "USER:second q|ASSISTANT:second answer");
  g_free (h);
  session_free (s);

  /* one message above 50 KiB is cut to it */
  long_text = g_strnfill (60 * 1024, 'a');
  g_string_assign (big, "[{\"role\": \"user\", \"content\": [{\"text\": \"");
  g_string_append (big, long_text);
  g_string_append (big, "\"}]}]");
  s = nova_session_new (DESC_NO_INPUT, "messages", big->str, NULL);
  session_wait_connected (s);
  for (i = 0; i < n_sent (0); i++) {
    JsonNode *root;
    JsonObject *b = sent_body (0, i, &root);

    if (g_strcmp0 (jstr (b, "contentName"), "history-2") == 0 &&
        jhas (b, "content"))
      fail_unless_equals_int (strlen (jstr (b, "content")), 50 * 1024);
    json_node_unref (root);
  }
  fail_unless (wait_sent (0, 0, "textInput", 1) > 0);
  session_free (s);
  g_free (long_text);
  g_string_free (big, TRUE);
  gst_structure_free (pc);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Credentials
 * ------------------------------------------------------------------------ */

/* No credentials anywhere (no variables, an empty HOME): a clear
 * NOT_AUTHORIZED error */
GST_START_TEST (test_missing_credentials)
{
  const gchar *text;
  Session *s;
  gint code;

  s = nova_session (DESC_NO_INPUT, FALSE);
  fail_unless_equals_int (gst_element_set_state (s->pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  text = wait_error (s, &code);
  fail_unless (code == GST_RESOURCE_ERROR_NOT_AUTHORIZED, "%d: %s", code,
      text);
  fail_unless (strstr (text, "AWS_ACCESS_KEY_ID") != NULL, "%s", text);
  fail_unless_equals_int (n_conns (), 0);
  session_free (s);

  /* a key id without its secret */
  s = nova_session (DESC_NO_INPUT, FALSE);
  g_object_set (s->agent, "access-key", KEY_ID, NULL);
  fail_unless_equals_int (gst_element_set_state (s->pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  text = wait_error (s, &code);
  fail_unless_equals_int (code, GST_RESOURCE_ERROR_SETTINGS);
  fail_unless (strstr (text, "secret-access-key") != NULL, "%s", text);
  session_free (s);
}

GST_END_TEST;

/* The properties win over the environment, which is read without them;
 * the region likewise */
GST_START_TEST (test_credential_precedence)
{
  Session *s;

  g_setenv ("AWS_ACCESS_KEY_ID", ENV_KEY_ID, TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", ENV_SECRET, TRUE);
  g_setenv ("AWS_REGION", "eu-west-1", TRUE);

  s = nova_session_new (DESC_NO_INPUT, "region", "ap-northeast-1", NULL);
  session_wait_connected (s);
  fail_unless_equals_string (get_conn (0)->key_id, KEY_ID);
  fail_unless_equals_string (get_conn (0)->secret, SECRET);
  fail_unless (get_conn (0)->token == NULL);
  fail_unless_equals_string (get_conn (0)->region, "ap-northeast-1");
  session_free (s);

  s = nova_session (DESC_NO_INPUT, FALSE);
  session_start (s);
  session_wait_connected (s);
  fail_unless_equals_string (get_conn (0)->key_id, ENV_KEY_ID);
  fail_unless_equals_string (get_conn (0)->secret, ENV_SECRET);
  fail_unless_equals_string (get_conn (0)->region, "eu-west-1");
  session_free (s);

  g_unsetenv ("AWS_ACCESS_KEY_ID");
  g_unsetenv ("AWS_SECRET_ACCESS_KEY");
  g_unsetenv ("AWS_REGION");
}

GST_END_TEST;

/* The secret and the token are never logged nor posted, through a whole
 * session and a failure */
GST_START_TEST (test_no_secret_in_logs)
{
  GBytes *pcm = session_make_pcm (OUT_MS_BYTES (200), 9);
  GPtrArray *l = lines_new ();
  guint n_lines = 0;
  gboolean seen;
  Session *s;
  gint code;

  bidi_secret_watch_start (SECRET, "*");
  s = nova_session_new (DESC_NO_INPUT, "session-token", TOKEN, NULL);
  session_wait_connected (s);
  add_user_turn (l, "u-1", "hello");
  add_sentence (l, 1, "Hi.", pcm, TRUE);
  lines_inject (0, l);
  fail_unless (session_wait (s, 0, "bidi_response_complete", NULL, NULL,
          WAIT_MS) >= 0);
  inject (0, "{\"exception\":{\"type\":\"accessDeniedException\","
      "\"message\":\"no access\"}}");
  wait_error (s, &code);
  session_assert_no_secret (s, SECRET, SECRET_TAIL);
  session_assert_no_secret (s, TOKEN, NULL);
  session_free (s);
  seen = bidi_secret_watch_stop (&n_lines);
  fail_unless (n_lines > 100, "only %u log lines", n_lines);
  fail_if (seen, "the secret key appeared in the debug log");
  g_bytes_unref (pcm);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Malformed events
 * ------------------------------------------------------------------------ */

/* Malformed events are survived; the session goes on */
GST_START_TEST (test_malformed_events)
{
  GBytes *pcm = session_make_pcm (OUT_MS_BYTES (200), 10);
  GPtrArray *l;
  Session *s;

  s = nova_session_new (DESC_NO_INPUT, NULL);
  session_wait_connected (s);
  inject (0, "{\"event\":{}}", "{\"event\":[]}", "{\"nothing\":1}",
      "{\"event\":{\"a\":{},\"b\":{}}}", "{\"event\":{\"textOutput\":1}}",
      EV ("textOutput", "\"content\":5"),
      EV ("contentStart", "\"contentId\":\"x\""),
      EV ("contentStart", "\"contentId\":\"x\",\"type\":\"TEXT\",\"role\":"
          "\"ASSISTANT\",\"additionalModelFields\":\"{not json\""),
      EV ("contentStart", "\"contentId\":\"x\",\"type\":\"TEXT\",\"role\":"
          "\"ASSISTANT\",\"additionalModelFields\":7"),
      EV ("contentEnd", "\"stopReason\":\"END_TURN\""),
      EV ("audioOutput", "\"content\":\"not base64!\""),
      EV ("audioOutput", "\"content\":\"AAA=\""),
      EV ("audioOutput", "{}"),
      EV ("toolUse", "\"toolName\":\"get_weather\""),
      EV ("usageEvent", "\"details\":7"),
      EV ("usageEvent", "\"totalInputTokens\":-5,\"totalOutputTokens\":"
          "\"x\""),
      EV ("completionEnd", ""), EV ("someNewEvent", "\"x\":1"),
      "{\"exception\":7}", "not json at all");
  fail_unless (session_wait (s, 0, "bidi_error", "code", "bad_message",
          WAIT_MS) >= 0);
  /* the turn that started is complete; a new one plays */
  l = lines_new ();
  add_user_turn (l, "u-1", "hello");
  add_sentence (l, 1, "Hi.", pcm, TRUE);
  lines_inject (0, l);
  fail_unless (session_wait_answer (s, g_bytes_get_size (pcm), WAIT_MS));
  fail_unless (session_wait (s, 0, "bidi_response_complete", "stop_reason",
          "complete", WAIT_MS) >= 0);
  fail_unless_equals_int (session_count (s, "error", NULL, NULL), 0);
  session_free (s);
  g_bytes_unref (pcm);
}

GST_END_TEST;

static gchar *tmp_home;

static void
remove_home (void)
{
  g_rmdir (tmp_home);
  g_free (tmp_home);
}

static void
clear_aws_env (void)
{
  const gchar *const vars[] = { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", NULL
  };
  guint i;

  for (i = 0; vars[i]; i++)
    g_unsetenv (vars[i]);
}

static Suite *
novasonic_events_suite (void)
{
  Suite *s = suite_create ("novasonic-events");
  TCase *tc = tcase_create ("events");
  const gchar *preload = g_getenv ("LD_PRELOAD");

  if (preload && strstr (preload, "vgpreload"))
    slow = 20;
  /* never real credentials: no variables, an empty home */
  clear_aws_env ();
  tmp_home = g_dir_make_tmp ("novasonic-events-XXXXXX", NULL);
  g_setenv ("HOME", tmp_home, TRUE);
  atexit (remove_home);

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, leftover_stop);
  tcase_set_timeout (tc, 60 * slow);
  tcase_add_test (tc, test_setup_events);
  tcase_add_test (tc, test_setup_config);
  tcase_add_test (tc, test_golden_exchange);
  tcase_add_test (tc, test_text_and_image);
  tcase_add_test (tc, test_tool_round_trip);
  tcase_add_test (tc, test_tool_result_new_stream);
  tcase_add_test (tc, test_barge_in_marker_first);
  tcase_add_test (tc, test_barge_in_interrupted_first);
  tcase_add_test (tc, test_usage_deltas);
  tcase_add_test (tc, test_end_input);
  tcase_add_test (tc, test_exceptions);
  tcase_add_test (tc, test_retried_exceptions);
  tcase_add_test (tc, test_silence_renewal);
  tcase_add_test (tc, test_history_limits);
  tcase_add_test (tc, test_missing_credentials);
  tcase_add_test (tc, test_credential_precedence);
  tcase_add_test (tc, test_no_secret_in_logs);
  tcase_add_test (tc, test_malformed_events);
  return s;
}

GST_CHECK_MAIN (novasonic_events);
