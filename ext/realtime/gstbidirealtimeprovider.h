/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_REALTIME_PROVIDER_H__
#define __GST_BIDI_REALTIME_PROVIDER_H__

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <gst/bidi/gstbidiprovider.h>
#include <gst/bidi/gstbidihistory.h>

#include "gstbiditransport.h"

G_BEGIN_DECLS

#define GST_TYPE_BIDI_REALTIME_PROVIDER \
    (gst_bidi_realtime_provider_get_type ())
G_DECLARE_DERIVABLE_TYPE (GstBidiRealtimeProvider, gst_bidi_realtime_provider,
    GST, BIDI_REALTIME_PROVIDER, GstBidiProvider);

/* The provider-config fields every realtime provider takes (the base reads
 * them): put this at the end of the subclass's
 * gst_bidi_provider_check_config() list. */
#define GST_BIDI_REALTIME_CONFIG_FIELDS \
  "reconnect-attempts", G_TYPE_INT, \
  "reconnect-delay-ms", G_TYPE_INT, \
  "max-session-s", G_TYPE_INT, \
  "connect-timeout-ms", G_TYPE_INT, \
  "keepalive-s", G_TYPE_INT, \
  "max-message-size", G_TYPE_INT, \
  "stall-timeout-ms", G_TYPE_INT, \
  "reconnect-reset-ms", G_TYPE_INT

/* How a closed connection goes on, after the base's own rules (a refused
 * key, a refused connection and the first connection are fatal) */
typedef enum
{
  GST_BIDI_REALTIME_CLOSE_RETRY,        /* reconnect after the backoff */
  GST_BIDI_REALTIME_CLOSE_RETRY_NOW,    /* reconnect at once the first time */
  GST_BIDI_REALTIME_CLOSE_FATAL,        /* end with an error */
  GST_BIDI_REALTIME_CLOSE_NOT_AUTHORIZED        /* end: the server refused
                                                 * the credentials */
} GstBidiRealtimeClose;

