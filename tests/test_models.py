"""The analytic models of :mod:`wkin.model.lattice`: Hermiticity, H(k) against closed-form matrices
written out here independently, Pauli spin matrices, and symmetry of the chiral model."""

import numpy as np
import pytest
import spglib

from wkin.bands import solve
from wkin.kspace.integrate import integrate
from wkin.kspace.occupations import Occupations
from wkin.model import lattice as models
from wkin.quantities import observables

SX = np.array([[0, 1], [1, 0]], complex)
SY = np.array([[0, -1j], [1j, 0]], complex)
SZ = np.array([[1, 0], [0, -1]], complex)
S0 = np.eye(2, dtype=complex)

RNG = np.random.default_rng(20240611)
K_RED = RNG.uniform(-1, 1, (25, 3))


def cart(model, k_red):
    return np.asarray(k_red) @ model.recip_lattice


def all_models():
    return {
        "massive_dirac": models.massive_dirac(t=0.7, a=2.5, B=0.3, M=-0.04, c=3.0),
        "haldane": models.haldane(t1=0.9, t2=0.15, phi=0.7, M=0.12, a=2.46, c=3.35),
        "rashba_exchange": models.rashba_exchange(t=0.8, alpha=0.4, J=0.07, a=3.1, c=2.0),
        "weyl_two_node": models.weyl_two_node(t=0.9, m=1.1, k0=1.1, a=2.2),
        "chiral_trigonal": models.chiral_trigonal(t1=-1.1, t2=-0.35, eps=0.2),
        "chiral_trigonal_left": models.chiral_trigonal(handedness=-1),
    }


# ------------------------------------------------------------------ closed-form H(k)

def H_massive_dirac(kc, t, a, B, M):
    kx, ky = kc[..., 0] * a, kc[..., 1] * a
    return (t * (np.sin(kx)[:, None, None] * SY - np.sin(ky)[:, None, None] * SX)
            + (M + B * (2 - np.cos(kx) - np.cos(ky)))[:, None, None] * SZ)


def H_rashba(kc, t, alpha, J, a):
    kx, ky = kc[..., 0] * a, kc[..., 1] * a
    return ((2 * t * (2 - np.cos(kx) - np.cos(ky)))[:, None, None] * S0
            + alpha / a * (np.sin(ky)[:, None, None] * SX - np.sin(kx)[:, None, None] * SY) + J * SZ)


def H_weyl(kc, t, m, k0, a):
    kx, ky, kz = (kc[..., i] * a for i in range(3))
    dz = m * (2 - np.cos(kx) - np.cos(ky)) + t * (np.cos(kz) - np.cos(k0))
    return t * (np.sin(kx)[:, None, None] * SX + np.sin(ky)[:, None, None] * SY) + dz[:, None, None] * SZ


def H_haldane(kc, t1, t2, phi, M, a):
    a1 = a * np.array([1.0, 0, 0])
    a2 = a * np.array([0.5, np.sqrt(3) / 2, 0])
    bs = (a1, a2 - a1, -a2)
    f = t1 * (1 + np.exp(-1j * kc @ a1) + np.exp(-1j * kc @ a2))
    d0 = 2 * t2 * np.cos(phi) * sum(np.cos(kc @ b) for b in bs)
    dz = M - 2 * t2 * np.sin(phi) * sum(np.sin(kc @ b) for b in bs)
    H = np.zeros((len(kc), 2, 2), complex)
    H[:, 0, 0], H[:, 1, 1] = d0 + dz, d0 - dz
    H[:, 0, 1], H[:, 1, 0] = f, f.conj()
    return H


def test_closed_form_matrices():
    m = all_models()
    cases = [
        ("massive_dirac", lambda kc: H_massive_dirac(kc, 0.7, 2.5, 0.3, -0.04)),
        ("haldane", lambda kc: H_haldane(kc, 0.9, 0.15, 0.7, 0.12, 2.46)),
        ("rashba_exchange", lambda kc: H_rashba(kc, 0.8, 0.4, 0.07, 3.1)),
        ("weyl_two_node", lambda kc: H_weyl(kc, 0.9, 1.1, 1.1, 2.2)),
    ]
    for name, closed in cases:
        model = m[name]
        np.testing.assert_allclose(model.hamiltonian(K_RED), closed(cart(model, K_RED)), atol=1e-12,
                                   err_msg=name)


