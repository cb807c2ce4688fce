/* gst-bidi: AWS event-stream framing and the Bedrock "chunk" layer
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Everything the server sends is untrusted: lengths are believed only
 * after the prelude CRC matched, and checked against the limits before
 * any byte of the message is waited for, so that a forged length can
 * neither make us buffer 4 GiB nor read outside the message. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/bidi/gstbidijson.h>

#include "gstbidieventstream.h"

#define PRELUDE_SIZE 12

/* --- CRC-32 ------------------------------------------------------------- */

static guint32 crc_table[256];

static gpointer
crc_table_fill (G_GNUC_UNUSED gpointer data)
{
  guint32 i, bit;

  /* the reflected IEEE polynomial: bit 0 of each byte is fed first */
  for (i = 0; i < 256; i++) {
    guint32 c = i;

    for (bit = 0; bit < 8; bit++)
      c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
  return NULL;
}

guint32
gst_bidi_es_crc32 (guint32 crc, const guint8 * data, gsize len)
{
  static GOnce once = G_ONCE_INIT;
  gsize i;

  g_once (&once, crc_table_fill, NULL);
  /* the register starts at all ones and is inverted at the end; undoing
   * the inversion first lets a caller go on from an earlier result */
  crc = ~crc;
  for (i = 0; i < len; i++)
    crc = crc_table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* --- messages ----------------------------------------------------------- */

static void
header_free (gpointer data)
{
  GstBidiEsHeader *h = data;

  g_free (h->name);
  if (h->data)
    g_bytes_unref (h->data);
  g_free (h);
}

GstBidiEsMessage *
gst_bidi_es_message_new (void)
{
  GstBidiEsMessage *msg = g_new0 (GstBidiEsMessage, 1);

  msg->headers = g_ptr_array_new_with_free_func (header_free);
  msg->payload = g_bytes_new (NULL, 0);
  return msg;
}

void
gst_bidi_es_message_free (GstBidiEsMessage * msg)
{
  if (!msg)
    return;
  g_ptr_array_unref (msg->headers);
  g_bytes_unref (msg->payload);
  g_free (msg);
}

static GstBidiEsHeader *
header_add (GstBidiEsMessage * msg, const gchar * name,
    GstBidiEsHeaderType type)
{
  GstBidiEsHeader *h = g_new0 (GstBidiEsHeader, 1);

  h->name = g_strdup (name);
  h->type = type;
  g_ptr_array_add (msg->headers, h);
  return h;
}

void
gst_bidi_es_message_add_bool (GstBidiEsMessage * msg, const gchar * name,
    gboolean value)
{
  g_return_if_fail (msg != NULL && name != NULL);

  header_add (msg, name, value ? GST_BIDI_ES_BOOL_TRUE :
      GST_BIDI_ES_BOOL_FALSE)->num = value ? 1 : 0;
}

/* The range of each integer type, so that nothing is cut silently */
static gboolean
int_fits (GstBidiEsHeaderType type, gint64 value)
{
  switch (type) {
    case GST_BIDI_ES_BYTE:
      return value >= G_MININT8 && value <= G_MAXINT8;
    case GST_BIDI_ES_INT16:
      return value >= G_MININT16 && value <= G_MAXINT16;
    case GST_BIDI_ES_INT32:
      return value >= G_MININT32 && value <= G_MAXINT32;
    case GST_BIDI_ES_INT64:
    case GST_BIDI_ES_TIMESTAMP:
      return TRUE;
    default:
      return FALSE;
  }
}

void
gst_bidi_es_message_add_int (GstBidiEsMessage * msg, const gchar * name,
    GstBidiEsHeaderType type, gint64 value)
{
  g_return_if_fail (msg != NULL && name != NULL);
  g_return_if_fail (int_fits (type, value));

  header_add (msg, name, type)->num = value;
}

void
gst_bidi_es_message_add_bytes (GstBidiEsMessage * msg, const gchar * name,
    GstBidiEsHeaderType type, const guint8 * data, gsize len)
{
  g_return_if_fail (msg != NULL && name != NULL);
  g_return_if_fail (type == GST_BIDI_ES_BYTES || (type == GST_BIDI_ES_UUID
          && len == 16));

  header_add (msg, name, type)->data = g_bytes_new (data, len);
}

/* A GBytes of @len bytes whose data is followed by a NUL */
static GBytes *
bytes_with_nul (const guint8 * data, gsize len)
{
  gchar *copy = g_malloc (len + 1);

  memcpy (copy, data, len);
  copy[len] = '\0';
  return g_bytes_new_with_free_func (copy, len, g_free, copy);
}

void
gst_bidi_es_message_add_string (GstBidiEsMessage * msg, const gchar * name,
    const gchar * value)
{
  g_return_if_fail (msg != NULL && name != NULL && value != NULL);
  g_return_if_fail (g_utf8_validate (value, -1, NULL));

  header_add (msg, name, GST_BIDI_ES_STRING)->data =
      bytes_with_nul ((const guint8 *) value, strlen (value));
}

void
gst_bidi_es_message_set_payload (GstBidiEsMessage * msg, GBytes * payload)
{
  g_return_if_fail (msg != NULL);

  g_bytes_unref (msg->payload);
  msg->payload = payload ? g_bytes_ref (payload) : g_bytes_new (NULL, 0);
}

const GstBidiEsHeader *
gst_bidi_es_message_get_header (const GstBidiEsMessage * msg,
    const gchar * name)
{
  guint i;

  for (i = 0; i < msg->headers->len; i++) {
    const GstBidiEsHeader *h = g_ptr_array_index (msg->headers, i);

    if (strcmp (h->name, name) == 0)
      return h;
  }
  return NULL;
}

const gchar *
gst_bidi_es_message_get_string (const GstBidiEsMessage * msg,
    const gchar * name)
{
  const GstBidiEsHeader *h = gst_bidi_es_message_get_header (msg, name);

  if (!h || h->type != GST_BIDI_ES_STRING)
    return NULL;
  return g_bytes_get_data (h->data, NULL);
}

/* --- encoding ----------------------------------------------------------- */

/* Byte by byte: the bytes may be at any address (GStreamer's big-endian
 * read and write macros access whole words, unaligned) */
static void
write_be (guint8 * dst, guint64 value, guint size)
{
  guint i;

  for (i = 0; i < size; i++)
    dst[i] = value >> (8 * (size - 1 - i));
}

static guint64
get_be (const guint8 * p, guint size)
{
  guint64 v = 0;
  guint i;

  for (i = 0; i < size; i++)
    v = v << 8 | p[i];
  return v;
}

static void
put_be (GByteArray * out, guint64 value, guint size)
{
  guint8 b[8];

  write_be (b, value, size);
  g_byte_array_append (out, b, size);
}

/* Size in bytes of the fixed-size value of @type, or -1 for the types with
 * a length prefix */
static gint
fixed_size (GstBidiEsHeaderType type)
{
  static const gint sizes[] = { 0, 0, 1, 2, 4, 8, -1, -1, 8, 16 };

  return sizes[type];
}

gboolean
gst_bidi_es_header_encode (const GstBidiEsHeader * h, GByteArray * out,
    GError ** error)
{
  gsize name_len = strlen (h->name), len;
  const guint8 *data;

  if (name_len == 0 || name_len > GST_BIDI_ES_MAX_HEADER_NAME) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_ENCODE,
        "event-stream header name of %" G_GSIZE_FORMAT " bytes (1 to %d)",
        name_len, GST_BIDI_ES_MAX_HEADER_NAME);
    return FALSE;
  }
  put_be (out, name_len, 1);
  g_byte_array_append (out, (const guint8 *) h->name, name_len);
  put_be (out, h->type, 1);
  if (fixed_size (h->type) >= 0 && h->type != GST_BIDI_ES_UUID) {
    put_be (out, (guint64) h->num, fixed_size (h->type));
    return TRUE;
  }
  data = g_bytes_get_data (h->data, &len);
  if (h->type == GST_BIDI_ES_UUID) {
    g_byte_array_append (out, data, len);
    return TRUE;
  }
  if (len > GST_BIDI_ES_MAX_HEADER_VALUE) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_ENCODE,
        "event-stream header %s: value of %" G_GSIZE_FORMAT
        " bytes (at most %d)", h->name, len, GST_BIDI_ES_MAX_HEADER_VALUE);
    return FALSE;
  }
  put_be (out, len, 2);
  if (len)
    g_byte_array_append (out, data, len);
  return TRUE;
}

