"""Screening throughput: `wkin screen` over 20 small models (random Wannier models of 2–8 WF written as
_tb.dat, and the built-in lattice models) in one command, serially and under `mpiexec -n 2` (materials
distributed over the ranks). Prints materials per minute and checks that the two tables agree.

    python benchmarks/screening.py [--grid 12] [--ranks 2]

Results: benchmarks/README.md, "screening.py".
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

BUILTIN = ("massive_dirac", "haldane", "rashba_exchange", "weyl_two_node", "chiral_trigonal")

CONFIG = """
[mesh]
grid = [{n}, {n}, {n}]
[fermi]
energies = [-0.5, 0.0, 0.5]
broadening = 0.1
[calculate]
quantities = ["ahc", "berry_dipole", "ohmic", "conductivity_boltzmann"]
[disorder]
model = "cell"
strength = 0.1
[screen]
columns = ["ahc[x,y]", "max|berry_dipole|", "conductivity_boltzmann[x,x]", "ahc[x,y] / conductivity_boltzmann[x,x]"]
table = "{table}"
"""


def main():
    from conftest import random_model  # the tests' random Wannier models (full position matrices)
    from wkin.io.wannier90 import write_tb

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--grid", type=int, default=12)
    p.add_argument("--ranks", type=int, default=2)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        seeds = []
        for i in range(15):
            nw = 2 + i % 7  # 2..8 Wannier functions
            seed = tmp / f"random{i:02d}_nw{nw}"
            write_tb(f"{seed}_tb.dat", random_model(seed=100 + i, nw=nw))
            seeds.append(str(seed))
        seeds += list(BUILTIN)
        env = dict(os.environ, WKIN_FFT_WORKERS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        tables = {}
        for label, prefix in (("serial", []), (f"mpiexec -n {args.ranks}", [shutil.which("mpiexec") or "mpiexec",
                                                                            "-n", str(args.ranks)])):
            table = tmp / f"{label.split()[0]}.csv"
            cfg = tmp / f"{label.split()[0]}.toml"
            cfg.write_text(CONFIG.format(n=args.grid, table=table))
            t0 = time.perf_counter()
            subprocess.run(prefix + [sys.executable, "-m", "wkin.cli", "screen", str(cfg), *seeds, "--quiet"],
                           check=True, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            with open(table, newline="") as f:
                tables[label] = list(csv.DictReader(f))
            ok = len({r["material"] for r in tables[label] if r["status"] == "ok"})
            print(f"{label:14s}: {len(seeds)} materials ({ok} ok) in {wall:6.1f} s = {60 * len(seeds) / wall:6.1f} "
                  "materials/min (process start and imports included)", flush=True)
        a, b = tables.values()
        same = all(x["status"] == y["status"] and all(
            x[k] == y[k] or abs(float(x[k]) - float(y[k])) <= 1e-12 * max(abs(float(x[k])), 1e-300)
            for k in x if k not in ("material", "status")) for x, y in zip(a, b))
        print(f"tables equal (1e-12): {same}; statuses: "
              + ", ".join(sorted({r['status'].split(':')[0] for r in a})))


if __name__ == "__main__":
    main()
