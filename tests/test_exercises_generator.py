"""The exercise generator never deletes or overwrites what it did not make, writes all or nothing,
refuses malformed markers naming notebook and cell, and answers every user error with one line
(docs/design.md, Exercises)."""
import errno
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gancourse import exercises as gen
from gancourse import files
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
    ("def g():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION here", "line 4: '### END SOLUTION here'"),
    ("def g():\n    # BEGIN SOLUTION my name\n    return 1\n    ### END SOLUTION", "line 2"),
    ("def g():\n    ### BEGIN SOLUTION\n    return 1  ### END SOLUTION", "line 3"),
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


# --- interruptions (Ctrl-C) --------------------------------------------------------------------

def forced_course(tmp_path):
    """ex/a.ipynb holds a learner's answer (so --force backs it up), sol/b.ipynb changed since ex/b
    was generated, sol/c.ipynb is new: one backup and three exercises to write."""
    write(tmp_path / "sol" / "a.ipynb", g_solution())
    write(tmp_path / "sol" / "b.ipynb", g_solution())
    generate(tmp_path / "sol", tmp_path / "ex")
    do_the_exercise(tmp_path / "ex" / "a.ipynb", code="return 42  # MY ANSWER")
    write(tmp_path / "sol" / "a.ipynb", g_solution(body="return 2"))
    write(tmp_path / "sol" / "b.ipynb", g_solution(body="return 2"))
    write(tmp_path / "sol" / "c.ipynb", g_solution())
    return tmp_path


STEPS = [(gen.os, "replace"), (gen.os, "fsync"), (files, "_fsync_folder"), (gen, "atomic_write_text"),
         (gen, "_write_bytes")]


def run_with_fault(monkeypatch, capsys, folder, fault=None):
    """main(sol, ex, --force) with every step in STEPS counted; ``fault(n)`` runs before call n."""
    calls = [0]
    with monkeypatch.context() as patch:
        for owner, name in STEPS:
            def counted(*args, _real=getattr(owner, name), **kwargs):
                calls[0] += 1
                if fault is not None:
                    fault(calls[0])
                return _real(*args, **kwargs)
            patch.setattr(owner, name, counted)
        code = main([str(folder / "sol"), str(folder / "ex"), "--force"])
    return code, capsys.readouterr(), calls[0]


def kth(k, action):
    return lambda n: action() if n == k else None


def raise_interrupt():
    raise KeyboardInterrupt


def send_sigint():
    signal.raise_signal(signal.SIGINT)  # a real Ctrl-C: held until the file in progress is whole


