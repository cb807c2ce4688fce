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

#include <glib.h>

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

G_END_DECLS

#endif /* __BENCH_UTIL_H__ */
