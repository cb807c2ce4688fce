/* gst-bidi: the Nova Sonic codec (SigV4, AWS event-stream, credentials)
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The vectors are the worked examples of nova-sonic.md §3-§6 and the
 * published aws-c-auth ones it cites; two (milliseconds in :date, a
 * request signing ":authority" with a session token, §16) were computed
 * with an independent Python implementation (hashlib/hmac/zlib). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gstdio.h>

#include <gst/check/gstcheck.h>

#include "gstbidisigv4.h"
#include "gstbidieventstream.h"
#include "gstbidiawscreds.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define NOVA_PATH "/model/amazon.nova-2-sonic-v1%3A0/invoke-with-bidirectional-stream"
#define NOVA_HOST "bedrock-runtime.us-east-1.amazonaws.com"
#define SEED "50d04299d52d8a3958a49d9a8736bd459c2bef8ed3a1bd74d7e86f715ddc68f4"
/* 2026-01-01T12:00:01Z */
#define NOVA_EVENT_MS G_GINT64_CONSTANT (1767268801000)

/* --- helpers ------------------------------------------------------------ */

/* @hex without its spaces and newlines, as bytes */
static GBytes *
from_hex (const gchar * hex)
{
  GByteArray *out = g_byte_array_new ();
  const gchar *p;

  for (p = hex; *p;) {
    guint8 b;

    if (g_ascii_isspace (*p)) {
      p++;
      continue;
    }
    fail_unless (g_ascii_isxdigit (p[0]) && g_ascii_isxdigit (p[1]));
    b = g_ascii_xdigit_value (p[0]) << 4 | g_ascii_xdigit_value (p[1]);
    g_byte_array_append (out, &b, 1);
    p += 2;
  }
  return g_byte_array_free_to_bytes (out);
}

static gchar *
to_hex (GBytes * bytes)
{
  gsize len, i;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  GString *s = g_string_new (NULL);

  for (i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}

static void
assert_bytes_hex (GBytes * bytes, const gchar * hex)
{
  GBytes *want = from_hex (hex);
  gchar *got = to_hex (bytes), *exp = to_hex (want);

  fail_unless_equals_string (got, exp);
  g_free (got);
  g_free (exp);
  g_bytes_unref (want);
}

static GstBidiSigV4Signer *
nova_signer (void)
{
  GError *err = NULL;
  GstBidiSigV4Signer *s = gst_bidi_sigv4_signer_new (AKID, SECRET, NULL,
      "us-east-1", GST_BIDI_SIGV4_SERVICE_BEDROCK, &err);

  fail_unless (s != NULL);
  g_assert_no_error (err);
  return s;
}

static const GstBidiSigV4Header nova_headers[] = {
  /* not sorted, mixed case: the signer sorts and lowers */
  {"X-Amz-Date", "20260101T120000Z"},
  {"host", NOVA_HOST},
  {"content-type", "application/vnd.amazon.eventstream"},
  {"x-amz-content-sha256", GST_BIDI_SIGV4_STREAMING_PAYLOAD},
};

static GstBidiSigV4Signed *
nova_sign (GstBidiSigV4Signer * s)
{
  GError *err = NULL;
  GstBidiSigV4Signed *r = gst_bidi_sigv4_signer_sign_request (s, "POST",
      NOVA_PATH, nova_headers, G_N_ELEMENTS (nova_headers), NULL, &err);

  g_assert_no_error (err);
  fail_unless (r != NULL);
  return r;
}

/* --- SigV4: the request ------------------------------------------------- */

GST_START_TEST (test_sigv4_nova_request)
{
  GstBidiSigV4Signer *s = nova_signer ();
  GstBidiSigV4Signed *r = nova_sign (s);

  /* §3's worked example */
  fail_unless_equals_string (r->canonical_request, "POST\n"
      "/model/amazon.nova-2-sonic-v1%253A0/invoke-with-bidirectional-stream\n"
      "\n"
      "content-type:application/vnd.amazon.eventstream\n"
      "host:bedrock-runtime.us-east-1.amazonaws.com\n"
      "x-amz-content-sha256:STREAMING-AWS4-HMAC-SHA256-EVENTS\n"
      "x-amz-date:20260101T120000Z\n"
      "\n"
      "content-type;host;x-amz-content-sha256;x-amz-date\n"
      "STREAMING-AWS4-HMAC-SHA256-EVENTS");
  fail_unless_equals_string (r->string_to_sign, "AWS4-HMAC-SHA256\n"
      "20260101T120000Z\n"
      "20260101/us-east-1/bedrock/aws4_request\n"
      "aab6c51bf1560492d017de8736d13bf06c8cadcd8fc5a4d506445d7425fd89b5");
  fail_unless_equals_string (r->signature, SEED);
  fail_unless_equals_string (r->authorization,
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/bedrock/"
      "aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;"
      "x-amz-date, Signature=" SEED);
  fail_unless_equals_string (gst_bidi_sigv4_signer_get_prior (s), SEED);
  gst_bidi_sigv4_signed_free (r);
  gst_bidi_sigv4_signer_free (s);
}

GST_END_TEST;

/* aws-c-auth's get-vanilla: another service, a GET without a body */
GST_START_TEST (test_sigv4_get_vanilla)
{
  const GstBidiSigV4Header headers[] = {
    {"Host", "example.amazonaws.com"},
    {"X-Amz-Date", "20150830T123600Z"},
  };
  GstBidiSigV4Signer *s = gst_bidi_sigv4_signer_new (AKID, SECRET, NULL,
      "us-east-1", "service", NULL);
  GstBidiSigV4Signed *r = gst_bidi_sigv4_signer_sign_request (s, "GET", "/",
      headers, G_N_ELEMENTS (headers), GST_BIDI_SIGV4_EMPTY_SHA256, NULL);

  fail_unless (r != NULL);
  fail_unless_equals_string (r->signature,
      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  fail_unless_equals_string (r->signed_headers, "host;x-amz-date");
  gst_bidi_sigv4_signed_free (r);
  gst_bidi_sigv4_signer_free (s);
}

GST_END_TEST;

/* §16: over HTTP/2 the SDK signs ":authority", which sorts first; with a
 * session token, x-amz-security-token is signed too (our computation) */
GST_START_TEST (test_sigv4_authority_token)
{
  const GstBidiSigV4Header headers[] = {
    {"x-amz-security-token", "TOKEN123"},
    {"content-type", "application/vnd.amazon.eventstream"},
    {"x-amz-date", "20260101T120000Z"},
    {":authority", NOVA_HOST},
    {"x-amz-content-sha256", GST_BIDI_SIGV4_STREAMING_PAYLOAD},
  };
  GstBidiSigV4Signer *s = gst_bidi_sigv4_signer_new (AKID, SECRET,
      "TOKEN123", "us-east-1", "bedrock", NULL);
  GstBidiSigV4Signed *r = gst_bidi_sigv4_signer_sign_request (s, "POST",
      NOVA_PATH, headers, G_N_ELEMENTS (headers), NULL, NULL);

  fail_unless (r != NULL);
  fail_unless_equals_string (r->signed_headers, ":authority;content-type;"
      "x-amz-content-sha256;x-amz-date;x-amz-security-token");
  fail_unless_equals_string (r->signature,
      "24a3b817f0a3229b4f5c5fa77096eba7fbabaf9304606abceb58ff6bacf8e3a0");
  fail_unless (strstr (r->authorization, "TOKEN123") == NULL);
  gst_bidi_sigv4_signed_free (r);
  gst_bidi_sigv4_signer_free (s);
}

GST_END_TEST;

GST_START_TEST (test_sigv4_canonical_headers)
{
  const GstBidiSigV4Header headers[] = {
    {"x-amz-date", "20260101T120000Z"},
    {"X-Custom", "  a   b\t c  "},
    {"host", "h"},
  };
  GstBidiSigV4Signer *s = nova_signer ();
  GstBidiSigV4Signed *r = gst_bidi_sigv4_signer_sign_request (s, "POST",
      "/a%20b/c%3Ad/", headers, G_N_ELEMENTS (headers), "UNSIGNED", NULL);
  gchar *enc;

  fail_unless (r != NULL);
  fail_unless_equals_string (r->canonical_request, "POST\n"
      "/a%2520b/c%253Ad/\n\n"
      "host:h\nx-amz-date:20260101T120000Z\nx-custom:a b c\n\n"
      "host;x-amz-date;x-custom\nUNSIGNED");
  gst_bidi_sigv4_signed_free (r);

  enc = gst_bidi_sigv4_uri_encode ("amazon.nova-2-sonic-v1:0", -1);
  fail_unless_equals_string (enc, "amazon.nova-2-sonic-v1%3A0");
  g_free (enc);
  enc = gst_bidi_sigv4_uri_encode ("a~_.-/ \xc3\xa9", -1);
  fail_unless_equals_string (enc, "a~_.-%2F%20%C3%A9");
  g_free (enc);
  gst_bidi_sigv4_signer_free (s);
}

GST_END_TEST;

/* Requests that cannot be signed as they would be sent */
GST_START_TEST (test_sigv4_request_errors)
{
  const GstBidiSigV4Header no_date[] = { {"host", "h"} };
  const GstBidiSigV4Header bad_date[] = { {"x-amz-date", "2026-01-01"} };
  const GstBidiSigV4Header twice[] = {
    {"x-amz-date", "20260101T120000Z"}, {"Host", "a"}, {"host", "b"}
  };
  const GstBidiSigV4Header crlf[] = {
    {"x-amz-date", "20260101T120000Z"}, {"host", "a\r\nx-evil: 1"}
  };
  const GstBidiSigV4Header bad_name[] = {
    {"x-amz-date", "20260101T120000Z"}, {"ho st", "a"}
  };
  const GstBidiSigV4Header ok[] = { {"x-amz-date", "20260101T120000Z"} };
  struct
  {
    const gchar *path;
    const GstBidiSigV4Header *h;
    guint n;
  } cases[] = {
    {"/", no_date, 1}, {"/", bad_date, 1}, {"/", twice, 3}, {"/", crlf, 2},
    {"/", bad_name, 2}, {"/a?b=1", ok, 1}, {"relative", ok, 1}, {NULL, ok, 1},
  };
  GstBidiSigV4Signer *s = nova_signer (), *tok;
  GError *err = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    fail_unless (gst_bidi_sigv4_signer_sign_request (s, "POST",
            cases[i].path, cases[i].h, cases[i].n, NULL, &err) == NULL,
        "case %u signed", i);
    fail_unless (err != NULL && err->domain == GST_RESOURCE_ERROR);
    g_clear_error (&err);
  }
  /* nothing was signed: no chain to start */
  fail_unless (gst_bidi_sigv4_signer_get_prior (s) == NULL);

  /* a session token must be sent, and sent as it is */
  tok = gst_bidi_sigv4_signer_new (AKID, SECRET, "SECRETTOKEN", "us-east-1",
      "bedrock", NULL);
  fail_unless (gst_bidi_sigv4_signer_sign_request (tok, "POST", "/", ok, 1,
          NULL, &err) == NULL);
  fail_unless (strstr (err->message, "x-amz-security-token") != NULL);
  fail_unless (strstr (err->message, "SECRETTOKEN") == NULL);
  g_clear_error (&err);
  gst_bidi_sigv4_signer_free (tok);
  gst_bidi_sigv4_signer_free (s);
}

GST_END_TEST;

GST_START_TEST (test_sigv4_signer_new_errors)
{
  const gchar *args[][4] = {
    {"", SECRET, "us-east-1", "bedrock"},
    {"AK/ID", SECRET, "us-east-1", "bedrock"},
    {AKID, "", "us-east-1", "bedrock"},
    {AKID, SECRET, "", "bedrock"},
    {AKID, SECRET, "us-east-1/x", "bedrock"},
    {AKID, SECRET, "us-east-1", "bed rock"},
  };
  GError *err = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (args); i++) {
    fail_unless (gst_bidi_sigv4_signer_new (args[i][0], args[i][1], NULL,
            args[i][2], args[i][3], &err) == NULL, "case %u", i);
    fail_unless (strstr (err->message, SECRET) == NULL);
    g_clear_error (&err);
  }
  /* a token that would break the header it goes in */
  fail_unless (gst_bidi_sigv4_signer_new (AKID, SECRET, "QWERTY\nen",
          "us-east-1", "bedrock", &err) == NULL);
  fail_unless (strstr (err->message, "QWERTY") == NULL);
  g_clear_error (&err);
}

