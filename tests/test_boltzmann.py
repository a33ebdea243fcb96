"""Collision kernel and exact Boltzmann solve: identities, dense reference, closed forms (spec seed-000 §2.4, §4.1-4.2)."""

import dataclasses

import numpy as np
import pytest
from conftest import random_model
from scipy.constants import e, hbar

from dense_reference import dense_kernel, smeared_dense_kernel, solve_dense
from wkin.kinetic.collision import CollisionOperator, SmearedCollisionOperator
from wkin.kinetic.disorder import Disorder
from wkin.kinetic.shells import DegenerateBandsError, ShellBuilder, window_states
from wkin.kspace.fermi_surface import TetrahedronSampler, fermi_surface
from wkin.model.lattice import massive_dirac, rashba_exchange
from wkin.response.boltzmann import conductivity_boltzmann
from wkin.units import HBAR_EVS


def shell_states(model, fs):
    """States on a Fermi surface and their velocities (m/s), as the run's shells carry them."""
    shell = ShellBuilder(model, Disorder("cell", 1.0), None).from_surface(fs)
    return shell.states, shell.observables["velocity"]


@pytest.fixture(scope="module")
def random_shell():
    model = random_model(seed=8, nw=4)
    mu = 0.3
    fs = fermi_surface(model, mu, [6, 6, 6], shift=[0.5, 0.5, 0.5])
    return (model, *shell_states(model, fs))


@pytest.mark.parametrize("kind", ["cell", "atom", "orbital"])
def test_factorized_solver_equals_dense_pair_kernel(random_shell, kind):
    model, st, v = random_shell
    d = Disorder(kind, 0.7, blocks=[[0, 1], [2], [3]] if kind == "atom" else None)
    op = CollisionOperator(st, d, model)
    K = dense_kernel(op, d, model)
    lam_dense, rate_dense = solve_dense(K, st.weight, v)
    lam = op.solve(v)
    assert np.allclose(op.rate, rate_dense, rtol=1e-12, atol=0)
    assert np.abs(lam - lam_dense).max() < 1e-10 * np.abs(lam_dense).max()
    # the factorized in-scattering equals the pair sum
    g = np.random.default_rng(0).normal(size=len(st.weight))
    assert np.allclose(op.in_scattering(g), K @ g, rtol=1e-12, atol=1e-12 * np.abs(K @ g).max())


def test_kernel_symmetry_conservation_and_zero_mode(random_shell):
    model, st, v = random_shell
    d = Disorder("cell", 1.0)
    op = CollisionOperator(st, d, model)
    K = dense_kernel(op, d, model)
    wK = st.weight[:, None] * K
    assert np.allclose(wK, wK.T, rtol=1e-12, atol=1e-14 * wK.max())
    g = np.random.default_rng(1).normal(size=len(st.weight))
    # particle conservation on the shell: Σ_i w_i (Lg)_i = 0
    assert abs(st.weight @ op.apply(g)) < 1e-12 * np.abs(st.weight * op.rate * g).sum()
    # constants are the zero mode; the solution has no zero-mode component
    assert np.abs(op.apply(np.ones_like(g))).max() < 1e-12 * op.rate.max()
    lam = op.solve(v)
    assert np.abs(st.weight @ lam).max() < 1e-12 * np.abs(st.weight[:, None] * lam).sum()
    # and it solves the equation
    assert np.allclose(op.apply(lam), op._project(v, np.ones((len(g), 1))), rtol=1e-9, atol=1e-9 * np.abs(v).max())


def test_eigenvector_phases_drop_out(random_shell):
    model, st, v = random_shell
    d = Disorder("atom", 1.0, blocks=[[0, 2], [1, 3]])
    a = CollisionOperator(st, d, model).solve(v)
    phased = dataclasses.replace(st, c=st.c * np.exp(2j * np.pi * np.random.default_rng(2).uniform(size=len(st.c)))[:, None])
    b = CollisionOperator(phased, d, model).solve(v)
    assert np.allclose(a, b, rtol=1e-10, atol=1e-12 * np.abs(a).max())


def test_conductivity_scales_as_inverse_disorder():
    model = random_model(seed=8, nw=4)
    a = conductivity_boltzmann(model, Disorder("cell", 1.0), [0.3], [6, 6, 6], shift=[0.5] * 3).full
    b = conductivity_boltzmann(model, Disorder("cell", 4.0), [0.3], [6, 6, 6], shift=[0.5] * 3).full
    assert np.allclose(a, 4 * b, rtol=1e-10)


