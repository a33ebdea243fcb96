#!/usr/bin/env python3
"""Run a Quantum ESPRESSO -> Wannier90 pipeline for one bundled material.

Steps (each can be resumed with ``--from``):

    scf     pw.x        self-consistent run           -> scf.out (Fermi energy)
    nscf    pw.x        non-self-consistent run on the full Wannier k-mesh
    w90pp   wannier90.x -pp                            -> <seed>.nnkp
    pw2wan  pw2wannier90.x                             -> .amn .mmn .eig (.spn .uHu)
    w90     wannier90.x                                -> _tb.dat _hr.dat _wsvec.dat
                                                          _centres.xyz _r.dat .chk
    postw90 postw90.x (only with --postw90)            -> postw90/<run>/...

Inputs live in ``materials/<name>/`` next to this script:

    material.json   seed, prefix, pseudopotentials, k-meshes, postw90 runs
    scf.in nscf.in <seed>.win <seed>.pw2wan   templates

Templates may use ``${NAME}`` placeholders (``string.Template``):

    ${NSCF_KPOINTS}  QE ``K_POINTS crystal`` card for the uniform nscf mesh
    ${WIN_KPOINTS}   Wannier90 ``begin kpoints`` block for the same mesh
    ${MP_GRID}       "n1 n2 n3"
    ${KEY}           any entry KEY of the "params" dict of material.json
    ${FERMI_EV}      Fermi energy from scf.out in eV (templates other than
                     scf.in that use it are rendered after the scf step)
    ${FERMI_EV+x}    Fermi energy shifted by x eV (e.g. ${FERMI_EV-1.0})

Only the Python standard library is used.  Everything that was run, the code
versions, input files (with SHA-256) and step wall times are recorded in
``<workdir>/provenance.json``.

Usage::

    python interfaces/qe_wannier90/run_pipeline.py Te --workdir /tmp/w90_Te --postw90
    python interfaces/qe_wannier90/run_pipeline.py Fe --workdir /tmp/w90_Fe --np 2 --postw90
    python interfaces/qe_wannier90/run_pipeline.py Fe --workdir /tmp/w90_Fe --from postw90 --postw90
"""
from __future__ import annotations

import argparse
import datetime as _dt
import glob
import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MATERIALS_DIR = HERE / "materials"
STEPS = ["scf", "nscf", "w90pp", "pw2wan", "w90", "postw90"]
RY_TO_EV = 13.605693122994  # CODATA 2018 (QE prints the Fermi energy in eV already)

# Places where the Debian packages wannier90-data / quantum-espresso-data keep
# pseudopotentials.  Searched after the material directory itself.
PSEUDO_SEARCH_DIRS = [
    "/usr/share/wannier90/pseudo",
    "/usr/share/doc/wannier90/examples/*/input",
    "/usr/share/doc/wannier90/examples/*",
    "/usr/share/doc/quantum-espresso/examples/*/pseudo",
]


# --------------------------------------------------------------------------- utils
def log(msg: str) -> None:
    stamp = _dt.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {msg}", flush=True)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def kmesh_points(n1: int, n2: int, n3: int) -> list[tuple[float, float, float]]:
    """Uniform Gamma-centred mesh in the order of wannier90's utility/kmesh.pl."""
    return [
        (i / n1, j / n2, k / n3)
        for i in range(n1)
        for j in range(n2)
        for k in range(n3)
    ]


def qe_kpoints_card(mesh) -> str:
    pts = kmesh_points(*mesh)
    w = 1.0 / len(pts)
    lines = ["K_POINTS crystal", str(len(pts))]
    lines += [f"  {a:.8f}  {b:.8f}  {c:.8f}  {w:.6e}" for a, b, c in pts]
    return "\n".join(lines)


def win_kpoints_block(mesh) -> str:
    pts = kmesh_points(*mesh)
    lines = ["begin kpoints"]
    lines += [f"  {a:.8f}  {b:.8f}  {c:.8f}" for a, b, c in pts]
    lines.append("end kpoints")
    return "\n".join(lines)


