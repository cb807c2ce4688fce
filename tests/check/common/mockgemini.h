/* gst-bidi: a mock Gemini Live (BidiGenerateContent) WebSocket server for
 * tests
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MOCK_GEMINI_H__
#define __MOCK_GEMINI_H__

#include <glib.h>

G_BEGIN_DECLS

/* A SoupServer on 127.0.0.1 (port chosen by the system, see mockserver.h)
 * that accepts WebSocket upgrades on MOCK_GEMINI_PATH, the Developer API's
 * v1beta BidiGenerateContent method. All functions are thread safe.
 *
 * Connections: every upgrade request on the path is a "connection",
 * numbered from 0 in arrival order, rejected ones included. Each takes
 * the next entry of a queue filled by mock_gemini_push_script() and
 * mock_gemini_push_reject(): a script runs on the accepted WebSocket, a
 * rejection answers the upgrade with an HTTP status and body. With the
 * queue empty, a connection gets the default script: wait for `setup`,
 * send `setupComplete`, then record what comes. When a script has run its
 * last step the WebSocket stays open until the client closes it or the
 * mock is freed.
 *
 * The key: the client must send it in the `x-goog-api-key` header (a `key`
 * query parameter is a violation: proxies log URLs). With
 * mock_gemini_set_api_key(), a connection with another key is upgraded,
 * then closed at its first message with code 1007 and the reason the
 * service gives, "API key not valid. Please pass a valid API key.", as
 * the real service does; its script does not run.
 *
 * Recording: the request path and query, the request headers, and every
 * frame the client sent, in order. Every client message is checked against
 * the protocol notes (docs/protocols/gemini-live.md, §§3-4, 11, 12); every
 * breach is recorded as a "violation" string:
 * - text frames only, each one JSON object with exactly one of the
 *   top-level fields `setup`, `clientContent`, `realtimeInput`,
 *   `toolResponse`, `contextUpdate`; field names in lowerCamelCase
 *   (user data excepted: function schemas, call arguments and results);
 * - `setup` first and only once; nothing else before the mock sent
 *   `setupComplete`;
 * - setup: `model` "models/<id>"; generationConfig.responseModalities
 *   ["AUDIO"] or ["TEXT"]; never `enableAffectiveDialog`,
 *   `thinkingConfig`, or `proactivity.proactiveAudio` false (refused by
 *   the current model); tools as functionDeclarations with a valid name,
 *   `behavior` BLOCKING or NON_BLOCKING when present; known fields only;
 * - realtimeInput: one of `audio` (mimeType "audio/pcm;rate=16000", data
 *   valid base64 of whole 16-bit samples), `video` (image/jpeg or
 *   image/png whose data starts with that format's signature), `text`,
 *   `activityStart` / `activityEnd` (only when the setup disabled
 *   automatic activity detection, in order), `audioStreamEnd` (true);
 * - clientContent: `turns` of {role "user" or "model", parts [{text}]},
 *   `turnComplete` boolean;
 * - toolResponse: functionResponses of {id, name, response, scheduling?}:
 *   `id` of a call the mock sent on this connection, not cancelled (by a
 *   toolCallCancellation the mock sent) and not answered before, `name`
 *   that call's name, `response` an object with `output` or `error` that
 *   is not empty or null, `scheduling` SILENT, WHEN_IDLE or INTERRUPT.
 * A script step that cannot run (a wait that timed out, a send on a
 * closed socket) is recorded as a "failure" string and ends that
 * connection's script.
 *
 * Server messages go as binary frames (each one JSON object) unless the
 * script says otherwise, as browsers and the service's SDKs see them. The
 * WebSocket accepts client frames of up to 64 MiB. */
typedef struct _MockGemini MockGemini;

/* A list of steps, run in order on one connection */
typedef struct _MockGeminiScript MockGeminiScript;

#define MOCK_GEMINI_PATH \
  "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"

/* Any connection, for the query functions taking @conn */
#define MOCK_GEMINI_ANY_CONNECTION ((guint) -1)

/* ------------------------------------------------------------------------
 * Server
 * ------------------------------------------------------------------------ */

MockGemini *mock_gemini_new (void);
/* "ws://127.0.0.1:PORT" MOCK_GEMINI_PATH */
const gchar *mock_gemini_url (MockGemini * mock);
/* Closes the open WebSockets (code 1001), stops the thread, frees all */
void mock_gemini_free (MockGemini * mock);

/* The key connections must bring (NULL: any) */
void mock_gemini_set_api_key (MockGemini * mock, const gchar * key);

/* Queues @script (transfer full) for the next connection */
void mock_gemini_push_script (MockGemini * mock, MockGeminiScript * script);
/* The next connection is answered with HTTP @http_status and @body
 * (text/plain) instead of the upgrade. */
void mock_gemini_push_reject (MockGemini * mock, guint http_status,
    const gchar * body);
