/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* bidiagent's request pads, in real pipelines: text_sink (typed user
 * messages), transcript_src (final transcripts on the audio timeline, into
 * an appsink, textoverlay and a Matroska subtitle file) and image_sink
 * (frames to the model, throttled, newest first); pads requested and
 * released while PLAYING. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/app/gstappsrc.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include "scriptedprovider.h"
#include "leftover.h"

#define WAIT_MS 10000
/* GstBidiAgentTranscriptRoles "both" (the element's header is not
 * installed) */
#define GST_BIDI_AGENT_ROLES_BOTH 3

/* the audio side of every pipeline: live silence in, a syncing sink out */
#define AUDIO_IN "audiotestsrc is-live=true wave=silence samplesperbuffer=320 " \
    "! audio/x-raw,format=S16LE,rate=16000,channels=1 "
#define AUDIO_OUT "fakesink name=asink sync=true "

/* What the pad probes see. On the heap: a failed test leaves its pipeline
 * running (CK_FORK=no), and its probes must find this until the teardown
 * stops it. */
typedef struct
{
  GMutex lock;
  /* the first answer sample pushed on the audio src pad, and where the
   * last answer buffer ends */
  GstClockTime answer_pts;
  GstClockTime answer_end;
  /* what came down the transcript pad, in order: "buffer", "custom",
   * "gap", "flush-start" ... */
  GPtrArray *tr_events;
} Seen;

typedef struct
{
  GstElement *pipeline;
  GstElement *agent;
  GstBidiScriptedProvider *provider;
  GstBus *bus;
  Seen *seen;
} Fixture;

/* what the running test's probes see, for the teardown */
static Seen *running_seen;

static GstPadProbeReturn
audio_probe (G_GNUC_UNUSED GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Seen *seen = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  g_mutex_lock (&seen->lock);
  if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
    if (!GST_CLOCK_TIME_IS_VALID (seen->answer_pts))
      seen->answer_pts = GST_BUFFER_PTS (buf);
    seen->answer_end = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
  }
  g_mutex_unlock (&seen->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
transcript_probe (G_GNUC_UNUSED GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Seen *seen = user_data;
  const gchar *what = NULL;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    what = "buffer";
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_BOTH) {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

    switch (GST_EVENT_TYPE (ev)) {
      case GST_EVENT_CUSTOM_DOWNSTREAM:
        if (gst_event_has_name (ev, "rstranscribe/final-transcript"))
          what = "custom";
        break;
      case GST_EVENT_GAP:
        what = "gap";
        break;
      case GST_EVENT_FLUSH_START:
        what = "flush-start";
        break;
      case GST_EVENT_FLUSH_STOP:
        what = "flush-stop";
        break;
      case GST_EVENT_CAPS:
        what = "caps";
        break;
      case GST_EVENT_SEGMENT:
        what = "segment";
        break;
      case GST_EVENT_EOS:
        what = "eos";
        break;
      default:
        break;
    }
  }
  if (what) {
    g_mutex_lock (&seen->lock);
    /* one "gap" for a run of them */
    if (g_strcmp0 (what, "gap") != 0 || seen->tr_events->len == 0 ||
        g_strcmp0 (g_ptr_array_index (seen->tr_events, seen->tr_events->len - 1),
            "gap") != 0)
      g_ptr_array_add (seen->tr_events, (gpointer) what);
    g_mutex_unlock (&seen->lock);
  }
  return GST_PAD_PROBE_OK;
}

