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

#include "gstbidiplayout.h"

/* Runs of an answer that ended this long before a new run starts count as
 * heard in full: no pipeline has that much latency. */
#define SETTLE_TIME (10 * GST_SECOND)

void
gst_bidi_playout_init (GstBidiPlayout * p)
{
  memset (p, 0, sizeof (*p));
  g_queue_init (&p->queue);
  p->rate = 24000;
  p->bpf = 2;
  p->base = GST_CLOCK_TIME_NONE;
  p->runs = g_array_new (FALSE, FALSE, sizeof (GstBidiPlayoutRun));
}

void
gst_bidi_playout_free (GstBidiPlayout * p)
{
  gst_bidi_playout_clear (p);
  g_array_free (p->runs, TRUE);
  p->runs = NULL;
}

/* Also starts a new timeline: samples of another rate cannot continue the
 * old count. */
void
gst_bidi_playout_set_format (GstBidiPlayout * p, const GstAudioInfo * info)
{
  GstClockTime next = gst_bidi_playout_next_time (p);

  p->rate = GST_AUDIO_INFO_RATE (info);
  p->bpf = GST_AUDIO_INFO_BPF (info);
  p->base = next;
  p->samples = 0;
}

void
gst_bidi_playout_item_free (GstBidiPlayoutItem * item)
{
  g_bytes_unref (item->pcm);
  g_free (item);
}

void
gst_bidi_playout_push (GstBidiPlayout * p, GBytes * pcm, guint answer)
{
  GstBidiPlayoutItem *item = g_new (GstBidiPlayoutItem, 1);

  item->pcm = g_bytes_ref (pcm);
  item->answer = answer;
  p->queued_bytes += g_bytes_get_size (pcm);
  g_queue_push_tail (&p->queue, item);
}

GstBidiPlayoutItem *
gst_bidi_playout_pop (GstBidiPlayout * p)
{
  GstBidiPlayoutItem *item = g_queue_pop_head (&p->queue);

  if (item)
    p->queued_bytes -= g_bytes_get_size (item->pcm);
  return item;
}

void
gst_bidi_playout_clear (GstBidiPlayout * p)
{
  GstBidiPlayoutItem *item;

  while ((item = g_queue_pop_head (&p->queue)))
    gst_bidi_playout_item_free (item);
  p->queued_bytes = 0;
}

GstClockTime
gst_bidi_playout_queued_time (GstBidiPlayout * p)
{
  return gst_util_uint64_scale (p->queued_bytes / p->bpf, GST_SECOND,
      p->rate);
}

/* Running time of the next sample, GST_CLOCK_TIME_NONE before the first. */
GstClockTime
gst_bidi_playout_next_time (GstBidiPlayout * p)
{
  if (!GST_CLOCK_TIME_IS_VALID (p->base))
    return GST_CLOCK_TIME_NONE;
  return p->base + gst_util_uint64_scale (p->samples, GST_SECOND, p->rate);
}

/* Restarts the timeline at @now (the next buffer is a discontinuity). */
void
gst_bidi_playout_resync (GstBidiPlayout * p, GstClockTime now)
{
  p->base = now;
  p->samples = 0;
}

static GstClockTime
run_end (GstBidiPlayout * p, const GstBidiPlayoutRun * run)
{
  return run->start + gst_util_uint64_scale (run->samples, GST_SECOND,
      p->rate);
}

/* Allocates the next @n_samples of the timeline and returns their running
 * time. @answer is the answer they belong to, 0 for silence. Every buffer,
 * the first of an answer included, follows the previous one sample for
 * sample: the caller restarts the timeline at now (gst_bidi_playout_resync)
 * only when it fell so far behind that its next sample would be late. The
 * first buffer ever goes at @now. */
GstClockTime
gst_bidi_playout_take (GstBidiPlayout * p, guint answer, guint64 n_samples,
    GstClockTime now, GstClockTime * duration, gboolean * discont)
{
  GstClockTime ts, end;
  gboolean new_answer = answer != 0 && answer != p->answer;

  *discont = FALSE;
  if (!GST_CLOCK_TIME_IS_VALID (p->base))
    gst_bidi_playout_resync (p, GST_CLOCK_TIME_IS_VALID (now) ? now : 0);

  ts = gst_bidi_playout_next_time (p);
  p->samples += n_samples;
  end = gst_bidi_playout_next_time (p);
  *duration = end - ts;

  if (new_answer) {
    p->answer = answer;
    p->settled_samples = 0;
    g_array_set_size (p->runs, 0);
  }

  if (answer != 0 && answer == p->answer) {
    GstBidiPlayoutRun *last = p->runs->len ?
        &g_array_index (p->runs, GstBidiPlayoutRun, p->runs->len - 1) : NULL;

    /* Extend the last run when this buffer follows it directly; allow one
     * nanosecond for the rounding of two different bases. */
    if (last && run_end (p, last) + 1 >= ts && run_end (p, last) <= ts + 1) {
      last->samples += n_samples;
    } else {
      GstBidiPlayoutRun run = { ts, n_samples };

      /* An answer that keeps underrunning splits into many runs; runs that
       * ended long before this one was heard are settled. */
      while (p->runs->len > 0 && run_end (p, &g_array_index (p->runs,
                  GstBidiPlayoutRun, 0)) + SETTLE_TIME < ts) {
        p->settled_samples +=
            g_array_index (p->runs, GstBidiPlayoutRun, 0).samples;
        g_array_remove_index (p->runs, 0);
      }
      g_array_append_val (p->runs, run);
    }
  }
  return ts;
}

/* Forgets the answer on air (after an interruption). */
void
gst_bidi_playout_end_answer (GstBidiPlayout * p)
{
  p->answer = 0;
  p->settled_samples = 0;
  g_array_set_size (p->runs, 0);
}

static GstClockTime
heard_until (GstClockTime now, GstClockTime latency)
{
  if (!GST_CLOCK_TIME_IS_VALID (now))
    return 0;
  if (!GST_CLOCK_TIME_IS_VALID (latency))
    latency = 0;
  return now > latency ? now - latency : 0;
}

/* How much of the answer on air was heard by @now: a sample at running time
 * t is heard at t + @latency (the pipeline latency the sinks render with).
 * Clamped to what was pushed. */
guint64
gst_bidi_playout_played_ms (GstBidiPlayout * p, GstClockTime now,
    GstClockTime latency)
{
  GstClockTime heard = heard_until (now, latency);
  guint64 samples = p->settled_samples;
  guint i;

  for (i = 0; i < p->runs->len; i++) {
    const GstBidiPlayoutRun *run =
        &g_array_index (p->runs, GstBidiPlayoutRun, i);

    if (heard <= run->start)
      continue;
    samples += MIN (run->samples, gst_util_uint64_scale (heard - run->start,
            p->rate, GST_SECOND));
  }
  return gst_util_uint64_scale (samples, 1000, p->rate);
}

/* Whether any model audio is queued, or was pushed and not heard yet. */
gboolean
gst_bidi_playout_audible (GstBidiPlayout * p, GstClockTime now,
    GstClockTime latency)
{
  const GstBidiPlayoutRun *last;

  if (p->queued_bytes > 0)
    return TRUE;
  if (p->runs->len == 0)
    return FALSE;
  last = &g_array_index (p->runs, GstBidiPlayoutRun, p->runs->len - 1);
  return run_end (p, last) > heard_until (now, latency);
}
