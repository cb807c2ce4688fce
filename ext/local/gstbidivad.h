/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_VAD_H__
#define __GST_BIDI_VAD_H__

#include <glib.h>

G_BEGIN_DECLS

/* Voice activity detection on 16-bit mono PCM, frame by frame.
 *
 * A frame is "loud" when its level is both threshold_db above an adaptive
 * noise floor and above min_level_db, and "voiced" when its spectrum is not
 * flat (see gstbidivad.c for why spectral flatness). A turn starts when
 * start_ms of consecutive loud frames, at least half of them voiced, have
 * been seen: the frame completing that run is the onset, reported as
 * GST_BIDI_VAD_SPEECH_START. A turn ends after end_ms of frames that are
 * not loud, or loud but as flat as noise (GST_BIDI_VAD_SPEECH_END).
 * Everything here is plain computation with no threads and no allocation
 * after gst_bidi_vad_new(). */

#define GST_BIDI_VAD_DEFAULT_THRESHOLD_DB  12.0
#define GST_BIDI_VAD_DEFAULT_MIN_LEVEL_DB  -55.0
#define GST_BIDI_VAD_DEFAULT_START_MS      100
#define GST_BIDI_VAD_DEFAULT_END_MS        500
#define GST_BIDI_VAD_FRAME_MS              20

typedef struct
{
  gdouble threshold_db;         /* above the noise floor */
  gdouble min_level_db;         /* absolute, dBFS */
  guint start_ms;               /* start hysteresis */
  guint end_ms;                 /* end hangover */
} GstBidiVadParams;

typedef enum
{
  GST_BIDI_VAD_NONE,
  GST_BIDI_VAD_SPEECH_START,
  GST_BIDI_VAD_SPEECH_END,
} GstBidiVadEvent;

/* What one frame looked like, for tests and debugging. */
typedef struct
{
  gdouble level_db;
  gdouble flatness;
  gdouble floor_db;
  gboolean loud;
  gboolean voiced;
  gboolean active;              /* counts as speech (in a turn: keeps it) */
} GstBidiVadFrameInfo;

typedef struct _GstBidiVad GstBidiVad;

void gst_bidi_vad_params_init (GstBidiVadParams * params);

/* @rate: 8000..48000; a frame is GST_BIDI_VAD_FRAME_MS of it */
GstBidiVad *gst_bidi_vad_new (const GstBidiVadParams * params, gint rate);
void gst_bidi_vad_free (GstBidiVad * vad);
void gst_bidi_vad_reset (GstBidiVad * vad);

guint gst_bidi_vad_frame_samples (const GstBidiVad * vad);
/* Frames a turn needs before its onset (start_ms in frames). */
guint gst_bidi_vad_start_frames (const GstBidiVad * vad);

/* @frame: gst_bidi_vad_frame_samples() samples. @info may be NULL. */
GstBidiVadEvent gst_bidi_vad_process (GstBidiVad * vad, const gint16 * frame,
    GstBidiVadFrameInfo * info);

gboolean gst_bidi_vad_in_speech (const GstBidiVad * vad);
/* Ends a turn from outside (e.g. it grew too long): the VAD waits for
 * end_ms of quiet before a new turn can start. */
void gst_bidi_vad_force_end (GstBidiVad * vad);
/* Ends a turn from outside during a quiet stretch (the words were a whole
 * request): the next onset may come at once. */
void gst_bidi_vad_end_speech (GstBidiVad * vad);

/* Pure helpers. Level in dBFS (full scale sine = -3 dB, silence -100). */
gdouble gst_bidi_vad_level_db (const gint16 * samples, gsize n);

G_END_DECLS

#endif /* __GST_BIDI_VAD_H__ */
