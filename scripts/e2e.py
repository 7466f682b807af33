"""make e2e: the notebooks in JupyterLab, in a real browser, the way a student uses them.

It starts JupyterLab through `make lab` (on a port it has just taken itself, so that Jupyter
must move to a free one, as it does for a student whose port is busy), opens the notebooks
in Debian's Chromium, headless, driven by Playwright, and clicks through the UI.

The students' notebooks (`make lab`):
  1. 000_setup_check: Run > Run All; every code cell ends without an error (an error
     output, or an `Err` that evcxr prints on stderr), the figure is an image in the page
     and the table is an HTML table. Then a new cell loads a damaged data folder and must
     show the error with its cause.
  2. 502_fmp_mnist as a student gets it: Run All stops at the first gap with its message
     and nothing below runs; the answer typed into that cell passes the check, and a wrong
     one gets the check's hint.
The teachers' solutions (`make lab NOTEBOOKS=solutions`), with CNN_QUICK=1:
  3. 500_convolutions: Run > Run All; its figures (the convolution by hand, pooling beside
     FMP, HOG) are images.
  4. 501_fractional_max_pooling with no CIFAR-10 anywhere: Run All stops at the data cell,
     which says what to do, and no cell below runs; with the data made, Run All goes
     through.
  5. 502_fmp_mnist, opened while the others' kernels still run, so its kernel gets a build
     cache of its own: Run All; training leaves one progress line per epoch, the figures
     (the blocks' feature maps too) are images, and the diary cell writes diary/502.md.
     Then a new cell trains a long run, whose progress line and training figure the page
     shows redrawn in place, the toolbar's stop button interrupts it, and one more cell
     resumes that run from its checkpoint.
  6. 503_lenet_mnist: Run > Run All; C1's filters and the C1/C3 maps are images.
  7. make tensorboard: its page lists the runs the notebooks wrote.

For every notebook it reports how long its first two cells took in the kernel (`:dep` and
the first cell using the library), and it checks that the later kernels did not
compile the dependencies (tch, polars, plotters) again.
Screenshots of each notebook go to target/e2e/, with JupyterLab's log.

The notebooks, solutions, diary, runs and data are never touched: autosave is off in a
scratch JupyterLab settings folder, and CNN_DIARY_DIR / CNN_RUNS_DIR / CNN_DATA_DIR point
into a scratch folder. Exit status
77 means skipped (no Chromium here); the reason is printed.
"""

import contextlib
import datetime
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from kernel_launcher import SLOTS

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(REPO, "notebooks")
OUT = os.path.join(REPO, "target", "e2e")
SKIPPED = 77
KERNEL = "Rust (cnn-notebooks)"
# A notebook's first two cells, once setup has pre-warmed the cache, measured about 20 s;
# well over this the kernel must have compiled the dependencies again (minutes), which the
# build-cache check below names more precisely. (A bound for broken caches, not a target.)
FIRST_CELLS_LIMIT = 120
# Chromium's own network traffic is refused on closed machines, many requests at a time.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Failure(Exception):
    """A check that failed: the message says which notebook, cell and what was wrong."""


def log(text):
    print(f"[e2e] {text}", flush=True)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def cnn(args, env):
    """Runs the `cnn` command line, built if it is not yet."""
    subprocess.run(["cargo", "run", "-q", "--locked", "-p", "support", "--bin", "cnn", "--", *args],
                   cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)


