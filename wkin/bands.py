r"""Band quantities at a batch of k-points, by Wannier interpolation.

All formulas follow Wang, Yates, Souza, Vanderbilt, PRB 74, 195118 (2006)
(WYSV below). For a batch of k (reduced coordinates) one call diagonalises
H(k) with a batched ``numpy.linalg.eigh`` and rotates every Wannier-gauge
matrix X into the Hamiltonian gauge, :math:`X^{(H)} = U^\dagger X U`.

Units: energies eV; band velocity :math:`\partial\epsilon/\partial k` in eV·Å
(the group velocity is this divided by ħ); Berry connection Å; Berry
curvature Å²; orbital moment in eV·Å² (multiply by e/ħ for A·m², see
:func:`orbital_moment`); spin as Pauli-matrix expectation values (no ħ/2).

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

from .model import CYCLIC, TightBindingModel

#: default threshold (eV) below which two levels are treated as degenerate
DEGEN_THRESH = 1e-4


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
    def berry_curvature(self):
        r"""Berry curvature :math:`\Omega_{n,\gamma}`, (nk, nb, 3) Å² (WYSV Eq. 27, diagonal).

        .. math::

            \Omega_{n\gamma} = \mathrm{Re}\,\bar\Omega_{\gamma,nn}
              - 2\,\mathrm{Re}\sum_m D_{\alpha,nm}\bar A_{\beta,mn}
              + 2\,\mathrm{Re}\sum_m D_{\beta,nm}\bar A_{\alpha,mn}
              + 2\,\mathrm{Im}\sum_m D_{\alpha,nm}D_{\beta,mn},

        with (α, β, γ) cyclic; :math:`\Omega_z=\Omega_{xy}` =
        :math:`i[\langle\partial_x u|\partial_y u\rangle-\langle\partial_y u|\partial_x u\rangle]`.
        """
        D, A = self.D, self.Abar
        out = np.empty(self.energies.shape + (3,))
        for g, (a, b) in enumerate(CYCLIC):
            out[..., g] = (np.real(np.diagonal(self.Obar[:, g], axis1=1, axis2=2))
                           - 2 * np.real(np.einsum("knm,kmn->kn", D[:, a], A[:, b]))
                           + 2 * np.real(np.einsum("knm,kmn->kn", D[:, b], A[:, a]))
                           + 2 * np.imag(np.einsum("knm,kmn->kn", D[:, a], D[:, b])))
        return out

    @property
    def orbital_moment(self):
        r"""Orbital moment in the "H and A" form, (nk, nb, 3) in eV·Å².

        .. math::

            \tilde m_{n\gamma} = \sum_{m\ne n}(\epsilon_m-\epsilon_n)\,
                \mathrm{Im}\big[\mathcal A_{\alpha,nm}\mathcal A_{\beta,mn}\big],
            \qquad \mathbf m_n = \frac{e}{\hbar}\tilde{\mathbf m}_n ,

        which is :math:`\mathbf m_n=-\frac{ie}{2\hbar}\langle\nabla u_n|\times
        (H-\epsilon_n)|\nabla u_n\rangle` (Xiao, Chang, Niu, RMP 82, 1959 (2010),
        Sec. III, electron charge −e) with the completeness relation
        restricted to the Wannier bands: the approximation that needs only H
        and the position matrix A (no ⟨0|H r|R⟩ or ⟨0|r H r|R⟩ matrices).
        Degenerate partners (ε_m = ε_n) do not contribute.
        """
        A = self.berry_connection
        dE = self.energies[:, None, :] - self.energies[:, :, None]  # [k, n, m] = e_m - e_n
        dE = np.where(self.group, 0.0, dE)
        out = np.empty(self.energies.shape + (3,))
        for g, (a, b) in enumerate(CYCLIC):
            out[..., g] = np.einsum("knm,knm->kn", dE, np.imag(A[:, a] * A[:, b].transpose(0, 2, 1)))
        return out

    @property
    def spin(self):
        """Spin expectation values ⟨σ_a⟩ per band, (nk, nb, 3) (Pauli, no ħ/2)."""
        if self.S is None:
            raise ValueError("the model carries no spin matrices (S_R); load a .spn or use a spinful built-in model")
        return np.real(np.diagonal(self.S, axis1=2, axis2=3)).transpose(0, 2, 1)

    def velocity_product_traced(self):
        r"""Group-traced :math:`\sum_{m\in g(n)}V_{a,nm}V_{b,mn}`, (nk, nb, 3, 3) eV²Å².

        Equals :math:`v_{na}v_{nb}` for a non-degenerate band and makes the sum
        over a degenerate group basis-independent.
        """
        Vg = self.V * self.group[:, None]
        return np.real(np.einsum("kanm,kbmn->knab", Vg, Vg))


def solve(model: TightBindingModel, k_red, degen_thresh=DEGEN_THRESH) -> BandBatch:
    """Diagonalise H(k) at a batch of reduced k and rotate all matrices (vectorized)."""
    k_red = np.atleast_2d(np.asarray(k_red, float))
    return solve_fourier(k_red, model.fourier(k_red), degen_thresh)


def solve_fourier(k_red, F, degen_thresh=DEGEN_THRESH) -> BandBatch:
    """Band quantities from Wannier-gauge matrices ``F`` (as returned by ``TightBindingModel.fourier``)."""
    H = F["H"]
    E, U = np.linalg.eigh(0.5 * (H + H.conj().transpose(0, 2, 1)))
    return from_eigenvectors(k_red, F, E, U, degen_thresh)


def from_eigenvectors(k_red, F, E, U, degen_thresh=DEGEN_THRESH) -> BandBatch:
    """Band quantities for given eigenpairs (any phases / basis inside degenerate groups)."""
    V = _rotate(U, F["dH"])
    Abar = _rotate(U, F["A"])
    Obar = _rotate(U, F["Obar"])
    S = _rotate(U, F["S"]) if "S" in F else None
    dE = E[:, None, :] - E[:, :, None]  # [k, n, m] = e_m - e_n
    group = np.abs(dE) <= degen_thresh
    with np.errstate(divide="ignore", invalid="ignore"):
        D = np.where(group[:, None], 0.0, V / np.where(group, 1.0, dE)[:, None])
    return BandBatch(k=k_red, energies=E, U=U, V=V, D=D, Abar=Abar, Obar=Obar, S=S, group=group)
