"""What every lesson's checks share: calling learner code safely, turning a crash into a hint,
matching a wrong result against a catalogue of known answers, reading a decision (the answer of a
judgment exercise: one option among several, judged from evidence the notebook shows), and
comparing losses.

A check module imports from here; nothing here is a check itself.

The rules every check applies through :func:`call` (and every exercise text states):

- learner code runs under a time limit (:data:`TIME_LIMIT_S`); an endless loop becomes an
  AssertionError that says so, and so do ``sys.exit()``, ``exit()`` and ``quit()``;
- a function leaves the tensors it is given unchanged (the in-place rule): only an exercise
  that says *in place* (``dcgan_init``, ``clip_weights``) changes what it is given;
- a value of the wrong kind (``None`` from a forgotten ``return``, a string, a list ...) is
  reported as what it is, never as a TypeError from inside the check.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import re
import signal
import sys
import sysconfig
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

RTOL, ATOL = 1e-4, 1e-5

#: Seconds one call of learner code may take. The checks' inputs are small: a correct answer
#: takes well under a second even on a slow CPU, so this only catches endless loops.
TIME_LIMIT_S = 30.0

Parameters = list[torch.Tensor]  # a module's parameters, in order

IN_PLACE_RULE = ("the course's functions leave the tensors they are given unchanged and return new "
                 "ones (only an exercise that says *in place* changes what it is given)")


# --- plain-text tracebacks -------------------------------------------------------------------

def _ipython_shell() -> Any:
    """The running IPython shell, or None outside IPython."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return get() if get is not None else None


def plain_tracebacks() -> None:
    """Turn off ANSI colours in the kernel's tracebacks, so that a failing check reads as plain
    text wherever it is shown: in Jupyter, and in nbval's report, which passes the kernel's
    traceback through as it is (docs/design.md, Checks)."""
    shell = _ipython_shell()
    if shell is None:
        return
    with contextlib.suppress(Exception):  # an IPython without the theme: keep its default
        shell.run_line_magic("colors", "nocolor")


# --- calling learner code ------------------------------------------------------------------

def learner_facing(check: Callable) -> Callable:
    """Re-raise a check's AssertionError from one short frame, so a learner sees their cell's
    line and the hint, not the check's internals (IPython always shows the raising frame)."""
    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841 — pytest hides this frame; IPython shows its last lines
        try:
            return check(*args, **kwargs)
        except AssertionError as error:
            plain_tracebacks()  # plain text, in Jupyter and in nbval's report
            message = str(error)
            # Your answer did not pass this check. The message below says what looks wrong.
            raise AssertionError(message) from None
    return wrapper


class _OutOfTime(BaseException):
    """Raised inside learner code that runs past the time limit (a BaseException, so that the
    learner's own ``except Exception`` cannot swallow it)."""


def _run_with_alarm(fn: Callable, args: tuple, seconds: float) -> Any:
    """``fn(*args)`` with SIGALRM raising :class:`_OutOfTime` after ``seconds`` (main thread).
    An alarm already set by someone else is kept: it still fires at its time."""
    start = time.monotonic()
    previous = signal.getsignal(signal.SIGALRM)
    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    outer = {"pending": bool(outer_delay)}

    def on_alarm(signum, frame):
        elapsed = time.monotonic() - start
        if outer["pending"] and elapsed < seconds - 0.05:  # the outer alarm, due before ours
            outer["pending"] = False
            signal.setitimer(signal.ITIMER_REAL, seconds - elapsed)
            if callable(previous):
                previous(signum, frame)
            return
        raise _OutOfTime()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer_delay) if outer_delay else seconds)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer["pending"]:
            signal.setitimer(signal.ITIMER_REAL, max(outer_delay - (time.monotonic() - start), 1e-3), outer_interval)
        elif outer_interval:
            signal.setitimer(signal.ITIMER_REAL, outer_interval, outer_interval)


def _run_with_watchdog(fn: Callable, args: tuple, seconds: float) -> Any:
    """``fn(*args)`` in a thread other than the main one: a timer thread raises
    :class:`_OutOfTime` in this thread after ``seconds`` (effective between Python bytecodes,
    which is where endless loops spin)."""
    target, lock, done = threading.get_ident(), threading.Lock(), [False]

    def fire():
        with lock:
            if not done[0]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), ctypes.py_object(_OutOfTime))

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        return fn(*args)
    finally:
        with lock:
            done[0] = True
        timer.cancel()