static void
fixture_start (Fixture * f, const gchar * desc)
{
  GError *err = NULL;
  GstPad *pad;

  memset (f, 0, sizeof (*f));
  f->seen = g_new0 (Seen, 1);
  g_mutex_init (&f->seen->lock);
  f->seen->answer_pts = GST_CLOCK_TIME_NONE;
  f->seen->answer_end = GST_CLOCK_TIME_NONE;
  f->seen->tr_events = g_ptr_array_new ();
  running_seen = f->seen;

  gst_bidi_scripted_provider_register ();
  gst_bidi_scripted_provider_reset_last ();
  f->pipeline = gst_parse_launch (desc, &err);
  fail_unless (f->pipeline != NULL, "%s: %s", desc, err ? err->message : "");
  g_clear_error (&err);
  leftover_watch (f->pipeline);
  f->agent = gst_bin_get_by_name (GST_BIN (f->pipeline), "a");
  fail_unless (f->agent != NULL);
  f->bus = gst_element_get_bus (f->pipeline);

  pad = gst_element_get_static_pad (f->agent, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, audio_probe, f->seen,
      NULL);
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (f->agent, "transcript_src");
  if (pad) {
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_EVENT_FLUSH,
        transcript_probe, f->seen, NULL);
    gst_object_unref (pad);
  }

  fail_if (gst_element_set_state (f->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  f->provider = gst_bidi_scripted_provider_get_last ();
  fail_unless (f->provider != NULL);
}

static void
seen_free (Seen * seen)
{
  g_ptr_array_unref (seen->tr_events);
  g_mutex_clear (&seen->lock);
  g_free (seen);
}

/* Stops what the test left running (leftover.h) and frees what its probes
 * saw; also the teardown, for a test that failed before fixture_stop */
static void
teardown (void)
{
  leftover_stop ();
  gst_bidi_scripted_provider_reset_last ();
  if (running_seen) {
    seen_free (running_seen);
    running_seen = NULL;
  }
}

static void
fixture_stop (Fixture * f)
{
  gst_element_set_state (f->pipeline, GST_STATE_NULL);
  gst_object_unref (f->bus);
  gst_object_unref (f->agent);
  gst_object_unref (f->pipeline);
  gst_object_unref (f->provider);
  teardown ();
}

/* Pops bus messages until an element message named @name; fails on an
 * error. NULL on timeout. */
static GstStructure *
wait_message (Fixture * f, const gchar * name, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end) {
    GstMessage *msg = gst_bus_timed_pop (f->bus, 50 * GST_MSECOND);
    GstStructure *s = NULL;

    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;
      gchar *dbg = NULL;

      gst_message_parse_error (msg, &err, &dbg);
      fail ("unexpected error: %s (%s)", err->message, dbg);
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING &&
        g_strcmp0 (name, "warning") == 0) {
      GError *err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      s = gst_structure_new ("warning", "message", G_TYPE_STRING,
          err->message, NULL);
      g_error_free (err);
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS &&
        g_strcmp0 (name, "eos") == 0) {
      s = gst_structure_new_empty ("eos");
    } else if (gst_message_has_name (msg, name)) {
      s = gst_structure_copy (gst_message_get_structure (msg));
    }
    gst_message_unref (msg);
    if (s)
      return s;
  }
  return NULL;
}

static void
wait_connected (Fixture * f)
{
  GstStructure *s = wait_message (f, "bidi_connection_start", WAIT_MS);

  fail_unless (s != NULL, "the provider did not connect");
  gst_structure_free (s);
}

static void
play_transcript (Fixture * f, const gchar * role, const gchar * text)
{
  gst_bidi_scripted_provider_play (f->provider,
      gst_bidi_event_new_transcript (role, text, TRUE, text));
}

static void
play_audio (Fixture * f, const gchar * id, guint ms)
{
  /* in one delta: in 20 ms ones, a busy machine may play the first before
   * the rest is in, and the answer then has holes the checks of its
   * caption's times would have to guess */
  gst_bidi_scripted_provider_play (f->provider,
      gst_structure_new (GST_BIDI_EVENT_AUDIO_STREAM, "duration-ms",
          G_TYPE_INT, ms, "chunk-ms", G_TYPE_INT, ms, "value", G_TYPE_INT,
          1000, "response_id", G_TYPE_STRING, id, NULL));
}

/* an answer of @ms of audio, its final transcript first (as Nova Sonic
 * sends them): so the caption is known before the first sample goes out,
 * however slow the machine (test_transcript_late: the other order) */
static void
play_answer (Fixture * f, const gchar * id, guint ms, const gchar * text)
{
  gst_bidi_scripted_provider_play (f->provider,
      gst_bidi_event_new_response_start (id));
  if (text)
    play_transcript (f, "assistant", text);
  play_audio (f, id, ms);
  gst_bidi_scripted_provider_play (f->provider,
      gst_bidi_event_new_response_complete (id, "complete"));
}

/* the next caption from the appsink "tsink", as text; its times */
static gchar *
pull_caption (Fixture * f, GstClockTime * pts, GstClockTime * dur)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (f->pipeline), "tsink");
  GstSample *sample;
  GstBuffer *buf;
  GstMapInfo map;
  gchar *text;

  sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
      WAIT_MS * GST_MSECOND);
  gst_object_unref (sink);
  if (!sample)
    return NULL;
  buf = gst_sample_get_buffer (sample);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  text = g_strndup ((const gchar *) map.data, map.size);
  gst_buffer_unmap (buf, &map);
  if (pts)
    *pts = GST_BUFFER_PTS (buf);
  if (dur)
    *dur = GST_BUFFER_DURATION (buf);
  gst_sample_unref (sample);
  return text;
}

/* until @ms of answer audio have left the element */
static void
wait_answer_played (Fixture * f, guint ms)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  gboolean done;

  do {
    g_mutex_lock (&f->seen->lock);
    done = GST_CLOCK_TIME_IS_VALID (f->seen->answer_pts) &&
        f->seen->answer_end >= f->seen->answer_pts + ms * GST_MSECOND;
    g_mutex_unlock (&f->seen->lock);
    if (done)
      return;
    g_usleep (5000);
  } while (g_get_monotonic_time () < end);
  fail ("the answer was not played");
}

