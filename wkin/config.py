"""The ``wkin run`` configuration file (TOML): parsing and validation.

Every key is checked; an unknown or malformed key raises :class:`ConfigError`
with a one-line message naming it (``[mesh] grid: ...``). Paths are relative
to the directory of the configuration file. See ``docs/config.md``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .response.intrinsic import OBSERVABLES

BUILTIN_MODELS = ("massive_dirac", "haldane", "rashba_exchange", "weyl_two_node", "chiral_trigonal")

SCHEMA = {
    "model": {"wannier90", "builtin", "params", "use_ws_distance", "degen_thresh", "spin", "orbital",
              "orbital_convention"},
    "mesh": {"grid", "shift", "adaptive"},
    "fermi": {"energies", "range", "temperature", "broadening", "surface"},
    "calculate": {"quantities", "tau", "frequencies", "eta"},
    "disorder": {"model", "strength", "third_moment", "companion_step", "quadrature", "pair_broadening",
                 "omitted_term"},
    "torque": {"exchange", "axis"},
    "symmetry": {"mode", "magnetization", "symprec", "symmetrize_hamiltonian"},
    "output": {"file"},
}
SYMMETRY_MODES = ("off", "irreducible", "verify")
#: frequency-dependent Fermi-sea quantities (need [calculate] frequencies)
FREQUENCY_DEPENDENT = ("noa_orb",)
#: quantities computed from the Fermi-surface collision kernel (need [disorder])
KINETIC = ("conductivity_boltzmann", "scattering_rate", "ahe_extrinsic", "spin_density", "spin_orbit_torque")
#: of these, the ones built on the interband (extrinsic/side-jump/skew) machinery, T = 0 only
EXTRINSIC = ("ahe_extrinsic", "spin_density", "spin_orbit_torque")
ADAPTIVE_KEYS = {"levels", "subdivision", "threshold", "max_points", "neighbours"}


class ConfigError(ValueError):
    """A configuration problem, reported as one line naming the key."""


@dataclass
class RunConfig:
    source: Path
    model: dict
    grid: np.ndarray
    shift: np.ndarray
    adaptive: dict | None
    mu: np.ndarray
    temperature: float
    broadening: float | None
    surface: str
    quantities: list
    tau_fs: float
    output: Path
    disorder: dict | None = None
    torque: dict | None = None
    symmetry: dict = field(default_factory=lambda: {"mode": "off"})
    optics: dict | None = None  # frequencies (eV) and eta (eV) of the frequency-dependent quantities
    raw: str = field(repr=False, default="")


def _need(table, key, where):
    if key not in table:
        raise ConfigError(f"[{where}] {key}: missing")
    return table[key]


def _float_list(value, key, n=None):
    try:
        arr = np.array(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: expected a list of numbers, got {value!r}") from None
    if n is not None and arr.size != n:
        raise ConfigError(f"{key}: expected {n} numbers, got {arr.size}")
    return arr


def load(path) -> RunConfig:
    """Read and validate a configuration file."""
    path = Path(path)
    try:
        raw = path.read_text()
    except OSError as err:
        raise ConfigError(f"cannot read configuration {path}: {err.strerror}") from None
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML ({err})") from None
    for section, value in data.items():
        if section not in SCHEMA:
            raise ConfigError(f"[{section}]: unknown section (expected one of {', '.join(SCHEMA)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{section}: expected a [section] table")
        for key in value:
            if key not in SCHEMA[section]:
                raise ConfigError(f"[{section}] {key}: unknown key (expected one of {', '.join(sorted(SCHEMA[section]))})")
    base = path.parent
    model = dict(data.get("model", {}))
    if not model:
        raise ConfigError("[model]: missing (give wannier90 = \"path/seedname\" or builtin = \"name\")")
    if ("wannier90" in model) == ("builtin" in model):
        raise ConfigError("[model]: give exactly one of wannier90 = \"path/seedname\" or builtin = \"name\"")
    if "wannier90" in model:
        model["wannier90"] = str((base / model["wannier90"]))
    elif model["builtin"] not in BUILTIN_MODELS:
        raise ConfigError(f"[model] builtin: unknown model {model['builtin']!r} (one of {', '.join(BUILTIN_MODELS)})")
    if "params" in model and not isinstance(model["params"], dict):
        raise ConfigError("[model] params: expected a table, e.g. params = { t2 = 0.1 }")
    if "params" in model and "wannier90" in model:
        raise ConfigError("[model] params: only for builtin models")
    if "degen_thresh" in model and not (isinstance(model["degen_thresh"], (int, float))
                                        and not isinstance(model["degen_thresh"], bool) and model["degen_thresh"] > 0):
        raise ConfigError(f"[model] degen_thresh: expected a positive number (eV), got {model['degen_thresh']!r}")
    if "spin" in model and not isinstance(model["spin"], bool):
        raise ConfigError(f"[model] spin: expected true or false, got {model['spin']!r}")
    if model.get("spin") and "wannier90" not in model:
        raise ConfigError("[model] spin: reads .chk/.eig/.spn, only with wannier90 = ...")
    if "orbital" in model and not isinstance(model["orbital"], bool):
        raise ConfigError(f"[model] orbital: expected true or false, got {model['orbital']!r}")
    if model.get("orbital") and "wannier90" not in model:
        raise ConfigError("[model] orbital: B(R) and C(R) are read from Wannier90 files (.chk, .eig, .mmn, .uHu); "
                          "a built-in model has none")
    if model.get("orbital_convention", "wannierberri") not in ("wannierberri", "postw90"):
        raise ConfigError(f"[model] orbital_convention: expected 'wannierberri' or 'postw90', "
                          f"got {model['orbital_convention']!r}")
    if "use_ws_distance" in model and not isinstance(model["use_ws_distance"], bool):
        raise ConfigError(f"[model] use_ws_distance: expected true or false, got {model['use_ws_distance']!r}")

    mesh_t = data.get("mesh", {})
    grid = _float_list(_need(mesh_t, "grid", "mesh"), "[mesh] grid", 3)
    if np.any(grid < 1) or np.any(grid != np.round(grid)):
        raise ConfigError(f"[mesh] grid: expected three positive integers, got {mesh_t['grid']!r}")
    shift = _float_list(mesh_t.get("shift", [0, 0, 0]), "[mesh] shift", 3)
    adaptive = mesh_t.get("adaptive", False)
    if adaptive is True:
        adaptive = {}
    if adaptive is False:
        adaptive = None
    elif not isinstance(adaptive, dict):
        raise ConfigError("[mesh] adaptive: expected true/false or a table {levels, subdivision, threshold, max_points, neighbours}")
    else:
        bad = set(adaptive) - ADAPTIVE_KEYS
        if bad:
            raise ConfigError(f"[mesh] adaptive.{sorted(bad)[0]}: unknown key (expected {', '.join(sorted(ADAPTIVE_KEYS))})")

    fermi_t = data.get("fermi", {})
    if ("energies" in fermi_t) == ("range" in fermi_t):
        raise ConfigError("[fermi]: give exactly one of energies = [...] or range = [min, max, step]")
    if "energies" in fermi_t:
        mu = _float_list(fermi_t["energies"], "[fermi] energies")
    else:
        lo, hi, step = _float_list(fermi_t["range"], "[fermi] range", 3)
        if step <= 0 or hi < lo:
            raise ConfigError(f"[fermi] range: need min <= max and step > 0, got {fermi_t['range']!r}")
        mu = lo + step * np.arange(int(np.floor((hi - lo) / step + 1e-9)) + 1)
    if mu.size == 0:
        raise ConfigError("[fermi] energies: empty")
    temperature = fermi_t.get("temperature", 0.0)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or temperature < 0:
        raise ConfigError(f"[fermi] temperature: must be a number >= 0 (K), got {temperature!r}")
    temperature = float(temperature)
    broadening = fermi_t.get("broadening")
    if broadening is not None:
        if not isinstance(broadening, (int, float)) or broadening <= 0:
            raise ConfigError(f"[fermi] broadening: must be a number > 0 eV, got {broadening!r}")
        if temperature > 0:
            raise ConfigError("[fermi] broadening: give either a temperature (Fermi-Dirac weights) or a broadening")
    surface = fermi_t.get("surface", "box")
    if surface not in ("box", "gaussian"):
        raise ConfigError(f"[fermi] surface: expected 'box' or 'gaussian', got {surface!r}")

    calc = data.get("calculate", {})
    quantities = _need(calc, "quantities", "calculate")
    if not isinstance(quantities, list) or not quantities:
        raise ConfigError(f"[calculate] quantities: expected a non-empty list of names, got {quantities!r}")
    for q in quantities:
        if q not in OBSERVABLES and q not in KINETIC and q not in FREQUENCY_DEPENDENT:
            raise ConfigError(f"[calculate] quantities: unknown quantity {q!r} (available: "
                              f"{', '.join(list(OBSERVABLES) + list(FREQUENCY_DEPENDENT) + list(KINETIC))})")
    optics = None
    if any(q in FREQUENCY_DEPENDENT for q in quantities):
        freqs = _float_list(_need(calc, "frequencies", "calculate"), "[calculate] frequencies")
        if len(freqs) == 0 or np.any(freqs < 0):
            raise ConfigError("[calculate] frequencies: expected a non-empty list of photon energies hbar*omega >= 0 (eV)")
        eta = calc.get("eta", 0.01)
        if isinstance(eta, bool) or not isinstance(eta, (int, float)) or eta <= 0:
            raise ConfigError(f"[calculate] eta: expected a broadening > 0 (eV), got {eta!r}")
        optics = {"frequencies": freqs, "eta": float(eta)}
    disorder = data.get("disorder")
    if disorder is None and any(q in KINETIC for q in quantities):
        raise ConfigError("[disorder]: missing (needed by conductivity_boltzmann / scattering_rate): "
                          "give model = \"cell\" | \"atom\" | \"orbital\" and strength = u0^2 in eV^2*Å^3")
    for q in ("scattering_rate",) + EXTRINSIC:
        if q in quantities and temperature > 0:
            raise ConfigError(f"[calculate] quantities: {q} is computed for T = 0 only; set [fermi] temperature = 0")
    torque = data.get("torque")
    if "spin_orbit_torque" in quantities:
        if torque is None:
            raise ConfigError("[torque]: missing (needed by spin_orbit_torque): give exchange = Delta (eV) and "
                              "axis = [mx, my, mz] of the exchange term Delta m.sigma")
        _need(torque, "exchange", "torque")
        torque = {"exchange": float(torque["exchange"]), "axis": _float_list(_need(torque, "axis", "torque"),
                                                                            "[torque] axis", 3)}
        if not np.any(torque["axis"]):
            raise ConfigError("[torque] axis: the zero vector has no direction")
    if disorder is not None:
        _need(disorder, "model", "disorder")
        _need(disorder, "strength", "disorder")
        if disorder["model"] not in ("cell", "atom", "orbital"):
            raise ConfigError(f"[disorder] model: expected 'cell', 'atom' or 'orbital', got {disorder['model']!r}")
        if not isinstance(disorder["strength"], (int, float)) or disorder["strength"] <= 0:
            raise ConfigError(f"[disorder] strength: expected u0^2 > 0 in eV^2*Å^3, got {disorder['strength']!r}")
        if not isinstance(disorder.get("third_moment", 0.0), (int, float)):
            raise ConfigError(f"[disorder] third_moment: expected u1^3 in eV^3*Å^6 (a number), "
                              f"got {disorder['third_moment']!r}")
        if disorder.get("third_moment", 0.0) and not any(q in EXTRINSIC for q in quantities):
            raise ConfigError("[disorder] third_moment: the third cumulant enters only the skew_third_order pieces of "
                              + ", ".join(EXTRINSIC) + "; none of them is requested")
        step = disorder.get("companion_step", 0.1)
        nums = step if isinstance(step, list) else [step]
        if (isinstance(step, list) and len(step) != 3) or any(
                isinstance(x, bool) or not isinstance(x, (int, float)) or x <= 0 for x in nums):
            raise ConfigError(f"[disorder] companion_step: expected a step > 0 (eV) or [near, far, window] > 0 (eV), "
                              f"got {step!r}")
        if not isinstance(disorder.get("omitted_term", False), bool):
            raise ConfigError(f"[disorder] omitted_term: expected true or false, got {disorder['omitted_term']!r}")
        if disorder.get("quadrature", "tetrahedron") not in ("tetrahedron", "smeared"):
            raise ConfigError(f"[disorder] quadrature: expected 'tetrahedron' or 'smeared', got {disorder['quadrature']!r}")
        if disorder.get("quadrature") == "smeared":
            if not isinstance(disorder.get("pair_broadening"), (int, float)) or disorder["pair_broadening"] <= 0:
                raise ConfigError("[disorder] pair_broadening: the smeared quadrature needs a width > 0 (eV) "
                                  "for the pair delta function")
            if temperature <= 0 and broadening is None:
                raise ConfigError("[fermi] broadening: the smeared quadrature at T = 0 needs a Gaussian width (eV)")
            other = [q for q in quantities if q in KINETIC and q != "conductivity_boltzmann"]
            if other:
                raise ConfigError(f"[disorder] quadrature: {other[0]} needs the tetrahedron quadrature; the smeared "
                                  "fallback gives conductivity_boltzmann only")
    tau = calc.get("tau", 1.0)
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or tau <= 0:
        raise ConfigError(f"[calculate] tau: must be a number > 0 (fs), got {tau!r}")
    tau = float(tau)
    sym = dict(data.get("symmetry", {}))
    sym.setdefault("mode", "off")
    if sym["mode"] not in SYMMETRY_MODES:
        raise ConfigError(f"[symmetry] mode: expected one of {', '.join(SYMMETRY_MODES)}, got {sym['mode']!r}")
    if "magnetization" in sym:
        sym["magnetization"] = _float_list(sym["magnetization"], "[symmetry] magnetization", 3)
        if not np.any(sym["magnetization"]):
            raise ConfigError("[symmetry] magnetization: the zero vector has no direction")
    if not isinstance(sym.get("symmetrize_hamiltonian", False), bool):
        raise ConfigError(f"[symmetry] symmetrize_hamiltonian: expected true or false, "
                          f"got {sym['symmetrize_hamiltonian']!r}")
    if sym.get("symmetrize_hamiltonian") and "wannier90" not in model:
        raise ConfigError("[symmetry] symmetrize_hamiltonian: needs a Wannier90 model ([model] wannier90) whose .win "
                          "has atoms and a projections block")
    if sym["mode"] == "irreducible":
        if np.any(shift != 0):
            raise ConfigError("[symmetry] mode: 'irreducible' needs a Gamma-centred grid ([mesh] shift = [0, 0, 0])")
    out = Path(data.get("output", {}).get("file", "results.h5"))
    return RunConfig(source=path, model=model, grid=grid.astype(int), shift=shift, adaptive=adaptive, mu=mu,
                     temperature=temperature, broadening=None if broadening is None else float(broadening),
                     surface=surface, quantities=quantities, tau_fs=tau,
                     output=out if out.is_absolute() else base / out, raw=raw, disorder=disorder,
                     symmetry=sym, torque=torque, optics=optics)
