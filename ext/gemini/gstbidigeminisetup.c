/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The Gemini provider's settings, and what they make before a session
 * runs: the setup message and the conversation replayed into a new
 * session (gstbidigemini.c is the session itself). Pure functions of the
 * settings: nothing here touches a connection. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/bidi/gstbidihistory.h>
#include <gst/bidi/gstbiditools.h>

#include "gstbidigeminiprivate.h"
#include "gstbidirealtime.h"
#include "gstbidirealtimeprovider.h"

#define GST_CAT_DEFAULT bidi_gemini_debug

#define DEFAULT_HOST "wss://generativelanguage.googleapis.com"
#define ENDPOINT_PATH_FMT \
  "/ws/google.ai.generativelanguage.%s.GenerativeService.BidiGenerateContent"
#define DEFAULT_API_VERSION "v1beta"
#define DEFAULT_MODEL "gemini-3.8-live"
/* sessions are reported closed with 1011 at 58 minutes, resumed or not */
#define DEFAULT_SESSION_LIFETIME_S 3000
#define MAX_INSTRUCTIONS_SIZE (256 * 1024)
/* the conversation replayed into a new session: the model takes 131,072
 * tokens in all; the oldest messages beyond this go */
#define MAX_HISTORY_SIZE (256 * 1024)

/* A text content: {"role": @role, "parts": [{"text": @text}]} */
JsonObject *
gst_bidi_gemini_text_content (const gchar * role, const gchar * text)
{
  JsonObject *content = json_object_new (), *part = json_object_new ();
  JsonArray *parts = json_array_new ();

  json_object_set_string_member (part, "text", text);
  json_array_add_object_element (parts, part);
  if (role)
    json_object_set_string_member (content, "role", role);
  json_object_set_array_member (content, "parts", parts);
  return content;
}

/* Members of @src into @dst: objects merged member by member, a null
 * removes the member, anything else replaces it */
static void
json_merge (JsonObject * dst, JsonObject * src)
{
  JsonObjectIter iter;
  const gchar *name;
  JsonNode *node;

  json_object_iter_init (&iter, src);
  while (json_object_iter_next (&iter, &name, &node)) {
    JsonObject *into = gst_bidi_json_get_object (dst, name);

    if (JSON_NODE_HOLDS_NULL (node))
      json_object_remove_member (dst, name);
    else if (into && JSON_NODE_HOLDS_OBJECT (node))
      json_merge (into, json_node_get_object (node));
    else
      json_object_set_member (dst, name, json_node_copy (node));
  }
}

/* ------------------------------------------------------------------------
 * Settings
 * ------------------------------------------------------------------------ */

void
gst_bidi_gemini_settings_free (Settings * s)
{
  if (!s)
    return;
  g_free (s->model);
  g_free (s->instructions);
  g_free (s->voice);
  g_free (s->language);
  g_free (s->start_sensitivity);
  g_free (s->end_sensitivity);
  g_free (s->activity_handling);
  g_free (s->turn_coverage);
  g_free (s->media_resolution);
  g_free (s->default_scheduling);
  if (s->declarations)
    json_array_unref (s->declarations);
  if (s->scheduling)
    g_hash_table_unref (s->scheduling);
  if (s->setup_extra)
    json_object_unref (s->setup_extra);
  g_free (s);
}

/* provider-config's errors, as libgstbidi words them */
#define config_error(error, ...) \
    gst_bidi_provider_config_error (error, PROVIDER_NAME, __VA_ARGS__)

/* The wire name of @mode (one of @names), or NULL */
static const gchar *
mode_wire_name (const gchar * mode, const gchar * const *names,
    const gchar * const *wire)
{
  guint i;

  for (i = 0; names[i]; i++)
    if (g_ascii_strcasecmp (mode, names[i]) == 0)
      return wire[i];
  return NULL;
}

/* A per-tool setting: "mode" or "mode,name=mode,..." into *@def and
 * @per_tool (name -> wire name) */
