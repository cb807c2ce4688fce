/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gstbidiprovider
 * @title: GstBidiProvider
 * @short_description: base class of the speech-to-speech providers
 *
 * A provider connects #GstBidiAgent to one realtime model. It receives PCM
 * and text from the element and reports everything back as unified events
 * (see gstbidievents.h) through gst_bidi_provider_emit(). Providers never
 * touch pads, the bus or the clock: the element turns their events into
 * buffers, flushes and bus messages.
 *
 * Providers are found by name through a small registry; the plugin registers
 * the ones compiled in, and an application (or a test) may register more.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "gstbidiprovider.h"
#include "gstbidievents.h"

GST_DEBUG_CATEGORY_STATIC (bidi_provider_debug);
#define GST_CAT_DEFAULT bidi_provider_debug

typedef struct
{
  /* protected by GST_OBJECT_LOCK */
  GstBidiProviderEventFunc event_func;
  gpointer event_data;
  GDestroyNotify event_notify;
  GstBidiProviderReadyFunc ready_func;
  gpointer ready_data;
  gboolean input_full;
} GstBidiProviderPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_CODE (GstBidiProvider, gst_bidi_provider,
    GST_TYPE_OBJECT, G_ADD_PRIVATE (GstBidiProvider);
    GST_DEBUG_CATEGORY_INIT (bidi_provider_debug, "bidiprovider", 0,
        "bidiagent provider base class"));

static GMutex registry_lock;
static GHashTable *registry;    /* name -> GType, protected by registry_lock */

GstBidiProviderConfig *
gst_bidi_provider_config_new (void)
{
  GstBidiProviderConfig *config = g_new0 (GstBidiProviderConfig, 1);

  config->ssl_strict = TRUE;
  return config;
}

/**
 * gst_bidi_clear_secret:
 * @secret: (inout) (nullable): a secret string
 *
 * Overwrites the secret with zeros, frees it and sets the pointer to %NULL.
 */
void
gst_bidi_clear_secret (gchar ** secret)
{
  if (*secret) {
    explicit_bzero (*secret, strlen (*secret));
    g_clear_pointer (secret, g_free);
  }
}

/**
 * gst_bidi_provider_config_copy:
 * @config: a config
 *
 * Returns: (transfer full): a deep copy of @config
 */
GstBidiProviderConfig *
gst_bidi_provider_config_copy (const GstBidiProviderConfig * config)
{
  GstBidiProviderConfig *copy = gst_bidi_provider_config_new ();

  copy->model = g_strdup (config->model);
  copy->instructions = g_strdup (config->instructions);
  copy->voice = g_strdup (config->voice);
  copy->url = g_strdup (config->url);
  copy->api_key = g_strdup (config->api_key);
  copy->provider_config = config->provider_config ?
      gst_structure_copy (config->provider_config) : NULL;
  copy->tools_json = g_strdup (config->tools_json);
  copy->history_json = g_strdup (config->history_json);
  copy->ssl_ca_file = g_strdup (config->ssl_ca_file);
  copy->ssl_strict = config->ssl_strict;
  copy->history = config->history;
  copy->aws_access_key_id = g_strdup (config->aws_access_key_id);
  copy->aws_secret_access_key = g_strdup (config->aws_secret_access_key);
  copy->aws_session_token = g_strdup (config->aws_session_token);
  copy->aws_region = g_strdup (config->aws_region);
  return copy;
}

void
gst_bidi_provider_config_free (GstBidiProviderConfig * config)
{
  if (!config)
    return;
  g_free (config->model);
  g_free (config->instructions);
  g_free (config->voice);
  g_free (config->url);
  gst_bidi_clear_secret (&config->api_key);
  if (config->provider_config)
    gst_structure_free (config->provider_config);
  g_free (config->tools_json);
  g_free (config->history_json);
  g_free (config->ssl_ca_file);
  /* the key id is not secret to AWS, but it names the account */
  gst_bidi_clear_secret (&config->aws_access_key_id);
  gst_bidi_clear_secret (&config->aws_secret_access_key);
  gst_bidi_clear_secret (&config->aws_session_token);
  g_free (config->aws_region);
  g_free (config);
}

