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
#include "fuzzhistory.h"

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
