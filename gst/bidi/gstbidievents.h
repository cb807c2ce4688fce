/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_EVENTS_H__
#define __GST_BIDI_EVENTS_H__

#include <gst/gst.h>

#include "bidi-prelude.h"

G_BEGIN_DECLS

/* Unified events: one GstStructure whose name and fields follow the seed
 * event schema. The same structure is a bus message (plus running_time), a
 * JSON object on a WebSocket ("type" = structure name) and a history record.
 *
 * Field types in the structure face:
 *   strings: G_TYPE_STRING; flags: G_TYPE_BOOLEAN; token counts, sample
 *   rates, channels: G_TYPE_INT; played_ms: G_TYPE_UINT64;
 *   running_time: G_TYPE_UINT64 (GstClockTime, GST_CLOCK_TIME_NONE allowed);
 *   audio/image bytes: G_TYPE_BYTES;
 *   transcript "delta": G_TYPE_STRING (JSON face: {"text": delta});
 *   tool "input" and result "content": G_TYPE_STRING holding JSON text
 *   (JSON face: the parsed JSON value itself);
 *   usage "modality_details": GST_TYPE_ARRAY of GstStructures.
 * Unknown extra fields are kept in both directions (strings, numbers,
 * booleans, nested objects/arrays).
 */

#define GST_BIDI_EVENT_CONNECTION_START   "bidi_connection_start"
#define GST_BIDI_EVENT_CONNECTION_RESTART "bidi_connection_restart"
#define GST_BIDI_EVENT_RESPONSE_START     "bidi_response_start"
#define GST_BIDI_EVENT_AUDIO_STREAM       "bidi_audio_stream"
#define GST_BIDI_EVENT_TRANSCRIPT_STREAM  "bidi_transcript_stream"
#define GST_BIDI_EVENT_INTERRUPTION       "bidi_interruption"
#define GST_BIDI_EVENT_RESPONSE_COMPLETE  "bidi_response_complete"
#define GST_BIDI_EVENT_USAGE              "bidi_usage"
#define GST_BIDI_EVENT_CONNECTION_CLOSE   "bidi_connection_close"
#define GST_BIDI_EVENT_ERROR              "bidi_error"
#define GST_BIDI_EVENT_TOOL_USE_STREAM    "tool_use_stream"
#define GST_BIDI_EVENT_TOOL_RESULT        "tool_result"
#define GST_BIDI_EVENT_TOOL_CANCEL        "tool_cancel"
/* who is speaking, and how fast the agent answered (see docs/reference.md) */
#define GST_BIDI_EVENT_USER_STATE         "bidi_user_state"
#define GST_BIDI_EVENT_AGENT_STATE        "bidi_agent_state"
#define GST_BIDI_EVENT_TURN_LATENCY       "bidi_turn_latency"
/* inputs */
#define GST_BIDI_EVENT_TEXT_INPUT         "bidi_text_input"
#define GST_BIDI_EVENT_AUDIO_INPUT        "bidi_audio_input"
#define GST_BIDI_EVENT_IMAGE_INPUT        "bidi_image_input"

/* Builders. Optional string arguments may be NULL (field left out). */
GST_BIDI_API
GstStructure *gst_bidi_event_new_connection_start (const gchar * connection_id,
    const gchar * model);
GST_BIDI_API
GstStructure *gst_bidi_event_new_connection_restart (const gchar * reason,
    const gchar * connection_id);
GST_BIDI_API
GstStructure *gst_bidi_event_new_response_start (const gchar * response_id);
GST_BIDI_API
GstStructure *gst_bidi_event_new_audio_stream (GBytes * audio,
    const gchar * format, gint sample_rate, gint channels);
/* The longest current_transcript a transcript event carries */
#define GST_BIDI_EVENT_MAX_CURRENT_TRANSCRIPT 4096
GST_BIDI_API
GstStructure *gst_bidi_event_new_transcript (const gchar * role,
    const gchar * text, gboolean is_final, const gchar * current_transcript);
