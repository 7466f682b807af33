#!/usr/bin/env bash
# make lab: JupyterLab on a folder of notebooks (the first argument: notebooks/, or a
# teacher's solutions/), with the rust-cnn kernel as the default for new notebooks. The
# other arguments go to `jupyter lab` (make lab ARGS="--no-browser --port 8899").
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
folder=${1:?usage: lab.sh FOLDER [jupyter lab options]}
shift
[ -d "$folder" ] || { echo "make lab: there is no folder $folder in $repo (NOTEBOOKS=notebooks or solutions)" >&2; exit 2; }
# Jupyter refuses to run as root unless told; containers and course VMs often are root.
root=()
[ "$(id -u)" = 0 ] && root=(--allow-root)
exec .venv/bin/jupyter lab --notebook-dir="$folder" \
  --MappingKernelManager.default_kernel_name=rust-cnn "${root[@]}" "$@"
