/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* pocketsphinx for the local provider (Debian's 0.8+5prealpha API:
 * cmd_ln_init, ps_init, ps_start_utt, ps_process_raw, ps_get_hyp,
 * ps_end_utt), and the listener that cuts the input into user turns.
 *
 * The listener runs the VAD on every 20 ms frame and keeps the last
 * the last preroll_ms of audio in a ring. When the VAD confirms speech, it
 * reports the onset first (the provider reacts to a barge-in before any
 * recognition work), then starts an utterance with the ring's audio, from
 * preroll_ms before the onset, so the first phonemes are not lost.
 *
 * While the turn lasts, frames go to the recogniser in streaming mode and,
 * every partial_ms of audio, the hypothesis is reported if it changed.
 * Quiet frames are held back until the next loud one: a pause between
 * words goes to the recogniser, but of the hangover that ends the turn only
 * TAIL_MS does (background noise decoded on its own tends to come out as
 * fricatives: "what time is it" + white noise -> "what time is safe").
 *
 * The final hypothesis comes from a second pass over the whole utterance
 * (gst_bidi_asr_decode()): with the utterance's own cepstral mean it is
 * clearly more accurate than the streaming pass, above all on the first
 * utterance of a session (measured on flite phrases: 24/30 right against
 * 19/30, and the misses were only "one is" for "what is"). So that it costs
 * no latency, it runs while the hangover is still counting: when the user
 * has been quiet for end_ms - EARLY_LEAD_MS (at least TAIL_MS), the audio
 * so far is decoded; if the
 * turn then ends, that result is final at once; if the user speaks again,
 * it is thrown away and the streaming pass resumes. At the end of the turn
 * (VAD hangover, max_turn_ms, or the end of the input) the final
 * hypothesis is reported, "" when nothing was recognised.
 *
 * Early end of turn: a hangover long enough not to cut people off in a
 * pause costs that much latency on every turn. So, when early_end_ms of
 * quiet have passed (well before end_ms) and the provider gave a
 * complete() callback, the streaming pass is finished over the turn plus
 * its short quiet tail, and if complete() says those words already make a
 * whole request ("what time is it", "what is twelve plus thirty"), the
 * turn ends there with that hypothesis (FINAL with `semantic` set). With
 * the model's bias, when they are not (the streaming pass often mishears
 * the last word: "what is seven divided by due"), the turn so far is
 * decoded once with the responder's grammar alone, which costs a fraction
 * of the second pass, and if its words sound like the streaming pass's and
 * make a whole request, the turn ends on them (after GRAMMAR_END_MS of
 * quiet: a pause inside a word is that long). The
 * VAD is then ready for a new onset at once, so a user who goes on
 * talking barges in. Otherwise the turn goes on as above: if the user
 * speaks again, the streaming pass restarts from the start of the turn. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include <gst/gst.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/ckd_alloc.h>
#include <sphinxbase/jsgf.h>

#include "gstbidiasr.h"
#include "gstbidiintents.h"

#ifndef POCKETSPHINX_MODELDIR
#define POCKETSPHINX_MODELDIR "/usr/share/pocketsphinx/model"
#endif

#define DEFAULT_HMM POCKETSPHINX_MODELDIR "/en-us/en-us"
#define DEFAULT_LM POCKETSPHINX_MODELDIR "/en-us/en-us.lm.bin"
#define DEFAULT_DICT POCKETSPHINX_MODELDIR "/en-us/cmudict-en-us.dict"
#define MODEL_PACKAGE "pocketsphinx-en-us"

/* quiet audio after the last loud frame that the recogniser gets */
#define TAIL_MS 150
/* the second pass starts this long before the hangover ends (it takes
 * ~0.1 s per second of speech here) */
#define EARLY_LEAD_MS 300
/* An early end of turn on the grammar's words alone (the streaming pass's
 * were not a whole request) waits for this much quiet: a word's closure
 * can be that long ("what is eight | plus eight", 120-160 ms with an 8 kHz
 * voice), and "what is eight" forced into the grammar is "what is the
 * date". Words the streaming pass itself heard as a whole request need
 * only early_end_ms. */
#define GRAMMAR_END_MS 180

/* the bias grammar's search, and the language model's (pocketsphinx's
 * name for the search its configuration made) */
#define BIAS_SEARCH "bidi-intents"
#define LM_SEARCH "_default"
/* How far (phone edit distance over length) the grammar's words may sound
 * from the language model's and still win. Measured on flite questions of
 * 4 voices: questions the grammar covers are within it, others (forced
 * into the grammar's words) beyond it. */