GST_END_TEST;

/* --- SigV4: the event chain -------------------------------------------- */

/* aws-c-auth's test_event_signing: a request, then A, B, C and the empty
 * frame, a second apart */
GST_START_TEST (test_sigv4_aws_c_auth_chain)
{
  const GstBidiSigV4Header headers[] = {
    {"content-encoding", "application/vnd.amazon.eventstream"},
    {"host", "demo.us-east-1.amazonaws.com"},
    {"x-amz-content-sha256", GST_BIDI_SIGV4_STREAMING_PAYLOAD},
    {"x-amz-date", "19810116T063000Z"},
  };
  const gchar *want[] = {
    "7aabf85b765e6a4d0d500b6e968657b14726fa3e1eb7e839302728ffd77629a5",
    "f72aa9642f571d24a6e1ae42f10f073ad9448d8a028b6bcd82da081335adda02",
    "632af120435b57ec241d8bfbb12e496dfd5e2730a1a02ac0ab6eaa230ae02e9a",
    "c6f679ddb3af68f5e82f0cf6761244cb2338cf11e7d01a24130aea1b7c17e53e",
  };
  const gchar *payloads[] = { "A", "B", "C", "" };
  GstBidiSigV4Signer *s = gst_bidi_sigv4_signer_new ("access", "secret",
      NULL, "us-east-1", "demo", NULL);
  GstBidiSigV4Signed *r = gst_bidi_sigv4_signer_sign_request (s, "POST",
      "/streaming", headers, G_N_ELEMENTS (headers), NULL, NULL);
  GDateTime *t0 = g_date_time_new_utc (1981, 1, 16, 6, 30, 0);
  gint64 ms0 = g_date_time_to_unix (t0) * 1000;
  guint8 sig[GST_BIDI_SIGV4_SIGNATURE_SIZE];
  guint i;

  fail_unless (r != NULL);
  fail_unless_equals_string (r->authorization,
      "AWS4-HMAC-SHA256 Credential=access/19810116/us-east-1/demo/"
      "aws4_request, SignedHeaders=content-encoding;host;"
      "x-amz-content-sha256;x-amz-date, Signature="
      "e1d8e8c8815e60969f2a34765c9a15945ffc0badbaa4b7e3b163ea19131e949b");
  for (i = 0; i < G_N_ELEMENTS (want); i++) {
    GBytes *raw = g_bytes_new_static (sig, sizeof (sig));
    gchar *hex;

    fail_unless (gst_bidi_sigv4_signer_sign_event (s, ms0 + 1000 * (i + 1),
            (const guint8 *) payloads[i], strlen (payloads[i]), sig, NULL,
            NULL));
    hex = to_hex (raw);
    fail_unless_equals_string (hex, want[i]);
    fail_unless_equals_string (gst_bidi_sigv4_signer_get_prior (s), want[i]);
    g_free (hex);
    g_bytes_unref (raw);
  }
  g_date_time_unref (t0);
  gst_bidi_sigv4_signed_free (r);
  gst_bidi_sigv4_signer_free (s);
}

GST_END_TEST;