static gboolean
parse_tool_modes (const gchar * spec, const gchar * field,
    const gchar * const *names, const gchar * const *wire, gchar ** def,
    GHashTable * per_tool, GError ** error)
{
  gchar **items = g_strsplit (spec, ",", -1);
  gboolean ok = TRUE;
  guint i;

  for (i = 0; ok && items[i]; i++) {
    gchar *item = g_strstrip (items[i]);
    gchar *eq = strchr (item, '=');
    const gchar *mode = eq ? g_strstrip (eq + 1) : item;
    const gchar *w;

    if (!*item)
      continue;
    if (eq)
      *eq = '\0';
    if (!(w = mode_wire_name (mode, names, wire))) {
      gchar *list = g_strjoinv (", ", (gchar **) names);
      ok = config_error (error, "\"%s\": \"%s\" is not one of %s", field,
          mode, list);
      g_free (list);
    } else if (eq) {
      g_hash_table_insert (per_tool, g_strdup (g_strstrip (item)),
          g_strdup (w));
    } else {
      g_free (*def);
      *def = g_strdup (w);
    }
  }
  g_strfreev (items);
  return ok;
}

static const gchar *const behavior_names[] =
    { "blocking", "non-blocking", NULL };
static const gchar *const behavior_wire[] = { "BLOCKING", "NON_BLOCKING" };
static const gchar *const scheduling_names[] =
    { "silent", "when-idle", "interrupt", NULL };
static const gchar *const scheduling_wire[] =
    { "SILENT", "WHEN_IDLE", "INTERRUPT" };

/* The element's tools as function declarations (JSON Schema parameters),
 * each with its behavior when one is set */
static gboolean
parse_tools (const gchar * tools_json, const gchar * behavior,
    Settings * s, GError ** error)
{
  GHashTable *per_tool = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, g_free);
  gchar *def = NULL;
  GPtrArray *specs;
  guint i;

  if (behavior && !parse_tool_modes (behavior, "tool-behavior",
          behavior_names, behavior_wire, &def, per_tool, error))
    goto fail;
  if (!(specs = gst_bidi_tools_parse (tools_json, error)))
    goto fail;
  for (i = 0; i < specs->len; i++) {
    GstBidiToolSpec *spec = g_ptr_array_index (specs, i);
    JsonObject *fn = json_object_new ();
    const gchar *b = g_hash_table_lookup (per_tool, spec->name);

    json_object_set_string_member (fn, "name", spec->name);
    if (*spec->description)
      json_object_set_string_member (fn, "description", spec->description);
    json_object_set_member (fn, "parametersJsonSchema",
        json_from_string (spec->parameters, NULL));
    if (b || def)
      json_object_set_string_member (fn, "behavior", b ? b : def);
    if (!s->declarations)
      s->declarations = json_array_new ();
    json_array_add_object_element (s->declarations, fn);
  }
  g_ptr_array_unref (specs);
  g_hash_table_unref (per_tool);
  g_free (def);
  return TRUE;

fail:
  g_hash_table_unref (per_tool);
  g_free (def);
  return FALSE;
}

