"""Models: a Hamiltonian in a Wannier basis and its Fourier interpolation to any k.

- :mod:`~wkin.model.tight_binding`: :class:`TightBindingModel` (from Wannier90 files,
  WannierBerri, TBmodels, or arrays);
- :mod:`~wkin.model.lattice`: analytic lattice models with closed-form results (validation);
- :mod:`~wkin.model.continuum`: continuum k·p models with exact shell quadrature (validation);
- :mod:`~wkin.model.symmetrize`: a Wannier Hamiltonian averaged over the magnetic space group;
- :mod:`~wkin.model.protocol`: the interface every model implements (:class:`Model`).
"""

from .protocol import GridModel, Model
from .tight_binding import CYCLIC, ModelError, TightBindingModel

__all__ = ["CYCLIC", "GridModel", "Model", "ModelError", "TightBindingModel"]
