/* gst-bidi: bidi-chat, a terminal chat with a bidiagent
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The text I/O of the Strands bidi agents (BidiTextIO) as a GStreamer
 * application: every line typed on stdin is sent to the model as a user
 * turn (the element's send-text action signal), and the transcripts the
 * element posts on the bus are printed on stdout the way BidiTextIO prints
 * them:
 *
 *   a transcript that is not final     "Preview: <text>"
 *   a final transcript                 "<text>"
 *   bidi_interruption                  "interrupted"
 *   bidi_connection_close, reason user_request
 *       "user requested connection close using the stop_conversation tool."
 *
 * With --audio both sides speak, so each final transcript is labelled with
 * its speaker ("User: <text>", "Assistant: <text>"), and the previews are
 * not printed: the answer is heard as it comes, and a preview that already
 * holds the whole sentence would show it twice. A provider may post the
 * same final transcript twice (OpenAI's transcription segment, then the
 * completed transcript of the same turn): it is printed once.
 *
 * --tools means what it means in bidi-server: the built-in tools the
 * element offers and runs itself (its builtin-tools property: a comma
 * separated list of current_time, calculator, stop_conversation; auto;
 * none). --app-tools declares tools of the application (its tools
 * property); bidi-chat cannot run them, so their calls get an error
 * result.
 *
 * Without --audio nothing is heard or recorded: the pipeline is
 * "bidiagent ! fakesink sync=true", so the answer still "plays" in real
 * time (an interruption cuts it where it was). With --audio the microphone
 * feeds the agent and its answer plays on the speakers:
 * "autoaudiosrc ! bidiagent ! autoaudiosink", either end replaceable with
 * --audio-source / --audio-sink.
 *
 * The program ends with status 0 on Ctrl-C (SIGINT) or SIGTERM, when the
 * model ends the conversation (stop_conversation), and at the end of stdin
 * once the answer to the last line is complete. A pipeline error ends it
 * with status 1, bad options with status 2.
 *
 * The API key is never an option (it would show in the process list): the
 * providers read their environment variables (OPENAI_API_KEY ...). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include <gst/gst.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>

GST_DEBUG_CATEGORY_STATIC (bidi_chat_debug);
#define GST_CAT_DEFAULT bidi_chat_debug

/* How long the end of stdin waits for the answer to the last line, and how
 * long an ending waits for the answer's audio to play out (--audio) */
#define DRAIN_TIMEOUT_S 30

/* A longer line is not sent (the providers would cut it) */
#define MAX_LINE_BYTES (64 * 1024)

#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2

/* indices of Chat.last_final */
#define ROLE_USER 0
#define ROLE_ASSISTANT 1

#define STOP_NOTICE \
  "user requested connection close using the stop_conversation tool."

typedef struct
{
  GMainLoop *loop;
  GstElement *pipeline;
  GstElement *agent;
  gboolean audio;
  gchar *prompt;

  /* stdin */
  GDataInputStream *input;
  GCancellable *cancel;
  gboolean reading;             /* a read_line_async is pending */
  gboolean input_done;          /* end of stdin seen */

  /* Lines sent whose answer is not complete yet; an answer counts from
   * its bidi_response_start to a bidi_response_complete that does not
   * continue with a tool call */
  guint pending;
  gboolean answering;

  /* The last final transcript printed of each role (ROLE_*), so that the
   * same one posted again is not printed twice; forgotten when the other
   * side speaks, and the assistant's when an answer starts */
  gchar *last_final[2];

  gboolean prompt_shown;        /* the prompt ends stdout's last line */
  gboolean draining;            /* EOS sent, waiting for it on the bus */
  guint timeout_id;
  guint bus_watch;
  guint sigint_id, sigterm_id;
  gint status;
} Chat;

static void read_next_line (Chat * chat);

/* ------------------------------------------------------------------------
 * Output
 * ------------------------------------------------------------------------ */

