/* gst-bidi: libFuzzer target for the session file loader of the
 * conversation history (gstbidihistory.c): a file the element's
 * session-file names, read, repaired and appended to
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "fuzzcommon.h"

#include <stdio.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/bidi/gstbidihistory.h>
#include <json-glib/json-glib.h>

/* one session file per process, rewritten for each input */
static gchar *session_path;

static void
remove_session_file (void)
{
  if (session_path)
    g_unlink (session_path);
  g_free (session_path);
}

int
LLVMFuzzerInitialize (G_GNUC_UNUSED int *argc, G_GNUC_UNUSED char ***argv)
{
  gint fd;

  bidi_fuzz_init ();
  /* in memory when there is /dev/shm: every message written is synced */
  if (g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR)) {
    session_path = g_strdup ("/dev/shm/bidi-fuzz-session-XXXXXX");
    fd = g_mkstemp (session_path);
  } else {
    fd = g_file_open_tmp ("bidi-fuzz-session-XXXXXX", &session_path, NULL);
  }
  BIDI_FUZZ_ASSERT (fd >= 0);
  close (fd);
  atexit (remove_session_file);
  return 0;
}

/* The same JSON value (the history may keep a block as the text it was
 * given, so escapes may differ) */
static gboolean
same_json (const gchar * a, const gchar * b)
{
  JsonNode *na = json_from_string (a, NULL), *nb = json_from_string (b, NULL);
  gboolean same = na && nb && json_node_equal (na, nb);

  g_clear_pointer (&na, json_node_unref);
  g_clear_pointer (&nb, json_node_unref);
  return same;
}

/* A history that took messages writes them out as JSON it takes back */
static void
check_round_trip (GstBidiHistory * history)
{
  GstBidiHistory *again = gst_bidi_history_new ();
  gchar *json = gst_bidi_history_to_json (history), *json2;

  BIDI_FUZZ_ASSERT (json != NULL);
  BIDI_FUZZ_ASSERT (gst_bidi_history_set_messages (again, json, NULL));
  BIDI_FUZZ_ASSERT (gst_bidi_history_length (again) ==
      gst_bidi_history_length (history));
  json2 = gst_bidi_history_to_json (again);
  if (!same_json (json, json2)) {
    g_printerr ("%s\nbecame\n%s\n", json, json2);
    abort ();
  }
  g_free (json2);
  g_free (json);
  gst_bidi_history_free (again);
}

/* Rewrites the session file in place (g_file_set_contents would sync it
 * to disk at every input) */
static void
write_session_file (const uint8_t * data, size_t size)
{
  FILE *f = fopen (session_path, "wb");

  BIDI_FUZZ_ASSERT (f != NULL);
  BIDI_FUZZ_ASSERT (size == 0 || fwrite (data, 1, size, f) == size);
  BIDI_FUZZ_ASSERT (fclose (f) == 0);
}

/* The session file: one message per line, repaired as it is opened */
static void
load_session_file (const uint8_t * data, size_t size)
{
  GstBidiHistory *history = gst_bidi_history_new ();
  gchar *warning = NULL;
  GError *err = NULL;
  guint length;

  write_session_file (data, size);
  if (!gst_bidi_history_open_file (history, session_path, &warning, &err)) {
    BIDI_FUZZ_ASSERT (err != NULL);
    g_clear_error (&err);
    gst_bidi_history_free (history);
    return;
  }
  /* what was kept is valid, and one more message can be written after */
  check_round_trip (history);
  BIDI_FUZZ_ASSERT (gst_bidi_history_add_text (history, TRUE, "ok", NULL));
  length = gst_bidi_history_length (history);
  g_clear_pointer (&warning, g_free);
  gst_bidi_history_free (history);

  /* the repaired file opens again with all of it */
  history = gst_bidi_history_new ();
  BIDI_FUZZ_ASSERT (gst_bidi_history_open_file (history, session_path,
          &warning, NULL));
  BIDI_FUZZ_ASSERT (gst_bidi_history_length (history) == length);
  g_free (warning);
  gst_bidi_history_free (history);
}

static int
bidi_fuzz_one (const uint8_t * data, size_t size)
{
  load_session_file (data, size);
  return 0;
}
