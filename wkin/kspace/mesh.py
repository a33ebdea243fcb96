"""k-point meshes: uniform grids and adaptive refinement of single cells.

A uniform grid is k = (i + s)/N (reduced coordinates, i_a = 0..N_a−1, shift s
in units of the grid step); every point carries weight 1/(N1 N2 N3) and stands
for the parallelepiped cell of size 1/N around it. Refining a point replaces
it by an m×m×m sub-grid of that cell (m×m×1 for a 2D grid), each with
weight w/m³ (w/m² in 2D; centred, so an odd m keeps the original point). Repeated
refinement nests these cells.
"""

from __future__ import annotations

import numpy as np


def parse_grid(grid):
    """Validate a grid spec: three positive integers."""
    g = np.array(grid, dtype=int).reshape(-1)
    if g.size != 3 or np.any(g < 1) or not np.allclose(np.array(grid, float).reshape(-1), g):
        raise ValueError(f"mesh grid must be three positive integers, got {grid!r}")
    return g


def uniform(grid, shift=(0.0, 0.0, 0.0)):
    """All points of the uniform grid, (N1·N2·N3, 3) reduced coordinates, C order."""
    grid = parse_grid(grid)
    i = np.stack(np.meshgrid(*[np.arange(n) for n in grid], indexing="ij"), -1).reshape(-1, 3)
    return (i + np.asarray(shift, float)) / grid


def subdivide(k, cell, m):
    """Replace each point k (n, 3) with cell size ``cell`` (n, 3) by an m1×m2×m3 sub-grid.

    ``m`` is three integers (1 along an axis that is not sampled, e.g. the
    out-of-plane axis of a 2D model). Returns (k_new, cell_new) with
    n·m1·m2·m3 rows; weights scale by 1/(m1·m2·m3).
    """
    m = np.broadcast_to(np.asarray(m, int), (3,))
    offs = [(np.arange(n) - (n - 1) / 2) / n for n in m]
    o = np.stack(np.meshgrid(*offs, indexing="ij"), -1).reshape(-1, 3)
    k_new = (k[:, None, :] + o[None] * cell[:, None, :]).reshape(-1, 3)
    cell_new = np.repeat(cell / m, len(o), axis=0)
    return k_new, cell_new


def lattice_index(k, spacing):
    """Integer coordinates of points on a (possibly shifted) lattice of step ``spacing`` (3,), modulo the BZ.

    All points share the lattice's offset (a shifted grid, or the centred sub-grids of one refinement
    level); it is taken from the first point.
    """
    n = np.rint(1.0 / np.asarray(spacing, float)).astype(np.int64)
    x = np.asarray(k, float) / spacing
    offset = x[0] - np.floor(x[0]) if len(x) else 0.0
    return np.rint(x - offset).astype(np.int64) % n, n


def with_neighbours(sel, k, spacing, index_of=None):
    """``sel`` (indices into ``k``) together with the indices of its nearest and diagonal neighbours.

    All points of ``k`` lie on the lattice of step ``spacing`` (the cells of one refinement level); the
    neighbours are the lattice points q + (−1, 0, 1)³ (only along axes with more than one point) that are
    present in ``k``. ``index_of``: an array mapping every lattice point (C-order linear index) to an index
    into ``k`` (e.g. an irreducible wedge's orbit map); by default the neighbours are looked up among ``k``.
    """
    q, n = lattice_index(k, spacing)
    steps = [(-1, 0, 1) if n[a] > 1 else (0,) for a in range(3)]
    offsets = np.stack(np.meshgrid(*steps, indexing="ij"), -1).reshape(-1, 3)
    cand = np.ravel_multi_index(tuple(((q[sel][:, None, :] + offsets[None]) % n).reshape(-1, 3).T), tuple(n))
    if index_of is not None:
        idx = np.asarray(index_of)[cand]
    else:
        key = np.ravel_multi_index(tuple(q.T), tuple(n))
        order = np.argsort(key)
        pos = np.minimum(np.searchsorted(key[order], cand), len(key) - 1)
        idx = np.where(key[order][pos] == cand, order[pos], -1)
    return np.unique(np.concatenate([np.asarray(sel, int), idx[idx >= 0]]))
