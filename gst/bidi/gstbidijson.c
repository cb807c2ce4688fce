/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The one home of the strict parsers for untrusted text: JSON (events from
 * applications and WebSocket clients, the history and session files, every
 * server message of every provider) and base64 (audio and images). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>

#include "gstbidijson.h"
#include "gstbidiprivate.h"

/* what one document may be at most, whatever the caller allows */
#define MAX_JSON_LENGTH (16 * 1024 * 1024)

void
gst_bidi_set_decode_error (GError ** error, const gchar * format, ...)
{
  va_list args;

  if (!error)
    return;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (GST_STREAM_ERROR,
          GST_STREAM_ERROR_DECODE, format, args));
  va_end (args);
}

#define set_error gst_bidi_set_decode_error

/* Strict JSON lexing, done before json-glib sees untrusted text: json-glib
 * 1.6 accepts comments, single quotes and hex numbers, silently wraps
 * integers that overflow and recurses once per nesting level. Checking the
 * tokens here keeps its lexer in step with ours, so that the depth we count
 * is the depth it will recurse to. The grammar itself is left to json-glib.
 * Messages have no prefix: callers add one. */
static gboolean
check_json_number (const gchar ** pos, const gchar * start, const gchar * end,
    GError ** error)
{
  const gchar *token = *pos, *p = *pos, *q;
  gboolean is_integer = TRUE, in_range;
  gchar small[64], *copy;
  gsize len;

  while (p < end && (g_ascii_isdigit (*p) || *p == '-' || *p == '+'
          || *p == '.' || *p == 'e' || *p == 'E'))
    p++;

  /* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
  q = token;
  if (*q == '-')
    q++;
  if (q == p || !g_ascii_isdigit (*q))
    goto bad_number;
  if (*q == '0')
    q++;
  else
    while (q < p && g_ascii_isdigit (*q))
      q++;
  if (q < p && *q == '.') {
    is_integer = FALSE;
    q++;
    if (q == p || !g_ascii_isdigit (*q))
      goto bad_number;
    while (q < p && g_ascii_isdigit (*q))
      q++;
  }
  if (q < p && (*q == 'e' || *q == 'E')) {
    is_integer = FALSE;
    q++;
    if (q < p && (*q == '+' || *q == '-'))
      q++;
    if (q == p || !g_ascii_isdigit (*q))
      goto bad_number;
    while (q < p && g_ascii_isdigit (*q))
      q++;
  }
  if (q != p)
    goto bad_number;

  len = p - token;
  copy = len < sizeof (small) ? small : g_malloc (len + 1);
  memcpy (copy, token, len);
  copy[len] = '\0';
  if (is_integer) {
    errno = 0;
    g_ascii_strtoll (copy, NULL, 10);
    in_range = errno != ERANGE;
  } else {
    in_range = isfinite (g_ascii_strtod (copy, NULL));
  }
  if (copy != small)
    g_free (copy);
  if (!in_range)
    goto out_of_range;

  *pos = p;
  return TRUE;

  /* ERRORS */
bad_number:
  {
    set_error (error, "bad number at offset %" G_GSIZE_FORMAT,
        (gsize) (token - start));
    return FALSE;
  }
out_of_range:
  {
    set_error (error, "number out of range at offset %" G_GSIZE_FORMAT,
        (gsize) (token - start));
    return FALSE;
  }
}

static gboolean
check_json_literal (const gchar ** pos, const gchar * start, const gchar * end,
    GError ** error)
{
  const gchar *token = *pos, *p = *pos;
  gsize len;

  while (p < end && (g_ascii_isalnum (*p) || *p == '_'))
    p++;
  len = p - token;

  if ((len == 4 && memcmp (token, "true", 4) == 0)
      || (len == 5 && memcmp (token, "false", 5) == 0)
      || (len == 4 && memcmp (token, "null", 4) == 0)) {
    *pos = p;
    return TRUE;
  }

  set_error (error, "unexpected '%.*s' at offset %" G_GSIZE_FORMAT,
      (gint) MIN (len, 16), token, (gsize) (token - start));
  return FALSE;
}

