/* gst-bidi: a mock OpenAI Realtime (GA protocol) WebSocket server for tests
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

#include "mockrealtime.h"
#define MOCK_WS_SHORTHANDS
#include "mockwscore.h"

#define REALTIME_PATH "/v1/realtime"
/* input_audio_buffer.append: at most 15 MiB of audio per event */
#define MAX_APPEND_BYTES (15 * 1024 * 1024)
/* S16LE mono at 24 kHz */
#define PCM_BYTES_PER_MS 48
/* G.711 at 8 kHz */
#define G711_BYTES_PER_MS 8

/* A MockRealtimeScript is a MockWsScript */
#define CORE(script) ((MockWsScript *) (script))

/* The ids of the events of a send-audio step */
typedef struct
{
  gchar *response_id;
  gchar *item_id;
  guint output_index;
  guint content_index;
} AudioIds;

typedef struct
{
  MockWsConn core;
  gboolean session_update_seen;
  JsonNode *session;            /* the last session the mock sent */
  JsonNode *client_session;     /* merged session.update sessions */
  guint input_frame_bytes;      /* 2 for PCM, 1 for G.711 */
  guint output_bytes_per_ms;
  GHashTable *items;            /* item id -> gsize * audio bytes sent */
} Conn;

struct _MockRealtime
{
  MockWsServer core;
  guint next_event_id;          /* the thread only */
  /* with core.lock */
  gboolean check_effort;        /* session.reasoning.effort is checked */
  gchar *effort;                /* NULL: must be left out */
};

/* ------------------------------------------------------------------------
 * Steps and scripts
 * ------------------------------------------------------------------------ */

/* A JSON object with a string "type", or NULL */
static JsonObject *
parse_event (const gchar * json, GError ** err)
{
  JsonObject *obj = mock_ws_parse_object (json, err);

  if (!obj)
    return NULL;
  if (json_object_get_string_member_with_default (obj, "type", NULL) == NULL) {
    json_object_unref (obj);
    g_set_error (err, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
        "no string \"type\"");
    return NULL;
  }
  return obj;
}

static const MockWsClass realtime_class;

/* Server events the test gives */
static gboolean
check_event_json (const gchar * json)
{
  return mock_ws_check_server_json (&realtime_class, "event", json);
}

void
mock_realtime_script_send (MockRealtimeScript * script, const gchar * json)
{
  g_return_if_fail (script != NULL && json != NULL);
  if (check_event_json (json))
    mock_ws_script_add (CORE (script), MOCK_WS_STEP_SEND, json);
}

void
mock_realtime_script_send_printf (MockRealtimeScript * script,
    const gchar * format, ...)
{
  va_list args;
  gchar *json;

  va_start (args, format);
  json = g_strdup_vprintf (format, args);
  va_end (args);
  mock_realtime_script_send (script, json);
  g_free (json);
}

void
mock_realtime_script_send_session_updated (MockRealtimeScript * script)
{
  mock_ws_script_add (CORE (script), MOCK_WS_STEP_CUSTOM, NULL)->name =
      "send session.updated";
}

void
mock_realtime_script_wait (MockRealtimeScript * script, const gchar * type,
    guint count, guint timeout_ms)
{
  mock_ws_script_wait (CORE (script), type, count, timeout_ms);
}

void
mock_realtime_script_send_raw (MockRealtimeScript * script, const gchar * text)
{
  g_return_if_fail (script != NULL && text != NULL);
  if (!g_utf8_validate (text, -1, NULL)) {
    g_critical ("mockrealtime: a text frame must be UTF-8");
    return;
  }
  mock_ws_script_add (CORE (script), MOCK_WS_STEP_RAW, text)->data =
      g_bytes_new (text, strlen (text));
}

void
mock_realtime_script_send_binary (MockRealtimeScript * script,
    gconstpointer data, gsize size)
{
  MockWsStep *s;

  g_return_if_fail (script != NULL);
  s = mock_ws_script_add (CORE (script), MOCK_WS_STEP_RAW, NULL);
  s->name = "send binary";
  s->data = g_bytes_new (data, size);
  s->binary = TRUE;
}

void
mock_realtime_script_send_padded (MockRealtimeScript * script,
    const gchar * json, gsize frame_size)
{
  MockWsStep *s;

  g_return_if_fail (script != NULL && json != NULL);
  if (!check_event_json (json))
    return;
  s = mock_ws_script_add (CORE (script), MOCK_WS_STEP_SEND, json);
  s->name = "send padded";
  s->size = MAX (frame_size, 1);
}

static void
audio_ids_free (AudioIds * ids)
{
  g_free (ids->response_id);
  g_free (ids->item_id);
  g_free (ids);
}

void
mock_realtime_script_send_audio (MockRealtimeScript * script,
    gconstpointer pcm, gsize size, guint chunk_ms, gboolean paced,
    const gchar * response_id, const gchar * item_id, guint output_index,
    guint content_index)
{
  MockWsStep *s;
  AudioIds *ids;

  g_return_if_fail (script != NULL && response_id != NULL && item_id != NULL);
  s = mock_ws_script_audio (CORE (script), pcm, size, chunk_ms, paced);
  ids = g_new0 (AudioIds, 1);
  ids->response_id = g_strdup (response_id);
  ids->item_id = g_strdup (item_id);
  ids->output_index = output_index;
  ids->content_index = content_index;
  s->extra = ids;
  s->extra_free = (GDestroyNotify) audio_ids_free;
}

void
mock_realtime_script_freeze (MockRealtimeScript * script)
{
  g_return_if_fail (script != NULL);
  mock_ws_script_add (CORE (script), MOCK_WS_STEP_FREEZE, NULL);
}


/* ------------------------------------------------------------------------
 * The golden exchange
 * ------------------------------------------------------------------------ */

/* What the server reports before the client configured anything */
static const gchar golden_session[] =
    "{\"type\":\"realtime\",\"object\":\"realtime.session\","
    "\"id\":\"" MOCK_REALTIME_GOLDEN_SESSION_ID "\","
    "\"model\":\"gpt-realtime-2\",\"output_modalities\":[\"audio\"],"
    "\"instructions\":\"You are a helpful, witty, and friendly AI. "
    "Keep your answers short.\",\"tools\":[],\"tool_choice\":\"auto\","
    "\"max_output_tokens\":\"inf\",\"tracing\":null,\"prompt\":null,"
    "\"expires_at\":0,\"include\":null,"
    "\"audio\":{\"input\":{\"format\":{\"type\":\"audio/pcm\",\"rate\":24000},"
    "\"transcription\":null,\"noise_reduction\":null,"
    "\"turn_detection\":{\"type\":\"server_vad\",\"threshold\":0.5,"
    "\"prefix_padding_ms\":300,\"silence_duration_ms\":200,"
    "\"idle_timeout_ms\":null,\"create_response\":true,"
    "\"interrupt_response\":true}},"
    "\"output\":{\"format\":{\"type\":\"audio/pcm\",\"rate\":24000},"
    "\"voice\":\"alloy\",\"speed\":1.0}}}";

#define GOLDEN_RESPONSE_IDS \
  "\"response_id\":\"" MOCK_REALTIME_GOLDEN_RESPONSE_ID "\"," \
  "\"item_id\":\"" MOCK_REALTIME_GOLDEN_ASSISTANT_ITEM "\"," \
  "\"output_index\":0,\"content_index\":0"

