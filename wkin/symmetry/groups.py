"""Space groups and magnetic point groups (spglib), and space-group operations with translations.

See :mod:`wkin.symmetry` for the conventions (Cartesian vs reduced rotations, magnetic groups of
ferromagnets, grey groups).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import spglib

from .operations import has_pure_time_reversal, operation_label
from .symbols import point_group_symbol
from .tensors import allowed_components, symmetrize

#: spglib's distance tolerance (Å), the default of every symmetry search
SYMPREC = 1e-3


def space_group(model, symprec=SYMPREC):
    """International symbol and number of the crystal's space group, or None without atoms.

    Uses the atoms carried by the model (from the ``.win``); magnetic order and
    spin–orbit coupling are not taken into account here.
    """
    if model.atoms is None:
        return None
    positions, numbers = model.atoms
    return spglib.get_spacegroup((model.lattice, positions, numbers), symprec=symprec)


@dataclass
class CrystalSymmetry:
    """Crystal space/point group and the (magnetic) point group used for tensors and k-points.

    Attributes
    ----------
    spacegroup_symbol, spacegroup_number : spglib's international symbol and number
    pointgroup_symbol : Hermann–Mauguin symbol of the crystal point group (spglib)
    rotations : (n, 3, 3) Cartesian rotations of the crystal point group
    rotations_reduced : (n, 3, 3) int, the same as spglib's W (reduced coordinates)
    magnetization : None, Cartesian 3-vector, or (nat, 3) per-atom moments
    magnetic_rotations, magnetic_rotations_reduced : (m, 3, 3) rotations of the
        magnetic point group (for a non-magnetic crystal: every crystal rotation twice)
    time_reversal : (m,) bool, True for antiunitary (primed) operations
    magnetic_pointgroup_symbol : e.g. ``"4/mm'm'"``, ``"321'"`` (grey), or None if not identified
    unitary_pointgroup_symbol : symbol of the unitary subgroup (operations without T)
    """

    spacegroup_symbol: str
    spacegroup_number: int
    pointgroup_symbol: str
    lattice: np.ndarray
    rotations: np.ndarray
    rotations_reduced: np.ndarray
    magnetization: np.ndarray | None
    magnetic_rotations: np.ndarray
    magnetic_rotations_reduced: np.ndarray
    time_reversal: np.ndarray
    magnetic_pointgroup_symbol: str | None
    unitary_pointgroup_symbol: str | None

    @property
    def operations(self):
        """The magnetic point group as a list of (Cartesian R, time_reversal) pairs."""
        return [(R, bool(t)) for R, t in zip(self.magnetic_rotations, self.time_reversal)]

    @property
    def magnetic_group_type(self) -> str:
        """'grey' (T itself is a symmetry), 'black-white' (some primed elements) or 'colourless'."""
        if has_pure_time_reversal(self.magnetic_rotations, self.time_reversal):
            return "grey"
        return "black-white" if self.time_reversal.any() else "colourless"

    def allowed(self, kind, part=None):
        """:func:`wkin.symmetry.tensors.allowed_components` for this group."""
        return allowed_components(self, kind, part)

    def symmetrize(self, tensor, kind, part=None):
        """:func:`wkin.symmetry.tensors.symmetrize` for this group."""
        return symmetrize(tensor, self, kind, part)

    def operation_labels(self):
        return [operation_label(R, t) for R, t in self.operations]


def crystal_symmetry(model, magnetization=None, symprec=SYMPREC):
    """Space group, point group and magnetic point group of a model's structure.

    Parameters
    ----------
    model : TightBindingModel with ``atoms`` (reduced positions, atomic numbers)
    magnetization : None (non-magnetic: time reversal is a symmetry), a Cartesian
        3-vector (ferromagnet, e.g. ``[0, 0, 1]`` for m ∥ z), or an (nat, 3) array of
        Cartesian per-atom moments (any collinear or non-collinear order).
    symprec : distance tolerance (Å) for spglib

    Returns
    -------
    CrystalSymmetry
    """
    if model.atoms is None:
        raise ValueError("symmetry analysis needs the crystal structure: the model has no atoms "
                         "(give atoms_frac or atoms_cart in the .win)")
    lattice = np.asarray(model.lattice, float)
    positions, numbers = model.atoms
    positions = np.asarray(positions, float).reshape(-1, 3)
    numbers = np.asarray(numbers).reshape(-1)
    cell = (lattice, positions, numbers)
    ds = spglib.get_symmetry_dataset(cell, symprec=symprec)
    if ds is None:
        raise ValueError(f"spglib could not determine the space group (symprec = {symprec})")
    W = unique_rotations(np.asarray(ds.rotations, int))
    Rc = to_cartesian(W, lattice)

    if magnetization is None:
        mW = np.concatenate([W, W])
        tr = np.repeat([False, True], len(W))
        mag = None
    else:
        mag = np.asarray(magnetization, float)
        if mag.shape == (3,):
            if np.linalg.norm(mag) < 1e-12:
                raise ValueError("magnetization is zero: use None for a non-magnetic system")
            keep, tr = ferromagnetic_selection(Rc, mag)
            mW = np.asarray(W, int)[keep]
        elif mag.shape == (len(positions), 3):
            if np.abs(mag).max() < 1e-12:
                raise ValueError("all magnetic moments are zero: use None for a non-magnetic system")
            mW, tr = _spglib_magnetic_group(lattice, positions, numbers, mag, symprec)
        else:
            raise ValueError(f"magnetization must be a Cartesian 3-vector or one per atom "
                             f"({len(positions)}, 3); got shape {mag.shape}")
    tr = np.asarray(tr, bool)
    order = sorted(range(len(tr)), key=lambda i: (tr[i], np.linalg.det(mW[i]) < 0))  # stable
    mW, tr = mW[order], tr[order]
    mR = to_cartesian(mW, lattice)
    if mag is None:
        mag_symbol = ds.pointgroup + "1'"
        unit_symbol = ds.pointgroup
    else:
        mag_symbol = point_group_symbol(list(zip(mR, tr)), lattice)
        unit_symbol = point_group_symbol(mR[~tr], lattice)
    return CrystalSymmetry(
        spacegroup_symbol=ds.international, spacegroup_number=int(ds.number),
        pointgroup_symbol=ds.pointgroup, lattice=lattice, rotations=Rc, rotations_reduced=W,
        magnetization=mag, magnetic_rotations=mR, magnetic_rotations_reduced=mW, time_reversal=tr,
        magnetic_pointgroup_symbol=mag_symbol, unitary_pointgroup_symbol=unit_symbol)


def unique_rotations(W):
    out, seen = [], set()
    for w in W:
        key = tuple(w.ravel())
        if key not in seen:
            seen.add(key)
            out.append(w)
    # identity first, then a stable order
    out.sort(key=lambda w: (not np.array_equal(w, np.eye(3, dtype=int)), np.linalg.det(w) < 0,
                            tuple(w.ravel())))
    return np.array(out, int)


def to_cartesian(W, lattice):
    """R = L^T W L^{-T}, snapped to the nearest orthogonal matrix."""
    LT = lattice.T
    R = LT @ np.asarray(W, float) @ np.linalg.inv(LT)
    U, _, Vt = np.linalg.svd(R)
    return U @ Vt


def ferromagnetic_selection(Rc, m):
    """Indices of the Cartesian rotations Rc keeping the axial vector m (unitary) or reversing it (with T),
    and the time-reversal flag of each kept one."""
    m = m / np.linalg.norm(m)
    keep, keep_t = [], []
    for i, R in enumerate(Rc):
        mp = np.linalg.det(R) * R @ m
        if np.allclose(mp, m, atol=1e-5):
            keep.append(i)
            keep_t.append(False)
        elif np.allclose(mp, -m, atol=1e-5):
            keep.append(i)
            keep_t.append(True)
    return np.array(keep, int), np.array(keep_t, bool)


def _spglib_magnetic_group(lattice, positions, numbers, magmoms, symprec):
    """Point-group part of spglib's magnetic space group for per-atom (Cartesian) moments."""
    sym = spglib.get_magnetic_symmetry((lattice, positions, numbers, magmoms), symprec=symprec,
                                       is_axial=True)
    if sym is None:
        raise ValueError("spglib could not determine the magnetic symmetry")
    seen, Ws, ts = set(), [], []
    for w, t in zip(np.asarray(sym["rotations"], int), np.asarray(sym["time_reversals"], bool)):
        key = (tuple(w.ravel()), bool(t))
        if key not in seen:
            seen.add(key)
            Ws.append(w)
            ts.append(bool(t))
    order = sorted(range(len(Ws)), key=lambda i: (ts[i], not np.array_equal(Ws[i], np.eye(3, dtype=int)),
                                                  np.linalg.det(Ws[i]) < 0, tuple(Ws[i].ravel())))
    return np.array([Ws[i] for i in order], int), np.array([ts[i] for i in order], bool)