def test_single_band_full_equals_constant_tau_and_drude():
    """One isotropic band (|O|² = 1): the kernel is isotropic, so Λ = τ v exactly and σ = e²τΣwvv;
    near the band bottom it is the Drude n e² τ / m with 1/τ = 2π u0² ρ/ħ."""
    from wkin.model import TightBindingModel
    t, a, c = 1.0, 1.0, 1.0
    R = [[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]]
    H = np.array([4 * t, -t, -t, -t, -t], complex).reshape(5, 1, 1)
    model = TightBindingModel(np.diag([a, a, c]), R, H)
    mu = 0.01  # k_F a = 0.1: band non-parabolicity ~ (k_F a)²/6 ≈ 0.2 %
    d = Disorder("cell", 0.02)
    r = conductivity_boltzmann(model, d, [mu], [800, 800, 1])
    assert np.allclose(r.full, r.constant_tau, rtol=1e-8, atol=1e-8 * r.full.max())
    assert np.allclose(r.full, r.rta, rtol=1e-8, atol=1e-8 * r.full.max())
    # Drude: m* = ħ²/(2 t a²), n = μ ρ (parabolic), ρ = m*/(2π ħ²) per area
    rho = 1 / (4 * np.pi * t * a**2)  # 1/(eV Å²)
    tau = HBAR_EVS / (2 * np.pi * (d.strength / c) * rho)
    n = mu * rho / (c * 1e-30)  # electrons per m³
    mstar = hbar**2 / (2 * t * e * (a * 1e-10) ** 2)
    drude = n * e**2 * tau / mstar
    assert r.full[0, 0, 0] == pytest.approx(drude, rel=5e-3)
    assert r.tau_avg[0] == pytest.approx(tau, rel=5e-3)


@pytest.fixture(scope="module")
def dirac_shell():
    """Massive Dirac near the band bottom: ħv = t a = 1 eV·Å, M = 0.02 eV, ε_F = 0.06 eV (ξ_F = 1/3).
    Lattice corrections B k_F²/M ≈ 0.6 % and (k_F a)² ≈ 0.3 % set the 1 % tolerance."""
    model = massive_dirac(t=1.0, a=1.0, B=0.04, M=0.02)
    d = Disorder("cell", 0.01)
    r = conductivity_boltzmann(model, d, [0.06], [1000, 1000, 1], keep_shells=True)
    return model, d, r


def test_dirac_drude_conductivity_and_transport_time(dirac_shell):
    model, d, r = dirac_shell
    c = np.linalg.norm(model.lattice[2])
    eF, M = 0.06, 0.02
    xi = M / eF
    rho = eF / (2 * np.pi)  # 1/(eV Å²), ħv = 1 eV Å
    tau = HBAR_EVS / (np.pi * (d.strength / c) * rho)  # spec §4.1: 1/τ = π u0² ρ/ħ
    v = 1.0 * e * 1e-10 / hbar
    sigma = e**2 * (rho / (e * 1e-20)) * v**2 * tau * (1 - xi**2) / (1 + 3 * xi**2)  # sheet, S
    sheet = r.full[0] * c * 1e-10
    assert sheet[0, 0] == pytest.approx(sigma, rel=1e-2)
    assert sheet[1, 1] == pytest.approx(sigma, rel=1e-2)
    # out-scattering (quasiparticle) rate (1 + ξ²)/τ, spec §4.1
    rates = r.shells[0].rate
    assert np.allclose(rates, (1 + xi**2) / tau, rtol=1e-2)
    # transport time τ_tr = 2τ/(1+3ξ²): σ = e² ρ v_F² τ_tr (1-ξ²)/2 ⇔ ratio to the RTA value
    assert (r.full[0, 0, 0] / r.rta[0, 0, 0]) == pytest.approx((2 / (1 + 3 * xi**2)) / (1 / (1 + xi**2)), rel=1e-2)


def test_extended_degeneracy_is_refused():
    """Two identical copies of a band (a stand-in for Kramers pairs) are degenerate everywhere."""
    base = rashba_exchange(alpha=0.0, J=0.0)
    fs = fermi_surface(base, 0.5, [40, 40, 1])
    with pytest.raises(DegenerateBandsError, match="Kramers"):
        shell_states(base, fs)


