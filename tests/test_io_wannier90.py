"""Tests of wkin.io.wannier90: round trips, gzip, precise errors, ws_distance, WannierBerri."""

import gzip
import itertools
import os

import numpy as np
import pytest

from wkin.io import wannier90 as w90
from wkin.io.wannier90 import Wannier90FormatError
from wkin.model import TightBindingModel


# ---------------------------------------------------------------------------- helpers
def _hermitian_blocks(R, X):
    """Symmetrize X so that X(-R) = X(R)^dagger (per component)."""
    index = {tuple(r): i for i, r in enumerate(R)}
    minus = np.array([index[tuple(-r)] for r in R])
    return 0.5 * (X + np.swapaxes(X[minus].conj(), -1, -2))


def random_model(nw=3, seed=0, with_A=True):
    rng = np.random.default_rng(seed)
    R = np.array(list(itertools.product(range(-1, 2), repeat=3)) + [[2, 0, 0], [-2, 0, 0]])
    lattice = np.array([[0.0, 2.0, 2.0], [2.0, 0.0, 2.0], [2.0, 2.0, 0.0]]) + 0.1 * rng.standard_normal((3, 3))
    H = rng.standard_normal((len(R), nw, nw)) + 1j * rng.standard_normal((len(R), nw, nw))
    H = _hermitian_blocks(R, H)
    A = None
    if with_A:
        A = rng.standard_normal((len(R), 3, nw, nw)) + 1j * rng.standard_normal((len(R), 3, nw, nw))
        A = _hermitian_blocks(R, A)
    return TightBindingModel(lattice, R, H, A_R=A, name="rand")


def symmetric_ndegen(R, seed=1):
    rng = np.random.default_rng(seed)
    nd = rng.integers(1, 5, len(R))
    index = {tuple(r): i for i, r in enumerate(R)}
    for i, r in enumerate(R):
        nd[index[tuple(-r)]] = nd[i]
    return nd


WIN_TEXT = """! test input
num_wann = {nw}
Spinors : .false.
fermi_energy   5.5   # eV
MP_GRID = 4 4 4
begin Unit_Cell_Cart
{lattice}
end unit_cell_cart
begin atoms_frac
Fe1 0.0 0.0 0.0
O   0.5 0.5 0.5
end atoms_frac
"""


def write_win(path, model):
    lat = "\n".join(" ".join(f"{x:.16e}" for x in a) for a in model.lattice)
    with open(path, "w") as f:
        f.write(WIN_TEXT.format(nw=model.num_wann, lattice=lat))


def kpts(n=7, seed=3):
    return np.random.default_rng(seed).random((n, 3))


# ---------------------------------------------------------------------------- round trips
def test_tb_roundtrip(tmp_path):
    model = random_model()
    nd = symmetric_ndegen(model.R)
    p = tmp_path / "x_tb.dat"
    w90.write_tb(p, model, ndegen=nd)
    d = w90.read_tb(p)
    np.testing.assert_allclose(d["lattice"], model.lattice, atol=1e-15)
    np.testing.assert_array_equal(d["R"], model.R)
    np.testing.assert_array_equal(d["ndegen"], nd)
    np.testing.assert_allclose(d["H_R"] / nd[:, None, None], model.H_R, atol=1e-14)
    np.testing.assert_allclose(d["A_R"] / nd[:, None, None, None], model.A_R, atol=1e-14)
    assert d["A_R"].shape == (len(model.R), 3, 3, 3)


def test_tb_without_position_section(tmp_path):
    model = random_model(nw=2)
    p = tmp_path / "x_tb.dat"
    w90.write_tb(p, model)
    lines = p.read_text().splitlines()
    nH = 6 + 2 + len(model.R) * (2 + 4)  # header, lattice, nw, nrpts; 2 ndegen lines; H blocks
    p.write_text("\n".join(lines[:nH]) + "\n")
    d = w90.read_tb(p)
    assert d["A_R"] is None
    np.testing.assert_allclose(d["H_R"], model.H_R, atol=1e-14)


