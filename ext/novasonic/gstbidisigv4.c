/* gst-bidi: AWS Signature Version 4 for a streaming request and its events
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* SHA-256 and HMAC-SHA256 are GLib's (GChecksum, GHmac): a few hundred
 * hashes a second, nothing that needs another library. The header names
 * and values that are signed are the ones the caller sends: a header
 * signed but altered on the way is the classic 403. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/bidi/gstbidiprovider.h>

#include "gstbidisigv4.h"
#include "gstbidieventstream.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define KEY_SIZE 32

struct _GstBidiSigV4Signer
{
  gchar *access_key;
  gchar *secret;                /* "AWS4" + the secret key: wiped */
  gchar *session_token;         /* wiped */
  gchar *region, *service;
  /* the signing key of key_date, derived once a day */
  gchar key_date[9];
  guint8 key[KEY_SIZE];         /* wiped */
  gchar *prior;                 /* hex of the chain's last signature */
  gboolean finished;
};

static void
set_error (GError ** error, const gchar * format, ...)
G_GNUC_PRINTF (2, 3);

static void
set_error (GError ** error, const gchar * format, ...)
{
  va_list args;
  gchar *text;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "SigV4: %s", text);
  g_free (text);
}

/* --- hashes ------------------------------------------------------------- */

static gchar *
to_hex (const guint8 * data, gsize len)
{
  static const gchar digits[] = "0123456789abcdef";
  gchar *hex = g_malloc (len * 2 + 1);
  gsize i;

  for (i = 0; i < len; i++) {
    hex[2 * i] = digits[data[i] >> 4];
    hex[2 * i + 1] = digits[data[i] & 0xf];
  }
  hex[2 * len] = '\0';
  return hex;
}

static gchar *
sha256_hex (const guint8 * data, gsize len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
}

/* @out = HMAC-SHA256(@key, @data) */
static void
hmac (const guint8 * key, gsize key_len, const gchar * data,
    guint8 out[KEY_SIZE])
{
  GHmac *h = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  gsize len = KEY_SIZE;

  g_hmac_update (h, (const guchar *) data, strlen (data));
  g_hmac_get_digest (h, out, &len);
  g_hmac_unref (h);
}

/* The signing key of the date (YYYYMMDD) that @datestamp starts with,
 * kept until the date changes */
static const guint8 *
signing_key (GstBidiSigV4Signer * s, const gchar * datestamp)
{
  guint8 k[KEY_SIZE];

  if (strncmp (s->key_date, datestamp, 8) == 0)
    return s->key;
  memcpy (s->key_date, datestamp, 8);
  s->key_date[8] = '\0';
  hmac ((const guint8 *) s->secret, strlen (s->secret), s->key_date, k);
  hmac (k, KEY_SIZE, s->region, s->key);
  hmac (s->key, KEY_SIZE, s->service, k);
  hmac (k, KEY_SIZE, "aws4_request", s->key);
  explicit_bzero (k, sizeof (k));
  return s->key;
}

/* --- the signer --------------------------------------------------------- */

/* Region and service names go into the scope and the host: a DNS label's
 * characters, nothing else */
static gboolean
is_scope_name (const gchar * s)
{
  if (!s || !*s)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isalnum (*s) && *s != '-')
      return FALSE;
  return TRUE;
}

/* A value that goes into a header: printable ASCII, no separators of the
 * Credential field when @credential */
static gboolean
is_header_safe (const gchar * s, gboolean credential)
{
  if (!s || !*s)
    return FALSE;
  for (; *s; s++) {
    if (*s <= ' ' || *s >= 0x7f)
      return FALSE;
    if (credential && (*s == '/' || *s == ','))
      return FALSE;
  }
  return TRUE;
}

