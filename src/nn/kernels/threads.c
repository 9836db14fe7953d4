/* Thread count for OpenBLAS and for the kernels' own plane-parallel loops. */
#include "kernels-private.h"

#include <cblas.h>
#include <pthread.h>

#define TL_K_MAX_THREADS 64

static int tl_k_threads = 1;

void
tl_kernels_set_threads (int n)
{
  if (n < 1)
    n = 1;
  if (n > TL_K_MAX_THREADS)
    n = TL_K_MAX_THREADS;
  g_atomic_int_set (&tl_k_threads, n);
  openblas_set_num_threads (n);
}

int
tl_kernels_get_threads (void)
{
  return g_atomic_int_get (&tl_k_threads);
}

typedef struct
{
  tl_k_range_fn fn;
  void         *ctx;
  int64_t       begin, end;
} tl_k_chunk;

static void *
run_chunk (void *data)
{
  tl_k_chunk *c = data;
  c->fn (c->ctx, c->begin, c->end);
  return NULL;
}

void
tl_k_parallel (int64_t count, tl_k_range_fn fn, void *ctx)
{
  int64_t nt = tl_kernels_get_threads ();
  if (nt > count)
    nt = count;
  if (nt <= 1)
    {
      if (count > 0)
        fn (ctx, 0, count);
      return;
    }
  tl_k_chunk chunks[TL_K_MAX_THREADS];
  pthread_t  tids[TL_K_MAX_THREADS];
  gboolean   started[TL_K_MAX_THREADS] = { 0 };
  for (int64_t t = 0; t < nt; t++)
    chunks[t] = (tl_k_chunk) { fn, ctx, count * t / nt, count * (t + 1) / nt };
  for (int64_t t = 1; t < nt; t++)
    started[t] = pthread_create (&tids[t], NULL, run_chunk, &chunks[t]) == 0;
  run_chunk (&chunks[0]);
  /* A thread that could not be started is run here: same chunks, same
   * results, only slower. */
  for (int64_t t = 1; t < nt; t++)
    {
      if (started[t])
        pthread_join (tids[t], NULL);
      else
        run_chunk (&chunks[t]);
    }
}
