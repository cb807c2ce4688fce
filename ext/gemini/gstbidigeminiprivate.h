/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_GEMINI_PRIVATE_H__
#define __GST_BIDI_GEMINI_PRIVATE_H__

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <gst/bidi/gstbidiprovider.h>

G_BEGIN_DECLS

/* Between gstbidigemini.c (the session) and gstbidigeminisetup.c (the
 * settings, the setup message, the replayed conversation) */

GST_DEBUG_CATEGORY_EXTERN (bidi_gemini_debug);

#define PROVIDER_NAME "gemini"
#define MAX_TEXT_SIZE (64 * 1024)       /* a transcript, a typed text */

typedef struct
{
  gchar *model;                 /* the id, without "models/" */
  gchar *instructions;
  gchar *voice;
  gchar *language;
  gboolean text_only;
  gboolean manual;              /* turn-detection none */
  gchar *start_sensitivity;
  gchar *end_sensitivity;
  gint prefix_padding_ms;       /* -1: not sent */
  gint silence_duration_ms;     /* -1: not sent */
  gchar *activity_handling;
  gchar *turn_coverage;
  gboolean input_transcription;
  gboolean output_transcription;
  gboolean resumption;
  gboolean compression;
  gint session_lifetime_s;      /* then a new session, not resumed */
  gint trigger_tokens;          /* 0: not sent */
  gint target_tokens;           /* 0: not sent */
  gdouble temperature;          /* < 0: not sent */
  gint max_output_tokens;       /* 0: not sent */
  gchar *media_resolution;
  JsonArray *declarations;      /* NULL when there are no tools */
  gchar *default_scheduling;    /* wire name, NULL: not sent */
  GHashTable *scheduling;       /* tool name -> wire name */
  JsonObject *setup_extra;      /* provider-config "setup" */
} Settings;

/* provider-config and the element's settings; returns the endpoint in
 * @url */
Settings *gst_bidi_gemini_settings_parse (const GstBidiProviderConfig *
    config, gchar ** url, GError ** error);
void gst_bidi_gemini_settings_free (Settings * s);

/* The setup message's value, resuming with @handle (nullable); @self for
 * the log lines */
JsonObject *gst_bidi_gemini_build_setup (GObject * self, Settings * s,
    const gchar * handle);
/* The conversation as one clientContent message (JSON text), or NULL
 * when it has no words */
gchar *gst_bidi_gemini_build_history (GObject * self, GPtrArray * messages);

/* {"role": @role (nullable), "parts": [{"text": @text}]} */
JsonObject *gst_bidi_gemini_text_content (const gchar * role,
    const gchar * text);

G_END_DECLS

#endif /* __GST_BIDI_GEMINI_PRIVATE_H__ */
