#!/usr/bin/env python
"""Interpolation throughput: wkin vs WannierBerri vs postw90 on one Wannier90 model.

Measures k-points per second for the anomalous Hall conductivity on a uniform
grid: at every k the Hamiltonian, its k-derivatives, the position matrix and
its curl are Fourier-interpolated, H(k) is diagonalised, and the energies,
band velocities and Berry curvature of all bands are formed and summed over
the Fermi sea. All codes read the same Wannier90 files, use the same uniform
N×N×N grid (no symmetry, no adaptive refinement), one Fermi energy, one
process, and the same thread count (OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS, set
before numpy is imported). The AHC each code obtains is printed next to its
timing so that the comparison is seen to be like for like.

Usage::

    python benchmarks/interpolation.py --seed examples/materials/Fe/Fe --grid 50
    python benchmarks/interpolation.py --seed examples/materials/Fe/Fe --grid 50 --skip-postw90

Inputs (each may be gzip-compressed, ``.gz``; they are decompressed to a
temporary directory): ``seed_tb.dat`` (wkin, WannierBerri), ``seed.win``
(Fermi energy, ``mp_grid``), ``seed_wsvec.dat`` (Wigner–Seitz distance
correction, wkin; WannierBerri recomputes it from ``mp_grid``), and for
postw90 ``seed.chk`` + ``seed.eig`` + ``seed.mmn`` (postw90 builds H(R) and
A(R) itself from these; without them postw90 is skipped, with the reason).

Timings exclude reading the input files. wkin and WannierBerri are first run
once on a small grid (warm-up: numba compilation, FFT plans, caches), then the
N³ run is timed. postw90 is a separate process; its set-up (reading .chk,
.eig, .mmn and building H(R), A(R)) is measured with a 2×2×2 run and
subtracted, and both the raw and the net rates are printed.

This is a benchmark script: nothing here asserts wall times.
"""

from __future__ import annotations

import argparse
import os
import sys

from common import THREAD_VARS, cpu_model, limit_threads, rates, strip_postw90_tasks  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", required=True, help="Wannier90 seedname, e.g. examples/materials/Fe/Fe")
    p.add_argument("--grid", type=int, default=50, help="uniform grid N (N×N×N k-points), default 50")
    p.add_argument("--ef", type=float, default=None, help="Fermi energy in eV (default: fermi_energy of seed.win)")
    p.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/numba threads for every code (default 1)")
    p.add_argument("--no-pin", action="store_true",
                   help="do not pin the benchmark (and postw90) to --threads CPUs; by default it is pinned, "
                        "because some libraries start one thread per CPU whatever the *_NUM_THREADS "
                        "variables say (e.g. scipy.fft with workers=-1)")
    p.add_argument("--nkfft", type=int, default=None,
                   help="WannierBerri FFT sub-grid (a divisor of --grid; default: the largest divisor "
                        "with at most ~27³ points, and at least WannierBerri's recommended FFT grid)")
    p.add_argument("--no-ws-distance", action="store_true",
                   help="do not apply the Wigner-Seitz distance correction (use_ws_distance) in any code")
    p.add_argument("--skip-wannierberri", action="store_true")
    p.add_argument("--skip-postw90", action="store_true")
    p.add_argument("--postw90", default="postw90.x", help="postw90 executable (default postw90.x)")
    p.add_argument("--max-seconds", type=float, default=600.0,
                   help="if a code's estimated N³ time exceeds this, time a smaller grid for ALL codes "
                        "and report per-k rates from it (default 600)")
    p.add_argument("--profile", type=int, default=0, metavar="NP",
                   help="after the benchmark, cProfile wkin on an NP³ grid and print the top entries")
    return p.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:  # must happen before numpy (or anything that imports it) is loaded
    limit_threads(ARGS.threads, pin=not ARGS.no_pin)  # pinning is inherited by postw90

import contextlib  # noqa: E402
import gzip  # noqa: E402
import io  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

