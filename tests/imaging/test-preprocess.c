/* Preprocessing and the letterbox way back, against NumPy float64
 * references (tests/data/imaging/make-preprocess-fixtures.py, whose CASES
 * list the same parameters in the same order). */
#include "preprocess.h"
#include "npy.h"
#include "error.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>

/* A fixture of tests/data/imaging. */
static tl_tensor *
load_npy (const char *name)
{
  g_autofree char *rel = g_build_filename ("imaging", name, NULL);
  return tl_test_npy (rel);
}

static tl_image *
image_from_npy (const char *name)
{
  g_autoptr (tl_tensor) t = load_npy (name);
  tl_image *img = tl_image_new ((int) t->shape[1], (int) t->shape[0], (int) t->shape[2], NULL);
  memcpy (img->data, t->data, tl_tensor_numel (t) * sizeof (float));
  return img;
}

typedef struct {
  int                  img_channels;
  tl_preprocess_params p;
  int                  gx0, gy0, gw, gh;
} pcase;

static pcase
make_case (int i)
{
  tl_preprocess_params p = tl_preprocess_default_params ();
  pcase c = { 0 };
  switch (i)
    {
    case 0:
      c.img_channels = 3;
      p.width = 8, p.height = 6, p.channels = 3, p.resize_mode = TL_RESAMPLE_HALF_PIXEL;
      p.scale = 1;
      memcpy (p.mean, (float[3]) { 0.485f, 0.456f, 0.406f }, sizeof p.mean);
      memcpy (p.std, (float[3]) { 0.229f, 0.224f, 0.225f }, sizeof p.std);
      c.gx0 = 0, c.gy0 = 0, c.gw = 8, c.gh = 6;
      break;
    case 1:
      c.img_channels = 3;
      p.width = 12, p.height = 10, p.channels = 1, p.resize_mode = TL_RESAMPLE_TF_LEGACY;
      p.scale = 255;
      memcpy (p.gray_weights, (float[3]) { 0.2989f, 0.5870f, 0.1140f }, sizeof p.mean);
      c.gx0 = 0, c.gy0 = 0, c.gw = 12, c.gh = 10;
      break;
    case 2:
      c.img_channels = 4;
      p.width = 10, p.height = 10, p.channels = 3, p.resize_mode = TL_RESAMPLE_AREA;
      p.scale = 255;
      memcpy (p.mean, (float[3]) { 103.939f, 116.779f, 123.68f }, sizeof p.mean);
      p.bgr = true, p.letterbox = true, p.letterbox_fill = 0.5f;
      c.gx0 = 0, c.gy0 = 1, c.gw = 10, c.gh = 7;
      break;
    case 3:
      c.img_channels = 1;
      p.width = 9, p.height = 16, p.channels = 3, p.resize_mode = TL_RESAMPLE_HALF_PIXEL;
      p.scale = 2;
      memcpy (p.mean, (float[3]) { 1, 1, 1 }, sizeof p.mean);
      memcpy (p.std, (float[3]) { 0.5f, 0.25f, 2 }, sizeof p.std);
      p.letterbox = true, p.letterbox_fill = 0.25f;
      c.gx0 = 0, c.gy0 = 4, c.gw = 9, c.gh = 7;
      break;
    default:
      c.img_channels = 1;
      p.width = 30, p.height = 40, p.channels = 1, p.resize_mode = TL_RESAMPLE_AREA;
      p.scale = 1;
      memcpy (p.mean, (float[3]) { 0.5f, 0, 0 }, sizeof p.mean);
      memcpy (p.std, (float[3]) { 0.5f, 1, 1 }, sizeof p.std);
      c.gx0 = 0, c.gy0 = 0, c.gw = 30, c.gh = 40;
      break;
    }
  c.p = p;
  return c;
}

/* values reach 255 / 1 = 255 in magnitude: compare relative to scale */
static void
test_cases (void)
{
  for (int i = 0; i < 5; i++)
    {
      pcase c = make_case (i);
      g_autofree char *in_name = g_strdup_printf ("pre_img%d.npy", c.img_channels);
      g_autofree char *want_name = g_strdup_printf ("pre_case%d.npy", i);
      g_autoptr (tl_image) img = image_from_npy (in_name);
      g_autoptr (tl_tensor) want = load_npy (want_name);
      GError *e = NULL;
      tl_preprocess_geometry g;
      g_autoptr (tl_tensor) x = tl_preprocess (&c.p, img, &g, &e);
      g_assert_no_error (e);
      g_test_message ("case %d", i);
      g_assert_true (tl_tensor_same_shape (x, want));
      tl_assert_close (x->data, want->data, tl_tensor_numel (want), 2e-6 * c.p.scale + 1e-6);
      g_assert_cmpint (g.image_width, ==, 23);
      g_assert_cmpint (g.image_height, ==, 17);
      g_assert_cmpfloat (g.x0, ==, c.gx0);
      g_assert_cmpfloat (g.y0, ==, c.gy0);
      g_assert_cmpfloat (g.w, ==, c.gw);
      g_assert_cmpfloat (g.h, ==, c.gh);
    }
}

