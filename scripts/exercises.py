"""Makes the students' notebooks from the teachers' solutions.

    exercises.py make    writes notebooks/<name>.ipynb for every solutions/<name>.ipynb
    exercises.py check   exits 1 when a student notebook differs from what `make` writes
                         (make test runs it, so the two cannot drift apart)

The solution notebooks are the one source (nbgrader's idea, in Rust comments):
- a code line that ends in `// STUDENT: <text>` is the answer; the student's copy has
  `<text>` in its place, at the same indentation. An empty `// STUDENT:` leaves the
  line out. So `in_channels: 1, // STUDENT: in_channels: gap!("502.1", "..."),` gives
  the student the gap and the teacher both.
- a markdown cell tagged `solution` (the teacher's model answers to the diary
  questions) is left out.
Everything else is copied as it is; both are committed without outputs.
"""

import argparse
import copy
import glob
import os
import re
import sys

import nbformat

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTIONS = os.path.join(REPO, "solutions")
NOTEBOOKS = os.path.join(REPO, "notebooks")
MARK = re.compile(r"^(?P<indent>[ \t]*)\S.*?\s*// STUDENT:(?P<text>.*)$")


def student_source(source):
    """A code cell's source with every marked line replaced by the student's text."""
    lines = []
    for line in source.split("\n"):
        m = MARK.match(line)
        if not m:
            lines.append(line)
        elif m["text"].strip():
            lines.append(m["indent"] + m["text"].strip())
    return "\n".join(lines)


def student_notebook(solution):
    """The student's copy of a solution notebook (an nbformat node)."""
    nb = copy.deepcopy(solution)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "solution" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "code":
            cell.source = student_source(cell.source)
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    nb.cells = cells
    return nb


def pairs():
    """(solution path, student path) for every solution notebook."""
    solutions = sorted(glob.glob(os.path.join(SOLUTIONS, "*.ipynb")))
    if not solutions:
        sys.exit(f"no solution notebooks in {SOLUTIONS}")
    return [(s, os.path.join(NOTEBOOKS, os.path.basename(s))) for s in solutions]


def text_of(nb):
    return nbformat.writes(nb) + "\n"


def make():
    for solution, student in pairs():
        text = text_of(student_notebook(nbformat.read(solution, as_version=4)))
        with open(student + ".tmp", "w") as f:
            f.write(text)
        os.replace(student + ".tmp", student)
        print(f"wrote {os.path.relpath(student, REPO)}")
    return 0


def check():
    stale = []
    for solution, student in pairs():
        want = text_of(student_notebook(nbformat.read(solution, as_version=4)))
        have = open(student).read() if os.path.exists(student) else None
        if have != want:
            stale.append(os.path.relpath(student, REPO))
    extra = sorted(set(glob.glob(os.path.join(NOTEBOOKS, "*.ipynb")))
                   - {student for _, student in pairs()})
    for path in extra:
        print(f"{os.path.relpath(path, REPO)} has no solution in solutions/", file=sys.stderr)
    for path in stale:
        print(f"{path} is not what solutions/ makes: run make notebooks (or "
              f".venv/bin/python scripts/exercises.py make) and commit the result",
              file=sys.stderr)
    if stale or extra:
        return 1
    print(f"the {len(pairs())} student notebooks match their solutions")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", choices=["make", "check"])
    args = ap.parse_args()
    return make() if args.command == "make" else check()


if __name__ == "__main__":
    sys.exit(main())
