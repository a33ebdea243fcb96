r"""Born collision kernel on a Fermi shell and the exact linearized Boltzmann solve.

For band-diagonal distributions on one energy shell (spec seed-000 §2.4,
seed-003 §2.3–2.4) the Born collision integral of scalar white-noise disorder is

.. math::

    [J_0 g]_i = \frac{g_i}{\tau_i} - \sum_j K_{ij} g_j,\qquad
    K_{ij} = \kappa\,\omega_{ij}\,w_j,\quad
    \omega_{ij}=\sum_b|\langle c_i|\Pi_b|c_j\rangle|^2,\quad
    \frac1{\tau_i}=\sum_j K_{ij},\quad \kappa=\frac{2\pi u_0^2}{\hbar},

with :math:`w_j` the Fermi-surface weights (:func:`wkin.kspace.fermi_surface.fermi_surface`),
so that :math:`w_iK_{ij}` is exactly symmetric and :math:`J_0` conserves
particles on the shell exactly. Its null space holds one constant mode per
elastically connected component of the shell.

The transport equation for the vector mean free path Λ (seed-003 §2.4),
:math:`\Lambda_i/\tau_i-\sum_jK_{ij}\Lambda_j=\mathbf v_i`, is solved exactly —
no relaxation-time approximation — by :meth:`CollisionOperator.solve` (the N×N pair kernel and
its dense solve are the tests' reference, ``tests/dense_reference.py``). Because
  :math:`\omega_{ij}=\phi_i\cdot\phi_j` (:meth:`wkin.kinetic.disorder.Disorder.features`),
  writing :math:`m=\sum_jw_j\Lambda_j\phi_j` turns the equation into the
  D×D system :math:`(1-G)m=\Phi^T W\tau\mathbf v`,
  :math:`G=\kappa\Phi^TW\tau\Phi` (spec seed-000 §3 step 5, "separable fast
  path"; seed-003 §3 step 3), then :math:`\Lambda_i=\tau_i(\mathbf v_i+\kappa\phi_i\cdot m)`.
  It costs O(N·D²) once and O(N·D) memory; N×N is never formed.

Zero modes are projected out of drives and solutions
(:math:`\sum_{i\in c}w_i\Lambda_i=0` on each component c).

With a third disorder cumulant (:attr:`wkin.kinetic.disorder.Disorder.third_moment`) the kernel gains
the antisymmetric part :math:`K^A` (:meth:`CollisionOperator.skew_in_scattering`); the
kinetic equation becomes :math:`(L-K^A)\Lambda=\mathbf v` (seed-002 §2.5: :math:`I^A=
+\partial_\epsilon f^0K^A\phi`), which :mod:`wkin.response.extrinsic` solves to first order in
:math:`u_1^3`, :math:`\Lambda^{sk3}=L^{-1}K^A\Lambda`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.linalg.blas
import scipy.sparse

from .. import parallel
from .disorder import Disorder


def real_matmul(A, X):
    """A @ X for a real A and a complex X as one real GEMM on contiguous [Re X, Im X] (numpy would cast A to complex,
    and the strided X.real, X.imag views miss BLAS)."""
    q = X.shape[-1]
    Y = A @ np.concatenate([X.real, X.imag], axis=-1)
    return Y[..., :q] + 1j * Y[..., q:]


def gram(a):
    """aᵀa for a real (N, D) array as one symmetric rank-N update (BLAS dsyrk on the Fortran-ordered aᵀ: half the
    flops of a GEMM and no copy); the full symmetric matrix."""
    c = scipy.linalg.blas.dsyrk(1.0, np.asarray(a, float).T, trans=0)
    return np.triu(c) + np.triu(c, 1).T


@dataclass
class ShellStates:
    """States on one energy shell (this rank's share; one per Fermi-surface point, the crossing band).

    ``weight`` (N,) in 1/(eV·Å³) (:mod:`wkin.kspace.fermi_surface`), ``energy`` (N,) eV, ``c`` (N, nw) the
    eigenvector in the Wannier basis (Wannier90 phases); ``skipped``: degenerate points left out.
    """

    mu: float
    k: np.ndarray
    band: np.ndarray
    weight: np.ndarray
    energy: np.ndarray
    c: np.ndarray
    skipped: int = 0


class CollisionOperator:
    """The shell collision operator in factorized form, distributed over MPI ranks by rows.

    Public attributes: ``kappa`` κ = 2πu0²/ħ (eV·Å³/s), ``kappa3`` κ₃ (third cumulant), ``blocks`` the
    orbital blocks Π_b of the disorder model, ``rate`` 1/τ_i (1/s) of every state, ``rate_features``
    p = Σ_j w_j φ_j (1/τ_i = κ φ_i·p). Shell-wide sums that other kernels are built from:
    :attr:`shell_projectors`, :meth:`weighted_projectors`, :meth:`feature_sums`. It knows states
    (weights and eigenvectors), not observables.
    """

    def __init__(self, states: ShellStates, disorder, model):
        self.states = states
        self.kappa = disorder.kappa
        self.blocks = disorder.orbital_blocks(model)
        self.phi = disorder.features(states.c, self.blocks)
        self.w = states.weight
        self.rate_features = parallel.sum_over_ranks(self.phi.T @ self.w)
        self.rate = self.kappa * self.phi @ self.rate_features  # 1/τ_i in 1/s
        if np.any(self.rate <= 0):
            raise ValueError("a Fermi-surface state has zero out-scattering rate: disorder does not couple it")
        self.kappa3 = disorder.kappa3

    @functools.cached_property
    def shell_projectors(self):
        """Shell matrices Π_b P Π_b, P = Σ_j w_j |u_j⟩⟨u_j| (1/(eV·Å³)), per block: the block matrices of the
        feature sum p (:meth:`wkin.kinetic.disorder.Disorder.block_matrices`), no pass over the states."""
        return [Y[0] for Y in Disorder.block_matrices(self.rate_features, self.blocks)]

    def weighted_projectors(self, g):
        r"""Per block, :math:`\sum_jw_jg_{j,r}\Pi_b|u_j\rangle\langle u_j|\Pi_b` for g (N, r): (r, n_b, n_b) each, the
        block matrices of the feature sums :meth:`feature_sums` (one GEMM over the states)."""
        return Disorder.block_matrices(self.feature_sums(g), self.blocks)

    def feature_sums(self, g):
        r""":math:`\sum_jw_jg_{j,r}\phi_j` (D, r) for g (N, r); with g = 1 the vector p of the out-scattering rates
        :math:`1/\tau_i=\kappa\phi_i\cdot p`."""
        return parallel.sum_over_ranks(self.phi.T @ (self.w[:, None] * g))

    def in_scattering(self, g):
        """Σ_j K_ij g_j for g of shape (N,) or (N, r)."""
        return self.kappa * self.phi @ parallel.sum_over_ranks(self.phi.T @ (self.w[:, None] * g.reshape(len(g), -1))
                                                              ).reshape((-1,) + g.shape[1:])

    def skew_in_scattering(self, g):
        r"""Antisymmetric (third-cumulant) in-scattering :math:`(K^Ag)_i=\sum_jw_jw^A_{ij}g_j`, g (N,) or (N, r).

        Spec seed-002 §2.2–2.3, separable form: with :math:`M_b[g]=\sum_jw_jg_j\Pi_b|u_j\rangle\langle u_j|\Pi_b`,

        .. math::

            (K^Ag)_i=\kappa_3\sum_b\mathrm{Im}\langle u_i|\Pi_bP\Pi_b\,M_b[g]|u_i\rangle
                =\kappa_3\,\phi_i\cdot\mathrm{feat}\Big[\frac{P_bM_b-M_bP_b}{2i}\Big] ,

        the last form because :math:`\mathrm{Im}\langle u|A|u\rangle=\langle u|(A-A^\dagger)/2i|u\rangle` is the
        feature product (:meth:`wkin.kinetic.disorder.Disorder.features`) of a Hermitian matrix, and
        :math:`M_b[g]`, :math:`P_b` are the block matrices of the feature sums :math:`\sum_jw_jg_j\phi_j` and p.
        :math:`w_iK^A_{ij}` is antisymmetric and :math:`\sum_iw_i(K^Ag)_i=0=K^A1` (optical theorem,
        seed-002 Eq. 35) exactly, because P is built from the same weights. O(N·D) per column (two GEMMs); 1/s × g.
        """
        if np.iscomplexobj(g):  # K^A is a real operator
            return self.skew_in_scattering(g.real) + 1j * self.skew_in_scattering(g.imag)
        g2 = g.reshape(len(g), -1)
        return (self.phi @ self.skew_features(self.feature_sums(g2))).reshape(g.shape)

    def skew_features(self, f):
        r"""The feature-space form of :meth:`skew_in_scattering`: :math:`K^Ag=\Phi\,\zeta` with
        :math:`\zeta=\kappa_3\,\mathrm{feat}[(P_bM_b-M_bP_b)/2i]` for the feature sums f = Φᵀ W g (D, r); real-linear
        (a complex f is split into its real and imaginary parts)."""
        if np.iscomplexobj(f):
            return self.skew_features(f.real) + 1j * self.skew_features(f.imag)
        M = Disorder.block_matrices(f, self.blocks)
        H = [(Pb @ Mb - Mb @ Pb) / 2j for Pb, Mb in zip(self.shell_projectors, M)]
        return self.kappa3 * Disorder.matrix_features(H)

    def apply(self, g):
        """L g = g/τ − K g."""
        rate = self.rate.reshape((-1,) + (1,) * (g.ndim - 1))
        return rate * g - self.in_scattering(g)

    @functools.cached_property
    def _factorization(self):
        """The D×D system of :meth:`solve`, A = 1 − G with G = κΦᵀWτΦ (O(N·D²), built once per shell), as its
        minimum-norm pseudo-inverse from one SVD (singular values below 1e-12 of the largest dropped: the zero modes),
        and the per-state zero modes z (N, n0) from the null vectors of A."""
        tau = 1.0 / self.rate
        G = self.kappa * parallel.sum_over_ranks(gram(np.sqrt(self.w * tau)[:, None] * self.phi))
        u, s, vh = scipy.linalg.svd(np.eye(len(G)) - G)
        keep = s > 1e-12 * s[0]
        pinv = (vh[keep].T / s[keep]) @ u[:, keep].T
        null = vh[s < 1e-9 * max(s[0], 1.0)].conj().T  # (D, n0)
        return pinv, tau[:, None] * self.kappa * (self.phi @ null)

    @property
    def zero_modes(self):
        """Per-state zero modes z (N, n0) of L: one per elastically connected component of the shell."""
        return self._factorization[1]

    def _project(self, g, z):
        """Remove the W-orthogonal projection of g on the zero modes z."""
        if z.shape[1] == 0:
            return g
        overlap = parallel.sum_over_ranks(z.T @ (self.w[:, None] * z))
        coef = np.linalg.solve(overlap, parallel.sum_over_ranks(z.T @ (self.w[:, None] * g)))
        return g - z @ coef

    def solve(self, drive):
        """Exact solution Λ of Λ/τ − KΛ = drive (N, r), zero modes projected out of drive and Λ."""
        pinv, z = self._factorization
        tau = 1.0 / self.rate
        drive = self._project(drive, z)
        rhs = parallel.sum_over_ranks(self.phi.T @ ((self.w * tau)[:, None] * drive))
        m = pinv @ rhs
        lam = tau[:, None] * (drive + self.kappa * self.phi @ m)
        return self._project(lam, z)

    def _shifted(self, omega):
        """LU factors of the D×D system of :meth:`resolve` at ω ≠ 0 (built once per frequency and shell)."""
        cache = self.__dict__.setdefault("_shifted_cache", {})
        if omega not in cache:
            tau = 1.0 / (self.rate - 1j * omega)
            wt = self.w * tau
            G = self.kappa * (parallel.sum_over_ranks(self.phi.T @ (wt.real[:, None] * self.phi))
                              + 1j * parallel.sum_over_ranks(self.phi.T @ (wt.imag[:, None] * self.phi)))
            cache[omega] = scipy.linalg.lu_factor(np.eye(len(G)) - G)
        return cache[omega]

    def resolve(self, drive, omega=0.0):
        r"""The resolvent :math:`R(\omega)\,x=(L-i\omega)^{-1}x` for drives x (N, r), ω in rad/s (spec seed-002 §2.7).

        With :math:`\tilde\tau_i=(1/\tau_i-i\omega)^{-1}` the separable form of :meth:`solve` holds with τ → τ̃:
        :math:`(1-\tilde G)m=\Phi^TW\tilde\tau x`, :math:`\tilde G=\kappa\Phi^TW\tilde\tau\Phi`,
        :math:`\Lambda_i=\tilde\tau_i(x_i+\kappa\phi_i\cdot m)`, exact. At ω = 0 it is :meth:`solve` (zero modes projected
        out); at ω ≠ 0, L − iω is invertible and nothing is projected. Complex drives are allowed.
        """
        if omega != 0:
            return self.resolve_batch(np.asarray(drive)[None], [omega])[0]
        if np.iscomplexobj(drive):
            return self.solve(drive.real) + 1j * self.solve(drive.imag)
        return self.solve(drive)

    def resolve_batch(self, drives, omegas):
        """:meth:`resolve` at every frequency at once: drives (n_ω, N, r), ω (n_ω,) rad/s → (n_ω, N, r) complex.

        The D-space right-hand sides of all frequencies and the back-substitution are one pair of real GEMMs over
        Φ each (Φ is read twice, not twice per frequency); each frequency's D×D system is factorized once
        (:meth:`_shifted`). ω = 0 goes through :meth:`resolve` (zero modes projected).
        """
        drives = np.asarray(drives)
        n_w, n, r = drives.shape
        omegas = np.asarray(omegas, float)
        out = np.empty((n_w, n, r), complex)
        for j in np.flatnonzero(omegas == 0):
            out[j] = self.resolve(drives[j], 0.0)
        nz = np.flatnonzero(omegas != 0)
        if len(nz):
            tau = 1.0 / (self.rate[None, :] - 1j * omegas[nz, None])  # (k, N)
            x = ((self.w[None, :] * tau)[:, :, None] * drives[nz]).transpose(1, 0, 2).reshape(n, -1)
            rhs = parallel.sum_over_ranks(real_matmul(self.phi.T, x)).reshape(-1, len(nz), r)
            m = np.stack([scipy.linalg.lu_solve(self._shifted(omegas[j]), rhs[:, i]) for i, j in enumerate(nz)], 1)
            back = real_matmul(self.phi, m.reshape(len(rhs), -1)).reshape(n, len(nz), r).transpose(1, 0, 2)
            out[nz] = tau[:, :, None] * (drives[nz] + self.kappa * back)
        return out

    def project_diagonal(self, xi):
        r"""Diagonal projection of the outer-energy collision superoperator, :math:`[\mathcal P\mathcal K(X)]_i`.

        Spec seed-000 §2.5 (boxed) and §3 step 5 (separable form), per block b of the
        disorder model:

        .. math::

            [\mathcal P\mathcal K X]_i = \kappa\sum_b\mathrm{Re}\big(\langle\xi_i|\Pi_bP\Pi_b|u_i\rangle
                - \langle u_i|\Pi_bC_X\Pi_b|u_i\rangle\big),\quad
            P=\sum_jw_j|u_j\rangle\langle u_j|,\ C_X=\sum_jw_j|\xi_j\rangle\langle u_j| ,

        for a Hermitian, zero-diagonal X given by its vectors :math:`|\xi_i\rangle=\sum_nX^{nm}|u_n\rangle`
        (``xi``: (N, r, nw)). Returns (N, r) in (units of X)/s. O(N·nw²).
        """
        u, w = self.states.c, self.w
        out = np.zeros(xi.shape[:2])
        for b, P in zip(self.blocks, self.shell_projectors):
            ub, xb = u[:, b], xi[:, :, b]
            Cx = parallel.sum_over_ranks(np.einsum("j,jra,jb->rab", w, xb, ub.conj()))
            out += np.real(np.einsum("nra,ab,nb->nr", xb.conj(), P, ub)
                           - np.einsum("na,rab,nb->nr", ub.conj(), Cx, ub))
        return self.kappa * out


class RelaxationTimeOperator:
    r"""The relaxation-time collision operator :math:`L=1/\tau` of ``[disorder] model = "constant_tau"``.

    Every state relaxes at the same rate, :math:`R(\omega)=\tau/(1-i\omega\tau)=r(\omega)` (spec seed-002 §2.0);
    there is no microscopic scattering, so no antisymmetric rate (:math:`K^A=0`) and no coordinate shift (the
    extrinsic velocity :meth:`project_diagonal` is 0). L has no zero modes (it does not conserve particles).
    """

    kappa = 0.0
    kappa3 = 0.0

    def __init__(self, states: ShellStates, tau_s):
        self.states, self.w, self.tau = states, states.weight, float(tau_s)
        self.rate = np.full(len(states.weight), 1.0 / self.tau)

    @property
    def zero_modes(self):
        return np.zeros((len(self.w), 0))

    def apply(self, g):
        return g / self.tau

    def solve(self, drive):
        return self.tau * drive

    def resolve_batch(self, drives, omegas):
        """:meth:`resolve` at every frequency: drives (n_ω, N, r) → r(ω_j) drives_j."""
        return np.asarray(drives) / (1.0 / self.tau - 1j * np.asarray(omegas, float))[:, None, None]

    def skew_in_scattering(self, g):
        return np.zeros_like(g)

    def project_diagonal(self, xi):
        return np.zeros(xi.shape[:2])


# ----------------------------------------------------------------------------- smeared fallback
class SmearedCollisionOperator:
    r"""Fallback quadrature (spec seed-000 §3 step 3): uniform grid, Gaussian pair δ.

    All states (k, n) of a uniform grid with :math:`|\epsilon-\mu|<W` carry the same measure
    :math:`\nu=1/(N_kV_{\rm cell})`; the pair δ becomes a Gaussian of width ``pair_width``
    evaluated between energy bins (width ``pair_width``/8) of the two states, so that

    .. math::

        K_{ij}=\kappa\,\omega_{ij}\,\nu\,g(E_{b(i)}-E_{b(j)}),\qquad 1/\tau_i=\sum_jK_{ij},

    is exactly symmetric and conserves particles (row sums), as the spec requires of the
    fallback; it factorizes through per-bin feature sums, O(N·D + n_bins²·D) per application.
    The Boltzmann equation is solved with conjugate gradients (MPI-reduced dot products);
    the constant zero mode is projected out.
    """

    def __init__(self, states: ShellStates, disorder, model, measure, pair_width):
        self.states, self.kappa, self.nu = states, disorder.kappa, measure
        self.blocks = disorder.orbital_blocks(model)
        self.phi = disorder.features(states.c, self.blocks)
        bounds = parallel.gather_concat(np.array([[states.energy.min(initial=np.inf),
                                                   states.energy.max(initial=-np.inf)]]))
        lo, hi = float(bounds[:, 0].min()), float(bounds[:, 1].max())  # global energy range of the states
        h = pair_width / 8
        edges = np.arange(lo - h, hi + 2 * h, h)
        self.bin = np.clip(np.searchsorted(edges, states.energy) - 1, 0, len(edges) - 2)
        centres = 0.5 * (edges[1:] + edges[:-1])
        d = centres[:, None] - centres[None, :]
        self.G = np.exp(-0.5 * (d / pair_width) ** 2) / (np.sqrt(2 * np.pi) * pair_width)
        self.nbins = len(centres)
        n = len(states.energy)
        self.onehot = scipy.sparse.csr_matrix((np.ones(n), (self.bin, np.arange(n))), shape=(self.nbins, n))
        self.rate = self.in_scattering(np.ones(len(states.energy)))
        if np.any(self.rate <= 0):
            raise ValueError("a state has zero out-scattering rate: disorder does not couple it")

    def in_scattering(self, g):
        """Σ_j K_ij g_j for g (N,) or (N, r)."""
        g2 = g.reshape(len(g), -1)
        out = np.empty(g2.shape)
        for r in range(g2.shape[1]):
            M = parallel.sum_over_ranks(self.onehot @ (g2[:, r, None] * self.phi))  # (n_bins, D)
            T = self.G @ M
            out[:, r] = np.einsum("nd,nd->n", self.phi, T[self.bin])
        return (self.kappa * self.nu * out).reshape(g.shape)

    def apply(self, g):
        return self.rate.reshape((-1,) + (1,) * (g.ndim - 1)) * g - self.in_scattering(g)

    def _project(self, x):
        n = parallel.sum_over_ranks(np.array([float(len(x))]))[0]
        return x - parallel.sum_over_ranks(x.sum(axis=0)) / n

    def solve(self, drive, tol=1e-12, maxiter=10000):
        """Λ with Λ/τ − KΛ = drive (N, r) by Jacobi-preconditioned CG, zero mode removed."""
        b = self._project(drive)
        x = b / self.rate[:, None]
        r = b - self.apply(x)
        z = r / self.rate[:, None]
        p = z.copy()
        rz = parallel.sum_over_ranks(np.sum(r * z, axis=0))
        bnorm = np.sqrt(parallel.sum_over_ranks(np.sum(b * b, axis=0)))
        for _ in range(maxiter):
            if np.all(np.sqrt(parallel.sum_over_ranks(np.sum(r * r, axis=0))) <= tol * np.maximum(bnorm, 1e-300)):
                break
            Ap = self.apply(p)
            pAp = parallel.sum_over_ranks(np.sum(p * Ap, axis=0))
            alpha = np.where(pAp > 0, rz / np.where(pAp > 0, pAp, 1.0), 0.0)
            x += alpha * p
            r -= alpha * Ap
            z = r / self.rate[:, None]
            rz_new = parallel.sum_over_ranks(np.sum(r * z, axis=0))
            p = z + np.where(rz > 0, rz_new / np.where(rz > 0, rz, 1.0), 0.0) * p
            rz = rz_new
        return self._project(x)