/* One line on stdout, flushed at once so that a pipe or a pty sees it */
static void
print_line (Chat * chat, const gchar * prefix, const gchar * text)
{
  /* not on the prompt's line (a spoken turn, --audio) */
  if (chat->prompt_shown)
    fputc ('\n', stdout);
  chat->prompt_shown = FALSE;
  fprintf (stdout, "%s%s\n", prefix, text);
  fflush (stdout);
}

/* The prompt is shown when the program waits for a line: at the start and
 * once the answers to the lines sent are complete */
static void
print_prompt (Chat * chat)
{
  if (chat->prompt && *chat->prompt && !chat->input_done &&
      chat->pending == 0 && !chat->prompt_shown) {
    fputs (chat->prompt, stdout);
    fflush (stdout);
    chat->prompt_shown = TRUE;
  }
}

/* Errors and warnings: stderr, on a line of their own */
static void
print_error (Chat * chat, const gchar * format, ...) G_GNUC_PRINTF (2, 3);

static void
print_error (Chat * chat, const gchar * format, ...)
{
  va_list args;
  gchar *text;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  if (chat && chat->prompt_shown) {
    fputc ('\n', stdout);
    fflush (stdout);
    chat->prompt_shown = FALSE;
  }
  g_printerr ("bidi-chat: %s\n", text);
  g_free (text);
}

/* The last line of an error's debug text, which says which setting or
 * stream was at fault (the lines before it say where in the code) */
static const gchar *
debug_detail (const gchar * debug)
{
  const gchar *detail = debug ? strrchr (debug, '\n') : NULL;

  return detail ? detail + 1 : debug;
}

/* A GStreamer error or warning: its message and detail */
static void
print_gst_error (Chat * chat, const gchar * what, GstMessage * msg,
    const GError * err, const gchar * debug)
{
  const gchar *detail = debug_detail (debug);

  if (detail && *detail)
    print_error (chat, "%s%s (%s: %s)", what, err->message,
        GST_MESSAGE_SRC_NAME (msg), detail);
  else
    print_error (chat, "%s%s (%s)", what, err->message,
        GST_MESSAGE_SRC_NAME (msg));
}

static void
quit (Chat * chat, gint status)
{
  /* the first reason to stop wins */
  if (!g_main_loop_is_running (chat->loop))
    return;
  chat->status = status;
  g_main_loop_quit (chat->loop);
}

static gboolean
drain_timeout_cb (gpointer user_data)
{
  Chat *chat = user_data;

  chat->timeout_id = 0;
  if (chat->draining) {
    print_error (chat, "the answer did not finish playing within %d s; "
        "stopping", DRAIN_TIMEOUT_S);
    quit (chat, EXIT_OK);
  } else {
    print_error (chat, "no complete answer within %d s of the end of the "
        "input; giving up", DRAIN_TIMEOUT_S);
    quit (chat, EXIT_FAILED);
  }
  return G_SOURCE_REMOVE;
}

static void
arm_timeout (Chat * chat)
{
  if (chat->timeout_id)
    g_source_remove (chat->timeout_id);
  chat->timeout_id = g_timeout_add_seconds (DRAIN_TIMEOUT_S,
      drain_timeout_cb, chat);
}

/* Ends the session once the answer is out. Without --audio nobody hears
 * it: quit. With --audio, EOS lets the element play it to the end, then
 * the pipeline's EOS ends the program. */
static void
finish (Chat * chat)
{
  if (chat->draining)
    return;
  if (!chat->audio) {
    quit (chat, EXIT_OK);
    return;
  }
  GST_INFO ("sending EOS, waiting for the answer to play out");
  chat->draining = TRUE;
  arm_timeout (chat);
  gst_element_send_event (chat->pipeline, gst_event_new_eos ());
}

/* The end of stdin and nothing more to wait for */
static void
maybe_finish (Chat * chat)
{
  if (chat->input_done && chat->pending == 0)
    finish (chat);
}

