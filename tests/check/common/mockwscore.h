/* gst-bidi: the core of the mock WebSocket servers of the tests
 * (mockrealtime.c, mockgemini.c): connections, scripts of steps, recording,
 * waits and queries; each protocol adds its checks through a MockWsClass
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __MOCK_WS_CORE_H__
#define __MOCK_WS_CORE_H__

#include <libsoup/soup.h>

#include "mockserver.h"
#include "mockws.h"

G_BEGIN_DECLS

#define MOCK_WS_ANY_CONNECTION ((guint) -1)

typedef struct _MockWsServer MockWsServer;
typedef struct _MockWsConn MockWsConn;
typedef struct _MockWsClass MockWsClass;

typedef enum
{
  MOCK_WS_STEP_SEND,            /* the class's prepare_send (), as a frame */
  MOCK_WS_STEP_WAIT,
  MOCK_WS_STEP_SLEEP,
  MOCK_WS_STEP_RAW,             /* data as it is */
  MOCK_WS_STEP_AUDIO,           /* data in chunks, the class's send_audio () */
  MOCK_WS_STEP_CLOSE,
  MOCK_WS_STEP_DROP,
  MOCK_WS_STEP_STALL,
  MOCK_WS_STEP_FREEZE,
  MOCK_WS_STEP_CUSTOM           /* the class's run_custom () */
} MockWsStepKind;

typedef struct
{
  MockWsStepKind kind;
  const gchar *name;            /* in failures: "send", "wait", ... */
  gchar *text;                  /* JSON, raw text, wait kind, close reason */
  GBytes *data;                 /* raw frame, PCM (audio, or a send's PCM for
                                 * the audio-sent hook) */
  gboolean binary;              /* send, raw */
  guint n;                      /* wait count, sleep ms, close code, chunk ms */
  guint timeout_ms;
  gsize size;                   /* a send's padded frame size */
  gboolean paced;
  gpointer extra;               /* the protocol's, freed by extra_free */
  GDestroyNotify extra_free;
} MockWsStep;

/* A list of steps, or a rejection */
typedef struct
{
  GQueue steps;                 /* MockWsStep * */
  guint reject_status;          /* a rejection, not a script, when set */
  gchar *reject_body;
} MockWsScript;

/* One client frame */
typedef struct
{
  gboolean binary;
  gchar *text;                  /* text frames */
  gsize size;
  gchar *kind;                  /* what the protocol made of it, or NULL */
  gchar *member;                /* a detail of the kind, or NULL */
} MockWsFrame;

struct _MockWsConn
{
  MockWsServer *server;
  guint index;

  /* Recorded, under server->lock */
  gint64 request_time;          /* monotonic, when the request came */
  gchar *path;                  /* path?query */
  GHashTable *query;            /* decoded, may be NULL */
  SoupMessageHeaders *headers;
  guint status;
  GPtrArray *frames;            /* MockWsFrame * */
  GByteArray *audio;            /* decoded input audio */
  gsize audio_not_kept;         /* input audio bytes not kept (keep_audio) */
  gboolean closed;
  gint close_code;
  gboolean script_done;         /* ran every step given so far */
  gboolean script_ended;        /* never will: a failure, a close */
  guint runs_pending;           /* runs not yet applied */

  /* The mock thread only */
  SoupWebsocketConnection *ws;
  GSocket *socket;
  gboolean held;                /* on_request () held it: closed at the
                                 * first message, the script never runs */
  gint frozen_fd;               /* a freeze step: the real socket, unread */
  gint freeze_peer;             /* the other end of what took its place */
  GQueue steps;                 /* MockWsStep *, still to run */
  MockWsStep *step;             /* the one running */
  guint step_no;
  GSource *timer;
  guint wait_from;              /* first frame the running wait counts */
  gsize audio_pos;              /* paced audio: bytes sent */
  gint64 audio_start;
  guint audio_chunk;
};

typedef void (*MockWsAudioSentFunc) (guint conn, gconstpointer pcm,
    gsize size, gint64 sent_us, gpointer user_data);

/* What differs between the protocols; the hooks run on the mock's thread */
struct _MockWsClass
{
  const gchar *name;            /* "mockrealtime": thread, logs */
  const gchar *api;             /* "mock_realtime": in failures */
  const gchar *path;            /* the WebSocket's */
  /* the status of a connection that goes on (0: 101, a WebSocket's) */
  guint open_status;
  const gchar *not_found;       /* the body answered on another path */
  gboolean json_replies;        /* a body starting with '{' is JSON */
  gsize conn_size;              /* a struct starting with a MockWsConn */
  void (*conn_init) (MockWsConn * conn);
  void (*conn_clear) (MockWsConn * conn);