static gboolean
read_hex4 (const gchar * p, const gchar * end, guint * value)
{
  guint i;

  if (end - p < 4)
    return FALSE;

  *value = 0;
  for (i = 0; i < 4; i++) {
    if (!g_ascii_isxdigit (p[i]))
      return FALSE;
    *value = (*value << 4) | g_ascii_xdigit_value (p[i]);
  }
  return TRUE;
}

/* *pos is on the character after a backslash; leaves it on the last
 * character of the escape. json-glib also takes octal escapes, which can
 * make invalid UTF-8, and silently cuts strings at \u0000. */
static gboolean
check_json_escape (const gchar ** pos, const gchar * start, const gchar * end,
    GError ** error)
{
  const gchar *p = *pos;
  guint c, low;

  switch (*p) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
      return TRUE;
    case 'u':
      if (!read_hex4 (p + 1, end, &c) || c == 0)
        goto bad_escape;
      p += 4;
      if (c >= 0xdc00 && c <= 0xdfff)
        goto bad_escape;
      if (c >= 0xd800 && c <= 0xdbff) {
        /* a surrogate pair */
        if (end - p < 3 || p[1] != '\\' || p[2] != 'u'
            || !read_hex4 (p + 3, end, &low) || low < 0xdc00 || low > 0xdfff)
          goto bad_escape;
        p += 6;
      }
      *pos = p;
      return TRUE;
    default:
      goto bad_escape;
  }

  /* ERRORS */
bad_escape:
  {
    set_error (error, "unsupported escape in a string at offset %"
        G_GSIZE_FORMAT, (gsize) (*pos - 1 - start));
    return FALSE;
  }
}

static gboolean
check_json_text (const gchar * text, gsize len, guint max_depth,
    GError ** error)
{
  const gchar *p = text, *end = text + len;
  guint depth = 0;
  gboolean has_token = FALSE, done = FALSE;

  if (!g_utf8_validate_len (text, len, NULL))
    goto not_utf8;

  while (p < end) {
    if (g_ascii_isspace (*p) && *p != '\f' && *p != '\v') {
      p++;
      continue;
    }
    /* one value only: json-glib would take "{} {}" */
    if (done)
      goto trailing;

    switch (*p) {
      case ',':
      case ':':
        p++;
        break;
      case '{':
      case '[':
        if (++depth > max_depth)
          goto too_deep;
        p++;
        break;
      case '}':
      case ']':
        if (depth > 0)
          depth--;
        p++;
        break;
      case '"':
        for (p++; p < end && *p != '"'; p++) {
          if (*p == '\\') {
            if (++p == end)
              break;
            if (!check_json_escape (&p, text, end, error))
              return FALSE;
          } else if ((guchar) * p < 0x20) {
            goto control_char;
          }
        }
        if (p == end)
          goto unterminated;
        p++;
        break;
      default:
        if (*p == '-' || g_ascii_isdigit (*p)) {
          if (!check_json_number (&p, text, end, error))
            return FALSE;
        } else if (g_ascii_isalpha (*p)) {
          if (!check_json_literal (&p, text, end, error))
            return FALSE;
        } else {
          goto bad_char;
        }
        break;
    }
    has_token = TRUE;
    done = depth == 0;
  }

  if (!has_token)
    goto empty;
  return TRUE;

  /* ERRORS */
not_utf8:
  {
    set_error (error, "not valid UTF-8 or contains NUL bytes");
    return FALSE;
  }
too_deep:
  {
    set_error (error, "nesting deeper than %u levels, nested too deeply to "
        "parse safely", max_depth);
    return FALSE;
  }
control_char:
  {
    set_error (error, "control character in a string at offset %"
        G_GSIZE_FORMAT, (gsize) (p - text));
    return FALSE;
  }
unterminated:
  {
    set_error (error, "unterminated string");
    return FALSE;
  }
trailing:
  {
    set_error (error, "trailing data at offset %" G_GSIZE_FORMAT,
        (gsize) (p - text));
    return FALSE;
  }
bad_char:
  {
    if (g_ascii_isprint (*p))
      set_error (error, "unexpected character '%c' at offset %"
          G_GSIZE_FORMAT, *p, (gsize) (p - text));
    else
      set_error (error, "unexpected byte 0x%02x at offset %" G_GSIZE_FORMAT,
          (guchar) * p, (gsize) (p - text));
    return FALSE;
  }
empty:
  {
    set_error (error, "empty document");
    return FALSE;
  }
}