/* the caption may come before the audio buffer it is stamped with */
static GstClockTime
wait_answer_pts (Fixture * f)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  GstClockTime pts;

  do {
    g_mutex_lock (&f->seen->lock);
    pts = f->seen->answer_pts;
    g_mutex_unlock (&f->seen->lock);
    if (GST_CLOCK_TIME_IS_VALID (pts))
      break;
    g_usleep (5000);
  } while (g_get_monotonic_time () < end);
  return pts;
}

static guint
count_events (Fixture * f, const gchar * what)
{
  guint i, n = 0;

  g_mutex_lock (&f->seen->lock);
  for (i = 0; i < f->seen->tr_events->len; i++)
    if (strcmp (g_ptr_array_index (f->seen->tr_events, i), what) == 0)
      n++;
  g_mutex_unlock (&f->seen->lock);
  return n;
}

static void
wait_count (Fixture * f, const gchar * what, guint n)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (count_events (f, what) < n && g_get_monotonic_time () < end)
    g_usleep (5000);
}

/* ------------------------------------------------------------------------
 * text_sink
 * ------------------------------------------------------------------------ */

static void
push_text (GstElement * appsrc, const gchar * text, gssize len)
{
  GstBuffer *buf;

  if (len < 0)
    len = strlen (text);
  buf = gst_buffer_new_memdup (text, len);
  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (appsrc), buf),
      GST_FLOW_OK);
}

/* the text of the provider's @index-th send_text call is @expect */
static void
check_text_call (Fixture * f, guint index, const gchar * expect)
{
  GstStructure *call = gst_bidi_scripted_provider_get_call (f->provider,
      "send-text", index);

  fail_unless (call != NULL, "no send_text call %u", index);
  fail_unless_equals_string (gst_structure_get_string (call, "text"), expect);
  fail_unless_equals_string (gst_structure_get_string (call, "role"), "user");
  gst_structure_free (call);
}

GST_START_TEST (test_text_sink)
{
  Fixture f;
  GstElement *src;
  GstStructure *s;

  fixture_start (&f, AUDIO_IN "! bidiagent name=a provider=scripted ! "
      AUDIO_OUT "appsrc name=t format=time "
      "caps=text/x-raw,format=utf8 ! a.text_sink");
  wait_connected (&f);
  src = gst_bin_get_by_name (GST_BIN (f.pipeline), "t");

  /* one buffer = one message; surrounding blanks go, empty ones are not
   * sent */
  push_text (src, "  what is two plus two \n", -1);
  push_text (src, " \n", -1);
  push_text (src, "and three?", -1);
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "send-text",
          2, WAIT_MS));
  check_text_call (&f, 0, "what is two plus two");
  check_text_call (&f, 1, "and three?");

  /* bad UTF-8: a warning, and the readable part is still sent */
  push_text (src, "caf\xe9 ok", 7);
  s = wait_message (&f, "warning", WAIT_MS);
  fail_unless (s != NULL, "no warning for bad UTF-8");
  fail_unless (strstr (gst_structure_get_string (s, "message"), "UTF-8"));
  gst_structure_free (s);
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "send-text",
          3, WAIT_MS));
  check_text_call (&f, 2, "caf\xef\xbf\xbd ok");

  /* the end of typed input is not the end of the conversation */
  fail_unless_equals_int (gst_app_src_end_of_stream (GST_APP_SRC (src)),
      GST_FLOW_OK);
  s = wait_message (&f, "eos", 500);
  fail_unless (s == NULL, "EOS on text_sink ended the pipeline");
  fail_unless_equals_int (gst_bidi_scripted_provider_count_calls (f.provider,
          "end-input"), 0);
  gst_object_unref (src);
  fixture_stop (&f);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * transcript_src
 * ------------------------------------------------------------------------ */

#define TRANSCRIPT_PIPELINE(props) \
  AUDIO_IN "! bidiagent name=a provider=scripted " props " ! " AUDIO_OUT \
  "a.transcript_src ! appsink name=tsink sync=false max-buffers=100"

