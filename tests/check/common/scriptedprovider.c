/* gst-bidi: a provider for tests and benchmarks.
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The "scripted" provider: no network, it emits the events its
 * provider-config scripts (and those a test hands to
 * gst_bidi_scripted_provider_play()) at the scripted times, and records
 * every call the element makes, so tests can check both directions.
 *
 * Everything it emits goes through one timeline: a list of items sorted by
 * due time (then by insertion order), served by one GSource attached to the
 * network thread's main context whose ready time is the first item's due
 * time. So connection start, scripted events, played events, paced audio,
 * fail-after-ms and end_input's close come out in a deterministic order, all
 * on the network thread, and stop() cancels them all by clearing the list
 * and destroying the source.
 *
 * Scripted audio ("bidi_audio_stream" entries with duration-ms) is generated
 * in any output format GStreamer can pack: the S16 "value" is turned into
 * one sample of the format's unpack format (S32 for integer formats,
 * value / 32768.0 as F64 for float formats), packed with the format's own
 * pack function and repeated.
 *
 * Played events may carry "at-ms" too: it is then a delay from the moment
 * they are scheduled (the play() call, or the connection for events played
 * before that).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <string.h>

#include "scriptedprovider.h"
#include <gst/bidi/gstbiditools.h>

GST_DEBUG_CATEGORY_STATIC (bidi_scripted_debug);
#define GST_CAT_DEFAULT bidi_scripted_debug

#define PROVIDER_NAME "scripted"

#define DEFAULT_IN_RATE 16000
#define DEFAULT_OUT_RATE 24000
#define DEFAULT_CHANNELS 1
#define DEFAULT_FORMAT GST_AUDIO_FORMAT_S16LE
#define DEFAULT_VALUE 1000
#define DEFAULT_CHUNK_MS 20
#define MAX_DELAY_MS (24 * 3600 * 1000)
#define MAX_DURATION_MS (3600 * 1000)
#define MAX_CHUNK_MS 60000

typedef enum
{
  ITEM_CONNECT,                 /* emit bidi_connection_start */
  ITEM_EVENT,                   /* a scripted or played event */
  ITEM_AUDIO,                   /* one chunk of an expanded audio entry */
  ITEM_FAIL,                    /* fail-after-ms: bidi_error + close "error" */
  ITEM_CLOSE                    /* end_input: close "complete" */
} ItemKind;

typedef struct
{
  ItemKind kind;
  gint64 due;                   /* monotonic time, us */
  guint64 seq;                  /* equal due times: insertion order */
  GstStructure *event;          /* ITEM_EVENT, ITEM_AUDIO */
  guint64 group;                /* ITEM_AUDIO: the audio entry it comes from */
} Item;

#define ITEM_IS_SCRIPTED(item) \
    ((item)->kind == ITEM_EVENT || (item)->kind == ITEM_AUDIO)

typedef struct
{
  GSource source;
  GstBidiScriptedProvider *self;        /* no ref: stop/finalize destroy us */
} TimelineSource;

struct _GstBidiScriptedProvider
{
  GstBidiProvider parent;

  GMutex lock;
  GCond cond;                   /* signalled when a call is recorded */

  /* the configuration, written by configure; protected by lock */
  GstAudioInfo in_info;
  GstAudioInfo out_info;
  gboolean fail_start;
  gint fail_after_ms;           /* -1: never */
  gint connect_delay_ms;
  GPtrArray *script;            /* GstStructure, validated */
  gboolean echo;
  gint end_input_delay_ms;      /* -1: never closes */
  gboolean record_audio;

  /* protected by lock */
  GPtrArray *calls;             /* GstStructure, one per recorded call */
  GByteArray *audio;            /* PCM received, if record_audio */
  GQueue played;                /* GstStructure from play() before connecting */
  GstBidiScriptedEmitHook hook;
  gpointer hook_data;

  /* the session; protected by lock (play() reads it from any thread) */
  gboolean running;             /* between start and stop */
  gboolean connected;           /* between connection start and close */
  guint session;                /* bumped by start and stop */
  GMainContext *context;        /* the network thread's context */
  GSource *timer;               /* TimelineSource attached to context */
  GQueue timeline;              /* Item, sorted by due then seq */
  guint n_scripted;             /* ITEM_EVENT/ITEM_AUDIO items in timeline */
  guint64 next_seq;
  guint64 next_group;
  guint64 current_group;        /* audio entry that emitted the last chunk */
  gint64 connect_time;          /* monotonic time, us */
  gboolean end_input_pending;
  gboolean close_scheduled;

  /* network thread only */
  gchar *connection_id;
  gchar *model;
};

G_DEFINE_FINAL_TYPE_WITH_CODE (GstBidiScriptedProvider,
    gst_bidi_scripted_provider, GST_TYPE_BIDI_PROVIDER,
    GST_DEBUG_CATEGORY_INIT (bidi_scripted_debug, "bidiscripted", 0,
        "scripted bidi provider for tests"));

static GMutex last_lock;
static GstBidiScriptedProvider *last_instance;  /* protected by last_lock */

static gint connection_counter; /* atomic */

static gboolean timeline_dispatch (GSource * source, GSourceFunc callback,
    gpointer user_data);

static GSourceFuncs timeline_funcs = {
  NULL, NULL, timeline_dispatch, NULL, NULL, NULL
};

/* ------------------------------------------------------------------------ */
/* recording */

static void
record_call_locked (GstBidiScriptedProvider * self, GstStructure * call)
{
  GST_LOG_OBJECT (self, "call %" GST_PTR_FORMAT, call);
  g_ptr_array_add (self->calls, call);
  g_cond_broadcast (&self->cond);
}

