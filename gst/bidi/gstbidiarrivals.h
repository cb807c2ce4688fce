/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_ARRIVALS_H__
#define __GST_BIDI_ARRIVALS_H__

#include <glib.h>

#include "bidi-prelude.h"

G_BEGIN_DECLS

/* When each input sample came in, for whoever finds moments at any sample
 * of a stream (a recogniser's VAD, a server's audio_end_ms). Audio may wait
 * before it is used (in the element's input while the provider connects or
 * loads its models, in a recogniser running behind), so such a moment is
 * dated by when that audio arrived, not by when it was processed. Whole
 * chunks keep their own arrival in GstBidiAudioQueue. A ring of the last
 * chunks' ends, in samples (or any unit with a fixed rate, such as bytes);
 * plain data, the caller locks. */
#define GST_BIDI_ARRIVALS_SIZE 512      /* chunks: 20 s of 40 ms chunks */

typedef struct
{
  guint64 end;                  /* samples in, up to this chunk's end */
  gint64 us;                    /* monotonic time it came in */
} GstBidiArrival;

typedef struct
{
  guint rate;
  GstBidiArrival ring[GST_BIDI_ARRIVALS_SIZE];
  guint head;                   /* next slot */
  guint count;
  guint64 samples;              /* samples in so far */
  guint64 dropped;              /* of them, dropped before the recogniser */
} GstBidiArrivals;

GST_BIDI_API
void gst_bidi_arrivals_reset (GstBidiArrivals * a, guint rate);
/* @n samples came in at @us, of which the oldest @dropped queued ones were
 * dropped to make room */
GST_BIDI_API
void gst_bidi_arrivals_add (GstBidiArrivals * a, guint64 n, guint64 dropped,
    gint64 us);
/* The monotonic time at which the recogniser's sample @position came in
 * (@now when nothing is known) */
GST_BIDI_API
gint64 gst_bidi_arrivals_time (const GstBidiArrivals * a, guint64 position,
    gint64 now);

G_END_DECLS

#endif /* __GST_BIDI_ARRIVALS_H__ */
