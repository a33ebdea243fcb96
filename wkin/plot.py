"""Pictures: every quantity of a results file against the Fermi energy, and band structures along the standard
high-symmetry path (``wkin plot``, ``wkin bands``). Needs the ``plot`` extra: matplotlib and seekpath.

- :func:`plot_results`: one PNG per quantity of a results file (``docs/outputs.md``): the components that are
  not negligible against the Fermi energy (one line per frequency for a frequency-dependent quantity); the
  pieces of a split quantity (``ahe_extrinsic``, ``spin_density``, ``spin_orbit_torque``) on one figure, for
  the component with the largest ``total``.
- :func:`band_structure`: energies (eV) along the path of Hinuma et al., Comp. Mat. Sci. 128, 140 (2017)
  (seekpath, for the structure of the model's ``.win``, in the model's own reciprocal basis), optionally
  coloured by a band quantity (a spin component ⟨σ_c⟩, or the Berry curvature Ω_c in Å²); written to HDF5 and
  drawn.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import h5py
import numpy as np

from . import bands as band_solver
from .errors import ConfigError

#: band colourings of :func:`band_structure`: name → (BandBatch attribute, component, label)
COLOURS = {**{f"spin-{a}": ("spin", i, rf"$\langle\sigma_{a}\rangle$") for i, a in enumerate("xyz")},
           **{f"berry-{a}": ("berry_curvature", i, rf"$\Omega_{a}$ (Å$^2$)") for i, a in enumerate("xyz")}}


def _pyplot():
    try:
        import matplotlib  # noqa: PLC0415 - optional dependency, the 'plot' extra
    except ImportError:
        raise ConfigError("pictures need matplotlib: pip install \"wkin[plot]\"") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    return plt


_LABELS = "xyz"


def _components(x, rel=1e-2, most=9):
    """Indices of the tensor components (trailing axes) that are not negligible, largest first."""
    flat = np.abs(np.nan_to_num(x)).reshape(len(x), -1).max(axis=0)
    order = [int(i) for i in np.argsort(-flat) if flat[i] > rel * max(flat.max(), 1e-300)]
    shape = x.shape[1:]
    return [np.unravel_index(i, shape) for i in order[:most]]


def plot_results(path, outdir=None):
    """One PNG per quantity of the HDF5 results file ``path`` (into ``outdir``, default beside it); their paths."""
    plt = _pyplot()
    path = Path(path)
    outdir = Path(outdir) if outdir is not None else path.parent
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    with h5py.File(path) as f:
        mu = f["fermi_energies"][()]
        for name, g in f.items():
            if not isinstance(g, h5py.Group):
                continue
            fig, ax = plt.subplots(figsize=(6.4, 4.4))
            drawn = _draw_group(ax, name, g, mu)
            if not drawn:
                plt.close(fig)
                continue
            ax.set_xlabel(drawn if isinstance(drawn, str) else "Fermi energy (eV)")
            ax.set_title(textwrap.fill(f"{name}: {g.attrs.get('description', '')}", 90), fontsize=8)
            ax.legend(fontsize=7, ncol=2)
            ax.grid(alpha=0.3)
            out = outdir / f"{path.stem}_{name}.png"
            fig.tight_layout()
            fig.savefig(out, dpi=110)
            plt.close(fig)
            written.append(out)
    return written


def _draw_group(ax, name, g, mu):
    """Lines of one quantity; False when it has nothing per Fermi energy to draw (e.g. per-state datasets), a string
    (the x-axis label) when the x axis is not the Fermi energy."""
    style = {"marker": "o", "markersize": 3}
    if "total" in g and "frequency" in g and g["total"].ndim == 4:
        return _draw_pieces_against_frequency(ax, name, g, mu, style)
    if "total" in g:  # a split quantity: every piece, for the largest component of the total
        total = g["total"][()]
        (idx,) = _components(total, most=1) or [(0, 1)]
        label = "".join(_LABELS[i] for i in idx)
        for piece, d in g.items():
            if d.ndim == 3 and d.shape[0] == len(mu) and piece != "fermi_surface_empty":
                ax.plot(mu, d[()][(slice(None),) + tuple(idx)], label=f"{piece} [{label}]", **style)
        ax.set_ylabel(f"{name}_{label} ({g['total'].attrs.get('units', '')})")
        return True
    if "value" not in g or g["value"].shape[:1] != (len(mu),):
        return False
    value, units = g["value"][()], g["value"].attrs.get("units", "")
    if "frequency" in g:  # (n_mu, n_freq, ...): the largest component, one line per frequency
        freqs = g["frequency"][()]
        (idx,) = _components(value.reshape((-1,) + value.shape[2:]), most=1) or [(0, 0)]
        for j, w in enumerate(freqs):
            ax.plot(mu, value[:, j][(slice(None),) + tuple(idx)], label=f"ħω = {w:g} eV", **style)
        ax.set_ylabel(f"{name}_{''.join(_LABELS[i] for i in idx)} ({units})")
        return True
    if value.ndim == 1:
        ax.plot(mu, value, label=name, **style)
    else:
        for idx in _components(value):
            ax.plot(mu, value[(slice(None),) + tuple(idx)], label="".join(_LABELS[i] for i in idx), **style)
    ax.set_ylabel(f"{name} ({units})")
    return True


def _draw_pieces_against_frequency(ax, name, g, mu, style, most=3):
    """|piece| against ħω (log scale) for the largest component of the total, at up to ``most`` Fermi energies: which
    mechanism dominates below and above the crossover (``gyrotropic``)."""
    total, freqs = g["total"][()], g["frequency"][()]
    (idx,) = _components(total.reshape((-1,) + total.shape[2:]), most=1) or [(0, 0)]
    label = "".join(_LABELS[i] for i in idx)
    lines = ("-", "--", ":")
    for k, i in enumerate(np.unique(np.linspace(0, len(mu) - 1, min(len(mu), most)).round().astype(int))):
        for c, (piece, d) in enumerate((p, d) for p, d in g.items() if d.ndim == 4):
            ax.plot(freqs, np.abs(d[()][i][(slice(None),) + tuple(idx)]), lines[k % 3], color=f"C{c}",
                    label=f"{piece}, mu = {mu[i]:.3f} eV", **style)
    ax.set_yscale("log")
    ax.set_ylabel(f"|{name}_{label}| ({g['total'].attrs.get('units', '')})")
    return "photon energy hbar*omega (eV)"


def band_structure(model, colour=None, reference_distance=0.025, output=None, png=None, window=None,
                   degen_thresh=band_solver.DEGEN_THRESH):
    """Bands along the standard path of the model's structure (module docstring).

    ``colour``: None or a key of :data:`COLOURS` (``spin-z``, ``berry-z``, ...); ``output``: HDF5 path
    (datasets ``k`` (reduced, the model's basis), ``x`` (path length, 1/Å), ``energies`` (eV), ``colour``,
    ``ticks``/``tick_labels``, ``segments``); ``png``: the picture; ``window``: (emin, emax) in eV for the plot.
    Returns a dict of the same arrays.
    """
    import seekpath  # noqa: PLC0415 - optional dependency, the 'plot' extra
    if model.atoms is None:
        raise ConfigError("band structure: the model has no atoms (a .win with atoms_frac/atoms_cart is needed) "
                          "for the high-symmetry path")
    if colour is not None and colour not in COLOURS:
        raise ConfigError(f"band colour: expected one of {', '.join(COLOURS)}, got {colour!r}")
    positions, numbers = model.atoms
    path = seekpath.get_explicit_k_path_orig_cell((model.lattice, positions, numbers),
                                                  reference_distance=reference_distance)
    k = np.asarray(path["explicit_kpoints_rel"], float)
    x = np.asarray(path["explicit_kpoints_linearcoord"], float)
    labels = ["Γ" if lab == "GAMMA" else lab for lab in path["explicit_kpoints_labels"]]
    b = band_solver.solve(model, k, degen_thresh)
    data = {"k": k, "x": x, "energies": b.energies, "segments": np.asarray(path["explicit_segments"], int),
            **_ticks(x, labels)}
    if colour is not None:
        attr, comp, _ = COLOURS[colour]
        data["colour"] = getattr(b, attr)[..., comp]
    if output is not None:
        with h5py.File(output, "w") as f:
            for key, value in data.items():
                if key == "tick_labels":
                    f.create_dataset(key, data=np.array(value, dtype=h5py.string_dtype()))
                    continue
                d = f.create_dataset(key, data=value)
                berry = colour is not None and colour.startswith("berry")
                d.attrs["units"] = {"k": "reduced", "x": "1/Angstrom", "energies": "eV", "tick_positions": "1/Angstrom",
                                    "colour": "Angstrom^2" if berry else "1"}.get(key, "")
            f.attrs["model"] = model.name
            f.attrs["path"] = "HPKOT (seekpath), " + str(path["bravais_lattice_extended"])
            if colour is not None:
                f.attrs["colour"] = colour
    if png is not None:
        _draw_bands(data, colour, png, window)
    return data


def _ticks(x, labels):
    """High-symmetry ticks; where the path jumps (two labels at one position) the label reads "H|L"."""
    pos, names = [], []
    for xi, lab in zip(x, labels):
        if not lab:
            continue
        if pos and abs(xi - pos[-1]) < 1e-9:
            if lab != names[-1]:
                names[-1] += "|" + lab
            continue
        pos.append(xi)
        names.append(lab)
    return {"tick_positions": np.array(pos), "tick_labels": names}


def _draw_bands(data, colour, png, window):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    x, E = data["x"], data["energies"]
    scale = None
    if colour is not None:
        c = data["colour"]
        shown = c if window is None else c[(E >= window[0]) & (E <= window[1])]
        # Berry curvature diverges at near-degeneracies: scale to the 98th percentile, clip the rest
        lim = np.percentile(np.abs(shown), 98) if shown.size else 0.0
        scale = plt.Normalize(-(lim or 1.0), lim or 1.0)
    for start, stop in data["segments"]:
        seg = slice(start, stop)
        for n in range(E.shape[1]):
            if colour is None:
                ax.plot(x[seg], E[seg, n], color="k", lw=1)
            else:
                art = ax.scatter(x[seg], E[seg, n], c=data["colour"][seg, n], cmap="coolwarm", norm=scale, s=4)
    if colour is not None:
        fig.colorbar(art, ax=ax, label=COLOURS[colour][2], extend="both")
    for t in data["tick_positions"]:
        ax.axvline(t, color="0.7", lw=0.6)
    ax.set_xticks(data["tick_positions"])
    ax.set_xticklabels(data["tick_labels"])
    ax.set_xlim(x.min(), x.max())
    if window is not None:
        ax.set_ylim(*window)
    ax.set_ylabel("energy (eV)")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
