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
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/bidi/gstbidihistory.h>

static const GstBidiBlock *
block (GPtrArray * messages, guint m, guint b)
{
  GstBidiMessage *msg = g_ptr_array_index (messages, m);

  fail_unless (b < msg->blocks->len);
  return g_ptr_array_index (msg->blocks, b);
}

GST_START_TEST (test_parse_strands_messages)
{
  const gchar *json = "["
      "{\"role\": \"user\", \"content\": [{\"text\": \"What time is it?\"}]},"
      "{\"role\": \"assistant\", \"content\": [{\"text\": \"Let me look.\"},"
      "  {\"toolUse\": {\"toolUseId\": \"t1\", \"name\": \"current_time\","
      "   \"input\": {\"timezone\": \"UTC\"}}}]},"
      "{\"role\": \"user\", \"content\": [{\"toolResult\": {\"toolUseId\":"
      "  \"t1\", \"status\": \"success\", \"content\": [{\"text\": \"10:00\"},"
      "  {\"json\": {\"hour\": 10}}, {\"image\": {\"format\": \"png\"}}]}}]},"
      "{\"role\": \"assistant\", \"content\": [{\"text\": \"It is ten.\"},"
      "  {\"text\": \"Anything else?\"}, {\"reasoningContent\": {}}]},"
      "{\"role\": \"user\", \"content\": \"a plain string\"},"
      "{\"role\": \"user\", \"content\": [{\"toolResult\": {\"toolUseId\":"
      "  \"t2\", \"status\": \"error\", \"content\": []}}]},"
      "{\"role\": \"assistant\", \"content\": []}" "]";
  GError *err = NULL;
  GPtrArray *h = gst_bidi_history_parse (json, &err);
  const GstBidiBlock *b;
  gchar *text;

  fail_unless (h != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (h->len, 7);

  b = block (h, 0, 0);
  fail_unless_equals_int (b->type, GST_BIDI_BLOCK_TEXT);
  fail_unless_equals_string (b->text, "What time is it?");
  fail_if (((GstBidiMessage *) g_ptr_array_index (h, 0))->assistant);

  fail_unless (((GstBidiMessage *) g_ptr_array_index (h, 1))->assistant);
  b = block (h, 1, 1);
  fail_unless_equals_int (b->type, GST_BIDI_BLOCK_TOOL_USE);
  fail_unless_equals_string (b->tool_use_id, "t1");
  fail_unless_equals_string (b->name, "current_time");
  fail_unless_equals_string (b->input, "{\"timezone\":\"UTC\"}");

  b = block (h, 2, 0);
  fail_unless_equals_int (b->type, GST_BIDI_BLOCK_TOOL_RESULT);
  fail_unless_equals_string (b->tool_use_id, "t1");
  fail_if (b->error);
  /* text and json blocks, one per line; the image is left out */
  fail_unless_equals_string (b->content, "10:00\n{\"hour\":10}");

  /* two text blocks, one per line; reasoning is skipped */
  fail_unless_equals_int (((GstBidiMessage *) g_ptr_array_index (h,
              3))->blocks->len, 2);
  text = gst_bidi_message_text (g_ptr_array_index (h, 3));
  fail_unless_equals_string (text, "It is ten.\nAnything else?");
  g_free (text);

  text = gst_bidi_message_text (g_ptr_array_index (h, 4));
  fail_unless_equals_string (text, "a plain string");
  g_free (text);

  b = block (h, 5, 0);
  fail_unless (b->error);
  fail_unless_equals_string (b->content, "");

  fail_unless (gst_bidi_message_text (g_ptr_array_index (h, 6)) == NULL);
  g_ptr_array_unref (h);

  /* nothing is an empty history */
  h = gst_bidi_history_parse (NULL, NULL);
  fail_unless (h != NULL && h->len == 0);
  g_ptr_array_unref (h);
  h = gst_bidi_history_parse ("[]", NULL);
  fail_unless (h != NULL && h->len == 0);
  g_ptr_array_unref (h);
}

GST_END_TEST;

static const struct
{
  const gchar *json;
  const gchar *says;
} bad_histories[] = {
  {"{\"role\": \"user\"}", "JSON array"},
  {"[{\"role\": \"user\", \"content\": []}", "not valid JSON"},
  {"[{'role': 'user'}]", "not valid JSON"},
  {"[42]", "History message 0 is not a JSON object"},
  {"[{\"role\": \"system\", \"content\": []}]", "neither \"user\""},
  {"[{\"role\": \"user\"}]", "no \"content\" list"},
  {"[{\"role\": \"user\", \"content\": [{\"text\": \"a\"}]},"
        "{\"role\": \"user\", \"content\": [{\"text\": 5}]}]",
      "message 1: content block 0 has a \"text\" that is not a string"},
  {"[{\"role\": \"user\", \"content\": [{\"toolUse\": {\"toolUseId\": \"x\","
        "\"name\": \"n\"}}]}]", "toolUse in a user message"},
  {"[{\"role\": \"assistant\", \"content\": [{\"toolUse\": {\"name\": "
        "\"n\"}}]}]", "without a toolUseId"},
  {"[{\"role\": \"assistant\", \"content\": [{\"toolUse\": {\"toolUseId\": "
        "\"x\", \"name\": \"n\", \"input\": [1]}}]}]", "input is not"},
  {"[{\"role\": \"assistant\", \"content\": [{\"toolResult\": "
        "{\"toolUseId\": \"x\"}}]}]", "toolResult in an assistant"},
  {"[{\"role\": \"user\", \"content\": [{\"toolResult\": {\"toolUseId\": "
        "\"x\", \"status\": \"maybe\"}}]}]", "neither success nor error"},
  {"[{\"role\": \"user\", \"content\": [{\"toolResult\": {\"toolUseId\": "
        "\"x\", \"content\": \"text\"}}]}]", "content is not a list"},
  {"[{\"role\": \"user\", \"content\": [1]}]", "block 0 is not a JSON object"},
};

GST_START_TEST (test_parse_refuses_bad_history)
{
  GError *err = NULL;
  GPtrArray *h = gst_bidi_history_parse (bad_histories[__i__].json, &err);

  fail_unless (h == NULL, "accepted %s", bad_histories[__i__].json);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS));
  fail_unless (strstr (err->message, bad_histories[__i__].says) != NULL,
      "%s: \"%s\" does not say \"%s\"", bad_histories[__i__].json,
      err->message, bad_histories[__i__].says);
  g_error_free (err);
}

GST_END_TEST;

/* Untrusted input: deep nesting and huge documents are refused before
 * json-glib recurses into them */
