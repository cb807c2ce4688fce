/* gst-bidi: a throwaway TLS certificate for 127.0.0.1, for tests
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include "testcert.h"

/* g_error, not fail_unless: the benchmarks make certificates too, outside
 * any check test, where check's assertions have nothing to report to */
#define REQUIRE(cond, ...) G_STMT_START { \
  if (!(cond)) \
    g_error (__VA_ARGS__); \
} G_STMT_END

void
test_cert_init (TestCert * tc)
{
  const gchar *argv[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048",
    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
    "subjectAltName=IP:127.0.0.1", "-keyout", NULL, "-out", NULL, NULL
  };
  gchar *cert = NULL, *key = NULL, *both, *err_out = NULL;
  GError *err = NULL;
  gint status = -1;

  tc->dir = g_dir_make_tmp ("bidicert-XXXXXX", &err);
  REQUIRE (tc->dir != NULL, "%s", err ? err->message : "");
  tc->key = g_build_filename (tc->dir, "key.pem", NULL);
  tc->cert = g_build_filename (tc->dir, "cert.pem", NULL);
  tc->pem = g_build_filename (tc->dir, "server.pem", NULL);
  argv[13] = tc->key;
  argv[15] = tc->cert;

  /* openssl is in tests/debian-packages.txt: no certificate is a failure */
  REQUIRE (g_spawn_sync (NULL, (gchar **) argv, NULL,
          G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
          &err_out, &status, &err), "cannot run openssl: %s", err ?
      err->message : "");
  REQUIRE (g_spawn_check_wait_status (status, NULL), "openssl failed: %s",
      err_out);
  REQUIRE (g_file_get_contents (tc->cert, &cert, NULL, NULL),
      "cannot read %s", tc->cert);
  REQUIRE (g_file_get_contents (tc->key, &key, NULL, NULL),
      "cannot read %s", tc->key);
  both = g_strconcat (cert, key, NULL);
  REQUIRE (g_file_set_contents (tc->pem, both, -1, NULL), "cannot write %s",
      tc->pem);
  g_free (both);
  g_free (cert);
  g_free (key);
  g_free (err_out);
}

void
test_cert_clear (TestCert * tc)
{
  if (tc->key)
    g_unlink (tc->key);
  if (tc->cert)
    g_unlink (tc->cert);
  if (tc->pem)
    g_unlink (tc->pem);
  if (tc->dir)
    g_rmdir (tc->dir);
  g_clear_pointer (&tc->key, g_free);
  g_clear_pointer (&tc->cert, g_free);
  g_clear_pointer (&tc->pem, g_free);
  g_clear_pointer (&tc->dir, g_free);
}
