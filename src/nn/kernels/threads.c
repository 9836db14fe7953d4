/* The kernels' threads. Every parallel loop of the engine, GEMMs included,
 * runs on this one pool; OpenBLAS itself is kept at one thread. Its worker
 * threads spin for a while after each call, and on a 2-core machine they
 * took the core our pool's worker needed for the next (depthwise) layer:
 * MobileNetV2 ran in 15 ms at "2 threads" against 9.5 ms at 1, and ONNX
 * Runtime, which also keeps a single pool, in 4.2 ms. */
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
  openblas_set_num_threads (1);
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

/* Slot of the thread running the current chunk (0 = the caller), and
 * whether this thread is inside a parallel loop: a loop started there runs
 * inline, since the pool's threads are already busy with its siblings. */
static __thread int tl_k_slot = 0;
static __thread gboolean tl_k_inside = FALSE;

int
tl_k_thread_slot (void)
{
  return tl_k_slot;
}

static void
run_chunk_in_slot (const tl_k_chunk *c, int slot)
{
  const int old_slot = tl_k_slot;
  const gboolean old_inside = tl_k_inside;
  tl_k_slot = slot;
  tl_k_inside = TRUE;
  c->fn (c->ctx, c->begin, c->end);
  tl_k_slot = old_slot;
  tl_k_inside = old_inside;
}

typedef struct
{
  tl_k_chunk chunk;
  int        slot;
} tl_k_thread_arg;

static void *
run_chunk (void *data)
{
  tl_k_thread_arg *a = data;
  run_chunk_in_slot (&a->chunk, a->slot);
  return NULL;
}

/* A pool of workers, so that a parallel loop costs a wake-up rather than
 * a pthread_create + join per call (a MobileNet runs ~100 of them per
 * image). The loop is cut into a few chunks per thread that the caller and
 * the workers claim one by one: a worker the scheduler has not run yet (a
 * loaded machine) leaves its chunks to the caller instead of stalling it.
 * Which thread runs a chunk never changes a result (each index is computed
 * the same way in any chunk). One caller at a time: a second concurrent
 * caller (two nets run from two threads) takes the old path and starts
 * threads of its own.
 *
 * Between jobs a worker spins for SPIN_USEC before parking on a condition
 * variable, and the caller spins as long for the workers' last chunks: the
 * layers of a net follow each other within microseconds, while a futex
 * wake-up costs tens of them on this VM, which is as much as a small
 * layer's work. The spin is bounded, so an idle process (or a loaded,
 * shared machine) gets the core back within SPIN_USEC. */
#define CHUNKS_PER_THREAD 4
#define SPIN_USEC 100

typedef struct
{
  GMutex     lock;
  GCond      wake, done;
  tl_k_chunk chunks[TL_K_MAX_THREADS * CHUNKS_PER_THREAD];
  int        n_chunks;  /* of the current job */
  int        nt;        /* threads it may use: workers 0 .. nt - 2 join */
  int        next;      /* first chunk nobody claimed yet */
  int        finished;  /* chunks run to the end (read unlocked while spinning) */
  guint64    gen;       /* job number (read unlocked while spinning) */
  int        n_workers;
  int        sleepers;  /* workers waiting on wake */
  gboolean   caller_waits; /* the caller waits on done */
} tl_k_pool;

static tl_k_pool pool;
static GMutex    pool_owner; /* held by the thread using the pool */

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

/* Spins while the value at p equals v, for at most SPIN_USEC; TRUE if it
 * changed. */
static gboolean
spin_while_equal (const void *p, gint64 v, gboolean wide)
{
  const gint64 until = g_get_monotonic_time () + SPIN_USEC;
  for (int i = 0;; i++)
    {
      const gint64 now = wide ? (gint64) __atomic_load_n ((const guint64 *) p, __ATOMIC_ACQUIRE)
                              : __atomic_load_n ((const int *) p, __ATOMIC_ACQUIRE);
      if (now != v)
        return TRUE;
      if ((i & 63) == 63 && g_get_monotonic_time () > until)
        return FALSE;
      cpu_relax ();
    }
}

/* Claims and runs chunks of the current job until none is left; called
 * and returns with pool.lock held. */
static void
pool_work (int slot)
{
  while (pool.next < pool.n_chunks)
    {
      tl_k_chunk c = pool.chunks[pool.next++];
      g_mutex_unlock (&pool.lock);
      run_chunk_in_slot (&c, slot);
      g_mutex_lock (&pool.lock);
      __atomic_store_n (&pool.finished, pool.finished + 1, __ATOMIC_RELEASE);
      if (pool.finished == pool.n_chunks && pool.caller_waits)
        g_cond_signal (&pool.done);
    }
}

static gpointer
worker_main (gpointer data)
{
  const int id = GPOINTER_TO_INT (data);
  guint64 seen = 0;
  for (;;)
    {
      spin_while_equal (&pool.gen, (gint64) seen, TRUE);
      g_mutex_lock (&pool.lock);
      pool.sleepers++;
      while (pool.gen == seen)
        g_cond_wait (&pool.wake, &pool.lock);
      pool.sleepers--;
      seen = pool.gen;
      if (id < pool.nt - 1) /* a pool grown for more threads keeps to nt */
        pool_work (id + 1);
      g_mutex_unlock (&pool.lock);
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
      g_thread_unref (t); /* lives as long as the process */
      pool.n_workers++;
    }
  memcpy (pool.chunks, chunks, sizeof (tl_k_chunk) * n);
  pool.n_chunks = n;
  pool.nt = nt;
  pool.next = 0;
  __atomic_store_n (&pool.finished, 0, __ATOMIC_RELEASE);
  __atomic_store_n (&pool.gen, pool.gen + 1, __ATOMIC_RELEASE);
  if (pool.sleepers > 0)
    g_cond_broadcast (&pool.wake);
  pool_work (0);
  if (pool.finished < pool.n_chunks)
    {
      g_mutex_unlock (&pool.lock);
      /* spin while the workers make progress, park once they stall */
      for (;;)
        {
          const int f = __atomic_load_n (&pool.finished, __ATOMIC_ACQUIRE);
          if (f >= n || !spin_while_equal (&pool.finished, f, FALSE))
            break;
        }
      g_mutex_lock (&pool.lock);
      pool.caller_waits = TRUE;
      while (pool.finished < pool.n_chunks)
        g_cond_wait (&pool.done, &pool.lock);
      pool.caller_waits = FALSE;
    }
  g_mutex_unlock (&pool.lock);
  return TRUE;
}

void
tl_k_parallel (int64_t count, tl_k_range_fn fn, void *ctx)
{
  int64_t nt = tl_kernels_get_threads ();
  if (nt > count)
    nt = count;
  if (nt <= 1 || tl_k_inside)
    {
      if (count > 0)
        fn (ctx, 0, count);
      return;
    }
  tl_k_thread_arg chunks[TL_K_MAX_THREADS];
  pthread_t  tids[TL_K_MAX_THREADS];
  gboolean   started[TL_K_MAX_THREADS] = { 0 };
  for (int64_t t = 0; t < nt; t++)
    chunks[t] = (tl_k_thread_arg) { { fn, ctx, count * t / nt, count * (t + 1) / nt }, (int) t };
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
