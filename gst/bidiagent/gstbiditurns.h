/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_TURNS_H__
#define __GST_BIDI_TURNS_H__

#include <gst/gst.h>
#include <gst/bidi/gstbidievents.h>

G_BEGIN_DECLS

/* Who is speaking, and how fast the agent answers: the user's state (from
 * the provider's VAD), the agent's (thinking from the provider's end of
 * turn, speaking and listening from what the src pad pushes), and the
 * moments of each answered turn, for bidi_user_state, bidi_agent_state and
 * bidi_turn_latency.
 *
 * The calls come from the network thread, the src task and interruptions:
 * each takes the tracker's lock (a leaf lock) and returns the event to
 * post, or NULL when nothing changed. Running times are on the pipeline
 * clock. */
typedef struct
{
  GMutex lock;
  const gchar *user;            /* a state name, NULL = not told yet */
  const gchar *agent;           /* a state name, NULL = not told yet */
  /* the provider tells where turns end (VAD, end of turn): a latency
   * message then follows a turn; without, it follows every answer */
  gboolean told;
  gboolean turn_open;           /* a turn waits for its answer on air */
  GstBidiTurnTimes times;       /* speech_end, turn_end */
} GstBidiTurns;

void gst_bidi_turns_init (GstBidiTurns * turns);
void gst_bidi_turns_clear (GstBidiTurns * turns);
/* a new session: nothing told yet */
void gst_bidi_turns_reset (GstBidiTurns * turns);

GstStructure *gst_bidi_turns_user (GstBidiTurns * turns, const gchar * state,
    GstClockTime at);
GstStructure *gst_bidi_turns_agent (GstBidiTurns * turns,
    const gchar * state, GstClockTime at);
/* the user typed a turn: the next answer closes it */
void gst_bidi_turns_text (GstBidiTurns * turns);
/* The first sample of an answer went out on the src pad at @at, its first
 * audio came in at @first_audio (response @response_id, nullable): returns
 * the agent's "speaking" (or NULL), and sets @latency to the turn's
 * bidi_turn_latency when a turn waited for it (else NULL). */
GstStructure *gst_bidi_turns_on_air (GstBidiTurns * turns,
    GstClockTime first_audio, GstClockTime at, const gchar * response_id,
    GstStructure ** latency);

G_END_DECLS

#endif /* __GST_BIDI_TURNS_H__ */
