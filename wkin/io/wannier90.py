"""Readers (and a few writers) for Wannier90 output files.

File formats follow the Wannier90 user guide (v3.1, chapter "Files") and the
writing routines of Wannier90 (``hamiltonian_write_hr/_rmn/_tb``,
``ws_write_vec``) and pw2wannier90 (``.spn``).

Every reader raises :class:`Wannier90FormatError` (a :class:`ValueError`) on
malformed or truncated input, with a message ``"<file>, line <n>: <what was
expected>"`` (1-based line numbers). Every reader accepts ``path`` or a gzip
compressed ``path + '.gz'`` transparently (whichever exists; a name ending in
``.gz`` is decompressed).

Real-space matrices are returned exactly as stored in the files, i.e. *not*
divided by the Wigner-Seitz degeneracies ``ndegen``; :func:`load_model_data`
does the division (or the ``use_ws_distance`` redistribution,
:func:`apply_ws_distance`) and returns the keyword arguments of
:class:`wkin.model.TightBindingModel`. Index convention everywhere:
``X_R[ir, ..., m-1, n-1] = <0m|X|R n>`` (Wannier90's ``X(m, n, irpt)``).
"""

from __future__ import annotations

import gzip
import io
import os
import re
import warnings
import zlib

import numpy as np

__all__ = [
    "Wannier90FormatError", "read_tb", "read_hr", "read_r", "read_wsvec", "read_centres",
    "read_win", "read_spn", "apply_ws_distance", "load_model_data", "write_tb", "write_hr",
    "write_r", "BOHR_ANGSTROM", "win_projections",
]

#: Bohr radius in Å, the value Wannier90 uses (CODATA 2010).
BOHR_ANGSTROM = 0.52917721092

_ELEMENTS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br "
    "Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho "
    "Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es "
    "Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og").split()
_ATOMIC_NUMBER = {s: i + 1 for i, s in enumerate(_ELEMENTS)}


class Wannier90FormatError(ValueError):
    """Malformed or truncated Wannier90 file.

    Attributes ``filename``, ``lineno`` (1-based, or None when the problem is not
    tied to a line) and ``expected`` (the description) are kept for programmatic use.
    """

    def __init__(self, filename, lineno, expected):
        self.filename, self.lineno, self.expected = filename, lineno, expected
        where = f"{filename}, line {lineno}" if lineno is not None else f"{filename}"
        super().__init__(f"{where}: {expected}")


# ---------------------------------------------------------------------------- file access
def resolve(path):
    """``path`` if it exists, else ``path + '.gz'`` if that exists, else None."""
    path = os.fspath(path)
    for p in (path, path + ".gz"):
        if os.path.isfile(p):
            return p
    return None


def _read_bytes(path):
    real = resolve(path)
    if real is None:
        raise FileNotFoundError(f"neither {os.fspath(path)} nor {os.fspath(path)}.gz exists")
    try:
        if real.endswith(".gz"):
            with gzip.open(real, "rb") as f:
                return real, f.read()
        with open(real, "rb") as f:
            return real, f.read()
    except (OSError, EOFError, zlib.error) as err:  # corrupt gzip stream
        raise Wannier90FormatError(real, None, f"cannot read file ({err})") from None


def _looks_binary(data):
    return b"\0" in data[:4096]


