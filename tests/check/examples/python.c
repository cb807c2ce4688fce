/* gst-bidi: tests/examples/python/bidi-tools.py, run as a user would
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The program runs under /usr/bin/python3 (python3-gi, python3-gst-1.0)
 * with the test's environment: GST_PLUGIN_PATH_1_0 points at the build's
 * bidiagent. The question is a flite WAV made here; the local provider
 * answers offline and calls the program's clock tool. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include <gst/check/gstcheck.h>

#include "speech.h"

#define PYTHON "/usr/bin/python3"
#define SCRIPT BIDI_SRCDIR "/tests/examples/python/bidi-tools.py"

/* valgrind slows this process, not the program: the waits still scale */
static guint slow = 1;

static gchar *tmpdir;

static gchar *
tmp_path (const gchar * name)
{
  return g_build_filename (tmpdir, name, NULL);
}

/* flite's slt voice says @text into a WAV file in tmpdir */
static gchar *
speak (const gchar * text, const gchar * name)
{
  gchar *path = tmp_path (name);

  test_speech_say (text, path);
  return path;
}

typedef struct
{
  gboolean done;
  gboolean timed_out;
  gchar *out;
  gchar *err;
  GError *error;
} Output;

static void
communicated (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Output *o = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), res, &o->out,
      &o->err, &o->error);
  o->done = TRUE;
}