#define GOLDEN_USER_ITEM \
  "{\"id\":\"" MOCK_REALTIME_GOLDEN_USER_ITEM "\"," \
  "\"object\":\"realtime.item\",\"type\":\"message\",\"role\":\"user\"," \
  "\"status\":\"completed\"," \
  "\"content\":[{\"type\":\"input_audio\",\"transcript\":null}]}"

#define GOLDEN_USAGE \
  "{\"total_tokens\":1123,\"input_tokens\":987,\"output_tokens\":136," \
  "\"input_token_details\":{\"text_tokens\":512,\"audio_tokens\":475," \
  "\"image_tokens\":0,\"cached_tokens\":384,\"cached_tokens_details\":" \
  "{\"text_tokens\":384,\"audio_tokens\":0,\"image_tokens\":0}}," \
  "\"output_token_details\":{\"text_tokens\":31,\"audio_tokens\":105}}"

G_STATIC_ASSERT (MOCK_REALTIME_GOLDEN_INPUT_TOKENS +
    MOCK_REALTIME_GOLDEN_OUTPUT_TOKENS == MOCK_REALTIME_GOLDEN_TOTAL_TOKENS);

/* The assistant message item, @status "in_progress" (no content yet) or
 * "completed" */
static gchar *
golden_assistant_item (gboolean completed)
{
  if (!completed)
    return g_strdup ("{\"id\":\"" MOCK_REALTIME_GOLDEN_ASSISTANT_ITEM "\","
        "\"object\":\"realtime.item\",\"type\":\"message\","
        "\"role\":\"assistant\",\"status\":\"in_progress\",\"content\":[]}");
  return g_strdup ("{\"id\":\"" MOCK_REALTIME_GOLDEN_ASSISTANT_ITEM "\","
      "\"object\":\"realtime.item\",\"type\":\"message\","
      "\"role\":\"assistant\",\"status\":\"completed\",\"content\":"
      "[{\"type\":\"output_audio\",\"transcript\":\""
      MOCK_REALTIME_GOLDEN_ASSISTANT_TRANSCRIPT "\"}]}");
}

static void
golden_audio_delta (MockRealtimeScript * script, const guint8 * pcm, gsize size)
{
  gchar *b64 = g_base64_encode (pcm, size);

  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.output_audio.delta\"," GOLDEN_RESPONSE_IDS ","
      "\"delta\":\"%s\"}", b64);
  g_free (b64);
}

void
mock_realtime_script_add_golden (MockRealtimeScript * script,
    gconstpointer pcm, gsize size)
{
  const gsize chunk = MOCK_REALTIME_GOLDEN_CHUNK_MS * PCM_BYTES_PER_MS;
  gchar **words;
  gchar *item;
  guint i, n_words, n_chunks;

  g_return_if_fail (script != NULL);

  /* Setup */
  mock_realtime_script_send_printf (script,
      "{\"type\":\"session.created\",\"session\":%s}", golden_session);
  mock_realtime_script_wait (script, "session.update", 1,
      MOCK_REALTIME_GOLDEN_TIMEOUT_MS);
  mock_realtime_script_send_session_updated (script);

  /* The user speaks */
  mock_realtime_script_wait (script, "input_audio_buffer.append", 1,
      MOCK_REALTIME_GOLDEN_TIMEOUT_MS);
  mock_realtime_script_send (script,
      "{\"type\":\"input_audio_buffer.speech_started\","
      "\"audio_start_ms\":1200,\"item_id\":\"" MOCK_REALTIME_GOLDEN_USER_ITEM
      "\"}");
  mock_realtime_script_send (script,
      "{\"type\":\"input_audio_buffer.speech_stopped\","
      "\"audio_end_ms\":2900,\"item_id\":\"" MOCK_REALTIME_GOLDEN_USER_ITEM
      "\"}");
  mock_realtime_script_send (script,
      "{\"type\":\"input_audio_buffer.committed\",\"item_id\":\""
      MOCK_REALTIME_GOLDEN_USER_ITEM "\",\"previous_item_id\":null}");
  mock_realtime_script_send (script,
      "{\"type\":\"conversation.item.added\",\"previous_item_id\":null,"
      "\"item\":" GOLDEN_USER_ITEM "}");
  mock_realtime_script_send (script,
      "{\"type\":\"conversation.item.done\",\"previous_item_id\":null,"
      "\"item\":" GOLDEN_USER_ITEM "}");

  /* The model answers */
  mock_realtime_script_send (script,
      "{\"type\":\"response.created\",\"response\":{\"id\":\""
      MOCK_REALTIME_GOLDEN_RESPONSE_ID "\",\"object\":\"realtime.response\","
      "\"status\":\"in_progress\",\"status_details\":null,\"output\":[],"
      "\"conversation_id\":\"conv_001\",\"output_modalities\":[\"audio\"],"
      "\"max_output_tokens\":\"inf\",\"audio\":{\"output\":{\"format\":"
      "{\"type\":\"audio/pcm\",\"rate\":24000},\"voice\":\"alloy\"}},"
      "\"usage\":null,\"metadata\":null}}");
  mock_realtime_script_send (script,
      "{\"type\":\"rate_limits.updated\",\"rate_limits\":["
      "{\"name\":\"requests\",\"limit\":5000,\"remaining\":4999,"
      "\"reset_seconds\":0.012},"
      "{\"name\":\"tokens\",\"limit\":40000,\"remaining\":38877,"
      "\"reset_seconds\":1.684}]}");
  mock_realtime_script_send (script,
      "{\"type\":\"conversation.item.input_audio_transcription.delta\","
      "\"item_id\":\"" MOCK_REALTIME_GOLDEN_USER_ITEM "\",\"content_index\":0,"
      "\"delta\":\"Tell me a\"}");
  item = golden_assistant_item (FALSE);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.output_item.added\",\"response_id\":\""
      MOCK_REALTIME_GOLDEN_RESPONSE_ID "\",\"output_index\":0,\"item\":%s}",
      item);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"conversation.item.added\",\"previous_item_id\":\""
      MOCK_REALTIME_GOLDEN_USER_ITEM "\",\"item\":%s}", item);
  g_free (item);
  mock_realtime_script_send (script,
      "{\"type\":\"response.content_part.added\"," GOLDEN_RESPONSE_IDS ","
      "\"part\":{\"type\":\"audio\",\"transcript\":\"\"}}");

  /* one transcript word, then one audio chunk, ... */
  words = g_strsplit (MOCK_REALTIME_GOLDEN_ASSISTANT_TRANSCRIPT, " ", -1);
  n_words = g_strv_length (words);
  n_chunks = (size + chunk - 1) / chunk;
  for (i = 0; i < MAX (n_words, n_chunks); i++) {
    if (i < n_words)
      mock_realtime_script_send_printf (script,
          "{\"type\":\"response.output_audio_transcript.delta\","
          GOLDEN_RESPONSE_IDS ",\"delta\":\"%s%s\"}", words[i],
          i + 1 < n_words ? " " : "");
    if (i < n_chunks)
      golden_audio_delta (script, (const guint8 *) pcm + i * chunk,
          MIN (chunk, size - i * chunk));
    if (i == 0) {
      mock_realtime_script_send (script,
          "{\"type\":\"conversation.item.input_audio_transcription.delta\","
          "\"item_id\":\"" MOCK_REALTIME_GOLDEN_USER_ITEM "\","
          "\"content_index\":0,\"delta\":\" story.\"}");
      mock_realtime_script_send (script,
          "{\"type\":"
          "\"conversation.item.input_audio_transcription.completed\","
          "\"item_id\":\"" MOCK_REALTIME_GOLDEN_USER_ITEM "\","
          "\"content_index\":0,\"transcript\":\""
          MOCK_REALTIME_GOLDEN_USER_TRANSCRIPT "\","
          "\"usage\":{\"type\":\"duration\",\"seconds\":1.7}}");
    }
  }
  g_strfreev (words);

  /* The end of the answer */
  mock_realtime_script_send (script,
      "{\"type\":\"response.output_audio.done\"," GOLDEN_RESPONSE_IDS "}");
  mock_realtime_script_send (script,
      "{\"type\":\"response.output_audio_transcript.done\","
      GOLDEN_RESPONSE_IDS ",\"transcript\":\""
      MOCK_REALTIME_GOLDEN_ASSISTANT_TRANSCRIPT "\"}");
  mock_realtime_script_send (script,
      "{\"type\":\"response.content_part.done\"," GOLDEN_RESPONSE_IDS ","
      "\"part\":{\"type\":\"audio\",\"transcript\":\""
      MOCK_REALTIME_GOLDEN_ASSISTANT_TRANSCRIPT "\"}}");
  item = golden_assistant_item (TRUE);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.output_item.done\",\"response_id\":\""
      MOCK_REALTIME_GOLDEN_RESPONSE_ID "\",\"output_index\":0,\"item\":%s}",
      item);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"conversation.item.done\",\"previous_item_id\":\""
      MOCK_REALTIME_GOLDEN_USER_ITEM "\",\"item\":%s}", item);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.done\",\"response\":{\"id\":\""
      MOCK_REALTIME_GOLDEN_RESPONSE_ID "\",\"object\":\"realtime.response\","
      "\"status\":\"completed\",\"status_details\":null,\"output\":[%s],"
      "\"conversation_id\":\"conv_001\",\"output_modalities\":[\"audio\"],"
      "\"max_output_tokens\":\"inf\",\"audio\":{\"output\":{\"format\":"
      "{\"type\":\"audio/pcm\",\"rate\":24000},\"voice\":\"alloy\"}},"
      "\"usage\":" GOLDEN_USAGE ",\"metadata\":null}}", item);
  g_free (item);
}

