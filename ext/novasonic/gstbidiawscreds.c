/* gst-bidi: where AWS credentials and the region come from
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The chain the AWS SDKs follow, without what needs a network (SSO, roles,
 * instance metadata): the element's properties, the environment, the
 * shared files. The files are INI as the AWS CLI writes them, read by a
 * small parser of our own: GKeyFile refuses their ';' comments and
 * indented sub-sections. Everything read from a file is wiped after use,
 * and errors say where we looked, never what we found. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <gst/bidi/gstbidiprovider.h>

#include "gstbidiawscreds.h"

/* larger than any credentials file; what is larger is not one */
#define MAX_FILE_SIZE (1024 * 1024)

static void
wipe_free (gpointer data)
{
  gchar *text = data;

  gst_bidi_clear_secret (&text);
}

void
gst_bidi_aws_credentials_free (GstBidiAwsCredentials * c)
{
  if (!c)
    return;
  g_free (c->access_key_id);
  gst_bidi_clear_secret (&c->secret_access_key);
  gst_bidi_clear_secret (&c->session_token);
  g_free (c->region);
  g_free (c->source);
  g_free (c);
}

/* An environment variable or a property: NULL when unset or empty */
static const gchar *
nonempty (const gchar * value)
{
  return value && *value ? value : NULL;
}

static GstBidiAwsCredentials *
creds_new (const gchar * key, const gchar * secret, const gchar * token,
    const gchar * source)
{
  GstBidiAwsCredentials *c = g_new0 (GstBidiAwsCredentials, 1);

  c->access_key_id = g_strdup (key);
  c->secret_access_key = g_strdup (secret);
  c->session_token = g_strdup (nonempty (token));
  c->source = g_strdup (source);
  return c;
}

/* --- the shared files --------------------------------------------------- */

static gchar *
home_dir (void)
{
  /* $HOME first: GLib caches the home directory it found first */
  const gchar *home = nonempty (g_getenv ("HOME"));

  return g_strdup (home ? home : g_get_home_dir ());
}

/* The path in @env_var (with "~/" expanded), else ~/.aws/@name */
static gchar *
file_path (const gchar * env_var, const gchar * name)
{
  const gchar *path = nonempty (g_getenv (env_var));
  gchar *home = home_dir (), *out;

  if (path && g_str_has_prefix (path, "~/"))
    out = g_build_filename (home, path + 2, NULL);
  else if (path)
    out = g_strdup (path);
  else
    out = g_build_filename (home, ".aws", name, NULL);
  g_free (home);
  return out;
}

/* Whether the section header @line ("[...]", trimmed) names @profile: in
 * the config file "[profile NAME]", or "[default]" for the default */
static gboolean
section_matches (const gchar * line, const gchar * profile, gboolean config)
{
  gchar *name = g_strstrip (g_strndup (line + 1, strlen (line) - 2));
  gboolean match;

  if (config && g_str_has_prefix (name, "profile") &&
      g_ascii_isspace (name[7]))
    match = strcmp (g_strchug (name + 7), profile) == 0;
  else
    match = strcmp (name, profile) == 0 &&
        (!config || strcmp (profile, "default") == 0);
  g_free (name);
  return match;
}

/* Adds the "key = value" of @line to @keys. TRUE for a key without a
 * value, which opens a sub-section ("s3 =" then indented lines) */
static gboolean
parse_key (gchar * line, GHashTable * keys)
{
  gchar *eq = strchr (line, '=');

  if (!eq)
    return FALSE;
  *eq = '\0';
  g_strstrip (eq + 1);
  if (keys)
    g_hash_table_replace (keys, g_ascii_strdown (g_strstrip (line), -1),
        g_strdup (eq + 1));
  return eq[1] == '\0';
}

/* The keys of @profile's sections in @text */
static void
parse_ini (gchar * text, const gchar * profile, gboolean config,
    GHashTable * keys, gboolean * found)
{
  gboolean in_profile = FALSE, nested = FALSE;
  gchar *line, *next;

  for (line = text; line; line = next) {
    next = strchr (line, '\n');
    if (next)
      *next++ = '\0';
    /* the indented lines of a sub-section (s3 = ...) are not ours */
    if (nested && (*line == ' ' || *line == '\t'))
      continue;
    nested = FALSE;
    g_strstrip (line);
    if (*line == '#' || *line == ';' || *line == '\0')
      continue;
    if (*line == '[' && g_str_has_suffix (line, "]")) {
      in_profile = section_matches (line, profile, config);
      *found |= in_profile;
    } else {
      nested = parse_key (line, in_profile ? keys : NULL);
    }
  }
}

/* The keys of @profile in the file at @path; NULL when the file cannot be
 * read or has no such profile, with why in @looked */
