"""Symmetry: space/magnetic point groups, allowed tensor forms, irreducible k-grids.

References: Birss, "Symmetry and Magnetism" (1964) and Bilbao MTENSOR for the
tensor forms; International Tables A for the point-group symbols; Bilbao
MPOINT for the magnetic point groups of Fe (4/mm'm'), Ni (-3m') and Co (6/mm'm').
"""

import numpy as np
import pytest
import spglib

from wkin import symmetry as S
from wkin.kspace.integrate import Adaptive, integrate
from wkin.kspace.occupations import Occupations
from wkin.model import TightBindingModel
from wkin.model.lattice import chiral_trigonal, haldane
from wkin.quantities import observables

# ------------------------------------------------------------------ structures


def structure_model(lattice, positions, numbers):
    """A trivial one-orbital model that only carries a structure."""
    return TightBindingModel(lattice, [[0, 0, 0]], np.zeros((1, 1, 1)),
                             atoms=(np.array(positions, float), np.array(numbers)))


def hexagonal(a, c):
    return np.array([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]])


def tellurium(handedness=+1):
    """Trigonal Te, P3_121 (No. 152): a = 4.457 Å, c = 5.929 Å, Wyckoff 3a with x = 0.2636."""
    x = 0.2636
    pos = np.array([[x, 0, 1 / 3], [0, x, 2 / 3], [-x, -x, 0]])
    if handedness < 0:
        pos[:, 2] *= -1
    return structure_model(hexagonal(4.457, 5.929), pos % 1, [52] * 3)


def fesi_b20():
    """B20 FeSi, P2_13 (No. 198), point group 23 (T): Fe and Si on 4a (u, u, u)."""
    def orbit(u):
        return [[u, u, u], [0.5 - u, -u, 0.5 + u], [-u, 0.5 + u, 0.5 - u], [0.5 + u, 0.5 - u, -u]]
    pos = np.array(orbit(0.1358) + orbit(0.844)) % 1
    return structure_model(4.489 * np.eye(3), pos, [26] * 4 + [14] * 4)


def bcc_fe():
    a = 2.8665
    return structure_model(a / 2 * np.array([[-1, 1, 1], [1, -1, 1], [1, 1, -1]]), [[0, 0, 0]], [26])


_FIRST_HALL = {}
for _h in range(530, 0, -1):
    _FIRST_HALL[spglib.get_spacegroup_type(_h).number] = _h


def _first_hall(number):
    return _FIRST_HALL[number]


def _conventional_lattice(number):
    a, b, c = 4.1, 5.3, 6.7
    if number <= 2:
        return np.array([[a, 0, 0], [0.7, b, 0], [0.4, 0.9, c]])
    if number <= 15:
        beta = np.radians(104.0)
        return np.array([[a, 0, 0], [0, b, 0], [c * np.cos(beta), 0, c * np.sin(beta)]])
    if number <= 74:
        return np.diag([a, b, c])
    if number <= 142:
        return np.diag([a, a, c])
    if number <= 194:
        return hexagonal(a, c)
    return np.diag([a, a, a])


def database_structure(number):
    """Conventional cell with one general-position orbit of space group ``number`` (spglib database)."""
    d = spglib.get_symmetry_from_database(_first_hall(number))
    pos, num = [], []
    for x0, z in (([0.1123, 0.2347, 0.3591], 6), ([0.3771, 0.0719, 0.7893], 8)):  # two species
        for W, t in zip(d["rotations"], d["translations"]):
            p = (W @ x0 + t) % 1
            if not any(np.allclose((p - q + 0.5) % 1 - 0.5, 0, atol=1e-6) for q in pos):
                pos.append(p)
                num.append(z)
    return structure_model(_conventional_lattice(number), np.array(pos), num)


def _group(generators):
    """Close a set of 3×3 matrices under multiplication."""
    els = [np.eye(3)]
    frontier = list(els)
    while frontier:
        new = []
        for a in frontier:
            for g in generators:
                p = a @ g
                if not any(np.allclose(p, e) for e in els):
                    els.append(p)
                    new.append(p)
        frontier = new
    return np.array(els)


C4Z = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]], float)
C3_111 = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]], float)
GROUP_T = _group([np.diag([-1.0, -1.0, 1.0]), C3_111])
GROUP_O = _group([C4Z, C3_111])


# ------------------------------------------------------------------ groups and symbols


