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

#include <gst/gst.h>

#include "bidi-prelude.h"

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

/* The conversation an element keeps: a list of Strands messages it
 * appends to as the conversation goes, optionally persisted to a session
 * file (JSON Lines, UTF-8: one message per line, each append written with
 * one write(2) and fsynced before it returns). Thread safe: any function
 * may be called from any thread; to_json() and length() never wait for a
 * write to the file.
 *
 * Memory is bounded: when the history holds more than
 * GST_BIDI_HISTORY_MAX_MESSAGES messages, or would be more than 16 MiB of
 * JSON (what gst_bidi_history_parse() takes), the oldest messages are
 * forgotten (in memory only, the session file keeps them). A tool's result
 * is forgotten with its call, so the history never starts with a
 * toolResult. */
typedef struct _GstBidiHistory GstBidiHistory;

GST_BIDI_API
GstBidiHistory *gst_bidi_history_new (void);
/* Closes (and unlocks) the session file, if any. NULL is ignored. */
GST_BIDI_API
void gst_bidi_history_free (GstBidiHistory * history);

/* Replaces the whole history with @json (a JSON array of Strands
 * messages, validated by gst_bidi_history_parse(); NULL or "" empties it).
 * Not written to the session file. FALSE and @error (its
 * GST_RESOURCE_ERROR_SETTINGS) when @json is refused; the history is then
 * unchanged. */
GST_BIDI_API
gboolean gst_bidi_history_set_messages (GstBidiHistory * history,
    const gchar * json, GError ** error);

/* Closes the session file already open, if any, then opens @path (creating
 * it, mode 0600), locks it (flock) and appends the messages it holds to
 * the history. From then on every appended message is written to it.
 *
 * Lines that are not a valid message (validated as by
 * gst_bidi_history_parse()) are skipped and @warning (nullable; NULL when
 * all is well) says which and why, in one sentence meant for the user:
 *   "Session file 'PATH': skipped 1 bad line: line 3 is not valid JSON
 *    (...) and ends without a newline (an interrupted write). Cut the file
 *    back to 812 bytes, the end of line 2, so that new messages start on a
 *    clean line"
 * Bad lines followed by good ones stay in the file. Bad lines at the end
 * (a write cut short by a crash) are cut off the file, and so is a toolUse
 * line left without the toolResult line written with it. A last good line
 * without its newline gets one. Blank lines are ignored.
 *
 * Fails with GST_RESOURCE_ERROR_BUSY when another history (of this
 * process or another) holds the file's lock, and with
 * GST_RESOURCE_ERROR_OPEN_READ_WRITE when it cannot be opened, read or
 * repaired, is not a regular file, is over 64 MiB or has a line over
 * 16 MiB; the history is then unchanged and has no session file. */
GST_BIDI_API
gboolean gst_bidi_history_open_file (GstBidiHistory * history,
    const gchar * path, gchar ** warning, GError ** error);
/* Closes and unlocks the session file, if any; keeps the history */
GST_BIDI_API
void gst_bidi_history_close_file (GstBidiHistory * history);

/* Appends a text message. NULL or empty text appends nothing. Invalid
 * UTF-8 is replaced (U+FFFD). FALSE and @error when the session file could
 * not be written (GST_RESOURCE_ERROR_WRITE, or _NO_SPACE_LEFT also when
 * the file would grow past 64 MiB): the message is kept in memory anyway,
 * and a half-written line is removed from the file. Also FALSE
 * (GST_RESOURCE_ERROR_NO_SPACE_LEFT) for a message over 16 MiB of JSON,
 * which is not kept. */
GST_BIDI_API
gboolean gst_bidi_history_add_text (GstBidiHistory * history,
    gboolean assistant, const gchar * text, GError ** error);

/* Appends a tool call and its result as one pair: an assistant message
 * with the toolUse block ({"toolUseId", "name", "input"}: @input_json when
 * it is a JSON object, else {}), then a user message with the toolResult
 * block (status "error" when @error, else "success"; its content
 * [{"json": result}] when @result_json is JSON, else [{"text": ...}]).
 * @tool_use_id and @name must not be empty. Both lines are written with
 * one write, so a crash never keeps half a pair. Fails as
 * gst_bidi_history_add_text() does. */
GST_BIDI_API
gboolean gst_bidi_history_add_tool_pair (GstBidiHistory * history,
    const gchar * tool_use_id, const gchar * name, const gchar * input_json,
    const gchar * result_json, gboolean error, GError ** error_out);

GST_BIDI_API
guint gst_bidi_history_length (GstBidiHistory * history);

/* (transfer full) the whole history, a JSON array that
 * gst_bidi_history_parse() takes */
GST_BIDI_API
gchar *gst_bidi_history_to_json (GstBidiHistory * history);

/* The part of @text that was heard when @heard_ms of an answer of
 * @total_ms had played: that share of its characters (not bytes), cut back
 * to the end of the last whole word, without trailing spaces, dashes,
 * commas or opening brackets. All of it when @heard_ms >= @total_ms or
 * @total_ms is 0 (unknown), "" when nothing or only part of the first word
 * was heard. Words are separated by spaces and punctuation; in Chinese,
 * Japanese and Thai each character counts as a word. (transfer full),
 * valid UTF-8, never NULL ("" for a NULL @text). */
GST_BIDI_API
gchar *gst_bidi_heard_text (const gchar * text, guint64 heard_ms,
    guint64 total_ms);

G_END_DECLS

#endif /* __GST_BIDI_HISTORY_H__ */