GstBidiSigV4Signer *
gst_bidi_sigv4_signer_new (const gchar * access_key, const gchar * secret_key,
    const gchar * session_token, const gchar * region, const gchar * service,
    GError ** error)
{
  GstBidiSigV4Signer *s;

  if (!is_header_safe (access_key, TRUE)) {
    set_error (error, "the access key id is empty or holds characters an "
        "access key id cannot have");
    return NULL;
  }
  if (!secret_key || !*secret_key) {
    set_error (error, "the secret access key is empty");
    return NULL;
  }
  if (session_token && !is_header_safe (session_token, FALSE)) {
    set_error (error, "the session token is empty or holds characters a "
        "header cannot carry");
    return NULL;
  }
  if (!is_scope_name (region) || !is_scope_name (service)) {
    set_error (error, "region and service must be letters, digits and "
        "'-' (region: %s)", is_scope_name (region) ? region : "invalid");
    return NULL;
  }
  s = g_new0 (GstBidiSigV4Signer, 1);
  s->access_key = g_strdup (access_key);
  s->secret = g_strconcat ("AWS4", secret_key, NULL);
  s->session_token = g_strdup (session_token);
  s->region = g_strdup (region);
  s->service = g_strdup (service);
  return s;
}

void
gst_bidi_sigv4_signer_free (GstBidiSigV4Signer * s)
{
  if (!s)
    return;
  gst_bidi_clear_secret (&s->secret);
  gst_bidi_clear_secret (&s->session_token);
  explicit_bzero (s->key, sizeof (s->key));
  g_free (s->access_key);
  g_free (s->region);
  g_free (s->service);
  g_free (s->prior);
  g_free (s);
}

void
gst_bidi_sigv4_signed_free (GstBidiSigV4Signed * r)
{
  if (!r)
    return;
  g_free (r->canonical_request);
  g_free (r->string_to_sign);
  g_free (r->signed_headers);
  g_free (r->signature);
  g_free (r->authorization);
  g_free (r);
}

const gchar *
gst_bidi_sigv4_signer_get_prior (GstBidiSigV4Signer * s)
{
  return s->prior;
}

/* --- canonical request -------------------------------------------------- */