GST_START_TEST (test_parse_untrusted)
{
  GString *deep = g_string_new ("[{\"role\": \"user\", \"content\": [");
  GError *err = NULL;
  GPtrArray *h;
  guint i;

  for (i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  h = gst_bidi_history_parse (deep->str, &err);
  fail_unless (h == NULL);
  fail_unless (strstr (err->message, "nesting") != NULL, "%s", err->message);
  g_clear_error (&err);
  g_string_free (deep, TRUE);

  /* not UTF-8 */
  h = gst_bidi_history_parse ("[{\"role\": \"user\", \"content\": \"\xff\"}]",
      &err);
  fail_unless (h == NULL);
  g_clear_error (&err);
}

GST_END_TEST;

/* ---------------------------------------------------------------------- */
/* GstBidiHistory */

/* @json parsed as a history, failing the test when it does not parse */
static GPtrArray *
parse_or_fail (const gchar * json)
{
  GError *err = NULL;
  GPtrArray *h = gst_bidi_history_parse (json, &err);

  fail_unless (h != NULL, "does not parse (%s): %.200s",
      err ? err->message : "", json);
  return h;
}

/* The history of @history, parsed */
static GPtrArray *
history_messages (GstBidiHistory * history)
{
  gchar *json = gst_bidi_history_to_json (history);
  GPtrArray *h = parse_or_fail (json);

  fail_unless_equals_int (h->len, gst_bidi_history_length (history));
  g_free (json);
  return h;
}

static GstBidiMessage *
message (GPtrArray * messages, guint m)
{
  fail_unless (m < messages->len);
  return g_ptr_array_index (messages, m);
}

static void
check_text_message (GPtrArray * messages, guint m, gboolean assistant,
    const gchar * text)
{
  GstBidiMessage *msg = message (messages, m);
  gchar *t = gst_bidi_message_text (msg);

  fail_unless_equals_int (msg->assistant, assistant);
  fail_unless_equals_int (msg->blocks->len, 1);
  fail_unless_equals_string (t, text);
  g_free (t);
}

/* messages @m and @m + 1 are a call of @name and its result */
static void
check_tool_pair (GPtrArray * messages, guint m, const gchar * id,
    const gchar * name, const gchar * input, const gchar * content,
    gboolean error)
{
  const GstBidiBlock *b;

  fail_unless (message (messages, m)->assistant);
  fail_unless_equals_int (message (messages, m)->blocks->len, 1);
  b = block (messages, m, 0);
  fail_unless_equals_int (b->type, GST_BIDI_BLOCK_TOOL_USE);
  fail_unless_equals_string (b->tool_use_id, id);
  fail_unless_equals_string (b->name, name);
  fail_unless_equals_string (b->input, input);

  fail_if (message (messages, m + 1)->assistant);
  fail_unless_equals_int (message (messages, m + 1)->blocks->len, 1);
  b = block (messages, m + 1, 0);
  fail_unless_equals_int (b->type, GST_BIDI_BLOCK_TOOL_RESULT);
  fail_unless_equals_string (b->tool_use_id, id);
  fail_unless_equals_string (b->content, content);
  fail_unless_equals_int (b->error, error);
}

GST_START_TEST (test_history_append_round_trip)
{
  GstBidiHistory *history = gst_bidi_history_new ();
  GError *err = NULL;
  GPtrArray *h;
  gchar *json;

  json = gst_bidi_history_to_json (history);
  fail_unless_equals_string (json, "[]");
  g_free (json);

  fail_unless (gst_bidi_history_add_text (history, FALSE, "What time is it?",
          &err));
  fail_unless (gst_bidi_history_add_text (history, TRUE, "Let me look.", NULL));
  /* nothing said, nothing added */
  fail_unless (gst_bidi_history_add_text (history, TRUE, "", NULL));
  fail_unless (gst_bidi_history_add_text (history, TRUE, NULL, NULL));
  fail_unless_equals_int (gst_bidi_history_length (history), 2);

  fail_unless (gst_bidi_history_add_tool_pair (history, "t1", "current_time",
          "{\"timezone\": \"UTC\"}", "{\"time\": \"10:00\"}", FALSE, &err));
  /* input that is not an object: {}; a result that is not JSON: text */
  fail_unless (gst_bidi_history_add_tool_pair (history, "t2", "lookup",
          "not json", "It is \"ten\"\nor so", TRUE, NULL));
  fail_unless (gst_bidi_history_add_tool_pair (history, "t3", "lookup",
          "[1, 2]", "42", FALSE, NULL));
  fail_unless (gst_bidi_history_add_tool_pair (history, "t4", "lookup",
          NULL, NULL, FALSE, NULL));
  /* invalid UTF-8 is repaired, control characters escaped */
  fail_unless (gst_bidi_history_add_text (history, TRUE,
          "caf\xe9 \xc3\xa9t\xc3\xa9\n\x01", NULL));
  fail_unless_equals_int (gst_bidi_history_length (history), 11);

  h = history_messages (history);
  check_text_message (h, 0, FALSE, "What time is it?");
  check_text_message (h, 1, TRUE, "Let me look.");
  check_tool_pair (h, 2, "t1", "current_time", "{\"timezone\":\"UTC\"}",
      "{\"time\":\"10:00\"}", FALSE);
  check_tool_pair (h, 4, "t2", "lookup", "{}", "It is \"ten\"\nor so", TRUE);
  check_tool_pair (h, 6, "t3", "lookup", "{}", "42", FALSE);
  check_tool_pair (h, 8, "t4", "lookup", "{}", "", FALSE);
  check_text_message (h, 10, TRUE, "caf\xef\xbf\xbd \xc3\xa9t\xc3\xa9\n\x01");
  g_ptr_array_unref (h);

  /* Strands' shape, as written */
  json = gst_bidi_history_to_json (history);
  fail_unless (strstr (json, "{\"role\":\"assistant\",\"content\":[{\"toolUse"
          "\":{\"toolUseId\":\"t1\",\"name\":\"current_time\",\"input\":{\""
          "timezone\":\"UTC\"}}}]}") != NULL, "%s", json);
  fail_unless (strstr (json, "{\"role\":\"user\",\"content\":[{\"toolResult"
          "\":{\"toolUseId\":\"t1\",\"status\":\"success\",\"content\":[{\""
          "json\":{\"time\":\"10:00\"}}]}}]}") != NULL, "%s", json);
  fail_unless (strstr (json, "\"status\":\"error\",\"content\":[{\"text\":"
          "\"It is \\\"ten\\\"\\nor so\"}]") != NULL, "%s", json);
  fail_unless (strstr (json, "[{\"json\":42}]") != NULL, "%s", json);
  g_free (json);

  gst_bidi_history_free (history);
}

GST_END_TEST;

/* @levels nested arrays around 1, inside an object when @object */
static gchar *
nested (guint levels, gboolean object)
{
  GString *s = g_string_new (object ? "{\"a\": " : "");
  guint i;

  for (i = 0; i < levels; i++)
    g_string_append_c (s, '[');
  g_string_append_c (s, '1');
  for (i = 0; i < levels; i++)
    g_string_append_c (s, ']');
  if (object)
    g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

/* However deep the JSON handed over, the history stays parseable */
GST_START_TEST (test_history_tool_pair_limits)
{
  GstBidiHistory *history = gst_bidi_history_new ();
  guint depth = GST_BIDI_HISTORY_MAX_JSON_DEPTH;
  const GstBidiBlock *b;
  gchar *input, *result;
  GPtrArray *h;

  /* array / message / content / block / toolUse / input: the input may
   * nest depth - 5 levels (itself one of them) */
  input = nested (depth - 6, TRUE);
  result = nested (depth - 7, FALSE);
  fail_unless (gst_bidi_history_add_tool_pair (history, "deep", "t", input,
          result, FALSE, NULL));
  g_free (input);
  g_free (result);
  input = nested (depth - 5, TRUE);
  result = nested (depth - 6, FALSE);
  fail_unless (gst_bidi_history_add_tool_pair (history, "deeper", "t", input,
          result, FALSE, NULL));

  h = history_messages (history);
  fail_unless_equals_int (h->len, 4);
  b = block (h, 0, 0);
  fail_unless_equals_int (strlen (b->input), 2 * (depth - 6) + 7);
  b = block (h, 1, 0);
  fail_unless_equals_int (strlen (b->content), 2 * (depth - 7) + 1);
  /* one level more: no input, and the result as text */
  b = block (h, 2, 0);
  fail_unless_equals_string (b->input, "{}");
  b = block (h, 3, 0);
  fail_unless_equals_string (b->content, result);
  g_ptr_array_unref (h);
  g_free (input);
  g_free (result);

  gst_bidi_history_free (history);
}

GST_END_TEST;

GST_START_TEST (test_history_set_messages)
{
  const gchar *json = "["
      "{\"role\": \"user\", \"content\": [{\"text\": \"Hi\"}]},"
      "{\"role\": \"assistant\", \"content\": [{\"text\": \"Hello.\"},"
      "  {\"image\": {\"format\": \"png\"}}]}" "]";
  GstBidiHistory *history = gst_bidi_history_new ();
  GError *err = NULL;
  GPtrArray *h;
  gchar *out;

  fail_unless (gst_bidi_history_set_messages (history, json, &err));
  fail_unless_equals_int (gst_bidi_history_length (history), 2);
  fail_unless (gst_bidi_history_add_text (history, FALSE, "Bye", NULL));
  h = history_messages (history);
  check_text_message (h, 0, FALSE, "Hi");
  /* kept as given: the image is still there for Strands */
  fail_unless_equals_int (message (h, 1)->blocks->len, 1);
  check_text_message (h, 2, FALSE, "Bye");
  g_ptr_array_unref (h);
  out = gst_bidi_history_to_json (history);
  fail_unless (strstr (out, "{\"image\":{\"format\":\"png\"}}") != NULL);
  g_free (out);

  /* refused: the history is unchanged */
  fail_if (gst_bidi_history_set_messages (history,
          "[{\"role\": \"user\", \"content\": [{\"toolUse\": {}}]}]", &err));
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS));
  fail_unless (strstr (err->message, "message 0: content block 0") != NULL,
      "%s", err->message);
  g_clear_error (&err);
  fail_if (gst_bidi_history_set_messages (history, "[{\"role\": \"user\"",
          &err));
  fail_unless (strstr (err->message, "not valid JSON") != NULL);
  g_clear_error (&err);
  fail_if (gst_bidi_history_set_messages (history, "{}", NULL));
  fail_unless_equals_int (gst_bidi_history_length (history), 3);

  /* replaced, not appended to */
  fail_unless (gst_bidi_history_set_messages (history,
          "[{\"role\": \"user\", \"content\": \"plain\"}]", NULL));
  fail_unless_equals_int (gst_bidi_history_length (history), 1);
  fail_unless (gst_bidi_history_set_messages (history, NULL, NULL));
  fail_unless_equals_int (gst_bidi_history_length (history), 0);
  fail_unless (gst_bidi_history_set_messages (history, "", NULL));
  fail_unless (gst_bidi_history_set_messages (history, "[]", NULL));
  out = gst_bidi_history_to_json (history);
  fail_unless_equals_string (out, "[]");
  g_free (out);

  gst_bidi_history_free (history);
}

