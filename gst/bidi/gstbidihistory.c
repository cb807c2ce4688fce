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

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gstbidihistory.h"
#include "gstbidijson.h"

GST_DEBUG_CATEGORY_STATIC (bidi_history_debug);
#define GST_CAT_DEFAULT bidi_history_debug

/* What gst_bidi_json_parse_strict() takes at most: the whole history as
 * one JSON array must stay within it, since providers parse it again */
#define MAX_JSON_BYTES (16 * 1024 * 1024)
/* One message, so that it still fits in a history array on its own */
#define MAX_LINE_BYTES (MAX_JSON_BYTES - 2)
/* A session file we read (and grow) at most */
#define MAX_FILE_BYTES (64 * 1024 * 1024)
/* Bad lines of a session file described one by one in the warning */
#define MAX_REPORTED_LINES 5

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
      gchar *json =
          gst_bidi_json_to_string (json_object_get_member (block, "json"));

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
    block->input = input ? gst_bidi_json_to_string (input) : g_strdup ("{}");
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

/* gst_bidi_history_parse(), and when @root_out is not NULL the parsed
 * document too (NULL for an empty history) so that the caller can keep
 * the messages as JSON */
static GPtrArray *
parse_history (const gchar * json, JsonNode ** root_out, GError ** error)
{
  GPtrArray *messages;
  JsonNode *root;
  JsonArray *array;
  GError *err = NULL;
  const gchar *why = NULL;
  guint i, n, bad_block = G_MAXUINT;

  if (root_out)
    *root_out = NULL;
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
  if (root_out)
    *root_out = root;
  else
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
  return parse_history (json, NULL, error);
}

/* ---------------------------------------------------------------------- */
/* GstBidiHistory: the conversation an element keeps */

/* How deep the JSON an element hands over may nest, so that the message
 * around it (a line, at most GST_BIDI_HISTORY_MAX_JSON_DEPTH - 1 levels)
 * and the history array around that still parse:
 *   message / content / block / toolUse / input
 *   message / content / block / toolResult / content / {"json"} / value */
#define MAX_LINE_DEPTH (GST_BIDI_HISTORY_MAX_JSON_DEPTH - 1)
#define MAX_INPUT_DEPTH (MAX_LINE_DEPTH - 4)
#define MAX_RESULT_DEPTH (MAX_LINE_DEPTH - 6)

/* One message of the history */
typedef struct
{
  gchar *json;                  /* compact JSON, one line */
  gsize len;
  gboolean tool_use;            /* an assistant message calling a tool */
  gboolean tool_result;         /* a user message with a tool's result */
} Entry;

struct _GstBidiHistory
{
  /* Taken before @lock. Serializes appends, so that the file and the
   * memory get messages in the same order, and protects the session
   * file. */
  GMutex file_lock;
  gint fd;                      /* -1 without a session file */
  gchar *path;                  /* for messages, UTF-8 */
  gsize file_size;              /* where the last whole line ends */
  gboolean dirty;               /* a failed write may have left bytes past
                                 * file_size */

  /* Protects the messages only: readers never wait for a write and its
   * fsync */
  GMutex lock;
  GPtrArray *messages;          /* Entry */
  gsize bytes;                  /* the sum of (len + 1) over messages: the
                                 * history as one array is 1 byte more */
};

static void
entry_free (Entry * e)
{
  g_free (e->json);
  g_free (e);
}

/* (transfer full) @json: @msg, parsed */
static Entry *
entry_take (gchar * json, gsize len, const GstBidiMessage * msg)
{
  Entry *e = g_new0 (Entry, 1);
  guint i;

  for (i = 0; i < msg->blocks->len; i++) {
    const GstBidiBlock *b = g_ptr_array_index (msg->blocks, i);

    if (b->type == GST_BIDI_BLOCK_TOOL_USE)
      e->tool_use = TRUE;
    else if (b->type == GST_BIDI_BLOCK_TOOL_RESULT)
      e->tool_result = TRUE;
  }
  e->json = json;
  e->len = len;
  return e;
}

/* @node checked by the rules of gst_bidi_history_parse(), and kept as
 * @text (@len bytes) when given, else as @node serialized. NULL and *why
 * (and *bad_block, G_MAXUINT when the message itself is wrong) when it
 * breaks them. */
