/* gst-bidi: reading the JSON that clients send to the mock servers, in
 * tests
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __TEST_JSON_H__
#define __TEST_JSON_H__

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* @text parsed (json_node_unref); fails the test when it is not JSON */
JsonNode *parse_json (const gchar * text);

/* @text (taken), a client message a mock server got, parsed
 * (json_node_unref); fails the test when it is NULL (the wait for @what
 * number @index on connection @conn timed out) or not JSON */
JsonNode *parse_waited (gchar * text, const gchar * what, guint index,
    guint conn);
/* Fails the test when @violations or @failures (taken) is not empty: what
 * a mock server found wrong in the client's messages, its script's
 * failures */
void assert_mock_clean_lists (gchar * violations, gchar * failures);

/* The member at @path ("a.b.c") of @obj, or NULL */
JsonNode *jget (JsonObject * obj, const gchar * path);
gboolean jhas (JsonObject * obj, const gchar * path);
gboolean jnull (JsonObject * obj, const gchar * path);
/* NULL when absent or not a string */
const gchar *jstr (JsonObject * obj, const gchar * path);
/* These fail the test when the member is absent or of another type */
gint64 jint (JsonObject * obj, const gchar * path);
gdouble jdouble (JsonObject * obj, const gchar * path);
gboolean jbool (JsonObject * obj, const gchar * path);
JsonObject *jobj (JsonObject * obj, const gchar * path);
/* The strings of the array at @path, joined with "," (g_free) */
gchar *jstrings (JsonObject * obj, const gchar * path);

G_END_DECLS

#endif /* __TEST_JSON_H__ */
