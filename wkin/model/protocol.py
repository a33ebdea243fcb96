"""The model interface: what band, k-space and kinetic code may use of a model.

Two implementations: :class:`wkin.model.TightBindingModel` (Wannier90 files, built-in lattice
models) and the continuum models of :mod:`wkin.model.continuum` (validation against closed
forms). Code asks a model what it can do through these attributes and methods only — never
with ``hasattr``.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class Model(Protocol):
    """A Hamiltonian H(k) with its derivative, position and spin matrices at any batch of k.

    k is in reduced coordinates (fractions of the reciprocal vectors) for lattice models and
    Cartesian (1/Å) for continuum models; energies in eV, lengths in Å.
    """

    name: str
    lattice: np.ndarray  #: (3, 3) rows a1, a2, a3 (Å)
    centres: np.ndarray  #: (nw, 3) Wannier centres (Å), used to group orbitals by site
    atoms: Any  #: (reduced positions, atomic numbers) of the crystal, or None
    symmetrization: dict | None  #: how the Hamiltonian was symmetrized, or None
    position_source: str  #: where the position matrix came from, or the diagonal approximation
    seedname: str | None  #: the Wannier90 seedname the model was read from, or None

    @property
    def num_wann(self) -> int: ...

    @property
    def cell_volume(self) -> float: ...

    @property
    def has_spin(self) -> bool: ...

    @property
    def has_full_orbital(self) -> bool: ...

    def fourier(self, k: np.ndarray, derivatives=None) -> dict:
        """Wannier-gauge matrices at k: ``H``, ``dH``, ``A``, ``Obar`` (+ ``S``, ``B``, ``C`` when present; + the
        k-derivatives ``ddH``, ``dA``, ``dObar``, ``dS`` of the Fermi-sea forms when ``derivatives`` names them —
        lattice models only)."""

    def fourier_velocity(self, k: np.ndarray) -> tuple:
        """H(k) (nk, nw, nw) and ∂H/∂k (nk, 3, nw, nw) only."""

    def hamiltonian(self, k: np.ndarray) -> np.ndarray:
        """H(k) (nk, nw, nw) only."""

    def exact_sampler(self) -> Any:
        """An exact quadrature of energy shells and of the Fermi sea
        (:class:`wkin.kspace.fermi_surface.ShellSampler`), or None when shells come from tetrahedra on a k-grid."""


class GridModel(Model, Protocol):
    """A lattice model whose matrices are evaluated on uniform k-grids by FFT (Brillouin-zone integrals)."""

    @property
    def recip_lattice(self) -> np.ndarray: ...

    def grid_blocks(self, grid, budget_points=None, ncomp=None, derivatives=None) -> tuple:
        """FFT sub-grid size and the list of block offsets of :meth:`fourier_grid`."""

    def fourier_grid(self, grid, shift=(0.0, 0.0, 0.0), blocks=None, budget_points=None, derivatives=None):
        """Yield (k, matrices of :meth:`fourier`) on FFT sub-grids of a uniform grid."""

    def hamiltonian_grid(self, grid, shift=(0.0, 0.0, 0.0), blocks=None):
        """Yield (k, H(k)) on FFT sub-grids of a uniform grid."""