static Entry *
entry_new (JsonNode * node, const gchar * text, gsize len, const gchar ** why,
    guint * bad_block)
{
  GstBidiMessage *msg;
  Entry *e;
  gchar *json;

  *bad_block = G_MAXUINT;
  if (!(msg = parse_message (node, why, bad_block)))
    return NULL;

  if (text) {
    json = g_strndup (text, len);
  } else {
    json = gst_bidi_json_to_string (node);
    len = strlen (json);
  }
  e = entry_take (json, len, msg);
  gst_bidi_message_free (msg);
  return e;
}

/* Drops the oldest messages from memory while there are more than
 * GST_BIDI_HISTORY_MAX_MESSAGES, or while the history would not parse as
 * one array (MAX_JSON_BYTES), keeping one message at least. A tool's
 * result goes with its call: the history never starts with a
 * toolResult. Called with @lock. */
static void
trim_locked (GstBidiHistory * history)
{
  GPtrArray *m = history->messages;
  guint drop = 0;

  while (drop < m->len && (m->len - drop > GST_BIDI_HISTORY_MAX_MESSAGES ||
          (history->bytes + 1 > MAX_JSON_BYTES && m->len - drop > 1))) {
    Entry *e = g_ptr_array_index (m, drop++);

    history->bytes -= e->len + 1;
    while (drop < m->len &&
        ((Entry *) g_ptr_array_index (m, drop))->tool_result) {
      e = g_ptr_array_index (m, drop++);
      history->bytes -= e->len + 1;
    }
  }

  if (drop > 0) {
    GST_DEBUG ("forgetting the %u oldest of %u messages", drop, m->len);
    g_ptr_array_remove_range (m, 0, drop);
  }
}

/* write(2) until all of @data is written; FALSE and errno when it fails */
static gboolean
write_all (gint fd, const gchar * data, gsize len)
{
  while (len > 0) {
    gssize n = write (fd, data, len);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    if (n == 0) {
      errno = ENOSPC;
      return FALSE;
    }
    data += n;
    len -= n;
  }
  return TRUE;
}

static gboolean
sync_fd (gint fd)
{
  while (fsync (fd) != 0) {
    if (errno != EINTR)
      return FALSE;
  }
  return TRUE;
}

static gint
write_error_code (gint err)
{
  return err == ENOSPC || err == EDQUOT || err == EFBIG ?
      GST_RESOURCE_ERROR_NO_SPACE_LEFT : GST_RESOURCE_ERROR_WRITE;
}

/* Appends @lines (whole lines) to the session file, if any, with one
 * write, and fsyncs it. Called with @file_lock. */
static gboolean
write_file_locked (GstBidiHistory * history, const GString * lines,
    GError ** error)
{
  GError *err = NULL;
  gint errsv;

  if (history->fd < 0)
    return TRUE;

  /* what an earlier failed write left is not a line to append to */
  if (history->dirty) {
    if (ftruncate (history->fd, history->file_size) != 0)
      goto truncate_failed;
    history->dirty = FALSE;
  }
  if (history->file_size + lines->len > MAX_FILE_BYTES)
    goto full;
  if (!write_all (history->fd, lines->str, lines->len))
    goto write_failed;
  history->file_size += lines->len;
  if (!sync_fd (history->fd))
    goto sync_failed;
  return TRUE;

  /* ERRORS */
truncate_failed:
  {
    errsv = errno;
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE,
        "Could not write to session file '%s': could not remove what an "
        "earlier failed write left: %s", history->path, g_strerror (errsv));
    goto fail;
  }
full:
  {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT,
        "Session file '%s' is full (%u MiB at most): message not written",
        history->path, MAX_FILE_BYTES / (1024 * 1024));
    goto fail;
  }
write_failed:
  {
    errsv = errno;
    /* no half line: the next append starts where this one did */
    if (ftruncate (history->fd, history->file_size) != 0)
      history->dirty = TRUE;
    g_set_error (&err, GST_RESOURCE_ERROR, write_error_code (errsv),
        "Could not write to session file '%s': %s", history->path,
        g_strerror (errsv));
    goto fail;
  }
sync_failed:
  {
    errsv = errno;
    g_set_error (&err, GST_RESOURCE_ERROR, write_error_code (errsv),
        "Could not flush session file '%s' to disk: %s", history->path,
        g_strerror (errsv));
    goto fail;
  }
fail:
  {
    GST_WARNING ("%s", err->message);
    g_propagate_error (error, err);
    return FALSE;
  }
}

/* Adds @n @entries (transfer full) to the history and writes them to the
 * session file with one write */