static void
append_encoded (GString * out, const gchar * text, gsize len)
{
  gsize i;

  for (i = 0; i < len; i++) {
    guchar c = text[i];

    if (g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.' || c == '~')
      g_string_append_c (out, c);
    else
      g_string_append_printf (out, "%%%02X", c);
  }
}

gchar *
gst_bidi_sigv4_uri_encode (const gchar * text, gssize len)
{
  GString *out = g_string_new (NULL);

  append_encoded (out, text, len < 0 ? strlen (text) : (gsize) len);
  return g_string_free (out, FALSE);
}

/* Each segment of the wire path encoded once more (§3: "%3A" becomes
 * "%253A"), the slashes kept */
static gchar *
canonical_uri (const gchar * path, GError ** error)
{
  GString *out;
  const gchar *seg, *slash;

  if (!path || path[0] != '/' || strpbrk (path, "?#")) {
    set_error (error, "the path must start with '/' and have no query");
    return NULL;
  }
  out = g_string_new (NULL);
  for (seg = path + 1;; seg = slash + 1) {
    g_string_append_c (out, '/');
    slash = strchr (seg, '/');
    append_encoded (out, seg, slash ? (gsize) (slash - seg) : strlen (seg));
    if (!slash)
      break;
  }
  return g_string_free (out, FALSE);
}

typedef struct
{
  gchar *name;                  /* lower-case */
  gchar *value;                 /* trimmed, inner blank runs as one space */
} CanonHeader;

static void
canon_header_clear (gpointer data)
{
  CanonHeader *h = data;

  g_free (h->name);
  g_free (h->value);
}

static gint
canon_header_cmp (gconstpointer a, gconstpointer b)
{
  return strcmp (((const CanonHeader *) a)->name,
      ((const CanonHeader *) b)->name);
}

/* An HTTP token, or an HTTP/2 pseudo-header (":authority") */
static gboolean
is_header_name (const gchar * name)
{
  const gchar *p = name[0] == ':' ? name + 1 : name;

  if (!*p)
    return FALSE;
  for (; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("!#$%&'*+-.^_`|~", *p))
      return FALSE;
  return TRUE;
}

/* @value trimmed, inner runs of blanks as one space; NULL for a value
 * with a control character (a header cannot carry it) */
static gchar *
canonical_value (const gchar * value)
{
  GString *out = g_string_new (NULL);
  gboolean blank = FALSE;
  const gchar *p;

  for (p = value; *p; p++) {
    if (*p == ' ' || *p == '\t') {
      blank = out->len > 0;
      continue;
    }
    if ((guchar) * p < ' ' || *p == 0x7f) {
      g_string_free (out, TRUE);
      return NULL;
    }
    if (blank)
      g_string_append_c (out, ' ');
    blank = FALSE;
    g_string_append_c (out, *p);
  }
  return g_string_free (out, FALSE);
}

/* The headers in canonical form, sorted by name; NULL with @error for a
 * bad or repeated name or a bad value */
static GArray *
canonical_headers (const GstBidiSigV4Header * headers, guint n,
    GError ** error)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (CanonHeader));
  guint i;

  g_array_set_clear_func (out, canon_header_clear);
  for (i = 0; i < n; i++) {
    CanonHeader h;

    if (!headers[i].name || !is_header_name (headers[i].name) ||
        !headers[i].value) {
      set_error (error, "header %u has no valid name or no value", i);
      goto fail;
    }
    h.value = canonical_value (headers[i].value);
    if (!h.value) {
      set_error (error, "header %s holds a control character",
          headers[i].name);
      goto fail;
    }
    h.name = g_ascii_strdown (headers[i].name, -1);
    g_array_append_val (out, h);
  }
  g_array_sort (out, canon_header_cmp);
  for (i = 1; i < out->len; i++) {
    if (canon_header_cmp (&g_array_index (out, CanonHeader, i - 1),
            &g_array_index (out, CanonHeader, i)) == 0) {
      set_error (error, "header %s is given twice",
          g_array_index (out, CanonHeader, i).name);
      goto fail;
    }
  }
  return out;

fail:
  g_array_unref (out);
  return NULL;
}

static const gchar *
find_header (GArray * headers, const gchar * name)
{
  guint i;

  for (i = 0; i < headers->len; i++)
    if (strcmp (g_array_index (headers, CanonHeader, i).name, name) == 0)
      return g_array_index (headers, CanonHeader, i).value;
  return NULL;
}

static gboolean
is_amz_date (const gchar * d)
{
  guint i;

  if (!d || strlen (d) != 16 || d[8] != 'T' || d[15] != 'Z')
    return FALSE;
  for (i = 0; i < 15; i++)
    if (i != 8 && !g_ascii_isdigit (d[i]))
      return FALSE;
  return TRUE;
}

/* What the request must carry besides what is signed: its time, and the
 * session token when there is one */
static gboolean
check_required (GstBidiSigV4Signer * s, GArray * headers, GError ** error)
{
  const gchar *token = find_header (headers, "x-amz-security-token");

  if (!is_amz_date (find_header (headers, "x-amz-date"))) {
    set_error (error, "the request needs an x-amz-date header "
        "(YYYYMMDDTHHMMSSZ)");
    return FALSE;
  }
  if (s->session_token && g_strcmp0 (token, s->session_token) != 0) {
    set_error (error, "with a session token, the request must send and "
        "sign it as x-amz-security-token");
    return FALSE;
  }
  return TRUE;
}

static gchar *
scope (GstBidiSigV4Signer * s, const gchar * amz_date)
{
  return g_strdup_printf ("%.8s/%s/%s/aws4_request", amz_date, s->region,
      s->service);
}

