/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-bidiagent
 * @title: bidiagent
 *
 * Streams the audio on its sink pad to a realtime speech-to-speech model
 * and pushes the model's spoken answer on its src pad. The provider
 * (#GstBidiAgent:provider) is chosen by name; `local` works offline.
 *
 * The src pad is live: it is pushed by the element's own task, carries
 * silence (or GAP events, see #GstBidiAgent:idle) between answers so that
 * mixers and recorders see a continuous timeline, and answers LATENCY with
 * its own #GstBidiAgent:latency added to upstream's. Input of any raw
 * format, rate and channel count is converted to what the provider wants;
 * output is converted to whatever downstream negotiates.
 *
 * When the user talks over the model (the provider reports
 * `bidi_interruption`, or the application emits #GstBidiAgent::interrupt),
 * the element pushes FLUSH_START downstream at once, drops the rest of the
 * answer, then FLUSH_STOP (reset_time FALSE) and a new SEGMENT, so sinks,
 * encoders and recorders all discard the stale answer. The provider is told
 * how many milliseconds of the answer were actually heard (`played_ms`) and
 * truncates the model's memory to that.
 *
 * On EOS at the sink pad the provider is told the input ended; the answer
 * it is giving is played to the end, then the src pad goes EOS.
 *
 * ## Element messages
 *
 * Every provider event but audio is posted as an element message whose
 * structure name and fields follow the unified event schema (the JSON a
 * WebSocket client sees has the same names, with "type" = structure name),
 * plus #GstClockTime `running_time`, the element's running time when it was
 * posted:
 *
 * * `bidi_connection_start`: `connection_id`, `model`
 * * `bidi_connection_restart`: `reason`, `connection_id`
 * * `bidi_response_start`: `response_id`
 * * `bidi_transcript_stream`: `role` ("user"/"assistant"), `text`, `delta`,
 *   #gboolean `is_final`, `current_transcript`
 * * `bidi_interruption`: `reason` ("user_speech"/"error"), `response_id`,
 *   #guint64 `played_ms`
 * * `bidi_response_complete`: `response_id`, `stop_reason`
 *   ("complete"/"error"/"interrupted"/"tool_use")
 * * `bidi_usage`: #gint `inputTokens`, `outputTokens`, `totalTokens`
 * * `bidi_connection_close`: `connection_id`, `reason`
 *   ("client_disconnect"/"timeout"/"error"/"complete"/"user_request")
 * * `bidi_error`: `message`, `code`, `details`
 * * `tool_use_stream`: `toolUseId`, `name`, `input` (JSON text)
 * * `tool_result`: `toolUseId`, `status`, `content` (JSON text)
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 autoaudiosrc ! bidiagent ! autoaudiosink
 * ]| Talk to the offline agent through the default microphone and speakers.
 * |[
 * gst-launch-1.0 autoaudiosrc ! bidiagent provider=openai ! autoaudiosink
 * ]| The same with OpenAI Realtime; the key comes from OPENAI_API_KEY.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <json-glib/json-glib.h>

#include "gstbidiagent.h"
#include <gst/bidi/gstbidiprovider.h>
#include <gst/bidi/gstbidievents.h>
#include "gstbidiplayout.h"
#include <gst/bidi/gstbiditools.h>
#include <gst/bidi/gstbidihistory.h>
#include "gstbidicaptions.h"

GST_DEBUG_CATEGORY_STATIC (bidi_agent_debug);
#define GST_CAT_DEFAULT bidi_agent_debug

#define RAW_AUDIO_CAPS \
    "audio/x-raw, format = (string) " GST_AUDIO_FORMATS_ALL ", " \
    "rate = (int) [ 1, MAX ], channels = (int) [ 1, MAX ], " \
    "layout = (string) interleaved"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (RAW_AUDIO_CAPS));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (RAW_AUDIO_CAPS));

static GstStaticPadTemplate text_sink_template =
GST_STATIC_PAD_TEMPLATE ("text_sink", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("text/x-raw, format = (string) utf8"));

static GstStaticPadTemplate transcript_src_template =
GST_STATIC_PAD_TEMPLATE ("transcript_src", GST_PAD_SRC, GST_PAD_REQUEST,
    GST_STATIC_CAPS (GST_BIDI_CAPTIONS_CAPS));

static GstStaticPadTemplate image_sink_template =
GST_STATIC_PAD_TEMPLATE ("image_sink", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("image/jpeg; image/png"));

enum
{
  PROP_0,
  PROP_PROVIDER,
  PROP_MODEL,
  PROP_API_KEY,
  PROP_URL,
  PROP_SYSTEM_PROMPT,
  PROP_VOICE,
  PROP_PROVIDER_CONFIG,
  PROP_LATENCY,
  PROP_INPUT_CHUNK_MS,
  PROP_INPUT_BUFFER_MS,
  PROP_IDLE,
  PROP_DRAIN_TIMEOUT,
  PROP_BUILTIN_TOOLS,
  PROP_TOOLS,
  PROP_TOOL_TIMEOUT,
  PROP_MESSAGES,
  PROP_HISTORY,
  PROP_SESSION_FILE,
  PROP_SSL_CA_FILE,
  PROP_SSL_STRICT,
  PROP_TRANSCRIPT_ROLES,
  PROP_TRANSCRIPT_PREFIX,
  PROP_IMAGE_INTERVAL,
  PROP_CONNECTED,
  PROP_STATS,
};

#define DEFAULT_PROVIDER        "local"
#define DEFAULT_MODEL           NULL
#define DEFAULT_URL             NULL
#define DEFAULT_SYSTEM_PROMPT   NULL
#define DEFAULT_VOICE           NULL
#define DEFAULT_LATENCY         50
#define DEFAULT_INPUT_CHUNK_MS  40
#define DEFAULT_INPUT_BUFFER_MS 10000
#define DEFAULT_IDLE            GST_BIDI_AGENT_IDLE_SILENCE
#define DEFAULT_DRAIN_TIMEOUT   10000
#define DEFAULT_TOOL_TIMEOUT    30000
/* built-in tools running at once, per element */
#define MAX_TOOL_THREADS        4
#define DEFAULT_BUILTIN_TOOLS   "auto"
#define DEFAULT_SSL_CA_FILE     NULL
#define DEFAULT_SSL_STRICT      TRUE
#define DEFAULT_TRANSCRIPT_ROLES GST_BIDI_AGENT_TRANSCRIPT_BOTH
#define DEFAULT_TRANSCRIPT_PREFIX FALSE
#define DEFAULT_IMAGE_INTERVAL  1000

/* Silence and GAPs between answers come in pieces of this size. */
#define IDLE_CHUNK_MS 20

enum
{
  SIGNAL_SEND_TEXT,
  SIGNAL_INTERRUPT,
  SIGNAL_TOOL_CALL,
  SIGNAL_SEND_TOOL_RESULT,
  SIGNAL_SEND_IMAGE,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

/* A text or an image for the provider */
typedef struct
{
  gchar *text;
  GBytes *image;
  gchar *mime;
} Input;

static Input *
input_new_text (const gchar * text)
{
  Input *input = g_new0 (Input, 1);

  input->text = g_strdup (text);
  return input;
}

static Input *
input_new_image (GBytes * data, const gchar * mime)
{
  Input *input = g_new0 (Input, 1);

  input->image = g_bytes_ref (data);
  input->mime = g_strdup (mime);
  return input;
}

static Input *
input_copy (const Input * input)
{
  return input->image ? input_new_image (input->image, input->mime) :
      input_new_text (input->text);
}

static void
input_free (gpointer data)
{
  Input *input = data;

  g_free (input->text);
  if (input->image)
    g_bytes_unref (input->image);
  g_free (input->mime);
  g_free (input);
}

static void
input_send (Input * input, GstBidiProvider * provider)
{
  if (input->image)
    gst_bidi_provider_send_image (provider, input->image, input->mime);
  else
    gst_bidi_provider_send_text (provider, input->text, "user");
}

struct _GstBidiAgent
{
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;

  /* Settings, protected by GST_OBJECT_LOCK; settings is what the provider
   * gets when it starts */
  gchar *provider_name;
  GstBidiProviderConfig *settings;
  guint latency_ms;
  guint input_chunk_ms;
  guint input_buffer_ms;
  GstBidiAgentIdle idle;
  guint drain_timeout_ms;
  gchar *builtin_tools;
  gchar *app_tools;
  /* the built-in and application tools the provider was given, set with
   * the provider */
  gchar **tools_enabled;
  gchar **app_tools_enabled;
  guint tool_timeout_ms;
  gchar *messages;
  gchar *session_file;

  /* The conversation (thread safe itself). history_live: it holds the
   * conversation of this element's last run, kept from READY to PAUSED
   * again; from NULL it starts from the messages property. */
  GstBidiHistory *history;
  gboolean history_live;
  /* network thread. hist_user_pending: the user is speaking (partial
   * transcripts came, the final one not yet); the tool pairs of the
   * answer to those words, which may come first, wait in hist_pairs so
   * that the history reads in the order of the conversation. */
  gboolean hist_write_failed;
  gboolean hist_user_pending;
  GQueue hist_pairs;
  /* protected by out_lock: the answer being recorded, its audio so far,
   * and how much of it was heard when it was interrupted (G_MAXUINT64: it
   * was not) */
  GString *hist_text;
  guint64 hist_audio_ms;
  guint64 hist_heard_ms;
  /* application tool calls not answered yet: toolUseId -> PendingCall;
   * protected by GST_OBJECT_LOCK */
  GHashTable *tool_calls;
  /* built-in tools run here; a result comes back only if tool_gen (network
   * thread) has not changed, i.e. the provider is the one that asked */
  GThreadPool *tool_pool;
  guint tool_gen;

  /* Provider and its formats: set in READY->PAUSED, cleared in
   * PAUSED->READY; protected by GST_OBJECT_LOCK */
  GstBidiProvider *provider;
  GstAudioInfo prov_in;
  GstAudioInfo prov_out;
  gboolean connected;

  /* Network thread; net_ctx protected by net_lock */
  GMutex net_lock;
  GCond net_cond;
  GThread *net_thread;
  GMainContext *net_ctx;
  GMainLoop *net_loop;
  gboolean net_running;

  /* network thread only */
  gboolean net_connected;
  gboolean end_input_pending;
  gboolean draining;
  GSource *drain_source;
  GQueue pending_inputs;        /* Input: text and images before connecting */
  gchar *last_error;
  gint last_error_code;         /* GstResourceError */
  gchar *connection_id;
  gboolean stop_requested;

  /* Input queue to the network thread, protected by in_lock */
  GMutex in_lock;
  GCond in_cond;
  GQueue in_queue;
  guint64 in_queued_bytes;
  guint64 in_max_bytes;
  guint64 in_dropped_bytes;
  gboolean in_dropping;
  gboolean in_scheduled;
  gboolean in_flushing;
  gboolean in_closed;
  gboolean upstream_live;

  /* sink stream lock */
  GstAudioInfo in_info;
  GstAudioConverter *in_conv;
  GByteArray *in_acc;
  gsize in_chunk_bytes;

  /* One flush of the src pad (FLUSH_START to FLUSH_STOP) at a time: the
   * interrupt signal, the provider's barge-in and an upstream flush come
   * from different threads. Two flushes that interleave downstream can
   * leave a sink out of flushing before the second FLUSH_STOP; a sink that
   * prerolls meanwhile (PAUSED) keeps its stream lock, and that FLUSH_STOP
   * waits for it for ever. Taken before the src stream lock and out_lock. */
  GMutex flush_lock;

  /* Output, protected by out_lock */
  GMutex out_lock;
  GCond out_cond;
  GstFlowReturn srcresult;
  /* flush_src calls between FLUSH_START and taking the stream lock: the
   * task parks while there is one, even if a pad reactivation reset
   * srcresult meanwhile, so the flush gets the stream lock */
  guint flushes;
  gboolean src_active;
  gboolean playing;
  gboolean eos_pending;
  GstClockID clock_id;
  GstBidiPlayout playout;
  gint out_channels;
  gboolean need_segment;
  gboolean discont;
  guint32 segment_seqnum;
  GstClockTime downstream_latency;
  /* answer tracking (written by the network thread and interruptions) */
  gboolean resp_open;
  gboolean muted;
  guint answer_seq;
  gchar *resp_id;
  gchar *cancelled_resp_id;
  guint n_answers;
  guint n_interruptions;
  guint64 out_dropped_bytes;

  /* src stream lock (the task) */
  gboolean need_stream_start;
  gboolean need_caps;
  GstAudioInfo src_info;
  GstAudioConverter *out_conv;
  GBytes *silence;

  /* Request pads and their settings, protected by GST_OBJECT_LOCK */
  GstPad *text_sinkpad;
  GstPad *transcript_srcpad;
  GstBidiCaptions *captions;
  GstPad *image_sinkpad;
  GstBidiAgentTranscriptRoles transcript_roles;
  gboolean transcript_prefix;
  guint image_interval_ms;
  /* image_sink: the newest frame waiting for its turn, the timer (on the
   * network thread) that sends it, when the last one went (monotonic us,
   * 0: none yet) */
  GBytes *img_pending;
  const gchar *img_pending_mime;
  GSource *img_timer;
  gint64 img_last_sent;
  gboolean img_warned;
  /* out_lock: the last answer that queued audio */
  guint answer_audio_seq;
};

#define gst_bidi_agent_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstBidiAgent, gst_bidi_agent, GST_TYPE_ELEMENT,
    GST_DEBUG_CATEGORY_INIT (bidi_agent_debug, "bidiagent", 0,
        "Realtime speech-to-speech agent"));
GST_ELEMENT_REGISTER_DEFINE (bidiagent, "bidiagent", GST_RANK_NONE,
    GST_TYPE_BIDI_AGENT);

