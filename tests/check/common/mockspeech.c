/* gst-bidi: a mock OpenAI-compatible transcription and speech server
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

#include <gst/gst.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "mockspeech.h"
#include "mockserver.h"

/* How one kind answers */
typedef struct
{
  guint status;
  gchar *content_type;
  GPtrArray *pieces;            /* GBytes *: the body, chunk by chunk */
  guint first_delay_ms;
  guint delay_ms;
  gboolean hang;
} Answer;

typedef struct
{
  gchar *path;
  GHashTable *fields;           /* name -> value */
  gint16 *samples;              /* ASR: the WAV's */
  gsize n_samples;
  guint rate;
} Recorded;

struct _MockSpeech
{
  MockServer *server;
  GMainContext *context;
  gchar *url;

  GMutex lock;
  Answer *answers[2];
  GPtrArray *requests[2];       /* Recorded * */
  guint n_completed[2];
  GString *problems;
  GCond cond;
};

/* An answer being written, attached to its message */
typedef struct
{
  MockSpeech *mock;
  MockSpeechKind kind;
  SoupServerMessage *msg;       /* not a reference: it owns us */
  Answer *answer;
  guint next;
  GSource *timeout;
  gboolean finished;
} Serve;

static void
answer_free (Answer * a)
{
  if (!a)
    return;
  g_free (a->content_type);
  g_ptr_array_unref (a->pieces);
  g_free (a);
}

static Answer *
answer_copy (const Answer * a)
{
  Answer *c = g_memdup2 (a, sizeof (Answer));
  guint i;

  c->content_type = g_strdup (a->content_type);
  c->pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (i = 0; i < a->pieces->len; i++)
    g_ptr_array_add (c->pieces, g_bytes_ref (g_ptr_array_index (a->pieces,
                i)));
  return c;
}

static Answer *
answer_new (guint status, const gchar * content_type)
{
  Answer *a = g_new0 (Answer, 1);

  a->status = status;
  a->content_type = g_strdup (content_type);
  a->pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  return a;
}

/* @data in @n pieces of about the same size (whole samples) */
static void
answer_split (Answer * a, GBytes * data, guint n)
{
  gsize size = g_bytes_get_size (data), per, off;

  n = MAX (n, 1);
  per = MAX (((size / 2 + n - 1) / n) * 2, 2);
  for (off = 0; off < size; off += per)
    g_ptr_array_add (a->pieces, g_bytes_new_from_bytes (data, off,
            MIN (per, size - off)));
}

static void
recorded_free (Recorded * r)
{
  g_free (r->path);
  g_hash_table_unref (r->fields);
  g_free (r->samples);
  g_free (r);
}

static void
problem (MockSpeech * mock, const gchar * format, ...) G_GNUC_PRINTF (2, 3);

static void
problem (MockSpeech * mock, const gchar * format, ...)
{
  va_list ap;

  g_mutex_lock (&mock->lock);
  va_start (ap, format);
  g_string_append_vprintf (mock->problems, format, ap);
  va_end (ap);
  g_string_append_c (mock->problems, '\n');
  g_mutex_unlock (&mock->lock);
}

/* ------------------------------------------------------------------------
 * Serving (mock thread)
 * ------------------------------------------------------------------------ */

static void
serve_free (Serve * serve)
{
  if (serve->timeout) {
    g_source_destroy (serve->timeout);
    g_source_unref (serve->timeout);
  }
  answer_free (serve->answer);
  g_free (serve);
}

static void
serve_finished (SoupServerMessage * msg, Serve * serve)
{
  (void) msg;
  serve->finished = TRUE;
  if (serve->timeout) {
    g_source_destroy (serve->timeout);
    g_clear_pointer (&serve->timeout, g_source_unref);
  }
}

static gboolean serve_next (gpointer user_data);

static void
serve_later (Serve * serve, guint delay_ms)
{
  serve->timeout = g_timeout_source_new (delay_ms);
  g_source_set_callback (serve->timeout, serve_next, serve, NULL);
  g_source_attach (serve->timeout, serve->mock->context);
}

