"""Point operations (R, time_reversal) in Cartesian form: parsing, axes and printable labels."""

from __future__ import annotations

import numpy as np


def has_pure_time_reversal(R, t):
    """True when T itself (the identity combined with time reversal) is in the group (a grey group)."""
    return any(tt and np.allclose(r, np.eye(3), atol=1e-6) for r, tt in zip(R, t))


def as_operations(ops):
    """(rotations (n,3,3), time_reversal (n,) bool) of a magnetic point group.

    ``ops``: a :class:`~wkin.symmetry.groups.CrystalSymmetry` or
    :class:`~wkin.symmetry.kgrid.IrreducibleGrid` (their ``operations``), a list of
    (R, time_reversal) pairs, or an array of rotations (all unitary).
    """
    if not isinstance(ops, (list, tuple, np.ndarray)):
        ops = ops.operations
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


def axis_angle(P):
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


def format_direction(v):
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
    axis, theta = axis_angle(R * det)
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
    return f"{sym}{prime} {format_direction(axis)}"