/* Fills the canonical request and signed headers of @r */
static gboolean
build_canonical (GstBidiSigV4Signed * r, const gchar * method,
    const gchar * uri, GArray * headers, const gchar * payload_hash)
{
  GString *canon = g_string_new (NULL), *names = g_string_new (NULL);
  guint i;

  g_string_append_printf (canon, "%s\n%s\n\n", method, uri);
  for (i = 0; i < headers->len; i++) {
    CanonHeader *h = &g_array_index (headers, CanonHeader, i);

    g_string_append_printf (canon, "%s:%s\n", h->name, h->value);
    g_string_append_printf (names, "%s%s", i ? ";" : "", h->name);
  }
  g_string_append_printf (canon, "\n%s\n%s", names->str, payload_hash);
  r->canonical_request = g_string_free (canon, FALSE);
  r->signed_headers = g_string_free (names, FALSE);
  return TRUE;
}

/* Signs @string_to_sign with the key of the date in @amz_date: the hex
 * signature, the raw one in @raw when not NULL */
static gchar *
sign (GstBidiSigV4Signer * s, const gchar * amz_date,
    const gchar * string_to_sign, guint8 * raw)
{
  guint8 sig[KEY_SIZE];

  hmac (signing_key (s, amz_date), KEY_SIZE, string_to_sign, sig);
  if (raw)
    memcpy (raw, sig, KEY_SIZE);
  return to_hex (sig, KEY_SIZE);
}

GstBidiSigV4Signed *
gst_bidi_sigv4_signer_sign_request (GstBidiSigV4Signer * s,
    const gchar * method, const gchar * path,
    const GstBidiSigV4Header * headers, guint n_headers,
    const gchar * payload_hash, GError ** error)
{
  GstBidiSigV4Signed *r;
  GArray *canon;
  gchar *uri, *hash, *sc;
  const gchar *amz_date;

  g_return_val_if_fail (s != NULL && method != NULL, NULL);

  uri = canonical_uri (path, error);
  if (!uri)
    return NULL;
  canon = canonical_headers (headers, n_headers, error);
  if (!canon || !check_required (s, canon, error)) {
    if (canon)
      g_array_unref (canon);
    g_free (uri);
    return NULL;
  }
  amz_date = find_header (canon, "x-amz-date");
  r = g_new0 (GstBidiSigV4Signed, 1);
  build_canonical (r, method, uri, canon,
      payload_hash ? payload_hash : GST_BIDI_SIGV4_STREAMING_PAYLOAD);
  hash = sha256_hex ((const guint8 *) r->canonical_request,
      strlen (r->canonical_request));
  sc = scope (s, amz_date);
  r->string_to_sign = g_strdup_printf (ALGORITHM "\n%s\n%s\n%s", amz_date,
      sc, hash);
  r->signature = sign (s, amz_date, r->string_to_sign, NULL);
  r->authorization = g_strdup_printf (ALGORITHM " Credential=%s/%s, "
      "SignedHeaders=%s, Signature=%s", s->access_key, sc, r->signed_headers,
      r->signature);
  /* a new request starts a new chain */
  g_free (s->prior);
  s->prior = g_strdup (r->signature);
  s->finished = FALSE;
  g_free (sc);
  g_free (hash);
  g_free (uri);
  g_array_unref (canon);
  return r;
}

/* --- events ------------------------------------------------------------- */

gchar *
gst_bidi_sigv4_format_date (gint64 unix_s)
{
  GDateTime *dt = g_date_time_new_from_unix_utc (unix_s);
  gchar *text;

  if (!dt)
    return NULL;
  text = g_date_time_format (dt, "%Y%m%dT%H%M%SZ");
  g_date_time_unref (dt);
  /* years before 1000 or after 9999 do not fit the format */
  if (text && strlen (text) != 16)
    g_clear_pointer (&text, g_free);
  return text;
}

/* The wire form of the :date header of @time_ms */
static GByteArray *
date_header (gint64 time_ms)
{
  GstBidiEsHeader h = { (gchar *) ":date", GST_BIDI_ES_TIMESTAMP, time_ms,
    NULL
  };
  GByteArray *out = g_byte_array_new ();

  gst_bidi_es_header_encode (&h, out, NULL);
  return out;
}

