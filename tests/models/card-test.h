/* The bundled card models/NAME.json, loaded or the test fails: shared by
 * the tests that check shipped models against what their cards say. */
#pragma once
#include "card.h"

#include <glib.h>

static inline tl_card *
tl_test_card (const char *name)
{
  const char *root = g_getenv ("TL_SOURCE_ROOT");
  g_autofree char *f = g_strconcat (name, ".json", NULL);
  g_autofree char *p = g_build_filename (root ? root : ".", "models", f, NULL);
  GError *e = NULL;
  tl_card *k = tl_card_load (p, &e);
  g_assert_no_error (e);
  return k;
}
