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

#include <json-glib/json-glib.h>
#include <gst/bidi/gstbiditools.h>
#include <gst/bidi/gstbidijson.h>

#include "gstbiditooldispatch.h"

GST_DEBUG_CATEGORY_EXTERN (bidi_agent_debug);
#define GST_CAT_DEFAULT bidi_agent_debug

/* built-in tools running at once, per element */
#define MAX_TOOL_THREADS 4
/* withdrawn calls remembered, to drop their late results */
#define MAX_CANCELLED 64

/* A call of an application tool, until the application answers or the
 * timeout fires */
typedef struct
{
  gchar *id;
  gchar *name;
  gchar *input;
  GSource *timeout;
} PendingCall;

/* A result on its way to the network thread */
typedef struct
{
  GstBidiToolDispatch *td;
  gchar *id, *name, *input;
  gchar *result;
  gboolean ok;
  guint gen;
} ToolJob;

typedef struct
{
  GstBidiToolDispatch *td;
  gchar *id;
} TimeoutData;

static void builtin_tool_run (gpointer data, gpointer user_data);

static void
pending_call_free (PendingCall * pc)
{
  if (pc->timeout) {
    g_source_destroy (pc->timeout);
    g_source_unref (pc->timeout);
  }
  g_free (pc->id);
  g_free (pc->name);
  g_free (pc->input);
  g_free (pc);
}

static void
tool_job_free (gpointer data)
{
  ToolJob *job = data;

  g_free (job->id);
  g_free (job->name);
  g_free (job->input);
  g_free (job->result);
  g_free (job);
}

static void
timeout_data_free (gpointer data)
{
  TimeoutData *tdata = data;

  g_free (tdata->id);
  g_free (tdata);
}

void
gst_bidi_tool_dispatch_init (GstBidiToolDispatch * td, GstElement * element,
    GstBidiNet * net, GstBidiToolResultFunc result_func, gpointer user_data)
{
  td->element = element;
  td->net = net;
  td->result_func = result_func;
  td->user_data = user_data;
  td->pool = g_thread_pool_new (builtin_tool_run, td, MAX_TOOL_THREADS,
      FALSE, NULL);
  g_mutex_init (&td->lock);
  td->calls = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) pending_call_free);
  g_queue_init (&td->cancelled);
}

void
gst_bidi_tool_dispatch_clear (GstBidiToolDispatch * td)
{
  /* the jobs left need the dispatcher: wait for them */
  g_thread_pool_free (td->pool, FALSE, TRUE);
  g_hash_table_unref (td->calls);
  g_queue_clear_full (&td->cancelled, g_free);
  g_strfreev (td->builtin);
  g_strfreev (td->app);
  g_mutex_clear (&td->lock);
}

void
gst_bidi_tool_dispatch_set_timeout (GstBidiToolDispatch * td, guint ms)
{
  g_mutex_lock (&td->lock);
  td->timeout_ms = ms;
  g_mutex_unlock (&td->lock);
}

guint
gst_bidi_tool_dispatch_get_timeout (GstBidiToolDispatch * td)
{
  guint ms;

  g_mutex_lock (&td->lock);
  ms = td->timeout_ms;
  g_mutex_unlock (&td->lock);
  return ms;
}

void
gst_bidi_tool_dispatch_reset (GstBidiToolDispatch * td, gchar ** builtin,
    gchar ** app)
{
  g_mutex_lock (&td->lock);
  if (builtin || app) {
    g_strfreev (td->builtin);
    td->builtin = builtin;
    g_strfreev (td->app);
    td->app = app;
  }
  g_hash_table_remove_all (td->calls);
  g_queue_clear_full (&td->cancelled, g_free);
  td->gen++;
  g_mutex_unlock (&td->lock);
}

static guint
get_gen (GstBidiToolDispatch * td)
{
  guint gen;

  g_mutex_lock (&td->lock);
  gen = td->gen;
  g_mutex_unlock (&td->lock);
  return gen;
}