/* ------------------------------------------------------------------------
 * An answer in two phases (the gpt-realtime-2 family)
 * ------------------------------------------------------------------------ */

#define PHASED_USAGE \
  "{\"total_tokens\":680,\"input_tokens\":420,\"output_tokens\":260," \
  "\"input_token_details\":{\"text_tokens\":300,\"audio_tokens\":120}," \
  "\"output_token_details\":{\"text_tokens\":40,\"audio_tokens\":180," \
  "\"reasoning_tokens\":40}}"

G_STATIC_ASSERT (MOCK_REALTIME_PHASED_INPUT_TOKENS +
    MOCK_REALTIME_PHASED_OUTPUT_TOKENS == MOCK_REALTIME_PHASED_TOTAL_TOKENS);

/* The assistant message @id of @phase, "in_progress" without content or
 * "completed" with @transcript */
static gchar *
phased_item (const gchar * id, const gchar * phase, const gchar * transcript)
{
  if (!transcript)
    return g_strdup_printf ("{\"id\":\"%s\",\"object\":\"realtime.item\","
        "\"type\":\"message\",\"role\":\"assistant\",\"phase\":\"%s\","
        "\"status\":\"in_progress\",\"content\":[]}", id, phase);
  return g_strdup_printf ("{\"id\":\"%s\",\"object\":\"realtime.item\","
      "\"type\":\"message\",\"role\":\"assistant\",\"phase\":\"%s\","
      "\"status\":\"completed\",\"content\":[{\"type\":\"output_audio\","
      "\"transcript\":\"%s\"}]}", id, phase, transcript);
}

#define PHASED_IDS \
  "\"response_id\":\"" MOCK_REALTIME_PHASED_RESPONSE_ID "\"," \
  "\"item_id\":\"%s\",\"output_index\":%u,\"content_index\":0"

/* The start of spoken item number @index of the phased answer: up to its
 * transcript's delta and its audio */
static void
phased_item_begin (MockRealtimeScript * script, guint index, const gchar * id,
    const gchar * phase, const gchar * transcript, gconstpointer pcm,
    gsize size)
{
  gchar *item = phased_item (id, phase, NULL);

  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.output_item.added\",\"response_id\":\""
      MOCK_REALTIME_PHASED_RESPONSE_ID "\",\"output_index\":%u,"
      "\"item\":%s}", index, item);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"conversation.item.added\",\"item\":%s}", item);
  g_free (item);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.content_part.added\"," PHASED_IDS ","
      "\"part\":{\"type\":\"audio\",\"transcript\":\"\"}}", id, index);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.output_audio_transcript.delta\"," PHASED_IDS ","
      "\"delta\":\"%s\"}", id, index, transcript);
  mock_realtime_script_send_audio (script, pcm, size,
      MOCK_REALTIME_GOLDEN_CHUNK_MS, FALSE, MOCK_REALTIME_PHASED_RESPONSE_ID,
      id, index, 0);
}

/* The end of spoken item number @index; returns the completed item
 * (g_free) */
static gchar *
phased_item_end (MockRealtimeScript * script, guint index, const gchar * id,
    const gchar * phase, const gchar * transcript)
{
  gchar *item;

  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.output_audio.done\"," PHASED_IDS "}", id, index);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.output_audio_transcript.done\"," PHASED_IDS ","
      "\"transcript\":\"%s\"}", id, index, transcript);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.content_part.done\"," PHASED_IDS ",\"part\":"
      "{\"type\":\"audio\",\"transcript\":\"%s\"}}", id, index,
      transcript);
  item = phased_item (id, phase, transcript);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.output_item.done\",\"response_id\":\""
      MOCK_REALTIME_PHASED_RESPONSE_ID "\",\"output_index\":%u,"
      "\"item\":%s}", index, item);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"conversation.item.done\",\"item\":%s}", item);
  return item;
}

/* Up to the final answer begun; returns the completed commentary item
 * (g_free) */
static gchar *
phased_begin (MockRealtimeScript * script, gconstpointer commentary_pcm,
    gsize commentary_size, gconstpointer final_pcm, gsize final_size)
{
  gchar *first;

  mock_realtime_script_send (script,
      "{\"type\":\"response.created\",\"response\":{\"id\":\""
      MOCK_REALTIME_PHASED_RESPONSE_ID "\",\"object\":\"realtime.response\","
      "\"status\":\"in_progress\",\"status_details\":null,\"output\":[],"
      "\"output_modalities\":[\"audio\"],\"usage\":null}}");
  phased_item_begin (script, 0, MOCK_REALTIME_PHASED_COMMENTARY_ITEM,
      "commentary", MOCK_REALTIME_PHASED_COMMENTARY, commentary_pcm,
      commentary_size);
  first = phased_item_end (script, 0, MOCK_REALTIME_PHASED_COMMENTARY_ITEM,
      "commentary", MOCK_REALTIME_PHASED_COMMENTARY);
  phased_item_begin (script, 1, MOCK_REALTIME_PHASED_FINAL_ITEM,
      "final_answer", MOCK_REALTIME_PHASED_FINAL, final_pcm, final_size);
  return first;
}

