/* gst-bidi
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

#include <json-glib/json-glib.h>
#include <gst/bidi/gstbidijson.h>

#include "gstbidirecorder.h"

GST_DEBUG_CATEGORY_EXTERN (bidi_agent_debug);
#define GST_CAT_DEFAULT bidi_agent_debug

typedef struct
{
  gchar *id, *name, *input, *result;
  gboolean error;
} HistPair;

/* The end of one item of a phased answer */
typedef struct
{
  gsize text_end;
  guint64 audio_end;
} Cut;

static void
hist_pair_free (gpointer data)
{
  HistPair *p = data;

  g_free (p->id);
  g_free (p->name);
  g_free (p->input);
  g_free (p->result);
  g_free (p);
}

void
gst_bidi_recorder_init (GstBidiRecorder * rec, GstElement * element,
    GstBidiHistory * history)
{
  rec->element = element;
  rec->history = history;
  g_queue_init (&rec->pairs);
  g_mutex_init (&rec->lock);
  rec->text = g_string_new (NULL);
  rec->heard_ms = G_MAXUINT64;
  rec->cuts = g_array_new (FALSE, FALSE, sizeof (Cut));
}

void
gst_bidi_recorder_clear (GstBidiRecorder * rec)
{
  g_queue_clear_full (&rec->pairs, hist_pair_free);
  g_mutex_clear (&rec->lock);
  g_string_free (rec->text, TRUE);
  g_array_unref (rec->cuts);
}

/* After a session-file write: a failure gives one warning until writing
 * works again. Takes @err. (Called with the write's result stored first:
 * the order in which a call's arguments are evaluated is unspecified, so
 * the write must not be an argument next to the error it sets.) */
static void
hist_written (GstBidiRecorder * rec, gboolean ok, GError * err)
{
  if (ok) {
    rec->write_failed = FALSE;
    g_clear_error (&err);
    return;
  }
  if (!rec->write_failed)
    GST_ELEMENT_WARNING (rec->element, RESOURCE, WRITE, ("%s",
            err ? err->message : "Could not write the session file"),
        ("session-file: the conversation goes on, kept in memory"));
  rec->write_failed = TRUE;
  g_clear_error (&err);
}

static void
hist_add_text (GstBidiRecorder * rec, gboolean assistant, const gchar * text)
{
  GError *err = NULL;
  gboolean ok;

  ok = gst_bidi_history_add_text (rec->history, assistant, text, &err);
  hist_written (rec, ok, err);
}

/* What was heard of the part of the answer from @from to @to (its items
 * play one after the other: the cut falls in one of them); with lock */
static void
add_heard_part (GstBidiRecorder * rec, GPtrArray * parts, const Cut * from,
    const Cut * to)
{
  gchar *text = g_strndup (rec->text->str + from->text_end,
      to->text_end - from->text_end);

  if (rec->heard_ms != G_MAXUINT64) {
    guint64 heard = rec->heard_ms > from->audio_end ?
        rec->heard_ms - from->audio_end : 0;
    gchar *cut = gst_bidi_heard_text (text, heard,
        to->audio_end - from->audio_end);

    g_free (text);
    text = cut;
  }
  if (*text)
    g_ptr_array_add (parts, text);
  else
    g_free (text);
}

/* The words of the answer being recorded that were heard (all of them
 * unless it was interrupted): one string for each item of a phased
 * answer, else one; with lock */
static GPtrArray *
answer_heard_unlocked (GstBidiRecorder * rec)
{
  GPtrArray *parts = g_ptr_array_new_with_free_func (g_free);
  Cut from = { 0, 0 }, end = { rec->text->len, rec->audio_ms };
  guint i;

  for (i = 0; i < rec->cuts->len; i++) {
    Cut *to = &g_array_index (rec->cuts, Cut, i);

    add_heard_part (rec, parts, &from, to);
    from = *to;
  }
  if (end.text_end > from.text_end)
    add_heard_part (rec, parts, &from, &end);
  return parts;
}

/* The answer recorded so far goes into the history, as far as it was
 * heard */
static void
commit_answer (GstBidiRecorder * rec)
{
  GPtrArray *heard;
  guint i;

  g_mutex_lock (&rec->lock);
  heard = answer_heard_unlocked (rec);
  GST_DEBUG_OBJECT (rec->element, "history: answer of %" G_GUINT64_FORMAT
      " ms in %u parts, heard %" G_GINT64_FORMAT " ms", rec->audio_ms,
      heard->len, rec->heard_ms == G_MAXUINT64 ? (gint64) - 1 :
      (gint64) rec->heard_ms);
  g_string_truncate (rec->text, 0);
  g_array_set_size (rec->cuts, 0);
  rec->audio_ms = 0;
  rec->heard_ms = G_MAXUINT64;
  g_mutex_unlock (&rec->lock);

  for (i = 0; i < heard->len; i++)
    hist_add_text (rec, TRUE, g_ptr_array_index (heard, i));
  g_ptr_array_unref (heard);
}

gboolean
gst_bidi_recorder_start (GstBidiRecorder * rec, const gchar * messages,
    const gchar * file, gboolean fresh, GError ** error)
{
  gchar *warning = NULL;
  gboolean ok = TRUE;

  if (fresh)
    ok = gst_bidi_history_set_messages (rec->history, messages, error);
  if (ok && file)
    ok = gst_bidi_history_open_file (rec->history, file, &warning, error);
  if (warning) {
    GST_ELEMENT_WARNING (rec->element, RESOURCE, READ, ("%s", warning),
        ("session-file %s", file));
    g_free (warning);
  }
  if (!ok)
    return FALSE;

  g_mutex_lock (&rec->lock);
  g_string_truncate (rec->text, 0);
  g_array_set_size (rec->cuts, 0);
  rec->audio_ms = 0;
  rec->heard_ms = G_MAXUINT64;
  g_mutex_unlock (&rec->lock);
  rec->write_failed = FALSE;
  rec->user_pending = FALSE;
  g_queue_clear_full (&rec->pairs, hist_pair_free);
  GST_INFO_OBJECT (rec->element, "conversation history: %u messages",
      gst_bidi_history_length (rec->history));
  return TRUE;
}

