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

#include <string.h>

#include "gstbidioutput.h"

GST_DEBUG_CATEGORY_EXTERN (bidi_agent_debug);
#define GST_CAT_DEFAULT bidi_agent_debug

/* Silence and GAPs between answers come in pieces of this size. */
#define IDLE_CHUNK_MS 20

/* The longest buffer of an answer the task pushes; in cut mode, where the
 * answer goes out in real time, a cut stops within one of the shorter. */
#define MAX_PUSH_MS 1000
#define MAX_PUSH_MS_CUT 100

/* Output overflow warnings: the first at once, then at most one per this */
#define OVERFLOW_WARNING_INTERVAL (5 * G_TIME_SPAN_SECOND)

static void src_loop (GstPad * pad);

/* ------------------------------------------------------------------------
 * The playout: queue, timeline, and what was heard of the answer on air
 * ------------------------------------------------------------------------ */

static void playout_clear (GstBidiPlayout * p);
static GstClockTime playout_next_time (GstBidiPlayout * p);

/* Runs of an answer that ended this long before a new run starts count as
 * heard in full: no pipeline has that much latency. */
#define SETTLE_TIME (10 * GST_SECOND)

static void
playout_init (GstBidiPlayout * p)
{
  memset (p, 0, sizeof (*p));
  g_queue_init (&p->queue);
  p->rate = 24000;
  p->bpf = 2;
  p->base = GST_CLOCK_TIME_NONE;
  p->runs = g_array_new (FALSE, FALSE, sizeof (GstBidiPlayoutRun));
}

static void
playout_free (GstBidiPlayout * p)
{
  playout_clear (p);
  g_array_free (p->runs, TRUE);
  p->runs = NULL;
}

/* Also starts a new timeline: samples of another rate cannot continue the
 * old count. */
static void
playout_set_format (GstBidiPlayout * p, const GstAudioInfo * info)
{
  GstClockTime next = playout_next_time (p);

  p->rate = GST_AUDIO_INFO_RATE (info);
  p->bpf = GST_AUDIO_INFO_BPF (info);
  p->base = next;
  p->samples = 0;
}

static void
playout_item_free (GstBidiPlayoutItem * item)
{
  g_bytes_unref (item->pcm);
  g_free (item);
}

static void
playout_push (GstBidiPlayout * p, GBytes * pcm, guint answer)
{
  GstBidiPlayoutItem *item = g_new (GstBidiPlayoutItem, 1);

  item->pcm = g_bytes_ref (pcm);
  item->answer = answer;
  p->queued_bytes += g_bytes_get_size (pcm);
  g_queue_push_tail (&p->queue, item);
}

/* The head of the queue, at most @max_ms of it: a long delta goes out in
 * pieces, slices of it rather than copies, so that neither a buffer
 * downstream nor its conversion holds minutes of audio at once, and a cut
 * can stop between two pieces. */
static GstBidiPlayoutItem *
playout_pop (GstBidiPlayout * p, guint max_ms)
{
  GstBidiPlayoutItem *item = g_queue_peek_head (&p->queue), *piece;
  gsize size, max = (gsize) p->rate * max_ms / 1000 * p->bpf;
  GBytes *rest;

  if (!item)
    return NULL;
  size = g_bytes_get_size (item->pcm);
  if (size <= max || max == 0) {
    p->queued_bytes -= size;
    return g_queue_pop_head (&p->queue);
  }

  piece = g_new (GstBidiPlayoutItem, 1);
  piece->pcm = g_bytes_new_from_bytes (item->pcm, 0, max);
  piece->answer = item->answer;
  rest = g_bytes_new_from_bytes (item->pcm, max, size - max);
  g_bytes_unref (item->pcm);
  item->pcm = rest;
  p->queued_bytes -= max;
  return piece;
}

static void
playout_clear (GstBidiPlayout * p)
{
  GstBidiPlayoutItem *item;

  while ((item = g_queue_pop_head (&p->queue)))
    playout_item_free (item);
  p->queued_bytes = 0;
}

static GstClockTime
playout_queued_time (GstBidiPlayout * p)
{
  return gst_util_uint64_scale (p->queued_bytes / p->bpf, GST_SECOND,
      p->rate);
}

/* Running time of the next sample, GST_CLOCK_TIME_NONE before the first. */
static GstClockTime
playout_next_time (GstBidiPlayout * p)
{
  if (!GST_CLOCK_TIME_IS_VALID (p->base))
    return GST_CLOCK_TIME_NONE;
  return p->base + gst_util_uint64_scale (p->samples, GST_SECOND, p->rate);
}

/* Restarts the timeline at @now (the next buffer is a discontinuity). */
static void
playout_resync (GstBidiPlayout * p, GstClockTime now)
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
 * sample: the caller restarts the timeline at now (playout_resync)
 * only when it fell so far behind that its next sample would be late. The
 * first buffer ever goes at @now. */
