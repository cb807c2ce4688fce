/* gst-bidi: docs/reference.md names everything a user can set, call or
 * receive
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* Each check takes its names from the code as it is built (the element's
 * classes, the provider registry, the headers, the sources) and looks for
 * each one, in backquotes, in its section of the reference. A name that
 * is missing fails the check with the list of all the missing ones, so
 * that a new property, signal, provider-config field, event or debug
 * category cannot go undocumented.
 *
 * The sections (level-2 headings) of docs/reference.md it reads:
 *   "## Properties", "## Signals", "## provider-config" (with one
 *   level-3 heading per provider, or per group of providers, naming each
 *   in backquotes), "## Bus messages", "## Debug categories".
 * BIDI_REFERENCE overrides the path of the reference (to try the check on
 * a copy with a line removed). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/bidi/gstbidiprovider.h>

#define REFERENCE BIDI_SRCDIR "/docs/reference.md"
#define PLUGIN "bidiagent"

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static gchar *
read_text (const gchar * path)
{
  gchar *text = NULL;
  GError *err = NULL;

  fail_unless (g_file_get_contents (path, &text, NULL, &err),
      "cannot read %s: %s", path, err ? err->message : "?");
  return text;
}

static gchar *
read_reference (void)
{
  const gchar *path = g_getenv ("BIDI_REFERENCE");

  return read_text (path && *path ? path : REFERENCE);
}

/* The text from the line @heading (a whole line, "## Name") to the next
 * heading of the same level or higher; NULL when there is none */
static gchar *
section (const gchar * doc, const gchar * heading)
{
  gsize level = strspn (heading, "#");
  gchar **lines = g_strsplit (doc, "\n", -1);
  GString *out = NULL;
  guint i;

  for (i = 0; lines[i]; i++) {
    gsize l = strspn (lines[i], "#");
    gboolean is_heading = l > 0 && lines[i][l] == ' ';

    if (out && is_heading && l <= level)
      break;
    if (out)
      g_string_append_printf (out, "%s\n", lines[i]);
    else if (strcmp (g_strchomp (lines[i]), heading) == 0)
      out = g_string_new (NULL);
  }
  g_strfreev (lines);
  return out ? g_string_free (out, FALSE) : NULL;
}

static gchar *
section_or_fail (const gchar * doc, const gchar * heading)
{
  gchar *text = section (doc, heading);

  fail_unless (text != NULL, "docs/reference.md has no \"%s\" section",
      heading);
  return text;
}

static gboolean
mentions (const gchar * text, const gchar * name)
{
  gchar *quoted = g_strdup_printf ("`%s`", name);
  gboolean found = strstr (text, quoted) != NULL;

  g_free (quoted);
  return found;
}

/* A list of names, each once */
static void
add_name (GPtrArray * names, const gchar * name)
{
  guint i;

  for (i = 0; i < names->len; i++)
    if (strcmp (g_ptr_array_index (names, i), name) == 0)
      return;
  g_ptr_array_add (names, g_strdup (name));
}

/* Fails listing every name of @names that @text does not mention */
static void
assert_all_mentioned (const gchar * text, GPtrArray * names,
    const gchar * what)
{
  GString *missing = g_string_new (NULL);
  guint i;

  fail_unless (names->len > 0, "no %s found in the code", what);
  for (i = 0; i < names->len; i++) {
    const gchar *name = g_ptr_array_index (names, i);

    if (!mentions (text, name))
      g_string_append_printf (missing, " %s", name);
  }
  fail_unless (missing->len == 0, "%s not in docs/reference.md:%s", what,
      missing->str);
  g_string_free (missing, TRUE);
}

/* The element factories of the plugin */
static GList *
plugin_factories (void)
{
  GstElement *agent = gst_element_factory_make ("bidiagent", NULL);
  GList *features;

  /* making one loads the plugin, which registers the providers */
  fail_unless (agent != NULL, "bidiagent is not built");
  gst_object_unref (agent);
  features = gst_registry_get_feature_list_by_plugin (gst_registry_get (),
      PLUGIN);
  fail_unless (features != NULL, "the plugin has no features");
  return features;
}

