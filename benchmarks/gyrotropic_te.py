#!/usr/bin/env python
"""Gyrotropic K (orbital) of trigonal Te: wkin vs WannierBerri vs postw90, wall and CPU time.

The same calculation in every code: the orbital gyrotropic magnetoelectric
tensor K_ab = (e²/ħ)∫ Σ_n (−f′) v_na m^orb_nb (Zhong, Moore & Souza 2016;
postw90 ``gyrotropic_task = -k``, in A) of the Te model of this repository's
QE + Wannier90 pipeline, on a uniform N×N×N mesh of the full Brillouin zone
(Γ-centred, no symmetry, no refinement), at one Fermi energy, with a Gaussian
smearing of the Fermi-surface δ, one process and the same thread count
(thread variables set and the process pinned before numpy is imported, as in
``benchmarks/interpolation.py``, whose helpers are reused).

Smearing. postw90's δ(x) = exp(−(x/η)²)/(√π η) with η =
``gyrotropic_smr_fixed_en_width`` (``--eta``, default 0.01 eV); that is a
normal distribution of σ = η/√2, which is wkin's ``broadening`` for
``surface_kind="gaussian"``. WannierBerri has no per-state Gaussian: it bins
the states on a Fermi-energy grid (a box of half-width dE = ``--wb-de``) and
smooths the result with its ``GaussianSmoother`` (the same exp(−(x/η)²) form,
``smear = η``), so it is run on a grid EF ± 9η and the smoothed value at EF is
reported (each state then gets the mean of the Gaussian at the two grid
energies next to it: a per-state Gaussian up to O(dE/η) per state, of
alternating sign, which largely averages out over the Fermi surface).

The orbital moment is not the same in the three codes, so the K values differ
and only the timings are like for like:

* postw90 — full orbital moment, with ⟨u|H|u⟩ matrices from ``.uHu`` (the
  B and C matrices), from ``.chk``/``.eig``/``.mmn``/``.uHu``.
* wkin — the "H and A" orbital moment (completeness restricted to the Wannier
  bands; H(R) and r(R) of ``_tb.dat``, Wigner–Seitz correction from
  ``_wsvec.dat``).
* WannierBerri (``_tb.dat``) — ``GME_orb_FermiSurf`` with
  ``kwargs_formula={"external_terms": False}`` (``_tb.dat`` has no B/C
  matrices); the internal terms only, and μ in place of ε_n in the
  Fermi-surface moment.
* WannierBerri (``.uHu``) — the same calculator with external terms from the
  Wannier90 files (``.chk``, ``.eig``, ``.mmn``, ``.uHu``, ``.nnkp``): the same
  physics as postw90 (``--skip-wb-uhu`` to leave out).

Values are compared where they should agree: WannierBerri (``_tb.dat``)
against wkin with the tight-binding position matrix and the μ-for-ε_n term
(as in ``tests/test_material_te.py``; box weights on WannierBerri's
Fermi-energy grid, on a ``--check-grid`` mesh), and WannierBerri (``.uHu``)
against postw90.

Timings exclude reading the input files. wkin and WannierBerri are first run
on a small grid (warm-up: numba compilation, FFT plans). postw90 is a separate
process; its set-up (reading .chk, .eig, .mmn, .uHu, building H(R), A(R),
B(R), C(R)) is measured with a 2×2×2 run and subtracted, raw and net rates
are printed. A code whose estimated N³ time exceeds ``--max-seconds`` is timed
on a smaller grid (and wkin with it, on the same grid); rates are per k-point.

Usage::

    python benchmarks/gyrotropic_te.py --workdir /tmp/w90_Te_final --grid 50
    python benchmarks/gyrotropic_te.py --workdir /tmp/w90_Te_final --grid 50 --skip-postw90

The workdir is that of ``interfaces/qe_wannier90/run_pipeline.py Te --workdir
DIR --postw90`` (the bundled ``examples/materials/Te`` lacks .chk/.mmn/.uHu).
This is a benchmark script: nothing here asserts wall times.
"""

from __future__ import annotations

import argparse
import os
import sys

from common import limit_threads, rates, strip_postw90_tasks  # noqa: E402

