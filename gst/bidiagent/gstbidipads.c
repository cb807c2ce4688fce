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

#include "gstbidipads.h"

GST_DEBUG_CATEGORY_EXTERN (bidi_agent_debug);
#define GST_CAT_DEFAULT bidi_agent_debug

void
gst_bidi_pads_init (GstBidiPads * pads, GstElement * element,
    GstBidiNet * net, const GstBidiPadsCallbacks * cb, gpointer user_data)
{
  pads->element = element;
  pads->net = net;
  pads->cb = *cb;
  pads->user_data = user_data;
  g_mutex_init (&pads->lock);
}

void
gst_bidi_pads_clear (GstBidiPads * pads)
{
  gst_bidi_pads_reset_images (pads);
  g_mutex_clear (&pads->lock);
}

const gchar *
gst_bidi_image_mime_type (GBytes * data)
{
  gsize size;
  const guint8 *d = g_bytes_get_data (data, &size);

  if (size >= 8 && memcmp (d, "\x89PNG\r\n\x1a\n", 8) == 0)
    return "image/png";
  if (size >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
    return "image/jpeg";
  if (size >= 12 && memcmp (d, "RIFF", 4) == 0 && memcmp (d + 8, "WEBP",
          4) == 0)
    return "image/webp";
  return NULL;
}

/* ------------------------------------------------------------------------
 * text_sink and image_sink
 * ------------------------------------------------------------------------ */

/* text_sink: each buffer is one message from the user, as typed */
static GstFlowReturn
text_chain (GstPad * pad, G_GNUC_UNUSED GstObject * parent, GstBuffer * buf)
{
  GstBidiPads *pads = gst_pad_get_element_private (pad);
  GstMapInfo map;
  gchar *text;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (pads->element, RESOURCE, READ, (NULL),
        ("could not map a text_sink buffer"));
    return GST_FLOW_ERROR;
  }
  if (g_utf8_validate_len ((const gchar *) map.data, map.size, NULL)) {
    text = g_strndup ((const gchar *) map.data, map.size);
  } else {
    /* say so, and send what can be read rather than nothing */
    GST_ELEMENT_WARNING (pads->element, STREAM, DECODE,
        ("Text on text_sink is not valid UTF-8: the bad bytes were "
            "replaced"), ("%" G_GSIZE_FORMAT " bytes", map.size));
    text = g_utf8_make_valid ((const gchar *) map.data, map.size);
  }
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);

  g_strstrip (text);
  if (*text) {
    GST_DEBUG_OBJECT (pad, "user text: %s", text);
    pads->cb.send_text (pads->user_data, text);
  }
  g_free (text);
  return GST_FLOW_OK;
}

/* image_sink and text_sink: events end here; their EOS ends that input
 * only, never the conversation */
static gboolean
aux_sink_event (GstPad * pad, G_GNUC_UNUSED GstObject * parent,
    GstEvent * event)
{
  GST_LOG_OBJECT (pad, "%" GST_PTR_FORMAT, event);
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
    GST_INFO_OBJECT (pad, "input ended; the conversation goes on");
  gst_event_unref (event);
  return TRUE;
}

static gboolean
aux_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:
      gst_bidi_caps_query_reply (query, gst_pad_get_pad_template_caps (pad));
      return TRUE;
    case GST_QUERY_ACCEPT_CAPS:
    case GST_QUERY_ALLOCATION:
      return gst_pad_query_default (pad, parent, query);
    default:
      /* nothing flows on from these pads */
      return FALSE;
  }
}

static gboolean
image_timer_cb (gpointer user_data)
{
  GstBidiPads *pads = user_data;
  const gchar *mime = NULL;
  GBytes *data = NULL;

  g_mutex_lock (&pads->lock);
  if (pads->img_timer) {
    g_source_unref (pads->img_timer);
    pads->img_timer = NULL;
    data = pads->img_pending;
    mime = pads->img_pending_mime;
    pads->img_pending = NULL;
    if (data)
      pads->img_last_sent = g_get_monotonic_time ();
  }
  g_mutex_unlock (&pads->lock);

  if (data) {
    GST_LOG_OBJECT (pads->element, "sending the newest image_sink frame");
    pads->cb.send_image (pads->user_data, data, mime);
    g_bytes_unref (data);
  }
  return G_SOURCE_REMOVE;
}

void
gst_bidi_pads_reset_images (GstBidiPads * pads)
{
  GSource *timer;
  GBytes *pending;

  g_mutex_lock (&pads->lock);
  timer = pads->img_timer;
  pending = pads->img_pending;
  pads->img_timer = NULL;
  pads->img_pending = NULL;
  pads->img_last_sent = 0;
  pads->img_warned = FALSE;
  g_mutex_unlock (&pads->lock);

  if (timer) {
    g_source_destroy (timer);
    g_source_unref (timer);
  }
  if (pending)
    g_bytes_unref (pending);
}

/* image_sink: at most one frame per image-interval-ms goes to the model,
 * the newest one. Frames that wait do so here, not on the network thread,
 * which wakes up only to send. */