def scratch_environment(scratch):
    """The environment JupyterLab and its kernels run with: quick notebooks, output into
    `scratch`, and a JupyterLab settings folder with autosave off."""
    settings = os.path.join(scratch, "lab-settings", "@jupyterlab")
    for plugin, values in (("docmanager-extension/plugin", {"autosave": False}),
                           # Each cell's start and end, kept in its metadata, for the timings.
                           ("notebook-extension/tracker", {"recordTiming": True})):
        os.makedirs(os.path.dirname(os.path.join(settings, plugin)), exist_ok=True)
        with open(os.path.join(settings, plugin + ".jupyterlab-settings"), "w") as f:
            json.dump(values, f)
    env = dict(os.environ)
    env.update({
        "CNN_QUICK": "1",
        "CNN_DIARY_DIR": os.path.join(scratch, "diary"),
        "CNN_RUNS_DIR": os.path.join(scratch, "runs"),
        "JUPYTERLAB_SETTINGS_DIR": os.path.join(scratch, "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": os.path.join(scratch, "lab-workspaces"),
        "PYTHONUNBUFFERED": "1",
    })
    # A data folder of its own, empty: notebook 501 must find no CIFAR-10 at first.
    env.update({"CNN_DATA_DIR": os.path.join(scratch, "data"), "CNN_DATASET": "fashion-mnist"})
    if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        log("Fashion-MNIST is not installed here: the notebooks run on a synthetic stand-in")
        cnn(["data", "synthetic", "--dataset", "fashion-mnist", "--out",
             os.path.join(env["CNN_DATA_DIR"], "fashion-mnist")], env)
    return env


class Lab:
    """JupyterLab started by `make lab`, on a port that is busy when it starts."""

    def __init__(self, env, log_path, folder="notebooks"):
        self.folder = folder
        self.token = secrets.token_hex(16)
        self.busy = socket.socket()
        self.busy.bind(("127.0.0.1", 0))
        self.busy.listen()
        self.busy_port = self.busy.getsockname()[1]
        args = (f"--no-browser --ip=127.0.0.1 --port={self.busy_port} "
                f"--IdentityProvider.token={self.token} --LabApp.expose_app_in_browser=True")
        self.log_path = log_path
        self.log_file = open(log_path, "w")
        log(f"make lab NOTEBOOKS={folder} ARGS=\"{args.replace(self.token, '<token>')}\" "
            f"(port {self.busy_port} is taken on purpose)")
        self.process = subprocess.Popen(["make", "-s", "lab", f"NOTEBOOKS={folder}", f"ARGS={args}"], cwd=REPO, env=env,
                                        stdout=self.log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        try:
            self.url = self._wait_for_url()
        except Failure:
            self.stop()
            raise

    def _wait_for_url(self):
        deadline = time.time() + 600  # make lab runs make setup first: seconds when done
        # Jupyter prints its address with the token masked.
        pattern = re.compile(r"http://127\.0\.0\.1:(\d+)/lab\?token=")
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise Failure(f"make lab exited with status {self.process.returncode} before serving; "
                              f"its log:\n{self.tail()}")
            with open(self.log_path) as f:
                match = pattern.search(f.read())
            if match:
                port = int(match.group(1))
                if port == self.busy_port:
                    raise Failure(f"JupyterLab claims port {port}, which this test holds")
                url = f"http://127.0.0.1:{port}"
                self._wait_until_answering(url)
                log(f"JupyterLab answers on port {port} (it moved off the busy port {self.busy_port})")
                return url
            time.sleep(0.5)
        raise Failure(f"make lab printed no address within 10 minutes; its log:\n{self.tail()}")

    def _wait_until_answering(self, url):
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={self.token}", timeout=5):
                    return
            except OSError:
                time.sleep(0.5)
        raise Failure(f"JupyterLab at {url} does not answer; its log:\n{self.tail()}")

    @contextlib.contextmanager
    def page(self, browser):
        """A browser page with this JupyterLab open; its open notebooks are photographed
        into target/e2e/ when it closes, whatever happened."""
        default = self.api("/api/kernelspecs")["default"]
        if default != "rust-cnn":
            raise Failure(f"make lab's default kernel is {default!r}, not 'rust-cnn'")
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.folder = self.folder
        page.set_default_timeout(60_000)
        try:
            page.goto(f"{self.url}/lab?token={self.token}")
            page.wait_for_selector(".jp-DirListing-item", timeout=120_000)
            log(f"JupyterLab on {self.folder}/ is open")
            yield page
        finally:
            tabs = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab").all_inner_texts()
            for name in [t.strip() for t in tabs if t.strip().endswith(".ipynb")]:
                log(f"screenshot {os.path.relpath(Notebook(page, name).screenshot(), REPO)}")
            page.screenshot(path=os.path.join(OUT, f"{self.folder}-jupyterlab.png"), full_page=True)
            page.close()

    def api(self, path):
        with urllib.request.urlopen(f"{self.url}{path}?token={self.token}", timeout=10) as r:
            return json.load(r)

    def tail(self, lines=30):
        with open(self.log_path) as f:
            return "".join(f.readlines()[-lines:])

    def stop(self):
        """Stops the server as a terminal's `kill` would (it shuts its kernels down first) and
        waits for all of `make lab`'s processes to end."""
        group = self.process.pid
        try:
            os.killpg(group, signal.SIGTERM)
            for _ in range(120):
                self.process.poll()
                os.killpg(group, 0)  # raises once no process of the group is left
                time.sleep(0.5)
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.busy.close()
        self.log_file.close()


# Reads one open notebook from JupyterLab's own model: the cells as nbformat JSON (an
# output's PNG as a fingerprint only), each cell's prompt as shown, what its outputs show in
# the page, and the kernel's status.
NOTEBOOK_STATE = """(path) => {
  const app = window.jupyterapp;
  // Length and FNV-1a hash of the base64 text: tells a redrawn image from the last one
  // without sending images out of the page at every look.
  const fingerprint = (png) => {
    const text = Array.isArray(png) ? png.join('') : png;
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    return `${text.length}:${(hash >>> 0).toString(16)}`;
  };
  for (const w of app.shell.widgets('main')) {
    if (!w.context || w.context.path !== path || !w.content) continue;
    const json = w.context.model.toJSON();
    const cells = json.cells.map((c, i) => {
      const widget = w.content.widgets[i];
      const node = widget ? widget.node : null;
      const images = node ? Array.from(node.querySelectorAll('.jp-OutputArea-output img')) : [];
      return {
        type: c.cell_type,
        source: Array.isArray(c.source) ? c.source.join('') : c.source,
        count: c.execution_count ?? null,
        timing: (c.metadata && c.metadata.execution) || {},
        prompt: node && node.querySelector('.jp-InputPrompt') ? node.querySelector('.jp-InputPrompt').textContent : '',
        outputs: (c.outputs || []).map(o => ({
          type: o.output_type,
          name: o.name || '',
          text: [o.text, o.data && o.data['text/plain']].map(t => Array.isArray(t) ? t.join('') : (t || '')).join(''),
          ename: o.ename || '', evalue: o.evalue || '', traceback: o.traceback || [],
          image: o.data && o.data['image/png'] ? fingerprint(o.data['image/png']) : '',
        })),
        images: images.filter(img => img.complete && img.naturalWidth > 0).length,
        tables: node ? node.querySelectorAll('.jp-OutputArea-output table').length : 0,
        tableText: node ? Array.from(node.querySelectorAll('.jp-OutputArea-output table'))
          .map(t => t.innerText).join(' ') : '',
      };
    });
    const kernel = w.sessionContext.session ? w.sessionContext.session.kernel : null;
    return {status: kernel ? kernel.status : 'none', kernel: w.sessionContext.kernelDisplayName, cells};
  }
  return null;
}"""


class Notebook:
    """One notebook open in the page, driven through JupyterLab's menus and toolbar."""

    def __init__(self, page, name):
        self.page = page
        self.name = name
        self.folder = page.folder  # notebooks or solutions: the lab it is open in

    def state(self):
        state = self.page.evaluate(NOTEBOOK_STATE, self.name)
        if state is None:
            raise Failure(f"{self.name} is not open in JupyterLab")
        return state

    def open(self):
        """Opens the notebook from the file browser, as a student does, and waits for its kernel."""
        self.page.locator(".jp-DirListing-item", has_text=self.name).first.dblclick()
        deadline = time.time() + 120
        while time.time() < deadline:
            state = self.page.evaluate(NOTEBOOK_STATE, self.name)
            if state and state["kernel"] == KERNEL and state["status"] == "idle":
                return
            time.sleep(0.5)
        raise Failure(f"{self.name}: the kernel {KERNEL!r} did not start within 2 minutes "
                      f"(last state: {state and {k: state[k] for k in ('kernel', 'status')}})")

    def activate(self):
        self.page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=self.name).first.click()

    def menu(self, menu, command):
        """Clicks a menu of the menu bar, then one of its items (by JupyterLab command id)."""
        self.activate()
        self.page.locator(".lm-MenuBar-item", has_text=menu).first.click()
        self.page.locator(f"li.lm-Menu-item[data-command='{command}']").first.click()

    def code_cells(self, state=None):
        return [c for c in (state or self.state())["cells"] if c["type"] == "code"]

    def wait_idle(self, timeout, watch=None):
        """Waits until no cell is queued or running and the kernel is idle; `watch` is called
        with each state while waiting. Returns the final state."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            state = self.state()
            if watch:
                watch(state)
            running = [c for c in state["cells"] if "*" in c["prompt"]]
            if not running and state["status"] == "idle":
                time.sleep(1)  # the last outputs may still be on their way
                return self.state()
            time.sleep(1)
        raise Failure(f"{self.name}: cells still running after {timeout} s")

    def wait_for_output(self, text, timeout):
        """Waits until the code cell whose source contains `text` has printed it."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in text_of(cell_with(self.name, self.state(), text)):
                return
            time.sleep(0.5)
        raise Failure(f"{self.name}: the cell with {text!r} did not print it within {timeout} s")

    def run_all(self, timeout=900, watch=None):
        """Run > Run All; returns the state once it finished, and the seconds the first two
        code cells took: `:dep support = ...` and the first cell that uses it."""
        self.menu("Run", "runmenu:run-all")
        state = self.wait_idle(timeout, watch)
        check_no_errors(self.name, state)
        return state, [cell_seconds(c) for c in self.code_cells(state)[:2]]

    def add_cell_and_run(self, code):
        """Adds a code cell at the end (select the last cell, Esc, B), types `code` and runs
        it with Shift+Enter; returns at once."""
        self.activate()
        last = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").last
        last.scroll_into_view_if_needed()
        last.locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("b")
        self.page.keyboard.press("Enter")  # edit mode in the new cell
        self.page.keyboard.insert_text(code)
        self.page.keyboard.press("Shift+Enter")

    def retype_and_run(self, index, code):
        """Replaces the source of cell `index` (of all cells) as a student does: click into
        its editor, Ctrl+A, type `code`; then runs it with Shift+Enter and returns at once."""
        self.activate()
        cell = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".cm-content").click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(code)
        self.page.keyboard.press("Shift+Enter")

    def interrupt(self):
        """The toolbar's stop button."""
        self.activate()
        self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) "
                          "[data-command='notebook:interrupt-kernel']").first.click()

    def screenshot(self):
        self.activate()
        path = os.path.join(OUT, f"{self.folder}-" + self.name.replace(".ipynb", ".png"))
        self.page.screenshot(path=path, full_page=True)
        return path


