/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_NOVA_TRANSPORT_H__
#define __GST_BIDI_NOVA_TRANSPORT_H__

#include "gstbiditransport.h"
#include "gstbidiawscreds.h"

G_BEGIN_DECLS

/* Bedrock's InvokeModelWithBidirectionalStream as a GstBidiTransport
 * (gstbiditransport.h): one JSON object (a Nova event) per message in both
 * directions (nova-sonic.md §2-§6).
 *
 * Out: each object is written as JSON, wrapped in a Bedrock chunk, signed
 * in the SigV4 event chain and written to the body of one HTTP/2 POST
 * (gstbidih2.h) whose headers are signed with SigV4 (§3, §16: the headers
 * sent, :authority included). close() writes the signed empty frame and
 * ends the body, then cancels the stream.
 *
 * In: the response body is decoded as event-stream messages; each chunk's
 * event reaches the message callback. A server exception
 * (`:message-type` exception or error) reaches the message callback as
 *   {"exception": {"type": "<:exception-type or :error-code>",
 *                  "message": "<its message, scrubbed>"}}
 * and the closed callback follows when the server ends the stream. A
 * refused request (HTTP status other than 200) is closed with its status
 * and the body's "message" (401 and 403: not_authorized). Unknown event
 * types are ignored; a malformed frame is a bad_message, and a frame that
 * breaks the framing itself (bad CRC, impossible length) ends the stream:
 * the decoder cannot find the next boundary.
 *
 * @options->url is the request's whole https:// URL, its path as sent
 * (the model id encoded once); @options->transport_data is the const
 * GstBidiAwsCredentials * to sign with (region included). The secret key
 * and session token never reach a callback, a log or an error. */
GstBidiTransport *gst_bidi_nova_transport_connect (const
    GstBidiTransportOptions * options,
    const GstBidiTransportCallbacks * callbacks, gpointer user_data,
    GError ** error);

G_END_DECLS

#endif /* __GST_BIDI_NOVA_TRANSPORT_H__ */
