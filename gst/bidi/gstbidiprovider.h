/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_PROVIDER_H__
#define __GST_BIDI_PROVIDER_H__

#include <gst/gst.h>
#include <gst/audio/audio.h>

#include "bidi-prelude.h"
#include "gstbidihistory.h"

G_BEGIN_DECLS

/**
 * GstBidiProviderConfig:
 * @model: (nullable): model name, %NULL for the provider's default
 * @instructions: (nullable): system prompt
 * @voice: (nullable): voice name, %NULL for the provider's default
 * @url: (nullable): endpoint override, %NULL for the provider's default
 * @api_key: (nullable): secret; never log it
 * @aws_access_key_id: (nullable): AWS access key id (providers that sign
 *     their requests with AWS credentials); never log it
 * @aws_secret_access_key: (nullable): AWS secret key; never log it
 * @aws_session_token: (nullable): AWS session token of temporary
 *     credentials; never log it
 * @aws_region: (nullable): AWS region, %NULL for the provider's lookup
 * @provider_config: (nullable): provider specific settings
 * @tools_json: (nullable): JSON array of tool specs ({name, description,
 *     parameters})
 * @history_json: (nullable): JSON array of messages to start from
 * @ssl_ca_file: (nullable): extra CA file to trust
 * @ssl_strict: whether TLS certificate errors are fatal
 * @history: (nullable) (transfer none): the element's conversation as it
 *     goes (thread safe), valid until the provider is stopped. A provider
 *     that reconnects replays it from here: it keeps no copy of its own.
 *     @history_json is the same conversation at start.
 *
 * What the element hands a provider when it configures and starts it. The
 * element owns it; providers copy what they keep.
 */
typedef struct
{
  gchar *model;
  gchar *instructions;
  gchar *voice;
  gchar *url;
  gchar *api_key;
  GstStructure *provider_config;
  gchar *tools_json;
  gchar *history_json;
  gchar *ssl_ca_file;
  gboolean ssl_strict;
  GstBidiHistory *history;
  gchar *aws_access_key_id;
  gchar *aws_secret_access_key;
  gchar *aws_session_token;
  gchar *aws_region;

  /*< private >*/
  gpointer _gst_reserved[GST_PADDING_LARGE - 5];
} GstBidiProviderConfig;

GST_BIDI_API
GstBidiProviderConfig * gst_bidi_provider_config_new (void);
GST_BIDI_API
GstBidiProviderConfig * gst_bidi_provider_config_copy (
    const GstBidiProviderConfig * config);
GST_BIDI_API
void gst_bidi_provider_config_free (GstBidiProviderConfig * config);
GST_BIDI_API
void gst_bidi_clear_secret (gchar ** secret);

/**
 * GstBidiProviderEventFunc:
 * @provider: the provider
 * @event: (transfer full): a unified event (see gstbidievents.h)
 * @user_data: data given to gst_bidi_provider_set_event_func()
 *
 * Where a provider's events go. Called on the thread that emitted, which is
 * the element's network thread.
 */
typedef void (*GstBidiProviderEventFunc) (gpointer provider,
    GstStructure * event, gpointer user_data);
typedef void (*GstBidiProviderReadyFunc) (gpointer provider,
    gpointer user_data);

#define GST_TYPE_BIDI_PROVIDER (gst_bidi_provider_get_type ())
GST_BIDI_API
G_DECLARE_DERIVABLE_TYPE (GstBidiProvider, gst_bidi_provider, GST,
    BIDI_PROVIDER, GstObject);