def test_rashba_exchange_continuum_limit_and_two_zero_modes():
    """Rashba + exchange near the band bottom (seed-003 §4.3, §4.6): without SOC (α = 0) the spin bands
    decouple — two elastically disconnected sheets, two zero modes — and σ = n e² τ_F/m*,
    1/τ_F = 2π u0² D_F/ħ with D_F = m*/(2πħ²) per spin; small α changes this by O((α k_F/J)²)."""
    t, mu, J = 1.0, 0.01, 0.005
    d = Disorder("cell", 0.02)
    rho = 1 / (4 * np.pi * t)  # per spin, 1/(eV Å²)
    tau = HBAR_EVS / (2 * np.pi * d.strength * rho)  # c = 1 Å
    n = 2 * mu * rho / 1e-30  # both spins, m^-3
    mstar = hbar**2 / (2 * t * e * 1e-20)
    drude = n * e**2 * tau / mstar
    grid = [800, 800, 1]
    m0 = rashba_exchange(t=t, alpha=0.0, J=J)
    fs = fermi_surface(m0, mu, grid)
    st, v = shell_states(m0, fs)
    op = CollisionOperator(st, d, m0)
    lam_dense, _ = solve_dense(dense_kernel(op, d, m0), st.weight, v)
    assert op.zero_modes.shape[1] == 2
    assert np.abs(op.solve(v) - lam_dense).max() < 1e-10 * np.abs(lam_dense).max()
    r0 = conductivity_boltzmann(m0, d, [mu], grid)
    assert r0.full[0, 0, 0] == pytest.approx(drude, rel=5e-3)
    r1 = conductivity_boltzmann(rashba_exchange(t=t, alpha=0.002, J=J), d, [mu], grid)  # α k_F/J ≈ 0.05
    assert r1.full[0, 0, 0] == pytest.approx(drude, rel=1e-2)


def test_low_temperature_shell_sum_approaches_zero_temperature():
    """T > 0 is a (−∂f/∂E)-weighted Gauss–Legendre sum of independent shells; at k_BT ≪ μ it tends to T = 0."""
    model = rashba_exchange(t=1.0, alpha=0.1, J=0.05)
    d = Disorder("cell", 0.05)
    r0 = conductivity_boltzmann(model, d, [0.5], [120, 120, 1], shift=[0.5, 0.5, 0])
    r1 = conductivity_boltzmann(model, d, [0.5], [120, 120, 1], shift=[0.5, 0.5, 0], temperature=5.0, nodes=8)
    assert r1.full[0, 0, 0] == pytest.approx(r0.full[0, 0, 0], rel=1e-2)
    assert r1.full[0, 0, 0] != r0.full[0, 0, 0]


def test_smeared_fallback_kernel_is_symmetric_conserving_and_matches_tetrahedra():
    """Spec seed-000 §3 step 3 fallback: Gaussian outer and pair δ on a uniform grid. Its kernel is exactly
    symmetric with exact row sums (dense pair check), and σ converges to the tetrahedron result
    (0.3 % at 200², widths 30/15 meV, for this smooth Fermi surface)."""
    model = rashba_exchange(t=1.0, alpha=0.3, J=0.1)
    d = Disorder("cell", 0.05)
    st, v, nu = window_states(model, 0.8, TetrahedronSampler(model, [40, 40, 1], [0.5, 0.5, 0]), 0.1)
    op = SmearedCollisionOperator(st, d, model, nu, 0.02)
    K = smeared_dense_kernel(op)
    assert np.allclose(K, K.T, rtol=1e-12, atol=1e-12 * K.max())
    assert np.allclose(K.sum(axis=1), op.rate, rtol=1e-10)
    g = np.random.default_rng(3).normal(size=(len(st.energy), 2))
    assert np.allclose(op.in_scattering(g), K @ g, rtol=1e-10, atol=1e-10 * np.abs(K @ g).max())
    lam = op.solve(v)
    assert np.allclose(op.apply(lam), op._project(v), rtol=1e-8, atol=1e-8 * np.abs(v).max())
    exact = conductivity_boltzmann(model, d, [0.8], [300, 300, 1], shift=[0.5, 0.5, 0])
    smeared = conductivity_boltzmann(model, d, [0.8], [200, 200, 1], shift=[0.5, 0.5, 0], quadrature="smeared",
                                     width=0.03, pair_width=0.015)
    assert smeared.full[0, 0, 0] == pytest.approx(exact.full[0, 0, 0], rel=1e-2)
    assert smeared.rta[0, 0, 0] == pytest.approx(exact.rta[0, 0, 0], rel=1e-2)