/* The headers, then a piece of the body at each call */
static gboolean
serve_next (gpointer user_data)
{
  Serve *serve = user_data;
  Answer *a = serve->answer;
  SoupMessageBody *body = soup_server_message_get_response_body (serve->msg);

  g_clear_pointer (&serve->timeout, g_source_unref);
  if (serve->finished)
    return G_SOURCE_REMOVE;

  if (serve->next == 0) {
    SoupMessageHeaders *h = soup_server_message_get_response_headers
        (serve->msg);

    soup_server_message_set_status (serve->msg, a->status, NULL);
    soup_message_headers_set_content_type (h, a->content_type, NULL);
    soup_message_headers_set_encoding (h, SOUP_ENCODING_CHUNKED);
  }
  if (serve->next < a->pieces->len) {
    GBytes *piece = g_ptr_array_index (a->pieces, serve->next);
    soup_message_body_append_bytes (body, piece);
  }
  serve->next++;
  if (serve->next >= a->pieces->len) {
    soup_message_body_complete (body);
    g_mutex_lock (&serve->mock->lock);
    serve->mock->n_completed[serve->kind]++;
    g_mutex_unlock (&serve->mock->lock);
  } else {
    serve_later (serve, a->delay_ms);
  }
  soup_server_message_unpause (serve->msg);
  return G_SOURCE_REMOVE;
}

static void
serve (MockSpeech * mock, MockSpeechKind kind, SoupServerMessage * msg,
    Answer * a)
{
  Serve *s = g_new0 (Serve, 1);

  s->mock = mock;
  s->kind = kind;
  s->msg = msg;
  s->answer = a;
  g_object_set_data_full (G_OBJECT (msg), "mockspeech-serve", s,
      (GDestroyNotify) serve_free);
  g_signal_connect (msg, "finished", G_CALLBACK (serve_finished), s);
  soup_server_message_pause (msg);
  if (a->hang)
    return;
  serve_later (s, a->first_delay_ms);
}

static void
serve_error (SoupServerMessage * msg, guint status, const gchar * text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
      text, strlen (text));
}

/* ------------------------------------------------------------------------
 * Checking requests (mock thread)
 * ------------------------------------------------------------------------ */

/* The WAV of the form: a 16-bit mono PCM file whose sizes add up */
static gboolean
check_wav (MockSpeech * mock, Recorded * r, GBytes * file)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (file, &len);
  guint32 data_size;
  gsize i;

  if (len < 44 || memcmp (d, "RIFF", 4) || memcmp (d + 8, "WAVEfmt ", 8) ||
      memcmp (d + 36, "data", 4)) {
    problem (mock, "the file is not a WAV with a 44-byte header");
    return FALSE;
  }
  data_size = GST_READ_UINT32_LE (d + 40);
  if (GST_READ_UINT32_LE (d + 4) != len - 8 || data_size != len - 44 ||
      GST_READ_UINT32_LE (d + 16) != 16) {
    problem (mock, "the WAV's sizes are wrong");
    return FALSE;
  }
  r->rate = GST_READ_UINT32_LE (d + 24);
  if (GST_READ_UINT16_LE (d + 20) != 1 || GST_READ_UINT16_LE (d + 22) != 1 ||
      GST_READ_UINT16_LE (d + 34) != 16 || GST_READ_UINT16_LE (d + 32) != 2 ||
      GST_READ_UINT32_LE (d + 28) != r->rate * 2) {
    problem (mock, "the WAV is not 16-bit mono PCM");
    return FALSE;
  }
  r->n_samples = data_size / 2;
  r->samples = g_new (gint16, MAX (r->n_samples, 1));
  for (i = 0; i < r->n_samples; i++)
    r->samples[i] = (gint16) GST_READ_UINT16_LE (d + 44 + 2 * i);
  return TRUE;
}

