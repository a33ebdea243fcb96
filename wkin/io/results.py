"""HDF5 results: one group per quantity, units and provenance on the objects.

Layout (see ``docs/outputs.md``)::

    /                      attrs: wkin_version, created, config (TOML text), inputs (JSON: file → sha256),
                                  model, num_wann, lattice (Å), cell_volume (Å³), grid, shift,
                                  nk_evaluated, temperature (K), mpi_ranks
    /fermi_energies        (n_mu,) eV
    /<quantity>/value      (n_mu, ...) in the units of attr ``units``; Cartesian indices after axis 0
    /<quantity>/adaptive_value  (n_levels, n_mu, ...) value after each refinement level (adaptive runs)
    /<quantity>/adaptive_nk     (n_levels,) cumulative number of k-points evaluated
"""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path

import h5py
import numpy as np

from .. import __version__


def file_hashes(paths):
    """sha256 of each existing input file."""
    out = {}
    for p in paths:
        p = Path(p)
        if p.is_file():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def write(path, integrals, observables, mu, meta):
    """Write an :class:`wkin.integrate.Integrals` result with units and provenance."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.attrs["wkin_version"] = __version__
        f.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
        for key, value in meta.items():
            f.attrs[key] = json.dumps(value) if isinstance(value, dict) else value
        f.attrs["nk_evaluated"] = integrals.nk_evaluated
        d = f.create_dataset("fermi_energies", data=np.asarray(mu))
        d.attrs["units"] = "eV"
        for o in observables:
            g = f.create_group(o.name)
            g.attrs["description"] = o.description
            g.attrs["kind"] = "Fermi sea" if o.kind == "sea" else "Fermi surface"
            d = g.create_dataset("value", data=integrals.values[o.name])
            d.attrs["units"] = o.units
            d.attrs["axes"] = "fermi_energy" + "".join(", cartesian" for _ in o.shape)
            if len(integrals.levels) > 1:
                d = g.create_dataset("adaptive_value", data=np.array([v[o.name] for _, v in integrals.levels]))
                d.attrs["units"] = o.units
                d = g.create_dataset("adaptive_nk", data=np.array([n for n, _ in integrals.levels]))
                d.attrs["units"] = "k-points"


def summary(integrals, observables, mu, max_rows=8):
    """Short plain-text table of the results (first components), for a quick look."""
    lines = []
    idx = np.unique(np.linspace(0, len(mu) - 1, min(len(mu), max_rows)).round().astype(int))
    for o in observables:
        v = integrals.values[o.name]
        lines.append(f"# {o.name} [{o.units}]: {o.description}")
        if o.shape == (3, 3):
            comps = ["xx", "yy", "zz", "xy", "yx", "yz", "zx"]
            ij = [(0, 0), (1, 1), (2, 2), (0, 1), (1, 0), (1, 2), (2, 0)]
            lines.append("#  mu(eV) " + "".join(f"{c:>14s}" for c in comps))
            for i in idx:
                lines.append(f"{mu[i]:9.4f} " + "".join(f"{v[i][a, b]:14.6g}" for a, b in ij))
        else:
            lines.append("#  mu(eV)          value")
            for i in idx:
                lines.append(f"{mu[i]:9.4f} {v[i]:14.6g}")
        if len(integrals.levels) > 1:
            conv = " -> ".join(f"{np.abs(lv[o.name]).max():.6g} ({n} k)" for n, lv in integrals.levels)
            lines.append(f"#  adaptive max|value|: {conv}")
    return "\n".join(lines)
