/* gst-bidi: libFuzzer target for the unified events (gstbidievents.c):
 * JSON -> structure (what WebSocket clients and the application send) and
 * structure -> JSON (what the element and providers emit)
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "fuzzcommon.h"

#include <gst/bidi/gstbidievents.h>

int
LLVMFuzzerInitialize (G_GNUC_UNUSED int *argc, G_GNUC_UNUSED char ***argv)
{
  bidi_fuzz_init ();
  return 0;
}

/* A valid event goes to JSON and back: the JSON of what came back is the
 * same text, so nothing was lost or changed on the way */
static void
round_trip (const GstStructure * event)
{
  GError *err = NULL;
  GstStructure *again;
  gchar *json, *json2;

  BIDI_FUZZ_ASSERT (gst_bidi_event_validate (event, NULL));
  json = gst_bidi_event_to_json (event);
  BIDI_FUZZ_ASSERT (json != NULL);
  again = gst_bidi_event_from_json (json, -1, &err);
  if (!again) {
    g_printerr ("%s\nwas refused: %s\n", json, err->message);
    abort ();
  }
  json2 = gst_bidi_event_to_json (again);
  if (strcmp (json, json2) != 0) {
    g_printerr ("%s\nbecame\n%s\n", json, json2);
    abort ();
  }
  g_free (json2);
  gst_structure_free (again);
  g_free (json);
}

static int
bidi_fuzz_one (const uint8_t * data, size_t size)
{
  GError *err = NULL;
  GstStructure *event;
  gchar *str;

  /* JSON face: length given, then NUL-terminated */
  event = gst_bidi_event_from_json ((const gchar *) data, size, &err);
  if (event) {
    BIDI_FUZZ_ASSERT (err == NULL);
    BIDI_FUZZ_ASSERT (gst_bidi_event_is_known (gst_structure_get_name
            (event)));
    round_trip (event);
    gst_structure_free (event);
  } else {
    BIDI_FUZZ_ASSERT (err != NULL && err->message != NULL);
    g_clear_error (&err);
  }

  str = bidi_fuzz_string (data, size);
  event = gst_bidi_event_from_json (str, -1, NULL);
  if (event)
    gst_structure_free (event);

  /* structure face: whatever an application may post or emit */
  event = bidi_fuzz_structure_from_string (str);
  if (event) {
    if (gst_bidi_event_validate (event, &err))
      round_trip (event);
    else
      g_clear_error (&err);
    gst_structure_free (event);
  }
  g_free (str);
  return 0;
}
