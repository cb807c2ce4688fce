/* gst-bidi: a mock Amazon Bedrock server for the Nova Sonic provider's
 * tests: InvokeModelWithBidirectionalStream over HTTP/2 and TLS
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MOCK_BEDROCK_H__
#define __MOCK_BEDROCK_H__

#include <glib.h>

G_BEGIN_DECLS

/* An HTTP/2 server over TLS (mockh2.h) on 127.0.0.1, with a certificate
 * made at test time, that answers POST
 * /model/<model id encoded once>/invoke-with-bidirectional-stream as
 * Bedrock does (docs/protocols/nova-sonic.md). All functions are thread
 * safe.
 *
 * Connections: every request is a "connection" (one HTTP/2 stream),
 * numbered from 0 in arrival order, refused ones included. Each takes the
 * next entry of a queue filled by mock_bedrock_push_script() and
 * mock_bedrock_push_reject(): a script runs on the accepted stream, a
 * rejection answers with an HTTP status and a JSON body
 * {"message": ...} (and x-amzn-errortype). With the queue empty, a
 * connection gets the default script: wait for the system prompt's
 * contentEnd, then record what comes.
 *
 * Credentials (mock_bedrock_set_credentials(); the defaults are
 * MOCK_BEDROCK_ACCESS_KEY, MOCK_BEDROCK_SECRET_KEY, no session token,
 * MOCK_BEDROCK_REGION): the request's SigV4 signature is verified from
 * the headers it lists in SignedHeaders (which must include :authority or
 * host, content-type, x-amz-content-sha256 and x-amz-date, and
 * x-amz-security-token when a session token is set), with the payload hash
 * STREAMING-AWS4-HMAC-SHA256-EVENTS and the service "bedrock". A request
 * whose signature or key id does not match is answered 403 with the
 * service's message ("The request signature we calculated does not match
 * the signature you provided..." or "The security token included in the
 * request is invalid."), as the real service does; its script does not
 * run.
 *
 * Recording: the request path, the request headers, and every client
 * event in order. Every client frame is checked, and every breach is
 * recorded as a "violation" string:
 * - the framing: event-stream messages with valid CRCs, each outer
 *   message with :date (timestamp) and :chunk-signature (32 bytes) whose
 *   signature chains from the previous one (the request's signature
 *   first), the last one empty and followed by END_STREAM, nothing after
 *   it; each payload a Bedrock chunk (:event-type chunk, :message-type
 *   event, :content-type application/json, {"bytes": base64}) holding
 *   one JSON object {"event": {"<name>": {...}}};
 * - the Nova order (§7): sessionStart first (inferenceConfiguration),
 *   then promptStart (promptName, audioOutputConfiguration with
 *   sampleRateHertz, voiceId; toolConfiguration tools with toolSpec name,
 *   inputSchema.json a string holding a JSON object), then exactly one
 *   SYSTEM text block, then history blocks (interactive false, roles USER
 *   or ASSISTANT, the first USER), then the rest; every contentStart with
 *   a new contentName, every textInput, audioInput and toolResult inside
 *   an open block of the right type with the prompt's promptName;
 *   audioInput of valid base64 of whole 16-bit samples in the AUDIO
 *   block (16 kHz); at most one AUDIO block open; a TOOL block's
 *   toolUseId of a toolUse the mock sent and not answered before, its
 *   toolResult content a non-empty string; at the end contentEnd of the
 *   audio block (when open), promptEnd, sessionEnd, in that order, and
 *   nothing after sessionEnd but the empty frame. The event
 *   `connectionEnd` (what the Python reference sends) is a violation.
 * A script step that cannot run (a wait that timed out, a send on a
 * closed stream) is recorded as a "failure" string and ends that
 * connection's script. */
typedef struct _MockBedrock MockBedrock;
typedef struct _MockBedrockScript MockBedrockScript;

#define MOCK_BEDROCK_ACCESS_KEY "AKIDEXAMPLEMOCKONLY"
#define MOCK_BEDROCK_SECRET_KEY "mock-secret-not-a-real-key-0123456789"
#define MOCK_BEDROCK_REGION "us-east-1"
#define MOCK_BEDROCK_ANY_CONNECTION ((guint) -1)

/* ------------------------------------------------------------------------
 * Server
 * ------------------------------------------------------------------------ */

MockBedrock *mock_bedrock_new (void);
/* "https://127.0.0.1:PORT", the endpoint (no path) */
const gchar *mock_bedrock_url (MockBedrock * mock);
/* The PEM file of the mock's certificate, for ssl-ca-file */
const gchar *mock_bedrock_ca_file (MockBedrock * mock);
/* Resets the open streams, stops the thread, frees all */
void mock_bedrock_free (MockBedrock * mock);
/* The credentials requests must be signed with (@session_token nullable) */
void mock_bedrock_set_credentials (MockBedrock * mock,
    const gchar * access_key, const gchar * secret_key,
    const gchar * session_token, const gchar * region);