#define BIAS_MAX_DISTANCE 0.4
/* The grammar's words also win when they fit the sound at least as well as
 * the language model's: their acoustic score per 10 ms frame is no lower.
 * Speech outside the grammar, forced into its closest request, scores
 * clearly lower (measured on 71 flite questions x 4 voices, 29 of them
 * outside the grammar: 2 of the 116 outside ones at or above 0, 11 of the
 * 168 inside ones below, 5 of them below -3). It catches what sounds too
 * far from the language model's words on narrow-band speech (an 8 kHz
 * voice or a phone call: "while they added" for "what day is it"). Needs
 * the language model's own acoustic score, so its decoder runs without
 * the lattice's best-path rescoring, whose segments carry no usable one. */
#define BIAS_MIN_ACOUSTIC_GAIN 0

struct _GstBidiAsr
{
  cmd_ln_t *config;
  ps_decoder_t *ps;
  gboolean in_utt;
  gchar *lm_search;             /* with bias: the language model's search */
};

void
gst_bidi_asr_model_set_defaults (GstBidiAsrModel * model)
{
  if (!model->hmm)
    model->hmm = g_strdup (DEFAULT_HMM);
  if (!model->dict)
    model->dict = g_strdup (DEFAULT_DICT);
  if (!model->lm && !model->grammar && !model->keywords)
    model->lm = g_strdup (DEFAULT_LM);
}

/* The bias applies to the default language model only: a grammar, a
 * keyword list or a language model of the user's own wins */
static gboolean
model_biased (const GstBidiAsrModel * model)
{
  return model->bias && !model->grammar && !model->keywords && model->lm &&
      strcmp (model->lm, DEFAULT_LM) == 0;
}

void
gst_bidi_asr_model_clear (GstBidiAsrModel * model)
{
  g_clear_pointer (&model->hmm, g_free);
  g_clear_pointer (&model->lm, g_free);
  g_clear_pointer (&model->dict, g_free);
  g_clear_pointer (&model->grammar, g_free);
  g_clear_pointer (&model->keywords, g_free);
}

void
gst_bidi_asr_model_copy (GstBidiAsrModel * dest, const GstBidiAsrModel * src)
{
  dest->hmm = g_strdup (src->hmm);
  dest->lm = g_strdup (src->lm);
  dest->dict = g_strdup (src->dict);
  dest->grammar = g_strdup (src->grammar);
  dest->keywords = g_strdup (src->keywords);
  dest->bias = src->bias;
}

static gboolean
check_path (const gchar * what, const gchar * path, const gchar * dflt,
    gboolean dir, GError ** error)
{
  if (g_file_test (path, dir ? G_FILE_TEST_IS_DIR : G_FILE_TEST_IS_REGULAR))
    return TRUE;

  if (dflt && strcmp (path, dflt) == 0)
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
        "The speech recognition model is missing (%s %s not found): install "
        "the Debian package %s (apt install %s)", what, path, MODEL_PACKAGE,
        MODEL_PACKAGE);
  else
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid provider-config: %s \"%s\" not found", what, path);
  return FALSE;
}

gboolean
gst_bidi_asr_model_check (const GstBidiAsrModel * model, GError ** error)
{
  guint n = !!model->lm + !!model->grammar + !!model->keywords;

  if (n > 1) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid provider-config: give only one of lm, grammar and keywords");
    return FALSE;
  }
  if (!check_path ("acoustic model (hmm)", model->hmm, DEFAULT_HMM, TRUE,
          error))
    return FALSE;
  if (!check_path ("dictionary (dict)", model->dict, DEFAULT_DICT, FALSE,
          error))
    return FALSE;
  if (model->lm && !check_path ("language model (lm)", model->lm, DEFAULT_LM,
          FALSE, error))
    return FALSE;
  if (model->grammar && !check_path ("grammar", model->grammar, NULL, FALSE,
          error))
    return FALSE;
  if (model->keywords && !check_path ("keyword list (keywords)",
          model->keywords, NULL, FALSE, error))
    return FALSE;
  return TRUE;
}

/* The responder's grammar as a search of @ps. (Not ps_set_jsgf_string(),
 * which leaks the parsed grammar, nor ps_get_search(), which leaks an
 * iterator, in Debian's pocketsphinx.) */
