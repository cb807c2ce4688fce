/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_CAPTIONS_H__
#define __GST_BIDI_CAPTIONS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* The transcript_src pad's stream: final transcripts as text/x-raw
 * buffers on the audio timeline, GAP events in between, pushed by a task
 * of its own so that a slow text branch (textoverlay holds one caption at
 * a time) never holds the audio up.
 *
 * The element reports, from its src task, how far the audio went
 * (gst_bidi_captions_progress) and, from its network thread, the final
 * transcripts (gst_bidi_captions_add) and the answers that ended
 * (gst_bidi_captions_answer_closed). An assistant caption is stamped with
 * the running time of the first sample of its answer and lasts to the
 * end of that answer's audio; a user caption is stamped when it is known
 * (the user spoke before that) and lasts a reading time. Timestamps never
 * go back: a caption that comes after its answer started plays from where
 * the stream is.
 *
 * Thread safe; reference counted because the element's threads may hold
 * it while the pad is released. */
typedef struct _GstBidiCaptions GstBidiCaptions;

#define GST_BIDI_CAPTIONS_CAPS "text/x-raw, format = (string) utf8"
#define GST_BIDI_FINAL_TRANSCRIPT_EVENT "rstranscribe/final-transcript"

GstBidiCaptions *gst_bidi_captions_new (GstPad * pad);

/* A stream-id for @pad of @element: derived from upstream's with one sink
 * pad (gst_pad_create_stream_id), random with the request sink pads */
gchar *gst_bidi_stream_id_new (GstPad * pad, GstElement * element,
    const gchar * name);
/* Answers the CAPS @query with @caps (transfer full) as far as the query's
 * filter allows, the filter's order first */
void gst_bidi_caps_query_reply (GstQuery * query, GstCaps * caps);
GstBidiCaptions *gst_bidi_captions_ref (GstBidiCaptions * c);
void gst_bidi_captions_unref (GstBidiCaptions * c);

/* pad activation (push mode): starts or stops the task */
gboolean gst_bidi_captions_activate (GstBidiCaptions * c, gboolean active);

/* a new run of the element (READY -> PAUSED): forget the old timeline */
void gst_bidi_captions_reset (GstBidiCaptions * c);

/* @answer: the answer an assistant caption belongs to, 0 for the user */
void gst_bidi_captions_add (GstBidiCaptions * c, const gchar * text,
    guint answer);

/* The audio src pushed [@ts, @ts + @dur) of @answer (0: silence or gap);
 * @queued: audio still waiting in the element's output queue. */
void gst_bidi_captions_progress (GstBidiCaptions * c, GstClockTime ts,
    GstClockTime dur, guint answer, GstClockTime queued);

/* The provider finished @answer; @had_audio: some of its audio was
 * queued (a caption waits for it to be on air), else it never will be. */
void gst_bidi_captions_answer_closed (GstBidiCaptions * c, guint answer,
    gboolean had_audio);

/* Barge-in: flush the text branch (FLUSH_START/STOP with @seqnum, a new
 * SEGMENT follows) and drop captions of answers up to @cut_answer that
 * were not pushed yet. */
void gst_bidi_captions_flush (GstBidiCaptions * c, guint32 seqnum,
    guint cut_answer);

/* Barge-in without a flush (interruption=cut): captions of answers up to
 * @cut_answer that did not play are dropped, the one of the answer on air
 * ends where its audio was cut (a caption already pushed keeps the
 * duration it was given: only a flush could take it back). */
void gst_bidi_captions_cut (GstBidiCaptions * c, guint cut_answer);

/* The audio ended: push what is left, then EOS. */
void gst_bidi_captions_eos (GstBidiCaptions * c);

G_END_DECLS

#endif
