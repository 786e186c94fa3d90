"""The exercise generator never deletes or overwrites what it did not make, writes all or nothing,
refuses malformed markers naming notebook and cell, and answers every user error with one line
(docs/design.md, Exercises)."""
import errno
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gancourse import exercises as gen
from gancourse.exercises import GeneratorError, generate, main, make_exercise

ROOT = Path(__file__).resolve().parents[1]
STUB = "raise NotImplementedError(\"Exercise 'g' is not done yet"


def notebook(*sources, markdown=("# Title",)):
    cells = [nbformat.v4.new_markdown_cell(m) for m in markdown]
    cells += [nbformat.v4.new_code_cell(s) for s in sources]
    return nbformat.v4.new_notebook(cells=cells)


def g_solution(body="return 1", extra=()):
    return notebook(f"def g():\n    ### BEGIN SOLUTION\n    {body}\n    ### END SOLUTION", "check(g)", *extra)


def write(path, nb):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gancourse.exercises", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or ROOT, timeout=120)


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(result, *needles):
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def course(tmp_path):
    """sol/a.ipynb with exercise 'g', generated into ex/."""
    write(tmp_path / "sol" / "a.ipynb", g_solution())
    generate(tmp_path / "sol", tmp_path / "ex")
    return tmp_path


# --- folders ----------------------------------------------------------------------------------

def test_source_that_is_the_destination_is_refused_and_nothing_changes(tmp_path):
    write(tmp_path / "sol" / "a.ipynb", g_solution())
    before = snapshot(tmp_path)
    one_line_error(cli(tmp_path / "sol", tmp_path / "sol"), "refused", "is the source")
    one_line_error(cli(tmp_path / "sol", tmp_path / "x" / ".." / "sol"), "refused")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("src, dst", [("sol", "sol/ex"), ("ex/sol", "ex")])
def test_destination_inside_source_or_around_it_is_refused(tmp_path, src, dst):
    write(tmp_path / src / "a.ipynb", g_solution())
    before = snapshot(tmp_path)
    one_line_error(cli(tmp_path / src, tmp_path / dst), "refused")
    assert snapshot(tmp_path) == before


def test_missing_folders_and_bad_arguments_give_one_line(tmp_path):
    one_line_error(cli(tmp_path / "nope", tmp_path / "ex"), "does not exist")
    (tmp_path / "file").write_text("x")
    one_line_error(cli(tmp_path / "file", tmp_path / "ex"), "not a folder")
    (tmp_path / "sol").mkdir()
    one_line_error(cli(tmp_path / "sol", tmp_path / "ex"), "no solution notebooks")
    assert not (tmp_path / "ex").exists()
    result = cli("--frobnicate")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_unwritable_destination_is_refused(tmp_path, monkeypatch, capsys):
    write(tmp_path / "sol" / "a.ipynb", g_solution())
    (tmp_path / "ex").mkdir()
    real_access = gen.os.access
    monkeypatch.setattr(gen.os, "access", lambda p, mode: Path(p) != tmp_path / "ex" and real_access(p, mode))
    assert main([str(tmp_path / "sol"), str(tmp_path / "ex")]) == 2
    assert capsys.readouterr().err.strip() == f"error: cannot write in {tmp_path / 'ex'}: permission denied"
    assert list((tmp_path / "ex").iterdir()) == []


# --- what is already in the destination --------------------------------------------------------

def test_unknown_notebooks_are_left_alone_and_named(course, capsys):
    (course / "ex" / "mine.ipynb").write_text("{}")
    (course / "ex" / "notes.txt").write_text("notes")
    assert main([str(course / "sol"), str(course / "ex")]) == 0
    out = capsys.readouterr().out
    assert (course / "ex" / "mine.ipynb").read_text() == "{}" and (course / "ex" / "notes.txt").exists()
    assert f"note: left alone, no solution for: {course / 'ex' / 'mine.ipynb'}" in out


def do_the_exercise(path, code="return 42"):
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if STUB in c.source)
    cell.source = f"def g():\n    {code}"
    cell.outputs, cell.execution_count = [nbformat.v4.new_output("stream", text="hi\n")], 7
    nbformat.write(nb, path)


