"""Threads per MPI rank: one share of the cores each, set before numpy's BLAS starts.

Under ``mpiexec -n N`` every rank's BLAS would otherwise start one thread per core, N times too many: on the
2-core machine the converged bcc Fe split took 5 min 54 s with two ranks of two BLAS threads each and 2 min 40 s
with one thread per rank (benchmarks/README.md). When the process is an MPI rank (the launcher's environment:
Hydra/MPICH ``PMI_SIZE``, ``MPI_LOCALNRANKS``; Open MPI ``OMPI_COMM_WORLD_LOCAL_SIZE``) of several on this node,
and the user has set none of the thread variables, ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
``MKL_NUM_THREADS`` are set to (cores available to the process) // (ranks on the node), at least 1. This module is
imported by :mod:`wkin` before numpy; a script that imports numpy before wkin must set them itself.
"""

from __future__ import annotations

import os

#: the variables that size the BLAS/OpenMP thread pools
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def ranks_on_this_node(environ=os.environ):
    """How many MPI ranks the launcher started on this node (1 when not launched by mpiexec)."""
    for key in ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        value = environ.get(key, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def cores():
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def share_cores(environ=os.environ):
    """Set the thread variables to this rank's share of the cores (module docstring); returns the number set, or
    None when nothing was changed (one rank, or a variable already set by the user)."""
    ranks = ranks_on_this_node(environ)
    if ranks <= 1 or any(v in environ for v in THREAD_VARIABLES):
        return None
    n = max(1, cores() // ranks)
    for v in THREAD_VARIABLES:
        environ[v] = str(n)
    return n


share_cores()
