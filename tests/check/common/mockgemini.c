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
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "mockgemini.h"
#include "mockserver.h"
#include "mockws.h"

/* what the server accepts from the client in one frame */
#define MAX_INCOMING_PAYLOAD (64 * 1024 * 1024)
/* output audio: S16LE mono at 24 kHz */
#define PCM_BYTES_PER_MS 48
/* what the service says when the key is wrong (close code 1007) */
#define BAD_KEY_REASON "API key not valid. Please pass a valid API key."
#define CLOSE_INVALID_ARGUMENT 1007
/* the default script's wait for the setup */
#define DEFAULT_SETUP_TIMEOUT_MS 60000

typedef enum
{
  STEP_SEND,
  STEP_WAIT,
  STEP_SLEEP,
  STEP_RAW,
  STEP_AUDIO,
  STEP_CLOSE,
  STEP_DROP,
  STEP_STALL
} StepKind;

static const gchar *step_names[] = {
  "send", "wait", "sleep", "send raw", "send audio", "close", "drop", "stall"
};

typedef struct
{
  StepKind kind;
  gchar *text;                  /* JSON, wait kind, close reason */
  GBytes *data;                 /* raw frame, PCM (audio or golden send) */
  gboolean binary;              /* send, raw */
  guint n;                      /* wait count, sleep ms, close code, chunk ms */
  guint timeout_ms;
  gboolean paced;
} Step;

struct _MockGeminiScript
{
  GQueue steps;                 /* Step * */
  guint reject_status;          /* a rejection, not a script, when set */
  gchar *reject_body;
};

typedef struct
{
  gboolean binary;
  gchar *text;                  /* text frames */
  gsize size;
  gchar *kind;                  /* the message's top-level field, or NULL */
  gchar *member;                /* realtimeInput's member, or NULL */
} Frame;

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
  MockGemini *mock;
  guint index;

  /* Recorded, under mock->lock */
  gchar *path;                  /* path?query */
  SoupMessageHeaders *headers;
  guint status;
  GPtrArray *frames;            /* Frame * */
  GByteArray *audio;            /* decoded input audio */
  gsize audio_not_kept;         /* input audio bytes not kept (keep_audio) */
  gboolean closed;
  gint close_code;
  gboolean script_done;         /* ran every step given so far */
  gboolean script_ended;        /* never will: a failure, a close */
  guint runs_pending;           /* mock_gemini_run() not yet applied */

  /* The mock thread only */
  SoupWebsocketConnection *ws;
  GSocket *socket;
  gboolean bad_key;             /* closed at the first message */
  GQueue steps;                 /* Step *, still to run */
  Step *step;                   /* the one running */
  guint step_no;
  GSource *timer;
  guint wait_from;              /* first frame the running wait counts */
  gsize audio_pos;              /* paced audio: bytes sent */
  gint64 audio_start;
  guint audio_chunk;
  /* protocol state, for the checks */
  gboolean setup_seen;
  gboolean setup_complete_sent;
  gboolean vad_disabled;
  gboolean activity_open;
  GHashTable *calls;            /* id -> Call * */
} Conn;

struct _MockGemini
{
  MockServer *server;
  GMainContext *context;        /* the server's */
  gchar *url;
  GHashTable *sockets;          /* the thread only: client port -> GSocket */
  guint n_live;                 /* the thread only: WebSockets not closed */
  gboolean stopping;            /* the thread only */

  GMutex lock;
  GCond cond;
  GQueue queue;                 /* MockGeminiScript *, for connections */
  GPtrArray *conns;             /* Conn * */
  GPtrArray *violations;        /* gchar * */
  GPtrArray *failures;          /* gchar * */
  gchar *api_key;
  gboolean drop_audio;          /* !mock_gemini_set_keep_audio () */
  gboolean nodelay;             /* mock_gemini_set_tcp_nodelay () */
  MockGeminiAudioSentFunc audio_sent;
  gpointer audio_sent_data;
};

static void conn_next (Conn * conn);

/* ------------------------------------------------------------------------
 * Steps and scripts
 * ------------------------------------------------------------------------ */

static void
step_free (Step * s)
{
  g_free (s->text);
  if (s->data)
    g_bytes_unref (s->data);
  g_free (s);
}

static Step *
step_add (MockGeminiScript * script, StepKind kind, const gchar * text)
{
  Step *s = g_new0 (Step, 1);

  s->kind = kind;
  s->text = g_strdup (text);
  g_queue_push_tail (&script->steps, s);
  return s;
}

MockGeminiScript *
mock_gemini_script_new (void)
{
  MockGeminiScript *script = g_new0 (MockGeminiScript, 1);

  g_queue_init (&script->steps);
  return script;
}

void
mock_gemini_script_free (MockGeminiScript * script)
{
  if (!script)
    return;
  g_queue_clear_full (&script->steps, (GDestroyNotify) step_free);
  g_free (script->reject_body);
  g_free (script);
}

/* Server messages the test gives must be JSON objects */
static gboolean
check_server_json (const gchar * json)
{
  GError *err = NULL;
  JsonObject *obj = mock_ws_parse_object (json, &err);

  if (!obj) {
    g_critical ("mockgemini: not a server message (%s): %s", err->message,
        json);
    g_clear_error (&err);
    return FALSE;
  }
  json_object_unref (obj);
  return TRUE;
}

