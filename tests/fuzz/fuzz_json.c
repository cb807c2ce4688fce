/* gst-bidi: libFuzzer target for the strict JSON helpers of gstbidijson.c
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "fuzzcommon.h"

#include <gst/bidi/gstbidijson.h>

#define MAX_SIZE (1024 * 1024)
#define MAX_DEPTH 64

int
LLVMFuzzerInitialize (G_GNUC_UNUSED int *argc, G_GNUC_UNUSED char ***argv)
{
  bidi_fuzz_init ();
  return 0;
}

/* The getters on what a server or an application sent */
static void
read_members (JsonObject * obj)
{
  static const gchar *const names[] = { "type", "error", "message", "code",
    "event_id", "item", "delta", "audio", "id", "",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    const gchar *s = gst_bidi_json_get_string (obj, names[i]);
    JsonObject *o = gst_bidi_json_get_object (obj, names[i]);

    if (s)
      BIDI_FUZZ_ASSERT (g_utf8_validate (s, -1, NULL));
    if (o)
      read_members (o);
    (void) gst_bidi_json_get_int (obj, names[i], -1);
  }
  (void) gst_bidi_json_error_message (obj);
}

static int
bidi_fuzz_one (const uint8_t * data, size_t size)
{
  const gchar *text = (const gchar *) data;
  JsonNode *node;
  JsonObject *obj;

  /* any value: the caller gives the length (no NUL needed) */
  node = gst_bidi_json_parse_strict (text, size, MAX_DEPTH, NULL);
  if (node) {
    /* what was taken goes out again as JSON that reads back the same */
    gchar *again = gst_bidi_json_to_string (node);
    JsonNode *node2 = gst_bidi_json_parse_strict (again, strlen (again),
        MAX_DEPTH + 1, NULL);

    if (!node2 || !json_node_equal (node, node2)) {
      g_printerr ("written as %s\n", again);
      abort ();
    }
    json_node_unref (node2);
    g_free (again);
    json_node_unref (node);
  }

  /* one object, bounded, as the transports read messages */
  obj = gst_bidi_json_parse_object (text, size, MAX_SIZE, MAX_DEPTH, NULL);
  if (obj) {
    read_members (obj);
    json_object_unref (obj);
  }
  /* a small size and depth limit, hit by most inputs */
  obj = gst_bidi_json_parse_object (text, size, 64, 2, NULL);
  if (obj)
    json_object_unref (obj);
  return 0;
}