def cell_seconds(cell):
    """How long the kernel took for a cell, from JupyterLab's recorded timing."""
    timing = cell["timing"]
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return float("nan")
    parse = lambda t: datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()
    return parse(end) - parse(start)


def seconds(times):
    """`12.1 s + 9.0 s` for the first two cells' times."""
    return " + ".join(f"{t:.1f} s" for t in times)


def cell_label(name, cells, cell):
    number = cells.index(cell) + 1
    first = cell["source"].strip().splitlines()[0] if cell["source"].strip() else ""
    return f"{name}, code cell {number} (starting {first[:60]!r})"


def check_no_errors(name, state):
    """Every code cell ran, and none shows an error: a Rust compile error (an error
    output), or a panic or an `Err` returned through `?`, which evcxr prints on stderr (the
    kernel replies an error for them, but they show no error output)."""
    cells = [c for c in state["cells"] if c["type"] == "code"]
    for cell in cells:
        errors = [o for o in cell["outputs"] if o["type"] == "error"]
        stderr = "".join(o["text"] for o in cell["outputs"] if o["type"] == "stream" and o["name"] == "stderr")
        if errors:
            e = errors[0]
            text = "\n".join(e["traceback"]) or f"{e['ename']}: {e['evalue']}"
        elif stderr.strip():
            text = stderr
        else:
            continue
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
        lines = "\n".join(text.strip().splitlines()[:12])
        raise Failure(f"{cell_label(name, cells, cell)} failed:\n{lines}")
    not_run = [c for c in cells if c["source"].strip() and not c["count"]]
    if not_run:
        raise Failure(f"{cell_label(name, cells, not_run[0])} did not run")