def _run_limited(fn: Callable, args: tuple, seconds: float | None) -> Any:
    if not seconds or seconds <= 0:
        return fn(*args)
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        return _run_with_alarm(fn, args, seconds)
    return _run_with_watchdog(fn, args, seconds)


class _ExitCalled(SystemExit):
    """IPython's ``exit()`` / ``quit()`` inside learner code, turned into an exception."""


@contextlib.contextmanager
def _exit_refused():
    """In an IPython kernel, ``exit()`` and ``quit()`` do not raise: they schedule the kernel's
    shutdown. While learner code runs they raise :class:`_ExitCalled` instead."""
    shell = _ipython_shell()
    if shell is None or not hasattr(shell, "ask_exit"):
        yield
        return

    def refuse(*args, **kwargs):
        raise _ExitCalled("exit()")

    had_own = "ask_exit" in vars(shell)
    own = vars(shell).get("ask_exit")
    shell.ask_exit = refuse
    try:
        yield
    finally:
        if had_own:
            shell.ask_exit = own
        else:
            with contextlib.suppress(AttributeError):
                del shell.ask_exit


def call(fn: Callable, *args, what: str, hints: Sequence[Callable[[str], str]] = (), in_place: bool = False,
         limit: float | None = None) -> Any:
    """Call the learner's function under the time limit; turn a crash, an endless loop or an exit
    into an AssertionError that says what happened and where.

    ``hints`` are the check's own crash hints, functions of the error's text returning '' when
    they do not apply; they come before the general ones. Unless ``in_place`` (the exercise
    says so), the tensors among ``args`` must be unchanged afterwards (the in-place rule).
    """
    seconds = TIME_LIMIT_S if limit is None else limit
    before = [] if in_place else [(i, a, a.detach().clone()) for i, a in enumerate(args) if torch.is_tensor(a)]
    try:
        with _exit_refused():
            result = _run_limited(fn, args, seconds)
    except NotImplementedError as error:
        raise AssertionError(f"{what}: {error}") from None
    except _OutOfTime:
        raise AssertionError(f"{what} did not return within {seconds:g} s: an endless loop? The check's inputs "
                             f"are small, so a correct answer takes well under a second. Look for a `while` "
                             f"whose condition never changes, or a loop that never reaches its `return`.") from None
    except SystemExit as error:
        called = ("exit() or quit()" if isinstance(error, _ExitCalled) else
                  f"sys.exit({'' if error.code is None else repr(error.code)}) (or exit() / quit())")
        raise AssertionError(f"{what} called {called}, which stops the program instead of returning a value. "
                             f"Return the result; to report a problem, raise an exception "
                             f"(raise ValueError('...')).") from None
    except Exception as error:  # the learner's code crashed (an AssertionError of theirs too)
        raise AssertionError(crash_report(error, what, args, hints, in_place)) from None
    for position, tensor, copy in before:
        if tensor.shape != copy.shape or not torch.equal(tensor.detach(), copy):
            raise AssertionError(
                f"{what} changed its {_ORDINALS[position]} argument, a tensor of shape {tuple(copy.shape)}, in "
                f"place.\nHint: {IN_PLACE_RULE}. Replace in-place operations on it (`x += 1`, `x.add_(1)`, "
                f"`x.clamp_(...)`, `x[...] = ...`) by ones that make a new tensor (`x = x + 1`, `x.clamp(...)`), "
                f"or work on `x.clone()`.")
    return result


_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh"]


