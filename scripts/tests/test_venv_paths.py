"""venv_paths.py on a real virtual environment: built aside, renamed, then moved."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import venv_paths  # noqa: E402


def runs(script):
    """True when the console script starts and exits 0."""
    try:
        return subprocess.run([script, "--version"], capture_output=True).returncode == 0
    except OSError:  # the interpreter its first line names does not exist
        return False


class VenvPaths(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="venv-paths.")
        # As setup does: build as .venv.new, then rename to .venv.
        built = os.path.join(cls.root, "repo", ".venv.new")
        subprocess.run([sys.executable, "-m", "venv", built], check=True)
        cls.venv = os.path.join(cls.root, "repo", ".venv")
        os.rename(built, cls.venv)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def test_1_a_renamed_venv_has_broken_scripts_until_fixed(self):
        pip = os.path.join(self.venv, "bin", "pip")
        self.assertFalse(runs(pip), "pip should still name .venv.new before the fix")
        changed = venv_paths.fix(self.venv)
        self.assertIn("pip", changed)
        self.assertIn("activate", changed)
        self.assertTrue(runs(pip))
        with open(os.path.join(self.venv, "bin", "activate")) as f:
            self.assertIn(f'VIRTUAL_ENV="{self.venv}"', f.read())

    def test_2_a_second_fix_changes_nothing(self):
        venv_paths.fix(self.venv)
        self.assertEqual(venv_paths.fix(self.venv), [])

    def test_3_a_moved_repository_gets_working_scripts(self):
        venv_paths.fix(self.venv)
        moved_repo = os.path.join(self.root, "moved here")  # a space forces pip's trampoline
        shutil.copytree(os.path.join(self.root, "repo"), moved_repo, symlinks=True)
        moved = os.path.join(moved_repo, ".venv")
        venv_paths.fix(moved)
        pip = os.path.join(moved, "bin", "pip")
        self.assertTrue(runs(pip))
        out = subprocess.run([pip, "--version"], capture_output=True, text=True).stdout
        self.assertIn(moved, out, "the copy's pip must run the copy's Python, not the original's")

    def test_4_compiled_programs_are_left_alone(self):
        program = os.path.join(self.venv, "bin", "tool")
        with open(program, "wb") as f:
            f.write(b"\x7fELF\x00\xff\xfe")
        self.assertNotIn("tool", venv_paths.fix(self.venv))


if __name__ == "__main__":
    unittest.main()