PIPELINE = "python interfaces/qe_wannier90/run_pipeline.py Te --workdir DIR --postw90"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", default="/tmp/w90_Te_final",
                   help="Wannier90 run directory with SEED_tb.dat, SEED.win, SEED_wsvec.dat and, for postw90 / "
                        "WannierBerri (.uHu), SEED.chk, .eig, .mmn, .uHu, .nnkp (default /tmp/w90_Te_final)")
    p.add_argument("--seedname", default="Te")
    p.add_argument("--grid", type=int, default=50, help="uniform grid N (N×N×N k-points), default 50")
    p.add_argument("--ef", type=float, default=5.90, help="Fermi energy in eV (default 5.90, in the valence band)")
    p.add_argument("--eta", type=float, default=0.01,
                   help="postw90 gyrotropic_smr_fixed_en_width η in eV (Gaussian exp(-(x/η)²)/(√π η)); "
                        "wkin uses σ = η/√2 (default 0.01)")
    p.add_argument("--wb-de", type=float, default=0.0005,
                   help="WannierBerri Fermi-energy grid step in eV (box half-width before smoothing; default 0.0005)")
    p.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/numba threads for every code (default 1)")
    p.add_argument("--no-pin", action="store_true", help="do not pin the benchmark (and postw90) to --threads CPUs")
    p.add_argument("--nkfft", type=int, default=None, help="WannierBerri FFT sub-grid (a divisor of --grid)")
    p.add_argument("--check-grid", type=int, default=20,
                   help="mesh of the wkin-vs-WannierBerri(_tb.dat) value check (0: skip; default 20)")
    p.add_argument("--skip-wannierberri", action="store_true")
    p.add_argument("--skip-wb-uhu", action="store_true", help="skip WannierBerri from the .chk/.mmn/.uHu files")
    p.add_argument("--skip-postw90", action="store_true")
    p.add_argument("--postw90", default="postw90.x", help="postw90 executable (default postw90.x)")
    p.add_argument("--max-seconds", type=float, default=900.0,
                   help="if a code's estimated N³ time exceeds this, time it (and wkin) on a smaller grid "
                        "and report per-k rates (default 900)")
    return p.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:  # before numpy (or anything importing it) is loaded
    limit_threads(ARGS.threads, pin=not ARGS.no_pin)  # pinning is inherited by postw90

import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interpolation import machine_info, quiet, wb_nkfft  # noqa: E402

from wkin.io.wannier90 import read_win  # noqa: E402
from wkin.kspace.integrate import Observable, integrate  # noqa: E402
from wkin.kspace.occupations import Occupations  # noqa: E402
from wkin.model import TightBindingModel  # noqa: E402
from wkin.progress import Progress  # noqa: E402
from wkin.quantities import observables  # noqa: E402
from wkin.response.intrinsic import GME_ORB_PREFACTOR, energy_weighted_dipole  # noqa: E402

COMPONENTS = {"xx": (0, 0), "yy": (1, 1), "zz": (2, 2)}


# ---------------------------------------------------------------------------- inputs
def check_inputs(args):
    seed = os.path.join(args.workdir, args.seedname)
    need = ["_tb.dat", ".win", "_wsvec.dat"]
    missing = [args.seedname + s for s in need if not os.path.exists(seed + s)]
    if missing:
        raise SystemExit(
            f"{args.workdir}: missing {', '.join(missing)}. This benchmark needs the full Wannier90 outputs of "
            f"the Te pipeline run (also .chk, .eig, .mmn, .uHu, .nnkp for postw90 and WannierBerri with "
            f".uHu); produce them with\n    {PIPELINE}\n(a few minutes, serial) and pass --workdir DIR.")
    return seed


def w90_missing(seed, suffixes):
    return [os.path.basename(seed) + s for s in suffixes if not os.path.exists(seed + s)]


# ---------------------------------------------------------------------------- wkin
def wkin_occ(args):
    return Occupations(mu=np.array([args.ef]), surface_kind="gaussian", broadening=args.eta / np.sqrt(2))


def run_wkin(model, occ, n):
    Progress.enabled = False
    t0, c0 = time.perf_counter(), time.process_time()
    res = integrate(model, observables(["gme_orb"]), occ, (n, n, n))
    t, c = time.perf_counter() - t0, time.process_time() - c0
    return t, c, res.values["gme_orb"][0]


