/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

/* The built-in responder of the local provider: intents from a recognised
 * transcript, spoken numbers <-> values, and the words of the answers.
 *
 * Transcripts come from pocketsphinx, so they are lower case words that
 * may contain slips ("one is twenty five times forty eight" for "what
 * is ..."; "today the power of" for "two to the power of"). Matching is by
 * keywords and by the first well-formed arithmetic expression found
 * anywhere in the sentence, so surrounding words do not matter. Typed text
 * (send-text) goes through the same path; digits and + - * / ^ are
 * understood there too.
 *
 * Answers are written exactly as they are spoken, so that the assistant
 * transcript is what the user hears: arithmetic in words ("Twenty five
 * times forty eight is one thousand two hundred."), the time as the
 * current_time tool gives it ("It is 2:05 PM.", which flite reads "two oh
 * five P M"). */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <gst/bidi/gstbidijson.h>

#include "gstbidiintents.h"

static const gchar *const units[] = {
  "zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
  "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
  "sixteen", "seventeen", "eighteen", "nineteen", NULL
};

static const gchar *const tens[] = {
  "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
  "eighty", "ninety", NULL
};

static const struct
{
  const gchar *word;
  gdouble value;
} scales[] = {
  {"thousand", 1e3},
  {"million", 1e6},
  {"billion", 1e9},
  {"trillion", 1e12},
};

/* Recognition slips accepted where a number must follow an operator */
static const struct
{
  const gchar *word;
  gint value;
} slips[] = {
  {"won", 1}, {"to", 2}, {"too", 2}, {"tree", 3}, {"for", 4}, {"fore", 4},
  {"ate", 8}, {"oh", 0}, {"a", 8}, {"at", 8}, {"sex", 6},
};

typedef struct
{
  const gchar *words;           /* space separated */
  const gchar *op;              /* in the calculator's syntax */
  const gchar *spoken;          /* canonical words */
  gint postfix;                 /* 0, or the exponent of a postfix operator */
} Operator;

/* longest first where one is the prefix of another */
static const Operator operators[] = {
  {"raised to the power of", "^", "to the power of", 0},
  {"to the power of", "^", "to the power of", 0},
  {"to the power", "^", "to the power of", 0},
  {"raised to", "^", "to the power of", 0},
  {"multiplied by", "*", "times", 0},
  {"multiply by", "*", "times", 0},
  {"divided by", "/", "divided by", 0},
  {"divide by", "/", "divided by", 0},
  {"divided", "/", "divided by", 0},
  {"take away", "-", "minus", 0},
  {"times", "*", "times", 0},
  /* between two numbers, "time" is a slip of "times" */
  {"time", "*", "times", 0},
  {"plus", "+", "plus", 0},
  {"minus", "-", "minus", 0},
  {"over", "/", "divided by", 0},
  {"modulo", "%", "modulo", 0},
  {"mod", "%", "modulo", 0},
  {"squared", "^", "squared", 2},
  {"cubed", "^", "cubed", 3},
  {"square", "^", "squared", 2},
  {"cube", "^", "cubed", 3},
};

const gchar *
gst_bidi_intent_type_name (GstBidiIntentType type)
{
  switch (type) {
    case GST_BIDI_INTENT_TIME:
      return "time";
    case GST_BIDI_INTENT_DATE:
      return "date";
    case GST_BIDI_INTENT_CALCULATE:
      return "calculate";
    case GST_BIDI_INTENT_STOP:
      return "stop";
    case GST_BIDI_INTENT_OTHER:
    default:
      return "other";
  }
}

static gint
word_index (const gchar * const *list, const gchar * word)
{
  gint i;

  if (!word)
    return -1;
  for (i = 0; list[i]; i++)
    if (*list[i] && strcmp (list[i], word) == 0)
      return i;
  return -1;
}

static gboolean
is_digit_token (const gchar * t)
{
  const gchar *p = t;
  gboolean digits = FALSE, dot = FALSE;

  if (*p == '-')
    p++;
  for (; *p; p++) {
    if (g_ascii_isdigit (*p))
      digits = TRUE;
    else if (*p == '.' && !dot && digits && g_ascii_isdigit (p[1]))
      dot = TRUE;
    else
      return FALSE;
  }
  return digits;
}

