/* gst-bidi: a mock Gemini Live (BidiGenerateContent) WebSocket server for
 * tests
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */


#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "mockgemini.h"
#define MOCK_WS_SHORTHANDS
#include "mockwscore.h"

/* output audio: S16LE mono at 24 kHz */
#define PCM_BYTES_PER_MS 48
/* what the service says when the key is wrong (close code 1007) */
#define BAD_KEY_REASON "API key not valid. Please pass a valid API key."
#define CLOSE_INVALID_ARGUMENT 1007
/* the default script's wait for the setup */
#define DEFAULT_SETUP_TIMEOUT_MS 60000

/* A MockGeminiScript is a MockWsScript */
#define CORE(script) ((MockWsScript *) (script))

/* A function call the mock sent */
typedef enum
{
  CALL_PENDING,
  CALL_CANCELLED,
  CALL_ANSWERED
} CallState;

typedef struct
{
  gchar *name;
  CallState state;
} Call;

typedef struct
{
  MockWsConn core;
  /* protocol state, for the checks */
  gboolean setup_seen;
  gboolean setup_complete_sent;
  gboolean vad_disabled;
  gboolean activity_open;
  GHashTable *calls;            /* id -> Call * */
} Conn;

struct _MockGemini
{
  MockWsServer core;
  gchar *api_key;               /* under core.lock */
};

/* ------------------------------------------------------------------------
 * Steps and scripts
 * ------------------------------------------------------------------------ */

static const MockWsClass gemini_class;

/* Server messages the test gives */
static gboolean
check_server_json (const gchar * json)
{
  return mock_ws_check_server_json (&gemini_class, "message", json);
}

static void
add_send (MockGeminiScript * script, const gchar * json, gboolean binary)
{
  g_return_if_fail (script != NULL && json != NULL);
  if (check_server_json (json))
    mock_ws_script_add (CORE (script), MOCK_WS_STEP_SEND, json)->binary =
        binary;
}

void
mock_gemini_script_send (MockGeminiScript * script, const gchar * json)
{
  add_send (script, json, TRUE);
}

void
mock_gemini_script_send_printf (MockGeminiScript * script,
    const gchar * format, ...)
{
  va_list args;
  gchar *json;

  va_start (args, format);
  json = g_strdup_vprintf (format, args);
  va_end (args);
  add_send (script, json, TRUE);
  g_free (json);
}

void
mock_gemini_script_send_text (MockGeminiScript * script, const gchar * json)
{
  add_send (script, json, FALSE);
}

void
mock_gemini_script_send_raw (MockGeminiScript * script, gconstpointer data,
    gsize size, gboolean binary)
{
  MockWsStep *s;

  g_return_if_fail (script != NULL && (data != NULL || size == 0));
  g_return_if_fail (binary || g_utf8_validate (data, size, NULL));
  s = mock_ws_script_add (CORE (script), MOCK_WS_STEP_RAW, NULL);
  s->data = g_bytes_new (data, size);
  s->binary = binary;
}

void
mock_gemini_script_wait (MockGeminiScript * script, const gchar * kind,
    guint count, guint timeout_ms)
{
  mock_ws_script_wait (CORE (script), kind, count, timeout_ms);
}

void
mock_gemini_script_setup (MockGeminiScript * script, guint timeout_ms)
{
  mock_gemini_script_wait (script, "setup", 1, timeout_ms);
  mock_gemini_script_send (script, "{\"setupComplete\":{}}");
}

void
mock_gemini_script_send_audio (MockGeminiScript * script, gconstpointer pcm,
    gsize size, guint chunk_ms, gboolean paced)
{
  g_return_if_fail (script != NULL && (pcm != NULL || size == 0));
  mock_ws_script_audio (CORE (script), pcm, size, chunk_ms, paced
      && chunk_ms > 0);
}

/* {"toolCall": ...}: @id and @name as JSON strings */
void
mock_gemini_script_send_tool_call (MockGeminiScript * script,
    const gchar * id, const gchar * name, const gchar * args_json)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *args = json_from_string (args_json ? args_json : "{}", NULL);
  JsonNode *root;
  gchar *json;

  g_return_if_fail (id != NULL && name != NULL);
  if (!args || !JSON_NODE_HOLDS_OBJECT (args)) {
    g_critical ("mockgemini: tool call arguments are not a JSON object: %s",
        args_json);
    if (args)
      json_node_unref (args);
    g_object_unref (b);
    return;
  }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "toolCall");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "functionCalls");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "args");
  json_builder_add_value (b, args);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json = json_to_string (root, FALSE);
  mock_gemini_script_send (script, json);
  g_free (json);
  json_node_unref (root);
  g_object_unref (b);
}

void
mock_gemini_script_send_tool_cancel (MockGeminiScript * script,
    const gchar * id)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);
  gchar *quoted;

  g_return_if_fail (id != NULL);
  json_node_set_string (node, id);
  quoted = json_to_string (node, FALSE);
  mock_gemini_script_send_printf (script,
      "{\"toolCallCancellation\":{\"ids\":[%s]}}", quoted);
  g_free (quoted);
  json_node_unref (node);
}
/* ------------------------------------------------------------------------
 * The golden exchange (protocol notes §10)
 * ------------------------------------------------------------------------ */

/* One serverContent message: modelTurn audio of @size bytes of @pcm, and
 * an outputTranscription of @transcript when not NULL */
static gchar *
audio_message (const guint8 * pcm, gsize size, const gchar * transcript)
{
  gchar *b64 = g_base64_encode (pcm, size);
  gchar *extra = NULL, *json;

  if (transcript) {
    JsonNode *node = json_node_new (JSON_NODE_VALUE);
    gchar *quoted;

    json_node_set_string (node, transcript);
    quoted = json_to_string (node, FALSE);
    extra = g_strdup_printf (",\"outputTranscription\":{\"text\":%s}",
        quoted);
    g_free (quoted);
    json_node_unref (node);
  }
  json = g_strdup_printf ("{\"serverContent\":{\"modelTurn\":{\"parts\":"
      "[{\"inlineData\":{\"mimeType\":\"audio/pcm;rate=24000\",\"data\":"
      "\"%s\"}}]}%s}}", b64, extra ? extra : "");
  g_free (b64);
  g_free (extra);
  return json;
}