#define INNER_SESSION_END \
  "0000008b 0000004b 421ac6f2" \
  "0b 3a6576656e742d74797065 07 0005 6368756e6b" \
  "0d 3a6d6573736167652d74797065 07 0005 6576656e74" \
  "0d 3a636f6e74656e742d74797065 07 0010 6170706c69636174696f6e2f6a736f6e" \
  "7b226279746573223a2265794a6c646d56756443493665794a7a5a584e7a615739755257" \
  "356b496a703766583139227d" \
  "78d00e62"

/* §5's worked example 3: sessionEnd, then the final empty frame */
GST_START_TEST (test_sigv4_nova_events)
{
  GstBidiSigV4Signer *s = nova_signer ();
  GstBidiSigV4Signed *r = nova_sign (s);
  GBytes *inner = from_hex (INNER_SESSION_END), *frame;
  guint8 sig[GST_BIDI_SIGV4_SIGNATURE_SIZE];
  GstBidiSigV4Signer *s2 = nova_signer ();
  GstBidiSigV4Signed *r2 = nova_sign (s2);
  gchar *sts;
  GError *err = NULL;

  /* the string to sign, from a second signer at the same point */
  fail_unless (gst_bidi_sigv4_signer_sign_event (s2, NOVA_EVENT_MS,
          g_bytes_get_data (inner, NULL), g_bytes_get_size (inner), sig,
          &sts, NULL));
  fail_unless_equals_string (sts, "AWS4-HMAC-SHA256-PAYLOAD\n"
      "20260101T120001Z\n"
      "20260101/us-east-1/bedrock/aws4_request\n"
      SEED "\n"
      "56470cf74b6de5531ceee9d69281a7b890c5c11a5da7b12abf27e86810db566b\n"
      "8e3003f89a67292912b6445989c7afef87b8c323673d541d594ad7e43949a070");
  g_free (sts);

  frame = gst_bidi_sigv4_signer_next (s, NOVA_EVENT_MS, inner, &err);
  g_assert_no_error (err);
  fail_unless_equals_int (g_bytes_get_size (frame), 222);
  assert_bytes_hex (frame, "000000de 00000043 bc320e7b"
      "05 3a64617465 08 0000019b796dd9e8"
      "10 3a6368756e6b2d7369676e6174757265 06 0020"
      "35fbdc673fb8b4b0593ee716058f5b74dc37c460eaf8f559c72a62276eaebe0f"
      INNER_SESSION_END "000493e5");
  fail_unless_equals_string (gst_bidi_sigv4_signer_get_prior (s),
      "35fbdc673fb8b4b0593ee716058f5b74dc37c460eaf8f559c72a62276eaebe0f");
  g_bytes_unref (frame);

  /* an empty event is only the end, which finish() sends */
  fail_unless (gst_bidi_sigv4_signer_next (s, NOVA_EVENT_MS + 1000, NULL,
          &err) == NULL);
  g_clear_error (&err);
  frame = gst_bidi_sigv4_signer_finish (s, NOVA_EVENT_MS + 1000, &err);
  g_assert_no_error (err);
  assert_bytes_hex (frame, "00000053 00000043 f5447a58"
      "053a64617465080000019b796dddd0 103a6368756e6b2d7369676e6174757265060020"
      "b7fb802dd0dad3785ee3d720d22fb6aceb55e654a2f1e5bbce02dc81764a07b3"
      "03f42af9");
  g_bytes_unref (frame);

  /* the chain is closed */
  fail_unless (gst_bidi_sigv4_signer_next (s, NOVA_EVENT_MS + 2000, inner,
          &err) == NULL);
  fail_unless (err != NULL);
  g_clear_error (&err);
  fail_unless (gst_bidi_sigv4_signer_finish (s, NOVA_EVENT_MS + 2000,
          &err) == NULL);
  g_clear_error (&err);

  g_bytes_unref (inner);
  gst_bidi_sigv4_signed_free (r);
  gst_bidi_sigv4_signed_free (r2);
  gst_bidi_sigv4_signer_free (s);
  gst_bidi_sigv4_signer_free (s2);
}

GST_END_TEST;

/* §16: :date keeps the milliseconds, the string to sign the second (our
 * computation) */
GST_START_TEST (test_sigv4_event_milliseconds)
{
  GstBidiSigV4Signer *s = nova_signer ();
  GstBidiSigV4Signed *r = nova_sign (s);
  GBytes *inner = from_hex (INNER_SESSION_END), *frame;
  GstBidiEsMessage *msg;
  const GstBidiEsHeader *date;

  frame = gst_bidi_sigv4_signer_next (s, NOVA_EVENT_MS + 123, inner, NULL);
  fail_unless (frame != NULL);
  fail_unless_equals_string (gst_bidi_sigv4_signer_get_prior (s),
      "13e28d137461c61faa620a7bca605edd12cb429ec646bb79683d6ed2e90f7817");
  msg = gst_bidi_es_message_decode (g_bytes_get_data (frame, NULL),
      g_bytes_get_size (frame), 0, NULL);
  fail_unless (msg != NULL);
  date = gst_bidi_es_message_get_header (msg, ":date");
  fail_unless (date != NULL && date->type == GST_BIDI_ES_TIMESTAMP);
  fail_unless_equals_int64 (date->num, NOVA_EVENT_MS + 123);
  fail_unless (g_bytes_equal (msg->payload, inner));
  gst_bidi_es_message_free (msg);
  g_bytes_unref (frame);
  g_bytes_unref (inner);
  gst_bidi_sigv4_signed_free (r);
  gst_bidi_sigv4_signer_free (s);
}

GST_END_TEST;

GST_START_TEST (test_sigv4_event_errors)
{
  GstBidiSigV4Signer *s = nova_signer ();
  GstBidiSigV4Signed *r;
  guint8 sig[GST_BIDI_SIGV4_SIGNATURE_SIZE];
  GError *err = NULL;

  /* no seed yet */
  fail_unless (!gst_bidi_sigv4_signer_sign_event (s, NOVA_EVENT_MS,
          (const guint8 *) "x", 1, sig, NULL, &err));
  fail_unless (err != NULL);
  g_clear_error (&err);
  r = nova_sign (s);
  /* a time the date format cannot hold leaves the chain as it was */
  fail_unless (!gst_bidi_sigv4_signer_sign_event (s, -1,
          (const guint8 *) "x", 1, sig, NULL, &err));
  g_clear_error (&err);
  fail_unless (!gst_bidi_sigv4_signer_sign_event (s, G_MAXINT64,
          (const guint8 *) "x", 1, sig, NULL, &err));
  g_clear_error (&err);
  fail_unless_equals_string (gst_bidi_sigv4_signer_get_prior (s), SEED);
  /* a new request restarts the chain, also after the end */
  fail_unless (gst_bidi_sigv4_signer_sign_event (s, NOVA_EVENT_MS, NULL, 0,
          sig, NULL, NULL));
  gst_bidi_sigv4_signed_free (r);
  r = nova_sign (s);
  fail_unless_equals_string (gst_bidi_sigv4_signer_get_prior (s), SEED);
  fail_unless (gst_bidi_sigv4_signer_sign_event (s, NOVA_EVENT_MS,
          (const guint8 *) "x", 1, sig, NULL, NULL));
  gst_bidi_sigv4_signed_free (r);
  gst_bidi_sigv4_signer_free (s);
}

GST_END_TEST;

/* --- event-stream ------------------------------------------------------- */

#define EXAMPLE1 \
  "00000030 00000014 ded9b392" \
  "0b 736f6d652d686561646572 07 0005 76616c7565" \
  "74657374207061796c6f6164" \
  "3e89b924"

#define EXAMPLE2_B64 \
  "AAAAUwAAAEP1RHpYBTpkYXRlCAAAAWiXUkMLEDpjaHVuay1zaWduYXR1cmUGACCt6Zy+" \
  "uymwEK2SrLp/zVBI5eGn83jdBwCaRUBJA+eaDafqjqI="

