r"""Symmetrization of a Wannier tight-binding model with the crystal's (magnetic) space group.

Wannier functions from a Wannier90 run respect the crystal symmetry only
approximately (disentanglement, finite k-mesh, maximal localization, rounding of
the written files). The model then breaks the symmetry by a small amount, the
forbidden tensor components are not zero, and a Brillouin-zone integral over the
irreducible wedge (:func:`wkin.kspace.integrate.integrate` with ``symmetry``) differs from the
full-mesh one by about that amount. :func:`symmetrized_model` projects the model
onto the symmetric ones, as WannierBerri's ``System_R.symmetrize`` / ``SymWann``
do (``wannierberri.symmetry.sym_wann_2.SymWann.symmetrize`` in WannierBerri 26.10: the
group average of the matrices rotated by the Wannier-function representation):

.. math::

    X^{\rm sym}(\mathbf R) = \frac{1}{|G|}\sum_{g\in G} X^{g}(\mathbf R),\qquad
    H^{g}_{ij}(\mathbf R) = \Big[D(g)^\dagger\, H(W\mathbf R + \mathbf L_b - \mathbf L_a)\, D(g)\Big]^{(*)}_{ij},

for the Wannier functions i on site a and j on site b. g = {W|v} (possibly
combined with time reversal T) maps site a to site π(a) plus the lattice vector
**L**\ :sub:`a` (W **p**\ :sub:`a` + **v** = **p**\ :sub:`π(a)` + **L**\ :sub:`a`); the
block D(g) of the functions on π(a) and a is the rotation of the orbitals of the
projections (real spherical harmonics or hybrids in their local axes,
Wannier90 user guide Tables 3.1–3.2) times, with spinors, the SU(2) rotation of
the proper part of the rotation, and times −iσ\ :sub:`y` (and complex
conjugation, ``(*)``) for an antiunitary element g·T of the magnetic group.
Position and spin matrices transform as vectors:

.. math::

    A^{g}(\mathbf R) = S^{-1}\Big(\big[D^\dagger A(W\mathbf R+\mathbf L_b-\mathbf L_a) D\big]^{(*)}
    + (\mathbf L_a - \mathbf v)\,\delta_{ab}\delta_{\mathbf R0}\Big),\qquad
    \boldsymbol\sigma^{g}(\mathbf R) = \pm\det(S)\,S^{-1}\big[D^\dagger\boldsymbol\sigma(\ldots)D\big]^{(*)}

(S: the Cartesian rotation; − for antiunitary elements: the spin is time-odd).
The group average is a projection: the result is invariant under every g, so
H(k) at g·k is unitarily equivalent to H(k) (same bands), and every
Brillouin-zone integral over the irreducible wedge, weighted and symmetrized,
equals the full-mesh integral to rounding.

The group: spglib's space group of ``model.atoms`` (with translations), doubled
by T without magnetization (grey group), or its magnetic subgroup for a
ferromagnet (Cartesian **m**: R is kept if det(R) R **m** = **m**, kept with T if
it is −**m**) or for per-atom moments (spglib's magnetic symmetry), as in
:func:`wkin.symmetry.crystal_symmetry`.

Why wkin's own implementation rather than driving WannierBerri's
``System_R.symmetrize``: that needs the ``irrep`` package (not a dependency of
wkin), ignores the local axes ``z=…:x=…`` of the ``.win`` projections (its
``Projection`` objects are made with ``rotate_basis=False``; Te's p orbitals use a
different local x axis on each atom), and may reorder the Wannier functions.
Here the orbital representation is obtained numerically from the angular
functions of the projections in their local frames, checked to be unitary, and
the order of the functions is Wannier90's (:func:`wkin.io.wannier90.win_projections`).
Assumptions: each Wannier function transforms like its projection (real orbital
times a spinor ↑/↓ along z, Wannier90's interlaced spinor order), and its centre
is closer to its projection site than to any other image of that site.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..symmetry import SYMPREC, space_group_operations
from .representation import (angular_function, idealized_lattice, orbital_representation, projections_from_win,
                             wannier_representation)
from .tight_binding import TightBindingModel

__all__ = ["symmetrized_model", "orbital_representation", "angular_function",
           "projections_from_win", "idealized_lattice"]


# ---------------------------------------------------------------------------- symmetrizer
def _key(R, offset):
    """Integer keys of lattice vectors (for look-up)."""
    Rs = np.asarray(R, np.int64) + offset
    return (Rs[..., 0] * 4096 + Rs[..., 1]) * 4096 + Rs[..., 2]


def symmetrized_model(model, projections, magnetization=None, symprec=SYMPREC, symmetry=None, name=None):
    r"""The model averaged over the (magnetic) space group: exactly symmetric, closest to ``model``.

    Parameters
    ----------
    model : TightBindingModel with ``atoms`` (the structure from the ``.win``)
    projections : the ``.win`` path or seedname, a :func:`wkin.io.wannier90.read_win`
        dict, or the list of :func:`wkin.io.wannier90.win_projections` (one entry per
        Wannier function, Wannier90 order)
    magnetization : None (time reversal is a symmetry), Cartesian 3-vector (ferromagnet;
        with spinors the SU(2) spin rotations are used), or (nat, 3) per-atom moments
    symprec : spglib's tolerance (Å)
    symmetry : precomputed :class:`SpaceGroupOperations` (then magnetization/symprec unused)
    name : name of the new model (default: the model's)

    Returns
    -------
    TightBindingModel with H(R) (and A(R), S(R) when present) replaced by their group
    averages (equation in the module docstring), on the union of the R vectors
    that the operations generate, and the lattice vectors idealized to the group
    (:func:`idealized_lattice`). Its attribute ``symmetrization`` (a dict) records the
    number of operations and the largest change of each matrix (``max_change_H`` eV,
    ``max_change_A`` Å, ``max_change_S``; ``max_abs_H``; ``lattice_change`` Å), i.e. how
    much the input broke the symmetry.

    Raises
    ------
    ValueError when the model has no atoms, the projections do not match the model
    (count, centres), or the projected orbitals are not mapped onto the orbitals of the
    image site by some operation (e.g. ``random`` projections, or orbitals that do not
    form a representation of the site symmetry).
    """
    if not isinstance(projections, list):
        projections = projections_from_win(projections)
    ops = symmetry if symmetry is not None else space_group_operations(model, magnetization, symprec)
    rep = wannier_representation(model, projections, ops, symprec)
    ops, lattice, blocks = rep.ops, rep.lattice, rep.blocks
    perms, shifts, Ds = rep.perms, rep.shifts, rep.D
    nsite = len(blocks)

    # new R set: every image of the old ones
    R_old = np.asarray(model.R, int)
    new = {tuple(r) for r in R_old.tolist()}
    for W, L in zip(ops.W, shifts):
        Winv = np.round(np.linalg.inv(W)).astype(int)
        for a in range(nsite):
            for b in range(nsite):
                new.update(map(tuple, ((R_old - L[b] + L[a]) @ Winv.T).tolist()))
    R_new = np.array(sorted(new), int)
    offset = int(max(np.abs(R_old).max(), np.abs(R_new).max())) + 1
    if 2 * offset >= 4096:
        raise ValueError("lattice vectors R too long for the look-up table")
    key_old = _key(R_old, offset)
    order = np.argsort(key_old)
    key_sorted = key_old[order]

    def lookup(R):
        k = _key(R, offset)
        pos = np.clip(np.searchsorted(key_sorted, k), 0, len(key_sorted) - 1)
        found = key_sorted[pos] == k
        return order[pos], found

    nw = model.num_wann
    H_old = model.H_R
    A_old = model.A_R  # always present (built from the centres without a position matrix)
    S_old = model.S_R
    nR = len(R_new)
    H_new = np.zeros((nR, nw, nw), complex)
    A_new = np.zeros((nR, 3, nw, nw), complex)
    S_new = None if S_old is None else np.zeros((nR, 3, nw, nw), complex)
    i0 = int(np.flatnonzero(np.all(R_new == 0, axis=1))[0])
    for W, v, S, t, perm, L, Dg in zip(ops.W, ops.v, ops.S, ops.time_reversal, perms, shifts, Ds):
        conj = np.conj if t else (lambda x: x)
        Sinv = S.T
        P = np.linalg.det(S) * S
        Mspin = (-1.0 if t else 1.0) * P.T  # inverse of ±P
        for a in range(nsite):
            ia, pa, Dah = blocks[a], blocks[perm[a]], Dg[a].conj().T
            for b in range(nsite):
                ib, pb, Db = blocks[b], blocks[perm[b]], Dg[b]
                src, ok = lookup(R_new @ W.T + L[b] - L[a])
                if not ok.any():
                    continue
                idx, src = np.flatnonzero(ok), src[ok]
                h = H_old[src][:, pa][:, :, pb]
                H_new[np.ix_(idx, ia, ib)] += conj(Dah @ h @ Db)
                x = A_old[src][:, :, pa][:, :, :, pb]
                y = conj(Dah @ x @ Db)
                if a == b:
                    r0 = np.flatnonzero(idx == i0)
                    if len(r0):
                        y[r0[0]] += ((L[a] - v) @ lattice)[:, None, None] * np.eye(len(ia))[None]
                A_new[np.ix_(idx, [0, 1, 2], ia, ib)] += np.einsum("cd,rdil->rcil", Sinv, y)
                if S_old is not None:
                    x = S_old[src][:, :, pa][:, :, :, pb]
                    y = conj(Dah @ x @ Db)
                    S_new[np.ix_(idx, [0, 1, 2], ia, ib)] += np.einsum("cd,rdil->rcil", Mspin, y)
    n = len(ops)
    H_new /= n
    A_new /= n
    if S_new is not None:
        S_new /= n

    # how much the input broke the symmetry (old matrices on the new R set)
    src, ok = lookup(R_new)

    def change(old, new_):
        full = np.zeros_like(new_)
        full[ok] = old[src[ok]]
        return float(np.abs(full - new_).max())

    info = {"operations": n, "antiunitary": int(np.sum(ops.time_reversal)), "R_vectors": (len(R_old), nR),
            "max_change_H": change(H_old, H_new), "max_abs_H": float(np.abs(H_old).max()),
            "max_change_A": change(A_old, A_new) if model.has_position else None,
            "max_change_S": None if S_old is None else change(S_old, S_new),
            "lattice_change": float(np.abs(lattice - model.lattice).max())}
    if info["max_change_H"] > 1e-3 * info["max_abs_H"]:
        warnings.warn(f"symmetrization changed H(R) by up to {info['max_change_H']:.3g} eV (largest |H| "
                      f"{info['max_abs_H']:.3g} eV): the model does not have this symmetry; check the "
                      "magnetization and the projections", stacklevel=2)
    if model.has_position:
        out = TightBindingModel(lattice, R_new, H_new, A_R=A_new, S_R=S_new, atoms=model.atoms,
                                name=name or model.name)
    else:
        diag_only = A_new.copy()
        diag_only[i0][:, np.arange(nw), np.arange(nw)] = 0
        centres = np.real(np.diagonal(A_new[i0], axis1=1, axis2=2)).T
        info["centres_change"] = float(np.abs(centres - model.centres).max())
        if np.abs(diag_only).max() < 1e-10:
            out = TightBindingModel(lattice, R_new, H_new, S_R=S_new, centres=centres, atoms=model.atoms,
                                    name=name or model.name)
        else:  # symmetric centres within a site need the (small) off-diagonal position elements
            out = TightBindingModel(lattice, R_new, H_new, A_R=A_new, S_R=S_new, atoms=model.atoms,
                                    name=name or model.name)
    out.symmetrization = info
    out.seedname = model.seedname
    return out
