"""Notebooks in git are clean, exercises are generated from solutions, and every exercise
notebook fails as shipped, at its first exercise, with a message a learner can read.

(The lesson and solution notebooks themselves run under nbval: `pytest` collects notebooks/ and
solutions/ with --nbval-lax, see pyproject.toml.)
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gancourse import release
from gancourse.exercises import SolutionMarkerError, exercise_names, make_exercise, strip_solutions

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "solutions", "exercises")
ALL = sorted(p for folder in FOLDERS for p in (ROOT / folder).glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def rel(path):
    return str(path.relative_to(ROOT))


def test_there_are_notebooks_to_test():
    assert list((ROOT / "notebooks").glob("*.ipynb")) and SOLUTIONS and EXERCISES


@pytest.mark.parametrize("path", ALL, ids=rel)
def test_notebook_is_clean(path):
    notebook = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(notebook.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{rel(path)}: cells {dirty} carry outputs or execution counts; run `make clean-notebooks`"
    assert "widgets" not in notebook.metadata, f"{rel(path)} carries widget state; run `make clean-notebooks`"
    nbformat.validate(notebook)


@pytest.mark.parametrize("path", ALL, ids=rel)
def test_notebook_is_colab_ready(path):
    """The shared setup cell (pinned install in Colab only), its own badge, a GPU runtime."""
    notebook = nbformat.read(path, as_version=4)
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    assert first_code.source == release.setup_cell(), f"{rel(path)}: run `python -m gancourse.release`"
    assert "ipywidgets" not in first_code.source  # never upgrade Colab's ipywidgets 7.7.1
    first_md = next(c for c in notebook.cells if c.cell_type == "markdown")
    assert release.colab_badge(rel(path)) in first_md.source, f"{rel(path)}: badge missing or wrong"
    assert notebook.metadata.get("accelerator") == "GPU"


def test_release_pins_a_tag_of_this_version():
    import gancourse
    assert release.TAG == f"v{gancourse.__version__}" and "@v" in release.install_requirement()


def test_exercises_and_solutions_pair_up():
    assert [p.name for p in SOLUTIONS] == [p.name for p in EXERCISES], "run `make exercises`"


@pytest.mark.parametrize("path", SOLUTIONS, ids=rel)
def test_committed_exercises_equal_generated(path):
    generated = make_exercise(nbformat.read(path, as_version=4), path=f"exercises/{path.name}")
    committed = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
    assert [(c.cell_type, c.source) for c in committed.cells] == [(c.cell_type, c.source) for c in generated.cells], \
        f"exercises/{path.name} is out of date: run `make exercises`"
    assert committed.metadata == generated.metadata


def first_failure_source(report: str) -> str:
    match = re.search(r"Input:\n(.*?)\n\nTraceback:", report, re.S)
    assert match, f"no cell failure in the report:\n{report[-3000:]}"
    return match.group(1).strip()


@pytest.mark.parametrize("path", EXERCISES, ids=rel)
def test_exercise_notebook_fails_at_its_first_exercise(path):
    solution = nbformat.read(ROOT / "solutions" / path.name, as_version=4)
    names = exercise_names(solution)
    assert names and None not in names, "every solution notebook has named exercises"
    env = dict(os.environ, GANCOURSE_QUICK="1")
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider",
                             rel(path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    report = result.stdout + result.stderr
    assert result.returncode == 1, f"{rel(path)} should fail as shipped (exit 1), got {result.returncode}"
    assert "\x1b[" not in report, "the report a learner reads must have no ANSI colour codes"
    # The first failing cell is the first exercise's own cell or the check cell right after it.
    cells = [c.source.strip() for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    first_stub = next(i for i, s in enumerate(cells) if "raise NotImplementedError" in s)
    failing = cells.index(first_failure_source(report))
    assert first_stub <= failing <= first_stub + 1, f"first failure at code cell {failing}, exercise at {first_stub}"
    first_block = report.split("Input:", 2)[1]
    assert f"Exercise '{names[0]}' is not done yet" in first_block


# --- the generator itself -----------------------------------------------------------------

def test_strip_names_the_enclosing_function_and_keeps_the_rest():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\nprint(f)"
    out = strip_solutions(source).split("\n")
    assert out[:2] == ["def f(x):", "    y = 1"] and out[-1] == "print(f)"
    assert out[2] == "    # YOUR CODE HERE" and out[3].startswith("    raise NotImplementedError(\"Exercise 'f'")
    assert "return x + y" not in "\n".join(out)


def test_strip_uses_an_explicit_name_and_markdown_stub():
    assert "Exercise 'grid'" in strip_solutions("### BEGIN SOLUTION grid\nx = 1\n### END SOLUTION")
    assert strip_solutions("A\n### BEGIN SOLUTION\nsecret\n### END SOLUTION", code=False) == "A\nYOUR ANSWER HERE"


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION a\n### BEGIN SOLUTION b\n### END SOLUTION", "nested"),
    ("### BEGIN SOLUTION a\nx = 1", "never closed"),
    ("x = 1\n### END SOLUTION", "without"),
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "name the exercise"),
])
def test_malformed_regions_are_refused(source, message):
    with pytest.raises(SolutionMarkerError, match=message):
        strip_solutions(source)


def test_generator_command_writes_and_leaves_unknown_notebooks_alone(tmp_path):
    (tmp_path / "sol").mkdir()
    (tmp_path / "ex").mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def g():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", execution_count=3)])
    nb.metadata["widgets"] = {"state": {}}
    nbformat.write(nb, tmp_path / "sol" / "a.ipynb")
    (tmp_path / "ex" / "stale.ipynb").write_text("{}")
    result = subprocess.run([sys.executable, "-m", "gancourse.exercises", str(tmp_path / "sol"), str(tmp_path / "ex")],
                            check=True, capture_output=True, text=True)
    assert sorted(p.name for p in (tmp_path / "ex").iterdir()) == ["a.ipynb", "stale.ipynb"]
    assert (tmp_path / "ex" / "stale.ipynb").read_text() == "{}"
    assert "stale.ipynb" in result.stdout
    out = nbformat.read(tmp_path / "ex" / "a.ipynb", as_version=4)
    assert "widgets" not in out.metadata and out.cells[0].execution_count is None
    assert "NotImplementedError" in out.cells[0].source
