"""The space-group representation on Bloch states (wkin.model.representation): for the symmetrized Te and Fe
models, every operation g maps H(k) onto H(g·k) by the unitary M of ``bloch_matrix`` — H(k′) = M H(k)^(*) M†
to rounding — and the band quantities of the images follow: energies equal, velocities ±S v, spins ±det(S) S σ,
eigenvectors M c (M c* for antiunitary elements) equal to those solved at k′ up to a phase. The reference is the
direct eigen-solve at the image point; nothing is shared but the model."""

from pathlib import Path

import numpy as np
import pytest

from wkin import bands
from wkin.model import TightBindingModel
from wkin.model.representation import projections_from_win, wannier_representation
from wkin.model.symmetrize import symmetrized_model
from wkin.symmetry import space_group_operations

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "materials"
K = np.random.default_rng(7).uniform(size=(4, 3))


def _te():
    raw = TightBindingModel.from_wannier90(str(EXAMPLES / "Te" / "Te"))
    return symmetrized_model(raw, str(EXAMPLES / "Te" / "Te")), None


def _fe():
    raw = TightBindingModel.from_wannier90(str(EXAMPLES / "Fe" / "Fe"), spin=True)
    return symmetrized_model(raw, str(EXAMPLES / "Fe" / "Fe") + ".win", magnetization=[0, 0, 1]), [0, 0, 1]


@pytest.fixture(scope="module", params=["te", "fe"])
def case(request):
    model, magnetization = _te() if request.param == "te" else _fe()
    ops = space_group_operations(model, magnetization)
    rep = wannier_representation(model, projections_from_win(model.seedname + ".win"), ops)
    return model, rep


def test_hamiltonian_maps_onto_its_image(case):
    model, rep = case
    assert len(rep.ops) >= 8
    scale = np.abs(model.hamiltonian(K)).max()
    for op in range(len(rep.ops)):
        t = rep.ops.time_reversal[op]
        for k in K:
            kp, M = rep.bloch_matrix(op, k)
            assert np.allclose(M.conj().T @ M, np.eye(model.num_wann), atol=1e-10)
            H = model.hamiltonian(k[None])[0]
            image = M @ (H.conj() if t else H) @ M.conj().T
            assert np.abs(model.hamiltonian(kp[None])[0] - image).max() < 1e-9 * scale, (op, t)


def test_band_quantities_of_the_images(case):
    model, rep = case
    b = bands.solve(model, K)
    for op in range(len(rep.ops)):
        t, S = rep.ops.time_reversal[op], rep.ops.S[op]
        sign = -1.0 if t else 1.0
        images = np.array([rep.bloch_matrix(op, k)[0] for k in K])
        bi = bands.solve(model, images)
        assert np.abs(bi.energies - b.energies).max() < 1e-9
        single = ~(np.abs(np.diff(b.energies, axis=1)) < 1e-6)
        nondeg = np.concatenate([single[:, :1], single[:, 1:] & single[:, :-1], single[:, -1:]], axis=1)
        v_img = sign * b.velocity @ S.T
        assert np.abs((bi.velocity - v_img)[nondeg]).max() < 1e-7 * np.abs(b.velocity).max()
        if model.has_spin:
            s_img = sign * np.linalg.det(S) * b.spin @ S.T
            assert np.abs((bi.spin - s_img)[nondeg]).max() < 1e-7
        for i, k in enumerate(K):
            _, M = rep.bloch_matrix(op, k)
            c = M @ (b.U[i].conj() if t else b.U[i])
            overlap = np.abs(np.einsum("wn,wn->n", bi.U[i].conj(), c))
            assert np.allclose(overlap[nondeg[i]], 1.0, atol=1e-8)
