r"""Natural optical activity (NOA): the interband gyrotropic tensor γ_abc(ω), as postw90 computes it.

Natural optical activity is the part of the optical conductivity linear in the wave vector q of
light, :math:`\sigma_{ab}(\omega,\mathbf q)\simeq\sigma_{ab}(\omega)+\lambda_{abc}(\omega)q_c`, with
λ antisymmetric in ab. Following Tsirkin, Aguado Puente & Souza, PRB 97, 035158 (2018) (TAS17,
arXiv:1710.03204, Appendix C, Eqs. C12 and C14 in the numbering cited by postw90; the formula is the
one of the Wannier90 user guide, gyrotropic module) and Malashevich & Souza, PRB 82, 245118 (2010), it
is written through the real length-valued tensor :math:`\gamma_{abc}=-\gamma_{bac}`, whose interband
(Fermi-sea) part for light below the absorption edge is

.. math::

    {\rm Re}\,\gamma_{abc}(\omega) = \frac{e^2}{\varepsilon_0\hbar^2}\int_k\sum_{n\in o,\,l\in e}
      \Big[\frac{{\rm Re}\,(A^b_{ln}B^{ac}_{nl}-A^a_{ln}B^{bc}_{nl})}{\omega_{ln}^2-\omega^2}
      -\frac{3\omega_{ln}^2-\omega^2}{(\omega_{ln}^2-\omega^2)^2}\,
       \partial_c(E_l+E_n)\,{\rm Im}\,(A^a_{nl}A^b_{ln})\Big],

    B^{ac}_{nl} = \langle u_n|\partial_aH|\partial_cu_l\rangle-\langle\partial_cu_n|\partial_aH|u_l\rangle
      = -i\,\partial_a(E_n+E_l)A^c_{nl}
        +\sum_m\big[(E_n-E_m)A^a_{nm}A^c_{ml}-(E_l-E_m)A^c_{nm}A^a_{ml}\big],

with :math:`\int_k=\int_{\rm BZ}d^3k/(2\pi)^3`, :math:`\omega_{ln}=(E_l-E_n)/\hbar`, o/e the
occupied/empty bands, :math:`\partial_c=\partial/\partial k_c` and
:math:`A_{nm}=\bar A_{nm}+iD_{nm}` the Berry connection matrix of :mod:`wkin.bands` (WYSV Eq. 25).
The natural rotatory power for light along the optic axis z is
:math:`\rho_0(\omega)=\frac{\omega^2}{2c^2}{\rm Re}\,\gamma_{xyz}(\omega)` (Ivchenko & Pikus, Sov. Phys.
Solid State 16, 1261 (1975); :func:`rotatory_power`).

Conventions, exactly those of postw90 3.1 (``gyrotropic_task = -noa``,
``gyrotropic.F90: gyrotropic_get_NOA_k``):

* **Storage.** γ is stored in its dual form :math:`\gamma_{dc}` with
  :math:`\gamma_{abc}=\varepsilon_{abd}\gamma_{dc}`, i.e. ``value[..., d, c]`` =
  :math:`\gamma_{\alpha\beta c}` with (α, β) = (y, z), (z, x), (x, y) for d = x, y, z — postw90's
  ``gyro_NOA_orb(ab, c)`` array. postw90's file ``SEED-gyrotropic-NOA_orb.dat`` prints the columns
  ``yzx zxy xyz yzy yzz zxz xyy (xyx) zxx`` = value[d, c] at (d, c) = (x,x), (y,y), (z,z), (x,y),
  (x,z), (y,z), (z,y), (z,x), (y,x) (its header labels the 8th column "yzz"; it is γ_xyx).
  ``value[..., 2, 2]`` = γ_xyz, the component of the rotatory power along z.
* **Frequencies** are complex, ħω̃ = ħω + iη with η = ``eta`` (postw90:
  ``gyrotropic_smr_fixed_en_width``, eV), in both frequency factors, of which the real parts are
  taken: :math:`{\rm Re}\,W` and :math:`{\rm Re}[-W(2\Delta^2W+1)]=-{\rm Re}\frac{3\Delta^2-\tilde\omega^2}
  {(\Delta^2-\tilde\omega^2)^2}`, :math:`W=1/(\Delta^2-\tilde\omega^2)`, Δ = E_l − E_n.
* **Occupations**: the Fermi sea f_n of :class:`wkin.kspace.occupations.Occupations` (a step at T = 0 as
  in postw90, Fermi–Dirac at T > 0). The summand F_nl of the double sum is antisymmetric under
  n ↔ l, so :math:`\sum_{n\in o,l\in e}F_{nl}=\sum_n f_n\sum_{l\ne n}F_{nl}` and γ is an ordinary
  Fermi-sea observable (integrand :math:`\sum_{l\ne n}F_{nl}` per band n, contracted with f_n).
* **Band window**: bands with E ≥ ``eigval_max`` are left out of n and l (postw90:
  ``gyrotropic_eigval_max``, default ``dis_froz_max + 0.6667`` eV when a frozen window is set,
  8.6667 eV for the bundled Te); the inner sum over m runs over all bands.
* **Degeneracies**: :math:`D_{nm}=(U^\dagger\partial H U)_{nm}/(E_m-E_n)` is set to zero where
  :math:`|E_m-E_n|<` ``degen_thresh`` (postw90's fixed 1e-7 eV in ``wham_get_D_h``), independently
  of the ``degen_thresh`` of the band solve. Inside such a group postw90's connection is the Wannier
  term :math:`\bar A` of its own phase convention (Wannier90 "convention II"); with ``centres`` given
  (Cartesian Å, ``model.centres``) wkin adds the same :math:`U^\dagger\hat\tau U` so that
  :math:`\bar A` is convention II there too. Everywhere else the connection, and therefore γ, is the
  same in every convention; the band-diagonal elements of A drop out of γ exactly.
* **Exactly degenerate levels** (groups of the same threshold): postw90's formula uses the band
  velocities :math:`\partial_aE_n` of the individual levels, which inside a degenerate group depend
  on the (arbitrary) eigenvector basis returned by the diagonalisation, so its value at such k-points
  is basis-dependent. This is the default here, to reproduce postw90. With ``covariant=True`` the
  diagonal velocities are replaced by the in-group blocks :math:`V_g` of :math:`U^\dagger\partial H U`,
  :math:`-i\partial_a(E_n+E_l)A^c_{nl}\to-i(V_g^aA^c+A^cV_g^a)_{nl}` (the expansion of B over all
  bands before any energy difference is taken) and
  :math:`\partial_c(E_n+E_l){\rm Im}(A^a_{nl}A^b_{ln})\to\frac12{\rm Im}[\{V^c_g,A^a\}_{nl}A^b_{ln}
  +A^a_{nl}\{V^c_g,A^b\}_{ln}]`, which keep F_nl antisymmetric and make the sum over a degenerate
  group basis-independent; both forms are identical at every k-point without exact degeneracies
  (measure zero; on the bundled Te 25³ grid, Γ only: the two differ by 7e-6 of max|γ|).
* **No spin factor** (each Wannier band counted once, as postw90, which does not use
  ``num_elec_per_state`` here), **orbital part only** (no spin matrices: the spin part
  :math:`B^{ac,{\rm spin}}` of TAS17 Eq. C15 is not implemented).

Units (SI): γ in **metres** (postw90 prints Å: postw90 = 1e10 × wkin). The integrand is in
eV⁻¹·Å³ (:math:`W`: eV⁻², A: Å, B: eV·Å²); :math:`\frac{1}{V_{\rm cell}}\sum_kw_k` gives eV⁻¹,
and the prefactor :math:`e^2/\varepsilon_0` per eV (= e/ε₀ with energies in eV) gives metres.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.constants import c as C_LIGHT
from scipy.constants import elementary_charge as E_CHARGE
from scipy.constants import epsilon_0 as EPS0
from scipy.constants import hbar as HBAR

from ..kspace.integrate import Observable
from ..model import CYCLIC

#: postw90's threshold for the D matrix (``wham_get_D_h``: |E_m − E_n| < 1e-7 eV → D_nm = 0)
POSTW90_D_THRESH = 1e-7
#: broadening η (eV) of the frequencies, postw90's default ``gyrotropic_smr_fixed_en_width``
ETA = 0.01

#: column order of postw90's ``-gyrotropic-NOA_orb.dat`` (after E_F and ω) as (d, c) of ``value[..., d, c]``
POSTW90_COLUMNS = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2), (2, 1), (2, 0), (1, 0))


def _connection(b, degen_thresh, centres):
    r"""A = Ā + iD (nk, 3, nb, nb) Å, with D zero where |E_m − E_n| < degen_thresh (postw90's D_h).

    Inside those groups (diagonal included) Ā is taken in convention II when ``centres`` is given.
    """
    E = b.energies
    dE = E[:, None, :] - E[:, :, None]  # [k, n, m] = E_m − E_n
    small = np.abs(dE) < degen_thresh
    with np.errstate(divide="ignore", invalid="ignore"):
        D = np.where(small[:, None], 0.0, b.V / np.where(small, 1.0, dE)[:, None])
    A = b.Abar + 1j * D
    if centres is not None:
        # F["A"] is A^(W) − τ in the Wannier90-phase basis (wkin.model.fourier): Ā_II = Ā + U†τU
        Ud = b.U.conj().transpose(0, 2, 1)
        X = np.stack([Ud @ (np.asarray(centres, float)[:, a, None] * b.U) for a in range(3)], axis=1)
        A = A + X * small[:, None]
    return A


def noa_integrand(b, frequencies, eta=ETA, eigval_max=np.inf, degen_thresh=POSTW90_D_THRESH,
                  centres=None, covariant=False):
    r"""Per-band integrand :math:`G_n(\omega)_{dc}=\sum_{l\ne n}F_{nl}`, (nk, nb, n_ω, 3, 3) in eV⁻¹·Å³.

    ``b`` is a :class:`wkin.bands.BandBatch`; ``frequencies`` ħω in eV (real); see the module
    docstring for ``eta``, ``eigval_max``, ``degen_thresh``, ``centres`` and ``covariant``. Vectorized over k
    (batched matrix products over the (nk, nb, nb) stacks).
    """
    w = np.atleast_1d(np.asarray(frequencies, float)) + 1j * float(eta)  # ħω̃, eV
    E = b.energies
    nk, nb = E.shape
    A = _connection(b, degen_thresh, centres)  # (nk, 3, nb, nb): A[k, a, n, m] = A^a_nm
    v = b.velocity  # (nk, nb, 3) ∂_a E_n, eV·Å
    AT = A.transpose(0, 1, 3, 2)  # AT[k, a, n, l] = A^a_ln
    # B^ac_nl: −i ∂_a(E_n + E_l) A^c_nl + Σ_m (E_n − E_m) A^a_nm A^c_ml − (E_l − E_m) A^c_nm A^a_ml
    EA = E[:, None, :, None] * A  # E_n A^a_nm (row scaling)
    AE = A * E[:, None, None, :]  # A^a_nm E_m (column scaling)
    B = np.empty((nk, 3, 3, nb, nb), complex)  # B[k, a, c, n, l]
    vsum = v[:, :, None, :] + v[:, None, :, :]  # [k, n, l, a] = ∂_a(E_n + E_l)
    if covariant:  # in-group blocks of U†∂H U (diagonal: the band velocities)
        group = np.abs(E[:, None, :] - E[:, :, None]) < degen_thresh
        Vg = b.V * group[:, None]
    for a in range(3):
        for c in range(3):
            if covariant:  # −i(V_g^a A^c + A^c V_g^a) replaces −i ∂_a(E_n + E_l) A^c_nl
                first = -1j * (Vg[:, a] @ A[:, c] + A[:, c] @ Vg[:, a])
            else:
                first = -1j * vsum[..., a] * A[:, c]
            B[:, a, c] = (first + EA[:, a] @ A[:, c] - AE[:, a] @ A[:, c]
                          - A[:, c] @ A[:, a] * E[:, None, :] + AE[:, c] @ A[:, a])
    T1 = np.empty((nk, 3, 3, nb, nb))  # Re(A^b_ln B^ac_nl − A^a_ln B^bc_nl)
    T2 = np.empty((nk, 3, 3, nb, nb))  # ∂_c(E_n + E_l) Im(A^a_nl A^b_ln)
    for d, (a, bb) in enumerate(CYCLIC):
        im = np.imag(A[:, a] * AT[:, bb])
        for c in range(3):
            T1[:, d, c] = np.real(AT[:, bb] * B[:, a, c] - AT[:, a] * B[:, bb, c])
            if covariant:  # ½ Im[{V_g^c, A^a}_nl A^b_ln + A^a_nl {V_g^c, A^b}_ln], {X, Y} = XY + YX
                Xa = Vg[:, c] @ A[:, a] + A[:, a] @ Vg[:, c]
                Xb = Vg[:, c] @ A[:, bb] + A[:, bb] @ Vg[:, c]
                T2[:, d, c] = 0.5 * np.imag(Xa * AT[:, bb] + A[:, a] * Xb.transpose(0, 2, 1))
            else:
                T2[:, d, c] = vsum[..., c] * im
    delta = E[:, None, :] - E[:, :, None]  # [k, n, l] = E_l − E_n
    inside = E < eigval_max
    pair = inside[:, :, None] & inside[:, None, :] & ~np.eye(nb, dtype=bool)[None]
    if eta == 0:  # pairs inside a degenerate group (which cancel when equally occupied) would give 1/0
        pair &= np.abs(delta) >= degen_thresh
    denom = delta[:, None] ** 2 - w[None, :, None, None] ** 2  # (nk, nω, nb, nb)
    W = np.divide(1.0, denom, out=np.zeros_like(denom), where=pair[:, None] & (denom != 0))
    Wm = W.real
    We = np.real(-W * (2 * delta[:, None] ** 2 * W + 1.0))
    return (np.einsum("kwnl,kdcnl->knwdc", Wm, T1, optimize=True)
            + np.einsum("kwnl,kdcnl->knwdc", We, T2, optimize=True))


def noa_orb(frequencies, eta=ETA, eigval_max=None, degen_thresh=POSTW90_D_THRESH, centres=None,
            covariant=False, name="gamma_orb", chunk=4096):
    r"""The interband natural-optical-activity tensor γ_dc(ω), orbital part, as an :class:`Observable`.

    Pass the result to :func:`wkin.kspace.integrate.integrate` in the list of quantities. The value has
    shape (n_μ, n_ω, 3, 3) in metres: ``value[i, j, d, c]`` = :math:`\gamma_{\alpha\beta c}` at
    ``mu[i]`` and ħω = ``frequencies[j]`` (eV), (α, β) = (y, z), (z, x), (x, y) for d = 0, 1, 2
    (module docstring). A Fermi-sea quantity (uses the Fermi-sea occupations of ``Occupations``;
    the surface broadening is not used).

    Parameters
    ----------
    frequencies : ħω in eV (real, ≥ 0)
    eta : imaginary part of ħω̃ in eV (postw90 ``gyrotropic_smr_fixed_en_width``); > 0 keeps the
        resonances at ħω = E_l − E_n finite
    eigval_max : bands at or above this energy (eV) are left out (postw90 ``gyrotropic_eigval_max``);
        None: all bands
    degen_thresh : |E_m − E_n| (eV) below which D_nm is set to zero (postw90: 1e-7)
    centres : (nw, 3) Wannier centres in Å (``model.centres``) to use postw90's convention-II Ā
        inside those degenerate groups; None: wkin's convention I there (differences only at
        exactly degenerate k-points)
    covariant : False (postw90's formula) or True (basis-independent at exactly degenerate levels;
        module docstring)
    name : name of the observable (key of ``Integrals.values``; the registry gives ``noa_orb`` its own)
    chunk : k-points per vectorized sub-batch (memory ~ chunk × n_ω × nb² × 16 bytes × a few)
    """
    freqs = np.atleast_1d(np.asarray(frequencies, float))
    emax = np.inf if eigval_max is None else float(eigval_max)

    def integrand(b):
        nk = len(b.energies)
        if nk <= chunk:
            return noa_integrand(b, freqs, eta, emax, degen_thresh, centres, covariant)
        return np.concatenate([noa_integrand(_slice(b, s), freqs, eta, emax, degen_thresh, centres, covariant)
                               for s in _slices(nk, chunk)])

    return Observable(name, "sea", integrand, (len(freqs), 3, 3), E_CHARGE / EPS0, tensor_kind="axial2_even",
                      axis=("frequency", freqs, "eV"))


def _slices(n, size):
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _slice(b, s):
    """The k-points ``s`` of a BandBatch (every per-k array field has k first)."""
    nk = len(b.energies)
    return dataclasses.replace(b, **{f.name: getattr(b, f.name)[s] for f in dataclasses.fields(b)
                                     if isinstance(getattr(b, f.name), np.ndarray) and len(getattr(b, f.name)) == nk})


def rotatory_power(gamma, frequencies, direction=(0.0, 0.0, 1.0)):
    r"""Natural rotatory power :math:`\rho(\omega)=\frac{\omega^2}{2c^2}\,\hat n_d\,{\rm Re}\,\gamma_{dc}\,\hat n_c` in rad/m.

    ``gamma`` is the (…, n_ω, 3, 3) dual tensor in metres from :func:`noa_orb`, ``frequencies`` ħω in
    eV, ``direction`` the propagation direction n̂ (normalised here). For n̂ = z this is
    :math:`\frac{\omega^2}{2c^2}{\rm Re}\,\gamma_{xyz}`, the rotatory power along the optic axis of a
    uniaxial crystal (TAS17 Eq. C11; Wannier90 user guide, gyrotropic module). Only the symmetric
    part of γ_dc contributes. Divide by 1e3 for rad/mm.
    """
    n = np.asarray(direction, float)
    n = n / np.linalg.norm(n)
    omega = np.asarray(frequencies, float) * E_CHARGE / HBAR  # rad/s
    proj = np.einsum("...dc,d,c->...", np.real(gamma), n, n)
    return omega ** 2 / (2 * C_LIGHT ** 2) * proj