@dataclass
class SpaceGroupOperations:
    """Operations {W|v} (times T where ``time_reversal``) of the (magnetic) space group.

    ``W`` (n,3,3) int act on reduced positions (x' = W x + v); ``v`` (n,3)
    reduced translations; ``S`` (n,3,3) the Cartesian rotations (R = Lᵀ W L⁻ᵀ);
    ``time_reversal`` (n,) bool.
    """

    W: np.ndarray
    v: np.ndarray
    S: np.ndarray
    time_reversal: np.ndarray

    def __len__(self):
        return len(self.W)

    def k_images(self, k, op=None):
        """The images k′ = ±W⁻ᵀk of reduced k-points (rows, (n, 3); − for an antiunitary operation) — the k of the
        Bloch states g maps those at k onto: (nop, n, 3) for every operation, or (n, 3) for operation ``op``."""
        k = np.asarray(k, float)
        ops = range(len(self.W)) if op is None else [op]
        out = np.stack([(-1.0 if self.time_reversal[o] else 1.0) * k @ np.linalg.inv(np.asarray(self.W[o], float))
                        for o in ops])
        return out if op is None else out[0]


def space_group_operations(model, magnetization=None, symprec=SYMPREC):
    """The (magnetic) space group of ``model.atoms``, with translations.

    ``magnetization``: None (grey group: every operation with and without T), a
    Cartesian 3-vector (ferromagnet), or an (nat, 3) array of per-atom moments
    (spglib's magnetic symmetry), as in :func:`crystal_symmetry`.
    """
    if model.atoms is None:
        raise ValueError("symmetrization needs the crystal structure: the model has no atoms "
                         "(give atoms_frac or atoms_cart in the .win)")
    lattice = np.asarray(model.lattice, float)
    positions = np.asarray(model.atoms[0], float).reshape(-1, 3)
    numbers = np.asarray(model.atoms[1]).reshape(-1)
    mag = None if magnetization is None else np.asarray(magnetization, float)
    if mag is not None and mag.ndim == 2:
        if np.abs(mag).max() < 1e-12:
            raise ValueError("all magnetic moments are zero: use None for a non-magnetic system")
        sym = spglib.get_magnetic_symmetry((lattice, positions, numbers, mag), symprec=symprec, is_axial=True)
        if sym is None:
            raise ValueError("spglib could not determine the magnetic symmetry")
        W = np.asarray(sym["rotations"], int)
        v = np.asarray(sym["translations"], float)
        t = np.asarray(sym["time_reversals"], bool)
        return SpaceGroupOperations(W, v, to_cartesian(W, lattice), t)
    ds = spglib.get_symmetry_dataset((lattice, positions, numbers), symprec=symprec)
    if ds is None:
        raise ValueError(f"spglib could not determine the space group (symprec = {symprec})")
    W = np.asarray(ds.rotations, int)
    v = np.asarray(ds.translations, float)
    S = to_cartesian(W, lattice)
    if mag is None:
        n = len(W)
        return SpaceGroupOperations(np.concatenate([W, W]), np.concatenate([v, v]), np.concatenate([S, S]),
                                    np.repeat([False, True], n))
    if mag.shape != (3,):
        raise ValueError(f"magnetization must be a Cartesian 3-vector or one per atom ({len(positions)}, 3); "
                         f"got shape {mag.shape}")
    if np.linalg.norm(mag) < 1e-12:
        raise ValueError("magnetization is zero: use None for a non-magnetic system")
    keep, tr = ferromagnetic_selection(S, mag)
    return SpaceGroupOperations(W[keep], v[keep], S[keep], tr)
