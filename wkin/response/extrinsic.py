r"""Linear response of a disordered conductor, split into Drude, extrinsic, side-jump and skew parts.

Generic pipeline of spec seed-000 §2.11 (Burgos Atencia, Niu, Culcer, PRR 4,
013001 (2022)) for an observable A = velocity or spin, on one Fermi shell at
T = 0, scalar Gaussian disorder in the Born approximation:

.. math::

    \langle A\rangle_E=\sum A^{mm}\big[n^{(-1)}+n^{(sk)}+n^{(sj)}\big]
        +\sum\tfrac{ie}{\hbar}[\mathcal T[A],\mathbf E\cdot\mathcal R']^{mm}n_{FD}
        +\sum n^{(-1)}\,\mathcal P\mathcal K(\mathcal T[A]) .

With the exact Boltzmann solution :math:`n^{(-1)}=-e\mathbf E\cdot\Lambda` (:mod:`wkin.kinetic.collision`,
:math:`L\Lambda=\mathbf v`, L = J_0 on the shell) and, for any drive X,
:math:`\Lambda^X=L^{-1}X`, the Fermi-surface pieces per unit field :math:`E_b` are
(weights w per volume; :math:`\boldsymbol\beta=\mathcal P\mathcal K(\mathcal R')`, Eq. 47):

- ``drude`` (Edelstein for spin): :math:`-e\sum_iw_iA_{a,i}\Lambda_{b,i}`;
- ``extrinsic`` (β for velocity, γ = PK(T[s]) for spin, Eqs. 47, 61):
  :math:`-e\sum_iw_i\,\mathcal P\mathcal K(\mathcal T[A])_{a,i}\Lambda_{b,i}`;
- ``side_jump`` (:math:`J_0n^{(sj)}=-J_E`, :math:`J_E=\partial_\epsilon n\,e\mathbf E\cdot\beta`, Eqs. 37–38):
  :math:`+e\sum_iw_iA_{a,i}\Lambda^{\beta}_{b,i}`;
- ``skew`` (:math:`J_0n^{(sk)}=-J_{sk}`, :math:`J_{sk}=\mathcal P\mathcal K(\mathcal T[-\mathcal QJ_0n^{(-1)}])`
  in the outer-energy form, Fermi sheet plus companion shells, §2.7 and §3 step 8):
  see :func:`skew_scattering`. This is the Gaussian ("intrinsic") skew scattering, independent of u0²;
- ``skew_third_order``: conventional skew scattering from the third disorder cumulant
  :math:`u_1^3` (spec seed-002 §2.2–2.5; Sinitsyn et al., PRB 75, 045315 (2007)), first order in
  :math:`u_1^3`: :math:`-e\sum_iw_iA_{a,i}\Lambda^{sk3}_{b,i}`, :math:`\Lambda^{sk3}=L^{-1}K^A\Lambda`
  (:meth:`wkin.kinetic.collision.CollisionOperator.skew_in_scattering`); ∝ :math:`u_1^3/u_0^4`, zero for Gaussian disorder.

All pieces of a shell are computed on one :class:`wkin.kinetic.shells.FermiShell` (built with
``interband=True``), whose mean free paths :math:`\Lambda=L^{-1}\mathbf v` the Boltzmann conductivity
of the same run shares.

The current is :math:`\mathbf j=-e\langle\mathbf v\rangle`, so
:math:`\sigma_{ab}=-e\langle v_a\rangle/E_b` in S/m; the spin density is
:math:`\langle\sigma_a\rangle/E_b` (Pauli spin per unit volume per unit field) in
1/(V·m²) — multiply by ħ/2 for angular momentum. The intrinsic (Fermi-sea) parts
come from :mod:`wkin.response.intrinsic` (``ahc``, ``spin_intrinsic``).
Identities (spec §3 step 10): :math:`\sigma^{sj}_{ab}=-\sigma^{ext}_{ba}`; every piece but
the Drude/Edelstein one and ``skew_third_order`` is independent of u0².
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import parallel
from ..bands import DEGEN_THRESH, solve
from ..kinetic.shells import ShellBuilder
from ..kspace.fermi_surface import FermiSurfaceError
from ..kspace.fermi_surface import sampler as shell_sampler
from ..progress import Progress
from ..units import E_CHARGE, HBAR_EVS, WEIGHT_SI

#: energy step (eV) of the companion shells of the skew term (``[disorder] companion_step``)
COMPANION_STEP = 0.1


@dataclass
class ShellResponse:
    """Per-observable pieces on one shell: ``pieces[obs][piece]`` (3, 3), SI (see module doc)."""

    mu: float
    pieces: dict = field(default_factory=dict)
    n_states: int = 0
    n_companion_shells: int = 0


def _pair_sum(w, x, y):
    """Σ_i w_i x_a y_b with w converted to 1/(J·m³)."""
    return WEIGHT_SI * parallel.sum_over_ranks(np.einsum("i,ia,ib->ab", w, x, y))


def shell_pieces(shell, builder, observables=("velocity",), skew=True, companion_step=COMPANION_STEP):
    """All Fermi-surface pieces for the observables ("velocity", "spin") on one shell (module docstring).

    ``shell``: a :class:`wkin.kinetic.shells.FermiShell` built with ``interband=True`` carrying the
    observables; ``builder``: its :class:`wkin.kinetic.shells.ShellBuilder` (companion shells of the skew term).
    """
    op = shell.operator
    w = shell.weight
    v = shell.observables["velocity"]
    lam = shell.mean_free_path("velocity")
    beta = op.project_diagonal(shell.interband_vectors["velocity"])  # m/s
    lam_beta = shell.solve(beta)
    # non-Gaussian skew scattering, first order in u1³: (L − K^A)Λ = v → Λ^sk3 = L⁻¹K^AΛ
    lam_sk3 = shell.solve(op.skew_in_scattering(lam)) if op.kappa3 else np.zeros_like(lam)
    per_obs = {"velocity": (v, beta)}
    if "spin" in observables:  # γ = PK(T[s]), dimensionless
        per_obs["spin"] = (shell.observables["spin"], op.project_diagonal(shell.interband_vectors["spin"]))
    out = ShellResponse(mu=shell.mu, n_states=int(parallel.sum_over_ranks(np.array([len(w)]))[0]))
    e = E_CHARGE
    drives = {}
    for name in observables:
        A, pkA = per_obs[name]
        out.pieces[name] = {"drude": -e * _pair_sum(w, A, lam), "extrinsic": -e * _pair_sum(w, pkA, lam),
                            "side_jump": e * _pair_sum(w, A, lam_beta),
                            "skew_third_order": -e * _pair_sum(w, A, lam_sk3)}
        drives[name] = A
    if skew:
        sheet, comp, nshell = skew_scattering(shell, builder, drives, companion_step)
        out.n_companion_shells = nshell
        for name in observables:
            p = out.pieces[name]
            p["skew_sheet"], p["skew_companion"] = sheet[name], comp[name]
            p["skew"] = sheet[name] + comp[name]
    for name in observables:  # current = −e ⟨v⟩
        if name == "velocity":
            out.pieces[name] = {k: -e * x for k, x in out.pieces[name].items()}
    return out


def response_shell(model, disorder, mu, grid, shift=(0.0, 0.0, 0.0), observables=("velocity",), skew=True,
                   companion_step=COMPANION_STEP, degen_thresh=DEGEN_THRESH):
    """:func:`shell_pieces` on the shell at μ of a model (tetrahedra on ``grid``, or a continuum model's circle)."""
    builder = ShellBuilder(model, disorder, shell_sampler(model, grid, shift), observables, interband=True,
                           degen_thresh=degen_thresh)
    return shell_pieces(builder.build(mu), builder, observables, skew, companion_step)


# ----------------------------------------------------------------------------- skew scattering
@dataclass
class _ShellMatrices:
    """At one energy, per disorder block: P = Σ w|u⟩⟨u| and M^A_a = Σ w Λ^A_a |u⟩⟨u|."""

    energy: float
    P: list
    M: dict


def _shell_matrices(shell, lams):
    op = shell.operator
    return _ShellMatrices(energy=shell.mu, P=op.shell_projectors,
                          M={name: op.weighted_projectors(lam) for name, lam in lams.items()})


def _bracket(shells, E):
    """Linear interpolation in energy as (shell index, weight) pairs: get(E) = Σ_pairs weight·get(shells[index]).

    Two pairs (the bracketing shells, weights 1 − t and t, t clipped to [0, 1]) or one pair for a single shell.
    """
    if len(shells) == 1:
        return [(np.zeros(len(E), int), np.ones(len(E)))]
    grid = np.array([s.energy for s in shells])
    i1 = np.clip(np.searchsorted(grid, E), 1, len(grid) - 1)
    t = np.clip((E - grid[i1 - 1]) / (grid[i1] - grid[i1 - 1]), 0.0, 1.0)
    return [(i1 - 1, 1.0 - t), (i1, t)]


def _skew_terms(kappa, blocks, u, xi, lam, P, M):
    r"""Per state t: κ Σ_b Re[Λ^A_a(t)⟨ξ_t|Π_bPΠ_b|u_t⟩ − ⟨u_t|Π_bM^A_aΠ_b|ξ_t⟩], (n, field b, component a).

    ``xi`` (n, 3, nw) per field direction, ``lam`` (n, 3), P[b] (n, nb, nb), M[b] (n, 3, nb, nb).
    """
    out = np.zeros((len(u), 3, 3))
    for bi, b in enumerate(blocks):
        ub, xb = u[:, b], xi[:, :, b]
        point = np.real(np.einsum("nfa,nab,nb->nf", xb.conj(), P[bi], ub))
        wide = np.real(np.einsum("na,ncab,nfb->nfc", ub.conj(), M[bi], xb))
        out += point[:, :, None] * lam[:, None, :] - wide
    return kappa * out


def _companion_grid(lo, hi, step, mu=None):
    """Energies of the companion shells on [lo, hi].

    ``step``: a number (uniform step, eV) or ``(near, far, window)``: step ``near`` within ``window`` eV of
    ``mu`` and ``far`` outside (the skew sources fall off as 1/|ε_a − μ| and the shell matrices vary fastest
    in the d bands around μ, so a graded grid reaches the accuracy of the uniform ``near`` grid with far fewer
    shells). Both ends are always included; a single point when ``hi - lo`` < 1e-9.
    """
    if hi - lo < 1e-9:
        return np.array([lo])

    def uniform(a, b, h):
        return np.linspace(a, b, int(np.ceil((b - a) / h)) + 1)

    if np.isscalar(step):
        return uniform(lo, hi, float(step))
    near, far, window = (float(x) for x in step)
    if mu is None:
        return uniform(lo, hi, near)
    a, b = max(lo, mu - window), min(hi, mu + window)
    if a >= b:
        return uniform(lo, hi, far)
    parts = [uniform(a, b, near)]
    if lo < a:
        parts.append(uniform(lo, a, far))
    if b < hi:
        parts.append(uniform(b, hi, far))
    return np.unique(np.concatenate(parts))


def _energy_shells(builder, state_energies, step, drives, mu=None):
    """Shell matrices (:class:`_ShellMatrices`) on an energy grid covering ``state_energies`` of all ranks.

    Grid :func:`_companion_grid` (``step`` uniform, or graded around ``mu``) between the global extremes (one
    shell when they coincide); an exact sampler (a continuum model's quadrature) gets one exact shell per
    distinct energy instead. The shells carry the drives alone (no interband data).
    """
    e = np.asarray(state_energies, float)
    if builder.sampler.exact:
        grid_E = np.unique(np.round(parallel.gather_concat(e[:, None])[:, 0], 12))
    else:
        bounds = parallel.gather_concat(np.array([[e.min(), e.max()]]) if e.size else np.zeros((0, 2)))
        if not bounds.size:
            return []
        lo, hi = bounds[:, 0].min(), bounds[:, 1].max()
        grid_E = _companion_grid(lo, hi, step, mu)
    light = builder.with_needs(observables=tuple(drives), interband=False)
    shells = []
    with Progress(f"companion shells (mu = {mu:.3f})" if mu is not None else "companion shells", len(grid_E)) as bar:
        for energy in grid_E:
            try:
                sh = light.build(energy)
            except FermiSurfaceError:
                continue
            finally:
                bar.update()
            shells.append(_shell_matrices(sh, {name: sh.mean_free_path(name) for name in drives}))
    return shells


def _source_sum(kappa, blocks, shells, E_t, u_t, xi_t, A_t, W_t):
    r"""Σ_t W_t κ Re[Λ^A_a(t)⟨ξ_t|P(E_t)|u_t⟩ − ⟨u_t|M^A_a(E_t)|ξ_t⟩] per observable, (3 comp, 3 field).

    States t sit on their own shells E_t (shell matrices interpolated linearly in energy); their mean
    free paths come from the shells' factorized solutions, :math:`\Lambda^A_t=\tau_t(A_t+\kappa\phi_t\cdot m^A(E_t))`.
    States the disorder does not couple (zero rate) carry no source.

    Every shell quantity enters linearly (⟨ξ|P|u⟩, ⟨u|M^A|ξ⟩, φ·p, φ·m^A), so the interpolation is applied to
    these per-state numbers, contracted with the two bracketing shells' matrices, instead of to per-state
    copies of the matrices (which cost 16·n·(4·n_w²) bytes per chunk of states). φ·p = Σ_b⟨u|Π_bPΠ_b|u⟩ and
    φ·m^A = Σ_b⟨u|Π_bM^AΠ_b|u⟩ come from the same products as the sources (no feature vectors of the states).
    """
    n = len(E_t)
    rate = np.zeros(n)  # φ·p(E_t); × κ below
    point = np.zeros((n, 3))  # Σ_b Re⟨ξ_f|Π_bPΠ_b|u⟩, per field f
    phim = {name: np.zeros((n, 3)) for name in A_t}  # φ·m^A_c(E_t)
    wide = {name: np.zeros((n, 3, 3)) for name in A_t}  # Σ_b Re⟨u|Π_bM^A_cΠ_b|ξ_f⟩, (n, f, c)
    for idx, weight in _bracket(shells, E_t):
        for j in np.unique(idx):
            sel = np.nonzero((idx == j) & (weight != 0))[0]
            if not len(sel):
                continue
            s, c = shells[j], weight[sel]
            for bi, b in enumerate(blocks):
                ub, xb = u_t[sel][:, b], xi_t[sel][:, :, b]
                nb = len(b)
                Pu = ub @ s.P[bi].T  # P|u⟩
                rate[sel] += c * np.real(np.sum(ub.conj() * Pu, axis=1))
                point[sel] += c[:, None] * np.real(xb.conj() @ Pu[:, :, None])[..., 0]
                for name in A_t:  # ⟨u|M_c (n, c, b) as one GEMM, then ⟨u|M_c|u⟩ and ⟨u|M_c|ξ_f⟩ (n, f, c)
                    uM = (ub.conj() @ s.M[name][bi].transpose(1, 0, 2).reshape(nb, -1)).reshape(len(ub), -1, nb)
                    phim[name][sel] += c[:, None] * np.real(np.sum(uM * ub[:, None, :], axis=2))
                    wide[name][sel] += c[:, None, None] * np.real(xb @ uM.transpose(0, 2, 1))
    rate *= kappa
    ok = rate > 0
    out = {}
    for name, A in A_t.items():
        lam = (A + kappa * phim[name]) / np.where(ok, rate, 1.0)[:, None]
        terms = kappa * (point[:, :, None] * lam[:, None, :] - wide[name])  # (n, field f, component c)
        out[name] = np.einsum("t,tfc->cf", W_t * ok, terms)
    return out


def skew_scattering(shell, builder, drives, companion_step=COMPANION_STEP, chunk=2048):
    r"""Skew-scattering pieces ⟨A⟩^sk per unit field, split into Fermi sheet and companion shells.

    Spec seed-000 §2.6–2.7 and §3 step 8, T = 0, :math:`n^{(-1)}=-e\mathbf E\cdot\Lambda`:

    - :math:`D'^{af}_{\mathbf k}=-\frac\kappa2\sum_b\langle u^a|\Pi_b(n_fP-P_n)\Pi_b|u^f\rangle` for every
      band a at each Fermi-surface point (f the Fermi band; the :math:`n^a` term vanishes at T = 0),
      :math:`S^{ext}=\mathcal T[D']`, i.e. :math:`S^{af}=\hbar D'^{af}/[i(\epsilon^a-\epsilon^f)]`;
    - sources :math:`J_{sk}=\mathcal P\mathcal K(S^{ext})` (outer-energy form) on the Fermi band,
      :math:`|\xi^f\rangle=\sum_aS^{af}|u^a\rangle` on shell μ, and on every companion state (k, a) on
      its own shell :math:`E=\epsilon^a_{\mathbf k}`, :math:`|\xi^a\rangle=S^{fa}|u^f\rangle`;
    - :math:`J_0n^{(sk)}=-J_{sk}`; by the symmetry of :math:`w_iL_{ij}` only :math:`\Lambda^A=L^{-1}A`
      of the shell a source sits on is needed:

      .. math::

          \langle A_a\rangle^{sk}/E_b=e\sum_tw_t\,\kappa\,\mathrm{Re}\big[\Lambda^A_a(t)\langle\xi^{(b)}_t|P(E_t)|u_t\rangle
            -\langle u_t|M^A_a(E_t)|\xi^{(b)}_t\rangle\big],

      :math:`P(E)=\sum_{s\in E}w_s|u_s\rangle\langle u_s|`, :math:`M^A_a(E)=\sum_{s\in E}w_s\Lambda^A_{a,s}|u_s\rangle\langle u_s|`
      (the second term is the shell-wide source through :math:`C_S(E)`), with :math:`\xi` computed
      for :math:`n=\Lambda_b`.

    Companion shells are solved on an energy grid of step ``companion_step`` (eV; or ``(near, far, window)``
    for a grid graded around μ, :func:`_companion_grid`) spanning the companion energies and interpolated
    linearly; when all companion energies coincide (e.g. the
    particle–hole symmetric Dirac model) a single exact shell is used. The mean free path of a
    companion state is evaluated exactly from its shell's factorized solution,
    :math:`\Lambda^A_t=\tau_t(A_t+\kappa\phi_t\cdot m^A(E_t))`.

    ``shell``: built with ``interband=True`` (every band at its points: :attr:`FermiShell.bands`);
    ``drives``: {observable name: its values on the shell}. Returns (sheet, companion, n_companion_shells)
    with ``sheet[name]`` (3, 3) per observable.
    """
    op = shell.operator
    kappa, blocks = op.kappa, op.blocks
    w, u = shell.weight, shell.states.c
    lam = shell.mean_free_path("velocity")
    lams_here = {name: shell.mean_free_path(name) for name in drives}
    here = _shell_matrices(shell, lams_here)
    bands = shell.bands
    parts = []
    for i in range(0, len(w), chunk):
        sl = slice(i, i + chunk)
        U, E, off = bands.U[sl], bands.energies[sl], bands.off[sl]
        r = np.arange(len(U))
        uf = u[sl]
        Dp = np.zeros((len(U), 3, E.shape[1]), complex)
        for bi, blk in enumerate(blocks):
            Pu = np.einsum("ab,nb->na", here.P[bi], uf[:, blk])
            Mu = np.einsum("rab,nb->nra", here.M["velocity"][bi], uf[:, blk])
            vec = lam[sl][:, :, None] * Pu[:, None, :] - Mu  # (n_f P − P_n)|u^f⟩, per field b
            Dp += np.einsum("nia,nfi->nfa", U[:, blk, :].conj(), vec)
        Dp *= -0.5 * kappa
        dE = E - E[r, shell.states.band[sl]][:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            S = np.where(off[:, None, :], HBAR_EVS * Dp / (1j * np.where(off, dE, 1.0))[:, None, :], 0)
        parts.append((U, E, S, off, {name: bands.diagonal[name][sl] for name in drives}))
    xi_f = (np.concatenate([np.einsum("nia,nfa->nfi", p[0], p[2]) for p in parts]) if parts
            else np.zeros((0, 3, u.shape[1]), complex))
    sheet = {}
    for name in drives:
        P = [np.broadcast_to(x, (len(u),) + x.shape) for x in here.P]
        M = [np.broadcast_to(x, (len(u),) + x.shape) for x in here.M[name]]
        t = _skew_terms(kappa, blocks, u, xi_f, lams_here[name], P, M)
        sheet[name] = parallel.sum_over_ranks(np.einsum("t,tfc->cf", w, t))
    # companion shells
    finite = np.concatenate([p[1][p[3]] for p in parts]) if parts else np.zeros(0)
    shells = _energy_shells(builder, finite, companion_step, drives, mu=shell.mu)
    companion = {name: np.zeros((3, 3)) for name in drives}
    start = 0
    for U, E, S, off, obs in parts:
        nloc = len(U)
        wi, uf = w[start:start + nloc], u[start:start + nloc]
        start += nloc
        kk, aa = np.nonzero(off)
        if len(kk) == 0 or not shells:
            continue
        xi = np.conj(S[kk, :, aa])[:, :, None] * uf[kk][:, None, :]  # S^{fa}|u^f⟩
        src = _source_sum(kappa, blocks, shells, E[kk, aa], U[kk, :, aa], xi,
                          {name: obs[name][kk, aa] for name in drives}, wi[kk])
        for name in drives:
            companion[name] += src[name]
    companion = {name: parallel.sum_over_ranks(x) for name, x in companion.items()}
    nshell = len(shells)
    scale = E_CHARGE * WEIGHT_SI  # ⟨A⟩^sk per field: e Σ w κ Re[...], ξ built from n = Λ_b
    return ({k: scale * x for k, x in sheet.items()}, {k: scale * x for k, x in companion.items()}, nshell)


def omitted_term(model, disorder, mu, grid, shift=(0.0, 0.0, 0.0), observables=("velocity",), companion_step=COMPANION_STEP,
                 degen_thresh=DEGEN_THRESH):
    """:func:`omitted_on` for a model's shells (tetrahedra on ``grid``, or a continuum model's exact quadrature)."""
    builder = ShellBuilder(model, disorder, shell_sampler(model, grid, shift), observables, degen_thresh=degen_thresh)
    return omitted_on(builder, mu, observables, companion_step)


def omitted_on(builder, mu, observables=("velocity",), companion_step=COMPANION_STEP, chunk=2048):
    r"""Diagnostic only: the term :math:`-\mathcal PJ_0(S^{int})` that a literal projection adds to the order-0
    diagonal equation and that the theory (and ``total``) omits (spec seed-000 §2.3, "Omitted term").

    :math:`S^{int}=\mathcal T[D]`, :math:`D=-\frac{ie}{\hbar}\mathbf E\cdot[\mathcal R',n_{FD}]`, i.e. per unit
    field :math:`S^{nm}_b=-e\,\mathcal R'^{nm}_b\,(f_n-f_m)/(\epsilon_m-\epsilon_n)`, lives on every state of
    the Fermi sea whose band is coupled to a band of different occupation. With :math:`J_0n^{om}=-\mathcal P
    \mathcal K(S^{int})` (outer-energy form, each state on its own energy shell) and the symmetry of
    :math:`wL`, :math:`\langle A_a\rangle^{om}/E_b=-\int(d\mathbf k)\sum_m\kappa\,\mathrm{Re}[\Lambda^A_a\langle\xi_b|P|u\rangle
    -\langle u|M^A_a|\xi_b\rangle]` with :math:`|\xi^m_b\rangle=\sum_nS^{nm}_b|u_n\rangle` — the companion-shell
    machinery of :func:`skew_scattering` applied to the whole Fermi sea at T = 0. Shells every
    ``companion_step`` eV over the occupied-to-empty energy range (exact shells for continuum models,
    whose Fermi sea comes from their exact sampler). In the inner-energy form the term vanishes for the Dirac
    model; in this form it is of the order of σ^ext (spec: ≈ 0.043 e²/ħ vs σ^ext_yx = 0.034 e²/ħ at ξ_F = 0.3).

    ``builder``: a :class:`wkin.kinetic.shells.ShellBuilder` carrying the observables (its model, disorder,
    sampler). Returns ``{observable: (3, 3)}``: σ_ab in S/m for "velocity", ⟨σ_a⟩/E_b in 1/(V·m²) for "spin".
    """
    model, disorder = builder.model, builder.disorder
    k_all, W_all = builder.sampler.sea(mu)
    part = parallel.my_slice(len(k_all))
    k_all, W_all = k_all[part], W_all[part]
    kappa, blocks = disorder.kappa, disorder.orbital_blocks(model)
    parts = []
    for i in range(0, len(k_all), chunk):
        b = solve(model, k_all[i:i + chunk], builder.degen_thresh)
        f = (b.energies < mu).astype(float)
        df = f[:, :, None] - f[:, None, :]  # f_n − f_m, [k, n, m]
        dE = b.energies[:, None, :] - b.energies[:, :, None]  # ε_m − ε_n
        coupled = (df != 0) & ~b.group
        with np.errstate(divide="ignore", invalid="ignore"):
            X = np.where(coupled[:, None], -b.berry_connection * (df / np.where(coupled, dE, 1.0))[:, None], 0)
        X *= 1e-10  # Å/eV → m/V: S per unit field (V/m)
        kk, mm = np.nonzero(coupled.any(axis=1))
        xi = np.einsum("kin,kbn->kbi", b.U[kk], X[kk, :, :, mm])  # Σ_n S^{nm}_b |u_n⟩, (t, field, nw)
        obs = {name: builder.observables[name].diagonal(b)[kk, mm] for name in observables}
        parts.append((b.energies[kk, mm], b.U[kk, :, mm], xi, obs, W_all[i:i + chunk][kk]))
    E_t = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
    shells = _energy_shells(builder, E_t, companion_step, observables, mu=mu)
    out = {name: np.zeros((3, 3)) for name in observables}
    for E, u_t, xi, obs, W in parts:
        if len(E) and shells:
            src = _source_sum(kappa, blocks, shells, E, u_t, xi, {n: obs[n] for n in observables}, W)
            for name in observables:
                out[name] += src[name]
    out = {name: -1e30 * parallel.sum_over_ranks(x) for name, x in out.items()}  # W in 1/Å³ → 1/m³
    if "velocity" in out:
        out["velocity"] = -E_CHARGE * out["velocity"]  # j = −e⟨v⟩
    return out


def spin_orbit_torque(spin_density, exchange, axis):
    r"""Torque density per unit field, :math:`\boldsymbol\tau=\Delta\,\hat{\mathbf m}\times\langle\boldsymbol\sigma\rangle`
    (spec seed-000 §2.10, exchange term :math:`\Delta\,\hat{\mathbf m}\cdot\boldsymbol\sigma` in H₀).

    ``spin_density``: (n_mu, 3, 3) ⟨σ_a⟩/E_b in 1/(V·m²); ``exchange`` Δ in eV; returns
    (n_mu, 3, 3) τ_a/E_b in (J/m³)/(V/m) = C/m².
    """
    m = np.asarray(axis, float)
    m = m / np.linalg.norm(m)
    return exchange * E_CHARGE * np.cross(m[None, :, None], spin_density, axisa=1, axisb=1, axisc=1)


# ----------------------------------------------------------------------------- kinetic quantities of a run
def pieces_on(shell, ctx):
    """{observable: {piece: (3, 3)}} on this shell for the run's extrinsic observables (``ctx.extrinsic_observables``),
    computed once per shell and shared by every quantity built on them, with ``omitted_term`` when
    ``ctx.disorder.omitted_term``. Pieces as in :func:`shell_pieces` (S/m for the velocity, 1/(V·m²) for spin)."""
    def compute():
        obs = ctx.extrinsic_observables
        pieces = shell_pieces(shell, ctx.builder, obs, True, ctx.disorder.companion_step).pieces
        if ctx.disorder.omitted_term:
            om = omitted_on(ctx.builder, shell.mu, obs, ctx.disorder.companion_step)
            for o in obs:
                pieces[o]["omitted_term"] = om[o]
        return pieces
    return shell.memo("extrinsic", compute)
