r"""Band observables that the kinetic machinery carries on its shells, by name.

A kinetic quantity asks its Fermi shells for observables by name (``"velocity"``, ``"spin"``);
this table says how each is read off a band batch (:class:`wkin.bands.BandBatch`):

- ``diagonal``: the band-diagonal values :math:`A_{n\mathbf k}` (nk, nb, 3), SI units;
- ``transition``: the interband map :math:`\mathcal T[A]^{nm}=\hbar A^{nm}/[i(\epsilon_n-\epsilon_m)]`
  (nk, 3, nb, nb), zero inside degenerate groups (spec seed-000 Eqs. 30, 47, 61), in (units of A)·s.

For the velocity, :math:`\hbar v^{nm}=i(\epsilon_n-\epsilon_m)\mathcal A^{nm}` (position-matrix term
included), so :math:`\mathcal T[\mathbf v]=\mathcal R'` is the off-diagonal Berry connection (m).
New observables are one entry here: the orbital moment :math:`\mathbf m=\frac e\hbar\tilde{\mathbf m}` (A·m², "H and A"
form, or the complete one from B, C) of the gyrotropic tensor has no interband map. ``axial`` and ``time_odd`` say how
an observable transforms, which maps shell states onto their symmetry images (:class:`wkin.kinetic.shells.ShellBuilder`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..units import E_CHARGE, HBAR_EVS, VELOCITY_SI


@dataclass(frozen=True)
class BandObservable:
    """How a band observable is read off a :class:`wkin.bands.BandBatch` (module docstring)."""

    name: str
    units: str
    diagonal: Callable
    transition: Callable | None  # None: no interband map (the shells carry no interband vector for it)
    requires: tuple = ()  # model capabilities: "spin"
    axial: bool = False  # a pseudovector (× det S under a rotation S)
    time_odd: bool = True  # odd under time reversal


#: m = (e/ħ) m̃ (:attr:`wkin.bands.BandBatch.orbital_moment`, m̃ in eV·Å²) in A·m²
ORBITAL_MOMENT_SI = E_CHARGE / HBAR_EVS * 1e-20


def _off_group(b):
    return (~b.group)[:, None]


def _spin_transition(b):
    dE = b.energies[:, :, None] - b.energies[:, None, :]  # ε_n − ε_m at [k, n, m]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(_off_group(b), HBAR_EVS * b.S / (1j * np.where(b.group, 1.0, dE))[:, None], 0)


BAND_OBSERVABLES = {
    o.name: o for o in (
        BandObservable("velocity", "m/s", lambda b: b.velocity * VELOCITY_SI,
                       lambda b: 1e-10 * b.berry_connection * _off_group(b)),
        BandObservable("spin", "1", lambda b: b.spin, _spin_transition, requires=("spin",), axial=True),
        BandObservable("orbital_moment", "A*m^2", lambda b: ORBITAL_MOMENT_SI * b.orbital_moment, None, axial=True),
        BandObservable("orbital_moment_full", "A*m^2", lambda b: ORBITAL_MOMENT_SI * b.orbital_moment_full, None,
                       requires=("full_orbital",), axial=True),
    )
}