static gboolean
gst_bidi_provider_default_configure (GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error)
{
  /* A provider that takes no provider-config refuses every field, so that a
   * typo is an error instead of a silently ignored setting. */
  return gst_bidi_provider_check_config (config->provider_config,
      GST_OBJECT_NAME (provider), error, NULL);
}

static void
gst_bidi_provider_default_get_audio_formats (G_GNUC_UNUSED GstBidiProvider *
    provider,
    GstAudioInfo * in_info, GstAudioInfo * out_info)
{
  gst_audio_info_set_format (in_info, GST_AUDIO_FORMAT_S16LE, 16000, 1, NULL);
  gst_audio_info_set_format (out_info, GST_AUDIO_FORMAT_S16LE, 24000, 1,
      NULL);
}

static void
gst_bidi_provider_default_end_input (GstBidiProvider * provider)
{
  gst_bidi_provider_emit (provider,
      gst_bidi_event_new_connection_close (NULL, "complete"));
}

static void
gst_bidi_provider_finalize (GObject * object)
{
  GstBidiProvider *provider = GST_BIDI_PROVIDER (object);

  gst_bidi_provider_set_event_func (provider, NULL, NULL, NULL);
  G_OBJECT_CLASS (gst_bidi_provider_parent_class)->finalize (object);
}

static void
gst_bidi_provider_class_init (GstBidiProviderClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->finalize = gst_bidi_provider_finalize;
  klass->configure = gst_bidi_provider_default_configure;
  klass->get_audio_formats = gst_bidi_provider_default_get_audio_formats;
  klass->end_input = gst_bidi_provider_default_end_input;
  klass->builtin_tools = "stop_conversation";
}

static void
gst_bidi_provider_init (G_GNUC_UNUSED GstBidiProvider * provider)
{
}

/**
 * gst_bidi_provider_register:
 * @name: the name users give to the `provider` property
 * @type: a subclass of #GstBidiProvider
 *
 * Makes @type available under @name. Registering a name again replaces it.
 */
void
gst_bidi_provider_register (const gchar * name, GType type)
{
  g_return_if_fail (name != NULL && *name != '\0');
  g_return_if_fail (g_type_is_a (type, GST_TYPE_BIDI_PROVIDER));
  g_return_if_fail (!G_TYPE_IS_ABSTRACT (type));

  g_mutex_lock (&registry_lock);
  if (!registry)
    registry = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_insert (registry, g_strdup (name), GSIZE_TO_POINTER (type));
  g_mutex_unlock (&registry_lock);
  GST_DEBUG ("registered provider %s (%s)", name, g_type_name (type));
}

/**
 * gst_bidi_provider_lookup:
 * @name: a provider name
 *
 * Returns: the registered type, or %G_TYPE_INVALID.
 */
GType
gst_bidi_provider_lookup (const gchar * name)
{
  GType type = G_TYPE_INVALID;

  g_return_val_if_fail (name != NULL, G_TYPE_INVALID);

  g_mutex_lock (&registry_lock);
  if (registry)
    type = GPOINTER_TO_SIZE (g_hash_table_lookup (registry, name));
  g_mutex_unlock (&registry_lock);
  return type;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  /* g_ptr_array_sort passes pointers to the elements */
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

/**
 * gst_bidi_provider_list:
 *
 * Returns: (transfer full): the registered names, sorted, %NULL-terminated.
 */
gchar **
gst_bidi_provider_list (void)
{
  GPtrArray *names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_mutex_lock (&registry_lock);
  if (registry) {
    g_hash_table_iter_init (&iter, registry);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (names, g_strdup (key));
  }
  g_mutex_unlock (&registry_lock);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (gchar **) g_ptr_array_free (names, FALSE);
}

/**
 * gst_bidi_provider_new:
 * @name: a provider name
 * @error: where to put an error
 *
 * Returns: (transfer full) (nullable): a new provider named @name, or %NULL
 * with @error set when no provider has that name.
 */
GstBidiProvider *
gst_bidi_provider_new (const gchar * name, GError ** error)
{
  GType type;
  gchar **names, *list;

  type = name ? gst_bidi_provider_lookup (name) : G_TYPE_INVALID;
  if (type != G_TYPE_INVALID)
    return g_object_ref_sink (g_object_new (type, "name", name, NULL));

  names = gst_bidi_provider_list ();
  list = g_strjoinv (", ", names);
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
      "Unknown provider \"%s\"; this build has: %s", GST_STR_NULL (name),
      *list ? list : "(none)");
  g_free (list);
  g_strfreev (names);
  return NULL;
}

