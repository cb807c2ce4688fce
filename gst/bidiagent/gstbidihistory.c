/* gst-bidi: conversation history in the Strands message shape
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

#include "gstbidihistory.h"
#include "gstbidijson.h"

static void
block_free (GstBidiBlock * block)
{
  g_free (block->text);
  g_free (block->tool_use_id);
  g_free (block->name);
  g_free (block->input);
  g_free (block->content);
  g_free (block);
}

/**
 * gst_bidi_message_free:
 * @msg: (transfer full) (nullable): a message
 */
void
gst_bidi_message_free (GstBidiMessage * msg)
{
  if (!msg)
    return;
  g_ptr_array_unref (msg->blocks);
  g_free (msg);
}

/**
 * gst_bidi_message_text:
 * @msg: a message
 *
 * Returns: (transfer full) (nullable): the text blocks of @msg, one per
 * line, or %NULL when it has none.
 */
gchar *
gst_bidi_message_text (const GstBidiMessage * msg)
{
  GString *text = NULL;
  guint i;

  g_return_val_if_fail (msg != NULL, NULL);

  for (i = 0; i < msg->blocks->len; i++) {
    const GstBidiBlock *b = g_ptr_array_index (msg->blocks, i);

    if (b->type != GST_BIDI_BLOCK_TEXT)
      continue;
    if (!text)
      text = g_string_new (b->text);
    else
      g_string_append_printf (text, "\n%s", b->text);
  }
  return text ? g_string_free (text, FALSE) : NULL;
}