static gboolean
voice_ok (const gchar * voice)
{
  const gchar *p;

  if (!*voice || strlen (voice) > 64)
    return FALSE;
  for (p = voice; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

static gboolean
model_ok (const gchar * model)
{
  const gchar *p;

  if (!*model || strlen (model) > 128)
    return FALSE;
  for (p = model; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("-_.:/@", *p))
      return FALSE;
  return TRUE;
}

/* Choices named in provider-config, and how they go on the wire */
static const gchar *const sensitivity_names[] = { "high", "low", NULL };
static const gchar *const start_wire[] =
    { "START_SENSITIVITY_HIGH", "START_SENSITIVITY_LOW" };
static const gchar *const end_wire[] =
    { "END_SENSITIVITY_HIGH", "END_SENSITIVITY_LOW" };
static const gchar *const handling_names[] =
    { "interrupt", "no-interruption", NULL };
static const gchar *const handling_wire[] =
    { "START_OF_ACTIVITY_INTERRUPTS", "NO_INTERRUPTION" };
static const gchar *const coverage_names[] =
    { "only-activity", "all-input", "audio-activity-and-all-video", NULL };
static const gchar *const coverage_wire[] =
    { "TURN_INCLUDES_ONLY_ACTIVITY", "TURN_INCLUDES_ALL_INPUT",
  "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO"
};
static const gchar *const resolution_names[] =
    { "low", "medium", "high", NULL };
static const gchar *const resolution_wire[] =
    { "MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM",
  "MEDIA_RESOLUTION_HIGH"
};

/* A choice field of provider-config, kept as its wire name */
static gboolean
get_wire_choice (const GstStructure * pc, const gchar * field,
    const gchar * const *names, const gchar * const *wire, gchar ** out,
    GError ** error)
{
  gchar *v = NULL;

  if (!gst_bidi_provider_config_get_choice (pc, PROVIDER_NAME, field, names,
          &v, error))
    return FALSE;
  if (v) {
    g_free (*out);
    *out = g_strdup (mode_wire_name (v, names, wire));
    g_free (v);
  }
  return TRUE;
}

static gchar *
endpoint_url (const GstBidiProviderConfig * config, const gchar * version,
    GError ** error)
{
  gchar *def, *url;
  GUri *uri;

  if (config->url && *config->url) {
    if (!(uri = gst_bidi_realtime_parse_ws_url (config->url, "url", error)))
      return NULL;
  } else {
    def = g_strdup_printf (DEFAULT_HOST ENDPOINT_PATH_FMT, version);
    uri = gst_bidi_realtime_parse_ws_url (def, "url", error);
    g_free (def);
    if (!uri)
      return NULL;
  }
  url = g_uri_to_string (uri);
  g_uri_unref (uri);
  return url;
}

/* Reads everything but the transport settings (the base reads those);
 * returns the endpoint. */
Settings *
gst_bidi_gemini_settings_parse (const GstBidiProviderConfig * config,
    gchar ** url, GError ** error)
{
  const GstStructure *pc = config->provider_config;
  const gchar *const modalities[] = { "audio", "text", NULL };
  const gchar *const turn_modes[] = { "auto", "none", NULL };
  const gchar *const versions[] = { "v1beta", "v1alpha", NULL };
  const gchar *name = PROVIDER_NAME;
  Settings *s = g_new0 (Settings, 1);
  gchar *modality = NULL, *turn = NULL, *version = NULL;
  const gchar *str;

  *url = NULL;
  if (!gst_bidi_provider_check_config (pc, PROVIDER_NAME, error,
          "response-modality", G_TYPE_STRING,
          "language-code", G_TYPE_STRING,
          "turn-detection", G_TYPE_STRING,
          "start-sensitivity", G_TYPE_STRING,
          "end-sensitivity", G_TYPE_STRING,
          "prefix-padding-ms", G_TYPE_INT,
          "silence-duration-ms", G_TYPE_INT,
          "activity-handling", G_TYPE_STRING,
          "turn-coverage", G_TYPE_STRING,
          "input-transcription", G_TYPE_BOOLEAN,
          "output-transcription", G_TYPE_BOOLEAN,
          "session-resumption", G_TYPE_BOOLEAN,
          "context-compression", G_TYPE_BOOLEAN,
          "session-lifetime-s", G_TYPE_INT,
          "compression-trigger-tokens", G_TYPE_INT,
          "compression-target-tokens", G_TYPE_INT,
          "temperature", G_TYPE_DOUBLE,
          "max-output-tokens", G_TYPE_INT,
          "media-resolution", G_TYPE_STRING,
          "tool-behavior", G_TYPE_STRING,
          "tool-scheduling", G_TYPE_STRING,
          "setup", G_TYPE_STRING,
          "api-version", G_TYPE_STRING,
          GST_BIDI_REALTIME_CONFIG_FIELDS, NULL))
    goto fail;

  s->model = g_strdup (config->model && *config->model ? config->model :
      DEFAULT_MODEL);
  if (g_str_has_prefix (s->model, "models/"))
    memmove (s->model, s->model + 7, strlen (s->model + 7) + 1);
  if (!model_ok (s->model))
    goto bad_model;
  if (!gst_bidi_provider_config_get_choice (pc, name, "api-version",
          versions, &version, error))
    goto fail;
  if (!(*url = endpoint_url (config, version ? version :
              DEFAULT_API_VERSION, error)))
    goto fail;

  if (config->instructions && strlen (config->instructions) >
      MAX_INSTRUCTIONS_SIZE)
    goto prompt_too_long;
  if (config->instructions && *config->instructions)
    s->instructions = gst_bidi_realtime_make_valid (config->instructions,
        MAX_INSTRUCTIONS_SIZE);
  if (config->voice && *config->voice) {
    s->voice = g_strdup (config->voice);
    if (!voice_ok (s->voice))
      goto bad_voice;
  }

  s->prefix_padding_ms = s->silence_duration_ms = -1;
  s->input_transcription = s->output_transcription = TRUE;
  s->resumption = s->compression = TRUE;
  s->session_lifetime_s = DEFAULT_SESSION_LIFETIME_S;
  s->temperature = -1;
  s->scheduling = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  if (!gst_bidi_provider_config_get_choice (pc, name, "response-modality",
          modalities, &modality, error) ||
      !gst_bidi_provider_config_get_choice (pc, name, "turn-detection",
          turn_modes, &turn, error) ||
      !get_wire_choice (pc, "start-sensitivity", sensitivity_names,
          start_wire, &s->start_sensitivity, error) ||
      !get_wire_choice (pc, "end-sensitivity", sensitivity_names, end_wire,
          &s->end_sensitivity, error) ||
      !get_wire_choice (pc, "activity-handling", handling_names,
          handling_wire, &s->activity_handling, error) ||
      !get_wire_choice (pc, "turn-coverage", coverage_names, coverage_wire,
          &s->turn_coverage, error) ||
      !get_wire_choice (pc, "media-resolution", resolution_names,
          resolution_wire, &s->media_resolution, error) ||
      !gst_bidi_provider_config_get_int (pc, name, "prefix-padding-ms", -1,
          10000, &s->prefix_padding_ms, error) ||
      !gst_bidi_provider_config_get_int (pc, name, "silence-duration-ms", -1,
          10000, &s->silence_duration_ms, error) ||
      !gst_bidi_provider_config_get_int (pc, name, "session-lifetime-s", 0,
          86400, &s->session_lifetime_s, error) ||
      !gst_bidi_provider_config_get_int (pc, name,
          "compression-trigger-tokens", 0, 10000000, &s->trigger_tokens,
          error) ||
      !gst_bidi_provider_config_get_int (pc, name,
          "compression-target-tokens", 0, 10000000, &s->target_tokens,
          error) ||
      !gst_bidi_provider_config_get_double (pc, name, "temperature", 0, 2,
          &s->temperature, error) ||
      !gst_bidi_provider_config_get_int (pc, name, "max-output-tokens", 0,
          1000000, &s->max_output_tokens, error))
    goto fail;
  s->text_only = g_strcmp0 (modality, "text") == 0;
  s->manual = g_strcmp0 (turn, "none") == 0;

  if (pc) {
    gst_structure_get_boolean (pc, "input-transcription",
        &s->input_transcription);
    gst_structure_get_boolean (pc, "output-transcription",
        &s->output_transcription);
    gst_structure_get_boolean (pc, "session-resumption", &s->resumption);
    gst_structure_get_boolean (pc, "context-compression", &s->compression);
    if ((str = gst_structure_get_string (pc, "language-code")) && *str) {
      if (strlen (str) > 35 || !gst_bidi_realtime_header_value_ok (str)) {
        config_error (error, "\"language-code\" must be a language tag "
            "such as en-US");
        goto fail;
      }
      s->language = g_strdup (str);
    }
    if ((str = gst_structure_get_string (pc, "tool-scheduling")) &&
        !parse_tool_modes (str, "tool-scheduling", scheduling_names,
            scheduling_wire, &s->default_scheduling, s->scheduling, error))
      goto fail;
    if ((str = gst_structure_get_string (pc, "setup"))) {
      JsonNode *node = gst_bidi_json_parse (str, NULL);

      if (!node || !JSON_NODE_HOLDS_OBJECT (node)) {
        if (node)
          json_node_unref (node);
        config_error (error, "\"setup\" must be a JSON object");
        goto fail;
      }
      s->setup_extra = json_object_ref (json_node_get_object (node));
      json_node_unref (node);
    }
  }

  if (!parse_tools (config->tools_json, pc ? gst_structure_get_string (pc,
              "tool-behavior") : NULL, s, error))
    goto fail;
  /* the conversation to start from is checked here; the base replays it */
  if (config->history_json) {
    GPtrArray *messages = gst_bidi_history_parse (config->history_json,
        error);
    if (!messages)
      goto fail;
    g_ptr_array_unref (messages);
  }
  g_free (modality);
  g_free (turn);
  g_free (version);
  return s;

  /* ERRORS */
bad_model:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Provider \"" PROVIDER_NAME "\": invalid model id \"%s\" (e.g. "
        DEFAULT_MODEL ")", s->model);
    goto fail;
  }
prompt_too_long:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Provider \"" PROVIDER_NAME "\": the system prompt is %"
        G_GSIZE_FORMAT " bytes; at most %u bytes (256 KiB) are accepted",
        strlen (config->instructions), MAX_INSTRUCTIONS_SIZE);
    goto fail;
  }
