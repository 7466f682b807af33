"""The kernel's shell relay, over real sockets: a fake evcxr behind it and a fake Jupyter
client in front. A cell that fails replies an error, and the execute requests queued behind
it are answered `aborted` without running; everything else passes through untouched."""

import os
import sys
import threading
import time
import unittest
from unittest import mock

import zmq
from jupyter_client.session import Session

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import cell_errors  # noqa: E402
import iopub_relay  # noqa: E402
import shell_relay  # noqa: E402

KEY = b"secret"
IP = "127.0.0.1"
TIMEOUT = 10  # s for anything the relay should do at once


def session(username):
    return Session(key=KEY, signature_scheme="hmac-sha256", username=username)


def connection():
    ports = set()
    while len(ports) < 5:
        ports.add(iopub_relay.free_port(IP))
    shell, iopub, stdin, control, hb = sorted(ports)
    return {"ip": IP, "transport": "tcp", "shell_port": shell, "iopub_port": iopub, "stdin_port": stdin,
            "control_port": control, "hb_port": hb, "key": KEY.decode(), "signature_scheme": "hmac-sha256"}


class Cell:
    """How the fake kernel runs a cell: its stderr lines before the reply, after it, and
    after its idle (evcxr's stderr thread may lag that far behind), the reply's status
    (evcxr's), and whether it publishes idle at the end."""

    def __init__(self, stderr=(), late=(), status="ok", idle=True, after_idle=()):
        self.stderr, self.late, self.status, self.idle = list(stderr), list(late), status, idle
        self.after_idle = list(after_idle)


COMPILE_ERROR = Cell(status="error")
PANIC = Cell(stderr=["thread 'main' panicked at src/lib.rs:3:5:", "boom", "note: run with RUST_BACKTRACE=1"])
QUESTION_MARK = Cell(stderr=["cannot load cifar10 from data/cifar10", "", "Caused by:",
                             "    cifar10 not found", cell_errors.MARKER])


class FakeKernel:
    """evcxr as the relay sees it: a ROUTER on the inner shell port and a publisher on the
    inner IOPub port. It runs one execute request at a time and sends, as evcxr does, busy,
    execute_input, the cell's stderr lines, the reply, and then idle."""

    def __init__(self, inner, cells):
        self.session = session("kernel")
        self.cells = cells  # code -> Cell; any other code prints "ran" on stdout
        self.received = []  # (identity, msg_type, code, frames after the identity)
        self.sent = []  # the frames of each reply, after the identity
        self.count = 0
        context = zmq.Context.instance()
        self.shell = context.socket(zmq.ROUTER)
        self.shell.bind(f"tcp://{IP}:{inner['shell_port']}")
        self.iopub = context.socket(zmq.XPUB)  # tells when the relay has subscribed
        self.iopub.bind(f"tcp://{IP}:{inner['iopub_port']}")
        self.synced = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        self.iopub.poll(TIMEOUT * 1000)
        self.iopub.recv()
        while not self.synced.is_set():  # until the client has seen one (PUB drops the rest)
            self.publish("status", {"execution_state": "starting"}, None)
            time.sleep(0.02)
        while not self.stopped.is_set():
            if self.shell.poll(50):
                self.handle(self.shell.recv_multipart())
        self.shell.close(0)
        self.iopub.close(0)

    def publish(self, kind, content, parent):
        self.iopub.send_multipart(self.session.serialize(self.session.msg(kind, content=content, parent=parent)))

    def reply(self, identity, kind, content, request):
        frames = self.session.serialize(self.session.msg(kind, content=content, parent=request))
        self.sent.append(frames)
        self.shell.send_multipart([identity] + frames)

    def handle(self, frames):
        identity = frames[0]
        _idents, parts = self.session.feed_identities(frames[1:])
        request = self.session.deserialize(parts)
        kind = request["header"]["msg_type"]
        code = request["content"].get("code")
        self.received.append((identity, kind, code, frames[1:]))
        self.publish("status", {"execution_state": "busy"}, request)
        if kind == "execute_request":
            self.count += 1
            cell = self.cells.get(code, Cell())
            self.publish("execute_input", {"code": code, "execution_count": self.count}, request)
            if code not in self.cells:
                self.publish("stream", {"name": "stdout", "text": "ran\n"}, request)
            for line in cell.stderr:
                self.publish("stream", {"name": "stderr", "text": line + "\n"}, request)
            if cell.status == "error":
                self.publish("error", {"ename": "Error", "evalue": "mismatched types", "traceback": []}, request)
            self.reply(identity, "execute_reply", {"status": cell.status, "execution_count": self.count}, request)
            time.sleep(0.01)
            for line in cell.late:
                self.publish("stream", {"name": "stderr", "text": line + "\n"}, request)
            if not cell.idle:
                return
        elif kind == "kernel_info_request":
            self.reply(identity, "kernel_info_reply", {"status": "ok", "implementation": "fake"}, request)
        elif kind == "complete_request":
            self.reply(identity, "complete_reply", {"status": "ok", "matches": ["println!"]}, request)
        self.publish("status", {"execution_state": "idle"}, request)
        if kind == "execute_request":
            for line in cell.after_idle:
                time.sleep(0.05)
                self.publish("stream", {"name": "stderr", "text": line + "\n"}, request)