def test_hr_r_roundtrip_and_load(tmp_path):
    model = random_model(seed=5)
    nd = symmetric_ndegen(model.R, seed=7)
    seed = str(tmp_path / "mat")
    w90.write_hr(seed + "_hr.dat", model, ndegen=nd)
    w90.write_r(seed + "_r.dat", model, ndegen=nd)
    write_win(seed + ".win", model)
    d = w90.read_hr(seed + "_hr.dat")
    np.testing.assert_array_equal(d["R"], model.R)
    np.testing.assert_allclose(d["H_R"] / nd[:, None, None], model.H_R, atol=1e-14)
    r = w90.read_r(seed + "_r.dat")
    assert r["ndegen"] is None
    np.testing.assert_allclose(r["A_R"] / nd[:, None, None, None], model.A_R, atol=1e-14)

    kw = w90.load_model_data(seed)
    assert kw["name"] == "mat" and kw["S_R"] is None
    np.testing.assert_allclose(kw["lattice"], model.lattice, atol=1e-14)
    np.testing.assert_allclose(kw["H_R"], model.H_R, atol=1e-14)
    np.testing.assert_allclose(kw["A_R"], model.A_R, atol=1e-14)
    i0 = np.flatnonzero(np.all(model.R == 0, axis=1))[0]
    np.testing.assert_allclose(kw["centres"], np.diagonal(model.A_R[i0], axis1=1, axis2=2).real.T)
    pos, numbers = kw["atoms"]
    np.testing.assert_allclose(pos, [[0, 0, 0], [0.5, 0.5, 0.5]])
    np.testing.assert_array_equal(numbers, [26, 8])
    m2 = TightBindingModel(**kw)
    k = kpts()
    np.testing.assert_allclose(m2.hamiltonian(k), model.hamiltonian(k), atol=1e-12)


def test_r_with_old_ndegen_list(tmp_path):
    model = random_model(nw=2, seed=2)
    p = tmp_path / "x_r.dat"
    w90.write_r(p, model)
    lines = p.read_text().splitlines()
    nd = "".join(f"{1:5d}" for _ in model.R[:15]) + "\n" + "".join(f"{1:5d}" for _ in model.R[15:])
    p.write_text("\n".join(lines[:3] + nd.splitlines() + lines[3:]) + "\n")
    r = w90.read_r(p)
    np.testing.assert_array_equal(r["ndegen"], np.ones(len(model.R)))
    np.testing.assert_allclose(r["A_R"], model.A_R, atol=1e-14)


def test_gzip_transparent(tmp_path):
    model = random_model(seed=11)
    seed = str(tmp_path / "gz")
    w90.write_tb(seed + "_tb.dat.gz", model)
    assert not os.path.exists(seed + "_tb.dat")
    with gzip.open(seed + "_tb.dat.gz", "rt") as f:
        assert f.readline().startswith("written by")
    d = w90.read_tb(seed + "_tb.dat")  # resolves the .gz
    np.testing.assert_allclose(d["H_R"], model.H_R, atol=1e-14)
    d2 = w90.read_tb(seed + "_tb.dat.gz")
    np.testing.assert_allclose(d2["A_R"], model.A_R, atol=1e-14)
    kw = w90.load_model_data(seed)
    np.testing.assert_allclose(kw["H_R"], model.H_R, atol=1e-14)
    assert kw["atoms"] is None
    w90.write_hr(tmp_path / "h_hr.dat.gz", model)
    np.testing.assert_allclose(w90.read_hr(tmp_path / "h_hr.dat")["H_R"], model.H_R, atol=1e-14)


def test_load_model_from_tb_matches(tmp_path):
    model = random_model(seed=4)
    nd = symmetric_ndegen(model.R, seed=9)
    seed = str(tmp_path / "m")
    w90.write_tb(seed + "_tb.dat", model, ndegen=nd)
    centres = np.arange(9.0).reshape(3, 3)
    with open(seed + "_centres.xyz", "w") as f:
        f.write(" 4\n Wannier centres, written by test\n")
        for c in centres:
            f.write("X {:.10f} {:.10f} {:.10f}\n".format(*c))
        f.write("Fe 0.0 0.0 0.0\n")
    np.testing.assert_allclose(w90.load_model_data(seed)["centres"], centres)
    m2 = TightBindingModel.from_wannier90(seed)
    k = kpts()
    a, b = m2.fourier(k), model.fourier(k)
    for key in ("H", "dH", "A", "Obar"):
        np.testing.assert_allclose(a[key], b[key], atol=1e-11)