GType
gst_bidi_agent_idle_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_BIDI_AGENT_IDLE_SILENCE, "Push silent buffers", "silence"},
    {GST_BIDI_AGENT_IDLE_GAP, "Push GAP events", "gap"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstBidiAgentIdle", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_bidi_agent_transcript_roles_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_BIDI_AGENT_TRANSCRIPT_ASSISTANT, "What the model says", "assistant"},
    {GST_BIDI_AGENT_TRANSCRIPT_USER, "What the user says", "user"},
    {GST_BIDI_AGENT_TRANSCRIPT_BOTH, "Both sides", "both"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstBidiAgentTranscriptRoles", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void gst_bidi_agent_finalize (GObject * object);
static GstPad *gst_bidi_agent_request_new_pad (GstElement * element,
    GstPadTemplate * templ, const gchar * name, const GstCaps * caps);
static void gst_bidi_agent_release_pad (GstElement * element, GstPad * pad);
static void images_reset (GstBidiAgent * self);
static void gst_bidi_agent_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_bidi_agent_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_bidi_agent_change_state (GstElement * element,
    GstStateChange transition);

static GstFlowReturn gst_bidi_agent_chain (GstPad * pad, GstObject * parent,
    GstBuffer * buffer);
static gboolean gst_bidi_agent_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean gst_bidi_agent_sink_query (GstPad * pad, GstObject * parent,
    GstQuery * query);
static gboolean gst_bidi_agent_sink_activate_mode (GstPad * pad,
    GstObject * parent, GstPadMode mode, gboolean active);
static gboolean gst_bidi_agent_src_event (GstPad * pad, GstObject * parent,
    GstEvent * event);
static gboolean gst_bidi_agent_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query);
static gboolean gst_bidi_agent_src_activate_mode (GstPad * pad,
    GstObject * parent, GstPadMode mode, gboolean active);
static void gst_bidi_agent_src_loop (GstPad * pad);

static gboolean gst_bidi_agent_send_text (GstBidiAgent * self,
    const gchar * text);
static gboolean gst_bidi_agent_interrupt (GstBidiAgent * self);
static gboolean gst_bidi_agent_send_image (GstBidiAgent * self,
    GBytes * data, const gchar * mime);
static gboolean gst_bidi_agent_send_tool_result (GstBidiAgent * self,
    const gchar * tool_use_id, const gchar * result, const gchar * status);
static void builtin_tool_run (gpointer data, gpointer user_data);
static gchar *hist_get_json (GstBidiAgent * self);
static void hist_pair_free (gpointer data);
typedef struct _PendingCall PendingCall;
static void pending_call_free (PendingCall * pc);

static const gchar *
provider_blurb (void)
{
  gchar **names = gst_bidi_provider_list ();
  gchar *list = g_strjoinv (", ", names);
  gchar *blurb = g_strdup_printf ("Which realtime model service to talk to "
      "(in this build: %s)", *list ? list : "none");
  const gchar *interned = g_intern_string (blurb);

  g_free (blurb);
  g_free (list);
  g_strfreev (names);
  return interned;
}

static void
gst_bidi_agent_class_init (GstBidiAgentClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->finalize = gst_bidi_agent_finalize;
  gobject_class->set_property = gst_bidi_agent_set_property;
  gobject_class->get_property = gst_bidi_agent_get_property;

  /**
   * GstBidiAgent:provider:
   *
   * The provider's name: "local" (offline), "openai", "gemini",
   * "nova-sonic", as compiled in. Read when the element goes to PAUSED.
   */
  g_object_class_install_property (gobject_class, PROP_PROVIDER,
      g_param_spec_string ("provider", "Provider", provider_blurb (),
          DEFAULT_PROVIDER, G_PARAM_READWRITE | G_PARAM_STATIC_NAME |
          G_PARAM_STATIC_NICK | G_PARAM_STATIC_BLURB |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Model name; NULL for the provider's default", DEFAULT_MODEL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstBidiAgent:api-key:
   *
   * The provider's API key. Write-only: it cannot be read back, and it is
   * never logged or posted. When unset, providers read their usual
   * environment variables (OPENAI_API_KEY, GEMINI_API_KEY ...).
   */
  g_object_class_install_property (gobject_class, PROP_API_KEY,
      g_param_spec_string ("api-key", "API key",
          "Secret API key (write-only; never logged); NULL to use the "
          "provider's environment variable", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_URL,
      g_param_spec_string ("url", "URL",
          "Endpoint (wss:// or https://; ws:// and http:// only for loopback "
          "hosts); NULL for the provider's default", DEFAULT_URL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SYSTEM_PROMPT,
      g_param_spec_string ("system-prompt", "System prompt",
          "Instructions given to the model at the start of the session",
          DEFAULT_SYSTEM_PROMPT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_VOICE,
      g_param_spec_string ("voice", "Voice",
          "Voice of the model's answers; NULL for the provider's default",
          DEFAULT_VOICE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstBidiAgent:provider-config:
   *
   * Settings of the chosen provider, e.g.
   * `provider-config="config, in-rate=(int)24000"`. A field the provider
   * does not know, or of the wrong type, makes the element fail to start
   * with an error naming it.
   */
  g_object_class_install_property (gobject_class, PROP_PROVIDER_CONFIG,
      g_param_spec_boxed ("provider-config", "Provider config",
          "Provider specific settings (the structure's name is ignored)",
          GST_TYPE_STRUCTURE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Latency the element adds to upstream's, in milliseconds: how late "
          "after its timestamp a buffer may be pushed", 0, 10000,
          DEFAULT_LATENCY, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_INPUT_CHUNK_MS,
      g_param_spec_uint ("input-chunk-ms", "Input chunk",
          "Audio is sent to the provider in chunks of this many milliseconds",
          10, 1000, DEFAULT_INPUT_CHUNK_MS, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_INPUT_BUFFER_MS,
      g_param_spec_uint ("input-buffer-ms", "Input buffer",
          "Most input audio kept while the provider is not connected or "
          "slow, in milliseconds. Past it, live input drops the oldest audio "
          "(counted in stats) and non-live input waits", 0, 600000,
          DEFAULT_INPUT_BUFFER_MS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
          | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_IDLE,
      g_param_spec_enum ("idle", "Idle output",
          "What the src pad carries while the model is not speaking",
          GST_TYPE_BIDI_AGENT_IDLE, DEFAULT_IDLE, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_DRAIN_TIMEOUT,
      g_param_spec_uint ("drain-timeout", "Drain timeout",
          "After EOS on the sink pad, push EOS on the src pad when the "
          "provider has been silent this long, in milliseconds, even if it "
          "did not say it finished (0 = do not wait for the provider)",
          0, G_MAXUINT, DEFAULT_DRAIN_TIMEOUT, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstBidiAgent:builtin-tools:
   *
   * The built-in tools offered to the model, comma separated:
   * `current_time`, `calculator`, `stop_conversation`. They run inside
   * the element. `stop_conversation` lets the model end the session: the
   * goodbye is played, `bidi_connection_close` (reason `user_request`) is
   * posted and the src pad goes EOS, so gst-launch exits.
   *
   * "auto" is the provider's choice: `stop_conversation` for the cloud
   * models, all three for `local`, whose built-in responder answers the
   * time and arithmetic through them.
   */
  g_object_class_install_property (gobject_class, PROP_BUILTIN_TOOLS,
      g_param_spec_string ("builtin-tools", "Built-in tools",
          "Comma-separated built-in tools offered to the model "
          "(current_time, calculator, stop_conversation); empty for none; "
          "auto: the provider's choice (stop_conversation; all for local)",
          DEFAULT_BUILTIN_TOOLS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstBidiAgent:tools:
   *
   * Tools the application answers, a JSON array of tool specs: `{"name":
   * ..., "description": ..., "parameters": JSON Schema}` (Strands'
   * `inputSchema` is accepted for `parameters`). When the model calls
   * one, `tool_use_stream` is posted and #GstBidiAgent::tool-call is
   * emitted; the application answers with
   * #GstBidiAgent::send-tool-result. A name may not repeat a built-in
   * tool in use (see #GstBidiAgent:builtin-tools).
   */
  g_object_class_install_property (gobject_class, PROP_TOOLS,
      g_param_spec_string ("tools", "Tools",
          "Tools the application answers (tool-call / send-tool-result), "
          "a JSON array of {name, description, parameters}",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstBidiAgent:tool-timeout:
   *
   * How long the application has to answer a call of one of its tools
   * (#GstBidiAgent::send-tool-result); after that the model gets an
   * error result saying the tool did not answer, and a late answer is
   * refused.
   */
  g_object_class_install_property (gobject_class, PROP_TOOL_TIMEOUT,
      g_param_spec_uint ("tool-timeout", "Tool timeout",
          "Milliseconds the application has to answer a tool call before "
          "the model gets an error result (0 = wait forever)", 0, G_MAXUINT,
          DEFAULT_TOOL_TIMEOUT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstBidiAgent:messages:
   *
   * The conversation so far, to start from: a JSON array of Strands
   * messages (`{"role": "user" | "assistant", "content": [{"text": ...},
   * {"toolUse": ...}, {"toolResult": ...}]}`). The provider is given it
   * when it starts, in its own wire form.
   */
  g_object_class_install_property (gobject_class, PROP_MESSAGES,
      g_param_spec_string ("messages", "Messages",
          "Initial conversation history, a JSON array of Strands messages",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstBidiAgent:history:
   *
   * The conversation as it stands, in the shape of
   * #GstBidiAgent:messages: final user transcripts, texts sent, the
   * assistant's answers (an interrupted one only as far as it was heard)
   * and tool calls with their results.
   */
  g_object_class_install_property (gobject_class, PROP_HISTORY,
      g_param_spec_string ("history", "History",
          "The conversation so far, a JSON array of Strands messages", NULL,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstBidiAgent:session-file:
   *
   * A JSON Lines file the conversation is kept in, one message per line,
   * each written and synced to disk as it happens. At start, what it holds
   * is given to the provider, so a restarted pipeline continues the
   * conversation. A damaged last line (a crash while writing) is dropped
   * with a warning. One pipeline at a time: the file is locked.
   */
  g_object_class_install_property (gobject_class, PROP_SESSION_FILE,
      g_param_spec_string ("session-file", "Session file",
          "Keep the conversation in this JSON Lines file and continue it at "
          "start", NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SSL_CA_FILE,
      g_param_spec_string ("ssl-ca-file", "SSL CA file",
          "PEM file of extra certificate authorities to trust (for a proxy "
          "or a test server)", DEFAULT_SSL_CA_FILE, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_SSL_STRICT,
      g_param_spec_boolean ("ssl-strict", "SSL strict",
          "Refuse servers whose TLS certificate does not verify. FALSE is "
          "honoured for loopback hosts only", DEFAULT_SSL_STRICT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstBidiAgent:transcript-roles:
   *
   * Whose final transcripts go out on the transcript_src pad.
   */
  g_object_class_install_property (gobject_class, PROP_TRANSCRIPT_ROLES,
      g_param_spec_enum ("transcript-roles", "Transcript roles",
          "Whose final transcripts the transcript_src pad carries",
          GST_TYPE_BIDI_AGENT_TRANSCRIPT_ROLES, DEFAULT_TRANSCRIPT_ROLES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstBidiAgent:transcript-prefix:
   *
   * Start each line on the transcript_src pad with the speaker ("User: ",
   * "Assistant: ").
   */
  g_object_class_install_property (gobject_class, PROP_TRANSCRIPT_PREFIX,
      g_param_spec_boolean ("transcript-prefix", "Transcript prefix",
          "Start each transcript line with the speaker (\"User: \", "
          "\"Assistant: \")", DEFAULT_TRANSCRIPT_PREFIX,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstBidiAgent:image-interval-ms:
   *
   * The frames that come in on the image_sink pad go to the model at most
   * once per this many milliseconds; in between, the newest frame waits
   * for its turn and replaces any older one. 0 sends every frame.
   */
  g_object_class_install_property (gobject_class, PROP_IMAGE_INTERVAL,
      g_param_spec_uint ("image-interval-ms", "Image interval",
          "Send at most one image_sink frame per this many milliseconds, "
          "the newest one (0 = every frame)", 0, G_MAXUINT / 1000,
          DEFAULT_IMAGE_INTERVAL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_CONNECTED,
      g_param_spec_boolean ("connected", "Connected",
          "Whether the provider is connected", FALSE,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstBidiAgent:stats:
   *
   * Counters, in a structure named `application/x-bidiagent-stats`:
   * #guint64 `input-dropped-ms` (input dropped because the input buffer was
   * full), #guint64 `input-queued-ms`, #guint64 `output-queued-ms`,
   * #guint64 `output-dropped-ms` (model audio dropped because its answer
   * had been interrupted), #guint `answers`, #guint `interruptions`.
   */
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Counters of the session (see the documentation)",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstBidiAgent::send-text:
   * @bidiagent: the element
   * @text: what the user says, as text
   *
   * Sends a user turn as text; the model answers it as it would speech.
   * Sent as soon as the provider is connected.
   *
   * Returns: %TRUE if queued, %FALSE when the element is not at least
   * PAUSED.
   */
  signals[SIGNAL_SEND_TEXT] =
      g_signal_new_class_handler ("send-text", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_bidi_agent_send_text), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 1, G_TYPE_STRING);

  /**
   * GstBidiAgent::interrupt:
   * @bidiagent: the element
   *
   * Cuts the model off, as if the user had started talking: flushes the
   * answer downstream, tells the provider how much of it was heard, and
   * posts `bidi_interruption`.
   *
   * Returns: %TRUE if an answer was in progress and was interrupted.
   */
  signals[SIGNAL_INTERRUPT] =
      g_signal_new_class_handler ("interrupt", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_bidi_agent_interrupt), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 0);

  /**
   * GstBidiAgent::send-image:
   * @bidiagent: the element
   * @data: a PNG, JPEG or WebP image
   * @mime: (nullable): its media type ("image/png" ...); the data decides
   *
   * Shows the model an image (a camera frame, a screenshot) as part of
   * the user's turn; it does not ask for an answer by itself. Sent as
   * soon as the provider is connected; providers without image input
   * ignore it with a warning.
   *
   * Returns: %TRUE if queued, %FALSE when the element is not at least
   * PAUSED or @data is not a PNG, JPEG or WebP image.
   */
  signals[SIGNAL_SEND_IMAGE] =
      g_signal_new_class_handler ("send-image", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_bidi_agent_send_image), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 2, G_TYPE_BYTES, G_TYPE_STRING);

  /**
   * GstBidiAgent::tool-call:
   * @bidiagent: the element
   * @tool_use_id: the call's id, to answer with
   * @name: one of the tools of #GstBidiAgent:tools
   * @input: the arguments, a JSON object as text
   *
   * The model called an application tool. Emitted from the element's
   * network thread, after `tool_use_stream` was posted. A handler that
   * takes the call returns %TRUE at once and answers with
   * #GstBidiAgent::send-tool-result, from any thread, now or later (within
   * #GstBidiAgent:tool-timeout). The model keeps talking meanwhile. When
   * no handler takes it, the model gets an error result.
   *
   * Returns: %TRUE if the handler takes the call.
   */
  signals[SIGNAL_TOOL_CALL] =
      g_signal_new ("tool-call", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
      0, g_signal_accumulator_true_handled, NULL, NULL, G_TYPE_BOOLEAN, 3,
      G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);

  /**
   * GstBidiAgent::send-tool-result:
   * @bidiagent: the element
   * @tool_use_id: the id #GstBidiAgent::tool-call gave
   * @result: the result: JSON, or plain text (sent as a JSON string)
   * @status: "success" or "error"
   *
   * Answers a tool call; `tool_result` is posted and the model hears it.
   *
   * Returns: %TRUE if the call was waiting for an answer, %FALSE for an
   * unknown or already answered id or a bad status.
   */
  signals[SIGNAL_SEND_TOOL_RESULT] =
      g_signal_new_class_handler ("send-tool-result",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_bidi_agent_send_tool_result), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class,
      &text_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &transcript_src_template);
  gst_element_class_add_static_pad_template (element_class,
      &image_sink_template);
  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_bidi_agent_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_bidi_agent_release_pad);
  gst_element_class_set_static_metadata (element_class,
      "Bidirectional speech agent", "Filter/Audio/Network",
      "Streams audio to a realtime speech-to-speech model (OpenAI Realtime, "
      "Gemini Live, Nova Sonic, or offline) and pushes its spoken answer; "
      "transcripts, tool calls and interruptions are bus messages",
      "gst-bidi developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_bidi_agent_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_BIDI_AGENT_IDLE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_BIDI_AGENT_TRANSCRIPT_ROLES, 0);
}

static void
gst_bidi_agent_init (GstBidiAgent * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_bidi_agent_chain));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_bidi_agent_sink_event));
  gst_pad_set_query_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_bidi_agent_sink_query));
  gst_pad_set_activatemode_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_bidi_agent_sink_activate_mode));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_event_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_bidi_agent_src_event));
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_bidi_agent_src_query));
  gst_pad_set_activatemode_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_bidi_agent_src_activate_mode));
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->provider_name = g_strdup (DEFAULT_PROVIDER);
  self->settings = gst_bidi_provider_config_new ();
  self->settings->ssl_strict = DEFAULT_SSL_STRICT;
  self->latency_ms = DEFAULT_LATENCY;
  self->input_chunk_ms = DEFAULT_INPUT_CHUNK_MS;
  self->input_buffer_ms = DEFAULT_INPUT_BUFFER_MS;
  self->idle = DEFAULT_IDLE;
  self->drain_timeout_ms = DEFAULT_DRAIN_TIMEOUT;
  self->builtin_tools = g_strdup (DEFAULT_BUILTIN_TOOLS);
  self->tool_timeout_ms = DEFAULT_TOOL_TIMEOUT;
  self->transcript_roles = DEFAULT_TRANSCRIPT_ROLES;
  self->transcript_prefix = DEFAULT_TRANSCRIPT_PREFIX;
  self->image_interval_ms = DEFAULT_IMAGE_INTERVAL;
  self->history = gst_bidi_history_new ();
  self->hist_text = g_string_new (NULL);
  g_queue_init (&self->hist_pairs);
  self->hist_heard_ms = G_MAXUINT64;
  self->tool_calls = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) pending_call_free);
  self->tool_pool = g_thread_pool_new (builtin_tool_run, self,
      MAX_TOOL_THREADS, FALSE, NULL);

  g_mutex_init (&self->net_lock);
  g_cond_init (&self->net_cond);
  g_queue_init (&self->pending_inputs);

  g_mutex_init (&self->in_lock);
  g_cond_init (&self->in_cond);
  g_queue_init (&self->in_queue);
  self->in_acc = g_byte_array_new ();
  self->in_flushing = TRUE;
  self->upstream_live = TRUE;

  g_mutex_init (&self->flush_lock);
  g_mutex_init (&self->out_lock);
  g_cond_init (&self->out_cond);
  self->srcresult = GST_FLOW_FLUSHING;
  gst_bidi_playout_init (&self->playout);
  self->downstream_latency = GST_CLOCK_TIME_NONE;
  gst_audio_info_init (&self->prov_in);
  gst_audio_info_init (&self->prov_out);
  gst_audio_info_init (&self->in_info);
  gst_audio_info_init (&self->src_info);
}

static void
gst_bidi_agent_finalize (GObject * object)
{
  GstBidiAgent *self = GST_BIDI_AGENT (object);

  images_reset (self);
  g_free (self->provider_name);
  gst_bidi_provider_config_free (self->settings);
  g_free (self->builtin_tools);
  g_free (self->app_tools);
  g_strfreev (self->tools_enabled);
  g_strfreev (self->app_tools_enabled);
  /* the jobs left need the element: wait for them */
  g_thread_pool_free (self->tool_pool, FALSE, TRUE);
  gst_bidi_history_free (self->history);
  g_string_free (self->hist_text, TRUE);
  g_queue_clear_full (&self->hist_pairs, hist_pair_free);
  g_free (self->messages);
  g_free (self->session_file);
  g_hash_table_unref (self->tool_calls);
  g_free (self->connection_id);

  g_mutex_clear (&self->net_lock);
  g_cond_clear (&self->net_cond);
  g_queue_clear_full (&self->pending_inputs, input_free);
  g_free (self->last_error);

  g_mutex_clear (&self->in_lock);
  g_cond_clear (&self->in_cond);
  g_queue_clear_full (&self->in_queue, (GDestroyNotify) g_bytes_unref);
  g_byte_array_unref (self->in_acc);
  if (self->in_conv)
    gst_audio_converter_free (self->in_conv);

  g_mutex_clear (&self->flush_lock);
  g_mutex_clear (&self->out_lock);
  g_cond_clear (&self->out_cond);
  gst_bidi_playout_free (&self->playout);
  g_free (self->resp_id);
  g_free (self->cancelled_resp_id);
  if (self->out_conv)
    gst_audio_converter_free (self->out_conv);
  if (self->silence)
    g_bytes_unref (self->silence);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static GstStructure *
gst_bidi_agent_get_stats (GstBidiAgent * self)
{
  GstStructure *s;
  guint64 in_rate_bytes, in_dropped, in_queued;

  GST_OBJECT_LOCK (self);
  in_rate_bytes = GST_AUDIO_INFO_RATE (&self->prov_in) *
      GST_AUDIO_INFO_BPF (&self->prov_in);
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->in_lock);
  in_dropped = self->in_dropped_bytes;
  in_queued = self->in_queued_bytes;
  g_mutex_unlock (&self->in_lock);

  g_mutex_lock (&self->out_lock);
  s = gst_structure_new ("application/x-bidiagent-stats",
      "input-dropped-ms", G_TYPE_UINT64, in_rate_bytes ?
      in_dropped * 1000 / in_rate_bytes : 0,
      "input-queued-ms", G_TYPE_UINT64, in_rate_bytes ?
      in_queued * 1000 / in_rate_bytes : 0,
      "output-queued-ms", G_TYPE_UINT64,
      gst_bidi_playout_queued_time (&self->playout) / GST_MSECOND,
      "output-dropped-ms", G_TYPE_UINT64,
      gst_util_uint64_scale (self->out_dropped_bytes / self->playout.bpf,
          1000, self->playout.rate),
      "answers", G_TYPE_UINT, self->n_answers,
      "interruptions", G_TYPE_UINT, self->n_interruptions, NULL);
  g_mutex_unlock (&self->out_lock);
  return s;
}

static void
gst_bidi_agent_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstBidiAgent *self = GST_BIDI_AGENT (object);
  gboolean latency_changed = FALSE;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PROVIDER:
      g_free (self->provider_name);
      self->provider_name = g_value_dup_string (value);
      break;
    case PROP_MODEL:
      g_free (self->settings->model);
      self->settings->model = g_value_dup_string (value);
      break;
    case PROP_API_KEY:
      gst_bidi_clear_secret (&self->settings->api_key);
      self->settings->api_key = g_value_dup_string (value);
      GST_DEBUG_OBJECT (self, "api-key %s",
          self->settings->api_key ? "set" : "unset");
      break;
    case PROP_URL:
      g_free (self->settings->url);
      self->settings->url = g_value_dup_string (value);
      break;
    case PROP_SYSTEM_PROMPT:
      g_free (self->settings->instructions);
      self->settings->instructions = g_value_dup_string (value);
      break;
    case PROP_VOICE:
      g_free (self->settings->voice);
      self->settings->voice = g_value_dup_string (value);
      break;
    case PROP_PROVIDER_CONFIG:
      if (self->settings->provider_config)
        gst_structure_free (self->settings->provider_config);
      self->settings->provider_config = g_value_dup_boxed (value);
      break;
    case PROP_LATENCY:
      latency_changed = self->latency_ms != g_value_get_uint (value);
      self->latency_ms = g_value_get_uint (value);
      break;
    case PROP_INPUT_CHUNK_MS:
      self->input_chunk_ms = g_value_get_uint (value);
      break;
    case PROP_INPUT_BUFFER_MS:
      self->input_buffer_ms = g_value_get_uint (value);
      break;
    case PROP_IDLE:
      self->idle = g_value_get_enum (value);
      break;
    case PROP_DRAIN_TIMEOUT:
      self->drain_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_BUILTIN_TOOLS:
      g_free (self->builtin_tools);
      self->builtin_tools = g_value_dup_string (value);
      break;
    case PROP_TOOLS:
      g_free (self->app_tools);
      self->app_tools = g_value_dup_string (value);
      break;
    case PROP_TOOL_TIMEOUT:
      self->tool_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_MESSAGES:
      g_free (self->messages);
      self->messages = g_value_dup_string (value);
      /* a new conversation at the next start */
      self->history_live = FALSE;
      break;
    case PROP_SESSION_FILE:
      g_free (self->session_file);
      self->session_file = g_value_dup_string (value);
      break;
    case PROP_SSL_CA_FILE:
      g_free (self->settings->ssl_ca_file);
      self->settings->ssl_ca_file = g_value_dup_string (value);
      break;
    case PROP_SSL_STRICT:
      self->settings->ssl_strict = g_value_get_boolean (value);
      break;
    case PROP_TRANSCRIPT_ROLES:
      self->transcript_roles = g_value_get_enum (value);
      break;
    case PROP_TRANSCRIPT_PREFIX:
      self->transcript_prefix = g_value_get_boolean (value);
      break;
    case PROP_IMAGE_INTERVAL:
      self->image_interval_ms = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);

  if (latency_changed)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_latency (GST_OBJECT (self)));
}

static void
gst_bidi_agent_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstBidiAgent *self = GST_BIDI_AGENT (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, gst_bidi_agent_get_stats (self));
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PROVIDER:
      g_value_set_string (value, self->provider_name);
      break;
    case PROP_MODEL:
      g_value_set_string (value, self->settings->model);
      break;
    case PROP_URL:
      g_value_set_string (value, self->settings->url);
      break;
    case PROP_SYSTEM_PROMPT:
      g_value_set_string (value, self->settings->instructions);
      break;
    case PROP_VOICE:
      g_value_set_string (value, self->settings->voice);
      break;
    case PROP_PROVIDER_CONFIG:
      g_value_set_boxed (value, self->settings->provider_config);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, self->latency_ms);
      break;
    case PROP_INPUT_CHUNK_MS:
      g_value_set_uint (value, self->input_chunk_ms);
      break;
    case PROP_INPUT_BUFFER_MS:
      g_value_set_uint (value, self->input_buffer_ms);
      break;
    case PROP_IDLE:
      g_value_set_enum (value, self->idle);
      break;
    case PROP_DRAIN_TIMEOUT:
      g_value_set_uint (value, self->drain_timeout_ms);
      break;
    case PROP_BUILTIN_TOOLS:
      g_value_set_string (value, self->builtin_tools);
      break;
    case PROP_TOOLS:
      g_value_set_string (value, self->app_tools);
      break;
    case PROP_TOOL_TIMEOUT:
      g_value_set_uint (value, self->tool_timeout_ms);
      break;
    case PROP_MESSAGES:
      g_value_set_string (value, self->messages);
      break;
    case PROP_HISTORY:
      g_value_take_string (value, hist_get_json (self));
      break;
    case PROP_SESSION_FILE:
      g_value_set_string (value, self->session_file);
      break;
    case PROP_SSL_CA_FILE:
      g_value_set_string (value, self->settings->ssl_ca_file);
      break;
    case PROP_SSL_STRICT:
      g_value_set_boolean (value, self->settings->ssl_strict);
      break;
    case PROP_TRANSCRIPT_ROLES:
      g_value_set_enum (value, self->transcript_roles);
      break;
    case PROP_TRANSCRIPT_PREFIX:
      g_value_set_boolean (value, self->transcript_prefix);
      break;
    case PROP_IMAGE_INTERVAL:
      g_value_set_uint (value, self->image_interval_ms);
      break;
    case PROP_CONNECTED:
      g_value_set_boolean (value, self->connected);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ------------------------------------------------------------------------
 * The network thread: one GMainContext per element. Provider vfuncs run
 * here; other threads hand it work with net_invoke().
 * ------------------------------------------------------------------------ */

typedef void (*NetFunc) (GstBidiAgent * self, gpointer data);

typedef struct
{
  GstBidiAgent *self;
  NetFunc func;
  gpointer data;
  GDestroyNotify destroy;
  /* for net_invoke_sync */
  gboolean sync;
  gboolean done;
} NetCall;

static gboolean
net_call_dispatch (gpointer user_data)
{
  NetCall *call = user_data;

  call->func (call->self, call->data);
  return G_SOURCE_REMOVE;
}

/* Runs after the call, or when the context goes away without running it. */
static void
net_call_free (gpointer user_data)
{
  NetCall *call = user_data;
  GstBidiAgent *self = call->self;

  if (call->destroy)
    call->destroy (call->data);
  if (call->sync) {
    g_mutex_lock (&self->net_lock);
    call->done = TRUE;
    g_cond_broadcast (&self->net_cond);
    g_mutex_unlock (&self->net_lock);
  } else {
    g_free (call);
  }
}

/* Runs @func on the network thread: at once when called there, else queued
 * (and waited for when @sync). When the thread is not running, @data is
 * freed and %FALSE returned. */
static gboolean
net_invoke_full (GstBidiAgent * self, NetFunc func, gpointer data,
    GDestroyNotify destroy, gboolean sync)
{
  GMainContext *ctx;
  GSource *source;
  NetCall *call;

  g_mutex_lock (&self->net_lock);
  ctx = self->net_ctx ? g_main_context_ref (self->net_ctx) : NULL;
  g_mutex_unlock (&self->net_lock);

  if (!ctx) {
    if (destroy)
      destroy (data);
    return FALSE;
  }

  /* Already on the network thread: run now, so that e.g. the provider hears
   * of an interruption it reported before anything else happens. */
  if (g_main_context_is_owner (ctx)) {
    func (self, data);
    if (destroy)
      destroy (data);
    g_main_context_unref (ctx);
    return TRUE;
  }

  call = g_new0 (NetCall, 1);
  call->self = self;
  call->func = func;
  call->data = data;
  call->destroy = destroy;
  call->sync = sync;

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, net_call_dispatch, call, net_call_free);
  g_source_set_name (source, "bidiagent-call");
  g_source_attach (source, ctx);
  g_source_unref (source);
  g_main_context_unref (ctx);

  if (sync) {
    g_mutex_lock (&self->net_lock);
    while (!call->done)
      g_cond_wait (&self->net_cond, &self->net_lock);
    g_mutex_unlock (&self->net_lock);
    g_free (call);
  }
  return TRUE;
}

#define net_invoke(self, func, data, destroy) \
    net_invoke_full (self, func, data, destroy, FALSE)
#define net_invoke_sync(self, func, data) \
    net_invoke_full (self, func, data, NULL, TRUE)

static gboolean
net_loop_running (gpointer user_data)
{
  GstBidiAgent *self = user_data;

  g_mutex_lock (&self->net_lock);
  self->net_running = TRUE;
  g_cond_broadcast (&self->net_cond);
  g_mutex_unlock (&self->net_lock);
  return G_SOURCE_REMOVE;
}

static gpointer
net_thread_func (gpointer user_data)
{
  GstBidiAgent *self = user_data;
  GMainContext *ctx = g_main_loop_get_context (self->net_loop);
  GSource *source;

  g_main_context_push_thread_default (ctx);
  source = g_idle_source_new ();
  g_source_set_callback (source, net_loop_running, self, NULL);
  g_source_attach (source, ctx);
  g_source_unref (source);

  g_main_loop_run (self->net_loop);

  g_main_context_pop_thread_default (ctx);
  return NULL;
}

static void
net_thread_start (GstBidiAgent * self)
{
  GMainContext *ctx = g_main_context_new ();
  gchar *name = g_strdup_printf ("%s:net", GST_OBJECT_NAME (self));

  self->net_loop = g_main_loop_new (ctx, FALSE);
  g_mutex_lock (&self->net_lock);
  self->net_ctx = ctx;
  self->net_running = FALSE;
  g_mutex_unlock (&self->net_lock);

  /* Linux limits thread names to 15 characters; the name is for debugging */
  self->net_thread = g_thread_new (name, net_thread_func, self);
  g_free (name);

  g_mutex_lock (&self->net_lock);
  while (!self->net_running)
    g_cond_wait (&self->net_cond, &self->net_lock);
  g_mutex_unlock (&self->net_lock);
}

static void
net_thread_stop (GstBidiAgent * self)
{
  GMainContext *ctx;

  g_mutex_lock (&self->net_lock);
  ctx = self->net_ctx;
  self->net_ctx = NULL;
  g_mutex_unlock (&self->net_lock);

  if (!ctx)
    return;

  g_main_loop_quit (self->net_loop);
  g_thread_join (self->net_thread);
  self->net_thread = NULL;
  g_main_loop_unref (self->net_loop);
  self->net_loop = NULL;
  /* Frees the data of calls that never ran */
  g_main_context_unref (ctx);
}

/* ------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------ */

/* Posts @event (transfer full) as an element message with running_time.
 * Call with no lock held. */
static void
post_event (GstBidiAgent * self, GstStructure * event)
{
  GstClockTime rt;
  GstState state;

  /* before PLAYING the clock's time means nothing for this element: the
   * running time is where it stands (0 before it first played) */
  GST_OBJECT_LOCK (self);
  state = GST_STATE (self);
  rt = GST_ELEMENT_START_TIME (self);
  GST_OBJECT_UNLOCK (self);
  if (state == GST_STATE_PLAYING)
    rt = gst_element_get_current_running_time (GST_ELEMENT (self));

  gst_structure_set (event, "running_time", G_TYPE_UINT64, rt, NULL);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), event));
}

static void
post_progress (GstBidiAgent * self, GstProgressType type, const gchar * text)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_progress (GST_OBJECT (self), type, "connect", text));
}

static void
set_connected (GstBidiAgent * self, gboolean connected)
{
  gboolean changed;

  GST_OBJECT_LOCK (self);
  changed = self->connected != connected;
  self->connected = connected;
  GST_OBJECT_UNLOCK (self);
  if (changed)
    g_object_notify (G_OBJECT (self), "connected");
}

/* The GstResourceError for a bidi_error "code" */
static gint
resource_error_for_code (const gchar * code)
{
  if (!code)
    return GST_RESOURCE_ERROR_READ;
  if (!strcmp (code, "not_authorized"))
    return GST_RESOURCE_ERROR_NOT_AUTHORIZED;
  if (!strcmp (code, "connection_failed"))
    return GST_RESOURCE_ERROR_OPEN_READ_WRITE;
  if (!strcmp (code, "model"))
    return GST_RESOURCE_ERROR_NOT_FOUND;
  if (!strcmp (code, "invalid_session") || !strcmp (code, "settings"))
    return GST_RESOURCE_ERROR_SETTINGS;
  return GST_RESOURCE_ERROR_READ;
}

/* Posts an ERROR message with the domain and code of @err when it is a
 * GstResourceError, else OPEN_READ_WRITE. */
static void
post_provider_error (GstBidiAgent * self, const GError * err,
    const gchar * what)
{
  gint code = GST_RESOURCE_ERROR_OPEN_READ_WRITE;
  gchar *provider;

  if (err && err->domain == GST_RESOURCE_ERROR)
    code = err->code;

  GST_OBJECT_LOCK (self);
  provider = g_strdup (self->provider_name);
  GST_OBJECT_UNLOCK (self);

  gst_element_message_full (GST_ELEMENT (self), GST_MESSAGE_ERROR,
      GST_RESOURCE_ERROR, code,
      g_strdup_printf ("Provider \"%s\" %s: %s", provider, what,
          err ? err->message : "unknown error"),
      g_strdup_printf ("provider %s %s", provider, what),
      __FILE__, GST_FUNCTION, __LINE__);
  g_free (provider);
}

/* ------------------------------------------------------------------------
 * Output: the src task, flushes and interruptions
 * ------------------------------------------------------------------------ */

/* Wakes the src task from its clock or cond wait. With out_lock held. */
static void
wake_task_unlocked (GstBidiAgent * self)
{
  if (self->clock_id)
    gst_clock_id_unschedule (self->clock_id);
  g_cond_broadcast (&self->out_cond);
}

/* The stream ends: the task pushes what is queued, then EOS. */
static void
request_eos (GstBidiAgent * self)
{
  g_mutex_lock (&self->out_lock);
  self->eos_pending = TRUE;
  wake_task_unlocked (self);
  g_mutex_unlock (&self->out_lock);
}

/* Own latency plus, when known, what downstream renders with; the sample at
 * running time t is heard at t + this. */
static GstClockTime
playout_latency_unlocked (GstBidiAgent * self)
{
  if (GST_CLOCK_TIME_IS_VALID (self->downstream_latency))
    return self->downstream_latency;
  return 0;
}

/* The transcript_src pad's stream, if there is one: (transfer full) */
static GstBidiCaptions *
get_captions (GstBidiAgent * self)
{
  GstBidiCaptions *c;

  GST_OBJECT_LOCK (self);
  c = self->captions ? gst_bidi_captions_ref (self->captions) : NULL;
  GST_OBJECT_UNLOCK (self);
  return c;
}

/* Pushes FLUSH_START, drops queued audio, then FLUSH_STOP (reset_time FALSE)
 * with the same seqnum; the task sends a new SEGMENT before its next buffer.
 * Called from any thread but the src task, with no lock held. */
static void
flush_src (GstBidiAgent * self, guint32 seqnum)
{
  GstBidiCaptions *captions;
  GstEvent *event;
  gboolean active;
  guint cut_answer;

  if (seqnum == GST_SEQNUM_INVALID)
    seqnum = gst_util_seqnum_next ();

  g_mutex_lock (&self->flush_lock);
  GST_DEBUG_OBJECT (self, "flushing src, seqnum %u", seqnum);
  event = gst_event_new_flush_start ();
  gst_event_set_seqnum (event, seqnum);
  gst_pad_push_event (self->srcpad, event);

  g_mutex_lock (&self->out_lock);
  if (self->srcresult == GST_FLOW_OK || self->srcresult == GST_FLOW_EOS)
    self->srcresult = GST_FLOW_FLUSHING;
  self->flushes++;
  cut_answer = self->answer_seq;
  gst_bidi_playout_clear (&self->playout);
  gst_bidi_playout_end_answer (&self->playout);
  wake_task_unlocked (self);
  g_mutex_unlock (&self->out_lock);

  /* Once we hold it, the task is parked. */
  GST_PAD_STREAM_LOCK (self->srcpad);
  event = gst_event_new_flush_stop (FALSE);
  gst_event_set_seqnum (event, seqnum);
  gst_pad_push_event (self->srcpad, event);

  g_mutex_lock (&self->out_lock);
  self->flushes--;
  active = self->src_active;
  if (active)
    self->srcresult = GST_FLOW_OK;
  self->need_segment = TRUE;
  self->discont = TRUE;
  self->segment_seqnum = seqnum;
  g_mutex_unlock (&self->out_lock);

  if (active)
    gst_pad_start_task (self->srcpad,
        (GstTaskFunction) gst_bidi_agent_src_loop, self->srcpad, NULL);
  GST_PAD_STREAM_UNLOCK (self->srcpad);

  /* the caption of the cut answer goes too */
  captions = get_captions (self);
  if (captions) {
    gst_bidi_captions_flush (captions, seqnum, cut_answer);
    gst_bidi_captions_unref (captions);
  }
  g_mutex_unlock (&self->flush_lock);
}

static GstBidiProvider *
get_provider (GstBidiAgent * self)
{
  GstBidiProvider *provider;

  GST_OBJECT_LOCK (self);
  provider = self->provider ? gst_object_ref (self->provider) : NULL;
  GST_OBJECT_UNLOCK (self);
  return provider;
}

/* ------------------------------------------------------------------------
 * Conversation history
 * ------------------------------------------------------------------------ */

/* A failed session-file write: one warning until writing works again */
static void
hist_written (GstBidiAgent * self, gboolean ok, GError * err)
{
  if (ok) {
    self->hist_write_failed = FALSE;
    return;
  }
  if (!self->hist_write_failed)
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("%s", err->message),
        ("session-file: the conversation goes on, kept in memory"));
  self->hist_write_failed = TRUE;
  g_clear_error (&err);
}

static void
hist_add_text (GstBidiAgent * self, gboolean assistant, const gchar * text)
{
  GError *err = NULL;

  hist_written (self, gst_bidi_history_add_text (self->history, assistant,
          text, &err), err);
}

/* The answer recorded so far goes into the history: as far as it was
 * heard if it was interrupted (network thread). An answer is complete
 * long before it has played, so this waits for what comes next in the
 * conversation: the next answer, the user's words, a tool pair, the end;
 * an interruption meanwhile cuts it. */
/* The words of the answer being recorded that were heard (all of them
 * unless it was interrupted), NULL if none; with out_lock */
static gchar *
hist_answer_heard_unlocked (GstBidiAgent * self)
{
  if (self->hist_text->len == 0)
    return NULL;
  if (self->hist_heard_ms == G_MAXUINT64)
    return g_strdup (self->hist_text->str);
  return gst_bidi_heard_text (self->hist_text->str, self->hist_heard_ms,
      self->hist_audio_ms);
}

static void
hist_commit_answer (GstBidiAgent * self)
{
  gchar *heard;

  g_mutex_lock (&self->out_lock);
  heard = hist_answer_heard_unlocked (self);
  GST_DEBUG_OBJECT (self, "history: answer of %" G_GUINT64_FORMAT " ms, "
      "heard %" G_GINT64_FORMAT " ms: \"%s\"", self->hist_audio_ms,
      self->hist_heard_ms == G_MAXUINT64 ? (gint64) - 1 :
      (gint64) self->hist_heard_ms, GST_STR_NULL (heard));
  g_string_truncate (self->hist_text, 0);
  self->hist_audio_ms = 0;
  self->hist_heard_ms = G_MAXUINT64;
  g_mutex_unlock (&self->out_lock);

  if (heard)
    hist_add_text (self, TRUE, heard);
  g_free (heard);
}

/* The history property: the history, and the answer being recorded as it
 * stands (it goes into the history proper once the conversation moves
 * on) */
static gchar *
hist_get_json (GstBidiAgent * self)
{
  gchar *json = gst_bidi_history_to_json (self->history), *heard, *ret;
  JsonObject *msg, *block;
  JsonArray *content;
  JsonNode *root;

  g_mutex_lock (&self->out_lock);
  heard = hist_answer_heard_unlocked (self);
  g_mutex_unlock (&self->out_lock);
  root = heard && *heard ? json_from_string (json, NULL) : NULL;
  if (!root || !JSON_NODE_HOLDS_ARRAY (root)) {
    if (root)
      json_node_unref (root);
    g_free (heard);
    return json;
  }

  block = json_object_new ();
  json_object_set_string_member (block, "text", heard);
  content = json_array_new ();
  json_array_add_object_element (content, block);
  msg = json_object_new ();
  json_object_set_string_member (msg, "role", "assistant");
  json_object_set_array_member (msg, "content", content);
  json_array_add_object_element (json_node_get_array (root), msg);
  ret = json_to_string (root, FALSE);
  json_node_unref (root);
  g_free (json);
  g_free (heard);
  return ret;
}

typedef struct
{
  gchar *id, *name, *input, *result;
  gboolean error;
} HistPair;

static void
hist_pair_free (gpointer data)
{
  HistPair *p = data;

  g_free (p->id);
  g_free (p->name);
  g_free (p->input);
  g_free (p->result);
  g_free (p);
}

static void
hist_write_pair (GstBidiAgent * self, const HistPair * p)
{
  GError *err = NULL;

  hist_written (self, gst_bidi_history_add_tool_pair (self->history, p->id,
          p->name, p->input ? p->input : "{}", p->result, p->error, &err),
      err);
}

static void
hist_add_pair (GstBidiAgent * self, const gchar * id, const gchar * name,
    const gchar * input, const gchar * result, gboolean error)
{
  HistPair *p = g_new0 (HistPair, 1);

  p->id = g_strdup (id);
  p->name = g_strdup (name);
  p->input = g_strdup (input);
  p->result = g_strdup (result);
  p->error = error;
  if (self->hist_user_pending) {
    g_queue_push_tail (&self->hist_pairs, p);
    return;
  }
  hist_commit_answer (self);
  hist_write_pair (self, p);
  hist_pair_free (p);
}

/* The user's words are in (or will not come): the pairs that waited */
static void
hist_user_done (GstBidiAgent * self)
{
  HistPair *p;

  self->hist_user_pending = FALSE;
  while ((p = g_queue_pop_head (&self->hist_pairs))) {
    hist_write_pair (self, p);
    hist_pair_free (p);
  }
}

/* Everything not yet in the history goes in (the conversation ends) */
static void
hist_flush (GstBidiAgent * self)
{
  hist_user_done (self);
  hist_commit_answer (self);
}

static void
hist_on_transcript (GstBidiAgent * self, const GstStructure * event)
{
  const gchar *role = gst_structure_get_string (event, "role");
  const gchar *text = gst_structure_get_string (event, "text");
  gboolean is_final = FALSE;

  gst_structure_get_boolean (event, "is_final", &is_final);
  if (!text || !*text)
    return;
  if (g_strcmp0 (role, "user") == 0) {
    if (!self->hist_user_pending) {
      /* the user speaks: the answer before is over, as far as heard */
      hist_commit_answer (self);
      self->hist_user_pending = TRUE;
    }
    if (is_final) {
      hist_add_text (self, FALSE, text);
      hist_user_done (self);
    }
  } else if (is_final && g_strcmp0 (role, "assistant") == 0) {
    g_mutex_lock (&self->out_lock);
    if (self->hist_text->len > 0)
      g_string_append_c (self->hist_text, ' ');
    g_string_append (self->hist_text, text);
    g_mutex_unlock (&self->out_lock);
  }
}

/* At start: the messages property (and the session file), or the
 * conversation of the last run */
static gboolean
hist_setup (GstBidiAgent * self, GError ** error)
{
  gchar *messages, *file, *warning = NULL;
  gboolean fresh, ok = TRUE;

  GST_OBJECT_LOCK (self);
  messages = g_strdup (self->messages);
  file = g_strdup (self->session_file);
  fresh = !self->history_live || file;
  GST_OBJECT_UNLOCK (self);

  if (fresh)
    ok = gst_bidi_history_set_messages (self->history, messages, error);
  if (ok && file)
    ok = gst_bidi_history_open_file (self->history, file, &warning, error);
  if (warning) {
    GST_ELEMENT_WARNING (self, RESOURCE, READ, ("%s", warning),
        ("session-file %s", file));
    g_free (warning);
  }
  if (ok) {
    self->history_live = TRUE;
    g_mutex_lock (&self->out_lock);
    g_string_truncate (self->hist_text, 0);
    self->hist_audio_ms = 0;
    self->hist_heard_ms = G_MAXUINT64;
    g_mutex_unlock (&self->out_lock);
    self->hist_write_failed = FALSE;
    self->hist_user_pending = FALSE;
    g_queue_clear_full (&self->hist_pairs, hist_pair_free);
    GST_INFO_OBJECT (self, "conversation history: %u messages",
        gst_bidi_history_length (self->history));
  }
  g_free (messages);
  g_free (file);
  return ok;
}

/* A typed text or an image to the provider; a text is the user's turn in
 * the history */
static void
net_input_send (GstBidiAgent * self, Input * input, GstBidiProvider * provider)
{
  if (!input->image) {
    hist_commit_answer (self);
    hist_add_text (self, FALSE, input->text);
  }
  input_send (input, provider);
}

static void
net_provider_interrupt (GstBidiAgent * self, gpointer data)
{
  GstBidiProvider *provider = get_provider (self);
  guint64 played_ms = *(guint64 *) data;

  if (provider) {
    gst_bidi_provider_interrupt (provider, played_ms);
    gst_object_unref (provider);
  }
}

/* The interruption sequence (server barge-in, local barge-in, the interrupt
 * signal, an upstream flush). If an answer is audible or pending, flushes
 * downstream. The provider gets the exact played_ms and the application a
 * bidi_interruption message. @seqnum is the flush's, or
 * GST_SEQNUM_INVALID for a new one. Returns whether an answer was cut. */
static gboolean
do_interrupt (GstBidiAgent * self, const gchar * reason, gboolean from_provider,
    gboolean force_flush, guint32 seqnum)
{
  GstClockTime now = gst_element_get_current_running_time (GST_ELEMENT (self));
  gboolean audible, in_progress;
  guint64 played_ms;
  gchar *resp_id;

  g_mutex_lock (&self->out_lock);
  audible = gst_bidi_playout_audible (&self->playout, now,
      playout_latency_unlocked (self));
  in_progress = audible || self->resp_open;
  played_ms = gst_bidi_playout_played_ms (&self->playout, now,
      playout_latency_unlocked (self));
  resp_id = g_strdup (self->resp_id);
  if (in_progress) {
    /* Audio still coming for this answer is dropped until the provider
     * opens the next one with bidi_response_start. */
    self->muted = TRUE;
    self->resp_open = FALSE;
    /* the history keeps what was heard */
    if (self->hist_heard_ms == G_MAXUINT64)
      self->hist_heard_ms = played_ms;
    g_free (self->cancelled_resp_id);
    self->cancelled_resp_id = g_strdup (self->resp_id);
    self->n_interruptions++;
  }
  g_mutex_unlock (&self->out_lock);

  if (audible || force_flush)
    flush_src (self, seqnum);

  if (!in_progress) {
    /* e.g. a server VAD's speech_started on every user turn */
    GST_DEBUG_OBJECT (self, "nothing to interrupt (%s, %s)", reason,
        from_provider ? "provider" : "application");
    g_free (resp_id);
    return FALSE;
  }

  GST_INFO_OBJECT (self, "interruption (%s): %" G_GUINT64_FORMAT " ms of "
      "answer %s were heard", reason, played_ms, GST_STR_NULL (resp_id));

  {
    guint64 *arg = g_new (guint64, 1);
    *arg = played_ms;
    net_invoke (self, net_provider_interrupt, arg, g_free);
  }

  {
    GstStructure *s = gst_bidi_event_new_interruption (reason, resp_id);
    gst_structure_set (s, "played_ms", G_TYPE_UINT64, played_ms, NULL);
    post_event (self, s);
  }
  g_free (resp_id);
  return in_progress;
}

static gboolean
gst_bidi_agent_interrupt (GstBidiAgent * self)
{
  return do_interrupt (self, "user_speech", FALSE, FALSE,
      GST_SEQNUM_INVALID);
}

static gboolean
src_negotiate (GstBidiAgent * self)
{
  GstAudioInfo out, info;
  GstCaps *templ, *peer, *pref, *caps;
  gboolean ret;

  GST_OBJECT_LOCK (self);
  out = self->prov_out;
  GST_OBJECT_UNLOCK (self);

  if (GST_AUDIO_INFO_FORMAT (&out) == GST_AUDIO_FORMAT_UNKNOWN)
    return FALSE;

  templ = gst_pad_get_pad_template_caps (self->srcpad);
  peer = gst_pad_peer_query_caps (self->srcpad, templ);
  gst_caps_unref (templ);
  pref = gst_audio_info_to_caps (&out);

  if (gst_caps_can_intersect (peer, pref)) {
    caps = gst_caps_ref (pref);
  } else if (gst_caps_is_empty (peer)) {
    caps = gst_caps_ref (peer);
  } else {
    GstStructure *s;

    caps = gst_caps_truncate (gst_caps_copy (peer));
    s = gst_caps_get_structure (caps, 0);
    gst_structure_fixate_field_nearest_int (s, "rate",
        GST_AUDIO_INFO_RATE (&out));
    gst_structure_fixate_field_nearest_int (s, "channels",
        GST_AUDIO_INFO_CHANNELS (&out));
    gst_structure_fixate_field_string (s, "format",
        gst_audio_format_to_string (GST_AUDIO_INFO_FORMAT (&out)));
    caps = gst_caps_fixate (caps);
  }
  gst_caps_unref (peer);
  gst_caps_unref (pref);

  if (gst_caps_is_empty (caps) || !gst_audio_info_from_caps (&info, caps)) {
    GST_WARNING_OBJECT (self, "downstream accepts no raw audio: %"
        GST_PTR_FORMAT, caps);
    gst_caps_unref (caps);
    return FALSE;
  }

  GST_DEBUG_OBJECT (self, "src caps %" GST_PTR_FORMAT, caps);
  ret = gst_pad_set_caps (self->srcpad, caps);
  gst_caps_unref (caps);
  if (!ret)
    return FALSE;

  if (self->out_conv)
    gst_audio_converter_free (self->out_conv);
  self->out_conv = NULL;
  if (!gst_audio_info_is_equal (&out, &info)) {
    self->out_conv = gst_audio_converter_new (GST_AUDIO_CONVERTER_FLAG_NONE,
        &out, &info, NULL);
    if (!self->out_conv)
      return FALSE;
  }
  self->src_info = info;

  if (self->silence)
    g_bytes_unref (self->silence);
  {
    gsize size = GST_AUDIO_INFO_RATE (&out) * IDLE_CHUNK_MS / 1000 *
        GST_AUDIO_INFO_BPF (&out);
    guint8 *data = g_malloc (size);

    gst_audio_format_info_fill_silence (out.finfo, data, size);
    self->silence = g_bytes_new_take (data, size);
  }
  return TRUE;
}

/* Makes a buffer in the negotiated format from provider-format PCM. */
static GstBuffer *
convert_output (GstBidiAgent * self, GBytes * pcm, gsize in_frames)
{
  GstBuffer *buf;
  GstMapInfo map;
  gsize out_frames;
  gpointer in[1], out[1];

  if (!self->out_conv)
    return gst_buffer_new_wrapped_bytes (pcm);

  out_frames = gst_audio_converter_get_out_frames (self->out_conv, in_frames);
  buf = gst_buffer_new_allocate (NULL,
      out_frames * GST_AUDIO_INFO_BPF (&self->src_info), NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  in[0] = (gpointer) g_bytes_get_data (pcm, NULL);
  out[0] = map.data;
  gst_audio_converter_samples (self->out_conv, GST_AUDIO_CONVERTER_FLAG_NONE,
      in, in_frames, out, out_frames);
  gst_buffer_unmap (buf, &map);
  return buf;
}

/* Pushes stream-start, caps and segment as needed. Task only. */
static gboolean
src_prepare (GstBidiAgent * self)
{
  gboolean need_segment;
  guint32 seqnum;

  if (self->need_stream_start) {
    gchar *id = gst_bidi_stream_id_new (self->srcpad, GST_ELEMENT (self),
        "src");
    GstEvent *event = gst_event_new_stream_start (id);

    gst_event_set_group_id (event, gst_util_group_id_next ());
    gst_pad_push_event (self->srcpad, event);
    g_free (id);
    self->need_stream_start = FALSE;
  }

  if (gst_pad_check_reconfigure (self->srcpad) || self->need_caps) {
    if (!src_negotiate (self)) {
      gst_pad_mark_reconfigure (self->srcpad);
      return FALSE;
    }
    self->need_caps = FALSE;
  }

  g_mutex_lock (&self->out_lock);
  need_segment = self->need_segment;
  seqnum = self->segment_seqnum;
  self->need_segment = FALSE;
  g_mutex_unlock (&self->out_lock);

  if (need_segment) {
    GstSegment segment;
    GstEvent *event;

    /* Buffer timestamps are running times: the segment maps them 1:1 and
     * never restarts, so the output stays aligned with the live input. */
    gst_segment_init (&segment, GST_FORMAT_TIME);
    event = gst_event_new_segment (&segment);
    if (seqnum != GST_SEQNUM_INVALID)
      gst_event_set_seqnum (event, seqnum);
    gst_pad_push_event (self->srcpad, event);
  }
  return TRUE;
}

static void
gst_bidi_agent_src_loop (GstPad * pad)
{
  GstBidiAgent *self = GST_BIDI_AGENT (GST_PAD_PARENT (pad));
  GstClock *clock;
  GstClockTime base_time, now = GST_CLOCK_TIME_NONE, next, latency, ts, dur;
  GstClockTime queued;
  GstBidiCaptions *captions;
  GstBidiPlayoutItem *item = NULL;
  GstBidiAgentIdle idle;
  GstFlowReturn ret;
  GstBuffer *buf;
  gboolean discont;
  guint64 n_samples;
  guint answer = 0;

  if (!src_prepare (self))
    goto not_negotiated;

  GST_OBJECT_LOCK (self);
  clock = GST_ELEMENT_CLOCK (self) ? gst_object_ref (GST_ELEMENT_CLOCK (self))
      : NULL;
  base_time = GST_ELEMENT_CAST (self)->base_time;
  latency = self->latency_ms * GST_MSECOND;
  idle = self->idle;
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->out_lock);
  if (self->srcresult != GST_FLOW_OK || self->flushes > 0)
    goto stopping;

  if (!self->playing || !clock) {
    /* Live: nothing flows in PAUSED; audio waits in the queue. */
    g_cond_wait (&self->out_cond, &self->out_lock);
    goto done;
  }
  now = gst_clock_get_time (clock);
  now = now > base_time ? now - base_time : 0;

  /* The timeline continues sample for sample, across answers and silence,
   * as long as its next sample can still be rendered in time: downstream
   * renders running time t at t + latency. Behind a syncing sink the task
   * runs up to that far behind the clock. Further behind (the task was
   * blocked, the clock jumped) it restarts at now. */
  if (GST_CLOCK_TIME_IS_VALID (self->downstream_latency))
    latency = MAX (latency, self->downstream_latency);
  next = gst_bidi_playout_next_time (&self->playout);
  if (GST_CLOCK_TIME_IS_VALID (next) && next + latency < now) {
    GST_DEBUG_OBJECT (self, "output fell %" GST_TIME_FORMAT " behind, "
        "resyncing", GST_TIME_ARGS (now - next));
    gst_bidi_playout_resync (&self->playout, now);
    self->discont = TRUE;
    next = now;
  }

  item = gst_bidi_playout_pop (&self->playout);
  if (item) {
    answer = item->answer;
    n_samples = g_bytes_get_size (item->pcm) / self->playout.bpf;
    goto take;
  }

  if (self->eos_pending)
    goto drained;

  /* Idle: the next piece of silence is due when the clock reaches the end
   * of what was pushed. */
  if (GST_CLOCK_TIME_IS_VALID (next) && next > now) {
    GstClockID id = gst_clock_new_single_shot_id (clock, base_time + next);
    GstClockReturn cret;

    self->clock_id = id;
    g_mutex_unlock (&self->out_lock);
    cret = gst_clock_id_wait (id, NULL);
    g_mutex_lock (&self->out_lock);
    self->clock_id = NULL;
    gst_clock_id_unref (id);
    if (cret == GST_CLOCK_UNSCHEDULED || self->srcresult != GST_FLOW_OK)
      goto done;
    /* New audio may have come in while waiting: go round again. */
    if (!g_queue_is_empty (&self->playout.queue))
      goto done;
  }
  n_samples = (guint64) self->playout.rate * IDLE_CHUNK_MS / 1000;

take:
  ts = gst_bidi_playout_take (&self->playout, answer, n_samples, now, &dur,
      &discont);
  discont |= self->discont;
  self->discont = FALSE;
  queued = gst_bidi_playout_queued_time (&self->playout);
  g_mutex_unlock (&self->out_lock);

  /* The transcript pad follows this timeline. Told before the push, which
   * may wait for a sink to preroll: the text sink needs its GAP for the
   * pipeline to get to PLAYING. */
  captions = get_captions (self);
  if (captions) {
    gst_bidi_captions_progress (captions, ts, dur, answer, queued);
    gst_bidi_captions_unref (captions);
  }

  if (answer == 0 && idle == GST_BIDI_AGENT_IDLE_GAP) {
    GstEvent *gap = gst_event_new_gap (ts, dur);

    if (discont)
      gst_event_set_gap_flags (gap, GST_GAP_FLAG_MISSING_DATA);
    gst_pad_push_event (pad, gap);
    ret = GST_FLOW_OK;
  } else {
    buf = convert_output (self, item ? item->pcm : self->silence,
        n_samples);
    if (item)
      gst_bidi_playout_item_free (item);
    item = NULL;
    GST_BUFFER_PTS (buf) = ts;
    GST_BUFFER_DURATION (buf) = dur;
    if (discont)
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    if (answer == 0)
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
    GST_LOG_OBJECT (self, "pushing %s %" GST_TIME_FORMAT " + %"
        GST_TIME_FORMAT, answer ? "answer" : "silence", GST_TIME_ARGS (ts),
        GST_TIME_ARGS (dur));
    ret = gst_pad_push (pad, buf);
  }
  if (item)
    gst_bidi_playout_item_free (item);

  if (ret != GST_FLOW_OK) {
    g_mutex_lock (&self->out_lock);
    if (self->srcresult == GST_FLOW_OK)
      self->srcresult = ret;
    goto stopping;
  }
  if (clock)
    gst_object_unref (clock);
  return;

done:
  g_mutex_unlock (&self->out_lock);
  if (clock)
    gst_object_unref (clock);
  return;

drained:
  GST_INFO_OBJECT (self, "answer drained, pushing EOS");
  self->srcresult = GST_FLOW_EOS;
  g_mutex_unlock (&self->out_lock);
  captions = get_captions (self);
  if (captions) {
    gst_bidi_captions_eos (captions);
    gst_bidi_captions_unref (captions);
  }
  gst_pad_push_event (pad, gst_event_new_eos ());
  gst_pad_pause_task (pad);
  if (clock)
    gst_object_unref (clock);
  return;

not_negotiated:
  g_mutex_lock (&self->out_lock);
  if (self->srcresult == GST_FLOW_OK)
    self->srcresult = GST_FLOW_NOT_NEGOTIATED;
  clock = NULL;
  /* fall through */
stopping:
  ret = self->srcresult;
  g_mutex_unlock (&self->out_lock);
  GST_DEBUG_OBJECT (self, "pausing task: %s", gst_flow_get_name (ret));
  gst_pad_pause_task (pad);
  if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
    GST_ELEMENT_FLOW_ERROR (self, ret);
    gst_pad_push_event (pad, gst_event_new_eos ());
  }
  if (clock)
    gst_object_unref (clock);
}

static gboolean
gst_bidi_agent_src_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstBidiAgent *self = GST_BIDI_AGENT (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;

  g_mutex_lock (&self->out_lock);
  self->src_active = active;
  self->srcresult = active ? GST_FLOW_OK : GST_FLOW_FLUSHING;
  wake_task_unlocked (self);
  g_mutex_unlock (&self->out_lock);

  if (active)
    return gst_pad_start_task (pad, (GstTaskFunction) gst_bidi_agent_src_loop,
        pad, NULL);
  return gst_pad_stop_task (pad);
}

static gboolean
gst_bidi_agent_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstBidiAgent *self = GST_BIDI_AGENT (parent);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_LATENCY:{
      GstClockTime latency;

      gst_event_parse_latency (event, &latency);
      GST_DEBUG_OBJECT (self, "pipeline latency %" GST_TIME_FORMAT,
          GST_TIME_ARGS (latency));
      g_mutex_lock (&self->out_lock);
      self->downstream_latency = latency;
      g_mutex_unlock (&self->out_lock);
      return gst_pad_event_default (pad, parent, event);
    }
    case GST_EVENT_RECONFIGURE:
      /* the pad's NEED_RECONFIGURE flag is set; the task renegotiates */
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_QOS:
    case GST_EVENT_NAVIGATION:
      gst_event_unref (event);
      return FALSE;
    default:
      return gst_pad_event_default (pad, parent, event);
  }
}

static gboolean
gst_bidi_agent_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstBidiAgent *self = GST_BIDI_AGENT (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:{
      GstQuery *peer = gst_query_new_latency ();
      GstClockTime own, min = 0, max = GST_CLOCK_TIME_NONE;
      gboolean live = FALSE;

      GST_OBJECT_LOCK (self);
      own = self->latency_ms * GST_MSECOND;
      GST_OBJECT_UNLOCK (self);

      if (gst_pad_peer_query (self->sinkpad, peer))
        gst_query_parse_latency (peer, &live, &min, &max);
      gst_query_unref (peer);
      if (!live) {
        min = 0;
        max = GST_CLOCK_TIME_NONE;
      }
      min += own;
      if (GST_CLOCK_TIME_IS_VALID (max))
        max += own;
      GST_DEBUG_OBJECT (self, "latency min %" GST_TIME_FORMAT " max %"
          GST_TIME_FORMAT, GST_TIME_ARGS (min), GST_TIME_ARGS (max));
      gst_query_set_latency (query, TRUE, min, max);
      return TRUE;
    }
    case GST_QUERY_CAPS:{
      GstCaps *filter, *templ, *caps;
      GstAudioInfo out;

      gst_query_parse_caps (query, &filter);
      GST_OBJECT_LOCK (self);
      out = self->prov_out;
      GST_OBJECT_UNLOCK (self);

      templ = gst_pad_get_pad_template_caps (pad);
      if (GST_AUDIO_INFO_FORMAT (&out) != GST_AUDIO_FORMAT_UNKNOWN) {
        /* the provider's own format first: no conversion needed */
        caps = gst_audio_info_to_caps (&out);
        caps = gst_caps_merge (caps, templ);
      } else {
        caps = templ;
      }
      if (filter) {
        GstCaps *tmp = gst_caps_intersect_full (filter, caps,
            GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref (caps);
        caps = tmp;
      }
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    case GST_QUERY_SCHEDULING:
      gst_query_set_scheduling (query, GST_SCHEDULING_FLAG_SEQUENTIAL, 1, -1,
          0);
      gst_query_add_scheduling_mode (query, GST_PAD_MODE_PUSH);
      return TRUE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

/* ------------------------------------------------------------------------
 * Provider events (network thread)
 * ------------------------------------------------------------------------ */

static void net_drain_input (GstBidiAgent * self, gpointer data);

static void
handle_audio (GstBidiAgent * self, GstStructure * event)
{
  GBytes *pcm = NULL;
  const gchar *resp_id = gst_structure_get_string (event, "response_id");
  gint rate = 0, channels = 0;
  gboolean drop;
  gsize size;

  gst_structure_get (event, "audio", G_TYPE_BYTES, &pcm, NULL);
  gst_structure_get_int (event, "sample_rate", &rate);
  gst_structure_get_int (event, "channels", &channels);

  g_mutex_lock (&self->out_lock);
  if (rate != self->playout.rate || channels != self->out_channels) {
    g_mutex_unlock (&self->out_lock);
    GST_WARNING_OBJECT (self, "dropping audio in %d Hz x %d: not the "
        "provider's declared output format", rate, channels);
    goto out;
  }

  size = g_bytes_get_size (pcm);
  if (size % self->playout.bpf) {
    GBytes *whole = g_bytes_new_from_bytes (pcm, 0,
        size - size % self->playout.bpf);
    g_bytes_unref (pcm);
    pcm = whole;
    size = g_bytes_get_size (pcm);
  }

  drop = self->muted || self->srcresult == GST_FLOW_EOS || (resp_id
      && g_strcmp0 (resp_id, self->cancelled_resp_id) == 0);
  if (drop) {
    self->out_dropped_bytes += size;
    g_mutex_unlock (&self->out_lock);
    GST_LOG_OBJECT (self, "dropping %" G_GSIZE_FORMAT " bytes of an "
        "interrupted answer", size);
    goto out;
  }
  if (!self->resp_open) {
    /* audio without bidi_response_start opens an answer of its own */
    self->resp_open = TRUE;
    self->answer_seq++;
    self->n_answers++;
  }
  if (size > 0) {
    gst_bidi_playout_push (&self->playout, pcm, self->answer_seq);
    self->answer_audio_seq = self->answer_seq;
    wake_task_unlocked (self);
    self->hist_audio_ms += gst_util_uint64_scale (size / self->playout.bpf,
        1000, self->playout.rate);
  }
  g_mutex_unlock (&self->out_lock);

out:
  if (pcm)
    g_bytes_unref (pcm);
}

static void net_finish_session (GstBidiAgent * self, const gchar * reason);

static gboolean
drain_timeout_cb (gpointer user_data)
{
  GstBidiAgent *self = user_data;

  GST_WARNING_OBJECT (self, "provider went quiet while draining; ending the "
      "stream after drain-timeout");
  /* the context keeps its own reference until the callback returns */
  g_source_unref (self->drain_source);
  self->drain_source = NULL;
  if (self->stop_requested) {
    net_finish_session (self, "user_request");
    return G_SOURCE_REMOVE;
  }
  request_eos (self);
  return G_SOURCE_REMOVE;
}

/* While draining, any provider activity restarts the drain timeout. */
static void
net_rearm_drain_timeout (GstBidiAgent * self)
{
  guint timeout_ms;

  if (!self->draining)
    return;
  if (self->drain_source) {
    g_source_destroy (self->drain_source);
    g_source_unref (self->drain_source);
    self->drain_source = NULL;
  }

  GST_OBJECT_LOCK (self);
  timeout_ms = self->drain_timeout_ms;
  GST_OBJECT_UNLOCK (self);

  self->drain_source = g_timeout_source_new (timeout_ms);
  g_source_set_callback (self->drain_source, drain_timeout_cb, self, NULL);
  g_source_attach (self->drain_source, g_main_context_get_thread_default ());
}

static void
net_cancel_drain (GstBidiAgent * self)
{
  self->draining = FALSE;
  if (self->drain_source) {
    g_source_destroy (self->drain_source);
    g_source_unref (self->drain_source);
    self->drain_source = NULL;
  }
}

static void
net_send_pending (GstBidiAgent * self, GstBidiProvider * provider)
{
  Input *input;

  net_drain_input (self, NULL);
  while ((input = g_queue_pop_head (&self->pending_inputs))) {
    net_input_send (self, input, provider);
    input_free (input);
  }
  if (self->end_input_pending) {
    self->end_input_pending = FALSE;
    gst_bidi_provider_end_input (provider);
  }
}

/* Ends the session from the element's side (stop_conversation): posts
 * bidi_connection_close, plays what is queued, then EOS. */
static void
net_finish_session (GstBidiAgent * self, const gchar * reason)
{
  GST_INFO_OBJECT (self, "ending the session (%s)", reason);
  self->stop_requested = FALSE;
  net_cancel_drain (self);
  post_event (self, gst_bidi_event_new_connection_close (self->connection_id,
          reason));
  request_eos (self);
}

static gboolean
tool_enabled (GstBidiAgent * self, const gchar * name)
{
  gboolean enabled;

  GST_OBJECT_LOCK (self);
  enabled = self->tools_enabled && name &&
      g_strv_contains ((const gchar * const *) self->tools_enabled, name);
  GST_OBJECT_UNLOCK (self);
  return enabled;
}

/* A call of an application tool, until the application answers or the
 * timeout fires */
struct _PendingCall
{
  gchar *id;
  gchar *name;
  gchar *input;
  GSource *timeout;
};

static void
pending_call_free (PendingCall * pc)
{
  if (pc->timeout) {
    g_source_destroy (pc->timeout);
    g_source_unref (pc->timeout);
  }
  g_free (pc->id);
  g_free (pc->name);
  g_free (pc->input);
  g_free (pc);
}

/* Takes the call @id out of the table; NULL if it is not waiting */
static PendingCall *
pending_call_take (GstBidiAgent * self, const gchar * id)
{
  PendingCall *pc = NULL;

  /* the key is pc->id, freed with it */
  GST_OBJECT_LOCK (self);
  if (id)
    g_hash_table_steal_extended (self->tool_calls, id, NULL,
        (gpointer *) & pc);
  GST_OBJECT_UNLOCK (self);
  return pc;
}

/* Posts tool_result and gives the result to the provider (network
 * thread) */
static void
net_tool_result (GstBidiAgent * self, GstBidiProvider * provider,
    const gchar * id, const gchar * name, const gchar * input,
    const gchar * result, gboolean ok)
{
  GST_DEBUG_OBJECT (self, "tool %s (%s) -> %s", name, id, result);
  hist_add_pair (self, id, name, input, result, !ok);
  post_event (self, gst_bidi_event_new_tool_result (id, ok ? "success" :
          "error", result));
  gst_bidi_provider_send_tool_result (provider, id, name, result,
      ok ? "success" : "error");
}

/* stop_conversation was called: no more user turns; the goodbye the model
 * says next is played, then the session ends (or after drain-timeout of
 * provider silence). At the call, not at its result: the model may say
 * goodbye in the same breath. */
static void
net_begin_stop (GstBidiAgent * self)
{
  GST_INFO_OBJECT (self, "the model ends the conversation");
  g_mutex_lock (&self->in_lock);
  self->in_closed = TRUE;
  g_mutex_unlock (&self->in_lock);
  self->stop_requested = TRUE;
  self->draining = TRUE;
  net_rearm_drain_timeout (self);
}

/* The same, for the provider the element has now */
static void
net_tool_result_now (GstBidiAgent * self, const gchar * id,
    const gchar * name, const gchar * input, const gchar * result,
    gboolean ok)
{
  GstBidiProvider *provider = get_provider (self);

  if (!provider)
    return;
  net_tool_result (self, provider, id, name, input, result, ok);
  gst_object_unref (provider);
}

typedef struct
{
  gchar *id, *name, *input;
  gchar *result;
  gboolean ok;
  guint gen;
} ToolJob;

static guint
get_tool_gen (GstBidiAgent * self)
{
  guint gen;

  GST_OBJECT_LOCK (self);
  gen = self->tool_gen;
  GST_OBJECT_UNLOCK (self);
  return gen;
}

static void
tool_job_free (gpointer data)
{
  ToolJob *job = data;

  g_free (job->id);
  g_free (job->name);
  g_free (job->input);
  g_free (job->result);
  g_free (job);
}

static void
net_tool_job_done (GstBidiAgent * self, gpointer data)
{
  ToolJob *job = data;

  if (job->gen != get_tool_gen (self)) {
    GST_DEBUG_OBJECT (self, "dropping the result of %s: the provider that "
        "asked is gone", job->id);
    return;
  }
  net_tool_result_now (self, job->id, job->name, job->input, job->result,
      job->ok);
}

/* On the element's thread pool: a built-in tool. The element outlives its
 * pool (finalize waits for it). */
static void
builtin_tool_run (gpointer data, gpointer user_data)
{
  ToolJob *job = data;
  GstBidiAgent *self = user_data;

  job->ok = gst_bidi_builtin_tool_run (job->name, job->input, &job->result);
  net_invoke (self, net_tool_job_done, job, tool_job_free);
}

typedef struct
{
  GstBidiAgent *self;
  gchar *id;
} TimeoutData;

static void
timeout_data_free (gpointer data)
{
  TimeoutData *td = data;

  g_free (td->id);
  g_free (td);
}

static gboolean
tool_timeout_cb (gpointer user_data)
{
  TimeoutData *td = user_data;
  GstBidiAgent *self = td->self;
  PendingCall *pc = pending_call_take (self, td->id);
  gchar *message, *result;
  guint ms;

  if (!pc)
    return G_SOURCE_REMOVE;
  GST_OBJECT_LOCK (self);
  ms = self->tool_timeout_ms;
  GST_OBJECT_UNLOCK (self);
  GST_ELEMENT_WARNING (self, RESOURCE, READ,
      ("Tool \"%s\" did not answer within %u ms", pc->name, ms),
      ("tool call %s", pc->id));
  message = g_strdup_printf ("the %s tool did not answer within %u ms",
      pc->name, ms);
  result = gst_bidi_tool_error_json (message);
  net_tool_result_now (self, pc->id, pc->name, pc->input, result, FALSE);
  g_free (message);
  g_free (result);
  /* the source is being dispatched: pending_call_free must not destroy it
   * under our feet twice; let it go with G_SOURCE_REMOVE */
  g_source_unref (pc->timeout);
  pc->timeout = NULL;
  pending_call_free (pc);
  return G_SOURCE_REMOVE;
}

/* An application tool: remembers the call until the application answers
 * or tool-timeout runs out (network thread) */
static gboolean
app_tool_call_add (GstBidiAgent * self, const gchar * id, const gchar * name,
    const gchar * input)
{
  PendingCall *pc;
  guint ms;
  gboolean ok;

  GST_OBJECT_LOCK (self);
  ok = self->app_tools_enabled && name && id &&
      g_strv_contains ((const gchar * const *) self->app_tools_enabled, name)
      && !g_hash_table_contains (self->tool_calls, id);
  ms = self->tool_timeout_ms;
  if (ok) {
    pc = g_new0 (PendingCall, 1);
    pc->id = g_strdup (id);
    pc->name = g_strdup (name);
    pc->input = g_strdup (input);
    if (ms > 0) {
      TimeoutData *td = g_new0 (TimeoutData, 1);

      td->self = self;
      td->id = g_strdup (id);
      pc->timeout = g_timeout_source_new (ms);
      g_source_set_callback (pc->timeout, tool_timeout_cb, td,
          timeout_data_free);
      g_source_attach (pc->timeout, g_main_context_get_thread_default ());
    }
    g_hash_table_insert (self->tool_calls, pc->id, pc);
  }
  GST_OBJECT_UNLOCK (self);
  return ok;
}

/* A tool call from the model (network thread). Built-in tools run on the
 * element's thread pool; application tools go to the application
 * (tool-call signal), whose answer comes back through send-tool-result;
 * anything else gets an error result at once. Nothing here waits. */
static void
handle_tool_use (GstBidiAgent * self, GstStructure * event)
{
  gchar *id = g_strdup (gst_structure_get_string (event, "toolUseId"));
  gchar *name = g_strdup (gst_structure_get_string (event, "name"));
  gchar *input = g_strdup (gst_structure_get_string (event, "input"));
  gboolean taken = FALSE;
  PendingCall *pc;
  gchar *result;

  /* the message owns the event once posted */
  post_event (self, event);

  if (tool_enabled (self, name)) {
    ToolJob *job = g_new0 (ToolJob, 1);

    if (strcmp (name, GST_BIDI_TOOL_STOP_CONVERSATION) == 0)
      net_begin_stop (self);

    job->id = id;
    job->name = name;
    job->input = input;
    job->gen = get_tool_gen (self);
    g_thread_pool_push (self->tool_pool, job, NULL);
    return;
  }

  if (app_tool_call_add (self, id, name, input)) {
    GST_DEBUG_OBJECT (self, "tool %s (%s): asking the application", name, id);
    g_signal_emit (self, signals[SIGNAL_TOOL_CALL], 0, id, name,
        input ? input : "{}", &taken);
    if (taken || !(pc = pending_call_take (self, id)))
      goto done;
    pending_call_free (pc);
    GST_WARNING_OBJECT (self, "no tool-call handler took the call of \"%s\"",
        name);
    result = gst_bidi_tool_error_json ("the application did not take the call");
  } else {
    GST_WARNING_OBJECT (self, "the model called an unknown tool \"%s\"",
        GST_STR_NULL (name));
    result = gst_bidi_tool_error_json ("no such tool");
  }
  net_tool_result_now (self, id, name, input, result, FALSE);
  g_free (result);
done:
  g_free (id);
  g_free (name);
  g_free (input);
}

/* A final transcript for the transcript_src pad (network thread) */
static void
captions_on_transcript (GstBidiAgent * self, const GstStructure * event)
{
  const gchar *role = gst_structure_get_string (event, "role");
  const gchar *text = gst_structure_get_string (event, "text");
  GstBidiAgentTranscriptRoles roles;
  GstBidiCaptions *captions;
  gboolean is_final = FALSE, assistant, prefix, muted;
  guint answer;
  gchar *line;

  if (!gst_structure_get_boolean (event, "is_final", &is_final) ||
      !is_final || !role || !text || !*text)
    return;
  assistant = strcmp (role, "assistant") == 0;

  GST_OBJECT_LOCK (self);
  captions = self->captions ? gst_bidi_captions_ref (self->captions) : NULL;
  roles = self->transcript_roles;
  prefix = self->transcript_prefix;
  GST_OBJECT_UNLOCK (self);
  if (!captions)
    return;
  if (!(roles & (assistant ? GST_BIDI_AGENT_TRANSCRIPT_ASSISTANT :
              GST_BIDI_AGENT_TRANSCRIPT_USER)))
    goto done;

  g_mutex_lock (&self->out_lock);
  answer = assistant ? self->answer_seq : 0;
  muted = self->muted;
  g_mutex_unlock (&self->out_lock);
  /* an answer cut by the user was not heard: no caption for it */
  if (assistant && muted)
    goto done;

  line = prefix ? g_strdup_printf ("%s: %s", assistant ? "Assistant" :
      "User", text) : g_strdup (text);
  gst_bidi_captions_add (captions, line, answer);
  g_free (line);
done:
  gst_bidi_captions_unref (captions);
}

/* The provider finished the current answer (network thread) */
static void
captions_answer_closed (GstBidiAgent * self)
{
  GstBidiCaptions *captions = get_captions (self);
  gboolean had_audio;
  guint answer;

  if (!captions)
    return;
  g_mutex_lock (&self->out_lock);
  answer = self->answer_seq;
  had_audio = self->answer_audio_seq == answer;
  g_mutex_unlock (&self->out_lock);
  gst_bidi_captions_answer_closed (captions, answer, had_audio);
  gst_bidi_captions_unref (captions);
}

static void
on_provider_event (gpointer provider, GstStructure * event, gpointer user_data)
{
  GstBidiAgent *self = user_data;
  const gchar *name = gst_structure_get_name (event);

  net_rearm_drain_timeout (self);

  if (strcmp (name, GST_BIDI_EVENT_AUDIO_STREAM) == 0) {
    handle_audio (self, event);
    gst_structure_free (event);
    return;
  }

  GST_DEBUG_OBJECT (self, "provider event %" GST_PTR_FORMAT, event);

  if (strcmp (name, GST_BIDI_EVENT_INTERRUPTION) == 0) {
    const gchar *reason = gst_structure_get_string (event, "reason");

    do_interrupt (self, reason ? reason : "user_speech", TRUE, FALSE,
        GST_SEQNUM_INVALID);
    gst_structure_free (event);
    return;
  }

  if (strcmp (name, GST_BIDI_EVENT_TOOL_USE_STREAM) == 0) {
    handle_tool_use (self, event);
    return;
  }

  if (strcmp (name, GST_BIDI_EVENT_CONNECTION_START) == 0) {
    g_free (self->connection_id);
    self->connection_id = g_strdup (gst_structure_get_string (event,
            "connection_id"));
    self->net_connected = TRUE;
    set_connected (self, TRUE);
    post_progress (self, GST_PROGRESS_TYPE_COMPLETE, "Connected");
    post_event (self, event);
    net_send_pending (self, provider);
    return;
  }

  if (strcmp (name, GST_BIDI_EVENT_TRANSCRIPT_STREAM) == 0) {
    hist_on_transcript (self, event);
    captions_on_transcript (self, event);
  } else if (strcmp (name, GST_BIDI_EVENT_RESPONSE_START) == 0) {
    /* (an answer to words still being transcribed goes after them) */
    if (!self->hist_user_pending)
      hist_commit_answer (self);
    g_mutex_lock (&self->out_lock);
    self->muted = FALSE;
    self->resp_open = TRUE;
    self->answer_seq++;
    self->n_answers++;
    g_free (self->resp_id);
    self->resp_id = g_strdup (gst_structure_get_string (event,
            "response_id"));
    g_mutex_unlock (&self->out_lock);
  } else if (strcmp (name, GST_BIDI_EVENT_RESPONSE_COMPLETE) == 0) {
    gboolean finish = self->stop_requested && g_strcmp0
        (gst_structure_get_string (event, "stop_reason"), "tool_use") != 0;

    captions_answer_closed (self);
    g_mutex_lock (&self->out_lock);
    self->resp_open = FALSE;
    g_mutex_unlock (&self->out_lock);
    if (finish) {
      /* the goodbye after stop_conversation is complete */
      post_event (self, event);
      net_finish_session (self, "user_request");
      return;
    }
  } else if (strcmp (name, GST_BIDI_EVENT_ERROR) == 0) {
    const gchar *message = gst_structure_get_string (event, "message");
    const gchar *code = gst_structure_get_string (event, "code");

    g_free (self->last_error);
    self->last_error = g_strdup (message);
    self->last_error_code = resource_error_for_code (code);
    /* fatal or not, the application hears of it; a fatal one is followed
     * by bidi_connection_close (error) and becomes an ERROR */
    gst_element_message_full (GST_ELEMENT (self), GST_MESSAGE_WARNING,
        GST_RESOURCE_ERROR, self->last_error_code,
        g_strdup (message ? message : "provider error"),
        g_strdup_printf ("bidi_error, code %s", GST_STR_NULL (code)),
        __FILE__, GST_FUNCTION, __LINE__);
  } else if (strcmp (name, GST_BIDI_EVENT_CONNECTION_CLOSE) == 0) {
    gchar *reason = g_strdup (gst_structure_get_string (event, "reason"));

    /* the message owns the event once posted: read it before */
    self->net_connected = FALSE;
    set_connected (self, FALSE);
    post_event (self, event);
    if (g_strcmp0 (reason, "error") == 0) {
      GError err = { GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        self->last_error ? self->last_error : (gchar *) "connection lost"
      };

      if (self->last_error)
        err.code = self->last_error_code;
      post_provider_error (self, &err, "closed the connection");
    } else {
      /* The session is over: play what is queued, then EOS. */
      hist_flush (self);
      GST_INFO_OBJECT (self, "connection closed (%s), draining",
          GST_STR_NULL (reason));
      net_cancel_drain (self);
      request_eos (self);
    }
    g_free (reason);
    return;
  }

  post_event (self, event);
}

static void
net_provider_start (GstBidiAgent * self, gpointer data)
{
  GstBidiProviderConfig *config = data;
  GstBidiProvider *provider = get_provider (self);
  GError *err = NULL;

  if (!provider)
    return;
  if (!gst_bidi_provider_start (provider, config, &err)) {
    post_progress (self, GST_PROGRESS_TYPE_ERROR, "Connection failed");
    post_provider_error (self, err, "failed to start");
    g_clear_error (&err);
  }
  gst_object_unref (provider);
}

static void
net_provider_stop (GstBidiAgent * self, gpointer data)
{
  GstBidiProvider *provider = data;

  gst_bidi_provider_stop (provider);
  gst_bidi_provider_set_event_func (provider, NULL, NULL, NULL);
  self->net_connected = FALSE;
  self->end_input_pending = FALSE;
  net_cancel_drain (self);
  g_queue_clear_full (&self->pending_inputs, input_free);
  g_clear_pointer (&self->last_error, g_free);
  g_clear_pointer (&self->connection_id, g_free);
  self->stop_requested = FALSE;
  gst_object_unref (provider);
}

static void
net_send_input (GstBidiAgent * self, gpointer data)
{
  Input *input = data;
  GstBidiProvider *provider;

  if (!self->net_connected) {
    /* sent once connected, in order */
    g_queue_push_tail (&self->pending_inputs, input_copy (input));
    return;
  }
  provider = get_provider (self);
  if (provider) {
    net_input_send (self, input, provider);
    gst_object_unref (provider);
  }
}

static gboolean
gst_bidi_agent_send_text (GstBidiAgent * self, const gchar * text)
{
  GstBidiProvider *provider;

  if (!text || !*text)
    return FALSE;
  provider = get_provider (self);
  if (!provider) {
    GST_WARNING_OBJECT (self, "send-text needs the element in PAUSED or "
        "PLAYING");
    return FALSE;
  }
  gst_object_unref (provider);
  return net_invoke (self, net_send_input, input_new_text (text), input_free);
}

/* What the image formats providers take start with */
static const gchar *
image_mime_type (GBytes * data)
{
  gsize size;
  const guint8 *d = g_bytes_get_data (data, &size);

  if (size >= 8 && memcmp (d, "\x89PNG\r\n\x1a\n", 8) == 0)
    return "image/png";
  if (size >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
    return "image/jpeg";
  if (size >= 12 && memcmp (d, "RIFF", 4) == 0 && memcmp (d + 8, "WEBP",
          4) == 0)
    return "image/webp";
  return NULL;
}

static gboolean
gst_bidi_agent_send_image (GstBidiAgent * self, GBytes * data,
    const gchar * mime)
{
  GstBidiProvider *provider;
  const gchar *found;

  if (!data || g_bytes_get_size (data) == 0)
    goto no_data;
  found = image_mime_type (data);
  if (!found)
    goto bad_format;
  if (mime && *mime && g_ascii_strcasecmp (mime, found) != 0)
    GST_WARNING_OBJECT (self, "send-image: the data is %s, not %s", found,
        mime);
  provider = get_provider (self);
  if (!provider) {
    GST_WARNING_OBJECT (self, "send-image needs the element in PAUSED or "
        "PLAYING");
    return FALSE;
  }
  gst_object_unref (provider);
  return net_invoke (self, net_send_input, input_new_image (data, found),
      input_free);

  /* ERRORS */
no_data:
  {
    GST_WARNING_OBJECT (self, "send-image: no data");
    return FALSE;
  }
bad_format:
  {
    GST_WARNING_OBJECT (self, "send-image: not a PNG, JPEG or WebP image");
    return FALSE;
  }
}

static gboolean
gst_bidi_agent_send_tool_result (GstBidiAgent * self,
    const gchar * tool_use_id, const gchar * result, const gchar * status)
{
  PendingCall *pc;
  ToolJob *job;
  JsonNode *node;

  if (g_strcmp0 (status, "success") != 0 && g_strcmp0 (status, "error") != 0)
    goto bad_status;
  if (!(pc = pending_call_take (self, tool_use_id)))
    goto unknown_id;

  job = g_new0 (ToolJob, 1);
  job->id = g_strdup (pc->id);
  job->name = g_strdup (pc->name);
  job->input = g_strdup (pc->input);
  job->gen = get_tool_gen (self);
  job->ok = strcmp (status, "success") == 0;
  pending_call_free (pc);
  /* JSON as it is; anything else is text, sent as a JSON string */
  node = result ? json_from_string (result, NULL) : NULL;
  if (!node)
    node = json_node_init_string (json_node_alloc (), result ? result : "");
  job->result = json_to_string (node, FALSE);
  json_node_unref (node);
  return net_invoke (self, net_tool_job_done, job, tool_job_free);

  /* ERRORS */
bad_status:
  {
    GST_WARNING_OBJECT (self, "send-tool-result: status must be \"success\" "
        "or \"error\", not \"%s\"", GST_STR_NULL (status));
    return FALSE;
  }
unknown_id:
  {
    GST_WARNING_OBJECT (self, "send-tool-result: no tool call \"%s\" is "
        "waiting for an answer (unknown, answered, or timed out)",
        GST_STR_NULL (tool_use_id));
    return FALSE;
  }
}

/* ------------------------------------------------------------------------
 * Input: sink pad -> converter -> chunks -> network thread
 * ------------------------------------------------------------------------ */

static void
net_drain_input (GstBidiAgent * self, G_GNUC_UNUSED gpointer data)
{
  GstBidiProvider *provider;
  GQueue chunks = G_QUEUE_INIT;
  GBytes *chunk;

  g_mutex_lock (&self->in_lock);
  self->in_scheduled = FALSE;
  if (!self->net_connected) {
    g_mutex_unlock (&self->in_lock);
    return;
  }
  chunks = self->in_queue;
  g_queue_init (&self->in_queue);
  self->in_queued_bytes = 0;
  self->in_dropping = FALSE;
  g_cond_broadcast (&self->in_cond);
  g_mutex_unlock (&self->in_lock);

  provider = get_provider (self);
  while ((chunk = g_queue_pop_head (&chunks))) {
    if (provider)
      gst_bidi_provider_send_audio (provider, chunk);
    g_bytes_unref (chunk);
  }
  if (provider)
    gst_object_unref (provider);
}

/* Hands a chunk to the network thread. Live input never waits: past
 * input-buffer-ms the oldest audio goes. Non-live input (a file) waits for
 * room instead, so nothing is lost. */
static GstFlowReturn
queue_input (GstBidiAgent * self, GBytes * chunk)
{
  gboolean schedule, warn = FALSE;
  guint64 dropped_total = 0;

  g_mutex_lock (&self->in_lock);
  while (!self->in_flushing && !self->upstream_live &&
      self->in_queued_bytes > 0 &&
      self->in_queued_bytes + g_bytes_get_size (chunk) > self->in_max_bytes)
    g_cond_wait (&self->in_cond, &self->in_lock);

  if (self->in_flushing) {
    g_mutex_unlock (&self->in_lock);
    g_bytes_unref (chunk);
    return GST_FLOW_FLUSHING;
  }
  if (self->in_closed) {
    /* the conversation was stopped: nobody listens any more */
    g_mutex_unlock (&self->in_lock);
    g_bytes_unref (chunk);
    return GST_FLOW_OK;
  }

  g_queue_push_tail (&self->in_queue, chunk);
  self->in_queued_bytes += g_bytes_get_size (chunk);
  while (self->in_queued_bytes > self->in_max_bytes &&
      g_queue_get_length (&self->in_queue) > 1) {
    GBytes *old = g_queue_pop_head (&self->in_queue);

    self->in_queued_bytes -= g_bytes_get_size (old);
    self->in_dropped_bytes += g_bytes_get_size (old);
    g_bytes_unref (old);
    if (!self->in_dropping) {
      self->in_dropping = TRUE;
      warn = TRUE;
    }
  }
  dropped_total = self->in_dropped_bytes;
  schedule = !self->in_scheduled;
  self->in_scheduled = TRUE;
  g_mutex_unlock (&self->in_lock);

  if (warn)
    GST_ELEMENT_WARNING (self, STREAM, FAILED,
        ("Input buffer full: the provider is not taking audio, dropping "
            "the oldest"), ("%" G_GUINT64_FORMAT " bytes dropped so far",
            dropped_total));

  if (schedule)
    net_invoke (self, net_drain_input, NULL, NULL);
  return GST_FLOW_OK;
}

static GstFlowReturn
send_chunks (GstBidiAgent * self, gboolean partial)
{
  GstFlowReturn ret = GST_FLOW_OK;

  while (ret == GST_FLOW_OK && self->in_chunk_bytes > 0 &&
      (self->in_acc->len >= self->in_chunk_bytes ||
          (partial && self->in_acc->len > 0))) {
    gsize n = MIN (self->in_acc->len, self->in_chunk_bytes);
    GBytes *chunk = g_bytes_new (self->in_acc->data, n);

    g_byte_array_remove_range (self->in_acc, 0, n);
    ret = queue_input (self, chunk);
  }
  return ret;
}

static GstFlowReturn
gst_bidi_agent_chain (G_GNUC_UNUSED GstPad * pad, GstObject * parent,
    GstBuffer * buffer)
{
  GstBidiAgent *self = GST_BIDI_AGENT (parent);
  GstMapInfo map;
  gsize in_frames;

  if (GST_AUDIO_INFO_FORMAT (&self->in_info) == GST_AUDIO_FORMAT_UNKNOWN
      || self->in_chunk_bytes == 0)
    goto not_negotiated;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    goto map_failed;
  in_frames = map.size / GST_AUDIO_INFO_BPF (&self->in_info);

  if (!self->in_conv) {
    g_byte_array_append (self->in_acc, map.data,
        in_frames * GST_AUDIO_INFO_BPF (&self->in_info));
  } else if (in_frames > 0) {
    gsize out_frames = gst_audio_converter_get_out_frames (self->in_conv,
        in_frames);
    gsize old_len = self->in_acc->len;
    gpointer in[1], out[1];

    g_byte_array_set_size (self->in_acc,
        old_len + out_frames * GST_AUDIO_INFO_BPF (&self->prov_in));
    in[0] = map.data;
    out[0] = self->in_acc->data + old_len;
    if (!gst_audio_converter_samples (self->in_conv,
            GST_AUDIO_CONVERTER_FLAG_NONE, in, in_frames, out, out_frames)) {
      g_byte_array_set_size (self->in_acc, old_len);
      gst_buffer_unmap (buffer, &map);
      goto convert_failed;
    }
  }
  gst_buffer_unmap (buffer, &map);
  gst_buffer_unref (buffer);

  return send_chunks (self, FALSE);

  /* ERRORS */
not_negotiated:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("no caps on the sink pad before the first buffer"));
    gst_buffer_unref (buffer);
    return GST_FLOW_NOT_NEGOTIATED;
  }
map_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, (NULL),
        ("could not map an input buffer"));
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
convert_failed:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("could not convert the input audio"));
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
}

static gboolean
sink_setcaps (GstBidiAgent * self, GstCaps * caps)
{
  GstAudioInfo info, prov_in;
  GstAudioConverter *conv = NULL;
  guint chunk_ms;

  if (!gst_audio_info_from_caps (&info, caps))
    goto invalid_caps;

  GST_OBJECT_LOCK (self);
  prov_in = self->prov_in;
  chunk_ms = self->input_chunk_ms;
  GST_OBJECT_UNLOCK (self);

  if (GST_AUDIO_INFO_FORMAT (&prov_in) == GST_AUDIO_FORMAT_UNKNOWN)
    goto no_provider;

  if (!gst_audio_info_is_equal (&info, &prov_in)) {
    conv = gst_audio_converter_new (GST_AUDIO_CONVERTER_FLAG_NONE, &info,
        &prov_in, NULL);
    if (!conv)
      goto no_converter;
  }

  GST_INFO_OBJECT (self, "input %" GST_PTR_FORMAT " -> %d Hz x %d %s", caps,
      GST_AUDIO_INFO_RATE (&prov_in), GST_AUDIO_INFO_CHANNELS (&prov_in),
      GST_AUDIO_INFO_NAME (&prov_in));

  /* Already converted samples stay in in_acc: they are in the provider's
   * format whatever the input was. */
  if (self->in_conv)
    gst_audio_converter_free (self->in_conv);
  self->in_conv = conv;
  self->in_info = info;
  self->in_chunk_bytes = (gsize) GST_AUDIO_INFO_RATE (&prov_in) * chunk_ms /
      1000 * GST_AUDIO_INFO_BPF (&prov_in);
  return TRUE;

  /* ERRORS */
invalid_caps:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, (NULL),
        ("invalid input caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
no_provider:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("input caps before the provider was set up"));
    return FALSE;
  }
no_converter:
  {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Cannot convert the input audio to what the provider takes"),
        ("no converter from %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
}

/* Whether upstream is live: decides drop-oldest versus waiting when the
 * input buffer is full. */
static void
sink_query_live (GstBidiAgent * self)
{
  GstQuery *query = gst_query_new_latency ();
  gboolean live = TRUE;

  if (gst_pad_peer_query (self->sinkpad, query))
    gst_query_parse_latency (query, &live, NULL, NULL);
  gst_query_unref (query);

  g_mutex_lock (&self->in_lock);
  self->upstream_live = live;
  g_mutex_unlock (&self->in_lock);
  GST_DEBUG_OBJECT (self, "upstream is %slive", live ? "" : "not ");
}

static void
net_end_input (GstBidiAgent * self, G_GNUC_UNUSED gpointer data)
{
  GstBidiProvider *provider;

  self->draining = TRUE;
  net_rearm_drain_timeout (self);

  net_drain_input (self, NULL);
  if (!self->net_connected) {
    self->end_input_pending = TRUE;
    return;
  }
  provider = get_provider (self);
  if (provider) {
    gst_bidi_provider_end_input (provider);
    gst_object_unref (provider);
  }
}

static void
net_input_flushed (GstBidiAgent * self, G_GNUC_UNUSED gpointer data)
{
  self->end_input_pending = FALSE;
  net_cancel_drain (self);
}

static void
input_reset (GstBidiAgent * self)
{
  g_mutex_lock (&self->in_lock);
  g_queue_clear_full (&self->in_queue, (GDestroyNotify) g_bytes_unref);
  self->in_queued_bytes = 0;
  self->in_dropping = FALSE;
  g_mutex_unlock (&self->in_lock);
  g_byte_array_set_size (self->in_acc, 0);
  if (self->in_conv)
    gst_audio_converter_reset (self->in_conv);
}

static gboolean
gst_bidi_agent_sink_event (G_GNUC_UNUSED GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstBidiAgent *self = GST_BIDI_AGENT (parent);
  gboolean ret = TRUE;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;

      gst_event_parse_caps (event, &caps);
      ret = sink_setcaps (self, caps);
      sink_query_live (self);
      break;
    }
    case GST_EVENT_EOS:
      GST_INFO_OBJECT (self, "input ended, telling the provider");
      send_chunks (self, TRUE);
      net_invoke (self, net_end_input, NULL, NULL);
      break;
    case GST_EVENT_FLUSH_START:
      g_mutex_lock (&self->in_lock);
      self->in_flushing = TRUE;
      g_cond_broadcast (&self->in_cond);
      g_mutex_unlock (&self->in_lock);
      /* A new input stream follows: forget the end of the old one. */
      g_mutex_lock (&self->out_lock);
      self->eos_pending = FALSE;
      g_mutex_unlock (&self->out_lock);
      net_invoke (self, net_input_flushed, NULL, NULL);
      /* Downstream sees the flush too (it may be the seek it asked for);
       * an answer being played is cut as by the interrupt signal. */
      do_interrupt (self, "user_speech", FALSE, TRUE,
          gst_event_get_seqnum (event));
      break;
    case GST_EVENT_FLUSH_STOP:
      input_reset (self);
      g_mutex_lock (&self->in_lock);
      self->in_flushing = FALSE;
      g_mutex_unlock (&self->in_lock);
      break;
    default:
      /* Stream-start, segment, tags ... belong to the input stream; the
       * src pad has a live stream of its own. */
      break;
  }
  gst_event_unref (event);
  return ret;
}

