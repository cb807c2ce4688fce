/* gst-bidi: a mock OpenAI Realtime (GA protocol) WebSocket server for tests
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MOCK_REALTIME_H__
#define __MOCK_REALTIME_H__

#include <glib.h>

G_BEGIN_DECLS

/* A SoupServer on 127.0.0.1 (port chosen by the system) that runs in its
 * own thread with its own GMainContext and accepts WebSocket upgrades on
 * /v1/realtime (permessage-deflate is not offered, so every frame travels
 * as sent). All functions are thread safe.
 *
 * Connections: every upgrade request on /v1/realtime is a "connection",
 * numbered from 0 in arrival order, rejected ones included. Each takes the
 * next entry of a queue filled by mock_realtime_push_script() and
 * mock_realtime_push_reject(): a script runs on the accepted WebSocket, a
 * rejection answers the upgrade with an HTTP status and body. With the
 * queue empty the connection is accepted with an empty script (nothing is
 * sent, everything received is recorded). When a script has run its last
 * step the WebSocket stays open until the client closes it or the mock is
 * freed.
 *
 * Recording: the request path and query, all request headers, and every
 * frame the client sent, in order (text frames are kept raw and parsed as
 * JSON). Every client event is checked against the GA protocol (known
 * client event types only, required members with the right JSON types, no
 * beta-only names or session fields, valid base64 of whole S16LE frames in
 * input_audio_buffer.append, no audio before the first session.update,
 * conversation.item.truncate within the audio the mock sent for that item,
 * ...); every breach is recorded as a "violation" string. A script step
 * that cannot run (a wait that timed out, a send on a closed socket) is
 * recorded as a "failure" string and ends that connection's script.
 *
 * Server events sent by a script get a unique "event_id" when their JSON
 * has none. The WebSocket accepts client frames of up to 64 MiB. */
typedef struct _MockRealtime MockRealtime;

/* A list of steps, run in order on one connection */
typedef struct _MockRealtimeScript MockRealtimeScript;

/* Any connection, for the query functions taking @conn */
#define MOCK_REALTIME_ANY_CONNECTION ((guint) -1)

/* ------------------------------------------------------------------------
 * Server
 * ------------------------------------------------------------------------ */

MockRealtime *mock_realtime_new (void);
/* The same over TLS: @pem_file holds the server's certificate and private
 * key; the URL is then "wss://127.0.0.1:PORT/v1/realtime". */
MockRealtime *mock_realtime_new_tls (const gchar * pem_file);
/* "ws://127.0.0.1:PORT/v1/realtime" */
const gchar *mock_realtime_url (MockRealtime * mock);
/* Closes the open WebSockets (code 1001), stops the thread, frees all */
void mock_realtime_free (MockRealtime * mock);

/* Queues @script (transfer full) for the next connection */
void mock_realtime_push_script (MockRealtime * mock,
    MockRealtimeScript * script);
/* The next connection is answered with HTTP @http_status and @body
 * (application/json when it starts with '{', text/plain otherwise) instead
 * of the upgrade. */
void mock_realtime_push_reject (MockRealtime * mock, guint http_status,
    const gchar * body);
/* Appends the steps of @script (transfer full) to the script of the open
 * connection @conn: they run after the steps still pending there, at once
 * when none are. Recorded as a failure when @conn is not open. */
void mock_realtime_run (MockRealtime * mock, guint conn,
    MockRealtimeScript * script);

/* ------------------------------------------------------------------------
 * Scripts: build them in the test thread, then push or run them
 * ------------------------------------------------------------------------ */

MockRealtimeScript *mock_realtime_script_new (void);
void mock_realtime_script_free (MockRealtimeScript * script);

/* Sends the server event @json, a JSON object with a "type" (a critical
 * warning when it is not); "event_id" is added when missing. */
void mock_realtime_script_send (MockRealtimeScript * script,
    const gchar * json);
void mock_realtime_script_send_printf (MockRealtimeScript * script,
    const gchar * format, ...) G_GNUC_PRINTF (2, 3);
/* Sends "session.updated" with the effective session: the last session
 * the mock sent (in session.created / session.updated) with the members of
 * the client's last session.update merged in, objects recursively. */
void mock_realtime_script_send_session_updated (MockRealtimeScript * script);
/* Waits until @count (0 counts as 1) client events of @type arrived since
 * the event that ended the previous wait step (since the connection opened
 * for the first one). A failure after @timeout_ms. */