void
mock_realtime_script_add_phased_answer_start (MockRealtimeScript * script,
    gconstpointer commentary_pcm, gsize commentary_size,
    gconstpointer final_pcm, gsize final_size)
{
  g_return_if_fail (script != NULL);

  g_free (phased_begin (script, commentary_pcm, commentary_size, final_pcm,
          final_size));
}

void
mock_realtime_script_add_phased_answer (MockRealtimeScript * script,
    gconstpointer commentary_pcm, gsize commentary_size,
    gconstpointer final_pcm, gsize final_size)
{
  gchar *first, *second;

  g_return_if_fail (script != NULL);

  first = phased_begin (script, commentary_pcm, commentary_size, final_pcm,
      final_size);
  second = phased_item_end (script, 1, MOCK_REALTIME_PHASED_FINAL_ITEM,
      "final_answer", MOCK_REALTIME_PHASED_FINAL);
  mock_realtime_script_send_printf (script,
      "{\"type\":\"response.done\",\"response\":{\"id\":\""
      MOCK_REALTIME_PHASED_RESPONSE_ID "\",\"object\":\"realtime.response\","
      "\"status\":\"completed\",\"status_details\":null,"
      "\"output\":[%s,%s],\"output_modalities\":[\"audio\"],"
      "\"usage\":" PHASED_USAGE "}}", first, second);
  g_free (first);
  g_free (second);
}

/* ------------------------------------------------------------------------
 * Connections
 * ------------------------------------------------------------------------ */

static void
conn_init (MockWsConn * core)
{
  Conn *conn = (Conn *) core;

  conn->input_frame_bytes = 2;
  conn->output_bytes_per_ms = PCM_BYTES_PER_MS;
  conn->items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static void
conn_clear (MockWsConn * core)
{
  Conn *conn = (Conn *) core;

  if (conn->session)
    json_node_unref (conn->session);
  if (conn->client_session)
    json_node_unref (conn->client_session);
  g_hash_table_unref (conn->items);
}

/* ------------------------------------------------------------------------
 * Client event validation (the GA protocol)
 * ------------------------------------------------------------------------ */

typedef struct
{
  MockWsCheck ws;               /* ws.what: the event's type */
  Conn *conn;
  GByteArray *audio;            /* decoded input audio, NULL if none */
} Check;


static gboolean
is_object_or_null (JsonNode * node)
{
  return JSON_NODE_HOLDS_OBJECT (node) || JSON_NODE_HOLDS_NULL (node);
}


/* Members of @obj not in @allowed (and not in @beta: named as beta) */
static void
only_members (Check * c, JsonObject * obj, const gchar * where,
    const gchar * const *allowed, const gchar * const *beta)
{
  GList *names = json_object_get_members (obj), *l;

  for (l = names; l; l = l->next) {
    const gchar *name = l->data;
    if (in_list (name, allowed))
      continue;
    if (beta && in_list (name, beta))
      problem (c, "%s%s is a beta protocol field (GA only)", where, name);
    else
      problem (c, "%s%s is not a GA protocol field", where, name);
  }
  g_list_free (names);
}

static const gchar *const audio_format_types[] = {
  "audio/pcm", "audio/pcmu", "audio/pcma", NULL
};

/* An audio.input.format / audio.output.format; returns its type */
static const gchar *
check_format (Check * c, JsonObject * obj, const gchar * where)
{
  static const gchar *const fields[] = { "type", "rate", NULL };
  const gchar *type;
  gint64 rate;

  only_members (c, obj, where, fields, NULL);
  type = enum_member (c, obj, where, "type", TRUE, audio_format_types);
  if (g_strcmp0 (type, "audio/pcm") == 0 &&
      int_member (c, obj, where, "rate", FALSE, 0, &rate) && rate != 24000)
    problem (c, "%srate must be 24000, not %" G_GINT64_FORMAT, where, rate);
  return type;
}

static void
check_turn_detection (Check * c, JsonObject * td)
{
  static const gchar *const types[] = { "server_vad", "semantic_vad", NULL };
  static const gchar *const server_vad[] = { "type", "threshold",
    "prefix_padding_ms", "silence_duration_ms", "create_response",
    "interrupt_response", "idle_timeout_ms", NULL
  };
  static const gchar *const semantic_vad[] = { "type", "eagerness",
    "create_response", "interrupt_response", NULL
  };
  static const gchar *const eagerness[] = { "low", "medium", "high", "auto",
    NULL
  };
  const gchar *where = "session.audio.input.turn_detection.";
  const gchar *type;
  gint64 v;

  type = enum_member (c, td, where, "type", TRUE, types);
  if (g_strcmp0 (type, "server_vad") == 0) {
    JsonNode *idle;
    only_members (c, td, where, server_vad, NULL);
    number_member (c, td, where, "threshold", 0.0, 1.0);
    int_member (c, td, where, "prefix_padding_ms", FALSE, 0, &v);
    int_member (c, td, where, "silence_duration_ms", FALSE, 0, &v);
    idle = json_object_get_member (td, "idle_timeout_ms");
    if (idle && !JSON_NODE_HOLDS_NULL (idle))
      int_member (c, td, where, "idle_timeout_ms", FALSE, 0, &v);
  } else if (type) {
    only_members (c, td, where, semantic_vad, NULL);
    enum_member (c, td, where, "eagerness", FALSE, eagerness);
  }
  mock_ws_bool_member (&c->ws, td, where, "create_response", FALSE);
  mock_ws_bool_member (&c->ws, td, where, "interrupt_response", FALSE);
}

static void
check_session_audio (Check * c, JsonObject * audio)
{
  static const gchar *const audio_fields[] = { "input", "output", NULL };
  static const gchar *const input_fields[] = { "format", "noise_reduction",
    "transcription", "turn_detection", NULL
  };
  static const gchar *const output_fields[] = { "format", "voice", "speed",
    NULL
  };
  static const gchar *const noise[] = { "near_field", "far_field", NULL };
  static const gchar *const transcription_fields[] = { "model", "language",
    "prompt", "keywords", "languages", "delay", NULL
  };
  JsonObject *input, *output, *obj;
  JsonNode *node;
  const gchar *type;

  only_members (c, audio, "session.audio.", audio_fields, NULL);
  input = object_member (c, audio, "session.audio.", "input", FALSE);
  output = object_member (c, audio, "session.audio.", "output", FALSE);

  if (input) {
    const gchar *where = "session.audio.input.";
    only_members (c, input, where, input_fields, NULL);
    if ((obj = object_member (c, input, where, "format", FALSE))) {
      type = check_format (c, obj, "session.audio.input.format.");
      if (type)
        c->conn->input_frame_bytes = strcmp (type, "audio/pcm") == 0 ? 2 : 1;
    }
    node = member (c, input, where, "noise_reduction", FALSE,
        is_object_or_null, "an object or null");
    if (node && JSON_NODE_HOLDS_OBJECT (node))
      enum_member (c, json_node_get_object (node),
          "session.audio.input.noise_reduction.", "type", TRUE, noise);
    node = member (c, input, where, "transcription", FALSE,
        is_object_or_null, "an object or null");
    if (node && JSON_NODE_HOLDS_OBJECT (node)) {
      obj = json_node_get_object (node);
      only_members (c, obj, "session.audio.input.transcription.",
          transcription_fields, NULL);
      string_member (c, obj, "session.audio.input.transcription.", "model",
          TRUE);
      string_member (c, obj, "session.audio.input.transcription.",
          "language", FALSE);
      string_member (c, obj, "session.audio.input.transcription.", "prompt",
          FALSE);
    }
    node = member (c, input, where, "turn_detection", FALSE,
        is_object_or_null, "an object or null");
    if (node && JSON_NODE_HOLDS_OBJECT (node))
      check_turn_detection (c, json_node_get_object (node));
  }

  if (output) {
    const gchar *where = "session.audio.output.";
    only_members (c, output, where, output_fields, NULL);
    if ((obj = object_member (c, output, where, "format", FALSE))) {
      type = check_format (c, obj, "session.audio.output.format.");
      if (type)
        c->conn->output_bytes_per_ms = strcmp (type, "audio/pcm") == 0 ?
            PCM_BYTES_PER_MS : G711_BYTES_PER_MS;
    }
    node = json_object_get_member (output, "voice");
    if (node && JSON_NODE_HOLDS_OBJECT (node))
      string_member (c, json_node_get_object (node),
          "session.audio.output.voice.", "id", TRUE);
    else if (node && !is_string (node))
      problem (c, "session.audio.output.voice must be a string or an "
          "object, not %s", json_kind (node));
    number_member (c, output, where, "speed", 0.25, 1.5);
  }
}

/* session.tools / response.tools */
static void
check_tools (Check * c, JsonObject * obj, const gchar * where)
{
  static const gchar *const tool_types[] = { "function", "mcp", NULL };
  static const gchar *const function_fields[] = { "type", "name",
    "description", "parameters", NULL
  };
  JsonNode *node = member (c, obj, where, "tools", FALSE, is_array,
      "an array");
  JsonArray *tools;
  guint i;

  if (!node)
    return;
  tools = json_node_get_array (node);
  for (i = 0; i < json_array_get_length (tools); i++) {
    JsonNode *t = json_array_get_element (tools, i);
    gchar *at = g_strdup_printf ("%stools[%u].", where, i);
    JsonObject *tool;

    if (!JSON_NODE_HOLDS_OBJECT (t)) {
      problem (c, "%stools[%u] must be an object, not %s", where, i,
          json_kind (t));
      g_free (at);
      continue;
    }
    tool = json_node_get_object (t);
    if (json_object_has_member (tool, "function"))
      problem (c, "%sfunction: tools are flat {type, name, description, "
          "parameters}, not nested as in Chat Completions", at);
    if (g_strcmp0 (enum_member (c, tool, at, "type", TRUE, tool_types),
            "function") == 0) {
      only_members (c, tool, at, function_fields, NULL);
      string_member (c, tool, at, "name", TRUE);
      string_member (c, tool, at, "description", FALSE);
      object_member (c, tool, at, "parameters", FALSE);
    }
    g_free (at);
  }
}

static void
check_tool_choice (Check * c, JsonObject * obj, const gchar * where)
{
  static const gchar *const modes[] = { "auto", "none", "required", NULL };
  JsonNode *node = json_object_get_member (obj, "tool_choice");
  gchar *at;

  if (!node)
    return;
  if (is_string (node)) {
    enum_member (c, obj, where, "tool_choice", TRUE, modes);
    return;
  }
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    problem (c, "%stool_choice must be a string or an object, not %s", where,
        json_kind (node));
    return;
  }
  at = g_strconcat (where, "tool_choice.", NULL);
  if (g_strcmp0 (string_member (c, json_node_get_object (node), at, "type",
              TRUE), "function") == 0)
    string_member (c, json_node_get_object (node), at, "name", TRUE);
  g_free (at);
}

