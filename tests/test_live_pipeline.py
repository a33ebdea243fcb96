"""Live cross-code check: Quantum ESPRESSO → Wannier90 → postw90 run now, on this machine, for trigonal Te
(interfaces/qe_wannier90, about 2–3 minutes on 2 cores), then wkin on the freshly written files against the
freshly computed postw90 gyrotropic outputs (same 25³ grid and smearing).

Needs the Debian packages quantum-espresso, wannier90 and wannier90-data (.ci/run installs them); skipped
when they are missing. Unlike tests/test_material_te.py, nothing here comes from stored outputs."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.constants import e, hbar

from wkin.kspace.integrate import integrate
from wkin.kspace.occupations import Occupations
from wkin.model import TightBindingModel
from wkin.quantities import observables

pytestmark = [pytest.mark.crosscode, pytest.mark.live_dft]

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "interfaces" / "qe_wannier90" / "run_pipeline.py"
PSEUDO = Path("/usr/share/doc/wannier90/examples/example24/input/Te.pbe-n-nc.UPF.gz")
TOOLS = ("pw.x", "pw2wannier90.x", "wannier90.x", "postw90.x")


@pytest.fixture(scope="module")
def te_run(tmp_path_factory):
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing or not PSEUDO.exists():
        pytest.skip(f"QE/Wannier90 not installed ({', '.join(missing) or PSEUDO}): apt-get install quantum-espresso "
                    "wannier90 wannier90-data")
    work = tmp_path_factory.mktemp("w90_Te")
    subprocess.run([sys.executable, str(PIPELINE), "Te", "--workdir", str(work), "--postw90"], check=True,
                   timeout=1500, stdout=subprocess.DEVNULL)
    return work


def _postw90(work, name):
    data = np.loadtxt(work / "postw90" / "gyrotropic_fullbz" / f"Te-gyrotropic-{name}.dat")
    return data if data.ndim == 1 or data.shape[1] == 2 else data[data[:, 1] == 0]


def test_fresh_te_dos_and_velocity_tensor_against_fresh_postw90(te_run):
    """DOS (eV⁻¹Å⁻³) and the C tensor (A/cm) = e/h ∫δ v_a v_b: postw90's printed 6 digits, as for the stored run."""
    model = TightBindingModel.from_wannier90(str(te_run / "Te"), use_ws_distance=True)
    dos, C = _postw90(te_run, "DOS"), _postw90(te_run, "C")
    mu = dos[:, 0]
    occ = Occupations(mu=mu, surface_kind="gaussian", broadening=0.01 / np.sqrt(2))  # postw90 η = 0.01 eV
    r = integrate(model, observables(["dos", "ohmic"], tau=1.0), occ, [25, 25, 25]).values
    wk_dos = r["dos"] / model.cell_volume
    big = dos[:, 1] > 1e-4 * dos[:, 1].max()
    assert big.sum() > 5
    assert np.allclose(wk_dos[big], dos[big, 1], rtol=2e-5)
    c = r["ohmic"] * hbar / (2 * np.pi * e * 1e-15)
    scale = np.abs(C[:, 2:5]).max(axis=1)
    ok = scale > 1e-3 * scale.max()
    for j, (a, b) in enumerate(((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))):
        assert np.allclose(c[ok, a, b], C[ok, 2 + j], rtol=2e-5, atol=2e-5 * scale[ok].max())


def test_fresh_te_noa_and_berry_dipole_against_fresh_postw90(te_run):
    """postw90 run 'noa' (transl_inv = true, the position matrix of the fresh Te_tb.dat): natural optical activity
    and Berry-curvature dipole, with the tolerances of tests/test_optical_activity.py (1e-5 of the largest
    element)."""
    from test_optical_activity import check_noa_and_berry_dipole_against_postw90
    model = TightBindingModel.from_wannier90(str(te_run / "Te"), use_ws_distance=True)
    check_noa_and_berry_dipole_against_postw90(model, te_run / "postw90" / "noa")


def _symmetric_antisymmetric_columns(K):
    """(n_mu, 3, 3) tensor → postw90's printed columns: symmetric xx yy zz xy xz yz, antisymmetric x y z."""
    S, A = 0.5 * (K + K.transpose(0, 2, 1)), 0.5 * (K - K.transpose(0, 2, 1))
    return np.stack([S[:, 0, 0], S[:, 1, 1], S[:, 2, 2], S[:, 0, 1], S[:, 0, 2], S[:, 1, 2],
                     A[:, 1, 2], A[:, 2, 0], A[:, 0, 1]], axis=1)


def test_fresh_te_full_orbital_K_against_fresh_postw90(te_run):
    """postw90 run 'gyrotropic_fullbz' (task -k, transl_inv = false, 25³, η = 0.01 eV): K_orb with the complete
    orbital moment (B, C from the fresh .mmn/.uHu). wkin's gme_orb_full with the same matrices and phase
    convention (from_wannier90(orbital=True, orbital_convention="postw90"): plain finite differences, Wannier90
    convention) agrees to 5e-5 of the largest element (measured 1.5e-5 on the bundled run, the level at which
    postw90's Berry dipole of the same run agrees, 1.7e-5); wkin's "H and A" gme_orb differs by ~12 %."""
    model = TightBindingModel.from_wannier90(str(te_run / "Te"), orbital=True, orbital_convention="postw90")
    K = _postw90(te_run, "K_orb")
    occ = Occupations(mu=K[:, 0], surface_kind="gaussian", broadening=0.01 / np.sqrt(2))  # postw90 η = 0.01 eV
    r = integrate(model, observables(["gme_orb_full", "gme_orb"]), occ, [25, 25, 25]).values
    ref = K[:, 2:]
    scale = np.abs(ref).max()
    assert scale > 1e-6  # A: K is not negligible at these Fermi energies
    assert np.abs(_symmetric_antisymmetric_columns(r["gme_orb_full"]) - ref).max() <= 5e-5 * scale
    assert np.abs(_symmetric_antisymmetric_columns(r["gme_orb"]) - ref).max() > 3e-2 * scale


