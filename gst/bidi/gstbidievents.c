/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/**
 * SECTION:gstbidievents
 * @title: Unified events
 * @short_description: the seed event schema as GstStructure and JSON
 *
 * Every event of a realtime voice agent (transcripts, interruptions, tool
 * calls, usage, connection changes, and the inputs an application sends) is
 * one #GstStructure whose name is the event type and whose fields follow the
 * seed event schema. The same structure is posted on the bus, sent as a JSON
 * object on a WebSocket (`"type"` = structure name) and kept in the history.
 *
 * The mapping between the two faces:
 *
 * * strings, booleans and integers map to JSON strings, booleans and
 *   numbers; `running_time` is an integer in nanoseconds, or `null` for
 *   %GST_CLOCK_TIME_NONE
 * * #GBytes (`audio`, `image`) become base64 text
 * * the transcript `delta` is a plain string in the structure and
 *   `{"text": delta}` in JSON
 * * tool `input` and result `content` hold JSON text in the structure and
 *   are the JSON value itself on the JSON face
 * * `modality_details` is a #GstValueArray of #GstStructure, an array of
 *   objects in JSON
 * * unknown extra fields are kept both ways: nested objects become
 *   #GstStructure values named after their field, arrays become
 *   #GstValueArray, integers become #gint (or #gint64 when they do not fit),
 *   `null` becomes a %NULL string. A #GstValueArray holds items of one type:
 *   the numbers of an array are made alike (all #gint64, or all #gdouble),
 *   and an array mixing other types (e.g. `["a", 1]`) is kept as a string
 *   holding its JSON text.
 *
 * gst_bidi_event_from_json() takes untrusted text: it bounds the length
 * (16 MiB) and the nesting (32 levels), accepts strict JSON only, checks
 * base64 strictly and validates the result against the schema.
 * A known optional field given as JSON `null` is left out.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "gstbidievents.h"
#include "gstbidijson.h"
#include "gstbidiprivate.h"

#include <gst/audio/audio.h>

GST_DEBUG_CATEGORY_STATIC (bidi_events_debug);
#define GST_CAT_DEFAULT bidi_events_debug

/* Limits for untrusted JSON */
#define MAX_JSON_LENGTH (16 * 1024 * 1024)
#define MAX_JSON_DEPTH 32

/* How a known field is stored in the structure and shown in JSON */
typedef enum
{
  FIELD_STRING,                 /* G_TYPE_STRING, optionally from a list */
  FIELD_BOOLEAN,                /* G_TYPE_BOOLEAN */
  FIELD_INT,                    /* G_TYPE_INT in [min, max] */
  FIELD_UINT64,                 /* G_TYPE_UINT64 */
  FIELD_CLOCK_TIME,             /* G_TYPE_UINT64, JSON null = NONE */
  FIELD_BYTES,                  /* G_TYPE_BYTES, JSON base64 */
  FIELD_DELTA,                  /* G_TYPE_STRING, JSON {"text": ...} */
  FIELD_JSON,                   /* G_TYPE_STRING holding JSON text */
  FIELD_AUDIO_FORMAT,           /* G_TYPE_STRING, a GstAudioFormat name;
                                 * JSON "pcm" = S16LE as in the seeds */
  FIELD_STRUCT_ARRAY            /* GST_TYPE_ARRAY of GstStructure */
} FieldKind;

typedef struct
{
  const gchar *name;
  FieldKind kind;
  gboolean required;
  const gchar *const *choices;  /* allowed strings, or NULL for any */
  gint min, max;                /* FIELD_INT only */
  GQuark quark;                 /* set once by ensure_init () */
} FieldSpec;

#define MAX_FIELDS 10

typedef struct
{
  const gchar *name;
  FieldSpec fields[MAX_FIELDS]; /* ends at the first entry without name */
  GQuark quark;                 /* set once by ensure_init () */
} EventSchema;

static const gchar *const transcript_roles[] = { "user", "assistant", NULL };
static const gchar *const transcript_phases[] =
    { "commentary", "final_answer", NULL };
static const gchar *const input_roles[] =
    { "user", "assistant", "system", NULL };
static const gchar *const interruption_reasons[] =
    { "user_speech", "error", NULL };
static const gchar *const stop_reasons[] =
    { "complete", "error", "interrupted", "tool_use", NULL };
static const gchar *const close_reasons[] = { "client_disconnect", "timeout",
  "error", "complete", "user_request", NULL
};
static const gchar *const tool_statuses[] = { "success", "error", NULL };
static const gchar *const user_states[] = { "speaking", "listening", NULL };
static const gchar *const agent_states[] =
    { "listening", "thinking", "speaking", NULL };

#define FIELD(n, k, r) { .name = n, .kind = k, .required = r }
#define STRING_FIELD(n, r) FIELD (n, FIELD_STRING, r)
#define CHOICE_FIELD(n, r, c) \
    { .name = n, .kind = FIELD_STRING, .required = r, .choices = c }
#define INT_FIELD(n, r, lo, hi) \
    { .name = n, .kind = FIELD_INT, .required = r, .min = lo, .max = hi }
#define COUNT_FIELD(n, r) INT_FIELD (n, r, 0, G_MAXINT)
#define MS_FIELD(n) INT_FIELD (n, FALSE, G_MININT, G_MAXINT)
#define R TRUE
#define O FALSE

