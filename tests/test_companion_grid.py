"""Companion-shell energy grid of the skew term: uniform (as before) or graded around the Fermi energy."""

import numpy as np
import pytest

from wkin.config import ConfigError, load
from wkin.response.extrinsic import _companion_grid


def test_uniform_grid_is_the_previous_linspace():
    lo, hi, step = -8.3, 31.7, 1.0
    assert np.array_equal(_companion_grid(lo, hi, step), np.linspace(lo, hi, int(np.ceil((hi - lo) / step)) + 1))
    assert np.array_equal(_companion_grid(2.0, 2.0 + 1e-12, 0.5), [2.0])


def test_graded_grid_is_fine_near_mu_and_coarse_far():
    lo, hi, mu = -8.3, 31.7, 13.52
    g = _companion_grid(lo, hi, (0.25, 1.0, 2.0), mu)
    assert g[0] == lo and g[-1] == hi and np.all(np.diff(g) > 0)
    near = np.diff(g)[(g[:-1] >= mu - 2.0) & (g[1:] <= mu + 2.0)]
    assert near.size >= 16 and near.max() <= 0.25 + 1e-12
    assert np.diff(g).max() <= 1.0 + 1e-12
    assert len(g) < len(_companion_grid(lo, hi, 0.25)) / 2
    assert np.array_equal(_companion_grid(lo, hi, (0.5, 2.0, 1.0), None), _companion_grid(lo, hi, 0.5))


@pytest.mark.parametrize("value", ["0", "-1.0", "[0.25, 1.0]", "[0.25, 0, 2.0]", "true"])
def test_bad_companion_step_is_a_config_error(tmp_path, value):
    (tmp_path / "c.toml").write_text(f"""
[model]
builtin = "massive_dirac"
[mesh]
grid = [20, 20, 1]
[fermi]
energies = [0.1]
[calculate]
quantities = ["ahe_extrinsic"]
[disorder]
model = "cell"
strength = 0.01
companion_step = {value}
""")
    with pytest.raises(ConfigError, match="companion_step"):
        load(tmp_path / "c.toml")
