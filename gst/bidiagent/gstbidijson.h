/* gst-bidi: JSON helpers shared inside libgstbidi (not installed)
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_JSON_H__
#define __GST_BIDI_JSON_H__

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Parses untrusted JSON text strictly (RFC 8259: no comments, no single
 * quotes, integers that fit, valid UTF-8, one value) with at most
 * @max_depth levels of nesting and 16 MiB. (transfer full), or NULL and a
 * GST_STREAM_ERROR_DECODE error whose message says what is wrong. */
G_GNUC_INTERNAL
JsonNode *gst_bidi_json_parse_strict (const gchar * text, gsize len,
    guint max_depth, GError ** error);

G_END_DECLS

#endif /* __GST_BIDI_JSON_H__ */
