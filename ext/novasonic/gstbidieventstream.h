/* gst-bidi: AWS event-stream framing and the Bedrock "chunk" layer
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_EVENT_STREAM_H__
#define __GST_BIDI_EVENT_STREAM_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* The binary messages of application/vnd.amazon.eventstream (nova-sonic.md
 * §4): a prelude (total length, headers length, prelude CRC), typed
 * headers, a payload and a message CRC, all integers big-endian. Errors
 * are in the GST_STREAM_ERROR domain (ENCODE for what we build, DECODE for
 * what we read) and never quote payloads. */

/* Limits of aws-c-event-stream, which the service shares */
#define GST_BIDI_ES_MAX_MESSAGE_SIZE (24 * 1024 * 1024)
#define GST_BIDI_ES_MAX_HEADER_NAME 255
#define GST_BIDI_ES_MAX_HEADER_VALUE 32767
#define GST_BIDI_ES_MAX_HEADERS 1024
/* Ours: the headers of every message of this protocol take a few hundred
 * bytes; a larger block is garbage and is refused before it is read */
#define GST_BIDI_ES_MAX_HEADERS_SIZE (64 * 1024)
/* prelude (12) + message CRC (4) */
#define GST_BIDI_ES_OVERHEAD 16

typedef enum
{
  GST_BIDI_ES_BOOL_TRUE = 0,
  GST_BIDI_ES_BOOL_FALSE = 1,
  GST_BIDI_ES_BYTE = 2,
  GST_BIDI_ES_INT16 = 3,
  GST_BIDI_ES_INT32 = 4,
  GST_BIDI_ES_INT64 = 5,
  GST_BIDI_ES_BYTES = 6,
  GST_BIDI_ES_STRING = 7,
  GST_BIDI_ES_TIMESTAMP = 8,    /* int64, milliseconds since the epoch */
  GST_BIDI_ES_UUID = 9,         /* 16 bytes */
} GstBidiEsHeaderType;

typedef struct
{
  gchar *name;
  GstBidiEsHeaderType type;
  /* BOOL_*: 1 or 0; BYTE, INT*, TIMESTAMP: the number */
  gint64 num;
  /* BYTES, UUID: the bytes; STRING: the UTF-8 text with a NUL after it
   * (not counted in the size) */
  GBytes *data;
} GstBidiEsHeader;

typedef struct
{
  GPtrArray *headers;           /* of GstBidiEsHeader, in wire order */
  GBytes *payload;              /* never NULL (may be empty) */
} GstBidiEsMessage;

/* CRC-32 (IEEE 802.3, as zlib and gzip): @crc is 0 to start, or the CRC of
 * what came before @data to go on */
guint32 gst_bidi_es_crc32 (guint32 crc, const guint8 * data, gsize len);

GstBidiEsMessage *gst_bidi_es_message_new (void);
void gst_bidi_es_message_free (GstBidiEsMessage * msg);

/* Headers are appended in call order. Names must be 1 to 255 bytes;
 * strings valid UTF-8; lengths are checked by gst_bidi_es_message_encode().
 */
void gst_bidi_es_message_add_bool (GstBidiEsMessage * msg, const gchar * name,
    gboolean value);
void gst_bidi_es_message_add_int (GstBidiEsMessage * msg, const gchar * name,
    GstBidiEsHeaderType type, gint64 value);
void gst_bidi_es_message_add_bytes (GstBidiEsMessage * msg, const gchar * name,
    GstBidiEsHeaderType type, const guint8 * data, gsize len);
void gst_bidi_es_message_add_string (GstBidiEsMessage * msg,
    const gchar * name, const gchar * value);
/* @payload: (transfer none), NULL for none */
void gst_bidi_es_message_set_payload (GstBidiEsMessage * msg,
    GBytes * payload);

/* The first header named @name, or NULL */
const GstBidiEsHeader *gst_bidi_es_message_get_header (const GstBidiEsMessage *
    msg, const gchar * name);
/* The value of a string header, NULL when absent or of another type */
const gchar *gst_bidi_es_message_get_string (const GstBidiEsMessage * msg,
    const gchar * name);

/* Appends the wire form of @header to @out. FALSE with @error when a name
 * or value is too long for the format. */
