r"""Intrinsic spin Hall conductivity (SHC) as a Kubo Fermi-sea integral over band quantities.

Equation (Qiao, Zhou, Yuan, Zhao, PRB 98, 214402 (2018) [QZYZ18], Eqs. (3)-(5); Ryoo, Park, Souza,
PRB 99, 235113 (2019), Eq. (1); postw90 ``berry_task = shc``; WannierBerri ``calculators.static.SHC``):

.. math::

    \sigma^{c}_{ab} = \frac{e^2}{2\hbar}\int_{\rm BZ}\!\frac{d^3k}{(2\pi)^3}\sum_n f_{n\mathbf k}\,
        \Omega^{c}_{n,ab}(\mathbf k),\qquad
    \Omega^{c}_{n,ab} = -2\sum_{m\notin g(n)}
        \frac{\mathrm{Im}\big[\langle n|J^{c}_{a}|m\rangle\langle m|\hbar v_b|n\rangle\big]}
             {(\epsilon_n-\epsilon_m)^2},

with the (Pauli) spin-current operator :math:`J^c_a=\tfrac12\{\sigma_c,\hbar v_a\}`, ``a`` the direction
of the spin current, ``b`` that of the electric field, ``c`` the spin component, and g(n) the degenerate
group of band n (:attr:`wkin.bands.BandBatch.group`, :math:`|\epsilon_n-\epsilon_m|\le` ``degen_thresh``):
pairs inside a group are left out of the interband sum, as postw90/WannierBerri do, so PT-symmetric
(Kramers-degenerate) bands are handled. The Fermi-sea sum of the pairs inside the occupied manifold
cancels (the summand is antisymmetric in n ↔ m), so this equals WannierBerri's occupied–unoccupied form.

Sign and units. QZYZ18 Eq. (3) writes :math:`\sigma=-(e^2/\hbar)\int f\,\Omega^{\rm spin}` for the
*charge-like* current :math:`-e\langle J\rangle`; the spin current is :math:`\langle\tfrac\hbar2\,\tfrac12\{\sigma_c,v_a\}\rangle`
(electron charge −e, e > 0), i.e. that result times :math:`-\hbar/(2e)`. In units of (ħ/e) S/cm (as postw90
prints, ``fac = 1e8 e²/(ħ V_c)/2`` in ``berry_main``) the prefactor is therefore :math:`+e^2/(2\hbar)`
(WannierBerri: ``constant_factor = -factor_ahc/2``, in S/m). Equivalently, for a Hamiltonian without
spin mixing and :math:`\sigma_z={\rm diag}(1,-1)`,
:math:`\sigma^{z}_{ab}=-\tfrac12(\sigma^{\uparrow}_{ab}-\sigma^{\downarrow}_{ab})` [(ħ/e) S/cm] with
:math:`\sigma^{\uparrow,\downarrow}` the anomalous Hall conductivities (S/cm, ``ahc``) of the two spin blocks.

Velocity. :math:`\hbar v_{nm}=V_{nm}+i(\epsilon_n-\epsilon_m)\bar A_{nm}` (eV·Å), the velocity of the Wannier
subspace with the position-matrix ("external") term, on *all* pairs (WannierBerri's ``Velocity`` with
``external_terms=True``); :math:`\hbar v_{mn}/(\epsilon_n-\epsilon_m)=D_{mn}-i\bar A_{mn}`. Without a
position matrix (``A_R`` not given, diagonal tight-binding centres) :math:`\bar A=0` and this is
WannierBerri's ``external_terms=False``.

Spin current. :func:`shc_integrand` uses the "simple" operator :math:`J=\tfrac12(\sigma\,\hbar v+\hbar v\,\sigma)`
with σ and v both projected on the Wannier bands — WannierBerri's ``spin_current_type='simple'``, which
needs only S(R) (``.spn``) besides H and A. postw90 and WannierBerri's ``'qiao'`` (QZYZ18 Eqs. (49)-(50))
and ``'ryoo'`` (Ryoo et al. Eqs. (17), (26)-(29)) forms replace the products σ·v by matrix elements taken
in the full ab-initio band space (``SR``, ``SH``, ``SHR`` resp. ``SA``, ``SHA`` R-matrices, from .spn + .mmn
(+ .eig), resp. .sHu/.sIu); for a complete Wannier basis both reduce to the simple form.
:func:`spin_current_from_system` builds them from a WannierBerri ``System_R`` that carries those
matrices, so :func:`shc_integrand` can use them (see :func:`spin_hall_observable`).

Units of the integrand: Ω in Å² (J, ħv in eV·Å, energies in eV); the prefactor
:math:`e^2/(2\hbar)\cdot10^8` turns :math:`\frac{1}{V_{\rm cell}N_k}\sum_k\sum_n f\,\Omega` (Å⁻¹) into (ħ/e) S/cm.
Index order of the integrand: [k, n, a (current), b (field), c (spin)], as WannierBerri's result
``[E_F, a, b, c]`` and postw90's ``shc_alpha, shc_beta, shc_gamma``.
"""