_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)([+-][0-9.]+)?\}")


def render(text: str, values: dict) -> str:
    """Replace ${NAME} / ${NAME+x} placeholders; unknown names are an error."""

    def repl(m: re.Match) -> str:
        name, shift = m.group(1), m.group(2)
        if name not in values:
            raise KeyError(f"template placeholder ${{{name}}} has no value")
        val = values[name]
        if shift:
            return f"{float(val) + float(shift):.6f}"
        if isinstance(val, float):
            return f"{val:.6f}"
        return str(val)

    return _PLACEHOLDER.sub(repl, text)


def find_pseudo(name: str, mat_dir: Path, hints: list[str]) -> Path:
    """Locate a pseudopotential (possibly gzipped) for the material."""
    candidates = [mat_dir / name, mat_dir / (name + ".gz")]
    for h in hints:
        candidates += [Path(p) for p in sorted(glob.glob(h))]
    for d in PSEUDO_SEARCH_DIRS:
        for dd in sorted(glob.glob(d)):
            candidates += [Path(dd) / name, Path(dd) / (name + ".gz")]
    for c in candidates:
        if c.is_file() and c.name in (name, name + ".gz"):
            return c
    raise FileNotFoundError(
        f"pseudopotential {name} not found; looked in {mat_dir} and "
        f"{', '.join(PSEUDO_SEARCH_DIRS)} (install the Debian package wannier90-data)"
    )


def install_pseudo(src: Path, dest_dir: Path, name: str) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / name
    if src.suffix == ".gz":
        with gzip.open(src, "rb") as fi, open(dest, "wb") as fo:
            shutil.copyfileobj(fi, fo)
    else:
        shutil.copyfile(src, dest)
    return dest


def parse_fermi_ev(scf_out: Path) -> float:
    """Last 'the Fermi energy is X ev' line of a pw.x output (eV)."""
    ef = None
    with open(scf_out, errors="replace") as fh:
        for line in fh:
            m = re.search(r"the Fermi energy is\s+(-?[0-9.]+)\s+ev", line)
            if m:
                ef = float(m.group(1))
            m = re.search(r"the spin up/dw Fermi energies are\s+(-?[0-9.]+)", line)
            if m and ef is None:
                ef = float(m.group(1))
    if ef is None:
        raise RuntimeError(f"no Fermi energy found in {scf_out}")
    return ef


def grep_first(path: Path, pattern: str) -> str | None:
    if not path.is_file():
        return None
    rx = re.compile(pattern)
    with open(path, errors="replace") as fh:
        for line in fh:
            m = rx.search(line)
            if m:
                return m.group(1).strip()
    return None


def dpkg_version(pkg: str) -> str | None:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", pkg],
            capture_output=True, text=True, timeout=20,
        )
        if out.returncode != 0:
            return None
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def which(exe: str) -> str | None:
    return shutil.which(exe)


def is_mpi_binary(exe: str) -> bool:
    """True if the executable is dynamically linked to an MPI library (via ldd).

    If ldd is unavailable or fails, assume MPI (the caller asked for it)."""
    path = which(exe)
    if path is None:
        return True
    try:
        out = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return True
    if out.returncode != 0:
        return True
    return bool(re.search(r"lib(mpi|mpich|mpi_mpifh)[._]", out.stdout))


