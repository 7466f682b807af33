"""The kernel's output relay turns `\\r` lines and the training curves' figure lines into
displays redrawn in place, takes the marker of a cell's `?` error out of its stderr, and
passes everything else through untouched."""

import base64
import os
import re
import sys
import time
import unittest

import zmq
from jupyter_client.session import Session

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import cell_errors  # noqa: E402
import iopub_relay  # noqa: E402
import shell_relay  # noqa: E402

KEY = b"secret"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def kernel_session():
    return Session(key=KEY, signature_scheme="hmac-sha256", username="kernel")


class Kernel:
    """Builds IOPub messages as evcxr does: one stream message per line, newline added."""

    def __init__(self):
        self.session = kernel_session()
        self.request = self.session.msg("execute_request", content={"code": "fit()"})

    def frames(self, kind, content):
        msg = self.session.msg(kind, content=content, parent=self.request)
        return self.session.serialize(msg, ident=[kind.encode()])

    def line(self, text, name="stdout"):
        return self.frames("stream", {"name": name, "text": text + "\n"})


def read(frames):
    """A published message as (type, content), its signature checked."""
    session = kernel_session()
    _idents, parts = session.feed_identities(frames)
    msg = session.deserialize(parts)
    return msg["header"]["msg_type"], msg["content"], msg["parent_header"]["msg_id"]


class RedrawsTest(unittest.TestCase):
    def setUp(self):
        self.kernel = Kernel()
        self.redraws = iopub_relay.Redraws(kernel_session())

    def feed(self, frames):
        return [read(f) for f in self.redraws.feed(frames)]

    def test_plain_output_passes_through_byte_for_byte(self):
        for frames in (self.kernel.line("hello"), self.kernel.frames("status", {"execution_state": "busy"})):
            self.assertEqual(self.redraws.feed(frames), [frames])

    def test_redraws_update_one_display_and_a_plain_line_closes_it(self):
        self.kernel.line("training")
        (first,) = self.feed(self.kernel.line("\repoch 1/2 [#...] 10%"))
        self.assertEqual(first[0], "display_data")
        self.assertEqual(first[1]["data"], {"text/plain": "epoch 1/2 [#...] 10%"})
        self.assertEqual(first[2], self.kernel.request["header"]["msg_id"], "the cell's output")
        display = first[1]["transient"]["display_id"]
        (second,) = self.feed(self.kernel.line("\repoch 1/2 [##..] 50%"))
        self.assertEqual(second[0], "update_display_data")
        self.assertEqual(second[1]["transient"]["display_id"], display)
        (final,) = self.feed(self.kernel.line("epoch 1/2 loss 0.3"))
        self.assertEqual((final[0], final[1]["data"]["text/plain"]), ("update_display_data", "epoch 1/2 loss 0.3"))
        self.assertEqual(final[1]["transient"]["display_id"], display)
        # Closed: the next plain line is plain output again, the next redraw a new display.
        after = self.kernel.line("done")
        self.assertEqual(self.redraws.feed(after), [after])
        (third,) = self.feed(self.kernel.line("\repoch 2/2 [#...] 10%"))
        self.assertEqual(third[0], "display_data")
        self.assertNotEqual(third[1]["transient"]["display_id"], display)

    def test_streams_are_separate_and_a_new_cell_starts_afresh(self):
        self.feed(self.kernel.line("\rdownloading 1 MB", name="stderr"))
        warning = self.kernel.line("a warning")
        self.assertEqual(self.redraws.feed(warning), [warning], "stdout does not close stderr's display")
        self.feed(self.kernel.frames("execute_input", {"code": "next cell", "execution_count": 2}))
        plain = self.kernel.line("plain", name="stderr")
        self.assertEqual(self.redraws.feed(plain), [plain])

    def test_several_redraws_on_one_line_show_the_last(self):
        (shown,) = self.feed(self.kernel.line("\r10%\r20%\r30%"))
        self.assertEqual(shown[1]["data"]["text/plain"], "30%")

    def test_what_it_cannot_read_passes_through(self):
        self.assertEqual(self.redraws.feed([b"no delimiter"]), [[b"no delimiter"]])


def png(seed):
    """A stand-in for a drawing: the PNG signature and some bytes, in base64."""
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes([seed]) * 8).decode()


def show(key, seed):
    return f"{iopub_relay.FIGURE}show {key} {png(seed)}"