def _library_dirs() -> tuple[str, ...]:
    paths = {os.path.dirname(torch.__file__), os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            paths.add(sysconfig.get_paths()[key])
    return tuple(os.path.join(p, "") for p in paths if p)


_LIBRARIES = _library_dirs()


def learner_frame(tb) -> traceback.FrameSummary | None:
    """The innermost frame of the traceback in the learner's code (not in torch, the course's
    package or the standard library), else the innermost frame."""
    frames = traceback.extract_tb(tb)
    for frame in reversed(frames):
        name = frame.filename
        if not (name.startswith(_LIBRARIES) or name.startswith("<frozen")):
            return frame
    return frames[-1] if frames else None


def crash_report(error: BaseException, what: str, args: Sequence = (), hints: Sequence[Callable[[str], str]] = (),
                 in_place: bool = False) -> str:
    """'your X raised E at line N: `code`', the error's message and a hint."""
    frame = learner_frame(error.__traceback__)
    where = f" at line {frame.lineno}: `{(frame.line or '').strip()}`" if frame else ""
    hint = next((h for h in (hint(str(error)) for hint in hints) if h), "") or crash_hint(error, args, in_place)
    return f"{what} raised {type(error).__name__}{where}\n  {error}" + (f"\nHint: {hint}" if hint else "")


def shapes_of(args: Sequence) -> str:
    """'(6,) and (10,)': the shapes of the tensors among ``args``."""
    shapes = [str(tuple(a.shape)) for a in args if torch.is_tensor(a)]
    return " and ".join([", ".join(shapes[:-1]), shapes[-1]] if len(shapes) > 1 else shapes)


_MATMUL = re.compile(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)")
_VIEW = re.compile(r"shape '\[(-?\d+)[,\]].* is invalid for input of size")
_HARD_CODED_BATCH = "a batch size written into the code. Take it from the input: x.view(x.size(0), ...), or -1 there"


def _flatten_hint(x: torch.Tensor | None, rows: int, given: int, wanted: int) -> str:
    """What a Linear layer's wrong number of input features says about how the learner's input
    ``x`` (a batch) was flattened, or '' when it says nothing."""
    if x is None or x.dim() < 2:
        return ""
    batch, features = x.shape[0], x.numel() // x.shape[0]
    if rows == 1 and given == x.numel() and batch > 1:
        return (f"the whole batch was flattened into one row of {given} numbers (x.view(-1) or x.flatten()): "
                f"flatten each sample on its own, from dimension 1: nn.Flatten(), x.flatten(1) or "
                f"x.view(x.size(0), -1).")
    if x.dim() > 2 and given == x.shape[-1] and rows * given == x.numel() and wanted == features:
        return (f"the input reached a Linear layer without being flattened: the layer acted on its last "
                f"dimension ({given} values) instead of all {wanted} numbers of each sample. Flatten first: "
                f"nn.Flatten() or x.view(x.size(0), -1).")
    if rows != batch and rows * given == x.numel():
        return (f"the view made {rows} rows of {given} numbers from a batch of {batch}: {_HARD_CODED_BATCH}; "
                f"or flatten with nn.Flatten().")
    return ""


def crash_hint(error: BaseException, args: Sequence = (), in_place: bool = False) -> str:
    """What usually causes a crash with this message, or '' when nothing is known; ``args``
    (the learner's inputs) make a shape hint concrete."""
    text = str(error)
    inputs = shapes_of(args)
    if "backward through the graph a second time" in text:
        return ("a graph was used again after backward(). Detach the fakes for the discriminator "
                "(G(z).detach()) and compute D(G(z)) afresh for the generator's update.")
    if "does not require grad" in text:
        return ("the gradient is taken with respect to a tensor that does not require grad: "
                "call .requires_grad_(True) on it first, and don't .detach() or .item() the loss.")
    if "modified by an inplace operation" in text:
        return ("a tensor needed for a gradient was changed in place, often by opt_d.step() between "
                "computing D(G(z)) and calling backward() on the generator's loss. Compute D(G(z)) "
                "again after the discriminator's update.")
    if "leaf Variable that requires grad" in text:
        if in_place:
            return "change parameters in place inside `with torch.no_grad():` (or on `p.data`)."
        return (f"an input tensor was changed in place; {IN_PLACE_RULE}. Write `x = x + 1` instead of "
                f"`x += 1` or `x.add_(1)`.")
    x = next((a for a in args if torch.is_tensor(a)), None)
    matmul = _MATMUL.search(text)
    if matmul:
        rows, given, wanted, _ = (int(v) for v in matmul.groups())
        return _flatten_hint(x, rows, given, wanted) or (
            f"a Linear layer built for {wanted} input features was given {given} features per row. "
            f"Compare the sizes written into the layers with the inputs" + (f" ({inputs})." if inputs else "."))
    view = _VIEW.search(text)
    if view and x is not None and x.dim() > 0 and int(view.group(1)) not in (-1, x.shape[0]):
        return f"the view asks for {view.group(1)} samples, but the batch has {x.shape[0]}: {_HARD_CODED_BATCH}."
    if "input to conv_transpose2d" in text and re.search(r"got input of size: \[\d+, \d+\]", text):
        return ("a transposed convolution takes (B, C, H, W) inputs, and z is (B, latent_dim): reshape it to "
                "(B, latent_dim, 1, 1) first, z.view(-1, self.latent_dim, 1, 1).")
    if "arget size" in text and "input size" in text:
        return ("the labels must have the logits' shape ((B,) or (B, 1)): build them with "
                "torch.ones_like(logits) and torch.zeros_like(logits).")
    if "must match the size of tensor" in text:
        return ("two tensors whose shapes do not broadcast were combined" + (f"; the inputs were {inputs}." if inputs
                                                                              else "."))
    if "size" in text or "shape" in text:
        return "check the shapes" + (f": the inputs were {inputs}." if inputs else ".")
    return ""


# --- what came back ----------------------------------------------------------------------------

def describe(value: Any) -> str:
    """A short description of a returned value: 'None', "the string 'abc'", 'a tensor of shape
    (3,) and dtype float32', 'a tuple of 2 items', 'a NumPy array of shape (3,)', 'the int 3'."""
    if value is None:
        return "None"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"the string {shown!r}"
    if torch.is_tensor(value):
        return f"a tensor of shape {tuple(value.shape)} and dtype {str(value.dtype).replace('torch.', '')}"
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):
        return f"a NumPy {type(value).__name__} of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list, dict, set)):
        return f"a {type(value).__name__} of {len(value)} item{'s' * (len(value) != 1)}"
    if isinstance(value, (bool, int, float)):
        return f"the {type(value).__name__} {value!r}"
    if isinstance(value, nn.Module):
        return f"a module ({type(value).__name__})"
    return f"a {type(value).__name__}"