static gboolean
check_form (MockSpeech * mock, SoupServerMessage * msg, GBytes * body,
    Recorded * r)
{
  SoupMultipart *form = soup_multipart_new_from_message
      (soup_server_message_get_request_headers (msg), body);
  gboolean have_file = FALSE, ok = TRUE;
  gint i;

  if (!form) {
    problem (mock, "transcription: not multipart/form-data");
    return FALSE;
  }
  for (i = 0; i < soup_multipart_get_length (form); i++) {
    SoupMessageHeaders *h;
    GBytes *part;
    GHashTable *params = NULL;
    const gchar *name, *filename;

    soup_multipart_get_part (form, i, &h, &part);
    if (!soup_message_headers_get_content_disposition (h, NULL, &params)) {
      problem (mock, "transcription: a part without Content-Disposition");
      ok = FALSE;
      continue;
    }
    name = g_hash_table_lookup (params, "name");
    filename = g_hash_table_lookup (params, "filename");
    if (g_strcmp0 (name, "file") == 0) {
      have_file = TRUE;
      if (!filename || !g_str_has_suffix (filename, ".wav"))
        problem (mock, "transcription: the file has no .wav name");
      ok = check_wav (mock, r, part) && ok && filename;
    } else if (name) {
      g_hash_table_replace (r->fields, g_strdup (name),
          g_strndup (g_bytes_get_data (part, NULL), g_bytes_get_size (part)));
    }
    g_hash_table_destroy (params);
  }
  soup_multipart_free (form);
  if (!have_file || !g_hash_table_lookup (r->fields, "model") ||
      g_strcmp0 (g_hash_table_lookup (r->fields, "response_format"),
          "json") != 0) {
    problem (mock, "transcription: file, model or response_format=json "
        "missing");
    ok = FALSE;
  }
  return ok;
}

static gboolean
check_speech (MockSpeech * mock, GBytes * body, Recorded * r)
{
  JsonParser *parser = json_parser_new ();
  static const gchar *names[] = { "model", "input", "voice",
    "response_format"
  };
  JsonObject *obj;
  gboolean ok = TRUE;
  guint i;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
          g_bytes_get_size (body), NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    problem (mock, "speech: the body is not a JSON object");
    g_object_unref (parser);
    return FALSE;
  }
  obj = json_node_get_object (json_parser_get_root (parser));
  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    JsonNode *n = json_object_get_member (obj, names[i]);

    if (!n || json_node_get_value_type (n) != G_TYPE_STRING) {
      problem (mock, "speech: no string \"%s\"", names[i]);
      ok = FALSE;
      continue;
    }
    g_hash_table_replace (r->fields, g_strdup (names[i]),
        g_strdup (json_node_get_string (n)));
  }
  if (ok && !g_str_equal (g_hash_table_lookup (r->fields, "response_format"),
          "pcm") && !g_str_equal (g_hash_table_lookup (r->fields,
              "response_format"), "wav")) {
    problem (mock, "speech: response_format is not pcm or wav");
    ok = FALSE;
  }
  g_object_unref (parser);
  return ok;
}

static void
handler (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  MockSpeech *mock = user_data;
  MockSpeechKind kind;
  Recorded *r;
  GBytes *body;
  Answer *a;
  gboolean ok;

  (void) server;
  (void) query;
  if (g_str_has_suffix (path, "/v1/audio/transcriptions"))
    kind = MOCK_SPEECH_ASR;
  else if (g_str_has_suffix (path, "/v1/audio/speech"))
    kind = MOCK_SPEECH_TTS;
  else {
    problem (mock, "request for %s", path);
    serve_error (msg, SOUP_STATUS_NOT_FOUND, "{\"error\": \"not found\"}");
    return;
  }
  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0) {
    problem (mock, "%s of %s", soup_server_message_get_method (msg), path);
    serve_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "{\"error\": \"POST\"}");
    return;
  }

  r = g_new0 (Recorded, 1);
  r->path = g_strdup (path);
  r->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* beside the fields: no form field or JSON member has this name */
  g_hash_table_replace (r->fields, g_strdup ("Authorization"),
      g_strdup (soup_message_headers_get_one
          (soup_server_message_get_request_headers (msg), "Authorization")));
  body = soup_message_body_flatten (soup_server_message_get_request_body
      (msg));
  ok = kind == MOCK_SPEECH_ASR ? check_form (mock, msg, body, r) :
      check_speech (mock, body, r);
  g_bytes_unref (body);

  g_mutex_lock (&mock->lock);
  g_ptr_array_add (mock->requests[kind], r);
  a = answer_copy (mock->answers[kind]);
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);

  if (!ok) {
    answer_free (a);
    serve_error (msg, SOUP_STATUS_BAD_REQUEST,
        "{\"error\": {\"message\": \"mockspeech: bad request\"}}");
    return;
  }
  serve (mock, kind, msg, a);
}