gboolean
gst_bidi_provider_config_error (GError ** error, const gchar * provider_name,
    const gchar * format, ...)
{
  va_list ap;
  gchar *msg;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      "Invalid provider-config of provider \"%s\": %s", provider_name, msg);
  g_free (msg);
  return FALSE;
}

/* A number field of any numeric type, as a double: 1 when there is one,
 * 0 when absent, -1 with @error when it is not a number */
static gint
config_get_number (const GstStructure * config, const gchar * provider_name,
    const gchar * field, gdouble * value, GError ** error)
{
  const GValue *v = config ? gst_structure_get_value (config, field) : NULL;

  if (!v)
    return 0;
  if (G_VALUE_HOLDS_DOUBLE (v))
    *value = g_value_get_double (v);
  else if (G_VALUE_HOLDS_INT (v))
    *value = g_value_get_int (v);
  else if (G_VALUE_HOLDS_UINT (v))
    *value = g_value_get_uint (v);
  else if (G_VALUE_HOLDS_INT64 (v))
    *value = g_value_get_int64 (v);
  else if (G_VALUE_HOLDS_UINT64 (v))
    *value = g_value_get_uint64 (v);
  else {
    gst_bidi_provider_config_error (error, provider_name,
        "\"%s\" must be a number, not a %s", field, G_VALUE_TYPE_NAME (v));
    return -1;
  }
  return 1;
}

gboolean
gst_bidi_provider_config_get_double (const GstStructure * config,
    const gchar * provider_name, const gchar * field, gdouble lo, gdouble hi,
    gdouble * value, GError ** error)
{
  gdouble v;
  gint found = config_get_number (config, provider_name, field, &v, error);

  if (found <= 0)
    return found == 0;
  if (!(v >= lo && v <= hi))
    return gst_bidi_provider_config_error (error, provider_name,
        "\"%s\" must be between %g and %g, not %g", field, lo, hi, v);
  *value = v;
  return TRUE;
}

/* A whole number field between @lo and @hi into *@value, which stays as
 * it is when the field is absent or refused (FALSE and @error then) */
static gboolean
config_get_whole (const GstStructure * config, const gchar * provider_name,
    const gchar * field, gdouble lo, gdouble hi, gdouble * value,
    GError ** error)
{
  gdouble v;
  gint found = config_get_number (config, provider_name, field, &v, error);

  if (found <= 0)
    return found == 0;
  if (!(v >= lo && v <= hi && v == floor (v)))
    return gst_bidi_provider_config_error (error, provider_name,
        "\"%s\" must be a whole number between %.0f and %.0f, not %g", field,
        lo, hi, v);
  *value = v;
  return TRUE;
}

gboolean
gst_bidi_provider_config_get_int (const GstStructure * config,
    const gchar * provider_name, const gchar * field, gint lo, gint hi,
    gint * value, GError ** error)
{
  gdouble v = *value;
  gboolean ok = config_get_whole (config, provider_name, field, lo, hi, &v,
      error);

  *value = (gint) v;
  return ok;
}

gboolean
gst_bidi_provider_config_get_uint (const GstStructure * config,
    const gchar * provider_name, const gchar * field, guint lo, guint hi,
    guint * value, GError ** error)
{
  gdouble v = *value;
  gboolean ok = config_get_whole (config, provider_name, field, lo, hi, &v,
      error);

  *value = (guint) v;
  return ok;
}