class Client:
    """Jupyter's side: a DEALER whose identity is its session id, as jupyter_client
    connects, and a subscriber on IOPub."""

    def __init__(self, connection, identity=None):
        self.session = session("student")
        context = zmq.Context.instance()
        self.shell = context.socket(zmq.DEALER)
        self.identity = identity if identity is not None else self.session.bsession
        self.shell.setsockopt(zmq.ROUTING_ID, self.identity)
        self.shell.connect(f"tcp://{IP}:{connection['shell_port']}")
        self.iopub = context.socket(zmq.SUB)
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.iopub.connect(f"tcp://{IP}:{connection['iopub_port']}")
        self.published = []  # (msg_type, content, parent msg_id)

    def send(self, kind, content):
        msg = self.session.msg(kind, content=content)
        frames = self.session.serialize(msg)
        self.shell.send_multipart(frames)
        return msg["header"]["msg_id"], frames

    def execute(self, code, stop_on_error=True):
        return self.send("execute_request", {"code": code, "silent": False, "store_history": True,
                                             "user_expressions": {}, "allow_stdin": True,
                                             "stop_on_error": stop_on_error})[0]

    def raw_reply(self, timeout=TIMEOUT):
        if not self.shell.poll(timeout * 1000):
            raise AssertionError("no reply came")
        return self.shell.recv_multipart()

    def reply(self, timeout=TIMEOUT):
        """The next shell reply, its signature checked."""
        _idents, parts = self.session.feed_identities(self.raw_reply(timeout))
        return self.session.deserialize(parts)

    def read_iopub(self, until, timeout=TIMEOUT):
        """Reads IOPub until `until(msg_type, content, parent)` is true for a message."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.iopub.poll(50):
                _idents, parts = self.session.feed_identities(self.iopub.recv_multipart())
                msg = self.session.deserialize(parts)
                item = (msg["header"]["msg_type"], msg["content"], msg["parent_header"].get("msg_id"))
                self.published.append(item)
                if until(*item):
                    return
        raise AssertionError(f"not seen on IOPub; got {self.published}")

    def idle(self, msg_id):
        self.read_iopub(lambda kind, content, parent: kind == "status" and parent == msg_id
                        and content["execution_state"] == "idle")

    def statuses(self, msg_id):
        return [c["execution_state"] for kind, c, p in self.published if kind == "status" and p == msg_id]

    def stderr(self, msg_id):
        return "".join(c["text"] for kind, c, p in self.published
                       if kind == "stream" and p == msg_id and c["name"] == "stderr")

    def close(self):
        self.shell.close(0)
        self.iopub.close(0)


class RelayTest(unittest.TestCase):
    def start(self, cells=None, no_idle=30, clients=1):
        """The relay, the fake kernel and `clients` clients, connected. A reply waits for
        the kernel's idle, which comes at once, and not for `no_idle` seconds."""
        self.connection = connection()
        relay = shell_relay.Relay(self.connection, no_idle=no_idle)
        threading.Thread(target=relay.run, daemon=True).start()
        self.kernel = FakeKernel(relay.inner, cells or {})
        self.addCleanup(self.kernel.stopped.set)
        self.clients = [Client(self.connection) for _ in range(clients)]
        for client in self.clients:
            self.addCleanup(client.close)
            client.read_iopub(lambda kind, content, parent: kind == "status")
        self.kernel.synced.set()
        time.sleep(0.05)
        for client in self.clients:
            while client.iopub.poll(50):
                client.iopub.recv_multipart()
            client.published.clear()
        return self.clients[0]

    def ran(self):
        return [code for _identity, kind, code, _frames in self.kernel.received if kind == "execute_request"]


