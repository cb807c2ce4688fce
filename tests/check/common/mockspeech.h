/* gst-bidi: a mock OpenAI-compatible transcription and speech server
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MOCK_SPEECH_H__
#define __MOCK_SPEECH_H__

#include <glib.h>

G_BEGIN_DECLS

/* A SoupServer on 127.0.0.1 (port chosen by the system) in a thread of
 * its own that serves
 *
 * - POST .../v1/audio/transcriptions (MOCK_SPEECH_ASR): multipart/form-data
 *   with a "file" part holding a 16-bit mono WAV, "model" and
 *   "response_format" json; and
 * - POST .../v1/audio/speech (MOCK_SPEECH_TTS): a JSON object with
 *   "model", "input", "voice" and "response_format" "pcm" or "wav".
 *
 * It records every request, and checks it: a request that is not as above
 * is answered HTTP 400 and noted in mock_speech_problems(). Otherwise
 * each kind answers as last set (the same answer for every request, until
 * set again). All functions are thread safe. */
typedef struct _MockSpeech MockSpeech;

typedef enum
{
  MOCK_SPEECH_ASR,
  MOCK_SPEECH_TTS
} MockSpeechKind;

MockSpeech *mock_speech_new (void);
void mock_speech_free (MockSpeech * mock);
/* "http://127.0.0.1:PORT", without "/v1" */
const gchar *mock_speech_url (MockSpeech * mock);

/* Transcriptions: {"text": @text}, after @delay_ms (default: "hello") */
void mock_speech_set_transcript (MockSpeech * mock, const gchar * text,
    guint delay_ms);
/* Speech: @pcm (S16LE) as audio/pcm, chunked in @n_chunks pieces
 * @chunk_delay_ms apart (default: 100 ms of a tone, in one piece) */
void mock_speech_set_pcm (MockSpeech * mock, GBytes * pcm, guint n_chunks,
    guint chunk_delay_ms);
/* Speech: a WAV file of @pcm with the header saying @rate, @channels and
 * @bits (the data is @pcm as it is), chunked like set_pcm; the header's
 * sizes are 0xFFFFFFFF, as in a streamed WAV */
void mock_speech_set_wav (MockSpeech * mock, GBytes * pcm, guint rate,
    guint channels, guint bits, guint n_chunks, guint chunk_delay_ms);
/* HTTP @status with @body as @content_type */
void mock_speech_set_answer (MockSpeech * mock, MockSpeechKind kind,
    guint status, const gchar * content_type, const gchar * body);
/* No answer at all, not even the headers, until the client goes away */
void mock_speech_set_hang (MockSpeech * mock, MockSpeechKind kind);

/* Recorded requests of @kind, in arrival order */
guint mock_speech_n_requests (MockSpeech * mock, MockSpeechKind kind);
gboolean mock_speech_wait_requests (MockSpeech * mock, MockSpeechKind kind,
    guint n, guint timeout_ms);
/* Answers completely written */
guint mock_speech_n_completed (MockSpeech * mock, MockSpeechKind kind);
/* A text field of the form (ASR) or a string member of the JSON (TTS) of
 * request @i, or its "Authorization" header; NULL when absent (g_free) */
gchar *mock_speech_get_field (MockSpeech * mock, MockSpeechKind kind,
    guint i, const gchar * name);
gchar *mock_speech_get_path (MockSpeech * mock, MockSpeechKind kind,
    guint i);
/* ASR request @i's WAV: its rate and samples (g_free), NULL when none */
gint16 *mock_speech_get_audio (MockSpeech * mock, guint i, guint * rate,
    gsize * n_samples);
/* What was wrong with the requests, one line each; NULL when nothing */
gchar *mock_speech_problems (MockSpeech * mock);

G_END_DECLS

#endif /* __MOCK_SPEECH_H__ */