JsonNode *
gst_bidi_json_parse_strict (const gchar * text, gsize len, guint max_depth,
    GError ** error)
{
  JsonParser *parser;
  JsonNode *root;
  GError *err = NULL;

  if (len > MAX_JSON_LENGTH)
    goto too_long;
  if (!check_json_text (text, len, max_depth, error))
    return NULL;

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, len, &err))
    goto parse_failed;
  root = json_parser_steal_root (parser);
  g_object_unref (parser);
  if (!root)
    goto empty;

  return root;

  /* ERRORS */
too_long:
  {
    set_error (error, "%" G_GSIZE_FORMAT " bytes is more than the limit of "
        "%u bytes", len, (guint) MAX_JSON_LENGTH);
    return NULL;
  }
parse_failed:
  {
    set_error (error, "%s", err->message);
    g_error_free (err);
    g_object_unref (parser);
    return NULL;
  }
empty:
  {
    set_error (error, "empty document");
    return NULL;
  }
}

JsonNode *
gst_bidi_json_parse (const gchar * text, GError ** error)
{
  if (!text || !*text) {
    set_error (error, "empty document");
    return NULL;
  }
  return gst_bidi_json_parse_strict (text, strlen (text),
      GST_BIDI_JSON_MAX_DEPTH, error);
}

JsonObject *
gst_bidi_json_parse_object (const gchar * data, gsize len, gsize max_size,
    guint max_depth, GError ** error)
{
  JsonNode *root;
  JsonObject *obj;
  GError *err = NULL;

  if (len > max_size)
    goto too_large;
  root = gst_bidi_json_parse_strict (data, len, max_depth, &err);
  if (!root)
    goto malformed;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    goto not_object;
  obj = json_object_ref (json_node_get_object (root));
  json_node_unref (root);
  return obj;

  /* ERRORS */
too_large:
  {
    set_error (error, "a message of %" G_GSIZE_FORMAT " bytes is larger than "
        "the limit of %" G_GSIZE_FORMAT, len, max_size);
    return NULL;
  }
malformed:
  {
    set_error (error, "malformed JSON: %s", err->message);
    g_error_free (err);
    return NULL;
  }
not_object:
  {
    json_node_unref (root);
    set_error (error, "malformed message: a JSON object was expected");
    return NULL;
  }
}

