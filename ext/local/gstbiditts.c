/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* flite speech synthesis for the local provider. Voices are flite's
 * compiled-in ones (no downloads): slt (female, US, the default), kal
 * (male, US, an 8 kHz diphone voice, resampled to 16 kHz), awb (male,
 * Scottish) and rms (male, US). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/bidi/gstbidihistory.h>
#include <flite/flite.h>

#include "gstbiditts.h"

/* from libflite_cmu_us_*.so; flite ships no header for them */
cst_voice *register_cmu_us_slt (const char *voxdir);
cst_voice *register_cmu_us_kal (const char *voxdir);
cst_voice *register_cmu_us_awb (const char *voxdir);
cst_voice *register_cmu_us_rms (const char *voxdir);

typedef struct
{
  const gchar *name;
  cst_voice *(*reg) (const char *voxdir);
  cst_voice *voice;             /* protected by flite_lock; never freed */
} Voice;

/* flite's state is global: one lock for all calls into it */
static GMutex flite_lock;
static gboolean flite_ready;    /* protected by flite_lock */
static Voice voices[] = {
  {"slt", register_cmu_us_slt, NULL},
  {"kal", register_cmu_us_kal, NULL},
  {"awb", register_cmu_us_awb, NULL},
  {"rms", register_cmu_us_rms, NULL},
};

const gchar *
gst_bidi_tts_voice_names (void)
{
  return "slt, kal, awb, rms";
}

static Voice *
find_voice (const gchar * name)
{
  guint i;

  if (!name)
    name = GST_BIDI_TTS_DEFAULT_VOICE;
  for (i = 0; i < G_N_ELEMENTS (voices); i++)
    if (g_ascii_strcasecmp (voices[i].name, name) == 0)
      return &voices[i];
  return NULL;
}

gboolean
gst_bidi_tts_voice_exists (const gchar * name)
{
  return find_voice (name) != NULL;
}

/* with flite_lock */
static cst_voice *
load_voice_unlocked (Voice * v)
{
  if (!flite_ready) {
    flite_init ();
    flite_ready = TRUE;
  }
  if (!v->voice)
    v->voice = v->reg (NULL);
  return v->voice;
}

gboolean
gst_bidi_tts_prepare (const gchar * voice, GError ** error)
{
  Voice *v = find_voice (voice);
  cst_voice *cv;

  if (!v)
    goto unknown;
  g_mutex_lock (&flite_lock);
  cv = load_voice_unlocked (v);
  g_mutex_unlock (&flite_lock);
  if (!cv)
    goto failed;
  return TRUE;

  /* ERRORS */
unknown:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Unknown voice \"%s\" (flite has: %s)", voice,
        gst_bidi_tts_voice_names ());
    return FALSE;
  }
failed:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
        "flite could not load voice \"%s\"", v->name);
    return FALSE;
  }
}

typedef struct _Stream Stream;
static GBytes *synthesize (const gchar * voice, const gchar * text,
    gboolean seeded, guint seed, Stream * st, GError ** error);

/* flite starts every wave with 140-280 ms of near-silence (RMS below -60
 * dBFS): an answer would start that late. Speech starts at the first 5 ms
 * window above -50 dBFS; ONSET_KEEP_MS before it stay, faded in, so that
 * a soft first consonant is not clipped. */
#define ONSET_WINDOW (GST_BIDI_TTS_RATE / 200)
#define ONSET_RMS 100.0
#define ONSET_KEEP_MS 15

gsize
gst_bidi_tts_speech_onset (const gint16 * samples, gsize n)
{
  gsize i, k;

  for (i = 0; i + ONSET_WINDOW <= n; i += ONSET_WINDOW) {
    gdouble sum = 0;

    for (k = 0; k < ONSET_WINDOW; k++)
      sum += (gdouble) samples[i + k] * samples[i + k];
    if (sum / ONSET_WINDOW > ONSET_RMS * ONSET_RMS)
      return i;
  }
  return n;
}

/* Where audio whose speech starts at @onset is cut in: ONSET_KEEP_MS
 * before it */
static gsize
onset_start (gsize onset)
{
  gsize keep = (gsize) ONSET_KEEP_MS * GST_BIDI_TTS_RATE / 1000;

  return onset > keep ? onset - keep : 0;
}

/* Fades in the first @n samples of @s */
static void
fade_in (gint16 * s, gsize n)
{
  gsize i;

  for (i = 0; i < n; i++)
    s[i] = (gint16) ((gint32) s[i] * (gint32) i / (gint32) n);
}

