/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Turn state and latency (see gstbiditurns.h). A turn's moments are kept
 * from the user's speech to the first sample of the answer on air; a new
 * turn (the user speaks again) starts them afresh, so a turn that got no
 * answer never lends its moments to a later one. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstbiditurns.h"

static void
times_forget (GstBidiTurns * t)
{
  t->times.speech_end = GST_CLOCK_TIME_NONE;
  t->times.turn_end = GST_CLOCK_TIME_NONE;
  t->times.first_audio = GST_CLOCK_TIME_NONE;
  t->times.first_push = GST_CLOCK_TIME_NONE;
}

void
gst_bidi_turns_init (GstBidiTurns * t)
{
  g_mutex_init (&t->lock);
  gst_bidi_turns_reset (t);
}

void
gst_bidi_turns_clear (GstBidiTurns * t)
{
  g_mutex_clear (&t->lock);
}

void
gst_bidi_turns_reset (GstBidiTurns * t)
{
  g_mutex_lock (&t->lock);
  t->user = NULL;
  t->agent = NULL;
  t->told = FALSE;
  t->turn_open = FALSE;
  times_forget (t);
  g_mutex_unlock (&t->lock);
}

/* With the lock: @state (one of @names) at @at, as an event of @name when
 * it differs from *@current */
static GstStructure *
change (const gchar ** current, const gchar * const *names,
    const gchar * state, GstStructure * (*make) (const gchar *, guint64))
{
  guint i;

  for (i = 0; names[i]; i++) {
    if (g_strcmp0 (names[i], state) != 0)
      continue;
    if (*current == names[i])
      return NULL;
    *current = names[i];
    return make (names[i], 0);
  }
  g_return_val_if_reached (NULL);
}

static const gchar *const user_names[] = { "speaking", "listening", NULL };
static const gchar *const agent_names[] =
    { "listening", "thinking", "speaking", NULL };

GstStructure *
gst_bidi_turns_user (GstBidiTurns * t, const gchar * state, GstClockTime at)
{
  GstStructure *ev;

  g_mutex_lock (&t->lock);
  t->told = TRUE;
  ev = change (&t->user, user_names, state, gst_bidi_event_new_user_state);
  if (ev && t->user == user_names[0]) {
    /* the user speaks: a new turn */
    times_forget (t);
    t->turn_open = TRUE;
  } else if (ev) {
    t->times.speech_end = at;
    t->turn_open = TRUE;
  }
  g_mutex_unlock (&t->lock);
  return ev;
}

GstStructure *
gst_bidi_turns_agent (GstBidiTurns * t, const gchar * state, GstClockTime at)
{
  GstStructure *ev;

  g_mutex_lock (&t->lock);
  ev = change (&t->agent, agent_names, state, gst_bidi_event_new_agent_state);
  if (ev && t->agent == agent_names[1]) {
    /* the provider decided the user's turn is over */
    t->told = TRUE;
    t->turn_open = TRUE;
    t->times.turn_end = at;
  }
  g_mutex_unlock (&t->lock);
  return ev;
}

void
gst_bidi_turns_text (GstBidiTurns * t)
{
  g_mutex_lock (&t->lock);
  times_forget (t);
  t->turn_open = TRUE;
  g_mutex_unlock (&t->lock);
}

GstStructure *
gst_bidi_turns_on_air (GstBidiTurns * t, GstClockTime first_audio,
    GstClockTime at, const gchar * response_id, GstStructure ** latency)
{
  GstStructure *ev;

  *latency = NULL;
  g_mutex_lock (&t->lock);
  ev = change (&t->agent, agent_names, "speaking",
      gst_bidi_event_new_agent_state);
  if (t->turn_open || !t->told) {
    GstBidiTurnTimes times = t->times;

    times.first_audio = first_audio;
    times.first_push = at;
    *latency = gst_bidi_event_new_turn_latency (&times, response_id);
    t->turn_open = FALSE;
    t->times.speech_end = GST_CLOCK_TIME_NONE;
    t->times.turn_end = GST_CLOCK_TIME_NONE;
  }
  g_mutex_unlock (&t->lock);
  return ev;
}