/* Whether @text is the final transcript of @role printed last; if not, it
 * becomes that, and the other side's is forgotten (a new exchange) */
static gboolean
final_seen (Chat * chat, gint role, const gchar * text)
{
  if (g_strcmp0 (chat->last_final[role], text) == 0)
    return TRUE;
  g_free (chat->last_final[role]);
  chat->last_final[role] = g_strdup (text);
  g_clear_pointer (&chat->last_final[!role], g_free);
  return FALSE;
}

static void
on_transcript (Chat * chat, const GstStructure * s)
{
  const gchar *text = gst_structure_get_string (s, "text");
  const gchar *role = gst_structure_get_string (s, "role");
  gint r = g_strcmp0 (role, "user") == 0 ? ROLE_USER : ROLE_ASSISTANT;
  gboolean is_final = FALSE;

  gst_structure_get_boolean (s, "is_final", &is_final);
  GST_DEBUG ("role=%s is_final=%d text_length=%u", GST_STR_NULL (role),
      is_final, text ? (guint) strlen (text) : 0);
  if (!text)
    return;
  if (!is_final) {
    if (!chat->audio)
      print_line (chat, "Preview: ", text);
    return;
  }
  if (final_seen (chat, r, text)) {
    GST_DEBUG ("the same final transcript again, not printed");
    return;
  }
  if (chat->audio)
    print_line (chat, r == ROLE_USER ? "User: " : "Assistant: ", text);
  else
    print_line (chat, "", text);
}

static void
on_element_message (Chat * chat, GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  const gchar *name;

  if (!s || GST_MESSAGE_SRC (msg) != GST_OBJECT (chat->agent))
    return;
  name = gst_structure_get_name (s);

  if (strcmp (name, "bidi_transcript_stream") == 0) {
    on_transcript (chat, s);
  } else if (strcmp (name, "bidi_interruption") == 0) {
    GST_DEBUG ("reason=%s | interrupted",
        GST_STR_NULL (gst_structure_get_string (s, "reason")));
    print_line (chat, "", "interrupted");
  } else if (strcmp (name, "bidi_response_start") == 0) {
    chat->answering = TRUE;
    /* a new answer may say what the last one said */
    g_clear_pointer (&chat->last_final[ROLE_ASSISTANT], g_free);
  } else if (strcmp (name, "bidi_response_complete") == 0) {
    const gchar *reason = gst_structure_get_string (s, "stop_reason");

    /* a tool call: the answer goes on in the next response */
    if (chat->answering && g_strcmp0 (reason, "tool_use") != 0) {
      chat->answering = FALSE;
      if (chat->pending > 0)
        chat->pending--;
      print_prompt (chat);
      maybe_finish (chat);
    }
  } else if (strcmp (name, "bidi_connection_close") == 0) {
    const gchar *reason = gst_structure_get_string (s, "reason");

    if (g_strcmp0 (reason, "user_request") == 0) {
      print_line (chat, "", STOP_NOTICE);
      /* the element plays the goodbye, then goes EOS */
      chat->input_done = TRUE;
      chat->pending = 0;
      finish (chat);
    } else {
      GST_INFO ("connection closed: %s", GST_STR_NULL (reason));
    }
  } else if (strcmp (name, "bidi_error") == 0) {
    const gchar *message = gst_structure_get_string (s, "message");
    const gchar *code = gst_structure_get_string (s, "code");

    print_error (chat, "error from the model: %s%s%s%s",
        message ? message : "(no message)", code ? " (" : "",
        code ? code : "", code ? ")" : "");
  }
}