static void
add_send (MockGeminiScript * script, const gchar * json, gboolean binary)
{
  g_return_if_fail (script != NULL && json != NULL);
  if (check_server_json (json))
    step_add (script, STEP_SEND, json)->binary = binary;
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
  Step *s;

  g_return_if_fail (script != NULL && (data != NULL || size == 0));
  g_return_if_fail (binary || g_utf8_validate (data, size, NULL));
  s = step_add (script, STEP_RAW, NULL);
  s->data = g_bytes_new (data, size);
  s->binary = binary;
}

void
mock_gemini_script_wait (MockGeminiScript * script, const gchar * kind,
    guint count, guint timeout_ms)
{
  Step *s;

  g_return_if_fail (script != NULL && kind != NULL);
  s = step_add (script, STEP_WAIT, kind);
  s->n = MAX (count, 1);
  s->timeout_ms = timeout_ms;
}

void
mock_gemini_script_sleep (MockGeminiScript * script, guint ms)
{
  g_return_if_fail (script != NULL);
  step_add (script, STEP_SLEEP, NULL)->n = ms;
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
  Step *s;

  g_return_if_fail (script != NULL && (pcm != NULL || size == 0));
  s = step_add (script, STEP_AUDIO, NULL);
  s->data = g_bytes_new (pcm, size);
  s->n = chunk_ms;
  s->paced = paced && chunk_ms > 0;
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

void
mock_gemini_script_close (MockGeminiScript * script, guint16 code,
    const gchar * reason)
{
  g_return_if_fail (script != NULL);
  step_add (script, STEP_CLOSE, reason)->n = code;
}

void
mock_gemini_script_drop (MockGeminiScript * script)
{
  g_return_if_fail (script != NULL);
  step_add (script, STEP_DROP, NULL);
}

void
mock_gemini_script_stall (MockGeminiScript * script)
{
  g_return_if_fail (script != NULL);
  step_add (script, STEP_STALL, NULL);
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
    Step *s;

    if (last) {
      GString *str = g_string_new (NULL);
      for (; word < words->len; word++)
        g_string_append (str, g_ptr_array_index (words, word));
      rest = g_string_free (str, FALSE);
    }
    json = audio_message (pcm + offset, n, rest);
    s = step_add (script, STEP_SEND, json);
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

static void
frame_free (Frame * f)
{
  g_free (f->text);
  g_free (f->kind);
  g_free (f->member);
  g_free (f);
}

static void
call_free (Call * call)
{
  g_free (call->name);
  g_free (call);
}

static Conn *
conn_new (MockGemini * mock)
{
  Conn *conn = g_new0 (Conn, 1);

  conn->mock = mock;
  conn->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) frame_free);
  conn->audio = g_byte_array_new ();
  conn->close_code = -1;
  g_queue_init (&conn->steps);
  conn->calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) call_free);
  return conn;
}

/* Everything the thread owned is gone by now */
static void
conn_free (Conn * conn)
{
  g_free (conn->path);
  if (conn->headers)
    soup_message_headers_unref (conn->headers);
  g_ptr_array_unref (conn->frames);
  g_byte_array_unref (conn->audio);
  g_queue_clear_full (&conn->steps, (GDestroyNotify) step_free);
  if (conn->step)
    step_free (conn->step);
  g_hash_table_unref (conn->calls);
  g_free (conn);
}

static void
clear_steps (Conn * conn)
{
  if (conn->timer) {
    g_source_destroy (conn->timer);
    g_clear_pointer (&conn->timer, g_source_unref);
  }
  g_queue_clear_full (&conn->steps, (GDestroyNotify) step_free);
  g_queue_init (&conn->steps);
  g_clear_pointer (&conn->step, step_free);
}

/* *INDENT-OFF* */
static void add_failure (Conn * conn, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);
/* *INDENT-ON* */

/* A script step that could not run: recorded, and the script ends */
static void
add_failure (Conn * conn, const gchar * format, ...)
{
  MockGemini *mock = conn->mock;
  va_list args;
  gchar *what, *line;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  line = g_strdup_printf ("connection %u, step %u (%s): %s", conn->index,
      conn->step_no, conn->step ? step_names[conn->step->kind] : "-", what);
  g_free (what);
  clear_steps (conn);

  g_mutex_lock (&mock->lock);
  g_ptr_array_add (mock->failures, line);
  conn->script_ended = TRUE;
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);
}

static Conn *
get_conn (MockGemini * mock, guint i)
{
  return i < mock->conns->len ? g_ptr_array_index (mock->conns, i) : NULL;
}

/* Does @f match @kind: "field" or "realtimeInput.member" */
static gboolean
frame_is (Frame * f, const gchar * kind)
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

/* The checks shared with the other mocks (mockws.h), on a Check */
#define problem(c, ...) mock_ws_problem (&(c)->ws, __VA_ARGS__)
#define member(c, ...) mock_ws_member (&(c)->ws, __VA_ARGS__)
#define string_member(c, ...) mock_ws_string_member (&(c)->ws, __VA_ARGS__)
#define object_member(c, ...) mock_ws_object_member (&(c)->ws, __VA_ARGS__)
#define array_member(c, ...) mock_ws_array_member (&(c)->ws, __VA_ARGS__)
#define bool_member(c, ...) mock_ws_bool_member (&(c)->ws, __VA_ARGS__)
#define int_member(c, ...) mock_ws_int_member (&(c)->ws, __VA_ARGS__)
#define number_member(c, ...) mock_ws_number_member (&(c)->ws, __VA_ARGS__)
#define enum_member(c, ...) mock_ws_enum_member (&(c)->ws, __VA_ARGS__)
#define json_kind mock_ws_json_kind
#define is_string mock_ws_is_string
#define is_int mock_ws_is_int
#define in_list mock_ws_in_list

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
check_message (Check * c, JsonObject * msg, Frame * frame)
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

