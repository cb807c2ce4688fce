/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/*
 * bidi-server: the seeds' "WebSocket I/O" server (FastAPI at /text-chat)
 * as a C program.
 *
 * Every WebSocket client of ws://HOST:PORT/text-chat gets its own pipeline
 *
 *   appsrc ! bidiagent ! appsink
 *
 * and talks the seeds' JSON events:
 *
 * - in: `bidi_text_input` {text, role?} (the agent's send-text signal),
 *   `bidi_audio_input` {audio (base64), format "pcm", sample_rate,
 *   channels} (pushed into appsrc, caps from the event),
 *   `bidi_image_input` {image (base64), mime_type} (send-image);
 * - out: every event the agent posts on the bus (bidi_connection_start,
 *   bidi_response_start, bidi_transcript_stream, bidi_interruption,
 *   bidi_response_complete, bidi_usage, bidi_connection_close, bidi_error,
 *   tool_use_stream, tool_result ...) and the agent's voice as
 *   `bidi_audio_stream` {audio (base64 S16LE), format "pcm", sample_rate,
 *   channels 1}, paced in real time, nothing between answers. The rate is
 *   --sample-rate (16000 by default) or the client's `?sample_rate=N`.
 *
 * Bad input (not JSON, a binary frame, an unknown type, bad fields) gets a
 * `bidi_error` event back and nothing else happens. A client over
 * --max-clients is closed with 1013, a message over --max-message-kb with
 * 1009 (by libsoup), a client that does not read its events (more than
 * --max-output-kb sent and not acknowledged by its TCP stack) with 1008.
 * A fatal error of a client's pipeline: `bidi_error`, then 1011. When the
 * agent ends the conversation (stop_conversation), 1000.
 *
 * GET / and /FILE serve the web page compiled in from
 * web/bidi-server.gresource.xml.
 *
 * The server listens on loopback (127.0.0.1 and ::1) unless --address is
 * given: anybody who can reach it talks to the agent with the server's
 * API keys. Browsers may connect only from the server's own pages
 * (Origin checked) or from an origin given with --allow-origin.
 *
 * --provider, --model, --system-prompt and --url set the agent's
 * properties of those names; --tools, as in bidi-chat, is the list of
 * built-in tools the agent offers and runs itself (its builtin-tools:
 * current_time, calculator, stop_conversation; auto; none).
 *
 * The providers' keys come from the environment (OPENAI_API_KEY ...), read
 * by the element; this program never sees or logs them.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <stdio.h>

#ifdef __linux__
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#endif

#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/app/app.h>
#include <gst/audio/audio.h>
#include <libsoup/soup.h>

#include <gst/bidi/gstbidievents.h>
#include <gst/bidi/gstbiditools.h>
#include "bidi-server-resources.h"

GST_DEBUG_CATEGORY_STATIC (bidi_server_debug);
#define GST_CAT_DEFAULT bidi_server_debug

/* the GSocket of an accepted connection, on its remote address */
static GQuark socket_quark;

#define WS_PATH "/text-chat"
#define RESOURCE_PREFIX "/org/gstreamer/bidi/server"

#define DEFAULT_PORT 8000
#define DEFAULT_MAX_CLIENTS 16
#define DEFAULT_MAX_MESSAGE_KB 1024
#define DEFAULT_MAX_OUTPUT_KB 4096
#define DEFAULT_SAMPLE_RATE 16000
#define MIN_SAMPLE_RATE 8000
#define MAX_SAMPLE_RATE 192000
/* Input audio waiting in appsrc; past it the oldest is dropped */
#define INPUT_QUEUE_BYTES (4 * 1024 * 1024)
/* How long clients get to answer our close frame at shutdown */
#define SHUTDOWN_TIMEOUT_MS 3000

/* WebSocket close codes libsoup has no name for (and refuses to send) */
#define CLOSE_TRY_AGAIN_LATER 1013

/* Frames this many times --max-message-kb are cut off by libsoup at once,
 * without a close frame; smaller ones over the limit get a clean 1009. */
#define HARD_MESSAGE_FACTOR 4

typedef struct
{
  gint port;
  gchar *address;
  gint max_clients;
  gint max_message_kb;
  gint max_output_kb;
  gint sample_rate;
  gchar *provider;
  gchar *model;
  gchar *system_prompt;
  gchar *tools;
  gchar *url;
  gchar **allow_origins;
} Options;

typedef struct _Client Client;

typedef struct
{
  Options opt;
  SoupServer *soup;
  /* accepts the connections and hands them to soup (see on_incoming) */
  GSocketService *service;
  GMainLoop *loop;
  /* Client * -> itself; main thread only */
  GHashTable *clients;
  guint n_agents;
  /* sets pipelines to NULL and frees them, off the main thread */
  GThreadPool *reaper;
  guint next_id;
  gboolean shutting_down;
  guint shutdown_timeout;
  gint exit_code;
} Server;

/* An outgoing frame (text) or, with text NULL, the close after them */
typedef struct
{
  gchar *text;
  gushort code;
  gchar *reason;
} OutItem;

struct _Client
{
  gint ref;
  guint id;

  /* main thread only */
  Server *server;
  SoupWebsocketConnection *conn;
  GSocket *socket;
  gulong message_id, closed_id;
  gboolean finished;
  GstCaps *in_caps;
  guint64 in_dropped_bytes;
  guint64 sent_bytes;
  guint64 acked_base;
  gboolean have_acked;
  guint64 max_output;

  /* set at creation, read anywhere */
  GstElement *pipeline, *src, *agent, *sink;
  gint out_rate;

  /* the events for the client, in order; from any thread */
  GMutex lock;
  GQueue out;
  gboolean drain_pending;
  gboolean closing;
};

static Client *
client_ref (Client * c)
{
  g_atomic_int_inc (&c->ref);
  return c;
}

