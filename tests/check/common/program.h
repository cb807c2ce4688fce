/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __BIDI_TEST_PROGRAM_H__
#define __BIDI_TEST_PROGRAM_H__

#include <glib.h>

G_BEGIN_DECLS

/* The example programs under valgrind.
 *
 * `meson test --setup valgrind` runs each test program under valgrind and
 * sets BIDI_VALGRIND_PROGRAMS=1. The tests that start bidi-chat or
 * bidi-server then start them under valgrind too, each run with its own
 * log, and fail when a log shows a memory error or a definite leak. Without
 * that variable these functions do nothing. */

typedef struct _TestProgramCheck TestProgramCheck;

/* Adds valgrind and its options to @argv (not yet NULL-terminated) in front
 * of the program; @name names the log. The result must outlive the spawn
 * (it holds one of the strings added). NULL when not under valgrind. */
TestProgramCheck *test_program_wrap (GPtrArray * argv, const gchar * name);

/* How many times longer the tests should wait for a wrapped program:
 * 1 when not under valgrind */
guint test_program_slowdown (void);

/* Once the program has exited (or been killed): fails the test with the
 * log when it reports errors, then removes it. Frees @check; NULL is
 * fine. */
void test_program_check (TestProgramCheck * check);

/* A child setup function for the programs' processes: they die with the
 * test (a failed check that never reaches its cleanup leaves none behind) */
void test_program_child_setup (gpointer unused);

G_END_DECLS

#endif
