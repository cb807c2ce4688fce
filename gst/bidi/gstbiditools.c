/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gstbiditools
 * @title: Built-in tools
 *
 * The tools every provider can offer its model, run inside the element:
 * `current_time`, `calculator` and `stop_conversation`. Inputs and results
 * are JSON objects (see gstbiditools.h). They are quick and never block;
 * the calculator is a small parser, not an evaluator of arbitrary code.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "gstbiditools.h"
#include "gstbidijson.h"

/* Untrusted input: bounded */
#define MAX_EXPRESSION_LENGTH 256
#define MAX_EXPRESSION_DEPTH 32

typedef gboolean (*ToolFunc) (JsonObject * input, JsonBuilder * result,
    gchar ** error);

typedef struct
{
  const gchar *name;
  const gchar *description;
  const gchar *parameters;      /* JSON Schema */
  ToolFunc func;
} BuiltinTool;

/* ------------------------------------------------------------------------
 * current_time
 * ------------------------------------------------------------------------ */

static const gchar *const weekdays[] = { "Monday", "Tuesday", "Wednesday",
  "Thursday", "Friday", "Saturday", "Sunday"
};

static const gchar *const months[] = { "January", "February", "March",
  "April", "May", "June", "July", "August", "September", "October",
  "November", "December"
};

static gboolean
tool_current_time (JsonObject * input, JsonBuilder * b, gchar ** error)
{
  const gchar *tz_name = NULL;
  GTimeZone *tz;
  GDateTime *now;
  gchar *iso, *text;
  gint hour;

  if (json_object_has_member (input, "timezone")) {
    JsonNode *node = json_object_get_member (input, "timezone");

    if (!JSON_NODE_HOLDS_VALUE (node)
        || json_node_get_value_type (node) != G_TYPE_STRING) {
      *error = g_strdup ("timezone must be a string such as Europe/Paris");
      return FALSE;
    }
    tz_name = json_node_get_string (node);
  }

  if (tz_name && *tz_name) {
    tz = g_time_zone_new_identifier (tz_name);
    if (!tz) {
      *error = g_strdup_printf ("unknown timezone \"%.64s\"", tz_name);
      return FALSE;
    }
  } else {
    tz = g_time_zone_new_local ();
  }

  now = g_date_time_new_now (tz);
  iso = g_date_time_format_iso8601 (now);
  hour = g_date_time_get_hour (now);

  json_builder_set_member_name (b, "iso");
  json_builder_add_string_value (b, iso);

  text = g_strdup_printf ("%02d:%02d", hour, g_date_time_get_minute (now));
  json_builder_set_member_name (b, "time");
  json_builder_add_string_value (b, text);
  g_free (text);

  text = g_strdup_printf ("%d:%02d %s", hour % 12 == 0 ? 12 : hour % 12,
      g_date_time_get_minute (now), hour < 12 ? "AM" : "PM");
  json_builder_set_member_name (b, "time_12h");
  json_builder_add_string_value (b, text);
  g_free (text);

  /* English names whatever the locale: the model talks English */
  text = g_strdup_printf ("%s, %d %s %d",
      weekdays[g_date_time_get_day_of_week (now) - 1],
      g_date_time_get_day_of_month (now),
      months[g_date_time_get_month (now) - 1], g_date_time_get_year (now));
  json_builder_set_member_name (b, "date");
  json_builder_add_string_value (b, text);
  g_free (text);

  json_builder_set_member_name (b, "weekday");
  json_builder_add_string_value (b,
      weekdays[g_date_time_get_day_of_week (now) - 1]);
  json_builder_set_member_name (b, "timezone");
  json_builder_add_string_value (b, tz_name && *tz_name ? tz_name :
      g_time_zone_get_identifier (tz));

  g_free (iso);
  g_date_time_unref (now);
  g_time_zone_unref (tz);
  return TRUE;
}

/* ------------------------------------------------------------------------
 * calculator: a recursive-descent parser
 *
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/' | '%') unary)*
 *   unary   := ('-' | '+') unary | power
 *   power   := primary ('^' unary)?          right associative
 *   primary := number | constant | function '(' expr (',' expr)* ')'
 *            | '(' expr ')'
 *
 * Functions and constants come from a fixed table: names are looked up,
 * never executed or resolved any other way.
 * ------------------------------------------------------------------------ */