from wkin.io.wannier90 import read_win  # noqa: E402
from wkin.kspace.integrate import integrate  # noqa: E402
from wkin.kspace.occupations import Occupations  # noqa: E402
from wkin.model import TightBindingModel  # noqa: E402
from wkin.progress import Progress  # noqa: E402
from wkin.quantities import observables  # noqa: E402

#: WannierBerri prints σ in S/m, wkin and postw90 in S/cm
S_PER_M_TO_S_PER_CM = 1e-2


# ---------------------------------------------------------------------------- machine info
def machine_info(threads):
    cpu = cpu_model()
    blas = "unknown"
    try:
        cfg = np.show_config(mode="dicts")
        b = cfg["Build Dependencies"]["blas"]
        blas = f"{b.get('name')} {b.get('version')}"
        if b.get("openblas configuration"):
            blas += f" ({b['openblas configuration']})"
    except Exception:
        pass
    pools = ""
    try:
        import threadpoolctl
        pools = "; ".join(f"{d['internal_api']} {d.get('version')} threads={d['num_threads']}"
                          for d in threadpoolctl.threadpool_info())
    except ImportError:
        pools = "threadpoolctl not installed"
    lines = [
        f"host        : {platform.node()}  ({platform.system()} {platform.machine()})",
        f"CPU         : {cpu}, nproc = {os.cpu_count()}",
        f"python      : {platform.python_version()}, numpy {np.__version__}",
        f"numpy BLAS  : {blas}",
        f"threadpools : {pools}",
        "threads     : " + ", ".join(f"{v}={os.environ.get(v)}" for v in THREAD_VARS),
        "CPU affinity: " + (", ".join(map(str, sorted(os.sched_getaffinity(0))))
                            if hasattr(os, "sched_getaffinity") else "n/a")
        + " (process and its children pinned; --no-pin to disable)",
    ]
    return lines


# ---------------------------------------------------------------------------- files
def resolve(path):
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            return p
    return None


def stage(seed, names, workdir):
    """Copy/decompress seed+suffix for each suffix in ``names`` into workdir; returns found suffixes."""
    base = os.path.basename(seed)
    found = []
    for suffix in names:
        src = resolve(seed + suffix)
        if src is None:
            continue
        dst = os.path.join(workdir, base + suffix)
        if src.endswith(".gz"):
            with gzip.open(src, "rb") as fi, open(dst, "wb") as fo:
                shutil.copyfileobj(fi, fo, 1 << 24)
        elif suffix in (".chk", ".mmn", ".eig"):  # large, read-only inputs: link
            try:
                os.symlink(os.path.abspath(src), dst)
            except OSError:
                shutil.copy(src, dst)
        else:  # copies: the .win is rewritten for postw90 and must never write through to the seed
            shutil.copy(src, dst)
        found.append(suffix)
    return found


# ---------------------------------------------------------------------------- wkin
def run_wkin(model, ef, n):
    occ = Occupations(mu=np.array([ef]))
    Progress.enabled = False
    t0, c0 = time.perf_counter(), time.process_time()
    res = integrate(model, observables(["ahc"]), occ, (n, n, n))
    t, c = time.perf_counter() - t0, time.process_time() - c0
    s = res.values["ahc"][0]
    return t, c, np.array([s[1, 2], s[2, 0], s[0, 1]])  # (σ_yz, σ_zx, σ_xy) S/cm