GST_START_TEST (test_transcript_timing)
{
  Fixture f;
  GstClockTime pts, dur, answer_pts;
  gchar *text;
  GstPad *pad;
  GstCaps *caps;
  guint i;

  fixture_start (&f, TRANSCRIPT_PIPELINE ("transcript-prefix=true"));
  wait_connected (&f);

  play_transcript (&f, "user", "what time is it");
  text = pull_caption (&f, &pts, &dur);
  fail_unless_equals_string (text, "User: what time is it");
  g_free (text);
  fail_unless (GST_CLOCK_TIME_IS_VALID (pts));
  /* a reading time: between 1 and 3 s */
  fail_unless (dur >= GST_SECOND && dur <= 3 * GST_SECOND);

  /* partial transcripts are not captions */
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_transcript ("assistant", "It is", FALSE, "It is"));
  play_answer (&f, "r1", 1500, "It is noon.");
  text = pull_caption (&f, &pts, &dur);
  fail_unless_equals_string (text, "Assistant: It is noon.");
  g_free (text);

  /* stamped with the running time of the answer's first sample, lasting
   * as long as its audio */
  answer_pts = wait_answer_pts (&f);
  fail_unless (GST_CLOCK_TIME_IS_VALID (answer_pts));
  fail_unless_equals_clocktime (pts, answer_pts);
  fail_unless (dur >= 1500 * GST_MSECOND - GST_MSECOND &&
      dur <= 1500 * GST_MSECOND + GST_MSECOND, "duration %" GST_TIME_FORMAT,
      GST_TIME_ARGS (dur));

  /* caps, GAPs in between, and the custom event right after each caption */
  pad = gst_element_get_static_pad (f.agent, "transcript_src");
  caps = gst_pad_get_current_caps (pad);
  fail_unless (caps != NULL);
  fail_unless (gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "text/x-raw"));
  fail_unless_equals_string (gst_structure_get_string (gst_caps_get_structure
          (caps, 0), "format"), "utf8");
  gst_caps_unref (caps);
  gst_object_unref (pad);
  /* GAPs follow the audio past the captions; the custom event follows
   * each caption (it may still be on its way when the caption is pulled) */
  wait_count (&f, "gap", 1);
  wait_count (&f, "custom", 2);
  fail_unless (count_events (&f, "gap") >= 1);
  fail_unless_equals_int (count_events (&f, "buffer"), 2);
  fail_unless_equals_int (count_events (&f, "custom"), 2);
  g_mutex_lock (&f.seen->lock);
  for (i = 0; i < f.seen->tr_events->len; i++)
    if (strcmp (g_ptr_array_index (f.seen->tr_events, i), "buffer") == 0) {
      fail_unless (i + 1 < f.seen->tr_events->len);
      fail_unless_equals_string (g_ptr_array_index (f.seen->tr_events, i + 1),
          "custom");
    }
  fail_unless_equals_string (g_ptr_array_index (f.seen->tr_events, 0), "caps");
  g_mutex_unlock (&f.seen->lock);

  fixture_stop (&f);
}

GST_END_TEST;

/* A final transcript that comes when its answer is already playing (the
 * local provider's second pass, OpenAI's transcript.done): the caption
 * cannot start before what the text stream already passed, so it starts
 * late, and still lasts to the end of the answer's audio */
GST_START_TEST (test_transcript_late)
{
  Fixture f;
  GstClockTime pts, dur, answer_pts;
  gchar *text;

  fixture_start (&f, TRANSCRIPT_PIPELINE ("transcript-roles=assistant"));
  wait_connected (&f);
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_response_start ("r1"));
  play_audio (&f, "r1", 2000);
  wait_answer_played (&f, 300);
  play_transcript (&f, "assistant", "Late words.");
  gst_bidi_scripted_provider_play (f.provider,
      gst_bidi_event_new_response_complete ("r1", "complete"));

  text = pull_caption (&f, &pts, &dur);
  fail_unless_equals_string (text, "Late words.");
  g_free (text);
  answer_pts = wait_answer_pts (&f);
  fail_unless (pts >= answer_pts && pts < answer_pts + 2 * GST_SECOND,
      "%" GST_TIME_FORMAT " for an answer at %" GST_TIME_FORMAT,
      GST_TIME_ARGS (pts), GST_TIME_ARGS (answer_pts));
  fail_unless (pts + dur + GST_MSECOND >= answer_pts + 2 * GST_SECOND &&
      pts + dur <= answer_pts + 2 * GST_SECOND + GST_MSECOND,
      "ends at %" GST_TIME_FORMAT ", the answer at %" GST_TIME_FORMAT,
      GST_TIME_ARGS (pts + dur), GST_TIME_ARGS (answer_pts + 2 * GST_SECOND));
  fixture_stop (&f);
}

GST_END_TEST;

static void
check_roles (const gchar * roles, const gchar * expect)
{
  Fixture f;
  gchar *props = g_strdup_printf ("transcript-roles=%s", roles);
  gchar *desc = g_strdup_printf (TRANSCRIPT_PIPELINE ("%s"), props);
  GstStructure *s;
  gchar *text;

  fixture_start (&f, desc);
  wait_connected (&f);
  play_transcript (&f, "user", "hello there");
  play_answer (&f, "r1", 200, "hello you");
  /* once those went by, both sides: a marker */
  s = wait_message (&f, "bidi_response_complete", WAIT_MS);
  fail_unless (s != NULL);
  gst_structure_free (s);
  g_object_set (f.agent, "transcript-roles", GST_BIDI_AGENT_ROLES_BOTH, NULL);
  play_transcript (&f, "user", "end");

  text = pull_caption (&f, NULL, NULL);
  fail_unless_equals_string (text, expect);
  g_free (text);
  text = pull_caption (&f, NULL, NULL);
  fail_unless_equals_string (text, "end");
  g_free (text);

  fixture_stop (&f);
  g_free (desc);
  g_free (props);
}