typedef struct
{
  const gchar *p;
  guint depth;
  gchar *error;
} Parser;

static gdouble parse_expr (Parser * ps);

static void
skip_space (Parser * ps)
{
  while (*ps->p == ' ' || *ps->p == '\t')
    ps->p++;
}

static gdouble
fail (Parser * ps, const gchar * what)
{
  if (!ps->error)
    ps->error = g_strdup (what);
  return NAN;
}

static gdouble
fn_round (gdouble x)
{
  return round (x);
}

static gdouble
fn_log2 (gdouble x)
{
  return log2 (x);
}

static gdouble
fn_deg2rad (gdouble x)
{
  return x * G_PI / 180.0;
}

static const struct
{
  const gchar *name;
  gdouble (*f1) (gdouble);
  gdouble (*f2) (gdouble, gdouble);
} functions[] = {
  {"sqrt", sqrt, NULL}, {"abs", fabs, NULL}, {"exp", exp, NULL},
  {"ln", log, NULL}, {"log", log10, NULL}, {"log10", log10, NULL},
  {"log2", fn_log2, NULL}, {"sin", sin, NULL}, {"cos", cos, NULL},
  {"tan", tan, NULL}, {"asin", asin, NULL}, {"acos", acos, NULL},
  {"atan", atan, NULL}, {"floor", floor, NULL}, {"ceil", ceil, NULL},
  {"round", fn_round, NULL}, {"radians", fn_deg2rad, NULL},
  {"min", NULL, fmin}, {"max", NULL, fmax}, {"pow", NULL, pow},
  {"hypot", NULL, hypot},
};

static const struct
{
  const gchar *name;
  gdouble value;
} constants[] = {
  {"pi", G_PI}, {"e", G_E},
};

/* A name at ps->p: a constant, or a function and its arguments */
static gdouble
parse_name (Parser * ps)
{
  const gchar *start = ps->p;
  gsize len;
  guint i;

  while (g_ascii_isalnum (*ps->p))
    ps->p++;
  len = ps->p - start;

  for (i = 0; i < G_N_ELEMENTS (constants); i++) {
    if (strlen (constants[i].name) == len &&
        g_ascii_strncasecmp (start, constants[i].name, len) == 0)
      return constants[i].value;
  }
  for (i = 0; i < G_N_ELEMENTS (functions); i++) {
    gdouble a, b = 0;

    if (strlen (functions[i].name) != len ||
        g_ascii_strncasecmp (start, functions[i].name, len) != 0)
      continue;
    skip_space (ps);
    if (*ps->p != '(')
      return fail (ps, "a function needs its arguments in parentheses");
    if (++ps->depth > MAX_EXPRESSION_DEPTH)
      return fail (ps, "expression nested too deeply");
    ps->p++;
    a = parse_expr (ps);
    skip_space (ps);
    if (functions[i].f2) {
      if (*ps->p != ',')
        return fail (ps, "this function takes two arguments");
      ps->p++;
      b = parse_expr (ps);
      skip_space (ps);
    }
    if (*ps->p != ')')
      return fail (ps, "missing closing parenthesis");
    ps->p++;
    ps->depth--;
    return functions[i].f2 ? functions[i].f2 (a, b) : functions[i].f1 (a);
  }
  return fail (ps, "unknown function or constant");
}

static gdouble
parse_primary (Parser * ps)
{
  gdouble v;
  gchar *end;

  skip_space (ps);
  if (g_ascii_isalpha (*ps->p))
    return parse_name (ps);
  if (*ps->p == '(') {
    if (++ps->depth > MAX_EXPRESSION_DEPTH)
      return fail (ps, "expression nested too deeply");
    ps->p++;
    v = parse_expr (ps);
    skip_space (ps);
    if (*ps->p != ')')
      return fail (ps, "missing closing parenthesis");
    ps->p++;
    ps->depth--;
    return v;
  }
  if (!g_ascii_isdigit (*ps->p) && *ps->p != '.')
    return fail (ps, "expected a number");
  v = g_ascii_strtod (ps->p, &end);
  if (end == ps->p)
    return fail (ps, "expected a number");
  /* decimal notation only: strtod would also take hex, inf and nan */
  for (; ps->p < end; ps->p++)
    if (!g_ascii_isdigit (*ps->p) && !strchr (".eE+-", *ps->p))
      return fail (ps, "expected a decimal number");
  return v;
}

