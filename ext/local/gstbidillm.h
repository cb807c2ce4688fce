/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_LLM_H__
#define __GST_BIDI_LLM_H__

#include <gst/gst.h>
#include <gst/bidi/gstbidihistory.h>

G_BEGIN_DECLS

/* A client of an OpenAI-compatible chat-completions server (llama.cpp's
 * server, Ollama, vLLM ...), used by the local provider's LLM responder.
 *
 * It sends the conversation (system prompt, user turns, assistant answers,
 * tool calls and their results) in the chat form and streams each answer
 * with Server-Sent Events: POST {base_url}/chat/completions with
 * "stream": true and the tools. Everything happens on the thread whose
 * thread-default GMainContext was current when gst_bidi_llm_new() was
 * called (the provider's network thread); callbacks run there too. */

typedef struct _GstBidiLlm GstBidiLlm;

typedef struct
{
  /* A piece of the answer's text, in order. */
  void (*text) (const gchar * delta, gpointer user_data);
  /* The model asks for a tool; @args_json is the arguments object as JSON
   * text. Called once per call, when the call is complete. */
  void (*tool_call) (const gchar * id, const gchar * name,
      const gchar * args_json, gpointer user_data);
  /* The answer ended. @finish_reason: "stop", "length", "tool_calls" (then
   * add each result with gst_bidi_llm_add_tool_result and call
   * gst_bidi_llm_request again), or "cancelled". Whenever tool_call was
   * called the reason is "tool_calls", even if the server said "stop"
   * (some do). Token counts are -1 when the server did not report usage.
   * A new request may be started from this callback. */
  void (*done) (const gchar * finish_reason, gint prompt_tokens,
      gint completion_tokens, gpointer user_data);
  /* The request failed (connection, HTTP status, malformed stream). No
   * other callback follows. The message never contains the API key. */
  void (*error) (const GError * error, gpointer user_data);
} GstBidiLlmCallbacks;

/* @base_url: e.g. "http://127.0.0.1:8080/v1"; plain http only for loopback
 * hosts. @model may be NULL (the server's default). @api_key may be NULL
 * (sent as "Authorization: Bearer" when set). @tools_json: NULL or a JSON
 * array of {name, description, parameters}. @ssl_ca_file: NULL or extra
 * trusted CAs (in addition to the system's). Returns NULL with @error
 * (GST_RESOURCE_ERROR_SETTINGS) for a bad URL, bad tools JSON or an
 * unreadable CA file.
 *
 * Every function must be called on the thread (and thread-default
 * context) of gst_bidi_llm_new(). gst_bidi_llm_free() may be called at any
 * time, from a callback too: it cancels the running request without any
 * callback. */
GstBidiLlm *gst_bidi_llm_new (const gchar * base_url, const gchar * model,
    const gchar * api_key, const gchar * system_prompt,
    const gchar * tools_json, const gchar * ssl_ca_file, GError ** error);
void gst_bidi_llm_free (GstBidiLlm * llm);

/* The conversation is @history (transfer none; the caller keeps it alive
 * and appends to it: the user's turns, the answers as heard, each tool
 * call with its result), read at each request. The client then only keeps
 * what @history does not have (yet): the tool calls of the answer in
 * progress until their results are in @history, with the results given
 * by add_tool_result meanwhile, and answers cut short, of which @history
 * has no transcript (cancelled or failed requests, and the answer given
 * to truncate_last_answer: call it only for such an answer), which go
 * before the user's turn that followed them. add_user then only marks
 * that turn (@history has its words already) and set_history is not
 * used.
 *
 * Without it, the client keeps the conversation itself: */
void gst_bidi_llm_set_conversation (GstBidiLlm * llm,
    GstBidiHistory * history);

/* Conversation. history_json: a JSON array of Strands messages
 * ({"role": "user"|"assistant", "content": [{"text": ...} | {"toolUse":
 * {...}} | {"toolResult": {...}}]}), replayed before new turns; it
 * replaces a previous history (not the turns added since). Other content
 * blocks (images ...) are skipped. FALSE with GST_RESOURCE_ERROR_SETTINGS
 * for a malformed history, which then leaves the conversation as it was.
 *
 * add_user: a user message (appended to the previous one when that was a
 * user message with no answer, since many chat templates want alternating
 * roles). add_tool_result: @content_json is sent as the tool message's
 * content; the message goes right after the assistant message that asked
 * for @id, so results may arrive after a new user turn. When a request is
 * made while a call still has no result, the request carries a placeholder
 * result for it ({"error": "no result"}), because servers refuse a
 * tool_calls message that is not followed by all of its results. */
gboolean gst_bidi_llm_set_history (GstBidiLlm * llm, const gchar * history_json,
    GError ** error);
void gst_bidi_llm_add_user (GstBidiLlm * llm, const gchar * text);
void gst_bidi_llm_add_tool_result (GstBidiLlm * llm, const gchar * id,
    const gchar * content_json);
/* After an interruption: the last assistant answer becomes @heard_text,
 * what the user actually heard (may be ""); its tool calls stay. "The
 * last answer" is what the last request put into the conversation: the
 * whole answer when it completed, the text received so far when it was
 * cancelled or failed. When that request put nothing there (cancelled
 * before any text), this does nothing. */
void gst_bidi_llm_truncate_last_answer (GstBidiLlm * llm,
    const gchar * heard_text);

/* Streams an answer to the conversation so far. The answer (text and tool
 * calls) is appended to the conversation when it is done, before the
 * tool_call callbacks; a cancelled or failed request appends the text
 * received so far (no tool calls), or nothing if there was none. Only one
 * request at a time: returns FALSE if one is running. Exactly one of done
 * and error ends each request. A server that does not stream (an
 * application/json answer) works too: its text comes in one piece. */
gboolean gst_bidi_llm_request (GstBidiLlm * llm,
    const GstBidiLlmCallbacks * callbacks, gpointer user_data);
/* Cancels the running request, if any: done ("cancelled") is called before
 * this returns, and nothing after it for that request. */
void gst_bidi_llm_cancel (GstBidiLlm * llm);

/* {base_url}{suffix}, checked as every server URL of the local provider
 * is: http or https, a host, no user information, plain http only for a
 * loopback host. With @add_v1, "/v1" goes before @suffix unless the base
 * URL's path ends with it already (so "http://host:8080" and
 * "http://host:8080/v1" are the same server). Errors
 * (GST_RESOURCE_ERROR_SETTINGS) name @what, e.g. "llm-url". */
GUri *gst_bidi_llm_endpoint (const gchar * what, const gchar * base_url,
    const gchar * suffix, gboolean add_v1, GError ** error);

G_END_DECLS

#endif /* __GST_BIDI_LLM_H__ */
