"""Starts evcxr_jupyter with a build cache that no other running kernel is using, and
keeps it alive through the notebook's stop button.

evcxr compiles each cell in EVCXR_TMPDIR. Two kernels sharing one folder (two notebooks
open in JupyterLab) could compile each other's code, so each kernel takes the first slot
`.evcxr/0`, `.evcxr/1`, ... whose lock it can hold. The lock is an open file descriptor
that this launcher and the kernel hold, so it lasts exactly as long as the kernel.

`make setup` pre-warms slot 0 and marks it with WARM. A kernel that gets another slot,
because a notebook is already open, would compile tch, polars and plotters from scratch
for minutes. Instead it first copies slot 0's crate folder (Cargo.lock and target/, with
their timestamps, which is what cargo's freshness checks read), so its first cell
compiles only the notebook's own code. The copy is redone when slot 0 was warmed again.

The stop button sends SIGINT to the kernel's whole process group. evcxr_jupyter has no
handler for it and died, taking every variable with it. So evcxr_jupyter runs in a group
of its own, and this launcher stays as its parent: it passes SIGINT on to evcxr's children
only, which are the process running the cells (where `fit` stops cleanly between batches)
and any cargo compiling a cell. When Jupyter's server dies without shutting the kernel
down, the launcher notices (its parent changes) and ends the kernel, so that no orphaned
kernel keeps holding a build cache.

The launcher also relays two of the kernel's channels, in one thread: the output channel
(iopub_relay.py), so that a progress line is redrawn in place in the notebook instead of
printed again for every redraw, and the shell channel (shell_relay.py), so that a cell that
fails (a compile error, a panic, an `Err` through `?`) replies an error and Run All stops
there, the cells queued behind it answered `aborted`.
"""

import atexit
import ctypes
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys

import shell_relay

SLOTS = 8
WARM = ".warm"  # written by `make setup` into slot 0 after pre-warming it
LOCK = ".lock"


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def copy_unless_gone(source, target):
    """shutil.copy2, except that a file gone since its folder was listed is skipped: slot 0's
    own kernel may be compiling a cell while it is copied, and replaces its cell's library
    (libctx.so) each time. The dependencies, which the copy is for, do not change."""
    try:
        shutil.copy2(source, target)
    except FileNotFoundError:
        if os.path.lexists(source):
            raise


def warm_from(first, folder):
    """Copies slot 0's compiled crates into `folder` unless it already holds that copy."""
    mark = read(os.path.join(first, WARM))
    if mark is None or read(os.path.join(folder, WARM)) == mark:
        return
    for name in sorted(os.listdir(first)):
        if name in (WARM, LOCK):
            continue
        source, target = os.path.join(first, name), os.path.join(folder, name)
        partial = target + ".copying"
        shutil.rmtree(partial, ignore_errors=True)
        if os.path.isdir(source):
            shutil.copytree(source, partial, symlinks=True, copy_function=copy_unless_gone)
        else:
            shutil.copy2(source, partial)
        if os.path.isdir(target):
            shutil.rmtree(target)
        os.replace(partial, target)
    with open(os.path.join(folder, WARM), "w") as f:
        f.write(mark)


def children(pid):
    """The processes whose parent is `pid`: read from /proc where there is one (Linux,
    slim container images without pgrep included), else from pgrep (macOS)."""
    if not os.path.isdir("/proc"):
        found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        return [int(p) for p in found.split()]
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:  # the process ended meanwhile
            continue
        # "pid (command) state ppid ...": the command may hold spaces and parentheses,
        # so the fields are counted from its last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def own_group():
    """Runs in the kernel's child before exec: a process group of its own, SIGINT's default
    action, and (on Linux) death when the launcher dies, so a killed kernel leaves nothing
    behind.

    A server started in the background (`nohup make lab &`, a CI job) has SIGINT ignored,
    and an ignored signal stays ignored through fork and exec: the process running the
    cells then ignored the stop button (outside `fit`, which catches SIGINT itself)."""
    os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def supervise(argv, lock_fd):
    """Runs evcxr_jupyter until it exits; returns its exit status."""
    kernel = subprocess.Popen(argv, preexec_fn=own_group, pass_fds=(lock_fd,))

    def interrupt(_signum, _frame):
        for pid in children(kernel.pid):
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def forward(signum, _frame):
        kernel.send_signal(signum)

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    server = os.getppid()
    while True:
        try:
            return kernel.wait(timeout=2)
        except subprocess.TimeoutExpired:
            # Jupyter's server died without shutting its kernels down (killed, or crashed):
            # end this kernel too instead of holding its build cache for ever.
            if os.getppid() != server:
                kernel.terminate()


def relay_channels(argv):
    """Starts the shell and output relay on the connection file named after
    `--control_file` and returns evcxr's arguments with a connection file of its own
    (removed at exit), whose shell and IOPub ports only the relay uses."""
    at = argv.index("--control_file") + 1
    with open(argv[at]) as f:
        inner = shell_relay.start(json.load(f))
    path = os.path.splitext(argv[at])[0] + "-evcxr.json"
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(inner, f)
    atexit.register(lambda: os.path.exists(path) and os.remove(path))
    os.environ["CNN_KERNEL_REDRAW"] = "1"  # tells the support crate the relay is there
    return argv[:at] + [path] + argv[at + 1:]


def main() -> None:
    evcxr, rest = sys.argv[1], sys.argv[2:]
    first = os.environ["EVCXR_TMPDIR"]
    base = os.path.dirname(first)
    for slot in range(SLOTS):
        folder = first if slot == 0 else os.path.join(base, str(slot))
        os.makedirs(folder, exist_ok=True)
        fd = os.open(os.path.join(folder, LOCK), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        if slot > 0:
            try:
                warm_from(first, folder)
            except OSError as err:
                # A cold cache is slow, not broken: say so and start anyway.
                print(f"could not copy the warm build cache into {folder} ({err}); "
                      "this notebook's first cell compiles its dependencies", file=sys.stderr)
        os.environ["EVCXR_TMPDIR"] = folder
        sys.exit(supervise([evcxr, *relay_channels(rest)], fd))
    sys.exit(f"all {SLOTS} kernel build caches under {base} are in use: shut down an idle notebook kernel")


if __name__ == "__main__":
    main()