class FiguresTest(unittest.TestCase):
    """The support crate's figure lines: the training curves redrawn in place during `fit`."""

    def setUp(self):
        self.kernel = Kernel()
        self.redraws = iopub_relay.Redraws(kernel_session())

    def feed(self, frames):
        return [read(f) for f in self.redraws.feed(frames)]

    def test_a_figure_line_opens_an_image_display_and_the_next_redraws_it(self):
        (first,) = self.feed(self.kernel.line(show("0", 1)))
        self.assertEqual(first[0], "display_data")
        self.assertEqual(first[1]["data"]["image/png"], png(1))
        self.assertIn("text/plain", first[1]["data"], "a short text for frontends without images")
        self.assertEqual(first[2], self.kernel.request["header"]["msg_id"], "the cell's output")
        display = first[1]["transient"]["display_id"]
        (second,) = self.feed(self.kernel.line(show("0", 2)))
        self.assertEqual((second[0], second[1]["data"]["image/png"]), ("update_display_data", png(2)))
        self.assertEqual(second[1]["transient"]["display_id"], display)

    def test_the_end_line_empties_the_display_and_the_next_figure_opens_another(self):
        (first,) = self.feed(self.kernel.line(show("0", 1)))
        display = first[1]["transient"]["display_id"]
        (end,) = self.feed(self.kernel.line(f"{iopub_relay.FIGURE}end 0"))
        self.assertEqual((end[0], end[1]["data"]), ("update_display_data", {"text/plain": ""}))
        self.assertEqual(end[1]["transient"]["display_id"], display)
        (next_fit,) = self.feed(self.kernel.line(show("1", 3)))
        self.assertEqual(next_fit[0], "display_data")
        self.assertNotEqual(next_fit[1]["transient"]["display_id"], display)

    def test_an_end_line_for_no_open_figure_shows_nothing(self):
        self.assertEqual(self.feed(self.kernel.line(f"{iopub_relay.FIGURE}end 7")), [])

    def test_figure_lines_between_progress_redraws_leave_the_progress_display_open(self):
        (progress,) = self.feed(self.kernel.line("\repoch 1/2 [#...] 10%"))
        (figure,) = self.feed(self.kernel.line(show("0", 1)))
        (redrawn,) = self.feed(self.kernel.line("\repoch 1/2 [##..] 50%"))
        (closed,) = self.feed(self.kernel.line("epoch 1/2 loss 0.3"))
        (after_epoch,) = self.feed(self.kernel.line(show("0", 2)))
        progress_id, figure_id = (m[1]["transient"]["display_id"] for m in (progress, figure))
        self.assertNotEqual(progress_id, figure_id)
        self.assertEqual([(m[0], m[1]["transient"]["display_id"]) for m in (redrawn, closed, after_epoch)],
                         [("update_display_data", progress_id), ("update_display_data", progress_id),
                          ("update_display_data", figure_id)])
        self.assertEqual(closed[1]["data"], {"text/plain": "epoch 1/2 loss 0.3"})
        self.assertEqual(after_epoch[1]["data"]["image/png"], png(2))

    def test_a_message_of_several_lines_keeps_their_order(self):
        frames = self.kernel.frames("stream", {"name": "stdout", "text": f"before\n{show('0', 1)}\nafter\n"})
        self.assertEqual([(kind, content.get("text")) for kind, content, _ in self.feed(frames)],
                         [("stream", "before\n"), ("display_data", None), ("stream", "after\n")])

    def test_a_line_that_only_contains_the_marker_passes_through(self):
        bare = iopub_relay.FIGURE.lstrip("\x1b")
        for text in (f"{bare}show 0 {png(1)}", f"see {show('0', 1)}", "\x1b[1mbold\x1b[0m"):
            frames = self.kernel.line(text)
            self.assertEqual(self.redraws.feed(frames), [frames], repr(text))

    def test_a_new_cell_opens_a_new_figure_display(self):
        (first,) = self.feed(self.kernel.line(show("0", 1)))
        self.feed(self.kernel.frames("execute_input", {"code": "next cell", "execution_count": 2}))
        (again,) = self.feed(self.kernel.line(show("0", 2)))
        self.assertEqual(again[0], "display_data", "an id reused in a later cell must not redraw an old cell")
        self.assertNotEqual(again[1]["transient"]["display_id"], first[1]["transient"]["display_id"])

    def test_a_malformed_figure_line_passes_through(self):
        frames = self.kernel.line(f"{iopub_relay.FIGURE}show 0")
        self.assertEqual(self.redraws.feed(frames), [frames])

    def test_the_marker_is_the_one_the_support_crate_prints(self):
        with open(os.path.join(REPO, "support", "src", "train", "live.rs")) as f:
            match = re.search(r'const MARKER: &str = "([^"]*)";', f.read())
        self.assertIsNotNone(match, "live.rs defines MARKER")
        self.assertEqual(match.group(1).replace("\\x1b", "\x1b"), iopub_relay.FIGURE)


