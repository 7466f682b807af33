#!/usr/bin/env bash
# The papers' recipes on one CUDA GPU in under 10 minutes, for whenever a GPU is at hand:
# graham-mnist and lecun-1998, one seed each, each learning-rate schedule COMPRESSED into
# a few epochs. Results are labelled "-compressedN" in every run name and report; they are
# a quick look, not the papers' full recipes (`cnn reproduce NAME` runs those).
#
# Needs only what it is given, so it runs on a machine without Rust or network:
#   scripts/gpu-reproduce.sh CNN_BINARY DATA_DIR [OUT_DIR]
# DATA_DIR holds mnist/ with the four IDX files. Each recipe has a wall-clock cap; a run
# cut short by it stops between batches, keeps its complete epochs, and says so. Running
# the script again continues from there.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CNN_BINARY DATA_DIR [OUT_DIR]" >&2
  exit 2
fi
cnn=$(realpath "$1")
export CNN_DATA_DIR=$(realpath "$2")
export CNN_RUNS_DIR=$(realpath -m "${3:-gpu-reproduce}")
mkdir -p "$CNN_RUNS_DIR"
[ -d "$CNN_DATA_DIR/mnist" ] || { echo "no $CNN_DATA_DIR/mnist: pass the folder that holds mnist/" >&2; exit 2; }

"$cnn" env
# Caps (seconds) and epochs, adjustable: GRAHAM_EPOCHS GRAHAM_CAP LECUN_EPOCHS LECUN_CAP.
run() { # recipe epochs cap
  echo "== $1: schedule compressed into $2 epochs, at most $3 s"
  timeout -s INT "$3" "$cnn" reproduce "$1" --seeds 1 --epochs "$2" --compress --device cuda \
    || echo "== $1 stopped at its $3 s cap (or failed, see above); run this script again to continue"
}
run graham-mnist "${GRAHAM_EPOCHS:-10}" "${GRAHAM_CAP:-300}"
run lecun-1998 "${LECUN_EPOCHS:-4}" "${LECUN_CAP:-240}"
ls "$CNN_RUNS_DIR"/reproduce-*.md 2>/dev/null || true
