/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Blocking clients of OpenAI-compatible transcription and speech servers
 * for the local provider's worker threads (see gstbidiremote.h).
 *
 * libsoup runs a session's I/O on the thread-default context of the
 * thread that made it. Each client makes its own context, pushes it while
 * it works, and runs it until the operation in flight completes: every
 * asynchronous operation started here is waited for, so nothing calls
 * back into a request after it returned. A request's own GCancellable is
 * cancelled by the caller's (any thread), or by a timer on the client's
 * context when the server is too slow. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include <gst/bidi/gstbidijson.h>

#include "gstbidiremote.h"
#include "gstbidillm.h"
#include "gstbidirealtime.h"

GST_DEBUG_CATEGORY_STATIC (bidiremote_debug);
#define GST_CAT_DEFAULT bidiremote_debug

#define READ_SIZE 8192
#define MAX_JSON_BODY_SIZE (1024 * 1024)        /* a transcription */
#define MAX_ERROR_BODY_SIZE (64 * 1024)
/* of one sentence: ten minutes of 48 kHz audio */
#define MAX_AUDIO_BODY_SIZE (64 * 1024 * 1024)
#define MAX_WAV_HEADER_SIZE (64 * 1024)
#define MAX_TRANSCRIPT_SIZE 8192
#define ERROR_EXCERPT_CHARS 200
/* audio sent before the turn's onset, so that its first sound is whole */
#define ASR_LEAD_MS 200
#define MIN_RATE 8000
#define MAX_RATE 192000

static void
debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (bidiremote_debug, "bidiremote", 0,
        "local provider: transcription and speech servers");
    g_once_init_leave (&done, 1);
  }
}

/* ------------------------------------------------------------------------
 * Client: one server, one thread
 * ------------------------------------------------------------------------ */

typedef struct
{
  const gchar *what;            /* "transcription server" ... */
  GMainContext *context;
  SoupSession *session;
  GUri *uri;
  gchar *host;
  gchar *model;
  gchar *api_key;
  GTlsDatabase *ca_database;
  guint timeout_ms;
} Client;

static gboolean
client_init (Client * c, const gchar * what, const gchar * url_field,
    const gchar * suffix, const GstBidiRemoteParams * p, GError ** error)
{
  debug_init ();
  memset (c, 0, sizeof (*c));
  c->what = what;
  if (!(c->uri = gst_bidi_llm_endpoint (url_field, p->url, suffix, TRUE,
              error)))
    return FALSE;
  if (p->ssl_ca_file && *p->ssl_ca_file &&
      !(c->ca_database = gst_bidi_realtime_load_ca_file (p->ssl_ca_file,
              error)))
    return FALSE;
  c->host = g_strdup (g_uri_get_host (c->uri));
  c->model = g_strdup (p->model);
  c->api_key = (p->api_key && *p->api_key) ? g_strdup (p->api_key) : NULL;
  c->timeout_ms = p->timeout_ms;
  c->context = g_main_context_new ();
  g_main_context_push_thread_default (c->context);
  /* libsoup's own I/O timeout is only a safety net behind ours */
  c->session = gst_bidi_realtime_session_new (c->host,
      (p->timeout_ms + 999) / 1000 + 1);
  g_main_context_pop_thread_default (c->context);
  GST_INFO ("%s at %s://%s:%d%s, model %s", what, g_uri_get_scheme (c->uri),
      c->host, g_uri_get_port (c->uri), g_uri_get_path (c->uri), c->model);
  return TRUE;
}

static void
client_clear (Client * c)
{
  if (c->context) {
    guint i;

    g_main_context_push_thread_default (c->context);
    soup_session_abort (c->session);
    g_clear_object (&c->session);
    /* what closing the connections left to do, bounded */
    for (i = 0; i < 100 && g_main_context_iteration (c->context, FALSE); i++);
    g_main_context_pop_thread_default (c->context);
    g_main_context_unref (c->context);
  }
  g_clear_pointer (&c->uri, g_uri_unref);
  g_free (c->host);
  g_free (c->model);
  if (c->api_key) {
    memset (c->api_key, 0, strlen (c->api_key));
    g_free (c->api_key);
  }
  g_clear_object (&c->ca_database);
  memset (c, 0, sizeof (*c));
}

