r"""Occupations and Fermi-surface weights on energy grids.

Fermi-sea integrals use the occupation :math:`f(\epsilon-\mu)`; Fermi-surface
integrals use :math:`-\partial f/\partial\epsilon` or, at zero temperature, a
normalised broadening of :math:`\delta(\epsilon-\mu)`:

- ``fermi-dirac``: :math:`-\partial f/\partial\epsilon=\frac{1}{4k_BT\cosh^2[(\epsilon-\mu)/2k_BT]}`
  (finite temperature; exact for that temperature);
- ``box``: :math:`\frac{1}{2h}` for :math:`\mu-h<\epsilon\le\mu+h` — the
  histogram that WannierBerri's Fermi-surface calculators use with h equal to
  the Fermi-energy step (the centred difference of the cumulative count);
- ``gaussian``: :math:`e^{-(\epsilon-\mu)^2/2h^2}/(\sqrt{2\pi}h)`.

Energies in eV, temperature in K.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.constants import Boltzmann, elementary_charge

#: k_B in eV/K
KB_EV = Boltzmann / elementary_charge

SURFACE_KINDS = ("fermi-dirac", "box", "gaussian")


def occupation(energies, mu, temperature=0.0):
    """Fermi–Dirac occupation f(ε−μ), shape energies.shape + (len(mu),).

    At T = 0 a state exactly at μ counts as occupied (ε ≤ μ).
    """
    e = np.asarray(energies)[..., None] - np.asarray(mu, float)
    if temperature <= 0:
        return (e <= 0).astype(float)
    return 0.5 * (1.0 - np.tanh(e / (2 * KB_EV * temperature)))


def surface_weight(energies, mu, kind, width):
    """Broadened δ(ε−μ) in 1/eV, shape energies.shape + (len(mu),).

    ``width`` is k_B T in eV for ``fermi-dirac`` and the half-width h for the others.
    """
    if width <= 0:
        raise ValueError("a Fermi-surface integral needs a positive temperature or broadening")
    e = np.asarray(energies)[..., None] - np.asarray(mu, float)
    if kind == "fermi-dirac":
        x = np.clip(e / (2 * width), -350, 350)
        return 1.0 / (4 * width * np.cosh(x) ** 2)
    if kind == "box":
        return ((e > -width) & (e <= width)) / (2 * width)
    if kind == "gaussian":
        return np.exp(-0.5 * (e / width) ** 2) / (np.sqrt(2 * np.pi) * width)
    raise ValueError(f"unknown Fermi-surface weight {kind!r}; choose one of {SURFACE_KINDS}")


# ----------------------------------------------------------------------------- Fermi-surface quadrature
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
    """

    mu: float
    k: np.ndarray
    band: np.ndarray
    weight: np.ndarray
    dim: int
    skipped: int = 0


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

    Continuum models (:mod:`wkin.continuum`) carry their own exact shell quadrature; for them
    ``grid``, ``shift`` and ``energies`` are not used.
    """
    if hasattr(model, "shell_quadrature"):
        return model.shell_quadrature(mu)
    grid = np.array(grid, int)
    plane = [a for a in range(3) if grid[a] > 1]
    dim = 3 if len(plane) == 3 else 2
    if dim == 2 and len(plane) != 2:
        raise FermiSurfaceError(f"grid {grid.tolist()}: need three axes (3D) or two (layered 2D) with > 1 point")
    if energies is None:
        energies = model.energies_grid(grid, shift)
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
    ks, bands, weights = [], [], []
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
        bands.append(active[band])
        weights.append(g[cell, band] / (len(shapes) * np.prod(grid) * model.cell_volume))  # shape volume / cell
    if not ks:
        return FermiSurface(mu=float(mu), k=np.zeros((0, 3)), band=np.zeros(0, int), weight=np.zeros(0), dim=dim)
    return FermiSurface(mu=float(mu), k=np.concatenate(ks), band=np.concatenate(bands),
                        weight=np.concatenate(weights), dim=dim)