def cell_with(name, state, text):
    cells = [c for c in state["cells"] if c["type"] == "code"]
    for cell in cells:
        if text in cell["source"]:
            return cell
    raise Failure(f"{name}: no code cell contains {text!r}; has the notebook changed?")


def text_of(cell):
    """What a cell printed: its stream output, and the text of its displays (a progress
    line redrawn in place is a display), each display on a line of its own."""
    return "".join(o["text"] if o["type"] == "stream" else o["text"] + "\n"
                   for o in cell["outputs"] if o["type"] in ("stream", "display_data"))


def shown(cell):
    """Everything a cell's outputs show, errors included, without terminal colours."""
    parts = [o["text"] for o in cell["outputs"]] + ["\n".join(o["traceback"]) for o in cell["outputs"]]
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(parts))


def check_stopped_at(name, state, stop):
    """Run All stopped at code cell `stop`: the cells above it ran, it ran (and failed),
    and the cells below it show as not run: no count, no outputs, an empty prompt."""
    cells = [c for c in state["cells"] if c["type"] == "code"]
    for cell in cells[:cells.index(stop)]:
        if cell["source"].strip() and not cell["count"]:
            raise Failure(f"{cell_label(name, cells, cell)}, above the failing cell, did not run")
    if not stop["count"]:
        raise Failure(f"{cell_label(name, cells, stop)} did not run")
    ran = [c for c in cells[cells.index(stop) + 1:]
           if c["count"] or c["outputs"] or c["prompt"].strip() not in ("", "[ ]:")]
    if ran:
        raise Failure(f"{cell_label(name, cells, ran[0])} ran after {cell_label(name, cells, stop)} "
                      f"failed (prompt {ran[0]['prompt']!r}, {len(ran[0]['outputs'])} output(s)): "
                      "Run All did not stop at the failing cell")
    return len(cells) - cells.index(stop) - 1


def progress_lines(cell):
    return [line for line in text_of(cell).splitlines() if line.startswith("epoch ")]


class Redraws:
    """Watches a training cell's outputs while it runs: counts the progress lines, and sees
    whether a display's text changed in place (a redraw) rather than new lines arriving, and
    how often a display's image changed in place (the training curves growing)."""

    def __init__(self):
        self.most = 0
        self.seen = {}
        self.in_place = 0
        self.images = {}
        self.images_in_place = 0

    def sample(self, cell):
        self.most = max(self.most, len(progress_lines(cell)))
        for i, o in enumerate(cell["outputs"]):
            if o["type"] != "display_data":
                continue
            if o["image"]:
                if i in self.images and self.images[i] != o["image"]:
                    self.images_in_place += 1
                self.images[i] = o["image"]
                continue
            if i in self.seen and self.seen[i] != o["text"]:
                self.in_place += 1
            self.seen[i] = o["text"]


def dependency_artifacts(slot):
    """Modification times of the compiled dependencies a kernel's cache holds."""
    found = {}
    deps = os.path.join(REPO, ".evcxr", str(slot), "target")
    for root, _dirs, files in os.walk(deps):
        if os.path.basename(root) != "deps":
            continue
        for f in files:
            if re.match(r"lib(tch|torch_sys|polars_core|plotters)-[0-9a-f]+\.rlib$", f):
                found[f] = os.path.getmtime(os.path.join(root, f))
    return found


