/* gst-bidi: the bus messages of a test pipeline, recorded to wait on
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

#include <string.h>

#include <gst/check/gstcheck.h>

#include "buslog.h"

struct _BusLog
{
  GstBus *bus;
  GMutex lock;
  GCond cond;
  GPtrArray *msgs;              /* GstStructure */
};

static GstStructure *
error_structure (const gchar * name, GstMessage * msg)
{
  GError *err = NULL;
  gchar *dbg = NULL;
  GstStructure *st;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    gst_message_parse_error (msg, &err, &dbg);
  else
    gst_message_parse_warning (msg, &err, &dbg);
  st = gst_structure_new (name, "message", G_TYPE_STRING, err->message,
      "debug", G_TYPE_STRING, dbg, "domain", G_TYPE_STRING,
      g_quark_to_string (err->domain), "code", G_TYPE_INT, err->code, NULL);
  g_error_free (err);
  g_free (dbg);
  return st;
}

static GstBusSyncReply
sync_cb (G_GNUC_UNUSED GstBus * bus, GstMessage * msg, gpointer user_data)
{
  BusLog *log = user_data;
  GstStructure *st = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      if (gst_message_get_structure (msg))
        st = gst_structure_copy (gst_message_get_structure (msg));
      break;
    case GST_MESSAGE_EOS:
      st = gst_structure_new_empty ("eos");
      break;
    case GST_MESSAGE_ERROR:
      st = error_structure ("error", msg);
      break;
    case GST_MESSAGE_WARNING:
      st = error_structure ("warning", msg);
      break;
    default:
      break;
  }
  if (st) {
    GST_INFO ("bus: %" GST_PTR_FORMAT, st);
    g_mutex_lock (&log->lock);
    g_ptr_array_add (log->msgs, st);
    g_cond_broadcast (&log->cond);
    g_mutex_unlock (&log->lock);
  }
  /* a sync handler that drops a message owns it */
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

BusLog *
bus_log_new (GstBus * bus)
{
  BusLog *log = g_new0 (BusLog, 1);

  g_mutex_init (&log->lock);
  g_cond_init (&log->cond);
  log->msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  log->bus = gst_object_ref (bus);
  gst_bus_set_sync_handler (bus, sync_cb, log, NULL);
  return log;
}

void
bus_log_free (BusLog * log)
{
  if (!log)
    return;
  gst_bus_set_sync_handler (log->bus, NULL, NULL, NULL);
  gst_object_unref (log->bus);
  g_ptr_array_unref (log->msgs);
  g_mutex_clear (&log->lock);
  g_cond_clear (&log->cond);
  g_free (log);
}

gboolean
bus_log_matches (const GstStructure * st, const gchar * name,
    const gchar * field, const gchar * value)
{
  if (!gst_structure_has_name (st, name))
    return FALSE;
  if (!field)
    return TRUE;
  if (strcmp (field, "is_final") == 0) {
    gboolean b = FALSE;

    gst_structure_get_boolean (st, field, &b);
    return b == (g_strcmp0 (value, "true") == 0);
  }
  return g_strcmp0 (gst_structure_get_string (st, field), value) == 0;
}

gint
bus_log_wait (BusLog * log, guint from, const gchar * name,
    const gchar * field, const gchar * value, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gint found = -1;
  guint i = from;

  g_mutex_lock (&log->lock);
  while (found < 0) {
    for (; i < log->msgs->len; i++) {
      GstStructure *st = g_ptr_array_index (log->msgs, i);

      if (gst_structure_has_name (st, "error") && strcmp (name, "error")) {
        gchar *str = gst_structure_to_string (st);

        g_mutex_unlock (&log->lock);
        fail ("unexpected error: %s", str);
        g_free (str);
        return -1;
      }
      if (bus_log_matches (st, name, field, value)) {
        found = i;
        break;
      }
    }
    if (found < 0 && !g_cond_wait_until (&log->cond, &log->lock, end))
      break;
  }
  g_mutex_unlock (&log->lock);
  return found;
}

const GstStructure *
bus_log_get (BusLog * log, gint i)
{
  const GstStructure *st;

  g_mutex_lock (&log->lock);
  st = i >= 0 && (guint) i < log->msgs->len ?
      g_ptr_array_index (log->msgs, i) : NULL;
  g_mutex_unlock (&log->lock);
  return st;
}

guint
bus_log_count (BusLog * log, const gchar * name, const gchar * field,
    const gchar * value)
{
  guint i, n = 0;

  g_mutex_lock (&log->lock);
  for (i = 0; i < log->msgs->len; i++)
    n += bus_log_matches (g_ptr_array_index (log->msgs, i), name, field,
        value);
  g_mutex_unlock (&log->lock);
  return n;
}

guint
bus_log_length (BusLog * log)
{
  guint n;

  g_mutex_lock (&log->lock);
  n = log->msgs->len;
  g_mutex_unlock (&log->lock);
  return n;
}

static guint64
msg_time (BusLog * log, gint i, const gchar * field)
{
  guint64 t = GST_CLOCK_TIME_NONE;

  fail_unless (i >= 0);
  fail_unless (gst_structure_get_uint64 (bus_log_get (log, i), field, &t),
      "no %s in %" GST_PTR_FORMAT, field, bus_log_get (log, i));
  fail_unless (GST_CLOCK_TIME_IS_VALID (t));
  return t;
}

const GstStructure *
bus_log_assert_turn (BusLog * log)
{
  gint i_speak, i_listen, i_think, i_talk, i_lat;

  i_speak = bus_log_wait (log, 0, "bidi_user_state", "state", "speaking", 0);
  i_listen = bus_log_wait (log, 0, "bidi_user_state", "state", "listening", 0);
  i_think = bus_log_wait (log, 0, "bidi_agent_state", "state", "thinking", 0);
  i_talk = bus_log_wait (log, 0, "bidi_agent_state", "state", "speaking", 0);
  i_lat = bus_log_wait (log, 0, "bidi_turn_latency", NULL, NULL, 0);
  fail_unless (i_speak >= 0 && i_speak < i_listen && i_listen < i_think &&
      i_think < i_talk && i_talk < i_lat, "turn messages out of order: %d %d "
      "%d %d %d", i_speak, i_listen, i_think, i_talk, i_lat);

  fail_unless_equals_uint64 (msg_time (log, i_lat, "speech_end"),
      msg_time (log, i_listen, "running_time"));
  fail_unless_equals_uint64 (msg_time (log, i_lat, "turn_end"),
      msg_time (log, i_think, "running_time"));
  fail_unless_equals_uint64 (msg_time (log, i_lat, "first_push"),
      msg_time (log, i_talk, "running_time"));
  fail_unless (msg_time (log, i_listen, "running_time") >=
      msg_time (log, i_speak, "running_time"));
  fail_unless (msg_time (log, i_lat, "speech_end") <=
      msg_time (log, i_lat, "turn_end"));
  fail_unless (msg_time (log, i_lat, "turn_end") <=
      msg_time (log, i_lat, "first_audio"));
  fail_unless (msg_time (log, i_lat, "first_audio") <=
      msg_time (log, i_lat, "first_push"));
  return bus_log_get (log, i_lat);
}