/* Drops the leading near-silence of @pcm (16 kHz, native endian) */
static GBytes *
trim_leading_silence (GBytes * pcm)
{
  gsize size, n, onset, start;
  const gint16 *s = g_bytes_get_data (pcm, &size);
  gint16 *out;

  n = size / 2;
  onset = gst_bidi_tts_speech_onset (s, n);
  if (onset >= n)
    return pcm;                 /* no speech at all: leave it alone */
  start = onset_start (onset);
  if (start == 0)
    return pcm;
  out = g_new (gint16, n - start);
  memcpy (out, s + start, (n - start) * sizeof (gint16));
  fade_in (out, onset - start);
  g_bytes_unref (pcm);
  return g_bytes_new_take (out, (n - start) * sizeof (gint16));
}

/* Streaming: flite hands out its wave while it makes it. The leading
 * near-silence is held back until the speech starts, then cut as
 * trim_leading_silence() does. The first piece goes out once it has
 * STREAM_FIRST_MS of speech, the next ones once they last STREAM_PIECE_MS,
 * so the receiver is not woken every few milliseconds. */
#define STREAM_FIRST_MS 20
#define STREAM_PIECE_MS 100

struct _Stream
{
  GstBidiTtsPieceFunc func;
  gpointer user_data;
  GArray *pending;              /* gint16: not handed out yet */
  gsize scanned;                /* of pending, looked at for the onset */
  gboolean speaking;            /* the speech started */
  gboolean streamed;            /* flite's wave was handed out as it came */
  gboolean stopped;             /* func said stop */
  guint pieces;                 /* handed out */
};

static gboolean
stream_flush (Stream * st)
{
  gboolean go;

  if (st->pending->len == 0)
    return TRUE;
#if G_BYTE_ORDER == G_BIG_ENDIAN
  {
    gint16 *p = (gint16 *) st->pending->data;
    guint i;
    for (i = 0; i < st->pending->len; i++)
      p[i] = GUINT16_SWAP_LE_BE (p[i]);
  }
#endif
  go = st->func ((const gint16 *) st->pending->data, st->pending->len,
      st->user_data);
  g_array_set_size (st->pending, 0);
  st->pieces++;
  return go;
}

/* Until the speech starts: TRUE once it did (the silence before cut off) */
static gboolean
stream_find_onset (Stream * st)
{
  gint16 *p = (gint16 *) st->pending->data;
  gsize n = st->pending->len, onset, start;

  /* whole windows only, counted from the start of the wave */
  onset = st->scanned + gst_bidi_tts_speech_onset (p + st->scanned,
      n - st->scanned);
  if (onset >= n) {
    st->scanned = n - n % (GST_BIDI_TTS_RATE / 200);
    return FALSE;
  }
  start = onset_start (onset);
  if (start > 0) {
    g_array_remove_range (st->pending, 0, start);
    fade_in ((gint16 *) st->pending->data, onset - start);
  }
  return TRUE;
}

/* flite's audio_stream_chunk callback (with flite_lock) */
static int
on_flite_chunk (const cst_wave * w, int start, int size, int last,
    cst_audio_streaming_info * asi)
{
  Stream *st = asi->userdata;
  guint piece_ms;

  /* another rate is resampled whole, after */
  if (st->stopped || w->sample_rate != GST_BIDI_TTS_RATE)
    return st->stopped ? CST_AUDIO_STREAM_STOP : CST_AUDIO_STREAM_CONT;
  st->streamed = TRUE;
  if (size > 0)
    g_array_append_vals (st->pending, w->samples + start, size);
  if (!st->speaking)
    st->speaking = stream_find_onset (st);
  piece_ms = st->pieces ? STREAM_PIECE_MS : STREAM_FIRST_MS;
  /* a wave with no speech at all goes out as it is */
  if ((st->speaking || last) && (last || st->pending->len >=
          (guint) piece_ms * GST_BIDI_TTS_RATE / 1000) && !stream_flush (st))
    st->stopped = TRUE;
  return st->stopped ? CST_AUDIO_STREAM_STOP : CST_AUDIO_STREAM_CONT;
}

GBytes *
gst_bidi_tts_synthesize (const gchar * voice, const gchar * text,
    GError ** error)
{
  GBytes *pcm = synthesize (voice, text, FALSE, 0, NULL, error);

  return pcm ? trim_leading_silence (pcm) : NULL;
}

