/* gst-bidi: a provider for tests and benchmarks.
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_SCRIPTED_PROVIDER_H__
#define __GST_BIDI_SCRIPTED_PROVIDER_H__

#include <gst/bidi/gstbidiprovider.h>
#include <gst/bidi/gstbidievents.h>

G_BEGIN_DECLS

/* The "scripted" provider. Not shipped in the plugin: tests and benchmarks
 * call gst_bidi_scripted_provider_register() and then create bidiagent with
 * provider=scripted.
 *
 * provider-config fields (all optional):
 *   in-rate, out-rate (int, Hz; default 16000 / 24000)
 *   in-channels, out-channels (int; default 1)
 *   in-format, out-format (string, GstAudioFormat name; default "S16LE")
 *   fail-start (boolean): start() fails with a GError
 *   fail-after-ms (int): after connecting, emit bidi_error and
 *       bidi_connection_close reason "error" after that many ms
 *   connect-delay-ms (int): emit bidi_connection_start this long after start
 *   script (GstValueArray of GstStructure): events to emit, each with an
 *       "at-ms" int field = ms after bidi_connection_start (removed before
 *       emitting). A "bidi_audio_stream" entry has no audio; it has
 *       "duration-ms" (int), "value" (int, the constant S16 sample value the
 *       chunk is filled with; default 1000), "chunk-ms" (int, default 20;
 *       the audio is emitted as chunks of that size) and "paced" (boolean,
 *       default FALSE: all chunks at once; TRUE: one chunk every chunk-ms).
 *   echo (boolean): every send_audio chunk comes straight back as output
 *       audio (needs equal input and output formats)
 *   end-input-delay-ms (int): on end_input, emit bidi_connection_close
 *       reason "complete" this long after the last scripted event has been
 *       emitted (default 0); -1 never closes
 *   record-audio (boolean, default TRUE): keep the PCM it receives
 *
 * Every vfunc call is recorded as a structure, by name:
 *   "configure", "start" (model, voice, instructions, url: strings;
 *   has-api-key: boolean), "send-audio" (bytes: uint64, arrived_us: int64),
 *   "send-text" (text, role), "send-image" (mime, size: uint64),
 *   "send-tool-result" (id, name, json, status), "interrupt" (played-ms:
 *   uint64), "end-input", "stop".
 */

#define GST_TYPE_BIDI_SCRIPTED_PROVIDER (gst_bidi_scripted_provider_get_type ())
G_DECLARE_FINAL_TYPE (GstBidiScriptedProvider, gst_bidi_scripted_provider,
    GST, BIDI_SCRIPTED_PROVIDER, GstBidiProvider);

/* Registers the type as "scripted". Idempotent. */
void gst_bidi_scripted_provider_register (void);

/* The most recently created instance, or NULL. (transfer full) */
GstBidiScriptedProvider *gst_bidi_scripted_provider_get_last (void);
/* Forgets the last instance (call between tests). */
void gst_bidi_scripted_provider_reset_last (void);

/* Emits @event (transfer full) on the provider's network thread as soon as
 * possible; before start() it is kept and emitted right after connecting.
 * A "bidi_audio_stream" structure is expanded as in the script. */
void gst_bidi_scripted_provider_play (GstBidiScriptedProvider * self,
    GstStructure * event);

/* Waits until at least @count calls named @name were recorded, at most
 * @timeout_ms. Returns whether they were. */
gboolean gst_bidi_scripted_provider_wait_call (GstBidiScriptedProvider * self,
    const gchar * name, guint count, gint64 timeout_ms);
guint gst_bidi_scripted_provider_count_calls (GstBidiScriptedProvider * self,
    const gchar * name);
/* (transfer full) copy of the @index-th call named @name, or NULL */
GstStructure *gst_bidi_scripted_provider_get_call (GstBidiScriptedProvider *
    self, const gchar * name, guint index);
/* Where the @index-th call named @name is among all calls (from 0), -1 if
 * there is none: for checking the order of calls of different names */
gint gst_bidi_scripted_provider_get_call_position (GstBidiScriptedProvider *
    self, const gchar * name, guint index);
/* (transfer full) all PCM received so far */
GBytes *gst_bidi_scripted_provider_get_audio (GstBidiScriptedProvider * self);

/* Called on the network thread right before each event is emitted (for the
 * benchmarks' latency figures). */
typedef void (*GstBidiScriptedEmitHook) (GstBidiScriptedProvider * self,
    const GstStructure * event, gpointer user_data);
void gst_bidi_scripted_provider_set_emit_hook (GstBidiScriptedProvider * self,
    GstBidiScriptedEmitHook hook, gpointer user_data);

G_END_DECLS

#endif
