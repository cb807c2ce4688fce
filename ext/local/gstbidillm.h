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

G_BEGIN_DECLS

/* A client of an OpenAI-compatible chat-completions server (llama.cpp's
 * server, Ollama, vLLM ...), used by the local provider's LLM responder.
 *
 * It keeps the conversation (system prompt, user turns, assistant answers,
 * tool calls and their results) and streams each answer with Server-Sent
 * Events: POST {base_url}/chat/completions with "stream": true and the
 * tools. Everything happens on the thread whose thread-default
 * GMainContext was current when gst_bidi_llm_new() was called (the
 * provider's network thread); callbacks run there too. */

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
   * gst_bidi_llm_request again), or "cancelled". Token counts are -1 when
   * the server did not report usage. */
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
 * trusted CAs. Returns NULL with @error (GST_RESOURCE_ERROR_SETTINGS) for
 * a bad URL or bad tools JSON. */
GstBidiLlm *gst_bidi_llm_new (const gchar * base_url, const gchar * model,
    const gchar * api_key, const gchar * system_prompt,
    const gchar * tools_json, const gchar * ssl_ca_file, GError ** error);
void gst_bidi_llm_free (GstBidiLlm * llm);

/* Conversation. history_json: a JSON array of Strands messages
 * ({"role": "user"|"assistant", "content": [{"text": ...} | {"toolUse":
 * {...}} | {"toolResult": {...}}]}), replayed before new turns. */
gboolean gst_bidi_llm_set_history (GstBidiLlm * llm, const gchar * history_json,
    GError ** error);
void gst_bidi_llm_add_user (GstBidiLlm * llm, const gchar * text);
void gst_bidi_llm_add_tool_result (GstBidiLlm * llm, const gchar * id,
    const gchar * content_json);
/* After an interruption: the last assistant answer becomes @heard_text,
 * what the user actually heard (may be ""). */
void gst_bidi_llm_truncate_last_answer (GstBidiLlm * llm,
    const gchar * heard_text);

/* Streams an answer to the conversation so far. The answer (text and tool
 * calls) is appended to the conversation when it is done. Only one request
 * at a time: returns FALSE if one is running. */
gboolean gst_bidi_llm_request (GstBidiLlm * llm,
    const GstBidiLlmCallbacks * callbacks, gpointer user_data);
/* Cancels the running request, if any: done ("cancelled") is called before
 * this returns. */
void gst_bidi_llm_cancel (GstBidiLlm * llm);

G_END_DECLS

#endif /* __GST_BIDI_LLM_H__ */