gboolean
gst_bidi_tts_synthesize_stream (const gchar * voice, const gchar * text,
    GstBidiTtsPieceFunc func, gpointer user_data, GError ** error)
{
  Stream st = { func, user_data, NULL, 0, FALSE, FALSE, FALSE, 0 };
  GBytes *pcm;
  gsize size;

  st.pending = g_array_new (FALSE, FALSE, sizeof (gint16));
  pcm = synthesize (voice, text, FALSE, 0, &st, error);
  /* what flite made after its last call, if any */
  if (pcm && st.streamed && !st.stopped)
    stream_flush (&st);
  g_array_unref (st.pending);
  if (!pcm)
    return FALSE;
  /* not streamed (another rate, or nothing to say): in one piece */
  if (!st.streamed) {
    pcm = trim_leading_silence (pcm);
    if (g_bytes_get_size (pcm) > 0)
      func (g_bytes_get_data (pcm, &size), g_bytes_get_size (pcm) / 2,
          user_data);
  }
  g_bytes_unref (pcm);
  return TRUE;
}

GBytes *
gst_bidi_tts_synthesize_seeded (const gchar * voice, const gchar * text,
    guint seed, GError ** error)
{
  return synthesize (voice, text, TRUE, seed, NULL, error);
}

/* flite_text_to_wave (), with @st's streaming hook set on the utterance,
 * never on the voice: flite keeps one voice per process, which another
 * copy of this file (a test program's, beside the plugin's) may be
 * synthesizing with at the same time, under a lock of its own */
static cst_wave *
text_to_wave (cst_voice * cv, const gchar * text, Stream * st)
{
  cst_utterance *u = new_utterance ();
  cst_wave *wave = NULL;

  utt_set_input_text (u, text);
  utt_init (u, cv);
  if (st) {
    cst_audio_streaming_info *asi = new_audio_streaming_info ();

    asi->asc = on_flite_chunk;
    asi->userdata = st;
    /* the utterance's features own it from here */
    feat_set (u->features, "streaming_info", audio_streaming_info_val (asi));
  }
  if (utt_synth (u) && utt_wave (u))
    wave = copy_wave (utt_wave (u));
  delete_utterance (u);
  return wave;
}

/* With @st, flite's wave also goes to it as it is made; then (if it was
 * streamed) the bytes returned are empty. */
static GBytes *
synthesize (const gchar * voice, const gchar * text, gboolean seeded,
    guint seed, Stream * st, GError ** error)
{
  Voice *v = find_voice (voice);
  cst_voice *cv;
  cst_wave *wave;
  gchar *ascii;
  gint16 *samples;
  gsize n;

  if (!v)
    goto unknown;
  if (!text)
    return g_bytes_new (NULL, 0);

  /* flite reads bytes as Latin-ish text: give it plain ASCII */
  ascii = g_str_to_ascii (text, "C");
  g_strstrip (ascii);
  if (!*ascii) {
    g_free (ascii);
    return g_bytes_new (NULL, 0);
  }

  g_mutex_lock (&flite_lock);
  cv = load_voice_unlocked (v);
  if (seeded)
    srand (seed);
  wave = cv ? text_to_wave (cv, ascii, st) : NULL;
  if (wave && wave->sample_rate != GST_BIDI_TTS_RATE && wave->num_samples > 0)
    cst_wave_resample (wave, GST_BIDI_TTS_RATE);
  g_mutex_unlock (&flite_lock);
  g_free (ascii);

  if (!wave)
    goto failed;
  if (st && st->streamed) {
    delete_wave (wave);
    return g_bytes_new (NULL, 0);
  }

  /* flite's waves are mono; take the first channel if ever not */
  n = MAX (wave->num_samples, 0);
  samples = g_new (gint16, MAX (n, 1));
  if (wave->num_channels <= 1) {
    memcpy (samples, wave->samples, n * sizeof (gint16));
  } else {
    gsize i;
    for (i = 0; i < n; i++)
      samples[i] = wave->samples[i * wave->num_channels];
  }
  delete_wave (wave);

#if G_BYTE_ORDER == G_BIG_ENDIAN
  {
    gsize i;
    for (i = 0; i < n; i++)
      samples[i] = GUINT16_SWAP_LE_BE (samples[i]);
  }
#endif
  return g_bytes_new_take (samples, n * sizeof (gint16));

  /* ERRORS */
unknown:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Unknown voice \"%s\" (flite has: %s)", voice,
        gst_bidi_tts_voice_names ());
    return NULL;
  }
failed:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
        "flite could not synthesize \"%s\"", text);
    return NULL;
  }
}