GST_END_TEST;

/* The oldest messages are forgotten, a tool call with its result */
GST_START_TEST (test_history_max_messages)
{
  GstBidiHistory *history = gst_bidi_history_new ();
  GString *json = g_string_new ("[{\"role\": \"user\", \"content\": \"0\"},"
      "{\"role\": \"assistant\", \"content\": [{\"toolUse\": {\"toolUseId\":"
      " \"t\", \"name\": \"n\", \"input\": {}}}]},"
      "{\"role\": \"user\", \"content\": [{\"toolResult\": {\"toolUseId\":"
      " \"t\", \"content\": [{\"text\": \"r\"}]}}]}");
  GPtrArray *h;
  gchar *text;
  guint i;

  for (i = 3; i < GST_BIDI_HISTORY_MAX_MESSAGES; i++)
    g_string_append_printf (json, ",{\"role\": \"%s\", \"content\": \"%u\"}",
        i % 2 ? "assistant" : "user", i);
  g_string_append_c (json, ']');
  fail_unless (gst_bidi_history_set_messages (history, json->str, NULL));
  g_string_free (json, TRUE);
  fail_unless_equals_int (gst_bidi_history_length (history),
      GST_BIDI_HISTORY_MAX_MESSAGES);

  /* one too many: the first goes */
  fail_unless (gst_bidi_history_add_text (history, FALSE, "new 1", NULL));
  fail_unless_equals_int (gst_bidi_history_length (history),
      GST_BIDI_HISTORY_MAX_MESSAGES);
  h = history_messages (history);
  fail_unless_equals_int (block (h, 0, 0)->type, GST_BIDI_BLOCK_TOOL_USE);
  g_ptr_array_unref (h);

  /* the tool call goes with its result */
  fail_unless (gst_bidi_history_add_text (history, TRUE, "new 2", NULL));
  fail_unless_equals_int (gst_bidi_history_length (history),
      GST_BIDI_HISTORY_MAX_MESSAGES - 1);
  h = history_messages (history);
  text = gst_bidi_message_text (message (h, 0));
  fail_unless_equals_string (text, "3");
  g_free (text);
  check_text_message (h, h->len - 1, TRUE, "new 2");
  g_ptr_array_unref (h);

  /* a pair at the limit */
  fail_unless (gst_bidi_history_add_text (history, FALSE, "new 3", NULL));
  fail_unless (gst_bidi_history_add_tool_pair (history, "u", "n", "{}", "1",
          FALSE, NULL));
  fail_unless_equals_int (gst_bidi_history_length (history),
      GST_BIDI_HISTORY_MAX_MESSAGES);
  h = history_messages (history);
  check_tool_pair (h, h->len - 2, "u", "n", "{}", "1", FALSE);
  g_ptr_array_unref (h);

  gst_bidi_history_free (history);
}

GST_END_TEST;

/* The history stays small enough to be parsed again (16 MiB of JSON) */
GST_START_TEST (test_history_max_bytes)
{
  GstBidiHistory *history = gst_bidi_history_new ();
  gsize big = 6 * 1024 * 1024;
  gchar *text = g_strnfill (big, 'a');
  GError *err = NULL;
  GPtrArray *h;
  gchar *json;

  fail_unless (gst_bidi_history_add_text (history, FALSE, "first", NULL));
  text[0] = '1';
  fail_unless (gst_bidi_history_add_text (history, TRUE, text, NULL));
  text[0] = '2';
  fail_unless (gst_bidi_history_add_text (history, FALSE, text, NULL));
  fail_unless_equals_int (gst_bidi_history_length (history), 3);
  text[0] = '3';
  fail_unless (gst_bidi_history_add_text (history, TRUE, text, NULL));
  fail_unless_equals_int (gst_bidi_history_length (history), 2);
  json = gst_bidi_history_to_json (history);
  fail_unless (strlen (json) <= 16 * 1024 * 1024);
  h = parse_or_fail (json);
  fail_unless_equals_int (h->len, 2);
  fail_unless_equals_int (block (h, 0, 0)->text[0], '2');
  fail_unless_equals_int (block (h, 1, 0)->text[0], '3');
  g_ptr_array_unref (h);
  g_free (json);
  g_free (text);

  /* more than could ever be kept: refused, the history unchanged */
  text = g_strnfill (16 * 1024 * 1024, 'b');
  fail_if (gst_bidi_history_add_text (history, TRUE, text, &err));
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NO_SPACE_LEFT));
  fail_unless (strstr (err->message, "bytes") != NULL);
  g_clear_error (&err);
  fail_unless_equals_int (gst_bidi_history_length (history), 2);
  g_free (text);

  gst_bidi_history_free (history);
}

