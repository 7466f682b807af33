#!/usr/bin/env bash
# make lab: JupyterLab on notebooks/, with the rust-cnn kernel as the default for new
# notebooks. Arguments go to `jupyter lab` (make lab ARGS="--no-browser --port 8899").
#
# A port in use is not an error: Jupyter tries the next ones (up to 50) and prints the
# address it took. The kernels inherit this environment, so CNN_QUICK=1, CNN_DEVICE or
# CNN_THREADS set before `make lab` reach every notebook.
set -euo pipefail
# The kernels run in notebooks/, where a relative folder would point somewhere else: the
# folders named here are made absolute from where `make lab` was started.
for var in CNN_DATA_DIR CNN_RUNS_DIR CNN_DIARY_DIR; do
  if [ -n "${!var:-}" ]; then export "$var=$(realpath -m -- "${!var}")"; fi
done
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
# Jupyter refuses to run as root unless told; containers and course VMs often are root.
root=()
[ "$(id -u)" = 0 ] && root=(--allow-root)
exec .venv/bin/jupyter lab --notebook-dir=notebooks \
  --MappingKernelManager.default_kernel_name=rust-cnn "${root[@]}" "$@"