static void
check_frame (Check * c, gint type, GBytes * message, Frame * frame)
{
  GError *err = NULL;
  JsonObject *msg;
  const gchar *data;
  gsize size;

  data = g_bytes_get_data (message, &size);
  frame->size = size;
  if (type == SOUP_WEBSOCKET_DATA_BINARY) {
    frame->binary = TRUE;
    problem (c, "a binary frame of %" G_GSIZE_FORMAT " bytes: client "
        "messages are JSON text frames", size);
    return;
  }
  frame->text = g_strndup (data, size);
  if (!(msg = mock_ws_parse_object (frame->text, &err))) {
    problem (c, "not a JSON object (%s)", err->message);
    g_clear_error (&err);
    return;
  }
  check_message (c, msg, frame);
  json_object_unref (msg);
}

/* Records the frame, its problems and its audio */
static void
record_frame (Conn * conn, Check * c, Frame * frame)
{
  MockGemini *mock = conn->mock;
  guint i;

  g_mutex_lock (&mock->lock);
  for (i = 0; i < c->ws.problems->len; i++)
    g_ptr_array_add (mock->violations, g_ptr_array_index (c->ws.problems, i));
  if (mock->drop_audio && frame_is (frame, "realtimeInput.audio")) {
    if (c->audio)
      conn->audio_not_kept += c->audio->len;
    frame_free (frame);
  } else {
    if (c->audio)
      g_byte_array_append (conn->audio, c->audio->data, c->audio->len);
    g_ptr_array_add (conn->frames, frame);
  }
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);
}