gchar *
gst_bidi_intent_normalize (const gchar * text)
{
  GString *out = g_string_new (NULL);
  gchar *lower;
  const gchar *p;

  if (!text)
    return g_string_free (out, FALSE);

  lower = g_utf8_strdown (text, -1);
  for (p = lower; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);
    gboolean prev_digit = out->len > 0 &&
        g_ascii_isdigit (out->str[out->len - 1]);
    gboolean next_digit = g_ascii_isdigit (p[1]);

    if (c < 128 && (g_ascii_isalnum (c))) {
      g_string_append_c (out, (gchar) c);
    } else if (c == '\'' || c == 0x2019) {
      /* what's -> whats */
    } else if (c == '.' && prev_digit && next_digit) {
      g_string_append_c (out, '.');
    } else if (c == ',' && prev_digit && next_digit) {
      /* 1,200 */
    } else if (c == '-' && next_digit && !prev_digit &&
        (out->len == 0 || out->str[out->len - 1] == ' ')) {
      g_string_append_c (out, '-');
    } else if (c == '+') {
      g_string_append (out, " plus ");
    } else if (c == '-') {
      g_string_append (out, " minus ");
    } else if (c == '*' || c == 0xd7) {
      g_string_append (out, " times ");
    } else if (c == '/' || c == 0xf7) {
      g_string_append (out, " divided by ");
    } else if (c == '^') {
      g_string_append (out, " to the power of ");
    } else {
      g_string_append_c (out, ' ');
    }
  }
  g_free (lower);

  /* collapse spaces */
  {
    gchar **parts = g_strsplit (out->str, " ", -1), **q;
    GString *res = g_string_new (NULL);

    for (q = parts; *q; q++) {
      if (!**q)
        continue;
      if (res->len)
        g_string_append_c (res, ' ');
      g_string_append (res, *q);
    }
    g_strfreev (parts);
    g_string_free (out, TRUE);
    out = res;
  }

  /* a common slip: "two to the power of" heard as "today the power of" */
  {
    gchar *fixed = NULL;
    const gchar *hit = strstr (out->str, "today the power");

    if (hit && (hit == out->str || hit[-1] == ' ')) {
      fixed = g_strdup_printf ("%.*stwo to the power%s",
          (gint) (hit - out->str), out->str, hit + strlen ("today the power"));
      g_string_assign (out, fixed);
      g_free (fixed);
    }
  }
  return g_string_free (out, FALSE);
}

static gchar **
tokenize (const gchar * text)
{
  gchar *norm = gst_bidi_intent_normalize (text);
  gchar **tokens = *norm ? g_strsplit (norm, " ", -1) : g_new0 (gchar *, 1);

  g_free (norm);
  return tokens;
}

enum
{
  LAST_NONE,
  LAST_UNIT,                    /* 0..9 */
  LAST_TEEN,                    /* 10..19 */
  LAST_TENS,
  LAST_HUNDRED,
  LAST_SCALE,
};

