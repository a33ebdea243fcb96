r"""The registry of quantities: one entry per name, the only place that lists them.

Each :class:`Quantity` says what a name in ``[calculate] quantities`` is: its family (how it is
computed), tensor kind (how symmetry constrains it), units and axes, its HDF5 datasets, the
configuration sections it needs, the model capabilities it requires, where it is documented, and
the function that computes it. Configuration checks (:mod:`wkin.config`), the run plan
(:mod:`wkin.plan`), symmetry verification, HDF5 writing (:mod:`wkin.io.results`) and the printed
summary read from here.

Families:

- ``fermi_sea``, ``fermi_surface``, ``frequency``: Brillouin-zone integrals of a band integrand
  (:class:`wkin.kspace.integrate.Observable`, built from the run settings by ``observable``);
  ``frequency`` ones are Fermi-sea integrals with a frequency axis (``[calculate] frequencies``).
- ``kinetic``: computed on the Fermi shells of the run (:mod:`wkin.kinetic.shells`), which every
  kinetic quantity shares; ``shell`` gives one shell's contribution (``shell(shell, ctx)``, ctx: the
  run's kinetic context, :class:`wkin.plan.KineticContext`), ``combine`` turns the contributions of all
  Fermi energies into the stored datasets.

Adding a quantity: one entry here, one formula function (``response/``), one test, one section
in ``docs/outputs.md`` (``docs/architecture.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import ConfigError
from .kspace.fermi_surface import FermiSurfaceError
from .kspace.integrate import Observable
from .response import boltzmann, extrinsic, gyrotropic, intrinsic, optical_activity, spin_hall
from .settings import CalculateSettings
from .symmetry import CONDUCTIVITY as CONDUCTIVITY_KIND
from .units import CONDUCTIVITY, S_PER_M_IN_S_PER_CM

FAMILIES = ("fermi_sea", "fermi_surface", "frequency", "kinetic")
#: the integration kind of each Brillouin-zone family
_OCCUPATION = {"fermi_sea": "sea", "fermi_surface": "surface", "frequency": "sea"}
_CART2 = ("cartesian", "cartesian")
_PIECE_AXES = ("cartesian (response)", "cartesian (field)")


@dataclass(frozen=True)
class Dataset:
    """One HDF5 dataset of a quantity's group: its units and the names of its axes — after a leading
    ``fermi_energy`` axis when ``per_energy`` (else all axes are in ``axes``: Fermi-surface states,
    frequencies); ``tensor``: a dataset in the quantity's unit is a tensor of its kind unless this is False."""

    units: str
    axes: tuple = _CART2
    per_energy: bool = True
    tensor: bool = True  # False: a derived scalar in the quantity's unit (not projected by symmetry)

    @property
    def axes_text(self):
        """The ``axes`` attribute: comma-separated axis names."""
        return ", ".join((("fermi_energy",) if self.per_energy else ()) + self.axes)


@dataclass(frozen=True)
class Quantity:
    """A registry entry (module docstring).

    ``datasets``: name → :class:`Dataset` of the HDF5 group (the ``summary`` ones are printed);
    ``needs``: configuration sections ("disorder", "torque", "frequencies"); ``requires``: model
    capabilities ("spin", "full_orbital"); ``sea_inputs``: Fermi-sea quantities a kinetic one adds as
    its ``intrinsic`` piece (computed with it); ``shell_observables``/``interband``: what its Fermi
    shells carry; ``zero_temperature``: defined at T = 0 only; ``smeared``: its per-Fermi-energy function
    with the smeared-δ fallback quadrature (``[disorder] quadrature = "smeared"``), None if it has none;
    ``constant_tau``: a kinetic quantity defined with the relaxation-time model too (``[disorder] model =
    "constant_tau"``); ``report(datasets, mu, rows)``: extra lines of the printed summary; ``doc``: the anchor in docs/outputs.md. Kinetic quantities also store ``fermi_surface_empty``
    (n_mu,): True where a Fermi energy has no Fermi surface (its values are NaN).
    """

    name: str
    family: str
    tensor_kind: str
    units: str
    description: str
    doc: str
    datasets: dict
    summary: tuple = ("value",)
    needs: tuple = ()
    requires: tuple = ()
    observable: Callable | None = None
    shell: Callable | None = None
    combine: Callable | None = None
    sea_inputs: tuple = ()
    shell_observables: tuple = ()
    interband: bool = False
    zero_temperature: bool = False
    smeared: Callable | None = None
    constant_tau: bool = False
    report: Callable | None = None

    @property
    def kinetic(self) -> bool:
        return self.family == "kinetic"