static gboolean
gst_bidi_agent_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_ALLOCATION:
      /* the input is consumed here; no downstream pool applies */
      return FALSE;
    case GST_QUERY_CAPS:{
      GstCaps *filter, *caps = gst_pad_get_pad_template_caps (pad);

      gst_query_parse_caps (query, &filter);
      if (filter) {
        GstCaps *tmp = gst_caps_intersect_full (filter, caps,
            GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref (caps);
        caps = tmp;
      }
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static gboolean
gst_bidi_agent_sink_activate_mode (G_GNUC_UNUSED GstPad * pad,
    GstObject * parent, GstPadMode mode, gboolean active)
{
  GstBidiAgent *self = GST_BIDI_AGENT (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;

  g_mutex_lock (&self->in_lock);
  self->in_flushing = !active;
  g_cond_broadcast (&self->in_cond);
  g_mutex_unlock (&self->in_lock);
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Request pads: text_sink, transcript_src, image_sink
 * ------------------------------------------------------------------------ */

/* text_sink: each buffer is one message from the user, as typed */
static GstFlowReturn
gst_bidi_agent_text_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstBidiAgent *self = GST_BIDI_AGENT (parent);
  GstMapInfo map;
  gchar *text;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL),
        ("could not map a text_sink buffer"));
    return GST_FLOW_ERROR;
  }
  if (g_utf8_validate_len ((const gchar *) map.data, map.size, NULL)) {
    text = g_strndup ((const gchar *) map.data, map.size);
  } else {
    /* say so, and send what can be read rather than nothing */
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        ("Text on text_sink is not valid UTF-8: the bad bytes were "
            "replaced"), ("%" G_GSIZE_FORMAT " bytes", map.size));
    text = g_utf8_make_valid ((const gchar *) map.data, map.size);
  }
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);

  g_strstrip (text);
  if (*text) {
    GST_DEBUG_OBJECT (pad, "user text: %s", text);
    gst_bidi_agent_send_text (self, text);
  }
  g_free (text);
  return GST_FLOW_OK;
}