GST_START_TEST (test_es_crc32)
{
  guint32 crc = gst_bidi_es_crc32 (0, (const guint8 *) "123456789", 9);

  fail_unless_equals_int (crc, 0xcbf43926);
  /* in pieces */
  crc = gst_bidi_es_crc32 (0, (const guint8 *) "1234", 4);
  fail_unless_equals_int (gst_bidi_es_crc32 (crc,
          (const guint8 *) "56789", 5), 0xcbf43926);
  fail_unless_equals_int (gst_bidi_es_crc32 (0, NULL, 0), 0);
}

GST_END_TEST;

/* §4 worked example 1, both ways */
GST_START_TEST (test_es_example1)
{
  GstBidiEsMessage *msg = gst_bidi_es_message_new (), *back;
  GBytes *payload = g_bytes_new_static ("test payload", 12), *enc;
  GError *err = NULL;

  gst_bidi_es_message_add_string (msg, "some-header", "value");
  gst_bidi_es_message_set_payload (msg, payload);
  enc = gst_bidi_es_message_encode (msg, &err);
  g_assert_no_error (err);
  assert_bytes_hex (enc, EXAMPLE1);
  {
    gchar *sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, enc);

    fail_unless_equals_string (sha, "f2eba0f2e95967ee9fbc6db5e678d2fd59922"
        "9c0d04b11e4fc8e0f2a02a806c6");
    g_free (sha);
  }

  back = gst_bidi_es_message_decode (g_bytes_get_data (enc, NULL),
      g_bytes_get_size (enc), 0, &err);
  g_assert_no_error (err);
  fail_unless_equals_int (back->headers->len, 1);
  fail_unless_equals_string (gst_bidi_es_message_get_string (back,
          "some-header"), "value");
  fail_unless (gst_bidi_es_message_get_string (back, "other") == NULL);
  fail_unless (g_bytes_equal (back->payload, payload));
  gst_bidi_es_message_free (back);
  gst_bidi_es_message_free (msg);
  g_bytes_unref (enc);
  g_bytes_unref (payload);
}

GST_END_TEST;

/* §4 worked example 2: a published signed empty end frame */
GST_START_TEST (test_es_example2)
{
  gsize len;
  guchar *data = g_base64_decode (EXAMPLE2_B64, &len);
  GstBidiEsMessage *msg = gst_bidi_es_message_decode (data, len, 0, NULL);
  const GstBidiEsHeader *date, *sig;
  GBytes *want_sig = from_hex ("ade99cbebb29b010ad92acba7fcd5048e5e1a7f378dd0"
      "7009a45404903e79a0d"), *enc;

  fail_unless_equals_int (len, 83);
  fail_unless (msg != NULL);
  date = gst_bidi_es_message_get_header (msg, ":date");
  sig = gst_bidi_es_message_get_header (msg, ":chunk-signature");
  fail_unless (date && date->type == GST_BIDI_ES_TIMESTAMP);
  fail_unless_equals_int64 (date->num, G_GINT64_CONSTANT (1548726977291));
  fail_unless (sig && sig->type == GST_BIDI_ES_BYTES);
  fail_unless (g_bytes_equal (sig->data, want_sig));
  fail_unless_equals_int (g_bytes_get_size (msg->payload), 0);
  /* and it encodes back to the same bytes */
  enc = gst_bidi_es_message_encode (msg, NULL);
  fail_unless_equals_int (g_bytes_get_size (enc), len);
  fail_unless (memcmp (g_bytes_get_data (enc, NULL), data, len) == 0);
  g_bytes_unref (enc);
  g_bytes_unref (want_sig);
  gst_bidi_es_message_free (msg);
  g_free (data);
}

GST_END_TEST;

/* Every header type there is, round trip */
GST_START_TEST (test_es_all_types)
{
  static const guint8 uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    13, 14, 15, 16
  };
  GstBidiEsMessage *msg = gst_bidi_es_message_new (), *back;
  GBytes *enc;
  const GstBidiEsHeader *h;
  guint i;

  gst_bidi_es_message_add_bool (msg, "t", TRUE);
  gst_bidi_es_message_add_bool (msg, "f", FALSE);
  gst_bidi_es_message_add_int (msg, "b", GST_BIDI_ES_BYTE, -2);
  gst_bidi_es_message_add_int (msg, "s", GST_BIDI_ES_INT16, -300);
  gst_bidi_es_message_add_int (msg, "i", GST_BIDI_ES_INT32, G_MININT32);
  gst_bidi_es_message_add_int (msg, "l", GST_BIDI_ES_INT64, G_MAXINT64);
  gst_bidi_es_message_add_bytes (msg, "y", GST_BIDI_ES_BYTES,
      (const guint8 *) "\0\1\2", 3);
  gst_bidi_es_message_add_string (msg, "str", "h\xc3\xa9");
  gst_bidi_es_message_add_int (msg, "ts", GST_BIDI_ES_TIMESTAMP, -5);
  gst_bidi_es_message_add_bytes (msg, "u", GST_BIDI_ES_UUID, uuid, 16);
  gst_bidi_es_message_add_string (msg, "empty", "");
  enc = gst_bidi_es_message_encode (msg, NULL);
  fail_unless (enc != NULL);
  back = gst_bidi_es_message_decode (g_bytes_get_data (enc, NULL),
      g_bytes_get_size (enc), 0, NULL);
  fail_unless (back != NULL);
  fail_unless_equals_int (back->headers->len, msg->headers->len);
  for (i = 0; i < msg->headers->len; i++) {
    const GstBidiEsHeader *a = g_ptr_array_index (msg->headers, i);
    const GstBidiEsHeader *b = g_ptr_array_index (back->headers, i);

    fail_unless_equals_string (a->name, b->name);
    fail_unless_equals_int (a->type, b->type);
    fail_unless_equals_int64 (a->num, b->num);
    fail_unless ((a->data == NULL) == (b->data == NULL));
    fail_unless (!a->data || g_bytes_equal (a->data, b->data));
  }
  h = gst_bidi_es_message_get_header (back, "l");
  fail_unless_equals_int64 (h->num, G_MAXINT64);
  fail_unless_equals_string (gst_bidi_es_message_get_string (back, "str"),
      "h\xc3\xa9");
  fail_unless_equals_string (gst_bidi_es_message_get_string (back, "empty"),
      "");
  /* not a string */
  fail_unless (gst_bidi_es_message_get_string (back, "y") == NULL);
  gst_bidi_es_message_free (back);
  gst_bidi_es_message_free (msg);
  g_bytes_unref (enc);
}

GST_END_TEST;

GST_START_TEST (test_es_encode_limits)
{
  GstBidiEsMessage *msg = gst_bidi_es_message_new ();
  gchar *name = g_strnfill (256, 'n');
  guint8 *big = g_malloc0 (GST_BIDI_ES_MAX_HEADER_VALUE + 1);
  GError *err = NULL;
  GBytes *payload;

  gst_bidi_es_message_add_string (msg, name, "v");
  fail_unless (gst_bidi_es_message_encode (msg, &err) == NULL);
  fail_unless (err != NULL && err->domain == GST_STREAM_ERROR);
  g_clear_error (&err);
  gst_bidi_es_message_free (msg);

  msg = gst_bidi_es_message_new ();
  gst_bidi_es_message_add_bytes (msg, "b", GST_BIDI_ES_BYTES, big,
      GST_BIDI_ES_MAX_HEADER_VALUE + 1);
  fail_unless (gst_bidi_es_message_encode (msg, &err) == NULL);
  g_clear_error (&err);
  gst_bidi_es_message_free (msg);

  msg = gst_bidi_es_message_new ();
  payload = g_bytes_new_take (g_malloc0 (GST_BIDI_ES_MAX_MESSAGE_SIZE),
      GST_BIDI_ES_MAX_MESSAGE_SIZE);
  gst_bidi_es_message_set_payload (msg, payload);
  fail_unless (gst_bidi_es_message_encode (msg, &err) == NULL);
  g_clear_error (&err);
  g_bytes_unref (payload);
  gst_bidi_es_message_free (msg);
  g_free (big);
  g_free (name);
}

