/* The one random number generator of src/latent (methods.md, Part B):
 * xoshiro256** whose four state words are four successive splitmix64 outputs
 * of a 64-bit seed. Every sampler and measure draws from it, so one seed
 * reproduces every number bit for bit on every platform and front end. */
#pragma once
#include <stdint.h>

typedef struct {
  uint64_t s[4];
} tl_rng;

/* splitmix64: advances *state and returns the next output. */
uint64_t tl_splitmix64_next (uint64_t *state);

void     tl_rng_init (tl_rng *rng, uint64_t seed);
/* The next 64-bit output of xoshiro256**. */
uint64_t tl_rng_next (tl_rng *rng);
/* (x >> 11) * 2^-53: uniform on [0, 1), 53 bits, never 1. */
double   tl_rng_uniform (tl_rng *rng);
/* Discards the next count outputs: how a sampler skips to sample k. */
void     tl_rng_discard (tl_rng *rng, uint64_t count);
/* A pair of independent standard normals from two uniforms u1, u2
 * (Box–Muller: r = sqrt(-2 ln(1 - u1)), out = r cos 2πu2, r sin 2πu2;
 * 1 - u1 lies in (0, 1], so the logarithm is finite). */
void     tl_rng_normal_pair (tl_rng *rng, double out[2]);
