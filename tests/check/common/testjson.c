/* gst-bidi: reading the JSON that clients send to the mock servers, in
 * tests
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include <gst/check/gstcheck.h>

#include "testjson.h"

JsonNode *
parse_json (const gchar * text)
{
  GError *err = NULL;
  JsonNode *node;

  fail_unless (text != NULL);
  node = json_from_string (text, &err);
  fail_unless (node != NULL, "not JSON (%s): %s", err ? err->message : "-",
      text);
  return node;
}

/* The member at @path ("a.b.c") of @obj, or NULL */
JsonNode *
jget (JsonObject * obj, const gchar * path)
{
  gchar **parts = g_strsplit (path, ".", -1);
  JsonNode *node = NULL;
  guint i;

  for (i = 0; parts[i]; i++) {
    if (!obj || !json_object_has_member (obj, parts[i])) {
      node = NULL;
      break;
    }
    node = json_object_get_member (obj, parts[i]);
    obj = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  }
  g_strfreev (parts);
  return node;
}

gboolean
jhas (JsonObject * obj, const gchar * path)
{
  return jget (obj, path) != NULL;
}

gboolean
jnull (JsonObject * obj, const gchar * path)
{
  JsonNode *node = jget (obj, path);

  return node && JSON_NODE_HOLDS_NULL (node);
}

const gchar *
jstr (JsonObject * obj, const gchar * path)
{
  JsonNode *node = jget (obj, path);

  if (!node || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

gint64
jint (JsonObject * obj, const gchar * path)
{
  JsonNode *node = jget (obj, path);

  fail_unless (node && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_INT64, "%s is not an integer",
      path);
  return json_node_get_int (node);
}

gdouble
jdouble (JsonObject * obj, const gchar * path)
{
  JsonNode *node = jget (obj, path);

  fail_unless (node && JSON_NODE_HOLDS_VALUE (node) &&
      (json_node_get_value_type (node) == G_TYPE_DOUBLE ||
          json_node_get_value_type (node) == G_TYPE_INT64),
      "%s is not a number", path);
  return json_node_get_double (node);
}

gboolean
jbool (JsonObject * obj, const gchar * path)
{
  JsonNode *node = jget (obj, path);

  fail_unless (node && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_BOOLEAN,
      "%s is not a boolean", path);
  return json_node_get_boolean (node);
}

JsonObject *
jobj (JsonObject * obj, const gchar * path)
{
  JsonNode *node = jget (obj, path);

  fail_unless (node && JSON_NODE_HOLDS_OBJECT (node), "%s is not an object",
      path);
  return json_node_get_object (node);
}

/* The strings of the array at @path, joined with "," */
gchar *
jstrings (JsonObject * obj, const gchar * path)
{
  JsonNode *node = jget (obj, path);
  GString *s = g_string_new (NULL);
  JsonArray *a;
  guint i;

  fail_unless (node && JSON_NODE_HOLDS_ARRAY (node), "%s is not an array",
      path);
  a = json_node_get_array (node);
  for (i = 0; i < json_array_get_length (a); i++)
    g_string_append_printf (s, "%s%s", i ? "," : "",
        json_array_get_string_element (a, i));
  return g_string_free (s, FALSE);
}

JsonNode *
parse_waited (gchar * text, const gchar * what, guint index, guint conn)
{
  JsonNode *node;

  fail_unless (text != NULL, "no %s number %u on connection %u", what, index,
      conn);
  node = parse_json (text);
  g_free (text);
  return node;
}

void
assert_mock_clean_lists (gchar * violations, gchar * failures)
{
  fail_unless (*violations == '\0', "protocol violations:\n%s", violations);
  fail_unless (*failures == '\0', "mock script failures:\n%s", failures);
  g_free (violations);
  g_free (failures);
}
