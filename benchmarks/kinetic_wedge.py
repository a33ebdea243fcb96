#!/usr/bin/env python
"""Kinetic quantities on the irreducible wedge vs the full mesh: bcc Fe, the AHE split of the bundled example.

What is timed: ``run_kinetic`` (the Fermi shell at E_F and the companion shells of the skew piece, the collision
operators, every piece of ``ahe_extrinsic``) on the symmetrized bcc Fe model of ``examples/materials/Fe`` (18 WF,
magnetization along z: magnetic point group 4/mm'm', 16 operations), N×N×N tetrahedron grid, scalar ``cell``
disorder u0² = 0.25 eV²·Å³, companion step ``--step`` eV, one process:

* **wedge**: ``[symmetry] mode = "irreducible"`` — every shell is the tetrahedron quadrature of the irreducible
  wedge unfolded by the group; eigen-solves at the wedge points only, mapped by the representation;
* **full (same shells)**: the same symmetric shells with an eigen-solve at every point (what the wedge must equal,
  to 1e-8 — tests/test_kinetic_wedge.py);
* **full (plain)**: the plain tetrahedron shells of the full grid (``mode = "off"``), a quadrature that differs
  from the symmetric one at the discretisation level.

The Hall pieces at E_F are printed for each. Thread variables are set to ``--threads`` before numpy is imported.
Nothing here asserts a time.

Usage::

    python benchmarks/kinetic_wedge.py --grid 30 [--step 2.0] [--threads 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from common import cpu_model, limit_threads

ROOT = Path(__file__).resolve().parents[1]
FE = ROOT / "examples" / "materials" / "Fe" / "Fe"
EF = 13.5219


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--grid", type=int, default=30)
    p.add_argument("--step", type=float, default=2.0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    limit_threads(args.threads, pin=True)

    from wkin.kspace import fermi_surface
    from wkin.model import TightBindingModel
    from wkin.model.representation import projections_from_win, wannier_representation
    from wkin.model.symmetrize import symmetrized_model
    from wkin.plan import run_kinetic
    from wkin.settings import DisorderSettings
    from wkin.symmetry import space_group_operations

    raw = TightBindingModel.from_wannier90(str(FE), spin=True)
    model = symmetrized_model(raw, str(FE) + ".win", magnetization=[0, 0, 1])
    ops = space_group_operations(model, [0, 0, 1])
    rep = wannier_representation(model, projections_from_win(str(FE) + ".win"), ops)
    disorder = DisorderSettings(model="cell", strength=0.25, companion_step=args.step)
    grid = (args.grid,) * 3

    def run(representation):
        t, c = time.perf_counter(), time.process_time()
        out = run_kinetic(model, ["ahe_extrinsic"], [EF], disorder, grid=grid, representation=representation)
        return out["ahe_extrinsic"], time.perf_counter() - t, time.process_time() - c

    rows = [("wedge", *run(rep))]
    shell = fermi_surface.TetrahedronSampler.shell
    fermi_surface.TetrahedronSampler.shell = lambda self, m: dataclasses.replace(shell(self, m), unfolding=None)
    rows.append(("full (same shells)", *run(rep)))
    fermi_surface.TetrahedronSampler.shell = shell
    rows.append(("full (plain)", *run(None)))

    print(f"# CPU: {cpu_model()}; threads {args.threads}; bcc Fe (18 WF, 16 operations), {args.grid}^3, "
          f"companion step {args.step} eV")
    print("| shells | wall s | CPU s | wedge speed-up (wall) | sigma_xy drude | ext. velocity | side jump | skew | total |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, res, wall, cpu in rows:
        xy = {k: res[k][0, 0, 1] for k in ("drude", "extrinsic_velocity", "side_jump", "skew", "total")}
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {wall / rows[0][2]:.2f} | {xy['drude']:.2f} | "
              f"{xy['extrinsic_velocity']:.2f} | {xy['side_jump']:.2f} | {xy['skew']:.2f} | {xy['total']:.2f} |")


if __name__ == "__main__":
    main()
