r"""Analytic lattice models with closed-form results, for tests and examples.

Every function returns a :class:`~wkin.model.TightBindingModel` built in the
package conventions: lattice rows in Å, energies in eV, reduced lattice
vectors ``R`` and

.. math::

    H(\mathbf k)=\sum_{\mathbf R}e^{i\mathbf k\cdot\mathbf R}H_{\mathbf R}

(the periodic, "convention II" Bloch gauge: the phases carry the lattice
vector only, not the orbital centres). Orbital centres are given
(``centres``) so that Berry curvatures and orbital moments are those of the
physical (convention I) Bloch states. When the basis is spin (the Pauli
matrices σ act on the electron spin), ``S_R`` holds the Pauli matrices on site
(R = 0), so that ``wkin.bands`` spin expectation values and ``gme_spin`` work.

Two-dimensional models live in 3D: the third lattice vector is
:math:`c\,\hat z` with ``c`` = 1 Å by default and there is no hopping along
z. Integrate them on ``grid=[N, N, 1]``. The 3D conductivities that
:func:`wkin.kspace.integrate.integrate` returns (S/cm) are then the sheet values
divided by c, i.e. :math:`\sigma^{2D}[{\rm S}]=\sigma[{\rm S/cm}]\times c[{\rm Å}]\times10^{-8}`;
in units of :math:`e^2/h`, :math:`\sigma^{2D}=-C` for a Chern number C of the
filled bands (:math:`\sigma_{xy}=-(e^2/\hbar)\int f\Omega_z`, charge −e).

Lengths: ``a`` is the in-plane lattice constant (Å). In the formulas below
"k_x a" means the Cartesian wavevector (Å⁻¹) times a.
"""

from __future__ import annotations

import numpy as np

from .tight_binding import TightBindingModel

#: Pauli matrices σ_x, σ_y, σ_z
PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)
SIGMA0 = np.eye(2, dtype=complex)
SX, SY, SZ = PAULI


class _Hoppings:
    """Accumulates ⟨0i|H|Rj⟩ blocks keyed by the reduced lattice vector R."""

    def __init__(self, nw):
        self.nw = nw
        self.blocks = {}

    def add(self, R, block):
        R = tuple(int(x) for x in R)
        self.blocks.setdefault(R, np.zeros((self.nw, self.nw), complex))
        self.blocks[R] += block

    def add_hermitian(self, R, block):
        """Add ``block`` at R and its Hermitian conjugate at −R (one bond, both directions)."""
        self.add(R, block)
        self.add(tuple(-x for x in R), np.asarray(block).conj().T)

    def add_cos(self, axis, amp, ndim=3):
        r""":math:`amp\cos(\mathbf k\cdot\mathbf a_{axis})` (amp a matrix)."""
        R = np.zeros(ndim, int)
        R[axis] = 1
        self.add(R, 0.5 * amp)
        self.add(-R, 0.5 * amp)

    def add_sin(self, axis, amp, ndim=3):
        r""":math:`amp\sin(\mathbf k\cdot\mathbf a_{axis})` (amp a matrix)."""
        R = np.zeros(ndim, int)
        R[axis] = 1
        self.add(R, amp / 2j)
        self.add(-R, -amp / 2j)

    def arrays(self):
        keys = sorted(self.blocks)
        if (0, 0, 0) not in self.blocks:
            keys.append((0, 0, 0))
            self.blocks[(0, 0, 0)] = np.zeros((self.nw, self.nw), complex)
        return np.array(keys, int), np.array([self.blocks[k] for k in keys])


def _spin_R(R):
    """S_R for a single spin-1/2 site: Pauli matrices at R = 0, zero elsewhere."""
    S_R = np.zeros((len(R), 3, 2, 2), complex)
    S_R[np.flatnonzero(np.all(R == 0, axis=1))[0]] = PAULI
    return S_R


def _square(a, c):
    return np.diag([float(a), float(a), float(c)])


