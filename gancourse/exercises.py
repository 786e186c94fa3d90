"""Generate exercise notebooks from solution notebooks (docs/design.md, Exercises).

In a solution notebook the learner's part of a code cell sits between ``### BEGIN SOLUTION`` and
``### END SOLUTION``, each a comment line of its own. The exercise copy replaces that region with
a stub raising ``NotImplementedError`` that names the exercise: the name written after the marker
(``### BEGIN SOLUTION scale_pixels``), or else the function the region sits in. Markdown regions
become "YOUR ANSWER HERE". Outputs, execution counts and widget state are dropped.

    python -m gancourse.exercises solutions/ exercises/      # what `make exercises` runs

Nothing a learner makes is ever lost. The generator refuses a destination that is its source (or
inside it, or around it); it leaves notebooks it has no solution for alone; it refuses to replace
an exercise notebook that holds a learner's work unless given ``--force``, which first copies the
notebook to ``NAME.ipynb.bak-<time>``. Each exercise notebook records, in its metadata
(``gancourse.generated``: cell id -> a short SHA-256 of the source), every cell as generated, so
a cell edited since (a stub replaced, notes in a text cell, a changed line of code) or added by the
learner is their work; outputs and execution counts never are. (For a notebook written before
that record existed, a replaced stub or an added cell is the learner's work.) It writes all or
nothing: every notebook is generated and checked before the first file is written, each file is
written atomically, and a failed or interrupted write (Ctrl-C is held back until the file in
progress is whole) puts back every file as it was and removes the backups. A malformed marker
(not a whole ``### BEGIN SOLUTION`` / ``### END SOLUTION`` comment line, nested, unclosed, a line
that looks like a marker: ``#BEGIN SOLUTION``, ``## End Solution``) is refused, naming the
notebook, cell and line. Exit status: 0 done, 2 bad input or refused (one line per problem on
stderr), 1 a write failed (disk full...), 130 interrupted (the line says what is on disk).
"""
from __future__ import annotations

import sys

if __name__ == "__main__":  # Ctrl-C during the imports (nbformat: a second) or the arguments: one line, 130
    try:
        from gancourse.exercises import main as _main  # this file again, as a module

        _status = _main()
    except KeyboardInterrupt:
        print("error: interrupted; nothing was changed", file=sys.stderr)
        _status = 130
    sys.exit(_status)

import argparse
import contextlib
import hashlib
import io
import json
import os
import re
import signal
import time
import tokenize
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

from gancourse.files import atomic_path, atomic_write_text

BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)\s*\(")
#: The only marker lines there are: a whole comment line, optionally naming the exercise.
_BEGIN_LINE = re.compile(r"^\s*### BEGIN SOLUTION(?:[ \t]+[A-Za-z_][\w.]*)?\s*$")
_END_LINE = re.compile(r"^\s*### END SOLUTION\s*$")
#: A line that opens like a marker: '#'s, then "begin"/"end" and "solution(s)" in any case and spacing.
_NEAR_MARKER = re.compile(r"^\s*(#+)\s*(begin|end)[\s_-]*(solutions?)\b(.*)$", re.IGNORECASE)
#: The marker's own text, anywhere in a line (in a string, after code).
_MARKER_TEXT = re.compile(r"### (BEGIN|END) SOLUTION")
#: The stubs the generator writes, as a learner finds them.
_CODE_STUB = re.compile(r"^([ \t]*)# YOUR CODE HERE\n\1raise NotImplementedError\(\"Exercise '([^'\n]*)' is not done yet: "
                        r"replace this line with your code, then run the check cell below\.\"\)$", re.M)
_ANSWER_STUB = re.compile(r"^[ \t]*YOUR ANSWER HERE[ \t]*$", re.M)


#: Notebook metadata key of the generator's record: {"generated": {cell id: _digest(source)}}.
_RECORD = "gancourse"


def _digest(source: str) -> str:
    """A short fingerprint of a cell's source as the generator wrote it."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def _cell_key(cell: nbformat.NotebookNode, index: int) -> str:
    """A cell's id; its index in notebooks too old for ids (format 4.4 and before)."""
    return cell.get("id") or f"#{index}"


class SolutionMarkerError(ValueError):
    """A solution region is malformed (nested, unterminated, unnamed or a near-miss marker)."""


class GeneratorError(Exception):
    """The generator refused or failed; nothing was changed. One line per problem.

    ``exit_code`` is 2 for bad input or a refusal, 1 for a failed write.
    """

    def __init__(self, problems: list[str], exit_code: int = 2):
        super().__init__("\n".join(problems))
        self.problems, self.exit_code = problems, exit_code


def _exercise_name(marker_line: str, lines_before: list[str]) -> str | None:
    named = marker_line.split(BEGIN, 1)[1].strip()
    if named:
        return named
    indent = len(marker_line) - len(marker_line.lstrip())
    for line in reversed(lines_before):
        match = _DEF.match(line)
        if match and len(line) - len(line.lstrip()) < indent:
            return match.group(1)
    return None


def _comment_lines(source: str) -> set[int] | None:
    """Numbers (from 1) of the lines that are a comment and nothing else, or None where the cell
    does not tokenize as Python (IPython magics, shell lines): then no line is ruled out."""
    lines = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT and not token.line[: token.start[1]].strip():
                lines.add(token.start[0])
    except (tokenize.TokenError, SyntaxError):
        return None
    return lines


def _near_marker(line: str) -> str | None:
    """"begin" or "end" where a line that is not a marker looks like one, else None.

    It looks like one when it holds the marker's text (``print("### BEGIN SOLUTION")``), or when it
    is a comment (or heading) line whose words are "begin/end solution" and at most one more word
    (``#BEGIN SOLUTION``, ``## End Solution``, ``### begin solution x``), written with three '#'
    or in capitals (``### END SOLUTION done``, ``# BEGIN SOLUTION my name``). Prose does not:
    ``The end solution is a fixed point.``, ``# the end solution of the ODE``, ``# End solution
    of the ODE``.
    """
    text = _MARKER_TEXT.search(line)
    if text:
        return text.group(1).lower()
    near = _NEAR_MARKER.match(line)
    if near is None:
        return None
    hashes, word, solution, rest = near.groups()
    if len(rest.split()) <= 1 or len(hashes) >= 3 or (word.isupper() and solution.isupper()):
        return word.lower()
    return None


def _marker(line: str, number: int, comments: set[int] | None, where: str) -> str | None:
    """"begin", "end" or None for one line; a line that looks like a marker but is not one is refused."""
    kind = "begin" if _BEGIN_LINE.match(line) else "end" if _END_LINE.match(line) else None
    if kind is None:
        near = _near_marker(line)
        if near:
            canonical = "### BEGIN SOLUTION [name]" if near == "begin" else "### END SOLUTION"
            raise SolutionMarkerError(
                f"{where}, line {number}: {line.strip()!r} looks like a solution marker; a marker must be "
                f"a comment line of its own, written exactly {canonical!r}")
        return None
    if comments is not None and number not in comments:
        raise SolutionMarkerError(
            f"{where}, line {number}: {line.strip()!r} is inside a string, not a comment line of its own")
    return kind


def strip_solutions(source: str, code: bool = True, where: str = "cell") -> str:
    """Replace every solution region in one cell's source with its stub.

    Raises:
        SolutionMarkerError: a marker is nested, unclosed, unnamed, misspelt (``### begin
            solution``, ``#BEGIN SOLUTION``) or not a whole comment line.
    """
    out: list[str] = []
    inside = False
    lines = source.split("\n")
    comments = _comment_lines(source) if code and any(_BEGIN_LINE.match(x) or _END_LINE.match(x) for x in lines) \
        else None
    for number, line in enumerate(lines, 1):
        kind = _marker(line, number, comments, where)
        if kind == "begin":
            if inside:
                raise SolutionMarkerError(f"{where}, line {number}: nested {BEGIN!r}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            if code:
                name = _exercise_name(line, out)
                if name is None:
                    raise SolutionMarkerError(
                        f"{where}, line {number}: name the exercise after the marker "
                        f"('### {BEGIN} my_exercise') or put the region inside a function")
                out += [f"{indent}# YOUR CODE HERE",
                        f'{indent}raise NotImplementedError("Exercise {name!r} is not done yet: '
                        f'replace this line with your code, then run the check cell below.")']
            else:
                out.append(f"{indent}YOUR ANSWER HERE")
        elif kind == "end":
            if not inside:
                raise SolutionMarkerError(f"{where}, line {number}: {END!r} without {BEGIN!r}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise SolutionMarkerError(f"{where}: {BEGIN!r} is never closed")
    return "\n".join(out)


def make_exercise(solution: nbformat.NotebookNode, name: str = "notebook",
                  path: str | None = None) -> nbformat.NotebookNode:
    """The exercise version of a solution notebook (a new object; the input is not changed).

    ``path``, the exercise's path in the repository, points its "Open in Colab" badge at itself.
    """
    from gancourse.release import with_badge

    notebook = nbformat.from_dict(solution)
    if path is not None:
        first_md = next((c for c in notebook.cells if c.cell_type == "markdown"), None)
        if first_md is not None:
            first_md.source = with_badge(first_md.source, path)
    for index, cell in enumerate(notebook.cells):
        cell.source = strip_solutions(cell.source, code=cell.cell_type == "code",
                                      where=f"{name}, cell {index}")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("widgets", None)
    notebook.metadata[_RECORD] = {"generated": {_cell_key(cell, index): _digest(cell.source)
                                                for index, cell in enumerate(notebook.cells)}}
    return notebook


def exercise_names(notebook: nbformat.NotebookNode) -> list[str]:
    """Names of the exercises in a solution notebook, in order."""
    names = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            if _BEGIN_LINE.match(line):
                names.append(_exercise_name(line, lines[:i]))
    return names


# --- reading and comparing notebooks -----------------------------------------------------------

class _NotANotebook(ValueError):
    pass


def _parse_notebook(data: bytes) -> nbformat.NotebookNode:
    """A notebook (format 4) from a file's bytes, or _NotANotebook with a one-line reason."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _NotANotebook("not UTF-8 text") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise _NotANotebook(f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
    if not isinstance(raw, dict) or "nbformat" not in raw or not isinstance(raw.get("cells"), list):
        raise _NotANotebook("JSON, but not a Jupyter notebook (no 'nbformat' and 'cells')")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.convert(nbformat.reader.reads(text), 4)
            nbformat.validate(notebook)
    except Exception as error:  # ValidationError, NBFormatError, a malformed cell...
        reason = getattr(error, "message", None) or str(error) or type(error).__name__
        raise _NotANotebook(f"not a valid notebook: {reason.splitlines()[0]}") from None
    return notebook


def _stubs(cell: nbformat.NotebookNode) -> list[str]:
    """The untouched stubs in one cell, as text (a code stub is its two lines)."""
    pattern = _CODE_STUB if cell.cell_type == "code" else _ANSWER_STUB
    return [match.group(0).strip() for match in pattern.finditer(cell.source)]


def _describe(stub: str) -> str:
    name = re.search(r"Exercise '([^'\n]*)'", stub)
    return f"exercise {name.group(1)!r}" if name else "a written answer"


def _recorded(notebook: nbformat.NotebookNode) -> dict[str, str] | None:
    """The generator's record of the cells it wrote (cell key -> digest), or None where there is none."""
    record = notebook.metadata.get(_RECORD)
    generated = record.get("generated") if isinstance(record, dict) else None
    if isinstance(generated, dict) and all(isinstance(v, str) for v in generated.values()):
        return dict(generated)
    return None


def _pairs(existing: nbformat.NotebookNode, generated: nbformat.NotebookNode) -> dict[int, int]:
    """Generated cell -> existing cell, by id, else by index."""
    by_id = {c.get("id"): i for i, c in enumerate(existing.cells) if c.get("id")}
    new_ids = {c.get("id") for c in generated.cells if c.get("id")}
    paired: dict[int, int] = {}
    for index, cell in enumerate(generated.cells):
        if cell.get("id") in by_id:
            paired[index] = by_id[cell.get("id")]
        elif index < len(existing.cells) and existing.cells[index].get("id") not in new_ids:
            paired[index] = index
    return paired


def _missing_stubs(old: nbformat.NotebookNode, new: nbformat.NotebookNode | None) -> list[str]:
    """The stubs of ``new`` (the cell as it will be generated) that ``old`` no longer holds."""
    if new is None:
        return []
    wanted = _stubs(new)
    have = _stubs(old) if old.cell_type == new.cell_type else []
    return [s for s in wanted if s not in have]


def learner_work(existing: nbformat.NotebookNode, generated: nbformat.NotebookNode) -> list[str]:
    """What in ``existing`` (an exercise notebook on disk) no generator run made; [] if nothing.

    ``existing`` records the digest of every cell the generator wrote (``metadata.gancourse``):
    a cell whose source no longer has its digest was edited by the learner (a stub replaced,
    notes in a text cell, a line of code changed), and a non-empty cell with no record was added
    by the learner; a cell whose source is one the generator wrote (under another id: ids change
    when a tool renumbers them) or writes now is not. Outputs, execution counts and metadata never
    count: a learner who ran the stub cells has made nothing to lose. A notebook without the
    record (from before it existed) falls back to the stubs: a cell whose stubs are gone, and a
    non-empty cell the new exercise does not have that holds no stub, are the learner's.
    """
    recorded = _recorded(existing)
    if recorded is None:
        return _learner_work_by_stubs(existing, generated)
    known = set(recorded.values())
    new_sources = {c.source for c in generated.cells}
    paired = {old: new for new, old in _pairs(existing, generated).items()}
    found = []
    for at, old in enumerate(existing.cells):
        if _digest(old.source) in known or old.source in new_sources:
            continue  # as generated, then or now
        if _cell_key(old, at) in recorded:
            new = generated.cells[paired[at]] if at in paired else None
            missing = _missing_stubs(old, new)
            what = ", ".join(_describe(stub) for stub in missing) or "edited after it was generated"
            found.append(f"cell {at} ({what})")
        elif old.source.strip():
            found.append(f"cell {at} (a cell the exercise does not have)")
    return found


def _learner_work_by_stubs(existing: nbformat.NotebookNode, generated: nbformat.NotebookNode) -> list[str]:
    """:func:`learner_work` for a notebook without the generator's record: a notebook the generator
    wrote for any earlier version of its solution holds every stub it was given, so a cell whose
    stubs are gone, and a cell the new exercise does not have, holding no stub and not empty (a
    cell the learner added), are the learner's. Cells pair up by id, else by index."""
    paired = _pairs(existing, generated)  # generated cell -> existing cell
    found = []
    for index, cell in enumerate(generated.cells):
        wanted = _stubs(cell)
        if not wanted or index not in paired:
            continue  # no exercise here, or a new cell
        old = existing.cells[paired[index]]
        if old.source == cell.source:
            continue
        have = _stubs(old) if old.cell_type == cell.cell_type else []
        missing = [s for s in wanted if s not in have]
        renamed = [s for s in have if s not in wanted]  # a stub whose exercise the solution renamed
        if len(missing) > len(renamed):
            found.append(f"cell {paired[index]} ({', '.join(_describe(stub) for stub in missing)})")
    generated_sources = {c.source for c in generated.cells}
    for at, old in enumerate(existing.cells):
        if (at not in paired.values() and old.source.strip() and not _stubs(old)
                and old.source not in generated_sources):
            found.append(f"cell {at} (a cell the exercise does not have)")
    return found


# --- the generator ----------------------------------------------------------------------------

@dataclass
class _Plan:
    target: Path
    text: str
    old: bytes | None = None          # what is there now; None where there is no file
    backup: Path | None = None


@dataclass
class Result:
    """What :func:`generate` did: the exercise paths, which were written, backups, leftovers."""
    paths: list[Path] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)
    unknown: list[Path] = field(default_factory=list)


def _check_folders(solutions: Path, exercises: Path) -> None:
    if not solutions.exists():
        raise GeneratorError([f"the solutions folder {solutions} does not exist"])
    if not solutions.is_dir():
        raise GeneratorError([f"{solutions} is not a folder (expected a folder of solution notebooks)"])
    if not os.access(solutions, os.R_OK | os.X_OK):
        raise GeneratorError([f"cannot read the folder {solutions}: permission denied"])
    source, destination = solutions.resolve(), exercises.resolve()
    same = source == destination or (exercises.exists() and os.path.samefile(solutions, exercises))
    if same or destination.is_relative_to(source) or source.is_relative_to(destination):
        relation = ("is" if same else "is inside" if destination.is_relative_to(source) else "contains")
        raise GeneratorError([f"refused: the destination {exercises} {relation} the source {solutions}; "
                              f"writing there would replace or mix solutions with exercises"])
    if exercises.exists() and not exercises.is_dir():
        raise GeneratorError([f"{exercises} exists and is not a folder"])
    existing = destination
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise GeneratorError([f"cannot write in {existing}: permission denied"])


def _backup_name(target: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup, n = target.with_name(f"{target.name}.bak-{stamp}"), 1
    while backup.exists():
        backup, n = target.with_name(f"{target.name}.bak-{stamp}-{n}"), n + 1
    return backup


def _write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _plan(solutions: Path, exercises: Path, force: bool) -> tuple[list[_Plan], list[str]]:
    """Every exercise generated in memory and checked against what is on disk; nothing written."""
    plans, problems = [], []
    for source in sorted(solutions.glob("*.ipynb")):
        target = exercises / source.name
        try:
            solution = _parse_notebook(source.read_bytes())
            exercise = make_exercise(solution, name=str(source), path=f"{exercises.name}/{source.name}")
        except OSError as error:
            problems.append(f"cannot read {source}: {error.strerror or error}")
            continue
        except _NotANotebook as error:
            problems.append(f"{source} is not a notebook: {error}")
            continue
        except SolutionMarkerError as error:
            problems.append(str(error))
            continue
        text = nbformat.writes(exercise)
        plan = _Plan(target, text if text.endswith("\n") else text + "\n")
        if target.is_dir():
            problems.append(f"{target} is a folder; the exercise notebook cannot be written there")
            continue
        if target.exists() or target.is_symlink():
            try:
                plan.old = target.read_bytes()
            except OSError as error:
                problems.append(f"cannot read {target} to check it for a learner's work: {error.strerror or error}")
                continue
            if plan.old == plan.text.encode("utf-8"):
                plans.append(plan)
                continue
            try:
                work = learner_work(_parse_notebook(plan.old), exercise)
                what = f"holds a learner's work in {'; '.join(work)}" if work else None
            except _NotANotebook as error:
                what = f"is not a notebook the generator wrote ({error})"
            if what and not force:
                problems.append(f"{target} {what}: not replaced; use --force to replace it "
                                f"(a backup is kept as {target.name}.bak-<timestamp>)")
                continue
            if what:
                plan.backup = _backup_name(target)
        plans.append(plan)
    return plans, problems


class _Interrupted(KeyboardInterrupt):
    """Ctrl-C while writing; ``state`` says what is on disk ("nothing was changed", ...)."""

    def __init__(self, state: str):
        super().__init__(state)
        self.state = state


@contextlib.contextmanager
def _sigint_held():
    """While inside, Ctrl-C (SIGINT) only appends to the list yielded, for the code to act on at a
    safe point; the previous handler is back afterwards. Outside the main thread, or where SIGINT
    is ignored or handled outside Python, nothing changes."""
    pending: list[int] = []
    try:
        previous = signal.getsignal(signal.SIGINT)
        if previous in (signal.SIG_IGN, None):
            raise ValueError("SIGINT is not Python's to hold")
        signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    except ValueError:  # not the main thread
        previous = None
    try:
        yield pending
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _roll_back(plans: list[_Plan], exercises: Path, created_folder: bool) -> list[str]:
    """Put every target back as it was and remove the backups, judging by what is on disk (not by
    what the writes reported: one may have replaced its file and been interrupted just after).
    Returns the paths that could not be put back."""
    not_restored = []
    for plan in reversed(plans):
        new = plan.text.encode("utf-8")
        try:
            if plan.old != new and _read(plan.target) == new:  # ours: put back what was there
                if plan.old is None:
                    plan.target.unlink()
                else:
                    _write_bytes(plan.target, plan.old)
        except (Exception, KeyboardInterrupt):
            not_restored.append(str(plan.target))
            continue  # and keep its backup
        if plan.backup is not None:
            try:
                if _read(plan.backup) == plan.old:  # the name was free when planned: ours
                    plan.backup.unlink()
            except (Exception, KeyboardInterrupt):
                not_restored.append(str(plan.backup))
    if created_folder and not not_restored:
        with contextlib.suppress(OSError):
            exercises.rmdir()
    return not_restored


def _write(plans: list[_Plan], exercises: Path, pending: list[int]) -> list[Path]:
    """Write the backups, then the exercises; on any failure, or a Ctrl-C noted in ``pending``
    before the last file is written, put back what was there before (see :func:`_roll_back`)."""
    def step(path: Path) -> Path:
        if pending:
            raise KeyboardInterrupt
        return path

    created_folder = not exercises.exists()
    current = exercises
    try:
        current = step(exercises)
        exercises.mkdir(parents=True, exist_ok=True)
        for plan in plans:
            if plan.backup is not None:
                current = step(plan.backup)
                _write_bytes(plan.backup, plan.old)
        written = []
        for plan in plans:
            if plan.old != plan.text.encode("utf-8"):
                current = step(plan.target)
                atomic_write_text(plan.target, plan.text)
                written.append(plan.target)
        step(exercises)
    except BaseException as error:
        not_restored = _roll_back(plans, exercises, created_folder)
        state = ("nothing was changed" if not not_restored
                 else f"these could not be put back as they were: {', '.join(not_restored)}")
        if isinstance(error, KeyboardInterrupt):
            raise _Interrupted(state) from None
        if not isinstance(error, OSError):
            raise
        raise GeneratorError([f"could not write {current}: {error.strerror or error}; {state}"], exit_code=1) from None
    return written


def generate(solutions: Path, exercises: Path, force: bool = False,
             log: Callable[[str], None] | None = None) -> Result:
    """Write ``exercises/<stem>.ipynb`` for every ``solutions/<stem>.ipynb``, all or nothing.

    Args:
        solutions: the folder of solution notebooks.
        exercises: the folder to write; must not be ``solutions``, inside it or around it.
        force: replace exercise notebooks that hold a learner's work (or are not notebooks),
            each first copied to ``NAME.ipynb.bak-<time>``.
        log: called with one line for each thing done (``print`` from the command line).

    Raises:
        GeneratorError: one line per problem (bad folder, unreadable or invalid notebook,
            malformed marker, a learner's work in the way); nothing was written. With
            ``exit_code`` 1: a write failed and what was written was put back.
        KeyboardInterrupt: Ctrl-C. While the files are written it is held until the file in
            progress is whole, then every file is put back as it was and the backups removed
            (``.state`` says so, or names what could not be put back); once the last file is
            written the run finishes, its log naming the backups.
    """
    log = log or (lambda line: None)
    solutions, exercises = Path(solutions), Path(exercises)
    _check_folders(solutions, exercises)
    plans, problems = _plan(solutions, exercises, force)
    if problems:
        raise GeneratorError(problems)
    if not plans:
        raise GeneratorError([f"no solution notebooks (*.ipynb) in {solutions}"])
    result = Result(paths=[p.target for p in plans], backups=[p.backup for p in plans if p.backup])
    written = False
    try:
        with _sigint_held() as pending:
            result.written = _write(plans, exercises, pending)
            written = True  # from here on a Ctrl-C changes nothing: the log must name the backups
            for plan in plans:
                if plan.backup is not None:
                    log(f"kept a backup of {plan.target} (the learner's work): {plan.backup}")
            for path in result.written:
                log(f"wrote {path}")
            names = {p.target.name for p in plans}
            result.unknown = sorted(p for p in exercises.glob("*.ipynb") if p.name not in names)
            if result.unknown:
                log(f"note: left alone, no solution for: {', '.join(str(p) for p in result.unknown)}")
            log(f"{exercises}: {len(result.written)} written, {len(plans) - len(result.written)} already up to date")
        return result
    except KeyboardInterrupt:
        if not written:
            raise
        backups = f"; backups: {', '.join(map(str, result.backups))}" if result.backups else ""
        raise _Interrupted(f"all {len(plans)} exercises were written in {exercises}{backups}") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the usage block
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m gancourse.exercises", description=__doc__.split("\n")[0])
    parser.add_argument("solutions", type=Path, nargs="?", default=Path("solutions"))
    parser.add_argument("exercises", type=Path, nargs="?", default=Path("exercises"))
    parser.add_argument("--force", action="store_true",
                        help="replace exercise notebooks that hold a learner's work; "
                             "each is first copied to NAME.ipynb.bak-<time>")
    args = parser.parse_args(argv)
    try:
        generate(args.solutions, args.exercises, force=args.force, log=print)
    except GeneratorError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # a folder that vanished or broke while reading it
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {where}{error.strerror or error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as error:
        print(f"error: interrupted; {getattr(error, 'state', 'nothing was changed')}", file=sys.stderr)
        return 130
    return 0