static gboolean
append (GstBidiHistory * history, Entry ** entries, guint n, GError ** error)
{
  GString *lines;
  gsize size = 1;
  gboolean ret;
  guint i;

  for (i = 0; i < n; i++)
    size += entries[i]->len + 1;
  /* it could not be kept without forgetting everything else */
  if (size > MAX_JSON_BYTES)
    goto too_big;

  lines = g_string_sized_new (size);
  for (i = 0; i < n; i++) {
    g_string_append_len (lines, entries[i]->json, entries[i]->len);
    g_string_append_c (lines, '\n');
  }

  g_mutex_lock (&history->file_lock);
  g_mutex_lock (&history->lock);
  for (i = 0; i < n; i++) {
    g_ptr_array_add (history->messages, entries[i]);
    history->bytes += entries[i]->len + 1;
  }
  trim_locked (history);
  g_mutex_unlock (&history->lock);
  ret = write_file_locked (history, lines, error);
  g_mutex_unlock (&history->file_lock);

  g_string_free (lines, TRUE);
  return ret;

  /* ERRORS */
too_big:
  {
    GError *err = g_error_new (GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_NO_SPACE_LEFT, "A message of %" G_GSIZE_FORMAT
        " bytes is more than the history keeps (%u bytes): not added", size,
        MAX_JSON_BYTES);

    GST_WARNING ("%s", err->message);
    g_propagate_error (error, err);
    for (i = 0; i < n; i++)
      entry_free (entries[i]);
    return FALSE;
  }
}

/**
 * gst_bidi_history_new:
 *
 * Returns: (transfer full): an empty history without a session file
 */
GstBidiHistory *
gst_bidi_history_new (void)
{
  static gsize debug_initialized = 0;
  GstBidiHistory *history;

  if (g_once_init_enter (&debug_initialized)) {
    GST_DEBUG_CATEGORY_INIT (bidi_history_debug, "bidihistory", 0,
        "bidiagent conversation history");
    g_once_init_leave (&debug_initialized, 1);
  }

  history = g_new0 (GstBidiHistory, 1);
  g_mutex_init (&history->file_lock);
  g_mutex_init (&history->lock);
  history->fd = -1;
  history->messages =
      g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  return history;
}

/* Called with @file_lock */
static void
close_file_locked (GstBidiHistory * history)
{
  if (history->fd < 0)
    return;

  GST_DEBUG ("closing session file '%s'", history->path);
  /* the lock goes with the last descriptor of the open file */
  close (history->fd);
  history->fd = -1;
  g_clear_pointer (&history->path, g_free);
  history->file_size = 0;
  history->dirty = FALSE;
}

/**
 * gst_bidi_history_free:
 * @history: (transfer full) (nullable): a history
 *
 * Closes (and unlocks) its session file, if any.
 */
void
gst_bidi_history_free (GstBidiHistory * history)
{
  if (!history)
    return;

  close_file_locked (history);
  g_ptr_array_unref (history->messages);
  g_mutex_clear (&history->lock);
  g_mutex_clear (&history->file_lock);
  g_free (history);
}

/**
 * gst_bidi_history_set_messages:
 * @history: a history
 * @json: (nullable): a JSON array of Strands messages
 * @error: why @json is refused
 *
 * Returns: %TRUE when @json replaced the history, %FALSE (and @error,
 * GST_RESOURCE_ERROR_SETTINGS) when it is not a valid history; the history
 * is then unchanged.
 */
gboolean
gst_bidi_history_set_messages (GstBidiHistory * history, const gchar * json,
    GError ** error)
{
  GPtrArray *parsed, *entries, *old;
  JsonNode *root = NULL;
  gsize bytes = 0;
  guint i;

  g_return_val_if_fail (history != NULL, FALSE);

  if (!(parsed = parse_history (json, &root, error)))
    return FALSE;

  entries = g_ptr_array_new_full (parsed->len, (GDestroyNotify) entry_free);
  for (i = 0; i < parsed->len; i++) {
    JsonNode *node = json_array_get_element (json_node_get_array (root), i);
    gchar *line = gst_bidi_json_to_string (node);
    Entry *e = entry_take (line, strlen (line), g_ptr_array_index (parsed,
            i));

    g_ptr_array_add (entries, e);
    bytes += e->len + 1;
  }
  g_ptr_array_unref (parsed);
  if (root)
    json_node_unref (root);

  g_mutex_lock (&history->lock);
  old = history->messages;
  history->messages = entries;
  history->bytes = bytes;
  trim_locked (history);
  g_mutex_unlock (&history->lock);

  g_ptr_array_unref (old);
  return TRUE;
}

