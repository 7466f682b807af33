#!/usr/bin/env bash
# make test: the whole check, as CI runs it.
#   1. the setup scripts' own tests (scripts/tests: the kernel relays, the grader on four
#      submissions through the real kernel, ...), that every console script in .venv runs,
#      as students call them (jupyter, tensorboard, pip), and that the students' notebooks
#      are the ones the solutions make
#   2. cargo fmt --check and clippy -D warnings
#   3. cargo test for the workspace
#   4. every solution notebook, executed through the rust-cnn kernel with CNN_QUICK=1 on
#      Fashion-MNIST (Debian's package) and a synthetic CIFAR-10, writing its diary and
#      runs into a scratch folder so that a student's own diary is never touched; then
#      every student notebook, which must stop at its first gap with the gap's message
#   5. make e2e: JupyterLab started by make lab, driven in headless Chromium
#   6. make test-cluster: a sweep as a Slurm job array on a one-node Slurm (about 40 s)
# A skipped browser or cluster test is repeated loudly at the very end.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

step() { printf '\n== %s (at %dm%02ds) ==\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

# Real data for the loader test and the notebooks, where this machine lets us install it.
if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  step "installing Debian's dataset-fashion-mnist"
  (apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 ||
    (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1)) ||
    echo "could not install dataset-fashion-mnist; tests on real data will be skipped"
fi

# Chromium for the browser test (scripts/e2e.py drives it through Playwright from .venv).
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  step "installing Debian's chromium for the browser test"
  (apt-get install -y -qq chromium >/dev/null 2>&1 ||
    (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) ||
    echo "could not install chromium; the browser test will be skipped"
fi

step "setup scripts, and .venv's console scripts"
.venv/bin/python -m unittest discover -s scripts/tests
for script in jupyter jupyter-lab tensorboard pip; do
  .venv/bin/$script --version >/dev/null 2>&1 ||
    { echo ".venv/bin/$script does not run (first line: $(head -1 .venv/bin/$script))"; exit 1; }
done
echo "jupyter, jupyter-lab, tensorboard and pip run"
.venv/bin/python scripts/exercises.py check

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked --quiet -- -D warnings

step "cargo test"
cargo test --workspace --locked

step "notebooks (CNN_QUICK=1)"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cnn-notebook-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export CNN_QUICK=1 CNN_DATASET=fashion-mnist
export CNN_DATA_DIR="$scratch/data" CNN_DIARY_DIR="$scratch/diary" CNN_RUNS_DIR="$scratch/runs"
cnn=target/debug/cnn
"$cnn" data synthetic --dataset cifar10 --out "$CNN_DATA_DIR/cifar10"
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  echo "Fashion-MNIST is not installed here: the notebooks run on a synthetic stand-in"
  "$cnn" data synthetic --dataset fashion-mnist --out "$CNN_DATA_DIR/fashion-mnist"
fi
.venv/bin/python scripts/notebooks.py test
.venv/bin/python scripts/notebooks.py gaps
unset CNN_QUICK CNN_DATASET CNN_DATA_DIR CNN_DIARY_DIR CNN_RUNS_DIR

step "make e2e: JupyterLab in headless Chromium"
e2e=0
.venv/bin/python scripts/e2e.py || e2e=$?
[ "$e2e" = 0 ] || [ "$e2e" = 77 ] || exit "$e2e"

step "make test-cluster: a sweep on Slurm"
cluster=0
bash scripts/cluster-test.sh || cluster=$?
[ "$cluster" = 0 ] || [ "$cluster" = 77 ] || exit "$cluster"

loud() {
  printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
  printf '!! %-73s !!\n' "$@"
  printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
}
if [ "$e2e" = 77 ]; then
  loud "THE BROWSER TEST WAS SKIPPED: no Chromium here (see its message above)." \
    "make lab was NOT checked in a browser."
fi
if [ "$cluster" = 77 ]; then
  loud "THE SLURM TEST WAS SKIPPED (see its message above)." \
    "cnn sweep was NOT checked on a cluster."
fi
