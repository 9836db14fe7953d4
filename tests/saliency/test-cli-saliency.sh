#!/bin/sh
# `tensorlens saliency --features`, as TAP. $1 = the tensorlens binary.
# Maps are compared with the NumPy reference's fixtures (ref_saliency.py).
tl=$1
data=${TL_TEST_DATA:-tests/data}/saliency
py=/usr/bin/python3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../tap.sh"
# expect_fail DESC PATTERN ARGS...: exit status 1 and PATTERN on stderr.
expect_fail() {
  desc=$1; pat=$2; shift 2
  "$tl" saliency "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [ $rc -eq 1 ] && grep -q -- "$pat" "$tmp/err"; then ok "$desc"
  else nok "$desc (rc $rc)"; sed 's/^/# /' "$tmp/err"; fi
}
have_numpy() { $py -c 'import numpy' 2>/dev/null; }
# same OUT.npy EXPECTED.npy INDEX: max abs difference ≤ 1e-6.
same() {
  $py -c "
import sys, numpy as np
a = np.load(sys.argv[1]); b = np.load(sys.argv[2])[int(sys.argv[3])]
assert a.dtype == np.float32 and a.shape == b.shape, (a.dtype, a.shape, b.shape)
d = np.abs(a - b).max(); assert d <= 1e-6, d
" "$@"
}

F=$data/f480x16x16.npy
E=$data/expected_f480x16x16.npy
check "help names every option" sh -c "'$tl' saliency --help | grep -q -- '--print-params' && '$tl' saliency --help | grep -q -- '--sign-rule'"
for case in "eigencam 0" "multivec-eigencam 2" "tsm 6" "mtsm 9"; do
  set -- $case
  if have_numpy; then
    check "$1 on 480x16x16 runs" "$tl" saliency --features "$F" --method "$1" --output "$tmp/$1.npy"
    if same "$tmp/$1.npy" "$E" "$2" >"$tmp/log" 2>&1; then ok "$1 map equals the reference"; else nok "$1 map equals the reference"; sed 's/^/# /' "$tmp/log"; fi
  else
    skip "numpy not installed"; skip "numpy not installed"
  fi
done
if have_numpy; then
  "$tl" saliency --features "$F" --method mtsm --ranks 6,8,8 --weighting uniform --sweeps 5 -o "$tmp/m.npy" >/dev/null 2>&1
  check "mtsm --ranks 6,8,8 --weighting uniform --sweeps 5 matches NumPy" same "$tmp/m.npy" "$E" 13
  for m in tsm mtsm; do
    "$tl" saliency --features "$F" --method $m --ranks 20,6,6 --centre on -o "$tmp/c.npy" >/dev/null 2>&1
    check "$m --centre on (the proposed fix) matches NumPy" $py -c "
import sys, numpy as np
sys.path.insert(0, '$data')
import ref_saliency as ref
a = np.load('$tmp/c.npy')
b = ref.saliency_map(np.load('$F'), '$m', ranks=(20, 6, 6), centre=True)
d = np.abs(a - b).max(); assert d <= 1e-6, d
off = ref.saliency_map(np.load('$F'), '$m', ranks=(20, 6, 6))
assert np.abs(off - b).max() > 1e-3  # centring changes this map
"
    # auto on features shifted down by 3 (below zero as hard-swish features are)
    $py -c "import numpy as np; np.save('$tmp/shift.npy', np.load('$F') - np.float32(3))"
    "$tl" saliency --features "$tmp/shift.npy" --method $m --ranks 20,6,6 --centre auto -o "$tmp/a.npy" >/dev/null 2>&1
    check "$m --centre auto matches NumPy on negatively offset features" $py -c "
