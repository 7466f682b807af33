"""Runs notebooks headless through the rust-cnn kernel.

    notebooks.py test [NOTEBOOK ...]   execute notebooks (default: notebooks/*.ipynb) and
                                       check the diary files each one declares; with
                                       --keep DIR, also save each executed notebook there
    notebooks.py prewarm               compile the notebooks' dependencies once, so that a
                                       student's first cell does not rebuild tch and polars

A failing cell is reported with its notebook, its number and the kernel's error; a cell
that writes to stderr fails too, since that is where evcxr prints an `Err` returned through
`?` while it counts the cell as run. Each
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
    there, and reports the cell as run, so Run All goes on; the harness counts it as the
    cell's failure, so that it is reported at this cell and not where a later cell misses
    the variables this one never made."""
    return "".join(out.get("text", "") for out in cell.get("outputs", [])
                   if out.get("output_type") == "stream" and out.get("name") == "stderr")


def run(nb, label, timeout):
    """Executes every cell of `nb` in order; returns an error message or None."""
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
                    return f"{where} failed:\n{error_text(cell, err)}"
                if stderr_text(cell).strip():
                    return f"{where} returned an error (evcxr printed it on stderr):\n{error_text(cell, None)}"
                took = time.time() - start
                print(f"  cell {index + 1:>2}: {took:6.1f} s", flush=True)
    except DeadKernelError as err:
        return f"{label}: the kernel died ({err}); is the rust-cnn kernel installed? Run make setup"
    return None


def test(paths, timeout, keep=None):
    failures = []
    diary = os.environ.get("CNN_DIARY_DIR", os.path.join(REPO, "diary"))
    for path in paths:
        label = os.path.relpath(path, REPO)
        nb = nbformat.read(path, as_version=4)
        print(f"executing {label}", flush=True)
        start = time.time()
        error = run(nb, label, timeout)
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


def prewarm(timeout):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(DEP_LINE),
                nbformat.v4.new_code_cell("use support::prelude::*;\nsupport::libtorch_version()")]
    error = run(nb, "pre-warm", timeout)
    if error:
        print(error, file=sys.stderr)
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
    ap.add_argument("command", choices=["test", "prewarm"])
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    ap.add_argument("--keep", metavar="DIR", help="save the executed notebooks, outputs and all, in DIR")
    args = ap.parse_args()
    absolute_folders(os.environ)
    if args.command == "prewarm":
        return prewarm(args.timeout)
    paths = args.notebooks or sorted(glob.glob(os.path.join(NOTEBOOKS, "*.ipynb")))
    if not paths:
        print("no notebooks found under notebooks/", file=sys.stderr)
        return 1
    return test([os.path.abspath(p) for p in paths], args.timeout, args.keep)


if __name__ == "__main__":
    sys.exit(main())
