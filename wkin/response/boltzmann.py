r"""Drude conductivity from the exact linearized Boltzmann equation with a Born collision kernel.

With electron charge −e and :math:`\hbar\dot{\mathbf k}=-e\mathbf E`, the
steady state :math:`f^{(1)}_i=e\,(\partial_\epsilon f)\,\mathbf E\cdot\boldsymbol\Lambda_i`
with :math:`\Lambda_i/\tau_i-\sum_jK_{ij}\Lambda_j=\mathbf v_i`
(:mod:`wkin.collision`) gives

.. math::

    \sigma_{ab} = e^2\int\! dE\,(-\partial_E f)\sum_{i\in{\rm shell}(E)} w_i\,v_{a,i}\,\Lambda_{b,i}
    \qquad [\mathrm{S/m}],

at T = 0 a single shell at μ; at T > 0 a Gauss–Legendre sum of independent
shells (elastic scattering does not couple energies), with nodes in the
occupation f ∈ (0, 1), :math:`E=\mu+k_BT\ln(1/f-1)`, so the weights
:math:`(-\partial_Ef)\,dE=df` are exact.
Alongside the full solution:

- ``rta``: the k-dependent lifetime approximation :math:`\Lambda_i=\tau_i\mathbf v_i`,
  :math:`1/\tau_i` the out-scattering rate;
- ``constant_tau``: :math:`\Lambda_i=\bar\tau\mathbf v_i` with
  :math:`1/\bar\tau=\sum_iw_i\tau_i^{-1}/\sum_iw_i`, the shell average of the rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.constants import elementary_charge as E_CHARGE, hbar as HBAR

from .. import fermi, parallel
from ..bands import DEGEN_THRESH
from ..collision import CollisionOperator, shell_states

#: ∂ε/∂k in eV·Å → group velocity in m/s
VELOCITY_SI = E_CHARGE * 1e-10 / HBAR
#: Fermi-surface weight 1/(eV·Å³) → 1/(J·m³)
WEIGHT_SI = 1.0 / (E_CHARGE * 1e-30)


@dataclass
class ShellResult:
    """Per-shell data kept for output (the rank-local points are gathered)."""

    mu: float
    k: np.ndarray
    band: np.ndarray
    weight: np.ndarray
    rate: np.ndarray
    mean_free_path: np.ndarray  # (N, 3): vector mean free path Λ_i, m
    sigma: np.ndarray
    sigma_rta: np.ndarray
    sigma_const: np.ndarray
    tau_avg: float


@dataclass
class BoltzmannResult:
    mu: np.ndarray
    full: np.ndarray  # (n_mu, 3, 3) S/m
    rta: np.ndarray
    constant_tau: np.ndarray
    tau_avg: np.ndarray  # (n_mu,) s
    shells: list = field(default_factory=list)


def _sigma(w, v, lam):
    """e² Σ_i w_i v_a Λ_b in S/m (w in 1/(eV Å³), v in m/s, Λ in m)."""
    return E_CHARGE**2 * WEIGHT_SI * parallel.sum_over_ranks(np.einsum("i,ia,ib->ab", w, v, lam))


def solve_shell(model, disorder, mu, grid, shift=(0.0, 0.0, 0.0), energies=None, degen_thresh=DEGEN_THRESH):
    """Build the Fermi shell at μ, its collision operator, and solve for the three field directions."""
    fs = fermi.fermi_surface(model, mu, grid, shift, energies=energies)
    if len(fs.k) == 0:
        raise fermi.FermiSurfaceError(f"no Fermi surface at mu = {mu:.4f} eV (in a gap or outside the bands)")
    st = shell_states(model, fs, degen_thresh)
    op = CollisionOperator(st, disorder, model)
    v = st.velocity * VELOCITY_SI
    lam = op.solve(v)
    tau = 1.0 / op.rate
    wsum = parallel.sum_over_ranks(np.array([st.weight.sum(), (st.weight * op.rate).sum()]))
    tau_avg = wsum[0] / wsum[1]
    return ShellResult(mu=mu, k=st.k, band=st.band, weight=st.weight, rate=op.rate, mean_free_path=lam,
                       sigma=_sigma(st.weight, v, lam), sigma_rta=_sigma(st.weight, v, tau[:, None] * v),
                       sigma_const=_sigma(st.weight, v, tau_avg * v), tau_avg=tau_avg)


def smeared_conductivity(model, disorder, mu, grid, shift=(0.0, 0.0, 0.0), width=0.02, pair_width=0.01,
                         temperature=0.0, energies=None, degen_thresh=DEGEN_THRESH):
    r"""Fallback Drude σ (S/m) on a uniform grid with smeared δ-functions (spec seed-000 §3 step 3).

    Outer δ: Gaussian of standard deviation ``width`` (eV), or :math:`-\partial f/\partial\epsilon` at
    ``temperature`` > 0; pair δ: Gaussian of ``pair_width`` (:class:`wkin.collision.SmearedCollisionOperator`).
    Converge in grid and widths; the tetrahedron path (:func:`conductivity_boltzmann`) is preferred.
    Returns (full, rta, constant_tau), each (3, 3).
    """
    from ..collision import SmearedCollisionOperator, window_states
    outer = 12 * fermi.KB_EV * temperature if temperature > 0 else 6 * width
    st, nu = window_states(model, mu, grid, shift, outer + 6 * pair_width, energies, degen_thresh)
    op = SmearedCollisionOperator(st, disorder, model, nu, pair_width)
    if temperature > 0:
        W = nu * fermi.surface_weight(st.energy, [mu], "fermi-dirac", fermi.KB_EV * temperature)[:, 0]
    else:
        W = nu * fermi.surface_weight(st.energy, [mu], "gaussian", width)[:, 0]
    v = st.velocity * VELOCITY_SI
    lam = op.solve(v)
    tau = 1.0 / op.rate
    sums = parallel.sum_over_ranks(np.array([W.sum(), (W * op.rate).sum()]))
    return _sigma(W, v, lam), _sigma(W, v, tau[:, None] * v), _sigma(W, v, (sums[0] / sums[1]) * v)


def conductivity_boltzmann(model, disorder, mu, grid, shift=(0.0, 0.0, 0.0), temperature=0.0,
                           degen_thresh=DEGEN_THRESH, nodes=24, keep_shells=False, quadrature="tetrahedron",
                           width=0.02, pair_width=0.01):
    """Drude conductivity tensor (S/m) from the full Boltzmann equation, per Fermi energy.

    ``quadrature``: "tetrahedron" (exact on-shell points, preferred) or "smeared" (the fallback,
    :func:`smeared_conductivity`, with Gaussian ``width`` / ``pair_width`` in eV).
    """
    mu = np.atleast_1d(np.asarray(mu, float))
    energies = model.energies_grid(grid, shift)
    if quadrature == "smeared":
        res = [smeared_conductivity(model, disorder, m, grid, shift, width, pair_width, temperature, energies,
                                    degen_thresh) for m in mu]
        full, rta, const = (np.array([r[i] for r in res]) for i in range(3))
        return BoltzmannResult(mu=mu, full=full, rta=rta, constant_tau=const, tau_avg=np.full(len(mu), np.nan))
    if quadrature != "tetrahedron":
        raise ValueError(f"[disorder] quadrature: expected 'tetrahedron' or 'smeared', got {quadrature!r}")
    out = {key: np.zeros((len(mu), 3, 3)) for key in ("full", "rta", "constant_tau")}
    tau_avg = np.zeros(len(mu))
    shells = []
    for i, m in enumerate(mu):
        if temperature > 0:
            # ∫(−∂f/∂E) σ(E) dE = ∫_0^1 σ(E(f)) df with E(f) = μ + k_BT ln(1/f − 1): Gauss–Legendre in f
            x, wx = np.polynomial.legendre.leggauss(nodes)
            f = 0.5 * (x + 1)
            E = m + fermi.KB_EV * temperature * np.log(1 / f - 1)
            wE = 0.5 * wx
        else:
            E, wE = np.array([m]), np.array([1.0])
        for e, we in zip(E, wE):
            try:
                r = solve_shell(model, disorder, e, grid, shift, energies, degen_thresh)
            except fermi.FermiSurfaceError:
                if temperature > 0:
                    continue  # an empty shell carries no current
                raise
            out["full"][i] += we * r.sigma
            out["rta"][i] += we * r.sigma_rta
            out["constant_tau"][i] += we * r.sigma_const
            tau_avg[i] += we * r.tau_avg
            if keep_shells and temperature <= 0:
                shells.append(r)
    return BoltzmannResult(mu=mu, full=out["full"], rta=out["rta"], constant_tau=out["constant_tau"],
                           tau_avg=tau_avg, shells=shells)