/* A message whose text has bytes that are not UTF-8 (an editor, a
 * damaged disk): read with U+FFFD in their place rather than lost. NULL if
 * it is not a message even then. */
static Entry *
entry_from_bad_utf8 (const gchar * p, gsize len)
{
  gchar *valid;
  JsonNode *node;
  const gchar *why = NULL;
  guint bad_block;
  Entry *e = NULL;

  if (memchr (p, '\0', len))
    return NULL;
  valid = g_utf8_make_valid (p, len);
  node = gst_bidi_json_parse_strict (valid, strlen (valid), MAX_LINE_DEPTH,
      NULL);
  if (node) {
    e = entry_new (node, valid, strlen (valid), &why, &bad_block);
    json_node_unref (node);
  }
  g_free (valid);
  return e;
}

/* What a session file holds */
typedef struct
{
  GPtrArray *entries;           /* Entry: its good lines */
  gsize end;                    /* where the last good line ends */
  gboolean cut;                 /* bad lines follow it: cut them off */
  gboolean unterminated;        /* the last good line has no newline */
  guint end_line;               /* the last good line, 0 for none */
  guint bad_lines;
  GString *why;                 /* what is wrong with them */
  guint repaired;               /* lines read with U+FFFD for bad UTF-8 */
  guint first_repaired;
} FileContents;

static gboolean
is_blank (const gchar * p, gsize len)
{
  gsize i;

  for (i = 0; i < len; i++) {
    if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
      return FALSE;
  }
  return TRUE;
}

static void
add_bad_line (FileContents * contents, gchar * why)
{
  if (contents->bad_lines < MAX_REPORTED_LINES)
    g_string_append_printf (contents->why, "%s%s",
        contents->bad_lines > 0 ? "; " : "", why);
  contents->bad_lines++;
  g_free (why);
}

/* Splits @data (@size bytes of a session file) into lines and checks each
 * one. FALSE when a line is too long to be read. */
static gboolean
read_lines (const gchar * path, const gchar * data, gsize size,
    FileContents * contents, GError ** error)
{
  const gchar *p = data, *end = data + size;
  gsize last_start = 0;
  guint line = 0, last_line = 0, prev_line = 0;
  gboolean bad_after = FALSE;

  while (p < end) {
    const gchar *nl = memchr (p, '\n', end - p);
    gsize len = (nl ? nl : end) - p;
    const gchar *why = NULL;
    guint bad_block = G_MAXUINT;
    GError *err = NULL;
    JsonNode *node;
    Entry *e = NULL;
    gchar *reason;

    line++;
    if (len > MAX_LINE_BYTES)
      goto line_too_long;
    /* a byte order mark that an editor put in front of the file */
    if (p == data && len >= 3 && memcmp (p, "\xef\xbb\xbf", 3) == 0) {
      p += 3;
      len -= 3;
    }
    if (is_blank (p, len))
      goto next;

    node = gst_bidi_json_parse_strict (p, len, MAX_LINE_DEPTH, &err);
    if (node) {
      e = entry_new (node, p, len, &why, &bad_block);
      json_node_unref (node);
    } else if (!g_utf8_validate_len (p, len, NULL)) {
      e = entry_from_bad_utf8 (p, len);
      if (e && contents->repaired++ == 0)
        contents->first_repaired = line;
    }
    if (e) {
      g_clear_error (&err);
      g_ptr_array_add (contents->entries, e);
      last_start = p - data;
      prev_line = last_line;
      last_line = line;
      contents->end = nl ? (gsize) (nl + 1 - data) : size;
      contents->unterminated = !nl;
      bad_after = FALSE;
      goto next;
    }

    if (err)
      reason = g_strdup_printf ("line %u is not valid JSON (%s)", line,
          err->message);
    else if (bad_block != G_MAXUINT)
      reason = g_strdup_printf ("line %u: content block %u %s", line,
          bad_block, why);
    else
      reason = g_strdup_printf ("line %u %s", line, why);
    if (!nl) {
      gchar *tmp = reason;

      reason = g_strconcat (tmp, " and ends without a newline (an "
          "interrupted write)", NULL);
      g_free (tmp);
    }
    add_bad_line (contents, reason);
    g_clear_error (&err);
    bad_after = TRUE;

  next:
    p = nl ? nl + 1 : end;
  }

  /* a tool call is written with its result: alone at the end, the write
   * of the pair was cut short */
  if (contents->entries->len > 0 && ((Entry *)
          g_ptr_array_index (contents->entries,
              contents->entries->len - 1))->tool_use) {
    g_ptr_array_remove_index (contents->entries, contents->entries->len - 1);
    add_bad_line (contents, g_strdup_printf ("line %u is a toolUse without "
            "the toolResult line written with it (an interrupted write)",
            last_line));
    contents->end = last_start;
    contents->unterminated = FALSE;
    last_line = prev_line;
    bad_after = TRUE;
  }
  contents->end_line = last_line;
  contents->cut = bad_after;
  return TRUE;

  /* ERRORS */
line_too_long:
  {
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Session file '%s': line %u is "
        "longer than the limit of %u bytes", path, line, MAX_LINE_BYTES);
    return FALSE;
  }
}