static gboolean
add_bias_search (ps_decoder_t * ps, cmd_ln_t * config)
{
  jsgf_t *jsgf = jsgf_parse_string (gst_bidi_intent_grammar (), NULL);
  jsgf_rule_t *rule = jsgf ? jsgf_get_public_rule (jsgf) : NULL;
  fsg_model_t *fsg = NULL;
  gboolean ok;

  if (rule)
    fsg = jsgf_build_fsg (jsgf, rule, ps_get_logmath (ps),
        cmd_ln_float32_r (config, "-lw"));
  /* the search keeps its own reference to the FSG */
  ok = fsg && ps_set_fsg (ps, BIAS_SEARCH, fsg) == 0;
  if (fsg)
    fsg_model_free (fsg);
  if (jsgf)
    jsgf_grammar_free (jsgf);
  return ok;
}

static gpointer
silence_sphinx_logging (G_GNUC_UNUSED gpointer data)
{
  /* sphinxbase logs to stderr by default; this is process-wide */
  err_set_logfp (NULL);
  return NULL;
}

GstBidiAsr *
gst_bidi_asr_new (const GstBidiAsrModel * model, GError ** error)
{
  static GOnce once = G_ONCE_INIT;
  GstBidiAsr *asr;
  const gchar *search_arg, *search_val;
  cmd_ln_t *config;
  ps_decoder_t *ps;

  if (!gst_bidi_asr_model_check (model, error))
    return NULL;

  g_once (&once, silence_sphinx_logging, NULL);

  if (model->grammar) {
    search_arg = "-jsgf";
    search_val = model->grammar;
  } else if (model->keywords) {
    search_arg = "-kws";
    search_val = model->keywords;
  } else {
    search_arg = "-lm";
    search_val = model->lm;
  }

  /* biased: the language model's acoustic score is compared with the
   * grammar's (BIAS_MIN_ACOUSTIC_GAIN), which needs its path without the
   * best-path rescoring */
  config = cmd_ln_init (NULL, ps_args (), TRUE,
      "-hmm", model->hmm, "-dict", model->dict, search_arg, search_val,
      "-samprate", "16000", "-bestpath", model_biased (model) ? "no" : "yes",
      NULL);
  if (!config)
    goto bad_config;
  ps = ps_init (config);
  if (!ps)
    goto init_failed;

  asr = g_new0 (GstBidiAsr, 1);
  asr->config = config;
  asr->ps = ps;
  if (model_biased (model)) {
    /* a grammar pocketsphinx refuses only costs the bias */
    if (add_bias_search (ps, config) && ps_set_search (ps, LM_SEARCH) == 0)
      asr->lm_search = g_strdup (LM_SEARCH);
    else
      GST_WARNING ("pocketsphinx refused the responder's grammar: "
          "recognition is not biased toward it");
  }
  return asr;

  /* ERRORS */
bad_config:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "pocketsphinx refused its configuration (hmm %s, dict %s, %s %s)",
        model->hmm, model->dict, search_arg + 1, search_val);
    return NULL;
  }
init_failed:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
        "pocketsphinx could not load the model (hmm %s, dict %s, %s %s); "
        "the default model is in the Debian package %s", model->hmm,
        model->dict, search_arg + 1, search_val, MODEL_PACKAGE);
    cmd_ln_free_r (config);
    return NULL;
  }
}

void
gst_bidi_asr_free (GstBidiAsr * asr)
{
  if (!asr)
    return;
  if (asr->in_utt)
    ps_end_utt (asr->ps);
  ps_free (asr->ps);
  cmd_ln_free_r (asr->config);
  g_free (asr->lm_search);
  g_free (asr);
}

gboolean
gst_bidi_asr_begin (GstBidiAsr * asr)
{
  if (asr->in_utt)
    ps_end_utt (asr->ps);
  asr->in_utt = ps_start_utt (asr->ps) >= 0;
  return asr->in_utt;
}

void
gst_bidi_asr_feed (GstBidiAsr * asr, const gint16 * samples, gsize n)
{
  if (asr->in_utt && n > 0)
    ps_process_raw (asr->ps, samples, n, FALSE, FALSE);
}

static gchar *
clean_hyp (const gchar * hyp)
{
  gchar *s;

  if (!hyp)
    return g_strdup ("");
  s = g_strdup (hyp);
  g_strstrip (s);
  return s;
}

gchar *
gst_bidi_asr_partial (GstBidiAsr * asr)
{
  gint32 score;
  gchar *s;

  if (!asr->in_utt)
    return NULL;
  s = clean_hyp (ps_get_hyp (asr->ps, &score));
  if (!*s) {
    g_free (s);
    return NULL;
  }
  return s;
}