static gboolean
on_bus_message (G_GNUC_UNUSED GstBus * bus, GstMessage * msg,
    gpointer user_data)
{
  Chat *chat = user_data;
  GError *err = NULL;
  gchar *debug = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      on_element_message (chat, msg);
      break;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, &debug);
      print_gst_error (chat, "error: ", msg, err, debug);
      quit (chat, EXIT_FAILED);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, &debug);
      /* a bidi_error of the model comes as this warning too: it was
       * printed with its code already */
      if (GST_MESSAGE_SRC (msg) != GST_OBJECT (chat->agent) || !debug ||
          !g_str_has_prefix (debug_detail (debug), "bidi_error"))
        print_gst_error (chat, "warning: ", msg, err, debug);
      break;
    case GST_MESSAGE_EOS:
      GST_INFO ("end of stream");
      quit (chat, EXIT_OK);
      break;
    default:
      break;
  }
  g_clear_error (&err);
  g_free (debug);
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------
 * Input
 * ------------------------------------------------------------------------ */

static void
send_line (Chat * chat, gchar * line)
{
  gboolean ok = FALSE;
  gchar *text;

  g_strstrip (line);
  if (!*line)
    return;
  if (strlen (line) > MAX_LINE_BYTES) {
    print_error (chat, "a line of %" G_GSIZE_FORMAT " bytes was not sent: "
        "the most is %d", strlen (line), MAX_LINE_BYTES);
    return;
  }
  /* the element and the providers take UTF-8 only */
  text = g_utf8_make_valid (line, -1);
  g_signal_emit_by_name (chat->agent, "send-text", text, &ok);
  if (ok)
    chat->pending++;
  else
    print_error (chat, "the agent did not take the text");
  GST_DEBUG ("sent %u bytes of text: %d", (guint) strlen (text), ok);
  g_free (text);
}

static void
on_line (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Chat *chat = user_data;
  GError *err = NULL;
  gchar *line;

  chat->reading = FALSE;
  line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
      res, NULL, &err);
  if (err && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free (err);
    return;
  }
  if (err) {
    print_error (chat, "cannot read stdin: %s", err->message);
    g_error_free (err);
  }
  if (!line) {
    GST_INFO ("end of input, %u answer(s) pending", chat->pending);
    chat->input_done = TRUE;
    if (chat->pending > 0)
      arm_timeout (chat);
    maybe_finish (chat);
    return;
  }
  /* the user ended the prompt's line */
  chat->prompt_shown = FALSE;
  send_line (chat, line);
  g_free (line);
  print_prompt (chat);
  read_next_line (chat);
}

static void
read_next_line (Chat * chat)
{
  chat->reading = TRUE;
  g_data_input_stream_read_line_async (chat->input, G_PRIORITY_DEFAULT,
      chat->cancel, on_line, chat);
}

static gboolean
on_signal (gpointer user_data)
{
  Chat *chat = user_data;

  GST_INFO ("interrupted by a signal");
  quit (chat, EXIT_OK);
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------
 * Setup
 * ------------------------------------------------------------------------ */

/* --app-tools: inline JSON, or the file holding it */
static gchar *
load_tools (const gchar * arg, GError ** error)
{
  const gchar *p = arg;
  gchar *contents = NULL;

  while (g_ascii_isspace (*p))
    p++;
  if (*p == '[' || *p == '{')
    return g_strdup (arg);
  if (!g_file_get_contents (arg, &contents, NULL, error)) {
    g_prefix_error (error, "--app-tools is neither a JSON array nor a "
        "readable file: ");
    return NULL;
  }
  return contents;
}

static GstElement *
build_pipeline (gboolean audio, const gchar * source, const gchar * sink,
    GError ** error)
{
  GstElement *pipeline;
  gchar *desc;

  if (audio)
    desc = g_strdup_printf ("%s ! bidiagent name=agent ! %s",
        source ? source : "autoaudiosrc", sink ? sink : "autoaudiosink");
  else
    desc = g_strdup ("bidiagent name=agent ! fakesink sync=true");
  GST_INFO ("pipeline: %s", desc);
  pipeline = gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS,
      error);
  g_free (desc);
  return pipeline;
}