def test_fresh_te_full_orbital_K_against_wannierberri(te_run):
    """WannierBerri's System_w90(morb=True) on the fresh .chk/.eig/.mmn/.uHu, GME_orb_FermiSurf with external
    terms, 12³ mesh, no symmetrization, against wkin's gme_orb_full from from_wannier90(orbital=True) (WannierBerri's
    matrices and convention) after subtracting WannierBerri's μ-for-ε_n term (docs/outputs.md#gme_orb):
    1e-6 relative (measured 5e-14 on the bundled run)."""
    wb = pytest.importorskip("wannierberri")
    from wkin.io.wannier90 import fortran_formatted
    from wkin.kspace.integrate import Observable
    from wkin.response.intrinsic import GME_ORB_PREFACTOR, energy_weighted_dipole
    seed = str(te_run / "Te")
    model = TightBindingModel.from_wannier90(seed, orbital=True)
    data = wb.w90files.wandata.WannierData.from_w90_files(
        seedname=seed, files=["chk", "eig", "mmn", "uhu"], readnnkp=True,
        formatted=["uhu"] if fortran_formatted(seed + ".uHu") else [])
    system = wb.system.System_R.from_wannierdata(data, berry=True, morb=True)
    EF, NK = np.linspace(5.80, 6.00, 11), (12, 12, 12)
    calc = wb.calculators.static.GME_orb_FermiSurf(Efermi=EF, kwargs_formula={"external_terms": True})
    ref = wb.run(system, grid=wb.Grid(system, NK=NK, NKFFT=NK), calculators={"gme": calc}, use_irred_kpt=False,
                 symmetrize=False, print_Kpoints=False).results["gme"].data
    shift = Observable("shift", "surface", energy_weighted_dipole, (3, 3), GME_ORB_PREFACTOR)
    # the windowed form, WannierBerri's box of the Fermi-energy step (the default of gme_orb_full, which has no
    # Fermi-sea form; berry_dipole's is asked for explicitly)
    occ = Occupations(mu=EF, broadening=EF[1] - EF[0])
    g = integrate(model, observables(["gme_orb_full", "berry_dipole"]) + [shift], occ, NK).values
    c = GME_ORB_PREFACTOR
    k_wb = g["gme_orb_full"] - (g["shift"] - c * EF[:, None, None] * g["berry_dipole"])
    assert np.abs(ref).max() > 1e-7
    assert np.abs(k_wb - ref).max() < 1e-6 * np.abs(ref).max()


def test_plain_wannier90_run_without_hamiltonian_files(te_run, tmp_path):
    """A Wannier90 run without write_hr/write_tb leaves .chk, .eig, .mmn, .win (and .nnkp): wkin reads H(R) and the
    position matrix from them through WannierBerri's readers. AHC, Ohmic and the Berry-curvature dipole against
    WannierBerri's calculators on the same files and mesh (no symmetrization): 1e-6 relative (Te is
    non-magnetic, so its AHC is zero up to the model's symmetry breaking; compared in absolute S/cm)."""
    wb = pytest.importorskip("wannierberri")
    for ext in (".chk", ".eig", ".mmn", ".win", ".nnkp"):
        shutil.copy(te_run / f"Te{ext}", tmp_path / f"Te{ext}")
    seed = str(tmp_path / "Te")
    model = TightBindingModel.from_wannier90(seed)
    assert model.has_position and model.atoms is not None
    data = wb.w90files.wandata.WannierData.from_w90_files(seedname=seed, files=["chk", "eig", "mmn"], readnnkp=True)
    system = wb.system.System_R.from_wannierdata(data, berry=True)
    EF, NK = np.linspace(5.80, 6.00, 11), (10, 10, 10)
    st = wb.calculators.static
    calcs = {"ahc": st.AHC(Efermi=EF), "ohmic": st.Ohmic_FermiSurf(Efermi=EF),
             "bcd": st.BerryDipole_FermiSurf(Efermi=EF, use_factor=False)}
    res = wb.run(system, grid=wb.Grid(system, NK=NK, NKFFT=NK), calculators=calcs, use_irred_kpt=False,
                 symmetrize=False, print_Kpoints=False).results
    r = integrate(model, observables(["ahc", "ohmic", "berry_dipole"], tau=1.0), Occupations(mu=EF, broadening=EF[1] - EF[0]), NK).values
    ahc = np.stack([r["ahc"][:, 1, 2], r["ahc"][:, 2, 0], r["ahc"][:, 0, 1]], axis=1)
    assert np.abs(100 * ahc - res["ahc"].data).max() < 1e-6 * max(np.abs(res["ahc"].data).max(), 1.0)
    for name, ref, scale in (("ohmic", res["ohmic"].data, 100.0), ("berry_dipole", res["bcd"].data, 1.0)):
        assert np.abs(ref).max() > 0
        assert np.abs(scale * r[name] - ref).max() < 1e-6 * np.abs(ref).max(), name