gboolean
gst_bidi_provider_config_get_choice (const GstStructure * config,
    const gchar * provider_name, const gchar * field,
    const gchar * const *choices, gchar ** value, GError ** error)
{
  const gchar *v = config ? gst_structure_get_string (config, field) : NULL;
  gchar *list;

  if (!v)
    return TRUE;
  if (g_strv_contains (choices, v)) {
    g_free (*value);
    *value = g_strdup (v);
    return TRUE;
  }
  list = g_strjoinv (", ", (gchar **) choices);
  gst_bidi_provider_config_error (error, provider_name,
      "\"%s\" must be one of %s, not \"%s\"", field, list, v);
  g_free (list);
  return FALSE;
}

/**
 * gst_bidi_provider_check_config:
 * @config: (nullable): a provider-config structure
 * @provider_name: used in the error message
 * @error: where to put an error
 * @first_field: name of the first allowed field, then its #GType, then more
 *     name/type pairs, ending with %NULL
 *
 * Checks that @config only has the listed fields, each of the listed type
 * (integers may be given for double fields). For providers' configure.
 *
 * Returns: %TRUE if @config is acceptable.
 */
gboolean
gst_bidi_provider_check_config (const GstStructure * config,
    const gchar * provider_name, GError ** error, const gchar * first_field,
    ...)
{
  va_list ap;
  guint i, n;

  if (!config)
    return TRUE;

  n = gst_structure_n_fields (config);
  for (i = 0; i < n; i++) {
    const gchar *field = gst_structure_nth_field_name (config, i);
    const gchar *name;
    GType want = G_TYPE_INVALID, have;
    gboolean known = FALSE;

    va_start (ap, first_field);
    for (name = first_field; name; name = va_arg (ap, const gchar *)) {
      GType t = va_arg (ap, GType);
      if (strcmp (name, field) == 0) {
        want = t;
        known = TRUE;
        break;
      }
    }
    va_end (ap);

    if (!known) {
      GString *allowed = g_string_new (NULL);

      va_start (ap, first_field);
      for (name = first_field; name; name = va_arg (ap, const gchar *)) {
        (void) va_arg (ap, GType);
        g_string_append_printf (allowed, "%s%s", allowed->len ? ", " : "",
            name);
      }
      va_end (ap);
      g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
          "Invalid provider-config: provider \"%s\" has no setting \"%s\" "
          "(it knows: %s)", provider_name, field,
          allowed->len ? allowed->str : "nothing");
      g_string_free (allowed, TRUE);
      return FALSE;
    }

    have = gst_structure_get_field_type (config, field);
    if (have == want)
      continue;
    if (want == G_TYPE_DOUBLE && (have == G_TYPE_INT || have == G_TYPE_UINT
            || have == G_TYPE_INT64 || have == G_TYPE_UINT64))
      continue;
    if (want == G_TYPE_UINT && have == G_TYPE_INT) {
      gint v = 0;
      gst_structure_get_int (config, field, &v);
      if (v >= 0)
        continue;
    }
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid provider-config: \"%s\" of provider \"%s\" must be a %s, "
        "not a %s", field, provider_name, g_type_name (want),
        g_type_name (have));
    return FALSE;
  }
  return TRUE;
}

/**
 * gst_bidi_provider_set_event_func:
 * @provider: a provider
 * @func: (nullable): where events go
 * @user_data: for @func
 * @notify: (nullable): frees @user_data
 *
 * Sets where gst_bidi_provider_emit() delivers. Called by the element.
 */
void
gst_bidi_provider_set_event_func (GstBidiProvider * provider,
    GstBidiProviderEventFunc func, gpointer user_data, GDestroyNotify notify)
{
  GstBidiProviderPrivate *priv =
      gst_bidi_provider_get_instance_private (provider);
  gpointer old_data;
  GDestroyNotify old_notify;

  GST_OBJECT_LOCK (provider);
  old_data = priv->event_data;
  old_notify = priv->event_notify;
  priv->event_func = func;
  priv->event_data = user_data;
  priv->event_notify = notify;
  GST_OBJECT_UNLOCK (provider);

  if (old_notify)
    old_notify (old_data);
}