GST_START_TEST (test_transcript_roles)
{
  check_roles ("assistant", "hello you");
  check_roles ("user", "hello there");
}

GST_END_TEST;

GST_START_TEST (test_transcript_interrupted)
{
  Fixture f;
  gboolean ret = FALSE;
  gchar *text;

  fixture_start (&f, TRANSCRIPT_PIPELINE (""));
  wait_connected (&f);

  /* a long answer, its caption out; the user cuts in */
  play_answer (&f, "r1", 5000, "a very long answer");
  text = pull_caption (&f, NULL, NULL);
  fail_unless_equals_string (text, "a very long answer");
  g_free (text);
  g_signal_emit_by_name (f.agent, "interrupt", &ret);
  fail_unless (ret);

  /* the text branch is flushed with the audio */
  wait_count (&f, "flush-stop", 1);
  fail_unless_equals_int (count_events (&f, "flush-start"), 1);
  fail_unless_equals_int (count_events (&f, "flush-stop"), 1);

  /* a final transcript of the cut answer that comes late is not a
   * caption: nobody heard it */
  play_transcript (&f, "assistant", "the rest that was never heard");
  play_answer (&f, "r2", 300, "the next answer");
  text = pull_caption (&f, NULL, NULL);
  fail_unless_equals_string (text, "the next answer");
  g_free (text);

  fixture_stop (&f);
}

GST_END_TEST;

/* textoverlay takes the pad as it is: the caption is drawn on the frames
 * of its time span, and only on those */
GST_START_TEST (test_transcript_textoverlay)
{
  Fixture f;
  GstElement *vsink;
  GstClockTime cap_start = GST_CLOCK_TIME_NONE, cap_end = 0;
  guint drawn_in = 0, drawn_out = 0, frames = 0;
  gint64 end;

  fixture_start (&f, AUDIO_IN "! bidiagent name=a provider=scripted ! "
      AUDIO_OUT "videotestsrc is-live=true pattern=black ! "
      "video/x-raw,format=RGBx,width=160,height=120,framerate=25/1 ! "
      "textoverlay name=o font-desc=\"Sans 20\" ! appsink name=v "
      "sync=false max-buffers=500 a.transcript_src ! o.text_sink");
  wait_connected (&f);
  vsink = gst_bin_get_by_name (GST_BIN (f.pipeline), "v");

  /* let some black frames go by, then a 1.5 s answer */
  g_usleep (400 * 1000);
  play_answer (&f, "r1", 1500, "HELLO");

  /* frames until well past the caption's end (pango's first start is slow
   * under valgrind: a generous deadline, no timing in the verdict) */
  end = g_get_monotonic_time () + 120 * G_TIME_SPAN_SECOND;
  while (g_get_monotonic_time () < end) {
    GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (vsink),
        (end - g_get_monotonic_time ()) * GST_USECOND);
    GstBuffer *buf;
    GstMapInfo map;
    gsize i, lit = 0;
    GstClockTime ts;

    fail_unless (sample != NULL, "no video");
    buf = gst_sample_get_buffer (sample);
    ts = GST_BUFFER_PTS (buf);
    gst_buffer_map (buf, &map, GST_MAP_READ);
    for (i = 0; i < map.size; i += 4)
      if (map.data[i] > 128)
        lit++;
    gst_buffer_unmap (buf, &map);
    gst_sample_unref (sample);
    frames++;
    GST_LOG ("frame %" GST_TIME_FORMAT ": %" G_GSIZE_FORMAT " lit",
        GST_TIME_ARGS (ts), lit);

    g_mutex_lock (&f.seen->lock);
    if (GST_CLOCK_TIME_IS_VALID (f.seen->answer_pts)) {
      cap_start = f.seen->answer_pts;
      cap_end = cap_start + 1500 * GST_MSECOND;
    }
    g_mutex_unlock (&f.seen->lock);
    if (!GST_CLOCK_TIME_IS_VALID (cap_start) || ts + 40 * GST_MSECOND <
        cap_start) {
      /* before the answer */
      drawn_out += lit > 0;
    } else if (ts >= cap_start + 40 * GST_MSECOND &&
        ts + 40 * GST_MSECOND < cap_end) {
      drawn_in += lit > 0;
    } else if (ts > cap_end + 40 * GST_MSECOND) {
      drawn_out += lit > 0;
      if (ts > cap_end + 500 * GST_MSECOND)
        break;
    }
  }
  GST_INFO ("%u frames, %u with the caption, %u lit outside", frames,
      drawn_in, drawn_out);
  /* the frames of its span carry it (~35 at 25 fps; fewer arrive under
   * valgrind), no other frame does */
  fail_unless (drawn_in >= 5, "caption drawn on %u frames", drawn_in);
  fail_unless_equals_int (drawn_out, 0);

  gst_object_unref (vsink);
  fixture_stop (&f);
}