/* An excerpt of untrusted text for a message, without the key */
static gchar *
client_excerpt (Client * c, const gchar * data, gsize len)
{
  return gst_bidi_realtime_clean_text (data, len, c->api_key,
      ERROR_EXCERPT_CHARS);
}

/* ------------------------------------------------------------------------
 * Call: one request, waited for on the client's context
 * ------------------------------------------------------------------------ */

typedef struct
{
  Client *c;
  SoupMessage *msg;
  GInputStream *stream;
  GCancellable *cancellable;    /* this request's */
  GCancellable *parent;         /* the caller's */
  gulong parent_handler;
  gint64 deadline;              /* monotonic; 0: each wait gets timeout_ms */
  gboolean timed_out;
  GAsyncResult *result;         /* of the operation in flight, when done */
} Call;

static gboolean
cancel_in_context (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_REMOVE;
}

/* The caller cancelled, maybe from another thread: the request's own
 * cancellable is cancelled on the client's thread, where libsoup runs
 * (its handlers of "cancelled" then run there too). The source holds the
 * cancellable: it may run after the request is over, harmlessly. */
static void
parent_cancelled (GCancellable * parent, gpointer user_data)
{
  Call *call = user_data;
  GSource *idle = g_idle_source_new ();

  (void) parent;
  g_source_set_priority (idle, G_PRIORITY_HIGH);
  g_source_set_callback (idle, cancel_in_context,
      g_object_ref (call->cancellable), g_object_unref);
  g_source_attach (idle, call->c->context);
  g_source_unref (idle);
}

static void
call_init (Call * call, Client * c, GCancellable * parent, gboolean deadline)
{
  memset (call, 0, sizeof (*call));
  call->c = c;
  call->cancellable = g_cancellable_new ();
  if (deadline)
    call->deadline = g_get_monotonic_time () +
        (gint64) c->timeout_ms * G_TIME_SPAN_MILLISECOND;
  if (parent) {
    call->parent = g_object_ref (parent);
    /* (runs at once when the caller cancelled already) */
    call->parent_handler = g_cancellable_connect (parent,
        G_CALLBACK (parent_cancelled), call, NULL);
  }
}

static void
call_clear (Call * call)
{
  /* unref closes an unfinished body: the connection is dropped */
  g_clear_object (&call->stream);
  g_clear_object (&call->msg);
  if (call->parent) {
    g_cancellable_disconnect (call->parent, call->parent_handler);
    g_object_unref (call->parent);
  }
  g_clear_object (&call->cancellable);
}

static void
op_done (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Call *call = user_data;

  (void) source;
  call->result = g_object_ref (res);
}

static gboolean
on_timeout (gpointer user_data)
{
  Call *call = user_data;

  call->timed_out = TRUE;
  g_cancellable_cancel (call->cancellable);
  return G_SOURCE_REMOVE;
}

/* Runs the context until the operation in flight completes, at most as
 * long as the timeout allows (then it is cancelled, and still waited
 * for). (transfer full) */
