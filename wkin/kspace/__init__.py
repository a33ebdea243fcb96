"""k-space: uniform and refined meshes, occupations, Fermi-surface quadrature and Brillouin-zone integrals.

:mod:`~wkin.kspace.mesh` (grids, refinement) → :mod:`~wkin.kspace.occupations` (f, −∂f/∂ε) →
:mod:`~wkin.kspace.fermi_surface` (energy shells: tetrahedra or a model's exact quadrature) →
:mod:`~wkin.kspace.integrate` (Fermi-sea / Fermi-surface integrals, irreducible wedge, refinement).
"""