class StopOnError(RelayTest):
    def test_requests_queued_behind_a_compile_error_are_aborted_without_running(self):
        client = self.start({"bad": COMPILE_ERROR})
        ids = [client.execute(code) for code in ("bad", "second", "third")]
        replies = [client.reply() for _ in ids]
        self.assertEqual([r["content"]["status"] for r in replies], ["error", "aborted", "aborted"])
        self.assertEqual([r["parent_header"]["msg_id"] for r in replies], ids)
        self.assertEqual(replies[1]["header"]["msg_type"], "execute_reply")
        self.assertEqual(replies[1]["metadata"].get("status"), "aborted")
        for msg_id in ids:
            client.idle(msg_id)
        self.assertEqual(client.statuses(ids[1]), ["busy", "idle"])
        self.assertEqual(client.statuses(ids[2]), ["busy", "idle"])
        self.assertEqual(self.ran(), ["bad"], "the kernel never saw the aborted requests")

    def test_stop_on_error_false_lets_the_queued_requests_run(self):
        client = self.start({"bad": COMPILE_ERROR})
        client.execute("bad", stop_on_error=False)
        client.execute("second")
        client.execute("third")
        self.assertEqual([client.reply()["content"]["status"] for _ in range(3)], ["error", "ok", "ok"])
        self.assertEqual(self.ran(), ["bad", "second", "third"])

    def test_a_request_sent_after_the_queue_drained_runs_after_an_error(self):
        client = self.start({"bad": COMPILE_ERROR})
        client.execute("bad")
        client.execute("queued")
        self.assertEqual([client.reply()["content"]["status"] for _ in range(2)], ["error", "aborted"])
        later = client.execute("later")
        reply = client.reply()
        self.assertEqual((reply["content"]["status"], reply["parent_header"]["msg_id"]), ("ok", later))
        self.assertEqual(self.ran(), ["bad", "later"])

    def test_requests_run_one_at_a_time_in_order(self):
        client = self.start()
        ids = [client.execute(f"cell {n}") for n in range(4)]
        replies = [client.reply() for _ in ids]
        self.assertEqual([r["parent_header"]["msg_id"] for r in replies], ids)
        self.assertEqual([r["content"]["execution_count"] for r in replies], [1, 2, 3, 4])
        self.assertEqual(self.ran(), [f"cell {n}" for n in range(4)])


