/* 8-float vectors as GCC/clang vector extensions, for the kernels that
 * vectorize by hand (depthwise3x3.c, im2col.c): the same source builds for
 * any target (on baseline x86-64 each op becomes two SSE ops) and for the
 * AVX2 copies those files select at run time. Only for always-inlined
 * helpers: passing these by value between real functions would depend on
 * the target's ABI (hence -Wpsabi is silenced where this is included). */
#pragma once

#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v8 __attribute__ ((vector_size (32)));
typedef int v8i __attribute__ ((vector_size (32)));
/* unaligned, aliasing view of 8 floats */
typedef float v8u __attribute__ ((vector_size (32), aligned (4), may_alias));

#define VL 8

/* gcc spells a two-vector shuffle __builtin_shuffle, clang
 * __builtin_shufflevector (the fuzzer is built with clang) */
#if defined(__clang__)
#define V8_SHUFFLE2(a, b, ...) __builtin_shufflevector ((a), (b), __VA_ARGS__)
#else
#define V8_SHUFFLE2(a, b, ...) __builtin_shuffle ((a), (b), (v8i) { __VA_ARGS__ })
#endif

static inline __attribute__ ((always_inline)) v8
v8_ld (const float *p)
{
  return *(const v8u *) p;
}

static inline __attribute__ ((always_inline)) void
v8_st (float *p, v8 v)
{
  *(v8u *) p = v;
}

/* A broadcast that GCC lowers to one vbroadcastss (a vector literal of
 * eight copies became eight element inserts). */
static inline __attribute__ ((always_inline)) v8
v8_splat (float f)
{
  const v8 v = { f };
  return V8_SHUFFLE2 (v, v, 0, 0, 0, 0, 0, 0, 0, 0);
}

/* lanes 0, 2, ..., 14 of the 16 floats a:b, and lanes 1, 3, ..., 15 */
static inline __attribute__ ((always_inline)) v8
v8_even (v8 a, v8 b)
{
  return V8_SHUFFLE2 (a, b, 0, 2, 4, 6, 8, 10, 12, 14);
}

static inline __attribute__ ((always_inline)) v8
v8_odd (v8 a, v8 b)
{
  return V8_SHUFFLE2 (a, b, 1, 3, 5, 7, 9, 11, 13, 15);
}
