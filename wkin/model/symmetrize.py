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

import os
import warnings

import numpy as np

from ..io.wannier90 import read_win, resolve, win_projections
from ..symmetry import SYMPREC, SpaceGroupOperations, space_group_operations
from .tight_binding import TightBindingModel

__all__ = ["symmetrized_model", "orbital_representation", "angular_function",
           "projections_from_win", "idealized_lattice"]

_SQ = np.sqrt
_PI = np.pi


# ---------------------------------------------------------------------------- angular functions
def _real_harmonic(l, mr, x, y, z):
    """Wannier90's real spherical harmonics (user guide Table 3.1) on unit vectors (x, y, z)."""
    c = 1 / _SQ(4 * _PI)
    if l == 0:
        return c * np.ones_like(x)
    if l == 1:
        return _SQ(3) * c * (z, x, y)[mr - 1]
    if l == 2:
        return (_SQ(5) / 2 * c * (3 * z * z - 1), _SQ(15) * c * x * z, _SQ(15) * c * y * z,
                _SQ(15) / 2 * c * (x * x - y * y), _SQ(15) * c * x * y)[mr - 1]
    if l == 3:
        return (_SQ(7) / 2 * c * z * (5 * z * z - 3), _SQ(21 / 8) * c * x * (5 * z * z - 1),
                _SQ(21 / 8) * c * y * (5 * z * z - 1), _SQ(105) / 2 * c * z * (x * x - y * y),
                _SQ(105) * c * x * y * z, _SQ(35 / 8) * c * x * (x * x - 3 * y * y),
                _SQ(35 / 8) * c * y * (3 * x * x - y * y))[mr - 1]
    raise ValueError(f"l = {l} is not a Wannier90 angular momentum")


# hybrids (user guide Table 3.2): coefficients of (l, mr) real harmonics
_S, _PZ, _PX, _PY, _DZ2, _DX2Y2 = (0, 1), (1, 1), (1, 2), (1, 3), (2, 1), (2, 4)
_HYBRIDS = {
    -1: [{_S: 1 / _SQ(2), _PX: 1 / _SQ(2)}, {_S: 1 / _SQ(2), _PX: -1 / _SQ(2)}],
    -2: [{_S: 1 / _SQ(3), _PX: -1 / _SQ(6), _PY: 1 / _SQ(2)},
         {_S: 1 / _SQ(3), _PX: -1 / _SQ(6), _PY: -1 / _SQ(2)},
         {_S: 1 / _SQ(3), _PX: 2 / _SQ(6)}],
    -3: [{_S: .5, _PX: .5, _PY: .5, _PZ: .5}, {_S: .5, _PX: .5, _PY: -.5, _PZ: -.5},
         {_S: .5, _PX: -.5, _PY: .5, _PZ: -.5}, {_S: .5, _PX: -.5, _PY: -.5, _PZ: .5}],
    -4: [{_S: 1 / _SQ(3), _PX: -1 / _SQ(6), _PY: 1 / _SQ(2)},
         {_S: 1 / _SQ(3), _PX: -1 / _SQ(6), _PY: -1 / _SQ(2)},
         {_S: 1 / _SQ(3), _PX: 2 / _SQ(6)},
         {_PZ: 1 / _SQ(2), _DZ2: 1 / _SQ(2)}, {_PZ: -1 / _SQ(2), _DZ2: 1 / _SQ(2)}],
    -5: [{_S: 1 / _SQ(6), _PX: -1 / _SQ(2), _DZ2: -1 / _SQ(12), _DX2Y2: .5},
         {_S: 1 / _SQ(6), _PX: 1 / _SQ(2), _DZ2: -1 / _SQ(12), _DX2Y2: .5},
         {_S: 1 / _SQ(6), _PY: -1 / _SQ(2), _DZ2: -1 / _SQ(12), _DX2Y2: -.5},
         {_S: 1 / _SQ(6), _PY: 1 / _SQ(2), _DZ2: -1 / _SQ(12), _DX2Y2: -.5},
         {_S: 1 / _SQ(6), _PZ: -1 / _SQ(2), _DZ2: 1 / _SQ(3)},
         {_S: 1 / _SQ(6), _PZ: 1 / _SQ(2), _DZ2: 1 / _SQ(3)}],
}


def angular_function(l, mr, directions, zaxis=(0, 0, 1), xaxis=(1, 0, 0)):
    """Angular part of the Wannier90 projection (l, m_r) in its local axes, at Cartesian unit vectors.

    ``directions``: (n, 3) unit vectors; the local axes are x' = ``xaxis``,
    z' = ``zaxis``, y' = z' × x' (Cartesian). Hybrids (l < 0) are the
    normalized combinations of Table 3.2 of the Wannier90 user guide.
    """
    z_ = np.asarray(zaxis, float) / np.linalg.norm(zaxis)
    x_ = np.asarray(xaxis, float) / np.linalg.norm(xaxis)
    Q = np.array([x_, np.cross(z_, x_), z_])
    u = np.asarray(directions, float) @ Q.T
    x, y, z = u[:, 0], u[:, 1], u[:, 2]
    if l >= 0:
        return _real_harmonic(l, mr, x, y, z)
    if l not in _HYBRIDS or not 1 <= mr <= len(_HYBRIDS[l]):
        raise ValueError(f"(l, mr) = ({l}, {mr}) is not a Wannier90 hybrid")
    return sum(c * _real_harmonic(ll, mm, x, y, z) for (ll, mm), c in _HYBRIDS[l][mr - 1].items())


