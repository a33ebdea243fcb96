"""Kinetic quantities on the irreducible wedge (issue 12): Fermi shells whose eigen-solves are made at the wedge
points only and mapped onto every image by the space-group representation (``[symmetry] mode = "irreducible"``
with a symmetrized model).

Reference: the same symmetric shell quadrature (the tetrahedron shell of the wedge, unfolded) with an eigen-solve
at every point — the full mesh. Shell columns (energies, velocities, spins, eigenvectors, interband vectors, all
bands) and every kinetic quantity (Boltzmann conductivity, the extrinsic Hall and spin pieces, the gyrotropic
tensor with its orbital moments) agree to 1e-8 on
symmetrized bcc Fe (16 magnetic operations, 8 of them antiunitary) and trigonal Te (12 operations with T).
"""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from wkin.kinetic.shells import ShellBuilder
from wkin.kspace import fermi_surface
from wkin.model import TightBindingModel
from wkin.model.representation import projections_from_win, wannier_representation
from wkin.model.symmetrize import symmetrized_model
from wkin import quantities as registry
from wkin.plan import run_kinetic
from wkin.settings import DisorderSettings
from wkin.symmetry import space_group_operations

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "materials"
FE_EF = 13.5219


@pytest.fixture(scope="module")
def fe():
    raw = TightBindingModel.from_wannier90(str(EXAMPLES / "Fe" / "Fe"), spin=True)
    model = symmetrized_model(raw, str(EXAMPLES / "Fe" / "Fe") + ".win", magnetization=[0, 0, 1])
    ops = space_group_operations(model, [0, 0, 1])
    return model, wannier_representation(model, projections_from_win(model.seedname + ".win"), ops)


@pytest.fixture(scope="module")
def te():
    raw = TightBindingModel.from_wannier90(str(EXAMPLES / "Te" / "Te"))
    model = symmetrized_model(raw, str(EXAMPLES / "Te" / "Te"))
    ops = space_group_operations(model)
    return model, wannier_representation(model, projections_from_win(model.seedname + ".win"), ops)


def test_symmetric_shell_is_a_quadrature_of_the_fermi_surface(fe):
    """The unfolded wedge shell is invariant under the group, carries the density of states of the plain
    tetrahedron shell to the discretisation level, and needs eigen-solves at about 1/|G| of its points."""
    model, rep = fe
    sampler = fermi_surface.TetrahedronSampler(model, (16, 16, 16))
    plain = sampler.shell(FE_EF)
    sym = fermi_surface.symmetric_surface(plain, rep.ops)
    assert abs(sym.weight.sum() / plain.weight.sum() - 1) < 0.02  # measured 1.2 %
    assert len(sym.unfolding.k) < 1.5 * len(sym.k) / len(rep.ops.W)
    key = {tuple(np.rint(k * 1e6).astype(int) % 10 ** 6) for k in sym.k}
    for o in range(len(rep.ops.W)):
        img = rep.ops.k_images(sym.k, o) % 1.0
        assert {tuple(np.rint(k * 1e6).astype(int) % 10 ** 6) for k in img} == key


def _direct(fs):
    return dataclasses.replace(fs, unfolding=None)


def test_unfolded_shell_columns_equal_direct_solves(fe):
    model, rep = fe
    disorder = DisorderSettings(model="cell", strength=0.25).disorder()
    sampler = fermi_surface.TetrahedronSampler(model, (12, 12, 12), operations=rep.ops)
    builder = ShellBuilder(model, disorder, sampler, ("velocity", "spin"), interband=True, representation=rep)
    fs = sampler.shell(FE_EF)
    a, b = builder.from_surface(fs), builder.from_surface(_direct(fs))
    assert np.allclose(a.states.k, b.states.k) and np.array_equal(a.states.band, b.states.band)
    assert np.abs(a.states.energy - b.states.energy).max() < 1e-9
    for name in ("velocity", "spin"):
        x, y = a.observables[name], b.observables[name]
        assert np.abs(x - y).max() < 1e-8 * np.abs(y).max(), name
    phase = np.einsum("nw,nw->n", b.states.c.conj(), a.states.c)
    assert np.allclose(np.abs(phase), 1.0, atol=1e-9)
    for name in ("velocity", "spin"):
        x, y = a.interband_vectors[name], b.interband_vectors[name] * phase[:, None, None]
        assert np.abs(x - y).max() < 1e-8 * np.abs(y).max(), name
        d = b.bands.diagonal[name]
        assert np.abs(a.bands.diagonal[name] - d).max() < 1e-8 * np.abs(d).max(), name
    assert np.abs(a.bands.energies - b.bands.energies).max() < 1e-9
    P = np.einsum("nwb,nvb->nbwv", a.bands.U, a.bands.U.conj())
    Q = np.einsum("nwb,nvb->nbwv", b.bands.U, b.bands.U.conj())
    assert np.abs(P - Q).max() < 1e-8


def _kinetic(tb, rep, names, monkeypatch, direct, grid, mu, **disorder):
    if direct:  # the same symmetric shells, an eigen-solve at every point
        shell = fermi_surface.TetrahedronSampler.shell
        monkeypatch.setattr(fermi_surface.TetrahedronSampler, "shell", lambda self, m: _direct(shell(self, m)))
    out = run_kinetic(tb, names, [mu], DisorderSettings(**disorder), grid=grid, representation=rep,
                      frequencies=[0.0, 0.01])
    monkeypatch.undo()
    return out


