"""HDF5 results and the printed summary: one group per quantity, units and provenance on the objects.

Layout (``docs/outputs.md``)::

    /                      attrs: wkin_version, created, config (TOML text), inputs (JSON: file → sha256),
                                  software (JSON: package versions, git commit), model, num_wann,
                                  lattice (Å), cell_volume (Å³), position_matrix, grid, shift,
                                  nk_evaluated, temperature (K), tau_fs, mpi_ranks, wall_time_s
                                  [, fermi_surface_weight, fermi_surface_width_eV, disorder (JSON),
                                  symmetry attributes]
    /fermi_energies        (n_mu,) eV
    /<quantity>            attrs description, family, doc; every dataset of its registry entry
    /<quantity>/<dataset>  attrs units, axes (comma-separated axis names)[, forbidden_fraction]
    /<quantity>/adaptive_value, adaptive_nk   Brillouin-zone integrals with adaptive refinement

Everything a group holds is described by its registry entry (:mod:`wkin.quantities`), so this
module writes every quantity the same way. A file is written next to its target under a temporary
name and renamed when complete: a failed or interrupted run never replaces an existing result.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

from .. import __version__
from ..errors import ConfigError

_FAMILY_TEXT = {"fermi_sea": "Fermi sea", "fermi_surface": "Fermi surface",
                "frequency": "Fermi sea, frequency-dependent", "kinetic": "kinetic (Fermi shells, collision kernel)"}


def file_hashes(paths):
    """sha256 of each existing input file."""
    out = {}
    for p in paths:
        p = Path(p)
        if p.is_file():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def software():
    """Versions of Python and of the packages a result depends on, and the git commit when wkin runs from a
    checkout (``+dirty`` with uncommitted changes)."""
    out = {"python": sys.version.split()[0], "wkin": __version__}
    for name in ("numpy", "scipy", "spglib", "h5py", "mpi4py", "wannierberri"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    root = Path(__file__).resolve().parents[2]
    if (root / ".git").exists():
        try:
            commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                    timeout=10, check=True).stdout.strip()
            dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=10, check=True).stdout.strip()
            out["git_commit"] = commit + ("+dirty" if dirty else "")
        except (OSError, subprocess.SubprocessError):
            pass
    return out


def check_output(path):
    """Fail before any computation when the results file cannot be written (``[output] file``)."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"[output] file: {path} is a directory")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"[output] file: cannot write in {folder}")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"[output] file: {path} exists and is not writable")
    return path


def _attr(value):
    return json.dumps(value) if isinstance(value, dict) else value


