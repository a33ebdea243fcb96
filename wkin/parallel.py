"""Thin MPI layer (mpi4py): split work over ranks, reduce at the end.

Runs serially when mpi4py is missing or the program was not started by
``mpiexec``. Work is split into contiguous blocks in a fixed order and partial
sums are reduced in rank order, so results agree between rank counts to
rounding (≈1e-15 relative).
"""

from __future__ import annotations

import contextlib

import numpy as np

try:  # pragma: no cover - exercised in the MPI tests
    from mpi4py import MPI
    COMM = MPI.COMM_WORLD
except Exception:  # mpi4py absent or no MPI runtime
    COMM = None


@contextlib.contextmanager
def alone():
    """Within the block this rank works by itself (``MPI.COMM_SELF``): every split and reduction is serial.

    Used to give whole tasks (e.g. materials of a screening run) to single ranks; :func:`world` still reaches
    every rank.
    """
    global COMM
    saved = COMM
    COMM = None if saved is None else MPI.COMM_SELF
    try:
        yield
    finally:
        COMM = saved


def world():
    """The communicator of all ranks (None when serial), whatever :func:`alone` has set."""
    return None if COMM is None else MPI.COMM_WORLD


def rank() -> int:
    return 0 if COMM is None else COMM.Get_rank()


def size() -> int:
    return 1 if COMM is None else COMM.Get_size()


def is_root() -> bool:
    return rank() == 0


def my_slice(n: int) -> slice:
    """Contiguous block of range(n) owned by this rank."""
    bounds = np.linspace(0, n, size() + 1).round().astype(int)
    return slice(bounds[rank()], bounds[rank() + 1])


def sum_over_ranks(x):
    """Sum an array over ranks (gathered to every rank, added in rank order)."""
    if size() == 1:
        return x
    parts = COMM.allgather(np.asarray(x))
    total = np.zeros_like(parts[0])
    for p in parts:
        total = total + p
    return total


def gather_concat(x):
    """Concatenate per-rank arrays along axis 0 in rank order."""
    if size() == 1:
        return np.asarray(x)
    return np.concatenate(COMM.allgather(np.asarray(x)), axis=0)
