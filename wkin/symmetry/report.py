"""Text report of a crystal's symmetry: groups, operations and allowed tensor forms (``wkin symmetry``)."""

from __future__ import annotations

from .groups import SYMPREC, crystal_symmetry
from .operations import format_direction
from .tensors import allowed_components

_DESCRIBE_TENSORS = (
    ("σ symmetric part (Ohmic; polar2 even)", "polar2_even", "symmetric"),
    ("σ antisymmetric part (Hall, AHC; polar2 odd)", "polar2_odd", "antisymmetric"),
    ("K gyrotropic magnetoelectric (axial2 even)", "axial2_even", None),
    ("D Berry-curvature dipole (axial2 even)", "axial2_even", None),
    ("λ rank-3, time-even (polar3 even)", "polar3_even", None),
    ("λ rank-3, time-odd (polar3 odd)", "polar3_odd", None),
    ("σˢ spin Hall σ^c_ab (axial3 even)", "axial3_even", None),
)


def describe(model, magnetization=None, symprec=SYMPREC, symmetry=None) -> str:
    """Text report: space group, (magnetic) point group, operations and allowed tensor forms."""
    sym = symmetry if symmetry is not None else crystal_symmetry(model, magnetization, symprec)
    lines = [f"space group          : {sym.spacegroup_symbol} (No. {sym.spacegroup_number})",
             f"crystal point group  : {sym.pointgroup_symbol} ({len(sym.rotations)} operations)"]
    if sym.magnetization is None:
        lines.append("magnetization        : none (time reversal is a symmetry)")
    elif sym.magnetization.shape == (3,):
        lines.append(f"magnetization        : {format_direction(sym.magnetization)} (Cartesian, ferromagnetic)")
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