static void
ws_message_cb (SoupWebsocketConnection * ws, gint type, GBytes * message,
    Conn * conn)
{
  Frame *frame = g_new0 (Frame, 1);
  Check c = { {conn->index, 0, NULL, NULL}, conn, NULL };

  c.ws.frame_no = conn->frames->len;    /* only this thread adds */
  c.ws.problems = g_ptr_array_new ();
  check_frame (&c, type, message, frame);
  record_frame (conn, &c, frame);
  g_ptr_array_unref (c.ws.problems);
  if (c.audio)
    g_byte_array_unref (c.audio);

  if (conn->bad_key) {
    /* as the service does: the key is checked at the first message */
    conn->bad_key = FALSE;
    if (soup_websocket_connection_get_state (ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (ws, CLOSE_INVALID_ARGUMENT,
          BAD_KEY_REASON);
    return;
  }
  if (conn->step && conn->step->kind == STEP_WAIT)
    conn_next (conn);
}

static void
ws_closed_cb (SoupWebsocketConnection * ws, Conn * conn)
{
  MockGemini *mock = conn->mock;
  gboolean unfinished = conn->step != NULL || !g_queue_is_empty (&conn->steps);

  clear_steps (conn);
  mock->n_live--;

  g_mutex_lock (&mock->lock);
  conn->closed = TRUE;
  conn->close_code = soup_websocket_connection_get_close_code (ws);
  if (unfinished)
    conn->script_ended = TRUE;
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);
}

static void
ws_error_cb (SoupWebsocketConnection * ws, GError * err, Conn * conn)
{
  (void) ws;
  g_debug ("mockgemini: connection %u: %s", conn->index, err->message);
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

static gboolean
conn_can_send (Conn * conn)
{
  if (soup_websocket_connection_get_state (conn->ws) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    return TRUE;
  add_failure (conn, "the WebSocket is no longer open");
  return FALSE;
}

/* @json as a binary (the default) or text frame */
static gboolean
send_json (Conn * conn, const gchar * json, gboolean binary)
{
  if (!conn_can_send (conn))
    return FALSE;
  note_sent (conn, json);
  if (binary)
    soup_websocket_connection_send_binary (conn->ws, json, strlen (json));
  else
    soup_websocket_connection_send_text (conn->ws, json);
  return TRUE;
}

/* mock_gemini_set_audio_sent_func () */
static void
report_audio_sent (Conn * conn, const guint8 * pcm, gsize size)
{
  MockGemini *mock = conn->mock;
  MockGeminiAudioSentFunc func;
  gpointer data;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&mock->lock);
  func = mock->audio_sent;
  data = mock->audio_sent_data;
  g_mutex_unlock (&mock->lock);
  if (func)
    func (conn->index, pcm, size, now, data);
}

static gboolean
timer_cb (gpointer user_data)
{
  Conn *conn = user_data;
  Step *s = conn->step;

  g_clear_pointer (&conn->timer, g_source_unref);
  if (s && s->kind == STEP_WAIT) {
    add_failure (conn, "no \"%s\" (%u of them) from the client within %u ms",
        s->text, s->n, s->timeout_ms);
    return G_SOURCE_REMOVE;
  }
  /* the sleep or the pause between two audio chunks is over */
  conn_next (conn);
  return G_SOURCE_REMOVE;
}

static void
start_timer (Conn * conn, gint64 delay_us)
{
  if (conn->timer) {
    g_source_destroy (conn->timer);
    g_source_unref (conn->timer);
  }
  conn->timer = g_timeout_source_new (MAX (delay_us, 0) / 1000);
  g_source_set_callback (conn->timer, timer_cb, conn, NULL);
  g_source_attach (conn->timer, conn->mock->context);
}

/* TRUE when the running wait step has what it waits for */
static gboolean
wait_done (Conn * conn, Step * s)
{
  guint i, seen = 0;

  for (i = conn->wait_from; i < conn->frames->len; i++) {
    Frame *f = g_ptr_array_index (conn->frames, i);
    if (frame_is (f, s->text) && ++seen == s->n) {
      conn->wait_from = i + 1;
      return TRUE;
    }
  }
  return FALSE;
}

/* Sends the chunks of a send-audio step; TRUE when it is over */
static gboolean
run_audio (Conn * conn, Step * s, gboolean first)
{
  gsize total;
  const guint8 *pcm = g_bytes_get_data (s->data, &total);
  gsize chunk = s->n > 0 ? s->n * PCM_BYTES_PER_MS : MAX (total, 1);

  if (first) {
    conn->audio_pos = 0;
    conn->audio_chunk = 0;
    conn->audio_start = g_get_monotonic_time ();
  }
  /* one message even for no audio at all */
  while (conn->audio_pos < total || (total == 0 && conn->audio_chunk == 0)) {
    gsize n = MIN (chunk, total - conn->audio_pos);
    gchar *json = audio_message (pcm + conn->audio_pos, n, NULL);
    gboolean ok = send_json (conn, json, TRUE);

    g_free (json);
    if (!ok)
      return TRUE;
    report_audio_sent (conn, pcm + conn->audio_pos, n);
    conn->audio_pos += n;
    conn->audio_chunk++;
    if (s->paced && conn->audio_pos < total) {
      gint64 due = conn->audio_start +
          (gint64) conn->audio_chunk * s->n * 1000;
      start_timer (conn, due - g_get_monotonic_time ());
      return FALSE;
    }
  }
  return TRUE;
}

/* A step that must be the last one */
static gboolean
is_last (Conn * conn, Step * s, gboolean first)
{
  if (first && !g_queue_is_empty (&conn->steps)) {
    add_failure (conn, "%u steps after the %s step never run",
        g_queue_get_length (&conn->steps), step_names[s->kind]);
    return FALSE;
  }
  return TRUE;
}

/* Runs the current step; TRUE when it is complete */
static gboolean
run_step (Conn * conn, Step * s, gboolean first)
{
  switch (s->kind) {
    case STEP_SEND:
      if (send_json (conn, s->text, s->binary) && s->data)
        report_audio_sent (conn, g_bytes_get_data (s->data, NULL),
            g_bytes_get_size (s->data));
      return TRUE;
    case STEP_RAW:
      if (conn_can_send (conn)) {
        gsize size;
        gconstpointer data = g_bytes_get_data (s->data, &size);
        if (s->binary)
          soup_websocket_connection_send_binary (conn->ws, data, size);
        else
          soup_websocket_connection_send_message (conn->ws,
              SOUP_WEBSOCKET_DATA_TEXT, s->data);
      }
      return TRUE;
    case STEP_WAIT:
      if (wait_done (conn, s))
        return TRUE;
      if (first)
        start_timer (conn, (gint64) s->timeout_ms * 1000);
      return FALSE;
    case STEP_SLEEP:
      if (first && s->n > 0) {
        start_timer (conn, (gint64) s->n * 1000);
        return FALSE;
      }
      return TRUE;
    case STEP_AUDIO:
      return run_audio (conn, s, first);
    case STEP_CLOSE:
      if (!is_last (conn, s, first))
        return TRUE;
      if (s->n == SOUP_WEBSOCKET_CLOSE_NO_STATUS ||
          s->n == SOUP_WEBSOCKET_CLOSE_ABNORMAL ||
          s->n == SOUP_WEBSOCKET_CLOSE_TLS_HANDSHAKE) {
        add_failure (conn, "close code %u cannot be sent (use a drop step)",
            s->n);
        return TRUE;
      }
      if (conn_can_send (conn))
        soup_websocket_connection_close (conn->ws, s->n, s->text);
      return TRUE;
    case STEP_DROP:
      if (is_last (conn, s, first) && conn->socket)
        g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
      return TRUE;
    case STEP_STALL:
      if (!is_last (conn, s, first))
        return TRUE;
      /* never done: nothing is sent any more, the socket stays open */
      return FALSE;
  }
  return TRUE;
}

/* Runs steps until one has to wait (a timer, a client message) */
static void
conn_next (Conn * conn)
{
  MockGemini *mock = conn->mock;

  while (conn->ws && !mock->stopping) {
    gboolean first = FALSE;
    Step *s;

    if (!conn->step) {
      conn->step = g_queue_pop_head (&conn->steps);
      if (!conn->step) {
        g_mutex_lock (&mock->lock);
        conn->script_done = TRUE;
        g_cond_broadcast (&mock->cond);
        g_mutex_unlock (&mock->lock);
        return;
      }
      conn->step_no++;
      first = TRUE;
    }
    s = conn->step;
    if (!run_step (conn, s, first))
      return;
    if (conn->step != s)
      return;                   /* a failure ended the script */
    if (conn->timer) {
      g_source_destroy (conn->timer);
      g_clear_pointer (&conn->timer, g_source_unref);
    }
    g_clear_pointer (&conn->step, step_free);
  }
}

static void
websocket_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * ws, gpointer user_data)
{
  MockGemini *mock = user_data;
  Conn *conn = g_object_get_data (G_OBJECT (msg), "mockgemini-conn");

  (void) server;
  (void) path;
  if (!conn)
    return;
  conn->ws = g_object_ref (ws);
  soup_websocket_connection_set_max_incoming_payload_size (ws,
      MAX_INCOMING_PAYLOAD);
  g_signal_connect (ws, "message", G_CALLBACK (ws_message_cb), conn);
  g_signal_connect (ws, "closed", G_CALLBACK (ws_closed_cb), conn);
  g_signal_connect (ws, "error", G_CALLBACK (ws_error_cb), conn);
  mock->n_live++;
  if (!conn->bad_key)
    conn_next (conn);
}

static void
respond (SoupServerMessage * msg, guint status, const gchar * body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY,
      body, strlen (body));
}

