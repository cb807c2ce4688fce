/* gst-bidi: a throwaway TLS certificate for 127.0.0.1, for tests
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __TEST_CERT_H__
#define __TEST_CERT_H__

#include <glib.h>

G_BEGIN_DECLS

/* A self-signed certificate for 127.0.0.1 made with openssl in a new
 * temporary folder: @cert is the certificate alone (what a client trusts
 * with ssl-ca-file), @pem the certificate and its key (what a mock server
 * serves). Fails the test when openssl cannot make one. */
typedef struct
{
  gchar *dir;
  gchar *key;
  gchar *cert;
  gchar *pem;
} TestCert;

void test_cert_init (TestCert * tc);
/* Removes the files and frees the paths */
void test_cert_clear (TestCert * tc);

G_END_DECLS

#endif /* __TEST_CERT_H__ */