const gchar *
gst_bidi_json_get_string (JsonObject * obj, const gchar * name)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  if (!node || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

JsonObject *
gst_bidi_json_get_object (JsonObject * obj, const gchar * name)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  if (!node || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_node_get_object (node);
}

gint64
gst_bidi_json_get_int (JsonObject * obj, const gchar * name, gint64 def)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  if (!node || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return def;
  return json_node_get_int (node);
}

gboolean
gst_bidi_json_get_boolean (JsonObject * obj, const gchar * name,
    gboolean def)
{
  JsonNode *node = obj ? json_object_get_member (obj, name) : NULL;

  if (!node || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return def;
  return json_node_get_boolean (node);
}

const gchar *
gst_bidi_json_error_message (JsonObject * root)
{
  JsonObject *err = gst_bidi_json_get_object (root, "error");
  const gchar *s = NULL;

  if (err)
    s = gst_bidi_json_get_string (err, "message");
  if (!s)
    s = gst_bidi_json_get_string (root, "error");
  if (!s)
    s = gst_bidi_json_get_string (root, "message");
  if (!s)
    s = gst_bidi_json_get_string (root, "detail");
  return s;
}

static inline gboolean
is_base64_char (gchar c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

/* Copies a number's exponent at @r ("e+51") to @out, without the ".0"
 * json-glib put after it; returns what follows */
static const gchar *
copy_exponent (const gchar * r, GString * out)
{
  g_string_append_c (out, *r++);
  if (*r == '+' || *r == '-')
    g_string_append_c (out, *r++);
  while (g_ascii_isdigit (*r))
    g_string_append_c (out, *r++);
  if (r[0] == '.' && r[1] == '0' && !g_ascii_isdigit (r[2]))
    r += 2;
  return r;
}

/* Outside strings, an 'e' followed by digits is a number's exponent (the
 * only other 'e's, of true and false, are followed by neither). Inside,
 * any control character left is escaped. */
gchar *
gst_bidi_json_fix_generated (gchar * json)
{
  GString *out;
  const gchar *r;
  gboolean in_string = FALSE;

  g_return_val_if_fail (json != NULL, NULL);

  out = g_string_sized_new (strlen (json) + 8);
  for (r = json; *r;) {
    if (in_string && (guchar) * r < 0x20) {
      g_string_append_printf (out, "\\u%04x", (guint) (guchar) * r++);
    } else if (in_string) {
      if (*r == '\\' && r[1])
        g_string_append_c (out, *r++);
      else if (*r == '"')
        in_string = FALSE;
      g_string_append_c (out, *r++);
    } else if (*r == '"') {
      in_string = TRUE;
      g_string_append_c (out, *r++);
    } else if ((*r == 'e' || *r == 'E') && (g_ascii_isdigit (r[1]) ||
            ((r[1] == '+' || r[1] == '-') && g_ascii_isdigit (r[2])))) {
      r = copy_exponent (r, out);
    } else {
      g_string_append_c (out, *r++);
    }
  }
  g_free (json);
  return g_string_free (out, FALSE);
}

gchar *
gst_bidi_json_to_string (JsonNode * node)
{
  g_return_val_if_fail (node != NULL, NULL);

  return gst_bidi_json_fix_generated (json_to_string (node, FALSE));
}

GBytes *
gst_bidi_base64_decode (const gchar * text, gssize len,
    gsize frame_size, gsize max_size, GError ** error)
{
  gsize n, pad = 0, out_len, i, written;
  gint state = 0;
  guint save = 0;
  guchar *out;

  g_return_val_if_fail (text != NULL, NULL);

  n = len < 0 ? strlen (text) : (gsize) len;
  if (n % 4 != 0)
    goto bad_length;
  if (n > 0 && text[n - 1] == '=')
    pad++;
  if (n > 1 && text[n - 2] == '=')
    pad++;
  for (i = 0; i < n - pad; i++) {
    if (!is_base64_char (text[i]))
      goto bad_char;
  }

  out_len = n / 4 * 3 - pad;
  if (out_len > max_size)
    goto too_large;
  if (frame_size > 1 && out_len % frame_size != 0)
    goto partial_frame;

  out = g_malloc (out_len + 3);
  written = g_base64_decode_step (text, n, out, &state, &save);
  if (written != out_len) {
    g_free (out);
    goto bad_char;
  }
  return g_bytes_new_take (out, out_len);

  /* ERRORS */
bad_length:
  {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "invalid base64: %" G_GSIZE_FORMAT " characters is not a multiple "
        "of 4", n);
    return NULL;
  }
bad_char:
  {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "invalid base64: unexpected character at offset %" G_GSIZE_FORMAT, i);
    return NULL;
  }
too_large:
  {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "base64 data of %" G_GSIZE_FORMAT " bytes is larger than the limit "
        "of %" G_GSIZE_FORMAT, out_len, max_size);
    return NULL;
  }
partial_frame:
  {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "partial audio frame: %" G_GSIZE_FORMAT " bytes is not a whole "
        "number of %" G_GSIZE_FORMAT "-byte frames", out_len, frame_size);
    return NULL;
  }
}