/* image_sink and text_sink: events end here; their EOS ends that input
 * only, never the conversation */
static gboolean
gst_bidi_agent_aux_sink_event (GstPad * pad, G_GNUC_UNUSED GstObject * parent,
    GstEvent * event)
{
  GST_LOG_OBJECT (pad, "%" GST_PTR_FORMAT, event);
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
    GST_INFO_OBJECT (pad, "input ended; the conversation goes on");
  gst_event_unref (event);
  return TRUE;
}

static gboolean
gst_bidi_agent_aux_sink_query (GstPad * pad, GstObject * parent,
    GstQuery * query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      GstCaps *filter, *caps = gst_pad_get_pad_template_caps (pad);

      gst_query_parse_caps (query, &filter);
      if (filter) {
        GstCaps *both = gst_caps_intersect_full (filter, caps,
            GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref (caps);
        caps = both;
      }
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS:
    case GST_QUERY_ALLOCATION:
      return gst_pad_query_default (pad, parent, query);
    default:
      /* nothing flows on from these pads */
      return FALSE;
  }
}

static gboolean
image_timer_cb (gpointer user_data)
{
  GstBidiAgent *self = user_data;
  const gchar *mime = NULL;
  GBytes *data = NULL;

  GST_OBJECT_LOCK (self);
  if (self->img_timer) {
    g_source_unref (self->img_timer);
    self->img_timer = NULL;
    data = self->img_pending;
    mime = self->img_pending_mime;
    self->img_pending = NULL;
    if (data)
      self->img_last_sent = g_get_monotonic_time ();
  }
  GST_OBJECT_UNLOCK (self);

  if (data) {
    GST_LOG_OBJECT (self, "sending the newest image_sink frame");
    gst_bidi_agent_send_image (self, data, mime);
    g_bytes_unref (data);
  }
  return G_SOURCE_REMOVE;
}

