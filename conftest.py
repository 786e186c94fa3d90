"""pytest configuration shared by the unit tests and the notebook runs (nbval).

- Notebook failures read as plain text, without ANSI colour codes: kernels started by nbval get
  an IPython profile with colours off (docs/design.md, Tools), and nbval's own headers are uncoloured
  (nbval colours them unless pytest's --color is "no").
- The summary ends with one line per notebook: its cells' total run time.
"""
from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest

_notebook_seconds: dict[str, float] = defaultdict(float)
_notebook_failed: set[str] = set()
_report_lines: list[str] = []


@pytest.fixture
def report_line():
    """Tests call report_line("...") to add a line to the summary (e.g. browser run times)."""
    return _report_lines.append


def pytest_configure(config):
    ipython_dir = Path(tempfile.mkdtemp(prefix="gancourse-ipython-"))
    profile = ipython_dir / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_kernel_config.py").write_text('c.InteractiveShell.colors = "nocolor"\n')
    os.environ["IPYTHONDIR"] = str(ipython_dir)
    config.option.color = "no"  # read by nbval when it builds each cell's report


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration
        if report.failed:
            _notebook_failed.add(path)


def pytest_terminal_summary(terminalreporter):
    if _report_lines:
        terminalreporter.section("measured")
        for line in _report_lines:
            terminalreporter.write_line(line)
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook durations")
    for path, seconds in sorted(_notebook_seconds.items()):
        status = "FAILED" if path in _notebook_failed else "ok"
        terminalreporter.write_line(f"{seconds:8.1f} s  {status:6}  {path}")