GST_END_TEST;

/* A subtitle file: the pad straight into matroskamux, read back */
GST_START_TEST (test_transcript_subtitle_file)
{
  Fixture f;
  gchar *dir = g_dir_make_tmp ("bidipads-XXXXXX", NULL);
  gchar *file = g_build_filename (dir, "transcript.mks", NULL);
  gchar *desc, *text;
  GstElement *reader, *sink;
  GstStructure *s;
  GstClockTime answer_pts, pts, dur;

  desc = g_strdup_printf (AUDIO_IN "! bidiagent name=a provider=scripted ! "
      AUDIO_OUT "a.transcript_src ! matroskamux ! filesink location=\"%s\"",
      file);
  fixture_start (&f, desc);
  g_free (desc);
  wait_connected (&f);
  play_transcript (&f, "user", "what is the weather");
  play_answer (&f, "r1", 1200, "Sunny all day.");
  wait_answer_played (&f, 1200);
  answer_pts = wait_answer_pts (&f);

  /* the input ends once the answer was heard (however slow the machine),
   * and EOS reaches the file */
  gst_element_send_event (f.pipeline, gst_event_new_eos ());
  s = wait_message (&f, "eos", WAIT_MS);
  fail_unless (s != NULL, "no EOS");
  gst_structure_free (s);
  fixture_stop (&f);

  desc = g_strdup_printf ("filesrc location=\"%s\" ! matroskademux ! "
      "appsink name=tsink sync=false", file);
  reader = gst_parse_launch (desc, NULL);
  g_free (desc);
  fail_unless (reader != NULL);
  leftover_watch (reader);
  gst_element_set_state (reader, GST_STATE_PLAYING);
  sink = gst_bin_get_by_name (GST_BIN (reader), "tsink");
  {
    Fixture r = {.pipeline = reader };
    text = pull_caption (&r, &pts, &dur);
    fail_unless_equals_string (text, "what is the weather");
    g_free (text);
    text = pull_caption (&r, &pts, &dur);
    fail_unless_equals_string (text, "Sunny all day.");
    g_free (text);
  }
  /* Matroska keeps milliseconds */
  fail_unless (pts + GST_MSECOND >= answer_pts &&
      pts <= answer_pts + GST_MSECOND, "%" GST_TIME_FORMAT " vs %"
      GST_TIME_FORMAT, GST_TIME_ARGS (pts), GST_TIME_ARGS (answer_pts));
  fail_unless (dur + 2 * GST_MSECOND >= 1200 * GST_MSECOND &&
      dur <= 1202 * GST_MSECOND);
  gst_element_set_state (reader, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (reader);

  g_unlink (file);
  g_rmdir (dir);
  g_free (file);
  g_free (dir);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * image_sink
 * ------------------------------------------------------------------------ */

/* a "JPEG" of @size bytes: what the element looks at is the magic */
static GstBuffer *
make_frame (gsize size)
{
  guint8 *data = g_malloc0 (size);

  data[0] = 0xff;
  data[1] = 0xd8;
  data[2] = 0xff;
  return gst_buffer_new_wrapped (data, size);
}

GST_START_TEST (test_image_sink_newest_wins)
{
  Fixture f;
  GstElement *src;
  guint i, n;
  guint64 size, prev = 0;
  gint64 start, elapsed_ms;
  GstStructure *call;

  fixture_start (&f, AUDIO_IN "! bidiagent name=a provider=scripted "
      "image-interval-ms=300 ! " AUDIO_OUT "appsrc name=i format=time "
      "caps=image/jpeg ! a.image_sink");
  wait_connected (&f);
  src = gst_bin_get_by_name (GST_BIN (f.pipeline), "i");

  /* 30 frames, 30 ms apart: frame k is 1000 + k bytes */
  start = g_get_monotonic_time ();
  for (i = 0; i < 30; i++) {
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src),
            make_frame (1000 + i)), GST_FLOW_OK);
    g_usleep (30 * 1000);
  }
  /* the last one waits for its turn */
  g_usleep (600 * 1000);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;

  n = gst_bidi_scripted_provider_count_calls (f.provider, "send-image");
  GST_INFO ("%u of 30 frames sent in %" G_GINT64_FORMAT " ms", n,
      elapsed_ms);
  /* at most one per 300 ms, and more than the first */
  fail_unless (n >= 2 && n <= elapsed_ms / 300 + 1, "%u frames sent in %"
      G_GINT64_FORMAT " ms", n, elapsed_ms);
  for (i = 0; i < n; i++) {
    call = gst_bidi_scripted_provider_get_call (f.provider, "send-image", i);
    fail_unless (gst_structure_get_uint64 (call, "size", &size));
    fail_unless_equals_string (gst_structure_get_string (call, "mime"),
        "image/jpeg");
    gst_structure_free (call);
    /* the first goes at once; then always the newest frame */
    if (i == 0) {
      fail_unless_equals_uint64 (size, 1000);
    } else {
      fail_unless (size > prev);
    }
    prev = size;
  }
  fail_unless_equals_uint64 (prev, 1029);

  /* not an image: a warning, nothing sent */
  {
    GstBuffer *junk = gst_buffer_new_memdup ("hello", 5);
    GstStructure *s;

    g_usleep (350 * 1000);
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), junk),
        GST_FLOW_OK);
    s = wait_message (&f, "warning", WAIT_MS);
    fail_unless (s != NULL);
    fail_unless (strstr (gst_structure_get_string (s, "message"),
            "not a JPEG or PNG"));
    gst_structure_free (s);
    fail_unless_equals_int (gst_bidi_scripted_provider_count_calls
        (f.provider, "send-image"), n);
  }

  gst_object_unref (src);
  fixture_stop (&f);
}

