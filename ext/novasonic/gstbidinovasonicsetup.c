/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The Nova Sonic provider's settings, and the events they make before a
 * stream carries audio: sessionStart, promptStart, the system block and
 * the replayed conversation (nova-sonic.md §7). Pure functions of the
 * settings: nothing here touches a connection (gstbidinovasonic.c is the
 * session). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/bidi/gstbidihistory.h>
#include <gst/bidi/gstbidijson.h>
#include <gst/bidi/gstbiditools.h>

#include "gstbidinovasonicprivate.h"
#include "gstbidirealtime.h"
#include "gstbidirealtimeprovider.h"
#include "gstbidisigv4.h"

#define GST_CAT_DEFAULT bidi_nova_sonic_debug

#define DEFAULT_REGION "us-east-1"
#define DEFAULT_MODEL "amazon.nova-2-sonic-v1:0"
#define DEFAULT_VOICE "matthew"
#define DEFAULT_INSTRUCTIONS "You are a helpful assistant. Keep your " \
  "answers short and conversational."
#define DEFAULT_MAX_TOKENS 1024
#define DEFAULT_TOP_P 0.9
#define DEFAULT_TEMPERATURE 0.7
#define DEFAULT_SENSITIVITY "MEDIUM"
/* Nova ends a stream after ~175 s without speech (§12): renewed before */
#define DEFAULT_SILENCE_RESTART_S 150
/* what newer Strands replays: 200 KB in all, 50 KB a message (§7) */
#define DEFAULT_HISTORY_MAX_BYTES (200 * 1024)
#define MAX_HISTORY_MESSAGE_BYTES (50 * 1024)
#define MAX_INSTRUCTIONS_SIZE (256 * 1024)
#define ENDPOINT_PATH_FMT "/model/%s/invoke-with-bidirectional-stream"

/* ------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------ */

JsonObject *
gst_bidi_nova_event (const gchar * name, JsonObject * body)
{
  JsonObject *event = json_object_new (), *msg = json_object_new ();

  json_object_set_object_member (event, name, body);
  json_object_set_object_member (msg, "event", event);
  return msg;
}

JsonObject *
gst_bidi_nova_content_ref (const gchar * prompt, const gchar * content)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "promptName", prompt);
  if (content)
    json_object_set_string_member (o, "contentName", content);
  return o;
}

JsonObject *
gst_bidi_nova_media_type (const gchar * type)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "mediaType", type);
  return o;
}

JsonObject *
gst_bidi_nova_session_start (NovaSettings * s)
{
  JsonObject *body = json_object_new (), *inf = json_object_new ();
  JsonObject *turn = json_object_new ();

  json_object_set_int_member (inf, "maxTokens", s->max_tokens);
  json_object_set_double_member (inf, "topP", s->top_p);
  json_object_set_double_member (inf, "temperature", s->temperature);
  json_object_set_object_member (body, "inferenceConfiguration", inf);
  json_object_set_string_member (turn, "endpointingSensitivity",
      s->sensitivity);
  json_object_set_object_member (body, "turnDetectionConfiguration", turn);
  return gst_bidi_nova_event ("sessionStart", body);
}

JsonObject *
gst_bidi_nova_prompt_start (NovaSettings * s, const gchar * prompt)
{
  JsonObject *body = gst_bidi_nova_content_ref (prompt, NULL);
  JsonObject *audio = gst_bidi_nova_media_type ("audio/lpcm");

  json_object_set_object_member (body, "textOutputConfiguration",
      gst_bidi_nova_media_type ("text/plain"));
  json_object_set_int_member (audio, "sampleRateHertz", OUT_RATE);
  json_object_set_int_member (audio, "sampleSizeBits", 16);
  json_object_set_int_member (audio, "channelCount", 1);
  json_object_set_string_member (audio, "voiceId", s->voice);
  json_object_set_string_member (audio, "encoding", "base64");
  json_object_set_string_member (audio, "audioType", "SPEECH");
  json_object_set_object_member (body, "audioOutputConfiguration", audio);
  /* only with tools (a tool configuration without any is refused) */
  if (s->tools) {
    JsonObject *tc = json_object_new ();

    json_object_set_object_member (body, "toolUseOutputConfiguration",
        gst_bidi_nova_media_type ("application/json"));
    json_object_set_array_member (tc, "tools", json_array_ref (s->tools));
    json_object_set_object_member (body, "toolConfiguration", tc);
  }
  return gst_bidi_nova_event ("promptStart", body);
}

