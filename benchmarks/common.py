"""Pieces shared by the benchmark scripts. Import it before numpy: it sets thread variables."""

from __future__ import annotations

import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def limit_threads(threads, pin=False):
    """Set every thread variable to ``threads`` (before numpy is loaded); optionally pin this process
    (and its children) to ``threads`` CPUs, because scipy.fft may start its own workers."""
    for name in THREAD_VARS:
        os.environ[name] = str(threads)
    if pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[-threads:])


def rates(results):
    """k-points per second of wall and CPU time per result key (name, grid), postw90 set-up subtracted."""
    rate, crate = {}, {}
    for key, r in results.items():
        npts = key[1] ** 3 - (8 if "setup" in r else 0)
        rate[key] = npts / (r["t"] - r.get("setup", 0.0))
        crate[key] = npts / (r["cpu"] - r.get("setup_cpu", 0.0))
    return rate, crate