static void
copy_header (const char *name, const char *value, gpointer user_data)
{
  soup_message_headers_append (user_data, name, value);
}

/* The request as it came; the key in the query is a violation (the value
 * is not repeated: it is a secret) */
static void
record_request (MockGemini * mock, Conn * conn, SoupServerMessage * msg,
    const char *path, GHashTable * query)
{
  GUri *uri = soup_server_message_get_uri (msg);
  GSocketAddress *remote;
  const gchar *key;

  conn->path = g_uri_get_query (uri) ?
      g_strdup_printf ("%s?%s", path, g_uri_get_query (uri)) : g_strdup (path);
  conn->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  soup_message_headers_foreach (soup_server_message_get_request_headers (msg),
      copy_header, conn->headers);
  remote = soup_server_message_get_remote_address (msg);
  if (remote && G_IS_INET_SOCKET_ADDRESS (remote))
    conn->socket = g_hash_table_lookup (mock->sockets,
        GUINT_TO_POINTER (g_inet_socket_address_get_port
            (G_INET_SOCKET_ADDRESS (remote))));
  if (conn->socket)
    g_object_ref (conn->socket);

  key = soup_message_headers_get_one (conn->headers, "x-goog-api-key");
  g_mutex_lock (&mock->lock);
  conn->bad_key = mock->api_key && g_strcmp0 (key, mock->api_key) != 0;
  if (query && g_hash_table_contains (query, "key"))
    g_ptr_array_add (mock->violations, g_strdup_printf ("connection %u: the "
            "key is in the URL query (\"key\"): proxies log URLs, send the "
            "x-goog-api-key header", mock->conns->len));
  g_mutex_unlock (&mock->lock);
}

/* Before the upgrade: record, then reject or let it go on */
static void
request_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  MockGemini *mock = user_data;
  MockGeminiScript *script = NULL;
  GError *err = NULL;
  gboolean upgrade;
  Conn *conn;

  (void) server;
  if (strcmp (path, MOCK_GEMINI_PATH) != 0) {
    respond (msg, SOUP_STATUS_NOT_FOUND, "mockgemini: not found");
    return;
  }

  conn = conn_new (mock);
  record_request (mock, conn, msg, path, query);
  upgrade = soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &err);
  if (upgrade) {
    g_mutex_lock (&mock->lock);
    script = g_queue_pop_head (&mock->queue);
    g_mutex_unlock (&mock->lock);
    if (!script) {
      script = mock_gemini_script_new ();
      mock_gemini_script_setup (script, DEFAULT_SETUP_TIMEOUT_MS);
    }
  }

  if (!upgrade) {
    conn->status = SOUP_STATUS_BAD_REQUEST;
    respond (msg, conn->status, err->message);
    g_clear_error (&err);
    conn->script_ended = TRUE;
  } else if (script->reject_status) {
    conn->status = script->reject_status;
    respond (msg, conn->status, script->reject_body);
    conn->script_ended = TRUE;
  } else {
    conn->status = SOUP_STATUS_SWITCHING_PROTOCOLS;
    /* a wrong key: the script never runs */
    if (conn->bad_key)
      conn->script_ended = TRUE;
    else {
      conn->steps = script->steps;
      g_queue_init (&script->steps);
    }
    g_object_set_data (G_OBJECT (msg), "mockgemini-conn", conn);
  }
  mock_gemini_script_free (script);

  g_mutex_lock (&mock->lock);
  conn->index = mock->conns->len;
  g_ptr_array_add (mock->conns, conn);
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);
}

/* Each accepted connection: its socket is kept by the client's port, for
 * the drop step */
static void
accept_cb (GSocketConnection * sconn, gpointer user_data)
{
  MockGemini *mock = user_data;
  GSocketAddress *remote;
  gboolean nodelay;

  g_mutex_lock (&mock->lock);
  nodelay = mock->nodelay;
  g_mutex_unlock (&mock->lock);
  if (nodelay)
    g_socket_set_option (g_socket_connection_get_socket (sconn), IPPROTO_TCP,
        TCP_NODELAY, TRUE, NULL);
  remote = g_socket_connection_get_remote_address (sconn, NULL);
  if (remote && G_IS_INET_SOCKET_ADDRESS (remote))
    g_hash_table_replace (mock->sockets,
        GUINT_TO_POINTER (g_inet_socket_address_get_port
            (G_INET_SOCKET_ADDRESS (remote))),
        g_object_ref (g_socket_connection_get_socket (sconn)));
  g_clear_object (&remote);
}

