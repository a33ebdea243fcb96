#!/usr/bin/env python
"""The kinetic gyrotropic tensor g(ω) (issue 14): Te convergence against ``gme_orb``, and the cost of frequencies.

Two measurements on the trigonal Te model of ``examples/materials/Te`` (9 WF, symmetrized Hamiltonian, kinetic
shells on the irreducible wedge of D3, ``[symmetry] mode = "irreducible"``):

* ``--part convergence``: at constant τ (``[disorder] model = "constant_tau"``) and ω = 0, g^int on the symmetric
  tetrahedron shell against the Brillouin-zone ``gme_orb`` tensor of the same mesh (Fermi-sea form, exact at each μ)
  mapped by g^int_ab = −(iτ/ħ)(K_ba − δ_ab Tr K), for the meshes of ``--grids``; and the D3 shape of g (xx = yy,
  off-diagonals zero: its forbidden fraction before projection).
* ``--part frequencies``: ``atom`` disorder with a third cumulant (all three pieces), the time of
  ``run_kinetic(["gyrotropic"])`` for 1, 10 and 100 frequencies (ħω > 0) on one mesh; the number of Fermi-surface
  states.
* ``--part scale``: one such run with ``--nfreq`` frequencies on a large mesh, wall time and peak memory per rank
  (``mpiexec -n 2 python benchmarks/gyrotropic_kinetic.py --part scale --grid 190``: N_FS ≈ 10⁶).

Thread variables are set to ``--threads`` before numpy is imported. Nothing here asserts a time.

Usage::

    python benchmarks/gyrotropic_kinetic.py --part convergence --grids 24 36 48 --mu 5.5
    python benchmarks/gyrotropic_kinetic.py --part frequencies --grid 40 --mu 5.5
    mpiexec -n 2 python benchmarks/gyrotropic_kinetic.py --part scale --grid 190 --nfreq 20
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import cpu_model, limit_threads

ROOT = Path(__file__).resolve().parents[1]
TE = ROOT / "examples" / "materials" / "Te" / "Te"


def _model():
    from wkin.model import TightBindingModel
    from wkin.model.representation import projections_from_win, wannier_representation
    from wkin.model.symmetrize import symmetrized_model
    from wkin.symmetry import space_group_operations
    model = symmetrized_model(TightBindingModel.from_wannier90(str(TE)), str(TE))
    ops = space_group_operations(model)
    return model, wannier_representation(model, projections_from_win(str(TE) + ".win"), ops)


def convergence(args):
    import numpy as np

    from wkin.kspace.integrate import integrate
    from wkin.kspace.occupations import Occupations
    from wkin.plan import run_kinetic
    from wkin.quantities import observables
    from wkin.settings import DisorderSettings
    from wkin.symmetry import crystal_symmetry, forbidden_fraction
    from wkin.units import HBAR_EVS
    model, rep = _model()
    sym = crystal_symmetry(model)
    tau = 10.0
    print(f"# Te, mu = {args.mu} eV, constant tau = {tau} fs, omega = 0; g in uS, K in uA")
    print("#  grid   N_FS   g_int_xx(shell)  g_int_zz(shell)   from K_grid: xx        zz     forbidden(g)   time(s)")
    for n in args.grids:
        t0 = time.perf_counter()
        out = run_kinetic(model, ["gyrotropic"], [args.mu], DisorderSettings("constant_tau", tau=tau), grid=(n,) * 3,
                          representation=rep, frequencies=[0.0])["gyrotropic"]
        g = out["intrinsic"][0, 0]
        K = integrate(model, observables(["gme_orb"]), Occupations(mu=np.array([args.mu])), (n,) * 3,
                      symmetry=sym).values["gme_orb"][0]
        gK = -1j * tau * 1e-15 / HBAR_EVS * (K.T - np.eye(3) * np.trace(K))
        nfs = run_states(model, rep, n, args.mu)
        print(f"{n:7d} {nfs:6d} {g[0, 0].imag * 1e6:16.5f} {g[2, 2].imag * 1e6:16.5f} {gK[0, 0].imag * 1e6:14.5f} "
              f"{gK[2, 2].imag * 1e6:10.5f} {forbidden_fraction(g, sym, 'axial2_even'):12.2e} "
              f"{time.perf_counter() - t0:9.1f}")


def run_states(model, rep, n, mu):
    from wkin.kspace import fermi_surface
    return len(fermi_surface.TetrahedronSampler(model, (n,) * 3, operations=rep.ops).shell(mu).k)


def frequencies(args):
    import numpy as np

    from wkin.plan import run_kinetic
    from wkin.settings import DisorderSettings
    model, rep = _model()
    disorder = DisorderSettings("atom", strength=1.0, third_moment=0.5)
    print(f"# Te, mu = {args.mu} eV, atom disorder u0^2 = 1 eV^2 A^3, u1^3 = 0.5 eV^3 A^6, grid {args.grid}^3 "
          f"(wedge), N_FS = {run_states(model, rep, args.grid, args.mu)}")
    base = None
    for nf in (1, 10, 100):
        freqs = np.linspace(0.0005, 0.01, nf)
        t0 = time.perf_counter()
        run_kinetic(model, ["gyrotropic"], [args.mu], disorder, grid=(args.grid,) * 3, representation=rep,
                    frequencies=freqs)
        dt = time.perf_counter() - t0
        base = base or dt
        print(f"# {nf:4d} frequencies: {dt:8.2f} s  ({dt / base:.2f} x one)")


def scale(args):
    """One run of ``gyrotropic`` with ``--nfreq`` frequencies on the ``--grid`` mesh (N_FS from the grid), wall time
    and peak memory per rank (run it under ``mpiexec -n 2``)."""
    import resource

    import numpy as np

    from wkin import parallel
    from wkin.plan import run_kinetic
    from wkin.settings import DisorderSettings
    model, rep = _model()
    disorder = DisorderSettings("atom", strength=1.0, third_moment=0.5)
    t0 = time.perf_counter()
    out = run_kinetic(model, ["gyrotropic"], [args.mu], disorder, grid=(args.grid,) * 3, representation=rep,
                      frequencies=np.linspace(0.0005, 0.01, args.nfreq))["gyrotropic"]
    dt = time.perf_counter() - t0
    peak = parallel.gather_concat(np.array([[resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20]]))
    n_fs = run_states(model, rep, args.grid, args.mu)  # collective (the grid energies): on every rank
    if parallel.is_root():
        print(f"# Te, grid {args.grid}^3 (wedge), N_FS = {n_fs}, {args.nfreq} frequencies, {parallel.size()} rank(s): "
              f"{dt:.1f} s, peak memory per rank {peak.max():.2f} GB; g_total_zz(first) = {out['total'][0, 0, 2, 2]:.6g}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("convergence", "frequencies", "scale"), required=True)
    p.add_argument("--nfreq", type=int, default=20)
    p.add_argument("--grids", type=int, nargs="+", default=[24, 36, 48])
    p.add_argument("--grid", type=int, default=40)
    p.add_argument("--mu", type=float, default=5.5)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    limit_threads(args.threads, pin=True)
    print(f"# {cpu_model()}, {args.threads} thread(s)")
    {"convergence": convergence, "frequencies": frequencies, "scale": scale}[args.part](args)


if __name__ == "__main__":
    main()
