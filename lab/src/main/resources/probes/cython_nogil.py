"""Cython and the GIL: a C loop that releases the GIL vs the same loop holding it, on one thread and on two.

Builds the tiny extension below (PYX) with cython3 and the C compiler, against this interpreter's headers, into
``--cache-dir``/<hash of the source, the flags, Cython's and Python's versions>, so later runs import the built
module at once. The build is tried with OpenMP (-fopenmp) first, for ``prange``; if that fails, without it, and
``prange`` is then reported as unavailable.

Variants (the same total work, ``--iterations`` rounds of a 64-bit integer recurrence, best of ``--repeat`` runs):
  nogil    count_nogil: the loop runs inside ``with nogil:``; one call of N rounds vs two threads of N/2 each.
  gil      count_gil: the same loop called with the GIL held throughout; one call vs two threads.
  prange   count_prange: a ``prange`` loop over two chunks of N/2 rounds, with 1 OpenMP thread vs 2.

Prints one JSON object. When the build cannot run here (no Cython, no C compiler, no Python headers) it prints
``{"unavailable": "<why>"}`` instead of measurements. Otherwise:
  build      cached (bool), seconds (this run's build time; 0 when cached), openmp (bool),
             openmp_error (the compiler's complaint when -fopenmp failed, else null), cython (version), module_dir
  nogil, gil one_thread_s, threads_s
  prange     one_thread_s, threads_s (null when OpenMP did not build)
"""

import argparse
import hashlib
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from probelib import best_of_each, emit, positive_int, run_threads, split

PYX = """\
# cython: language_level=3, boundscheck=False, wraparound=False
from cython.parallel import prange

cdef unsigned long long spin(unsigned long long n) nogil:
    # A dependency chain the C compiler cannot shorten: each round needs the previous one.
    cdef unsigned long long acc = 0, i
    for i in range(n):
        acc = (acc * 6364136223846793005ULL + i) ^ (acc >> 29)
    return acc

def count_nogil(unsigned long long n):
    cdef unsigned long long r
    with nogil:                # other Python threads run while this loop does
        r = spin(n)
    return r

def count_gil(unsigned long long n):
    return spin(n)             # the GIL stays held: no other Python thread runs meanwhile

def count_prange(unsigned long long n, int chunks, int threads):
    cdef int k
    cdef unsigned long long total = 0
    for k in prange(chunks, nogil=True, num_threads=threads, schedule='static'):
        total += spin(n // chunks)     # an in-place operator makes `total` a reduction
    return total
"""
MODULE = "conclab_nogil"


class Unavailable(Exception):
    """The extension cannot be built on this machine; the message says what is missing."""


def cython_command():
    if importlib.util.find_spec("Cython") is not None:
        return [sys.executable, "-m", "cython"]
    for name in ("cython3", "cython"):
        path = shutil.which(name)
        if path:
            return [path]
    raise Unavailable("Cython is not installed (no Cython module for %s, no cython3 on the PATH;"
                      " Debian: apt-get install cython3)" % sys.executable)


def run(command, cwd):
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    return done.returncode, done.stdout.strip()


def cython_version(cython):
    code, out = run(cython + ["--version"], cwd=None)
    if code != 0:
        raise Unavailable("%s --version failed: %s" % (" ".join(cython), out[-300:]))
    return out.replace("Cython version", "").strip()


def build(cache_root):
    cython = cython_command()
    version = cython_version(cython)
    compiler = sysconfig.get_config_var("CC") or "cc"
    compiler = compiler.split()[0]
    if shutil.which(compiler) is None:
        compiler = shutil.which("gcc") or shutil.which("cc")
        if compiler is None:
            raise Unavailable("no C compiler (gcc or cc) on the PATH")
    include = sysconfig.get_paths()["include"]
    if not os.path.exists(os.path.join(include, "Python.h")):
        raise Unavailable("no Python.h in %s (Debian: apt-get install python3-dev)" % include)
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    flags = ["-shared", "-fPIC", "-O2", "-I" + include]
    key = hashlib.sha256("\0".join([PYX, version, sys.version, suffix, " ".join(flags)]).encode()).hexdigest()[:16]
    final = os.path.join(cache_root, key)
    if os.path.exists(os.path.join(final, "build.json")):
        return final, dict(read_json(os.path.join(final, "build.json")), cached=True, seconds=0.0)

    os.makedirs(cache_root, exist_ok=True)
    work = tempfile.mkdtemp(prefix="build-", dir=cache_root)
    start = time.perf_counter()
    try:
        with open(os.path.join(work, MODULE + ".pyx"), "w") as f:
            f.write(PYX)
        code, out = run(cython + ["-3", MODULE + ".pyx", "-o", MODULE + ".c"], cwd=work)
        if code != 0:
            raise Unavailable("cython failed: " + out[-500:])
        target = MODULE + suffix
        code, out = run([compiler] + flags + ["-fopenmp", MODULE + ".c", "-o", target], cwd=work)
        openmp, openmp_error = code == 0, None if code == 0 else out[-300:]
        if not openmp:
            code, out = run([compiler] + flags + [MODULE + ".c", "-o", target], cwd=work)
            if code != 0:
                raise Unavailable("the C compiler failed: " + out[-500:])
        facts = {"openmp": openmp, "openmp_error": openmp_error, "cython": version, "compiler": compiler}
        write_json(os.path.join(work, "build.json"), facts)
        seconds = time.perf_counter() - start
        try:
            os.rename(work, final)  # atomic: a concurrent run either sees the whole build or none
        except OSError:
            shutil.rmtree(work, ignore_errors=True)  # another run finished the same build first
        return final, dict(facts, cached=False, seconds=seconds)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def read_json(path):
    import json
    with open(path) as f:
        return json.load(f)


def write_json(path, value):
    import json
    with open(path, "w") as f:
        json.dump(value, f)


def paired(repeat, one, threads):
    best = best_of_each(repeat, one=one, many=threads)
    return {"one_thread_s": best["one"], "threads_s": best["many"]}


def measure(module, iterations, repeat, openmp):
    halves = [(h,) for h in split(iterations, 2)]
    result = {
        "nogil": paired(repeat, lambda: module.count_nogil(iterations),
                        lambda: run_threads(module.count_nogil, halves)),
        "gil": paired(repeat, lambda: module.count_gil(iterations),
                      lambda: run_threads(module.count_gil, halves)),
        "prange": {"one_thread_s": None, "threads_s": None},
    }
    if openmp:
        result["prange"] = paired(repeat, lambda: module.count_prange(iterations, 2, 1),
                                  lambda: module.count_prange(iterations, 2, 2))
    return result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "conclab-cython"))
    parser.add_argument("--iterations", type=positive_int, default=100_000_000)
    parser.add_argument("--repeat", type=positive_int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        module_dir, facts = build(args.cache_dir)
    except Unavailable as e:
        emit({"unavailable": str(e)})
        return 0
    sys.path.insert(0, module_dir)
    module = importlib.import_module(MODULE)
    emit({"build": dict(facts, module_dir=module_dir), "iterations": args.iterations,
          **measure(module, args.iterations, args.repeat, facts["openmp"])})
    return 0


if __name__ == "__main__":
    sys.exit(main())
