#!/usr/bin/env python
"""Boltzmann-solver scaling: Fermi-surface build and exact Boltzmann solve versus N_FS.

For one Wannier90 model (default bcc Fe, 18 WF with SOC) at one Fermi energy
this measures, for Fermi surfaces of N_FS ≈ 10⁴, 10⁵, 10⁶ points,

- the Fermi-surface build: ``wkin.bands.energies_grid`` (FFT + eigvalsh on the
  N×N×N grid) and ``wkin.kspace.fermi_surface.fermi_surface`` (linear tetrahedra);
- the full (non-RTA) Boltzmann solve: ``ShellBuilder.from_surface`` (diagonalisation at the
  Fermi-surface points), ``CollisionOperator`` (feature vectors, out-scattering
  rates), ``CollisionOperator.solve`` (the factorized exact solve) and σ;

serially (one process), under ``mpiexec -n 2`` (production path only), and with
the dense N×N reference (``dense_kernel`` + ``solve_dense``) where it fits in
memory. These are the same calls, in the same order, as a run's
``conductivity_boltzmann`` at T = 0 (``ShellBuilder.build`` and ``wkin.response.boltzmann.drude``;
the band-energy grid is kept alive through the solve, as there); they are
only timed stage by stage here.

Every configuration runs in a fresh child process (``--child``), so that the
peak resident set size, ``resource.getrusage(RUSAGE_SELF).ru_maxrss``, is that
of this configuration alone; under MPI it is reported per rank. Reading the
Wannier90 files is timed separately and not included in the totals (the RSS
after loading is printed as the baseline). Each process uses the number of
BLAS/OpenMP threads given by ``--threads`` (default 1) and is pinned to that
many CPUs (rank r to the r-th set; ``--no-pin`` to disable), because
``wkin.bands.energies_grid`` calls ``scipy.fft.ifftn(..., workers=-1)``, which starts
one FFT thread per CPU whatever the environment says: "serial" is one core,
"mpi×2" two. Wall and process CPU time are both printed; on a shared machine
wall > CPU shows contention from other jobs.

The tetrahedron grid N for a target N_FS is chosen from N_FS = a·N^p fitted
through the two largest grids measured so far (two small calibration grids to
start; N_FS grows roughly like N²); the actual N_FS is printed. A
configuration whose predicted serial time (the grid part scaled by N³ from the
previous size, the rest fitted linearly in N_FS) exceeds ``--max-seconds`` is
not run in full: only its Fermi-surface build is measured (``fs-only``), and
rows marked ``~`` give the predicted full run: measured FS build (per rank
under MPI, since it is not split; scaled by the MPI/serial FS-time ratio seen at
the largest full size), and each solve stage's time and RSS above the
Fermi-surface RSS (sampled per stage from /proc/self/statm) fitted as
A + B·N_FS on the two largest full runs of that kind. The largest full serial
run and the FS-only run are profiled with cProfile and the top entries are
printed (the profiler adds negligible overhead here: a few thousand Python
calls).

Usage::

    python benchmarks/boltzmann.py --seed examples/materials/Fe/Fe --mu 13.5221 --strength 1.0
    python benchmarks/boltzmann.py --sizes 1e4,1e5 --no-mpi          # quick look
    python benchmarks/boltzmann.py --grids 16,47,141 --max-seconds 3000  # force full 10⁶ runs

This is a benchmark script: nothing here asserts wall times.
"""

from __future__ import annotations

import argparse
import os
import sys

