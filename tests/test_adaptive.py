"""Adaptive refinement: the spiky Berry curvature of a small-gap lattice Dirac model.

Independent reference: the gap Hall conductance of a 2D lattice is an integer
Chern number: for M < 0 < B in wkin.model.lattice.massive_dirac the lower band has C = −1 and
σ_xy·c = +e²/h (spec seed-000 §4.4).
"""

import dataclasses

import numpy as np
from conftest import random_model
from scipy.constants import e, h

from wkin.kspace.integrate import Adaptive, integrate
from wkin.kspace.mesh import subdivide
from wkin.kspace.occupations import Occupations
from wkin.model.lattice import massive_dirac
from wkin.quantities import observables


def _chern(model, **kw):
    r = integrate(model, observables(["ahc"]), Occupations(mu=[0.0]), **kw)
    c_cm = np.linalg.norm(model.lattice[2]) * 1e-8  # out-of-plane cell length in cm
    return r, r.values["ahc"][0, 0, 1] * c_cm / (e**2 / h)


def test_refinement_converges_where_uniform_grids_do_not():
    model = massive_dirac(M=-0.01, B=0.2)
    _, uniform_fine = _chern(model, grid=[120, 120, 1])
    r, adaptive = _chern(model, grid=[24, 24, 1], adaptive=Adaptive(levels=8, subdivision=3, threshold=3e-5))
    assert r.nk_evaluated < 120 * 120
    assert abs(adaptive - 1) < 5e-3
    assert abs(adaptive - 1) < abs(uniform_fine - 1) / 10
    errors = [abs(v["ahc"][0, 0, 1] - r.values["ahc"][0, 0, 1]) for _, v in r.levels]
    assert errors[0] > 100 * errors[-2]  # the uniform 24x24 value is far off; refinement fixes it


def test_refining_the_neighbours_removes_the_one_sided_bias():
    """Refining only points above the threshold corrects cells whose centre sits on a spike (too large) but
    never those that hold a spike between their points (too small): the result is biased low. Refining the
    neighbours of every selected point as well (the default) removes most of it at the same threshold."""
    model = massive_dirac(M=-0.01, B=0.2)
    errors = {}
    for neighbours in (False, True):
        _, c = _chern(model, grid=[24, 24, 1], adaptive=Adaptive(levels=8, threshold=1e-3, neighbours=neighbours))
        errors[neighbours] = c - 1
    assert errors[False] < -0.03  # biased low
    assert abs(errors[True]) < abs(errors[False]) / 4


def test_neighbours_are_found_on_shifted_and_refined_lattices():
    from wkin.kspace.mesh import uniform, with_neighbours
    k = uniform([6, 5, 1], shift=[0.5, 0.5, 0.0])
    grid_index = np.rint(k * [6, 5, 1] - [0.5, 0.5, 0]).astype(int)
    i0 = int(np.flatnonzero(np.all(grid_index == [0, 0, 0], axis=1))[0])  # corner point: neighbours wrap around
    found = with_neighbours(np.array([i0]), k, np.array([1 / 6, 1 / 5, 1.0]))
    expected = {(a % 6, b % 5) for a in (-1, 0, 1) for b in (-1, 0, 1)}
    assert {tuple(grid_index[j, :2]) for j in found} == expected
    kn, cn = subdivide(k[:3], np.tile([1 / 6, 1 / 5, 1.0], (3, 1)), [3, 3, 1])  # one refinement level
    found = with_neighbours(np.array([4]), kn, cn[0])  # the centre of the first sub-grid: its 3×3 block
    assert sorted(found) == list(range(9))


def test_subdivision_preserves_weights_and_cells():
    k = np.array([[0.1, 0.2, 0.0]])
    cell = np.array([[0.25, 0.25, 1.0]])
    kn, cn = subdivide(k, cell, [3, 3, 1])
    assert kn.shape == (9, 3) and np.allclose(cn, [0.25 / 3, 0.25 / 3, 1.0])
    assert np.allclose(kn.mean(axis=0), k[0])  # centred sub-grid
    assert np.any(np.all(np.isclose(kn, k[0]), axis=1))  # odd m keeps the original point


def test_energies_only_path_equals_the_full_band_pass():
    """dos/electrons alone take the H-only FFT + eigvalsh path; the values equal those of the full band pass
    (the same observables with the flag off), uniform and adaptive."""
    model = random_model(seed=2, nw=4)
    occ = Occupations(mu=np.linspace(-1.0, 1.0, 5), surface_kind="gaussian", broadening=0.1)
    heavy = [dataclasses.replace(o, energies_only=False) for o in observables(["dos", "electrons"])]
    for kw in ({}, {"adaptive": Adaptive(levels=1, threshold=1e-2)}):
        light = integrate(model, observables(["dos", "electrons"]), occ, [7, 6, 5], **kw)
        full = integrate(model, heavy, occ, [7, 6, 5], **kw)
        assert light.nk_evaluated == full.nk_evaluated
        for name in ("dos", "electrons"):
            assert np.allclose(light.values[name], full.values[name], rtol=1e-12, atol=1e-14)