static GAsyncResult *
call_wait (Call * call)
{
  gint64 wait_ms = call->c->timeout_ms;
  GSource *timer;
  GAsyncResult *res;

  if (call->deadline)
    wait_ms = MAX (0, (call->deadline - g_get_monotonic_time ()) / 1000);
  timer = g_timeout_source_new (wait_ms);
  g_source_set_callback (timer, on_timeout, call, NULL);
  g_source_attach (timer, call->c->context);
  while (!call->result)
    g_main_context_iteration (call->c->context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  res = call->result;
  call->result = NULL;
  return res;
}

/* @err (transfer full) as the error of the call */
static void
call_fail (Call * call, GError * err, const gchar * doing, GError ** error)
{
  Client *c = call->c;

  if (call->timed_out) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
        "the %s at %s did not answer within %u ms", c->what, c->host,
        c->timeout_ms);
  } else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
  } else {
    GString *msg = g_string_new (err->message);

    gst_bidi_realtime_scrub_secret (msg, c->api_key);
    g_set_error (error, err->domain, err->code, "could not %s the %s at %s: "
        "%s", doing, c->what, c->host, msg->str);
    g_string_free (msg, TRUE);
  }
  g_error_free (err);
}

/* One read of the body: bytes read, 0 at the end, -1 with @error */
static gssize
call_read (Call * call, guint8 * buf, gsize size, GError ** error)
{
  GAsyncResult *res;
  GError *err = NULL;
  gssize n;

  g_input_stream_read_async (call->stream, buf, size, G_PRIORITY_DEFAULT,
      call->cancellable, op_done, call);
  res = call_wait (call);
  n = g_input_stream_read_finish (call->stream, res, &err);
  g_object_unref (res);
  if (n < 0)
    call_fail (call, err, "read the answer of", error);
  return n;
}

/* The body, or up to @max bytes of it (then *@truncated). NULL with
 * @error. */
static GByteArray *
call_read_all (Call * call, gsize max, gboolean * truncated, GError ** error)
{
  GByteArray *body = g_byte_array_new ();
  guint8 buf[READ_SIZE];
  gssize n;

  *truncated = FALSE;
  while ((n = call_read (call, buf, sizeof (buf), error)) > 0) {
    if (body->len + (gsize) n > max) {
      g_byte_array_append (body, buf, max - body->len);
      *truncated = TRUE;
      break;
    }
    g_byte_array_append (body, buf, n);
  }
  if (n < 0) {
    g_byte_array_unref (body);
    return NULL;
  }
  return body;
}

/* An HTTP error answer as an error: the server's message when it gave
 * one */
static void
call_http_error (Call * call, guint status, GError ** error)
{
  gboolean truncated;
  GByteArray *body = call_read_all (call, MAX_ERROR_BODY_SIZE, &truncated,
      NULL);
  JsonObject *root = NULL;
  const gchar *said = NULL;
  gchar *excerpt;

  if (body && (root = gst_bidi_json_parse_object ((const gchar *) body->data,
              body->len, MAX_ERROR_BODY_SIZE,
              GST_BIDI_REALTIME_MAX_JSON_DEPTH, NULL)))
    said = gst_bidi_json_error_message (root);
  if (said)
    excerpt = client_excerpt (call->c, said, strlen (said));
  else
    excerpt = client_excerpt (call->c, body ? (const gchar *) body->data : "",
        body ? body->len : 0);
  g_set_error (error, GST_RESOURCE_ERROR, (status == 401 || status == 403) ?
      GST_RESOURCE_ERROR_NOT_AUTHORIZED : GST_RESOURCE_ERROR_READ,
      "the %s at %s answered HTTP %u %s%s%s", call->c->what, call->c->host,
      status, soup_status_get_phrase (status), *excerpt ? ": " : "", excerpt);
  g_free (excerpt);
  if (root)
    json_object_unref (root);
  if (body)
    g_byte_array_unref (body);
}

/* POSTs @body (@content_type NULL: the headers have it already) and waits
 * for the answer's headers; FALSE with @error unless the status is 2xx. */