GST_END_TEST;

/* A session file in a directory of its own */
static gchar *
make_session_path (void)
{
  GError *err = NULL;
  gchar *dir = g_dir_make_tmp ("bidihistory-XXXXXX", &err);
  gchar *path;

  fail_unless (dir != NULL, "%s", err ? err->message : "");
  path = g_build_filename (dir, "session.jsonl", NULL);
  g_free (dir);
  return path;
}

static void
remove_session (gchar * path)
{
  gchar *dir = g_path_get_dirname (path);

  g_remove (path);
  fail_unless (g_rmdir (dir) == 0, "%s: %s", dir, g_strerror (errno));
  g_free (dir);
  g_free (path);
}

static gchar *
read_session (const gchar * path, gsize * len)
{
  gchar *data = NULL;

  fail_unless (g_file_get_contents (path, &data, len, NULL));
  return data;
}

static void
append_to_session (const gchar * path, const gchar * data, gsize len)
{
  FILE *f = fopen (path, "ab");

  fail_unless (f != NULL);
  fail_unless_equals_int (fwrite (data, 1, len, f), len);
  fclose (f);
}

static gsize
session_size (const gchar * path)
{
  GStatBuf st;

  fail_unless (g_stat (path, &st) == 0);
  return st.st_size;
}

/* Every line of the file is a message and ends with a newline (blank
 * lines aside); returns how many there are */
static guint
check_session_lines (const gchar * path)
{
  gsize len;
  gchar *data = read_session (path, &len);
  GString *json = g_string_new ("[");
  gchar **lines, **l;
  GPtrArray *h;
  guint n = 0;

  fail_unless (len == 0 || data[len - 1] == '\n');
  lines = g_strsplit (data, "\n", -1);
  for (l = lines; *l; l++) {
    if (!**l)
      continue;
    g_string_append_printf (json, "%s%s", n > 0 ? "," : "", *l);
    n++;
  }
  g_string_append_c (json, ']');
  h = parse_or_fail (json->str);
  fail_unless_equals_int (h->len, n);
  g_ptr_array_unref (h);
  g_string_free (json, TRUE);
  g_strfreev (lines);
  g_free (data);
  return n;
}

static gsize
session_size_or_0 (const gchar * path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gsize) st.st_size : 0;
}

static GstBidiHistory *
open_session (const gchar * path, gchar ** warning)
{
  GstBidiHistory *history = gst_bidi_history_new ();
  GError *err = NULL;

  fail_unless (gst_bidi_history_open_file (history, path, warning, &err),
      "%s", err ? err->message : "");
  return history;
}

static void
open_session_clean (const gchar * path, GstBidiHistory ** history)
{
  gchar *warning = NULL;

  *history = open_session (path, &warning);
  fail_unless (warning == NULL, "%s", warning);
}

GST_START_TEST (test_session_reopen)
{
  gchar *path = make_session_path ();
  GstBidiHistory *history, *again;
  gchar *json, *json2;
  GStatBuf st;

  open_session_clean (path, &history);
  fail_unless (g_stat (path, &st) == 0);
  fail_unless_equals_int (st.st_mode & 0777, 0600);
  fail_unless_equals_int (gst_bidi_history_length (history), 0);

  fail_unless (gst_bidi_history_add_text (history, FALSE, "Hi \xe2\x9c\x93",
          NULL));
  fail_unless (gst_bidi_history_add_tool_pair (history, "t1", "calc",
          "{\"x\": 1.5}", "{\"y\": [1, \"two\"]}", FALSE, NULL));
  fail_unless (gst_bidi_history_add_text (history, TRUE, "line one\nline "
          "two", NULL));
  fail_unless_equals_int (check_session_lines (path), 4);
  json = gst_bidi_history_to_json (history);
  gst_bidi_history_free (history);

  open_session_clean (path, &again);
  json2 = gst_bidi_history_to_json (again);
  fail_unless_equals_string (json2, json);
  g_free (json2);

  /* appends go on after what was there */
  fail_unless (gst_bidi_history_add_text (again, FALSE, "More", NULL));
  gst_bidi_history_close_file (again);
  /* closed: memory only */
  fail_unless (gst_bidi_history_add_text (again, TRUE, "Not written", NULL));
  fail_unless_equals_int (gst_bidi_history_length (again), 6);
  gst_bidi_history_free (again);
  fail_unless_equals_int (check_session_lines (path), 5);

  /* opening appends the file to what the history holds */
  history = gst_bidi_history_new ();
  fail_unless (gst_bidi_history_set_messages (history,
          "[{\"role\": \"user\", \"content\": \"before\"}]", NULL));
  fail_unless (gst_bidi_history_open_file (history, path, NULL, NULL));
  fail_unless_equals_int (gst_bidi_history_length (history), 6);
  json2 = gst_bidi_history_to_json (history);
  fail_unless (g_str_has_prefix (json2, "[{\"role\":\"user\",\"content\":"
          "\"before\"},{\"role\":\"user\",\"content\":[{\"text\":\"Hi "));
  g_free (json2);
  gst_bidi_history_free (history);

  g_free (json);
  remove_session (path);
}

GST_END_TEST;

/* What json-glib 1.6 writes as invalid JSON (the number "1e+20.0", U+001F
 * unescaped): the history and its session file keep it as JSON that reads
 * back (found by the fuzz targets; their corpora keep the inputs) */
GST_START_TEST (test_history_written_valid)
{
  const gchar *messages = "[{\"role\": \"assistant\", \"content\": "
      "[{\"toolUse\": {\"toolUseId\": \"t1\", \"name\": \"calc\", "
      "\"input\": {\"x\": 1e20}}}]}, {\"role\": \"user\", \"content\": "
      "[{\"toolResult\": {\"toolUseId\": \"t1\", \"status\": \"success\", "
      "\"content\": [{\"json\": {\"y\": 7e51}}]}}]}, {\"role\": "
      "\"assistant\", \"content\": [{\"text\": \"a\\u001fb\"}]}]";
  gchar *path = make_session_path ();
  GstBidiHistory *history = gst_bidi_history_new (), *again;
  gchar *json, *json2, *warning = NULL;
  GError *err = NULL;

  fail_unless (gst_bidi_history_set_messages (history, messages, &err), "%s",
      err ? err->message : "");
  json = gst_bidi_history_to_json (history);
  fail_unless (strstr (json, "\"x\":1e+20}") != NULL, "%s", json);
  fail_unless (strstr (json, "\"y\":7e+51}") != NULL, "%s", json);
  fail_unless (strstr (json, "\"a\\u001fb\"") != NULL, "%s", json);
  again = gst_bidi_history_new ();
  fail_unless (gst_bidi_history_set_messages (again, json, &err), "%s",
      err ? err->message : "");
  json2 = gst_bidi_history_to_json (again);
  fail_unless_equals_string (json2, json);
  g_free (json2);
  gst_bidi_history_free (again);
  gst_bidi_history_free (history);

  /* written to the session file, read back whole */
  open_session_clean (path, &history);
  fail_unless (gst_bidi_history_add_tool_pair (history, "t1", "calc",
          "{\"x\": 1e20}", "{\"y\": 7e51}", FALSE, NULL));
  fail_unless (gst_bidi_history_add_text (history, TRUE, "a\x1f" "b", NULL));
  g_free (json);
  json = gst_bidi_history_to_json (history);
  gst_bidi_history_free (history);
  again = gst_bidi_history_new ();
  fail_unless (gst_bidi_history_open_file (again, path, &warning, &err), "%s",
      err ? err->message : "");
  fail_unless (warning == NULL, "%s", warning);
  fail_unless_equals_int (gst_bidi_history_length (again), 3);
  json2 = gst_bidi_history_to_json (again);
  fail_unless_equals_string (json2, json);
  g_free (json2);
  g_free (json);
  gst_bidi_history_free (again);
  remove_session (path);
}

