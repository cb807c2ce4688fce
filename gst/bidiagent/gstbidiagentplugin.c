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
#include "gstbidiproviders.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gst_bidi_agent_register_providers ();
  return GST_ELEMENT_REGISTER (bidiagent, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, bidiagent,
    "Realtime speech-to-speech agents, one provider per folder of ext/",
    plugin_init, VERSION, GST_LICENSE,
    GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
