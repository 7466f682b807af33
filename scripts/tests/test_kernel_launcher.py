"""kernel_launcher.children, which the notebook's stop button relies on to reach the
process that runs a cell."""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import kernel_launcher  # noqa: E402


class Children(unittest.TestCase):
    def test_finds_exactly_the_children(self):
        script = "import time; time.sleep(30)"
        kids = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(2)]
        try:
            found = kernel_launcher.children(os.getpid())
            self.assertEqual(sorted(found), sorted(k.pid for k in kids))
            self.assertEqual(kernel_launcher.children(kids[0].pid), [])
        finally:
            for k in kids:
                k.kill()
                k.wait()


if __name__ == "__main__":
    unittest.main()