static void
check_output_modalities (Check * c, JsonObject * obj, const gchar * where)
{
  JsonNode *node = member (c, obj, where, "output_modalities", FALSE,
      is_array, "an array");
  JsonArray *array;
  JsonNode *first;

  if (!node)
    return;
  array = json_node_get_array (node);
  first = json_array_get_length (array) == 1 ?
      json_array_get_element (array, 0) : NULL;
  if (!first || !is_string (first) ||
      (g_strcmp0 (json_node_get_string (first), "audio") != 0 &&
          g_strcmp0 (json_node_get_string (first), "text") != 0))
    problem (c, "%soutput_modalities must be [\"audio\"] or [\"text\"]", where);
}

static void
check_max_output_tokens (Check * c, JsonObject * obj, const gchar * where)
{
  JsonNode *node = json_object_get_member (obj, "max_output_tokens");
  gint64 v;

  if (!node)
    return;
  if (is_string (node)) {
    if (g_strcmp0 (json_node_get_string (node), "inf") != 0)
      problem (c, "%smax_output_tokens must be an integer or \"inf\"", where);
  } else if (int_member (c, obj, where, "max_output_tokens", TRUE, 1, &v) &&
      v > 4096) {
    problem (c, "%smax_output_tokens must be <= 4096", where);
  }
}

static void
merge_object (JsonObject * dst, JsonObject * src)
{
  GList *names = json_object_get_members (src), *l;

  for (l = names; l; l = l->next) {
    const gchar *name = l->data;
    JsonNode *s = json_object_get_member (src, name);
    JsonNode *d = json_object_get_member (dst, name);

    if (d && JSON_NODE_HOLDS_OBJECT (d) && JSON_NODE_HOLDS_OBJECT (s))
      merge_object (json_node_get_object (d), json_node_get_object (s));
    else
      json_object_set_member (dst, name, json_node_copy (s));
  }
  g_list_free (names);
}

/* The server takes session.reasoning from the gpt-realtime-2 family
 * only (the model of the request's query) */
static gboolean
model_reasons (Conn * conn)
{
  const gchar *model = conn->core.query ?
      g_hash_table_lookup (conn->core.query, "model") : NULL;

  return model && (strcmp (model, "gpt-realtime-2") == 0 ||
      g_str_has_prefix (model, "gpt-realtime-2.") ||
      g_str_has_prefix (model, "gpt-realtime-2-"));
}

static void
check_reasoning (Check * c, JsonObject * session)
{
  static const gchar *const fields[] = { "effort", NULL };
  static const gchar *const efforts[] = { "minimal", "low", "medium", "high",
    "xhigh", NULL
  };
  MockRealtime *mock = (MockRealtime *) c->conn->core.server;
  JsonObject *reasoning = object_member (c, session, "session.", "reasoning",
      FALSE);
  const gchar *effort = NULL;
  gboolean checked;
  gchar *expected;

  if (reasoning) {
    only_members (c, reasoning, "session.reasoning.", fields, NULL);
    effort = enum_member (c, reasoning, "session.reasoning.", "effort", TRUE,
        efforts);
    if (!model_reasons (c->conn))
      problem (c, "session.reasoning: the model does not take it (the "
          "gpt-realtime-2 family only)");
  }
  g_mutex_lock (&mock->core.lock);
  checked = mock->check_effort;
  expected = g_strdup (mock->effort);
  g_mutex_unlock (&mock->core.lock);
  if (checked && g_strcmp0 (effort, expected) != 0)
    problem (c, "session.reasoning.effort is %s%s%s, expected %s%s%s",
        effort ? "\"" : "", effort ? effort : "left out", effort ? "\"" : "",
        expected ? "\"" : "", expected ? expected : "left out",
        expected ? "\"" : "");
  g_free (expected);
}

