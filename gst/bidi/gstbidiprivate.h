/* gst-bidi: what the files of libgstbidi share (not installed)
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_PRIVATE_H__
#define __GST_BIDI_PRIVATE_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* Sets @error (nullable) in GST_STREAM_ERROR_DECODE, as every parser of
 * untrusted input reports */
G_GNUC_INTERNAL
void gst_bidi_set_decode_error (GError ** error, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);

G_END_DECLS

#endif /* __GST_BIDI_PRIVATE_H__ */