gchar *
gst_bidi_asr_end (GstBidiAsr * asr)
{
  gint32 score;

  if (!asr->in_utt)
    return g_strdup ("");
  ps_end_utt (asr->ps);
  asr->in_utt = FALSE;
  return clean_hyp (ps_get_hyp (asr->ps, &score));
}

/* The acoustic score of the last utterance's best path, per frame */
static gdouble
path_acoustic_score (GstBidiAsr * asr)
{
  gint frames = ps_get_n_frames (asr->ps);
  gint64 total = 0;
  ps_seg_t *seg;

  /* walked to its end, the iterator frees itself */
  for (seg = ps_seg_iter (asr->ps); seg; seg = ps_seg_next (seg)) {
    gint32 ascr = 0, lscr, lback;

    ps_seg_prob (seg, &ascr, &lscr, &lback);
    total += ascr;
  }
  return frames > 0 ? (gdouble) total / frames : 0.0;
}

/* One batch pass over @samples with the current search; @ascr (if not
 * NULL): the acoustic score of its words per frame */
static gchar *
decode_once (GstBidiAsr * asr, const gint16 * samples, gsize n,
    gdouble * ascr)
{
  gint32 score;
  gchar *hyp;

  if (ascr)
    *ascr = 0.0;
  if (ps_start_utt (asr->ps) < 0)
    return g_strdup ("");
  ps_process_raw (asr->ps, samples, n, FALSE, TRUE);
  ps_end_utt (asr->ps);
  hyp = clean_hyp (ps_get_hyp (asr->ps, &score));
  if (ascr && *hyp)
    *ascr = path_acoustic_score (asr);
  return hyp;
}

/* The phones of the words of @hyp, from the dictionary */
static GPtrArray *
hyp_phones (GstBidiAsr * asr, const gchar * hyp)
{
  GPtrArray *phones = g_ptr_array_new_with_free_func (g_free);
  gchar **words = g_strsplit (hyp, " ", -1), **w;

  for (w = words; *w; w++) {
    gchar *pron = **w ? ps_lookup_word (asr->ps, *w) : NULL;
    gchar **p, **ps;

    if (!pron)
      continue;
    ps = g_strsplit (pron, " ", -1);
    for (p = ps; *p; p++)
      if (**p)
        g_ptr_array_add (phones, g_strdup (*p));
    g_strfreev (ps);
    ckd_free (pron);
  }
  g_strfreev (words);
  return phones;
}

/* Edit distance of two phone strings, over the longer one's length */
static gdouble
phone_distance (GPtrArray * a, GPtrArray * b)
{
  guint i, j, n = b->len + 1, res;
  guint *d = g_new (guint, (a->len + 1) * n);

  for (i = 0; i <= a->len; i++)
    d[i * n] = i;
  for (j = 0; j <= b->len; j++)
    d[j] = j;
  for (i = 1; i <= a->len; i++)
    for (j = 1; j <= b->len; j++) {
      guint sub = d[(i - 1) * n + j - 1] +
          (strcmp (a->pdata[i - 1], b->pdata[j - 1]) != 0);
      d[i * n + j] = MIN (sub, MIN (d[(i - 1) * n + j], d[i * n + j - 1]) + 1);
    }
  res = d[a->len * n + b->len];
  g_free (d);
  return (gdouble) res / MAX (MAX (a->len, b->len), 1);
}

/* The grammar's words @g_hyp are taken for the language model's @lm_hyp
 * when they sound alike. The grammar always finds its closest request,
 * even in "tell me a story" ("tell me the current time"); the language
 * model, free to pick any words, hears "one is seven times a" for "what
 * is seven times eight", which sounds nearly the same. */
static gboolean
grammar_matches (GstBidiAsr * asr, const gchar * lm_hyp, const gchar * g_hyp)
{
  GPtrArray *lm_ph, *g_ph;
  gdouble dist;

  if (!*g_hyp || !*lm_hyp)
    return FALSE;
  lm_ph = hyp_phones (asr, lm_hyp);
  g_ph = hyp_phones (asr, g_hyp);
  dist = phone_distance (lm_ph, g_ph);
  g_ptr_array_unref (lm_ph);
  g_ptr_array_unref (g_ph);
  return dist <= BIAS_MAX_DISTANCE;
}

/* One batch pass with the grammar, back to the language model after */
static gchar *
decode_grammar (GstBidiAsr * asr, const gint16 * samples, gsize n,
    gdouble * ascr)
{
  gchar *hyp;

  if (ascr)
    *ascr = 0.0;
  if (ps_set_search (asr->ps, BIAS_SEARCH) < 0)
    return g_strdup ("");
  hyp = decode_once (asr, samples, n, ascr);
  ps_set_search (asr->ps, asr->lm_search);
  return hyp;
}

