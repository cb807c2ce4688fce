/* gst-bidi: stopping what a failed check left running
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __LEFTOVER_H__
#define __LEFTOVER_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* Under valgrind, check runs without fork (CK_FORK=no). A failed check then
 * jumps out of its test, past the lines that stop the test's pipeline. The
 * pipeline's streaming threads go on, and the program hangs at exit, where
 * GStreamer waits for every task, instead of printing the failure.
 *
 * A test hands each element it starts to leftover_watch (a weak reference:
 * nothing changes when the test ends well). leftover_stop, the checked
 * teardown of the test case, sets to NULL the top-level bin of every watched
 * element still alive. */
void leftover_watch (GstElement * element);
void leftover_stop (void);

G_END_DECLS

#endif /* __LEFTOVER_H__ */