/* The answer's words, each with the space before it */
static GPtrArray *
golden_words (void)
{
  GPtrArray *words = g_ptr_array_new_with_free_func (g_free);
  const gchar *p = MOCK_GEMINI_GOLDEN_ASSISTANT_TRANSCRIPT, *start = p;

  for (p++; *p; p++)
    if (*p == ' ') {
      g_ptr_array_add (words, g_strndup (start, p - start));
      start = p;
    }
  g_ptr_array_add (words, g_strdup (start));
  return words;
}

/* The chunks of @pcm, each a send step that knows its PCM (for the
 * audio-sent hook); a word of the transcript after each chunk but the
 * last, which carries the words left */
static void
golden_audio (MockGeminiScript * script, const guint8 * pcm, gsize size)
{
  GPtrArray *words = golden_words ();
  gsize chunk = MOCK_GEMINI_GOLDEN_CHUNK_MS * PCM_BYTES_PER_MS;
  gsize n_chunks = MAX ((size + chunk - 1) / chunk, 1), i;
  guint word = 0;

  for (i = 0; i < n_chunks; i++) {
    gsize offset = i * chunk, n = MIN (chunk, size - offset);
    gboolean last = i + 1 == n_chunks;
    gchar *json, *rest = NULL;
    MockWsStep *s;

    if (last) {
      GString *str = g_string_new (NULL);
      for (; word < words->len; word++)
        g_string_append (str, g_ptr_array_index (words, word));
      rest = g_string_free (str, FALSE);
    }
    json = audio_message (pcm + offset, n, rest);
    s = mock_ws_script_add (CORE (script), MOCK_WS_STEP_SEND, json);
    s->binary = TRUE;
    s->data = g_bytes_new (pcm + offset, n);
    g_free (json);
    g_free (rest);
    if (!last && word + 1 < words->len)
      mock_gemini_script_send_printf (script, "{\"serverContent\":"
          "{\"outputTranscription\":{\"text\":\"%s\"}}}", (gchar *)
          g_ptr_array_index (words, word++));
  }
  g_ptr_array_unref (words);
}

void
mock_gemini_script_add_golden (MockGeminiScript * script, gconstpointer pcm,
    gsize size)
{
  g_return_if_fail (script != NULL && (pcm != NULL || size == 0));
  mock_gemini_script_setup (script, MOCK_GEMINI_GOLDEN_TIMEOUT_MS);
  mock_gemini_script_wait (script, "realtimeInput.audio", 1,
      MOCK_GEMINI_GOLDEN_TIMEOUT_MS);
  mock_gemini_script_send (script,
      "{\"serverContent\":{\"inputTranscription\":{\"text\":\"Tell me\"}}}");
  mock_gemini_script_send (script,
      "{\"serverContent\":{\"inputTranscription\":{\"text\":\" a story.\"}}}");
  golden_audio (script, pcm, size);
  mock_gemini_script_send (script,
      "{\"serverContent\":{\"generationComplete\":true}}");
  mock_gemini_script_send_printf (script,
      "{\"serverContent\":{\"turnComplete\":true},\"usageMetadata\":"
      "{\"promptTokenCount\":%d,\"responseTokenCount\":%d,"
      "\"totalTokenCount\":%d,\"promptTokensDetails\":[{\"modality\":"
      "\"TEXT\",\"tokenCount\":%d},{\"modality\":\"AUDIO\",\"tokenCount\":"
      "%d}],\"responseTokensDetails\":[{\"modality\":\"AUDIO\","
      "\"tokenCount\":%d}]}}", MOCK_GEMINI_GOLDEN_PROMPT_TOKENS,
      MOCK_GEMINI_GOLDEN_RESPONSE_TOKENS, MOCK_GEMINI_GOLDEN_TOTAL_TOKENS,
      MOCK_GEMINI_GOLDEN_PROMPT_TEXT_TOKENS,
      MOCK_GEMINI_GOLDEN_PROMPT_AUDIO_TOKENS,
      MOCK_GEMINI_GOLDEN_RESPONSE_AUDIO_TOKENS);
  mock_gemini_script_send (script, "{\"sessionResumptionUpdate\":"
      "{\"newHandle\":\"" MOCK_GEMINI_GOLDEN_HANDLE "\",\"resumable\":true}}");
}

/* ------------------------------------------------------------------------
 * Recording
 * ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------
 * Connections
 * ------------------------------------------------------------------------ */

static void
call_free (Call * call)
{
  g_free (call->name);
  g_free (call);
}

static void
conn_init (MockWsConn * core)
{
  ((Conn *) core)->calls = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, (GDestroyNotify) call_free);
}

static void
conn_clear (MockWsConn * core)
{
  g_hash_table_unref (((Conn *) core)->calls);
}

/* Does @f match @kind: "field" or "realtimeInput.member" */
static gboolean
frame_is (MockWsFrame * f, const gchar * kind)
{
  const gchar *dot = strchr (kind, '.');

  if (!f->kind)
    return FALSE;
  if (!dot)
    return strcmp (f->kind, kind) == 0;
  return strncmp (f->kind, kind, dot - kind) == 0 &&
      f->kind[dot - kind] == '\0' && g_strcmp0 (f->member, dot + 1) == 0;
}

/* ------------------------------------------------------------------------
 * Client message validation (protocol notes §§3-4, 11, 12)
 * ------------------------------------------------------------------------ */

typedef struct
{
  MockWsCheck ws;               /* ws.what: the message's top-level field */
  Conn *conn;
  GByteArray *audio;            /* decoded input audio, NULL if none */
} Check;