static gboolean
is_scale_word (const gchar * t, gdouble * value)
{
  guint i;

  if (!t)
    return FALSE;
  for (i = 0; i < G_N_ELEMENTS (scales); i++) {
    if (strcmp (t, scales[i].word) == 0) {
      if (value)
        *value = scales[i].value;
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean
is_number_word (const gchar * t)
{
  return t && (word_index (units, t) >= 0 || word_index (tens, t) >= 0 ||
      strcmp (t, "hundred") == 0 || is_scale_word (t, NULL));
}

gboolean
gst_bidi_parse_number (gchar ** tokens, guint * pos, gdouble * value)
{
  guint i = *pos;
  gdouble total = 0, group = 0, scale_v;
  gint last = LAST_NONE, idx;
  gboolean seen = FALSE, negative = FALSE;

  if (!tokens[i])
    return FALSE;

  if (is_digit_token (tokens[i])) {
    *value = g_ascii_strtod (tokens[i], NULL);
    *pos = i + 1;
    return TRUE;
  }

  for (; tokens[i]; i++) {
    const gchar *t = tokens[i];

    if ((idx = word_index (units, t)) >= 0) {
      if (last == LAST_UNIT || last == LAST_TEEN)
        break;
      if (last == LAST_TENS && idx >= 10)
        break;
      if (last == LAST_TENS && idx == 0)
        break;
      group += idx;
      last = idx >= 10 ? LAST_TEEN : LAST_UNIT;
    } else if ((idx = word_index (tens, t)) >= 0) {
      if (last == LAST_UNIT || last == LAST_TEEN || last == LAST_TENS)
        break;
      group += idx * 10;
      last = LAST_TENS;
    } else if (strcmp (t, "hundred") == 0) {
      if (last == LAST_HUNDRED || (!seen && group == 0))
        break;
      if (group == 0)
        group = 1;
      if (group >= 100)
        break;
      group *= 100;
      last = LAST_HUNDRED;
    } else if (is_scale_word (t, &scale_v)) {
      if (!seen)
        break;
      if (group == 0 && last == LAST_SCALE)
        break;
      total += (group == 0 ? 1 : group) * scale_v;
      group = 0;
      last = LAST_SCALE;
    } else if (!seen && (strcmp (t, "a") == 0 || strcmp (t, "an") == 0) &&
        tokens[i + 1] && (strcmp (tokens[i + 1], "hundred") == 0 ||
            is_scale_word (tokens[i + 1], NULL))) {
      group = 1;
      last = LAST_UNIT;
      seen = TRUE;
      continue;
    } else if (!seen && (strcmp (t, "minus") == 0 ||
            strcmp (t, "negative") == 0) && is_number_word (tokens[i + 1])) {
      negative = TRUE;
      continue;
    } else if (seen && strcmp (t, "and") == 0 &&
        (last == LAST_HUNDRED || last == LAST_SCALE) && tokens[i + 1] &&
        (word_index (units, tokens[i + 1]) > 0 ||
            word_index (tens, tokens[i + 1]) >= 0)) {
      continue;
    } else if (seen && strcmp (t, "point") == 0 && tokens[i + 1] &&
        (idx = word_index (units, tokens[i + 1])) >= 0 && idx < 10) {
      gdouble frac = 0, scale = 0.1;

      for (i++; tokens[i]; i++) {
        idx = word_index (units, tokens[i]);
        if (idx < 0 && strcmp (tokens[i], "oh") == 0)
          idx = 0;
        if (idx < 0 || idx >= 10)
          break;
        frac += idx * scale;
        scale /= 10;
      }
      group += frac;
      seen = TRUE;
      break;
    } else {
      break;
    }
    seen = TRUE;
  }

  if (!seen)
    return FALSE;
  *value = (total + group) * (negative ? -1 : 1);
  *pos = i;
  return TRUE;
}

gboolean
gst_bidi_parse_number_string (const gchar * text, gdouble * value)
{
  gchar **tokens = tokenize (text);
  guint pos = 0;
  gboolean ok;

  ok = gst_bidi_parse_number (tokens, &pos, value) && tokens[pos] == NULL;
  g_strfreev (tokens);
  return ok;
}

/* An operand after an operator: a number, or a slip that stands for one */
static gboolean
parse_operand (gchar ** tokens, guint * pos, gboolean allow_slips,
    gdouble * value)
{
  guint i;

  if (gst_bidi_parse_number (tokens, pos, value))
    return TRUE;
  if (!allow_slips || !tokens[*pos])
    return FALSE;
  for (i = 0; i < G_N_ELEMENTS (slips); i++) {
    if (strcmp (tokens[*pos], slips[i].word) == 0) {
      *value = slips[i].value;
      (*pos)++;
      return TRUE;
    }
  }
  return FALSE;
}

static const Operator *
match_operator (gchar ** tokens, guint * pos)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (operators); i++) {
    gchar **words = g_strsplit (operators[i].words, " ", -1);
    guint k;
    gboolean ok = TRUE;

    for (k = 0; words[k]; k++) {
      if (!tokens[*pos + k] || strcmp (tokens[*pos + k], words[k]) != 0) {
        ok = FALSE;
        break;
      }
    }
    g_strfreev (words);
    if (ok) {
      *pos += k;
      return &operators[i];
    }
  }
  return NULL;
}

/* "what is to plus two": a slip for the first number, accepted only
 * where a request starts ("is" or nothing before it) and an operator
 * follows */
static gboolean
first_operand_slip (gchar ** tokens, guint * pos, gdouble * value)
{
  guint p = *pos;

  if (p > 0 && strcmp (tokens[p - 1], "is") != 0)
    return FALSE;
  if (!parse_operand (tokens, &p, TRUE, value))
    return FALSE;
  if (!match_operator (tokens, &p))
    return FALSE;
  (*pos)++;
  return TRUE;
}

/* A number in the calculator's syntax ("25", "3.5", "(-2)") */
static void
append_number (GString * s, gdouble v, gboolean parenthesize)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (fabs (v) < 1e15 && v == floor (v))
    g_snprintf (buf, sizeof (buf), "%.0f", v);
  else
    g_ascii_formatd (buf, sizeof (buf), "%.12g", v);
  if (parenthesize && v < 0)
    g_string_append_printf (s, "(%s)", buf);
  else
    g_string_append (s, buf);
}

