/* gst-bidi: the HTTP server under the mock servers of the tests
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

#include "mockserver.h"

struct _MockServer
{
  gchar *name;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;           /* the thread only */
  GTlsCertificate *certificate;
  MockServerSetupFunc setup;
  MockServerAcceptFunc accept;
  MockServerStopFunc stop;
  gpointer user_data;

  GMutex lock;
  GCond cond;
  gboolean ready;
  guint port;
};

/* Connections are accepted here and handed to the server: SoupServer's
 * own listener (soup_server_listen_local) leaks every accepted socket in
 * libsoup 3.2, which valgrind reports. */
static gboolean
incoming_cb (G_GNUC_UNUSED GSocketService * service, GSocketConnection * conn,
    G_GNUC_UNUSED GObject * source, gpointer user_data)
{
  MockServer *ms = user_data;
  GSocketAddress *local, *remote;
  GError *err = NULL;
  GIOStream *stream;

  if (ms->accept)
    ms->accept (conn, ms->user_data);
  if (ms->certificate) {
    /* the handshake happens with the first read */
    stream = g_tls_server_connection_new (G_IO_STREAM (conn),
        ms->certificate, &err);
    if (!stream) {
      g_warning ("%s: no TLS: %s", ms->name, err->message);
      g_clear_error (&err);
      return TRUE;
    }
  } else {
    stream = g_object_ref (G_IO_STREAM (conn));
  }
  local = g_socket_connection_get_local_address (conn, NULL);
  remote = g_socket_connection_get_remote_address (conn, NULL);
  if (!local || !remote || !soup_server_accept_iostream (ms->server,
          stream, local, remote, &err)) {
    g_warning ("%s: cannot accept: %s", ms->name, err ? err->message : "?");
    g_clear_error (&err);
  }
  g_clear_object (&local);
  g_clear_object (&remote);
  g_object_unref (stream);
  return TRUE;
}

static gpointer
server_thread (gpointer user_data)
{
  MockServer *ms = user_data;
  GSocketService *service;
  GSocketAddress *addr, *effective = NULL;
  GInetAddress *loopback;
  GError *err = NULL;
  gchar *header = g_strdup_printf ("%s ", ms->name);

  g_main_context_push_thread_default (ms->context);
  ms->server = soup_server_new ("server-header", header, NULL);
  g_free (header);
  if (ms->setup)
    ms->setup (ms->server, ms->user_data);

  /* 127.0.0.1 only, port chosen by the system */
  service = g_socket_service_new ();
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  addr = g_inet_socket_address_new (loopback, 0);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), addr,
          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective, &err))
    g_error ("%s: cannot listen: %s", ms->name, err->message);
  g_object_unref (addr);
  g_object_unref (loopback);
  g_signal_connect (service, "incoming", G_CALLBACK (incoming_cb), ms);
  g_socket_service_start (service);

  g_mutex_lock (&ms->lock);
  ms->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS
      (effective));
  ms->ready = TRUE;
  g_cond_broadcast (&ms->cond);
  g_mutex_unlock (&ms->lock);
  g_object_unref (effective);

  g_main_loop_run (ms->loop);

  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  g_object_unref (service);
  if (ms->stop)
    ms->stop (ms->user_data);
  /* what still hangs ends here: the clients see the connection close */
  soup_server_disconnect (ms->server);
  g_clear_object (&ms->server);
  while (g_main_context_iteration (ms->context, FALSE));
  g_main_context_pop_thread_default (ms->context);
  return NULL;
}

MockServer *
mock_server_new (const gchar * name, const gchar * pem_file,
    MockServerSetupFunc setup, MockServerAcceptFunc accept,
    MockServerStopFunc stop, gpointer user_data)
{
  MockServer *ms = g_new0 (MockServer, 1);
  GError *err = NULL;

  ms->name = g_strdup (name);
  if (pem_file) {
    ms->certificate = g_tls_certificate_new_from_file (pem_file, &err);
    if (!ms->certificate)
      g_error ("%s: %s: %s", name, pem_file, err->message);
  }
  ms->setup = setup;
  ms->accept = accept;
  ms->stop = stop;
  ms->user_data = user_data;
  g_mutex_init (&ms->lock);
  g_cond_init (&ms->cond);
  ms->context = g_main_context_new ();
  ms->loop = g_main_loop_new (ms->context, FALSE);
  ms->thread = g_thread_new (name, server_thread, ms);

  g_mutex_lock (&ms->lock);
  while (!ms->ready)
    g_cond_wait (&ms->cond, &ms->lock);
  g_mutex_unlock (&ms->lock);
  return ms;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

void
mock_server_free (MockServer * ms)
{
  GSource *source;

  if (!ms)
    return;
  /* From inside the loop: a quit before the thread reaches
   * g_main_loop_run() would be lost */
  source = g_idle_source_new ();
  g_source_set_callback (source, quit_cb, ms->loop, NULL);
  g_source_attach (source, ms->context);
  g_source_unref (source);
  g_thread_join (ms->thread);
  g_main_loop_unref (ms->loop);
  g_main_context_unref (ms->context);
  g_clear_object (&ms->certificate);
  g_mutex_clear (&ms->lock);
  g_cond_clear (&ms->cond);
  g_free (ms->name);
  g_free (ms);
}

guint
mock_server_port (MockServer * ms)
{
  return ms->port;
}

gboolean
mock_server_is_tls (MockServer * ms)
{
  return ms->certificate != NULL;
}

GMainContext *
mock_server_context (MockServer * ms)
{
  return ms->context;
}
