/* gst-bidi: test helper that watches the debug log for a secret
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __BIDI_SECRET_WATCH_H__
#define __BIDI_SECRET_WATCH_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* Logs every debug category matching @categories (a gst_debug_set_threshold
 * pattern such as "bidi*") at MEMDUMP into a watcher that looks for
 * @secret, instead of stderr. One watch at a time. */
void bidi_secret_watch_start (const gchar * secret, const gchar * categories);

/* Ends the watch, restoring the default log function and threshold.
 * Returns whether @secret appeared in any line; @n_lines (nullable) gets
 * how many lines were seen. */
gboolean bidi_secret_watch_stop (guint * n_lines);

G_END_DECLS

#endif
