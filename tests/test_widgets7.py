"""The viewers with ipywidgets 7.7.1, the version Colab ships: the widget tests of test_viz.py run
again in a subprocess whose import path puts ipywidgets 7.7.1 first. `make test` installs it into
.venv/widgets7 (pip --target, no dependencies); skipped when that folder is missing, unless
GANCOURSE_REQUIRE_BROWSER=1 (CI)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WIDGETS7 = Path(sys.prefix) / "widgets7"


def test_viewers_work_with_ipywidgets_7_7_1():
    if not (WIDGETS7 / "ipywidgets").exists():
        if os.environ.get("GANCOURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"ipywidgets 7.7.1 is not installed in {WIDGETS7} (make setup installs it)")
        pytest.skip(f"ipywidgets 7.7.1 is not installed in {WIDGETS7}")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(WIDGETS7), os.environ.get("PYTHONPATH", "")]))
    version = subprocess.run([sys.executable, "-c", "import ipywidgets; print(ipywidgets.__version__)"],
                             env=env, capture_output=True, text=True, cwd=ROOT)
    assert version.stdout.strip() == "7.7.1", version.stderr[-2000:]
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W",
                             "ignore::DeprecationWarning", "tests/test_viz.py"],
                            env=env, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