/* Forgets the frame waiting and its timer (a new session, a released pad) */
static void
images_reset (GstBidiAgent * self)
{
  GSource *timer;
  GBytes *pending;

  GST_OBJECT_LOCK (self);
  timer = self->img_timer;
  pending = self->img_pending;
  self->img_timer = NULL;
  self->img_pending = NULL;
  self->img_last_sent = 0;
  self->img_warned = FALSE;
  GST_OBJECT_UNLOCK (self);

  if (timer) {
    g_source_destroy (timer);
    g_source_unref (timer);
  }
  if (pending)
    g_bytes_unref (pending);
}

/* image_sink: at most one frame per image-interval-ms goes to the model,
 * the newest one. Frames that wait do so here, not on the network thread,
 * which wakes up only to send. */
static GstFlowReturn
gst_bidi_agent_image_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstBidiAgent *self = GST_BIDI_AGENT (parent);
  GstBidiProvider *provider;
  GMainContext *ctx = NULL;
  const gchar *mime;
  gboolean takes_images, warn = FALSE, send_now = FALSE;
  GBytes *data, *old = NULL;
  gint64 now, interval;
  gpointer bytes;
  gsize size;

  provider = get_provider (self);
  if (!provider) {
    gst_buffer_unref (buf);
    return GST_FLOW_FLUSHING;
  }
  takes_images = GST_BIDI_PROVIDER_GET_CLASS (provider)->send_image != NULL;
  gst_object_unref (provider);

  if (!takes_images) {
    GST_OBJECT_LOCK (self);
    warn = !self->img_warned;
    self->img_warned = TRUE;
    GST_OBJECT_UNLOCK (self);
    if (warn)
      GST_ELEMENT_WARNING (self, STREAM, NOT_IMPLEMENTED,
          ("The \"%s\" provider takes no images: the frames on image_sink "
              "are dropped", GST_STR_NULL (self->provider_name)), (NULL));
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }

  size = gst_buffer_get_size (buf);
  gst_buffer_extract_dup (buf, 0, size, &bytes, &size);
  gst_buffer_unref (buf);
  data = g_bytes_new_take (bytes, size);
  mime = image_mime_type (data);
  if (!mime || strcmp (mime, "image/webp") == 0) {
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("A frame on image_sink is not a JPEG or PNG image; dropped"),
        ("%" G_GSIZE_FORMAT " bytes", size));
    g_bytes_unref (data);
    return GST_FLOW_OK;
  }

  g_mutex_lock (&self->net_lock);
  if (self->net_ctx)
    ctx = g_main_context_ref (self->net_ctx);
  g_mutex_unlock (&self->net_lock);
  if (!ctx) {
    g_bytes_unref (data);
    return GST_FLOW_FLUSHING;
  }

  now = g_get_monotonic_time ();
  GST_OBJECT_LOCK (self);
  interval = (gint64) self->image_interval_ms * 1000;
  if (!self->img_timer && (self->img_last_sent == 0 ||
          now - self->img_last_sent >= interval)) {
    send_now = TRUE;
    self->img_last_sent = now;
  } else {
    /* the newest frame wins */
    old = self->img_pending;
    self->img_pending = g_bytes_ref (data);
    self->img_pending_mime = mime;
    if (!self->img_timer) {
      gint64 wait = self->img_last_sent + interval - now;

      self->img_timer = g_timeout_source_new (MAX (wait, 0) / 1000);
      g_source_set_callback (self->img_timer, image_timer_cb, self, NULL);
      g_source_set_name (self->img_timer, "bidiagent-image");
      g_source_attach (self->img_timer, ctx);
    }
  }
  GST_OBJECT_UNLOCK (self);
  g_main_context_unref (ctx);

  if (old) {
    GST_LOG_OBJECT (pad, "a newer frame replaces the one waiting");
    g_bytes_unref (old);
  }
  if (send_now)
    gst_bidi_agent_send_image (self, data, mime);
  g_bytes_unref (data);
  return GST_FLOW_OK;
}

