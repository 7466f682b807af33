"""Grades a folder of students' notebooks: make grade DIR=submissions/

Each notebook runs headless through the rust-cnn kernel in quick mode (CNN_QUICK=1),
every cell even after one fails, with its runs and diary in a scratch folder so that
nothing of the teacher's is touched. Each exercise's result is read off the outputs:

    pass     its check printed `✓ Exercise 502.1: ...`
    fail     its check printed `✗ Exercise 502.1: ...` (a wrong answer)
    gap      a gap of it was left unfilled (the compiler's `Exercise 502.1: fill in ...`)
    not run  none of these appeared (an earlier failure, or the cell was deleted)

The table has one row per notebook: its name, how the run ended (`finished`, `crashed:
...` when the kernel died, `did not finish: ...` past the time limit) and one column per
exercise (the exercises each notebook declares in its metadata). It is printed and
written as grades.csv and grades.md into the folder (or --out DIR). A notebook that
crashes or never finishes is a row that says so, and grading goes on.
"""

import argparse
import csv
import glob
import os
import re
import shutil
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(REPO, "notebooks")
KERNEL = "rust-cnn"
# The marks a check and a gap print; see support/src/check/mod.rs. An exercise is 502.1,
# an optional extension 502.E1.
EXERCISE = r"(\d+\.(?:\d+|E\d+))"
PASSED = re.compile(r"✓ Exercise " + EXERCISE)
FAILED = re.compile(r"✗ Exercise " + EXERCISE)
GAP = re.compile(r"Exercise " + EXERCISE + r": fill in")
# A later mark of an exercise in a notebook never hides a worse one.
RANK = {"gap": 3, "fail": 2, "pass": 1}


def output_text(cell):
    """Everything a cell showed: streams, results, displays and errors, colours removed."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
        parts.append("\n".join(out.get("traceback", [])))
        parts.append(out.get("evalue", ""))
    text = "\n".join(p if isinstance(p, str) else "".join(p) for p in parts)
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def marks(nb):
    """{exercise: pass | fail | gap} from a run notebook's outputs."""
    found = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = output_text(cell)
        for kind, pattern in (("pass", PASSED), ("fail", FAILED), ("gap", GAP)):
            for exercise in pattern.findall(text):
                if RANK[kind] > RANK.get(found.get(exercise), 0):
                    found[exercise] = kind
    return found


def run(nb, cell_timeout, budget):
    """Executes every code cell of `nb` in place; returns how the run ended."""
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=cell_timeout, allow_errors=True,
                            resources={"metadata": {"path": NOTEBOOKS}})
    deadline = time.time() + budget
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if time.time() > deadline:
                    return f"did not finish: over {budget} s, stopped before cell {index + 1}"
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    return f"did not finish: cell {index + 1} ran over {cell_timeout} s"
    except DeadKernelError as err:
        return f"crashed: the kernel died ({str(err).splitlines()[0] if str(err) else 'no message'})"
    return "finished"


def grade(paths, cell_timeout, budget):
    """One row per notebook: (name, ending, {exercise: mark}), and every exercise seen."""
    rows, exercises = [], []
    for path in paths:
        name = os.path.basename(path)
        print(f"grading {name}", flush=True)
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as err:  # a damaged file is a row too
            rows.append((name, f"unreadable: {err}", {}))
            continue
        for exercise in nb.metadata.get("cnn", {}).get("exercises", []):
            if exercise not in exercises:
                exercises.append(exercise)
        ending = run(nb, cell_timeout, budget)
        found = marks(nb)
        for exercise in found:
            if exercise not in exercises:
                exercises.append(exercise)
        rows.append((name, ending, found))
        print(f"  {ending}; " + ", ".join(f"{e} {m}" for e, m in sorted(found.items())), flush=True)
    return rows, sorted(exercises, key=order)


def order(exercise):
    """502.1 before 502.2 before 502.E1 before 503.1."""
    notebook, part = exercise.split(".")
    return int(notebook), part.startswith("E"), int(part.lstrip("E"))


def table(rows, exercises):
    header = ["notebook", "run"] + exercises
    body = [[name, ending] + [found.get(e, "not run") for e in exercises] for name, ending, found in rows]
    return header, body


def write(out, header, body):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "grades.csv.tmp"), "w", newline="") as f:
        csv.writer(f).writerows([header] + body)
    os.replace(os.path.join(out, "grades.csv.tmp"), os.path.join(out, "grades.csv"))
    cell = lambda t: str(t).replace("|", "\\|")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(t) for t in row) + " |" for row in body]
    with open(os.path.join(out, "grades.md.tmp"), "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(os.path.join(out, "grades.md.tmp"), os.path.join(out, "grades.md"))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="Grades a folder of students' notebooks.")
    ap.add_argument("folder", help="the submitted notebooks (*.ipynb)")
    ap.add_argument("--out", help="where grades.csv and grades.md go (default: the folder)")
    ap.add_argument("--cell-timeout", type=int, default=900, help="seconds one cell may run")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds one notebook may run")
    args = ap.parse_args()
    paths = sorted(glob.glob(os.path.join(args.folder, "*.ipynb")))
    if not paths:
        print(f"no notebooks (*.ipynb) in {args.folder}", file=sys.stderr)
        return 1
    scratch = tempfile.mkdtemp(prefix="cnn-grade.")
    os.environ.update({"CNN_QUICK": "1", "CNN_RUNS_DIR": os.path.join(scratch, "runs"),
                       "CNN_DIARY_DIR": os.path.join(scratch, "diary")})
    if os.environ.get("CNN_DATA_DIR"):
        os.environ["CNN_DATA_DIR"] = os.path.abspath(os.environ["CNN_DATA_DIR"])
    try:
        rows, exercises = grade(paths, args.cell_timeout, args.timeout)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    header, body = table(rows, exercises)
    print(write(args.out or args.folder, header, body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
