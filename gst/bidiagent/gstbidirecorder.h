/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_RECORDER_H__
#define __GST_BIDI_RECORDER_H__

#include <gst/gst.h>
#include <gst/bidi/gstbidihistory.h>

G_BEGIN_DECLS

/* Writes the conversation into the element's history as it happens: the
 * user's final transcripts and texts, the assistant's answers (an
 * interrupted one only as far as it was heard) and tool pairs, in the
 * order of the conversation.
 *
 * An answer is complete long before it has played, so it waits for what
 * comes next in the conversation (the next answer, the user's words, a
 * tool pair, the end); an interruption meanwhile cuts it. The tool pairs of
 * the answer to words still being transcribed wait for those words. */
typedef struct
{
  /* set at init */
  GstElement *element;          /* for messages */
  GstBidiHistory *history;      /* the element's; thread safe itself */

  /* the network thread, or a state change while no provider runs */
  gboolean write_failed;        /* warned; until a write works again */
  gboolean user_pending;        /* partial user transcripts came, not the
                                 * final one yet */
  GQueue pairs;                 /* tool pairs waiting for the user's words */

  /* protected by lock: the answer being recorded, its audio so far, and
   * how much of it was heard when it was interrupted (G_MAXUINT64: it was
   * not). A leaf lock: the output calls in with out_lock held. */
  GMutex lock;
  GString *text;
  guint64 audio_ms;
  guint64 heard_ms;
  /* where each item of a phased answer (a commentary, then the final
   * answer: each its own history message) ends, in @text and in its
   * audio */
  GArray *cuts;
} GstBidiRecorder;

void gst_bidi_recorder_init (GstBidiRecorder * rec, GstElement * element,
    GstBidiHistory * history);
void gst_bidi_recorder_clear (GstBidiRecorder * rec);

/* READY->PAUSED: the history starts from @messages (when @fresh) and the
 * session file @file, if any */
gboolean gst_bidi_recorder_start (GstBidiRecorder * rec,
    const gchar * messages, const gchar * file, gboolean fresh,
    GError ** error);

/* network thread */
void gst_bidi_recorder_on_transcript (GstBidiRecorder * rec,
    const GstStructure * event);
void gst_bidi_recorder_user_text (GstBidiRecorder * rec, const gchar * text);
void gst_bidi_recorder_answer_start (GstBidiRecorder * rec);
void gst_bidi_recorder_add_pair (GstBidiRecorder * rec, const gchar * id,
    const gchar * name, const gchar * input, const gchar * result,
    gboolean error);
/* Everything not yet in the history goes in (the conversation ends) */
void gst_bidi_recorder_flush (GstBidiRecorder * rec);

/* any thread */
void gst_bidi_recorder_add_audio (GstBidiRecorder * rec, guint64 ms);
void gst_bidi_recorder_answer_cut (GstBidiRecorder * rec, guint64 heard_ms);
gchar *gst_bidi_recorder_get_json (GstBidiRecorder * rec);

G_END_DECLS

#endif /* __GST_BIDI_RECORDER_H__ */
