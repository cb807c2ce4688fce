/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Network helpers shared by the providers: see gstbidirealtime.h. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstbidirealtime.h"

GST_DEBUG_CATEGORY_STATIC (bidi_realtime_debug);
#define GST_CAT_DEFAULT bidi_realtime_debug

/* A piece of a secret at least this long is scrubbed too */
#define MIN_SECRET_PIECE 8

static void
debug_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (bidi_realtime_debug, "bidirealtime", 0,
        "bidiagent providers: shared network helpers");
    g_once_init_leave (&done, 1);
  }
}

/* ------------------------------------------------------------------------
 * Endpoints
 * ------------------------------------------------------------------------ */

gboolean
gst_bidi_realtime_host_is_loopback (const gchar * host)
{
  GInetAddress *addr;
  gboolean ret;

  if (!host)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  addr = g_inet_address_new_from_string (host);
  if (!addr)
    return FALSE;
  ret = g_inet_address_get_is_loopback (addr);
  g_object_unref (addr);
  return ret;
}

GUri *
gst_bidi_realtime_parse_ws_url (const gchar * url, const gchar * what,
    GError ** error)
{
  GUri *parsed, *uri;
  const gchar *scheme, *host, *ws_scheme;

  if (!url || !*url)
    goto bad_url;
  parsed = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  if (!parsed)
    goto bad_url;

  scheme = g_uri_get_scheme (parsed);
  host = g_uri_get_host (parsed);
  if (g_ascii_strcasecmp (scheme, "wss") == 0 ||
      g_ascii_strcasecmp (scheme, "https") == 0)
    ws_scheme = "wss";
  else if (g_ascii_strcasecmp (scheme, "ws") == 0 ||
      g_ascii_strcasecmp (scheme, "http") == 0)
    ws_scheme = "ws";
  else
    ws_scheme = NULL;

  if (!ws_scheme || !host || !*host) {
    g_uri_unref (parsed);
    goto bad_url;
  }
  if (g_uri_get_user (parsed)) {
    g_uri_unref (parsed);
    goto userinfo;
  }
  if (strcmp (ws_scheme, "ws") == 0 &&
      !gst_bidi_realtime_host_is_loopback (host)) {
    g_uri_unref (parsed);
    goto not_loopback;
  }

  uri = g_uri_build (G_URI_FLAGS_ENCODED, ws_scheme, NULL, host,
      g_uri_get_port (parsed), *g_uri_get_path (parsed) ?
      g_uri_get_path (parsed) : "/", g_uri_get_query (parsed), NULL);
  g_uri_unref (parsed);
  return uri;

  /* ERRORS */
bad_url:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "%s must be a wss:// URL (ws:// for loopback hosts), like "
        "wss://api.example.com/v1/realtime", what);
    return NULL;
  }
userinfo:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "%s must not contain user information; use the api key", what);
    return NULL;
  }
not_loopback:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "%s: use wss:// for non-loopback hosts (plain ws:// is only "
        "accepted for localhost)", what);
    return NULL;
  }
}

gchar *
gst_bidi_realtime_ws_url_with_param (const gchar * url, const gchar * name,
    const gchar * value, GError ** error)
{
  GUri *uri, *with_param;
  gchar *ret, *escaped, *query, *prefix;
  const gchar *old;

  if (!(uri = gst_bidi_realtime_parse_ws_url (url, "url", error)))
    return NULL;

  old = g_uri_get_query (uri);
  prefix = g_strconcat (name, "=", NULL);
  query = old ? g_strconcat ("&", prefix, NULL) : NULL;
  if (old && (g_str_has_prefix (old, prefix) || strstr (old, query))) {
    ret = g_uri_to_string (uri);
  } else {
    g_free (query);
    escaped = g_uri_escape_string (value, NULL, FALSE);
    query = old && *old ? g_strdup_printf ("%s&%s%s", old, prefix, escaped) :
        g_strconcat (prefix, escaped, NULL);
    with_param = g_uri_build (G_URI_FLAGS_ENCODED, g_uri_get_scheme (uri),
        NULL, g_uri_get_host (uri), g_uri_get_port (uri),
        g_uri_get_path (uri), query, NULL);
    ret = g_uri_to_string (with_param);
    g_uri_unref (with_param);
    g_free (escaped);
  }
  g_free (query);
  g_free (prefix);
  g_uri_unref (uri);
  return ret;
}