static gboolean
gst_bidi_agent_transcript_activate_mode (GstPad * pad,
    G_GNUC_UNUSED GstObject * parent,
    GstPadMode mode, gboolean active)
{
  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  return gst_bidi_captions_activate (gst_pad_get_element_private (pad),
      active);
}

static gboolean
gst_bidi_agent_transcript_query (GstPad * pad, GstObject * parent,
    GstQuery * query)
{
  GstBidiAgent *self = GST_BIDI_AGENT (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:
      /* on the audio's timeline, with the audio's latency */
      return gst_bidi_agent_src_query (self->srcpad, parent, query);
    case GST_QUERY_CAPS:
      return gst_bidi_agent_aux_sink_query (pad, parent, query);
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static gboolean
gst_bidi_agent_transcript_event (G_GNUC_UNUSED GstPad * pad,
    G_GNUC_UNUSED GstObject * parent, GstEvent * event)
{
  /* upstream events of the text branch (QOS, navigation...) stop here */
  gboolean handled = GST_EVENT_TYPE (event) == GST_EVENT_RECONFIGURE;

  gst_event_unref (event);
  return handled;
}

static GstPad *
gst_bidi_agent_request_new_pad (GstElement * element, GstPadTemplate * templ,
    G_GNUC_UNUSED const gchar * name, G_GNUC_UNUSED const GstCaps * caps)
{
  GstBidiAgent *self = GST_BIDI_AGENT (element);
  const gchar *tname = GST_PAD_TEMPLATE_NAME_TEMPLATE (templ);
  GstPad **slot, *pad;

  if (strcmp (tname, "text_sink") == 0)
    slot = &self->text_sinkpad;
  else if (strcmp (tname, "transcript_src") == 0)
    slot = &self->transcript_srcpad;
  else if (strcmp (tname, "image_sink") == 0)
    slot = &self->image_sinkpad;
  else
    return NULL;

  GST_OBJECT_LOCK (self);
  if (*slot) {
    GST_OBJECT_UNLOCK (self);
    GST_WARNING_OBJECT (self, "there is already a %s pad", tname);
    return NULL;
  }
  pad = gst_pad_new_from_template (templ, tname);
  *slot = pad;
  GST_OBJECT_UNLOCK (self);

  if (slot == &self->transcript_srcpad) {
    GstBidiCaptions *captions = gst_bidi_captions_new (pad);

    gst_pad_set_element_private (pad, captions);
    gst_pad_set_activatemode_function (pad,
        GST_DEBUG_FUNCPTR (gst_bidi_agent_transcript_activate_mode));
    gst_pad_set_query_function (pad,
        GST_DEBUG_FUNCPTR (gst_bidi_agent_transcript_query));
    gst_pad_set_event_function (pad,
        GST_DEBUG_FUNCPTR (gst_bidi_agent_transcript_event));
    GST_OBJECT_LOCK (self);
    self->captions = captions;
    GST_OBJECT_UNLOCK (self);
  } else {
    gst_pad_set_chain_function (pad, slot == &self->text_sinkpad ?
        GST_DEBUG_FUNCPTR (gst_bidi_agent_text_chain) :
        GST_DEBUG_FUNCPTR (gst_bidi_agent_image_chain));
    gst_pad_set_event_function (pad,
        GST_DEBUG_FUNCPTR (gst_bidi_agent_aux_sink_event));
    gst_pad_set_query_function (pad,
        GST_DEBUG_FUNCPTR (gst_bidi_agent_aux_sink_query));
  }

  /* added while PAUSED or PLAYING: it is activated by add_pad */
  gst_element_add_pad (element, pad);
  GST_INFO_OBJECT (self, "added %s", tname);
  return pad;
}

static void
gst_bidi_agent_release_pad (GstElement * element, GstPad * pad)
{
  GstBidiAgent *self = GST_BIDI_AGENT (element);
  GstBidiCaptions *captions = NULL;
  gboolean image = FALSE;

  GST_OBJECT_LOCK (self);
  if (pad == self->text_sinkpad) {
    self->text_sinkpad = NULL;
  } else if (pad == self->image_sinkpad) {
    self->image_sinkpad = NULL;
    image = TRUE;
  } else if (pad == self->transcript_srcpad) {
    self->transcript_srcpad = NULL;
    captions = self->captions;
    self->captions = NULL;
  } else {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  GST_OBJECT_UNLOCK (self);

  GST_INFO_OBJECT (self, "releasing %s:%s", GST_DEBUG_PAD_NAME (pad));
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
  if (image)
    images_reset (self);
  if (captions)
    gst_bidi_captions_unref (captions);
}

/* ------------------------------------------------------------------------
 * States
 * ------------------------------------------------------------------------ */

/* NULL -> READY..PAUSED: create and configure the provider. */
static gboolean
setup_provider (GstBidiAgent * self, GstBidiProviderConfig ** config_out)
{
  GstBidiProviderConfig *config;
  GstBidiProvider *provider = NULL;
  GstAudioInfo in, out;
  GError *err = NULL;
  gchar *name, **tools = NULL, *bad_tool = NULL, *app_tools, *builtin;
  gchar **app_names = NULL;
  guint buffer_ms, i, j;

  GST_OBJECT_LOCK (self);
  name = g_strdup (self->provider_name);
  config = gst_bidi_provider_config_copy (self->settings);
  buffer_ms = self->input_buffer_ms;
  builtin = g_strdup (self->builtin_tools);
  app_tools = g_strdup (self->app_tools);
  GST_OBJECT_UNLOCK (self);

  provider = gst_bidi_provider_new (name, &err);
  if (!provider) {
    g_free (builtin);
    goto no_provider;
  }
  if (builtin && g_ascii_strcasecmp (g_strstrip (builtin), "auto") == 0) {
    g_free (builtin);
    builtin = g_strdup (GST_BIDI_PROVIDER_GET_CLASS (provider)->builtin_tools);
  }
  tools = g_strsplit_set (builtin ? builtin : "", ", \t", -1);
  g_free (builtin);

  /* drop the empty pieces, refuse unknown names */
  for (i = 0, j = 0; tools[i]; i++) {
    if (!*tools[i]) {
      g_free (tools[i]);
      continue;
    }
    if (!gst_bidi_builtin_tool_exists (tools[i]))
      bad_tool = bad_tool ? bad_tool : tools[i];
    tools[j++] = tools[i];
  }
  tools[j] = NULL;
  if (bad_tool)
    goto unknown_tool;
  g_free (config->tools_json);
  if (!gst_bidi_tools_merge ((const gchar * const *) tools, app_tools,
          &config->tools_json, &app_names, &err))
    goto bad_tools;
  if (!hist_setup (self, &err))
    goto bad_history;
  g_free (config->history_json);
  config->history_json = gst_bidi_history_length (self->history) > 0 ?
      gst_bidi_history_to_json (self->history) : NULL;
  config->history = self->history;

  GST_INFO_OBJECT (self, "provider %s, model %s, api-key %s",
      GST_STR_NULL (name), GST_STR_NULL (config->model),
      config->api_key ? "set" : "not set");

  if (!gst_bidi_provider_configure (provider, config, &err))
    goto bad_config;

  gst_audio_info_init (&in);
  gst_audio_info_init (&out);
  gst_bidi_provider_get_audio_formats (provider, &in, &out);
  if (GST_AUDIO_INFO_FORMAT (&in) == GST_AUDIO_FORMAT_UNKNOWN ||
      GST_AUDIO_INFO_FORMAT (&out) == GST_AUDIO_FORMAT_UNKNOWN)
    goto no_formats;

  gst_bidi_provider_set_event_func (provider, on_provider_event, self, NULL);

  GST_OBJECT_LOCK (self);
  gst_object_replace ((GstObject **) & self->provider, GST_OBJECT (provider));
  self->prov_in = in;
  self->prov_out = out;
  g_strfreev (self->tools_enabled);
  self->tools_enabled = tools;
  g_strfreev (self->app_tools_enabled);
  self->app_tools_enabled = app_names;
  g_hash_table_remove_all (self->tool_calls);
  self->tool_gen++;
  GST_OBJECT_UNLOCK (self);
  gst_object_unref (provider);

  g_mutex_lock (&self->in_lock);
  self->in_max_bytes = MAX ((guint64) GST_AUDIO_INFO_RATE (&in) * buffer_ms /
      1000 * GST_AUDIO_INFO_BPF (&in), (guint64) GST_AUDIO_INFO_BPF (&in));
  self->in_dropped_bytes = 0;
  self->in_closed = FALSE;
  g_mutex_unlock (&self->in_lock);

  g_mutex_lock (&self->out_lock);
  gst_bidi_playout_clear (&self->playout);
  gst_bidi_playout_end_answer (&self->playout);
  gst_bidi_playout_set_format (&self->playout, &out);
  self->out_channels = GST_AUDIO_INFO_CHANNELS (&out);
  gst_bidi_playout_resync (&self->playout, GST_CLOCK_TIME_NONE);
  self->resp_open = FALSE;
  self->muted = FALSE;
  self->eos_pending = FALSE;
  self->need_segment = TRUE;
  self->discont = TRUE;
  self->segment_seqnum = GST_SEQNUM_INVALID;
  self->downstream_latency = GST_CLOCK_TIME_NONE;
  self->out_dropped_bytes = 0;
  self->n_answers = 0;
  self->n_interruptions = 0;
  g_clear_pointer (&self->resp_id, g_free);
  g_clear_pointer (&self->cancelled_resp_id, g_free);
  g_mutex_unlock (&self->out_lock);

  self->need_stream_start = TRUE;
  self->need_caps = TRUE;
  gst_audio_info_init (&self->in_info);
  self->in_chunk_bytes = 0;

  g_free (name);
  g_free (app_tools);
  *config_out = config;
  return TRUE;

  /* ERRORS */
unknown_tool:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Unknown built-in tool \"%s\" (there are: %s)", bad_tool,
            GST_BIDI_BUILTIN_TOOLS_ALL), ("builtin-tools property"));
    g_strfreev (tools);
    goto fail;
  }
bad_history:
  {
    gst_element_message_full (GST_ELEMENT (self), GST_MESSAGE_ERROR,
        GST_RESOURCE_ERROR, err->code, g_strdup (err->message),
        g_strdup ("messages or session-file property"), __FILE__,
        GST_FUNCTION, __LINE__);
    goto fail;
  }
bad_tools:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", err->message),
        ("tools property"));
    goto fail;
  }
