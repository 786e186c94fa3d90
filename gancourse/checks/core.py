"""What every lesson's checks share: calling learner code safely, turning a crash into a hint,
matching a wrong result against a catalogue of known answers, and comparing losses.

A check module imports from here; nothing here is a check itself.
"""
from __future__ import annotations

import functools
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

RTOL, ATOL = 1e-4, 1e-5

Parameters = list[torch.Tensor]  # a module's parameters, in order


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
            # Your answer did not pass this check. The message below says what looks wrong.
            raise AssertionError(str(error)) from None
    return wrapper


def call(fn: Callable, *args, what: str) -> Any:
    """Call the learner's function; turn any crash into an AssertionError with its location."""
    try:
        return fn(*args)
    except NotImplementedError as error:
        raise AssertionError(f"{what}: {error}") from None
    except AssertionError:
        raise
    except Exception as error:  # the learner's code crashed: say where and what
        frames = traceback.extract_tb(error.__traceback__)
        inner = frames[-1] if frames else None
        where = f" at line {inner.lineno}: `{(inner.line or '').strip()}`" if inner else ""
        hint = crash_hint(error)
        raise AssertionError(f"{what} raised {type(error).__name__}{where}\n  {error}"
                             + (f"\nHint: {hint}" if hint else "")) from None


def crash_hint(error: Exception) -> str:
    """What usually causes a crash with this message, or '' when nothing is known."""
    text = str(error)
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
        return "change parameters in place inside `with torch.no_grad():` (or on `p.data`)."
    if "size" in text or "shape" in text:
        return "check the shapes: the inputs are batches of shape (B,), and the result a scalar."
    return ""


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
    """The default comparison: same shape and equal within rtol 1e-4, atol 1e-6."""
    return close(got, known, rtol=1e-4, atol=1e-6)


def match(got: Any, catalogue: Iterable[KnownAnswer], *inputs: Any,
          same: Callable[[Any, Any], bool] = values_match) -> KnownAnswer | None:
    """The first known answer in ``catalogue`` that ``same`` finds equal to ``got``, else None."""
    for answer in catalogue:
        known = answer.produce(*inputs) if callable(answer.produce) else answer.produce
        try:
            if same(got, known):
                return answer
        except (RuntimeError, TypeError):  # a result of another shape or type matches nothing
            continue
    return None


def diagnose(got: Any, catalogue: Iterable[KnownAnswer], *inputs: Any,
             same: Callable[[Any, Any], bool] = values_match) -> str:
    """The hint of the first known answer equal to ``got`` (see :func:`match`), else ''."""
    found = match(got, catalogue, *inputs, same=same)
    return found.hint if found is not None else ""


# --- values and losses -----------------------------------------------------------------------

def as_scalar(value: Any, what: str) -> torch.Tensor:
    """The learner's loss as a 0-dim tensor; an AssertionError saying why when it is not one."""
    if not torch.is_tensor(value):
        raise AssertionError(f"{what} returned {type(value).__name__}, not a tensor. Return the loss "
                             f"as a 0-dim tensor (no .item()), so that backward() can be called on it.")
    if value.numel() != 1:
        raise AssertionError(f"{what} returned a tensor of shape {tuple(value.shape)}; a loss is one "
                             f"number. Average over the batch with .mean().")
    return value.reshape(())


def close(a: Any, b: Any, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Same shape and all values close, compared in float64."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


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


def value_and_grads(fn: Callable, inputs: list[torch.Tensor], what: str) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The loss ``fn(*inputs)`` and its gradient with respect to each input."""
    inputs = [x.detach().clone().requires_grad_(True) for x in inputs]
    out = as_scalar(call(fn, *inputs, what=what), what)
    if not out.requires_grad:
        raise AssertionError(f"{what} returned a loss with no gradient: it was detached from its "
                             f"inputs (.item(), .detach(), .numpy() or torch.tensor(...) on a result). "
                             f"Build it from torch operations on the inputs.")
    grads = torch.autograd.grad(out, inputs, allow_unused=True)
    grads = [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads)]
    return out.detach(), grads


def compare_loss(fn: Callable, reference: Callable, inputs: list[torch.Tensor], mistakes: list[KnownAnswer],
                 what: str, extreme_inputs: list[torch.Tensor], generic: str) -> None:
    """Value, gradients and stability of a loss against the reference; ``mistakes`` produce
    their value from the (detached) inputs."""
    got, grads = value_and_grads(fn, inputs, what)
    expected, reference_grads = value_and_grads(reference, inputs, "the reference")
    if not close(got, expected):
        fail_with_hint(what, got, expected,
                       diagnose(got, mistakes, *[x.detach() for x in inputs]) or generic)
    for name, g, r in zip(("first", "second"), grads, reference_grads):
        if not close(g, r):
            raise AssertionError(f"{what} has the right value but the wrong gradient with respect to "
                                 f"its {name} argument. Build the loss from torch operations only.")
    got_extreme = as_scalar(call(fn, *[x.clone() for x in extreme_inputs], what=what), what).detach()
    expected_extreme = reference(*extreme_inputs).detach()
    if not torch.isfinite(got_extreme) or not close(got_extreme, expected_extreme, rtol=1e-3, atol=1e-3):
        raise AssertionError(
            f"{what} is not numerically stable: for logits of +-100 it gave {float(got_extreme)}, expected "
            f"{float(expected_extreme):.6g}.\nHint: log(sigmoid(t)) underflows to log(0) = -inf. Work on "
            f"logits: F.binary_cross_entropy_with_logits, or log sigmoid(t) = -F.softplus(-t) and "
            f"log(1 - sigmoid(t)) = -F.softplus(t).")


# --- networks and their parameters -----------------------------------------------------------

class Squeeze(nn.Module):
    """(B, 1) -> (B,): one score per sample."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.squeeze(1)


def parameters_of(module: nn.Module) -> Parameters:
    """Detached copies of a module's parameters, in order."""
    return [p.detach().clone() for p in module.parameters()]


def same_parameters(a: Parameters, b: Parameters, tol: float = 1e-5) -> bool:
    """Whether two parameter lists agree (rtol 1e-4, atol ``tol``)."""
    return all(torch.allclose(x, y, rtol=1e-4, atol=tol) for x, y in zip(a, b))