gboolean
gst_bidi_sigv4_signer_sign_event (GstBidiSigV4Signer * s, gint64 time_ms,
    const guint8 * payload, gsize len,
    guint8 signature[GST_BIDI_SIGV4_SIGNATURE_SIZE], gchar ** string_to_sign,
    GError ** error)
{
  gchar *amz_date, *sc, *date_hash, *payload_hash, *sts;
  GByteArray *date;

  if (!s->prior || s->finished) {
    set_error (error, "%s", s->prior ? "the event stream was already ended" :
        "events are signed after the request");
    return FALSE;
  }
  amz_date = time_ms >= 0 ? gst_bidi_sigv4_format_date (time_ms / 1000) :
      NULL;
  if (!amz_date) {
    set_error (error, "event time %" G_GINT64_FORMAT " ms out of range",
        time_ms);
    return FALSE;
  }
  date = date_header (time_ms);
  date_hash = sha256_hex (date->data, date->len);
  payload_hash = sha256_hex (payload, len);
  sc = scope (s, amz_date);
  sts = g_strdup_printf (ALGORITHM "-PAYLOAD\n%s\n%s\n%s\n%s\n%s", amz_date,
      sc, s->prior, date_hash, payload_hash);
  g_free (s->prior);
  s->prior = sign (s, amz_date, sts, signature);
  s->finished = len == 0;
  if (string_to_sign)
    *string_to_sign = sts;
  else
    g_free (sts);
  g_free (sc);
  g_free (payload_hash);
  g_free (date_hash);
  g_byte_array_unref (date);
  g_free (amz_date);
  return TRUE;
}

/* Signs @payload (may be NULL: empty) and frames it */
static GBytes *
signed_frame (GstBidiSigV4Signer * s, gint64 time_ms, GBytes * payload,
    GError ** error)
{
  guint8 sig[GST_BIDI_SIGV4_SIGNATURE_SIZE];
  GstBidiEsMessage *msg;
  const guint8 *data = NULL;
  gsize len = 0;
  GBytes *out;

  if (payload)
    data = g_bytes_get_data (payload, &len);
  if (!gst_bidi_sigv4_signer_sign_event (s, time_ms, data, len, sig, NULL,
          error))
    return NULL;
  msg = gst_bidi_es_message_new ();
  gst_bidi_es_message_add_int (msg, ":date", GST_BIDI_ES_TIMESTAMP, time_ms);
  gst_bidi_es_message_add_bytes (msg, ":chunk-signature", GST_BIDI_ES_BYTES,
      sig, sizeof (sig));
  gst_bidi_es_message_set_payload (msg, payload);
  out = gst_bidi_es_message_encode (msg, error);
  gst_bidi_es_message_free (msg);
  return out;
}

GBytes *
gst_bidi_sigv4_signer_next (GstBidiSigV4Signer * s, gint64 time_ms,
    GBytes * payload, GError ** error)
{
  /* an empty payload is the end of the stream: only finish() sends it */
  if (!payload || g_bytes_get_size (payload) == 0) {
    set_error (error, "an event needs a payload (the empty frame is the "
        "end of the stream)");
    return NULL;
  }
  /* refused before it is signed: a signature that is never sent would
   * break the chain (the two headers take 68 bytes) */
  if (g_bytes_get_size (payload) > GST_BIDI_ES_MAX_MESSAGE_SIZE -
      GST_BIDI_ES_OVERHEAD - 68) {
    set_error (error, "event of %" G_GSIZE_FORMAT " bytes is too large",
        g_bytes_get_size (payload));
    return NULL;
  }
  return signed_frame (s, time_ms, payload, error);
}

GBytes *
gst_bidi_sigv4_signer_finish (GstBidiSigV4Signer * s, gint64 time_ms,
    GError ** error)
{
  return signed_frame (s, time_ms, NULL, error);
}