from common import THREAD_VARS, cpu_model, limit_threads  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", default="examples/materials/Fe/Fe",
                   help="Wannier90 seedname (seed_tb.dat or seed_hr.dat, may be .gz); default %(default)s")
    p.add_argument("--mu", type=float, default=13.5221, help="Fermi energy in eV (default %(default)s, Fe)")
    p.add_argument("--strength", type=float, default=1.0, help="disorder u0² in eV²·Å³ (default %(default)s)")
    p.add_argument("--disorder", default="cell", choices=("cell", "atom", "orbital"),
                   help="disorder model (default %(default)s: one block of all 18 orbitals, D = 324 features)")
    p.add_argument("--sizes", default="1e4,1e5,1e6", help="target N_FS values (default %(default)s)")
    p.add_argument("--grids", default=None, help="explicit grids N (comma-separated), overriding --sizes")
    p.add_argument("--shift", type=float, nargs=3, default=(0.0, 0.0, 0.0), help="grid shift (default 0 0 0)")
    p.add_argument("--ranks", type=int, default=2, help="MPI ranks for the mpi rows (default %(default)s)")
    p.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads per process (default 1)")
    p.add_argument("--max-seconds", type=float, default=600.0,
                   help="predicted wall time above which a configuration is measured FS-only and its "
                        "solve extrapolated (default %(default)s)")
    p.add_argument("--dense-max-gb", type=float, default=8.0,
                   help="run the dense reference only where its predicted peak RSS is below this (default 8)")
    p.add_argument("--no-mpi", action="store_true", help="skip the mpiexec rows")
    p.add_argument("--no-dense", action="store_true", help="skip the dense reference")
    p.add_argument("--mpiexec", default="mpiexec", help="MPI launcher (default %(default)s)")
    p.add_argument("--no-pin", action="store_true",
                   help="do not pin each process (MPI rank) to its own --threads CPUs (pinning keeps 'serial' "
                        "on one core even where a library starts its own threads, e.g. FFT workers=-1)")
    p.add_argument("--profile-top", type=int, default=18, help="cProfile entries to print (0: none)")
    # internal: one configuration in this process
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--grid", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--mode", default="prod", choices=("prod", "dense", "fs"), help=argparse.SUPPRESS)
    p.add_argument("--profile", default=None, help=argparse.SUPPRESS)
    p.add_argument("--pin", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:  # before numpy is imported
    limit_threads(ARGS.threads)

import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

RESULT_TAG = "BOLTZMANN_BENCH_RESULT "
MB = 1024.0 ** 2


# ---------------------------------------------------------------------------- memory helpers
def maxrss_bytes():
    """Peak RSS of this process (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0


def rss_bytes():
    """Current RSS of this process."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return float("nan")


class Stages:
    """Wall time and peak RSS of consecutive stages.

    The per-stage peak is sampled from /proc/self/statm every few ms by a daemon
    thread (numpy releases the GIL in its heavy loops); it is only used to
    extrapolate memory stage by stage. The reported peak is ru_maxrss.
    """

    def __init__(self, interval=0.005):
        self.t, self.cpu, self.peak, self.start = {}, {}, {}, {}
        self._cur = rss_bytes()
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.is_set():
            self._cur = max(self._cur, rss_bytes())
            time.sleep(self._interval)

    def run(self, name, fn, *a, **kw):
        rss0 = rss_bytes()
        self._cur = rss0
        tic, cpu = time.perf_counter(), time.process_time()
        out = fn(*a, **kw)
        self.t[name] = time.perf_counter() - tic
        self.cpu[name] = time.process_time() - cpu
        self.peak[name] = max(self._cur, rss_bytes(), rss0)
        self.start[name] = rss0
        return out

    def close(self):
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------------------- child: one configuration
def child(args):
    from wkin import parallel
    from wkin.bands import energies_grid
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
    from dense_reference import dense_kernel, solve_dense
    from wkin.kinetic.disorder import Disorder
    from wkin.kinetic.shells import ShellBuilder
    from wkin.kspace import fermi_surface as fermi
    from wkin.model import TightBindingModel
    from wkin.response.boltzmann import _sigma

    comm = parallel.COMM
    if args.pin and hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        first = parallel.rank() * args.threads
        os.sched_setaffinity(0, {cpus[(first + i) % len(cpus)] for i in range(args.threads)})
    barrier = (lambda: comm.Barrier()) if (comm is not None and parallel.size() > 1) else (lambda: None)
    grid = (args.grid,) * 3
    rec = {"mode": args.mode, "grid": args.grid, "ranks": parallel.size(), "threads": args.threads,
           "cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None}

    t0 = time.perf_counter()
    model = TightBindingModel.from_wannier90(args.seed)
    rec["t_load"] = time.perf_counter() - t0
    rec["rss_load"] = rss_bytes()
    dis = Disorder(args.disorder, args.strength)
    prof = cProfile.Profile() if (args.profile and parallel.is_root()) else None

    barrier()
    if prof:
        prof.enable()
    S = Stages()
    energies = S.run("grid", energies_grid, model, grid, args.shift)
    fs = S.run("tetra", fermi.fermi_surface, model, args.mu, grid, args.shift, energies=energies)
    rec["n_fs"] = int(len(fs.k))
    rss_fs = rss_bytes()
    if args.mode != "fs":
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            shell = S.run("states", ShellBuilder(model, dis, None).from_surface, fs)
        rec["warnings"] = sorted({str(w.message)[:160] for w in caught})
        st, v = shell.states, shell.observables["velocity"]
        rec["skipped"] = int(st.skipped)
        op = S.run("operator", lambda: shell.operator)
        if args.mode == "prod":
            lam = S.run("solve", op.solve, v)
        else:  # dense N×N reference (serial only)
            K = S.run("kernel", dense_kernel, op, dis, model)
            lam, _ = S.run("solve", solve_dense, K, st.weight, v)
            del K
        sigma = S.run("sigma", _sigma, st.weight, v, lam)
        rec["sigma"] = np.asarray(sigma).tolist()
        rec["n_states"] = int(parallel.sum_over_ranks(np.array([len(st.k)]))[0])
    S.close()
    if prof:
        prof.disable()
        prof.dump_stats(args.profile)
    barrier()

    # per-rank values gathered on rank 0
    per_rank = {"cpus": rec["cpus"], "t": S.t, "cpu": S.cpu, "stage_peak": S.peak, "stage_start": S.start, "maxrss": maxrss_bytes(),
                "rss_fs": rss_fs, "rss_load": rec["rss_load"], "t_load": rec["t_load"]}
    ranks = [per_rank] if comm is None or parallel.size() == 1 else comm.gather(per_rank, root=0)
    if parallel.is_root():
        rec["per_rank"] = ranks
        print(RESULT_TAG + json.dumps(rec), flush=True)


# ---------------------------------------------------------------------------- driver
def machine_info(threads):
    cpu = cpu_model()
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            info = dict(line.split(":", 1) for line in f)
        mem = f"{int(info['MemTotal'].split()[0]) / 1024**2:.1f} GiB total, " \
              f"{int(info['MemAvailable'].split()[0]) / 1024**2:.1f} GiB available"
    except (OSError, KeyError, ValueError):
        pass
    blas = "unknown"
    try:
        b = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{b.get('name')} {b.get('version')}"
    except Exception:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    return [
        f"host        : {platform.node()}  ({platform.system()} {platform.machine()})",
        f"CPU         : {cpu}, nproc = {os.cpu_count()}",
        f"memory      : {mem}",
        f"python      : {platform.python_version()}, numpy {np.__version__}, BLAS {blas}",
        f"threads     : {threads} per process ({', '.join(THREAD_VARS[:2])})",
        f"CPU affinity: {sorted(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else 'n/a'}",
        "load average: " + " ".join(f"{x:.2f}" for x in load),
    ]


def run_child(args, grid, mode, ranks=1, profile=None):
    """Run one configuration in a fresh process, return its result record."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--grid", str(grid), "--mode", mode,
           "--seed", args.seed, "--mu", repr(args.mu), "--strength", repr(args.strength),
           "--disorder", args.disorder, "--threads", str(args.threads), "--shift", *map(repr, args.shift)]
    if profile:
        cmd += ["--profile", profile]
    if not args.no_pin:
        cmd += ["--pin"]
    if ranks > 1:
        cmd = [args.mpiexec, "-n", str(ranks)] + cmd
    env = dict(os.environ)
    for v in THREAD_VARS:
        env[v] = str(args.threads)
    tic = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - tic
    recs = [json.loads(line[len(RESULT_TAG):]) for line in proc.stdout.splitlines() if line.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not recs:
        tail = (proc.stdout + proc.stderr)[-3000:]
        print(f"  !! {mode} grid {grid} ranks {ranks} failed (rc {proc.returncode}):\n{tail}", flush=True)
        return None
    rec = recs[0]
    rec["wall_process"] = wall
    rec["t_fs"] = max(r["t"]["grid"] + r["t"]["tetra"] for r in rec["per_rank"])
    rec["t_solve"] = max(sum(v for k, v in r["t"].items() if k not in ("grid", "tetra")) for r in rec["per_rank"])
    rec["t_total"] = max(sum(r["t"].values()) for r in rec["per_rank"])
    rec["cpu_total"] = max(sum(r["cpu"].values()) for r in rec["per_rank"])
    rec["peak"] = max(r["maxrss"] for r in rec["per_rank"])
    rec["rss_fs"] = max(r["rss_fs"] for r in rec["per_rank"])
    rec["t"] = {k: max(r["t"].get(k, 0.0) for r in rec["per_rank"]) for k in rec["per_rank"][0]["t"]}
    return rec


def fit_grid(counts, target):
    """N for a target N_FS from N_FS = a·N^p through the two largest measured (N, N_FS)."""
    (n1, c1), (n2, c2) = sorted(set(counts))[-2:]
    p = np.log(c2 / c1) / np.log(n2 / n1)
    a = c1 / n1**p
    return max(4, int(round((target / a) ** (1 / p)))), a, p


def calibrate(args):
    from wkin.kspace import fermi_surface as fermi
    from wkin.model import TightBindingModel
    model = TightBindingModel.from_wannier90(args.seed)
    counts = []
    for n in (12, 24):
        fs = fermi.fermi_surface(model, args.mu, (n, n, n), args.shift)
        counts.append((n, len(fs.k)))
    if counts[0][1] == 0 or counts[1][1] == 0:
        raise SystemExit(f"no Fermi surface at mu = {args.mu} eV")
    return counts, model.num_wann


def fmt_bytes(b):
    return f"{b / MB:8.0f}" if b == b else "     nan"


def print_profile(path, top, title):
    if not top or not path or not os.path.exists(path):
        return
    buf = io.StringIO()
    st = pstats.Stats(path, stream=buf)
    st.sort_stats("tottime").print_stats(top)
    text = buf.getvalue()
    start = text.find("   ncalls")
    print(f"\n--- cProfile: {title} (sorted by own time, top {top}) ---")
    print(text[start:].rstrip() if start >= 0 else text.rstrip())


def driver(args):
    if not (os.path.exists(args.seed + "_tb.dat") or os.path.exists(args.seed + "_tb.dat.gz")
            or os.path.exists(args.seed + "_hr.dat") or os.path.exists(args.seed + "_hr.dat.gz")):
        raise SystemExit(f"no {args.seed}_tb.dat or _hr.dat (pass --seed)")
    mpiexec = None if args.no_mpi else shutil.which(args.mpiexec)
    print("Boltzmann solver benchmark (wkin)")
    for line in machine_info(args.threads):
        print("  " + line)
    print(f"  model       : {args.seed}, mu = {args.mu} eV, disorder {args.disorder} u0^2 = {args.strength} eV^2 A^3")
    if not args.no_mpi and mpiexec is None:
        print(f"  (no {args.mpiexec} on PATH: MPI rows skipped)")
    t_start = time.perf_counter()

    counts, nw = calibrate(args)
    if args.grids:
        plan = [(None, int(g)) for g in args.grids.split(",")]
    else:
        plan = [(float(x), None) for x in args.sizes.split(",")]
    _, a, p = fit_grid(counts, 1.0)
    print(f"  calibration : N_FS = {counts[0][1]} (N={counts[0][0]}), {counts[1][1]} (N={counts[1][0]}) "
          f"-> N_FS ~ {a:.1f} N^{p:.2f} (refitted on the measured sizes as they come)")
    print(flush=True)

    def linfit(recs, key, n_fs):
        """value(N_FS) = A + B·N_FS through the two largest runs in ``recs`` (A >= 0), else proportional."""
        pts = sorted((r["n_fs"], key(r)) for r in recs)[-2:]
        if len(pts) == 2 and pts[1][0] > pts[0][0]:
            b = (pts[1][1] - pts[0][1]) / (pts[1][0] - pts[0][0])
            c = pts[1][1] - b * pts[1][0]
            if b > 0 and c >= 0:
                return c + b * n_fs
        return pts[-1][1] * n_fs / pts[-1][0]

    def solve_stages(r):
        return [k for k in r["t"] if k not in ("grid", "tetra")]

    def extrapolate(fsrec, ref, kind, fs_time_factor=1.0):
        """A full run predicted from a measured FS-only run and full runs ``ref`` of one kind.

        Times of the solve stages and their RSS above the Fermi-surface RSS (per stage, max over
        ranks) are fitted as A + B·N_FS on the two largest runs of ``ref``; the grid/tetrahedron
        part is the measured one (times ``fs_time_factor``), as it is not split over ranks.
        """
        n_fs = fsrec["n_fs"]
        e = {"label": fsrec["label"], "kind": kind, "grid": fsrec["grid"], "n_fs": n_fs, "sigma": None,
             "rss_load": fsrec["rss_load"],
             "fs_factor": fs_time_factor, "t": {k: fsrec["t"][k] * fs_time_factor for k in ("grid", "tetra")}}
        e["t"].update({k: linfit(ref, lambda x, k=k: x["t"][k], n_fs) for k in solve_stages(ref[-1])})
        e["t_fs"] = e["t"]["grid"] + e["t"]["tetra"]
        e["t_solve"] = sum(e["t"][k] for k in solve_stages(e))
        e["t_total"] = e["t_fs"] + e["t_solve"]
        inc = max(linfit(ref, lambda x, k=k: max(y["stage_peak"][k] - y["rss_fs"] for y in x["per_rank"]), n_fs)
                  for k in solve_stages(ref[-1]))
        e["peak"] = max(fsrec["peak"], fsrec["rss_fs"] + inc)
        return e

    rows, extra = [], []  # measured configurations, extrapolated ones
    profiles = []
    tmpdir = os.environ.get("TMPDIR", "/tmp")
    dense_per_pair = 48.0  # bytes per (i, j) pair at the dense peak; refined after a measured dense run
    for target, n in plan:
        if n is None:
            n = fit_grid(counts, target)[0]
        label = f"{target:.0e}" if target else f"N={n}"
        _, a, p = fit_grid(counts, 1.0)
        n_fs_pred = a * n**p
        full = [r for r in rows if r["kind"] == "serial"]
        # ---------------- serial production (or FS-only)
        mode = "prod"
        if full:
            last = full[-1]
            pred_fs = last["t_fs"] * (n / last["grid"]) ** 3
            pred_total = pred_fs + linfit(full, lambda x: x["t_solve"], n_fs_pred)
            if pred_total > args.max_seconds:
                mode = "fs" if pred_fs < args.max_seconds else None
                print(f"[{label}] grid {n}^3, N_FS ~ {n_fs_pred:.3g}: predicted serial time {pred_total:.0f} s "
                      f"> --max-seconds {args.max_seconds:.0f}: "
                      + ("measuring the Fermi-surface build only" if mode else
                         f"skipped (FS build alone predicted {pred_fs:.0f} s)"), flush=True)
        if mode is None:
            continue
        prof_path = os.path.join(tmpdir, f"wkin_boltzmann_bench_{os.getpid()}_{n}_{mode}.prof")
        print(f"[{label}] grid {n}^3 serial {mode} ...", flush=True)
        rec = run_child(args, n, mode, 1, prof_path)
        if rec is None:
            continue
        counts.append((n, rec["n_fs"]))
        rec["label"], rec["kind"] = label, "serial" if mode == "prod" else "serial fs-only"
        rows.append(rec)
        profiles.append((prof_path, f"serial {mode}, grid {n}^3, N_FS = {rec['n_fs']}"))
        print(f"    N_FS = {rec['n_fs']}, FS {rec['t_fs']:.1f} s, solve {rec['t_solve']:.1f} s, "
              f"peak {rec['peak'] / MB:.0f} MB", flush=True)
        if mode == "fs":
            full_mpi = [r for r in rows if r["kind"].startswith("mpi")]
            if full:
                extra.append(extrapolate(rec, full, "serial ~"))
            if full_mpi:
                # both ranks build the same grid at once: scale the serial FS time by the slow-down seen
                # at the largest full size
                ref_s = [r for r in full if r["grid"] == full_mpi[-1]["grid"]]
                factor = full_mpi[-1]["t_fs"] / ref_s[-1]["t_fs"] if ref_s else 1.0
                extra.append(extrapolate(rec, full_mpi, f"mpi x{args.ranks} ~", max(1.0, factor)))
            continue
        # ---------------- MPI production
        if mpiexec:
            print(f"[{label}] grid {n}^3 mpiexec -n {args.ranks} ...", flush=True)
            mrec = run_child(args, n, "prod", args.ranks)
            if mrec is not None:
                mrec["label"], mrec["kind"] = label, f"mpi x{args.ranks}"
                rows.append(mrec)
                print(f"    FS {mrec['t_fs']:.1f} s, solve {mrec['t_solve']:.1f} s, "
                      f"peak/rank {mrec['peak'] / MB:.0f} MB", flush=True)
        # ---------------- dense reference
        if not args.no_dense:
            nfs = rec["n_fs"]
            pred_peak = rec["rss_fs"] + dense_per_pair * nfs**2
            if pred_peak / 1024**3 > args.dense_max_gb:
                print(f"[{label}] dense reference skipped: predicted peak {pred_peak / 1024**3:.1f} GB "
                      f"> --dense-max-gb {args.dense_max_gb}", flush=True)
            else:
                print(f"[{label}] grid {n}^3 dense reference (predicted peak {pred_peak / 1024**3:.1f} GB) ...",
                      flush=True)
                drec = run_child(args, n, "dense", 1)
                if drec is not None:
                    drec["label"], drec["kind"] = label, "dense"
                    rows.append(drec)
                    dense_per_pair = max(8.0, (drec["peak"] - drec["rss_fs"]) / drec["n_states"] ** 2)
                    print(f"    solve {drec['t_solve']:.1f} s, peak {drec['peak'] / MB:.0f} MB "
                          f"({dense_per_pair:.0f} B per pair)", flush=True)
    t_bench = time.perf_counter() - t_start

    # ---------------- tables
    print()
    print(f"Boltzmann benchmark: {args.seed}, mu = {args.mu} eV, {args.disorder} disorder, "
          f"u0^2 = {args.strength} eV^2 A^3, {args.threads} thread(s)/process")
    print("times in s (max over ranks; CPU s = process CPU time of the timed stages, max over ranks: on a shared "
          "machine wall > CPU shows contention); model loading excluded; base = RSS after loading the model, "
          "peak = ru_maxrss, in MB, max over ranks (per-rank values follow for MPI); ~ = extrapolated")
    pins = {r["kind"]: [x.get("cpus") for x in r["per_rank"]] for r in rows}
    print("CPU pinning: " + ("off" if args.no_pin else
                             "; ".join(f"{k}: " + ", ".join(f"rank {i} -> CPUs {c}" for i, c in enumerate(v))
                                       for k, v in pins.items())))
    head = (f"{'target':>7} {'run':<15} {'grid':>5} {'N_FS':>9} {'t_FS':>8} {'t_solve':>8} {'total':>8} "
            f"{'CPU s':>7} {'base MB':>8} {'peak MB':>8} {'sigma_xx S/m':>13} {'sigma_zz S/m':>13}")
    print(head)
    print("-" * len(head))
    order = ["serial", "serial fs-only", "serial ~", "mpi", "dense"]
    allrows = sorted(rows + extra, key=lambda r: (r["grid"], next(i for i, o in enumerate(order)
                                                                  if r["kind"].startswith(o))))
    for r in allrows:
        cpu = f"{r['cpu_total']:7.1f}" if "cpu_total" in r else "-"
        if r["kind"] == "serial fs-only":
            t_solve, total, sig = "-", "-", ("-", "-")
        else:
            t_solve, total = f"{r['t_solve']:8.1f}", f"{r['t_total']:8.1f}"
            sig = ("-", "-") if r["sigma"] is None else (f"{r['sigma'][0][0]:13.6e}", f"{r['sigma'][2][2]:13.6e}")
        print(f"{r['label']:>7} {r['kind']:<15} {r['grid']:>4}³ {r['n_fs']:>9d} {r['t_fs']:8.1f} {t_solve:>8} "
              f"{total:>8} {cpu:>7} {r['rss_load'] / MB:8.0f} {r['peak'] / MB:8.0f} {sig[0]:>13} {sig[1]:>13}")
    for r in rows:
        if r["kind"].startswith("mpi"):
            print(f"  {r['label']} {r['kind']}: per-rank peak RSS "
                  + ", ".join(f"{x['maxrss'] / MB:.0f}" for x in r["per_rank"]) + " MB")

    print("\nstage breakdown (s; max over ranks): grid = energies_grid, tetra = fermi_surface, "
          "states = ShellBuilder.from_surface, operator = FermiShell.operator, kernel = dense_kernel, solve, sigma")
    stages = ("grid", "tetra", "states", "operator", "kernel", "solve", "sigma")
    print(f"{'target':>7} {'run':<15} " + " ".join(f"{s:>9}" for s in stages) + f" {'us/N_FS':>8}")
    for r in allrows:
        tt = r["t"]
        cells = " ".join(f"{tt[s]:9.2f}" if s in tt else f"{'-':>9}" for s in stages)
        per = f"{1e6 * r['t_total'] / r['n_fs']:8.1f}" if "fs-only" not in r["kind"] else f"{'-':>8}"
        print(f"{r['label']:>7} {r['kind']:<15} {cells} {per}")

    # ---------------- agreement and ratios
    print()
    by = {}
    for r in rows:
        if r.get("sigma") is not None:
            by.setdefault(r["grid"], {})[r["kind"]] = r
    for g, d in sorted(by.items()):
        base = d.get("serial")
        if base is None:
            continue
        s0 = np.array(base["sigma"])
        for k, r in d.items():
            if k == "serial":
                continue
            dev = np.abs(np.array(r["sigma"]) - s0).max() / np.abs(s0).max()
            print(f"grid {g}^3: max |sigma({k}) - sigma(serial)| / max|sigma| = {dev:.2e}")
    both = [g for g, d in by.items() if "serial" in d and "dense" in d]
    if both:
        g = max(both)
        s, dn = by[g]["serial"], by[g]["dense"]
        print(f"dense / production at the largest common size (grid {g}^3, N_FS = {s['n_fs']}): "
              f"solve time x{dn['t_solve'] / s['t_solve']:.1f}, total time x{dn['t_total'] / s['t_total']:.1f}, "
              f"peak RSS x{dn['peak'] / s['peak']:.1f}")
    for r in extra:
        print(f"{r['label']} {r['kind']}: grid + tetrahedra from the serial fs-only run (N_FS = {r['n_fs']}; not "
              f"split over ranks, so per rank under MPI; time x{r['fs_factor']:.2f} = MPI/serial FS time at the "
              f"largest full size); solve stages (time, RSS above the FS) fitted as A + B*N_FS on the two "
              f"largest full runs of that kind")
    for r in rows:
        if r.get("warnings"):
            print(f"warnings ({r['kind']}, grid {r['grid']}^3): " + "; ".join(r["warnings"]))
    print(f"\nbenchmark wall time {t_bench:.0f} s; load average at the end: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))

    shown = [p for p in profiles if "prod" in p[1]][-1:] + [p for p in profiles if "fs," in p[1]][-1:]
    for path, title in shown:
        print_profile(path, args.profile_top, title)
    for path, _ in profiles:
        try:
            os.remove(path)
        except OSError:
            pass


def main():
    if ARGS.child:
        child(ARGS)
    else:
        driver(ARGS)


if __name__ == "__main__":
    main()
