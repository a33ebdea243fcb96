r"""Crystal and magnetic point-group symmetry (spglib), allowed tensor forms, irreducible k-grids.

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

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import product

import numpy as np
import spglib

__all__ = ["space_group", "crystal_symmetry", "CrystalSymmetry", "point_group_symbol",
           "parse_kind", "projector", "symmetrize", "allowed_components", "TensorForm",
           "irreducible_grid", "IrreducibleGrid", "integrate_irreducible", "describe",
           "QUANTITY_KINDS", "operation_label"]

#: tensor kind of each observable of :mod:`wkin.response.intrinsic`
QUANTITY_KINDS = {"ahc": "polar2_odd", "ohmic": "polar2_even", "berry_dipole": "axial2_even",
                  "gme_orb": "axial2_even", "gme_orb_full": "axial2_even", "gme_spin": "axial2_even",
                  "noa_orb": "axial2_even",
                  "dos": "polar0_even", "electrons": "polar0_even"}

_AXES = "xyz"
_TOL = 1e-6


def space_group(model, symprec=1e-3):
    """International symbol and number of the crystal's space group, or None without atoms.

    Uses the atoms carried by the model (from the ``.win``); magnetic order and
    spin–orbit coupling are not taken into account here.
    """
    if model.atoms is None:
        return None
    positions, numbers = model.atoms
    return spglib.get_spacegroup((model.lattice, positions, numbers), symprec=symprec)


# ---------------------------------------------------------------------------- groups
@dataclass
class CrystalSymmetry:
    """Crystal space/point group and the (magnetic) point group used for tensors and k-points.

    Attributes
    ----------
    spacegroup_symbol, spacegroup_number : spglib's international symbol and number
    pointgroup_symbol : Hermann–Mauguin symbol of the crystal point group (spglib)
    rotations : (n, 3, 3) Cartesian rotations of the crystal point group
    rotations_reduced : (n, 3, 3) int, the same as spglib's W (reduced coordinates)
    magnetization : None, Cartesian 3-vector, or (nat, 3) per-atom moments
    magnetic_rotations, magnetic_rotations_reduced : (m, 3, 3) rotations of the
        magnetic point group (for a non-magnetic crystal: every crystal rotation twice)
    time_reversal : (m,) bool, True for antiunitary (primed) operations
    magnetic_pointgroup_symbol : e.g. ``"4/mm'm'"``, ``"321'"`` (grey), or None if not identified
    unitary_pointgroup_symbol : symbol of the unitary subgroup (operations without T)
    """

    spacegroup_symbol: str
    spacegroup_number: int
    pointgroup_symbol: str
    lattice: np.ndarray
    rotations: np.ndarray
    rotations_reduced: np.ndarray
    magnetization: np.ndarray | None
    magnetic_rotations: np.ndarray
    magnetic_rotations_reduced: np.ndarray
    time_reversal: np.ndarray
    magnetic_pointgroup_symbol: str | None
    unitary_pointgroup_symbol: str | None

    @property
    def is_magnetic(self) -> bool:
        return self.magnetization is not None

    @property
    def operations(self):
        """The magnetic point group as a list of (Cartesian R, time_reversal) pairs."""
        return [(R, bool(t)) for R, t in zip(self.magnetic_rotations, self.time_reversal)]

    @property
    def magnetic_group_type(self) -> str:
        """'grey' (T itself is a symmetry), 'black-white' (some primed elements) or 'colourless'."""
        if _has_pure_T(self.magnetic_rotations, self.time_reversal):
            return "grey"
        return "black-white" if self.time_reversal.any() else "colourless"

    def allowed(self, kind, part=None):
        """:func:`allowed_components` for this group."""
        return allowed_components(self, kind, part)

    def symmetrize(self, tensor, kind, part=None):
        """:func:`symmetrize` for this group."""
        return symmetrize(tensor, self, kind, part)

    def operation_labels(self):
        return [operation_label(R, t) for R, t in self.operations]


def crystal_symmetry(model, magnetization=None, symprec=1e-3):
    """Space group, point group and magnetic point group of a model's structure.

    Parameters
    ----------
    model : TightBindingModel with ``atoms`` (reduced positions, atomic numbers)
    magnetization : None (non-magnetic: time reversal is a symmetry), a Cartesian
        3-vector (ferromagnet, e.g. ``[0, 0, 1]`` for m ∥ z), or an (nat, 3) array of
        Cartesian per-atom moments (any collinear or non-collinear order).
    symprec : distance tolerance (Å) for spglib

    Returns
    -------
    CrystalSymmetry
    """
    if model.atoms is None:
        raise ValueError("symmetry analysis needs the crystal structure: the model has no atoms "
                         "(give atoms_frac or atoms_cart in the .win)")
    lattice = np.asarray(model.lattice, float)
    positions, numbers = model.atoms
    positions = np.asarray(positions, float).reshape(-1, 3)
    numbers = np.asarray(numbers).reshape(-1)
    cell = (lattice, positions, numbers)
    ds = spglib.get_symmetry_dataset(cell, symprec=symprec)
    if ds is None:
        raise ValueError(f"spglib could not determine the space group (symprec = {symprec})")
    W = _unique_rotations(np.asarray(ds.rotations, int))
    Rc = _to_cartesian(W, lattice)

    if magnetization is None:
        mW = np.concatenate([W, W])
        tr = np.repeat([False, True], len(W))
        mag = None
    else:
        mag = np.asarray(magnetization, float)
        if mag.shape == (3,):
            if np.linalg.norm(mag) < 1e-12:
                raise ValueError("magnetization is zero: use None for a non-magnetic system")
            keep, tr = _ferromagnetic_selection(Rc, mag)
            mW = np.asarray(W, int)[keep]
        elif mag.shape == (len(positions), 3):
            if np.abs(mag).max() < 1e-12:
                raise ValueError("all magnetic moments are zero: use None for a non-magnetic system")
            mW, tr = _spglib_magnetic_group(lattice, positions, numbers, mag, symprec)
        else:
            raise ValueError(f"magnetization must be a Cartesian 3-vector or one per atom "
                             f"({len(positions)}, 3); got shape {mag.shape}")
    tr = np.asarray(tr, bool)
    order = sorted(range(len(tr)), key=lambda i: (tr[i], np.linalg.det(mW[i]) < 0))  # stable
    mW, tr = mW[order], tr[order]
    mR = _to_cartesian(mW, lattice)
    if mag is None:
        mag_symbol = ds.pointgroup + "1'"
        unit_symbol = ds.pointgroup
    else:
        mag_symbol = point_group_symbol(list(zip(mR, tr)), lattice)
        unit_symbol = point_group_symbol(mR[~tr], lattice)
    return CrystalSymmetry(
        spacegroup_symbol=ds.international, spacegroup_number=int(ds.number),
        pointgroup_symbol=ds.pointgroup, lattice=lattice, rotations=Rc, rotations_reduced=W,
        magnetization=mag, magnetic_rotations=mR, magnetic_rotations_reduced=mW, time_reversal=tr,
        magnetic_pointgroup_symbol=mag_symbol, unitary_pointgroup_symbol=unit_symbol)


def _unique_rotations(W):
    out, seen = [], set()
    for w in W:
        key = tuple(w.ravel())
        if key not in seen:
            seen.add(key)
            out.append(w)
    # identity first, then a stable order
    out.sort(key=lambda w: (not np.array_equal(w, np.eye(3, dtype=int)), np.linalg.det(w) < 0,
                            tuple(w.ravel())))
    return np.array(out, int)


def _to_cartesian(W, lattice):
    """R = L^T W L^{-T}, snapped to the nearest orthogonal matrix."""
    LT = lattice.T
    R = LT @ np.asarray(W, float) @ np.linalg.inv(LT)
    U, _, Vt = np.linalg.svd(R)
    return U @ Vt


def _ferromagnetic_selection(Rc, m):
    """Indices of the Cartesian rotations Rc keeping the axial vector m (unitary) or reversing it (with T),
    and the time-reversal flag of each kept one."""
    m = m / np.linalg.norm(m)
    keep, keep_t = [], []
    for i, R in enumerate(Rc):
        mp = np.linalg.det(R) * R @ m
        if np.allclose(mp, m, atol=1e-5):
            keep.append(i)
            keep_t.append(False)
        elif np.allclose(mp, -m, atol=1e-5):
            keep.append(i)
            keep_t.append(True)
    return np.array(keep, int), np.array(keep_t, bool)


def _spglib_magnetic_group(lattice, positions, numbers, magmoms, symprec):
    """Point-group part of spglib's magnetic space group for per-atom (Cartesian) moments."""
    sym = spglib.get_magnetic_symmetry((lattice, positions, numbers, magmoms), symprec=symprec,
                                       is_axial=True)
    if sym is None:
        raise ValueError("spglib could not determine the magnetic symmetry")
    seen, Ws, ts = set(), [], []
    for w, t in zip(np.asarray(sym["rotations"], int), np.asarray(sym["time_reversals"], bool)):
        key = (tuple(w.ravel()), bool(t))
        if key not in seen:
            seen.add(key)
            Ws.append(w)
            ts.append(bool(t))
    order = sorted(range(len(Ws)), key=lambda i: (ts[i], not np.array_equal(Ws[i], np.eye(3, dtype=int)),
                                                  np.linalg.det(Ws[i]) < 0, tuple(Ws[i].ravel())))
    return np.array([Ws[i] for i in order], int), np.array([ts[i] for i in order], bool)


