/* gst-bidi
 * Copyright (C) 2026 gst-bidi developers
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2 of the License, or (at your option) any later version.
 */

#ifndef __GST_BIDI_PRELUDE_H__
#define __GST_BIDI_PRELUDE_H__

/* GST_BIDI_API marks what libgstbidi exports. The library is built with
 * -fvisibility=hidden and BUILDING_GST_BIDI; everything else (the plugin,
 * providers, tests) sees plain declarations. */
#ifndef GST_BIDI_API
# ifdef BUILDING_GST_BIDI
#  define GST_BIDI_API __attribute__((visibility ("default"))) extern
# else
#  define GST_BIDI_API extern
# endif
#endif

#endif /* __GST_BIDI_PRELUDE_H__ */