/* Only written once, by ensure_init (); read-only afterwards. */
/* *INDENT-OFF* */
static EventSchema schemas[] = {
  {.name = GST_BIDI_EVENT_CONNECTION_START, .fields = {
      STRING_FIELD ("connection_id", R),
      STRING_FIELD ("model", O)}},
  {.name = GST_BIDI_EVENT_CONNECTION_RESTART, .fields = {
      STRING_FIELD ("reason", R),
      STRING_FIELD ("connection_id", O)}},
  {.name = GST_BIDI_EVENT_RESPONSE_START, .fields = {
      STRING_FIELD ("response_id", O)}},
  {.name = GST_BIDI_EVENT_AUDIO_STREAM, .fields = {
      FIELD ("audio", FIELD_BYTES, R),
      FIELD ("format", FIELD_AUDIO_FORMAT, R),
      INT_FIELD ("sample_rate", R, 1, G_MAXINT),
      INT_FIELD ("channels", R, 1, 8),
      STRING_FIELD ("response_id", O)}},
  {.name = GST_BIDI_EVENT_TRANSCRIPT_STREAM, .fields = {
      FIELD ("delta", FIELD_DELTA, O),
      STRING_FIELD ("text", R),
      CHOICE_FIELD ("role", R, transcript_roles),
      FIELD ("is_final", FIELD_BOOLEAN, R),
      STRING_FIELD ("current_transcript", O),
      CHOICE_FIELD ("phase", O, transcript_phases)}},
  {.name = GST_BIDI_EVENT_INTERRUPTION, .fields = {
      CHOICE_FIELD ("reason", R, interruption_reasons),
      STRING_FIELD ("response_id", O),
      FIELD ("played_ms", FIELD_UINT64, O)}},
  {.name = GST_BIDI_EVENT_RESPONSE_COMPLETE, .fields = {
      STRING_FIELD ("response_id", O),
      CHOICE_FIELD ("stop_reason", R, stop_reasons)}},
  {.name = GST_BIDI_EVENT_USAGE, .fields = {
      COUNT_FIELD ("inputTokens", R),
      COUNT_FIELD ("outputTokens", R),
      COUNT_FIELD ("totalTokens", R),
      FIELD ("modality_details", FIELD_STRUCT_ARRAY, O),
      COUNT_FIELD ("cacheReadInputTokens", O),
      COUNT_FIELD ("cacheWriteInputTokens", O),
      COUNT_FIELD ("reasoningTokens", O)}},
  {.name = GST_BIDI_EVENT_CONNECTION_CLOSE, .fields = {
      STRING_FIELD ("connection_id", O),
      CHOICE_FIELD ("reason", R, close_reasons)}},
  {.name = GST_BIDI_EVENT_ERROR, .fields = {
      STRING_FIELD ("message", R),
      STRING_FIELD ("code", O),
      STRING_FIELD ("details", O)}},
  {.name = GST_BIDI_EVENT_TOOL_USE_STREAM, .fields = {
      STRING_FIELD ("toolUseId", R),
      STRING_FIELD ("name", R),
      FIELD ("input", FIELD_JSON, R)}},
  {.name = GST_BIDI_EVENT_TOOL_RESULT, .fields = {
      STRING_FIELD ("toolUseId", R),
      CHOICE_FIELD ("status", R, tool_statuses),
      FIELD ("content", FIELD_JSON, R)}},
  {.name = GST_BIDI_EVENT_TOOL_CANCEL, .fields = {
      STRING_FIELD ("toolUseId", R)}},
  {.name = GST_BIDI_EVENT_USER_STATE, .fields = {
      CHOICE_FIELD ("state", R, user_states),
      FIELD ("ago_ms", FIELD_UINT64, O)}},
  {.name = GST_BIDI_EVENT_AGENT_STATE, .fields = {
      CHOICE_FIELD ("state", R, agent_states),
      FIELD ("ago_ms", FIELD_UINT64, O)}},
  {.name = GST_BIDI_EVENT_TURN_LATENCY, .fields = {
      STRING_FIELD ("response_id", O),
      FIELD ("speech_end", FIELD_CLOCK_TIME, O),
      FIELD ("turn_end", FIELD_CLOCK_TIME, O),
      FIELD ("first_audio", FIELD_CLOCK_TIME, O),
      FIELD ("first_push", FIELD_CLOCK_TIME, O),
      MS_FIELD ("speech_end_to_turn_end_ms"),
      MS_FIELD ("turn_end_to_first_audio_ms"),
      MS_FIELD ("first_audio_to_first_push_ms"),
      MS_FIELD ("speech_end_to_first_push_ms")}},
  /* inputs */
  {.name = GST_BIDI_EVENT_TEXT_INPUT, .fields = {
      STRING_FIELD ("text", R),
      CHOICE_FIELD ("role", O, input_roles)}},
  {.name = GST_BIDI_EVENT_AUDIO_INPUT, .fields = {
      FIELD ("audio", FIELD_BYTES, R),
      FIELD ("format", FIELD_AUDIO_FORMAT, R),
      INT_FIELD ("sample_rate", R, 1, G_MAXINT),
      INT_FIELD ("channels", R, 1, 8)}},
  {.name = GST_BIDI_EVENT_IMAGE_INPUT, .fields = {
      FIELD ("image", FIELD_BYTES, R),
      STRING_FIELD ("mime_type", R)}},
};
/* *INDENT-ON* */

/* Every event may carry it */
static FieldSpec running_time_spec = FIELD ("running_time", FIELD_CLOCK_TIME,
    O);

#undef R
#undef O

static GQuark type_quark;

/* What a field must hold, for error messages: structure face and JSON face,
 * indexed by FieldKind */
static const gchar *const kind_gtype_desc[] = {
  "a string (gchararray)",
  "a boolean (gboolean)",
  "an integer (gint)",
  "an unsigned integer (guint64)",
  "a clock time (guint64)",
  "bytes (GBytes)",
  "a string (gchararray)",
  "a string of JSON text (gchararray)",
  "an audio format name such as S16LE (gchararray)",
  "an array of structures (GstValueArray)",
};

static const gchar *const kind_json_desc[] = {
  "a string",
  "a boolean",
  "an integer",
  "a non-negative integer",
  "a non-negative integer or null",
  "a base64 string",
  "an object with a string \"text\"",
  "a JSON value",
  "\"pcm\" or an audio format name such as F32LE",
  "an array of objects",
};

G_STATIC_ASSERT (G_N_ELEMENTS (kind_gtype_desc) == FIELD_STRUCT_ARRAY + 1);
G_STATIC_ASSERT (G_N_ELEMENTS (kind_json_desc) == FIELD_STRUCT_ARRAY + 1);

static void
ensure_init (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized)) {
    guint i, j;

    GST_DEBUG_CATEGORY_INIT (bidi_events_debug, "bidievents", 0,
        "bidiagent unified events");

    for (i = 0; i < G_N_ELEMENTS (schemas); i++) {
      schemas[i].quark = g_quark_from_static_string (schemas[i].name);
      for (j = 0; j < MAX_FIELDS && schemas[i].fields[j].name; j++)
        schemas[i].fields[j].quark =
            g_quark_from_static_string (schemas[i].fields[j].name);
    }
    running_time_spec.quark =
        g_quark_from_static_string (running_time_spec.name);
    type_quark = g_quark_from_static_string ("type");

    g_once_init_leave (&initialized, 1);
  }
}

static const EventSchema *
lookup_schema (const gchar * name)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (schemas); i++) {
    if (strcmp (schemas[i].name, name) == 0)
      return &schemas[i];
  }
  return NULL;
}

static const EventSchema *
lookup_schema_by_quark (GQuark name)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (schemas); i++) {
    if (schemas[i].quark == name)
      return &schemas[i];
  }
  return NULL;
}

/* The spec of a known field (running_time included), or NULL */
static const FieldSpec *
lookup_field (const EventSchema * schema, const gchar * name)
{
  guint i;

  if (strcmp (name, running_time_spec.name) == 0)
    return &running_time_spec;
  if (!schema)
    return NULL;
  for (i = 0; i < MAX_FIELDS && schema->fields[i].name; i++) {
    if (strcmp (schema->fields[i].name, name) == 0)
      return &schema->fields[i];
  }
  return NULL;
}

static const FieldSpec *
lookup_field_by_quark (const EventSchema * schema, GQuark name)
{
  guint i;

  if (name == running_time_spec.quark)
    return &running_time_spec;
  if (!schema)
    return NULL;
  for (i = 0; i < MAX_FIELDS && schema->fields[i].name; i++) {
    if (schema->fields[i].quark == name)
      return &schema->fields[i];
  }
  return NULL;
}

#define set_error gst_bidi_set_decode_error

/* "a, b or c" */
static gchar *
describe_choices (const gchar * const *choices)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; choices[i]; i++) {
    if (i > 0)
      g_string_append (s, choices[i + 1] ? ", " : " or ");
    g_string_append (s, choices[i]);
  }
  return g_string_free (s, FALSE);
}

static gboolean
check_choice (const EventSchema * schema, const FieldSpec * spec,
    const gchar * value, GError ** error)
{
  gchar *allowed;
  guint i;

  if (!spec->choices)
    return TRUE;
  for (i = 0; spec->choices[i]; i++) {
    if (strcmp (spec->choices[i], value) == 0)
      return TRUE;
  }

  if (error) {
    allowed = describe_choices (spec->choices);
    set_error (error, "%s: field \"%s\" must be %s", schema->name, spec->name,
        allowed);
    g_free (allowed);
  }
  return FALSE;
}

