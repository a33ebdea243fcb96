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
import scipy.linalg

from .. import parallel
from ..kinetic.collision import real_matmul
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


def gyrotropic_tensors(weight, velocity, moment, resolvent, omegas, side_jump_velocity=None, skew=None,
                       charge=-E_CHARGE, budget=2**28):
    r"""g^int, g^sk, g^sj (n_ω, 3, 3), complex, in S: the resolvent forms of spec seed-002 §2.7 (module docstring).

    ``weight`` (N,) Fermi-surface weights in 1/(J·m³); ``velocity`` (N, 3) m/s; ``moment`` (N, 3) A·m²;
    ``resolvent(X, omegas)`` → :math:`(L-i\omega_j)^{-1}X_j` for X (n, N, r) at n frequencies (rad/s), e.g.
    :meth:`wkin.kinetic.collision.CollisionOperator.resolve_batch` or :func:`per_frequency`; ``omegas`` (n_ω,) rad/s;
    ``side_jump_velocity`` :math:`\mathbf v^{\rm sj}` (N, 3) m/s or None (no side jump); ``skew(x)`` →
    :math:`K^Ax` for x (N, r) (1/s × x) or None (no skew scattering); ``charge``: the signed carrier charge (C).
    Frequencies are treated in batches of about ``budget`` bytes of Γ; the Γ solves (9 right-hand sides) are made
    only when an extrinsic piece is asked for.
    """
    e = charge
    omegas = np.asarray(omegas, float)
    out = {p: np.zeros((len(omegas), 3, 3), complex) for p in PIECES}
    v = np.asarray(velocity, float)
    n = len(v)
    extrinsic = side_jump_velocity is not None or skew is not None
    step = max(1, int(budget // max(1, 16 * 12 * n)))
    wm = (weight[:, None] * moment).T  # (3, N)
    for start in range(0, len(omegas), step):
        sel = slice(start, start + step)
        om = omegas[sel]
        lam = resolvent(np.broadcast_to(v.astype(complex), (len(om), n, 3)), om)  # Λ[j, i, b]
        mL = parallel.sum_over_ranks(real_matmul(wm, lam))  # ⟨m_a, Λ_b⟩, (k, 3, 3)
        out["intrinsic"][sel] = 1j * e * (mL - np.eye(3) * np.trace(mL, axis1=1, axis2=2)[:, None, None])
        if not extrinsic:
            continue
        gam = resolvent((lam[..., :, None] * v[None, :, None, :]).reshape(len(om), n, 9), om)  # Γ[j, i, (c, b)]
        Xs = {}
        if side_jump_velocity is not None:
            Xs["side_jump"] = np.broadcast_to(np.asarray(side_jump_velocity, float), (len(om), n, 3))
        if skew is not None:  # Y = K^AΛ, all frequencies in one application
            Xs["skew"] = skew(lam.transpose(1, 0, 2).reshape(n, -1)).reshape(n, len(om), 3).transpose(1, 0, 2)
        for piece, X in Xs.items():
            if piece == "side_jump":  # a real X: one real GEMM for all frequencies
                G = real_matmul((weight[:, None] * X[0]).T, gam)
            else:
                G = np.swapaxes(weight[None, :, None] * X, 1, 2) @ gam
            G = parallel.sum_over_ranks(G).reshape(len(om), 3, 3, 3)  # ⟨Γ_cb, X_d⟩ at [j, d, c, b]
            out[piece][sel] = -1j * e**2 * np.einsum("acd,jdcb->jab", LEVI_CIVITA, G)
    return out


def separable_tensors(op, velocity, moment, omegas, side_jump_velocity=None, skew=False, charge=-E_CHARGE,
                      budget=2**26):
    r""":func:`gyrotropic_tensors` for the separable collision operator (:class:`wkin.kinetic.collision.
    CollisionOperator`) at frequencies ω ≠ 0, with every per-state sum over the shell made once for all frequencies.

    With :math:`\tilde\tau_i=(1/\tau_i-i\omega)^{-1}`, :math:`S_n[f]=\sum_iw_i\tilde\tau_i^nf_i` (one GEMM of the
    (n_ω × N) matrix of :math:`w\tilde\tau^n` with the one-state products f), :math:`G=\kappa S_1[\phi\phi^T]` and
    the separable resolvent :math:`RX=\tilde\tau(X+\kappa\Phi(1-G)^{-1}S_1[\phi X])`:

    - :math:`\langle m_a,\Lambda_b\rangle=S_1[m_av_b]+\kappa S_1[m_a\phi]\cdot\mu_b`,
      :math:`\mu_b=(1-G)^{-1}S_1[\phi v_b]`;
    - :math:`\langle\Gamma_{cb},X_d\rangle=\langle v_b\Lambda_c,RX_d\rangle` (w L is symmetric)
      :math:`=\sum_iw_i\tilde\tau_i^2v_b(v_c+\kappa\phi\cdot\mu_c)(X_d+\kappa\phi\cdot\nu_d)`,
      :math:`\nu_d=(1-G)^{-1}S_1[\phi X_d]`, expanded into :math:`S_2` moments except the last product
      (one N-length pass per frequency);
    - skew: :math:`X=K^A\Lambda=\Phi\zeta` with ζ from the feature sums :math:`\Phi^TW\Lambda=S_1[\phi v]+G\mu`
      (:meth:`~wkin.kinetic.collision.CollisionOperator.skew_features`), so :math:`RX_d=\tilde\tau\,\Phi y_d`,
      :math:`y=\zeta+\kappa(1-G)^{-1}(G/\kappa)\zeta`.

    Exact (the same numbers as the per-frequency solves); the D×D system of each frequency is factorized once.
    ``skew``: include the skew piece (the operator's third cumulant). Returns the pieces (n_ω, 3, 3) in S.
    """
    e, kappa = charge, op.kappa
    phi, w, rate = op.phi, op.w, op.rate
    n, D = phi.shape
    om = np.asarray(omegas, float)
    if np.any(om == 0):
        raise ValueError("separable_tensors: frequencies must be nonzero (ω = 0 needs the zero-mode projection)")
    v, mv = np.asarray(velocity, float), np.asarray(moment, float)
    sj = side_jump_velocity is not None
    vsj = np.asarray(side_jump_velocity, float) if sj else np.zeros((n, 3))
    # the one-state products of the S_1 and S_2 moments, in chunks of states
    cols1 = {"mv": 9, "mphi": 3 * D, "phiv": 3 * D, "phiphi": D * D, "phivsj": 3 * D}
    cols2 = {"vvX": 27, "vvphi": 9 * D, "vXphi": 9 * D}
    S = {k: np.zeros((len(om), c), complex) for k, c in {**cols1, **cols2}.items()}
    chunk = max(16, int(budget // (8 * (sum(cols1.values()) + sum(cols2.values())))))
    for start in range(0, n, chunk):
        sl = slice(start, start + chunk)
        ph, vv, mm, xx = phi[sl], v[sl], mv[sl], vsj[sl]
        t1 = w[sl][None, :] / (rate[sl][None, :] - 1j * om[:, None])  # w τ̃, (n_ω, n_c)
        t2 = t1 / (rate[sl][None, :] - 1j * om[:, None])  # w τ̃²
        k = len(ph)
        f1 = {"mv": (mm[:, :, None] * vv[:, None, :]).reshape(k, -1),
              "mphi": (mm[:, :, None] * ph[:, None, :]).reshape(k, -1),
              "phiv": (ph[:, :, None] * vv[:, None, :]).reshape(k, -1),
              "phiphi": (ph[:, :, None] * ph[:, None, :]).reshape(k, -1),
              "phivsj": (ph[:, :, None] * xx[:, None, :]).reshape(k, -1)}
        vv2 = vv[:, :, None] * vv[:, None, :]  # v_b v_c
        f2 = {"vvX": (vv2[..., None] * xx[:, None, None, :]).reshape(k, -1),
              "vvphi": (vv2[..., None] * ph[:, None, None, :]).reshape(k, -1),
              "vXphi": ((vv[:, :, None] * xx[:, None, :])[..., None] * ph[:, None, None, :]).reshape(k, -1)}
        for fs, t in ((f1, t1), (f2, t2)):
            for key, f in fs.items():
                S[key] += real_matmul(f.T, t.T).T
    S = {key: parallel.sum_over_ranks(x) for key, x in S.items()}
    out = {p: np.zeros((len(om), 3, 3), complex) for p in PIECES}
    for j, omega in enumerate(om):
        G = kappa * S["phiphi"][j].reshape(D, D)
        lu = scipy.linalg.lu_factor(np.eye(D) - G)
        mu = scipy.linalg.lu_solve(lu, S["phiv"][j].reshape(D, 3))  # (D, b)
        mL = S["mv"][j].reshape(3, 3) + kappa * S["mphi"][j].reshape(3, D) @ mu
        out["intrinsic"][j] = 1j * e * WEIGHT_SI * (mL - np.eye(3) * np.trace(mL))
        if not (sj or skew):
            continue
        tv = (w / (rate - 1j * omega) ** 2)[:, None] * v  # w τ̃² v_b
        phi_mu = real_matmul(phi, mu)  # φ·μ_c per state, (N, c)
        left = (tv[:, :, None] * phi_mu[:, None, :]).reshape(n, 9).T  # w τ̃² v_b (φ·μ_c), the last products
        vvphi = S["vvphi"][j].reshape(3, 3, D)  # [b, c, :]
        pieces = []
        if sj:
            nu = scipy.linalg.lu_solve(lu, S["phivsj"][j].reshape(D, 3))
            last = parallel.sum_over_ranks(left @ real_matmul(phi, nu))
            B = (S["vvX"][j].reshape(3, 3, 3) + kappa * vvphi @ nu
                 + kappa * np.einsum("bdk,kc->bcd", S["vXphi"][j].reshape(3, 3, D), mu)
                 + kappa**2 * last.reshape(3, 3, 3))  # [b, c, d]
            pieces.append(("side_jump", B))
        if skew:
            zeta = op.skew_features(S["phiv"][j].reshape(D, 3) + G @ mu)  # K^AΛ = Φζ from the sums Φ^T W Λ
            y = zeta + scipy.linalg.lu_solve(lu, G @ zeta)
            last = parallel.sum_over_ranks(left @ real_matmul(phi, y))
            B = vvphi @ y + kappa * last.reshape(3, 3, 3)
            pieces.append(("skew", B))
        for piece, B in pieces:
            out[piece][j] = -1j * e**2 * WEIGHT_SI * np.einsum("acd,bcd->ab", LEVI_CIVITA, B)
    return out


def per_frequency(resolve):
    """A batched resolvent (:func:`gyrotropic_tensors`) from a one-frequency one, ``resolve(x, omega)``."""
    return lambda X, omegas: np.stack([resolve(x, om) for x, om in zip(X, omegas)])


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
        # the separable operator's sums for every nonzero frequency at once (separable_tensors); ω = 0 (zero modes)
        # and the relaxation-time operator through the resolvent
        fast = np.flatnonzero(omegas != 0) if op.kappa else np.zeros(0, int)
        rest = np.setdiff1d(np.arange(len(omegas)), fast)

        def tensors(moment, vsj, skew):
            out = {p: np.zeros((len(omegas), 3, 3), complex) for p in PIECES}
            if len(fast):
                for p, x in separable_tensors(op, v, moment, omegas[fast], vsj, skew is not None).items():
                    out[p][fast] = x
            if len(rest):
                for p, x in gyrotropic_tensors(w, v, moment, op.resolve_batch, omegas[rest], vsj, skew).items():
                    out[p][rest] = x
            return out

        pieces = tensors(shell.observables[name], vsj, skew)
        if ctx.spin_moment:
            pieces["intrinsic_spin"] = tensors(SPIN_MOMENT_SI * shell.observables["spin"], None, None)["intrinsic"]
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
    """The name of the piece of largest Frobenius norm."""
    return max(g_pieces, key=lambda p: np.linalg.norm(g_pieces[p]))


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
            noa = _dominant({p: symmetric(x) for p, x in at.items()})
            kme = _dominant({p: kme_susceptibility(x) for p, x in at.items()})
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


def magnetization_table(datasets, mu, rows):
    """Lines for ``wkin run`` with ``[calculate] electric_field``: μ₀M (T, and |μ₀M| in G) at the lowest and highest ħω
    of the Fermi energies ``rows``."""
    if "mu0_magnetization" not in datasets:
        return []
    M, f = np.asarray(datasets["mu0_magnetization"]), np.asarray(datasets["frequency"])
    out = ["# kme: mu0*M for the [calculate] electric_field (complex amplitude, T; |mu0*M| also in G)",
           "#  mu(eV) hbar*omega(eV)" + "".join(f"{'Re ' + c + ' (T)':>14s}{'Im ' + c + ' (T)':>14s}" for c in "xyz")
           + "      |mu0*M| (G)"]
    for i in rows:
        for j in sorted({0, len(f) - 1}):
            vec = M[i, j]
            out.append(f"{mu[i]:9.4f} {f[j]:14.6g}" + "".join(f"{x.real + 0.0:14.5g}{x.imag + 0.0:14.5g}" for x in vec)
                       + f"{np.linalg.norm(vec) * 1e4:17.5g}")
    return out