GST_END_TEST;

/* A message with valid CRCs around @headers (hex) and @payload */
static GBytes *
frame_with_crcs (const gchar * headers_hex, const gchar * payload)
{
  GBytes *h = from_hex (headers_hex);
  gsize hlen = g_bytes_get_size (h), plen = strlen (payload);
  GByteArray *out = g_byte_array_new ();
  guint8 word[4];

  g_byte_array_set_size (out, 12);
  GST_WRITE_UINT32_BE (out->data, hlen + plen + 16);
  GST_WRITE_UINT32_BE (out->data + 4, hlen);
  GST_WRITE_UINT32_BE (out->data + 8, gst_bidi_es_crc32 (0, out->data, 8));
  g_byte_array_append (out, g_bytes_get_data (h, NULL), hlen);
  g_byte_array_append (out, (const guint8 *) payload, plen);
  GST_WRITE_UINT32_BE (word, gst_bidi_es_crc32 (0, out->data, out->len));
  g_byte_array_append (out, word, 4);
  g_bytes_unref (h);
  return g_byte_array_free_to_bytes (out);
}

/* Decodes @data in one go: NULL and the error text when it fails */
static GstBidiEsMessage *
decode_all (GBytes * data, gsize max, gchar ** message)
{
  GstBidiEsDecoder *dec = gst_bidi_es_decoder_new (max);
  GError *err = NULL;
  GstBidiEsMessage *msg;

  fail_unless (gst_bidi_es_decoder_feed (dec, g_bytes_get_data (data, NULL),
          g_bytes_get_size (data), NULL));
  msg = gst_bidi_es_decoder_next (dec, &err);
  if (!msg) {
    fail_unless (err != NULL, "no message and no error");
    fail_unless (err->domain == GST_STREAM_ERROR);
    fail_unless (gst_bidi_es_decoder_failed (dec));
    /* and it stays broken */
    fail_unless (!gst_bidi_es_decoder_feed (dec, (const guint8 *) "x", 1,
            NULL));
    fail_unless (gst_bidi_es_decoder_next (dec, NULL) == NULL);
    *message = g_strdup (err->message);
    g_error_free (err);
  }
  gst_bidi_es_decoder_free (dec);
  return msg;
}

static void
assert_refused (GBytes * data, gsize max, const gchar * what)
{
  gchar *message = NULL;

  fail_unless (decode_all (data, max, &message) == NULL);
  fail_unless (strstr (message, what) != NULL, "'%s' does not say '%s'",
      message, what);
  g_free (message);
}

GST_START_TEST (test_es_bad_crc)
{
  GBytes *good = from_hex (EXAMPLE1), *bad;
  guint8 *copy;
  gsize len;

  /* a bit flipped in the prelude's lengths, in the prelude CRC, then in
   * the payload and in the message CRC */
  copy = g_bytes_unref_to_data (g_bytes_ref (good), &len);
  copy[3] ^= 0x01;
  bad = g_bytes_new_take (copy, len);
  assert_refused (bad, 0, "prelude CRC");
  g_bytes_unref (bad);

  copy = g_bytes_unref_to_data (g_bytes_ref (good), &len);
  copy[10] ^= 0x80;
  bad = g_bytes_new_take (copy, len);
  assert_refused (bad, 0, "prelude CRC");
  g_bytes_unref (bad);

  copy = g_bytes_unref_to_data (g_bytes_ref (good), &len);
  copy[40] ^= 0x20;
  bad = g_bytes_new_take (copy, len);
  assert_refused (bad, 0, "message CRC");
  g_bytes_unref (bad);

  copy = g_bytes_unref_to_data (g_bytes_ref (good), &len);
  copy[len - 1] ^= 0x01;
  bad = g_bytes_new_take (copy, len);
  assert_refused (bad, 0, "message CRC");
  g_bytes_unref (bad);
  g_bytes_unref (good);
}

GST_END_TEST;

/* Prelude CRC right, lengths impossible or over the limits: refused as
 * soon as the prelude is there, before the rest is waited for */
static GBytes *
prelude (guint32 total, guint32 headers)
{
  guint8 *p = g_malloc (12);

  GST_WRITE_UINT32_BE (p, total);
  GST_WRITE_UINT32_BE (p + 4, headers);
  GST_WRITE_UINT32_BE (p + 8, gst_bidi_es_crc32 (0, p, 8));
  return g_bytes_new_take (p, 12);
}

GST_START_TEST (test_es_oversized)
{
  GBytes *b;

  b = prelude (G_MAXUINT32, 0);
  assert_refused (b, 0, "out of range");
  g_bytes_unref (b);
  b = prelude (1025, 0);
  assert_refused (b, 1024, "out of range");
  g_bytes_unref (b);
  b = prelude (15, 0);
  assert_refused (b, 0, "out of range");
  g_bytes_unref (b);
  b = prelude (1000, 985);
  assert_refused (b, 0, "headers length");
  g_bytes_unref (b);
  b = prelude (1024 * 1024, GST_BIDI_ES_MAX_HEADERS_SIZE + 1);
  assert_refused (b, 0, "headers length");
  g_bytes_unref (b);
  /* a message at the limit is taken, one byte more is not */
  b = from_hex (EXAMPLE1);
  {
    gchar *m = NULL;
    GstBidiEsMessage *msg = decode_all (b, 48, &m);

    fail_unless (msg != NULL);
    gst_bidi_es_message_free (msg);
    assert_refused (b, 47, "out of range");
  }
  g_bytes_unref (b);
}

GST_END_TEST;

