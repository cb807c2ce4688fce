/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_REMOTE_H__
#define __GST_BIDI_REMOTE_H__

#include <gio/gio.h>

G_BEGIN_DECLS

/* Clients of OpenAI-compatible speech servers that run beside the local
 * provider (whisper.cpp's server, Piper or Kokoro servers ...): better
 * models than pocketsphinx and flite, when the user has them.
 *
 * Both are blocking, for the provider's worker threads: each client owns a
 * GMainContext that it runs only while a request is in flight, so a client
 * must be created, used and freed on one thread. A request ends early when
 * the GCancellable given to it is cancelled (from any thread), and fails
 * with G_IO_ERROR_TIMED_OUT when the server takes too long. Messages
 * never contain the API key. */

typedef struct
{
  const gchar *url;             /* base URL, with or without "/v1" */
  const gchar *model;
  const gchar *api_key;         /* nullable: "Authorization: Bearer" */
  const gchar *ssl_ca_file;     /* nullable: extra trusted CAs */
  guint timeout_ms;
} GstBidiRemoteParams;

/* The URL rules of gst_bidi_llm_endpoint(); the error names @what */
gboolean gst_bidi_remote_check_url (const gchar * what, const gchar * url,
    GError ** error);

/* Transcription: POST {url}/v1/audio/transcriptions, multipart/form-data
 * with the turn's audio as a WAV file ("file"), "model" and
 * "response_format" json; the answer is {"text": ...}. The timeout covers
 * the whole request. */

typedef struct _GstBidiRemoteAsr GstBidiRemoteAsr;

/* The client keeps the last @keep_ms of the audio given to record(), mono
 * S16 at @rate. */
GstBidiRemoteAsr *gst_bidi_remote_asr_new (const GstBidiRemoteParams * params,
    guint rate, guint keep_ms, GError ** error);
void gst_bidi_remote_asr_free (GstBidiRemoteAsr * asr);
/* Every input sample, in order, native endianness */
void gst_bidi_remote_asr_record (GstBidiRemoteAsr * asr,
    const gint16 * samples, gsize n);
/* The server's words for the recorded samples @start to @end (counted
 * from the first sample recorded), with a little audio before @start.
 * "" when the server heard no words; NULL with @error on failure. */
gchar *gst_bidi_remote_asr_transcribe (GstBidiRemoteAsr * asr, guint64 start,
    guint64 end, GCancellable * cancellable, GError ** error);

/* Speech: POST {url}/v1/audio/speech, JSON {model, input, voice,
 * response_format}. "pcm" answers are raw S16LE mono at the rate given
 * (24 kHz for OpenAI, Kokoro), "wav" answers are read from their header
 * (16-bit mono PCM only); so is a WAV file that comes when "pcm" was
 * asked for. The audio is converted to the output rate and
 * handed over as it arrives. The timeout is how long the server may keep
 * silent: before the answer starts, and then between two pieces of it. */

typedef struct _GstBidiRemoteTts GstBidiRemoteTts;

/* Audio in native endianness at the output rate */
typedef void (*GstBidiRemoteAudioFunc) (const gint16 * samples, gsize n,
    gpointer user_data);

/* @format: "pcm" or "wav"; @pcm_rate: the rate of "pcm" answers */
GstBidiRemoteTts *gst_bidi_remote_tts_new (const GstBidiRemoteParams * params,
    const gchar * voice, const gchar * format, guint pcm_rate,
    guint out_rate, GError ** error);
void gst_bidi_remote_tts_free (GstBidiRemoteTts * tts);
/* Speaks @text, calling @func with each piece of audio. FALSE with @error
 * when the request failed; @func may have been called before (a server
 * that broke off in the middle). */
gboolean gst_bidi_remote_tts_speak (GstBidiRemoteTts * tts,
    const gchar * text, GCancellable * cancellable,
    GstBidiRemoteAudioFunc func, gpointer user_data, GError ** error);

G_END_DECLS

#endif /* __GST_BIDI_REMOTE_H__ */