static void
out_item_free (gpointer data)
{
  OutItem *item = data;

  g_free (item->text);
  g_free (item->reason);
  g_free (item);
}

/* Last unref: from any thread, after the pipeline is in NULL */
static void
client_unref (Client * c)
{
  if (!g_atomic_int_dec_and_test (&c->ref))
    return;

  if (c->pipeline) {
    gst_object_unref (c->src);
    gst_object_unref (c->agent);
    gst_object_unref (c->sink);
    gst_object_unref (c->pipeline);
  }
  g_queue_clear_full (&c->out, out_item_free);
  g_mutex_clear (&c->lock);
  g_free (c);
}

/* ------------------------------------------------------------------------
 * Outgoing events: queued from any thread, sent from the main thread
 * ------------------------------------------------------------------------ */

static gboolean client_drain (gpointer data);

/* Takes @text (or, with @text NULL, queues the close with @code, @reason) */
static void
client_queue (Client * c, gchar * text, gushort code, const gchar * reason)
{
  OutItem *item;
  gboolean schedule = FALSE;

  g_mutex_lock (&c->lock);
  if (c->closing) {
    g_mutex_unlock (&c->lock);
    g_free (text);
    return;
  }
  item = g_new0 (OutItem, 1);
  item->text = text;
  if (!text) {
    item->code = code;
    item->reason = g_strdup (reason);
    /* nothing is queued after the close */
    c->closing = TRUE;
  }
  g_queue_push_tail (&c->out, item);
  if (!c->drain_pending) {
    c->drain_pending = TRUE;
    schedule = TRUE;
  }
  g_mutex_unlock (&c->lock);

  if (schedule) {
    GSource *source = g_idle_source_new ();

    g_source_set_priority (source, G_PRIORITY_DEFAULT);
    g_source_set_callback (source, client_drain, client_ref (c),
        (GDestroyNotify) client_unref);
    g_source_attach (source, NULL);
    g_source_unref (source);
  }
}

/* Queues @event (transfer none) as JSON */
static void
client_queue_event (Client * c, const GstStructure * event)
{
  gchar *json = gst_bidi_event_to_json (event);

  if (!json) {
    GST_WARNING ("client %u: cannot write %" GST_PTR_FORMAT " as JSON",
        c->id, event);
    return;
  }
  client_queue (c, json, 0, NULL);
}

static void
client_queue_error (Client * c, const gchar * code, const gchar * message)
{
  GstStructure *event = gst_bidi_event_new_error (message, code, NULL);

  GST_INFO ("client %u: %s: %s", c->id, code, message);
  client_queue_event (c, event);
  gst_structure_free (event);
}

/* Bytes sent to the client that its TCP stack has not acknowledged yet:
 * libsoup's queue, our socket buffer and what is in flight. A client that
 * does not read stops acknowledging once its receive buffer is full. */
static gboolean
client_get_unacked (Client * c, guint64 * unacked)
{
#if defined(__linux__) && defined(TCP_INFO)
  struct tcp_info info;
  socklen_t len = sizeof (info);
  guint64 acked;

  if (!c->socket)
    return FALSE;
  memset (&info, 0, sizeof (info));
  if (getsockopt (g_socket_get_fd (c->socket), IPPROTO_TCP, TCP_INFO, &info,
          &len) != 0)
    return FALSE;
  if (len < G_STRUCT_OFFSET (struct tcp_info, tcpi_bytes_acked) +
      sizeof (info.tcpi_bytes_acked))
    return FALSE;
  acked = info.tcpi_bytes_acked;
  if (!c->have_acked) {
    c->acked_base = acked;
    c->have_acked = TRUE;
  }
  acked -= c->acked_base;
  *unacked = c->sent_bytes > acked ? c->sent_bytes - acked : 0;
  return TRUE;
#else
  (void) c;
  (void) unacked;
  return FALSE;
#endif
}

/* Size of a server frame (not masked) carrying @len payload bytes */
static guint64
frame_size (gsize len)
{
  if (len < 126)
    return 2 + len;
  if (len <= G_MAXUINT16)
    return 4 + len;
  return 10 + len;
}