static GHashTable *
read_profile (const gchar * path, const gchar * profile, gboolean config,
    GString * looked)
{
  GHashTable *keys;
  gchar *text = NULL;
  gsize len = 0;
  gboolean found = FALSE;

  g_string_append_printf (looked, "; %s", path);
  if (!g_file_get_contents (path, &text, &len, NULL)) {
    g_string_append (looked, " (not readable)");
    return NULL;
  }
  if (len > MAX_FILE_SIZE) {
    g_string_append (looked, " (too large)");
    explicit_bzero (text, len);
    g_free (text);
    return NULL;
  }
  keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, wipe_free);
  parse_ini (text, profile, config, keys, &found);
  explicit_bzero (text, len);
  g_free (text);
  if (!found) {
    g_string_append_printf (looked, " (no profile \"%s\")", profile);
    g_clear_pointer (&keys, g_hash_table_unref);
  }
  return keys;
}

/* Keys from @keys (a profile of the file at @path), or NULL with why in
 * @looked */
static GstBidiAwsCredentials *
creds_from_profile (GHashTable * keys, const gchar * path,
    const gchar * profile, GString * looked)
{
  const gchar *key, *secret;
  gchar *source;
  GstBidiAwsCredentials *c;

  if (!keys)
    return NULL;
  key = nonempty (g_hash_table_lookup (keys, "aws_access_key_id"));
  secret = nonempty (g_hash_table_lookup (keys, "aws_secret_access_key"));
  if (!key || !secret) {
    g_string_append (looked, " (the profile has no aws_access_key_id and "
        "aws_secret_access_key");
    if (g_hash_table_contains (keys, "role_arn") ||
        g_hash_table_contains (keys, "sso_session") ||
        g_hash_table_contains (keys, "sso_start_url") ||
        g_hash_table_contains (keys, "credential_process"))
      g_string_append (looked, "; roles, SSO and credential_process are "
          "not supported");
    g_string_append (looked, ")");
    return NULL;
  }
  source = g_strdup_printf ("profile \"%s\" of %s", profile, path);
  c = creds_new (key, secret, g_hash_table_lookup (keys,
          "aws_session_token"), source);
  g_free (source);
  return c;
}

/* From the shared files; the config file's region is kept in @region */
static GstBidiAwsCredentials *
creds_from_files (GString * looked, gchar ** region)
{
  const gchar *profile = nonempty (g_getenv ("AWS_PROFILE"));
  gchar *cred_path = file_path ("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  gchar *conf_path = file_path ("AWS_CONFIG_FILE", "config");
  GHashTable *cred_keys, *conf_keys;
  GstBidiAwsCredentials *c;

  if (!profile)
    profile = "default";
  cred_keys = read_profile (cred_path, profile, FALSE, looked);
  c = creds_from_profile (cred_keys, cred_path, profile, looked);
  conf_keys = read_profile (conf_path, profile, TRUE, looked);
  if (!c)
    c = creds_from_profile (conf_keys, conf_path, profile, looked);
  if (conf_keys)
    *region = g_strdup (nonempty (g_hash_table_lookup (conf_keys, "region")));
  if (cred_keys)
    g_hash_table_unref (cred_keys);
  if (conf_keys)
    g_hash_table_unref (conf_keys);
  g_free (cred_path);
  g_free (conf_path);
  return c;
}

/* --- the chain ---------------------------------------------------------- */

static GstBidiAwsCredentials *
creds_from_env (GString * looked)
{
  const gchar *key = nonempty (g_getenv ("AWS_ACCESS_KEY_ID"));
  const gchar *secret = nonempty (g_getenv ("AWS_SECRET_ACCESS_KEY"));

  if (key && secret)
    return creds_new (key, secret, g_getenv ("AWS_SESSION_TOKEN"),
        "environment");
  if (key || secret)
    g_string_append_printf (looked, "; %s is set without %s",
        key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
        key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
  else
    g_string_append (looked, "; AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (not set)");
  return NULL;
}

GstBidiAwsCredentials *
gst_bidi_aws_credentials_resolve (const gchar * access_key,
    const gchar * secret_key, const gchar * session_token,
    const gchar * region, GError ** error)
{
  GstBidiAwsCredentials *c = NULL;
  GString *looked;
  gchar *file_region = NULL;

  access_key = nonempty (access_key);
  secret_key = nonempty (secret_key);
  if (access_key && secret_key) {
    c = creds_new (access_key, secret_key, session_token, "properties");
  } else if (access_key || secret_key) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "%s is set without %s", access_key ? "access-key" :
        "secret-access-key", access_key ? "secret-access-key" : "access-key");
    return NULL;
  }
  looked = g_string_new ("the access-key and secret-access-key properties "
      "(not set)");
  if (!c)
    c = creds_from_env (looked);
  /* the files are read for the region even when the keys came first */
  if (!c)
    c = creds_from_files (looked, &file_region);
  else if (!nonempty (region) && !nonempty (g_getenv ("AWS_REGION")) &&
      !nonempty (g_getenv ("AWS_DEFAULT_REGION")))
    gst_bidi_aws_credentials_free (creds_from_files (looked, &file_region));
  if (!c) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
        "no AWS credentials found; looked in %s", looked->str);
  } else {
    region = nonempty (region);
    if (!region)
      region = nonempty (g_getenv ("AWS_REGION"));
    if (!region)
      region = nonempty (g_getenv ("AWS_DEFAULT_REGION"));
    c->region = g_strdup (region ? region : file_region);
  }
  g_free (file_region);
  g_string_free (looked, TRUE);
  return c;
}
