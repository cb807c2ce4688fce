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

#include <string.h>
#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/check/gstcheck.h>

#include "program.h"

#define VALGRIND_ENV "BIDI_VALGRIND_PROGRAMS"

struct _TestProgramCheck
{
  gchar *dir;
  gchar *log_arg;               /* in the program's argv */
};

static gboolean
enabled (void)
{
  const gchar *v = g_getenv (VALGRIND_ENV);

  return v && *v && strcmp (v, "0") != 0;
}

guint
test_program_slowdown (void)
{
  return enabled ()? 10 : 1;
}

TestProgramCheck *
test_program_wrap (GPtrArray * argv, const gchar * name)
{
  TestProgramCheck *check;
  GError *err = NULL;

  if (!enabled ())
    return NULL;
  check = g_new0 (TestProgramCheck, 1);
  check->dir = g_dir_make_tmp ("bidi-valgrind-XXXXXX", &err);
  fail_unless (check->dir != NULL, "%s", err ? err->message : "");

  /* the options of the valgrind test setup (tests/check/meson.build); -q:
   * the log holds errors only. A helper the program forks and execs (the
   * registry scanner) is not followed. */
  check->log_arg = g_strdup_printf ("--log-file=%s/%s.%%p.log", check->dir,
      name);
  g_ptr_array_add (argv, (gpointer) "valgrind");
  g_ptr_array_add (argv, (gpointer) "-q");
  g_ptr_array_add (argv, (gpointer) "--leak-check=full");
  g_ptr_array_add (argv, (gpointer) "--errors-for-leak-kinds=definite");
  g_ptr_array_add (argv, (gpointer) "--show-leak-kinds=definite");
  g_ptr_array_add (argv, (gpointer) "--num-callers=30");
  g_ptr_array_add (argv, (gpointer) "--child-silent-after-fork=yes");
  g_ptr_array_add (argv, (gpointer) ("--suppressions=" BIDI_SRCDIR
          "/tests/check/gst-bidi.supp"));
  g_ptr_array_add (argv, check->log_arg);
  return check;
}

/* valgrind's own lines in a -q log: "==PID== text"; its notes about
 * itself ("--PID-- ...", e.g. a syscall it does not know) are not the
 * program's errors */
static gboolean
log_has_errors (const gchar * text)
{
  gchar **lines = g_strsplit (text, "\n", -1), **l;
  gboolean found = FALSE;

  for (l = lines; *l && !found; l++) {
    const gchar *p = *l;

    if (!g_str_has_prefix (p, "=="))
      continue;
    p = strstr (p + 2, "== ");
    found = p && p[3] != '\0';
  }
  g_strfreev (lines);
  return found;
}

void
test_program_check (TestProgramCheck * check)
{
  GDir *dir;
  const gchar *file;
  GString *errors;

  if (!check)
    return;
  errors = g_string_new (NULL);
  dir = g_dir_open (check->dir, 0, NULL);
  while (dir && (file = g_dir_read_name (dir))) {
    gchar *path = g_build_filename (check->dir, file, NULL);
    gchar *text = NULL;

    if (g_file_get_contents (path, &text, NULL, NULL) && log_has_errors (text))
      g_string_append_printf (errors, "--- %s:\n%s\n", file, text);
    g_free (text);
    g_unlink (path);
    g_free (path);
  }
  if (dir)
    g_dir_close (dir);
  g_rmdir (check->dir);
  g_free (check->dir);
  g_free (check->log_arg);
  g_free (check);

  if (errors->len > 0) {
    gchar *text = g_string_free (errors, FALSE);

    fail ("valgrind found errors in the program:\n%s", text);
    g_free (text);
  } else {
    g_string_free (errors, TRUE);
  }
}

void
test_program_child_setup (G_GNUC_UNUSED gpointer unused)
{
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGKILL);
#endif
}