static void
check_session_update (Check * c, JsonObject * ev)
{
  static const gchar *const top[] = { "type", "event_id", "session", NULL };
  static const gchar *const fields[] = { "type", "model", "instructions",
    "output_modalities", "max_output_tokens", "audio", "tools",
    "tool_choice", "parallel_tool_calls", "reasoning", "truncation",
    "include", "tracing", "prompt", NULL
  };
  static const gchar *const beta[] = { "modalities", "input_audio_format",
    "output_audio_format", "input_audio_transcription", "turn_detection",
    "voice", "temperature", "max_response_output_tokens", NULL
  };
  JsonObject *session, *audio;
  const gchar *type;
  Conn *conn = c->conn;

  only_members (c, ev, "", top, NULL);
  session = object_member (c, ev, "", "session", TRUE);
  if (!session)
    return;
  only_members (c, session, "session.", fields, beta);
  type = string_member (c, session, "session.", "type", TRUE);
  if (type && strcmp (type, "realtime") != 0)
    problem (c, "session.type must be \"realtime\", not \"%s\"", type);
  string_member (c, session, "session.", "model", FALSE);
  string_member (c, session, "session.", "instructions", FALSE);
  check_output_modalities (c, session, "session.");
  check_max_output_tokens (c, session, "session.");
  if ((audio = object_member (c, session, "session.", "audio", FALSE)))
    check_session_audio (c, audio);
  check_tools (c, session, "session.");
  check_tool_choice (c, session, "session.");
  check_reasoning (c, session);

  conn->session_update_seen = TRUE;
  if (!conn->client_session) {
    conn->client_session = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (conn->client_session, json_object_new ());
  }
  merge_object (json_node_get_object (conn->client_session), session);
}

static void
check_append (Check * c, JsonObject * ev)
{
  static const gchar *const top[] = { "type", "event_id", "audio", NULL };
  const gchar *audio;
  GByteArray *bytes;

  only_members (c, ev, "", top, NULL);
  if (!c->conn->session_update_seen)
    problem (c, "audio appended before any session.update");
  audio = string_member (c, ev, "", "audio", TRUE);
  if (!audio)
    return;
  bytes = g_byte_array_new ();
  if (!mock_ws_decode_base64 (audio, bytes)) {
    problem (c, "audio is not valid base64");
  } else if (bytes->len == 0) {
    problem (c, "audio is empty");
  } else if (bytes->len % c->conn->input_frame_bytes != 0) {
    problem (c, "audio is %u bytes: not whole %u-byte frames", bytes->len,
        c->conn->input_frame_bytes);
  } else if (bytes->len > MAX_APPEND_BYTES) {
    problem (c, "audio is %u bytes, more than 15 MiB", bytes->len);
  }
  if (bytes->len > 0)
    c->audio = bytes;
  else
    g_byte_array_unref (bytes);
}

static void
check_content (Check * c, JsonObject * item, const gchar * role)
{
  static const gchar *const user_parts[] = { "input_text", "input_audio",
    "input_image", NULL
  };
  static const gchar *const system_parts[] = { "input_text", NULL };
  static const gchar *const assistant_parts[] = { "output_text", NULL };
  static const gchar *const details[] = { "auto", "low", "high", NULL };
  JsonNode *node = member (c, item, "item.", "content", TRUE, is_array,
      "an array");
  const gchar *const *allowed;
  JsonArray *parts;
  guint i;

  if (!node || !role)
    return;
  if (strcmp (role, "user") == 0)
    allowed = user_parts;
  else if (strcmp (role, "system") == 0)
    allowed = system_parts;
  else
    allowed = assistant_parts;
  parts = json_node_get_array (node);
  for (i = 0; i < json_array_get_length (parts); i++) {
    JsonNode *p = json_array_get_element (parts, i);
    gchar *at = g_strdup_printf ("item.content[%u].", i);
    JsonObject *part;
    const gchar *type;

    if (!JSON_NODE_HOLDS_OBJECT (p)) {
      problem (c, "item.content[%u] must be an object, not %s", i,
          json_kind (p));
      g_free (at);
      continue;
    }
    part = json_node_get_object (p);
    type = string_member (c, part, at, "type", TRUE);
    if (g_strcmp0 (type, "output_audio") == 0 && strcmp (role,
            "assistant") == 0)
      problem (c, "%stype: assistant audio cannot be injected", at);
    else if (type && !in_list (type, allowed))
      problem (c, "%stype \"%s\" is not allowed in a %s message", at, type,
          role);
    else if (g_strcmp0 (type, "input_text") == 0 ||
        g_strcmp0 (type, "output_text") == 0)
      string_member (c, part, at, "text", TRUE);
    else if (g_strcmp0 (type, "input_audio") == 0) {
      const gchar *audio = string_member (c, part, at, "audio", TRUE);
      GByteArray *tmp = g_byte_array_new ();
      if (audio && !mock_ws_decode_base64 (audio, tmp))
        problem (c, "%saudio is not valid base64", at);
      g_byte_array_unref (tmp);
    } else if (g_strcmp0 (type, "input_image") == 0) {
      const gchar *url = string_member (c, part, at, "image_url", TRUE);
      if (url && !g_str_has_prefix (url, "data:image/"))
        problem (c, "%simage_url must be a data:image/ URI", at);
      enum_member (c, part, at, "detail", FALSE, details);
    }
    g_free (at);
  }
}

static void
check_item_create (Check * c, JsonObject * ev)
{
  static const gchar *const top[] = { "type", "event_id", "previous_item_id",
    "item", NULL
  };
  static const gchar *const item_types[] = { "message", "function_call",
    "function_call_output", NULL
  };
  static const gchar *const roles[] = { "user", "assistant", "system", NULL };
  static const gchar *const message_fields[] = { "id", "object", "type",
    "status", "role", "content", NULL
  };
  static const gchar *const call_fields[] = { "id", "object", "type",
    "status", "call_id", "name", "arguments", NULL
  };
  static const gchar *const output_fields[] = { "id", "object", "type",
    "status", "call_id", "output", NULL
  };
  JsonObject *item;
  const gchar *type;

  only_members (c, ev, "", top, NULL);
  string_member (c, ev, "", "previous_item_id", FALSE);
  item = object_member (c, ev, "", "item", TRUE);
  if (!item)
    return;
  string_member (c, item, "item.", "id", FALSE);
  type = enum_member (c, item, "item.", "type", TRUE, item_types);
  if (!type)
    return;
  if (strcmp (type, "message") == 0) {
    only_members (c, item, "item.", message_fields, NULL);
    check_content (c, item, enum_member (c, item, "item.", "role", TRUE,
            roles));
  } else if (strcmp (type, "function_call") == 0) {
    only_members (c, item, "item.", call_fields, NULL);
    string_member (c, item, "item.", "call_id", TRUE);
    string_member (c, item, "item.", "name", TRUE);
    string_member (c, item, "item.", "arguments", TRUE);
  } else {
    only_members (c, item, "item.", output_fields, NULL);
    string_member (c, item, "item.", "call_id", TRUE);
    string_member (c, item, "item.", "output", TRUE);
  }
}

