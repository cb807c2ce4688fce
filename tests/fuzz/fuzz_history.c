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
#include "fuzzhistory.h"

#include <gst/bidi/gstbidihistory.h>
#include <json-glib/json-glib.h>

int
LLVMFuzzerInitialize (G_GNUC_UNUSED int *argc, G_GNUC_UNUSED char ***argv)
{
  bidi_fuzz_init ();
  return 0;
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