/* proto3 JSON int64: an integer, or a string of decimal digits */
static gboolean
is_int64 (JsonNode * node)
{
  const gchar *s, *p;

  if (is_int (node))
    return TRUE;
  if (!is_string (node))
    return FALSE;
  s = json_node_get_string (node);
  p = s[0] == '-' ? s + 1 : s;
  if (!*p)
    return FALSE;
  for (; *p; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

static void
int64_member (Check * c, JsonObject * obj, const gchar * where,
    const gchar * name)
{
  member (c, obj, where, name, FALSE, is_int64,
      "an integer (a number or a string of digits)");
}

static gboolean
is_lower_camel (const gchar * name)
{
  const gchar *p;

  if (!g_ascii_islower (name[0]))
    return FALSE;
  for (p = name; *p; p++)
    if (!g_ascii_isalnum (*p))
      return FALSE;
  return TRUE;
}

/* Members of @obj not in @allowed: a name that is not lowerCamelCase is
 * named as such (the server takes snake_case too, we send camelCase) */
static void
only_members (Check * c, JsonObject * obj, const gchar * where,
    const gchar * const *allowed)
{
  GList *names = json_object_get_members (obj), *l;

  for (l = names; l; l = l->next) {
    const gchar *name = l->data;
    if (in_list (name, allowed))
      continue;
    if (!is_lower_camel (name))
      problem (c, "%s%s is not lowerCamelCase", where, name);
    else
      problem (c, "%s%s is not a known field", where, name);
  }
  g_list_free (names);
}

/* The members of @arr, each an object (a problem for the others) */
static GList *
object_elements (Check * c, JsonArray * arr, const gchar * where)
{
  GList *out = NULL;
  guint i;

  for (i = 0; arr && i < json_array_get_length (arr); i++) {
    JsonNode *node = json_array_get_element (arr, i);
    if (JSON_NODE_HOLDS_OBJECT (node))
      out = g_list_append (out, json_node_get_object (node));
    else
      problem (c, "%s[%u] must be an object, not %s", where, i,
          json_kind (node));
  }
  return out;
}

/* {parts:[{text}], role?} */
static void
check_content_parts (Check * c, JsonObject * obj, const gchar * where)
{
  static const gchar *const part_fields[] = { "text", NULL };
  gchar *pw = g_strconcat (where, "parts[].", NULL);
  JsonArray *parts = array_member (c, obj, where, "parts", TRUE);
  GList *l, *list = object_elements (c, parts, where);

  if (parts && json_array_get_length (parts) == 0)
    problem (c, "%sparts is empty", where);
  for (l = list; l; l = l->next) {
    only_members (c, l->data, pw, part_fields);
    string_member (c, l->data, pw, "text", TRUE);
  }
  g_list_free (list);
  g_free (pw);
}

static void
check_system_instruction (Check * c, JsonObject * obj, const gchar * where)
{
  static const gchar *const fields[] = { "parts", "role", NULL };
  gchar *w = g_strconcat (where, "systemInstruction.", NULL);
  JsonObject *si = object_member (c, obj, where, "systemInstruction", FALSE);

  if (si) {
    only_members (c, si, w, fields);
    check_content_parts (c, si, w);
    string_member (c, si, w, "role", FALSE);
  }
  g_free (w);
}

/* [A-Za-z0-9_.:-]{1,128} */
static gboolean
valid_function_name (const gchar * name)
{
  gsize len = strlen (name), i;

  if (len == 0 || len > 128)
    return FALSE;
  for (i = 0; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && !strchr ("_.:-", name[i]))
      return FALSE;
  return TRUE;
}

static void
check_declaration (Check * c, JsonObject * decl, const gchar * where)
{
  static const gchar *const fields[] = { "name", "description", "parameters",
    "parametersJsonSchema", "behavior", NULL
  };
  static const gchar *const behaviors[] = { "BLOCKING", "NON_BLOCKING", NULL };
  const gchar *name;

  only_members (c, decl, where, fields);
  name = string_member (c, decl, where, "name", TRUE);
  if (name && !valid_function_name (name))
    problem (c, "%sname \"%s\" is not 1-128 of [A-Za-z0-9_.:-]", where, name);
  string_member (c, decl, where, "description", FALSE);
  /* the schemas are user data: only their kind is checked */
  object_member (c, decl, where, "parameters", FALSE);
  object_member (c, decl, where, "parametersJsonSchema", FALSE);
  if (json_object_has_member (decl, "parameters") &&
      json_object_has_member (decl, "parametersJsonSchema"))
    problem (c, "%sparameters and parametersJsonSchema are exclusive", where);
  enum_member (c, decl, where, "behavior", FALSE, behaviors);
}

/* @arr: [{functionDeclarations:[...]}] */
static void
check_tools (Check * c, JsonArray * arr, const gchar * where)
{
  static const gchar *const fields[] = { "functionDeclarations", NULL };
  gchar *tw = g_strconcat (where, "[].", NULL);
  gchar *dw = g_strconcat (where, "[].functionDeclarations[].", NULL);
  GList *l, *tools = object_elements (c, arr, where);

  for (l = tools; l; l = l->next) {
    JsonArray *decls;
    GList *d, *list;

    only_members (c, l->data, tw, fields);
    decls = array_member (c, l->data, tw, "functionDeclarations", TRUE);
    list = object_elements (c, decls, dw);
    for (d = list; d; d = d->next)
      check_declaration (c, d->data, dw);
    g_list_free (list);
  }
  g_list_free (tools);
  g_free (tw);
  g_free (dw);
}

static void
check_speech_config (Check * c, JsonObject * gc)
{
  static const gchar *const fields[] = { "voiceConfig", "languageCode", NULL };
  static const gchar *const vc_fields[] = { "prebuiltVoiceConfig", NULL };
  static const gchar *const pvc_fields[] = { "voiceName", NULL };
  static const gchar w[] = "setup.generationConfig.speechConfig.";
  static const gchar vw[] = "setup.generationConfig.speechConfig.voiceConfig.";
  static const gchar pw[] = "setup.generationConfig.speechConfig.voiceConfig."
      "prebuiltVoiceConfig.";
  JsonObject *sc, *vc, *pvc;

  sc = object_member (c, gc, "setup.generationConfig.", "speechConfig", FALSE);
  if (!sc)
    return;
  only_members (c, sc, w, fields);
  string_member (c, sc, w, "languageCode", FALSE);
  if (!(vc = object_member (c, sc, w, "voiceConfig", FALSE)))
    return;
  only_members (c, vc, vw, vc_fields);
  if (!(pvc = object_member (c, vc, vw, "prebuiltVoiceConfig", TRUE)))
    return;
  only_members (c, pvc, pw, pvc_fields);
  string_member (c, pvc, pw, "voiceName", TRUE);
}

static void
check_modalities (Check * c, JsonObject * gc, const gchar * where)
{
  JsonArray *arr = array_member (c, gc, where, "responseModalities", FALSE);
  JsonNode *node;
  const gchar *m;

  if (!arr)
    return;
  node = json_array_get_length (arr) == 1 ?
      json_array_get_element (arr, 0) : NULL;
  m = node && is_string (node) ? json_node_get_string (node) : NULL;
  if (g_strcmp0 (m, "AUDIO") != 0 && g_strcmp0 (m, "TEXT") != 0)
    problem (c, "%sresponseModalities must be [\"AUDIO\"] or [\"TEXT\"]",
        where);
}

static void
check_generation_config (Check * c, JsonObject * setup)
{
  static const gchar *const fields[] = { "responseModalities", "temperature",
    "topP", "topK", "maxOutputTokens", "seed", "mediaResolution",
    "speechConfig", "thinkingConfig", "enableAffectiveDialog", NULL
  };
  static const gchar *const resolutions[] = { "MEDIA_RESOLUTION_UNSPECIFIED",
    "MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM",
    "MEDIA_RESOLUTION_HIGH", NULL
  };
  static const gchar w[] = "setup.generationConfig.";
  JsonObject *gc = object_member (c, setup, "setup.", "generationConfig",
      FALSE);

  if (!gc)
    return;
  only_members (c, gc, w, fields);
  /* §12: refused by the current model */
  if (json_object_has_member (gc, "thinkingConfig"))
    problem (c, "%sthinkingConfig is not supported (leave it out)", w);
  if (json_object_has_member (gc, "enableAffectiveDialog"))
    problem (c, "%senableAffectiveDialog was removed (never send it)", w);
  check_modalities (c, gc, w);
  number_member (c, gc, w, "temperature", 0, 2);
  number_member (c, gc, w, "topP", 0, 1);
  int_member (c, gc, w, "topK", FALSE, 1, NULL);
  int_member (c, gc, w, "maxOutputTokens", FALSE, 1, NULL);
  member (c, gc, w, "seed", FALSE, is_int, "an integer");
  enum_member (c, gc, w, "mediaResolution", FALSE, resolutions);
  check_speech_config (c, gc);
}

static void
check_activity_detection (Check * c, JsonObject * ric)
{
  static const gchar *const fields[] = { "disabled",
    "startOfSpeechSensitivity", "endOfSpeechSensitivity", "prefixPaddingMs",
    "silenceDurationMs", NULL
  };
  static const gchar *const sos[] = { "START_SENSITIVITY_UNSPECIFIED",
    "START_SENSITIVITY_HIGH", "START_SENSITIVITY_LOW", NULL
  };
  static const gchar *const eos[] = { "END_SENSITIVITY_UNSPECIFIED",
    "END_SENSITIVITY_HIGH", "END_SENSITIVITY_LOW", NULL
  };
  static const gchar w[] =
      "setup.realtimeInputConfig.automaticActivityDetection.";
  JsonObject *aad = object_member (c, ric, "setup.realtimeInputConfig.",
      "automaticActivityDetection", FALSE);
  JsonNode *disabled;

  if (!aad)
    return;
  only_members (c, aad, w, fields);
  disabled = bool_member (c, aad, w, "disabled", FALSE);
  c->conn->vad_disabled = disabled && json_node_get_boolean (disabled);
  enum_member (c, aad, w, "startOfSpeechSensitivity", FALSE, sos);
  enum_member (c, aad, w, "endOfSpeechSensitivity", FALSE, eos);
  int_member (c, aad, w, "prefixPaddingMs", FALSE, 0, NULL);
  int_member (c, aad, w, "silenceDurationMs", FALSE, 0, NULL);
}

static void
check_realtime_input_config (Check * c, JsonObject * setup)
{
  static const gchar *const fields[] = { "automaticActivityDetection",
    "activityHandling", "turnCoverage", NULL
  };
  static const gchar *const handling[] = {
    "ACTIVITY_HANDLING_UNSPECIFIED", "START_OF_ACTIVITY_INTERRUPTS",
    "NO_INTERRUPTION", NULL
  };
  static const gchar *const coverage[] = { "TURN_COVERAGE_UNSPECIFIED",
    "TURN_INCLUDES_ONLY_ACTIVITY", "TURN_INCLUDES_ALL_INPUT",
    "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO", NULL
  };
  static const gchar w[] = "setup.realtimeInputConfig.";
  JsonObject *ric = object_member (c, setup, "setup.", "realtimeInputConfig",
      FALSE);

  if (!ric)
    return;
  only_members (c, ric, w, fields);
  check_activity_detection (c, ric);
  enum_member (c, ric, w, "activityHandling", FALSE, handling);
  enum_member (c, ric, w, "turnCoverage", FALSE, coverage);
}

/* inputAudioTranscription, outputAudioTranscription: {} or
 * {languageCodes: [strings]} */
static void
check_transcription (Check * c, JsonObject * setup, const gchar * name)
{
  static const gchar *const fields[] = { "languageCodes", NULL };
  gchar *w = g_strdup_printf ("setup.%s.", name);
  JsonObject *t = object_member (c, setup, "setup.", name, FALSE);
  JsonArray *codes;
  guint i;

  if (t) {
    only_members (c, t, w, fields);
    codes = array_member (c, t, w, "languageCodes", FALSE);
    for (i = 0; codes && i < json_array_get_length (codes); i++)
      if (!is_string (json_array_get_element (codes, i)))
        problem (c, "%slanguageCodes[%u] must be a string", w, i);
  }
  g_free (w);
}

static void
check_session_options (Check * c, JsonObject * setup)
{
  static const gchar *const sr_fields[] = { "handle", NULL };
  static const gchar *const cwc_fields[] = { "triggerTokens",
    "slidingWindow", NULL
  };
  static const gchar *const sw_fields[] = { "targetTokens", NULL };
  static const gchar *const hc_fields[] = { "initialHistoryInClientContent",
    NULL
  };
  static const gchar cw[] = "setup.contextWindowCompression.";
  static const gchar sw[] = "setup.contextWindowCompression.slidingWindow.";
  JsonObject *o;

  if ((o = object_member (c, setup, "setup.", "sessionResumption", FALSE))) {
    only_members (c, o, "setup.sessionResumption.", sr_fields);
    string_member (c, o, "setup.sessionResumption.", "handle", FALSE);
  }
  if ((o = object_member (c, setup, "setup.", "contextWindowCompression",
              FALSE))) {
    only_members (c, o, cw, cwc_fields);
    int64_member (c, o, cw, "triggerTokens");
    if ((o = object_member (c, o, cw, "slidingWindow", FALSE))) {
      only_members (c, o, sw, sw_fields);
      int64_member (c, o, sw, "targetTokens");
    }
  }
  if ((o = object_member (c, setup, "setup.", "historyConfig", FALSE))) {
    only_members (c, o, "setup.historyConfig.", hc_fields);
    bool_member (c, o, "setup.historyConfig.",
        "initialHistoryInClientContent", TRUE);
  }
}

static void
check_proactivity (Check * c, JsonObject * setup)
{
  static const gchar *const fields[] = { "proactiveAudio", NULL };
  JsonObject *o = object_member (c, setup, "setup.", "proactivity", FALSE);
  JsonNode *node;

  if (!o)
    return;
  only_members (c, o, "setup.proactivity.", fields);
  node = bool_member (c, o, "setup.proactivity.", "proactiveAudio", FALSE);
  /* §12: always on; false is an error */
  if (node && !json_node_get_boolean (node))
    problem (c, "setup.proactivity.proactiveAudio false is refused by the "
        "current model (leave it out)");
}

static void
check_model (Check * c, JsonObject * setup)
{
  const gchar *model = string_member (c, setup, "setup.", "model", TRUE);

  if (model && (!g_str_has_prefix (model, "models/") || model[7] == '\0' ||
          strchr (model + 7, '/') || strchr (model + 7, ' ')))
    problem (c, "setup.model \"%s\" is not \"models/<id>\"", model);
}

static void
check_setup (Check * c, JsonObject * setup)
{
  static const gchar *const fields[] = { "model", "generationConfig",
    "systemInstruction", "tools", "realtimeInputConfig",
    "inputAudioTranscription", "outputAudioTranscription",
    "sessionResumption", "contextWindowCompression", "proactivity",
    "historyConfig", NULL
  };
  JsonArray *tools;

  if (c->conn->setup_seen) {
    problem (c, "setup sent again (only once per connection)");
    return;
  }
  c->conn->setup_seen = TRUE;
  only_members (c, setup, "setup.", fields);
  check_model (c, setup);
  check_generation_config (c, setup);
  check_system_instruction (c, setup, "setup.");
  if ((tools = array_member (c, setup, "setup.", "tools", FALSE)))
    check_tools (c, tools, "setup.tools");
  check_realtime_input_config (c, setup);
  check_transcription (c, setup, "inputAudioTranscription");
  check_transcription (c, setup, "outputAudioTranscription");
  check_session_options (c, setup);
  check_proactivity (c, setup);
}

/* {mimeType, data} with data valid base64; the decoded bytes */
static GByteArray *
check_blob (Check * c, JsonObject * blob, const gchar * where)
{
  static const gchar *const fields[] = { "mimeType", "data", NULL };
  const gchar *data;
  GByteArray *bytes;

  only_members (c, blob, where, fields);
  string_member (c, blob, where, "mimeType", TRUE);
  if (!(data = string_member (c, blob, where, "data", TRUE)))
    return NULL;
  bytes = g_byte_array_new ();
  if (!mock_ws_decode_base64 (data, bytes)) {
    problem (c, "%sdata is not valid base64", where);
    g_clear_pointer (&bytes, g_byte_array_unref);
  }
  return bytes;
}

static void
check_audio (Check * c, JsonObject * blob)
{
  static const gchar w[] = "realtimeInput.audio.";
  const gchar *mime = json_object_get_string_member_with_default (blob,
      "mimeType", NULL);

  c->audio = check_blob (c, blob, w);
  if (mime && strcmp (mime, "audio/pcm;rate=16000") != 0)
    problem (c, "%smimeType is \"%s\", not \"audio/pcm;rate=16000\"", w,
        mime);
  if (c->audio && c->audio->len % 2 != 0)
    problem (c, "%sdata has %u bytes: not whole 16-bit samples", w,
        c->audio->len);
}

static void
check_video (Check * c, JsonObject * blob)
{
  static const guint8 jpeg[] = { 0xff, 0xd8, 0xff };
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  static const gchar w[] = "realtimeInput.video.";
  const gchar *mime = json_object_get_string_member_with_default (blob,
      "mimeType", NULL);
  GByteArray *bytes = check_blob (c, blob, w);
  const guint8 *sig = NULL;
  gsize sig_len = 0;

  if (g_strcmp0 (mime, "image/jpeg") == 0) {
    sig = jpeg;
    sig_len = sizeof (jpeg);
  } else if (g_strcmp0 (mime, "image/png") == 0) {
    sig = png;
    sig_len = sizeof (png);
  } else if (mime) {
    problem (c, "%smimeType is \"%s\", not image/jpeg or image/png", w, mime);
  }
  if (bytes && sig && (bytes->len < sig_len ||
          memcmp (bytes->data, sig, sig_len) != 0))
    problem (c, "%sdata does not start with the %s signature", w, mime);
  if (bytes)
    g_byte_array_unref (bytes);
}

/* activityStart / activityEnd: {} and only with manual activity detection,
 * in turn */
static void
check_activity (Check * c, JsonObject * ri, const gchar * name,
    gboolean start)
{
  static const gchar *const none[] = { NULL };
  JsonObject *o = object_member (c, ri, "realtimeInput.", name, TRUE);
  gchar *w = g_strdup_printf ("realtimeInput.%s.", name);

  if (o)
    only_members (c, o, w, none);
  g_free (w);
  if (!c->conn->vad_disabled) {
    problem (c, "realtimeInput.%s without automaticActivityDetection."
        "disabled in the setup", name);
    return;
  }
  if (start == c->conn->activity_open)
    problem (c, "realtimeInput.%s %s", name, start ?
        "while an activity is open (no activityEnd since the last start)" :
        "without an activityStart before it");
  c->conn->activity_open = start;
}

static void
check_realtime_input (Check * c, JsonObject * ri, const gchar * m)
{
  static const gchar *const fields[] = { "audio", "video", "text",
    "activityStart", "activityEnd", "audioStreamEnd", NULL
  };
  JsonObject *o;
  JsonNode *node;
  const gchar *text;

  only_members (c, ri, "realtimeInput.", fields);
  if (json_object_get_size (ri) != 1) {
    problem (c, "realtimeInput has %u members, not exactly one of audio, "
        "video, text, activityStart, activityEnd, audioStreamEnd",
        json_object_get_size (ri));
    return;
  }
  if (strcmp (m, "audio") == 0) {
    if ((o = object_member (c, ri, "realtimeInput.", "audio", TRUE)))
      check_audio (c, o);
  } else if (strcmp (m, "video") == 0) {
    if ((o = object_member (c, ri, "realtimeInput.", "video", TRUE)))
      check_video (c, o);
  } else if (strcmp (m, "text") == 0) {
    text = string_member (c, ri, "realtimeInput.", "text", TRUE);
    if (text && !*text)
      problem (c, "realtimeInput.text is empty");
  } else if (strcmp (m, "activityStart") == 0) {
    check_activity (c, ri, m, TRUE);
  } else if (strcmp (m, "activityEnd") == 0) {
    check_activity (c, ri, m, FALSE);
  } else if (strcmp (m, "audioStreamEnd") == 0) {
    node = bool_member (c, ri, "realtimeInput.", m, TRUE);
    if (node && !json_node_get_boolean (node))
      problem (c, "realtimeInput.audioStreamEnd must be true");
    if (c->conn->vad_disabled)
      problem (c, "realtimeInput.audioStreamEnd is for automatic activity "
          "detection only");
  }
}

static void
check_client_content (Check * c, JsonObject * cc)
{
  static const gchar *const fields[] = { "turns", "turnComplete", NULL };
  static const gchar *const turn_fields[] = { "role", "parts", NULL };
  static const gchar *const roles[] = { "user", "model", NULL };
  static const gchar tw[] = "clientContent.turns[].";
  JsonArray *turns;
  GList *l, *list;

  only_members (c, cc, "clientContent.", fields);
  bool_member (c, cc, "clientContent.", "turnComplete", FALSE);
  turns = array_member (c, cc, "clientContent.", "turns", FALSE);
  list = object_elements (c, turns, "clientContent.turns");
  for (l = list; l; l = l->next) {
    only_members (c, l->data, tw, turn_fields);
    enum_member (c, l->data, tw, "role", TRUE, roles);
    check_content_parts (c, l->data, tw);
  }
  g_list_free (list);
}

/* Not null, nor an empty object, array or string: §12 */
static gboolean
is_informative (JsonNode * node)
{
  if (JSON_NODE_HOLDS_NULL (node))
    return FALSE;
  if (JSON_NODE_HOLDS_OBJECT (node))
    return json_object_get_size (json_node_get_object (node)) > 0;
  if (JSON_NODE_HOLDS_ARRAY (node))
    return json_array_get_length (json_node_get_array (node)) > 0;
  if (is_string (node))
    return json_node_get_string (node)[0] != '\0';
  return TRUE;
}

/* output or error, informative; the rest of it is user data */
static void
check_function_result (Check * c, JsonObject * fr, const gchar * where)
{
  JsonObject *resp = object_member (c, fr, where, "response", TRUE);
  JsonNode *output, *error;

  if (!resp)
    return;
  output = json_object_get_member (resp, "output");
  error = json_object_get_member (resp, "error");
  if (!output && !error)
    problem (c, "%sresponse has neither output nor error", where);
  if (output && !is_informative (output))
    problem (c, "%sresponse.output is empty or null", where);
  if (error && !is_informative (error))
    problem (c, "%sresponse.error is empty or null", where);
}

/* The call @id must be one the mock sent here, open; @name its name */
static void
check_function_call_id (Check * c, JsonObject * fr, const gchar * where,
    gboolean final)
{
  const gchar *id = string_member (c, fr, where, "id", TRUE);
  const gchar *name = string_member (c, fr, where, "name", TRUE);
  Call *call = id ? g_hash_table_lookup (c->conn->calls, id) : NULL;

  if (!id)
    return;
  if (!call) {
    problem (c, "%sid \"%s\" is not a call the server made", where, id);
    return;
  }
  if (call->state == CALL_CANCELLED)
    problem (c, "%sid \"%s\" was cancelled (toolCallCancellation)", where, id);
  else if (call->state == CALL_ANSWERED)
    problem (c, "%sid \"%s\" was answered before", where, id);
  if (name && strcmp (name, call->name) != 0)
    problem (c, "%sname \"%s\" is not the call's name \"%s\"", where, name,
        call->name);
  else if (final && call->state == CALL_PENDING)
    call->state = CALL_ANSWERED;
}

static void
check_tool_response (Check * c, JsonObject * tr)
{
  static const gchar *const fields[] = { "functionResponses", NULL };
  static const gchar *const fr_fields[] = { "id", "name", "response",
    "scheduling", "willContinue", NULL
  };
  static const gchar *const scheduling[] = { "SILENT", "WHEN_IDLE",
    "INTERRUPT", NULL
  };
  static const gchar w[] = "toolResponse.functionResponses[].";
  JsonArray *arr;
  GList *l, *list;

  only_members (c, tr, "toolResponse.", fields);
  arr = array_member (c, tr, "toolResponse.", "functionResponses", TRUE);
  if (arr && json_array_get_length (arr) == 0)
    problem (c, "toolResponse.functionResponses is empty");
  list = object_elements (c, arr, "toolResponse.functionResponses");
  for (l = list; l; l = l->next) {
    JsonNode *more;

    only_members (c, l->data, w, fr_fields);
    /* a partial result (willContinue) leaves the call open */
    more = bool_member (c, l->data, w, "willContinue", FALSE);
    check_function_call_id (c, l->data, w, !more ||
        !json_node_get_boolean (more));
    check_function_result (c, l->data, w);
    enum_member (c, l->data, w, "scheduling", FALSE, scheduling);
  }
  g_list_free (list);
}

/* §11: {systemInstruction?, tools?: {tools: [...]}} */
static void
check_context_update (Check * c, JsonObject * cu)
{
  static const gchar *const fields[] = { "systemInstruction", "tools", NULL };
  static const gchar *const tools_fields[] = { "tools", NULL };
  JsonObject *tools;
  JsonArray *arr;

  only_members (c, cu, "contextUpdate.", fields);
  check_system_instruction (c, cu, "contextUpdate.");
  if ((tools = object_member (c, cu, "contextUpdate.", "tools", FALSE))) {
    only_members (c, tools, "contextUpdate.tools.", tools_fields);
    if ((arr = array_member (c, tools, "contextUpdate.tools.", "tools",
                TRUE)))
      check_tools (c, arr, "contextUpdate.tools.tools");
  }
}

static const gchar *const message_kinds[] = { "setup", "clientContent",
  "realtimeInput", "toolResponse", "contextUpdate", NULL
};

/* The message's one top-level field (the first known one), or NULL */
static const gchar *
message_kind (JsonObject * msg)
{
  guint i;

  for (i = 0; message_kinds[i]; i++)
    if (json_object_has_member (msg, message_kinds[i]))
      return message_kinds[i];
  return NULL;
}

/* The order of messages: setup first and once, nothing before
 * setupComplete */
static void
check_order (Check * c)
{
  Conn *conn = c->conn;

  if (strcmp (c->ws.what, "setup") == 0)
    return;
  if (!conn->setup_seen)
    problem (c, "the first message must be setup");
  else if (!conn->setup_complete_sent)
    problem (c, "sent before the server's setupComplete");
}

static void
check_message (Check * c, JsonObject * msg, MockWsFrame * frame)
{
  JsonObject *body;
  const gchar *kind = message_kind (msg);

  only_members (c, msg, "", message_kinds);
  if (!kind) {
    problem (c, "none of the top-level fields setup, clientContent, "
        "realtimeInput, toolResponse, contextUpdate");
    return;
  }
  frame->kind = g_strdup (kind);
  c->ws.what = frame->kind;
  if (json_object_get_size (msg) != 1)
    problem (c, "%u top-level fields, not exactly one",
        json_object_get_size (msg));
  check_order (c);
  if (!(body = object_member (c, msg, "", kind, TRUE)))
    return;
  if (strcmp (kind, "setup") == 0) {
    check_setup (c, body);
  } else if (strcmp (kind, "realtimeInput") == 0) {
    GList *names = json_object_get_members (body);
    if (names)
      frame->member = g_strdup (names->data);
    g_list_free (names);
    check_realtime_input (c, body, frame->member ? frame->member : "");
  } else if (strcmp (kind, "clientContent") == 0) {
    check_client_content (c, body);
  } else if (strcmp (kind, "toolResponse") == 0) {
    check_tool_response (c, body);
  } else {
    check_context_update (c, body);
  }
}

/* ------------------------------------------------------------------------
 * The WebSocket (mock thread)
 * ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------
 * The protocol's hooks (mock thread)
 * ------------------------------------------------------------------------ */

static GByteArray *
check_frame (MockWsConn * conn, MockWsCheck * ws, MockWsFrame * frame,
    JsonObject * msg)
{
  Check c = { *ws, (Conn *) conn, NULL };

  check_message (&c, msg, frame);
  return c.audio;
}

/* Member @name of @obj when it holds an object, else NULL */
static JsonObject *
get_object (JsonObject * obj, const gchar * name)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  return node && JSON_NODE_HOLDS_OBJECT (node) ?
      json_node_get_object (node) : NULL;
}

static JsonArray *
get_array (JsonObject * obj, const gchar * name)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  return node && JSON_NODE_HOLDS_ARRAY (node) ?
      json_node_get_array (node) : NULL;
}

