/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_TOOLS_H__
#define __GST_BIDI_TOOLS_H__

#include <gst/gst.h>

#include "bidi-prelude.h"

G_BEGIN_DECLS

/* Built-in tools: they run inside the element, for every provider.
 *
 *   current_time       input {} or {"timezone": "Europe/Paris"} (IANA name)
 *                      result {"iso": "2026-11-21T14:05:09+01:00",
 *                              "time": "14:05", "time_12h": "2:05 PM",
 *                              "date": "Saturday, 21 November 2026",
 *                              "weekday": "Saturday", "timezone": "..."}
 *   calculator         input {"expression": "25 * 48"}: numbers, + - * / %
 *                      ^ (power), parentheses, unary minus
 *                      result {"expression": "25 * 48", "result": 1200}
 *   stop_conversation  input {}; result {"status": "stopping"}; the element
 *                      then lets the answer finish, posts
 *                      bidi_connection_close (user_request) and pushes EOS
 *
 * A failed call (bad input, division by zero ...) has status "error" and
 * result {"error": "<what went wrong>"}. */

#define GST_BIDI_TOOL_CURRENT_TIME      "current_time"
#define GST_BIDI_TOOL_CALCULATOR        "calculator"
#define GST_BIDI_TOOL_STOP_CONVERSATION "stop_conversation"

/* The default value of the element's builtin-tools property */
#define GST_BIDI_BUILTIN_TOOLS_ALL \
    "current_time,calculator,stop_conversation"

GST_BIDI_API
gboolean gst_bidi_builtin_tool_exists (const gchar * name);

/* A JSON array of {name, description, parameters (JSON Schema)} for the
 * tools in @names (NULL-terminated); unknown names are skipped. */
GST_BIDI_API
gchar *gst_bidi_builtin_tools_spec_json (const gchar * const *names);

/* Runs a built-in tool. Returns TRUE for status "success"; @result_json is
 * always set (transfer full). Never blocks for long. */
/* {"error": @message}, the result of a failed tool call, as JSON text */
GST_BIDI_API
gchar *gst_bidi_tool_error_json (const gchar * message);
/* A failed call's result (JSON text, nullable) as {"error": ...}: as it
 * is when it is such an object already, else wrapped (text that is not
 * JSON as a string). (transfer full) */
GST_BIDI_API
gchar *gst_bidi_tool_error_result (const gchar * json);

GST_BIDI_API
gboolean gst_bidi_builtin_tool_run (const gchar * name,
    const gchar * input_json, gchar ** result_json);

/* A tool as the model is told of it */
typedef struct
{
  gchar *name;
  gchar *description;           /* "" when there is none */
  gchar *parameters;            /* its JSON Schema, an object, as text */
} GstBidiToolSpec;

GST_BIDI_API
void gst_bidi_tool_spec_free (GstBidiToolSpec * spec);

/* Reads a JSON array of tool specs, as the `tools` property takes them and
 * as providers get them (GstBidiProviderConfig.tools_json): each
 * {name, description, parameters}, the schema also as Strands'
 * "inputSchema" ({"json": schema} or the schema itself) or
 * "input_schema"; a tool without one takes no arguments. Names are 1-64
 * of [A-Za-z0-9_-] and unique. Returns (transfer full) (element-type
 * GstBidiToolSpec) the specs (empty for NULL or ""), or NULL with
 * GST_RESOURCE_ERROR_SETTINGS naming the bad tool. */
GST_BIDI_API
GPtrArray *gst_bidi_tools_parse (const gchar * json, GError ** error);

/* The tools of the element's `tools` property: @app_json is a JSON array
 * of tool specs, each {name, description, parameters} (JSON Schema), or
 * with the schema as Strands' "inputSchema" ({"json": schema} or the
 * schema itself) or "input_schema". Names are 1-64 of [A-Za-z0-9_-],
 * unique, and none of @builtins (the built-in tools in use).
 *
 * On success @tools_json is one array of {name, description, parameters}
 * with the built-in tools among @builtins first, then the application's;
 * @app_names the application's tool names. NULL or "" @app_json means no
 * application tools. */
GST_BIDI_API
gboolean gst_bidi_tools_merge (const gchar * const *builtins,
    const gchar * app_json, gchar ** tools_json, gchar *** app_names,
    GError ** error);

G_END_DECLS

#endif /* __GST_BIDI_TOOLS_H__ */
