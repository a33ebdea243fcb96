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
``ohmic``         surface  σ_ab = e² τ ∫ Σ (−f′) v_na v_nb                                S/cm
``berry_dipole``  surface  D_ab = ∫ Σ (−f′) (∂_a ε_n) Ω_nb  = ∫ Σ f ∂_a Ω_nb            1
``gme_orb``       surface  K_ab = ∫ Σ (−f′) (∂_a ε_n) m^orb_nb  ("H and A" moment)         A
``gme_orb_full``  surface  the same with the complete moment (needs B(R), C(R))            A
``gme_spin``      surface  K_ab = ∫ Σ (−f′) (∂_a ε_n) m^spin_nb, m^spin = −(g_s/2) μ_B σ   A
``spin_intrinsic`` sea     χ_ab = e ∫ Σ f i[σ_a/(iΔε), R'_b]_nn (seed-000 Eq. 57)       1/(V·m²)
``dos``           surface  Σ_n ∫_BZ (−f′) / V_BZ per cell                                 1/(eV·cell)
``electrons``     sea      Σ_n ∫_BZ f / V_BZ per cell (Wannier bands only)                1/cell
================  =======  ===========================================================  ===========

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