gboolean gst_bidi_es_header_encode (const GstBidiEsHeader * header,
    GByteArray * out, GError ** error);

/* The whole message (transfer full), or NULL with @error when a header
 * breaks a limit above or the message is over GST_BIDI_ES_MAX_MESSAGE_SIZE */
GBytes *gst_bidi_es_message_encode (const GstBidiEsMessage * msg,
    GError ** error);

/* An incremental reader of a byte stream of messages: feed it the bytes
 * as they come (split anywhere), take whole messages out. */
typedef struct _GstBidiEsDecoder GstBidiEsDecoder;

/* @max_message_size: the largest total length taken (0: the format's
 * GST_BIDI_ES_MAX_MESSAGE_SIZE, which is also the most allowed) */
GstBidiEsDecoder *gst_bidi_es_decoder_new (gsize max_message_size);
void gst_bidi_es_decoder_free (GstBidiEsDecoder * dec);

/* Buffers @len bytes. FALSE with @error once the decoder has failed. */
gboolean gst_bidi_es_decoder_feed (GstBidiEsDecoder * dec,
    const guint8 * data, gsize len, GError ** error);

/* The next whole message (transfer full). NULL without error: more bytes
 * are needed. NULL with @error: the stream is broken (bad CRC, length over
 * the limits, malformed or unknown header); the decoder cannot find the
 * next message boundary after that and refuses everything from then on. */
GstBidiEsMessage *gst_bidi_es_decoder_next (GstBidiEsDecoder * dec,
    GError ** error);

gboolean gst_bidi_es_decoder_failed (GstBidiEsDecoder * dec);
/* Bytes buffered that are not a whole message yet: at the end of the
 * stream, anything but 0 is a truncated message */
gsize gst_bidi_es_decoder_pending (GstBidiEsDecoder * dec);

/* Parses exactly one message of @len bytes (CRCs and limits checked as
 * by the decoder) */
GstBidiEsMessage *gst_bidi_es_message_decode (const guint8 * data, gsize len,
    gsize max_message_size, GError ** error);

/* --- Bedrock "chunk" layer (nova-sonic.md §6) ----------------------------
 * The inner message that carries one Nova event: string headers
 * :event-type=chunk, :message-type=event, :content-type=application/json,
 * payload {"bytes":"<standard base64 of the event JSON>"}. */

/* The encoded inner message for the @len bytes of JSON @json (-1:
 * NUL-terminated), or NULL with @error when too large */
GBytes *gst_bidi_bedrock_chunk_encode (const gchar * json, gssize len,
    GError ** error);

typedef enum
{
  GST_BIDI_BEDROCK_CHUNK_EVENT,       /* json: a Nova event */
  GST_BIDI_BEDROCK_CHUNK_EXCEPTION,   /* name: :exception-type; message */
  GST_BIDI_BEDROCK_CHUNK_ERROR,       /* name: :error-code; message */
  GST_BIDI_BEDROCK_CHUNK_OTHER,       /* name: the unknown :event-type
                                         (or NULL): to be ignored */
} GstBidiBedrockChunkKind;

typedef struct
{
  GstBidiBedrockChunkKind kind;
  gchar *json;                  /* EVENT: the decoded JSON text, NUL-ended */
  gsize json_len;
  gchar *name;
  gchar *message;               /* EXCEPTION, ERROR: the server's message,
                                   or NULL */
} GstBidiBedrockChunk;

/* What a server message holds. The JSON of an event is at most
 * @max_json_size bytes and is valid UTF-8 (not parsed beyond the
 * {"bytes":...} wrapper). FALSE with @error for a message of this layer
 * that is malformed (no :message-type, a payload that is not the wrapper,
 * bad base64). @out is filled on success; clear it with
 * gst_bidi_bedrock_chunk_clear(). */
gboolean gst_bidi_bedrock_chunk_decode (const GstBidiEsMessage * msg,
    gsize max_json_size, GstBidiBedrockChunk * out, GError ** error);
void gst_bidi_bedrock_chunk_clear (GstBidiBedrockChunk * chunk);

G_END_DECLS

#endif /* __GST_BIDI_EVENT_STREAM_H__ */
