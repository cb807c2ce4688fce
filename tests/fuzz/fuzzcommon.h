/* gst-bidi: what every libFuzzer target of tests/fuzz shares
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __BIDI_FUZZ_COMMON_H__
#define __BIDI_FUZZ_COMMON_H__

#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* dl_iterate_phdr */
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <link.h>
#include <sanitizer/allocator_interface.h>
#include <sanitizer/lsan_interface.h>

#include <gst/gst.h>

/* libFuzzer's entry points */
int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

/* Set while GStreamer's own parsers read the input: GStreamer 1.22's
 * gst_structure_from_string() complains of a bad structure name with a
 * critical of its own before it fails, which is not our code's fault. */
static gboolean bidi_fuzz_in_gst_parser;

/* A GLib critical is a broken precondition in our code or a misuse of
 * GLib: the fuzzer must see it as a crash, not a line in its log. */
static void
bidi_fuzz_log_handler (const gchar * domain, GLogLevelFlags level,
    const gchar * message, G_GNUC_UNUSED gpointer user_data)
{
  if (!(level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)))
    return;
  if (bidi_fuzz_in_gst_parser && g_strcmp0 (domain, "GStreamer") == 0)
    return;
  g_printerr ("%s-CRITICAL: %s\n", domain ? domain : "", message);
  abort ();
}

/* GLib keeps its quarks (the interned strings every GstStructure name and
 * field name becomes) in one array that it replaces by a larger copy every
 * 2048 quarks, dropping the old one on purpose (lock-free readers may still
 * hold it). That is not our leak: the arrays GLib dropped are kept here,
 * reachable, so that LeakSanitizer reports only real leaks. */
static gchar ***bidi_fuzz_quarks_var;     /* GLib's static array pointer */
static GPtrArray *bidi_fuzz_old_quarks;

/* A word of GLib's data that points to its quark array: a heap block whose
 * entries are the strings g_quark_to_string() gives */
static gboolean
bidi_fuzz_is_quark_array (gpointer word)
{
  gchar **array = word;
  guint q;

  if (!word || ((guintptr) word & 7) || !__sanitizer_get_ownership (word) ||
      __sanitizer_get_allocated_size (word) < 4 * sizeof (gchar *))
    return FALSE;
  for (q = 1; q < 4; q++)
    if (array[q] != g_quark_to_string (q))
      return FALSE;
  return TRUE;
}

static int
bidi_fuzz_find_quarks (struct dl_phdr_info *info, G_GNUC_UNUSED size_t size,
    G_GNUC_UNUSED void *data)
{
  guint i;

  if (!strstr (info->dlpi_name, "libglib-2.0.so"))
    return 0;
  for (i = 0; i < info->dlpi_phnum; i++) {
    const ElfW (Phdr) * ph = &info->dlpi_phdr[i];
    gpointer *word, *end;

    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
      continue;
    word = (gpointer *) (info->dlpi_addr + ph->p_vaddr);
    end = (gpointer *) (info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
    for (; word + 1 <= end; word++) {
      if (bidi_fuzz_is_quark_array (*word)) {
        bidi_fuzz_quarks_var = (gchar ***) word;
        return 1;
      }
    }
  }
  return 0;
}

/* After each input (and before LeakSanitizer looks) */
static inline void
bidi_fuzz_keep_quarks (void)
{
  gchar **now;

  if (!bidi_fuzz_quarks_var)
    return;
  now = *bidi_fuzz_quarks_var;
  if (bidi_fuzz_old_quarks->len == 0 ||
      g_ptr_array_index (bidi_fuzz_old_quarks,
          bidi_fuzz_old_quarks->len - 1) != now)
    g_ptr_array_add (bidi_fuzz_old_quarks, now);
}

static inline void
bidi_fuzz_init (void)
{
  g_log_set_default_handler (bidi_fuzz_log_handler, NULL);
  /* before gst_init makes the quarks that drop GLib's first array */
  g_quark_from_static_string ("bidi-fuzz");
  bidi_fuzz_old_quarks = g_ptr_array_new ();
  dl_iterate_phdr (bidi_fuzz_find_quarks, NULL);
  if (!bidi_fuzz_quarks_var)
    g_printerr ("GLib's quark array was not found: leaks may be GLib's\n");
  bidi_fuzz_keep_quarks ();
  gst_init (NULL, NULL);
  bidi_fuzz_keep_quarks ();
  /* our warnings about bad input are expected by the million: not printed */
  gst_debug_set_default_threshold (GST_LEVEL_NONE);
  gst_debug_set_active (FALSE);
}

/* GStreamer 1.22's structure parser takes exponential time on nested
 * brackets ("a,b=[c,d=[e,f=[..." of 30 brackets runs for minutes, in
 * GStreamer alone): texts with more are not given to it, as no
 * provider-config of ours nests that deep. */
#define BIDI_FUZZ_MAX_BRACKETS 8

/* gst_structure_from_string() of untrusted text */
static inline GstStructure *
bidi_fuzz_structure_from_string (const gchar * text)
{
  GstStructure *s;
  guint brackets = 0;
  const gchar *p;

  for (p = text; *p; p++)
    if (*p == '[' || *p == '{' || *p == '<')
      brackets++;
  if (brackets > BIDI_FUZZ_MAX_BRACKETS)
    return NULL;

  /* GStreamer 1.22's parser leaks a GValue's data on some errors: what it
   * allocates is not ours to check (the structure it returns is freed by
   * the caller) */
  __lsan_disable ();
  bidi_fuzz_in_gst_parser = TRUE;
  s = gst_structure_from_string (text, NULL);
  bidi_fuzz_in_gst_parser = FALSE;
  __lsan_enable ();
  return s;
}

/* The input as a NUL-terminated string (the APIs that take C strings),
 * freed by the caller */
static inline gchar *
bidi_fuzz_string (const uint8_t * data, size_t size)
{
  return g_strndup ((const gchar *) data, size);
}

/* Stops the run when an invariant our code promises does not hold */
#define BIDI_FUZZ_ASSERT(cond) \
  G_STMT_START { \
    if (G_UNLIKELY (!(cond))) { \
      g_printerr ("%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
          #cond); \
      abort (); \
    } \
  } G_STMT_END

/* What each target defines: one input */
static int bidi_fuzz_one (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  int ret = bidi_fuzz_one (data, size);

  bidi_fuzz_keep_quarks ();
  return ret;
}

#endif /* __BIDI_FUZZ_COMMON_H__ */
