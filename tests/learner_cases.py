"""The harness shared by the learner-answer tests (tests/test_learner_*.py).

Each of those files keeps its own registry of cases (its learner answers, verdicts and hints) and
one parametrized test that hands each case to `assert_verdict`, which calls the exercise's check
on the answer exactly as the exercise's check cell does: a "pass" answer must not raise; a "fail"
answer must raise AssertionError (any other exception type, or no exception, fails the test) whose
hint (the text after "Hint:", or the whole message where it has no such line) contains the case's
`hint`. How a check cell passes the answer differs between exercises; the Case fields below say how.

Not collected by pytest (no test_ prefix); the test files import it from their own directory
(tests/ has no __init__.py, so pytest's default import mode puts tests/ on sys.path).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
import torch

from gancourse import checks


@dataclass
class Case:
    check: str                  # name of the function in gancourse.checks
    answer: Any                 # the learner's function, class or decision
    verdict: str                # "pass" or "fail", from the exercise text (and its evidence)
    id: str                     # pytest id
    mistake: str = ""           # what is wrong (wrong answers only)
    style: str = ""             # how the answer is written (correct answers)
    hint: str = ""              # (wrong answers) a distinctive part of the hint the check must give for the mistake
    kwargs: dict = field(default_factory=dict)  # extra arguments the exercise passes to the check
    instantiate: bool = False   # spec checks receive an instance: answer() as in `Generator()`
    decision: bool = False      # the answer is the tuple of the values the check cell passes (one argument each)
    measured: bool = False      # the check cell also passes what the exercise's cell measured (lesson 04's
                                # `measured`): assert_verdict's `measured` computes it when the test runs
    seed: int | None = 0        # torch.manual_seed(seed) just before the check is called; None: no seeding


class Registry:
    """One test file's cases, in the order they are registered."""

    def __init__(self, seed: int | None = 0):
        self.cases: list[Case] = []
        self.seed = seed        # each case's `seed`

    def case(self, check, answer, verdict, id, mistake="", style="", *, hint="", kwargs=None, **fields) -> Case:
        assert verdict in ("pass", "fail")
        assert (verdict == "fail") == bool(mistake) == bool(hint), id
        fields.setdefault("seed", self.seed)
        new = Case(check, answer, verdict, id, mistake, style, hint, kwargs or {}, **fields)
        self.cases.append(new)
        return new

    def ok(self, check, id, style, kwargs=None, **fields):
        """Decorator: a correct answer."""
        def register(answer):
            self.case(check, answer, "pass", id, style=style, kwargs=kwargs, **fields)
            return answer
        return register

    def bad(self, check, id, mistake, kwargs=None, hint="", **fields):
        """Decorator: a wrong answer, and a distinctive part of the hint that names its mistake."""
        def register(answer):
            self.case(check, answer, "fail", id, mistake=mistake, kwargs=kwargs, hint=hint, **fields)
            return answer
        return register

    def ok_value(self, check, id, answer, style, **fields):
        """A right answer given as a value (a decision), in one learner's spelling."""
        self.case(check, answer, "pass", id, style=style, **fields)

    def bad_value(self, check, id, answer, mistake, hint, **fields):
        """A wrong answer given as a value (or not an answer at all), and a distinctive part of the hint
        that names its mistake."""
        self.case(check, answer, "fail", id, mistake=mistake, hint=hint, **fields)

    def ids(self) -> list[str]:
        """The pytest ids, each used once."""
        seen = set()
        for c in self.cases:
            assert c.id not in seen, f"duplicate id {c.id}"
            seen.add(c.id)
        return [c.id for c in self.cases]


def hint_of(message: str) -> str:
    """The hint in a check's message: the text after "Hint:", or the whole message where it has no such line."""
    return message.split("\nHint: ", 1)[1] if "\nHint: " in message else message


def assert_verdict(case: Case, measured: Callable[[], Any] | None = None):
    """Call the case's check on its answer as the exercise's check cell does, and assert the verdict."""
    check: Callable = getattr(checks, case.check)
    answer = case.answer() if case.instantiate else case.answer
    args = answer if case.decision else (answer,)
    if case.measured:
        args = (*args, measured())
    if case.seed is not None:
        torch.manual_seed(case.seed)
    if case.verdict == "pass":
        check(*args, **case.kwargs)  # must not raise
    else:
        with pytest.raises(AssertionError) as info:
            check(*args, **case.kwargs)
        message = str(info.value)
        assert case.hint in hint_of(message), \
            f"{case.id} ({case.mistake}) should get the hint {case.hint!r}; got:\n{message}"