def wkin_tb_convention(model, occ, n):
    """wkin's K on the tight-binding position matrix, converted to WannierBerri's convention without external
    terms (μ in place of ε_n; tests/test_material_te.py), (n_mu, 3, 3)."""
    tb = TightBindingModel(model.lattice, model.R, model.H_R, centres=model.centres)
    shift = Observable("shift", "surface", energy_weighted_dipole, (3, 3), GME_ORB_PREFACTOR)
    Progress.enabled = False
    g = integrate(tb, observables(["gme_orb", "berry_dipole"]) + [shift], occ, (n, n, n)).values
    efs = occ.mu
    c = GME_ORB_PREFACTOR
    return g["gme_orb"] - (g["shift"] - c * efs[:, None, None] * g["berry_dipole"])


# ---------------------------------------------------------------------------- WannierBerri
def wb_efermi(args):
    """Fermi-energy grid EF ± 9η (the smoother needs ±8η around EF), EF on it; index of EF."""
    m = int(np.ceil(9 * args.eta / args.wb_de))
    return args.ef + args.wb_de * np.arange(-m, m + 1), m


def run_wb(wb, system, efs, i_ef, eta, n, nkfft, workdir, external):
    sm = wb.smoother.GaussianSmoother(efs, eta)
    calc = {"gme": wb.calculators.static.GME_orb_FermiSurf(
        Efermi=efs, smoother=sm, kwargs_formula={"external_terms": external})}
    with quiet():
        grid = wb.Grid(system, NK=(n, n, n), NKFFT=(nkfft, nkfft, nkfft))
        t0, c0 = time.perf_counter(), time.process_time()
        res = wb.run(system, grid=grid, calculators=calc, use_irred_kpt=False, symmetrize=False,
                     parallel=False, print_Kpoints=False, fout_name=os.path.join(workdir, "wb"),
                     print_progress_step_time=1e9, print_progress_step_percent=1000)
        t, c = time.perf_counter() - t0, time.process_time() - c0
    r = res.results["gme"]
    return t, c, np.asarray(r.dataSmooth)[i_ef], np.asarray(r.data)


def wb_system_tb(wb, seed, mp_grid):
    with quiet():
        s = wb.system.System_R.from_tb_dat(tb_file=seed + "_tb.dat", berry=True)
        s.do_ws_dist(mp_grid=tuple(int(x) for x in mp_grid))
    return s


def wb_system_uhu(wb, seed):
    from wannierberri.system.system_w90 import get_system_w90
    from wannierberri.w90files.wandata import WannierData
    cwd = os.getcwd()
    os.chdir(os.path.dirname(seed))
    try:
        with quiet():
            wd = WannierData.from_w90_files(os.path.basename(seed), files=("chk", "eig", "mmn", "uhu"),
                                            formatted=("uhu",) if uhu_formatted(seed) else ())
            # transl_inv off, WS distance on: as postw90 (transl_inv = false, use_ws_distance = true)
            return get_system_w90(wd, berry=True, morb=True, symmetrize=False)
    finally:
        os.chdir(cwd)


def uhu_formatted(seed):
    """uhu_formatted of the seed's .win (Wannier90 logical: .true./t/true), default false."""
    m = re.search(r"(?im)^\s*uhu_formatted\s*[=:]?\s*(\S+)", open(seed + ".win").read())
    return bool(m) and m.group(1).strip(".").lower().startswith("t")


# ---------------------------------------------------------------------------- postw90
def postw90_win(text, ef, eta, n):
    keep = strip_postw90_tasks(text, keep_uhu=True)
    keep += ["", "! --- added by benchmarks/gyrotropic_te.py ---",
             "gyrotropic = true", "gyrotropic_task = -k", f"gyrotropic_kmesh = {n} {n} {n}",
             f"fermi_energy = {ef!r}", f"gyrotropic_smr_fixed_en_width = {eta!r}", "gyrotropic_smr_max_arg = 5",
             "gyrotropic_degen_thresh = 1e-4",  # wkin's and WannierBerri's default
             "gyrotropic_freq_min = 0.0", "gyrotropic_freq_max = 0.0", "gyrotropic_freq_step = 0.01",
             # postw90 refuses transl_inv = true for the K tensor
             "transl_inv = false", "use_ws_distance = true", "iprint = 1", ""]
    return "\n".join(keep)


def stage_postw90(seed, workdir):
    base = os.path.basename(seed)
    for s in (".chk", ".eig", ".mmn", ".uHu", ".nnkp"):
        if os.path.exists(seed + s):
            os.symlink(os.path.abspath(seed + s), os.path.join(workdir, base + s))
    return open(seed + ".win").read()