def massive_dirac(t=1.0, a=1.0, B=0.2, M=0.05, c=1.0):
    r"""Lattice-regularised massive 2D Dirac fermion (magnetic TI surface; spec §4.1, §4.4).

    Square lattice (constant ``a`` Å), one spin-1/2 site per cell at the origin,
    :math:`\mathbf s=\boldsymbol\sigma` (``S_R`` = Pauli matrices at R = 0):

    .. math::

        H(\mathbf k)=t(\sin k_xa\,\sigma_y-\sin k_ya\,\sigma_x)
            +[M+B(2-\cos k_xa-\cos k_ya)]\sigma_z
        \;=\;\mathbf d(\mathbf k)\cdot\boldsymbol\sigma .

    Near Γ it is :math:`\hbar v_F(k_x\sigma_y-k_y\sigma_x)+M\sigma_z` with
    :math:`\hbar v_F=ta` (eV·Å), plus the regulator :math:`Bk^2a^2/2`.

    Closed forms:

    - bands :math:`\pm|\mathbf d(\mathbf k)|`; gap :math:`2|M|` at Γ; the other
      Dirac points (X, Y, M) have masses :math:`M+2B, M+2B, M+4B`;
    - upper-band Berry curvature
      :math:`\Omega^+_z=-\tfrac12\hat{\mathbf d}\cdot(\partial_{k_x}\hat{\mathbf d}\times\partial_{k_y}\hat{\mathbf d})`,
      which near Γ is the continuum :math:`\Omega^\pm=\mp M\hbar^2v_F^2/(2\lambda^3)`,
      :math:`\lambda=\sqrt{\hbar^2v_F^2k^2+M^2}` (spec Eq. 73);
    - Chern number :math:`C=\frac1{2\pi}\int\Omega_z` of the lower band (t, B > 0): 0 for
      M > 0 and −1 for −2B < M < 0, so :math:`\sigma_{xy}^{2D}({\rm gap})=-Ce^2/h` = 0 or +e²/h;
    - intrinsic AHC with the Fermi level in the conduction band near its edge
      (:math:`\xi_F=M/\epsilon_F`): :math:`|\sigma^{int}(\epsilon_F)-\sigma^{int}({\rm gap})|
      =\frac{e^2}{2h}(1-\xi_F)` up to lattice corrections; the leading one replaces
      M by the mass on the Fermi line, :math:`M+Bk_F^2a^2/2`, with
      :math:`\epsilon_F^2=t^2k_F^2a^2+(M+Bk_F^2a^2/2)^2`. Exactly (solid angle swept
      by :math:`\hat{\mathbf d}`), in units of e²/h,
      :math:`\sigma_{xy}(\epsilon_F)-\sigma_{xy}({\rm gap})=\tfrac12\mathrm{sgn}M-\frac1{4\pi}\oint
      \frac{d_z}{\epsilon_F}\,d\varphi_{\mathbf d}` along the Fermi line (φ_d the azimuth of
      d). The continuum's :math:`\xi_F/2` itself is **not** a lattice result
      (spec §4.4). Spec example t = 1, a = 1, B = 0.2, ε_F = 0.2: σ_xy = 0.3657
      (M = 0.05) and 0.6155 (M = −0.05, gap value +1);
    - DOS of one band near the edge: :math:`|\epsilon|/(2\pi\hbar^2v_F^2)` per unit
      area, i.e. :math:`|\epsilon|/(2\pi t^2)` per cell.

    2D model: third lattice vector ``c`` ẑ (Å), no hopping along z.
    """
    h = _Hoppings(2)
    h.add((0, 0, 0), (M + 2 * B) * SZ)
    for axis in (0, 1):
        h.add_cos(axis, -B * SZ)
    h.add_sin(0, t * SY)
    h.add_sin(1, -t * SX)
    R, H_R = h.arrays()
    return TightBindingModel(_square(a, c), R, H_R, S_R=_spin_R(R), centres=np.zeros((2, 3)),
                             name="massive_dirac")


