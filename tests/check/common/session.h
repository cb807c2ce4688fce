/* gst-bidi: a provider session in a test: a bidiagent pipeline, what it
 * says on the bus and what reaches its sink
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __SESSION_H__
#define __SESSION_H__

#include <gst/gst.h>

#include "buslog.h"

G_BEGIN_DECLS

/* The pipeline must have a bidiagent named "agent" and a sink named
 * "sink"; an appsrc named "src" is the microphone when there is one. The
 * fields under lock are written by the sink's streaming thread (a pad
 * probe, and "handoff" for sinks that have the signal) and the tool-call
 * handler; tests read them under lock too. */
typedef struct
{
  GstElement *pipeline;
  GstElement *src;              /* appsrc "src", or NULL */
  GstElement *agent;
  GstPad *sinkpad;              /* of the sink */

  BusLog *log;                  /* the pipeline's messages */
  GMutex lock;
  GCond cond;

  /* protected by lock */
  GByteArray *answer;           /* the model's audio at the sink (no GAPs) */
  guint n_answer_buffers;
  gint64 first_render_us;       /* monotonic time the sink rendered the
                                 * first answer buffer since the test
                                 * reset it to 0 (sinks with handoffs) */
  guint n_flush;
  gint64 flush_us;              /* of the last FLUSH_START */
  gsize answer_at_flush;        /* answer bytes then */
  guint64 flush_pos;            /* frames pushed at the first FLUSH_START */
  GstCaps *caps;                /* at the sink */
  guint64 pushed;               /* frames pushed into the appsrc */
  GPtrArray *tool_calls;        /* GstStructure "tool-call" (id, name,
                                 * input), after session_take_tool_calls */

  /*< private >*/
  guint rate;
  guint bpf;
  guint wait_ms;
} Session;

/* A pipeline from @desc whose appsrc takes audio of @rate Hz with @bpf
 * bytes per frame; @wait_ms is how long session_wait_connected() and
 * session_wait_tool_call() wait. Not started: set what the test needs on
 * s->agent, then session_start(). */
Session *session_create (const gchar * desc, guint rate, guint bpf,
    guint wait_ms);
/* Every tool-call signal is recorded in tool_calls and taken (the test
 * answers it) */
void session_take_tool_calls (Session * s);
/* PLAYING (fails the test if that fails) */
void session_start (Session * s);
void session_free (Session * s);

/* The pipeline's messages (see buslog.h) */
gint session_wait (Session * s, guint from, const gchar * name,
    const gchar * field, const gchar * value, guint timeout_ms);
const GstStructure *session_msg (Session * s, gint i);
guint session_count (Session * s, const gchar * name, const gchar * field,
    const gchar * value);
/* Index of bidi_connection_start; fails the test when it does not come */
gint session_wait_connected (Session * s);

/* Pushes @n_frames of @data into the appsrc in buffers of @chunk_frames,
 * timestamped by the frames pushed so far */
void session_push (Session * s, gconstpointer data, gsize n_frames,
    gsize chunk_frames);
/* The same with @pcm, in buffers of @chunk_ms */
void session_push_bytes (Session * s, GBytes * pcm, guint chunk_ms);
void session_end_input (Session * s);

/* Waits until @n_bytes of the model's audio reached the sink */
gboolean session_wait_answer (Session * s, gsize n_bytes, guint timeout_ms);
gsize session_answer_len (Session * s);

/* A field of the agent's stats */
guint64 session_stat (Session * s, const gchar * field);

/* Waits for the Nth tool-call signal; returns it (owned by the session),
 * NULL when it does not come */
const GstStructure *session_wait_tool_call (Session * s, guint nth);
guint session_n_tool_calls (Session * s);

/* The transcripts of @role in order: "text|current|final" lines (g_free) */
gchar *session_transcripts (Session * s, const gchar * role);
/* The modality_details entry of @modality in a bidi_usage message, or
 * NULL; fails the test when there are no details */
const GstStructure *session_find_modality (const GstStructure * usage,
    const gchar * modality);
/* @st has the int @field equal to @expected */
void session_assert_tokens (const GstStructure * st, const gchar * field,
    gint expected);

/* What the provider tests share: @bytes of S16LE audio that is never
 * silent, different for each @seed; a 1x1 PNG; the start of a JPEG file */
GBytes *session_make_pcm (gsize bytes, guint seed);
GBytes *session_make_png (void);
GBytes *session_make_jpeg (void);
/* The answer bytes at the sink from @offset on equal @pcm, and nothing
 * follows them (waits up to wait_ms for them) */
void session_assert_answer_tail (Session * s, gsize offset, GBytes * pcm);
/* A bidiagent with @config (a provider-config structure's text) refuses to
 * start, with a SETTINGS error that says "Invalid provider-config" (and
 * names the config's first field, if @names_field) */
void session_assert_config_refused (const gchar * config,
    gboolean names_field);
/* bus_log_assert_turn() on the session's messages */
const GstStructure *session_assert_turn (Session * s);
/* No message (any field) holds @secret, nor @piece of it (nullable) */
void session_assert_no_secret (Session * s, const gchar * secret,
    const gchar * piece);

G_END_DECLS

#endif /* __SESSION_H__ */