void mock_realtime_script_wait (MockRealtimeScript * script,
    const gchar * type, guint count, guint timeout_ms);
void mock_realtime_script_sleep (MockRealtimeScript * script, guint ms);
/* A text frame with @text as it is (valid UTF-8, not necessarily JSON) */
void mock_realtime_script_send_raw (MockRealtimeScript * script,
    const gchar * text);
/* A binary frame */
void mock_realtime_script_send_binary (MockRealtimeScript * script,
    gconstpointer data, gsize size);
/* The server event @json padded with a "mock_padding" string member so
 * that the text frame is exactly @frame_size bytes (or as small as
 * possible); the padding does not compress. */
void mock_realtime_script_send_padded (MockRealtimeScript * script,
    const gchar * json, gsize frame_size);
/* @pcm (S16LE, 24 kHz, mono; copied) as response.output_audio.delta events
 * of @chunk_ms each (0: one event), with these ids. @paced sends them in
 * real time (the first at once, the next one @chunk_ms later, ...; the
 * step ends with the last one), otherwise all at once. */
void mock_realtime_script_send_audio (MockRealtimeScript * script,
    gconstpointer pcm, gsize size, guint chunk_ms, gboolean paced,
    const gchar * response_id, const gchar * item_id, guint output_index,
    guint content_index);
/* A close frame with @code and @reason (may be NULL); the close handshake
 * then completes as usual. Must be the last step. */
void mock_realtime_script_close (MockRealtimeScript * script, guint16 code,
    const gchar * reason);
/* Shuts the TCP connection down without a close frame. Must be the last
 * step. */
void mock_realtime_script_drop (MockRealtimeScript * script);
/* A server that hangs: from this step on nothing is sent, no further step
 * runs (the script is never done), and the socket stays open; the
 * client's frames are still recorded (and libsoup still answers pings,
 * which a libsoup 3.2 client cannot see anyway). Until the client closes
 * or the mock is freed. Must be the last step. */
void mock_realtime_script_stall (MockRealtimeScript * script);
/* A server that hangs and stops reading too: from this step on nothing is
 * sent and nothing the client sends is read (or recorded); TCP takes it
 * until the server's receive window closes, then it piles up on the
 * client's side. Pings are not answered. The client sees the connection
 * end only when the mock is freed. Must be the last step. */
void mock_realtime_script_freeze (MockRealtimeScript * script);

/* The golden exchange of the protocol notes (§11), one spoken turn:
 * session.created; wait session.update; session.updated (the effective
 * session); wait one input_audio_buffer.append; speech_started,
 * speech_stopped, committed, conversation.item.added / .done (the user
 * item); response.created, rate_limits.updated, the user transcription
 * delta, output_item.added, conversation.item.added (assistant),
 * content_part.added; then transcript deltas interleaved with
 * response.output_audio.delta events of @pcm (S16LE 24 kHz mono, 100 ms
 * each, sent as fast as possible), the second user transcription delta
 * and .completed after the first audio; output_audio.done,
 * output_audio_transcript.done, content_part.done, output_item.done,
 * conversation.item.done, response.done (status "completed", the usage
 * below). Waits time out after MOCK_REALTIME_GOLDEN_TIMEOUT_MS. */
void mock_realtime_script_add_golden (MockRealtimeScript * script,
    gconstpointer pcm, gsize size);

#define MOCK_REALTIME_GOLDEN_TIMEOUT_MS 20000
#define MOCK_REALTIME_GOLDEN_SESSION_ID "sess_001"
#define MOCK_REALTIME_GOLDEN_USER_ITEM "item_U1"
#define MOCK_REALTIME_GOLDEN_ASSISTANT_ITEM "item_A1"
#define MOCK_REALTIME_GOLDEN_RESPONSE_ID "resp_1"
/* streamed as "Tell me a" and " story." */
#define MOCK_REALTIME_GOLDEN_USER_TRANSCRIPT "Tell me a story."
/* streamed word by word, the spaces kept ("Sure! ", "Once ", ...) */
#define MOCK_REALTIME_GOLDEN_ASSISTANT_TRANSCRIPT \
    "Sure! Once upon a time there was a fox."