gboolean
gst_bidi_parse_expression (const gchar * text, gchar ** expression,
    gchar ** spoken)
{
  gchar **tokens = tokenize (text);
  guint start, n = g_strv_length (tokens);
  gboolean found = FALSE;

  for (start = 0; start < n && !found; start++) {
    GString *expr, *words;
    guint pos = start, n_ops = 0;
    gdouble v;
    gchar *w;

    if (!parse_operand (tokens, &pos, FALSE, &v) &&
        !first_operand_slip (tokens, &pos, &v))
      continue;

    expr = g_string_new (NULL);
    words = g_string_new (NULL);
    append_number (expr, v, FALSE);
    w = gst_bidi_number_to_words (v);
    g_string_append (words, w);
    g_free (w);

    for (;;) {
      guint p = pos;
      const Operator *op = match_operator (tokens, &p);
      gdouble rhs;

      if (!op)
        break;
      if (op->postfix) {
        g_string_append_printf (expr, " %s %d", op->op, op->postfix);
        g_string_append_printf (words, " %s", op->spoken);
        pos = p;
        n_ops++;
        continue;
      }
      if (!parse_operand (tokens, &p, TRUE, &rhs))
        break;
      g_string_append_printf (expr, " %s ", op->op);
      append_number (expr, rhs, TRUE);
      w = gst_bidi_number_to_words (rhs);
      g_string_append_printf (words, " %s %s", op->spoken, w);
      g_free (w);
      pos = p;
      n_ops++;
    }

    if (n_ops > 0) {
      found = TRUE;
      if (expression)
        *expression = g_strdup (expr->str);
      if (spoken)
        *spoken = g_strdup (words->str);
    }
    g_string_free (expr, TRUE);
    g_string_free (words, TRUE);
  }
  g_strfreev (tokens);
  return found;
}

/* 0..999 */
static void
append_group_words (GString * s, guint v)
{
  if (v >= 100) {
    g_string_append_printf (s, "%s%s hundred", s->len ? " " : "",
        units[v / 100]);
    v %= 100;
  }
  if (v >= 20) {
    g_string_append_printf (s, "%s%s", s->len ? " " : "", tens[v / 10]);
    v %= 10;
    if (v)
      g_string_append_printf (s, " %s", units[v]);
  } else if (v > 0) {
    g_string_append_printf (s, "%s%s", s->len ? " " : "", units[v]);
  }
}

gchar *
gst_bidi_number_to_words (gdouble value)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  GString *s;
  const gchar *p, *dot;
  guint64 ip;
  gint i;

  if (!isfinite (value) || fabs (value) >= 1e15)
    return g_strdup (g_ascii_formatd (buf, sizeof (buf), "%.6g", value));

  g_ascii_formatd (buf, sizeof (buf), "%.10g", value);
  if (strchr (buf, 'e'))
    return g_strdup (buf);

  s = g_string_new (NULL);
  p = buf;
  if (*p == '-') {
    p++;
    if (strcmp (p, "0") != 0)
      g_string_append (s, "minus");
  }
  ip = g_ascii_strtoull (p, NULL, 10);
  if (ip == 0) {
    g_string_append_printf (s, "%szero", s->len ? " " : "");
  } else {
    guint groups[5];

    for (i = 0; i < 5; i++) {
      groups[i] = ip % 1000;
      ip /= 1000;
    }
    for (i = 4; i >= 0; i--) {
      if (!groups[i])
        continue;
      append_group_words (s, groups[i]);
      if (i > 0)
        g_string_append_printf (s, " %s", scales[i - 1].word);
    }
  }
  dot = strchr (p, '.');
  if (dot) {
    g_string_append (s, " point");
    for (dot++; g_ascii_isdigit (*dot); dot++)
      g_string_append_printf (s, " %s", units[*dot - '0']);
  }
  return g_string_free (s, FALSE);
}

