"""Crystal symmetry with spglib (space group of the structure)."""

from __future__ import annotations

import spglib


def space_group(model, symprec=1e-3):
    """International symbol and number of the crystal's space group, or None without atoms.

    Uses the atoms carried by the model (from the ``.win``); magnetic order and
    spin–orbit coupling are not taken into account here.
    """
    if model.atoms is None:
        return None
    positions, numbers = model.atoms
    return spglib.get_spacegroup((model.lattice, positions, numbers), symprec=symprec)
