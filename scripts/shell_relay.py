"""Relays the kernel's shell channel so that Run All stops at the first failing cell.

JupyterLab's Run All sends every cell's execute request at once, with `stop_on_error`, and
expects the kernel to answer the requests queued behind a failed one `aborted` without
running them, as IPython does. evcxr runs them all: the cells below a failed one fail in
turn for want of its variables, or run on stale ones. And evcxr replies `ok` to a cell
that panicked or returned an `Err` through `?`, so even a kernel that stopped would not
have stopped there.

So the kernel launcher puts this relay between Jupyter and evcxr on the shell channel, in
the same thread and loop as the IOPub relay (iopub_relay.py), whose view of each cell's
stderr (cell_errors.py) it needs:

- execute requests wait here, first come first served, one at a time at evcxr;
- evcxr's reply and its idle for that request wait here until the request's stderr has
  been quiet for a moment: evcxr reads the cell's stderr in a thread of its own, so the
  last lines (a check's ✗, the `?` marker) may trail the reply and even the idle, and a
  client stops listening for a cell's output at its idle. Then the idle goes out, and the
  reply, as an error if the cell's stderr showed a panic or an `Err` through `?`;
- after an error, unless its request said `stop_on_error: false`, every execute request
  still waiting here is answered `aborted` (with a busy and an idle status on IOPub, as
  IPython sends), and evcxr never sees it. Requests that come later run as usual.

Every other message passes through untouched, byte for byte, both ways. Each client gets
a socket of its own towards evcxr that carries the client's own identity, so that evcxr
sees the identities it would see without the relay: it sends a cell's `input_request` on
the stdin channel (not relayed) to the identity of the cell's execute request.
"""

import collections
import json
import threading
import time

import zmq
from jupyter_client.session import Session

import iopub_relay

DELIMITER = iopub_relay.DELIMITER
SETTLE = 0.15  # s of quiet on the cell's output after evcxr's idle, for lines that trail it
NO_IDLE = 2.0  # s after evcxr's reply, when no idle comes


class Request:
    """An execute request from the client `client`; `frames` as the client sent them."""

    def __init__(self, client, frames, header, content):
        self.client, self.frames, self.header = client, frames, header
        self.msg_id = header["msg_id"]
        self.stop_on_error = content.get("stop_on_error", True) is not False and not content.get("silent", False)
        self.reply = None  # evcxr's execute_reply, held back
        self.idle = None  # evcxr's idle status for it, held back
        self.reply_at = self.idle_at = None
        self.output_at = None  # when the last message after its idle came


Message = collections.namedtuple("Message", "idents header parent metadata content")


def parse(frames):
    """A message's identities and parts, or None for what this relay cannot read."""
    try:
        split = frames.index(DELIMITER)
        parts = [json.loads(part) for part in frames[split + 2:split + 6]]
        if len(parts) == 4 and all(isinstance(part, dict) for part in parts) and "msg_id" in parts[0]:
            return Message(frames[:split], *parts)
    except ValueError:  # no delimiter, or a part that is not JSON
        pass
    return None