static void
record_call (GstBidiScriptedProvider * self, GstStructure * call)
{
  g_mutex_lock (&self->lock);
  record_call_locked (self, call);
  g_mutex_unlock (&self->lock);
}

/* Sets the string @field of @s unless @value is NULL */
static void
set_string_maybe (GstStructure * s, const gchar * field, const gchar * value)
{
  if (value)
    gst_structure_set (s, field, G_TYPE_STRING, value, NULL);
}

static guint
count_calls_locked (GstBidiScriptedProvider * self, const gchar * name)
{
  guint i, n = 0;

  for (i = 0; i < self->calls->len; i++) {
    if (gst_structure_has_name (g_ptr_array_index (self->calls, i), name))
      n++;
  }
  return n;
}

/* ------------------------------------------------------------------------ */
/* the timeline */

static void
item_free (Item * item)
{
  if (item->event)
    gst_structure_free (item->event);
  g_free (item);
}

/* Inserts keeping the order (due, seq). Items mostly come in increasing
 * order, so search from the tail. */
static void
insert_item_locked (GstBidiScriptedProvider * self, ItemKind kind,
    gint64 due, GstStructure * event, guint64 group)
{
  Item *item = g_new0 (Item, 1);
  GList *l;

  item->kind = kind;
  item->due = due;
  item->seq = self->next_seq++;
  item->event = event;
  item->group = group;

  for (l = self->timeline.tail; l; l = l->prev) {
    if (((Item *) l->data)->due <= due)
      break;
  }
  if (l)
    g_queue_insert_after (&self->timeline, l, item);
  else
    g_queue_push_head (&self->timeline, item);

  if (ITEM_IS_SCRIPTED (item))
    self->n_scripted++;
}

static void
clear_timeline_locked (GstBidiScriptedProvider * self)
{
  Item *item;

  while ((item = g_queue_pop_head (&self->timeline)))
    item_free (item);
  self->n_scripted = 0;
}

static void
update_timer_locked (GstBidiScriptedProvider * self)
{
  Item *head;

  if (!self->timer)
    return;
  head = g_queue_peek_head (&self->timeline);
  g_source_set_ready_time (self->timer, head ? head->due : -1);
}

/* Fills @n_frames frames of @info's format with the S16 sample @value. */
static GBytes *
make_pcm (const GstAudioInfo * info, gint value, guint64 n_frames)
{
  const GstAudioFormatInfo *finfo = info->finfo;
  guint bps = GST_AUDIO_FORMAT_INFO_WIDTH (finfo) / 8;
  gsize n_samples = n_frames * GST_AUDIO_INFO_CHANNELS (info);
  guint8 sample[8] = { 0, };
  guint8 *data, *p;
  gsize i;

  /* the common formats directly: no orc set-up (slow under valgrind) */
  if (GST_AUDIO_INFO_FORMAT (info) == GST_AUDIO_FORMAT_S16LE) {
    GST_WRITE_UINT16_LE (sample, (guint16) value);
  } else if (GST_AUDIO_INFO_FORMAT (info) == GST_AUDIO_FORMAT_F32LE) {
    GST_WRITE_FLOAT_LE (sample, value / 32768.0f);
  } else if (finfo->unpack_format == GST_AUDIO_FORMAT_F64) {
    gdouble d = value / 32768.0;

    finfo->pack_func (finfo, GST_AUDIO_PACK_FLAG_NONE, &d, sample, 1);
  } else {
    gint32 s = value * 65536;

    finfo->pack_func (finfo, GST_AUDIO_PACK_FLAG_NONE, &s, sample, 1);
  }

  data = g_malloc (n_samples * bps);
  for (i = 0, p = data; i < n_samples; i++, p += bps)
    memcpy (p, sample, bps);
  return g_bytes_new_take (data, n_samples * bps);
}

static gboolean
copy_extra_field (GQuark field_id, const GValue * value, gpointer user_data)
{
  gst_structure_id_set_value (user_data, field_id, value);
  return TRUE;
}

static gboolean
is_expandable_audio (const GstStructure * s)
{
  return gst_structure_has_name (s, GST_BIDI_EVENT_AUDIO_STREAM)
      && gst_structure_has_field (s, "duration-ms");
}

