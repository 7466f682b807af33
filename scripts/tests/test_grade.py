"""make grade: a folder of students' notebooks becomes one table of their exercises, and a
notebook that crashes or never finishes is a row that says so."""

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import nbformat

SCRIPTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(SCRIPTS)
sys.path.insert(0, SCRIPTS)
import exercises  # noqa: E402
import grade  # noqa: E402


def exercise_cell(notebook, exercise):
    """The solution's code cell of `exercise` in solutions/`notebook`."""
    nb = nbformat.read(os.path.join(REPO, "solutions", notebook), as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code" and f"Exercise {exercise}:" in c.source)


def submission(path, cells):
    """A notebook of the course's first two cells and then `cells`, declaring 502.1 and
    503.2, as a student would hand it in."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "rust-cnn", "display_name": "Rust (cnn-notebooks)", "language": "rust"}
    nb.metadata["cnn"] = {"exercises": ["502.1", "503.2"]}
    sources = [':dep support = { path = "../support" }', "use support::prelude::*;"] + cells
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


class Marks(unittest.TestCase):
    def run_notebook(self, *texts):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("x") for _ in texts]
        for cell, text in zip(nb.cells, texts):
            cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=text)]
        return grade.marks(nb)

    def test_a_check_line_is_a_pass_or_a_fail(self):
        found = self.run_notebook("✓ Exercise 502.1: sizes ...", "✗ Exercise 503.1: C1 gives ...")
        self.assertEqual(found, {"502.1": "pass", "503.1": "fail"})

    def test_an_extensions_check_is_marked_too_and_sorts_after_the_exercises(self):
        found = self.run_notebook("✓ Exercise 502.E1: 502-fmp-e1 is 502-fmp with ...", "✓ Exercise 502.1: ...")
        self.assertEqual(found, {"502.E1": "pass", "502.1": "pass"})
        self.assertEqual(sorted(["502.E1", "503.1", "502.10", "502.2"], key=grade.order),
                         ["502.2", "502.10", "502.E1", "503.1"])

    def test_an_unfilled_gap_is_a_gap_and_outranks_its_failed_check(self):
        found = self.run_notebook("error: Exercise 503.1: fill in C1's number of filters",
                                  "✗ Exercise 503.1: ...")
        self.assertEqual(found, {"503.1": "gap"})


class Grading(unittest.TestCase):
    """The grader on real notebooks, through the rust-cnn kernel (which `make setup` built)."""

    def test_complete_incomplete_crashing_and_endless_notebooks(self):
        folder = tempfile.mkdtemp(prefix="grade-test.")
        self.addCleanup(shutil.rmtree, folder)
        mnist, step = exercise_cell("502_fmp_mnist.ipynb", "502.1"), exercise_cell("503_lenet_mnist.ipynb", "503.2")
        no_zero_grad = step.replace("opt.zero_grad();", "")
        kill_kernel = ("std::process::Command::new(\"kill\").args([\"-9\", "
                       "&std::os::unix::process::parent_id().to_string()]).status()?;")
        submission(os.path.join(folder, "a-complete.ipynb"), [mnist, step])
        submission(os.path.join(folder, "b-incomplete.ipynb"), [exercises.student_source(mnist), no_zero_grad])
        submission(os.path.join(folder, "c-crashing.ipynb"), [mnist, kill_kernel, step])
        submission(os.path.join(folder, "d-endless.ipynb"),
                   ["std::thread::sleep(std::time::Duration::from_secs(600));", mnist])
        result = subprocess.run([sys.executable, os.path.join(SCRIPTS, "grade.py"), folder, "--cell-timeout", "45"],
                                capture_output=True, text=True, timeout=900)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        with open(os.path.join(folder, "grades.csv")) as f:
            rows = {row["notebook"]: row for row in csv.DictReader(f)}
        self.assertEqual(list(rows), ["a-complete.ipynb", "b-incomplete.ipynb", "c-crashing.ipynb", "d-endless.ipynb"])
        self.assertEqual((rows["a-complete.ipynb"]["run"], rows["a-complete.ipynb"]["502.1"],
                          rows["a-complete.ipynb"]["503.2"]), ("finished", "pass", "pass"))
        self.assertEqual((rows["b-incomplete.ipynb"]["502.1"], rows["b-incomplete.ipynb"]["503.2"]), ("gap", "fail"))
        self.assertTrue(rows["c-crashing.ipynb"]["run"].startswith("crashed"), rows["c-crashing.ipynb"])
        self.assertEqual((rows["c-crashing.ipynb"]["502.1"], rows["c-crashing.ipynb"]["503.2"]), ("pass", "not run"))
        self.assertTrue(rows["d-endless.ipynb"]["run"].startswith("did not finish"), rows["d-endless.ipynb"])
        with open(os.path.join(folder, "grades.md")) as f:
            self.assertIn("| b-incomplete.ipynb | finished | gap | fail |", f.read())


if __name__ == "__main__":
    unittest.main()
