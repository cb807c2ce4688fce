/* gst-bidi: the bus messages of a test pipeline, recorded to wait on
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __BUS_LOG_H__
#define __BUS_LOG_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* Records, in order, every element message of a bus (its structure), EOS
 * (as "eos"), ERROR and WARNING (as "error" / "warning" with "message",
 * "debug", "domain" and "code"), through a sync handler that drops them.
 * Thread safe. */
typedef struct _BusLog BusLog;

BusLog *bus_log_new (GstBus * bus);
/* Removes the sync handler */
void bus_log_free (BusLog * log);

/* Whether @st is named @name and, when @field is set, has @field =
 * @value ("true"/"false" for the boolean is_final) */
gboolean bus_log_matches (const GstStructure * st, const gchar * name,
    const gchar * field, const gchar * value);
/* Index of the first message from @from on that matches, waiting up to
 * @timeout_ms; -1 if none. An ERROR fails the test unless @name is
 * "error". */
gint bus_log_wait (BusLog * log, guint from, const gchar * name,
    const gchar * field, const gchar * value, guint timeout_ms);
/* Message @i (valid until the log is freed), NULL if none */
const GstStructure *bus_log_get (BusLog * log, gint i);
guint bus_log_count (BusLog * log, const gchar * name, const gchar * field,
    const gchar * value);
guint bus_log_length (BusLog * log);
/* The first turn's messages: the user speaks then listens, the agent
 * thinks then speaks, in that order, and one bidi_turn_latency whose
 * moments are those of the state messages, in order. Returns the latency
 * message. */
const GstStructure *bus_log_assert_turn (BusLog * log);

G_END_DECLS

#endif /* __BUS_LOG_H__ */