def test_learners_work_is_refused_without_force_and_backed_up_with_it(course):
    target = course / "ex" / "a.ipynb"
    do_the_exercise(target)
    write(course / "sol" / "a.ipynb", g_solution(body="return 2"))  # the course moved on
    learner = target.read_bytes()
    line = one_line_error(cli(course / "sol", course / "ex"), str(target), "exercise 'g'", "cell 1", "--force",
                          "a.ipynb.bak-")
    assert "learner's work" in line
    assert target.read_bytes() == learner and sorted(p.name for p in (course / "ex").iterdir()) == ["a.ipynb"]

    result = cli(course / "sol", course / "ex", "--force")
    assert result.returncode == 0, result.stderr
    backups = sorted((course / "ex").glob("a.ipynb.bak-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == learner and "return 42" in backups[0].read_text()
    assert str(backups[0]) in result.stdout
    source = nbformat.read(target, as_version=4).cells[1].source
    assert STUB in source and "return 2" not in source and "return 42" not in source


def test_a_written_answer_and_an_added_cell_are_the_learners_too(tmp_path):
    sol = notebook("x = 1", markdown=("# T", "Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"))
    write(tmp_path / "sol" / "a.ipynb", sol)
    generate(tmp_path / "sol", tmp_path / "ex")
    target = tmp_path / "ex" / "a.ipynb"
    nb = nbformat.read(target, as_version=4)
    nb.cells[1].source = "Why?\nI think because."
    nbformat.write(nb, target)
    with pytest.raises(GeneratorError, match=r"cell 1 \(a written answer\)"):
        generate(tmp_path / "sol", tmp_path / "ex")

    generate(tmp_path / "sol", tmp_path / "ex", force=True)
    nb = nbformat.read(target, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("my_experiment()"))
    nbformat.write(nb, target)
    with pytest.raises(GeneratorError, match=r"cell 3 \(a cell the exercise does not have\)"):
        generate(tmp_path / "sol", tmp_path / "ex")


def test_outputs_of_running_the_stubs_are_not_work(course):
    target = course / "ex" / "a.ipynb"
    nb = nbformat.read(target, as_version=4)
    for cell in nb.cells[1:]:
        cell.outputs = [nbformat.v4.new_output("error", ename="NotImplementedError", evalue="", traceback=[])]
        cell.execution_count = 1
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, target)
    result = generate(course / "sol", course / "ex")
    assert result.written == [target] and not result.backups and not list((course / "ex").glob("*.bak-*"))
    assert nbformat.read(target, as_version=4).cells[1].execution_count is None


def test_untouched_exercises_follow_an_edited_solution_without_force(course):
    # The maintainer edits text, code around the region, the region, renames nothing, adds an
    # exercise in a new cell and one in a new markdown cell, and renames an exercise elsewhere.
    sol = nbformat.read(course / "sol" / "a.ipynb", as_version=4)
    sol.cells[0].source = "# Title, reworded"
    sol.cells[1].source = sol.cells[1].source.replace("return 1", "return 1 + 0").replace("def g():", "def g():  # g")
    sol.cells.append(nbformat.v4.new_code_cell("### BEGIN SOLUTION h\nh = 3\n### END SOLUTION"))
    sol.cells.append(nbformat.v4.new_markdown_cell("Q?\n### BEGIN SOLUTION\nA.\n### END SOLUTION"))
    nbformat.write(sol, course / "sol" / "a.ipynb")
    result = generate(course / "sol", course / "ex")
    expected = make_exercise(sol, name="a", path="ex/a.ipynb")
    assert result.written == [course / "ex" / "a.ipynb"] and not result.backups
    assert (course / "ex" / "a.ipynb").read_text() == nbformat.writes(expected) + "\n"
    # ... and renames an exercise: the old stub is still whole, so no learner touched it.
    sol.cells[1].source = sol.cells[1].source.replace("### BEGIN SOLUTION", "### BEGIN SOLUTION g2")
    nbformat.write(sol, course / "sol" / "a.ipynb")
    assert generate(course / "sol", course / "ex").written == [course / "ex" / "a.ipynb"]
    assert "Exercise 'g2'" in (course / "ex" / "a.ipynb").read_text()
    assert generate(course / "sol", course / "ex").written == []  # and then it is up to date


def test_an_existing_exercise_that_is_not_a_notebook_is_kept_unless_forced(course):
    target = course / "ex" / "a.ipynb"
    target.write_text('{"cells": [')
    line = one_line_error(cli(course / "sol", course / "ex"), str(target), "not a notebook the generator wrote")
    assert "--force" in line and target.read_text() == '{"cells": ['
    assert generate(course / "sol", course / "ex", force=True).backups[0].read_text() == '{"cells": ['


# --- markers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, message", [
    ("def g():\n    ### begin solution\n    return 1\n    ### END SOLUTION", "line 2: '### begin solution' looks like"),
    ("def g():\n    #BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", "'### BEGIN SOLUTION [name]'"),
    ("def g():\n    ### BEGIN SOLUTION\n    return 1\n    ## End Solution", "line 4: '## End Solution'"),
    ("def g():\n    ### BEGIN SOLUTIONS\n    return 1\n    ### END SOLUTION", "looks like a solution marker"),
    ("def g():\n    ### BEGIN SOLUTION my name\n    return 1\n    ### END SOLUTION", "looks like"),
    ('print("### BEGIN SOLUTION")\nx = 1\n### END SOLUTION', "line 1"),
    ('s = """\n### BEGIN SOLUTION x\n"""\n### END SOLUTION', "line 2: '### BEGIN SOLUTION x' is inside a string"),
    ("### BEGIN SOLUTION a\n### BEGIN SOLUTION b\n### END SOLUTION\n### END SOLUTION", "line 2: nested"),
    ("### BEGIN SOLUTION a\nx = 1", "is never closed"),
    ("x = 1\n### END SOLUTION", "line 2: 'END SOLUTION' without"),
])
def test_malformed_markers_are_refused_naming_notebook_and_cell_and_nothing_is_written(tmp_path, cell, message):
    write(tmp_path / "sol" / "a_good.ipynb", g_solution())
    write(tmp_path / "sol" / "b_bad.ipynb", notebook(cell))
    (tmp_path / "ex").mkdir()
    result = cli(tmp_path / "sol", tmp_path / "ex")
    one_line_error(result, f"{tmp_path / 'sol' / 'b_bad.ipynb'}, cell 1", message)
    assert list((tmp_path / "ex").iterdir()) == []