static gboolean
call_send (Call * call, GBytes * body, const gchar * content_type,
    GError ** error)
{
  Client *c = call->c;
  GAsyncResult *res;
  GError *err = NULL;
  guint status;

  soup_message_set_request_body_from_bytes (call->msg, content_type, body);
  /* A redirect could take the key elsewhere, or to plain http */
  soup_message_add_flags (call->msg, SOUP_MESSAGE_NO_REDIRECT);
  if (c->api_key) {
    gchar *auth = g_strconcat ("Bearer ", c->api_key, NULL);
    soup_message_headers_replace (soup_message_get_request_headers
        (call->msg), "Authorization", auth);
    memset (auth, 0, strlen (auth));
    g_free (auth);
  }
  gst_bidi_realtime_message_setup_tls (call->msg, c->ca_database, TRUE);

  soup_session_send_async (c->session, call->msg, G_PRIORITY_DEFAULT,
      call->cancellable, op_done, call);
  res = call_wait (call);
  call->stream = soup_session_send_finish (c->session, res, &err);
  g_object_unref (res);
  if (!call->stream) {
    call_fail (call, err, "reach", error);
    return FALSE;
  }
  status = soup_message_get_status (call->msg);
  GST_DEBUG ("%s: HTTP %u, %s", c->what, status,
      GST_STR_NULL (soup_message_headers_get_content_type
          (soup_message_get_response_headers (call->msg), NULL)));
  if (status >= 200 && status < 300)
    return TRUE;
  call_http_error (call, status, error);
  return FALSE;
}

/* ------------------------------------------------------------------------
 * Transcription
 * ------------------------------------------------------------------------ */

struct _GstBidiRemoteAsr
{
  Client client;
  guint rate;
  gsize keep;                   /* samples */
  GArray *recent;               /* gint16, the last samples recorded */
  guint64 recent_start;         /* index of recent[0] among all samples */
};

gboolean
gst_bidi_remote_check_url (const gchar * what, const gchar * url,
    GError ** error)
{
  GUri *uri = gst_bidi_llm_endpoint (what, url, "", FALSE, error);

  if (!uri)
    return FALSE;
  g_uri_unref (uri);
  return TRUE;
}

GstBidiRemoteAsr *
gst_bidi_remote_asr_new (const GstBidiRemoteParams * params, guint rate,
    guint keep_ms, GError ** error)
{
  GstBidiRemoteAsr *asr = g_new0 (GstBidiRemoteAsr, 1);

  if (!client_init (&asr->client, "transcription server", "asr-url",
          "/audio/transcriptions", params, error)) {
    gst_bidi_remote_asr_free (asr);
    return NULL;
  }
  asr->rate = rate;
  asr->keep = (gsize) rate * keep_ms / 1000;
  asr->recent = g_array_new (FALSE, FALSE, sizeof (gint16));
  return asr;
}

void
gst_bidi_remote_asr_free (GstBidiRemoteAsr * asr)
{
  if (!asr)
    return;
  client_clear (&asr->client);
  if (asr->recent)
    g_array_unref (asr->recent);
  g_free (asr);
}

void
gst_bidi_remote_asr_record (GstBidiRemoteAsr * asr, const gint16 * samples,
    gsize n)
{
  g_array_append_vals (asr->recent, samples, n);
  /* trimmed in batches: memmove once per keep samples */
  if (asr->recent->len > 2 * asr->keep) {
    gsize drop = asr->recent->len - asr->keep;

    g_array_remove_range (asr->recent, 0, drop);
    asr->recent_start += drop;
  }
}

/* A 16-bit mono WAV file of @n @samples */
static GBytes *
make_wav (const gint16 * samples, gsize n, guint rate)
{
  gsize size = 44 + n * 2, i;
  guint8 *d = g_malloc (size);

  memcpy (d, "RIFF", 4);
  GST_WRITE_UINT32_LE (d + 4, size - 8);
  memcpy (d + 8, "WAVEfmt ", 8);
  GST_WRITE_UINT32_LE (d + 16, 16);
  GST_WRITE_UINT16_LE (d + 20, 1);      /* PCM */
  GST_WRITE_UINT16_LE (d + 22, 1);      /* mono */
  GST_WRITE_UINT32_LE (d + 24, rate);
  GST_WRITE_UINT32_LE (d + 28, rate * 2);
  GST_WRITE_UINT16_LE (d + 32, 2);
  GST_WRITE_UINT16_LE (d + 34, 16);
  memcpy (d + 36, "data", 4);
  GST_WRITE_UINT32_LE (d + 40, n * 2);
  for (i = 0; i < n; i++)
    GST_WRITE_UINT16_LE (d + 44 + 2 * i, (guint16) samples[i]);
  return g_bytes_new_take (d, size);
}

