/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_LOCAL_H__
#define __GST_BIDI_LOCAL_H__

#include <gst/bidi/gstbidiprovider.h>

G_BEGIN_DECLS

/* The "local" provider: offline voice agent (VAD, pocketsphinx, a built-in
 * or LLM responder, flite). */
#define GST_TYPE_BIDI_LOCAL_PROVIDER (gst_bidi_local_provider_get_type ())
G_DECLARE_FINAL_TYPE (GstBidiLocalProvider, gst_bidi_local_provider, GST,
    BIDI_LOCAL_PROVIDER, GstBidiProvider);

G_END_DECLS

#endif
