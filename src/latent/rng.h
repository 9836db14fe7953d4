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

/* The next 64-bit output of xoshiro256**. Inline: the samplers draw 1 + 2d
 * of these per sample, and a call per draw would cost as much as the draw. */
static inline uint64_t
tl_rng_next (tl_rng *rng)
{
  uint64_t *s = rng->s;
  uint64_t x = s[1] * 5;
  uint64_t result = ((x << 7) | (x >> 57)) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 45) | (s[3] >> 19);
  return result;
}

/* (x >> 11) * 2^-53: uniform on [0, 1), 53 bits, never 1. */
static inline double
tl_rng_uniform (tl_rng *rng)
{
  return (double) (tl_rng_next (rng) >> 11) * 0x1.0p-53;
}
/* Discards the next count outputs: how a sampler skips to sample k. */
void     tl_rng_discard (tl_rng *rng, uint64_t count);
/* A pair of independent standard normals from two uniforms u1, u2
 * (Box–Muller: r = sqrt(-2 ln(1 - u1)), out = r cos 2πu2, r sin 2πu2;
 * 1 - u1 lies in (0, 1], so the logarithm is finite). */
void     tl_rng_normal_pair (tl_rng *rng, double out[2]);