def test_space_group_stub_kept():
    assert S.space_group(chiral_trigonal()) == "P3_121 (152)"
    assert S.space_group(TightBindingModel(np.eye(3), [[0, 0, 0]], np.zeros((1, 1, 1)))) is None


def test_tellurium_d3():
    sym = S.crystal_symmetry(tellurium())
    assert (sym.spacegroup_symbol, sym.spacegroup_number, sym.pointgroup_symbol) == ("P3_121", 152, "32")
    assert len(sym.rotations) == 6 and sym.magnetic_pointgroup_symbol == "321'"
    for R in sym.rotations:
        assert np.allclose(R @ R.T, np.eye(3), atol=1e-10)
    K = sym.allowed("axial2_even")  # gyrotropic K: diagonal, K_xx = K_yy, K_zz independent
    assert str(K) == "xx = yy, zz; others zero"
    assert K.independent == ["xx", "zz"]
    assert str(sym.allowed("polar2_odd")) == "all zero"  # time reversal: no Hall effect
    assert str(sym.allowed("polar2_even", "symmetric")) == "xx = yy, zz; others zero"
    # rank 3 (Birss, class 32): xxx = -xyy = -yxy = -yyx, xyz = -yxz, xzy = -yzx, zxy = -zyx
    lam = sym.allowed("polar3_even")
    assert lam.dimension == 4
    assert lam.relations["yyx"] == pytest.approx({"xxx": -1.0}) and lam.relations["zyx"] == pytest.approx({"zxy": -1.0})
    assert all(c == round(c) for rel in lam.relations.values() for c in rel.values())  # coefficients rounded
    left = S.crystal_symmetry(tellurium(-1))
    assert left.spacegroup_number == 154 and str(left.allowed("axial2_even")) == str(K)


def test_cubic_chiral_groups_isotropic_gyrotropy():
    b20 = S.crystal_symmetry(fesi_b20())
    assert (b20.spacegroup_number, b20.pointgroup_symbol) == (198, "23")
    o = S.crystal_symmetry(database_structure(207))
    assert (o.spacegroup_number, o.pointgroup_symbol) == (207, "432")
    for ops in (b20, o, GROUP_T, GROUP_O):
        K = S.allowed_components(ops, "axial2_even")
        assert str(K) == "xx = yy = zz; others zero"
        assert np.allclose(K.basis[0], np.eye(3) / np.sqrt(3))
    assert len(GROUP_T) == 12 and len(GROUP_O) == 24
    assert S.point_group_symbol(GROUP_T) == "23" and S.point_group_symbol(GROUP_O) == "432"
    # with inversion (m-3m) gyrotropy vanishes; ohmic stays isotropic
    oh = S.crystal_symmetry(bcc_fe())
    assert oh.pointgroup_symbol == "m-3m" and S.allowed_components(oh, "axial2_even").is_zero
    assert str(oh.allowed("polar2_even")) == "xx = yy = zz; others zero"


def test_c3v_no_optical_activity():
    """3m: the symmetric (optical-activity) part of an axial rank-2 tensor vanishes.

    The antisymmetric part, equivalent to a polar vector along the 3-fold axis,
    is allowed in this polar class (K_xy = -K_yx), as in every polar point group.
    """
    sym = S.crystal_symmetry(database_structure(156))  # P3m1
    assert sym.pointgroup_symbol == "3m"
    assert str(sym.allowed("axial2_even", "symmetric")) == "all zero"
    assert str(sym.allowed("axial2_even")) == "xy = -yx; others zero"
    assert str(sym.allowed("axial2_even", "antisymmetric")) == "xy = -yx; others zero"
    assert str(sym.allowed("polar2_even")) == "xx = yy, zz; others zero"
    # general rank 3 (no index symmetry) in 3m with the mirror normal along x: 5 independent
    assert str(sym.allowed("polar3_even")) == ("xxy = xyx = yxx = -yyy, xxz = yyz, xzx = yzy, zxx = zyy, zzz; "
                                               "others zero")


