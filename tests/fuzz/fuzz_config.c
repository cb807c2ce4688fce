/* gst-bidi: libFuzzer target for the element's provider-config (a
 * GstStructure string) and url, as the providers' configure() reads them
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 *
 * Input: "URL\nPROVIDER-CONFIG", or only the provider-config when there is
 * no newline.
 */

#include "fuzzcommon.h"

#include <gst/bidi/gstbidiprovider.h>

#include "gstbidiopenai.h"
#include "gstbidigemini.h"
#ifdef HAVE_NOVA_SONIC
#include "gstbidinovasonic.h"
#endif

GType gst_bidi_echo_provider_get_type (void);

#ifdef HAVE_NOVA_SONIC
static GstBidiProvider *providers[4];
#else
static GstBidiProvider *providers[3];
#endif

int
LLVMFuzzerInitialize (G_GNUC_UNUSED int *argc, G_GNUC_UNUSED char ***argv)
{
  bidi_fuzz_init ();
  /* configure() only checks: one object of each serves every input */
  providers[0] = g_object_new (GST_TYPE_BIDI_OPENAI_PROVIDER, NULL);
  providers[1] = g_object_new (gst_bidi_echo_provider_get_type (), NULL);
  providers[2] = g_object_new (GST_TYPE_BIDI_GEMINI_PROVIDER, NULL);
#ifdef HAVE_NOVA_SONIC
  /* fake AWS keys, so that its configure goes as far as the URL */
  g_setenv ("AWS_ACCESS_KEY_ID", "AKIDFUZZ", TRUE);
  g_setenv ("AWS_SECRET_ACCESS_KEY", "fuzz-secret", TRUE);
  providers[3] = g_object_new (GST_TYPE_BIDI_NOVA_SONIC, NULL);
#endif
  return 0;
}

/* The getters on every field, whatever its type: a value of the wrong type
 * or out of range is an error, never a crash */
static gboolean
read_field (GQuark field, G_GNUC_UNUSED const GValue * value,
    gpointer user_data)
{
  static const gchar *const choices[] = { "a", "auto", "none", NULL };
  const GstStructure *pc = user_data;
  const gchar *name = g_quark_to_string (field);
  GError *err = NULL;
  gint i = 7;
  guint u = 7;
  gdouble d = 0.5;
  gchar *choice = g_strdup ("auto");

  if (!gst_bidi_provider_config_get_int (pc, "fuzz", name, -10, 10, &i, &err))
    g_clear_error (&err);
  BIDI_FUZZ_ASSERT (i >= -10 && i <= 10);
  if (!gst_bidi_provider_config_get_uint (pc, "fuzz", name, 1, 100, &u, &err))
    g_clear_error (&err);
  BIDI_FUZZ_ASSERT ((u >= 1 && u <= 100) || u == 7);
  if (!gst_bidi_provider_config_get_double (pc, "fuzz", name, 0.0, 1.0, &d,
          &err))
    g_clear_error (&err);
  BIDI_FUZZ_ASSERT (d >= 0.0 && d <= 1.0);
  if (!gst_bidi_provider_config_get_choice (pc, "fuzz", name, choices,
          &choice, &err))
    g_clear_error (&err);
  BIDI_FUZZ_ASSERT (choice != NULL);
  g_free (choice);
  return TRUE;
}

static int
bidi_fuzz_one (const uint8_t * data, size_t size)
{
  GstBidiProviderConfig *config = gst_bidi_provider_config_new ();
  gchar *text = bidi_fuzz_string (data, size), *nl;
  const gchar *pc_text = text;
  GError *err = NULL;
  guint i;

  if ((nl = strchr (text, '\n'))) {
    *nl = '\0';
    config->url = g_strdup (text);
    pc_text = nl + 1;
  }
  config->api_key = g_strdup ("sk-fuzz");
  config->provider_config = bidi_fuzz_structure_from_string (pc_text);
  g_free (text);
  if (!config->provider_config) {
    gst_bidi_provider_config_free (config);
    return 0;
  }

  if (!gst_bidi_provider_check_config (config->provider_config, "fuzz", &err,
          "i", G_TYPE_INT, "d", G_TYPE_DOUBLE, "s", G_TYPE_STRING,
          "b", G_TYPE_BOOLEAN, NULL)) {
    BIDI_FUZZ_ASSERT (err != NULL);
    g_clear_error (&err);
  }
  gst_structure_foreach (config->provider_config, read_field,
      config->provider_config);

  for (i = 0; i < G_N_ELEMENTS (providers); i++) {
    if (!gst_bidi_provider_configure (providers[i], config, &err)) {
      BIDI_FUZZ_ASSERT (err != NULL && err->message != NULL);
      g_clear_error (&err);
    }
  }
  gst_bidi_provider_config_free (config);
  return 0;
}