static void
client_close (Client * c, gushort code, const gchar * reason)
{
  SoupWebsocketState state;

  if (!c->conn)
    return;
  state = soup_websocket_connection_get_state (c->conn);
  if (state != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  GST_INFO ("client %u: closing with %u (%s)", c->id, code, reason);
  soup_websocket_connection_close (c->conn, code, reason);
}

static gboolean
client_drain (gpointer data)
{
  Client *c = data;
  GQueue items = G_QUEUE_INIT;
  OutItem *item;
  guint64 unacked;

  g_mutex_lock (&c->lock);
  items = c->out;
  g_queue_init (&c->out);
  c->drain_pending = FALSE;
  g_mutex_unlock (&c->lock);

  while ((item = g_queue_pop_head (&items))) {
    if (c->finished || !c->conn ||
        soup_websocket_connection_get_state (c->conn) !=
        SOUP_WEBSOCKET_STATE_OPEN) {
      out_item_free (item);
      continue;
    }
    if (!item->text) {
      client_close (c, item->code, item->reason);
    } else if (c->max_output > 0 && client_get_unacked (c, &unacked) &&
        unacked > c->max_output) {
      gchar *reason = g_strdup_printf ("client does not read its events "
          "(%" G_GUINT64_FORMAT " bytes unread)", unacked);

      g_mutex_lock (&c->lock);
      c->closing = TRUE;
      g_mutex_unlock (&c->lock);
      g_printerr ("client %u: %s\n", c->id, reason);
      client_close (c, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, reason);
      g_free (reason);
    } else {
      gsize len = strlen (item->text);

      c->sent_bytes += frame_size (len);
      soup_websocket_connection_send_text (c->conn, item->text);
    }
    out_item_free (item);
  }
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------
 * The pipeline's output: bus messages and the agent's voice
 * ------------------------------------------------------------------------ */

/* Runs in the thread that posts: keeps bus messages and audio in order */
static GstBusSyncReply
on_bus_sync (G_GNUC_UNUSED GstBus * bus, GstMessage * msg, gpointer data)
{
  Client *c = data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);

      if (GST_MESSAGE_SRC (msg) == GST_OBJECT_CAST (c->agent) && s &&
          gst_bidi_event_is_known (gst_structure_get_name (s)))
        client_queue_event (c, s);
      break;
    }
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *dbg = NULL;
      GstStructure *event;

      gst_message_parse_error (msg, &err, &dbg);
      g_printerr ("client %u: pipeline error from %s: %s\n", c->id,
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      GST_WARNING ("client %u: %s (%s)", c->id, err->message,
          GST_STR_NULL (dbg));
      event = gst_bidi_event_new_error (err->message, "pipeline_error", NULL);
      client_queue_event (c, event);
      gst_structure_free (event);
      client_queue (c, NULL, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR,
          "the agent failed");
      g_clear_error (&err);
      g_free (dbg);
      break;
    }
    case GST_MESSAGE_WARNING:{
      GError *err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      GST_WARNING ("client %u: warning from %s: %s", c->id,
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      g_clear_error (&err);
      break;
    }
    case GST_MESSAGE_EOS:
      /* the agent ended the conversation (stop_conversation) */
      client_queue (c, NULL, SOUP_WEBSOCKET_CLOSE_NORMAL,
          "conversation ended");
      break;
    default:
      break;
  }
  /* dropped messages are ours to unref */
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

/* appsink streaming thread, at the audio's play time (sync=true) */
static GstFlowReturn
on_new_sample (GstAppSink * sink, gpointer data)
{
  Client *c = data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf;
  GstMapInfo map;

  if (!sample)
    return GST_FLOW_EOS;
  buf = gst_sample_get_buffer (sample);
  /* silence between answers is not sent */
  if (buf && !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP) &&
      gst_buffer_get_size (buf) > 0 && gst_buffer_map (buf, &map,
          GST_MAP_READ)) {
    GBytes *bytes = g_bytes_new (map.data, map.size);
    GstStructure *event;

    gst_buffer_unmap (buf, &map);
    event = gst_bidi_event_new_audio_stream (bytes, "pcm", c->out_rate, 1);
    g_bytes_unref (bytes);
    client_queue_event (c, event);
    gst_structure_free (event);
  }
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

static gboolean
client_make_pipeline (Client * c, const Options * opt, GError ** error)
{
  GstCaps *caps;
  GstBus *bus;
  GstAppSinkCallbacks callbacks = { 0, };

  c->pipeline = gst_pipeline_new (NULL);
  c->src = gst_element_factory_make ("appsrc", "src");
  c->agent = gst_element_factory_make ("bidiagent", "agent");
  c->sink = gst_element_factory_make ("appsink", "sink");
  if (!c->src || !c->agent || !c->sink) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "missing element: %s", !c->agent ? "bidiagent (GST_PLUGIN_PATH?)" :
        !c->src ? "appsrc" : "appsink");
    g_clear_object (&c->src);
    g_clear_object (&c->agent);
    g_clear_object (&c->sink);
    g_clear_object (&c->pipeline);
    return FALSE;
  }
  /* the bin takes the floating refs; we keep our own */
  gst_object_ref_sink (c->src);
  gst_object_ref_sink (c->agent);
  gst_object_ref_sink (c->sink);
  gst_bin_add_many (GST_BIN (c->pipeline), c->src, c->agent, c->sink, NULL);
  if (!gst_element_link_many (c->src, c->agent, c->sink, NULL)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "cannot link appsrc ! bidiagent ! appsink");
    return FALSE;
  }

  /* Input: live, timestamped on arrival, bounded: a flooding client loses
   * its oldest audio rather than growing our memory. */
  g_object_set (c->src, "is-live", TRUE, "format", GST_FORMAT_TIME,
      "do-timestamp", TRUE, "max-bytes", (guint64) INPUT_QUEUE_BYTES,
      "block", FALSE, "leaky-type", GST_APP_LEAKY_TYPE_DOWNSTREAM, NULL);

  /* the agent: options of the command line; keys from the environment */
  g_object_set (c->agent, "provider", opt->provider, "idle",
      1 /* gap: nothing between answers */ , NULL);
  if (opt->model)
    g_object_set (c->agent, "model", opt->model, NULL);
  if (opt->system_prompt)
    g_object_set (c->agent, "system-prompt", opt->system_prompt, NULL);
  if (opt->tools)
    g_object_set (c->agent, "builtin-tools", opt->tools, NULL);
  if (opt->url)
    g_object_set (c->agent, "url", opt->url, NULL);

  /* Output: S16LE mono at the client's rate, in real time */
  caps = gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING, "S16LE",
      "rate", G_TYPE_INT, c->out_rate, "channels", G_TYPE_INT, 1,
      "layout", G_TYPE_STRING, "interleaved", NULL);
  g_object_set (c->sink, "caps", caps, "sync", TRUE, "max-buffers", 100,
      "drop", FALSE, "processing-deadline", (guint64) 0, NULL);
  gst_caps_unref (caps);
  callbacks.new_sample = on_new_sample;
  gst_app_sink_set_callbacks (GST_APP_SINK (c->sink), &callbacks,
      client_ref (c), (GDestroyNotify) client_unref);

  bus = gst_pipeline_get_bus (GST_PIPELINE (c->pipeline));
  gst_bus_set_sync_handler (bus, on_bus_sync, client_ref (c),
      (GDestroyNotify) client_unref);
  gst_object_unref (bus);
  return TRUE;
}