/* Remembers what the client may answer or must wait for: setupComplete,
 * function calls and their cancellations */
static void
note_sent (Conn * conn, const gchar * json)
{
  JsonObject *msg = mock_ws_parse_object (json, NULL);
  JsonArray *arr;
  guint i;

  if (!msg)
    return;
  if (json_object_has_member (msg, "setupComplete"))
    conn->setup_complete_sent = TRUE;
  arr = get_array (get_object (msg, "toolCall"), "functionCalls");
  for (i = 0; arr && i < json_array_get_length (arr); i++) {
    JsonNode *node = json_array_get_element (arr, i);
    JsonObject *fc = JSON_NODE_HOLDS_OBJECT (node) ?
        json_node_get_object (node) : NULL;
    const gchar *id = fc ? json_object_get_string_member_with_default (fc,
        "id", NULL) : NULL;
    Call *call;

    if (!id)
      continue;
    call = g_new0 (Call, 1);
    call->name = g_strdup (json_object_get_string_member_with_default (fc,
            "name", ""));
    g_hash_table_replace (conn->calls, g_strdup (id), call);
  }
  arr = get_array (get_object (msg, "toolCallCancellation"), "ids");
  for (i = 0; arr && i < json_array_get_length (arr); i++) {
    JsonNode *node = json_array_get_element (arr, i);
    const gchar *id = is_string (node) ? json_node_get_string (node) : NULL;
    Call *call = id ? g_hash_table_lookup (conn->calls, id) : NULL;
    if (call && call->state == CALL_PENDING)
      call->state = CALL_CANCELLED;
  }
  json_object_unref (msg);
}