/* The words of a transcription: trimmed, and nothing for a tag that
 * says there were none ("[BLANK_AUDIO]", "(silence)") */
static gchar *
clean_transcript (const gchar * text)
{
  gchar *t = g_strstrip (gst_bidi_realtime_make_valid (text,
          MAX_TRANSCRIPT_SIZE));
  gsize len = strlen (t);

  if (len >= 2 && ((t[0] == '[' && t[len - 1] == ']') ||
          (t[0] == '(' && t[len - 1] == ')')) &&
      strpbrk (t + 1, "[]()") == t + len - 1)
    t[0] = '\0';
  return t;
}

static gchar *
parse_transcription (Client * c, GByteArray * body, GError ** error)
{
  GError *err = NULL;
  JsonObject *root;
  const gchar *text;
  gchar *ret;

  root = gst_bidi_json_parse_object ((const gchar *) body->data, body->len,
      MAX_JSON_BODY_SIZE, GST_BIDI_REALTIME_MAX_JSON_DEPTH, &err);
  if (!root) {
    gchar *excerpt = client_excerpt (c, (const gchar *) body->data, body->len);

    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "the %s at %s did not answer JSON (%s): %s", c->what, c->host,
        err->message, excerpt);
    g_free (excerpt);
    g_error_free (err);
    return NULL;
  }
  if (!(text = gst_bidi_json_get_string (root, "text"))) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "the %s at %s answered without a \"text\"", c->what, c->host);
    json_object_unref (root);
    return NULL;
  }
  ret = clean_transcript (text);
  json_object_unref (root);
  return ret;
}

gchar *
gst_bidi_remote_asr_transcribe (GstBidiRemoteAsr * asr, guint64 start,
    guint64 end, GCancellable * cancellable, GError ** error)
{
  Client *c = &asr->client;
  guint64 lead = (guint64) asr->rate * ASR_LEAD_MS / 1000;
  guint64 have_end = asr->recent_start + asr->recent->len;
  SoupMultipart *form;
  GBytes *wav, *body;
  GByteArray *answer;
  gboolean truncated;
  gchar *text = NULL;
  Call call;

  start = MAX (start > lead ? start - lead : 0, asr->recent_start);
  end = MIN (end, have_end);
  if (end <= start) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
        "no audio recorded for the turn");
    return NULL;
  }
  wav = make_wav ((const gint16 *) asr->recent->data +
      (start - asr->recent_start), end - start, asr->rate);

  form = soup_multipart_new (SOUP_FORM_MIME_TYPE_MULTIPART);
  soup_multipart_append_form_file (form, "file", "turn.wav", "audio/wav", wav);
  soup_multipart_append_form_string (form, "model", c->model);
  soup_multipart_append_form_string (form, "response_format", "json");
  g_bytes_unref (wav);

  g_main_context_push_thread_default (c->context);
  call_init (&call, c, cancellable, TRUE);
  call.msg = soup_message_new_from_uri (SOUP_METHOD_POST, c->uri);
  soup_multipart_to_message (form, soup_message_get_request_headers
      (call.msg), &body);
  soup_multipart_free (form);
  GST_DEBUG ("transcribing %" G_GUINT64_FORMAT " ms of audio",
      (end - start) * 1000 / asr->rate);

  if (call_send (&call, body, NULL, error) &&
      (answer = call_read_all (&call, MAX_JSON_BODY_SIZE, &truncated,
              error))) {
    if (truncated)
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
          "the answer of the %s at %s is too large", c->what, c->host);
    else
      text = parse_transcription (c, answer, error);
    g_byte_array_unref (answer);
  }
  g_bytes_unref (body);
  call_clear (&call);
  g_main_context_pop_thread_default (c->context);
  return text;
}

