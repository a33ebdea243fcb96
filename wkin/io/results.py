"""HDF5 results: one group per quantity, units and provenance on the objects.

Layout (see ``docs/outputs.md``)::

    /                      attrs: wkin_version, created, config (TOML text), inputs (JSON: file → sha256),
                                  model, num_wann, lattice (Å), cell_volume (Å³), grid, shift,
                                  nk_evaluated, temperature (K), mpi_ranks
    /fermi_energies        (n_mu,) eV
    /<quantity>/value      (n_mu, ...) in the units of attr ``units``; Cartesian indices after axis 0
    /<quantity>/adaptive_value  (n_levels, n_mu, ...) value after each refinement level (adaptive runs)
    /<quantity>/adaptive_nk     (n_levels,) cumulative number of k-points evaluated
    /noa_orb/value (n_mu, n_freq, 3, 3) m, /noa_orb/frequency (n_freq,) eV: natural optical activity
    /conductivity_boltzmann/value         (n_mu, 3, 3) S/m, full Boltzmann solution
    /conductivity_boltzmann/rta           (n_mu, 3, 3) S/m, k-dependent lifetime approximation
    /conductivity_boltzmann/constant_tau  (n_mu, 3, 3) S/m, shell-averaged lifetime
    /conductivity_boltzmann/tau_average   (n_mu,) s
    symmetry runs add root attrs space_group, point_group, magnetic_point_group, symmetrized,
    symmetry_mode, and (mode "verify") attr forbidden_fraction = |X − PX|/max(|PX|, |X|) on each tensor
    /ahe_extrinsic/{drude, intrinsic, extrinsic_velocity, side_jump, skew, skew_third_order, total,
        skew_fermi_sheet, skew_companion[, omitted_term]}  (n_mu, 3, 3) S/m; omitted_term (diagnostic,
        [disorder] omitted_term = true) is not part of total
    /spin_density/{edelstein, intrinsic, extrinsic, side_jump, skew, total, ...}  1/(V*m^2)
    /spin_orbit_torque/{...}  C/m^2 (same pieces as spin_density; attrs exchange_eV, axis)
    /scattering_rate/{k, band, weight, rate, mean_free_path, offsets}: Fermi-surface states of all
        Fermi energies concatenated; states of mu_i are rows offsets[i]:offsets[i+1] (T = 0 only)
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


def write(path, integrals, observables, mu, meta, symmetry_checks=None):
    """Write an :class:`wkin.integrate.Integrals` result with units and provenance.

    ``symmetry_checks``: {quantity: |forbidden|/|allowed|} from the verification
    mode (|X − PX|/max(|PX|, |X|)), stored as attribute ``forbidden_fraction`` of
    ``/<quantity>/value``.
    """
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
            if symmetry_checks and o.name in symmetry_checks:
                d.attrs["forbidden_fraction"] = symmetry_checks[o.name]
            extra = ()
            if o.axis is not None:  # an extra axis after the Fermi energy, with its coordinates
                name, coords, units = o.axis
                g.create_dataset(name, data=np.asarray(coords)).attrs["units"] = units
                extra = (name,)
            d.attrs["axes"] = ", ".join(("fermi_energy",) + extra
                                        + ("cartesian",) * (len(o.shape) - len(extra)))
            if len(integrals.levels) > 1:
                d = g.create_dataset("adaptive_value", data=np.array([v[o.name] for _, v in integrals.levels]))
                d.attrs["units"] = o.units
                d = g.create_dataset("adaptive_nk", data=np.array([n for n, _ in integrals.levels]))
                d.attrs["units"] = "k-points"


def gather_shell(shell):
    """Collect the rank-local Fermi-surface arrays of a shell on every rank (row order = rank order)."""
    from .. import parallel
    for name in ("k", "band", "weight", "rate", "mean_free_path"):
        setattr(shell, name, parallel.gather_concat(getattr(shell, name)))
    return shell


def write_boltzmann(path, bres, conductivity=True, rates=False, forbidden_fraction=None):
    """Append the Boltzmann results (see module docstring) to an existing results file."""
    with h5py.File(path, "a") as f:
        if conductivity:
            g = f.create_group("conductivity_boltzmann")
            g.attrs["description"] = ("Drude conductivity sigma_ab = j_a/E_b from the exact linearized Boltzmann "
                                      "equation with the Born kernel of scalar Gaussian disorder")
            for name, data in (("value", bres.full), ("rta", bres.rta), ("constant_tau", bres.constant_tau)):
                d = g.create_dataset(name, data=data)
                d.attrs["units"] = "S/m"
                d.attrs["axes"] = "fermi_energy, cartesian, cartesian"
            if forbidden_fraction is not None:
                g["value"].attrs["forbidden_fraction"] = forbidden_fraction
            d = g.create_dataset("tau_average", data=bres.tau_avg)
            d.attrs["units"] = "s"
        if rates and bres.shells:
            g = f.create_group("scattering_rate")
            g.attrs["description"] = "out-scattering rate 1/tau of each Fermi-surface state (Born, T = 0)"
            offsets = np.cumsum([0] + [len(s.k) for s in bres.shells])
            for name, unit in (("k", "reduced"), ("band", ""), ("weight", "1/(eV*Angstrom^3)"), ("rate", "1/s"),
                               ("mean_free_path", "m")):
                d = g.create_dataset(name, data=np.concatenate([getattr(s, name) for s in bres.shells]))
                d.attrs["units"] = unit
            g.create_dataset("offsets", data=offsets)
            d = g.create_dataset("mu", data=np.array([s.mu for s in bres.shells]))
            d.attrs["units"] = "eV"


#: units and descriptions of the disorder-resolved response groups
PIECE_GROUPS = {
    "ahe_extrinsic": ("S/m", "conductivity sigma_ab = j_a/E_b split into Drude, intrinsic (Fermi sea), extrinsic "
                             "velocity, side jump and skew (Fermi sheet + companion shells); T = 0"),
    "spin_density": ("1/(V*m^2)", "spin density <sigma_a> per unit field E_b (Pauli spin per volume; x hbar/2 for "
                                  "angular momentum) split into Edelstein, intrinsic, extrinsic, side jump, skew"),
    "spin_orbit_torque": ("C/m^2", "torque density tau_a per unit field E_b, tau = Delta m x <sigma> (J/m^3 per V/m)"),
}


def write_pieces(path, groups, torque=None, symmetry_checks=None):
    """Append disorder-resolved response groups: ``/<group>/<piece>`` (n_mu, 3, 3) with units.

    ``symmetry_checks``: {"<group>/<piece>": forbidden fraction} (verification mode), stored as attribute
    ``forbidden_fraction`` of the dataset.
    """
    symmetry_checks = symmetry_checks or {}
    with h5py.File(path, "a") as f:
        for group, pieces in groups.items():
            units, text = PIECE_GROUPS[group]
            g = f.create_group(group)
            g.attrs["description"] = text
            if group == "spin_orbit_torque" and torque is not None:
                g.attrs["exchange_eV"] = torque["exchange"]
                g.attrs["axis"] = torque["axis"]
            for piece, value in pieces.items():
                d = g.create_dataset(piece, data=value)
                d.attrs["units"] = units
                d.attrs["axes"] = "fermi_energy, cartesian (response), cartesian (field)"
                if f"{group}/{piece}" in symmetry_checks:
                    d.attrs["forbidden_fraction"] = symmetry_checks[f"{group}/{piece}"]


def summary_boltzmann(bres):
    """Plain-text table of the Boltzmann conductivity (diagonal, S/m)."""
    lines = ["# conductivity_boltzmann [S/m]: full / rta / constant_tau (xx, yy, zz); tau_average [fs]"]
    for i, m in enumerate(bres.mu):
        row = " ".join(f"{x[i][a, a]:12.5g}" for x in (bres.full, bres.rta, bres.constant_tau) for a in range(3))
        lines.append(f"{m:9.4f} {row} {bres.tau_avg[i] * 1e15:10.4g}")
    return "\n".join(lines)


def summary(integrals, observables, mu, max_rows=8):
    """Short plain-text table of the results (first components), for a quick look."""
    lines = []
    idx = np.unique(np.linspace(0, len(mu) - 1, min(len(mu), max_rows)).round().astype(int))
    for o in observables:
        v = integrals.values[o.name]
        lines.append(f"# {o.name} [{o.units}]: {o.description}")
        if o.axis is not None:  # (n_mu, n_axis, 3, 3): diagonal at the first and last axis points
            name, coords, units = o.axis
            lines.append(f"#  mu(eV) {name}({units}) " + "".join(f"{c:>14s}" for c in ("xx", "yy", "zz")))
            for i in idx:
                for j in sorted({0, len(coords) - 1}):
                    lines.append(f"{mu[i]:9.4f} {coords[j]:10.4f} " + "".join(f"{v[i][j][a, a]:14.6g}" for a in range(3)))
        elif o.shape == (3, 3):
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
