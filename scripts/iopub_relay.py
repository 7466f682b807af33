"""Relays a kernel's IOPub channel so that a progress line and the training curves can be
redrawn in place.

evcxr sends the output of a cell one line at a time, each as its own stream message with a
newline added. JupyterLab's carriage-return handling cannot cross a newline, so a progress
bar printed with `\\r` in a terminal becomes a new line per redraw in a notebook.

Jupyter's protocol has the tool for it: a `display_data` message with a display id, which
later `update_display_data` messages with the same id redraw in place. evcxr sends neither,
so the kernel launcher puts this relay between evcxr and Jupyter on IOPub, the channel the
kernel publishes its output on, and rewrites these lines:

- a line that starts with `\\r` (a redraw, as in a terminal) opens a display for the cell's
  stream, or redraws the one that is open;
- the next plain line on that stream closes the display by becoming its final text, as a
  terminal's line would end once the bar is done;
- a line that starts with `FIGURE` is a drawing of the training curves while `fit` runs
  (support/src/train/live.rs, which defines the same marker):
  `FIGURE + "show <id> <PNG in base64>"` opens a display for the figure `<id>`, or redraws
  the one that is open, as an image; `FIGURE + "end <id>"` empties it when `fit` returns, so
  that the cell shows the curves once, where the notebook draws them. These lines leave an
  open progress display open: they come between its redraws.

Every other message passes through untouched, byte for byte. The support crate prints its
progress and its figure lines this way only when the launcher tells it a relay is there
(`CNN_KERNEL_REDRAW`), so under any other kernel it falls back to a plain line every 30 s
and one figure at the end.

The same relay also follows each cell's stderr for the shell relay (shell_relay.py), which
turns the reply of a cell that panicked or returned an `Err` into an error: it takes the
marker line that tells such an `Err` out of the stderr text (cell_errors.py), and notes
when evcxr says it is idle after a request.
"""

import json
import socket
import uuid

import cell_errors

DELIMITER = b"<IDS|MSG>"
REDRAW = "\r"
# Starts a line of the live training curves; the escape character keeps it from being
# mistaken for a cell's output.
FIGURE = "\x1b_cnn-figure "


class Redraws:
    """Rewrites evcxr's IOPub messages; `feed` takes one message's frames and returns the
    messages (as frames) to publish instead."""

    def __init__(self, session):
        self.session = session
        self.open = {}  # (stream name) -> display id of the cell now running
        self.figures = {}  # the support crate's figure id -> display id, in the cell now running

    def feed(self, frames):
        try:
            return self.rewrite(frames)
        except (ValueError, KeyError, TypeError, AttributeError):
            return [frames]  # not a message this relay understands: pass it on

    def rewrite(self, frames):
        split = frames.index(DELIMITER)
        idents, parts = frames[:split], frames[split + 1:]
        header = json.loads(parts[1])
        kind = header.get("msg_type")
        if kind == "execute_input":
            # A new cell: no display of the last one is redrawn again.
            self.open.clear()
            self.figures.clear()
        if kind != "stream":
            return [frames]
        parent = json.loads(parts[2])
        content = json.loads(parts[4])
        name, text = content.get("name", "stdout"), content.get("text", "")
        # Lines end at "\n" only (splitlines would also split at the "\r" it looks for).
        *ended, rest = text.split("\n")
        lines = [line + "\n" for line in ended] + ([rest] if rest else [])
        if REDRAW not in text and name not in self.open and not any(line.startswith(FIGURE) for line in lines):
            return [frames]
        out, plain = [], []
        for line in lines:
            body = line.rstrip("\n")
            figure = body.startswith(FIGURE)
            if figure or body.startswith(REDRAW) or name in self.open:
                if plain:
                    out.append(self.message("stream", {"name": name, "text": "".join(plain)}, parent, idents))
                    plain = []
                out += self.figure(body, parent, idents) if figure else [self.show(name, body, parent, idents)]
            else:
                plain.append(line)
        if plain:
            out.append(self.message("stream", {"name": name, "text": "".join(plain)}, parent, idents))
        return out

    def show(self, name, body, parent, idents):
        """A redraw line opens or updates the stream's display; a plain line closes it."""
        redraw = body.startswith(REDRAW)
        # A line may hold several redraws; the terminal would show the last.
        text = body.rsplit(REDRAW, 1)[-1]
        content = {"data": {"text/plain": text}, "metadata": {}}
        if name in self.open:
            content["transient"] = {"display_id": self.open[name]}
            kind = "update_display_data"
            if not redraw:
                del self.open[name]
        else:
            display = uuid.uuid4().hex
            content["transient"] = {"display_id": display}
            kind = "display_data"
            self.open[name] = display
        return self.message(kind, content, parent, idents)

    def figure(self, body, parent, idents):
        """A figure line opens or redraws the figure's display; its end line empties it (and
        an end for no open figure is dropped). Returns the messages to publish."""
        verb, key, *png = body[len(FIGURE):].split(" ", 2)
        if verb == "show" and len(png) == 1:
            content = {"data": {"image/png": png[0], "text/plain": "<the training curves so far>"}, "metadata": {}}
        elif verb == "end" and not png:
            if key not in self.figures:
                return []
            content = {"data": {"text/plain": ""}, "metadata": {}}
        else:
            raise ValueError(f"not a figure line: {body[:80]!r}")
        if key in self.figures:
            display, kind = self.figures[key], "update_display_data"
            if verb == "end":
                del self.figures[key]
        else:
            display, kind = uuid.uuid4().hex, "display_data"
            self.figures[key] = display
        content["transient"] = {"display_id": display}
        return [self.message(kind, content, parent, idents)]

    def message(self, kind, content, parent, idents):
        return self.session.serialize(self.session.msg(kind, content=content, parent=parent), ident=idents)


class Outputs:
    """All of evcxr's IOPub messages: `feed` takes one message's frames and returns the
    messages to publish instead, and the msg_id of the request it says idle for (or None).
    `failures` holds what each request's stderr said about it."""

    def __init__(self, session):
        self.session = session
        self.failures = cell_errors.Failures()
        self.redraws = Redraws(session)

    def feed(self, frames):
        try:
            return self.rewrite(frames)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return [frames], None  # not a message this relay understands: pass it on

    def rewrite(self, frames):
        split = frames.index(DELIMITER)
        idents, parts = frames[:split], frames[split + 1:]
        header, parent = json.loads(parts[1]), json.loads(parts[2])
        kind, request = header.get("msg_type"), parent.get("msg_id")
        if kind == "status":
            idle = json.loads(parts[4]).get("execution_state") == "idle"
            return [frames], request if idle else None
        if kind == "stream":
            content = json.loads(parts[4])
            if content.get("name") == "stderr":
                text = self.failures.stderr(request, content["text"])
                if not text:
                    return [], None  # the marker line alone
                if text != content["text"]:
                    msg = {"header": header, "parent_header": parent, "metadata": json.loads(parts[3]),
                           "content": dict(content, text=text)}
                    frames = self.session.serialize(msg, ident=idents) + parts[5:]
        return self.redraws.feed(frames), None


def free_port(ip):
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]