/* Queues @script (transfer full) for the next connection */
void mock_bedrock_push_script (MockBedrock * mock,
    MockBedrockScript * script);
/* The next connection is answered with HTTP @http_status, the error type
 * @error_type (x-amzn-errortype, nullable) and {"message": @message} */
void mock_bedrock_push_reject (MockBedrock * mock, guint http_status,
    const gchar * error_type, const gchar * message);
/* Appends the steps of @script (transfer full) to the script of the open
 * connection @conn, as mock_gemini_run() does */
void mock_bedrock_run (MockBedrock * mock, guint conn,
    MockBedrockScript * script);

/* ------------------------------------------------------------------------
 * Scripts: build them in the test thread, then push or run them. The
 * response's headers (200, application/vnd.amazon.eventstream) go before
 * the first thing a script sends.
 * ------------------------------------------------------------------------ */

MockBedrockScript *mock_bedrock_script_new (void);
void mock_bedrock_script_free (MockBedrockScript * script);
/* Sends the Nova event @json ({"event": {...}}; a critical warning when
 * it is not a JSON object) as a chunk. sessionId, promptName (the
 * client's) and completionId are added to the inner object when it has
 * none. */
void mock_bedrock_script_send (MockBedrockScript * script,
    const gchar * json);
void mock_bedrock_script_send_printf (MockBedrockScript * script,
    const gchar * format, ...) G_GNUC_PRINTF (2, 3);
/* @size bytes of @data as they are, on the response body (not
 * necessarily an event-stream message) */
void mock_bedrock_script_send_raw (MockBedrockScript * script,
    gconstpointer data, gsize size);
/* An exception message (:message-type exception, :exception-type @type,
 * payload {"message": @message}), then the end of the response, as the
 * service ends a stream. Must be the last step. */
void mock_bedrock_script_exception (MockBedrockScript * script,
    const gchar * type, const gchar * message);
/* Waits until @count (0 counts as 1) client events named @kind arrived
 * since the event that ended the previous wait step. @kind is an event
 * name ("sessionStart", "promptStart", "contentStart", "textInput",
 * "audioInput", "toolResult", "contentEnd", "promptEnd", "sessionEnd"),
 * "contentStart.<TYPE>" ("contentStart.AUDIO", ".TEXT", ".TOOL"), or
 * "end" (the signed empty frame). A failure after @timeout_ms. */
void mock_bedrock_script_wait (MockBedrockScript * script, const gchar * kind,
    guint count, guint timeout_ms);
void mock_bedrock_script_sleep (MockBedrockScript * script, guint ms);
/* One user turn's transcript: a USER TEXT block (generationStage FINAL)
 * with @text */
void mock_bedrock_script_user_text (MockBedrockScript * script,
    const gchar * text);
/* One assistant sentence as Nova speaks it: a SPECULATIVE TEXT block with
 * @text, an AUDIO block with @pcm (S16LE 24 kHz mono, copied) in
 * audioOutput events of @chunk_ms each (paced in real time when @paced),
 * then a FINAL TEXT block with @text, the last two ending with
 * stopReason END_TURN when @end_turn, else PARTIAL_TURN. */
void mock_bedrock_script_say (MockBedrockScript * script, const gchar * text,
    gconstpointer pcm, gsize size, guint chunk_ms, gboolean paced,
    gboolean end_turn);
/* The barge-in of §9: a FINAL ASSISTANT TEXT block whose textOutput is
 * { "interrupted" : true }, ending with stopReason INTERRUPTED */
void mock_bedrock_script_interrupted (MockBedrockScript * script);
/* A TOOL block with a toolUse of @id, @name and @args_json (a JSON
 * object, sent as a string), ending with stopReason TOOL_USE; remembered
 * for the toolResult checks */
void mock_bedrock_script_tool_use (MockBedrockScript * script,
    const gchar * id, const gchar * name, const gchar * args_json);
/* A usageEvent with these delta figures; the totals are the running sums
 * of the connection (cumulative, as the service sends them) */
void mock_bedrock_script_usage (MockBedrockScript * script,
    guint input_speech, guint input_text, guint output_speech,
    guint output_text);
/* Ends the response cleanly (END_STREAM). Must be the last step. */
void mock_bedrock_script_end (MockBedrockScript * script);
/* Resets the stream (RST_STREAM INTERNAL_ERROR). Must be the last step. */
void mock_bedrock_script_reset (MockBedrockScript * script);
/* Closes the TCP connection without a word. Must be the last step. */
void mock_bedrock_script_drop (MockBedrockScript * script);
/* Nothing is sent or answered from then on (HTTP/2 PINGs included) while
 * the socket stays open. Must be the last step. */
void mock_bedrock_script_stall (MockBedrockScript * script);

