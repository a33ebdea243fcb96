"""Shared fixtures: small random Wannier models with full position matrices."""

import numpy as np
import pytest

from wkin.model import TightBindingModel


def random_model(seed=0, nw=4, A_scale=0.1, spin=False, lattice=None):
    """Random Hermitian model on a few shells of R with a random position matrix A(R)."""
    rng = np.random.default_rng(seed)
    R = np.array([[i, j, k] for i in range(-2, 3) for j in range(-1, 2) for k in range(-1, 2)])
    idx = {tuple(r): i for i, r in enumerate(R)}
    minus = [idx[tuple(-r)] for r in R]

    def herm(X):  # X(R) -> X(R) + X(-R)^dagger
        return X + np.conj(np.swapaxes(X[minus], -1, -2))

    shape = (len(R), nw, nw)
    H = herm(rng.normal(size=shape) + 1j * rng.normal(size=shape))
    A = herm(A_scale * (rng.normal(size=(len(R), 3, nw, nw)) + 1j * rng.normal(size=(len(R), 3, nw, nw))))
    i0 = idx[(0, 0, 0)]
    for i in range(nw):
        A[i0, :, i, i] = rng.uniform(0, 2, size=3)
    S = herm(0.3 * (rng.normal(size=(len(R), 3, nw, nw)) + 1j * rng.normal(size=(len(R), 3, nw, nw)))) if spin else None
    lat = np.array([[2.0, 0.1, 0.0], [0.3, 2.5, 0.0], [0.0, 0.2, 3.0]]) if lattice is None else lattice
    return TightBindingModel(lat, R, H, A_R=A, S_R=S, name=f"random{seed}")


@pytest.fixture
def rmodel():
    return random_model(spin=True)


@pytest.fixture(autouse=True)
def _run_in_tmp(tmp_path, monkeypatch):
    """Every test runs in its own temporary directory (WannierBerri writes result files into the cwd)."""
    monkeypatch.chdir(tmp_path)
