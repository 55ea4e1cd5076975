"""The prompt explorer in a real browser: Debian's Chromium, driven by Playwright (from pip; never
``playwright install``), against Voilà on 127.0.0.1 serving a small notebook that builds the explorer on tiny
models, so the page is ready in seconds.

What a user does: type a prompt, click Generate, read the output; type a script payload (and get one back from a
model that writes one) and see it as text, with no dialog and no injected element; cancel a slow generation and
get control back; enter a bad setting and read a message instead of a traceback. Screenshots go to a tmp folder
(and ``reports/screenshots/explorer.png`` when ``reports/`` exists).

Skipped, with the reason, where Chromium or Playwright is missing; ``.ci/run`` installs both, so CI runs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("GENLAB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-default-apps", "--disable-extensions", "--mute-audio"]
PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)> javascript:alert(3)"



def _missing(reason: str) -> None:
    """Skip on a developer's machine; in CI (``CI`` set, as .ci/run runs) a missing browser stack is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {reason} (.ci/run installs them)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


try:
    import playwright.sync_api as playwright_sync
except ImportError:
    _missing("playwright is not installed (pip install -e '.[dev]'; never `playwright install`)")
try:
    import voila  # noqa: F401
except ImportError:
    _missing("voila is not installed (pip install -e '.[dev]')")
if not Path(CHROMIUM).exists():
    _missing(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium, or set GENLAB_CHROMIUM)")

# The notebook Voilà serves: three tiny models, one of which always "writes" PAYLOAD and one that is slow.
SETUP = f"""
import time
import torch
from genlab.models.tiny import tiny_bundle
from genlab.widgets.explorer import PromptExplorer

PAYLOAD = {PAYLOAD!r}
tiny = tiny_bundle()
parrot = tiny_bundle(texts=[PAYLOAD, "the cat sat on the mat."], seed=1)
payload_ids = torch.tensor([parrot.tokenizer(PAYLOAD, add_special_tokens=False)["input_ids"]])

class Parrot(type(parrot.model)):
    def generate(self, input_ids=None, attention_mask=None, **kwargs):   # a model whose output is a script
        return torch.cat([input_ids, payload_ids.repeat(input_ids.shape[0], 1)], dim=1)

parrot.model.__class__ = Parrot
slow = tiny_bundle(seed=2)
slow.model.register_forward_pre_hook(lambda module, args: time.sleep(0.25))   # 40 tokens: about 10 s
explorer = PromptExplorer({{"tiny": tiny, "parrot": parrot, "slow": slow}}, prompt="the cat", model_b="tiny",
                          settings_b="nucleus0.95", max_new_tokens=12, export_dir=".")
"""


def _notebook(path: Path) -> None:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# Prompt explorer (browser test)"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": SETUP.strip()},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": "explorer"},
    ]
    nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}
    path.write_text(json.dumps(nb), encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory):
    """Voilà serving the test notebook on 127.0.0.1; its log is shown if it fails to start."""
    folder = tmp_path_factory.mktemp("voila")
    _notebook(folder / "explorer.ipynb")
    port = _free_port()
    log = open(folder / "voila.log", "w")  # noqa: SIM115 (closed below)
    env = dict(os.environ, TQDM_DISABLE="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", "explorer.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
         "--show_tracebacks=True"],
        cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"voila did not start:\n{(folder / 'voila.log').read_text()}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def page(voila_url, shots):
    """One page of the explorer, shared by the tests below in file order (each sets the controls it needs)."""
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.set_default_timeout(60_000)
        page.goto(voila_url)
        page.locator(".genlab-prompt textarea").wait_for()  # the kernel ran the notebook: widgets are up
        page.set_default_timeout(20_000)
        yield page
        page.screenshot(path=str(shots / "explorer_last.png"), full_page=True)
        browser.close()


def _set_number(page, css: str, value: int | float) -> None:
    box = page.locator(f"{css} input")
    box.fill(str(value))
    box.press("Tab")  # number boxes send their value when they lose focus


def _set_up(page, prompt: str, model_a: str, compare_b: bool, max_new_tokens: int = 12) -> None:
    """Prompt, A greedy on ``model_a``, B as it is (nucleus sampling) if compared, the number of new tokens."""
    page.locator(".genlab-a-model select").select_option(model_a)
    for css, on in ((".genlab-a-sample", False), (".genlab-b-compare", compare_b)):
        box = page.locator(f"{css} input[type=checkbox]")
        if box.is_checked() != on:
            box.click()
    _set_number(page, ".genlab-max-new-tokens", max_new_tokens)
    page.locator(".genlab-prompt textarea").fill(prompt)


