"""Where the course is published: the one place that defines the repository, the release tag
that Colab installs, and the setup cell every notebook starts with.

    python -m gancourse.release      # rewrite every notebook's setup cell and Colab badge from here

A test checks that every notebook's first code cell is exactly :func:`setup_cell` and that every
notebook's first markdown cell carries its own :func:`colab_badge`.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from gancourse import __version__
from gancourse.files import atomic_write_text

#: GitHub repository of the course (owner/name). Change it here when the course moves.
REPOSITORY = "gancourse/gancourse"
#: The release Colab installs: a tag, never a branch, so a notebook keeps working as main moves.
TAG = f"v{__version__}"
#: The branch the "Open in Colab" badges open.
BRANCH = "main"

FOLDERS = ("notebooks", "solutions", "exercises")


def install_requirement() -> str:
    """The pip requirement Colab installs: the package at the pinned tag."""
    return f"gancourse @ git+https://github.com/{REPOSITORY}@{TAG}"


def setup_cell() -> str:
    """The first code cell of every notebook. In Colab, when the package is missing, it installs the
    pinned release; Colab's torch and ipywidgets 7.7.1 already satisfy the package's ranges, so pip
    upgrades neither. Everywhere, it seeds, picks the device and prints the environment line."""
    return (
        "# Setup: in Colab, install the course package; then seed, pick the device, print versions.\n"
        "import importlib.util, sys\n"
        'if "google.colab" in sys.modules and importlib.util.find_spec("gancourse") is None:\n'
        f'    %pip install -q "{install_requirement()}"\n'
        "\n"
        "from gancourse import runtime\n"
        "device = runtime.setup(seed=0)"
    )


def colab_badge(path: str) -> str:
    """Markdown for an "Open in Colab" badge of the notebook at ``path`` (relative to the repo)."""
    url = f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/{path}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


_BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")


def with_badge(markdown: str, path: str) -> str:
    """``markdown`` (a notebook's first markdown cell) with its badge for ``path``, added after the
    title line when missing, replaced when present."""
    badge = colab_badge(path)
    if _BADGE.search(markdown):
        return _BADGE.sub(lambda _: badge, markdown)
    lines = markdown.split("\n")
    return "\n".join(lines[:1] + ["", badge] + lines[1:])


def update_notebooks(root: Path) -> list[Path]:
    """Rewrite the setup cell and badge of every notebook under ``root``; return those changed."""
    import nbformat

    changed = []
    for folder in FOLDERS:
        for path in sorted((root / folder).glob("*.ipynb")):
            notebook = nbformat.read(path, as_version=4)
            before = nbformat.writes(notebook)
            first_code = next(c for c in notebook.cells if c.cell_type == "code")
            first_code.source = setup_cell()
            first_md = next(c for c in notebook.cells if c.cell_type == "markdown")
            first_md.source = with_badge(first_md.source, f"{folder}/{path.name}")
            if nbformat.writes(notebook) != before:
                atomic_write_text(path, nbformat.writes(notebook) + "\n")
                changed.append(path)
    return changed


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    for path in update_notebooks(root):
        print(f"updated {path}")
