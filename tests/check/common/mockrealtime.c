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
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "mockrealtime.h"
#include "mockserver.h"
#include "mockws.h"

#define REALTIME_PATH "/v1/realtime"
/* what the server accepts from the client in one frame */
#define MAX_INCOMING_PAYLOAD (64 * 1024 * 1024)
/* input_audio_buffer.append: at most 15 MiB of audio per event */
#define MAX_APPEND_BYTES (15 * 1024 * 1024)
/* S16LE mono at 24 kHz */
#define PCM_BYTES_PER_MS 48
/* G.711 at 8 kHz */
#define G711_BYTES_PER_MS 8

typedef enum
{
  STEP_SEND,
  STEP_SESSION_UPDATED,
  STEP_WAIT,
  STEP_SLEEP,
  STEP_RAW,
  STEP_BINARY,
  STEP_PADDED,
  STEP_AUDIO,
  STEP_CLOSE,
  STEP_DROP,
  STEP_STALL,
  STEP_FREEZE
} StepKind;

static const gchar *step_names[] = {
  "send", "send session.updated", "wait", "sleep", "send raw",
  "send binary", "send padded", "send audio", "close", "drop", "stall",
  "freeze"
};

typedef struct
{
  StepKind kind;
  gchar *text;                  /* JSON, raw text, wait type, close reason */
  GBytes *data;                 /* binary frame, PCM */
  guint n;                      /* wait count, sleep ms, close code, chunk ms */
  guint timeout_ms;
  gsize size;                   /* padded frame size */
  gboolean paced;
  gchar *response_id;
  gchar *item_id;
  guint output_index;
  guint content_index;
} Step;

struct _MockRealtimeScript
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
  gchar *type;                  /* a JSON object's "type", else NULL */
} Frame;

typedef struct
{
  MockRealtime *mock;
  guint index;

  /* Recorded, under mock->lock */
  gint64 request_time;          /* monotonic, when the request came */
  gchar *path;                  /* path?query */
  GHashTable *query;            /* decoded, may be NULL */
  SoupMessageHeaders *headers;
  guint status;
  GPtrArray *frames;            /* Frame * */
  GByteArray *audio;            /* decoded input audio */
  gsize audio_not_kept;         /* input audio bytes not kept (keep_audio) */
  gboolean closed;
  gint close_code;
  gboolean script_done;         /* ran every step given so far */
  gboolean script_ended;        /* never will: a failure, a close */
  guint runs_pending;           /* mock_realtime_run() not yet applied */

  /* The mock thread only */
  SoupWebsocketConnection *ws;
  GSocket *socket;
  gint frozen_fd;               /* a freeze step: the real socket, unread */
  gint freeze_peer;             /* the other end of what took its place */
  GQueue steps;                 /* Step *, still to run */
  Step *step;                   /* the one running */
  guint step_no;
  GSource *timer;
  guint wait_from;              /* first frame the running wait counts */
  gsize audio_pos;              /* paced audio: bytes sent */
  gint64 audio_start;
  guint audio_chunk;
  gboolean session_update_seen;
  JsonNode *session;            /* the last session the mock sent */
  JsonNode *client_session;     /* merged session.update sessions */
  guint input_frame_bytes;      /* 2 for PCM, 1 for G.711 */
  guint output_bytes_per_ms;
  GHashTable *items;            /* item id -> gsize * audio bytes sent */
} Conn;

struct _MockRealtime
{
  MockServer *server;
  GMainContext *context;        /* the server's */
  gchar *url;
  GHashTable *sockets;          /* the thread only: client port -> GSocket */
  guint next_event_id;          /* the thread only */
  guint n_live;                 /* the thread only: WebSockets not closed */
  gboolean stopping;            /* the thread only */

  GMutex lock;
  GCond cond;
  GQueue queue;                 /* MockRealtimeScript *, for connections */
  GPtrArray *conns;             /* Conn * */
  GPtrArray *violations;        /* gchar * */
  GPtrArray *failures;          /* gchar * */
  gboolean drop_audio;          /* !mock_realtime_set_keep_audio () */
  gboolean nodelay;             /* mock_realtime_set_tcp_nodelay () */
  MockRealtimeAudioSentFunc audio_sent;
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
  g_free (s->response_id);
  g_free (s->item_id);
  g_free (s);
}

static Step *
step_add (MockRealtimeScript * script, StepKind kind, const gchar * text)
{
  Step *s = g_new0 (Step, 1);

  s->kind = kind;
  s->text = g_strdup (text);
  g_queue_push_tail (&script->steps, s);
  return s;
}

MockRealtimeScript *
mock_realtime_script_new (void)
{
  MockRealtimeScript *script = g_new0 (MockRealtimeScript, 1);

  g_queue_init (&script->steps);
  return script;
}