def write(path, run, config_text, inputs):
    """Write a :class:`wkin.plan.RunResult` with units and provenance; returns True when a file was replaced."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["wkin_version"] = __version__
            f.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
            f.attrs["config"] = config_text
            f.attrs["inputs"] = json.dumps(inputs)
            f.attrs["nk_evaluated"] = run.nk_evaluated
            f.attrs["wall_time_s"] = run.wall_time_s
            f.attrs["software"] = json.dumps(software())
            for key, value in run.attributes.items():
                f.attrs[key] = _attr(value)
            d = f.create_dataset("fermi_energies", data=np.asarray(run.mu))
            d.attrs["units"] = "eV"
            if getattr(run, "frequencies", None) is not None:
                d = f.create_dataset("frequencies", data=np.asarray(run.frequencies))
                d.attrs["units"] = "eV"
                d.attrs["axes"] = "frequency (photon energy hbar*omega)"
            for name, r in run.results.items():
                _write_group(f, r)
        replaced = path.exists()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return replaced


def _write_group(f, r):
    q = r.quantity
    g = f.create_group(q.name)
    g.attrs["description"] = q.description
    g.attrs["kind"] = _FAMILY_TEXT[q.family]
    g.attrs["doc"] = "docs/" + q.doc
    for key, value in r.attributes.items():
        g.attrs[key] = _attr(value)
    for name, data in r.datasets.items():
        spec = q.datasets[name]
        d = g.create_dataset(name, data=np.asarray(data))
        d.attrs["units"] = spec.units
        d.attrs["axes"] = spec.axes_text
        if name in r.forbidden_fraction:
            d.attrs["forbidden_fraction"] = r.forbidden_fraction[name]
    if r.levels:
        d = g.create_dataset("adaptive_value", data=np.array([v for _, v in r.levels]))
        d.attrs["units"] = q.units
        d.attrs["axes"] = "refinement_level, " + q.datasets["value"].axes_text
        d = g.create_dataset("adaptive_nk", data=np.array([n for n, _ in r.levels]))
        d.attrs["units"] = "k-points"


_COMPONENTS = {2: ("xx", "yy", "zz", "xy", "yx", "yz", "zx"), 3: ("xyz", "yzx", "zxy", "yxz", "zyx", "xzy")}


def summary(run, max_rows=8):
    """Plain-text tables of every quantity (each dataset its registry entry lists in ``summary``) for a quick
    look: at most ``max_rows`` Fermi energies and the leading components, both announced when a subset is shown;
    values below 1e-12 of a table's largest are printed as 0."""
    mu = run.mu
    idx = np.unique(np.linspace(0, len(mu) - 1, min(len(mu), max_rows)).round().astype(int))
    lines = []
    if len(idx) < len(mu):
        lines.append(f"# showing {len(idx)} of {len(mu)} Fermi energies (all of them are in the HDF5 file)")
    for r in run.results.values():
        q = r.quantity
        if not q.summary:  # per-state datasets: how many, per Fermi energy
            counts = np.diff(r.datasets["offsets"]) if "offsets" in r.datasets else []
            lines.append(f"# {q.name}: {q.description}; states per Fermi energy: "
                         + " ".join(str(int(c)) for c in counts) + " (in the HDF5 file)")
        for name in q.summary:
            v = np.asarray(r.datasets[name])
            label = q.name if name == "value" else f"{q.name}/{name}"
            lines.append(f"# {label} [{q.datasets[name].units}]: {q.description if name == 'value' else name}")
            lines.extend(_table(v, mu, idx, r.datasets))
        if q.report is not None:
            lines.extend(q.report(r.datasets, mu, idx))
        if r.levels:
            conv = " -> ".join(f"{np.abs(value).max():.6g} ({n} k)" for n, value in r.levels)
            lines.append(f"#  adaptive max|value|: {conv}")
        if "fermi_surface_empty" in r.datasets and np.any(r.datasets["fermi_surface_empty"]):
            lines.append(f"#  {q.name}: no Fermi surface at mu = "
                         + ", ".join(f"{m:.4f}" for m in mu[r.datasets["fermi_surface_empty"]])
                         + (" eV (NaN)" if q.summary else " eV (no states)"))
    return "\n".join(lines)


def _cell(x, width):
    """One table cell: a real number in ``width`` characters, a complex one as re+im j in 2·``width``."""
    if np.iscomplexobj(x):
        re, im = (0.0 if abs(y) == 0 else y for y in (x.real, x.imag))  # no "-0"
        return f"{re:{width}.5g}{im:+{width - 1}.5g}j"
    return f"{x:{width}.6g}"


def _table(v, mu, idx, datasets):
    finite = np.abs(v[np.isfinite(v)]) if np.issubdtype(v.dtype, np.floating) else np.abs(v)
    tiny = 1e-12 * (finite.max() if finite.size else 0.0)
    v = np.where(np.abs(v) < tiny, 0.0, v)
    rank = v.ndim - 1
    if "frequency" in datasets and rank == 3:  # (n_mu, n_freq, 3, 3): diagonal at the first and last frequency
        coords = datasets["frequency"]
        width = 2 * 13 if np.iscomplexobj(v) else 14
        out = ["#  mu(eV) frequency(eV) " + "".join(f"{c:>{width}s}" for c in ("xx", "yy", "zz"))
               + ("   (complex: re, im)" if np.iscomplexobj(v) else "")]
        for i in idx:
            for j in sorted({0, len(coords) - 1}):
                out.append(f"{mu[i]:9.4f} {coords[j]:10.4f} "
                           + "".join(_cell(v[i][j][a, a], width // 2 if np.iscomplexobj(v) else width)
                                     for a in range(3)))
        return out
    if rank in _COMPONENTS:
        comps = _COMPONENTS[rank]
        out = ["#  mu(eV) " + "".join(f"{c:>14s}" for c in comps) + f"    ({len(comps)} of {3 ** rank} components)"]
        for i in idx:
            out.append(f"{mu[i]:9.4f} " + "".join(f"{v[i][tuple('xyz'.index(ch) for ch in c)]:14.6g}" for c in comps))
        return out
    out = ["#  mu(eV)          value"]
    for i in idx:
        out.append(f"{mu[i]:9.4f} {float(v[i]):14.6g}")
    return out
