"""Hermann–Mauguin symbols of crystallographic (magnetic) point groups given in Cartesian form."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
import spglib

from .operations import as_operations, axis_angle, has_pure_time_reversal


def point_group_symbol(ops, lattice=None):
    """Hermann–Mauguin symbol of a crystallographic (magnetic) point group given in Cartesian form.

    ``ops``: rotations (all unitary) or (R, time_reversal) pairs. Primes mark
    elements combined with time reversal (e.g. ``4/mm'm'``); a group containing
    T itself gets the grey suffix ``1'``. ``lattice`` (rows, Å) fixes which
    in-plane directions are "secondary" ([100], a lattice vector) and which
    "tertiary" in tetragonal, trigonal and hexagonal groups. Returns None for
    a set that is not a crystallographic point group.
    """
    R, t = as_operations(ops)
    grey = has_pure_time_reversal(R, t)
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
        axis, theta = axis_angle(r * np.sign(det))
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