class FailuresReplyErrors(RelayTest):
    def test_an_err_through_question_mark_replies_error_without_the_marker(self):
        client = self.start({"load": QUESTION_MARK})
        msg_id = client.execute("load")
        client.execute("next")
        reply = client.reply()
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "Error")
        self.assertEqual(reply["content"]["evalue"], "cannot load cifar10 from data/cifar10")
        self.assertIn("    cifar10 not found", reply["content"]["traceback"])
        self.assertTrue(all(isinstance(line, str) for line in reply["content"]["traceback"]))
        self.assertEqual(reply["content"]["execution_count"], 1, "the kernel's own count")
        self.assertEqual(reply["header"]["msg_type"], "execute_reply")
        self.assertEqual(client.reply()["content"]["status"], "aborted")
        client.idle(msg_id)
        stderr = client.stderr(msg_id)
        self.assertIn("cannot load cifar10 from data/cifar10\n", stderr)
        self.assertIn("Caused by:\n    cifar10 not found\n", stderr)
        self.assertNotIn(cell_errors.MARKER, stderr)
        self.assertNotIn(cell_errors.MARKER, str(client.published))
        self.assertNotIn("error", [kind for kind, _c, _p in client.published], "printed once, on stderr")

    def test_a_marker_after_the_reply_but_before_idle_still_makes_an_error(self):
        late = Cell(stderr=["parse error: invalid digit"], late=[cell_errors.MARKER])
        client = self.start({"late": late})
        client.execute("late")
        reply = client.reply()
        self.assertEqual((reply["content"]["status"], reply["content"]["evalue"]),
                         ("error", "parse error: invalid digit"))

    def test_lines_that_trail_the_idle_come_before_it_and_still_make_an_error(self):
        trailing = Cell(after_idle=["✗ Exercise 503.2: the loss did not fall", cell_errors.MARKER])
        client = self.start({"trailing": trailing})
        msg_id = client.execute("trailing")
        reply = client.reply()
        self.assertEqual((reply["content"]["status"], reply["content"]["evalue"]),
                         ("error", "✗ Exercise 503.2: the loss did not fall"))
        client.idle(msg_id)
        self.assertEqual(client.stderr(msg_id), "✗ Exercise 503.2: the loss did not fall\n",
                         "a client that stops at the idle has seen the line")

    def test_a_panic_replies_error_with_its_message(self):
        client = self.start({"panic": PANIC})
        msg_id = client.execute("panic")
        reply = client.reply()
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual((reply["content"]["ename"], reply["content"]["evalue"]), ("Panic", "boom"))
        client.idle(msg_id)
        self.assertIn("panicked at src/lib.rs:3:5:\nboom\n", client.stderr(msg_id), "stderr as it was")

    def test_a_panic_line_with_the_threads_id_is_a_panic(self):
        # As Rust 1.95 prints it, and as evcxr's cells run: in an unnamed thread.
        client = self.start({"panic": Cell(stderr=["thread '<unnamed>' (29911) panicked at src/lib.rs:130:1:",
                                                   "boom", "stack backtrace:"])})
        client.execute("panic")
        reply = client.reply()
        self.assertEqual((reply["content"]["status"], reply["content"]["evalue"]), ("error", "boom"))

    def test_a_plain_stderr_line_is_no_failure_and_its_reply_passes_byte_for_byte(self):
        client = self.start({"note": Cell(stderr=["note"])})
        msg_id = client.execute("note")
        frames = client.raw_reply()
        self.assertEqual(frames, self.kernel.sent[0])
        client.idle(msg_id)
        self.assertEqual(client.stderr(msg_id), "note\n")

    def test_a_reply_without_idle_goes_out_after_the_wait(self):
        client = self.start({"quiet": Cell(stderr=[cell_errors.MARKER], idle=False)}, no_idle=0.3)
        start = time.time()
        client.execute("quiet")
        self.assertEqual(client.reply()["content"]["status"], "error")
        self.assertGreaterEqual(time.time() - start, 0.3)


class PassThrough(RelayTest):
    def test_other_requests_and_their_replies_pass_byte_for_byte_to_the_right_client(self):
        first = self.start(clients=2)
        second = self.clients[1]
        self.assertNotEqual(first.identity, second.identity)
        _id, info = first.send("kernel_info_request", {})
        _id, complete = second.send("complete_request", {"code": "prin", "cursor_pos": 4})
        got = {first.identity: first.raw_reply(), second.identity: second.raw_reply()}
        received = {identity: frames for identity, _kind, _code, frames in self.kernel.received}
        self.assertEqual(received, {first.identity: info, second.identity: complete})
        sent = {tuple(frames) for frames in self.kernel.sent}
        self.assertEqual({tuple(frames) for frames in got.values()}, sent)
        self.assertIn(b"kernel_info_reply", b"".join(got[first.identity]))
        self.assertIn(b"complete_reply", b"".join(got[second.identity]))

    def test_the_kernel_sees_the_clients_own_identity_for_stdin(self):
        # evcxr sends a cell's input_request on stdin to the execute request's identity.
        client = self.start()
        client.execute("read a line")
        client.reply()
        ((identity, _kind, _code, _frames),) = self.kernel.received
        self.assertEqual(identity, client.identity)

    def test_the_inner_ports_are_none_of_the_connections(self):
        # Jupyter's ports are free again when the relay starts, so the system may offer them.
        conn = connection()
        ports = [conn[name] for name in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")]
        spare = [p for p in range(65000, 65100) if p not in ports][:2]
        with mock.patch.object(iopub_relay, "free_port", side_effect=ports + [spare[0], spare[0], spare[1]]):
            inner = shell_relay.start(conn)
        self.assertEqual((inner["shell_port"], inner["iopub_port"]), tuple(spare))
        for name in ("stdin_port", "control_port", "hb_port", "key", "ip"):
            self.assertEqual(inner[name], conn[name], "only the relayed ports change")


if __name__ == "__main__":
    unittest.main()
