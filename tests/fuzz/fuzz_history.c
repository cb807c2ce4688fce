/* gst-bidi: libFuzzer target for the conversation history
 * (gstbidihistory.c): the element's `messages` property
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "fuzzcommon.h"

#include <gst/bidi/gstbidihistory.h>
#include <json-glib/json-glib.h>

int
LLVMFuzzerInitialize (G_GNUC_UNUSED int *argc, G_GNUC_UNUSED char ***argv)
{
  bidi_fuzz_init ();
  return 0;
}

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

/* The `messages` property */
static void
parse_messages (const gchar * json)
{
  GstBidiHistory *history = gst_bidi_history_new ();
  GPtrArray *messages;
  GError *err = NULL;
  guint i;

  messages = gst_bidi_history_parse (json, &err);
  if (messages) {
    for (i = 0; i < messages->len; i++)
      g_free (gst_bidi_message_text (g_ptr_array_index (messages, i)));
    g_ptr_array_unref (messages);
  } else {
    BIDI_FUZZ_ASSERT (err != NULL);
    g_clear_error (&err);
  }

  if (gst_bidi_history_set_messages (history, json, &err)) {
    BIDI_FUZZ_ASSERT (messages != NULL);
    check_round_trip (history);
  } else {
    BIDI_FUZZ_ASSERT (messages == NULL && err != NULL);
    g_clear_error (&err);
  }
  gst_bidi_history_free (history);
}

static int
bidi_fuzz_one (const uint8_t * data, size_t size)
{
  gchar *json = bidi_fuzz_string (data, size);

  parse_messages (json);
  g_free (json);
  return 0;
}
