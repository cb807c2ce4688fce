/* gst-bidi: libFuzzer target for the OpenAI Realtime provider's handling
 * of what the server sends (see fuzzprovider.h for the input's form)
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "fuzzcommon.h"

#include "gstbidiopenai.h"
#include "fuzzprovider.h"

/* every client event the provider sends has its type */
static void
bidi_fuzz_check_sent (JsonObject * object)
{
  BIDI_FUZZ_ASSERT (gst_bidi_json_get_string (object, "type") != NULL);
}

int
LLVMFuzzerInitialize (G_GNUC_UNUSED int *argc, G_GNUC_UNUSED char ***argv)
{
  bidi_fuzz_provider_init (GST_TYPE_BIDI_OPENAI_PROVIDER,
      "wss://127.0.0.1:9/v1/realtime");
  return 0;
}
