r"""Fermi shells: the states of one energy shell, their collision operator, and observables by name.

A :class:`FermiShell` is built once per energy and shared by every kinetic quantity of a run
(the Boltzmann conductivity, the extrinsic Hall and spin pieces, scattering rates): the
eigen-solves at its points, the collision operator with its D×D factorization, and each mean
free path :math:`\Lambda^A=L^{-1}A` are computed once. :class:`ShellBuilder` makes shells from a
:class:`wkin.kspace.fermi_surface.ShellSampler` (tetrahedra on a k-grid, or a continuum model's
exact circles) for the band observables and data a run needs.

Degeneracy rule (spec): isolated degenerate points (TRIM, Weyl nodes) are skipped with a
warning that reports their share of the shell weight; extended degeneracy (Kramers pairs of
a PT-symmetric crystal: most points degenerate) raises :class:`DegenerateBandsError`, since
the Born/Boltzmann theory here assumes non-degenerate bands.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import parallel
from ..bands import DEGEN_THRESH, band_states, solve
from ..kspace.fermi_surface import FermiSurfaceError
from ..kspace.mesh import uniform
from ..units import VELOCITY_SI
from .collision import CollisionOperator, ShellStates
from .observables import BAND_OBSERVABLES

#: fraction of degenerate Fermi-surface points above which the degeneracy is "extended" (Kramers pairs)
EXTENDED_DEGENERACY = 0.5


class DegenerateBandsError(ValueError):
    """The theory assumes non-degenerate bands; the Fermi surface is degenerate everywhere."""


@dataclass
class ShellBands:
    """Every band at the shell's points (kept with ``interband=True``; the skew and omitted terms need them).

    ``energies`` (N, nb) eV, ``U`` (N, nw, nb) eigenvectors, ``off`` (N, nb) True for bands outside the
    degenerate group of the state's own band, ``diagonal[name]`` (N, nb, 3) band-diagonal observables.
    """

    energies: np.ndarray
    U: np.ndarray
    off: np.ndarray
    diagonal: dict


@dataclass
class FermiShell:
    """One energy shell (this rank's share of its states): states, collision operator, observables by name.

    ``observables[name]`` (N, 3): the band-diagonal observable of each state's band (SI units,
    :mod:`wkin.kinetic.observables`); ``interband_vectors[name]`` (N, 3, nw):
    :math:`|\\xi^m\\rangle=\\sum_n\\mathcal T[A]^{nm}|u^n\\rangle` (spec seed-000 §2.13 step 5), with
    ``interband=True`` only; ``bands``: :class:`ShellBands` with ``interband=True``, else None.
    """

    states: ShellStates
    observables: dict
    disorder: object = field(repr=False)
    model: object = field(repr=False)
    interband_vectors: dict = field(default_factory=dict)
    bands: ShellBands | None = None
    skipped_weight: float = 0.0
    _mean_free_paths: dict = field(default_factory=dict, repr=False)
    _memo: dict = field(default_factory=dict, repr=False)

    @functools.cached_property
    def operator(self) -> CollisionOperator:
        """The collision operator of the shell (built on first use; an MPI reduction, reached by every rank)."""
        return self.disorder.operator(self.states, self.model)

    @property
    def mu(self):
        return self.states.mu

    @property
    def weight(self):
        """Fermi-surface weights w_i (N,) in 1/(eV·Å³)."""
        return self.states.weight

    def mean_free_path(self, name):
        """:math:`\\Lambda^A=L^{-1}A` (N, 3) for the band observable ``name`` (cached; velocity: the vector mean
        free path in m)."""
        if name not in self._mean_free_paths:
            self._mean_free_paths[name] = self.operator.solve(self.observables[name])
        return self._mean_free_paths[name]

    def solve(self, drive):
        """:math:`L^{-1}` drive for any drive (N, r) on this shell."""
        return self.operator.solve(drive)

    def memo(self, key, compute):
        """``compute()`` once per shell: results several quantities share (e.g. the extrinsic pieces)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