def haldane(t1=1.0, t2=0.1, phi=np.pi / 2, M=0.0, a=1.0, c=1.0):
    r"""Haldane model on the honeycomb lattice (spinless, two orbitals A, B).

    Bravais vectors :math:`\mathbf a_1=a(1,0,0)`, :math:`\mathbf a_2=a(\tfrac12,\tfrac{\sqrt3}{2},0)`,
    :math:`\mathbf a_3=c\hat z`; site A at :math:`(\mathbf a_1+\mathbf a_2)/3`, site B at
    :math:`2(\mathbf a_1+\mathbf a_2)/3` (nearest-neighbour distance :math:`a/\sqrt3`).
    Hoppings: ``t1`` between nearest neighbours; ``t2 e^{±iφ}`` between second
    neighbours, :math:`\langle 0A|H|\mathbf R A\rangle=t_2e^{+i\phi}` and
    :math:`\langle 0B|H|\mathbf R B\rangle=t_2e^{-i\phi}` for
    :math:`\mathbf R\in\{\mathbf a_1,\ \mathbf a_2-\mathbf a_1,\ -\mathbf a_2\}`
    (conjugates for −R); on-site ±M on A/B. In the periodic gauge, with
    :math:`\kappa_i=\mathbf k\cdot\mathbf a_i` and
    :math:`\mathbf b_j\in\{\mathbf a_1,\mathbf a_2-\mathbf a_1,-\mathbf a_2\}`:

    .. math::

        H(\mathbf k)=2t_2\cos\phi\sum_j\cos(\mathbf k\cdot\mathbf b_j)\,\sigma_0
          +\Big[M-2t_2\sin\phi\sum_j\sin(\mathbf k\cdot\mathbf b_j)\Big]\sigma_z
          +\begin{pmatrix}0&f(\mathbf k)\\ f^*(\mathbf k)&0\end{pmatrix},\quad
        f=t_1(1+e^{-i\kappa_1}+e^{-i\kappa_2}).

    Closed forms: Dirac points K, K' where f = 0, with masses
    :math:`M\mp3\sqrt3\,t_2\sin\phi`; the lower band is a Chern insulator with
    :math:`|C|=1` for :math:`|M|<3\sqrt3|t_2\sin\phi|` and C = 0 otherwise;
    C is odd in φ. With this hopping orientation the lower band has
    :math:`C=-\mathrm{sgn}(\sin\phi)`, i.e. :math:`\sigma^{2D}_{xy}=+\mathrm{sgn}(\sin\phi)\,e^2/h`
    with the Fermi level in the gap (checked against a Fukui–Hatsugai–Suzuki
    link-variable count in the tests).
    """
    lattice = np.array([[a, 0, 0], [a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]], float)
    h = _Hoppings(2)
    h.add((0, 0, 0), np.diag([M, -M]).astype(complex))
    AB = np.array([[0, 1], [0, 0]], complex)
    for R in ((0, 0, 0), (-1, 0, 0), (0, -1, 0)):  # B(R) - A = (a1+a2)/3 + R: the three nearest neighbours
        h.add_hermitian(R, t1 * AB)
    PA, PB = np.diag([1.0, 0.0]).astype(complex), np.diag([0.0, 1.0]).astype(complex)
    for R in ((1, 0, 0), (-1, 1, 0), (0, -1, 0)):
        h.add_hermitian(R, t2 * (np.exp(1j * phi) * PA + np.exp(-1j * phi) * PB))
    R, H_R = h.arrays()
    centres = np.array([[1 / 3, 1 / 3, 0], [2 / 3, 2 / 3, 0]]) @ lattice
    return TightBindingModel(lattice, R, H_R, centres=centres, name="haldane")


