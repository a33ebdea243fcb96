"""wkin — disorder-aware kinetic transport from Wannier functions.

Subpackages in the order data passes through them (``docs/architecture.md``):

1. :mod:`wkin.io` — Wannier90 files in (:mod:`~wkin.io.wannier90`), results out (:mod:`~wkin.io.results`);
2. :mod:`wkin.model` — H(R), A(R), S(R) and their Fourier interpolation to any k;
3. :mod:`wkin.bands` — every eigen-solve: energies, eigenvectors, band matrices at k;
4. :mod:`wkin.kspace` — meshes, occupations, Fermi-surface quadrature, Brillouin-zone integrals;
5. :mod:`wkin.kinetic` — disorder, the collision operator, the Fermi shells of a run;
6. :mod:`wkin.response` — the formula of each quantity (band integrands, kinetic pieces);
7. :mod:`wkin.quantities` (the registry) and :mod:`wkin.plan` (the run plan) — what a run computes;

with :mod:`wkin.symmetry` (groups, tensor forms, irreducible grids) a leaf beside them, and
:mod:`wkin.config` / :mod:`wkin.settings` / :mod:`wkin.api` (:func:`wkin.load_model`, :func:`wkin.compute`) /
:mod:`wkin.cli` on top.
"""

__version__ = "0.1.0"

from . import threads  # noqa: E402, F401 - before numpy: one share of the cores per MPI rank
from .api import compute, load_model  # noqa: E402
from .model import TightBindingModel  # noqa: E402

__all__ = ["TightBindingModel", "compute", "load_model"]
