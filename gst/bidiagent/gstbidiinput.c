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

#include "gstbidiinput.h"

GST_DEBUG_CATEGORY_EXTERN (bidi_agent_debug);
#define GST_CAT_DEFAULT bidi_agent_debug

/* Drop warnings: the first at once, then at most one per this */
#define DROP_WARNING_INTERVAL (5 * G_TIME_SPAN_SECOND)

void
gst_bidi_input_init (GstBidiInput * in, GstElement * element,
    GstBidiInputWakeFunc wake, gpointer user_data)
{
  in->element = element;
  in->wake = wake;
  in->user_data = user_data;
  g_mutex_init (&in->lock);
  g_cond_init (&in->cond);
  gst_bidi_audio_queue_init (&in->queue, 0);
  in->flushing = TRUE;
  /* until upstream says it is live, nothing is dropped */
  in->live = FALSE;
  gst_audio_info_init (&in->prov_in);
  gst_audio_info_init (&in->info);
  in->acc = g_byte_array_new ();
}

void
gst_bidi_input_clear (GstBidiInput * in)
{
  g_mutex_clear (&in->lock);
  g_cond_clear (&in->cond);
  gst_bidi_audio_queue_clear (&in->queue);
  g_byte_array_unref (in->acc);
  if (in->conv)
    gst_audio_converter_free (in->conv);
}

void
gst_bidi_input_setup (GstBidiInput * in, const GstAudioInfo * prov_in,
    guint buffer_ms)
{
  guint64 max = MAX ((guint64) GST_AUDIO_INFO_RATE (prov_in) * buffer_ms /
      1000 * GST_AUDIO_INFO_BPF (prov_in), (guint64) GST_AUDIO_INFO_BPF
      (prov_in));

  g_mutex_lock (&in->lock);
  /* a new session counts its own drops */
  gst_bidi_audio_queue_clear (&in->queue);
  gst_bidi_audio_queue_init (&in->queue, max);
  in->closed = FALSE;
  in->last_drop_warning = 0;
  g_mutex_unlock (&in->lock);

  gst_audio_info_init (&in->info);
  in->chunk_bytes = 0;
}

/* Drops what is queued and the samples not cut into a chunk yet */
static void
input_reset (GstBidiInput * in)
{
  g_mutex_lock (&in->lock);
  gst_bidi_audio_queue_clear (&in->queue);
  g_mutex_unlock (&in->lock);
  g_byte_array_set_size (in->acc, 0);
  if (in->conv)
    gst_audio_converter_reset (in->conv);
}

void
gst_bidi_input_stop (GstBidiInput * in)
{
  input_reset (in);
  if (in->conv)
    gst_audio_converter_free (in->conv);
  in->conv = NULL;
}

