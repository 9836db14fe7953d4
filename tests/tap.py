"""TAP output for the Python tests (the shell tests source tests/tap.sh).

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from tap import ok, skip, done
    ok(cond, "what holds", info)   # info is shown as '# ' lines when it fails
    sys.exit(done())               # the plan, and 1 if any case failed
"""
import sys

_n = 0
_fails = 0


def ok(cond, desc, info=""):
    """One result line; the description on one line (a quoted multi-line
    error message would not be TAP), the last 15 lines of info on failure."""
    global _n, _fails
    _n += 1
    cond = bool(cond)
    print("%s %d - %s" % ("ok" if cond else "not ok", _n, " ".join(str(desc).split())))
    if not cond:
        _fails += 1
        for line in str(info).splitlines()[-15:]:
            print("# " + line)
    sys.stdout.flush()
    return cond


def skip(why):
    """A case that cannot run here."""
    global _n
    _n += 1
    print("ok %d # SKIP %s" % (_n, why), flush=True)


def done():
    """Prints the plan; returns the exit status."""
    print("1..%d" % _n, flush=True)
    return 1 if _fails else 0
