/* gst-bidi: stopping what a failed check left running
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#include "leftover.h"

static GMutex lock;
static GPtrArray *watched;      /* GWeakRef * */

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

void
leftover_watch (GstElement * element)
{
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  g_return_if_fail (GST_IS_ELEMENT (element));
  g_weak_ref_init (ref, element);
  g_mutex_lock (&lock);
  if (!watched)
    watched = g_ptr_array_new_with_free_func (weak_ref_free);
  g_ptr_array_add (watched, ref);
  g_mutex_unlock (&lock);
}

void
leftover_stop (void)
{
  GPtrArray *refs;
  guint i;

  g_mutex_lock (&lock);
  refs = watched;
  watched = NULL;
  g_mutex_unlock (&lock);
  if (!refs)
    return;

  for (i = 0; i < refs->len; i++) {
    GstObject *top = g_weak_ref_get (g_ptr_array_index (refs, i));
    GstObject *parent;

    if (!top)
      continue;
    while ((parent = gst_object_get_parent (top))) {
      gst_object_unref (top);
      top = parent;
    }
    GST_WARNING_OBJECT (top, "left running by a failed check, stopping it");
    gst_element_set_state (GST_ELEMENT (top), GST_STATE_NULL);
    gst_object_unref (top);
  }
  g_ptr_array_unref (refs);
}