/* A bidi_audio_stream entry -> one ITEM_AUDIO per chunk. */
static void
expand_audio_locked (GstBidiScriptedProvider * self,
    const GstStructure * entry, gint64 due)
{
  const GstAudioInfo *info = &self->out_info;
  gint duration_ms = 0, value = DEFAULT_VALUE, chunk_ms = DEFAULT_CHUNK_MS;
  gboolean paced = FALSE;
  guint64 total, per_chunk, done, group, i;
  gsize bpf = GST_AUDIO_INFO_BPF (info);
  const gchar *format = gst_audio_format_to_string (GST_AUDIO_INFO_FORMAT
      (info));
  GstStructure *extra;
  GBytes *full;

  gst_structure_get_int (entry, "duration-ms", &duration_ms);
  gst_structure_get_int (entry, "value", &value);
  gst_structure_get_int (entry, "chunk-ms", &chunk_ms);
  gst_structure_get_boolean (entry, "paced", &paced);

  total = gst_util_uint64_scale_int (duration_ms, GST_AUDIO_INFO_RATE (info),
      1000);
  per_chunk = gst_util_uint64_scale_int (chunk_ms, GST_AUDIO_INFO_RATE (info),
      1000);
  if (per_chunk == 0)
    per_chunk = 1;
  if (total == 0)
    return;

  /* whatever else the entry carries (response_id ...) goes into each chunk */
  extra = gst_structure_copy (entry);
  gst_structure_remove_fields (extra, "at-ms", "duration-ms", "value",
      "chunk-ms", "paced", "audio", "format", "sample_rate", "channels", NULL);

  full = make_pcm (info, value, MIN (per_chunk, total));
  group = ++self->next_group;
  GST_DEBUG_OBJECT (self, "audio entry %" G_GUINT64_FORMAT ": %d ms of %d in "
      "%d ms chunks%s", group, duration_ms, value, chunk_ms,
      paced ? ", paced" : "");

  for (i = 0, done = 0; done < total; i++) {
    guint64 n = MIN (per_chunk, total - done);
    GBytes *bytes;
    GstStructure *event;

    if (n * bpf == g_bytes_get_size (full))
      bytes = g_bytes_ref (full);
    else
      bytes = g_bytes_new_from_bytes (full, 0, n * bpf);
    event = gst_bidi_event_new_audio_stream (bytes, format,
        GST_AUDIO_INFO_RATE (info), GST_AUDIO_INFO_CHANNELS (info));
    g_bytes_unref (bytes);
    gst_structure_foreach (extra, copy_extra_field, event);

    insert_item_locked (self, ITEM_AUDIO,
        paced ? due + (gint64) i * chunk_ms * G_TIME_SPAN_MILLISECOND : due,
        event, group);
    done += n;
  }

  g_bytes_unref (full);
  gst_structure_free (extra);
}

/* Schedules a script or play() entry at @base + its at-ms. Takes @entry. */
static void
schedule_entry_locked (GstBidiScriptedProvider * self, GstStructure * entry,
    gint64 base)
{
  gint at_ms = 0;
  gint64 due;

  gst_structure_get_int (entry, "at-ms", &at_ms);
  due = base + (gint64) MAX (at_ms, 0) * G_TIME_SPAN_MILLISECOND;

  if (is_expandable_audio (entry)) {
    expand_audio_locked (self, entry, due);
    gst_structure_free (entry);
  } else {
    gst_structure_remove_field (entry, "at-ms");
    insert_item_locked (self, ITEM_EVENT, due, entry, 0);
  }
}

/* After end_input: close once nothing scripted is pending. */
static void
maybe_schedule_close_locked (GstBidiScriptedProvider * self)
{
  if (!self->running || !self->connected || !self->end_input_pending
      || self->close_scheduled || self->n_scripted > 0
      || self->end_input_delay_ms < 0)
    return;

  GST_DEBUG_OBJECT (self, "closing in %d ms", self->end_input_delay_ms);
  self->close_scheduled = TRUE;
  insert_item_locked (self, ITEM_CLOSE, g_get_monotonic_time () +
      (gint64) self->end_input_delay_ms * G_TIME_SPAN_MILLISECOND, NULL, 0);
  update_timer_locked (self);
}

/* Emits @event (taken) if @session is still the current one. Returns
 * whether it was emitted. Network thread only, no lock held. */
static gboolean
emit_event (GstBidiScriptedProvider * self, GstStructure * event,
    guint session)
{
  GstBidiScriptedEmitHook hook;
  gpointer hook_data;

  g_mutex_lock (&self->lock);
  if (!self->running || self->session != session) {
    g_mutex_unlock (&self->lock);
    GST_LOG_OBJECT (self, "stopped, not emitting %s",
        gst_structure_get_name (event));
    gst_structure_free (event);
    return FALSE;
  }
  hook = self->hook;
  hook_data = self->hook_data;
  g_mutex_unlock (&self->lock);

  GST_LOG_OBJECT (self, "emitting %" GST_PTR_FORMAT, event);
  if (hook)
    hook (self, event, hook_data);
  gst_bidi_provider_emit (GST_BIDI_PROVIDER (self), event);
  return TRUE;
}

/* The provider's own close: nothing is emitted after it. */
static void
disconnect_locked (GstBidiScriptedProvider * self)
{
  self->connected = FALSE;
  clear_timeline_locked (self);
}

static void
on_connected (GstBidiScriptedProvider * self, guint session)
{
  GstStructure *entry;
  guint i;

  g_mutex_lock (&self->lock);
  if (!self->running || self->session != session) {
    g_mutex_unlock (&self->lock);
    return;
  }
  self->connected = TRUE;
  self->connect_time = g_get_monotonic_time ();
  for (i = 0; i < self->script->len; i++) {
    schedule_entry_locked (self,
        gst_structure_copy (g_ptr_array_index (self->script, i)),
        self->connect_time);
  }
  while ((entry = g_queue_pop_head (&self->played)))
    schedule_entry_locked (self, entry, self->connect_time);
  if (self->fail_after_ms >= 0) {
    insert_item_locked (self, ITEM_FAIL, self->connect_time +
        (gint64) self->fail_after_ms * G_TIME_SPAN_MILLISECOND, NULL, 0);
  }
  maybe_schedule_close_locked (self);
  update_timer_locked (self);
  g_mutex_unlock (&self->lock);
}