void
mock_realtime_script_free (MockRealtimeScript * script)
{
  if (!script)
    return;
  g_queue_clear_full (&script->steps, (GDestroyNotify) step_free);
  g_free (script->reject_body);
  g_free (script);
}

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

static gboolean
check_event_json (const gchar * json)
{
  GError *err = NULL;
  JsonObject *obj = parse_event (json, &err);

  if (!obj) {
    g_critical ("mockrealtime: not a server event (%s): %s", err->message,
        json);
    g_clear_error (&err);
    return FALSE;
  }
  json_object_unref (obj);
  return TRUE;
}

void
mock_realtime_script_send (MockRealtimeScript * script, const gchar * json)
{
  g_return_if_fail (script != NULL && json != NULL);
  if (check_event_json (json))
    step_add (script, STEP_SEND, json);
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
  step_add (script, STEP_SESSION_UPDATED, NULL);
}

void
mock_realtime_script_wait (MockRealtimeScript * script, const gchar * type,
    guint count, guint timeout_ms)
{
  Step *s;

  g_return_if_fail (script != NULL && type != NULL);
  s = step_add (script, STEP_WAIT, type);
  s->n = MAX (count, 1);
  s->timeout_ms = timeout_ms;
}

void
mock_realtime_script_sleep (MockRealtimeScript * script, guint ms)
{
  step_add (script, STEP_SLEEP, NULL)->n = ms;
}

void
mock_realtime_script_send_raw (MockRealtimeScript * script, const gchar * text)
{
  g_return_if_fail (script != NULL && text != NULL);
  if (!g_utf8_validate (text, -1, NULL)) {
    g_critical ("mockrealtime: a text frame must be UTF-8");
    return;
  }
  step_add (script, STEP_RAW, text);
}

void
mock_realtime_script_send_binary (MockRealtimeScript * script,
    gconstpointer data, gsize size)
{
  g_return_if_fail (script != NULL);
  step_add (script, STEP_BINARY, NULL)->data = g_bytes_new (data, size);
}

void
mock_realtime_script_send_padded (MockRealtimeScript * script,
    const gchar * json, gsize frame_size)
{
  g_return_if_fail (script != NULL && json != NULL);
  if (check_event_json (json))
    step_add (script, STEP_PADDED, json)->size = frame_size;
}

void
mock_realtime_script_send_audio (MockRealtimeScript * script,
    gconstpointer pcm, gsize size, guint chunk_ms, gboolean paced,
    const gchar * response_id, const gchar * item_id, guint output_index,
    guint content_index)
{
  Step *s;

  g_return_if_fail (script != NULL && response_id != NULL && item_id != NULL);
  s = step_add (script, STEP_AUDIO, NULL);
  s->data = g_bytes_new (pcm, size);
  s->n = chunk_ms;
  s->paced = paced;
  s->response_id = g_strdup (response_id);
  s->item_id = g_strdup (item_id);
  s->output_index = output_index;
  s->content_index = content_index;
}

void
mock_realtime_script_close (MockRealtimeScript * script, guint16 code,
    const gchar * reason)
{
  g_return_if_fail (script != NULL);
  step_add (script, STEP_CLOSE, reason)->n = code;
}

void
mock_realtime_script_drop (MockRealtimeScript * script)
{
  g_return_if_fail (script != NULL);
  step_add (script, STEP_DROP, NULL);
}

void
mock_realtime_script_stall (MockRealtimeScript * script)
{
  g_return_if_fail (script != NULL);
  step_add (script, STEP_STALL, NULL);
}

void
mock_realtime_script_freeze (MockRealtimeScript * script)
{
  g_return_if_fail (script != NULL);
  step_add (script, STEP_FREEZE, NULL);
}

/* ------------------------------------------------------------------------
 * The golden exchange
 * ------------------------------------------------------------------------ */

/* What the server reports before the client configured anything */
static const gchar golden_session[] =
    "{\"type\":\"realtime\",\"object\":\"realtime.session\","
    "\"id\":\"" MOCK_REALTIME_GOLDEN_SESSION_ID "\","
    "\"model\":\"gpt-realtime\",\"output_modalities\":[\"audio\"],"
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
 * Recording
 * ------------------------------------------------------------------------ */

static void
frame_free (Frame * f)
{
  g_free (f->text);
  g_free (f->type);
  g_free (f);
}

static Conn *
conn_new (MockRealtime * mock)
{
  Conn *conn = g_new0 (Conn, 1);

  conn->mock = mock;
  conn->frames = g_ptr_array_new_with_free_func ((GDestroyNotify) frame_free);
  conn->audio = g_byte_array_new ();
  conn->close_code = -1;
  conn->frozen_fd = conn->freeze_peer = -1;
  g_queue_init (&conn->steps);
  conn->input_frame_bytes = 2;
  conn->output_bytes_per_ms = PCM_BYTES_PER_MS;
  conn->items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return conn;
}