/* Adds the first group of every match of @re in the file @path (the
 * quoted name of a #define or of a call) */
static void
scan_literals (const gchar * path, GRegex * re, GPtrArray * names)
{
  gchar *text = read_text (path);
  GMatchInfo *info;

  g_regex_match (re, text, 0, &info);
  while (g_match_info_matches (info)) {
    gchar *name = g_match_info_fetch (info, 1);

    add_name (names, name);
    g_free (name);
    g_match_info_next (info, NULL);
  }
  g_match_info_free (info);
  g_free (text);
}

/* scan_literals on each file under @dir (relative to the source root)
 * whose name ends with @suffix */
static void
scan_dir (const gchar * dir, const gchar * suffix, GRegex * re,
    GPtrArray * names)
{
  gchar *path = g_build_filename (BIDI_SRCDIR, dir, NULL);
  GDir *d = g_dir_open (path, 0, NULL);
  const gchar *entry;

  fail_unless (d != NULL, "cannot list %s", path);
  while ((entry = g_dir_read_name (d))) {
    gchar *child = g_build_filename (path, entry, NULL);
    gchar *rel = g_build_filename (dir, entry, NULL);

    if (g_file_test (child, G_FILE_TEST_IS_DIR))
      scan_dir (rel, suffix, re, names);
    else if (g_str_has_suffix (entry, suffix))
      scan_literals (child, re, names);
    g_free (rel);
    g_free (child);
  }
  g_dir_close (d);
  g_free (path);
}

/* ------------------------------------------------------------------------
 * Properties and signals
 * ------------------------------------------------------------------------ */

/* Every property of the plugin's elements but GstObject's own */
GST_START_TEST (test_properties)
{
  GList *features = plugin_factories (), *l;
  gchar *doc = read_reference ();
  gchar *text = section_or_fail (doc, "## Properties");
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (l = features; l; l = l->next) {
    GstElementFactory *f;
    GObjectClass *klass;
    GParamSpec **props;
    guint i, n;

    if (!GST_IS_ELEMENT_FACTORY (l->data))
      continue;
    f = GST_ELEMENT_FACTORY (gst_plugin_feature_load (l->data));
    fail_unless (f != NULL);
    klass = g_type_class_ref (gst_element_factory_get_element_type (f));
    props = g_object_class_list_properties (klass, &n);
    for (i = 0; i < n; i++)
      if (props[i]->owner_type != GST_TYPE_OBJECT)
        add_name (names, props[i]->name);
    g_free (props);
    g_type_class_unref (klass);
    gst_object_unref (f);
  }
  assert_all_mentioned (text, names, "properties");

  g_ptr_array_unref (names);
  gst_plugin_feature_list_free (features);
  g_free (text);
  g_free (doc);
}

GST_END_TEST;