/* The golden exchange of the protocol notes (§15): wait for the system
 * prompt's contentEnd; wait one audioInput; completionStart; the user's
 * transcript MOCK_BEDROCK_GOLDEN_USER_TRANSCRIPT; a usage event; then the
 * answer MOCK_BEDROCK_GOLDEN_ASSISTANT_TRANSCRIPT said with @pcm (S16LE 24
 * kHz mono) in chunks of MOCK_BEDROCK_GOLDEN_CHUNK_MS, ending the turn;
 * then a usage event with the output figures below. Waits time out after
 * MOCK_BEDROCK_GOLDEN_TIMEOUT_MS. */
void mock_bedrock_script_add_golden (MockBedrockScript * script,
    gconstpointer pcm, gsize size);
#define MOCK_BEDROCK_GOLDEN_TIMEOUT_MS 20000
#define MOCK_BEDROCK_GOLDEN_CHUNK_MS 100
#define MOCK_BEDROCK_GOLDEN_USER_TRANSCRIPT "tell me a story"
#define MOCK_BEDROCK_GOLDEN_ASSISTANT_TRANSCRIPT \
    "Once upon a time, a fox found a key."
#define MOCK_BEDROCK_GOLDEN_INPUT_SPEECH_TOKENS 150
#define MOCK_BEDROCK_GOLDEN_INPUT_TEXT_TOKENS 22
#define MOCK_BEDROCK_GOLDEN_OUTPUT_SPEECH_TOKENS 90
#define MOCK_BEDROCK_GOLDEN_OUTPUT_TEXT_TOKENS 12

/* ------------------------------------------------------------------------
 * Queries, as in mockgemini.h. @conn is a connection number, or
 * MOCK_BEDROCK_ANY_CONNECTION where stated. Waits return FALSE (or NULL)
 * on timeout. Strings are newly allocated (g_free).
 * ------------------------------------------------------------------------ */

guint mock_bedrock_n_connections (MockBedrock * mock);
gboolean mock_bedrock_wait_connections (MockBedrock * mock, guint n,
    guint timeout_ms);
/* The request's :path */
gchar *mock_bedrock_get_path (MockBedrock * mock, guint conn);
/* Request header @name (lower-case, pseudo-headers included) */
gchar *mock_bedrock_get_header (MockBedrock * mock, guint conn,
    const gchar * name);
/* The status answered (200, or a rejection's), 0 if no such conn */
guint mock_bedrock_get_status (MockBedrock * mock, guint conn);
/* Waits until the stream of @conn is over (both sides ended, reset, or
 * its connection gone) */
gboolean mock_bedrock_wait_closed (MockBedrock * mock, guint conn,
    guint timeout_ms);
/* Whether the client ended its body with the signed empty frame and
 * END_STREAM */
gboolean mock_bedrock_client_ended (MockBedrock * mock, guint conn);
gboolean mock_bedrock_wait_script_done (MockBedrock * mock, guint conn,
    guint timeout_ms);
/* Client events of @conn, in order: the JSON text of event @i */
guint mock_bedrock_n_events (MockBedrock * mock, guint conn);
gchar *mock_bedrock_get_event (MockBedrock * mock, guint conn, guint i);
/* Client events of @kind (as for mock_bedrock_script_wait; @conn may be
 * ANY) */
guint mock_bedrock_count_events (MockBedrock * mock, guint conn,
    const gchar * kind);
/* Waits for the client event of @kind number @index (from 0; over all
 * connections in order for ANY) and returns its JSON text */
gchar *mock_bedrock_wait_event (MockBedrock * mock, guint conn,
    const gchar * kind, guint index, guint timeout_ms);
/* Input audio: the decoded bytes of every audioInput (@conn may be ANY) */
gsize mock_bedrock_get_audio_bytes (MockBedrock * mock, guint conn);
gboolean mock_bedrock_wait_audio_bytes (MockBedrock * mock, guint conn,
    gsize n_bytes, guint timeout_ms);
GBytes *mock_bedrock_get_audio (MockBedrock * mock, guint conn);
/* Violations and failures, each a line; "" when there are none */
guint mock_bedrock_n_violations (MockBedrock * mock);
gchar *mock_bedrock_get_violations (MockBedrock * mock);
guint mock_bedrock_n_failures (MockBedrock * mock);
gchar *mock_bedrock_get_failures (MockBedrock * mock);

/* Long runs (benchmarks), as in mockgemini.h */
typedef void (*MockBedrockAudioSentFunc) (guint conn, gconstpointer pcm,
    gsize size, gint64 sent_us, gpointer user_data);
void mock_bedrock_set_audio_sent_func (MockBedrock * mock,
    MockBedrockAudioSentFunc func, gpointer user_data);
void mock_bedrock_set_keep_audio (MockBedrock * mock, gboolean keep);

G_END_DECLS

#endif /* __MOCK_BEDROCK_H__ */
