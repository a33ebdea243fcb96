r"""Intrinsic and constant-relaxation-time responses as Brillouin-zone integrals.

Every observable here has the form

.. math::

    X(\mu) = c\;\frac{1}{V_{\rm cell}}\sum_{\mathbf k} w_{\mathbf k}\sum_n g(\epsilon_{n\mathbf k}-\mu)\,
             F_n(\mathbf k),\qquad \sum_{\mathbf k} w_{\mathbf k}=1,

i.e. :math:`c\int\! d^3k/(2\pi)^3\sum_n g\,F_n`, with ``g`` the occupation
f (Fermi sea) or :math:`-\partial f/\partial\epsilon` (Fermi surface, see
:mod:`wkin.fermi`). In the table :math:`v_n=\hbar^{-1}\partial\epsilon_n/\partial\mathbf k`
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

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.constants import elementary_charge as E_CHARGE, hbar as HBAR, physical_constants


MU_B = physical_constants["Bohr magneton"][0]
#: electron spin g-factor magnitude (CODATA), |g_s| = 2.00231930436
G_SPIN = -physical_constants["electron g factor"][0]

LEVI_CIVITA = np.zeros((3, 3, 3))
for _a, _b, _c in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
    LEVI_CIVITA[_a, _b, _c], LEVI_CIVITA[_b, _a, _c] = 1.0, -1.0


@dataclass(frozen=True)
class Observable:
    """A Brillouin-zone integral: band integrand, occupation kind, prefactor and units."""

    name: str
    kind: str  # "sea" or "surface"
    integrand: Callable  # BandBatch -> array  # (nk, nb, *shape)
    shape: tuple
    units: str
    per_volume: bool
    description: str
    prefactor: Callable[[dict], float]
    axis: tuple | None = None  # (name, values, units) of an extra axis after the Fermi energy, e.g. frequency
    energies_only: bool = False  # the integrand needs the band energies only (no eigenvectors, no derivatives)


OBSERVABLES = {
    "ahc": Observable(
        "ahc", "sea", lambda b: np.einsum("abg,kng->knab", LEVI_CIVITA, b.berry_curvature), (3, 3),
        "S/cm", True, "anomalous Hall conductivity sigma_ab = j_a/E_b (Fermi sea, intrinsic)",
        lambda p: -E_CHARGE**2 / HBAR * 1e8),
    "ohmic": Observable(
        "ohmic", "surface", lambda b: b.velocity_traced(), (3, 3),
        "S/cm", True, "Ohmic conductivity sigma_ab with constant relaxation time tau",
        lambda p: E_CHARGE**3 * p["tau_fs"] * 1e-15 / HBAR**2 * 1e8),
    "berry_dipole": Observable(
        "berry_dipole", "surface", lambda b: b.velocity_traced(b.berry_curvature_matrix), (3, 3),
        "dimensionless", True, "Berry-curvature dipole D_ab = int f d_a Omega_b",
        lambda p: 1.0),
    "gme_orb": Observable(
        "gme_orb", "surface", lambda b: b.velocity_traced(b.orbital_moment_matrix), (3, 3),
        "A", True, "gyrotropic magnetoelectric tensor K_ab, orbital part",
        lambda p: E_CHARGE**2 / HBAR),
    "gme_orb_full": Observable(
        "gme_orb_full", "surface", lambda b: b.velocity_traced(b.orbital_moment_full_matrix), (3, 3),
        "A", True, "gyrotropic magnetoelectric tensor K_ab, orbital part with the complete orbital moment "
        "(needs B(R), C(R): TightBindingModel.from_wannier90(..., orbital=True))",
        lambda p: E_CHARGE**2 / HBAR),
    "gme_spin": Observable(
        "gme_spin", "surface", lambda b: b.velocity_traced(b.spin_matrix), (3, 3),
        "A", True, "gyrotropic magnetoelectric tensor K_ab, spin part (g_s = 2.0023)",
        lambda p: -0.5 * G_SPIN * MU_B * 1e20),
    "spin_intrinsic": Observable(
        "spin_intrinsic", "sea", lambda b: b.interband_commutator(b.spin_operator), (3, 3),
        "1/(V*m^2)", True, "intrinsic (Fermi-sea) spin density <sigma_a> per unit field E_b, "
        "spec seed-000 Eq. (57); multiply by hbar/2 for angular momentum",
        lambda p: 1e20),  # e·(Å/eV) per state = 1e-10 m/V; per Å³ cell volume → 1/(V·m²)
    "dos": Observable(
        "dos", "surface", lambda b: np.ones(b.energies.shape), (),
        "1/(eV*cell)", False, "density of states of the Wannier bands per unit cell",
        lambda p: 1.0, energies_only=True),
    "electrons": Observable(
        "electrons", "sea", lambda b: np.ones(b.energies.shape), (),
        "1/cell", False, "number of electrons in the Wannier bands below mu, per unit cell",
        lambda p: 1.0, energies_only=True),
}


def lookup(names):
    """Observables for a list of names (or :class:`Observable` objects), with a clear error for unknown ones."""
    unknown = [n for n in names if not isinstance(n, Observable) and n not in OBSERVABLES]
    if unknown:
        raise KeyError(f"unknown quantity {unknown[0]!r}; available: {', '.join(OBSERVABLES)}")
    return [n if isinstance(n, Observable) else OBSERVABLES[n] for n in names]
