/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __BIDI_TEST_SPEECH_H__
#define __BIDI_TEST_SPEECH_H__

#include <glib.h>

G_BEGIN_DECLS

/* Test speech, made at test time: flite's slt voice says @text into the
 * WAV file @path. The test fails when flite is missing or fails. */
void test_speech_say (const gchar * text, const gchar * path);

/* A 16-bit PCM WAV file, read whole */
typedef struct
{
  guint channels;
  guint rate;
  gsize frames;
  gint16 *samples;              /* interleaved */
} TestWav;

/* The test fails on a file that is not a 16-bit PCM WAV */
TestWav *test_wav_read (const gchar * path);
void test_wav_free (TestWav * w);

G_END_DECLS

#endif