static gboolean
check_int_range (const EventSchema * schema, const FieldSpec * spec,
    gint64 value, GError ** error)
{
  if (value >= spec->min && value <= spec->max)
    return TRUE;

  if (spec->max != G_MAXINT)
    set_error (error, "%s: field \"%s\" must be between %d and %d",
        schema->name, spec->name, spec->min, spec->max);
  else if (spec->min == 0)
    set_error (error, "%s: field \"%s\" must not be negative", schema->name,
        spec->name);
  else if (spec->min == 1)
    set_error (error, "%s: field \"%s\" must be positive", schema->name,
        spec->name);
  else
    set_error (error, "%s: field \"%s\" must be at least %d", schema->name,
        spec->name, spec->min);
  return FALSE;
}


static gboolean
is_valid_structure_name (const gchar * name)
{
  const gchar *p;

  if (!g_ascii_isalpha (*name))
    return FALSE;
  for (p = name + 1; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("/-_.:+", *p))
      return FALSE;
  }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Validation */

static gboolean
check_json_field (const EventSchema * schema, const FieldSpec * spec,
    const gchar * text, GError ** error)
{
  GError *err = NULL;
  JsonNode *node;

  /* one level less than the limit, so that the event's JSON face, which
   * nests it in an object, stays within the limit */
  node = gst_bidi_json_parse_strict (text, strlen (text), MAX_JSON_DEPTH - 1, &err);
  if (!node)
    goto invalid;
  json_node_unref (node);
  return TRUE;

  /* ERRORS */
invalid:
  {
    set_error (error, "%s: field \"%s\" is not valid JSON: %s", schema->name,
        spec->name, err->message);
    g_error_free (err);
    return FALSE;
  }
}

static gboolean
check_field (const EventSchema * schema, const FieldSpec * spec,
    const GValue * value, gboolean check_json, GError ** error)
{
  const gchar *s;

  switch (spec->kind) {
    case FIELD_STRING:
    case FIELD_DELTA:
    case FIELD_JSON:
      if (!G_VALUE_HOLDS_STRING (value))
        goto wrong_type;
      s = g_value_get_string (value);
      if (!s) {
        /* a NULL string is the same as no field */
        if (spec->required)
          goto missing;
        return TRUE;
      }
      if (spec->choices && !check_choice (schema, spec, s, error))
        return FALSE;
      if (spec->kind == FIELD_JSON && check_json
          && !check_json_field (schema, spec, s, error))
        return FALSE;
      break;
    case FIELD_AUDIO_FORMAT:
      if (!G_VALUE_HOLDS_STRING (value) || !g_value_get_string (value))
        goto wrong_type;
      if (gst_audio_format_from_string (g_value_get_string (value)) ==
          GST_AUDIO_FORMAT_UNKNOWN)
        goto wrong_type;
      break;
    case FIELD_BOOLEAN:
      if (!G_VALUE_HOLDS_BOOLEAN (value))
        goto wrong_type;
      break;
    case FIELD_INT:
      if (!G_VALUE_HOLDS_INT (value))
        goto wrong_type;
      if (!check_int_range (schema, spec, g_value_get_int (value), error))
        return FALSE;
      break;
    case FIELD_UINT64:
    case FIELD_CLOCK_TIME:
      if (!G_VALUE_HOLDS_UINT64 (value))
        goto wrong_type;
      break;
    case FIELD_BYTES:
      if (!G_VALUE_HOLDS (value, G_TYPE_BYTES))
        goto wrong_type;
      if (!g_value_get_boxed (value))
        goto missing;
      break;
    case FIELD_STRUCT_ARRAY:{
      guint i, n;

      if (!GST_VALUE_HOLDS_ARRAY (value))
        goto wrong_type;
      n = gst_value_array_get_size (value);
      for (i = 0; i < n; i++) {
        const GValue *item = gst_value_array_get_value (value, i);

        if (!GST_VALUE_HOLDS_STRUCTURE (item)
            || !gst_value_get_structure (item))
          goto not_structures;
      }
      break;
    }
  }
  return TRUE;

  /* ERRORS */
wrong_type:
  {
    set_error (error, "%s: field \"%s\" must be %s, not %s", schema->name,
        spec->name, kind_gtype_desc[spec->kind], G_VALUE_TYPE_NAME (value));
    return FALSE;
  }
missing:
  {
    set_error (error, "%s: missing required field \"%s\"", schema->name,
        spec->name);
    return FALSE;
  }
not_structures:
  {
    set_error (error, "%s: field \"%s\" must hold structures only",
        schema->name, spec->name);
    return FALSE;
  }
}

static gboolean
validate_event (const GstStructure * event, const EventSchema * schema,
    gboolean check_json, GError ** error)
{
  const GValue *value;
  guint i;

  for (i = 0; i < MAX_FIELDS && schema->fields[i].name; i++) {
    const FieldSpec *spec = &schema->fields[i];

    value = gst_structure_id_get_value (event, spec->quark);
    if (!value) {
      if (spec->required)
        goto missing;
      continue;
    }
    if (!check_field (schema, spec, value, check_json, error))
      return FALSE;
  }

  value = gst_structure_id_get_value (event, running_time_spec.quark);
  if (value && !check_field (schema, &running_time_spec, value, FALSE, error))
    return FALSE;

  return TRUE;

  /* ERRORS */
missing:
  {
    set_error (error, "%s: missing required field \"%s\"", schema->name,
        schema->fields[i].name);
    return FALSE;
  }
}

/**
 * gst_bidi_event_validate:
 * @event: a unified event
 * @error: where to put an error
 *
 * Checks that @event is a known event type whose required fields are
 * present, with the schema's types and allowed values (roles, reasons,
 * status, ranges), and that tool `input` and `content` are JSON text.
 * Extra fields are allowed.
 *
 * Returns: %TRUE if @event is valid; otherwise %FALSE with @error set
 * (%GST_STREAM_ERROR_DECODE, the message names the event and the field).
 */
gboolean
gst_bidi_event_validate (const GstStructure * event, GError ** error)
{
  const EventSchema *schema;

  g_return_val_if_fail (event != NULL, FALSE);

  ensure_init ();

  schema = lookup_schema_by_quark (gst_structure_get_name_id (event));
  if (!schema)
    goto unknown;

  return validate_event (event, schema, TRUE, error);

  /* ERRORS */
unknown:
  {
    set_error (error, "unknown event type \"%s\"",
        gst_structure_get_name (event));
    return FALSE;
  }
}

/**
 * gst_bidi_event_is_known:
 * @name: (nullable): a structure name
 *
 * Returns: %TRUE if @name is an event type of the schema (outputs and
 * inputs).
 */
gboolean
gst_bidi_event_is_known (const gchar * name)
{
  if (!name)
    return FALSE;

  ensure_init ();
  return lookup_schema (name) != NULL;
}

/* ---------------------------------------------------------------------- */
/* Structure -> JSON */

static JsonNode *value_to_node (const GValue * value, const gchar * name);

static JsonNode *
string_node (const gchar * s)
{
  JsonNode *node = json_node_alloc ();

  if (s)
    json_node_init_string (node, s);
  else
    json_node_init_null (node);
  return node;
}

static JsonNode *
uint64_node (guint64 v)
{
  JsonNode *node = json_node_alloc ();

  if (v <= G_MAXINT64)
    json_node_init_int (node, (gint64) v);
  else
    json_node_init_double (node, (gdouble) v);
  return node;
}

static JsonNode *
bytes_node (GBytes * bytes)
{
  JsonNode *node;
  gconstpointer data;
  gsize size = 0;
  gchar *b64;

  if (!bytes)
    return string_node (NULL);

  data = g_bytes_get_data (bytes, &size);
  b64 = size > 0 ? g_base64_encode (data, size) : g_strdup ("");
  node = json_node_alloc ();
  json_node_init_string (node, b64);
  g_free (b64);
  return node;
}

