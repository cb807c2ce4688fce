/* gst-bidi: libFuzzer target for the AWS event-stream decoder of
 * ext/novasonic (and the Bedrock chunk layer above it)
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Input: one byte whose low 3 bits give N and whose top bit picks a small
 * message size limit, N slice sizes, then the byte stream. The stream is
 * fed in slices of those sizes (cycled, each 1 to 256 bytes) as an HTTP/2
 * body would come, and again in one piece: both readings must give the
 * same messages and the same verdict, and every message taken must encode
 * back to the very bytes it was read from. */

#include "fuzzcommon.h"

#include "gstbidieventstream.h"

int
LLVMFuzzerInitialize (G_GNUC_UNUSED int *argc, G_GNUC_UNUSED char ***argv)
{
  bidi_fuzz_init ();
  return 0;
}

/* Checks @msg against the @len bytes it came from, and reads it as a
 * Bedrock chunk as the provider will */
static void
check_message (GstBidiEsMessage * msg, const guint8 * from, gsize len)
{
  GBytes *again = gst_bidi_es_message_encode (msg, NULL);
  GstBidiBedrockChunk chunk;
  GError *err = NULL;

  BIDI_FUZZ_ASSERT (again != NULL);
  BIDI_FUZZ_ASSERT (g_bytes_get_size (again) == len);
  BIDI_FUZZ_ASSERT (memcmp (g_bytes_get_data (again, NULL), from, len) == 0);
  g_bytes_unref (again);
  if (gst_bidi_bedrock_chunk_decode (msg, 4096, &chunk, &err)) {
    BIDI_FUZZ_ASSERT (err == NULL);
    BIDI_FUZZ_ASSERT (chunk.kind != GST_BIDI_BEDROCK_CHUNK_EVENT ||
        (chunk.json && chunk.json_len <= 4096 &&
            strlen (chunk.json) == chunk.json_len));
    gst_bidi_bedrock_chunk_clear (&chunk);
  } else {
    BIDI_FUZZ_ASSERT (err != NULL && err->message != NULL);
    BIDI_FUZZ_ASSERT (chunk.json == NULL && chunk.name == NULL);
    g_error_free (err);
  }
}

/* Takes out what @dec has; the stream offset of each message start is
 * @pos (advanced). Returns the number of messages. */
static guint
drain (GstBidiEsDecoder * dec, const guint8 * stream, gsize * pos)
{
  GstBidiEsMessage *msg;
  GError *err = NULL;
  guint n = 0;

  while ((msg = gst_bidi_es_decoder_next (dec, &err))) {
    const guint8 *p = stream + *pos;
    gsize len = (gsize) p[0] << 24 | (gsize) p[1] << 16 | p[2] << 8 | p[3];

    check_message (msg, stream + *pos, len);
    *pos += len;
    gst_bidi_es_message_free (msg);
    n++;
  }
  if (err) {
    BIDI_FUZZ_ASSERT (gst_bidi_es_decoder_failed (dec));
    g_error_free (err);
  }
  return n;
}

static int
bidi_fuzz_one (const uint8_t * data, size_t size)
{
  guint nsizes, n_sliced = 0, n_whole, k = 0;
  gsize max, off, pos = 0, whole_pos = 0, len;
  const guint8 *sizes, *stream;
  GstBidiEsDecoder *dec;

  if (size < 1)
    return 0;
  nsizes = (data[0] & 7) + 1;
  max = (data[0] & 0x80) ? 512 : 0;
  if (size < 1 + nsizes)
    return 0;
  sizes = data + 1;
  stream = data + 1 + nsizes;
  len = size - 1 - nsizes;

  dec = gst_bidi_es_decoder_new (max);
  for (off = 0; off < len && !gst_bidi_es_decoder_failed (dec);) {
    gsize step = (gsize) sizes[k++ % nsizes] + 1;
    gsize n = MIN (step, len - off);

    BIDI_FUZZ_ASSERT (gst_bidi_es_decoder_feed (dec, stream + off, n, NULL));
    off += n;
    n_sliced += drain (dec, stream, &pos);
    BIDI_FUZZ_ASSERT (pos <= off);
  }
  BIDI_FUZZ_ASSERT (gst_bidi_es_decoder_failed (dec) ||
      pos + gst_bidi_es_decoder_pending (dec) == len);
  if (gst_bidi_es_decoder_failed (dec))
    BIDI_FUZZ_ASSERT (!gst_bidi_es_decoder_feed (dec, stream, 1, NULL));

  {
    GstBidiEsDecoder *whole = gst_bidi_es_decoder_new (max);

    gst_bidi_es_decoder_feed (whole, stream, len, NULL);
    n_whole = drain (whole, stream, &whole_pos);
    /* where the stream is cut does not change what is read */
    BIDI_FUZZ_ASSERT (n_whole == n_sliced);
    BIDI_FUZZ_ASSERT (whole_pos == pos);
    BIDI_FUZZ_ASSERT (gst_bidi_es_decoder_failed (dec) ==
        gst_bidi_es_decoder_failed (whole));
    gst_bidi_es_decoder_free (whole);
  }
  gst_bidi_es_decoder_free (dec);
  return 0;
}
