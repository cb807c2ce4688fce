/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_INTENTS_H__
#define __GST_BIDI_INTENTS_H__

#include <glib.h>

G_BEGIN_DECLS

/* The local provider's built-in responder: what the user asked for, from
 * a recognised (lower case, unpunctuated, possibly slightly wrong)
 * transcript, and the words of the answer. Pure functions. */

typedef enum
{
  GST_BIDI_INTENT_OTHER,
  GST_BIDI_INTENT_TIME,
  GST_BIDI_INTENT_DATE,
  GST_BIDI_INTENT_CALCULATE,
  GST_BIDI_INTENT_STOP,
} GstBidiIntentType;

typedef struct
{
  GstBidiIntentType type;
  /* CALCULATE: the calculator tool's expression ("25 * 48") and how to say
   * it ("twenty five times forty eight") */
  gchar *expression;
  gchar *spoken;
  /* what was heard, normalised */
  gchar *heard;
} GstBidiIntent;

/* Which tools the responder may use */
typedef struct
{
  gboolean current_time;
  gboolean calculator;
  gboolean stop_conversation;
} GstBidiIntentTools;

GstBidiIntent *gst_bidi_intent_classify (const gchar * text);
void gst_bidi_intent_free (GstBidiIntent * intent);
const gchar *gst_bidi_intent_type_name (GstBidiIntentType type);

/* Lower case, letters, digits, '.', '-' and single spaces. */
gchar *gst_bidi_intent_normalize (const gchar * text);

/* gst_bidi_intent_normalize(), then pocketsphinx's usual confusions put
 * right where the context shows them: "one is seven times a" -> "what is
 * seven times a" (the "a" is read as "eight" after an operator by the
 * expression parser), "one time is it" -> "what time is it", "what day
 * is a" -> "what day is it", "divided bye" -> "divided by", "good bye" ->
 * "goodbye". */
gchar *gst_bidi_intent_correct (const gchar * text);

/* Number words at tokens[*pos] ("twenty five", "one hundred and five",
 * "a thousand", "three point five", "42", "1,200"): on success the value
 * and *pos moved past them. */
gboolean gst_bidi_parse_number (gchar ** tokens, guint * pos,
    gdouble * value);
/* Parses a whole string as one number; FALSE if anything is left over. */
gboolean gst_bidi_parse_number_string (const gchar * text, gdouble * value);

/* The first spoken arithmetic expression in @text (normalised or not):
 * "what is twenty five times forty eight" -> expression "25 * 48",
 * spoken "twenty five times forty eight". NULL if there is none (a lone
 * number is not an expression). */
gboolean gst_bidi_parse_expression (const gchar * text, gchar ** expression,
    gchar ** spoken);

/* 1200 -> "one thousand two hundred", -7 -> "minus seven",
 * 3.5 -> "three point five". Values that do not fit in words (or are not
 * finite) are given in digits. */
gchar *gst_bidi_number_to_words (gdouble value);

/* Formats a result for speech: exact values in words, others rounded to 3
 * decimals with "about" in front. */
gchar *gst_bidi_result_to_words (gdouble value);

/* The answer to say for @intent once its tool answered: @result_json is
 * the tool's result, @success its status. */
gchar *gst_bidi_intent_answer (const GstBidiIntent * intent,
    const gchar * result_json, gboolean success);

/* The answer when the tool the intent needs is not available, or for
 * GST_BIDI_INTENT_OTHER: one short sentence saying what it can do. */
gchar *gst_bidi_intent_answer_without_tool (const GstBidiIntent * intent,
    const GstBidiIntentTools * tools);

/* The tool an intent needs, or NULL */
const gchar *gst_bidi_intent_tool (const GstBidiIntent * intent);
/* The tool's input as JSON text */
gchar *gst_bidi_intent_tool_input (const GstBidiIntent * intent);

/* Names in a JSON array of {name, ...}; NULL or bad JSON = no tools. */
void gst_bidi_intent_tools_from_json (const gchar * tools_json,
    GstBidiIntentTools * tools);

/* TRUE when @text is a whole request the responder answers, which does
 * not end on a word people go on from ("seven times one hundred" may be
 * "... hundred and five"; "what time is"): the listener's early end of
 * turn. */
gboolean gst_bidi_intent_request_complete (const gchar * text);

/* A JSGF grammar of the requests the responder answers (time, date,
 * arithmetic, goodbye), for the recogniser's bias toward them */
const gchar *gst_bidi_intent_grammar (void);

/* Words in @text (for usage counted in words). */
guint gst_bidi_count_words (const gchar * text);

G_END_DECLS

#endif /* __GST_BIDI_INTENTS_H__ */