/* A string member, NULL when missing or not a string */
static const gchar *
get_string (JsonObject * obj, const gchar * name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (!node || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static JsonObject *
get_object (JsonObject * obj, const gchar * name)
{
  JsonNode *node = json_object_get_member (obj, name);

  return node && JSON_NODE_HOLDS_OBJECT (node) ?
      json_node_get_object (node) : NULL;
}

/* A toolResult's content ([{"text"}, {"json"}, ...]) as text; NULL when
 * it is not such a list */
static gchar *
tool_result_text (JsonObject * result)
{
  JsonNode *node = json_object_get_member (result, "content");
  GString *out;
  JsonArray *blocks;
  guint i;

  if (!node || JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("");
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return NULL;

  out = g_string_new (NULL);
  blocks = json_node_get_array (node);
  for (i = 0; i < json_array_get_length (blocks); i++) {
    JsonNode *b = json_array_get_element (blocks, i);
    JsonObject *block;
    const gchar *s;

    if (!JSON_NODE_HOLDS_OBJECT (b))
      goto bad;
    block = json_node_get_object (b);
    if (out->len > 0 && (json_object_has_member (block, "text") ||
            json_object_has_member (block, "json")))
      g_string_append_c (out, '\n');
    if ((s = get_string (block, "text"))) {
      g_string_append (out, s);
    } else if (json_object_has_member (block, "json")) {
      gchar *json = json_to_string (json_object_get_member (block, "json"),
          FALSE);

      g_string_append (out, json);
      g_free (json);
    }
    /* images, documents: nothing a speech model can be told again */
  }
  return g_string_free (out, FALSE);

bad:
  g_string_free (out, TRUE);
  return NULL;
}

/* One content block of a message; NULL and *skipped for kinds that are
 * not replayed, NULL and *why when it is malformed */
static GstBidiBlock *
parse_block (JsonNode * node, gboolean assistant, gboolean * skipped,
    const gchar ** why)
{
  GstBidiBlock *block;
  JsonObject *obj, *sub;
  const gchar *s, *id, *name, *status;
  JsonNode *input;

  *skipped = FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    *why = "is not a JSON object";
    return NULL;
  }
  obj = json_node_get_object (node);

  if (json_object_has_member (obj, "text")) {
    if (!(s = get_string (obj, "text"))) {
      *why = "has a \"text\" that is not a string";
      return NULL;
    }
    block = g_new0 (GstBidiBlock, 1);
    block->type = GST_BIDI_BLOCK_TEXT;
    block->text = g_strdup (s);
    return block;
  }

  if (json_object_has_member (obj, "toolUse")) {
    if (!assistant) {
      *why = "is a toolUse in a user message";
      return NULL;
    }
    sub = get_object (obj, "toolUse");
    id = sub ? get_string (sub, "toolUseId") : NULL;
    name = sub ? get_string (sub, "name") : NULL;
    input = sub ? json_object_get_member (sub, "input") : NULL;
    if (!id || !*id || !name || !*name) {
      *why = "is a toolUse without a toolUseId and a name";
      return NULL;
    }
    if (input && !JSON_NODE_HOLDS_OBJECT (input)) {
      *why = "is a toolUse whose input is not a JSON object";
      return NULL;
    }
    block = g_new0 (GstBidiBlock, 1);
    block->type = GST_BIDI_BLOCK_TOOL_USE;
    block->tool_use_id = g_strdup (id);
    block->name = g_strdup (name);
    block->input = input ? json_to_string (input, FALSE) : g_strdup ("{}");
    return block;
  }

  if (json_object_has_member (obj, "toolResult")) {
    gchar *content;

    if (assistant) {
      *why = "is a toolResult in an assistant message";
      return NULL;
    }
    sub = get_object (obj, "toolResult");
    id = sub ? get_string (sub, "toolUseId") : NULL;
    if (!id || !*id) {
      *why = "is a toolResult without a toolUseId";
      return NULL;
    }
    status = get_string (sub, "status");
    if (status && strcmp (status, "success") != 0 &&
        strcmp (status, "error") != 0) {
      *why = "is a toolResult whose status is neither success nor error";
      return NULL;
    }
    if (!(content = tool_result_text (sub))) {
      *why = "is a toolResult whose content is not a list of {\"text\"} or "
          "{\"json\"} blocks";
      return NULL;
    }
    block = g_new0 (GstBidiBlock, 1);
    block->type = GST_BIDI_BLOCK_TOOL_RESULT;
    block->tool_use_id = g_strdup (id);
    block->error = g_strcmp0 (status, "error") == 0;
    block->content = content;
    return block;
  }

  /* image, document, reasoningContent ...: nothing to replay */
  *skipped = TRUE;
  return NULL;
}

static GstBidiMessage *
parse_message (JsonNode * node, const gchar ** why, guint * bad_block)
{
  GstBidiMessage *msg;
  JsonObject *obj;
  JsonNode *content;
  JsonArray *blocks;
  const gchar *role;
  guint i;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    *why = "is not a JSON object";
    return NULL;
  }
  obj = json_node_get_object (node);
  role = get_string (obj, "role");
  if (g_strcmp0 (role, "user") != 0 && g_strcmp0 (role, "assistant") != 0) {
    *why = "has a role that is neither \"user\" nor \"assistant\"";
    return NULL;
  }

  msg = g_new0 (GstBidiMessage, 1);
  msg->assistant = strcmp (role, "assistant") == 0;
  msg->blocks = g_ptr_array_new_with_free_func ((GDestroyNotify) block_free);

  content = json_object_get_member (obj, "content");
  /* a plain string is not Strands' shape, but it is unambiguous */
  if (content && JSON_NODE_HOLDS_VALUE (content) &&
      json_node_get_value_type (content) == G_TYPE_STRING) {
    GstBidiBlock *b = g_new0 (GstBidiBlock, 1);

    b->type = GST_BIDI_BLOCK_TEXT;
    b->text = g_strdup (json_node_get_string (content));
    g_ptr_array_add (msg->blocks, b);
    return msg;
  }
  if (!content || !JSON_NODE_HOLDS_ARRAY (content)) {
    *why = "has no \"content\" list";
    goto fail;
  }

  blocks = json_node_get_array (content);
  for (i = 0; i < json_array_get_length (blocks); i++) {
    gboolean skipped;
    GstBidiBlock *b = parse_block (json_array_get_element (blocks, i),
        msg->assistant, &skipped, why);

    if (b)
      g_ptr_array_add (msg->blocks, b);
    else if (!skipped) {
      *bad_block = i;
      goto fail;
    }
  }
  return msg;

fail:
  gst_bidi_message_free (msg);
  return NULL;
}

/**
 * gst_bidi_history_parse:
 * @json: (nullable): a JSON array of Strands messages
 * @error: why it is refused
 *
 * Returns: (transfer full) (element-type GstBidiMessage): the messages,
 * or %NULL on error.
 */
GPtrArray *
gst_bidi_history_parse (const gchar * json, GError ** error)
{
  GPtrArray *messages;
  JsonNode *root;
  JsonArray *array;
  GError *err = NULL;
  const gchar *why = NULL;
  guint i, n, bad_block = G_MAXUINT;

  messages = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_bidi_message_free);
  if (!json || !*json)
    return messages;

  root = gst_bidi_json_parse_strict (json, strlen (json),
      GST_BIDI_HISTORY_MAX_JSON_DEPTH, &err);
  if (!root)
    goto bad_json;
  if (!JSON_NODE_HOLDS_ARRAY (root))
    goto not_array;
  array = json_node_get_array (root);
  n = json_array_get_length (array);
  if (n > GST_BIDI_HISTORY_MAX_MESSAGES)
    goto too_long;

  for (i = 0; i < n; i++) {
    GstBidiMessage *msg = parse_message (json_array_get_element (array, i),
        &why, &bad_block);

    if (!msg)
      goto bad_message;
    g_ptr_array_add (messages, msg);
  }
  json_node_unref (root);
  return messages;

  /* ERRORS */
bad_json:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "History is not valid JSON: %s", err->message);
    g_error_free (err);
    g_ptr_array_unref (messages);
    return NULL;
  }
not_array:
  {
    g_set_error_literal (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_SETTINGS, "History must be a JSON array of "
        "messages ({\"role\", \"content\"})");
    goto fail;
  }
too_long:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "History has %u messages, more than the limit of %u", n,
        GST_BIDI_HISTORY_MAX_MESSAGES);
    goto fail;
  }
bad_message:
  {
    if (bad_block != G_MAXUINT)
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "History message %u: content block %u %s", i, bad_block, why);
    else
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "History message %u %s", i, why);
    goto fail;
  }
fail:
  json_node_unref (root);
  g_ptr_array_unref (messages);
  return NULL;
}
