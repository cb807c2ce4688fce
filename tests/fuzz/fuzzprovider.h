/* gst-bidi: what the libFuzzer targets of the realtime providers share:
 * a fake transport in place of the WebSocket (no socket), and a session
 * driven by the input through the real receive path of the realtime base
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 *
 * Input: one line per step. A line is a server frame (as the WebSocket
 * transport would pass it on: parsed with the same limits), or, when it
 * starts with '#', what else happens in a session:
 *   #close CODE    the server closes the connection with CODE
 *   #bad           a frame the transport refused (too large, not JSON)
 *   #text          the application sends a text turn
 *   #audio         input audio
 *   #image         a PNG image
 *   #interrupt MS  the answer being played was cut after MS
 *   #result ID     the result of the tool call ID (of the tool "lookup")
 *   #end           the input ended
 * The provider reconnects (no delay) after a close, to a new fake
 * transport that opens at once.
 *
 * The target includes this after fuzzcommon.h and its provider's header,
 * defines bidi_fuzz_check_sent () (what every message the provider sends
 * must be) before it, and calls bidi_fuzz_provider_init () from its
 * LLVMFuzzerInitialize.
 */

#ifndef __BIDI_FUZZ_PROVIDER_H__
#define __BIDI_FUZZ_PROVIDER_H__

#include <gst/bidi/gstbidievents.h>
#include <gst/bidi/gstbidijson.h>

#include "gstbidirealtimeprovider.h"

static void bidi_fuzz_check_sent (JsonObject * object);

/* as the WebSocket transport (gstbidiws.c) parses a frame */
#define MAX_MESSAGE_SIZE (16 * 1024 * 1024)
#define MAX_MESSAGE_DEPTH 64
/* a session runs at most this many steps: an input is one session */
#define MAX_STEPS 4096

typedef struct
{
  GstBidiTransport parent;
  const GstBidiTransportCallbacks *cb;
  gpointer user_data;
  gboolean opened;
} FakeTransport;

/* the provider's connection, NULL when it has none */
static FakeTransport *fake;
static GMainContext *ctx;
static GType provider_type;
static const gchar *provider_url;

static const gchar tools_json[] = "[{\"name\": \"lookup\", \"description\": "
    "\"Looks up a word\", \"parameters\": {\"type\": \"object\", "
    "\"properties\": {\"word\": {\"type\": \"string\"}}}}]";
static const gchar history_json[] = "[{\"role\": \"user\", \"content\": "
    "[{\"text\": \"Hello\"}]}, {\"role\": \"assistant\", \"content\": "
    "[{\"text\": \"Hi there\"}]}]";

static gboolean
fake_send_object (GstBidiTransport * transport, JsonObject * object)
{
  FakeTransport *t = (FakeTransport *) transport;

  bidi_fuzz_check_sent (object);
  return t->opened;
}

static gboolean
fake_send_text (GstBidiTransport * transport, const gchar * text)
{
  FakeTransport *t = (FakeTransport *) transport;

  BIDI_FUZZ_ASSERT (g_utf8_validate (text, -1, NULL));
  return t->opened;
}

static gboolean
fake_is_open (GstBidiTransport * transport)
{
  return ((FakeTransport *) transport)->opened;
}

static void
fake_close (GstBidiTransport * transport, G_GNUC_UNUSED gushort code)
{
  if ((FakeTransport *) transport == fake)
    fake = NULL;
  g_free (transport);
}

static const GstBidiTransportFuncs fake_funcs = {
  fake_send_object,
  fake_send_text,
  fake_is_open,
  fake_close,
};

static GstBidiTransport *
fake_connect (G_GNUC_UNUSED const GstBidiTransportOptions * options,
    const GstBidiTransportCallbacks * callbacks, gpointer user_data,
    G_GNUC_UNUSED GError ** error)
{
  FakeTransport *t = g_new0 (FakeTransport, 1);

  /* one connection at a time */
  BIDI_FUZZ_ASSERT (fake == NULL);
  t->parent.funcs = &fake_funcs;
  t->cb = callbacks;
  t->user_data = user_data;
  fake = t;
  return &t->parent;
}

/* The provider only emits valid events (the base drops the others with
 * this warning): one that is not is a bug in the provider. */
static void
log_func (G_GNUC_UNUSED GstDebugCategory * category, GstDebugLevel level,
    G_GNUC_UNUSED const gchar * file, G_GNUC_UNUSED const gchar * function,
    G_GNUC_UNUSED gint line, G_GNUC_UNUSED GObject * object,
    GstDebugMessage * message, G_GNUC_UNUSED gpointer user_data)
{
  const gchar *text = gst_debug_message_get (message);

  if (level <= GST_LEVEL_WARNING && g_str_has_prefix (text,
          "dropping invalid event")) {
    g_printerr ("the provider emitted an invalid event: %s\n", text);
    abort ();
  }
}

/* For the target's LLVMFuzzerInitialize: the provider @type, started with
 * @url */
static void
bidi_fuzz_provider_init (GType type, const gchar * url)
{
  GstBidiRealtimeProviderClass *klass;

  bidi_fuzz_init ();
  provider_type = type;
  provider_url = url;
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (log_func, NULL, NULL);
  gst_debug_set_active (TRUE);
  gst_debug_set_threshold_for_name ("bidiprovider", GST_LEVEL_WARNING);

  klass = g_type_class_ref (type);
  klass->connect = fake_connect;
  /* the provider lives on this thread's default context */
  ctx = g_main_context_new ();
  g_main_context_push_thread_default (ctx);
}