def test_default_parameters():
    kc = cart(models.massive_dirac(), K_RED)
    np.testing.assert_allclose(models.massive_dirac().hamiltonian(K_RED), H_massive_dirac(kc, 1.0, 1.0, 0.2, 0.05),
                               atol=1e-12)
    np.testing.assert_allclose(models.rashba_exchange().hamiltonian(K_RED), H_rashba(kc, 1.0, 0.3, 0.1, 1.0),
                               atol=1e-12)
    np.testing.assert_allclose(models.weyl_two_node().hamiltonian(K_RED), H_weyl(kc, 1.0, 1.0, np.pi / 2, 1.0),
                               atol=1e-12)
    h = models.haldane()
    np.testing.assert_allclose(h.hamiltonian(K_RED), H_haldane(cart(h, K_RED), 1.0, 0.1, np.pi / 2, 0.0, 1.0),
                               atol=1e-12)
    for model in (models.massive_dirac(), models.rashba_exchange(), models.haldane()):
        assert model.lattice[2] == pytest.approx([0, 0, 1.0])  # 2D: c = 1 Å, no hopping along z
        assert np.all(model.R[:, 2] == 0)


@pytest.mark.parametrize("name", list(all_models()))
def test_hermitian_and_geometry(name):
    model = all_models()[name]
    H = model.hamiltonian(K_RED)
    np.testing.assert_allclose(H, H.conj().transpose(0, 2, 1), atol=1e-13)
    index = {tuple(r): i for i, r in enumerate(model.R)}
    minus = [index[tuple(-r)] for r in model.R]
    np.testing.assert_allclose(model.H_R, model.H_R[minus].conj().transpose(0, 2, 1), atol=1e-14)
    assert np.linalg.det(model.lattice) > 0  # right-handed: Ω_12 in reduced k has the sign of Ω_z
    assert model.centres.shape == (model.num_wann, 3)
    # periodic gauge: H(k + G) = H(k)
    np.testing.assert_allclose(model.hamiltonian(K_RED + [1, -2, 1]), H, atol=1e-11)


# ------------------------------------------------------------------ spin

@pytest.mark.parametrize("name", ["massive_dirac", "rashba_exchange", "weyl_two_node"])
def test_spin_matrices_are_pauli(name):
    model = all_models()[name]
    assert model.has_spin
    i0 = np.flatnonzero(np.all(model.R == 0, axis=1))[0]
    np.testing.assert_array_equal(model.S_R[i0], np.array([SX, SY, SZ]))
    others = np.delete(model.S_R, i0, axis=0)
    assert np.all(others == 0)
    F = model.fourier(K_RED)
    np.testing.assert_allclose(F["S"], np.broadcast_to(np.array([SX, SY, SZ]), F["S"].shape), atol=1e-14)


@pytest.mark.parametrize("name", ["massive_dirac", "rashba_exchange", "weyl_two_node"])
def test_band_spin_is_dhat(name):
    """For H = d0 + d·σ the upper band has ⟨σ⟩ = d̂ and the lower −d̂."""
    model = all_models()[name]
    H = model.hamiltonian(K_RED)
    d = np.stack([np.real(np.einsum("kij,ji->k", H, P)) / 2 for P in (SX, SY, SZ)], -1)
    dhat = d / np.linalg.norm(d, axis=1, keepdims=True)
    spin = solve(model, K_RED).spin
    np.testing.assert_allclose(spin[:, 1], dhat, atol=1e-10)
    np.testing.assert_allclose(spin[:, 0], -dhat, atol=1e-10)


def test_spinless_models_have_no_spin():
    assert not models.haldane().has_spin
    assert not models.chiral_trigonal().has_spin


# ------------------------------------------------------------------ special points

def test_massive_dirac_masses():
    t, B, M = 1.0, 0.2, 0.05
    model = models.massive_dirac(t=t, B=B, M=M)
    pts = np.array([[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0.5, 0.5, 0]])
    E = np.linalg.eigvalsh(model.hamiltonian(pts))
    np.testing.assert_allclose(E[:, 1], [M, M + 2 * B, M + 2 * B, M + 4 * B], atol=1e-13)
    np.testing.assert_allclose(E[:, 0], -E[:, 1], atol=1e-13)


def test_haldane_k_point_masses():
    t2, phi, M = 0.1, 0.9, 0.05
    model = models.haldane(t2=t2, phi=phi, M=M)
    K, Kp = np.array([[1 / 3, 2 / 3, 0]]), np.array([[2 / 3, 1 / 3, 0]])
    for kpt in (K, Kp):
        H = model.hamiltonian(kpt)[0]
        assert abs(H[0, 1]) < 1e-12  # f(K) = 0: the Dirac points
    d0 = -3 * t2 * np.cos(phi)
    s = 3 * np.sqrt(3) * t2 * np.sin(phi)
    masses = sorted([np.real(model.hamiltonian(k)[0, 0, 0]) - d0 for k in (K, Kp)])
    np.testing.assert_allclose(masses, sorted([M - s, M + s]), atol=1e-12)
    np.testing.assert_allclose(model.centres[1] - model.centres[0],
                               [0.5, np.sqrt(3) / 6, 0.0], atol=1e-12)  # NN bond a/√3 at 30°