def wrong_return(value: Any, what: str, expected: str) -> AssertionError:
    """The AssertionError for a value of the wrong kind: what came back, what was expected."""
    if value is None:
        return AssertionError(f"{what} returned None: did you forget `return`? It should return {expected}.")
    return AssertionError(f"{what} returned {describe(value)}; it should return {expected}.")


def wrong_setting(value: Any, what: str, expected: str, when_none: str | None = None) -> AssertionError:
    """The AssertionError for a *name the learner sets* (a judgment exercise's answer, not a
    function's return) holding a value of the wrong kind: '<what> is None: set it to ...', or
    '<what> is <the value>; it should be <expected>'."""
    if value is None:
        return AssertionError(f"{what} is None: set it to {when_none or expected}.")
    return AssertionError(f"{what} is {describe(value)}; it should be {expected}.")


def need_tensor(value: Any, what: str, expected: str = "a tensor") -> torch.Tensor:
    """``value`` when it is a tensor; else the AssertionError saying what came back."""
    if not torch.is_tensor(value):
        raise wrong_return(value, what, expected)
    return value


def need_number(value: Any, what: str, expected: str = "a number (a float or a 0-d tensor)") -> float:
    """``value`` as a float when it is one number (int, float, 0-d or one-element tensor or
    array); else the AssertionError saying what came back."""
    if isinstance(value, bool) or isinstance(value, (str, bytes)) or value is None:
        raise wrong_return(value, what, expected)
    if torch.is_tensor(value):
        if value.numel() == 1:
            return float(value.detach().reshape(()))
        raise wrong_return(value, what, expected)
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):
        if value.size == 1:
            return float(value.reshape(-1)[0])
        raise wrong_return(value, what, expected)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise wrong_return(value, what, expected) from None


def as_float_tensor(value: Any, what: str, expected: str) -> torch.Tensor:
    """``value`` (a tensor, a NumPy array or a number) as a float64 tensor; else the
    AssertionError saying what came back."""
    if value is None or isinstance(value, (str, bytes, dict, set)) or isinstance(value, nn.Module):
        raise wrong_return(value, what, expected)
    try:
        if torch.is_tensor(value):
            return value.detach().to(torch.float64)
        return torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise wrong_return(value, what, expected) from None