def check_not_recompiled(name, started):
    """The kernel that ran `name` reused compiled dependencies: in no cache slot was a tch,
    polars or plotters library written since the test began (a copied slot keeps the warm
    slot's timestamps)."""
    for slot in range(SLOTS):
        rebuilt = [f for f, t in dependency_artifacts(slot).items() if t >= started]
        if rebuilt:
            raise Failure(f"{name}: the kernel compiled its dependencies again in .evcxr/{slot} "
                          f"({', '.join(sorted(rebuilt)[:3])}); a second notebook should reuse the warm cache")


def test_setup_check(page):
    nb = Notebook(page, "000_setup_check.ipynb")
    nb.open()
    state, first = nb.run_all(timeout=600)
    cells = nb.code_cells(state)
    if not any(c["images"] for c in cells):
        raise Failure(f"{nb.name}: the figure is not an image in the page")
    if not any(c["tables"] for c in cells):
        raise Failure(f"{nb.name}: the environment table is not an HTML table in the page")
    # In the kernel too, the crate's own CPU kernels must find libtorch's OpenMP threads
    # (support::parallel), or every FMP step pays for threads of their own.
    shown = "\n".join(c["tableText"] for c in cells if c["tableText"])
    if sys.platform.startswith("linux") and "libtorch's OpenMP threads" not in shown:
        raise Failure(f"{nb.name}: the environment table does not say that the crate's CPU "
                      "kernels run on libtorch's OpenMP threads (libgomp.so.1 not found in the "
                      f"kernel?); the table shows:\n{shown}")
    log(f"000: all {len(cells)} code cells ran; figure and table shown; first cells {seconds(first)}")
    return nb, first


def test_error_shows_its_cause(nb, scratch):
    """A cell that returns an error through `?` shows all of it, the cause included. The
    data folder here holds files named .gz that are not gzip (as a download cut short
    leaves them): the cell must say which file and what to do, not only "cannot load"."""
    broken = os.path.join(scratch, "broken-mnist")
    os.makedirs(broken)
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with open(os.path.join(broken, stem + ".gz"), "wb") as f:
            f.write(b"<html>404 Not Found</html>")
    nb.add_cell_and_run(f"let broken = load(\"mnist\", &LoadOpts {{ path: Some({json.dumps(broken)}.into()), "
                        "download: false, ..LoadOpts::default() })?;")
    state = nb.wait_idle(120)
    out = text_of(cell_with(nb.name, state, "let broken"))
    wanted = ["cannot load mnist from", "is named .gz but is not gzip data", "download it again"]
    if not all(w in out for w in wanted):
        raise Failure(f"{nb.name}: a cell that returned a data-loading error through `?` showed "
                      f"{out.strip()!r}, not the error with its cause ({', '.join(map(repr, wanted))})")
    log(f"000: a cell's error through `?` shows its cause ({len(out.strip().splitlines())} lines)")


def test_student_fills_a_gap(page):
    """A student's notebook: Run All stops at the first gap with its message, and nothing
    below it runs. Typing the answer into that cell and running it passes the check; a
    wrong answer gets the check's hint. The answer is the teacher's, from solutions/ (the
    same cell, by its id)."""
    name = "502_fmp_mnist.ipynb"
    nb = Notebook(page, name)
    nb.open()
    nb.menu("Run", "runmenu:run-all")
    state = nb.wait_idle(600)
    cells = nb.code_cells(state)
    gap = next(c for c in cells if "gap!(" in c["source"])
    below = check_stopped_at(name, state, gap)
    if "Exercise 502.1: fill in" not in shown(gap):
        raise Failure(f"{cell_label(name, cells, gap)} stopped Run All without the gap's message:\n"
                      f"{shown(gap)[-800:]}")
    log(f"502 (student): Run All stopped at the gap of exercise 502.1; the {below} cells below did not run")

    index = state["cells"].index(gap)
    solution = json.load(open(os.path.join(REPO, "solutions", name)))["cells"][index]
    answer = "".join(solution["source"])
    if "layers: 6," not in answer:
        raise Failure(f"solutions/{name}: cell {index + 1} is not exercise 502.1's answer; has it moved?")
    answers = [(answer, "✓ Exercise 502.1"),
               (answer.replace("layers: 6,", "layers: 12,"), "✗ Exercise 502.1: layers = 12")]
    for code, wanted in answers:
        nb.retype_and_run(index, code)
        state = nb.wait_idle(300)
        out = shown(state["cells"][index])
        if wanted not in out:
            raise Failure(f"{name}: after typing an answer into exercise 502.1 the cell shows\n{out[-800:]}\n"
                          f"instead of {wanted!r}")
        if wanted.startswith("✗") and "subscript L" not in out:
            raise Failure(f"{name}: a wrong number of blocks got no hint where to look:\n{out[-800:]}")
    log("502 (student): the typed answer passed the check (✓), and 12 blocks got the check's hint (✗)")
    return nb