static void
process_item (GstBidiScriptedProvider * self, Item * item, guint session)
{
  GstStructure *event = g_steal_pointer (&item->event);

  switch (item->kind) {
    case ITEM_CONNECT:
      GST_INFO_OBJECT (self, "connected: %s", self->connection_id);
      if (emit_event (self, gst_bidi_event_new_connection_start
              (self->connection_id, self->model), session))
        on_connected (self, session);
      break;
    case ITEM_AUDIO:
      g_mutex_lock (&self->lock);
      self->current_group = item->group;
      g_mutex_unlock (&self->lock);
      /* fall through */
    case ITEM_EVENT:
      emit_event (self, event, session);
      g_mutex_lock (&self->lock);
      if (self->session == session)
        maybe_schedule_close_locked (self);
      g_mutex_unlock (&self->lock);
      break;
    case ITEM_FAIL:
      GST_INFO_OBJECT (self, "failing (fail-after-ms)");
      g_mutex_lock (&self->lock);
      disconnect_locked (self);
      g_mutex_unlock (&self->lock);
      if (emit_event (self, gst_bidi_event_new_error ("scripted failure",
                  "scripted", NULL), session))
        emit_event (self, gst_bidi_event_new_connection_close
            (self->connection_id, "error"), session);
      break;
    case ITEM_CLOSE:
      GST_INFO_OBJECT (self, "closing (end of input)");
      g_mutex_lock (&self->lock);
      disconnect_locked (self);
      g_mutex_unlock (&self->lock);
      emit_event (self, gst_bidi_event_new_connection_close
          (self->connection_id, "complete"), session);
      break;
  }
}

static gboolean
timeline_dispatch (GSource * source, G_GNUC_UNUSED GSourceFunc callback,
    G_GNUC_UNUSED gpointer user_data)
{
  GstBidiScriptedProvider *self = ((TimelineSource *) source)->self;

  gst_object_ref (self);
  for (;;) {
    Item *item = NULL, *head;
    guint session = 0;

    g_mutex_lock (&self->lock);
    if (self->running && self->timer == source) {
      head = g_queue_peek_head (&self->timeline);
      if (head && head->due <= g_get_monotonic_time ()) {
        item = g_queue_pop_head (&self->timeline);
        if (ITEM_IS_SCRIPTED (item))
          self->n_scripted--;
        session = self->session;
      }
    }
    if (!item) {
      if (self->timer == source)
        update_timer_locked (self);
      g_mutex_unlock (&self->lock);
      break;
    }
    g_mutex_unlock (&self->lock);

    process_item (self, item, session);
    item_free (item);
  }
  gst_object_unref (self);

  return G_SOURCE_CONTINUE;
}

/* Ends the session: no more events. Returns the source to destroy. */
static GSource *
shutdown_locked (GstBidiScriptedProvider * self)
{
  GSource *timer = g_steal_pointer (&self->timer);

  self->running = FALSE;
  self->connected = FALSE;
  self->session++;
  self->end_input_pending = FALSE;
  self->close_scheduled = FALSE;
  self->current_group = 0;
  clear_timeline_locked (self);
  g_clear_pointer (&self->context, g_main_context_unref);
  return timer;
}

static void
destroy_timer (GSource * timer)
{
  if (timer) {
    g_source_destroy (timer);
    g_source_unref (timer);
  }
}

/* ------------------------------------------------------------------------ */
/* configuration */

static gboolean
config_error (GError ** error, const gchar * format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
config_error (GError ** error, const gchar * format, ...)
{
  va_list ap;
  gchar *msg;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "Invalid provider-config: %s", msg);
  g_free (msg);
  return FALSE;
}

static gboolean
get_format (const GstStructure * s, const gchar * field,
    GstAudioFormat * format, GError ** error)
{
  const gchar *name = gst_structure_get_string (s, field);
  const GstAudioFormatInfo *finfo;

  if (!name)
    return TRUE;
  *format = gst_audio_format_from_string (name);
  if (*format == GST_AUDIO_FORMAT_UNKNOWN
      || *format == GST_AUDIO_FORMAT_ENCODED)
    return config_error (error, "\"%s\" of provider \"" PROVIDER_NAME "\" "
        "is not a raw audio format: \"%s\"", field, name);

  finfo = gst_audio_format_get_info (*format);
  if (!finfo->pack_func
      || (finfo->unpack_format != GST_AUDIO_FORMAT_S32
          && finfo->unpack_format !=
          GST_AUDIO_FORMAT_F64))
    return config_error (error, "\"%s\" of provider \"" PROVIDER_NAME "\": "
        "format \"%s\" is not supported", field, name);
  return TRUE;
}

/* Checks a script or play() entry. Returns NULL or what is wrong. */
static gchar *
check_entry (const GstStructure * entry, gboolean need_at_ms)
{
  gint v;
  const gchar *name = gst_structure_get_name (entry);

  if (gst_structure_has_field (entry, "at-ms") || need_at_ms) {
    if (!gst_structure_get_int (entry, "at-ms", &v) || v < 0
        || v > MAX_DELAY_MS)
      return g_strdup_printf ("%s needs an int \"at-ms\" between 0 and %d",
          name, MAX_DELAY_MS);
  }

  if (!is_expandable_audio (entry))
    return NULL;

  if (!gst_structure_get_int (entry, "duration-ms", &v) || v < 0
      || v > MAX_DURATION_MS)
    return g_strdup_printf ("%s: \"duration-ms\" must be an int between 0 and "
        "%d", name, MAX_DURATION_MS);
  if (gst_structure_has_field (entry, "value")
      && (!gst_structure_get_int (entry, "value", &v) || v < G_MININT16
          || v > G_MAXINT16))
    return g_strdup_printf ("%s: \"value\" must be an int between %d and %d",
        name, G_MININT16, G_MAXINT16);
  if (gst_structure_has_field (entry, "chunk-ms")
      && (!gst_structure_get_int (entry, "chunk-ms", &v) || v < 1
          || v > MAX_CHUNK_MS))
    return g_strdup_printf ("%s: \"chunk-ms\" must be an int between 1 and "
        "%d", name, MAX_CHUNK_MS);
  if (gst_structure_has_field (entry, "paced")
      && gst_structure_get_field_type (entry, "paced") != G_TYPE_BOOLEAN)
    return g_strdup_printf ("%s: \"paced\" must be a boolean", name);
  if (gst_structure_has_field (entry, "response_id")
      && gst_structure_get_field_type (entry, "response_id") != G_TYPE_STRING)
    return g_strdup_printf ("%s: \"response_id\" must be a string", name);
  return NULL;
}

