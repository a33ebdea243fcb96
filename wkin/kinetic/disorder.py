r"""Scalar (spin-independent) white-noise disorder models as correlators with a low-rank factorization.

A white-noise potential with strength :math:`u_0^2=n_iV_0^2` (eV²·Å³; for a
layered 2D model the 3D value, :math:`u^2_{0,2D}=u_0^2/c`) gives the Born
correlator (spec seed-000 Eq. 10, P8)

.. math::

    \langle|U^{nm}_{\mathbf k\mathbf k'}|^2\rangle = u_0^2\sum_b
        \big|\langle c_{n\mathbf k}|\Pi_b|c_{m\mathbf k'}\rangle\big|^2 ,

with :math:`c_{n\mathbf k}` the eigenvector components in the Wannier basis
(Wannier90 phases, no Wannier centres) and :math:`\Pi_b` projectors onto
blocks of orbitals:

- ``cell``: one random potential per unit cell, the same on every orbital of
  the cell — one block with all orbitals,
  :math:`\langle|U|^2\rangle=u_0^2|\langle c|c'\rangle|^2` (the continuum
  :math:`u_0^2|\langle u_{\mathbf k}|u_{\mathbf k'}\rangle|^2` of seed-000 and
  seed-003);
- ``atom``: one random potential per atom, the same on all orbitals of that
  atom — one block per atom (orbitals grouped by their Wannier centre, or by
  an explicit list);
- ``orbital``: independent potentials on every Wannier orbital (Anderson
  disorder) — one block per orbital.

Factorization: writing :math:`\Pi_b|c\rangle\langle c|\Pi_b` in a real basis
of Hermitian matrices gives feature vectors :math:`\phi_n(\mathbf k)` of length
:math:`D=\sum_b n_b^2` with
:math:`\sum_b|\langle c|\Pi_b|c'\rangle|^2=\phi\cdot\phi'`, so every kernel
application costs O(N·D) and never needs the N×N matrix.

Non-Gaussian disorder (spec seed-002 §2.2, P9): point impurities
:math:`V_0\sum_i\delta(\mathbf r-\mathbf R_i)` have, besides the second cumulant
:math:`u_0^2=n_iV_0^2`, the third cumulant :math:`u_1^3=n_iV_0^3` (``third_moment``,
eV³·Å⁶; a layered 2D model takes the 3D value, :math:`u^3_{1,2D}=u_1^3/c^2`). It gives
the leading antisymmetric scattering rate (second Born term of the single-impurity
T-matrix), per block b of the model with independent potentials,

.. math::

    w^A_{\mathbf p\mathbf p'}=\kappa_3\sum_b\mathrm{Im}\big[\langle c_{\mathbf p'}|\Pi_b|c_{\mathbf p}\rangle
        \langle c_{\mathbf p}|\Pi_bP(\epsilon_{\mathbf p})\Pi_b|c_{\mathbf p'}\rangle\big],\qquad
    \kappa_3=\frac{(2\pi)^2u_1^3}{\hbar},

with :math:`P(\varepsilon)=\sum_n\int(d\mathbf k)\delta(\varepsilon-\epsilon_{n\mathbf k})|c\rangle\langle c|`
the shell matrix (:meth:`wkin.kinetic.collision.CollisionOperator.skew_in_scattering`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..units import HBAR_EVS

MODELS = ("cell", "atom", "orbital")
#: the relaxation-time model (no microscopic scattering): ``[disorder] model = "constant_tau"``
CONSTANT_TAU = "constant_tau"


@dataclass
class Disorder:
    """White-noise scalar disorder: Gaussian part u0², optional third cumulant u1³.

    Parameters
    ----------
    model : "cell" | "atom" | "orbital"
    strength : u0² = n_i V0² in eV²·Å³
    blocks : optional list of orbital-index lists (overrides the grouping of ``model``)
    third_moment : u1³ = n_i V0³ in eV³·Å⁶ (signed; 0 = Gaussian disorder). It enters only the
        non-Gaussian skew scattering (``skew_third_order`` pieces of the extrinsic responses).
    """

    model: str
    strength: float
    blocks: list | None = None
    third_moment: float = 0.0

    def __post_init__(self):
        if self.model not in MODELS:
            raise ConfigError(f"[disorder] model: expected one of {', '.join(repr(m) for m in MODELS)}, "
                              f"got {self.model!r}")
        if isinstance(self.strength, bool) or not isinstance(self.strength, (int, float)) or not self.strength > 0:
            raise ConfigError(f"[disorder] strength: expected u0^2 > 0 in eV^2*Å^3, got {self.strength!r}")
        if isinstance(self.third_moment, bool) or not isinstance(self.third_moment, (int, float)) \
                or not np.isfinite(self.third_moment):
            raise ConfigError(f"[disorder] third_moment: expected u1^3 in eV^3*Å^6 (a finite number), "
                              f"got {self.third_moment!r}")

    @property
    def kappa(self):
        """κ = 2π u0²/ħ in eV·Å³/s: rate = κ × (weights in 1/(eV·Å³)) × overlaps."""
        return 2 * np.pi * self.strength / HBAR_EVS

    @property
    def kappa3(self):
        """κ₃ = (2π)² u1³/ħ in eV²·Å⁶/s: antisymmetric rate = κ₃ × Im[overlap × ⟨c|P|c'⟩] (P in 1/(eV·Å³))."""
        return (2 * np.pi) ** 2 * self.third_moment / HBAR_EVS

    def operator(self, states, model):
        """The shell collision operator (:class:`wkin.kinetic.collision.CollisionOperator`) of these states."""
        from .collision import CollisionOperator  # noqa: PLC0415 - collision builds on the features defined here
        return CollisionOperator(states, self, model)

    def orbital_blocks(self, model):
        """Lists of Wannier-orbital indices forming the blocks Π_b."""
        nw = model.num_wann
        if self.blocks is not None:
            return [list(b) for b in self.blocks]
        if self.model == "cell":
            return [list(range(nw))]
        if self.model == "orbital":
            return [[j] for j in range(nw)]
        # atom: orbitals whose centres coincide (to 0.05 Å) belong to one site
        groups = []
        for j, tau in enumerate(model.centres):
            for g in groups:
                if np.linalg.norm(model.centres[g[0]] - tau) < 0.05:
                    g.append(j)
                    break
            else:
                groups.append([j])
        return groups

    @staticmethod
    def block_matrices(f, blocks):
        """The Hermitian block matrices (one per block, (r, n_b, n_b)) whose features (:meth:`features`) are the
        columns of ``f`` (D, r): the inverse of :meth:`matrix_features`."""
        out, col = [], 0
        f = np.asarray(f).reshape(len(f), -1)
        for b in blocks:
            n = len(b)
            iu = np.triu_indices(n, 1)
            m = len(iu[0])
            Y = np.zeros((f.shape[1], n, n), complex)
            Y[:, np.arange(n), np.arange(n)] = f[col:col + n].T
            upper = (f[col + n:col + n + m] + 1j * f[col + n + m:col + n * n]).T / np.sqrt(2)
            Y[:, iu[0], iu[1]] = upper
            Y[:, iu[1], iu[0]] = upper.conj()
            out.append(Y)
            col += n * n
        return out

    @staticmethod
    def matrix_features(Y):
        r"""Features (D, r) of Hermitian block matrices ``Y`` (a list of (r, n_b, n_b)): with them
        :math:`\langle c|\Pi_bY_b\Pi_b|c\rangle` summed over the blocks is φ(c)·features (:meth:`features`)."""
        parts = []
        for Yb in Y:
            n = Yb.shape[-1]
            iu = np.triu_indices(n, 1)
            upper = Yb[:, iu[0], iu[1]]
            parts.append(np.concatenate([np.real(np.diagonal(Yb, axis1=1, axis2=2)).T, np.sqrt(2) * upper.real.T,
                                         np.sqrt(2) * upper.imag.T]))
        return np.concatenate(parts)

    def features(self, c, blocks, chunk=4096):
        r"""Real feature vectors φ (N, D) with φ_i·φ_j = Σ_b |⟨c_i|Π_b|c_j⟩|².

        ``c``: (N, nw) eigenvector components. For each block, the Hermitian
        matrix :math:`X=\Pi_b cc^\dagger\Pi_b` is written as its diagonal and
        :math:`\sqrt2\,\mathrm{Re},\sqrt2\,\mathrm{Im}` of the upper triangle, so
        that :math:`\mathrm{Tr}XY=\phi_X\cdot\phi_Y`; with c = r + i s,
        :math:`\mathrm{Re}X_{ab}=r_ar_b+s_as_b`, :math:`\mathrm{Im}X_{ab}=s_ar_b-r_as_b` (real arithmetic, in
        cache-sized chunks of states).
        """
        out = np.empty((len(c), sum(len(b) ** 2 for b in blocks)))
        col = 0
        for b in blocks:
            n = len(b)
            iu = np.triu_indices(n, 1)
            m = len(iu[0])
            re, im = np.ascontiguousarray(c[:, b].real), np.ascontiguousarray(c[:, b].imag)
            for start in range(0, len(c), chunk):
                rows = slice(start, start + chunk)
                r, s = re[rows], im[rows]
                ra, rb, sa, sb = r[:, iu[0]], r[:, iu[1]], s[:, iu[0]], s[:, iu[1]]
                out[rows, col:col + n] = r * r + s * s
                out[rows, col + n:col + n + m] = np.sqrt(2) * (ra * rb + sa * sb)
                out[rows, col + n + m:col + n * n] = np.sqrt(2) * (sa * rb - ra * sb)
            col += n * n
        return out


@dataclass
class ConstantRelaxationTime:
    r"""The relaxation-time "disorder" of ``[disorder] model = "constant_tau"``: :math:`L=1/\tau` on every shell.

    ``tau`` in fs, the convention of ``ohmic`` (σ = e²τ∫(−f′)v v). No microscopic scattering: the extrinsic
    (side-jump, skew) pieces of a quantity that has them are zero, and the intrinsic ones take the relaxation-time
    forms (spec seed-002 §2.6, :class:`wkin.kinetic.collision.RelaxationTimeOperator`).
    """

    tau: float
    model: str = CONSTANT_TAU
    third_moment: float = 0.0
    kappa: float = 0.0
    kappa3: float = 0.0

    def __post_init__(self):
        if isinstance(self.tau, bool) or not isinstance(self.tau, (int, float)) or not self.tau > 0:
            raise ConfigError(f"[disorder] tau: expected a relaxation time > 0 in fs, got {self.tau!r}")

    def operator(self, states, model):
        from .collision import RelaxationTimeOperator  # noqa: PLC0415 - as Disorder.operator
        return RelaxationTimeOperator(states, self.tau * 1e-15)
