"""Fermi-surface quadrature: Σ_i w_i = DOS(μ) against closed forms (2D square lattice, 3D band bottom)."""

import numpy as np
import pytest
from scipy.special import ellipk

from wkin.kspace.fermi_surface import fermi_surface
from wkin.model import TightBindingModel


def _nearest_neighbour(dim, t=1.0, a=1.0):
    R = [[0, 0, 0]]
    for ax in range(dim):
        for s in (1, -1):
            r = [0, 0, 0]
            r[ax] = s
            R.append(r)
    H = np.array([2 * dim * t] + [-t] * (2 * dim), complex).reshape(-1, 1, 1)
    return TightBindingModel(np.diag([a, a, a]), R, H)


@pytest.mark.parametrize("mu", [0.3, 1.7, 3.2])
def test_square_lattice_dos_is_the_elliptic_closed_form(mu):
    """ε = 2t(2 − cos k_x − cos k_y): ρ(ε) = K(1 − (ε−2t)²/4t²... ) / (2π² t a²) (per area, one band)."""
    model = _nearest_neighbour(2)
    fs = fermi_surface(model, mu, [400, 400, 1], shift=[0.5, 0.5, 0])
    x = (mu - 4.0) / 4.0
    exact = ellipk(1 - x**2) / (2 * np.pi**2)  # 1/(eV Å²), t = a = 1
    assert fs.dim == 2
    assert fs.weight.sum() * 1.0 == pytest.approx(exact, rel=2e-3)  # c = 1 Å
    # points lie on the shell and carry positive weights
    E = np.linalg.eigvalsh(model.hamiltonian(fs.k))[:, 0]
    assert np.all(fs.weight > 0) and np.abs(E - mu).max() < 5e-3


@pytest.mark.parametrize("mu", [0.5, 2.5])
def test_simple_cubic_dos(mu):
    """ε = 2t(3 − Σcos k_i): g_3D(ε) = (1/2π)∫dk_z ρ_2D(ε − 2t(1 − cos k_z)), ρ_2D the elliptic form (quadrature)."""
    from scipy.integrate import quad

    def rho2d(e):
        return ellipk(1 - ((e - 4.0) / 4.0) ** 2) / (2 * np.pi**2) if 0 < e < 8 else 0.0

    kz_max = np.arccos(max(-1.0, 1 - mu / 2))  # ε − 2(1 − cos k_z) > 0
    exact = quad(lambda kz: rho2d(mu - 2 * (1 - np.cos(kz))), -kz_max, kz_max, limit=200)[0] / (2 * np.pi)
    model = _nearest_neighbour(3)
    fs = fermi_surface(model, mu, [96, 96, 96], shift=[0.5, 0.5, 0.5])
    assert fs.dim == 3
    assert fs.weight.sum() == pytest.approx(exact, rel=3e-3)


def test_empty_shell():
    model = _nearest_neighbour(2)
    fs = fermi_surface(model, 100.0, [20, 20, 1])
    assert len(fs.k) == 0


def test_fe_dos_at_the_fermi_level_converges_with_the_mesh():
    """bcc Fe (bundled 18-WF model): the tetrahedron DOS(E_F) per cell is converged to 2.5 % from 20³ on
    (measured: 0.886, 0.893, 0.878 states/(eV·cell) at 20³, 24³, 32³; 16³ is 2 % lower still)."""
    from pathlib import Path
    fe = Path(__file__).resolve().parents[1] / "examples" / "materials" / "Fe" / "Fe"
    model = TightBindingModel.from_wannier90(str(fe))
    dos = [fermi_surface(model, 13.5219, [n, n, n]).weight.sum() * model.cell_volume for n in (20, 24, 32)]
    assert max(abs(d - dos[-1]) for d in dos) < 0.025 * dos[-1]
    assert 0.8 < dos[-1] < 1.0
