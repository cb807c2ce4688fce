/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_NOVA_SONIC_PRIVATE_H__
#define __GST_BIDI_NOVA_SONIC_PRIVATE_H__

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <gst/bidi/gstbidiprovider.h>

#include "gstbidiawscreds.h"

G_BEGIN_DECLS

/* Between gstbidinovasonic.c (the session) and gstbidinovasonicsetup.c
 * (the settings, the events that open a stream, the replayed
 * conversation) */

GST_DEBUG_CATEGORY_EXTERN (bidi_nova_sonic_debug);

#define PROVIDER_NAME "nova-sonic"
#define MAX_TEXT_SIZE (64 * 1024)       /* a transcript, a typed text */
#define IN_RATE 16000
#define OUT_RATE 24000

typedef struct
{
  GstBidiAwsCredentials *creds;     /* region always set */
  gchar *model;
  gchar *instructions;              /* never empty: Nova requires it */
  gchar *voice;
  gint max_tokens;
  gdouble top_p;
  gdouble temperature;
  gchar *sensitivity;               /* HIGH, MEDIUM or LOW */
  gint silence_restart_s;           /* 0: never */
  gint history_max_bytes;
  JsonArray *tools;                 /* toolSpec entries; NULL: none */
} NovaSettings;

/* provider-config, the element's settings and the credentials; returns
 * the request's https URL in @url */
NovaSettings *gst_bidi_nova_settings_parse (GObject * self,
    const GstBidiProviderConfig * config, gchar ** url, GError ** error);
void gst_bidi_nova_settings_free (NovaSettings * s);

/* {"event": {@name: @body}} (@body taken) */
JsonObject *gst_bidi_nova_event (const gchar * name, JsonObject * body);
/* {"promptName": @prompt, "contentName": @content} */
JsonObject *gst_bidi_nova_content_ref (const gchar * prompt,
    const gchar * content);

/* {"mediaType": @type} */
JsonObject *gst_bidi_nova_media_type (const gchar * type);

JsonObject *gst_bidi_nova_session_start (NovaSettings * s);
JsonObject *gst_bidi_nova_prompt_start (NovaSettings * s,
    const gchar * prompt);

/* The three events of a text block (contentStart, textInput, contentEnd)
 * appended to @events */
void gst_bidi_nova_text_block (GPtrArray * events, const gchar * prompt,
    const gchar * content, const gchar * role, gboolean interactive,
    const gchar * text);

/* The conversation as non-interactive text blocks appended to @events
 * (the first one USER, tool calls left out, the oldest dropped beyond
 * @max_bytes in all, each message cut at 50 KB); *@seq numbers the
 * blocks' names. Returns how many messages went. */
guint gst_bidi_nova_history_blocks (GObject * self, GPtrArray * events,
    GPtrArray * messages, const gchar * prompt, guint * seq,
    gint max_bytes);

G_END_DECLS

#endif /* __GST_BIDI_NOVA_SONIC_PRIVATE_H__ */
