"""Where the course is published: the one place that defines the repository and the release tag
that every Colab badge opens and every setup cell installs.

    python -m gancourse.release --repository OWNER/NAME --tag vX.Y.Z   # publish: settings, badges, setup cells
    python -m gancourse.release                                        # rewrite badges and setup cells from here

Publishing writes the two settings below into this file, then rewrites the setup cell and the
Colab badge of every notebook (notebooks/, solutions/, exercises/) and every badge in README.md;
a second run changes nothing. The README's "Publishing the course" lists the whole step. A test
checks that every notebook's first code cell is exactly :func:`setup_cell`, that its first
markdown cell carries its own :func:`colab_badge`, and that every badge and install line in the
repository follows these settings.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from gancourse import __version__
from gancourse.files import atomic_write_text

#: GitHub repository of the course (owner/name). Change it with `python -m gancourse.release`.
REPOSITORY = "gancourse/gancourse"
#: The release: a tag, never a branch, so a notebook and the package it installs stay a matching
#: pair as main moves on. Badges open the notebooks at this tag; Colab installs the package from it.
TAG = "v0.1.0"

FOLDERS = ("notebooks", "solutions", "exercises")
#: Files outside the notebooks whose badges follow the settings.
DOCUMENTS = ("README.md",)

_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/(?!\.\.?$)[A-Za-z0-9._-]{1,100}")
_TAG = re.compile(r"v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
_BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\(([^)]*)\)")
_BADGE_PATH = re.compile(r"https://colab\.research\.google\.com/github/[^/]+/[^/]+/blob/[^/]+/(.+)")
_SETTING = re.compile(r"^(REPOSITORY|TAG) = .*$", re.M)


def install_requirement(repository: str | None = None, tag: str | None = None) -> str:
    """The pip requirement Colab installs: the package at the pinned tag."""
    return f"gancourse @ git+https://github.com/{repository or REPOSITORY}@{tag or TAG}"


def setup_cell(repository: str | None = None, tag: str | None = None) -> str:
    """The first code cell of every notebook. In Colab, when the package is missing, it installs the
    pinned release; Colab's torch and ipywidgets 7.7.1 already satisfy the package's ranges, so pip
    upgrades neither. Everywhere, it seeds, picks the device and prints the environment line."""
    return (
        "# Setup: in Colab, install the course package; then seed, pick the device, print versions.\n"
        "import importlib.util, sys\n"
        'if "google.colab" in sys.modules and importlib.util.find_spec("gancourse") is None:\n'
        f'    %pip install -q "{install_requirement(repository, tag)}"\n'
        "\n"
        "from gancourse import runtime\n"
        "device = runtime.setup(seed=0)"
    )


def colab_badge(path: str, repository: str | None = None, tag: str | None = None) -> str:
    """Markdown for an "Open in Colab" badge of the notebook at ``path`` (relative to the repo),
    opened at the release tag."""
    url = f"https://colab.research.google.com/github/{repository or REPOSITORY}/blob/{tag or TAG}/{path}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def with_badge(markdown: str, path: str, repository: str | None = None, tag: str | None = None) -> str:
    """``markdown`` (a notebook's first markdown cell) with its badge for ``path``, added after the
    title line when missing, replaced when present."""
    badge = colab_badge(path, repository, tag)
    if _BADGE.search(markdown):
        return _BADGE.sub(lambda _: badge, markdown)
    lines = markdown.split("\n")
    return "\n".join(lines[:1] + ["", badge] + lines[1:])


def with_badges(text: str, repository: str | None = None, tag: str | None = None) -> str:
    """``text`` (a document such as README.md) with each Colab badge pointed at the settings,
    keeping the notebook path each one opens."""
    def rewrite(match):
        found = _BADGE_PATH.fullmatch(match.group(1))
        return colab_badge(found.group(1), repository, tag) if found else match.group(0)
    return _BADGE.sub(rewrite, text)


def check_settings(repository: str, tag: str) -> None:
    """A ValueError of one line unless ``repository`` is OWNER/NAME and ``tag`` is vX.Y.Z."""
    if not _REPOSITORY.fullmatch(repository):
        raise ValueError(f"--repository must be a GitHub OWNER/NAME such as gancourse/gancourse, not {repository!r}")
    if not _TAG.fullmatch(tag):
        raise ValueError(f"--tag must be a release tag vX.Y.Z such as v{__version__}, not {tag!r}")


def save_settings(path: Path, repository: str, tag: str) -> bool:
    """Write ``repository`` and ``tag`` into the release module at ``path`` (atomically); return
    whether it changed."""
    check_settings(repository, tag)
    source = Path(path).read_text(encoding="utf-8")
    if sorted(_SETTING.findall(source)) != ["REPOSITORY", "TAG"]:
        raise ValueError(f"{path} has no REPOSITORY = ... and TAG = ... lines to rewrite")
    values = {"REPOSITORY": repository, "TAG": tag}
    updated = _SETTING.sub(lambda m: f'{m.group(1)} = "{values[m.group(1)]}"', source)
    if updated != source:
        atomic_write_text(path, updated)
    return updated != source


def update_notebooks(root: Path, repository: str | None = None, tag: str | None = None) -> list[Path]:
    """Rewrite the setup cell and badge of every notebook under ``root``, and every badge of its
    README; return the files changed."""
    import nbformat

    root = Path(root)
    changed = []
    for folder in FOLDERS:
        for path in sorted((root / folder).glob("*.ipynb")):
            notebook = nbformat.read(path, as_version=4)
            before = nbformat.writes(notebook)
            first_code = next(c for c in notebook.cells if c.cell_type == "code")
            first_code.source = setup_cell(repository, tag)
            first_md = next(c for c in notebook.cells if c.cell_type == "markdown")
            first_md.source = with_badge(first_md.source, f"{folder}/{path.name}", repository, tag)
            after = nbformat.writes(notebook)
            if after != before:
                atomic_write_text(path, after + "\n")
                changed.append(path)
    for name in DOCUMENTS:
        path = root / name
        if path.exists():
            text = path.read_text(encoding="utf-8")
            updated = with_badges(text, repository, tag)
            if updated != text:
                atomic_write_text(path, updated)
                changed.append(path)
    return changed


def publish(root: Path, repository: str | None = None, tag: str | None = None) -> list[Path]:
    """Set the release (either setting left out keeps its value) in ``root``'s
    ``gancourse/release.py``, then rewrite every badge and setup cell under ``root``; return the
    files changed. Refuses malformed settings before writing anything."""
    root = Path(root)
    module = root / "gancourse" / "release.py"
    if repository is None and tag is None:
        return update_notebooks(root)
    repository = REPOSITORY if repository is None else repository
    tag = TAG if tag is None else tag
    check_settings(repository, tag)
    if not module.exists():
        raise ValueError(f"no gancourse/release.py under {root}: run this from the course repository")
    changed = [module] if save_settings(module, repository, tag) else []
    return changed + update_notebooks(root, repository, tag)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the usage block
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m gancourse.release",
                     description="Set the repository and tag the course is published at; rewrite every "
                                 "Colab badge and setup cell to match.")
    parser.add_argument("root", type=Path, nargs="?", default=Path("."), help="the course repository (default: .)")
    parser.add_argument("--repository", help=f"GitHub OWNER/NAME (now {REPOSITORY})")
    parser.add_argument("--tag", help=f"the release tag vX.Y.Z (now {TAG})")
    args = parser.parse_args(argv)
    try:
        changed = publish(args.root, args.repository, args.tag)
    except (ValueError, OSError) as error:
        parser.error(str(error).splitlines()[0])
    for path in changed:
        print(f"updated {path}")
    tag = TAG if args.tag is None else args.tag
    if tag != f"v{__version__}":
        print(f"note: the package's version is {__version__}; set it to {tag[1:]} in gancourse/__init__.py "
              f"and pyproject.toml before tagging {tag}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