_SAMPLE = None


def _sample_directions():
    global _SAMPLE
    if _SAMPLE is None:
        v = np.random.default_rng(20240611).normal(size=(96, 3))
        _SAMPLE = v / np.linalg.norm(v, axis=1)[:, None]
    return _SAMPLE


def orbital_representation(S, source, target):
    """Matrix O with f_i(S⁻¹ r) = Σ_j O_ji g_j(r): how orbitals ``source`` map onto ``target`` under S.

    ``source``/``target``: lists of (l, mr, zaxis, xaxis). S: Cartesian (proper
    or improper) rotation. Raises ValueError when the rotated source orbitals
    are not combinations of the target ones (projections not compatible with
    the symmetry).
    """
    r = _sample_directions()
    F = np.stack([angular_function(t[0], t[1], r, t[2], t[3]) for t in target], axis=1)
    G = np.stack([angular_function(s[0], s[1], r @ np.asarray(S, float), s[2], s[3]) for s in source],
                 axis=1)  # f(S^T r)
    O, *_ = np.linalg.lstsq(F, G, rcond=None)
    if np.abs(F @ O - G).max() > 1e-8:
        raise ValueError("the rotated orbitals are not combinations of the orbitals on the image site")
    return O


# ---------------------------------------------------------------------------- spin
_PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])


def _spin_rotation(P):
    """SU(2) matrix U with U† σ_a U = Σ_b P_ab σ_b for the proper rotation P (one of ±U)."""
    P = np.asarray(P, float)
    a = np.array([P[2, 1] - P[1, 2], P[0, 2] - P[2, 0], P[1, 0] - P[0, 1]]) / 2  # sin(θ) n
    theta = float(np.arctan2(np.linalg.norm(a), (np.trace(P) - 1) / 2))  # accurate near 0 and π
    if theta < 1e-9:
        return np.eye(2, dtype=complex)
    n = np.linalg.svd(P - np.eye(3))[2][-1]  # the rotation axis: (P - 1) n = 0
    target = np.einsum("ab,bil->ail", P, _PAULI)
    for sgn in (1.0, -1.0):
        U = np.cos(theta / 2) * np.eye(2) - 1j * sgn * np.sin(theta / 2) * np.einsum("a,aij->ij", n, _PAULI)
        if np.allclose(np.einsum("ji,ajk,kl->ail", U.conj(), _PAULI, U), target, atol=1e-8):
            return U
    raise ValueError("could not build the spin rotation of a rotation matrix")  # pragma: no cover


def _cartesian(W, lattice):
    """R = Lᵀ W L⁻ᵀ (not snapped: exact for an idealized lattice)."""
    LT = np.asarray(lattice, float).T
    return np.array([LT @ np.asarray(w, float) @ np.linalg.inv(LT) for w in W])


def idealized_lattice(lattice, W):
    r"""The lattice made exactly invariant under the reduced rotations W, closest in orientation to ``lattice``.

    Lattice vectors written with a few digits (e.g. a hexagonal b = (−a/2, a√3/2, 0)
    rounded to 7 digits) are symmetric only to that precision, so the Cartesian
    rotations Lᵀ W L⁻ᵀ are orthogonal only to ~1e-8 and Cartesian tensors (velocities,
    Berry curvature) of symmetry-related k-points differ at that level. The metric
    G = L Lᵀ is replaced by its group average :math:`\bar G = \frac1{|G|}\sum_W W^T G W`
    and :math:`L' = \bar G^{1/2} G^{-1/2} L` (same orientation; a relative change of
    the size of the rounding).
    """
    L = np.asarray(lattice, float)
    G = L @ L.T
    Gs = np.mean([np.asarray(w, float).T @ G @ np.asarray(w, float) for w in W], axis=0)

    def sqrtm(M, power):
        w, V = np.linalg.eigh((M + M.T) / 2)
        return (V * w ** power) @ V.T

    return sqrtm(Gs, 0.5) @ sqrtm(G, -0.5) @ L


# ---------------------------------------------------------------------------- projections
def projections_from_win(win):
    """Projections (:func:`wkin.io.wannier90.win_projections`) from a ``.win`` path, seedname, or read_win dict."""
    if isinstance(win, dict):
        return win_projections(win)
    path = os.fspath(win)
    if not path.endswith(".win") and resolve(path + ".win"):
        path = path + ".win"
    return win_projections(read_win(path))


