/* gst-bidi: what the benchmarks share
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __BENCH_UTIL_H__
#define __BENCH_UTIL_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* A problem (not a time: benchmarks never fail on one), printed as
 * "@name: ..." on stderr and counted; @name is the one given to
 * bench_set_name() */
void bench_set_name (const gchar * name);
void bench_failed (const gchar * format, ...) G_GNUC_PRINTF (1, 2);
gint bench_failures (void);

/* A field of /proc/self/status in KiB ("VmRSS:", "RssAnon:" ...) */
glong bench_status_kib (const gchar * what);

/* The @p quantile (0-1) of the doubles in @v, which it sorts; 0 if empty */
gdouble bench_percentile (GArray * v, gdouble p);

/* Sleeps until @t_us of the monotonic clock */
void bench_sleep_until (gint64 t_us);

/* A live session: appsrc (16 kHz mono S16, time-stamped as pushed) !
 * bidiagent name=agent @agent_tail. A benchmark's own session type starts
 * with a BenchSession and gives its size to bench_session_new(). What the
 * bus says is kept under @lock, and @cond is signalled on every message. */
typedef struct
{
  GstElement *pipeline, *src, *agent;
  GMutex lock;
  GCond cond;
  gboolean connected;           /* bidi_connection_start came */
  gboolean eos;
  guint completes;              /* bidi_response_complete messages */
  guint interruptions;          /* bidi_interruption messages */
  guint turns;                  /* final user transcripts */
  gchar *user;                  /* the last final user transcript */
  guint64 user_audio_end_ms;    /* ... and its audio_end_ms */
  gchar *answer;                /* the last final assistant transcript */
  gchar *error;                 /* the first error's message */
} BenchSession;

/* A session of @size bytes (at least a BenchSession), PLAYING. @agent_tail
 * follows "bidiagent name=agent" in the launch line (properties, then
 * "! ..." downstream); @provider_config (or NULL) is set as the element's
 * provider-config; @probe (or NULL) sees the buffers of the agent's src
 * pad, with the session as its data. */
gpointer bench_session_new (gsize size, const gchar * agent_tail,
    const gchar * provider_config, GstPadProbeCallback probe);
/* Waits up to @timeout_us for bidi_connection_start; FALSE on an error */
gboolean bench_session_wait_connected (BenchSession * s, gint64 timeout_us);
/* Pushes @n samples of 16 kHz mono audio */
void bench_session_push (BenchSession * s, const gint16 * data, gsize n);
/* The pipeline's running time now (GST_CLOCK_TIME_NONE without a clock) */
GstClockTime bench_session_running_time (BenchSession * s);
/* Stops and frees the session (a benchmark frees its own fields first) */
void bench_session_free (BenchSession * s);

G_END_DECLS

#endif /* __BENCH_UTIL_H__ */
