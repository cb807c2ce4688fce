/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_PADS_H__
#define __GST_BIDI_PADS_H__

#include <gst/gst.h>

#include "gstbidiagent.h"
#include "gstbidicaptions.h"
#include "gstbidinet.h"
#include "gstbidioutput.h"

G_BEGIN_DECLS

/* The request pads: text_sink (each buffer a message from the user),
 * image_sink (frames for the model, at most one per image-interval-ms) and
 * transcript_src (the final transcripts as timed text, see
 * gstbidicaptions.c). */

typedef struct
{
  /* the user's typed text; FALSE if it could not be sent */
  gboolean (*send_text) (gpointer user_data, const gchar * text);
  gboolean (*send_image) (gpointer user_data, GBytes * data,
      const gchar * mime);
  /* 1 if the provider takes images, 0 if not (with its @name, transfer
   * full), -1 when there is no provider */
  gint (*takes_images) (gpointer user_data, gchar ** name);
} GstBidiPadsCallbacks;

typedef struct
{
  /* set at init */
  GstElement *element;
  GstBidiNet *net;              /* where the image timer runs */
  GstBidiPadsCallbacks cb;
  gpointer user_data;

  /* protected by the element's GST_OBJECT_LOCK (the pads and the
   * transcript settings, as the element's other settings) */
  GstPad *text_sinkpad;
  GstPad *transcript_srcpad;
  GstPad *image_sinkpad;
  GstBidiCaptions *captions;    /* the transcript_src pad's stream */
  GstBidiAgentTranscriptRoles transcript_roles;
  gboolean transcript_prefix;

  /* the image_sink state, protected by lock (a leaf lock) */
  GMutex lock;
  guint image_interval_ms;
  /* image_sink: the newest frame waiting for its turn, the timer (on the
   * network thread) that sends it, when the last one went (monotonic us,
   * 0: none yet) */
  GBytes *img_pending;
  const gchar *img_pending_mime;
  GSource *img_timer;
  gint64 img_last_sent;
  gboolean img_warned;
} GstBidiPads;

void gst_bidi_pads_init (GstBidiPads * pads, GstElement * element,
    GstBidiNet * net, const GstBidiPadsCallbacks * cb, gpointer user_data);
void gst_bidi_pads_clear (GstBidiPads * pads);

/* GstElement's request_new_pad and release_pad */
GstPad *gst_bidi_pads_request (GstBidiPads * pads, GstPadTemplate * templ);
void gst_bidi_pads_release (GstBidiPads * pads, GstPad * pad);

/* Forgets the frame waiting and its timer (a new session, a released pad) */
void gst_bidi_pads_reset_images (GstBidiPads * pads);

/* (transfer full) the transcript_src pad's stream, NULL if none */
GstBidiCaptions *gst_bidi_pads_get_captions (GstBidiPads * pads);
/* network thread: a transcript, and the end of an answer (@answer, which
 * queued audio if @had_audio) */
void gst_bidi_pads_on_transcript (GstBidiPads * pads,
    const GstStructure * event, GstBidiOutput * out);
void gst_bidi_pads_answer_closed (GstBidiPads * pads, guint answer,
    gboolean had_audio);

/* The mime type of an image providers take (PNG, JPEG, WebP), NULL for
 * anything else */
const gchar *gst_bidi_image_mime_type (GBytes * data);

G_END_DECLS

#endif /* __GST_BIDI_PADS_H__ */