def parse_k_orb(path, ef):
    data = np.atleast_2d(np.loadtxt(path))
    rows = data[(np.abs(data[:, 0] - ef) < 1e-4) & (data[:, 1] == 0)]
    if not len(rows):
        raise RuntimeError(f"no E_F = {ef} row in {path}")
    xx, yy, zz, xy, xz, yz, ax, ay, az = rows[0, 2:11]  # symmetric part, then asymmetric (vector) part
    sym = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    asym = np.array([[0, az, -ay], [-az, 0, ax], [ay, -ax, 0]])
    return sym + asym  # only the diagonal is used below


def run_postw90(exe, workdir, base, win_text, ef, eta, n):
    win_path = os.path.join(workdir, base + ".win")
    with open(win_path, "w") as f:
        f.write(postw90_win(win_text, ef, eta, n))
    kfile = os.path.join(workdir, base + "-gyrotropic-K_orb.dat")
    wpout = os.path.join(workdir, base + ".wpout")
    for p in (kfile, wpout):
        if os.path.exists(p):
            os.remove(p)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run([exe, base], cwd=workdir, capture_output=True, text=True)
    t = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    out = open(wpout).read() if os.path.exists(wpout) else ""
    if r.returncode != 0 or "Total Execution Time" not in out or not os.path.exists(kfile):
        werr = os.path.join(workdir, base + ".node_00000.werr")
        err = open(werr).read() if os.path.exists(werr) else ""
        raise RuntimeError(f"postw90 failed (rc={r.returncode}): {r.stdout[-1500:]} {r.stderr[-1500:]} "
                           f"{err[-1500:]} {out[-1500:]}")
    return t, c, parse_k_orb(kfile, ef)


# ---------------------------------------------------------------------------- main
def fmt_k(K):
    return "  ".join(f"{K[a, b]:12.5e}" for a, b in COMPONENTS.values())


def rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