/* Adds the fields of @s to @object in order. @schema, when known, gives
 * the special JSON faces of its fields. */
static void structure_to_object (const GstStructure * s,
    const EventSchema * schema, JsonObject * object);

static JsonNode *
structure_node (const GstStructure * s)
{
  JsonNode *node;
  JsonObject *object;

  if (!s)
    return string_node (NULL);

  object = json_object_new ();
  structure_to_object (s, NULL, object);
  node = json_node_alloc ();
  json_node_init_object (node, object);
  json_object_unref (object);
  return node;
}

static JsonNode *
list_node (const GValue * value, const gchar * name)
{
  JsonArray *array;
  JsonNode *node;
  gboolean is_array = GST_VALUE_HOLDS_ARRAY (value);
  guint i, n;

  n = is_array ? gst_value_array_get_size (value) :
      gst_value_list_get_size (value);
  array = json_array_sized_new (n);
  for (i = 0; i < n; i++) {
    const GValue *item = is_array ? gst_value_array_get_value (value, i) :
        gst_value_list_get_value (value, i);
    JsonNode *child = value_to_node (item, name);

    /* keep the indices: an item that cannot be mapped becomes null */
    json_array_add_element (array, child ? child : string_node (NULL));
  }
  node = json_node_alloc ();
  json_node_init_array (node, array);
  json_array_unref (array);
  return node;
}

/* Generic mapping; NULL for types JSON cannot show */
static JsonNode *
value_to_node (const GValue * value, const gchar * name)
{
  GType type = G_VALUE_TYPE (value);
  JsonNode *node = NULL;
  gdouble d;

  if (type == G_TYPE_STRING)
    return string_node (g_value_get_string (value));
  if (type == G_TYPE_BYTES)
    return bytes_node (g_value_get_boxed (value));
  if (type == GST_TYPE_STRUCTURE)
    return structure_node (gst_value_get_structure (value));
  if (type == GST_TYPE_ARRAY || type == GST_TYPE_LIST)
    return list_node (value, name);
  if (type == G_TYPE_UINT64)
    return uint64_node (g_value_get_uint64 (value));
  if (type == G_TYPE_ULONG)
    return uint64_node (g_value_get_ulong (value));

  if (type == G_TYPE_BOOLEAN) {
    node = json_node_alloc ();
    json_node_init_boolean (node, g_value_get_boolean (value));
  } else if (type == G_TYPE_INT) {
    node = json_node_alloc ();
    json_node_init_int (node, g_value_get_int (value));
  } else if (type == G_TYPE_UINT) {
    node = json_node_alloc ();
    json_node_init_int (node, g_value_get_uint (value));
  } else if (type == G_TYPE_INT64) {
    node = json_node_alloc ();
    json_node_init_int (node, g_value_get_int64 (value));
  } else if (type == G_TYPE_LONG) {
    node = json_node_alloc ();
    json_node_init_int (node, g_value_get_long (value));
  } else if (type == G_TYPE_DOUBLE || type == G_TYPE_FLOAT) {
    d = type == G_TYPE_DOUBLE ? g_value_get_double (value) :
        g_value_get_float (value);
    if (!isfinite (d)) {
      GST_DEBUG ("field \"%s\": %f has no JSON form", name, d);
      return NULL;
    }
    node = json_node_alloc ();
    json_node_init_double (node, d);
  } else {
    GST_DEBUG ("field \"%s\": type %s has no JSON form", name,
        g_type_name (type));
  }
  return node;
}

/* The JSON face of a known field; NULL to use the generic mapping */
static JsonNode *
known_value_to_node (const FieldSpec * spec, const GValue * value)
{
  JsonNode *node = NULL;

  switch (spec->kind) {
    case FIELD_DELTA:
      if (G_VALUE_HOLDS_STRING (value) && g_value_get_string (value)) {
        JsonObject *delta = json_object_new ();

        json_object_set_string_member (delta, "text",
            g_value_get_string (value));
        node = json_node_alloc ();
        json_node_init_object (node, delta);
        json_object_unref (delta);
      }
      break;
    case FIELD_JSON:
      if (G_VALUE_HOLDS_STRING (value) && g_value_get_string (value)) {
        const gchar *text = g_value_get_string (value);
        GError *err = NULL;

        node = gst_bidi_json_parse_strict (text, strlen (text), MAX_JSON_DEPTH - 1, &err);
        if (!node) {
          GST_WARNING ("field \"%s\" is not JSON (%s), sending it as a string",
              spec->name, err->message);
          g_error_free (err);
        }
      }
      break;
    case FIELD_CLOCK_TIME:
      if (G_VALUE_HOLDS_UINT64 (value)
          && g_value_get_uint64 (value) == GST_CLOCK_TIME_NONE)
        node = string_node (NULL);
      break;
    case FIELD_AUDIO_FORMAT:
      /* the seeds call 16-bit little-endian PCM "pcm" */
      if (G_VALUE_HOLDS_STRING (value)
          && g_strcmp0 (g_value_get_string (value), "S16LE") == 0)
        node = string_node ("pcm");
      break;
    default:
      break;
  }
  return node;
}

typedef struct
{
  const EventSchema *schema;
  JsonObject *object;
} ObjectBuildData;

static gboolean
add_field_to_object (GQuark field_id, const GValue * value, gpointer user_data)
{
  ObjectBuildData *data = user_data;
  const gchar *name = g_quark_to_string (field_id);
  const FieldSpec *spec = NULL;
  JsonNode *node = NULL;

  if (data->schema) {
    /* "type" is the event name on the JSON face */
    if (field_id == type_quark) {
      GST_DEBUG ("%s: skipping field \"type\"", data->schema->name);
      return TRUE;
    }
    spec = lookup_field_by_quark (data->schema, field_id);
  }

  if (spec)
    node = known_value_to_node (spec, value);
  if (!node)
    node = value_to_node (value, name);
  if (node)
    json_object_set_member (data->object, name, node);
  return TRUE;
}

static void
structure_to_object (const GstStructure * s, const EventSchema * schema,
    JsonObject * object)
{
  ObjectBuildData data = { schema, object };

  gst_structure_foreach (s, add_field_to_object, &data);
}

/* A schema that knows no fields but running_time, for unknown events */
static const EventSchema no_schema = {.name = "" };

/**
 * gst_bidi_event_to_json:
 * @event: a unified event
 *
 * Turns @event into compact JSON object text: `"type"` (the structure name)
 * first, then the fields in structure order. #GBytes become base64, the
 * transcript `delta` becomes `{"text": ...}`, tool `input`/`content` are
 * embedded as JSON values, a `running_time` of %GST_CLOCK_TIME_NONE is
 * `null`. Fields whose type has no JSON form are left out. Events of unknown
 * types are converted generically.
 *
 * Returns: (transfer full): JSON text, free with g_free().
 */
gchar *
gst_bidi_event_to_json (const GstStructure * event)
{
  const EventSchema *schema;
  JsonGenerator *generator;
  JsonObject *object;
  JsonNode *root;
  gchar *json;

  g_return_val_if_fail (event != NULL, NULL);

  ensure_init ();

  schema = lookup_schema_by_quark (gst_structure_get_name_id (event));
  object = json_object_new ();
  json_object_set_string_member (object, "type",
      gst_structure_get_name (event));
  structure_to_object (event, schema ? schema : &no_schema, object);

  root = json_node_alloc ();
  json_node_init_object (root, object);
  json_object_unref (object);

  generator = json_generator_new ();
  json_generator_set_root (generator, root);
  json = gst_bidi_json_fix_generated (json_generator_to_data (generator,
          NULL));
  g_object_unref (generator);
  json_node_unref (root);

  return json;
}

