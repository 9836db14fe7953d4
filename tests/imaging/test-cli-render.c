/* `tensorlens render` end to end: the PNG it writes against NumPy
 * references (tests/data/imaging/make-render-fixtures.py), allowing for
 * the 8-bit quantisation of the output; and its error messages. */
#include "image.h"
#include "npy.h"
#include "error.h"
#include "tl-test.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

static char *tmpdir;

/* runs tensorlens with args (NULL-terminated); returns the exit status */
static int
run_cli (char **err_out, const char *first, ...)
{
  const char *root = g_getenv ("TL_BUILD_ROOT");
  g_autofree char *exe = g_build_filename (root ? root : ".", "src", "cli", "tensorlens", NULL);
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, exe);
  g_ptr_array_add (argv, (char *) "render");
  va_list ap;
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  int status = -1;
  GError *e = NULL;
  g_autofree char *out = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, err_out, &status, &e));
  g_assert_no_error (e);
  g_ptr_array_free (argv, TRUE);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static char *
data (const char *name)
{
  g_autofree char *rel = g_build_filename ("imaging", name, NULL);
  return tl_test_data (rel);
}

static void
check_output (const char *png, const char *npy)
{
  GError *e = NULL;
  g_autoptr (tl_image) got = tl_image_load (png, &e);
  g_assert_no_error (e);
  g_autofree char *np = data (npy);
  g_autoptr (tl_tensor) want = tl_npy_load (np, &e);
  g_assert_no_error (e);
  g_assert_cmpint (got->height, ==, want->shape[0]);
  g_assert_cmpint (got->width, ==, want->shape[1]);
  g_assert_cmpint (got->channels, ==, want->shape[2]);
  tl_assert_close (got->data, want->data, tl_tensor_numel (want), 0.5 / 255 + 1e-5);
}

static void
test_modes (void)
{
  g_autofree char *img = data ("render_img.png");
  g_autofree char *rgba = data ("render_img_rgba.png");
  g_autofree char *map = data ("render_map.npy");
  g_autofree char *o1 = g_build_filename (tmpdir, "overlay.png", NULL);
  g_autofree char *o2 = g_build_filename (tmpdir, "heat.png", NULL);
  g_autofree char *o3 = g_build_filename (tmpdir, "masked.png", NULL);
  g_autofree char *o4 = g_build_filename (tmpdir, "map.png", NULL);

  g_assert_cmpint (run_cli (NULL, "--image", img, "--map", map, "--output", o1, "--opacity",
                            "0.3", NULL), ==, 0);
  check_output (o1, "render_overlay.npy");
  g_assert_cmpint (run_cli (NULL, "-i", img, "-m", map, "-o", o2, "--mode", "heatmap",
                            "--colormap", "turbo", "--letterbox", "--width", "32", "--height",
                            "32", "--n-threads", "2", NULL), ==, 0);
  check_output (o2, "render_heatmap_letterbox.npy");
  g_assert_cmpint (run_cli (NULL, "-i", rgba, "-m", map, "-o", o3, "--mode", "masked",
                            "--bit-depth", "16", NULL), ==, 0);
  check_output (o3, "render_masked_rgba.npy");
  g_assert_cmpint (run_cli (NULL, "-i", img, "-m", map, "-o", o4, "--mode", "map", NULL), ==,
                   0);
  check_output (o4, "render_greymap.npy");
}

static void
expect_error (const char *needle, int code, char **args)
{
  g_autofree char *err = NULL;
  int st = run_cli (&err, args[0], args[1], args[2], args[3], args[4], args[5], args[6],
                    args[7], args[8], args[9], NULL);
  g_test_message ("-> %d: %s", st, err);
  g_assert_cmpint (st, ==, code);
  if (!strstr (err, needle))
    g_error ("stderr '%s' lacks '%s'", err, needle);
}

static void
test_errors (void)
{
  g_autofree char *img = data ("render_img.png");
  g_autofree char *map = data ("render_map.npy");
  g_autofree char *bad_map = data ("render_map_bad.npy");
  g_autofree char *trunc = data ("bad_truncated.png");
  g_autofree char *o = g_build_filename (tmpdir, "x.png", NULL);
  char *a1[10] = { "--image", img, "--map", map, NULL };
  expect_error ("--output are required", 2, a1);
  char *a2[10] = { "-i", img, "-m", map, "-o", o, "--colormap", "rainbow", NULL };
  expect_error ("colormap 'rainbow' is unknown", 1, a2);
  char *a3[10] = { "-i", img, "-m", bad_map, "-o", o, NULL };
  expect_error ("render_map_bad.npy: map has shape 2x4x5", 1, a3);
  char *a4[10] = { "-i", trunc, "-m", map, "-o", o, NULL };
  expect_error ("bad_truncated.png: bad PNG", 1, a4);
  char *a5[10] = { "-i", img, "-m", map, "-o", o, "--opacity", "2", NULL };
  expect_error ("--opacity 2", 1, a5);
  char *a6[10] = { "-i", img, "-m", map, "-o", o, "--letterbox", NULL };
  expect_error ("--letterbox needs", 1, a6);
  char *a7[10] = { "-i", img, "-m", map, "-o", o, "--mode", "blend", NULL };
  expect_error ("render mode 'blend'", 1, a7);
  g_assert_false (g_file_test (o, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("tl-render-XXXXXX", NULL);
  g_test_add_func ("/cli-render/modes", test_modes);
  g_test_add_func ("/cli-render/errors", test_errors);
  int r = g_test_run ();
  const char *names[] = { "overlay.png", "heat.png", "masked.png", "map.png" };
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = g_build_filename (tmpdir, names[i], NULL);
      g_unlink (p);
    }
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return r;
}
