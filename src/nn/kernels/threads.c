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
 * image, and thread creation was ~10% of a 2-thread forward pass). The
 * loop is cut into a few chunks per thread that the caller and the workers
 * claim one by one: a worker the scheduler has not run yet (a loaded
 * machine) leaves its chunks to the caller instead of stalling it. Which
 * thread runs a chunk never changes a result (each index is computed the
 * same way in any chunk). One caller at a time: a second concurrent caller
 * (two nets run from two threads) and a loop started from inside a worker
 * take the old path and start threads of their own. Workers are created
 * on first need and stay parked on a condition variable (no spinning: the
 * machine is shared). */
#define CHUNKS_PER_THREAD 4

typedef struct
{
  GMutex     lock;
  GCond      wake, done;
  tl_k_chunk chunks[TL_K_MAX_THREADS * CHUNKS_PER_THREAD];
  int        n_chunks;  /* of the current job */
  int        nt;        /* threads it may use: workers 0 .. nt - 2 join */
  int        next;      /* first chunk nobody claimed yet */
  int        finished;  /* chunks run to the end */
  guint64    gen;       /* job number */
  int        n_workers;
} tl_k_pool;

static tl_k_pool pool;
static GMutex    pool_owner; /* held by the thread using the pool */

/* Claims and runs chunks of the current job until none is left; called
 * and returns with pool.lock held. */
static void
pool_work (void)
{
  while (pool.next < pool.n_chunks)
    {
      tl_k_chunk c = pool.chunks[pool.next++];
      g_mutex_unlock (&pool.lock);
      run_chunk (&c);
      g_mutex_lock (&pool.lock);
      if (++pool.finished == pool.n_chunks)
        g_cond_signal (&pool.done);
    }
}

static gpointer
worker_main (gpointer data)
{
  const int id = GPOINTER_TO_INT (data);
  guint64 seen = 0;
  g_mutex_lock (&pool.lock);
  for (;;)
    {
      while (pool.gen == seen)
        g_cond_wait (&pool.wake, &pool.lock);
      seen = pool.gen;
      if (id < pool.nt - 1) /* a pool grown for more threads keeps to nt */
        pool_work ();
    }
  return NULL;
}

/* Runs chunks[0, n) on the pool with up to nt threads; FALSE (nothing
 * run) if a worker could not be started. Called with pool_owner held. */
static gboolean
pool_run (const tl_k_chunk *chunks, int n, int nt)
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
  memcpy (pool.chunks, chunks, sizeof (tl_k_chunk) * n);
  pool.n_chunks = n;
  pool.nt = nt;
  pool.next = pool.finished = 0;
  pool.gen++;
  g_cond_broadcast (&pool.wake);
  pool_work ();
  while (pool.finished < pool.n_chunks)
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
      /* CHUNKS_PER_THREAD chunks per thread, claimed as threads get free */
      tl_k_chunk pc[TL_K_MAX_THREADS * CHUNKS_PER_THREAD];
      const int64_t n = MIN (count, nt * CHUNKS_PER_THREAD);
      for (int64_t i = 0; i < n; i++)
        pc[i] = (tl_k_chunk) { fn, ctx, count * i / n, count * (i + 1) / n };
      gboolean ok = pool_run (pc, (int) n, (int) nt);
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