static void
on_event (G_GNUC_UNUSED gpointer provider, GstStructure * event,
    G_GNUC_UNUSED gpointer user_data)
{
  /* as the element posts and serialises it */
  g_free (gst_bidi_event_to_json (event));
  gst_structure_free (event);
}

/* Opens the connection the provider made (the first, or a reconnection
 * whose backoff timer ran), and runs what is due on the context */
static void
run_pending (void)
{
  guint i;

  for (i = 0; i < 4 && g_main_context_iteration (ctx, FALSE); i++);
  if (fake && !fake->opened) {
    fake->opened = TRUE;
    fake->cb->open (&fake->parent, fake->user_data);
  }
}

static void
deliver_frame (const gchar * line, gsize len)
{
  GError *err = NULL;
  JsonObject *obj = gst_bidi_json_parse_object (line, len, MAX_MESSAGE_SIZE,
      MAX_MESSAGE_DEPTH, &err);

  if (obj) {
    fake->cb->message (&fake->parent, obj, line, len, fake->user_data);
    json_object_unref (obj);
  } else {
    fake->cb->bad_message (&fake->parent, err, fake->user_data);
    g_error_free (err);
  }
}

static void
server_close (guint code)
{
  GstBidiTransportCloseInfo info = { 0, };
  GError *err = g_error_new (GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
      "the server closed the connection");

  info.close_code = code;
  info.was_open = TRUE;
  info.close_reason = "bye";
  fake->cb->closed (&fake->parent, &info, err, fake->user_data);
  g_error_free (err);
}

static void
run_command (GstBidiProvider * provider, const gchar * cmd)
{
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
    0, 0, 0, 0
  };

  if (g_str_has_prefix (cmd, "#close ")) {
    server_close ((guint) g_ascii_strtoull (cmd + 7, NULL, 10));
  } else if (strcmp (cmd, "#bad") == 0) {
    GError *err = g_error_new (GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "a binary frame");

    fake->cb->bad_message (&fake->parent, err, fake->user_data);
    g_error_free (err);
  } else if (strcmp (cmd, "#text") == 0) {
    gst_bidi_provider_send_text (provider, "What time is it?", "user");
  } else if (strcmp (cmd, "#audio") == 0) {
    GBytes *pcm = g_bytes_new_take (g_malloc0 (960), 960);

    gst_bidi_provider_send_audio (provider, pcm, g_get_monotonic_time ());
    g_bytes_unref (pcm);
  } else if (strcmp (cmd, "#image") == 0) {
    GBytes *image = g_bytes_new_static (png, sizeof (png));

    gst_bidi_provider_send_image (provider, image, "image/png");
    g_bytes_unref (image);
  } else if (g_str_has_prefix (cmd, "#interrupt ")) {
    gst_bidi_provider_interrupt (provider, g_ascii_strtoull (cmd + 11, NULL,
            10));
  } else if (g_str_has_prefix (cmd, "#result ")) {
    gst_bidi_provider_send_tool_result (provider, cmd + 8, "lookup",
        "{\"meaning\": \"a greeting\"}", "success");
  } else if (strcmp (cmd, "#end") == 0) {
    gst_bidi_provider_end_input (provider);
  }
}

static GstBidiProvider *
start_provider (void)
{
  GstBidiProvider *provider = g_object_new (provider_type, NULL);
  GstBidiProviderConfig *config = gst_bidi_provider_config_new ();
  GError *err = NULL;

  gst_bidi_provider_set_event_func (provider, on_event, NULL, NULL);
  config->api_key = g_strdup ("sk-fuzz");
  config->url = g_strdup (provider_url);
  config->tools_json = g_strdup (tools_json);
  config->history_json = g_strdup (history_json);
  config->provider_config = gst_structure_new ("config",
      "reconnect-delay-ms", G_TYPE_INT, 0, NULL);
  if (!gst_bidi_provider_start (provider, config, &err)) {
    g_printerr ("the provider did not start: %s\n", err->message);
    abort ();
  }
  gst_bidi_provider_config_free (config);
  BIDI_FUZZ_ASSERT (fake != NULL);
  return provider;
}

static int
bidi_fuzz_one (const uint8_t * data, size_t size)
{
  GstBidiProvider *provider = start_provider ();
  const gchar *p = (const gchar *) data, *end = p + size;
  guint steps = 0;

  run_pending ();
  while (p < end && fake && steps++ < MAX_STEPS) {
    const gchar *nl = memchr (p, '\n', end - p);
    gsize len = (nl ? nl : end) - p;

    if (len > 0 && p[0] == '#') {
      gchar *cmd = g_strndup (p, len);

      run_command (provider, cmd);
      g_free (cmd);
    } else if (len > 0) {
      deliver_frame (p, len);
    }
    run_pending ();
    p += len + 1;
  }

  gst_bidi_provider_stop (provider);
  BIDI_FUZZ_ASSERT (fake == NULL);
  gst_object_unref (provider);
  while (g_main_context_iteration (ctx, FALSE));
  return 0;
}

#endif /* __BIDI_FUZZ_PROVIDER_H__ */
