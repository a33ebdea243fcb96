r"""Band integrands of the intrinsic and constant-relaxation-time responses (Brillouin-zone integrals).

Every observable here has the form

.. math::

    X(\mu) = c\;\frac{1}{V_{\rm cell}}\sum_{\mathbf k} w_{\mathbf k}\sum_n g(\epsilon_{n\mathbf k}-\mu)\,
             F_n(\mathbf k),\qquad \sum_{\mathbf k} w_{\mathbf k}=1,

i.e. :math:`c\int\! d^3k/(2\pi)^3\sum_n g\,F_n`, with ``g`` the occupation
f (Fermi sea) or :math:`-\partial f/\partial\epsilon` (Fermi surface, see
:mod:`wkin.kspace.occupations`). The functions below give :math:`F_n` for a
:class:`wkin.bands.BandBatch` (shape (nk, nb, ...)) and the constants c; the registry
(:mod:`wkin.quantities`) pairs them with occupations, units and tensor kinds. In the table :math:`v_n=\hbar^{-1}\partial\epsilon_n/\partial\mathbf k`
is the group velocity; the code works with :math:`\partial\epsilon/\partial k` in eV·Å
and puts the ħ into the prefactor. Electron charge is −e (e > 0); :math:`\sigma_{ab}=j_a/E_b`.

================  =======  ===========================================================  ===========
name              kind     formula                                                      units
================  =======  ===========================================================  ===========
``ahc``           sea      σ_ab = −(e²/ħ) ε_abγ ∫ Σ f Ω_nγ                                S/cm
``ohmic``         surface  σ_ab = e² τ ∫ Σ (−f′) v_na v_nb  = (e²τ/ħ²) ∫ Σ f ∂_a∂_b ε_n    S/cm
``berry_dipole``  surface  D_ab = ∫ Σ (−f′) (∂_a ε_n) Ω_nb  = ∫ Σ f ∂_a Ω_nb            1
``gme_orb``       surface  K_ab = ∫ Σ (−f′) (∂_a ε_n) m^orb_nb = ∫ Σ f ∂_a m^orb_nb       A
``gme_orb_full``  surface  the same with the complete moment (needs B(R), C(R))            A
``gme_spin``      surface  K_ab = ∫ Σ (−f′) (∂_a ε_n) m^spin_nb = ∫ Σ f ∂_a m^spin_nb     A
``spin_intrinsic`` sea     χ_ab = e ∫ Σ f i[σ_a/(iΔε), R'_b]_nn (seed-000 Eq. 57)       1/(V·m²)
``dos``           surface  Σ_n ∫_BZ (−f′) / V_BZ per cell                                 1/(eV·cell)
``electrons``     sea      Σ_n ∫_BZ f / V_BZ per cell (Wannier bands only)                1/cell
================  =======  ===========================================================  ===========

The surface kinds have two forms. At T = 0 without ``[fermi] broadening`` the Fermi-sea one (the
integral of f times the k-derivative, by parts; WannierBerri's ``*_FermiSea`` calculators) is used:
exact at each μ with no width, so the value at μ does not depend on the other Fermi energies asked
for. With a temperature (−f′ exact) or a ``broadening`` (a broadened δ, "windowed") the Fermi-surface
form is used. ``dos`` and ``gme_orb_full`` have the surface form only (docs/outputs.md explains why
the complete moment has no per-band Fermi-sea form that converges).

References: AHC — WYSV, PRB 74, 195118 (2006) Eq. 32 (sign: σ_xy = −(e²/ħ)∫fΩ_z);
Berry-curvature dipole — Sodemann & Fu, PRL 115, 216806 (2015);
gyrotropic K — Zhong, Moore & Souza, PRL 116, 077201 (2016) and Tsirkin, Puente,
Souza, PRB 97, 035158 (2018) Eq. 12 (the postw90/WannierBerri convention);
orbital moment in the "H and A" approximation, see
:attr:`wkin.bands.BandBatch.orbital_moment`; complete orbital moment (``gme_orb_full``) —
Lopez, Vanderbilt, Thonhauser, Souza, PRB 85, 014435 (2012), see
:attr:`wkin.bands.BandBatch.orbital_moment_full`.
"""

from __future__ import annotations

import numpy as np

from ..units import E_CHARGE, G_SPIN, HBAR, LEVI_CIVITA, MU_B

#: σ_ab = c ∫ Σ f ε_abγ Ω_γ: −e²/ħ, Ω/V_cell in Å⁻¹ → cm⁻¹ (S/cm)
AHC_PREFACTOR = -E_CHARGE**2 / HBAR * 1e8
#: K = c ∫ Σ (−f′) ∂_aε m_b with m^orb = (e/ħ) m̃ (m̃ in eV·Å²): e²/ħ (A)
GME_ORB_PREFACTOR = E_CHARGE**2 / HBAR
#: K = c ∫ Σ (−f′) ∂_aε ⟨σ_b⟩ with m^spin = −(g_s/2) μ_B σ: Å⁻² → m⁻² (A)
GME_SPIN_PREFACTOR = -0.5 * G_SPIN * MU_B * 1e20
#: e·(Å/eV) per state = 1e-10 m/V; per Å³ cell volume → 1/(V·m²)
SPIN_INTRINSIC_PREFACTOR = 1e20