/* Everything the thread owned is gone by now */
static void
conn_free (Conn * conn)
{
  g_free (conn->path);
  if (conn->query)
    g_hash_table_unref (conn->query);
  if (conn->headers)
    soup_message_headers_unref (conn->headers);
  g_ptr_array_unref (conn->frames);
  g_byte_array_unref (conn->audio);
  g_queue_clear_full (&conn->steps, (GDestroyNotify) step_free);
  if (conn->step)
    step_free (conn->step);
  if (conn->session)
    json_node_unref (conn->session);
  if (conn->client_session)
    json_node_unref (conn->client_session);
  g_hash_table_unref (conn->items);
  g_free (conn);
}

/* A server that stops reading, without libsoup knowing: the socket's
 * descriptor is moved aside (kept open and never read, so that TCP holds
 * what the client sends until the window closes) and the end of a quiet
 * socketpair takes its number, which the main loop goes on polling by
 * number and never finds readable. */
static gboolean
conn_freeze (Conn * conn)
{
  gint fd, pair[2];

  if (!conn->socket || conn->frozen_fd >= 0)
    return FALSE;
  fd = g_socket_get_fd (conn->socket);
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    return FALSE;
  conn->frozen_fd = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  if (conn->frozen_fd < 0 || !g_unix_set_fd_nonblocking (pair[0], TRUE,
          NULL) || dup2 (pair[0], fd) < 0) {
    if (conn->frozen_fd >= 0)
      close (conn->frozen_fd);
    conn->frozen_fd = -1;
    close (pair[0]);
    close (pair[1]);
    return FALSE;
  }
  /* dup2 leaves the new descriptor open across exec */
  fcntl (fd, F_SETFD, FD_CLOEXEC);
  close (pair[0]);
  conn->freeze_peer = pair[1];
  return TRUE;
}

/* The real socket goes (the client sees the connection end) once libsoup
 * is done with the one that replaced it */
static void
conn_unfreeze (Conn * conn)
{
  if (conn->frozen_fd >= 0)
    close (conn->frozen_fd);
  if (conn->freeze_peer >= 0)
    close (conn->freeze_peer);
  conn->frozen_fd = conn->freeze_peer = -1;
}

/* *INDENT-OFF* */
static void add_failure (Conn * conn, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);
/* *INDENT-ON* */

/* A script step that could not run: recorded, and the script ends */
static void
add_failure (Conn * conn, const gchar * format, ...)
{
  MockRealtime *mock = conn->mock;
  va_list args;
  gchar *what, *line;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  line = g_strdup_printf ("connection %u, step %u (%s): %s", conn->index,
      conn->step_no, conn->step ? step_names[conn->step->kind] : "-", what);
  g_free (what);

  if (conn->timer) {
    g_source_destroy (conn->timer);
    g_clear_pointer (&conn->timer, g_source_unref);
  }
  g_queue_clear_full (&conn->steps, (GDestroyNotify) step_free);
  g_queue_init (&conn->steps);
  g_clear_pointer (&conn->step, step_free);

  g_mutex_lock (&mock->lock);
  g_ptr_array_add (mock->failures, line);
  conn->script_ended = TRUE;
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);
}

