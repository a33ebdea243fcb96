r"""Screening: one configuration over many Wannier models, one table of chosen scalars per material.

``wkin screen CONFIG.toml SEEDNAME...`` (or a glob in ``[model] wannier90``) runs the configuration on
every model and writes one row per material and Fermi energy to a CSV table and an HDF5 file beside it
(``[screen] table``). The columns are given in ``[screen] columns`` as short expressions of the run's
datasets:

- ``ahc[x,y]`` — a component (Cartesian labels; ``[x,y,z]`` for rank 3) of a quantity's ``value``;
  ``ahe_extrinsic/skew[x,y]`` of one of its datasets; ``dos`` for a scalar quantity;
- ``max|berry_dipole|`` — the largest absolute component;
- ``A / B`` — the ratio of two of these (e.g. ``ahe_extrinsic/skew[x,y] / ahe_extrinsic/intrinsic[x,y]``).

Every material gets a ``status``: ``ok``, or the one-line reason it failed (a bad file, no Fermi
surface, refused degeneracy, ...) — the others go on. A table that exists is read first and the
materials already in it are skipped, so an interrupted screening resumes where it stopped. Under MPI,
materials are distributed over the ranks (each material on one rank) when there are more materials
than ranks; otherwise every material uses all ranks.
"""

from __future__ import annotations

import csv
import glob
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import h5py
import numpy as np

from . import api, parallel
from .errors import ConfigError
from .quantities import get as registry_get
from .settings import BUILTIN_MODELS, ModelSettings

_TERM = re.compile(r"^\s*(max\|)?\s*([a-z_0-9]+)(?:/([a-z_0-9]+))?\s*(\|)?\s*(?:\[\s*([xyz ,]+)\s*\])?\s*$")


@dataclass(frozen=True)
class Term:
    """One dataset reduced to a scalar per Fermi energy: a component, or the largest absolute value."""

    quantity: str
    dataset: str
    index: tuple | None
    largest: bool

    def __call__(self, result, i):
        x = np.asarray(result[self.quantity][self.dataset])[i]
        if self.largest:
            return float(np.nanmax(np.abs(x))) if np.size(x) else np.nan
        return float(x[self.index] if self.index else x)


@dataclass(frozen=True)
class Column:
    """A table column: a term, or the ratio of two terms."""

    text: str
    terms: tuple

    def __call__(self, result, i):
        values = [t(result, i) for t in self.terms]
        if len(values) == 1:
            return values[0]
        return values[0] / values[1] if values[1] != 0 else np.nan


def parse_column(text, quantities):
    """A :class:`Column` from its expression (module docstring), checked against the run's quantities."""
    parts = [p for p in text.split("/ ")] if " / " in text else [text]
    terms = []
    for part in parts:
        m = _TERM.match(part)
        if not m or bool(m.group(1)) != bool(m.group(4)) or (m.group(1) and m.group(5)):
            raise ConfigError(f"[screen] columns: cannot read {text!r} (e.g. \"ahc[x,y]\", \"max|berry_dipole|\", "
                              "\"ahe_extrinsic/skew[x,y] / ahe_extrinsic/intrinsic[x,y]\")")
        name, dataset = m.group(2), m.group(3) or "value"
        if name not in quantities:
            raise ConfigError(f"[screen] columns: {text!r} uses {name!r}, which [calculate] quantities does not list")
        q = registry_get(name)
        if dataset not in q.datasets or not q.datasets[dataset].per_energy:
            raise ConfigError(f"[screen] columns: {name} has no per-Fermi-energy dataset {dataset!r} "
                              f"(datasets: {', '.join(d for d, s in q.datasets.items() if s.per_energy)})")
        if not all(a.startswith("cartesian") for a in q.datasets[dataset].axes):
            raise ConfigError(f"[screen] columns: {text!r}: {name}/{dataset} has a non-Cartesian axis "
                              f"({q.datasets[dataset].axes_text})")
        index = None
        if m.group(5):
            index = tuple("xyz".index(c) for c in m.group(5) if c in "xyz")
            if len(index) != len([a for a in q.datasets[dataset].axes if a.startswith("cartesian")]):
                raise ConfigError(f"[screen] columns: {text!r}: {name}/{dataset} has axes "
                                  f"{q.datasets[dataset].axes_text}")
        elif not m.group(1) and q.datasets[dataset].axes:
            raise ConfigError(f"[screen] columns: {text!r}: give a component ([x,y]) or max|...| of the tensor "
                              f"{name}/{dataset}")
        terms.append(Term(name, dataset, index, bool(m.group(1))))
    if len(terms) > 2:
        raise ConfigError(f"[screen] columns: {text!r}: one ratio at most")
    return Column(text.strip(), tuple(terms))