def passed(message: str) -> None:
    """Print a check's one line of success."""
    print(f"✔ {message}")


# --- known answers: one mechanism for "which mistake is this?" -------------------------------

@dataclass(frozen=True)
class KnownAnswer:
    """An answer a check recognises: ``hint`` says what it is, ``produce`` is the answer itself,
    a value or a function of the check's inputs (called only when the catalogue reaches it)."""

    hint: str
    produce: Any


def values_match(got: Any, known: Any) -> bool:
    """The default comparison: same shape and equal within rtol 1e-4, atol 1e-6, NaN where the
    known answer is NaN (a log of a negative number, say: the same mistake)."""
    return close(got, known, rtol=1e-4, atol=1e-6, equal_nan=True)


def match(got: Any, catalogue: Iterable[KnownAnswer], *inputs: Any,
          same: Callable[[Any, Any], bool] = values_match) -> KnownAnswer | None:
    """The first known answer in ``catalogue`` that ``same`` finds equal to ``got``, else None."""
    for answer in catalogue:
        known = answer.produce(*inputs) if callable(answer.produce) else answer.produce
        try:
            if same(got, known):
                return answer
        except (RuntimeError, TypeError, ValueError):  # a result of another shape or type matches nothing
            continue
    return None


def diagnose(got: Any, catalogue: Iterable[KnownAnswer], *inputs: Any,
             same: Callable[[Any, Any], bool] = values_match) -> str:
    """The hint of the first known answer equal to ``got`` (see :func:`match`), else ''."""
    found = match(got, catalogue, *inputs, same=same)
    return found.hint if found is not None else ""


def hint_over_probes(failed: int, values: list, catalogue: Sequence[KnownAnswer], input_sets: Sequence[tuple],
                     same: Callable[[Any, Any], bool] = values_match) -> str:
    """The hint for a value that was wrong on probe ``failed``: among the known answers equal to it
    there, the first that is also equal to the learner's value on every other probe (``values[i]``
    came from ``input_sets[i]``; None where the learner's code gave no value), else the first equal
    on the failing probe alone. Several mistakes can agree on one probe; the other probes tell them
    apart."""
    candidates = [answer for answer in catalogue
                  if match(values[failed], [answer], *input_sets[failed], same=same) is not None]
    for answer in candidates:
        if all(value is None or match(value, [answer], *inputs, same=same) is not None
               for value, inputs in zip(values, input_sets)):
            return answer.hint
    return candidates[0].hint if candidates else ""


# --- decisions: answers that are a choice among options ----------------------------------------