static Conn *
get_conn (MockRealtime * mock, guint i)
{
  return i < mock->conns->len ? g_ptr_array_index (mock->conns, i) : NULL;
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

/* The checks shared with the other mocks (mockws.h), on a Check */
#define problem(c, ...) mock_ws_problem (&(c)->ws, __VA_ARGS__)
#define member(c, ...) mock_ws_member (&(c)->ws, __VA_ARGS__)
#define string_member(c, ...) mock_ws_string_member (&(c)->ws, __VA_ARGS__)
#define object_member(c, ...) mock_ws_object_member (&(c)->ws, __VA_ARGS__)
#define int_member(c, ...) mock_ws_int_member (&(c)->ws, __VA_ARGS__)
#define number_member(c, ...) mock_ws_number_member (&(c)->ws, __VA_ARGS__)
#define enum_member(c, ...) mock_ws_enum_member (&(c)->ws, __VA_ARGS__)
#define json_kind mock_ws_json_kind
#define is_string mock_ws_is_string
#define is_int mock_ws_is_int
#define is_array mock_ws_is_array
#define in_list mock_ws_in_list

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

static void
ws_message_cb (SoupWebsocketConnection * ws, gint type, GBytes * message,
    Conn * conn)
{
  MockRealtime *mock = conn->mock;
  Frame *frame = g_new0 (Frame, 1);
  Check c = { {conn->index, 0, NULL, NULL}, conn, NULL };
  const gchar *data;
  gsize size;
  guint i;

  (void) ws;
  data = g_bytes_get_data (message, &size);
  frame->size = size;
  c.ws.frame_no = conn->frames->len;    /* only this thread adds */
  c.ws.problems = g_ptr_array_new ();

  if (type == SOUP_WEBSOCKET_DATA_BINARY) {
    frame->binary = TRUE;
    problem (&c, "a binary frame of %" G_GSIZE_FORMAT " bytes: client "
        "events are JSON text frames", size);
  } else {
    GError *err = NULL;
    JsonObject *ev;

    frame->text = g_strndup (data, size);
    ev = parse_event (frame->text, &err);
    if (!ev) {
      problem (&c, "not a JSON event (%s)", err->message);
      g_clear_error (&err);
    } else {
      frame->type = g_strdup (json_object_get_string_member (ev, "type"));
      c.ws.what = frame->type;
      check_event (&c, ev);
      json_object_unref (ev);
    }
  }

  g_mutex_lock (&mock->lock);
  for (i = 0; i < c.ws.problems->len; i++)
    g_ptr_array_add (mock->violations, g_ptr_array_index (c.ws.problems, i));
  if (mock->drop_audio && g_strcmp0 (frame->type,
          "input_audio_buffer.append") == 0) {
    if (c.audio)
      conn->audio_not_kept += c.audio->len;
    g_clear_pointer (&frame, frame_free);
  } else {
    if (c.audio)
      g_byte_array_append (conn->audio, c.audio->data, c.audio->len);
    g_ptr_array_add (conn->frames, frame);
  }
  g_cond_broadcast (&mock->cond);
  g_mutex_unlock (&mock->lock);
  g_ptr_array_unref (c.ws.problems);
  if (c.audio)
    g_byte_array_unref (c.audio);

  if (conn->step && conn->step->kind == STEP_WAIT)
    conn_next (conn);
}

static void
ws_closed_cb (SoupWebsocketConnection * ws, Conn * conn)
{
  MockRealtime *mock = conn->mock;
  gboolean unfinished = conn->step != NULL || !g_queue_is_empty (&conn->steps);

  if (conn->timer) {
    g_source_destroy (conn->timer);
    g_clear_pointer (&conn->timer, g_source_unref);
  }
  g_queue_clear_full (&conn->steps, (GDestroyNotify) step_free);
  g_queue_init (&conn->steps);
  g_clear_pointer (&conn->step, step_free);
  conn_unfreeze (conn);
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
  g_debug ("mockrealtime: connection %u: %s", conn->index, err->message);
}

/* Remembers what the client may refer to later: sessions, items, audio */
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

static gboolean
conn_can_send (Conn * conn)
{
  if (soup_websocket_connection_get_state (conn->ws) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    return TRUE;
  add_failure (conn, "the WebSocket is no longer open");
  return FALSE;
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
        ++conn->mock->next_event_id);
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

  if (!conn_can_send (conn))
    return FALSE;
  json = event_to_string (conn, ev, pad_to);
  soup_websocket_connection_send_text (conn->ws, json);
  g_free (json);
  return TRUE;
}

static gboolean
send_json (Conn * conn, const gchar * text, gsize pad_to)
{
  JsonObject *ev = parse_event (text, NULL);
  gboolean ok;

  g_assert (ev != NULL);        /* checked when the step was added */
  ok = send_event (conn, ev, pad_to);
  json_object_unref (ev);
  return ok;
}

static void
send_session_updated (Conn * conn)
{
  JsonObject *ev = json_object_new ();
  JsonNode *session;

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
}

/* One response.output_audio.delta of @size bytes of the step's PCM */
static gboolean
send_audio_chunk (Conn * conn, Step * s, gsize offset, gsize size)
{
  const guint8 *pcm = g_bytes_get_data (s->data, NULL);
  JsonObject *ev = json_object_new ();
  gchar *b64 = g_base64_encode (pcm + offset, size);
  gboolean ok;

  json_object_set_string_member (ev, "type", "response.output_audio.delta");
  json_object_set_string_member (ev, "response_id", s->response_id);
  json_object_set_string_member (ev, "item_id", s->item_id);
  json_object_set_int_member (ev, "output_index", s->output_index);
  json_object_set_int_member (ev, "content_index", s->content_index);
  json_object_set_string_member (ev, "delta", b64);
  g_free (b64);
  ok = send_event (conn, ev, 0);
  json_object_unref (ev);
  return ok;
}

/* mock_realtime_set_audio_sent_func () */
static void
report_audio_sent (Conn * conn, Step * s, gsize offset, gsize size)
{
  MockRealtime *mock = conn->mock;
  MockRealtimeAudioSentFunc func;
  gpointer data;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&mock->lock);
  func = mock->audio_sent;
  data = mock->audio_sent_data;
  g_mutex_unlock (&mock->lock);
  if (func)
    func (conn->index, (const guint8 *) g_bytes_get_data (s->data, NULL) +
        offset, size, now, data);
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
    if (g_strcmp0 (f->type, s->text) == 0 && ++seen == s->n) {
      conn->wait_from = i + 1;
      return TRUE;
    }
  }
  return FALSE;
}

