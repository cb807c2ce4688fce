/* gst-bidi: libFuzzer target for the Gemini Live provider's handling of
 * what the server sends (see fuzzprovider.h for the input's form)
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "fuzzcommon.h"

#include "gstbidigemini.h"
#include "fuzzprovider.h"

/* every client message holds exactly one of the protocol's fields */
static void
bidi_fuzz_check_sent (JsonObject * object)
{
  const gchar *const fields[] = { "setup", "clientContent", "realtimeInput",
    "toolResponse", "contextUpdate", NULL
  };
  guint i, n = 0;

  for (i = 0; fields[i]; i++)
    n += json_object_has_member (object, fields[i]);
  BIDI_FUZZ_ASSERT (n == 1 && json_object_get_size (object) == 1);
}

int
LLVMFuzzerInitialize (G_GNUC_UNUSED int *argc, G_GNUC_UNUSED char ***argv)
{
  bidi_fuzz_provider_init (GST_TYPE_BIDI_GEMINI_PROVIDER,
      "wss://127.0.0.1:9/ws/gemini");
  return 0;
}
