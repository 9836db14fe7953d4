#!/bin/sh
# CLI basics, as TAP. $1 = path of the tensorlens binary.
tl=$1
n=0; fail=0
ok()  { n=$((n+1)); echo "ok $n - $1"; }
nok() { n=$((n+1)); fail=1; echo "not ok $n - $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else nok "$desc"; fi; }

check "--version prints the version" sh -c "'$tl' --version | grep -Eq '^tensorlens [0-9]+\.[0-9]+\.[0-9]+$'"
check "--help lists usage" sh -c "'$tl' --help | grep -q '^Usage: tensorlens COMMAND'"
check "no arguments is a usage error (exit 2)" sh -c "'$tl' >/dev/null 2>&1; [ \$? -eq 2 ]"
check "unknown command is named" sh -c "'$tl' frobnicate 2>&1 >/dev/null | grep -q \"unknown command 'frobnicate'\""
echo "1..$n"
exit $fail
