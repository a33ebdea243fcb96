r"""Continuum k·p models with exact Fermi-circle quadrature, fed to the general (Wannier) code paths.

A continuum model implements the model interface (:class:`wkin.model.protocol.Model`) wherever
the kinetic machinery needs one: it provides ``fourier`` / ``fourier_velocity`` (H(k), ∂H/∂k,
position and spin matrices, as :meth:`wkin.model.TightBindingModel.fourier` does), the orbital data
the disorder models use, and is its own exact sampler (:meth:`exact_sampler`,
:class:`wkin.kspace.fermi_surface.ShellSampler`): the exact energy-shell points and weights
(:meth:`shell`) and a quadrature of the Fermi sea (:meth:`sea`) replace the tetrahedra. So
:func:`wkin.response.extrinsic.response_shell`, the collision operators and the skew
companion shells run unchanged on the continuum, which removes every lattice correction
from the validation against closed forms (spec seed-000 §4.4, "How to run the validation
numerically"). k-points are Cartesian (1/Å) for these models.
"""

from __future__ import annotations

import numpy as np

from ..bands import solve
from ..kspace.fermi_surface import FermiSurface

PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)


class MassiveDirac:
    r"""Massive 2D Dirac fermion (magnetic TI surface, spec seed-000 §4.1) on a layer of thickness ``c`` Å,

    .. math::

        H(\mathbf k)=\hbar v\,(k_x\sigma_y-k_y\sigma_x)+M\sigma_z ,\qquad \epsilon_\pm=\pm\lambda_k,\
        \lambda_k=\sqrt{\hbar^2v^2k^2+M^2},

    ``hbar_v`` in eV·Å, ``M`` in eV; spin :math:`\mathbf s=\boldsymbol\sigma`, no position matrix
    (the Berry connection is entirely interband, from ∂H). Band 0 is ε₋, band 1 is ε₊.
    It is the continuum limit of :func:`wkin.model.lattice.massive_dirac`.

    ``n_phi`` equally spaced angles on each circle: the shell integrands are low angular
    harmonics, so the circle sums are exact for ``n_phi`` ≥ a few tens.
    """

    num_wann = 2
    has_spin = True
    has_full_orbital = False
    atoms = None
    symmetrization = None
    exact = True  # as a sampler: exact shells at every energy
    position_source = "none (continuum model: the connection comes from dH/dk)"
    seedname = None

    def __init__(self, hbar_v=1.0, M=0.05, c=1.0, n_phi=48):
        self.hbar_v, self.M, self.c, self.n_phi = float(hbar_v), float(M), float(c), int(n_phi)
        self.centres = np.zeros((2, 3))
        self.lattice = np.diag([1.0, 1.0, self.c])  # only the layer thickness is physical
        self.name = f"continuum massive Dirac (hbar v = {hbar_v} eV Å, M = {M} eV)"

    def fourier_velocity(self, k):
        """H(k) (nk, 2, 2) in eV and ∂H/∂k (nk, 3, 2, 2) in eV·Å at Cartesian k (1/Å)."""
        k = np.atleast_2d(np.asarray(k, float))
        v = self.hbar_v
        H = v * (k[:, 0, None, None] * PAULI[1] - k[:, 1, None, None] * PAULI[0]) + self.M * PAULI[2]
        dH = np.zeros((len(k), 3, 2, 2), complex)
        dH[:, 0], dH[:, 1] = v * PAULI[1], -v * PAULI[0]
        return H, dH

    def fourier(self, k):
        """The matrices of :meth:`wkin.model.TightBindingModel.fourier` (A = Ω̄ = 0, S = Pauli)."""
        H, dH = self.fourier_velocity(k)
        zero = np.zeros_like(dH)
        return {"H": H, "dH": dH, "A": zero, "Obar": zero, "S": np.broadcast_to(PAULI, dH.shape).copy()}

    @property
    def cell_volume(self):
        """Area 1 Å² times the layer thickness (Å³): weights are per unit volume of the layer."""
        return self.c

    def hamiltonian(self, k):
        return self.fourier_velocity(k)[0]

    def exact_sampler(self):
        """The model itself: :meth:`shell` and :meth:`sea` are exact quadratures."""
        return self

    def fermi_momentum(self, mu):
        """k_F (1/Å) of the circle at energy μ, or None inside the gap."""
        if abs(mu) <= abs(self.M):
            return None
        return np.sqrt(mu**2 - self.M**2) / self.hbar_v

    def shell(self, mu):
        r"""Points and weights on ε(k) = μ: one circle, band 1 for μ > |M|, band 0 for μ < −|M|.

        :math:`w=\frac{2\pi}{N_\phi}\frac{k_F}{(2\pi)^2|\partial\epsilon/\partial k|}\frac1c` (1/(eV·Å³)),
        :math:`|\partial\epsilon/\partial k|=\hbar^2v^2k_F/|\mu|`, so Σw = ρ(μ)/c, ρ = |μ|/(2πħ²v²).
        """
        kF = self.fermi_momentum(mu)
        if kF is None:
            return FermiSurface(mu=float(mu), k=np.zeros((0, 3)), band=np.zeros(0, int), weight=np.zeros(0), dim=2)
        phi = 2 * np.pi * (np.arange(self.n_phi) + 0.5) / self.n_phi
        k = kF * np.stack([np.cos(phi), np.sin(phi), np.zeros_like(phi)], axis=1)
        slope = self.hbar_v**2 * kF / abs(mu)
        w = np.full(self.n_phi, (2 * np.pi / self.n_phi) * kF / ((2 * np.pi) ** 2 * slope) / self.c)
        return FermiSurface(mu=float(mu), k=k, band=np.full(self.n_phi, 1 if mu > 0 else 0), weight=w, dim=2)

    def sea(self, mu, n_k=64, n_phi=16):
        r"""Quadrature of :math:`\int\frac{d^2k}{(2\pi)^2c}` over the whole plane: Cartesian k (N, 3) and weights (1/Å³).

        Gauss–Legendre in k on [0, k_F] and in t = k_F/k on (0, 1] for the tail (integrands of the
        Dirac model decay as 1/k³, so the mapped integrand is smooth); equally spaced angles.
        """
        kF = self.fermi_momentum(mu) or abs(self.M) / self.hbar_v
        x, wx = np.polynomial.legendre.leggauss(n_k)
        t = 0.5 * (x + 1)
        radii = np.concatenate([kF * t, kF / t])
        jac = np.concatenate([0.5 * wx * kF * (kF * t), 0.5 * wx * (kF / t**2) * (kF / t)])  # dk · k
        phi = 2 * np.pi * (np.arange(n_phi) + 0.5) / n_phi
        k = (radii[:, None, None] * np.stack([np.cos(phi), np.sin(phi), np.zeros_like(phi)], -1)[None]).reshape(-1, 3)
        return k, np.repeat(jac, n_phi) * (2 * np.pi / n_phi) / ((2 * np.pi) ** 2 * self.c)

    def fermi_sea(self, observables, mu, n_k=64, n_phi=16):
        r"""Fermi-sea :class:`wkin.kspace.integrate.Observable` s at T = 0, in their units:
        :math:`c_X\int\frac{d^2k}{(2\pi)^2c}\sum_n\theta(\mu-\epsilon_n)F_n(\mathbf k)` with :meth:`sea`."""
        k, weight = self.sea(mu, n_k, n_phi)
        b = solve(self, k)
        f = (b.energies < mu).astype(float)
        out = {}
        for obs in observables:
            if obs.kind != "sea" or not obs.per_volume:
                raise ValueError(f"{obs.name}: only Fermi-sea densities can be integrated over the continuum")
            F = obs.integrand(b)
            out[obs.name] = obs.prefactor * np.einsum("k,kn,kn...->...", weight, f, F)
        return out


