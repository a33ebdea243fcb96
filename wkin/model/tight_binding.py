r"""Tight-binding model in a Wannier basis and its batched Fourier interpolation.

Conventions (Wannier90 "convention II", Wang, Yates, Souza, Vanderbilt,
PRB 74, 195118 (2006), Eqs. 23-26):

.. math::

    H_{ij}(\mathbf k) = \sum_{\mathbf R} e^{i\mathbf k\cdot\mathbf R} H_{ij}(\mathbf R),\qquad
    A^{(W)}_{a,ij}(\mathbf k) = \sum_{\mathbf R} e^{i\mathbf k\cdot\mathbf R}\langle 0i|r_a|\mathbf R j\rangle,

    \partial_a H(\mathbf k) = \sum_{\mathbf R} iR_a e^{i\mathbf k\cdot\mathbf R} H(\mathbf R),\qquad
    \bar\Omega_{\gamma}(\mathbf k) = \sum_{\mathbf R} e^{i\mathbf k\cdot\mathbf R}\,
    i\,[R_\alpha A_\beta(\mathbf R) - R_\beta A_\alpha(\mathbf R)]\quad(\alpha\beta\gamma\ \text{cyclic}).

Units: energies in eV, lengths in Å, k in Å⁻¹ (Cartesian) or reduced
coordinates (fractions of the reciprocal lattice vectors). ``H_R`` is stored
already divided by the Wigner–Seitz degeneracies (and with the
``use_ws_distance`` shifts applied), so the sums above are plain sums.

Optional matrices for the complete orbital moment (Lopez, Vanderbilt, Thonhauser, Souza,
PRB 85, 014435 (2012), Eqs. 37-39 and 46-50; postw90's ``BB_R``/``CC_R``), in the same
Wannier90 convention, whose plain Fourier sums are the Wannier-gauge k-space matrices:

.. math::

    B^{(W)}_{a,ij}(\mathbf k) = \langle u_i|H|i\partial_au_j\rangle
      = \sum_{\mathbf R} e^{i\mathbf k\cdot\mathbf R}\langle 0i|H(r_a-R_a)|\mathbf R j\rangle,\qquad
    C^{(W)}_{ab,ij}(\mathbf k) = \langle i\partial_au_i|H|i\partial_bu_j\rangle
      = \sum_{\mathbf R} e^{i\mathbf k\cdot\mathbf R}\langle 0i|r_aH(r_b-R_b)|\mathbf R j\rangle .

When no position matrix is given, the tight-binding approximation
:math:`\langle 0i|\mathbf r|\mathbf Rj\rangle = \boldsymbol\tau_i\delta_{ij}\delta_{\mathbf R0}`
is used (Wannier centres on the diagonal). With it every output is the same
as in the "convention I" tight-binding formulas that drop the position
matrix altogether.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import scipy.fft
import scipy.sparse

from .. import parallel
from ..io.wannier90 import fortran_formatted, load_model_data, plain_copies, read_win, resolve, win_atoms

#: cyclic index pairs (alpha, beta) for gamma = x, y, z
CYCLIC = ((1, 2), (2, 0), (0, 1))
#: the Wannier-gauge matrices whose k-derivatives the Fermi-sea forms may ask for (besides ∂∂H, always given)
DERIVATIVES = ("A", "Obar", "S")
#: component order of the symmetric second derivative ∂_a∂_bH
SYMMETRIC_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (2, 0), (0, 1))
#: conventions of the finite-difference B(R), C(R) of the complete orbital moment (first: the default)
ORBITAL_CONVENTIONS = ("wannierberri", "postw90")


class ModelError(ValueError):
    """A model whose data the theory cannot use (non-Hermitian, bad shapes)."""


class TightBindingModel:
    """Real-space Wannier Hamiltonian, position and spin matrices.

    Parameters
    ----------
    lattice : (3, 3) array, Å
        Rows are the lattice vectors a1, a2, a3.
    R : (nR, 3) int array
        Lattice vectors in reduced coordinates.
    H_R : (nR, nw, nw) complex, eV
        :math:`\\langle 0i|H|\\mathbf R j\\rangle`, already divided by degeneracies.
    A_R : (nR, 3, nw, nw) complex, Å, optional
        :math:`\\langle 0i|r_a|\\mathbf R j\\rangle`.
    S_R : (nR, 3, nw, nw) complex, optional
        :math:`\\langle 0i|\\sigma_a|\\mathbf R j\\rangle` (Pauli matrices, no ħ/2).
    centres : (nw, 3) array, Å, optional
        Wannier centres (Cartesian), used when ``A_R`` is not given (then the
        diagonal tight-binding position matrix is built from them); with
        ``A_R`` the centres are the diagonal of A(R=0).
    atoms : (positions (nat,3) reduced, numbers (nat,)), optional
        Crystal structure, used for symmetry analysis.
    name : str
    B_R : (nR, 3, nw, nw) complex, eV·Å, optional
        :math:`\\langle 0i|H(r_a-R_a)|\\mathbf R j\\rangle` (postw90's ``BB_R``).
    C_R : (nR, 3, 3, nw, nw) complex, eV·Å², optional
        :math:`\\langle 0i|r_aH(r_b-R_b)|\\mathbf R j\\rangle` (postw90's ``CC_R``). Only the part
        antisymmetric in (a, b) enters any result (the orbital moment); models read through
        WannierBerri carry only that part (WannierBerri reads only that part of ``.uHu``).
        ``B_R`` and ``C_R`` come together; with them :attr:`has_full_orbital` is True and
        :attr:`wkin.bands.BandBatch.orbital_moment_full` (``gme_orb_full``) is available.
    phase_centres : (nw, 3) array, Å, optional
        The centres τ of the centre-phase convention in which the k-space blocks are evaluated
        (:meth:`fourier`; default: ``centres``). Every result that needs only H and A is
        independent of this choice (exact covariance); the complete orbital moment built from
        finite-difference B and C is not exactly covariant and depends on it at the 1e-7–1e-2
        level, so models read for ``gme_orb_full`` set it to the convention of the code whose
        B and C they carry (docs/outputs.md). Code that converts back to the Wannier90
        convention (``noa_orb(centres=...)``) must then be given ``model.phase_centres``.
    """

    def __init__(self, lattice, R, H_R, A_R=None, S_R=None, centres=None, atoms=None,
                 name="model", hermiticity_tol=1e-5, B_R=None, C_R=None, phase_centres=None, position_source=None):
        self.lattice = np.array(lattice, dtype=float).reshape(3, 3)
        if abs(np.linalg.det(self.lattice)) < 1e-12:
            raise ModelError("lattice vectors are linearly dependent")
        R = np.array(R, dtype=int).reshape(-1, 3)
        H_R = np.array(H_R, dtype=complex)
        if H_R.ndim != 3 or H_R.shape[0] != R.shape[0] or H_R.shape[1] != H_R.shape[2]:
            raise ModelError(f"H_R must have shape (nR, nw, nw) with nR = {R.shape[0]}, got {H_R.shape}")
        nw = H_R.shape[1]
        self.name = name
        self.atoms = atoms
        if A_R is not None:  # the centres are the diagonal of A(R=0) whenever A is known
            i0 = np.flatnonzero(np.all(R == 0, axis=1))
            centres = np.zeros((nw, 3)) if len(i0) == 0 else np.real(
                np.diagonal(np.asarray(A_R)[i0[0]], axis1=1, axis2=2)).T
        self.centres = np.zeros((nw, 3)) if centres is None else np.array(centres, float).reshape(nw, 3)
        self._phase_centres = None if phase_centres is None else np.array(phase_centres, float).reshape(nw, 3)
        self.has_position = A_R is not None
        #: where the position matrix came from (a file name, WannierBerri, ...) or the diagonal approximation
        self.position_source = (position_source or "given") if A_R is not None else \
            "diagonal tight-binding approximation (Wannier centres)"
        if (B_R is None) != (C_R is None):
            raise ModelError("B_R and C_R (the complete orbital moment) must be given together")
        if A_R is None:
            A_R = np.zeros((R.shape[0], 3, nw, nw), complex)
            R, H_R, A_R, S_R, B_R, C_R = _ensure_origin(R, H_R, A_R, S_R, B_R, C_R)
            i0 = np.flatnonzero(np.all(R == 0, axis=1))[0]
            A_R[i0][:, np.arange(nw), np.arange(nw)] = self.centres.T
        A_R = np.array(A_R, dtype=complex)
        if A_R.shape != (R.shape[0], 3, nw, nw):
            raise ModelError(f"A_R must have shape {(R.shape[0], 3, nw, nw)}, got {A_R.shape}")
        if S_R is not None:
            S_R = np.array(S_R, dtype=complex)
            if S_R.shape != (R.shape[0], 3, nw, nw):
                raise ModelError(f"S_R must have shape {(R.shape[0], 3, nw, nw)}, got {S_R.shape}")
        if B_R is not None:
            B_R, C_R = np.array(B_R, dtype=complex), np.array(C_R, dtype=complex)
            if B_R.shape != (R.shape[0], 3, nw, nw):
                raise ModelError(f"B_R must have shape {(R.shape[0], 3, nw, nw)}, got {B_R.shape}")
            if C_R.shape != (R.shape[0], 3, 3, nw, nw):
                raise ModelError(f"C_R must have shape {(R.shape[0], 3, 3, nw, nw)}, got {C_R.shape}")
        self.R = R
        self.H_R = H_R
        self._check_hermitian(hermiticity_tol)
        # H(k) is Hermitian: keep the Hermitian part [H(R) + H(-R)^dagger]/2 (a change below hermiticity_tol), so
        # that the pairs (R, -R) can be summed once (_pair_sum)
        self.H_R = self._hermitian_part(H_R)[0]
        # Wannier90's finite-difference position matrix is not exactly Hermitian
        # (|A(R) - A(-R)^dagger| ~ 0.1 Å seen); the operator r is, so use its Hermitian part.
        self.A_R, self.position_hermiticity_error = self._hermitian_part(A_R)
        self.S_R = None if S_R is None else self._hermitian_part(S_R)[0]
        self.B_R = B_R
        # C_ab(k)^† = C_ba(k): keep the Hermitian part [C_ab(R) + C_ba(-R)^†]/2
        self.C_R = None if C_R is None else self._hermitian_part(C_R, swap=True)[0]
        self._stack = None
        self._halves = {}
        self._derivative_stacks = {}
        #: how the Hamiltonian was symmetrized (:func:`wkin.model.symmetrize.symmetrized_model`), or None
        self.symmetrization = None
        #: the Wannier90 seedname the model was read from (its .win has the projections), or None
        self.seedname = None

    # ------------------------------------------------------------------ geometry
    @property
    def num_wann(self) -> int:
        return self.H_R.shape[1]

    @property
    def has_spin(self) -> bool:
        return self.S_R is not None

    @property
    def phase_centres(self) -> np.ndarray:
        """Centres τ (nw, 3) Å of the centre-phase convention of :meth:`fourier` (default: :attr:`centres`)."""
        return self.centres if self._phase_centres is None else self._phase_centres

    @property
    def has_full_orbital(self) -> bool:
        """True when the model carries B(R) and C(R), the matrices of the complete orbital moment."""
        return self.B_R is not None

    @property
    def cell_volume(self) -> float:
        """Unit-cell volume in Å³."""
        return float(abs(np.linalg.det(self.lattice)))

    @property
    def recip_lattice(self) -> np.ndarray:
        """Rows b1, b2, b3 in Å⁻¹ with a_i · b_j = 2π δ_ij."""
        return 2 * np.pi * np.linalg.inv(self.lattice).T

    @property
    def R_cart(self) -> np.ndarray:
        return self.R @ self.lattice

    def to_cartesian(self, k_red):
        """Reduced k (fractions of b_i) → Cartesian k in Å⁻¹."""
        return np.asarray(k_red, float) @ self.recip_lattice

    def _check_hermitian(self, tol):
        index = {tuple(r): i for i, r in enumerate(self.R)}
        try:
            minus = np.array([index[tuple(-r)] for r in self.R])
        except KeyError as err:
            raise ModelError(f"lattice vector {tuple(-np.array(err.args[0]))} present but its "
                             "opposite is missing: H(k) would not be Hermitian") from None
        err = np.abs(self.H_R - self.H_R[minus].conj().transpose(0, 2, 1)).max()
        if err > tol:
            raise ModelError(f"H(R) != H(-R)^dagger (max deviation {err:.2e} eV > {tol:.0e} eV)")
        self._minus = minus

    def _hermitian_part(self, X_R, swap=False):
        r"""[X(R) + X(-R)^dagger]/2 for (nR, 3, nw, nw) blocks, and the largest deviation removed.

        ``swap=True``: (nR, 3, 3, nw, nw) blocks with :math:`X_{ab}(\mathbf k)^\dagger=X_{ba}(\mathbf k)`,
        i.e. [X_ab(R) + X_ba(-R)^dagger]/2.
        """
        Xd = np.conj(np.swapaxes(X_R[self._minus], -1, -2))
        if swap:
            Xd = np.swapaxes(Xd, 1, 2)
        return 0.5 * (X_R + Xd), float(np.abs(X_R - Xd).max()) / 2

    # ------------------------------------------------------------------ Fourier
    def _real_space_stack(self):
        r"""All real-space blocks needed for one k-evaluation, as one (nR, ncomp·nw²) matrix.

        Components: H, :math:`i\rho_aH` (3), :math:`A^{\rm I}_a` (3), :math:`\bar\Omega^{\rm I}_\gamma` (3),
        σ_a (3 if spin), :math:`B^{\rm I}_a` (3) and :math:`\tilde C^{\rm I}_\gamma` (3) if the model has
        B and C (:meth:`_orbital_blocks`), with :math:`\boldsymbol\rho_{ij}(\mathbf R)=\mathbf R+\boldsymbol\tau_j-\boldsymbol\tau_i`
        and :math:`A^{\rm I}(\mathbf R)=A(\mathbf R)-\boldsymbol\tau_i\delta_{ij}\delta_{\mathbf R0}`: the
        derivative and position blocks of the centre-phase convention ("convention I",
        WannierBerri's), represented in the Wannier90 phase basis (:meth:`fourier`).
        """
        if self._stack is None:
            rho, X = self._rho(), self._convention_i_blocks()
            blocks = [X["H"], 1j * rho * X["H"], X["A"], X["Obar"]]
            if self.S_R is not None:
                blocks.append(X["S"])
            if self.B_R is not None:
                blocks.extend(self._orbital_blocks())
            self._stack = np.concatenate(blocks, axis=1).reshape(len(self.R), -1)
        return self._stack

    def _rho(self):
        r""":math:`\boldsymbol\rho_{ij}(\mathbf R)=\mathbf R+\boldsymbol\tau_j-\boldsymbol\tau_i` (nR, 3, nw, nw) Å:
        :math:`\partial_a` of a centre-phase (convention I) Fourier sum multiplies its R-block by :math:`i\rho_a`."""
        tau = self.phase_centres
        shift = tau[None, :, :] - tau[:, None, :]  # τ_j − τ_i at [i, j]
        return self.R_cart[:, :, None, None] + shift.transpose(2, 0, 1)[None]

    def _convention_i_blocks(self):
        """The Hermitian real-space blocks of the centre-phase convention: ``H`` (nR, 1, nw, nw), ``A`` (position
        minus the phase centres), ``Obar`` (its curl) and, with spin, ``S`` (nR, 3, nw, nw)."""
        nw, tau, rho = self.num_wann, self.phase_centres, self._rho()
        A = self.A_R.copy()
        i0 = np.flatnonzero(np.all(self.R == 0, axis=1))[0]
        A[i0][:, np.arange(nw), np.arange(nw)] -= tau.T
        curl = np.stack([1j * (rho[:, a] * A[:, b] - rho[:, b] * A[:, a]) for a, b in CYCLIC], axis=1)
        out = {"H": self.H_R[:, None], "A": A, "Obar": curl}
        if self.S_R is not None:
            out["S"] = self.S_R
        return out

    def _derivative_stack(self, names):
        r"""The k-derivative blocks of the Fermi-sea forms (:data:`DERIVATIVES`), as one (nR, ncomp·nw²) matrix.

        Always :math:`\partial_a\partial_bH` (6 components, ``ab`` in :data:`SYMMETRIC_PAIRS` order,
        :math:`-\rho_a\rho_bH(\mathbf R)`), then for each name in ``names`` (in :data:`DERIVATIVES` order)
        :math:`\partial_dX_a` (9 components, index 3d + a, :math:`i\rho_dX_a(\mathbf R)`) of the centre-phase blocks
        ``A``, ``Obar``, ``S``. Each is Hermitian in k (the derivative of a Hermitian matrix).
        """
        key = tuple(n for n in DERIVATIVES if n in names)
        if key not in self._derivative_stacks:
            rho, X = self._rho(), self._convention_i_blocks()
            blocks = [np.stack([-rho[:, a] * rho[:, b] * self.H_R for a, b in SYMMETRIC_PAIRS], axis=1)]
            for name in key:
                if name not in X:
                    raise ValueError(f"the model has no {name!r} matrices to differentiate")
                blocks.append((1j * rho[:, :, None] * X[name][:, None]).reshape(len(self.R), 9, *X[name].shape[2:]))
            self._derivative_stacks[key] = np.concatenate(blocks, axis=1).reshape(len(self.R), -1)
        return self._derivative_stacks[key]

    def _unpack_derivatives(self, flat, names):
        """Split (nk, ncomp·nw²) sums of :meth:`_derivative_stack` into ``ddH`` (nk, 3, 3, nw, nw) and
        ``d<name>`` (nk, 3 (d), 3, nw, nw)."""
        nw = self.num_wann
        out = flat.reshape(len(flat), -1, nw, nw)
        ddH = np.empty((len(flat), 3, 3, nw, nw), complex)
        for i, (a, b) in enumerate(SYMMETRIC_PAIRS):
            ddH[:, a, b] = ddH[:, b, a] = out[:, i]
        res, i = {"ddH": ddH}, 6
        for name in (n for n in DERIVATIVES if n in names):
            res["d" + name] = out[:, i:i + 9].reshape(len(flat), 3, 3, nw, nw)
            i += 9
        return res

    def _orbital_blocks(self):
        r"""B and the antisymmetric part of C in the centre-phase convention, Wannier90 phase basis.

        With :math:`|u^{\rm I}_j\rangle=e^{i\mathbf k\cdot\boldsymbol\tau_j}|u_j\rangle` one has
        :math:`i\partial_a|u^{\rm I}_j\rangle=e^{i\mathbf k\cdot\boldsymbol\tau_j}(i\partial_a-\tau_{ja})|u_j\rangle`,
        so, as matrices in the Wannier90 basis (τ the diagonal matrix of :attr:`phase_centres`),

        .. math::

            B^{\rm I}_a = B_a - H\tau_a,\qquad
            C^{\rm I}_{ab} = C_{ab} - B_a^\dagger\tau_b - \tau_aB_b + \tau_aH\tau_b ,

        i.e. in real space :math:`B^{\rm I}_a(\mathbf R)=\langle 0i|H(r-\mathbf R-\boldsymbol\tau_j)_a|\mathbf Rj\rangle`
        and :math:`C^{\rm I}_{ab}(\mathbf R)=\langle 0i|(r-\boldsymbol\tau_i)_aH(r-\mathbf R-\boldsymbol\tau_j)_b|\mathbf Rj\rangle`
        (WannierBerri's ``BB`` and ``CC``), with :math:`B^\dagger_a(\mathbf R)\equiv B_a(-\mathbf R)^\dagger`.
        Returns :math:`B^{\rm I}_a` (nR, 3, nw, nw) and
        :math:`\tilde C^{\rm I}_\gamma=i(C^{\rm I}_{\alpha\beta}-C^{\rm I}_{\beta\alpha})` (nR, 3, nw, nw), Hermitian in k.
        """
        tau_i = self.phase_centres.T[:, :, None]  # τ_{i,a} as [a, i, 1]
        tau_j = self.phase_centres.T[:, None, :]  # τ_{j,a} as [a, 1, j]
        H, B = self.H_R, self.B_R
        Bd = np.conj(np.swapaxes(B[self._minus], -1, -2))  # B_a(−R)^†

        def c_conv1(a, b):
            return (self.C_R[:, a, b] - Bd[:, a] * tau_j[b] - tau_i[a] * B[:, b]
                    + tau_i[a] * tau_j[b] * H)

        BI = B - H[:, None] * tau_j[None]
        Ct = np.stack([1j * (c_conv1(a, b) - c_conv1(b, a)) for a, b in CYCLIC], axis=1)
        return [BI, Ct]

    def fourier(self, k_red, derivatives=None):
        r"""Evaluate the Wannier-gauge matrices at a batch of k (one ZGEMM).

        Parameters
        ----------
        k_red : (nk, 3) reduced coordinates.
        derivatives : None, or names among :data:`DERIVATIVES`: also return their k-derivatives and the second
            derivative of H (:meth:`_derivative_stack`): ``ddH`` (nk, 3, 3, nw, nw) eV·Å², and ``dA`` (Å²),
            ``dObar`` (Å³), ``dS`` (Å), each (nk, 3 (derivative d), 3, nw, nw) — what the Fermi-sea forms of the
            Fermi-surface quantities need (:mod:`wkin.response.intrinsic`).

        Returns
        -------
        dict with ``H`` (nk,nw,nw) eV (Wannier90 phases), and, in the centre-phase convention
        transformed to the same basis (:math:`D\,X^{\rm I}D^\dagger`, :math:`D={\rm diag}(e^{i\mathbf k\cdot\boldsymbol\tau})`):
        ``dH`` (nk,3,nw,nw) eV·Å, :math:`\partial_aH-i[\tau_a,H]`, whose band-diagonal elements are the
        band velocities; ``A`` (nk,3,nw,nw) Å, the position matrix minus the (phase) centres; ``Obar``
        (nk,3,nw,nw) Å², its curl (vector index γ); when spin is present, ``S`` (nk,3,nw,nw); and,
        when the model has B and C, ``B`` (nk,3,nw,nw) eV·Å, :math:`\langle u|H|i\partial_a u\rangle`, and
        ``C`` (nk,3,nw,nw) eV·Å², :math:`i(C_{\alpha\beta}-C_{\beta\alpha})` with
        :math:`C_{ab}=\langle i\partial_a u|H|i\partial_b u\rangle` (vector index γ).
        The full interband Berry connection Ā + iD built from them is the same in every convention.
        """
        k_red = np.atleast_2d(np.asarray(k_red, float))
        nw = self.num_wann
        out = self._pair_sum(k_red, None)
        if self.B_R is not None:  # B(k) is not Hermitian: the plain sum over all R
            nb = 10 + (3 if self.S_R is not None else 0)
            B = (np.exp(2j * np.pi * (k_red @ self.R.T)) @ self._real_space_stack()[:, nb * nw * nw:(nb + 3) * nw * nw])
            out = np.concatenate([out[:, :nb], B.reshape(len(k_red), 3, nw, nw), out[:, nb:]], axis=1)
        res = self._unpack(out.reshape(len(k_red), -1))
        if derivatives is not None:
            key = tuple(n for n in DERIVATIVES if n in derivatives)
            res.update(self._unpack_derivatives(self._pair_sum(k_red, None, key).reshape(len(k_red), -1), key))
        return res

    def _pair_sum(self, k_red, ncomp, derivatives=None):
        r"""The Hermitian components of the stack at k, (nk, ncomp, nw, nw), summing each pair (R, −R) once.

        For a Hermitian :math:`X(\mathbf k)=\sum_{\mathbf R}e^{i\mathbf k\cdot\mathbf R}X(\mathbf R)`, i.e.
        :math:`X(-\mathbf R)=X(\mathbf R)^\dagger`,

        .. math::

            X(\mathbf k)=\sum_{\mathbf R\ge0}\big[\cos(\mathbf k\cdot\mathbf R)\,P_{\mathbf R}
                +\sin(\mathbf k\cdot\mathbf R)\,Q_{\mathbf R}\big],\qquad P=X+X^\dagger,\ Q=i(X-X^\dagger),

        over one R of each pair (R = 0 with weight ½): one real matrix product of half the size of the complex
        one, and the result is Hermitian by construction. Every component of :meth:`_real_space_stack` is
        Hermitian in k except B (summed in :meth:`fourier`); ``ncomp`` (None: all) takes the first ones.
        ``derivatives`` (a key of :meth:`_derivative_stack`): sum that stack instead.
        """
        nw = self.num_wann
        if derivatives not in self._halves:
            if derivatives is None:
                stack = self._real_space_stack()
                if self.B_R is not None:  # drop the B columns
                    nb = 10 + (3 if self.S_R is not None else 0)
                    stack = np.concatenate([stack[:, :nb * nw * nw], stack[:, (nb + 3) * nw * nw:]], axis=1)
            else:
                stack = self._derivative_stack(derivatives)
            key = self.R @ np.array([1 << 40, 1 << 20, 1])  # lexicographic order of R (|R_a| < 2^19)
            rows = np.flatnonzero(key >= 0)
            X = stack[rows].reshape(len(rows), -1, nw, nw).copy()
            X[key[rows] == 0] *= 0.5
            Xd = np.conj(np.swapaxes(X, -1, -2))
            self._halves[derivatives] = (2 * np.pi * self.R[rows].T, X + Xd, 1j * (X - Xd), {})
        Rt, P, Q, cache = self._halves[derivatives]
        n = P.shape[1] if ncomp is None else ncomp
        if n not in cache:  # [P; Q] for the first n components, as a real (2·nR₊, 2·n·nw²) matrix
            cache[n] = np.ascontiguousarray(np.concatenate([P[:, :n].reshape(len(P), -1),
                                                            Q[:, :n].reshape(len(Q), -1)])).view(np.float64)
        theta = k_red @ Rt
        return (np.concatenate([np.cos(theta), np.sin(theta)], axis=1) @ cache[n]).view(np.complex128).reshape(
            len(k_red), n, nw, nw)

    def _unpack(self, flat):
        """Split (nk, ncomp·nw²) Fourier sums into the named matrices."""
        nw = self.num_wann
        out = flat.reshape(len(flat), -1, nw, nw)
        res = {"H": out[:, 0], "dH": out[:, 1:4], "A": out[:, 4:7], "Obar": out[:, 7:10]}
        i = 10
        if self.S_R is not None:
            res["S"] = out[:, i:i + 3]
            i += 3
        if self.B_R is not None:
            res["B"], res["C"] = out[:, i:i + 3], out[:, i + 3:i + 6]
        return res

    def grid_blocks(self, grid, budget_points=None, ncomp=None, derivatives=None):
        """FFT sub-grid size n_f and the list of block offsets j used by :meth:`fourier_grid` (with the same
        ``derivatives``)."""
        grid = np.array(grid, int)
        if budget_points is None:
            ncomp = self._grid_stack(derivatives).shape[1] if ncomp is None else ncomp
            budget_points = max(64, int(3e8 / (16 * ncomp)))
        nf = np.array(fft_block(grid, budget_points))
        return nf, list(np.ndindex(*tuple(grid // nf)))

    def _fft_blocks(self, stack, grid, shift, blocks, budget_points):
        """Yield (k_red, Σ_R e^{ik·R} stack[R]) on FFT sub-grids (see :meth:`fourier_grid`)."""
        grid = np.array(grid, int)
        shift = np.asarray(shift, float)
        ncomp = stack.shape[1]
        nf, all_blocks = self.grid_blocks(grid, budget_points, ncomp)
        npts = int(np.prod(nf))
        fold = scipy.sparse.csr_matrix(
            (np.ones(len(self.R)), (np.ravel_multi_index(tuple((self.R % nf).T), tuple(nf)), np.arange(len(self.R)))),
            shape=(npts, len(self.R)))
        m = np.stack(np.meshgrid(*[np.arange(n) for n in nf], indexing="ij"), -1).reshape(-1, 3)
        for j in (all_blocks if blocks is None else blocks):
            k0 = (np.array(j) + shift) / grid
            Y = fold @ (np.exp(2j * np.pi * (self.R @ k0))[:, None] * stack)
            Y = scipy.fft.ifftn(Y.reshape(tuple(nf) + (ncomp,)), axes=(0, 1, 2), workers=fft_workers()) * npts
            yield k0 + m / nf, Y.reshape(npts, ncomp)

    def _grid_stack(self, derivatives=None):
        """The stack Fourier-summed on grids: :meth:`_real_space_stack`, then :meth:`_derivative_stack` if asked."""
        if derivatives is None:
            return self._real_space_stack()
        return np.concatenate([self._real_space_stack(), self._derivative_stack(derivatives)], axis=1)

    def fourier_grid(self, grid, shift=(0.0, 0.0, 0.0), blocks=None, budget_points=None, derivatives=None):
        """Evaluate :meth:`fourier` on a uniform grid by FFT, in blocks.

        The grid k = (i + shift)/N, i_a = 0..N_a−1, is split into sub-grids
        k = (j + shift)/N + m/N_f (N_f a divisor of N, j = 0..N/N_f−1). On each
        sub-grid the sum over R is a discrete Fourier transform of the blocks
        folded modulo N_f, which is exact (no aliasing: e^{ik·R} is periodic in
        R mod N_f on that sub-grid).

        ``blocks`` selects block offsets j (default: all, see :meth:`grid_blocks`).
        Yields ``(k_red, matrices)`` with the same dictionary as :meth:`fourier` (with ``derivatives``).
        """
        main = self._real_space_stack().shape[1]
        key = None if derivatives is None else tuple(n for n in DERIVATIVES if n in derivatives)
        for k, flat in self._fft_blocks(self._grid_stack(key), grid, shift, blocks, budget_points):
            res = self._unpack(flat[:, :main])
            if key is not None:
                res.update(self._unpack_derivatives(flat[:, main:], key))
            yield k, res

    def hamiltonian_grid(self, grid, shift=(0.0, 0.0, 0.0), blocks=None):
        """H(k) only on a uniform grid by FFT, in blocks: yields ``(k_red, H)`` with H (nk, nw, nw) eV.

        Blocks as :meth:`grid_blocks` with ``ncomp = num_wann**2``.
        """
        nw = self.num_wann
        for k, flat in self._fft_blocks(self.H_R.reshape(len(self.R), -1), grid, shift, blocks, None):
            yield k, flat.reshape(-1, nw, nw)

    def fourier_velocity(self, k_red):
        """H(k) and ∂H/∂k only (the Boltzmann path needs no position or spin matrices)."""
        out = self._pair_sum(np.atleast_2d(np.asarray(k_red, float)), 4)
        return out[:, 0], out[:, 1:4]

    def exact_sampler(self):
        """None: a lattice model's energy shells come from the tetrahedron quadrature of a k-grid
        (:class:`wkin.kspace.fermi_surface.TetrahedronSampler`); see :class:`wkin.model.protocol.Model`."""
        return None

    def hamiltonian(self, k_red):
        """H(k) for a batch of reduced k, (nk, nw, nw) in eV."""
        return self._pair_sum(np.atleast_2d(np.asarray(k_red, float)), 1)[:, 0]

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_wannier90(cls, seedname, use_ws_distance=True, spin=False, orbital=False,
                       orbital_convention=ORBITAL_CONVENTIONS[0], **kwargs):
        r"""Build from Wannier90 outputs of ``seedname`` (see :mod:`wkin.io.wannier90`).

        With ``spin=True`` the model is built by WannierBerri's readers from
        ``.chk``, ``.eig`` and ``.spn`` (and ``.mmn`` for the position matrix when
        present): S(R) needs the gauge matrices U(k) of the checkpoint. The
        crystal structure is still taken from the ``.win``. WannierBerri chooses
        the R vectors by its own minimal-distance rule (``use_ws_distance`` is
        then not used) and symmetrizes the matrices when the data allow it.

        With ``orbital=True`` the model is built the same way from ``.chk``, ``.eig``,
        ``.mmn`` and ``.uHu`` and also carries B(R) and C(R), the matrices of the
        complete orbital moment (``gme_orb_full``). They are finite differences on the
        Wannierization mesh, which are not exactly covariant under a change of phase
        convention, so the result depends (by 1e-3–1e-2 relative for Te) on the convention
        in which they are taken and evaluated; ``orbital_convention`` picks one:

        * ``"wannierberri"``: WannierBerri's ``System_w90(..., morb=True)`` matrices (finite
          differences with its centre phases :math:`e^{i\mathbf b\cdot\boldsymbol\tau_j}`, ``.chk``
          centres τ), evaluated in its convention I with the same τ (``phase_centres``):
          reproduces WannierBerri's ``GME_orb`` / ``morb``.
        * ``"postw90"``: A(R), B(R), C(R) as postw90's ``get_AA_R``/``get_BB_R``/``get_CC_R`` build
          them with ``transl_inv = false`` (plain finite differences in the Wannier90 phase
          convention, from the same WannierBerri readers), evaluated in that convention
          (``phase_centres`` = 0): reproduces postw90's ``gyrotropic_task = -k``.

        Either way the position matrix is the finite-difference one without the
        Marzari–Vanderbilt diagonal (postw90's ``transl_inv = false``, the only choice postw90
        allows for the orbital moment), and the R vectors are WannierBerri's minimal-distance
        ones (postw90's ``use_ws_distance = true``). Formatted ``.uHu``/``.spn`` files are recognised.

        A plain Wannier90 run (no ``write_hr``/``write_tb``: no ``_tb.dat``/``_hr.dat``) leaves ``.chk``,
        ``.eig``, ``.mmn`` and ``.win``: H(R), and the position matrix A(R) from ``.mmn`` when it is there,
        are then built the same way through WannierBerri's readers.
        """
        plain_run = not any(resolve(seedname + ext) for ext in ("_tb.dat", "_hr.dat")) \
            and all(resolve(seedname + ext) for ext in (".chk", ".eig"))
        if not (spin or orbital or plain_run):
            model = cls(**load_model_data(seedname, use_ws_distance=use_ws_distance), **kwargs)
            model.seedname = os.fspath(seedname)
            return model
        if orbital_convention not in ORBITAL_CONVENTIONS:
            raise ValueError(f"orbital_convention: expected 'wannierberri' or 'postw90', got {orbital_convention!r}")
        import wannierberri as wb  # heavy (numba); only this path needs it
        required = (".chk", ".eig") + ((".spn",) if spin else ()) + ((".mmn", ".uHu") if orbital else ())
        exts = (".chk", ".eig", ".spn", ".mmn", ".uHu", ".nnkp", ".win")
        pw90 = orbital and orbital_convention == "postw90"
        with tempfile.TemporaryDirectory() as tmp:
            seed = plain_copies(seedname, exts, tmp, required=required)
            files = ["chk", "eig"] + (["spn"] if spin else []) + (["mmn"] if os.path.exists(seed + ".mmn") else [])
            files += ["uhu"] if orbital else []
            formatted = [f for f, ext in (("spn", ".spn"), ("uhu", ".uHu"))
                         if f in files and fortran_formatted(seed + ext)]
            data = wb.w90files.wandata.WannierData.from_w90_files(seedname=seed, files=files, formatted=formatted,
                                                                   readnnkp=os.path.exists(seed + ".nnkp"))
            system = wb.system.System_R.from_wannierdata(data, spin=spin, berry="mmn" in files and not pw90,
                                                         morb=orbital and not pw90)
        name = os.path.basename(seedname)
        if pw90:
            A_R, B_R, C_R = _postw90_orbital_matrices(data, system)
            S_R = np.array(system.get_R_mat("SS")).transpose(0, 3, 1, 2).copy() if system.has_R_mat("SS") else None
            model = cls(np.array(system.real_lattice), np.array(system.rvec.iRvec), np.array(system.get_R_mat("Ham")),
                        A_R=A_R, S_R=S_R, B_R=B_R, C_R=C_R, phase_centres=np.zeros((system.num_wann, 3)),
                        name=name, position_source=".mmn (postw90 convention, transl_inv = false)", **kwargs)
        else:
            model = cls.from_wannierberri(system, name=name, **kwargs)
        if os.path.exists(seedname + ".win"):
            model.atoms = win_atoms(read_win(seedname + ".win"))
        model.seedname = os.fspath(seedname)
        return model

    @classmethod
    def from_wannierberri(cls, system, name=None, **kwargs):
        r"""Build from a WannierBerri ``System_R`` (Hamiltonian, and position/spin/B/C when loaded).

        WannierBerri stores position matrices in its phase convention I (Wannier
        centres subtracted from the diagonal of A(R=0)); they are put back here.
        Its ``BB`` and ``CC`` (``System_R(..., morb=True)``) are likewise in convention I,
        :math:`B^{\rm I}_a(\mathbf R)=\langle 0i|H(r-\mathbf R-\boldsymbol\tau_j)_a|\mathbf Rj\rangle` and the
        pseudovector :math:`CC_\gamma=i(C^{\rm I}_{\alpha\beta}-C^{\rm I}_{\beta\alpha})`; they are
        converted to wkin's ``B_R`` and the antisymmetric part of ``C_R`` (Wannier90 convention,
        :meth:`_orbital_blocks` inverted, with WannierBerri's centres τ):
        :math:`B_a=B^{\rm I}_a+H\tau_a`,
        :math:`C_{ab}=C^{\rm I}_{ab}+B_a^\dagger\tau_b+\tau_aB_b-\tau_aH\tau_b`, antisymmetrized in (a, b).
        Such a model is evaluated in WannierBerri's convention (``phase_centres`` = τ), on which the
        complete orbital moment depends (see :meth:`from_wannier90`).
        """
        lattice = np.array(system.real_lattice)
        iR = np.array(system.rvec.iRvec)
        nw = system.num_wann
        H_R = np.array(system.get_R_mat("Ham"))
        centres = np.array(system.wannier_centers_cart)
        A_R = S_R = B_R = C_R = None
        if system.has_R_mat("AA"):
            A_R = np.array(system.get_R_mat("AA")).transpose(0, 3, 1, 2).copy()
            i0 = np.flatnonzero(np.all(iR == 0, axis=1))[0]
            A_R[i0][:, np.arange(nw), np.arange(nw)] += centres.T
        if system.has_R_mat("SS"):
            S_R = np.array(system.get_R_mat("SS")).transpose(0, 3, 1, 2).copy()
        if system.has_R_mat("BB") and system.has_R_mat("CC"):
            B_R, C_R = _orbital_from_convention_I(iR, H_R, np.array(system.get_R_mat("BB")),
                                                  np.array(system.get_R_mat("CC")), centres)
        kwargs.setdefault("phase_centres", None if B_R is None else centres)
        kwargs.setdefault("position_source", "WannierBerri System_R (AA, from .mmn)")
        return cls(lattice, iR, H_R, A_R=A_R, S_R=S_R, centres=centres, B_R=B_R, C_R=C_R,
                   name=name or getattr(system, "name", "wannierberri"), **kwargs)

    @classmethod
    def from_tbmodels(cls, tb, name="tbmodels"):
        """Build from a ``tbmodels.Model``.

        TBmodels stores each hopping once, H(k) = Σ_R hop[R] e^{ik·R} + h.c., with
        half of the on-site terms in hop[0]; positions ``tb.pos`` are reduced.
        The tight-binding (diagonal) position matrix is used.
        """
        hops = {tuple(int(x) for x in r): np.asarray(m, complex) for r, m in tb.hop.items()}
        keys = sorted(set(hops) | {tuple(-x for x in r) for r in hops})
        index = {r: i for i, r in enumerate(keys)}
        nw = int(tb.size)
        H_R = np.zeros((len(keys), nw, nw), complex)
        for r, m in hops.items():
            H_R[index[r]] += m
            H_R[index[tuple(-x for x in r)]] += m.conj().T
        uc = np.array(tb.uc, float)
        return cls(uc, np.array(keys), H_R, centres=np.asarray(tb.pos, float) @ uc, name=name)


def _orbital_from_convention_I(R, H_R, BB, CC, centres):
    """wkin's B_R (nR, 3, nw, nw) and antisymmetric C_R (nR, 3, 3, nw, nw) from WannierBerri's
    convention-I ``BB`` (nR, nw, nw, 3) and ``CC`` (nR, nw, nw, 3) (see ``from_wannierberri``)."""
    index = {tuple(r): i for i, r in enumerate(R)}
    try:
        minus = np.array([index[tuple(-r)] for r in R])
    except KeyError:
        raise ModelError("WannierBerri R vectors are not closed under R -> -R") from None
    tau_i = centres.T[:, :, None]
    tau_j = centres.T[:, None, :]
    B = BB.transpose(0, 3, 1, 2) + H_R[:, None] * tau_j[None]
    Bd = np.conj(np.swapaxes(B[minus], -1, -2))
    C = _antisymmetric_C(CC)  # CC_γ = i(C_αβ − C_βα): antisymmetric part C_αβ = −(i/2) CC_γ
    for a in range(3):
        for b in range(3):
            C[:, a, b] += Bd[:, a] * tau_j[b] + tau_i[a] * B[:, b] - tau_i[a] * tau_j[b] * H_R
    return B, 0.5 * (C - np.swapaxes(C, 1, 2))


def _antisymmetric_C(CC):
    """(nR, 3, 3, nw, nw) antisymmetric C_ab from the pseudovector CC_γ = i(C_αβ − C_βα), (nR, nw, nw, 3)."""
    C = np.zeros((CC.shape[0], 3, 3) + CC.shape[1:3], complex)
    for g, (a, b) in enumerate(CYCLIC):
        C[:, a, b] = -0.5j * CC[..., g]
        C[:, b, a] = 0.5j * CC[..., g]
    return C


def _postw90_orbital_matrices(data, system):
    """A(R), B(R) and the antisymmetric C(R) as postw90 builds them (``get_AA_R`` with
    ``transl_inv = false``, ``get_BB_R``, ``get_CC_R``): finite differences on the Wannierization
    mesh in the Wannier90 phase convention, no centre phases,

        A_a(q) = i Σ_b w_b b_a M^(W)(q, b),   B_a(q) = i Σ_b w_b b_a (E M)^(W)(q, b),
        C_ab(q) = Σ_b1,b2 w_b1 w_b2 b1_a b2_b ⟨u_q+b1|H|u_q+b2⟩^(W),

    from WannierBerri's readers (``data``: ``WannierData`` with chk, eig, mmn, uHu) and Fourier
    transformed onto the R vectors of ``system`` (WannierBerri's minimal-distance rule)."""
    chk, bk = data.chk, data.bkvec
    kptirr, weights = data.kptirr_system
    kw = {"kptirr": kptirr, "weights_k": weights}
    nb = range(bk.NNB)
    AA = sum(chk.get_AABB_q_ib(bk, data.mmn, ib=ib, **kw) for ib in nb)
    BB = sum(chk.get_AABB_q_ib(bk, data.mmn, ib=ib, eig=data.eig, **kw) for ib in nb)
    CC = sum(chk.get_CCOOGG_ib(bk, data.uhu, ib1=i1, ib2=i2, antisym=True, **kw) for i1 in nb for i2 in nb)
    q_to_R = system.rvec.q_to_R
    return (np.array(q_to_R(AA)).transpose(0, 3, 1, 2).copy(), np.array(q_to_R(BB)).transpose(0, 3, 1, 2).copy(),
            _antisymmetric_C(np.array(q_to_R(CC))))


def _ensure_origin(R, *blocks):
    """Append R = 0 (with zero blocks) when a model lacks it; returns R and the blocks (None stays None)."""
    if np.any(np.all(R == 0, axis=1)):
        return (R, *blocks)
    pad = lambda X: None if X is None else np.concatenate([X, np.zeros_like(X[:1])])  # noqa: E731
    return (np.concatenate([R, [[0, 0, 0]]]), *(pad(X) for X in blocks))


def fft_workers():
    """FFT threads: ``WKIN_FFT_WORKERS`` if set, else 1 under MPI, else the CPUs this process may use."""
    if "WKIN_FFT_WORKERS" in os.environ:
        return max(1, int(os.environ["WKIN_FFT_WORKERS"]))
    if parallel.size() > 1:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def fft_block(shape, budget_points=4096):
    """Largest per-axis divisors (n1, n2, n3) of ``shape`` with n1·n2·n3 ≤ budget_points."""
    best = (1, 1, 1)
    divs = [[d for d in range(1, n + 1) if n % d == 0] for n in shape]
    for a in divs[0]:
        for b in divs[1]:
            for c in divs[2]:
                if a * b * c <= budget_points and a * b * c > np.prod(best):
                    best = (a, b, c)
    return best
