"""Band quantities: Fourier/FFT consistency, gauge invariance, Berry curvature vs link variables."""

import numpy as np
import pytest
from conftest import random_model

from wkin.bands import from_eigenvectors, solve
from wkin.kspace.mesh import uniform
from wkin.model import ModelError, TightBindingModel


def test_fft_grid_equals_direct_sum(rmodel):
    for k, F in rmodel.fourier_grid([4, 6, 3], shift=[0.5, 0, 0.25], budget_points=8):
        G = rmodel.fourier(k)
        for key in F:
            assert np.abs(F[key] - G[key]).max() < 1e-11


def test_fft_grid_covers_the_grid_once(rmodel):
    ks = np.concatenate([k for k, _ in rmodel.fourier_grid([4, 6, 2], budget_points=6)])
    ref = uniform([4, 6, 2])
    assert len(ks) == len(ref)
    assert set(map(tuple, np.round(ks * [4, 6, 2]).astype(int))) == set(map(tuple, np.round(ref * [4, 6, 2]).astype(int)))


def test_derivative_of_H_is_finite_difference(rmodel):
    k = np.array([[0.13, 0.27, -0.31]])
    h = 1e-5
    F = rmodel.fourier(k)
    kc = rmodel.to_cartesian(k)[0]
    for a in range(3):
        dk = np.zeros(3)
        dk[a] = h
        kp = np.linalg.solve(rmodel.recip_lattice.T, kc + dk)[None]
        km = np.linalg.solve(rmodel.recip_lattice.T, kc - dk)[None]
        fd = (rmodel.hamiltonian(kp) - rmodel.hamiltonian(km)) / (2 * h)
        # F["dH"] is the centre-phase derivative ∂H − i[τ, H] (TightBindingModel.fourier)
        tau = rmodel.centres[:, a]
        expected = fd + 1j * (tau[None, :] - tau[:, None]) * F["H"][0]
        assert np.abs(expected - F["dH"][:, a]).max() < 1e-6


def test_band_velocity_is_gradient_of_energy(rmodel):
    k = np.random.default_rng(3).uniform(size=(5, 3))
    b = solve(rmodel, k)
    h = 1e-6
    for a in range(3):
        dk = np.zeros(3)
        dk[a] = h
        shift = np.linalg.solve(rmodel.recip_lattice.T, dk)
        Ep = np.linalg.eigvalsh(rmodel.hamiltonian(k + shift))
        Em = np.linalg.eigvalsh(rmodel.hamiltonian(k - shift))
        assert np.abs((Ep - Em) / (2 * h) - b.velocity[..., a]).max() < 1e-5


def _random_phases(U, rng):
    return U * np.exp(2j * np.pi * rng.uniform(size=U.shape[::2]))[:, None, :]


def test_gauge_invariance_random_phases(rmodel):
    rng = np.random.default_rng(7)
    k = rng.uniform(size=(20, 3))
    F = rmodel.fourier(k)
    E, U = np.linalg.eigh(F["H"])
    b0 = from_eigenvectors(k, F, E, U)
    b1 = from_eigenvectors(k, F, E, _random_phases(U, rng))
    for name in ("velocity", "berry_curvature", "orbital_moment", "spin"):
        x0, x1 = getattr(b0, name), getattr(b1, name)
        assert np.abs(x0 - x1).max() < 1e-10 * max(1.0, np.abs(x0).max()), name
    for name in (None, "berry_curvature_matrix", "orbital_moment_matrix", "spin_matrix"):
        t0 = b0.velocity_traced(None if name is None else getattr(b0, name))
        t1 = b1.velocity_traced(None if name is None else getattr(b1, name))
        assert np.abs(t0 - t1).max() < 1e-9 * max(1.0, np.abs(t0).max()), name
    # |A_nm| is gauge-invariant off the diagonal; A_nm itself picks up e^{i(phi_m - phi_n)}
    assert np.allclose(np.abs(b0.berry_connection), np.abs(b1.berry_connection), atol=1e-10)