static void
setup_cb (SoupServer * server, gpointer user_data)
{
  soup_server_add_handler (server, NULL, handler, user_data, NULL);
}

/* ------------------------------------------------------------------------
 * API
 * ------------------------------------------------------------------------ */

static void
set_answer (MockSpeech * mock, MockSpeechKind kind, Answer * a)
{
  g_mutex_lock (&mock->lock);
  answer_free (mock->answers[kind]);
  mock->answers[kind] = a;
  g_mutex_unlock (&mock->lock);
}

MockSpeech *
mock_speech_new (void)
{
  MockSpeech *mock = g_new0 (MockSpeech, 1);
  gint16 tone[1600];
  GBytes *pcm;
  guint i;

  g_mutex_init (&mock->lock);
  g_cond_init (&mock->cond);
  mock->problems = g_string_new (NULL);
  for (i = 0; i < 2; i++)
    mock->requests[i] = g_ptr_array_new_with_free_func ((GDestroyNotify)
        recorded_free);
  mock_speech_set_transcript (mock, "hello", 0);
  for (i = 0; i < G_N_ELEMENTS (tone); i++)
    tone[i] = GINT16_TO_LE ((i % 40 < 20) ? 8000 : -8000);
  pcm = g_bytes_new (tone, sizeof (tone));
  mock_speech_set_pcm (mock, pcm, 1, 0);
  g_bytes_unref (pcm);

  mock->server = mock_server_new ("mockspeech", NULL, setup_cb, NULL, NULL,
      mock);
  mock->context = mock_server_context (mock->server);
  mock->url = g_strdup_printf ("http://127.0.0.1:%u",
      mock_server_port (mock->server));
  return mock;
}

void
mock_speech_free (MockSpeech * mock)
{
  guint i;

  if (!mock)
    return;
  mock_server_free (mock->server);
  for (i = 0; i < 2; i++) {
    answer_free (mock->answers[i]);
    g_ptr_array_unref (mock->requests[i]);
  }
  g_string_free (mock->problems, TRUE);
  g_free (mock->url);
  g_mutex_clear (&mock->lock);
  g_cond_clear (&mock->cond);
  g_free (mock);
}

const gchar *
mock_speech_url (MockSpeech * mock)
{
  return mock->url;
}

void
mock_speech_set_transcript (MockSpeech * mock, const gchar * text,
    guint delay_ms)
{
  Answer *a = answer_new (SOUP_STATUS_OK, "application/json");
  JsonObject *obj = json_object_new ();
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  gchar *json;

  json_object_set_string_member (obj, "text", text);
  json_node_take_object (root, obj);
  json = json_to_string (root, FALSE);
  json_node_unref (root);
  g_ptr_array_add (a->pieces, g_bytes_new_take (json, strlen (json)));
  a->first_delay_ms = delay_ms;
  set_answer (mock, MOCK_SPEECH_ASR, a);
}

void
mock_speech_set_pcm (MockSpeech * mock, GBytes * pcm, guint n_chunks,
    guint chunk_delay_ms)
{
  Answer *a = answer_new (SOUP_STATUS_OK, "audio/pcm");

  answer_split (a, pcm, n_chunks);
  a->delay_ms = chunk_delay_ms;
  set_answer (mock, MOCK_SPEECH_TTS, a);
}

