"""Threads per MPI rank (wkin/threads.py): each rank of ``mpiexec -n N`` gets its share of the cores."""

from wkin import threads


def test_ranks_share_the_cores_unless_the_user_chose():
    env = {"PMI_SIZE": "2"}
    n = threads.share_cores(env)
    assert n == max(1, threads.cores() // 2)
    assert all(env[v] == str(n) for v in threads.THREAD_VARIABLES)
    env = {"PMI_SIZE": "2", "OMP_NUM_THREADS": "3"}  # the user's choice is kept
    assert threads.share_cores(env) is None and env == {"PMI_SIZE": "2", "OMP_NUM_THREADS": "3"}
    env = {}  # not an MPI rank: nothing changes
    assert threads.share_cores(env) is None and env == {}
    assert threads.ranks_on_this_node({"MPI_LOCALNRANKS": "4", "PMI_SIZE": "8"}) == 4
    assert threads.ranks_on_this_node({"OMPI_COMM_WORLD_LOCAL_SIZE": "3"}) == 3


def test_an_mpi_rank_starts_with_its_share(tmp_path):
    """Under mpiexec -n 2 the thread variables are set in each rank before numpy is imported."""
    import shutil
    import subprocess
    import sys

    import pytest
    exe = shutil.which("mpiexec")
    if exe is None:
        pytest.skip("mpiexec not found (pip install mpich)")
    code = "import os, wkin; print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    env = {k: v for k, v in __import__("os").environ.items() if k not in threads.THREAD_VARIABLES}
    out = subprocess.run([exe, "-n", "2", sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=True).stdout.split()
    assert out == [str(max(1, threads.cores() // 2))] * 2