from __future__ import annotations

import numpy as np

from ..kspace.integrate import Observable
from ..units import E_CHARGE, HBAR

#: (ħ/e) S/cm per Å⁻¹ of (1/V_cell N_k) Σ_k Σ_n f Ω:  e²/(2ħ) · 1e8 (postw90 ``berry_main``, ``eval_shc``)
SHC_PREFACTOR = E_CHARGE**2 / (2 * HBAR) * 1e8


def velocity_operator(bands, external_terms=True):
    r""":math:`\hbar v_{b,nm}=V_{b,nm}+i(\epsilon_n-\epsilon_m)\bar A_{b,nm}` on all pairs, (nk, 3, nb, nb) eV·Å.

    ``external_terms=False`` drops the position-matrix term (WannierBerri's ``external_terms=False``).
    """
    if not external_terms:
        return bands.V
    E = bands.energies
    return bands.V + 1j * (E[:, :, None] - E[:, None, :])[:, None] * bands.Abar


def spin_current_simple(bands, v=None):
    r"""Spin-current matrices :math:`J^c_a=\tfrac12(\sigma_c\hbar v_a+\hbar v_a\sigma_c)`, (nk, 3 c, 3 a, nb, nb) eV·Å.

    σ and v are the Wannier-subspace matrices in the band basis (``spin_current_type='simple'``);
    ``v`` defaults to :func:`velocity_operator` with the position-matrix term.
    """
    S = bands.spin_operator
    v = velocity_operator(bands) if v is None else v
    SV = S[:, :, None] @ v[:, None]  # (nk, c, a, nb, nb): σ_c v_a
    return 0.5 * (SV + np.conj(np.swapaxes(SV, -1, -2)))  # (σv)† = vσ