/* ---------------------------------------------------------------------- */
/* JSON -> structure */

static GstStructure *object_to_structure (JsonObject * object,
    const gchar * name);

static void node_to_value (JsonNode * node, const gchar * name, GValue * value);

/* The type GstValueArray compares when appending: that of the first item,
 * looking into nested arrays; G_TYPE_INVALID for an empty array, which
 * goes with anything. */
static GType
basic_type (const GValue * value)
{
  while (GST_VALUE_HOLDS_ARRAY (value)) {
    if (gst_value_array_get_size (value) == 0)
      return G_TYPE_INVALID;
    value = gst_value_array_get_value (value, 0);
  }
  return G_VALUE_TYPE (value);
}

static gboolean
is_number_type (GType type)
{
  return type == G_TYPE_INT || type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

/* GstValueArray holds items of one type only. Numbers are made alike
 * (all gint64, or all gdouble if any is one); returns FALSE if the items
 * still differ. */
static gboolean
make_items_alike (GValue * items, guint n)
{
  GType common = G_TYPE_INVALID, type;
  gboolean numbers = TRUE, any_double = FALSE, same = TRUE;
  guint i;

  for (i = 0; i < n; i++) {
    type = basic_type (&items[i]);
    numbers = numbers && is_number_type (G_VALUE_TYPE (&items[i]));
    any_double = any_double || type == G_TYPE_DOUBLE;
    if (type == G_TYPE_INVALID)
      continue;
    if (common == G_TYPE_INVALID)
      common = type;
    else if (type != common)
      same = FALSE;
  }
  if (same)
    return TRUE;
  if (!numbers)
    return FALSE;

  for (i = 0; i < n; i++) {
    GValue *item = &items[i];

    if (any_double && !G_VALUE_HOLDS_DOUBLE (item)) {
      gdouble d = G_VALUE_HOLDS_INT (item) ? g_value_get_int (item) :
          (gdouble) g_value_get_int64 (item);

      g_value_unset (item);
      g_value_init (item, G_TYPE_DOUBLE);
      g_value_set_double (item, d);
    } else if (!any_double && G_VALUE_HOLDS_INT (item)) {
      gint v = g_value_get_int (item);

      g_value_unset (item);
      g_value_init (item, G_TYPE_INT64);
      g_value_set_int64 (item, v);
    }
  }
  return TRUE;
}

static void
array_to_value (JsonNode * node, const gchar * name, GValue * value)
{
  JsonArray *array = json_node_get_array (node);
  guint i, n = json_array_get_length (array);
  GValue *items = g_new0 (GValue, MAX (n, 1));

  for (i = 0; i < n; i++)
    node_to_value (json_array_get_element (array, i), name, &items[i]);

  if (make_items_alike (items, n)) {
    g_value_init (value, GST_TYPE_ARRAY);
    for (i = 0; i < n; i++)
      gst_value_array_append_and_take_value (value, &items[i]);
  } else {
    /* e.g. ["a", 1]: no GstValueArray can hold it, keep the JSON text */
    GST_DEBUG ("field \"%s\": array of mixed types kept as JSON text", name);
    for (i = 0; i < n; i++)
      g_value_unset (&items[i]);
    g_value_init (value, G_TYPE_STRING);
    g_value_take_string (value, gst_bidi_json_to_string (node));
  }
  g_free (items);
}

/* Generic mapping of a JSON value; @name names nested structures */
static void
node_to_value (JsonNode * node, const gchar * name, GValue * value)
{
  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT:
      g_value_init (value, GST_TYPE_STRUCTURE);
      g_value_take_boxed (value,
          object_to_structure (json_node_get_object (node), name));
      break;
    case JSON_NODE_ARRAY:
      array_to_value (node, name, value);
      break;
    case JSON_NODE_NULL:
      g_value_init (value, G_TYPE_STRING);
      break;
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node)) {
        case G_TYPE_INT64:{
          gint64 i = json_node_get_int (node);

          if (i >= G_MININT && i <= G_MAXINT) {
            g_value_init (value, G_TYPE_INT);
            g_value_set_int (value, (gint) i);
          } else {
            g_value_init (value, G_TYPE_INT64);
            g_value_set_int64 (value, i);
          }
          break;
        }
        case G_TYPE_DOUBLE:
          g_value_init (value, G_TYPE_DOUBLE);
          g_value_set_double (value, json_node_get_double (node));
          break;
        case G_TYPE_BOOLEAN:
          g_value_init (value, G_TYPE_BOOLEAN);
          g_value_set_boolean (value, json_node_get_boolean (node));
          break;
        case G_TYPE_STRING:
        default:
          g_value_init (value, G_TYPE_STRING);
          g_value_set_string (value, json_node_get_string (node));
          break;
      }
      break;
  }
}

static GstStructure *
object_to_structure (JsonObject * object, const gchar * name)
{
  GstStructure *s;
  GList *members, *l;

  /* field names are arbitrary strings; structure names are not */
  s = gst_structure_new_empty (is_valid_structure_name (name) ? name :
      "object");
  members = json_object_get_members (object);
  for (l = members; l; l = l->next) {
    const gchar *member = l->data;
    GValue value = G_VALUE_INIT;

    node_to_value (json_object_get_member (object, member), member, &value);
    gst_structure_take_value (s, member, &value);
  }
  g_list_free (members);
  return s;
}

static gboolean
is_json_type (JsonNode * node, GType type)
{
  return JSON_NODE_TYPE (node) == JSON_NODE_VALUE
      && json_node_get_value_type (node) == type;
}