static gdouble parse_unary (Parser * ps);

static gdouble
parse_power (Parser * ps)
{
  gdouble base = parse_primary (ps);

  skip_space (ps);
  if (*ps->p == '^') {
    gdouble exponent;

    ps->p++;
    if (++ps->depth > MAX_EXPRESSION_DEPTH)
      return fail (ps, "expression nested too deeply");
    exponent = parse_unary (ps);
    ps->depth--;
    return pow (base, exponent);
  }
  return base;
}

static gdouble
parse_unary (Parser * ps)
{
  skip_space (ps);
  if (*ps->p == '-' || *ps->p == '+') {
    gboolean neg = *ps->p == '-';
    gdouble v;

    ps->p++;
    if (++ps->depth > MAX_EXPRESSION_DEPTH)
      return fail (ps, "expression nested too deeply");
    v = parse_unary (ps);
    ps->depth--;
    return neg ? -v : v;
  }
  return parse_power (ps);
}

static gdouble
parse_term (Parser * ps)
{
  gdouble v = parse_unary (ps);

  for (;;) {
    gchar op;
    gdouble rhs;

    skip_space (ps);
    op = *ps->p;
    if (op != '*' && op != '/' && op != '%')
      return v;
    ps->p++;
    rhs = parse_unary (ps);
    if (op == '*')
      v *= rhs;
    else if (rhs == 0)
      return fail (ps, "division by zero");
    else if (op == '/')
      v /= rhs;
    else
      v = fmod (v, rhs);
  }
}

static gdouble
parse_expr (Parser * ps)
{
  gdouble v = parse_term (ps);

  for (;;) {
    gchar op;

    skip_space (ps);
    op = *ps->p;
    if (op != '+' && op != '-')
      return v;
    ps->p++;
    if (op == '+')
      v += parse_term (ps);
    else
      v -= parse_term (ps);
  }
}

static gboolean
tool_calculator (JsonObject * input, JsonBuilder * b, gchar ** error)
{
  JsonNode *node = json_object_get_member (input, "expression");
  const gchar *expression;
  Parser ps = { NULL, 0, NULL };
  gdouble v;

  if (!node || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING) {
    *error = g_strdup ("expression must be a string such as \"25 * 48\"");
    return FALSE;
  }
  expression = json_node_get_string (node);
  if (strlen (expression) > MAX_EXPRESSION_LENGTH) {
    *error = g_strdup_printf ("expression longer than %d characters",
        MAX_EXPRESSION_LENGTH);
    return FALSE;
  }

  ps.p = expression;
  v = parse_expr (&ps);
  skip_space (&ps);
  if (!ps.error && *ps.p != '\0')
    ps.error = g_strdup_printf ("unexpected \"%c\"", *ps.p);
  if (!ps.error && !isfinite (v))
    ps.error = g_strdup ("the result is not a finite number");
  if (ps.error) {
    *error = g_strdup_printf ("%s in \"%s\"", ps.error, expression);
    g_free (ps.error);
    return FALSE;
  }

  json_builder_set_member_name (b, "expression");
  json_builder_add_string_value (b, expression);
  json_builder_set_member_name (b, "result");
  if (v == floor (v) && fabs (v) < 1e15) {
    json_builder_add_int_value (b, (gint64) v);
  } else {
    /* 12 significant digits: 0.1 + 0.2 is 0.3 */
    gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd (buf, sizeof (buf), "%.12g", v);
    json_builder_add_double_value (b, g_ascii_strtod (buf, NULL));
  }
  return TRUE;
}

/* ------------------------------------------------------------------------
 * stop_conversation: the element does the work when it sees the result
 * ------------------------------------------------------------------------ */

static gboolean
tool_stop_conversation (G_GNUC_UNUSED JsonObject * input, JsonBuilder * b,
    G_GNUC_UNUSED gchar ** error)
{
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, "stopping");
  return TRUE;
}