class ShellBuilder:
    """Builds :class:`FermiShell` objects at any energy for one run.

    ``observables``: names of :data:`wkin.kinetic.observables.BAND_OBSERVABLES` to carry;
    ``interband``: also keep every band at the shell points and the interband vectors (extrinsic
    pieces). Without interband data and with the velocity alone, only H and ∂H are diagonalised.
    """

    def __init__(self, model, disorder, sampler, observables=("velocity",), interband=False,
                 degen_thresh=DEGEN_THRESH, chunk=4096, representation=None):
        self.model, self.disorder, self.sampler = model, disorder, sampler
        self.representation = representation
        self.observables = {name: BAND_OBSERVABLES[name] for name in observables}
        for o in self.observables.values():
            if "spin" in o.requires and not model.has_spin:
                raise ValueError(f"the {o.name} response needs spin matrices: the model has none ([model] spin = true)")
            if "full_orbital" in o.requires and not model.has_full_orbital:
                raise ValueError(f"the {o.name} needs the B(R), C(R) matrices: [model] orbital = true")
        self.interband, self.degen_thresh, self.chunk = interband, degen_thresh, chunk
        #: observables with an interband map: their interband vectors ξ are carried with ``interband``
        self._mapped = tuple(name for name, o in self.observables.items() if o.transition is not None)

    def with_needs(self, observables=None, interband=None):
        """A builder for the same model, disorder and sampler with other needs (e.g. light companion shells)."""
        return ShellBuilder(self.model, self.disorder, self.sampler,
                            tuple(self.observables) if observables is None else observables,
                            self.interband if interband is None else interband, self.degen_thresh, self.chunk,
                            self.representation)

    def build(self, energy):
        """The shell at ``energy`` (eV); :class:`wkin.kspace.fermi_surface.FermiSurfaceError` when it is empty."""
        fs = self.sampler.shell(energy)
        if len(fs.k) == 0:
            raise FermiSurfaceError(f"no Fermi surface at mu = {energy:.4f} eV (in a gap or outside the bands)")
        return self.from_surface(fs)

    def from_surface(self, fs):
        """The shell of given Fermi-surface points (:class:`wkin.kspace.fermi_surface.FermiSurface`)."""
        part = parallel.my_slice(len(fs.k))
        k, band, w = fs.k[part], fs.band[part], fs.weight[part]
        light = not self.interband and set(self.observables) <= {"velocity"}
        if fs.unfolding is None:
            cols = self._light_columns(k, band) if light else self._full_columns(k, band)
        else:
            cols = self._unfolded_columns(fs.unfolding, part, light)
        deg = cols.pop("degenerate")
        ndeg, ntot, wdeg, wtot = parallel.sum_over_ranks(np.array([deg.sum(), len(deg), w[deg].sum(), w.sum()]))
        if ntot and ndeg > EXTENDED_DEGENERACY * ntot:
            raise DegenerateBandsError(
                f"{int(ndeg)} of {int(ntot)} Fermi-surface states at mu = {fs.mu:.4f} eV are degenerate "
                f"(within {self.degen_thresh:g} eV): extended degeneracy such as Kramers pairs of a PT-symmetric "
                "crystal; the Boltzmann/Born theory here assumes non-degenerate bands")
        if ndeg:
            warnings.warn(f"skipped {int(ndeg)} isolated degenerate Fermi-surface points of {int(ntot)} at "
                          f"mu = {fs.mu:.4f} eV (weight fraction {wdeg / wtot:.2e} of the shell)",
                          RuntimeWarning, stacklevel=2)
        keep = ~deg
        states = ShellStates(mu=fs.mu, k=k[keep], band=band[keep], weight=w[keep], energy=cols["energy"][keep],
                             c=cols["c"][keep], skipped=int(ndeg))
        observables = {name: cols[name][keep] for name in self.observables}
        vectors, bands = {}, None
        if self.interband:
            vectors = {name: cols["xi:" + name][keep] for name in self._mapped}
            bands = ShellBands(cols["bands:energies"][keep], cols["bands:U"][keep], cols["bands:off"][keep],
                               {name: cols["bands:" + name][keep] for name in self.observables})
        return FermiShell(states, observables, self.disorder, self.model, vectors, bands,
                          skipped_weight=float(wdeg / wtot) if wtot else 0.0)

    def _unfolded_columns(self, unfolding, part, light):
        """The columns of a symmetric shell (:func:`wkin.kspace.fermi_surface.symmetric_surface`): eigen-solves at its
        wedge points only, mapped onto every image g·k by the representation (``representation``,
        :class:`wkin.model.representation.WannierRepresentation`): c′ = M c (M c* for antiunitary g), band
        observables ±R A with R = S or det(S) S and − for a time-odd one under an antiunitary g, interband vectors
        R M ξ^(*) (their transition maps pick up the opposite sign), all bands likewise."""
        rep = self.representation
        if rep is None:
            raise ValueError("a symmetric (unfolded) shell needs the space-group representation of the model")
        src, op = unfolding.source[part], unfolding.op[part]
        need, idx = np.unique(src, return_inverse=True)
        k_w, band_w = unfolding.k[need], unfolding.band[need]
        cols = self._light_columns(k_w, band_w) if light else self._full_columns(k_w, band_w)
        cols = {key: x[idx] for key, x in cols.items()}
        k_src = k_w[idx]
        for o in np.unique(op):
            sel = np.flatnonzero(op == o)
            S, antiunitary = np.asarray(rep.ops.S[o], float), bool(rep.ops.time_reversal[o])
            cols["c"][sel] = rep.image_vectors(o, k_src[sel], cols["c"][sel])
            if self.interband:  # (a light shell carries no interband data)
                U = cols["bands:U"][sel].transpose(0, 2, 1)
                cols["bands:U"][sel] = rep.image_vectors(o, k_src[sel], U).transpose(0, 2, 1)
            for name, obs in self.observables.items():
                R = np.linalg.det(S) * S if obs.axial else S
                sign = -1.0 if antiunitary and obs.time_odd else 1.0
                cols[name][sel] = sign * cols[name][sel] @ R.T
                if self.interband:
                    cols["bands:" + name][sel] = sign * cols["bands:" + name][sel] @ R.T
                if self.interband and name in self._mapped:
                    xi = rep.image_vectors(o, k_src[sel], cols["xi:" + name][sel])
                    cols["xi:" + name][sel] = (-sign if antiunitary else 1.0) * np.einsum("ab,nbw->naw", R, xi)
        return cols

    def _light_columns(self, k, band):
        """Energy, velocity and eigenvector of one band per point, from H and ∂H only."""
        out = {"energy": [], "velocity": [], "c": [], "degenerate": []}
        for i in range(0, len(k), self.chunk):
            e, v, u, deg = band_states(self.model, k[i:i + self.chunk], band[i:i + self.chunk], self.degen_thresh)
            for key, x in zip(("energy", "velocity", "c", "degenerate"), (e, v * VELOCITY_SI, u, deg)):
                out[key].append(x)
        return self._concat(out, k)

    def _full_columns(self, k, band):
        """The full band batch at each point: the crossing band's data, observables, and (interband) all bands."""
        out = {}
        for i in range(0, len(k), self.chunk):
            n = band[i:i + self.chunk]
            r = np.arange(len(n))
            b = solve(self.model, k[i:i + self.chunk], self.degen_thresh)
            cols = {"energy": b.energies[r, n], "c": b.U[r, :, n], "degenerate": b.group[r, n].sum(axis=1) > 1}
            for name, o in self.observables.items():
                diag = o.diagonal(b)
                cols[name] = diag[r, n]
                if self.interband:
                    cols["bands:" + name] = diag
                if self.interband and name in self._mapped:
                    cols["xi:" + name] = np.einsum("kib,kab->kai", b.U, o.transition(b)[r, :, :, n])
            if self.interband:
                cols["bands:energies"], cols["bands:U"], cols["bands:off"] = b.energies, b.U, ~b.group[r, n]
            for key, x in cols.items():
                out.setdefault(key, []).append(x)
        return self._concat(out, k)

    def _concat(self, out, k):
        if len(k):
            return {key: np.concatenate(x) for key, x in out.items()}
        nw = self.model.num_wann
        empty = {"energy": np.zeros(0), "c": np.zeros((0, nw), complex), "degenerate": np.zeros(0, bool)}
        for name in self.observables:
            empty[name] = np.zeros((0, 3))
            empty["bands:" + name] = np.zeros((0, nw, 3))
            empty["xi:" + name] = np.zeros((0, 3, nw), complex)
        empty.update({"bands:energies": np.zeros((0, nw)), "bands:U": np.zeros((0, nw, nw), complex),
                      "bands:off": np.zeros((0, nw), bool)})
        return empty


