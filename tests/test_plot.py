"""Pictures: `wkin plot` (every quantity of a results file) and `wkin bands` (the high-symmetry path), data checked
and every PNG not blank."""

import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

from wkin.bands import energies
from wkin.cli import main
from wkin.model import TightBindingModel

pytest.importorskip("matplotlib")
pytest.importorskip("seekpath")
from matplotlib.image import imread  # noqa: E402

from wkin.plot import band_structure, plot_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FE = str(ROOT / "examples" / "materials" / "Fe" / "Fe")
TE = str(ROOT / "examples" / "materials" / "Te" / "Te")


def _not_blank(png):
    image = imread(png)
    return png.stat().st_size > 5000 and image[..., :3].std() > 0.01


def test_every_quantity_of_a_results_file_is_drawn(tmp_path):
    cfg = textwrap.dedent("""
        [model]
        builtin = "massive_dirac"
        params = { M = 0.05, B = 0.2 }
        [mesh]
        grid = [60, 60, 1]
        [fermi]
        range = [0.1, 0.3, 0.05]
        broadening = 0.02
        [calculate]
        quantities = ["ahc", "dos", "berry_dipole", "scattering_rate", "ahe_extrinsic"]
        [disorder]
        model = "cell"
        strength = 0.05
        companion_step = 1.0
        [output]
        file = "r.h5"
    """)
    (tmp_path / "r.toml").write_text(cfg)
    assert main(["run", str(tmp_path / "r.toml"), "--quiet"]) == 0
    written = plot_results(tmp_path / "r.h5", tmp_path / "png")
    assert sorted(p.name for p in written) == [f"r_{q}.png" for q in ("ahc", "ahe_extrinsic", "berry_dipole", "dos")]
    assert all(_not_blank(p) for p in written)  # scattering_rate has no per-Fermi-energy value: no picture
    assert main(["plot", str(tmp_path / "r.h5"), "--outdir", str(tmp_path / "cli")]) == 0
    assert len(list((tmp_path / "cli").glob("*.png"))) == 4


def test_band_structure_of_bcc_fe_on_the_standard_path(tmp_path):
    """seekpath's path in the model's own reciprocal basis: it starts at Γ, its H point is at |k| = 2π/a (a the
    cubic lattice constant of bcc), the energies are those of H(k) there, ⟨σ_z⟩ colours lie in [−1, 1] (to the
    interpolation error of S(R)); the HDF5 file holds the same arrays with units."""
    model = TightBindingModel.from_wannier90(FE, spin=True)
    data = band_structure(model, "spin-z", output=tmp_path / "b.h5", png=tmp_path / "b.png", window=(10, 16))
    k, labels = data["k"], data["tick_labels"]
    assert labels[0] == "Γ" and np.allclose(k[0], 0) and "H" in labels
    a_cubic = 2 * np.abs(model.lattice).max()
    h = [i for i, x in enumerate(data["x"]) if np.isclose(x, data["tick_positions"][labels.index("H")])][0]
    assert np.linalg.norm(model.to_cartesian(k[h])) == pytest.approx(2 * np.pi / a_cubic, rel=1e-6)
    assert np.allclose(data["energies"][[0, h]], energies(model, k[[0, h]]), atol=1e-10)
    # Wannier-interpolated S(R) is Pauli only to the interpolation error (max 1.00003 here)
    assert np.abs(data["colour"]).max() <= 1 + 1e-3 and np.abs(data["colour"]).max() > 0.9
    with h5py.File(tmp_path / "b.h5") as f:
        assert f["energies"].attrs["units"] == "eV" and f.attrs["colour"] == "spin-z"
        assert np.allclose(f["energies"][()], data["energies"])
    assert _not_blank(tmp_path / "b.png")


def test_bands_command_and_errors(tmp_path, capsys):
    assert main(["bands", TE, "--output", str(tmp_path / "te.h5"), "--png", str(tmp_path / "te.png"),
                 "--colour", "berry-z"]) == 0
    assert _not_blank(tmp_path / "te.png")
    with h5py.File(tmp_path / "te.h5") as f:
        assert f["colour"].attrs["units"] == "Angstrom^2" and f["energies"].shape[1] == 9
        # hexagonal HPKOT path; a jump in the path is one tick labelled "A|L"
        labels = [s.decode() for s in f["tick_labels"][()]]
        assert labels == ["Γ", "M", "K", "Γ", "A", "L", "H", "A|L", "M|H", "K"]
        assert np.all(np.diff(f["tick_positions"][()]) > 0)
        omega, e, data_k = f["colour"][()], f["energies"][()], f["k"][()]
    # sum rule: summed over all Wannier bands the Berry curvature is the trace of the Wannier-gauge one,
    # tr Ω̄_z(k) = Σ_R e^{ik·R} Σ_n i(R_x A_nn,y(R) − R_y A_nn,x(R)) (the commutator terms are traceless),
    # at every k where no pair of bands is degenerate (degenerate pairs are dropped)
    model = TightBindingModel.from_wannier90(TE)
    R = model.R_cart
    diag = np.diagonal(model.A_R, axis1=2, axis2=3).sum(axis=-1)  # (nR, 3): Σ_n A_nn,b(R)
    phases = np.exp(2j * np.pi * data_k @ model.R.T)
    expected = (phases @ (1j * (R[:, 0] * diag[:, 1] - R[:, 1] * diag[:, 0]))).real
    gap = np.diff(e, axis=1).min(axis=1) > 1e-3
    # single bands reach |Ω| ~ 1e6 Å² near avoided crossings, the trace only ~ 0.03 Å²: cancellation to 1e-6 Å²
    assert np.abs(omega).max() > 1e5 and np.abs(expected).max() > 1e-2
    assert np.allclose(omega[gap].sum(axis=1), expected[gap], rtol=1e-6, atol=1e-6)
    assert main(["bands", TE, "--colour", "charge-z", "--output", str(tmp_path / "x.h5")]) == 2
    assert "band colour" in capsys.readouterr().err