bad_voice:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Provider \"" PROVIDER_NAME "\": invalid voice name \"%s\" (e.g. "
        "Puck, Charon, Kore, Fenrir, Aoede, Leda, Orus, Zephyr)", s->voice);
    goto fail;
  }
fail:
  g_free (modality);
  g_free (turn);
  g_free (version);
  g_clear_pointer (url, g_free);
  gst_bidi_gemini_settings_free (s);
  return NULL;
}

/* ------------------------------------------------------------------------
 * The setup message
 * ------------------------------------------------------------------------ */

/* The 3.x models refuse these (protocol notes §12): never sent to them */
static void
strip_refused (GObject * self, const gchar * model, JsonObject * setup)
{
  JsonObject *gen = gst_bidi_json_get_object (setup, "generationConfig");
  JsonObject *pro = gst_bidi_json_get_object (setup, "proactivity");
  const gchar *const refused[] = { "enableAffectiveDialog", "thinkingConfig",
    NULL
  };
  guint i;

  if (!g_str_has_prefix (model, "gemini-3"))
    return;
  for (i = 0; refused[i]; i++) {
    JsonObject *where = gen && json_object_has_member (gen, refused[i]) ?
        gen : json_object_has_member (setup, refused[i]) ? setup : NULL;

    if (where) {
      GST_WARNING_OBJECT (self, "not sending %s: %s refuses it",
          refused[i], model);
      json_object_remove_member (where, refused[i]);
    }
  }
  /* proactive audio is always on: only "off" is refused */
  if (pro && json_object_has_member (pro, "proactiveAudio") &&
      !gst_bidi_json_get_boolean (pro, "proactiveAudio", TRUE)) {
    GST_WARNING_OBJECT (self, "not sending proactiveAudio false: %s always "
        "has it on", model);
    json_object_remove_member (setup, "proactivity");
  }
}