/* ------------------------------------------------------------------------
 * Speech
 * ------------------------------------------------------------------------ */

struct _GstBidiRemoteTts
{
  Client client;
  gchar *voice;
  gboolean wav;
  guint pcm_rate;
  guint out_rate;
};

GstBidiRemoteTts *
gst_bidi_remote_tts_new (const GstBidiRemoteParams * params,
    const gchar * voice, const gchar * format, guint pcm_rate,
    guint out_rate, GError ** error)
{
  GstBidiRemoteTts *tts = g_new0 (GstBidiRemoteTts, 1);

  if (!client_init (&tts->client, "speech server", "tts-url",
          "/audio/speech", params, error)) {
    gst_bidi_remote_tts_free (tts);
    return NULL;
  }
  tts->voice = g_strdup (voice);
  tts->wav = g_strcmp0 (format, "wav") == 0;
  tts->pcm_rate = pcm_rate;
  tts->out_rate = out_rate;
  return tts;
}

void
gst_bidi_remote_tts_free (GstBidiRemoteTts * tts)
{
  if (!tts)
    return;
  client_clear (&tts->client);
  g_free (tts->voice);
  g_free (tts);
}

/* The answer's audio as it comes: a WAV header first when there is one,
 * samples split anywhere, converted to the output rate */
typedef struct
{
  GstBidiRemoteTts *tts;
  GstBidiRemoteAudioFunc func;
  gpointer user_data;
  gboolean in_header;
  /* "pcm" was asked for: a WAV file may come anyway (Piper's HTTP server
   * always sends one) */
  gboolean sniff;
  GByteArray *pending;          /* header bytes, or half a sample */
  guint rate;
  GstAudioResampler *resampler;
  gsize n_out;
} Decoder;

static void
decoder_output (Decoder * d, const gint16 * samples, gsize n)
{
  gint16 *out;
  gsize n_out;

  if (!d->resampler) {
    if (n > 0)
      d->func (samples, n, d->user_data);
    d->n_out += n;
    return;
  }
  n_out = gst_audio_resampler_get_out_frames (d->resampler, n);
  out = g_new (gint16, MAX (n_out, 1));
  /* NULL input is silence: it flushes what the filter holds. Nothing may
   * come out while the filter fills. */
  gst_audio_resampler_resample (d->resampler, samples ?
      (gpointer *) & samples : NULL, n, (gpointer *) & out, n_out);
  if (n_out > 0)
    d->func (out, n_out, d->user_data);
  d->n_out += n_out;
  g_free (out);
}

static gboolean
decoder_set_rate (Decoder * d, guint rate, GError ** error)
{
  Client *c = &d->tts->client;

  if (rate < MIN_RATE || rate > MAX_RATE) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "the %s at %s sent audio at %u Hz", c->what, c->host, rate);
    return FALSE;
  }
  d->rate = rate;
  if (rate != d->tts->out_rate)
    d->resampler = gst_audio_resampler_new (GST_AUDIO_RESAMPLER_METHOD_KAISER,
        GST_AUDIO_RESAMPLER_FLAG_NONE, GST_AUDIO_FORMAT_S16, 1, rate,
        d->tts->out_rate, NULL);
  return TRUE;
}

/* Parses the RIFF header in d->pending once it has the "data" chunk's
 * start: TRUE when done or not there yet (*@need_more), FALSE with @error
 * for what is not a 16-bit mono PCM WAV */
