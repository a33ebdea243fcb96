r"""Drude conductivity from the exact linearized Boltzmann equation with a Born collision kernel.

With electron charge −e and :math:`\hbar\dot{\mathbf k}=-e\mathbf E`, the
steady state :math:`f^{(1)}_i=e\,(\partial_\epsilon f)\,\mathbf E\cdot\boldsymbol\Lambda_i`
with :math:`\Lambda_i/\tau_i-\sum_jK_{ij}\Lambda_j=\mathbf v_i`
(:mod:`wkin.kinetic.collision`) gives

.. math::

    \sigma_{ab} = e^2\int\! dE\,(-\partial_E f)\sum_{i\in{\rm shell}(E)} w_i\,v_{a,i}\,\Lambda_{b,i}
    \qquad [\mathrm{S/m}],

at T = 0 a single shell at μ; at T > 0 a Gauss–Legendre sum of independent
shells (elastic scattering does not couple energies, :func:`energy_nodes`), with nodes in the
occupation f ∈ (0, 1), :math:`E=\mu+k_BT\ln(1/f-1)`, so the weights
:math:`(-\partial_Ef)\,dE=df` are exact.
Alongside the full solution:

- ``rta``: the k-dependent lifetime approximation :math:`\Lambda_i=\tau_i\mathbf v_i`,
  :math:`1/\tau_i` the out-scattering rate;
- ``constant_tau``: :math:`\Lambda_i=\bar\tau\mathbf v_i` with
  :math:`1/\bar\tau=\sum_iw_i\tau_i^{-1}/\sum_iw_i`, the shell average of the rate.

The functions here return S/m (the kinetic kernels work in SI); the registry
(:mod:`wkin.quantities`) reports ``conductivity_boltzmann`` in S/cm like every conductivity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import parallel
from ..bands import DEGEN_THRESH
from ..kinetic.collision import SmearedCollisionOperator
from ..kinetic.shells import ShellBuilder, window_states
from ..kspace.fermi_surface import FermiSurfaceError
from ..kspace.fermi_surface import sampler as shell_sampler
from ..kspace.occupations import KB_EV, surface_weight
from ..units import E_CHARGE, WEIGHT_SI

#: Fermi-surface quadratures of the kinetic solve (first: the default; ``[disorder] quadrature``)
QUADRATURES = ("tetrahedron", "smeared")


@dataclass
class ShellDrude:
    """Drude pieces of one shell (S/m) and, for ``scattering_rate``, its states (this rank's share).

    ``mean_free_path`` (N, 3): the vector mean free path Λ_i in m; ``rate`` (N,): 1/τ_i in 1/s.
    """

    mu: float
    sigma: np.ndarray
    sigma_rta: np.ndarray
    sigma_const: np.ndarray
    tau_avg: float
    k: np.ndarray
    band: np.ndarray
    weight: np.ndarray
    rate: np.ndarray
    mean_free_path: np.ndarray


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


def drude(shell) -> ShellDrude:
    """The Drude conductivity of one :class:`wkin.kinetic.shells.FermiShell`: full, RTA and constant-τ (S/m)."""
    w, v = shell.weight, shell.observables["velocity"]
    lam = shell.mean_free_path("velocity")
    rate = shell.operator.rate
    tau = 1.0 / rate
    wsum = parallel.sum_over_ranks(np.array([w.sum(), (w * rate).sum()]))
    tau_avg = wsum[0] / wsum[1]
    st = shell.states
    return ShellDrude(mu=st.mu, sigma=_sigma(w, v, lam), sigma_rta=_sigma(w, v, tau[:, None] * v),
                      sigma_const=_sigma(w, v, tau_avg * v), tau_avg=tau_avg, k=st.k, band=st.band, weight=w,
                      rate=rate, mean_free_path=lam)


def energy_nodes(mu, temperature, nodes=24):
    """Shell energies and weights of ∫(−∂f/∂E)(…)dE: μ alone at T = 0, Gauss–Legendre in f at T > 0."""
    if temperature <= 0:
        return np.array([mu]), np.array([1.0])
    # ∫(−∂f/∂E) σ(E) dE = ∫_0^1 σ(E(f)) df with E(f) = μ + k_BT ln(1/f − 1): Gauss–Legendre in f
    x, wx = np.polynomial.legendre.leggauss(nodes)
    f = 0.5 * (x + 1)
    return mu + KB_EV * temperature * np.log(1 / f - 1), 0.5 * wx


def smeared_conductivity(model, disorder, mu, sampler, width=0.02, pair_width=0.01, temperature=0.0,
                         degen_thresh=DEGEN_THRESH):
    r"""Fallback Drude σ (S/m) on a uniform grid with smeared δ-functions (spec seed-000 §3 step 3).

    Outer δ: Gaussian of standard deviation ``width`` (eV), or :math:`-\partial f/\partial\epsilon` at
    ``temperature`` > 0; pair δ: Gaussian of ``pair_width``
    (:class:`wkin.kinetic.collision.SmearedCollisionOperator`); ``sampler`` a
    :class:`wkin.kspace.fermi_surface.TetrahedronSampler` (its grid and band energies).
    Converge in grid and widths; the tetrahedron path (:func:`conductivity_boltzmann`) is preferred.
    Returns (full, rta, constant_tau), each (3, 3).
    """
    outer = 12 * KB_EV * temperature if temperature > 0 else 6 * width
    st, v, nu = window_states(model, mu, sampler, outer + 6 * pair_width, degen_thresh)
    op = SmearedCollisionOperator(st, disorder, model, nu, pair_width)
    if temperature > 0:
        W = nu * surface_weight(st.energy, [mu], "fermi-dirac", KB_EV * temperature)[:, 0]
    else:
        W = nu * surface_weight(st.energy, [mu], "gaussian", width)[:, 0]
    lam = op.solve(v)
    tau = 1.0 / op.rate
    sums = parallel.sum_over_ranks(np.array([W.sum(), (W * op.rate).sum()]))
    return _sigma(W, v, lam), _sigma(W, v, tau[:, None] * v), _sigma(W, v, (sums[0] / sums[1]) * v)


def conductivity_boltzmann(model, disorder, mu, grid, shift=(0.0, 0.0, 0.0), temperature=0.0,
                           degen_thresh=DEGEN_THRESH, nodes=24, keep_shells=False, quadrature=QUADRATURES[0],
                           width=0.02, pair_width=0.01):
    """Drude conductivity tensor (S/m) from the full Boltzmann equation, per Fermi energy.

    A direct entry to the same computation as the ``conductivity_boltzmann`` quantity of a run
    (:mod:`wkin.plan`, which shares its shells with the other kinetic quantities).
    ``quadrature``: "tetrahedron" (exact on-shell points, preferred) or "smeared" (the fallback,
    :func:`smeared_conductivity`, with Gaussian ``width`` / ``pair_width`` in eV).
    ``keep_shells``: keep each T = 0 shell's :class:`ShellDrude` (states, rates, mean free paths).
    """
    mu = np.atleast_1d(np.asarray(mu, float))
    sampler = shell_sampler(model, grid, shift)
    if quadrature == "smeared":
        res = [smeared_conductivity(model, disorder, m, sampler, width, pair_width, temperature, degen_thresh)
               for m in mu]
        full, rta, const = (np.array([r[i] for r in res]) for i in range(3))
        return BoltzmannResult(mu=mu, full=full, rta=rta, constant_tau=const, tau_avg=np.full(len(mu), np.nan))
    builder = ShellBuilder(model, disorder, sampler, degen_thresh=degen_thresh)
    out = {key: np.zeros((len(mu), 3, 3)) for key in ("full", "rta", "constant_tau")}
    tau_avg = np.zeros(len(mu))
    shells = []
    for i, m in enumerate(mu):
        for e, we in zip(*energy_nodes(m, temperature, nodes)):
            try:
                r = drude(builder.build(e))
            except FermiSurfaceError:
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


# ----------------------------------------------------------------------------- kinetic quantities of a run
def conductivity_pieces(shell, ctx):
    """``conductivity_boltzmann`` on one shell: full, RTA and constant-τ σ (S/m) and the average τ (s)."""
    d = shell.memo("drude", lambda: drude(shell))
    return {"value": d.sigma, "rta": d.sigma_rta, "constant_tau": d.sigma_const, "tau_average": np.array(d.tau_avg)}


def scattering_states(shell, ctx):
    """``scattering_rate`` on one shell: its states (gathered from every rank), rates (1/s), mean free paths (m)."""
    d = shell.memo("drude", lambda: drude(shell))
    return {name: parallel.gather_concat(getattr(d, name))
            for name in ("k", "band", "weight", "rate", "mean_free_path")}


def smeared_pieces(mu, ctx):
    """``conductivity_boltzmann`` at one Fermi energy with the smeared fallback (:func:`smeared_conductivity`)."""
    b = ctx.builder
    full, rta, const = smeared_conductivity(b.model, b.disorder, mu, b.sampler, ctx.broadening or 0.0,
                                            ctx.disorder.pair_broadening, ctx.temperature, b.degen_thresh)
    return {"value": full, "rta": rta, "constant_tau": const, "tau_average": np.array(np.nan)}
