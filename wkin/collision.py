r"""Born collision kernel on a Fermi shell and the exact linearized Boltzmann solve.

For band-diagonal distributions on one energy shell (spec seed-000 §2.4,
seed-003 §2.3–2.4) the Born collision integral of scalar white-noise disorder is

.. math::

    [J_0 g]_i = \frac{g_i}{\tau_i} - \sum_j K_{ij} g_j,\qquad
    K_{ij} = \kappa\,\omega_{ij}\,w_j,\quad
    \omega_{ij}=\sum_b|\langle c_i|\Pi_b|c_j\rangle|^2,\quad
    \frac1{\tau_i}=\sum_j K_{ij},\quad \kappa=\frac{2\pi u_0^2}{\hbar},

with :math:`w_j` the Fermi-surface weights (:func:`wkin.fermi.fermi_surface`),
so that :math:`w_iK_{ij}` is exactly symmetric and :math:`J_0` conserves
particles on the shell exactly. Its null space holds one constant mode per
elastically connected component of the shell.

The transport equation for the vector mean free path Λ (seed-003 §2.4),
:math:`\Lambda_i/\tau_i-\sum_jK_{ij}\Lambda_j=\mathbf v_i`, is solved exactly —
no relaxation-time approximation — in two ways that must agree:

- :func:`solve_dense`: the N×N pair kernel (reference, small N);
- :class:`CollisionOperator.solve`: the production path. Because
  :math:`\omega_{ij}=\phi_i\cdot\phi_j` (:meth:`wkin.disorder.Disorder.features`),
  writing :math:`m=\sum_jw_j\Lambda_j\phi_j` turns the equation into the
  D×D system :math:`(1-G)m=\Phi^T W\tau\mathbf v`,
  :math:`G=\kappa\Phi^TW\tau\Phi` (spec seed-000 §3 step 5, "separable fast
  path"; seed-003 §3 step 3), then :math:`\Lambda_i=\tau_i(\mathbf v_i+\kappa\phi_i\cdot m)`.
  It costs O(N·D²) once and O(N·D) memory; N×N is never formed.

Zero modes are projected out of drives and solutions
(:math:`\sum_{i\in c}w_i\Lambda_i=0` on each component c).

With a third disorder cumulant (:attr:`wkin.disorder.Disorder.third_moment`) the kernel gains
the antisymmetric part :math:`K^A` (:meth:`CollisionOperator.skew_in_scattering`); the
kinetic equation becomes :math:`(L-K^A)\Lambda=\mathbf v` (seed-002 §2.5: :math:`I^A=
+\partial_\epsilon f^0K^A\phi`), which :mod:`wkin.response.extrinsic` solves to first order in
:math:`u_1^3`, :math:`\Lambda^{sk3}=L^{-1}K^A\Lambda`.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.csgraph

from . import parallel
from .bands import DEGEN_THRESH, solve

#: fraction of degenerate Fermi-surface points above which the degeneracy is "extended" (Kramers pairs)
EXTENDED_DEGENERACY = 0.5


class DegenerateBandsError(ValueError):
    """The theory assumes non-degenerate bands; the Fermi surface is degenerate everywhere."""


@dataclass
class ShellStates:
    """States on one energy shell: weight (1/(eV·Å³)), velocity ∂ε/∂k (eV·Å), eigenvector c (N, nw)."""

    mu: float
    k: np.ndarray
    band: np.ndarray
    weight: np.ndarray
    energy: np.ndarray
    velocity: np.ndarray
    c: np.ndarray
    skipped: int = 0
    xi_connection: np.ndarray | None = None  # (N, 3, nw) Å: Σ_n R'^{nm} |u_n⟩
    xi_spin: np.ndarray | None = None  # (N, 3, nw) s: Σ_n T[s]^{nm} |u_n⟩
    spin: np.ndarray | None = None  # (N, 3) ⟨σ⟩


def _band_states(model, k, band, degen_thresh):
    """Energy, velocity ∂ε/∂k, eigenvector and degeneracy flag of one band per k, from H and ∂H only."""
    H, dH = model.fourier_velocity(k)
    e, U = np.linalg.eigh(0.5 * (H + H.conj().transpose(0, 2, 1)))
    r = np.arange(len(band))
    u = U[r, :, band]
    velocity = np.real(np.einsum("ki,kaij,kj->ka", u.conj(), dH, u))
    degenerate = np.sum(np.abs(e - e[r, band][:, None]) <= degen_thresh, axis=1) > 1
    return e[r, band], velocity, u, degenerate


def shell_states(model, fs, degen_thresh=DEGEN_THRESH, chunk=4096, interband=False):
    r"""Diagonalise at the Fermi-surface points of this rank's share and keep the crossing band.

    Isolated degeneracies (TRIM points, Weyl nodes) are skipped with a warning;
    extended degeneracy (Kramers pairs of a PT-symmetric crystal: most points
    degenerate) raises :class:`DegenerateBandsError`.

    With ``interband=True`` the orbital-space vectors of the interband maps are
    kept as well (spec seed-000 §2.13 step 5): :math:`|\chi^m\rangle=\sum_n
    \mathcal R'^{nm}|u^n\rangle` with the full off-diagonal Berry connection
    :math:`\mathcal R'=\mathcal T[\mathbf v]` (position-matrix term included, Å), and, when
    the model has spin, :math:`|\chi^{s,m}\rangle=\sum_n\mathcal T[\mathbf s]^{nm}|u^n\rangle`
    with :math:`\mathcal T[X]^{nm}=\hbar X^{nm}/[i(\epsilon_n-\epsilon_m)]` (seconds).
    """
    from .disorder import HBAR_EVS
    part = parallel.my_slice(len(fs.k))
    k, band, w = fs.k[part], fs.band[part], fs.weight[part]
    E, V, C, deg, XR, XS, SP = [], [], [], [], [], [], []
    spin = interband and model.has_spin
    for i in range(0, len(k), chunk):
        n = band[i:i + chunk]
        r = np.arange(len(n))
        if not interband:
            for lst, x in zip((E, V, C, deg), _band_states(model, k[i:i + chunk], n, degen_thresh)):
                lst.append(x)
            continue
        b = solve(model, k[i:i + chunk], degen_thresh)
        E.append(b.energies[r, n])
        V.append(b.velocity[r, n])
        C.append(b.U[r, :, n])
        deg.append(b.group[r, n].sum(axis=1) > 1)
        if interband:
            off = ~b.group[r, n]  # (n, nb): partners outside the degenerate group
            Rp = b.berry_connection[r, :, :, n] * off[:, None, :]  # R'^{·m}, (n, 3, nb)
            XR.append(np.einsum("kib,kab->kai", b.U, Rp))
            if spin:
                dE = b.energies - E[-1][:, None]  # ε_n − ε_m
                with np.errstate(divide="ignore", invalid="ignore"):
                    Ts = np.where(off[:, None, :], HBAR_EVS * b.S[r, :, :, n] / (1j * np.where(off, dE, 1.0))[:, None, :], 0)
                XS.append(np.einsum("kib,kab->kai", b.U, Ts))
                SP.append(b.spin[r, n])
    if k.size:
        E, V, C, deg = (np.concatenate(x) for x in (E, V, C, deg))
        XR = np.concatenate(XR) if interband else None
        XS = np.concatenate(XS) if spin else None
        SP = np.concatenate(SP) if spin else None
    else:
        nw = model.num_wann
        E, V, C, deg = np.zeros(0), np.zeros((0, 3)), np.zeros((0, nw), complex), np.zeros(0, bool)
        XR = np.zeros((0, 3, nw), complex) if interband else None
        XS = np.zeros((0, 3, nw), complex) if spin else None
        SP = np.zeros((0, 3)) if spin else None
    ndeg, ntot = parallel.sum_over_ranks(np.array([deg.sum(), len(deg)]))
    if ntot and ndeg > EXTENDED_DEGENERACY * ntot:
        raise DegenerateBandsError(
            f"{ndeg} of {ntot} Fermi-surface states at mu = {fs.mu:.4f} eV are degenerate "
            f"(within {degen_thresh:g} eV): extended degeneracy such as Kramers pairs of a PT-symmetric "
            "crystal; the Boltzmann/Born theory here assumes non-degenerate bands")
    if ndeg:
        warnings.warn(f"skipped {ndeg} isolated degenerate Fermi-surface points of {ntot} at mu = {fs.mu:.4f} eV; "
                      "prefer a shifted mesh", RuntimeWarning, stacklevel=2)
    keep = ~deg
    pick = lambda x: None if x is None else x[keep]  # noqa: E731
    return ShellStates(mu=fs.mu, k=k[keep], band=band[keep], weight=w[keep], energy=E[keep],
                       velocity=V[keep], c=C[keep], skipped=int(ndeg), xi_connection=pick(XR),
                       xi_spin=pick(XS), spin=pick(SP))


class CollisionOperator:
    """The shell collision operator in factorized form, distributed over MPI ranks by rows."""

    def __init__(self, states: ShellStates, disorder, model):
        self.states = states
        self.kappa = disorder.kappa
        self.blocks = disorder.orbital_blocks(model)
        self.phi = disorder.features(states.c, self.blocks)
        self.w = states.weight
        self.p = parallel.sum_over_ranks(self.phi.T @ self.w)
        self.rate = self.kappa * self.phi @ self.p  # 1/τ_i in 1/s
        if np.any(self.rate <= 0):
            raise ValueError("a Fermi-surface state has zero out-scattering rate: disorder does not couple it")
        self.kappa3 = disorder.kappa3

    @functools.cached_property
    def P(self):
        """Shell matrices Π_b P Π_b, P = Σ_j w_j |u_j⟩⟨u_j| (1/(eV·Å³)), per block; built on first use
        (the Drude solve does not need them; an MPI reduction, so every rank reaches it together)."""
        u = self.states.c
        return [parallel.sum_over_ranks(np.einsum("j,ja,jb->ab", self.w, u[:, b], u[:, b].conj()))
                for b in self.blocks]

    def in_scattering(self, g):
        """Σ_j K_ij g_j for g of shape (N,) or (N, r)."""
        return self.kappa * self.phi @ parallel.sum_over_ranks(self.phi.T @ (self.w[:, None] * g.reshape(len(g), -1))
                                                              ).reshape((-1,) + g.shape[1:])

    def skew_in_scattering(self, g):
        r"""Antisymmetric (third-cumulant) in-scattering :math:`(K^Ag)_i=\sum_jw_jw^A_{ij}g_j`, g (N,) or (N, r).

        Spec seed-002 §2.2–2.3, separable form: with :math:`M_b[g]=\sum_jw_jg_j\Pi_b|u_j\rangle\langle u_j|\Pi_b`,

        .. math::

            (K^Ag)_i=\kappa_3\sum_b\mathrm{Im}\langle u_i|\Pi_bP\Pi_b\,M_b[g]|u_i\rangle .

        :math:`w_iK^A_{ij}` is antisymmetric and :math:`\sum_iw_i(K^Ag)_i=0=K^A1` (optical theorem,
        seed-002 Eq. 35) exactly, because P is built from the same weights. O(N·nw²) per column; 1/s × g.
        """
        g2 = g.reshape(len(g), -1)
        u, out = self.states.c, np.zeros(g2.shape)
        for b, P in zip(self.blocks, self.P):
            ub = u[:, b]
            M = parallel.sum_over_ranks(np.einsum("j,jr,ja,jb->rab", self.w, g2, ub, ub.conj()))
            PM = np.einsum("ab,rbc->rac", P, M)
            out += np.imag(np.einsum("na,rab,nb->nr", ub.conj(), PM, ub))
        return (self.kappa3 * out).reshape(g.shape)

    def apply(self, g):
        """L g = g/τ − K g."""
        rate = self.rate.reshape((-1,) + (1,) * (g.ndim - 1))
        return rate * g - self.in_scattering(g)

    def _null_modes(self, A):
        """Null vectors of (1 − G) and the corresponding per-state zero modes z (N, n0)."""
        u, s, vh = scipy.linalg.svd(A)
        null = vh[s < 1e-9 * max(s[0], 1.0)].conj().T  # (D, n0)
        tau = 1.0 / self.rate
        return tau[:, None] * self.kappa * (self.phi @ null)

    def _project(self, g, z):
        """Remove the W-orthogonal projection of g on the zero modes z."""
        if z.shape[1] == 0:
            return g
        gram = parallel.sum_over_ranks(z.T @ (self.w[:, None] * z))
        coef = np.linalg.solve(gram, parallel.sum_over_ranks(z.T @ (self.w[:, None] * g)))
        return g - z @ coef

    def solve(self, drive):
        """Exact solution Λ of Λ/τ − KΛ = drive (N, r), zero modes projected out of drive and Λ."""
        tau = 1.0 / self.rate
        wt = self.w * tau
        G = self.kappa * parallel.sum_over_ranks(self.phi.T @ (wt[:, None] * self.phi))
        A = np.eye(len(G)) - G
        z = self._null_modes(A)
        drive = self._project(drive, z)
        rhs = parallel.sum_over_ranks(self.phi.T @ (wt[:, None] * drive))
        m = scipy.linalg.lstsq(A, rhs, cond=1e-12)[0]
        lam = tau[:, None] * (drive + self.kappa * self.phi @ m)
        return self._project(lam, z)

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
        for b, P in zip(self.blocks, self.P):
            ub, xb = u[:, b], xi[:, :, b]
            Cx = parallel.sum_over_ranks(np.einsum("j,jra,jb->rab", w, xb, ub.conj()))
            out += np.real(np.einsum("nra,ab,nb->nr", xb.conj(), P, ub)
                           - np.einsum("na,rab,nb->nr", ub.conj(), Cx, ub))
        return self.kappa * out

    def project_diagonal_dense(self, xi):
        """Pair-sum reference of :meth:`project_diagonal` (serial; N×N memory)."""
        u, w = self.states.c, self.w
        out = np.zeros(xi.shape[:2])
        for b in self.blocks:
            o = u[:, b].conj() @ u[:, b].T  # ⟨u_i|Π|u_j⟩
            for r in range(xi.shape[1]):
                a = xi[:, r, b].conj() @ u[:, b].T  # ⟨ξ_i|Π|u_j⟩
                c = u[:, b].conj() @ xi[:, r, b].T  # ⟨u_i|Π|ξ_j⟩
                out[:, r] += np.real(((a - c) * o.conj()) @ w)
        return self.kappa * out

    def dense_kernel(self, disorder, model):
        """K_ij = κ ω_ij w_j from explicit pair overlaps (serial reference; N×N memory)."""
        c = self.states.c
        return self.kappa * disorder.overlaps(c, c, disorder.orbital_blocks(model)) * self.w[None, :]


def solve_dense(K, w, drive):
    """Reference solve of (diag(ΣK) − K) Λ = drive with per-component zero modes removed."""
    rate = K.sum(axis=1)
    L = np.diag(rate) - K
    ncomp, label = scipy.sparse.csgraph.connected_components(K > 1e-14 * K.max(), directed=False)
    Z = np.zeros((len(w), ncomp))
    Z[np.arange(len(w)), label] = 1.0

    def project(x):
        coef = (Z.T @ (w[:, None] * x)) / (Z.T @ w)[:, None]
        return x - Z @ coef

    drive = project(drive)
    # symmetric form S = W^½ L W^-½ (null vectors W^½·1_c), deflated to positive definite
    sw = np.sqrt(w)
    S = L * sw[:, None] / sw[None, :]
    S = 0.5 * (S + S.T)
    Zs = sw[:, None] * Z / np.sqrt(Z.T @ w)[None, :]
    S = S + rate.mean() * (Zs @ Zs.T)
    lam = scipy.linalg.solve(S, sw[:, None] * drive, assume_a="pos") / sw[:, None]
    return project(lam), rate


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

    def dense_kernel(self, disorder, model):
        """K_ij from explicit pair overlaps (serial reference)."""
        c = self.states.c
        g = self.G[self.bin][:, self.bin]
        return self.kappa * self.nu * disorder.overlaps(c, c, self.blocks) * g


def window_states(model, mu, grid, shift, window, energies=None, degen_thresh=DEGEN_THRESH, chunk=4096):
    """States of the uniform grid with |ε − μ| < window (this rank's share), as :class:`ShellStates`.

    ``weight`` holds the uniform measure 1/(N_k V_cell) of each state (1/Å³).
    """
    from .mesh import uniform
    grid = np.asarray(grid, int)
    if energies is None:
        energies = model.energies_grid(grid, shift)
    flat = energies.reshape(-1, energies.shape[-1])
    kidx, band = np.nonzero(np.abs(flat - mu) < window)
    part = parallel.my_slice(len(kidx))
    kidx, band = kidx[part], band[part]
    kpts = uniform(grid, shift)
    nu = 1.0 / (np.prod(grid) * model.cell_volume)
    E, V, C, keep = [], [], [], []
    for i in range(0, len(kidx), chunk):
        e, v, u, degenerate = _band_states(model, kpts[kidx[i:i + chunk]], band[i:i + chunk], degen_thresh)
        E.append(e)
        V.append(v)
        C.append(u)
        keep.append(~degenerate)
    nw = model.num_wann
    E, V, C, keep = ((np.concatenate(x) for x in (E, V, C, keep)) if E else
                     (np.zeros(0), np.zeros((0, 3)), np.zeros((0, nw), complex), np.zeros(0, bool)))
    return ShellStates(mu=mu, k=kpts[kidx][keep], band=band[keep], weight=np.full(int(keep.sum()), nu),
                       energy=E[keep], velocity=V[keep], c=C[keep], skipped=int((~keep).sum())), nu
