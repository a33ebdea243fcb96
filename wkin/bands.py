r"""Band quantities at a batch of k-points, by Wannier interpolation.

All formulas follow Wang, Yates, Souza, Vanderbilt, PRB 74, 195118 (2006)
(WYSV below). For a batch of k (reduced coordinates) one call diagonalises
H(k) with a batched ``numpy.linalg.eigh`` and rotates every Wannier-gauge
matrix X into the Hamiltonian gauge, :math:`X^{(H)} = U^\dagger X U`.

Units: energies eV; band velocity :math:`\partial\epsilon/\partial k` in eV·Å
(the group velocity is this divided by ħ); Berry connection Å; Berry
curvature Å²; orbital moment in eV·Å² (multiply by e/ħ for A·m², see
:func:`orbital_moment`); spin as Pauli-matrix expectation values (no ħ/2).

This module owns every eigen-solve of the package (:func:`eigh`, :func:`eigvalsh`): the full band
batches (:func:`solve`), the light Fermi-surface states (:func:`band_states`, H and ∂H only), band
energies at k-points (:func:`energies`) and on whole FFT grids (:func:`energies_grid`), and the band
window (:func:`band_window`).

Degenerate bands: pairs with :math:`|\epsilon_n-\epsilon_m|` below
``degen_thresh`` form a degenerate group. Inside a group the sum-over-states
denominators are not defined; those pairs are dropped from :math:`D_{nm}`
(as in WYSV and WannierBerri), which leaves every trace over a group and every
Fermi-sea sum exact. Per-band values inside a group depend on the choice of
basis in the group; group-traced products are provided where it matters
(:attr:`BandBatch.group`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import parallel
from .model import CYCLIC, Model

#: default threshold (eV) below which two levels are treated as degenerate
DEGEN_THRESH = 1e-4


def _trace_rows(X, Y):
    """Diagonal of the matrix product, Σ_m X_nm Y_mn, for stacks (nk, nb, nb)."""
    return np.sum(X * Y.transpose(0, 2, 1), axis=2)


def _rotate(U, X):
    """U† X U for X of shape (nk, c, nw, nw) and U (nk, nw, nb)."""
    Ud = U.conj().transpose(0, 2, 1)[:, None]
    return Ud @ X @ U[:, None]


@dataclass
class BandBatch:
    """Eigen-solution and Hamiltonian-gauge matrices at a batch of k-points.

    Attributes
    ----------
    k : (nk, 3) reduced coordinates
    energies : (nk, nb) eV, ascending
    U : (nk, nw, nb) eigenvectors (columns)
    V : (nk, 3, nb, nb) eV·Å, :math:`U^\\dagger\\partial_a H U` (WYSV Eq. 24)
    D : (nk, 3, nb, nb) Å, :math:`D_{nm}=V_{nm}/(\\epsilon_m-\\epsilon_n)` off the
        degenerate groups, zero inside them (WYSV Eq. 25)
    Abar : (nk, 3, nb, nb) Å, :math:`U^\\dagger A^{(W)} U`
    Obar : (nk, 3, nb, nb) Å², :math:`U^\\dagger\\bar\\Omega^{(W)} U`
    S : (nk, 3, nb, nb) or None, Pauli matrices in the band basis
    group : (nk, nb, nb) bool, True where two levels are degenerate (diagonal included)
    Bbar : (nk, 3, nb, nb) eV·Å or None, :math:`U^\\dagger B^{(W)}_a U`,
        :math:`B^{(W)}_a=\\langle u|H|i\\partial_au\\rangle` (models with B and C only)
    Cbar : (nk, 3, nb, nb) eV·Å² or None, :math:`U^\\dagger\\tilde C^{(W)}_\\gamma U`,
        :math:`\\tilde C_\\gamma=i(C_{\\alpha\\beta}-C_{\\beta\\alpha})`, :math:`C_{ab}=\\langle i\\partial_au|H|i\\partial_bu\\rangle`
    W : (nk, 3, 3, nb, nb) eV·Å² or None, :math:`U^\\dagger\\partial_a\\partial_bH\\,U` (batches solved with
        ``derivatives``: the Fermi-sea forms, :meth:`inverse_mass` and the other ``*_derivative`` methods)
    dAbar, dObar, dSbar : (nk, 3 (d), 3, nb, nb) or None, :math:`U^\\dagger\\partial_dX^{(W)}U` for X = A (Å²),
        :math:`\\bar\\Omega` (Å³), σ (Å), when asked for
    """

    k: np.ndarray
    energies: np.ndarray
    U: np.ndarray
    V: np.ndarray
    D: np.ndarray
    Abar: np.ndarray
    Obar: np.ndarray
    S: np.ndarray | None
    group: np.ndarray
    Bbar: np.ndarray | None = None
    Cbar: np.ndarray | None = None
    W: np.ndarray | None = None
    dAbar: np.ndarray | None = None
    dObar: np.ndarray | None = None
    dSbar: np.ndarray | None = None

    @property
    def velocity(self):
        r"""Band velocity :math:`\partial\epsilon_n/\partial k_a`, (nk, nb, 3) eV·Å."""
        return np.real(np.diagonal(self.V, axis1=2, axis2=3)).transpose(0, 2, 1)

    @property
    def berry_connection(self):
        r"""Full interband Berry connection :math:`A_{nm}=\bar A_{nm}+iD_{nm}`, (nk, 3, nb, nb) Å.

        :math:`\mathcal A_{nm}=i\langle u_n|\nabla_k u_m\rangle` in the
        Hamiltonian gauge: position-matrix (Wannier) term plus the
        tight-binding term (WYSV Eq. 25). Off-diagonal elements are
        gauge-covariant; inside degenerate groups only :math:`\bar A` is kept.
        """
        return self.Abar + 1j * self.D

    @property
    def berry_curvature_matrix(self):
        r"""Berry curvature inside degenerate groups, (nk, 3, nb, nb) Å², zero between groups.

        WYSV Eq. 27 as a matrix on each degenerate group g (α, β, γ cyclic):

        .. math::

            \Omega_{\gamma} = X + X^\dagger,\quad
            X = \tfrac12\bar\Omega_\gamma - D_\alpha\bar A_\beta + D_\beta\bar A_\alpha
                - iD_\alpha D_\beta - i\bar A^{g}_\alpha\bar A^{g}_\beta ,

        where :math:`\bar A^g` keeps only elements inside the group (D vanishes
        there). Its diagonal for a non-degenerate band is :math:`\Omega_{n\gamma}`
        = :math:`i[\langle\partial_\alpha u|\partial_\beta u\rangle-c.c.]`
        (:math:`\Omega_z=\Omega_{xy}`); traces over a group are gauge-invariant.
        """
        D, A, G = self.D, self.Abar, self.group[:, None]
        Ag = A * G
        out = np.empty_like(self.V)
        for g, (a, b) in enumerate(CYCLIC):
            X = (0.5 * self.Obar[:, g] - D[:, a] @ A[:, b] + D[:, b] @ A[:, a]
                 - 1j * D[:, a] @ D[:, b] - 1j * Ag[:, a] @ Ag[:, b])
            out[:, g] = X + X.conj().transpose(0, 2, 1)
        return out * G

    @property
    def berry_curvature(self):
        r"""Berry curvature :math:`\Omega_{n\gamma}` of each band, (nk, nb, 3) Å².

        The diagonal of :attr:`berry_curvature_matrix` (WYSV Eq. 27), evaluated
        directly in O(nb²) per k:

        .. math::

            \Omega_{n\gamma} = \mathrm{Re}\,\bar\Omega_{\gamma,nn}
              - 2\,\mathrm{Re}\sum_m D_{\alpha,nm}\bar A_{\beta,mn}
              + 2\,\mathrm{Re}\sum_m D_{\beta,nm}\bar A_{\alpha,mn}
              + 2\,\mathrm{Im}\sum_m D_{\alpha,nm}D_{\beta,mn}

        (the in-group :math:`\bar A\bar A` term has no diagonal part).
        """
        D, A = self.D, self.Abar
        out = np.empty(self.energies.shape + (3,))
        for g, (a, b) in enumerate(CYCLIC):
            out[..., g] = (np.real(np.diagonal(self.Obar[:, g], axis1=1, axis2=2))
                           - 2 * _trace_rows(D[:, a], A[:, b]).real
                           + 2 * _trace_rows(D[:, b], A[:, a]).real
                           + 2 * _trace_rows(D[:, a], D[:, b]).imag)
        return out

    @property
    def orbital_moment_matrix(self):
        r"""Orbital moment in the "H and A" form inside degenerate groups, (nk, 3, nb, nb) eV·Å².

        .. math::

            \tilde m_\gamma = \frac{K-K^\dagger}{2i},\qquad
            K_{nm} = \sum_{l\notin g}(\epsilon_l-\epsilon_g)\,\mathcal A_{\alpha,nl}\mathcal A_{\beta,lm},
            \qquad \mathbf m = \frac{e}{\hbar}\tilde{\mathbf m},

        whose diagonal for a non-degenerate band is
        :math:`\tilde m_{n\gamma}=\sum_{l\ne n}(\epsilon_l-\epsilon_n)\,\mathrm{Im}[\mathcal A_{\alpha,nl}\mathcal A_{\beta,ln}]`,
        i.e. :math:`\mathbf m_n=-\frac{ie}{2\hbar}\langle\nabla u_n|\times(H-\epsilon_n)|\nabla u_n\rangle`
        (Xiao, Chang, Niu, RMP 82, 1959 (2010), Sec. III; electron charge −e) with
        the completeness relation restricted to the Wannier bands — the
        approximation that needs only H and the position matrix A (no
        ⟨0|H r|R⟩ or ⟨0|r H r|R⟩ matrices). With the diagonal (tight-binding)
        position matrix it equals −1/2 times WannierBerri's moment (eV·Å²)
        without external terms (docs/outputs.md).
        """
        A = self.berry_connection * (~self.group)[:, None]  # out-of-group elements only
        E = self.energies
        G = self.group[:, None]
        out = np.empty_like(self.V)
        for g, (a, b) in enumerate(CYCLIC):
            K = (A[:, a] * E[:, None, :]) @ A[:, b] - E[:, :, None] * (A[:, a] @ A[:, b])
            out[:, g] = (K - K.conj().transpose(0, 2, 1)) / 2j
        return out * G

    @property
    def orbital_moment(self):
        """Orbital moment of each band, (nk, nb, 3) eV·Å² (diagonal of :attr:`orbital_moment_matrix`)."""
        return np.real(np.diagonal(self.orbital_moment_matrix, axis1=2, axis2=3)).transpose(0, 2, 1)

    @property
    def orbital_moment_full_matrix(self):
        r"""Complete orbital moment inside degenerate groups, (nk, 3, nb, nb) eV·Å² (needs B and C).

        The moment :math:`\tilde m_{n\gamma}=\mathrm{Im}\langle\partial_\alpha u_n|H-\epsilon_n|\partial_\beta u_n\rangle`
        (:math:`\mathbf m=\frac{e}{\hbar}\tilde{\mathbf m}`, the same quantity as :attr:`orbital_moment_matrix`)
        without the completeness approximation: Lopez, Vanderbilt, Thonhauser, Souza, PRB 85, 014435
        (2012), Eqs. 37-39 and 46-56, as postw90 (``berry_get_imfgh_klist``, ``orb = imh − img``) and
        WannierBerri (``morb``) evaluate it. With
        :math:`\langle\partial_\alpha u^{(H)}|H|\partial_\beta u^{(H)}\rangle
        =\bar C_{\alpha\beta}+i\bar B_\alpha^\dagger D_\beta+iD_\alpha\bar B_\beta-D_\alpha ED_\beta` and
        :math:`\mathrm{Im}\langle\partial_\alpha u_n|\partial_\beta u_n\rangle=-\Omega_{n\gamma}/2`, as a matrix on
        each degenerate group g (α, β, γ cyclic, :math:`\bar E_{nm}=(\epsilon_n+\epsilon_m)/2`):

        .. math::

            \tilde m_\gamma = -\tfrac12\,(Y+Y^\dagger) + \tfrac12\,\bar E\circ\Omega_\gamma,\qquad
            Y = \tfrac12\bar{\tilde C}_\gamma - D_\alpha\bar B_\beta + D_\beta\bar B_\alpha
                - iD_\alpha ED_\beta - i\bar A^g_\alpha E\bar A^g_\beta ,

        with Ω the :attr:`berry_curvature_matrix`; the in-group :math:`\bar A^g\bar A^g` terms of Y and
        Ω cancel for an exactly degenerate group. :math:`-2\tilde m` is WannierBerri's ``morb``
        (external terms included). Traces over a group are gauge invariant. For B and C of a
        complete basis (:math:`B=HA`, :math:`C_{ab}=A_aHA_b`) and :math:`\bar\Omega_\gamma=i[A_\alpha,A_\beta]`
        it equals :attr:`orbital_moment_matrix` (docs/outputs.md).
        """
        if self.Bbar is None or self.Cbar is None:
            raise ValueError("the complete orbital moment needs the B(R) and C(R) matrices: build the model with "
                             "TightBindingModel.from_wannier90(seedname, orbital=True) (.chk, .eig, .mmn, .uHu)")
        D, A, B, E, G = self.D, self.Abar, self.Bbar, self.energies, self.group[:, None]
        Ag = A * G
        Ebar = 0.5 * (E[:, :, None] + E[:, None, :])
        Omega = self.berry_curvature_matrix
        out = np.empty_like(self.V)
        for g, (a, b) in enumerate(CYCLIC):
            Y = (0.5 * self.Cbar[:, g] - D[:, a] @ B[:, b] + D[:, b] @ B[:, a]
                 - 1j * (D[:, a] * E[:, None, :]) @ D[:, b] - 1j * (Ag[:, a] * E[:, None, :]) @ Ag[:, b])
            out[:, g] = -0.5 * (Y + Y.conj().transpose(0, 2, 1)) + 0.5 * Ebar * Omega[:, g]
        return out * G

    @property
    def orbital_moment_full(self):
        """Complete orbital moment of each band, (nk, nb, 3) eV·Å² (diagonal of :attr:`orbital_moment_full_matrix`)."""
        return np.real(np.diagonal(self.orbital_moment_full_matrix, axis1=2, axis2=3)).transpose(0, 2, 1)

    @property
    def spin(self):
        """Spin expectation values ⟨σ_a⟩ per band, (nk, nb, 3) (Pauli, no ħ/2)."""
        return np.real(np.diagonal(self.spin_matrix, axis1=2, axis2=3)).transpose(0, 2, 1)

    @property
    def spin_operator(self):
        """Pauli matrices in the band basis, (nk, 3, nb, nb) (all elements)."""
        if self.S is None:
            raise ValueError("the model carries no spin matrices (S_R); load a .spn or use a spinful built-in model")
        return self.S

    @property
    def spin_matrix(self):
        """Pauli matrices in the band basis inside degenerate groups, (nk, 3, nb, nb)."""
        if self.S is None:
            raise ValueError("the model carries no spin matrices (S_R); load a .spn or use a spinful built-in model")
        return self.spin_operator * self.group[:, None]

    @property
    def velocity_matrix(self):
        r"""Physical velocity matrix :math:`\hbar v_{nm}`, (nk, 3, nb, nb) eV·Å: band velocities on the
        diagonal, :math:`i(\epsilon_n-\epsilon_m)\mathcal A_{nm}` off it (position-matrix term included;
        spec seed-000 Eq. 39 and §3 step 1)."""
        dE = self.energies[:, :, None] - self.energies[:, None, :]
        off = 1j * dE[:, None] * self.berry_connection * (~self.group)[:, None]
        return off + self.V * self.group[:, None]

    def interband_commutator(self, X):
        r"""Band-diagonal :math:`i[\mathcal T[X_a],\mathcal R'_b]^{mm}`, (nk, nb, 3, 3), in (units of X)·eV⁻¹·Å.

        :math:`\mathcal T[X]^{nm}=X^{nm}/[i(\epsilon_n-\epsilon_m)]` (ħ left out) and
        :math:`\mathcal R'` the off-diagonal Berry connection, both zero inside
        degenerate groups. For X = ħv this is :math:`\Omega_{ab}` of each band; for
        X = σ it is the intrinsic spin response of spec seed-000 Eq. (57).
        """
        dE = self.energies[:, :, None] - self.energies[:, None, :]  # ε_n − ε_m at [k, n, m]
        inv = np.where(self.group, 0.0, 1.0 / np.where(self.group, 1.0, 1j * dE))
        T = X * inv[:, None]
        R = self.berry_connection * (~self.group)[:, None]
        out = np.empty(self.energies.shape + (3, 3))
        for a in range(3):
            for b in range(3):
                out[..., a, b] = np.real(1j * (_trace_rows(T[:, a], R[:, b]) - _trace_rows(R[:, b], T[:, a])))
        return out

    # ------------------------------------------------------------------ k-derivatives (Fermi-sea forms)
    # A derivative along k_d is taken in the parallel-transport gauge, ∂_dU = U D_d with D_d zero inside the
    # degenerate groups (groups that persist around k: non-degenerate bands, Kramers pairs). There a band
    # matrix X = U†X^(W)U has ∂_dX = (∂_dX^(W))‾ + X D_d − D_d X (the covariant derivative), ∂_d of the
    # energies is the in-group block V_d∘G and ∂_dD_a follows from V_a = D_aE − ED_a off the groups:
    # (∂_dD_a)_nm (ε_m − ε_n) = (∂_dV_a − D_a V_d^G + V_d^G D_a)_nm. Diagonal elements of these are ∂_d of
    # the band quantities; their sums over a degenerate group are gauge invariant, as in
    # WannierBerri's covariant formulas (Tsirkin, npj Comput. Mater. 7, 33 (2021), Sec. 3).

    def _derivative_inputs(self, *names):
        missing = [n for n in ("W",) + names if getattr(self, n) is None]
        if missing:
            raise ValueError("this band batch was solved without the k-derivative matrices "
                             f"({', '.join(missing)}): pass derivatives=... to bands.solve")

    def _covariant(self, X, dX, d):
        """∂_d of band matrices X (nk, c, nb, nb) whose Wannier-gauge derivative rotated is dX (nk, c, nb, nb)."""
        Dd = self.D[:, d][:, None]
        return dX + X @ Dd - Dd @ X

    def _velocity_derivative(self, d):
        """∂_dV_a (nk, 3 (a), nb, nb) eV·Å²."""
        return self._covariant(self.V, self.W[:, :, d], d)

    def _connection_derivative(self, d, dV):
        """∂_dD_a (nk, 3 (a), nb, nb) Å² (zero inside the degenerate groups)."""
        dE = (self.V[:, d] * self.group)[:, None]
        E = self.energies
        with np.errstate(divide="ignore"):
            inv = np.where(self.group, 0.0, 1.0 / np.where(self.group, 1.0, E[:, None, :] - E[:, :, None]))
        return (dV - self.D @ dE + dE @ self.D) * inv[:, None]

    def inverse_mass(self):
        r"""Inverse effective mass :math:`\partial_a\partial_b\epsilon_n` (group-traced), (nk, nb, 3, 3) eV·Å²:

        .. math::

            \partial_a\partial_b\epsilon_n = (\partial_a\partial_bH)^{(H)}_{nn}
              + 2\,\mathrm{Re}\sum_{m\notin g(n)}\frac{V_{a,nm}V_{b,mn}}{\epsilon_n-\epsilon_m}

        (second-order perturbation theory; WannierBerri's ``InvMass``), for the Fermi-sea form of ``ohmic``.
        """
        self._derivative_inputs()
        out = np.empty(self.energies.shape + (3, 3))
        for d in range(3):
            dV = self._velocity_derivative(d)
            out[..., d] = np.real(np.diagonal(dV, axis1=2, axis2=3)).transpose(0, 2, 1)
        return out

    def berry_curvature_derivative(self):
        r""":math:`\partial_d\Omega_{n\gamma}` (group-traced), (nk, nb, 3 (d), 3 (γ)) Å³: the derivative of
        :attr:`berry_curvature` (WYSV Eq. 27) by the product rule, with ∂D, ∂Ā, ∂Ω̄ as in the comment above
        (WannierBerri's ``DerOmega``); the Fermi-sea form of ``berry_dipole``.
        """
        self._derivative_inputs("dAbar", "dObar")
        D, A = self.D, self.Abar
        out = np.empty(self.energies.shape + (3, 3))
        for d in range(3):
            dD = self._connection_derivative(d, self._velocity_derivative(d))
            dA = self._covariant(A, self.dAbar[:, d], d)
            dO = self._covariant(self.Obar, self.dObar[:, d], d)
            for g, (a, b) in enumerate(CYCLIC):
                out[..., d, g] = (np.real(np.diagonal(dO[:, g], axis1=1, axis2=2))
                                  + 2 * np.real(- _trace_rows(dD[:, a], A[:, b]) - _trace_rows(D[:, a], dA[:, b])
                                                + _trace_rows(dD[:, b], A[:, a]) + _trace_rows(D[:, b], dA[:, a])
                                                - 1j * _trace_rows(dD[:, a], D[:, b])
                                                - 1j * _trace_rows(D[:, a], dD[:, b])))
        return out

    def orbital_moment_derivative(self):
        r""":math:`\partial_d\tilde m_{n\gamma}` of the "H and A" moment (group-traced), (nk, nb, 3 (d), 3 (γ))
        eV·Å³: with :math:`\tilde m_{n\gamma}=\mathrm{Im}K_{nn}`, :math:`K=\mathcal A_\alpha E\mathcal A_\beta
        -E\mathcal A_\alpha\mathcal A_\beta` (:attr:`orbital_moment_matrix`, :math:`\mathcal A=\bar A+iD` off the
        groups), differentiated by the product rule; the Fermi-sea form of ``gme_orb``.
        """
        self._derivative_inputs("dAbar")
        off = (~self.group)[:, None]
        A = self.berry_connection * off
        E = self.energies
        out = np.empty(E.shape + (3, 3))
        for d in range(3):
            dD = self._connection_derivative(d, self._velocity_derivative(d))
            dA = (self._covariant(self.Abar, self.dAbar[:, d], d) + 1j * dD) * off
            dE = self.V[:, d] * self.group
            for g, (a, b) in enumerate(CYCLIC):
                AE = A[:, a] * E[:, None, :]
                dK = (_trace_rows(dA[:, a] * E[:, None, :], A[:, b]) + _trace_rows(AE, dA[:, b])
                      + _trace_rows(A[:, a] @ dE, A[:, b]) - _trace_rows(dE, A[:, a] @ A[:, b])
                      - E * (_trace_rows(dA[:, a], A[:, b]) + _trace_rows(A[:, a], dA[:, b])))
                out[..., d, g] = dK.imag
        return out

    def spin_derivative(self):
        r""":math:`\partial_d\langle\sigma_a\rangle_n` (group-traced), (nk, nb, 3 (d), 3 (a)):
        :math:`(\partial_d\sigma_a)^{(H)}_{nn}+2\,\mathrm{Re}\sum_m\sigma_{a,nm}D_{d,mn}`; the Fermi-sea form of
        ``gme_spin``."""
        self._derivative_inputs("dSbar")
        out = np.empty(self.energies.shape + (3, 3))
        for d in range(3):
            dS = self._covariant(self.spin_operator, self.dSbar[:, d], d)
            out[..., d, :] = np.real(np.diagonal(dS, axis1=2, axis2=3)).transpose(0, 2, 1)
        return out

    def velocity_traced(self, X=None):
        r"""Group-traced :math:`\sum_{m\in g(n)}V_{a,nm}X_{b,mn}`, (nk, nb, 3, 3), real part.

        ``X`` is a (nk, 3, nb, nb) band matrix (default: the velocity V itself).
        For a non-degenerate band this is :math:`v_{na}X_{nb,nn}`; summed over a
        degenerate group it is the basis-independent trace of the product.
        """
        Vg = self.V * self.group[:, None]
        X = Vg if X is None else X * self.group[:, None]
        return np.real(np.einsum("kanm,kbmn->knab", Vg, X))


def eigh(H):
    """Eigenvalues (ascending, eV) and eigenvectors (columns) of the Hermitian part of a stack H (nk, nw, nw)."""
    return np.linalg.eigh(0.5 * (H + H.conj().transpose(0, 2, 1)))


def eigvalsh(H):
    """Eigenvalues (ascending) of the Hermitian part of a stack H (nk, nw, nw)."""
    return np.linalg.eigvalsh(0.5 * (H + H.conj().transpose(0, 2, 1)))


@dataclass
class Energies:
    """Band energies only (nk, nb) eV at reduced k (nk, 3): what energy-only integrands need."""

    k: np.ndarray
    energies: np.ndarray


def energies(model: Model, k_red) -> np.ndarray:
    """Band energies (nk, nw) in eV at a batch of k (eigenvalues of H only)."""
    return eigvalsh(model.hamiltonian(np.atleast_2d(np.asarray(k_red, float))))


def energies_grid(model: Model, grid, shift=(0.0, 0.0, 0.0)) -> np.ndarray:
    """Band energies on the whole uniform grid, (N1, N2, N3, nw) eV (FFT of H only).

    Under MPI each rank diagonalises its share of the FFT blocks; the grid is then
    assembled on every rank.
    """
    grid = np.array(grid, int)
    nw = model.num_wann
    _, blocks = model.grid_blocks(grid, None, nw * nw)
    idx, E = [], []
    for k, H in model.hamiltonian_grid(grid, shift, blocks[parallel.my_slice(len(blocks))]):
        idx.append(np.rint(k * grid - np.asarray(shift, float)).astype(int) % grid)
        E.append(eigvalsh(H))
    idx = parallel.gather_concat(np.concatenate(idx) if idx else np.zeros((0, 3), int))
    E = parallel.gather_concat(np.concatenate(E) if E else np.zeros((0, nw)))
    out = np.empty(tuple(grid) + (nw,))
    out[idx[:, 0], idx[:, 1], idx[:, 2]] = E
    return out


def band_window(model: Model, grid=(8, 8, 8)):
    """Lowest and highest band energy (eV) on a coarse Γ-shifted grid, the range Fermi energies may take."""
    g = np.asarray(grid, int)
    i = np.stack(np.meshgrid(*[np.arange(n) for n in g], indexing="ij"), -1).reshape(-1, 3)
    E = energies(model, (i + 0.5) / g)
    return float(E.min()), float(E.max())


def band_states(model: Model, k_red, band, degen_thresh=DEGEN_THRESH):
    """One band per k from H and ∂H only: energy (n,), velocity ∂ε/∂k (n, 3) eV·Å, eigenvector (n, nw),
    and whether the level is degenerate (n,) bool — the light path of Fermi-surface states."""
    H, dH = model.fourier_velocity(k_red)
    e, U = eigh(H)
    r = np.arange(len(band))
    u = U[r, :, band]
    velocity = np.real(np.einsum("ki,kaij,kj->ka", u.conj(), dH, u))
    degenerate = np.sum(np.abs(e - e[r, band][:, None]) <= degen_thresh, axis=1) > 1
    return e[r, band], velocity, u, degenerate


def solve(model: Model, k_red, degen_thresh=DEGEN_THRESH, derivatives=None) -> BandBatch:
    """Diagonalise H(k) at a batch of reduced k and rotate all matrices (vectorized); ``derivatives``
    (names of ``TightBindingModel.DERIVATIVES``) also gives the k-derivative matrices of the Fermi-sea forms."""
    k_red = np.atleast_2d(np.asarray(k_red, float))
    F = model.fourier(k_red) if derivatives is None else model.fourier(k_red, derivatives=derivatives)
    return solve_fourier(k_red, F, degen_thresh)


def solve_fourier(k_red, F, degen_thresh=DEGEN_THRESH) -> BandBatch:
    """Band quantities from Wannier-gauge matrices ``F`` (as returned by ``TightBindingModel.fourier``)."""
    E, U = eigh(F["H"])
    return from_eigenvectors(k_red, F, E, U, degen_thresh)


def from_eigenvectors(k_red, F, E, U, degen_thresh=DEGEN_THRESH) -> BandBatch:
    r"""Band quantities for given eigenpairs (any phases / basis inside degenerate groups).

    ``F`` holds ∂H, Ā and Ω̄ of the centre-phase convention (phases
    :math:`e^{i\mathbf k\cdot(\mathbf R+\tau_j-\tau_i)}`, WannierBerri's "convention I") in the
    basis of H's eigenvectors U (see ``TightBindingModel.fourier``), so D, Ā and Ω̄ come out in
    that convention. The full connection :math:`\bar A+iD` between different levels, and so
    every non-degenerate result, is the same in every convention; only the matrices inside a
    degenerate group (where D is not defined) depend on it.
    """
    V = _rotate(U, F["dH"])
    Abar = _rotate(U, F["A"])
    Obar = _rotate(U, F["Obar"])
    S = _rotate(U, F["S"]) if "S" in F else None
    Bbar = _rotate(U, F["B"]) if "B" in F else None
    Cbar = _rotate(U, F["C"]) if "C" in F else None
    derived = {name: _rotate(U, F[key].reshape(len(E), 9, *F[key].shape[3:])).reshape(F[key].shape)
               for name, key in (("W", "ddH"), ("dAbar", "dA"), ("dObar", "dObar"), ("dSbar", "dS")) if key in F}
    dE = E[:, None, :] - E[:, :, None]  # [k, n, m] = e_m - e_n
    group = np.abs(dE) <= degen_thresh
    with np.errstate(divide="ignore", invalid="ignore"):
        D = np.where(group[:, None], 0.0, V / np.where(group, 1.0, dE)[:, None])
    return BandBatch(k=k_red, energies=E, U=U, V=V, D=D, Abar=Abar, Obar=Obar, S=S, group=group,
                     Bbar=Bbar, Cbar=Cbar, **derived)
