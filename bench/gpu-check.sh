#!/usr/bin/env bash
# The whole CUDA comparison of `cnn-bench` on one GPU, for whenever one is at hand: the
# crate against the idiomatic and tuned PyTorch peers (data on the GPU, cudnn.benchmark,
# fp32, no AMP) on lenet5-modern (batch 64) and fmp-mnist (batch 32, native and Graham
# regions), one full epoch of training and the 12-pass evaluation of the 10,000 test
# images per side, repeated and interleaved. Budget: under 8 minutes; REPEATS=2 if the
# machine is slow to start processes. (Written without a GPU at hand: not yet run on one.)
#
# Needs only what it is given, so it runs on a machine without Rust, network or the
# repository; the peer scripts are the ones beside this file:
#   bench/gpu-check.sh CNN_BENCH_BINARY PYTHON FASHION_MNIST_DIR [OUT_DIR]
# PYTHON is any Python with torch and numpy (the GPU machine's own PyTorch will do).
# FASHION_MNIST_DIR holds the four .gz IDX files. Results: OUT_DIR/bench-cuda.json and
# OUT_DIR/bench-cuda.txt (default OUT_DIR: ./gpu-check).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 CNN_BENCH_BINARY PYTHON FASHION_MNIST_DIR [OUT_DIR]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
bench=$(realpath "$1")
python=$2
data=$(realpath "$3")
out=$(realpath -m "${4:-gpu-check}")
mkdir -p "$out"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
"$python" -c 'import torch; print("peers: torch", torch.__version__, "cuda", torch.cuda.is_available())'
timeout -s INT "${CAP:-470}" "$bench" --device cuda --repeats "${REPEATS:-3}" \
  --python "$python" --peers "$here" --data-path "$data" --json "$out/bench-cuda.json" \
  | tee "$out/bench-cuda.txt"