GBytes *
gst_bidi_es_message_encode (const GstBidiEsMessage * msg, GError ** error)
{
  GByteArray *out;
  gsize payload_len, headers_len, total;
  const guint8 *payload = g_bytes_get_data (msg->payload, &payload_len);
  guint i;

  if (msg->headers->len > GST_BIDI_ES_MAX_HEADERS) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_ENCODE,
        "event-stream message with %u headers (at most %d)",
        msg->headers->len, GST_BIDI_ES_MAX_HEADERS);
    return NULL;
  }
  out = g_byte_array_new ();
  /* the prelude is written once the lengths are known */
  g_byte_array_set_size (out, PRELUDE_SIZE);
  for (i = 0; i < msg->headers->len; i++) {
    if (!gst_bidi_es_header_encode (g_ptr_array_index (msg->headers, i), out,
            error)) {
      g_byte_array_unref (out);
      return NULL;
    }
  }
  headers_len = out->len - PRELUDE_SIZE;
  total = headers_len + payload_len + GST_BIDI_ES_OVERHEAD;
  if (headers_len > GST_BIDI_ES_MAX_HEADERS_SIZE ||
      total > GST_BIDI_ES_MAX_MESSAGE_SIZE) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_ENCODE,
        "event-stream message of %" G_GSIZE_FORMAT " bytes with %"
        G_GSIZE_FORMAT " bytes of headers (at most %d and %d)", total,
        headers_len, GST_BIDI_ES_MAX_MESSAGE_SIZE,
        GST_BIDI_ES_MAX_HEADERS_SIZE);
    g_byte_array_unref (out);
    return NULL;
  }
  write_be (out->data, total, 4);
  write_be (out->data + 4, headers_len, 4);
  write_be (out->data + 8, gst_bidi_es_crc32 (0, out->data, 8), 4);
  if (payload_len)
    g_byte_array_append (out, payload, payload_len);
  put_be (out, gst_bidi_es_crc32 (0, out->data, out->len), 4);
  return g_byte_array_free_to_bytes (out);
}