def _generate(page, prompt: str, model_a: str, compare_b: bool) -> None:
    """Set up, click Generate, wait for this run's status line."""
    _set_up(page, prompt, model_a, compare_b)
    before = page.locator(".genlab-status").inner_text()
    page.locator("button.genlab-generate").click()
    page.wait_for_function(  # the status moves on to this run's "run N: ..." line
        "([before]) => { const s = document.querySelector('.genlab-status').innerText;"
        " return s !== before && /^(run \\d+|cancelled)/.test(s.trim()); }",
        arg=[before],
    )


def _keep(page, shots: Path, name: str) -> Path:
    path = shots / name
    # Voilà scrolls inside the page, so a full-page shot stops at the viewport: make the viewport as tall as the
    # widget, let plotly redraw, shoot the widget, and put the viewport back.
    explorer = page.locator(".genlab-explorer")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": int(explorer.bounding_box()["height"]) + 200})
    page.wait_for_timeout(300)
    explorer.screenshot(path=str(path))
    page.set_viewport_size(size)
    reports = ROOT / "reports"
    if name == "explorer.png" and reports.is_dir():
        (reports / "screenshots").mkdir(exist_ok=True)
        shutil.copy(path, reports / "screenshots" / "explorer.png")
    return path


def test_generate_shows_outputs_side_by_side(page, shots):
    _generate(page, "the cat", "tiny", compare_b=True)
    panels = page.locator(".genlab-outputs-area .genlab-panel")
    assert panels.count() == 2
    assert "A · tiny" in panels.nth(0).inner_text() and "greedy" in panels.nth(0).inner_text()
    assert "sample top-p=0.95" in panels.nth(1).inner_text()
    assert page.locator(".genlab-outputs-area .genlab-prompt-text").first.inner_text() == "the cat"
    assert page.locator(".genlab-outputs-area .genlab-badge").count() >= 10  # 5 badges per output
    page.locator(".genlab-token-plot .js-plotly-plot").wait_for()  # the per-token figure rendered
    assert page.locator(".genlab-tokens-area .genlab-token").count() >= 1
    assert re.match(r"run \d+: 2 output\(s\)", page.locator(".genlab-status").inner_text())
    assert "greedy" in page.locator(".genlab-history-area").inner_text()
    _keep(page, shots, "explorer.png")


def test_script_payloads_are_shown_as_text_and_never_run(page, shots):
    _generate(page, PAYLOAD, "parrot", compare_b=False)  # the prompt and the model's output are both PAYLOAD
    outputs = page.locator(".genlab-outputs-area")
    assert page.locator(".genlab-outputs-area .genlab-prompt-text").first.inner_text() == PAYLOAD
    assert PAYLOAD in page.locator(".genlab-outputs-area .genlab-continuation").first.inner_text()
    assert outputs.locator("script, img, a").count() == 0
    assert page.locator(".genlab-tokens-area img, .genlab-history-area img, .genlab-history-area script").count() == 0
    assert "<script>" in page.locator(".genlab-history-area").inner_text()
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert page.dialogs == []
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    _keep(page, shots, "explorer_payload.png")


def test_cancel_stops_a_slow_generation_and_the_page_stays_responsive(page, shots):
    _set_up(page, "the cat", "slow", compare_b=False, max_new_tokens=40)  # 40 tokens at 0.25 s: about 10 s
    page.locator("button.genlab-generate").click()
    page.wait_for_function("/generating… [1-9]/.test(document.querySelector('.genlab-status').innerText)")
    assert page.locator("button.genlab-generate").is_disabled()
    clicked = time.monotonic()
    page.locator("button.genlab-cancel").click()
    page.wait_for_function("/cancelled/.test(document.querySelector('.genlab-status').innerText)", timeout=5_000)
    assert time.monotonic() - clicked < 5
    # the status, the message and the buttons are separate widget updates: wait for each, do not race them
    page.wait_for_function("/Cancelled/.test(document.querySelector('.genlab-message-area').innerText)",
                           timeout=5_000)
    page.wait_for_function("!document.querySelector('button.genlab-generate').disabled", timeout=5_000)
    _keep(page, shots, "explorer_cancelled.png")


def test_bad_settings_show_a_message_not_a_traceback(page, shots):
    page.locator(".genlab-a-model select").select_option("tiny")
    sample = page.locator(".genlab-a-sample input[type=checkbox]")
    if not sample.is_checked():
        sample.click()
    _set_number(page, ".genlab-a-temperature", 0)
    page.locator(".genlab-prompt textarea").fill("")
    page.locator("button.genlab-generate").click()
    message = page.locator(".genlab-message-area .genlab-error")
    message.wait_for()
    text = message.inner_text()
    assert "temperature must be greater than 0" in text and "The prompt is empty" in text
    assert "Traceback" not in page.locator("body").inner_text()
    _keep(page, shots, "explorer_error.png")


