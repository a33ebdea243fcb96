"""wkin as a Python library: load a model, compute quantities, read the result.

A configuration file and a Python call are two spellings of one run: the keyword arguments of
:func:`compute` are the sections of the TOML file (``fermi``, ``mesh``, ``disorder``, ``torque``,
``symmetry``) and the keys of ``[calculate]`` (``tau``, ``frequencies``, ``eta``), with the same
names, defaults and checks (:mod:`wkin.config`, :mod:`wkin.settings`); ``wkin run`` is this module
applied to a file. ::

    import wkin
    te = wkin.load_model("examples/materials/Te/Te")
    res = wkin.compute(te, ["berry_dipole", "dos"], fermi={"range": [5.84, 6.04, 0.02], "surface": "gaussian",
                       "broadening": 0.007}, mesh=[25, 25, 25])
    res["berry_dipole"].value, res["berry_dipole"].units     # (n_mu, 3, 3), 'dimensionless'
    res.to_hdf5("te.h5")

Under MPI (``mpiexec -n 2 python script.py``) every rank runs the same calls; the numbers do not
depend on the number of ranks and :meth:`wkin.plan.RunResult.to_hdf5` writes on rank 0 only.
Bad input raises the one-line :class:`wkin.errors.ConfigError` of the TOML path.
"""

from __future__ import annotations

from pathlib import Path

from . import config as configuration
from . import plan as run_plan
from .bands import DEGEN_THRESH
from .errors import ConfigError
from .model import TightBindingModel, lattice
from .model.symmetrize import symmetrized_model
from .settings import BUILTIN_MODELS, ModelSettings

#: keyword arguments of :func:`compute` that are whole configuration sections
SECTION_ARGUMENTS = ("fermi", "mesh", "disorder", "torque", "symmetry")
#: keyword arguments of :func:`compute` that are keys of ``[calculate]``
CALCULATE_ARGUMENTS = ("tau", "frequencies", "frequency_range", "eta", "electric_field", "spin_moment")


def model_from_settings(settings: ModelSettings):
    """The model of a ``[model]`` section: a Wannier90 seedname or a built-in lattice model."""
    if settings.wannier90 is not None:
        return TightBindingModel.from_wannier90(settings.wannier90, use_ws_distance=settings.use_ws_distance,
                                                spin=settings.spin, orbital=settings.orbital,
                                                orbital_convention=settings.orbital_convention)
    try:
        return getattr(lattice, settings.builtin)(**settings.params)
    except TypeError as err:
        raise ConfigError(f"[model] params: {err}") from None


def load_model(source, **options):
    """A model from a Wannier90 seedname (a path; files as ``[model] wannier90``) or a built-in model name.

    ``options``: the other ``[model]`` keys (``spin``, ``orbital``, ``orbital_convention``, ``use_ws_distance``)
    for a seedname; the model's parameters for a built-in model (``load_model("haldane", t2=0.1)``).
    """
    source = str(source)
    if source in BUILTIN_MODELS:
        return model_from_settings(ModelSettings(builtin=source, params=dict(options)))
    bad = sorted(set(options) - {"spin", "orbital", "orbital_convention", "use_ws_distance"})
    if bad:
        raise ConfigError(f"load_model: unknown keyword argument {bad[0]!r} for a Wannier90 model (expected spin, "
                          "orbital, orbital_convention, use_ws_distance)")
    return model_from_settings(ModelSettings(wannier90=source, **options))


def _section(value, shorthand):
    """A section given as a table, or as the value of its main key (``fermi=[...]``, ``mesh=[N, N, N]``)."""
    if value is None or isinstance(value, dict):
        return value
    return {shorthand: value}


def compute(model, quantities, *, degen_thresh=DEGEN_THRESH, **settings):
    """Compute registry quantities (:mod:`wkin.quantities`) for a model; returns a :class:`wkin.plan.RunResult`.

    Keyword arguments, as in the configuration file (docs/config.md):

    - ``fermi``: the ``[fermi]`` table, or a list of Fermi energies (eV);
    - ``mesh``: the ``[mesh]`` table, or the grid ``[N1, N2, N3]``;
    - ``disorder``, ``torque``, ``symmetry``: those tables (when a quantity needs them);
    - ``tau`` (fs), ``frequencies`` or ``frequency_range`` (eV), ``eta`` (eV), ``electric_field`` (V/m),
      ``spin_moment``: keys of ``[calculate]``;
    - ``degen_thresh`` (eV): ``[model] degen_thresh``.

    The result is a mapping ``{quantity: QuantityResult}`` with ``value``, ``units``, ``axes`` and every
    dataset (``pieces``), in the registry's units; ``to_hdf5(path)`` writes the file ``wkin run`` writes.
    """
    bad = sorted(set(settings) - set(SECTION_ARGUMENTS) - set(CALCULATE_ARGUMENTS))
    if bad:
        raise ConfigError(f"compute: unknown keyword argument {bad[0]!r} (expected "
                          f"{', '.join(SECTION_ARGUMENTS + CALCULATE_ARGUMENTS)}, degen_thresh)")
    if isinstance(quantities, str):
        quantities = [quantities]
    tables = {"calculate": {"quantities": list(quantities),
                            **{k: settings[k] for k in CALCULATE_ARGUMENTS if k in settings}}}
    for name, shorthand in (("fermi", "energies"), ("mesh", "grid"), ("disorder", None), ("torque", None),
                            ("symmetry", None)):
        table = _section(settings.get(name), shorthand)
        if table is not None:
            tables[name] = table
    for name in ("fermi", "mesh"):
        if name not in tables:
            raise ConfigError(f"compute: missing keyword argument {name!r} ([{name}])")
    config = configuration.from_tables(tables, base=Path.cwd(), model_required=False, degen_thresh=degen_thresh)
    return run(model, config)


def run(model, config):
    """Execute a validated configuration (:class:`wkin.config.RunConfig`) on a model (symmetrized first when
    ``[symmetry] symmetrize_hamiltonian``); what ``wkin run`` and :func:`compute` do."""
    if config.symmetry.symmetrize_hamiltonian:
        if model.seedname is None:
            raise ConfigError("[symmetry] symmetrize_hamiltonian: needs a Wannier90 model whose .win has atoms and "
                              "a projections block")
        model = symmetrized_model(model, model.seedname, magnetization=config.symmetry.magnetization,
                                  symprec=config.symmetry.symprec)
    return run_plan.execute(run_plan.make_plan(config, model))
