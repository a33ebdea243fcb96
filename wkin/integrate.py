r"""Brillouin-zone integration of band observables on uniform and adaptive meshes.

One pass evaluates, block by block (FFT on uniform grids), the band structure
and every requested integrand once, and contracts them with the occupation
weights of all Fermi energies at once (a BLAS-3 product over the
(k, band) index). MPI ranks take contiguous blocks; partial sums are reduced
at the end.

Adaptive refinement (postw90's ``berry_curv_adpt_kmesh`` idea, generalised):
after the uniform pass every point whose contribution to a requested quantity
exceeds ``threshold`` times that quantity's largest value (over Fermi
energies and components) is replaced by an m×m×m sub-grid of its cell
(m×m×1 on 2D grids); this is repeated ``levels`` times on the newly created
points, whose contributions shrink with their weights, so refinement
concentrates where the integrand is spiky (small gaps, Fermi surface). The
value after each level and the number of k-points it cost are reported, so
convergence can be judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import fermi, mesh, parallel
from .bands import DEGEN_THRESH, solve, solve_fourier
from .progress import Progress
from .response.intrinsic import lookup


@dataclass
class Occupations:
    """How states are weighted: Fermi energies (eV), temperature (K), surface broadening."""

    mu: np.ndarray
    temperature: float = 0.0
    surface_kind: str = "box"
    broadening: float | None = None  # eV; None → the Fermi-energy step

    def sea(self, energies):
        return fermi.occupation(energies, self.mu, self.temperature)

    def surface(self, energies):
        if self.temperature > 0:
            return fermi.surface_weight(energies, self.mu, "fermi-dirac", fermi.KB_EV * self.temperature)
        width = self.broadening
        if width is None:
            if len(self.mu) < 2:
                raise ValueError("Fermi-surface quantities at T = 0 need [fermi] broadening, "
                                 "a temperature, or at least two Fermi energies")
            step = np.diff(self.mu)
            if not (np.all(step > 0) and np.allclose(step, step[0], rtol=1e-6)):
                raise ValueError("Fermi-surface quantities at T = 0 with unevenly spaced Fermi energies need "
                                 "[fermi] broadening (or a temperature)")
            width = float(step[0])
        return fermi.surface_weight(energies, self.mu, self.surface_kind, width)


@dataclass
class Integrals:
    """Result of an integration: per observable an array (n_mu, *shape) in its units."""

    values: dict
    nk_evaluated: int
    levels: list = field(default_factory=list)  # [(nk_cumulative, {name: value})]


class _Accumulator:
    def __init__(self, observables, occ, params, volume):
        self.obs, self.occ, self.params, self.volume = observables, occ, params, volume
        nmu = len(occ.mu)
        self.sums = {o.name: np.zeros((nmu,) + o.shape) for o in observables}

    def contributions(self, bands, weights):
        """Per-observable per-k contributions (nk, n_mu, *shape), already weighted and scaled."""
        out = {}
        cache = {}
        for o in self.obs:
            if o.kind not in cache:
                cache[o.kind] = self.occ.sea(bands.energies) if o.kind == "sea" else self.occ.surface(bands.energies)
            W = cache[o.kind] * weights[:, None, None]
            X = o.integrand(bands)
            c = self.scale(o)
            out[o.name] = c * np.einsum("knm,kn...->km...", W, X)
        return out

    def scale(self, o):
        return o.prefactor(self.params) / (self.volume if o.per_volume else 1.0)

    def add(self, contrib, sign=1.0):
        for name, c in contrib.items():
            self.sums[name] += sign * c.sum(axis=0)


def _score(contrib, norms):
    """Relative size of each k-point's contribution, (nk,)."""
    s = None
    for name, c in contrib.items():
        v = np.abs(c).reshape(len(c), -1).max(axis=1) / norms[name]
        s = v if s is None else np.maximum(s, v)
    return s


def integrate(model, quantities, occ: Occupations, grid, shift=(0.0, 0.0, 0.0), params=None,
              adaptive=None, degen_thresh=DEGEN_THRESH, label="BZ integration"):
    """Integrate the named observables over the Brillouin zone.

    Parameters
    ----------
    model : TightBindingModel
    quantities : list of observable names (see :mod:`wkin.response.intrinsic`)
    occ : Occupations
    grid : three integers; shift : grid shift in units of the grid step
    params : dict of observable parameters (``tau_fs`` for ``ohmic``)
    adaptive : None or dict(levels=int, subdivision=int, threshold=float, max_points=int)
        Refinement ``levels`` times of the points contributing more than
        ``threshold`` (default 1e-3) of the largest value; at most
        ``max_points`` (default 100000) points are refined per level.

    Returns
    -------
    Integrals
    """
    observables = lookup(quantities)
    spinful = [o.name for o in observables if o.name in ("gme_spin", "spin_intrinsic")]
    if spinful and not model.has_spin:
        raise ValueError(f"quantity {spinful[0]!r} needs spin matrices: the model has none "
                         "(load a .spn through WannierBerri or use a spinful built-in model)")
    params = dict(params or {})
    params.setdefault("tau_fs", 1.0)
    grid = mesh.parse_grid(grid)
    acc = _Accumulator(observables, occ, params, model.cell_volume)
    ntot = int(np.prod(grid))
    keep = adaptive is not None
    k_kept, s_kept = [], []
    light = all(o.energies_only for o in observables)  # DOS / electron count: FFT of H and eigvalsh only
    _, blocks = model.grid_blocks(grid, ncomp=model.num_wann ** 2 if light else None)
    mine = blocks[parallel.my_slice(len(blocks))]
    source = model.hamiltonian_grid(grid, shift, mine) if light else model.fourier_grid(grid, shift, blocks=mine)
    with Progress(label, len(mine)) as bar:
        for k, F in source:
            bands = _Energies(k, _eigvalsh(F)) if light else solve_fourier(k, F, degen_thresh)
            c = acc.contributions(bands, np.full(len(k), 1.0 / ntot))
            acc.add(c)
            if keep:
                k_kept.append(k)
                s_kept.append(_sizes(c))
            bar.update()
    values = {n: parallel.sum_over_ranks(v) for n, v in acc.sums.items()}
    levels = [(ntot, {n: v.copy() for n, v in values.items()})]
    nk = ntot
    if keep:
        k_all = parallel.gather_concat(np.concatenate(k_kept) if k_kept else np.zeros((0, 3)))
        sizes = parallel.gather_concat(np.concatenate(s_kept) if s_kept else np.zeros((0, len(values))))
        values, nk = _refine(model, acc, values, levels, k_all, sizes, grid, adaptive, degen_thresh)
    return Integrals(values=values, nk_evaluated=nk, levels=levels)


