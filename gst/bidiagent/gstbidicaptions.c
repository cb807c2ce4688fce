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

#include "gstbidicaptions.h"

GST_DEBUG_CATEGORY_STATIC (bidi_captions_debug);
#define GST_CAT_DEFAULT bidi_captions_debug

/* the shortest time a caption stays up, and a user caption's reading time
 * per character, up to a longest */
#define MIN_DURATION (1 * GST_SECOND)
#define READING_PER_CHAR (50 * GST_MSECOND)
#define MAX_READING (3 * GST_SECOND)

/* the audio is held up when the clock is this far past it and it has not
 * moved for STALL_STILL_US (a busy machine only makes it late); checked
 * every STALL_CHECK_US while nothing else happens */
#define STALL_TIME (100 * GST_MSECOND)
#define STALL_STILL_US (500 * G_TIME_SPAN_MILLISECOND)
#define STALL_CHECK_US (40 * G_TIME_SPAN_MILLISECOND)

/* how many recent answers' timing is kept */
#define N_ANSWERS 8

typedef struct
{
  gchar *text;
  guint answer;                 /* 0: the user's words */
} Caption;

typedef struct
{
  guint answer;                 /* 0: unused slot */
  GstClockTime start;           /* first sample on air, or NONE */
  GstClockTime end;             /* end of what was pushed of it */
  gboolean closed;
  gboolean had_audio;
} AnswerInfo;

struct _GstBidiCaptions
{
  gint refcount;
  GstPad *pad;

  GMutex lock;
  GCond cond;
  gboolean flushing;
  gboolean eos;
  GQueue pending;               /* of Caption* */

  /* the audio's timeline, from the src task */
  GstClockTime audio_pos;       /* end of what the audio pushed */
  gint64 audio_moved;           /* monotonic time it last moved */
  GstClockTime queued;
  guint on_air;                 /* the latest answer that had audio pushed */
  guint cut_answer;             /* the latest answer cut without a flush */
  AnswerInfo answers[N_ANSWERS];
  guint next_slot;

  /* this pad's stream */
  GstClockTime pos;             /* the last timestamp this pad pushed (a
                                 * caption's start, a GAP's end) */
  gboolean need_stream_start;
  gboolean need_segment;
  guint32 segment_seqnum;
  /* the task waited STALL_CHECK_US for nothing: time to look at the clock */
  gboolean timed_out;
};

gchar *
gst_bidi_stream_id_new (GstPad * pad, GstElement * element, const gchar * name)
{
  guint sinkpads;

  GST_OBJECT_LOCK (element);
  sinkpads = element->numsinkpads;
  GST_OBJECT_UNLOCK (element);
  if (sinkpads <= 1)
    return gst_pad_create_stream_id (pad, element, name);
  return g_strdup_printf ("%08x%08x%08x%08x/%s", g_random_int (),
      g_random_int (), g_random_int (), g_random_int (), name);
}

static void
caption_free (gpointer data)
{
  Caption *cap = data;

  g_free (cap->text);
  g_free (cap);
}

static void
captions_loop (GstPad * pad);

GstBidiCaptions *
gst_bidi_captions_new (GstPad * pad)
{
  GstBidiCaptions *c;

  static gsize debug_init = 0;

  if (g_once_init_enter (&debug_init)) {
    GST_DEBUG_CATEGORY_INIT (bidi_captions_debug, "bidicaptions", 0,
        "bidiagent transcript pad");
    g_once_init_leave (&debug_init, 1);
  }

  c = g_new0 (GstBidiCaptions, 1);
  c->refcount = 1;
  c->pad = gst_object_ref (pad);
  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  g_queue_init (&c->pending);
  c->flushing = TRUE;
  gst_bidi_captions_reset (c);
  return c;
}

GstBidiCaptions *
gst_bidi_captions_ref (GstBidiCaptions * c)
{
  g_atomic_int_inc (&c->refcount);
  return c;
}

void
gst_bidi_captions_unref (GstBidiCaptions * c)
{
  if (!g_atomic_int_dec_and_test (&c->refcount))
    return;
  g_queue_clear_full (&c->pending, caption_free);
  gst_object_unref (c->pad);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c);
}

static void
reset_unlocked (GstBidiCaptions * c)
{
  g_queue_clear_full (&c->pending, caption_free);
  g_queue_init (&c->pending);
  c->eos = FALSE;
  c->audio_pos = GST_CLOCK_TIME_NONE;
  c->queued = 0;
  c->on_air = 0;
  c->cut_answer = 0;
  memset (c->answers, 0, sizeof (c->answers));
  c->next_slot = 0;
  c->pos = GST_CLOCK_TIME_NONE;
  c->need_stream_start = TRUE;
  c->need_segment = TRUE;
  c->segment_seqnum = GST_SEQNUM_INVALID;
  c->timed_out = FALSE;
}

