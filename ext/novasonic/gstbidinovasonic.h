/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_NOVA_SONIC_H__
#define __GST_BIDI_NOVA_SONIC_H__

#include "gstbidirealtimeprovider.h"

G_BEGIN_DECLS

/* The "nova-sonic" provider: Amazon Bedrock Nova Sonic
 * (InvokeModelWithBidirectionalStream over HTTP/2, SigV4), a
 * GstBidiRealtimeProvider. */
#define GST_TYPE_BIDI_NOVA_SONIC (gst_bidi_nova_sonic_get_type ())
G_DECLARE_FINAL_TYPE (GstBidiNovaSonic, gst_bidi_nova_sonic, GST,
    BIDI_NOVA_SONIC, GstBidiRealtimeProvider);

G_END_DECLS

#endif /* __GST_BIDI_NOVA_SONIC_H__ */