/* Runs the current step; TRUE when it is complete */
static gboolean
run_step (Conn * conn, Step * s, gboolean first)
{
  switch (s->kind) {
    case STEP_SEND:
      return send_json (conn, s->text, 0);
    case STEP_PADDED:
      return send_json (conn, s->text, MAX (s->size, 1));
    case STEP_SESSION_UPDATED:
      if (conn_can_send (conn))
        send_session_updated (conn);
      return TRUE;
    case STEP_RAW:
      if (conn_can_send (conn)) {
        JsonObject *ev = parse_event (s->text, NULL);
        /* still remember the items and audio of a well-formed event */
        if (ev) {
          note_sent (conn, json_object_get_string_member (ev, "type"), ev);
          json_object_unref (ev);
        }
        soup_websocket_connection_send_text (conn->ws, s->text);
      }
      return TRUE;
    case STEP_BINARY:
      if (conn_can_send (conn)) {
        gsize size;
        gconstpointer data = g_bytes_get_data (s->data, &size);
        soup_websocket_connection_send_binary (conn->ws, data, size);
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
    case STEP_AUDIO:{
      gsize total = g_bytes_get_size (s->data);
      gsize chunk = s->n > 0 ? s->n * PCM_BYTES_PER_MS : MAX (total, 1);

      if (first) {
        conn->audio_pos = 0;
        conn->audio_chunk = 0;
        conn->audio_start = g_get_monotonic_time ();
      }
      while (conn->audio_pos < total) {
        gsize n = MIN (chunk, total - conn->audio_pos);
        if (!send_audio_chunk (conn, s, conn->audio_pos, n))
          return TRUE;
        report_audio_sent (conn, s, conn->audio_pos, n);
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
    case STEP_CLOSE:
      if (s->n == SOUP_WEBSOCKET_CLOSE_ABNORMAL ||
          s->n == SOUP_WEBSOCKET_CLOSE_TLS_HANDSHAKE ||
          s->n == SOUP_WEBSOCKET_CLOSE_NO_EXTENSION) {
        add_failure (conn, "close code %u cannot be sent (use a drop step)",
            s->n);
        return TRUE;
      }
      if (conn_can_send (conn))
        soup_websocket_connection_close (conn->ws, s->n, s->text);
      return TRUE;
    case STEP_DROP:
      if (conn->socket)
        g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
      return TRUE;
    case STEP_STALL:
      if (first && !g_queue_is_empty (&conn->steps)) {
        add_failure (conn, "%u steps after the stall step never run",
            g_queue_get_length (&conn->steps));
        return TRUE;
      }
      /* never done: nothing is sent any more, the socket stays open */
      return FALSE;
    case STEP_FREEZE:
      if (first && !g_queue_is_empty (&conn->steps)) {
        add_failure (conn, "%u steps after the freeze step never run",
            g_queue_get_length (&conn->steps));
        return TRUE;
      }
      if (first && !conn_freeze (conn)) {
        add_failure (conn, "the socket could not be frozen");
        return TRUE;
      }
      /* never done, like a stall; nothing is read any more either */
      return FALSE;
  }
  return TRUE;
}

/* Runs steps until one has to wait (a timer, a client event) */
static void
conn_next (Conn * conn)
{
  MockRealtime *mock = conn->mock;

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
    if ((s->kind == STEP_CLOSE || s->kind == STEP_DROP) &&
        !g_queue_is_empty (&conn->steps)) {
      add_failure (conn, "%u steps after the %s step never run",
          g_queue_get_length (&conn->steps), step_names[s->kind]);
      return;
    }
    g_clear_pointer (&conn->step, step_free);
  }
}

static void
websocket_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * ws, gpointer user_data)
{
  MockRealtime *mock = user_data;
  Conn *conn = g_object_get_data (G_OBJECT (msg), "mockrealtime-conn");

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
  conn_next (conn);
}

static void
respond (SoupServerMessage * msg, guint status, const gchar * body)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, body[0] == '{' ?
      "application/json" : "text/plain", SOUP_MEMORY_COPY, body, strlen (body));
}

static void
copy_header (const char *name, const char *value, gpointer user_data)
{
  soup_message_headers_append (user_data, name, value);
}

