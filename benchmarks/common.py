"""Pieces shared by the benchmark scripts. Import it before numpy: it sets thread variables."""

from __future__ import annotations

import os
import re

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


def cpu_model():
    """The 'model name' of /proc/cpuinfo, or 'unknown'."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


#: postw90 task keywords stripped from a seed's .win before a benchmark adds its own task
_POSTW90_TASKS = (r"berry\w*|kubo\w*|dos\w*|kpath\w*|kslice\w*|gyrotropic\w*|boltz\w*|geninterp\w*|spin_\w*|"
                  r"shc\w*|sc_\w*|fermi_energy\w*|num_elec_per_state|kmesh\w*|adpt_smr\w*|smr_\w*|use_ws_distance|"
                  r"iprint|timing_level|transl_inv|spn_formatted|wanint_kpoint_file|effective_model|optics_\w*")


def strip_postw90_tasks(text, keep_uhu=False):
    """Lines of a .win without postw90 task keywords (``uhu_formatted`` too unless ``keep_uhu``)."""
    pattern = re.compile(r"(?i)^\s*(" + _POSTW90_TASKS + ("" if keep_uhu else "|uhu_formatted") + r")\b")
    return [ln for ln in text.splitlines() if not pattern.match(ln)]