/* Takes the call @id out of the table; NULL if it is not waiting */
static PendingCall *
pending_call_take (GstBidiToolDispatch * td, const gchar * id)
{
  PendingCall *pc = NULL;

  /* the key is pc->id, freed with it */
  g_mutex_lock (&td->lock);
  if (id)
    g_hash_table_steal_extended (td->calls, id, NULL, (gpointer *) & pc);
  g_mutex_unlock (&td->lock);
  return pc;
}

static gboolean
is_cancelled (GstBidiToolDispatch * td, const gchar * id)
{
  gboolean found;

  g_mutex_lock (&td->lock);
  found = id && g_queue_find_custom (&td->cancelled, id,
      (GCompareFunc) g_strcmp0) != NULL;
  g_mutex_unlock (&td->lock);
  return found;
}

/* network thread */
static void
net_tool_job_done (G_GNUC_UNUSED gpointer owner, gpointer data)
{
  ToolJob *job = data;
  GstBidiToolDispatch *td = job->td;

  if (job->gen != get_gen (td)) {
    GST_DEBUG_OBJECT (td->element, "dropping the result of %s: the provider "
        "that asked is gone", job->id);
    return;
  }
  if (is_cancelled (td, job->id)) {
    GST_DEBUG_OBJECT (td->element, "dropping the result of %s (%s): the "
        "model withdrew the call", job->id, job->name);
    return;
  }
  td->result_func (td->user_data, job->id, job->name, job->input,
      job->result, job->ok);
}

gboolean
gst_bidi_tool_dispatch_is_builtin (GstBidiToolDispatch * td,
    const gchar * name)
{
  gboolean enabled;

  g_mutex_lock (&td->lock);
  enabled = td->builtin && name &&
      g_strv_contains ((const gchar * const *) td->builtin, name);
  g_mutex_unlock (&td->lock);
  return enabled;
}

/* On the pool: a built-in tool. The dispatcher outlives its pool (clear
 * waits for it). */
static void
builtin_tool_run (gpointer data, G_GNUC_UNUSED gpointer user_data)
{
  ToolJob *job = data;

  job->ok = gst_bidi_builtin_tool_run (job->name, job->input, &job->result);
  gst_bidi_net_invoke (job->td->net, net_tool_job_done, job, tool_job_free);
}

void
gst_bidi_tool_dispatch_run_builtin (GstBidiToolDispatch * td,
    const gchar * id, const gchar * name, const gchar * input)
{
  ToolJob *job = g_new0 (ToolJob, 1);

  job->td = td;
  job->id = g_strdup (id);
  job->name = g_strdup (name);
  job->input = g_strdup (input);
  job->gen = get_gen (td);
  g_thread_pool_push (td->pool, job, NULL);
}

static gboolean
tool_timeout_cb (gpointer user_data)
{
  TimeoutData *tdata = user_data;
  GstBidiToolDispatch *td = tdata->td;
  PendingCall *pc = pending_call_take (td, tdata->id);
  gchar *message, *result;
  guint ms;

  if (!pc)
    return G_SOURCE_REMOVE;
  ms = gst_bidi_tool_dispatch_get_timeout (td);
  GST_ELEMENT_WARNING (td->element, RESOURCE, READ,
      ("Tool \"%s\" did not answer within %u ms", pc->name, ms),
      ("tool call %s", pc->id));
  message = g_strdup_printf ("the %s tool did not answer within %u ms",
      pc->name, ms);
  result = gst_bidi_tool_error_json (message);
  td->result_func (td->user_data, pc->id, pc->name, pc->input, result, FALSE);
  g_free (message);
  g_free (result);
  /* the source is being dispatched: pending_call_free must not destroy it
   * under our feet twice; let it go with G_SOURCE_REMOVE */
  g_source_unref (pc->timeout);
  pc->timeout = NULL;
  pending_call_free (pc);
  return G_SOURCE_REMOVE;
}

/* An application tool: remembers the call until the application answers
 * or tool-timeout runs out. FALSE for a tool the application does not
 * have (or a call already waiting). */