def shc_integrand(bands, spin_current=None, external_terms=True):
    r"""Spin Berry curvature :math:`\Omega^{c}_{n,ab}` of every band, (nk, nb, 3, 3, 3) Å², order [k, n, a, b, c].

    .. math::

        \Omega^{c}_{n,ab} = -2\sum_{m\notin g(n)}
            \frac{\mathrm{Im}[J^{c}_{a,nm}\,\hbar v_{b,mn}]}{(\epsilon_n-\epsilon_m)^2}

    Parameters
    ----------
    bands : :class:`wkin.bands.BandBatch` with spin (``S``).
    spin_current : (nk, 3 c, 3 a, nb, nb) array, optional
        The spin-current matrices :math:`\langle n|J^c_a|m\rangle` (eV·Å); default
        :func:`spin_current_simple` (with the same velocity). :func:`spin_current_from_system` gives the
        ``'qiao'``/``'ryoo'`` ones.
    external_terms : bool
        Include the position-matrix term in the velocity (default, WannierBerri's default).

    Summed over a degenerate group the result is independent of the basis chosen inside the group
    (and of the eigenvector phases); per band it is not, for degenerate bands.
    """
    v = velocity_operator(bands, external_terms)
    S = bands.spin_operator if spin_current is None else None
    E = bands.energies
    dE = E[:, :, None] - E[:, None, :]
    w = np.where(bands.group, 0.0, 1.0 / np.where(bands.group, 1.0, dE) ** 2)  # 1/(ε_n−ε_m)², 0 in groups
    vw = v * w[:, None]  # symmetric weight: vw[k,b,m,n] = v_b,mn /(ε_n−ε_m)²
    out = np.empty(E.shape + (3, 3, 3))
    for c in range(3):  # spin component (3 iterations; everything else is batched over k)
        if spin_current is None:  # J^c_a = (σ_c v_a + v_a σ_c)/2, one spin component at a time (memory)
            SV = S[:, c, None] @ v
            Jc = 0.5 * (SV + np.conj(np.swapaxes(SV, -1, -2)))
        else:
            Jc = spin_current[:, c]
        out[..., c] = -2.0 * np.einsum("kanm,kbmn->knab", Jc, vw).imag
    return out


# --------------------------------------------------------------------------------------- 'qiao' / 'ryoo'
_NEEDED = {"qiao": ("SS", "SR", "SH", "SHR"), "ryoo": ("SS", "SA", "SHA")}