void
gst_bidi_nova_text_block (GPtrArray * events, const gchar * prompt,
    const gchar * content, const gchar * role, gboolean interactive,
    const gchar * text)
{
  JsonObject *start = gst_bidi_nova_content_ref (prompt, content);
  JsonObject *input = gst_bidi_nova_content_ref (prompt, content);

  json_object_set_string_member (start, "type", "TEXT");
  json_object_set_string_member (start, "role", role);
  json_object_set_boolean_member (start, "interactive", interactive);
  json_object_set_object_member (start, "textInputConfiguration",
      gst_bidi_nova_media_type ("text/plain"));
  json_object_set_string_member (input, "content", text);
  g_ptr_array_add (events, gst_bidi_nova_event ("contentStart", start));
  g_ptr_array_add (events, gst_bidi_nova_event ("textInput", input));
  g_ptr_array_add (events, gst_bidi_nova_event ("contentEnd",
          gst_bidi_nova_content_ref (prompt, content)));
}

/* ------------------------------------------------------------------------
 * The conversation replayed into a new stream
 * ------------------------------------------------------------------------ */

/* The words of each message (tool calls and results left out: a new
 * stream cannot take them), each cut at MAX_HISTORY_MESSAGE_BYTES;
 * NULL for a message without words */
static GPtrArray *
history_texts (GPtrArray * messages)
{
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);
  guint i;

  for (i = 0; i < messages->len; i++) {
    gchar *t = gst_bidi_message_text (g_ptr_array_index (messages, i));
    gchar *valid = NULL;

    if (t && !gst_bidi_realtime_is_blank (t))
      valid = gst_bidi_realtime_make_valid (t, MAX_HISTORY_MESSAGE_BYTES);
    g_free (t);
    g_ptr_array_add (texts, valid);
  }
  return texts;
}

guint
gst_bidi_nova_history_blocks (GObject * self, GPtrArray * events,
    GPtrArray * messages, const gchar * prompt, guint * seq, gint max_bytes)
{
  GPtrArray *texts = history_texts (messages);
  gsize total = 0;
  guint i, first, n = 0;

  /* the latest messages that fit, the oldest dropped first */
  for (first = messages->len; first > 0; first--) {
    const gchar *t = g_ptr_array_index (texts, first - 1);
    gsize len = t ? strlen (t) : 0;

    if (total + len > (gsize) MAX (max_bytes, 0))
      break;
    total += len;
  }
  if (first > 0)
    GST_WARNING_OBJECT (self, "the conversation is long: replaying only its "
        "last %u of %u messages (history-max-bytes %d)",
        messages->len - first, messages->len, max_bytes);
  /* the first must be the user's */
  for (; first < messages->len; first++) {
    const GstBidiMessage *m = g_ptr_array_index (messages, first);

    if (!m->assistant && g_ptr_array_index (texts, first))
      break;
  }
  for (i = first; i < messages->len; i++) {
    const GstBidiMessage *m = g_ptr_array_index (messages, i);
    const gchar *text = g_ptr_array_index (texts, i);
    gchar *name;

    if (!text)
      continue;
    name = g_strdup_printf ("history-%u", ++(*seq));
    gst_bidi_nova_text_block (events, prompt, name, m->assistant ?
        "ASSISTANT" : "USER", FALSE, text);
    g_free (name);
    n++;
  }
  g_ptr_array_unref (texts);
  if (n > 0)
    GST_INFO_OBJECT (self, "replaying %u conversation messages", n);
  return n;
}

/* ------------------------------------------------------------------------
 * Settings
 * ------------------------------------------------------------------------ */

void
gst_bidi_nova_settings_free (NovaSettings * s)
{
  if (!s)
    return;
  g_clear_pointer (&s->creds, gst_bidi_aws_credentials_free);
  g_free (s->model);
  g_free (s->instructions);
  g_free (s->voice);
  g_free (s->sensitivity);
  if (s->tools)
    json_array_unref (s->tools);
  g_free (s);
}

static gboolean
settings_error (GError ** error, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);

static gboolean
settings_error (GError ** error, const gchar * format, ...)
{
  va_list ap;
  gchar *msg;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "Provider \"" PROVIDER_NAME "\": %s", msg);
  g_free (msg);
  return FALSE;
}