static gboolean
tick_cb (gpointer user_data)
{
  (void) user_data;
  return G_SOURCE_CONTINUE;
}

/* Iterates until every WebSocket is closed or @timeout_ms passed */
static void
wait_all_closed (MockGemini * mock, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  GSource *tick = g_timeout_source_new (10);

  g_source_set_callback (tick, tick_cb, NULL, NULL);
  g_source_attach (tick, mock->context);
  while (mock->n_live > 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (mock->context, TRUE);
  g_source_destroy (tick);
  g_source_unref (tick);
}

static void
shut_down (MockGemini * mock)
{
  guint i;

  mock->stopping = TRUE;
  /* Politely first ... */
  for (i = 0; i < mock->conns->len; i++) {
    Conn *conn = g_ptr_array_index (mock->conns, i);
    if (conn->timer) {
      g_source_destroy (conn->timer);
      g_clear_pointer (&conn->timer, g_source_unref);
    }
    if (conn->ws && soup_websocket_connection_get_state (conn->ws) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (conn->ws,
          SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "mock server going away");
  }
  wait_all_closed (mock, 1000);
  /* ... then not */
  for (i = 0; i < mock->conns->len; i++) {
    Conn *conn = g_ptr_array_index (mock->conns, i);
    if (conn->ws && soup_websocket_connection_get_state (conn->ws) !=
        SOUP_WEBSOCKET_STATE_CLOSED && conn->socket)
      g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
  }
  wait_all_closed (mock, 2000);
  if (mock->n_live > 0)
    g_warning ("mockgemini: %u WebSockets did not close", mock->n_live);

  for (i = 0; i < mock->conns->len; i++) {
    Conn *conn = g_ptr_array_index (mock->conns, i);
    if (conn->ws) {
      g_signal_handlers_disconnect_by_data (conn->ws, conn);
      g_clear_object (&conn->ws);
    }
    g_clear_object (&conn->socket);
  }
}

static void
setup_cb (SoupServer * server, gpointer user_data)
{
  /* frames travel as sent: no permessage-deflate */
  soup_server_remove_websocket_extension (server,
      SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_handler (server, MOCK_GEMINI_PATH, request_cb, user_data,
      NULL);
  soup_server_add_websocket_handler (server, MOCK_GEMINI_PATH, NULL, NULL,
      websocket_cb, user_data, NULL);
}

static void
stop_cb (gpointer user_data)
{
  shut_down (user_data);
}

/* ------------------------------------------------------------------------
 * API
 * ------------------------------------------------------------------------ */

MockGemini *
mock_gemini_new (void)
{
  MockGemini *mock = g_new0 (MockGemini, 1);

  g_mutex_init (&mock->lock);
  g_cond_init (&mock->cond);
  g_queue_init (&mock->queue);
  mock->conns = g_ptr_array_new_with_free_func ((GDestroyNotify) conn_free);
  mock->violations = g_ptr_array_new_with_free_func (g_free);
  mock->failures = g_ptr_array_new_with_free_func (g_free);
  mock->sockets = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  mock->nodelay = TRUE;
  mock->server = mock_server_new ("mockgemini", NULL, setup_cb, accept_cb,
      stop_cb, mock);
  mock->context = mock_server_context (mock->server);
  mock->url = g_strdup_printf ("ws://127.0.0.1:%u" MOCK_GEMINI_PATH,
      mock_server_port (mock->server));
  return mock;
}

const gchar *
mock_gemini_url (MockGemini * mock)
{
  return mock->url;
}

void
mock_gemini_free (MockGemini * mock)
{
  if (!mock)
    return;
  mock_server_free (mock->server);
  g_hash_table_remove_all (mock->sockets);
  g_queue_clear_full (&mock->queue, (GDestroyNotify) mock_gemini_script_free);
  g_ptr_array_unref (mock->conns);
  g_ptr_array_unref (mock->violations);
  g_ptr_array_unref (mock->failures);
  g_hash_table_unref (mock->sockets);
  g_free (mock->api_key);
  g_free (mock->url);
  g_mutex_clear (&mock->lock);
  g_cond_clear (&mock->cond);
  g_free (mock);
}

void
mock_gemini_set_api_key (MockGemini * mock, const gchar * key)
{
  g_mutex_lock (&mock->lock);
  g_free (mock->api_key);
  mock->api_key = g_strdup (key);
  g_mutex_unlock (&mock->lock);
}

void
mock_gemini_push_script (MockGemini * mock, MockGeminiScript * script)
{
  g_return_if_fail (script != NULL);
  g_mutex_lock (&mock->lock);
  g_queue_push_tail (&mock->queue, script);
  g_mutex_unlock (&mock->lock);
}

void
mock_gemini_push_reject (MockGemini * mock, guint http_status,
    const gchar * body)
{
  MockGeminiScript *script;

  g_return_if_fail (http_status >= 200);
  script = mock_gemini_script_new ();
  script->reject_status = http_status;
  script->reject_body = g_strdup (body ? body : "");
  mock_gemini_push_script (mock, script);
}

typedef struct
{
  Conn *conn;
  MockGeminiScript *script;
} Run;

static gboolean
run_cb (gpointer user_data)
{
  Run *run = user_data;
  Conn *conn = run->conn;
  MockGemini *mock = conn->mock;
  gboolean ended, idle;
  Step *s;

  g_mutex_lock (&mock->lock);
  conn->runs_pending--;
  ended = conn->script_ended || conn->closed;
  if (ended || mock->stopping)
    g_ptr_array_add (mock->failures, g_strdup_printf ("connection %u: "
            "mock_gemini_run() after its script ended", conn->index));
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);

  if (!ended && !mock->stopping) {
    idle = conn->step == NULL && g_queue_is_empty (&conn->steps);
    while ((s = g_queue_pop_head (&run->script->steps)))
      g_queue_push_tail (&conn->steps, s);
    if (idle)
      conn_next (conn);
  }
  mock_gemini_script_free (run->script);
  g_free (run);
  return G_SOURCE_REMOVE;
}

void
mock_gemini_run (MockGemini * mock, guint conn, MockGeminiScript * script)
{
  Conn *c;
  Run *run;

  g_return_if_fail (script != NULL);
  g_mutex_lock (&mock->lock);
  c = get_conn (mock, conn);
  if (!c || c->status != SOUP_STATUS_SWITCHING_PROTOCOLS || c->closed ||
      c->script_ended) {
    g_ptr_array_add (mock->failures, g_strdup_printf ("connection %u: "
            "mock_gemini_run() on a connection that is not open", conn));
    g_cond_broadcast (&mock->cond);
    g_mutex_unlock (&mock->lock);
    mock_gemini_script_free (script);
    return;
  }
  c->script_done = FALSE;
  c->runs_pending++;
  g_mutex_unlock (&mock->lock);

  run = g_new0 (Run, 1);
  run->conn = c;
  run->script = script;
  g_main_context_invoke (mock->context, run_cb, run);
}

/* ------------------------------------------------------------------------
 * Queries
 * ------------------------------------------------------------------------ */

/* Waits on the mock's condition until @done (called with the lock held)
 * returns TRUE; FALSE after @timeout_ms */
static gboolean
wait_until (MockGemini * mock, gboolean (*done) (MockGemini *, gpointer),
    gpointer data, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  gboolean ok;

  g_mutex_lock (&mock->lock);
  while (!(ok = done (mock, data)))
    if (!g_cond_wait_until (&mock->cond, &mock->lock, end)) {
      ok = done (mock, data);
      break;
    }
  g_mutex_unlock (&mock->lock);
  return ok;
}

guint
mock_gemini_n_connections (MockGemini * mock)
{
  guint n;

  g_mutex_lock (&mock->lock);
  n = mock->conns->len;
  g_mutex_unlock (&mock->lock);
  return n;
}

static gboolean
have_connections (MockGemini * mock, gpointer data)
{
  return mock->conns->len >= GPOINTER_TO_UINT (data);
}

gboolean
mock_gemini_wait_connections (MockGemini * mock, guint n, guint timeout_ms)
{
  return wait_until (mock, have_connections, GUINT_TO_POINTER (n), timeout_ms);
}

gchar *
mock_gemini_get_path (MockGemini * mock, guint conn)
{
  gchar *ret = NULL;
  Conn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn)))
    ret = g_strdup (c->path);
  g_mutex_unlock (&mock->lock);
  return ret;
}

