/* gst-bidi: the HTTP server under the mock servers of the tests
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MOCK_SERVER_H__
#define __MOCK_SERVER_H__

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* A SoupServer on 127.0.0.1 (port chosen by the system), over TLS when
 * given a PEM file with a certificate and its key, running in a thread of
 * its own with its own GMainContext (thread-default there). The hooks run
 * on that thread with @user_data. */
typedef struct _MockServer MockServer;

/* Before it listens: add the handlers */
typedef void (*MockServerSetupFunc) (SoupServer * server, gpointer user_data);
/* Each accepted TCP connection, before libsoup gets it */
typedef void (*MockServerAcceptFunc) (GSocketConnection * conn,
    gpointer user_data);
/* When it stops, before it drops the clients that are left */
typedef void (*MockServerStopFunc) (gpointer user_data);

/* @name names the thread and the server header. Returns once listening. */
MockServer *mock_server_new (const gchar * name, const gchar * pem_file,
    MockServerSetupFunc setup, MockServerAcceptFunc accept,
    MockServerStopFunc stop, gpointer user_data);
/* Stops the thread (calling the stop hook there) and frees everything */
void mock_server_free (MockServer * server);

guint mock_server_port (MockServer * server);
gboolean mock_server_is_tls (MockServer * server);
/* The server thread's context, to attach sources or invoke there */
GMainContext *mock_server_context (MockServer * server);

G_END_DECLS

#endif /* __MOCK_SERVER_H__ */