no_provider:
  {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("%s", err->message),
        ("provider property: %s", GST_STR_NULL (name)));
    goto fail;
  }
bad_config:
  {
    /* with the provider's code: a missing key is NOT_AUTHORIZED */
    gst_element_message_full (GST_ELEMENT (self), GST_MESSAGE_ERROR,
        GST_RESOURCE_ERROR, err->domain == GST_RESOURCE_ERROR ? err->code :
        GST_RESOURCE_ERROR_SETTINGS, g_strdup (err->message),
        g_strdup_printf ("provider %s refused its configuration", name),
        __FILE__, GST_FUNCTION, __LINE__);
    goto fail;
  }
no_formats:
  {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Provider \"%s\" did not say which audio formats it uses", name),
        (NULL));
    goto fail;
  }
fail:
  g_clear_error (&err);
  if (provider)
    gst_object_unref (provider);
  if (!bad_tool)
    g_strfreev (tools);
  g_strfreev (app_names);
  g_free (app_tools);
  gst_bidi_provider_config_free (config);
  g_free (name);
  return FALSE;
}

static void
teardown_provider (GstBidiAgent * self)
{
  GstBidiProvider *provider;
  gboolean was_connected;

  GST_OBJECT_LOCK (self);
  provider = self->provider;
  self->provider = NULL;
  was_connected = self->connected;
  GST_OBJECT_UNLOCK (self);

  if (provider) {
    /* stop on the network thread, which owns its sockets and timers */
    if (!net_invoke_full (self, net_provider_stop, provider, NULL, TRUE))
      gst_object_unref (provider);
    if (!was_connected)
      post_progress (self, GST_PROGRESS_TYPE_CANCELED, "Not connected");
  }
  set_connected (self, FALSE);

  /* the provider is stopped: what it said last is history, the file is
   * free for another pipeline */
  hist_flush (self);
  gst_bidi_history_close_file (self->history);

  /* calls of the provider that is gone are answered by nobody */
  GST_OBJECT_LOCK (self);
  g_hash_table_remove_all (self->tool_calls);
  self->tool_gen++;
  GST_OBJECT_UNLOCK (self);

  input_reset (self);
  images_reset (self);
  if (self->in_conv)
    gst_audio_converter_free (self->in_conv);
  self->in_conv = NULL;

  g_mutex_lock (&self->out_lock);
  gst_bidi_playout_clear (&self->playout);
  gst_bidi_playout_end_answer (&self->playout);
  g_mutex_unlock (&self->out_lock);

  if (self->out_conv)
    gst_audio_converter_free (self->out_conv);
  self->out_conv = NULL;
}

