/* gst-bidi: conversation history in the Strands message shape
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_HISTORY_H__
#define __GST_BIDI_HISTORY_H__

#include "gstbidiprovider.h"

G_BEGIN_DECLS

/* A conversation as Strands keeps it: a list of messages, each a role
 * ("user" or "assistant") and content blocks:
 *
 *   {"role": "assistant", "content": [{"text": "Let me check."},
 *     {"toolUse": {"toolUseId": "t1", "name": "current_time",
 *                  "input": {}}}]}
 *   {"role": "user", "content": [{"toolResult": {"toolUseId": "t1",
 *     "status": "success", "content": [{"json": {"time": "10:00"}}]}}]}
 *
 * Providers get it as JSON text (GstBidiProviderConfig.history_json) and
 * read it with gst_bidi_history_parse(), which validates it and flattens
 * every block into one of three kinds; each provider then writes the
 * blocks in its own wire form. Blocks of other kinds (images, documents,
 * reasoning) are skipped: no speech model can replay them. */

typedef enum
{
  GST_BIDI_BLOCK_TEXT,
  GST_BIDI_BLOCK_TOOL_USE,
  GST_BIDI_BLOCK_TOOL_RESULT,
} GstBidiBlockType;

typedef struct
{
  GstBidiBlockType type;
  gchar *text;                  /* TEXT */
  gchar *tool_use_id;           /* TOOL_USE, TOOL_RESULT */
  gchar *name;                  /* TOOL_USE */
  gchar *input;                 /* TOOL_USE: a JSON object, as text */
  gboolean error;               /* TOOL_RESULT: status "error" */
  /* TOOL_RESULT: the result as text: its text blocks, and its json blocks
   * as JSON text, one per line */
  gchar *content;
} GstBidiBlock;

typedef struct
{
  gboolean assistant;           /* else user */
  GPtrArray *blocks;            /* GstBidiBlock */
} GstBidiMessage;

/* Limits on what is parsed (everything beyond is an error) */
#define GST_BIDI_HISTORY_MAX_MESSAGES 10000
#define GST_BIDI_HISTORY_MAX_JSON_DEPTH 64

/* @json: a JSON array of Strands messages (NULL or "" is an empty
 * history). Returns (transfer full) a GPtrArray of GstBidiMessage, or
 * NULL with GST_RESOURCE_ERROR_SETTINGS saying what is wrong and where. */
GST_BIDI_API
GPtrArray *gst_bidi_history_parse (const gchar * json, GError ** error);

/* The text blocks of @msg joined by "\n", NULL when it has none */
GST_BIDI_API
gchar *gst_bidi_message_text (const GstBidiMessage * msg);

GST_BIDI_API
void gst_bidi_message_free (GstBidiMessage * msg);

G_END_DECLS

#endif /* __GST_BIDI_HISTORY_H__ */