def window_states(model, mu, sampler, window, degen_thresh=DEGEN_THRESH, chunk=4096):
    """States of the sampler's uniform grid with |ε − μ| < window (this rank's share), for the smeared fallback.

    Returns (:class:`ShellStates` whose ``weight`` is the uniform measure ν = 1/(N_k V_cell) (1/Å³) of each
    state, their velocities (N, 3) in m/s, ν).
    """
    grid, shift, energies = sampler.grid, sampler.shift, sampler.energies
    flat = energies.reshape(-1, energies.shape[-1])
    kidx, band = np.nonzero(np.abs(flat - mu) < window)
    part = parallel.my_slice(len(kidx))
    kidx, band = kidx[part], band[part]
    kpts = uniform(grid, shift)
    nu = 1.0 / (np.prod(grid) * model.cell_volume)
    E, V, C, keep = [], [], [], []
    for i in range(0, len(kidx), chunk):
        e, v, u, degenerate = band_states(model, kpts[kidx[i:i + chunk]], band[i:i + chunk], degen_thresh)
        E.append(e)
        V.append(v)
        C.append(u)
        keep.append(~degenerate)
    nw = model.num_wann
    E, V, C, keep = ((np.concatenate(x) for x in (E, V, C, keep)) if E else
                     (np.zeros(0), np.zeros((0, 3)), np.zeros((0, nw), complex), np.zeros(0, bool)))
    states = ShellStates(mu=mu, k=kpts[kidx][keep], band=band[keep], weight=np.full(int(keep.sum()), nu),
                         energy=E[keep], c=C[keep], skipped=int((~keep).sum()))
    return states, V[keep] * VELOCITY_SI, nu