def rashba_exchange(t=1.0, alpha=0.3, J=0.1, a=1.0, c=1.0):
    r"""2D electron gas on a square lattice with Rashba coupling and exchange field.

    One spin-1/2 site per cell (``S_R`` = Pauli matrices):

    .. math::

        H(\mathbf k)=2t(2-\cos k_xa-\cos k_ya)\,\sigma_0
          +\frac{\alpha}{a}(\sin k_ya\,\sigma_x-\sin k_xa\,\sigma_y)+J\sigma_z ,

    ``t`` (eV), ``alpha`` (eV·Å), ``J`` (eV). Near Γ it is the continuum
    :math:`\hbar^2k^2/2m^*+\alpha(k_y\sigma_x-k_x\sigma_y)+J\sigma_z` with
    :math:`\hbar^2/2m^*=ta^2`.

    Closed forms (continuum limit, :math:`A=ta^2`, :math:`q=k^2`):

    - bands :math:`\epsilon_\pm=Aq\pm\sqrt{\alpha^2q+J^2}`; for μ above the upper
      band bottom (+|J|) each band has one Fermi circle, with :math:`q_{1,2}` the roots of
      :math:`A^2q^2-(2A\mu+\alpha^2)q+\mu^2-J^2=0`, and the DOS per unit area is
      :math:`\rho=\frac1{4\pi}\sum_i|d\epsilon/dq|^{-1}_{q_i}` (per cell: ×a²);
      without Rashba and exchange, :math:`\rho=2/(4\pi t)` per cell (two spins); the
      leading square-lattice correction multiplies ρ by :math:`1+\epsilon/(8t)`;
    - the anomalous Hall conductivity is odd in J (time reversal maps J → −J);
    - α = J = 0: two degenerate nearest-neighbour bands, and exactly (any filling,
      any T) :math:`\sigma_{xx}=\frac{e^2\tau}{m^*}\int\frac{d^2k}{(2\pi)^2}\sum_nf\cos k_xa`,
      which is the Drude :math:`ne^2\tau/m^*` at low filling (relative correction
      :math:`-k_F^2a^2/8`).

    2D model: third lattice vector ``c`` ẑ (Å), no hopping along z.
    """
    h = _Hoppings(2)
    h.add((0, 0, 0), 4 * t * SIGMA0 + J * SZ)
    for axis in (0, 1):
        h.add_cos(axis, -2 * t * SIGMA0)
    h.add_sin(1, alpha / a * SX)
    h.add_sin(0, -alpha / a * SY)
    R, H_R = h.arrays()
    return TightBindingModel(_square(a, c), R, H_R, S_R=_spin_R(R), centres=np.zeros((2, 3)),
                             name="rashba_exchange")


def weyl_two_node(t=1.0, m=1.0, k0=np.pi / 2, a=1.0, shift=0.0):
    r"""Minimal time-reversal-broken Weyl semimetal with two nodes (cubic lattice ``a``).

    One spin-1/2 site per cell (σ taken as the electron spin, ``S_R`` = Pauli):

    .. math::

        H(\mathbf k)=t(\sin k_xa\,\sigma_x+\sin k_ya\,\sigma_y)
          +[m(2-\cos k_xa-\cos k_ya)+t(\cos k_za-\cos k_0a)]\sigma_z .

    ``k0`` is given in units of 1/a (i.e. :math:`k_0a`, radians). For m > 0 and
    :math:`2m/t>1+\cos k_0a` the only nodes are at
    :math:`\mathbf k=(0,0,\pm k_0)`. Each :math:`k_z` slice is a 2D lattice Dirac
    model with Γ mass :math:`t(\cos k_za-\cos k_0a)`; the slices with
    :math:`|k_z|>k_0` (through the zone boundary) have Chern number ±1 and the
    others 0. Hence, with μ at the nodes (μ = 0),

    .. math::

        \sigma_{xy}=\mp\frac{e^2}{h}\,\frac{\Delta k_z}{2\pi},\qquad
        \Delta k_z=\frac{2(\pi-k_0a)}{a},

    which for the default :math:`k_0a=\pi/2` equals :math:`2k_0/2\pi`.
    With this sign convention :math:`\sigma_{xy}=+\frac{e^2}{h}\frac{\Delta k_z}{2\pi}`
    for t, m > 0 (checked in the tests).

    ``shift`` (eV) adds :math:`\mathrm{shift}\cdot\sin k_za\,\mathbb 1`, which breaks inversion and moves the
    nodes to the energies :math:`\pm\mathrm{shift}\,\sin k_0a` (a tilt :math:`\mathrm{shift}\cdot a\cos k_0a`
    along z, none at the default :math:`k_0a=\pi/2`): two nodes of opposite chirality at different energies, a
    net gyrotropic tensor.
    """
    h = _Hoppings(2)
    h.add((0, 0, 0), (2 * m - t * np.cos(k0)) * SZ)
    for axis in (0, 1):
        h.add_cos(axis, -m * SZ)
    h.add_cos(2, t * SZ)
    h.add_sin(0, t * SX)
    h.add_sin(1, t * SY)
    if shift:
        h.add_sin(2, shift * np.eye(2))
    R, H_R = h.arrays()
    return TightBindingModel(_square(a, a), R, H_R, S_R=_spin_R(R), centres=np.zeros((2, 3)),
                             name="weyl_two_node")