#define MOCK_REALTIME_GOLDEN_CHUNK_MS 100
/* response.done usage */
#define MOCK_REALTIME_GOLDEN_TOTAL_TOKENS 1123
#define MOCK_REALTIME_GOLDEN_INPUT_TOKENS 987
#define MOCK_REALTIME_GOLDEN_OUTPUT_TOKENS 136
#define MOCK_REALTIME_GOLDEN_INPUT_TEXT_TOKENS 512
#define MOCK_REALTIME_GOLDEN_INPUT_AUDIO_TOKENS 475
#define MOCK_REALTIME_GOLDEN_CACHED_TOKENS 384
#define MOCK_REALTIME_GOLDEN_OUTPUT_TEXT_TOKENS 31
#define MOCK_REALTIME_GOLDEN_OUTPUT_AUDIO_TOKENS 105

/* An answer in two phases, as the gpt-realtime-2 family may speak one:
 * response.created (MOCK_REALTIME_PHASED_RESPONSE_ID), then two assistant
 * message items, each with its "phase": MOCK_REALTIME_PHASED_COMMENTARY_ITEM
 * ("commentary", saying MOCK_REALTIME_PHASED_COMMENTARY over
 * @commentary_pcm) and MOCK_REALTIME_PHASED_FINAL_ITEM ("final_answer",
 * MOCK_REALTIME_PHASED_FINAL over @final_pcm). Each item: output_item.added,
 * conversation.item.added, content_part.added, its transcript in one delta,
 * its audio in deltas of MOCK_REALTIME_GOLDEN_CHUNK_MS (all at once),
 * output_audio.done, output_audio_transcript.done, content_part.done,
 * output_item.done, conversation.item.done. Then response.done
 * ("completed") with the usage below, reasoning tokens included. */
void mock_realtime_script_add_phased_answer (MockRealtimeScript * script,
    gconstpointer commentary_pcm, gsize commentary_size,
    gconstpointer final_pcm, gsize final_size);
/* The same, up to the final answer's audio: its item is never done and
 * the response never ends (a server that goes away in the middle of it) */
void mock_realtime_script_add_phased_answer_start (MockRealtimeScript *
    script, gconstpointer commentary_pcm, gsize commentary_size,
    gconstpointer final_pcm, gsize final_size);

#define MOCK_REALTIME_PHASED_RESPONSE_ID "resp_P"
#define MOCK_REALTIME_PHASED_COMMENTARY_ITEM "item_P1"
#define MOCK_REALTIME_PHASED_FINAL_ITEM "item_P2"
#define MOCK_REALTIME_PHASED_COMMENTARY "Let me check that."
#define MOCK_REALTIME_PHASED_FINAL "It is sunny in Paris today."
#define MOCK_REALTIME_PHASED_TOTAL_TOKENS 680
#define MOCK_REALTIME_PHASED_INPUT_TOKENS 420
#define MOCK_REALTIME_PHASED_OUTPUT_TOKENS 260
#define MOCK_REALTIME_PHASED_OUTPUT_AUDIO_TOKENS 180
#define MOCK_REALTIME_PHASED_REASONING_TOKENS 40

/* ------------------------------------------------------------------------
 * Reasoning (the gpt-realtime-2 family)
 * ------------------------------------------------------------------------ */

/* session.reasoning is always checked for its form ({"effort": one of
 * minimal, low, medium, high, xhigh}) and refused (a violation) on a
 * connection whose model (the request's "model" query parameter) is not of
 * the gpt-realtime-2 family, as the server refuses it. Once this is
 * called, every session.update from then on must also set
 * session.reasoning.effort to @effort, or leave session.reasoning out when
 * @effort is NULL. */
void mock_realtime_expect_reasoning_effort (MockRealtime * mock,
    const gchar * effort);

/* ------------------------------------------------------------------------
 * Queries. @conn is a connection number, or MOCK_REALTIME_ANY_CONNECTION
 * where stated. Waits return FALSE (or NULL) on timeout. Strings are newly
 * allocated (g_free), NULL when there is no such thing.
 * ------------------------------------------------------------------------ */

guint mock_realtime_n_connections (MockRealtime * mock);
gboolean mock_realtime_wait_connections (MockRealtime * mock, guint n,
    guint timeout_ms);
/* The request path and query, e.g. "/v1/realtime?model=gpt-realtime-2" */
gchar *mock_realtime_get_path (MockRealtime * mock, guint conn);
/* One decoded query parameter, e.g. @name "model" */
gchar *mock_realtime_get_query_param (MockRealtime * mock, guint conn,
    const gchar * name);