def _has_pure_T(R, t):
    return any(tt and np.allclose(r, np.eye(3), atol=1e-6) for r, tt in zip(R, t))


# ---------------------------------------------------------------------------- operations
def _as_ops(ops):
    """(rotations (n,3,3), time_reversal (n,) bool) from a CrystalSymmetry, pairs, or rotations."""
    if isinstance(ops, CrystalSymmetry):
        return np.asarray(ops.magnetic_rotations, float), np.asarray(ops.time_reversal, bool)
    if isinstance(ops, IrreducibleGrid):
        return np.asarray(ops.rotations, float), np.asarray(ops.time_reversal, bool)
    ops = list(ops)
    if len(ops) == 0:
        raise ValueError("empty list of symmetry operations")
    first = ops[0]
    if isinstance(first, (tuple, list)) and len(first) == 2 and np.shape(first[0]) == (3, 3):
        return (np.array([np.asarray(R, float) for R, _ in ops]),
                np.array([bool(t) for _, t in ops], bool))
    R = np.asarray(ops, float)
    if R.ndim != 3 or R.shape[1:] != (3, 3):
        raise ValueError("operations must be a CrystalSymmetry, a list of (R, time_reversal) pairs "
                         "or an array of 3×3 rotations")
    return R, np.zeros(len(R), bool)


