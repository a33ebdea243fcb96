"""Command line and configuration: HDF5 layout, units, provenance, one-line errors."""

import json
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest
from conftest import random_model

from wkin.cli import main
from wkin.io.wannier90 import write_tb
from wkin.kspace.integrate import integrate
from wkin.kspace.occupations import Occupations
from wkin.quantities import observables

CONFIG = """
[model]
wannier90 = "rnd"

[mesh]
grid = [6, 6, 6]

[fermi]
range = [-2.0, 2.0, 0.5]

[calculate]
quantities = ["ahc", "ohmic", "berry_dipole", "gme_orb", "dos", "electrons"]
tau = 10.0

[output]
file = "out.h5"
"""


@pytest.fixture
def workdir(tmp_path):
    model = random_model(seed=5, nw=3)
    write_tb(tmp_path / "rnd_tb.dat", model)
    (tmp_path / "run.toml").write_text(CONFIG)
    return tmp_path, model


def test_run_writes_hdf5_with_units_and_provenance(workdir):
    path, model = workdir
    assert main(["run", str(path / "run.toml"), "--quiet"]) == 0
    mu = np.arange(-2.0, 2.0001, 0.5)
    ref = integrate(model, observables(["ahc", "ohmic"], tau=10.0), Occupations(mu=mu), [6, 6, 6])
    with h5py.File(path / "out.h5") as f:
        assert np.allclose(f["fermi_energies"][:], mu)
        assert f["fermi_energies"].attrs["units"] == "eV"
        units = {"ahc": "S/cm", "ohmic": "S/cm", "berry_dipole": "dimensionless", "gme_orb": "A",
                 "dos": "1/(eV*cell)", "electrons": "1/cell"}
        for name, unit in units.items():
            assert f[name]["value"].attrs["units"] == unit
            assert f[name]["value"].shape[0] == len(mu)
        assert f["ahc/value"].shape == (len(mu), 3, 3)
        assert np.allclose(f["ahc/value"][:], ref.values["ahc"], rtol=1e-12, atol=0)
        assert np.allclose(f["ohmic/value"][:], ref.values["ohmic"], rtol=1e-12, atol=0)
        assert f.attrs["wkin_version"]
        assert "rnd_tb.dat" in f.attrs["inputs"]
        assert list(f.attrs["grid"]) == [6, 6, 6]
        # what was used: the position matrix, the Fermi-surface window, the software
        assert f.attrs["position_matrix"] == "rnd_tb.dat"
        assert f.attrs["fermi_surface_weight"] == "box" and f.attrs["fermi_surface_width_eV"] == pytest.approx(0.5)
        software = json.loads(f.attrs["software"])
        assert software["numpy"] == np.__version__ and software["h5py"] == h5py.__version__
        assert {"python", "scipy", "spglib", "mpi4py", "wannierberri"} <= set(software)


