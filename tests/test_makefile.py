"""The README's first command, `make lab`, opens the course for any user, root included."""
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAMP = ".venv/.gancourse-installed"


def _dry_run(*variables: str) -> str:
    # -o STAMP: take the environment as set up (the test runs inside it); -n: print, don't run
    result = subprocess.run(["make", "-n", "-o", STAMP, "lab", *variables], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    return result.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_allows_root_only_for_root():
    assert "jupyter lab notebooks/ --allow-root" in _dry_run("USER_ID=0")
    assert "--allow-root" not in _dry_run("USER_ID=1000")
    assert ("--allow-root" in _dry_run()) == (os.getuid() == 0)  # this machine's own user


@pytest.mark.skipif(shutil.which("make") is None or not (ROOT / ".venv/bin/jupyter").exists(),
                    reason="needs make and the course's .venv")
def test_make_lab_really_starts_jupyterlab_for_this_user(tmp_path):
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path), BROWSER="true")  # no browser window
    process = subprocess.Popen(
        ["make", "-o", STAMP, "lab", "LAB_ARGS=--no-browser --port=0 --ServerApp.token=test"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "is running at" in line or "Use Control-C to stop this server" in line:
                break
        log = "".join(lines)
        assert "is running at" in log or "Control-C" in log, log[-2000:]
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