def materials(config, seeds):
    """The models to screen: the seednames given (a built-in model name stands for that model with its default
    parameters), else the glob of ``[model] wannier90``."""
    if seeds:
        return [str(s) for s in seeds]
    if config.model is None or config.model.wannier90 is None:
        raise ConfigError("wkin screen: give SEEDNAMEs, or a glob in [model] wannier90")
    found = sorted({p[:-len(suffix)] for suffix in ("_tb.dat", "_hr.dat", ".chk", "_tb.dat.gz", "_hr.dat.gz")
                    for p in glob.glob(config.model.wannier90 + suffix)})
    if not found:
        raise ConfigError(f"[model] wannier90: no Wannier90 model matches {config.model.wannier90!r}")
    return found


def _rows(config, seed, columns):
    """The table rows of one material: [(fermi energy, status, values)] (status 'ok' or the reason it failed)."""
    base = config.model if config.model is not None else ModelSettings(builtin=BUILTIN_MODELS[0])
    try:
        settings = replace(base, builtin=seed, wannier90=None, params={}) if seed in BUILTIN_MODELS \
            else replace(base, wannier90=seed, builtin=None, params={})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = api.run(api.model_from_settings(settings), replace(config, model=settings))
        empty = np.zeros(len(result.mu), bool)
        for r in result.results.values():
            if "fermi_surface_empty" in r.datasets:
                empty |= np.asarray(r.datasets["fermi_surface_empty"], bool)
        return [(float(m), "no Fermi surface" if empty[i] else "ok", [c(result, i) for c in columns])
                for i, m in enumerate(result.mu)]
    except (ValueError, KeyError, FileNotFoundError, OSError) as err:
        reason = (err.args[0] if err.args else str(err)) if not isinstance(err, OSError) or not err.strerror \
            else f"{err.strerror}: {err.filename}"
        return [(np.nan, f"failed: {str(reason).splitlines()[0]}", [np.nan] * len(columns))]


def _read_table(path):
    """Rows of an existing CSV table (for resuming)."""
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _write_tables(path, header, rows):
    """The CSV table and the HDF5 file beside it (same stem, .h5), written under temporary names and renamed."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    tmp.replace(path)
    h5 = path.with_suffix(".h5")
    tmp = h5.with_name(f".{h5.name}.tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["columns"] = header[3:]
        f.create_dataset("material", data=np.array([r[0] for r in rows], dtype=h5py.string_dtype()))
        d = f.create_dataset("fermi_energy", data=np.array([float(r[1]) for r in rows]))
        d.attrs["units"] = "eV"
        f.create_dataset("status", data=np.array([r[2] for r in rows], dtype=h5py.string_dtype()))
        for j, name in enumerate(header[3:]):
            f.create_dataset(f"column_{j}", data=np.array([float(r[3 + j]) for r in rows])).attrs["expression"] = name
    tmp.replace(h5)


def screen(config, seeds=(), table=None, columns=None):
    """Screen materials (module docstring); returns the path of the CSV table.

    ``config``: a :class:`wkin.config.RunConfig` (its ``[model]`` keys other than the model itself apply to
    every material); ``columns``: expressions (default: ``[screen] columns``); ``table``: the CSV path.
    """
    exprs = list(columns or [])
    if not exprs:
        raise ConfigError("[screen] columns: give at least one column, e.g. columns = [\"ahc[x,y]\"]")
    parsed = [parse_column(e, config.calculate.quantities) for e in exprs]
    path = Path(table)
    header = ["material", "fermi_energy_eV", "status"] + [c.text for c in parsed]
    done = _read_table(path)
    if done and list(done[0].keys()) != header:
        raise ConfigError(f"{path}: an existing table with other columns; remove it or choose another table")
    rows = [[r[h] for h in header] for r in done]
    todo = [s for s in materials(config, seeds) if s not in {r[0] for r in rows}]
    comm = parallel.world()
    nranks = 1 if comm is None else comm.Get_size()
    if nranks > 1 and len(todo) >= nranks:  # one material per rank at a time
        for start in range(0, len(todo), nranks):
            batch = todo[start:start + nranks]
            mine = batch[comm.Get_rank()] if comm.Get_rank() < len(batch) else None
            with parallel.alone():
                new = [] if mine is None else [[mine, m, s, *v] for m, s, v in _rows(config, mine, parsed)]
            for part in comm.allgather(new):
                rows.extend(part)
            if comm.Get_rank() == 0:
                _write_tables(path, header, rows)
    else:  # every material on all ranks
        for seed in todo:
            rows.extend([seed, m, s, *v] for m, s, v in _rows(config, seed, parsed))
            if parallel.is_root():
                _write_tables(path, header, rows)
    return path
