"""Before/after: a kinetic run with the Fermi shells built once (the registry/run-plan commit) against an
earlier commit of wkin, on the same configuration, machine and thread settings, in one invocation.

Both versions run ``wkin run CONFIG --quiet`` as separate processes (one thread each, pinned to the
same CPU), the earlier one from a git worktree of ``--before``. The script prints wall and CPU time
of each and their ratio, and compares every dataset the two HDF5 files share (an earlier version
wrote conductivities in S/m: datasets whose ``units`` attributes differ are converted to S/cm) —
the numbers must agree to rounding (the refactoring changed no formula).

    python benchmarks/shared_shells.py [--config examples/materials/Fe/ahe_extrinsic.toml] [--mode verify]
        [--before c314e4a] [--after REV] [--grid 30] [--levels 1]
        [--quantities ahc ahe_extrinsic conductivity_boltzmann] [--energies 13.42 13.52] [--companion-step 4.0]
        [--threads 1] [--repeat 1]

``--grid`` / ``--levels`` / ``--energies`` / ``--companion-step`` / ``--mode`` override ``[mesh] grid`` /
``adaptive.levels`` / ``[fermi] energies`` / ``[disorder] companion_step`` / ``[symmetry] mode``, ``--quantities`` the ``[calculate] quantities``
(e.g. add ``conductivity_boltzmann``, which shares the μ shells with ``ahe_extrinsic``); ``--after`` compares two
revisions instead of a revision and the working tree. Results: benchmarks/README.md, "Shared Fermi shells".
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import THREAD_VARS, cpu_model

ROOT = Path(__file__).resolve().parents[1]


def _config(path, grid, levels, quantities, out, energies=None, step=None, mode=None):
    """The configuration text with paths made absolute and the overrides applied."""
    text = Path(path).read_text()
    base = Path(path).resolve().parent
    text = re.sub(r'(?m)^wannier90\s*=\s*"([^"]+)"', lambda m: f'wannier90 = "{(base / m.group(1)).as_posix()}"', text)
    text = re.sub(r'(?m)^file\s*=\s*"[^"]+"', f'file = "{out}"', text)
    if grid:
        text = re.sub(r"(?m)^grid\s*=.*$", f"grid = [{grid}, {grid}, {grid}]", text)
    if levels is not None:
        text = re.sub(r"levels\s*=\s*\d+", f"levels = {levels}", text)
    if quantities:
        text = re.sub(r"(?m)^quantities\s*=.*$", "quantities = [" + ", ".join(f'"{q}"' for q in quantities) + "]",
                      text)
    if energies:
        text = re.sub(r"(?m)^energies\s*=.*$", "energies = [" + ", ".join(map(str, energies)) + "]", text)
    if step:
        text = re.sub(r"(?m)^companion_step\s*=.*$", f"companion_step = {step}", text)
    if mode:
        text = re.sub(r'(?m)^mode\s*=.*$', f'mode = "{mode}"', text)
    return text


def _run(source, config, threads):
    """Wall and CPU seconds and peak memory (GB, /usr/bin/time) of ``wkin run`` with the package from ``source``."""
    env = dict(os.environ, PYTHONPATH=str(source), WKIN_FFT_WORKERS=str(threads))
    env.update({name: str(threads) for name in THREAD_VARS})
    cpus = sorted(os.sched_getaffinity(0))[-threads:]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "maxrss_kb %M", "taskset", "-c", ",".join(map(str, cpus)),
                           sys.executable, "-c", "import sys; from wkin.cli import main; sys.exit(main(sys.argv[1:]))",
                           "run", str(config), "--quiet"], env=env, cwd=source, check=True, stderr=subprocess.PIPE,
                          text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss = [float(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("maxrss_kb")]
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), rss[-1] / 1e6 if rss else 0.0


def _compare(a, b):
    """Largest |a − b| / max|a| over the datasets both files hold (S/m → S/cm where the units differ)."""
    import h5py
    import numpy as np
    worst = {}
    with h5py.File(a) as fa, h5py.File(b) as fb:
        def visit(name, obj):
            if not isinstance(obj, h5py.Dataset) or name not in fb or obj.dtype.kind not in "fiu":
                return
            x, y = obj[()], fb[name][()]
            ua, ub = obj.attrs.get("units", ""), fb[name].attrs.get("units", "")
            if ua == "S/m" and ub == "S/cm":
                x = 1e-2 * np.asarray(x)
            if np.shape(x) != np.shape(y):
                return
            scale = np.nanmax(np.abs(x)) if np.size(x) else 0.0
            if scale > 0:
                worst[name] = float(np.nanmax(np.abs(np.asarray(y) - x)) / scale)
        fa.visititems(visit)
    return worst


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", default=str(ROOT / "examples/materials/Fe/ahe_extrinsic.toml"))
    p.add_argument("--before", default="c314e4a", help="git revision of the earlier wkin")
    p.add_argument("--after", default=None, help="git revision of the later wkin (default: the working tree)")
    p.add_argument("--energies", type=float, nargs="+", default=None, help="override [fermi] energies (eV)")
    p.add_argument("--companion-step", type=float, default=None, help="override [disorder] companion_step (eV)")
    p.add_argument("--mode", default=None, help="override [symmetry] mode")
    p.add_argument("--grid", type=int, default=None)
    p.add_argument("--levels", type=int, default=None)
    p.add_argument("--quantities", nargs="+", default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=1)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sources = {"before": (tmp / "before", args.before), "after": (tmp / "after", args.after)}
        for path, rev in sources.values():
            if rev is not None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(path), rev], check=True)
        try:
            times = {}
            for label, (path, rev) in sources.items():
                cfg = tmp / f"{label}.toml"
                cfg.write_text(_config(args.config, args.grid, args.levels, args.quantities, tmp / f"{label}.h5",
                                       args.energies, args.companion_step, args.mode))
                runs = [_run(path if rev is not None else ROOT, cfg, args.threads) for _ in range(args.repeat)]
                times[label] = min(runs)
                print(f"{label:6s} ({rev or 'working tree'}): "
                      f"wall {times[label][0]:8.1f} s   CPU {times[label][1]:8.1f} s   peak {times[label][2]:5.2f} GB",
                      flush=True)
            worst = _compare(tmp / "before.h5", tmp / "after.h5")
        finally:
            for path, rev in sources.values():
                if rev is not None:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=True)
    print(f"speed-up (before / after): wall {times['before'][0] / times['after'][0]:.2f}x, "
          f"CPU {times['before'][1] / times['after'][1]:.2f}x   [{cpu_model()}, {args.threads} thread(s)]")
    print(f"largest relative difference over {len(worst)} shared datasets: "
          f"{max(worst.values()) if worst else float('nan'):.2e}")
    for name, d in sorted(worst.items(), key=lambda kv: -kv[1])[:8]:
        print(f"   {name:40s} {d:.2e}")


if __name__ == "__main__":
    main()