static gboolean
gst_bidi_scripted_provider_configure (GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error)
{
  GstBidiScriptedProvider *self = GST_BIDI_SCRIPTED_PROVIDER (provider);
  const GstStructure *pc = config->provider_config;
  gint in_rate = DEFAULT_IN_RATE, out_rate = DEFAULT_OUT_RATE;
  gint in_channels = DEFAULT_CHANNELS, out_channels = DEFAULT_CHANNELS;
  GstAudioFormat in_format = DEFAULT_FORMAT, out_format = DEFAULT_FORMAT;
  gboolean fail_start = FALSE, echo = FALSE, record_audio = TRUE;
  gint fail_after_ms = -1, connect_delay_ms = 0, end_input_delay_ms = 0;
  GPtrArray *script;
  guint i;

  record_call (self, gst_structure_new_empty ("configure"));

  if (!gst_bidi_provider_check_config (pc, PROVIDER_NAME, error,
          "in-rate", G_TYPE_INT, "out-rate", G_TYPE_INT,
          "in-channels", G_TYPE_INT, "out-channels", G_TYPE_INT,
          "in-format", G_TYPE_STRING, "out-format", G_TYPE_STRING,
          "fail-start", G_TYPE_BOOLEAN, "fail-after-ms", G_TYPE_INT,
          "connect-delay-ms", G_TYPE_INT, "script", GST_TYPE_ARRAY,
          "echo", G_TYPE_BOOLEAN, "end-input-delay-ms", G_TYPE_INT,
          "record-audio", G_TYPE_BOOLEAN, NULL))
    return FALSE;

  script = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);

  if (pc) {
    const GValue *array;

    if (!gst_bidi_provider_config_get_int (pc, PROVIDER_NAME, "in-rate",
            8000, 192000, &in_rate, error)
        || !gst_bidi_provider_config_get_int (pc, PROVIDER_NAME, "out-rate",
            8000, 192000, &out_rate, error)
        || !gst_bidi_provider_config_get_int (pc, PROVIDER_NAME,
            "in-channels", 1, 8, &in_channels, error)
        || !gst_bidi_provider_config_get_int (pc, PROVIDER_NAME,
            "out-channels", 1, 8, &out_channels, error)
        || !get_format (pc, "in-format", &in_format, error)
        || !get_format (pc, "out-format", &out_format, error)
        || !gst_bidi_provider_config_get_int (pc, PROVIDER_NAME,
            "fail-after-ms", 0, MAX_DELAY_MS, &fail_after_ms, error)
        || !gst_bidi_provider_config_get_int (pc, PROVIDER_NAME,
            "connect-delay-ms", 0, MAX_DELAY_MS, &connect_delay_ms, error)
        || !gst_bidi_provider_config_get_int (pc, PROVIDER_NAME,
            "end-input-delay-ms", -1, MAX_DELAY_MS, &end_input_delay_ms,
            error))
      goto failed;
    gst_structure_get_boolean (pc, "fail-start", &fail_start);
    gst_structure_get_boolean (pc, "echo", &echo);
    gst_structure_get_boolean (pc, "record-audio", &record_audio);

    if (echo && (in_format != out_format || in_rate != out_rate
            || in_channels != out_channels)) {
      config_error (error, "\"echo\" of provider \"" PROVIDER_NAME "\" needs "
          "the same input and output format, rate and channels");
      goto failed;
    }

    array = gst_structure_get_value (pc, "script");
    for (i = 0; array && i < gst_value_array_get_size (array); i++) {
      const GValue *v = gst_value_array_get_value (array, i);
      const GstStructure *entry;
      gchar *msg;

      if (!GST_VALUE_HOLDS_STRUCTURE (v)
          || !(entry = gst_value_get_structure (v))) {
        config_error (error, "\"script\" of provider \"" PROVIDER_NAME "\": "
            "entry %u is not a structure", i);
        goto failed;
      }
      if ((msg = check_entry (entry, TRUE))) {
        config_error (error, "\"script\" of provider \"" PROVIDER_NAME "\": "
            "entry %u: %s", i, msg);
        g_free (msg);
        goto failed;
      }
      g_ptr_array_add (script, gst_structure_copy (entry));
    }
  }

  g_mutex_lock (&self->lock);
  gst_audio_info_set_format (&self->in_info, in_format, in_rate, in_channels,
      NULL);
  gst_audio_info_set_format (&self->out_info, out_format, out_rate,
      out_channels, NULL);
  self->fail_start = fail_start;
  self->fail_after_ms = fail_after_ms;
  self->connect_delay_ms = connect_delay_ms;
  self->echo = echo;
  self->end_input_delay_ms = end_input_delay_ms;
  self->record_audio = record_audio;
  g_ptr_array_unref (self->script);
  self->script = script;
  g_mutex_unlock (&self->lock);

  GST_DEBUG_OBJECT (self, "configured: %u script entries", script->len);
  return TRUE;

failed:
  g_ptr_array_unref (script);
  return FALSE;
}