GST_END_TEST;

/* The README's camera line, with a test picture for the camera: JPEG
 * frames reach the model, not more than one per interval */
GST_START_TEST (test_image_sink_camera)
{
  Fixture f;
  GstStructure *call;
  guint n, i;
  gint64 start, elapsed_ms;

  fixture_start (&f, AUDIO_IN "! bidiagent name=a provider=scripted "
      "image-interval-ms=250 ! " AUDIO_OUT "videotestsrc is-live=true ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! videorate ! "
      "video/x-raw,framerate=10/1 ! jpegenc ! a.image_sink");
  wait_connected (&f);
  start = g_get_monotonic_time ();
  fail_unless (gst_bidi_scripted_provider_wait_call (f.provider, "send-image",
          3, WAIT_MS));
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  n = gst_bidi_scripted_provider_count_calls (f.provider, "send-image");
  fail_unless (n <= elapsed_ms / 250 + 2, "%u frames in %" G_GINT64_FORMAT
      " ms", n, elapsed_ms);
  for (i = 0; i < 3; i++) {
    guint64 size = 0;

    call = gst_bidi_scripted_provider_get_call (f.provider, "send-image", i);
    fail_unless_equals_string (gst_structure_get_string (call, "mime"),
        "image/jpeg");
    fail_unless (gst_structure_get_uint64 (call, "size", &size) && size > 100);
    gst_structure_free (call);
  }
  fixture_stop (&f);
}

GST_END_TEST;