  /* The request is recorded: TRUE holds the connection (optional) */
  gboolean (*on_request) (MockWsConn * conn);
  guint16 held_close_code;
  const gchar *held_close_reason;
  /* The script of a connection when none was pushed (optional) */
  MockWsScript *(*default_script) (void);

  /* Client frames are JSON text frames, each one object that @parse
   * takes (a problem otherwise: "client @frames_are JSON text frames", "not
   * a JSON @parse_noun (why)"); @check_message checks one into @check, sets
   * the frame's kind and returns the input audio it carries (or NULL) */
  const gchar *frames_are;
  const gchar *parse_noun;
  JsonObject *(*parse) (const gchar * json, GError ** err);
  GByteArray *(*check_message) (MockWsConn * conn, MockWsCheck * check,
      MockWsFrame * frame, JsonObject * msg);
  /* Does @frame match @what (optional: its kind is @what) */
  gboolean (*frame_matches) (MockWsFrame * frame, const gchar * what);
  const gchar *audio_kind;      /* what keep-audio FALSE does not keep */

  /* The frame of a send step (newly allocated) */
  gchar *(*prepare_send) (MockWsConn * conn, MockWsStep * step);
  /* A raw text frame about to go (optional) */
  void (*sent_raw) (MockWsConn * conn, MockWsStep * step);
  /* One chunk of an audio step; FALSE when it could not go */
  gboolean (*send_audio) (MockWsConn * conn, MockWsStep * step,
      const guint8 * pcm, gsize size);
  gboolean audio_empty_message; /* no audio is still one message */
  /* A custom step; TRUE when it is complete (optional) */
  gboolean (*run_custom) (MockWsConn * conn, MockWsStep * step,
      gboolean first);
  /* close codes a close step refuses, 0-terminated */
  const guint16 *unsendable_codes;
  /* A close or drop step runs, then the steps after it are a failure
   * (else they are one before it runs) */
  gboolean close_checks_after;
  /* Runs the steps of @conn on a wire of the class's own, instead of the
   * WebSocket's runner (optional: a class without a server, see
   * mock_ws_records_init ()) */
  void (*next_step) (MockWsConn * conn);
};

struct _MockWsServer
{
  const MockWsClass *klass;
  MockServer *server;
  GMainContext *context;        /* the server's */
  gchar *url;
  GHashTable *sockets;          /* the thread only: client port -> GSocket */
  guint n_live;                 /* the thread only: WebSockets not closed */
  gboolean stopping;            /* the thread only */

  GMutex lock;
  GCond cond;
  GQueue queue;                 /* MockWsScript *, for connections */
  GPtrArray *conns;             /* MockWsConn * */
  GPtrArray *violations;        /* gchar * */
  GPtrArray *failures;          /* gchar * */
  gboolean drop_audio;          /* !keep_audio */
  gboolean nodelay;
  MockWsAudioSentFunc audio_sent;
  gpointer audio_sent_data;
};

/* Scripts */
MockWsScript *mock_ws_script_new (void);
void mock_ws_script_free (MockWsScript * script);
/* A step of @kind named as usual, @text copied */
MockWsStep *mock_ws_script_add (MockWsScript * script, MockWsStepKind kind,
    const gchar * text);
void mock_ws_script_wait (MockWsScript * script, const gchar * what,
    guint count, guint timeout_ms);
void mock_ws_script_sleep (MockWsScript * script, guint ms);
void mock_ws_script_close (MockWsScript * script, guint16 code,
    const gchar * reason);
void mock_ws_script_drop (MockWsScript * script);
void mock_ws_script_stall (MockWsScript * script);
MockWsStep *mock_ws_script_audio (MockWsScript * script, gconstpointer pcm,
    gsize size, guint chunk_ms, gboolean paced);

void mock_ws_step_free (MockWsStep * s);

/* TRUE when @json is what @klass parses, else a critical warning
 * "NAME: not a server @what (why)": for the JSON a test gives */
gboolean mock_ws_check_server_json (const MockWsClass * klass,
    const gchar * what, const gchar * json);

/* The server: @mock (a struct starting with a MockWsServer) */
void mock_ws_server_init (MockWsServer * mock, const MockWsClass * klass,
    const gchar * pem_file);
