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

#include "gstbidiaudioqueue.h"

/* A chunk, and when it came in */
typedef struct
{
  GBytes *chunk;
  gint64 arrived_us;
} Entry;

static void
entry_free (Entry * e)
{
  g_bytes_unref (e->chunk);
  g_free (e);
}

void
gst_bidi_audio_queue_init (GstBidiAudioQueue * queue, gsize max_bytes)
{
  g_queue_init (&queue->chunks);
  queue->bytes = 0;
  queue->max_bytes = max_bytes;
  queue->dropped_bytes = 0;
}

void
gst_bidi_audio_queue_clear (GstBidiAudioQueue * queue)
{
  g_queue_clear_full (&queue->chunks, (GDestroyNotify) entry_free);
  queue->bytes = 0;
}

/* the oldest chunks go while over the limit, never the newest */
static gsize
drop_oldest (GstBidiAudioQueue * queue)
{
  gsize dropped = 0;

  while (queue->bytes > queue->max_bytes &&
      g_queue_get_length (&queue->chunks) > 1) {
    Entry *old = g_queue_pop_head (&queue->chunks);
    gsize size = g_bytes_get_size (old->chunk);

    queue->bytes -= size;
    dropped += size;
    entry_free (old);
  }
  queue->dropped_bytes += dropped;
  return dropped;
}

gsize
gst_bidi_audio_queue_push (GstBidiAudioQueue * queue, GBytes * chunk,
    gint64 arrived_us)
{
  Entry *e = g_new (Entry, 1);

  e->chunk = chunk;
  e->arrived_us = arrived_us;
  g_queue_push_tail (&queue->chunks, e);
  queue->bytes += g_bytes_get_size (chunk);
  return drop_oldest (queue);
}

GBytes *
gst_bidi_audio_queue_pop (GstBidiAudioQueue * queue, gint64 * arrived_us)
{
  Entry *e = g_queue_pop_head (&queue->chunks);
  GBytes *chunk;

  if (!e)
    return NULL;
  chunk = e->chunk;
  queue->bytes -= g_bytes_get_size (chunk);
  if (arrived_us)
    *arrived_us = e->arrived_us;
  g_free (e);
  return chunk;
}

void
gst_bidi_audio_queue_take_all (GstBidiAudioQueue * queue, GQueue * out)
{
  GBytes *chunk;

  while ((chunk = gst_bidi_audio_queue_pop (queue, NULL)))
    g_queue_push_tail (out, chunk);
}

gboolean
gst_bidi_audio_queue_has_room (const GstBidiAudioQueue * queue, gsize size)
{
  return queue->bytes == 0 || queue->bytes + size <= queue->max_bytes;
}

gsize
gst_bidi_audio_queue_get_bytes (const GstBidiAudioQueue * queue)
{
  return queue->bytes;
}

guint64
gst_bidi_audio_queue_get_dropped (const GstBidiAudioQueue * queue)
{
  return queue->dropped_bytes;
}

void
gst_bidi_audio_queue_set_max_bytes (GstBidiAudioQueue * queue,
    gsize max_bytes)
{
  queue->max_bytes = max_bytes;
}