static gboolean
is_sentence_end (const gchar * p)
{
  if (*p == '\n')
    return TRUE;
  if (*p != '.' && *p != '!' && *p != '?')
    return FALSE;
  /* closing quotes and brackets belong to the sentence */
  for (p++; *p == '"' || *p == '\'' || *p == ')' || *p == ']'; p++);
  return *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
}

gchar *
gst_bidi_tts_next_sentence (GString * pending, gboolean flush)
{
  for (;;) {
    gchar *p, *sentence;
    gsize len;

    /* skip leading white space */
    for (p = pending->str; *p && g_ascii_isspace (*p); p++);
    if (p != pending->str)
      g_string_erase (pending, 0, p - pending->str);
    if (pending->len == 0)
      return NULL;

    for (p = pending->str; *p && !is_sentence_end (p); p++);
    if (!*p) {
      if (!flush)
        return NULL;
      len = pending->len;
    } else {
      /* include the punctuation and closing marks */
      if (*p != '\n')
        for (p++; *p == '"' || *p == '\'' || *p == ')' || *p == ']'; p++);
      len = p - pending->str;
    }
    sentence = g_strndup (pending->str, len);
    g_string_erase (pending, 0, len);
    g_strstrip (sentence);
    if (*sentence)
      return sentence;
    g_free (sentence);
  }
}

gchar *
gst_bidi_tts_clean_text (const gchar * text)
{
  GString *s = g_string_new (NULL);
  const gchar *p;
  gboolean line_start = TRUE, space = FALSE;

  if (!text)
    return g_string_free (s, FALSE);

  for (p = text; *p; p++) {
    gchar c = *p;

    if (line_start) {
      /* list bullets and headings */
      while (*p == ' ' || *p == '\t')
        p++;
      if ((*p == '-' || *p == '*' || *p == '+') && p[1] == ' ')
        p += 2;
      while (*p == '#')
        p++;
      line_start = FALSE;
      c = *p;
      if (!c)
        break;
    }
    if (c == '*' || c == '_' || c == '`' || c == '#')
      continue;
    if (c == '\n') {
      /* keep line breaks: they end sentences */
      while (s->len && s->str[s->len - 1] == ' ')
        g_string_truncate (s, s->len - 1);
      g_string_append_c (s, '\n');
      line_start = TRUE;
      space = FALSE;
      continue;
    }
    if (g_ascii_isspace (c)) {
      space = TRUE;
      continue;
    }
    if (space && s->len && s->str[s->len - 1] != '\n')
      g_string_append_c (s, ' ');
    space = FALSE;
    g_string_append_c (s, c);
  }
  return g_string_free (s, FALSE);
}

/* How many characters of @sentence were spoken after @played_ms of its
 * @dur_ms: flite speaks at an even pace, so the words up to the share of
 * them that matches the share of the audio that played */
static glong
sentence_spoken_chars (const gchar * sentence, guint64 played_ms,
    guint64 dur_ms)
{
  const gchar *p, *end = sentence;
  guint n = 0, k;

  for (p = sentence; *p;) {
    while (*p == ' ' || *p == '\t' || *p == '\n')
      p++;
    if (!*p)
      break;
    n++;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n')
      p++;
  }
  k = (guint) (played_ms * n / MAX (dur_ms, 1));

  for (p = sentence; *p && k > 0;) {
    while (*p == ' ' || *p == '\t' || *p == '\n')
      p++;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n')
      p++;
    end = p;
    k--;
  }
  return g_utf8_pointer_to_offset (sentence, end);
}

gchar *
gst_bidi_tts_heard_text (const gchar * const *sentences,
    const guint64 * durations_ms, guint n_sentences, guint64 played_ms)
{
  GString *answer = g_string_new (NULL);
  glong chars = 0, heard = 0;
  guint64 t = 0;
  gchar *ret;
  guint i;

  /* the answer as one text, and how far into it the speech got; cutting
   * it there is the job of gst_bidi_heard_text() */
  for (i = 0; i < n_sentences; i++) {
    guint64 dur = durations_ms[i];

    if (answer->len) {
      g_string_append_c (answer, ' ');
      chars++;
    }
    g_string_append (answer, sentences[i]);
    if (played_ms >= t + dur)
      heard = chars + g_utf8_strlen (sentences[i], -1);
    else if (played_ms > t)
      heard = chars + sentence_spoken_chars (sentences[i], played_ms - t, dur);
    chars += g_utf8_strlen (sentences[i], -1);
    t += dur;
  }
  ret = gst_bidi_heard_text (answer->str, heard, chars);
  g_string_free (answer, TRUE);
  return ret;
}