/* --- decoding ----------------------------------------------------------- */

static void
set_decode_error (GError ** error, const gchar * format, ...)
G_GNUC_PRINTF (2, 3);

static void
set_decode_error (GError ** error, const gchar * format, ...)
{
  va_list args;
  gchar *text;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
      "event-stream: %s", text);
  g_free (text);
}

/* Checks the prelude at @data (PRELUDE_SIZE bytes): its CRC first, then
 * the lengths against the limits */
static gboolean
check_prelude (const guint8 * data, gsize max_size, guint32 * total,
    guint32 * headers_len, GError ** error)
{
  guint32 crc = get_be (data + 8, 4);
  guint32 computed = gst_bidi_es_crc32 (0, data, 8);

  if (crc != computed) {
    set_decode_error (error, "prelude CRC 0x%08x does not match the "
        "computed 0x%08x", crc, computed);
    return FALSE;
  }
  *total = get_be (data, 4);
  *headers_len = get_be (data + 4, 4);
  if (*total < GST_BIDI_ES_OVERHEAD || *total > max_size) {
    set_decode_error (error, "message length %u out of range (%d to %"
        G_GSIZE_FORMAT ")", *total, GST_BIDI_ES_OVERHEAD, max_size);
    return FALSE;
  }
  if (*headers_len > *total - GST_BIDI_ES_OVERHEAD ||
      *headers_len > GST_BIDI_ES_MAX_HEADERS_SIZE) {
    set_decode_error (error, "headers length %u too large for a message of "
        "%u bytes (at most %d)", *headers_len, *total,
        GST_BIDI_ES_MAX_HEADERS_SIZE);
    return FALSE;
  }
  return TRUE;
}

static gint64
get_be_signed (const guint8 * p, guint size)
{
  switch (size) {
    case 1:
      return (gint8) p[0];
    case 2:
      return (gint16) get_be (p, 2);
    case 4:
      return (gint32) get_be (p, 4);
    default:
      return (gint64) get_be (p, 8);
  }
}