/* Thread pool: pipeline to NULL and freed, without blocking the others */
static void
reap_client (gpointer data, G_GNUC_UNUSED gpointer user_data)
{
  Client *c = data;

  if (c->pipeline) {
    GstAppSinkCallbacks none = { 0, };
    GstBus *bus;

    gst_element_set_state (c->pipeline, GST_STATE_NULL);
    /* break the reference cycles through the callbacks */
    gst_app_sink_set_callbacks (GST_APP_SINK (c->sink), &none, NULL, NULL);
    bus = gst_pipeline_get_bus (GST_PIPELINE (c->pipeline));
    gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
    gst_object_unref (bus);
    GST_INFO ("client %u: pipeline stopped (%" G_GUINT64_FORMAT
        " input bytes dropped)", c->id, c->in_dropped_bytes);
  }
  client_unref (c);
}

/* ------------------------------------------------------------------------
 * Incoming events
 * ------------------------------------------------------------------------ */

static void
handle_text_input (Client * c, const GstStructure * event)
{
  const gchar *text = gst_structure_get_string (event, "text");
  gboolean ok = FALSE;

  g_signal_emit_by_name (c->agent, "send-text", text, &ok);
  if (!ok)
    client_queue_error (c, "agent_not_ready",
        "bidi_text_input: the agent did not take the text");
}

static void
handle_audio_input (Client * c, const GstStructure * event)
{
  const GValue *v = gst_structure_get_value (event, "audio");
  const gchar *format = gst_structure_get_string (event, "format");
  gint rate = 0, channels = 0;
  GstAudioInfo info;
  GBytes *audio;
  GstCaps *caps;
  gsize size;
  guint64 level = 0;

  gst_structure_get_int (event, "sample_rate", &rate);
  gst_structure_get_int (event, "channels", &channels);
  audio = g_value_get_boxed (v);
  size = g_bytes_get_size (audio);

  if (rate < MIN_SAMPLE_RATE || rate > MAX_SAMPLE_RATE) {
    gchar *msg = g_strdup_printf ("bidi_audio_input: sample_rate %d is out "
        "of range (%d to %d)", rate, MIN_SAMPLE_RATE, MAX_SAMPLE_RATE);

    client_queue_error (c, "invalid_input", msg);
    g_free (msg);
    return;
  }
  gst_audio_info_init (&info);
  gst_audio_info_set_format (&info, gst_audio_format_from_string (format),
      rate, channels, NULL);
  if (GST_AUDIO_INFO_BPF (&info) == 0 ||
      size % GST_AUDIO_INFO_BPF (&info) != 0) {
    gchar *msg = g_strdup_printf ("bidi_audio_input: %" G_GSIZE_FORMAT
        " bytes of audio is not a whole number of %d-byte frames", size,
        GST_AUDIO_INFO_BPF (&info));

    client_queue_error (c, "invalid_input", msg);
    g_free (msg);
    return;
  }
  if (size == 0)
    return;

  caps = gst_audio_info_to_caps (&info);
  if (!c->in_caps || !gst_caps_is_equal (caps, c->in_caps)) {
    GST_DEBUG ("client %u: input caps %" GST_PTR_FORMAT, c->id, caps);
    g_object_set (c->src, "caps", caps, NULL);
    gst_caps_replace (&c->in_caps, caps);
  }
  gst_caps_unref (caps);

  g_object_get (c->src, "current-level-bytes", &level, NULL);
  if (level + size > INPUT_QUEUE_BYTES) {
    if (c->in_dropped_bytes == 0)
      g_printerr ("client %u: input audio comes faster than the agent takes "
          "it; dropping the oldest\n", c->id);
    c->in_dropped_bytes += size;
  }
  gst_app_src_push_buffer (GST_APP_SRC (c->src),
      gst_buffer_new_wrapped_bytes (audio));
}

static void
handle_image_input (Client * c, const GstStructure * event)
{
  const GValue *v = gst_structure_get_value (event, "image");
  const gchar *mime = gst_structure_get_string (event, "mime_type");
  gboolean ok = FALSE;

  g_signal_emit_by_name (c->agent, "send-image", g_value_get_boxed (v), mime,
      &ok);
  if (!ok)
    client_queue_error (c, "invalid_input",
        "bidi_image_input: the image is not a PNG, JPEG or WebP image");
}

static void
on_ws_message (G_GNUC_UNUSED SoupWebsocketConnection * conn, gint type,
    GBytes * message, gpointer data)
{
  Client *c = data;
  GstStructure *event;
  const gchar *name;
  GError *err = NULL;
  gconstpointer bytes;
  gsize size;

  if (c->finished || !c->pipeline)
    return;

  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    client_queue_error (c, "invalid_input", "binary frames are not "
        "supported: send each event as a JSON text frame");
    return;
  }
  bytes = g_bytes_get_data (message, &size);
  if (size > (gsize) c->server->opt.max_message_kb * 1024) {
    gchar *reason = g_strdup_printf ("message of %" G_GSIZE_FORMAT " bytes "
        "is over the limit of %d KiB", size, c->server->opt.max_message_kb);

    g_printerr ("client %u: %s\n", c->id, reason);
    g_mutex_lock (&c->lock);
    c->closing = TRUE;
    g_mutex_unlock (&c->lock);
    client_close (c, SOUP_WEBSOCKET_CLOSE_TOO_BIG, reason);
    g_free (reason);
    return;
  }
  event = gst_bidi_event_from_json (bytes, size, &err);
  if (!event) {
    gchar *msg = g_strdup_printf ("invalid event: %s", err->message);

    client_queue_error (c, "invalid_input", msg);
    g_free (msg);
    g_clear_error (&err);
    return;
  }

  name = gst_structure_get_name (event);
  if (strcmp (name, GST_BIDI_EVENT_TEXT_INPUT) == 0) {
    handle_text_input (c, event);
  } else if (strcmp (name, GST_BIDI_EVENT_AUDIO_INPUT) == 0) {
    handle_audio_input (c, event);
  } else if (strcmp (name, GST_BIDI_EVENT_IMAGE_INPUT) == 0) {
    handle_image_input (c, event);
  } else {
    gchar *msg = g_strdup_printf ("event type \"%s\" is not an input: send "
        "bidi_text_input, bidi_audio_input or bidi_image_input", name);

    client_queue_error (c, "invalid_input", msg);
    g_free (msg);
  }
  gst_structure_free (event);
}