/**
 * GstBidiProviderClass:
 * @configure: check @config (in particular provider_config) and pick the
 *     audio formats. Called on the application thread, before start; must
 *     not do I/O. Return %FALSE with @error set to refuse the config.
 * @get_audio_formats: the input format the provider wants and the output
 *     format it produces (interleaved raw audio). Valid after configure.
 * @start: connect. Called on the network thread with it as thread-default
 *     main context. Return %FALSE with @error for an immediate failure; a
 *     later failure is reported as a bidi_error event followed by
 *     bidi_connection_close with reason "error". A successful connection
 *     emits bidi_connection_start.
 * @send_audio: PCM in the input format, one chunk of input-chunk-ms;
 *     @arrived_us is the monotonic time (g_get_monotonic_time()) at which
 *     its last sample came in on the element's sink pad. The chunk may have
 *     waited since (while the provider connected or was full), so a moment
 *     found in the audio is dated from this, not from the call.
 * @send_text: a text turn (role "user" unless said otherwise)
 * @send_image: an encoded image (@mime e.g. "image/jpeg")
 * @send_tool_result: the result of a tool call; @json is the content as JSON
 *     text, @status "success" or "error"
 * @interrupt: the answer being played was cut off after @played_ms of it
 *     was heard; cancel it and truncate the model's memory to that
 * @end_input: the input stream ended. Finish what the input asked for, then
 *     emit bidi_connection_close (reason "complete"). The default emits it at
 *     once.
 * @stop: disconnect and release network resources. No events after this.
 *
 * What the element expects of the events (see docs/providers.md):
 * - each answer starts with bidi_response_start and ends with
 *   bidi_response_complete; audio in between belongs to it;
 * - after an interruption (reported by the provider or requested through
 *   interrupt()), audio is ignored until the next bidi_response_start, so
 *   in-flight audio of the cancelled answer never plays;
 * - bidi_connection_close ends the session: reason "error" is fatal (an
 *   ERROR message; emit a bidi_error first to say why), any other reason
 *   lets queued audio play out and then ends the stream with EOS.
 *
 * Every vfunc except configure and get_audio_formats runs on the element's
 * network thread, which owns the provider's sockets and timers. Errors use
 * the #GST_RESOURCE_ERROR domain (SETTINGS for a bad config, NOT_AUTHORIZED,
 * OPEN_READ_WRITE for connection failures).
 */
struct _GstBidiProviderClass
{
  GstObjectClass parent_class;

  gboolean (*configure) (GstBidiProvider * provider,
      const GstBidiProviderConfig * config, GError ** error);
  void (*get_audio_formats) (GstBidiProvider * provider,
      GstAudioInfo * in_info, GstAudioInfo * out_info);
  gboolean (*start) (GstBidiProvider * provider,
      const GstBidiProviderConfig * config, GError ** error);
  void (*send_audio) (GstBidiProvider * provider, GBytes * pcm,
      gint64 arrived_us);
  void (*send_text) (GstBidiProvider * provider, const gchar * text,
      const gchar * role);
  void (*send_image) (GstBidiProvider * provider, GBytes * data,
      const gchar * mime);
  void (*send_tool_result) (GstBidiProvider * provider,
      const gchar * tool_use_id, const gchar * name, const gchar * json,
      const gchar * status);
  void (*interrupt) (GstBidiProvider * provider, guint64 played_ms);
  void (*end_input) (GstBidiProvider * provider);
  void (*stop) (GstBidiProvider * provider);

  /* The built-in tools the element offers for this provider when its
   * builtin-tools property is "auto" (comma separated); the base class
   * says "stop_conversation". */
  const gchar *builtin_tools;

  /*< private >*/
  gpointer _gst_reserved[GST_PADDING_LARGE - 1];
};

/* Registry: provider name -> GType. Thread safe. */
GST_BIDI_API
void gst_bidi_provider_register (const gchar * name, GType type);
GST_BIDI_API
GType gst_bidi_provider_lookup (const gchar * name);
GST_BIDI_API
gchar ** gst_bidi_provider_list (void);
GST_BIDI_API
GstBidiProvider * gst_bidi_provider_new (const gchar * name, GError ** error);

/* Used by providers */
GST_BIDI_API
void gst_bidi_provider_emit (GstBidiProvider * provider, GstStructure * event);
GST_BIDI_API
void gst_bidi_provider_emit_audio (GstBidiProvider * provider, GBytes * pcm);
/* Flow control: a provider whose input backs up (a recognizer slower than
 * an unpaced file) says so, and says again when it can take more. While it
 * is full the element keeps the input in its own buffer, where a non-live
 * upstream waits and a live one drops the oldest (counted and reported).
 * Any thread. */