static void
check_truncate (Check * c, JsonObject * ev)
{
  static const gchar *const top[] = { "type", "event_id", "item_id",
    "content_index", "audio_end_ms", NULL
  };
  const gchar *item_id;
  gint64 index, end_ms;
  gboolean have_end;
  gsize *sent;

  only_members (c, ev, "", top, NULL);
  item_id = string_member (c, ev, "", "item_id", TRUE);
  int_member (c, ev, "", "content_index", TRUE, 0, &index);
  have_end = int_member (c, ev, "", "audio_end_ms", TRUE, 0, &end_ms);
  if (!item_id)
    return;
  sent = g_hash_table_lookup (c->conn->items, item_id);
  if (!sent) {
    problem (c, "item %s was never sent by the server", item_id);
  } else if (have_end) {
    guint bpm = c->conn->output_bytes_per_ms;
    gint64 sent_ms = (*sent + bpm - 1) / bpm;
    if (end_ms > sent_ms)
      problem (c, "audio_end_ms %" G_GINT64_FORMAT " is beyond the %"
          G_GINT64_FORMAT " ms of audio sent for item %s", end_ms, sent_ms,
          item_id);
  }
}

static void
check_item_id_only (Check * c, JsonObject * ev)
{
  static const gchar *const top[] = { "type", "event_id", "item_id", NULL };

  only_members (c, ev, "", top, NULL);
  string_member (c, ev, "", "item_id", TRUE);
}

static void
check_response_create (Check * c, JsonObject * ev)
{
  static const gchar *const top[] = { "type", "event_id", "response", NULL };
  static const gchar *const fields[] = { "conversation", "input",
    "instructions", "max_output_tokens", "metadata", "output_modalities",
    "audio", "tools", "tool_choice", "prompt", NULL
  };
  static const gchar *const beta[] = { "modalities", "voice",
    "output_audio_format", "temperature", "max_response_output_tokens", NULL
  };
  static const gchar *const conversations[] = { "auto", "none", NULL };
  JsonObject *response;

  only_members (c, ev, "", top, NULL);
  response = object_member (c, ev, "", "response", FALSE);
  if (!response)
    return;
  only_members (c, response, "response.", fields, beta);
  enum_member (c, response, "response.", "conversation", FALSE, conversations);
  string_member (c, response, "response.", "instructions", FALSE);
  member (c, response, "response.", "input", FALSE, is_array, "an array");
  check_output_modalities (c, response, "response.");
  check_max_output_tokens (c, response, "response.");
  check_tools (c, response, "response.");
  check_tool_choice (c, response, "response.");
}

static void
check_no_members (Check * c, JsonObject * ev)
{
  static const gchar *const top[] = { "type", "event_id", NULL };

  only_members (c, ev, "", top, NULL);
}

static void
check_response_cancel (Check * c, JsonObject * ev)
{
  static const gchar *const top[] = { "type", "event_id", "response_id",
    NULL
  };

  only_members (c, ev, "", top, NULL);
  string_member (c, ev, "", "response_id", FALSE);
}

static const struct
{
  const gchar *type;
  void (*check) (Check * c, JsonObject * ev);
} client_events[] = {
  {"session.update", check_session_update},
  {"input_audio_buffer.append", check_append},
  {"input_audio_buffer.commit", check_no_members},
  {"input_audio_buffer.clear", check_no_members},
  {"conversation.item.create", check_item_create},
  {"conversation.item.truncate", check_truncate},
  {"conversation.item.delete", check_item_id_only},
  {"conversation.item.retrieve", check_item_id_only},
  {"response.create", check_response_create},
  {"response.cancel", check_response_cancel},
};

/* Names that exist only in the beta protocol */
static const gchar *const beta_events[] = {
  "transcription_session.update", "response.audio.delta",
  "response.audio.done", "response.audio_transcript.delta",
  "response.audio_transcript.done", "response.text.delta",
  "response.text.done", "conversation.item.created", NULL
};

static void
check_event (Check * c, JsonObject * ev)
{
  JsonNode *id = json_object_get_member (ev, "event_id");
  guint i;

  if (id && !is_string (id))
    problem (c, "event_id must be a string, not %s", json_kind (id));
  for (i = 0; i < G_N_ELEMENTS (client_events); i++) {
    if (strcmp (c->ws.what, client_events[i].type) == 0) {
      client_events[i].check (c, ev);
      return;
    }
  }
  if (strcmp (c->ws.what, "output_audio_buffer.clear") == 0)
    problem (c, "output_audio_buffer.clear is for WebRTC/SIP, not "
        "WebSocket");
  else if (in_list (c->ws.what, beta_events))
    problem (c, "a beta protocol event (GA only)");
  else
    problem (c, "not a client event type");
}

/* ------------------------------------------------------------------------
 * The WebSocket (mock thread)
 * ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------
 * The protocol's hooks (mock thread)
 * ------------------------------------------------------------------------ */

static GByteArray *
check_message (MockWsConn * conn, MockWsCheck * ws, MockWsFrame * frame,
    JsonObject * ev)
{
  Check c = { *ws, (Conn *) conn, NULL };

  frame->kind = g_strdup (json_object_get_string_member (ev, "type"));
  c.ws.what = frame->kind;
  check_event (&c, ev);
  return c.audio;
}

static void
note_sent (Conn * conn, const gchar * type, JsonObject * ev)
{
  const gchar *item_id = NULL;
  JsonNode *node;
  gsize *sent;

  if (strcmp (type, "session.created") == 0 ||
      strcmp (type, "session.updated") == 0) {
    node = json_object_get_member (ev, "session");
    if (node && JSON_NODE_HOLDS_OBJECT (node)) {
      if (conn->session)
        json_node_unref (conn->session);
      conn->session = json_node_copy (node);
    }
    return;
  }
  if (json_object_has_member (ev, "item") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (ev, "item")))
    item_id = json_object_get_string_member_with_default
        (json_object_get_object_member (ev, "item"), "id", NULL);
  else
    item_id = json_object_get_string_member_with_default (ev, "item_id", NULL);
  if (!item_id)
    return;
  sent = g_hash_table_lookup (conn->items, item_id);
  if (!sent) {
    sent = g_new0 (gsize, 1);
    g_hash_table_insert (conn->items, g_strdup (item_id), sent);
  }
  if (strcmp (type, "response.output_audio.delta") == 0) {
    const gchar *delta = json_object_get_string_member_with_default (ev,
        "delta", NULL);
    GByteArray *bytes = g_byte_array_new ();
    if (delta && mock_ws_decode_base64 (delta, bytes))
      *sent += bytes->len;
    g_byte_array_unref (bytes);
  }
}