def test_bcc_fe_magnetic_point_group():
    fe = bcc_fe()
    sym = S.crystal_symmetry(fe, magnetization=[0, 0, 1])
    assert sym.spacegroup_symbol == "Im-3m" and sym.magnetic_pointgroup_symbol == "4/mm'm'"
    assert sym.unitary_pointgroup_symbol == "4/m" and sym.magnetic_group_type == "black-white"
    assert len(sym.time_reversal) == 16 and sym.time_reversal.sum() == 8
    hall = sym.allowed("polar2_odd")
    assert str(hall) == "xy = -yx; others zero"  # only sigma_xy = -sigma_yx
    assert str(sym.allowed("polar2_even", "symmetric")) == "xx = yy, zz; others zero"
    assert str(sym.allowed("axial1_odd")) == "z; others zero"  # magnetization stays along z
    # the same group from spglib's magnetic search with per-atom moments
    per_atom = S.crystal_symmetry(fe, magnetization=[[0, 0, 2.2]])
    assert per_atom.magnetic_pointgroup_symbol == "4/mm'm'"
    assert np.allclose(per_atom.allowed("polar2_odd").projector, hall.projector)
    # other orientations / metals (Bilbao MPOINT)
    assert S.crystal_symmetry(fe, [1, 1, 0]).magnetic_pointgroup_symbol == "m'm'm"
    fcc_ni = structure_model(3.52 / 2 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]), [[0, 0, 0]], [28])
    ni = S.crystal_symmetry(fcc_ni, [1, 1, 1])
    assert ni.magnetic_pointgroup_symbol == "-3m'"
    assert str(ni.allowed("axial1_odd")) == "x = y = z"
    hcp_co = structure_model(hexagonal(2.507, 4.07), [[1 / 3, 2 / 3, 1 / 4], [2 / 3, 1 / 3, 3 / 4]], [27, 27])
    assert S.crystal_symmetry(hcp_co, [0, 0, 1]).magnetic_pointgroup_symbol == "6/mm'm'"
    # non-magnetic Fe: grey group, no Hall effect
    grey = S.crystal_symmetry(fe)
    assert grey.magnetic_pointgroup_symbol == "m-3m1'" and grey.allowed("polar2_odd").is_zero
    # antiferromagnet whose moments are swapped by a translation (CsCl-type, +-z): {T|t} makes the
    # point group grey (type IV), so every time-odd tensor vanishes
    afm = structure_model(3.0 * np.eye(3), [[0, 0, 0], [0.5, 0.5, 0.5]], [25, 25])
    tt = S.crystal_symmetry(afm, magnetization=[[0, 0, 1], [0, 0, -1]])
    assert tt.magnetic_group_type == "grey" and tt.allowed("axial2_odd").is_zero
    # PT-symmetric antiferromagnet (pair +-m related by inversion only): no anomalous Hall effect,
    # but a linear magnetoelectric effect (axial2_odd)
    pair = structure_model(np.diag([3.0, 3.0, 5.0]), [[0, 0, 0.2], [0, 0, 0.8]], [24, 24])
    pt = S.crystal_symmetry(pair, magnetization=[[0, 0, 1], [0, 0, -1]])
    assert pt.allowed("polar2_odd").is_zero and not pt.allowed("axial2_odd").is_zero
    assert pt.magnetic_pointgroup_symbol == "4/m'm'm'"
    assert str(pt.allowed("axial2_odd")) == "xx = yy, zz; others zero"  # as Cr2O3-like


def test_bad_inputs():
    with pytest.raises(ValueError, match="atoms"):
        S.crystal_symmetry(TightBindingModel(np.eye(3), [[0, 0, 0]], np.zeros((1, 1, 1))))
    with pytest.raises(ValueError, match="zero"):
        S.crystal_symmetry(bcc_fe(), [0, 0, 0])
    with pytest.raises(ValueError, match="kind"):
        S.parse_kind("polar2_sometimes")


def test_kinds_without_time_parity_and_the_onsager_conductivity():
    """'axial2' (no parity) is constrained by the unitary operations only: the sum of its even and odd
    projectors; 'conductivity' is the time-even symmetric part plus the time-odd antisymmetric part."""
    fe = S.crystal_symmetry(bcc_fe(), magnetization=[0, 0, 1])  # 4/mm'm': 8 unitary, 8 antiunitary
    assert S.parse_kind("axial2") == (2, True, None)
    assert np.allclose(S.projector(fe, "axial2"), S.projector(fe, "axial2_even") + S.projector(fe, "axial2_odd"))
    sym, anti = S.projector(fe, "polar2_even", "symmetric"), S.projector(fe, "polar2_odd", "antisymmetric")
    assert np.allclose(S.projector(fe, "conductivity"), sym + anti)
    assert str(S.allowed_components(fe, "conductivity")) == "xx = yy, xy = -yx, zz; others zero"
    x = np.random.default_rng(3).normal(size=(3, 3))
    assert S.forbidden_fraction(S.symmetrize(x, fe, "conductivity"), fe, "conductivity") < 1e-14
    assert S.forbidden_fraction(x - S.symmetrize(x, fe, "conductivity"), fe, "conductivity") == pytest.approx(1.0)


