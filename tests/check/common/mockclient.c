/* gst-bidi: a plain libsoup WebSocket client for the self-tests of the
 * mock servers
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

#include <gst/check/gstcheck.h>

#include "mockclient.h"

static void
frame_free (MockClientFrame * r)
{
  g_bytes_unref (r->data);
  if (r->json)
    json_node_unref (r->json);
  g_free (r);
}

void
mock_client_init (MockClient * c)
{
  memset (c, 0, sizeof (*c));
  c->ctx = g_main_context_new ();
  g_main_context_push_thread_default (c->ctx);
  c->session = soup_session_new ();
  /* 127.0.0.1 only: no proxy (and no libproxy under valgrind) */
  soup_session_set_proxy_resolver (c->session, NULL);
  c->received = g_ptr_array_new_with_free_func ((GDestroyNotify) frame_free);
}

static gboolean
tick_cb (gpointer user_data)
{
  (void) user_data;
  return G_SOURCE_CONTINUE;
}

gboolean
mock_client_iterate (MockClient * c, gboolean (*done) (MockClient *,
        gpointer), gpointer data, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  GSource *tick = g_timeout_source_new (10);
  gboolean ok;

  g_source_set_callback (tick, tick_cb, NULL, NULL);
  g_source_attach (tick, c->ctx);
  while (!(ok = done (c, data)) && g_get_monotonic_time () < end)
    g_main_context_iteration (c->ctx, TRUE);
  g_source_destroy (tick);
  g_source_unref (tick);
  return ok;
}

/* Frames are parsed once, as they come: waits scan them on every wake-up,
 * and parsing every frame on every scan starved the mock server's thread
 * under valgrind */
static void
message_cb (SoupWebsocketConnection * ws, gint type, GBytes * message,
    MockClient * c)
{
  MockClientFrame *r = g_new0 (MockClientFrame, 1);
  gsize size;
  const gchar *data = g_bytes_get_data (message, &size);
  gchar *text = (type == SOUP_WEBSOCKET_DATA_TEXT || c->parse_binary) &&
      g_utf8_validate (data, size, NULL) ? g_strndup (data, size) : NULL;

  (void) ws;
  r->type = type;
  r->data = g_bytes_ref (message);
  r->time = g_get_monotonic_time ();
  r->json = text ? json_from_string (text, NULL) : NULL;
  if (r->json && !JSON_NODE_HOLDS_OBJECT (r->json))
    g_clear_pointer (&r->json, json_node_unref);
  g_free (text);
  g_ptr_array_add (c->received, r);
}

static void
closed_cb (SoupWebsocketConnection * ws, MockClient * c)
{
  (void) ws;
  c->closed = TRUE;
}

static void
connect_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  MockClient *c = user_data;

  c->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
      &c->error);
  c->connect_done = TRUE;
}

static gboolean
connected (MockClient * c, gpointer data)
{
  (void) data;
  return c->connect_done;
}

static gboolean
accept_certificate_cb (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  (void) msg;
  (void) cert;
  (void) errors;
  (void) user_data;
  return TRUE;
}

gboolean
mock_client_connect (MockClient * c, const gchar * url,
    const gchar * const *headers)
{
  SoupMessageHeaders *h;
  guint i;

  g_clear_object (&c->msg);
  g_clear_error (&c->error);
  c->connect_done = FALSE;
  c->closed = FALSE;
  c->msg = soup_message_new ("GET", url);
  fail_unless (c->msg != NULL, "bad url %s", url);
  h = soup_message_get_request_headers (c->msg);
  for (i = 0; headers && headers[i]; i += 2)
    soup_message_headers_append (h, headers[i], headers[i + 1]);
  if (c->accept_any_certificate)
    g_signal_connect (c->msg, "accept-certificate",
        G_CALLBACK (accept_certificate_cb), NULL);
  soup_session_websocket_connect_async (c->session, c->msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, connect_cb, c);
  fail_unless (mock_client_iterate (c, connected, NULL, MOCK_CLIENT_WAIT_MS));
  if (!c->ws)
    return FALSE;
  soup_websocket_connection_set_max_incoming_payload_size (c->ws,
      16 * 1024 * 1024);
  g_signal_connect (c->ws, "message", G_CALLBACK (message_cb), c);
  g_signal_connect (c->ws, "closed", G_CALLBACK (closed_cb), c);
  return TRUE;
}

gboolean
mock_client_is_closed (MockClient * c, gpointer data)
{
  (void) data;
  return c->closed;
}

gboolean
mock_client_has_n (MockClient * c, gpointer data)
{
  return c->received->len >= GPOINTER_TO_UINT (data);
}

void
mock_client_close (MockClient * c)
{
  if (!c->ws)
    return;
  if (soup_websocket_connection_get_state (c->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  fail_unless (mock_client_iterate (c, mock_client_is_closed, NULL,
          MOCK_CLIENT_WAIT_MS));
  g_signal_handlers_disconnect_by_data (c->ws, c);
  g_clear_object (&c->ws);
}

gboolean
mock_client_nothing (MockClient * c, gpointer data)
{
  (void) c;
  (void) data;
  return FALSE;
}

void
mock_client_clear (MockClient * c)
{
  mock_client_close (c);
  g_clear_object (&c->msg);
  g_clear_error (&c->error);
  g_clear_object (&c->session);
  /* let pending closes finish */
  mock_client_iterate (c, mock_client_nothing, NULL, 50);
  while (g_main_context_iteration (c->ctx, FALSE));
  g_main_context_pop_thread_default (c->ctx);
  g_main_context_unref (c->ctx);
  g_ptr_array_unref (c->received);
}

void
mock_client_send (MockClient * c, const gchar * text)
{
  soup_websocket_connection_send_text (c->ws, text);
}

JsonNode *
mock_json_get (JsonNode * root, const gchar * path)
{
  gchar **parts = g_strsplit (path, ".", -1);
  JsonNode *node = root;
  guint i;

  for (i = 0; parts[i] && node; i++) {
    if (!JSON_NODE_HOLDS_OBJECT (node)) {
      node = NULL;
      break;
    }
    node = json_object_get_member (json_node_get_object (node), parts[i]);
  }
  g_strfreev (parts);
  return node;
}

const gchar *
mock_json_str (JsonNode * root, const gchar * path)
{
  JsonNode *node = mock_json_get (root, path);

  fail_unless (node != NULL && JSON_NODE_HOLDS_VALUE (node), "no %s", path);
  return json_node_get_string (node);
}

gint64
mock_json_int (JsonNode * root, const gchar * path)
{
  JsonNode *node = mock_json_get (root, path);

  fail_unless (node != NULL && JSON_NODE_HOLDS_VALUE (node), "no %s", path);
  return json_node_get_int (node);
}