def test_run_all_stops_at_an_error(page, env):
    """Run All stops at the first cell that fails, as with a Python kernel: 501 without
    CIFAR-10 anywhere stops at its data cell, which says what to do; once the data is in
    place, Run All goes through."""
    places = [os.path.join(env["CNN_DATA_DIR"], "cifar10"), os.path.join(REPO, "data", "cifar10"),
              "/usr/share/datasets/cifar10"]
    present = [p for p in places if os.path.isdir(p)]
    if present:
        raise Failure(f"CIFAR-10 is at {present[0]}, so notebook 501's data cell cannot fail as this "
                      "test needs; move it away for the test")
    nb = Notebook(page, "501_fractional_max_pooling.ipynb")
    nb.open()
    nb.menu("Run", "runmenu:run-all")
    state = nb.wait_idle(600)
    data = cell_with(nb.name, state, 'load("cifar10"')
    below = check_stopped_at(nb.name, state, data)
    if "cifar10 not found" not in shown(data):
        raise Failure(f"{nb.name}: the data cell did not show its error; it shows:\n{shown(data)[-800:]}")
    log(f"501: Run All stopped at the data cell (\"cifar10 not found\"); the {below} cells below did not run")
    cnn(["data", "synthetic", "--dataset", "cifar10", "--out", places[0]], env)
    state, first = nb.run_all(timeout=900)
    log(f"501: with CIFAR-10 in place, Run All ran all {len(nb.code_cells(state))} code cells; "
        f"first cells {seconds(first)}")
    return nb, first


def test_fmp_mnist(page, env):
    nb = Notebook(page, "502_fmp_mnist.ipynb")
    nb.open()
    diary = os.path.join(env["CNN_DIARY_DIR"], "502.md")
    started = time.time()
    redraws = Redraws()

    def watch(state):
        # While the training cell runs, how many progress lines does the page show?
        cell = next((c for c in nb.code_cells(state) if "fit(" in c["source"]), None)
        if cell and "*" in cell["prompt"]:
            redraws.sample(cell)

    state, first = nb.run_all(timeout=900, watch=watch)
    fit_cell = cell_with(nb.name, state, "fit(")
    lines = progress_lines(fit_cell)
    epochs = max(1, len({line.split()[1] for line in lines}))
    # One line per epoch, redrawn in place: never more lines than epochs.
    if len(lines) > epochs or redraws.most > epochs:
        raise Failure(f"{nb.name}: the training cell printed {max(len(lines), redraws.most)} "
                      f"progress lines for {epochs} epoch(s): a flood, not one line per epoch redrawn in place")
    check_images(nb, state, [f"{figure}.clone()" for figure in
                             ("history_figure", "confusion_figure", "ensemble_figure", "maps_figure")])
    if not os.path.exists(diary) or os.path.getmtime(diary) < started:
        raise Failure(f"{nb.name}: the diary cell did not write {diary}")
    log(f"502: all cells ran; {len(lines)} progress line(s) for {epochs} epoch(s); "
        f"4 figures shown (the blocks' feature maps too); {os.path.relpath(diary, os.path.dirname(env['CNN_DIARY_DIR']))} written; "
        f"first cells {seconds(first)}")
    return nb, first


