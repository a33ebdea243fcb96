"""`mpiexec -n 2 wkin run` reproduces the serial HDF5 numbers (to 1e-12)."""

import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import random_model

from wkin.io.wannier90 import write_tb

pytestmark = pytest.mark.mpi

CONFIG = """
[model]
wannier90 = "rnd"
[mesh]
grid = [8, 6, 5]
adaptive = {{ levels = 2, subdivision = 3, threshold = 0.01 }}
[fermi]
range = [-2.0, 2.0, 0.25]
[calculate]
quantities = ["ahc", "ohmic", "berry_dipole", "gme_orb", "gme_spin", "dos"]
[output]
file = "{out}"
"""


def _mpiexec():
    exe = shutil.which("mpiexec")
    if exe is None:
        pytest.skip("mpiexec not found (pip install mpich)")
    return exe


def _serial_and_two_ranks(tmp_path, template):
    """Run the same configuration serially and under ``mpiexec -n 2``; return the two HDF5 paths."""
    exe = _mpiexec()
    cmd = [sys.executable, "-m", "wkin.cli", "run"]
    for out, prefix in (("serial.h5", []), ("mpi.h5", [exe, "-n", "2"])):
        cfg = tmp_path / out.replace(".h5", ".toml")
        cfg.write_text(template.format(out=out))
        subprocess.run(prefix + cmd + [str(cfg), "--quiet"], check=True, timeout=300)
    return tmp_path / "serial.h5", tmp_path / "mpi.h5"


def test_two_ranks_equal_serial(tmp_path):
    write_tb(tmp_path / "rnd_tb.dat", random_model(seed=11, nw=3))
    serial, mpi = _serial_and_two_ranks(tmp_path, CONFIG.replace(', "gme_spin"', ""))
    with h5py.File(serial) as a, h5py.File(mpi) as b:
        assert b.attrs["mpi_ranks"] == 2 and a.attrs["mpi_ranks"] == 1
        assert a.attrs["nk_evaluated"] == b.attrs["nk_evaluated"]
        for name in ("ahc", "ohmic", "berry_dipole", "gme_orb", "dos"):
            x, y = a[name]["value"][:], b[name]["value"][:]
            assert np.abs(x - y).max() <= 1e-12 * max(np.abs(x).max(), 1e-300), name
            assert np.allclose(a[name]["adaptive_value"][:], b[name]["adaptive_value"][:], rtol=1e-12, atol=0)


BOLTZMANN = """
[model]
builtin = "rashba_exchange"
params = {{ alpha = 0.3, J = 0.1 }}
[mesh]
grid = [90, 90, 1]
shift = [0.5, 0.5, 0]
[fermi]
energies = [0.4, 0.8]
[calculate]
quantities = ["conductivity_boltzmann", "scattering_rate"]
[disorder]
model = "orbital"
strength = 0.05
[output]
file = "{out}"
"""


def test_boltzmann_two_ranks_equal_serial(tmp_path):
    serial, mpi = _serial_and_two_ranks(tmp_path, BOLTZMANN)
    with h5py.File(serial) as a, h5py.File(mpi) as b:
        for name in ("value", "rta", "constant_tau"):
            x, y = a["conductivity_boltzmann"][name][:], b["conductivity_boltzmann"][name][:]
            assert np.abs(x - y).max() <= 1e-12 * np.abs(x).max(), name
        for name in ("k", "rate", "mean_free_path"):
            x, y = a["scattering_rate"][name][:], b["scattering_rate"][name][:]
            assert np.allclose(x, y, rtol=1e-12, atol=1e-12 * np.abs(x).max()), name


def test_serial_fallback_without_mpi4py():
    """wkin runs when mpi4py cannot be imported (serial fallback)."""
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import wkin.parallel as p\n"
            "assert p.COMM is None and p.size() == 1 and p.rank() == 0\n"
            "import numpy as np\n"
            "assert np.allclose(p.sum_over_ranks(np.ones(3)), 1.0)\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


EXTRINSIC = """
[model]
builtin = "massive_dirac"
params = {{ t = 1.0, B = 0.1, M = 0.05 }}
[mesh]
grid = [160, 160, 1]
[fermi]
energies = [0.12, 0.2]
[calculate]
quantities = ["ahe_extrinsic", "spin_density", "spin_orbit_torque"]
[disorder]
model = "cell"
strength = 0.01
third_moment = 0.001
omitted_term = true
[torque]
exchange = 0.05
axis = [0, 0, 1]
[output]
file = "{out}"
"""


def _groups_equal(a, b, groups, rel):
    """Every dataset of the HDF5 groups equal in the two files (booleans exactly, the rest to ``rel``)."""
    for group in groups:
        assert sorted(a[group]) == sorted(b[group])
        for piece in a[group]:
            x, y = a[group][piece][:], b[group][piece][:]
            if x.dtype == bool:  # fermi_surface_empty
                assert np.array_equal(x, y), (group, piece)
                continue
            assert np.abs(x - y).max() <= rel * max(np.abs(x).max(), 1e-300), (group, piece)