def _plain(text: str) -> str:
    """Lower case, letters and digits only: 'D wins!', 'd-wins' and 'DWins' all read 'dwins'."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def choice(answer: Any, what: str, options: dict[str, Sequence[str]]) -> str:
    """The option ``answer`` names: a string equal to an option's key or to one of its synonyms,
    read without case, spaces or punctuation. Else an AssertionError listing the options."""
    listed = ", ".join(repr(key) for key in options)
    if not isinstance(answer, str):
        raise wrong_setting(answer, what, f"a string: one of {listed}",
                            f"your decision, a string: one of {listed}")
    said = _plain(answer)
    for key, synonyms in options.items():
        if said in {_plain(name) for name in (key, *synonyms)}:
            return key
    raise AssertionError(f"{what} is {answer!r}, which names none of the options: write one of {listed}.")


def lettered(noun: str, letters: Iterable[str]) -> dict[str, list[str]]:
    """Options named by letter, for :func:`choice`: 'B' also read as '<noun> B' and 'option B'."""
    return {letter: [f"{noun} {letter}", f"option {letter}"] for letter in letters}


def check_choice(answer: Any, what: str, options: dict[str, Sequence[str]], right: str,
                 evidence: Iterable[KnownAnswer]) -> str:
    """The option ``answer`` names (see :func:`choice`) when it is ``right``; else an AssertionError
    whose hint is the evidence against the option named: the hint of the :class:`KnownAnswer` in
    ``evidence`` whose answer is that option (a judgment exercise's catalogue: one entry per wrong
    option, each saying with the exhibit's numbers why it is wrong)."""
    got = choice(answer, what, options)
    if got != right:
        hint = diagnose(got, evidence, same=lambda named, known: named == known)
        raise AssertionError(f"{what} is {answer!r}: not what the evidence shows."
                             + (f"\nHint: {hint}" if hint else ""))
    return got


# --- values and losses -----------------------------------------------------------------------

def as_scalar(value: Any, what: str) -> torch.Tensor:
    """The learner's loss as a 0-dim tensor; an AssertionError saying why when it is not one."""
    if not torch.is_tensor(value):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise AssertionError(f"{what} returned {describe(value)}, not a tensor. Return the loss as a 0-d "
                                 f"tensor (no .item()), so that backward() can be called on it.")
        raise wrong_return(value, what, "the loss as a 0-d tensor")
    if value.numel() != 1:
        raise AssertionError(f"{what} returned a tensor of shape {tuple(value.shape)}; a loss is one "
                             f"number. Average over the batch with .mean().")
    return value.reshape(())


def close(a: Any, b: Any, rtol: float = RTOL, atol: float = ATOL, equal_nan: bool = False) -> bool:
    """Same shape and all values close, compared in float64."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def fail_with_hint(what: str, got: Any, expected: Any, hint: str) -> None:
    """Raise the AssertionError 'gave <got>, expected <expected>' with ``hint``."""
    got_text = f"{float(got):.6g}" if torch.as_tensor(got).numel() == 1 else str(got)
    expected_text = f"{float(expected):.6g}" if torch.as_tensor(expected).numel() == 1 else str(expected)
    raise AssertionError(f"{what} gave {got_text}, expected {expected_text}.\nHint: {hint}")


def random_logits(seed: int, n: int, scale: float = 2.0) -> torch.Tensor:
    """``n`` fixed random logits (a batch of discriminator outputs) that require grad."""
    return (torch.randn(n, generator=torch.Generator().manual_seed(seed)) * scale).requires_grad_(True)


def bce_with_label(logits: torch.Tensor, label: float) -> torch.Tensor:
    """Binary cross-entropy of ``logits`` against one label for the whole batch."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


def bce_on_sigmoid(logits: torch.Tensor, label: float) -> torch.Tensor:
    """The unstable way: ``F.binary_cross_entropy(torch.sigmoid(logits), label)``, whose log is
    clamped at -100 (a known mistake of every loss check)."""
    return F.binary_cross_entropy(torch.sigmoid(logits), torch.full_like(logits, label))


BCE_ON_SIGMOID_HINT = (
    "F.binary_cross_entropy on torch.sigmoid(logits) clamps its log at -100: for a logit of -1000 it gives "
    "100 instead of 1000, and its gradient at a logit of -100 is 0 instead of -1, so a discriminator that is "
    "confidently wrong gets no signal. The lesson's rule: never put a sigmoid before the loss. Give the logits "
    "to F.binary_cross_entropy_with_logits, or use log sigmoid(t) = F.logsigmoid(t) = -F.softplus(-t).")

#: Logits well beyond +-100 (the first and, negated, the second argument of a two-argument loss):
#: log(sigmoid(t)) is -inf at -1000; binary_cross_entropy's clamped log gives 100 there, and a
#: zero gradient at -100.
STABILITY_PROBE = (1000.0, -1000.0, 100.0, -100.0, 30.0, -30.0, 2.0)


def value_and_grads(fn: Callable, inputs: list[torch.Tensor], what: str,
                    number_ok: bool = False) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
    """The loss ``fn(*inputs)`` and its gradient with respect to each input. With ``number_ok``
    a plain number (a float, or a tensor without a graph) is accepted too, without gradients."""
    inputs = [x.detach().clone().requires_grad_(True) for x in inputs]
    result = call(fn, *inputs, what=what)
    if number_ok and not (torch.is_tensor(result) and result.requires_grad):
        value = need_number(result, what, "one number: a Python float or a 0-d tensor")
        return torch.tensor(value, dtype=torch.float64), None
    out = as_scalar(result, what)
    if not out.requires_grad:
        raise AssertionError(f"{what} returned a loss with no gradient: it was detached from its "
                             f"inputs (.item(), .detach(), .numpy() or torch.tensor(...) on a result). "
                             f"Build it from torch operations on the inputs.")
    grads = torch.autograd.grad(out, inputs, allow_unused=True)
    grads = [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads)]
    return out.detach(), grads