static void
gst_bidi_scripted_provider_get_audio_formats (GstBidiProvider * provider,
    GstAudioInfo * in_info, GstAudioInfo * out_info)
{
  GstBidiScriptedProvider *self = GST_BIDI_SCRIPTED_PROVIDER (provider);

  g_mutex_lock (&self->lock);
  if (in_info)
    *in_info = self->in_info;
  if (out_info)
    *out_info = self->out_info;
  g_mutex_unlock (&self->lock);
}

/* ------------------------------------------------------------------------ */
/* the session */

static gboolean
gst_bidi_scripted_provider_start (GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error)
{
  GstBidiScriptedProvider *self = GST_BIDI_SCRIPTED_PROVIDER (provider);
  GstStructure *call = gst_structure_new_empty ("start");
  GSource *old_timer = NULL;
  gint64 now;

  set_string_maybe (call, "model", config->model);
  set_string_maybe (call, "voice", config->voice);
  set_string_maybe (call, "instructions", config->instructions);
  set_string_maybe (call, "url", config->url);
  set_string_maybe (call, "tools-json", config->tools_json);
  set_string_maybe (call, "history-json", config->history_json);
  gst_structure_set (call, "has-api-key", G_TYPE_BOOLEAN,
      config->api_key != NULL && config->api_key[0] != '\0', NULL);
  /* the AWS secrets only as whether they came; the key id and region
   * are no secret */
  set_string_maybe (call, "aws-access-key-id", config->aws_access_key_id);
  set_string_maybe (call, "aws-region", config->aws_region);
  gst_structure_set (call, "has-aws-secret", G_TYPE_BOOLEAN,
      config->aws_secret_access_key != NULL, "has-aws-token",
      G_TYPE_BOOLEAN, config->aws_session_token != NULL, NULL);
  record_call (self, call);

  g_mutex_lock (&self->lock);
  if (self->running) {
    GST_WARNING_OBJECT (self, "started twice, ending the previous session");
    old_timer = shutdown_locked (self);
  }
  if (self->fail_start) {
    g_mutex_unlock (&self->lock);
    destroy_timer (old_timer);
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE,
        "scripted provider refused to start (fail-start)");
    return FALSE;
  }

  g_free (self->connection_id);
  self->connection_id = g_strdup_printf ("scripted-%d",
      g_atomic_int_add (&connection_counter, 1) + 1);
  g_free (self->model);
  self->model = g_strdup (config->model ? config->model : "scripted");

  self->running = TRUE;
  self->connected = FALSE;
  self->session++;
  self->end_input_pending = FALSE;
  self->close_scheduled = FALSE;
  self->current_group = 0;
  self->context = g_main_context_ref_thread_default ();
  self->timer = g_source_new (&timeline_funcs, sizeof (TimelineSource));
  ((TimelineSource *) self->timer)->self = self;
  g_source_set_name (self->timer, "bidiscripted timeline");

  now = g_get_monotonic_time ();
  insert_item_locked (self, ITEM_CONNECT, now +
      (gint64) self->connect_delay_ms * G_TIME_SPAN_MILLISECOND, NULL, 0);
  update_timer_locked (self);
  g_source_attach (self->timer, self->context);
  g_mutex_unlock (&self->lock);

  destroy_timer (old_timer);
  GST_INFO_OBJECT (self, "started %s", self->connection_id);
  return TRUE;
}

static void
gst_bidi_scripted_provider_send_audio (GstBidiProvider * provider,
    GBytes * pcm, gint64 arrived_us)
{
  GstBidiScriptedProvider *self = GST_BIDI_SCRIPTED_PROVIDER (provider);
  gsize size = 0;
  gconstpointer data = pcm ? g_bytes_get_data (pcm, &size) : NULL;
  GstStructure *echo = NULL;
  guint session = 0;

  g_mutex_lock (&self->lock);
  /* the audio is there once a test sees the call */
  if (self->record_audio && size > 0)
    g_byte_array_append (self->audio, data, size);
  record_call_locked (self, gst_structure_new ("send-audio", "bytes",
          G_TYPE_UINT64, (guint64) size, "arrived_us", G_TYPE_INT64,
          arrived_us, NULL));
  if (self->echo && self->running && self->connected && size > 0) {
    const GstAudioInfo *info = &self->out_info;

    echo = gst_bidi_event_new_audio_stream (pcm,
        gst_audio_format_to_string (GST_AUDIO_INFO_FORMAT (info)),
        GST_AUDIO_INFO_RATE (info), GST_AUDIO_INFO_CHANNELS (info));
    session = self->session;
  }
  g_mutex_unlock (&self->lock);

  /* what gst_bidi_provider_emit_audio() does, but through our emit hook */
  if (echo)
    emit_event (self, echo, session);
}

static void
gst_bidi_scripted_provider_send_text (GstBidiProvider * provider,
    const gchar * text, const gchar * role)
{
  GstStructure *call = gst_structure_new_empty ("send-text");

  set_string_maybe (call, "text", text);
  set_string_maybe (call, "role", role);
  record_call (GST_BIDI_SCRIPTED_PROVIDER (provider), call);
}

static void
gst_bidi_scripted_provider_send_image (GstBidiProvider * provider,
    GBytes * data, const gchar * mime)
{
  GstStructure *call = gst_structure_new ("send-image", "size", G_TYPE_UINT64,
      (guint64) (data ? g_bytes_get_size (data) : 0), NULL);

  set_string_maybe (call, "mime", mime);
  record_call (GST_BIDI_SCRIPTED_PROVIDER (provider), call);
}