def _axis_angle(P):
    """Axis (unit, sign-normalised) and angle in [0, π] of a proper rotation; (None, 0) for E."""
    c = np.clip((np.trace(P) - 1) / 2, -1.0, 1.0)
    theta = float(np.arccos(c))
    if theta < 1e-5:
        return None, 0.0
    if abs(theta - np.pi) < 1e-5:
        M = (P + np.eye(3)) / 2
        j = int(np.argmax(np.diag(M)))
        axis = M[:, j] / np.sqrt(M[j, j])
    else:
        axis = np.array([P[2, 1] - P[1, 2], P[0, 2] - P[2, 0], P[1, 0] - P[0, 1]]) / (2 * np.sin(theta))
    axis = axis / np.linalg.norm(axis)
    i = int(np.flatnonzero(np.abs(axis) > 1e-6)[0])
    if axis[i] < 0:
        axis = -axis
    return axis, theta


def _fmt_dir(v):
    """A direction as small integers if it is one (e.g. [1 1 0]), else rounded Cartesian components."""
    v = np.asarray(v, float)
    v = v / np.abs(v).max()
    for scale in range(1, 7):
        w = v * scale
        if np.allclose(w, np.round(w), atol=1e-4):
            w = np.round(w).astype(int)
            g = np.gcd.reduce(np.abs(w[w != 0]))
            return "[" + " ".join(str(int(x)) for x in w // g) + "]"
    v = v / np.linalg.norm(v)
    return "[" + " ".join(f"{x + 0.0:.3f}" for x in np.round(v, 3)) + "]"


def operation_label(R, time_reversal=False):
    """Seitz-like label of a Cartesian point operation: ``1``, ``-1``, ``2 [0 0 1]``, ``m [1 0 0]``, ``-3 [...]``…

    Axes are Cartesian directions; a trailing ``'`` marks an antiunitary operation (with T).
    Rotation senses are not distinguished (3 and 3⁻¹ both print as ``3``).
    """
    R = np.asarray(R, float)
    det = np.sign(np.linalg.det(R))
    axis, theta = _axis_angle(R * det)
    prime = "'" if time_reversal else ""
    if axis is None:
        return ("1" if det > 0 else "-1") + prime
    n = int(round(2 * np.pi / theta))
    P = R * det
    sense = ""
    if n > 2:  # + : counter-clockwise looking down the printed axis
        s = axis @ np.array([P[2, 1] - P[1, 2], P[0, 2] - P[2, 0], P[1, 0] - P[0, 1]])
        sense = "+" if s > 0 else "-"
    if det > 0:
        sym = f"{n}{sense}"
    else:
        sym = "m" if n == 2 else f"-{n}{sense}"
    return f"{sym}{prime} {_fmt_dir(axis)}"


# ---------------------------------------------------------------------------- HM symbols
def point_group_symbol(ops, lattice=None):
    """Hermann–Mauguin symbol of a crystallographic (magnetic) point group given in Cartesian form.

    ``ops``: rotations (all unitary) or (R, time_reversal) pairs. Primes mark
    elements combined with time reversal (e.g. ``4/mm'm'``); a group containing
    T itself gets the grey suffix ``1'``. ``lattice`` (rows, Å) fixes which
    in-plane directions are "secondary" ([100], a lattice vector) and which
    "tertiary" in tetragonal, trigonal and hexagonal groups. Returns None for
    a set that is not a crystallographic point group.
    """
    R, t = _as_ops(ops)
    grey = _has_pure_T(R, t)
    # family group: each rotation once; prime flag per rotation (primed if only present with T)
    uniq, prime = [], []
    for r, tt in zip(R, t):
        for i, u in enumerate(uniq):
            if np.allclose(u, r, atol=1e-5):
                if not tt:
                    prime[i] = False
                break
        else:
            uniq.append(r)
            prime.append(bool(tt))
    if grey:
        prime = [False] * len(uniq)
    try:
        sym = _hm(np.array(uniq), np.array(prime, bool), lattice)
    except _NotCrystallographic:
        return None
    return sym + ("1'" if grey else "")


class _NotCrystallographic(Exception):
    pass


@dataclass
class _Element:
    axis: np.ndarray
    proper: bool
    order: int  # n of the rotation n, or N of the rotoinversion -N (2 = mirror)
    primed: bool


def _elements(R, primed):
    """Rotation axes and orders of all non-trivial elements; plus whether −1 is present (and primed)."""
    els, inversion = [], None
    for r, p in zip(R, primed):
        det = np.linalg.det(r)
        axis, theta = _axis_angle(r * np.sign(det))
        if axis is None:
            if det < 0:
                inversion = bool(p)
            continue
        n = 2 * np.pi / theta
        if abs(n - round(n)) > 1e-4 or round(n) not in (2, 3, 4, 6):
            raise _NotCrystallographic
        els.append(_Element(axis, det > 0, int(round(n)), bool(p)))
    return els, inversion


def _distinct_axes(vectors):
    out = []
    for v in vectors:
        if not any(abs(abs(v @ u) - 1) < 1e-5 for u in out):
            out.append(v)
    return out


def _along(els, d):
    return [e for e in els if abs(abs(e.axis @ d) - 1) < 1e-5]


def _token(els, d):
    """Symbol parts [(text, primed)] for the symmetry direction d (full symbol)."""
    here = _along(els, d)
    rot = {}
    inv = {}
    for e in here:
        (rot if e.proper else inv).setdefault(e.order, e.primed)
    n = max(rot) if rot else 1
    if 2 in inv:  # mirror perpendicular to d
        if n == 3:
            return [("-6", inv[6])]
        if n > 1:
            return [(str(n), rot[n]), ("/m", inv[2])]
        return [("m", inv[2])]
    rinv = [N for N in inv if N in (3, 4) and N >= n]
    if rinv:
        N = max(rinv)
        return [(f"-{N}", inv[N])]
    return [(str(n), rot.get(n, False))]


def _render(parts):
    return "".join(text + ("'" if p else "") for text, p in parts)


def _short(parts):
    """n/m → m (the short form used in all but the primary position of 4/m.., 6/m.., 2/m)."""
    if len(parts) == 2:
        return [("m", parts[1][1])]
    return parts


def _shortest_perpendicular(lattice, p):
    """Shortest lattice vector perpendicular to the axis p, or None."""
    if lattice is None:
        return None
    try:
        L = np.asarray(spglib.niggli_reduce(np.asarray(lattice, float)), float)
    except Exception:  # noqa: BLE001 - fall back to the given cell
        L = np.asarray(lattice, float)
    best = None
    for n in product(range(-3, 4), repeat=3):
        if n == (0, 0, 0):
            continue
        v = np.array(n) @ L
        nv = np.linalg.norm(v)
        if abs(v @ p) < 1e-4 * nv and (best is None or nv < np.linalg.norm(best) - 1e-8):
            best = v
    return None if best is None else best / np.linalg.norm(best)


def _hm(R, primed, lattice):
    els, inversion = _elements(R, primed)
    if not els:
        if inversion is None:
            return "1"
        return "-1" + ("'" if inversion else "")
    three = _distinct_axes([e.axis for e in els if e.proper and e.order in (3, 6)])
    if len(three) > 1:
        return _hm_cubic(els, three)
    four = [e for e in els if e.order == 4]
    if three or four:
        p = three[0] if three else four[0].axis
        system = ("hexagonal" if any(e.order == 6 for e in els) else "trigonal") if three else "tetragonal"
        return _hm_axial(els, p, system, lattice)
    twofold = _distinct_axes([e.axis for e in els if e.order == 2])
    if len(twofold) == 1:
        return _render(_token(els, twofold[0]))
    if len(twofold) != 3:
        raise _NotCrystallographic
    toks = [_token(els, d) for d in twofold]
    short = [_short(t) for t in toks]
    mm2 = sum(t[0][0] == "m" for t in toks) == 2 and len(R) == 4
    if mm2:
        short.sort(key=lambda t: (t[0][0] != "m", not t[0][1]))
    else:
        short.sort(key=lambda t: not t[0][1])
    return "".join(_render(t) for t in short)


def _hm_cubic(els, three):
    twofold = [e.axis for e in els if e.proper and e.order in (2, 4)]
    cube = [a for a in _distinct_axes(twofold) if all(abs(a @ u) > 1e-3 for u in three)]
    if len(cube) != 3:
        raise _NotCrystallographic
    primary = _token(els, cube[0])
    primary = _short(primary)
    secondary = _token(els, three[0])
    d = (cube[0] + cube[1]) / np.sqrt(2)
    tertiary = _short(_token(els, d))
    s = _render(primary) + _render(secondary)
    if tertiary[0][0] != "1":
        s += _render(tertiary)
    return s


def _hm_axial(els, p, system, lattice):
    """Tetragonal, trigonal and hexagonal symbols: primary axis p, then the in-plane classes."""
    primary = _token(els, p)
    if system == "tetragonal" and primary[0][0] not in ("4", "-4"):
        raise _NotCrystallographic
    step = np.pi / 2 if system == "tetragonal" else np.pi / 3
    inplane = [e.axis for e in els if e.order == 2 and abs(e.axis @ p) < 1e-5]
    inplane = _distinct_axes(inplane)
    if not inplane:
        return _render(primary)

    def classes(e0):
        e1 = np.cross(p, e0)
        a, b = [], []
        for d in inplane:
            phi = np.arctan2(d @ e1, d @ e0) % step
            if min(phi, step - phi) < 1e-4:
                a.append(d)
            elif abs(phi - step / 2) < 1e-4:
                b.append(d)
            else:
                return None
        return a, b

    e0 = _shortest_perpendicular(lattice, p)
    cl = classes(e0) if e0 is not None else None
    if cl is None:
        e0 = sorted(inplane, key=lambda d: tuple(-np.round(d, 6)))[0]
        cl = classes(e0)
    e1 = np.cross(p, e0)
    d_sec = e0
    d_ter = np.cos(step / 2) * e0 + np.sin(step / 2) * e1
    sec = _short(_token(els, d_sec))
    ter = _short(_token(els, d_ter))
    s = _render(primary)
    if system == "trigonal":
        for t in (sec, ter):
            if t[0][0] != "1":
                s += _render(t)
        return s
    return s + _render(sec) + _render(ter)


# ---------------------------------------------------------------------------- tensors
_KIND_RE = re.compile(r"^(polar|axial)(\d)_(even|odd)$")


def parse_kind(kind):
    """``"axial2_even"`` → (rank 2, axial True, time-odd False)."""
    m = _KIND_RE.match(str(kind))
    if not m or int(m.group(2)) > 4:
        raise ValueError(f"unknown tensor kind {kind!r}: use polar<n>_even, polar<n>_odd, "
                         "axial<n>_even or axial<n>_odd with rank n = 0..4")
    return int(m.group(2)), m.group(1) == "axial", m.group(3) == "odd"


def projector(ops, kind, part=None):
    """Group-average projector (3ⁿ × 3ⁿ, symmetric, idempotent) onto the invariant tensors.

    ``part`` (rank 2 only): ``"symmetric"`` or ``"antisymmetric"`` restricts to
    that index symmetry (it commutes with the group action).
    """
    rank, axial, odd = parse_kind(kind)
    R, t = _as_ops(ops)
    d = 3 ** rank
    P = np.zeros((d, d))
    for r, tt in zip(R, t):
        D = np.ones((1, 1))
        for _ in range(rank):
            D = np.kron(D, r)
        f = (np.sign(np.linalg.det(r)) if axial else 1.0) * (-1.0 if (odd and tt) else 1.0)
        P += f * D
    P /= len(R)
    if part is not None:
        if rank != 2:
            raise ValueError("part= applies to rank-2 tensors only")
        swap = np.eye(9).reshape(3, 3, 3, 3).transpose(0, 1, 3, 2).reshape(9, 9)
        if part == "symmetric":
            S = (np.eye(9) + swap) / 2
        elif part == "antisymmetric":
            S = (np.eye(9) - swap) / 2
        else:
            raise ValueError("part must be None, 'symmetric' or 'antisymmetric'")
        P = S @ P
    P[np.abs(P) < 1e-12] = 0.0
    return P


def symmetrize(tensor, ops, kind, part=None):
    """Group average of a tensor (or a stack of tensors) of the given kind.

    ``tensor`` has shape (..., 3, …, 3) with ``rank`` trailing axes of length 3
    (e.g. (n_mu, 3, 3)); real or complex. The result is the projection onto
    the allowed subspace, so symmetrize(symmetrize(T)) = symmetrize(T).
    """
    rank = parse_kind(kind)[0]
    T = np.asarray(tensor)
    if T.shape[T.ndim - rank:] != (3,) * rank:
        raise ValueError(f"a {kind} tensor needs {rank} trailing axes of length 3, got shape {T.shape}")
    P = projector(ops, kind, part)
    lead = T.shape[:T.ndim - rank]
    flat = T.reshape(-1, 3 ** rank) @ P.T
    return flat.reshape(lead + (3,) * rank)


@dataclass
class TensorForm:
    """Allowed form of a tensor kind under a group.

    ``basis`` (r, 3, …, 3): orthonormal basis of the allowed subspace; ``independent``:
    labels of r independent components; ``relations``: every component as a linear
    combination of the independent ones ({label: {independent label: coefficient}},
    zero components map to {}); ``text``: e.g. ``"xx = yy, zz; others zero"``.
    """

    kind: str
    part: str | None
    projector: np.ndarray
    basis: np.ndarray
    independent: list
    relations: dict
    text: str

    @property
    def dimension(self) -> int:
        return len(self.independent)

    @property
    def is_zero(self) -> bool:
        return self.dimension == 0

    def __str__(self):
        return self.text


def _labels(rank):
    return ["".join(_AXES[i] for i in idx) for idx in product(range(3), repeat=rank)] if rank else ["scalar"]


def _fmt_coef(c):
    f = Fraction(c).limit_denominator(12)
    if abs(float(f) - c) < 1e-8:
        return str(f)
    return f"{c:.4g}"


def allowed_components(ops, kind, part=None):
    """Independent components of a tensor kind allowed by a (magnetic) point group.

    ``ops``: a :class:`CrystalSymmetry`, a list of (R, time_reversal) pairs, or
    rotations. Returns a :class:`TensorForm`; ``str()`` of it reads like
    ``"xx = yy, zz; others zero"`` (equalities with signs, ``-yx`` meaning minus
    the yx component), ``"all zero"``, or ``"all independent"``.
    """
    rank = parse_kind(kind)[0]
    P = projector(ops, kind, part)
    w, V = np.linalg.eigh((P + P.T) / 2)
    B = V[:, w > 0.5].T  # orthonormal basis rows of the range
    d = 3 ** rank
    labels = _labels(rank)
    # reduced row echelon form: pivots = independent components in index order
    A = B.copy()
    pivots = []
    row = 0
    for col in range(d):
        if row == len(A):
            break
        i = row + int(np.argmax(np.abs(A[row:, col])))
        if abs(A[i, col]) < 1e-8:
            continue
        A[[row, i]] = A[[i, row]]
        A[row] /= A[row, col]
        for j in range(len(A)):
            if j != row:
                A[j] -= A[j, col] * A[row]
        pivots.append(col)
        row += 1
    A[np.abs(A) < 1e-9] = 0.0
    indep = [labels[c] for c in pivots]
    relations = {}
    for j in range(d):
        relations[labels[j]] = {labels[pivots[r]]: float(A[r, j]) for r in range(len(pivots)) if A[r, j] != 0}
    text = _form_text(relations, indep, labels)
    basis = B.reshape((len(B),) + (3,) * rank)
    return TensorForm(kind=kind, part=part, projector=P, basis=basis, independent=indep,
                      relations=relations, text=text)


def _form_text(relations, indep, labels):
    if not indep:
        return "all zero"
    if len(indep) == len(labels) and all(relations[lab] == {lab: 1.0} for lab in labels):
        return "all independent"
    groups = {p: [p] for p in indep}
    extra = []
    nzero = 0
    for lab in labels:
        rel = relations[lab]
        if lab in groups:
            continue
        if not rel:
            nzero += 1
            continue
        if len(rel) == 1:
            (p, c), = rel.items()
            if abs(abs(c) - 1) < 1e-9:
                groups[p].append(("-" if c < 0 else "") + lab)
                continue
        terms = " + ".join(f"{_fmt_coef(c)}·{p}" for p, c in rel.items()).replace("+ -", "- ")
        extra.append(f"{lab} = {terms}")
    clauses = [" = ".join(g) for g in groups.values()] + extra
    if len(labels) == 1:
        return "allowed"
    return ", ".join(clauses) + ("; others zero" if nzero else "")


# ---------------------------------------------------------------------------- k-points
@dataclass
class IrreducibleGrid:
    """Irreducible points of a uniform grid k = (i + shift)/N.

    Attributes
    ----------
    grid, shift : the grid
    k : (nir, 3) reduced coordinates of the irreducible points (in [0, 1))
    weights : (nir,) int, orbit sizes; they sum to N1·N2·N3
    mapping : (N1·N2·N3,) index into ``k`` of each full-grid point (C order, as :func:`wkin.mesh.uniform`)
    ir_grid_index : (nir,) full-grid index of each irreducible point
    op_index : (N1·N2·N3,) index of an operation g with g·k[mapping[i]] = k_full[i]
    rotations, rotations_reduced, time_reversal : the operations used (those that map the grid onto itself)
    dropped : number of group operations that do not map the grid onto itself (not used)
    """

    grid: np.ndarray
    shift: np.ndarray
    k: np.ndarray
    weights: np.ndarray
    mapping: np.ndarray
    ir_grid_index: np.ndarray
    op_index: np.ndarray
    rotations: np.ndarray
    rotations_reduced: np.ndarray
    time_reversal: np.ndarray
    dropped: int = 0
    symmetry: CrystalSymmetry | None = field(default=None, repr=False)

    @property
    def operations(self):
        return [(R, bool(t)) for R, t in zip(self.rotations, self.time_reversal)]


def irreducible_grid(model, grid, magnetization=None, shift=(0.0, 0.0, 0.0), symprec=1e-3, symmetry=None):
    """Reduce a uniform k-grid by the magnetic point group of the structure.

    Orbits are computed directly: an operation (W, T?) maps reduced k to
    ±W^{-T} k (minus with time reversal). Without magnetization every crystal
    rotation appears with and without T, so k and −k are always equivalent; with
    magnetization only the antiunitary operations relate k to −R k.
    Operations that do not map the grid onto itself (e.g. a 3-fold axis on an
    N1 ≠ N2 hexagonal grid) are left out (counted in ``dropped``); the rest
    still form a group.

    ``symmetry``: a precomputed :class:`CrystalSymmetry` (then ``magnetization``
    and ``symprec`` are ignored).
    """
    from .mesh import parse_grid
    grid = parse_grid(grid)
    shift = np.asarray(shift, float).reshape(3)
    sym = symmetry if symmetry is not None else crystal_symmetry(model, magnetization, symprec)
    ntot = int(np.prod(grid))
    i = np.stack(np.meshgrid(*[np.arange(n) for n in grid], indexing="ij"), -1).reshape(-1, 3)
    k = (i + shift) / grid
    images, used = [], []
    for n, (w, t) in enumerate(zip(sym.magnetic_rotations_reduced, sym.time_reversal)):
        M = np.linalg.inv(np.asarray(w, float)).T * (-1.0 if t else 1.0)
        j = (k @ M.T) * grid - shift
        jr = np.round(j)
        if np.abs(j - jr).max() > 1e-6:
            continue
        jr = jr.astype(int) % grid
        images.append(np.ravel_multi_index(tuple(jr.T), tuple(grid)))
        used.append(n)
    images = np.array(images)
    rep = images.min(axis=0)
    ir_index, mapping, weights = np.unique(rep, return_inverse=True, return_counts=True)
    op_index = np.argmax(images[:, rep] == np.arange(ntot)[None, :], axis=0)
    used = np.array(used, int)
    return IrreducibleGrid(
        grid=grid, shift=shift, k=k[ir_index] % 1.0, weights=weights.astype(int), mapping=mapping.reshape(-1),
        ir_grid_index=ir_index, op_index=op_index,
        rotations=sym.magnetic_rotations[used], rotations_reduced=sym.magnetic_rotations_reduced[used],
        time_reversal=sym.time_reversal[used], dropped=len(sym.time_reversal) - len(used), symmetry=sym)


def integrate_irreducible(model, quantities, occ, grid, magnetization=None, params=None, symprec=1e-3,
                          degen_thresh=None, chunk=2048, symmetry=None, adaptive=None):
    r"""Brillouin-zone integrals over the irreducible wedge of a uniform grid.

    Sums the contributions of the irreducible points with their weights and
    projects each tensor with its group average (:data:`QUANTITY_KINDS`): for a
    model with the symmetry of its structure this equals
    :func:`wkin.integrate.integrate` on the full grid (same ``grid``, ``shift`` 0)
    up to rounding, at about 1/|G| of the cost. Returns an
    :class:`~wkin.integrate.Integrals` (``nk_evaluated`` = number of k-points evaluated).

    ``adaptive`` (as in :func:`wkin.integrate.integrate`) refines irreducible cells: a refined cell of an
    orbit of size m carries weight m/N, and the group average turns its integral into that over the whole
    star, :math:`\sum_{g}\int_{gC}X=\frac{m}{|G|}\sum_g g\!\cdot\!\int_CX`. Refinement therefore never breaks
    the symmetry (refining single cells of the full grid does, since a point and its images rarely cross the
    threshold together). The sub-cells of C and of its images gC are not the same points, so the refined
    result is a different, equally convergent quadrature from full-grid refinement, not the same numbers.
    """
    from . import parallel
    from .bands import DEGEN_THRESH, solve
    from .integrate import Integrals, _Accumulator, _refine, _sizes
    from .response.intrinsic import lookup
    observables = lookup(quantities)
    for o in observables:
        if o.name not in QUANTITY_KINDS:
            raise ValueError(f"no symmetry kind known for quantity {o.name!r}")
    params = dict(params or {})
    params.setdefault("tau_fs", 1.0)
    irr = irreducible_grid(model, grid, magnetization, symprec=symprec, symmetry=symmetry)
    ntot = int(np.prod(irr.grid))
    acc = _Accumulator(observables, occ, params, model.cell_volume)
    part = parallel.my_slice(len(irr.k))
    kk, ww = irr.k[part], irr.weights[part] / ntot
    dt = DEGEN_THRESH if degen_thresh is None else degen_thresh
    sizes = []
    for a in range(0, len(kk), chunk):
        c = acc.contributions(solve(model, kk[a:a + chunk], dt), ww[a:a + chunk])
        acc.add(c)
        if adaptive is not None:
            sizes.append(_sizes(c))
    values = {o.name: parallel.sum_over_ranks(acc.sums[o.name]) for o in observables}
    levels = [(len(irr.k), {n: v.copy() for n, v in values.items()})]
    nk = len(irr.k)
    if adaptive is not None:  # irr.k and the gathered sizes are in the same (rank-block) order
        sizes = parallel.gather_concat(np.concatenate(sizes) if sizes else np.zeros((0, len(values))))
        values, nk = _refine(model, acc, values, levels, irr.k, sizes, irr.grid, adaptive, dt,
                             weight=irr.weights / ntot, index_of=irr.mapping)

    def project(vals):
        return {o.name: symmetrize(vals[o.name], irr, QUANTITY_KINDS[o.name]) if o.shape else vals[o.name]
                for o in observables}

    return Integrals(values=project(values), nk_evaluated=nk, levels=[(n, project(v)) for n, v in levels])


# ---------------------------------------------------------------------------- report
_DESCRIBE_TENSORS = (
    ("σ symmetric part (Ohmic; polar2 even)", "polar2_even", "symmetric"),
    ("σ antisymmetric part (Hall, AHC; polar2 odd)", "polar2_odd", "antisymmetric"),
    ("K gyrotropic magnetoelectric (axial2 even)", "axial2_even", None),
    ("D Berry-curvature dipole (axial2 even)", "axial2_even", None),
    ("λ rank-3, time-even (polar3 even)", "polar3_even", None),
    ("λ rank-3, time-odd (polar3 odd)", "polar3_odd", None),
)


def describe(model, magnetization=None, symprec=1e-3, symmetry=None) -> str:
    """Text report: space group, (magnetic) point group, operations and allowed tensor forms."""
    sym = symmetry if symmetry is not None else crystal_symmetry(model, magnetization, symprec)
    lines = [f"space group          : {sym.spacegroup_symbol} (No. {sym.spacegroup_number})",
             f"crystal point group  : {sym.pointgroup_symbol} ({len(sym.rotations)} operations)"]
    if sym.magnetization is None:
        lines.append("magnetization        : none (time reversal is a symmetry)")
    elif sym.magnetization.shape == (3,):
        lines.append(f"magnetization        : {_fmt_dir(sym.magnetization)} (Cartesian, ferromagnetic)")
    else:
        lines.append(f"magnetization        : per-atom moments ({len(sym.magnetization)} atoms)")
    nt = int(sym.time_reversal.sum())
    name = sym.magnetic_pointgroup_symbol or "(not identified)"
    lines.append(f"magnetic point group : {name} ({sym.magnetic_group_type}; "
                 f"{len(sym.time_reversal) - nt} unitary + {nt} antiunitary operations)")
    if sym.magnetization is not None:
        lines.append(f"unitary subgroup     : {sym.unitary_pointgroup_symbol}")
    lines.append("operations (Cartesian axes; ' = with time reversal):")
    labels = sym.operation_labels()
    w = max(len(s) for s in labels)
    per_line = max(1, 96 // (w + 3))
    for a in range(0, len(labels), per_line):
        lines.append("   " + "   ".join(f"{s:<{w}}" for s in labels[a:a + per_line]).rstrip())
    lines.append("allowed tensor components (Cartesian indices of the model's frame):")
    width = max(len(t[0]) for t in _DESCRIBE_TENSORS)
    for title, kind, part in _DESCRIBE_TENSORS:
        lines.append(f"   {title:<{width}} : {allowed_components(sym, kind, part)}")
    return "\n".join(lines)