static gboolean
decoder_parse_wav (Decoder * d, gboolean * need_more, GError ** error)
{
  Client *c = &d->tts->client;
  const guint8 *h = d->pending->data;
  gsize len = d->pending->len, pos = 12;
  guint channels = 0, bits = 0, rate = 0, tag = 0;
  gboolean have_fmt = FALSE;

  *need_more = TRUE;
  if (len < 12)
    return len <= MAX_WAV_HEADER_SIZE;
  if (memcmp (h, "RIFF", 4) != 0 || memcmp (h + 8, "WAVE", 4) != 0)
    goto not_wav;
  while (pos + 8 <= len) {
    guint32 size = GST_READ_UINT32_LE (h + pos + 4);

    if (memcmp (h + pos, "data", 4) == 0) {
      if (!have_fmt)
        goto not_wav;
      if (tag != 1 && tag != 0xFFFE)
        goto not_pcm;
      if (channels != 1 || bits != 16)
        goto not_mono16;
      /* the data's size is often unknown in a streamed WAV: read to the
       * end */
      g_byte_array_remove_range (d->pending, 0, pos + 8);
      *need_more = FALSE;
      d->in_header = FALSE;
      return decoder_set_rate (d, rate, error);
    }
    if (memcmp (h + pos, "fmt ", 4) == 0) {
      if (size < 16 || pos + 8 + 16 > len)
        break;
      tag = GST_READ_UINT16_LE (h + pos + 8);
      channels = GST_READ_UINT16_LE (h + pos + 10);
      rate = GST_READ_UINT32_LE (h + pos + 12);
      bits = GST_READ_UINT16_LE (h + pos + 22);
      have_fmt = TRUE;
    }
    if (size > MAX_WAV_HEADER_SIZE)
      goto not_wav;
    pos += 8 + size + (size & 1);
  }
  if (len > MAX_WAV_HEADER_SIZE)
    goto not_wav;
  return TRUE;

  /* ERRORS */
not_wav:
  {
    gchar *excerpt = client_excerpt (c, (const gchar *) h, MIN (len, 64));

    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "the %s at %s did not answer a WAV file: %s", c->what, c->host,
        excerpt);
    g_free (excerpt);
    return FALSE;
  }
not_pcm:
  {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "the %s at %s answered a WAV file that is not PCM (format %u)",
        c->what, c->host, tag);
    return FALSE;
  }
not_mono16:
  {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
        "the %s at %s answered %u-bit audio with %u channels; gst-bidi "
        "takes 16-bit mono", c->what, c->host, bits, channels);
    return FALSE;
  }
}

/* The whole samples in d->pending, out */
static void
decoder_flush_samples (Decoder * d)
{
  gsize n = d->pending->len / 2, i;
  gint16 *s = (gint16 *) d->pending->data;

  if (n == 0)
    return;
  for (i = 0; i < n; i++)
    s[i] = GINT16_FROM_LE (s[i]);
  decoder_output (d, s, n);
  g_byte_array_remove_range (d->pending, 0, n * 2);
}

static gboolean
decoder_push (Decoder * d, const guint8 * data, gsize len, GError ** error)
{
  g_byte_array_append (d->pending, data, len);
  if (d->sniff) {
    if (d->pending->len < 4)
      return TRUE;
    d->sniff = FALSE;
    if (memcmp (d->pending->data, "RIFF", 4) == 0) {
      GST_DEBUG ("a WAV file, although pcm was asked for");
      d->in_header = TRUE;
    } else if (!decoder_set_rate (d, d->tts->pcm_rate, error)) {
      return FALSE;
    }
  }
  if (d->in_header) {
    gboolean need_more;

    if (!decoder_parse_wav (d, &need_more, error))
      return FALSE;
    if (need_more)
      return TRUE;
  }
  decoder_flush_samples (d);
  return TRUE;
}

static void
decoder_finish (Decoder * d)
{
  if (d->resampler) {
    gsize latency = gst_audio_resampler_get_max_latency (d->resampler);

    if (latency > 0)
      decoder_output (d, NULL, latency);
    gst_audio_resampler_free (d->resampler);
    d->resampler = NULL;
  }
  g_byte_array_unref (d->pending);
}