/* Reads the value of a header of @type at *@p (before @end) into @h */
static gboolean
parse_value (GstBidiEsHeader * h, const guint8 ** p, const guint8 * end,
    GError ** error)
{
  gint size = fixed_size (h->type);
  gsize avail = end - *p;

  if (size < 0) {
    if (avail < 2)
      goto short_value;
    size = get_be (*p, 2);
    *p += 2;
    avail -= 2;
  }
  if ((gsize) size > avail)
    goto short_value;
  /* what we would not send is not taken either */
  if (size > GST_BIDI_ES_MAX_HEADER_VALUE) {
    set_decode_error (error, "header %s: value of %d bytes (at most %d)",
        h->name, size, GST_BIDI_ES_MAX_HEADER_VALUE);
    return FALSE;
  }
  if (h->type == GST_BIDI_ES_STRING) {
    if (!g_utf8_validate_len ((const gchar *) *p, size, NULL)) {
      set_decode_error (error, "header %s: string is not valid UTF-8 "
          "(or holds a NUL)", h->name);
      return FALSE;
    }
    h->data = bytes_with_nul (*p, size);
  } else if (h->type == GST_BIDI_ES_BYTES || h->type == GST_BIDI_ES_UUID) {
    h->data = g_bytes_new (*p, size);
  } else if (h->type <= GST_BIDI_ES_BOOL_FALSE) {
    h->num = h->type == GST_BIDI_ES_BOOL_TRUE;
  } else {
    h->num = get_be_signed (*p, size);
  }
  *p += size;
  return TRUE;

short_value:
  set_decode_error (error, "header %s: value runs past the headers",
      h->name);
  return FALSE;
}

/* Reads one header at *@p into a new entry of @msg */
static gboolean
parse_header (GstBidiEsMessage * msg, const guint8 ** p, const guint8 * end,
    GError ** error)
{
  GstBidiEsHeader *h;
  guint name_len = **p;
  guint type;

  *p += 1;
  if (name_len == 0 || (gsize) (end - *p) < name_len + 1u) {
    set_decode_error (error, "header name of %u bytes does not fit in the "
        "headers", name_len);
    return FALSE;
  }
  if (!g_utf8_validate_len ((const gchar *) *p, name_len, NULL)) {
    set_decode_error (error, "header name is not valid UTF-8");
    return FALSE;
  }
  type = (*p)[name_len];
  if (type > GST_BIDI_ES_UUID) {
    set_decode_error (error, "unknown header type %u", type);
    return FALSE;
  }
  h = g_new0 (GstBidiEsHeader, 1);
  h->name = g_strndup ((const gchar *) *p, name_len);
  h->type = type;
  g_ptr_array_add (msg->headers, h);
  *p += name_len + 1;
  return parse_value (h, p, end, error);
}

/* The message of @total bytes at @data, whose prelude was checked */
static GstBidiEsMessage *
parse_message (const guint8 * data, guint32 total, guint32 headers_len,
    GError ** error)
{
  guint32 crc = get_be (data + total - 4, 4);
  guint32 computed = gst_bidi_es_crc32 (0, data, total - 4);
  const guint8 *p = data + PRELUDE_SIZE, *end = p + headers_len;
  GstBidiEsMessage *msg;

  if (crc != computed) {
    set_decode_error (error, "message CRC 0x%08x does not match the "
        "computed 0x%08x", crc, computed);
    return NULL;
  }
  msg = gst_bidi_es_message_new ();
  while (p < end) {
    if (msg->headers->len == GST_BIDI_ES_MAX_HEADERS) {
      set_decode_error (error, "more than %d headers",
          GST_BIDI_ES_MAX_HEADERS);
      goto fail;
    }
    if (!parse_header (msg, &p, end, error))
      goto fail;
  }
  g_bytes_unref (msg->payload);
  msg->payload = g_bytes_new (end, total - headers_len -
      GST_BIDI_ES_OVERHEAD);
  return msg;

fail:
  gst_bidi_es_message_free (msg);
  return NULL;
}

static gsize
clamp_max_size (gsize max_message_size)
{
  if (max_message_size == 0 || max_message_size > GST_BIDI_ES_MAX_MESSAGE_SIZE)
    return GST_BIDI_ES_MAX_MESSAGE_SIZE;
  return MAX (max_message_size, GST_BIDI_ES_OVERHEAD);
}