static GstFlowReturn
image_chain (GstPad * pad, G_GNUC_UNUSED GstObject * parent, GstBuffer * buf)
{
  GstBidiPads *pads = gst_pad_get_element_private (pad);
  GMainContext *ctx = NULL;
  const gchar *mime;
  gboolean warn = FALSE, send_now = FALSE;
  GBytes *data, *old = NULL;
  gint64 now, interval;
  gchar *provider_name = NULL;
  gpointer bytes;
  gsize size;

  switch (pads->cb.takes_images (pads->user_data, &provider_name)) {
    case -1:
      gst_buffer_unref (buf);
      return GST_FLOW_FLUSHING;
    case 0:
      g_mutex_lock (&pads->lock);
      warn = !pads->img_warned;
      pads->img_warned = TRUE;
      g_mutex_unlock (&pads->lock);
      if (warn)
        GST_ELEMENT_WARNING (pads->element, STREAM, NOT_IMPLEMENTED,
            ("The \"%s\" provider takes no images: the frames on image_sink "
                "are dropped", GST_STR_NULL (provider_name)), (NULL));
      g_free (provider_name);
      gst_buffer_unref (buf);
      return GST_FLOW_OK;
    default:
      break;
  }

  size = gst_buffer_get_size (buf);
  gst_buffer_extract_dup (buf, 0, size, &bytes, &size);
  gst_buffer_unref (buf);
  data = g_bytes_new_take (bytes, size);
  mime = gst_bidi_image_mime_type (data);
  if (!mime || strcmp (mime, "image/webp") == 0) {
    GST_ELEMENT_WARNING (pads->element, STREAM, FORMAT,
        ("A frame on image_sink is not a JPEG or PNG image; dropped"),
        ("%" G_GSIZE_FORMAT " bytes", size));
    g_bytes_unref (data);
    return GST_FLOW_OK;
  }

  ctx = gst_bidi_net_ref_context (pads->net);
  if (!ctx) {
    g_bytes_unref (data);
    return GST_FLOW_FLUSHING;
  }

  now = g_get_monotonic_time ();
  g_mutex_lock (&pads->lock);
  interval = (gint64) pads->image_interval_ms * 1000;
  if (!pads->img_timer && (pads->img_last_sent == 0 ||
          now - pads->img_last_sent >= interval)) {
    send_now = TRUE;
    pads->img_last_sent = now;
  } else {
    /* the newest frame wins */
    old = pads->img_pending;
    pads->img_pending = g_bytes_ref (data);
    pads->img_pending_mime = mime;
    if (!pads->img_timer) {
      gint64 wait = pads->img_last_sent + interval - now;

      pads->img_timer = g_timeout_source_new (MAX (wait, 0) / 1000);
      g_source_set_callback (pads->img_timer, image_timer_cb, pads, NULL);
      g_source_set_name (pads->img_timer, "bidiagent-image");
      g_source_attach (pads->img_timer, ctx);
    }
  }
  g_mutex_unlock (&pads->lock);
  g_main_context_unref (ctx);

  if (old) {
    GST_LOG_OBJECT (pad, "a newer frame replaces the one waiting");
    g_bytes_unref (old);
  }
  if (send_now)
    pads->cb.send_image (pads->user_data, data, mime);
  g_bytes_unref (data);
  return GST_FLOW_OK;
}

/* ------------------------------------------------------------------------
 * transcript_src
 * ------------------------------------------------------------------------ */

GstBidiCaptions *
gst_bidi_pads_get_captions (GstBidiPads * pads)
{
  GstBidiCaptions *c;

  GST_OBJECT_LOCK (pads->element);
  c = pads->captions ? gst_bidi_captions_ref (pads->captions) : NULL;
  GST_OBJECT_UNLOCK (pads->element);
  return c;
}

/* A final transcript for the transcript_src pad */
void
gst_bidi_pads_on_transcript (GstBidiPads * pads, const GstStructure * event,
    GstBidiOutput * out)
{
  const gchar *role = gst_structure_get_string (event, "role");
  const gchar *text = gst_structure_get_string (event, "text");
  GstBidiAgentTranscriptRoles roles;
  GstBidiCaptions *captions;
  gboolean is_final = FALSE, assistant, prefix, muted;
  guint answer;
  gchar *line;

  if (!gst_structure_get_boolean (event, "is_final", &is_final) ||
      !is_final || !role || !text || !*text)
    return;
  assistant = strcmp (role, "assistant") == 0;

  GST_OBJECT_LOCK (pads->element);
  captions = pads->captions ? gst_bidi_captions_ref (pads->captions) : NULL;
  roles = pads->transcript_roles;
  prefix = pads->transcript_prefix;
  GST_OBJECT_UNLOCK (pads->element);
  if (!captions)
    return;
  if (!(roles & (assistant ? GST_BIDI_AGENT_TRANSCRIPT_ASSISTANT :
              GST_BIDI_AGENT_TRANSCRIPT_USER)))
    goto done;

  gst_bidi_output_get_answer (out, &answer, &muted);
  if (!assistant)
    answer = 0;
  /* an answer cut by the user was not heard: no caption for it */
  if (assistant && muted)
    goto done;

  line = prefix ? g_strdup_printf ("%s: %s", assistant ? "Assistant" :
      "User", text) : g_strdup (text);
  gst_bidi_captions_add (captions, line, answer);
  g_free (line);
done:
  gst_bidi_captions_unref (captions);
}