/* pixels + normalize is tl_preprocess; pixels are in [0,1] before it */
static void
test_split (void)
{
  for (int i = 0; i < 5; i++)
    {
      pcase c = make_case (i);
      g_autofree char *in_name = g_strdup_printf ("pre_img%d.npy", c.img_channels);
      g_autoptr (tl_image) img = image_from_npy (in_name);
      GError *e = NULL;
      g_autoptr (tl_tensor) whole = tl_preprocess (&c.p, img, NULL, &e);
      g_autoptr (tl_tensor) px = tl_preprocess_pixels (&c.p, img, NULL, &e);
      g_assert_no_error (e);
      int64_t n = tl_tensor_numel (px);
      for (int64_t k = 0; k < n; k++)
        g_assert_true (px->data[k] >= 0.0f && px->data[k] <= 1.0f);
      /* two copies normalised as a batch of 2 */
      g_autofree float *two = g_new (float, 2 * n);
      memcpy (two, px->data, n * sizeof (float));
      memcpy (two + n, px->data, n * sizeof (float));
      g_assert_true (tl_preprocess_normalize (&c.p, two, 2, &e));
      g_assert_no_error (e);
      g_assert_cmpmem (two, n * sizeof (float), whole->data, n * sizeof (float));
      g_assert_cmpmem (two + n, n * sizeof (float), whole->data, n * sizeof (float));
    }
}

static void
test_unmap (void)
{
  for (int i = 0; i < 5; i++)
    {
      pcase c = make_case (i);
      g_autofree char *map_name = g_strdup_printf ("pre_map%d.npy", i);
      g_autofree char *want_name = g_strdup_printf ("pre_unmap%d.npy", i);
      g_autoptr (tl_tensor) map = load_npy (map_name);
      g_autoptr (tl_tensor) want = load_npy (want_name);
      tl_preprocess_geometry g = tl_preprocess_geometry_for (&c.p, 23, 17);
      float out[23 * 17];
      GError *e = NULL;
      g_assert_true (tl_preprocess_unmap (&g, map->data, 5, 4, out, &e));
      g_assert_no_error (e);
      tl_assert_close (out, want->data, 23 * 17, 1e-6);
    }
}

/* the emotion model's card (models/emotion.json) on the astronaut face crop
 * against the input TF.js made for the models' reference outputs */
static void
test_emotion_vs_tfjs (void)
{
  g_autofree char *png = tl_test_data ("imaging/astronaut_face.png");
  GError *e = NULL;
  g_autoptr (tl_image) img = tl_image_load (png, &e);
  g_assert_no_error (e);
  tl_preprocess_params p = tl_preprocess_default_params ();
  p.width = 64, p.height = 64, p.channels = 1;
  p.resize_mode = TL_RESAMPLE_TF_LEGACY;
  p.scale = 255.0f * 0.00392156862745098f; /* card scale is on 0..255 pixels */
  p.mean[0] = 0.5f, p.std[0] = 0.5f;
  memcpy (p.gray_weights, (float[3]) { 0.2989f, 0.587f, 0.114f }, sizeof p.gray_weights);
  g_autoptr (tl_tensor) x = tl_preprocess (&p, img, NULL, &e);
  g_assert_no_error (e);
  g_autoptr (tl_tensor) want = load_npy ("emotion_input_tfjs.npy");
  g_assert_true (tl_tensor_same_shape (x, want));
  tl_assert_close (x->data, want->data, 64 * 64, 2e-6); /* agrees to 1e-6 */
}

/* a letterboxed 2:1 image in a square input: content rows centred */
static void
test_letterbox_geometry (void)
{
  tl_preprocess_params p = tl_preprocess_default_params ();
  p.width = 224, p.height = 224, p.letterbox = true;
  tl_preprocess_geometry g = tl_preprocess_geometry_for (&p, 4000, 2000);
  g_assert_cmpfloat (g.x0, ==, 0);
  g_assert_cmpfloat (g.w, ==, 224);
  g_assert_cmpfloat (g.h, ==, 112);
  g_assert_cmpfloat (g.y0, ==, 56);
  p.letterbox = false;
  g = tl_preprocess_geometry_for (&p, 4000, 2000);
  g_assert_cmpfloat (g.y0, ==, 0);
  g_assert_cmpfloat (g.h, ==, 224);
}

static void
test_errors (void)
{
  g_autoptr (tl_image) img = tl_image_new (4, 4, 3, NULL);
  memset (img->data, 0, 48 * sizeof (float));
  /* one bad field per case, and the word the message must contain */
  const char *needles[] = { "channels", "std[1]", "size", "finite" };
  for (size_t i = 0; i < G_N_ELEMENTS (needles); i++)
    {
      tl_preprocess_params p = tl_preprocess_default_params ();
      if (i == 0)
        p.channels = 2;
      else if (i == 1)
        p.std[1] = 0.0f;
      else if (i == 2)
        p.width = 0;
      else
        p.scale = INFINITY;
      GError *e = NULL;
      g_assert_null (tl_preprocess (&p, img, NULL, &e));
      g_assert_error (e, TL_ERROR, TL_ERROR_INVALID);
      if (!strstr (e->message, needles[i]))
        g_error ("'%s' lacks '%s'", e->message, needles[i]);
      g_clear_error (&e);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/preprocess/cases", test_cases);
  g_test_add_func ("/preprocess/split", test_split);
  g_test_add_func ("/preprocess/unmap", test_unmap);
  g_test_add_func ("/preprocess/emotion-vs-tfjs", test_emotion_vs_tfjs);
  g_test_add_func ("/preprocess/letterbox-geometry", test_letterbox_geometry);
  g_test_add_func ("/preprocess/errors", test_errors);
  return g_test_run ();
}