def test_load_hr_without_r_uses_centres_file(tmp_path):
    model = random_model(nw=2, seed=6, with_A=False)
    seed = str(tmp_path / "h")
    w90.write_hr(seed + "_hr.dat", model)
    write_win(seed + ".win", model)
    with open(seed + "_centres.xyz", "w") as f:
        f.write("2\ncomment\nX 0.1 0.2 0.3\nX 1 1 1\n")
    kw = w90.load_model_data(seed)
    assert kw["A_R"] is None
    m2 = TightBindingModel(**kw)
    np.testing.assert_allclose(m2.centres, [[0.1, 0.2, 0.3], [1, 1, 1]])
    k = kpts()
    np.testing.assert_allclose(m2.hamiltonian(k), model.hamiltonian(k), atol=1e-12)


def test_missing_hamiltonian_lists_names(tmp_path):
    with pytest.raises(FileNotFoundError) as exc:
        w90.load_model_data(tmp_path / "nothing")
    msg = str(exc.value)
    for s in ("nothing_tb.dat", "nothing_tb.dat.gz", "nothing_hr.dat", "nothing_hr.dat.gz"):
        assert s in msg


def test_hr_needs_lattice(tmp_path):
    model = random_model(nw=2)
    w90.write_hr(tmp_path / "a_hr.dat", model)
    with pytest.raises(FileNotFoundError, match="unit_cell_cart"):
        w90.load_model_data(tmp_path / "a")


# ---------------------------------------------------------------------------- other readers
def test_read_win(tmp_path):
    p = tmp_path / "s.win"
    p.write_text("""# comment line
NUM_WANN : 4
spinors = T
begin unit_cell_cart
bohr
 2.0 0.0 0.0   ! a1
 0.0 2.0 0.0
 0.0 0.0 2.0
end unit_cell_cart

begin atoms_cart
ang
Cu_up 0.0 0.0 0.0
C2    0.529177 0.529177 0.529177
end atoms_cart
begin projections
Cu:d
end projections
dis_win_max = 20.0
""")
    d = w90.read_win(p)
    np.testing.assert_allclose(d["lattice"], 2 * w90.BOHR_ANGSTROM * np.eye(3))
    assert d["num_wann"] == 4 and d["spinors"] is True
    assert d["fermi_energy"] is None and d["mp_grid"] is None
    assert d["atoms_symbols"] == ["Cu_up", "C2"]
    np.testing.assert_array_equal(d["atomic_numbers"], [29, 6])
    np.testing.assert_allclose(d["atoms_frac"][1], 0.529177 / (2 * w90.BOHR_ANGSTROM) * np.ones(3))
    assert d["keywords"]["dis_win_max"] == "20.0"
    assert d["blocks"]["projections"] == ["Cu:d"]


def test_read_win_keys(tmp_path):
    model = random_model(nw=2)
    write_win(tmp_path / "w.win", model)
    d = w90.read_win(tmp_path / "w.win")
    assert d["num_wann"] == 2 and d["spinors"] is False and d["fermi_energy"] == 5.5
    np.testing.assert_array_equal(d["mp_grid"], [4, 4, 4])
    np.testing.assert_allclose(d["lattice"], model.lattice)


def test_read_centres(tmp_path):
    p = tmp_path / "c_centres.xyz"
    p.write_text("3\ncomment\nX 0 0 1\nX 0.5 0.5 0.5\nGa 1 2 3\n")
    c, atoms = w90.read_centres(p)
    np.testing.assert_allclose(c, [[0, 0, 1], [0.5, 0.5, 0.5]])
    assert atoms[0][0] == "Ga"
    np.testing.assert_allclose(atoms[0][1], [1, 2, 3])


def _spn_text(S):
    nk, nb = S.shape[:2]
    out = ["header", f"{nb} {nk}"]
    for ik in range(nk):
        for m in range(nb):
            for n in range(m + 1):
                for s in range(3):
                    v = S[ik, n, m, s]
                    out.append(f"{v.real:26.16e}{v.imag:26.16e}")
    return "\n".join(out) + "\n"