def ohmic_prefactor(tau_fs):
    """σ_ab = c ∫ Σ (−f′) ∂_aε ∂_bε: e³ τ/ħ² (one e converts eV → J), τ in fs, per Å → per cm (S/cm)."""
    return E_CHARGE**3 * tau_fs * 1e-15 / HBAR**2 * 1e8


def hall_curvature(b):
    """ε_abγ Ω_nγ (nk, nb, 3, 3) Å², so that σ_ab = −(e²/ħ) ∫ Σ f ε_abγ Ω_γ."""
    return np.einsum("abg,kng->knab", LEVI_CIVITA, b.berry_curvature)


def inverse_mass(b):
    """∂_a∂_bε (group-traced), (nk, nb, 3, 3) eV·Å²: the Fermi-sea form of ``ohmic``, ∫(−f′)∂_aε∂_bε = ∫ f ∂_a∂_bε."""
    return b.inverse_mass()


def curvature_derivative(b):
    """∂_aΩ_b (group-traced), (nk, nb, 3, 3) Å³: the Fermi-sea form of ``berry_dipole``."""
    return b.berry_curvature_derivative()


def orbital_moment_derivative(b):
    r"""The Fermi-sea form of ``gme_orb`` as (G0, G1), G = G0 + μ G1 (eV·Å³):

    .. math::

        K_{ab}=c\int_k\sum_n f_n\,\partial_a\big[\tilde m_{n b}-(\epsilon_n-\mu)\,\Omega_{n b}\big].

    The added term vanishes at T = 0 (by parts it is :math:`\int(-f')\partial_a\epsilon\,(\epsilon-\mu)\Omega` and
    ε = μ on the Fermi surface), and it makes the integrand
    :math:`-\tfrac12\partial_a(\tilde H+\epsilon\Omega)+\mu\,\partial_a\Omega` a sum in which the terms of pairs of
    occupied bands cancel (in :math:`\tilde m_n` alone they add, and only the Brillouin-zone integral removes
    them: near avoided crossings below μ that converges slowly on a grid). This is WannierBerri's
    ``GME_orb_FermiSea`` (``DerMorb`` − 2μ ``DerOmega``, Tsirkin, npj Comput. Mater. 7, 33 (2021)).
    """
    dO = b.berry_curvature_derivative()
    return b.orbital_moment_derivative() - (velocity_curvature(b) + b.energies[..., None, None] * dO), dO


def spin_derivative(b):
    """∂_a⟨σ_b⟩ (group-traced), Å: the Fermi-sea form of ``gme_spin``."""
    return b.spin_derivative()


def velocity_velocity(b):
    """∂_aε ∂_bε (group-traced at degeneracies), (nk, nb, 3, 3) eV²·Å²."""
    return b.velocity_traced()


def velocity_curvature(b):
    """∂_aε Ω_b (group-traced), (nk, nb, 3, 3) eV·Å³: the Berry-curvature dipole integrand."""
    return b.velocity_traced(b.berry_curvature_matrix)


def velocity_orbital_moment(b):
    """∂_aε m̃_b with the "H and A" orbital moment (group-traced), eV²·Å³."""
    return b.velocity_traced(b.orbital_moment_matrix)


def velocity_orbital_moment_full(b):
    """∂_aε m̃_b with the complete orbital moment (needs B(R), C(R)), eV²·Å³."""
    return b.velocity_traced(b.orbital_moment_full_matrix)


def velocity_spin(b):
    """∂_aε ⟨σ_b⟩ (group-traced), eV·Å."""
    return b.velocity_traced(b.spin_matrix)


def spin_connection_commutator(b):
    """i[T[σ_a], R'_b]^{nn} (nk, nb, 3, 3) eV⁻¹·Å: the intrinsic spin response, spec seed-000 Eq. (57)."""
    return b.interband_commutator(b.spin_operator)


def ones(b):
    """1 per band (nk, nb): the density of states / electron count."""
    return np.ones(b.energies.shape)


def energy_weighted_dipole(b):
    """ε_n ∂_aε Ω_b (group-traced), eV²·Å³: with :data:`GME_ORB_PREFACTOR` it converts wkin's ``gme_orb`` to
    WannierBerri's convention, which uses μ instead of ε_n in the (ε_n − μ)Ω term of the orbital moment on the
    Fermi surface: K^WB = K − (∫(−f′) ε ∂ε Ω − μ D) e²/ħ (docs/outputs.md, "gme_orb")."""
    return b.velocity_traced(b.berry_curvature_matrix * b.energies[:, None, :, None])

