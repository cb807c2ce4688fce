/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_WS_H__
#define __GST_BIDI_WS_H__

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "gstbiditransport.h"

G_BEGIN_DECLS

/* The WebSocket transport (see gstbiditransport.h): one JSON object per
 * text frame in both directions.
 *
 * The connection is asynchronous (soup_session_websocket_connect_async),
 * bounded by a timeout; the incoming message size is bounded (libsoup's
 * 128 KiB frame limit is raised to the configured maximum); keepalive
 * pings keep the connection alive (and, with libsoup 3.6 or later, find a
 * dead peer by their missing pongs); get_send_state looks at the TCP
 * socket for what the peer has not taken. Refused upgrades report their
 * HTTP status; frames closing the connection report their WebSocket close
 * code. */

/* A GstBidiTransportConnectFunc. Returns NULL with @error
 * (GST_RESOURCE_ERROR_SETTINGS) for a bad URL (ws:// or wss://, plain
 * ws:// for loopback hosts only). */
GstBidiTransport *gst_bidi_ws_connect (const GstBidiTransportOptions *
    options, const GstBidiTransportCallbacks * callbacks, gpointer user_data,
    GError ** error);

G_END_DECLS

#endif /* __GST_BIDI_WS_H__ */
