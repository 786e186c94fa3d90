"""Exercise checks: ``checks.check_<exercise>(answer)`` after each exercise of each lesson.

The contract (docs/design.md, Checks): a check takes the learner's function (or object), prints
one line starting with ✔ when it is right, and otherwise raises ``AssertionError`` with a hint
naming the likely mistake; code that crashes is reported the same way, naming the exception and
the line, never as a bare traceback. The reference a check compares against is the package's
own (``gancourse.losses``, the ``Trainer``, ...), on fixed inputs; a check then probes what the
value alone would miss (gradients, stability at logits of +-1000, in-place updates, which network
an optimizer step moves). A wrong answer that equals a known mistake gets that mistake's hint.
Learner code runs under a time limit, must leave the tensors it is given unchanged (unless the
exercise says *in place*), and a return value of the wrong kind is reported as what it is
(:mod:`gancourse.checks.core`).

Importing this package inside an IPython kernel turns the kernel's traceback colours off, so that
the self-check's report (nbval passes the kernel's tracebacks through) is plain text wherever it
runs, with or without the course's conftest.py.

Layout: :mod:`gancourse.checks.core` holds what the checks share; ``lessonNN`` holds the checks
lesson NN introduces and lists them in its ``__all__``. This package imports every ``lesson*``
module and re-exports those names, so adding a lesson's checks means adding one module.
"""
from __future__ import annotations

import importlib
import pkgutil

from gancourse.checks import core

__all__: list[str] = []

for _module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    if _module_info.name.startswith("lesson"):
        _lesson = importlib.import_module(f"{__name__}.{_module_info.name}")
        globals().update({name: getattr(_lesson, name) for name in _lesson.__all__})
        __all__ += _lesson.__all__
del _module_info, _lesson

core.plain_tracebacks()