class _ExpOverflow(TorchFunctionMode):
    """Records whether learner code called exp on finite numbers and got inf."""

    def __init__(self):
        super().__init__()
        self.seen = False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        finite = bool(args) and torch.is_tensor(args[0]) and bool(torch.isfinite(args[0]).all())
        result = func(*args, **(kwargs or {}))
        if finite and getattr(func, "__name__", "") in ("exp", "exp_") and bool(torch.isinf(result).any()):
            self.seen = True
        return result


LOG_OF_ONE_HINT = (
    "sigmoid(t) rounds to exactly 1 in float32 once t is above about 17, so log(1 - sigmoid(t)) (and "
    "torch.log1p(-torch.sigmoid(t)) too) is log(0) = -inf. Work on logits: log(1 - sigmoid(t)) = -F.softplus(t) "
    "and log sigmoid(t) = F.logsigmoid(t) = -F.softplus(-t), or F.binary_cross_entropy_with_logits.")
EXP_OVERFLOW_HINT = (
    "exp overflows: torch.exp(t) is inf in float32 once t is above about 88, so a softplus written by hand, "
    "log(1 + exp(t)) or torch.log1p(torch.exp(t)), gives inf. Use F.softplus(t) (and log sigmoid(t) = "
    "-F.softplus(-t) = F.logsigmoid(t)) or F.binary_cross_entropy_with_logits: they never take exp of a large number.")
LOG_UNDERFLOW_HINT = (
    "log(sigmoid(t)) underflows to log(0) = -inf (sigmoid(t) is 0 in float32 below about -88). Work on logits: "
    "F.binary_cross_entropy_with_logits, or log sigmoid(t) = -F.softplus(-t) and log(1 - sigmoid(t)) = -F.softplus(t).")


def _non_finite_hint(fn: Callable, extreme: list[torch.Tensor], what: str, number_ok: bool) -> str:
    """Why a loss is inf or NaN on :data:`STABILITY_PROBE`: a log of a sigmoid rounded to 1 (already
    at logits of ±30), an exp that overflowed, or a log of a sigmoid that underflowed."""
    try:
        moderate, _ = value_and_grads(fn, [torch.tensor([30.0, -30.0])] * len(extreme), what, number_ok)
        if not torch.isfinite(moderate):
            return LOG_OF_ONE_HINT
        with _ExpOverflow() as recorder:
            value_and_grads(fn, extreme, what, number_ok)
        if recorder.seen:
            return EXP_OVERFLOW_HINT
    except AssertionError:  # the learner's code cannot take these inputs: say what is most likely
        pass
    return LOG_UNDERFLOW_HINT


def matching_hint(values: Sequence[Any], catalogue: Sequence[KnownAnswer], input_sets: Sequence[Sequence]) -> str:
    """The hint of the first known answer equal to the learner's value on every input set
    (``values[i]`` came from ``input_sets[i]``), else ''. One set is :func:`diagnose`."""
    for answer in catalogue:
        if all(diagnose(value, [answer], *inputs) for value, inputs in zip(values, input_sets)):
            return answer.hint
    return ""