def test_extrinsic_response_two_ranks_equal_serial(tmp_path):
    serial, mpi = _serial_and_two_ranks(tmp_path, EXTRINSIC)
    with h5py.File(serial) as a, h5py.File(mpi) as b:
        _groups_equal(a, b, ("ahe_extrinsic", "spin_density", "spin_orbit_torque"), 1e-12)
        assert not a["ahe_extrinsic/fermi_surface_empty"][:].any()


SMEARED = """
[model]
builtin = "rashba_exchange"
params = {{ alpha = 0.3, J = 0.1 }}
[mesh]
grid = [80, 80, 1]
shift = [0.5, 0.5, 0]
[fermi]
energies = [0.8]
broadening = 0.03
[calculate]
quantities = ["conductivity_boltzmann"]
[disorder]
model = "cell"
strength = 0.05
quadrature = "smeared"
pair_broadening = 0.015
[output]
file = "{out}"
"""


def test_smeared_boltzmann_two_ranks_equal_serial(tmp_path):
    serial, mpi = _serial_and_two_ranks(tmp_path, SMEARED)
    with h5py.File(serial) as a, h5py.File(mpi) as b:
        x, y = a["conductivity_boltzmann/value"][:], b["conductivity_boltzmann/value"][:]
        assert np.abs(x - y).max() <= 1e-10 * np.abs(x).max()


IRREDUCIBLE_ADAPTIVE = """
[model]
builtin = "chiral_trigonal"
[mesh]
grid = [9, 9, 6]
adaptive = {{ levels = 2, subdivision = 3, threshold = 0.01 }}
[fermi]
range = [-1.0, 1.0, 0.25]
[calculate]
quantities = ["ohmic", "berry_dipole", "gme_orb"]
[symmetry]
mode = "irreducible"
[output]
file = "{out}"
"""


def test_irreducible_adaptive_two_ranks_equal_serial(tmp_path):
    serial, mpi = _serial_and_two_ranks(tmp_path, IRREDUCIBLE_ADAPTIVE)
    with h5py.File(serial) as a, h5py.File(mpi) as b:
        assert a.attrs["nk_evaluated"] == b.attrs["nk_evaluated"]
        for name in ("ohmic", "berry_dipole", "gme_orb"):
            x, y = a[name]["value"][:], b[name]["value"][:]
            assert np.abs(x - y).max() <= 1e-12 * np.abs(x).max(), name
            x, y = a[name]["adaptive_value"][:], b[name]["adaptive_value"][:]  # projected: zeros up to rounding
            assert np.abs(x - y).max() <= 1e-12 * np.abs(x).max(), name


KINETIC_WEDGE = """
[model]
wannier90 = "{seed}"
[mesh]
grid = [8, 8, 8]
[fermi]
energies = [5.86, 5.9]
[calculate]
quantities = ["conductivity_boltzmann", "ahe_extrinsic"]
[disorder]
model = "cell"
strength = 0.25
companion_step = 2.0
[symmetry]
mode = "irreducible"
symmetrize_hamiltonian = true
[output]
file = "{{out}}"
"""


def test_kinetic_wedge_two_ranks_equal_serial(tmp_path):
    """Kinetic shells on the irreducible wedge (symmetrized Te): each rank solves the wedge points of its share of the
    unfolded states; the HDF5 numbers equal the serial run."""
    seed = Path(__file__).resolve().parents[1] / "examples" / "materials" / "Te" / "Te"
    serial, mpi = _serial_and_two_ranks(tmp_path, KINETIC_WEDGE.format(seed=seed))
    with h5py.File(serial) as a, h5py.File(mpi) as b:
        for group in ("conductivity_boltzmann", "ahe_extrinsic"):
            for piece in a[group]:
                x, y = a[group][piece][:], b[group][piece][:]
                if x.dtype == bool:
                    assert np.array_equal(x, y), (group, piece)
                    continue
                scale = max(np.abs(a[group][p][:]).max() for p in a[group] if a[group][p].dtype != bool)
                assert np.abs(x - y).max() <= 1e-12 * max(np.abs(x).max(), 1e-6 * scale), (group, piece)


GYROTROPIC = """
[model]
builtin = "chiral_trigonal"
[mesh]
grid = [10, 10, 10]
[fermi]
energies = [-2.0, 0.5]
[calculate]
quantities = ["gyrotropic", "optical_rotation", "kme"]
frequency_range = [0.0, 0.004, 0.002]
electric_field = [1e4, 0, 0]
[disorder]
model = "atom"
strength = 5.0
[output]
file = "{out}"
"""


def test_gyrotropic_two_ranks_equal_serial(tmp_path):
    """The gyrotropic family (resolvent solves at three frequencies, side jump) under mpiexec -n 2 = serial, 1e-10."""
    serial, mpi = _serial_and_two_ranks(tmp_path, GYROTROPIC)
    with h5py.File(serial) as a, h5py.File(mpi) as b:
        assert np.array_equal(a["frequencies"][:], b["frequencies"][:])
        _groups_equal(a, b, ("gyrotropic", "optical_rotation", "kme"), 1e-10)
        assert np.abs(a["gyrotropic/side_jump"][:]).max() > 1e-3 * np.abs(a["gyrotropic/total"][:]).max()
