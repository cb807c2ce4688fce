/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_TOOL_DISPATCH_H__
#define __GST_BIDI_TOOL_DISPATCH_H__

#include <gst/gst.h>

#include "gstbidinet.h"

G_BEGIN_DECLS

/* The model's tool calls: built-in tools run on a thread pool, the
 * application's wait for its answer (send-tool-result) until
 * tool-timeout. A result reaches the provider, on the network thread, only
 * if the provider that asked is still the one running (the generation). */

/* A call's result, on the network thread */
typedef void (*GstBidiToolResultFunc) (gpointer user_data, const gchar * id,
    const gchar * name, const gchar * input, const gchar * result,
    gboolean ok);

typedef struct
{
  /* set at init */
  GstElement *element;          /* for messages */
  GstBidiNet *net;
  GstBidiToolResultFunc result_func;
  gpointer user_data;
  GThreadPool *pool;            /* thread safe itself */

  /* protected by lock */
  GMutex lock;
  gchar **builtin;              /* the built-in tools the provider was given */
  gchar **app;                  /* the application's tools it was given */
  guint timeout_ms;             /* the tool-timeout property */
  GHashTable *calls;            /* application calls not answered yet:
                                 * toolUseId -> PendingCall */
  GQueue cancelled;             /* the latest calls the model withdrew
                                 * (toolUseId), oldest first */
  guint gen;                    /* bumped when the provider changes */
} GstBidiToolDispatch;

void gst_bidi_tool_dispatch_init (GstBidiToolDispatch * td,
    GstElement * element, GstBidiNet * net, GstBidiToolResultFunc result_func,
    gpointer user_data);
/* waits for the built-in tools that run */
void gst_bidi_tool_dispatch_clear (GstBidiToolDispatch * td);

void gst_bidi_tool_dispatch_set_timeout (GstBidiToolDispatch * td, guint ms);
guint gst_bidi_tool_dispatch_get_timeout (GstBidiToolDispatch * td);

/* A new provider (@builtin and @app: transfer full), or none (NULL): the
 * calls of the one before are answered by nobody */
void gst_bidi_tool_dispatch_reset (GstBidiToolDispatch * td, gchar ** builtin,
    gchar ** app);

/* network thread */
gboolean gst_bidi_tool_dispatch_is_builtin (GstBidiToolDispatch * td,
    const gchar * name);
void gst_bidi_tool_dispatch_run_builtin (GstBidiToolDispatch * td,
    const gchar * id, const gchar * name, const gchar * input);
gboolean gst_bidi_tool_dispatch_add_call (GstBidiToolDispatch * td,
    const gchar * id, const gchar * name, const gchar * input);
gboolean gst_bidi_tool_dispatch_forget_call (GstBidiToolDispatch * td,
    const gchar * id);
/* The model withdrew the call @id: an application's answer, or a built-in
 * tool's result, that comes for it is dropped (with a debug line) */
void gst_bidi_tool_dispatch_cancel_call (GstBidiToolDispatch * td,
    const gchar * id);

/* any thread: the application's answer */
gboolean gst_bidi_tool_dispatch_answer (GstBidiToolDispatch * td,
    const gchar * id, const gchar * result, const gchar * status);

G_END_DECLS

#endif /* __GST_BIDI_TOOL_DISPATCH_H__ */
