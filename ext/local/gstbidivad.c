/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Voice activity detection for the local provider.
 *
 * Per 20 ms frame, two features:
 *
 * - the level (RMS, dBFS), compared with an adaptive noise floor and an
 *   absolute minimum: speech must stand threshold_db out of the background;
 *
 * - the spectral flatness (geometric over arithmetic mean of the power
 *   spectrum, 200-4000 Hz). We use it rather than the zero-crossing rate to
 *   reject stationary noise because it separates the two cases we care
 *   about without depending on the level or on where the noise energy
 *   sits: white or broadband noise (fans, hiss, the test fixtures' -50 dBFS
 *   floor) has a flatness around 0.55 for a Hann-windowed 20 ms frame,
 *   whatever its level, while voiced speech is harmonic and formant-shaped
 *   (measured on flite and real speech: 0.00-0.10), and even fricatives are
 *   coloured enough to stay below ~0.3. The zero-crossing rate, by
 *   contrast, is high for both white noise and fricatives and low for
 *   low-pass noise such as rumble, so it needs extra level rules to tell
 *   them apart. The cost is a 512-point FFT per 20 ms, a few microseconds.
 *
 * Loud frames that are flat (noise) pull the noise floor up quickly, so a
 * noise that starts and stays is absorbed in ~200 ms and never starts a
 * turn; in a turn they count as quiet unless they are much louder than the
 * threshold (fricatives such as "s" are as flat as white noise, but much
 * louder than the background), so noise that starts while the user speaks
 * does not hold the turn open. Loud voiced frames pull the floor up only
 * very slowly: a stationary tone or hum may start one turn (the listener
 * limits its length), and is then absorbed after some seconds.
 *
 * Hysteresis: a turn starts only after start_ms of consecutive loud frames
 * of which at least half are voiced (short blips, clicks and coughs shorter
 * than that never count); it ends after end_ms without a frame that
 * counts as speech (pauses between words and the closures of stop
 * consonants do not end it). Inside
 * a turn the level threshold is 3 dB lower, so that the quiet ends of
 * words do not end the turn early.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "gstbidivad.h"

/* voiced when the spectral flatness is below this */
#define FLATNESS_VOICED 0.35
/* in a turn, an unvoiced (flat) frame keeps the turn only when it is this
 * much louder than the start threshold: fricatives are, noise is not */
#define STRONG_MARGIN_DB 10.0
/* in a turn the level threshold drops by this */
#define IN_SPEECH_RELAX_DB 3.0
/* noise floor smoothing factors, per frame */
#define FLOOR_DOWN 0.25         /* quieter frame: follow fast */
#define FLOOR_UP_NOISE 0.05     /* louder, flat frame: ~400 ms */
#define FLOOR_UP_VOICED 0.002   /* louder, voiced frame: ~10 s */
#define FLOOR_UP_IN_SPEECH 0.0005
#define FLOOR_MIN_DB -100.0
#define FLOOR_MAX_DB -10.0
#define FLAT_LO_HZ 200.0
#define FLAT_HI_HZ 4000.0

struct _GstBidiVad
{
  GstBidiVadParams params;
  gint rate;
  guint frame_samples;
  guint start_frames;
  guint end_frames;

  /* FFT */
  guint fft_n;
  guint fft_log2;
  guint bin_lo, bin_hi;
  gdouble *window;              /* frame_samples */
  gdouble *cos_tab, *sin_tab;   /* fft_n / 2 */
  guint *bitrev;                /* fft_n */
  gdouble *re, *im;             /* fft_n */

  /* state */
  gboolean have_floor;
  gdouble floor_db;
  gboolean in_speech;
  gboolean blocked;             /* after force_end, until quiet */
  guint loud_run;
  guint quiet_run;
  guint8 *voiced_hist;          /* start_frames, circular */
  guint hist_pos;
};

void
gst_bidi_vad_params_init (GstBidiVadParams * params)
{
  params->threshold_db = GST_BIDI_VAD_DEFAULT_THRESHOLD_DB;
  params->min_level_db = GST_BIDI_VAD_DEFAULT_MIN_LEVEL_DB;
  params->start_ms = GST_BIDI_VAD_DEFAULT_START_MS;
  params->end_ms = GST_BIDI_VAD_DEFAULT_END_MS;
}