gchar *
mock_gemini_get_header (MockGemini * mock, guint conn, const gchar * name)
{
  gchar *ret = NULL;
  Conn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn)))
    ret = g_strdup (soup_message_headers_get_list (c->headers, name));
  g_mutex_unlock (&mock->lock);
  return ret;
}

guint
mock_gemini_get_status (MockGemini * mock, guint conn)
{
  guint ret = 0;
  Conn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn)))
    ret = c->status;
  g_mutex_unlock (&mock->lock);
  return ret;
}

static gboolean
is_closed (MockGemini * mock, gpointer data)
{
  Conn *c = get_conn (mock, GPOINTER_TO_UINT (data));

  return c && (c->closed || c->status != SOUP_STATUS_SWITCHING_PROTOCOLS);
}

gboolean
mock_gemini_wait_closed (MockGemini * mock, guint conn, guint timeout_ms)
{
  return wait_until (mock, is_closed, GUINT_TO_POINTER (conn), timeout_ms);
}

gint
mock_gemini_get_close_code (MockGemini * mock, guint conn)
{
  gint ret = -1;
  Conn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn)))
    ret = c->close_code;
  g_mutex_unlock (&mock->lock);
  return ret;
}

/* With the lock held: the script of @conn is done, or never will be */
static gboolean
script_settled (MockGemini * mock, gpointer data)
{
  Conn *c = get_conn (mock, GPOINTER_TO_UINT (data));

  return c && (c->script_ended || (c->script_done && c->runs_pending == 0));
}

gboolean
mock_gemini_wait_script_done (MockGemini * mock, guint conn,
    guint timeout_ms)
{
  gboolean ok;

  if (!wait_until (mock, script_settled, GUINT_TO_POINTER (conn), timeout_ms))
    return FALSE;
  g_mutex_lock (&mock->lock);
  ok = !get_conn (mock, conn)->script_ended;
  g_mutex_unlock (&mock->lock);
  return ok;
}

guint
mock_gemini_n_frames (MockGemini * mock, guint conn)
{
  guint n = 0;
  Conn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn)))
    n = c->frames->len;
  g_mutex_unlock (&mock->lock);
  return n;
}

