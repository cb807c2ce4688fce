/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstbidiagent.h"
#include "gstbidiprovider.h"

#ifdef HAVE_PROVIDER_LOCAL
#include "../../ext/local/gstbidilocal.h"
#endif
#ifdef HAVE_PROVIDER_OPENAI
#include "../../ext/openai/gstbidiopenai.h"
#endif

/* Providers compiled in register here, one line each. */
static void
register_providers (void)
{
#ifdef HAVE_PROVIDER_LOCAL
  gst_bidi_provider_register ("local", GST_TYPE_BIDI_LOCAL_PROVIDER);
#endif
#ifdef HAVE_PROVIDER_OPENAI
  gst_bidi_provider_register ("openai", GST_TYPE_BIDI_OPENAI_PROVIDER);
#endif
}

static gboolean
plugin_init (GstPlugin * plugin)
{
  register_providers ();
  return GST_ELEMENT_REGISTER (bidiagent, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, bidiagent,
    "Realtime speech-to-speech agents (OpenAI Realtime, Gemini Live, "
    "Nova Sonic, offline)", plugin_init, VERSION, GST_LICENSE,
    GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