void mock_ws_server_clear (MockWsServer * mock);
void mock_ws_server_push_script (MockWsServer * mock, MockWsScript * script);
void mock_ws_server_push_reject (MockWsServer * mock, guint http_status,
    const gchar * body);
void mock_ws_server_run (MockWsServer * mock, guint conn,
    MockWsScript * script);

/* The records alone (connections, frames, audio, problems, failures and
 * the queries below), for a mock on another wire than a WebSocket
 * (mockbedrock.c, HTTP/2): no server runs, the klass's frame_matches,
 * audio_kind, conn_size and conn_clear are used, and the mock makes its
 * connections and records their frames on its own thread */
void mock_ws_records_init (MockWsServer * mock, const MockWsClass * klass);
void mock_ws_records_clear (MockWsServer * mock);
/* A connection of klass->conn_size bytes, not numbered yet */
MockWsConn *mock_ws_conn_new (MockWsServer * mock);
/* Numbers @conn (taken) and adds it: the queries see it from then on */
void mock_ws_server_add_conn (MockWsServer * mock, MockWsConn * conn);
/* Records @frame (taken) with the problems of @c (taken: its array, which
 * must not free them, is emptied) and the input @audio it carries
 * (nullable) */
void mock_ws_conn_record (MockWsConn * conn, MockWsCheck * c,
    MockWsFrame * frame, GByteArray * audio);

/* For the hooks (mock thread): FALSE and a failure when the WebSocket is
 * no longer open; a failure that ends the script */
gboolean mock_ws_conn_can_send (MockWsConn * conn);
void mock_ws_conn_add_failure (MockWsConn * conn, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);

/* Queries, as documented in mockrealtime.h */
guint mock_ws_server_n_connections (MockWsServer * mock);
gboolean mock_ws_server_wait_connections (MockWsServer * mock, guint n,
    guint timeout_ms);
gchar *mock_ws_server_get_path (MockWsServer * mock, guint conn);
gchar *mock_ws_server_get_query_param (MockWsServer * mock, guint conn,
    const gchar * name);
gchar *mock_ws_server_get_header (MockWsServer * mock, guint conn,
    const gchar * name);
guint mock_ws_server_get_status (MockWsServer * mock, guint conn);
gint64 mock_ws_server_get_request_time (MockWsServer * mock, guint conn);
gboolean mock_ws_server_wait_closed (MockWsServer * mock, guint conn,
    guint timeout_ms);
gint mock_ws_server_get_close_code (MockWsServer * mock, guint conn);
gboolean mock_ws_server_wait_script_done (MockWsServer * mock, guint conn,
    guint timeout_ms);
guint mock_ws_server_n_frames (MockWsServer * mock, guint conn);
gchar *mock_ws_server_get_frame (MockWsServer * mock, guint conn, guint i);
guint mock_ws_server_count_frames (MockWsServer * mock, guint conn,
    const gchar * what);
gchar *mock_ws_server_wait_frame (MockWsServer * mock, guint conn,
    const gchar * what, guint index, guint timeout_ms);
gsize mock_ws_server_get_audio_bytes (MockWsServer * mock, guint conn);
gboolean mock_ws_server_wait_audio_bytes (MockWsServer * mock, guint conn,
    gsize n_bytes, guint timeout_ms);
GBytes *mock_ws_server_get_audio (MockWsServer * mock, guint conn);
void mock_ws_server_set_audio_sent_func (MockWsServer * mock,
    MockWsAudioSentFunc func, gpointer user_data);
void mock_ws_server_set_keep_audio (MockWsServer * mock, gboolean keep);
void mock_ws_server_set_tcp_nodelay (MockWsServer * mock, gboolean nodelay);

/* The public functions every mock has, in the names of its header
 * (PREFIX_n_connections (), ...): Mock is a struct whose member "core" is
 * the MockWsServer, Script a cast of MockWsScript, and AudioSentFunc has
 * the signature of MockWsAudioSentFunc. */
