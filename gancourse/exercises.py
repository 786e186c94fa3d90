"""Generate exercise notebooks from solution notebooks (docs/design.md, Exercises).

In a solution notebook the learner's part of a code cell sits between ``### BEGIN SOLUTION`` and
``### END SOLUTION``. The exercise copy replaces that region with a stub raising
``NotImplementedError`` that names the exercise: the name written after the marker
(``### BEGIN SOLUTION scale_pixels``), or else the function the region sits in. Markdown regions
become "YOUR ANSWER HERE". Outputs, execution counts and widget state are dropped.

    python -m gancourse.exercises solutions/ exercises/      # what `make exercises` runs
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+(\w+)\s*\(")


class SolutionMarkerError(ValueError):
    """A solution region is malformed (nested, unterminated or unnamed)."""


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


def strip_solutions(source: str, code: bool = True, where: str = "cell") -> str:
    """Replace every solution region in one cell's source with its stub."""
    out: list[str] = []
    inside = False
    for line in source.split("\n"):
        if BEGIN in line:
            if inside:
                raise SolutionMarkerError(f"{where}: nested {BEGIN!r}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            if code:
                name = _exercise_name(line, out)
                if name is None:
                    raise SolutionMarkerError(
                        f"{where}: name the exercise after the marker ('### {BEGIN} my_exercise') "
                        f"or put the region inside a function")
                out += [f"{indent}# YOUR CODE HERE",
                        f'{indent}raise NotImplementedError("Exercise {name!r} is not done yet: '
                        f'replace this line with your code, then run the check cell below.")']
            else:
                out.append(f"{indent}YOUR ANSWER HERE")
        elif END in line:
            if not inside:
                raise SolutionMarkerError(f"{where}: {END!r} without {BEGIN!r}")
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
    return notebook


def exercise_names(notebook: nbformat.NotebookNode) -> list[str]:
    """Names of the exercises in a solution notebook, in order."""
    names = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            if BEGIN in line:
                names.append(_exercise_name(line, lines[:i]))
    return names


def generate(solutions: Path, exercises: Path) -> list[Path]:
    """Write ``exercises/<stem>.ipynb`` for every ``solutions/<stem>.ipynb``; return the paths.

    Exercise notebooks whose solution no longer exists are removed.
    """
    exercises.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(solutions.glob("*.ipynb")):
        target = exercises / source.name
        notebook = make_exercise(nbformat.read(source, as_version=4), name=str(source),
                                 path=f"{exercises.name}/{source.name}")
        nbformat.write(notebook, target)
        written.append(target)
    for stale in set(exercises.glob("*.ipynb")) - set(written):
        stale.unlink()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gancourse.exercises", description=__doc__.split("\n")[0])
    parser.add_argument("solutions", type=Path, nargs="?", default=Path("solutions"))
    parser.add_argument("exercises", type=Path, nargs="?", default=Path("exercises"))
    args = parser.parse_args(argv)
    if not args.solutions.is_dir():
        parser.error(f"{args.solutions} is not a folder of solution notebooks")
    try:
        for path in generate(args.solutions, args.exercises):
            print(f"wrote {path}")
    except SolutionMarkerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
