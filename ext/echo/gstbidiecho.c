/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gstbidiecho
 * @title: provider=echo
 * @short_description: plays the user's audio back
 *
 * The smallest provider, and the example of docs/providers.md. It keeps
 * what the user says (16 kHz S16LE mono, the last 30 seconds) and, when
 * the input ends, answers with it: the same samples, unchanged, as one
 * answer. A typed text is answered with the same text as the assistant's
 * transcript. No network, no model: it checks a pipeline's audio path.
 *
 * |[
 * gst-launch-1.0 filesrc location=q.wav ! wavparse ! audioconvert ! \
 *   audioresample ! bidiagent provider=echo ! audioconvert ! wavenc ! \
 *   filesink location=echo.wav
 * ]|
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/bidi/gstbidiaudioqueue.h>
#include <gst/bidi/gstbidievents.h>
#include <gst/bidi/gstbidiprovider.h>

GST_DEBUG_CATEGORY_STATIC (bidi_echo_debug);
#define GST_CAT_DEFAULT bidi_echo_debug

#define RATE 16000
/* what is kept of the user's audio: the newest 30 s */
#define MAX_KEPT_BYTES (30 * RATE * 2)

#define GST_TYPE_BIDI_ECHO_PROVIDER (gst_bidi_echo_provider_get_type ())
G_DECLARE_FINAL_TYPE (GstBidiEchoProvider, gst_bidi_echo_provider, GST,
    BIDI_ECHO_PROVIDER, GstBidiProvider);

struct _GstBidiEchoProvider
{
  GstBidiProvider parent;

  /* network thread only, like every vfunc but configure */
  GstBidiAudioQueue heard;
  guint n_answers;
  gboolean running;
};

G_DEFINE_TYPE_WITH_CODE (GstBidiEchoProvider, gst_bidi_echo_provider,
    GST_TYPE_BIDI_PROVIDER, GST_DEBUG_CATEGORY_INIT (bidi_echo_debug,
        "bidiecho", 0, "bidiagent echo provider"));

static gboolean
gst_bidi_echo_provider_configure (GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error)
{
  /* it has no provider-config fields: any field is an error */
  return gst_bidi_provider_check_config (config->provider_config,
      GST_OBJECT_NAME (provider), error, NULL);
}

static void
gst_bidi_echo_provider_get_audio_formats (G_GNUC_UNUSED GstBidiProvider *
    provider, GstAudioInfo * in_info, GstAudioInfo * out_info)
{
  /* the same format both ways, so that the answer is the input itself */
  gst_audio_info_set_format (in_info, GST_AUDIO_FORMAT_S16LE, RATE, 1, NULL);
  gst_audio_info_set_format (out_info, GST_AUDIO_FORMAT_S16LE, RATE, 1,
      NULL);
}

static gboolean
gst_bidi_echo_provider_start (GstBidiProvider * provider,
    G_GNUC_UNUSED const GstBidiProviderConfig * config,
    G_GNUC_UNUSED GError ** error)
{
  GstBidiEchoProvider *self = GST_BIDI_ECHO_PROVIDER (provider);

  self->running = TRUE;
  gst_bidi_provider_emit (provider,
      gst_bidi_event_new_connection_start ("echo", "echo"));
  return TRUE;
}

static void
gst_bidi_echo_provider_send_audio (GstBidiProvider * provider, GBytes * pcm,
    G_GNUC_UNUSED gint64 arrived_us)
{
  GstBidiEchoProvider *self = GST_BIDI_ECHO_PROVIDER (provider);

  if (self->running &&
      gst_bidi_audio_queue_push (&self->heard, g_bytes_ref (pcm), 0) > 0)
    GST_LOG_OBJECT (self, "over 30 s of input: the oldest is forgotten");
}

/* Each answer: response_start, its transcript or audio, response_complete */
static gchar *
answer_begin (GstBidiEchoProvider * self)
{
  gchar *id = g_strdup_printf ("echo-%u", ++self->n_answers);

  gst_bidi_provider_emit (GST_BIDI_PROVIDER (self),
      gst_bidi_event_new_response_start (id));
  return id;
}

static void
answer_end (GstBidiEchoProvider * self, gchar * id)
{
  gst_bidi_provider_emit (GST_BIDI_PROVIDER (self),
      gst_bidi_event_new_response_complete (id, "complete"));
  g_free (id);
}

static void
gst_bidi_echo_provider_send_text (GstBidiProvider * provider,
    const gchar * text, const gchar * role)
{
  GstBidiEchoProvider *self = GST_BIDI_ECHO_PROVIDER (provider);
  gchar *id;

  if (!self->running || g_strcmp0 (role, "user") != 0)
    return;
  id = answer_begin (self);
  gst_bidi_provider_emit (provider,
      gst_bidi_event_new_transcript ("assistant", text, TRUE, text));
  answer_end (self, id);
}

static void
gst_bidi_echo_provider_interrupt (G_GNUC_UNUSED GstBidiProvider * provider,
    guint64 played_ms)
{
  /* answers are emitted whole, nothing is left to cancel */
  GST_DEBUG_OBJECT (provider, "interrupted after %" G_GUINT64_FORMAT " ms",
      played_ms);
}

static void
gst_bidi_echo_provider_end_input (GstBidiProvider * provider)
{
  GstBidiEchoProvider *self = GST_BIDI_ECHO_PROVIDER (provider);
  GBytes *chunk;

  if (!self->running)
    return;
  if (gst_bidi_audio_queue_get_bytes (&self->heard) > 0) {
    gchar *id = answer_begin (self);

    while ((chunk = gst_bidi_audio_queue_pop (&self->heard, NULL))) {
      gst_bidi_provider_emit_audio (provider, chunk);
      g_bytes_unref (chunk);
    }
    answer_end (self, id);
  }
  gst_bidi_provider_emit (provider,
      gst_bidi_event_new_connection_close ("echo", "complete"));
}

static void
gst_bidi_echo_provider_stop (GstBidiProvider * provider)
{
  GstBidiEchoProvider *self = GST_BIDI_ECHO_PROVIDER (provider);

  self->running = FALSE;
  gst_bidi_audio_queue_clear (&self->heard);
}

static void
gst_bidi_echo_provider_finalize (GObject * object)
{
  GstBidiEchoProvider *self = GST_BIDI_ECHO_PROVIDER (object);

  gst_bidi_audio_queue_clear (&self->heard);
  G_OBJECT_CLASS (gst_bidi_echo_provider_parent_class)->finalize (object);
}

static void
gst_bidi_echo_provider_class_init (GstBidiEchoProviderClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBidiProviderClass *provider_class = GST_BIDI_PROVIDER_CLASS (klass);

  gobject_class->finalize = gst_bidi_echo_provider_finalize;
  provider_class->configure = gst_bidi_echo_provider_configure;
  provider_class->get_audio_formats = gst_bidi_echo_provider_get_audio_formats;
  provider_class->start = gst_bidi_echo_provider_start;
  provider_class->send_audio = gst_bidi_echo_provider_send_audio;
  provider_class->send_text = gst_bidi_echo_provider_send_text;
  provider_class->interrupt = gst_bidi_echo_provider_interrupt;
  provider_class->end_input = gst_bidi_echo_provider_end_input;
  provider_class->stop = gst_bidi_echo_provider_stop;
  /* no built-in tool: it never calls one */
  provider_class->builtin_tools = "";
}

static void
gst_bidi_echo_provider_init (GstBidiEchoProvider * self)
{
  gst_bidi_audio_queue_init (&self->heard, MAX_KEPT_BYTES);
}
