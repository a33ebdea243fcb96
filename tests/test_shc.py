"""Intrinsic spin Hall conductivity (wkin.response.spin_hall) against WannierBerri 26.10 and exact identities.

Cross-code tests: the same real-space matrices (H, A, S and, for 'qiao'/'ryoo', SR, SH, SHR, SA, SHA)
given to WannierBerri's ``calculators.static.SHC`` (no tetrahedra, T = 0, no symmetrization, the same
uniform mesh without shift, the same evenly spaced Fermi energies). Both codes then do the same arithmetic
in double precision; they differ by eigensolver rounding (amplified by 1/Δε² at near-degenerate k), seen
at 1e-15–1e-12 relative. The required agreement, 1e-6 of the largest |σ| over all 27 components and
all Fermi energies, is far above that and far below any error of formula (a dropped position-matrix
term changes σ by > 1e-2, checked below; a wrong prefactor by O(1)).

WannierBerri returns S/m in the (ħ/e) convention of postw90; wkin returns (ħ/e) S/cm: factor 100.
"""

import numpy as np
import pytest
from conftest import random_model

from wkin.bands import from_eigenvectors, solve
from wkin.io.wannier90 import write_tb
from wkin.kspace.integrate import integrate
from wkin.kspace.occupations import Occupations
from wkin.model import TightBindingModel
from wkin.quantities import observables
from wkin.response.spin_hall import shc_integrand, spin_hall_observable

NK = (6, 6, 6)
EF = np.linspace(-6.0, 6.0, 25)  # evenly spaced (WannierBerri bins energies on this grid)