static JsonObject *
build_generation_config (Settings * s)
{
  JsonObject *gen = json_object_new ();
  JsonArray *modalities = json_array_new ();

  json_array_add_string_element (modalities, s->text_only ? "TEXT" : "AUDIO");
  json_object_set_array_member (gen, "responseModalities", modalities);
  if (!s->text_only && (s->voice || s->language)) {
    JsonObject *speech = json_object_new ();

    if (s->voice) {
      JsonObject *voice = json_object_new (), *prebuilt = json_object_new ();

      json_object_set_string_member (prebuilt, "voiceName", s->voice);
      json_object_set_object_member (voice, "prebuiltVoiceConfig", prebuilt);
      json_object_set_object_member (speech, "voiceConfig", voice);
    }
    if (s->language)
      json_object_set_string_member (speech, "languageCode", s->language);
    json_object_set_object_member (gen, "speechConfig", speech);
  }
  if (s->temperature >= 0)
    json_object_set_double_member (gen, "temperature", s->temperature);
  if (s->max_output_tokens > 0)
    json_object_set_int_member (gen, "maxOutputTokens", s->max_output_tokens);
  if (s->media_resolution)
    json_object_set_string_member (gen, "mediaResolution",
        s->media_resolution);
  return gen;
}

static JsonObject *
build_input_config (Settings * s)
{
  JsonObject *in = json_object_new (), *aad = json_object_new ();

  json_object_set_boolean_member (aad, "disabled", s->manual);
  if (!s->manual) {
    if (s->start_sensitivity)
      json_object_set_string_member (aad, "startOfSpeechSensitivity",
          s->start_sensitivity);
    if (s->end_sensitivity)
      json_object_set_string_member (aad, "endOfSpeechSensitivity",
          s->end_sensitivity);
    if (s->prefix_padding_ms >= 0)
      json_object_set_int_member (aad, "prefixPaddingMs",
          s->prefix_padding_ms);
    if (s->silence_duration_ms >= 0)
      json_object_set_int_member (aad, "silenceDurationMs",
          s->silence_duration_ms);
  }
  json_object_set_object_member (in, "automaticActivityDetection", aad);
  if (s->activity_handling)
    json_object_set_string_member (in, "activityHandling",
        s->activity_handling);
  if (s->turn_coverage)
    json_object_set_string_member (in, "turnCoverage", s->turn_coverage);
  return in;
}

