"""`wkin screen`: one configuration over many models, one table; failures recorded, resumable, MPI = serial."""

import csv
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

import wkin
from conftest import random_model
from wkin.cli import main
from wkin.io.wannier90 import write_tb

CONFIG = textwrap.dedent("""
    [mesh]
    grid = [8, 8, 8]
    [fermi]
    energies = [-0.5, 0.5]
    broadening = 0.1
    [calculate]
    quantities = ["ahc", "berry_dipole", "ohmic"]
    [screen]
    columns = ["ahc[x,y]", "max|berry_dipole|", "ahc[x,y] / ohmic[x,x]"]
    table = "table.csv"
""")


@pytest.fixture
def materials(tmp_path):
    """Three random Wannier models (3-5 WF) written as _tb.dat, one broken file, and the configuration."""
    seeds = []
    for i, nw in enumerate((3, 4, 5)):
        seed = tmp_path / f"m{i}"
        write_tb(f"{seed}_tb.dat", random_model(seed=10 + i, nw=nw))
        seeds.append(str(seed))
    (tmp_path / "bad_tb.dat").write_text("not a tb file\n")
    (tmp_path / "screen.toml").write_text(CONFIG)
    return tmp_path, seeds


def _table(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_table_values_are_the_runs_values_and_failures_are_recorded(materials):
    path, seeds = materials
    assert main(["screen", str(path / "screen.toml"), *seeds, str(path / "bad"), "--quiet"]) == 0
    rows = _table(path / "table.csv")
    assert [r["material"] for r in rows] == [s for s in seeds for _ in range(2)] + [str(path / "bad")]
    bad = rows[-1]
    assert bad["status"].startswith("failed:") and "bad_tb.dat" in bad["status"] and "\n" not in bad["status"]
    for seed in seeds:  # each value equals the same quantity computed directly
        res = wkin.compute(wkin.load_model(seed), ["ahc", "berry_dipole", "ohmic"], mesh=[8, 8, 8],
                           fermi={"energies": [-0.5, 0.5], "broadening": 0.1})
        mine = [r for r in rows if r["material"] == seed]
        for i, r in enumerate(mine):
            assert r["status"] == "ok" and float(r["fermi_energy_eV"]) == pytest.approx(res.mu[i])
            ahc = res["ahc"].value[i, 0, 1]
            assert float(r["ahc[x,y]"]) == pytest.approx(ahc, rel=1e-12)
            assert float(r["max|berry_dipole|"]) == pytest.approx(np.abs(res["berry_dipole"].value[i]).max(),
                                                                 rel=1e-12)
            assert float(r["ahc[x,y] / ohmic[x,x]"]) == pytest.approx(ahc / res["ohmic"].value[i, 0, 0], rel=1e-12)
    with h5py.File(path / "table.h5") as f:
        assert list(f.attrs["columns"]) == ["ahc[x,y]", "max|berry_dipole|", "ahc[x,y] / ohmic[x,x]"]
        assert len(f["material"]) == len(rows) and f["fermi_energy"].attrs["units"] == "eV"
        assert np.allclose(f["column_0"][:-1], [float(r["ahc[x,y]"]) for r in rows[:-1]], rtol=1e-15)


def test_an_interrupted_screening_resumes(materials):
    """Materials already in the table are skipped: their rows are kept as they are, the others are added."""
    path, seeds = materials
    assert main(["screen", str(path / "screen.toml"), seeds[0], "--quiet"]) == 0
    first = _table(path / "table.csv")
    rows = [dict(r) for r in first]
    rows[0]["ahc[x,y]"] = "123.0"  # a marker: a rerun must not recompute this material
    with open(path / "table.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(first[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["screen", str(path / "screen.toml"), *seeds, "--quiet"]) == 0
    again = _table(path / "table.csv")
    assert again[0]["ahc[x,y]"] == "123.0" and [r["material"] for r in again] == [s for s in seeds for _ in range(2)]


def test_the_glob_of_the_model_section(materials):
    path, seeds = materials
    (path / "glob.toml").write_text(CONFIG.replace("[mesh]", "[model]\nwannier90 = \"m*\"\n[mesh]"))
    assert main(["screen", str(path / "glob.toml"), "--quiet"]) == 0
    assert sorted({r["material"] for r in _table(path / "table.csv")}) == sorted(seeds)


@pytest.mark.parametrize("column, message", [
    ("ahc[x]", "has axes"), ("dos[x,y]", "which [calculate] quantities does not list"),
    ("berry_dipole", "give a component"), ("ahc/skew[x,y]", "no per-Fermi-energy dataset 'skew'"),
    ("ahc[x,y] / ohmic[x,x] / ahc[x,y]", "one ratio at most"), ("ahc{x,y}", "cannot read"),
])
def test_bad_columns_are_one_line_errors(materials, capsys, column, message):
    path, seeds = materials
    (path / "screen.toml").write_text(CONFIG.replace('"ahc[x,y]", "max|berry_dipole|"', f'"{column}"'))
    assert main(["screen", str(path / "screen.toml"), seeds[0], "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wkin: error: [screen] columns") and message in err and "\n" not in err


@pytest.mark.mpi
def test_materials_over_ranks_equal_serial(materials):
    """Four materials on two ranks (each material on one rank) give the serial table."""
    path, seeds = materials
    exe = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")
    if not Path(exe).exists():
        pytest.skip("no mpiexec")
    args = [str(path / "screen.toml"), *seeds, str(path / "bad"), "--quiet"]
    assert main(["screen", *args]) == 0
    serial = _table(path / "table.csv")
    (path / "table.csv").unlink()
    subprocess.run([exe, "-n", "2", sys.executable, "-m", "wkin.cli", "screen", *args], check=True, timeout=300)
    mpi = _table(path / "table.csv")
    assert [r["material"] for r in mpi] == [r["material"] for r in serial]
    for a, b in zip(serial, mpi):
        assert a["status"] == b["status"]
        for key in ("ahc[x,y]", "max|berry_dipole|"):
            x, y = float(a[key]), float(b[key])
            assert (np.isnan(x) and np.isnan(y)) or x == pytest.approx(y, rel=1e-12, abs=1e-14)