gchar *
mock_gemini_get_frame (MockGemini * mock, guint conn, guint i)
{
  gchar *ret = NULL;
  Conn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn)) && i < c->frames->len)
    ret = g_strdup (((Frame *) g_ptr_array_index (c->frames, i))->text);
  g_mutex_unlock (&mock->lock);
  return ret;
}

typedef struct
{
  guint conn;
  const gchar *kind;
  guint index;
  Frame *found;                 /* out */
  guint count;                  /* out */
} Find;

/* With the lock held: counts the messages of find->kind, and finds the one
 * number find->index */
static gboolean
find_message (MockGemini * mock, gpointer data)
{
  Find *find = data;
  guint i, j;

  find->found = NULL;
  find->count = 0;
  for (i = 0; i < mock->conns->len; i++) {
    Conn *c = g_ptr_array_index (mock->conns, i);
    if (find->conn != MOCK_GEMINI_ANY_CONNECTION && find->conn != i)
      continue;
    for (j = 0; j < c->frames->len; j++) {
      Frame *f = g_ptr_array_index (c->frames, j);
      if (!frame_is (f, find->kind))
        continue;
      if (find->count == find->index)
        find->found = f;
      find->count++;
    }
  }
  return find->found != NULL;
}

guint
mock_gemini_count_messages (MockGemini * mock, guint conn, const gchar * kind)
{
  Find find = { conn, kind, G_MAXUINT, NULL, 0 };

  g_return_val_if_fail (kind != NULL, 0);
  g_mutex_lock (&mock->lock);
  find_message (mock, &find);
  g_mutex_unlock (&mock->lock);
  return find.count;
}

gchar *
mock_gemini_wait_message (MockGemini * mock, guint conn, const gchar * kind,
    guint index, guint timeout_ms)
{
  Find find = { conn, kind, index, NULL, 0 };
  gchar *ret;

  g_return_val_if_fail (kind != NULL, NULL);
  if (!wait_until (mock, find_message, &find, timeout_ms))
    return NULL;
  /* frames are never removed before the mock is freed */
  g_mutex_lock (&mock->lock);
  ret = g_strdup (find.found->text);
  g_mutex_unlock (&mock->lock);
  return ret;
}

/* With the lock held */
static gsize
audio_bytes (MockGemini * mock, guint conn)
{
  gsize n = 0;
  guint i;

  for (i = 0; i < mock->conns->len; i++)
    if (conn == MOCK_GEMINI_ANY_CONNECTION || conn == i) {
      Conn *c = g_ptr_array_index (mock->conns, i);
      n += c->audio->len + c->audio_not_kept;
    }
  return n;
}

gsize
mock_gemini_get_audio_bytes (MockGemini * mock, guint conn)
{
  gsize n;

  g_mutex_lock (&mock->lock);
  n = audio_bytes (mock, conn);
  g_mutex_unlock (&mock->lock);
  return n;
}

typedef struct
{
  guint conn;
  gsize n_bytes;
} AudioWait;

static gboolean
have_audio (MockGemini * mock, gpointer data)
{
  AudioWait *w = data;

  return audio_bytes (mock, w->conn) >= w->n_bytes;
}

gboolean
mock_gemini_wait_audio_bytes (MockGemini * mock, guint conn, gsize n_bytes,
    guint timeout_ms)
{
  AudioWait w = { conn, n_bytes };

  return wait_until (mock, have_audio, &w, timeout_ms);
}

GBytes *
mock_gemini_get_audio (MockGemini * mock, guint conn)
{
  GByteArray *all = g_byte_array_new ();
  guint i;

  g_mutex_lock (&mock->lock);
  for (i = 0; i < mock->conns->len; i++) {
    Conn *c = g_ptr_array_index (mock->conns, i);
    if (conn == MOCK_GEMINI_ANY_CONNECTION || conn == i)
      g_byte_array_append (all, c->audio->data, c->audio->len);
  }
  g_mutex_unlock (&mock->lock);
  return g_byte_array_free_to_bytes (all);
}

guint
mock_gemini_n_violations (MockGemini * mock)
{
  return mock_ws_count_lines (&mock->lock, mock->violations);
}

gchar *
mock_gemini_get_violations (MockGemini * mock)
{
  return mock_ws_join_lines (&mock->lock, mock->violations);
}

guint
mock_gemini_n_failures (MockGemini * mock)
{
  return mock_ws_count_lines (&mock->lock, mock->failures);
}

gchar *
mock_gemini_get_failures (MockGemini * mock)
{
  return mock_ws_join_lines (&mock->lock, mock->failures);
}

void
mock_gemini_set_audio_sent_func (MockGemini * mock,
    MockGeminiAudioSentFunc func, gpointer user_data)
{
  g_mutex_lock (&mock->lock);
  mock->audio_sent = func;
  mock->audio_sent_data = user_data;
  g_mutex_unlock (&mock->lock);
}

void
mock_gemini_set_keep_audio (MockGemini * mock, gboolean keep)
{
  g_mutex_lock (&mock->lock);
  mock->drop_audio = !keep;
  g_mutex_unlock (&mock->lock);
}

void
mock_gemini_set_tcp_nodelay (MockGemini * mock, gboolean nodelay)
{
  g_mutex_lock (&mock->lock);
  mock->nodelay = nodelay;
  g_mutex_unlock (&mock->lock);
}
