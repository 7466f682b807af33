"""Recognises a cell that failed, from what it printed on stderr, where evcxr replies `ok`.

evcxr replies `status: ok` to a cell that panicked or returned an `Err` through `?`: it
prints the error (or the panic hook prints the panic) on stderr and counts the cell as run.
Jupyter then goes on with Run All as if the cell had worked. The kernel's relay reads the
cell's stderr to tell a failure from a success:

- an `Err` through `?`: evcxr turns the error into its own `EvcxrUserCodeError` value,
  printing it, and drops that value at once. The init cell that kernelspec.py writes gives
  that type a `Drop` that prints MARKER on stderr, so the marker line comes right after the
  error's text. The relay takes the marker out again: the student sees the error only.
- a panic: Rust's default panic hook prints `thread 'main' panicked at src/lib.rs:3:5:`
  (recent Rust adds the thread's id: `thread '<unnamed>' (29911) panicked at ...`)
  and the panic's message on the line below.

This module knows no sockets: it is fed a request's stderr text and says how it failed.
"""

import re
from collections import OrderedDict

MARKER = "CNN_KERNEL_CELL_RETURNED_AN_ERROR"
PANIC = re.compile(r"^thread '[^']*'(?: \(\d+\))? panicked at (.*)$")
REMEMBERED = 64  # requests whose stderr is followed (a late line may name an old one)
LINES = 200  # stderr lines kept per request for the reply's traceback


class Cell:
    """What one execute request printed on stderr, and how it failed if it did."""

    def __init__(self):
        self.lines = []
        self.failure = None  # the reply's error fields, once known
        self.panic = None  # the panic's traceback while its message line is awaited


class Failures:
    """Follows each request's stderr. `stderr` takes one stream message's text and returns
    it without the marker line; `failure` then says whether that request failed."""

    def __init__(self):
        self.cells = OrderedDict()  # the request's msg_id -> Cell, oldest first

    def cell(self, request_id):
        cell = self.cells.get(request_id)
        if cell is None:
            cell = self.cells[request_id] = Cell()
            while len(self.cells) > REMEMBERED:
                self.cells.popitem(last=False)
        return cell

    def stderr(self, request_id, text):
        cell = self.cell(request_id)
        kept = []
        # Lines end at "\n" only, as in the redraw relay (a "\r" belongs to its line).
        *ended, rest = text.split("\n")
        for line in [line + "\n" for line in ended] + ([rest] if rest else []):
            body = line.rstrip("\n")
            if body.strip() == MARKER:
                if cell.failure is None:  # the error's text is what the cell printed before
                    printed = [earlier for earlier in cell.lines if earlier.strip()]
                    first = printed[0].strip() if printed else "the cell returned an error"
                    cell.failure = failure("Error", first, cell.lines)
                continue
            kept.append(line)
            if cell.panic is not None:  # the line after `panicked at ...:` is the message
                cell.failure = failure("Panic", body.strip(), cell.panic + [body])
                cell.panic = None
            panic = PANIC.match(body)
            if panic and cell.failure is None:
                if body.endswith(":"):  # Rust 1.73 and later: the message follows
                    cell.panic = [body]
                else:  # older: `panicked at 'message', src/lib.rs:3:5`
                    cell.failure = failure("Panic", panic.group(1), [body])
            cell.lines = (cell.lines + [body])[-LINES:]
        return "".join(kept)

    def failure(self, request_id):
        """The reply's ename, evalue and traceback for a request that failed, else None."""
        cell = self.cells.get(request_id)
        if cell is None:
            return None
        if cell.failure is None and cell.panic is not None:  # a panic without a message line
            return failure("Panic", cell.panic[0], cell.panic)
        return cell.failure

    def forget(self, request_id):
        self.cells.pop(request_id, None)


def failure(ename, evalue, traceback):
    return {"ename": ename, "evalue": evalue, "traceback": list(traceback)}
