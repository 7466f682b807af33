"""A relative CNN_DATA_DIR, CNN_RUNS_DIR or CNN_DIARY_DIR reaches the kernel (which runs in
notebooks/) as the folder the user meant: the one under the directory they started from."""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

SCRIPTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, SCRIPTS)
import notebooks  # noqa: E402


class Folders(unittest.TestCase):
    def test_notebooks_py_makes_the_named_folders_absolute(self):
        env = {"CNN_DATA_DIR": "../data", "CNN_RUNS_DIR": "/abs/runs", "CNN_DIARY_DIR": "", "CNN_QUICK": "1"}
        notebooks.absolute_folders(env)
        self.assertEqual(env["CNN_DATA_DIR"], os.path.abspath("../data"))
        self.assertEqual(env["CNN_RUNS_DIR"], "/abs/runs")
        self.assertEqual(env["CNN_DIARY_DIR"], "", "an empty variable stays unset in effect")
        self.assertEqual(env["CNN_QUICK"], "1")

    def test_lab_sh_hands_jupyter_absolute_folders(self):
        root = tempfile.mkdtemp(prefix="lab-folders.")
        self.addCleanup(shutil.rmtree, root)
        repo = os.path.join(root, "repo")
        os.makedirs(os.path.join(repo, "scripts"))
        os.makedirs(os.path.join(repo, "notebooks"))
        os.makedirs(os.path.join(repo, ".venv", "bin"))
        shutil.copy(os.path.join(SCRIPTS, "lab.sh"), os.path.join(repo, "scripts"))
        # A stand-in for jupyter that prints what the kernels would inherit.
        jupyter = os.path.join(repo, ".venv", "bin", "jupyter")
        with open(jupyter, "w") as f:
            f.write('#!/bin/sh\necho "$CNN_DATA_DIR|${CNN_RUNS_DIR-unset}|$PWD|$2"\n')
        os.chmod(jupyter, os.stat(jupyter).st_mode | stat.S_IEXEC)
        start = os.path.join(root, "start")
        os.makedirs(start)
        env = {k: v for k, v in os.environ.items() if k != "CNN_RUNS_DIR"}
        env["CNN_DATA_DIR"] = "data"
        lab = os.path.join(repo, "scripts", "lab.sh")
        out = subprocess.run(["bash", lab, "notebooks"], cwd=start, env=env,
                             capture_output=True, text=True, check=True).stdout.strip()
        data, runs, pwd, folder = out.split("|")
        self.assertEqual(os.path.realpath(data), os.path.realpath(os.path.join(start, "data")))
        self.assertEqual(runs, "unset")
        self.assertEqual(os.path.realpath(pwd), os.path.realpath(repo))
        self.assertEqual(folder, "--notebook-dir=notebooks")
        missing = subprocess.run(["bash", lab, "solutions"], cwd=start, env=env, capture_output=True, text=True)
        self.assertEqual(missing.returncode, 2)
        self.assertIn("there is no folder solutions", missing.stderr)


if __name__ == "__main__":
    unittest.main()
