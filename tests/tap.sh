# TAP helpers for the shell tests, sourced (not run) by each of them:
#   . "$(dirname "$0")/../tap.sh"
# meson runs a test by its absolute path in the source tree and a person
# runs it by any path, so $0's directory finds this file in both cases.
#
#   ok DESC             "ok N - DESC"
#   nok DESC [FILE...]  "not ok N - DESC", then FILEs as "# " comments
#   skip REASON         "ok N # SKIP REASON"
#   check DESC CMD...   runs CMD with its output in $tmp/log (the test's
#                       scratch directory); ok if it succeeds, else nok
#                       with that output as comments
#   skip_all REASON     the whole test skips: "1..1", "ok 1 # SKIP REASON",
#                       exit 0 (before any other TAP line)
#   tap_plan N          prints the plan "1..N" up front
#   tap_done            prints the plan "1..N" at the end unless tap_plan
#                       did (then a count that differs from it fails), and
#                       exits: 0 if every case passed, 1 if any failed
#
# The counters are tap_n (cases so far) and tap_fails (cases that failed):
# a test does not touch them, so a failing check always fails the test.
# POSIX sh (dash), safe under set -u.

tap_n=0
tap_fails=0
tap_planned=

ok ()
{
  tap_n=$((tap_n + 1))
  echo "ok $tap_n - $1"
}

nok ()
{
  tap_n=$((tap_n + 1))
  tap_fails=$((tap_fails + 1))
  echo "not ok $tap_n - $1"
  shift
  [ $# -eq 0 ] || sed 's/^/# /' "$@"
}

skip ()
{
  tap_n=$((tap_n + 1))
  echo "ok $tap_n # SKIP $1"
}

check ()
{
  tap_desc=$1
  shift
  # a test without $tmp stops here, loudly, rather than write /log
  if "$@" >"${tmp:?check needs tmp, a scratch directory}/log" 2>&1; then
    ok "$tap_desc"
  else
    nok "$tap_desc" "$tmp/log"
  fi
}

skip_all ()
{
  echo "1..1"
  echo "ok 1 # SKIP $1"
  exit 0
}

tap_plan ()
{
  tap_planned=$1
  echo "1..$1"
}

tap_done ()
{
  if [ -z "$tap_planned" ]; then
    echo "1..$tap_n"
  elif [ "$tap_n" -ne "$tap_planned" ]; then
    echo "# planned $tap_planned cases, ran $tap_n"
    tap_fails=$((tap_fails + 1))
  fi
  [ "$tap_fails" -eq 0 ] || exit 1
  exit 0
}
