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

#include "gstbidinet.h"

typedef struct
{
  GstBidiNet *net;
  GstBidiNetFunc func;
  gpointer data;
  GDestroyNotify destroy;
  /* for a sync call: the caller waits for done, under net->lock */
  gboolean sync;
  gboolean done;
} NetCall;

void
gst_bidi_net_init (GstBidiNet * net, gpointer owner)
{
  memset (net, 0, sizeof (*net));
  net->owner = owner;
  g_mutex_init (&net->lock);
  g_cond_init (&net->cond);
}

void
gst_bidi_net_clear (GstBidiNet * net)
{
  gst_bidi_net_stop (net);
  g_mutex_clear (&net->lock);
  g_cond_clear (&net->cond);
}

static gboolean
net_call_dispatch (gpointer user_data)
{
  NetCall *call = user_data;

  call->func (call->net->owner, call->data);
  return G_SOURCE_REMOVE;
}

/* Runs after the call, or when the context goes away without running it. */
static void
net_call_free (gpointer user_data)
{
  NetCall *call = user_data;
  GstBidiNet *net = call->net;

  if (call->destroy)
    call->destroy (call->data);
  if (call->sync) {
    g_mutex_lock (&net->lock);
    call->done = TRUE;
    g_cond_broadcast (&net->cond);
    g_mutex_unlock (&net->lock);
  } else {
    g_free (call);
  }
}

GMainContext *
gst_bidi_net_ref_context (GstBidiNet * net)
{
  GMainContext *ctx;

  g_mutex_lock (&net->lock);
  ctx = net->ctx ? g_main_context_ref (net->ctx) : NULL;
  g_mutex_unlock (&net->lock);
  return ctx;
}

gboolean
gst_bidi_net_invoke_full (GstBidiNet * net, GstBidiNetFunc func,
    gpointer data, GDestroyNotify destroy, gboolean sync)
{
  GMainContext *ctx = gst_bidi_net_ref_context (net);
  GSource *source;
  NetCall *call;

  if (!ctx) {
    if (destroy)
      destroy (data);
    return FALSE;
  }

  /* Already on the network thread: run now, so that e.g. the provider hears
   * of an interruption it reported before anything else happens. */
  if (g_main_context_is_owner (ctx)) {
    func (net->owner, data);
    if (destroy)
      destroy (data);
    g_main_context_unref (ctx);
    return TRUE;
  }

  call = g_new0 (NetCall, 1);
  call->net = net;
  call->func = func;
  call->data = data;
  call->destroy = destroy;
  call->sync = sync;

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, net_call_dispatch, call, net_call_free);
  g_source_set_name (source, "bidiagent-call");
  g_source_attach (source, ctx);
  g_source_unref (source);
  g_main_context_unref (ctx);

  if (sync) {
    g_mutex_lock (&net->lock);
    while (!call->done)
      g_cond_wait (&net->cond, &net->lock);
    g_mutex_unlock (&net->lock);
    g_free (call);
  }
  return TRUE;
}

static gboolean
net_loop_running (gpointer user_data)
{
  GstBidiNet *net = user_data;

  g_mutex_lock (&net->lock);
  net->running = TRUE;
  g_cond_broadcast (&net->cond);
  g_mutex_unlock (&net->lock);
  return G_SOURCE_REMOVE;
}

static gpointer
net_thread_func (gpointer user_data)
{
  GstBidiNet *net = user_data;
  GMainContext *ctx = g_main_loop_get_context (net->loop);
  GSource *source;

  g_main_context_push_thread_default (ctx);
  source = g_idle_source_new ();
  g_source_set_callback (source, net_loop_running, net, NULL);
  g_source_attach (source, ctx);
  g_source_unref (source);

  g_main_loop_run (net->loop);

  g_main_context_pop_thread_default (ctx);
  return NULL;
}

/* Returns once the thread's loop runs. @name is for debugging (Linux
 * limits thread names to 15 characters). */
void
gst_bidi_net_start (GstBidiNet * net, const gchar * name)
{
  GMainContext *ctx = g_main_context_new ();

  net->loop = g_main_loop_new (ctx, FALSE);
  g_mutex_lock (&net->lock);
  net->ctx = ctx;
  net->running = FALSE;
  g_mutex_unlock (&net->lock);

  net->thread = g_thread_new (name, net_thread_func, net);

  g_mutex_lock (&net->lock);
  while (!net->running)
    g_cond_wait (&net->cond, &net->lock);
  g_mutex_unlock (&net->lock);
}

void
gst_bidi_net_stop (GstBidiNet * net)
{
  GMainContext *ctx;

  g_mutex_lock (&net->lock);
  ctx = net->ctx;
  net->ctx = NULL;
  g_mutex_unlock (&net->lock);

  if (!ctx)
    return;

  g_main_loop_quit (net->loop);
  g_thread_join (net->thread);
  net->thread = NULL;
  g_main_loop_unref (net->loop);
  net->loop = NULL;
  /* Frees the data of calls that never ran */
  g_main_context_unref (ctx);
}
