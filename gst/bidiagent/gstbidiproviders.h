/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_PROVIDERS_H__
#define __GST_BIDI_PROVIDERS_H__

#include <glib.h>

G_BEGIN_DECLS

/* Registers every provider built into the plugin (generated from the
 * ext/<name>/meson.build files, see gstbidiproviders.c.in) */
G_GNUC_INTERNAL
void gst_bidi_agent_register_providers (void);

G_END_DECLS

#endif /* __GST_BIDI_PROVIDERS_H__ */