GstBidiEsMessage *
gst_bidi_es_message_decode (const guint8 * data, gsize len,
    gsize max_message_size, GError ** error)
{
  guint32 total, headers_len;

  if (len < PRELUDE_SIZE) {
    set_decode_error (error, "message of %" G_GSIZE_FORMAT " bytes is "
        "shorter than its prelude", len);
    return NULL;
  }
  if (!check_prelude (data, clamp_max_size (max_message_size), &total,
          &headers_len, error))
    return NULL;
  if (total != len) {
    set_decode_error (error, "message says %u bytes but has %" G_GSIZE_FORMAT,
        total, len);
    return NULL;
  }
  return parse_message (data, total, headers_len, error);
}

struct _GstBidiEsDecoder
{
  GByteArray *buf;
  gsize offset;                 /* start of the next message in buf */
  gsize max_size;
  gboolean failed;
};

GstBidiEsDecoder *
gst_bidi_es_decoder_new (gsize max_message_size)
{
  GstBidiEsDecoder *dec = g_new0 (GstBidiEsDecoder, 1);

  dec->buf = g_byte_array_new ();
  dec->max_size = clamp_max_size (max_message_size);
  return dec;
}

void
gst_bidi_es_decoder_free (GstBidiEsDecoder * dec)
{
  if (!dec)
    return;
  g_byte_array_unref (dec->buf);
  g_free (dec);
}

static gboolean
check_not_failed (GstBidiEsDecoder * dec, GError ** error)
{
  if (dec->failed)
    set_decode_error (error, "the stream was broken by an earlier error");
  return !dec->failed;
}

gboolean
gst_bidi_es_decoder_feed (GstBidiEsDecoder * dec, const guint8 * data,
    gsize len, GError ** error)
{
  if (!check_not_failed (dec, error))
    return FALSE;
  /* what was read is dropped before the buffer grows, so that it holds
   * at most one message and what the caller gave at once */
  if (dec->offset > 0) {
    g_byte_array_remove_range (dec->buf, 0, dec->offset);
    dec->offset = 0;
  }
  if (len)
    g_byte_array_append (dec->buf, data, len);
  return TRUE;
}

GstBidiEsMessage *
gst_bidi_es_decoder_next (GstBidiEsDecoder * dec, GError ** error)
{
  gsize avail = dec->buf->len - dec->offset;
  const guint8 *data;
  guint32 total, headers_len;
  GstBidiEsMessage *msg;

  if (!check_not_failed (dec, error))
    return NULL;
  if (avail < PRELUDE_SIZE)
    return NULL;
  /* only now: an empty array has no data pointer to offset */
  data = dec->buf->data + dec->offset;
  if (!check_prelude (data, dec->max_size, &total, &headers_len, error)) {
    dec->failed = TRUE;
    return NULL;
  }
  if (avail < total)
    return NULL;
  msg = parse_message (data, total, headers_len, error);
  if (!msg) {
    dec->failed = TRUE;
    return NULL;
  }
  dec->offset += total;
  return msg;
}

gboolean
gst_bidi_es_decoder_failed (GstBidiEsDecoder * dec)
{
  return dec->failed;
}

gsize
gst_bidi_es_decoder_pending (GstBidiEsDecoder * dec)
{
  return dec->buf->len - dec->offset;
}

/* --- Bedrock chunks ----------------------------------------------------- */

GBytes *
gst_bidi_bedrock_chunk_encode (const gchar * json, gssize len,
    GError ** error)
{
  GstBidiEsMessage *msg = gst_bidi_es_message_new ();
  gchar *b64, *wrapper;
  GBytes *payload, *out;
  gsize ulen = len < 0 ? strlen (json) : (gsize) len;

  /* a base64 text is 4/3 of its input: refused before it is made */
  if (ulen > GST_BIDI_ES_MAX_MESSAGE_SIZE / 4 * 3) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_ENCODE,
        "Nova event of %" G_GSIZE_FORMAT " bytes is too large for a message",
        ulen);
    gst_bidi_es_message_free (msg);
    return NULL;
  }
  gst_bidi_es_message_add_string (msg, ":event-type", "chunk");
  gst_bidi_es_message_add_string (msg, ":message-type", "event");
  gst_bidi_es_message_add_string (msg, ":content-type", "application/json");
  b64 = g_base64_encode ((const guchar *) json, ulen);
  /* base64 needs no JSON escaping */
  wrapper = g_strconcat ("{\"bytes\":\"", b64, "\"}", NULL);
  g_free (b64);
  payload = g_bytes_new_take (wrapper, strlen (wrapper));
  gst_bidi_es_message_set_payload (msg, payload);
  g_bytes_unref (payload);
  out = gst_bidi_es_message_encode (msg, error);
  gst_bidi_es_message_free (msg);
  return out;
}