/* Headers that break the format, with CRCs that are right */
GST_START_TEST (test_es_bad_headers)
{
  struct
  {
    const gchar *hex, *what;
  } cases[] = {
    {"01 61 0a", "unknown header type 10"},
    {"01 61 ff", "unknown header type 255"},
    {"00 07 0000", "header name"},
    {"05 6162", "header name"},
    {"01 61 07 0005 6162", "runs past"},
    {"01 61 05 00000000", "runs past"},
    {"01 61 06", "runs past"},
    {"01 61 09 0102", "runs past"},
    {"01 61 07 0002 c328", "UTF-8"},
    {"01 61 07 0002 6100", "UTF-8"},
    {"02 c328 00", "UTF-8"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GBytes *b = frame_with_crcs (cases[i].hex, "p");

    assert_refused (b, 0, cases[i].what);
    g_bytes_unref (b);
  }
}

GST_END_TEST;

/* Headers over the limits, with CRCs that are right */
GST_START_TEST (test_es_too_many_headers)
{
  GString *hex = g_string_new (NULL);
  GBytes *b;
  guint i;

  for (i = 0; i <= GST_BIDI_ES_MAX_HEADERS; i++)
    g_string_append (hex, "01 61 00 ");
  b = frame_with_crcs (hex->str, "");
  assert_refused (b, 0, "more than 1024 headers");
  g_bytes_unref (b);

  /* a value longer than the format's limit, all there */
  g_string_assign (hex, "01 61 06 8000");
  for (i = 0; i < 0x8000; i++)
    g_string_append (hex, "00");
  b = frame_with_crcs (hex->str, "");
  assert_refused (b, 0, "at most 32767");
  g_bytes_unref (b);
  g_string_free (hex, TRUE);
}

GST_END_TEST;

/* The stream of the three doc examples, back to back */
static GBytes *
three_messages (void)
{
  gsize len;
  guchar *ex2 = g_base64_decode (EXAMPLE2_B64, &len);
  GBytes *ex2b = g_bytes_new_take (ex2, len);
  gchar *hex2 = to_hex (ex2b);
  gchar *all = g_strconcat (EXAMPLE1, hex2, INNER_SESSION_END, NULL);
  GBytes *out = from_hex (all);

  g_free (all);
  g_free (hex2);
  g_bytes_unref (ex2b);
  return out;
}

/* Feeds @data in slices of @first bytes then @rest bytes, taking out the
 * messages as they complete; checks the three messages came whole */
static void
feed_sliced (GBytes * data, gsize first, gsize rest)
{
  GstBidiEsDecoder *dec = gst_bidi_es_decoder_new (0);
  gsize len, off = 0;
  const guint8 *p = g_bytes_get_data (data, &len);
  const gchar *first_strings[] = { "value", NULL, "chunk" };
  guint got = 0;

  while (off < len) {
    gsize n = MIN (off == 0 ? first : rest, len - off);
    GstBidiEsMessage *msg;
    GError *err = NULL;

    fail_unless (gst_bidi_es_decoder_feed (dec, p + off, n, NULL));
    off += n;
    while ((msg = gst_bidi_es_decoder_next (dec, &err))) {
      const GstBidiEsHeader *h = g_ptr_array_index (msg->headers, 0);

      fail_unless (got < 3);
      if (first_strings[got]) {
        fail_unless_equals_string (g_bytes_get_data (h->data, NULL),
            first_strings[got]);
      } else {
        fail_unless_equals_string (h->name, ":date");
      }
      got++;
      gst_bidi_es_message_free (msg);
    }
    g_assert_no_error (err);
    if (off < len)
      fail_unless (gst_bidi_es_decoder_pending (dec) > 0 || got > 0);
  }
  fail_unless_equals_int (got, 3);
  fail_unless_equals_int (gst_bidi_es_decoder_pending (dec), 0);
  gst_bidi_es_decoder_free (dec);
}

GST_START_TEST (test_es_byte_by_byte)
{
  GBytes *all = three_messages ();

  feed_sliced (all, 1, 1);
  g_bytes_unref (all);
}

GST_END_TEST;

GST_START_TEST (test_es_split_everywhere)
{
  GBytes *all = three_messages ();
  gsize i, len = g_bytes_get_size (all);

  for (i = 1; i <= len; i++)
    feed_sliced (all, i, len);
  /* and in slices of every size */
  for (i = 2; i < 100; i++)
    feed_sliced (all, i, i);
  g_bytes_unref (all);
}

GST_END_TEST;

/* A stream cut short: no message, no error, the bytes pending */
GST_START_TEST (test_es_truncated)
{
  GBytes *one = from_hex (EXAMPLE1);
  GstBidiEsDecoder *dec = gst_bidi_es_decoder_new (0);
  GError *err = NULL;

  /* nothing yet (found by fuzz_eventstream: no buffer at all) */
  fail_unless (gst_bidi_es_decoder_next (dec, &err) == NULL);
  g_assert_no_error (err);
  fail_unless (gst_bidi_es_decoder_feed (dec, NULL, 0, NULL));
  fail_unless (gst_bidi_es_decoder_next (dec, &err) == NULL);
  g_assert_no_error (err);
  fail_unless (gst_bidi_es_decoder_feed (dec, g_bytes_get_data (one, NULL),
          47, NULL));
  fail_unless (gst_bidi_es_decoder_next (dec, &err) == NULL);
  g_assert_no_error (err);
  fail_unless (!gst_bidi_es_decoder_failed (dec));
  fail_unless_equals_int (gst_bidi_es_decoder_pending (dec), 47);
  gst_bidi_es_decoder_free (dec);

  /* one message alone must be exactly its length */
  fail_unless (gst_bidi_es_message_decode (g_bytes_get_data (one, NULL), 47,
          0, &err) == NULL);
  g_clear_error (&err);
  fail_unless (gst_bidi_es_message_decode (g_bytes_get_data (one, NULL), 5,
          0, &err) == NULL);
  g_clear_error (&err);
  g_bytes_unref (one);
}

GST_END_TEST;

/* Garbage after a good message: the good one comes out first */
GST_START_TEST (test_es_garbage_after)
{
  GBytes *one = from_hex (EXAMPLE1);
  GstBidiEsDecoder *dec = gst_bidi_es_decoder_new (0);
  GstBidiEsMessage *msg;
  GError *err = NULL;

  gst_bidi_es_decoder_feed (dec, g_bytes_get_data (one, NULL), 48, NULL);
  gst_bidi_es_decoder_feed (dec, (const guint8 *) "HTTP/1.1 200 OK\r\n",
      17, NULL);
  msg = gst_bidi_es_decoder_next (dec, &err);
  fail_unless (msg != NULL);
  gst_bidi_es_message_free (msg);
  fail_unless (gst_bidi_es_decoder_next (dec, &err) == NULL);
  fail_unless (err != NULL);
  fail_unless (gst_bidi_es_decoder_failed (dec));
  g_clear_error (&err);
  gst_bidi_es_decoder_free (dec);
  g_bytes_unref (one);
}

GST_END_TEST;

/* --- the chunk layer ---------------------------------------------------- */

GST_START_TEST (test_chunk_encode)
{
  GError *err = NULL;
  GBytes *inner = gst_bidi_bedrock_chunk_encode ("{\"event\":"
      "{\"sessionEnd\":{}}}", -1, &err);

  g_assert_no_error (err);
  fail_unless_equals_int (g_bytes_get_size (inner), 139);
  assert_bytes_hex (inner, INNER_SESSION_END);
  g_bytes_unref (inner);
}

GST_END_TEST;

static GstBidiEsMessage *
server_message (const gchar * message_type, const gchar * event_type,
    const gchar * name, const gchar * value, const gchar * payload)
{
  GstBidiEsMessage *msg = gst_bidi_es_message_new ();
  GBytes *p = g_bytes_new (payload, strlen (payload));

  gst_bidi_es_message_add_string (msg, ":message-type", message_type);
  if (event_type)
    gst_bidi_es_message_add_string (msg, ":event-type", event_type);
  if (name)
    gst_bidi_es_message_add_string (msg, name, value);
  gst_bidi_es_message_set_payload (msg, p);
  g_bytes_unref (p);
  return msg;
}

GST_START_TEST (test_chunk_decode)
{
  GBytes *inner = from_hex (INNER_SESSION_END);
  GstBidiEsMessage *msg = gst_bidi_es_message_decode (g_bytes_get_data (inner,
          NULL), g_bytes_get_size (inner), 0, NULL);
  GstBidiBedrockChunk c;
  GError *err = NULL;

  fail_unless (gst_bidi_bedrock_chunk_decode (msg, 1024, &c, &err));
  g_assert_no_error (err);
  fail_unless_equals_int (c.kind, GST_BIDI_BEDROCK_CHUNK_EVENT);
  fail_unless_equals_string (c.json, "{\"event\":{\"sessionEnd\":{}}}");
  fail_unless_equals_int (c.json_len, 27);
  gst_bidi_bedrock_chunk_clear (&c);
  /* larger than the caller takes */
  fail_unless (!gst_bidi_bedrock_chunk_decode (msg, 26, &c, &err));
  fail_unless (err != NULL);
  g_clear_error (&err);
  fail_unless (c.json == NULL);
  gst_bidi_es_message_free (msg);
  g_bytes_unref (inner);

  msg = server_message ("exception", NULL, ":exception-type",
      "validationException", "{\"message\":\"bad input\"}");
  fail_unless (gst_bidi_bedrock_chunk_decode (msg, 1024, &c, NULL));
  fail_unless_equals_int (c.kind, GST_BIDI_BEDROCK_CHUNK_EXCEPTION);
  fail_unless_equals_string (c.name, "validationException");
  fail_unless_equals_string (c.message, "bad input");
  gst_bidi_bedrock_chunk_clear (&c);
  gst_bidi_es_message_free (msg);

  /* an exception whose payload is not JSON is still an exception */
  msg = server_message ("exception", NULL, ":exception-type",
      "throttlingException", "<html>");
  fail_unless (gst_bidi_bedrock_chunk_decode (msg, 1024, &c, NULL));
  fail_unless_equals_int (c.kind, GST_BIDI_BEDROCK_CHUNK_EXCEPTION);
  fail_unless (c.message == NULL);
  gst_bidi_bedrock_chunk_clear (&c);
  gst_bidi_es_message_free (msg);

  msg = server_message ("error", NULL, ":error-code", "InternalFailure", "");
  gst_bidi_es_message_add_string (msg, ":error-message", "oops");
  fail_unless (gst_bidi_bedrock_chunk_decode (msg, 1024, &c, NULL));
  fail_unless_equals_int (c.kind, GST_BIDI_BEDROCK_CHUNK_ERROR);
  fail_unless_equals_string (c.name, "InternalFailure");
  fail_unless_equals_string (c.message, "oops");
  gst_bidi_bedrock_chunk_clear (&c);
  gst_bidi_es_message_free (msg);

  msg = server_message ("event", "somethingNew", NULL, NULL, "{}");
  fail_unless (gst_bidi_bedrock_chunk_decode (msg, 1024, &c, NULL));
  fail_unless_equals_int (c.kind, GST_BIDI_BEDROCK_CHUNK_OTHER);
  fail_unless_equals_string (c.name, "somethingNew");
  gst_bidi_bedrock_chunk_clear (&c);
  gst_bidi_es_message_free (msg);
}

GST_END_TEST;

GST_START_TEST (test_chunk_decode_errors)
{
  const gchar *payloads[] = {
    "", "not json", "[1]", "{}", "{\"bytes\":3}", "{\"bytes\":\"@@@@\"}",
    "{\"bytes\":\"eyJ\"}",
    /* base64 of "\xff\xfe": not UTF-8 */
    "{\"bytes\":\"//4=\"}",
  };
  GstBidiBedrockChunk c;
  GstBidiEsMessage *msg;
  GError *err = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (payloads); i++) {
    msg = server_message ("event", "chunk", NULL, NULL, payloads[i]);
    fail_unless (!gst_bidi_bedrock_chunk_decode (msg, 1024, &c, &err),
        "payload %u taken", i);
    fail_unless (err != NULL);
    g_clear_error (&err);
    fail_unless (c.json == NULL && c.name == NULL);
    gst_bidi_es_message_free (msg);
  }
  /* no :message-type */
  msg = gst_bidi_es_message_new ();
  fail_unless (!gst_bidi_bedrock_chunk_decode (msg, 1024, &c, &err));
  fail_unless (strstr (err->message, ":message-type") != NULL);
  g_clear_error (&err);
  gst_bidi_es_message_free (msg);
}