def test_read_spn(tmp_path):
    rng = np.random.default_rng(0)
    nk, nb = 3, 4
    X = rng.standard_normal((nk, nb, nb, 3)) + 1j * rng.standard_normal((nk, nb, nb, 3))
    S = X + X.conj().transpose(0, 2, 1, 3)
    p = tmp_path / "s.spn"
    p.write_text(_spn_text(S))
    np.testing.assert_allclose(w90.read_spn(p), S, atol=1e-14)


def _record(b):
    return np.int32(len(b)).tobytes() + b + np.int32(len(b)).tobytes()


def test_read_spn_unformatted(tmp_path):
    rng = np.random.default_rng(1)
    nk, nb = 2, 3
    X = rng.standard_normal((nk, nb, nb, 3)) + 1j * rng.standard_normal((nk, nb, nb, 3))
    S = X + X.conj().transpose(0, 2, 1, 3)
    recs = [b"header".ljust(60), np.array([nb, nk], "<i4").tobytes()]
    for ik in range(nk):
        vals = [S[ik, n, m, s] for m in range(nb) for n in range(m + 1) for s in range(3)]
        recs.append(np.array(vals, "<c16").tobytes())
    p = tmp_path / "u.spn"
    p.write_bytes(b"".join(_record(r) for r in recs))
    np.testing.assert_allclose(w90.read_spn(p), S, atol=1e-15)
    p.write_bytes(b"".join(_record(r) for r in recs[:-1]))  # one k-point missing
    with pytest.raises(Wannier90FormatError, match="spn_formatted = .true.") as exc:
        w90.read_spn(p)
    assert "u.spn" in str(exc.value) and "expected 4 records" in str(exc.value)
    p.write_bytes(b"\x3c\x00\x00\x00header\x00\x00" + bytes(range(256)))
    with pytest.raises(Wannier90FormatError, match="WannierBerri"):
        w90.read_spn(p)


# ---------------------------------------------------------------------------- malformed input
def _small_files(tmp_path):
    model = random_model(nw=2, seed=8)
    w90.write_tb(tmp_path / "s_tb.dat", model)
    w90.write_hr(tmp_path / "s_hr.dat", model)
    w90.write_r(tmp_path / "s_r.dat", model)
    return model


def _mutate(path, func):
    lines = path.read_text().splitlines()
    path.write_text("\n".join(func(lines)) + "\n")


def _set(lines, i, text):
    lines = list(lines)
    lines[i - 1] = text
    return lines


def _drop_field(lines, i):
    return _set(lines, i, " ".join(lines[i - 1].split()[:-1]))


def _bad_field(lines, i, k=2):
    f = lines[i - 1].split()
    f[k] = "1.0x"
    return _set(lines, i, " ".join(f))