/* Reads @size bytes from the start of @fd; FALSE and errno on error */
static gboolean
read_all (gint fd, gchar * buf, gsize size, gsize * got)
{
  gsize off = 0;

  while (off < size) {
    gssize n = pread (fd, buf + off, size - off, off);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    if (n == 0)
      break;
    off += n;
  }
  *got = off;
  return TRUE;
}

/**
 * gst_bidi_history_open_file:
 * @history: a history
 * @path: the session file
 * @warning: (out) (optional) (nullable) (transfer full): what was wrong with
 *   the file and has been repaired, %NULL when nothing
 * @error: why it could not be opened
 *
 * Closes the session file already open, if any, then opens @path, locks
 * it and appends its messages to the history.
 *
 * Returns: %TRUE when @path is the session file from now on
 */
gboolean
gst_bidi_history_open_file (GstBidiHistory * history, const gchar * path,
    gchar ** warning, GError ** error)
{
  FileContents contents = { NULL, };
  gchar *name, *data = NULL;
  gsize size = 0;
  struct stat st;
  gint fd, r, errsv;
  guint i;

  g_return_val_if_fail (history != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (warning)
    *warning = NULL;
  name = g_filename_display_name (path);

  g_mutex_lock (&history->file_lock);
  close_file_locked (history);

  fd = open (path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    goto open_failed;
  /* an open file description of its own: this conflicts with another
   * history of this process too */
  do {
    r = flock (fd, LOCK_EX | LOCK_NB);
  } while (r != 0 && errno == EINTR);
  if (r != 0)
    goto lock_failed;
  if (fstat (fd, &st) != 0)
    goto read_failed;
  if (!S_ISREG (st.st_mode))
    goto not_regular;
  if (st.st_size > MAX_FILE_BYTES)
    goto too_big;

  data = g_malloc (st.st_size + 1);
  if (!read_all (fd, data, st.st_size, &size))
    goto read_failed;

  contents.entries =
      g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  contents.why = g_string_new (NULL);
  if (!read_lines (name, data, size, &contents, error))
    goto fail;
  g_clear_pointer (&data, g_free);

  if (contents.cut) {
    if (ftruncate (fd, contents.end) != 0 || !sync_fd (fd))
      goto repair_failed;
    size = contents.end;
  } else if (contents.unterminated) {
    /* a whole message whose newline is missing: end its line */
    if (!write_all (fd, "\n", 1) || !sync_fd (fd))
      goto repair_failed;
    size++;
  }

  if (contents.bad_lines > 0 || contents.repaired > 0) {
    GString *w = g_string_new (NULL);

    g_string_append_printf (w, "Session file '%s': ", name);
    if (contents.repaired > 0)
      g_string_append_printf (w, "read %u line%s (the first: line %u) with "
          "U+FFFD in place of bytes that are not UTF-8%s", contents.repaired,
          contents.repaired > 1 ? "s" : "", contents.first_repaired,
          contents.bad_lines > 0 ? "; " : "");
    if (contents.bad_lines > 0)
      g_string_append_printf (w, "skipped %u bad line%s: %s",
          contents.bad_lines, contents.bad_lines > 1 ? "s" : "",
          contents.why->str);
    if (contents.bad_lines > MAX_REPORTED_LINES)
      g_string_append_printf (w, "; and %u more",
          contents.bad_lines - MAX_REPORTED_LINES);
    if (contents.cut && contents.end_line > 0)
      g_string_append_printf (w, ". Cut the file back to %" G_GSIZE_FORMAT
          " bytes, the end of line %u, so that new messages start on a "
          "clean line", contents.end, contents.end_line);
    else if (contents.cut)
      g_string_append (w, ". Emptied the file, which holds no good line");
    GST_WARNING ("%s", w->str);
    if (warning)
      *warning = g_string_free (w, FALSE);
    else
      g_string_free (w, TRUE);
  }

  GST_DEBUG ("session file '%s': %u messages, %" G_GSIZE_FORMAT " bytes",
      name, contents.entries->len, size);

  g_mutex_lock (&history->lock);
  for (i = 0; i < contents.entries->len; i++) {
    Entry *e = g_ptr_array_index (contents.entries, i);

    history->bytes += e->len + 1;
  }
  g_ptr_array_extend_and_steal (history->messages, contents.entries);
  trim_locked (history);
  g_mutex_unlock (&history->lock);

  history->fd = fd;
  history->path = name;
  history->file_size = size;
  history->dirty = FALSE;
  g_mutex_unlock (&history->file_lock);

  g_string_free (contents.why, TRUE);
  return TRUE;

  /* ERRORS */
open_failed:
  {
    errsv = errno;
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Could not open session file "
        "'%s': %s", name, g_strerror (errsv));
    goto fail;
  }
lock_failed:
  {
    errsv = errno;
    if (errsv == EWOULDBLOCK)
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_BUSY,
          "Session file '%s' is in use by another session (it is locked)",
          name);
    else
      g_set_error (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Could not lock session file "
          "'%s': %s", name, g_strerror (errsv));
    goto fail;
  }
not_regular:
  {
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Session file '%s' is not a "
        "regular file", name);
    goto fail;
  }