def test_tb_file_without_position_blocks_warns(tmp_path):
    """A _tb.dat that ends after its Hamiltonian blocks: a warning, and the run records the diagonal approximation."""
    from wkin.model import TightBindingModel
    model = random_model(seed=5, nw=3)
    write_tb(tmp_path / "full_tb.dat", model)
    lines = (tmp_path / "full_tb.dat").read_text().splitlines(keepends=True)
    nR, nw = len(model.R), model.num_wann
    head = 1 + 3 + 2 + -(-nR // 15)  # header, lattice, num_wann, nrpts, ndegen lines (15 per line)
    (tmp_path / "cut_tb.dat").write_text("".join(lines[:head + nR * (2 + nw * nw)]))
    with pytest.warns(UserWarning, match="no position matrix"):
        cut = TightBindingModel.from_wannier90(str(tmp_path / "cut"))
    assert not cut.has_position and "diagonal" in cut.position_source


def test_ohmic_is_linear_in_tau(workdir):
    path, model = workdir
    mu = [0.0, 0.1]
    a = integrate(model, observables(["ohmic"], tau=1.0), Occupations(mu=mu), [6, 6, 6]).values["ohmic"]
    b = integrate(model, observables(["ohmic"], tau=7.0), Occupations(mu=mu), [6, 6, 6]).values["ohmic"]
    assert np.allclose(b, 7 * a, rtol=1e-12)


@pytest.mark.parametrize("edit, message", [
    (("grid = [6, 6, 6]", "grid = [6, 6]"), "[mesh] grid"),
    (("tau = 10.0", "tau = -1"), "[calculate] tau"),
    (("\"dos\",", "\"bogus\","), "[calculate] quantities"),
    (("[output]", "[outputs]"), "[outputs]"),
    (("range = [-2.0, 2.0, 0.5]", "range = [-2.0, 2.0, 0.5]\nsmearing = 1"), "[fermi] smearing"),
    (("range = [-2.0, 2.0, 0.5]", "energies = [100.0]"), "outside the Wannier bands"),
    (("wannier90 = \"rnd\"", "wannier90 = \"missing\""), "missing"),
    (("quantities = [\"ahc\", \"ohmic\", \"berry_dipole\", \"gme_orb\", \"dos\", \"electrons\"]",
      "quantities = \"ahc\""), "[calculate] quantities"),
    (("wannier90 = \"rnd\"", "wannier90 = \"rnd\"\ndegen_thresh = \"small\""), "[model] degen_thresh"),
    (("wannier90 = \"rnd\"", "wannier90 = \"rnd\"\nparams = { t = 1 }"), "[model] params"),
    (("range = [-2.0, 2.0, 0.5]", "range = [-2.0, 2.0, 0.5]\ntemperature = 100\nbroadening = 0.1"), "[fermi] broadening"),
    (("tau = 10.0", "tau = \"long\""), "[calculate] tau"),
    (("[output]", "[symmetry]\nmode = \"sometimes\"\n[output]"), "[symmetry] mode"),
    (("\"dos\",", "\"conductivity_boltzmann\","), "[disorder]"),
    (("[output]", "[disorder]\nmodel = \"cell\"\nstrength = 1.0\nquadrature = \"smeared\"\n[output]"),
     "[disorder] pair_broadening"),
    (("[output]", "[disorder]\nmodel = \"cell\"\nstrength = 1.0\nthird_moment = 0.1\n[output]"),
     "[disorder] third_moment"),
    (("\"dos\",", "\"noa_orb\","), "[calculate] frequencies"),
    (("wannier90 = \"rnd\"", "builtin = \"haldane\"\norbital = true"), "[model] orbital"),
])
def test_bad_config_gives_one_line_error(workdir, capsys, edit, message):
    path, _ = workdir
    (path / "run.toml").write_text(CONFIG.replace(*edit))
    assert main(["run", str(path / "run.toml"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wkin: error:") and "\n" not in err and message in err


def test_symmetry_modes_on_a_chiral_model(tmp_path):
    """verify: forbidden components of an exactly D3-symmetric model vanish; irreducible = full grid."""
    base = textwrap.dedent("""
        [model]
        builtin = "chiral_trigonal"
        [mesh]
        grid = [9, 9, 6]
        [fermi]
        range = [-1.0, 1.0, 0.25]
        [calculate]
        quantities = ["ohmic", "gme_orb", "berry_dipole", "ahc"]
        [symmetry]
        mode = "MODE"
        [output]
        file = "MODE.h5"
    """)
    for mode in ("verify", "irreducible"):
        (tmp_path / f"{mode}.toml").write_text(base.replace("MODE", mode))
        assert main(["run", str(tmp_path / f"{mode}.toml"), "--quiet"]) == 0
    with h5py.File(tmp_path / "verify.h5") as a, h5py.File(tmp_path / "irreducible.h5") as b:
        assert a.attrs["point_group"] == "32" and a.attrs["magnetic_point_group"] == "321'"
        assert not a.attrs["symmetrized"] and b.attrs["symmetrized"]
        assert b.attrs["nk_evaluated"] < a.attrs["nk_evaluated"] / 3
        for q in ("ohmic", "gme_orb", "berry_dipole"):
            assert a[q]["value"].attrs["forbidden_fraction"] < 1e-10
            x, y = a[q]["value"][:], b[q]["value"][:]
            assert np.abs(x - y).max() <= 1e-9 * np.abs(x).max()
        assert np.abs(b["ahc/value"][:]).max() == 0.0  # time-reversal symmetric: AHC forbidden


def test_irreducible_mode_with_adaptive_refinement(tmp_path):
    """[symmetry] mode = "irreducible" with [mesh] adaptive: refined wedge, symmetrized, per-level values stored."""
    (tmp_path / "run.toml").write_text(textwrap.dedent("""
        [model]
        builtin = "chiral_trigonal"
        [mesh]
        grid = [9, 9, 6]
        adaptive = {levels = 2, subdivision = 3, threshold = 1e-2}
        [fermi]
        range = [-1.0, 1.0, 0.25]
        [calculate]
        quantities = ["ohmic", "berry_dipole"]
        [symmetry]
        mode = "irreducible"
    """))
    assert main(["run", str(tmp_path / "run.toml"), "--quiet"]) == 0
    from wkin.model.lattice import chiral_trigonal
    from wkin.symmetry import crystal_symmetry, irreducible_grid, symmetrize
    sym = crystal_symmetry(chiral_trigonal())
    with h5py.File(tmp_path / "results.h5") as f:  # refined: more points than the wedge itself
        assert f.attrs["symmetrized"] and f.attrs["nk_evaluated"] > len(irreducible_grid(chiral_trigonal(), [9, 9, 6]).k)
        for q, kind in (("ohmic", "polar2_even"), ("berry_dipole", "axial2_even")):
            x = f[q]["value"][:]
            assert np.abs(x).max() > 0
            assert np.abs(x - symmetrize(x, sym, kind)).max() <= 1e-12 * np.abs(x).max()
            assert "adaptive_value" in f[q]


def test_fermi_surface_at_zero_temperature_needs_a_width(workdir, capsys):
    path, _ = workdir
    (path / "run.toml").write_text(CONFIG.replace("range = [-2.0, 2.0, 0.5]", "energies = [0.0]"))
    assert main(["run", str(path / "run.toml"), "--quiet"]) == 2
    assert "broadening" in capsys.readouterr().err


def test_info_and_console_script(workdir):
    path, _ = workdir
    out = subprocess.run([sys.executable, "-m", "wkin.cli", "info", str(path / "rnd")],
                         capture_output=True, text=True, check=True).stdout
    assert "num_wann     : 3" in out and "band window" in out


def test_builtin_model_config(tmp_path):
    cfg = textwrap.dedent("""
        [model]
        builtin = "haldane"
        params = { t2 = 0.1 }
        [mesh]
        grid = [12, 12, 1]
        [fermi]
        energies = [0.0]
        [calculate]
        quantities = ["ahc"]
        [output]
        file = "h.h5"
    """)
    (tmp_path / "h.toml").write_text(cfg)
    assert main(["run", str(tmp_path / "h.toml"), "--quiet"]) == 0
    with h5py.File(tmp_path / "h.h5") as f:
        assert f["ahc/value"].shape == (1, 3, 3)


def test_output_path_is_checked_before_the_run(workdir, capsys):
    """A directory or an empty name as [output] file is a one-line error before any computation; a missing
    parent folder is created."""
    path, _ = workdir
    (path / "adir").mkdir()
    for spec, message in (('file = "adir"', "is a directory"), ('file = ""', "empty file name")):
        (path / "run.toml").write_text(CONFIG.replace('file = "out.h5"', spec))
        assert main(["run", str(path / "run.toml"), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("wkin: error: [output] file") and message in err and "\n" not in err
    (path / "run.toml").write_text(CONFIG.replace('file = "out.h5"', 'file = "new/sub/out.h5"'))
    assert main(["run", str(path / "run.toml"), "--quiet"]) == 0
    assert (path / "new" / "sub" / "out.h5").is_file()


def test_duplicate_quantities_are_refused(workdir, capsys):
    path, _ = workdir
    (path / "run.toml").write_text(CONFIG.replace('"dos", "electrons"]', '"dos", "electrons", "ahc"]'))
    assert main(["run", str(path / "run.toml"), "--quiet"]) == 2
    assert "'ahc' is listed twice" in capsys.readouterr().err


def test_a_failed_write_never_replaces_an_existing_result(workdir, monkeypatch, capsys):
    """The file is written under a temporary name and renamed when complete: a failure while writing leaves the
    previous result as it was and no temporary file behind; a completed rerun says that it replaced the file."""
    from wkin.io import results
    path, _ = workdir
    assert main(["run", str(path / "run.toml"), "--quiet"]) == 0
    before = (path / "out.h5").read_bytes()

    def broken(f, r):
        raise OSError(28, "No space left on device", str(path / "out.h5"))

    monkeypatch.setattr(results, "_write_group", broken)
    assert main(["run", str(path / "run.toml"), "--quiet"]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert (path / "out.h5").read_bytes() == before
    assert sorted(p.name for p in path.iterdir() if p.name.endswith(".tmp")) == []
    monkeypatch.undo()
    assert main(["run", str(path / "run.toml")]) == 0
    assert "replaced" in capsys.readouterr().out.strip().splitlines()[-1]


def test_a_fermi_energy_in_a_gap_gives_nan_and_the_others_are_computed(tmp_path):
    """Kinetic quantities over a Fermi-energy list with one μ in the gap of the lattice massive Dirac model:
    NaN there, flagged in fermi_surface_empty, a warning, and the other energies computed."""
    cfg = textwrap.dedent("""
        [model]
        builtin = "massive_dirac"
        params = { M = 0.05, B = 0.2 }
        [mesh]
        grid = [60, 60, 1]
        [fermi]
        energies = [0.0, 0.3]
        [calculate]
        quantities = ["conductivity_boltzmann", "scattering_rate", "ahe_extrinsic"]
        [disorder]
        model = "cell"
        strength = 0.05
        companion_step = 1.0
        [output]
        file = "gap.h5"
    """)
    (tmp_path / "gap.toml").write_text(cfg)
    with pytest.warns(RuntimeWarning, match="no Fermi surface at mu = 0.0000 eV"):
        assert main(["run", str(tmp_path / "gap.toml"), "--quiet"]) == 0
    with h5py.File(tmp_path / "gap.h5") as f:
        for q in ("conductivity_boltzmann", "scattering_rate", "ahe_extrinsic"):
            assert list(f[q]["fermi_surface_empty"][:]) == [True, False], q
        sigma = f["conductivity_boltzmann/value"][:]
        assert np.all(np.isnan(sigma[0])) and np.all(np.isfinite(sigma[1])) and sigma[1, 0, 0] > 0
        assert np.isnan(f["ahe_extrinsic/total"][0]).all() and np.isfinite(f["ahe_extrinsic/total"][1]).all()
        offsets = f["scattering_rate/offsets"][:]
        assert offsets[0] == offsets[1] == 0 and offsets[2] == len(f["scattering_rate/rate"]) > 0
    (tmp_path / "gap.toml").write_text(cfg.replace("energies = [0.0, 0.3]", "energies = [0.0, 0.01]"))
    with pytest.warns(RuntimeWarning):
        assert main(["run", str(tmp_path / "gap.toml"), "--quiet"]) == 2  # no Fermi surface anywhere