static gchar *
prepare_send (MockWsConn * conn, MockWsStep * s)
{
  note_sent ((Conn *) conn, s->text);
  return g_strdup (s->text);
}

/* One modelTurn message of @size bytes of audio, binary */
static gboolean
send_audio (MockWsConn * conn, MockWsStep * s, const guint8 * pcm, gsize size)
{
  gchar *json;

  (void) s;
  if (!mock_ws_conn_can_send (conn))
    return FALSE;
  json = audio_message (pcm, size, NULL);
  note_sent ((Conn *) conn, json);
  soup_websocket_connection_send_binary (conn->ws, json, strlen (json));
  g_free (json);
  return TRUE;
}

/* The key: in the header, not in the query (the value is not repeated in
 * the violation: it is a secret); a connection with a wrong one is held */
static gboolean
on_request (MockWsConn * conn)
{
  MockGemini *mock = (MockGemini *) conn->server;
  const gchar *key = soup_message_headers_get_one (conn->headers,
      "x-goog-api-key");
  gboolean bad_key;

  g_mutex_lock (&mock->core.lock);
  bad_key = mock->api_key && g_strcmp0 (key, mock->api_key) != 0;
  if (conn->query && g_hash_table_contains (conn->query, "key"))
    g_ptr_array_add (mock->core.violations, g_strdup_printf ("connection "
            "%u: the key is in the URL query (\"key\"): proxies log URLs, "
            "send the x-goog-api-key header", mock->core.conns->len));
  g_mutex_unlock (&mock->core.lock);
  return bad_key;
}