/* Sets (or with NULL removes) the optional "phase" of a transcript:
 * "commentary" or "final_answer" */
GST_BIDI_API
void gst_bidi_event_transcript_set_phase (GstStructure * transcript,
    const gchar * phase);
GST_BIDI_API
GstStructure *gst_bidi_event_new_interruption (const gchar * reason,
    const gchar * response_id);
GST_BIDI_API
GstStructure *gst_bidi_event_new_response_complete (const gchar * response_id,
    const gchar * stop_reason);
GST_BIDI_API
GstStructure *gst_bidi_event_new_usage (gint input_tokens, gint output_tokens,
    gint total_tokens);
/* Appends {modality, input_tokens, output_tokens} to @usage's
 * modality_details */
GST_BIDI_API
void gst_bidi_event_usage_add_modality (GstStructure * usage,
    const gchar * modality, gint input_tokens, gint output_tokens);
GST_BIDI_API
GstStructure *gst_bidi_event_new_connection_close (const gchar * connection_id,
    const gchar * reason);
GST_BIDI_API
GstStructure *gst_bidi_event_new_error (const gchar * message,
    const gchar * code, const gchar * details);
GST_BIDI_API
GstStructure *gst_bidi_event_new_tool_use (const gchar * tool_use_id,
    const gchar * name, const gchar * input_json);
GST_BIDI_API
GstStructure *gst_bidi_event_new_tool_result (const gchar * tool_use_id,
    const gchar * status, const gchar * content_json);
GST_BIDI_API
GstStructure *gst_bidi_event_new_tool_cancel (const gchar * tool_use_id);
GST_BIDI_API
GstStructure *gst_bidi_event_new_text_input (const gchar * text,
    const gchar * role);

/* "speaking" or "listening". A provider that tells the change late (its
 * VAD decides after a hangover, or the news crossed the network) sets
 * @ago_ms: how long before the event the change happened in the audio;
 * the element folds it into running_time and drops the field. */
GST_BIDI_API
GstStructure *gst_bidi_event_new_user_state (const gchar * state,
    guint64 ago_ms);
/* "listening", "thinking" or "speaking". A provider posts "thinking" when
 * it decides that the user's turn ended (with @ago_ms as above); the
 * element posts the others itself, from what its src pad pushes. */
GST_BIDI_API
GstStructure *gst_bidi_event_new_agent_state (const gchar * state,
    guint64 ago_ms);

/* The moments of one answered turn, running times on the pipeline clock,
 * each GST_CLOCK_TIME_NONE when unknown (left out, with the differences
 * that need it) */
typedef struct
{
  GstClockTime speech_end;      /* the user's speech ended (a VAD) */
  GstClockTime turn_end;        /* the provider decided the turn ended */
  GstClockTime first_audio;     /* the answer's first audio came in */
  GstClockTime first_push;      /* its first sample went out on the src pad */
} GstBidiTurnTimes;

GST_BIDI_API
GstStructure *gst_bidi_event_new_turn_latency (const GstBidiTurnTimes * times,
    const gchar * response_id);

/* Checks that @event is a known event type with its required fields of the
 * right types and allowed values (role, reasons, status ...). */
GST_BIDI_API
gboolean gst_bidi_event_validate (const GstStructure * event, GError ** error);

/* Structure -> JSON object text ("type" first). Never fails for a valid
 * event; GBytes become base64. */
GST_BIDI_API
gchar *gst_bidi_event_to_json (const GstStructure * event);

/* JSON object text -> structure, validated. Untrusted input: size bounded
 * by the caller, any malformed input gives an error, never a crash. */
GST_BIDI_API
GstStructure *gst_bidi_event_from_json (const gchar * json, gssize length,
    GError ** error);

/* TRUE for event names the schema knows (outputs and inputs). */
GST_BIDI_API
gboolean gst_bidi_event_is_known (const gchar * name);

G_END_DECLS

#endif /* __GST_BIDI_EVENTS_H__ */