static gchar *
decode_biased (GstBidiAsr * asr, const gint16 * samples, gsize n)
{
  gchar *lm_hyp, *g_hyp;
  gdouble lm_ascr, g_ascr;

  lm_hyp = decode_once (asr, samples, n, &lm_ascr);
  if (!*lm_hyp)
    return lm_hyp;              /* noise: nothing to bias */
  g_hyp = decode_grammar (asr, samples, n, &g_ascr);
  GST_LOG ("\"%s\" (%.1f per frame), grammar \"%s\" (%.1f)", lm_hyp, lm_ascr,
      g_hyp, g_ascr);
  if ((*g_hyp && g_ascr - lm_ascr >= BIAS_MIN_ACOUSTIC_GAIN) ||
      grammar_matches (asr, lm_hyp, g_hyp)) {
    g_free (lm_hyp);
    return g_hyp;
  }
  g_free (g_hyp);
  return lm_hyp;
}

gboolean
gst_bidi_asr_biased (GstBidiAsr * asr)
{
  return asr->lm_search != NULL;
}

gchar *
gst_bidi_asr_decode_grammar (GstBidiAsr * asr, const gint16 * samples,
    gsize n, const gchar * heard)
{
  gchar *hyp;

  if (asr->in_utt)
    ps_end_utt (asr->ps);
  asr->in_utt = FALSE;
  if (!asr->lm_search || n == 0 || !heard)
    return NULL;
  hyp = decode_grammar (asr, samples, n, NULL);
  if (grammar_matches (asr, heard, hyp))
    return hyp;
  g_free (hyp);
  return NULL;
}

gchar *
gst_bidi_asr_decode (GstBidiAsr * asr, const gint16 * samples, gsize n)
{
  if (asr->in_utt)
    ps_end_utt (asr->ps);
  asr->in_utt = FALSE;
  if (n == 0)
    return g_strdup ("");
  if (asr->lm_search)
    return decode_biased (asr, samples, n);
  return decode_once (asr, samples, n, NULL);
}

/* ------------------------------------------------------------------------
 * Listener
 * ------------------------------------------------------------------------ */

struct _GstBidiListener
{
  GstBidiListenerParams params;
  GstBidiVad *vad;
  GstBidiAsr *asr;
  GstBidiListenerFunc func;
  gpointer user_data;

  guint frame;                  /* samples per frame */
  gint16 *acc;                  /* partial frame */
  guint acc_len;
  guint64 position;             /* samples consumed */

  /* ring of the last frames, for the pre-roll */
  gint16 *ring;
  guint ring_frames;
  guint ring_head;              /* next frame slot */
  guint ring_count;

  /* quiet frames of the turn not given to the recogniser yet */
  gint16 *held;
  guint held_frames;
  guint held_max;

  gboolean in_turn;
  GArray *utt;                  /* gint16: the audio given to the recogniser */
  gboolean streaming;           /* a streaming utterance is open */
  gchar *early_final;           /* second pass done during the hangover */
  guint early_frames;           /* quiet frames that trigger it */
  guint semantic_frames;        /* quiet frames before the early end check */
  guint grammar_frames;         /* ... before the grammar's words may end it */
  guint tail_fed;               /* held frames given to the streaming pass */
  gboolean early_checked;       /* early_final checked for a whole request */
  gboolean grammar_checked;     /* this pause's words checked with the grammar */
  gboolean restart;             /* streaming pass to restart if speech resumes */
  guint64 turn_start;
  guint64 speech_end;           /* end of the turn's last active frame */
  guint64 turn_samples;
  guint64 since_partial;
  gchar *last_partial;
};

void
gst_bidi_listener_params_init (GstBidiListenerParams * params)
{
  gst_bidi_vad_params_init (&params->vad);
  params->preroll_ms = GST_BIDI_LISTENER_DEFAULT_PREROLL_MS;
  params->partial_ms = GST_BIDI_LISTENER_DEFAULT_PARTIAL_MS;
  params->max_turn_ms = GST_BIDI_LISTENER_DEFAULT_MAX_TURN_MS;
  params->early_end_ms = GST_BIDI_LISTENER_DEFAULT_EARLY_END_MS;
  params->complete = NULL;
}

