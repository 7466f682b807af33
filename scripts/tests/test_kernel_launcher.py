"""kernel_launcher.children, which the notebook's stop button relies on to reach the
process that runs a cell."""

import os
import signal
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


def sigint_ignored(pid):
    """True when SIGINT (signal 2, bit 1 of SigIgn) is ignored by process `pid`."""
    with open(f"/proc/{pid}/status") as f:
        mask = next(line for line in f if line.startswith("SigIgn:")).split()[1]
    return bool(int(mask, 16) & (1 << (signal.SIGINT - 1)))


@unittest.skipUnless(os.path.exists("/proc/self/status"), "needs Linux's /proc")
class OwnGroup(unittest.TestCase):
    def test_the_kernel_gets_sigint_back_when_the_server_ignores_it(self):
        # As under `nohup make lab &`: the launcher's parent ignores SIGINT.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            plain = subprocess.Popen(["sleep", "30"])
            kernel = subprocess.Popen(["sleep", "30"], preexec_fn=kernel_launcher.own_group)
        finally:
            signal.signal(signal.SIGINT, previous)
        try:
            self.assertTrue(sigint_ignored(plain.pid), "the test's premise: ignored is inherited")
            self.assertFalse(sigint_ignored(kernel.pid))
            self.assertEqual(os.getpgid(kernel.pid), kernel.pid)
        finally:
            for k in (plain, kernel):
                k.kill()
                k.wait()


if __name__ == "__main__":
    unittest.main()
