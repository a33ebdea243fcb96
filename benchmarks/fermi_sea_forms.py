#!/usr/bin/env python
"""Fermi-sea forms (ohmic, berry_dipole, gme_orb at T = 0): wkin vs WannierBerri's *_FermiSea, wall and CPU time.

The same calculation in both codes: the exact T = 0 Fermi-sea forms of the Ohmic conductivity (inverse mass),
the Berry-curvature dipole (∂Ω) and the orbital gyrotropic K (∂m, "H and A" moment) — with the tight-binding
position matrix, i.e. WannierBerri without external terms — of the bundled trigonal Te model (``_tb.dat``, no Wigner–Seitz
correction in either), on a Γ-centred N×N×N mesh of the full zone (no symmetry, no refinement), at ``--nef`` Fermi
energies, one process and the same thread count (set, and the process pinned, before numpy is imported).

Like for like: the same ``_tb.dat`` (WannierBerri ``System_R.from_tb_dat``; wkin ``TightBindingModel`` with the
tight-binding position matrix), the same mesh (WannierBerri NKFFT = N, one FFT block), ``use_irred_kpt=False,
symmetrize=False``; the three quantities in one pass of each code. Reading the file is excluded; both codes are
warmed up on 4³ first. The values are compared (relative difference, the tests ask for 1e-6) so the timing is of
the same numbers. Nothing here asserts a wall time.

Usage::

    python benchmarks/fermi_sea_forms.py --grid 24 [--nef 11] [--threads 1]
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import tempfile
import time
from pathlib import Path

from common import cpu_model, limit_threads

ROOT = Path(__file__).resolve().parents[1]
TE = ROOT / "examples" / "materials" / "Te"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--grid", type=int, default=24)
    p.add_argument("--nef", type=int, default=11)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    limit_threads(args.threads, pin=True)

    import numpy as np
    import wannierberri as wb

    from wkin.kspace.integrate import integrate
    from wkin.kspace.occupations import Occupations
    from wkin.model import TightBindingModel
    from wkin.quantities import observables

    work = Path(tempfile.mkdtemp())
    with gzip.open(TE / "Te_tb.dat.gz", "rb") as src, open(work / "Te_tb.dat", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.chdir(work)
    system = wb.system.System_R.from_tb_dat(tb_file=str(work / "Te_tb.dat"), berry=True)
    model = TightBindingModel.from_wannier90(str(TE / "Te"), use_ws_distance=False)
    model = TightBindingModel(model.lattice, model.R, model.H_R, centres=model.centres)
    ef = np.linspace(5.80, 6.00, args.nef)
    names = ["ohmic", "berry_dipole", "gme_orb"]

    def run_wkin(n):
        return integrate(model, observables(names, tau=1.0), Occupations(mu=ef), (n, n, n)).values

    def run_wb(n):
        st = wb.calculators.static
        calcs = {"ohmic": st.Ohmic_FermiSea(Efermi=ef), "berry_dipole": st.BerryDipole_FermiSea(Efermi=ef, use_factor=False,
                                                                                          kwargs_formula={"external_terms": False}),
                 "gme_orb": st.GME_orb_FermiSea(Efermi=ef, kwargs_formula={"external_terms": False})}
        res = wb.run(system, grid=wb.Grid(system, NK=(n, n, n), NKFFT=(n, n, n)), calculators=calcs, use_irred_kpt=False,
                     symmetrize=False, print_Kpoints=False, parallel=False)
        return {k: res.results[k].data for k in calcs}

    def timed(f, n):
        t, c = time.perf_counter(), time.process_time()
        out = f(n)
        return out, time.perf_counter() - t, time.process_time() - c

    run_wkin(4), run_wb(4)
    a, tw, cw = timed(run_wkin, args.grid)
    b, tb, cb = timed(run_wb, args.grid)
    scale = {"ohmic": 100.0, "berry_dipole": 1.0, "gme_orb": 1.0}  # WannierBerri's Ohmic: S/m at τ = 1 fs
    print(f"# CPU: {cpu_model()}; threads {args.threads}; Te _tb.dat ({model.num_wann} WF), {args.grid}^3, "
          f"{args.nef} Fermi energies")
    print("| code | wall s | CPU s | k/s (wall) | wkin speed-up (wall) | wkin speed-up (CPU) |")
    print("|---|---:|---:|---:|---:|---:|")
    nk = args.grid ** 3
    print(f"| wkin | {tw:.1f} | {cw:.1f} | {nk / tw:.0f} | 1.00 | 1.00 |")
    print(f"| WannierBerri | {tb:.1f} | {cb:.1f} | {nk / tb:.0f} | {tb / tw:.2f} | {cb / cw:.2f} |")
    for name in names:
        rel = np.abs(a[name] * scale[name] - b[name]).max() / np.abs(b[name]).max()
        print(f"# {name}: max relative difference {rel:.1e}")


if __name__ == "__main__":
    main()