/* *INDENT-OFF* */
#define MOCK_WS_DEFINE_API(PREFIX, Mock, Script, AudioSentFunc)           \
Script * PREFIX##_script_new (void)                                       \
{ return (Script *) mock_ws_script_new (); }                              \
void PREFIX##_script_free (Script * script)                               \
{ mock_ws_script_free ((MockWsScript *) script); }                        \
void PREFIX##_script_sleep (Script * script, guint ms)                    \
{ mock_ws_script_sleep ((MockWsScript *) script, ms); }                   \
void PREFIX##_script_close (Script * script, guint16 code,                \
    const gchar * reason)                                                 \
{ mock_ws_script_close ((MockWsScript *) script, code, reason); }         \
void PREFIX##_script_drop (Script * script)                               \
{ mock_ws_script_drop ((MockWsScript *) script); }                        \
void PREFIX##_script_stall (Script * script)                              \
{ mock_ws_script_stall ((MockWsScript *) script); }                       \
const gchar * PREFIX##_url (Mock * mock)                                  \
{ return mock->core.url; }                                                \
void PREFIX##_push_script (Mock * mock, Script * script)                  \
{ mock_ws_server_push_script (&mock->core, (MockWsScript *) script); }    \
void PREFIX##_push_reject (Mock * mock, guint status, const gchar * body) \
{ mock_ws_server_push_reject (&mock->core, status, body); }               \
void PREFIX##_run (Mock * mock, guint conn, Script * script)              \
{ mock_ws_server_run (&mock->core, conn, (MockWsScript *) script); }      \
guint PREFIX##_n_connections (Mock * mock)                                \
{ return mock_ws_server_n_connections (&mock->core); }                    \
gboolean PREFIX##_wait_connections (Mock * mock, guint n, guint timeout)  \
{ return mock_ws_server_wait_connections (&mock->core, n, timeout); }     \
gchar * PREFIX##_get_path (Mock * mock, guint conn)                       \
{ return mock_ws_server_get_path (&mock->core, conn); }                   \
gchar * PREFIX##_get_header (Mock * mock, guint conn, const gchar * name) \
{ return mock_ws_server_get_header (&mock->core, conn, name); }           \
guint PREFIX##_get_status (Mock * mock, guint conn)                       \
{ return mock_ws_server_get_status (&mock->core, conn); }                 \
gboolean PREFIX##_wait_closed (Mock * mock, guint conn, guint timeout)    \
{ return mock_ws_server_wait_closed (&mock->core, conn, timeout); }       \
gint PREFIX##_get_close_code (Mock * mock, guint conn)                    \
{ return mock_ws_server_get_close_code (&mock->core, conn); }             \
gboolean PREFIX##_wait_script_done (Mock * mock, guint conn,              \
    guint timeout)                                                        \
{ return mock_ws_server_wait_script_done (&mock->core, conn, timeout); }  \
guint PREFIX##_n_frames (Mock * mock, guint conn)                         \
{ return mock_ws_server_n_frames (&mock->core, conn); }                   \
gchar * PREFIX##_get_frame (Mock * mock, guint conn, guint i)             \
{ return mock_ws_server_get_frame (&mock->core, conn, i); }               \
gsize PREFIX##_get_audio_bytes (Mock * mock, guint conn)                  \
{ return mock_ws_server_get_audio_bytes (&mock->core, conn); }            \
gboolean PREFIX##_wait_audio_bytes (Mock * mock, guint conn, gsize n,     \
    guint timeout)                                                        \
{ return mock_ws_server_wait_audio_bytes (&mock->core, conn, n, timeout); } \
GBytes * PREFIX##_get_audio (Mock * mock, guint conn)                     \
{ return mock_ws_server_get_audio (&mock->core, conn); }                  \
guint PREFIX##_n_violations (Mock * mock)                                 \
{ return mock_ws_count_lines (&mock->core.lock, mock->core.violations); } \
gchar * PREFIX##_get_violations (Mock * mock)                             \
{ return mock_ws_join_lines (&mock->core.lock, mock->core.violations); }  \
guint PREFIX##_n_failures (Mock * mock)                                   \
{ return mock_ws_count_lines (&mock->core.lock, mock->core.failures); }   \
gchar * PREFIX##_get_failures (Mock * mock)                               \
{ return mock_ws_join_lines (&mock->core.lock, mock->core.failures); }    \
void PREFIX##_set_audio_sent_func (Mock * mock, AudioSentFunc func,       \
    gpointer user_data)                                                   \
{ mock_ws_server_set_audio_sent_func (&mock->core,                        \
      (MockWsAudioSentFunc) func, user_data); }                           \
void PREFIX##_set_keep_audio (Mock * mock, gboolean keep)                 \
{ mock_ws_server_set_keep_audio (&mock->core, keep); }                    \
void PREFIX##_set_tcp_nodelay (Mock * mock, gboolean nodelay)             \
{ mock_ws_server_set_tcp_nodelay (&mock->core, nodelay); }
/* *INDENT-ON* */

G_END_DECLS

#endif /* __MOCK_WS_CORE_H__ */