GstBidiListener *
gst_bidi_listener_new (const GstBidiListenerParams * params, GstBidiAsr * asr,
    GstBidiListenerFunc func, gpointer user_data)
{
  GstBidiListener *l = g_new0 (GstBidiListener, 1);

  l->params = *params;
  l->vad = gst_bidi_vad_new (&params->vad, GST_BIDI_ASR_RATE);
  l->asr = asr;
  l->func = func;
  l->user_data = user_data;
  l->frame = gst_bidi_vad_frame_samples (l->vad);
  l->acc = g_new (gint16, l->frame);
  /* the pre-roll counts back from the onset, which is the last frame */
  l->ring_frames = MAX (gst_bidi_vad_start_frames (l->vad),
      (params->preroll_ms + GST_BIDI_VAD_FRAME_MS - 1) / GST_BIDI_VAD_FRAME_MS);
  l->ring = g_new (gint16, (gsize) l->ring_frames * l->frame);
  l->held_max = (params->vad.end_ms + GST_BIDI_VAD_FRAME_MS - 1) /
      GST_BIDI_VAD_FRAME_MS + 1;
  l->held = g_new (gint16, (gsize) l->held_max * l->frame);
  /* leave EARLY_LEAD_MS of the hangover for the second pass */
  l->early_frames = MAX (TAIL_MS, (gint) params->vad.end_ms - EARLY_LEAD_MS) /
      GST_BIDI_VAD_FRAME_MS;
  l->semantic_frames = 0;
  if (params->complete && params->early_end_ms > 0 &&
      params->early_end_ms < params->vad.end_ms)
    l->semantic_frames = MAX (1, params->early_end_ms / GST_BIDI_VAD_FRAME_MS);
  /* before the second pass (early_frames), which is checked after it */
  l->grammar_frames = MAX (l->semantic_frames,
      MIN (GRAMMAR_END_MS / GST_BIDI_VAD_FRAME_MS, l->early_frames - 1));
  l->utt = g_array_new (FALSE, FALSE, sizeof (gint16));
  return l;
}

void
gst_bidi_listener_free (GstBidiListener * l)
{
  if (!l)
    return;
  gst_bidi_vad_free (l->vad);
  gst_bidi_asr_free (l->asr);
  g_free (l->acc);
  g_free (l->ring);
  g_free (l->held);
  g_array_unref (l->utt);
  g_free (l->early_final);
  g_free (l->last_partial);
  g_free (l);
}

gboolean
gst_bidi_listener_in_turn (GstBidiListener * l)
{
  return l->in_turn;
}

guint64
gst_bidi_listener_position (GstBidiListener * l)
{
  return l->position;
}

static void
emit_full (GstBidiListener * l, GstBidiListenerEventType type,
    const gchar * text, gboolean early, gboolean semantic,
    gboolean revised_follows)
{
  GstBidiListenerEvent ev;

  ev.type = type;
  ev.position = l->position;
  ev.speech_start = l->turn_start;
  ev.speech_end = l->speech_end;
  ev.text = text;
  ev.early = early;
  ev.semantic = semantic;
  ev.revised_follows = revised_follows;
  l->func (&ev, l->user_data);
}

static void
emit (GstBidiListener * l, GstBidiListenerEventType type, const gchar * text,
    gboolean early, gboolean semantic)
{
  emit_full (l, type, text, early, semantic, FALSE);
}

/* Gives audio of the turn to the recogniser (streaming pass) */
static void
feed (GstBidiListener * l, const gint16 * samples, gsize n)
{
  g_array_append_vals (l->utt, samples, n);
  if (l->asr && l->streaming)
    gst_bidi_asr_feed (l->asr, samples, n);
}

/* The first @max_frames held quiet frames go to the recogniser, the rest
 * is dropped. */
static void
release_held (GstBidiListener * l, guint max_frames)
{
  guint n = MIN (l->held_frames, max_frames);

  if (n > 0)
    feed (l, l->held, (gsize) n * l->frame);
  l->held_frames = 0;
}

/* The second pass over the turn so far plus the quiet tail; with @heard,
 * with the grammar only (see gst_bidi_asr_decode_grammar()) */
static gchar *
decode_turn_full (GstBidiListener * l, const gchar * heard)
{
  guint tail = MIN (l->held_frames, TAIL_MS / GST_BIDI_VAD_FRAME_MS);
  guint len = l->utt->len;
  gchar *text;

  if (!l->asr)
    return g_strdup ("");
  g_array_append_vals (l->utt, l->held, (gsize) tail * l->frame);
  if (heard)
    text = gst_bidi_asr_decode_grammar (l->asr, (const gint16 *) l->utt->data,
        l->utt->len, heard);
  else
    text = gst_bidi_asr_decode (l->asr, (const gint16 *) l->utt->data,
        l->utt->len);
  g_array_set_size (l->utt, len);
  l->streaming = FALSE;
  return text;
}