class OutputsTest(unittest.TestCase):
    """All of IOPub: the stderr marker of a `?` error, the idle that ends a request, and
    the redraws."""

    def setUp(self):
        self.kernel = Kernel()
        self.outputs = iopub_relay.Outputs(kernel_session())
        self.request = self.kernel.request["header"]["msg_id"]

    def test_the_marker_line_is_dropped_and_the_request_has_failed(self):
        error = self.kernel.line("invalid digit found in string", name="stderr")
        self.assertEqual(self.outputs.feed(error), ([error], None))
        self.assertIsNone(self.outputs.failures.failure(self.request))
        self.assertEqual(self.outputs.feed(self.kernel.line(cell_errors.MARKER, name="stderr")), ([], None))
        failure = self.outputs.failures.failure(self.request)
        self.assertEqual((failure["ename"], failure["evalue"]), ("Error", "invalid digit found in string"))

    def test_a_stderr_text_keeps_its_other_lines_without_the_marker(self):
        frames = self.kernel.frames("stream", {"name": "stderr", "text": f"oops\n{cell_errors.MARKER}\nafter\n"})
        messages, _idle = self.outputs.feed(frames)
        self.assertEqual([read(m)[:2] for m in messages], [("stream", {"name": "stderr", "text": "oops\nafter\n"})])

    def test_the_marker_on_stdout_is_not_the_cells_error(self):
        frames = self.kernel.line(cell_errors.MARKER)
        self.assertEqual(self.outputs.feed(frames), ([frames], None))
        self.assertIsNone(self.outputs.failures.failure(self.request))

    def test_idle_names_its_request_and_busy_does_not(self):
        busy = self.kernel.frames("status", {"execution_state": "busy"})
        idle = self.kernel.frames("status", {"execution_state": "idle"})
        self.assertEqual(self.outputs.feed(busy), ([busy], None))
        self.assertEqual(self.outputs.feed(idle), ([idle], self.request))

    def test_redraws_still_happen(self):
        (shown,), _idle = self.outputs.feed(self.kernel.line("\repoch 1/2 10%", name="stderr"))
        kind, content, _parent = read(shown)
        self.assertEqual((kind, content["data"]), ("display_data", {"text/plain": "epoch 1/2 10%"}))


class RelayTest(unittest.TestCase):
    """The relay over real sockets: evcxr publishes on the inner port, Jupyter reads the
    connection file's port."""

    def test_messages_cross_the_relay_rewritten(self):
        ip = "127.0.0.1"
        connection = {"ip": ip, "transport": "tcp", "iopub_port": iopub_relay.free_port(ip),
                      "shell_port": iopub_relay.free_port(ip), "stdin_port": 1,
                      "key": KEY.decode(), "signature_scheme": "hmac-sha256"}
        inner = shell_relay.start(connection)
        self.assertNotEqual(inner["iopub_port"], connection["iopub_port"])
        self.assertEqual(inner["stdin_port"], 1, "stdin is not relayed")
        context = zmq.Context.instance()
        kernel = context.socket(zmq.PUB)
        kernel.bind(f"tcp://{ip}:{inner['iopub_port']}")
        jupyter = context.socket(zmq.SUB)
        jupyter.setsockopt(zmq.SUBSCRIBE, b"")
        jupyter.connect(f"tcp://{ip}:{connection['iopub_port']}")
        source = Kernel()
        got = []
        deadline = time.time() + 10
        while len(got) < 2 and time.time() < deadline:
            # PUB drops what is sent before a subscriber is connected: send until seen.
            kernel.send_multipart(source.line("plain"))
            kernel.send_multipart(source.line("\rredraw"))
            kernel.send_multipart(source.line(cell_errors.MARKER, name="stderr"))
            while jupyter.poll(100):
                got.append(read(jupyter.recv_multipart()))
        kinds = {kind for kind, _content, _parent in got}
        self.assertIn("stream", kinds)
        self.assertTrue(kinds & {"display_data", "update_display_data"}, got)
        self.assertNotIn(cell_errors.MARKER, str(got))
        kernel.close(0)
        jupyter.close(0)


if __name__ == "__main__":
    unittest.main()