# ---------------------------------------------------------------------------- WannierBerri
@contextlib.contextmanager
def quiet():
    """Silence WannierBerri's chatter (stdout and stderr), keep it for error reports."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield buf
        except Exception:
            sys.__stderr__.write(buf.getvalue()[-4000:])
            raise


def wb_nkfft(n, recommended, requested):
    if requested is not None:
        if n % requested:
            raise SystemExit(f"--nkfft {requested} does not divide --grid {n}")
        return requested
    divs = [d for d in range(1, n + 1) if n % d == 0]
    rec = int(np.max(recommended))
    # largest FFT box up to ~27³ points (WannierBerri keeps all matrices of an FFT box in memory;
    # a larger box amortises the R-sum better), at least the recommended one
    ok = [d for d in divs if d >= rec and d**3 <= 20000]
    return max(ok) if ok else next((d for d in divs if d >= rec), n)


def run_wb(wb, system, ef, n, nkfft, workdir):
    calc = {"ahc": wb.calculators.static.AHC(Efermi=np.array([ef]))}
    with quiet():
        grid = wb.Grid(system, NK=(n, n, n), NKFFT=(nkfft, nkfft, nkfft))
        t0, c0 = time.perf_counter(), time.process_time()
        res = wb.run(system, grid=grid, calculators=calc, use_irred_kpt=False, symmetrize=False,
                     parallel=False, print_Kpoints=False, fout_name=os.path.join(workdir, "wb"),
                     print_progress_step_time=1e9, print_progress_step_percent=1000)
        t, c = time.perf_counter() - t0, time.process_time() - c0
    return t, c, np.asarray(res.results["ahc"].data)[0] * S_PER_M_TO_S_PER_CM


# ---------------------------------------------------------------------------- postw90
def postw90_win(text, ef, n, ws):
    """The seed's .win with every postw90 task removed and a single AHC task added."""
    keep = strip_postw90_tasks(text)
    keep += ["", "! --- added by benchmarks/interpolation.py ---",
             "berry = true", "berry_task = ahc", f"berry_kmesh = {n} {n} {n}",
             "berry_curv_adpt_kmesh = 1", f"fermi_energy = {ef!r}",
             f"use_ws_distance = {'true' if ws else 'false'}",
             # the A(R) of seed_tb.dat (wannier90.x, hamiltonian_write_tb) takes the diagonal
             # <0n|r|Rn> from -Im ln M_nn; postw90 does the same only with transl_inv
             "transl_inv = true", "iprint = 2", ""]
    return "\n".join(keep)


def parse_postw90_ahc(text):
    m = re.search(r"AHC \(S/cm\)\s+x\s+y\s+z\s*\n(.*?)(?:\n\s*\n|\Z)", text, re.S)
    if not m:
        raise RuntimeError("no 'AHC (S/cm)' block in the .wpout")
    block = m.group(1)
    t = (re.search(r"Total\s*:\s*(\S+)\s+(\S+)\s+(\S+)", block)  # iprint > 1
         or re.search(r"==========\s+(\S+)\s+(\S+)\s+(\S+)", block))  # iprint = 1
    return np.array([float(x) for x in t.groups()])


def run_postw90(exe, workdir, base, win_text, ef, n, ws):
    win_path = os.path.join(workdir, base + ".win")
    if os.path.islink(win_path):
        os.remove(win_path)
    with open(win_path, "w") as f:
        f.write(postw90_win(win_text, ef, n, ws))
    wpout = os.path.join(workdir, base + ".wpout")
    if os.path.exists(wpout):
        os.remove(wpout)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run([exe, base], cwd=workdir, capture_output=True, text=True)
    t = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    out = open(wpout).read() if os.path.exists(wpout) else ""
    if r.returncode != 0 or "Total Execution Time" not in out:
        werr = os.path.join(workdir, base + ".node_00000.werr")
        err = open(werr).read() if os.path.exists(werr) else ""
        raise RuntimeError(f"postw90 failed (rc={r.returncode}): {r.stdout[-1500:]} {r.stderr[-1500:]} "
                           f"{err[-1500:]} {out[-1500:]}")
    return t, c, parse_postw90_ahc(out)


# ---------------------------------------------------------------------------- main
def fmt_ahc(v):
    return "  ".join(f"{x:12.4f}" for x in v)


