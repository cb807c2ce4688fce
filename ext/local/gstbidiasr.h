/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_ASR_H__
#define __GST_BIDI_ASR_H__

#include <glib.h>

#include "gstbidivad.h"

G_BEGIN_DECLS

/* Speech recognition with pocketsphinx (16 kHz mono S16), and the
 * "listener" that turns an audio stream into user turns: VAD, pre-roll,
 * recognition, partial and final hypotheses. No threads here: the provider
 * runs a listener on its worker thread. */

#define GST_BIDI_ASR_RATE 16000

typedef struct
{
  gchar *hmm;                   /* acoustic model directory */
  gchar *lm;                    /* language model (n-gram) */
  gchar *dict;                  /* pronunciation dictionary */
  gchar *grammar;               /* JSGF file, instead of the LM */
  gchar *keywords;              /* keyword list file, instead of the LM */
  /* with the default language model only: the final pass is decoded with
   * the built-in responder's grammar too, and its words win when they fit
   * the audio about as well as the language model's (see
   * gst_bidi_asr_decode()) */
  gboolean bias;
} GstBidiAsrModel;

/* Fills unset hmm/dict (and lm, unless a grammar or keyword list is set)
 * with the pocketsphinx-en-us paths. */
void gst_bidi_asr_model_set_defaults (GstBidiAsrModel * model);
void gst_bidi_asr_model_clear (GstBidiAsrModel * model);
void gst_bidi_asr_model_copy (GstBidiAsrModel * dest,
    const GstBidiAsrModel * src);
/* Checks that the files exist; the error names the Debian package for the
 * default model. GST_RESOURCE_ERROR_NOT_FOUND or _SETTINGS. */
gboolean gst_bidi_asr_model_check (const GstBidiAsrModel * model,
    GError ** error);

typedef struct _GstBidiAsr GstBidiAsr;

/* Loads the model (hundreds of milliseconds: not on the network thread). */
GstBidiAsr *gst_bidi_asr_new (const GstBidiAsrModel * model, GError ** error);
void gst_bidi_asr_free (GstBidiAsr * asr);
gboolean gst_bidi_asr_begin (GstBidiAsr * asr);
void gst_bidi_asr_feed (GstBidiAsr * asr, const gint16 * samples, gsize n);
/* The current hypothesis during an utterance, NULL when empty. */
gchar *gst_bidi_asr_partial (GstBidiAsr * asr);
/* Ends the utterance; its final hypothesis ("" when nothing). */
gchar *gst_bidi_asr_end (GstBidiAsr * asr);
/* Decodes @samples as one whole utterance (ending the one in progress, if
 * any): more accurate than streaming, as the cepstral mean is the
 * utterance's own. "" when nothing was recognised. With the model's
 * `bias`, decoded twice: with the language model and with the responder's
 * grammar, whose words win when they fit the sound at least as well, or
 * sound like the language model's. */
gchar *gst_bidi_asr_decode (GstBidiAsr * asr, const gint16 * samples,
    gsize n);

/* TRUE when the model's bias is in effect */
gboolean gst_bidi_asr_biased (GstBidiAsr * asr);
/* Decodes @samples as one whole utterance with the responder's grammar
 * only (a fraction of the language model's cost): its words when they
 * sound like @heard (the streaming pass's), else NULL. Ends the utterance
 * in progress, if any. */
gchar *gst_bidi_asr_decode_grammar (GstBidiAsr * asr, const gint16 * samples,
    gsize n, const gchar * heard);

/* Listener */

typedef enum
{
  GST_BIDI_LISTENER_SPEECH_START,       /* VAD onset (before any ASR work) */
  GST_BIDI_LISTENER_PARTIAL,
  GST_BIDI_LISTENER_FINAL,      /* text may be "": no turn */
  /* after a FINAL with `revised_follows`: the second pass's words for the
   * same turn, more accurate than the streaming pass's */
  GST_BIDI_LISTENER_REVISED,
} GstBidiListenerEventType;

typedef struct
{
  GstBidiListenerEventType type;
  /* input samples consumed when it happened (end of the deciding frame) */
  guint64 position;
  /* first sample of the turn's speech as the VAD saw it (onset minus
   * start_ms) */
  guint64 speech_start;
  /* FINAL, REVISED: the end of the turn's last speech frame as the VAD saw
   * it (the turn ended on the quiet after it) */
  guint64 speech_end;
  const gchar *text;            /* PARTIAL, FINAL */
  /* FINAL: the second pass was done during the hangover (no wait) */
  gboolean early;
  /* FINAL: the turn ended before the hangover, as the words were a whole
   * request (see GstBidiListenerParams.complete) */
  gboolean semantic;
  /* FINAL: the words are the streaming pass's; a REVISED event with the
   * second pass's follows at once */
  gboolean revised_follows;
} GstBidiListenerEvent;

typedef void (*GstBidiListenerFunc) (const GstBidiListenerEvent * event,
    gpointer user_data);

/* Called on the listener's thread with what the user said so far: TRUE when
 * it is a whole request that needs no more words. */
typedef gboolean (*GstBidiListenerCompleteFunc) (const gchar * text,
    gpointer user_data);

typedef struct
{
  GstBidiVadParams vad;
  guint preroll_ms;             /* audio before the onset given to the ASR */
  guint partial_ms;             /* audio between partial hypotheses */
  guint max_turn_ms;            /* a turn is cut after this */
  /* with @complete: quiet after which a turn whose words are a whole
   * request ends, instead of vad.end_ms; 0 = never */
  guint early_end_ms;
  GstBidiListenerCompleteFunc complete; /* gets the listener's user_data */
} GstBidiListenerParams;

#define GST_BIDI_LISTENER_DEFAULT_PREROLL_MS 300
#define GST_BIDI_LISTENER_DEFAULT_PARTIAL_MS 300
#define GST_BIDI_LISTENER_DEFAULT_MAX_TURN_MS 20000
/* 100 ms of quiet after a whole request: the end of turn is a third of
 * end of speech -> first audible answer (tests/bench/voicebench.c) */
#define GST_BIDI_LISTENER_DEFAULT_EARLY_END_MS 100

void gst_bidi_listener_params_init (GstBidiListenerParams * params);

typedef struct _GstBidiListener GstBidiListener;

/* @asr: (transfer full) (nullable): without one, FINAL texts are "" */
GstBidiListener *gst_bidi_listener_new (const GstBidiListenerParams * params,
    GstBidiAsr * asr, GstBidiListenerFunc func, gpointer user_data);
void gst_bidi_listener_free (GstBidiListener * listener);
/* 16 kHz mono S16 in native endianness, any number of samples */
void gst_bidi_listener_push (GstBidiListener * listener,
    const gint16 * samples, gsize n);
/* The input ended: the turn in progress, if any, ends now. */
void gst_bidi_listener_finish (GstBidiListener * listener);
gboolean gst_bidi_listener_in_turn (GstBidiListener * listener);
guint64 gst_bidi_listener_position (GstBidiListener * listener);

G_END_DECLS

#endif /* __GST_BIDI_ASR_H__ */