gchar *
gst_bidi_result_to_words (gdouble value)
{
  gdouble rounded;
  gchar *words, *res;

  if (!isfinite (value))
    return g_strdup ("not a number");
  if (fabs (value) >= 1e15)
    return gst_bidi_number_to_words (value);
  if (fabs (value - round (value)) < 1e-9 * MAX (1.0, fabs (value)))
    return gst_bidi_number_to_words (round (value));

  rounded = round (value * 1000) / 1000;
  words = gst_bidi_number_to_words (rounded);
  if (fabs (rounded - value) < 1e-12 * MAX (1.0, fabs (value)))
    return words;
  res = g_strdup_printf ("about %s", words);
  g_free (words);
  return res;
}

static gboolean
has_token (gchar ** tokens, const gchar * word)
{
  return g_strv_contains ((const gchar * const *) tokens, word);
}

static gboolean
is_number_token (const gchar * t)
{
  return t && (is_digit_token (t) || is_number_word (t));
}

static gboolean
token_in (const gchar * t, const gchar * const *set)
{
  return t && g_strv_contains (set, t);
}

/* Words that may start a question after "what" */
static const gchar *const what_follows[] = {
  "is", "time", "day", "year", "month", "date", NULL
};

/* pocketsphinx's readings of "what" at the start of a request */
static const gchar *const what_slips[] = {
  "one", "won", "when", "once", "want", "while", NULL
};

/* Words that follow "what is" in the requests the responder knows */
static const gchar *const what_is_follows[] = {
  "the", "a", "it", "to", NULL
};

static const gchar *const by_slips[] = { "bye", "buy", NULL };
static const gchar *const by_verbs[] = {
  "divided", "divide", "multiplied", "multiply", NULL
};

gchar *
gst_bidi_intent_correct (const gchar * text)
{
  gchar *norm = gst_bidi_intent_normalize (text), *ret;
  gchar **t = g_strsplit (norm, " ", -1);
  guint n = g_strv_length (t), i;
  GString *out = g_string_new (NULL);

  g_free (norm);
  /* "one is seven times eight", "once the date": "what is"; "one time is
   * it": "what time is it" (a request starting with the number one goes
   * on with an operator, never with these words) */
  if (n >= 2 && token_in (t[0], what_slips)) {
    if (strcmp (t[0], "once") == 0 && (is_number_token (t[1]) ||
            token_in (t[1], what_is_follows))) {
      g_free (t[0]);
      t[0] = g_strdup ("what is");
    } else if (strcmp (t[0], "once") != 0 && token_in (t[1], what_follows) &&
        (strcmp (t[1], "is") != 0 || is_number_token (t[2]) ||
            token_in (t[2], what_is_follows))) {
      g_free (t[0]);
      t[0] = g_strdup ("what");
    }
  }
  for (i = 0; i < n; i++) {
    /* "seven divided bye two" is no goodbye */
    if (i > 0 && token_in (t[i], by_slips) && token_in (t[i - 1], by_verbs)) {
      g_free (t[i]);
      t[i] = g_strdup ("by");
    }
    /* "what day is a": the last word of "what day is it" */
    if (i + 1 == n && i > 0 && strcmp (t[i], "a") == 0 &&
        strcmp (t[i - 1], "is") == 0) {
      g_free (t[i]);
      t[i] = g_strdup ("it");
    }
    /* "good bye" */
    if (i + 1 < n && strcmp (t[i], "good") == 0 &&
        strcmp (t[i + 1], "bye") == 0) {
      g_free (t[i]);
      t[i] = g_strdup ("goodbye");
      g_free (t[i + 1]);
      t[i + 1] = g_strdup ("");
    }
  }
  for (i = 0; i < n; i++) {
    if (!*t[i])
      continue;
    if (out->len)
      g_string_append_c (out, ' ');
    g_string_append (out, t[i]);
  }
  g_strfreev (t);
  ret = g_string_free (out, FALSE);
  return ret;
}