static GstClockTime
playout_take (GstBidiPlayout * p, guint answer, guint64 n_samples,
    GstClockTime now, GstClockTime * duration, gboolean * discont)
{
  GstClockTime ts, end;
  gboolean new_answer = answer != 0 && answer != p->answer;

  *discont = FALSE;
  if (!GST_CLOCK_TIME_IS_VALID (p->base))
    playout_resync (p, GST_CLOCK_TIME_IS_VALID (now) ? now : 0);

  ts = playout_next_time (p);
  p->samples += n_samples;
  end = playout_next_time (p);
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

/* All of the answer on air that was pushed, in ms: in cut mode downstream
 * plays it all out, nothing flushes it. */
static guint64
playout_pushed_ms (GstBidiPlayout * p)
{
  guint64 samples = p->settled_samples;
  guint i;

  for (i = 0; i < p->runs->len; i++)
    samples += g_array_index (p->runs, GstBidiPlayoutRun, i).samples;
  return gst_util_uint64_scale (samples, 1000, p->rate);
}

/* Forgets the answer on air (after an interruption). */
static void
playout_end_answer (GstBidiPlayout * p)
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
static guint64
playout_played_ms (GstBidiPlayout * p, GstClockTime now,
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
static gboolean
playout_audible (GstBidiPlayout * p, GstClockTime now,
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

/* ------------------------------------------------------------------------
 * Setup
 * ------------------------------------------------------------------------ */

void
gst_bidi_output_init (GstBidiOutput * out, GstElement * element,
    GstPad * srcpad, GstPad * sinkpad, const GstBidiOutputCallbacks * cb,
    gpointer user_data)
{
  out->element = element;
  out->srcpad = srcpad;
  out->sinkpad = sinkpad;
  out->cb = *cb;
  out->user_data = user_data;
  gst_pad_set_element_private (srcpad, out);

  gst_audio_info_init (&out->prov_out);
  g_mutex_init (&out->flush_lock);
  g_mutex_init (&out->lock);
  g_cond_init (&out->cond);
  out->srcresult = GST_FLOW_FLUSHING;
  playout_init (&out->playout);
  out->downstream_latency = GST_CLOCK_TIME_NONE;
  gst_audio_info_init (&out->src_info);
}

void
gst_bidi_output_clear (GstBidiOutput * out)
{
  g_mutex_clear (&out->flush_lock);
  g_mutex_clear (&out->lock);
  g_cond_clear (&out->cond);
  playout_free (&out->playout);
  g_free (out->resp_id);
  g_free (out->cancelled_resp_id);
  g_free (out->first_audio_resp_id);
  if (out->conv)
    gst_audio_converter_free (out->conv);
  if (out->silence)
    g_bytes_unref (out->silence);
}

/* Wakes the src task from its clock or cond wait. With out_lock held. */
static void
wake_task_unlocked (GstBidiOutput * out)
{
  if (out->clock_id)
    gst_clock_id_unschedule (out->clock_id);
  g_cond_broadcast (&out->cond);
}

void
gst_bidi_output_setup (GstBidiOutput * out, const GstAudioInfo * prov_out)
{
  GST_OBJECT_LOCK (out->element);
  out->prov_out = *prov_out;
  GST_OBJECT_UNLOCK (out->element);

  g_mutex_lock (&out->lock);
  playout_clear (&out->playout);
  playout_end_answer (&out->playout);
  out->on_air = 0;
  playout_set_format (&out->playout, prov_out);
  out->channels = GST_AUDIO_INFO_CHANNELS (prov_out);
  playout_resync (&out->playout, GST_CLOCK_TIME_NONE);
  out->resp_open = FALSE;
  out->muted = FALSE;
  out->eos_pending = FALSE;
  out->need_segment = TRUE;
  out->discont = TRUE;
  out->segment_seqnum = GST_SEQNUM_INVALID;
  out->downstream_latency = GST_CLOCK_TIME_NONE;
  out->dropped_bytes = 0;
  out->overflow_bytes = 0;
  out->last_overflow_warning = 0;
  out->n_answers = 0;
  out->n_interruptions = 0;
  g_clear_pointer (&out->resp_id, g_free);
  g_clear_pointer (&out->cancelled_resp_id, g_free);
  g_clear_pointer (&out->first_audio_resp_id, g_free);
  out->first_audio_answer = 0;
  g_mutex_unlock (&out->lock);

  out->need_stream_start = TRUE;
  out->need_caps = TRUE;
}

void
gst_bidi_output_stop (GstBidiOutput * out)
{
  g_mutex_lock (&out->lock);
  playout_clear (&out->playout);
  playout_end_answer (&out->playout);
  g_mutex_unlock (&out->lock);

  if (out->conv)
    gst_audio_converter_free (out->conv);
  out->conv = NULL;
}

void
gst_bidi_output_set_playing (GstBidiOutput * out, gboolean playing)
{
  g_mutex_lock (&out->lock);
  out->playing = playing;
  if (playing)
    g_cond_broadcast (&out->cond);
  else
    wake_task_unlocked (out);
  g_mutex_unlock (&out->lock);
}

/* ------------------------------------------------------------------------
 * The provider's answers (network thread)
 * ------------------------------------------------------------------------ */

void
gst_bidi_output_answer_start (GstBidiOutput * out, const gchar * resp_id)
{
  g_mutex_lock (&out->lock);
  out->muted = FALSE;
  out->resp_open = TRUE;
  out->answer_seq++;
  out->n_answers++;
  g_free (out->resp_id);
  out->resp_id = g_strdup (resp_id);
  g_mutex_unlock (&out->lock);
}

/* How much of @size bytes of the current answer fit under the bound of
 * @bound_ms of queued audio: past it, the answer is clipped and the rest
 * of it dropped. The newest audio goes, never what is queued or playing:
 * it is what the listener would hear last, minutes later. With out_lock;
 * returns whether to warn (once, then at most every
 * OVERFLOW_WARNING_INTERVAL). */
static gboolean
playout_bound_unlocked (GstBidiOutput * out, guint bound_ms, gsize size,
    gsize * keep)
{
  GstBidiPlayout *p = &out->playout;
  guint64 bound = (guint64) p->rate * bound_ms / 1000 * p->bpf;
  gint64 now;

  *keep = 0;
  if (out->clipped_answer != out->answer_seq && p->queued_bytes < bound)
    *keep = MIN (size, bound - p->queued_bytes);
  if (*keep == size)
    return FALSE;

  out->clipped_answer = out->answer_seq;
  out->dropped_bytes += size - *keep;
  out->overflow_bytes += size - *keep;
  now = g_get_monotonic_time ();
  if (out->last_overflow_warning != 0 &&
      now - out->last_overflow_warning < OVERFLOW_WARNING_INTERVAL)
    return FALSE;
  out->last_overflow_warning = now;
  return TRUE;
}

static void
warn_overflow (GstBidiOutput * out, guint64 dropped_ms, guint bound_ms)
{
  GST_ELEMENT_WARNING (out->element, STREAM, FAILED,
      ("Output buffer full: the provider sends audio far ahead of real time, "
          "dropping the rest of the answer (%" G_GUINT64_FORMAT " ms so far)",
          dropped_ms),
      ("more than output-buffer-ms=%u of audio queued; this warning comes "
          "at most every %d s", bound_ms,
          (gint) (OVERFLOW_WARNING_INTERVAL / G_TIME_SPAN_SECOND)));
}

/* Queues @pcm of the answer @resp_id for the task, unless its answer was
 * cut; audio past the output-buffer-ms bound is dropped. Returns the
 * milliseconds queued. */
guint64
gst_bidi_output_push_audio (GstBidiOutput * out, GBytes * pcm, gint rate,
    gint channels, const gchar * resp_id, GstClockTime arrived)
{
  guint64 ms = 0, overflow_ms = 0;
  gboolean drop, warn;
  gsize size, keep;
  guint bound_ms;

  GST_OBJECT_LOCK (out->element);
  bound_ms = out->buffer_ms;
  GST_OBJECT_UNLOCK (out->element);

  g_mutex_lock (&out->lock);
  if (rate != out->playout.rate || channels != out->channels) {
    g_mutex_unlock (&out->lock);
    GST_WARNING_OBJECT (out->element, "dropping audio in %d Hz x %d: not the "
        "provider's declared output format", rate, channels);
    return 0;
  }

  size = g_bytes_get_size (pcm);
  drop = out->muted || out->srcresult == GST_FLOW_EOS || (resp_id
      && g_strcmp0 (resp_id, out->cancelled_resp_id) == 0);
  if (drop) {
    out->dropped_bytes += size - size % out->playout.bpf;
    g_mutex_unlock (&out->lock);
    GST_LOG_OBJECT (out->element, "dropping %" G_GSIZE_FORMAT " bytes of an "
        "interrupted answer", size);
    return 0;
  }
  if (!out->resp_open) {
    /* audio without bidi_response_start opens an answer of its own */
    out->resp_open = TRUE;
    out->answer_seq++;
    out->n_answers++;
  }

  size -= size % out->playout.bpf;
  warn = playout_bound_unlocked (out, bound_ms, size, &keep);
  if (warn)
    overflow_ms = gst_util_uint64_scale (out->overflow_bytes /
        out->playout.bpf, 1000, out->playout.rate);
  if (keep > 0) {
    /* a slice, not a copy: an oversize delta is never held twice */
    pcm = g_bytes_new_from_bytes (pcm, 0, keep);
    playout_push (&out->playout, pcm, out->answer_seq);
    g_bytes_unref (pcm);
    if (out->first_audio_answer != out->answer_seq) {
      out->first_audio_answer = out->answer_seq;
      out->first_audio = arrived;
      g_free (out->first_audio_resp_id);
      out->first_audio_resp_id = g_strdup (resp_id);
    }
    out->answer_audio_seq = out->answer_seq;
    wake_task_unlocked (out);
    ms = gst_util_uint64_scale (keep / out->playout.bpf, 1000,
        out->playout.rate);
  }
  g_mutex_unlock (&out->lock);

  if (warn)
    warn_overflow (out, overflow_ms, bound_ms);
  return ms;
}

/* The provider finished the current answer: which one, and whether it
 * queued audio */
void
gst_bidi_output_answer_end (GstBidiOutput * out, guint * answer,
    gboolean * had_audio)
{
  g_mutex_lock (&out->lock);
  *answer = out->answer_seq;
  *had_audio = out->answer_audio_seq == out->answer_seq;
  out->resp_open = FALSE;
  g_mutex_unlock (&out->lock);
}

void
gst_bidi_output_get_answer (GstBidiOutput * out, guint * answer,
    gboolean * muted)
{
  g_mutex_lock (&out->lock);
  *answer = out->answer_seq;
  *muted = out->muted;
  g_mutex_unlock (&out->lock);
}

void
gst_bidi_output_request_eos (GstBidiOutput * out)
{
  g_mutex_lock (&out->lock);
  out->eos_pending = TRUE;
  wake_task_unlocked (out);
  g_mutex_unlock (&out->lock);
}

/* A new input stream follows: the end of the old one is forgotten */
void
gst_bidi_output_cancel_eos (GstBidiOutput * out)
{
  g_mutex_lock (&out->lock);
  out->eos_pending = FALSE;
  g_mutex_unlock (&out->lock);
}

void
gst_bidi_output_get_stats (GstBidiOutput * out, guint64 * queued_ms,
    guint64 * dropped_ms, guint * answers, guint * interruptions)
{
  g_mutex_lock (&out->lock);
  *queued_ms = playout_queued_time (&out->playout) / GST_MSECOND;
  *dropped_ms = gst_util_uint64_scale (out->dropped_bytes /
      out->playout.bpf, 1000, out->playout.rate);
  *answers = out->n_answers;
  *interruptions = out->n_interruptions;
  g_mutex_unlock (&out->lock);
}

/* ------------------------------------------------------------------------
 * Flushes and interruptions
 * ------------------------------------------------------------------------ */

/* What downstream renders with, when known: the sample at running time t
 * is heard at t + this. With out_lock. */
static GstClockTime
playout_latency_unlocked (GstBidiOutput * out)
{
  if (GST_CLOCK_TIME_IS_VALID (out->downstream_latency))
    return out->downstream_latency;
  return 0;
}

/* Pushes FLUSH_START, drops queued audio, then FLUSH_STOP (reset_time FALSE)
 * with the same seqnum; the task sends a new SEGMENT before its next buffer.
 * Called from any thread but the src task, with no lock held. */
static void
flush_src (GstBidiOutput * out, guint32 seqnum)
{
  GstBidiCaptions *captions;
  GstEvent *event;
  gboolean active;
  guint cut_answer;

  if (seqnum == GST_SEQNUM_INVALID)
    seqnum = gst_util_seqnum_next ();

  g_mutex_lock (&out->flush_lock);
  GST_DEBUG_OBJECT (out->element, "flushing src, seqnum %u", seqnum);
  event = gst_event_new_flush_start ();
  gst_event_set_seqnum (event, seqnum);
  gst_pad_push_event (out->srcpad, event);

  g_mutex_lock (&out->lock);
  if (out->srcresult == GST_FLOW_OK || out->srcresult == GST_FLOW_EOS)
    out->srcresult = GST_FLOW_FLUSHING;
  out->flushes++;
  cut_answer = out->answer_seq;
  playout_clear (&out->playout);
  playout_end_answer (&out->playout);
  out->on_air = 0;
  wake_task_unlocked (out);
  g_mutex_unlock (&out->lock);

  /* Once we hold it, the task is parked. */
  GST_PAD_STREAM_LOCK (out->srcpad);
  event = gst_event_new_flush_stop (FALSE);
  gst_event_set_seqnum (event, seqnum);
  gst_pad_push_event (out->srcpad, event);

  g_mutex_lock (&out->lock);
  out->flushes--;
  active = out->src_active;
  if (active)
    out->srcresult = GST_FLOW_OK;
  out->need_segment = TRUE;
  out->discont = TRUE;
  out->segment_seqnum = seqnum;
  g_mutex_unlock (&out->lock);

  /* The caption of the cut answer goes too, before the task starts again:
   * its first buffer tells the transcript pad where the audio is (a GAP
   * the transcript sink prerolls on). Flushed after that, the transcript
   * sink would wait for a preroll that the audio sink, prerolled and
   * paused, never lets come. */
  captions = out->cb.get_captions (out->user_data);
  if (captions) {
    gst_bidi_captions_flush (captions, seqnum, cut_answer);
    gst_bidi_captions_unref (captions);
  }

  if (active)
    gst_pad_start_task (out->srcpad, (GstTaskFunction) src_loop, out->srcpad,
        NULL);
  GST_PAD_STREAM_UNLOCK (out->srcpad);
  g_mutex_unlock (&out->flush_lock);
}

/* Cut mode, after the answer on air was dropped from the queue: the
 * captions of answers up to @cut_answer end where its audio did. With no
 * lock held. */
static void
cut_captions (GstBidiOutput * out, guint cut_answer)
{
  GstBidiCaptions *captions = out->cb.get_captions (out->user_data);

  if (captions) {
    gst_bidi_captions_cut (captions, cut_answer);
    gst_bidi_captions_unref (captions);
  }
}

/* An interruption (server barge-in, local barge-in, the interrupt signal,
 * an upstream flush): if an answer is audible or pending (or
 * @force_flush), flushes downstream; the rest of the answer is dropped
 * until the provider opens the next one. In cut mode (interruption=cut)
 * an answer is cut without a flush, and all that was pushed of it counts
 * as heard; an upstream flush (@force_flush) still flushes. @seqnum is the
 * flush's, or GST_SEQNUM_INVALID for a new one. Returns whether an answer
 * was cut, with how much of it was heard and its response id (transfer
 * full). */
gboolean
gst_bidi_output_cut (GstBidiOutput * out, guint32 seqnum,
    gboolean force_flush, guint64 * played_ms, gchar ** resp_id)
{
  GstClockTime now = gst_element_get_current_running_time (out->element);
  gboolean audible, in_progress, cut_mode;
  guint cut_answer = 0;

  GST_OBJECT_LOCK (out->element);
  cut_mode = out->interruption == GST_BIDI_AGENT_INTERRUPTION_CUT &&
      !force_flush;
  GST_OBJECT_UNLOCK (out->element);

  g_mutex_lock (&out->lock);
  audible = playout_audible (&out->playout, now,
      playout_latency_unlocked (out));
  in_progress = audible || out->resp_open;
  if (cut_mode)
    *played_ms = playout_pushed_ms (&out->playout);
  else
    *played_ms = playout_played_ms (&out->playout, now,
        playout_latency_unlocked (out));
  *resp_id = g_strdup (out->resp_id);
  if (in_progress) {
    /* Audio still coming for this answer is dropped until the provider
     * opens the next one with bidi_response_start. */
    out->muted = TRUE;
    out->resp_open = FALSE;
    out->cb.answer_cut (*played_ms, out->user_data);
    g_free (out->cancelled_resp_id);
    out->cancelled_resp_id = g_strdup (out->resp_id);
    out->n_interruptions++;
  }
  if (in_progress && cut_mode) {
    /* No flush: the answer goes from the queue, here, with what was
     * counted as heard, and the stream goes on, its timeline unbroken;
     * downstream plays out what it holds. */
    cut_answer = out->answer_seq;
    playout_clear (&out->playout);
    playout_end_answer (&out->playout);
    out->on_air = 0;
    wake_task_unlocked (out);
  }
  g_mutex_unlock (&out->lock);

  if (cut_mode) {
    if (in_progress)
      cut_captions (out, cut_answer);
  } else if (audible || force_flush) {
    flush_src (out, seqnum);
  }
  return in_progress;
}

/* ------------------------------------------------------------------------
 * The src task
 * ------------------------------------------------------------------------ */

/* Raw audio of more than two channels needs a channel-mask to be
 * understood: when downstream does not say which, the usual layout for
 * that many channels (fixated caps) */
static void
caps_add_fallback_mask (GstCaps * caps)
{
  GstStructure *s;
  gint channels = 0;

  if (gst_caps_is_empty (caps))
    return;
  s = gst_caps_get_structure (caps, 0);
  if (gst_structure_get_int (s, "channels", &channels) && channels > 2 &&
      !gst_structure_has_field (s, "channel-mask"))
    gst_structure_set (s, "channel-mask", GST_TYPE_BITMASK,
        gst_audio_channel_get_fallback_mask (channels), NULL);
}

static gboolean
src_negotiate (GstBidiOutput * out)
{
  GstAudioInfo prov_out, info;
  GstCaps *templ, *peer, *pref, *caps;
  gboolean ret;

  GST_OBJECT_LOCK (out->element);
  prov_out = out->prov_out;
  GST_OBJECT_UNLOCK (out->element);

  if (GST_AUDIO_INFO_FORMAT (&prov_out) == GST_AUDIO_FORMAT_UNKNOWN)
    return FALSE;

  templ = gst_pad_get_pad_template_caps (out->srcpad);
  peer = gst_pad_peer_query_caps (out->srcpad, templ);
  gst_caps_unref (templ);
  pref = gst_audio_info_to_caps (&prov_out);

  if (gst_caps_can_intersect (peer, pref)) {
    caps = gst_caps_ref (pref);
  } else if (gst_caps_is_empty (peer)) {
    caps = gst_caps_ref (peer);
  } else {
    GstStructure *s;

    caps = gst_caps_truncate (gst_caps_copy (peer));
    s = gst_caps_get_structure (caps, 0);
    gst_structure_fixate_field_nearest_int (s, "rate",
        GST_AUDIO_INFO_RATE (&prov_out));
    gst_structure_fixate_field_nearest_int (s, "channels",
        GST_AUDIO_INFO_CHANNELS (&prov_out));
    gst_structure_fixate_field_string (s, "format",
        gst_audio_format_to_string (GST_AUDIO_INFO_FORMAT (&prov_out)));
    caps = gst_caps_fixate (caps);
    caps_add_fallback_mask (caps);
  }
  gst_caps_unref (peer);
  gst_caps_unref (pref);

  if (gst_caps_is_empty (caps) || !gst_audio_info_from_caps (&info, caps)) {
    GST_WARNING_OBJECT (out->element, "downstream accepts no raw audio: %"
        GST_PTR_FORMAT, caps);
    gst_caps_unref (caps);
    return FALSE;
  }

  GST_DEBUG_OBJECT (out->element, "src caps %" GST_PTR_FORMAT, caps);
  ret = gst_pad_set_caps (out->srcpad, caps);
  gst_caps_unref (caps);
  if (!ret)
    return FALSE;

  if (out->conv)
    gst_audio_converter_free (out->conv);
  out->conv = NULL;
  if (!gst_audio_info_is_equal (&prov_out, &info)) {
    out->conv = gst_audio_converter_new (GST_AUDIO_CONVERTER_FLAG_NONE,
        &prov_out, &info, NULL);
    if (!out->conv)
      return FALSE;
  }
  out->src_info = info;

  if (out->silence)
    g_bytes_unref (out->silence);
  {
    gsize size = GST_AUDIO_INFO_RATE (&prov_out) * IDLE_CHUNK_MS / 1000 *
        GST_AUDIO_INFO_BPF (&prov_out);
    guint8 *data = g_malloc (size);

    gst_audio_format_info_fill_silence (prov_out.finfo, data, size);
    out->silence = g_bytes_new_take (data, size);
  }
  return TRUE;
}

/* Makes a buffer in the negotiated format from provider-format PCM. */
static GstBuffer *
convert_output (GstBidiOutput * out, GBytes * pcm, gsize in_frames)
{
  GstBuffer *buf;
  GstMapInfo map;
  gsize out_frames;
  gpointer src[1], dst[1];

  if (!out->conv)
    return gst_buffer_new_wrapped_bytes (pcm);

  out_frames = gst_audio_converter_get_out_frames (out->conv, in_frames);
  buf = gst_buffer_new_allocate (NULL,
      out_frames * GST_AUDIO_INFO_BPF (&out->src_info), NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  src[0] = (gpointer) g_bytes_get_data (pcm, NULL);
  dst[0] = map.data;
  gst_audio_converter_samples (out->conv, GST_AUDIO_CONVERTER_FLAG_NONE,
      src, in_frames, dst, out_frames);
  gst_buffer_unmap (buf, &map);
  return buf;
}

static gboolean
pad_is_flushing (GstBidiOutput * out)
{
  gboolean flushing;

  GST_OBJECT_LOCK (out->srcpad);
  flushing = GST_PAD_IS_FLUSHING (out->srcpad);
  GST_OBJECT_UNLOCK (out->srcpad);
  return flushing;
}

/* Pushes stream-start, caps and segment as needed. Task only. */
static gboolean
src_prepare (GstBidiOutput * out)
{
  gboolean need_segment;
  guint32 seqnum;

  if (out->need_stream_start) {
    gchar *id = gst_bidi_stream_id_new (out->srcpad, out->element, "src");
    GstEvent *event = gst_event_new_stream_start (id);

    gst_event_set_group_id (event, gst_util_group_id_next ());
    /* refused by a flush that just began: sent again after it */
    if (gst_pad_push_event (out->srcpad, event) || !pad_is_flushing (out))
      out->need_stream_start = FALSE;
    g_free (id);
  }

  if (gst_pad_check_reconfigure (out->srcpad) || out->need_caps) {
    if (!src_negotiate (out)) {
      gst_pad_mark_reconfigure (out->srcpad);
      return FALSE;
    }
    out->need_caps = FALSE;
  }

  g_mutex_lock (&out->lock);
  need_segment = out->need_segment;
  seqnum = out->segment_seqnum;
  out->need_segment = FALSE;
  g_mutex_unlock (&out->lock);

  if (need_segment) {
    GstSegment segment;
    GstEvent *event;

    /* Buffer timestamps are running times: the segment maps them 1:1 and
     * never restarts, so the output stays aligned with the live input. */
    gst_segment_init (&segment, GST_FORMAT_TIME);
    event = gst_event_new_segment (&segment);
    if (seqnum != GST_SEQNUM_INVALID)
      gst_event_set_seqnum (event, seqnum);
    gst_pad_push_event (out->srcpad, event);
  }
  return TRUE;
}

typedef enum
{
  AIR_SAME,
  AIR_ON,                       /* an answer's first sample goes out */
  AIR_OFF                       /* silence follows a finished answer */
} AirChange;

/* With out_lock, for a buffer of @answer (0 = silence) at @ts, pushed at
 * @now: whether an answer goes on or off the air, and from when. An
 * answer still open stays on the air through an underrun: the agent is
 * still speaking. A sample cannot play before it is pushed, hence the
 * MAX. */
static AirChange
track_on_air_unlocked (GstBidiOutput * out, guint answer, GstClockTime ts,
    GstClockTime now, GstClockTime * at)
{
  *at = ts;
  if (answer != 0 && answer != out->on_air) {
    out->on_air = answer;
    if (GST_CLOCK_TIME_IS_VALID (now))
      *at = MAX (ts, now);
    return AIR_ON;
  }
  if (answer == 0 && out->on_air != 0 &&
      !(out->resp_open && out->answer_seq == out->on_air)) {
    out->on_air = 0;
    return AIR_OFF;
  }
  return AIR_SAME;
}

static void
src_loop (GstPad * pad)
{
  GstBidiOutput *out = gst_pad_get_element_private (pad);
  GstElement *element = out->element;
  GstClock *clock;
  GstClockTime base_time, now = GST_CLOCK_TIME_NONE, next, latency, ts, dur;
  GstClockTime queued;
  GstBidiCaptions *captions;
  GstBidiPlayoutItem *item = NULL;
  GstBidiAgentIdle idle;
  GstFlowReturn ret;
  GstBuffer *buf;
  gboolean discont, paced, flushing;
  guint64 n_samples;
  guint answer = 0, air_answer;
  AirChange air;
  GstClockTime air_at, first_audio;
  gchar *air_resp_id;

  if (!src_prepare (out))
    goto not_negotiated;

  GST_OBJECT_LOCK (element);
  clock = GST_ELEMENT_CLOCK (element) ?
      gst_object_ref (GST_ELEMENT_CLOCK (element)) : NULL;
  base_time = element->base_time;
  latency = out->latency_ms * GST_MSECOND;
  idle = out->idle;
  /* in cut mode the answer goes out in real time too, as the silence does:
   * downstream then holds little more than the latency, which is what
   * still plays after a cut */
  paced = out->interruption == GST_BIDI_AGENT_INTERRUPTION_CUT;
  GST_OBJECT_UNLOCK (element);

  g_mutex_lock (&out->lock);
  if (out->srcresult != GST_FLOW_OK || out->flushes > 0)
    goto stopping;

  if (!out->playing || !clock) {
    /* Live: nothing flows in PAUSED; audio waits in the queue. */
    g_cond_wait (&out->cond, &out->lock);
    goto done;
  }
  now = gst_clock_get_time (clock);
  now = now > base_time ? now - base_time : 0;

  /* The timeline continues sample for sample, across answers and silence,
   * as long as its next sample can still be rendered in time: downstream
   * renders running time t at t + latency. Behind a syncing sink the task
   * runs up to that far behind the clock. Further behind (the task was
   * blocked, the clock jumped) it restarts at now. */
  if (GST_CLOCK_TIME_IS_VALID (out->downstream_latency))
    latency = MAX (latency, out->downstream_latency);
  next = playout_next_time (&out->playout);
  if (GST_CLOCK_TIME_IS_VALID (next) && next + latency < now) {
    GST_DEBUG_OBJECT (element, "output fell %" GST_TIME_FORMAT " behind, "
        "resyncing", GST_TIME_ARGS (now - next));
    playout_resync (&out->playout, now);
    out->discont = TRUE;
    next = now;
  }

  if (!g_queue_is_empty (&out->playout.queue) && (!paced ||
          !GST_CLOCK_TIME_IS_VALID (next) || next <= now)) {
    item = playout_pop (&out->playout, paced ? MAX_PUSH_MS_CUT : MAX_PUSH_MS);
    answer = item->answer;
    n_samples = g_bytes_get_size (item->pcm) / out->playout.bpf;
    goto take;
  }

  if (out->eos_pending && g_queue_is_empty (&out->playout.queue))
    goto drained;

  /* Idle (or paced): the next piece is due when the clock reaches the end
   * of what was pushed. */
  if (GST_CLOCK_TIME_IS_VALID (next) && next > now) {
    GstClockID id = gst_clock_new_single_shot_id (clock, base_time + next);
    GstClockReturn cret;

    out->clock_id = id;
    g_mutex_unlock (&out->lock);
    cret = gst_clock_id_wait (id, NULL);
    g_mutex_lock (&out->lock);
    out->clock_id = NULL;
    gst_clock_id_unref (id);
    if (cret == GST_CLOCK_UNSCHEDULED || out->srcresult != GST_FLOW_OK)
      goto done;
    /* New audio may have come in while waiting: go round again. */
    if (!g_queue_is_empty (&out->playout.queue))
      goto done;
  }
  n_samples = (guint64) out->playout.rate * IDLE_CHUNK_MS / 1000;

take:
  ts = playout_take (&out->playout, answer, n_samples, now, &dur,
      &discont);
  discont |= out->discont;
  out->discont = FALSE;
  queued = playout_queued_time (&out->playout);
  air = track_on_air_unlocked (out, answer, ts, now, &air_at);
  first_audio = GST_CLOCK_TIME_NONE;
  air_resp_id = NULL;
  if (air == AIR_ON && out->first_audio_answer == answer) {
    first_audio = out->first_audio;
    air_resp_id = g_strdup (out->first_audio_resp_id);
  }
  g_mutex_unlock (&out->lock);

  if (air != AIR_SAME)
    out->cb.on_air (air == AIR_ON, air_at, first_audio,
        air_resp_id, out->user_data);
  g_free (air_resp_id);

  /* The transcript pad follows this timeline. Told before the push, which
   * may wait for a sink to preroll: the text sink needs its GAP for the
   * pipeline to get to PLAYING. */
  captions = out->cb.get_captions (out->user_data);
  if (captions) {
    gst_bidi_captions_progress (captions, ts, dur, answer, queued);
    gst_bidi_captions_unref (captions);
  }

  if (answer == 0 && idle == GST_BIDI_AGENT_IDLE_GAP) {
    GstEvent *gap = gst_event_new_gap (ts, dur);

    if (discont)
      gst_event_set_gap_flags (gap, GST_GAP_FLAG_MISSING_DATA);
    gst_pad_push_event (pad, gap);
    ret = GST_FLOW_OK;
  } else {
    buf = convert_output (out, item ? item->pcm : out->silence, n_samples);
    if (item)
      playout_item_free (item);
    item = NULL;
    GST_BUFFER_PTS (buf) = ts;
    GST_BUFFER_DURATION (buf) = dur;
    if (discont)
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    if (answer == 0)
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
    GST_LOG_OBJECT (element, "pushing %s %" GST_TIME_FORMAT " + %"
        GST_TIME_FORMAT, answer ? "answer" : "silence", GST_TIME_ARGS (ts),
        GST_TIME_ARGS (dur));
    ret = gst_pad_push (pad, buf);
  }
  if (item)
    playout_item_free (item);

  if (ret != GST_FLOW_OK) {
    g_mutex_lock (&out->lock);
    if (out->srcresult == GST_FLOW_OK)
      out->srcresult = ret;
    goto stopping;
  }
  if (clock)
    gst_object_unref (clock);
  return;

done:
  g_mutex_unlock (&out->lock);
  if (clock)
    gst_object_unref (clock);
  return;

drained:
  GST_INFO_OBJECT (element, "answer drained, pushing EOS");
  out->srcresult = GST_FLOW_EOS;
  /* the last answer ends with the stream */
  air_answer = out->on_air;
  air_at = playout_next_time (&out->playout);
  out->on_air = 0;
  g_mutex_unlock (&out->lock);
  if (air_answer != 0)
    out->cb.on_air (FALSE, air_at, GST_CLOCK_TIME_NONE, NULL,
        out->user_data);
  captions = out->cb.get_captions (out->user_data);
  if (captions) {
    gst_bidi_captions_eos (captions);
    gst_bidi_captions_unref (captions);
  }
  gst_pad_push_event (pad, gst_event_new_eos ());
  gst_pad_pause_task (pad);
  if (clock)
    gst_object_unref (clock);
  return;

not_negotiated:
  /* caps refused because a flush began (its FLUSH_START is out, flush_src
   * has not marked it yet) are no error: the flush restarts the task,
   * which negotiates again */
  flushing = pad_is_flushing (out);
  g_mutex_lock (&out->lock);
  if (out->srcresult == GST_FLOW_OK)
    out->srcresult = flushing ? GST_FLOW_FLUSHING : GST_FLOW_NOT_NEGOTIATED;
  clock = NULL;
  /* fall through */
stopping:
  ret = out->srcresult;
  g_mutex_unlock (&out->lock);
  GST_DEBUG_OBJECT (element, "pausing task: %s", gst_flow_get_name (ret));
  gst_pad_pause_task (pad);
  if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
    GST_ELEMENT_FLOW_ERROR (element, ret);
    gst_pad_push_event (pad, gst_event_new_eos ());
  }
  if (clock)
    gst_object_unref (clock);
}

/* ------------------------------------------------------------------------
 * The src pad
 * ------------------------------------------------------------------------ */

gboolean
gst_bidi_output_src_activate_mode (GstPad * pad,
    G_GNUC_UNUSED GstObject * parent, GstPadMode mode, gboolean active)
{
  GstBidiOutput *out = gst_pad_get_element_private (pad);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;

  g_mutex_lock (&out->lock);
  out->src_active = active;
  out->srcresult = active ? GST_FLOW_OK : GST_FLOW_FLUSHING;
  wake_task_unlocked (out);
  g_mutex_unlock (&out->lock);

  if (active)
    return gst_pad_start_task (pad, (GstTaskFunction) src_loop, pad, NULL);
  return gst_pad_stop_task (pad);
}

gboolean
gst_bidi_output_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstBidiOutput *out = gst_pad_get_element_private (pad);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_LATENCY:{
      GstClockTime latency;

      gst_event_parse_latency (event, &latency);
      GST_DEBUG_OBJECT (out->element, "pipeline latency %" GST_TIME_FORMAT,
          GST_TIME_ARGS (latency));
      g_mutex_lock (&out->lock);
      out->downstream_latency = latency;
      g_mutex_unlock (&out->lock);
      return gst_pad_event_default (pad, parent, event);
    }
    case GST_EVENT_RECONFIGURE:
      /* the pad's NEED_RECONFIGURE flag is set; the task renegotiates */
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_QOS:
    case GST_EVENT_NAVIGATION:
      gst_event_unref (event);
      return FALSE;
    default:
      return gst_pad_event_default (pad, parent, event);
  }
}

gboolean
gst_bidi_output_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstBidiOutput *out = gst_pad_get_element_private (pad);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:{
      GstQuery *peer = gst_query_new_latency ();
      GstClockTime own, min = 0, max = GST_CLOCK_TIME_NONE;
      gboolean live = FALSE;

      GST_OBJECT_LOCK (out->element);
      own = out->latency_ms * GST_MSECOND;
      GST_OBJECT_UNLOCK (out->element);

      if (gst_pad_peer_query (out->sinkpad, peer))
        gst_query_parse_latency (peer, &live, &min, &max);
      gst_query_unref (peer);
      if (!live) {
        min = 0;
        max = GST_CLOCK_TIME_NONE;
      }
      min += own;
      if (GST_CLOCK_TIME_IS_VALID (max))
        max += own;
      GST_DEBUG_OBJECT (out->element, "latency min %" GST_TIME_FORMAT " max %"
          GST_TIME_FORMAT, GST_TIME_ARGS (min), GST_TIME_ARGS (max));
      gst_query_set_latency (query, TRUE, min, max);
      return TRUE;
    }
    case GST_QUERY_CAPS:{
      GstCaps *templ, *caps;
      GstAudioInfo prov_out;

      GST_OBJECT_LOCK (out->element);
      prov_out = out->prov_out;
      GST_OBJECT_UNLOCK (out->element);

      templ = gst_pad_get_pad_template_caps (pad);
      if (GST_AUDIO_INFO_FORMAT (&prov_out) != GST_AUDIO_FORMAT_UNKNOWN) {
        /* the provider's own format first: no conversion needed */
        caps = gst_audio_info_to_caps (&prov_out);
        caps = gst_caps_merge (caps, templ);
      } else {
        caps = templ;
      }
      gst_bidi_caps_query_reply (query, caps);
      return TRUE;
    }
    case GST_QUERY_SCHEDULING:
      gst_query_set_scheduling (query, GST_SCHEDULING_FLAG_SEQUENTIAL, 1, -1,
          0);
      gst_query_add_scheduling_mode (query, GST_PAD_MODE_PUSH);
      return TRUE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}
