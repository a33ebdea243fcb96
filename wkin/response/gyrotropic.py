r"""Gyrotropic tensor g(ω) of a disordered metal: intrinsic orbital moment, skew-scattering and side-jump kinetic moments.

Spec seed-002 (Rou, Şahin, Ma, Pesin, "Kinetic orbital moments and nonlocal transport in disordered metals
with nontrivial geometry", 2021), with its sign corrections (Appendix A1, A2). The q-linear conductivity
:math:`\sigma_{ab}(\omega,\mathbf q)\simeq\sigma_{ab}(\omega)+\lambda_{abc}(\omega)q_c`, :math:`\lambda_{abc}=
\epsilon_{abd}g_{dc}`, comes from the magnetic moments of the Fermi-surface quasiparticles. With the full collision
kernel L of the shell and the resolvent :math:`R(\omega)=(L-i\omega)^{-1}` (§2.7; fields :math:`e^{i\mathbf q\cdot
\mathbf r-i\omega t}`):

.. math::

    \boldsymbol\Lambda=R\,\mathbf v,\qquad \Gamma_{ac}=R\,(v_c\Lambda_a),\qquad \mathbf Y=K^A\boldsymbol\Lambda,

    g^{\rm int}_{ab}=ie\big[\langle m_a,\Lambda_b\rangle-\delta_{ab}\langle\mathbf m\cdot\boldsymbol\Lambda\rangle\big],
    \quad g^{\rm sj}_{ab}=-ie^2\epsilon_{acd}\langle\Gamma_{cb},v^{\rm sj}_d\rangle,
    \quad g^{\rm sk}_{ab}=-ie^2\epsilon_{acd}\langle\Gamma_{cb},Y_d\rangle,

with :math:`\langle\phi,\chi\rangle=\sum_iw_i\phi_i\chi_i` on the shell (bilinear, weights in 1/(J·m³)), e = −|e| the
signed electron charge, m the intrinsic orbital moment (A·m², :mod:`wkin.kinetic.observables`), :math:`K^A` the
antisymmetric (third-cumulant) in-scattering (:meth:`wkin.kinetic.collision.CollisionOperator.skew_in_scattering`)
and :math:`\mathbf v^{\rm sj}_{\mathbf p}=\int w^S_{\mathbf p\mathbf p'}\delta\mathbf r_{\mathbf p\mathbf p'}` the
paper's side-jump accumulation velocity. For white-noise disorder it is minus the extrinsic velocity of the Hall
pieces, :math:`\mathbf v^{\rm sj}=-\boldsymbol\beta=-\mathcal P\mathcal K(\mathcal R')`
(:meth:`~wkin.kinetic.collision.CollisionOperator.project_diagonal`; spec §2.4 separable form with
:math:`|\xi^{\rm spec}\rangle=-i|\xi\rangle`). With :math:`L=1/\tau` (``[disorder] model = "constant_tau"``) R is
:math:`r(\omega)=\tau/(1-i\omega\tau)` and the forms reduce to the kinetic-moment forms of §2.6 exactly. At ω = 0 the
zero modes of L are projected out of every solve (§2.7, "Zero modes").

Derived observables (§2.8–2.9): the rotatory power :math:`\rho=\tfrac12\mu_0\omega\,\hat n\cdot g\cdot\hat n`
(rad/m, complex: Re the rotation angle per length, counterclockwise for an observer facing the source; Im the
ellipticity), circular dichroism :math:`\alpha_+-\alpha_-=-2\mu_0\omega\,\mathrm{Im}\,g_{\hat n}`, the polycrystal
average :math:`\tfrac16\mu_0\omega\,\mathrm{Tr}\,g`, and the kinetic magnetoelectric susceptibility
:math:`\chi^{\rm me}=g-\tfrac12\mathbb 1\,\mathrm{Tr}\,g`, :math:`\mathbf M=-i\chi^{\rm me}\mathbf E` (A/m).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.constants

from .. import parallel
from ..units import E_CHARGE, G_SPIN, HBAR_EVS, LEVI_CIVITA, MU_B, WEIGHT_SI

#: vacuum permeability (T·m/A)
MU0 = scipy.constants.mu_0
#: the pieces of g, in the order of the HDF5 datasets (``intrinsic_spin`` too with the spin moment)
PIECES = ("intrinsic", "skew", "side_jump")
#: spin moment per Pauli expectation value, m = −(g_s/2)μ_B⟨σ⟩ (A·m²; electrons, g_s = 2.0023)
SPIN_MOMENT_SI = -0.5 * G_SPIN * MU_B


def angular_frequencies(photon_energies):
    """ω (rad/s) of photon energies ħω (eV)."""
    return np.asarray(photon_energies, float) / HBAR_EVS


def _bracket(weight, x, y):
    """⟨x_a, y_b⟩ = Σ_i w_i x_{i,a} y_{i,b} (bilinear), summed over MPI ranks."""
    return parallel.sum_over_ranks(np.einsum("i,ia,ib->ab", weight, x, y))


def gyrotropic_tensors(weight, velocity, moment, resolvent, omegas, side_jump_velocity=None, skew=None,
                       charge=-E_CHARGE):
    r"""g^int, g^sk, g^sj (n_ω, 3, 3), complex, in S: the resolvent forms of spec seed-002 §2.7 (module docstring).

    ``weight`` (N,) Fermi-surface weights in 1/(J·m³); ``velocity`` (N, 3) m/s; ``moment`` (N, 3) A·m²;
    ``resolvent(x, omega)`` → :math:`(L-i\omega)^{-1}x` for x (N, r), ω in rad/s; ``omegas`` (n_ω,) rad/s;
    ``side_jump_velocity`` :math:`\mathbf v^{\rm sj}` (N, 3) m/s or None (no side jump); ``skew(x)`` →
    :math:`K^Ax` (1/s × x) or None (no skew scattering); ``charge``: the signed carrier charge (C).
    Each piece is a dict entry; the Γ solves (9 right-hand sides) are made only when an extrinsic piece is asked for.
    """
    e = charge
    n_w = len(omegas)
    out = {p: np.zeros((n_w, 3, 3), complex) for p in PIECES}
    v = np.asarray(velocity, float)
    extrinsic = side_jump_velocity is not None or skew is not None
    for j, om in enumerate(omegas):
        lam = resolvent(v.astype(complex), om)
        mL = _bracket(weight, moment, lam)
        out["intrinsic"][j] = 1j * e * (mL - np.eye(3) * np.trace(mL))
        if not extrinsic:
            continue
        gam = resolvent((lam[:, :, None] * v[:, None, :]).reshape(len(v), 9), om).reshape(len(v), 3, 3)  # Γ[i, c, b]
        for piece, X in (("side_jump", side_jump_velocity), ("skew", None if skew is None else skew(lam))):
            if X is None:
                continue
            G = parallel.sum_over_ranks(np.einsum("i,icb,id->cbd", weight, gam, X))
            out[piece][j] = -1j * e**2 * np.einsum("acd,cbd->ab", LEVI_CIVITA, G)
    return out


def gyrotropic_on(shell, ctx):
    """The gyrotropic pieces of one shell (:func:`gyrotropic_tensors` with its collision operator), memoized on the
    shell: {"intrinsic", "skew", "side_jump"} (n_ω, 3, 3) in S and ``minimum_splitting`` (eV) of its bands.

    The moment is the shell's ``orbital_moment_full`` when the model has B and C, else ``orbital_moment``; the side
    jump needs scatterers and the interband vectors of the velocity; the skew part a third cumulant. With
    ``ctx.spin_moment`` also ``intrinsic_spin``: g^int of the spin moment −(g_s/2)μ_B⟨σ⟩ (spec §2.1, A8).
    """
    def compute():
        op = shell.operator
        w = WEIGHT_SI * shell.weight
        v = shell.observables["velocity"]
        name = "orbital_moment_full" if "orbital_moment_full" in shell.observables else "orbital_moment"
        vsj = None
        if op.kappa and "velocity" in shell.interband_vectors:
            vsj = -op.project_diagonal(shell.interband_vectors["velocity"])
        skew = op.skew_in_scattering if op.kappa3 else None
        omegas = angular_frequencies(ctx.frequencies)
        pieces = gyrotropic_tensors(w, v, shell.observables[name], op.resolve, omegas, vsj, skew)
        if ctx.spin_moment:
            spin = SPIN_MOMENT_SI * shell.observables["spin"]
            pieces["intrinsic_spin"] = gyrotropic_tensors(w, v, spin, op.resolve, omegas)["intrinsic"]
        pieces["minimum_splitting"] = np.array(minimum_splitting(shell))
        return pieces
    return shell.memo("gyrotropic_pieces", compute)


def gyrotropic_on_pieces(pieces):
    """The tensor pieces of a :func:`gyrotropic_on` result (without its per-shell ``minimum_splitting``)."""
    return {p: x for p, x in pieces.items() if p != "minimum_splitting"}


def check_frequencies(photon_energies, splitting, mu):
    """A warning (MPI rank 0) for each Fermi energy where the largest ħω reaches the smallest band splitting on the
    Fermi surface: interband transitions set in and the intraband theory no longer holds (spec seed-002 P3)."""
    top = float(np.max(photon_energies))
    for m, gap in zip(np.atleast_1d(mu), np.atleast_1d(splitting)):
        if np.isfinite(gap) and top >= gap and parallel.is_root():
            warnings.warn(f"hbar*omega = {top:.4g} eV reaches the smallest band splitting {gap:.4g} eV on the Fermi "
                          f"surface at mu = {m:.4f} eV: interband transitions set in, the intraband (kinetic) g no "
                          "longer holds there", RuntimeWarning, stacklevel=2)


def minimum_splitting(shell):
    """The smallest |ε_l − ε_n| (eV) between a Fermi-surface state and any other band at its k (all ranks); inf
    without interband data or with one band. Spec seed-002 P3: the intraband theory needs ħω, ħ/τ ≪ it."""
    b = shell.bands
    if b is None or b.energies.shape[1] < 2 or not len(b.energies):
        local = np.inf
    else:
        own = shell.states.energy[:, None]
        gap = np.where(b.off, np.abs(b.energies - own), np.inf)
        local = float(gap.min())
    return float(parallel.gather_concat(np.array([[local]])).min())


def rotatory_power(g, photon_energies, direction=(0.0, 0.0, 1.0)):
    r"""Complex rotatory power :math:`\rho=\tfrac12\mu_0\omega\,\hat n\cdot g\cdot\hat n` in rad/mm along ``direction``
    (spec seed-002 §2.8): Re the rotation angle per length, Im the ellipticity (1/mm). ``g`` (..., n_ω, 3, 3) S."""
    n = np.asarray(direction, float)
    n = n / np.linalg.norm(n)
    omega = angular_frequencies(photon_energies)
    return 0.5 * MU0 * omega * np.einsum("a,...ab,b->...", n, np.asarray(g), n) * 1e-3


def symmetric(g):
    """The symmetric part of rank-2 tensors (trailing axes), the part that enters the optical activity."""
    g = np.asarray(g)
    return 0.5 * (g + np.swapaxes(g, -1, -2))


def interband_rotatory_power_tensor(gamma, photon_energies):
    r"""The interband rotatory power :math:`\tfrac{\omega^2}{2c^2}\gamma^{\rm sym}` (rad/mm) of ``noa_orb``
    (γ in its dual form γ_dc, m): n̂·(this)·n̂ along n̂, :math:`\rho_0=\frac{\omega^2}{2c^2}\gamma_{xyz}` along z
    (:func:`wkin.response.optical_activity.rotatory_power`). The same convention as :func:`rotatory_power`: both
    come from :math:`\varepsilon_{ab}(\omega,\mathbf q)=\varepsilon_{ab}(\omega)+i\gamma_{abc}q_c` with fields
    :math:`e^{i(\mathbf q\cdot\mathbf r-\omega t)}`, and g ↔ γ is :math:`\gamma_{dc}=g_{dc}/(\varepsilon_0\omega)`."""
    omega = angular_frequencies(photon_energies)
    return 0.5 * (omega / scipy.constants.c) ** 2 * symmetric(gamma) * 1e-3


def rotatory_power_tensor(g_symmetric, photon_energies):
    r""":math:`\tfrac12\mu_0\omega\,g^{\rm sym}` in rad/mm: the rotatory power along n̂ is n̂·(this)·n̂ (only the
    symmetric part of g enters, spec §2.8); ``photon_energies`` broadcast against g (e.g. (n_ω, 1, 1))."""
    return 0.5 * MU0 * angular_frequencies(photon_energies) * np.asarray(g_symmetric) * 1e-3


def circular_dichroism(g, photon_energies, direction=(0.0, 0.0, 1.0)):
    r""":math:`\alpha_+-\alpha_-=-4\,\mathrm{Im}\,\rho` (1/mm), intensity absorption of positive minus negative
    helicity (spec seed-002 §2.8)."""
    return -4.0 * np.imag(rotatory_power(g, photon_energies, direction))


def polycrystal_rotatory_power(g, photon_energies):
    r"""Orientation average :math:`\rho_{\rm poly}=\tfrac16\mu_0\omega\,\mathrm{Tr}\,g` (rad/mm, complex)."""
    omega = angular_frequencies(photon_energies)
    return MU0 * omega * np.trace(np.asarray(g), axis1=-2, axis2=-1) / 6 * 1e-3


def kme_susceptibility(g):
    r"""Kinetic magnetoelectric susceptibility :math:`\chi^{\rm me}=g-\tfrac12\mathbb 1\,\mathrm{Tr}\,g` (S)."""
    g = np.asarray(g)
    return g - 0.5 * np.eye(3) * np.trace(g, axis1=-2, axis2=-1)[..., None, None]


def magnetization_per_field(g):
    r""":math:`\partial(\mu_0M_a)/\partial E_b=-i\mu_0\chi^{\rm me}_{ab}` in T·m/V."""
    return -1j * MU0 * kme_susceptibility(g)


def magnetization(g, field):
    r""":math:`\mu_0\mathbf M=-i\mu_0\chi^{\rm me}\mathbf E` (T) for a field ``field`` (V/m, Cartesian); complex
    amplitude of the e^{−iωt} response (real at ω = 0 for a real g·i)."""
    return -1j * MU0 * np.einsum("...ab,b->...a", kme_susceptibility(g), np.asarray(field, float))


def _dominant(g_pieces):
    """The piece of largest Frobenius norm, and its norm."""
    norms = {p: float(np.linalg.norm(x)) for p, x in g_pieces.items()}
    best = max(norms, key=norms.get)
    return best, norms[best]


def mechanism_table(datasets, mu, rows):
    """Lines for ``wkin run``: at the Fermi energies ``rows``, which mechanism dominates the optical activity (the
    symmetric part of g) and the current-induced magnetization (χ^me) at the lowest and highest ħω, the ratio
    |g^sk + g^sj| / |g^int|, and the crossover ħω where that ratio crosses 1 (linear interpolation on the grid)."""
    f = np.asarray(datasets["frequency"])
    pieces = {p: np.asarray(datasets[p]) for p in (*PIECES, "intrinsic_spin") if p in datasets}
    out = ["# gyrotropic: dominant mechanism (largest |piece|: optical activity from the symmetric part of g, "
           "magnetization from chi^me = g - 1 Tr g / 2)",
           "#  mu(eV) hbar*omega(eV) optical_activity    magnetization |g_sk+g_sj|/|g_int|"]
    for i in rows:
        if not np.all(np.isfinite(pieces["intrinsic"][i])):
            continue
        ratio = np.array([np.linalg.norm(pieces["skew"][i, j] + pieces["side_jump"][i, j])
                          / max(np.linalg.norm(pieces["intrinsic"][i, j]), 1e-300) for j in range(len(f))])
        for j in sorted({0, len(f) - 1}):
            at = {p: x[i, j] for p, x in pieces.items()}
            noa = _dominant({p: 0.5 * (x + x.T) for p, x in at.items()})[0]
            kme = _dominant({p: kme_susceptibility(x) for p, x in at.items()})[0]
            out.append(f"{mu[i]:9.4f} {f[j]:14.6g} {noa:>16s} {kme:>16s} {ratio[j]:18.4g}")
        cross = np.nonzero(np.diff(np.sign(ratio - 1.0)))[0]
        if len(cross):
            j = cross[0]
            x = f[j] + (1.0 - ratio[j]) * (f[j + 1] - f[j]) / (ratio[j + 1] - ratio[j])
            below = "extrinsic" if ratio[j] > 1 else "intrinsic"
            out.append(f"#  crossover at mu = {mu[i]:.4f} eV: hbar*omega = {x:.4g} eV ({below} below it)")
        elif len(f) > 1:
            which = "extrinsic" if ratio[0] > 1 else "intrinsic"
            out.append(f"#  no crossover at mu = {mu[i]:.4f} eV for hbar*omega in [{f[0]:g}, {f[-1]:g}] eV "
                       f"({which} throughout)")
    return out