JsonObject *
gst_bidi_gemini_build_setup (GObject * self, Settings * s,
    const gchar * handle)
{
  JsonObject *setup = json_object_new ();
  gchar *model = g_strconcat ("models/", s->model, NULL);

  json_object_set_string_member (setup, "model", model);
  g_free (model);
  json_object_set_object_member (setup, "generationConfig",
      build_generation_config (s));
  if (s->instructions)
    json_object_set_object_member (setup, "systemInstruction",
        gst_bidi_gemini_text_content ("user", s->instructions));
  if (s->declarations) {
    JsonObject *tool = json_object_new ();
    JsonArray *tools = json_array_new ();

    json_object_set_array_member (tool, "functionDeclarations",
        json_array_ref (s->declarations));
    json_array_add_object_element (tools, tool);
    json_object_set_array_member (setup, "tools", tools);
  }
  json_object_set_object_member (setup, "realtimeInputConfig",
      build_input_config (s));
  if (s->input_transcription)
    json_object_set_object_member (setup, "inputAudioTranscription",
        json_object_new ());
  if (s->output_transcription && !s->text_only)
    json_object_set_object_member (setup, "outputAudioTranscription",
        json_object_new ());
  if (s->resumption) {
    JsonObject *res = json_object_new ();

    if (handle)
      json_object_set_string_member (res, "handle", handle);
    json_object_set_object_member (setup, "sessionResumption", res);
  }
  if (s->compression) {
    JsonObject *cwc = json_object_new (), *sw = json_object_new ();

    if (s->target_tokens > 0)
      json_object_set_int_member (sw, "targetTokens", s->target_tokens);
    json_object_set_object_member (cwc, "slidingWindow", sw);
    if (s->trigger_tokens > 0)
      json_object_set_int_member (cwc, "triggerTokens", s->trigger_tokens);
    json_object_set_object_member (setup, "contextWindowCompression", cwc);
  }
  if (s->setup_extra)
    json_merge (setup, s->setup_extra);
  strip_refused (self, s->model, setup);
  return setup;
}