/**
 * GstBidiRealtimeProviderClass:
 *
 * An abstract provider for a realtime model server reached through a
 * GstBidiTransport. It implements every GstBidiProvider vfunc and owns the
 * connection's life: states, the connect and setup timeout, reconnecting
 * with backoff, renewing the session before the server's limit at a quiet
 * moment, queueing input until the session is ready, replaying the
 * conversation into a new session, tool-call bookkeeping, and emitting
 * nothing after stop. A subclass writes only its wire format.
 *
 * Every vfunc below except parse_settings runs on the network thread,
 * with the provider started (reset: while it stops); none is called after
 * stop. A subclass may call gst_bidi_realtime_provider_emit() from any of
 * them, and must return at once when it returns FALSE (the element
 * stopped the provider from inside the emit).
 *
 * @name: provider name in config errors ("openai")
 * @server_name: name of the server in messages ("OpenAI Realtime")
 * @key_name: whose key, in messages ("OpenAI"); NULL for a class that
 *     takes no API key (the base ignores api-key) and reads its own
 *     credentials in parse_settings
 * @key_env: environment variable read when the element has no api-key
 *     ("OPENAI_API_KEY")
 * @key_env_fallback: another one read when @key_env is not set (nullable)
 * @connect: the transport to use (gst_bidi_ws_connect by default)
 * @in_bytes_per_ms: bytes of input audio per millisecond
 * @out_bytes_per_ms: bytes of output audio per millisecond (for the
 *     history of an interrupted answer)
 * @max_pending_audio_ms: input audio kept while (re)connecting, in ms of
 *     @in_bytes_per_ms
 * @default_max_session_s: the default of `max-session-s` (0: the base's,
 *     3300)
 * @binary_messages: the server's binary messages hold JSON as its text
 *     ones do (else they are refused as malformed)
 * @image_types: the images the server takes (NULL-terminated MIME types;
 *     "image/jpg" is taken for "image/jpeg"), @image_types_text what they
 *     are called in the refusal of another ("PNG and JPEG"), and
 *     @max_image_size the largest. Any other image is refused at once with
 *     a bidi_error "bad_image"; NULL @image_types: the server takes no
 *     image, and every one is refused so.
 * @parse_settings: read @config (check provider_config with
 *     gst_bidi_provider_check_config() and GST_BIDI_REALTIME_CONFIG_FIELDS)
 *     and return the endpoint URL (checked by
 *     gst_bidi_realtime_parse_ws_url()), or NULL with @error. With @keep,
 *     the settings replace the subclass's (start, on the network thread);
 *     without, they are only checked (configure, on the application
 *     thread, which must touch no state). The base reads its own fields
 *     and the key after.
 * @reset: forget the settings and the state of a run (stop, finalize).
 * @get_headers: add header names and values (newly allocated strings) to
 *     @headers for a connection attempt; @api_key is the key. The base
 *     wipes and frees them once the connection started.
 * @open: the connection is up: send what configures the session. Once the
 *     server confirmed it, call gst_bidi_realtime_provider_session_ready().
 *     The base replays the history right after this returns.
 * @send_history: (on open) write @messages (GstBidiMessage of
 *     gst_bidi_history_parse()) as the new session's conversation.
 * @handle_message: one message from the server.
 * @send_audio: input audio (session ready); @arrived_us as the element
 *     gave it (gst_bidi_provider_send_audio()), kept while reconnecting.
 * @send_text: a text turn (session ready; @role as the element gave it).
 * @send_image: an image (session ready) of one of @image_types.
 * @send_tool_result: a tool call's result (session ready, the response
 *     that made the call is over): @call_id and @output as given.
 * @tool_results_done: every call of a response now has its result: ask
 *     the model to go on.
 * @interrupt: the answer being played was cut after @played_ms.
 * @end_input: the input ended (session ready): make the server answer what
 *     is unanswered; the base closes the session once @busy says 0.
 * @busy: whether the session may end or be renewed now: 0 when idle,
 *     G_MAXUINT while something is under way (the subclass calls
 *     gst_bidi_realtime_provider_check_idle() when it ends), else the
 *     milliseconds after which to ask again.
 * @resume: the session is ready and the inputs that waited are sent;
 *     send what the protocol kept back.
 * @connection_lost: the connection went (before a reconnection or the
 *     end): end what belonged to it (an answer cut in the middle gets its
 *     bidi_response_complete "error"). Return FALSE when an emit returned
 *     FALSE.
 * @classify_close: how a closed connection goes on. Asked first for every
 *     close; FATAL and NOT_AUTHORIZED end the run at once, and the base's
 *     own rules (a refused connection and the first connection are fatal)
 *     apply to the others. *@reason is the restart reason
 *     ("connection_lost" by default, "timeout" for the server's session
 *     limit).
 * @get_transport_data: (nullable) what the class's own @connect needs
 *     beyond the options (GstBidiTransportOptions.transport_data), asked
 *     at each connection attempt; owned by the subclass, valid until the
 *     next reset.
 * @awaiting_reply: whether the server owes a message now (an answer was
 *     asked for, or is under way); asked after every message either way.
 *     While it does, a session on which nothing arrives for
 *     `stall-timeout-ms` is taken as dead and made again. NULL: never.
 * @closing: (nullable) the base is about to close a connection that is
 *     open (the session ends, is renewed, fails, or the provider stops;
 *     not when the connection was lost): send what ends the session
 *     cleanly on the server. Called at most once per connection, right
 *     before gst_bidi_transport_close(); it must not emit.
 */
struct _GstBidiRealtimeProviderClass
{
  GstBidiProviderClass parent_class;

  const gchar *name;
  const gchar *server_name;
  const gchar *key_name;
  const gchar *key_env;
  const gchar *key_env_fallback;
  GstBidiTransportConnectFunc connect;
  guint in_bytes_per_ms;
  guint out_bytes_per_ms;
  guint max_pending_audio_ms;
  guint default_max_session_s;
  gboolean binary_messages;
  const gchar *const *image_types;
  const gchar *image_types_text;
  gsize max_image_size;

