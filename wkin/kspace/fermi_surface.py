r"""Fermi-surface quadrature: points and weights on energy shells ε_n(k) = μ.

Lattice models: linear tetrahedra (3D) or triangles (layered 2D) on a uniform k-grid
(:class:`TetrahedronSampler`); continuum models bring their own exact quadrature
(:meth:`wkin.model.protocol.Model.exact_sampler`). Both are a :class:`ShellSampler`: the kinetic
machinery asks it for shells at any energy and for a quadrature of the Fermi sea.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .. import bands
from .mesh import uniform

#: the six tetrahedra of a cube sharing the diagonal 0–7 (vertex index = i + 2j + 4k)
_TETRA = np.array([[0, 1, 3, 7], [0, 1, 5, 7], [0, 2, 3, 7], [0, 2, 6, 7], [0, 4, 5, 7], [0, 4, 6, 7]])
#: the two triangles of a square sharing the diagonal 0–3 (vertex index = i + 2j)
_TRI = np.array([[0, 1, 3], [0, 2, 3]])


class FermiSurfaceError(ValueError):
    """The Fermi surface cannot be built (empty, or extended degeneracy)."""


@dataclass
class FermiSurface:
    r"""Points on the shell ε_n(k) = μ with weights so that Σ_k δ(ε_n(k)−μ) F → Σ_i w_i F_i.

    Attributes
    ----------
    mu : float, eV
    k : (N, 3) reduced coordinates of the points
    band : (N,) band index of each point
    weight : (N,) 1/(eV·Å³): :math:`w_i=\int_{T_i}\frac{d^3k}{(2\pi)^3}\delta(\epsilon-\mu)` of the
        tetrahedron (3D) or triangle (2D, divided by the cell height) that produced the point
    dim : 2 or 3
    skipped : number of points dropped at isolated degeneracies
    unfolding : None, or the :class:`Unfolding` of a symmetric shell (:func:`symmetric_surface`)
    """

    mu: float
    k: np.ndarray
    band: np.ndarray
    weight: np.ndarray
    dim: int
    skipped: int = 0
    unfolding: Unfolding | None = None


@dataclass
class Unfolding:
    """Point i of a symmetric shell is the image under operation ``op[i]`` of the wedge point ``source[i]``, whose
    reduced coordinates (not wrapped) are ``k[source[i]]``; ``k`` (m, 3), ``band`` (m,): the wedge points, the
    only ones a shell needs eigen-solves at (:class:`wkin.kinetic.shells.ShellBuilder`)."""

    source: np.ndarray
    op: np.ndarray
    k: np.ndarray
    band: np.ndarray


def _cell_shape_weights(energies, mu, dim):
    """Blöchl δ-weights g_T(μ) (1/eV) of linear tetrahedra (dim 3) or triangles (dim 2).

    ``energies``: (..., dim+1) corner energies. Returns (g, sorted energies, order).
    """
    order = np.argsort(energies, axis=-1)
    e = np.take_along_axis(energies, order, axis=-1)
    g = np.zeros(e.shape[:-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        if dim == 3:
            e1, e2, e3, e4 = np.moveaxis(e, -1, 0)
            a = (mu > e1) & (mu <= e2)
            b = (mu > e2) & (mu <= e3)
            c = (mu > e3) & (mu < e4)
            ga = 3 * (mu - e1) ** 2 / ((e2 - e1) * (e3 - e1) * (e4 - e1))
            gb = (3 * (e2 - e1) + 6 * (mu - e2) - 3 * (e3 - e1 + e4 - e2) * (mu - e2) ** 2
                  / ((e3 - e2) * (e4 - e2))) / ((e3 - e1) * (e4 - e1))
            gc = 3 * (e4 - mu) ** 2 / ((e4 - e1) * (e4 - e2) * (e4 - e3))
            g = np.where(a, ga, np.where(b, gb, np.where(c, gc, 0.0)))
        else:
            e1, e2, e3 = np.moveaxis(e, -1, 0)
            a = (mu > e1) & (mu <= e2)
            b = (mu > e2) & (mu < e3)
            ga = 2 * (mu - e1) / ((e2 - e1) * (e3 - e1))
            gb = 2 * (e3 - mu) / ((e3 - e1) * (e3 - e2))
            g = np.where(a, ga, np.where(b, gb, 0.0))
    return np.nan_to_num(g, nan=0.0, posinf=0.0, neginf=0.0)


def _cells(grid, lattice_recip, dim, plane_axes):
    """Corner offsets (ncorner, 3) and the tetrahedra/triangles of one grid cell.

    3D: the six tetrahedra around the shortest cell diagonal (Blöchl). 2D: the
    triangles of both diagonals, each set with half weight, so that the
    quadrature keeps the mirror symmetries of the grid.
    """
    if dim == 3:
        corners = np.array([[i, j, k] for k in (0, 1) for j in (0, 1) for i in (0, 1)])  # index i+2j+4k
        shapes = _TETRA
    else:
        a, b = plane_axes
        corners = np.zeros((4, 3), int)
        for idx in range(4):
            corners[idx, a], corners[idx, b] = idx & 1, (idx >> 1) & 1
        return corners, np.concatenate([_TRI, _TRI ^ 1])
    steps = corners / np.asarray(grid, float)
    cart = steps @ lattice_recip
    ncorner = len(corners)
    best, best_len = 0, np.inf
    for s in range(ncorner):  # diagonal from corner s to its opposite (s XOR all bits)
        length = np.linalg.norm(cart[s] - cart[s ^ (ncorner - 1)])
        if length < best_len - 1e-12:
            best, best_len = s, length
    return corners, shapes ^ best


def fermi_surface(model, mu, grid, shift=(0.0, 0.0, 0.0), energies=None):
    """Fermi-surface points and weights on ε_n(k) = μ by linear tetrahedra (3D) or triangles (2D).

    The grid (three integers) is split into tetrahedra — or, when one axis has a
    single point (a layered 2D problem), into triangles in the other two. In each
    cell shape where band n crosses μ, the linearly interpolated iso-surface
    piece becomes one point at the centroid of the crossing polygon with weight
    :math:`V_T\\,g_T(\\mu)/(2\\pi)^3` (Blöchl, PRB 49, 16223 (1994), the
    tetrahedron DOS weights), i.e. area/((2π)³|∇ε|); in 2D, length/((2π)²|∇ε|)
    divided by the cell height so that all weights are per unit volume.
    Σ_i w_i = DOS(μ) per volume of the linearly interpolated bands, exactly.

    ``energies``: the band energies on the grid (:func:`wkin.bands.energies_grid`), computed when not given.
    """
    grid = np.array(grid, int)
    plane = [a for a in range(3) if grid[a] > 1]
    dim = 3 if len(plane) == 3 else 2
    if dim == 2 and len(plane) != 2:
        raise FermiSurfaceError(f"grid {grid.tolist()}: need three axes (3D) or two (layered 2D) with > 1 point")
    if energies is None:
        energies = bands.energies_grid(model, grid, shift)
    # only the bands whose range contains μ can cross it (the scan below is O(N³) per band)
    active = np.flatnonzero((energies.min(axis=(0, 1, 2)) < mu) & (energies.max(axis=(0, 1, 2)) >= mu))
    energies = energies[..., active]
    corners, shapes = _cells(grid, model.recip_lattice, dim, plane)
    # candidate cells: the band's range over the cell's corners contains μ
    lo, hi = energies.copy(), energies.copy()
    for c in corners[1:]:
        shifted = np.roll(energies, tuple(-c), axis=(0, 1, 2))
        np.minimum(lo, shifted, out=lo)
        np.maximum(hi, shifted, out=hi)
        del shifted
    cand = np.nonzero(np.any((lo < mu) & (hi >= mu), axis=-1).reshape(-1))[0]
    base = np.stack(np.unravel_index(cand, tuple(grid)), -1)
    ks, crossing, weights = [], [], []
    for shape in shapes:
        idx = (base[:, None, :] + corners[shape][None]) % grid  # (ncell, dim+1, 3)
        e = energies[idx[..., 0], idx[..., 1], idx[..., 2]]  # (ncell, dim+1, nb)
        e = np.moveaxis(e, -1, 1)  # (ncell, nb, dim+1)
        g = _cell_shape_weights(e, mu, dim)
        cell, band = np.nonzero(g > 0)
        if len(cell) == 0:
            continue
        ee = e[cell, band]  # (n, dim+1)
        kv = (base[cell][:, None, :] + corners[shape][None] + np.asarray(shift, float)) / grid  # unwrapped
        # centroid of the crossing polygon: mean of the edge crossing points
        pts = np.zeros((len(cell), 3))
        cnt = np.zeros(len(cell))
        for a in range(dim + 1):
            for b in range(a + 1, dim + 1):
                ea, eb = ee[:, a], ee[:, b]
                cross = (np.minimum(ea, eb) < mu) & (np.maximum(ea, eb) >= mu) & (ea != eb)
                t = np.where(cross, (mu - ea) / np.where(ea != eb, eb - ea, 1.0), 0.0)
                pts += cross[:, None] * (kv[:, a] + t[:, None] * (kv[:, b] - kv[:, a]))
                cnt += cross
        ks.append(pts / np.maximum(cnt, 1)[:, None])
        crossing.append(active[band])
        weights.append(g[cell, band] / (len(shapes) * np.prod(grid) * model.cell_volume))  # shape volume / cell
    if not ks:
        return FermiSurface(mu=float(mu), k=np.zeros((0, 3)), band=np.zeros(0, int), weight=np.zeros(0), dim=dim)
    return FermiSurface(mu=float(mu), k=np.concatenate(ks), band=np.concatenate(crossing),
                        weight=np.concatenate(weights), dim=dim)


def _lex_less(a, b):
    """Row-wise lexicographic a < b for integer arrays (..., 3)."""
    return (a[..., 0] < b[..., 0]) | ((a[..., 0] == b[..., 0]) & (
        (a[..., 1] < b[..., 1]) | ((a[..., 1] == b[..., 1]) & (a[..., 2] < b[..., 2]))))


def symmetric_surface(fs: FermiSurface, ops, resolution=1e-9) -> FermiSurface:
    r"""The shell quadrature restricted to an irreducible wedge of the Brillouin zone and unfolded by the group.

    A point p of ``fs`` (tetrahedron centroids) is kept when no image g·p (reduced coordinates in [0, 1),
    compared lexicographically to ``resolution``) comes before it: one representative of each orbit, i.e. the
    quadrature of a fundamental domain. Each kept point carries all its distinct images g·p with its weight
    :math:`w_p` (a point fixed by some operations has fewer images, as in any symmetric quadrature), so that the
    shell is exactly symmetric under the operations ``ops`` (a :class:`wkin.symmetry.SpaceGroupOperations`) and
    integrates like ``fs``: the same quadrature on the wedge, unfolded; the two differ at the discretisation level
    where tetrahedra straddle the wedge boundary (bcc Fe at E_F: Σw within 1.2 % at 12³, 0.5 % at 32³). Bands
    and energies of the images follow from those of the wedge points (:class:`Unfolding`).
    """
    nop = len(ops.W)
    scale = 1.0 / resolution
    period = int(round(scale))

    def keys(k):
        return np.rint((k % 1.0) * scale).astype(np.int64) % period

    own = keys(fs.k)
    images = ops.k_images(fs.k)
    first = np.ones(len(fs.k), bool)
    for o in range(nop):
        first &= ~_lex_less(keys(images[o]), own)
    wedge = np.flatnonzero(first)
    m = len(wedge)
    if m == 0:
        return FermiSurface(mu=fs.mu, k=fs.k, band=fs.band, weight=fs.weight, dim=fs.dim, skipped=fs.skipped,
                            unfolding=Unfolding(np.zeros(0, int), np.zeros(0, int), np.zeros((0, 3)), np.zeros(0, int)))
    img_keys = keys(images[:, wedge])  # (nop, m, 3)
    rows = np.concatenate([np.repeat(np.arange(m)[None], nop, 0).reshape(-1, 1), img_keys.reshape(-1, 3)], axis=1)
    _, index = np.unique(rows, axis=0, return_index=True)
    op, source = np.divmod(index, m)
    k = images[op, wedge[source]] % 1.0
    return FermiSurface(mu=fs.mu, k=k, band=fs.band[wedge[source]], weight=fs.weight[wedge[source]],
                        dim=fs.dim, skipped=fs.skipped,
                        unfolding=Unfolding(source=source, op=op, k=fs.k[wedge], band=fs.band[wedge]))


class ShellSampler(Protocol):
    """Where the kinetic machinery gets its states: energy shells and the Fermi sea.

    ``exact``: shells are exact at every energy (a continuum quadrature), so shell-wide matrices need no
    interpolation in energy; False for tetrahedra on a grid.
    """

    exact: bool

    def shell(self, mu: float) -> FermiSurface:
        """Points and weights on the shell ε_n(k) = μ."""

    def sea(self, mu: float) -> tuple:
        r"""Points (N, 3) and weights (N,) in 1/Å³ of :math:`\int d^3k/(2\pi)^3` over the Brillouin zone (or
        the plane of a continuum model), for Fermi-sea sums at T = 0."""


class TetrahedronSampler:
    """Shells of a lattice model by linear tetrahedra on a uniform grid (:func:`fermi_surface`).

    The band energies of the grid are computed once, on first use, and shared by every shell.
    """

    exact = False

    def __init__(self, model, grid, shift=(0.0, 0.0, 0.0), operations=None):
        self.model, self.grid, self.shift = model, np.asarray(grid, int), np.asarray(shift, float)
        self.operations = operations
        self._energies = None

    @property
    def energies(self):
        """Band energies on the grid, (N1, N2, N3, nw) eV."""
        if self._energies is None:
            self._energies = bands.energies_grid(self.model, self.grid, self.shift)
        return self._energies

    def shell(self, mu):
        """The shell at ``mu``; with ``operations``, the symmetric shell unfolded from the wedge (:func:`symmetric_surface`)."""
        fs = fermi_surface(self.model, mu, self.grid, self.shift, self.energies)
        return fs if self.operations is None else symmetric_surface(fs, self.operations)

    def sea(self, mu):
        k = uniform(self.grid, self.shift)
        return k, np.full(len(k), 1.0 / (len(k) * self.model.cell_volume))


def sampler(model, grid=None, shift=(0.0, 0.0, 0.0), operations=None) -> ShellSampler:
    """The model's exact quadrature (continuum models), else tetrahedra on ``grid`` (symmetric shells unfolded from
    the irreducible wedge with ``operations``, :func:`symmetric_surface`)."""
    exact = model.exact_sampler()
    if exact is not None:
        return exact
    if grid is None:
        raise ValueError("a lattice model needs a k-grid for its energy shells")
    return TetrahedronSampler(model, grid, shift, operations)