GST_END_TEST;

/* A tool call and its result: two lines of one write */
GST_START_TEST (test_session_tool_pair_lines)
{
  gchar *path = make_session_path ();
  GstBidiHistory *history;
  gchar *data, **lines, *warning = NULL;
  gsize len, first;
  GPtrArray *h;

  open_session_clean (path, &history);
  fail_unless (gst_bidi_history_add_text (history, FALSE, "Time?", NULL));
  first = session_size (path);
  fail_unless (gst_bidi_history_add_tool_pair (history, "t1", "now", "{}",
          "{\"time\": \"10:00\"}", FALSE, NULL));
  gst_bidi_history_free (history);

  data = read_session (path, &len);
  lines = g_strsplit (data + first, "\n", -1);
  fail_unless_equals_int (g_strv_length (lines), 3);
  fail_unless_equals_string (lines[2], "");
  fail_unless (g_str_has_prefix (lines[0], "{\"role\":\"assistant\","
          "\"content\":[{\"toolUse\":{\"toolUseId\":\"t1\""), "%s", lines[0]);
  fail_unless (g_str_has_prefix (lines[1], "{\"role\":\"user\","
          "\"content\":[{\"toolResult\":{\"toolUseId\":\"t1\""), "%s",
      lines[1]);

  /* the write of the pair cut short: the call goes too */
  fail_unless (truncate (path, len - strlen (lines[1]) / 2) == 0);
  history = open_session (path, &warning);
  fail_unless (warning != NULL);
  fail_unless (strstr (warning, "skipped 2 bad lines: line 3 is not valid "
          "JSON") != NULL, "%s", warning);
  fail_unless (strstr (warning, "line 2 is a toolUse without the "
          "toolResult line") != NULL, "%s", warning);
  fail_unless (strstr (warning, "Cut the file back to") != NULL);
  g_free (warning);
  fail_unless_equals_int (session_size (path), first);
  h = history_messages (history);
  fail_unless_equals_int (h->len, 1);
  check_text_message (h, 0, FALSE, "Time?");
  g_ptr_array_unref (h);
  gst_bidi_history_free (history);

  /* a call alone at the end, newline included, is half a pair too */
  append_to_session (path, lines[0], strlen (lines[0]));
  append_to_session (path, "\n", 1);
  history = open_session (path, &warning);
  fail_unless (warning != NULL && strstr (warning, "skipped 1 bad line: "
          "line 2 is a toolUse without") != NULL, "%s", warning);
  g_free (warning);
  fail_unless_equals_int (session_size (path), first);
  fail_unless_equals_int (gst_bidi_history_length (history), 1);
  gst_bidi_history_free (history);

  g_strfreev (lines);
  g_free (data);
  remove_session (path);
}

GST_END_TEST;

#define GOOD_LINE "{\"role\":\"user\",\"content\":[{\"text\":\"half a line\"}]}"

/* What a session file may end with after a crash, or worse */
static const struct
{
  const gchar *data;
  gsize len;
  const gchar *says;            /* NULL: nothing is wrong */
} bad_endings[] = {
  {"garbage", 7, "line 3 is not valid JSON (unexpected 'garbage' at "
        "offset 0) and ends without a newline (an interrupted write)"},
  /* half a line */
  {GOOD_LINE, sizeof (GOOD_LINE) / 2, "line 3 is not valid JSON"},
  {"garbage\n", 8, "line 3 is not valid JSON"},
  {"{\"role\": \"system\", \"content\": []}\n", 35,
      "line 3 has a role that is neither"},
  {"{\"role\": \"user\", \"content\": [{\"text\": 1}]}\n", 44,
      "line 3: content block 0 has a \"text\" that is not a string"},
  /* a file extended by zeros */
  {"\0\0\0\0\0\0\0\0", 8, "line 3 is not valid JSON (not valid UTF-8"},
  {"\xff\xfe\n", 3, "line 3 is not valid JSON (not valid UTF-8"},
  {"bad\n\n \r\nworse", 13, "skipped 2 bad lines: line 3 is not valid JSON "
        "(unexpected 'bad' at offset 0); line 6 is not valid JSON"},
  /* a whole message whose newline is missing: kept */
  {GOOD_LINE, sizeof (GOOD_LINE) - 1, NULL},
  {"\n\n", 2, NULL},
};

/* A bad last line is skipped and cut off the file */
GST_START_TEST (test_session_bad_last_line)
{
  gchar *path = make_session_path ();
  GstBidiHistory *history;
  gchar *warning = NULL, *json, *json2;
  gboolean kept = bad_endings[__i__].says == NULL &&
      bad_endings[__i__].data[0] == '{';
  gsize good;
  GPtrArray *h;

  open_session_clean (path, &history);
  fail_unless (gst_bidi_history_add_text (history, FALSE, "one", NULL));
  fail_unless (gst_bidi_history_add_text (history, TRUE, "two", NULL));
  json = gst_bidi_history_to_json (history);
  gst_bidi_history_free (history);
  good = session_size (path);

  append_to_session (path, bad_endings[__i__].data, bad_endings[__i__].len);
  history = open_session (path, &warning);
  if (bad_endings[__i__].says) {
    gchar *name = g_strdup_printf ("Session file '%s': skipped", path);

    fail_unless (warning != NULL);
    fail_unless (g_str_has_prefix (warning, name), "%s", warning);
    fail_unless (strstr (warning, bad_endings[__i__].says) != NULL,
        "\"%s\" does not say \"%s\"", warning, bad_endings[__i__].says);
    fail_unless (strstr (warning, "Cut the file back to") != NULL);
    fail_unless (g_str_has_suffix (warning, ", the end of line 2, so that "
            "new messages start on a clean line"), "%s", warning);
    /* cut back to the good lines */
    fail_unless_equals_int (session_size (path), good);
    g_free (name);
  } else {
    fail_unless (warning == NULL, "%s", warning);
  }
  g_free (warning);

  json2 = gst_bidi_history_to_json (history);
  if (!kept)
    fail_unless_equals_string (json2, json);
  g_free (json2);
  fail_unless_equals_int (gst_bidi_history_length (history), kept ? 3 : 2);

  /* new messages start on a clean line */
  fail_unless (gst_bidi_history_add_text (history, FALSE, "three", NULL));
  gst_bidi_history_free (history);
  open_session_clean (path, &history);
  h = history_messages (history);
  fail_unless_equals_int (h->len, kept ? 4 : 3);
  check_text_message (h, 0, FALSE, "one");
  check_text_message (h, h->len - 1, FALSE, "three");
  if (kept)
    check_text_message (h, 2, FALSE, "half a line");
  g_ptr_array_unref (h);
  gst_bidi_history_free (history);
  check_session_lines (path);

  g_free (json);
  remove_session (path);
}

GST_END_TEST;

/* What an editor or a damaged disk makes of a file whose only line is a
 * good message: a byte order mark in front, bytes that are not UTF-8 in
 * its text. The message is read (the bad bytes as U+FFFD), the file is not
 * emptied, and the conversation goes on after it. */
