/* xoshiro256** seeded by splitmix64 (Blackman & Vigna), as methods.md fixes
 * it. Compiled with -ffp-contract=off like the rest of src/latent. */
#include "rng.h"

#include <math.h>

uint64_t
tl_splitmix64_next (uint64_t *state)
{
  uint64_t z = (*state += UINT64_C (0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

void
tl_rng_init (tl_rng *rng, uint64_t seed)
{
  uint64_t sm = seed;
  for (int i = 0; i < 4; i++)
    rng->s[i] = tl_splitmix64_next (&sm);
}

void
tl_rng_discard (tl_rng *rng, uint64_t count)
{
  for (uint64_t i = 0; i < count; i++)
    (void) tl_rng_next (rng);
}

void
tl_rng_normal_pair (tl_rng *rng, double out[2])
{
  double u1 = tl_rng_uniform (rng);
  double u2 = tl_rng_uniform (rng);
  double r = sqrt (-2.0 * log (1.0 - u1));
  double a = 2.0 * M_PI * u2;
  out[0] = r * cos (a);
  out[1] = r * sin (a);
}
