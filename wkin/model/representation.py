r"""The representation of a crystal's (magnetic) space group on the Wannier functions and on Bloch states.

A space-group operation g = {W|v} (W and v in reduced coordinates; possibly combined with time reversal T)
maps the projection site a to the site π(a) plus a lattice vector **L**\ :sub:`a`
(W **p**\ :sub:`a` + **v** = **p**\ :sub:`π(a)` + **L**\ :sub:`a`) and the Wannier functions of a onto those of π(a)
through the block D(g)\ :sub:`a`: the rotation of the orbitals of the ``.win`` projections (real spherical
harmonics or hybrids in their local axes, Wannier90 user guide Tables 3.1–3.2, obtained numerically and checked
to be unitary) times, with spinors, the SU(2) rotation of the proper part of the rotation, and times −iσ\ :sub:`y`
for an antiunitary element g·T. :func:`wannier_representation` builds these blocks once;
:func:`wkin.model.symmetrize.symmetrized_model` averages the model over them, and
:meth:`WannierRepresentation.bloch_matrix` gives the matrix that maps Bloch eigenvectors at k onto those at the
image g·k of a symmetric model.

Assumptions: each Wannier function transforms like its projection (real orbital times a spinor ↑/↓ along z,
Wannier90's interlaced spinor order), and its centre is closer to its projection site than to any other image of
that site.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..io.wannier90 import read_win, resolve, win_projections
from ..symmetry import SYMPREC, SpaceGroupOperations

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



# ---------------------------------------------------------------------------- the representation
@dataclass(frozen=True)
class WannierRepresentation:
    """The operations (on the idealized lattice) and, per operation, the site permutation ``perms`` (nop, nsite),
    the lattice shifts ``shifts`` (nop, nsite, 3) and the D blocks ``D[op][a]`` (functions of π(a) × functions of
    a); ``blocks[a]``: the Wannier functions of site a; ``lattice``: the idealized lattice (rows, Å)."""

    ops: SpaceGroupOperations
    lattice: np.ndarray
    blocks: list
    perms: list
    shifts: list
    D: list
    num_wann: int

    def bloch_matrix(self, op, k_red):
        r"""The image k′ (reduced) of k and the unitary M with c(k′) = M c(k) (c(k′) = M c(k)* for an antiunitary
        operation) for the eigenvectors of H(k) = Σ_R e^{ik·R} H(R) of a model symmetric under the group.

        From the invariance :math:`H_{ab}(\mathbf R)=[D_a^\dagger H_{\pi a\,\pi b}(W\mathbf R+\mathbf L_b-\mathbf L_a)
        D_b]^{(*)}` (:mod:`wkin.model.symmetrize`): with :math:`\mathbf k'=\pm W^{-T}\mathbf k` (− for antiunitary)
        and :math:`M_{\pi a,a}=e^{-2\pi i\,\mathbf k'\cdot\mathbf L_a}D_a`,
        :math:`H(\mathbf k')=M\,H(\mathbf k)^{(*)}M^\dagger`. Band energies are equal, band velocities map as
        ±S v and spins as ±det(S) S σ (− for antiunitary; S the Cartesian rotation, ``ops.S[op]``).
        """
        kp = self.ops.k_images(k_red, op)
        M0, shift = self._blocks(op)
        return kp, M0 * np.exp(-2j * np.pi * shift @ kp)[None, :]

    def image_vectors(self, op, k_src, vectors):
        """M(k) v (M(k) v* for an antiunitary operation) for a batch: ``k_src`` (n, 3) reduced points, ``vectors``
        (n, ..., nw) in the Wannier basis (last axis); the images at k′ (:meth:`bloch_matrix`, vectorized)."""
        antiunitary = bool(self.ops.time_reversal[op])
        kp = self.ops.k_images(k_src, op)
        M0, shift = self._blocks(op)
        phase = np.exp(-2j * np.pi * kp @ shift.T)  # (n, nw): e^{-2πi k′·L_a(j)}
        v = np.conj(vectors) if antiunitary else np.asarray(vectors)
        v = v * phase.reshape((len(phase),) + (1,) * (v.ndim - 2) + (self.num_wann,))
        return v @ M0.T

    def keeps_cells(self):
        """True when every operation moves all Wannier functions by the same lattice translation, so that the overlaps
        ⟨c_k|c_k′⟩ of image states differ by one common phase: then "the same potential on every orbital of a cell"
        (``cell`` disorder) is invariant under the group. With several sites it usually is not (docs/disorder.md)."""
        return all(np.ptp(np.asarray(L, float), axis=0).max() < 1e-9 for L in self.shifts)

    def _blocks(self, op):
        """M0 (nw, nw): the D blocks of operation ``op`` without phases, and L_a(j) (nw, 3) of every function."""
        M0 = np.zeros((self.num_wann, self.num_wann), complex)
        shift = np.zeros((self.num_wann, 3))
        for a, (perm, L, D) in enumerate(zip(self.perms[op], self.shifts[op], self.D[op])):
            M0[np.ix_(self.blocks[perm], self.blocks[a])] = D
            shift[self.blocks[a]] = L
        return M0, shift


def wannier_representation(model, projections, ops, symprec=SYMPREC):
    """The :class:`WannierRepresentation` of the operations ``ops`` (a :class:`wkin.symmetry.SpaceGroupOperations`)
    on the Wannier functions of ``model`` with the given projections (:func:`wkin.io.wannier90.win_projections`
    list); ``symprec``: spglib's tolerance (Å), which sets that of the site matching. ValueError when the
    projections do not match the model or do not transform into each other."""
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

    return WannierRepresentation(ops, lattice, blocks, perms, shifts, Ds, model.num_wann)