static gboolean
is_stop_request (gchar ** tokens)
{
  guint i, k;

  for (i = 0; tokens[i]; i++) {
    const gchar *t = tokens[i];

    if (strcmp (t, "goodbye") == 0 || strcmp (t, "bye") == 0)
      return TRUE;
    if (strcmp (t, "stop") == 0 || strcmp (t, "end") == 0 ||
        strcmp (t, "finish") == 0 || strcmp (t, "quit") == 0) {
      for (k = 1; k <= 3 && tokens[i + k]; k++) {
        const gchar *u = tokens[i + k];
        if (strcmp (u, "conversation") == 0 || strcmp (u, "talking") == 0 ||
            strcmp (u, "chat") == 0 || strcmp (u, "session") == 0)
          return TRUE;
      }
    }
  }
  return FALSE;
}

GstBidiIntent *
gst_bidi_intent_classify (const gchar * text)
{
  GstBidiIntent *intent = g_new0 (GstBidiIntent, 1);
  gchar **tokens;

  intent->heard = gst_bidi_intent_correct (text);
  tokens = *intent->heard ? g_strsplit (intent->heard, " ", -1) :
      g_new0 (gchar *, 1);

  if (is_stop_request (tokens))
    intent->type = GST_BIDI_INTENT_STOP;
  else if (gst_bidi_parse_expression (intent->heard, &intent->expression,
          &intent->spoken))
    intent->type = GST_BIDI_INTENT_CALCULATE;
  else if (has_token (tokens, "time") || has_token (tokens, "clock"))
    intent->type = GST_BIDI_INTENT_TIME;
  else if (has_token (tokens, "date") || has_token (tokens, "day") ||
      has_token (tokens, "today") || has_token (tokens, "weekday") ||
      has_token (tokens, "month") || has_token (tokens, "year"))
    intent->type = GST_BIDI_INTENT_DATE;
  else
    intent->type = GST_BIDI_INTENT_OTHER;

  g_strfreev (tokens);
  return intent;
}

/* Words after which people go on: the rest of a number ("one hundred"
 * ... "and five"), or of a sentence. (Not the tens: "forty eight" is said
 * as one word, and most questions end on a number.) */
static const gchar *const open_endings[] = {
  "hundred", "thousand", "million", "point", "and", "is", "the", "of", "by",
  "to", "what", "plus", "minus", "times", "over", NULL
};

/* Fewer words than a time or date question has ("what day is it", "tell
 * me the time"): one of its words alone ("well today", heard for "what is
 * eight" before "plus eight") is too little to end the turn on, though
 * the responder takes it at the end of a turn. */
#define MIN_QUESTION_WORDS 3

gboolean
gst_bidi_intent_request_complete (const gchar * text)
{
  GstBidiIntent *intent = gst_bidi_intent_classify (text);
  const gchar *last = intent->heard ? strrchr (intent->heard, ' ') : NULL;
  gboolean complete;

  last = last ? last + 1 : intent->heard;
  complete = intent->type != GST_BIDI_INTENT_OTHER && last &&
      !token_in (last, open_endings);
  if (complete && (intent->type == GST_BIDI_INTENT_TIME ||
          intent->type == GST_BIDI_INTENT_DATE)) {
    gchar **words = g_strsplit (intent->heard, " ", -1);

    complete = g_strv_length (words) >= MIN_QUESTION_WORDS;
    g_strfreev (words);
  }
  gst_bidi_intent_free (intent);
  return complete;
}

/* What the responder answers, as pocketsphinx hears it: the same
 * questions as gst_bidi_intent_classify() knows, in the words people use
 * (and the tools' names: current time, calculator, stop conversation) */
static const gchar intent_grammar[] =
    "#JSGF V1.0;\n"
    "grammar bidiintents;\n"
    "public <request> = <time> | <date> | <calc> | <stop>;\n"
    "<time> = (what time is it | [what is | tell me] the [current] time |"
    " what is the time on the clock) [now | please];\n"
    "<date> = (what (day | year | month | date) is it | what day of the week"
    " is it | [what is | tell me] the (date | day | year | month) |"
    " what is today's date) [today | now | please];\n"
    "<calc> = [what is | what's | how much is | calculate | use the"
    " calculator] <expr>;\n"
    "<expr> = <number> (<op> <number> | squared | cubed)"
    " [<op> <number> | squared | cubed];\n"
    "<op> = plus | minus | times | multiplied by | divided by | over |"
    " [raised] to the power of | modulo;\n"
    "<digit> = one | two | three | four | five | six | seven | eight |"
    " nine;\n"
    "<teen> = ten | eleven | twelve | thirteen | fourteen | fifteen |"
    " sixteen | seventeen | eighteen | nineteen;\n"
    "<tens> = twenty | thirty | forty | fifty | sixty | seventy | eighty |"
    " ninety;\n"
    "<small> = zero | <digit> | <teen> | <tens> [<digit>];\n"
    "<group> = <small> | (<digit> | a) hundred [[and] <small>];\n"
    "<number> = [minus] (<group> [thousand [[and] <group>]] |"
    " a thousand [[and] <group>]) [point <digit> [<digit>]];\n"
    "<stop> = [ok | okay] (goodbye | bye | [please] (stop | end) [the |"
    " this] conversation [now] | stop conversation);\n";