/* Appends the steps of @script (transfer full) to the script of the open
 * connection @conn: they run after the steps still pending there, at once
 * when none are. Recorded as a failure when @conn is not open. */
void mock_gemini_run (MockGemini * mock, guint conn,
    MockGeminiScript * script);

/* ------------------------------------------------------------------------
 * Scripts: build them in the test thread, then push or run them
 * ------------------------------------------------------------------------ */

MockGeminiScript *mock_gemini_script_new (void);
void mock_gemini_script_free (MockGeminiScript * script);

/* Sends the server message @json (a JSON object: a critical warning when
 * it is not) as a binary frame */
void mock_gemini_script_send (MockGeminiScript * script, const gchar * json);
void mock_gemini_script_send_printf (MockGeminiScript * script,
    const gchar * format, ...) G_GNUC_PRINTF (2, 3);
/* The same as a text frame */
void mock_gemini_script_send_text (MockGeminiScript * script,
    const gchar * json);
/* A frame with @size bytes of @data as they are (not necessarily JSON,
 * not necessarily UTF-8), binary or text (then @data must be UTF-8) */
void mock_gemini_script_send_raw (MockGeminiScript * script,
    gconstpointer data, gsize size, gboolean binary);
/* Waits until @count (0 counts as 1) client messages of @kind arrived
 * since the message that ended the previous wait step (since the
 * connection opened for the first one). @kind is a top-level field
 * ("setup", "clientContent", "realtimeInput", "toolResponse",
 * "contextUpdate"), or "realtimeInput.<member>" for one kind of realtime
 * input ("realtimeInput.audio", ".video", ".text", ".activityStart",
 * ".activityEnd", ".audioStreamEnd"). A failure after @timeout_ms. */
void mock_gemini_script_wait (MockGeminiScript * script, const gchar * kind,
    guint count, guint timeout_ms);
void mock_gemini_script_sleep (MockGeminiScript * script, guint ms);
/* wait "setup", then send {"setupComplete":{}} */
void mock_gemini_script_setup (MockGeminiScript * script, guint timeout_ms);
/* @pcm (S16LE, 24 kHz, mono; copied) as serverContent.modelTurn messages
 * of @chunk_ms each (0: one message), each with one inlineData part
 * (mimeType "audio/pcm;rate=24000"). @paced sends them in real time (the
 * first at once, the next one @chunk_ms later, ...; the step ends with
 * the last one), otherwise all at once. */
void mock_gemini_script_send_audio (MockGeminiScript * script,
    gconstpointer pcm, gsize size, guint chunk_ms, gboolean paced);
/* A toolCall with one function call; remembered for the toolResponse
 * checks. @args_json is a JSON object. */
void mock_gemini_script_send_tool_call (MockGeminiScript * script,
    const gchar * id, const gchar * name, const gchar * args_json);
/* A toolCallCancellation of @id */
void mock_gemini_script_send_tool_cancel (MockGeminiScript * script,
    const gchar * id);
/* A close frame with @code and @reason (may be NULL); the close handshake
 * then completes as usual. Must be the last step. */
void mock_gemini_script_close (MockGeminiScript * script, guint16 code,
    const gchar * reason);
/* Shuts the TCP connection down without a close frame. Must be the last
 * step. */
void mock_gemini_script_drop (MockGeminiScript * script);
/* From this step on nothing is sent, no further step runs and the socket
 * stays open; the client's frames are still recorded. Must be the last
 * step. */
void mock_gemini_script_stall (MockGeminiScript * script);

/* The golden exchange of the protocol notes (§10), one spoken turn:
 * wait `setup`; setupComplete; wait one realtimeInput.audio; the user's
 * inputTranscription "Tell me" and " a story."; then @pcm (S16LE 24 kHz
 * mono) as modelTurn audio of MOCK_GEMINI_GOLDEN_CHUNK_MS each, sent as
 * fast as possible, with an outputTranscription after each of the first
 * chunks carrying the answer word by word (spaces kept); the last audio
 * message also carries the last transcription (a message with two
 * parts); generationComplete; then one message with turnComplete and
 * usageMetadata (the figures below); then sessionResumptionUpdate with
 * MOCK_GEMINI_GOLDEN_HANDLE, resumable. Waits time out after
 * MOCK_GEMINI_GOLDEN_TIMEOUT_MS. */
void mock_gemini_script_add_golden (MockGeminiScript * script,
    gconstpointer pcm, gsize size);

#define MOCK_GEMINI_GOLDEN_TIMEOUT_MS 20000
#define MOCK_GEMINI_GOLDEN_CHUNK_MS 100
#define MOCK_GEMINI_GOLDEN_USER_TRANSCRIPT "Tell me a story."
#define MOCK_GEMINI_GOLDEN_ASSISTANT_TRANSCRIPT \
    "Once upon a time there was a fox."