def _sizes(contrib):
    """Largest |contribution| of each k-point, per observable: (nk, n_obs)."""
    return np.stack([np.abs(c).reshape(len(c), -1).max(axis=1) for c in contrib.values()], axis=1)


def _refine(model, acc, values, levels, k_all, sizes, grid, adaptive, degen_thresh, weight=None, index_of=None):
    """Nested refinement of the points with large contributions (see module doc).

    ``weight``: the initial points' weights (default 1/N1N2N3 each; an irreducible wedge passes its orbit
    sizes / N1N2N3, so that a refined cell stands for its whole star). ``index_of``: for the initial points,
    the index into ``k_all`` of every grid point (:func:`wkin.mesh.with_neighbours`; an irreducible wedge
    passes its orbit map, so a neighbour is found through its representative).
    """
    levels_n = int(adaptive.get("levels", 2))
    m = int(adaptive.get("subdivision", 3))
    thr = float(adaptive.get("threshold", 1e-3))
    max_points = int(adaptive.get("max_points", 100000))
    neighbours = adaptive.get("neighbours", True)
    if m < 2 or levels_n < 1 or not 0 < thr < 1 or max_points < 1 or not isinstance(neighbours, bool):
        raise ValueError("adaptive mesh needs levels >= 1, subdivision >= 2, 0 < threshold < 1, max_points >= 1, "
                         "neighbours true or false")
    msub = np.where(grid > 1, m, 1)
    norms = np.array([max(np.abs(v).max(), 1e-300) for v in values.values()])
    cell = np.tile(1.0 / grid, (len(k_all), 1))
    weight = np.full(len(k_all), 1.0 / len(k_all)) if weight is None else np.asarray(weight, float)
    nk = len(k_all)
    old = None
    for level in range(levels_n):
        score = (sizes / norms).max(axis=1)
        sel = np.flatnonzero(score > thr)
        if neighbours and len(sel):  # a spike between grid points leaves its neighbours small: refine them too
            sel = mesh.with_neighbours(sel, k_all, cell[0], index_of if level == 0 else None)
        if len(sel) > max_points:
            sel = np.sort(np.argsort(-score, kind="stable")[:max_points])
        if len(sel) == 0:
            break
        if old is None:  # contributions of the selected uniform-grid points, recomputed
            old = _evaluate(model, acc, k_all[sel], weight[sel], degen_thresh)
        else:
            old = {n: c[sel] for n, c in old.items()}
        k_new, cell_new = mesh.subdivide(k_all[sel], cell[sel], msub)
        w_new = np.repeat(weight[sel] / msub.prod(), msub.prod())
        new = _evaluate(model, acc, k_new, w_new, degen_thresh)
        for n in values:
            values[n] = values[n] - old[n].sum(axis=0) + new[n].sum(axis=0)
        nk += len(k_new)
        levels.append((nk, {n: v.copy() for n, v in values.items()}))
        k_all, cell, weight, old, sizes = k_new, cell_new, w_new, new, _sizes(new)
    return values, nk


@dataclass
class _Energies:
    """Band energies only, for observables that need nothing else (``Observable.energies_only``)."""

    k: np.ndarray
    energies: np.ndarray


def _eigvalsh(H):
    return np.linalg.eigvalsh(0.5 * (H + H.conj().transpose(0, 2, 1)))


def _evaluate(model, acc, k, w, degen_thresh, chunk=2048):
    """Per-point contributions at arbitrary k, split over ranks, gathered in order."""
    part = parallel.my_slice(len(k))
    kk, ww = k[part], w[part]
    light = all(o.energies_only for o in acc.obs)

    def bands(q):
        return _Energies(q, _eigvalsh(model.hamiltonian(q))) if light else solve(model, q, degen_thresh)

    pieces = [acc.contributions(bands(kk[i:i + chunk]), ww[i:i + chunk]) for i in range(0, len(kk), chunk)]
    names = [o.name for o in acc.obs]
    local = {n: (np.concatenate([p[n] for p in pieces]) if pieces
                 else np.zeros((0, len(acc.occ.mu)) + o.shape)) for n, o in zip(names, acc.obs)}
    return {n: parallel.gather_concat(local[n]) for n in names}
