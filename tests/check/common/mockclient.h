/* gst-bidi: a plain libsoup WebSocket client for the self-tests of the
 * mock servers, and JSON look-ups for what it receives
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MOCK_CLIENT_H__
#define __MOCK_CLIENT_H__

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* How long the client's waits last (they fail the test after it) */
#define MOCK_CLIENT_WAIT_MS 10000

/* A frame the client received */
typedef struct
{
  gint type;                    /* SoupWebsocketDataType */
  GBytes *data;
  gint64 time;                  /* monotonic, µs */
  JsonNode *json;               /* NULL when not a JSON object */
} MockClientFrame;

/* A WebSocket client with its own main context, thread-default in the
 * test's thread from mock_client_init () to mock_client_clear () */
typedef struct
{
  GMainContext *ctx;
  SoupSession *session;
  SoupMessage *msg;
  SoupWebsocketConnection *ws;
  GError *error;
  gboolean connect_done;
  gboolean closed;
  GPtrArray *received;          /* MockClientFrame * */
  gboolean accept_any_certificate;
  gboolean parse_binary;        /* binary frames are JSON too */
} MockClient;

void mock_client_init (MockClient * c);
void mock_client_clear (MockClient * c);
/* Iterates the client's context until @done or @timeout_ms */
gboolean mock_client_iterate (MockClient * c,
    gboolean (*done) (MockClient *, gpointer), gpointer data,
    guint timeout_ms);
/* Connects to @url with the headers in @headers (name, value, ..., NULL);
 * TRUE when the WebSocket is open */
gboolean mock_client_connect (MockClient * c, const gchar * url,
    const gchar * const *headers);
/* Closes (code 1000) when open, waits until closed, forgets the socket */
void mock_client_close (MockClient * c);
void mock_client_send (MockClient * c, const gchar * text);
/* For mock_client_iterate (): closed; @data (a guint) frames received;
 * never (to let the context run a while) */
gboolean mock_client_is_closed (MockClient * c, gpointer data);
gboolean mock_client_has_n (MockClient * c, gpointer data);
gboolean mock_client_nothing (MockClient * c, gpointer data);

/* A member by a dotted path, NULL when absent; a string or an integer
 * there (fails the test when absent) */
JsonNode *mock_json_get (JsonNode * root, const gchar * path);
const gchar *mock_json_str (JsonNode * root, const gchar * path);
gint64 mock_json_int (JsonNode * root, const gchar * path);

G_END_DECLS

#endif /* __MOCK_CLIENT_H__ */