static void
hist_write_pair (GstBidiRecorder * rec, const HistPair * p)
{
  GError *err = NULL;
  gboolean ok;

  ok = gst_bidi_history_add_tool_pair (rec->history, p->id, p->name,
      p->input ? p->input : "{}", p->result, p->error, &err);
  hist_written (rec, ok, err);
}

/* The user's words are in (or will not come): the pairs that waited */
static void
user_done (GstBidiRecorder * rec)
{
  HistPair *p;

  rec->user_pending = FALSE;
  while ((p = g_queue_pop_head (&rec->pairs))) {
    hist_write_pair (rec, p);
    hist_pair_free (p);
  }
}

void
gst_bidi_recorder_on_transcript (GstBidiRecorder * rec,
    const GstStructure * event)
{
  const gchar *role = gst_structure_get_string (event, "role");
  const gchar *text = gst_structure_get_string (event, "text");
  gboolean is_final = FALSE;

  gst_structure_get_boolean (event, "is_final", &is_final);
  if (!text || !*text)
    return;
  if (g_strcmp0 (role, "user") == 0) {
    if (!rec->user_pending) {
      /* the user speaks: the answer before is over, as far as heard */
      commit_answer (rec);
      rec->user_pending = TRUE;
    }
    if (is_final) {
      hist_add_text (rec, FALSE, text);
      user_done (rec);
    }
  } else if (is_final && g_strcmp0 (role, "assistant") == 0) {
    gsize part_start;

    g_mutex_lock (&rec->lock);
    part_start = rec->cuts->len ? g_array_index (rec->cuts, Cut,
        rec->cuts->len - 1).text_end : 0;
    if (rec->text->len > part_start)
      g_string_append_c (rec->text, ' ');
    g_string_append (rec->text, text);
    /* an item with a phase ends with its final transcript, its audio all
     * queued: the next one is a message of its own */
    if (gst_structure_has_field (event, "phase")) {
      Cut cut = { rec->text->len, rec->audio_ms };
      g_array_append_val (rec->cuts, cut);
    }
    g_mutex_unlock (&rec->lock);
  }
}

/* A typed text: the user's turn */
void
gst_bidi_recorder_user_text (GstBidiRecorder * rec, const gchar * text)
{
  commit_answer (rec);
  hist_add_text (rec, FALSE, text);
}

/* A new answer: the one before is over (but an answer to words still being
 * transcribed goes after them) */
void
gst_bidi_recorder_answer_start (GstBidiRecorder * rec)
{
  if (!rec->user_pending)
    commit_answer (rec);
}

void
gst_bidi_recorder_add_pair (GstBidiRecorder * rec, const gchar * id,
    const gchar * name, const gchar * input, const gchar * result,
    gboolean error)
{
  HistPair *p = g_new0 (HistPair, 1);

  p->id = g_strdup (id);
  p->name = g_strdup (name);
  p->input = g_strdup (input);
  p->result = g_strdup (result);
  p->error = error;
  if (rec->user_pending) {
    g_queue_push_tail (&rec->pairs, p);
    return;
  }
  commit_answer (rec);
  hist_write_pair (rec, p);
  hist_pair_free (p);
}

void
gst_bidi_recorder_flush (GstBidiRecorder * rec)
{
  user_done (rec);
  commit_answer (rec);
}

/* The answer being recorded queued @ms more of audio */
void
gst_bidi_recorder_add_audio (GstBidiRecorder * rec, guint64 ms)
{
  g_mutex_lock (&rec->lock);
  rec->audio_ms += ms;
  g_mutex_unlock (&rec->lock);
}

/* The answer being recorded was interrupted: the history keeps what was
 * heard (the first cut counts) */
void
gst_bidi_recorder_answer_cut (GstBidiRecorder * rec, guint64 heard_ms)
{
  g_mutex_lock (&rec->lock);
  if (rec->heard_ms == G_MAXUINT64)
    rec->heard_ms = heard_ms;
  g_mutex_unlock (&rec->lock);
}

/* The history property: the history, and the answer being recorded as it
 * stands (it goes into the history proper once the conversation moves
 * on) */
gchar *
gst_bidi_recorder_get_json (GstBidiRecorder * rec)
{
  gchar *json = gst_bidi_history_to_json (rec->history), *ret;
  GPtrArray *heard;
  JsonNode *root;
  guint i;

  g_mutex_lock (&rec->lock);
  heard = answer_heard_unlocked (rec);
  g_mutex_unlock (&rec->lock);
  root = heard->len > 0 ? json_from_string (json, NULL) : NULL;
  if (!root || !JSON_NODE_HOLDS_ARRAY (root)) {
    if (root)
      json_node_unref (root);
    g_ptr_array_unref (heard);
    return json;
  }

  for (i = 0; i < heard->len; i++) {
    JsonObject *msg = json_object_new (), *block = json_object_new ();
    JsonArray *content = json_array_new ();

    json_object_set_string_member (block, "text",
        g_ptr_array_index (heard, i));
    json_array_add_object_element (content, block);
    json_object_set_string_member (msg, "role", "assistant");
    json_object_set_array_member (msg, "content", content);
    json_array_add_object_element (json_node_get_array (root), msg);
  }
  ret = gst_bidi_json_to_string (root);
  json_node_unref (root);
  g_free (json);
  g_ptr_array_unref (heard);
  return ret;
}