def main(args):
    n = args.grid
    seed = args.seed
    workdir = tempfile.mkdtemp(prefix="wkin-bench-")
    base = os.path.basename(seed)
    print("== interpolation benchmark: energies + velocities + Berry curvature (AHC) ==")
    for line in machine_info(args.threads):
        print(line)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    staged = stage(seed, ["_tb.dat", ".win", "_wsvec.dat", "_centres.xyz"], workdir)
    if "_tb.dat" not in staged:
        raise SystemExit(f"{seed}_tb.dat(.gz) not found")
    wseed = os.path.join(workdir, base)
    win = read_win(wseed + ".win") if ".win" in staged else None
    ef = args.ef if args.ef is not None else (win or {}).get("fermi_energy")
    if ef is None:
        raise SystemExit("no Fermi energy: pass --ef or set fermi_energy in seed.win")
    ws = not args.no_ws_distance and "_wsvec.dat" in staged
    mp_grid = None if win is None else win.get("mp_grid")
    if ws and mp_grid is None and not args.skip_wannierberri:
        raise SystemExit("WS distance for WannierBerri needs mp_grid in seed.win (or use --no-ws-distance)")

    model = TightBindingModel.from_wannier90(wseed, use_ws_distance=ws)
    print(f"model       : {seed}_tb.dat, num_wann = {model.num_wann}, nR = {len(model.R)} "
          f"(after WS distance: {ws}), mp_grid = {None if mp_grid is None else tuple(int(x) for x in mp_grid)}")
    print(f"task        : AHC (Fermi sea, all bands), E_F = {ef} eV, uniform {n}x{n}x{n} grid, "
          "no symmetry, no refinement, 1 process")

    run_wkin(model, ef, 4)  # wkin warm-up (real-space stack, FFT plans)

    # ---- WannierBerri system
    wb = system = None
    if not args.skip_wannierberri:
        with quiet():
            import wannierberri as wb
            system = wb.system.System_R.from_tb_dat(tb_file=wseed + "_tb.dat", berry=True)
            if ws:
                system.do_ws_dist(mp_grid=tuple(int(x) for x in mp_grid))
        wb_nkfft(n, system.NKFFT_recommended, args.nkfft)  # validates --nkfft

    # ---- postw90 inputs
    pw_reason = None
    if args.skip_postw90:
        pw_reason = "skipped (--skip-postw90)"
    elif shutil.which(args.postw90) is None:
        pw_reason = f"skipped: {args.postw90} not found"
    else:
        need = [".chk", ".eig", ".mmn"]
        got = stage(seed, need, workdir)
        missing = [base + s for s in need if s not in got]
        if missing:
            pw_reason = ("skipped: postw90 builds H(R) and A(R) from the Wannier90 checkpoint and the "
                         f"overlaps, and {', '.join(missing)} (.gz) are not next to the seed")
        elif win is None:
            pw_reason = "skipped: no seed.win"

    # ---- estimates from a small grid (also the warm-up of WannierBerri's numba kernels)
    n_small = 10 if n % 10 == 0 else max(d for d in range(1, min(n, 12) + 1) if n % d == 0)
    est = {}
    t, _, _ = run_wkin(model, ef, n_small)
    est["wkin"] = t * (n / n_small) ** 3
    if wb is not None:
        run_wb(wb, system, ef, n_small, wb_nkfft(n_small, system.NKFFT_recommended, None), workdir)
        t, _, _ = run_wb(wb, system, ef, n_small, wb_nkfft(n_small, system.NKFFT_recommended, None), workdir)
        est["WannierBerri"] = t * (n / n_small) ** 3
    if pw_reason is None:
        win_text = open(wseed + ".win").read()
        try:
            t0, _, _ = run_postw90(args.postw90, workdir, base, win_text, ef, 2, ws)
            t1, _, _ = run_postw90(args.postw90, workdir, base, win_text, ef, n_small, ws)
            est["postw90"] = t0 + (t1 - t0) * (n**3 - 8) / (n_small**3 - 8)
        except RuntimeError as err:
            pw_reason = f"skipped: postw90 failed on the small grid: {err}"
    print(f"estimated {n}³ wall times (from {n_small}³ runs): "
          + ", ".join(f"{k} {v:.0f} s" for k, v in est.items()))

    # ---- grid per code: N, or the largest multiple of n_small that fits in --max-seconds
    grid_for = {}
    for code, e in est.items():
        fits = [m for m in range(n_small, n + 1, n_small) if e * (m / n) ** 3 <= args.max_seconds]
        grid_for[code] = n if e <= args.max_seconds else (max(fits) if fits else n_small)
        if grid_for[code] != n:
            print(f"NOTE: {code} would need ~{e:.0f} s for {n}³ (> --max-seconds {args.max_seconds:.0f}); "
                  f"it is timed on {grid_for[code]}³ instead (k/s is per k-point, so it carries over); "
                  f"wkin{' and WannierBerri' if wb is not None else ''} are timed on that grid too, "
                  "for the AHC comparison")
    grids = sorted(set(grid_for.values()), reverse=True)

    # ---- timed runs: results[(code, grid)]
    results = {}
    for g in grids:
        t, c, ahc = run_wkin(model, ef, g)
        nf = model.grid_blocks((g, g, g))[0]
        results[("wkin", g)] = dict(t=t, cpu=c, ahc=ahc, note="FFT blocks " + "x".join(str(x) for x in nf))
        if wb is not None and grid_for["WannierBerri"] >= g:
            f = wb_nkfft(g, system.NKFFT_recommended, args.nkfft if args.nkfft and g % args.nkfft == 0 else None)
            t, c, ahc = run_wb(wb, system, ef, g, f, workdir)
            results[("WannierBerri", g)] = dict(t=t, cpu=c, ahc=ahc, note=f"NKFFT={f}³, parallel=False")
        if pw_reason is None and grid_for["postw90"] == g:
            try:
                t0, c0, _ = run_postw90(args.postw90, workdir, base, win_text, ef, 2, ws)
                t, c, ahc = run_postw90(args.postw90, workdir, base, win_text, ef, g, ws)
                results[("postw90", g)] = dict(
                    t=t, cpu=c, ahc=ahc, setup=t0, setup_cpu=c0,
                    note=f"minus set-up {t0:.1f} s wall/{c0:.1f} s cpu (2³ run); raw {g**3 / t:.0f} k/s wall")
            except RuntimeError as err:
                pw_reason = f"failed: {err}"

    # ---- report
    print()
    print(f"{'code':<13s} {'grid':>5s} {'wall s':>8s} {'cpu s':>8s} {'k/s wall':>9s} {'k/s cpu':>9s} "
          f"{'wkin/code':>9s} {'(cpu)':>6s}  {'AHC S/cm: σ_yz':>14s} {'σ_zx':>10s} {'σ_xy':>10s}  notes")
    rate, crate = rates(results)
    for key, r in results.items():
        name, g = key
        w = ("wkin", g)
        print(f"{name:<13s} {str(g) + '³':>5s} {r['t']:8.2f} {r['cpu']:8.2f} {rate[key]:9.0f} {crate[key]:9.0f} "
              f"{rate[w] / rate[key]:9.2f} {crate[w] / crate[key]:6.2f}  {fmt_ahc(r['ahc'])}  {r['note']}")
    if pw_reason is not None:
        print(f"{'postw90':<13s} {pw_reason}")
    for (name, g), r in results.items():
        if name != "wkin":
            ref = results[("wkin", g)]["ahc"]
            d = np.abs(r["ahc"] - ref).max()
            big = np.abs(ref).max()
            rel = f" ({d / big:.1e} of max |σ|)" if big > 1e-2 else " (σ ≈ 0 for this model)"
            print(f"AHC agreement {name} vs wkin on {g}³: max |Δσ| = {d:.2e} S/cm{rel}"
                  + ("  [postw90 prints 4 decimals]" if name == "postw90" else ""))
    print("k/s wall (cpu) = k-points per second of wall (process CPU) time, postw90 set-up subtracted; "
          "wkin/code = ratio of k/s against wkin on the same grid (> 1: wkin is faster)")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"(on {os.cpu_count()} CPUs; a load above the number of busy threads means contended wall times)")

    if args.profile:
        import cProfile
        import pstats
        npf = args.profile
        print(f"\n== cProfile of wkin integrate on {npf}³ ==")
        pr = cProfile.Profile(timer=time.process_time)  # CPU time: robust on a shared machine
        pr.enable()
        run_wkin(model, ef, npf)
        pr.disable()
        st = pstats.Stats(pr)
        st.sort_stats("tottime").print_stats(15)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(ARGS)
