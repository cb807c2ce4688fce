/* gst-bidi: the bidi-chat example program, driven as a user would
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Each test runs the program tests/examples/bidi-chat/bidi-chat of the
 * build (with the build's bidiagent) as a child process: through a real
 * pseudo-terminal, typing lines, Ctrl-C (^C) and end of input (^D) as a
 * user at a terminal does, or through pipes as a script does. What it
 * prints is read with a timeout, so a test fails instead of hanging. The
 * local provider answers offline; the OpenAI provider talks to the mock
 * Realtime server of tests/check/common/mockrealtime.h on 127.0.0.1, with a
 * fake key given in the child's environment only.
 *
 * Under `meson test --setup valgrind` the program runs under valgrind too
 * (common/program.h). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "mockrealtime.h"
#include "program.h"
#include "speech.h"

#define PROGRAM BIDI_BUILDDIR "/tests/examples/bidi-chat/bidi-chat"
#define PLUGIN_DIR BIDI_BUILDDIR "/gst/bidiagent"
/* the child's own registry: the test's is in use by the test */
#define CHILD_REGISTRY \
  BIDI_BUILDDIR "/tests/check/examples_bidichat-child.registry"

#define PROMPT "> You: "
#define STOP_NOTICE \
  "user requested connection close using the stop_conversation tool."
#define KEY "sk-test-not-a-secret"

/* Only against hangs: the program's first run scans the plugins */
#define WAIT_MS 60000

/* ------------------------------------------------------------------------
 * The child process
 * ------------------------------------------------------------------------ */

typedef struct
{
  GPid pid;
  gboolean pty;
  gint in_fd;                   /* what the test types into; -1 once closed */
  gint out_fd;                  /* the child's stdout (the pty's master) */
  gint err_fd;                  /* the child's stderr, always a pipe */
  GString *out;
  GString *err;
  gboolean out_eof;
  gboolean err_eof;
  gboolean exited;
  gint status;
  TestProgramCheck *valgrind;
} Child;

/* the child of the running test, killed by the teardown if still there */
static Child *current;

/* In the child, before exec: the pty becomes its controlling terminal, so
 * that ^C sends it SIGINT. Async-signal-safe calls only. */
static void
child_setup_tty (G_GNUC_UNUSED gpointer user_data)
{
  setsid ();
  ioctl (0, TIOCSCTTY, 0);
  test_program_child_setup (NULL);
}

/* The test's environment with the build's plugin, the key only when
 * @key is set, and nothing of valgrind's */
static gchar **
child_env (const gchar * key)
{
  gchar **env = g_get_environ ();
  const gchar *preload = g_environ_getenv (env, "LD_PRELOAD");

  if (preload && strstr (preload, "vgpreload"))
    env = g_environ_unsetenv (env, "LD_PRELOAD");
  env = g_environ_setenv (env, "GST_PLUGIN_PATH", PLUGIN_DIR, TRUE);
  if (!g_environ_getenv (env, "GST_PLUGIN_PATH_1_0"))
    env = g_environ_setenv (env, "GST_PLUGIN_PATH_1_0", PLUGIN_DIR, TRUE);
  env = g_environ_setenv (env, "GST_REGISTRY", CHILD_REGISTRY, TRUE);
  env = g_environ_setenv (env, "GST_REGISTRY_1_0", CHILD_REGISTRY, TRUE);
  if (key)
    env = g_environ_setenv (env, "OPENAI_API_KEY", key, TRUE);
  else
    env = g_environ_unsetenv (env, "OPENAI_API_KEY");
  return env;
}

/* Starts bidi-chat with @args (NULL-terminated, without the program),
 * through a pseudo-terminal when @pty, else through pipes. */
static Child *
child_spawn (gboolean pty, const gchar * key, const gchar * const *args)
{
  Child *c = g_new0 (Child, 1);
  GPtrArray *argv = g_ptr_array_new ();
  gchar **env = child_env (key);
  GError *err = NULL;
  gboolean ok;
  gint master = -1, slave = -1;

  fail_unless (g_file_test (PROGRAM, G_FILE_TEST_IS_EXECUTABLE),
      "%s was not built", PROGRAM);
  c->valgrind = test_program_wrap (argv, "bidi-chat");
  g_ptr_array_add (argv, (gpointer) PROGRAM);
  for (; args && *args; args++)
    g_ptr_array_add (argv, (gpointer) * args);
  g_ptr_array_add (argv, NULL);

  c->pty = pty;
  c->out = g_string_new (NULL);
  c->err = g_string_new (NULL);
  if (pty) {
    fail_unless (openpty (&master, &slave, NULL, NULL, NULL) == 0,
        "openpty: %s", g_strerror (errno));
    ok = g_spawn_async_with_pipes_and_fds (NULL,
        (const gchar * const *) argv->pdata, (const gchar * const *) env,
        G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH, child_setup_tty, NULL,
        slave, slave, -1, NULL, NULL, 0, &c->pid, NULL, NULL, &c->err_fd, &err);
    close (slave);
    c->in_fd = master;
    c->out_fd = master;
  } else {
    ok = g_spawn_async_with_pipes (NULL, (gchar **) argv->pdata, env,
        G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
        test_program_child_setup, NULL, &c->pid,
        &c->in_fd, &c->out_fd, &c->err_fd, &err);
  }
  fail_unless (ok, "cannot start %s: %s", PROGRAM, err ? err->message : "");
  g_ptr_array_unref (argv);
  g_strfreev (env);
  current = c;
  return c;
}