class _Text:
    """A text file as a list of lines, with helpers that raise precise errors."""

    def __init__(self, path, binary_hint=None, raw=None):
        self.name, data = _read_bytes(path) if raw is None else raw
        if _looks_binary(data):
            raise Wannier90FormatError(self.name, None, binary_hint or
                                       "binary (unformatted) file, expected a formatted text file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        self.lines = text.splitlines()
        self.pos = 0  # index of the next line to read
        self._pending = []  # tables parsed without per-line checks

    # -- errors
    def error(self, index, expected):
        """Error at 0-based line ``index`` (``None``: not tied to a line).

        Tables parsed on the fast path are checked line by line first, so that a
        malformed line is reported rather than a consequence of it.
        """
        while self._pending:
            self._scan(*self._pending.pop(0))
        return self._make(index, expected)

    def _make(self, index, expected):
        return Wannier90FormatError(self.name, None if index is None else index + 1, expected)

    def eof_error(self, expected):
        return self.error(len(self.lines), f"unexpected end of file, expected {expected}")

    # -- sequential reading
    def next_line(self, expected, skip_blank=True):
        """Return (index, fields) of the next (non-blank) line."""
        while self.pos < len(self.lines):
            i = self.pos
            self.pos += 1
            fields = self.lines[i].split()
            if fields or not skip_blank:
                return i, fields
        raise self.eof_error(expected)

    def next_values(self, n, desc, conv=float):
        """Next non-blank line, which must hold exactly ``n`` fields ``desc``."""
        i, fields = self.next_line(f"{n} field{'s' * (n > 1)} '{desc}'")
        if len(fields) != n:
            raise self.error(i, f"expected {n} field{'s' * (n > 1)} '{desc}', got {len(fields)}")
        return i, [self.convert(i, f, conv, desc) for f in fields]

    def next_int(self, desc, minimum=None):
        i, (v,) = self.next_values(1, desc, int)
        if minimum is not None and v < minimum:
            raise self.error(i, f"expected {desc} >= {minimum}, got {v}")
        return v

    def convert(self, i, token, conv, desc):
        try:
            return conv(token)
        except ValueError:
            kind = "an integer" if conv is int else "a number"
            raise self.error(i, f"expected {kind} in '{desc}', got {token!r}") from None

    def int_list(self, n, desc, stop_at_blank=False):
        """Read ``n`` integers spread over any number of lines."""
        out = []
        while len(out) < n:
            if stop_at_blank and self.pos < len(self.lines) and not self.lines[self.pos].split() and out:
                raise self.error(self.pos, f"expected {n} {desc} values, found only {len(out)} "
                                           "before the blank line")
            i, fields = self.next_line(f"{n - len(out)} more {desc} values")
            if len(out) + len(fields) > n:
                raise self.error(i, f"expected {n - len(out)} more {desc} values (integers), "
                                    f"got {len(fields)} fields")
            out += [self.convert(i, f, int, desc) for f in fields]
        return out

    def nonblank_indices(self, start=None):
        start = self.pos if start is None else start
        lines = self.lines
        return [i for i in range(start, len(lines)) if lines[i] and not lines[i].isspace()]

    # -- bulk tables
    def table(self, indices, names, int_cols=()):
        """Parse the lines ``indices`` as a numeric table with columns ``names``.

        Fast path: one ``np.fromstring`` over all lines, checking the total count,
        integrality of ``int_cols`` and finiteness; the per-line field counts are
        verified lazily, before any other error is reported (:meth:`error`). On
        failure the offending line is located and reported.
        """
        ncol = len(names)
        if len(indices) == 0:
            return np.zeros((0, ncol))
        lines = self.lines
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = np.fromstring("\n".join([lines[i] for i in indices]), dtype=float, sep=" ")
            if v.size != len(indices) * ncol:
                raise ValueError
            arr = v.reshape(len(indices), ncol)
            if int_cols:
                ic = list(int_cols)
                if not np.array_equal(arr[:, ic], np.round(arr[:, ic])):
                    raise ValueError
            if not np.all(np.isfinite(arr)):
                raise ValueError
        except ValueError:
            self._scan(indices, names, int_cols)
            raise self._make(indices[0], f"could not parse the table of '{' '.join(names)}' starting here") from None
        self._pending.append((indices, names, int_cols))
        return arr

    def _scan(self, indices, names, int_cols):
        """Check every line of a table; raise at the first malformed one."""
        ncol = len(names)
        desc = " ".join(names)
        for i in indices:
            fields = self.lines[i].split()
            if len(fields) != ncol:
                raise self._make(i, f"expected {ncol} fields '{desc}', got {len(fields)}")
            for c, tok in enumerate(fields):
                conv = int if c in int_cols else float
                try:
                    v = conv(tok)
                except ValueError:
                    kind = "an integer" if conv is int else "a number"
                    raise self._make(i, f"expected {kind} for field {c + 1} ('{names[c]}') "
                                        f"of '{desc}', got {tok!r}") from None
                if not np.isfinite(v):
                    raise self._make(i, f"non-finite value {tok!r} for field {c + 1} ('{names[c]}')")


def _check_indices(src, idx, mn, nw, block_len, what):
    """Validate the (m, n) columns of consecutive blocks of ``nw**2`` lines and
    return flat positions ``m-1, n-1`` (0-based). Each pair must occur once per block."""
    m = mn[:, 0].astype(np.int64)
    n = mn[:, 1].astype(np.int64)
    bad = np.flatnonzero((m < 1) | (m > nw) | (n < 1) | (n > nw))
    if len(bad):
        k = bad[0]
        raise src.error(idx[k], f"expected Wannier indices 1 <= m, n <= num_wann = {nw} in {what}, "
                                f"got m = {m[k]}, n = {n[k]}")
    block = np.arange(len(m)) // block_len
    key = (block * nw + (m - 1)) * nw + (n - 1)
    uniq, first, counts = np.unique(key, return_index=True, return_counts=True)
    if np.any(counts > 1):
        dup = uniq[counts > 1]
        # first line whose key is a repeat
        seen = np.zeros(len(key), bool)
        seen[first] = True
        k = np.flatnonzero(~seen & np.isin(key, dup))[0]
        raise src.error(idx[k], f"duplicate entry m = {m[k]}, n = {n[k]} within one R-vector block of {what}")
    return m - 1, n - 1


# ---------------------------------------------------------------------------- _tb.dat
def read_tb(path):
    """Read ``seedname_tb.dat`` (Wannier90 ``write_tb = .true.``).

    Format (Wannier90 user guide, ``hamiltonian_write_tb``)::

        header line
        a1x a1y a1z          (3 lines: lattice vectors, Å)
        num_wann
        nrpts
        ndegen(1..nrpts)     (15 per line in Wannier90; any split accepted)
        nrpts blocks:  <blank>, "R1 R2 R3", num_wann**2 lines "m n Re Im" (m fastest)
        nrpts blocks:  <blank>, "R1 R2 R3", num_wann**2 lines
                       "m n Re(x) Im(x) Re(y) Im(y) Re(z) Im(z)"     (optional)

    Returns
    -------
    dict with ``lattice`` (3,3) Å, ``R`` (nR,3) int, ``ndegen`` (nR,) int,
    ``H_R`` (nR,nw,nw) complex eV and ``A_R`` (nR,3,nw,nw) complex Å or None
    (neither divided by ``ndegen``), ``num_wann``, ``header``.
    """
    src = _Text(path)
    header = src.lines[0].strip() if src.lines else ""
    if not src.lines:
        raise src.eof_error("a header line")
    src.pos = 1
    lattice = np.array([src.next_values(3, f"a{i + 1}x a{i + 1}y a{i + 1}z")[1] for i in range(3)])
    nw = src.next_int("num_wann", 1)
    nrpts = src.next_int("nrpts", 1)
    ndegen = np.array(src.int_list(nrpts, "ndegen", stop_at_blank=True))
    _check_ndegen(src, ndegen)
    nw2 = nw * nw
    blk = 1 + nw2
    idx = src.nonblank_indices()
    nH = nrpts * blk

    def locate_missing(t, section, cols):
        b, w = divmod(t, blk)
        if w == 0:
            return f"'R1 R2 R3' line of {section} block {b + 1} of {nrpts}"
        return f"line {w} of {nw2} '{cols}' in {section} block {b + 1} of {nrpts}"

    if len(idx) < nH:
        raise src.eof_error(locate_missing(len(idx), "Hamiltonian", "m n Re Im"))
    H_R, R = _read_blocks(src, idx[:nH], nrpts, nw, ("m", "n", "Re", "Im"), "Hamiltonian")
    rest = idx[nH:]
    A_R = None
    if rest:
        if len(rest) < nH:
            raise src.eof_error(locate_missing(len(rest), "position", "m n Re(x) Im(x) Re(y) Im(y) Re(z) Im(z)"))
        if len(rest) > nH:
            raise src.error(rest[nH], f"unexpected extra data after the {nrpts} position blocks "
                                      "(check nrpts and num_wann)")
        cols = ("m", "n", "Re(x)", "Im(x)", "Re(y)", "Im(y)", "Re(z)", "Im(z)")
        A, RA = _read_blocks(src, rest, nrpts, nw, cols, "position")
        bad = np.flatnonzero(np.any(RA != R, axis=1))
        if len(bad):
            raise src.error(rest[bad[0] * blk], f"expected R = {tuple(R[bad[0]])} (same order as the "
                                                f"Hamiltonian blocks), got {tuple(RA[bad[0]])}")
        A_R = A.transpose(0, 3, 1, 2).copy()
    return {"header": header, "lattice": lattice, "num_wann": nw, "R": R, "ndegen": ndegen,
            "H_R": H_R, "A_R": A_R}


def _check_ndegen(src, ndegen):
    if np.any(ndegen < 1):
        raise src.error(None, f"degeneracies ndegen must be positive integers, got {ndegen.min()}")


def _read_blocks(src, idx, nrpts, nw, cols, section):
    """Blocks of 'R1 R2 R3' + nw² lines 'm n v1 v2 ...'; returns X (nR,nw,nw,nc) complex, R."""
    blk = 1 + nw * nw
    idx = np.asarray(idx)
    ridx = idx[::blk]
    R = src.table(list(ridx), ("R1", "R2", "R3"), int_cols=(0, 1, 2)).astype(int)
    didx = np.delete(idx, np.arange(0, len(idx), blk))
    data = src.table(list(didx), cols, int_cols=(0, 1))
    m, n = _check_indices(src, didx, data[:, :2], nw, nw * nw, f"{section} blocks")
    ncomp = (len(cols) - 2) // 2
    vals = data[:, 2::2] + 1j * data[:, 3::2]
    X = np.zeros((nrpts, nw, nw, ncomp), complex)
    ir = np.arange(len(didx)) // (nw * nw)
    X[ir, m, n] = vals
    if ncomp == 1:
        X = X[..., 0]
    return X, R


# ---------------------------------------------------------------------------- _hr.dat / _r.dat
def _read_flat(src, idx, nrpts, nw, cols, what):
    """Lines 'R1 R2 R3 m n v...' in nrpts consecutive blocks of nw² lines."""
    nw2 = nw * nw
    need = nrpts * nw2
    desc = " ".join(cols)
    if len(idx) < need:
        b, w = divmod(len(idx), nw2)
        raise src.eof_error(f"line {w + 1} of {nw2} '{desc}' of R-vector block {b + 1} of {nrpts}")
    if len(idx) > need:
        raise src.error(idx[need], f"unexpected extra data after nrpts * num_wann**2 = {need} "
                                   f"'{desc}' lines (check nrpts and num_wann)")
    data = src.table(idx, cols, int_cols=(0, 1, 2, 3, 4))
    Rall = data[:, :3].astype(int).reshape(nrpts, nw2, 3)
    bad = np.argwhere(np.any(Rall != Rall[:, :1], axis=2))
    if len(bad):
        b, w = bad[0]
        raise src.error(idx[b * nw2 + w], f"expected R = {tuple(Rall[b, 0])} (R-vector block {b + 1} "
                                          f"has num_wann**2 = {nw2} lines), got {tuple(Rall[b, w])}")
    m, n = _check_indices(src, idx, data[:, 3:5], nw, nw2, what)
    vals = data[:, 5::2] + 1j * data[:, 6::2]
    X = np.zeros((nrpts, nw, nw, vals.shape[1]), complex)
    X[np.arange(need) // nw2, m, n] = vals
    return Rall[:, 0].copy(), X


def read_hr(path):
    """Read ``seedname_hr.dat`` (Wannier90 ``write_hr = .true.``).

    Format (Wannier90 user guide)::

        header line
        num_wann
        nrpts
        ndegen(1..nrpts)       (15 per line; any split accepted)
        nrpts*num_wann**2 lines "R1 R2 R3 m n Re(H) Im(H)"  (blocks of fixed R, m fastest)

    Returns dict with ``R`` (nR,3), ``ndegen`` (nR,), ``H_R`` (nR,nw,nw) eV not
    divided by ``ndegen``, ``num_wann``, ``header``.
    """
    src = _Text(path)
    if not src.lines:
        raise src.eof_error("a header line")
    src.pos = 1
    nw = src.next_int("num_wann", 1)
    nrpts = src.next_int("nrpts", 1)
    ndegen = np.array(src.int_list(nrpts, "ndegen"))
    _check_ndegen(src, ndegen)
    R, X = _read_flat(src, src.nonblank_indices(), nrpts, nw, ("R1", "R2", "R3", "m", "n", "Re", "Im"),
                      "_hr.dat")
    return {"header": src.lines[0].strip(), "num_wann": nw, "R": R, "ndegen": ndegen, "H_R": X[..., 0]}


def read_r(path):
    """Read ``seedname_r.dat`` (Wannier90 ``write_rmn = .true.``).

    Format of Wannier90 3.x::

        header line
        num_wann
        nrpts
        nrpts*num_wann**2 lines "R1 R2 R3 m n Re(x) Im(x) Re(y) Im(y) Re(z) Im(z)"

    Older files that carry an ``ndegen`` list after ``nrpts`` (as in ``_hr.dat``)
    are detected and accepted.

    Returns dict with ``R`` (nR,3), ``A_R`` (nR,3,nw,nw) Å not divided by ndegen,
    ``ndegen`` (nR,) or None when the file has no list, ``num_wann``, ``header``.
    """
    src = _Text(path)
    if not src.lines:
        raise src.eof_error("a header line")
    src.pos = 1
    nw = src.next_int("num_wann", 1)
    nrpts = src.next_int("nrpts", 1)
    cols = ("R1", "R2", "R3", "m", "n", "Re(x)", "Im(x)", "Re(y)", "Im(y)", "Re(z)", "Im(z)")
    ndegen = None
    idx = src.nonblank_indices()
    if idx and len(src.lines[idx[0]].split()) != len(cols):
        ndegen = np.array(src.int_list(nrpts, "ndegen"))
        _check_ndegen(src, ndegen)
        idx = src.nonblank_indices()
    R, X = _read_flat(src, idx, nrpts, nw, cols, "_r.dat")
    return {"header": src.lines[0].strip(), "num_wann": nw, "R": R, "ndegen": ndegen,
            "A_R": X.transpose(0, 3, 1, 2).copy()}


# ---------------------------------------------------------------------------- _wsvec.dat
def _wsvec_fast(data):
    """Fast path for a well-formed ``_wsvec.dat`` (no blank lines); None if anything is off."""
    if _looks_binary(data):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    header, _, body = text.partition("\n")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = np.fromstring(body, dtype=np.int64, sep=" ")
    except ValueError:
        return None
    vl = v.tolist()
    N = len(vl)
    starts = []
    p = 0
    try:
        while p < N:
            starts.append(p)
            d = vl[p + 5]
            if d < 1:
                return None
            p += 6 + 3 * d
    except IndexError:
        return None
    if p != N:
        return None
    starts = np.array(starts, dtype=np.int64)
    ndeg = v[starts + 5] if len(starts) else np.zeros(0, np.int64)
    nlines = body.count("\n") + (0 if body.endswith("\n") or not body else 1)
    if nlines != 2 * len(starts) + int(ndeg.sum()):
        return None
    keys = v[starts[:, None] + np.arange(5)].reshape(-1, 5)
    if np.any(keys[:, 3:] < 1):
        return None
    first = np.repeat(starts + 6, ndeg)
    within = np.arange(len(first)) - np.repeat(np.cumsum(ndeg) - ndeg, ndeg)
    T = v[(first + 3 * within)[:, None] + np.arange(3)].reshape(-1, 3)
    return keys.astype(int), ndeg.astype(int), T.astype(int), header.strip()


def _read_wsvec_arrays(path):
    """Parse ``_wsvec.dat`` into flat arrays: keys (N,5), ndeg (N,), T (sum ndeg, 3), header."""
    raw = _read_bytes(path)
    fast = _wsvec_fast(raw[1])
    if fast is not None:
        return fast
    src = _Text(path, raw=raw)
    if not src.lines:
        raise src.eof_error("a header line")
    lines = src.lines
    nfields = [len(t.split()) for t in lines]
    key_idx, deg_idx, ndeg, t_idx = [], [], [], []
    i, n = 1, len(lines)
    while True:
        while i < n and nfields[i] == 0:
            i += 1
        if i >= n:
            break
        if nfields[i] != 5:
            raise src.error(i, f"expected 5 fields 'R1 R2 R3 i j', got {nfields[i]}")
        key_idx.append(i)
        i += 1
        while i < n and nfields[i] == 0:
            i += 1
        if i >= n:
            raise src.eof_error("1 field 'ndeg' (number of shifts)")
        if nfields[i] != 1:
            raise src.error(i, f"expected 1 field 'ndeg' (number of shifts), got {nfields[i]}")
        d = src.convert(i, lines[i].split()[0], int, "ndeg")
        if d < 1:
            raise src.error(i, f"expected ndeg >= 1, got {d}")
        deg_idx.append(i)
        ndeg.append(d)
        i += 1
        for k in range(d):
            while i < n and nfields[i] == 0:
                i += 1
            if i >= n:
                raise src.eof_error(f"shift {k + 1} of {d}: 3 fields 'T1 T2 T3'")
            if nfields[i] != 3:
                raise src.error(i, f"expected 3 fields 'T1 T2 T3' (shift {k + 1} of {d}), got {nfields[i]}")
            t_idx.append(i)
            i += 1
    keys = src.table(key_idx, ("R1", "R2", "R3", "i", "j"), int_cols=(0, 1, 2, 3, 4)).astype(int)
    T = src.table(t_idx, ("T1", "T2", "T3"), int_cols=(0, 1, 2)).astype(int)
    bad = np.flatnonzero((keys[:, 3] < 1) | (keys[:, 4] < 1))
    if len(bad):
        raise src.error(key_idx[bad[0]], "expected Wannier indices i, j >= 1")
    return keys, np.array(ndeg, dtype=int), T, lines[0].strip()


def read_wsvec(path):
    """Read ``seedname_wsvec.dat`` (``use_ws_distance`` shifts, Wannier90 >= 2.1).

    Format (Wannier90 ``ws_write_vec``)::

        header line  (3.x: "... with use_ws_distance=.true." or ".false.")
        then for every R and pair (i, j):
            R1 R2 R3 i j
            ndeg
            ndeg lines "T1 T2 T3"   (integer shifts in reduced coordinates)

    The element ``X_ij(R)`` is to be used at the ``ndeg`` vectors ``R + T``, each
    with weight ``1/ndeg`` (in addition to ``1/ndegen(R)``).

    Returns
    -------
    dict ``(R1, R2, R3, i, j) -> (ndeg, 3) int array`` (i, j 1-based as in the file).
    """
    keys, ndeg, T, _ = _read_wsvec_arrays(path)
    return _wsvec_dict(keys, ndeg, T)


def _wsvec_dict(keys, ndeg, T):
    """Flat arrays -> dict (R1,R2,R3,i,j) -> (ndeg,3) array, grouping entries by ndeg."""
    start = np.cumsum(ndeg) - ndeg
    values = [None] * len(ndeg)
    for d in np.unique(ndeg).tolist():
        sel = np.flatnonzero(ndeg == d)
        blocks = T[start[sel][:, None] + np.arange(d)]  # (count, d, 3)
        for k, b in zip(sel.tolist(), blocks):
            values[k] = b
    return dict(zip(map(tuple, keys.tolist()), values))


def _wsvec_to_arrays(wsvec):
    if isinstance(wsvec, tuple):
        return wsvec[:3]
    if not wsvec:
        return np.zeros((0, 5), int), np.zeros(0, int), np.zeros((0, 3), int)
    keys = np.array(list(wsvec.keys()), dtype=np.int64).reshape(-1, 5)
    Ts = list(wsvec.values())
    if not all(isinstance(t, np.ndarray) and t.ndim == 2 for t in Ts):
        Ts = [np.asarray(t, dtype=np.int64).reshape(-1, 3) for t in Ts]
    ndeg = np.fromiter((len(t) for t in Ts), dtype=np.int64, count=len(Ts))
    if np.any(ndeg < 1):
        raise ValueError("every wsvec entry needs at least one shift T")
    return keys, ndeg, np.concatenate(Ts).astype(np.int64).reshape(-1, 3)


def apply_ws_distance(R, ndegen, X_R, wsvec):
    """Apply the Wannier90 ``use_ws_distance`` (MDRS) shifts.

    Each element ``X_R[ir, ..., i, j] / ndegen[ir]`` is split equally among its
    ``ndeg`` images at ``R + T`` with ``T`` from ``wsvec[(*R, i+1, j+1)]``
    (pairs absent from ``wsvec`` keep ``T = 0``); duplicate vectors are merged.
    This is the interpolation of Wannier90's ``postw90`` (``ws_distance.F90``):
    ``X(k) = Σ_R Σ_T e^{ik·(R+T)} X_ij(R) / (ndegen(R) ndeg_ij(R))``.

    Parameters
    ----------
    R : (nR, 3) int
    ndegen : (nR,) int
    X_R : (nR, ..., nw, nw) complex (any number of component axes after nR)
    wsvec : dict from :func:`read_wsvec` (or the internal array form)

    Returns
    -------
    (R_new (nR',3) int sorted lexicographically, X_new (nR', ..., nw, nw) complex)
    """
    R = np.asarray(R, dtype=np.int64).reshape(-1, 3)
    X_R = np.asarray(X_R)
    nR = len(R)
    nw = X_R.shape[-1]
    comp_shape = X_R.shape[1:-2]
    X = X_R.reshape(nR, -1, nw, nw)
    C = X.shape[1]
    ndegen = np.asarray(ndegen, dtype=float).reshape(nR)
    keys, ndeg, T = _wsvec_to_arrays(wsvec)

    # map each key's R to its row in R
    lo = R.min(axis=0) if nR else np.zeros(3, int)
    span = (R.max(axis=0) - lo + 1) if nR else np.ones(3, int)

    def code(v):
        v = v - lo
        ok = np.all((v >= 0) & (v < span), axis=1)
        return np.where(ok, (v[:, 0] * span[1] + v[:, 1]) * span[2] + v[:, 2], -1)

    rcode = code(R)
    order = np.argsort(rcode)
    kcode = code(keys[:, :3])
    pos = np.clip(np.searchsorted(rcode[order], kcode), 0, max(nR - 1, 0))
    ir_k = order[pos]
    found = (kcode >= 0) & (rcode[ir_k] == kcode)
    if not np.all(found):
        k = keys[np.flatnonzero(~found)[0]]
        raise ValueError(f"wsvec entry for R = {tuple(k[:3])} but this R-vector is not in the model")
    i_k, j_k = keys[:, 3] - 1, keys[:, 4] - 1
    if np.any(i_k >= nw) | np.any(j_k >= nw):
        raise ValueError(f"wsvec has Wannier indices beyond num_wann = {nw}")
    flat_k = (ir_k * nw + i_k) * nw + j_k
    # pairs without an entry: single image T = 0
    present = np.zeros(nR * nw * nw, bool)
    present[flat_k] = True
    absent = np.flatnonzero(~present)
    # when a key appears twice, keep the last occurrence (dict semantics)
    if np.count_nonzero(present) != len(flat_k):
        _, last_rev = np.unique(flat_k[::-1], return_index=True)
        keep = np.sort(len(flat_k) - 1 - last_rev)
        starts = np.concatenate([[0], np.cumsum(ndeg)])
        T = np.concatenate([T[starts[k]:starts[k + 1]] for k in keep])
        flat_k, ndeg = flat_k[keep], ndeg[keep]
    flat = np.concatenate([np.repeat(flat_k, ndeg), absent])
    shift = np.concatenate([T, np.zeros((len(absent), 3), int)])
    weight = np.concatenate([np.repeat(1.0 / ndeg, ndeg), np.ones(len(absent))])
    ir, ij = np.divmod(flat, nw * nw)
    weight = weight / ndegen[ir]
    Rn = R[ir] + shift
    lo = Rn.min(axis=0)
    span = Rn.max(axis=0) - lo + 1
    code = ((Rn[:, 0] - lo[0]) * span[1] + (Rn[:, 1] - lo[1])) * span[2] + (Rn[:, 2] - lo[2])
    size = int(np.prod(span))
    if size <= 8 * len(code) + 1000:  # dense lookup, O(M)
        used = np.zeros(size, bool)
        used[code] = True
        ucode = np.flatnonzero(used)
        inv = (np.cumsum(used) - 1)[code]
    else:
        ucode, inv = np.unique(code, return_inverse=True)
    a, rem = np.divmod(ucode, span[1] * span[2])
    b, c = np.divmod(rem, span[2])
    R_new = np.stack([a, b, c], axis=1) + lo
    vals = X.transpose(0, 2, 3, 1).reshape(nR * nw * nw, C)[flat] * weight[:, None]
    target = inv * (nw * nw) + ij
    size = len(R_new) * nw * nw
    out = np.empty((size, C), complex)
    for c in range(C):
        out[:, c] = (np.bincount(target, weights=vals[:, c].real, minlength=size)
                     + 1j * np.bincount(target, weights=vals[:, c].imag, minlength=size))
    X_new = out.reshape(len(R_new), nw, nw, C).transpose(0, 3, 1, 2).reshape(
        (len(R_new),) + comp_shape + (nw, nw))
    return R_new.astype(int), X_new


# ---------------------------------------------------------------------------- _centres.xyz
def read_centres(path):
    """Read ``seedname_centres.xyz`` (Wannier90 ``write_xyz = .true.``).

    XYZ format: line 1 the number of entries, line 2 a comment, then lines
    ``symbol x y z`` (Cartesian, Å); entries with symbol ``X`` are the Wannier
    centres, the others are the atoms (written when ``translate_home_cell`` etc.).

    Returns ``(centres (nw,3) array, atoms list of (symbol, (3,) array))``.
    """
    src = _Text(path)
    if not src.lines:
        raise src.eof_error("the number of entries")
    src.pos = 0
    i, (count,) = src.next_values(1, "number of entries", int)
    if count < 0:
        raise src.error(i, f"expected a non-negative number of entries, got {count}")
    src.pos = i + 2  # skip comment line
    if src.pos > len(src.lines):
        raise src.eof_error("a comment line")
    centres, atoms = [], []
    for k in range(count):
        j, fields = src.next_line(f"entry {k + 1} of {count}: 4 fields 'symbol x y z'")
        if len(fields) != 4:
            raise src.error(j, f"expected 4 fields 'symbol x y z' (entry {k + 1} of {count}), got {len(fields)}")
        xyz = np.array([src.convert(j, f, float, "symbol x y z") for f in fields[1:]])
        if fields[0].upper() == "X":
            centres.append(xyz)
        else:
            atoms.append((fields[0], xyz))
    rest = src.nonblank_indices()
    if rest:
        raise src.error(rest[0], f"unexpected extra line after the {count} entries declared on line 1")
    return np.array(centres).reshape(-1, 3), atoms


# ---------------------------------------------------------------------------- .win
_BOOL_TRUE = {"t", "true", ".true.", ".t."}
_BOOL_FALSE = {"f", "false", ".false.", ".f."}


def _element_number(label):
    """Atomic number of a Wannier90 atom label ('Fe', 'FE1', 'Cu_up', 'C2' ...); 0 if unknown."""
    m = re.match(r"[A-Za-z]{1,2}", label)
    if not m:
        return 0
    s = m.group(0)
    return _ATOMIC_NUMBER.get(s.capitalize(), _ATOMIC_NUMBER.get(s[0].upper(), 0))


def read_win(path):
    """Read the parts of ``seedname.win`` needed here (Wannier90 user guide, ch. 2).

    Keywords are case-insensitive, separated from values by ``=``, ``:`` or
    blanks; ``!`` and ``#`` start comments. Parsed: block ``unit_cell_cart``
    (optional first line ``bohr``/``ang``), blocks ``atoms_frac``/``atoms_cart``
    (``atoms_cart`` may also start with a unit line), ``num_wann``, ``spinors``,
    ``fermi_energy``, ``mp_grid``.

    Returns dict: ``lattice`` (3,3) Å or None; ``atoms_symbols`` list;
    ``atoms_frac`` (nat,3) reduced (None when the lattice is unknown for
    ``atoms_cart``); ``atoms_cart`` (nat,3) Å or None; ``atomic_numbers`` (nat,)
    (0 for labels that are not element symbols); ``num_wann`` (int or None);
    ``spinors`` (bool); ``fermi_energy`` (float or None); ``mp_grid`` ((3,) int or
    None); ``keywords`` (all other ``key -> raw value string``); ``blocks``
    (``name -> list of raw lines``).
    """
    src = _Text(path)
    keywords, kw_line, blocks, block_lines = {}, {}, {}, {}
    i, n = 0, len(src.lines)
    clean = [re.split(r"[!#]", t, maxsplit=1)[0].strip() for t in src.lines]
    while i < n:
        t = clean[i]
        if not t:
            i += 1
            continue
        m = re.match(r"(?i)begin\s+(\w+)\s*$", t)
        if m:
            name = m.group(1).lower()
            start = i
            body = []
            i += 1
            while i < n and not re.match(rf"(?i)end\s+{name}\s*$", clean[i]):
                if re.match(r"(?i)(begin|end)\s+\w+", clean[i]):
                    raise src.error(i, f"expected 'end {name}' closing the block opened on line {start + 1}, "
                                       f"got {clean[i]!r}")
                if clean[i]:
                    body.append((i, clean[i]))
                i += 1
            if i >= n:
                raise src.eof_error(f"'end {name}' closing the block opened on line {start + 1}")
            if name in blocks:
                raise src.error(start, f"block '{name}' defined twice")
            blocks[name] = body
            block_lines[name] = start
            i += 1
            continue
        m = re.match(r"(\w+)\s*(?:[=:]\s*|\s+)(.*)$", t)
        if not m:
            raise src.error(i, f"expected 'keyword = value' or 'begin <block>', got {t!r}")
        key = m.group(1).lower()
        if key in keywords:
            raise src.error(i, f"keyword '{key}' defined twice (first on line {kw_line[key] + 1})")
        keywords[key], kw_line[key] = m.group(2).strip(), i
        i += 1

    def kw(key, conv, count=1):
        if key not in keywords:
            return None
        fields = keywords[key].replace(",", " ").split()
        j = kw_line[key]
        if len(fields) != count:
            raise src.error(j, f"expected {count} value{'s' * (count > 1)} for '{key}', got {len(fields)}")
        vals = [src.convert(j, f, conv, key) for f in fields]
        return vals[0] if count == 1 else vals

    def unit_and_rows(name, ncols, first_col_label=False):
        body = list(blocks[name])
        scale = 1.0
        if body and len(body[0][1].split()) == 1 and body[0][1].lower() in ("bohr", "ang", "angstrom"):
            scale = BOHR_ANGSTROM if body[0][1].lower() == "bohr" else 1.0
            body = body[1:]
        rows = []
        desc = ("symbol x y z" if first_col_label else "x y z")
        for j, t in body:
            fields = t.split()
            if len(fields) != ncols:
                raise src.error(j, f"expected {ncols} fields '{desc}' in block '{name}', got {len(fields)}")
            nums = [src.convert(j, f, float, desc) for f in fields[first_col_label:]]
            rows.append(([fields[0]] if first_col_label else []) + nums)
        return scale, rows

    lattice = None
    if "unit_cell_cart" in blocks:
        scale, rows = unit_and_rows("unit_cell_cart", 3)
        if len(rows) != 3:
            j = blocks["unit_cell_cart"][-1][0] if blocks["unit_cell_cart"] else block_lines["unit_cell_cart"]
            raise src.error(j, f"expected 3 lattice vectors in block 'unit_cell_cart', got {len(rows)}")
        lattice = np.array(rows) * scale
    symbols, frac, cart = [], None, None
    if "atoms_frac" in blocks and "atoms_cart" in blocks:
        raise src.error(block_lines["atoms_cart"], "expected only one of 'atoms_frac' and 'atoms_cart'")
    if "atoms_frac" in blocks:
        _, rows = unit_and_rows("atoms_frac", 4, True)
        symbols = [r[0] for r in rows]
        frac = np.array([r[1:] for r in rows], float).reshape(-1, 3)
        cart = None if lattice is None else frac @ lattice
    elif "atoms_cart" in blocks:
        scale, rows = unit_and_rows("atoms_cart", 4, True)
        symbols = [r[0] for r in rows]
        cart = np.array([r[1:] for r in rows], float).reshape(-1, 3) * scale
        frac = None if lattice is None else cart @ np.linalg.inv(lattice)
    spinors = False
    if "spinors" in keywords:
        v = keywords["spinors"].lower()
        if v not in _BOOL_TRUE | _BOOL_FALSE:
            raise src.error(kw_line["spinors"], f"expected a logical (.true./.false.) for 'spinors', got {v!r}")
        spinors = v in _BOOL_TRUE
    mp = kw("mp_grid", int, 3)
    parsed = {"unit_cell_cart", "atoms_frac", "atoms_cart"}
    return {
        "lattice": lattice,
        "atoms_symbols": symbols,
        "atoms_frac": frac,
        "atoms_cart": cart,
        "atomic_numbers": np.array([_element_number(s) for s in symbols], dtype=int),
        "num_wann": kw("num_wann", int),
        "spinors": spinors,
        "fermi_energy": kw("fermi_energy", float),
        "mp_grid": None if mp is None else np.array(mp, dtype=int),
        "keywords": {k: v for k, v in keywords.items()
                     if k not in ("num_wann", "spinors", "fermi_energy", "mp_grid")},
        "blocks": {k: [t for _, t in v] for k, v in blocks.items() if k not in parsed},
    }


# ---------------------------------------------------------------------------- .spn
def read_spn(path):
    """Read a formatted ``seedname.spn`` (pw2wannier90 ``write_spn``, ``spn_formatted = .true.``).

    Format (Wannier90 user guide, postw90 files)::

        header line
        num_bands num_kpts
        for each k, for m = 1..num_bands, for n = 1..m, for s = x, y, z:
            Re Im        of <psi_nk|sigma_s|psi_mk>   (one complex per line)

    Only the upper triangle (n <= m, column order) is stored; the rest follows
    from Hermiticity. Any split of the numbers over lines is accepted.

    Unformatted files (default of pw2wannier90: Fortran sequential records with
    4-byte little-endian markers: header, ``num_bands num_kpts`` as int32, then one
    record of complex128 ``(3, pairs)`` per k) are read too; when their record
    structure does not match, the error suggests ``spn_formatted = .true.`` or
    WannierBerri.

    Returns (nk, nb, nb, 3) complex Hermitian array.
    """
    hint = ("unformatted (binary) .spn file whose Fortran records could not be read ({}): rewrite "
            "it with 'spn_formatted = .true.' in pw2wannier90, or load the model through WannierBerri "
            "(TightBindingModel.from_wannierberri), which reads unformatted .spn")
    raw = _read_bytes(path)
    if _looks_binary(raw[1]):
        return _read_spn_unformatted(raw[0], raw[1], hint)
    src = _Text(path, raw=raw)
    if not src.lines:
        raise src.eof_error("a header line")
    src.pos = 1
    _, (nb, nk) = src.next_values(2, "num_bands num_kpts", int)
    if nb < 1 or nk < 1:
        raise src.error(src.pos - 1, f"expected positive num_bands and num_kpts, got {nb} {nk}")
    npair = nb * (nb + 1) // 2
    need = nk * npair * 3 * 2
    vals = None
    try:  # fast path
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = np.fromstring("\n".join(src.lines[src.pos:]), dtype=float, sep=" ")
        if v.size == need and np.all(np.isfinite(v)):
            vals = v
    except ValueError:
        pass
    if vals is None:
        vals = _spn_slow(src, need, nb, nk, npair)
    return _spn_assemble((vals[0::2] + 1j * vals[1::2]).reshape(nk, npair, 3), nb)


def _fortran_records(data):
    """Split a Fortran sequential unformatted file (4-byte little-endian markers) into records."""
    recs, p = [], 0
    while p < len(data):
        if p + 4 > len(data):
            raise ValueError(f"truncated record marker at byte {p}")
        n = int(np.frombuffer(data, "<i4", 1, p)[0])
        if n < 0 or p + 8 + n > len(data):
            raise ValueError(f"record {len(recs) + 1} at byte {p}: bad length {n}")
        if int(np.frombuffer(data, "<i4", 1, p + 4 + n)[0]) != n:
            raise ValueError(f"record {len(recs) + 1} at byte {p}: trailing marker differs")
        recs.append(data[p + 4:p + 4 + n])
        p += 8 + n
    return recs


def _read_spn_unformatted(name, data, hint):
    """pw2wannier90 unformatted ``.spn``: records header (60 chars), (nbnd, nkpts) int32,
    then per k the complex(dp) array ((spn(s, pair), s=1..3), pair=1..nb(nb+1)/2)."""
    try:
        recs = _fortran_records(data)
        if len(recs) < 2 or len(recs[1]) != 8:
            raise ValueError("expected a header record and a record 'num_bands num_kpts'")
        nb, nk = (int(x) for x in np.frombuffer(recs[1], "<i4"))
        if nb < 1 or nk < 1:
            raise ValueError(f"num_bands = {nb}, num_kpts = {nk}")
        npair = nb * (nb + 1) // 2
        if len(recs) != 2 + nk:
            raise ValueError(f"expected {2 + nk} records for num_kpts = {nk}, got {len(recs)}")
        for k, r in enumerate(recs[2:]):
            if len(r) != 16 * 3 * npair:
                raise ValueError(f"k-point {k + 1}: expected {16 * 3 * npair} bytes, got {len(r)}")
        data = np.stack([np.frombuffer(r, "<c16").reshape(npair, 3) for r in recs[2:]])
    except ValueError as err:
        raise Wannier90FormatError(name, None, hint.format(err)) from None
    return _spn_assemble(data, nb)


def _spn_assemble(data, nb):
    """(nk, npair, 3) upper-triangle values (n <= m, column order) -> (nk, nb, nb, 3) Hermitian."""
    nk = data.shape[0]
    mm = np.concatenate([np.full(m + 1, m) for m in range(nb)])
    nn = np.concatenate([np.arange(m + 1) for m in range(nb)])
    S = np.zeros((nk, nb, nb, 3), complex)
    S[:, mm, nn] = data.conj()
    S[:, nn, mm] = data
    d = np.arange(nb)
    S[:, d, d] = S[:, d, d].real
    return S


def _spn_slow(src, need, nb, nk, npair):
    """Locate the problem in a ``.spn`` body (or parse it when only the split is unusual)."""
    idx = src.nonblank_indices()
    count = 0
    out = []
    for i in idx:
        for tok in src.lines[i].split():
            if count == need:
                raise src.error(i, f"unexpected extra data after the {need} numbers expected for "
                                   f"num_bands = {nb}, num_kpts = {nk}")
            try:
                x = float(tok)
            except ValueError:
                raise src.error(i, f"expected a number 'Re' or 'Im', got {tok!r}") from None
            if not np.isfinite(x):
                raise src.error(i, f"non-finite value {tok!r}")
            out.append(x)
            count += 1
    if count < need:
        kk = (count // 2) // (npair * 3)
        raise src.eof_error(f"{need} real numbers ({nk} k-points x {npair} band pairs x 3 components x Re,Im);"
                            f" found {count} (stopped in k-point {kk + 1})")
    return np.array(out)


# ---------------------------------------------------------------------------- model assembly
def load_model_data(seedname, use_ws_distance=True):
    """Collect Wannier90 outputs of ``seedname`` into ``TightBindingModel`` kwargs.

    Files (each may be gzip-compressed with a ``.gz`` suffix):
    ``seedname_tb.dat`` (preferred: lattice, H and position matrix), else
    ``seedname_hr.dat`` (+ ``seedname_r.dat`` if present; lattice from
    ``seedname.win``); ``seedname_wsvec.dat`` (applied when ``use_ws_distance``,
    to H and A alike, see :func:`apply_ws_distance`; otherwise the matrices are
    divided by ``ndegen``); ``seedname_centres.xyz`` (Wannier centres; else the
    real diagonal of A(R=0)); ``seedname.win`` (atoms, and the lattice for ``_hr.dat``).

    Returns dict with ``lattice, R, H_R, A_R, S_R (None), centres, atoms, name, position_source`` (the file the
    position matrix came from, or None: a ``_tb.dat`` without its position blocks warns);
    ``atoms`` is ``(positions reduced (nat,3), atomic numbers (nat,))`` or None.
    """
    seedname = os.fspath(seedname)
    name = os.path.basename(seedname)
    tb_path, hr_path = seedname + "_tb.dat", seedname + "_hr.dat"
    win_path = seedname + ".win"
    win = read_win(win_path) if resolve(win_path) else None
    A_R = None
    ndeg_A = None
    source = None
    if resolve(tb_path):
        d = read_tb(tb_path)
        lattice, R, ndegen, H_R, A_R = d["lattice"], d["R"], d["ndegen"], d["H_R"], d["A_R"]
        ndeg_A = ndegen
        if A_R is None:
            warnings.warn(f"{resolve(tb_path)} ends after its Hamiltonian blocks: no position matrix, so the diagonal "
                          "tight-binding approximation from the Wannier centres is used (quantities with the Berry "
                          "connection change; write the full _tb.dat, or _hr.dat + _r.dat)", stacklevel=2)
        else:
            source = os.path.basename(resolve(tb_path))
    elif resolve(hr_path):
        d = read_hr(hr_path)
        R, ndegen, H_R = d["R"], d["ndegen"], d["H_R"]
        if win is None or win["lattice"] is None:
            raise FileNotFoundError(f"{hr_path} has no lattice vectors: need {win_path} with a "
                                    "'unit_cell_cart' block (or use seedname_tb.dat)")
        lattice = win["lattice"]
        r_path = seedname + "_r.dat"
        if resolve(r_path):
            dr = read_r(r_path)
            real = resolve(r_path)
            if dr["num_wann"] != H_R.shape[1]:
                raise Wannier90FormatError(real, 2, f"expected num_wann = {H_R.shape[1]} as in "
                                                    f"{resolve(hr_path)}, got {dr['num_wann']}")
            index = {tuple(r): i for i, r in enumerate(dr["R"].tolist())}
            try:
                perm = np.array([index[tuple(r)] for r in R.tolist()])
            except KeyError as err:
                raise Wannier90FormatError(real, None, f"R-vector {err.args[0]} of {resolve(hr_path)} "
                                                       "is missing") from None
            if len(dr["R"]) != len(R):
                raise Wannier90FormatError(real, 3, f"expected nrpts = {len(R)} as in "
                                                    f"{resolve(hr_path)}, got {len(dr['R'])}")
            A_R = dr["A_R"][perm]
            ndeg_A = ndegen if dr["ndegen"] is None else dr["ndegen"][perm]
            source = os.path.basename(real)
    else:
        tried = [p + s for p in (tb_path, hr_path) for s in ("", ".gz")]
        raise FileNotFoundError("no Wannier90 Hamiltonian file found; tried " + ", ".join(tried))
    nw = H_R.shape[1]

    centres = None
    xyz_path = seedname + "_centres.xyz"
    if resolve(xyz_path):
        centres, _ = read_centres(xyz_path)
        if centres.shape[0] != nw:
            raise Wannier90FormatError(resolve(xyz_path), None,
                                       f"expected {nw} Wannier centres ('X' lines), got {centres.shape[0]}")
    elif A_R is not None:
        i0 = np.flatnonzero(np.all(R == 0, axis=1))
        if len(i0):
            centres = np.real(np.diagonal(A_R[i0[0]], axis1=1, axis2=2)).T / ndeg_A[i0[0]]

    ws_path = seedname + "_wsvec.dat"
    if use_ws_distance and resolve(ws_path):
        keys, ndeg, T, _ = _read_wsvec_arrays(ws_path)
        try:
            if A_R is None:
                R_new, H_new = apply_ws_distance(R, ndegen, H_R, (keys, ndeg, T))
            else:
                if not np.array_equal(ndeg_A, ndegen):
                    raise ValueError("_r.dat and _hr.dat have different ndegen")
                X = np.concatenate([H_R[:, None], A_R], axis=1)
                R_new, X = apply_ws_distance(R, ndegen, X, (keys, ndeg, T))
                H_new, A_R = X[:, 0], X[:, 1:]
        except ValueError as err:
            raise Wannier90FormatError(resolve(ws_path), None, f"inconsistent with the Hamiltonian: {err}") from None
        R, H_R = R_new, H_new
    else:
        H_R = H_R / ndegen[:, None, None]
        if A_R is not None:
            A_R = A_R / ndeg_A[:, None, None, None]

    atoms = None if win is None else win_atoms(win, lattice)
    return {"lattice": np.asarray(lattice, float), "R": R, "H_R": H_R, "A_R": A_R, "S_R": None,
            "centres": centres, "atoms": atoms, "name": name, "position_source": source}


def plain_copies(seedname, extensions, directory, required=()):
    """Seed path whose ``seedname.ext`` files are readable uncompressed (for WannierBerri's readers).

    Files that exist only as ``.gz`` are decompressed into ``directory`` (the others are linked
    there), so the returned seed lies in ``directory``. A missing ``required`` extension raises
    FileNotFoundError naming it.
    """
    missing = [ext for ext in required if resolve(seedname + ext) is None]
    if missing:
        raise FileNotFoundError(f"{seedname}: needs {', '.join(seedname + e for e in required)}; "
                                f"missing {', '.join(seedname + e for e in missing)}")
    seed = os.path.join(directory, os.path.basename(seedname))
    for ext in extensions:
        src = resolve(seedname + ext)
        if src is None:
            continue
        if src.endswith(".gz"):
            with gzip.open(src, "rb") as fin, open(seed + ext, "wb") as fout:
                while chunk := fin.read(1 << 24):
                    fout.write(chunk)
        else:
            os.symlink(os.path.abspath(src), seed + ext)
    return seed


def fortran_formatted(path):
    """True when ``path`` (e.g. a ``.uHu`` or ``.spn``, plain or ``.gz``) is a formatted (text) file.

    An unformatted Fortran file starts with a 4-byte record length, which contains NUL bytes for
    any record shorter than 16 MiB; a formatted one starts with a printable header line.
    """
    real = resolve(path)
    if real is None:
        raise FileNotFoundError(f"neither {os.fspath(path)} nor {os.fspath(path)}.gz exists")
    opener = gzip.open if real.endswith(".gz") else open
    with opener(real, "rb") as f:
        head = f.read(256)
    return not _looks_binary(head)


def win_atoms(win, lattice=None):
    """(reduced positions (nat, 3), atomic numbers (nat,)) from a :func:`read_win` result, or None."""
    if not len(win["atoms_symbols"]):
        return None
    frac = win["atoms_frac"]
    if frac is None:
        lat = win["lattice"] if lattice is None else lattice
        frac = win["atoms_cart"] @ np.linalg.inv(lat)
    return (frac, win["atomic_numbers"])


# ---------------------------------------------------------------------------- projections
#: Wannier90 angular-momentum names (user guide, Tables 3.1 and 3.2): name -> (l, [m_r, ...])
W90_ORBITALS = {
    "s": (0, [1]),
    "p": (1, [1, 2, 3]), "pz": (1, [1]), "px": (1, [2]), "py": (1, [3]),
    "d": (2, [1, 2, 3, 4, 5]), "dz2": (2, [1]), "dxz": (2, [2]), "dyz": (2, [3]),
    "dx2-y2": (2, [4]), "dxy": (2, [5]),
    "f": (3, [1, 2, 3, 4, 5, 6, 7]), "fz3": (3, [1]), "fxz2": (3, [2]), "fyz2": (3, [3]),
    "fz(x2-y2)": (3, [4]), "fxyz": (3, [5]), "fx(x2-3y2)": (3, [6]), "fy(3x2-y2)": (3, [7]),
    "sp": (-1, [1, 2]), "sp2": (-2, [1, 2, 3]), "sp3": (-3, [1, 2, 3, 4]),
    "sp3d": (-4, [1, 2, 3, 4, 5]), "sp3d2": (-5, [1, 2, 3, 4, 5, 6]),
}
for _name, _n in (("sp", 2), ("sp2", 3), ("sp3", 4), ("sp3d", 5), ("sp3d2", 6)):
    for _m in range(1, _n + 1):
        W90_ORBITALS[f"{_name}-{_m}"] = (W90_ORBITALS[_name][0], [_m])
_L_RANGE = {0: 1, 1: 3, 2: 5, 3: 7, -1: 2, -2: 3, -3: 4, -4: 5, -5: 6}


def win_projections(win, lattice=None):
    """The Wannier functions' projections, in Wannier90's order, from a :func:`read_win` result.

    Parses the ``projections`` block (Wannier90 user guide, ch. 3): per line
    ``site:orbitals[:z=z1,z2,z3][:x=x1,x2,x3][:r=..][:zona=..]``, the site being an
    atom label of ``atoms_frac``/``atoms_cart`` (every atom with that label, in
    the order of the atoms block, case-insensitive), ``f=x,y,z`` (reduced) or
    ``c=x,y,z`` (Cartesian, Å, or Bohr after a first line ``bohr``); orbitals as
    names (``s``, ``p``, ``dxy``, ``sp3d2``, ``sp3-1``, …) or ``l=..,mr=..``,
    separated by ``;`` or ``,``; an optional spin part ``(u)``, ``(d)`` or
    ``(u,d)`` after the orbitals when ``spinors = true``.

    Wannier90 orders the functions of one line by site, then l (hybrids, l < 0,
    first), then m_r, then spin (up, down: interlaced), whatever the order in the
    line; this function does the same. ``z=``/``x=`` (local axes, Cartesian) are
    returned; ``r=`` and ``zona=`` (radial parts) are ignored.

    Returns a list, one dict per Wannier function: ``site`` (reduced, (3,)),
    ``l``, ``mr``, ``zaxis``, ``xaxis`` (unit, Cartesian), ``spin`` (0 without
    spinors, +1 up, −1 down along z) and ``line`` (the projection line). Raises
    ValueError for what cannot be represented (``random`` projections, a spin
    quantisation axis other than z, unknown labels or orbitals) or a count that
    differs from ``num_wann``.
    """
    lines = list(win["blocks"].get("projections", []))
    if not lines:
        raise ValueError(".win: no 'projections' block (needed to know how the Wannier functions transform)")
    lat = win["lattice"] if lattice is None else np.asarray(lattice, float)
    if lat is None:
        raise ValueError(".win: the projections need the lattice ('unit_cell_cart')")
    scale = 1.0
    if len(lines[0].split()) == 1 and lines[0].strip().lower() in ("bohr", "ang", "angstrom"):
        scale = BOHR_ANGSTROM if lines[0].strip().lower() == "bohr" else 1.0
        lines = lines[1:]
    atoms = win_atoms(win, lat)
    labels = [s.lower() for s in win["atoms_symbols"]]
    out = []
    for line in lines:
        def bad(msg, line=line):
            return ValueError(f".win projections, line {line!r}: {msg}")
        parts = [p.strip() for p in line.split(":")]
        if len(parts) < 2:
            if parts[0].lower() == "random":
                raise bad("random projections do not say how the Wannier functions transform")
            raise bad("expected 'site:orbitals[:z=..][:x=..]'")
        site, orbs, extra = parts[0], parts[1], parts[2:]
        key = site.replace(" ", "").lower()
        if key.startswith("f=") or key.startswith("c="):
            try:
                xyz = np.array([float(v) for v in key[2:].split(",")], float)
            except ValueError:
                raise bad(f"could not read the site {site!r}") from None
            if xyz.shape != (3,):
                raise bad(f"expected three coordinates in {site!r}")
            sites = [xyz if key[0] == "f" else (xyz * scale) @ np.linalg.inv(lat)]
        else:
            if atoms is None:
                raise bad("atom labels need an atoms_frac or atoms_cart block")
            sites = [atoms[0][i] for i, s in enumerate(labels) if s == key]
            if not sites:
                raise bad(f"no atom labelled {site!r} in the atoms block")
        zaxis, xaxis = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
        for e in extra:
            k, _, v = e.partition("=")
            k = k.strip().lower()
            if k in ("z", "x"):
                try:
                    vec = np.array([float(t) for t in v.split(",")], float)
                except ValueError:
                    raise bad(f"could not read the axis {e!r}") from None
                if vec.shape != (3,) or np.linalg.norm(vec) < 1e-12:
                    raise bad(f"expected a non-zero 3-vector in {e!r}")
                if k == "z":
                    zaxis = vec / np.linalg.norm(vec)
                else:
                    xaxis = vec / np.linalg.norm(vec)
            elif k not in ("r", "zona"):
                raise bad(f"unknown projection option {e!r}")
        if abs(zaxis @ xaxis) > 1e-6:
            raise bad("the local z and x axes are not perpendicular")
        spins = [1, -1] if win["spinors"] else [0]
        m = re.search(r"\[([^\]]*)\]", orbs)
        if m:
            q = np.array([float(t) for t in m.group(1).replace(",", " ").split()], float)
            if q.shape != (3,) or np.linalg.norm(np.cross(q, [0, 0, 1])) > 1e-8 * np.linalg.norm(q) or q[2] <= 0:
                raise bad("only the default spin quantisation axis (z) is supported")
            orbs = orbs[:m.start()] + orbs[m.end():]
        m = re.search(r"\(([^)]*)\)\s*$", orbs)
        if m and m.group(1).replace(" ", "").lower() in ("u", "d", "u,d", "d,u"):
            if not win["spinors"]:
                raise bad("a spin (u/d) is given but spinors = false")
            spec = m.group(1).replace(" ", "").lower()
            spins = [s for s, c in ((1, "u"), (-1, "d")) if c in spec]
            orbs = orbs[:m.start()]
        states = set()
        for piece in [p.strip() for p in orbs.split(";") if p.strip()]:
            low = piece.replace(" ", "").lower()
            if low.startswith("l="):
                mm = re.fullmatch(r"l=(-?\d+)(?:,mr=([\d,]+))?", low)
                if not mm or int(mm.group(1)) not in _L_RANGE:
                    raise bad(f"could not read {piece!r} (l = -5..3, mr = 1..2l+1)")
                lq = int(mm.group(1))
                mrs = [int(t) for t in mm.group(2).split(",") if t] if mm.group(2) else list(range(1, _L_RANGE[lq] + 1))
                if any(not 1 <= x <= _L_RANGE[lq] for x in mrs):
                    raise bad(f"mr out of range in {piece!r}")
                states.update((lq, x) for x in mrs)
                continue
            for name in [t for t in low.split(",") if t]:
                if name not in W90_ORBITALS:
                    raise bad(f"unknown orbital {name!r}")
                lq, mrs = W90_ORBITALS[name]
                states.update((lq, x) for x in mrs)
        if not states:
            raise bad("no orbitals")
        for s in sites:
            for lq, mr in sorted(states):
                for sp in spins:
                    out.append({"site": np.array(s, float), "l": lq, "mr": mr, "zaxis": zaxis.copy(),
                                "xaxis": xaxis.copy(), "spin": sp, "line": line})
    if win.get("num_wann") is not None and len(out) != win["num_wann"]:
        raise ValueError(f".win: the projections give {len(out)} Wannier functions, num_wann = {win['num_wann']}")
    return out


# ---------------------------------------------------------------------------- writers
def _open_write(path):
    path = os.fspath(path)
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "wb"), encoding="utf-8")
    return open(path, "w", encoding="utf-8")


def _ndegen_lines(ndegen):
    return "".join("".join(f"{x:5d}" for x in ndegen[i:i + 15]) + "\n" for i in range(0, len(ndegen), 15))


def _mn_columns(nw):
    """(m, n) 1-based in Wannier90 order (m fastest)."""
    n, m = np.divmod(np.arange(nw * nw), nw)
    return m + 1, n + 1


def _get_ndegen(model, ndegen):
    if ndegen is None:
        return np.ones(len(model.R), int)
    ndegen = np.asarray(ndegen, dtype=int).reshape(len(model.R))
    if np.any(ndegen < 1):
        raise ValueError("ndegen must be positive")
    return ndegen


def _rows(fmt, columns):
    """Format the rows of ``columns`` (list of equal-length 1D arrays) with ``fmt`` (one line each)."""
    flat = np.empty(len(columns[0]) * len(columns), dtype=object)
    for c, col in enumerate(columns):
        flat[c::len(columns)] = col.tolist()
    return (fmt * len(columns[0])) % tuple(flat)


def _complex_columns(V):
    """(N, nc) complex -> [Re0, Im0, Re1, Im1, ...]."""
    out = []
    for c in range(V.shape[1]):
        out += [V[:, c].real, V[:, c].imag]
    return out


_F = " %.16e"


def write_tb(path, model, header="written by wkin", ndegen=None):
    """Write ``model`` as ``seedname_tb.dat`` (format of :func:`read_tb`, full precision).

    ``ndegen`` (default all 1) is written in the list and the matrices are
    multiplied by it, so that reading back and dividing gives ``model.H_R``.
    The position blocks hold ``model.A_R`` (the tight-binding diagonal when the
    model has no position matrix). A name ending in ``.gz`` is gzip-compressed.
    """
    ndegen = _get_ndegen(model, ndegen)
    nw = model.num_wann
    m, n = _mn_columns(nw)
    with _open_write(path) as f:
        f.write(header.replace("\n", " ") + "\n")
        for a in model.lattice:
            f.write(" ".join(f"{x: .16e}" for x in a) + "\n")
        f.write(f"{nw}\n{len(model.R)}\n")
        f.write(_ndegen_lines(ndegen))
        for ir, r in enumerate(model.R):
            h = (model.H_R[ir] * ndegen[ir]).T.reshape(-1, 1)  # m fastest
            f.write("\n{:5d}{:5d}{:5d}\n".format(*r))
            f.write(_rows("%5d%5d" + _F * 2 + "\n", [m, n] + _complex_columns(h)))
        for ir, r in enumerate(model.R):
            A = (model.A_R[ir] * ndegen[ir]).transpose(2, 1, 0).reshape(nw * nw, 3)
            f.write("\n{:5d}{:5d}{:5d}\n".format(*r))
            f.write(_rows("%5d%5d" + _F * 6 + "\n", [m, n] + _complex_columns(A)))


def write_hr(path, model, header="written by wkin", ndegen=None):
    """Write ``model.H_R`` as ``seedname_hr.dat`` (format of :func:`read_hr`).

    ``ndegen`` as in :func:`write_tb`.
    """
    ndegen = _get_ndegen(model, ndegen)
    nw = model.num_wann
    m, n = _mn_columns(nw)
    with _open_write(path) as f:
        f.write(header.replace("\n", " ") + f"\n{nw}\n{len(model.R)}\n")
        f.write(_ndegen_lines(ndegen))
        for ir, r in enumerate(model.R):
            h = (model.H_R[ir] * ndegen[ir]).T.reshape(-1, 1)
            pre = "{:5d}{:5d}{:5d}".format(*r)
            f.write(_rows(pre + "%5d%5d" + _F * 2 + "\n", [m, n] + _complex_columns(h)))


def write_r(path, model, header="written by wkin", ndegen=None):
    """Write ``model.A_R`` as a Wannier90 3.x ``seedname_r.dat`` (format of :func:`read_r`).

    ``ndegen`` as in :func:`write_tb` (it is not written: 3.x files have no list).
    """
    ndegen = _get_ndegen(model, ndegen)
    nw = model.num_wann
    m, n = _mn_columns(nw)
    with _open_write(path) as f:
        f.write(header.replace("\n", " ") + f"\n{nw}\n{len(model.R)}\n")
        for ir, r in enumerate(model.R):
            A = (model.A_R[ir] * ndegen[ir]).transpose(2, 1, 0).reshape(nw * nw, 3)
            pre = "{:5d}{:5d}{:5d}".format(*r)
            f.write(_rows(pre + "%5d%5d" + _F * 6 + "\n", [m, n] + _complex_columns(A)))