static GstStateChangeReturn
gst_bidi_agent_change_state (GstElement * element, GstStateChange transition)
{
  GstBidiAgent *self = GST_BIDI_AGENT (element);
  GstStateChangeReturn ret;
  GstBidiProviderConfig *config = NULL;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      net_thread_start (self);
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!setup_provider (self, &config))
        return GST_STATE_CHANGE_FAILURE;
      post_progress (self, GST_PROGRESS_TYPE_START, "Connecting");
      net_invoke (self, net_provider_start, config,
          (GDestroyNotify) gst_bidi_provider_config_free);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      g_mutex_lock (&self->out_lock);
      self->playing = TRUE;
      g_cond_broadcast (&self->out_cond);
      g_mutex_unlock (&self->out_lock);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      g_mutex_lock (&self->out_lock);
      self->playing = FALSE;
      wake_task_unlocked (self);
      g_mutex_unlock (&self->out_lock);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
      teardown_provider (self);
    else if (transition == GST_STATE_CHANGE_NULL_TO_READY)
      net_thread_stop (self);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      /* live: no preroll, there is no model audio in PAUSED */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      teardown_provider (self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      net_thread_stop (self);
      /* from NULL, a new conversation (or the session file's) */
      self->history_live = FALSE;
      break;
    default:
      break;
  }
  return ret;
}