def test_weyl_nodes():
    k0, a = 1.1, 2.2
    model = models.weyl_two_node(t=0.9, m=1.1, k0=k0, a=a)
    kz = k0 / (2 * np.pi)  # reduced: k_z a / 2π
    E = np.linalg.eigvalsh(model.hamiltonian(np.array([[0, 0, kz], [0, 0, -kz]])))
    np.testing.assert_allclose(E, 0.0, atol=1e-12)
    # gapped elsewhere on a grid avoiding the nodes' lines
    g = np.stack(np.meshgrid(*[np.arange(12) / 12 + 0.04] * 3, indexing="ij"), -1).reshape(-1, 3)
    E = np.linalg.eigvalsh(model.hamiltonian(g))
    assert (E[:, 1] - E[:, 0]).min() > 1e-3


# ------------------------------------------------------------------ chiral trigonal

def test_chiral_isolated_helix_closed_form():
    """t2 = 0: ε_m(k) = ε + 2t1 cos((k_z c + 2πm)/3), flat in-plane."""
    t1, eps = -0.8, 0.3
    model = models.chiral_trigonal(t1=t1, t2=0.0, eps=eps)
    kzc = 2 * np.pi * K_RED[:, 2]
    ref = np.sort(np.stack([eps + 2 * t1 * np.cos((kzc + 2 * np.pi * m) / 3) for m in range(3)], -1), axis=1)
    np.testing.assert_allclose(np.linalg.eigvalsh(model.hamiltonian(K_RED)), ref, atol=1e-12)


@pytest.mark.parametrize("handedness", [1, -1])
def test_chiral_structure_and_bonds(handedness):
    t1, t2 = -1.0, -0.3
    model = models.chiral_trigonal(t1=t1, t2=t2, handedness=handedness)
    pos, num = model.atoms
    sg = spglib.get_symmetry_dataset((model.lattice, pos, num))
    assert sg.number == (152 if handedness == 1 else 154)  # P3_121 / P3_221
    assert sg.pointgroup == "32"  # D3
    # each site: two intrachain bonds t1 (2.84 Å), four interchain bonds t2 (3.49 Å)
    i0 = np.flatnonzero(np.all(model.R == 0, axis=1))[0]
    for i in range(3):
        hop = model.H_R[:, i, :].copy()
        hop[i0, i] = 0.0
        assert np.sum(np.isclose(hop, t1)) == 2
        assert np.sum(np.isclose(hop, t2)) == 4
        assert np.sum(np.abs(hop) > 1e-12) == 6
        for R, j in zip(*np.nonzero(np.isclose(hop, t1))):
            dist = np.linalg.norm(model.R_cart[R] + model.centres[j] - model.centres[i])
            assert dist == pytest.approx(2.8367, abs=1e-3)


def test_chiral_spectrum_has_D3_symmetry():
    model = models.chiral_trigonal()
    kc = cart(model, K_RED)
    E = np.linalg.eigvalsh(model.hamiltonian(K_RED))
    c, s = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
    C3z = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    C2x = np.diag([1.0, -1.0, -1.0])  # two-fold axis along a1
    for Rot in (C3z, C2x, -np.eye(3)):  # −1: time reversal (real hoppings) gives ε(−k) = ε(k)
        k2 = (kc @ Rot.T) @ model.lattice.T / (2 * np.pi)
        np.testing.assert_allclose(np.linalg.eigvalsh(model.hamiltonian(k2)), E, atol=1e-11)
    # the enantiomer (handedness=-1) is the z → −z mirror image
    left = models.chiral_trigonal(handedness=-1)
    np.testing.assert_allclose(np.linalg.eigvalsh(left.hamiltonian(K_RED * [1, 1, -1])), E, atol=1e-11)


def test_chiral_gyrotropic_orbital_response():
    """K_orb ≠ 0 with the D3 form diag(K_xx, K_xx, K_zz); opposite for the enantiomer; no AHC."""
    mus = np.array([-1.6, -0.8, 0.8])
    K = []
    for hand in (1, -1):
        model = models.chiral_trigonal(handedness=hand)
        res = integrate(model, observables(["gme_orb", "ahc"]), Occupations(mu=mus, temperature=300.0), [18, 18, 18])
        K.append(res.values["gme_orb"])
        scale = np.abs(res.values["gme_orb"]).max()
        assert scale > 1e-7  # A
        np.testing.assert_allclose(res.values["gme_orb"][:, 0, 0], res.values["gme_orb"][:, 1, 1],
                                   rtol=1e-8, atol=1e-12 * scale)
        off = res.values["gme_orb"] * (1 - np.eye(3))
        assert np.abs(off).max() < 1e-10 * scale
        assert np.abs(res.values["ahc"]).max() < 1e-6  # S/cm: time reversal
    np.testing.assert_allclose(K[0], -K[1], atol=1e-10 * np.abs(K[0]).max())