# 29 R vectors, nw=2.  _tb.dat: line 1 header, 2-4 lattice, 5 nw, 6 nrpts, 7-8 ndegen,
# then blocks of 6 lines: blank (9), R (10), data (11-14), blank (15), R (16) ...
NR = 29
TB_POS_START = 8 + NR * 6  # last line of the H section
CASES = [
    # (file, mutation, expected line, substring)
    ("s_tb.dat", lambda L: L[:-2], TB_POS_START + NR * 6 - 1, "unexpected end of file"),
    ("s_tb.dat", lambda L: L[:18], 19, "line 3 of 4 'm n Re Im' in Hamiltonian block 2 of 29"),
    ("s_tb.dat", lambda L: L[:20], 21, "'R1 R2 R3' line of Hamiltonian block 3 of 29"),
    ("s_tb.dat", lambda L: _drop_field(L, 12), 12, "expected 4 fields 'm n Re Im', got 3"),
    ("s_tb.dat", lambda L: _bad_field(L, 13), 13, "got '1.0x'"),
    ("s_tb.dat", lambda L: _bad_field(L, TB_POS_START + 5, 7), TB_POS_START + 5, "Im(z)"),
    ("s_tb.dat", lambda L: _drop_field(L, 10), 10, "expected 3 fields 'R1 R2 R3', got 2"),
    ("s_tb.dat", lambda L: _set(L, 3, "1 2"), 3, "expected 3 fields 'a2x a2y a2z', got 2"),
    ("s_tb.dat", lambda L: _set(L, 5, "two"), 5, "expected an integer in 'num_wann'"),
    ("s_tb.dat", lambda L: _set(L, 6, str(NR + 1)), 9, f"expected {NR + 1} ndegen values"),
    ("s_tb.dat", lambda L: _set(L, 6, str(NR - 1)), 8, "expected 13 more ndegen values"),
    ("s_tb.dat", lambda L: _set(L, 11, "    3    1  1.0 0.0"), 11, "1 <= m, n <= num_wann = 2"),
    ("s_tb.dat", lambda L: _set(L, 12, L[10]), 12, "duplicate entry m = 1, n = 1"),
    ("s_tb.dat", lambda L: _set(L, TB_POS_START + 2, "  9 9 9"), TB_POS_START + 2, "expected R = "),
    ("s_tb.dat", lambda L: L + ["1 2 3"], None, "unexpected extra data after the 29 position blocks"),
    ("s_hr.dat", lambda L: L[:-1], 5 + NR * 4 + 0, "unexpected end of file"),
    ("s_hr.dat", lambda L: _drop_field(L, 9), 9, "expected 7 fields 'R1 R2 R3 m n Re Im', got 6"),
    ("s_hr.dat", lambda L: _bad_field(L, 10, 0), 10, "expected an integer for field 1 ('R1')"),
    ("s_hr.dat", lambda L: _set(L, 3, str(NR + 1)), 6, "more ndegen values"),
    ("s_hr.dat", lambda L: _set(L, 3, str(NR - 1)), 5, "expected 13 more ndegen values"),
    ("s_hr.dat", lambda L: _drop_field(_set(L, 3, str(NR - 1)), 5), 5 + (NR - 1) * 4 + 1,
     "unexpected extra data"),
    ("s_hr.dat", lambda L: _set(L, 7, "   7" + L[6][5:]), 7, "expected R = "),
    ("s_hr.dat", lambda L: L + ["0 0 0 1 1 1.0 0.0"], 6 + NR * 4, "unexpected extra data"),
    ("s_r.dat", lambda L: L[:-3], 3 + NR * 4 - 2, "unexpected end of file"),
    ("s_r.dat", lambda L: _bad_field(L, 5, 7), 5, "'Re(y)'"),
]


@pytest.mark.parametrize("fname,mutation,line,text", CASES)
def test_malformed(tmp_path, fname, mutation, line, text):
    _small_files(tmp_path)
    p = tmp_path / fname
    if line is None:  # extra line at end: its number is the new last line
        line = len(p.read_text().splitlines()) + 1
    _mutate(p, mutation)
    reader = {"s_tb.dat": w90.read_tb, "s_hr.dat": w90.read_hr, "s_r.dat": w90.read_r}[fname]
    with pytest.raises(Wannier90FormatError) as exc:
        reader(p)
    msg = str(exc.value)
    assert fname in msg
    assert f", line {line}:" in msg, msg
    assert text in msg, msg
    assert exc.value.lineno == line
    assert exc.value.__cause__ is None


def test_corrupt_gzip(tmp_path):
    p = tmp_path / "c_hr.dat.gz"
    p.write_bytes(gzip.compress(b"header\n2\n1\n")[:-12] + b"garbage!garbage!")
    with pytest.raises(Wannier90FormatError, match=r"c_hr\.dat\.gz: cannot read file"):
        w90.read_hr(tmp_path / "c_hr.dat")


def test_malformed_gz_names_file(tmp_path):
    model = random_model(nw=2)
    w90.write_hr(tmp_path / "z_hr.dat.gz", model)
    with gzip.open(tmp_path / "z_hr.dat.gz", "rt") as f:
        lines = f.read().splitlines()
    lines[6] = "1 2"
    with gzip.open(tmp_path / "z_hr.dat.gz", "wt") as f:
        f.write("\n".join(lines))
    with pytest.raises(Wannier90FormatError, match=r"z_hr\.dat\.gz, line 7: expected 7 fields"):
        w90.read_hr(tmp_path / "z_hr.dat")


