r"""Physical constants (CODATA, scipy.constants) and the units of wkin's inputs and outputs.

Inputs are in Wannier90's units: energies eV, lengths Å, k in reduced coordinates or Å⁻¹,
temperature K, relaxation times fs. Outputs are SI with one unit per dimension (the registry,
:mod:`wkin.quantities`, names each quantity's unit; every HDF5 dataset carries it):

==========================  =========================  =============================================
dimension                   unit                       quantities
==========================  =========================  =============================================
conductivity                S/cm (:data:`CONDUCTIVITY`)  ahc, ohmic, conductivity_boltzmann, ahe_extrinsic
spin conductivity           (ħ/e) S/cm                 shc
spin density per field      1/(V·m²)                   spin_intrinsic, spin_density
torque density per field    C/m²                       spin_orbit_torque
current per field gradient  A                          gme_orb, gme_orb_full, gme_spin
length                      m                          noa_orb, mean free paths
rate, time                  1/s, s                     scattering_rate, tau_average
energy                      eV                         Fermi energies, frequencies
==========================  =========================  =============================================
"""

from __future__ import annotations

import numpy as np
from scipy.constants import Boltzmann, elementary_charge, hbar, physical_constants

#: e (C) and ħ (J·s)
E_CHARGE = elementary_charge
HBAR = hbar
#: ħ in eV·s
HBAR_EVS = hbar / elementary_charge
#: k_B in eV/K
KB_EV = Boltzmann / elementary_charge
#: Bohr magneton (J/T)
MU_B = physical_constants["Bohr magneton"][0]
#: electron spin g-factor magnitude (CODATA), |g_s| = 2.00231930436
G_SPIN = -physical_constants["electron g factor"][0]

#: ∂ε/∂k in eV·Å → group velocity in m/s
VELOCITY_SI = E_CHARGE * 1e-10 / HBAR
#: Fermi-surface weight 1/(eV·Å³) → 1/(J·m³)
WEIGHT_SI = 1.0 / (E_CHARGE * 1e-30)

#: the unit of every conductivity in wkin's outputs
CONDUCTIVITY = "S/cm"
#: S/m → S/cm
S_PER_M_IN_S_PER_CM = 1e-2

#: Levi-Civita symbol ε_abc
LEVI_CIVITA = np.zeros((3, 3, 3))
for _a, _b, _c in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
    LEVI_CIVITA[_a, _b, _c], LEVI_CIVITA[_b, _a, _c] = 1.0, -1.0