/* ------------------------------------------------------------------------
 * Connections
 * ------------------------------------------------------------------------ */

static void server_check_shutdown_done (Server * server);

/* Main thread: the connection is gone; the pipeline goes to the reaper */
static void
client_finish (Client * c)
{
  Server *server = c->server;

  if (c->finished)
    return;
  c->finished = TRUE;

  g_mutex_lock (&c->lock);
  c->closing = TRUE;
  g_mutex_unlock (&c->lock);

  g_signal_handler_disconnect (c->conn, c->message_id);
  g_signal_handler_disconnect (c->conn, c->closed_id);
  if (soup_websocket_connection_get_state (c->conn) !=
      SOUP_WEBSOCKET_STATE_CLOSED) {
    GIOStream *stream = soup_websocket_connection_get_io_stream (c->conn);

    g_io_stream_close (stream, NULL, NULL);
  }
  g_clear_object (&c->conn);
  g_clear_object (&c->socket);
  gst_clear_caps (&c->in_caps);

  if (c->pipeline) {
    g_assert (server->n_agents > 0);
    server->n_agents--;
  }
  g_hash_table_remove (server->clients, c);
  /* the table's reference goes to the reaper */
  g_thread_pool_push (server->reaper, c, NULL);
  server_check_shutdown_done (server);
}

static void
on_ws_closed (SoupWebsocketConnection * conn, gpointer data)
{
  Client *c = data;
  const gchar *why = soup_websocket_connection_get_close_data (conn);

  g_printerr ("client %u: disconnected (%u%s%s)\n", c->id,
      soup_websocket_connection_get_close_code (conn), why ? " " : "",
      why ? why : "");
  client_finish (c);
}

/* Closes a client that was just accepted with a code libsoup does not send
 * (1013): nothing was sent on the connection yet, so the close frame is
 * written on the stream directly, then the connection is dropped. */
static void
client_refuse (Client * c, gushort code, const gchar * reason)
{
  GIOStream *stream = soup_websocket_connection_get_io_stream (c->conn);
  GOutputStream *out = g_io_stream_get_output_stream (stream);
  guint8 frame[2 + 2 + 123];
  gsize len = MIN (strlen (reason), 123);

  frame[0] = 0x88;              /* FIN, close */
  frame[1] = 2 + len;
  frame[2] = code >> 8;
  frame[3] = code & 0xff;
  memcpy (frame + 4, reason, len);
  if (G_IS_POLLABLE_OUTPUT_STREAM (out))
    g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM
        (out), frame, 4 + len, NULL, NULL);
  else
    g_output_stream_write (out, frame, 4 + len, NULL, NULL);
  g_output_stream_flush (out, NULL, NULL);
  client_finish (c);
}

static gint
query_sample_rate (SoupServerMessage * msg, gint fallback, gboolean * bad)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const gchar *query = uri ? g_uri_get_query (uri) : NULL;
  GHashTable *params;
  const gchar *value;
  gint rate = fallback;

  *bad = FALSE;
  if (!query)
    return rate;
  params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
  if (!params) {
    *bad = TRUE;
    return rate;
  }
  value = g_hash_table_lookup (params, "sample_rate");
  if (value) {
    gint64 v;
    gchar *end = NULL;

    v = g_ascii_strtoll (value, &end, 10);
    if (!end || *end || end == value || v < MIN_SAMPLE_RATE ||
        v > MAX_SAMPLE_RATE)
      *bad = TRUE;
    else
      rate = (gint) v;
  }
  g_hash_table_unref (params);
  return rate;
}