def _sites(model, projections, tol):
    """Group the Wannier functions by site; check the centres lie nearest their own site image."""
    nw = model.num_wann
    if len(projections) != nw:
        raise ValueError(f"{len(projections)} projections for a model with {nw} Wannier functions")
    inv_lat = np.linalg.inv(model.lattice)
    sites, site_of = [], np.empty(nw, int)
    for i, p in enumerate(projections):
        s = np.asarray(p["site"], float)
        for a, q in enumerate(sites):
            if np.linalg.norm((s - q) @ model.lattice) < tol:
                site_of[i] = a
                break
        else:
            sites.append(s)
            site_of[i] = len(sites) - 1
    # the Wannier centre must be closer to its projection site than to any other image of it
    for i in range(nw):
        d = model.centres[i] @ inv_lat - sites[site_of[i]]
        best = np.round(d)
        if np.any(best != 0):
            cands = [np.linalg.norm((d - T) @ model.lattice) for T in (np.zeros(3), best)]
            if cands[1] < cands[0] - 1e-9:
                raise ValueError(
                    f"Wannier function {i + 1}: its centre {np.round(model.centres[i], 4)} Å is nearer to a "
                    f"lattice translate of its projection site than to the site itself (projection line "
                    f"{projections[i]['line']!r}); the projections do not match this model")
    return np.array(sites), site_of


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
    lattice = idealized_lattice(model.lattice, ops.W)
    ops = SpaceGroupOperations(ops.W, ops.v, _cartesian(ops.W, lattice), ops.time_reversal)
    tol = max(10 * symprec, 1e-4)
    sites, site_of = _sites(model, projections, tol)
    nsite = len(sites)
    blocks = [np.flatnonzero(site_of == a) for a in range(nsite)]
    spins = np.array([p["spin"] for p in projections])
    spinor = bool(np.any(spins != 0))
    if spinor and np.any(spins == 0):
        raise ValueError("projections mix spinor and spinless Wannier functions")
    orb = [(p["l"], p["mr"], tuple(p["zaxis"]), tuple(p["xaxis"])) for p in projections]
    sigma_y = np.array([[0, -1j], [1j, 0]])

    # per operation: site permutation, lattice shifts and the D blocks
    perms, shifts, Ds = [], [], []
    for W, v, S, t in zip(ops.W, ops.v, ops.S, ops.time_reversal):
        img = sites @ W.T + v
        perm, L = np.empty(nsite, int), np.empty((nsite, 3), int)
        for a in range(nsite):
            d = img[a] - sites
            n = np.round(d)
            dist = np.linalg.norm((d - n) @ lattice, axis=1)
            b = int(np.argmin(dist))
            if dist[b] > tol:
                raise ValueError(f"operation {W.tolist()} + {np.round(v, 6).tolist()} maps projection site "
                                 f"{sites[a]} onto no projection site: the projection sites are not a union of "
                                 "orbits of the space group")
            perm[a], L[a] = b, n[b].astype(int)
        if len(set(perm.tolist())) != nsite:
            raise ValueError("the space-group operation does not permute the projection sites")
        U = _spin_rotation(np.linalg.det(S) * S) if spinor else None
        if spinor and t:
            U = U @ (-1j * sigma_y)
        Dg = []
        for a in range(nsite):
            src, tgt = blocks[a], blocks[perm[a]]
            if len(src) != len(tgt):
                raise ValueError(f"sites {a + 1} and {perm[a] + 1} are related by symmetry but carry "
                                 f"{len(src)} and {len(tgt)} Wannier functions")
            if spinor:
                # unique orbitals of the target site, spin index 0 (up) or 1 (down)
                t_orb = sorted(set(orb[j] for j in tgt), key=lambda o: [orb[j] for j in tgt].index(o))
                try:
                    O = orbital_representation(S, [orb[i] for i in src], t_orb)
                except ValueError as err:
                    raise ValueError(f"{err} (site {sites[a]} -> {sites[perm[a]]})") from None
                D = np.empty((len(tgt), len(src)), complex)
                for jj, j in enumerate(tgt):
                    for ii, i in enumerate(src):
                        D[jj, ii] = O[t_orb.index(orb[j]), ii] * U[(1 - spins[j]) // 2, (1 - spins[i]) // 2]
            else:
                try:
                    D = orbital_representation(S, [orb[i] for i in src], [orb[j] for j in tgt]).astype(complex)
                except ValueError as err:
                    raise ValueError(f"{err} (site {sites[a]} -> {sites[perm[a]]})") from None
            if not np.allclose(D.conj().T @ D, np.eye(len(src)), atol=1e-8):
                raise ValueError(f"the orbitals of site {sites[a]} do not transform unitarily (check the "
                                 "projections: orbitals of a site must form complete sets under its site symmetry)")
            Dg.append(D)
        perms.append(perm)
        shifts.append(L)
        Ds.append(Dg)

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
