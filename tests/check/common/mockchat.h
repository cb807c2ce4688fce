/* gst-bidi: a mock OpenAI-compatible chat-completions server for tests
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MOCK_CHAT_H__
#define __MOCK_CHAT_H__

#include <glib.h>

G_BEGIN_DECLS

/* A SoupServer on 127.0.0.1 (port chosen by the system) that runs in its
 * own thread with its own GMainContext. Every POST .../chat/completions
 * is recorded and answered with the next scripted response, in order;
 * with none left it answers HTTP 500. Streamed answers are
 * text/event-stream, chunked, one "data: {chat.completion.chunk}\n\n" per
 * chunk, then a chunk with finish_reason, an optional usage chunk and
 * "data: [DONE]\n\n". All functions are thread safe. */
typedef struct _MockChat MockChat;

MockChat *mock_chat_new (void);
/* The same over TLS: @pem_file holds the server's certificate and private
 * key; the URL is then "https://127.0.0.1:PORT/v1". */
MockChat *mock_chat_new_tls (const gchar * pem_file);
/* "http://127.0.0.1:PORT/v1" */
const gchar *mock_chat_url (MockChat * mock);
void mock_chat_free (MockChat * mock);

/* Scripted responses, used in the order pushed */

/* @text streamed in @n_chunks pieces (split on characters),
 * @chunk_delay_ms apart; usage chunk when @prompt_tokens >= 0. */
void mock_chat_push_text (MockChat * mock, const gchar * text, guint n_chunks,
    guint chunk_delay_ms, gint prompt_tokens, gint completion_tokens);
/* One tool call: the first chunk has the id and name, the arguments
 * @args_json follow in @n_chunks pieces; finish_reason "tool_calls". */
void mock_chat_push_tool_call (MockChat * mock, const gchar * id,
    const gchar * name, const gchar * args_json, guint n_chunks);
/* HTTP @http_status with @body (application/json when it starts with
 * '{', text/plain otherwise). */
void mock_chat_push_error (MockChat * mock, guint http_status,
    const gchar * body);
/* HTTP 200, text/event-stream, @raw_sse as the whole body. */
void mock_chat_push_malformed (MockChat * mock, const gchar * raw_sse);
/* HTTP 200, application/json, @json as the whole body (a server that does
 * not stream). */
void mock_chat_push_json (MockChat * mock, const gchar * json);
/* HTTP 200, text/event-stream headers and a comment line, then nothing
 * until the client goes away or the mock is freed. */
void mock_chat_push_hang (MockChat * mock);

/* Recorded requests, in arrival order */
guint mock_chat_n_requests (MockChat * mock);
/* The JSON body of request @i (free with g_free), NULL if none. */
gchar *mock_chat_get_request (MockChat * mock, guint i);
/* The path of request @i, e.g. "/v1/chat/completions". */
gchar *mock_chat_get_path (MockChat * mock, guint i);
/* Header @name (case-insensitive) of request @i, NULL when absent. */
gchar *mock_chat_get_header (MockChat * mock, guint i, const gchar * name);
/* Waits until at least @n requests arrived; FALSE on timeout. */
gboolean mock_chat_wait_requests (MockChat * mock, guint n, guint timeout_ms);
/* How many responses were completely written (the last chunk sent). */
guint mock_chat_n_completed (MockChat * mock);

G_END_DECLS

#endif /* __MOCK_CHAT_H__ */
