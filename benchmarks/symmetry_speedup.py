#!/usr/bin/env python
"""Irreducible wedge vs full mesh on the symmetrized bundled models (project issue 6, item 3).

For trigonal Te (orbital gyrotropic K, ``gme_orb``, Fermi energies and Gaussian
smearing of ``examples/materials/Te/gyrotropic.toml``) and bcc Fe with m ∥ z
(intrinsic AHC at E_F = 13.5219 eV), the script

1. loads the model and symmetrizes it (:func:`wkin.model.symmetrize.symmetrized_model`,
   projections from the ``.win``), reporting how much the input broke the symmetry;
2. times :func:`wkin.kspace.integrate.integrate` (full Γ-centred N³ mesh, FFT blocks) and
   :func:`wkin.kspace.integrate.integrate` with ``symmetry`` (irreducible points, weights, the
   result projected with the magnetic point group) on the same mesh;
3. prints the speed-up (full wall time ÷ irreducible wall time) and the largest
   difference relative to the largest |component|, for the symmetrized model and,
   for comparison, for the raw one (on which the two differ by its symmetry breaking).

One process, ``--threads`` threads (thread variables set and the process pinned
before numpy is imported). Usage::

    python benchmarks/symmetry_speedup.py                      # Te 40³, Fe 30³
    python benchmarks/symmetry_speedup.py --te-grid 24 --fe-grid 20

This is a benchmark script: nothing here asserts wall times.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import cpu_model, limit_threads  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--te-grid", type=int, default=40)
    ap.add_argument("--fe-grid", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-raw", action="store_true", help="do not time the raw (unsymmetrized) models")
    args = ap.parse_args(argv)
    limit_threads(args.threads, pin=True)
    os.environ.setdefault("WKIN_FFT_WORKERS", str(args.threads))

    import numpy as np

    from wkin.kspace.integrate import integrate
    from wkin.kspace.occupations import Occupations
    from wkin.model import TightBindingModel
    from wkin.model.symmetrize import symmetrized_model
    from wkin.progress import Progress
    from wkin.quantities import observables
    from wkin.symmetry import crystal_symmetry
    Progress.enabled = False

    te = os.path.join(ROOT, "examples", "materials", "Te", "Te")
    fe = os.path.join(ROOT, "examples", "materials", "Fe", "Fe")
    cases = [
        ("Te", te, None, "gme_orb", args.te_grid,
         Occupations(mu=np.arange(5.8406, 6.0406 + 1e-9, 0.02), surface_kind="gaussian", broadening=0.00707106781)),
        ("Fe", fe, [0.0, 0.0, 1.0], "ahc", args.fe_grid, Occupations(mu=np.array([13.5219]))),
    ]
    print(f"# CPU: {cpu_model()}; {args.threads} thread(s); load average {os.getloadavg()[0]:.2f}")
    rows = []
    for name, seed, mag, q, n, occ in cases:
        raw = TightBindingModel.from_wannier90(seed)
        t0 = time.perf_counter()
        sym = symmetrized_model(raw, seed, magnetization=mag)
        t_sym = time.perf_counter() - t0
        info = sym.symmetrization
        print(f"# {name}: {info['operations']} operations ({info['antiunitary']} antiunitary), "
              f"symmetrized in {t_sym:.2f} s; max |ΔH| = {info['max_change_H']:.2e} eV, "
              f"max |ΔA| = {info['max_change_A']:.2e} Å, lattice change "
              f"{np.abs(sym.lattice - raw.lattice).max():.1e} Å")
        grid = [n, n, n]
        # warm-up (FFT plans, caches)
        obs = observables([q])
        integrate(sym, obs, occ, [4, 4, 4])
        integrate(sym, obs, occ, [4, 4, 4], symmetry=crystal_symmetry(sym, mag))
        for label, model in (("symmetrized", sym),) + (() if args.skip_raw else (("raw", raw),)):
            t0 = time.perf_counter()
            full = integrate(model, obs, occ, grid).values[q]
            t_full = time.perf_counter() - t0
            t0 = time.perf_counter()
            res = integrate(model, obs, occ, grid, symmetry=crystal_symmetry(model, mag))
            t_irr = time.perf_counter() - t0
            irr = res.values[q]
            rel = float(np.abs(irr - full).max() / np.abs(full).max())
            rows.append((name, label, q, n, n ** 3, res.nk_evaluated, t_full, t_irr, t_full / t_irr, rel))
            print(f"{name:3s} {label:12s} {q:8s} {n}³: full {n ** 3} k {t_full:8.2f} s | irreducible "
                  f"{res.nk_evaluated} k {t_irr:8.2f} s | speed-up {t_full / t_irr:5.2f} | "
                  f"max rel diff {rel:.2e}", flush=True)
    print("\n| model | quantity | grid | full k | irreducible k | full s | irreducible s | speed-up | max rel. diff |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, label, q, n, nf, ni, tf, ti, sp, rel in rows:
        print(f"| {name} ({label}) | {q} | {n}³ | {nf} | {ni} | {tf:.2f} | {ti:.2f} | {sp:.2f} | {rel:.1e} |")


if __name__ == "__main__":
    main()
