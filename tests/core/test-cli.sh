#!/bin/sh
# CLI basics, as TAP. $1 = path of the tensorlens binary.
tl=$1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../tap.sh"

check "--version prints the version" sh -c "'$tl' --version | grep -Eq '^tensorlens [0-9]+\.[0-9]+\.[0-9]+$'"
check "--help lists usage" sh -c "'$tl' --help | grep -q '^Usage: tensorlens COMMAND'"
check "no arguments is a usage error (exit 2)" sh -c "'$tl' >/dev/null 2>&1; [ \$? -eq 2 ]"
check "unknown command is named" sh -c "'$tl' frobnicate 2>&1 >/dev/null | grep -q \"unknown command 'frobnicate'\""
tap_done