@pytest.mark.parametrize("text,line,sub", [
    ("h\n0 0 0 1 1\n1\n0 0 0\n0 0 0 1 2\n", 6, "unexpected end of file, expected 1 field 'ndeg'"),
    ("h\n0 0 0 1 1\n2\n0 0 0\n", 5, "shift 2 of 2"),
    ("h\n0 0 0 1\n1\n0 0 0\n", 2, "expected 5 fields 'R1 R2 R3 i j', got 4"),
    ("h\n0 0 0 1 1\n1\n0 0 a\n", 4, "expected an integer for field 3 ('T3')"),
    ("h\n0 0 0 1 1\n1 2\n0 0 0\n", 3, "expected 1 field 'ndeg'"),
])
def test_malformed_wsvec(tmp_path, text, line, sub):
    p = tmp_path / "q_wsvec.dat"
    p.write_text(text)
    with pytest.raises(Wannier90FormatError) as exc:
        w90.read_wsvec(p)
    assert f"q_wsvec.dat, line {line}:" in str(exc.value) and sub in str(exc.value), str(exc.value)


@pytest.mark.parametrize("text,line,sub", [
    ("begin unit_cell_cart\n1 0 0\n0 1\n0 0 1\nend unit_cell_cart\n", 3, "expected 3 fields 'x y z'"),
    ("num_wann = 2\nbegin atoms_frac\nFe 0 0 0\n", 4, "'end atoms_frac'"),
    ("num_wann = two\n", 1, "expected an integer in 'num_wann'"),
    ("mp_grid = 4 4\n", 1, "expected 3 values for 'mp_grid'"),
    ("spinors = maybe\n", 1, "expected a logical"),
    ("begin unit_cell_cart\n1 0 0\n0 1 0\nend unit_cell_cart\n", 3, "expected 3 lattice vectors"),
])
def test_malformed_win(tmp_path, text, line, sub):
    p = tmp_path / "w.win"
    p.write_text(text)
    with pytest.raises(Wannier90FormatError) as exc:
        w90.read_win(p)
    assert f"w.win, line {line}:" in str(exc.value) and sub in str(exc.value), str(exc.value)


@pytest.mark.parametrize("text,line,sub", [
    ("3\nc\nX 0 0 0\nX 1 1\n", 4, "expected 4 fields 'symbol x y z'"),
    ("3\nc\nX 0 0 0\nX 1 1 1\n", 5, "unexpected end of file"),
    ("1\nc\nX 0 0 z\n", 3, "expected a number"),
    ("1\nc\nX 0 0 0\nX 0 0 0\n", 4, "unexpected extra line"),
])
def test_malformed_centres(tmp_path, text, line, sub):
    p = tmp_path / "c_centres.xyz"
    p.write_text(text)
    with pytest.raises(Wannier90FormatError) as exc:
        w90.read_centres(p)
    assert f"c_centres.xyz, line {line}:" in str(exc.value) and sub in str(exc.value), str(exc.value)


def test_malformed_spn(tmp_path):
    S = np.zeros((2, 2, 2, 3), complex)
    text = _spn_text(S).splitlines()
    p = tmp_path / "s.spn"
    p.write_text("\n".join(text[:-1]) + "\n")
    with pytest.raises(Wannier90FormatError, match=rf"s\.spn, line {len(text)}: unexpected end of file"):
        w90.read_spn(p)
    t2 = list(text)
    t2[5] = "0.0 abc"
    p.write_text("\n".join(t2) + "\n")
    with pytest.raises(Wannier90FormatError, match=r"s\.spn, line 6: expected a number"):
        w90.read_spn(p)
    p.write_text("\n".join(text + ["0 0"]) + "\n")
    with pytest.raises(Wannier90FormatError, match=rf"s\.spn, line {len(text) + 1}: unexpected extra"):
        w90.read_spn(p)