def compare_loss(fn: Callable, reference: Callable, inputs: list[torch.Tensor], mistakes: Sequence[KnownAnswer],
                 what: str, generic: str, unstable: Sequence[KnownAnswer] = (), number_ok: bool = False,
                 also: Sequence[list[torch.Tensor]] = ()) -> None:
    """Value, gradients and stability of a loss against the reference. ``mistakes`` produce their
    value from the (detached) inputs; a mistake is named when it equals the learner's value on the
    inputs and on each input set in ``also`` (two mistakes that agree on one set need another to
    tell them apart). ``unstable`` are the known answers that are right on ordinary logits and
    wrong far out (:data:`STABILITY_PROBE`), matched there. With ``number_ok`` (the exercise
    allows a float), a result without a graph is compared by value."""
    got, grads = value_and_grads(fn, inputs, what, number_ok)
    expected, reference_grads = value_and_grads(reference, inputs, "the reference")
    if not close(got, expected):
        values = [got] + [value_and_grads(fn, more, what, number_ok)[0] for more in also]
        input_sets = [[x.detach() for x in more] for more in (inputs, *also)]
        fail_with_hint(what, got, expected, matching_hint(values, mistakes, input_sets) or generic)
    for name, g, r in zip(_ORDINALS, grads or [], reference_grads):
        if not close(g, r):
            raise AssertionError(f"{what} has the right value but the wrong gradient with respect to "
                                 f"its {name} argument. Build the loss from torch operations only.")
    probe = torch.tensor(STABILITY_PROBE)
    extreme = [probe if i % 2 == 0 else -probe for i in range(len(inputs))]
    shown = "logits of ±1000, ±100 and ±30"
    got_value, got_grads = value_and_grads(fn, extreme, what, number_ok)
    if not torch.isfinite(got_value):
        raise AssertionError(f"{what} is not numerically stable: for {shown} it gave {float(got_value)}.\nHint: "
                             + _non_finite_hint(fn, extreme, what, number_ok))
    expected_value, expected_grads = value_and_grads(reference, extreme, "the reference")
    got_grads = got_grads if got_grads is not None else expected_grads  # a number: its value alone
    value_ok = close(got_value, expected_value, rtol=1e-3, atol=1e-3)
    grads_ok = all(close(g, r, rtol=1e-3, atol=1e-4) for g, r in zip(got_grads, expected_grads))
    if value_ok and grads_ok:
        return
    hint = diagnose(got_value, unstable, *extreme, same=lambda g, k: close(g, k, rtol=1e-3, atol=1e-3))
    if not value_ok:
        head = f"for {shown} it gave {float(got_value):.6g}, expected {float(expected_value):.6g}"
    else:
        (name, g, r, i) = next((n, g, r, int((g - r).abs().argmax())) for n, g, r in
                               zip(_ORDINALS, got_grads, expected_grads) if not close(g, r, rtol=1e-3, atol=1e-4))
        head = (f"its gradient with respect to a logit of {float(extreme[_ORDINALS.index(name)][i]):g} (in its "
                f"{name} argument) is {float(g[i]):.4g}, expected {float(r[i]):.4g}")
    vanished = any(bool(((g.abs() < 1e-3 * r.abs()) & (r.abs() > 1e-2)).any())
                   for g, r in zip(got_grads, expected_grads))
    if not hint and vanished:
        hint = ("the gradient vanishes where the logits are large: the log was clamped or offset "
                "(F.binary_cross_entropy on torch.sigmoid(logits) clamps it at -100; log(sigmoid(t) + eps) "
                "stops at log(eps)). Work on logits: F.binary_cross_entropy_with_logits, F.logsigmoid or F.softplus.")
    raise AssertionError(f"{what} is not numerically stable: {head}.\nHint: " + (hint or (
        "work on logits, never on probabilities: F.binary_cross_entropy_with_logits, or log sigmoid(t) = "
        "-F.softplus(-t) and log(1 - sigmoid(t)) = -F.softplus(t).")))


# --- networks and their parameters -----------------------------------------------------------

class Squeeze(nn.Module):
    """(B, 1) -> (B,): one score per sample."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.squeeze(1)


def parameters_of(module: nn.Module) -> Parameters:
    """Detached copies of a module's parameters, in order."""
    return [p.detach().clone() for p in module.parameters()]


def has_gradient(module: nn.Module) -> bool:
    """Whether some parameter of ``module`` holds a nonzero gradient (what an optimizer step uses)."""
    return any(p.grad is not None and bool(p.grad.abs().max() > 0) for p in module.parameters())


def same_parameters(a: Parameters, b: Parameters, tol: float = 1e-5) -> bool:
    """Whether two parameter lists agree (rtol 1e-4, atol ``tol``)."""
    return len(a) == len(b) and all(x.shape == y.shape and torch.allclose(x, y, rtol=1e-4, atol=tol)
                                    for x, y in zip(a, b))
