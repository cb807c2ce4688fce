/* gst-bidi: libFuzzer target for the tools (gstbiditools.c): the element's
 * `tools` property and the input of a built-in tool call (the model's)
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "fuzzcommon.h"

#include <gst/bidi/gstbidijson.h>
#include <gst/bidi/gstbiditools.h>

/* gst_bidi_tools_parse has no depth limit of its own yet (a separate fix):
 * a deep enough array overflows the stack, so the input stays below what
 * nests that deep. */
#define MAX_TOOLS_INPUT (64 * 1024)

int
LLVMFuzzerInitialize (G_GNUC_UNUSED int *argc, G_GNUC_UNUSED char ***argv)
{
  bidi_fuzz_init ();
  return 0;
}

/* What the provider gets: each spec has a valid name and an object schema */
static void
check_specs (GPtrArray * specs)
{
  guint i;

  for (i = 0; i < specs->len; i++) {
    GstBidiToolSpec *spec = g_ptr_array_index (specs, i);

    BIDI_FUZZ_ASSERT (spec->name && *spec->name && strlen (spec->name) <= 64);
    BIDI_FUZZ_ASSERT (spec->description != NULL);
    BIDI_FUZZ_ASSERT (spec->parameters && spec->parameters[0] == '{');
  }
}

static void
merge (const gchar * json)
{
  static const gchar *const builtins[] = { GST_BIDI_TOOL_CURRENT_TIME,
    GST_BIDI_TOOL_CALCULATOR, GST_BIDI_TOOL_STOP_CONVERSATION, NULL
  };
  gchar *tools_json = NULL, **app_names = NULL;
  GError *err = NULL;

  if (gst_bidi_tools_merge (builtins, json, &tools_json, &app_names, &err)) {
    GPtrArray *all;

    /* what was merged is a tools list the providers read back */
    all = gst_bidi_tools_parse (tools_json, NULL);
    BIDI_FUZZ_ASSERT (all != NULL);
    g_ptr_array_unref (all);
    g_free (tools_json);
    g_strfreev (app_names);
  } else {
    BIDI_FUZZ_ASSERT (err != NULL);
    g_error_free (err);
  }
}

/* The model's arguments to each built-in tool */
static void
run_builtins (const gchar * json)
{
  static const gchar *const names[] = { GST_BIDI_TOOL_CURRENT_TIME,
    GST_BIDI_TOOL_CALCULATOR, GST_BIDI_TOOL_STOP_CONVERSATION,
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    gchar *result = NULL;

    (void) gst_bidi_builtin_tool_run (names[i], json, &result);
    BIDI_FUZZ_ASSERT (result != NULL);
    g_free (result);
  }
}

/* A failed call's result: always a JSON object with an "error" member */
static void
error_result (const gchar * json)
{
  gchar *out = gst_bidi_tool_error_result (json);
  JsonNode *node = gst_bidi_json_parse (out, NULL);

  BIDI_FUZZ_ASSERT (node && JSON_NODE_HOLDS_OBJECT (node) &&
      json_object_has_member (json_node_get_object (node), "error"));
  json_node_unref (node);
  g_free (out);
}

static int
bidi_fuzz_one (const uint8_t * data, size_t size)
{
  GPtrArray *specs;
  GError *err = NULL;
  gchar *json;

  if (size > MAX_TOOLS_INPUT)
    return 0;
  json = bidi_fuzz_string (data, size);
  specs = gst_bidi_tools_parse (json, &err);
  if (specs) {
    check_specs (specs);
    g_ptr_array_unref (specs);
  } else {
    BIDI_FUZZ_ASSERT (err != NULL);
    g_clear_error (&err);
  }
  merge (json);
  run_builtins (json);
  error_result (json);
  g_free (json);
  return 0;
}