/* letters, digits and @extra only, 1 to @max bytes */
static gboolean
word_ok (const gchar * word, gsize max, const gchar * extra)
{
  const gchar *p;

  if (!*word || strlen (word) > max)
    return FALSE;
  for (p = word; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr (extra, *p))
      return FALSE;
  return TRUE;
}

/* The tools as toolSpec entries; the schema goes as a string (§7) */
static gboolean
parse_tools (const gchar * tools_json, NovaSettings * s, GError ** error)
{
  GPtrArray *specs = gst_bidi_tools_parse (tools_json, error);
  guint i;

  if (!specs)
    return FALSE;
  for (i = 0; i < specs->len; i++) {
    GstBidiToolSpec *spec = g_ptr_array_index (specs, i);
    JsonObject *ts = json_object_new (), *schema = json_object_new ();
    JsonObject *entry = json_object_new ();

    json_object_set_string_member (ts, "name", spec->name);
    /* Nova wants a description: the name says something */
    json_object_set_string_member (ts, "description", *spec->description ?
        spec->description : spec->name);
    json_object_set_string_member (schema, "json", spec->parameters);
    json_object_set_object_member (ts, "inputSchema", schema);
    json_object_set_object_member (entry, "toolSpec", ts);
    if (!s->tools)
      s->tools = json_array_new ();
    json_array_add_object_element (s->tools, entry);
  }
  g_ptr_array_unref (specs);
  return TRUE;
}

/* The request's URL: the element's `url` (https; its path as it is, or
 * the model's when it has none), else the region's endpoint */
static gchar *
endpoint_url (const GstBidiProviderConfig * config, NovaSettings * s,
    GError ** error)
{
  gchar *model = gst_bidi_sigv4_uri_encode (s->model, -1);
  gchar *path = g_strdup_printf (ENDPOINT_PATH_FMT, model);
  gchar *url = NULL;
  GUri *uri;

  g_free (model);
  if (!config->url || !*config->url) {
    url = g_strdup_printf ("https://bedrock-runtime.%s.amazonaws.com%s",
        s->creds->region, path);
    g_free (path);
    return url;
  }
  uri = g_uri_parse (config->url, G_URI_FLAGS_ENCODED, NULL);
  if (!uri || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 ||
      !g_uri_get_host (uri) || !*g_uri_get_host (uri) ||
      g_uri_get_userinfo (uri) || g_uri_get_query (uri) ||
      g_uri_get_fragment (uri)) {
    settings_error (error, "url must be an https:// URL without user, "
        "query or fragment, e.g. https://bedrock-runtime.us-east-1."
        "amazonaws.com");
  } else {
    const gchar *p = g_uri_get_path (uri);
    GUri *full = g_uri_build (G_URI_FLAGS_ENCODED, "https", NULL,
        g_uri_get_host (uri), g_uri_get_port (uri),
        (!*p || strcmp (p, "/") == 0) ? path : p, NULL, NULL);

    url = g_uri_to_string (full);
    g_uri_unref (full);
  }
  if (uri)
    g_uri_unref (uri);
  g_free (path);
  return url;
}

static gboolean
parse_credentials (GObject * self, const GstBidiProviderConfig * config,
    NovaSettings * s, GError ** error)
{
  s->creds = gst_bidi_aws_credentials_resolve (config->aws_access_key_id,
      config->aws_secret_access_key, config->aws_session_token,
      config->aws_region, error);
  if (!s->creds)
    return FALSE;
  if (!s->creds->region) {
    GST_INFO_OBJECT (self, "no AWS region set: using " DEFAULT_REGION);
    s->creds->region = g_strdup (DEFAULT_REGION);
  }
  /* it goes into the host name */
  if (!word_ok (s->creds->region, 32, "-"))
    return settings_error (error, "invalid AWS region \"%s\" (e.g. "
        DEFAULT_REGION ")", s->creds->region);
  GST_DEBUG_OBJECT (self, "AWS credentials from %s, region %s",
      s->creds->source, s->creds->region);
  return TRUE;
}