/* Converts a known field to its schema type and adds it to @event */
static gboolean
add_known_field (GstStructure * event, const EventSchema * schema,
    const FieldSpec * spec, JsonNode * node, GError ** error)
{
  GValue value = G_VALUE_INIT;
  gint64 i;

  if (JSON_NODE_HOLDS_NULL (node) && spec->kind != FIELD_JSON) {
    if (spec->kind == FIELD_CLOCK_TIME) {
      g_value_init (&value, G_TYPE_UINT64);
      g_value_set_uint64 (&value, GST_CLOCK_TIME_NONE);
      goto done;
    }
    if (spec->required)
      goto wrong_type;
    /* null: the same as no field */
    return TRUE;
  }

  switch (spec->kind) {
    case FIELD_STRING:
      if (!is_json_type (node, G_TYPE_STRING))
        goto wrong_type;
      g_value_init (&value, G_TYPE_STRING);
      g_value_set_string (&value, json_node_get_string (node));
      break;
    case FIELD_AUDIO_FORMAT:{
      const gchar *name;

      if (!is_json_type (node, G_TYPE_STRING))
        goto wrong_type;
      name = json_node_get_string (node);
      if (strcmp (name, "pcm") == 0)
        name = "S16LE";
      else if (gst_audio_format_from_string (name) == GST_AUDIO_FORMAT_UNKNOWN)
        goto wrong_type;
      g_value_init (&value, G_TYPE_STRING);
      g_value_set_string (&value, name);
      break;
    }
    case FIELD_BOOLEAN:
      if (!is_json_type (node, G_TYPE_BOOLEAN))
        goto wrong_type;
      g_value_init (&value, G_TYPE_BOOLEAN);
      g_value_set_boolean (&value, json_node_get_boolean (node));
      break;
    case FIELD_INT:
      if (!is_json_type (node, G_TYPE_INT64))
        goto wrong_type;
      i = json_node_get_int (node);
      if (!check_int_range (schema, spec, i, error))
        return FALSE;
      g_value_init (&value, G_TYPE_INT);
      g_value_set_int (&value, (gint) i);
      break;
    case FIELD_UINT64:
    case FIELD_CLOCK_TIME:
      if (!is_json_type (node, G_TYPE_INT64) || json_node_get_int (node) < 0)
        goto wrong_type;
      g_value_init (&value, G_TYPE_UINT64);
      g_value_set_uint64 (&value, (guint64) json_node_get_int (node));
      break;
    case FIELD_BYTES:{
      GBytes *bytes;

      if (!is_json_type (node, G_TYPE_STRING))
        goto wrong_type;
      bytes = gst_bidi_base64_decode (json_node_get_string (node), -1, 1,
          G_MAXSIZE, NULL);
      if (!bytes)
        goto bad_base64;
      g_value_init (&value, G_TYPE_BYTES);
      g_value_take_boxed (&value, bytes);
      break;
    }
    case FIELD_DELTA:{
      JsonNode *text;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        goto wrong_type;
      text = json_object_get_member (json_node_get_object (node), "text");
      if (!text || !is_json_type (text, G_TYPE_STRING))
        goto wrong_type;
      g_value_init (&value, G_TYPE_STRING);
      g_value_set_string (&value, json_node_get_string (text));
      break;
    }
    case FIELD_JSON:
      g_value_init (&value, G_TYPE_STRING);
      g_value_take_string (&value, gst_bidi_json_to_string (node));
      break;
    case FIELD_STRUCT_ARRAY:{
      JsonArray *array;
      guint n;

      if (!JSON_NODE_HOLDS_ARRAY (node))
        goto wrong_type;
      array = json_node_get_array (node);
      n = json_array_get_length (array);
      while (n-- > 0) {
        if (!JSON_NODE_HOLDS_OBJECT (json_array_get_element (array, n)))
          goto wrong_type;
      }
      node_to_value (node, spec->name, &value);
      break;
    }
  }

done:
  gst_structure_id_take_value (event, spec->quark, &value);
  return TRUE;

  /* ERRORS */
wrong_type:
  {
    set_error (error, "%s: field \"%s\" must be %s", schema->name, spec->name,
        kind_json_desc[spec->kind]);
    return FALSE;
  }
bad_base64:
  {
    set_error (error, "%s: field \"%s\" is not valid base64", schema->name,
        spec->name);
    return FALSE;
  }
}

/**
 * gst_bidi_event_from_json:
 * @json: JSON text
 * @length: length of @json in bytes, or -1 if it is NUL-terminated
 * @error: where to put an error
 *
 * Parses one JSON object into an event: `"type"` gives the structure name,
 * known fields get their schema types (e.g. base64 `audio` becomes #GBytes,
 * `sample_rate` a #gint), unknown fields are mapped generically. The result
 * is validated as by gst_bidi_event_validate().
 *
 * @json may come from the network: text longer than 16 MiB, nested deeper
 * than 32 levels, not strict JSON, not an object, of unknown type or not
 * matching the schema gives an error.
 *
 * Returns: (transfer full) (nullable): the event, or %NULL with @error set
 * (%GST_STREAM_ERROR_DECODE).
 */
GstStructure *
gst_bidi_event_from_json (const gchar * json, gssize length, GError ** error)
{
  const EventSchema *schema;
  GstStructure *event = NULL;
  JsonNode *root = NULL, *type_node;
  JsonObject *object;
  GList *members = NULL, *l;
  GError *err = NULL;
  gsize len;

  g_return_val_if_fail (json != NULL, NULL);

  ensure_init ();

  len = length < 0 ? strlen (json) : (gsize) length;
  if (len > MAX_JSON_LENGTH)
    goto too_long;
  root = gst_bidi_json_parse_strict (json, len, MAX_JSON_DEPTH, &err);
  if (!root)
    goto invalid_json;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    goto not_object;

  object = json_node_get_object (root);
  type_node = json_object_get_member (object, "type");
  if (!type_node)
    goto no_type;
  if (!is_json_type (type_node, G_TYPE_STRING))
    goto bad_type;
  schema = lookup_schema (json_node_get_string (type_node));
  if (!schema)
    goto unknown_type;

  event = gst_structure_new_empty (schema->name);
  members = json_object_get_members (object);
  for (l = members; l; l = l->next) {
    const gchar *name = l->data;
    JsonNode *node = json_object_get_member (object, name);
    const FieldSpec *spec;

    if (strcmp (name, "type") == 0)
      continue;

    spec = lookup_field (schema, name);
    if (spec) {
      if (!add_known_field (event, schema, spec, node, &err))
        goto failed;
    } else {
      GValue value = G_VALUE_INIT;

      node_to_value (node, name, &value);
      gst_structure_take_value (event, name, &value);
    }
  }
  g_list_free (members);
  members = NULL;

  /* tool input/content were made from parsed JSON: no need to parse again */
  if (!validate_event (event, schema, FALSE, &err))
    goto failed;

  json_node_unref (root);
  return event;

  /* ERRORS */
too_long:
  {
    set_error (&err, "JSON event of %" G_GSIZE_FORMAT " bytes is over the "
        "limit of %u bytes", len, (guint) MAX_JSON_LENGTH);
    goto failed;
  }
invalid_json:
  {
    g_prefix_error (&err, "invalid JSON: ");
    goto failed;
  }
not_object:
  {
    set_error (&err, "JSON event is not an object");
    goto failed;
  }
no_type:
  {
    set_error (&err, "JSON event has no \"type\"");
    goto failed;
  }
bad_type:
  {
    set_error (&err, "JSON event \"type\" is not a string");
    goto failed;
  }
unknown_type:
  {
    /* untrusted text in a message: at most 64 characters, escaped */
    const gchar *type = json_node_get_string (type_node), *p = type;
    gchar *head, *name;
    guint i;

    for (i = 0; i < 64 && *p; i++)
      p = g_utf8_next_char (p);
    head = g_strndup (type, p - type);
    name = g_strescape (head, NULL);

    set_error (&err, "unknown event type \"%s\"", name);
    g_free (name);
    g_free (head);
    goto failed;
  }
failed:
  {
    GST_DEBUG ("rejecting JSON event: %s", err->message);
    g_propagate_error (error, err);
    g_list_free (members);
    if (event)
      gst_structure_free (event);
    if (root)
      json_node_unref (root);
    return NULL;
  }
}

/* ---------------------------------------------------------------------- */
/* Builders */

/* An event of string fields: name/value pairs ending with a NULL name, in
 * the order given; a NULL value leaves its (optional) field out */
static GstStructure *
string_event (const gchar * name, const gchar * first_field, ...)
{
  GstStructure *s = gst_structure_new_empty (name);
  const gchar *field;
  va_list ap;

  va_start (ap, first_field);
  for (field = first_field; field; field = va_arg (ap, const gchar *)) {
    const gchar *value = va_arg (ap, const gchar *);

    if (value)
      gst_structure_set (s, field, G_TYPE_STRING, value, NULL);
  }
  va_end (ap);
  return s;
}

/**
 * gst_bidi_event_new_connection_start:
 * @connection_id: the connection's identifier
 * @model: (nullable): the model name
 *
 * Returns: (transfer full): a `bidi_connection_start` event.
 */