@pytest.mark.parametrize("which", ["fe", "te"])
def test_kinetic_quantities_on_the_wedge_equal_the_full_mesh(which, request, monkeypatch):
    model, rep = request.getfixturevalue(which)
    if which == "fe":
        names, mu, grid = ["conductivity_boltzmann", "ahe_extrinsic", "spin_density"], FE_EF, (12, 12, 12)
    else:
        names, mu, grid = ["conductivity_boltzmann", "ahe_extrinsic", "gyrotropic"], 5.88, (10, 10, 10)
    kw = dict(model="cell", strength=0.25, companion_step=2.0)
    if which == "te":  # the orbital moment (axial, time-odd) and the skew moment of the third cumulant unfold too;
        # atom disorder: the cell correlator of a three-atom cell is not invariant under the screw axis (disorder.md)
        kw.update(model="atom", third_moment=0.5)
    wedge = _kinetic(model, rep, names, monkeypatch, False, grid, mu, **kw)
    full = _kinetic(model, rep, names, monkeypatch, True, grid, mu, **kw)
    # Each piece on its own scale, at least 1e-6 of the largest piece in the same unit (Te is non-magnetic: its Hall
    # pieces vanish and are rounding noise beside the Drude one). bcc Fe has inversion: its current-induced spin density vanishes in every
    # piece, so it is compared on the natural scale sigma_xx / (e v_F) ~ 4.7e7 S/m / (1.6e-19 C x 5e5 m/s)
    # ~ 6e20 1/(V m^2).
    floor = {"spin_density": 6e20}
    for name in names:
        units = registry.get(name).datasets
        tensors = {p: y for p, y in full[name].items() if np.asarray(y).dtype != bool}
        assert np.array_equal(wedge[name]["fermi_surface_empty"], full[name]["fermi_surface_empty"])
        for piece, y in tensors.items():
            same = max(np.abs(z).max() for p, z in tensors.items() if units[p].units == units[piece].units)
            scale = max(np.abs(y).max(), 1e-6 * same, floor.get(name, 0.0))
            assert np.abs(wedge[name][piece] - y).max() <= 1e-8 * scale, (name, piece)
    if which == "fe":  # the Hall pieces are not zero: the comparison is not vacuous
        assert abs(wedge["ahe_extrinsic"]["side_jump"][0, 0, 1]) > 1.0
    else:
        g = wedge["gyrotropic"]
        assert min(np.abs(g[p]).max() for p in ("intrinsic", "skew", "side_jump")) > 1e-4 * np.abs(g["total"]).max()
        t = g["total"][0]  # the D3 form on the symmetric shell, without any projection: xx = yy, zz, no off-diagonal
        assert np.abs(t[:, 0, 0] - t[:, 1, 1]).max() < 1e-9 * np.abs(t).max()
        assert np.abs(t - t * np.eye(3)).max() < 1e-9 * np.abs(t).max()


def test_the_plan_uses_the_wedge_for_a_symmetrized_model(fe):
    """``mode = "irreducible"`` with a symmetrized model: kinetic shells on the wedge (the plan says so); without
    symmetrization the model's images are not exact eigenstates, and the kinetic quantities stay on the full mesh."""
    from wkin.config import from_tables
    from wkin.plan import make_plan
    model, _ = fe
    tables = {"fermi": {"energies": [FE_EF]}, "mesh": {"grid": [8, 8, 8]},
              "calculate": {"quantities": ["conductivity_boltzmann"]},
              "disorder": {"model": "cell", "strength": 0.25},
              "symmetry": {"mode": "irreducible", "magnetization": [0, 0, 1]}}
    plan = make_plan(from_tables(tables, model_required=False, degen_thresh=1e-4), model)
    assert plan.representation is not None and len(plan.representation.ops.W) == 16
    assert "irreducible wedge unfolded by 16 operations" in plan.describe()
    raw = TightBindingModel.from_wannier90(str(EXAMPLES / "Fe" / "Fe"))
    assert make_plan(from_tables(tables, model_required=False, degen_thresh=1e-4), raw).representation is None


def test_cell_disorder_in_a_crystal_with_several_sites_warns(fe, te):
    """The cell correlator is invariant when every operation translates all Wannier functions alike (bcc Fe, one
    atom); trigonal Te's screw axis moves its three atoms into other cells, so irreducible mode with ``cell``
    disorder warns (and ``atom`` disorder does not)."""
    import warnings

    from wkin.config import from_tables
    from wkin.plan import make_plan
    assert fe[1].keeps_cells() and not te[1].keeps_cells()
    tables = {"fermi": {"energies": [5.5]}, "mesh": {"grid": [6, 6, 6]},
              "calculate": {"quantities": ["conductivity_boltzmann"]},
              "disorder": {"model": "cell", "strength": 1.0}, "symmetry": {"mode": "irreducible"}}
    with pytest.warns(RuntimeWarning, match="not a symmetric disorder"):
        make_plan(from_tables(tables, model_required=False, degen_thresh=1e-4), te[0])
    tables["disorder"]["model"] = "atom"
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        make_plan(from_tables(tables, model_required=False, degen_thresh=1e-4), te[0])
