/* gst-bidi: libFuzzer target for the strict base64 decoder of gstbidijson.c
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "fuzzcommon.h"

#include <gst/bidi/gstbidijson.h>

int
LLVMFuzzerInitialize (G_GNUC_UNUSED int *argc, G_GNUC_UNUSED char ***argv)
{
  bidi_fuzz_init ();
  return 0;
}

/* Decodes @text as the providers do (audio frames of @frame_size bytes,
 * at most @max_size) and checks what came out against GLib's decoder */
static void
decode (const gchar * text, gsize len, gsize frame_size, gsize max_size)
{
  GError *err = NULL;
  GBytes *bytes = gst_bidi_base64_decode (text, len, frame_size, max_size,
      &err);
  gchar *copy;
  guchar *ref;
  gsize size, ref_len;
  const guint8 *out;

  if (!bytes) {
    BIDI_FUZZ_ASSERT (err != NULL && err->message != NULL);
    g_error_free (err);
    return;
  }
  BIDI_FUZZ_ASSERT (err == NULL);
  out = g_bytes_get_data (bytes, &size);
  BIDI_FUZZ_ASSERT (size <= max_size);
  BIDI_FUZZ_ASSERT (size % frame_size == 0);
  /* strict base64 that was taken is base64 GLib decodes the same */
  copy = g_strndup (text, len);
  ref = g_base64_decode (copy, &ref_len);
  BIDI_FUZZ_ASSERT (ref_len == size);
  BIDI_FUZZ_ASSERT (size == 0 || memcmp (ref, out, size) == 0);
  g_free (ref);
  g_free (copy);
  g_bytes_unref (bytes);
}

static int
bidi_fuzz_one (const uint8_t * data, size_t size)
{
  const gchar *text = (const gchar *) data;
  gchar *str;

  decode (text, size, 1, G_MAXSIZE);
  decode (text, size, 2, 1024 * 1024);
  decode (text, size, 4, 16);
  decode (text, size, 3, 6);
  /* -1: NUL-terminated */
  str = bidi_fuzz_string (data, size);
  {
    GBytes *b = gst_bidi_base64_decode (str, -1, 1, G_MAXSIZE, NULL);

    if (b)
      g_bytes_unref (b);
  }
  g_free (str);
  return 0;
}
