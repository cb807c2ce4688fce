/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_PLAYOUT_H__
#define __GST_BIDI_PLAYOUT_H__

#include <gst/gst.h>
#include <gst/audio/audio.h>

G_BEGIN_DECLS

/* The output side's bookkeeping: the queue of model audio waiting for the
 * src task, the output timeline (running time of the next sample), and what
 * was pushed of the answer being played, so that an interruption knows how
 * much of it the listener heard.
 *
 * Plain data, no locking of its own: the element guards it with out_lock.
 * Times are running times; sample counts are in the provider's output
 * format, whose rate is given at init. */

typedef struct
{
  GstClockTime start;           /* running time of the run's first sample */
  guint64 samples;              /* answer samples in the run */
} GstBidiPlayoutRun;

typedef struct
{
  GBytes *pcm;
  guint answer;                 /* answer sequence number, 0 = none */
} GstBidiPlayoutItem;

typedef struct
{
  gint rate;
  gint bpf;

  GQueue queue;                 /* of GstBidiPlayoutItem* */
  guint64 queued_bytes;

  /* Timeline: the next sample goes at base + samples * GST_SECOND / rate,
   * base == GST_CLOCK_TIME_NONE until the first push. */
  GstClockTime base;
  guint64 samples;

  /* The answer on air: its runs of contiguous samples (silence inserted on
   * an underrun splits runs). */
  guint answer;
  GArray *runs;                 /* of GstBidiPlayoutRun */
  guint64 settled_samples;      /* in runs dropped from the array */
} GstBidiPlayout;

void gst_bidi_playout_init (GstBidiPlayout * p);
void gst_bidi_playout_free (GstBidiPlayout * p);
void gst_bidi_playout_set_format (GstBidiPlayout * p, const GstAudioInfo * info);

/* queue */
void gst_bidi_playout_push (GstBidiPlayout * p, GBytes * pcm, guint answer);
GstBidiPlayoutItem *gst_bidi_playout_pop (GstBidiPlayout * p);
void gst_bidi_playout_item_free (GstBidiPlayoutItem * item);
void gst_bidi_playout_clear (GstBidiPlayout * p);
GstClockTime gst_bidi_playout_queued_time (GstBidiPlayout * p);

/* timeline */
GstClockTime gst_bidi_playout_next_time (GstBidiPlayout * p);
void gst_bidi_playout_resync (GstBidiPlayout * p, GstClockTime now);
GstClockTime gst_bidi_playout_take (GstBidiPlayout * p, guint answer,
    guint64 n_samples, GstClockTime now, GstClockTime * duration,
    gboolean * discont);

/* the answer on air */
void gst_bidi_playout_end_answer (GstBidiPlayout * p);
guint64 gst_bidi_playout_played_ms (GstBidiPlayout * p, GstClockTime now,
    GstClockTime latency);
gboolean gst_bidi_playout_audible (GstBidiPlayout * p, GstClockTime now,
    GstClockTime latency);

G_END_DECLS

#endif