class WeylNode:
    r"""One isotropic Weyl node (spec seed-002 §4.2), :math:`H(\mathbf k)=\chi\hbar v\,\mathbf k\cdot\boldsymbol\sigma
    +E_0`, with exact Fermi-sphere quadrature.

    ``hbar_v`` in eV·Å, ``chirality`` χ = ±1, ``energy`` E₀ (eV) of the node; k Cartesian (1/Å), volume 1 Å³ per
    "cell" (weights are per Å³). Band 0 is E₀ − ħv|k|, band 1 is E₀ + ħv|k|. The sphere is sampled with
    ``n_theta`` Gauss–Legendre nodes in cos θ and ``n_phi`` equally spaced angles (exact for the low angular harmonics
    of the kinetic integrands). Spin :math:`\boldsymbol\sigma`, no position matrix.
    """

    num_wann = 2
    has_spin = True
    has_full_orbital = False
    atoms = None
    symmetrization = None
    exact = True
    position_source = "none (continuum model: the connection comes from dH/dk)"
    seedname = None
    cell_volume = 1.0

    def __init__(self, hbar_v=1.0, chirality=1, energy=0.0, n_theta=16, n_phi=32):
        if chirality not in (1, -1):
            raise ValueError(f"chirality: expected +1 or -1, got {chirality!r}")
        self.hbar_v, self.chi, self.E0 = float(hbar_v), int(chirality), float(energy)
        self.n_theta, self.n_phi = int(n_theta), int(n_phi)
        self.centres = np.zeros((2, 3))
        self.lattice = np.eye(3)
        self.name = f"continuum Weyl node (chi = {self.chi:+d}, hbar v = {hbar_v} eV Å, E0 = {energy} eV)"

    def fourier_velocity(self, k):
        """H(k) (nk, 2, 2) in eV and ∂H/∂k (nk, 3, 2, 2) in eV·Å at Cartesian k (1/Å)."""
        k = np.atleast_2d(np.asarray(k, float))
        s = self.chi * self.hbar_v
        H = s * np.einsum("ka,aij->kij", k, PAULI) + self.E0 * np.eye(2)
        dH = np.broadcast_to(s * PAULI, (len(k), 3, 2, 2)).copy()
        return H, dH

    def fourier(self, k):
        """The matrices of :meth:`wkin.model.TightBindingModel.fourier` (A = Ω̄ = 0, S = Pauli)."""
        H, dH = self.fourier_velocity(k)
        zero = np.zeros_like(dH)
        return {"H": H, "dH": dH, "A": zero, "Obar": zero, "S": np.broadcast_to(PAULI, dH.shape).copy()}

    def hamiltonian(self, k):
        return self.fourier_velocity(k)[0]

    def exact_sampler(self):
        return self

    def shell(self, mu):
        r"""The sphere :math:`|\mathbf k|=k_F=|\mu-E_0|/\hbar v`, weights
        :math:`w=k_F^2\,d\Omega/[(2\pi)^3\hbar v]` (1/(eV·Å³)), Σw = ν(μ) = k_F²/(2π²ħv)."""
        kF = abs(mu - self.E0) / self.hbar_v
        if kF == 0:
            return FermiSurface(mu=float(mu), k=np.zeros((0, 3)), band=np.zeros(0, int), weight=np.zeros(0), dim=3)
        x, wx = np.polynomial.legendre.leggauss(self.n_theta)
        phi = 2 * np.pi * (np.arange(self.n_phi) + 0.5) / self.n_phi
        ct, ph = np.repeat(x, self.n_phi), np.tile(phi, self.n_theta)
        st = np.sqrt(1 - ct**2)
        k = kF * np.stack([st * np.cos(ph), st * np.sin(ph), ct], axis=1)
        w = np.repeat(wx, self.n_phi) * (2 * np.pi / self.n_phi) * kF**2 / ((2 * np.pi) ** 3 * self.hbar_v)
        return FermiSurface(mu=float(mu), k=k, band=np.full(len(k), 1 if mu > self.E0 else 0), weight=w, dim=3)

    def sea(self, mu):
        raise NotImplementedError("the Weyl node has no bounded Fermi sea (its lower band extends to -infinity)")