static gboolean
timed_out (gpointer user_data)
{
  Output *o = user_data;

  o->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs @argv (NULL-terminated) to its end, within a generous timeout;
 * returns its exit status, its stdout and stderr in *out and *err */
static gint
run (const gchar * const *argv, gchar ** out, gchar ** err)
{
  GMainContext *ctx = g_main_context_new ();
  GError *error = NULL;
  GSubprocess *p;
  Output o = { 0 };
  GSource *timeout = g_timeout_source_new_seconds (120 * slow);
  gint status;

  g_main_context_push_thread_default (ctx);
  p = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  fail_unless (p != NULL, "%s: %s", argv[0], error ? error->message : "?");
  g_source_set_callback (timeout, timed_out, &o, NULL);
  g_source_attach (timeout, ctx);
  g_subprocess_communicate_utf8_async (p, NULL, NULL, communicated, &o);
  while (!o.done && !o.timed_out)
    g_main_context_iteration (ctx, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
  if (!o.done) {
    g_subprocess_force_exit (p);
    while (!o.done)
      g_main_context_iteration (ctx, TRUE);
    fail ("%s did not end: stdout:\n%s\nstderr:\n%s", argv[1], o.out,
        o.err);
  }
  fail_unless (o.error == NULL, "%s", o.error ? o.error->message : "");
  fail_unless (g_subprocess_get_if_exited (p), "%s was killed:\n%s",
      argv[1], o.err);
  status = g_subprocess_get_exit_status (p);
  g_object_unref (p);
  g_main_context_pop_thread_default (ctx);
  g_main_context_unref (ctx);
  *out = o.out;
  *err = o.err;
  return status;
}

/* What a Python program must never print */
static void
check_stderr_clean (const gchar * err)
{
  fail_if (strstr (err, "Traceback"), "a Python exception:\n%s", err);
  fail_if (strstr (err, "CRITICAL"), "a critical:\n%s", err);
  fail_if (strstr (err, "-WARNING **"), "a GLib warning:\n%s", err);
}

/* Some of @path's 16-bit samples are loud: the agent's voice is there */
static void
check_voice (const gchar * path)
{
  gchar *data = NULL;
  gsize len = 0, i, loud = 0;

  fail_unless (g_file_get_contents (path, &data, &len, NULL), "no %s", path);
  fail_unless (len > 44 && memcmp (data, "RIFF", 4) == 0);
  for (i = 44; i + 2 <= len; i += 2) {
    gint16 v = GST_READ_UINT16_LE (data + i);
    if (ABS (v) > 3000)
      loud++;
  }
  fail_unless (loud > 100, "no voice in %s", path);
  g_free (data);
}

static void
setup (void)
{
  GError *err = NULL;
  const gchar *argv[] = { PYTHON, "-c", "import gi; "
    "gi.require_version('Gst', '1.0'); from gi.repository import Gst",
    NULL
  };
  gchar *out, *errout;

  tmpdir = g_dir_make_tmp ("bidi-python-XXXXXX", &err);
  fail_unless (tmpdir != NULL, "%s", err ? err->message : "?");
  fail_unless (g_file_test (PYTHON, G_FILE_TEST_IS_EXECUTABLE),
      PYTHON " is not installed (Debian: python3)");
  fail_unless (run (argv, &out, &errout) == 0, "PyGObject's Gst is missing "
      "(Debian: python3-gi python3-gst-1.0 gir1.2-gstreamer-1.0):\n%s",
      errout);
  g_free (out);
  g_free (errout);
}

static void
teardown (void)
{
  GDir *dir = g_dir_open (tmpdir, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir))) {
    gchar *path = tmp_path (name);

    g_unlink (path);
    g_free (path);
  }
  if (dir)
    g_dir_close (dir);
  g_rmdir (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

/* The agent asks the program for the time and says what it was told */
GST_START_TEST (test_app_tells_the_time)
{
  gchar *wav = speak ("what time is it", "question.wav");
  gchar *answer = tmp_path ("answer.wav");
  const gchar *argv[] = { PYTHON, SCRIPT, "--input", wav, "--output",
    answer, "--fake-time", "4:20 PM", NULL
  };
  gchar *out = NULL, *err = NULL;
  gint status = run (argv, &out, &err);
  gchar **lines, **l;
  gint call = -1, result = -1, said = -1, i;

  fail_unless_equals_int (status, 0);
  check_stderr_clean (err);

  lines = g_strsplit (out, "\n", -1);
  for (l = lines, i = 0; *l; l++, i++) {
    if (g_str_has_prefix (*l, "tool call: current_time {} ("))
      call = i;
    else if (strcmp (*l,
            "tool result: success {\"time_12h\": \"4:20 PM\"} (sent)") == 0)
      result = i;
    else if (strcmp (*l, "assistant: It is 4:20 PM.") == 0)
      said = i;
  }
  /* called, answered, then spoken */
  fail_unless (call >= 0, "the tool was not called:\n%s", out);
  fail_unless (result > call, "the tool was not answered:\n%s", out);
  fail_unless (said > result, "the agent did not say the app's time:\n%s",
      out);
  fail_unless (strstr (out, "user: what time is it\n") != NULL, "%s", out);
  check_voice (answer);

  g_strfreev (lines);
  g_free (out);
  g_free (err);
  g_free (answer);
  g_free (wav);
}

GST_END_TEST;

/* Without --fake-time the program's clock is the real one */
GST_START_TEST (test_app_real_time)
{
  gchar *wav = speak ("what time is it", "question.wav");
  gchar *answer = tmp_path ("answer.wav");
  const gchar *argv[] = { PYTHON, SCRIPT, "--input", wav, "--output",
    answer, NULL
  };
  GDateTime *t0 = g_date_time_new_now_local (), *t1;
  gchar *out = NULL, *err = NULL, *s0, *s1, *said0, *said1;
  gint status = run (argv, &out, &err);

  t1 = g_date_time_new_now_local ();
  fail_unless_equals_int (status, 0);
  check_stderr_clean (err);
  s0 = g_date_time_format (t0, "%-l:%M %p");
  s1 = g_date_time_format (t1, "%-l:%M %p");
  said0 = g_strdup_printf ("assistant: It is %s.\n", g_strstrip (s0));
  said1 = g_strdup_printf ("assistant: It is %s.\n", g_strstrip (s1));
  fail_unless (strstr (out, said0) || strstr (out, said1),
      "the agent did not say %s:\n%s", s0, out);

  g_free (said0);
  g_free (said1);
  g_free (s0);
  g_free (s1);
  g_date_time_unref (t0);
  g_date_time_unref (t1);
  g_free (out);
  g_free (err);
  g_free (answer);
  g_free (wav);
}

GST_END_TEST;

/* A WAV that is not there: a clear error and exit status 1 */
GST_START_TEST (test_app_missing_input)
{
  gchar *missing = tmp_path ("missing.wav");
  const gchar *argv[] = { PYTHON, SCRIPT, "--input", missing, "--output",
    "/dev/null", NULL
  };
  gchar *out = NULL, *err = NULL;
  gint status = run (argv, &out, &err);

  fail_unless_equals_int (status, 1);
  fail_unless (g_str_has_prefix (err, "error: "), "%s", err);
  fail_unless (strstr (err, "missing.wav") != NULL, "%s", err);
  check_stderr_clean (err);
  g_free (out);
  g_free (err);
  g_free (missing);
}

GST_END_TEST;

static Suite *
python_suite (void)
{
  Suite *s = suite_create ("python");
  TCase *tc = tcase_create ("bidi-tools");
  const gchar *preload = g_getenv ("LD_PRELOAD");

  if (preload && strstr (preload, "vgpreload"))
    slow = 2;

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 300 * slow);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_app_tells_the_time);
  tcase_add_test (tc, test_app_real_time);
  tcase_add_test (tc, test_app_missing_input);
  return s;
}

GST_CHECK_MAIN (python);
