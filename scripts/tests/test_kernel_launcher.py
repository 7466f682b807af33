"""kernel_launcher.children, which the notebook's stop button relies on to reach the
process that runs a cell, and warm_from, which gives a second notebook slot 0's build
cache."""

import os
import signal
import shutil
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

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


class WarmFrom(unittest.TestCase):
    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="launcher-test.")
        self.addCleanup(shutil.rmtree, self.base)
        self.first, self.other = os.path.join(self.base, "0"), os.path.join(self.base, "1")
        deps = os.path.join(self.first, "target", "debug", "deps")
        os.makedirs(deps)
        os.makedirs(self.other)
        for name in ("libtch.rlib", "libctx.so"):
            with open(os.path.join(deps, name), "w") as f:
                f.write(name)
        with open(os.path.join(self.first, kernel_launcher.WARM), "w") as f:
            f.write("42")

    def copied(self, *parts):
        return os.path.exists(os.path.join(self.other, "target", "debug", "deps", *parts))

    def test_a_file_that_slot_0s_kernel_replaces_meanwhile_does_not_spoil_the_copy(self):
        real = shutil.copy2

        def kernel_rebuilds_its_cell(source, target):
            if source.endswith("libctx.so"):
                os.remove(source)  # as evcxr does while it compiles a cell
            return real(source, target)

        with mock.patch.object(kernel_launcher.shutil, "copy2", kernel_rebuilds_its_cell):
            kernel_launcher.warm_from(self.first, self.other)
        self.assertTrue(self.copied("libtch.rlib"))
        self.assertFalse(self.copied("libctx.so"))
        self.assertEqual(kernel_launcher.read(os.path.join(self.other, kernel_launcher.WARM)), "42")

    def test_any_other_failure_still_stops_the_copy(self):
        def disk_full(source, target):
            raise OSError(28, "No space left on device")

        with mock.patch.object(kernel_launcher.shutil, "copy2", disk_full):
            with self.assertRaises(OSError):
                kernel_launcher.warm_from(self.first, self.other)
        self.assertIsNone(kernel_launcher.read(os.path.join(self.other, kernel_launcher.WARM)))