void
gst_bidi_captions_reset (GstBidiCaptions * c)
{
  g_mutex_lock (&c->lock);
  reset_unlocked (c);
  g_mutex_unlock (&c->lock);
}

gboolean
gst_bidi_captions_activate (GstBidiCaptions * c, gboolean active)
{
  g_mutex_lock (&c->lock);
  c->flushing = !active;
  if (active)
    reset_unlocked (c);
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);

  if (active)
    return gst_pad_start_task (c->pad, (GstTaskFunction) captions_loop,
        c->pad, NULL);
  return gst_pad_stop_task (c->pad);
}

static AnswerInfo *
find_answer (GstBidiCaptions * c, guint answer, gboolean create)
{
  AnswerInfo *info;
  guint i;

  for (i = 0; i < N_ANSWERS; i++)
    if (c->answers[i].answer == answer)
      return &c->answers[i];
  if (!create)
    return NULL;
  info = &c->answers[c->next_slot];
  c->next_slot = (c->next_slot + 1) % N_ANSWERS;
  info->answer = answer;
  info->start = info->end = GST_CLOCK_TIME_NONE;
  info->closed = info->had_audio = FALSE;
  return info;
}

void
gst_bidi_captions_add (GstBidiCaptions * c, const gchar * text, guint answer)
{
  Caption *cap = g_new0 (Caption, 1);

  cap->text = g_strdup (text);
  cap->answer = answer;
  g_mutex_lock (&c->lock);
  GST_DEBUG ("caption for %s %u: %s", answer ? "answer" : "user", answer,
      text);
  g_queue_push_tail (&c->pending, cap);
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
}

void
gst_bidi_captions_progress (GstBidiCaptions * c, GstClockTime ts,
    GstClockTime dur, guint answer, GstClockTime queued)
{
  g_mutex_lock (&c->lock);
  /* this pad's stream starts where the audio is: its first GAP, at once,
   * lets a sink downstream preroll */
  if (!GST_CLOCK_TIME_IS_VALID (c->pos))
    c->pos = ts;
  c->audio_pos = ts + dur;
  c->audio_moved = g_get_monotonic_time ();
  c->queued = queued;
  if (answer != 0) {
    AnswerInfo *info = find_answer (c, answer, TRUE);

    if (!GST_CLOCK_TIME_IS_VALID (info->start))
      info->start = ts;
    info->end = ts + dur;
    info->had_audio = TRUE;
    c->on_air = MAX (c->on_air, answer);
  }
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
}

void
gst_bidi_captions_answer_closed (GstBidiCaptions * c, guint answer,
    gboolean had_audio)
{
  AnswerInfo *info;

  g_mutex_lock (&c->lock);
  info = find_answer (c, answer, TRUE);
  info->closed = TRUE;
  info->had_audio |= had_audio;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
}

void
gst_bidi_captions_eos (GstBidiCaptions * c)
{
  g_mutex_lock (&c->lock);
  c->eos = TRUE;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
}

void
gst_bidi_captions_flush (GstBidiCaptions * c, guint32 seqnum, guint cut_answer)
{
  GstEvent *event;
  GList *l, *next;
  gboolean active;

  event = gst_event_new_flush_start ();
  gst_event_set_seqnum (event, seqnum);
  gst_pad_push_event (c->pad, event);

  g_mutex_lock (&c->lock);
  active = !c->flushing;
  c->flushing = TRUE;
  for (l = c->pending.head; l; l = next) {
    Caption *cap = l->data;

    next = l->next;
    if (cap->answer != 0 && cap->answer <= cut_answer) {
      GST_DEBUG ("dropping the caption of interrupted answer %u",
          cap->answer);
      caption_free (cap);
      g_queue_delete_link (&c->pending, l);
    }
  }
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);

  /* once we hold it, the task is parked */
  GST_PAD_STREAM_LOCK (c->pad);
  event = gst_event_new_flush_stop (FALSE);
  gst_event_set_seqnum (event, seqnum);
  gst_pad_push_event (c->pad, event);

  g_mutex_lock (&c->lock);
  c->flushing = !active;
  c->need_segment = TRUE;
  c->segment_seqnum = seqnum;
  g_mutex_unlock (&c->lock);
  if (active)
    gst_pad_start_task (c->pad, (GstTaskFunction) captions_loop, c->pad,
        NULL);
  GST_PAD_STREAM_UNLOCK (c->pad);
}

void
gst_bidi_captions_cut (GstBidiCaptions * c, guint cut_answer)
{
  GList *l, *next;

  g_mutex_lock (&c->lock);
  for (l = c->pending.head; l; l = next) {
    Caption *cap = l->data;
    AnswerInfo *info = find_answer (c, cap->answer, FALSE);

    next = l->next;
    if (cap->answer != 0 && cap->answer <= cut_answer &&
        !(info && GST_CLOCK_TIME_IS_VALID (info->start))) {
      GST_DEBUG ("dropping the caption of answer %u, cut before it played",
          cap->answer);
      caption_free (cap);
      g_queue_delete_link (&c->pending, l);
    }
  }
  c->cut_answer = MAX (c->cut_answer, cut_answer);
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
}

