"""Typed run settings, one class per configuration section: every default is written here once.

The TOML file (:mod:`wkin.config`) and Python callers build the same objects, and every value
is validated when an object is made: a bad value raises :class:`wkin.errors.ConfigError` naming the
key (``[mesh] grid: ...``). Units: energies eV, lengths Å, temperature K, τ fs, u0² eV²·Å³,
u1³ eV³·Å⁶ (see ``docs/config.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from .bands import DEGEN_THRESH
from .errors import ConfigError
from .kinetic.disorder import CONSTANT_TAU, ConstantRelaxationTime, Disorder
from .kinetic.disorder import MODELS as DISORDER_MODELS
from .kspace.integrate import Adaptive
from .kspace.occupations import Occupations
from .model.tight_binding import ORBITAL_CONVENTIONS
from .response.boltzmann import QUADRATURES
from .response.extrinsic import COMPANION_STEP
from .response.optical_activity import ETA
from .symmetry import SYMPREC

BUILTIN_MODELS = ("massive_dirac", "haldane", "rashba_exchange", "weyl_two_node", "chiral_trigonal")
SYMMETRY_MODES = ("off", "irreducible", "verify")


def _is_number(x):
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _flag(section, key, value):
    if not isinstance(value, bool):
        raise ConfigError(f"[{section}] {key}: expected true or false, got {value!r}")


def float_list(value, key, n=None):
    """A list of numbers as a float array; ``key`` names it in the error."""
    try:
        arr = np.array(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: expected a list of numbers, got {value!r}") from None
    if n is not None and arr.size != n:
        raise ConfigError(f"{key}: expected {n} numbers, got {arr.size}")
    return arr


def keys_of(cls):
    """The keys a section accepts (its field names)."""
    return {f.name for f in fields(cls)}


@dataclass(frozen=True)
class ModelSettings:
    """``[model]``: exactly one of ``wannier90`` (seedname path) or ``builtin`` (with ``params``)."""

    wannier90: str | None = None
    builtin: str | None = None
    params: dict = field(default_factory=dict)
    use_ws_distance: bool = True
    degen_thresh: float = DEGEN_THRESH
    spin: bool = False
    orbital: bool = False
    orbital_convention: str = ORBITAL_CONVENTIONS[0]

    def __post_init__(self):
        if (self.wannier90 is None) == (self.builtin is None):
            raise ConfigError("[model]: give exactly one of wannier90 = \"path/seedname\" or builtin = \"name\"")
        if self.builtin is not None and self.builtin not in BUILTIN_MODELS:
            raise ConfigError(f"[model] builtin: unknown model {self.builtin!r} (one of {', '.join(BUILTIN_MODELS)})")
        if not isinstance(self.params, dict):
            raise ConfigError("[model] params: expected a table, e.g. params = { t2 = 0.1 }")
        if self.params and self.wannier90 is not None:
            raise ConfigError("[model] params: only for builtin models")
        if not (_is_number(self.degen_thresh) and self.degen_thresh > 0):
            raise ConfigError(f"[model] degen_thresh: expected a positive number (eV), got {self.degen_thresh!r}")
        for key in ("spin", "orbital", "use_ws_distance"):
            _flag("model", key, getattr(self, key))
        if self.spin and self.wannier90 is None:
            raise ConfigError("[model] spin: reads .chk/.eig/.spn, only with wannier90 = ...")
        if self.orbital and self.wannier90 is None:
            raise ConfigError("[model] orbital: B(R) and C(R) are read from Wannier90 files (.chk, .eig, .mmn, "
                              ".uHu); a built-in model has none")
        if self.orbital_convention not in ORBITAL_CONVENTIONS:
            raise ConfigError(f"[model] orbital_convention: expected 'wannierberri' or 'postw90', "
                              f"got {self.orbital_convention!r}")


@dataclass(frozen=True)
class MeshSettings:
    """``[mesh]``: ``grid`` (three positive integers), ``shift`` (units of the grid step), ``adaptive``."""

    grid: tuple
    shift: tuple = (0.0, 0.0, 0.0)
    adaptive: Adaptive | None = None

    def __post_init__(self):
        g = float_list(self.grid, "[mesh] grid", 3)
        if np.any(g < 1) or np.any(g != np.round(g)):
            raise ConfigError(f"[mesh] grid: expected three positive integers, got {self.grid!r}")
        object.__setattr__(self, "grid", tuple(int(x) for x in g))
        object.__setattr__(self, "shift", tuple(float(x) for x in float_list(self.shift, "[mesh] shift", 3)))
        if self.adaptive is not None and not isinstance(self.adaptive, Adaptive):
            raise ConfigError("[mesh] adaptive: expected true/false or a table "
                              "{levels, subdivision, threshold, max_points, neighbours}")


@dataclass(frozen=True)
class FermiSettings:
    """``[fermi]``: Fermi ``energies`` (eV), ``temperature`` (K), surface ``broadening`` (eV) and its shape."""

    energies: np.ndarray
    temperature: float = 0.0
    broadening: float | None = None
    surface: str = "box"

    def __post_init__(self):
        mu = float_list(self.energies, "[fermi] energies")
        if mu.size == 0:
            raise ConfigError("[fermi] energies: empty")
        object.__setattr__(self, "energies", mu)
        if not _is_number(self.temperature) or self.temperature < 0:
            raise ConfigError(f"[fermi] temperature: must be a number >= 0 (K), got {self.temperature!r}")
        object.__setattr__(self, "temperature", float(self.temperature))
        if self.broadening is not None:
            if not _is_number(self.broadening) or self.broadening <= 0:
                raise ConfigError(f"[fermi] broadening: must be a number > 0 eV, got {self.broadening!r}")
            if self.temperature > 0:
                raise ConfigError("[fermi] broadening: give either a temperature (Fermi-Dirac weights) or a broadening")
            object.__setattr__(self, "broadening", float(self.broadening))
        if self.surface not in ("box", "gaussian"):
            raise ConfigError(f"[fermi] surface: expected 'box' or 'gaussian', got {self.surface!r}")

    def occupations(self):
        """The :class:`wkin.kspace.occupations.Occupations` of these settings."""
        return Occupations(mu=self.energies, temperature=self.temperature, surface_kind=self.surface,
                           broadening=self.broadening)

    @classmethod
    def from_range(cls, lo, hi, step, **kwargs):
        """Energies lo, lo + step, … ≤ hi (``[fermi] range = [min, max, step]``)."""
        if step <= 0 or hi < lo:
            raise ConfigError(f"[fermi] range: need min <= max and step > 0, got {[lo, hi, step]!r}")
        return cls(energies=lo + step * np.arange(int(np.floor((hi - lo) / step + 1e-9)) + 1), **kwargs)


@dataclass(frozen=True)
class CalculateSettings:
    """``[calculate]``: ``quantities`` (registry names), ``tau`` (fs, constant-τ ``ohmic``), ``frequencies``
    (or ``frequency_range = [min, max, step]``) and ``eta`` (eV, frequency-dependent quantities), ``electric_field``
    (V/m, Cartesian: the magnetization of ``kme``), ``spin_moment`` (add the spin moment to the orbital one in the
    gyrotropic quantities)."""

    quantities: tuple
    tau: float = 1.0
    frequencies: tuple | None = None
    eta: float = ETA
    frequency_range: tuple | None = None
    electric_field: tuple | None = None
    spin_moment: bool = False

    def __post_init__(self):
        if not isinstance(self.quantities, (list, tuple)) or not self.quantities \
                or not all(isinstance(q, str) for q in self.quantities):
            raise ConfigError(f"[calculate] quantities: expected a non-empty list of names, got {self.quantities!r}")
        dup = sorted({q for q in self.quantities if list(self.quantities).count(q) > 1})
        if dup:
            raise ConfigError(f"[calculate] quantities: {dup[0]!r} is listed twice")
        object.__setattr__(self, "quantities", tuple(self.quantities))
        if not _is_number(self.tau) or self.tau <= 0:
            raise ConfigError(f"[calculate] tau: must be a number > 0 (fs), got {self.tau!r}")
        object.__setattr__(self, "tau", float(self.tau))
        if self.frequency_range is not None:
            if self.frequencies is not None:
                raise ConfigError("[calculate]: give either frequencies = [...] or frequency_range = [min, max, step]")
            lo, hi, step = float_list(self.frequency_range, "[calculate] frequency_range", 3)
            if step <= 0 or hi < lo:
                raise ConfigError(f"[calculate] frequency_range: need min <= max and step > 0 (eV), "
                                  f"got {list(self.frequency_range)!r}")
            object.__setattr__(self, "frequencies", tuple(lo + step * np.arange(int(np.floor((hi - lo) / step + 1e-9))
                                                                                 + 1)))
            object.__setattr__(self, "frequency_range", (float(lo), float(hi), float(step)))
        _flag("calculate", "spin_moment", self.spin_moment)
        if self.electric_field is not None:
            object.__setattr__(self, "electric_field",
                               tuple(float_list(self.electric_field, "[calculate] electric_field", 3)))
        if self.frequencies is not None:
            freqs = float_list(self.frequencies, "[calculate] frequencies")
            if len(freqs) == 0 or np.any(freqs < 0):
                raise ConfigError("[calculate] frequencies: expected a non-empty list of photon energies "
                                  "hbar*omega >= 0 (eV)")
            object.__setattr__(self, "frequencies", tuple(freqs))
        if not _is_number(self.eta) or self.eta <= 0:
            raise ConfigError(f"[calculate] eta: expected a broadening > 0 (eV), got {self.eta!r}")
        object.__setattr__(self, "eta", float(self.eta))


@dataclass(frozen=True)
class DisorderSettings:
    """``[disorder]``: the disorder model and strength, and how the kinetic pieces are computed."""

    model: str
    strength: float | None = None
    third_moment: float = Disorder.third_moment
    tau: float | None = None
    companion_step: float | tuple = COMPANION_STEP
    quadrature: str = QUADRATURES[0]
    pair_broadening: float = 0.0
    omitted_term: bool = False

    def __post_init__(self):
        self.disorder()  # validates model, strength, third_moment
        step = self.companion_step
        nums = step if isinstance(step, (list, tuple)) else [step]
        if (isinstance(step, (list, tuple)) and len(step) != 3) or any(not _is_number(x) or x <= 0 for x in nums):
            raise ConfigError(f"[disorder] companion_step: expected a step > 0 (eV) or [near, far, window] > 0 (eV), "
                              f"got {step!r}")
        object.__setattr__(self, "companion_step",
                           float(step) if not isinstance(step, (list, tuple)) else tuple(float(x) for x in step))
        _flag("disorder", "omitted_term", self.omitted_term)
        if self.quadrature not in QUADRATURES:
            raise ConfigError(f"[disorder] quadrature: expected 'tetrahedron' or 'smeared', got {self.quadrature!r}")
        if self.quadrature == "smeared" and self.model == CONSTANT_TAU:
            raise ConfigError("[disorder] quadrature: the smeared fallback needs scatterers, not model = \"constant_tau\"")
        if self.quadrature == "smeared" and not (_is_number(self.pair_broadening) and self.pair_broadening > 0):
            raise ConfigError("[disorder] pair_broadening: the smeared quadrature needs a width > 0 (eV) "
                              "for the pair delta function")

    def disorder(self):
        """The :class:`wkin.kinetic.disorder.Disorder` correlator, or the relaxation-time model
        (:class:`wkin.kinetic.disorder.ConstantRelaxationTime`) for ``model = "constant_tau"``."""
        if self.model == CONSTANT_TAU:
            if self.tau is None:
                raise ConfigError("[disorder] tau: the constant_tau model needs a relaxation time tau (fs)")
            if self.strength is not None or self.third_moment:
                raise ConfigError("[disorder] strength: the constant_tau model has no scatterers (give tau only)")
            return ConstantRelaxationTime(self.tau)
        if self.model not in DISORDER_MODELS:
            raise ConfigError(f"[disorder] model: expected 'cell', 'atom', 'orbital' or 'constant_tau', "
                              f"got {self.model!r}")
        if self.tau is not None:
            raise ConfigError("[disorder] tau: only for model = \"constant_tau\" (the scatterers of the "
                              f"{self.model!r} model set the rates)")
        if self.strength is None:
            raise ConfigError("[disorder] strength: missing (u0^2 in eV^2*Å^3)")
        return Disorder(self.model, self.strength, third_moment=self.third_moment)


@dataclass(frozen=True)
class TorqueSettings:
    """``[torque]``: the exchange term Δ m̂·σ of H₀ (``exchange`` Δ in eV, ``axis`` m̂ Cartesian)."""

    exchange: float
    axis: tuple

    def __post_init__(self):
        if not _is_number(self.exchange):
            raise ConfigError(f"[torque] exchange: expected Delta in eV (a number), got {self.exchange!r}")
        axis = float_list(self.axis, "[torque] axis", 3)
        if not np.any(axis):
            raise ConfigError("[torque] axis: the zero vector has no direction")
        object.__setattr__(self, "exchange", float(self.exchange))
        object.__setattr__(self, "axis", tuple(axis))


@dataclass(frozen=True)
class SymmetrySettings:
    """``[symmetry]``: ``mode`` off | irreducible | verify, ferromagnetic ``magnetization`` (Cartesian),
    spglib ``symprec`` (Å), ``symmetrize_hamiltonian``."""

    mode: str = "off"
    magnetization: tuple | None = None
    symprec: float = SYMPREC
    symmetrize_hamiltonian: bool = False

    def __post_init__(self):
        if self.mode not in SYMMETRY_MODES:
            raise ConfigError(f"[symmetry] mode: expected one of {', '.join(SYMMETRY_MODES)}, got {self.mode!r}")
        if self.magnetization is not None:
            m = float_list(self.magnetization, "[symmetry] magnetization", 3)
            if not np.any(m):
                raise ConfigError("[symmetry] magnetization: the zero vector has no direction")
            object.__setattr__(self, "magnetization", tuple(m))
        if not _is_number(self.symprec) or self.symprec <= 0:
            raise ConfigError(f"[symmetry] symprec: expected a tolerance > 0 (Å), got {self.symprec!r}")
        _flag("symmetry", "symmetrize_hamiltonian", self.symmetrize_hamiltonian)


@dataclass(frozen=True)
class ScreenSettings:
    """``[screen]`` (``wkin screen`` only): the table ``columns`` (expressions of :mod:`wkin.screen`) and the CSV
    ``table`` (an HDF5 file with the same stem is written beside it)."""

    columns: tuple = ()
    table: str = "screen.csv"

    def __post_init__(self):
        if not isinstance(self.columns, (list, tuple)) or not all(isinstance(c, str) for c in self.columns):
            raise ConfigError(f"[screen] columns: expected a list of expressions, got {self.columns!r}")
        object.__setattr__(self, "columns", tuple(self.columns))
        if not isinstance(self.table, str) or not self.table.strip():
            raise ConfigError(f"[screen] table: expected a file name, got {self.table!r}")


@dataclass(frozen=True)
class OutputSettings:
    """``[output]``: the HDF5 ``file`` (relative paths are relative to the configuration file)."""

    file: str = "results.h5"

    def __post_init__(self):
        if not isinstance(self.file, str):
            raise ConfigError(f"[output] file: expected a file name, got {self.file!r}")
        if not self.file.strip() or self.file.endswith(("/", "\\")):
            raise ConfigError(f"[output] file: empty file name ({self.file!r})")