static const BuiltinTool builtin_tools[] = {
  {GST_BIDI_TOOL_CURRENT_TIME,
        "Get the current date and time. Use it whenever the user asks what "
        "time or what day it is.",
        "{\"type\":\"object\",\"properties\":{\"timezone\":{\"type\":"
        "\"string\",\"description\":\"IANA time zone such as Europe/Paris; "
        "omit for the local time\"}}}",
      tool_current_time},
  {GST_BIDI_TOOL_CALCULATOR,
        "Evaluate an arithmetic expression with + - * / % ^, parentheses, "
        "the constants pi and e and the functions sqrt, abs, exp, ln, log "
        "(base 10), log2, sin, cos, tan, asin, acos, atan (radians), "
        "radians, floor, ceil, round, min, max, pow and hypot. Use it for "
        "any calculation.",
        "{\"type\":\"object\",\"properties\":{\"expression\":{\"type\":"
        "\"string\",\"description\":\"for example 25 * 48\"}},"
        "\"required\":[\"expression\"]}",
      tool_calculator},
  {GST_BIDI_TOOL_STOP_CONVERSATION,
        "End the conversation. Use it when the user says goodbye or asks to "
        "stop the conversation; say a short goodbye after calling it.",
        "{\"type\":\"object\",\"properties\":{}}",
      tool_stop_conversation},
};

static const BuiltinTool *
find_tool (const gchar * name)
{
  guint i;

  for (i = 0; name && i < G_N_ELEMENTS (builtin_tools); i++)
    if (strcmp (builtin_tools[i].name, name) == 0)
      return &builtin_tools[i];
  return NULL;
}

/**
 * gst_bidi_builtin_tool_exists:
 * @name: a tool name
 *
 * Returns: whether @name is a built-in tool.
 */
gboolean
gst_bidi_builtin_tool_exists (const gchar * name)
{
  return find_tool (name) != NULL;
}

/**
 * gst_bidi_builtin_tools_spec_json:
 * @names: (array zero-terminated=1): tool names
 *
 * Returns: (transfer full): a JSON array of tool specs ({name,
 * description, parameters}) for the built-in tools among @names.
 */
gchar *
gst_bidi_builtin_tools_spec_json (const gchar * const *names)
{
  gchar *json, **none;

  gst_bidi_tools_merge (names, NULL, &json, &none, NULL);
  g_strfreev (none);
  return json;
}

/**
 * gst_bidi_tool_error_json:
 * @message: what went wrong
 *
 * Returns: (transfer full): the result of a failed tool call,
 * {"error": @message}, as JSON text.
 */
gchar *
gst_bidi_tool_error_json (const gchar * message)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *root;
  gchar *json;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json = gst_bidi_json_to_string (root);
  json_node_unref (root);
  g_object_unref (b);
  return json;
}

/**
 * gst_bidi_tool_error_result:
 * @json: (nullable): what a failed tool gave, as JSON text
 *
 * Returns: (transfer full): @json when it is an object with an "error"
 * member already, else {"error": @json} (text that is not JSON as a
 * string, made valid UTF-8; nothing as "the tool failed").
 */
gchar *
gst_bidi_tool_error_result (const gchar * json)
{
  JsonNode *node = json ? gst_bidi_json_parse (json, NULL) : NULL;
  JsonObject *wrap;
  JsonNode *root;
  gchar *out;

  if (node && JSON_NODE_HOLDS_OBJECT (node) &&
      json_object_has_member (json_node_get_object (node), "error")) {
    json_node_unref (node);
    return g_strdup (json);
  }
  if (!node) {
    gchar *text = json && *json ? g_utf8_make_valid (json, -1) :
        g_strdup ("the tool failed");

    out = gst_bidi_tool_error_json (text);
    g_free (text);
    return out;
  }
  wrap = json_object_new ();
  json_object_set_member (wrap, "error", node);
  root = json_node_init_object (json_node_alloc (), wrap);
  out = gst_bidi_json_to_string (root);
  json_node_unref (root);
  json_object_unref (wrap);
  return out;
}

/**
 * gst_bidi_builtin_tool_run:
 * @name: a built-in tool
 * @input_json: (nullable): its input, a JSON object
 * @result_json: (out) (transfer full): the result, a JSON object
 *
 * Runs a built-in tool. On failure the result is {"error": "..."}.
 *
 * Returns: %TRUE for status "success", %FALSE for "error".
 */