def test_interrupt_and_resume(nb, env):
    """The stop button during training leaves a run that `resume` continues."""
    run = "e2e-interrupt"
    history = os.path.join(env["CNN_RUNS_DIR"], run, "history.csv")
    # Small batches make an epoch long enough to watch its progress line being redrawn.
    nb.add_cell_and_run(
        f'let long_config = FitConfig {{ epochs: 1000, batch_size: 8, run: Some("{run}".into()), ..fit_config.clone() }};\n'
        'let stopped = fit(&model, &vs, &data, &long_config)?;\n'
        'println!("kept {} epochs", stopped.epochs());')
    redraws = Redraws()
    deadline = time.time() + 300
    while time.time() < deadline:
        state = nb.state()
        cell = next((c for c in nb.code_cells(state) if "let long_config" in c["source"]), None)
        if cell:
            redraws.sample(cell)
        finished = os.path.exists(history) and len(open(history).read().strip().splitlines()) >= 3
        if finished and redraws.in_place and redraws.images_in_place >= 2:
            break  # the header, two finished epochs, a redraw, and the curves redrawn twice
        time.sleep(0.25)
    else:
        raise Failure(f"{nb.name}: in 5 minutes the long training run wrote {history} "
                      f"{'with' if os.path.exists(history) else 'without'} finished epochs, and the page "
                      f"showed {redraws.in_place} progress line(s) redrawn in place and the training "
                      f"curves' image changed in place {redraws.images_in_place} time(s) (2 wanted)")
    nb.interrupt()
    state = nb.wait_idle(120)
    cells = nb.code_cells(state)
    stopped = cell_with(nb.name, state, "let long_config")
    check_no_errors(nb.name, state)
    out = text_of(stopped)
    match = re.search(r"kept (\d+) epochs", out)
    if "interrupted in epoch" not in out or not match:
        raise Failure(f"{cell_label(nb.name, cells, stopped)}: the stop button did not interrupt training "
                      f"cleanly; the cell printed:\n{out[-800:]}")
    kept = int(match.group(1))
    if any(o["image"] for o in stopped["outputs"]):
        raise Failure(f"{cell_label(nb.name, cells, stopped)}: the training curves drawn during training "
                      "are still shown after the stop button; fit should have removed them")
    # Each finished epoch left one line, and so did the interrupted one.
    lines = progress_lines(stopped)
    if len(lines) != kept + 1 or redraws.most > kept + 1:
        raise Failure(f"{cell_label(nb.name, cells, stopped)}: {max(len(lines), redraws.most)} progress "
                      f"lines for {kept} finished epoch(s) and one interrupted, not one line each:\n"
                      + "\n".join(lines[-5:]))
    checkpoint = os.path.join(env["CNN_RUNS_DIR"], run, "checkpoint.safetensors")
    if not os.path.exists(checkpoint):
        raise Failure(f"{nb.name}: the interrupted run left no checkpoint at {checkpoint}")
    nb.add_cell_and_run(
        "let mut vs = vs;\n"
        f"let resumed = resume(&model, &mut vs, &data, &FitConfig {{ epochs: {kept + 1}, ..long_config.clone() }})?;\n"
        'println!("now {} epochs", resumed.epochs());')
    state = nb.wait_idle(300)
    check_no_errors(nb.name, state)
    out = text_of(cell_with(nb.name, state, "let resumed"))
    if f"resuming run {run} after epoch {kept}" not in out or f"now {kept + 1} epochs" not in out:
        raise Failure(f"{nb.name}: resuming the interrupted run failed; the cell printed:\n{out[-800:]}")
    log(f"502: {redraws.in_place} in-place redraws of the progress line and {redraws.images_in_place} of "
        f"the training curves seen; the stop button interrupted "
        f"a long run after {kept} epoch(s) with one line each; resume continued it to {kept + 1}")

    # Outside training the stop button ends the cell's process, as evcxr does: the kernel
    # lives on (no "kernel died" dialog), its variables are gone, and the next cell runs.
    # Press stop only once the cell runs: pressed while evcxr still compiles it, the stop
    # button is not for this cell, which then sleeps its 600 s (a CI run failed so).
    nb.add_cell_and_run('println!("sleeping now"); std::thread::sleep(std::time::Duration::from_secs(600));')
    nb.wait_for_output("sleeping now", 120)
    time.sleep(1)
    nb.interrupt()
    try:
        nb.wait_idle(60)
    except Failure:
        # The signal masks show why (a server started in the background once passed its
        # ignored SIGINT down to the cells' process; the launcher now restores it).
        raise Failure(f"{nb.name}: the stop button left a sleeping cell running for 60 s. The "
                      f"kernel's processes:\n{kernel_processes()}") from None
    nb.add_cell_and_run('println!("alive after the stop button: {}", 40 + 2);')
    state = nb.wait_idle(120)
    out = text_of(cell_with(nb.name, state, "alive after the stop button"))
    if "alive after the stop button: 42" not in out or state["status"] != "idle":
        raise Failure(f"{nb.name}: after stopping a sleeping cell the kernel did not run the next cell "
                      f"(kernel {state['status']}; it printed {out!r})")
    log("502: the stop button ended a sleeping cell; the kernel lived on and ran the next cell")