def test_point_group_symbols_all_230_space_groups():
    """Our HM symbol from Cartesian rotations equals spglib's (up to the -4m2/-62m orientation)."""
    same = {"-4m2": "-42m", "-62m": "-6m2"}
    for number in range(1, 231):
        hall = _first_hall(number)
        L = _conventional_lattice(number)
        W = S.unique_rotations(spglib.get_symmetry_from_database(hall)["rotations"])
        sym = S.point_group_symbol(S.to_cartesian(W, L), L)
        assert same.get(sym, sym) == spglib.get_spacegroup_type(hall).pointgroup_international, number


def _index2_subgroups(G):
    """Kernels of the non-trivial characters G → {±1} (index-2 subgroups)."""
    n = len(G)
    index = {tuple(np.round(g, 6).ravel() + 0.0): k for k, g in enumerate(G)}
    table = np.array([[index[tuple(np.round(G[i] @ G[j], 6).ravel() + 0.0)] for j in range(n)]
                      for i in range(n)])
    gens = []
    span = {0}
    while len(span) < n:
        g = next(i for i in range(n) if i not in span)
        gens.append(g)
        span = set(range(1))
        frontier = [0]
        while frontier:
            frontier = [table[a, b] for a in frontier for b in gens if table[a, b] not in span]
            span |= set(frontier)
    out = []
    for signs in np.ndindex(*(2,) * len(gens)):
        if not any(signs):
            continue
        chi = {0: 1}
        frontier = [0]
        while frontier:
            nxt = []
            for a in frontier:
                for g, s in zip(gens, signs):
                    b, v = table[a, g], chi[a] * (-1) ** s
                    if b not in chi:
                        chi[b] = v
                        nxt.append(b)
            frontier = nxt
        c = np.array([chi[i] for i in range(n)])
        if np.array_equal(c[table], np.outer(c, c)):
            out.append(c < 0)
    return out


def point_groups():
    """The 32 crystallographic point groups, from the first space group of each: {symbol: (Cartesian rotations,
    the conventional lattice they were made in)}."""
    out = {}
    for number in range(1, 231):
        hall = _first_hall(number)
        pg = spglib.get_spacegroup_type(hall).pointgroup_international
        if pg not in out:
            L = _conventional_lattice(number)
            out[pg] = (S.to_cartesian(S.unique_rotations(spglib.get_symmetry_from_database(hall)["rotations"]), L), L)
    return out


def test_58_black_white_point_groups():
    pairs, names = set(), set()
    groups = point_groups()
    seen_pg = set(groups)
    for pg, (G, L) in groups.items():
        for primed in _index2_subgroups(G):
            name = S.point_group_symbol(list(zip(G, primed)), L)
            assert "'" in name and name.replace("'", "") in (pg, "-4m2", "-62m")
            h = S.point_group_symbol(G[~primed], L)
            pairs.add((pg, {"-4m2": "-42m", "-62m": "-6m2"}.get(h, h)))
            names.add(name)
    assert len(seen_pg) == 32
    assert len(pairs) == 58  # the 58 black-white magnetic point groups
    assert {"4/mm'm'", "-3m'", "6/mm'm'", "m'm'm", "2'/m'", "m'-3'm", "-4'2m'", "32'"} <= names


# ------------------------------------------------------------------ tensors

KINDS = ["polar2_even", "polar2_odd", "axial2_even", "axial2_odd", "polar3_even", "polar3_odd"]