GstStructure *
gst_bidi_event_new_connection_start (const gchar * connection_id,
    const gchar * model)
{
  g_return_val_if_fail (connection_id != NULL, NULL);

  return string_event (GST_BIDI_EVENT_CONNECTION_START,
      "connection_id", connection_id, "model", model, NULL);
}

/**
 * gst_bidi_event_new_connection_restart:
 * @reason: why the connection restarts
 * @connection_id: (nullable): the connection's identifier
 *
 * Returns: (transfer full): a `bidi_connection_restart` event.
 */
GstStructure *
gst_bidi_event_new_connection_restart (const gchar * reason,
    const gchar * connection_id)
{
  g_return_val_if_fail (reason != NULL, NULL);

  return string_event (GST_BIDI_EVENT_CONNECTION_RESTART,
      "reason", reason, "connection_id", connection_id, NULL);
}

/**
 * gst_bidi_event_new_response_start:
 * @response_id: (nullable): the response's identifier, if the provider has
 *     one
 *
 * Returns: (transfer full): a `bidi_response_start` event.
 */
GstStructure *
gst_bidi_event_new_response_start (const gchar * response_id)
{
  return string_event (GST_BIDI_EVENT_RESPONSE_START,
      "response_id", response_id, NULL);
}

/**
 * gst_bidi_event_new_audio_stream:
 * @audio: (transfer none): the audio; the event takes a reference
 * @format: sample format, e.g. "S16LE" or "pcm"
 * @sample_rate: rate in Hz, positive
 * @channels: 1 to 8
 *
 * Returns: (transfer full): a `bidi_audio_stream` event.
 */
GstStructure *
gst_bidi_event_new_audio_stream (GBytes * audio, const gchar * format,
    gint sample_rate, gint channels)
{
  g_return_val_if_fail (audio != NULL, NULL);
  g_return_val_if_fail (format != NULL, NULL);
  g_return_val_if_fail (sample_rate > 0, NULL);
  g_return_val_if_fail (channels >= 1 && channels <= 8, NULL);

  return gst_structure_new (GST_BIDI_EVENT_AUDIO_STREAM,
      "audio", G_TYPE_BYTES, audio,
      "format", G_TYPE_STRING, format,
      "sample_rate", G_TYPE_INT, sample_rate,
      "channels", G_TYPE_INT, channels, NULL);
}

/**
 * gst_bidi_event_new_transcript:
 * @role: "user" or "assistant"
 * @text: the new text (also set as the `delta`)
 * @is_final: whether the transcript is final
 * @current_transcript: (nullable): the text accumulated so far
 *
 * The text so far is left out (it is optional in the schema) once it is
 * longer than %GST_BIDI_EVENT_MAX_CURRENT_TRANSCRIPT bytes: with it, a long
 * answer streamed in many small deltas would make messages whose total
 * size grows with the square of its length. Past that, accumulate the
 * deltas; the final event's `text` still carries the whole transcript.
 *
 * Returns: (transfer full): a `bidi_transcript_stream` event.
 */