def spin_current_from_system(system, spin_current_type="qiao"):
    r"""Spin-current builder for the ``'qiao'`` or ``'ryoo'`` forms from a WannierBerri ``System_R``.

    Returns ``J(bands)`` giving (nk, 3 c, 3 a, nb, nb) eV·Å for a :class:`~wkin.bands.BandBatch` of a model
    with the same H(R) (``TightBindingModel.from_wannierberri(system)``: the eigenvectors must
    diagonalise :math:`\sum_{\mathbf R}e^{i\mathbf k\cdot\mathbf R}H(\mathbf R)` on the system's R vectors).
    The k-space matrices are the plain Fourier sums :math:`X(\mathbf k)=\sum_{\mathbf R}e^{i\mathbf k\cdot\mathbf R}X(\mathbf R)`
    (WannierBerri's ``Data_K_R.Xbar``; no grid shift) rotated to the band basis, :math:`\bar X=U^\dagger XU`,
    with WannierBerri's index order X(R)[R, i, j, a (position), c (spin)]. With D = ``bands.D`` and V = ``bands.V``
    (so the caller's ``degen_thresh`` decides where D vanishes; WannierBerri sets D to zero only below 1e-7 eV):

    * ``'qiao'`` (QZYZ18 Eqs. (49)-(50), WannierBerri ``SpinVelocity._J_H_qiao``):
      :math:`J^{\rm raw}_{nm}=\partial_a\epsilon_m\bar S_{nm}+\epsilon_m[-i\bar{SR}+\bar S D]_{nm}-[-i\bar{SHR}+\bar{SH}D]_{nm}`;
    * ``'ryoo'`` (Ryoo et al. Eqs. (26)-(29), ``_J_H_ryoo``):
      :math:`J^{\rm raw}_{nm}=-i[\epsilon_m\bar{SA}-\bar{SHA}]_{nm}+(\bar SV)_{nm}`;

    and :math:`J=\tfrac12(J^{\rm raw}+J^{\rm raw\dagger})`. Matrices needed: SS, SR, SH, SHR (qiao; WannierBerri
    ``System_w90(..., SHCqiao=True)`` from .chk, .eig, .spn, .mmn) or SS, SA, SHA (ryoo; ``SHCryoo=True``,
    from .chk, .eig, .spn, .mmn, .sHu, .sIu). Both also need the position matrix AA (the velocity's external term).
    """
    if spin_current_type not in _NEEDED:
        raise ValueError(f"spin_current_type must be 'qiao' or 'ryoo', got {spin_current_type!r}")
    missing = [key for key in _NEEDED[spin_current_type] if not system.has_R_mat(key)]
    if missing:
        raise ValueError(f"the '{spin_current_type}' spin current needs the WannierBerri R-matrices "
                         f"{', '.join(missing)} (System_w90(..., SHC{spin_current_type}=True))")
    R = np.array(system.rvec.iRvec)
    nR = len(R)
    keys = _NEEDED[spin_current_type][1:]
    # one stacked (nR, ncomp) matrix of all needed blocks, component order [i, j, a?, c]
    stack = np.concatenate([np.asarray(system.get_R_mat(k)).reshape(nR, -1) for k in keys], axis=1)
    shapes = [np.asarray(system.get_R_mat(k)).shape[1:] for k in keys]

    def build(bands):
        k = np.atleast_2d(bands.k)
        flat = np.exp(2j * np.pi * (k @ R.T)) @ stack
        U, Ud = bands.U, np.conj(np.swapaxes(bands.U, -1, -2))
        mats, i = {}, 0
        for key, shape in zip(keys, shapes):
            size = int(np.prod(shape))
            X = flat[:, i:i + size].reshape((len(k),) + shape)  # (nk, i, j, [a,] c)
            i += size
            X = np.moveaxis(X, (1, 2), (-2, -1))  # (nk, [a,] c, i, j)
            X = Ud.reshape((len(k),) + (1,) * (X.ndim - 3) + Ud.shape[1:]) @ X @ U.reshape(
                (len(k),) + (1,) * (X.ndim - 3) + U.shape[1:])
            mats[key] = X
        S = bands.spin_operator  # (nk, c, nb, nb)
        E = bands.energies
        if spin_current_type == "qiao":
            D = bands.D  # (nk, a, nb, nb)
            SD = S[:, :, None] @ D[:, None]  # (nk, c, a, nb, nb)
            SHD = mats["SH"][:, :, None] @ D[:, None]
            K = -1j * np.swapaxes(mats["SR"], 1, 2) + SD  # SR: (nk, a, c) → (nk, c, a)
            L = -1j * np.swapaxes(mats["SHR"], 1, 2) + SHD
            dE = bands.velocity  # (nk, nb, a): ∂_a ε_m
            J = (dE.transpose(0, 2, 1)[:, None, :, None, :] * S[:, :, None]
                 + E[:, None, None, None, :] * K - L)
        else:
            SV = S[:, :, None] @ bands.V[:, None]
            J = (-1j * (E[:, None, None, None, :] * np.swapaxes(mats["SA"], 1, 2)
                        - np.swapaxes(mats["SHA"], 1, 2)) + SV)
        return 0.5 * (J + np.conj(np.swapaxes(J, -1, -2)))

    return build


def spin_hall_observable(name, system=None, spin_current_type="simple", external_terms=True):
    """The SHC as an :class:`~wkin.kspace.integrate.Observable` (Fermi sea, (ħ/e) S/cm, axial rank 3, time-even).

    ``spin_current_type='simple'`` (default, needs only the model's S(R); the ``shc`` quantity of a run) or
    ``'qiao'``/``'ryoo'`` (then ``system`` is the WannierBerri ``System_R`` carrying the extra matrices, see
    :func:`spin_current_from_system`, and the model must be ``TightBindingModel.from_wannierberri(system)``).
    ``external_terms=False`` drops the position-matrix term of the velocity.
    """
    if spin_current_type == "simple":
        J = None
    else:
        if system is None:
            raise ValueError(f"spin_current_type={spin_current_type!r} needs the WannierBerri system")
        J = spin_current_from_system(system, spin_current_type)

    def integrand(bands):
        return shc_integrand(bands, None if J is None else J(bands), external_terms=external_terms)

    return Observable(name, "sea", integrand, (3, 3, 3), SHC_PREFACTOR, tensor_kind="axial3_even",
                      requires=("spin",))
