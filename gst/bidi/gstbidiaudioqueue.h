/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_AUDIO_QUEUE_H__
#define __GST_BIDI_AUDIO_QUEUE_H__

#include <gst/gst.h>

#include "bidi-prelude.h"

G_BEGIN_DECLS

/* A bounded FIFO of audio chunks that, when full, drops its oldest audio:
 * what a live input does when the one it feeds falls behind (the element's
 * input to the network thread, a provider waiting for its connection, a
 * recogniser that cannot keep up). The newest chunk is always kept, even
 * when it alone is over the limit. It counts what it dropped, and keeps
 * when each chunk came in.
 *
 * Not thread safe: its owner's lock protects it. */
typedef struct
{
  /*< private >*/
  GQueue chunks;                /* GBytes and when each came in */
  gsize bytes;
  gsize max_bytes;
  guint64 dropped_bytes;
} GstBidiAudioQueue;

GST_BIDI_API
void gst_bidi_audio_queue_init (GstBidiAudioQueue * queue, gsize max_bytes);
/* Drops every chunk; keeps the limit and the dropped count */
GST_BIDI_API
void gst_bidi_audio_queue_clear (GstBidiAudioQueue * queue);

/* Appends @chunk (transfer full), which came in at @arrived_us (monotonic
 * time; 0 when the caller does not keep it), then drops the oldest chunks
 * while the queue is over its limit. Returns how many bytes this push
 * dropped. */
GST_BIDI_API
gsize gst_bidi_audio_queue_push (GstBidiAudioQueue * queue, GBytes * chunk,
    gint64 arrived_us);

/* (transfer full) the oldest chunk, NULL when empty; with @arrived_us
 * (nullable), when it came in as given to push */
GST_BIDI_API
GBytes *gst_bidi_audio_queue_pop (GstBidiAudioQueue * queue,
    gint64 * arrived_us);

/* Moves every chunk to the tail of @out (GBytes, transfer full): the
 * queue is then empty. */
GST_BIDI_API
void gst_bidi_audio_queue_take_all (GstBidiAudioQueue * queue, GQueue * out);

/* Whether @size more bytes fit without a drop (always TRUE when empty):
 * what an input that must not lose audio waits for. */
GST_BIDI_API
gboolean gst_bidi_audio_queue_has_room (const GstBidiAudioQueue * queue,
    gsize size);

GST_BIDI_API
gsize gst_bidi_audio_queue_get_bytes (const GstBidiAudioQueue * queue);
GST_BIDI_API
guint64 gst_bidi_audio_queue_get_dropped (const GstBidiAudioQueue * queue);
GST_BIDI_API
void gst_bidi_audio_queue_set_max_bytes (GstBidiAudioQueue * queue,
    gsize max_bytes);

G_END_DECLS

#endif /* __GST_BIDI_AUDIO_QUEUE_H__ */
