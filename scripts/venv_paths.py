"""Points every script in a virtual environment's bin/ at that environment, where it is now.

pip writes the absolute path of the venv's Python into each console script it installs
(`jupyter`, `tensorboard`, `pip`, ...), and `venv` writes the venv's path into the
`activate` scripts. Setup builds the venv as `.venv.new` and renames it to `.venv`, and a
student may move or copy the whole repository: both leave those paths pointing at a folder
that is gone (or, worse, at another copy). This rewrites them to the venv's current path.
It changes only files that name another venv, so a second run changes nothing.

    python scripts/venv_paths.py .venv
"""

import os
import re
import sys

# Linux's limit on a shebang line; pip falls back to a /bin/sh trampoline beyond it, or
# when the path holds a space, and so do we.
SHEBANG_MAX = 127
TRAMPOLINE = re.compile(r"^'''exec' \"?(?P<python>[^\"]+?)\"? \"\$0\" \"\$@\"$")


def interpreter(lines):
    """The Python a script runs with and the number of lines that name it, or None."""
    if not lines or not lines[0].startswith("#!"):
        return None
    first = lines[0][2:].strip()
    if first == "/bin/sh" and len(lines) > 1:
        match = TRAMPOLINE.match(lines[1].strip())
        return (match.group("python"), 2) if match else None
    if os.path.basename(first.split(" ")[0]).startswith("python"):
        return first, 1
    return None


def header(python):
    """The first line(s) of a script that runs with `python`, as pip would write them."""
    if " " in python or len(python) + 2 > SHEBANG_MAX:
        return f"#!/bin/sh\n'''exec' \"{python}\" \"$0\" \"$@\"\n' '''\n"
    return f"#!{python}\n"


def replace(path, text):
    """Writes `text` over `path` through a temporary file, keeping its permissions."""
    mode = os.stat(path).st_mode
    with open(path + ".new", "w") as f:
        f.write(text)
    os.chmod(path + ".new", mode)
    os.replace(path + ".new", path)


def fix(venv):
    """Rewrites the scripts in `venv`/bin that name another venv; returns their names."""
    venv = os.path.abspath(venv)
    bin_dir = os.path.join(venv, "bin")
    changed = []
    for name in sorted(os.listdir(bin_dir)):
        path = os.path.join(bin_dir, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        try:
            with open(path) as f:
                text = f.read()
        except (UnicodeDecodeError, OSError):
            continue  # a compiled program, not a script
        lines = text.splitlines(keepends=True)
        found = interpreter(lines)
        if found:
            python, count = found
            if os.path.dirname(os.path.dirname(python)) != venv:
                # pip's trampoline has a third line, "' '''", that belongs to the header.
                if count == 2 and len(lines) > 2 and lines[2].strip() == "' '''":
                    count = 3
                target = os.path.join(bin_dir, os.path.basename(python))
                replace(path, header(target) + "".join(lines[count:]))
                changed.append(name)
        elif name.startswith("activate"):
            old = re.search(r"VIRTUAL_ENV[ =]+[\"'](/[^\"']+)[\"']", text)
            if old and old.group(1) != venv:
                replace(path, text.replace(old.group(1), venv))
                changed.append(name)
    return changed


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: venv_paths.py VENV")
    changed = fix(sys.argv[1])
    if changed:
        print(f"pointed {len(changed)} scripts in {sys.argv[1]}/bin at {os.path.abspath(sys.argv[1])}: "
              + ", ".join(changed[:6]) + (" ..." if len(changed) > 6 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