gchar *
gst_bidi_realtime_uri_for_display (GUri * uri)
{
  GUri *bare;
  gchar *s;

  bare = g_uri_build (G_URI_FLAGS_ENCODED, g_uri_get_scheme (uri), NULL,
      g_uri_get_host (uri), g_uri_get_port (uri), g_uri_get_path (uri), NULL,
      NULL);
  s = g_uri_to_string (bare);
  g_uri_unref (bare);
  return s;
}

SoupSession *
gst_bidi_realtime_session_new (const gchar * host, guint timeout_s)
{
  SoupSession *session;

  session = soup_session_new_with_options ("timeout", timeout_s,
      "user-agent", "gst-bidi/" VERSION " ", NULL);
  /* a proxy from the environment has no business with a local server */
  if (gst_bidi_realtime_host_is_loopback (host))
    soup_session_set_proxy_resolver (session, NULL);
  return session;
}

/* ------------------------------------------------------------------------
 * TLS
 * ------------------------------------------------------------------------ */

GTlsDatabase *
gst_bidi_realtime_load_ca_file (const gchar * path, GError ** error)
{
  GTlsDatabase *database;
  GError *err = NULL;

  if (!path || !*path)
    return NULL;

  database = g_tls_file_database_new (path, &err);
  if (!database) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "cannot load the CA file %s: %s", path, err->message);
    g_error_free (err);
  }
  return database;
}

typedef struct
{
  GTlsDatabase *ca_database;    /* nullable */
  gboolean strict;
} TlsPolicy;

static void
tls_policy_free (gpointer data, G_GNUC_UNUSED GClosure * closure)
{
  TlsPolicy *policy = data;

  g_clear_object (&policy->ca_database);
  g_free (policy);
}

gboolean
gst_bidi_realtime_tls_accept_certificate (const gchar * host, gint port,
    GTlsCertificate * cert, GTlsCertificateFlags errors,
    GTlsDatabase * ca_database, gboolean strict)
{
  GSocketConnectable *identity;
  GTlsCertificateFlags flags;
  GError *err = NULL;

  debug_init ();

  if (!strict && gst_bidi_realtime_host_is_loopback (host)) {
    GST_WARNING ("accepting an unverified certificate from %s "
        "(ssl-strict is off; flags 0x%x)", host, errors);
    return TRUE;
  }
  if (!ca_database || !host) {
    GST_DEBUG ("certificate of %s refused (flags 0x%x)", host, errors);
    return FALSE;
  }

  identity = g_network_address_new (host, port > 0 ? port : 443);
  flags = g_tls_database_verify_chain (ca_database, cert,
      G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, identity, NULL,
      G_TLS_DATABASE_VERIFY_NONE, NULL, &err);
  g_object_unref (identity);
  if (err) {
    GST_WARNING ("certificate check failed: %s", err->message);
    g_error_free (err);
    return FALSE;
  }
  GST_DEBUG ("system TLS check flags 0x%x, with ssl-ca-file 0x%x", errors,
      flags);
  return flags == 0;
}

/* Only called when the system's trust refused the certificate. */
static gboolean
accept_certificate_cb (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  TlsPolicy *policy = user_data;
  GUri *uri = soup_message_get_uri (msg);

  return gst_bidi_realtime_tls_accept_certificate (g_uri_get_host (uri),
      g_uri_get_port (uri), cert, errors, policy->ca_database,
      policy->strict);
}

void
gst_bidi_realtime_message_setup_tls (SoupMessage * msg,
    GTlsDatabase * ca_database, gboolean strict)
{
  TlsPolicy *policy;

  debug_init ();

  /* nothing to add to the system's verdict */
  if (!ca_database && (strict ||
          !gst_bidi_realtime_host_is_loopback (g_uri_get_host
              (soup_message_get_uri (msg)))))
    return;

  policy = g_new0 (TlsPolicy, 1);
  policy->ca_database = ca_database ? g_object_ref (ca_database) : NULL;
  policy->strict = strict;
  g_signal_connect_data (msg, "accept-certificate",
      G_CALLBACK (accept_certificate_cb), policy, tls_policy_free, 0);
}

/* ------------------------------------------------------------------------
 * Untrusted text and JSON
 * ------------------------------------------------------------------------ */

