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

#include "gstbidiarrivals.h"

void
gst_bidi_arrivals_reset (GstBidiArrivals * a, guint rate)
{
  a->rate = rate;
  a->head = 0;
  a->count = 0;
  a->samples = 0;
  a->dropped = 0;
}

void
gst_bidi_arrivals_add (GstBidiArrivals * a, guint64 n, guint64 dropped,
    gint64 us)
{
  a->samples += n;
  a->dropped += dropped;
  a->ring[a->head].end = a->samples;
  a->ring[a->head].us = us;
  a->head = (a->head + 1) % GST_BIDI_ARRIVALS_SIZE;
  a->count = MIN (a->count + 1, GST_BIDI_ARRIVALS_SIZE);
}

/* A chunk's samples are timed from its last one, which came last: for a
 * live source, the chunk arrives when its last sample was captured */
static gint64
sample_time (const GstBidiArrivals * a, const GstBidiArrival * chunk,
    guint64 sample)
{
  guint64 before = chunk->end > sample ? chunk->end - sample : 0;

  return chunk->us - (gint64) (before * G_USEC_PER_SEC / MAX (a->rate, 1));
}

gint64
gst_bidi_arrivals_time (const GstBidiArrivals * a, guint64 position,
    gint64 now)
{
  /* the recogniser never saw the dropped samples: its count is behind */
  guint64 sample = position + a->dropped;
  guint i;

  if (a->count == 0)
    return now;
  /* newest first: the moment asked for is usually recent; a sample older
   * than the ring is timed back from its oldest chunk */
  for (i = 1; i <= a->count; i++) {
    const GstBidiArrival *c = &a->ring[(a->head + GST_BIDI_ARRIVALS_SIZE -
            i) % GST_BIDI_ARRIVALS_SIZE];
    const GstBidiArrival *prev = i < a->count ?
        &a->ring[(a->head + GST_BIDI_ARRIVALS_SIZE - i - 1) %
        GST_BIDI_ARRIVALS_SIZE] : NULL;

    if (!prev || prev->end < sample)
      return sample_time (a, c, MIN (sample, c->end));
  }
  g_return_val_if_reached (now);
}
