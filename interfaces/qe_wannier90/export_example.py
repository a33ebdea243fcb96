#!/usr/bin/env python3
"""Copy the Wannier90 outputs of a finished pipeline run into examples/materials/<name>/.

Python standard library only.  Usage::

    python interfaces/qe_wannier90/export_example.py Te --workdir /tmp/w90_Te
    python interfaces/qe_wannier90/export_example.py Fe --workdir /tmp/w90_Fe --spin

Writes (gzip with a fixed mtime, so re-exports of identical data are byte-identical):

    <seed>_tb.dat.gz  <seed>_hr.dat.gz  <seed>_wsvec.dat.gz   (_r.dat is skipped: r(R) is in _tb.dat)
    <seed>_centres.xyz  <seed>.win  (the .win used by wannier90.x)
    provenance.json   (copy of the pipeline record, input texts included)
    reference/<run>/  postw90 outputs (plain text) and the .win used for each run

With ``--spin`` also (for spinor models):

    <seed>.spn.gz            pw2wannier90 spin matrices <psi_mk|sigma|psi_nk> (as written)
    <seed>.eig.gz            band energies on the ab-initio mesh
    <seed>.chk.gz            wannier90 checkpoint with the m_matrix record zeroed
                             (u_matrix, u_matrix_opt, lwindow, ndimwin, centres and
                             spreads are intact; only the overlap matrices M_mn(k,b),
                             which dominate the size, are set to 0).  Enough for
                             S(R) = FT[V^+ S_k V] and H(R) = FT[V^+ E_k V]; NOT enough
                             to recompute positions from the checkpoint -- use _tb.dat.
"""
from __future__ import annotations

import argparse
import gzip
import json
import shutil
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def gz_copy(src: Path, dest: Path) -> None:
    with open(src, "rb") as fi, open(dest, "wb") as raw:
        # mtime=0 and no file name in the header: reproducible bytes
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as fo:
            shutil.copyfileobj(fi, fo)


def read_records(path: Path) -> list[bytes]:
    """Records of a gfortran sequential unformatted file (4-byte markers)."""
    data = path.read_bytes()
    recs, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from("<i", data, pos)
        if n < 0:
            raise ValueError("sub-records (records > 2 GiB) are not supported")
        body = data[pos + 4: pos + 4 + n]
        (n2,) = struct.unpack_from("<i", data, pos + 4 + n)
        if n2 != n:
            raise ValueError(f"{path}: record markers do not match at byte {pos}")
        recs.append(body)
        pos += 8 + n
    return recs


def write_records(recs: list[bytes]) -> bytes:
    out = bytearray()
    for r in recs:
        out += struct.pack("<i", len(r)) + r + struct.pack("<i", len(r))
    return bytes(out)


def stripped_chk(src: Path) -> bytes:
    """Return the checkpoint with the m_matrix record replaced by zeros.

    wannier90 3.x layout (w90_param_write_chkpt): ..., num_kpts (rec 7), mp_grid,
    kpt_latt, nntot (rec 10), num_wann (rec 11), checkpoint, have_disentangled,
    [omega_invariant, lwindow, ndimwin, u_matrix_opt], u_matrix, m_matrix,
    wannier_centres, wannier_spreads.
    """
    recs = read_records(src)
    num_kpts = struct.unpack("<i", recs[6])[0]
    nntot = struct.unpack("<i", recs[9])[0]
    num_wann = struct.unpack("<i", recs[10])[0]
    m_idx = len(recs) - 3
    expected = 16 * num_wann * num_wann * nntot * num_kpts
    if len(recs[m_idx]) != expected:
        raise ValueError(f"unexpected chk layout: record {m_idx} has {len(recs[m_idx])} "
                         f"bytes, m_matrix needs {expected}")
    recs[m_idx] = bytes(expected)
    return write_records(recs)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("material")
    p.add_argument("--workdir", required=True)
    p.add_argument("--dest", default=None, help="default: examples/materials/<material>")
    p.add_argument("--spin", action="store_true", help="also export .spn, .eig, stripped .chk")
    a = p.parse_args(argv)

    work = Path(a.workdir).resolve()
    prov = json.loads((work / "provenance.json").read_text())
    seed = prov["material_config"]["seed"]
    dest = Path(a.dest) if a.dest else REPO / "examples" / "materials" / a.material
    dest.mkdir(parents=True, exist_ok=True)

    for suffix in ("_tb.dat", "_hr.dat", "_wsvec.dat"):
        gz_copy(work / f"{seed}{suffix}", dest / f"{seed}{suffix}.gz")
    shutil.copyfile(work / f"{seed}_centres.xyz", dest / f"{seed}_centres.xyz")
    shutil.copyfile(work / f"{seed}.win.base", dest / f"{seed}.win")
    shutil.copyfile(work / "provenance.json", dest / "provenance.json")

    if a.spin:
        gz_copy(work / f"{seed}.spn", dest / f"{seed}.spn.gz")
        gz_copy(work / f"{seed}.eig", dest / f"{seed}.eig.gz")
        tmp = dest / f"{seed}_stripped.chk"
        tmp.write_bytes(stripped_chk(work / f"{seed}.chk"))
        gz_copy(tmp, dest / f"{seed}.chk.gz")  # named as a checkpoint so readers find it; m_matrix zeroed
        tmp.unlink()

    pw90 = work / "postw90"
    if pw90.is_dir():
        ref = dest / "reference"
        if ref.exists():
            shutil.rmtree(ref)
        for run in sorted(pw90.iterdir()):
            (ref / run.name).mkdir(parents=True)
            for f in sorted(run.iterdir()):
                if f.name.endswith(".werr") and f.stat().st_size == 0:
                    continue
                shutil.copyfile(f, ref / run.name / f.name)

    total = 0
    for f in sorted(dest.rglob("*")):
        if f.is_file():
            total += f.stat().st_size
            print(f"{f.stat().st_size:>10d}  {f.relative_to(REPO)}")
    print(f"{total:>10d}  total ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    sys.exit(main())
