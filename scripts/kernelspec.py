"""Writes the project-local Jupyter kernelspec `rust-cnn` into the venv's Jupyter path.

The kernel gets no environment of its own except what the kernelspec's `env` block says,
so that block carries everything the notebooks need: libtorch from the venv's torch,
its `lib` folder and Rust's standard library on the library path, cargo on PATH, a persistent EVCXR_TMPDIR,
OpenMP threads that sleep instead of spinning between libtorch's ops, and an evcxr
configuration folder of the project's own (see INIT_EVCXR: errors printed with their
causes, and a cell that returns an `Err` through `?` marked as failed).
The spec is written into a new folder and swapped in, so a failure keeps the old one.

It also writes the cargo settings of the kernel's builds (see CARGO_CONFIG).
"""

import argparse
import json
import os
import sys

from cell_errors import MARKER

# evcxr builds every crate with opt-level 2, debug assertions and overflow checks, which
# made the support crate's own loops (FMP pooling, the dropout mask, Adam) slow: an
# fmp-mnist training step ran at 454-526 images/s in a notebook against 519-558 with these
# settings, and evaluation at 1,030-1,180 against 1,840-2,190 (2 threads, batch 64). The
# students' own cells keep evcxr's checks. evcxr runs cargo inside EVCXR_TMPDIR, and cargo
# reads a .cargo/config.toml in every folder above it, so the file goes next to that folder.
CARGO_CONFIG = """# Written by make setup (scripts/kernelspec.py): the notebooks' kernel builds the
# support crate as `cargo build --release` does; students' cells keep evcxr's checks.
[profile.dev.package.support]
opt-level = 3
overflow-checks = false
debug-assertions = false
"""

# evcxr runs init.evcxr from its configuration folder when a kernel starts, as one cell.
# - `:efmt {:?}`: evcxr prints an error that a cell returns through `?` with `{}`, its
#   Display. For the support crate's errors (anyhow) that is only the outermost sentence:
#   "cannot load mnist from data/mnist", without the cause below it (which file, what was
#   wrong with it). `{:?}` prints anyhow's whole chain ("Caused by: ...").
# - `:preserve_vars_on_panic 1` (evcxr's default): a panic loses only the failing cell's
#   new variables, as the README says.
# - The rest prints MARKER on stderr right after such a `?` error, so that the kernel's
#   relay replies an error, not evcxr's ok, and Run All stops there (cell_errors.py).
#   evcxr prints the error as it turns it into its `EvcxrUserCodeError`, dropped at once:
#   a `Drop` for that type prints the marker. evcxr defines the type in each cell once a
#   cell used `?` at its top level (`Ok(())?` does, now), and keeps the `impl` for every
#   later cell. A cell of items only (a `fn`, a `:dep`) gets no such type, and the `impl`
#   would not compile there: a stand-in comes in through a glob import, which the type
#   evcxr defines overrides.
INIT_EVCXR = f""":efmt {{:?}}
:preserve_vars_on_panic 1
Ok::<(), std::fmt::Error>(())?;
mod cnn_kernel {{ pub struct EvcxrUserCodeError {{}} }}
use cnn_kernel::*;
impl Drop for EvcxrUserCodeError {{ fn drop(&mut self) {{ eprintln!("{MARKER}"); }} }}
"""


def write_if_changed(path, text):
    """Writes `text` to `path` through a temp file and a rename, unless it is already there."""
    if os.path.exists(path):
        with open(path) as f:
            if f.read() == text:
                return False
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".new", "w") as f:
        f.write(text)
    os.replace(path + ".new", path)
    return True


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", required=True)
    ap.add_argument("--torch", required=True, help="the torch package folder (LIBTORCH)")
    ap.add_argument("--evcxr", required=True, help="path of evcxr_jupyter")
    ap.add_argument("--cargo", required=True, help="path of cargo")
    ap.add_argument("--rust-lib", required=True, help="rustc --print target-libdir")
    args = ap.parse_args()

    # evcxr links each cell against Rust's standard library as a shared library
    # (libstd-*.so). Built with Rust 1.95, a cell's .so names that library's folder (its
    # RUNPATH); built with Rust 1.99.1 it names none and does not load ("dlopen failed").
    # So the folder goes on the library path, next to libtorch's.
    library_path = os.pathsep.join([os.path.join(args.torch, "lib"), args.rust_lib])
    cargo_dir = os.path.dirname(args.cargo)
    path = os.pathsep.join([cargo_dir, os.path.join(args.repo, ".venv", "bin"), os.environ.get("PATH", "")])
    spec = {
        "argv": [
            sys.executable,
            os.path.join(args.repo, "scripts", "kernel_launcher.py"),
            args.evcxr,
            "--control_file",
            "{connection_file}",
        ],
        "display_name": "Rust (cnn-notebooks)",
        "language": "rust",
        "interrupt_mode": "signal",
        "env": {
            "LIBTORCH": args.torch,
            "LD_LIBRARY_PATH": library_path,
            "DYLD_LIBRARY_PATH": library_path,
            "PATH": path,
            "EVCXR_TMPDIR": os.path.join(args.repo, ".evcxr", "0"),
            "CNN_REPO": args.repo,
            "EVCXR_CONFIG_DIR": os.path.join(args.repo, ".evcxr", "config"),
            # evcxr runs cells with RUST_BACKTRACE=1, which also made every error printed
            # with `{:?}` end in a stack backtrace of evcxr's own frames. This turns off
            # the errors' backtraces (anyhow reads it first); a panic still shows one.
            "RUST_LIB_BACKTRACE": "0",
        },
    }
    cargo_config = os.path.join(args.repo, ".evcxr", ".cargo", "config.toml")
    if write_if_changed(cargo_config, CARGO_CONFIG):
        print(f"the kernel's cargo settings written to {cargo_config}")
    init_evcxr = os.path.join(args.repo, ".evcxr", "config", "init.evcxr")
    if write_if_changed(init_evcxr, INIT_EVCXR):
        print(f"the kernel's evcxr settings written to {init_evcxr}")
    # The kernelspec is one file, replaced by a file rename: renaming its folder fails
    # in a container whose image holds the folder (overlayfs answers EXDEV).
    kernel_json = os.path.join(sys.prefix, "share", "jupyter", "kernels", "rust-cnn", "kernel.json")
    if write_if_changed(kernel_json, json.dumps(spec, indent=2) + "\n"):
        print(f"kernelspec rust-cnn written to {os.path.dirname(kernel_json)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