const gchar *
gst_bidi_intent_grammar (void)
{
  return intent_grammar;
}

void
gst_bidi_intent_free (GstBidiIntent * intent)
{
  if (!intent)
    return;
  g_free (intent->expression);
  g_free (intent->spoken);
  g_free (intent->heard);
  g_free (intent);
}

const gchar *
gst_bidi_intent_tool (const GstBidiIntent * intent)
{
  switch (intent->type) {
    case GST_BIDI_INTENT_TIME:
    case GST_BIDI_INTENT_DATE:
      return "current_time";
    case GST_BIDI_INTENT_CALCULATE:
      return "calculator";
    case GST_BIDI_INTENT_STOP:
      return "stop_conversation";
    case GST_BIDI_INTENT_OTHER:
    default:
      return NULL;
  }
}

gchar *
gst_bidi_intent_tool_input (const GstBidiIntent * intent)
{
  JsonBuilder *b;
  JsonNode *root;
  gchar *json;

  if (intent->type != GST_BIDI_INTENT_CALCULATE || !intent->expression)
    return g_strdup ("{}");

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "expression");
  json_builder_add_string_value (b, intent->expression);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json = gst_bidi_json_to_string (root);
  json_node_unref (root);
  g_object_unref (b);
  return json;
}

static gchar *
capitalize (gchar * s)
{
  if (s && *s)
    s[0] = g_ascii_toupper (s[0]);
  return s;
}

/* Member @name of the object in @json as a string (numbers formatted), or
 * NULL. */
static gchar *
json_member_string (const gchar * json, const gchar * name,
    gdouble * number, gboolean * is_number)
{
  JsonNode *root = gst_bidi_json_parse (json, NULL), *member;
  gchar *res = NULL;

  if (is_number)
    *is_number = FALSE;
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    goto out;
  member = json_object_get_member (json_node_get_object (root), name);
  if (!member || !JSON_NODE_HOLDS_VALUE (member))
    goto out;
  switch (json_node_get_value_type (member)) {
    case G_TYPE_STRING:
      res = g_strdup (json_node_get_string (member));
      break;
    case G_TYPE_INT64:
    case G_TYPE_DOUBLE:
    case G_TYPE_BOOLEAN:{
      gdouble v = json_node_get_value_type (member) == G_TYPE_BOOLEAN ?
          json_node_get_boolean (member) : json_node_get_double (member);
      gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

      if (json_node_get_value_type (member) == G_TYPE_INT64)
        v = (gdouble) json_node_get_int (member);
      if (number)
        *number = v;
      if (is_number)
        *is_number = TRUE;
      res = g_strdup (g_ascii_dtostr (buf, sizeof (buf), v));
      break;
    }
    default:
      break;
  }
out:
  if (root)
    json_node_unref (root);
  return res;
}

/* The error message of a failed tool result, for speech */
static gchar *
error_text (const gchar * result_json)
{
  gchar *err = json_member_string (result_json, "error", NULL, NULL);

  if (!err || !*err) {
    g_free (err);
    return g_strdup ("the tool failed");
  }
  return err;
}