/* After a failed start: the errors the pipeline posted */
static void
print_start_errors (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  gboolean any = FALSE;

  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
    GError *err = NULL;
    gchar *debug = NULL;

    gst_message_parse_error (msg, &err, &debug);
    print_gst_error (NULL, "error: ", msg, err, debug);
    any = TRUE;
    g_error_free (err);
    g_free (debug);
    gst_message_unref (msg);
  }
  if (!any)
    print_error (NULL, "error: the pipeline did not start");
  gst_object_unref (bus);
}

int
main (int argc, char *argv[])
{
  gchar *provider = NULL, *model = NULL, *system_prompt = NULL;
  gchar *tools_arg = NULL, *url = NULL, *audio_source = NULL;
  gchar *audio_sink = NULL, *prompt = NULL, *tools = NULL, *builtin = NULL;
  gboolean audio = FALSE;
  GOptionEntry entries[] = {
    {"provider", 'p', 0, G_OPTION_ARG_STRING, &provider,
        "Model provider: local (offline, the default), openai ...", "NAME"},
    {"model", 'm', 0, G_OPTION_ARG_STRING, &model,
        "Model name (the provider's default when not given)", "MODEL"},
    {"system-prompt", 's', 0, G_OPTION_ARG_STRING, &system_prompt,
        "Instructions given to the model at the start", "TEXT"},
    {"tools", 't', 0, G_OPTION_ARG_STRING, &builtin,
          "Built-in tools offered to the model, comma separated "
          "(current_time, calculator, stop_conversation; none; default auto)",
        "LIST"},
    {"app-tools", 0, 0, G_OPTION_ARG_STRING, &tools_arg,
          "Tools of the application declared to the model: a JSON array of "
          "{name, description, parameters}, or a file holding it (bidi-chat "
          "runs none of them: their calls get an error result)",
        "FILE-OR-JSON"},
    {"url", 'u', 0, G_OPTION_ARG_STRING, &url,
        "The provider's endpoint, for a self-hosted or test server", "URL"},
    {"prompt", 0, 0, G_OPTION_ARG_STRING, &prompt,
        "Shown when waiting for a line (default: nothing)", "TEXT"},
    {"audio", 'a', 0, G_OPTION_ARG_NONE, &audio,
        "Also talk: microphone in, the spoken answer out", NULL},
    {"audio-source", 0, 0, G_OPTION_ARG_STRING, &audio_source,
        "gst-launch description of the audio input (implies --audio; "
          "default autoaudiosrc)", "DESC"},
    {"audio-sink", 0, 0, G_OPTION_ARG_STRING, &audio_sink,
        "gst-launch description of the audio output (implies --audio; "
          "default autoaudiosink)", "DESC"},
    {NULL}
  };
  GOptionContext *ctx;
  GError *err = NULL;
  GstElementFactory *factory;
  GUnixInputStream *in;
  GstBus *bus;
  Chat chat = { 0 };

  setlocale (LC_ALL, "");
  setvbuf (stdout, NULL, _IOLBF, 0);

  ctx = g_option_context_new ("- chat with a speech agent from the terminal");
  g_option_context_set_summary (ctx, "Each line typed is sent to the model; "
      "its transcripts are printed (\"Preview: \" before the final text;\n"
      "with --audio only the final text, after \"User: \" or "
      "\"Assistant: \").\n"
      "API keys come from the environment (OPENAI_API_KEY ...).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("bidi-chat: %s\n", err->message);
    g_printerr ("Try \"%s --help\".\n", g_get_prgname ());
    g_error_free (err);
    g_option_context_free (ctx);
    chat.status = EXIT_USAGE;
    goto out;
  }
  g_option_context_free (ctx);
  if (argc > 1) {
    g_printerr ("bidi-chat: unexpected argument \"%s\"\n", argv[1]);
    chat.status = EXIT_USAGE;
    goto out;
  }
  GST_DEBUG_CATEGORY_INIT (bidi_chat_debug, "bidi-chat", 0, "bidi-chat");

  if (tools_arg && !(tools = load_tools (tools_arg, &err))) {
    g_printerr ("bidi-chat: %s\n", err->message);
    g_error_free (err);
    chat.status = EXIT_USAGE;
    goto out;
  }

  chat.audio = audio || audio_source || audio_sink;
  /* as a shell does: no prompt when the lines do not come from a user */
  chat.prompt = isatty (0) ? prompt : NULL;
  chat.pipeline = build_pipeline (chat.audio, audio_source, audio_sink, &err);
  if (!chat.pipeline) {
    g_printerr ("bidi-chat: cannot make the pipeline: %s\n", err->message);
    factory = gst_element_factory_find ("bidiagent");
    if (!factory)
      g_printerr ("bidi-chat: bidiagent is not installed; is GST_PLUGIN_PATH "
          "set to where libgstbidiagent.so is?\n");
    else
      gst_object_unref (factory);
    g_error_free (err);
    chat.status = EXIT_USAGE;
    goto out;
  }
  chat.agent = gst_bin_get_by_name (GST_BIN (chat.pipeline), "agent");
  g_assert (chat.agent != NULL);
  /* set here, not in the description: the parser logs the description */
  g_object_set (chat.agent, "provider", provider ? provider : "local", NULL);
  if (model)
    g_object_set (chat.agent, "model", model, NULL);
  if (system_prompt)
    g_object_set (chat.agent, "system-prompt", system_prompt, NULL);
  if (tools)
    g_object_set (chat.agent, "tools", tools, NULL);
  /* "none" as bidi-server takes it: the property's empty list */
  if (builtin)
    g_object_set (chat.agent, "builtin-tools",
        g_ascii_strcasecmp (builtin, "none") == 0 ? "" : builtin, NULL);
  if (url)
    g_object_set (chat.agent, "url", url, NULL);

  chat.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (chat.pipeline);
  chat.bus_watch = gst_bus_add_watch (bus, on_bus_message, &chat);
  gst_object_unref (bus);
  chat.sigint_id = g_unix_signal_add (SIGINT, on_signal, &chat);
  chat.sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &chat);

  if (gst_element_set_state (chat.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    print_start_errors (chat.pipeline);
    chat.status = EXIT_FAILED;
    goto stop;
  }

  in = G_UNIX_INPUT_STREAM (g_unix_input_stream_new (0, FALSE));
  chat.input = g_data_input_stream_new (G_INPUT_STREAM (in));
  g_object_unref (in);
  /* a line ends at \n; a \r before it is stripped with the blanks */
  g_data_input_stream_set_newline_type (chat.input,
      G_DATA_STREAM_NEWLINE_TYPE_LF);
  chat.cancel = g_cancellable_new ();
  print_prompt (&chat);
  read_next_line (&chat);

  g_main_loop_run (chat.loop);

  /* let a pending read see its cancellation, so that it frees all */
  g_cancellable_cancel (chat.cancel);
  while (chat.reading)
    g_main_context_iteration (NULL, TRUE);
  g_clear_object (&chat.input);
  g_clear_object (&chat.cancel);

stop:
  g_source_remove (chat.sigint_id);
  g_source_remove (chat.sigterm_id);
  gst_element_set_state (chat.pipeline, GST_STATE_NULL);
  if (chat.timeout_id)
    g_source_remove (chat.timeout_id);
  g_source_remove (chat.bus_watch);
  g_main_loop_unref (chat.loop);

out:
  if (chat.agent)
    gst_object_unref (chat.agent);
  if (chat.pipeline)
    gst_object_unref (chat.pipeline);
  g_free (provider);
  g_free (model);
  g_free (system_prompt);
  g_free (tools_arg);
  g_free (tools);
  g_free (builtin);
  g_free (chat.last_final[ROLE_USER]);
  g_free (chat.last_final[ROLE_ASSISTANT]);
  g_free (url);
  g_free (audio_source);
  g_free (audio_sink);
  g_free (prompt);
  gst_deinit ();
  return chat.status;
}