def test_export_writes_csv_and_offers_a_download(page):
    page.locator("button.genlab-save-csv").click()
    note = page.locator(".genlab-export-note")
    note.locator("a[download='explorer_history.csv']").wait_for()
    assert "explorer_history.csv" in note.inner_text()
    href = note.locator("a").first.get_attribute("href")
    assert href.startswith("data:text/csv;charset=utf-8;base64,")


def _report_notebook(path: Path) -> None:
    """A small series notebook with two figures, one with a script payload in its title and hover text."""
    def cell(kind: str, source: str, tags: tuple[str, ...] = ()) -> dict:
        c = {"cell_type": kind, "metadata": {"tags": list(tags)} if tags else {}, "source": source}
        return c | ({"outputs": [], "execution_count": None} if kind == "code" else {})

    cells = [
        cell("markdown", "# 08 · Figures in a browser\nTwo plotly figures the report must draw offline."),
        cell("code", "N = 3", ("parameters",)),
        cell("code", "import plotly.graph_objects as go\nimport pandas as pd\nfrom genlab.report import record\n"
                     "record('loss', go.Figure(go.Scatter(x=[1, 2, 3], y=[1, N, 2], "
                     "text=['<script>alert(1)</script>'] * 3))"
                     ".update_layout(title='Loss <img src=x onerror=alert(2)> by step'))"),
        cell("code", "record('second', go.Figure(go.Bar(x=['a', 'b'], y=[2, 1]))"
                     ".update_layout(title={'text': 'Second figure'}))"),
        cell("markdown", "## A table\nMath stays text offline: $x^2$."),
        cell("code", "record('table', pd.DataFrame({'x': [1, 2]}, index=pd.Index(['a', 'b'], name='k')))"),
        cell("markdown", "## Limitations\n- A demo."),
    ]
    nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 4,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}
    path.write_text(json.dumps(nb), encoding="utf-8")


def test_report_figures_render_in_a_browser(page, tmp_path, shots):
    """The report page draws every figure of the notebooks it was built from, offline: no request leaves the file,
    no script payload from a figure runs, and no console error appears."""
    from genlab.report import build

    source = tmp_path / "08_figures.ipynb"
    _report_notebook(source)
    report = build.build_report(build.run_series([source]), tmp_path / "out")
    html_path = Path(report.html_path)
    expected = build.expected_figure_titles(tmp_path / "out" / "results.json")
    assert len(expected) == 2
    # a second tab of the module's browser (one Playwright instance per thread)
    tab = page.context.browser.new_page(viewport={"width": 1280, "height": 900})
    requests, errors, dialogs = [], [], []
    tab.on("request", lambda r: requests.append(r.url))
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        tab.goto(html_path.resolve().as_uri())
        tab.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {len(expected)}",
                              timeout=30_000)
        drawn = tab.locator(".js-plotly-plot").count()
        titles = tab.eval_on_selector_all(".js-plotly-plot .gtitle", "els => els.map(e => e.textContent)")
        tab.screenshot(path=str(shots / "report.png"), full_page=True)
    finally:
        tab.close()
    assert drawn == len(expected)
    assert any("Second figure" in t for t in titles) and any("<img src=x" in t for t in titles)  # shown as text
    assert not dialogs and not errors
    assert all(url.startswith(("file:", "data:", "blob:", "about:")) for url in requests), requests


def test_report_and_notebook_pages_render_with_the_network_blocked(page, tmp_path, shots):
    """``series report`` pages (report.html and a per-notebook page) open in a browser that may not reach any
    other machine: every request that is not to the file itself is refused, and none is even attempted; the
    figures are drawn (plotly's SVG is there) and the recorded table is shown."""
    from genlab.report import series

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _report_notebook(nbs / "08_figures.ipynb")
    assert series.main(["report", "--dir", str(nbs), "--out", str(tmp_path / "out"), "-p", "N=4"]) == 0
    attempted = []

    def block(route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            attempted.append(url)
            route.abort()

    # a second context of the module's browser (one Playwright instance per thread), offline and with every
    # request to another machine refused
    context = page.context.browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
    context.route("**/*", block)
    try:
        for name in ("report.html", "08_figures.html"):
            tab = context.new_page()
            errors = []
            tab.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            tab.goto((tmp_path / "out" / name).resolve().as_uri())
            tab.wait_for_function("document.querySelectorAll('.js-plotly-plot svg.main-svg').length >= 2",
                                  timeout=30_000)
            titles = tab.eval_on_selector_all(".js-plotly-plot .gtitle", "els => els.map(e => e.textContent)")
            assert any("Second figure" in t for t in titles), (name, titles)
            assert tab.locator("table.dataframe").count() >= 1, name
            assert not errors, (name, errors)
            tab.screenshot(path=str(shots / name.replace(".html", ".png")), full_page=True)
            tab.close()
    finally:
        context.close()
    assert attempted == [], f"requests left the machine: {attempted}"

