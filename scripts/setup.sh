#!/usr/bin/env bash
# make setup: everything a fresh clone needs, installed inside the repository.
#
#   .venv/                  Python with the pins in requirements.txt (torch = libtorch)
#   .tools/evcxr/           the pinned evcxr_jupyter kernel
#   .cargo/config.toml      tells cargo where libtorch is (LIBTORCH)
#   .venv/share/jupyter/kernels/rust-cnn/   the kernelspec "Rust (cnn-notebooks)"
#   .evcxr/                 the kernels' persistent build caches: slot 0 pre-warmed, copied
#                           into .evcxr/1, 2, ... for a second and third notebook open at
#                           once; .cargo/config.toml builds support as a release build does
#
# Idempotent: each step keeps a stamp of its inputs under .setup/ and is skipped when
# they have not changed. Steps build aside and swap, so a failure keeps the last good setup.
set -uo pipefail

EVCXR_VERSION=0.22.0
MIN_RUST=1.85          # edition 2024
MIN_PY=3.10
NEED_GB=9              # torch from PyPI brings the CUDA libraries (~5 GB) plus builds

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
mkdir -p .setup
log=.setup/setup.log
: >"$log"

# Each line carries the time since setup began, so a slow step shows itself.
say() { printf '[setup %2dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }
# Runs a logged step; on failure shows one line and where the full log is.
run_logged() {
  local what=$1 logfile=$2; shift 2
  if ! "$@" >"$logfile" 2>&1; then
    local hint
    hint=$(grep -m1 -iE 'error(\[|:)|ERROR:|No space left|could not find|not found' "$logfile" | cut -c1-200)
    die "$what failed${hint:+: $hint}. Full log: $repo/$logfile"
  fi
}
stamp_ok() { [ -f ".setup/$1.stamp" ] && [ "$(cat ".setup/$1.stamp")" = "$2" ]; }
stamp_set() { printf '%s' "$2" >".setup/$1.stamp"; }
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# --- 1. What must already be on the machine ------------------------------------------
command -v cargo >/dev/null 2>&1 ||
  die "cargo not found. Install Rust (https://rustup.rs): curl --proto '=https' -sSf https://sh.rustup.rs | sh"
rust_v=$(rustc --version 2>/dev/null | awk '{print $2}')
version_ge "$rust_v" "$MIN_RUST" ||
  die "Rust $rust_v is too old; this course needs $MIN_RUST or newer. Run: rustup update stable"

python=""
for cand in "${PYTHON:-}" python3.12 python3.11 python3.10 python3; do
  [ -n "$cand" ] && command -v "$cand" >/dev/null 2>&1 || continue
  v=$("$cand" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  if version_ge "$v" "$MIN_PY"; then python=$cand; break; fi
done
[ -n "$python" ] ||
  die "Python $MIN_PY or newer not found. Install it (Debian: apt-get install python3 python3-venv), or set PYTHON=/path/to/python3"
"$python" -c 'import venv, ensurepip' >/dev/null 2>&1 ||
  die "$python cannot create virtual environments. Debian/Ubuntu: apt-get install python3-venv"

req_hash=$( (cat requirements.txt; "$python" --version) | cksum | awk '{print $1}')
if ! stamp_ok venv "$req_hash" || [ ! -x .venv/bin/python ]; then
  free_gb=$(df -Pk "$repo" | awk 'NR==2 {print int($4/1024/1024)}')
  [ "$free_gb" -ge "$NEED_GB" ] ||
    die "only ${free_gb} GB free in $repo; setup needs about $NEED_GB GB (the PyPI torch wheel carries CUDA libraries). Free some space and run make setup again"
fi

# --- 2 and 3. Python (.venv) and the evcxr kernel, built side by side --------------------
# pip mostly downloads and unpacks while cargo compiles evcxr, so the two steps share the
# first minutes instead of taking turns. Each builds aside and swaps in when it succeeded.
install_venv() {
  if stamp_ok venv "$req_hash" && [ -x .venv/bin/python ]; then
    say "Python environment .venv is up to date"
    return 0
  fi
  say "creating .venv with $python and the pins in requirements.txt (torch is large: a few minutes)"
  rm -rf .venv.new
  run_logged "creating the virtual environment" .setup/venv.log "$python" -m venv --prompt .venv .venv.new
  run_logged "pip install -r requirements.txt" .setup/pip.log \
    .venv.new/bin/python -m pip install --disable-pip-version-check -r requirements.txt
  rm -rf .venv.old
  [ -d .venv ] && mv .venv .venv.old
  mv .venv.new .venv && rm -rf .venv.old
  stamp_set venv "$req_hash"
  say ".venv is ready"
}

evcxr=.tools/evcxr/bin/evcxr_jupyter
install_evcxr() {
  if stamp_ok evcxr "$EVCXR_VERSION" && [ -x "$evcxr" ]; then
    say "evcxr_jupyter $EVCXR_VERSION is installed"
    return 0
  fi
  say "building evcxr_jupyter $EVCXR_VERSION into .tools/evcxr (about 6 minutes, once)"
  rm -rf .tools/evcxr.new
  run_logged "cargo install evcxr_jupyter" .setup/evcxr.log \
    cargo install --locked --quiet evcxr_jupyter --version "$EVCXR_VERSION" --root .tools/evcxr.new
  rm -rf .tools/evcxr.old
  [ -d .tools/evcxr ] && mv .tools/evcxr .tools/evcxr.old
  mv .tools/evcxr.new .tools/evcxr && rm -rf .tools/evcxr.old
  stamp_set evcxr "$EVCXR_VERSION"
  say "evcxr_jupyter is built"
}

# A failure in one still lets the other finish (and keep its result for the next run).
install_evcxr &
evcxr_job=$!
(install_venv)
venv_status=$?
wait "$evcxr_job"
evcxr_status=$?
[ "$venv_status" = 0 ] && [ "$evcxr_status" = 0 ] || exit 1

# pip writes the venv's path into every console script (jupyter, tensorboard, pip) and
# the venv was built as .venv.new, or the repository may have moved since: point them all
# at .venv as it is now.
run_logged "pointing .venv's scripts at .venv" .setup/venv-paths.log .venv/bin/python scripts/venv_paths.py .venv
# Everything below calls tools as `.venv/bin/python -m ...`. The torch package is found
# without importing it (an import takes seconds, and a second setup should not).
torch_dir=$(.venv/bin/python -c 'import importlib.util as u, os; print(os.path.dirname(u.find_spec("torch").origin))' 2>/dev/null) &&
  [ -f "$torch_dir/version.py" ] && [ -d "$torch_dir/lib" ] ||
  die "torch is missing or broken in .venv. Delete .venv and .setup, then run make setup again"
torch_version=$(sed -n "s/^__version__ = '\([0-9.]*\).*/\1/p" "$torch_dir/version.py")
[ "$torch_version" = "2.13.0" ] ||
  die "tch 0.26 needs PyTorch 2.13.0 but .venv has ${torch_version:-an unknown version}. Fix requirements.txt, then make setup"

# --- 4. cargo knows where libtorch is ------------------------------------------------
mkdir -p .cargo
config="# Written by make setup: libtorch is the torch wheel in .venv.
[env]
LIBTORCH = \"$torch_dir\""
if [ "$(cat .cargo/config.toml 2>/dev/null)" != "$config" ]; then
  printf '%s\n' "$config" >.cargo/config.toml.new && mv .cargo/config.toml.new .cargo/config.toml
  say "wrote .cargo/config.toml (LIBTORCH=$torch_dir)"
fi

# --- 5. The kernelspec rust-cnn --------------------------------------------------------
rust_lib=$(rustc --print target-libdir 2>/dev/null) && [ -d "$rust_lib" ] ||
  die "rustc --print target-libdir gave no folder; check the Rust installation (rustup show)"
run_logged "writing the rust-cnn kernelspec" .setup/kernel.log \
  .venv/bin/python scripts/kernelspec.py --repo "$repo" --torch "$torch_dir" \
  --evcxr "$repo/$evcxr" --cargo "$(command -v cargo)" --rust-lib "$rust_lib"

# --- 6. Pre-warm the notebooks' build cache --------------------------------------------
warm_hash=$( (cat Cargo.lock support/Cargo.toml .venv/share/jupyter/kernels/rust-cnn/kernel.json .evcxr/.cargo/config.toml scripts/notebooks.py
  find support/src -type f -name '*.rs' -print0 | sort -z | xargs -0 cat) | cksum | awk '{print $1}')
if stamp_ok prewarm "$warm_hash"; then
  say "notebook build cache is warm"
else
  say "pre-warming the notebooks' build cache (the first time: about 7 minutes on 2 cores)"
  run_logged "pre-warming the kernel cache" .setup/prewarm.log .venv/bin/python scripts/notebooks.py prewarm
  stamp_set prewarm "$warm_hash"
  say "the notebook build cache is warm"
fi
# A second or third notebook's kernel copies this warm slot instead of compiling
# (scripts/kernel_launcher.py); the mark tells it whether its own copy is current.
[ "$(cat .evcxr/0/.warm 2>/dev/null)" = "$warm_hash" ] || printf '%s' "$warm_hash" >.evcxr/0/.warm
say "ready: 'make lab' starts JupyterLab, 'make test' runs the tests"
