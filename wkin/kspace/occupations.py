r"""Occupations and Fermi-surface weights: how states are weighted in Brillouin-zone integrals.

Fermi-sea integrals use the occupation :math:`f(\epsilon-\mu)`; Fermi-surface
integrals use :math:`-\partial f/\partial\epsilon` or, at zero temperature, a
normalised broadening of :math:`\delta(\epsilon-\mu)`:

- ``fermi-dirac``: :math:`-\partial f/\partial\epsilon=\frac{1}{4k_BT\cosh^2[(\epsilon-\mu)/2k_BT]}`
  (finite temperature; exact for that temperature);
- ``box``: :math:`\frac{1}{2h}` for :math:`\mu-h<\epsilon\le\mu+h` — the
  histogram that WannierBerri's Fermi-surface calculators use with h equal to
  the Fermi-energy step (the centred difference of the cumulative count);
- ``gaussian``: :math:`e^{-(\epsilon-\mu)^2/2h^2}/(\sqrt{2\pi}h)`.

Energies in eV, temperature in K.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.constants import Boltzmann, elementary_charge

#: k_B in eV/K
KB_EV = Boltzmann / elementary_charge

SURFACE_KINDS = ("fermi-dirac", "box", "gaussian")


def occupation(energies, mu, temperature=0.0):
    """Fermi–Dirac occupation f(ε−μ), shape energies.shape + (len(mu),).

    At T = 0 a state exactly at μ counts as occupied (ε ≤ μ).
    """
    e = np.asarray(energies)[..., None] - np.asarray(mu, float)
    if temperature <= 0:
        return (e <= 0).astype(float)
    return 0.5 * (1.0 - np.tanh(e / (2 * KB_EV * temperature)))


def surface_weight(energies, mu, kind, width):
    """Broadened δ(ε−μ) in 1/eV, shape energies.shape + (len(mu),).

    ``width`` is k_B T in eV for ``fermi-dirac`` and the half-width h for the others.
    """
    if width <= 0:
        raise ValueError("a Fermi-surface integral needs a positive temperature or broadening")
    e = np.asarray(energies)[..., None] - np.asarray(mu, float)
    if kind == "fermi-dirac":
        x = np.clip(e / (2 * width), -350, 350)
        return 1.0 / (4 * width * np.cosh(x) ** 2)
    if kind == "box":
        return ((e > -width) & (e <= width)) / (2 * width)
    if kind == "gaussian":
        return np.exp(-0.5 * (e / width) ** 2) / (np.sqrt(2 * np.pi) * width)
    raise ValueError(f"unknown Fermi-surface weight {kind!r}; choose one of {SURFACE_KINDS}")


@dataclass
class Occupations:
    """How states are weighted: Fermi energies (eV), temperature (K), surface broadening."""

    mu: np.ndarray
    temperature: float = 0.0
    surface_kind: str = "box"
    broadening: float | None = None  # eV; None → the Fermi-energy step

    def sea(self, energies):
        return occupation(energies, self.mu, self.temperature)

    @property
    def exact_fermi_sea(self) -> bool:
        """True at T = 0 without a broadening: Fermi-surface quantities that have a Fermi-sea form
        (:attr:`wkin.kspace.integrate.Observable.sea_form`) use it, exact at each μ with no width; a
        ``broadening`` asks for the windowed (broadened-δ) forms instead."""
        return self.temperature <= 0 and self.broadening is None

    def surface_width(self):
        """(kind, width in eV) of the Fermi-surface weight: ("fermi-dirac", k_BT) at T > 0; at T = 0 the
        ``surface_kind`` with ``broadening`` or, without it, the (even) step of the Fermi energies."""
        if self.temperature > 0:
            return "fermi-dirac", KB_EV * self.temperature
        if self.broadening is not None:
            return self.surface_kind, float(self.broadening)
        if len(self.mu) < 2:
            raise ValueError("Fermi-surface quantities at T = 0 need [fermi] broadening, "
                             "a temperature, or at least two Fermi energies")
        step = np.diff(self.mu)
        if not (np.all(step > 0) and np.allclose(step, step[0], rtol=1e-6)):
            raise ValueError("Fermi-surface quantities at T = 0 with unevenly spaced Fermi energies need "
                             "[fermi] broadening (or a temperature)")
        return self.surface_kind, float(step[0])

    def surface(self, energies):
        return surface_weight(energies, self.mu, *self.surface_width())
