"""End to end, in a real browser: JupyterLab started from this environment, driven by Debian's
Chromium through Playwright (no browser download). For every lesson notebook in quick mode: run
all cells, wait for the kernel, assert there is no error output, move every viewer's slider and
press its buttons and assert its image changed, save screenshots under test-output/browser/.
For an exercise notebook: the first failing check shows a readable message.

Skipped when Chromium or Playwright is missing, unless GANCOURSE_REQUIRE_BROWSER=1 (CI sets it).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "test-output" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REQUIRED = os.environ.get("GANCOURSE_REQUIRE_BROWSER") == "1"
PANEL = "#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on show


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a free loopback port with a random token; yields its base URL."""
    reason = _missing()
    if reason:
        if REQUIRED:
            pytest.fail(f"GANCOURSE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    home = tmp_path_factory.mktemp("lab")
    # Serve a copy: running cells in the browser must never write outputs into the repository.
    course = home / "course"
    for folder in ("notebooks", "exercises"):
        shutil.copytree(ROOT / folder, course / folder)
    settings = home / "settings"
    for rel, value in {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                            "checkForUpdates": False},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    }.items():
        path = settings / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               GANCOURSE_QUICK=os.environ.get("GANCOURSE_QUICK", "1"))  # GANCOURSE_QUICK=0: full-mode screenshots
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={course}", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    OUT.mkdir(parents=True, exist_ok=True)
    log = open(OUT / "jupyterlab.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited early; see {OUT / 'jupyterlab.log'}")
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 2 minutes")
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


def _open_and_run(browser, lab, relative: str, timeout_s: float = 300):
    """Open a notebook, run all cells, wait until the kernel is idle; return (page, seconds)."""
    url, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/lab/tree/{relative}?reset&token={token}")  # reset: no notebooks restored
    page.wait_for_selector(f"{PANEL} .jp-Notebook", timeout=120_000)
    page.wait_for_selector("#jp-main-statusbar >> text=Idle", timeout=120_000)
    start = time.perf_counter()
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # The kernel reports Busy quickly; then wait until it is idle and no cell is queued ([*]).
    page.wait_for_timeout(1000)
    page.wait_for_function(
        "() => document.querySelector('#jp-main-statusbar')?.innerText.includes('Idle') && "
        f"![...document.querySelectorAll('{PANEL} .jp-CodeCell .jp-InputPrompt')].some(e => e.textContent.includes('*'))",
        timeout=int(timeout_s * 1000), polling=500)
    return page, time.perf_counter() - start


def _errors(page) -> list[str]:
    """'cell N: first lines' for every error output (tracebacks), by code-cell position."""
    return page.evaluate("""(panel) => {
        const cells = [...document.querySelectorAll(panel + ' .jp-Notebook .jp-Cell')];
        const out = [];
        cells.forEach((cell, i) => {
            cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
                .forEach(o => { if (/Error|Traceback/.test(o.innerText)) out.push(`cell ${i + 1}: ` + o.innerText.slice(0, 800)); });
        });
        return out;
    }""", PANEL)


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda p: p.name)
def test_lesson_runs_in_jupyterlab_and_its_viewers_respond(browser, lab, notebook, report_line):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    relative = f"notebooks/{notebook.name}"
    full = os.environ.get("GANCOURSE_QUICK", "1") in ("", "0")
    page, seconds = _open_and_run(browser, lab, relative, timeout_s=1200 if full else 300)
    try:
        errors = _errors(page)
        assert not errors, f"{relative}: error output in the browser:\n" + "\n".join(errors)
        prompts = page.locator(f"{PANEL} .jp-CodeCell .jp-InputPrompt").all_inner_texts()
        unrun = [i + 1 for i, text in enumerate(prompts) if not any(ch.isdigit() for ch in text)]
        assert not unrun, f"{relative}: code cells {unrun} did not run"
        viewers = page.locator(f"{PANEL} .jp-OutputArea-output .widget-vbox:has(.widget-slider):has(img)")
        count = viewers.count()
        for k in range(count):
            viewer = viewers.nth(k)
            viewer.scroll_into_view_if_needed()
            image = viewer.locator("img").first
            before = image.get_attribute("src")
            handle = viewer.locator(".widget-slider .noUi-handle, .widget-slider .ui-slider-handle").first
            moved = False
            for key in ("Home", "End"):  # one of the two ends differs from where the slider starts
                handle.focus()
                page.keyboard.press(key)
                try:
                    page.wait_for_function("([img, src]) => img.getAttribute('src') !== src",
                                           arg=[image.element_handle(), before], timeout=15_000)
                    moved = True
                    break
                except PlaywrightTimeout:
                    continue
            assert moved, f"{relative}: viewer {k + 1}'s image did not change when its slider moved"
            for button in viewer.locator("button.jupyter-button:not(.widget-play *)").all():
                src = image.get_attribute("src")
                button.click()
                page.wait_for_function("([img, s]) => img.getAttribute('src') !== s",
                                       arg=[image.element_handle(), src], timeout=30_000)
            handle.focus()
            page.keyboard.press("End")  # the last step (trained) for the screenshot
            page.wait_for_timeout(500)
            viewer.screenshot(path=str(OUT / f"{notebook.stem}-viewer{k + 1}.png"))
        page.screenshot(path=str(OUT / f"{notebook.stem}.png"))
        report_line(f"{relative}: all cells in {seconds:.1f} s in the browser, {count} viewer(s) moved")
    finally:
        page.close()


def test_exercise_notebook_shows_a_readable_failure(browser, lab, report_line):
    relative = "exercises/01_minimax_objective.ipynb"
    page, seconds = _open_and_run(browser, lab, relative, timeout_s=120)
    try:
        errors = _errors(page)
        assert errors, f"{relative}: expected the first check to fail as shipped"
        first = errors[0]
        assert "Exercise 'value_estimate' is not done yet" in first, first
        assert "AssertionError" in first and "\x1b[" not in first
        page.locator(f"{PANEL} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").first.screenshot(
            path=str(OUT / "exercise-failure.png"))
        message = next(line for line in first.splitlines() if line.startswith("AssertionError:"))
        report_line(f"{relative}: first failure shown in {seconds:.1f} s: {message[:90]}")
    finally:
        page.close()
