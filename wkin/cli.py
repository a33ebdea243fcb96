"""Command line: ``wkin run CONFIG.toml``, ``wkin info SEEDNAME``.

Errors in the input (configuration, Wannier90 files, Fermi energies outside
the bands) are printed as one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import __version__, parallel
from .progress import Progress


def _band_window(model, grid=(8, 8, 8)):
    """Lowest and highest Wannier-interpolated energy on a coarse grid (eV)."""
    from .mesh import uniform
    E = np.linalg.eigvalsh(model.hamiltonian(uniform(grid, (0.5, 0.5, 0.5))))
    return float(E.min()), float(E.max())


def build_model(model_cfg):
    """TightBindingModel from the [model] table of a configuration."""
    from .model import TightBindingModel
    if "wannier90" in model_cfg:
        return TightBindingModel.from_wannier90(model_cfg["wannier90"],
                                                use_ws_distance=model_cfg.get("use_ws_distance", True),
                                                spin=model_cfg.get("spin", False),
                                                orbital=model_cfg.get("orbital", False),
                                                orbital_convention=model_cfg.get("orbital_convention", "wannierberri"))
    from . import models
    try:
        return getattr(models, model_cfg["builtin"])(**model_cfg.get("params", {}))
    except TypeError as err:
        raise ValueError(f"[model] params: {err}") from None


def cmd_run(args):
    from . import config as cfgmod
    from .integrate import Integrals, Occupations, integrate
    from .io import results
    from .response.intrinsic import lookup
    cfg = cfgmod.load(args.config)
    model = build_model(cfg.model)
    if cfg.symmetry.get("symmetrize_hamiltonian", False):
        from .symmetrize_model import symmetrized_model
        model = symmetrized_model(model, cfg.model["wannier90"], magnetization=cfg.symmetry.get("magnetization"),
                                  symprec=cfg.symmetry.get("symprec", 1e-3))
        if not args.quiet and parallel.is_root():
            print(f"# Hamiltonian symmetrized over {model.symmetrization['operations']} operations: "
                  f"H(R) changed by up to {model.symmetrization['max_change_H']:.3e} eV")
    lo, hi = _band_window(model, tuple(min(int(g), 8) for g in cfg.grid))
    outside = cfg.mu[(cfg.mu < lo) | (cfg.mu > hi)]
    if outside.size:
        raise ValueError(f"[fermi] energies: {outside[0]:.4f} eV lies outside the Wannier bands "
                         f"[{lo:.4f}, {hi:.4f}] eV")
    occ = Occupations(mu=cfg.mu, temperature=cfg.temperature, surface_kind=cfg.surface, broadening=cfg.broadening)
    degen = cfg.model.get("degen_thresh", 1e-4)
    extrinsic = [q for q in cfg.quantities if q in cfgmod.EXTRINSIC]
    spin_needed = any(q in extrinsic for q in ("spin_density", "spin_orbit_torque"))
    sea_for_extrinsic = (["ahc"] if "ahe_extrinsic" in extrinsic else []) + (["spin_intrinsic"] if spin_needed else [])
    intrinsic = [q for q in cfg.quantities if q not in cfgmod.KINETIC]
    intrinsic += [q for q in sea_for_extrinsic if q not in intrinsic]
    if "noa_orb" in intrinsic:  # frequency-dependent: an Observable built from [calculate] frequencies, eta
        from .response.optical_activity import noa_orb
        intrinsic = [noa_orb(cfg.optics["frequencies"], cfg.optics["eta"], covariant=True) if q == "noa_orb" else q
                     for q in intrinsic]
    kinetic = [q for q in cfg.quantities if q in cfgmod.KINETIC and q not in cfgmod.EXTRINSIC]
    sym_mode = cfg.symmetry["mode"]
    sym = None
    if sym_mode != "off":
        from . import symmetry
        if model.atoms is None:
            raise ValueError("[symmetry] mode: the model has no atoms (a .win with atoms_frac/atoms_cart is needed)")
        sym = symmetry.crystal_symmetry(model, cfg.symmetry.get("magnetization"), cfg.symmetry.get("symprec", 1e-3))
    t0 = time.perf_counter()
    if not intrinsic:
        res = Integrals(values={}, nk_evaluated=0)
    elif sym_mode == "irreducible":
        res = symmetry.integrate_irreducible(model, intrinsic, occ, cfg.grid, params={"tau_fs": cfg.tau_fs},
                                             degen_thresh=degen, symmetry=sym, adaptive=cfg.adaptive)
    else:
        res = integrate(model, intrinsic, occ, cfg.grid, cfg.shift, params={"tau_fs": cfg.tau_fs},
                        adaptive=cfg.adaptive, degen_thresh=degen)
    bres = None
    if kinetic or extrinsic:
        from .disorder import Disorder
        disorder = Disorder(cfg.disorder["model"], float(cfg.disorder["strength"]),
                            third_moment=float(cfg.disorder.get("third_moment", 0.0)))
    if kinetic:
        from .response.boltzmann import conductivity_boltzmann
        smeared = cfg.disorder.get("quadrature", "tetrahedron") == "smeared"
        bres = conductivity_boltzmann(model, disorder, cfg.mu, cfg.grid, cfg.shift, cfg.temperature, degen_thresh=degen,
                                      keep_shells="scattering_rate" in kinetic,
                                      quadrature="smeared" if smeared else "tetrahedron",
                                      width=cfg.broadening or 0.0, pair_width=cfg.disorder.get("pair_broadening", 0.0))
    xres = None
    if extrinsic:
        from .response.extrinsic import extrinsic_responses, spin_orbit_torque
        xres = extrinsic_responses(model, disorder, cfg.mu, cfg.grid, cfg.shift, spin=spin_needed,
                                   companion_step=_companion_step(cfg.disorder.get("companion_step", 0.1)),
                                   degen_thresh=degen, intrinsic={q: res.values[q] for q in sea_for_extrinsic},
                                   omitted=bool(cfg.disorder.get("omitted_term", False)))
        if "spin_orbit_torque" in extrinsic:
            xres["spin_orbit_torque"] = {p: spin_orbit_torque(v, cfg.torque["exchange"], cfg.torque["axis"])
                                         for p, v in xres["spin_density"].items()}
        for group in [g for g in xres if g not in extrinsic]:
            del xres[group]
    wall = time.perf_counter() - t0
    if bres is not None and "scattering_rate" in kinetic:
        bres.shells = [results.gather_shell(s) for s in bres.shells]
    if parallel.is_root():
        observables = lookup(intrinsic)
        inputs = [cfg.source] + (sorted(_seed_files(cfg.model["wannier90"])) if "wannier90" in cfg.model else [])
        meta = {"config": cfg.raw, "inputs": results.file_hashes(inputs), "model": model.name,
                "num_wann": model.num_wann, "lattice": model.lattice, "cell_volume": model.cell_volume,
                "grid": cfg.grid, "shift": cfg.shift, "temperature": cfg.temperature,
                "tau_fs": cfg.tau_fs, "mpi_ranks": parallel.size(), "wall_time_s": wall}
        if bres is not None:
            meta["disorder"] = dict(cfg.disorder)
        checks = {}
        if sym is not None:
            meta.update(_symmetry_meta(sym, sym_mode))
            checks = _symmetry_checks(sym, res, observables, bres) if sym_mode == "verify" else {}
            if sym_mode == "verify" and xres is not None and "ahe_extrinsic" in xres:
                checks.update(_conductivity_piece_checks(sym, xres["ahe_extrinsic"]))
        meta.update(_hamiltonian_meta(model))
        results.write(cfg.output, res, observables, cfg.mu, meta, checks)
        if xres is not None:
            results.write_pieces(cfg.output, xres, cfg.torque, checks)
        if bres is not None:
            results.write_boltzmann(cfg.output, bres, "conductivity_boltzmann" in kinetic, "scattering_rate" in kinetic,
                                    checks.get("conductivity_boltzmann"))
        if not args.quiet:
            for name, frac in checks.items():
                print(f"# symmetry check {name}: |forbidden| / |tensor| = {frac:.3e}")
            print(results.summary(res, observables, cfg.mu))
            if bres is not None:
                print(results.summary_boltzmann(bres))
            print(f"# {res.nk_evaluated} k-points, {wall:.1f} s on {parallel.size()} rank(s); wrote {cfg.output}")
    return 0


def _symmetry_meta(sym, mode):
    """Root attributes describing the symmetry used."""
    return {"space_group": f"{sym.spacegroup_symbol} ({sym.spacegroup_number})",
            "point_group": sym.pointgroup_symbol,
            "magnetic_point_group": sym.magnetic_pointgroup_symbol or "unidentified",
            "symmetrized": mode == "irreducible", "symmetry_mode": mode}


def _hamiltonian_meta(model):
    """Root attributes of a symmetrized Wannier Hamiltonian (how much the input broke the symmetry)."""
    info = getattr(model, "symmetrization", None)
    if info is None:
        return {"hamiltonian_symmetrized": False}
    return {"hamiltonian_symmetrized": True, "symmetrization_max_change_H_eV": info["max_change_H"],
            "symmetrization_operations": info["operations"]}


def _symmetry_checks(sym, res, observables, bres):
    """Verification mode: |X − P X| / max(|P X|, |X|) per tensor, P the magnetic point-group projector.

    0 means the computed tensor has exactly the allowed form; 1 means it is all
    forbidden components (e.g. numerical noise in a tensor the group forbids).
    """
    from .symmetry import QUANTITY_KINDS, symmetrize
    tensors = {o.name: (res.values[o.name], QUANTITY_KINDS[o.name]) for o in observables if o.shape}
    if bres is not None:
        tensors["conductivity_boltzmann"] = (bres.full, "polar2_even")
    out = {}
    for name, (x, kind) in tensors.items():
        allowed = symmetrize(x, sym, kind)
        scale = max(np.linalg.norm(allowed), np.linalg.norm(x), 1e-300)
        out[name] = float(np.linalg.norm(x - allowed) / scale)
    return out


def _conductivity_piece_checks(sym, pieces):
    """Verification mode for ``ahe_extrinsic``: forbidden fraction of every piece (keys ``ahe_extrinsic/<piece>``).

    Onsager, σ_ab(m) = σ_ba(−m): the symmetric part of a conductivity is time-even, the antisymmetric (Hall)
    part time-odd, so the allowed part is P_even,sym(X) + P_odd,antisym(X) with the magnetic point group.
    """
    from .symmetry import symmetrize
    out = {}
    for piece, x in pieces.items():
        allowed = symmetrize(x, sym, "polar2_even", "symmetric") + symmetrize(x, sym, "polar2_odd", "antisymmetric")
        scale = max(np.linalg.norm(allowed), np.linalg.norm(x))
        if scale > 0:
            out[f"ahe_extrinsic/{piece}"] = float(np.linalg.norm(x - allowed) / scale)
    return out


def _companion_step(value):
    """[disorder] companion_step: a number (uniform step, eV) or [near, far, window] (graded around mu)."""
    return float(value) if isinstance(value, (int, float)) else tuple(float(x) for x in value)


def _seed_files(seed):
    from pathlib import Path
    p = Path(seed)
    return [str(f) for f in p.parent.glob(p.name + "*") if f.is_file()]


def cmd_info(args):
    from .model import TightBindingModel
    from .symmetry import space_group
    model = TightBindingModel.from_wannier90(args.seedname)
    lo, hi = _band_window(model)
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
    from .model import TightBindingModel
    from .symmetry import describe
    model = TightBindingModel.from_wannier90(args.seedname)
    if model.atoms is None:
        raise ValueError(f"{args.seedname}.win: no atoms (atoms_frac / atoms_cart) to analyse")
    print(describe(model, None if args.magnetization is None else np.array(args.magnetization)))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="wkin", description="Disorder-aware kinetic transport from Wannier functions")
    parser.add_argument("--version", action="version", version=f"wkin {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run the calculation described by a TOML configuration")
    p.add_argument("config")
    p.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    p.set_defaults(func=cmd_run)
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


if __name__ == "__main__":
    sys.exit(main())