#ifdef HAVE_PROVIDER_LOCAL
/* A provider without image input (local): one warning, frames dropped */
GST_START_TEST (test_image_sink_provider_without_images)
{
  GstElement *pipeline, *src;
  GstBus *bus;
  guint i, warnings = 0;
  gint64 end;

  pipeline = gst_parse_launch (AUDIO_IN "! bidiagent name=a provider=local "
      "image-interval-ms=0 ! " AUDIO_OUT "appsrc name=i format=time "
      "caps=image/png ! a.image_sink", NULL);
  fail_unless (pipeline != NULL);
  leftover_watch (pipeline);
  bus = gst_element_get_bus (pipeline);
  src = gst_bin_get_by_name (GST_BIN (pipeline), "i");
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  for (i = 0; i < 5; i++) {
    GstBuffer *buf = gst_buffer_new_memdup ("\x89PNG\r\n\x1a\n....", 12);
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src), buf),
        GST_FLOW_OK);
  }
  end = g_get_monotonic_time () + 3 * G_TIME_SPAN_SECOND;
  while (g_get_monotonic_time () < end) {
    GstMessage *msg = gst_bus_timed_pop (bus, 50 * GST_MSECOND);

    if (!msg)
      continue;
    fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING) {
      GError *err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      fail_unless (strstr (err->message, "takes no images"), "%s",
          err->message);
      g_error_free (err);
      warnings++;
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (warnings, 1);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;
#endif

/* ------------------------------------------------------------------------
 * Adding and removing request pads while PLAYING
 * ------------------------------------------------------------------------ */

GST_START_TEST (test_request_release_playing)
{
  Fixture f;
  GstElement *tsink, *tsrc;
  GstPad *pad, *peer;
  gchar *text;
  guint round;

  fixture_start (&f, AUDIO_IN "! bidiagent name=a provider=scripted ! "
      AUDIO_OUT);
  wait_connected (&f);
  pad = gst_element_request_pad_simple (f.agent, "transcript_src");
  fail_unless (pad != NULL);
  gst_element_release_request_pad (f.agent, pad);
  gst_object_unref (pad);

  for (round = 0; round < 2; round++) {
    gchar *line = g_strdup_printf ("answer %u", round);

    /* a caption branch, added while the answer plays */
    tsink = gst_element_factory_make ("appsink", "tsink");
    g_object_set (tsink, "sync", FALSE, NULL);
    gst_bin_add (GST_BIN (f.pipeline), tsink);
    pad = gst_element_request_pad_simple (f.agent, "transcript_src");
    fail_unless (pad != NULL);
    peer = gst_element_get_static_pad (tsink, "sink");
    fail_unless_equals_int (gst_pad_link (pad, peer), GST_PAD_LINK_OK);
    gst_object_unref (peer);
    fail_unless (gst_element_sync_state_with_parent (tsink));

    /* typed input, added too */
    tsrc = gst_element_factory_make ("appsrc", "t");
    {
      GstCaps *caps = gst_caps_from_string ("text/x-raw, format=utf8");
      g_object_set (tsrc, "format", GST_FORMAT_TIME, "caps", caps, NULL);
      gst_caps_unref (caps);
    }
    gst_bin_add (GST_BIN (f.pipeline), tsrc);
    fail_unless (gst_element_link_pads (tsrc, "src", f.agent, "text_sink"));
    fail_unless (gst_element_sync_state_with_parent (tsrc));
    push_text (tsrc, line, -1);
    fail_unless (gst_bidi_scripted_provider_wait_call (f.provider,
            "send-text", round + 1, WAIT_MS));
    check_text_call (&f, round, line);

    play_answer (&f, "r", 300, line);
    text = pull_caption (&f, NULL, NULL);
    fail_unless_equals_string (text, line);
    g_free (text);

    /* and both go again: out of the bin first, so that the pipeline does
     * not bring them back to PLAYING, then stopped */
    peer = gst_element_get_static_pad (f.agent, "text_sink");
    gst_object_ref (tsrc);
    gst_bin_remove (GST_BIN (f.pipeline), tsrc);
    gst_element_set_state (tsrc, GST_STATE_NULL);
    gst_object_unref (tsrc);
    gst_element_release_request_pad (f.agent, peer);
    gst_object_unref (peer);

    gst_object_ref (tsink);
    gst_bin_remove (GST_BIN (f.pipeline), tsink);
    gst_element_set_state (tsink, GST_STATE_NULL);
    gst_object_unref (tsink);
    gst_element_release_request_pad (f.agent, pad);
    gst_object_unref (pad);
    g_free (line);
  }
  fail_unless (gst_element_get_static_pad (f.agent, "transcript_src") ==
      NULL);
  /* no error all along (wait_message fails on one) */
  fail_unless (wait_message (&f, "no-such-message", 200) == NULL);

  fixture_stop (&f);
}

GST_END_TEST;

/* interruption=cut: the text branch is not flushed either (it may go into
 * the same file as the audio); the cut answer's late transcript is still
 * no caption, and the next answer comes where the cut one stopped */
GST_START_TEST (test_transcript_cut)
{
  Fixture f;
  GstClockTime pts1, pts2;
  gboolean ret = FALSE;
  gchar *text;

  fixture_start (&f, TRANSCRIPT_PIPELINE ("interruption=cut"));
  wait_connected (&f);

  play_answer (&f, "r1", 5000, "a very long answer");
  text = pull_caption (&f, &pts1, NULL);
  fail_unless_equals_string (text, "a very long answer");
  g_free (text);
  g_signal_emit_by_name (f.agent, "interrupt", &ret);
  fail_unless (ret);

  play_transcript (&f, "assistant", "the rest that was never heard");
  play_answer (&f, "r2", 300, "the next answer");
  text = pull_caption (&f, &pts2, NULL);
  fail_unless_equals_string (text, "the next answer");
  g_free (text);
  /* the five seconds of the first answer were not all played */
  fail_unless (pts2 < pts1 + 4 * GST_SECOND, "the next answer at %"
      GST_TIME_FORMAT ", the cut one at %" GST_TIME_FORMAT,
      GST_TIME_ARGS (pts2), GST_TIME_ARGS (pts1));
  fail_unless_equals_int (count_events (&f, "flush-start"), 0);
  fail_unless_equals_int (count_events (&f, "flush-stop"), 0);

  fixture_stop (&f);
}

GST_END_TEST;

static Suite *
bidipads_suite (void)
{
  Suite *s = suite_create ("bidipads");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, teardown);
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_text_sink);
  tcase_add_test (tc, test_transcript_timing);
  tcase_add_test (tc, test_transcript_late);
  tcase_add_test (tc, test_transcript_roles);
  tcase_add_test (tc, test_transcript_interrupted);
  tcase_add_test (tc, test_transcript_textoverlay);
  tcase_add_test (tc, test_transcript_subtitle_file);
  tcase_add_test (tc, test_image_sink_newest_wins);
  tcase_add_test (tc, test_image_sink_camera);
#ifdef HAVE_PROVIDER_LOCAL
  tcase_add_test (tc, test_image_sink_provider_without_images);
#endif
  tcase_add_test (tc, test_request_release_playing);
  tcase_add_test (tc, test_transcript_cut);
  return s;
}

GST_CHECK_MAIN (bidipads);
