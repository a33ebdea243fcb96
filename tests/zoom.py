"""A lattice model restricted to a box of the Brillouin zone, as a model of its own (tests only).

Small Fermi pockets of a lattice model (a Weyl node, a band bottom) approach their continuum limit when
k_F a → 0, but uniform tetrahedra over the whole zone do not resolve them (the mesh error h/k_F dominates).
:class:`Zoom` maps the reduced k′ ∈ [0, 1)³ of its own "zone" onto the box ``centre ± half`` (reduced
coordinates of the model) so that the general tetrahedron shells, band solves and kinetic code run on a
mesh of the box only. The Fermi-surface weights stay per unit volume of the crystal (the zoom's cell volume is
V_cell/(2·half)³, its reciprocal lattice (2·half)·B); Cartesian derivatives are those of the model. Only valid
when the pocket lies inside the box and nothing else crosses the energy there.
"""

import numpy as np

from wkin.kspace.mesh import uniform


class Zoom:
    """The model ``model`` on the box ``centre ± half`` (reduced k; ``half`` a number or three)."""

    def __init__(self, model, centre, half):
        self.model, self.centre = model, np.asarray(centre, float)
        self.width = 2 * np.broadcast_to(np.asarray(half, float), (3,))
        self.num_wann, self.has_spin, self.has_full_orbital = model.num_wann, model.has_spin, model.has_full_orbital
        self.centres, self.lattice, self.position_source = model.centres, model.lattice, model.position_source
        self.atoms, self.symmetrization, self.seedname = None, None, None
        self.recip_lattice = model.recip_lattice * self.width[:, None]
        self.cell_volume = model.cell_volume / np.prod(self.width)
        self.name = f"{model.name} on a box of width {self.width.tolist()} around {self.centre.tolist()}"

    def reduced(self, k):
        """The model's reduced k of the zoom's k (nk, 3)."""
        return self.centre + self.width * (np.atleast_2d(np.asarray(k, float)) - 0.5)

    def fourier(self, k, derivatives=None):
        if derivatives is None:
            return self.model.fourier(self.reduced(k))
        return self.model.fourier(self.reduced(k), derivatives=derivatives)

    def fourier_velocity(self, k):
        return self.model.fourier_velocity(self.reduced(k))

    def hamiltonian(self, k):
        return self.model.hamiltonian(self.reduced(k))

    def exact_sampler(self):
        return None

    def grid_blocks(self, grid, budget_points=None, ncomp=None, derivatives=None):
        return None, [0]

    def hamiltonian_grid(self, grid, shift=(0.0, 0.0, 0.0), blocks=None):
        k = uniform(grid, shift)
        yield k, self.hamiltonian(k)