/* Request header @name (case-insensitive); several values are joined
 * with ", " */
gchar *mock_realtime_get_header (MockRealtime * mock, guint conn,
    const gchar * name);
/* 101 when upgraded, else the HTTP status answered; 0 if no such conn */
guint mock_realtime_get_status (MockRealtime * mock, guint conn);
/* g_get_monotonic_time () when the upgrade request of @conn came; 0 if no
 * such conn */
gint64 mock_realtime_get_request_time (MockRealtime * mock, guint conn);
/* Waits until the WebSocket of @conn is closed (by either side) */
gboolean mock_realtime_wait_closed (MockRealtime * mock, guint conn,
    guint timeout_ms);
/* The code of the client's close frame: -1 while open (or never
 * upgraded), 0 when it closed without a close frame (1005 when the frame
 * had no code) */
gint mock_realtime_get_close_code (MockRealtime * mock, guint conn);
/* Waits until @conn ran every step given to it. FALSE at once when its
 * script was ended by a failure or by the connection closing, and for a
 * rejected connection. */
gboolean mock_realtime_wait_script_done (MockRealtime * mock, guint conn,
    guint timeout_ms);

/* Client frames of @conn, in arrival order */
guint mock_realtime_n_frames (MockRealtime * mock, guint conn);
/* The raw text of frame @i; NULL for a binary frame */
gchar *mock_realtime_get_frame (MockRealtime * mock, guint conn, guint i);
/* Client events of @type (@conn may be ANY) */
guint mock_realtime_count_events (MockRealtime * mock, guint conn,
    const gchar * type);
/* Waits for the client event of @type number @index (from 0; counted
 * over all connections in order for ANY) and returns its raw JSON text */
gchar *mock_realtime_wait_event (MockRealtime * mock, guint conn,
    const gchar * type, guint index, guint timeout_ms);

/* Input audio: the decoded bytes of every input_audio_buffer.append whose
 * audio is valid base64, violation or not (@conn may be ANY) */
gsize mock_realtime_get_audio_bytes (MockRealtime * mock, guint conn);
gboolean mock_realtime_wait_audio_bytes (MockRealtime * mock, guint conn,
    gsize n_bytes, guint timeout_ms);
/* The audio itself, concatenated (g_bytes_unref) */
GBytes *mock_realtime_get_audio (MockRealtime * mock, guint conn);

/* Protocol violations by the client and script failures, each a line;
 * the strings are "" when there are none. */
guint mock_realtime_n_violations (MockRealtime * mock);
gchar *mock_realtime_get_violations (MockRealtime * mock);
guint mock_realtime_n_failures (MockRealtime * mock);
gchar *mock_realtime_get_failures (MockRealtime * mock);

/* ------------------------------------------------------------------------
 * Long runs (benchmarks)
 * ------------------------------------------------------------------------ */

/* Called on the mock's thread after each response.output_audio.delta of a
 * send-audio step was handed to the WebSocket (libsoup writes a frame to
 * the socket at once when the socket can take it): @conn, the PCM of that
 * delta (@size bytes, valid during the call only) and
 * g_get_monotonic_time () read after the send. */
typedef void (*MockRealtimeAudioSentFunc) (guint conn, gconstpointer pcm,
    gsize size, gint64 sent_us, gpointer user_data);

/* Sets (or with NULL removes) the function called for every audio delta
 * sent from then on. */
void mock_realtime_set_audio_sent_func (MockRealtime * mock,
    MockRealtimeAudioSentFunc func, gpointer user_data);

/* TRUE by default. With FALSE, input_audio_buffer.append events received
 * from then on are still checked, but neither their frame nor their audio
 * is kept, so that a long run does not grow: they are missing from
 * mock_realtime_n_frames (), mock_realtime_count_events (), wait steps and
 * mock_realtime_get_audio (); mock_realtime_get_audio_bytes () still counts
 * their audio. */
void mock_realtime_set_keep_audio (MockRealtime * mock, gboolean keep);

/* TRUE by default: connections accepted from then on get TCP_NODELAY on
 * their socket, as production servers usually set, so a small frame is not
 * held back (Nagle's algorithm) until the client has acknowledged the
 * previous one, which on Linux can take up to its 40 ms delayed ACK. */
void mock_realtime_set_tcp_nodelay (MockRealtime * mock, gboolean nodelay);

G_END_DECLS

#endif /* __MOCK_REALTIME_H__ */
