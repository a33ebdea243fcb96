"""Dense N×N references of the factorized collision machinery (tests and the Boltzmann benchmark only).

The production operators never form pair matrices (wkin/kinetic/collision.py); these build them from
explicit pair overlaps, so that the fast paths can be checked against a direct evaluation.
"""

import numpy as np
import scipy.linalg
import scipy.sparse.csgraph


def overlaps(c1, c2, blocks):
    """Σ_b |⟨c1_i|Π_b|c2_j⟩|² for all pairs (N1, N2)."""
    out = np.zeros((len(c1), len(c2)))
    for b in blocks:
        out += np.abs(c1[:, b].conj() @ c2[:, b].T) ** 2
    return out


def dense_kernel(op, disorder, model):
    """K_ij = κ ω_ij w_j of a :class:`wkin.kinetic.collision.CollisionOperator` (serial; N×N memory)."""
    c = op.states.c
    return op.kappa * overlaps(c, c, disorder.orbital_blocks(model)) * op.w[None, :]


def smeared_dense_kernel(op):
    """K_ij of a :class:`wkin.kinetic.collision.SmearedCollisionOperator` from explicit pair overlaps."""
    c = op.states.c
    return op.kappa * op.nu * overlaps(c, c, op.blocks) * op.G[op.bin][:, op.bin]


def project_diagonal_dense(op, xi):
    """Pair-sum reference of :meth:`wkin.kinetic.collision.CollisionOperator.project_diagonal` (N×N memory)."""
    u, w = op.states.c, op.w
    out = np.zeros(xi.shape[:2])
    for b in op.blocks:
        o = u[:, b].conj() @ u[:, b].T  # ⟨u_i|Π|u_j⟩
        for r in range(xi.shape[1]):
            a = xi[:, r, b].conj() @ u[:, b].T  # ⟨ξ_i|Π|u_j⟩
            c = u[:, b].conj() @ xi[:, r, b].T  # ⟨u_i|Π|ξ_j⟩
            out[:, r] += np.real(((a - c) * o.conj()) @ w)
    return op.kappa * out


def solve_dense(K, w, drive):
    """Reference solve of (diag(ΣK) − K) Λ = drive with per-component zero modes removed."""
    rate = K.sum(axis=1)
    L = np.diag(rate) - K
    ncomp, label = scipy.sparse.csgraph.connected_components(K > 1e-14 * K.max(), directed=False)
    Z = np.zeros((len(w), ncomp))
    Z[np.arange(len(w)), label] = 1.0

    def project(x):
        coef = (Z.T @ (w[:, None] * x)) / (Z.T @ w)[:, None]
        return x - Z @ coef

    drive = project(drive)
    # symmetric form S = W^½ L W^-½ (null vectors W^½·1_c), deflated to positive definite
    sw = np.sqrt(w)
    S = L * sw[:, None] / sw[None, :]
    S = 0.5 * (S + S.T)
    Zs = sw[:, None] * Z / np.sqrt(Z.T @ w)[None, :]
    S = S + rate.mean() * (Zs @ Zs.T)
    lam = scipy.linalg.solve(S, sw[:, None] * drive, assume_a="pos") / sw[:, None]
    return project(lam), rate