/**
 * gst_bidi_provider_set_ready_func:
 * @provider: a provider
 * @func: (nullable): called when the provider's input stops being full
 * @user_data: for @func
 *
 * Called by the element, which clears it (after stop) before @user_data
 * goes away.
 */
void
gst_bidi_provider_set_ready_func (GstBidiProvider * provider,
    GstBidiProviderReadyFunc func, gpointer user_data)
{
  GstBidiProviderPrivate *priv =
      gst_bidi_provider_get_instance_private (provider);

  GST_OBJECT_LOCK (provider);
  priv->ready_func = func;
  priv->ready_data = user_data;
  GST_OBJECT_UNLOCK (provider);
}

/**
 * gst_bidi_provider_set_input_full:
 * @provider: a provider
 * @full: whether the provider wants no more input audio for now
 *
 * A provider that cannot keep up with its input says so rather than
 * dropping it: the element then holds the input back (a non-live upstream
 * waits). Setting it back to %FALSE lets the element send what it held.
 */
void
gst_bidi_provider_set_input_full (GstBidiProvider * provider, gboolean full)
{
  GstBidiProviderPrivate *priv;
  GstBidiProviderReadyFunc func = NULL;
  gpointer data = NULL;

  g_return_if_fail (GST_IS_BIDI_PROVIDER (provider));

  priv = gst_bidi_provider_get_instance_private (provider);
  GST_OBJECT_LOCK (provider);
  if (priv->input_full && !full) {
    func = priv->ready_func;
    data = priv->ready_data;
  }
  priv->input_full = full;
  GST_OBJECT_UNLOCK (provider);

  if (func)
    func (provider, data);
}

gboolean
gst_bidi_provider_is_input_full (GstBidiProvider * provider)
{
  GstBidiProviderPrivate *priv;
  gboolean full;

  g_return_val_if_fail (GST_IS_BIDI_PROVIDER (provider), FALSE);

  priv = gst_bidi_provider_get_instance_private (provider);
  GST_OBJECT_LOCK (provider);
  full = priv->input_full;
  GST_OBJECT_UNLOCK (provider);
  return full;
}

/**
 * gst_bidi_provider_emit:
 * @provider: a provider
 * @event: (transfer full): a unified event
 *
 * Reports @event to the element. Call it on the network thread. Events that
 * do not validate against the schema are dropped with a warning in the log,
 * so a provider bug never reaches applications as a malformed message.
 */
void
gst_bidi_provider_emit (GstBidiProvider * provider, GstStructure * event)
{
  GstBidiProviderPrivate *priv;
  GstBidiProviderEventFunc func;
  gpointer data;
  GError *err = NULL;

  g_return_if_fail (GST_IS_BIDI_PROVIDER (provider));
  g_return_if_fail (event != NULL);

  if (!gst_bidi_event_validate (event, &err)) {
    GST_WARNING_OBJECT (provider, "dropping invalid event %s: %s",
        gst_structure_get_name (event), err->message);
    g_clear_error (&err);
    gst_structure_free (event);
    return;
  }

  priv = gst_bidi_provider_get_instance_private (provider);
  GST_OBJECT_LOCK (provider);
  func = priv->event_func;
  data = priv->event_data;
  GST_OBJECT_UNLOCK (provider);

  if (func)
    func (provider, event, data);
  else
    gst_structure_free (event);
}

/**
 * gst_bidi_provider_emit_audio:
 * @provider: a provider
 * @pcm: (transfer none): audio in the provider's output format
 *
 * Shortcut for emitting a bidi_audio_stream event.
 */
