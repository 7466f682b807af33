"""Starts evcxr_jupyter with a build cache that no other running kernel is using.

evcxr compiles each cell in EVCXR_TMPDIR. Two kernels sharing one folder (two notebooks
open in JupyterLab) could compile each other's code, so each kernel takes the first slot
`.evcxr/0`, `.evcxr/1`, ... whose lock it can hold. Slot 0 is the one `make setup`
pre-warms; the others warm up on first use and stay warm afterwards. The lock is an
open file descriptor kept across exec, so it lasts exactly as long as the kernel.
"""

import fcntl
import os
import sys

SLOTS = 8


def main() -> None:
    evcxr, rest = sys.argv[1], sys.argv[2:]
    first = os.environ["EVCXR_TMPDIR"]
    base = os.path.dirname(first)
    for slot in range(SLOTS):
        folder = first if slot == 0 else os.path.join(base, str(slot))
        os.makedirs(folder, exist_ok=True)
        fd = os.open(os.path.join(folder, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        os.set_inheritable(fd, True)
        os.environ["EVCXR_TMPDIR"] = folder
        os.execv(evcxr, [evcxr, *rest])
    sys.exit(f"all {SLOTS} kernel build caches under {base} are in use: shut down an idle notebook kernel")


if __name__ == "__main__":
    main()
