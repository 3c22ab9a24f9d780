"""What one Python interpreter says about its GIL, and what threads or subinterpreters buy on it.

Runs on any Python 3.6+ (CPython of any version or build, PyPy). ``--mode``:

info             which build this is, and whether the GIL is on right now:
                   gil_disabled_build   sysconfig.get_config_var("Py_GIL_DISABLED") (1 on a free-threaded
                                        build, 0 or null otherwise)
                   gil_enabled          sys._is_gil_enabled() (3.13+), null where the function does not exist
                   subinterpreters      the module that runs code in a subinterpreter here, or null:
                                        concurrent.interpreters (3.14, PEP 734), _interpreters (3.13),
                                        _xxsubinterpreters (3.12 and earlier; only 3.12+ gives each its own GIL)
                   version_text         sys.version
single           one_thread_s: ``--iterations`` of the pure-Python loop on one thread (best of ``--repeat``).
threads          the same total work on one thread vs split over ``--threads`` threads:
                   one_thread_s, threads_s, and gil_enabled_after (sys._is_gil_enabled() once the threads ran,
                   null where it does not exist).
subinterpreters  the same total work split over ``--threads`` subinterpreters:
                   own_one_s        one thread runs each interpreter's share in turn (the baseline)
                   own_threads_s    one thread per interpreter, each interpreter with its own GIL (PEP 684)
                   shared_one_s, shared_threads_s
                                    the same with interpreters that share the main interpreter's GIL (the legacy
                                    configuration), or null when this version offers no way to create them
                   api              the module used

Timings are in seconds, the best (minimum) of ``--repeat`` runs taken in turns. Prints one JSON object.
"""

import argparse
import importlib.util
import sys
import sysconfig
from probelib import best_of_each, burn, emit, positive_int, run_threads, split

# Runs inside a subinterpreter: the same recurrence as probelib.burn, on a local variable.
SUB_CODE = """
def burn(n):
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) % 1000003
    return acc
burn({n})
"""


def gil_enabled():
    check = getattr(sys, "_is_gil_enabled", None)
    return None if check is None else bool(check())


def find_module(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def subinterpreter_module():
    for name in ("concurrent.interpreters", "_interpreters", "_xxsubinterpreters"):
        if find_module(name):
            return name
    return None


def info():
    disabled = sysconfig.get_config_var("Py_GIL_DISABLED")
    return {
        "gil_disabled_build": None if disabled is None else int(disabled),
        "gil_enabled": gil_enabled(),
        "subinterpreters": subinterpreter_module(),
        "version_text": sys.version,
    }


def single(iterations, repeat):
    return best_of_each(repeat, one=lambda: burn(iterations))["one"]


def threads(iterations, count, repeat):
    chunks = split(iterations, count)
    best = best_of_each(repeat, one=lambda: burn(iterations),
                        many=lambda: run_threads(burn, [(c,) for c in chunks]))
    return {"one_thread_s": best["one"], "threads_s": best["many"], "gil_enabled_after": gil_enabled()}


class Subinterpreter:
    """One subinterpreter: ``run(code)`` executes source text in its __main__; ``close()`` destroys it."""

    def __init__(self, own_gil):
        self.api = None
        if own_gil and find_module("concurrent.interpreters"):
            from concurrent import interpreters  # 3.14, PEP 734: always an isolated interpreter with its own GIL
            interp = interpreters.create()
            self.api, self.run, self.close = "concurrent.interpreters", interp.exec, interp.close
            return
        if find_module("_interpreters"):  # 3.13+ (private): configs "isolated" (own GIL) and "legacy" (shared)
            import _interpreters as low
            iid = low.create("isolated" if own_gil else "legacy")
            self.api, self.run, self.close = "_interpreters", lambda code: _raise_failure(low.exec(iid, code)), \
                lambda: low.destroy(iid)
            return
        import _xxsubinterpreters as low  # 3.12 (private): isolated=True gives the interpreter its own GIL
        iid = low.create(isolated=own_gil)
        self.api, self.run, self.close = "_xxsubinterpreters", lambda code: low.run_string(iid, code), \
            lambda: low.destroy(iid)


def _raise_failure(failure):
    # _interpreters.exec returns a description of the exception instead of raising it.
    if failure is not None:
        raise RuntimeError("code failed in the subinterpreter: %r" % (failure,))


def subinterpreters(iterations, count, repeat):
    codes = [SUB_CODE.format(n=c) for c in split(iterations, count)]

    def one_thread(interps):
        for interp, code in zip(interps, codes):
            interp.run(code)

    def one_thread_each(interps):
        run_threads(lambda interp, code: interp.run(code), list(zip(interps, codes)))

    own = [Subinterpreter(own_gil=True) for _ in codes]
    try:
        shared = [Subinterpreter(own_gil=False) for _ in codes]
    except Exception as e:  # this version has no Python-level way to make a shared-GIL interpreter
        shared, shared_error = None, "%s: %s" % (type(e).__name__, e)
    else:
        shared_error = None
    try:
        variants = {"own_one": lambda: one_thread(own), "own_threads": lambda: one_thread_each(own)}
        if shared:
            variants.update(shared_one=lambda: one_thread(shared), shared_threads=lambda: one_thread_each(shared))
        best = best_of_each(repeat, **variants)
    finally:
        for interp in own + (shared or []):
            interp.close()
    return {
        "api": own[0].api,
        "own_one_s": best["own_one"],
        "own_threads_s": best["own_threads"],
        "shared_one_s": best.get("shared_one"),
        "shared_threads_s": best.get("shared_threads"),
        "shared_error": shared_error,
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["info", "single", "threads", "subinterpreters"], default="info")
    parser.add_argument("--iterations", type=positive_int, default=2_000_000)
    parser.add_argument("--threads", type=positive_int, default=2)
    parser.add_argument("--repeat", type=positive_int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    result = {"mode": args.mode, "iterations": args.iterations, "threads": args.threads, **info()}
    if args.mode == "single":
        result["one_thread_s"] = single(args.iterations, args.repeat)
    elif args.mode == "threads":
        result.update(threads(args.iterations, args.threads, args.repeat))
    elif args.mode == "subinterpreters":
        result.update(subinterpreters(args.iterations, args.threads, args.repeat))
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