# ---------------------------------------------------------------------------- ws_distance
def _ws_case():
    """Two orbitals on a simple-cubic lattice, hand-made shifts symmetric under (R,i,j)->(-R,j,i)."""
    R = np.array([[0, 0, 0], [1, 0, 0], [-1, 0, 0], [2, 0, 0], [-2, 0, 0], [0, 1, 0], [0, -1, 0]])
    ndegen = np.array([1, 1, 1, 2, 2, 3, 3])
    rng = np.random.default_rng(42)
    nw = 2
    H = rng.standard_normal((len(R), nw, nw)) + 1j * rng.standard_normal((len(R), nw, nw))
    H = _hermitian_blocks(R, H)
    A = _hermitian_blocks(R, rng.standard_normal((len(R), 3, nw, nw)) + 1j * rng.standard_normal((len(R), 3, nw, nw)))
    shifts = {
        (1, 0, 0, 1, 2): [[0, 0, 0], [-1, 0, 0]],
        (0, 0, 0, 1, 2): [[1, 0, 0]],
        (2, 0, 0, 2, 2): [[0, 0, 0], [-4, 0, 0], [0, 1, 0]],
        (0, 1, 0, 2, 1): [[0, 0, 1], [0, -1, 0]],
    }
    ws = {}
    for r, i, j in itertools.product(R.tolist(), range(1, nw + 1), range(1, nw + 1)):
        ws[(*r, i, j)] = np.zeros((1, 3), int)
    for (r1, r2, r3, i, j), T in shifts.items():
        ws[(r1, r2, r3, i, j)] = np.array(T)
        ws[(-r1, -r2, -r3, j, i)] = -np.array(T)
    return R, ndegen, H, A, ws


def _write_wsvec(path, ws):
    with open(path, "w") as f:
        f.write("## written on 01Jan2024 at 00:00:00 with use_ws_distance=.true.\n")
        for key, T in ws.items():
            f.write("".join(f"{x:5d}" for x in key) + f"\n{len(T):5d}\n")
            for t in T:
                f.write("".join(f"{x:5d}" for x in t) + "\n")


def _direct_sum(k, R, ndegen, X, ws):
    """Σ_R Σ_T e^{2πik(R+T)} X_ij(R) / (ndegen ndeg), element by element."""
    nw = X.shape[-1]
    out = np.zeros((len(k),) + X.shape[1:], complex)
    for ir, r in enumerate(R):
        for i in range(nw):
            for j in range(nw):
                T = ws[(*r, i + 1, j + 1)]
                for t in T:
                    ph = np.exp(2j * np.pi * (k @ (r + t))) / (ndegen[ir] * len(T))
                    out[:, ..., i, j] += ph[(slice(None),) + (None,) * (X.ndim - 3)] * X[ir, ..., i, j]
    return out


def test_ws_distance_hand_made(tmp_path):
    R, ndegen, H, A, ws = _ws_case()
    lattice = 3.0 * np.eye(3)
    raw = TightBindingModel(lattice, R, H, A_R=A)
    seed = str(tmp_path / "ws")
    w90.write_tb(seed + "_tb.dat", raw, ndegen=ndegen)  # stores H*ndegen: file holds H_raw = H*ndegen
    _write_wsvec(seed + "_wsvec.dat", ws)
    got = w90.read_wsvec(seed + "_wsvec.dat")
    assert set(got) == set(ws)
    np.testing.assert_array_equal(got[(2, 0, 0, 2, 2)], ws[(2, 0, 0, 2, 2)])

    H_raw, A_raw = H * ndegen[:, None, None], A * ndegen[:, None, None, None]
    model = TightBindingModel(**w90.load_model_data(seed))
    k = kpts(9)
    np.testing.assert_allclose(model.hamiltonian(k), _direct_sum(k, R, ndegen, H_raw, ws), atol=1e-12)
    # fourier()["A"] is the position matrix minus the Wannier centres (centre-phase convention)
    centres = np.einsum("ai,ij->aij", model.centres.T, np.eye(model.num_wann))
    np.testing.assert_allclose(model.fourier(k)["A"] + centres, _direct_sum(k, R, ndegen, A_raw, ws), atol=1e-12)
    assert any(tuple(r) == (-4 + 2, 0, 0) for r in model.R)  # a shifted vector was created
    # without ws_distance: plain division by ndegen
    plain = TightBindingModel(**w90.load_model_data(seed, use_ws_distance=False))
    np.testing.assert_allclose(plain.hamiltonian(k), raw.hamiltonian(k), atol=1e-12)
    # the weights are conserved
    Rn, Hn = w90.apply_ws_distance(R, ndegen, H_raw, ws)
    np.testing.assert_allclose(Hn.sum(0), (H_raw / ndegen[:, None, None]).sum(0), atol=1e-12)