gboolean
gst_bidi_builtin_tool_run (const gchar * name, const gchar * input_json,
    gchar ** result_json)
{
  const BuiltinTool *tool = find_tool (name);
  JsonBuilder *b = json_builder_new ();
  JsonNode *input = NULL, *root;
  gchar *error = NULL;
  gboolean ok = FALSE;

  json_builder_begin_object (b);
  if (!tool) {
    error = g_strdup_printf ("no built-in tool named \"%.64s\"",
        GST_STR_NULL (name));
    goto done;
  }

  input = gst_bidi_json_parse (input_json && *input_json ? input_json : "{}",
      NULL);
  if (!input || !JSON_NODE_HOLDS_OBJECT (input)) {
    error = g_strdup ("the input must be a JSON object");
    goto done;
  }
  ok = tool->func (json_node_get_object (input), b, &error);

done:
  if (ok) {
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    *result_json = gst_bidi_json_to_string (root);
    json_node_unref (root);
  } else {
    /* anything the tool added before failing is dropped */
    *result_json = gst_bidi_tool_error_json (error ? error : "failed");
  }
  if (input)
    json_node_unref (input);
  g_object_unref (b);
  g_free (error);
  return ok;
}

static gboolean
tool_name_valid (const gchar * name)
{
  gsize len = strlen (name), i;

  if (len == 0 || len > 64)
    return FALSE;
  for (i = 0; i < len; i++) {
    if (!g_ascii_isalnum (name[i]) && name[i] != '_' && name[i] != '-')
      return FALSE;
  }
  return TRUE;
}

/* The JSON Schema of a tool spec, NULL if it has a bad one */
static JsonNode *
tool_schema (JsonObject * spec, const gchar ** why)
{
  static const gchar *const names[] = { "parameters", "inputSchema",
    "input_schema", NULL
  };
  JsonNode *node = NULL;
  JsonObject *obj;
  guint i;

  for (i = 0; names[i] && !node; i++) {
    node = json_object_get_member (spec, names[i]);
    if (node && JSON_NODE_HOLDS_NULL (node))
      node = NULL;
  }
  if (!node) {
    /* a tool without arguments */
    return json_from_string ("{\"type\": \"object\", \"properties\": {}}",
        NULL);
  }
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    *why = "its input schema is not a JSON object";
    return NULL;
  }
  obj = json_node_get_object (node);
  /* Strands wraps the schema: {"json": {...}} */
  if (json_object_get_size (obj) == 1 && json_object_has_member (obj, "json")) {
    node = json_object_get_member (obj, "json");
    if (!JSON_NODE_HOLDS_OBJECT (node)) {
      *why = "its inputSchema.json is not a JSON object";
      return NULL;
    }
  }
  return json_node_copy (node);
}

void
gst_bidi_tool_spec_free (GstBidiToolSpec * spec)
{
  if (!spec)
    return;
  g_free (spec->name);
  g_free (spec->description);
  g_free (spec->parameters);
  g_free (spec);
}

static GstBidiToolSpec *
parse_spec (JsonNode * node, GPtrArray * specs, const gchar ** why)
{
  GstBidiToolSpec *spec;
  JsonObject *obj;
  JsonNode *member, *schema;
  const gchar *name, *desc = NULL;
  guint i;

  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    *why = "is not a JSON object";
    return NULL;
  }
  obj = json_node_get_object (node);
  member = json_object_get_member (obj, "name");
  if (!member || !JSON_NODE_HOLDS_VALUE (member) ||
      json_node_get_value_type (member) != G_TYPE_STRING) {
    *why = "has no \"name\" string";
    return NULL;
  }
  name = json_node_get_string (member);
  if (!tool_name_valid (name)) {
    *why = "has a name that is not 1-64 letters, digits, '_' or '-'";
    return NULL;
  }
  for (i = 0; i < specs->len; i++) {
    if (!strcmp (((GstBidiToolSpec *) g_ptr_array_index (specs, i))->name,
            name)) {
      *why = "has the name of another tool";
      return NULL;
    }
  }
  member = json_object_get_member (obj, "description");
  if (member && !JSON_NODE_HOLDS_NULL (member)) {
    if (!JSON_NODE_HOLDS_VALUE (member) ||
        json_node_get_value_type (member) != G_TYPE_STRING) {
      *why = "has a \"description\" that is not a string";
      return NULL;
    }
    desc = json_node_get_string (member);
  }
  if (!(schema = tool_schema (obj, why)))
    return NULL;

  spec = g_new0 (GstBidiToolSpec, 1);
  spec->name = g_strdup (name);
  spec->description = g_strdup (desc ? desc : "");
  spec->parameters = gst_bidi_json_to_string (schema);
  json_node_unref (schema);
  return spec;
}