GST_START_TEST (test_session_bom_and_bad_utf8)
{
  static const struct
  {
    const gchar *data;
    const gchar *text;
    const gchar *says;
  } files[] = {
    {"\xef\xbb\xbf" GOOD_LINE "\n", "half a line", NULL},
    {"\xef\xbb\xbf" GOOD_LINE, "half a line", NULL},
    {"{\"role\":\"user\",\"content\":[{\"text\":\"caf\xe9\"}]}\n",
        "caf\xef\xbf\xbd", "read 1 line (the first: line 1) with U+FFFD"},
  };
  gchar *path = make_session_path ();
  GstBidiHistory *history;
  gchar *warning = NULL;
  GPtrArray *h;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (files); i++) {
    gsize size;

    g_unlink (path);
    append_to_session (path, files[i].data, strlen (files[i].data));
    size = session_size (path);
    history = open_session (path, &warning);
    if (files[i].says)
      fail_unless (warning && strstr (warning, files[i].says), "%u: %s", i,
          GST_STR_NULL (warning));
    else
      fail_unless (warning == NULL, "%u: %s", i, warning);
    g_clear_pointer (&warning, g_free);
    fail_unless_equals_int (gst_bidi_history_length (history), 1);
    /* nothing cut (a missing newline is added) */
    fail_unless (session_size (path) >= size, "%u", i);
    fail_unless (gst_bidi_history_add_text (history, TRUE, "next", NULL));
    gst_bidi_history_free (history);

    history = open_session (path, &warning);
    g_clear_pointer (&warning, g_free);
    h = history_messages (history);
    fail_unless_equals_int (h->len, 2);
    check_text_message (h, 0, FALSE, files[i].text);
    check_text_message (h, 1, TRUE, "next");
    g_ptr_array_unref (h);
    gst_bidi_history_free (history);
  }
  remove_session (path);
}

GST_END_TEST;

/* A bad line between good ones is skipped; the file is left alone */
GST_START_TEST (test_session_bad_middle_line)
{
  gchar *path = make_session_path ();
  const gchar *lines = GOOD_LINE "\n{\"role\": \"nobody\"}\n" GOOD_LINE "\n"
      "\n" "{oops\n" GOOD_LINE "\n";
  GstBidiHistory *history;
  gchar *warning = NULL, *before, *after;
  gsize len;
  GPtrArray *h;

  append_to_session (path, lines, strlen (lines));
  history = open_session (path, &warning);
  fail_unless (warning != NULL);
  fail_unless (strstr (warning, "skipped 2 bad lines: line 2 has a role "
          "that is neither \"user\" nor \"assistant\"; line 5 is not valid "
          "JSON") != NULL, "%s", warning);
  fail_unless (strstr (warning, "Cut") == NULL, "%s", warning);
  fail_unless (strstr (warning, path) != NULL);
  g_free (warning);
  /* nothing lost from the file */
  before = read_session (path, &len);
  fail_unless_equals_string (before, lines);
  fail_unless_equals_int (gst_bidi_history_length (history), 3);

  fail_unless (gst_bidi_history_add_text (history, TRUE, "after", NULL));
  gst_bidi_history_free (history);
  after = read_session (path, &len);
  fail_unless (g_str_has_prefix (after, before));
  history = open_session (path, &warning);
  fail_unless (warning != NULL && strstr (warning, "line 2") != NULL);
  g_free (warning);
  h = history_messages (history);
  fail_unless_equals_int (h->len, 4);
  check_text_message (h, 2, FALSE, "half a line");
  check_text_message (h, 3, TRUE, "after");
  g_ptr_array_unref (h);
  gst_bidi_history_free (history);

  g_free (before);
  g_free (after);
  remove_session (path);
}

GST_END_TEST;

/* The child of test_session_sigkill: appends big messages until killed,
 * telling the parent how many units (a text message or a tool pair) were
 * appended */
#define KILL_TEXT_LEN (1024 * 1024)
#define KILL_UNITS 40
#define KILL_ROUNDS 6

static void
append_until_killed (const gchar * path, gint report)
{
  GstBidiHistory *history = gst_bidi_history_new ();
  gchar *pad = g_strnfill (KILL_TEXT_LEN, 'x');
  guint i;

  if (!gst_bidi_history_open_file (history, path, NULL, NULL))
    _exit (2);
  for (i = 0; i < KILL_UNITS; i++) {
    gchar *text = g_strdup_printf ("%u %s", i, pad);
    gboolean ok;

    if (i % 2) {
      gchar *id = g_strdup_printf ("t%u", i);

      ok = gst_bidi_history_add_tool_pair (history, id, "pad", "{}", text,
          FALSE, NULL);
      g_free (id);
    } else {
      ok = gst_bidi_history_add_text (history, i % 4 == 2, text, NULL);
    }
    g_free (text);
    if (!ok || write (report, &i, sizeof (i)) != sizeof (i))
      _exit (3);
  }
  /* not killed in time: wait for it */
  for (;;)
    pause ();
}

/* The units loaded from the session, in order and whole */
static guint
check_units (GPtrArray * h)
{
  guint m = 0, unit = 0;

  while (m < h->len) {
    gchar *prefix = g_strdup_printf ("%u x", unit);

    if (unit % 2) {
      gchar *id = g_strdup_printf ("t%u", unit);
      const GstBidiBlock *b;

      fail_unless (m + 1 < h->len, "half a tool pair at message %u", m);
      b = block (h, m, 0);
      fail_unless_equals_int (b->type, GST_BIDI_BLOCK_TOOL_USE);
      fail_unless_equals_string (b->tool_use_id, id);
      b = block (h, m + 1, 0);
      fail_unless_equals_int (b->type, GST_BIDI_BLOCK_TOOL_RESULT);
      fail_unless_equals_string (b->tool_use_id, id);
      fail_unless (g_str_has_prefix (b->content, prefix));
      fail_unless_equals_int (strlen (b->content), strlen (prefix) +
          KILL_TEXT_LEN - 1);
      g_free (id);
      m += 2;
    } else {
      const GstBidiBlock *b = block (h, m, 0);

      fail_unless_equals_int (b->type, GST_BIDI_BLOCK_TEXT);
      fail_unless (g_str_has_prefix (b->text, prefix), "message %u", m);
      fail_unless_equals_int (strlen (b->text), strlen (prefix) +
          KILL_TEXT_LEN - 1);
      m++;
    }
    g_free (prefix);
    unit++;
  }
  return unit;
}

/* Killed while appending: every line but the last is whole, and nothing
 * appended before is lost */