/* Before the upgrade: record, then reject or let it go on */
static void
request_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  MockRealtime *mock = user_data;
  GUri *uri = soup_server_message_get_uri (msg);
  MockRealtimeScript *script = NULL;
  GSocketAddress *remote;
  GError *err = NULL;
  gboolean upgrade;
  Conn *conn;

  (void) server;
  if (strcmp (path, REALTIME_PATH) != 0) {
    respond (msg, SOUP_STATUS_NOT_FOUND,
        "{\"error\":{\"message\":\"mockrealtime: not found\"}}");
    return;
  }

  conn = conn_new (mock);
  conn->request_time = g_get_monotonic_time ();
  conn->path = g_uri_get_query (uri) ?
      g_strdup_printf ("%s?%s", path, g_uri_get_query (uri)) : g_strdup (path);
  if (query)
    conn->query = g_hash_table_ref (query);
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

  upgrade = soup_websocket_server_check_handshake (msg, NULL, NULL, NULL, &err);
  g_mutex_lock (&mock->lock);
  if (upgrade)
    script = g_queue_pop_head (&mock->queue);
  g_mutex_unlock (&mock->lock);

  if (!upgrade) {
    conn->status = SOUP_STATUS_BAD_REQUEST;
    respond (msg, conn->status, err->message);
    g_clear_error (&err);
    conn->script_ended = TRUE;
  } else if (script && script->reject_status) {
    conn->status = script->reject_status;
    respond (msg, conn->status, script->reject_body);
    conn->script_ended = TRUE;
  } else {
    conn->status = SOUP_STATUS_SWITCHING_PROTOCOLS;
    if (script) {
      /* move the steps over */
      conn->steps = script->steps;
      g_queue_init (&script->steps);
    }
    g_object_set_data (G_OBJECT (msg), "mockrealtime-conn", conn);
  }
  mock_realtime_script_free (script);

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
  MockRealtime *mock = user_data;
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
wait_all_closed (MockRealtime * mock, guint timeout_ms)
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
shut_down (MockRealtime * mock)
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
    g_warning ("mockrealtime: %u WebSockets did not close", mock->n_live);

  for (i = 0; i < mock->conns->len; i++) {
    Conn *conn = g_ptr_array_index (mock->conns, i);
    if (conn->ws) {
      g_signal_handlers_disconnect_by_data (conn->ws, conn);
      g_clear_object (&conn->ws);
    }
    g_clear_object (&conn->socket);
    conn_unfreeze (conn);
  }
}

