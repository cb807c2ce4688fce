/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_OUTPUT_H__
#define __GST_BIDI_OUTPUT_H__

#include <gst/gst.h>
#include <gst/audio/audio.h>

#include "gstbidiagent.h"
#include "gstbidicaptions.h"

G_BEGIN_DECLS

/* The src side: the model's answers queued for the src task, which pushes
 * them (and silence or GAPs between them) on a live timeline; the flush of
 * an interruption; what of the answer on air was heard.
 *
 * Lock order: flush_lock -> src STREAM_LOCK -> the element's OBJECT_LOCK
 * -> lock (out_lock) -> the answer_cut callback's own locks; a flush also
 * flushes the transcript pad under the src STREAM_LOCK (src STREAM_LOCK ->
 * the transcript pad's STREAM_LOCK; the captions task never takes the
 * src STREAM_LOCK). */

/* The playout: the queue of model audio waiting for the src task, the
 * output timeline (running time of the next sample), and what was pushed
 * of the answer being played, so that an interruption knows how much of it
 * the listener heard. Plain data, guarded by out_lock. Times are running
 * times; sample counts are in the provider's output format. */

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

typedef struct
{
  /* (transfer full) the transcript_src pad's stream, NULL if none; called
   * with no lock held */
  GstBidiCaptions *(*get_captions) (gpointer user_data);
  /* an interruption cut the answer on air, of which @played_ms were
   * heard; called with out_lock held, so that nothing of the next answer
   * comes between */
  void (*answer_cut) (guint64 played_ms, gpointer user_data);
  /* the src task: the first sample of @answer went out, to play at
   * running time @at (@on_air; its first audio came in at @first_audio,
   * GST_CLOCK_TIME_NONE if unknown, in the response @resp_id), or the
   * answer is over and what follows it, from @at, is silence (!@on_air);
   * called with no lock held */
  void (*on_air) (gboolean on_air, GstClockTime at,
      GstClockTime first_audio, const gchar * resp_id, gpointer user_data);
} GstBidiOutputCallbacks;

typedef struct
{
  /* set at init */
  GstElement *element;
  GstPad *srcpad;
  GstPad *sinkpad;              /* for the latency query */
  GstBidiOutputCallbacks cb;
  gpointer user_data;

  /* protected by the element's GST_OBJECT_LOCK */
  guint latency_ms;
  GstBidiAgentIdle idle;
  GstBidiAgentInterruption interruption;
  guint buffer_ms;              /* most model audio queued */
  GstAudioInfo prov_out;        /* the provider's output format */

  /* One flush of the src pad (FLUSH_START to FLUSH_STOP) at a time: the
   * interrupt signal, the provider's barge-in and an upstream flush come
   * from different threads. Two flushes that interleave downstream can
   * leave a sink out of flushing before the second FLUSH_STOP; a sink that
   * prerolls meanwhile (PAUSED) keeps its stream lock, and that FLUSH_STOP
   * waits for it for ever. Taken before the src stream lock and out_lock. */
  GMutex flush_lock;

  /* out_lock, and what it protects */
  GMutex lock;
  GCond cond;
  GstFlowReturn srcresult;
  /* flushes between FLUSH_START and taking the stream lock: the task parks
   * while there is one, even if a pad reactivation reset srcresult
   * meanwhile, so the flush gets the stream lock */
  guint flushes;
  gboolean src_active;
  gboolean playing;
  gboolean eos_pending;
  GstClockID clock_id;
  GstBidiPlayout playout;
  gint channels;
  gboolean need_segment;
  gboolean discont;
  guint32 segment_seqnum;
  GstClockTime downstream_latency;
  /* the answers: written by the network thread and interruptions */
  gboolean resp_open;
  gboolean muted;
  guint answer_seq;
  guint answer_audio_seq;       /* the last answer that queued audio */
  guint on_air;                 /* the answer the src task plays, 0 = none */
  /* the first audio of the answer first_audio_answer came in at
   * first_audio, in the response first_audio_resp_id */
  guint first_audio_answer;
  GstClockTime first_audio;
  gchar *first_audio_resp_id;
  gchar *resp_id;
  gchar *cancelled_resp_id;
  guint n_answers;
  guint n_interruptions;
  guint64 dropped_bytes;
  /* audio past buffer_ms: the answer it came in is clipped there (the rest
   * of it is dropped, so that what plays has no hole) */
  guint clipped_answer;
  guint64 overflow_bytes;
  gint64 last_overflow_warning; /* monotonic us, 0 = never */

  /* src stream lock (the task), or the state change with the src pad
   * inactive */
  gboolean need_stream_start;
  gboolean need_caps;
  GstAudioInfo src_info;
  GstAudioConverter *conv;
  GBytes *silence;
} GstBidiOutput;

void gst_bidi_output_init (GstBidiOutput * out, GstElement * element,
    GstPad * srcpad, GstPad * sinkpad, const GstBidiOutputCallbacks * cb,
    gpointer user_data);
void gst_bidi_output_clear (GstBidiOutput * out);

/* READY->PAUSED and PAUSED->READY, the src pad inactive */
void gst_bidi_output_setup (GstBidiOutput * out, const GstAudioInfo * prov_out);
void gst_bidi_output_stop (GstBidiOutput * out);
void gst_bidi_output_set_playing (GstBidiOutput * out, gboolean playing);

/* network thread: the provider's answers */
void gst_bidi_output_answer_start (GstBidiOutput * out, const gchar * resp_id);
guint64 gst_bidi_output_push_audio (GstBidiOutput * out, GBytes * pcm,
    gint rate, gint channels, const gchar * resp_id, GstClockTime arrived);
void gst_bidi_output_answer_end (GstBidiOutput * out, guint * answer,
    gboolean * had_audio);
void gst_bidi_output_get_answer (GstBidiOutput * out, guint * answer,
    gboolean * muted);

/* The stream ends: the task pushes what is queued, then EOS */
void gst_bidi_output_request_eos (GstBidiOutput * out);
void gst_bidi_output_cancel_eos (GstBidiOutput * out);

/* An interruption: flushes downstream, or in cut mode (without
 * @force_flush) drops the answer inside the element only */
gboolean gst_bidi_output_cut (GstBidiOutput * out, guint32 seqnum,
    gboolean force_flush, guint64 * played_ms, gchar ** resp_id);

void gst_bidi_output_get_stats (GstBidiOutput * out, guint64 * queued_ms,
    guint64 * dropped_ms, guint * answers, guint * interruptions);

/* the src pad's functions */
gboolean gst_bidi_output_src_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active);
gboolean gst_bidi_output_src_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
gboolean gst_bidi_output_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query);

G_END_DECLS

#endif /* __GST_BIDI_OUTPUT_H__ */