/**
 * gst_bidi_tools_parse:
 * @json: (nullable): a JSON array of tool specs
 * @error: why it is refused
 *
 * Returns: (transfer full) (element-type GstBidiToolSpec): the tools, or
 * %NULL on error.
 */
GPtrArray *
gst_bidi_tools_parse (const gchar * json, GError ** error)
{
  GPtrArray *specs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_bidi_tool_spec_free);
  JsonNode *root;
  JsonArray *arr;
  GError *err = NULL;
  const gchar *why = NULL;
  guint i;

  if (!json || !*json)
    return specs;

  root = gst_bidi_json_parse (json, &err);
  if (!root)
    goto bad_json;
  if (!JSON_NODE_HOLDS_ARRAY (root))
    goto not_array;
  arr = json_node_get_array (root);
  for (i = 0; i < json_array_get_length (arr); i++) {
    GstBidiToolSpec *spec = parse_spec (json_array_get_element (arr, i),
        specs, &why);

    if (!spec)
      goto bad_tool;
    g_ptr_array_add (specs, spec);
  }
  json_node_unref (root);
  return specs;

  /* ERRORS */
bad_json:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid tools: not JSON (%s)", err->message);
    g_clear_error (&err);
    g_ptr_array_unref (specs);
    return NULL;
  }
not_array:
  {
    g_set_error_literal (error, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_SETTINGS, "Invalid tools: expected a JSON array "
        "of tool specs");
    goto fail;
  }
bad_tool:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid tools: tool %u %s", i, why);
    goto fail;
  }
fail:
  json_node_unref (root);
  g_ptr_array_unref (specs);
  return NULL;
}

static void
add_spec (JsonBuilder * b, const gchar * name, const gchar * description,
    const gchar * parameters)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, description);
  json_builder_set_member_name (b, "parameters");
  json_builder_add_value (b, json_from_string (parameters, NULL));
  json_builder_end_object (b);
}

/**
 * gst_bidi_tools_merge:
 * @builtins: (array zero-terminated=1) (nullable): built-in tools in use
 * @app_json: (nullable): the application's tools, a JSON array
 * @tools_json: (out) (transfer full): every tool, one JSON array
 * @app_names: (out) (transfer full) (array zero-terminated=1): the
 *   application's tool names
 * @error: the reason @app_json is refused
 *
 * Returns: %TRUE when @app_json is a valid list of tools.
 */
gboolean
gst_bidi_tools_merge (const gchar * const *builtins, const gchar * app_json,
    gchar ** tools_json, gchar *** app_names, GError ** error)
{
  GPtrArray *specs, *names;
  JsonBuilder *b;
  JsonNode *root;
  guint i;

  *tools_json = NULL;
  *app_names = NULL;

  if (!(specs = gst_bidi_tools_parse (app_json, error)))
    return FALSE;
  for (i = 0; i < specs->len; i++) {
    const gchar *name = ((GstBidiToolSpec *) g_ptr_array_index (specs,
            i))->name;

    if (builtins && g_strv_contains (builtins, name))
      goto builtin_clash;
  }

  b = json_builder_new ();
  json_builder_begin_array (b);
  for (i = 0; builtins && builtins[i]; i++) {
    const BuiltinTool *tool = find_tool (builtins[i]);

    if (tool)
      add_spec (b, tool->name, tool->description, tool->parameters);
  }
  names = g_ptr_array_new ();
  for (i = 0; i < specs->len; i++) {
    GstBidiToolSpec *spec = g_ptr_array_index (specs, i);

    add_spec (b, spec->name, spec->description, spec->parameters);
    g_ptr_array_add (names, g_strdup (spec->name));
  }
  json_builder_end_array (b);

  root = json_builder_get_root (b);
  *tools_json = gst_bidi_json_to_string (root);
  json_node_unref (root);
  g_object_unref (b);
  g_ptr_array_unref (specs);
  g_ptr_array_add (names, NULL);
  *app_names = (gchar **) g_ptr_array_free (names, FALSE);
  return TRUE;

  /* ERRORS */
builtin_clash:
  {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Invalid tools: \"%s\" is a built-in tool in use (remove it from "
        "builtin-tools to answer it yourself)",
        ((GstBidiToolSpec *) g_ptr_array_index (specs, i))->name);
    g_ptr_array_unref (specs);
    return FALSE;
  }
}
