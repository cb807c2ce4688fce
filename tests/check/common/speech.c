/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/gst.h>
#include <gst/check/gstcheck.h>

#include "speech.h"

void
test_speech_say (const gchar * text, const gchar * path)
{
  gchar *flite = g_find_program_in_path ("flite");
  gchar *argv[] = { flite, (gchar *) "-voice", (gchar *) "slt",
    (gchar *) "-t", (gchar *) text, (gchar *) "-o", (gchar *) path, NULL
  };
  gchar *err_out = NULL;
  GError *err = NULL;
  gint status = -1;

  fail_unless (flite != NULL, "flite is not installed: the tests make their "
      "speech with it (Debian package flite)");
  fail_unless (g_spawn_sync (NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
          NULL, NULL, NULL, &err_out, &status, &err), "flite: %s",
      err ? err->message : "?");
  fail_unless (g_spawn_check_wait_status (status, NULL), "flite failed: %s",
      err_out);
  g_free (err_out);
  g_free (flite);
}

TestWav *
test_wav_read (const gchar * path)
{
  gchar *data = NULL;
  gsize len = 0, pos = 12;
  GError *err = NULL;
  TestWav *w = g_new0 (TestWav, 1);
  gboolean have_fmt = FALSE;

  fail_unless (g_file_get_contents (path, &data, &len, &err), "%s: %s",
      path, err ? err->message : "?");
  fail_unless (len >= 12 && memcmp (data, "RIFF", 4) == 0 &&
      memcmp (data + 8, "WAVE", 4) == 0, "%s is not a WAV file", path);
  fail_unless_equals_int (GST_READ_UINT32_LE (data + 4), len - 8);
  while (pos + 8 <= len) {
    guint32 size = GST_READ_UINT32_LE (data + pos + 4);
    const gchar *body = data + pos + 8;

    fail_unless (pos + 8 + size <= len, "chunk past the end of %s", path);
    if (memcmp (data + pos, "fmt ", 4) == 0) {
      fail_unless (size >= 16);
      fail_unless_equals_int (GST_READ_UINT16_LE (body), 1);    /* PCM */
      w->channels = GST_READ_UINT16_LE (body + 2);
      w->rate = GST_READ_UINT32_LE (body + 4);
      fail_unless_equals_int (GST_READ_UINT16_LE (body + 14), 16);
      have_fmt = TRUE;
    } else if (memcmp (data + pos, "data", 4) == 0) {
      fail_unless (have_fmt && w->channels > 0);
      w->frames = size / 2 / w->channels;
      w->samples = g_memdup2 (body, w->frames * w->channels * 2);
    }
    pos += 8 + size + (size & 1);
  }
  fail_unless (w->samples != NULL && w->rate > 0, "no data chunk in %s",
      path);
  g_free (data);
  return w;
}

void
test_wav_free (TestWav * w)
{
  g_free (w->samples);
  g_free (w);
}
