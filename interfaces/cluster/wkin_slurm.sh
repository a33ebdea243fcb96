#!/bin/bash
# Slurm job template: one wkin run distributed over MPI ranks.
# Submit with:  sbatch interfaces/cluster/wkin_slurm.sh path/to/config.toml
#SBATCH --job-name=wkin
#SBATCH --nodes=1
#SBATCH --ntasks=16            # MPI ranks: k-point blocks and Fermi-surface rows are split over them
#SBATCH --cpus-per-task=1      # under MPI each rank uses one FFT thread (WKIN_FFT_WORKERS overrides)
#SBATCH --time=02:00:00
#SBATCH --mem-per-cpu=2G
set -euo pipefail
CONFIG=${1:?usage: sbatch wkin_slurm.sh CONFIG.toml}
# mpi4py must be built against the site MPI (see docs/quickstart.md):
#   module load openmpi; pip uninstall -y mpi4py; pip install --no-binary mpi4py mpi4py
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
srun wkin run "$CONFIG" --quiet
