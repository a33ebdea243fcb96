r"""Tensor kinds, group-average projectors, symmetrization and allowed tensor forms.

A tensor kind ``polar<n>_<even|odd>`` / ``axial<n>_<even|odd>`` (rank n = 0…4) says how a tensor
transforms under an operation (R, T?): :math:`T'=\eta\,[\det R]^a R\cdots R\,T` with a = 1 for axial,
η = −1 for a time-odd tensor under an antiunitary operation (see :mod:`wkin.symmetry`). Two kinds
describe responses whose pieces have no single time parity:

- ``conductivity``: a rank-2 polar response σ_ab(m) = σ_ba(−m) (Onsager): the symmetric part is
  time-even and the antisymmetric (Hall) part time-odd;
- ``polar<n>`` / ``axial<n>`` without a parity: only the unitary operations constrain it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from itertools import product

import numpy as np

from .operations import as_operations

_AXES = "xyz"

_KIND_RE = re.compile(r"^(polar|axial)(\d)(?:_(even|odd))?$")
#: σ_ab(m) = σ_ba(−m): time-even symmetric part, time-odd antisymmetric part
CONDUCTIVITY = "conductivity"


def parse_kind(kind):
    """``"axial2_even"`` → (rank 2, axial True, time-odd False); ``"axial2"`` → (2, True, None): no time parity.

    ``"conductivity"`` is rank 2 polar; its projector is that of :func:`projector`.
    """
    if kind == CONDUCTIVITY:
        return 2, False, None
    m = _KIND_RE.match(str(kind))
    if not m or int(m.group(2)) > 4:
        raise ValueError(f"unknown tensor kind {kind!r}: use polar<n>_even, polar<n>_odd, axial<n>_even, "
                         "axial<n>_odd (rank n = 0..4), polar<n>/axial<n> (no time parity) or 'conductivity'")
    return int(m.group(2)), m.group(1) == "axial", None if m.group(3) is None else m.group(3) == "odd"


def _index_symmetry(part):
    """Projector (9×9) onto the symmetric or antisymmetric rank-2 tensors."""
    swap = np.eye(9).reshape(3, 3, 3, 3).transpose(0, 1, 3, 2).reshape(9, 9)
    if part == "symmetric":
        return (np.eye(9) + swap) / 2
    if part == "antisymmetric":
        return (np.eye(9) - swap) / 2
    raise ValueError("part must be None, 'symmetric' or 'antisymmetric'")


def projector(ops, kind, part=None):
    """Group-average projector (3ⁿ × 3ⁿ, symmetric, idempotent) onto the invariant tensors.

    A kind without time parity is averaged over the unitary operations only. ``conductivity``:
    P_even restricted to symmetric tensors plus P_odd restricted to antisymmetric ones (Onsager).
    ``part`` (rank 2 only): ``"symmetric"`` or ``"antisymmetric"`` restricts to
    that index symmetry (it commutes with the group action).
    """
    if kind == CONDUCTIVITY:
        P = (_index_symmetry("symmetric") @ projector(ops, "polar2_even")
             + _index_symmetry("antisymmetric") @ projector(ops, "polar2_odd"))
        return P if part is None else _index_symmetry(part) @ P
    rank, axial, odd = parse_kind(kind)
    R, t = as_operations(ops)
    if odd is None:
        R, t = R[~t], t[~t]
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
        P = _index_symmetry(part) @ P
    P[np.abs(P) < 1e-12] = 0.0
    return P


def forbidden_fraction(tensor, ops, kind):
    """|X − PX| / max(|PX|, |X|): 0 when X has exactly the allowed form, 1 when it is all forbidden.

    0 is returned for X = 0.
    """
    X = np.asarray(tensor)
    allowed = symmetrize(X, ops, kind)
    scale = max(np.linalg.norm(allowed), np.linalg.norm(X))
    return float(np.linalg.norm(X - allowed) / scale) if scale > 0 else 0.0


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


def _round_coef(c):
    """A relation coefficient as the simple fraction it is (denominator ≤ 12) when within 1e-8, else 12 digits:
    the row reduction leaves rounding noise (−1.0000000000000004) that must not reach printed forms."""
    f = Fraction(float(c)).limit_denominator(12)
    return float(f) if abs(float(f) - c) < 1e-8 else round(float(c), 12)


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
        relations[labels[j]] = {labels[pivots[r]]: _round_coef(A[r, j]) for r in range(len(pivots)) if A[r, j] != 0}
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


