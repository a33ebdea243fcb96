r"""Crystal and magnetic point-group symmetry (spglib), allowed tensor forms, irreducible k-grids.

A leaf of the package: it imports nothing from wkin's integration, response or model code, and
works on any object with ``lattice`` and ``atoms`` (a model). Modules, bottom up:
:mod:`~wkin.symmetry.operations` (parsing and labels of point operations),
:mod:`~wkin.symmetry.tensors` (tensor kinds, projectors, allowed forms),
:mod:`~wkin.symmetry.symbols` (Hermann–Mauguin symbols), :mod:`~wkin.symmetry.groups`
(spglib groups), :mod:`~wkin.symmetry.kgrid` (irreducible k-grids),
:mod:`~wkin.symmetry.report` (``wkin symmetry``).

Conventions
-----------
* Rotations are 3×3 matrices. "Cartesian" ones act on Cartesian vectors in the
  frame of the model's lattice (rows of ``model.lattice``, Å); "reduced" ones
  are spglib's integer matrices W acting on reduced positions, x' = W x. The two
  are related by :math:`R = L^T W L^{-T}` with ``L = model.lattice``.
* An operation is a pair ``(R, time_reversal)``: a point-group rotation R
  (proper or improper) alone (unitary) or combined with time reversal T
  (antiunitary, a "primed" element).
* Magnetic point group of a ferromagnet with magnetization **m** (an axial
  vector, Cartesian): a crystal rotation R maps **m** to :math:`\det(R)\,R\mathbf m`.
  If that is **m**, R is kept as a unitary operation; if it is −**m**, R is kept
  combined with T; otherwise it is dropped. Without magnetization the group is
  the grey group G1' (every R with and without T). Per-atom moments
  (``magnetization`` of shape (nat, 3)) are handled by spglib's magnetic
  symmetry search (antiferromagnets; a pure-translation-times-T operation
  makes the point group grey).
* Tensor kinds ``polar<n>_<even|odd>`` and ``axial<n>_<even|odd>`` (rank n = 0…4):
  under (R, T?) a tensor transforms as

  .. math::

      T'_{i_1\dots i_n} = \eta\,[\det R]^{a}\,R_{i_1j_1}\cdots R_{i_nj_n}T_{j_1\dots j_n},

  with a = 1 for axial tensors, 0 for polar ones, and η = −1 for a time-odd
  tensor under an antiunitary operation (+1 otherwise). Invariance under the
  group gives the allowed form; the group average of these maps is the
  orthogonal projector onto the allowed subspace (:func:`symmetrize`).

  ==================  ===================================================
  kind                examples
  ==================  ===================================================
  ``polar2_even``     Ohmic σ (symmetric part), ``ohmic``
  ``polar2_odd``      anomalous Hall σ (antisymmetric part), ``ahc``
  ``axial2_even``     gyrotropic K (``gme_orb``, ``gme_spin``), Berry-curvature dipole D
  ``axial2_odd``      magnetoelectric α
  ``polar3_even``     second-order (nonlinear) conductivity, piezoelectric-like
  ``polar3_odd``      time-odd rank-3 response (e.g. nonlinear Drude in magnets)
  ``axial1_odd``      magnetization (allowed directions of a ferromagnetic moment)
  ==================  ===================================================

* k-points: under (R, T?) Bloch vectors map as k → R k, and k → −R k when T is
  present; in reduced coordinates (fractions of the reciprocal vectors)
  :math:`\mathbf k \to \pm W^{-T}\mathbf k`.

Symmetry is that of the structure (``model.atoms``, from the ``.win``); the
Wannier Hamiltonian is assumed to respect it (true for symmetry-adapted or
well-converged Wannier functions; see ``docs/symmetry.md``).
"""


from .groups import (SYMPREC, CrystalSymmetry, SpaceGroupOperations, crystal_symmetry, ferromagnetic_selection, space_group,
                     space_group_operations, to_cartesian, unique_rotations)
from .kgrid import IrreducibleGrid, irreducible_grid
from .operations import as_operations, operation_label
from .report import describe
from .symbols import point_group_symbol
from .tensors import CONDUCTIVITY, TensorForm, allowed_components, forbidden_fraction, parse_kind, projector, symmetrize

__all__ = ["CONDUCTIVITY", "SYMPREC", "CrystalSymmetry", "IrreducibleGrid", "SpaceGroupOperations", "TensorForm",
           "allowed_components", "as_operations", "crystal_symmetry", "describe", "ferromagnetic_selection",
           "forbidden_fraction", "irreducible_grid", "operation_label", "parse_kind", "point_group_symbol",
           "projector", "space_group", "space_group_operations", "symmetrize", "to_cartesian", "unique_rotations"]
