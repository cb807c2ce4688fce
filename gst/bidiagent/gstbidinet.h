/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_NET_H__
#define __GST_BIDI_NET_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* The element's network thread: one GMainContext, pushed as the thread's
 * default, where the provider's vfuncs, its sockets and timers run. Other
 * threads hand it work with gst_bidi_net_invoke(). Started in NULL->READY,
 * stopped in READY->NULL. */

/* @owner is the one given at init */
typedef void (*GstBidiNetFunc) (gpointer owner, gpointer data);

typedef struct
{
  gpointer owner;               /* set at init */

  GMutex lock;
  GCond cond;
  GMainContext *ctx;            /* protected by lock; NULL when stopped */
  gboolean running;             /* protected by lock */

  /* start and stop (the state changes) only */
  GThread *thread;
  GMainLoop *loop;
} GstBidiNet;

void gst_bidi_net_init (GstBidiNet * net, gpointer owner);
void gst_bidi_net_clear (GstBidiNet * net);

void gst_bidi_net_start (GstBidiNet * net, const gchar * name);
void gst_bidi_net_stop (GstBidiNet * net);

gboolean gst_bidi_net_invoke_full (GstBidiNet * net, GstBidiNetFunc func,
    gpointer data, GDestroyNotify destroy, gboolean sync);

/* Runs @func on the network thread: at once when called there, else
 * queued. When the thread is not running, @data is freed with @destroy and
 * FALSE returned. */
#define gst_bidi_net_invoke(net, func, data, destroy) \
    gst_bidi_net_invoke_full (net, (GstBidiNetFunc) (func), data, destroy, \
        FALSE)
/* The same, and waits until it ran */
#define gst_bidi_net_invoke_sync(net, func, data) \
    gst_bidi_net_invoke_full (net, (GstBidiNetFunc) (func), data, NULL, TRUE)

/* (transfer full) the thread's context, NULL when it is not running */
GMainContext *gst_bidi_net_ref_context (GstBidiNet * net);

G_END_DECLS

#endif /* __GST_BIDI_NET_H__ */