too_big:
  {
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Session file '%s' is %"
        G_GINT64_FORMAT " bytes, more than the limit of %u MiB", name,
        (gint64) st.st_size, MAX_FILE_BYTES / (1024 * 1024));
    goto fail;
  }
read_failed:
  {
    errsv = errno;
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Could not read session file "
        "'%s': %s", name, g_strerror (errsv));
    goto fail;
  }
repair_failed:
  {
    errsv = errno;
    g_set_error (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ_WRITE, "Could not repair session file "
        "'%s' (%s): %s", name, contents.why->str, g_strerror (errsv));
    goto fail;
  }
fail:
  {
    if (fd >= 0)
      close (fd);
    g_mutex_unlock (&history->file_lock);
    GST_WARNING ("%s", error && *error ? (*error)->message : name);
    if (contents.entries)
      g_ptr_array_unref (contents.entries);
    if (contents.why)
      g_string_free (contents.why, TRUE);
    g_free (data);
    g_free (name);
    return FALSE;
  }
}

/**
 * gst_bidi_history_close_file:
 * @history: a history
 *
 * Closes and unlocks the session file, if any; the history in memory is
 * kept.
 */
void
gst_bidi_history_close_file (GstBidiHistory * history)
{
  g_return_if_fail (history != NULL);

  g_mutex_lock (&history->file_lock);
  close_file_locked (history);
  g_mutex_unlock (&history->file_lock);
}

static JsonNode *
object_node (JsonObject * obj)
{
  JsonNode *node = json_node_init_object (json_node_alloc (), obj);

  json_object_unref (obj);
  return node;
}

/* (transfer full) @block: the one content block of the message */
static Entry *
message_entry (gboolean assistant, JsonObject * block)
{
  JsonObject *msg = json_object_new ();
  JsonArray *content = json_array_new ();
  JsonNode *node;
  const gchar *why = NULL;
  guint bad_block;
  Entry *e;

  json_object_set_string_member (msg, "role", assistant ? "assistant" : "user");
  json_array_add_object_element (content, block);
  json_object_set_array_member (msg, "content", content);
  node = object_node (msg);
  e = entry_new (node, NULL, 0, &why, &bad_block);
  json_node_unref (node);
  /* built to the rules it is checked against */
  if (!e)
    g_critical ("built a message that is not valid: %s", why);
  return e;
}

/* @s as valid UTF-8, for json-glib */
static void
set_string_member (JsonObject * obj, const gchar * member, const gchar * s)
{
  gchar *valid = g_utf8_make_valid (s, -1);

  json_object_set_string_member (obj, member, valid);
  g_free (valid);
}