GST_END_TEST;

/* --- credentials -------------------------------------------------------- */

static const gchar *aws_vars[] = {
  "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
  "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE",
  "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
};

static gchar *home, *old_home;

/* A temporary HOME with no AWS files and no AWS variables */
static void
creds_setup (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (aws_vars); i++)
    g_unsetenv (aws_vars[i]);
  old_home = g_strdup (g_getenv ("HOME"));
  home = g_dir_make_tmp ("bidi-nova-XXXXXX", NULL);
  fail_unless (home != NULL);
  g_setenv ("HOME", home, TRUE);
}

static void
remove_tree (const gchar * path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const gchar *name;

  if (dir) {
    while ((name = g_dir_read_name (dir))) {
      gchar *child = g_build_filename (path, name, NULL);

      remove_tree (child);
      g_free (child);
    }
    g_dir_close (dir);
  }
  g_remove (path);
}

static void
creds_teardown (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (aws_vars); i++)
    g_unsetenv (aws_vars[i]);
  remove_tree (home);
  g_clear_pointer (&home, g_free);
  if (old_home)
    g_setenv ("HOME", old_home, TRUE);
  g_clear_pointer (&old_home, g_free);
}

static gchar *
write_file (const gchar * rel, const gchar * text)
{
  gchar *path = g_build_filename (home, rel, NULL);
  gchar *dir = g_path_get_dirname (path);

  g_mkdir_with_parents (dir, 0700);
  fail_unless (g_file_set_contents (path, text, -1, NULL));
  g_free (dir);
  return path;
}

static void
assert_creds (GstBidiAwsCredentials * c, const gchar * key,
    const gchar * secret, const gchar * token, const gchar * region)
{
  fail_unless (c != NULL);
  fail_unless_equals_string (c->access_key_id, key);
  fail_unless_equals_string (c->secret_access_key, secret);
  fail_unless_equals_string (c->session_token, token);
  fail_unless_equals_string (c->region, region);
  fail_unless (c->source != NULL);
  fail_unless (strstr (c->source, secret) == NULL);
  gst_bidi_aws_credentials_free (c);
}

GST_START_TEST (test_creds_explicit)
{
  GError *err = NULL;

  /* the properties win over the environment */
  g_setenv ("AWS_ACCESS_KEY_ID", "ENVKEY", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "envsecret", TRUE);
  g_setenv ("AWS_REGION", "eu-west-1", TRUE);
  assert_creds (gst_bidi_aws_credentials_resolve ("PROPKEY", "propsecret",
          "proptoken", "us-west-2", NULL), "PROPKEY", "propsecret",
      "proptoken", "us-west-2");
  /* the region comes from the environment when not set */
  assert_creds (gst_bidi_aws_credentials_resolve ("PROPKEY", "propsecret",
          "", NULL, NULL), "PROPKEY", "propsecret", NULL, "eu-west-1");
  /* one without the other is a mistake, not a fall-through */
  fail_unless (gst_bidi_aws_credentials_resolve ("PROPKEY", NULL, NULL, NULL,
          &err) == NULL);
  fail_unless (strstr (err->message, "secret-access-key") != NULL);
  g_clear_error (&err);
  fail_unless (gst_bidi_aws_credentials_resolve ("", "propsecret", NULL,
          NULL, &err) == NULL);
  fail_unless (strstr (err->message, "propsecret") == NULL);
  g_clear_error (&err);
}

GST_END_TEST;

GST_START_TEST (test_creds_env)
{
  g_setenv ("AWS_ACCESS_KEY_ID", "ENVKEY", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "envsecret", TRUE);
  g_setenv ("AWS_SESSION_TOKEN", "envtoken", TRUE);
  g_setenv ("AWS_DEFAULT_REGION", "ap-northeast-1", TRUE);
  assert_creds (gst_bidi_aws_credentials_resolve (NULL, NULL, NULL, NULL,
          NULL), "ENVKEY", "envsecret", "envtoken", "ap-northeast-1");
  /* AWS_REGION before AWS_DEFAULT_REGION */
  g_setenv ("AWS_REGION", "us-east-1", TRUE);
  assert_creds (gst_bidi_aws_credentials_resolve (NULL, NULL, NULL, NULL,
          NULL), "ENVKEY", "envsecret", "envtoken", "us-east-1");
}

GST_END_TEST;

#define CREDENTIALS_FILE \
  "# comment\n" \
  "; another\n" \
  "[default]\n" \
  "aws_access_key_id = DEFKEY\n" \
  "aws_secret_access_key = defsecret\n" \
  "\n" \
  "[dev]\r\n" \
  "  aws_access_key_id=DEVKEY  \r\n" \
  "aws_secret_access_key =dev/secret+x=\r\n" \
  "aws_session_token = devtoken\r\n"

#define CONFIG_FILE \
  "[default]\n" \
  "region = us-west-2\n" \
  "[profile dev]\n" \
  "region = eu-central-1\n" \
  "s3 =\n" \
  "  region = ignored\n" \
  "[dev]\n" \
  "region = not-a-config-section\n" \
  "[profile cfgonly]\n" \
  "aws_access_key_id = CFGKEY\n" \
  "aws_secret_access_key = cfgsecret\n" \
  "region = us-east-1\n" \
  "[profile role]\n" \
  "role_arn = arn:aws:iam::1:role/x\n"

