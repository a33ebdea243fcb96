r"""Independent reference: disorder-averaged Kubo–Středa conductivity in the noncrossing approximation.

Spec seed-000 §2.12 names this as the independent cross-check of the kinetic theory; it is also the
formalism of the first-principles Gaussian-disorder calculations (Czaja et al., PRB 89, 014411 (2014)).
Nothing here uses the kinetic code: only H(k) and ∂H/∂k of a 2D tight-binding model.

For "cell" disorder (one white-noise potential per cell, the same on every orbital: the correlator is
the identity in the Wannier-phase basis, :class:`wkin.kinetic.disorder.Disorder` model ``cell``) with 2D strength
:math:`u^2` (eV²·Å²):

* self-consistent Born self-energy, anti-Hermitian part only (the kinetic theory keeps no energy
  renormalisation): :math:`\Sigma^R=u^2\,\mathrm{aH}\int\frac{d^2k}{(2\pi)^2}(\mu-H_{\mathbf k}-\Sigma^R)^{-1}`;
* ladder vertex, :math:`\Gamma_b=\hbar v_b+\Lambda_b`,
  :math:`\Lambda_b=u^2\int\frac{d^2k}{(2\pi)^2}G^R(\hbar v_b+\Lambda_b)G^A` (the k-independent
  correction of white-noise disorder), solved in the complement of the particle-number zero mode
  (Ward identity: :math:`1-u^2\int G^R\otimes G^A` is singular on the density vertex, and the velocity
  source has no component there except quadrature error);
* Středa's Fermi-surface term (Crépieux and Bruno, PRB 64, 014416 (2001)), T = 0,

  .. math::

      \sigma^{I}_{ab}=\frac{e^2\hbar}{4\pi}\int\frac{d^2k}{(2\pi)^2}\mathrm{Tr}\big[
        2v_aG^R\Gamma_bG^A-v_aG^Rv_bG^R-v_aG^Av_bG^A\big],

  returned in units of e²/h (σ/(e²/h) = X/2 with X the integral in eV, Å units, ħv = ∂H/∂k).

The Fermi-sea term σ^II carries no disorder correction in the clean limit, so the extrinsic Hall
conductivity (extrinsic velocity + side jump + skew of the kinetic theory) is
:math:`\lim_{u\to0}\sigma^{I}_{\rm NCA}(u)-\lim_{\eta\to0}\sigma^{I}_{\rm bare}(\eta)`, the second with a
scalar broadening iη and bare vertices. Both limits are taken by Richardson extrapolation (corrections
linear in the broadening). The velocity is the one of the position operator r = R + τ
(``model.fourier`` ``dH`` plus i[H, A]); with A = 0 off the diagonal, r commutes with the disorder.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from wkin.kspace import mesh


def refined_points(model, mu, n_coarse, levels):
    """Reduced k-points and weights (sum 1) of a 2D grid refined around the Fermi lines.

    ``levels``: [(window eV, m), ...]; at each level the cells with a band within ``window`` of μ are
    replaced by m×m sub-cells (nested, midpoint rule).
    """
    k = mesh.uniform([n_coarse, n_coarse, 1])
    cell = np.tile([1.0 / n_coarse, 1.0 / n_coarse, 1.0], (len(k), 1))
    w = np.full(len(k), 1.0 / len(k))
    ks, ws = [], []
    for window, m in levels:
        near = np.any(np.abs(np.linalg.eigvalsh(model.hamiltonian(k)) - mu) < window, axis=1)
        ks.append(k[~near])
        ws.append(w[~near])
        k, cell = mesh.subdivide(k[near], cell[near], [m, m, 1])
        w = np.repeat(w[near] / m ** 2, m ** 2)
    return np.concatenate(ks + [k]), np.concatenate(ws + [w])


class KuboStreda:
    """H(k) and ħv_{x,y}(k) (eV, eV·Å) of a 2D model on fixed points, and the NCA conductivities."""

    def __init__(self, model, k, w, chunk=200000):
        self.area = abs(np.linalg.det(model.lattice[:2, :2]))  # Å²: ∫d²k/(2π)² = Σ_k w_k / area
        self.nw = model.num_wann
        self.blocks = []
        for i in range(0, len(k), chunk):
            F = model.fourier(k[i:i + chunk])
            H, A = F["H"], F["A"][:, :2]
            V = F["dH"][:, :2] + 1j * (H[:, None] @ A - A @ H[:, None])
            self.blocks.append((H, V, w[i:i + chunk]))

    def _greens(self, mu, sigma):
        for H, V, w in self.blocks:
            GR = np.linalg.inv(mu * np.eye(self.nw) - H - sigma)
            yield V, w, GR, np.conj(np.swapaxes(GR, -1, -2))

    def self_energy(self, mu, u2, tol=1e-11, maxiter=300):
        """Anti-Hermitian SCBA self-energy Σ^R (nw×nw, eV)."""
        sigma = -1e-3j * np.eye(self.nw)
        for _ in range(maxiter):
            g = sum(np.einsum("k,kij->ij", w, GR) for _, w, GR, _ in self._greens(mu, sigma)) * u2 / self.area
            new = 0.5 * (g - g.conj().T)
            change = np.abs(new - sigma).max()
            sigma = new  # a contraction for weak disorder: plain iteration converges in a few steps
            if change < tol:
                return sigma
        raise RuntimeError("SCBA self-energy did not converge")

    def _vertex_correction(self, u2, greens):
        n2 = self.nw ** 2
        ladder = np.zeros((self.nw,) * 4, complex)
        source = np.zeros((2, self.nw, self.nw), complex)
        for V, w, GR, GA in greens:
            ladder += np.einsum("k,kij,kml->iljm", w, GR, GA, optimize=True)
            source += np.einsum("k,kij,kbjm,kml->bil", w, GR, V, GA, optimize=True)
        M = np.eye(n2) - u2 / self.area * ladder.reshape(n2, n2)
        lam, left, right = scipy.linalg.eig(M, left=True, right=True)
        keep = np.arange(n2) != np.argmin(np.abs(lam))  # drop the particle-number zero mode
        norm = lam[keep] * np.einsum("ij,ij->j", left[:, keep].conj(), right[:, keep])
        rhs = u2 / self.area * source.reshape(2, n2)
        return np.einsum("ij,bj->bi", right[:, keep], (rhs @ left[:, keep].conj()) / norm).reshape(2, self.nw, self.nw)

    def sigma_I(self, mu, sigma, u2=0.0):
        """Středa σ^I_ab (a, b ∈ x, y) in e²/h; ladder vertex when u2 > 0, bare vertices otherwise."""
        greens = list(self._greens(mu, sigma))  # the same G^R, G^A serve the ladder and the traces
        lam = self._vertex_correction(u2, greens) if u2 > 0 else np.zeros((2, self.nw, self.nw))
        out = np.zeros((2, 2), complex)
        for V, w, GR, GA in greens:
            trace = lambda X, G1, Y, G2: np.einsum("k,kaij,kjl,kblm,kmi->ab", w, X, G1, Y, G2,  # noqa: E731
                                                   optimize=True)
            out += 2 * trace(V, GR, V + lam[None], GA) - trace(V, GR, V, GR) - trace(V, GA, V, GA)
        return out.real / self.area / 2

    def nca(self, mu, u2):
        """σ^I in the noncrossing approximation at 2D disorder strength u2 (eV²·Å²), e²/h."""
        return self.sigma_I(mu, self.self_energy(mu, u2), u2)

    def bare(self, mu, eta):
        """σ^I with scalar broadening η (eV) and bare vertices, e²/h."""
        return self.sigma_I(mu, -1j * eta * np.eye(self.nw))


def richardson(f_h, f_h2):
    """Limit of f(h) = f0 + c·h from f(h) and f(h/2)."""
    return 2 * f_h2 - f_h


def random_model_2d(seed=1, nw=3, scale=0.5, centres=False):
    """Random complex-hopping 2D model (oblique lattice, hoppings to |i|+|j| ≤ 2, decaying as e^{-|R|₁}),
    orbital centres at the origin or random in the cell; no off-diagonal position matrix."""
    from wkin.model import TightBindingModel
    rng = np.random.default_rng(seed)
    R = np.array([[i, j, 0] for i in range(-2, 3) for j in range(-2, 3) if abs(i) + abs(j) <= 2])
    minus = [int(np.flatnonzero(np.all(R == -r, axis=1))[0]) for r in R]
    X = scale * np.exp(-np.abs(R).sum(1))[:, None, None] * (rng.normal(size=(len(R), nw, nw))
                                                           + 1j * rng.normal(size=(len(R), nw, nw)))
    H = X + np.conj(np.swapaxes(X[minus], -1, -2))
    tau = np.c_[rng.uniform(0, 2, size=(nw, 2)), np.zeros(nw)] * (1.0 if centres else 0.0)
    return TightBindingModel([[2.0, 0.0, 0.0], [0.3, 2.2, 0.0], [0.0, 0.0, 1.0]], R, H, centres=tau,
                             name=f"random2d-{seed}-{nw}")


def compare_random(nw, centres, mu=0.0, u2=(0.1, 0.05), eta=(2e-3, 1e-3)):
    """Hall part (e²/h) of the kinetic ext + sj + skew and of the NCA clean limit on a random 2D model."""
    from scipy.constants import e, h

    from wkin.kinetic.disorder import Disorder
    from wkin.response.extrinsic import response_shell
    model = random_model_2d(nw=nw, centres=centres)
    hall = lambda s: (s[1, 0] - s[0, 1]) / 2  # noqa: E731
    r = response_shell(model, Disorder("cell", u2[-1]), mu, [800, 800, 1], companion_step=0.02)
    c = np.linalg.norm(model.lattice[2]) * 1e-10 / (e ** 2 / h)
    kinetic = {p: hall(r.pieces["velocity"][p]) * c for p in ("extrinsic", "side_jump", "skew")}
    ks = KuboStreda(model, *refined_points(model, mu, 400, [(0.3, 4), (0.1, 4), (0.03, 2)]))
    nca = richardson(*[hall(ks.nca(mu, u)) for u in u2]) - richardson(*[hall(ks.bare(mu, x)) for x in eta])
    return kinetic, nca


if __name__ == "__main__":  # the generic-model comparison quoted in docs/validation.md (≈ 15 min)
    for nw, centres in ((3, False), (3, True), (2, False)):
        kin, nca = compare_random(nw, centres)
        total = sum(kin.values())
        print(f"nw={nw} centres={centres}: kinetic ext {kin['extrinsic']:.5f} sj {kin['side_jump']:.5f} "
              f"sk {kin['skew']:.5f} sum {total:.5f} | NCA {nca:.5f} | NCA/kinetic − 1 = {nca / total - 1:+.3f}",
              flush=True)