# --------------------------------------------------------------------------- pipeline
class Pipeline:
    def __init__(self, args):
        self.args = args
        self.name = args.material
        self.mat_dir = MATERIALS_DIR / self.name
        if not self.mat_dir.is_dir():
            avail = sorted(p.name for p in MATERIALS_DIR.iterdir() if p.is_dir())
            sys.exit(f"unknown material {self.name!r}; available: {', '.join(avail)}")
        self.cfg = json.loads((self.mat_dir / "material.json").read_text())
        self.seed = self.cfg["seed"]
        self.work = Path(args.workdir).resolve()
        self.work.mkdir(parents=True, exist_ok=True)
        self.prov_path = self.work / "provenance.json"
        if self.prov_path.is_file() and args.start != "scf":
            self.prov = json.loads(self.prov_path.read_text())
        else:
            self.prov = {}
        self.prov.setdefault("steps", {})
        self.mpi_prefix = self._mpi_prefix()

    # ---------------------------------------------------------------- helpers
    def _mpi_prefix(self) -> list[str]:
        if self.args.np <= 1:
            return []
        mpirun = self.args.mpirun
        if mpirun is None:
            # Prefer Debian's Open MPI launcher: pw.x from Debian is linked to
            # Open MPI, and a different `mpirun` may come first in PATH.
            for cand in ("/usr/bin/mpirun.openmpi", "/usr/bin/orterun", "mpirun", "mpiexec"):
                if which(cand):
                    mpirun = which(cand)
                    break
        if mpirun is None:
            sys.exit("--np > 1 but no mpirun found; use --np 1 or --mpirun")
        cmd = [mpirun, "-np", str(self.args.np)]
        if os.geteuid() == 0 and ("openmpi" in mpirun or "orterun" in mpirun):
            cmd.append("--allow-run-as-root")
        if "openmpi" in mpirun or "orterun" in mpirun:
            cmd += ["--oversubscribe"]
        return cmd

    def run(self, step: str, cmd: list[str], stdout_name: str, use_mpi: bool = True,
            stdin_name: str | None = None) -> float:
        # Never start a serial executable under mpirun: it would run N independent
        # copies that overwrite each other's output (Debian's postw90.x is serial).
        if use_mpi and self.mpi_prefix and not is_mpi_binary(cmd[0]):
            log(f"{step}: {cmd[0]} is not linked to MPI -- running it serially")
            use_mpi = False
        full = (self.mpi_prefix if use_mpi else []) + cmd
        log(f"{step}: {' '.join(full)}  > {stdout_name}")
        env = dict(os.environ)
        env.setdefault("OMP_NUM_THREADS", str(self.args.omp))
        t0 = time.time()
        with open(self.work / stdout_name, "w") as out:
            stdin = open(self.work / stdin_name) if stdin_name else subprocess.DEVNULL
            try:
                proc = subprocess.run(full, cwd=self.work, stdout=out,
                                      stderr=subprocess.STDOUT, stdin=stdin, env=env)
            finally:
                if stdin_name:
                    stdin.close()
        dt = time.time() - t0
        rec = self.prov["steps"].setdefault(step, {})
        rec.setdefault("commands", []).append(
            {"command": full, "stdout": stdout_name, "returncode": proc.returncode,
             "wall_time_s": round(dt, 2)})
        rec["wall_time_s"] = round(rec.get("wall_time_s", 0.0) + dt, 2)
        self.save_prov()
        if proc.returncode != 0:
            tail = (self.work / stdout_name).read_text(errors="replace")[-3000:]
            werr = sorted(self.work.glob("*.werr"))
            msg = f"{step} failed (rc={proc.returncode}); tail of {stdout_name}:\n{tail}"
            for w in werr:
                msg += f"\n--- {w.name}:\n" + w.read_text(errors="replace")[-2000:]
            raise RuntimeError(msg)
        log(f"{step}: done in {dt:.1f} s")
        return dt

    def save_prov(self) -> None:
        tmp = self.prov_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.prov, indent=2, sort_keys=False) + "\n")
        tmp.replace(self.prov_path)

    def template_values(self) -> dict:
        mesh = self.cfg["nscf_kmesh"]
        vals = {
            "NSCF_KPOINTS": qe_kpoints_card(mesh),
            "WIN_KPOINTS": win_kpoints_block(mesh),
            "MP_GRID": " ".join(str(n) for n in mesh),
        }
        # free-form material parameters, e.g. {"ECUTWFC": 60, "SCF_KMESH": "12 12 12"}
        vals.update(self.cfg.get("params", {}))
        if (self.work / "scf.out").is_file():
            try:
                vals["FERMI_EV"] = parse_fermi_ev(self.work / "scf.out")
            except RuntimeError:
                pass
        return vals

    # ---------------------------------------------------------------- stages
    def prepare(self) -> None:
        """Render the templates into the workdir and install pseudopotentials."""
        vals = self.template_values()
        inputs = {}
        deferred = []
        for tmpl in ["scf.in", "nscf.in", f"{self.seed}.win", f"{self.seed}.pw2wan"]:
            src = self.mat_dir / tmpl
            try:
                text = render(src.read_text(), vals)
            except KeyError:
                if "FERMI_EV" in vals or tmpl == "scf.in":
                    raise
                # needs the Fermi energy: rendered again after the scf step
                deferred.append(tmpl)
                continue
            dest = self.work / tmpl
            dest.write_text(text)
            inputs[tmpl] = {"template": str(src.relative_to(HERE.parent.parent)),
                            "template_sha256": sha256(src),
                            "rendered_sha256": sha256(dest)}
        self.deferred = deferred
        if deferred:
            log(f"rendering of {', '.join(deferred)} deferred until the Fermi energy is known")
        else:
            # keep a pristine copy of the .win: postw90 runs append blocks to it
            shutil.copyfile(self.work / f"{self.seed}.win", self.work / f"{self.seed}.win.base")
        pseudos = {}
        for name, hints in self.cfg["pseudopotentials"].items():
            src = find_pseudo(name, self.mat_dir, hints)
            dest = install_pseudo(src, self.work / "pseudo", name)
            pseudos[name] = {"source": str(src), "sha256": sha256(dest),
                             "size_bytes": dest.stat().st_size}
        self.prov["material"] = self.name
        self.prov["material_dir"] = str(self.mat_dir.relative_to(HERE.parent.parent))
        self.prov["material_config"] = self.cfg
        self.prov["inputs"] = inputs
        self.prov["pseudopotentials"] = pseudos
        self.prov["input_texts"] = {
            t: (self.work / t).read_text() if not t.endswith(".win") else
            _strip_kpoints((self.work / t).read_text())
            for t in inputs
        }
        self.save_prov()

    def prepare_after_scf(self) -> None:
        if getattr(self, "deferred", None):
            self.prepare()

    def pw_flags(self, key: str) -> list[str]:
        flags = []
        nk = self.args.nk if self.args.nk else (self.args.np if self.args.np > 1 else 0)
        if nk and self.args.np > 1:
            flags += ["-nk", str(nk)]
        return flags

    def step_scf(self):
        self.run("scf", ["pw.x"] + self.pw_flags("scf") + ["-in", "scf.in"], "scf.out")
        ef = parse_fermi_ev(self.work / "scf.out")
        self.prov["fermi_energy_eV"] = ef
        self.prov["fermi_energy_source"] = "scf.out ('the Fermi energy is ... ev')"
        self.save_prov()
        log(f"Fermi energy (scf) = {ef} eV")
        self.prepare_after_scf()

    def step_nscf(self):
        self.run("nscf", ["pw.x"] + self.pw_flags("nscf") + ["-in", "nscf.in"], "nscf.out")

    def step_w90pp(self):
        self.run("w90pp", ["wannier90.x", "-pp", self.seed], "w90pp.out", use_mpi=False)

    def step_pw2wan(self):
        # pw2wannier90 has no pool parallelisation; plane-wave parallel is fine.
        self.run("pw2wan", ["pw2wannier90.x", "-in", f"{self.seed}.pw2wan"], "pw2wan.out")
        if not self.args.keep_wfc:
            self.cleanup_wfc()

    def step_w90(self):
        shutil.copyfile(self.work / f"{self.seed}.win.base", self.work / f"{self.seed}.win")
        self.run("w90", ["wannier90.x", self.seed], "w90.out", use_mpi=False)
        wout = self.work / f"{self.seed}.wout"
        spread = None
        if wout.is_file():
            for line in wout.read_text(errors="replace").splitlines():
                if "Final Spread" in line or ("Omega Total" in line and "=" in line):
                    spread = line.strip()
        self.prov["w90_final_spread_line"] = spread
        self.save_prov()

    def step_postw90(self):
        runs = self.cfg.get("postw90", [])
        if not runs:
            log("postw90: material defines no postw90 runs")
            return
        vals = self.template_values()
        if "FERMI_EV" not in vals:
            raise RuntimeError("postw90 needs the Fermi energy: scf.out missing")
        base = (self.work / f"{self.seed}.win.base").read_text()
        outroot = self.work / "postw90"
        outroot.mkdir(exist_ok=True)
        self.prov["steps"].pop("postw90", None)
        self.prov["postw90_runs"] = {}
        for run in runs:
            rname = run["name"]
            block = render("\n".join(run["win"]), vals)
            win = self.work / f"{self.seed}.win"
            win.write_text(
                f"! ---- postw90 run '{rname}' (added by run_pipeline.py)\n{block}\n"
                f"! ---- end of postw90 block\n\n{base}")
            # stale outputs from earlier runs would be collected otherwise
            for pat in run["collect"]:
                for f in self.work.glob(pat):
                    if f.is_file():
                        f.unlink()
            self.run("postw90", ["postw90.x", self.seed], f"postw90_{rname}.out")
            dest = outroot / rname
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir()
            shutil.copyfile(win, dest / f"{self.seed}.win")
            collected = []
            for pat in run["collect"]:
                for f in sorted(self.work.glob(pat)):
                    if f.is_file():
                        shutil.move(str(f), dest / f.name)
                        collected.append(f.name)
            self.prov["postw90_runs"][rname] = {
                "win_block": block.splitlines(), "outputs": collected}
            self.save_prov()
        shutil.copyfile(self.work / f"{self.seed}.win.base", self.work / f"{self.seed}.win")

    def cleanup_wfc(self):
        out = self.work / "out"
        removed = 0
        for f in list(out.glob("*.wfc*")) + list(out.glob("*.save/wfc*.dat")):
            removed += f.stat().st_size
            f.unlink()
        if removed:
            log(f"removed {removed / 1e6:.1f} MB of wavefunction files (use --keep-wfc to keep)")

    # ---------------------------------------------------------------- driver
    def record_versions(self):
        w = self.work
        self.prov["versions"] = {
            "pw.x": grep_first(w / "scf.out", r"Program PWSCF\s+(v\.\S+)"),
            "pw2wannier90.x": grep_first(w / "pw2wan.out", r"Program PW2WANNIER\s+(v\.\S+)"),
            "wannier90.x": grep_first(w / f"{self.seed}.wout", r"Release:\s+([0-9][0-9.]*)"),
            "postw90.x": grep_first(w / f"{self.seed}.wpout", r"Release:\s+([0-9][0-9.]*)"),
            "debian_packages": {p: dpkg_version(p) for p in
                                ("quantum-espresso", "wannier90", "wannier90-data")},
            "executables": {e: which(e) for e in
                            ("pw.x", "pw2wannier90.x", "wannier90.x", "postw90.x")},
        }
        # the wpout is moved into postw90/<run>/ -- pick the version up there
        if self.prov["versions"]["postw90.x"] is None:
            for f in sorted(w.glob("postw90/*/*.wpout")):
                self.prov["versions"]["postw90.x"] = grep_first(f, r"Release:\s+([0-9][0-9.]*)")
                break
        if (w / "scf.out").is_file():
            self.prov["versions"]["pw.x_parallel"] = grep_first(
                w / "scf.out", r"(Parallel version.*|Serial version.*)")

    def record_outputs(self):
        outs = {}
        pats = [f"{self.seed}{s}" for s in
                ("_tb.dat", "_hr.dat", "_wsvec.dat", "_centres.xyz", "_r.dat", ".chk",
                 ".eig", ".spn", ".amn", ".mmn", ".uHu", ".nnkp", ".wout",
                 "_band.dat", "_band.kpt")]
        for p in pats:
            f = self.work / p
            if f.is_file():
                outs[p] = {"size_bytes": f.stat().st_size, "sha256": sha256(f)}
        for f in sorted(self.work.glob("postw90/*/*")):
            outs[str(f.relative_to(self.work))] = {"size_bytes": f.stat().st_size,
                                                   "sha256": sha256(f)}
        self.prov["outputs"] = outs

    def main(self):
        a = self.args
        t0 = time.time()
        started = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
        # every invocation on this workdir (a resumed run keeps the earlier ones)
        self.prov.setdefault("invocations", []).append(
            {"command_line": [sys.executable] + sys.argv, "started": started})
        self.prov.update({
            "pipeline": "interfaces/qe_wannier90/run_pipeline.py",
            "command_line": [sys.executable] + sys.argv,
            "started": started,
            "host": {"machine": platform.machine(), "system": platform.platform(),
                     "cpu_count": os.cpu_count(), "python": platform.python_version()},
            "parallel": {"np": a.np, "nk": a.nk, "mpi_prefix": self.mpi_prefix,
                         "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(a.omp))},
        })
        steps = STEPS[STEPS.index(a.start):]
        if not a.postw90:
            steps = [s for s in steps if s != "postw90"]
        if a.stop:
            steps = [s for s in steps if STEPS.index(s) <= STEPS.index(a.stop)]
        # (re)render the inputs unless only postw90 is redone
        if steps and steps[0] != "postw90":
            self.prepare()
        for s in steps:
            getattr(self, f"step_{s}")()
        if "fermi_energy_eV" not in self.prov and (self.work / "scf.out").is_file():
            self.prov["fermi_energy_eV"] = parse_fermi_ev(self.work / "scf.out")
        self.record_versions()
        self.record_outputs()
        self.prov["finished"] = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
        self.prov["wall_time_this_invocation_s"] = round(time.time() - t0, 1)
        self.prov["wall_time_total_s"] = round(
            sum(v.get("wall_time_s", 0.0) for v in self.prov["steps"].values()), 1)
        self.save_prov()
        log(f"all done: {', '.join(steps)} in {time.time() - t0:.1f} s; "
            f"E_F = {self.prov.get('fermi_energy_eV')} eV; provenance in {self.prov_path}")


def _strip_kpoints(text: str) -> str:
    """Shorten the explicit k-point list of a rendered .win for provenance.json."""
    return re.sub(r"(?is)begin kpoints.*?end kpoints",
                  "begin kpoints\n  ... (uniform mesh, see mp_grid) ...\nend kpoints", text)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("material", help="material name: a folder in materials/ (Te, Fe, ...)")
    p.add_argument("--workdir", required=True, help="work directory (created)")
    p.add_argument("--postw90", action="store_true", help="also run the postw90 tasks")
    p.add_argument("--np", type=int, default=1, help="MPI ranks for pw.x and pw2wannier90 (and postw90 if it is an MPI build)")
    p.add_argument("--nk", type=int, default=0, help="pw.x -nk pools (default: = --np)")
    p.add_argument("--omp", type=int, default=1, help="OMP_NUM_THREADS if not set")
    p.add_argument("--mpirun", default=None, help="MPI launcher (default: Debian Open MPI)")
    p.add_argument("--from", dest="start", choices=STEPS, default="scf",
                   help="resume from this step (earlier outputs must be in --workdir)")
    p.add_argument("--stop", choices=STEPS, default=None, help="stop after this step")
    p.add_argument("--keep-wfc", action="store_true",
                   help="keep QE wavefunction files after pw2wannier90")
    args = p.parse_args(argv)
    Pipeline(args).main()


if __name__ == "__main__":
    main()