def _bz(name, family, integrand, prefactor, kind, units, description, shape=(3, 3), axes=_CART2, requires=(),
        energies_only=False, per_volume=True, sea_form=None, derivatives=None):
    """A Brillouin-zone quantity whose Observable does not depend on the settings (``sea_form``, ``derivatives``:
    the exact T = 0 Fermi-sea form of a Fermi-surface quantity, :class:`wkin.kspace.integrate.Observable`)."""
    def observable(settings):
        return Observable(name, _OCCUPATION[family], integrand, shape,
                          prefactor(settings) if callable(prefactor) else prefactor, per_volume=per_volume,
                          tensor_kind=kind, energies_only=energies_only, requires=requires, sea_form=sea_form,
                          derivatives=derivatives)
    return Quantity(name, family, kind, units, description, f"outputs.md#{name}",
                    {"value": Dataset(units, axes)}, requires=requires, observable=observable)


def _stack(per_mu, scale=1.0):
    """Weighted sum over the shells of each Fermi energy: {piece: (n_mu, ...)} (``scale`` × each tensor piece).

    ``per_mu[i]``: list of (weight, {piece: value}); None where the Fermi surface is empty at T = 0
    (NaN there); an empty list where every shell of a T > 0 sum is empty (zero there).
    """
    template = next((r for shells in per_mu if shells for _, r in shells), None)
    if template is None:
        raise FermiSurfaceError("no Fermi surface at any of the Fermi energies (all in gaps or outside the bands)")
    out = {}
    for piece in template:
        arr = np.zeros((len(per_mu),) + np.shape(template[piece]), np.result_type(np.asarray(template[piece]), float))
        for i, shells in enumerate(per_mu):
            arr[i] = np.nan if shells is None else sum((w * np.asarray(r[piece]) for w, r in shells), arr[i])
        out[piece] = arr if piece == "tau_average" else scale * arr
    return out


def _combine_conductivity(per_mu, ctx):
    return _stack(per_mu, S_PER_M_IN_S_PER_CM)


def _combine_states(per_mu, ctx):
    """Fermi-surface states of all Fermi energies concatenated; states of mu_i are rows offsets[i]:offsets[i+1]."""
    rows = [shells[0][1] if shells else None for shells in per_mu]
    names = ("k", "band", "weight", "rate", "mean_free_path")
    empty = {"k": np.zeros((0, 3)), "band": np.zeros(0, int), "weight": np.zeros(0), "rate": np.zeros(0),
             "mean_free_path": np.zeros((0, 3))}
    out = {n: np.concatenate([empty[n] if r is None else r[n] for r in rows]) for n in names}
    out["offsets"] = np.cumsum([0] + [0 if r is None else len(r["k"]) for r in rows])
    out["mu"] = np.asarray(ctx.mu, float)
    return out


def _pieces(observable, names, transform=None):
    """One shell's extrinsic pieces of a band observable (:func:`wkin.response.extrinsic.pieces_on`) under their
    public names (``names``: internal → public; others keep theirs), optionally transformed (torque)."""
    def shell(sh, ctx):
        raw = extrinsic.pieces_on(sh, ctx)[observable]
        return {names.get(p, p): v if transform is None else transform(v, ctx) for p, v in raw.items()}
    return shell


def _combine_pieces(main, sea, scale=1.0, intrinsic=lambda x, ctx: x):
    """Stack the shell pieces (times ``scale``), add the Fermi-sea quantity ``sea`` of the run as the
    ``intrinsic`` piece (through ``intrinsic(value, ctx)``) and ``total`` = the sum of the ``main`` pieces
    (the skew halves and ``omitted_term`` are diagnostics)."""
    def combine(per_mu, ctx):
        out = {p: scale * v for p, v in _stack(per_mu).items()}
        out["intrinsic"] = np.asarray(intrinsic(ctx.sea[sea], ctx))
        out["total"] = sum(out[p] for p in main)
        return out
    return combine