static void
on_websocket (G_GNUC_UNUSED SoupServer * soup, SoupServerMessage * msg,
    G_GNUC_UNUSED const char *path, SoupWebsocketConnection * conn,
    gpointer data)
{
  Server *server = data;
  Client *c;
  GError *err = NULL;
  gboolean bad_rate = FALSE;
  GSocketAddress *remote;
  GSocket *socket;

  c = g_new0 (Client, 1);
  c->ref = 1;
  c->id = ++server->next_id;
  c->server = server;
  c->conn = g_object_ref (conn);
  /* libsoup has no socket for a stream it did not accept (on_incoming) */
  remote = soup_server_message_get_remote_address (msg);
  socket = remote ? g_object_get_qdata (G_OBJECT (remote), socket_quark) :
      NULL;
  c->socket = socket ? g_object_ref (socket) : NULL;
  if (!c->socket)
    GST_WARNING ("client %u: no socket: unread events are not counted",
        c->id);
  c->max_output = (guint64) server->opt.max_output_kb * 1024;
  g_mutex_init (&c->lock);
  g_queue_init (&c->out);
  c->out_rate = query_sample_rate (msg, server->opt.sample_rate, &bad_rate);
  /* what libsoup queued for the handshake is not ours to count */
  client_get_unacked (c, &(guint64) {
      0});

  soup_websocket_connection_set_max_incoming_payload_size (conn,
      (guint64) server->opt.max_message_kb * 1024 * HARD_MESSAGE_FACTOR);
  /* a ping every 30 s finds dead peers */
  soup_websocket_connection_set_keepalive_interval (conn, 30);
  c->message_id = g_signal_connect (conn, "message",
      G_CALLBACK (on_ws_message), c);
  c->closed_id = g_signal_connect (conn, "closed", G_CALLBACK (on_ws_closed),
      c);
  g_hash_table_add (server->clients, c);

  if (server->shutting_down) {
    client_close (c, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server shutting down");
    return;
  }
  if (bad_rate) {
    gchar *msg_text = g_strdup_printf ("bad query: sample_rate must be %d to "
        "%d", MIN_SAMPLE_RATE, MAX_SAMPLE_RATE);

    client_close (c, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, msg_text);
    g_free (msg_text);
    return;
  }
  if ((gint) server->n_agents >= server->opt.max_clients) {
    gchar *reason = g_strdup_printf ("too many clients (%d), try again later",
        server->opt.max_clients);

    g_printerr ("client %u: refused: %s\n", c->id, reason);
    client_refuse (c, CLOSE_TRY_AGAIN_LATER, reason);
    g_free (reason);
    return;
  }

  if (!client_make_pipeline (c, &server->opt, &err)) {
    g_printerr ("client %u: %s\n", c->id, err->message);
    if (c->pipeline) {
      /* built but unusable: it still goes through the reaper */
      server->n_agents++;
    }
    client_queue_error (c, "pipeline_error", err->message);
    client_queue (c, NULL, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR,
        "cannot make the agent");
    g_clear_error (&err);
    return;
  }
  server->n_agents++;

  if (gst_element_set_state (c->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    /* the error message on the bus tells the client and closes */
    g_printerr ("client %u: the agent did not start\n", c->id);
    client_queue (c, NULL, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR,
        "the agent did not start");
    return;
  }
  g_printerr ("client %u: connected (%s, output %d Hz)\n", c->id,
      server->opt.provider, c->out_rate);
}

/* Browsers send Origin: they may connect from our own pages, or from the
 * origins allowed on the command line. Other programs send none. */
static void
on_ws_early (G_GNUC_UNUSED SoupServer * soup, SoupServerMessage * msg,
    G_GNUC_UNUSED const char *path, G_GNUC_UNUSED GHashTable * query,
    gpointer data)
{
  Server *server = data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const gchar *origin = soup_message_headers_get_one (headers, "Origin");
  const gchar *host = soup_message_headers_get_one (headers, "Host");
  gchar *own;
  gboolean ok;

  if (!origin)
    return;
  own = g_strdup_printf ("http://%s", host ? host : "");
  ok = host && g_ascii_strcasecmp (origin, own) == 0;
  g_free (own);
  if (!ok && server->opt.allow_origins) {
    gchar **o;

    for (o = server->opt.allow_origins; *o && !ok; o++)
      ok = strcmp (*o, "*") == 0 || g_ascii_strcasecmp (*o, origin) == 0;
  }
  if (!ok) {
    g_printerr ("refused a WebSocket from origin %s (see --allow-origin)\n",
        origin);
    soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, NULL);
  }
}

/* ------------------------------------------------------------------------
 * The web page
 * ------------------------------------------------------------------------ */

static const gchar *
content_type_for (const gchar * name)
{
  static const struct
  {
    const gchar *ext;
    const gchar *type;
  } types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".wasm", "application/wasm"},
    {".txt", "text/plain; charset=utf-8"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_str_has_suffix (name, types[i].ext))
      return types[i].type;
  return "application/octet-stream";
}

static void
on_http (G_GNUC_UNUSED SoupServer * soup, SoupServerMessage * msg,
    const char *path, G_GNUC_UNUSED GHashTable * query,
    G_GNUC_UNUSED gpointer data)
{
  const gchar *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *headers;
  const gchar *name;
  gchar *res_path;
  GBytes *bytes;

  if (strcmp (method, SOUP_METHOD_GET) != 0 &&
      strcmp (method, SOUP_METHOD_HEAD) != 0) {
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
        NULL);
    return;
  }
  if (strcmp (path, WS_PATH) == 0) {
    soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
    soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC,
        "WebSocket endpoint\n", strlen ("WebSocket endpoint\n"));
    return;
  }

  name = strcmp (path, "/") == 0 ? "index.html" : path + 1;
  if (*path != '/' || !*name || strstr (name, "..") || strstr (name, "//")
      || name[strlen (name) - 1] == '/') {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  res_path = g_strconcat (RESOURCE_PREFIX "/", name, NULL);
  bytes = g_resource_lookup_data (bidi_server_get_resource (), res_path,
      G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  g_free (res_path);
  if (!bytes) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  headers = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (headers, "Content-Type",
      content_type_for (name));
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_body_append_bytes (soup_server_message_get_response_body
      (msg), bytes);
  g_bytes_unref (bytes);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

/* ------------------------------------------------------------------------
 * Start and shutdown
 * ------------------------------------------------------------------------ */

/* Connections are accepted by a GSocketService of ours and handed to the
 * SoupServer. libsoup 3.2's own listener (soup_server_listen*) never
 * frees the GSocket of a connection it accepted, nor the addresses it
 * reads from its listening sockets: a server that runs for days would
 * grow with every client. */
static gboolean
on_incoming (G_GNUC_UNUSED GSocketService * service, GSocketConnection * conn,
    G_GNUC_UNUSED GObject * source, gpointer data)
{
  Server *server = data;
  GSocket *socket = g_socket_connection_get_socket (conn);
  GSocketAddress *local = NULL, *remote = NULL;
  GError *err = NULL;

  if (server->shutting_down)
    return TRUE;                /* closed when the service lets it go */
  /* events are small and must not wait for more to fill a segment */
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  local = g_socket_connection_get_local_address (conn, &err);
  if (local)
    remote = g_socket_connection_get_remote_address (conn, &err);
  if (remote) {
    /* on_websocket reads the socket from here: libsoup has no socket for
     * a stream it did not accept itself, but it keeps this address */
    g_object_set_qdata_full (G_OBJECT (remote), socket_quark,
        g_object_ref (socket), g_object_unref);
    soup_server_accept_iostream (server->soup, G_IO_STREAM (conn), local,
        remote, &err);
  }
  if (err) {
    GST_WARNING ("cannot accept a connection: %s", err->message);
    g_clear_error (&err);
  }
  g_clear_object (&local);
  g_clear_object (&remote);
  return TRUE;
}

/* Binds @addr:@port; the port it got in @port when it was 0 */
static gboolean
server_bind (Server * server, GInetAddress * addr, guint16 * port,
    GError ** error)
{
  GSocketAddress *saddr = g_inet_socket_address_new (addr, *port);
  GSocketAddress *effective = NULL;
  gboolean ok;

  ok = g_socket_listener_add_address (G_SOCKET_LISTENER (server->service),
      saddr, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective,
      error);
  g_object_unref (saddr);
  if (ok)
    *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_clear_object (&effective);
  return ok;
}

/* --address, or else loopback: 127.0.0.1 and, where there is IPv6, ::1 on
 * the same port */
static gboolean
server_listen (Server * server, GError ** error)
{
  GInetAddress *addr;
  guint16 port = (guint16) server->opt.port;
  gchar *host, *url;
  gboolean ok;

  if (server->opt.address) {
    addr = g_inet_address_new_from_string (server->opt.address);
    if (!addr) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "--address %s is not an IP address", server->opt.address);
      return FALSE;
    }
  } else {
    addr = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  }
  /* inactive until every address is added: adding one to an active
   * service cancels its pending accept, and a client that comes before
   * the main loop runs is then accepted by the cancelled one and reset */
  server->service = g_object_new (G_TYPE_SOCKET_SERVICE, "active", FALSE,
      NULL);
  g_signal_connect (server->service, "incoming", G_CALLBACK (on_incoming),
      server);
  ok = server_bind (server, addr, &port, error);
  if (ok && !server->opt.address) {
    GInetAddress *ipv6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
    GError *err = NULL;

    if (!server_bind (server, ipv6, &port, &err)) {
      GST_INFO ("no IPv6 loopback: %s", err->message);
      g_clear_error (&err);
    }
    g_object_unref (ipv6);
  }
  if (!ok) {
    g_object_unref (addr);
    return FALSE;
  }
  g_socket_service_start (server->service);

  /* one line: tests read the port from it */
  host = g_inet_address_to_string (addr);
  url = g_strdup_printf (g_inet_address_get_family (addr) ==
      G_SOCKET_FAMILY_IPV6 ? "http://[%s]:%u/" : "http://%s:%u/", host, port);
  g_print ("listening on %s\n", url);
  fflush (stdout);
  g_free (url);
  g_free (host);
  g_object_unref (addr);
  return TRUE;
}

