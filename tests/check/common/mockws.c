/* gst-bidi: what the mock WebSocket servers of the tests share
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

#include <string.h>

#include "mockws.h"

void
mock_ws_problem (MockWsCheck * c, const gchar * format, ...)
{
  va_list args;
  gchar *what;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (c->problems, g_strdup_printf ("connection %u, frame %u "
          "(%s): %s", c->conn, c->frame_no, c->what ? c->what : "-", what));
  g_free (what);
}

const gchar *
mock_ws_json_kind (JsonNode * node)
{
  GType t;

  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT:
      return "an object";
    case JSON_NODE_ARRAY:
      return "an array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
      t = json_node_get_value_type (node);
      if (t == G_TYPE_STRING)
        return "a string";
      if (t == G_TYPE_BOOLEAN)
        return "a boolean";
      if (t == G_TYPE_INT64)
        return "an integer";
      return "a number";
  }
  return "?";
}

gboolean
mock_ws_is_string (JsonNode * node)
{
  return JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING;
}

gboolean
mock_ws_is_int (JsonNode * node)
{
  return JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_INT64;
}

gboolean
mock_ws_is_number (JsonNode * node)
{
  return JSON_NODE_HOLDS_VALUE (node) &&
      (json_node_get_value_type (node) == G_TYPE_INT64 ||
      json_node_get_value_type (node) == G_TYPE_DOUBLE);
}

gboolean
mock_ws_is_bool (JsonNode * node)
{
  return JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_BOOLEAN;
}

gboolean
mock_ws_is_object (JsonNode * node)
{
  return JSON_NODE_HOLDS_OBJECT (node);
}

gboolean
mock_ws_is_array (JsonNode * node)
{
  return JSON_NODE_HOLDS_ARRAY (node);
}

gboolean
mock_ws_in_list (const gchar * s, const gchar * const *list)
{
  return s && g_strv_contains (list, s);
}

JsonNode *
mock_ws_member (MockWsCheck * c, JsonObject * obj, const gchar * where,
    const gchar * name, gboolean required, gboolean (*is_kind) (JsonNode *),
    const gchar * kind)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (!node) {
    if (required)
      mock_ws_problem (c, "%s%s is missing", where, name);
    return NULL;
  }
  if (is_kind && !is_kind (node)) {
    mock_ws_problem (c, "%s%s must be %s, not %s", where, name, kind,
        mock_ws_json_kind (node));
    return NULL;
  }
  return node;
}

const gchar *
mock_ws_string_member (MockWsCheck * c, JsonObject * obj,
    const gchar * where, const gchar * name, gboolean required)
{
  JsonNode *node = mock_ws_member (c, obj, where, name, required,
      mock_ws_is_string, "a string");

  return node ? json_node_get_string (node) : NULL;
}

JsonObject *
mock_ws_object_member (MockWsCheck * c, JsonObject * obj,
    const gchar * where, const gchar * name, gboolean required)
{
  JsonNode *node = mock_ws_member (c, obj, where, name, required,
      mock_ws_is_object, "an object");

  return node ? json_node_get_object (node) : NULL;
}

JsonArray *
mock_ws_array_member (MockWsCheck * c, JsonObject * obj, const gchar * where,
    const gchar * name, gboolean required)
{
  JsonNode *node = mock_ws_member (c, obj, where, name, required,
      mock_ws_is_array, "an array");

  return node ? json_node_get_array (node) : NULL;
}

JsonNode *
mock_ws_bool_member (MockWsCheck * c, JsonObject * obj, const gchar * where,
    const gchar * name, gboolean required)
{
  return mock_ws_member (c, obj, where, name, required, mock_ws_is_bool,
      "a boolean");
}

gboolean
mock_ws_int_member (MockWsCheck * c, JsonObject * obj, const gchar * where,
    const gchar * name, gboolean required, gint64 min, gint64 * value)
{
  JsonNode *node = mock_ws_member (c, obj, where, name, required,
      mock_ws_is_int, "an integer");
  gint64 v;

  if (!node)
    return FALSE;
  v = json_node_get_int (node);
  if (value)
    *value = v;
  if (v < min) {
    mock_ws_problem (c, "%s%s must be >= %" G_GINT64_FORMAT ", not %"
        G_GINT64_FORMAT, where, name, min, v);
    return FALSE;
  }
  return TRUE;
}

void
mock_ws_number_member (MockWsCheck * c, JsonObject * obj,
    const gchar * where, const gchar * name, gdouble min, gdouble max)
{
  JsonNode *node = mock_ws_member (c, obj, where, name, FALSE,
      mock_ws_is_number, "a number");
  gdouble v;

  if (!node)
    return;
  v = json_node_get_double (node);
  if (v < min || v > max)
    mock_ws_problem (c, "%s%s must be in [%g, %g], not %g", where, name, min,
        max, v);
}

const gchar *
mock_ws_enum_member (MockWsCheck * c, JsonObject * obj, const gchar * where,
    const gchar * name, gboolean required, const gchar * const *values)
{
  const gchar *s = mock_ws_string_member (c, obj, where, name, required);

  if (s && !mock_ws_in_list (s, values)) {
    gchar *all = g_strjoinv ("\", \"", (gchar **) values);
    mock_ws_problem (c, "%s%s is \"%s\", not one of \"%s\"", where, name, s,
        all);
    g_free (all);
    return NULL;
  }
  return s;
}

gboolean
mock_ws_decode_base64 (const gchar * s, GByteArray * out)
{
  gsize len = strlen (s), i, pad = 0;
  guchar *data;
  gsize n;

  if (len % 4 != 0)
    return FALSE;
  for (i = 0; i < len; i++) {
    gchar ch = s[i];
    if (ch == '=') {
      if (i < len - 2)
        return FALSE;
      pad++;
    } else if (pad > 0) {
      return FALSE;
    } else if (!g_ascii_isalnum (ch) && ch != '+' && ch != '/') {
      return FALSE;
    }
  }
  if (len == 0)
    return TRUE;
  data = g_base64_decode (s, &n);
  g_byte_array_append (out, data, n);
  g_free (data);
  return TRUE;
}

JsonObject *
mock_ws_parse_object (const gchar * json, GError ** err)
{
  JsonNode *node = json_from_string (json, err);
  JsonObject *obj;

  if (!node)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    json_node_unref (node);
    g_set_error (err, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
        "not a JSON object");
    return NULL;
  }
  obj = json_object_ref (json_node_get_object (node));
  json_node_unref (node);
  return obj;
}

gchar *
mock_ws_join_lines (GMutex * lock, GPtrArray * lines)
{
  GString *s = g_string_new (NULL);
  guint i;

  g_mutex_lock (lock);
  for (i = 0; i < lines->len; i++)
    g_string_append_printf (s, "%s\n", (gchar *) g_ptr_array_index (lines, i));
  g_mutex_unlock (lock);
  return g_string_free (s, FALSE);
}

guint
mock_ws_count_lines (GMutex * lock, GPtrArray * lines)
{
  guint n;

  g_mutex_lock (lock);
  n = lines->len;
  g_mutex_unlock (lock);
  return n;
}