/* A 200 answer that is not audio (an error object, a web page) */
static gboolean
check_content_type (Call * call, GError ** error)
{
  const gchar *type =
      soup_message_headers_get_content_type (soup_message_get_response_headers
      (call->msg), NULL);
  GByteArray *body;
  gboolean truncated;
  gchar *excerpt;

  if (!type || (!g_str_has_prefix (type, "application/json") &&
          !g_str_has_prefix (type, "text/")))
    return TRUE;
  body = call_read_all (call, MAX_ERROR_BODY_SIZE, &truncated, NULL);
  excerpt = client_excerpt (call->c, body ? (const gchar *) body->data : "",
      body ? body->len : 0);
  g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
      "the %s at %s answered %s instead of audio: %s", call->c->what,
      call->c->host, type, excerpt);
  g_free (excerpt);
  if (body)
    g_byte_array_unref (body);
  return FALSE;
}

static GBytes *
speech_request (GstBidiRemoteTts * tts, const gchar * text)
{
  JsonObject *obj = json_object_new ();
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  gchar *json;

  json_object_set_string_member (obj, "model", tts->client.model);
  json_object_set_string_member (obj, "input", text);
  json_object_set_string_member (obj, "voice", tts->voice);
  json_object_set_string_member (obj, "response_format",
      tts->wav ? "wav" : "pcm");
  json_node_take_object (root, obj);
  json = gst_bidi_json_to_string (root);
  json_node_unref (root);
  return g_bytes_new_take (json, strlen (json));
}

/* Reads the audio as it comes */
static gboolean
speech_read (Call * call, Decoder * d, GError ** error)
{
  guint8 buf[READ_SIZE];
  gsize total = 0;
  gssize n;

  while ((n = call_read (call, buf, sizeof (buf), error)) > 0) {
    total += n;
    if (total > MAX_AUDIO_BODY_SIZE) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
          "the answer of the %s at %s is too large", call->c->what,
          call->c->host);
      return FALSE;
    }
    if (!decoder_push (d, buf, n, error))
      return FALSE;
  }
  if (n < 0)
    return FALSE;
  if (d->in_header || d->sniff) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "the %s at %s answered %s", call->c->what, call->c->host,
        d->in_header ? "a WAV file without audio" : "no audio");
    return FALSE;
  }
  return TRUE;
}

gboolean
gst_bidi_remote_tts_speak (GstBidiRemoteTts * tts, const gchar * text,
    GCancellable * cancellable, GstBidiRemoteAudioFunc func,
    gpointer user_data, GError ** error)
{
  Client *c = &tts->client;
  Decoder d = { 0, };
  GBytes *body;
  gboolean ok = FALSE;
  Call call;

  d.tts = tts;
  d.func = func;
  d.user_data = user_data;
  d.pending = g_byte_array_new ();
  d.in_header = tts->wav;
  d.sniff = !tts->wav;

  g_main_context_push_thread_default (c->context);
  call_init (&call, c, cancellable, FALSE);
  call.msg = soup_message_new_from_uri (SOUP_METHOD_POST, c->uri);
  body = speech_request (tts, text);
  if (call_send (&call, body, "application/json", error) &&
      check_content_type (&call, error) &&
      speech_read (&call, &d, error))
    ok = TRUE;
  /* what came before a failure is still out: the end of it too */
  decoder_finish (&d);
  if (ok && d.n_out == 0) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "the %s at %s answered no audio", c->what, c->host);
    ok = FALSE;
  }
  GST_DEBUG ("%s: %" G_GSIZE_FORMAT " samples for \"%s\"", ok ? "spoken" :
      "failed", d.n_out, text);
  g_bytes_unref (body);
  call_clear (&call);
  g_main_context_pop_thread_default (c->context);
  return ok;
}