GST_START_TEST (test_session_sigkill)
{
  guint round, partial = 0;

  for (round = 0; round < KILL_ROUNDS; round++) {
    gchar *path = make_session_path ();
    gchar *data, *warning = NULL;
    GstBidiHistory *history;
    gint report[2], status;
    gint64 deadline;
    guint acked = 0, n, units, lines;
    gsize len, i, line_start = 0;
    GPtrArray *h;
    pid_t pid;

    fail_unless (pipe (report) == 0);
    pid = fork ();
    fail_unless (pid >= 0);
    if (pid == 0) {
      close (report[0]);
      append_until_killed (path, report[1]);
    }
    close (report[1]);

    /* let it write a few lines, then kill it: in even rounds as soon as
     * the file grows past a point inside a line (most likely while that
     * line is being written), in odd ones a few ms later */
    deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
    while (session_size_or_0 (path) < (round + 1) * KILL_TEXT_LEN +
        KILL_TEXT_LEN / 2 && g_get_monotonic_time () < deadline) {
      if (round % 2)
        g_usleep (200);
    }
    if (round % 2)
      g_usleep (round * 1000);
    fail_unless (kill (pid, SIGKILL) == 0);
    fail_unless_equals_int (waitpid (pid, &status, 0), pid);
    fail_unless (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL,
        "child status %d", status);
    while (read (report[0], &n, sizeof (n)) == sizeof (n))
      acked = n + 1;
    close (report[0]);

    /* whole lines are messages; only the last may be cut short */
    data = read_session (path, &len);
    lines = 0;
    for (i = 0; i < len; i++) {
      if (data[i] == '\n') {
        gchar *json = g_strdup_printf ("[%.*s]", (gint) (i - line_start),
            data + line_start);

        g_ptr_array_unref (parse_or_fail (json));
        g_free (json);
        line_start = i + 1;
        lines++;
      }
    }
    if (line_start < len)
      partial++;
    g_free (data);

    history = open_session (path, &warning);
    if (warning) {
      gchar *cut = g_strdup_printf ("line %u ", lines + 1);
      gchar *call = g_strdup_printf ("line %u is a toolUse", lines);

      GST_INFO ("round %u: %s", round, warning);
      /* the cut line, or the call whose result it was */
      fail_unless (strstr (warning, cut) || strstr (warning, call), "%s",
          warning);
      fail_unless (strstr (warning, "interrupted write") != NULL);
      g_free (cut);
      g_free (call);
    }
    g_free (warning);
    h = history_messages (history);
    units = check_units (h);
    GST_INFO ("round %u: %u units acknowledged, %u loaded, %u lines%s",
        round, acked, units, lines, line_start < len ? " and a cut one" : "");
    fail_unless (units >= acked, "%u units acknowledged, %u loaded", acked,
        units);
    fail_unless (units <= acked + 1);
    g_ptr_array_unref (h);

    /* and it goes on cleanly */
    fail_unless (gst_bidi_history_add_text (history, FALSE, "after", NULL));
    gst_bidi_history_free (history);
    check_session_lines (path);
    history = open_session (path, &warning);
    fail_unless (warning == NULL, "%s", warning);
    fail_unless_equals_int (gst_bidi_history_length (history),
        units + units / 2 + 1);
    gst_bidi_history_free (history);
    remove_session (path);
  }
  GST_INFO ("%u of %u kills cut a line", partial, KILL_ROUNDS);
}

GST_END_TEST;

/* Two histories on one file: the second is refused until the first lets
 * go */
GST_START_TEST (test_session_locked)
{
  gchar *path = make_session_path ();
  GstBidiHistory *holder, *other = gst_bidi_history_new ();
  GError *err = NULL;

  open_session_clean (path, &holder);
  fail_unless (gst_bidi_history_add_text (holder, FALSE, "mine", NULL));

  fail_if (gst_bidi_history_open_file (other, path, NULL, &err));
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_BUSY), "%s", err->message);
  fail_unless (strstr (err->message, path) != NULL, "%s", err->message);
  fail_unless (strstr (err->message, "in use") != NULL, "%s", err->message);
  g_clear_error (&err);
  fail_unless_equals_int (gst_bidi_history_length (other), 0);
  /* no file: appends stay in memory */
  fail_unless (gst_bidi_history_add_text (other, FALSE, "lost", NULL));
  gst_bidi_history_set_messages (other, NULL, NULL);

  gst_bidi_history_close_file (holder);
  fail_unless (gst_bidi_history_open_file (other, path, NULL, &err),
      "%s", err ? err->message : "");
  fail_unless_equals_int (gst_bidi_history_length (other), 1);

  /* and the other way round, freeing the holder */
  fail_if (gst_bidi_history_open_file (holder, path, NULL, &err));
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_BUSY));
  g_clear_error (&err);
  gst_bidi_history_free (other);
  fail_unless (gst_bidi_history_open_file (holder, path, NULL, NULL));
  /* opening the file it has open again is fine */
  fail_unless (gst_bidi_history_open_file (holder, path, NULL, NULL));
  fail_unless_equals_int (gst_bidi_history_length (holder), 3);
  gst_bidi_history_free (holder);

  fail_unless_equals_int (check_session_lines (path), 1);
  remove_session (path);
}

GST_END_TEST;

static void
check_open_fails (const gchar * path, const gchar * says)
{
  GstBidiHistory *history = gst_bidi_history_new ();
  GError *err = NULL;

  fail_if (gst_bidi_history_open_file (history, path, NULL, &err));
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_OPEN_READ_WRITE), "%s", err->message);
  fail_unless (strstr (err->message, path) != NULL, "%s", err->message);
  fail_unless (strstr (err->message, says) != NULL, "\"%s\" does not say "
      "\"%s\"", err->message, says);
  g_error_free (err);
  /* still usable, in memory */
  fail_unless (gst_bidi_history_add_text (history, FALSE, "hi", NULL));
  gst_bidi_history_free (history);
}

GST_START_TEST (test_session_cannot_open)
{
  gchar *path = make_session_path ();
  gchar *dir = g_path_get_dirname (path);
  gchar *missing = g_build_filename (dir, "no", "such", "dir", NULL);
  gchar *under_file = g_build_filename (path, "x.jsonl", NULL);
  gint fd;

  check_open_fails (missing, "Could not open session file");
  check_open_fails (missing, g_strerror (ENOENT));
  check_open_fails (dir, "Could not open session file");

  /* a file, not a directory */
  append_to_session (path, "", 0);
  check_open_fails (under_file, g_strerror (ENOTDIR));

  /* too big to be read (sparse) */
  fd = open (path, O_WRONLY);
  fail_unless (fd >= 0);
  fail_unless (ftruncate (fd, 64 * 1024 * 1024 + 1) == 0);
  check_open_fails (path, "more than the limit of 64 MiB");
  /* a line too long to be read */
  fail_unless (ftruncate (fd, 17 * 1024 * 1024) == 0);
  check_open_fails (path, "line 1 is longer than the limit");
  close (fd);

  g_free (missing);
  g_free (under_file);
  g_free (dir);
  remove_session (path);
}

GST_END_TEST;

/* A failed write: the message is kept in memory, the file keeps no half
 * line */
GST_START_TEST (test_session_write_error)
{
  gchar *path = make_session_path ();
  GstBidiHistory *history;
  struct rlimit old, limit;
  void (*old_handler) (int);
  GError *err = NULL;
  gsize size;
  GPtrArray *h;

  open_session_clean (path, &history);
  fail_unless (gst_bidi_history_add_text (history, FALSE, "first", NULL));
  size = session_size (path);

  /* the file may not grow 10 bytes more: a short write, then EFBIG */
  fail_unless (getrlimit (RLIMIT_FSIZE, &old) == 0);
  limit = old;
  limit.rlim_cur = size + 10;
  old_handler = signal (SIGXFSZ, SIG_IGN);
  fail_unless (setrlimit (RLIMIT_FSIZE, &limit) == 0);
  fail_if (gst_bidi_history_add_text (history, TRUE, "not written", &err));
  fail_unless (setrlimit (RLIMIT_FSIZE, &old) == 0);
  signal (SIGXFSZ, old_handler);

  fail_unless (err != NULL);
  fail_unless (err->domain == GST_RESOURCE_ERROR);
  fail_unless (strstr (err->message, "Could not write to session file") !=
      NULL, "%s", err->message);
  fail_unless (strstr (err->message, path) != NULL);
  g_clear_error (&err);
  /* kept in memory, and no half line in the file */
  fail_unless_equals_int (gst_bidi_history_length (history), 2);
  fail_unless_equals_int (session_size (path), size);

  fail_unless (gst_bidi_history_add_text (history, FALSE, "third", NULL));
  gst_bidi_history_free (history);
  fail_unless_equals_int (check_session_lines (path), 2);
  open_session_clean (path, &history);
  h = history_messages (history);
  check_text_message (h, 0, FALSE, "first");
  check_text_message (h, 1, FALSE, "third");
  g_ptr_array_unref (h);
  gst_bidi_history_free (history);

  remove_session (path);
}