void
gst_bidi_provider_emit_audio (GstBidiProvider * provider, GBytes * pcm)
{
  GstAudioInfo in, out;

  g_return_if_fail (GST_IS_BIDI_PROVIDER (provider));

  gst_audio_info_init (&in);
  gst_audio_info_init (&out);
  gst_bidi_provider_get_audio_formats (provider, &in, &out);
  gst_bidi_provider_emit (provider, gst_bidi_event_new_audio_stream (pcm,
          gst_audio_format_to_string (GST_AUDIO_INFO_FORMAT (&out)),
          GST_AUDIO_INFO_RATE (&out), GST_AUDIO_INFO_CHANNELS (&out)));
}

gboolean
gst_bidi_provider_configure (GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error)
{
  GstBidiProviderClass *klass = GST_BIDI_PROVIDER_GET_CLASS (provider);

  g_return_val_if_fail (config != NULL, FALSE);
  return klass->configure (provider, config, error);
}

void
gst_bidi_provider_get_audio_formats (GstBidiProvider * provider,
    GstAudioInfo * in_info, GstAudioInfo * out_info)
{
  GstBidiProviderClass *klass = GST_BIDI_PROVIDER_GET_CLASS (provider);

  klass->get_audio_formats (provider, in_info, out_info);
}

gboolean
gst_bidi_provider_start (GstBidiProvider * provider,
    const GstBidiProviderConfig * config, GError ** error)
{
  GstBidiProviderClass *klass = GST_BIDI_PROVIDER_GET_CLASS (provider);
  GstBidiProviderPrivate *priv =
      gst_bidi_provider_get_instance_private (provider);

  if (!klass->start) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
        "Provider \"%s\" cannot start", GST_OBJECT_NAME (provider));
    return FALSE;
  }
  /* a new session starts empty */
  GST_OBJECT_LOCK (provider);
  priv->input_full = FALSE;
  GST_OBJECT_UNLOCK (provider);
  return klass->start (provider, config, error);
}

void
gst_bidi_provider_send_audio (GstBidiProvider * provider, GBytes * pcm,
    gint64 arrived_us)
{
  GstBidiProviderClass *klass = GST_BIDI_PROVIDER_GET_CLASS (provider);

  if (arrived_us <= 0)
    arrived_us = g_get_monotonic_time ();
  if (klass->send_audio)
    klass->send_audio (provider, pcm, arrived_us);
}

void
gst_bidi_provider_send_text (GstBidiProvider * provider, const gchar * text,
    const gchar * role)
{
  GstBidiProviderClass *klass = GST_BIDI_PROVIDER_GET_CLASS (provider);

  if (klass->send_text)
    klass->send_text (provider, text, role ? role : "user");
  else
    GST_WARNING_OBJECT (provider, "provider takes no text input");
}

void
gst_bidi_provider_send_image (GstBidiProvider * provider, GBytes * data,
    const gchar * mime)
{
  GstBidiProviderClass *klass = GST_BIDI_PROVIDER_GET_CLASS (provider);

  if (klass->send_image)
    klass->send_image (provider, data, mime);
  else
    GST_WARNING_OBJECT (provider, "provider takes no image input");
}

void
gst_bidi_provider_send_tool_result (GstBidiProvider * provider,
    const gchar * tool_use_id, const gchar * name, const gchar * json,
    const gchar * status)
{
  GstBidiProviderClass *klass = GST_BIDI_PROVIDER_GET_CLASS (provider);

  if (klass->send_tool_result)
    klass->send_tool_result (provider, tool_use_id, name, json, status);
}

void
gst_bidi_provider_interrupt (GstBidiProvider * provider, guint64 played_ms)
{
  GstBidiProviderClass *klass = GST_BIDI_PROVIDER_GET_CLASS (provider);

  if (klass->interrupt)
    klass->interrupt (provider, played_ms);
}

void
gst_bidi_provider_end_input (GstBidiProvider * provider)
{
  GstBidiProviderClass *klass = GST_BIDI_PROVIDER_GET_CLASS (provider);

  if (klass->end_input)
    klass->end_input (provider);
}

void
gst_bidi_provider_stop (GstBidiProvider * provider)
{
  GstBidiProviderClass *klass = GST_BIDI_PROVIDER_GET_CLASS (provider);

  if (klass->stop)
    klass->stop (provider);
}