static MockWsScript *
default_script (void)
{
  MockGeminiScript *script = mock_gemini_script_new ();

  mock_gemini_script_setup (script, DEFAULT_SETUP_TIMEOUT_MS);
  return CORE (script);
}

static const guint16 unsendable_codes[] = {
  SOUP_WEBSOCKET_CLOSE_NO_STATUS, SOUP_WEBSOCKET_CLOSE_ABNORMAL,
  SOUP_WEBSOCKET_CLOSE_TLS_HANDSHAKE, 0
};

static const MockWsClass gemini_class = {
  .name = "mockgemini",
  .api = "mock_gemini",
  .path = MOCK_GEMINI_PATH,
  .not_found = "mockgemini: not found",
  .conn_size = sizeof (Conn),
  .conn_init = conn_init,
  .conn_clear = conn_clear,
  /* the key is checked at the first message, as the service does */
  .on_request = on_request,
  .held_close_code = CLOSE_INVALID_ARGUMENT,
  .held_close_reason = BAD_KEY_REASON,
  /* without a script, the setup handshake */
  .default_script = default_script,
  .frames_are = "messages", .parse_noun = "object",
  .parse = mock_ws_parse_object, .check_message = check_frame,
  /* kinds such as "realtimeInput.audio" */
  .frame_matches = frame_is, .audio_kind = "realtimeInput.audio",
  /* server messages go as they are; no audio is still one message */
  .prepare_send = prepare_send, .send_audio = send_audio,
  .audio_empty_message = TRUE,
  .unsendable_codes = unsendable_codes,
};

