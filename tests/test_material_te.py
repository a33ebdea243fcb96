"""Trigonal Te from this repository's QE + Wannier90 pipeline (examples/materials/Te): wkin against
postw90 (bundled reference outputs, same 25³ grid and smearing) and WannierBerri (same _tb.dat and mesh)."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.constants import e, hbar

from wkin.kspace.integrate import Observable, integrate
from wkin.kspace.occupations import Occupations
from wkin.model import TightBindingModel
from wkin.quantities import observables
from wkin.response.intrinsic import GME_ORB_PREFACTOR, energy_weighted_dipole
from wkin.symmetry import crystal_symmetry, symmetrize

pytestmark = pytest.mark.crosscode

TE = Path(__file__).resolve().parents[1] / "examples" / "materials" / "Te"
REF = TE / "reference" / "gyrotropic_fullbz"


@pytest.fixture(scope="module")
def te_ws():
    return TightBindingModel.from_wannier90(str(TE / "Te"), use_ws_distance=True)


def _postw90(name):
    data = np.loadtxt(REF / f"Te-gyrotropic-{name}.dat")
    return data if data.ndim == 1 or data.shape[1] == 2 else data[data[:, 1] == 0]


def _smearing(mu):
    # postw90 δ(x) = exp(−(x/η)²)/(√π η), η = gyrotropic_smr_fixed_en_width = 0.01 eV: a Gaussian of σ = η/√2
    return Occupations(mu=mu, surface_kind="gaussian", broadening=0.01 / np.sqrt(2))


def test_dos_and_velocity_tensor_against_postw90(te_ws):
    """postw90 gyrotropic DOS (eV⁻¹Å⁻³) and C tensor (A/cm) = e/h ∫δ v_a v_b, on the same 25³ grid, with
    use_ws_distance: agree to postw90's printed 6 digits."""
    dos = _postw90("DOS")
    C = _postw90("C")
    mu = dos[:, 0]
    r = integrate(te_ws, observables(["dos", "ohmic"], tau=1.0), _smearing(mu), [25, 25, 25]).values
    wk_dos = r["dos"] / te_ws.cell_volume
    big = dos[:, 1] > 1e-4 * dos[:, 1].max()
    assert np.allclose(wk_dos[big], dos[big, 1], rtol=2e-5)
    c = r["ohmic"] * hbar / (2 * np.pi * e * 1e-15)  # σ/τ·ħ/(2πe): the C tensor in A/cm
    cols = {"xx": (0, 0), "yy": (1, 1), "zz": (2, 2), "xy": (0, 1), "xz": (0, 2), "yz": (1, 2)}
    for j, (a, b) in enumerate(cols.values()):
        ref = C[:, 2 + j]
        scale = np.abs(C[:, 2:5]).max(axis=1)
        ok = scale > 1e-3 * scale.max()
        assert np.allclose(c[ok, a, b], ref[ok], rtol=2e-5, atol=2e-5 * scale[ok].max())


@pytest.fixture(scope="module")
def te_pair(tmp_path_factory):
    wb = pytest.importorskip("wannierberri")
    path = tmp_path_factory.mktemp("te") / "Te_tb.dat"
    with gzip.open(TE / "Te_tb.dat.gz", "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    system = wb.system.System_R.from_tb_dat(tb_file=str(path), berry=True)
    model = TightBindingModel.from_wannier90(str(TE / "Te"), use_ws_distance=False)
    return wb, system, model


def test_against_wannierberri_on_the_same_tb_file(te_pair):
    """Same _tb.dat (no ws correction in either), same 12³ grid: DOS, electron count, Ohmic, Berry dipole
    to 1e-6 relative; the orbital K with the tight-binding position matrix and WannierBerri's μ-for-ε_n term."""
    wb, system, model = te_pair
    EF = np.linspace(5.80, 6.00, 11)
    NK = (12, 12, 12)
    st = wb.calculators.static
    kw = {"external_terms": False}
    calcs = {"ohmic": st.Ohmic_FermiSurf(Efermi=EF), "bcd": st.BerryDipole_FermiSurf(Efermi=EF, use_factor=False),
             "dos": st.DOS(Efermi=EF), "cum": st.CumDOS(Efermi=EF),
             "gme": st.GME_orb_FermiSurf(Efermi=EF, kwargs_formula=kw)}
    res = wb.run(system, grid=wb.Grid(system, NK=NK, NKFFT=NK), calculators=calcs, use_irred_kpt=False,
                 symmetrize=False, print_Kpoints=False)
    ref = {k: res.results[k].data for k in calcs}
    r = integrate(model, observables(["ohmic", "berry_dipole", "dos", "electrons"]), Occupations(mu=EF, broadening=EF[1] - EF[0]), NK).values

    def rel(a, b):
        return np.abs(a - b).max() / np.abs(b).max()

    assert rel(r["ohmic"] * 100, ref["ohmic"]) < 1e-6
    assert rel(r["berry_dipole"], ref["bcd"]) < 1e-6
    assert rel(r["dos"], ref["dos"]) < 1e-6
    assert rel(r["electrons"], ref["cum"]) < 1e-6
    tb = TightBindingModel(model.lattice, model.R, model.H_R, centres=model.centres)
    shift = Observable("shift", "surface", energy_weighted_dipole, (3, 3), GME_ORB_PREFACTOR)
    g = integrate(tb, observables(["gme_orb", "berry_dipole"]) + [shift], Occupations(mu=EF, broadening=EF[1] - EF[0]), NK).values
    c = GME_ORB_PREFACTOR
    k_wb = g["gme_orb"] - (g["shift"] - c * EF[:, None, None] * g["berry_dipole"])
    assert rel(k_wb, ref["gme"]) < 1e-6


def test_d3_shape_without_symmetrization(te_ws):
    """Te (P3₁21, grey point group 321'): σ, D and K have the form xx = yy, zz, off-diagonal zero. The
    unsymmetrized Wannier model reproduces it to the size of its own symmetry breaking, measured here
    (18³, μ = 5.84–5.92 eV) as |X − PX|/|X| = 4e-6 (σ), 7e-4 (D), 3.5e-3 (K; small, Fermi-surface detail)."""
    sym = crystal_symmetry(te_ws)
    assert sym.spacegroup_number == 152 and sym.magnetic_pointgroup_symbol == "321'"
    mu = np.linspace(5.84, 5.92, 5)
    r = integrate(te_ws, observables(["ohmic", "berry_dipole", "gme_orb"]), _smearing(mu), [18, 18, 18]).values
    for name, tol in (("ohmic", 1e-4), ("berry_dipole", 3e-3), ("gme_orb", 1e-2)):
        x = r[name]
        allowed = symmetrize(x, sym, "polar2_even" if name == "ohmic" else "axial2_even")
        assert np.linalg.norm(x - allowed) < tol * np.linalg.norm(x), name
        assert np.abs(x[:, 0, 0] - x[:, 1, 1]).max() < tol * np.abs(x).max()
        assert np.abs(x[:, 0, 1]).max() < tol * np.abs(x).max()