GstStructure *
gst_bidi_event_new_transcript (const gchar * role, const gchar * text,
    gboolean is_final, const gchar * current_transcript)
{
  GstStructure *s;

  g_return_val_if_fail (role != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  s = gst_structure_new (GST_BIDI_EVENT_TRANSCRIPT_STREAM,
      "delta", G_TYPE_STRING, text,
      "text", G_TYPE_STRING, text,
      "role", G_TYPE_STRING, role, "is_final", G_TYPE_BOOLEAN, is_final, NULL);
  if (current_transcript &&
      strlen (current_transcript) <= GST_BIDI_EVENT_MAX_CURRENT_TRANSCRIPT)
    gst_structure_set (s, "current_transcript", G_TYPE_STRING,
        current_transcript, NULL);
  return s;
}

/**
 * gst_bidi_event_transcript_set_phase:
 * @transcript: a `bidi_transcript_stream` event
 * @phase: (nullable): "commentary" or "final_answer"; NULL leaves it out
 *
 * Tells which part of a response an assistant transcript belongs to, for
 * a provider whose model speaks a preamble (commentary) before its final
 * answer: each part is a transcript of its own, so that an application
 * (and the history) keeps them apart.
 */
void
gst_bidi_event_transcript_set_phase (GstStructure * transcript,
    const gchar * phase)
{
  g_return_if_fail (transcript != NULL);

  if (phase)
    gst_structure_set (transcript, "phase", G_TYPE_STRING, phase, NULL);
  else
    gst_structure_remove_field (transcript, "phase");
}

/**
 * gst_bidi_event_new_interruption:
 * @reason: "user_speech" or "error"
 * @response_id: (nullable): the interrupted response
 *
 * Returns: (transfer full): a `bidi_interruption` event. The element may
 * add `played_ms` (#guint64).
 */
GstStructure *
gst_bidi_event_new_interruption (const gchar * reason,
    const gchar * response_id)
{
  g_return_val_if_fail (reason != NULL, NULL);

  return string_event (GST_BIDI_EVENT_INTERRUPTION,
      "reason", reason, "response_id", response_id, NULL);
}

/**
 * gst_bidi_event_new_response_complete:
 * @response_id: (nullable): the response's identifier
 * @stop_reason: "complete", "error", "interrupted" or "tool_use"
 *
 * Returns: (transfer full): a `bidi_response_complete` event.
 */
GstStructure *
gst_bidi_event_new_response_complete (const gchar * response_id,
    const gchar * stop_reason)
{
  g_return_val_if_fail (stop_reason != NULL, NULL);

  return string_event (GST_BIDI_EVENT_RESPONSE_COMPLETE,
      "response_id", response_id, "stop_reason", stop_reason, NULL);
}

/**
 * gst_bidi_event_new_usage:
 * @input_tokens: input tokens, not negative
 * @output_tokens: output tokens, not negative
 * @total_tokens: total tokens, not negative
 *
 * Returns: (transfer full): a `bidi_usage` event. Providers may add
 * `modality_details`, `cacheReadInputTokens`, `cacheWriteInputTokens` and
 * `reasoningTokens` (the share of the output tokens the model spent
 * thinking).
 */
GstStructure *
gst_bidi_event_new_usage (gint input_tokens, gint output_tokens,
    gint total_tokens)
{
  g_return_val_if_fail (input_tokens >= 0, NULL);
  g_return_val_if_fail (output_tokens >= 0, NULL);
  g_return_val_if_fail (total_tokens >= 0, NULL);

  return gst_structure_new (GST_BIDI_EVENT_USAGE,
      "inputTokens", G_TYPE_INT, input_tokens,
      "outputTokens", G_TYPE_INT, output_tokens,
      "totalTokens", G_TYPE_INT, total_tokens, NULL);
}

/**
 * gst_bidi_event_usage_add_modality:
 * @usage: a `bidi_usage` event
 * @modality: "text", "audio", "image" ...
 * @input_tokens: input tokens of @modality
 * @output_tokens: output tokens of @modality
 *
 * Appends one entry to the event's `modality_details` (made when it has
 * none yet), so that every provider breaks its usage down alike.
 */
void
gst_bidi_event_usage_add_modality (GstStructure * usage,
    const gchar * modality, gint input_tokens, gint output_tokens)
{
  GValue details = G_VALUE_INIT, v = G_VALUE_INIT;
  const GValue *old;

  g_return_if_fail (usage != NULL && modality != NULL);

  old = gst_structure_get_value (usage, "modality_details");
  g_value_init (&details, GST_TYPE_ARRAY);
  if (old && GST_VALUE_HOLDS_ARRAY (old))
    g_value_copy (old, &details);
  g_value_init (&v, GST_TYPE_STRUCTURE);
  g_value_take_boxed (&v, gst_structure_new ("modality_details",
          "modality", G_TYPE_STRING, modality,
          "input_tokens", G_TYPE_INT, MAX (input_tokens, 0),
          "output_tokens", G_TYPE_INT, MAX (output_tokens, 0), NULL));
  gst_value_array_append_and_take_value (&details, &v);
  gst_structure_take_value (usage, "modality_details", &details);
}

/**
 * gst_bidi_event_new_connection_close:
 * @connection_id: (nullable): the connection's identifier
 * @reason: "client_disconnect", "timeout", "error", "complete" or
 *     "user_request"
 *
 * Returns: (transfer full): a `bidi_connection_close` event.
 */
GstStructure *
gst_bidi_event_new_connection_close (const gchar * connection_id,
    const gchar * reason)
{
  g_return_val_if_fail (reason != NULL, NULL);

  return string_event (GST_BIDI_EVENT_CONNECTION_CLOSE,
      "connection_id", connection_id, "reason", reason, NULL);
}

/**
 * gst_bidi_event_new_error:
 * @message: what went wrong
 * @code: (nullable): a short error code
 * @details: (nullable): more details
 *
 * Returns: (transfer full): a `bidi_error` event.
 */
GstStructure *
gst_bidi_event_new_error (const gchar * message, const gchar * code,
    const gchar * details)
{
  g_return_val_if_fail (message != NULL, NULL);

  return string_event (GST_BIDI_EVENT_ERROR, "message", message, "code", code,
      "details", details, NULL);
}

/**
 * gst_bidi_event_new_tool_use:
 * @tool_use_id: the call's identifier
 * @name: the tool's name
 * @input_json: the arguments, as JSON text
 *
 * Returns: (transfer full): a `tool_use_stream` event.
 */
GstStructure *
gst_bidi_event_new_tool_use (const gchar * tool_use_id, const gchar * name,
    const gchar * input_json)
{
  g_return_val_if_fail (tool_use_id != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (input_json != NULL, NULL);

  return string_event (GST_BIDI_EVENT_TOOL_USE_STREAM, "toolUseId",
      tool_use_id, "name", name, "input", input_json, NULL);
}

/**
 * gst_bidi_event_new_tool_result:
 * @tool_use_id: the call's identifier
 * @status: "success" or "error"
 * @content_json: the result, as JSON text
 *
 * Returns: (transfer full): a `tool_result` event.
 */
GstStructure *
gst_bidi_event_new_tool_result (const gchar * tool_use_id,
    const gchar * status, const gchar * content_json)
{
  g_return_val_if_fail (tool_use_id != NULL, NULL);
  g_return_val_if_fail (status != NULL, NULL);
  g_return_val_if_fail (content_json != NULL, NULL);

  return string_event (GST_BIDI_EVENT_TOOL_RESULT, "toolUseId", tool_use_id,
      "status", status, "content", content_json, NULL);
}

/**
 * gst_bidi_event_new_tool_cancel:
 * @tool_use_id: the call's identifier
 *
 * The model withdrew the call (the user spoke over it): its result is no
 * longer wanted, and one that comes is dropped.
 *
 * Returns: (transfer full): a `tool_cancel` event.
 */
GstStructure *
gst_bidi_event_new_tool_cancel (const gchar * tool_use_id)
{
  g_return_val_if_fail (tool_use_id != NULL, NULL);

  return string_event (GST_BIDI_EVENT_TOOL_CANCEL, "toolUseId", tool_use_id,
      NULL);
}

/**
 * gst_bidi_event_new_text_input:
 * @text: the text to send
 * @role: (nullable): "user", "assistant" or "system"; %NULL leaves the
 *     field out (the provider's default, normally "user")
 *
 * Returns: (transfer full): a `bidi_text_input` event.
 */
GstStructure *
gst_bidi_event_new_text_input (const gchar * text, const gchar * role)
{
  g_return_val_if_fail (text != NULL, NULL);

  return string_event (GST_BIDI_EVENT_TEXT_INPUT, "text", text, "role", role,
      NULL);
}

static GstStructure *
state_event (const gchar * name, const gchar * state, guint64 ago_ms)
{
  GstStructure *s = string_event (name, "state", state, NULL);

  if (ago_ms > 0)
    gst_structure_set (s, "ago_ms", G_TYPE_UINT64, ago_ms, NULL);
  return s;
}

/**
 * gst_bidi_event_new_user_state:
 * @state: "speaking" or "listening"
 * @ago_ms: how long before now the change happened, 0 if now
 *
 * Returns: (transfer full): a `bidi_user_state` event.
 */
GstStructure *
gst_bidi_event_new_user_state (const gchar * state, guint64 ago_ms)
{
  g_return_val_if_fail (state != NULL, NULL);

  return state_event (GST_BIDI_EVENT_USER_STATE, state, ago_ms);
}

/**
 * gst_bidi_event_new_agent_state:
 * @state: "listening", "thinking" or "speaking"
 * @ago_ms: how long before now the change happened, 0 if now
 *
 * Returns: (transfer full): a `bidi_agent_state` event.
 */
GstStructure *
gst_bidi_event_new_agent_state (const gchar * state, guint64 ago_ms)
{
  g_return_val_if_fail (state != NULL, NULL);

  return state_event (GST_BIDI_EVENT_AGENT_STATE, state, ago_ms);
}

/* Sets @field to @to - @from in ms when both are known */
static void
set_interval (GstStructure * s, const gchar * field, GstClockTime from,
    GstClockTime to)
{
  GstClockTimeDiff d;

  if (!GST_CLOCK_TIME_IS_VALID (from) || !GST_CLOCK_TIME_IS_VALID (to))
    return;
  d = GST_CLOCK_DIFF (from, to) / GST_MSECOND;
  gst_structure_set (s, field, G_TYPE_INT, (gint) CLAMP (d, G_MININT,
          G_MAXINT), NULL);
}

static void
set_moment (GstStructure * s, const gchar * field, GstClockTime t)
{
  if (GST_CLOCK_TIME_IS_VALID (t))
    gst_structure_set (s, field, G_TYPE_UINT64, t, NULL);
}

/**
 * gst_bidi_event_new_turn_latency:
 * @times: the moments of the turn; the unknown ones are left out
 * @response_id: (nullable): the answer's identifier
 *
 * Returns: (transfer full): a `bidi_turn_latency` event with the moments
 * that are known and the intervals between them in milliseconds.
 */
GstStructure *
gst_bidi_event_new_turn_latency (const GstBidiTurnTimes * times,
    const gchar * response_id)
{
  GstStructure *s;

  g_return_val_if_fail (times != NULL, NULL);

  s = string_event (GST_BIDI_EVENT_TURN_LATENCY, "response_id", response_id,
      NULL);
  set_moment (s, "speech_end", times->speech_end);
  set_moment (s, "turn_end", times->turn_end);
  set_moment (s, "first_audio", times->first_audio);
  set_moment (s, "first_push", times->first_push);
  set_interval (s, "speech_end_to_turn_end_ms", times->speech_end,
      times->turn_end);
  set_interval (s, "turn_end_to_first_audio_ms", times->turn_end,
      times->first_audio);
  set_interval (s, "first_audio_to_first_push_ms", times->first_audio,
      times->first_push);
  set_interval (s, "speech_end_to_first_push_ms", times->speech_end,
      times->first_push);
  return s;
}