void
mock_speech_set_wav (MockSpeech * mock, GBytes * pcm, guint rate,
    guint channels, guint bits, guint n_chunks, guint chunk_delay_ms)
{
  Answer *a = answer_new (SOUP_STATUS_OK, "audio/wav");
  guint8 h[44];

  memcpy (h, "RIFF", 4);
  GST_WRITE_UINT32_LE (h + 4, 0xFFFFFFFF);
  memcpy (h + 8, "WAVEfmt ", 8);
  GST_WRITE_UINT32_LE (h + 16, 16);
  GST_WRITE_UINT16_LE (h + 20, 1);
  GST_WRITE_UINT16_LE (h + 22, channels);
  GST_WRITE_UINT32_LE (h + 24, rate);
  GST_WRITE_UINT32_LE (h + 28, rate * channels * bits / 8);
  GST_WRITE_UINT16_LE (h + 32, channels * bits / 8);
  GST_WRITE_UINT16_LE (h + 34, bits);
  memcpy (h + 36, "data", 4);
  GST_WRITE_UINT32_LE (h + 40, 0xFFFFFFFF);
  /* the header in two pieces: the client must wait for all of it */
  g_ptr_array_add (a->pieces, g_bytes_new (h, 30));
  g_ptr_array_add (a->pieces, g_bytes_new (h + 30, 14));
  answer_split (a, pcm, n_chunks);
  a->delay_ms = chunk_delay_ms;
  set_answer (mock, MOCK_SPEECH_TTS, a);
}

void
mock_speech_set_answer (MockSpeech * mock, MockSpeechKind kind, guint status,
    const gchar * content_type, const gchar * body)
{
  Answer *a = answer_new (status, content_type);

  g_ptr_array_add (a->pieces, g_bytes_new (body, strlen (body)));
  set_answer (mock, kind, a);
}

void
mock_speech_set_hang (MockSpeech * mock, MockSpeechKind kind)
{
  Answer *a = answer_new (SOUP_STATUS_OK, "application/json");

  a->hang = TRUE;
  set_answer (mock, kind, a);
}

guint
mock_speech_n_requests (MockSpeech * mock, MockSpeechKind kind)
{
  guint n;

  g_mutex_lock (&mock->lock);
  n = mock->requests[kind]->len;
  g_mutex_unlock (&mock->lock);
  return n;
}

gboolean
mock_speech_wait_requests (MockSpeech * mock, MockSpeechKind kind, guint n,
    guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  gboolean ok;

  g_mutex_lock (&mock->lock);
  while (mock->requests[kind]->len < n &&
      g_cond_wait_until (&mock->cond, &mock->lock, end));
  ok = mock->requests[kind]->len >= n;
  g_mutex_unlock (&mock->lock);
  return ok;
}

guint
mock_speech_n_completed (MockSpeech * mock, MockSpeechKind kind)
{
  guint n;

  g_mutex_lock (&mock->lock);
  n = mock->n_completed[kind];
  g_mutex_unlock (&mock->lock);
  return n;
}

static Recorded *
get_recorded (MockSpeech * mock, MockSpeechKind kind, guint i)
{
  return i < mock->requests[kind]->len ?
      g_ptr_array_index (mock->requests[kind], i) : NULL;
}

gchar *
mock_speech_get_field (MockSpeech * mock, MockSpeechKind kind, guint i,
    const gchar * name)
{
  Recorded *r;
  gchar *v;

  g_mutex_lock (&mock->lock);
  r = get_recorded (mock, kind, i);
  v = r ? g_strdup (g_hash_table_lookup (r->fields, name)) : NULL;
  g_mutex_unlock (&mock->lock);
  return v;
}

gchar *
mock_speech_get_path (MockSpeech * mock, MockSpeechKind kind, guint i)
{
  Recorded *r;
  gchar *v;

  g_mutex_lock (&mock->lock);
  r = get_recorded (mock, kind, i);
  v = r ? g_strdup (r->path) : NULL;
  g_mutex_unlock (&mock->lock);
  return v;
}

gint16 *
mock_speech_get_audio (MockSpeech * mock, guint i, guint * rate,
    gsize * n_samples)
{
  Recorded *r;
  gint16 *v = NULL;

  g_mutex_lock (&mock->lock);
  r = get_recorded (mock, MOCK_SPEECH_ASR, i);
  if (r && r->samples) {
    v = g_memdup2 (r->samples, r->n_samples * 2);
    *rate = r->rate;
    *n_samples = r->n_samples;
  }
  g_mutex_unlock (&mock->lock);
  return v;
}

gchar *
mock_speech_problems (MockSpeech * mock)
{
  gchar *v;

  g_mutex_lock (&mock->lock);
  v = mock->problems->len ? g_strdup (mock->problems->str) : NULL;
  g_mutex_unlock (&mock->lock);
  return v;
}