/* No new connections; those there are stay */
static void
server_stop_listening (Server * server)
{
  if (!server->service)
    return;
  g_socket_service_stop (server->service);
  g_socket_listener_close (G_SOCKET_LISTENER (server->service));
  g_clear_object (&server->service);
}

static void
server_check_shutdown_done (Server * server)
{
  if (server->shutting_down && g_hash_table_size (server->clients) == 0)
    g_main_loop_quit (server->loop);
}

static gboolean
on_shutdown_timeout (gpointer data)
{
  Server *server = data;
  GList *clients, *l;

  server->shutdown_timeout = 0;
  /* clients that did not answer our close frame */
  clients = g_hash_table_get_keys (server->clients);
  for (l = clients; l; l = l->next)
    client_finish (l->data);
  g_list_free (clients);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer data)
{
  Server *server = data;
  GList *clients, *l;

  if (server->shutting_down)
    return G_SOURCE_CONTINUE;
  g_printerr ("shutting down\n");
  server->shutting_down = TRUE;
  server_stop_listening (server);
  soup_server_disconnect (server->soup);

  clients = g_hash_table_get_keys (server->clients);
  for (l = clients; l; l = l->next) {
    Client *c = l->data;

    g_mutex_lock (&c->lock);
    c->closing = TRUE;
    g_mutex_unlock (&c->lock);
    if (c->conn && soup_websocket_connection_get_state (c->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      client_close (c, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
          "server shutting down");
  }
  g_list_free (clients);
  server->shutdown_timeout = g_timeout_add (SHUTDOWN_TIMEOUT_MS,
      on_shutdown_timeout, server);
  server_check_shutdown_done (server);
  return G_SOURCE_CONTINUE;
}

/* --tools, as bidi-chat takes it: the element's builtin-tools ("none" is
 * its empty list). An unknown name is refused here, at the start, rather
 * than at each client's connection. */
static gboolean
tools_option_check (Options * opt)
{
  gchar **names;
  guint i;
  gboolean ok = TRUE;

  if (!opt->tools)
    return TRUE;
  if (g_ascii_strcasecmp (opt->tools, "none") == 0)
    opt->tools[0] = '\0';
  if (g_ascii_strcasecmp (opt->tools, "auto") == 0)
    return TRUE;
  names = g_strsplit_set (opt->tools, ", \t", -1);
  for (i = 0; ok && names[i]; i++) {
    if (*names[i] && !gst_bidi_builtin_tool_exists (names[i])) {
      g_printerr ("bad option: --tools: unknown built-in tool \"%s\" "
          "(there are: %s; auto; none)\n", names[i],
          GST_BIDI_BUILTIN_TOOLS_ALL);
      ok = FALSE;
    }
  }
  g_strfreev (names);
  return ok;
}

static void
options_clear (Options * opt)
{
  g_free (opt->address);
  g_free (opt->provider);
  g_free (opt->model);
  g_free (opt->system_prompt);
  g_free (opt->tools);
  g_free (opt->url);
  g_strfreev (opt->allow_origins);
}

int
main (int argc, char **argv)
{
  Server server = { 0, };
  Options *opt = &server.opt;
  GOptionContext *ctx;
  GError *err = NULL;
  guint sig_int, sig_term;
  GOptionEntry entries[] = {
    {"port", 'p', 0, G_OPTION_ARG_INT, &opt->port,
        "Port to listen on (default 8000; 0: any, printed)", "N"},
    {"address", 'a', 0, G_OPTION_ARG_STRING, &opt->address,
          "Listen on this address instead of loopback. This exposes the agent "
          "(and the use of your API keys) to everybody who can reach it",
        "ADDR"},
    {"max-clients", 0, 0, G_OPTION_ARG_INT, &opt->max_clients,
        "Most clients at once; more are closed with 1013 (default 16)", "N"},
    {"max-message-kb", 0, 0, G_OPTION_ARG_INT, &opt->max_message_kb,
        "Largest incoming message, in KiB; larger: closed with 1009 "
          "(default 1024)", "N"},
    {"max-output-kb", 0, 0, G_OPTION_ARG_INT, &opt->max_output_kb,
          "A client with more than this many KiB of events sent and not read "
          "is closed with 1008 (default 4096; 0: no limit)", "N"},
    {"sample-rate", 0, 0, G_OPTION_ARG_INT, &opt->sample_rate,
          "Rate of the bidi_audio_stream audio (default 16000; a client may "
          "ask with ?sample_rate=N)", "HZ"},
    {"provider", 0, 0, G_OPTION_ARG_STRING, &opt->provider,
        "bidiagent provider (default local)", "NAME"},
    {"model", 0, 0, G_OPTION_ARG_STRING, &opt->model,
        "Model name (default: the provider's)", "NAME"},
    {"system-prompt", 0, 0, G_OPTION_ARG_STRING, &opt->system_prompt,
        "Instructions given to the model", "TEXT"},
    {"tools", 't', 0, G_OPTION_ARG_STRING, &opt->tools,
          "Built-in tools offered to the model, comma separated "
          "(current_time, calculator, stop_conversation; none; default auto)",
        "LIST"},
    {"url", 0, 0, G_OPTION_ARG_STRING, &opt->url,
        "Provider endpoint (default: the provider's)", "URL"},
    {"allow-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt->allow_origins,
          "Also accept browsers' WebSockets from this origin (repeatable; "
          "* for any)", "ORIGIN"},
    {NULL}
  };

  opt->port = DEFAULT_PORT;
  opt->max_clients = DEFAULT_MAX_CLIENTS;
  opt->max_message_kb = DEFAULT_MAX_MESSAGE_KB;
  opt->max_output_kb = DEFAULT_MAX_OUTPUT_KB;
  opt->sample_rate = DEFAULT_SAMPLE_RATE;

  ctx = g_option_context_new ("- the bidiagent over WebSocket at /text-chat");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    g_clear_error (&err);
    g_option_context_free (ctx);
    options_clear (opt);
    return 2;
  }
  g_option_context_free (ctx);
  if (!opt->provider)
    opt->provider = g_strdup ("local");
  if (opt->port < 0 || opt->port > 65535 || opt->max_clients < 1 ||
      opt->max_message_kb < 1 || opt->max_message_kb > 16 * 1024 ||
      opt->max_output_kb < 0 || opt->sample_rate < MIN_SAMPLE_RATE ||
      opt->sample_rate > MAX_SAMPLE_RATE) {
    g_printerr ("bad option: --port 0-65535, --max-clients >= 1, "
        "--max-message-kb 1-16384, --max-output-kb >= 0, --sample-rate "
        "%d-%d\n", MIN_SAMPLE_RATE, MAX_SAMPLE_RATE);
    options_clear (opt);
    return 2;
  }
  if (!tools_option_check (opt)) {
    options_clear (opt);
    return 2;
  }

  GST_DEBUG_CATEGORY_INIT (bidi_server_debug, "bidi-server", 0,
      "bidiagent WebSocket server");

  {
    GstElementFactory *f = gst_element_factory_find ("bidiagent");

    if (!f) {
      g_printerr ("no bidiagent element: set GST_PLUGIN_PATH to the "
          "directory of libgstbidiagent.so\n");
      options_clear (opt);
      return 1;
    }
    gst_object_unref (f);
  }

  socket_quark = g_quark_from_static_string ("bidi-server-socket");
  server.loop = g_main_loop_new (NULL, FALSE);
  server.clients = g_hash_table_new (NULL, NULL);
  server.reaper = g_thread_pool_new (reap_client, NULL, 4, FALSE, NULL);
  server.soup = soup_server_new ("server-header", "bidi-server ", NULL);
  soup_server_add_early_handler (server.soup, WS_PATH, on_ws_early, &server,
      NULL);
  soup_server_add_websocket_handler (server.soup, WS_PATH, NULL, NULL,
      on_websocket, &server, NULL);
  soup_server_add_handler (server.soup, NULL, on_http, &server, NULL);

  if (!server_listen (&server, &err)) {
    g_printerr ("cannot listen on port %d: %s\n", opt->port, err->message);
    g_clear_error (&err);
    server.exit_code = 1;
  } else {
    sig_int = g_unix_signal_add (SIGINT, on_signal, &server);
    sig_term = g_unix_signal_add (SIGTERM, on_signal, &server);
    g_main_loop_run (server.loop);
    g_source_remove (sig_int);
    g_source_remove (sig_term);
    if (server.shutdown_timeout)
      g_source_remove (server.shutdown_timeout);
  }

  /* every pipeline stopped and freed */
  g_thread_pool_free (server.reaper, FALSE, TRUE);
  server_stop_listening (&server);
  soup_server_disconnect (server.soup);
  g_object_unref (server.soup);
  /* sources still holding clients (drains) */
  while (g_main_context_iteration (NULL, FALSE));
  g_hash_table_unref (server.clients);
  g_main_loop_unref (server.loop);
  options_clear (opt);
  gst_deinit ();
  return server.exit_code;
}