def test_group_trace_invariant_under_unitary_mixing_of_degenerate_pair():
    """A model with an exactly degenerate pair (two copies of one band): traced products do not depend on the basis."""
    base = random_model(seed=2, nw=2)
    nw = 4
    H = np.zeros((len(base.R), nw, nw), complex)
    H[:, :2, :2] = base.H_R
    H[:, 2:, 2:] = base.H_R
    m = TightBindingModel(base.lattice, base.R, H)
    rng = np.random.default_rng(1)
    k = rng.uniform(size=(6, 3))
    F = m.fourier(k)
    E, U = np.linalg.eigh(F["H"])
    b0 = from_eigenvectors(k, F, E, U)
    X = rng.normal(size=(6, 2, 2)) + 1j * rng.normal(size=(6, 2, 2))
    Q, _ = np.linalg.qr(X)
    U1 = U.copy()
    U1[:, :, 0:2] = U[:, :, 0:2] @ Q  # lowest two bands are the degenerate copies
    b1 = from_eigenvectors(k, F, E, U1)
    for name in (None, "berry_curvature_matrix", "orbital_moment_matrix"):
        t0 = b0.velocity_traced(None if name is None else getattr(b0, name))
        t1 = b1.velocity_traced(None if name is None else getattr(b1, name))
        assert np.allclose(t0[:, :2].sum(1), t1[:, :2].sum(1), atol=1e-10), name
    assert np.allclose(b0.berry_curvature[:, :2].sum(1), b1.berry_curvature[:, :2].sum(1), atol=1e-10)
    assert np.allclose(b0.orbital_moment[:, :2].sum(1), b1.orbital_moment[:, :2].sum(1), atol=1e-10)


def _link_curvature(model, k_red, band, h=1e-4):
    """Ω_z of one band from a Fukui-Hatsugai plaquette, with convention-I eigenvectors (independent reference).

    With the diagonal (tight-binding) position matrix, the cell-periodic Bloch vectors are
    u(k) = diag(e^{-ik·τ}) U(k); their overlaps need no position matrix.
    """
    rec = model.recip_lattice
    kc = model.to_cartesian(k_red)[0] - [h / 2, h / 2, 0]  # plaquette centred on k
    corners = [kc, kc + [h, 0, 0], kc + [h, h, 0], kc + [0, h, 0]]
    vecs = []
    for q in corners:
        qr = np.linalg.solve(rec.T, q)
        _, U = np.linalg.eigh(model.hamiltonian(qr[None]))
        vecs.append(np.exp(-1j * model.centres @ q)[:, None] * U[0][:, band][:, None])
    prod = 1.0 + 0j
    for i in range(4):
        prod *= (vecs[i].conj().T @ vecs[(i + 1) % 4])[0, 0]
    return -np.angle(prod) / h**2


def test_berry_curvature_matches_link_variables_tight_binding():
    base = random_model(seed=4, nw=3)
    m = TightBindingModel(base.lattice, base.R, base.H_R, centres=base.centres)  # A = diag(τ)
    k = np.array([[0.11, 0.23, 0.37]])
    b = solve(m, k)
    for n in range(3):
        ref = _link_curvature(m, k, n)
        assert b.berry_curvature[0, n, 2] == pytest.approx(ref, rel=1e-5)


def test_hermiticity_is_checked():
    base = random_model(seed=1, nw=2)
    H = base.H_R.copy()
    H[0, 0, 1] += 0.1
    with pytest.raises(ModelError, match="H\\(R\\)"):
        TightBindingModel(base.lattice, base.R, H)


def test_from_tbmodels_follows_the_tbmodels_hopping_convention():
    """tbmodels stores each hopping once: H(k) = Σ_R hop[R] e^{2πik·R} + h.c. with half the on-site
    energies in hop[0]; pos in reduced coordinates. (An object with tbmodels' attributes stands in for
    tbmodels.Model, which cannot be installed beside numpy 2.)"""
    from types import SimpleNamespace
    rng = np.random.default_rng(5)
    hop = {(0, 0, 0): np.diag([0.25, -0.5]).astype(complex),
           (1, 0, 0): rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)),
           (0, 1, -1): rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))}
    uc = np.array([[2.0, 0, 0], [0.5, 2.2, 0], [0, 0.3, 3.1]])
    pos = np.array([[0.1, 0.2, 0.3], [0.6, 0.5, 0.4]])
    tb = SimpleNamespace(hop=hop, pos=pos, uc=uc, size=2)
    model = TightBindingModel.from_tbmodels(tb)
    k = rng.uniform(size=(4, 3))
    H = np.zeros((4, 2, 2), complex)
    for R, m in hop.items():
        term = np.exp(2j * np.pi * k @ np.array(R))[:, None, None] * m
        H += term + term.conj().transpose(0, 2, 1)
    assert np.allclose(model.hamiltonian(k), H)
    assert np.allclose(model.centres, pos @ uc)
