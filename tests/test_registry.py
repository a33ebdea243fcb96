"""The registry (wkin/quantities.py) is the one list of quantities: every entry is complete, documented and
validated, and no other module of the package names a quantity."""

import ast
from pathlib import Path

import numpy as np
import pytest

from wkin import quantities as registry
from wkin.settings import CalculateSettings
from wkin.symmetry import parse_kind

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = (ROOT / "docs" / "outputs.md").read_text()
TESTS = {p.name: p.read_text() for p in (ROOT / "tests").glob("test_*.py") if p.name != Path(__file__).name}
NAMES = list(registry.QUANTITIES)


@pytest.mark.parametrize("name", NAMES)
def test_entry_is_complete(name):
    q = registry.QUANTITIES[name]
    assert q.name == name and q.family in registry.FAMILIES
    assert isinstance(q.units, str) and q.units and q.description
    rank = parse_kind(q.tensor_kind)[0]  # a valid kind (raises otherwise)
    assert set(q.summary) <= set(q.datasets)
    for dname, d in q.datasets.items():
        assert isinstance(d.units, str) and d.axes_text, dname
        if d.per_energy and d.units == q.units and d.tensor:  # a tensor dataset: its axes end with the tensor's rank
            assert len(d.axes) >= rank, dname
    assert set(q.needs) <= {"disorder", "torque", "frequencies"}
    assert set(q.requires) <= {"spin", "full_orbital"}
    for other in q.sea_inputs:
        assert registry.QUANTITIES[other].family == "fermi_sea"
    if q.kinetic:
        assert q.shell and q.combine and q.observable is None and "disorder" in q.needs
        assert q.shell_observables and "fermi_surface_empty" in q.datasets
    else:
        assert q.observable is not None and q.shell is None and "value" in q.datasets


@pytest.mark.parametrize("name", [n for n in NAMES if not registry.QUANTITIES[n].kinetic])
def test_observable_agrees_with_its_entry(name):
    """The Observable an entry builds carries the entry's name, tensor kind and capabilities, and its value
    shape matches the tensor rank of the entry's ``value`` axes."""
    q = registry.QUANTITIES[name]
    o = q.observable(CalculateSettings(quantities=(name,), frequencies=(0.0, 0.1)))
    assert o.name == name and o.tensor_kind == q.tensor_kind and set(o.requires) == set(q.requires)
    assert o.kind == {"fermi_sea": "sea", "fermi_surface": "surface", "frequency": "sea"}[q.family]
    assert len(o.shape) == len(q.datasets["value"].axes)


@pytest.mark.parametrize("name", NAMES)
def test_documented_in_outputs(name):
    q = registry.QUANTITIES[name]
    assert q.doc == f"outputs.md#{name}"
    assert f"\n### `{name}`\n" in OUTPUTS, f"docs/outputs.md has no section ### `{name}`"


@pytest.mark.parametrize("name", NAMES)
def test_a_validation_test_names_it(name):
    hits = [f for f, text in TESTS.items() if f'"{name}"' in text]
    assert hits, f"no test names {name!r}"


def _string_constants(path):
    """String literals of a module that are not docstrings."""
    tree = ast.parse(path.read_text())
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs]


def test_no_other_module_lists_quantity_names():
    found = [f"{p.relative_to(ROOT)}:{line}: {value!r}" for p in sorted((ROOT / "wkin").rglob("*.py"))
             if p.name != "quantities.py" for line, value in _string_constants(p) if value in registry.QUANTITIES]
    assert not found, found


def test_unknown_names_and_duplicates_are_one_line_config_errors():
    from wkin.errors import ConfigError
    with pytest.raises(ConfigError, match="unknown quantity 'bogus'"):
        registry.get("bogus")
    with pytest.raises(ConfigError, match="listed twice"):
        CalculateSettings(quantities=("ahc", "ohmic", "ahc"))
    with pytest.raises(ConfigError, match="kinetic quantity"):
        registry.observables(["ahe_extrinsic"])


def test_one_unit_per_dimension():
    """Every conductivity is in the same unit (S/cm); the kinetic ones are converted from the kernels' S/m."""
    conductivities = [q for q in registry.QUANTITIES.values() if q.tensor_kind in ("polar2_odd", "polar2_even",
                                                                                   "conductivity")]
    assert {q.units for q in conductivities} == {"S/cm"}
    assert {"ahc", "ohmic", "conductivity_boltzmann", "ahe_extrinsic"} <= {q.name for q in conductivities}
    assert np.isclose(registry.S_PER_M_IN_S_PER_CM, 1e-2)
