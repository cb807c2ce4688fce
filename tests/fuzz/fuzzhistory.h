/* gst-bidi fuzzing: the history round trip both history targets check
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __BIDI_FUZZ_HISTORY_H__
#define __BIDI_FUZZ_HISTORY_H__

#include <stdlib.h>
#include <json-glib/json-glib.h>
#include <gst/bidi/gstbidihistory.h>

#include "fuzzcommon.h"

/* The same JSON value (the history may keep a block as the text it was
 * given, so escapes may differ) */
static gboolean
same_json (const gchar * a, const gchar * b)
{
  JsonNode *na = json_from_string (a, NULL), *nb = json_from_string (b, NULL);
  gboolean same = na && nb && json_node_equal (na, nb);

  g_clear_pointer (&na, json_node_unref);
  g_clear_pointer (&nb, json_node_unref);
  return same;
}

/* A history that took messages writes them out as JSON it takes back */
static void
check_round_trip (GstBidiHistory * history)
{
  GstBidiHistory *again = gst_bidi_history_new ();
  gchar *json = gst_bidi_history_to_json (history), *json2;

  BIDI_FUZZ_ASSERT (json != NULL);
  BIDI_FUZZ_ASSERT (gst_bidi_history_set_messages (again, json, NULL));
  BIDI_FUZZ_ASSERT (gst_bidi_history_length (again) ==
      gst_bidi_history_length (history));
  json2 = gst_bidi_history_to_json (again);
  if (!same_json (json, json2)) {
    g_printerr ("%s\nbecame\n%s\n", json, json2);
    abort ();
  }
  g_free (json2);
  g_free (json);
  gst_bidi_history_free (again);
}

#endif /* __BIDI_FUZZ_HISTORY_H__ */