/* The JSON object of a payload, or NULL (not an error: an exception's
 * payload may not be JSON) */
static JsonObject *
payload_object (const GstBidiEsMessage * msg, gsize max_size, GError ** error)
{
  gsize len;
  const gchar *data = g_bytes_get_data (msg->payload, &len);

  return gst_bidi_json_parse_object (data ? data : "", len, max_size,
      GST_BIDI_JSON_MAX_DEPTH, error);
}

/* The Nova event JSON of a chunk's {"bytes":"..."} payload */
static gboolean
decode_event (const GstBidiEsMessage * msg, gsize max_json_size,
    GstBidiBedrockChunk * out, GError ** error)
{
  /* the wrapper holds the base64, 4/3 of the JSON, and a few bytes more */
  gsize max_wrapper = MIN (max_json_size, GST_BIDI_ES_MAX_MESSAGE_SIZE) / 3 *
      4 + 64;
  JsonObject *root = payload_object (msg, max_wrapper, error);
  const gchar *b64;
  GBytes *bytes;
  gsize len;

  if (!root)
    return FALSE;
  b64 = gst_bidi_json_get_string (root, "bytes");
  if (!b64) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "chunk payload has no \"bytes\" string");
    json_object_unref (root);
    return FALSE;
  }
  bytes = gst_bidi_base64_decode (b64, -1, 1, max_json_size, error);
  json_object_unref (root);
  if (!bytes)
    return FALSE;
  out->json = g_bytes_unref_to_data (bytes, &len);
  out->json = g_realloc (out->json, len + 1);
  out->json[len] = '\0';
  out->json_len = len;
  if (!g_utf8_validate_len (out->json, len, NULL)) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "chunk event is not valid UTF-8");
    return FALSE;
  }
  out->kind = GST_BIDI_BEDROCK_CHUNK_EVENT;
  return TRUE;
}

/* An exception's {"message": "..."}: kept when there is one */
static void
decode_exception (const GstBidiEsMessage * msg, GstBidiBedrockChunk * out)
{
  JsonObject *root = payload_object (msg, 64 * 1024, NULL);

  out->kind = GST_BIDI_BEDROCK_CHUNK_EXCEPTION;
  out->name = g_strdup (gst_bidi_es_message_get_string (msg,
          ":exception-type"));
  if (root) {
    out->message = g_strdup (gst_bidi_json_error_message (root));
    json_object_unref (root);
  }
}

gboolean
gst_bidi_bedrock_chunk_decode (const GstBidiEsMessage * msg,
    gsize max_json_size, GstBidiBedrockChunk * out, GError ** error)
{
  const gchar *type = gst_bidi_es_message_get_string (msg, ":message-type");
  const gchar *event = gst_bidi_es_message_get_string (msg, ":event-type");

  memset (out, 0, sizeof (*out));
  if (!type) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "event-stream message without a :message-type string");
    return FALSE;
  }
  if (g_str_equal (type, "event") && g_strcmp0 (event, "chunk") == 0) {
    if (decode_event (msg, max_json_size, out, error))
      return TRUE;
    gst_bidi_bedrock_chunk_clear (out);
    return FALSE;
  }
  if (g_str_equal (type, "exception")) {
    decode_exception (msg, out);
  } else if (g_str_equal (type, "error")) {
    out->kind = GST_BIDI_BEDROCK_CHUNK_ERROR;
    out->name = g_strdup (gst_bidi_es_message_get_string (msg, ":error-code"));
    out->message = g_strdup (gst_bidi_es_message_get_string (msg,
            ":error-message"));
  } else {
    /* an event of a kind added later, or a message type we do not know */
    out->kind = GST_BIDI_BEDROCK_CHUNK_OTHER;
    out->name = g_strdup (event);
  }
  return TRUE;
}

void
gst_bidi_bedrock_chunk_clear (GstBidiBedrockChunk * chunk)
{
  g_clear_pointer (&chunk->json, g_free);
  g_clear_pointer (&chunk->name, g_free);
  g_clear_pointer (&chunk->message, g_free);
  chunk->json_len = 0;
}