static void
gst_bidi_scripted_provider_send_tool_result (GstBidiProvider * provider,
    const gchar * tool_use_id, const gchar * name, const gchar * json,
    const gchar * status)
{
  GstStructure *call = gst_structure_new_empty ("send-tool-result");

  set_string_maybe (call, "id", tool_use_id);
  set_string_maybe (call, "name", name);
  set_string_maybe (call, "json", json);
  set_string_maybe (call, "status", status);
  record_call (GST_BIDI_SCRIPTED_PROVIDER (provider), call);
}

static void
gst_bidi_scripted_provider_interrupt (GstBidiProvider * provider,
    guint64 played_ms)
{
  GstBidiScriptedProvider *self = GST_BIDI_SCRIPTED_PROVIDER (provider);
  GList *l, *next;
  guint n = 0;

  record_call (self, gst_structure_new ("interrupt", "played-ms",
          G_TYPE_UINT64, played_ms, NULL));

  /* a real model stops generating: drop the rest of the answer's audio */
  g_mutex_lock (&self->lock);
  for (l = self->timeline.head; l && self->current_group; l = next) {
    Item *item = l->data;

    next = l->next;
    if (item->kind == ITEM_AUDIO && item->group == self->current_group) {
      g_queue_delete_link (&self->timeline, l);
      item_free (item);
      self->n_scripted--;
      n++;
    }
  }
  GST_DEBUG_OBJECT (self, "interrupted after %" G_GUINT64_FORMAT " ms, "
      "dropped %u audio chunks", played_ms, n);
  maybe_schedule_close_locked (self);
  update_timer_locked (self);
  g_mutex_unlock (&self->lock);
}

static void
gst_bidi_scripted_provider_end_input (GstBidiProvider * provider)
{
  GstBidiScriptedProvider *self = GST_BIDI_SCRIPTED_PROVIDER (provider);

  record_call (self, gst_structure_new_empty ("end-input"));

  g_mutex_lock (&self->lock);
  self->end_input_pending = TRUE;
  maybe_schedule_close_locked (self);
  g_mutex_unlock (&self->lock);
}

static void
gst_bidi_scripted_provider_stop (GstBidiProvider * provider)
{
  GstBidiScriptedProvider *self = GST_BIDI_SCRIPTED_PROVIDER (provider);
  GSource *timer;

  record_call (self, gst_structure_new_empty ("stop"));

  g_mutex_lock (&self->lock);
  timer = shutdown_locked (self);
  g_mutex_unlock (&self->lock);
  destroy_timer (timer);
  GST_INFO_OBJECT (self, "stopped");
}

/* ------------------------------------------------------------------------ */
/* GObject */

static void
gst_bidi_scripted_provider_constructed (GObject * object)
{
  GstBidiScriptedProvider *self = GST_BIDI_SCRIPTED_PROVIDER (object);
  GstBidiScriptedProvider *old;

  G_OBJECT_CLASS (gst_bidi_scripted_provider_parent_class)->constructed
      (object);

  g_mutex_lock (&last_lock);
  old = last_instance;
  last_instance = g_object_ref (self);
  g_mutex_unlock (&last_lock);
  if (old)
    gst_object_unref (old);
}

static void
gst_bidi_scripted_provider_finalize (GObject * object)
{
  GstBidiScriptedProvider *self = GST_BIDI_SCRIPTED_PROVIDER (object);
  GSource *timer;

  g_mutex_lock (&self->lock);
  timer = shutdown_locked (self);
  g_mutex_unlock (&self->lock);
  destroy_timer (timer);

  g_ptr_array_unref (self->script);
  g_ptr_array_unref (self->calls);
  g_byte_array_unref (self->audio);
  g_queue_clear_full (&self->played, (GDestroyNotify) gst_structure_free);
  g_free (self->connection_id);
  g_free (self->model);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (gst_bidi_scripted_provider_parent_class)->finalize (object);
}

static void
gst_bidi_scripted_provider_class_init (GstBidiScriptedProviderClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstBidiProviderClass *provider_class = GST_BIDI_PROVIDER_CLASS (klass);

  gobject_class->constructed = gst_bidi_scripted_provider_constructed;
  gobject_class->finalize = gst_bidi_scripted_provider_finalize;

  provider_class->configure = gst_bidi_scripted_provider_configure;
  provider_class->get_audio_formats =
      gst_bidi_scripted_provider_get_audio_formats;
  provider_class->start = gst_bidi_scripted_provider_start;
  provider_class->send_audio = gst_bidi_scripted_provider_send_audio;
  provider_class->send_text = gst_bidi_scripted_provider_send_text;
  provider_class->send_image = gst_bidi_scripted_provider_send_image;
  provider_class->send_tool_result =
      gst_bidi_scripted_provider_send_tool_result;
  provider_class->interrupt = gst_bidi_scripted_provider_interrupt;
  provider_class->end_input = gst_bidi_scripted_provider_end_input;
  provider_class->stop = gst_bidi_scripted_provider_stop;
  /* every built-in tool, unless a test says otherwise */
  provider_class->builtin_tools = GST_BIDI_BUILTIN_TOOLS_ALL;
}

static void
gst_bidi_scripted_provider_init (GstBidiScriptedProvider * self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);

  gst_audio_info_set_format (&self->in_info, DEFAULT_FORMAT, DEFAULT_IN_RATE,
      DEFAULT_CHANNELS, NULL);
  gst_audio_info_set_format (&self->out_info, DEFAULT_FORMAT,
      DEFAULT_OUT_RATE, DEFAULT_CHANNELS, NULL);
  self->fail_after_ms = -1;
  self->record_audio = TRUE;
  self->script = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);

  self->calls = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_structure_free);
  self->audio = g_byte_array_new ();
  g_queue_init (&self->played);
  g_queue_init (&self->timeline);
}