/* ------------------------------------------------------------------------
 * The conversation replayed into a new session
 * ------------------------------------------------------------------------ */

/* One history message as the text of a turn: the words, and the tool
 * calls and results said in words (a new session does not know the calls'
 * ids) */
static gchar *
message_as_text (const GstBidiMessage * m)
{
  GString *out = g_string_new (NULL);
  guint i;

  for (i = 0; i < m->blocks->len; i++) {
    const GstBidiBlock *b = g_ptr_array_index (m->blocks, i);

    if (out->len > 0)
      g_string_append_c (out, '\n');
    if (b->type == GST_BIDI_BLOCK_TEXT && b->text)
      g_string_append (out, b->text);
    else if (b->type == GST_BIDI_BLOCK_TOOL_USE)
      g_string_append_printf (out, "[called the tool %s with %s]",
          GST_STR_NULL (b->name), b->input ? b->input : "{}");
    else if (b->type == GST_BIDI_BLOCK_TOOL_RESULT)
      g_string_append_printf (out, "[the tool %s: %s]", b->error ?
          "failed" : "answered", b->content ? b->content : "");
  }
  return g_string_free (out, FALSE);
}

/* The history as one clientContent message of turns, the latest that fit
 * MAX_HISTORY_SIZE; turnComplete false, so that it prompts no answer */
gchar *
gst_bidi_gemini_build_history (GObject * self, GPtrArray * messages)
{
  JsonObject *cc = json_object_new (), *msg = json_object_new ();
  JsonArray *turns = json_array_new ();
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);
  gsize total = 0;
  guint i, first;
  JsonNode *root;
  gchar *json;

  for (i = 0; i < messages->len; i++) {
    gchar *t = message_as_text (g_ptr_array_index (messages, i));
    gchar *valid = gst_bidi_realtime_make_valid (t, MAX_TEXT_SIZE);

    g_free (t);
    g_ptr_array_add (texts, valid);
  }
  /* the latest messages that fit */
  for (first = messages->len; first > 0; first--) {
    gsize len = strlen (g_ptr_array_index (texts, first - 1));
    if (total + len > MAX_HISTORY_SIZE)
      break;
    total += len;
  }
  if (first > 0)
    GST_WARNING_OBJECT (self, "the conversation is long: replaying only its "
        "last %u of %u messages", messages->len - first, messages->len);
  for (i = first; i < messages->len; i++) {
    const GstBidiMessage *m = g_ptr_array_index (messages, i);
    const gchar *text = g_ptr_array_index (texts, i);

    if (gst_bidi_realtime_is_blank (text))
      continue;
    json_array_add_object_element (turns,
        gst_bidi_gemini_text_content (m->assistant ? "model" : "user", text));
  }
  g_ptr_array_unref (texts);
  if (json_array_get_length (turns) == 0) {
    json_array_unref (turns);
    json_object_unref (cc);
    json_object_unref (msg);
    return NULL;
  }
  GST_INFO_OBJECT (self, "replaying %u conversation turns",
      json_array_get_length (turns));
  json_object_set_array_member (cc, "turns", turns);
  json_object_set_boolean_member (cc, "turnComplete", FALSE);
  json_object_set_object_member (msg, "clientContent", cc);
  root = json_node_init_object (json_node_alloc (), msg);
  json = gst_bidi_json_to_string (root);
  json_node_unref (root);
  json_object_unref (msg);
  return json;
}