static GstClockTime
reading_time (const gchar * text)
{
  GstClockTime t = g_utf8_strlen (text, -1) * READING_PER_CHAR;

  return CLAMP (t, MIN_DURATION, MAX_READING);
}

/* An answer's audio reaches beyond what this pad pushed */
static gboolean
answer_playing (GstBidiCaptions * c)
{
  AnswerInfo *info = c->on_air ? find_answer (c, c->on_air, FALSE) : NULL;

  return info && GST_CLOCK_TIME_IS_VALID (info->end) && info->end > c->pos;
}

/* When @cap can go out: its timestamp and duration. Captions may overlap
 * (a subtitle file shows both, an overlay one after the other); their
 * timestamps never go back. */
static gboolean
caption_times (GstBidiCaptions * c, Caption * cap, GstClockTime * pts,
    GstClockTime * dur)
{
  AnswerInfo *info;

  if (!GST_CLOCK_TIME_IS_VALID (c->pos))
    return FALSE;

  info = cap->answer ? find_answer (c, cap->answer, FALSE) : NULL;
  if (info && GST_CLOCK_TIME_IS_VALID (info->start)) {
    /* the answer is (or was) on air: from its first sample to the end of
     * its audio, as far as it is known */
    GstClockTime end = info->end;

    if (cap->answer == c->on_air && cap->answer > c->cut_answer)
      end += c->queued;
    *pts = MAX (info->start, c->pos);
    *dur = end > *pts + MIN_DURATION ? end - *pts : MIN_DURATION;
    return TRUE;
  }

  if (cap->answer == 0 || c->eos || c->on_air > cap->answer ||
      (info && info->closed && !info->had_audio)) {
    /* the user's words, or an answer that will have no audio: now. The
     * user's final words often come when the answer is about to start or
     * already playing: then they stay up only briefly, so that an overlay,
     * which shows one caption at a time, gets to the answer's soon. */
    *pts = c->pos;
    if (cap->answer == 0 && (c->queued > 0 || answer_playing (c)))
      *dur = MIN_DURATION;
    else
      *dur = reading_time (cap->text);
    return TRUE;
  }
  /* wait for the answer's first sample */
  return FALSE;
}

/* The element's running time, if it is PLAYING */
static GstClockTime
running_time_now (GstPad * pad)
{
  GstElement *parent = gst_pad_get_parent_element (pad);
  GstClockTime now = GST_CLOCK_TIME_NONE;
  GstState state;

  if (!parent)
    return now;
  GST_OBJECT_LOCK (parent);
  state = GST_STATE (parent);
  GST_OBJECT_UNLOCK (parent);
  if (state == GST_STATE_PLAYING)
    now = gst_element_get_current_running_time (parent);
  gst_object_unref (parent);
  return now;
}

/* The audio is normally pushed ahead of the clock, and the GAPs follow it.
 * When it is held up (a sink of the audio branch waiting to preroll), the
 * text stream must still go on: another branch (textoverlay's video) may
 * be what the pipeline waits for. Then the GAPs follow the clock. */
static GstClockTime
stalled_until (GstBidiCaptions * c, GstClockTime now)
{
  if (!GST_CLOCK_TIME_IS_VALID (now) || now < c->audio_pos + STALL_TIME ||
      g_get_monotonic_time () - c->audio_moved < STALL_STILL_US)
    return 0;
  return now;
}

static void
push_start_events (GstBidiCaptions * c, gboolean stream_start,
    gboolean segment, guint32 seqnum)
{
  GstElement *parent = GST_ELEMENT (gst_pad_get_parent (c->pad));

  if (stream_start) {
    gchar *id = gst_bidi_stream_id_new (c->pad, parent, "transcript");
    GstEvent *event = gst_event_new_stream_start (id);
    GstCaps *caps = gst_caps_from_string (GST_BIDI_CAPTIONS_CAPS);

    gst_event_set_stream_flags (event, GST_STREAM_FLAG_SPARSE);
    gst_event_set_group_id (event, gst_util_group_id_next ());
    gst_pad_push_event (c->pad, event);
    gst_pad_push_event (c->pad, gst_event_new_caps (caps));
    gst_caps_unref (caps);
    g_free (id);
  }
  if (segment) {
    GstSegment seg;
    GstEvent *event;

    /* timestamps are running times, as on the audio src pad */
    gst_segment_init (&seg, GST_FORMAT_TIME);
    event = gst_event_new_segment (&seg);
    if (seqnum != GST_SEQNUM_INVALID)
      gst_event_set_seqnum (event, seqnum);
    gst_pad_push_event (c->pad, event);
  }
  if (parent)
    gst_object_unref (parent);
}

