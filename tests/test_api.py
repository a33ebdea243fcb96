"""The Python API: docs/api.md executed as written, the API equal to `wkin run` on the same configuration, and
the same one-line errors as the TOML path."""

import re
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

import wkin
from wkin.cli import main
from wkin.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_the_worked_session_of_docs_api_runs(tmp_path, monkeypatch):
    """Every ```python block of docs/api.md, in order, in one namespace, from a folder whose examples/ is the
    repository's: the documentation cannot drift from the package."""
    pytest.importorskip("matplotlib")
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "api.md").read_text(), flags=re.S)
    assert len(blocks) >= 3
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in blocks:
        exec(compile(block, "docs/api.md", "exec"), namespace)  # noqa: S102 - our own documentation
    with h5py.File(tmp_path / "fe_ahe_split.h5") as f:
        assert f["ahe_extrinsic/total"].attrs["units"] == "S/cm"
        pieces = ("drude", "intrinsic", "extrinsic_velocity", "side_jump", "skew", "skew_third_order")
        assert np.allclose(sum(f["ahe_extrinsic"][p][:] for p in pieces), f["ahe_extrinsic/total"][:], rtol=1e-12)
    png = tmp_path / "te_berry_dipole.png"
    assert png.stat().st_size > 5000
    image = __import__("matplotlib.image", fromlist=["imread"]).imread(png)
    assert image[..., :3].std() > 0.01  # not blank


CONFIG = """
[model]
builtin = "rashba_exchange"
params = {{ alpha = 0.3, J = 0.1 }}
[mesh]
grid = [40, 40, 1]
adaptive = {{ levels = 1, threshold = 1e-2 }}
[fermi]
energies = [0.5, 0.8]
temperature = 0.0
broadening = 0.02
[calculate]
quantities = ["ahc", "ohmic", "spin_intrinsic", "conductivity_boltzmann", "ahe_extrinsic"]
tau = 5.0
[disorder]
model = "cell"
strength = 0.05
companion_step = 0.5
[output]
file = "{out}"
"""


def test_api_and_wkin_run_are_one_run(tmp_path):
    """The same settings through a TOML file and through wkin.compute give the same datasets (units, axes, values)."""
    (tmp_path / "run.toml").write_text(CONFIG.format(out="cli.h5"))
    assert main(["run", str(tmp_path / "run.toml"), "--quiet"]) == 0
    model = wkin.load_model("rashba_exchange", alpha=0.3, J=0.1)
    res = wkin.compute(model, ["ahc", "ohmic", "spin_intrinsic", "conductivity_boltzmann", "ahe_extrinsic"],
                       mesh={"grid": [40, 40, 1], "adaptive": {"levels": 1, "threshold": 1e-2}},
                       fermi={"energies": [0.5, 0.8], "broadening": 0.02}, tau=5.0,
                       disorder={"model": "cell", "strength": 0.05, "companion_step": 0.5})
    assert list(res) == ["ahc", "ohmic", "spin_intrinsic", "conductivity_boltzmann", "ahe_extrinsic"]
    assert res["ahc"].units == "S/cm" and res["ahe_extrinsic"].value is None
    assert res["ahc"].axes["value"] == "fermi_energy, cartesian, cartesian"
    res.to_hdf5(tmp_path / "api.h5")
    with h5py.File(tmp_path / "cli.h5") as a, h5py.File(tmp_path / "api.h5") as b:
        for name in res:
            assert sorted(a[name]) == sorted(b[name]) == sorted(set(res[name].pieces) | (
                {"adaptive_value", "adaptive_nk"} if res[name].levels else set()))
            for dset in a[name]:
                x, y = a[name][dset], b[name][dset]
                assert x.attrs["units"] == y.attrs["units"] and x.attrs.get("axes") == y.attrs.get("axes")
                if x.dtype == bool:
                    assert np.array_equal(x[()], y[()])
                else:
                    assert np.allclose(x[()], y[()], rtol=1e-12, atol=0), (name, dset)
                    assert np.allclose(res[name][dset] if dset in res[name].pieces else y[()], y[()], rtol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda m: wkin.compute(m, ["ahc"], fermi=[0.1], mesh=[4, 4, 1], smearing=0.1), "unknown keyword argument 'smearing'"),
    (lambda m: wkin.compute(m, ["bogus"], fermi=[0.1], mesh=[4, 4, 1]), "unknown quantity 'bogus'"),
    (lambda m: wkin.compute(m, ["ahc"], fermi=[0.1], mesh=[4, 4]), "[mesh] grid"),
    (lambda m: wkin.compute(m, ["ahc"], mesh=[4, 4, 1]), "missing keyword argument 'fermi'"),
    (lambda m: wkin.compute(m, ["conductivity_boltzmann"], fermi=[0.5], mesh=[4, 4, 1]), "[disorder]: missing"),
    (lambda m: wkin.compute(m, ["ahc"], fermi={"energies": [0.1], "smearing": 1}, mesh=[4, 4, 1]),
     "[fermi] smearing: unknown key"),
    (lambda m: wkin.compute(m, ["ahc", "ahc"], fermi=[0.1], mesh=[4, 4, 1]), "listed twice"),
    (lambda m: wkin.load_model("haldane", t9=1.0), "[model] params"),
    (lambda m: wkin.load_model("examples/materials/Te/Te", spinn=True), "unknown keyword argument 'spinn'"),
])
def test_bad_input_is_the_one_line_config_error(call, message):
    model = wkin.load_model("haldane", t2=0.1)
    with pytest.raises(ConfigError) as err:
        call(model)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_mpi_script_equals_serial(tmp_path):
    """`mpiexec -n 2 python script.py` with wkin.compute: the same numbers as the serial call."""
    import shutil
    import subprocess
    import sys
    exe = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")
    if not Path(exe).exists():
        pytest.skip("no mpiexec")
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import sys
        import numpy as np
        import wkin
        model = wkin.load_model("massive_dirac", M=0.05, B=0.1)
        res = wkin.compute(model, ["ahc", "conductivity_boltzmann"], fermi=[0.12, 0.2], mesh=[120, 120, 1],
                           disorder={"model": "cell", "strength": 0.01})
        res.to_hdf5(sys.argv[1])
    """))
    for out, prefix in (("serial.h5", []), ("mpi.h5", [exe, "-n", "2"])):
        subprocess.run(prefix + [sys.executable, str(script), str(tmp_path / out)], check=True, timeout=300,
                       cwd=tmp_path)
    with h5py.File(tmp_path / "serial.h5") as a, h5py.File(tmp_path / "mpi.h5") as b:
        assert b.attrs["mpi_ranks"] == 2 and a.attrs["mpi_ranks"] == 1
        for name in ("ahc/value", "conductivity_boltzmann/value"):
            assert np.allclose(a[name][()], b[name][()], rtol=1e-12, atol=1e-12 * np.abs(a[name][()]).max()), name