def _rel(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


def _wb_system(model, tmp_path, name="m"):
    """WannierBerri System_R from the same H(R), A(R) (through _tb.dat) and S(R)."""
    import wannierberri as wb
    write_tb(tmp_path / f"{name}_tb.dat", model)
    system = wb.system.System_R.from_tb_dat(tb_file=str(tmp_path / f"{name}_tb.dat"), berry=True)
    assert np.array_equal(np.array(system.rvec.iRvec), model.R)
    system.set_R_mat("SS", model.S_R.transpose(0, 2, 3, 1))  # WannierBerri: [R, i, j, c]
    return system


def _wb_shc(system, nk, ef, **kwargs_formula):
    import wannierberri as wb
    calc = wb.calculators.static.SHC(Efermi=ef, kwargs_formula=kwargs_formula)
    res = wb.run(system, grid=wb.Grid(system, NK=nk, NKFFT=nk), calculators={"shc": calc},
                 use_irred_kpt=False, symmetrize=False, print_Kpoints=False)
    return res.results["shc"].data / 100  # S/m -> S/cm, shape (nEF, a, b, c)


def pt_model(seed=0, norb=4):
    """Random spinful model with PT symmetry: H(k) = Θ H(k) Θ⁻¹, Θ = (iσ_y ⊗ 1) K, Θ² = −1.

    Real space: X(R) → [X(R) ± U X(−R)* U†]/2, + for H, − for σ (T-odd) and r (P-odd), so every
    band is a Kramers pair at every k. The position matrix puts the partner of an orbital at
    τ → −τ (its diagonal is antisymmetrized too)."""
    nw = 2 * norb
    m = random_model(seed=seed, nw=nw, spin=True)
    U = np.kron(np.array([[0.0, 1.0], [-1.0, 0.0]]), np.eye(norb))
    idx = {tuple(r): i for i, r in enumerate(m.R)}
    minus = [idx[tuple(-r)] for r in m.R]

    def sym(X, sign):
        return 0.5 * (X + sign * U @ np.conj(X[minus]) @ U.T)

    return TightBindingModel(m.lattice, m.R, sym(m.H_R, 1), A_R=sym(m.A_R, -1), S_R=sym(m.S_R, -1), name="pt")


# ------------------------------------------------------------------------------------------ (a) random models
@pytest.mark.crosscode
@pytest.mark.parametrize("seed,nw", [(0, 4), (1, 6), (2, 8)])
def test_random_models_against_wannierberri(tmp_path, seed, nw):
    """Random spinful models with full position matrices; WannierBerri spin_current_type='simple'
    (its default external_terms=True: velocity with the position-matrix term)."""
    pytest.importorskip("wannierberri")
    model = random_model(seed=seed, nw=nw, spin=True)
    system = _wb_system(model, tmp_path)
    ref = _wb_shc(system, NK, EF, spin_current_type="simple")
    sigma = integrate(model, observables(["shc"]), Occupations(mu=EF), NK).values["shc"]
    assert sigma.shape == (len(EF), 3, 3, 3)
    assert np.abs(ref).max() > 100  # (ħ/e) S/cm: not a comparison of zeros
    assert _rel(sigma, ref) < 1e-6
    # the position-matrix term matters for these models (so the agreement above tests it)
    internal = integrate(model, [spin_hall_observable("shc_simple", external_terms=False)], Occupations(mu=EF),
                         NK).values
    assert _rel(internal["shc_simple"], ref) > 1e-2
    if seed == 0:  # ... and is what WannierBerri's external_terms=False drops
        ref_int = _wb_shc(system, NK, EF, spin_current_type="simple", external_terms=False)
        assert _rel(internal["shc_simple"], ref_int) < 1e-6


# ------------------------------------------------------------------------------------- 'qiao' and 'ryoo'
def _short_range_model(seed, nw):
    """Random spinful model with hoppings |R_i| ≤ 1 on an R list |R_i| ≤ 3 (zeros beyond), so that
    products of three Fourier series are exact on it."""
    rng = np.random.default_rng(seed)
    R = np.array([[i, j, k] for i in range(-3, 4) for j in range(-3, 4) for k in range(-3, 4)])
    idx = {tuple(r): i for i, r in enumerate(R)}
    minus = [idx[tuple(-r)] for r in R]
    near = np.all(np.abs(R) <= 1, axis=1)

    def herm(X):
        X = X * near.reshape((-1,) + (1,) * (X.ndim - 1))
        return X + np.conj(np.swapaxes(X[minus], -1, -2))

    def c(*s):
        return rng.normal(size=s) + 1j * rng.normal(size=s)

    H, A, S = herm(c(len(R), nw, nw)), herm(0.1 * c(len(R), 3, nw, nw)), herm(0.3 * c(len(R), 3, nw, nw))
    A[idx[(0, 0, 0)]][:, np.arange(nw), np.arange(nw)] = rng.uniform(0, 2, size=(3, nw))
    lat = np.array([[2.0, 0.1, 0.0], [0.3, 2.5, 0.0], [0.0, 0.2, 3.0]])
    return TightBindingModel(lat, R, H, A_R=A, S_R=S)


@pytest.mark.crosscode
def test_qiao_ryoo_spin_currents_against_wannierberri(tmp_path):
    """(1) With SR = S·A, SH = S·H, SHR = S·H·A, SA = S·A, SHA = S·H·A (the matrices of a complete
    Wannier basis, built by exact Fourier products), WannierBerri's 'qiao' and 'ryoo' forms equal its
    'simple' one (non-degenerate bands), and wkin's builders reproduce all three. (2) With those
    matrices perturbed at random (now 'qiao'/'ryoo' differ from 'simple' by 10-30 %), wkin's
    spin_current_from_system still reproduces WannierBerri's 'qiao' and 'ryoo' SHC."""
    pytest.importorskip("wannierberri")
    model = _short_range_model(0, 4)
    system = _wb_system(model, tmp_path)
    R = np.array(system.rvec.iRvec)
    SS, AA, HH = (np.array(system.get_R_mat(k)) for k in ("SS", "AA", "Ham"))  # AA: WannierBerri's convention I
    q = np.stack(np.meshgrid(*[np.arange(7)] * 3, indexing="ij"), -1).reshape(-1, 3) / 7  # no aliasing for |R_i| ≤ 3
    ph = np.exp(2j * np.pi * q @ R.T)
    Sk, Ak, Hk = (np.einsum("qR,Rij...->q...ij", ph, X) for X in (SS, AA, HH))
    products = {"SR": np.einsum("qcil,qalj->qijac", Sk, Ak), "SH": np.einsum("qcil,qlj->qijc", Sk, Hk),
                "SHR": np.einsum("qcil,qlm,qamj->qijac", Sk, Hk, Ak)}
    products.update(SA=products["SR"], SHA=products["SHR"])
    for key, X in products.items():
        system.set_R_mat(key, np.einsum("qR,q...->R...", ph.conj(), X) / len(q))
    kinds = ("simple", "qiao", "ryoo")
    m2 = TightBindingModel.from_wannierberri(system)
    obs = [spin_hall_observable(f"shc_{t}", system, t) for t in kinds]
    ref = {t: _wb_shc(system, NK, EF, spin_current_type=t) for t in kinds}
    ours = integrate(m2, obs, Occupations(mu=EF), NK).values
    for t in kinds:
        assert _rel(ref[t], ref["simple"]) < 1e-9
        assert _rel(ours[f"shc_{t}"], ref[t]) < 1e-6

    rng = np.random.default_rng(1)
    near = np.all(np.abs(R) <= 1, axis=1)
    for key, cart in (("SR", (3, 3)), ("SH", (3,)), ("SHR", (3, 3)), ("SA", (3, 3)), ("SHA", (3, 3))):
        shape = (len(R), 4, 4) + cart
        X = (rng.normal(size=shape) + 1j * rng.normal(size=shape)) * near.reshape((-1,) + (1,) * (len(shape) - 1))
        system.set_R_mat(key, 0.3 * X, add=True)
    obs = [spin_hall_observable(t, system, t) for t in ("qiao", "ryoo")]
    ours = integrate(m2, obs, Occupations(mu=EF), NK).values
    for t in ("qiao", "ryoo"):
        ref_t = _wb_shc(system, NK, EF, spin_current_type=t)
        assert _rel(ref_t, ref["simple"]) > 1e-2
        assert _rel(ours[t], ref_t) < 1e-6


# ----------------------------------------------------------------------------------------------- (b) bcc Fe
@pytest.mark.crosscode
def test_fe_against_wannierberri(tmp_path):
    """bcc Fe (18 WF, SOC) from .chk + .eig + .spn (no .mmn, so no position matrix: WannierBerri with
    external_terms=False, wkin with the diagonal tight-binding centres, Ā = 0), 12³ mesh, E_F ± 0.5 eV."""
    wb = pytest.importorskip("wannierberri")
    from pathlib import Path

    from wkin.io.wannier90 import plain_copies
    fe = str(Path(__file__).resolve().parents[1] / "examples" / "materials" / "Fe" / "Fe")
    model = TightBindingModel.from_wannier90(fe, spin=True)
    assert model.has_spin and not model.has_position
    seed = plain_copies(fe, (".chk", ".eig", ".spn"), str(tmp_path), required=(".chk", ".eig", ".spn"))
    data = wb.w90files.wandata.WannierData.from_w90_files(seedname=seed, files=["chk", "eig", "spn"],
                                                          formatted=[], readnnkp=False)
    system = wb.system.System_R.from_wannierdata(data, spin=True, berry=False)
    ef = np.linspace(13.5219 - 0.5, 13.5219 + 0.5, 11)
    nk = (12, 12, 12)
    ref = _wb_shc(system, nk, ef, spin_current_type="simple", external_terms=False)
    sigma = integrate(model, observables(["shc"]), Occupations(mu=ef), nk).values["shc"]
    assert np.abs(ref).max() > 100
    assert _rel(sigma, ref) < 1e-6


# ---------------------------------------------------------------------------------- (c) PT-symmetric model
@pytest.mark.crosscode
def test_pt_symmetric_model_against_wannierberri(tmp_path):
    """Every band a Kramers pair: the in-pair terms are excluded (as WannierBerri's degenerate groups);
    the SHC survives PT (T-even, P-even) while the AHC vanishes (sanity check of the model)."""
    pytest.importorskip("wannierberri")
    model = pt_model(seed=4, norb=4)
    b = solve(model, np.random.default_rng(0).random((50, 3)))
    assert np.abs(b.energies[:, 0::2] - b.energies[:, 1::2]).max() < 1e-10  # Kramers pairs
    assert np.all(b.group[:, np.arange(0, 8, 2), np.arange(1, 8, 2)])
    system = _wb_system(model, tmp_path)
    ref = _wb_shc(system, NK, EF, spin_current_type="simple")
    r = integrate(model, observables(["shc", "ahc"]), Occupations(mu=EF), NK).values
    assert np.all(np.isfinite(r["shc"]))
    assert np.abs(ref).max() > 100
    assert _rel(r["shc"], ref) < 1e-6
    assert np.abs(r["ahc"]).max() < 1e-9 * np.abs(r["shc"]).max()


# -------------------------------------------------------------------------------------- (d) exact identities
def test_gauge_invariance():
    """Random U(1) phases on the eigenvectors leave every band's Ω^c_ab unchanged (non-degenerate model);
    random U(2) rotations inside the Kramers pairs of the PT model leave the pair sums unchanged (and,
    PT making the in-pair matrix a multiple of 1, the per-band values too)."""
    rng = np.random.default_rng(7)
    k = rng.random((40, 3))
    model = random_model(seed=5, nw=6, spin=True)
    F = model.fourier(k)
    E, U = np.linalg.eigh(F["H"])
    a = shc_integrand(from_eigenvectors(k, F, E, U))
    b = shc_integrand(from_eigenvectors(k, F, E, U * np.exp(2j * np.pi * rng.random((40, 1, 6)))))
    assert np.abs(a).max() > 1
    assert np.abs(a - b).max() < 1e-9 * np.abs(a).max()

    model = pt_model(seed=4, norb=4)
    F = model.fourier(k)
    E, U = np.linalg.eigh(F["H"])
    X = rng.normal(size=(40, 4, 2, 2)) + 1j * rng.normal(size=(40, 4, 2, 2))
    W = np.zeros((40, 8, 8), complex)
    for p in range(4):
        W[:, 2 * p:2 * p + 2, 2 * p:2 * p + 2] = np.linalg.qr(X[:, p])[0]
    ba, bb = from_eigenvectors(k, F, E, U), from_eigenvectors(k, F, E, U @ W)
    assert np.abs(ba.S - bb.S).max() > 0.1  # a real change of basis inside the pairs
    a, b = shc_integrand(ba), shc_integrand(bb)
    pair = lambda x: x[:, 0::2] + x[:, 1::2]  # noqa: E731
    assert np.abs(pair(a) - pair(b)).max() < 1e-9 * np.abs(pair(a)).max()
    # with PT the in-pair matrix of the spin Berry curvature is ∝ 1, so even the per-band values agree
    assert np.abs(a - b).max() < 1e-9 * np.abs(a).max()


def test_time_reversed_copy():
    """SHC is T-even: the model with H(R)*, A(R)*, −S(R)* (H'(k) = H(−k)*, the copy under Θ = K) has
    the same SHC on a mesh closed under k → −k (Ω'(k) = Ω(−k) point by point)."""
    model = random_model(seed=6, nw=6, spin=True)
    tr = TightBindingModel(model.lattice, model.R, model.H_R.conj(), A_R=model.A_R.conj(), S_R=-model.S_R.conj())
    a = integrate(model, observables(["shc"]), Occupations(mu=EF), NK).values["shc"]
    b = integrate(tr, observables(["shc"]), Occupations(mu=EF), NK).values["shc"]
    assert np.abs(a).max() > 100
    assert _rel(b, a) < 1e-9


def test_spin_conserving_model_is_half_ahc_difference():
    """H = h↑ ⊕ h↓, σ_z = diag(1, −1): σ^z_ab = −½(σ^↑_ab − σ^↓_ab) [(ħ/e) S/cm from S/cm] — the
    spin current (ħ/2)(j↑ − j↓)/(−e) — and σ^x = σ^y = 0. Fixes sign and prefactor against wkin's AHC
    (itself checked against postw90). Tight-binding positions (diagonal), where the Kubo sum-over-states
    curvature and WYSV's coincide."""
    up, dn = (random_model(seed=s, nw=3) for s in (8, 9))
    up = TightBindingModel(up.lattice, up.R, up.H_R, centres=up.centres)
    dn = TightBindingModel(dn.lattice, dn.R, dn.H_R, centres=dn.centres)
    H = np.zeros((len(up.R), 6, 6), complex)
    H[:, :3, :3], H[:, 3:, 3:] = up.H_R, dn.H_R
    pauli = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])]
    S = np.zeros((len(up.R), 3, 6, 6), complex)
    S[np.flatnonzero(np.all(up.R == 0, axis=1))[0]] = [np.kron(p, np.eye(3)) for p in pauli]
    both = TightBindingModel(up.lattice, up.R, H, S_R=S, centres=np.concatenate([up.centres, dn.centres]))
    shc = integrate(both, observables(["shc"]), Occupations(mu=EF), NK).values["shc"]
    ahc_up = integrate(up, observables(["ahc"]), Occupations(mu=EF), NK).values["ahc"]
    ahc_dn = integrate(dn, observables(["ahc"]), Occupations(mu=EF), NK).values["ahc"]
    expected = -0.5 * (ahc_up - ahc_dn)
    assert np.abs(expected).max() > 10
    assert _rel(shc[..., 2], expected) < 1e-9
    assert np.abs(shc[..., :2]).max() < 1e-9 * np.abs(expected).max()


def test_needs_spin():
    model = random_model(seed=0, nw=4)
    with pytest.raises(ValueError, match="spin"):
        integrate(model, observables(["shc"]), Occupations(mu=[0.0]), (2, 2, 2))
