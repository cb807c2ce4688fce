/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_REALTIME_H__
#define __GST_BIDI_REALTIME_H__

#include <gst/gst.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include <gst/bidi/gstbidijson.h>

G_BEGIN_DECLS

/* Helpers shared by the providers that talk to a server (the local
 * provider's chat-completions client, the WebSocket providers): endpoint
 * rules, TLS trust, and defensive handling of what the network sends.
 * Everything read from the network is untrusted: sizes are bounded, JSON
 * is depth-checked before parsing, base64 is validated, and any text that
 * may quote a secret back is scrubbed before it reaches a log, an event or
 * an error. */

/* Nesting refused before json-glib parses (its parser recurses once per
 * level: a few hundred kilobytes of "[[[[..." would overflow the stack). */
#define GST_BIDI_REALTIME_MAX_JSON_DEPTH 128

/* ------------------------------------------------------------------------
 * Endpoints
 * ------------------------------------------------------------------------ */

/* "localhost" or a loopback IP address (127.0.0.0/8, ::1). Plain ws:// and
 * http:// are accepted only for these hosts. */
gboolean gst_bidi_realtime_host_is_loopback (const gchar * host);

/* Checks a WebSocket endpoint: ws:// or wss:// (http:// and https:// are
 * taken as ws:// and wss://), a host, no user information, plain ws:// only
 * for a loopback host. Returns the URI with a ws/wss scheme, or NULL with
 * @error (GST_RESOURCE_ERROR_SETTINGS) naming @what (e.g. "url"). */
GUri *gst_bidi_realtime_parse_ws_url (const gchar * url, const gchar * what,
    GError ** error);

/* @url checked as by gst_bidi_realtime_parse_ws_url() (@error names it
 * "url"), with @name=@value (escaped) added to its query unless the query
 * has a @name already. (transfer full) */
gchar *gst_bidi_realtime_ws_url_with_param (const gchar * url,
    const gchar * name, const gchar * value, GError ** error);

/* scheme://host[:port]/path of @uri, without the query (which could hold
 * a token), for messages and logs. */
gchar *gst_bidi_realtime_uri_for_display (GUri * uri);

/* A session for one server: I/O timeout @timeout_s (connect, handshake and
 * HTTP bodies), the gst-bidi user agent, no proxy for a loopback host.
 * Its I/O runs on the caller's thread-default main context. No SoupLogger
 * is ever attached: it would print the Authorization header. */
SoupSession *gst_bidi_realtime_session_new (const gchar * host,
    guint timeout_s);

/* ------------------------------------------------------------------------
 * TLS
 * ------------------------------------------------------------------------ */

/* Loads a PEM file of extra certificate authorities (the element's
 * ssl-ca-file). NULL or "" gives NULL without error; an unreadable file
 * gives NULL with GST_RESOURCE_ERROR_SETTINGS. */
GTlsDatabase *gst_bidi_realtime_load_ca_file (const gchar * path,
    GError ** error);

/* Server certificates are always verified against the system's trust.
 * On top of that, for @msg: with @ca_database (nullable), a certificate the
 * system does not trust is accepted when it chains to one of those CAs and
 * names the host; with @strict FALSE and a loopback host, any certificate
 * is accepted (ssl-strict=false is honoured for loopback hosts only). */
void gst_bidi_realtime_message_setup_tls (SoupMessage * msg,
    GTlsDatabase * ca_database, gboolean strict);

/* The policy above for a certificate the system's trust refused with
 * @errors, from @host (@port <= 0: 443): what the "accept-certificate"
 * handler of any TLS connection to a server returns (libsoup's, and the
 * HTTP/2 client's GTlsClientConnection) */
gboolean gst_bidi_realtime_tls_accept_certificate (const gchar * host,
    gint port, GTlsCertificate * cert, GTlsCertificateFlags errors,
    GTlsDatabase * ca_database, gboolean strict);

/* ------------------------------------------------------------------------
 * Untrusted text and JSON
 * ------------------------------------------------------------------------ */

/* Replaces every copy of @secret in @str with "***", and every run of at
 * least 8 characters that is a piece of @secret (a key cut short by an
 * excerpt, or quoted in part). Nothing happens for a NULL or empty
 * secret. */
void gst_bidi_realtime_scrub_secret (GString * str, const gchar * secret);

/* Only the whole copies of @secret: linear, for large texts. */
void gst_bidi_realtime_scrub_secret_exact (GString * str,
    const gchar * secret);

/* @text (nullable) scrubbed of @secret, then made an excerpt: valid UTF-8,
 * one line, at most @max_chars characters ("..." when cut). */
gchar *gst_bidi_realtime_clean_text (const gchar * text, gsize len,
    const gchar * secret, guint max_chars);

/* At most @max_chars characters of untrusted text, valid UTF-8, runs of
 * spaces and control characters folded into one space, "..." when cut. */
gchar *gst_bidi_realtime_excerpt (const gchar * data, gsize len,
    guint max_chars);

/* @text (nullable: "") as valid UTF-8, at most @max bytes (cut at a
 * character boundary). (transfer full) */
gchar *gst_bidi_realtime_make_valid (const gchar * text, gsize max);

/* Whether @s (nullable) is empty or only ASCII white space */
gboolean gst_bidi_realtime_is_blank (const gchar * s);

/* Whether @value may go into an HTTP header: printable, one line */
gboolean gst_bidi_realtime_header_value_ok (const gchar * value);

/* ------------------------------------------------------------------------
 * Reconnecting
 * ------------------------------------------------------------------------ */

/* How long to wait before reconnect attempt @attempt (1 for the first):
 * @base_ms doubled at each attempt, at most @max_ms, with jitter (a random
 * delay between half of that and all of it). 0 for attempt 0 or a base of
 * 0. */
guint gst_bidi_realtime_backoff_ms (guint attempt, guint base_ms,
    guint max_ms);

G_END_DECLS

#endif /* __GST_BIDI_REALTIME_H__ */