  gchar *(*parse_settings) (GstBidiRealtimeProvider * self,
      const GstBidiProviderConfig * config, gboolean keep, GError ** error);
  void (*reset) (GstBidiRealtimeProvider * self);
  void (*get_headers) (GstBidiRealtimeProvider * self, const gchar * api_key,
      GPtrArray * headers);
  void (*open) (GstBidiRealtimeProvider * self);
  void (*send_history) (GstBidiRealtimeProvider * self, GPtrArray * messages);
  void (*handle_message) (GstBidiRealtimeProvider * self,
      JsonObject * message, const gchar * json, gsize len);
  void (*send_audio) (GstBidiRealtimeProvider * self, GBytes * pcm,
      gint64 arrived_us);
  void (*send_text) (GstBidiRealtimeProvider * self, const gchar * text,
      const gchar * role);
  void (*send_image) (GstBidiRealtimeProvider * self, GBytes * data,
      const gchar * mime);
  void (*send_tool_result) (GstBidiRealtimeProvider * self,
      const gchar * call_id, const gchar * output);
  void (*tool_results_done) (GstBidiRealtimeProvider * self);
  void (*interrupt) (GstBidiRealtimeProvider * self, guint64 played_ms);
  void (*end_input) (GstBidiRealtimeProvider * self);
  guint (*busy) (GstBidiRealtimeProvider * self);
  void (*resume) (GstBidiRealtimeProvider * self);
  gboolean (*connection_lost) (GstBidiRealtimeProvider * self);
  GstBidiRealtimeClose (*classify_close) (GstBidiRealtimeProvider * self,
      const GstBidiTransportCloseInfo * info, const gchar ** reason);
  gboolean (*awaiting_reply) (GstBidiRealtimeProvider * self);
  gconstpointer (*get_transport_data) (GstBidiRealtimeProvider * self);
  void (*closing) (GstBidiRealtimeProvider * self);

  /*< private >*/
  gpointer _gst_reserved[GST_PADDING];
};

/* ------------------------------------------------------------------------
 * For subclasses (network thread)
 * ------------------------------------------------------------------------ */

/* Emits @event (transfer full). FALSE when the provider was stopped from
 * inside (or before): return at once then. */
gboolean gst_bidi_realtime_provider_emit (GstBidiRealtimeProvider * self,
    GstStructure * event);
/* Emits output audio (transfer none) */
void gst_bidi_realtime_provider_emit_audio (GstBidiRealtimeProvider * self,
    GBytes * pcm);

/* What was heard of the answer being spoken, when the server knows it
 * better than the share of its transcript that was played: replayed as
 * such into the next session. For a phased answer, @text is the items
 * heard whole, then what was kept of the cut one, joined by spaces: each
 * item stays a message of its own. */
void gst_bidi_realtime_provider_set_heard_answer (GstBidiRealtimeProvider *
    self, const gchar * text);

/* Sends @object (taken) / @text on the connection. FALSE when it is not
 * open (then the message is dropped). */
gboolean gst_bidi_realtime_provider_send_object (GstBidiRealtimeProvider *
    self, JsonObject * object);
gboolean gst_bidi_realtime_provider_send_json_text (GstBidiRealtimeProvider
    * self, const gchar * text);

/* The server confirmed the session: inputs that waited go, and
 * bidi_connection_start for @model (and bidi_connection_restart before it
 * after a reconnection) is emitted. */
void gst_bidi_realtime_provider_session_ready (GstBidiRealtimeProvider *
    self, const gchar * model);
gboolean gst_bidi_realtime_provider_is_ready (GstBidiRealtimeProvider *
    self);

/* The session is gone (@reason: "connection_lost", "timeout"): reconnect
 * with backoff (at once the first time when @immediate), or end with an
 * error when the attempts are used up. */
void gst_bidi_realtime_provider_connection_lost (GstBidiRealtimeProvider *
    self, const gchar * reason, const gchar * message, gboolean immediate);
/* Ends for good: bidi_error (@message, @code, @details), then
 * bidi_connection_close "error". */