GstBidiVad *
gst_bidi_vad_new (const GstBidiVadParams * params, gint rate)
{
  GstBidiVad *vad;
  guint i, n;

  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (rate >= 8000 && rate <= 48000, NULL);

  vad = g_new0 (GstBidiVad, 1);
  vad->params = *params;
  vad->rate = rate;
  vad->frame_samples = rate * GST_BIDI_VAD_FRAME_MS / 1000;
  vad->start_frames = MAX (1, (params->start_ms + GST_BIDI_VAD_FRAME_MS - 1)
      / GST_BIDI_VAD_FRAME_MS);
  vad->end_frames = MAX (1, (params->end_ms + GST_BIDI_VAD_FRAME_MS - 1)
      / GST_BIDI_VAD_FRAME_MS);

  for (vad->fft_n = 1, vad->fft_log2 = 0; vad->fft_n < vad->frame_samples;
      vad->fft_n <<= 1, vad->fft_log2++);
  n = vad->fft_n;
  vad->bin_lo = (guint) (FLAT_LO_HZ * n / rate + 0.999);
  vad->bin_hi = MIN ((guint) (FLAT_HI_HZ * n / rate), n / 2 - 1);

  vad->window = g_new (gdouble, vad->frame_samples);
  /* Hann window */
  for (i = 0; i < vad->frame_samples; i++)
    vad->window[i] = 0.5 - 0.5 * cos (2.0 * G_PI * i /
        (vad->frame_samples - 1));
  vad->cos_tab = g_new (gdouble, n / 2);
  vad->sin_tab = g_new (gdouble, n / 2);
  for (i = 0; i < n / 2; i++) {
    vad->cos_tab[i] = cos (2.0 * G_PI * i / n);
    vad->sin_tab[i] = -sin (2.0 * G_PI * i / n);
  }
  vad->bitrev = g_new (guint, n);
  for (i = 0; i < n; i++) {
    guint r = 0, b, v = i;
    for (b = 0; b < vad->fft_log2; b++, v >>= 1)
      r = (r << 1) | (v & 1);
    vad->bitrev[i] = r;
  }
  vad->re = g_new (gdouble, n);
  vad->im = g_new (gdouble, n);
  vad->voiced_hist = g_new0 (guint8, vad->start_frames);

  gst_bidi_vad_reset (vad);
  return vad;
}

void
gst_bidi_vad_free (GstBidiVad * vad)
{
  if (!vad)
    return;
  g_free (vad->window);
  g_free (vad->cos_tab);
  g_free (vad->sin_tab);
  g_free (vad->bitrev);
  g_free (vad->re);
  g_free (vad->im);
  g_free (vad->voiced_hist);
  g_free (vad);
}

void
gst_bidi_vad_reset (GstBidiVad * vad)
{
  vad->have_floor = FALSE;
  vad->floor_db = FLOOR_MIN_DB;
  vad->in_speech = FALSE;
  vad->blocked = FALSE;
  vad->loud_run = 0;
  vad->quiet_run = 0;
  memset (vad->voiced_hist, 0, vad->start_frames);
  vad->hist_pos = 0;
}

guint
gst_bidi_vad_frame_samples (const GstBidiVad * vad)
{
  return vad->frame_samples;
}

guint
gst_bidi_vad_start_frames (const GstBidiVad * vad)
{
  return vad->start_frames;
}

gboolean
gst_bidi_vad_in_speech (const GstBidiVad * vad)
{
  return vad->in_speech;
}

void
gst_bidi_vad_force_end (GstBidiVad * vad)
{
  vad->in_speech = FALSE;
  vad->blocked = TRUE;
  vad->loud_run = 0;
  vad->quiet_run = 0;
  memset (vad->voiced_hist, 0, vad->start_frames);
}

void
gst_bidi_vad_end_speech (GstBidiVad * vad)
{
  vad->in_speech = FALSE;
  vad->blocked = FALSE;
  vad->loud_run = 0;
  vad->quiet_run = 0;
  memset (vad->voiced_hist, 0, vad->start_frames);
}

gdouble
gst_bidi_vad_level_db (const gint16 * samples, gsize n)
{
  gdouble sum = 0;
  gsize i;

  if (n == 0)
    return FLOOR_MIN_DB;
  for (i = 0; i < n; i++)
    sum += (gdouble) samples[i] * samples[i];
  sum /= (gdouble) n *32768.0 * 32768.0;
  if (sum <= 1e-10)
    return FLOOR_MIN_DB;
  return MAX (FLOOR_MIN_DB, 10.0 * log10 (sum));
}

