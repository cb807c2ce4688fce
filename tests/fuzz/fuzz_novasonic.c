/* gst-bidi: libFuzzer target for the Nova Sonic provider's handling of
 * what the server sends, one Nova event per line (see fuzzprovider.h for
 * the input's form; {"exception": ...} lines are the transport's form of
 * a server exception)
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "fuzzcommon.h"

#include "gstbidinovasonic.h"
#include "fuzzprovider.h"

/* every client message is {"event": {NAME: {...}}} with one of the
 * protocol's input events */
static void
bidi_fuzz_check_sent (JsonObject * object)
{
  const gchar *const names[] = { "sessionStart", "promptStart",
    "contentStart", "textInput", "audioInput", "toolResult", "contentEnd",
    "promptEnd", "sessionEnd", NULL
  };
  JsonObject *ev = gst_bidi_json_get_object (object, "event");
  GList *members;

  BIDI_FUZZ_ASSERT (ev && json_object_get_size (object) == 1 &&
      json_object_get_size (ev) == 1);
  members = json_object_get_members (ev);
  BIDI_FUZZ_ASSERT (g_strv_contains (names, members->data));
  BIDI_FUZZ_ASSERT (gst_bidi_json_get_object (ev, members->data) != NULL);
  g_list_free (members);
}

int
LLVMFuzzerInitialize (G_GNUC_UNUSED int *argc, G_GNUC_UNUSED char ***argv)
{
  /* fake credentials: the provider reads no file and signs nothing here */
  g_setenv ("AWS_ACCESS_KEY_ID", "AKIDFUZZ", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "fuzz-secret", TRUE);
  g_setenv ("AWS_REGION", "us-east-1", TRUE);
  bidi_fuzz_provider_init (GST_TYPE_BIDI_NOVA_SONIC, "https://127.0.0.1:9");
  return 0;
}
