/* gst-bidi: what the benchmarks share
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"

static const gchar *bench_name = "bench";
static gint failures;

void
bench_set_name (const gchar * name)
{
  bench_name = name;
}

void
bench_failed (const gchar * format, ...)
{
  va_list ap;

  va_start (ap, format);
  g_printerr ("%s: ", bench_name);
  vfprintf (stderr, format, ap);
  g_printerr ("\n");
  va_end (ap);
  g_atomic_int_inc (&failures);
}

gint
bench_failures (void)
{
  return g_atomic_int_get (&failures);
}

glong
bench_status_kib (const gchar * what)
{
  gchar *status = NULL, *p;
  glong v = 0;

  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL) &&
      (p = strstr (status, what)))
    v = strtol (p + strlen (what), NULL, 10);
  g_free (status);
  return v;
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return x < y ? -1 : x > y;
}

gdouble
bench_percentile (GArray * v, gdouble p)
{
  guint i;

  if (v->len == 0)
    return 0;
  g_array_sort (v, cmp_double);
  i = (guint) (p * (v->len - 1) + 0.5);
  return g_array_index (v, gdouble, MIN (i, v->len - 1));
}

void
bench_sleep_until (gint64 t_us)
{
  gint64 now = g_get_monotonic_time ();

  if (t_us > now)
    g_usleep (t_us - now);
}