def kernel_processes():
    """The kernel launchers, evcxr_jupyter processes and their cells' runtimes, one line each
    with parent, state and the signal masks from /proc (blocked, ignored, caught)."""
    lines = []
    for entry in sorted(os.listdir("/proc"), key=lambda e: (len(e), e)):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            with open(f"/proc/{entry}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if "evcxr_jupyter" not in command and "kernel_launcher" not in command:
            continue
        fields = {k: status.get(k, "?").strip() for k in ("PPid", "State", "SigBlk", "SigIgn", "SigCgt")}
        lines.append(f"  pid {entry} {' '.join(f'{k} {v}' for k, v in fields.items())}: {command[:120]}")
    return "\n".join(lines) or "  (none found)"


def check_images(nb, state, sources):
    """The code cells whose source contains each of `sources` show their figure as an
    image in the page."""
    for source in sources:
        cell = cell_with(nb.name, state, source)
        if not cell["images"]:
            raise Failure(f"{cell_label(nb.name, nb.code_cells(state), cell)}: its figure is not an image in the page")


def test_basics(page):
    """Notebook 500: Run All, and its figures (the convolution by hand, pooling beside FMP,
    HOG) are images."""
    nb = Notebook(page, "500_convolutions.ipynb")
    nb.open()
    state, first = nb.run_all(timeout=600)
    check_images(nb, state, ["conv_figure.clone()", "pooling_figure.clone()", "hog_figure.clone()"])
    log(f"500: all {len(nb.code_cells(state))} code cells ran; 3 figures shown; first cells {seconds(first)}")
    return nb, first


def test_lenet(page):
    nb = Notebook(page, "503_lenet_mnist.ipynb")
    nb.open()
    state, first = nb.run_all(timeout=900)
    check_images(nb, state, ["plot::filters(", "plot::feature_maps("])
    log(f"503: all {len(nb.code_cells(state))} code cells ran; C1's filters and the C1/C3 maps shown; "
        f"first cells {seconds(first)}")
    return nb, first


def test_tensorboard(env, page):
    """`make tensorboard` serves the runs the notebooks wrote, and its page shows them."""
    port_socket = socket.socket()
    port_socket.bind(("127.0.0.1", 0))
    port = port_socket.getsockname()[1]
    port_socket.close()
    log_path = os.path.join(OUT, "tensorboard.log")
    with open(log_path, "w") as log_file:
        board = subprocess.Popen(["make", "-s", "tensorboard", f"ARGS=--host 127.0.0.1 --port {port}"],
                                 cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    try:
        runs = None
        for _ in range(120):
            if board.poll() is not None:
                raise Failure(f"make tensorboard exited with status {board.returncode}; see {log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=5) as r:
                    runs = json.load(r)
                if "502-fmp" in runs:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        if not runs or "502-fmp" not in runs:
            raise Failure(f"make tensorboard does not list the run 502-fmp (it lists {runs}); see {log_path}")
        page.goto(f"http://127.0.0.1:{port}/")
        page.get_by_text("502-fmp").first.wait_for()
        page.screenshot(path=os.path.join(OUT, "tensorboard.png"))
        log(f"make tensorboard lists the notebooks' runs: {', '.join(sorted(runs))}")
    finally:
        try:
            os.killpg(board.pid, signal.SIGTERM)
            board.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(board.pid, signal.SIGKILL)


def main():
    chromium = find_chromium()
    if not chromium:
        print("E2E SKIPPED: no Chromium on this machine (Debian: apt-get install chromium; "
              "make test installs it when run as root)", flush=True)
        print("e2e: 0 passed, 0 failed, 1 skipped")
        return SKIPPED
    try:
        from playwright.sync_api import Error as BrowserError
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("e2e: playwright is missing from .venv; run make setup (it is in requirements.txt)",
              file=sys.stderr)
        return 1
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.remove(os.path.join(OUT, old))
    originals = {os.path.join(folder, n): open(os.path.join(REPO, folder, n), "rb").read()
                 for folder in ("notebooks", "solutions") for n in os.listdir(os.path.join(REPO, folder))
                 if n.endswith(".ipynb")}
    scratch = tempfile.mkdtemp(prefix="cnn-e2e.")
    env = scratch_environment(scratch)
    started = time.time()
    lab = None
    status = 0
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            log(f"Chromium {browser.version}")
            try:
                # The students' notebooks, as `make lab` opens them.
                lab = Lab(env, os.path.join(OUT, "jupyterlab-notebooks.log"))
                with lab.page(browser) as page:
                    nb, _ = test_setup_check(page)
                    test_error_shows_its_cause(nb, scratch)
                    test_student_fills_a_gap(page)
                lab.stop()
                # The teachers' solutions, which run end to end.
                lab = Lab(env, os.path.join(OUT, "jupyterlab-solutions.log"), folder="solutions")
                with lab.page(browser) as page:
                    first_times = []
                    open_notebooks = []
                    for test in (lambda: test_basics(page),
                                 lambda: test_run_all_stops_at_an_error(page, env),
                                 lambda: test_fmp_mnist(page, env),
                                 lambda: test_lenet(page)):
                        nb, t = test()
                        open_notebooks.append(nb)
                        first_times.append(t)
                        check_not_recompiled(nb.name, started)
                        if nb.name.startswith("502"):
                            test_interrupt_and_resume(nb, env)
                    log("first two cells, four notebooks open at once: "
                        + "; ".join(f"{n.name[:3]} {seconds(t)}" for n, t in zip(open_notebooks, first_times)))
                    slowest = max(sum(t) for t in first_times)
                    if slowest > FIRST_CELLS_LIMIT:
                        raise Failure(f"a notebook's first two cells took {slowest:.0f} s: its build cache was cold")
                test_tensorboard(env, browser.new_page(viewport={"width": 1400, "height": 1000}))
            finally:
                browser.close()
        log("passed")
    except (Failure, BrowserError) as failure:
        print(f"\ne2e FAILED: {failure}\n(screenshots and JupyterLab's log are in {os.path.relpath(OUT, REPO)}/)",
              file=sys.stderr, flush=True)
        status = 1
    finally:
        if lab:
            lab.stop()
        for name, text in originals.items():
            path = os.path.join(REPO, name)
            if open(path, "rb").read() != text:
                with open(path, "wb") as f:
                    f.write(text)
                print(f"e2e FAILED: JupyterLab wrote into {name}; restored it", file=sys.stderr)
                status = 1
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"e2e: {1 - status} passed, {status} failed")
    return status


if __name__ == "__main__":
    sys.exit(main())
