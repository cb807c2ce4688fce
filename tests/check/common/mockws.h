/* gst-bidi: what the mock WebSocket servers of the tests share: checking
 * client JSON against a protocol, and their lists of problems
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MOCK_WS_H__
#define __MOCK_WS_H__

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The check of one client frame: its problems are collected as lines
 * "connection C, frame F (WHAT): problem" */
typedef struct
{
  guint conn;                   /* the connection's number */
  guint frame_no;
  const gchar *what;            /* the message's type, NULL when unknown */
  GPtrArray *problems;          /* gchar *, owned by the caller */
} MockWsCheck;

void mock_ws_problem (MockWsCheck * c, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);

/* "an object", "a string", ...: for the problem lines */
const gchar *mock_ws_json_kind (JsonNode * node);
gboolean mock_ws_is_string (JsonNode * node);
gboolean mock_ws_is_int (JsonNode * node);
gboolean mock_ws_is_number (JsonNode * node);
gboolean mock_ws_is_bool (JsonNode * node);
gboolean mock_ws_is_object (JsonNode * node);
gboolean mock_ws_is_array (JsonNode * node);
gboolean mock_ws_in_list (const gchar * s, const gchar * const *list);

/* Member @name of @obj (at @where, a prefix such as "session.") when
 * present and of the kind @is_kind checks (named @kind); a problem when it
 * is missing but @required, or of another kind */
JsonNode *mock_ws_member (MockWsCheck * c, JsonObject * obj,
    const gchar * where, const gchar * name, gboolean required,
    gboolean (*is_kind) (JsonNode *), const gchar * kind);
const gchar *mock_ws_string_member (MockWsCheck * c, JsonObject * obj,
    const gchar * where, const gchar * name, gboolean required);
JsonObject *mock_ws_object_member (MockWsCheck * c, JsonObject * obj,
    const gchar * where, const gchar * name, gboolean required);
JsonArray *mock_ws_array_member (MockWsCheck * c, JsonObject * obj,
    const gchar * where, const gchar * name, gboolean required);
JsonNode *mock_ws_bool_member (MockWsCheck * c, JsonObject * obj,
    const gchar * where, const gchar * name, gboolean required);
/* An integer >= @min, stored in @value (may be NULL); FALSE when absent or
 * wrong */
gboolean mock_ws_int_member (MockWsCheck * c, JsonObject * obj,
    const gchar * where, const gchar * name, gboolean required, gint64 min,
    gint64 * value);
/* A number in [@min, @max], when present */
void mock_ws_number_member (MockWsCheck * c, JsonObject * obj,
    const gchar * where, const gchar * name, gdouble min, gdouble max);
/* A string among @values; NULL when absent or not */
const gchar *mock_ws_enum_member (MockWsCheck * c, JsonObject * obj,
    const gchar * where, const gchar * name, gboolean required,
    const gchar * const *values);

/* Strict base64 (RFC 4648 alphabet, padded); appended to @out */
gboolean mock_ws_decode_base64 (const gchar * s, GByteArray * out);
/* @json as a JSON object, or NULL and @err */
JsonObject *mock_ws_parse_object (const gchar * json, GError ** err);

/* @lines (gchar *, guarded by @lock) each ended by a newline, and how
 * many there are */
gchar *mock_ws_join_lines (GMutex * lock, GPtrArray * lines);
guint mock_ws_count_lines (GMutex * lock, GPtrArray * lines);

/* Short names for the checks above, for a protocol's check struct @c
 * whose member "ws" is its MockWsCheck: define MOCK_WS_SHORTHANDS before
 * including this header */
#ifdef MOCK_WS_SHORTHANDS
#define problem(c, ...) mock_ws_problem (&(c)->ws, __VA_ARGS__)
#define member(c, ...) mock_ws_member (&(c)->ws, __VA_ARGS__)
#define string_member(c, ...) mock_ws_string_member (&(c)->ws, __VA_ARGS__)
#define object_member(c, ...) mock_ws_object_member (&(c)->ws, __VA_ARGS__)
#define array_member(c, ...) mock_ws_array_member (&(c)->ws, __VA_ARGS__)
#define bool_member(c, ...) mock_ws_bool_member (&(c)->ws, __VA_ARGS__)
#define int_member(c, ...) mock_ws_int_member (&(c)->ws, __VA_ARGS__)
#define number_member(c, ...) mock_ws_number_member (&(c)->ws, __VA_ARGS__)
#define enum_member(c, ...) mock_ws_enum_member (&(c)->ws, __VA_ARGS__)
#define json_kind mock_ws_json_kind
#define is_string mock_ws_is_string
#define is_int mock_ws_is_int
#define is_array mock_ws_is_array
#define in_list mock_ws_in_list
#endif

G_END_DECLS

#endif /* __MOCK_WS_H__ */