import sys, numpy as np
sys.path.insert(0, '$data')
import ref_saliency as ref
a = np.load('$tmp/a.npy')
b = ref.saliency_map(np.load('$tmp/shift.npy'), '$m', ranks=(20, 6, 6), centre='auto')
d = np.abs(a - b).max(); assert d <= 1e-6, d
"
  done
  "$tl" saliency --features "$F" --method multivec-eigencam --components 3 -o "$tmp/k.npy" >/dev/null 2>&1
  check "multivec-eigencam --components 3 matches NumPy" same "$tmp/k.npy" "$E" 5
else
  skip "numpy not installed"; skip "numpy not installed"
fi
check "--print-params reports clamped ranks" sh -c "'$tl' saliency --features '$data/f64x3x5.npy' --method tsm --ranks 100,100,100 --print-params -o '$tmp/p.npy' | grep -q '^ranks: 15,3,5$'"
check "--print-params reports the requested ranks" sh -c "'$tl' saliency --features '$data/f64x3x5.npy' --method tsm --ranks 100,100,100 --print-params -o '$tmp/p.npy' | grep -q '^ranks-requested: 100,100,100$'"
check "--rho 0.5 gives ranks min(C,R2·R3),⌈H/2⌉,⌈W/2⌉" sh -c "'$tl' saliency --features '$data/f64x3x5.npy' --method mtsm --rho 0.5 --print-params -o '$tmp/p.npy' | grep -q '^ranks-requested: 6,2,3$'"
check "--sign-rule off runs" "$tl" saliency --features "$F" --sign-rule off -o "$tmp/off.npy"

"$tl" saliency --output "$tmp/x.npy" >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "give MODEL IMAGE or --features" "$tmp/err"; then ok "missing --features is a usage error"; else nok "missing --features is a usage error (rc $rc)"; fi
expect_fail "unknown method" "unknown saliency method 'gradcan'" --features "$F" --method gradcan -o "$tmp/x.npy"
expect_fail "label-dependent method on features" "gradcam needs MODEL IMAGE" --features "$F" --method gradcam -o "$tmp/x.npy"
expect_fail "rank below 1" "R2 = 0 is out of range" --features "$F" --method tsm --ranks 3,0,3 -o "$tmp/x.npy"
expect_fail "rho out of range" "--rho 0: must be in (0, 1]" --features "$F" --method tsm --rho 0 -o "$tmp/x.npy"
expect_fail "malformed ranks" "expected three integers" --features "$F" --method tsm --ranks 3,3 -o "$tmp/x.npy"
expect_fail "bad weighting" "unknown weighting 'sigma3'" --features "$F" --weighting sigma3 -o "$tmp/x.npy"
expect_fail "bad centre" "--centre 'yes': expected off, on or auto" --features "$F" --method tsm --centre yes -o "$tmp/x.npy"
expect_fail "bad sign rule" "expected on or off" --features "$F" --sign-rule maybe -o "$tmp/x.npy"
expect_fail "negative sweeps" "--sweeps -1" --features "$F" --sweeps -1 -o "$tmp/x.npy"
expect_fail "2-D tensor" "f32_2x3.npy: features tensor has shape 2x3" --features "$data/../npy/f32_2x3.npy" -o "$tmp/x.npy"
expect_fail "missing file" "nope.npy" --features "$tmp/nope.npy" -o "$tmp/x.npy"
if have_numpy; then
  $py -c "import numpy as np; a = np.ones((3, 4, 4), np.float32); a[2, 1, 3] = np.nan; np.save('$tmp/nan.npy', a)"
  expect_fail "NaN features" "NaN at channel 2, row 1, column 3" --features "$tmp/nan.npy" -o "$tmp/x.npy"
  $py -c "import numpy as np; np.save('$tmp/zero.npy', np.zeros((1, 5, 3, 3), np.float32))"
  "$tl" saliency --features "$tmp/zero.npy" --method mtsm -o "$tmp/z.npy" >/dev/null 2>&1
  check "all-zero features give an all-zero map" $py -c "import numpy as np; a = np.load('$tmp/z.npy'); assert a.shape == (3, 3) and not a.any()"
else
  skip "numpy not installed"; skip "numpy not installed"
fi
tap_done