/* @ev with "type" and "event_id" first, then its other members */
static gchar *
event_to_string (Conn * conn, JsonObject * ev, gsize pad_to)
{
  JsonObject *out = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  GList *names = json_object_get_members (ev), *l;
  const gchar *type = json_object_get_string_member (ev, "type");
  gchar *json;

  json_object_set_string_member (out, "type", type);
  if (json_object_has_member (ev, "event_id")) {
    json_object_set_member (out, "event_id", json_node_copy
        (json_object_get_member (ev, "event_id")));
  } else {
    gchar *id = g_strdup_printf ("event_mock%06u",
        ++((MockRealtime *) conn->core.server)->next_event_id);
    json_object_set_string_member (out, "event_id", id);
    g_free (id);
  }
  for (l = names; l; l = l->next)
    if (strcmp (l->data, "type") != 0 && strcmp (l->data, "event_id") != 0)
      json_object_set_member (out, l->data, json_node_copy
          (json_object_get_member (ev, l->data)));
  g_list_free (names);

  if (pad_to > 0) {
    gsize len;
    json_object_set_string_member (out, "mock_padding", "");
    json_node_set_object (node, out);
    json = json_to_string (node, FALSE);
    len = strlen (json);
    g_free (json);
    if (pad_to > len) {
      gsize i, n = pad_to - len;
      gchar *padding = g_malloc (n + 1);
      static const gchar alphabet[] =
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
      GRand *rand = g_rand_new_with_seed (n);
      for (i = 0; i < n; i++)
        padding[i] = alphabet[g_rand_int_range (rand, 0, 62)];
      padding[n] = '\0';
      g_rand_free (rand);
      json_object_set_string_member (out, "mock_padding", padding);
      g_free (padding);
    }
  }
  json_node_set_object (node, out);
  json = json_to_string (node, FALSE);
  json_node_unref (node);
  json_object_unref (out);
  note_sent (conn, type, ev);
  return json;
}

static gboolean
send_event (Conn * conn, JsonObject * ev, gsize pad_to)
{
  gchar *json;

  if (!mock_ws_conn_can_send (&conn->core))
    return FALSE;
  json = event_to_string (conn, ev, pad_to);
  soup_websocket_connection_send_text (conn->core.ws, json);
  g_free (json);
  return TRUE;
}

static gchar *
prepare_send (MockWsConn * conn, MockWsStep * s)
{
  JsonObject *ev = parse_event (s->text, NULL);
  gchar *json;

  g_assert (ev != NULL);        /* checked when the step was added */
  json = event_to_string ((Conn *) conn, ev, s->size);
  json_object_unref (ev);
  return json;
}

/* Still remember the items and audio of a well-formed event */
static void
sent_raw (MockWsConn * conn, MockWsStep * s)
{
  JsonObject *ev = parse_event (s->text, NULL);

  if (ev) {
    note_sent ((Conn *) conn, json_object_get_string_member (ev, "type"), ev);
    json_object_unref (ev);
  }
}

/* The send-session.updated step */
static gboolean
run_custom (MockWsConn * core, MockWsStep * s, gboolean first)
{
  Conn *conn = (Conn *) core;
  JsonObject *ev;
  JsonNode *session;

  (void) s;
  (void) first;
  if (!mock_ws_conn_can_send (core))
    return TRUE;
  ev = json_object_new ();
  if (conn->session)
    session = json_node_copy (conn->session);
  else {
    session = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (session, json_object_new ());
  }
  if (conn->client_session)
    merge_object (json_node_get_object (session),
        json_node_get_object (conn->client_session));
  json_object_set_string_member (ev, "type", "session.updated");
  json_object_set_member (ev, "session", session);
  send_event (conn, ev, 0);
  json_object_unref (ev);
  return TRUE;
}

/* One response.output_audio.delta of @size bytes */
static gboolean
send_audio (MockWsConn * conn, MockWsStep * s, const guint8 * pcm, gsize size)
{
  AudioIds *ids = s->extra;
  JsonObject *ev = json_object_new ();
  gchar *b64 = g_base64_encode (pcm, size);
  gboolean ok;

  json_object_set_string_member (ev, "type", "response.output_audio.delta");
  json_object_set_string_member (ev, "response_id", ids->response_id);
  json_object_set_string_member (ev, "item_id", ids->item_id);
  json_object_set_int_member (ev, "output_index", ids->output_index);
  json_object_set_int_member (ev, "content_index", ids->content_index);
  json_object_set_string_member (ev, "delta", b64);
  g_free (b64);
  ok = send_event ((Conn *) conn, ev, 0);
  json_object_unref (ev);
  return ok;
}

/* 1010 is the client's to send */
static const guint16 unsendable_codes[] = {
  SOUP_WEBSOCKET_CLOSE_ABNORMAL, SOUP_WEBSOCKET_CLOSE_TLS_HANDSHAKE,
  SOUP_WEBSOCKET_CLOSE_NO_EXTENSION, 0
};

static const MockWsClass realtime_class = {
  .name = "mockrealtime", .api = "mock_realtime", .path = REALTIME_PATH,
  .not_found = "{\"error\":{\"message\":\"mockrealtime: not found\"}}",
  .json_replies = TRUE,         /* rejections may carry an error object */
  .conn_size = sizeof (Conn), .conn_init = conn_init,
  .conn_clear = conn_clear,
  .frames_are = "events", .parse_noun = "event", .parse = parse_event,
  .check_message = check_message,
  .audio_kind = "input_audio_buffer.append",
  /* events get their event_id; raw ones still count for the checks */
  .prepare_send = prepare_send, .sent_raw = sent_raw,
  .send_audio = send_audio, .run_custom = run_custom,
  .unsendable_codes = unsendable_codes,
  /* a close step goes out before the steps after it are a failure */
  .close_checks_after = TRUE,
};

/* ------------------------------------------------------------------------
 * API
 * ------------------------------------------------------------------------ */

MockRealtime *
mock_realtime_new (void)
{
  return mock_realtime_new_tls (NULL);
}

MockRealtime *
mock_realtime_new_tls (const gchar * pem_file)
{
  MockRealtime *mock = g_new0 (MockRealtime, 1);

  mock_ws_server_init (&mock->core, &realtime_class, pem_file);
  return mock;
}

void
mock_realtime_free (MockRealtime * mock)
{
  if (!mock)
    return;
  mock_ws_server_clear (&mock->core);
  g_free (mock->effort);
  g_free (mock);
}

void
mock_realtime_expect_reasoning_effort (MockRealtime * mock,
    const gchar * effort)
{
  g_mutex_lock (&mock->core.lock);
  mock->check_effort = TRUE;
  g_free (mock->effort);
  mock->effort = g_strdup (effort);
  g_mutex_unlock (&mock->core.lock);
}

/* *INDENT-OFF* */
MOCK_WS_DEFINE_API (mock_realtime, MockRealtime, MockRealtimeScript,
    MockRealtimeAudioSentFunc)
/* *INDENT-ON* */

gchar *
mock_realtime_get_query_param (MockRealtime * mock, guint conn,
    const gchar * name)
{
  return mock_ws_server_get_query_param (&mock->core, conn, name);
}

gint64
mock_realtime_get_request_time (MockRealtime * mock, guint conn)
{
  return mock_ws_server_get_request_time (&mock->core, conn);
}

guint
mock_realtime_count_events (MockRealtime * mock, guint conn, const gchar * type)
{
  return mock_ws_server_count_frames (&mock->core, conn, type);
}

gchar *
mock_realtime_wait_event (MockRealtime * mock, guint conn,
    const gchar * type, guint index, guint timeout_ms)
{
  return mock_ws_server_wait_frame (&mock->core, conn, type, index,
      timeout_ms);
}