static void
captions_loop (GstPad * pad)
{
  GstBidiCaptions *c = gst_pad_get_element_private (pad);
  GstClockTime pts = GST_CLOCK_TIME_NONE, dur = GST_CLOCK_TIME_NONE;
  gboolean stream_start, segment, eos = FALSE;
  GstFlowReturn ret = GST_FLOW_OK;
  Caption *cap = NULL;
  GstEvent *gap = NULL;
  guint32 seqnum;
  GstClockTime now, until;

  now = running_time_now (pad);
  g_mutex_lock (&c->lock);
  GST_LOG_OBJECT (pad, "pos %" GST_TIME_FORMAT ", audio %" GST_TIME_FORMAT
      ", %u pending%s", GST_TIME_ARGS (c->pos), GST_TIME_ARGS (c->audio_pos),
      c->pending.length, c->flushing ? ", flushing" : "");
  if (c->flushing)
    goto pause;

  if (!g_queue_is_empty (&c->pending) &&
      caption_times (c, g_queue_peek_head (&c->pending), &pts, &dur)) {
    cap = g_queue_pop_head (&c->pending);
    c->pos = MAX (c->pos, pts);
  } else if (GST_CLOCK_TIME_IS_VALID (c->pos) &&
      GST_CLOCK_TIME_IS_VALID (c->audio_pos) &&
      (until = MAX (c->audio_pos, c->timed_out ? stalled_until (c, now) :
              0)) > c->pos) {
    /* nothing to say up to where the audio is (or, when the audio is held
     * up, up to now, once per STALL_CHECK_US) */
    gap = gst_event_new_gap (c->pos, until - c->pos);
    c->pos = until;
    c->timed_out = FALSE;
  } else if (c->eos && g_queue_is_empty (&c->pending)) {
    eos = TRUE;
  } else {
    /* woken by the audio, a caption, a flush; or, in case the audio is
     * held up, after a while to follow the clock */
    c->timed_out = !g_cond_wait_until (&c->cond, &c->lock,
        g_get_monotonic_time () + STALL_CHECK_US);
    g_mutex_unlock (&c->lock);
    return;
  }
  stream_start = c->need_stream_start;
  segment = c->need_segment;
  seqnum = c->segment_seqnum;
  c->need_stream_start = c->need_segment = FALSE;
  g_mutex_unlock (&c->lock);

  if (stream_start || segment)
    push_start_events (c, stream_start, segment, seqnum);

  if (cap) {
    GstBuffer *buf;
    gsize len = strlen (cap->text);

    /* the memory ends with a NUL the buffer does not count, for readers
     * that take the text for a C string */
    buf = gst_buffer_new_memdup (cap->text, len + 1);
    gst_buffer_resize (buf, 0, len);
    GST_BUFFER_PTS (buf) = pts;
    GST_BUFFER_DURATION (buf) = dur;
    GST_DEBUG_OBJECT (pad, "caption %" GST_TIME_FORMAT " + %" GST_TIME_FORMAT
        ": %s", GST_TIME_ARGS (pts), GST_TIME_ARGS (dur), cap->text);
    caption_free (cap);
    ret = gst_pad_push (pad, buf);
    if (ret == GST_FLOW_OK)
      gst_pad_push_event (pad, gst_event_new_custom
          (GST_EVENT_CUSTOM_DOWNSTREAM,
              gst_structure_new_empty (GST_BIDI_FINAL_TRANSCRIPT_EVENT)));
  } else if (gap) {
    gst_pad_push_event (pad, gap);
  } else if (eos) {
    GST_DEBUG_OBJECT (pad, "pushing EOS");
    gst_pad_push_event (pad, gst_event_new_eos ());
    gst_pad_pause_task (pad);
    return;
  }

  /* a text branch that is not linked or is flushing does not stop the
   * agent; the captions wait for it to come back */
  if (ret != GST_FLOW_OK && ret != GST_FLOW_NOT_LINKED &&
      ret != GST_FLOW_FLUSHING) {
    GST_DEBUG_OBJECT (pad, "text branch returned %s, pausing",
        gst_flow_get_name (ret));
    gst_pad_pause_task (pad);
  }
  return;

pause:
  g_mutex_unlock (&c->lock);
  gst_pad_pause_task (pad);
}

void
gst_bidi_caps_query_reply (GstQuery * query, GstCaps * caps)
{
  GstCaps *filter;

  gst_query_parse_caps (query, &filter);
  if (filter) {
    GstCaps *both = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (caps);
    caps = both;
  }
  gst_query_set_caps_result (query, caps);
  gst_caps_unref (caps);
}