void gst_bidi_realtime_provider_fail (GstBidiRealtimeProvider * self,
    const gchar * message, const gchar * code, const gchar * details);
/* A malformed server message: a warning, and a bidi_error "bad_message"
 * for the first ones of a connection. */
void gst_bidi_realtime_provider_report_bad_message (GstBidiRealtimeProvider
    * self, const gchar * message);
/* Something @busy reported ended: the session may now end (after the
 * input ended) or be renewed. */
void gst_bidi_realtime_provider_check_idle (GstBidiRealtimeProvider * self);
/* The server asked to be left (or its limit nears): the session is made
 * again at the next quiet moment (@busy says 0), as for `max-session-s`,
 * posted as bidi_connection_restart with @reason. */
void gst_bidi_realtime_provider_request_renew (GstBidiRealtimeProvider *
    self, const gchar * reason);

/* Server text safe for a message or a log: scrubbed of the key, one line,
 * short. (transfer full) */
gchar *gst_bidi_realtime_provider_clean (GstBidiRealtimeProvider * self,
    const gchar * text, gsize len);
gint gst_bidi_realtime_provider_get_max_message_size (GstBidiRealtimeProvider
    * self);

/* A one-shot timer on the network thread's context: @func (self) after
 * @ms; replaces the one in *@timer. The callback must call
 * gst_bidi_realtime_provider_timer_fired() first. */
void gst_bidi_realtime_provider_start_timer (GstBidiRealtimeProvider * self,
    GSource ** timer, guint ms, GSourceFunc func, const gchar * name);
void gst_bidi_realtime_provider_clear_timer (GSource ** timer);
void gst_bidi_realtime_provider_timer_fired (GSource ** timer);

/* Tool calls. The subclass reports what the server says of a call; the
 * base keeps them, emits bidi_tool_use_stream once per call, and sends
 * the results (send_tool_result) once the response that made the call is
 * over and the session ready, then calls tool_results_done. */
/* A call the server announced or streams: found by @call_id (or, when
 * NULL, by @item_id), its missing name filled in; else added with its name,
 * item id and response id (nullable). FALSE when it is unknown and has no
 * call id, or when too many calls are pending. */
gboolean gst_bidi_realtime_provider_call_add (GstBidiRealtimeProvider * self,
    const gchar * call_id, const gchar * name, const gchar * item_id,
    const gchar * response_id);
/* The call @call_id (or, when NULL, the one of @item_id) is known */
gboolean gst_bidi_realtime_provider_call_known (GstBidiRealtimeProvider *
    self, const gchar * call_id, const gchar * item_id);
/* Arguments of a known call, streamed */
void gst_bidi_realtime_provider_call_append_args (GstBidiRealtimeProvider *
    self, const gchar * call_id, const gchar * item_id, const gchar * delta);
/* The arguments are complete (@args, or the streamed ones when NULL):
 * checked, then bidi_tool_use_stream. */
void gst_bidi_realtime_provider_call_ready (GstBidiRealtimeProvider * self,
    const gchar * call_id, const gchar * item_id, const gchar * args);
/* The response @response_id ended: its calls may be answered; the model
 * is asked to go on after the results only when @completed. Returns
 * whether it made calls that were emitted. */
gboolean gst_bidi_realtime_provider_calls_close (GstBidiRealtimeProvider *
    self, const gchar * response_id, gboolean completed);
/* The server withdrew the call @call_id (the user spoke over it): it is
 * forgotten, and tool_cancel is emitted when it had been announced (the
 * element then drops a result that comes for it). FALSE when it was not
 * pending (unknown, or answered already). */
gboolean gst_bidi_realtime_provider_call_cancel (GstBidiRealtimeProvider *
    self, const gchar * call_id);
/* Sends the results that may go now (after calls_close, once the
 * response's events are emitted), and calls tool_results_done when a
 * response's calls are all answered. Also done by the base when a result
 * comes and when a session is ready. */
void gst_bidi_realtime_provider_flush_calls (GstBidiRealtimeProvider * self);

G_END_DECLS

#endif /* __GST_BIDI_REALTIME_PROVIDER_H__ */