/* Every signal the plugin's elements add (GstElement's are GStreamer's) */
GST_START_TEST (test_signals)
{
  GList *features = plugin_factories (), *l;
  gchar *doc = read_reference ();
  gchar *text = section_or_fail (doc, "## Signals");
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (l = features; l; l = l->next) {
    GstElementFactory *f;
    GType type;
    guint *ids, i, n;

    if (!GST_IS_ELEMENT_FACTORY (l->data))
      continue;
    f = GST_ELEMENT_FACTORY (gst_plugin_feature_load (l->data));
    type = gst_element_factory_get_element_type (f);
    g_type_class_unref (g_type_class_ref (type));
    ids = g_signal_list_ids (type, &n);
    for (i = 0; i < n; i++)
      add_name (names, g_signal_name (ids[i]));
    g_free (ids);
    gst_object_unref (f);
  }
  assert_all_mentioned (text, names, "signals");

  g_ptr_array_unref (names);
  gst_plugin_feature_list_free (features);
  g_free (text);
  g_free (doc);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * provider-config
 * ------------------------------------------------------------------------ */

/* The fields @name knows: its configure refuses an unknown field and
 * lists them ("(it knows: a, b, c)", or "nothing") */
static GPtrArray *
provider_fields (const gchar * name)
{
  GstBidiProviderConfig *config = gst_bidi_provider_config_new ();
  GstBidiProvider *provider;
  GPtrArray *fields = g_ptr_array_new_with_free_func (g_free);
  GError *err = NULL;
  const gchar *list, *end;
  gchar **parts, **p;

  /* credentials, so that nothing is refused before the fields */
  config->api_key = g_strdup ("test-key");
  config->aws_access_key_id = g_strdup ("AKIDEXAMPLE");
  config->aws_secret_access_key = g_strdup ("test-secret");
  config->aws_region = g_strdup ("us-east-1");
  config->provider_config = gst_structure_new ("config",
      "zz-no-such-field", G_TYPE_INT, 1, NULL);
  provider = gst_bidi_provider_new (name, &err);
  fail_unless (provider != NULL, "%s: %s", name, err ? err->message : "?");
  fail_if (gst_bidi_provider_configure (provider, config, &err),
      "provider %s takes an unknown provider-config field", name);
  list = strstr (err->message, "(it knows: ");
  fail_unless (list != NULL, "provider %s: \"%s\" does not list its fields",
      name, err->message);
  list += strlen ("(it knows: ");
  end = strrchr (list, ')');
  fail_unless (end != NULL, "%s", err->message);
  parts = g_strsplit (list, ", ", -1);
  *strrchr (parts[g_strv_length (parts) - 1], ')') = '\0';
  for (p = parts; *p; p++)
    if (strcmp (*p, "nothing") != 0)
      add_name (fields, *p);

  g_strfreev (parts);
  g_error_free (err);
  gst_object_unref (provider);
  gst_bidi_provider_config_free (config);
  return fields;
}

/* The text of every level-3 subsection of @text whose heading names
 * @provider in backquotes */
static gchar *
provider_sections (const gchar * text, const gchar * provider)
{
  gchar **lines = g_strsplit (text, "\n", -1);
  GString *out = g_string_new (NULL);
  gboolean in = FALSE;
  guint i;

  for (i = 0; lines[i]; i++) {
    if (g_str_has_prefix (lines[i], "### "))
      in = mentions (lines[i], provider);
    if (in)
      g_string_append_printf (out, "%s\n", lines[i]);
  }
  g_strfreev (lines);
  return g_string_free (out, FALSE);
}

GST_START_TEST (test_provider_config)
{
  GList *features = plugin_factories ();
  gchar *doc = read_reference ();
  gchar *text = section_or_fail (doc, "## provider-config");
  gchar **providers = gst_bidi_provider_list (), **p;
  GString *missing = g_string_new (NULL);

  fail_unless (providers && *providers, "no provider registered");
  for (p = providers; *p; p++) {
    GPtrArray *fields = provider_fields (*p);
    gchar *sub = provider_sections (text, *p);
    guint i;

    GST_INFO ("provider %s: %u fields", *p, fields->len);
    if (!*sub)
      g_string_append_printf (missing, " %s (no section)", *p);
    for (i = 0; i < fields->len; i++) {
      const gchar *field = g_ptr_array_index (fields, i);

      if (!mentions (sub, field))
        g_string_append_printf (missing, " %s:%s", *p, field);
    }
    g_free (sub);
    g_ptr_array_unref (fields);
  }
  fail_unless (missing->len == 0, "provider-config fields not in "
      "docs/reference.md:%s", missing->str);

  g_string_free (missing, TRUE);
  g_strfreev (providers);
  gst_plugin_feature_list_free (features);
  g_free (text);
  g_free (doc);
}

GST_END_TEST;

/* ------------------------------------------------------------------------
 * Messages and debug categories
 * ------------------------------------------------------------------------ */

/* Every event name the headers define (the unified events, the element's
 * own, the captions' event), and the name of the stats structure */
GST_START_TEST (test_messages)
{
  GList *features = plugin_factories ();
  gchar *doc = read_reference ();
  gchar *text = section_or_fail (doc, "## Bus messages");
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GRegex *re = g_regex_new ("^#define\\s+GST_BIDI_\\w*EVENT\\w*\\s+"
      "\"([^\"]+)\"", G_REGEX_MULTILINE, 0, NULL);
  GstElement *agent = gst_element_factory_make ("bidiagent", NULL);
  GstStructure *stats = NULL;

  scan_literals (BIDI_SRCDIR "/gst/bidi/gstbidievents.h", re, names);
  fail_unless (names->len >= 10, "only %u event names in gstbidievents.h",
      names->len);
  scan_dir ("gst/bidiagent", ".h", re, names);
  g_object_get (agent, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  add_name (names, gst_structure_get_name (stats));
  assert_all_mentioned (text, names, "messages and events");

  gst_structure_free (stats);
  gst_object_unref (agent);
  g_regex_unref (re);
  g_ptr_array_unref (names);
  gst_plugin_feature_list_free (features);
  g_free (text);
  g_free (doc);
}

GST_END_TEST;

/* The categories the sources of the plugin and of libgstbidi make, and
 * those registered once every provider was made */
GST_START_TEST (test_debug_categories)
{
  GList *features = plugin_factories ();
  gchar *doc = read_reference ();
  gchar *text = section_or_fail (doc, "## Debug categories");
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GRegex *re = g_regex_new ("GST_DEBUG_CATEGORY_INIT\\s*\\(\\s*\\w+\\s*,"
      "\\s*\"([^\"]+)\"", 0, 0, NULL);
  gchar **providers = gst_bidi_provider_list (), **p;
  GSList *cats, *l;

  scan_dir ("gst", ".c", re, names);
  scan_dir ("ext", ".c", re, names);
  for (p = providers; *p; p++) {
    GstBidiProvider *provider = gst_bidi_provider_new (*p, NULL);

    fail_unless (provider != NULL, "%s", *p);
    gst_object_unref (provider);
  }
  cats = gst_debug_get_all_categories ();
  for (l = cats; l; l = l->next) {
    const gchar *name = gst_debug_category_get_name (l->data);

    if (g_str_has_prefix (name, "bidi"))
      add_name (names, name);
  }
  g_slist_free (cats);
  assert_all_mentioned (text, names, "debug categories");

  g_strfreev (providers);
  g_regex_unref (re);
  g_ptr_array_unref (names);
  gst_plugin_feature_list_free (features);
  g_free (text);
  g_free (doc);
}

GST_END_TEST;

/* The check itself: a name that is not there is found missing, one that
 * is there is not, and sections end at the next heading of their level */
GST_START_TEST (test_self)
{
  const gchar *doc = "# T\n## Properties\n`a` and `b`\n### sub\n`c`\n"
      "## Signals\n`d`\n";
  gchar *props = section (doc, "## Properties");
  gchar *subs;

  fail_unless (props != NULL);
  fail_unless (mentions (props, "a") && mentions (props, "c"));
  fail_if (mentions (props, "d"));
  fail_if (mentions (props, "sub"));
  fail_unless (section (doc, "## Nothing") == NULL);
  subs = provider_sections ("### `x`, `y`\n`f`\n### `y`\n`g`\n### `z`\n`h`",
      "y");
  fail_unless (mentions (subs, "f") && mentions (subs, "g"));
  fail_if (mentions (subs, "h"));
  g_free (subs);
  g_free (props);
}

GST_END_TEST;

static Suite *
reference_suite (void)
{
  Suite *s = suite_create ("reference");
  TCase *tc = tcase_create ("reference");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_self);
  tcase_add_test (tc, test_properties);
  tcase_add_test (tc, test_signals);
  tcase_add_test (tc, test_provider_config);
  tcase_add_test (tc, test_messages);
  tcase_add_test (tc, test_debug_categories);
  return s;
}

GST_CHECK_MAIN (reference);