static void
setup_cb (SoupServer * server, gpointer user_data)
{
  /* frames travel as sent: no permessage-deflate */
  soup_server_remove_websocket_extension (server,
      SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_handler (server, REALTIME_PATH, request_cb, user_data,
      NULL);
  soup_server_add_websocket_handler (server, REALTIME_PATH, NULL, NULL,
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

MockRealtime *
mock_realtime_new (void)
{
  return mock_realtime_new_tls (NULL);
}

MockRealtime *
mock_realtime_new_tls (const gchar * pem_file)
{
  MockRealtime *mock = g_new0 (MockRealtime, 1);

  g_mutex_init (&mock->lock);
  g_cond_init (&mock->cond);
  g_queue_init (&mock->queue);
  mock->conns = g_ptr_array_new_with_free_func ((GDestroyNotify) conn_free);
  mock->violations = g_ptr_array_new_with_free_func (g_free);
  mock->failures = g_ptr_array_new_with_free_func (g_free);
  mock->sockets = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  mock->nodelay = TRUE;
  mock->server = mock_server_new ("mockrealtime", pem_file, setup_cb,
      accept_cb, stop_cb, mock);
  mock->context = mock_server_context (mock->server);
  mock->url = g_strdup_printf ("%s://127.0.0.1:%u" REALTIME_PATH,
      mock_server_is_tls (mock->server) ? "wss" : "ws",
      mock_server_port (mock->server));
  return mock;
}

const gchar *
mock_realtime_url (MockRealtime * mock)
{
  return mock->url;
}

void
mock_realtime_free (MockRealtime * mock)
{
  if (!mock)
    return;
  mock_server_free (mock->server);
  g_hash_table_remove_all (mock->sockets);
  g_queue_clear_full (&mock->queue, (GDestroyNotify)
      mock_realtime_script_free);
  g_ptr_array_unref (mock->conns);
  g_ptr_array_unref (mock->violations);
  g_ptr_array_unref (mock->failures);
  g_hash_table_unref (mock->sockets);
  g_free (mock->url);
  g_mutex_clear (&mock->lock);
  g_cond_clear (&mock->cond);
  g_free (mock);
}

void
mock_realtime_push_script (MockRealtime * mock, MockRealtimeScript * script)
{
  g_return_if_fail (script != NULL);
  g_mutex_lock (&mock->lock);
  g_queue_push_tail (&mock->queue, script);
  g_mutex_unlock (&mock->lock);
}

void
mock_realtime_push_reject (MockRealtime * mock, guint http_status,
    const gchar * body)
{
  MockRealtimeScript *script;

  g_return_if_fail (http_status >= 200);
  script = mock_realtime_script_new ();
  script->reject_status = http_status;
  script->reject_body = g_strdup (body ? body : "");
  mock_realtime_push_script (mock, script);
}

typedef struct
{
  Conn *conn;
  MockRealtimeScript *script;
} Run;

static gboolean
run_cb (gpointer user_data)
{
  Run *run = user_data;
  Conn *conn = run->conn;
  MockRealtime *mock = conn->mock;
  gboolean ended, idle;
  Step *s;

  g_mutex_lock (&mock->lock);
  conn->runs_pending--;
  ended = conn->script_ended || conn->closed;
  g_mutex_unlock (&mock->lock);

  if (ended || mock->stopping) {
    g_mutex_lock (&mock->lock);
    g_ptr_array_add (mock->failures, g_strdup_printf ("connection %u: "
            "mock_realtime_run() after its script ended", conn->index));
    g_cond_broadcast (&mock->cond);
    g_mutex_unlock (&mock->lock);
  } else {
    idle = conn->step == NULL && g_queue_is_empty (&conn->steps);
    while ((s = g_queue_pop_head (&run->script->steps)))
      g_queue_push_tail (&conn->steps, s);
    if (idle)
      conn_next (conn);
    else {
      g_mutex_lock (&mock->lock);
      g_cond_broadcast (&mock->cond);
      g_mutex_unlock (&mock->lock);
    }
  }
  mock_realtime_script_free (run->script);
  g_free (run);
  return G_SOURCE_REMOVE;
}

void
mock_realtime_run (MockRealtime * mock, guint conn, MockRealtimeScript * script)
{
  Conn *c;
  Run *run;

  g_return_if_fail (script != NULL);
  g_mutex_lock (&mock->lock);
  c = get_conn (mock, conn);
  if (!c || c->status != SOUP_STATUS_SWITCHING_PROTOCOLS || c->closed ||
      c->script_ended) {
    g_ptr_array_add (mock->failures, g_strdup_printf ("connection %u: "
            "mock_realtime_run() on a connection that is not open", conn));
    g_cond_broadcast (&mock->cond);
    g_mutex_unlock (&mock->lock);
    mock_realtime_script_free (script);
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
wait_until (MockRealtime * mock, gboolean (*done) (MockRealtime *, gpointer),
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
mock_realtime_n_connections (MockRealtime * mock)
{
  guint n;

  g_mutex_lock (&mock->lock);
  n = mock->conns->len;
  g_mutex_unlock (&mock->lock);
  return n;
}

static gboolean
have_connections (MockRealtime * mock, gpointer data)
{
  return mock->conns->len >= GPOINTER_TO_UINT (data);
}

gboolean
mock_realtime_wait_connections (MockRealtime * mock, guint n, guint timeout_ms)
{
  return wait_until (mock, have_connections, GUINT_TO_POINTER (n), timeout_ms);
}

gchar *
mock_realtime_get_path (MockRealtime * mock, guint conn)
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
mock_realtime_get_query_param (MockRealtime * mock, guint conn,
    const gchar * name)
{
  gchar *ret = NULL;
  Conn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn)) && c->query)
    ret = g_strdup (g_hash_table_lookup (c->query, name));
  g_mutex_unlock (&mock->lock);
  return ret;
}

gchar *
mock_realtime_get_header (MockRealtime * mock, guint conn, const gchar * name)
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
mock_realtime_get_status (MockRealtime * mock, guint conn)
{
  guint ret = 0;
  Conn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn)))
    ret = c->status;
  g_mutex_unlock (&mock->lock);
  return ret;
}

gint64
mock_realtime_get_request_time (MockRealtime * mock, guint conn)
{
  gint64 ret = 0;
  Conn *c;

  g_mutex_lock (&mock->lock);
  if ((c = get_conn (mock, conn)))
    ret = c->request_time;
  g_mutex_unlock (&mock->lock);
  return ret;
}

static gboolean
is_closed (MockRealtime * mock, gpointer data)
{
  Conn *c = get_conn (mock, GPOINTER_TO_UINT (data));

  return c && (c->closed || c->status != SOUP_STATUS_SWITCHING_PROTOCOLS);
}

gboolean
mock_realtime_wait_closed (MockRealtime * mock, guint conn, guint timeout_ms)
{
  return wait_until (mock, is_closed, GUINT_TO_POINTER (conn), timeout_ms);
}

gint
mock_realtime_get_close_code (MockRealtime * mock, guint conn)
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
script_settled (MockRealtime * mock, gpointer data)
{
  Conn *c = get_conn (mock, GPOINTER_TO_UINT (data));

  return c && (c->script_ended || (c->script_done && c->runs_pending == 0));
}

gboolean
mock_realtime_wait_script_done (MockRealtime * mock, guint conn,
    guint timeout_ms)
{
  gboolean ok;
  Conn *c;

  if (!wait_until (mock, script_settled, GUINT_TO_POINTER (conn), timeout_ms))
    return FALSE;
  g_mutex_lock (&mock->lock);
  c = get_conn (mock, conn);
  ok = !c->script_ended;
  g_mutex_unlock (&mock->lock);
  return ok;
}