def _torque_of(spin, ctx):
    return extrinsic.spin_orbit_torque(spin, ctx.torque.exchange, ctx.torque.axis)


def _torque_piece(spin, ctx):
    return _torque_of(spin[None], ctx)[0]


def _gyrotropic_stack(per_mu, ctx):
    """The pieces of g (n_mu, n_ω, 3, 3) in S with their ``total``, the photon energies and the smallest band
    splitting on each Fermi surface (a warning where ħω reaches it)."""
    out = _stack([None if shells is None else [(w, gyrotropic.gyrotropic_on_pieces(r)) for w, r in shells]
                  for shells in per_mu])
    out["total"] = sum(x for p, x in out.items() if p in gyrotropic.PIECES or p == "intrinsic_spin")
    out["minimum_splitting"] = np.array([np.nan if shells is None else min(r["minimum_splitting"] for _, r in shells)
                                         for shells in per_mu])
    gyrotropic.check_frequencies(ctx.frequencies, out["minimum_splitting"], ctx.mu)
    return out


def _combine_gyrotropic(per_mu, ctx):
    out = _gyrotropic_stack(per_mu, ctx)
    out["frequency"] = np.asarray(ctx.frequencies)
    return out


def _combine_optical_rotation(per_mu, ctx):
    """The intraband rotatory power of g; with ``noa_orb`` in the run also its interband part and the sum."""
    g = _gyrotropic_stack(per_mu, ctx)["total"]
    f = np.asarray(ctx.frequencies)
    z = (0.0, 0.0, 1.0)
    out = {"tensor": gyrotropic.rotatory_power_tensor(gyrotropic.symmetric(g), f[:, None, None]),
           "optic_axis": gyrotropic.rotatory_power(g, f, z), "circular_dichroism": gyrotropic.circular_dichroism(g, f, z),
           "polycrystal": gyrotropic.polycrystal_rotatory_power(g, f), "frequency": f}
    if "noa_orb" in ctx.sea:
        inter = gyrotropic.interband_rotatory_power_tensor(ctx.sea["noa_orb"], f[:, None, None])
        out.update({"interband": inter, "total": out["tensor"] + inter, "optic_axis_interband": inter[..., 2, 2],
                    "optic_axis_total": out["optic_axis"] + inter[..., 2, 2]})
    return out


def _combine_kme(per_mu, ctx):
    g = _gyrotropic_stack(per_mu, ctx)
    out = {"susceptibility": gyrotropic.kme_susceptibility(g["total"]),
           "intrinsic": gyrotropic.kme_susceptibility(g["intrinsic"]),
           "magnetization_per_field": gyrotropic.magnetization_per_field(g["total"]),
           "frequency": np.asarray(ctx.frequencies)}
    if ctx.electric_field is not None:
        out["mu0_magnetization"] = gyrotropic.magnetization(g["total"], ctx.electric_field)
    return out


_FREQ_AXES = ("frequency", "cartesian", "cartesian")
_FREQUENCY = Dataset("eV", ("frequency",), per_energy=False)
_SPLITTING = Dataset("eV", ())


_HALL_NAMES = {"extrinsic": "extrinsic_velocity", "skew_sheet": "skew_fermi_sheet"}
_SPIN_NAMES = {"drude": "edelstein", "skew_sheet": "skew_fermi_sheet"}
_HALL_MAIN = ("drude", "intrinsic", "extrinsic_velocity", "side_jump", "skew", "skew_third_order")
_SPIN_MAIN = ("edelstein", "intrinsic", "extrinsic", "side_jump", "skew", "skew_third_order")


#: per Fermi energy: True where the Fermi surface is empty (the kinetic values there are NaN)
EMPTY_FLAG = Dataset("", ())

_HALL_PIECES = {p: Dataset(CONDUCTIVITY, _PIECE_AXES) for p in
                ("drude", "intrinsic", "extrinsic_velocity", "side_jump", "skew", "skew_third_order", "total",
                 "skew_fermi_sheet", "skew_companion", "omitted_term")}
_SPIN_PIECES = ("edelstein", "intrinsic", "extrinsic", "side_jump", "skew", "skew_third_order", "total",
                "skew_fermi_sheet", "skew_companion", "omitted_term")