gchar *
gst_bidi_intent_answer (const GstBidiIntent * intent,
    const gchar * result_json, gboolean success)
{
  gchar *res = NULL, *v = NULL, *err;
  const gchar *what;

  if (!success) {
    switch (intent->type) {
      case GST_BIDI_INTENT_TIME:
        what = "tell the time";
        break;
      case GST_BIDI_INTENT_DATE:
        what = "tell the date";
        break;
      case GST_BIDI_INTENT_CALCULATE:
        what = "work that out";
        break;
      case GST_BIDI_INTENT_STOP:
        what = "end the conversation";
        break;
      default:
        what = "do that";
        break;
    }
    err = error_text (result_json);
    res = g_strdup_printf ("Sorry, I could not %s: %s.", what, err);
    g_free (err);
    return res;
  }

  switch (intent->type) {
    case GST_BIDI_INTENT_TIME:
      v = json_member_string (result_json, "time_12h", NULL, NULL);
      if (!v)
        v = json_member_string (result_json, "time", NULL, NULL);
      res = v ? g_strdup_printf ("It is %s.", v) :
          g_strdup ("Sorry, the clock gave no time.");
      break;
    case GST_BIDI_INTENT_DATE:
      v = json_member_string (result_json, "date", NULL, NULL);
      res = v ? g_strdup_printf ("Today is %s.", v) :
          g_strdup ("Sorry, the clock gave no date.");
      break;
    case GST_BIDI_INTENT_CALCULATE:{
      gdouble number = 0;
      gboolean is_number;

      v = json_member_string (result_json, "result", &number, &is_number);
      if (v && is_number) {
        gchar *words = gst_bidi_result_to_words (number);
        res = capitalize (g_strdup_printf ("%s is %s.",
                intent->spoken ? intent->spoken : "That", words));
        g_free (words);
      } else if (v) {
        res = capitalize (g_strdup_printf ("%s is %s.",
                intent->spoken ? intent->spoken : "That", v));
      } else {
        res = g_strdup ("Sorry, the calculator gave no result.");
      }
      break;
    }
    case GST_BIDI_INTENT_STOP:
      res = g_strdup ("Goodbye.");
      break;
    case GST_BIDI_INTENT_OTHER:
    default:
      res = g_strdup ("Done.");
      break;
  }
  g_free (v);
  return res;
}

/* Every answer here is one short sentence (under two seconds spoken by
 * flite): a long refusal read out, word by word, is worse than none. What
 * was heard is in the user's transcript already. */
gchar *
gst_bidi_intent_answer_without_tool (const GstBidiIntent * intent,
    const GstBidiIntentTools * tools)
{
  switch (intent->type) {
    case GST_BIDI_INTENT_TIME:
    case GST_BIDI_INTENT_DATE:
      return g_strdup ("Sorry, no clock here.");
    case GST_BIDI_INTENT_CALCULATE:
      return g_strdup ("Sorry, no calculator here.");
    case GST_BIDI_INTENT_STOP:
      return g_strdup ("Sorry, I cannot hang up.");
    case GST_BIDI_INTENT_OTHER:
    default:
      break;
  }

  if (!intent->heard || !*intent->heard)
    return g_strdup ("Sorry, I did not catch that.");
  if (tools->current_time && tools->calculator)
    return g_strdup ("I only know time, date and sums.");
  if (tools->current_time)
    return g_strdup ("I only know the time and date.");
  if (tools->calculator)
    return g_strdup ("I only know sums.");
  return g_strdup ("Sorry, I cannot answer that.");
}

void
gst_bidi_intent_tools_from_json (const gchar * tools_json,
    GstBidiIntentTools * tools)
{
  JsonNode *root;
  JsonArray *arr;
  guint i;

  memset (tools, 0, sizeof (*tools));
  root = gst_bidi_json_parse (tools_json, NULL);
  if (!root || !JSON_NODE_HOLDS_ARRAY (root))
    goto out;
  arr = json_node_get_array (root);
  for (i = 0; i < json_array_get_length (arr); i++) {
    JsonNode *n = json_array_get_element (arr, i);
    const gchar *name;

    if (!JSON_NODE_HOLDS_OBJECT (n))
      continue;
    name = gst_bidi_json_get_string (json_node_get_object (n), "name");
    if (g_strcmp0 (name, "current_time") == 0)
      tools->current_time = TRUE;
    else if (g_strcmp0 (name, "calculator") == 0)
      tools->calculator = TRUE;
    else if (g_strcmp0 (name, "stop_conversation") == 0)
      tools->stop_conversation = TRUE;
  }
out:
  if (root)
    json_node_unref (root);
}

guint
gst_bidi_count_words (const gchar * text)
{
  guint n = 0;
  gboolean in_word = FALSE;
  const gchar *p;

  if (!text)
    return 0;
  for (p = text; *p; p++) {
    gboolean w = g_ascii_isalnum (*p) || (*p & 0x80);
    if (w && !in_word)
      n++;
    in_word = w;
  }
  return n;
}