static gchar *
decode_turn (GstBidiListener * l)
{
  return decode_turn_full (l, NULL);
}

static void
reset_turn (GstBidiListener * l)
{
  l->in_turn = FALSE;
  l->streaming = FALSE;
  l->restart = FALSE;
  l->held_frames = 0;
  g_array_set_size (l->utt, 0);
  g_clear_pointer (&l->early_final, g_free);
  g_clear_pointer (&l->last_partial, g_free);
}

/* Ends the turn with @text (taken) as its final hypothesis */
static void
finish_turn (GstBidiListener * l, gchar * text, gboolean early,
    gboolean semantic)
{
  reset_turn (l);
  emit (l, GST_BIDI_LISTENER_FINAL, text, early, semantic);
  g_free (text);
}

static void
end_turn (GstBidiListener * l)
{
  gchar *text = l->early_final;

  l->early_final = NULL;
  if (text)
    finish_turn (l, text, TRUE, FALSE);
  else
    finish_turn (l, decode_turn (l), FALSE, FALSE);
}

/* The turn ends early on @text, before the second pass: the answer can
 * start on these words; the transcript gets the second pass's, done now
 * that the answer is on its way */
static void
end_early (GstBidiListener * l, const gchar * text)
{
  gchar *revised;

  gst_bidi_vad_end_speech (l->vad);
  emit_full (l, GST_BIDI_LISTENER_FINAL, text, FALSE, TRUE, TRUE);
  revised = decode_turn (l);
  emit (l, GST_BIDI_LISTENER_REVISED, *revised ? revised : text, FALSE, TRUE);
  g_free (revised);
  reset_turn (l);
}

/* A quiet frame, early_end_ms or more into the quiet: TRUE (and the turn is
 * over) when the words so far are a whole request. Until the second pass
 * ran, the streaming pass's partial hypothesis is checked, with the quiet
 * tail (up to TAIL_MS) given to it frame by frame; the partial costs next
 * to nothing. Then the second pass's result is checked, once. */
static gboolean
try_early_end (GstBidiListener * l)
{
  guint tail = MIN (l->held_frames, TAIL_MS / GST_BIDI_VAD_FRAME_MS);
  gchar *text = NULL;

  if (!l->asr)
    return FALSE;
  if (l->early_final) {
    if (l->early_checked)
      return FALSE;
    l->early_checked = TRUE;
    if (!l->params.complete (l->early_final, l->user_data))
      return FALSE;
    text = l->early_final;
    l->early_final = NULL;
    gst_bidi_vad_end_speech (l->vad);
    finish_turn (l, text, TRUE, TRUE);
    return TRUE;
  }
  if (!l->streaming)
    return FALSE;
  if (tail > l->tail_fed) {
    gst_bidi_asr_feed (l->asr, l->held + (gsize) l->tail_fed * l->frame,
        (gsize) (tail - l->tail_fed) * l->frame);
    l->tail_fed = tail;
    /* should the user go on, this tail must not stay in the middle */
    l->restart = TRUE;
  }
  text = gst_bidi_asr_partial (l->asr);
  if (text && !l->params.complete (text, l->user_data) &&
      l->held_frames >= l->grammar_frames && !l->grammar_checked &&
      gst_bidi_asr_biased (l->asr)) {
    gchar *g;

    /* "what is seven divided by due": the grammar's words for the turn,
     * if they sound like these, may be a whole request. Once per pause:
     * the streaming pass is over, it restarts if the user goes on. */
    l->grammar_checked = TRUE;
    l->restart = TRUE;
    g = decode_turn_full (l, text);
    g_free (text);
    text = g;
    if (!text || !l->params.complete (text, l->user_data)) {
      g_free (text);
      return FALSE;
    }
  } else if (!text || !l->params.complete (text, l->user_data)) {
    g_free (text);
    return FALSE;
  }
  end_early (l, text);
  g_free (text);
  return TRUE;
}