/* In-place iterative radix-2 FFT of vad->re/im. */
static void
fft (GstBidiVad * vad)
{
  guint n = vad->fft_n, len, i, k;
  gdouble *re = vad->re, *im = vad->im;

  for (i = 0; i < n; i++) {
    guint j = vad->bitrev[i];
    if (i < j) {
      gdouble t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  for (len = 2; len <= n; len <<= 1) {
    guint half = len / 2, step = n / len;
    for (i = 0; i < n; i += len) {
      for (k = 0; k < half; k++) {
        gdouble wr = vad->cos_tab[k * step], wi = vad->sin_tab[k * step];
        guint a = i + k, b = a + half;
        gdouble xr = re[b] * wr - im[b] * wi;
        gdouble xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

/* Spectral flatness of one frame in [bin_lo, bin_hi]: 1 for a flat
 * spectrum (and for digital silence), towards 0 for tones and voices. */
static gdouble
flatness (GstBidiVad * vad, const gint16 * frame)
{
  gdouble log_sum = 0, sum = 0;
  guint i, m = 0;

  for (i = 0; i < vad->frame_samples; i++) {
    vad->re[i] = frame[i] * vad->window[i];
    vad->im[i] = 0;
  }
  for (; i < vad->fft_n; i++)
    vad->re[i] = vad->im[i] = 0;
  fft (vad);

  for (i = vad->bin_lo; i <= vad->bin_hi; i++, m++) {
    /* the epsilon (about -130 dBFS per bin) keeps log() finite */
    gdouble p = vad->re[i] * vad->re[i] + vad->im[i] * vad->im[i] + 1e-3;
    log_sum += log (p);
    sum += p;
  }
  if (m == 0 || sum <= 0)
    return 1.0;
  return exp (log_sum / m) / (sum / m);
}

GstBidiVadEvent
gst_bidi_vad_process (GstBidiVad * vad, const gint16 * frame,
    GstBidiVadFrameInfo * info)
{
  GstBidiVadEvent ev = GST_BIDI_VAD_NONE;
  gdouble level, flat, thr;
  gboolean loud, voiced, strong, speechy;
  guint i, n_voiced;

  level = gst_bidi_vad_level_db (frame, vad->frame_samples);
  flat = flatness (vad, frame);

  if (!vad->have_floor) {
    vad->floor_db = CLAMP (level, FLOOR_MIN_DB, FLOOR_MAX_DB);
    vad->have_floor = TRUE;
  }

  thr = MAX (vad->floor_db + vad->params.threshold_db,
      vad->params.min_level_db);
  if (vad->in_speech)
    thr -= IN_SPEECH_RELAX_DB;
  loud = level > thr;
  voiced = flat < FLATNESS_VOICED;
  strong = level > MAX (vad->floor_db + vad->params.threshold_db,
      vad->params.min_level_db) + STRONG_MARGIN_DB;
  speechy = loud && (voiced || strong);

  if (info) {
    info->level_db = level;
    info->flatness = flat;
    info->floor_db = vad->floor_db;
    info->loud = loud;
    info->voiced = voiced;
    info->active = vad->in_speech ? speechy : loud && voiced;
  }

  /* noise floor */
  if (level < vad->floor_db)
    vad->floor_db += FLOOR_DOWN * (level - vad->floor_db);
  else if (vad->in_speech && speechy)
    vad->floor_db += FLOOR_UP_IN_SPEECH * (level - vad->floor_db);
  else if (!vad->in_speech && loud && voiced)
    vad->floor_db += FLOOR_UP_VOICED * (level - vad->floor_db);
  else
    vad->floor_db += FLOOR_UP_NOISE * (level - vad->floor_db);
  vad->floor_db = CLAMP (vad->floor_db, FLOOR_MIN_DB, FLOOR_MAX_DB);

  if (vad->in_speech) {
    if (speechy) {
      vad->quiet_run = 0;
    } else if (++vad->quiet_run >= vad->end_frames) {
      gst_bidi_vad_end_speech (vad);
      ev = GST_BIDI_VAD_SPEECH_END;
    }
    return ev;
  }

  if (vad->blocked) {
    /* a forced end: wait for a quiet stretch before listening again */
    if (loud)
      vad->quiet_run = 0;
    else if (++vad->quiet_run >= vad->end_frames) {
      vad->blocked = FALSE;
      vad->quiet_run = 0;
    }
    return ev;
  }

  if (!loud) {
    vad->loud_run = 0;
    memset (vad->voiced_hist, 0, vad->start_frames);
    return ev;
  }

  vad->voiced_hist[vad->hist_pos] = voiced;
  vad->hist_pos = (vad->hist_pos + 1) % vad->start_frames;
  vad->loud_run++;
  for (i = 0, n_voiced = 0; i < vad->start_frames; i++)
    n_voiced += vad->voiced_hist[i];

  if (vad->loud_run >= vad->start_frames && 2 * n_voiced >= vad->start_frames) {
    vad->in_speech = TRUE;
    vad->quiet_run = 0;
    ev = GST_BIDI_VAD_SPEECH_START;
  }
  return ev;
}