@pytest.fixture
def ctrl_c_interrupts():
    """Python's own Ctrl-C handler for the test: a CI started in the background (nohup ... &)
    inherits SIGINT ignored, and then a real Ctrl-C rightly does nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("action", [raise_interrupt, send_sigint])
def test_an_interruption_at_any_step_leaves_the_old_state_or_the_whole_new_one(tmp_path, monkeypatch, capsys, action,
                                                                              ctrl_c_interrupts):
    template = forced_course(tmp_path / "template")
    before = snapshot(template / "ex")
    learner = (template / "ex" / "a.ipynb").read_bytes()
    code, out, steps = run_with_fault(monkeypatch, capsys, shutil.copytree(template, tmp_path / "count"))
    assert code == 0 and steps >= 12, (out, steps)
    new = {p: (tmp_path / "count" / "ex" / p).read_bytes() for p in ("a.ipynb", "b.ipynb", "c.ipynb")}
    for k in range(1, steps + 1):
        folder = shutil.copytree(template, tmp_path / f"k{k}")
        code, out, _ = run_with_fault(monkeypatch, capsys, folder, fault=kth(k, action))
        after = snapshot(folder / "ex")
        assert code == 130 and "Traceback" not in out.err, (k, out)
        if after == before:
            assert out.err == "error: interrupted; nothing was changed\n", (k, out.err)
        else:  # the whole new state, the learner's notebook in its backup, and the message says so
            assert {p: after[Path(p)] for p in new} == new, k
            assert [b for b in after if ".bak-" in b.name and after[b] == learner], k
            assert "were written" in out.err, (k, out.err)
        assert "MY ANSWER" in "".join(v.decode() for v in after.values()), k


def test_a_failing_put_back_names_what_it_could_not_put_back_and_loses_nothing(tmp_path, monkeypatch, capsys):
    folder = forced_course(tmp_path)
    learner = (folder / "ex" / "a.ipynb").read_bytes()

    def disk_full_once_the_learners_notebook_is_replaced(n):
        if (folder / "ex" / "a.ipynb").read_bytes() != learner:
            raise OSError(errno.ENOSPC, "No space left on device")

    code, out, _ = run_with_fault(monkeypatch, capsys, folder, fault=disk_full_once_the_learners_notebook_is_replaced)
    assert code == 1 and f"could not be put back as they were: {folder / 'ex' / 'a.ipynb'}" in out.err, out.err
    assert [p for p in (folder / "ex").glob("a.ipynb.bak-*") if p.read_bytes() == learner]  # kept


def test_ctrl_c_after_the_last_file_is_written_lets_the_run_finish(tmp_path, ctrl_c_interrupts):
    folder = forced_course(tmp_path)
    lines = []
    result = generate(folder / "sol", folder / "ex", force=True, log=lambda line: (lines.append(line), send_sigint()))
    assert len(result.written) == 3 and len(result.backups) == 1 and result.backups[0].exists()
    assert any(str(result.backups[0]) in line for line in lines)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_during_the_imports_is_one_line_and_exit_130(tmp_path):
    write(tmp_path / "sol" / "a.ipynb", g_solution())
    fake = tmp_path / "fake" / "nbformat"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise KeyboardInterrupt  # Ctrl-C while nbformat loads\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "fake"), str(ROOT)])}
    result = subprocess.run([sys.executable, "-m", "gancourse.exercises", tmp_path / "sol", tmp_path / "ex"],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert (result.returncode, result.stderr, result.stdout) == (130, "error: interrupted; nothing was changed\n", "")
    assert not (tmp_path / "ex").exists()


# --- the generator's record of what it wrote -------------------------------------------------------

def test_every_generated_cell_is_recorded(course):
    nb = nbformat.read(course / "ex" / "a.ipynb", as_version=4)
    assert nb.metadata["gancourse"]["generated"] == {c.id: gen._digest(c.source) for c in nb.cells}


def edit_cell(path, index, edit):
    nb = nbformat.read(path, as_version=4)
    nb.cells[index].source = edit(nb.cells[index].source)
    nbformat.write(nb, path)


@pytest.mark.parametrize("index, edit", [
    (0, lambda s: s + "\n\nMy notes: the discriminator wins early."),  # notes in a text cell
    (2, lambda s: s + "  # I ran this twice"),                          # a code cell with no exercise
    (1, lambda s: s.replace("def g():", "def g():\n    # thinking...")),  # around a stub left whole
])
def test_any_edit_since_generation_is_the_learners_work(course, index, edit):
    target = course / "ex" / "a.ipynb"
    edit_cell(target, index, edit)
    write(course / "sol" / "a.ipynb", g_solution(body="return 2"))
    learner = target.read_bytes()
    line = one_line_error(cli(course / "sol", course / "ex"), str(target), f"cell {index} (", "--force")
    assert "learner's work" in line and target.read_bytes() == learner
    result = generate(course / "sol", course / "ex", force=True)
    assert result.backups[0].read_bytes() == learner
    assert nbformat.read(target, as_version=4).metadata["gancourse"]  # and the new record


def test_renumbered_cell_ids_of_an_untouched_exercise_are_not_work(course):
    # nbstripout without --keep-id, or a copy through another tool, renumbers the ids.
    target = course / "ex" / "a.ipynb"
    nb = nbformat.read(target, as_version=4)
    for number, cell in enumerate(nb.cells):
        cell.id = f"renumbered{number}"
    nbformat.write(nb, target)
    write(course / "sol" / "a.ipynb", g_solution(body="return 2"))
    result = generate(course / "sol", course / "ex")
    assert result.written == [target] and not result.backups


def test_an_exercise_without_the_record_falls_back_to_the_stubs(course):
    target = course / "ex" / "a.ipynb"
    nb = nbformat.read(target, as_version=4)
    del nb.metadata["gancourse"]  # written before the record existed
    nbformat.write(nb, target)
    write(course / "sol" / "a.ipynb", g_solution(body="return 2"))
    assert generate(course / "sol", course / "ex").written == [target]  # untouched: replaced
    nb = nbformat.read(target, as_version=4)
    del nb.metadata["gancourse"]
    nbformat.write(nb, target)
    do_the_exercise(target)
    with pytest.raises(GeneratorError, match=r"cell 1 \(exercise 'g'\)"):
        generate(course / "sol", course / "ex")


def test_clean_notebooks_keeps_the_record(tmp_path):
    nbstripout = Path(sys.executable).with_name("nbstripout")
    if not nbstripout.exists():
        pytest.skip("nbstripout is not installed")
    copies = [shutil.copy(p, tmp_path) for p in sorted((ROOT / "exercises").glob("*.ipynb"))]
    subprocess.run([nbstripout, "--keep-id", *copies], check=True, timeout=120)  # what `make clean-notebooks` runs
    assert [Path(p).read_bytes() for p in copies] == [p.read_bytes() for p in sorted((ROOT / "exercises").glob("*.ipynb"))]
    assert all("gancourse" in nbformat.read(p, as_version=4).metadata for p in copies)


# --- prose is not a marker ------------------------------------------------------------------------

def test_prose_about_an_end_solution_is_not_a_marker():
    sol = notebook("# the end solution of the ODE\nx = 1", "# End solution of the ODE, found by iteration\ny = 2",
                   'note = "the end solution"', markdown=("# T", "The end solution is a fixed point.\n\nBegin solution here?"))
    exercise = make_exercise(sol)
    assert [c.source for c in exercise.cells] == [c.source for c in sol.cells]