/* ------------------------------------------------------------------------ */
/* API for tests */

void
gst_bidi_scripted_provider_register (void)
{
  static gsize registered = 0;

  if (g_once_init_enter (&registered)) {
    gst_bidi_provider_register (PROVIDER_NAME,
        GST_TYPE_BIDI_SCRIPTED_PROVIDER);
    g_once_init_leave (&registered, 1);
  }
}

GstBidiScriptedProvider *
gst_bidi_scripted_provider_get_last (void)
{
  GstBidiScriptedProvider *self;

  g_mutex_lock (&last_lock);
  self = last_instance ? gst_object_ref (last_instance) : NULL;
  g_mutex_unlock (&last_lock);
  return self;
}

void
gst_bidi_scripted_provider_reset_last (void)
{
  GstBidiScriptedProvider *old;

  g_mutex_lock (&last_lock);
  old = g_steal_pointer (&last_instance);
  g_mutex_unlock (&last_lock);
  if (old)
    gst_object_unref (old);
}

void
gst_bidi_scripted_provider_play (GstBidiScriptedProvider * self,
    GstStructure * event)
{
  gchar *msg;

  g_return_if_fail (GST_IS_BIDI_SCRIPTED_PROVIDER (self));
  g_return_if_fail (event != NULL);

  if ((msg = check_entry (event, FALSE))) {
    g_critical ("gst_bidi_scripted_provider_play: bad event: %s", msg);
    g_free (msg);
    gst_structure_free (event);
    return;
  }

  g_mutex_lock (&self->lock);
  if (self->running && self->connected) {
    GST_DEBUG_OBJECT (self, "playing %" GST_PTR_FORMAT, event);
    schedule_entry_locked (self, event, g_get_monotonic_time ());
    /* thread safe: wakes up the network thread's context */
    update_timer_locked (self);
  } else {
    GST_DEBUG_OBJECT (self, "keeping %" GST_PTR_FORMAT " until connected",
        event);
    g_queue_push_tail (&self->played, event);
  }
  g_mutex_unlock (&self->lock);
}

gboolean
gst_bidi_scripted_provider_wait_call (GstBidiScriptedProvider * self,
    const gchar * name, guint count, gint64 timeout_ms)
{
  gint64 end_time;
  gboolean ret = TRUE;

  g_return_val_if_fail (GST_IS_BIDI_SCRIPTED_PROVIDER (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  end_time = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&self->lock);
  while (count_calls_locked (self, name) < count) {
    if (timeout_ms < 0) {
      g_cond_wait (&self->cond, &self->lock);
    } else if (!g_cond_wait_until (&self->cond, &self->lock, end_time)) {
      ret = count_calls_locked (self, name) >= count;
      break;
    }
  }
  g_mutex_unlock (&self->lock);
  return ret;
}

guint
gst_bidi_scripted_provider_count_calls (GstBidiScriptedProvider * self,
    const gchar * name)
{
  guint n;

  g_return_val_if_fail (GST_IS_BIDI_SCRIPTED_PROVIDER (self), 0);
  g_return_val_if_fail (name != NULL, 0);

  g_mutex_lock (&self->lock);
  n = count_calls_locked (self, name);
  g_mutex_unlock (&self->lock);
  return n;
}

/* With the lock: the position among all calls of the @index-th call named
 * @name, -1 if none */
static gint
find_call (GstBidiScriptedProvider * self, const gchar * name, guint index)
{
  guint i;

  for (i = 0; i < self->calls->len; i++) {
    const GstStructure *call = g_ptr_array_index (self->calls, i);

    if (gst_structure_has_name (call, name) && index-- == 0)
      return (gint) i;
  }
  return -1;
}

GstStructure *
gst_bidi_scripted_provider_get_call (GstBidiScriptedProvider * self,
    const gchar * name, guint index)
{
  GstStructure *ret = NULL;
  gint pos;

  g_return_val_if_fail (GST_IS_BIDI_SCRIPTED_PROVIDER (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  g_mutex_lock (&self->lock);
  pos = find_call (self, name, index);
  if (pos >= 0)
    ret = gst_structure_copy (g_ptr_array_index (self->calls, pos));
  g_mutex_unlock (&self->lock);
  return ret;
}

gint
gst_bidi_scripted_provider_get_call_position (GstBidiScriptedProvider * self,
    const gchar * name, guint index)
{
  gint pos;

  g_return_val_if_fail (GST_IS_BIDI_SCRIPTED_PROVIDER (self), -1);
  g_return_val_if_fail (name != NULL, -1);

  g_mutex_lock (&self->lock);
  pos = find_call (self, name, index);
  g_mutex_unlock (&self->lock);
  return pos;
}

GBytes *
gst_bidi_scripted_provider_get_audio (GstBidiScriptedProvider * self)
{
  GBytes *ret;

  g_return_val_if_fail (GST_IS_BIDI_SCRIPTED_PROVIDER (self), NULL);

  g_mutex_lock (&self->lock);
  ret = g_bytes_new (self->audio->data, self->audio->len);
  g_mutex_unlock (&self->lock);
  return ret;
}

void
gst_bidi_scripted_provider_set_emit_hook (GstBidiScriptedProvider * self,
    GstBidiScriptedEmitHook hook, gpointer user_data)
{
  g_return_if_fail (GST_IS_BIDI_SCRIPTED_PROVIDER (self));

  g_mutex_lock (&self->lock);
  self->hook = hook;
  self->hook_data = user_data;
  g_mutex_unlock (&self->lock);
}
