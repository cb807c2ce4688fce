/* gst-bidi: test helper that watches the debug log for a secret
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include <string.h>

#include "secretwatch.h"

/* protected by lock: the log function runs on any thread */
static GMutex lock;
static gchar *watched_secret;
static gchar *watched_categories;
static gboolean secret_seen;
static guint n_seen;

static void
watch_log_func (G_GNUC_UNUSED GstDebugCategory * category,
    G_GNUC_UNUSED GstDebugLevel level, G_GNUC_UNUSED const gchar * file,
    G_GNUC_UNUSED const gchar * function, G_GNUC_UNUSED gint line,
    G_GNUC_UNUSED GObject * object, GstDebugMessage * message,
    G_GNUC_UNUSED gpointer user_data)
{
  const gchar *text = gst_debug_message_get (message);

  g_mutex_lock (&lock);
  n_seen++;
  if (text && watched_secret && strstr (text, watched_secret))
    secret_seen = TRUE;
  g_mutex_unlock (&lock);
}

void
bidi_secret_watch_start (const gchar * secret, const gchar * categories)
{
  g_mutex_lock (&lock);
  g_free (watched_secret);
  watched_secret = g_strdup (secret);
  g_free (watched_categories);
  watched_categories = g_strdup (categories);
  secret_seen = FALSE;
  n_seen = 0;
  g_mutex_unlock (&lock);

  /* the watcher sees every line, stderr none */
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (watch_log_func, NULL, NULL);
  gst_debug_set_threshold_for_name (categories, GST_LEVEL_MEMDUMP);
  gst_debug_set_active (TRUE);
}

gboolean
bidi_secret_watch_stop (guint * n_lines)
{
  gboolean seen;

  gst_debug_remove_log_function (watch_log_func);
  g_mutex_lock (&lock);
  gst_debug_unset_threshold_for_name (watched_categories);
  g_clear_pointer (&watched_categories, g_free);
  g_clear_pointer (&watched_secret, g_free);
  seen = secret_seen;
  if (n_lines)
    *n_lines = n_seen;
  g_mutex_unlock (&lock);
  gst_debug_add_log_function (gst_debug_log_default, NULL, NULL);
  return seen;
}
