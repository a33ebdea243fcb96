"""The ``wkin run`` configuration file (TOML): parsing into typed settings and checks across sections.

Every key is checked; an unknown or malformed key raises :class:`wkin.errors.ConfigError`
with a one-line message naming it (``[mesh] grid: ...``). Values and defaults are those of the
section classes of :mod:`wkin.settings`; what a quantity needs (``[disorder]``, ``[torque]``,
frequencies, T = 0) comes from its registry entry (:mod:`wkin.quantities`). Paths are relative
to the directory of the configuration file. See ``docs/config.md``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import quantities as registry
from .errors import ConfigError
from .kinetic.disorder import CONSTANT_TAU
from .kspace.integrate import Adaptive
from .settings import (CalculateSettings, DisorderSettings, FermiSettings, MeshSettings, ModelSettings, OutputSettings,
                       ScreenSettings, SymmetrySettings, TorqueSettings, float_list, keys_of)

#: section → (settings class, accepted keys); [fermi] takes ``range`` instead of ``energies`` too
SECTIONS = {"model": ModelSettings, "mesh": MeshSettings, "fermi": FermiSettings, "calculate": CalculateSettings,
            "disorder": DisorderSettings, "torque": TorqueSettings, "symmetry": SymmetrySettings,
            "output": OutputSettings, "screen": ScreenSettings}
_EXTRA_KEYS = {"fermi": {"range"}}


@dataclass
class RunConfig:
    """A validated run: one settings object per section (None for an absent optional section).

    ``model`` is None for a run on a model object given from Python (:func:`wkin.compute`); ``degen_thresh``
    is then given separately (:attr:`degeneracy`).
    """

    source: Path | None
    model: ModelSettings | None
    mesh: MeshSettings
    fermi: FermiSettings
    calculate: CalculateSettings
    output: Path
    disorder: DisorderSettings | None = None
    torque: TorqueSettings | None = None
    symmetry: SymmetrySettings = field(default_factory=SymmetrySettings)
    raw: str = field(repr=False, default="")
    degen_thresh: float | None = None
    screen: ScreenSettings | None = None

    @property
    def degeneracy(self):
        """The degeneracy threshold (eV): ``[model] degen_thresh``, or the value given with a model object."""
        return self.model.degen_thresh if self.model is not None else self.degen_thresh


def _need(table, key, where):
    if key not in table:
        raise ConfigError(f"[{where}] {key}: missing")
    return table[key]


def load(path, model_required=True) -> RunConfig:
    """Read and validate a configuration file (``model_required=False``: ``wkin screen``, whose models are
    given on the command line)."""
    path = Path(path)
    try:
        raw = path.read_text()
    except OSError as err:
        raise ConfigError(f"cannot read configuration {path}: {err.strerror}") from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML ({err})") from None
    return from_tables(data, base=path.parent, source=path, raw=raw, model_required=model_required)


def from_tables(data, base=Path("."), source=None, raw="", model_required=True, degen_thresh=None) -> RunConfig:
    """Validate configuration tables ({section: {key: value}}, as TOML gives them; paths relative to ``base``).

    ``model_required=False``: no ``[model]`` table (the model is a Python object, :func:`wkin.compute`), with
    ``degen_thresh`` given instead.
    """
    for section, value in data.items():
        if section not in SECTIONS:
            raise ConfigError(f"[{section}]: unknown section (expected one of {', '.join(SECTIONS)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{section}: expected a [section] table")
        allowed = keys_of(SECTIONS[section]) | _EXTRA_KEYS.get(section, set())
        for key in value:
            if key not in allowed:
                raise ConfigError(f"[{section}] {key}: unknown key (expected one of {', '.join(sorted(allowed))})")
    base = Path(base)
    model_t = dict(data.get("model", {}))
    model = None
    if model_t or model_required:
        if not model_t:
            raise ConfigError("[model]: missing (give wannier90 = \"path/seedname\" or builtin = \"name\")")
        if "wannier90" in model_t:
            model_t["wannier90"] = str(base / model_t["wannier90"])
        model = ModelSettings(**model_t)

    mesh_t = dict(data.get("mesh", {}))
    _need(mesh_t, "grid", "mesh")
    adaptive = mesh_t.pop("adaptive", False)
    if adaptive is True:
        adaptive = {}
    if adaptive is False:
        adaptive = None
    elif not isinstance(adaptive, dict):
        raise ConfigError("[mesh] adaptive: expected true/false or a table {levels, subdivision, threshold, "
                          "max_points, neighbours}")
    else:
        bad = set(adaptive) - keys_of(Adaptive)
        if bad:
            raise ConfigError(f"[mesh] adaptive.{sorted(bad)[0]}: unknown key "
                              f"(expected {', '.join(sorted(keys_of(Adaptive)))})")
        adaptive = Adaptive(**adaptive)
    mesh = MeshSettings(adaptive=adaptive, **mesh_t)

    fermi_t = dict(data.get("fermi", {}))
    if ("energies" in fermi_t) == ("range" in fermi_t):
        raise ConfigError("[fermi]: give exactly one of energies = [...] or range = [min, max, step]")
    if "range" in fermi_t:
        lo, hi, step = float_list(fermi_t.pop("range"), "[fermi] range", 3)
        fermi = FermiSettings.from_range(lo, hi, step, **fermi_t)
    else:
        fermi = FermiSettings(**fermi_t)

    calc_t = dict(data.get("calculate", {}))
    _need(calc_t, "quantities", "calculate")
    calculate = CalculateSettings(**calc_t)
    wanted = [registry.get(name) for name in calculate.quantities]
    needs = {need: [q.name for q in wanted if need in q.needs] for need in ("disorder", "torque", "frequencies")}
    if needs["frequencies"] and calculate.frequencies is None:
        raise ConfigError(f"[calculate] frequencies: missing (needed by {', '.join(needs['frequencies'])}): give "
                          "the photon energies hbar*omega (eV)")
    disorder = None
    if "disorder" in data:
        _need(data["disorder"], "model", "disorder")
        disorder = DisorderSettings(**data["disorder"])
    elif needs["disorder"]:
        raise ConfigError(f"[disorder]: missing (needed by {', '.join(needs['disorder'])}): give model = \"cell\" | "
                          "\"atom\" | \"orbital\" and strength = u0^2 in eV^2*Å^3, or model = \"constant_tau\" and tau (fs)")
    torque = None
    if needs["torque"]:
        if "torque" not in data:
            raise ConfigError(f"[torque]: missing (needed by {', '.join(needs['torque'])}): give exchange = Delta "
                              "(eV) and axis = [mx, my, mz] of the exchange term Delta m.sigma")
        for key in ("exchange", "axis"):
            _need(data["torque"], key, "torque")
        torque = TorqueSettings(**data["torque"])
    for q in wanted:
        if q.zero_temperature and fermi.temperature > 0:
            raise ConfigError(f"[calculate] quantities: {q.name} is computed for T = 0 only; set [fermi] "
                              "temperature = 0")
    if disorder is not None:
        _check_disorder(disorder, wanted, fermi)
    symmetry = SymmetrySettings(**data.get("symmetry", {}))
    if symmetry.symmetrize_hamiltonian and model is not None and model.wannier90 is None:
        raise ConfigError("[symmetry] symmetrize_hamiltonian: needs a Wannier90 model ([model] wannier90) whose .win "
                          "has atoms and a projections block")
    if symmetry.mode == "irreducible" and any(mesh.shift):
        raise ConfigError("[symmetry] mode: 'irreducible' needs a Gamma-centred grid ([mesh] shift = [0, 0, 0])")
    out = Path(OutputSettings(**data.get("output", {})).file)
    screen = None
    if "screen" in data:
        screen = ScreenSettings(**data["screen"])
        table = Path(screen.table)
        screen = ScreenSettings(screen.columns, str(table if table.is_absolute() else base / table))
    return RunConfig(source=source, model=model, mesh=mesh, fermi=fermi, calculate=calculate,
                     output=out if out.is_absolute() else base / out, disorder=disorder, torque=torque,
                     symmetry=symmetry, raw=raw, degen_thresh=degen_thresh, screen=screen)


def _check_disorder(disorder, wanted, fermi):
    """Checks of [disorder] against the requested quantities (registry) and [fermi]."""
    kinetic = [q for q in wanted if q.kinetic]
    if disorder.model == CONSTANT_TAU:
        other = [q.name for q in kinetic if not q.constant_tau]
        if other:
            raise ConfigError(f"[disorder] model: {other[0]} needs scatterers (cell, atom or orbital disorder); "
                              "constant_tau serves " + ", ".join(q.name for q in registry.QUANTITIES.values()
                                                                 if q.constant_tau))
    if disorder.third_moment and not any(q.interband for q in kinetic):
        raise ConfigError("[disorder] third_moment: the third cumulant enters only the skew_third_order pieces of "
                          "the extrinsic responses ("
                          + ", ".join(q.name for q in registry.QUANTITIES.values() if q.interband)
                          + "); none of them is requested")
    if disorder.quadrature == "smeared":
        if fermi.temperature <= 0 and fermi.broadening is None:
            raise ConfigError("[fermi] broadening: the smeared quadrature at T = 0 needs a Gaussian width (eV)")
        other = [q.name for q in kinetic if q.smeared is None]
        if other:
            raise ConfigError(f"[disorder] quadrature: {other[0]} needs the tetrahedron quadrature; the smeared "
                              "fallback gives " + ", ".join(q.name for q in registry.QUANTITIES.values() if q.smeared))
