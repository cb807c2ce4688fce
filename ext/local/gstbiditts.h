/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_TTS_H__
#define __GST_BIDI_TTS_H__

#include <glib.h>

G_BEGIN_DECLS

/* Speech synthesis with flite's built-in voices, and the text side of
 * speaking: sentence splitting for streamed text.
 *
 * flite keeps global state (its lexicon, the voice list), so every call
 * into it is serialised by one process-wide lock; a sentence takes a few
 * tens of milliseconds, far less than it lasts. */

#define GST_BIDI_TTS_RATE 16000
#define GST_BIDI_TTS_DEFAULT_VOICE "slt"

/* "slt, kal, awb, rms" */
const gchar *gst_bidi_tts_voice_names (void);
gboolean gst_bidi_tts_voice_exists (const gchar * name);

/* Makes sure @voice is loaded (first use registers it with flite). */
gboolean gst_bidi_tts_prepare (const gchar * voice, GError ** error);

/* Speaks @text with @voice: S16 mono at GST_BIDI_TTS_RATE, native endian
 * (little endian on every platform we build for; swapped otherwise).
 * flite's leading silence is cut: the audio starts a few milliseconds
 * (faded in) before the speech does.
 * Returns NULL with @error on failure; empty text gives empty bytes. */
GBytes *gst_bidi_tts_synthesize (const gchar * voice, const gchar * text,
    GError ** error);

/* The same, reproducibly: flite's excitation noise comes from libc's
 * rand(), so the same text sounds a little different each time. This seeds
 * it (srand, process-wide) before synthesising, under flite's lock. For
 * test fixtures and benchmarks: flite's wave as it is, leading silence
 * included. */
GBytes *gst_bidi_tts_synthesize_seeded (const gchar * voice,
    const gchar * text, guint seed, GError ** error);

/* A piece of speech as it is made (S16 mono at GST_BIDI_TTS_RATE, native
 * endian); FALSE stops the synthesis. */
typedef gboolean (*GstBidiTtsPieceFunc) (const gint16 * samples, gsize n,
    gpointer user_data);

/* Speaks @text as gst_bidi_tts_synthesize() does, but hands the audio to
 * @func in pieces while flite makes it, so that the first one comes well
 * before the sentence is done (a 16 kHz voice: slt, awb, rms; kal, 8 kHz,
 * is resampled whole and comes in one piece). Called from this thread,
 * maybe with flite's lock held: @func must not call into flite. FALSE with
 * @error on failure. */
gboolean gst_bidi_tts_synthesize_stream (const gchar * voice,
    const gchar * text, GstBidiTtsPieceFunc func, gpointer user_data,
    GError ** error);

/* The first sample of @samples (16 kHz) that is speech rather than flite's
 * near-silence (a 5 ms window above -50 dBFS); @n if none is. */
gsize gst_bidi_tts_speech_onset (const gint16 * samples, gsize n);

/* Takes the next complete sentence off the front of @pending (text
 * streamed in pieces): a sentence ends with . ! ? or a line break,
 * followed by white space (so "3.5" and "e.g." inside a word do not
 * split). With @flush, whatever is left is the last sentence. Returns NULL
 * when no sentence is complete yet. Leading and trailing white space is
 * trimmed; sentences of only white space are skipped. */
gchar *gst_bidi_tts_next_sentence (GString * pending, gboolean flush);

/* Removes markup that should not be read aloud (*, _, `, #, leading "- ")
 * and squeezes white space. */
gchar *gst_bidi_tts_clean_text (const gchar * text);

/* What the user heard of an answer cut off after @played_ms: the
 * sentences (each lasting @durations_ms) that were heard entirely, then
 * the share of the words of the one being spoken that matches the share of
 * its audio that played, joined by spaces and cut by gst_bidi_heard_text()
 * (which also drops a trailing comma or dash). */
gchar *gst_bidi_tts_heard_text (const gchar * const *sentences,
    const guint64 * durations_ms, guint n_sentences, guint64 played_ms);

G_END_DECLS

#endif /* __GST_BIDI_TTS_H__ */
