/* Thread count for OpenBLAS and for the kernels' own plane-parallel loops. */
#include "kernels-private.h"

#include <cblas.h>
#include <pthread.h>
#include <string.h>

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

/* A pool of parked workers, so that a parallel loop costs a wake-up rather
 * than a pthread_create + join per call (a MobileNet runs ~20 of them per
 * image, and thread creation was ~10% of a 2-thread forward pass). One
 * caller at a time: a second concurrent caller (two nets run from two
 * threads) and a loop started from inside a worker take the old path and
 * start threads of their own. Workers are created on first need and stay
 * parked on a condition variable (no spinning: the machine is shared). */
typedef struct
{
  GMutex     lock;
  GCond      wake, done;
  tl_k_chunk chunks[TL_K_MAX_THREADS];
  int        nt;        /* chunks of the current job */
  guint64    gen;       /* job number */
  int        pending;   /* workers still running a chunk of it */
  int        n_workers;
} tl_k_pool;

static tl_k_pool pool;
static GMutex    pool_owner; /* held by the thread using the pool */

static gpointer
worker_main (gpointer data)
{
  const int id = GPOINTER_TO_INT (data); /* runs chunk id + 1 */
  guint64 seen = 0;
  g_mutex_lock (&pool.lock);
  for (;;)
    {
      while (pool.gen == seen)
        g_cond_wait (&pool.wake, &pool.lock);
      seen = pool.gen;
      if (id + 1 >= pool.nt)
        continue;
      tl_k_chunk c = pool.chunks[id + 1];
      g_mutex_unlock (&pool.lock);
      run_chunk (&c);
      g_mutex_lock (&pool.lock);
      if (--pool.pending == 0)
        g_cond_signal (&pool.done);
    }
  return NULL;
}

/* Runs chunks[0, nt) on the pool; FALSE (nothing run) if a worker could
 * not be started. Called with pool_owner held. */
static gboolean
pool_run (tl_k_chunk *chunks, int nt)
{
  g_mutex_lock (&pool.lock);
  while (pool.n_workers < nt - 1)
    {
      GThread *t = g_thread_try_new ("tl-kernels", worker_main,
                                     GINT_TO_POINTER (pool.n_workers), NULL);
      if (!t)
        {
          g_mutex_unlock (&pool.lock);
          return FALSE;
        }
      g_thread_unref (t); /* parked for the life of the process */
      pool.n_workers++;
    }
  memcpy (pool.chunks, chunks, sizeof (tl_k_chunk) * nt);
  pool.nt = nt;
  pool.pending = nt - 1;
  pool.gen++;
  g_cond_broadcast (&pool.wake);
  g_mutex_unlock (&pool.lock);
  run_chunk (&chunks[0]);
  g_mutex_lock (&pool.lock);
  while (pool.pending > 0)
    g_cond_wait (&pool.done, &pool.lock);
  g_mutex_unlock (&pool.lock);
  return TRUE;
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
  if (g_mutex_trylock (&pool_owner))
    {
      gboolean ok = pool_run (chunks, (int) nt);
      g_mutex_unlock (&pool_owner);
      if (ok)
        return;
    }
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