static void
child_read (gint fd, GString * buf, gboolean * eof)
{
  gchar data[4096];
  gssize n = read (fd, data, sizeof (data));

  if (n > 0)
    g_string_append_len (buf, data, n);
  else if (n == 0 || (errno != EINTR && errno != EAGAIN))
    *eof = TRUE;                /* a pty's master reads EIO once all is out */
}

typedef gboolean (*ChildCheck) (Child * c, gconstpointer data);

/* Reads what the child writes until @check holds (TRUE) or @timeout_ms
 * passed (FALSE); notes when it exits. */
static gboolean
child_pump (Child * c, ChildCheck check, gconstpointer data, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  for (;;) {
    struct pollfd fds[2];
    gint n = 0, i;
    gint64 left;

    if (check (c, data))
      return TRUE;
    left = (end - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND;
    if (left <= 0)
      return FALSE;
    if (!c->out_eof) {
      fds[n].fd = c->out_fd;
      fds[n].events = POLLIN;
      fds[n++].revents = 0;
    }
    if (!c->err_eof) {
      fds[n].fd = c->err_fd;
      fds[n].events = POLLIN;
      fds[n++].revents = 0;
    }
    /* wake up now and then to see whether it exited */
    if (poll (fds, n, MIN (left, 50)) > 0) {
      for (i = 0; i < n; i++) {
        if (!fds[i].revents)
          continue;
        if (fds[i].fd == c->out_fd)
          child_read (c->out_fd, c->out, &c->out_eof);
        else
          child_read (c->err_fd, c->err, &c->err_eof);
      }
    }
    if (!c->exited && waitpid (c->pid, &c->status, WNOHANG) == c->pid)
      c->exited = TRUE;
  }
}

/* The child's stdout as lines, without the pty's \r */
static gchar **
child_lines (Child * c)
{
  gchar **lines = g_strsplit (c->out->str, "\n", -1);
  guint i;

  for (i = 0; lines[i]; i++) {
    gsize len = strlen (lines[i]);

    if (len > 0 && lines[i][len - 1] == '\r')
      lines[i][len - 1] = '\0';
  }
  return lines;
}

typedef gboolean (*LineMatch) (const gchar * line, gconstpointer data);

/* Index of the first line from @from that matches, -1 if none */
static gint
find_line (Child * c, gint from, LineMatch match, gconstpointer data)
{
  gchar **lines = child_lines (c);
  gint i, found = -1;

  for (i = 0; lines[i]; i++) {
    /* the last piece is a line only once it ends */
    if (!lines[i + 1])
      break;
    if (i >= from && match (lines[i], data)) {
      found = i;
      break;
    }
  }
  g_strfreev (lines);
  return found;
}

/* How many whole lines at or after @from match */
static gint
count_lines (Child * c, LineMatch match, gconstpointer data)
{
  gint n = 0, i = 0;

  while ((i = find_line (c, i, match, data)) >= 0) {
    n++;
    i++;
  }
  return n;
}

static gboolean
line_is (const gchar * line, gconstpointer data)
{
  return strcmp (line, data) == 0;
}

/* What the program printed of a final transcript: no "Preview: ", and not
 * the terminal's echo of what was typed after the prompt */
static gboolean
line_final_with (const gchar * line, gconstpointer data)
{
  return !g_str_has_prefix (line, "Preview: ") &&
      !g_str_has_prefix (line, PROMPT) && strstr (line, data) != NULL;
}

static gboolean
line_starts (const gchar * line, gconstpointer data)
{
  return g_str_has_prefix (line, data);
}

static gboolean
line_preview_with (const gchar * line, gconstpointer data)
{
  return g_str_has_prefix (line, "Preview: ") && strstr (line, data) != NULL;
}

typedef struct
{
  LineMatch match;
  gconstpointer data;
  gint from;
} LineWait;

static gboolean
check_line (Child * c, gconstpointer data)
{
  const LineWait *w = data;

  return find_line (c, w->from, w->match, w->data) >= 0;
}

/* Waits for a line from @from that matches; its index */
static gint
child_wait_line (Child * c, gint from, LineMatch match, gconstpointer data)
{
  LineWait w = { match, data, from };

  child_pump (c, check_line, &w, WAIT_MS);
  return find_line (c, from, match, data);
}

static gboolean
check_text (Child * c, gconstpointer data)
{
  return strstr (c->out->str, data) != NULL;
}

/* The prompt was shown at least GPOINTER_TO_UINT (@data) times */
static gboolean
check_prompts (Child * c, gconstpointer data)
{
  const gchar *p = c->out->str;
  guint n = 0;

  while ((p = strstr (p, PROMPT))) {
    n++;
    p += strlen (PROMPT);
  }
  return n >= GPOINTER_TO_UINT (data);
}

static gboolean
check_exited (Child * c, G_GNUC_UNUSED gconstpointer data)
{
  /* all it wrote, too */
  return c->exited && c->out_eof && c->err_eof;
}

#define assert_child(c, cond, what) \
  fail_unless (cond, "%s\n--- stdout:\n%s\n--- stderr:\n%s", what, \
      (c)->out->str, (c)->err->str)

static void
child_wait_prompt (Child * c)
{
  assert_child (c, child_pump (c, check_text, PROMPT, WAIT_MS), "no prompt");
}

/* Types @text at the terminal (or writes it into the pipe) */
static void
child_type (Child * c, const gchar * text)
{
  gsize len = strlen (text), done = 0;

  fail_unless (c->in_fd >= 0);
  while (done < len) {
    gssize n = write (c->in_fd, text + done, len - done);

    if (n < 0 && errno == EINTR)
      continue;
    fail_unless (n > 0, "write to the child: %s", g_strerror (errno));
    done += n;
  }
}

/* The end of the input: ^D at the start of a line, or the pipe closed */
static void
child_end_input (Child * c)
{
  if (c->pty) {
    child_type (c, "\004");
  } else {
    close (c->in_fd);
    c->in_fd = -1;
  }
}

/* Waits for the child to exit; its exit status (a signal fails) */
static gint
child_wait_exit (Child * c)
{
  if (!child_pump (c, check_exited, NULL, WAIT_MS)) {
    if (!c->exited) {
      kill (c->pid, SIGKILL);
      waitpid (c->pid, &c->status, 0);
      c->exited = TRUE;
    }
    assert_child (c, FALSE, "bidi-chat did not exit");
  }
  assert_child (c, WIFEXITED (c->status), "bidi-chat was killed by a signal");
  return WEXITSTATUS (c->status);
}

static void
assert_exit_ok (Child * c)
{
  gint status = child_wait_exit (c);

  fail_unless (status == 0, "exit status %d\n--- stdout:\n%s\n--- stderr:\n%s",
      status, c->out->str, c->err->str);
}

/* No GLib critical or warning, no crash report */
static void
assert_clean_stderr (Child * c)
{
  assert_child (c, strstr (c->err->str, "CRITICAL") == NULL, "a critical");
  assert_child (c, strstr (c->err->str, "WARNING **") == NULL, "a warning");
  assert_child (c, strstr (c->err->str, "bidi-chat:") == NULL,
      "an error was reported");
}

static void
child_free (Child * c)
{
  TestProgramCheck *valgrind;

  if (!c)
    return;
  if (!c->exited) {
    kill (c->pid, SIGKILL);
    waitpid (c->pid, &c->status, 0);
  }
  g_spawn_close_pid (c->pid);
  if (c->in_fd >= 0 && c->in_fd != c->out_fd)
    close (c->in_fd);
  close (c->out_fd);
  close (c->err_fd);
  g_string_free (c->out, TRUE);
  g_string_free (c->err, TRUE);
  if (current == c)
    current = NULL;
  valgrind = c->valgrind;
  g_free (c);
  test_program_check (valgrind);
}

static void
teardown (void)
{
  child_free (current);
}

/* ------------------------------------------------------------------------
 * 1. The local provider at a terminal
 * ------------------------------------------------------------------------ */

/* A question typed: its answer is previewed, then printed final */
GST_START_TEST (test_local_question)
{
  const gchar *args[] = { "--prompt", PROMPT, NULL };
  Child *c = child_spawn (TRUE, NULL, args);
  gint i_final, i_preview;

  child_wait_prompt (c);
  child_type (c, "what is two plus two\n");
  i_final = child_wait_line (c, 0, line_final_with, "four");
  if (i_final < 0)
    i_final = child_wait_line (c, 0, line_final_with, "4");
  assert_child (c, i_final >= 0, "no final answer with \"four\"");
  /* the local provider previews each sentence before the final text */
  i_preview = find_line (c, 0, line_preview_with, "four");
  assert_child (c, i_preview >= 0 && i_preview < i_final,
      "no \"Preview:\" line before the answer");
  /* the terminal echoed the question after the prompt; no user
   * transcript of typed text */
  assert_child (c, find_line (c, 0, line_is,
          PROMPT "what is two plus two") >= 0, "no echo");

  /* and the prompt again, for the next question */
  assert_child (c, child_pump (c, check_prompts, GUINT_TO_POINTER (2),
          WAIT_MS), "no prompt after the answer");
  assert_child (c, g_str_has_suffix (c->out->str, "\r\n" PROMPT),
      "the prompt is not on a line of its own");
  child_end_input (c);
  assert_exit_ok (c);
  assert_clean_stderr (c);
  child_free (c);
}

GST_END_TEST;

/* "goodbye": the model calls stop_conversation, the program says so and
 * exits 0 by itself */
GST_START_TEST (test_local_goodbye)
{
  const gchar *args[] = { "--prompt", PROMPT, NULL };
  Child *c = child_spawn (TRUE, NULL, args);
  gint i_notice, i_bye;

  child_wait_prompt (c);
  child_type (c, "goodbye\n");
  i_notice = child_wait_line (c, 0, line_is, STOP_NOTICE);
  assert_child (c, i_notice >= 0, "no stop_conversation notice");
  i_bye = find_line (c, 0, line_final_with, "oodbye");
  assert_child (c, i_bye >= 0 && i_bye < i_notice, "no goodbye first");
  assert_exit_ok (c);
  assert_clean_stderr (c);
  child_free (c);
}

GST_END_TEST;

/* ^C at the terminal: SIGINT, the program stops cleanly with status 0 */
GST_START_TEST (test_ctrl_c)
{
  const gchar *args[] = { "--prompt", PROMPT, NULL };
  Child *c = child_spawn (TRUE, NULL, args);

  child_wait_prompt (c);
  child_type (c, "what time is it\n");
  assert_child (c, child_wait_line (c, 0, line_final_with, "It is") >= 0,
      "no answer");
  child_type (c, "\003");
  assert_exit_ok (c);
  assert_clean_stderr (c);
  child_free (c);
}

GST_END_TEST;

/* SIGTERM while an answer is being given: status 0 too */
GST_START_TEST (test_sigterm)
{
  const gchar *args[] = { "--prompt", PROMPT, NULL };
  Child *c = child_spawn (TRUE, NULL, args);

  child_wait_prompt (c);
  child_type (c, "what is the date today\n");
  kill (c->pid, SIGTERM);
  assert_exit_ok (c);
  assert_clean_stderr (c);
  child_free (c);
}

GST_END_TEST;

/* ^D right after a question: the answer is still printed, then the
 * program exits 0 */
GST_START_TEST (test_eof_after_question)
{
  const gchar *args[] = { "--prompt", PROMPT, NULL };
  Child *c = child_spawn (TRUE, NULL, args);
  gint i_final;

  child_wait_prompt (c);
  child_type (c, "what is two plus two\n\004");
  assert_exit_ok (c);
  i_final = find_line (c, 0, line_final_with, "four");
  assert_child (c, i_final >= 0, "the answer was not printed");
  assert_clean_stderr (c);
  child_free (c);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 2. Through pipes, as a script uses it
 * ------------------------------------------------------------------------ */

/* Each line is printed as it comes (not when stdout is flushed at exit);
 * no prompt when stdin is not a terminal */
GST_START_TEST (test_pipe_lines)
{
  const gchar *args[] = { "--prompt", PROMPT, NULL };
  Child *c = child_spawn (FALSE, NULL, args);

  child_type (c, "what is two plus two\n");
  assert_child (c, child_wait_line (c, 0, line_final_with, "four") >= 0,
      "no answer while the program runs");
  /* stdin is still open: it is waiting for the next line */
  assert_child (c, !c->exited, "exited before the end of its input");
  child_type (c, "  \n\n what time is it \n");
  assert_child (c, child_wait_line (c, 0, line_final_with, "It is") >= 0,
      "no second answer");
  child_end_input (c);
  assert_exit_ok (c);
  assert_child (c, strstr (c->out->str, PROMPT) == NULL, "a prompt");
  /* two questions, two answers: the blank lines were not sent */
  assert_child (c, find_line (c, 0, line_final_with, "I am an offline") < 0,
      "something else was answered");
  assert_clean_stderr (c);
  child_free (c);
}

GST_END_TEST;

/* echo "what is two plus two" | bidi-chat */
GST_START_TEST (test_pipe_eof)
{
  Child *c = child_spawn (FALSE, NULL, NULL);

  child_type (c, "what is two plus two\n");
  child_end_input (c);
  assert_exit_ok (c);
  assert_child (c, find_line (c, 0, line_final_with, "four") >= 0,
      "the answer was not printed before the exit");
  assert_clean_stderr (c);
  child_free (c);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 3. Bad input
 * ------------------------------------------------------------------------ */

/* A line too long is refused with an error, a line that is not UTF-8 is
 * mended; the session goes on */
GST_START_TEST (test_bad_lines)
{
  Child *c = child_spawn (FALSE, NULL, NULL);
  gchar *line = g_strnfill (70000, 'a');

  child_type (c, line);
  child_type (c, "\n\xff\xfe what is two plus two\n");
  assert_child (c, child_wait_line (c, 0, line_final_with, "four") >= 0,
      "no answer after the bad lines");
  child_end_input (c);
  assert_exit_ok (c);
  assert_child (c, strstr (c->err->str, "bidi-chat: a line of 70000 bytes "
          "was not sent") != NULL, "no error about the long line");
  assert_child (c, strstr (c->err->str, "CRITICAL") == NULL, "a critical");
  assert_child (c, strstr (c->err->str, "WARNING **") == NULL, "a warning");
  child_free (c);
  g_free (line);
}

GST_END_TEST;

static void
assert_refused (const gchar * const *args, const gchar * message)
{
  Child *c = child_spawn (FALSE, NULL, args);
  gint status;

  child_end_input (c);
  status = child_wait_exit (c);
  assert_child (c, status != 0, "exit status 0");
  assert_child (c, strstr (c->err->str, message) != NULL,
      "not the expected error");
  assert_child (c, strstr (c->err->str, "CRITICAL") == NULL, "a critical");
  assert_child (c, strstr (c->err->str, "WARNING **") == NULL, "a warning");
  child_free (c);
}

GST_START_TEST (test_bad_provider)
{
  const gchar *args[] = { "--provider", "no-such-provider", NULL };

  assert_refused (args, "Unknown provider \"no-such-provider\"");
}

GST_END_TEST;

GST_START_TEST (test_bad_tools)
{
  const gchar *inline_json[] = { "--app-tools", "[{\"name\": ", NULL };
  const gchar *not_array[] = { "--app-tools", "{\"name\": \"x\"}", NULL };
  const gchar *no_file[] = { "--app-tools", "/nonexistent/tools.json", NULL };
  gchar *path = g_build_filename (g_get_tmp_dir (), "bidichat-tools.json",
      NULL);
  const gchar *bad_file[] = { "--app-tools", path, NULL };
  /* --tools names built-in tools, as in bidi-server */
  const gchar *bad_builtin[] = { "--tools", "current_time,clock", NULL };
  const gchar *json_builtin[] = { "--tools", "[]", NULL };

  assert_refused (inline_json, "Invalid tools: not JSON");
  assert_refused (not_array, "Invalid tools: expected a JSON array");
  assert_refused (no_file, "--app-tools is neither a JSON array nor a "
      "readable file");
  assert_refused (bad_builtin, "Unknown built-in tool \"clock\"");
  assert_refused (json_builtin, "Unknown built-in tool \"[]\"");
  fail_unless (g_file_set_contents (path, "tools: none", -1, NULL));
  assert_refused (bad_file, "Invalid tools: not JSON");
  g_unlink (path);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_bad_options)
{
  const gchar *unknown[] = { "--no-such-option", NULL };
  const gchar *extra[] = { "hello", NULL };
  const gchar *source[] = { "--audio-source", "no-such-element", "--audio-sink",
    "fakesink", NULL
  };

  assert_refused (unknown, "Unknown option --no-such-option");
  assert_refused (extra, "unexpected argument \"hello\"");
  assert_refused (source, "no element \"no-such-element\"");
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 4. --audio, with a spoken question from a file
 * ------------------------------------------------------------------------ */

/* The question spoken (flite) into the agent, the answer "played" into a
 * fakesink: the user's transcript and the answer are printed; the end of
 * the file ends the session once the answer has played */
GST_START_TEST (test_audio_file)
{
  gchar *dir = g_dir_make_tmp ("bidichat-XXXXXX", NULL);
  gchar *wav = g_build_filename (dir, "question.wav", NULL);
  gchar *source;
  const gchar *args[] = { "--audio-source", NULL, "--audio-sink",
    "fakesink sync=true", NULL
  };
  gint i_heard, i_answer;
  Child *c;

#define PCM16 "audio/x-raw,format=S16LE,rate=16000,channels=1"
  test_speech_say ("what is two plus two", wav);
  /* the question, then some quiet for the end of the turn */
  source = g_strdup_printf ("filesrc location=%s ! wavparse ! "
      "audioconvert ! audioresample ! " PCM16 " ! cat. "
      "audiotestsrc wave=silence num-buffers=20 samplesperbuffer=1600 ! "
      PCM16 " ! cat. concat name=cat", wav);
  args[1] = source;
  c = child_spawn (TRUE, NULL, args);

  /* what the recogniser heard (not always all the words), labelled with
   * its speaker */
  i_heard = child_wait_line (c, 0, line_starts, "User: what is");
  assert_child (c, i_heard >= 0, "no transcript of the spoken question");
  i_answer = child_wait_line (c, i_heard, line_is,
      "Assistant: Two plus two is four.");
  assert_child (c, i_answer > i_heard, "no answer");
  /* stdin is still open: the end of the file ended it */
  assert_exit_ok (c);
  assert_clean_stderr (c);
  /* each line once: no previews (the local provider's preview of the
   * answer holds the whole sentence), no line without its speaker */
  assert_child (c, count_lines (c, line_starts, "Preview: ") == 0,
      "previews in audio mode");
  assert_child (c, count_lines (c, line_final_with, "four") == 1,
      "the answer printed more than once");
  assert_child (c, count_lines (c, line_starts, "User: ") == 1,
      "the question printed more than once");
  child_free (c);

  g_unlink (wav);
  g_rmdir (dir);
  g_free (source);
  g_free (wav);
  g_free (dir);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * 5. OpenAI against the mock: --url, the key from the environment, the
 *    previews of a streamed answer, and an interruption
 * ------------------------------------------------------------------------ */

#define TOOLS_JSON \
  "[{\"name\": \"lookup_weather\", \"description\": \"The weather in a " \
  "city\", \"parameters\": {\"type\": \"object\", \"properties\": " \
  "{\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}]"
#define SYSTEM_PROMPT "You are a terse test assistant."

#define IDS(resp, item) \
  "\"response_id\":\"" resp "\",\"item_id\":\"" item "\"," \
  "\"output_index\":0,\"content_index\":0"

static void
script_delta (MockRealtimeScript * sc, const gchar * delta)
{
  mock_realtime_script_send_printf (sc,
      "{\"type\":\"response.output_audio_transcript.delta\","
      IDS ("resp_1", "item_A1") ",\"delta\":\"%s\"}", delta);
}

/* A long spoken answer to the typed text, streamed word by word */
static MockRealtimeScript *
script_answer_start (GBytes * pcm)
{
  MockRealtimeScript *sc = mock_realtime_script_new ();

  mock_realtime_script_send (sc, "{\"type\":\"session.created\","
      "\"session\":{\"type\":\"realtime\",\"object\":\"realtime.session\","
      "\"id\":\"sess_chat\",\"model\":\"gpt-realtime\","
      "\"output_modalities\":[\"audio\"]}}");
  mock_realtime_script_wait (sc, "session.update", 1, WAIT_MS);
  mock_realtime_script_send_session_updated (sc);
  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  mock_realtime_script_send (sc, "{\"type\":\"response.created\","
      "\"response\":{\"id\":\"resp_1\",\"object\":\"realtime.response\","
      "\"status\":\"in_progress\",\"status_details\":null,\"output\":[],"
      "\"output_modalities\":[\"audio\"],\"usage\":null}}");
  mock_realtime_script_send (sc,
      "{\"type\":\"response.output_item.added\",\"response_id\":\"resp_1\","
      "\"output_index\":0,\"item\":{\"id\":\"item_A1\",\"object\":"
      "\"realtime.item\",\"type\":\"message\",\"role\":\"assistant\","
      "\"status\":\"in_progress\",\"content\":[]}}");
  mock_realtime_script_send (sc,
      "{\"type\":\"response.content_part.added\"," IDS ("resp_1", "item_A1")
      ",\"part\":{\"type\":\"audio\",\"transcript\":\"\"}}");
  script_delta (sc, "Once ");
  script_delta (sc, "upon ");
  script_delta (sc, "a time.");
  mock_realtime_script_send_audio (sc, g_bytes_get_data (pcm, NULL),
      g_bytes_get_size (pcm), 100, FALSE, "resp_1", "item_A1", 0, 0);
  return sc;
}

/* The user talks over it; the server cancels the answer */
static MockRealtimeScript *
script_barge_in (void)
{
  MockRealtimeScript *sc = mock_realtime_script_new ();
  const gchar *item = "{\"id\":\"item_A1\",\"object\":\"realtime.item\","
      "\"type\":\"message\",\"role\":\"assistant\",\"status\":"
      "\"incomplete\",\"content\":[{\"type\":\"output_audio\","
      "\"transcript\":\"Once upon a time.\"}]}";

  mock_realtime_script_send (sc,
      "{\"type\":\"input_audio_buffer.speech_started\","
      "\"audio_start_ms\":4000,\"item_id\":\"item_U2\"}");
  mock_realtime_script_send (sc, "{\"type\":\"response.output_audio.done\","
      IDS ("resp_1", "item_A1") "}");
  mock_realtime_script_send (sc,
      "{\"type\":\"response.output_audio_transcript.done\","
      IDS ("resp_1", "item_A1") ",\"transcript\":\"Once upon a time.\"}");
  mock_realtime_script_send_printf (sc,
      "{\"type\":\"response.output_item.done\",\"response_id\":\"resp_1\","
      "\"output_index\":0,\"item\":%s}", item);
  mock_realtime_script_send_printf (sc, "{\"type\":\"response.done\","
      "\"response\":{\"id\":\"resp_1\",\"object\":\"realtime.response\","
      "\"status\":\"cancelled\",\"status_details\":{\"type\":\"cancelled\","
      "\"reason\":\"turn_detected\"},\"output\":[%s],\"usage\":"
      "{\"total_tokens\":30,\"input_tokens\":20,\"output_tokens\":10}}}", item);
  return sc;
}

GST_START_TEST (test_openai_interrupted)
{
  MockRealtime *mock = mock_realtime_new ();
  /* 10 s of a tone at 24 kHz: still playing when the user talks */
  gsize n = 24000 * 10, i;
  gint16 *samples = g_new (gint16, n);
  GBytes *pcm;
  gchar *dir = g_dir_make_tmp ("bidichat-XXXXXX", NULL);
  gchar *tools = g_build_filename (dir, "tools.json", NULL);
  const gchar *args[] = { "--provider", "openai", "--url", NULL,
    "--system-prompt", SYSTEM_PROMPT, "--app-tools", tools, "--prompt", PROMPT,
    NULL
  };
  gchar *text;
  gint i_once, i_time, i_int;
  Child *c;

  for (i = 0; i < n; i++)
    samples[i] = (gint16) ((i % 48) * 400 - 9600);
  pcm = g_bytes_new_take (samples, n * 2);
  fail_unless (g_file_set_contents (tools, TOOLS_JSON, -1, NULL));
  mock_realtime_push_script (mock, script_answer_start (pcm));
  args[3] = mock_realtime_url (mock);

  c = child_spawn (TRUE, KEY, args);
  child_wait_prompt (c);
  child_type (c, "tell me a story\n");

  /* the streamed transcript, each delta a preview */
  i_once = child_wait_line (c, 0, line_is, "Preview: Once ");
  assert_child (c, i_once >= 0, "no preview of the first delta");
  i_time = child_wait_line (c, i_once, line_is, "Preview: a time.");
  assert_child (c, i_time > i_once, "no preview of the last delta");
  assert_child (c, find_line (c, i_once, line_is, "Preview: upon ") ==
      i_once + 1, "the second delta is not between them");

  /* the user talks over the answer (10 s of audio, sent at once) */
  fail_unless (mock_realtime_wait_script_done (mock, 0, WAIT_MS));
  mock_realtime_run (mock, 0, script_barge_in ());
  i_int = child_wait_line (c, i_time, line_is, "interrupted");
  assert_child (c, i_int > i_time, "no \"interrupted\"");

  /* the answer ends (cancelled): the prompt is back; ^D ends */
  assert_child (c, child_pump (c, check_prompts, GUINT_TO_POINTER (2),
          WAIT_MS), "no prompt after the cut answer");
  child_end_input (c);
  assert_exit_ok (c);
  assert_clean_stderr (c);

  /* --url reached the mock, with the key of the environment */
  fail_unless_equals_int (mock_realtime_n_connections (mock), 1);
  text = mock_realtime_get_header (mock, 0, "Authorization");
  fail_unless_equals_string (text, "Bearer " KEY);
  g_free (text);
  /* the typed text, the system prompt and --app-tools (from a file) */
  text = mock_realtime_wait_event (mock, 0, "conversation.item.create", 0, 0);
  fail_unless (text && strstr (text, "\"tell me a story\""), "%s", text);
  g_free (text);
  text = mock_realtime_wait_event (mock, 0, "session.update", 0, 0);
  fail_unless (text && strstr (text, SYSTEM_PROMPT), "%s", text);
  fail_unless (strstr (text, "\"lookup_weather\""), "%s", text);
  g_free (text);
  text = mock_realtime_get_violations (mock);
  fail_unless_equals_string (text, "");
  g_free (text);

  /* the key never shows */
  assert_child (c, strstr (c->out->str, KEY) == NULL, "the key on stdout");
  assert_child (c, strstr (c->err->str, KEY) == NULL, "the key on stderr");
  child_free (c);

  mock_realtime_free (mock);
  g_bytes_unref (pcm);
  g_unlink (tools);
  g_rmdir (dir);
  g_free (tools);
  g_free (dir);
}

GST_END_TEST;

/* A turn whose final transcripts come twice: the user's as a
 * transcription segment, then completed; the answer's transcript done
 * twice */
static MockRealtimeScript *
script_finals_twice (void)
{
  MockRealtimeScript *sc = mock_realtime_script_new ();
  gint i;

  mock_realtime_script_send (sc, "{\"type\":\"session.created\","
      "\"session\":{\"type\":\"realtime\",\"object\":\"realtime.session\","
      "\"id\":\"sess_twice\",\"model\":\"gpt-realtime\","
      "\"output_modalities\":[\"audio\"]}}");
  mock_realtime_script_wait (sc, "session.update", 1, WAIT_MS);
  mock_realtime_script_send_session_updated (sc);
  mock_realtime_script_wait (sc, "response.create", 1, WAIT_MS);
  mock_realtime_script_send (sc,
      "{\"type\":\"conversation.item.input_audio_transcription.segment\","
      "\"item_id\":\"item_U1\",\"content_index\":0,\"id\":\"seg_1\","
      "\"text\":\"hi there\",\"speaker\":\"A\",\"start\":0.0,\"end\":1.0}");
  mock_realtime_script_send (sc,
      "{\"type\":\"conversation.item.input_audio_transcription.completed\","
      "\"item_id\":\"item_U1\",\"content_index\":0,"
      "\"transcript\":\"hi there\"}");
  mock_realtime_script_send (sc, "{\"type\":\"response.created\","
      "\"response\":{\"id\":\"resp_1\",\"object\":\"realtime.response\","
      "\"status\":\"in_progress\",\"status_details\":null,\"output\":[],"
      "\"output_modalities\":[\"audio\"],\"usage\":null}}");
  mock_realtime_script_send (sc,
      "{\"type\":\"response.output_item.added\",\"response_id\":\"resp_1\","
      "\"output_index\":0,\"item\":{\"id\":\"item_A1\",\"object\":"
      "\"realtime.item\",\"type\":\"message\",\"role\":\"assistant\","
      "\"status\":\"in_progress\",\"content\":[]}}");
  script_delta (sc, "All good.");
  for (i = 0; i < 2; i++)
    mock_realtime_script_send (sc,
        "{\"type\":\"response.output_audio_transcript.done\","
        IDS ("resp_1", "item_A1") ",\"transcript\":\"All good.\"}");
  mock_realtime_script_send (sc, "{\"type\":\"response.done\","
      "\"response\":{\"id\":\"resp_1\",\"object\":\"realtime.response\","
      "\"status\":\"completed\",\"status_details\":null,\"output\":[],"
      "\"usage\":{\"total_tokens\":3,\"input_tokens\":2,"
      "\"output_tokens\":1}}}");
  return sc;
}

/* Each final transcript is printed once, however often it is posted; and
 * --tools names the built-in tools offered, as bidi-server's does */
GST_START_TEST (test_final_once)
{
  MockRealtime *mock = mock_realtime_new ();
  const gchar *args[] = { "--provider", "openai", "--url", NULL,
    "--tools", "current_time, calculator", NULL
  };
  gchar *text;
  Child *c;

  mock_realtime_push_script (mock, script_finals_twice ());
  args[3] = mock_realtime_url (mock);
  c = child_spawn (FALSE, KEY, args);
  child_type (c, "hello\n");
  child_end_input (c);
  assert_exit_ok (c);
  assert_clean_stderr (c);
  assert_child (c, count_lines (c, line_is, "hi there") == 1,
      "the user's final transcript not printed once");
  assert_child (c, count_lines (c, line_is, "All good.") == 1,
      "the answer's final transcript not printed once");
  assert_child (c, count_lines (c, line_is, "Preview: All good.") == 1,
      "no preview of the answer");
  child_free (c);

  text = mock_realtime_wait_event (mock, 0, "session.update", 0, 0);
  fail_unless (text && strstr (text, "\"current_time\"") &&
      strstr (text, "\"calculator\""), "%s", text);
  fail_unless (strstr (text, "\"stop_conversation\"") == NULL, "%s", text);
  g_free (text);
  mock_realtime_free (mock);
}

GST_END_TEST;

/* The server refuses the key, quoting it: a clear error on stderr, status
 * 1, and the key shows nowhere */
GST_START_TEST (test_openai_refused)
{
  MockRealtime *mock = mock_realtime_new ();
  const gchar *refusal = "{\"error\": {\"message\": \"Incorrect API key "
      "provided: " KEY ".\", \"type\": \"invalid_request_error\", "
      "\"param\": null, \"code\": \"invalid_api_key\"}}";
  const gchar *args[] = { "--provider", "openai", "--url", NULL, NULL };
  gint status;
  Child *c;

  /* the upgrade, then the same request again for the body */
  mock_realtime_push_reject (mock, 401, refusal);
  mock_realtime_push_reject (mock, 401, refusal);
  args[3] = mock_realtime_url (mock);
  c = child_spawn (FALSE, KEY, args);
  child_type (c, "hello\n");
  status = child_wait_exit (c);
  assert_child (c, status == 1, "not exit status 1");
  assert_child (c, strstr (c->err->str, "bidi-chat: error: ") != NULL &&
      strstr (c->err->str, "Incorrect API key") != NULL, "no clear error");
  assert_child (c, strstr (c->out->str, KEY) == NULL, "the key on stdout");
  assert_child (c, strstr (c->err->str, KEY) == NULL, "the key on stderr");
  assert_child (c, strstr (c->err->str, "not-a-secret") == NULL,
      "part of the key on stderr");
  assert_child (c, strstr (c->err->str, "CRITICAL") == NULL, "a critical");
  fail_unless (mock_realtime_n_connections (mock) >= 1);
  child_free (c);
  mock_realtime_free (mock);
}

GST_END_TEST;

static Suite *
bidichat_suite (void)
{
  Suite *s = suite_create ("bidichat");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, teardown);
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_local_question);
  tcase_add_test (tc, test_local_goodbye);
  tcase_add_test (tc, test_ctrl_c);
  tcase_add_test (tc, test_sigterm);
  tcase_add_test (tc, test_eof_after_question);
  tcase_add_test (tc, test_pipe_lines);
  tcase_add_test (tc, test_pipe_eof);
  tcase_add_test (tc, test_bad_lines);
  tcase_add_test (tc, test_bad_provider);
  tcase_add_test (tc, test_bad_tools);
  tcase_add_test (tc, test_bad_options);
  tcase_add_test (tc, test_audio_file);
  tcase_add_test (tc, test_openai_interrupted);
  tcase_add_test (tc, test_openai_refused);
  tcase_add_test (tc, test_final_once);
  return s;
}

GST_CHECK_MAIN (bidichat);