/* ------------------------------------------------------------------------
 * API
 * ------------------------------------------------------------------------ */

MockGemini *
mock_gemini_new (void)
{
  MockGemini *mock = g_new0 (MockGemini, 1);

  mock_ws_server_init (&mock->core, &gemini_class, NULL);
  return mock;
}

void
mock_gemini_free (MockGemini * mock)
{
  if (!mock)
    return;
  mock_ws_server_clear (&mock->core);
  g_free (mock->api_key);
  g_free (mock);
}

void
mock_gemini_set_api_key (MockGemini * mock, const gchar * key)
{
  g_mutex_lock (&mock->core.lock);
  g_free (mock->api_key);
  mock->api_key = g_strdup (key);
  g_mutex_unlock (&mock->core.lock);
}

/* *INDENT-OFF* */
MOCK_WS_DEFINE_API (mock_gemini, MockGemini, MockGeminiScript,
    MockGeminiAudioSentFunc)
/* *INDENT-ON* */

guint
mock_gemini_count_messages (MockGemini * mock, guint conn, const gchar * kind)
{
  g_return_val_if_fail (kind != NULL, 0);
  return mock_ws_server_count_frames (&mock->core, conn, kind);
}

gchar *
mock_gemini_wait_message (MockGemini * mock, guint conn, const gchar * kind,
    guint index, guint timeout_ms)
{
  g_return_val_if_fail (kind != NULL, NULL);
  return mock_ws_server_wait_frame (&mock->core, conn, kind, index,
      timeout_ms);
}