#define MOCK_GEMINI_GOLDEN_HANDLE "CiRhYmNkLTEyMzQ"
/* usageMetadata of the turn */
#define MOCK_GEMINI_GOLDEN_PROMPT_TOKENS 420
#define MOCK_GEMINI_GOLDEN_RESPONSE_TOKENS 160
#define MOCK_GEMINI_GOLDEN_TOTAL_TOKENS 580
#define MOCK_GEMINI_GOLDEN_PROMPT_TEXT_TOKENS 120
#define MOCK_GEMINI_GOLDEN_PROMPT_AUDIO_TOKENS 300
#define MOCK_GEMINI_GOLDEN_RESPONSE_AUDIO_TOKENS 160

/* ------------------------------------------------------------------------
 * Queries. @conn is a connection number, or MOCK_GEMINI_ANY_CONNECTION
 * where stated. Waits return FALSE (or NULL) on timeout. Strings are newly
 * allocated (g_free), NULL when there is no such thing.
 * ------------------------------------------------------------------------ */

guint mock_gemini_n_connections (MockGemini * mock);
gboolean mock_gemini_wait_connections (MockGemini * mock, guint n,
    guint timeout_ms);
/* The request path and query */
gchar *mock_gemini_get_path (MockGemini * mock, guint conn);
/* Request header @name (case-insensitive); several values are joined
 * with ", " */
gchar *mock_gemini_get_header (MockGemini * mock, guint conn,
    const gchar * name);
/* 101 when upgraded, else the HTTP status answered; 0 if no such conn */
guint mock_gemini_get_status (MockGemini * mock, guint conn);
/* Waits until the WebSocket of @conn is closed (by either side) */
gboolean mock_gemini_wait_closed (MockGemini * mock, guint conn,
    guint timeout_ms);
/* The code of the client's close frame: -1 while open (or never
 * upgraded), 0 when it closed without a close frame (1005 when the frame
 * had no code) */
gint mock_gemini_get_close_code (MockGemini * mock, guint conn);
/* Waits until @conn ran every step given to it. FALSE at once when its
 * script was ended by a failure or by the connection closing, and for a
 * rejected connection. */
gboolean mock_gemini_wait_script_done (MockGemini * mock, guint conn,
    guint timeout_ms);

/* Client frames of @conn, in arrival order; the raw text of frame @i
 * (NULL for a binary frame) */
guint mock_gemini_n_frames (MockGemini * mock, guint conn);
gchar *mock_gemini_get_frame (MockGemini * mock, guint conn, guint i);
/* Client messages of @kind (as for mock_gemini_script_wait; @conn may be
 * ANY) */
guint mock_gemini_count_messages (MockGemini * mock, guint conn,
    const gchar * kind);
/* Waits for the client message of @kind number @index (from 0; counted
 * over all connections in order for ANY) and returns its raw JSON text */
gchar *mock_gemini_wait_message (MockGemini * mock, guint conn,
    const gchar * kind, guint index, guint timeout_ms);

/* Input audio: the decoded bytes of every realtimeInput.audio whose data
 * is valid base64, violation or not (@conn may be ANY) */
gsize mock_gemini_get_audio_bytes (MockGemini * mock, guint conn);
gboolean mock_gemini_wait_audio_bytes (MockGemini * mock, guint conn,
    gsize n_bytes, guint timeout_ms);
/* The audio itself, concatenated (g_bytes_unref) */
GBytes *mock_gemini_get_audio (MockGemini * mock, guint conn);

/* Protocol violations by the client and script failures, each a line;
 * the strings are "" when there are none. */
guint mock_gemini_n_violations (MockGemini * mock);
gchar *mock_gemini_get_violations (MockGemini * mock);
guint mock_gemini_n_failures (MockGemini * mock);
gchar *mock_gemini_get_failures (MockGemini * mock);

/* ------------------------------------------------------------------------
 * Long runs (benchmarks), as in mockrealtime.h
 * ------------------------------------------------------------------------ */

/* Called on the mock's thread after each modelTurn audio message of a
 * send-audio step was handed to the WebSocket: @conn, the PCM of that
 * message (@size bytes, valid during the call only) and
 * g_get_monotonic_time () read after the send. */
typedef void (*MockGeminiAudioSentFunc) (guint conn, gconstpointer pcm,
    gsize size, gint64 sent_us, gpointer user_data);
void mock_gemini_set_audio_sent_func (MockGemini * mock,
    MockGeminiAudioSentFunc func, gpointer user_data);
/* TRUE by default. With FALSE, realtimeInput.audio messages received from
 * then on are still checked, but neither their frame nor their audio is
 * kept (mock_gemini_get_audio_bytes () still counts them). */
void mock_gemini_set_keep_audio (MockGemini * mock, gboolean keep);
/* TRUE by default: accepted sockets get TCP_NODELAY */
void mock_gemini_set_tcp_nodelay (MockGemini * mock, gboolean nodelay);

G_END_DECLS

#endif /* __MOCK_GEMINI_H__ */
