/* Colour-map lookup: the tables live in colormap-data.c (generated from
 * matplotlib); here are the names and the interpolating lookup. */
#include "colormap.h"
#include "error.h"

#include <math.h>
#include <string.h>

extern const float tl_colormap_data[TL_COLORMAP_N][TL_COLORMAP_SIZE][3];

static const char *const names[TL_COLORMAP_N] = {
  "turbo", "jet", "viridis", "inferno", "magma", "gray",
};

const char *
tl_colormap_name (tl_colormap map)
{
  if ((int) map < 0 || map >= TL_COLORMAP_N)
    return "unknown";
  return names[map];
}

bool
tl_colormap_from_name (const char *name, tl_colormap *map, GError **error)
{
  for (int i = 0; name && i < TL_COLORMAP_N; i++)
    if (strcmp (name, names[i]) == 0)
      {
        *map = (tl_colormap) i;
        return true;
      }
  g_set_error (error, TL_ERROR, TL_ERROR_INVALID,
               "colormap '%s' is unknown (use turbo, jet, viridis, inferno, magma or gray)",
               name ? name : "(null)");
  return false;
}

const float *
tl_colormap_table (tl_colormap map)
{
  g_return_val_if_fail ((int) map >= 0 && map < TL_COLORMAP_N, NULL);
  return &tl_colormap_data[map][0][0];
}

void
tl_colormap_lookup (tl_colormap map, float v, float rgb[3])
{
  g_return_if_fail ((int) map >= 0 && map < TL_COLORMAP_N);
  if (!(v > 0.0f)) /* also NaN */
    v = 0.0f;
  if (v > 1.0f)
    v = 1.0f;
  float pos = v * (TL_COLORMAP_SIZE - 1);
  int i0 = (int) pos;
  if (i0 > TL_COLORMAP_SIZE - 2)
    i0 = TL_COLORMAP_SIZE - 2;
  float f = pos - (float) i0;
  const float *a = tl_colormap_data[map][i0], *b = tl_colormap_data[map][i0 + 1];
  for (int c = 0; c < 3; c++)
    rgb[c] = a[c] + f * (b[c] - a[c]);
}