void
gst_bidi_pads_answer_closed (GstBidiPads * pads, guint answer,
    gboolean had_audio)
{
  GstBidiCaptions *captions = gst_bidi_pads_get_captions (pads);

  if (!captions)
    return;
  gst_bidi_captions_answer_closed (captions, answer, had_audio);
  gst_bidi_captions_unref (captions);
}

static gboolean
transcript_activate_mode (GstPad * pad, G_GNUC_UNUSED GstObject * parent,
    GstPadMode mode, gboolean active)
{
  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  return gst_bidi_captions_activate (gst_pad_get_element_private (pad),
      active);
}

static gboolean
transcript_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:{
      /* on the audio's timeline, with the audio's latency */
      GstPad *src = gst_element_get_static_pad (GST_ELEMENT (parent), "src");
      gboolean ret = gst_bidi_output_src_query (src, parent, query);

      gst_object_unref (src);
      return ret;
    }
    case GST_QUERY_CAPS:
      return aux_sink_query (pad, parent, query);
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static gboolean
transcript_event (G_GNUC_UNUSED GstPad * pad,
    G_GNUC_UNUSED GstObject * parent, GstEvent * event)
{
  /* upstream events of the text branch (QOS, navigation...) stop here */
  gboolean handled = GST_EVENT_TYPE (event) == GST_EVENT_RECONFIGURE;

  gst_event_unref (event);
  return handled;
}

/* ------------------------------------------------------------------------
 * Requesting and releasing
 * ------------------------------------------------------------------------ */

GstPad *
gst_bidi_pads_request (GstBidiPads * pads, GstPadTemplate * templ)
{
  const gchar *tname = GST_PAD_TEMPLATE_NAME_TEMPLATE (templ);
  GstPad **slot, *pad;

  if (strcmp (tname, "text_sink") == 0)
    slot = &pads->text_sinkpad;
  else if (strcmp (tname, "transcript_src") == 0)
    slot = &pads->transcript_srcpad;
  else if (strcmp (tname, "image_sink") == 0)
    slot = &pads->image_sinkpad;
  else
    return NULL;

  GST_OBJECT_LOCK (pads->element);
  if (*slot) {
    GST_OBJECT_UNLOCK (pads->element);
    GST_WARNING_OBJECT (pads->element, "there is already a %s pad", tname);
    return NULL;
  }
  pad = gst_pad_new_from_template (templ, tname);
  *slot = pad;
  GST_OBJECT_UNLOCK (pads->element);

  if (slot == &pads->transcript_srcpad) {
    GstBidiCaptions *captions = gst_bidi_captions_new (pad);

    gst_pad_set_element_private (pad, captions);
    gst_pad_set_activatemode_function (pad,
        GST_DEBUG_FUNCPTR (transcript_activate_mode));
    gst_pad_set_query_function (pad, GST_DEBUG_FUNCPTR (transcript_query));
    gst_pad_set_event_function (pad, GST_DEBUG_FUNCPTR (transcript_event));
    GST_OBJECT_LOCK (pads->element);
    pads->captions = captions;
    GST_OBJECT_UNLOCK (pads->element);
  } else {
    gst_pad_set_element_private (pad, pads);
    gst_pad_set_chain_function (pad, slot == &pads->text_sinkpad ?
        GST_DEBUG_FUNCPTR (text_chain) : GST_DEBUG_FUNCPTR (image_chain));
    gst_pad_set_event_function (pad, GST_DEBUG_FUNCPTR (aux_sink_event));
    gst_pad_set_query_function (pad, GST_DEBUG_FUNCPTR (aux_sink_query));
  }

  /* added while PAUSED or PLAYING: it is activated by add_pad */
  gst_element_add_pad (pads->element, pad);
  GST_INFO_OBJECT (pads->element, "added %s", tname);
  return pad;
}

void
gst_bidi_pads_release (GstBidiPads * pads, GstPad * pad)
{
  GstBidiCaptions *captions = NULL;
  gboolean image = FALSE;

  GST_OBJECT_LOCK (pads->element);
  if (pad == pads->text_sinkpad) {
    pads->text_sinkpad = NULL;
  } else if (pad == pads->image_sinkpad) {
    pads->image_sinkpad = NULL;
    image = TRUE;
  } else if (pad == pads->transcript_srcpad) {
    pads->transcript_srcpad = NULL;
    captions = pads->captions;
    pads->captions = NULL;
  } else {
    GST_OBJECT_UNLOCK (pads->element);
    return;
  }
  GST_OBJECT_UNLOCK (pads->element);

  GST_INFO_OBJECT (pads->element, "releasing %s:%s", GST_DEBUG_PAD_NAME (pad));
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (pads->element, pad);
  if (image)
    gst_bidi_pads_reset_images (pads);
  if (captions)
    gst_bidi_captions_unref (captions);
}
