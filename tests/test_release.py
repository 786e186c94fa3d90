"""Publishing: every badge and install line follows gancourse/release.py, and one command moves them.

The command is only ever run on a temporary copy of the repository's notebooks and README.
"""
import hashlib
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gancourse import release

ROOT = Path(__file__).resolve().parents[1]
BADGE_URL = re.compile(r"https://colab\.research\.google\.com/github/[^\s)\"'\\]+")
INSTALL = re.compile(r"git\+https://github\.com/[^\s\"'\\]+")


def texts(root: Path):
    """(name, text) of every notebook cell and every Markdown document of the repository at ``root``."""
    for folder in release.FOLDERS:
        for path in sorted((root / folder).glob("*.ipynb")):
            for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
                yield f"{path.relative_to(root)} cell {i}", cell.source
    for path in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        if path.exists():
            yield str(path.relative_to(root)), path.read_text(encoding="utf-8")


def offenders(root: Path, repository: str, tag: str, pairs=None) -> list[str]:
    """Every badge and install line under ``root`` (or in ``pairs`` of (name, text)) that does not
    follow the settings, or opens a notebook that is not there."""
    wrong = []
    prefix = f"https://colab.research.google.com/github/{repository}/blob/{tag}/"
    for name, text in texts(root) if pairs is None else pairs:
        for url in BADGE_URL.findall(text):
            if not url.startswith(prefix) or not (root / url[len(prefix):]).is_file():
                wrong.append(f"{name}: {url}")
        for requirement in INSTALL.findall(text):
            if requirement != f"git+https://github.com/{repository}@{tag}":
                wrong.append(f"{name}: {requirement}")
    return wrong


def count_badges(root: Path) -> int:
    return sum(len(BADGE_URL.findall(text)) for _, text in texts(root))


def test_every_badge_and_install_line_follows_the_release_settings():
    assert offenders(ROOT, release.REPOSITORY, release.TAG) == [], "run `python -m gancourse.release`"
    notebooks = [p for folder in release.FOLDERS for p in (ROOT / folder).glob("*.ipynb")]
    readme_badges = len(BADGE_URL.findall((ROOT / "README.md").read_text(encoding="utf-8")))
    assert readme_badges > 0  # the course map's badges are checked too
    assert count_badges(ROOT) >= len(notebooks) + readme_badges


def test_offenders_sees_a_wrong_badge_and_a_wrong_install_line(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00_x.ipynb").write_text("{}")
    readme = (f"{release.colab_badge('notebooks/00_x.ipynb')}\n{release.colab_badge('notebooks/99_gone.ipynb')}\n"
              f"{release.colab_badge('notebooks/00_x.ipynb', tag='v0.0.1')}\n"
              f"pip install \"{release.install_requirement(repository='someone/else')}\"\n")
    found = offenders(tmp_path, release.REPOSITORY, release.TAG, [("README.md", readme)])
    assert len(found) == 3 and "99_gone" in found[0] and "v0.0.1" in found[1] and "someone/else" in found[2]


@pytest.fixture
def copy(tmp_path):
    """The repository's notebooks, README and release module, copied."""
    for folder in release.FOLDERS:
        shutil.copytree(ROOT / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.bak-*"))
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    (tmp_path / "gancourse").mkdir()
    shutil.copy(ROOT / "gancourse" / "release.py", tmp_path / "gancourse" / "release.py")
    return tmp_path


def digest(root: Path) -> dict:
    paths = [p for p in root.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts]
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def run_release(*args):
    return subprocess.run([sys.executable, "-m", "gancourse.release", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def load_settings(path: Path):
    spec = importlib.util.spec_from_file_location("release_copy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.REPOSITORY, module.TAG


def test_publishing_rewrites_every_badge_and_setup_cell_once(copy):
    badges = count_badges(copy)
    result = run_release(copy, "--repository", "someone-else/gan-course.v2", "--tag", "v9.8.7")
    assert result.returncode == 0, result.stderr
    assert load_settings(copy / "gancourse" / "release.py") == ("someone-else/gan-course.v2", "v9.8.7")
    assert offenders(copy, "someone-else/gan-course.v2", "v9.8.7") == []
    assert count_badges(copy) == badges  # moved, none lost or added
    for folder in release.FOLDERS:
        for path in (copy / folder).glob("*.ipynb"):
            first_code = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
            assert first_code.source == release.setup_cell("someone-else/gan-course.v2", "v9.8.7")
    assert "note: the package's version is" in result.stderr  # v9.8.7 is not this package's version
    # idempotent: the same settings again change nothing
    before = digest(copy)
    again = run_release(copy, "--repository", "someone-else/gan-course.v2", "--tag", "v9.8.7")
    assert again.returncode == 0 and again.stdout == "" and digest(copy) == before
    # the copy of the module is the one that changed; back to this repository's settings
    back = run_release(copy, "--repository", release.REPOSITORY, "--tag", release.TAG)
    assert back.returncode == 0 and back.stderr == ""
    assert offenders(copy, release.REPOSITORY, release.TAG) == []


@pytest.mark.parametrize("args", [
    ("--repository", "no-slash"), ("--repository", "a/b/c"), ("--repository", "-owner/name"),
    ("--repository", "owner/.."), ("--repository", "owner/na me"), ("--repository", ""),
    ("--tag", "1.2.3"), ("--tag", "v1.2"), ("--tag", "main"), ("--tag", "v1.2.3 "), ("--tag", "v01.2.3"),
])
def test_malformed_settings_are_refused_with_one_line_and_nothing_changes(copy, args, capsys):
    before = digest(copy)
    with pytest.raises(SystemExit) as stopped:
        release.main([str(copy), *args])
    out, err = capsys.readouterr()
    assert stopped.value.code == 2 and out == ""
    assert err.count("\n") == 1 and "error:" in err and args[0] in err, err
    assert digest(copy) == before


def test_a_folder_without_the_release_module_is_refused(tmp_path):
    result = run_release(tmp_path, "--tag", release.TAG)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "course repository" in result.stderr


def test_readme_badges_keep_their_notebook():
    text = "a [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]" \
           "(https://colab.research.google.com/github/old/repo/blob/main/notebooks/03_dcgan.ipynb) b"
    assert release.with_badges(text, "new/repo", "v1.0.0") == \
        f"a {release.colab_badge('notebooks/03_dcgan.ipynb', 'new/repo', 'v1.0.0')} b"
