/* gst-bidi: where AWS credentials and the region come from
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_AWS_CREDS_H__
#define __GST_BIDI_AWS_CREDS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct
{
  gchar *access_key_id;
  gchar *secret_access_key;     /* wiped when freed */
  gchar *session_token;         /* wiped when freed; NULL: long-term keys */
  gchar *region;                /* NULL when found nowhere */
  /* where the keys came from, for logs ("properties", "environment",
   * "profile \"dev\" of /home/u/.aws/credentials"); never a value */
  gchar *source;
} GstBidiAwsCredentials;

/* The first of, in order (an empty string counts as unset):
 *  1. @access_key and @secret_key (with @session_token), the element's
 *     properties; one without the other is an error;
 *  2. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN);
 *  3. the profile AWS_PROFILE (else "default") of the shared credentials
 *     file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials, section
 *     [name]), else of the config file (AWS_CONFIG_FILE, else
 *     ~/.aws/config, section [profile name] or [default]).
 * The region: @region, else AWS_REGION, else AWS_DEFAULT_REGION, else the
 * profile's region in the config file. The home directory is $HOME, else
 * GLib's. NULL with a GST_RESOURCE_ERROR_NOT_AUTHORIZED @error that says
 * where it looked (never a value) when no keys were found. */
GstBidiAwsCredentials *gst_bidi_aws_credentials_resolve (const gchar *
    access_key, const gchar * secret_key, const gchar * session_token,
    const gchar * region, GError ** error);

void gst_bidi_aws_credentials_free (GstBidiAwsCredentials * creds);

G_END_DECLS

#endif /* __GST_BIDI_AWS_CREDS_H__ */