static void
start_turn (GstBidiListener * l)
{
  guint64 lead = (guint64) (gst_bidi_vad_start_frames (l->vad) * l->frame);
  guint n, i;

  l->in_turn = TRUE;
  l->turn_start = l->position >= lead ? l->position - lead : 0;
  l->speech_end = l->position;
  l->turn_samples = 0;
  l->since_partial = 0;
  l->held_frames = 0;
  g_array_set_size (l->utt, 0);
  g_clear_pointer (&l->early_final, g_free);
  g_clear_pointer (&l->last_partial, g_free);
  l->restart = FALSE;
  l->tail_fed = 0;
  l->early_checked = FALSE;
  l->grammar_checked = FALSE;

  /* the onset first: a barge-in must not wait for recognition */
  emit (l, GST_BIDI_LISTENER_SPEECH_START, NULL, FALSE, FALSE);

  l->streaming = l->asr && gst_bidi_asr_begin (l->asr);
  /* pre-roll, up to and including the frame of the onset, oldest first */
  n = l->ring_count;
  for (i = 0; i < n; i++) {
    guint slot = (l->ring_head + l->ring_frames - n + i) % l->ring_frames;
    feed (l, l->ring + (gsize) slot * l->frame, l->frame);
  }
  l->turn_samples = (guint64) (n * l->frame);
}

static void
process_frame (GstBidiListener * l, const gint16 * frame)
{
  GstBidiVadFrameInfo info;
  GstBidiVadEvent ev;

  memcpy (l->ring + (gsize) l->ring_head * l->frame, frame,
      l->frame * sizeof (gint16));
  l->ring_head = (l->ring_head + 1) % l->ring_frames;
  l->ring_count = MIN (l->ring_count + 1, l->ring_frames);
  l->position += l->frame;

  ev = gst_bidi_vad_process (l->vad, frame, &info);

  if (ev == GST_BIDI_VAD_SPEECH_START) {
    start_turn (l);
    return;
  }
  if (!l->in_turn)
    return;

  if (info.active) {
    if (l->early_final || l->restart) {
      /* the user goes on: back to streaming, from the start of the turn */
      g_clear_pointer (&l->early_final, g_free);
      l->restart = FALSE;
      if (l->asr && gst_bidi_asr_begin (l->asr)) {
        l->streaming = TRUE;
        gst_bidi_asr_feed (l->asr, (const gint16 *) l->utt->data, l->utt->len);
      }
    }
    l->tail_fed = 0;
    l->early_checked = FALSE;
    l->grammar_checked = FALSE;
    l->speech_end = l->position;
    release_held (l, G_MAXUINT);
    feed (l, frame, l->frame);
  } else if (l->held_frames < l->held_max) {
    memcpy (l->held + (gsize) l->held_frames * l->frame, frame,
        l->frame * sizeof (gint16));
    ++l->held_frames;
    if (l->held_frames == l->early_frames && ev == GST_BIDI_VAD_NONE &&
        !l->early_final)
      l->early_final = decode_turn (l);
    if (l->semantic_frames && l->held_frames >= l->semantic_frames &&
        ev == GST_BIDI_VAD_NONE && try_early_end (l))
      return;
  }
  l->turn_samples += l->frame;
  l->since_partial += l->frame;

  if (ev == GST_BIDI_VAD_SPEECH_END) {
    end_turn (l);
    return;
  }
  if (l->turn_samples >= (guint64) l->params.max_turn_ms * GST_BIDI_ASR_RATE /
      1000) {
    gst_bidi_vad_force_end (l->vad);
    end_turn (l);
    return;
  }
  if (l->streaming && l->params.partial_ms > 0 && l->since_partial >=
      (guint64) l->params.partial_ms * GST_BIDI_ASR_RATE / 1000) {
    gchar *hyp = gst_bidi_asr_partial (l->asr);

    l->since_partial = 0;
    if (hyp && g_strcmp0 (hyp, l->last_partial) != 0) {
      g_free (l->last_partial);
      l->last_partial = hyp;
      emit (l, GST_BIDI_LISTENER_PARTIAL, hyp, FALSE, FALSE);
    } else {
      g_free (hyp);
    }
  }
}

void
gst_bidi_listener_push (GstBidiListener * l, const gint16 * samples, gsize n)
{
  while (n > 0) {
    if (l->acc_len == 0 && n >= l->frame) {
      process_frame (l, samples);
      samples += l->frame;
      n -= l->frame;
    } else {
      guint take = MIN (n, l->frame - l->acc_len);

      memcpy (l->acc + l->acc_len, samples, take * sizeof (gint16));
      l->acc_len += take;
      samples += take;
      n -= take;
      if (l->acc_len == l->frame) {
        process_frame (l, l->acc);
        l->acc_len = 0;
      }
    }
  }
}

void
gst_bidi_listener_finish (GstBidiListener * l)
{
  if (l->in_turn) {
    gst_bidi_vad_force_end (l->vad);
    end_turn (l);
  }
  l->acc_len = 0;
}