@pytest.mark.parametrize("kind", KINDS)
def test_projector_idempotent_and_symmetrize(kind):
    rng = np.random.default_rng(1)
    groups = [S.crystal_symmetry(tellurium()), S.crystal_symmetry(bcc_fe(), [0, 0, 1]),
              S.crystal_symmetry(database_structure(156)), S.crystal_symmetry(database_structure(14), [0.3, 0.1, 1])]
    rank, axial, odd = S.parse_kind(kind)
    for sym in groups:
        P = S.projector(sym, kind)
        assert np.allclose(P @ P, P, atol=1e-12) and np.allclose(P, P.T, atol=1e-12)
        T = rng.normal(size=(4,) + (3,) * rank)  # leading axis, like (n_mu, 3, 3)
        Ts = S.symmetrize(T, sym, kind)
        assert Ts.shape == T.shape
        assert np.allclose(S.symmetrize(Ts, sym, kind), Ts, atol=1e-12)
        form = S.allowed_components(sym, kind)
        B = form.basis.reshape(form.dimension, 3 ** rank)
        flat = Ts.reshape(4, -1)
        assert np.allclose(flat @ B.T @ B, flat, atol=1e-12)  # in the allowed subspace
        for lab, rel in form.relations.items():  # the text relations hold
            idx = tuple("xyz".index(c) for c in lab)
            expect = sum(c * Ts[(slice(None),) + tuple("xyz".index(ch) for ch in p)] for p, c in rel.items())
            assert np.allclose(Ts[(slice(None),) + idx], expect, atol=1e-12)
        for R, t in sym.operations:  # invariance under each operation
            f = (np.linalg.det(R) if axial else 1.0) * (-1.0 if (odd and t) else 1.0)
            X = Ts
            for ax in range(rank):
                X = np.moveaxis(np.tensordot(R, X, axes=([1], [ax + 1])), 0, ax + 1)
            assert np.allclose(f * X, Ts, atol=1e-12)
    # complex input with a (n_mu, 3, 3) layout
    Z = rng.normal(size=(2, 3, 3)) + 1j * rng.normal(size=(2, 3, 3))
    assert np.iscomplexobj(S.symmetrize(Z, groups[0], "polar2_even"))


# ------------------------------------------------------------------ k-points


def _check_grid(irr, grid):
    ntot = int(np.prod(grid))
    assert irr.weights.sum() == ntot and len(irr.mapping) == ntot
    k_full = (np.stack(np.meshgrid(*[np.arange(n) for n in grid], indexing="ij"), -1).reshape(-1, 3)) / grid
    for i in range(ntot):
        W, t = irr.rotations_reduced[irr.op_index[i]], irr.time_reversal[irr.op_index[i]]
        k = (-1 if t else 1) * np.linalg.inv(W).T @ irr.k[irr.mapping[i]]
        assert np.allclose((k - k_full[i] + 0.5) % 1 - 0.5, 0, atol=1e-9)
    assert np.array_equal(np.bincount(irr.mapping), irr.weights)


def test_irreducible_grid_matches_spglib():
    te = tellurium()
    grid = np.array([6, 6, 4])
    irr = S.irreducible_grid(te, grid)
    _check_grid(irr, grid)
    cell = (te.lattice,) + tuple(te.atoms)
    sp_map, addr = spglib.get_ir_reciprocal_mesh(grid, cell, is_shift=[0, 0, 0], is_time_reversal=True)
    idx = np.ravel_multi_index(tuple((addr % grid).T), tuple(grid))
    pairs = set(zip(irr.mapping[idx], sp_map))
    assert len(pairs) == len(irr.k) == len(np.unique(sp_map))  # identical partitions


def test_irreducible_grid_time_reversal():
    te = tellurium()
    grid = np.array([6, 6, 4])
    grey = S.irreducible_grid(te, grid)
    mag = S.irreducible_grid(te, grid, magnetization=[0, 0, 1])  # 32': 3 unitary, 2' antiunitary
    _check_grid(mag, grid)
    assert mag.symmetry.magnetic_pointgroup_symbol == "32'"
    assert len(mag.k) > len(grey.k)
    i = np.ravel_multi_index((1, 2, 1), tuple(grid))
    j = np.ravel_multi_index(tuple(-np.array([1, 2, 1]) % grid), tuple(grid))
    assert grey.mapping[i] == grey.mapping[j]  # k ~ -k by time reversal
    assert mag.mapping[i] != mag.mapping[j]  # no T alone, no inversion: k and -k differ
    # an operation that does not map the grid onto itself is left out
    odd = S.irreducible_grid(te, [6, 4, 4])
    assert odd.dropped > 0 and odd.weights.sum() == 96