gboolean
gst_bidi_input_set_caps (GstBidiInput * in, GstCaps * caps,
    const GstAudioInfo * prov_in, guint chunk_ms)
{
  GstAudioInfo info;
  GstAudioConverter *conv = NULL;

  if (!gst_audio_info_from_caps (&info, caps))
    goto invalid_caps;

  if (GST_AUDIO_INFO_FORMAT (prov_in) == GST_AUDIO_FORMAT_UNKNOWN)
    goto no_provider;

  if (!gst_audio_info_is_equal (&info, prov_in)) {
    conv = gst_audio_converter_new (GST_AUDIO_CONVERTER_FLAG_NONE, &info,
        (GstAudioInfo *) prov_in, NULL);
    if (!conv)
      goto no_converter;
  }

  GST_INFO_OBJECT (in->element, "input %" GST_PTR_FORMAT " -> %d Hz x %d %s",
      caps, GST_AUDIO_INFO_RATE (prov_in), GST_AUDIO_INFO_CHANNELS (prov_in),
      GST_AUDIO_INFO_NAME (prov_in));

  /* Already converted samples stay in acc: they are in the provider's
   * format whatever the input was. */
  if (in->conv)
    gst_audio_converter_free (in->conv);
  in->conv = conv;
  in->info = info;
  in->prov_in = *prov_in;
  in->chunk_bytes = (gsize) GST_AUDIO_INFO_RATE (prov_in) * chunk_ms /
      1000 * GST_AUDIO_INFO_BPF (prov_in);
  return TRUE;

  /* ERRORS */
invalid_caps:
  {
    GST_ELEMENT_ERROR (in->element, STREAM, FORMAT, (NULL),
        ("invalid input caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
no_provider:
  {
    GST_ELEMENT_ERROR (in->element, CORE, NEGOTIATION, (NULL),
        ("input caps before the provider was set up"));
    return FALSE;
  }
no_converter:
  {
    GST_ELEMENT_ERROR (in->element, STREAM, FORMAT,
        ("Cannot convert the input audio to what the provider takes"),
        ("no converter from %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
}

/* Whether upstream is live: decides drop-oldest versus waiting when the
 * input buffer is full. Asked again whenever it may have changed (caps, a
 * new segment). An upstream that does not answer (concat, for one) is
 * taken as not live: waiting never loses the user's words, dropping
 * would. */
void
gst_bidi_input_query_live (GstBidiInput * in, GstPad * sinkpad)
{
  GstQuery *query = gst_query_new_latency ();
  gboolean live = FALSE;

  if (gst_pad_peer_query (sinkpad, query))
    gst_query_parse_latency (query, &live, NULL, NULL);
  else
    GST_DEBUG_OBJECT (in->element, "upstream did not answer the LATENCY "
        "query: taken as not live");
  gst_query_unref (query);

  g_mutex_lock (&in->lock);
  in->live = live;
  g_mutex_unlock (&in->lock);
  GST_DEBUG_OBJECT (in->element, "upstream is %slive", live ? "" : "not ");
}

/* Hands a chunk to the network thread: live input drops the oldest audio
 * past the limit, non-live input waits for room. */
static GstFlowReturn
queue_chunk (GstBidiInput * in, GBytes * chunk)
{
  gboolean schedule, warn = FALSE;
  guint64 dropped_total = 0;
  gint64 now = g_get_monotonic_time ();
  gsize dropped;

  g_mutex_lock (&in->lock);
  while (!in->flushing && !in->live &&
      !gst_bidi_audio_queue_has_room (&in->queue, g_bytes_get_size (chunk)))
    g_cond_wait (&in->cond, &in->lock);

  if (in->flushing) {
    g_mutex_unlock (&in->lock);
    g_bytes_unref (chunk);
    return GST_FLOW_FLUSHING;
  }
  if (in->closed) {
    /* the conversation was stopped: nobody listens any more */
    g_mutex_unlock (&in->lock);
    g_bytes_unref (chunk);
    return GST_FLOW_OK;
  }

  /* one warning, then at most one every DROP_WARNING_INTERVAL, with the
   * total so far (the stats property counts them all) */
  dropped = gst_bidi_audio_queue_push (&in->queue, chunk, now);
  if (dropped > 0) {
    if (in->last_drop_warning == 0 ||
        now - in->last_drop_warning >= DROP_WARNING_INTERVAL) {
      in->last_drop_warning = now;
      warn = TRUE;
    }
  }
  dropped_total = gst_bidi_audio_queue_get_dropped (&in->queue);
  schedule = !in->scheduled;
  in->scheduled = TRUE;
  g_mutex_unlock (&in->lock);

  if (warn) {
    guint64 bytes_per_s = (guint64) GST_AUDIO_INFO_RATE (&in->prov_in) *
        GST_AUDIO_INFO_BPF (&in->prov_in);

    GST_ELEMENT_WARNING (in->element, STREAM, FAILED,
        ("Input buffer full: the provider is not taking audio, dropping "
            "the oldest (%" G_GUINT64_FORMAT " ms so far)",
            bytes_per_s ? dropped_total * 1000 / bytes_per_s : 0),
        ("%" G_GUINT64_FORMAT " bytes dropped so far; this warning comes at "
            "most every %d s", dropped_total,
            (gint) (DROP_WARNING_INTERVAL / G_TIME_SPAN_SECOND)));
  }

  if (schedule)
    in->wake (in->user_data);
  return GST_FLOW_OK;
}

static GstFlowReturn
send_chunks (GstBidiInput * in, gboolean partial)
{
  GstFlowReturn ret = GST_FLOW_OK;

  while (ret == GST_FLOW_OK && in->chunk_bytes > 0 &&
      (in->acc->len >= in->chunk_bytes || (partial && in->acc->len > 0))) {
    gsize n = MIN (in->acc->len, in->chunk_bytes);
    GBytes *chunk = g_bytes_new (in->acc->data, n);

    g_byte_array_remove_range (in->acc, 0, n);
    ret = queue_chunk (in, chunk);
  }
  return ret;
}

GstFlowReturn
gst_bidi_input_chain (GstBidiInput * in, GstBuffer * buffer)
{
  GstMapInfo map;
  gsize in_frames;

  if (GST_AUDIO_INFO_FORMAT (&in->info) == GST_AUDIO_FORMAT_UNKNOWN
      || in->chunk_bytes == 0)
    goto not_negotiated;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    goto map_failed;
  in_frames = map.size / GST_AUDIO_INFO_BPF (&in->info);

  if (!in->conv) {
    g_byte_array_append (in->acc, map.data,
        in_frames * GST_AUDIO_INFO_BPF (&in->info));
  } else if (in_frames > 0) {
    gsize out_frames = gst_audio_converter_get_out_frames (in->conv,
        in_frames);
    gsize old_len = in->acc->len;
    gpointer src[1], dst[1];

    g_byte_array_set_size (in->acc,
        old_len + out_frames * GST_AUDIO_INFO_BPF (&in->prov_in));
    src[0] = map.data;
    dst[0] = in->acc->data + old_len;
    if (!gst_audio_converter_samples (in->conv,
            GST_AUDIO_CONVERTER_FLAG_NONE, src, in_frames, dst, out_frames)) {
      g_byte_array_set_size (in->acc, old_len);
      gst_buffer_unmap (buffer, &map);
      goto convert_failed;
    }
  }
  gst_buffer_unmap (buffer, &map);
  gst_buffer_unref (buffer);

  return send_chunks (in, FALSE);

  /* ERRORS */
not_negotiated:
  {
    GST_ELEMENT_ERROR (in->element, CORE, NEGOTIATION, (NULL),
        ("no caps on the sink pad before the first buffer"));
    gst_buffer_unref (buffer);
    return GST_FLOW_NOT_NEGOTIATED;
  }
map_failed:
  {
    GST_ELEMENT_ERROR (in->element, STREAM, FAILED, (NULL),
        ("could not map an input buffer"));
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
convert_failed:
  {
    GST_ELEMENT_ERROR (in->element, STREAM, FORMAT, (NULL),
        ("could not convert the input audio"));
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
}

void
gst_bidi_input_finish (GstBidiInput * in)
{
  send_chunks (in, TRUE);
}

void
gst_bidi_input_set_flushing (GstBidiInput * in, gboolean flushing)
{
  g_mutex_lock (&in->lock);
  in->flushing = flushing;
  g_cond_broadcast (&in->cond);
  g_mutex_unlock (&in->lock);
}

void
gst_bidi_input_flush_stop (GstBidiInput * in)
{
  input_reset (in);
  gst_bidi_input_set_flushing (in, FALSE);
}

GBytes *
gst_bidi_input_pop (GstBidiInput * in, gboolean ready, gint64 * arrived_us)
{
  GBytes *chunk = NULL;

  g_mutex_lock (&in->lock);
  in->scheduled = FALSE;
  if (ready && (chunk = gst_bidi_audio_queue_pop (&in->queue, arrived_us)))
    g_cond_broadcast (&in->cond);
  g_mutex_unlock (&in->lock);
  return chunk;
}

void
gst_bidi_input_close (GstBidiInput * in)
{
  g_mutex_lock (&in->lock);
  in->closed = TRUE;
  g_mutex_unlock (&in->lock);
}

void
gst_bidi_input_get_stats (GstBidiInput * in, guint64 * queued,
    guint64 * dropped)
{
  g_mutex_lock (&in->lock);
  *queued = gst_bidi_audio_queue_get_bytes (&in->queue);
  *dropped = gst_bidi_audio_queue_get_dropped (&in->queue);
  g_mutex_unlock (&in->lock);
}