/**
 * gst_bidi_history_add_text:
 * @history: a history
 * @assistant: who said it (else the user)
 * @text: (nullable): what was said; invalid UTF-8 is replaced
 * @error: why it could not be written to the session file
 *
 * Returns: %FALSE when the message could not be written (it is kept in
 * memory) or is too big to be kept
 */
gboolean
gst_bidi_history_add_text (GstBidiHistory * history, gboolean assistant,
    const gchar * text, GError ** error)
{
  JsonObject *block;
  Entry *e;

  g_return_val_if_fail (history != NULL, FALSE);

  if (!text || !*text)
    return TRUE;

  block = json_object_new ();
  set_string_member (block, "text", text);
  e = message_entry (assistant, block);
  g_return_val_if_fail (e != NULL, FALSE);
  return append (history, &e, 1, error);
}

/**
 * gst_bidi_history_add_tool_pair:
 * @history: a history
 * @tool_use_id: the call's id, not empty
 * @name: the tool's name, not empty
 * @input_json: (nullable): the call's arguments, a JSON object ({} when it
 *   is anything else)
 * @result_json: (nullable): the result: JSON, or any text
 * @error: whether the call failed
 * @error_out: why the pair could not be written to the session file
 *
 * Returns: %FALSE when the pair could not be written (it is kept in
 * memory) or is too big to be kept
 */
gboolean
gst_bidi_history_add_tool_pair (GstBidiHistory * history,
    const gchar * tool_use_id, const gchar * name, const gchar * input_json,
    const gchar * result_json, gboolean error, GError ** error_out)
{
  JsonObject *use, *block, *result, *result_block;
  JsonArray *content;
  JsonNode *input = NULL, *value = NULL;
  Entry *pair[2];

  g_return_val_if_fail (history != NULL, FALSE);
  g_return_val_if_fail (tool_use_id != NULL && *tool_use_id, FALSE);
  g_return_val_if_fail (name != NULL && *name, FALSE);

  if (input_json && *input_json)
    input = gst_bidi_json_parse_strict (input_json, strlen (input_json),
        MAX_INPUT_DEPTH, NULL);
  if (!input || !JSON_NODE_HOLDS_OBJECT (input)) {
    if (input_json && *input_json)
      GST_WARNING ("tool call %s: its input is not a JSON object (of at "
          "most %u levels), kept as {}", tool_use_id, MAX_INPUT_DEPTH);
    g_clear_pointer (&input, json_node_unref);
    input = object_node (json_object_new ());
  }

  use = json_object_new ();
  set_string_member (use, "toolUseId", tool_use_id);
  set_string_member (use, "name", name);
  json_object_set_member (use, "input", input);
  block = json_object_new ();
  json_object_set_object_member (block, "toolUse", use);
  pair[0] = message_entry (TRUE, block);

  if (result_json && *result_json)
    value = gst_bidi_json_parse_strict (result_json, strlen (result_json),
        MAX_RESULT_DEPTH, NULL);
  block = json_object_new ();
  if (value)
    json_object_set_member (block, "json", value);
  else
    set_string_member (block, "text", result_json ? result_json : "");
  content = json_array_new ();
  json_array_add_object_element (content, block);

  result = json_object_new ();
  set_string_member (result, "toolUseId", tool_use_id);
  json_object_set_string_member (result, "status", error ? "error" : "success");
  json_object_set_array_member (result, "content", content);
  result_block = json_object_new ();
  json_object_set_object_member (result_block, "toolResult", result);
  pair[1] = message_entry (FALSE, result_block);

  if (G_UNLIKELY (!pair[0] || !pair[1])) {
    g_clear_pointer (&pair[0], entry_free);
    g_clear_pointer (&pair[1], entry_free);
    return FALSE;
  }
  return append (history, pair, 2, error_out);
}

/**
 * gst_bidi_history_length:
 * @history: a history
 *
 * Returns: how many messages it holds
 */
guint
gst_bidi_history_length (GstBidiHistory * history)
{
  guint len;

  g_return_val_if_fail (history != NULL, 0);

  g_mutex_lock (&history->lock);
  len = history->messages->len;
  g_mutex_unlock (&history->lock);
  return len;
}

/**
 * gst_bidi_history_to_json:
 * @history: a history
 *
 * Returns: (transfer full): the history, a JSON array of Strands messages
 * that gst_bidi_history_parse() takes
 */
