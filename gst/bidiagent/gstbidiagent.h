/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_AGENT_H__
#define __GST_BIDI_AGENT_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_BIDI_AGENT (gst_bidi_agent_get_type ())
G_DECLARE_FINAL_TYPE (GstBidiAgent, gst_bidi_agent, GST, BIDI_AGENT,
    GstElement);

/**
 * GstBidiAgentIdle:
 * @GST_BIDI_AGENT_IDLE_SILENCE: push silent buffers between answers
 * @GST_BIDI_AGENT_IDLE_GAP: push GAP events between answers
 *
 * What the src pad carries while the model is not speaking.
 */
typedef enum
{
  GST_BIDI_AGENT_IDLE_SILENCE,
  GST_BIDI_AGENT_IDLE_GAP,
} GstBidiAgentIdle;

#define GST_TYPE_BIDI_AGENT_IDLE (gst_bidi_agent_idle_get_type ())
GType gst_bidi_agent_idle_get_type (void);

/**
 * GstBidiAgentInterruption:
 * @GST_BIDI_AGENT_INTERRUPTION_FLUSH: FLUSH_START/FLUSH_STOP downstream: every
 *   branch drops the stale answer at once
 * @GST_BIDI_AGENT_INTERRUPTION_CUT: the answer is dropped inside the element
 *   and the stream goes on without a flush, for branches that cannot take
 *   one (an encoder into a file); what downstream holds still plays
 *
 * How a barge-in stops the answer on the src pad.
 */
typedef enum
{
  GST_BIDI_AGENT_INTERRUPTION_FLUSH,
  GST_BIDI_AGENT_INTERRUPTION_CUT,
} GstBidiAgentInterruption;

#define GST_TYPE_BIDI_AGENT_INTERRUPTION \
    (gst_bidi_agent_interruption_get_type ())
GType gst_bidi_agent_interruption_get_type (void);

/**
 * GstBidiAgentTranscriptRoles:
 * @GST_BIDI_AGENT_TRANSCRIPT_ASSISTANT: what the model says
 * @GST_BIDI_AGENT_TRANSCRIPT_USER: what the user says (or types)
 * @GST_BIDI_AGENT_TRANSCRIPT_BOTH: both sides of the conversation
 *
 * Whose final transcripts the transcript_src pad carries.
 */
typedef enum
{
  GST_BIDI_AGENT_TRANSCRIPT_ASSISTANT = 1,
  GST_BIDI_AGENT_TRANSCRIPT_USER = 2,
  GST_BIDI_AGENT_TRANSCRIPT_BOTH = 3,
} GstBidiAgentTranscriptRoles;

#define GST_TYPE_BIDI_AGENT_TRANSCRIPT_ROLES \
    (gst_bidi_agent_transcript_roles_get_type ())
GType gst_bidi_agent_transcript_roles_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (bidiagent);

G_END_DECLS

#endif /* __GST_BIDI_AGENT_H__ */