def test_ws_distance_missing_entries_and_components():
    R, ndegen, H, A, ws = _ws_case()
    partial = {key: T for key, T in ws.items() if len(T) > 1 or np.any(T)}
    Rn1, A1 = w90.apply_ws_distance(R, ndegen, A, ws)
    Rn2, A2 = w90.apply_ws_distance(R, ndegen, A, partial)
    np.testing.assert_array_equal(Rn1, Rn2)
    np.testing.assert_allclose(A1, A2)
    assert A1.shape[1:] == (3, 2, 2)
    k = kpts(4)
    ph = np.exp(2j * np.pi * k @ Rn1.T)
    np.testing.assert_allclose(np.einsum("kr,rcij->kcij", ph, A1), _direct_sum(k, R, ndegen, A, ws), atol=1e-12)
    with pytest.raises(ValueError, match="not in the model"):
        w90.apply_ws_distance(R, ndegen, H, {(5, 5, 5, 1, 1): np.zeros((1, 3), int)})


def test_ws_distance_conserves_the_sum_fe_sized():
    """Fe-sized case (~600 R-vectors x 18^2 pairs): the shifts only redistribute H(R) (timing is in benchmarks)."""
    rng = np.random.default_rng(0)
    R = np.array(list(itertools.product(range(-4, 5), range(-4, 5), range(-3, 4))))[:600]
    nw = 18
    H = rng.standard_normal((len(R), 3, nw, nw)) + 0j
    ij = np.arange(nw * nw)
    keys = np.column_stack([np.repeat(R, nw * nw, axis=0), np.tile(ij // nw + 1, len(R)), np.tile(ij % nw + 1, len(R))])
    ndeg = rng.integers(1, 4, len(keys))
    T = rng.integers(-1, 2, (ndeg.sum(), 3))
    ws = w90._wsvec_dict(keys, ndeg, T)
    Rn, Hn = w90.apply_ws_distance(R, np.ones(len(R)), H, ws)
    np.testing.assert_allclose(Hn.sum(0), H.sum(0), atol=1e-9)


# ---------------------------------------------------------------------------- WannierBerri
def test_against_wannierberri(tmp_path):
    wb_tb = pytest.importorskip("wannierberri.system.system_tb")
    model = random_model(nw=3, seed=21)
    nd = symmetric_ndegen(model.R, seed=3)
    path = str(tmp_path / "wb_tb.dat")
    w90.write_tb(path, model, ndegen=nd)
    system = wb_tb.get_system_tb(tb_file=path, berry=True)
    d = w90.read_tb(path)
    wbR = np.array(system.rvec.iRvec)
    index = {tuple(r): i for i, r in enumerate(d["R"].tolist())}
    perm = np.array([index[tuple(r)] for r in wbR.tolist()])
    H = d["H_R"][perm] / d["ndegen"][perm, None, None]
    np.testing.assert_allclose(np.array(system.get_R_mat("Ham")), H, atol=1e-13)
    A = (d["A_R"][perm] / d["ndegen"][perm, None, None, None]).transpose(0, 2, 3, 1).copy()
    i0 = np.flatnonzero(np.all(wbR == 0, axis=1))[0]
    centres = np.diagonal(A[i0], axis1=0, axis2=1).real.T.copy()
    A[i0, np.arange(3), np.arange(3), :] -= centres  # WannierBerri's convention I
    np.testing.assert_allclose(np.array(system.get_R_mat("AA")), A, atol=1e-13)
    np.testing.assert_allclose(np.array(system.wannier_centers_cart), centres, atol=1e-13)
    # and the model built either way agrees
    ours = TightBindingModel(**w90.load_model_data(str(tmp_path / "wb")))
    theirs = TightBindingModel.from_wannierberri(system)
    k = kpts()
    a, b = ours.fourier(k), theirs.fourier(k)
    for key in ("H", "dH", "A", "Obar"):
        np.testing.assert_allclose(a[key], b[key], atol=1e-11)