guint
mock_realtime_n_frames (MockRealtime * mock, guint conn)
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
mock_realtime_get_frame (MockRealtime * mock, guint conn, guint i)
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
  const gchar *type;
  guint index;
  Frame *found;                 /* out */
  guint count;                  /* out */
} Find;

/* With the lock held: counts the events of find->type, and finds the one
 * number find->index */
static gboolean
find_event (MockRealtime * mock, gpointer data)
{
  Find *find = data;
  guint i, j;

  find->found = NULL;
  find->count = 0;
  for (i = 0; i < mock->conns->len; i++) {
    Conn *c = g_ptr_array_index (mock->conns, i);
    if (find->conn != MOCK_REALTIME_ANY_CONNECTION && find->conn != i)
      continue;
    for (j = 0; j < c->frames->len; j++) {
      Frame *f = g_ptr_array_index (c->frames, j);
      if (g_strcmp0 (f->type, find->type) != 0)
        continue;
      if (find->count == find->index)
        find->found = f;
      find->count++;
    }
  }
  return find->found != NULL;
}

guint
mock_realtime_count_events (MockRealtime * mock, guint conn, const gchar * type)
{
  Find find = { conn, type, G_MAXUINT, NULL, 0 };

  g_mutex_lock (&mock->lock);
  find_event (mock, &find);
  g_mutex_unlock (&mock->lock);
  return find.count;
}

gchar *
mock_realtime_wait_event (MockRealtime * mock, guint conn,
    const gchar * type, guint index, guint timeout_ms)
{
  Find find = { conn, type, index, NULL, 0 };
  gchar *ret = NULL;

  if (!wait_until (mock, find_event, &find, timeout_ms))
    return NULL;
  /* frames are never removed before the mock is freed */
  g_mutex_lock (&mock->lock);
  ret = g_strdup (find.found->text);
  g_mutex_unlock (&mock->lock);
  return ret;
}

/* With the lock held */
static gsize
audio_bytes (MockRealtime * mock, guint conn)
{
  gsize n = 0;
  guint i;

  for (i = 0; i < mock->conns->len; i++)
    if (conn == MOCK_REALTIME_ANY_CONNECTION || conn == i) {
      Conn *c = g_ptr_array_index (mock->conns, i);
      n += c->audio->len + c->audio_not_kept;
    }
  return n;
}

gsize
mock_realtime_get_audio_bytes (MockRealtime * mock, guint conn)
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
have_audio (MockRealtime * mock, gpointer data)
{
  AudioWait *w = data;

  return audio_bytes (mock, w->conn) >= w->n_bytes;
}

gboolean
mock_realtime_wait_audio_bytes (MockRealtime * mock, guint conn,
    gsize n_bytes, guint timeout_ms)
{
  AudioWait w = { conn, n_bytes };

  return wait_until (mock, have_audio, &w, timeout_ms);
}

GBytes *
mock_realtime_get_audio (MockRealtime * mock, guint conn)
{
  GByteArray *all = g_byte_array_new ();
  guint i;

  g_mutex_lock (&mock->lock);
  for (i = 0; i < mock->conns->len; i++) {
    Conn *c = g_ptr_array_index (mock->conns, i);
    if (conn == MOCK_REALTIME_ANY_CONNECTION || conn == i)
      g_byte_array_append (all, c->audio->data, c->audio->len);
  }
  g_mutex_unlock (&mock->lock);
  return g_byte_array_free_to_bytes (all);
}

void
mock_realtime_set_audio_sent_func (MockRealtime * mock,
    MockRealtimeAudioSentFunc func, gpointer user_data)
{
  g_mutex_lock (&mock->lock);
  mock->audio_sent = func;
  mock->audio_sent_data = user_data;
  g_mutex_unlock (&mock->lock);
}

void
mock_realtime_set_keep_audio (MockRealtime * mock, gboolean keep)
{
  g_mutex_lock (&mock->lock);
  mock->drop_audio = !keep;
  g_mutex_unlock (&mock->lock);
}

void
mock_realtime_set_tcp_nodelay (MockRealtime * mock, gboolean nodelay)
{
  g_mutex_lock (&mock->lock);
  mock->nodelay = nodelay;
  g_mutex_unlock (&mock->lock);
}

guint
mock_realtime_n_violations (MockRealtime * mock)
{
  return mock_ws_count_lines (&mock->lock, mock->violations);
}

gchar *
mock_realtime_get_violations (MockRealtime * mock)
{
  return mock_ws_join_lines (&mock->lock, mock->violations);
}

guint
mock_realtime_n_failures (MockRealtime * mock)
{
  return mock_ws_count_lines (&mock->lock, mock->failures);
}

gchar *
mock_realtime_get_failures (MockRealtime * mock)
{
  return mock_ws_join_lines (&mock->lock, mock->failures);
}