GST_BIDI_API
void gst_bidi_provider_set_input_full (GstBidiProvider * provider,
    gboolean full);
GST_BIDI_API
gboolean gst_bidi_provider_is_input_full (GstBidiProvider * provider);
GST_BIDI_API
gboolean gst_bidi_provider_check_config (const GstStructure * config,
    const gchar * provider_name, GError ** error,
    const gchar * first_field, ...);

/* Reading provider-config fields (after gst_bidi_provider_check_config()).
 * An absent field (or a NULL @config) leaves *@value as it is and returns
 * TRUE; a field out of range (or not one of @choices) returns FALSE with
 * @error (GST_RESOURCE_ERROR_SETTINGS): "Invalid provider-config of
 * provider "NAME": "FIELD" must be ...". Numbers may be given as any
 * integer or double type. */
/* Sets @error (GST_RESOURCE_ERROR_SETTINGS) to "Invalid provider-config of
 * provider "@provider_name": <message>" and returns FALSE */
GST_BIDI_API
gboolean gst_bidi_provider_config_error (GError ** error,
    const gchar * provider_name, const gchar * format, ...)
    G_GNUC_PRINTF (3, 4);
GST_BIDI_API
gboolean gst_bidi_provider_config_get_int (const GstStructure * config,
    const gchar * provider_name, const gchar * field, gint lo, gint hi,
    gint * value, GError ** error);
GST_BIDI_API
gboolean gst_bidi_provider_config_get_uint (const GstStructure * config,
    const gchar * provider_name, const gchar * field, guint lo, guint hi,
    guint * value, GError ** error);
GST_BIDI_API
gboolean gst_bidi_provider_config_get_double (const GstStructure * config,
    const gchar * provider_name, const gchar * field, gdouble lo, gdouble hi,
    gdouble * value, GError ** error);
/* @choices: NULL-terminated; *@value is replaced by a copy */
GST_BIDI_API
gboolean gst_bidi_provider_config_get_choice (const GstStructure * config,
    const gchar * provider_name, const gchar * field,
    const gchar * const *choices, gchar ** value, GError ** error);

/* Used by the element */
GST_BIDI_API
void gst_bidi_provider_set_event_func (GstBidiProvider * provider,
    GstBidiProviderEventFunc func, gpointer user_data, GDestroyNotify notify);
/* @func is called, on any thread, when the input stops being full */
GST_BIDI_API
void gst_bidi_provider_set_ready_func (GstBidiProvider * provider,
    GstBidiProviderReadyFunc func, gpointer user_data);
GST_BIDI_API
gboolean gst_bidi_provider_configure (GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error);
GST_BIDI_API
void gst_bidi_provider_get_audio_formats (GstBidiProvider * provider,
    GstAudioInfo * in_info, GstAudioInfo * out_info);
GST_BIDI_API
gboolean gst_bidi_provider_start (GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error);
/* @arrived_us: see send_audio; 0 or less: now */
GST_BIDI_API
void gst_bidi_provider_send_audio (GstBidiProvider * provider, GBytes * pcm,
    gint64 arrived_us);
GST_BIDI_API
void gst_bidi_provider_send_text (GstBidiProvider * provider,
    const gchar * text, const gchar * role);
GST_BIDI_API
void gst_bidi_provider_send_image (GstBidiProvider * provider, GBytes * data,
    const gchar * mime);
GST_BIDI_API
void gst_bidi_provider_send_tool_result (GstBidiProvider * provider,
    const gchar * tool_use_id, const gchar * name, const gchar * json,
    const gchar * status);
GST_BIDI_API
void gst_bidi_provider_interrupt (GstBidiProvider * provider,
    guint64 played_ms);
GST_BIDI_API
void gst_bidi_provider_end_input (GstBidiProvider * provider);
GST_BIDI_API
void gst_bidi_provider_stop (GstBidiProvider * provider);

G_END_DECLS

#endif /* __GST_BIDI_PROVIDER_H__ */
