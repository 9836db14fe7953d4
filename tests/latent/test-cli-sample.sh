#!/bin/sh
# tensorlens sample, as TAP. $1 = path of the tensorlens binary.
tl=$1
data=${TL_TEST_DATA:?}/latent
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../tap.sh"
# refuses DESC PATTERN ARGS...: exit status 1 or 2, stderr matches PATTERN.
refuses() {
  desc=$1; pat=$2; shift 2
  "$tl" sample "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -q -- "$pat" "$tmp/err"; then ok "$desc"
  else nok "$desc (exit $rc: $(cat "$tmp/err"))"; fi
}

# The PMF sampler's output is the Python reference's file, byte for byte.
check "pmf q=8 r=1 seed 42 equals ref_sampler.py's file" sh -c \
  "'$tl' sample --latents '$data/pmf_bank.npy' --levels 8 --radius 1 --count 300 --seed 42 \
     --output '$tmp/s.npy' >'$tmp/said' && cmp -s '$tmp/s.npy' '$data/pmf_q8_r1_s42.npy'"
check "the summary line names count, dimension and parameters" \
  grep -q "wrote 300 samples of dimension 5 to .*(sampler pmf, levels 8, radius 1, seed 42)" "$tmp/said"
check "pmf with the largest seed equals the reference" sh -c \
  "'$tl' sample --latents '$data/pmf_bank.npy' --sampler pmf --levels 16 --radius 3 --count 100 \
     --seed 18446744073709551615 -o '$tmp/m.npy' >/dev/null && \
   cmp -s '$tmp/m.npy' '$data/pmf_q16_r3_s18446744073709551615.npy'"
check "pmf defaults run (levels 50, radius 2, seed 0)" sh -c \
  "'$tl' sample --latents '$data/pmf_bank.npy' --count 10 -o '$tmp/d.npy' | grep -q 'levels 50, radius 2, seed 0'"

for s in gmm gaussian prior; do
  extra=; [ $s = gmm ] && extra="--components 3"
  check "$s: same seed, same bytes" sh -c \
    "'$tl' sample --latents '$data/gmm_2d.npy' --sampler $s $extra --count 50 --seed 3 -o '$tmp/a.npy' >/dev/null && \
     '$tl' sample --latents '$data/gmm_2d.npy' --sampler $s $extra --count 50 --seed 3 -o '$tmp/b.npy' >/dev/null && \
     cmp -s '$tmp/a.npy' '$tmp/b.npy' && [ \$(stat -c %s '$tmp/a.npy') -eq 528 ]"
  check "$s: another seed, other samples" sh -c \
    "'$tl' sample --latents '$data/gmm_2d.npy' --sampler $s $extra --count 50 --seed 4 -o '$tmp/c.npy' >/dev/null && \
     ! cmp -s '$tmp/a.npy' '$tmp/c.npy'"
done
check "gmm reports its EM iterations" sh -c \
  "'$tl' sample --latents '$data/gmm_2d.npy' --sampler gmm --components 3 --count 5 -o '$tmp/g.npy' | \
   grep -q '3 component(s), [0-9]* EM iterations, seed 0)'"

# Progress: a line on a terminal, nothing when stderr is not one.
check "no progress output when stderr is not a terminal" sh -c \
  "'$tl' sample --latents '$data/gmm_2d.npy' --sampler gmm --components 3 --count 5 -o '$tmp/g.npy' 2>'$tmp/e' >/dev/null && \
   [ ! -s '$tmp/e' ]"
if command -v script >/dev/null 2>&1; then
  check "progress line on a terminal" sh -c \
    "script -qec \"'$tl' sample --latents '$data/gmm_2d.npy' --sampler gmm --components 3 --count 5 -o '$tmp/g.npy'\" /dev/null | \
     grep -q 'fitting: EM iteration 1 (at most 2000), mean log-likelihood'"
else
  skip "script(1) from util-linux is not installed"
fi

refuses "NaN in the bank names file, row and column" "cli_bank_nan.npy: latent bank: value at row 2, column 1 is NaN" \
  --latents "$data/cli_bank_nan.npy" --count 5 -o "$tmp/x.npy"
refuses "Inf in the bank" "column 1 is infinite" \
  --latents "$data/cli_bank_inf.npy" --sampler gmm --components 2 --count 5 -o "$tmp/x.npy"
refuses "one latent is too few" "1 latent(s), need at least 2" \
  --latents "$data/cli_bank_1row.npy" --count 5 -o "$tmp/x.npy"
refuses "zero latents" "0 latent(s), need at least 2" \
  --latents "$data/cli_bank_0rows.npy" --sampler gaussian --count 5 -o "$tmp/x.npy"
refuses "a 3-D array is not a bank" "cli_bank_3d.npy: shape 2x2x5, need a 2-D array" \
  --latents "$data/cli_bank_3d.npy" --count 5 -o "$tmp/x.npy"
refuses "levels 0" "levels: '0' is not an integer >= 1" \
  --latents "$data/pmf_bank.npy" --levels 0 --count 5 -o "$tmp/x.npy"
refuses "levels above the library's limit" "levels: 70000 is out of range" \
  --latents "$data/pmf_bank.npy" --levels 70000 --count 5 -o "$tmp/x.npy"
refuses "negative radius" "radius: '-1' is not an integer >= 0" \
  --latents "$data/pmf_bank.npy" --radius -1 --count 5 -o "$tmp/x.npy"
refuses "a list of levels: sample draws from one sampler" "sample draws from one sampler" \
  --latents "$data/pmf_bank.npy" --levels 10,20 --count 5 -o "$tmp/x.npy"
refuses "more components than latents" "components: 300 is more than the 200 latents" \
  --latents "$data/pmf_bank.npy" --sampler gmm --components 300 --count 5 -o "$tmp/x.npy"
refuses "a billion samples refused before allocating" "count: 1000000000 samples of dimension 5 need 20 GB" \
  --latents "$data/pmf_bank.npy" --count 1000000000 -o "$tmp/x.npy"
refuses "count 0" "count: 0 samples; need at least 1" \
  --latents "$data/pmf_bank.npy" --count 0 -o "$tmp/x.npy"
refuses "negative seed" "seed: '-5' is negative" \
  --latents "$data/pmf_bank.npy" --count 5 --seed=-5 -o "$tmp/x.npy"
refuses "seed beyond 64 bits" "seed: '18446744073709551616' is not an integer" \
  --latents "$data/pmf_bank.npy" --count 5 --seed 18446744073709551616 -o "$tmp/x.npy"
refuses "unknown sampler" "sampler: 'vae' is not one of pmf, gmm, gaussian, prior" \
  --latents "$data/pmf_bank.npy" --sampler vae --count 5 -o "$tmp/x.npy"
refuses "--levels with gmm" "apply to --sampler pmf only" \
  --latents "$data/pmf_bank.npy" --sampler gmm --levels 4 --count 5 -o "$tmp/x.npy"
refuses "--components with pmf" "applies to --sampler gmm only" \
  --latents "$data/pmf_bank.npy" --components 4 --count 5 -o "$tmp/x.npy"
refuses "missing file is named" "nonexistent.npy" \
  --latents "$tmp/nonexistent.npy" --count 5 -o "$tmp/x.npy"
refuses "required options" "are required" --latents "$data/pmf_bank.npy"
refuses "output in a missing directory, before fitting" "does not exist or is not writable" \
  --latents "$data/pmf_bank.npy" --count 5 -o "$tmp/no/such/dir/x.npy"
check "no output file is left by a refused run" test ! -e "$tmp/x.npy"

tap_done
