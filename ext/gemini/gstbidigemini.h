/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_GEMINI_H__
#define __GST_BIDI_GEMINI_H__

#include "gstbidirealtimeprovider.h"

G_BEGIN_DECLS

/* The "gemini" provider: Gemini Live (BidiGenerateContent) over WebSocket,
 * a GstBidiRealtimeProvider. */
#define GST_TYPE_BIDI_GEMINI_PROVIDER (gst_bidi_gemini_provider_get_type ())
G_DECLARE_FINAL_TYPE (GstBidiGeminiProvider, gst_bidi_gemini_provider, GST,
    BIDI_GEMINI_PROVIDER, GstBidiRealtimeProvider);

G_END_DECLS

#endif /* __GST_BIDI_GEMINI_H__ */
