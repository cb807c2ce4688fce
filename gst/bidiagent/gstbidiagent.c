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
 *   #gboolean `is_final`, `current_transcript` (the text so far, left out
 *   once it is over 4 KiB: then add up the deltas)
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
 * * `tool_cancel`: `toolUseId`: the model withdrew a call (the user spoke
 *   over it); its result is no longer wanted, and send-tool-result drops
 *   one that comes
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

#include <gst/bidi/gstbidiprovider.h>
#include <gst/bidi/gstbidievents.h>
#include <gst/bidi/gstbiditools.h>
#include <gst/bidi/gstbidihistory.h>

#include "gstbidiagent.h"
#include "gstbidiinput.h"
#include "gstbidinet.h"
#include "gstbiditooldispatch.h"
#include "gstbidirecorder.h"
#include "gstbidioutput.h"
#include "gstbidipads.h"
#include "gstbiditurns.h"

GST_DEBUG_CATEGORY (bidi_agent_debug);
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
  PROP_ACCESS_KEY,
  PROP_SECRET_ACCESS_KEY,
  PROP_SESSION_TOKEN,
  PROP_REGION,
  PROP_URL,
  PROP_SYSTEM_PROMPT,
  PROP_VOICE,
  PROP_PROVIDER_CONFIG,
  PROP_LATENCY,
  PROP_INPUT_CHUNK_MS,
  PROP_INPUT_BUFFER_MS,
  PROP_IDLE,
  PROP_INTERRUPTION,
  PROP_OUTPUT_BUFFER_MS,
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
#define DEFAULT_INTERRUPTION    GST_BIDI_AGENT_INTERRUPTION_FLUSH
#define DEFAULT_OUTPUT_BUFFER_MS 300000
#define DEFAULT_DRAIN_TIMEOUT   10000
#define DEFAULT_TOOL_TIMEOUT    30000
#define DEFAULT_BUILTIN_TOOLS   "auto"
#define DEFAULT_SSL_CA_FILE     NULL
#define DEFAULT_SSL_STRICT      TRUE
#define DEFAULT_TRANSCRIPT_ROLES GST_BIDI_AGENT_TRANSCRIPT_BOTH
#define DEFAULT_TRANSCRIPT_PREFIX FALSE
#define DEFAULT_IMAGE_INTERVAL  1000

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

  /* set at init */
  GstPad *sinkpad;
  GstPad *srcpad;

  /* Settings, protected by GST_OBJECT_LOCK; settings is what the provider
   * gets when it starts. (latency and idle are the output's, tool-timeout
   * the tool dispatch's, the transcript and image settings the pads'.) */
  gchar *provider_name;
  GstBidiProviderConfig *settings;
  guint input_chunk_ms;
  guint input_buffer_ms;
  guint drain_timeout_ms;
  gchar *builtin_tools;
  gchar *app_tools;
  gchar *messages;
  gchar *session_file;
  /* the history holds the conversation of this element's last run, kept
   * from READY to PAUSED again; from NULL it starts from the messages
   * property */
  gboolean history_live;

  /* Provider and its input format: set in READY->PAUSED, cleared in
   * PAUSED->READY; protected by GST_OBJECT_LOCK */
  GstBidiProvider *provider;
  GstAudioInfo prov_in;
  gboolean connected;

  /* The conversation: created at init, thread safe itself */
  GstBidiHistory *history;

  /* The parts, along the data path; each says what protects its fields */
  GstBidiInput input;
  GstBidiNet net;
  GstBidiToolDispatch tools;
  GstBidiRecorder recorder;
  GstBidiTurns turns;
  GstBidiOutput output;
  GstBidiPads pads;

  /* network thread only: the session as the element sees it */
  gboolean net_connected;
  gboolean end_input_pending;
  gboolean draining;
  GSource *drain_source;
  GQueue pending_inputs;        /* Input: text and images before connecting */
  gchar *last_error;
  gint last_error_code;         /* GstResourceError */
  gchar *connection_id;
  gboolean stop_requested;
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
gst_bidi_agent_interruption_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_BIDI_AGENT_INTERRUPTION_FLUSH, "Flush downstream", "flush"},
    {GST_BIDI_AGENT_INTERRUPTION_CUT, "Cut the answer without a flush",
        "cut"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstBidiAgentInterruption", values);
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

static gboolean gst_bidi_agent_send_text (GstBidiAgent * self,
    const gchar * text);
static gboolean gst_bidi_agent_interrupt (GstBidiAgent * self);
static gboolean gst_bidi_agent_send_image (GstBidiAgent * self,
    GBytes * data, const gchar * mime);
static gboolean gst_bidi_agent_send_tool_result (GstBidiAgent * self,
    const gchar * tool_use_id, const gchar * result, const gchar * status);

static void net_wake_input (gpointer user_data);
static void net_tool_result_now (gpointer user_data, const gchar * id,
    const gchar * name, const gchar * input, const gchar * result,
    gboolean ok);
static GstBidiCaptions *get_captions (gpointer user_data);
static void answer_cut (guint64 played_ms, gpointer user_data);
static void answer_on_air (gboolean on_air, GstClockTime at,
    GstClockTime first_audio, const gchar * resp_id, gpointer user_data);
static gboolean pads_send_text (gpointer user_data, const gchar * text);
static gboolean pads_send_image (gpointer user_data, GBytes * data,
    const gchar * mime);
static gint pads_takes_images (gpointer user_data, gchar ** name);

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
  /**
   * GstBidiAgent:access-key:
   *
   * The AWS access key id, for providers that sign their requests with
   * AWS credentials (nova-sonic). Write-only and never logged, as
   * #GstBidiAgent:api-key. When unset, the provider looks in
   * AWS_ACCESS_KEY_ID, then in the shared credentials and config files.
   */
  g_object_class_install_property (gobject_class, PROP_ACCESS_KEY,
      g_param_spec_string ("access-key", "AWS access key id",
          "AWS access key id (write-only; never logged), with "
          "secret-access-key; NULL to use the AWS environment variables or "
          "credentials files", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstBidiAgent:secret-access-key:
   *
   * The AWS secret access key that goes with #GstBidiAgent:access-key.
   * Write-only: it cannot be read back, and it is never logged or posted.
   */
  g_object_class_install_property (gobject_class, PROP_SECRET_ACCESS_KEY,
      g_param_spec_string ("secret-access-key", "AWS secret access key",
          "AWS secret access key (write-only; never logged), with "
          "access-key", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstBidiAgent:session-token:
   *
   * The AWS session token of temporary credentials (with
   * #GstBidiAgent:access-key and #GstBidiAgent:secret-access-key).
   * Write-only: it cannot be read back, and it is never logged or posted.
   */
  g_object_class_install_property (gobject_class, PROP_SESSION_TOKEN,
      g_param_spec_string ("session-token", "AWS session token",
          "AWS session token of temporary credentials (write-only; never "
          "logged)", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstBidiAgent:region:
   *
   * The AWS region (nova-sonic: us-east-1, us-west-2 ...). When unset,
   * AWS_REGION, AWS_DEFAULT_REGION or the profile's region; else the
   * provider's default.
   */
  g_object_class_install_property (gobject_class, PROP_REGION,
      g_param_spec_string ("region", "AWS region",
          "AWS region of providers on AWS; NULL for AWS_REGION, "
          "AWS_DEFAULT_REGION, the profile's or the provider's default",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
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
          "(counted in stats) and non-live input waits (an upstream that "
          "does not say it is live is taken as not live)", 0, 600000,
          DEFAULT_INPUT_BUFFER_MS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
          | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_IDLE,
      g_param_spec_enum ("idle", "Idle output",
          "What the src pad carries while the model is not speaking",
          GST_TYPE_BIDI_AGENT_IDLE, DEFAULT_IDLE, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstBidiAgent:interruption:
   *
   * How a barge-in stops the answer on the src pad. `flush` pushes
   * FLUSH_START/FLUSH_STOP and a new segment: every branch drops the stale
   * answer at once. `cut` drops the answer inside the element and goes on
   * without a flush, the timestamps unbroken, for branches that cannot take
   * a flush (`wavenc ! filesink`); the answer then goes out in real time,
   * and what downstream already holds (about the pipeline latency, plus an
   * audio sink's buffer) still plays and counts as heard. A flush from
   * upstream is passed on in both modes.
   */
  g_object_class_install_property (gobject_class, PROP_INTERRUPTION,
      g_param_spec_enum ("interruption", "Interruption",
          "How a barge-in stops the answer: flush downstream, or cut it "
          "inside the element without a flush (for branches that cannot "
          "take one, such as wavenc ! filesink)",
          GST_TYPE_BIDI_AGENT_INTERRUPTION, DEFAULT_INTERRUPTION,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_OUTPUT_BUFFER_MS,
      g_param_spec_uint ("output-buffer-ms", "Output buffer",
          "Most model audio queued for playout, in milliseconds. A provider "
          "further ahead of real time has the rest of that answer dropped, "
          "with a warning (counted in stats)", 1000, 3600000,
          DEFAULT_OUTPUT_BUFFER_MS, G_PARAM_READWRITE |
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
   * had been interrupted, or past `output-buffer-ms`), #guint `answers`,
   * #guint `interruptions`.
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
      "Voice agent: sends the audio to a speech model (the provider "
      "property lists this build's) and pushes its spoken answer; "
      "transcripts, tool calls and interruptions are bus messages",
      "gst-bidi developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_bidi_agent_change_state);

  gst_type_mark_as_plugin_api (GST_TYPE_BIDI_AGENT_IDLE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_BIDI_AGENT_INTERRUPTION, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_BIDI_AGENT_TRANSCRIPT_ROLES, 0);
}


static void
gst_bidi_agent_init (GstBidiAgent * self)
{
  static const GstBidiOutputCallbacks output_cb = {
    get_captions, answer_cut, answer_on_air
  };
  static const GstBidiPadsCallbacks pads_cb = {
    pads_send_text, pads_send_image, pads_takes_images
  };

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
      GST_DEBUG_FUNCPTR (gst_bidi_output_src_event));
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_bidi_output_src_query));
  gst_pad_set_activatemode_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_bidi_output_src_activate_mode));
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  self->provider_name = g_strdup (DEFAULT_PROVIDER);
  self->settings = gst_bidi_provider_config_new ();
  self->settings->ssl_strict = DEFAULT_SSL_STRICT;
  self->input_chunk_ms = DEFAULT_INPUT_CHUNK_MS;
  self->input_buffer_ms = DEFAULT_INPUT_BUFFER_MS;
  self->drain_timeout_ms = DEFAULT_DRAIN_TIMEOUT;
  self->builtin_tools = g_strdup (DEFAULT_BUILTIN_TOOLS);
  self->history = gst_bidi_history_new ();
  gst_audio_info_init (&self->prov_in);
  g_queue_init (&self->pending_inputs);

  gst_bidi_input_init (&self->input, GST_ELEMENT (self), net_wake_input,
      self);
  gst_bidi_net_init (&self->net, self);
  gst_bidi_tool_dispatch_init (&self->tools, GST_ELEMENT (self), &self->net,
      net_tool_result_now, self);
  gst_bidi_tool_dispatch_set_timeout (&self->tools, DEFAULT_TOOL_TIMEOUT);
  gst_bidi_recorder_init (&self->recorder, GST_ELEMENT (self), self->history);
  gst_bidi_turns_init (&self->turns);
  gst_bidi_output_init (&self->output, GST_ELEMENT (self), self->srcpad,
      self->sinkpad, &output_cb, self);
  self->output.latency_ms = DEFAULT_LATENCY;
  self->output.idle = DEFAULT_IDLE;
  self->output.interruption = DEFAULT_INTERRUPTION;
  self->output.buffer_ms = DEFAULT_OUTPUT_BUFFER_MS;
  gst_bidi_pads_init (&self->pads, GST_ELEMENT (self), &self->net, &pads_cb,
      self);
  self->pads.transcript_roles = DEFAULT_TRANSCRIPT_ROLES;
  self->pads.transcript_prefix = DEFAULT_TRANSCRIPT_PREFIX;
  self->pads.image_interval_ms = DEFAULT_IMAGE_INTERVAL;
}

static void
gst_bidi_agent_finalize (GObject * object)
{
  GstBidiAgent *self = GST_BIDI_AGENT (object);

  gst_bidi_pads_clear (&self->pads);
  /* waits for the built-in tools that run */
  gst_bidi_tool_dispatch_clear (&self->tools);
  gst_bidi_net_clear (&self->net);
  gst_bidi_input_clear (&self->input);
  gst_bidi_recorder_clear (&self->recorder);
  gst_bidi_output_clear (&self->output);
  gst_bidi_turns_clear (&self->turns);

  g_free (self->provider_name);
  gst_bidi_provider_config_free (self->settings);
  g_free (self->builtin_tools);
  g_free (self->app_tools);
  gst_bidi_history_free (self->history);
  g_free (self->messages);
  g_free (self->session_file);
  g_free (self->connection_id);
  g_queue_clear_full (&self->pending_inputs, input_free);
  g_free (self->last_error);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static GstStructure *
gst_bidi_agent_get_stats (GstBidiAgent * self)
{
  guint64 in_rate_bytes, in_dropped, in_queued, out_queued_ms, out_dropped_ms;
  guint answers, interruptions;

  GST_OBJECT_LOCK (self);
  in_rate_bytes = GST_AUDIO_INFO_RATE (&self->prov_in) *
      GST_AUDIO_INFO_BPF (&self->prov_in);
  GST_OBJECT_UNLOCK (self);

  gst_bidi_input_get_stats (&self->input, &in_queued, &in_dropped);
  gst_bidi_output_get_stats (&self->output, &out_queued_ms, &out_dropped_ms,
      &answers, &interruptions);

  return gst_structure_new ("application/x-bidiagent-stats",
      "input-dropped-ms", G_TYPE_UINT64, in_rate_bytes ?
      in_dropped * 1000 / in_rate_bytes : 0,
      "input-queued-ms", G_TYPE_UINT64, in_rate_bytes ?
      in_queued * 1000 / in_rate_bytes : 0,
      "output-queued-ms", G_TYPE_UINT64, out_queued_ms,
      "output-dropped-ms", G_TYPE_UINT64, out_dropped_ms,
      "answers", G_TYPE_UINT, answers,
      "interruptions", G_TYPE_UINT, interruptions, NULL);
}

/* A write-only secret property: the old value wiped; the log says only
 * whether it is set (called with the object lock) */
static void
set_secret (GstBidiAgent * self, gchar ** field, const GValue * value,
    const gchar * name)
{
  gst_bidi_clear_secret (field);
  *field = g_value_dup_string (value);
  GST_DEBUG_OBJECT (self, "%s %s", name, *field ? "set" : "unset");
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
      set_secret (self, &self->settings->api_key, value, "api-key");
      break;
    case PROP_ACCESS_KEY:
      set_secret (self, &self->settings->aws_access_key_id, value,
          "access-key");
      break;
    case PROP_SECRET_ACCESS_KEY:
      set_secret (self, &self->settings->aws_secret_access_key, value,
          "secret-access-key");
      break;
    case PROP_SESSION_TOKEN:
      set_secret (self, &self->settings->aws_session_token, value,
          "session-token");
      break;
    case PROP_REGION:
      g_free (self->settings->aws_region);
      self->settings->aws_region = g_value_dup_string (value);
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
      latency_changed = self->output.latency_ms != g_value_get_uint (value);
      self->output.latency_ms = g_value_get_uint (value);
      break;
    case PROP_INPUT_CHUNK_MS:
      self->input_chunk_ms = g_value_get_uint (value);
      break;
    case PROP_INPUT_BUFFER_MS:
      self->input_buffer_ms = g_value_get_uint (value);
      break;
    case PROP_IDLE:
      self->output.idle = g_value_get_enum (value);
      break;
    case PROP_INTERRUPTION:
      self->output.interruption = g_value_get_enum (value);
      break;
    case PROP_OUTPUT_BUFFER_MS:
      self->output.buffer_ms = g_value_get_uint (value);
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
      gst_bidi_tool_dispatch_set_timeout (&self->tools,
          g_value_get_uint (value));
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
      self->pads.transcript_roles = g_value_get_enum (value);
      break;
    case PROP_TRANSCRIPT_PREFIX:
      self->pads.transcript_prefix = g_value_get_boolean (value);
      break;
    case PROP_IMAGE_INTERVAL:
      g_mutex_lock (&self->pads.lock);
      self->pads.image_interval_ms = g_value_get_uint (value);
      g_mutex_unlock (&self->pads.lock);
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
    case PROP_REGION:
      g_value_set_string (value, self->settings->aws_region);
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
      g_value_set_uint (value, self->output.latency_ms);
      break;
    case PROP_INPUT_CHUNK_MS:
      g_value_set_uint (value, self->input_chunk_ms);
      break;
    case PROP_INPUT_BUFFER_MS:
      g_value_set_uint (value, self->input_buffer_ms);
      break;
    case PROP_IDLE:
      g_value_set_enum (value, self->output.idle);
      break;
    case PROP_INTERRUPTION:
      g_value_set_enum (value, self->output.interruption);
      break;
    case PROP_OUTPUT_BUFFER_MS:
      g_value_set_uint (value, self->output.buffer_ms);
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
      g_value_set_uint (value,
          gst_bidi_tool_dispatch_get_timeout (&self->tools));
      break;
    case PROP_MESSAGES:
      g_value_set_string (value, self->messages);
      break;
    case PROP_HISTORY:
      g_value_take_string (value,
          gst_bidi_recorder_get_json (&self->recorder));
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
      g_value_set_enum (value, self->pads.transcript_roles);
      break;
    case PROP_TRANSCRIPT_PREFIX:
      g_value_set_boolean (value, self->pads.transcript_prefix);
      break;
    case PROP_IMAGE_INTERVAL:
      g_mutex_lock (&self->pads.lock);
      g_value_set_uint (value, self->pads.image_interval_ms);
      g_mutex_unlock (&self->pads.lock);
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
 * Messages
 * ------------------------------------------------------------------------ */

/* The running time now on the pipeline clock. Before PLAYING the clock's
 * time means nothing for this element: the running time is where it stands
 * (0 before it first played). */
static GstClockTime
running_time_now (GstBidiAgent * self)
{
  GstClockTime rt;
  GstState state;

  GST_OBJECT_LOCK (self);
  state = GST_STATE (self);
  rt = GST_ELEMENT_START_TIME (self);
  GST_OBJECT_UNLOCK (self);
  if (state == GST_STATE_PLAYING)
    rt = gst_element_get_current_running_time (GST_ELEMENT (self));
  return rt;
}

/* Posts @event (transfer full, may be NULL) as an element message whose
 * running_time is @rt. Call with no lock held. */
static void
post_event_at (GstBidiAgent * self, GstStructure * event, GstClockTime rt)
{
  if (!event)
    return;
  gst_structure_set (event, "running_time", G_TYPE_UINT64, rt, NULL);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), event));
}

/* Posts @event (transfer full) as an element message with running_time.
 * Call with no lock held. */
static void
post_event (GstBidiAgent * self, GstStructure * event)
{
  post_event_at (self, event, running_time_now (self));
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
 * Input: the sink pad (see gstbidiinput.c)
 * ------------------------------------------------------------------------ */

static void net_end_input (GstBidiAgent * self, gpointer data);
static void net_input_flushed (GstBidiAgent * self, gpointer data);
static gboolean do_interrupt (GstBidiAgent * self, const gchar * reason,
    gboolean from_provider, gboolean force_flush, guint32 seqnum);

static GstFlowReturn
gst_bidi_agent_chain (G_GNUC_UNUSED GstPad * pad, GstObject * parent,
    GstBuffer * buffer)
{
  GstBidiAgent *self = GST_BIDI_AGENT (parent);

  return gst_bidi_input_chain (&self->input, buffer);
}

static gboolean
gst_bidi_agent_sink_event (G_GNUC_UNUSED GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstBidiAgent *self = GST_BIDI_AGENT (parent);
  gboolean ret = TRUE;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstAudioInfo prov_in;
      GstCaps *caps;
      guint chunk_ms;

      gst_event_parse_caps (event, &caps);
      GST_OBJECT_LOCK (self);
      prov_in = self->prov_in;
      chunk_ms = self->input_chunk_ms;
      GST_OBJECT_UNLOCK (self);
      ret = gst_bidi_input_set_caps (&self->input, caps, &prov_in, chunk_ms);
      gst_bidi_input_query_live (&self->input, self->sinkpad);
      break;
    }
    case GST_EVENT_EOS:
      GST_INFO_OBJECT (self, "input ended, telling the provider");
      gst_bidi_input_finish (&self->input);
      gst_bidi_net_invoke (&self->net, net_end_input, NULL, NULL);
      break;
    case GST_EVENT_FLUSH_START:
      gst_bidi_input_set_flushing (&self->input, TRUE);
      /* A new input stream follows: forget the end of the old one. */
      gst_bidi_output_cancel_eos (&self->output);
      gst_bidi_net_invoke (&self->net, net_input_flushed, NULL, NULL);
      /* Downstream sees the flush too (it may be the seek it asked for);
       * an answer being played is cut as by the interrupt signal. */
      do_interrupt (self, "user_speech", FALSE, TRUE,
          gst_event_get_seqnum (event));
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_bidi_input_flush_stop (&self->input);
      break;
    case GST_EVENT_SEGMENT:
      /* a new segment may come from another source (a concat, a switch):
       * whether it is live may have changed */
      gst_bidi_input_query_live (&self->input, self->sinkpad);
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
    case GST_QUERY_CAPS:
      gst_bidi_caps_query_reply (query, gst_pad_get_pad_template_caps (pad));
      return TRUE;
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
  gst_bidi_input_set_flushing (&self->input, !active);
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Network thread: input to the provider (see gstbidinet.c)
 * ------------------------------------------------------------------------ */

static void
net_drain_input (GstBidiAgent * self, G_GNUC_UNUSED gpointer data)
{
  GstBidiProvider *provider = get_provider (self);
  GBytes *chunk;
  gint64 arrived_us = 0;

  /* one chunk at a time, so a provider that fills up stops the flow at
   * once and the rest stays in the input buffer (where a non-live
   * upstream waits for room) */
  while ((chunk = gst_bidi_input_pop (&self->input, self->net_connected &&
              !(provider && gst_bidi_provider_is_input_full (provider)),
              &arrived_us))) {
    if (provider)
      gst_bidi_provider_send_audio (provider, chunk, arrived_us);
    g_bytes_unref (chunk);
  }
  if (provider)
    gst_object_unref (provider);
}

/* The input queue has chunks for the network thread */
static void
net_wake_input (gpointer user_data)
{
  GstBidiAgent *self = user_data;

  gst_bidi_net_invoke (&self->net, net_drain_input, NULL, NULL);
}

/* The provider can take input again (any thread) */
static void
on_provider_ready (G_GNUC_UNUSED gpointer provider, gpointer user_data)
{
  net_wake_input (user_data);
}

/* A typed text or an image to the provider; a text is the user's turn in
 * the history */
static void
net_input_send (GstBidiAgent * self, Input * input, GstBidiProvider * provider)
{
  if (!input->image)
    gst_bidi_recorder_user_text (&self->recorder, input->text);
  input_send (input, provider);
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
  gst_bidi_output_request_eos (&self->output);
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
  gst_bidi_turns_text (&self->turns);
  return gst_bidi_net_invoke (&self->net, net_send_input,
      input_new_text (text), input_free);
}

static gboolean
gst_bidi_agent_send_image (GstBidiAgent * self, GBytes * data,
    const gchar * mime)
{
  GstBidiProvider *provider;
  const gchar *found;

  if (!data || g_bytes_get_size (data) == 0)
    goto no_data;
  found = gst_bidi_image_mime_type (data);
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
  return gst_bidi_net_invoke (&self->net, net_send_input,
      input_new_image (data, found), input_free);

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

/* ------------------------------------------------------------------------
 * Network thread: tool calls (see gstbiditooldispatch.c)
 * ------------------------------------------------------------------------ */

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
  gst_bidi_output_request_eos (&self->output);
}

/* stop_conversation was called: no more user turns; the goodbye the model
 * says next is played, then the session ends (or after drain-timeout of
 * provider silence). At the call, not at its result: the model may say
 * goodbye in the same breath. */
static void
net_begin_stop (GstBidiAgent * self)
{
  GST_INFO_OBJECT (self, "the model ends the conversation");
  gst_bidi_input_close (&self->input);
  self->stop_requested = TRUE;
  self->draining = TRUE;
  net_rearm_drain_timeout (self);
}

/* A tool's result: into the history, posted as tool_result, and to the
 * provider the element has now (network thread) */
static void
net_tool_result_now (gpointer user_data, const gchar * id,
    const gchar * name, const gchar * input, const gchar * result,
    gboolean ok)
{
  GstBidiAgent *self = user_data;
  GstBidiProvider *provider = get_provider (self);

  if (!provider)
    return;
  GST_DEBUG_OBJECT (self, "tool %s (%s) -> %s", name, id, result);
  gst_bidi_recorder_add_pair (&self->recorder, id, name, input, result, !ok);
  post_event (self, gst_bidi_event_new_tool_result (id, ok ? "success" :
          "error", result));
  gst_bidi_provider_send_tool_result (provider, id, name, result,
      ok ? "success" : "error");
  gst_object_unref (provider);
}

/* A tool call from the model (network thread). Built-in tools run on the
 * dispatcher's thread pool; application tools go to the application
 * (tool-call signal), whose answer comes back through send-tool-result;
 * anything else gets an error result at once. Nothing here waits. */
static void
handle_tool_use (GstBidiAgent * self, GstStructure * event)
{
  gchar *id = g_strdup (gst_structure_get_string (event, "toolUseId"));
  gchar *name = g_strdup (gst_structure_get_string (event, "name"));
  gchar *input = g_strdup (gst_structure_get_string (event, "input"));
  gboolean taken = FALSE;
  gchar *result;

  /* the message owns the event once posted */
  post_event (self, event);

  if (gst_bidi_tool_dispatch_is_builtin (&self->tools, name)) {
    if (strcmp (name, GST_BIDI_TOOL_STOP_CONVERSATION) == 0)
      net_begin_stop (self);
    gst_bidi_tool_dispatch_run_builtin (&self->tools, id, name, input);
    goto done;
  }

  if (gst_bidi_tool_dispatch_add_call (&self->tools, id, name, input)) {
    GST_DEBUG_OBJECT (self, "tool %s (%s): asking the application", name, id);
    g_signal_emit (self, signals[SIGNAL_TOOL_CALL], 0, id, name,
        input ? input : "{}", &taken);
    if (taken || !gst_bidi_tool_dispatch_forget_call (&self->tools, id))
      goto done;
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

static gboolean
gst_bidi_agent_send_tool_result (GstBidiAgent * self,
    const gchar * tool_use_id, const gchar * result, const gchar * status)
{
  return gst_bidi_tool_dispatch_answer (&self->tools, tool_use_id, result,
      status);
}

/* ------------------------------------------------------------------------
 * Output: answers and interruptions (see gstbidioutput.c)
 * ------------------------------------------------------------------------ */

static void
handle_audio (GstBidiAgent * self, GstStructure * event)
{
  const gchar *resp_id = gst_structure_get_string (event, "response_id");
  GBytes *pcm = NULL;
  gint rate = 0, channels = 0;
  guint64 ms;

  gst_structure_get (event, "audio", G_TYPE_BYTES, &pcm, NULL);
  gst_structure_get_int (event, "sample_rate", &rate);
  gst_structure_get_int (event, "channels", &channels);

  /* its arrival is the answer's first audio, if it is (the output tells
   * when it goes on air) */
  ms = gst_bidi_output_push_audio (&self->output, pcm, rate, channels,
      resp_id, running_time_now (self));
  if (ms > 0)
    gst_bidi_recorder_add_audio (&self->recorder, ms);
  if (pcm)
    g_bytes_unref (pcm);
}

/* The output's: the transcript_src pad's stream */
static GstBidiCaptions *
get_captions (gpointer user_data)
{
  GstBidiAgent *self = user_data;

  return gst_bidi_pads_get_captions (&self->pads);
}

/* The output's, under out_lock: the history keeps what was heard */
static void
answer_cut (guint64 played_ms, gpointer user_data)
{
  GstBidiAgent *self = user_data;

  gst_bidi_recorder_answer_cut (&self->recorder, played_ms);
}

/* The output's (src task): the agent speaks from @at, with the turn's
 * latency; or it finished speaking at @at */
static void
answer_on_air (gboolean on_air, GstClockTime at,
    GstClockTime first_audio, const gchar * resp_id, gpointer user_data)
{
  GstBidiAgent *self = user_data;
  GstStructure *latency = NULL, *state;

  if (on_air)
    state = gst_bidi_turns_on_air (&self->turns, first_audio, at, resp_id,
        &latency);
  else
    state = gst_bidi_turns_agent (&self->turns, "listening", at);
  post_event_at (self, state, at);
  post_event_at (self, latency, at);
}

/* A provider's state event: its change happened ago_ms before now */
static void
handle_state (GstBidiAgent * self, GstStructure * event)
{
  const gchar *state = gst_structure_get_string (event, "state");
  GstClockTime at = running_time_now (self);
  guint64 ago_ms = 0;

  gst_structure_get_uint64 (event, "ago_ms", &ago_ms);
  if (GST_CLOCK_TIME_IS_VALID (at))
    at -= MIN (at, ago_ms * GST_MSECOND);
  if (gst_structure_has_name (event, GST_BIDI_EVENT_USER_STATE))
    post_event_at (self, gst_bidi_turns_user (&self->turns, state, at), at);
  else if (g_strcmp0 (state, "thinking") == 0)
    post_event_at (self, gst_bidi_turns_agent (&self->turns, state, at), at);
  else
    /* the element tells when the agent speaks or listens, from its src pad */
    GST_DEBUG_OBJECT (self, "ignoring the provider's agent state %s",
        GST_STR_NULL (state));
  gst_structure_free (event);
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
 * signal, an upstream flush): the output cuts the answer (and flushes
 * downstream if it is audible, or @force_flush); the provider gets the
 * exact played_ms and the application a bidi_interruption message.
 * @seqnum is the flush's, or GST_SEQNUM_INVALID for a new one. Returns
 * whether an answer was cut. */
static gboolean
do_interrupt (GstBidiAgent * self, const gchar * reason, gboolean from_provider,
    gboolean force_flush, guint32 seqnum)
{
  GstStructure *s;
  guint64 played_ms, *arg;
  gchar *resp_id;

  if (!gst_bidi_output_cut (&self->output, seqnum, force_flush, &played_ms,
          &resp_id)) {
    /* e.g. a server VAD's speech_started on every user turn */
    GST_DEBUG_OBJECT (self, "nothing to interrupt (%s, %s)", reason,
        from_provider ? "provider" : "application");
    g_free (resp_id);
    return FALSE;
  }

  GST_INFO_OBJECT (self, "interruption (%s): %" G_GUINT64_FORMAT " ms of "
      "answer %s were heard", reason, played_ms, GST_STR_NULL (resp_id));

  arg = g_new (guint64, 1);
  *arg = played_ms;
  gst_bidi_net_invoke (&self->net, net_provider_interrupt, arg, g_free);

  s = gst_bidi_event_new_interruption (reason, resp_id);
  gst_structure_set (s, "played_ms", G_TYPE_UINT64, played_ms, NULL);
  post_event (self, s);
  g_free (resp_id);
  post_event (self, gst_bidi_turns_agent (&self->turns, "listening", 0));
  return TRUE;
}

static gboolean
gst_bidi_agent_interrupt (GstBidiAgent * self)
{
  return do_interrupt (self, "user_speech", FALSE, FALSE,
      GST_SEQNUM_INVALID);
}

/* ------------------------------------------------------------------------
 * Provider events (network thread): the router
 * ------------------------------------------------------------------------ */

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

  if (strcmp (name, GST_BIDI_EVENT_USER_STATE) == 0 ||
      strcmp (name, GST_BIDI_EVENT_AGENT_STATE) == 0) {
    handle_state (self, event);
    return;
  }

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

  if (strcmp (name, GST_BIDI_EVENT_TOOL_CANCEL) == 0) {
    gst_bidi_tool_dispatch_cancel_call (&self->tools,
        gst_structure_get_string (event, "toolUseId"));
    post_event (self, event);
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
    gst_bidi_recorder_on_transcript (&self->recorder, event);
    gst_bidi_pads_on_transcript (&self->pads, event, &self->output);
  } else if (strcmp (name, GST_BIDI_EVENT_RESPONSE_START) == 0) {
    gst_bidi_recorder_answer_start (&self->recorder);
    gst_bidi_output_answer_start (&self->output,
        gst_structure_get_string (event, "response_id"));
  } else if (strcmp (name, GST_BIDI_EVENT_RESPONSE_COMPLETE) == 0) {
    gboolean finish = self->stop_requested && g_strcmp0
        (gst_structure_get_string (event, "stop_reason"), "tool_use") != 0;
    gboolean had_audio;
    guint answer;

    gst_bidi_output_answer_end (&self->output, &answer, &had_audio);
    gst_bidi_pads_answer_closed (&self->pads, answer, had_audio);
    /* an answer without a word spoken: the agent listens again (after a
     * tool call it still thinks) */
    if (!had_audio && g_strcmp0 (gst_structure_get_string (event,
                "stop_reason"), "tool_use") != 0)
      post_event (self, gst_bidi_turns_agent (&self->turns, "listening", 0));
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
      gst_bidi_recorder_flush (&self->recorder);
      GST_INFO_OBJECT (self, "connection closed (%s), draining",
          GST_STR_NULL (reason));
      net_cancel_drain (self);
      gst_bidi_output_request_eos (&self->output);
    }
    g_free (reason);
    return;
  }

  post_event (self, event);
}

/* ------------------------------------------------------------------------
 * Request pads (see gstbidipads.c)
 * ------------------------------------------------------------------------ */

static gboolean
pads_send_text (gpointer user_data, const gchar * text)
{
  return gst_bidi_agent_send_text (user_data, text);
}

static gboolean
pads_send_image (gpointer user_data, GBytes * data, const gchar * mime)
{
  return gst_bidi_agent_send_image (user_data, data, mime);
}

static gint
pads_takes_images (gpointer user_data, gchar ** name)
{
  GstBidiAgent *self = user_data;
  GstBidiProvider *provider = get_provider (self);
  gboolean takes;

  if (!provider)
    return -1;
  takes = GST_BIDI_PROVIDER_GET_CLASS (provider)->send_image != NULL;
  gst_object_unref (provider);
  if (!takes) {
    GST_OBJECT_LOCK (self);
    *name = g_strdup (self->provider_name);
    GST_OBJECT_UNLOCK (self);
  }
  return takes ? 1 : 0;
}

static GstPad *
gst_bidi_agent_request_new_pad (GstElement * element, GstPadTemplate * templ,
    G_GNUC_UNUSED const gchar * name, G_GNUC_UNUSED const GstCaps * caps)
{
  return gst_bidi_pads_request (&GST_BIDI_AGENT (element)->pads, templ);
}

static void
gst_bidi_agent_release_pad (GstElement * element, GstPad * pad)
{
  gst_bidi_pads_release (&GST_BIDI_AGENT (element)->pads, pad);
}

/* ------------------------------------------------------------------------
 * States: the provider's setup and teardown
 * ------------------------------------------------------------------------ */

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
  gst_bidi_provider_set_ready_func (provider, NULL, NULL);
  self->net_connected = FALSE;
  self->end_input_pending = FALSE;
  net_cancel_drain (self);
  g_queue_clear_full (&self->pending_inputs, input_free);
  g_clear_pointer (&self->last_error, g_free);
  g_clear_pointer (&self->connection_id, g_free);
  self->stop_requested = FALSE;
  gst_object_unref (provider);
}

/* At start: the messages property (and the session file), or the
 * conversation of the last run */
static gboolean
history_setup (GstBidiAgent * self, GError ** error)
{
  gchar *messages, *file;
  gboolean fresh, ok;

  GST_OBJECT_LOCK (self);
  messages = g_strdup (self->messages);
  file = g_strdup (self->session_file);
  fresh = !self->history_live || file;
  GST_OBJECT_UNLOCK (self);

  gst_bidi_turns_reset (&self->turns);
  ok = gst_bidi_recorder_start (&self->recorder, messages, file, fresh,
      error);
  if (ok) {
    GST_OBJECT_LOCK (self);
    self->history_live = TRUE;
    GST_OBJECT_UNLOCK (self);
  }
  g_free (messages);
  g_free (file);
  return ok;
}

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
  if (!history_setup (self, &err))
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
  gst_bidi_provider_set_ready_func (provider, on_provider_ready, self);

  GST_OBJECT_LOCK (self);
  gst_object_replace ((GstObject **) & self->provider, GST_OBJECT (provider));
  self->prov_in = in;
  GST_OBJECT_UNLOCK (self);
  gst_object_unref (provider);
  gst_bidi_tool_dispatch_reset (&self->tools, tools, app_names);

  gst_bidi_input_setup (&self->input, &in, buffer_ms);
  gst_bidi_output_setup (&self->output, &out);


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
    if (!gst_bidi_net_invoke_sync (&self->net, net_provider_stop, provider))
      gst_object_unref (provider);
    if (!was_connected)
      post_progress (self, GST_PROGRESS_TYPE_CANCELED, "Not connected");
  }
  set_connected (self, FALSE);

  /* the provider is stopped: what it said last is history, the file is
   * free for another pipeline */
  gst_bidi_recorder_flush (&self->recorder);
  gst_bidi_history_close_file (self->history);

  /* calls of the provider that is gone are answered by nobody */
  gst_bidi_tool_dispatch_reset (&self->tools, NULL, NULL);

  gst_bidi_input_stop (&self->input);
  gst_bidi_pads_reset_images (&self->pads);
  gst_bidi_output_stop (&self->output);
}

static GstStateChangeReturn
gst_bidi_agent_change_state (GstElement * element, GstStateChange transition)
{
  GstBidiAgent *self = GST_BIDI_AGENT (element);
  GstStateChangeReturn ret;
  GstBidiProviderConfig *config = NULL;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:{
      gchar *name = g_strdup_printf ("%s:net", GST_OBJECT_NAME (self));

      gst_bidi_net_start (&self->net, name);
      g_free (name);
      break;
    }
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!setup_provider (self, &config))
        return GST_STATE_CHANGE_FAILURE;
      post_progress (self, GST_PROGRESS_TYPE_START, "Connecting");
      gst_bidi_net_invoke (&self->net, net_provider_start, config,
          (GDestroyNotify) gst_bidi_provider_config_free);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      gst_bidi_output_set_playing (&self->output, TRUE);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      gst_bidi_output_set_playing (&self->output, FALSE);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
      teardown_provider (self);
    else if (transition == GST_STATE_CHANGE_NULL_TO_READY)
      gst_bidi_net_stop (&self->net);
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
      gst_bidi_net_stop (&self->net);
      /* from NULL, a new conversation (or the session file's) */
      GST_OBJECT_LOCK (self);
      self->history_live = FALSE;
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      break;
  }
  return ret;
}