def test_a_near_marker_in_markdown_is_refused_too():
    with pytest.raises(gen.SolutionMarkerError, match="cell 3, line 2"):
        make_exercise(notebook("x = 1", markdown=("# T", "a", "b", "Q\n### Begin Solution\nA\n### END SOLUTION")))


# --- bad input and failing writes ----------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (b'{"cells": [', "invalid JSON at line 1"),
    (b"[]", "not a Jupyter notebook"),
    (b"{}", "not a Jupyter notebook"),
    (b"\xff\xfe", "not UTF-8"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}', "not a valid notebook"),
])
def test_a_solution_that_is_not_a_notebook_gives_one_line(tmp_path, content, message):
    write(tmp_path / "sol" / "a_good.ipynb", g_solution())
    (tmp_path / "sol" / "b.ipynb").write_bytes(content)
    one_line_error(cli(tmp_path / "sol", tmp_path / "ex"), f"{tmp_path / 'sol' / 'b.ipynb'} is not a notebook", message)
    assert not (tmp_path / "ex").exists()


def test_an_unreadable_solution_gives_one_line(tmp_path, monkeypatch, capsys):
    write(tmp_path / "sol" / "a.ipynb", g_solution())
    bad = write(tmp_path / "sol" / "b.ipynb", g_solution())
    real = Path.read_bytes

    def read_bytes(self):
        if self == bad:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert main([str(tmp_path / "sol"), str(tmp_path / "ex")]) == 2
    assert capsys.readouterr().err.strip() == f"error: cannot read {bad}: Permission denied"
    assert not (tmp_path / "ex").exists()


def test_a_full_disk_puts_back_what_was_written(tmp_path, monkeypatch, capsys):
    write(tmp_path / "sol" / "a.ipynb", g_solution())
    write(tmp_path / "sol" / "b.ipynb", g_solution())
    generate(tmp_path / "sol", tmp_path / "ex")
    write(tmp_path / "sol" / "a.ipynb", g_solution(body="return 2", extra=("new = 1",)))
    write(tmp_path / "sol" / "b.ipynb", g_solution(body="return 2", extra=("new = 1",)))
    write(tmp_path / "sol" / "c.ipynb", g_solution())
    before = snapshot(tmp_path / "ex")
    real, calls = gen.atomic_write_text, []

    def fails_second_time(path, text):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, text)

    monkeypatch.setattr(gen, "atomic_write_text", fails_second_time)
    assert main([str(tmp_path / "sol"), str(tmp_path / "ex")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: could not write {tmp_path / 'ex' / 'b.ipynb'}: No space left on device; nothing was changed"
    assert snapshot(tmp_path / "ex") == before  # a.ipynb put back, c.ipynb never made, no temporaries


# --- the real course --------------------------------------------------------------------------

def test_the_course_regenerates_byte_for_byte(tmp_path):
    copy = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises", copy)
    result = generate(ROOT / "solutions", copy)
    committed = {p.name: p.read_bytes() for p in (ROOT / "exercises").glob("*.ipynb")}
    assert result.written == [] and {p.name: p.read_bytes() for p in copy.glob("*.ipynb")} == committed
    fresh = tmp_path / "fresh" / "exercises"
    result = generate(ROOT / "solutions", fresh)
    assert len(result.written) == len(list((ROOT / "solutions").glob("*.ipynb")))
    assert {p.name: p.read_bytes() for p in fresh.iterdir()} == committed
