/* gst-bidi: AWS Signature Version 4 for a streaming request and its events
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_SIGV4_H__
#define __GST_BIDI_SIGV4_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* nova-sonic.md §3, §5 and §16. One signer per stream: it signs the
 * request, whose signature seeds the chain, then every event frame of the
 * body, each signature chained from the one before. The chain is
 * strictly sequential: the caller signs from one thread (or under one
 * lock) and writes the frames in the order they were signed.
 *
 * The secret key, the session token and the derived keys are kept only
 * here, wiped when freed, and never appear in an error. Errors are in the
 * GST_RESOURCE_ERROR domain. Times are passed in, for the tests. */

/* The payload hash of a request whose body is a stream of signed events */
#define GST_BIDI_SIGV4_STREAMING_PAYLOAD "STREAMING-AWS4-HMAC-SHA256-EVENTS"
/* hex SHA-256 of nothing: the payload hash of a request without body */
#define GST_BIDI_SIGV4_EMPTY_SHA256 \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* Bedrock's signing name (not the host's bedrock-runtime) */
#define GST_BIDI_SIGV4_SERVICE_BEDROCK "bedrock"
#define GST_BIDI_SIGV4_SIGNATURE_SIZE 32

typedef struct
{
  const gchar *name;
  const gchar *value;
} GstBidiSigV4Header;

/* What signing the request gives; each field is a new string */
typedef struct
{
  gchar *canonical_request;
  gchar *string_to_sign;
  gchar *signed_headers;        /* "content-type;host;..." */
  gchar *signature;             /* 64 lower-case hex: the chain's seed */
  gchar *authorization;         /* the authorization header's value */
} GstBidiSigV4Signed;

void gst_bidi_sigv4_signed_free (GstBidiSigV4Signed * signed_req);

typedef struct _GstBidiSigV4Signer GstBidiSigV4Signer;

/* @session_token: NULL for long-term keys. @service: the signing name
 * (GST_BIDI_SIGV4_SERVICE_BEDROCK). NULL with @error when a value cannot
 * be used (empty, or with characters a header or the scope cannot hold;
 * the error never quotes it). */
GstBidiSigV4Signer *gst_bidi_sigv4_signer_new (const gchar * access_key,
    const gchar * secret_key, const gchar * session_token,
    const gchar * region, const gchar * service, GError ** error);
/* Wipes the secrets and frees */
void gst_bidi_sigv4_signer_free (GstBidiSigV4Signer * signer);

/* Signs a request whose headers are exactly @headers (the ones that will
 * be sent, with the values sent; over HTTP/2 the host is ":authority").
 * @path is the path as sent on the wire (each segment encoded once, see
 * gst_bidi_sigv4_uri_encode()); it is encoded again for the canonical
 * request. No query string. @headers must hold x-amz-date
 * (YYYYMMDDTHHMMSSZ, the signing time) and, with a session token,
 * x-amz-security-token with its value. @payload_hash: NULL for
 * GST_BIDI_SIGV4_STREAMING_PAYLOAD. Starts a new event chain. */
GstBidiSigV4Signed *gst_bidi_sigv4_signer_sign_request (GstBidiSigV4Signer *
    signer, const gchar * method, const gchar * path,
    const GstBidiSigV4Header * headers, guint n_headers,
    const gchar * payload_hash, GError ** error);

/* Signs the next event of the chain: @payload (the encoded inner message;
 * empty for the final frame) at @time_ms (milliseconds since the epoch,
 * kept whole in the :date header; the string to sign uses the second).
 * Writes the raw signature and, when @string_to_sign is not NULL, the
 * string signed. Fails before the request was signed and after the final
 * frame. */
gboolean gst_bidi_sigv4_signer_sign_event (GstBidiSigV4Signer * signer,
    gint64 time_ms, const guint8 * payload, gsize len,
    guint8 signature[GST_BIDI_SIGV4_SIGNATURE_SIZE], gchar ** string_to_sign,
    GError ** error);

/* The signed outer frame (headers :date and :chunk-signature, @payload,
 * which must not be empty) to write to the body next. */
GBytes *gst_bidi_sigv4_signer_next (GstBidiSigV4Signer * signer,
    gint64 time_ms, GBytes * payload, GError ** error);
/* The final signed empty frame; the chain is closed after it */
GBytes *gst_bidi_sigv4_signer_finish (GstBidiSigV4Signer * signer,
    gint64 time_ms, GError ** error);

/* The hex of the chain's last signature (the seed after the request), or
 * NULL before the request was signed */
const gchar *gst_bidi_sigv4_signer_get_prior (GstBidiSigV4Signer * signer);

/* @text URI-encoded as SigV4 does: A-Z a-z 0-9 - _ . ~ kept, every other
 * byte as %XX (upper-case). A model id becomes a path segment with it. */
gchar *gst_bidi_sigv4_uri_encode (const gchar * text, gssize len);

/* "YYYYMMDDTHHMMSSZ" of @unix_s seconds since the epoch, NULL for a time
 * the format cannot hold */
gchar *gst_bidi_sigv4_format_date (gint64 unix_s);

G_END_DECLS

#endif /* __GST_BIDI_SIGV4_H__ */