def main(args):
    seed = check_inputs(args)
    n = args.grid
    base = args.seedname
    tmp = tempfile.mkdtemp(prefix="wkin-gyro-te-")
    print("== gyrotropic K (orbital) of trigonal Te: wkin vs WannierBerri vs postw90 ==")
    for line in machine_info(args.threads):
        print(line)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    win = read_win(seed + ".win")
    mp_grid = win.get("mp_grid")
    model = TightBindingModel.from_wannier90(seed, use_ws_distance=True)
    occ = wkin_occ(args)
    print(f"model       : {seed}_tb.dat + _wsvec.dat, num_wann = {model.num_wann}, nR = {len(model.R)} "
          f"(after WS distance), mp_grid = {tuple(int(x) for x in mp_grid)}")
    print(f"task        : K_orb (Fermi surface, all bands), E_F = {args.ef} eV, Gaussian η = {args.eta} eV "
          f"(σ = {args.eta / np.sqrt(2):.5f} eV), uniform {n}x{n}x{n} full-BZ grid, no symmetry, 1 process")

    run_wkin(model, occ, 4)  # warm-up

    # ---- which codes run
    reasons = {}
    wb = sys_tb = sys_uhu = None
    efs, i_ef = wb_efermi(args)
    if args.skip_wannierberri:
        reasons["WannierBerri (_tb.dat)"] = reasons["WannierBerri (.uHu)"] = "skipped (--skip-wannierberri)"
    else:
        with quiet():
            import wannierberri as wb
        sys_tb = wb_system_tb(wb, seed, mp_grid)
        wb_nkfft(n, sys_tb.NKFFT_recommended, args.nkfft)  # validates --nkfft
        miss = w90_missing(seed, [".chk", ".eig", ".mmn", ".uHu", ".nnkp"])
        if args.skip_wb_uhu:
            reasons["WannierBerri (.uHu)"] = "skipped (--skip-wb-uhu)"
        elif miss:
            reasons["WannierBerri (.uHu)"] = f"skipped: {', '.join(miss)} not in {args.workdir} ({PIPELINE})"
        else:
            try:
                sys_uhu = wb_system_uhu(wb, seed)
            except Exception as err:  # noqa: BLE001 - report and go on
                reasons["WannierBerri (.uHu)"] = f"skipped: could not build the system: {err!r}"[:400]
    if args.skip_postw90:
        reasons["postw90"] = "skipped (--skip-postw90)"
    elif shutil.which(args.postw90) is None:
        reasons["postw90"] = f"skipped: {args.postw90} not found"
    else:
        miss = w90_missing(seed, [".chk", ".eig", ".mmn", ".uHu"])
        if miss:
            reasons["postw90"] = f"skipped: {', '.join(miss)} not in {args.workdir} ({PIPELINE})"
        else:
            win_text = stage_postw90(seed, tmp)

    # ---- warm-up + estimates from a small grid
    n_small = 10 if n % 10 == 0 else max(d for d in range(1, min(n, 12) + 1) if n % d == 0)
    est = {}
    t, _, _ = run_wkin(model, occ, n_small)
    est["wkin"] = t * (n / n_small) ** 3
    nkf_small = None
    if sys_tb is not None:
        nkf_small = wb_nkfft(n_small, sys_tb.NKFFT_recommended, None)
        run_wb(wb, sys_tb, efs, i_ef, args.eta, n_small, nkf_small, tmp, False)
        t, _, _, _ = run_wb(wb, sys_tb, efs, i_ef, args.eta, n_small, nkf_small, tmp, False)
        est["WannierBerri (_tb.dat)"] = t * (n / n_small) ** 3
    if sys_uhu is not None:
        f = wb_nkfft(n_small, sys_uhu.NKFFT_recommended, None)
        run_wb(wb, sys_uhu, efs, i_ef, args.eta, n_small, f, tmp, True)
        t, _, _, _ = run_wb(wb, sys_uhu, efs, i_ef, args.eta, n_small, f, tmp, True)
        est["WannierBerri (.uHu)"] = t * (n / n_small) ** 3
    if "postw90" not in reasons:
        try:
            t0, _, _ = run_postw90(args.postw90, tmp, base, win_text, args.ef, args.eta, 2)
            t1, _, _ = run_postw90(args.postw90, tmp, base, win_text, args.ef, args.eta, n_small)
            est["postw90"] = t0 + (t1 - t0) * (n**3 - 8) / (n_small**3 - 8)
        except RuntimeError as err:
            reasons["postw90"] = f"skipped: postw90 failed on the small grid: {err}"
    print(f"estimated {n}³ wall times (from {n_small}³ runs): " + ", ".join(f"{k} {v:.0f} s" for k, v in est.items()))

    grid_for = {}
    for code, e in est.items():
        fits = [m for m in range(n_small, n + 1, n_small) if e * (m / n) ** 3 <= args.max_seconds]
        grid_for[code] = n if e <= args.max_seconds else (max(fits) if fits else n_small)
        if grid_for[code] != n:
            print(f"NOTE: {code} would need ~{e:.0f} s for {n}³ (> --max-seconds {args.max_seconds:.0f}); it is "
                  f"timed on {grid_for[code]}³ instead (k/s is per k-point), and wkin on that grid too")
    grids = sorted(set(grid_for.values()), reverse=True)

    # ---- timed runs
    results = {}
    for g in grids:
        t, c, K = run_wkin(model, occ, g)
        nf = model.grid_blocks((g, g, g))[0]
        results[("wkin", g)] = dict(t=t, cpu=c, K=K, note="H and A moment; FFT blocks " + "x".join(map(str, nf)))
        for name, system, ext in (("WannierBerri (_tb.dat)", sys_tb, False), ("WannierBerri (.uHu)", sys_uhu, True)):
            if system is not None and grid_for[name] == g:
                f = wb_nkfft(g, system.NKFFT_recommended, args.nkfft if args.nkfft and g % args.nkfft == 0 else None)
                t, c, K, _ = run_wb(wb, system, efs, i_ef, args.eta, g, f, tmp, ext)
                results[(name, g)] = dict(
                    t=t, cpu=c, K=K, note=f"external_terms={ext}; NKFFT={f}³, parallel=False, {len(efs)} E_F "
                                          f"(step {args.wb_de}) + GaussianSmoother")
        if "postw90" not in reasons and grid_for["postw90"] == g:
            try:
                t0, c0, _ = run_postw90(args.postw90, tmp, base, win_text, args.ef, args.eta, 2)
                t, c, K = run_postw90(args.postw90, tmp, base, win_text, args.ef, args.eta, g)
                results[("postw90", g)] = dict(
                    t=t, cpu=c, K=K, setup=t0, setup_cpu=c0,
                    note=f"full moment (.uHu); minus set-up {t0:.1f} s wall/{c0:.1f} s cpu (2³ run); "
                         f"raw {g**3 / t:.0f} k/s wall, {g**3 / c:.0f} k/s cpu")
            except RuntimeError as err:
                reasons["postw90"] = f"failed: {err}"

    # ---- value check wkin (tight-binding position matrix, WB convention) vs WannierBerri (_tb.dat)
    check = None
    if sys_tb is not None and args.check_grid:
        nc = args.check_grid
        _, _, smooth, raw = run_wb(wb, sys_tb, efs, i_ef, args.eta, nc,
                                   wb_nkfft(nc, sys_tb.NKFFT_recommended, None), tmp, False)
        box = wkin_tb_convention(model, Occupations(mu=efs, surface_kind="box", broadening=args.wb_de), nc)
        gauss = wkin_tb_convention(model, wkin_occ(args), nc)[0]
        check = (nc, rel(box, raw), np.abs(raw).max(), rel(gauss, smooth), np.abs(gauss).max())

    # ---- report
    print()
    print(f"{'code':<23s} {'grid':>5s} {'wall s':>8s} {'cpu s':>8s} {'k/s wall':>9s} {'k/s cpu':>9s} "
          f"{'wkin/code':>9s} {'(cpu)':>6s}  {'K_xx (A)':>12s}  {'K_yy (A)':>12s}  {'K_zz (A)':>12s}  notes")
    rate, crate = rates(results)
    for key, r in results.items():
        name, g = key
        w = ("wkin", g)
        print(f"{name:<23s} {str(g) + '³':>5s} {r['t']:8.2f} {r['cpu']:8.2f} {rate[key]:9.0f} {crate[key]:9.0f} "
              f"{rate[w] / rate[key]:9.2f} {crate[w] / crate[key]:6.2f}  {fmt_k(r['K'])}  {r['note']}")
    for name, why in reasons.items():
        print(f"{name:<23s} {why}")
    print("k/s wall (cpu) = k-points per second of wall (process CPU) time, postw90 set-up subtracted; "
          "wkin/code = ratio of k/s against wkin on the same grid (> 1: wkin is faster)")
    print("K values differ by construction (orbital moment: postw90 and WannierBerri (.uHu) full, with .uHu; "
          "wkin 'H and A'; WannierBerri (_tb.dat) internal terms only, μ for ε_n); compare timings")
    for g in grids:
        a, b = results.get(("WannierBerri (.uHu)", g)), results.get(("postw90", g))
        if a is not None and b is not None:
            d = np.diag(a["K"]) - np.diag(b["K"])
            print(f"WannierBerri (.uHu) vs postw90 on {g}³ (same physics; WannierBerri's smoothed box grid vs "
                  f"postw90's Gaussian): max |ΔK_aa| = {np.abs(d).max():.2e} A "
                  f"({np.abs(d).max() / np.abs(np.diag(b['K'])).max():.1e} of max |K_aa|)")
        a, b = results.get(("WannierBerri (.uHu)", g)), results.get(("wkin", g))
        if a is not None:
            d = np.diag(b["K"]) - np.diag(a["K"])
            print(f"wkin ('H and A') vs full moment (WannierBerri .uHu) on {g}³: K_aa ratio "
                  + ", ".join(f"{x:.3f}" for x in np.diag(b["K"]) / np.diag(a["K"])))
    print("K_xx = K_yy (point group 32): |K_xx − K_yy| / |K_xx| = "
          + ", ".join(f"{name} {g}³ {abs(r['K'][0, 0] - r['K'][1, 1]) / abs(r['K'][0, 0]):.1e}"
                      for (name, g), r in results.items()))
    if check is not None:
        nc, r_, big, rg, bigg = check
        print(f"value check on {nc}³: wkin with the tight-binding position matrix and the μ-for-ε_n term vs "
              f"WannierBerri (_tb.dat): box weights (half-width {args.wb_de} eV) at all {len(efs)} E_F vs its "
              f"raw data: max |ΔK| = {r_:.1e} of max |K| ({big:.2e} A); wkin Gaussian σ = η/√2 at E_F vs its "
              f"smoothed value: {rg:.1e} of max |K| ({bigg:.2e} A) (box + smoother vs Gaussian: O(dE/η) per state)")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"(on {os.cpu_count()} CPUs; a load above the number of busy threads means contended wall times)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(ARGS)
