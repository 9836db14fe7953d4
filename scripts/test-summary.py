#!/usr/bin/python3
"""Counts every test case in meson's testlog.json and prints the closing line
"N passed, N failed". TAP tests count one per 'ok'/'not ok' line (a test
that crashed before its plan also counts as one failure); any other test
counts once by its result. Exit status 1 when anything failed."""
import json
import re
import sys

passed = failed = skipped = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    result = t.get("result", "")
    out = t.get("stdout", "") or ""
    oks = len(re.findall(r"^ok \d+", out, re.M))
    skips = len(re.findall(r"^ok \d+[^\n]*# SKIP", out, re.M))
    noks = len(re.findall(r"^not ok \d+", out, re.M))
    if oks + noks == 0:
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
        continue
    passed += oks - skips
    skipped += skips
    failed += noks
    if result not in ("OK", "EXPECTEDFAIL", "SKIP") and noks == 0:
        failed += 1  # crashed, timed out or lied about its plan
tail = f", {skipped} skipped" if skipped else ""
print(f"{passed} passed, {failed} failed{tail}")
sys.exit(1 if failed else 0)