gboolean
gst_bidi_tool_dispatch_add_call (GstBidiToolDispatch * td, const gchar * id,
    const gchar * name, const gchar * input)
{
  PendingCall *pc;
  gboolean ok;

  g_mutex_lock (&td->lock);
  ok = td->app && name && id &&
      g_strv_contains ((const gchar * const *) td->app, name)
      && !g_hash_table_contains (td->calls, id);
  if (ok) {
    pc = g_new0 (PendingCall, 1);
    pc->id = g_strdup (id);
    pc->name = g_strdup (name);
    pc->input = g_strdup (input);
    if (td->timeout_ms > 0) {
      TimeoutData *tdata = g_new0 (TimeoutData, 1);

      tdata->td = td;
      tdata->id = g_strdup (id);
      pc->timeout = g_timeout_source_new (td->timeout_ms);
      g_source_set_callback (pc->timeout, tool_timeout_cb, tdata,
          timeout_data_free);
      g_source_attach (pc->timeout, g_main_context_get_thread_default ());
    }
    g_hash_table_insert (td->calls, pc->id, pc);
  }
  g_mutex_unlock (&td->lock);
  return ok;
}

/* Nobody took the call: forgets it. FALSE if it was answered already. */
gboolean
gst_bidi_tool_dispatch_forget_call (GstBidiToolDispatch * td,
    const gchar * id)
{
  PendingCall *pc = pending_call_take (td, id);

  if (!pc)
    return FALSE;
  pending_call_free (pc);
  return TRUE;
}

void
gst_bidi_tool_dispatch_cancel_call (GstBidiToolDispatch * td,
    const gchar * id)
{
  PendingCall *pc;

  if (!id)
    return;
  /* an application call waiting for its answer is forgotten */
  if ((pc = pending_call_take (td, id)))
    pending_call_free (pc);
  g_mutex_lock (&td->lock);
  if (!g_queue_find_custom (&td->cancelled, id, (GCompareFunc) g_strcmp0)) {
    g_queue_push_tail (&td->cancelled, g_strdup (id));
    if (g_queue_get_length (&td->cancelled) > MAX_CANCELLED)
      g_free (g_queue_pop_head (&td->cancelled));
  }
  g_mutex_unlock (&td->lock);
}

gboolean
gst_bidi_tool_dispatch_answer (GstBidiToolDispatch * td, const gchar * id,
    const gchar * result, const gchar * status)
{
  PendingCall *pc;
  ToolJob *job;
  JsonNode *node;

  if (g_strcmp0 (status, "success") != 0 && g_strcmp0 (status, "error") != 0)
    goto bad_status;
  if (is_cancelled (td, id))
    goto cancelled;
  if (!(pc = pending_call_take (td, id)))
    goto unknown_id;

  job = g_new0 (ToolJob, 1);
  job->td = td;
  job->id = g_strdup (pc->id);
  job->name = g_strdup (pc->name);
  job->input = g_strdup (pc->input);
  job->gen = get_gen (td);
  job->ok = strcmp (status, "success") == 0;
  pending_call_free (pc);
  /* JSON as it is; anything else is text, sent as a JSON string */
  node = result ? gst_bidi_json_parse (result, NULL) : NULL;
  if (!node)
    node = json_node_init_string (json_node_alloc (), result ? result : "");
  job->result = gst_bidi_json_to_string (node);
  json_node_unref (node);
  return gst_bidi_net_invoke (td->net, net_tool_job_done, job,
      tool_job_free);

  /* ERRORS */
bad_status:
  {
    GST_WARNING_OBJECT (td->element, "send-tool-result: status must be "
        "\"success\" or \"error\", not \"%s\"", GST_STR_NULL (status));
    return FALSE;
  }
cancelled:
  {
    GST_DEBUG_OBJECT (td->element, "send-tool-result: the model withdrew "
        "the call \"%s\"; its result is dropped", id);
    return FALSE;
  }
unknown_id:
  {
    GST_WARNING_OBJECT (td->element, "send-tool-result: no tool call \"%s\" "
        "is waiting for an answer (unknown, answered, or timed out)",
        GST_STR_NULL (id));
    return FALSE;
  }
}