static gboolean
parse_fields (const GstStructure * pc, NovaSettings * s, GError ** error)
{
  const gchar *const levels[] = { "HIGH", "MEDIUM", "LOW", "high", "medium",
    "low", NULL
  };
  const gchar *name = PROVIDER_NAME;
  gchar *level = NULL;

  s->max_tokens = DEFAULT_MAX_TOKENS;
  s->top_p = DEFAULT_TOP_P;
  s->temperature = DEFAULT_TEMPERATURE;
  s->silence_restart_s = DEFAULT_SILENCE_RESTART_S;
  s->history_max_bytes = DEFAULT_HISTORY_MAX_BYTES;
  if (!gst_bidi_provider_config_get_int (pc, name, "max-tokens", 1, 100000,
          &s->max_tokens, error) ||
      !gst_bidi_provider_config_get_double (pc, name, "top-p", 0, 1,
          &s->top_p, error) ||
      !gst_bidi_provider_config_get_double (pc, name, "temperature", 0, 1,
          &s->temperature, error) ||
      !gst_bidi_provider_config_get_int (pc, name, "silence-restart-s", 0,
          3600, &s->silence_restart_s, error) ||
      !gst_bidi_provider_config_get_int (pc, name, "history-max-bytes", 0,
          16 * 1024 * 1024, &s->history_max_bytes, error) ||
      !gst_bidi_provider_config_get_choice (pc, name,
          "endpointing-sensitivity", levels, &level, error))
    return FALSE;
  s->sensitivity = level ? g_ascii_strup (level, -1) :
      g_strdup (DEFAULT_SENSITIVITY);
  g_free (level);
  return TRUE;
}

/* The voice: the element's, else provider-config's, else matthew */
static gboolean
parse_voice (const GstBidiProviderConfig * config, NovaSettings * s,
    GError ** error)
{
  const GstStructure *pc = config->provider_config;
  const gchar *v = config->voice && *config->voice ? config->voice : NULL;

  if (!v && pc)
    v = gst_structure_get_string (pc, "voice");
  s->voice = g_strdup (v && *v ? v : DEFAULT_VOICE);
  if (!word_ok (s->voice, 64, "_-"))
    return settings_error (error, "invalid voice name \"%s\" (e.g. matthew, "
        "tiffany, amy)", s->voice);
  return TRUE;
}

NovaSettings *
gst_bidi_nova_settings_parse (GObject * self,
    const GstBidiProviderConfig * config, gchar ** url, GError ** error)
{
  const GstStructure *pc = config->provider_config;
  NovaSettings *s = g_new0 (NovaSettings, 1);

  *url = NULL;
  if (!gst_bidi_provider_check_config (pc, PROVIDER_NAME, error,
          "voice", G_TYPE_STRING,
          "max-tokens", G_TYPE_INT,
          "top-p", G_TYPE_DOUBLE,
          "temperature", G_TYPE_DOUBLE,
          "endpointing-sensitivity", G_TYPE_STRING,
          "silence-restart-s", G_TYPE_INT,
          "history-max-bytes", G_TYPE_INT,
          GST_BIDI_REALTIME_CONFIG_FIELDS, NULL) ||
      !parse_fields (pc, s, error) || !parse_voice (config, s, error))
    goto fail;

  s->model = g_strdup (config->model && *config->model ? config->model :
      DEFAULT_MODEL);
  if (!word_ok (s->model, 128, "-_.:")) {
    settings_error (error, "invalid model id \"%s\" (e.g. " DEFAULT_MODEL
        " or amazon.nova-2-5-sonic)", s->model);
    goto fail;
  }
  if (config->instructions && strlen (config->instructions) >
      MAX_INSTRUCTIONS_SIZE) {
    settings_error (error, "the system prompt is %" G_GSIZE_FORMAT " bytes; "
        "at most %u bytes (256 KiB) are accepted",
        strlen (config->instructions), MAX_INSTRUCTIONS_SIZE);
    goto fail;
  }
  /* Nova requires a system block: an empty one gets a default */
  s->instructions = config->instructions &&
      !gst_bidi_realtime_is_blank (config->instructions) ?
      gst_bidi_realtime_make_valid (config->instructions,
      MAX_INSTRUCTIONS_SIZE) : g_strdup (DEFAULT_INSTRUCTIONS);

  if (!parse_tools (config->tools_json, s, error))
    goto fail;
  /* the conversation to start from is checked here; the base replays it */
  if (config->history_json) {
    GPtrArray *messages = gst_bidi_history_parse (config->history_json,
        error);
    if (!messages)
      goto fail;
    g_ptr_array_unref (messages);
  }
  /* the credentials last: their error is the one that says most */
  if (!parse_credentials (self, config, s, error) ||
      !(*url = endpoint_url (config, s, error)))
    goto fail;
  return s;

fail:
  gst_bidi_nova_settings_free (s);
  return NULL;
}