def test_irreducible_integrals_chiral_trigonal():
    model = chiral_trigonal(t2=-0.35, eps=0.1)
    grid = [9, 9, 6]
    occ = Occupations(mu=np.array([-0.8, -0.2, 0.5]), temperature=600.0)
    names = ["electrons", "dos", "ohmic", "gme_orb", "berry_dipole"]
    full = integrate(model, observables(names), occ, grid)
    red = integrate(model, observables(names), occ, grid, symmetry=S.crystal_symmetry(model))
    assert red.nk_evaluated < 486 / 5
    for n in names:
        scale = max(np.abs(full.values[n]).max(), 1e-30)
        assert np.abs(red.values[n] - full.values[n]).max() <= 1e-9 * scale, n
    assert np.abs(full.values["gme_orb"]).max() > 0  # a non-trivial check of the axial kind
    form = S.crystal_symmetry(model).allowed("axial2_even")
    assert np.allclose(S.symmetrize(full.values["gme_orb"], S.crystal_symmetry(model), "axial2_even"),
                       full.values["gme_orb"], atol=1e-9 * np.abs(full.values["gme_orb"]).max())
    assert form.independent == ["xx", "zz"]


def test_irreducible_ahc_magnetic_haldane():
    model = haldane(t2=0.15, phi=0.7)
    model.atoms = (np.array([[1 / 3, 1 / 3, 0], [2 / 3, 2 / 3, 0]]), np.array([6, 6]))
    sym = S.crystal_symmetry(model, magnetization=[0, 0, 1])
    assert sym.magnetic_pointgroup_symbol == "6/mm'm'"
    grid = [18, 18, 1]
    occ = Occupations(mu=np.array([-0.5, 0.0, 0.3]), temperature=300.0)
    full = integrate(model, observables(["ahc", "ohmic"]), occ, grid)
    red = integrate(model, observables(["ahc", "ohmic"]), occ, grid, symmetry=sym)
    assert red.nk_evaluated < 324 / 6
    for n in ("ahc", "ohmic"):
        assert np.abs(red.values[n] - full.values[n]).max() <= 1e-9 * np.abs(full.values[n]).max()
    assert abs(full.values["ahc"][1, 0, 1]) > 1.0
    # without the magnetic group (grey), the Hall part would be projected out
    assert np.allclose(S.symmetrize(full.values["ahc"], S.crystal_symmetry(model), "polar2_odd"), 0)


def test_describe():
    text = S.describe(bcc_fe(), magnetization=[0, 0, 1])
    assert "Im-3m" in text and "4/mm'm'" in text and "xy = -yx; others zero" in text
    text = S.describe(tellurium())
    assert "P3_121" in text and "321'" in text and "xx = yy, zz; others zero" in text


def test_irreducible_adaptive_keeps_the_symmetry_and_converges():
    """Refining irreducible cells (weight = orbit size) and projecting: the refined result has the allowed
    form exactly, converges to the fine uniform grid, and costs fewer points than full-grid refinement."""
    model = haldane(t2=0.15, phi=0.7)
    model.atoms = (np.array([[1 / 3, 1 / 3, 0], [2 / 3, 2 / 3, 0]]), np.array([6, 6]))
    sym = S.crystal_symmetry(model, magnetization=[0, 0, 1])
    occ = Occupations(mu=np.array([0.3, 0.8]), temperature=30.0)
    ref = integrate(model, observables(["ahc"]), occ, [600, 600, 1]).values["ahc"]
    coarse = integrate(model, observables(["ahc"]), occ, [24, 24, 1], symmetry=sym)
    adaptive = Adaptive(levels=4, subdivision=3, threshold=1e-3)
    red = integrate(model, observables(["ahc"]), occ, [24, 24, 1], symmetry=sym, adaptive=adaptive)
    full = integrate(model, observables(["ahc"]), occ, [24, 24, 1], adaptive=adaptive)
    x = red.values["ahc"]
    assert np.abs(x - S.symmetrize(x, sym, "polar2_odd")).max() <= 1e-12 * np.abs(x).max()
    err = np.abs(x - ref)[:, 0, 1] / np.abs(ref[:, 0, 1])
    assert np.all(err < 5e-3) and np.all(err < np.abs(coarse.values["ahc"] - ref)[:, 0, 1] / np.abs(ref[:, 0, 1]))
    assert red.nk_evaluated < full.nk_evaluated
    assert len(red.levels) > 2 and np.array_equal(red.levels[-1][1]["ahc"], x)  # the per-level values, projected
