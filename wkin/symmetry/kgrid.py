"""Irreducible points of uniform k-grids under a magnetic point group."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .groups import SYMPREC, CrystalSymmetry, crystal_symmetry


@dataclass
class IrreducibleGrid:
    """Irreducible points of a uniform grid k = (i + shift)/N.

    Attributes
    ----------
    grid, shift : the grid
    k : (nir, 3) reduced coordinates of the irreducible points (in [0, 1))
    weights : (nir,) int, orbit sizes; they sum to N1·N2·N3
    mapping : (N1·N2·N3,) index into ``k`` of each full-grid point (C order, as :func:`wkin.kspace.mesh.uniform`)
    ir_grid_index : (nir,) full-grid index of each irreducible point
    op_index : (N1·N2·N3,) index of an operation g with g·k[mapping[i]] = k_full[i]
    rotations, rotations_reduced, time_reversal : the operations used (those that map the grid onto itself)
    dropped : number of group operations that do not map the grid onto itself (not used)
    """

    grid: np.ndarray
    shift: np.ndarray
    k: np.ndarray
    weights: np.ndarray
    mapping: np.ndarray
    ir_grid_index: np.ndarray
    op_index: np.ndarray
    rotations: np.ndarray
    rotations_reduced: np.ndarray
    time_reversal: np.ndarray
    dropped: int = 0
    symmetry: CrystalSymmetry | None = field(default=None, repr=False)

    @property
    def operations(self):
        return [(R, bool(t)) for R, t in zip(self.rotations, self.time_reversal)]


def irreducible_grid(model, grid, magnetization=None, shift=(0.0, 0.0, 0.0), symprec=SYMPREC, symmetry=None):
    """Reduce a uniform k-grid by the magnetic point group of the structure.

    Orbits are computed directly: an operation (W, T?) maps reduced k to
    ±W^{-T} k (minus with time reversal). Without magnetization every crystal
    rotation appears with and without T, so k and −k are always equivalent; with
    magnetization only the antiunitary operations relate k to −R k.
    Operations that do not map the grid onto itself (e.g. a 3-fold axis on an
    N1 ≠ N2 hexagonal grid) are left out (counted in ``dropped``); the rest
    still form a group.

    ``symmetry``: a precomputed :class:`CrystalSymmetry` (then ``magnetization``
    and ``symprec`` are ignored).
    """
    grid = np.asarray(grid, int).reshape(3)
    shift = np.asarray(shift, float).reshape(3)
    sym = symmetry if symmetry is not None else crystal_symmetry(model, magnetization, symprec)
    ntot = int(np.prod(grid))
    i = np.stack(np.meshgrid(*[np.arange(n) for n in grid], indexing="ij"), -1).reshape(-1, 3)
    k = (i + shift) / grid
    images, used = [], []
    for n, (w, t) in enumerate(zip(sym.magnetic_rotations_reduced, sym.time_reversal)):
        M = np.linalg.inv(np.asarray(w, float)).T * (-1.0 if t else 1.0)
        j = (k @ M.T) * grid - shift
        jr = np.round(j)
        if np.abs(j - jr).max() > 1e-6:
            continue
        jr = jr.astype(int) % grid
        images.append(np.ravel_multi_index(tuple(jr.T), tuple(grid)))
        used.append(n)
    images = np.array(images)
    rep = images.min(axis=0)
    ir_index, mapping, weights = np.unique(rep, return_inverse=True, return_counts=True)
    op_index = np.argmax(images[:, rep] == np.arange(ntot)[None, :], axis=0)
    used = np.array(used, int)
    return IrreducibleGrid(
        grid=grid, shift=shift, k=k[ir_index] % 1.0, weights=weights.astype(int), mapping=mapping.reshape(-1),
        ir_grid_index=ir_index, op_index=op_index,
        rotations=sym.magnetic_rotations[used], rotations_reduced=sym.magnetic_rotations_reduced[used],
        time_reversal=sym.time_reversal[used], dropped=len(sym.time_reversal) - len(used), symmetry=sym)