GST_START_TEST (test_creds_files)
{
  gchar *p1 = write_file (".aws/credentials", CREDENTIALS_FILE);
  gchar *p2 = write_file (".aws/config", CONFIG_FILE);
  GError *err = NULL;

  assert_creds (gst_bidi_aws_credentials_resolve (NULL, NULL, NULL, NULL,
          NULL), "DEFKEY", "defsecret", NULL, "us-west-2");
  g_setenv ("AWS_PROFILE", "dev", TRUE);
  assert_creds (gst_bidi_aws_credentials_resolve (NULL, NULL, NULL, NULL,
          NULL), "DEVKEY", "dev/secret+x=", "devtoken", "eu-central-1");
  /* keys in the config file alone */
  g_setenv ("AWS_PROFILE", "cfgonly", TRUE);
  assert_creds (gst_bidi_aws_credentials_resolve (NULL, NULL, NULL, NULL,
          NULL), "CFGKEY", "cfgsecret", NULL, "us-east-1");
  /* the region property still wins over the file */
  assert_creds (gst_bidi_aws_credentials_resolve (NULL, NULL, NULL,
          "ap-northeast-1", NULL), "CFGKEY", "cfgsecret", NULL,
      "ap-northeast-1");
  /* the profile's region with keys from the environment */
  g_setenv ("AWS_PROFILE", "dev", TRUE);
  g_setenv ("AWS_ACCESS_KEY_ID", "ENVKEY", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "envsecret", TRUE);
  assert_creds (gst_bidi_aws_credentials_resolve (NULL, NULL, NULL, NULL,
          NULL), "ENVKEY", "envsecret", NULL, "eu-central-1");
  g_unsetenv ("AWS_ACCESS_KEY_ID");
  g_unsetenv ("AWS_SECRET_ACCESS_KEY");

  /* a profile that needs what is not supported */
  g_setenv ("AWS_PROFILE", "role", TRUE);
  fail_unless (gst_bidi_aws_credentials_resolve (NULL, NULL, NULL, NULL,
          &err) == NULL);
  fail_unless (strstr (err->message, "not supported") != NULL);
  g_clear_error (&err);
  g_free (p1);
  g_free (p2);
}

GST_END_TEST;

GST_START_TEST (test_creds_file_overrides)
{
  gchar *cred = write_file ("elsewhere/creds", "[default]\n"
      "aws_access_key_id = OTHERKEY\naws_secret_access_key = othersecret\n");
  gchar *conf = write_file ("elsewhere/conf",
      "[default]\nregion = sa-east-1\n");

  /* the usual place holds other keys: the variables win */
  g_free (write_file (".aws/credentials", CREDENTIALS_FILE));
  g_setenv ("AWS_SHARED_CREDENTIALS_FILE", cred, TRUE);
  g_setenv ("AWS_CONFIG_FILE", conf, TRUE);
  assert_creds (gst_bidi_aws_credentials_resolve (NULL, NULL, NULL, NULL,
          NULL), "OTHERKEY", "othersecret", NULL, "sa-east-1");
  /* "~/" is the home directory */
  g_setenv ("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere/creds", TRUE);
  assert_creds (gst_bidi_aws_credentials_resolve (NULL, NULL, NULL, NULL,
          NULL), "OTHERKEY", "othersecret", NULL, "sa-east-1");
  g_free (cred);
  g_free (conf);
}

GST_END_TEST;

GST_START_TEST (test_creds_missing)
{
  GError *err = NULL;
  gchar *path;

  /* nothing anywhere: the error says where it looked */
  fail_unless (gst_bidi_aws_credentials_resolve (NULL, NULL, NULL, NULL,
          &err) == NULL);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED));
  fail_unless (strstr (err->message, "AWS_ACCESS_KEY_ID") != NULL);
  path = g_build_filename (home, ".aws", "credentials", NULL);
  fail_unless (strstr (err->message, path) != NULL, "%s", err->message);
  g_free (path);
  path = g_build_filename (home, ".aws", "config", NULL);
  fail_unless (strstr (err->message, path) != NULL);
  g_free (path);
  g_clear_error (&err);

  /* half the keys in the environment, a profile without keys: the secret
   * is in neither error */
  g_setenv ("AWS_SECRET_ACCESS_KEY", "TOPSECRETVALUE", TRUE);
  g_free (write_file (".aws/credentials", "[default]\n"
          "aws_secret_access_key = FILESECRETVALUE\n"));
  fail_unless (gst_bidi_aws_credentials_resolve (NULL, NULL, NULL, NULL,
          &err) == NULL);
  fail_unless (strstr (err->message, "without AWS_ACCESS_KEY_ID") != NULL);
  fail_unless (strstr (err->message, "TOPSECRETVALUE") == NULL);
  fail_unless (strstr (err->message, "FILESECRETVALUE") == NULL);
  g_clear_error (&err);

  /* a profile that is not there */
  g_setenv ("AWS_PROFILE", "nosuch", TRUE);
  fail_unless (gst_bidi_aws_credentials_resolve (NULL, NULL, NULL, NULL,
          &err) == NULL);
  fail_unless (strstr (err->message, "no profile \"nosuch\"") != NULL);
  g_clear_error (&err);
}

GST_END_TEST;

static Suite *
novasonic_codec_suite (void)
{
  Suite *s = suite_create ("novasonic-codec");
  TCase *tc_sig = tcase_create ("sigv4");
  TCase *tc_es = tcase_create ("eventstream");
  TCase *tc_chunk = tcase_create ("chunk");
  TCase *tc_creds = tcase_create ("credentials");

  suite_add_tcase (s, tc_sig);
  tcase_add_test (tc_sig, test_sigv4_nova_request);
  tcase_add_test (tc_sig, test_sigv4_get_vanilla);
  tcase_add_test (tc_sig, test_sigv4_authority_token);
  tcase_add_test (tc_sig, test_sigv4_canonical_headers);
  tcase_add_test (tc_sig, test_sigv4_request_errors);
  tcase_add_test (tc_sig, test_sigv4_signer_new_errors);
  tcase_add_test (tc_sig, test_sigv4_aws_c_auth_chain);
  tcase_add_test (tc_sig, test_sigv4_nova_events);
  tcase_add_test (tc_sig, test_sigv4_event_milliseconds);
  tcase_add_test (tc_sig, test_sigv4_event_errors);

  suite_add_tcase (s, tc_es);
  tcase_add_test (tc_es, test_es_crc32);
  tcase_add_test (tc_es, test_es_example1);
  tcase_add_test (tc_es, test_es_example2);
  tcase_add_test (tc_es, test_es_all_types);
  tcase_add_test (tc_es, test_es_encode_limits);
  tcase_add_test (tc_es, test_es_bad_crc);
  tcase_add_test (tc_es, test_es_oversized);
  tcase_add_test (tc_es, test_es_bad_headers);
  tcase_add_test (tc_es, test_es_too_many_headers);
  tcase_add_test (tc_es, test_es_byte_by_byte);
  tcase_add_test (tc_es, test_es_split_everywhere);
  tcase_add_test (tc_es, test_es_truncated);
  tcase_add_test (tc_es, test_es_garbage_after);

  suite_add_tcase (s, tc_chunk);
  tcase_add_test (tc_chunk, test_chunk_encode);
  tcase_add_test (tc_chunk, test_chunk_decode);
  tcase_add_test (tc_chunk, test_chunk_decode_errors);

  suite_add_tcase (s, tc_creds);
  tcase_add_checked_fixture (tc_creds, creds_setup, creds_teardown);
  tcase_add_test (tc_creds, test_creds_explicit);
  tcase_add_test (tc_creds, test_creds_env);
  tcase_add_test (tc_creds, test_creds_files);
  tcase_add_test (tc_creds, test_creds_file_overrides);
  tcase_add_test (tc_creds, test_creds_missing);

  return s;
}

GST_CHECK_MAIN (novasonic_codec);