class Relay:
    """Both relayed channels, run by `run` in one thread: the shell channel's queue and the
    IOPub channel's rewriting share their state without locks."""

    def __init__(self, connection, settle=SETTLE, no_idle=NO_IDLE):
        ip, transport = connection["ip"], connection.get("transport", "tcp")
        self.session = Session(
            key=connection["key"].encode(),
            signature_scheme=connection.get("signature_scheme", "hmac-sha256"),
            username="kernel",
        )
        self.settle, self.no_idle = settle, no_idle
        context = zmq.Context.instance()
        self.shell = context.socket(zmq.ROUTER)
        self.shell.setsockopt(zmq.ROUTER_HANDOVER, 1)  # a client that reconnects gets its replies
        self.shell.bind(f"{transport}://{ip}:{connection['shell_port']}")
        self.iopub = context.socket(zmq.PUB)
        self.iopub.bind(f"{transport}://{ip}:{connection['iopub_port']}")
        # Jupyter picked the connection's ports and let them go, so the system may hand one
        # of them out again: evcxr could then not bind it. Pick the inner ports after taking
        # shell's and IOPub's, and never one of the connection's.
        taken = {value for key, value in connection.items() if key.endswith("_port")}
        inner = {}
        for name in ("shell_port", "iopub_port"):
            port = iopub_relay.free_port(ip)
            while port in taken:
                port = iopub_relay.free_port(ip)
            inner[name] = port
            taken.add(port)
        self.inner = dict(connection, **inner)
        self.kernel_shell = f"{transport}://{ip}:{inner['shell_port']}"
        self.kernel_iopub = context.socket(zmq.SUB)
        self.kernel_iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.kernel_iopub.connect(f"{transport}://{ip}:{inner['iopub_port']}")
        self.context = context
        self.outputs = iopub_relay.Outputs(self.session)
        self.backs = {}  # client identity -> its DEALER towards evcxr
        self.clients = {}  # that DEALER -> the client identity
        self.waiting = collections.deque()  # execute requests evcxr has not seen
        self.running = None  # the execute request at evcxr
        self.poller = zmq.Poller()
        self.poller.register(self.shell, zmq.POLLIN)
        self.poller.register(self.kernel_iopub, zmq.POLLIN)

    def back(self, client):
        """The client's socket towards evcxr, with the client's identity where libzmq lets a
        socket take it (an identity that starts with a zero byte is one ROUTER made up)."""
        sock = self.backs.get(client)
        if sock is None:
            sock = self.context.socket(zmq.DEALER)
            if client and not client.startswith(b"\0"):
                sock.setsockopt(zmq.ROUTING_ID, client)
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(self.kernel_shell)
            self.backs[client], self.clients[sock] = sock, client
            self.poller.register(sock, zmq.POLLIN)
        return sock

    def run(self):
        while True:
            self.step()

    def step(self):
        due = self.due()
        timeout = None if due is None else max(0, int((due - time.monotonic()) * 1000) + 1)
        for sock, _event in self.poller.poll(timeout):
            if sock is self.kernel_iopub:
                self.from_kernel_iopub(sock.recv_multipart())
            elif sock is self.shell:
                self.from_client(sock.recv_multipart())
            else:
                self.from_kernel(self.clients[sock], sock.recv_multipart())
        due = self.due()
        if due is not None and time.monotonic() >= due:
            self.finish()

    def from_client(self, frames):
        client, frames = frames[0], frames[1:]
        message = parse(frames)
        if message and message.header.get("msg_type") == "execute_request":
            self.waiting.append(Request(client, frames, message.header, message.content))
            self.next()
        else:
            self.back(client).send_multipart(frames)

    def from_kernel(self, client, frames):
        running = self.running
        message = parse(frames) if running else None
        if (message and running.client == client and message.header.get("msg_type") == "execute_reply"
                and message.parent.get("msg_id") == running.msg_id):
            running.reply, running.reply_at = frames, time.monotonic()
        else:
            self.shell.send_multipart([client] + frames)

    def from_kernel_iopub(self, frames):
        messages, idle = self.outputs.feed(frames)
        running = self.running
        if running and idle is not None and idle == running.msg_id:
            running.idle, running.idle_at = frames, time.monotonic()
            return
        if running and running.idle is not None:  # a line that trails the idle
            running.output_at = time.monotonic()
        for message in messages:
            self.iopub.send_multipart(message)

    def due(self):
        """When the held reply of the running request goes out, or None."""
        running = self.running
        if running is None or running.reply is None:
            return None
        due = running.reply_at + self.no_idle
        if running.idle_at is not None:
            due = min(due, max(running.idle_at, running.output_at or 0) + self.settle)
        return due

    def next(self):
        if self.running is None and self.waiting:
            self.running = self.waiting.popleft()
            self.back(self.running.client).send_multipart(self.running.frames)

    def finish(self):
        """Sends the running request's idle and its reply, an error if its stderr showed one,
        and after an error answers the waiting requests `aborted`."""
        running, self.running = self.running, None
        if running.idle is not None:
            self.iopub.send_multipart(running.idle)
        reply = running.reply
        message = parse(reply)
        content = message.content
        failure = self.outputs.failures.failure(running.msg_id)
        self.outputs.failures.forget(running.msg_id)
        if content.get("status") == "ok" and failure:
            content = dict(failure, status="error", execution_count=content.get("execution_count"))
            rewritten = {"header": message.header, "parent_header": message.parent,
                         "metadata": dict(message.metadata, status="error"), "content": content}
            buffers = reply[reply.index(DELIMITER) + 6:]
            reply = self.session.serialize(rewritten, ident=list(message.idents)) + buffers
        self.shell.send_multipart([running.client] + reply)
        if content.get("status") == "error" and running.stop_on_error:
            while self.waiting:
                self.abort(self.waiting.popleft())
        self.next()

    def abort(self, request):
        """Answers a request `aborted` without running it, as IPython does."""
        self.status("busy", request.header)
        idents = request.frames[:request.frames.index(DELIMITER)]
        status = {"status": "aborted"}
        reply = self.session.msg("execute_reply", content=status, parent=request.header, metadata=dict(status))
        self.shell.send_multipart([request.client] + self.session.serialize(reply, ident=idents))
        self.status("idle", request.header)

    def status(self, state, parent):
        message = self.session.msg("status", content={"execution_state": state}, parent=parent)
        self.iopub.send_multipart(self.session.serialize(message))


def start(connection):
    """Takes over the shell and IOPub ports of the connection info `connection` (a dict, as
    Jupyter wrote it) and returns the connection info to give evcxr, whose shell and IOPub
    ports only this relay uses. The relay runs in a daemon thread."""
    relay = Relay(connection)
    threading.Thread(target=relay.run, name="kernel-relay", daemon=True).start()
    return relay.inner
