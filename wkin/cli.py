"""Command line: ``wkin run CONFIG.toml``, ``wkin info SEEDNAME``, ``wkin symmetry SEEDNAME``.

``wkin run`` is a thin layer over the Python API (:mod:`wkin.api`): configuration (:mod:`wkin.config`) →
model → run plan (:mod:`wkin.plan`) → HDF5 file and summary (:mod:`wkin.io.results`). Errors in the input
(configuration, Wannier90 files, Fermi energies outside the bands) are printed as one line on
stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from . import __version__, api, parallel
from . import config as configuration
from .bands import band_window
from .errors import ConfigError
from .io import results
from .model import TightBindingModel
from .progress import Progress
from .screen import screen
from .symmetry import describe, space_group


def cmd_run(args):
    cfg = configuration.load(args.config)
    results.check_output(cfg.output)
    model = api.model_from_settings(cfg.model)
    run = api.run(model, cfg)
    if parallel.is_root():
        inputs = [cfg.source] + (sorted(_seed_files(cfg.model.wannier90)) if cfg.model.wannier90 else [])
        replaced = run.to_hdf5(cfg.output, cfg.raw, results.file_hashes(inputs))
        if not args.quiet:
            info = run.attributes
            if info.get("hamiltonian_symmetrized"):
                print(f"# Hamiltonian symmetrized over {info['symmetrization_operations']} operations: "
                      f"H(R) changed by up to {info['symmetrization_max_change_H_eV']:.3e} eV")
            for r in run.results.values():
                for name, frac in r.forbidden_fraction.items():
                    label = r.quantity.name if name == "value" else f"{r.quantity.name}/{name}"
                    print(f"# symmetry check {label}: |forbidden| / |tensor| = {frac:.3e}")
            print(results.summary(run))
            work = ([f"{run.nk_evaluated} k-points"] if run.nk_evaluated else []) + \
                ([f"{run.n_shells} Fermi shell(s)"] if run.n_shells else [])
            print(f"# {', '.join(work)}, {run.wall_time_s:.1f} s on {parallel.size()} rank(s); "
                  f"{'replaced' if replaced else 'wrote'} {cfg.output}")
    return 0


def cmd_screen(args):
    cfg = configuration.load(args.config, model_required=False)
    if cfg.screen is None:
        raise ConfigError(f"{args.config}: [screen]: missing (give columns = [...] and table = \"screen.csv\")")
    path = screen(cfg, args.seednames, cfg.screen.table, cfg.screen.columns)
    if parallel.is_root() and not args.quiet:
        print(f"# wrote {path} and {path.with_suffix('.h5')}")
    return 0


def cmd_plot(args):
    from .plot import plot_results  # noqa: PLC0415 - matplotlib is an optional extra
    for out in plot_results(args.results, args.outdir):
        print(out)
    return 0


def cmd_bands(args):
    from .plot import band_structure  # noqa: PLC0415 - matplotlib and seekpath are an optional extra
    spin = args.colour is not None and args.colour.startswith("spin")
    model = TightBindingModel.from_wannier90(args.seedname, spin=spin)
    stem = Path(args.seedname).name
    output, png = args.output or f"{stem}_bands.h5", args.png or f"{stem}_bands.png"
    window = None if args.emin is None and args.emax is None else (args.emin, args.emax)
    band_structure(model, args.colour, output=output, png=png, window=window)
    print(f"# wrote {output} and {png}")
    return 0


def _seed_files(seed):
    p = Path(seed)
    return [str(f) for f in p.parent.glob(p.name + "*") if f.is_file()]


def cmd_info(args):
    model = TightBindingModel.from_wannier90(args.seedname)
    lo, hi = band_window(model)
    print(f"model        : {model.name}")
    print(f"num_wann     : {model.num_wann}")
    print(f"R vectors    : {len(model.R)}")
    print("lattice (Å)  :")
    for a in model.lattice:
        print("   " + " ".join(f"{x:12.6f}" for x in a))
    print(f"cell volume  : {model.cell_volume:.6f} Å^3")
    sg = space_group(model)
    print(f"space group  : {sg if sg else 'unknown (no atoms in .win)'}")
    print(f"band window  : [{lo:.4f}, {hi:.4f}] eV (8x8x8 grid)")
    print(f"position A(R): {'yes' if model.has_position else 'no (diagonal tight-binding approximation)'}")
    print(f"spin S(R)    : {'yes' if model.has_spin else 'no'}")
    return 0


def cmd_symmetry(args):
    model = TightBindingModel.from_wannier90(args.seedname)
    if model.atoms is None:
        raise ValueError(f"{args.seedname}.win: no atoms (atoms_frac / atoms_cart) to analyse")
    print(describe(model, None if args.magnetization is None else np.array(args.magnetization)))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="wkin", description="Disorder-aware kinetic transport from Wannier functions")
    parser.add_argument("--version", action="version", version=f"wkin {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run the calculation described by a TOML configuration",
                       description="Run the calculation described by a TOML configuration and write an HDF5 file "
                                   "([output] file). Every section and key: docs/config.md; every quantity, its "
                                   "formula, units and datasets: docs/outputs.md.")
    p.add_argument("config", help="the TOML configuration (docs/config.md)")
    p.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("screen", help="run one configuration over many Wannier models; one table of scalars",
                       description="Run CONFIG over every SEEDNAME (or the glob of [model] wannier90) and write the "
                                   "[screen] table: one row per material and Fermi energy, a status column, the "
                                   "[screen] columns (docs/screening.md). Materials already in the table are skipped.")
    p.add_argument("config")
    p.add_argument("seednames", nargs="*", help="Wannier90 seednames or built-in model names")
    p.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    p.set_defaults(func=cmd_screen)
    p = sub.add_parser("plot", help="PNGs of every quantity of a results file against the Fermi energy")
    p.add_argument("results", help="HDF5 file written by wkin run")
    p.add_argument("--outdir", default=None, help="folder of the PNGs (default: beside the results file)")
    p.set_defaults(func=cmd_plot)
    p = sub.add_parser("bands", help="band structure along the standard high-symmetry path (HDF5 and PNG)")
    p.add_argument("seedname")
    p.add_argument("--colour", default=None, help="spin-x|y|z (reads .chk/.eig/.spn) or berry-x|y|z")
    p.add_argument("--output", default=None, help="HDF5 file (default SEED_bands.h5)")
    p.add_argument("--png", default=None, help="picture (default SEED_bands.png)")
    p.add_argument("--emin", type=float, default=None)
    p.add_argument("--emax", type=float, default=None)
    p.set_defaults(func=cmd_bands)
    p = sub.add_parser("symmetry", help="space/magnetic point group and the tensor forms it allows")
    p.add_argument("seedname")
    p.add_argument("--magnetization", type=float, nargs=3, metavar=("MX", "MY", "MZ"),
                   help="Cartesian magnetization direction (ferromagnet)")
    p.set_defaults(func=cmd_symmetry)
    p = sub.add_parser("info", help="summary of a Wannier90 model (num_wann, lattice, space group, bands)")
    p.add_argument("seedname")
    p.set_defaults(func=cmd_info)
    args = parser.parse_args(argv)
    Progress.enabled = not getattr(args, "quiet", False)
    try:
        return args.func(args)
    except (ValueError, KeyError, FileNotFoundError) as err:
        msg = err.args[0] if err.args else str(err)
        print(f"wkin: error: {msg}", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. the results file vanished or the disk filled during the run
        print(f"wkin: error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
