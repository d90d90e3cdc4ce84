"""`notebooks/explore_toy.ipynb` in a real browser: JupyterLab on localhost, headless Debian
Chromium driven by Playwright (no browser download), all cells run, the λ slider moved by
keyboard, the samples figure checked from the DOM, a screenshot kept as an artifact.

Skipped unless `/usr/bin/chromium` (Debian's `chromium`), the `playwright` package and
`anywidget` (plotly's FigureWidget) are installed. Run it alone with `pytest -m browser`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("needs Debian's chromium at /usr/bin/chromium", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("anywidget")

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[3]
NOTEBOOK = REPO / "notebooks" / "explore_toy.ipynb"
ARTIFACT = REPO / "runs" / "artifacts" / "explore_toy.png"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
BUDGET = {"algorithm": "dsdpg_mmd", "n_updates": 100, "batch_size": 32, "n_truth": 64,
          "grid": 8}
"""Injected after the parameters cell: about 1 s per exploration."""
TITLE = ".dvg-samples .gtitle"
NO_NEWS_PROMPT = ("@jupyterlab/apputils-extension", "notification.jupyterlab-settings",
                  '{"fetchNews": "false"}')
"""A user setting that answers JupyterLab's news prompt (a toast over the figures) with never."""


def _notebook_copy(root: Path) -> None:
    """The notebook with a cell after its parameters that sets the small `BUDGET`."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    source = "\n".join(f"{key} = {value!r}" for key, value in BUDGET.items())
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    nbformat.write(nb, root / NOTEBOOK.name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2).close()
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"jupyter lab did not answer at {url} within {timeout_s} s")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """JupyterLab serving a temp dir with the notebook: token-free, localhost only, offline, its
    config, runtime, settings and workspaces under `tmp_path`. Yields the base URL."""
    root = tmp_path / "root"
    root.mkdir()
    _notebook_copy(root)
    package, name, value = NO_NEWS_PROMPT
    (tmp_path / "settings" / package).mkdir(parents=True)
    (tmp_path / "settings" / package / name).write_text(value)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "IPYTHONDIR": str(tmp_path / "ipy"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"), "OMP_NUM_THREADS": "1"}
    offline = ["--LabApp.news_url=None",  # no news prompt, and nothing fetched from outside
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    port = _free_port()
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--port={port}", "--IdentityProvider.token=", "--ServerApp.password=",
               f"--ServerApp.root_dir={root}", f"--LabApp.workspaces_dir={tmp_path / 'ws'}",
               *offline]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, timeout_s=60)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its kernels: our own session
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _wait_for_connected_idle_kernel(url: str, timeout_s: float) -> None:
    """Until the server has a kernel that the page is connected to and that is idle (the
    toolbar's idle indicator alone can show before the kernel is connected, and a Run All sent
    then is lost)."""
    deadline, last = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        try:  # the kernels API can answer 500 while a kernel is starting
            with urllib.request.urlopen(f"{url}/api/kernels", timeout=5) as response:
                kernels = json.load(response)
        except OSError as error:
            kernels, last = [], error
        if any(k["execution_state"] == "idle" and k["connections"] > 0 for k in kernels):
            return
        time.sleep(0.3)
    raise TimeoutError(f"no connected idle kernel within {timeout_s} s (last error: {last})")


def _title_changes_from(page, before: str, timeout_ms: int) -> str:
    page.wait_for_function(
        "([sel, before]) => { const e = document.querySelector(sel);"
        " return e !== null && e.textContent !== before; }",
        arg=[TITLE, before], timeout=timeout_ms)
    return page.locator(TITLE).text_content()


def test_moving_the_lambda_slider_retrains_and_redraws_the_samples_figure(lab, tmp_path):
    start = time.monotonic()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1800})
        try:
            page.goto(f"{lab}/lab/tree/{NOTEBOOK.name}")
            _wait_for_connected_idle_kernel(lab, timeout_s=90)
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=30_000)
            # Run > Run All Cells, as a person would.
            page.locator(".jp-Notebook").click()
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            page.locator(TITLE).wait_for(timeout=120_000)
            before = page.locator(TITLE).text_content()
            assert "λ=1," in before and "joint MMD² to truth:" in before

            handle = page.locator(".dvg-lam .noUi-handle")
            handle.scroll_into_view_if_needed()
            handle.focus()
            page.keyboard.press("ArrowRight")  # one step of 0.1, then a retrain on release
            after = _title_changes_from(page, before, timeout_ms=60_000)
            assert "λ=1.1," in after and after.split("truth:")[1] != before.split("truth:")[1]
            assert page.locator(".dvg-lam .widget-readout").text_content().strip() == "1.10"
            page.locator(".dvg-status").wait_for()
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                                   timeout=30_000)

            page.locator(".dvg-algorithm").evaluate("e => e.scrollIntoView({block: 'start'})")
            shot = tmp_path / "explore_toy.png"
            page.screenshot(path=str(shot))
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            print(f"failure screenshot: {tmp_path / 'failure.png'}; JupyterLab's log ends:")
            print("\n".join((tmp_path / "lab.log").read_text().splitlines()[-40:]))
            raise
        browser.close()
    print(f"screenshot: {shot}; browser test took {time.monotonic() - start:.1f} s")
    try:
        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, ARTIFACT)
        print(f"copied to {ARTIFACT}")
    except OSError as error:
        print(f"screenshot not copied to {ARTIFACT}: {error}")