gchar *
gst_bidi_history_to_json (GstBidiHistory * history)
{
  GString *json;
  guint i;

  g_return_val_if_fail (history != NULL, NULL);

  g_mutex_lock (&history->lock);
  json = g_string_sized_new (history->bytes + 2);
  g_string_append_c (json, '[');
  for (i = 0; i < history->messages->len; i++) {
    const Entry *e = g_ptr_array_index (history->messages, i);

    if (i > 0)
      g_string_append_c (json, ',');
    g_string_append_len (json, e->json, e->len);
  }
  g_mutex_unlock (&history->lock);
  g_string_append_c (json, ']');
  return g_string_free (json, FALSE);
}

/* ---------------------------------------------------------------------- */
/* What was heard of an interrupted answer */

/* Scripts written without spaces between words: each character is taken
 * for a word (a dictionary would do better) */
static gboolean
is_unspaced (gunichar c)
{
  switch (g_unichar_get_script (c)) {
    case G_UNICODE_SCRIPT_HAN:
    case G_UNICODE_SCRIPT_HIRAGANA:
    case G_UNICODE_SCRIPT_KATAKANA:
    case G_UNICODE_SCRIPT_THAI:
    case G_UNICODE_SCRIPT_LAO:
    case G_UNICODE_SCRIPT_KHMER:
    case G_UNICODE_SCRIPT_MYANMAR:
      return TRUE;
    default:
      return FALSE;
  }
}

static gboolean
is_word_char (gunichar c)
{
  return (g_unichar_isalnum (c) || g_unichar_ismark (c)) && !is_unspaced (c);
}

static gboolean
is_apostrophe (gunichar c)
{
  return c == '\'' || c == 0x2019;
}

/* Whether @p (not the start of @text, not its end) is inside a word */
static gboolean
inside_word (const gchar * text, const gchar * p)
{
  const gchar *prev = g_utf8_prev_char (p), *next;
  gunichar a = g_utf8_get_char (prev), b = g_utf8_get_char (p);

  /* an accent goes with its letter */
  if (g_unichar_ismark (b))
    return TRUE;
  /* don|'t */
  if (is_apostrophe (b)) {
    next = g_utf8_next_char (p);
    return *next && is_word_char (a) && is_word_char (g_utf8_get_char (next));
  }
  /* don'|t */
  if (is_apostrophe (a))
    return prev > text && is_word_char (b) &&
        is_word_char (g_utf8_get_char (g_utf8_prev_char (prev)));
  return is_word_char (a) && is_word_char (b);
}

/* What is not worth ending on: spaces, dashes, opening brackets and
 * quotes, and the commas and colons that announce more */
static gboolean
is_trailing_junk (gunichar c)
{
  if (g_unichar_isspace (c) || c == ',' || c == ';' || c == ':')
    return TRUE;
  switch (g_unichar_type (c)) {
    case G_UNICODE_DASH_PUNCTUATION:
    case G_UNICODE_OPEN_PUNCTUATION:
    case G_UNICODE_INITIAL_PUNCTUATION:
    case G_UNICODE_CONNECT_PUNCTUATION:
    case G_UNICODE_FORMAT:
      return TRUE;
    default:
      return FALSE;
  }
}

/**
 * gst_bidi_heard_text:
 * @text: (nullable): an answer
 * @heard_ms: how much of it played
 * @total_ms: how long it is, 0 when unknown
 *
 * Returns: (transfer full): the share of @text that played, cut back to a
 * whole word, as valid UTF-8
 */
gchar *
gst_bidi_heard_text (const gchar * text, guint64 heard_ms, guint64 total_ms)
{
  gchar *valid;
  const gchar *cut;
  guint64 keep;
  gchar *heard;

  if (!text)
    return g_strdup ("");
  valid = g_utf8_make_valid (text, -1);
  if (total_ms == 0 || heard_ms >= total_ms)
    return valid;

  keep = gst_util_uint64_scale (g_utf8_strlen (valid, -1), heard_ms, total_ms);
  cut = g_utf8_offset_to_pointer (valid, keep);

  /* a word cut in two was not heard */
  if (cut > valid && *cut && inside_word (valid, cut)) {
    do {
      cut = g_utf8_prev_char (cut);
    } while (cut > valid && inside_word (valid, cut));
  }
  while (cut > valid) {
    const gchar *prev = g_utf8_prev_char (cut);

    if (!is_trailing_junk (g_utf8_get_char (prev)))
      break;
    cut = prev;
  }

  heard = g_strndup (valid, cut - valid);
  g_free (valid);
  return heard;
}