GST_END_TEST;

/* One thread appends while another reads */
typedef struct
{
  GstBidiHistory *history;
  gint done;
} Appender;

#define THREAD_UNITS 150

static gpointer
append_thread (gpointer data)
{
  Appender *a = data;
  guint i;

  for (i = 0; i < THREAD_UNITS; i++) {
    gchar *text = g_strdup_printf ("message %u", i);

    fail_unless (gst_bidi_history_add_text (a->history, i % 2, text, NULL));
    fail_unless (gst_bidi_history_add_tool_pair (a->history, text, "n",
            "{\"i\": 1}", text, FALSE, NULL));
    g_free (text);
  }
  g_atomic_int_set (&a->done, 1);
  return NULL;
}

GST_START_TEST (test_history_threads)
{
  gchar *path = make_session_path ();
  Appender a = { NULL, 0 };
  guint reads = 0, last = 0;
  GThread *thread;

  open_session_clean (path, &a.history);
  thread = g_thread_new ("appender", append_thread, &a);
  while (!g_atomic_int_get (&a.done)) {
    gchar *json = gst_bidi_history_to_json (a.history);
    GPtrArray *h = parse_or_fail (json);

    /* only ever grows, a pair at once */
    fail_unless (h->len >= last);
    fail_unless (h->len % 3 != 2, "%u messages", h->len);
    last = h->len;
    fail_unless (gst_bidi_history_length (a.history) >= last);
    g_ptr_array_unref (h);
    g_free (json);
    reads++;
    /* let the appender run: under valgrind the threads take turns, and
     * a reader that never sleeps would starve it */
    g_usleep (500);
  }
  g_thread_join (thread);
  GST_INFO ("%u reads while appending", reads);
  fail_unless_equals_int (gst_bidi_history_length (a.history),
      3 * THREAD_UNITS);
  gst_bidi_history_free (a.history);
  fail_unless_equals_int (check_session_lines (path), 3 * THREAD_UNITS);
  remove_session (path);
}

GST_END_TEST;

/* ---------------------------------------------------------------------- */
/* What was heard */

#define FOX "Once upon a time there was a fox."

static const struct
{
  const gchar *text;
  guint64 heard_ms, total_ms;
  const gchar *heard;
} heard[] = {
  /* 33 characters: half is 16, "Once upon a time", whose next one is a
   * space */
  {FOX, 1000, 2000, "Once upon a time"},
  /* 24: "...there w" */
  {FOX, 1500, 2000, "Once upon a time there"},
  /* 32: all but the full stop */
  {FOX, 1999, 2000, "Once upon a time there was a fox"},
  /* 1: inside the first word */
  {FOX, 100, 2000, ""},
  {FOX, 0, 2000, ""},
  {FOX, 2000, 2000, FOX},
  {FOX, 5000, 2000, FOX},
  /* no idea how long it was */
  {FOX, 1000, 0, FOX},
  {NULL, 1000, 2000, ""},
  {"", 1000, 2000, ""},
  /* characters, not bytes: 22 characters, 24 bytes; 16 end at ", " */
  {"\xc3\x87" "a va tr\xc3\xa8s bien, merci", 16, 22,
      "\xc3\x87" "a va tr\xc3\xa8s" " bien"},
  {"\xc3\x87" "a va tr\xc3\xa8s bien, merci", 11, 22,
      "\xc3\x87" "a va tr\xc3\xa8s"},
  /* 9 characters, 27 bytes: one word each */
  {"\xe4\xbb\x8a\xe6\x97\xa5\xe3\x81\xaf\xe8\x89\xaf\xe3\x81\x84\xe5\xa4\xa9"
        "\xe6\xb0\x97\xe3\x81\xa7\xe3\x81\x99", 500, 1000,
      "\xe4\xbb\x8a\xe6\x97\xa5\xe3\x81\xaf\xe8\x89\xaf"},
  /* an accent (combining) stays on its letter */
  {"Un cafe\xcc\x81 noir", 7, 13, "Un"},
  {"Un cafe\xcc\x81 noir", 8, 13, "Un cafe\xcc\x81"},
  /* an apostrophe inside a word */
  {"I don't know", 5, 12, "I"},
  {"I don't know", 6, 12, "I"},
  {"I don't know", 7, 12, "I don't"},
  {"Hello, world", 6, 12, "Hello"},
  /* no dangling bracket, comma or dash */
  {"Well, (maybe) yes", 7, 17, "Well"},
  {"Well, (maybe) yes", 14, 17, "Well, (maybe)"},
  {"Wait \xe2\x80\x94 no", 7, 9, "Wait"},
  /* invalid UTF-8 is replaced */
  {"ab\xff" "cd", 1, 0, "ab\xef\xbf\xbd" "cd"},
  {"ab\xff" "cd ef", 6, 8, "ab\xef\xbf\xbd" "cd"},
};

GST_START_TEST (test_heard_text)
{
  gchar *got = gst_bidi_heard_text (heard[__i__].text, heard[__i__].heard_ms,
      heard[__i__].total_ms);

  fail_unless_equals_string (got, heard[__i__].heard);
  fail_unless (g_utf8_validate (got, -1, NULL));
  g_free (got);
}

GST_END_TEST;

static Suite *
bidihistory_suite (void)
{
  Suite *s = suite_create ("bidihistory");
  TCase *tc = tcase_create ("parse");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_parse_strands_messages);
  tcase_add_loop_test (tc, test_parse_refuses_bad_history, 0,
      G_N_ELEMENTS (bad_histories));
  tcase_add_test (tc, test_parse_untrusted);

  tc = tcase_create ("history");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_history_append_round_trip);
  tcase_add_test (tc, test_history_tool_pair_limits);
  tcase_add_test (tc, test_history_set_messages);
  tcase_add_test (tc, test_history_max_messages);
  tcase_add_test (tc, test_history_max_bytes);
  tcase_add_test (tc, test_history_threads);

  tc = tcase_create ("session");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_session_reopen);
  tcase_add_test (tc, test_session_tool_pair_lines);
  tcase_add_test (tc, test_history_written_valid);
  tcase_add_loop_test (tc, test_session_bad_last_line, 0,
      G_N_ELEMENTS (bad_endings));
  tcase_add_test (tc, test_session_bom_and_bad_utf8);
  tcase_add_test (tc, test_session_bad_middle_line);
  tcase_add_test (tc, test_session_sigkill);
  tcase_add_test (tc, test_session_locked);
  tcase_add_test (tc, test_session_cannot_open);
  tcase_add_test (tc, test_session_write_error);

  tc = tcase_create ("heard");
  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_heard_text, 0, G_N_ELEMENTS (heard));
  return s;
}

GST_CHECK_MAIN (bidihistory);
