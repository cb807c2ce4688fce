/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_INPUT_H__
#define __GST_BIDI_INPUT_H__

#include <gst/gst.h>
#include <gst/audio/audio.h>
#include <gst/bidi/gstbidiaudioqueue.h>

G_BEGIN_DECLS

/* The sink side: the input audio converted to the provider's format, cut
 * in chunks of input-chunk-ms and queued for the network thread. Live
 * input never waits: past input-buffer-ms the oldest audio goes (counted).
 * Non-live input (a file) waits for room instead, so nothing is lost. */

/* Called with no lock held when the queue has chunks and the network
 * thread was not told yet: it should take them (gst_bidi_input_pop). */
typedef void (*GstBidiInputWakeFunc) (gpointer user_data);

typedef struct
{
  /* set at init */
  GstElement *element;          /* for messages */
  GstBidiInputWakeFunc wake;
  gpointer user_data;

  /* The queue to the network thread, protected by lock */
  GMutex lock;
  GCond cond;
  GstBidiAudioQueue queue;
  gint64 last_drop_warning;     /* monotonic us of the last drop warning,
                                 * 0: none yet */
  gboolean scheduled;           /* the network thread was woken */
  gboolean flushing;
  gboolean closed;              /* the conversation stopped: no more input */
  gboolean live;                /* upstream said it is live: drop, do not
                                 * wait (unknown: not live) */

  /* sink stream lock (or the state change, with the sink pad inactive) */
  GstAudioInfo prov_in;         /* what conv makes: the provider's format */
  GstAudioInfo info;
  GstAudioConverter *conv;
  GByteArray *acc;
  gsize chunk_bytes;
} GstBidiInput;

void gst_bidi_input_init (GstBidiInput * in, GstElement * element,
    GstBidiInputWakeFunc wake, gpointer user_data);
void gst_bidi_input_clear (GstBidiInput * in);

/* READY->PAUSED, the sink pad inactive */
void gst_bidi_input_setup (GstBidiInput * in, const GstAudioInfo * prov_in,
    guint buffer_ms);
/* PAUSED->READY: drops what is queued and the converter */
void gst_bidi_input_stop (GstBidiInput * in);

/* sink pad, streaming thread */
gboolean gst_bidi_input_set_caps (GstBidiInput * in, GstCaps * caps,
    const GstAudioInfo * prov_in, guint chunk_ms);
void gst_bidi_input_query_live (GstBidiInput * in, GstPad * sinkpad);
GstFlowReturn gst_bidi_input_chain (GstBidiInput * in, GstBuffer * buffer);
/* EOS: the last, partial chunk goes too */
void gst_bidi_input_finish (GstBidiInput * in);
void gst_bidi_input_set_flushing (GstBidiInput * in, gboolean flushing);
/* FLUSH_STOP: a new stream starts */
void gst_bidi_input_flush_stop (GstBidiInput * in);

/* network thread, told to take the chunks: the oldest chunk (GBytes, owned
 * by the caller), or NULL when none is queued, and in @arrived_us the
 * monotonic time at which its last sample came in. While not @ready (no
 * connection, or the provider is full), NULL: the chunks wait, and the
 * next chunk queued tells the network thread again. */
GBytes *gst_bidi_input_pop (GstBidiInput * in, gboolean ready,
    gint64 * arrived_us);
/* any thread: no more input is taken (the conversation stops) */
void gst_bidi_input_close (GstBidiInput * in);

/* any thread, in bytes of the provider's format */
void gst_bidi_input_get_stats (GstBidiInput * in, guint64 * queued,
    guint64 * dropped);

G_END_DECLS

#endif /* __GST_BIDI_INPUT_H__ */
