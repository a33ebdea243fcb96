r"""Brillouin-zone integration of band observables on uniform, adaptive and irreducible meshes.

Every Fermi-sea, Fermi-surface and frequency-dependent quantity is an :class:`Observable`:

.. math::

    X(\mu) = c\;\frac{1}{V_{\rm cell}}\sum_{\mathbf k} w_{\mathbf k}\sum_n g(\epsilon_{n\mathbf k}-\mu)\,
             F_n(\mathbf k),\qquad \sum_{\mathbf k} w_{\mathbf k}=1,

with g the occupation f (``sea``) or :math:`-\partial f/\partial\epsilon` (``surface``,
:mod:`wkin.kspace.occupations`). One pass evaluates, block by block (FFT on uniform grids), the
band structure and every requested integrand once, and contracts them with the occupation
weights of all Fermi energies at once (a BLAS-3 product over the (k, band) index). MPI ranks
take contiguous blocks; partial sums are reduced at the end.

With ``symmetry`` (a :class:`wkin.symmetry.CrystalSymmetry`) only the irreducible points of the
grid are evaluated, each weighted by its orbit size, and every tensor is projected with its
group average (its :attr:`Observable.tensor_kind`): for a model with the symmetry of its
structure this equals the full-grid integral to rounding, at about 1/|G| of the cost.

Adaptive refinement (postw90's ``berry_curv_adpt_kmesh`` idea, generalised,
:class:`Adaptive`): after the uniform pass every point whose contribution to a requested
quantity exceeds ``threshold`` times that quantity's largest value (over Fermi energies and
components) is replaced, together with its grid neighbours, by an m×m×m sub-grid of its cell
(m×m×1 on 2D grids); this is repeated ``levels`` times on the newly created points, whose
contributions shrink with their weights, so refinement concentrates where the integrand is
spiky (small gaps, Fermi surface). The value after each level and the number of k-points it
cost are reported, so convergence can be judged. On the irreducible wedge a refined cell of an
orbit of size m carries weight m/N and the projection turns its integral into that over the
whole star, so refinement never breaks the symmetry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .. import parallel
from ..bands import DEGEN_THRESH, Energies, eigvalsh, solve, solve_fourier
from ..errors import ConfigError
from ..progress import Progress
from ..symmetry import irreducible_grid, symmetrize
from . import mesh
from .occupations import Occupations


@dataclass(frozen=True)
class Observable:
    r"""A Brillouin-zone integral: band integrand, occupation kind and the constant that gives its units.

    ``integrand``: BandBatch → (nk, nb, *shape); ``prefactor`` c (units of the result per band
    quantity in eV/Å units, divided by V_cell when ``per_volume``); ``axis``: (name, values, units)
    of an extra axis after the Fermi energy (e.g. frequency); ``energies_only``: the integrand needs
    band energies only (H alone is diagonalised); ``tensor_kind``: how the value transforms
    (:mod:`wkin.symmetry.tensors`), used to project it on the irreducible wedge; ``requires``:
    model capabilities (``"spin"``, ``"full_orbital"``).

    ``sea_form`` (surface observables only): the integrand G of the equivalent Fermi-sea form,
    :math:`\int(-f')F=\int f\,G` (integration by parts, e.g. G = ∂_a∂_bε for F = ∂_aε ∂_bε), exact at
    each μ with no width; it is used at T = 0 when the occupations give no broadening
    (:attr:`Occupations.exact_fermi_sea`). It may return a pair (G0, G1), meaning G0 + μ G1 (a form
    that uses μ = ε_n on the Fermi surface). ``derivatives``: the k-derivative matrices the sea form
    (or, for an observable without one, the integrand) needs — ``TightBindingModel.DERIVATIVES`` names,
    ∂∂H always; None: none.
    """

    name: str
    kind: str  # "sea" or "surface"
    integrand: Callable
    shape: tuple
    prefactor: float
    per_volume: bool = True
    tensor_kind: str = "polar0_even"
    axis: tuple | None = None
    energies_only: bool = False
    requires: tuple = ()
    sea_form: Callable | None = None
    derivatives: tuple | None = None

    def form(self, occ: Occupations):
        """(occupation kind, integrand) used with ``occ``: the Fermi-sea form of a surface observable when
        ``occ`` asks for exact T = 0 values and it has one, else its own."""
        if self.kind == "surface" and self.sea_form is not None and occ.exact_fermi_sea:
            return "sea", self.sea_form
        return self.kind, self.integrand


@dataclass(frozen=True)
class Adaptive:
    """Adaptive refinement settings (``[mesh] adaptive``): see the module docstring.

    ``levels`` ≥ 1 refinements by ``subdivision`` ≥ 2 per axis of the points above ``threshold``
    (0 < threshold < 1) of the largest contribution, at most ``max_points`` per level, with their
    grid ``neighbours`` (a spike between grid points leaves its neighbours small).
    """

    levels: int = 2
    subdivision: int = 3
    threshold: float = 1e-3
    max_points: int = 100000
    neighbours: bool = True

    def __post_init__(self):
        def integer(x):
            return isinstance(x, (int, np.integer)) and not isinstance(x, bool)
        if not (integer(self.levels) and self.levels >= 1):
            raise ConfigError(f"[mesh] adaptive.levels: expected an integer >= 1, got {self.levels!r}")
        if not (integer(self.subdivision) and self.subdivision >= 2):
            raise ConfigError(f"[mesh] adaptive.subdivision: expected an integer >= 2, got {self.subdivision!r}")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)) \
                or not 0 < self.threshold < 1:
            raise ConfigError(f"[mesh] adaptive.threshold: expected 0 < threshold < 1, got {self.threshold!r}")
        if not (integer(self.max_points) and self.max_points >= 1):
            raise ConfigError(f"[mesh] adaptive.max_points: expected an integer >= 1, got {self.max_points!r}")
        if not isinstance(self.neighbours, bool):
            raise ConfigError(f"[mesh] adaptive.neighbours: expected true or false, got {self.neighbours!r}")


@dataclass
class Integrals:
    """Result of an integration: per observable an array (n_mu, *shape) in its units."""

    values: dict
    nk_evaluated: int
    levels: list = field(default_factory=list)  # [(nk_cumulative, {name: value})]


class _Accumulator:
    def __init__(self, observables, occ, volume):
        self.obs, self.occ, self.volume = observables, occ, volume
        nmu = len(occ.mu)
        self.sums = {o.name: np.zeros((nmu,) + o.shape) for o in observables}
        self.energies_only = all(o.energies_only for o in observables)
        self.forms = [o.form(occ) for o in observables]
        used = [o.derivatives for o, (kind, f) in zip(observables, self.forms)
                if o.derivatives is not None and (o.sea_form is None or f is o.sea_form)]
        #: the k-derivative matrices the band batches must carry (None: none)
        self.derivatives = tuple(sorted({n for d in used for n in d})) if used else None

    def contributions(self, bands, weights):
        """Per-observable per-k contributions (nk, n_mu, *shape), already weighted and scaled."""
        out = {}
        cache = {}
        for o, (kind, integrand) in zip(self.obs, self.forms):
            if kind not in cache:
                cache[kind] = self.occ.sea(bands.energies) if kind == "sea" else self.occ.surface(bands.energies)
            W = cache[kind] * weights[:, None, None]
            X = integrand(bands)
            c = o.prefactor / (self.volume if o.per_volume else 1.0)
            if isinstance(X, tuple):  # G0 + μ G1
                mu = np.asarray(self.occ.mu, float).reshape((1, -1) + (1,) * len(o.shape))
                out[o.name] = c * (np.einsum("knm,kn...->km...", W, X[0]) + mu * np.einsum("knm,kn...->km...", W, X[1]))
            else:
                out[o.name] = c * np.einsum("knm,kn...->km...", W, X)
        return out

    def add(self, contrib):
        for name, c in contrib.items():
            self.sums[name] += c.sum(axis=0)


def integrate(model, observables, occ: Occupations, grid, shift=(0.0, 0.0, 0.0), adaptive: Adaptive | None = None,
              degen_thresh=DEGEN_THRESH, symmetry=None, label="BZ integration"):
    """Integrate observables over the Brillouin zone.

    Parameters
    ----------
    model : a :class:`wkin.model.GridModel`
    observables : list of :class:`Observable` (the registry builds them: :func:`wkin.quantities.observables`)
    occ : Occupations
    grid : three integers; shift : grid shift in units of the grid step
    adaptive : None or :class:`Adaptive`
    symmetry : None, or a :class:`wkin.symmetry.CrystalSymmetry`: integrate over the irreducible wedge
        (Γ-centred grid only) and project every tensor (module docstring)

    Returns
    -------
    Integrals
    """
    for o in observables:
        if "spin" in o.requires and not model.has_spin:
            raise ValueError(f"quantity {o.name!r} needs spin matrices: the model has none "
                             "(load a .spn through WannierBerri, [model] spin = true, or use a spinful built-in model)")
        if "full_orbital" in o.requires and not model.has_full_orbital:
            raise ValueError(f"quantity {o.name!r} needs the B(R) and C(R) matrices of the complete orbital moment "
                             "([model] orbital = true, i.e. TightBindingModel.from_wannier90(seedname, orbital=True): "
                             ".chk, .eig, .mmn, .uHu)")
    grid = mesh.parse_grid(grid)
    acc = _Accumulator(observables, occ, model.cell_volume)
    if symmetry is None:
        first = _uniform_pass(model, acc, grid, shift, adaptive is not None, degen_thresh, label)
    else:
        if np.any(np.asarray(shift, float) != 0):
            raise ValueError("an irreducible-wedge integral needs a Gamma-centred grid (shift = [0, 0, 0])")
        first = _irreducible_pass(model, acc, grid, symmetry, adaptive is not None, degen_thresh)
    values = first.values
    levels = [(first.nk, {n: v.copy() for n, v in values.items()})]
    nk = first.nk
    if adaptive is not None:
        values, nk = _refine(model, acc, values, levels, first, grid, adaptive, degen_thresh)
    if first.group is not None:
        def project(vals):
            return {o.name: symmetrize(vals[o.name], first.group, o.tensor_kind) if o.shape else vals[o.name]
                    for o in observables}

        values, levels = project(values), [(n, project(v)) for n, v in levels]
    return Integrals(values=values, nk_evaluated=nk, levels=levels)


@dataclass
class _FirstPass:
    """The uniform (or irreducible) pass: values, and what refinement starts from.

    ``k``: the points (in the gathered rank order of ``sizes``); ``sizes``: largest |contribution| per point
    and observable; ``weight``: their weights (None: 1/N each); ``index_of``: every grid point's index into
    ``k`` (None: looked up among ``k``; the orbit map on an irreducible wedge); ``group``: the irreducible
    grid whose operations project the result, or None.
    """

    values: dict
    nk: int
    k: np.ndarray | None = None
    sizes: np.ndarray | None = None
    weight: np.ndarray | None = None
    index_of: np.ndarray | None = None
    group: object = None


def _uniform_pass(model, acc, grid, shift, keep, degen_thresh, label):
    """All points of the grid by FFT blocks (``keep``: also the per-point sizes for refinement)."""
    ntot = int(np.prod(grid))
    k_kept, s_kept = [], []
    light = acc.energies_only  # DOS / electron count: FFT of H and eigvalsh only
    if light:
        _, blocks = model.grid_blocks(grid, ncomp=model.num_wann ** 2)
    else:
        _, blocks = model.grid_blocks(grid, derivatives=acc.derivatives)
    mine = blocks[parallel.my_slice(len(blocks))]
    source = model.hamiltonian_grid(grid, shift, mine) if light else \
        model.fourier_grid(grid, shift, blocks=mine, derivatives=acc.derivatives)
    with Progress(label, len(mine)) as bar:
        for k, F in source:
            bands = Energies(k, eigvalsh(F)) if light else solve_fourier(k, F, degen_thresh)
            c = acc.contributions(bands, np.full(len(k), 1.0 / ntot))
            acc.add(c)
            if keep:
                k_kept.append(k)
                s_kept.append(_sizes(c))
            bar.update()
    values = {n: parallel.sum_over_ranks(v) for n, v in acc.sums.items()}
    if not keep:
        return _FirstPass(values, ntot)
    k_all = parallel.gather_concat(np.concatenate(k_kept) if k_kept else np.zeros((0, 3)))
    sizes = parallel.gather_concat(np.concatenate(s_kept) if s_kept else np.zeros((0, len(values))))
    return _FirstPass(values, ntot, k_all, sizes)


def _irreducible_pass(model, acc, grid, symmetry, keep, degen_thresh, chunk=2048):
    """The irreducible points with orbit-size weights (evaluated at arbitrary k, in chunks)."""
    irr = irreducible_grid(model, grid, symmetry=symmetry)
    ntot = int(np.prod(irr.grid))
    part = parallel.my_slice(len(irr.k))
    kk, ww = irr.k[part], irr.weights[part] / ntot
    sizes = []
    with Progress("irreducible wedge", len(kk)) as bar:
        for a in range(0, len(kk), chunk):
            c = acc.contributions(_bands(model, kk[a:a + chunk], acc, degen_thresh), ww[a:a + chunk])
            acc.add(c)
            if keep:
                sizes.append(_sizes(c))
            bar.update(len(kk[a:a + chunk]))
    values = {n: parallel.sum_over_ranks(v) for n, v in acc.sums.items()}
    if not keep:
        return _FirstPass(values, len(irr.k), group=irr)
    # irr.k and the gathered sizes are in the same (rank-block) order
    sizes = parallel.gather_concat(np.concatenate(sizes) if sizes else np.zeros((0, len(values))))
    return _FirstPass(values, len(irr.k), irr.k, sizes, irr.weights / ntot, irr.mapping, irr)


def _sizes(contrib):
    """Largest |contribution| of each k-point, per observable: (nk, n_obs)."""
    return np.stack([np.abs(c).reshape(len(c), -1).max(axis=1) for c in contrib.values()], axis=1)


def _refine(model, acc, values, levels, first, grid, adaptive, degen_thresh):
    """Nested refinement of the points with large contributions (see module doc), starting from ``first``.

    Weights: 1/N1N2N3 each on a full grid; an irreducible wedge has its orbit sizes / N1N2N3, so that a
    refined cell stands for its whole star. Neighbours of the first level are found through
    ``first.index_of`` on a wedge (its orbit map: a neighbour is found through its representative).
    """
    k_all, sizes, index_of = first.k, first.sizes, first.index_of
    m, thr = adaptive.subdivision, adaptive.threshold
    msub = np.where(grid > 1, m, 1)
    norms = np.array([max(np.abs(v).max(), 1e-300) for v in values.values()])
    cell = np.tile(1.0 / grid, (len(k_all), 1))
    weight = np.full(len(k_all), 1.0 / len(k_all)) if first.weight is None else np.asarray(first.weight, float)
    nk = first.nk
    for level in range(adaptive.levels):
        score = (sizes / norms).max(axis=1)
        sel = np.flatnonzero(score > thr)
        if adaptive.neighbours and len(sel):  # a spike between grid points leaves its neighbours small
            sel = mesh.with_neighbours(sel, k_all, cell[0], index_of if level == 0 else None)
        if len(sel) > adaptive.max_points:
            sel = np.sort(np.argsort(-score, kind="stable")[:adaptive.max_points])
        if len(sel) == 0:
            break
        if level == 0:  # contributions of the selected uniform-grid points, recomputed
            old = _evaluate(model, acc, k_all[sel], weight[sel], degen_thresh, label="refinement (cells)")
        else:
            old = {n: c[sel] for n, c in old.items()}
        k_new, cell_new = mesh.subdivide(k_all[sel], cell[sel], msub)
        w_new = np.repeat(weight[sel] / msub.prod(), msub.prod())
        new = _evaluate(model, acc, k_new, w_new, degen_thresh, label=f"refinement {level + 1}/{adaptive.levels}")
        for n in values:
            values[n] = values[n] - old[n].sum(axis=0) + new[n].sum(axis=0)
        nk += len(k_new)
        levels.append((nk, {n: v.copy() for n, v in values.items()}))
        k_all, cell, weight, old, sizes = k_new, cell_new, w_new, new, _sizes(new)
    return values, nk


def _bands(model, k, acc, degen_thresh):
    """Band energies only, or the full band batch, at arbitrary k."""
    if acc.energies_only:
        return Energies(k, eigvalsh(model.hamiltonian(k)))
    return solve(model, k, degen_thresh, derivatives=acc.derivatives)


def _evaluate(model, acc, k, w, degen_thresh, chunk=2048, label="refinement"):
    """Per-point contributions at arbitrary k, split over ranks, gathered in order."""
    part = parallel.my_slice(len(k))
    kk, ww = k[part], w[part]
    pieces = []
    with Progress(label, len(kk)) as bar:
        for i in range(0, len(kk), chunk):
            pieces.append(acc.contributions(_bands(model, kk[i:i + chunk], acc, degen_thresh), ww[i:i + chunk]))
            bar.update(len(kk[i:i + chunk]))
    names = [o.name for o in acc.obs]
    local = {n: (np.concatenate([p[n] for p in pieces]) if pieces
                 else np.zeros((0, len(acc.occ.mu)) + o.shape)) for n, o in zip(names, acc.obs)}
    return {n: parallel.gather_concat(local[n]) for n in names}
