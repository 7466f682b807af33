"""Runs notebooks headless through the rust-cnn kernel.

    notebooks.py test [NOTEBOOK ...]   execute notebooks (default: the teachers' solutions,
                                       solutions/*.ipynb) and check the diary files each one
                                       declares; with --keep DIR, also save each executed
                                       notebook there
    notebooks.py gaps                  execute each student notebook with exercises
                                       (notebooks/*.ipynb) and check that it stops at its
                                       first gap, with the gap's message
    notebooks.py prewarm               compile the notebooks' dependencies once, so that a
                                       student's first cell does not rebuild tch and polars

A failing cell is reported with its notebook, its number and the kernel's error; a cell
that writes to stderr fails too, since a notebook that works prints nothing there. Each
notebook may list the files it must write in its metadata, `"cnn": {"expects": [...]}`,
with paths relative to the diary folder.
"""

import argparse
import glob
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(REPO, "notebooks")
SOLUTIONS = os.path.join(REPO, "solutions")
KERNEL = "rust-cnn"
# The dependency line every notebook starts with; the pre-warm uses the same one so that
# evcxr finds the crates it compiled then.
DEP_LINE = ':dep support = { path = "../support" }'


def error_text(cell, err):
    """The kernel's own words for a failed cell: its error outputs and stderr, without
    terminal colours (evcxr's compiler messages carry them)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            parts.append("\n".join(out.get("traceback", [])) or f"{out.get('ename')}: {out.get('evalue')}")
    parts.append(stderr_text(cell))
    text = "\n".join(p for p in parts if p.strip()) or str(err)
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def stderr_text(cell):
    """What the cell wrote to stderr. evcxr prints an error that a cell returns through `?`
    there, with its causes; the kernel replies an error for that cell, but shows no error
    output, so this is the error's text. Anything else on stderr counts as the cell's
    failure too."""
    return "".join(out.get("text", "") for out in cell.get("outputs", [])
                   if out.get("output_type") == "stream" and out.get("name") == "stderr")


def run(nb, label, timeout):
    """Executes the cells of `nb` in order up to the first that fails; returns None, or the
    failing cell's index and an error message."""
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=timeout,
                            resources={"metadata": {"path": NOTEBOOKS}})
    code_cells = 0
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                code_cells += 1
                first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                where = f"{label}: code cell {code_cells} (cell {index + 1}, starting {first_line[:60]!r})"
                start = time.time()
                try:
                    client.execute_cell(cell, index)
                except (CellExecutionError, CellTimeoutError) as err:
                    return index, f"{where} failed:\n{error_text(cell, err)}"
                if stderr_text(cell).strip():
                    return index, f"{where} wrote on stderr:\n{error_text(cell, None)}"
                took = time.time() - start
                print(f"  cell {index + 1:>2}: {took:6.1f} s", flush=True)
    except DeadKernelError as err:
        return None, f"{label}: the kernel died ({err}); is the rust-cnn kernel installed? Run make setup"
    return None


def test(paths, timeout, keep=None):
    failures = []
    diary = os.environ.get("CNN_DIARY_DIR", os.path.join(REPO, "diary"))
    for path in paths:
        label = os.path.relpath(path, REPO)
        nb = nbformat.read(path, as_version=4)
        print(f"executing {label}", flush=True)
        start = time.time()
        failed = run(nb, label, timeout)
        error = failed and failed[1]
        took = time.time() - start
        if keep:
            os.makedirs(keep, exist_ok=True)
            saved = os.path.join(keep, os.path.basename(path))
            nbformat.write(nb, saved + ".tmp")
            os.replace(saved + ".tmp", saved)
        if error:
            failures.append(error)
            print(f"FAILED {label} after {took:.0f} s", flush=True)
            continue
        expects = nb.metadata.get("cnn", {}).get("expects", [])
        missing = [e for e in expects
                   if not os.path.exists(os.path.join(diary, e))
                   or os.path.getmtime(os.path.join(diary, e)) < start]
        if missing:
            failures.append(f"{label}: ran, but did not write {', '.join(missing)} under {diary}")
            print(f"FAILED {label}", flush=True)
        else:
            print(f"ok {label} in {took:.0f} s", flush=True)
    passed = len(paths) - len(failures)
    for f in failures:
        print("\n" + f, file=sys.stderr)
    print(f"notebooks: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


def gaps(timeout):
    """Each student notebook with exercises stops at the first cell with a gap, and that
    cell's error names the exercise and what to fill in."""
    failures = []
    paths = sorted(glob.glob(os.path.join(NOTEBOOKS, "*.ipynb")))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if not nb.metadata.get("cnn", {}).get("exercises"):
            continue
        label = os.path.relpath(path, REPO)
        first_gap = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "gap!(" in c.source)
        print(f"executing {label} up to its first gap (cell {first_gap + 1})", flush=True)
        failed = run(nb, label, timeout)
        message = failed[1] if failed else ""
        if failed is None:
            failures.append(f"{label}: ran to the end although cell {first_gap + 1} has a gap")
        elif failed[0] != first_gap:
            failures.append(f"{label}: stopped at cell {(failed[0] or 0) + 1}, not at its first gap "
                            f"(cell {first_gap + 1}):\n{message}")
        elif not (said := re.search(r"Exercise \d+\.\d+: fill in .*", message)):
            failures.append(f"{label}: its first gap (cell {first_gap + 1}) stopped it without the "
                            f"gap's message:\n{message}")
        else:
            print(f"ok {label}: stopped at cell {first_gap + 1}: "
                  f"{said.group(0)[:100]}", flush=True)
    for f in failures:
        print("\n" + f, file=sys.stderr)
    print(f"gaps: {len(failures)} notebook(s) did not stop at their first gap")
    return 1 if failures else 0


def prewarm(timeout):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(DEP_LINE),
                nbformat.v4.new_code_cell("use support::prelude::*;\nquick_mode()")]
    failed = run(nb, "pre-warm", timeout)
    if failed:
        print(failed[1], file=sys.stderr)
        return 1
    return 0


def absolute_folders(env):
    """Makes the folders named in CNN_DATA_DIR, CNN_RUNS_DIR and CNN_DIARY_DIR absolute,
    from the current directory: the kernel runs in notebooks/, where a relative folder
    would point somewhere else."""
    for var in ("CNN_DATA_DIR", "CNN_RUNS_DIR", "CNN_DIARY_DIR"):
        if env.get(var):
            env[var] = os.path.abspath(env[var])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["test", "gaps", "prewarm"])
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    ap.add_argument("--keep", metavar="DIR", help="save the executed notebooks, outputs and all, in DIR")
    args = ap.parse_args()
    absolute_folders(os.environ)
    if args.command == "prewarm":
        return prewarm(args.timeout)
    if args.command == "gaps":
        return gaps(args.timeout)
    paths = args.notebooks or sorted(glob.glob(os.path.join(SOLUTIONS, "*.ipynb")))
    if not paths:
        print("no notebooks found under solutions/", file=sys.stderr)
        return 1
    return test([os.path.abspath(p) for p in paths], args.timeout, args.keep)


if __name__ == "__main__":
    sys.exit(main())