#: default Te-like structure: a, c (Å) and the Wyckoff 3a parameter x
TE_A, TE_C, TE_X = 4.457, 5.929, 0.2636


def chiral_trigonal(t1=-1.0, t2=-0.3, eps=0.0, a=TE_A, c=TE_C, x=TE_X, handedness=+1):
    r"""Spinless chiral (helical-chain, Te-like) trigonal model, point group D3 (32).

    Hexagonal lattice :math:`\mathbf a_1=a(1,0,0)`,
    :math:`\mathbf a_2=a(-\tfrac12,\tfrac{\sqrt3}{2},0)`, :math:`\mathbf a_3=c\hat z`,
    three s-like orbitals on the Te Wyckoff 3a sites of space group P3₁21
    (No. 152), reduced positions
    :math:`\tau_1=(x,0,\tfrac13),\ \tau_2=(0,x,\tfrac23),\ \tau_3=(-x,-x,0)`,
    which form a helix around the z axis with one turn per c (a 3₁ screw).
    ``handedness=-1`` gives the mirror image (z → −z, P3₂21 (No. 154)).

    Hoppings depend only on the bond: ``t1`` between the two intrachain nearest
    neighbours of every site (distance :math:`\sqrt{3x^2a^2+c^2/9}`, 2.83 Å for
    Te), ``t2`` to the four interchain second neighbours (3.49 Å for Te), and an
    on-site energy ``eps``. Since every hopping is a function of distance only,
    the model has exactly the symmetry of the structure: point group D3 = {E,
    2C₃, 3C₂'} (3₁ screw along z, two-fold axes in the plane), no inversion
    and no mirror, and time reversal (real hoppings). Gyrotropic orbital
    response (kinetic magnetoelectric effect) is allowed with
    :math:`K_{xx}=K_{yy}\ne K_{zz}` and zero off-diagonal elements; it
    changes sign with ``handedness``.

    :math:`H(\mathbf k)_{ij}=\varepsilon\delta_{ij}+\sum_{\mathbf R}t(|\mathbf R+\boldsymbol\tau_j-\boldsymbol\tau_i|)
    e^{i\mathbf k\cdot\mathbf R}`. Closed form for ``t2 = 0`` (isolated helices, one per
    cell, three atoms spaced c/3 along z): the bands do not disperse in-plane and
    :math:`\epsilon_m(\mathbf k)=\varepsilon+2t_1\cos\big((k_zc+2\pi m)/3\big)`,
    m = 0, 1, 2 (the unfolded chain).
    """
    if handedness not in (1, -1):
        raise ValueError("handedness must be +1 or -1")
    lattice = np.array([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]], float)
    tau = np.array([[x, 0, 1 / 3], [0, x, 2 / 3], [-x, -x, 0]], float)
    if handedness == -1:
        tau[:, 2] = -tau[:, 2]
    shells = _neighbour_shells(lattice, tau, 2)
    h = _Hoppings(3)
    h.add((0, 0, 0), eps * np.eye(3))
    for amp, bonds in zip((t1, t2), shells):
        for i, j, R in bonds:
            block = np.zeros((3, 3), complex)
            block[i, j] = amp
            h.add(R, block)
    R, H_R = h.arrays()
    centres = tau @ lattice
    return TightBindingModel(lattice, R, H_R, centres=centres, name="chiral_trigonal",
                             atoms=(tau % 1.0, np.full(3, 52)))


def _neighbour_shells(lattice, tau, nshell, rmax=2, tol=1e-6):
    """The first ``nshell`` distance shells as lists of bonds (i, j, R), each bond in both directions."""
    rng = range(-rmax, rmax + 1)
    bonds = []
    for R in np.array([(i, j, k) for i in rng for j in rng for k in rng]):
        for i in range(len(tau)):
            for j in range(len(tau)):
                d = np.linalg.norm((R + tau[j] - tau[i]) @ lattice)
                if d > tol:
                    bonds.append((d, i, j, tuple(R)))
    dist = np.array([b[0] for b in bonds])
    levels = []
    for d in np.sort(dist):
        if not levels or d - levels[-1] > 1e-4:
            levels.append(d)
        if len(levels) == nshell:
            break
    return [[(i, j, R) for d, i, j, R in bonds if abs(d - lev) <= 1e-4] for lev in levels]
