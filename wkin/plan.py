r"""The run plan: a configuration turned into Brillouin-zone integrals, Fermi shells and solves, then executed.

One driver per family (:mod:`wkin.quantities`):

1. **Brillouin-zone integrals** (``fermi_sea``, ``fermi_surface``, ``frequency``): every requested
   quantity, and the Fermi-sea inputs of the kinetic ones (``ahc`` for ``ahe_extrinsic``), in *one*
   pass of :func:`wkin.kspace.integrate.integrate` (uniform, adaptive, or the irreducible wedge).
2. **Kinetic quantities**: for each Fermi energy (and, at T > 0, each Gauss–Legendre energy of the
   thermal window) one :class:`wkin.kinetic.shells.FermiShell` is built — carrying the union of the
   band observables and interband data the requested quantities need — and every kinetic quantity
   takes its contribution from it before the next shell is built. So the eigen-solves, the collision
   operator with its factorization and each mean free path are computed once per shell and shared
   (the Boltzmann conductivity and the extrinsic Hall pieces use the same :math:`\Lambda=L^{-1}v`).
   A Fermi energy without Fermi surface gives NaN (flagged, with a warning) and the run goes on.

Symmetry: ``[symmetry] mode = "irreducible"`` integrates the Brillouin-zone families on the wedge
(projected with each quantity's tensor kind); kinetic quantities are solved on the full mesh and
projected the same way. ``verify`` stores the forbidden fraction of every tensor dataset.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import parallel
from . import quantities as registry
from .bands import DEGEN_THRESH, band_window
from .errors import ConfigError
from .io.results import write as write_results
from .kinetic.shells import ShellBuilder
from .kspace.fermi_surface import FermiSurfaceError
from .kspace.fermi_surface import sampler as shell_sampler
from .kspace.integrate import integrate
from .progress import Progress
from .response.boltzmann import energy_nodes
from .model.representation import projections_from_win, wannier_representation
from .units import E_CHARGE
from .symmetry import crystal_symmetry, forbidden_fraction, parse_kind, space_group_operations, symmetrize


@dataclass
class KineticContext:
    """What a kinetic quantity's functions get besides a shell (:mod:`wkin.quantities`).

    ``builder``: the run's :class:`wkin.kinetic.shells.ShellBuilder`; ``disorder``/``torque``: the settings
    sections; ``extrinsic_observables``: the observables of the extrinsic pieces ("velocity"[, "spin"]);
    ``sea``: the Fermi-sea values of the run by quantity name; ``mu``, ``temperature`` (K), ``broadening`` (eV),
    ``frequencies`` ħω (eV), ``electric_field`` (V/m), ``spin_moment`` of ``[calculate]``.
    """

    builder: ShellBuilder
    disorder: object
    torque: object
    extrinsic_observables: tuple
    sea: dict
    mu: np.ndarray
    temperature: float
    broadening: float | None
    frequencies: np.ndarray | None = None
    electric_field: np.ndarray | None = None
    spin_moment: bool = False


@dataclass
class QuantityResult:
    """One quantity of a run: its datasets (name → array, in the registry's units), adaptive levels
    ([(nk, value)] of Brillouin-zone integrals), forbidden fractions (verify mode) and group attributes.

    ``result["skew"]`` is a dataset; :attr:`value`, :attr:`units`, :attr:`axes`, :attr:`pieces` describe them.
    """

    quantity: registry.Quantity
    datasets: dict
    levels: list = field(default_factory=list)
    forbidden_fraction: dict = field(default_factory=dict)
    attributes: dict = field(default_factory=dict)

    @property
    def value(self):
        """The ``value`` dataset (n_mu, ...), or None for a quantity stored as pieces (e.g. ``ahe_extrinsic``)."""
        return self.datasets.get("value")

    @property
    def units(self):
        """The unit of the quantity's tensor datasets (docs/outputs.md)."""
        return self.quantity.units

    @property
    def axes(self):
        """{dataset: its axis names, comma-separated}, as the ``axes`` attribute of the HDF5 file."""
        return {name: self.quantity.datasets[name].axes_text for name in self.datasets}

    @property
    def pieces(self):
        """Every dataset by name (the pieces of ``ahe_extrinsic`` / ``spin_density``, or ``value``, ...)."""
        return dict(self.datasets)

    def __getitem__(self, name):
        return self.datasets[name]


@dataclass
class RunResult:
    """Everything a run computed: Fermi energies (eV), {name: QuantityResult} in the requested order,
    k-points of the Brillouin-zone integrals, wall time (s) and root attributes for the output file.

    A mapping: ``result["ahc"]`` is a :class:`QuantityResult`; :meth:`to_hdf5` writes the file of ``wkin run``.
    """

    mu: np.ndarray
    results: dict
    nk_evaluated: int
    wall_time_s: float
    attributes: dict
    n_shells: int = 0  # Fermi shells of the kinetic quantities (Fermi energies × thermal nodes)
    frequencies: np.ndarray | None = None  # ħω (eV) of the frequency-dependent quantities, else None

    def __getitem__(self, name):
        return self.results[name]

    def __iter__(self):
        return iter(self.results)

    def __len__(self):
        return len(self.results)

    def __contains__(self, name):
        return name in self.results

    def keys(self):
        return self.results.keys()

    def items(self):
        return self.results.items()

    def to_hdf5(self, path, config_text="", inputs=None):
        """Write the HDF5 file (docs/outputs.md) on MPI rank 0; returns True when an existing file was replaced."""
        if not parallel.is_root():
            return False
        return write_results(path, self, config_text, inputs or {})


@dataclass
class RunPlan:
    """The steps of a run (module docstring)."""

    model: object
    config: object
    requested: list  # Quantity entries in the order asked for
    integrals: list  # Brillouin-zone quantities integrated (requested + Fermi-sea inputs)
    kinetic: list  # kinetic quantities
    symmetry: object  # CrystalSymmetry or None
    shell_observables: tuple
    interband: bool
    representation: object = None  # WannierRepresentation: kinetic shells on the irreducible wedge, else None

    def describe(self):
        """A few lines on what will be computed."""
        mode = self.config.symmetry.mode
        lines = []
        if self.integrals:
            where = "irreducible wedge" if mode == "irreducible" else "full grid"
            lines.append(f"# Brillouin-zone integrals ({where}): {', '.join(q.name for q in self.integrals)}")
        if self.kinetic:
            n = len(self.config.fermi.energies)
            nodes = "" if self.config.fermi.temperature <= 0 else " x Gauss-Legendre energies"
            data = "with interband data" if self.interband else "energies, velocities and eigenvectors"
            where = "" if self.representation is None else \
                f", eigen-solves on the irreducible wedge unfolded by {len(self.representation.ops.W)} operations"
            lines.append(f"# kinetic quantities on {n} Fermi shell(s){nodes}, built once each ({data}; observables "
                         f"{', '.join(self.shell_observables)}{where}): {', '.join(q.name for q in self.kinetic)}")
        return "\n".join(lines)


def make_plan(config, model) -> RunPlan:
    """Turn a validated configuration and its model into a plan; checks that need the model are made here."""
    lo, hi = band_window(model, tuple(min(int(g), 8) for g in config.mesh.grid))
    mu = config.fermi.energies
    outside = mu[(mu < lo) | (mu > hi)]
    if outside.size:
        raise ConfigError(f"[fermi] energies: {outside[0]:.4f} eV lies outside the Wannier bands "
                          f"[{lo:.4f}, {hi:.4f}] eV")
    requested = [registry.get(name) for name in config.calculate.quantities]
    for q in requested:
        missing = [cap for cap in q.requires if not {"spin": model.has_spin,
                                                     "full_orbital": model.has_full_orbital}[cap]]
        if missing == ["spin"]:
            raise ConfigError(f"{q.name}: needs spin matrices: the model has none ([model] spin = true reads "
                              ".chk/.eig/.spn; or a spinful built-in model)")
        if missing:
            raise ConfigError(f"{q.name}: needs the B(R), C(R) matrices of the complete orbital moment "
                              "([model] orbital = true: .chk, .eig, .mmn, .uHu)")
    kinetic = [q for q in requested if q.kinetic]
    integrals = [q for q in requested if not q.kinetic]
    for name in dict.fromkeys(n for q in kinetic for n in q.sea_inputs):
        if name not in config.calculate.quantities:
            integrals.append(registry.get(name))
    _check_windows(config, integrals)
    sym = None
    if config.symmetry.mode != "off":
        if model.atoms is None:
            raise ConfigError("[symmetry] mode: the model has no atoms (a .win with atoms_frac/atoms_cart is needed)")
        sym = crystal_symmetry(model, config.symmetry.magnetization, config.symmetry.symprec)
    if config.calculate.spin_moment and not model.has_spin and any(ORBITAL in q.shell_observables for q in kinetic):
        raise ConfigError("[calculate] spin_moment: needs spin matrices: the model has none ([model] spin = true reads "
                          ".chk/.eig/.spn; or a spinful built-in model)")
    observables = shell_observables(kinetic, model, config.calculate.spin_moment)
    return RunPlan(model, config, requested, integrals, kinetic, sym, observables, any(q.interband for q in kinetic),
                   _kinetic_representation(config, model, kinetic))


def shell_observables(kinetic, model, spin_moment=False):
    """The band observables the shells of these kinetic quantities carry: the union of their entries', with the
    complete orbital moment in place of the "H and A" one when the model has B(R) and C(R), and the spin with
    ``spin_moment`` (the spin moment of the gyrotropic quantities)."""
    names = dict.fromkeys(o for q in kinetic for o in q.shell_observables)
    if spin_moment and ORBITAL in names:
        names[SPIN] = None
    return tuple(ORBITAL_FULL if o == ORBITAL and model.has_full_orbital else o for o in names)


#: the band observables of the orbital moment ("H and A" form, complete form) and of the spin
ORBITAL, ORBITAL_FULL, SPIN = "orbital_moment", "orbital_moment_full", "spin"


def _check_windows(config, integrals):
    """Fermi-surface quantities computed with a window (``dos``, ``gme_orb_full``; all of them with a temperature or
    a broadening) need a width: a ConfigError naming them before anything is computed when there is none."""
    occ = config.fermi.occupations()
    windowed = [name for name, kind in _surface_forms(config, integrals, occ).items() if kind == "surface"]
    if windowed:
        try:
            occ.surface_width()
        except ValueError as err:
            raise ConfigError(f"{', '.join(windowed)}: {err}") from None


def _surface_forms(config, integrals, occ):
    """{name: "sea" | "surface"}: the form each Fermi-surface quantity of the run takes with ``occ``."""
    return {q.name: q.observable(config.calculate).form(occ)[0] for q in integrals if q.family == "fermi_surface"}


def _kinetic_representation(config, model, kinetic):
    """The representation that unfolds kinetic shells from the irreducible wedge: ``[symmetry] mode =
    "irreducible"`` with a symmetrized Wannier model (``symmetrize_hamiltonian``, so that the images of the wedge
    states are exact eigenstates) and a tetrahedron grid; else None (full-mesh shells, tensors projected)."""
    if (config.symmetry.mode != "irreducible" or not kinetic or model.symmetrization is None
            or model.seedname is None or model.exact_sampler() is not None
            or config.disorder.quadrature == "smeared"):
        return None
    ops = space_group_operations(model, config.symmetry.magnetization, config.symmetry.symprec)
    rep = wannier_representation(model, projections_from_win(model.seedname), ops, config.symmetry.symprec)
    if config.disorder.model == "cell" and not rep.keeps_cells() and parallel.is_root():
        warnings.warn("[disorder] model = \"cell\": the space group moves the Wannier functions of different sites into "
                      "different cells, so one potential per cell is not a symmetric disorder in this crystal and the "
                      "kinetic tensors are projected onto the symmetric form; model = \"atom\" is symmetric "
                      "(docs/disorder.md)", RuntimeWarning, stacklevel=3)
    return rep


def execute(plan: RunPlan) -> RunResult:
    """Run the plan: one Brillouin-zone pass, one set of Fermi shells; results in the registry's units."""
    cfg, model = plan.config, plan.model
    mu = cfg.fermi.energies
    t0 = time.perf_counter()
    values, levels, nk = {}, {}, 0
    observables = {q.name: q.observable(cfg.calculate) for q in plan.integrals}
    if observables:
        occ = cfg.fermi.occupations()
        res = integrate(model, list(observables.values()), occ, cfg.mesh.grid, cfg.mesh.shift,
                        adaptive=cfg.mesh.adaptive, degen_thresh=cfg.degeneracy,
                        symmetry=plan.symmetry if cfg.symmetry.mode == "irreducible" else None)
        values, nk = res.values, res.nk_evaluated
        if len(res.levels) > 1:
            levels = {name: [(n, v[name]) for n, v in res.levels] for name in values}
    kinetic = _kinetic(plan, values) if plan.kinetic else {}
    results = {}
    for q in plan.requested:
        attributes = {}
        if q.kinetic:
            datasets = kinetic[q.name]
        else:
            datasets = {"value": values[q.name]}
            axis = observables[q.name].axis
            if axis is not None:  # an extra axis after the Fermi energy, with its coordinates
                datasets[axis[0]] = np.asarray(axis[1])
        if "torque" in q.needs:
            attributes = {"exchange_eV": cfg.torque.exchange, "axis": np.asarray(cfg.torque.axis)}
        if ORBITAL in q.shell_observables:
            attributes = {**attributes, "orbital_moment": "complete (B, C from .uHu: [model] orbital = true)"
                          if ORBITAL_FULL in plan.shell_observables else "H and A (Wannier bands only)",
                          "spin_moment": cfg.calculate.spin_moment, "carrier_charge_C": -E_CHARGE}
            if cfg.calculate.electric_field is not None:
                attributes["electric_field_V_per_m"] = np.asarray(cfg.calculate.electric_field)
        if plan.symmetry is not None and parse_kind(q.tensor_kind)[0] > 0:
            attributes["allowed_components"] = plan.symmetry.allowed(q.tensor_kind).text
        results[q.name] = QuantityResult(q, datasets, levels.get(q.name, []), attributes=attributes)
    if plan.symmetry is not None:
        for r in results.values():
            _symmetry_pass(r, plan.symmetry, project=cfg.symmetry.mode == "irreducible" and r.quantity.kinetic)
    wall = time.perf_counter() - t0
    shells = sum(len(energy_nodes(m, cfg.fermi.temperature)[0]) for m in mu) if plan.kinetic else 0
    freqs = None
    if any("frequencies" in q.needs for q in plan.requested):
        freqs = np.asarray(cfg.calculate.frequencies, float)
    return RunResult(mu=mu, results=results, nk_evaluated=nk, wall_time_s=wall, attributes=_attributes(plan),
                     n_shells=shells, frequencies=freqs)


def _tensor_datasets(r):
    """Names of the datasets of a result that are tensors of its quantity's kind (n_mu, ..., 3, …, 3)."""
    rank = parse_kind(r.quantity.tensor_kind)[0]
    return [name for name, d in r.quantity.datasets.items()
            if name in r.datasets and d.per_energy and d.units == r.quantity.units and d.tensor and rank > 0
            and np.shape(r.datasets[name])[-rank:] == (3,) * rank]


def _symmetry_pass(r, sym, project):
    """Verify mode: forbidden fraction of each tensor dataset; irreducible mode (kinetic): project them."""
    for name in _tensor_datasets(r):
        if project:
            r.datasets[name] = symmetrize(r.datasets[name], sym, r.quantity.tensor_kind)
        else:
            r.forbidden_fraction[name] = forbidden_fraction(r.datasets[name], sym, r.quantity.tensor_kind)


def _kinetic(plan, sea):
    """The kinetic quantities of a run (:func:`run_kinetic` with the plan's settings)."""
    cfg = plan.config
    return run_kinetic(plan.model, plan.kinetic, cfg.fermi.energies, cfg.disorder, grid=cfg.mesh.grid,
                       shift=cfg.mesh.shift, temperature=cfg.fermi.temperature, broadening=cfg.fermi.broadening,
                       torque=cfg.torque, sea=sea, degen_thresh=cfg.degeneracy, representation=plan.representation,
                       frequencies=cfg.calculate.frequencies, electric_field=cfg.calculate.electric_field,
                       spin_moment=cfg.calculate.spin_moment)


def run_kinetic(model, kinetic, mu, disorder, grid=None, shift=(0.0, 0.0, 0.0), temperature=0.0, broadening=None,
                torque=None, sea=None, degen_thresh=DEGEN_THRESH, representation=None, frequencies=None,
                electric_field=None, spin_moment=False):
    """The kinetic driver: one shell per energy, every kinetic quantity's contribution from it (module doc).

    ``kinetic``: registry entries (or names); ``disorder``: :class:`wkin.settings.DisorderSettings`;
    ``grid``/``shift``: the tetrahedron grid (None for a model with an exact sampler, e.g. a continuum
    model); ``sea``: the Fermi-sea inputs by name, (n_mu, ...) in their units — missing ones are zero;
    ``representation``: a :class:`wkin.model.representation.WannierRepresentation` of a symmetric model: every shell
    is the tetrahedron quadrature of the irreducible wedge unfolded by the group
    (:func:`wkin.kspace.fermi_surface.symmetric_surface`), eigen-solves at the wedge points only;
    ``frequencies``: ħω (eV) of the frequency-dependent ones; ``electric_field`` (V/m) for ``kme``; ``spin_moment``:
    the gyrotropic quantities get the spin moment's piece ``intrinsic_spin`` too.
    Returns {name: {dataset: array}} in the registry's units, as a run stores them.
    """
    kinetic = [registry.get(q) if isinstance(q, str) else q for q in kinetic]
    mu = np.atleast_1d(np.asarray(mu, float))
    observables = shell_observables(kinetic, model, spin_moment)
    operations = None if representation is None else representation.ops
    builder = ShellBuilder(model, disorder.disorder(), shell_sampler(model, grid, shift, operations), observables,
                           interband=any(q.interband for q in kinetic), degen_thresh=degen_thresh,
                           representation=representation)
    inputs = {name: np.zeros((len(mu), 3, 3)) for q in kinetic for name in q.sea_inputs}
    inputs.update(sea or {})
    ctx = KineticContext(builder, disorder, torque, ("velocity", "spin") if "spin" in observables else ("velocity",),
                         inputs, mu, temperature, broadening,
                         None if frequencies is None else np.asarray(frequencies, float),
                         None if electric_field is None else np.asarray(electric_field, float), bool(spin_moment))
    per_mu = {q.name: [] for q in kinetic}
    empty = np.zeros(len(mu), bool)
    nodes = [energy_nodes(m, temperature) for m in mu]
    with Progress("Fermi shells", sum(len(e) for e, _ in nodes)) as bar:
        for i, m in enumerate(mu):
            per_mu_i, empty[i] = _shells_at(m, nodes[i], kinetic, builder, ctx, disorder, temperature, bar)
            for q in kinetic:
                per_mu[q.name].append(per_mu_i[q.name])
    out = {}
    for q in kinetic:
        out[q.name] = q.combine(per_mu[q.name], ctx)
        out[q.name]["fermi_surface_empty"] = empty
    return out


def _shells_at(mu, nodes, kinetic, builder, ctx, disorder, temperature, bar):
    """Every kinetic quantity's contributions at one Fermi energy: {name: [(weight, pieces)] | None}, and whether
    the Fermi surface is empty (None: NaN at T = 0; at T > 0 an empty shell carries nothing)."""
    if disorder.quadrature == "smeared":
        bar.update(len(nodes[0]))
        return {q.name: [(1.0, q.smeared(mu, ctx))] for q in kinetic}, False
    found = {q.name: [] for q in kinetic}
    for energy, weight in zip(*nodes):
        try:
            shell = builder.build(energy)
        except FermiSurfaceError:
            continue
        finally:
            bar.update()
        for q in kinetic:
            found[q.name].append((weight, q.shell(shell, ctx)))
        del shell
    if temperature <= 0 and not found[kinetic[0].name]:
        if parallel.is_root():
            warnings.warn(f"no Fermi surface at mu = {mu:.4f} eV (in a gap or outside the bands): the kinetic "
                          "quantities are NaN there (dataset fermi_surface_empty)", RuntimeWarning, stacklevel=3)
        return {q.name: None for q in kinetic}, True
    return found, False


def _attributes(plan):
    """Root attributes describing the model, mesh, symmetry and disorder of the run."""
    cfg, model = plan.config, plan.model
    attrs = {"model": model.name, "num_wann": model.num_wann, "lattice": model.lattice,
             "cell_volume": model.cell_volume, "grid": np.asarray(cfg.mesh.grid), "shift": np.asarray(cfg.mesh.shift),
             "temperature": cfg.fermi.temperature, "tau_fs": cfg.calculate.tau, "mpi_ranks": parallel.size(),
             "position_matrix": model.position_source}
    occ = cfg.fermi.occupations()
    forms = _surface_forms(cfg, plan.integrals, occ)
    if any(kind == "surface" for kind in forms.values()):
        kind, width = occ.surface_width()
        attrs.update({"fermi_surface_weight": kind, "fermi_surface_width_eV": width})
    attrs["fermi_sea_forms"] = ", ".join(name for name, kind in forms.items() if kind == "sea")
    if plan.kinetic:
        attrs["disorder"] = {k: v for k, v in vars(cfg.disorder).items()}
    sym = plan.symmetry
    if sym is not None:
        attrs.update({"space_group": f"{sym.spacegroup_symbol} ({sym.spacegroup_number})",
                      "point_group": sym.pointgroup_symbol,
                      "magnetic_point_group": sym.magnetic_pointgroup_symbol or "unidentified",
                      "symmetrized": cfg.symmetry.mode == "irreducible", "symmetry_mode": cfg.symmetry.mode})
    info = model.symmetrization
    if info is None:
        attrs["hamiltonian_symmetrized"] = False
    else:
        attrs.update({"hamiltonian_symmetrized": True, "symmetrization_max_change_H_eV": info["max_change_H"],
                      "symmetrization_operations": info["operations"]})
    return attrs
