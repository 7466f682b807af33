#!/usr/bin/env bash
# make handout: the course as students get it, without the teachers' solutions/, packed
# from the last commit (what is committed is what was checked; uncommitted changes are
# left out, and said so) into target/handout/cnn-notebooks.tar.gz.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
git rev-parse --verify -q HEAD >/dev/null ||
  { echo "make handout packs the last commit, and this repository has none yet"; exit 1; }
# The students' notebooks must be the ones the solutions make.
.venv/bin/python scripts/exercises.py check
if [ -n "$(git status --porcelain -- . ':(exclude)solutions')" ]; then
  echo "note: uncommitted changes are not in the handout (it packs commit $(git rev-parse --short HEAD))"
fi
mkdir -p target/handout
out=target/handout/cnn-notebooks.tar.gz
git archive --format=tar.gz --prefix=cnn-notebooks/ -o "$out.tmp" HEAD -- . ':(exclude)solutions'
if tar -tzf "$out.tmp" | grep -q '^cnn-notebooks/solutions/'; then
  rm -f "$out.tmp"
  echo "the handout still holds solutions/; nothing written" >&2
  exit 1
fi
mv "$out.tmp" "$out"
echo "wrote $out: the course from commit $(git rev-parse --short HEAD) without solutions/"