_ENTRIES = (
    _bz("ahc", "fermi_sea", intrinsic.hall_curvature, intrinsic.AHC_PREFACTOR, "polar2_odd", CONDUCTIVITY,
        "anomalous Hall conductivity sigma_ab = j_a/E_b (Fermi sea, intrinsic)"),
    _bz("ohmic", "fermi_surface", intrinsic.velocity_velocity, lambda s: intrinsic.ohmic_prefactor(s.tau),
        "polar2_even", CONDUCTIVITY, "Ohmic conductivity sigma_ab with constant relaxation time tau",
        sea_form=intrinsic.inverse_mass, derivatives=()),
    _bz("berry_dipole", "fermi_surface", intrinsic.velocity_curvature, 1.0, "axial2_even", "dimensionless",
        "Berry-curvature dipole D_ab = int f d_a Omega_b", sea_form=intrinsic.curvature_derivative,
        derivatives=("A", "Obar")),
    _bz("gme_orb", "fermi_surface", intrinsic.velocity_orbital_moment, intrinsic.GME_ORB_PREFACTOR, "axial2_even",
        "A", "gyrotropic magnetoelectric tensor K_ab, orbital part", sea_form=intrinsic.orbital_moment_derivative,
        derivatives=("A", "Obar")),
    _bz("gme_orb_full", "fermi_surface", intrinsic.velocity_orbital_moment_full, intrinsic.GME_ORB_PREFACTOR,
        "axial2_even", "A", "gyrotropic magnetoelectric tensor K_ab, orbital part with the complete orbital moment "
        "(needs B(R), C(R): [model] orbital = true)", requires=("full_orbital",)),
    _bz("gme_spin", "fermi_surface", intrinsic.velocity_spin, intrinsic.GME_SPIN_PREFACTOR, "axial2_even", "A",
        "gyrotropic magnetoelectric tensor K_ab, spin part (g_s = 2.0023)", requires=("spin",),
        sea_form=intrinsic.spin_derivative, derivatives=("S",)),
    _bz("spin_intrinsic", "fermi_sea", intrinsic.spin_connection_commutator, intrinsic.SPIN_INTRINSIC_PREFACTOR,
        "axial2_odd", "1/(V*m^2)", "intrinsic (Fermi-sea) spin density <sigma_a> per unit field E_b, "
        "spec seed-000 Eq. (57); multiply by hbar/2 for angular momentum", requires=("spin",)),
    _bz("dos", "fermi_surface", intrinsic.ones, 1.0, "polar0_even", "1/(eV*cell)",
        "density of states of the Wannier bands per unit cell", shape=(), axes=(), energies_only=True,
        per_volume=False),
    _bz("electrons", "fermi_sea", intrinsic.ones, 1.0, "polar0_even", "1/cell",
        "number of electrons in the Wannier bands below mu, per unit cell", shape=(), axes=(), energies_only=True,
        per_volume=False),
    Quantity("shc", "fermi_sea", "axial3_even", "(hbar/e)*S/cm",
             "intrinsic spin Hall conductivity sigma^c_ab = j^{s_c}_a / E_b (Kubo, Fermi sea; Qiao et al. PRB 98, "
             "214402 (2018) Eqs. 3-5), spin current 1/2{sigma_c, v_a} in the Wannier subspace",
             "outputs.md#shc",
             {"value": Dataset("(hbar/e)*S/cm", ("cartesian a (spin current)", "cartesian b (field)",
                                                 "cartesian c (spin)"))},
             requires=("spin",), observable=lambda s: spin_hall.spin_hall_observable("shc")),
    Quantity("noa_orb", "frequency", "axial2_even", "m",
             "natural optical activity, interband orbital gamma_{ab c}(omega) (TAS17 Eq. C12, postw90 -noa), "
             "dual form value[mu, omega, d, c] with gamma_abc = eps_abd gamma_dc", "outputs.md#noa_orb",
             {"value": Dataset("m", ("frequency", "cartesian", "cartesian")),
              "frequency": Dataset("eV", ("frequency",), per_energy=False)},
             needs=("frequencies",),
             observable=lambda s: optical_activity.noa_orb(s.frequencies, s.eta, covariant=True, name="noa_orb")),
    Quantity("conductivity_boltzmann", "kinetic", "polar2_even", CONDUCTIVITY,
             "Drude conductivity sigma_ab = j_a/E_b from the exact linearized Boltzmann equation with the Born "
             "kernel of scalar Gaussian disorder", "outputs.md#conductivity_boltzmann",
             {"value": Dataset(CONDUCTIVITY), "rta": Dataset(CONDUCTIVITY), "constant_tau": Dataset(CONDUCTIVITY),
              "tau_average": Dataset("s", ()), "fermi_surface_empty": EMPTY_FLAG},
             summary=("value", "rta", "constant_tau"), needs=("disorder",),
             shell=boltzmann.conductivity_pieces, combine=_combine_conductivity, shell_observables=("velocity",),
             smeared=boltzmann.smeared_pieces, constant_tau=True),
    Quantity("scattering_rate", "kinetic", "polar0_even", "1/s",
             "out-scattering rate 1/tau of each Fermi-surface state (Born, T = 0)", "outputs.md#scattering_rate",
             {"k": Dataset("reduced", ("state", "reduced"), False), "band": Dataset("", ("state",), False),
              "weight": Dataset("1/(eV*Angstrom^3)", ("state",), False), "rate": Dataset("1/s", ("state",), False),
              "mean_free_path": Dataset("m", ("state", "cartesian"), False),
              "offsets": Dataset("", ("fermi_energy + 1",), False), "mu": Dataset("eV", ("fermi_energy",), False),
              "fermi_surface_empty": EMPTY_FLAG},
             summary=(), needs=("disorder",), shell=boltzmann.scattering_states, combine=_combine_states,
             shell_observables=("velocity",), zero_temperature=True),
    Quantity("ahe_extrinsic", "kinetic", CONDUCTIVITY_KIND, CONDUCTIVITY,
             "conductivity sigma_ab = j_a/E_b split into Drude, intrinsic (Fermi sea), extrinsic velocity, side jump "
             "and skew (Fermi sheet + companion shells); T = 0", "outputs.md#ahe_extrinsic",
             {**_HALL_PIECES, "fermi_surface_empty": EMPTY_FLAG},
             summary=("drude", "intrinsic", "extrinsic_velocity", "side_jump", "skew", "total"), needs=("disorder",),
             shell=_pieces("velocity", _HALL_NAMES), combine=_combine_pieces(_HALL_MAIN, "ahc", S_PER_M_IN_S_PER_CM),
             sea_inputs=("ahc",), shell_observables=("velocity",), interband=True, zero_temperature=True),
    Quantity("spin_density", "kinetic", "axial2", "1/(V*m^2)",
             "spin density <sigma_a> per unit field E_b (Pauli spin per volume; x hbar/2 for angular momentum) split "
             "into Edelstein, intrinsic, extrinsic, side jump, skew", "outputs.md#spin_density",
             {**{p: Dataset("1/(V*m^2)", _PIECE_AXES) for p in _SPIN_PIECES}, "fermi_surface_empty": EMPTY_FLAG},
             summary=("edelstein", "intrinsic", "total"), needs=("disorder",), requires=("spin",),
             shell=_pieces("spin", _SPIN_NAMES), combine=_combine_pieces(_SPIN_MAIN, "spin_intrinsic"),
             sea_inputs=("spin_intrinsic",),
             shell_observables=("velocity", "spin"), interband=True, zero_temperature=True),
    Quantity("spin_orbit_torque", "kinetic", "axial2", "C/m^2",
             "torque density tau_a per unit field E_b, tau = Delta m x <sigma> (J/m^3 per V/m)",
             "outputs.md#spin_orbit_torque",
             {**{p: Dataset("C/m^2", _PIECE_AXES) for p in _SPIN_PIECES}, "fermi_surface_empty": EMPTY_FLAG},
             summary=("edelstein", "intrinsic", "total"), needs=("disorder", "torque"), requires=("spin",),
             shell=_pieces("spin", _SPIN_NAMES, _torque_piece),
             combine=_combine_pieces(_SPIN_MAIN, "spin_intrinsic", intrinsic=_torque_of),
             sea_inputs=("spin_intrinsic",),
             shell_observables=("velocity", "spin"), interband=True, zero_temperature=True),
    Quantity("gyrotropic", "kinetic", "axial2_even", "S",
             "gyrotropic tensor g_ab(omega) of the q-linear conductivity, lambda_abc = eps_abd g_dc (S), split into the "
             "intrinsic orbital moment and the skew-scattering and side-jump kinetic moments (seed-002 §2.7, full "
             "collision kernel)", "outputs.md#gyrotropic",
             {**{p: Dataset("S", _FREQ_AXES) for p in (*gyrotropic.PIECES, "intrinsic_spin", "total")},
              "frequency": _FREQUENCY,
              "minimum_splitting": _SPLITTING, "fermi_surface_empty": EMPTY_FLAG},
             summary=("intrinsic", "skew", "side_jump", "total"), needs=("disorder", "frequencies"),
             shell=gyrotropic.gyrotropic_on, combine=_combine_gyrotropic,
             shell_observables=("velocity", "orbital_moment"), interband=True, constant_tau=True,
             report=gyrotropic.mechanism_table),
    Quantity("optical_rotation", "kinetic", "axial2_even", "rad/mm",
             "natural optical activity of the intraband (kinetic) gyrotropic tensor: rotatory power "
             "rho = mu0 omega n.g.n / 2 (rad/mm, complex: Im the ellipticity), circular dichroism and polycrystal "
             "average", "outputs.md#optical_rotation",
             {"tensor": Dataset("rad/mm", _FREQ_AXES), "interband": Dataset("rad/mm", _FREQ_AXES),
              "total": Dataset("rad/mm", _FREQ_AXES),
              "optic_axis": Dataset("rad/mm", ("frequency",), tensor=False),
              "optic_axis_interband": Dataset("rad/mm", ("frequency",), tensor=False),
              "optic_axis_total": Dataset("rad/mm", ("frequency",), tensor=False),
              "circular_dichroism": Dataset("1/mm", ("frequency",)),
              "polycrystal": Dataset("rad/mm", ("frequency",), tensor=False),
              "frequency": _FREQUENCY, "fermi_surface_empty": EMPTY_FLAG},
             summary=("tensor",), needs=("disorder", "frequencies"), shell=gyrotropic.gyrotropic_on,
             combine=_combine_optical_rotation, shell_observables=("velocity", "orbital_moment"), interband=True,
             constant_tau=True),
    Quantity("kme", "kinetic", "axial2_even", "S",
             "kinetic magnetoelectric effect (current-induced magnetization): chi^me = g - 1 Tr g / 2 (S), "
             "M = -i chi^me E", "outputs.md#kme",
             {"susceptibility": Dataset("S", _FREQ_AXES), "intrinsic": Dataset("S", _FREQ_AXES),
              "magnetization_per_field": Dataset("T*m/V", _FREQ_AXES),
              "mu0_magnetization": Dataset("T", ("frequency", "cartesian")), "frequency": _FREQUENCY,
              "fermi_surface_empty": EMPTY_FLAG},
             summary=("susceptibility",), needs=("disorder", "frequencies"), shell=gyrotropic.gyrotropic_on,
             combine=_combine_kme, shell_observables=("velocity", "orbital_moment"), interband=True,
             constant_tau=True, report=gyrotropic.magnetization_table),
)

#: name → :class:`Quantity`
QUANTITIES = {q.name: q for q in _ENTRIES}


def get(name) -> Quantity:
    """The registry entry of ``name``; :class:`wkin.errors.ConfigError` for an unknown name."""
    try:
        return QUANTITIES[name]
    except KeyError:
        raise ConfigError(f"[calculate] quantities: unknown quantity {name!r} "
                          f"(available: {', '.join(QUANTITIES)})") from None


def observables(names, settings: CalculateSettings | None = None, **kwargs):
    """The :class:`wkin.kspace.integrate.Observable` s of Brillouin-zone quantities.

    ``settings``: the ``[calculate]`` section (τ, frequencies, eta); or give its keys as keyword
    arguments (``observables(["ohmic"], tau=10.0)``).
    """
    if settings is None:
        settings = CalculateSettings(quantities=tuple(names), **kwargs)
    out = []
    for name in names:
        q = get(name)
        if q.observable is None:
            raise ConfigError(f"{name}: a kinetic quantity, computed on Fermi shells, not a Brillouin-zone integral")
        out.append(q.observable(settings))
    return out