void
gst_bidi_realtime_scrub_secret_exact (GString * str, const gchar * secret)
{
  gsize key_len, from = 0;
  gchar *found;

  if (!str || !secret || !*secret)
    return;
  key_len = strlen (secret);
  while ((found = g_strstr_len (str->str + from, str->len - from, secret))) {
    gssize pos = found - str->str;
    g_string_erase (str, pos, key_len);
    g_string_insert (str, pos, "***");
    from = pos + 3;
  }
}

void
gst_bidi_realtime_scrub_secret (GString * str, const gchar * secret)
{
  gsize key_len, min_piece, i;

  if (!str || !secret || !*secret)
    return;
  key_len = strlen (secret);

  /* whole copies */
  gst_bidi_realtime_scrub_secret_exact (str, secret);

  /* pieces: the longest run starting at each position of @str that also
   * appears in @secret. Quadratic, but both are short (an error message,
   * a key) */
  min_piece = MIN (key_len, MIN_SECRET_PIECE);
  for (i = 0; i < str->len; i++) {
    gsize best = 0, j;

    for (j = 0; j < key_len; j++) {
      gsize n = 0;

      while (i + n < str->len && j + n < key_len &&
          str->str[i + n] == secret[j + n])
        n++;
      best = MAX (best, n);
    }
    if (best >= min_piece) {
      g_string_erase (str, i, best);
      g_string_insert (str, i, "***");
      i += 2;
    }
  }
}

gchar *
gst_bidi_realtime_excerpt (const gchar * data, gsize len, guint max_chars)
{
  gchar *valid = g_utf8_make_valid (data ? data : "", data ? (gssize) len : 0);
  GString *out = g_string_new (NULL);
  const gchar *p;
  guint n = 0;

  for (p = valid; *p && n < max_chars; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    /* one line: runs of spaces and control characters become one space */
    if (g_unichar_iscntrl (c) || g_unichar_isspace (c)) {
      if (out->len > 0 && out->str[out->len - 1] == ' ')
        continue;
      c = ' ';
    }
    g_string_append_unichar (out, c);
    n++;
  }
  if (*p)
    g_string_append (out, "...");
  g_free (valid);
  g_strstrip (out->str);
  out->len = strlen (out->str);
  return g_string_free (out, FALSE);
}

gchar *
gst_bidi_realtime_clean_text (const gchar * text, gsize len,
    const gchar * secret, guint max_chars)
{
  GString *s;
  gchar *ret;

  if (!text)
    return g_strdup ("");
  /* what an excerpt can show, plus room for a key cut by the excerpt:
   * scrubbing is quadratic, and the text may be huge */
  len = MIN (len, (gsize) max_chars * 4 + (secret ? strlen (secret) : 0));
  s = g_string_new_len (text, len);
  gst_bidi_realtime_scrub_secret (s, secret);
  ret = gst_bidi_realtime_excerpt (s->str, s->len, max_chars);
  if (secret && *secret)
    explicit_bzero (s->str, s->len);
  g_string_free (s, TRUE);
  return ret;
}

gchar *
gst_bidi_realtime_make_valid (const gchar * text, gsize max)
{
  gchar *valid = g_utf8_make_valid (text ? text : "", -1);

  if (strlen (valid) > max) {
    const gchar *end = g_utf8_find_prev_char (valid, valid + max + 1);
    valid[end ? end - valid : 0] = '\0';
  }
  return valid;
}

gboolean
gst_bidi_realtime_is_blank (const gchar * s)
{
  for (; s && *s; s++)
    if (!g_ascii_isspace (*s))
      return FALSE;
  return TRUE;
}

gboolean
gst_bidi_realtime_header_value_ok (const gchar * value)
{
  for (; *value; value++)
    if ((guchar) * value < 0x20 || *value == 0x7f)
      return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Reconnecting
 * ------------------------------------------------------------------------ */

guint
gst_bidi_realtime_backoff_ms (guint attempt, guint base_ms, guint max_ms)
{
  guint64 delay = base_ms;
  guint i;

  if (attempt == 0 || base_ms == 0)
    return 0;
  max_ms = MAX (max_ms, base_ms);
  for (i = 1; i < attempt && delay < max_ms; i++)
    delay *= 2;
  delay = MIN (delay, (guint64) max_ms);
  delay = MIN (delay, (guint64) G_MAXINT32 - 1);
  /* jitter, so that many clients dropped at once do not come back at once */
  return (guint) (delay / 2 + g_random_int_range (0, (gint32) (delay -
              delay / 2) + 1));
}
