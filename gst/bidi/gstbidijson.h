/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_JSON_H__
#define __GST_BIDI_JSON_H__

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "bidi-prelude.h"

G_BEGIN_DECLS

/* Untrusted text: what applications, WebSocket clients, files and servers
 * send. Everything here bounds sizes and nesting before json-glib sees the
 * text, and reports in the GST_STREAM_ERROR_DECODE domain with a message
 * that says what is wrong and where (no prefix: callers add one). */

/* Parses @text strictly (RFC 8259: no comments, no single quotes, integers
 * that fit, valid UTF-8, one value) with at most @max_depth levels of
 * nesting and 16 MiB. (transfer full), or NULL with @error. */
GST_BIDI_API
JsonNode *gst_bidi_json_parse_strict (const gchar * text, gsize len,
    guint max_depth, GError ** error);

/* The nesting JSON from outside may have wherever no tighter limit is
 * given: tools and their inputs, tool results, what a model sends. Deeper
 * text is refused before json-glib, whose recursion it would overflow. */
#define GST_BIDI_JSON_MAX_DEPTH 64

/* gst_bidi_json_parse_strict() of NUL-terminated @text (NULL or "" is an
 * error) with GST_BIDI_JSON_MAX_DEPTH */
GST_BIDI_API
JsonNode *gst_bidi_json_parse (const gchar * text, GError ** error);

/* One JSON object of at most @max_size bytes and @max_depth levels, as a
 * server message must be: (transfer full), or NULL with @error ("malformed
 * JSON: ...", or a message that is too large or not an object). */
GST_BIDI_API
JsonObject *gst_bidi_json_parse_object (const gchar * data, gsize len,
    gsize max_size, guint max_depth, GError ** error);

/* A string member, NULL when absent, null or not a string. */
GST_BIDI_API
const gchar *gst_bidi_json_get_string (JsonObject * obj, const gchar * name);

/* An object member, NULL when absent or not an object. */
GST_BIDI_API
JsonObject *gst_bidi_json_get_object (JsonObject * obj, const gchar * name);

/* An integer member (a JSON number without fraction), @def when absent or
 * of another type. */
GST_BIDI_API
gint64 gst_bidi_json_get_int (JsonObject * obj, const gchar * name,
    gint64 def);

/* A boolean member, @def when absent or of another type (a server's 1 or
 * "true" is not taken for TRUE) */
GST_BIDI_API
gboolean gst_bidi_json_get_boolean (JsonObject * obj, const gchar * name,
    gboolean def);

/* The message of an error object as servers send them: {"error":
 * {"message": ...}}, {"error": "..."}, {"message": ...} or {"detail":
 * ...}. NULL when there is none. Not scrubbed, not shortened. */
GST_BIDI_API
const gchar *gst_bidi_json_error_message (JsonObject * root);

/* @node as compact JSON text (transfer full), as json_to_string() writes
 * it, repaired as by gst_bidi_json_fix_generated(). Use it for whatever
 * JSON goes out of gst-bidi with numbers or strings from outside. */
GST_BIDI_API
gchar *gst_bidi_json_to_string (JsonNode * node);

/* Repairs text json-glib 1.6 wrote (@json, taken) into valid JSON, which
 * it returns (transfer full): a double whose shortest form has an exponent
 * and no point (7e+51, 1e-05) comes with ".0" appended ("7e+51.0"), which
 * is dropped; U+001F in a string comes unescaped, and is escaped. */
GST_BIDI_API
gchar *gst_bidi_json_fix_generated (gchar * json);

/* Strict base64 (RFC 4648 alphabet, padding, no whitespace) of @len bytes
 * (-1: NUL-terminated). The decoded size must be at most @max_size and a
 * whole number of @frame_size bytes (audio frames; 1 for any size).
 * Returns the bytes, or NULL with @error. */
GST_BIDI_API
GBytes *gst_bidi_base64_decode (const gchar * text, gssize len,
    gsize frame_size, gsize max_size, GError ** error);

G_END_DECLS

#endif /* __GST_BIDI_JSON_H__ */
