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

#include <gst/check/gstcheck.h>
#include <gstbidihistory.h>

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
  return s;
}

GST_CHECK_MAIN (bidihistory);
