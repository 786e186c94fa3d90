"""Exercise checks: each takes the learner's function, prints one line on success, and raises
``AssertionError`` with a hint naming the likely mistake otherwise (DESIGN section 2).

A check compares against the reference in ``gancourse.losses`` on fixed inputs, then probes what
the value alone would miss (gradients, stability at logits of +-100, in-place updates, which
network an optimizer step moves). When the learner's answer equals a known mistake — one that
learners and popular tutorials really make — the hint says which. Code that crashes is reported
as an ``AssertionError`` naming the exception and the line, never as a bare traceback.
"""
from __future__ import annotations

import functools
import math
import traceback
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from gancourse import data as _data
from gancourse import losses as _ref
from gancourse import metrics as _metrics
from gancourse.models import count_parameters

__all__ = [
    "check_value_estimate", "check_jensen_shannon", "check_optimal_discriminator", "check_discriminator_loss", "check_generator_loss",
    "check_critic_loss", "check_wgan_generator_loss", "check_gradient_penalty",
    "check_clip_weights", "check_train_step", "check_scale_to_tanh_range", "check_to_unit_range",
    "check_generator_spec", "check_discriminator_spec", "check_sample_images", "check_digit_histogram",
    "check_conv_transpose_output_size", "check_dcgan_init", "check_interpolate",
    "check_mode_coverage", "check_pack", "check_critic_step",
]

RTOL, ATOL = 1e-4, 1e-5


# --- shared helpers ------------------------------------------------------------------------

def _learner_facing(check: Callable) -> Callable:
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


def _call(fn: Callable, *args, what: str):
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
        hint = _crash_hint(error)
        raise AssertionError(f"{what} raised {type(error).__name__}{where}\n  {error}"
                             + (f"\nHint: {hint}" if hint else "")) from None


def _crash_hint(error: Exception) -> str:
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


def _scalar(value, what: str) -> torch.Tensor:
    if not torch.is_tensor(value):
        raise AssertionError(f"{what} returned {type(value).__name__}, not a tensor. Return the loss "
                             f"as a 0-dim tensor (no .item()), so that backward() can be called on it.")
    if value.numel() != 1:
        raise AssertionError(f"{what} returned a tensor of shape {tuple(value.shape)}; a loss is one "
                             f"number. Average over the batch with .mean().")
    return value.reshape(())


def _close(a, b, rtol: float = RTOL, atol: float = ATOL) -> bool:
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def _diagnose(value, mistakes: dict[str, object]) -> str:
    """The hint of the first known mistake whose value equals the learner's, else ''."""
    for hint, wrong in mistakes.items():
        try:
            if _close(value, wrong, rtol=1e-4, atol=1e-6):
                return hint
        except (RuntimeError, TypeError):
            continue
    return ""


def _fail(what: str, got, expected, mistakes: dict[str, object], generic: str) -> None:
    hint = _diagnose(got, mistakes) or generic
    got_s = f"{float(got):.6g}" if torch.as_tensor(got).numel() == 1 else str(got)
    exp_s = f"{float(expected):.6g}" if torch.as_tensor(expected).numel() == 1 else str(expected)
    raise AssertionError(f"{what} gave {got_s}, expected {exp_s}.\nHint: {hint}")


def _ok(message: str) -> None:
    print(f"✔ {message}")


def _logits(seed: int, n: int, scale: float = 2.0) -> torch.Tensor:
    return (torch.randn(n, generator=torch.Generator().manual_seed(seed)) * scale).requires_grad_(True)


def _value_and_grads(fn: Callable, inputs: list[torch.Tensor], what: str):
    inputs = [x.detach().clone().requires_grad_(True) for x in inputs]
    out = _scalar(_call(fn, *inputs, what=what), what)
    if not out.requires_grad:
        raise AssertionError(f"{what} returned a loss with no gradient: it was detached from its "
                             f"inputs (.item(), .detach(), .numpy() or torch.tensor(...) on a result). "
                             f"Build it from torch operations on the inputs.")
    grads = torch.autograd.grad(out, inputs, allow_unused=True)
    grads = [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads)]
    return out.detach(), grads


def _check_loss(fn, reference, inputs, mistakes, what, extreme_inputs, generic):
    """Value, gradients and stability of a loss against the reference."""
    got, grads = _value_and_grads(fn, inputs, what)
    expected, ref_grads = _value_and_grads(reference, inputs, "the reference")
    if not _close(got, expected):
        _fail(what, got, expected, {h: m(*[x.detach() for x in inputs]) for h, m in mistakes.items()}, generic)
    for name, g, r in zip(("first", "second"), grads, ref_grads):
        if not _close(g, r):
            raise AssertionError(f"{what} has the right value but the wrong gradient with respect to "
                                 f"its {name} argument. Build the loss from torch operations only.")
    got_x = _scalar(_call(fn, *[x.clone() for x in extreme_inputs], what=what), what).detach()
    expected_x = reference(*extreme_inputs).detach()
    if not torch.isfinite(got_x) or not _close(got_x, expected_x, rtol=1e-3, atol=1e-3):
        raise AssertionError(
            f"{what} is not numerically stable: for logits of +-100 it gave {float(got_x)}, expected "
            f"{float(expected_x):.6g}.\nHint: log(sigmoid(t)) underflows to log(0) = -inf. Work on "
            f"logits: F.binary_cross_entropy_with_logits, or log sigmoid(t) = -F.softplus(-t) and "
            f"log(1 - sigmoid(t)) = -F.softplus(t).")


def _bce(logits, label: float):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


# --- theory --------------------------------------------------------------------------------

@_learner_facing
def check_value_estimate(fn: Callable) -> None:
    """Check ``fn(logits_real, logits_fake) -> scalar`` = mean log D(x) + mean log(1 - D(G(z)))."""
    real, fake = _logits(7, 6), _logits(8, 10)
    mistakes = {
        "this is -V, the discriminator's *loss*. V itself is what the discriminator maximises: "
        "the average log-probability it gives the right answer.": lambda r, f: _ref.discriminator_loss(r, f),
        "the logits were used as if they were probabilities. D(x) = sigmoid(logit): take the log "
        "of the probability.": lambda r, f: r.mean() + (1 - f).mean(),
        "the log is missing: V averages log-probabilities, not probabilities.":
            lambda r, f: torch.sigmoid(r).mean() + (1 - torch.sigmoid(f)).mean(),
        "the fake term should score how sure D is that fakes are fake: log(1 - D(G(z))), "
        "not log D(G(z)).": lambda r, f: -F.softplus(-r).mean() - F.softplus(-f).mean(),
        "this sums over the samples; an expectation is estimated by a *mean*.":
            lambda r, f: -F.softplus(-r).sum() - F.softplus(f).sum(),
        "the two expectations are averaged; V is their sum.": lambda r, f: 0.5 * _ref.value_estimate(r, f),
    }
    extreme = [torch.tensor([100.0, -100.0]), torch.tensor([-100.0, 3.0])]
    _check_loss(fn, _ref.value_estimate, [real, fake], mistakes, "your value_estimate", extreme,
                "V is the expected log-probability D gives to 'real' on real data, plus the expected "
                "log-probability it gives to 'fake' on generated data.")
    _ok("value_estimate matches mean log D(x) + mean log(1 - D(G(z))), stable at ±100")


@_learner_facing
def check_jensen_shannon(fn: Callable) -> None:
    """Check ``fn(p, q) -> JSD(p || q)`` in nats for discrete distributions (may contain zeros)."""
    what = "your jensen_shannon"
    p = torch.tensor([0.5, 0.3, 0.2, 0.0], dtype=torch.float64)
    q = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    got = torch.as_tensor(_call(fn, p.clone(), q.clone(), what=what), dtype=torch.float64)
    expected = _metrics.jensen_shannon(p, q)
    if got.numel() != 1:
        raise AssertionError(f"{what} returned shape {tuple(got.shape)}; the divergence is one number.")
    if not torch.isfinite(got):
        raise AssertionError(f"{what} returned {float(got)} when one distribution has a zero entry.\nHint: "
                             f"a term p·log(p/m) with p = 0 is 0 (its limit), not 0·log 0 = nan: skip it.")
    if not _close(got, expected, atol=1e-8):
        m = (p + q) / 2
        kl = lambda a, b: float((a[a > 0] * torch.log(a[a > 0] / b[a > 0])).sum())
        q_safe = q.clamp_min(1e-300)
        _fail(what, got, expected, {
            "this is KL(p || q), which is asymmetric and unbounded. The JSD compares both p and q "
            "to their average m = (p + q) / 2.": kl(p, q_safe),
            "only KL(p || m) is there; the JSD is symmetric, so q contributes too.": kl(p, m),
            "the ½ in front of each KL term is missing (the JSD of disjoint distributions is log 2).":
                kl(p, m) + kl(q, m),
            "this is in bits (log base 2); the course works in nats (natural log), like the log 4 "
            "in C(G) = -log 4 + 2 JSD.": (0.5 * kl(p, m) + 0.5 * kl(q, m)) / math.log(2),
        }, "JSD(p || q) = ½ KL(p || m) + ½ KL(q || m) with m the average of p and q.")
    disjoint = torch.as_tensor(_call(fn, torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64),
                                     torch.tensor([0.0, 0.0, 0.3, 0.7], dtype=torch.float64), what=what),
                               dtype=torch.float64)
    if not _close(disjoint, math.log(2), atol=1e-8):
        raise AssertionError(f"{what} gave {float(disjoint):.6g} for distributions with disjoint supports; "
                             f"the JSD is then at its maximum, log 2 = {math.log(2):.6g}.")
    same = torch.as_tensor(_call(fn, q.clone(), q.clone(), what=what), dtype=torch.float64)
    if not _close(same, 0.0, atol=1e-10):
        raise AssertionError(f"{what} should be 0 for identical distributions, got {float(same):.6g}.")
    _ok("jensen_shannon matches ½ KL(p || m) + ½ KL(q || m): 0 for p = q, log 2 for disjoint supports")


@_learner_facing
def check_optimal_discriminator(fn: Callable) -> None:
    """Check ``fn(p_data, p_g) -> D*`` on densities evaluated at the same points (lesson 01)."""
    what = "your optimal_discriminator"
    x = torch.linspace(-4, 4, 41, dtype=torch.float64)
    p_data = torch.exp(-0.5 * (x - 1) ** 2) / math.sqrt(2 * math.pi)
    p_g = torch.exp(-0.5 * ((x + 0.5) / 1.5) ** 2) / (1.5 * math.sqrt(2 * math.pi))
    got = torch.as_tensor(_call(fn, p_data.clone(), p_g.clone(), what=what), dtype=torch.float64)
    expected = _ref.optimal_discriminator(p_data, p_g)
    if got.shape != expected.shape:
        raise AssertionError(f"{what} returned shape {tuple(got.shape)}; expected one value per point, "
                             f"shape {tuple(expected.shape)}.")
    if not _close(got, expected, atol=1e-6):
        hint = _diagnose(got, {
            "this is p_g / (p_data + p_g), the probability that x is fake. D(x) is the probability "
            "that x is real: p_data on top.": p_g / (p_data + p_g),
            "this is the density ratio p_data / p_g; D* divides by the sum p_data + p_g.": p_data / p_g,
            "D* = 1/2 only where p_g = p_data; elsewhere it follows the ratio of the densities.":
                torch.full_like(p_data, 0.5),
        }) or "D*(x) = p_data(x) / (p_data(x) + p_g(x)), point by point."
        raise AssertionError(f"{what} does not match D* = p_data / (p_data + p_g).\nHint: {hint}")
    same = torch.as_tensor(_call(fn, p_data.clone(), p_data.clone(), what=what), dtype=torch.float64)
    if not _close(same, torch.full_like(p_data, 0.5), atol=1e-6):
        raise AssertionError(f"{what} should give 1/2 everywhere when p_g = p_data.")
    _ok("optimal_discriminator matches D* = p_data / (p_data + p_g), and gives 1/2 when p_g = p_data")


# --- GAN losses ----------------------------------------------------------------------------

@_learner_facing
def check_discriminator_loss(fn: Callable) -> None:
    """Check ``fn(logits_real, logits_fake) -> scalar`` = BCE(D(x), 1) + BCE(D(G(z)), 0)."""
    real, fake = _logits(1, 6), _logits(2, 10)  # different batch sizes on purpose
    mistakes = {
        "the labels are flipped: real samples get label 1, fakes label 0.":
            lambda r, f: _bce(r, 0) + _bce(f, 1),
        "the loss is `real - fake` on raw scores: that is a WGAN critic's objective, with the wrong "
        "sign for minimisation, and without the log. Use BCE(D(x), 1) + BCE(D(G(z)), 0).":
            lambda r, f: r.mean() - f.mean(),
        "this is mean D(G(z)) - mean D(x), the WGAN critic loss; the standard GAN uses log-likelihoods "
        "(binary cross-entropy on logits).": lambda r, f: f.mean() - r.mean(),
        "the sign is flipped: this is V(D, G), which the discriminator maximises; minimise -V.":
            lambda r, f: -(_bce(r, 1) + _bce(f, 0)),
        "sigmoid was applied before a loss that expects logits (probabilities passed as logits). The "
        "discriminator returns logits; give them to binary_cross_entropy_with_logits as they are.":
            lambda r, f: _bce(torch.sigmoid(r), 1) + _bce(torch.sigmoid(f), 0),
        "this averages the two terms; the loss is their sum, -V(D, G).":
            lambda r, f: 0.5 * (_bce(r, 1) + _bce(f, 0)),
        "this sums over the batch; each term is a batch mean.":
            lambda r, f: F.binary_cross_entropy_with_logits(r, torch.ones_like(r), reduction="sum")
            + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f), reduction="sum"),
        "one mean over the concatenated batch weights the terms by batch size; take the mean of each "
        "term, then add.": lambda r, f: F.binary_cross_entropy_with_logits(
            torch.cat([r, f]), torch.cat([torch.ones_like(r), torch.zeros_like(f)])),
        "only the real term is there; add BCE(D(G(z)), 0) for the fakes.": lambda r, f: _bce(r, 1),
        "only the fake term is there; add BCE(D(x), 1) for the real samples.": lambda r, f: _bce(f, 0),
        "the log is missing: this uses probabilities directly. Use binary cross-entropy on logits.":
            lambda r, f: (1 - torch.sigmoid(r)).mean() + torch.sigmoid(f).mean(),
    }
    extreme = [torch.tensor([100.0, -100.0, 3.0]), torch.tensor([-100.0, 100.0])]
    _check_loss(fn, _ref.discriminator_loss, [real, fake], mistakes, "your discriminator_loss",
                extreme, "the loss is BCE(D(x), 1) + BCE(D(G(z)), 0), each a mean over its batch.")
    _ok("discriminator_loss matches BCE(D(x), 1) + BCE(D(G(z)), 0): value, gradients, stable at ±100")


@_learner_facing
def check_generator_loss(fn: Callable, saturating: bool = False) -> None:
    """Check ``fn(logits_fake) -> scalar``: non-saturating ``BCE(D(G(z)), 1)`` (default) or
    saturating ``mean log(1 - sigmoid(D(G(z))))`` when ``saturating=True``."""
    fake = _logits(3, 12)
    common = {
        "`L_G = E[D(G(z))]` (a popular tutorial's formula) has no log, and minimising it pushes fakes "
        "towards *fake*. Use -mean log D(G(z)) = BCE(D(G(z)), 1).": lambda f: torch.sigmoid(f).mean(),
        "this is the mean raw logit; the loss needs the log of the probability.": lambda f: f.mean(),
        "the log is missing: -mean D(G(z)) on probabilities is not the GAN generator loss.":
            lambda f: -torch.sigmoid(f).mean(),
        "sigmoid was applied before a loss that expects logits (probabilities passed as logits).":
            lambda f: _bce(torch.sigmoid(f), 0 if saturating else 1),
        "this sums over the batch; the loss is a batch mean.":
            lambda f: F.binary_cross_entropy_with_logits(f, torch.ones_like(f), reduction="sum")
            if not saturating else -F.softplus(f).sum(),
    }
    if saturating:
        reference = lambda f: _ref.generator_loss(f, saturating=True)
        mistakes = {
            "this is the non-saturating loss -mean log D(G(z)); the saturating (minimax) one is "
            "mean log(1 - D(G(z))).": lambda f: _bce(f, 1),
            "the sign is flipped: this is -mean log(1 - D(G(z))) = BCE(D(G(z)), 0), the "
            "discriminator's loss on fakes. The generator *minimises* mean log(1 - D(G(z))).":
                lambda f: F.softplus(f).mean(),
            **common,
        }
        name, formula = "your saturating generator_loss", "mean log(1 - sigmoid(D(G(z))))"
    else:
        reference = _ref.generator_loss
        mistakes = {
            "the generator's fakes are scored against label 0: that trains G to make D *reject* "
            "them. The generator wants D(G(z)) = 1: BCE(D(G(z)), 1).": lambda f: _bce(f, 0),
            "this is the saturating loss mean log(1 - D(G(z))); the non-saturating one is "
            "-mean log D(G(z)).": lambda f: -F.softplus(f).mean(),
            "the sign is flipped: the generator minimises -mean log D(G(z)).": lambda f: -_bce(f, 1),
            **common,
        }
        name, formula = "your generator_loss", "BCE(D(G(z)), 1) = -mean log sigmoid(D(G(z)))"
    extreme = [torch.tensor([100.0, -100.0, 2.0])]
    _check_loss(fn, reference, [fake], mistakes, name, extreme, f"the loss is {formula}.")
    _ok(f"{name[5:]} matches {formula}: value, gradient, stable at ±100")


# --- WGAN ----------------------------------------------------------------------------------

@_learner_facing
def check_critic_loss(fn: Callable) -> None:
    """Check ``fn(scores_real, scores_fake) -> scalar`` = mean f(G(z)) - mean f(x) (lesson 05)."""
    real, fake = _logits(4, 6, 3.0), _logits(5, 10, 3.0)
    mistakes = {
        "the sign is flipped: the critic *maximises* mean f(x) - mean f(G(z)), so it minimises "
        "mean f(G(z)) - mean f(x).": lambda r, f: r.mean() - f.mean(),
        "this is the standard GAN's cross-entropy loss; the WGAN critic's scores are not "
        "probabilities: no sigmoid, no log.": lambda r, f: _bce(r, 1) + _bce(f, 0),
        "a sigmoid squashes the scores; the critic's scores are used raw.":
            lambda r, f: torch.sigmoid(f).mean() - torch.sigmoid(r).mean(),
        "this sums over the batch; each term is a batch mean.": lambda r, f: f.sum() - r.sum(),
        "the real term is missing.": lambda r, f: f.mean(),
        "the fake term is missing.": lambda r, f: -r.mean(),
    }
    extreme = [torch.tensor([100.0, -100.0]), torch.tensor([-100.0, 100.0, 5.0])]
    _check_loss(fn, _ref.critic_loss, [real, fake], mistakes, "your critic_loss", extreme,
                "the critic loss is mean f(G(z)) - mean f(x).")
    _ok("critic_loss matches mean f(G(z)) - mean f(x): value and gradients")


@_learner_facing
def check_wgan_generator_loss(fn: Callable) -> None:
    """Check ``fn(scores_fake) -> scalar`` = -mean f(G(z)) (lesson 05)."""
    fake = _logits(6, 12, 3.0)
    mistakes = {
        "the sign is flipped: the generator wants the critic to score its samples *high*, so it "
        "minimises -mean f(G(z)).": lambda f: f.mean(),
        "this is the standard GAN's non-saturating loss; WGAN scores are used raw, no log.":
            lambda f: _bce(f, 1),
        "a sigmoid squashes the scores; use them raw.": lambda f: -torch.sigmoid(f).mean(),
        "this sums over the batch; use the mean.": lambda f: -f.sum(),
    }
    _check_loss(fn, _ref.wgan_generator_loss, [fake], mistakes, "your wgan_generator_loss",
                [torch.tensor([100.0, -100.0, 1.0])], "the WGAN generator loss is -mean f(G(z)).")
    _ok("wgan_generator_loss matches -mean f(G(z)): value and gradient")


class _LinearCritic(nn.Module):
    """f(x) = w·x + b on (B, 2, 3, 3) inputs: grad f = w everywhere, so the penalty is (||w|| - 1)²."""

    def __init__(self, norm: float):
        super().__init__()
        w = torch.randn(2, 3, 3, generator=torch.Generator().manual_seed(7))
        self.weight = nn.Parameter(w / w.norm() * norm)
        self.bias = nn.Parameter(torch.tensor(0.3))

    def forward(self, x):
        return (x * self.weight).flatten(1).sum(1) + self.bias  # (B,)


class _QuadraticCritic(nn.Module):
    """f(x) = ||x||² / 2 per sample: grad f(x) = x, so the penalty depends on where it is taken."""

    def forward(self, x):
        return 0.5 * x.pow(2).flatten(1).sum(1)  # (B,)


@_learner_facing
def check_gradient_penalty(fn: Callable) -> None:
    """Check ``fn(critic, real, fake) -> scalar`` = mean (||grad f(x_hat)||₂ - 1)², x_hat random
    interpolates with one eps per sample, differentiable with respect to the critic (lesson 05)."""
    what = "your gradient_penalty"
    batch = 8
    gen = torch.Generator().manual_seed(11)
    real, fake = torch.randn(batch, 2, 3, 3, generator=gen), torch.randn(batch, 2, 3, 3, generator=gen)
    # 1. Linear critics: the penalty is known exactly whatever the interpolates, and so is its
    #    gradient with respect to w: d/dw (||w|| - 1)² = 2 (||w|| - 1) w / ||w||.
    results = {}
    for norm in (2.0, 0.5):
        critic = _LinearCritic(norm)
        value = _scalar(_call(fn, critic, real.clone(), fake.clone(), what=what), what)
        if not value.requires_grad:
            raise AssertionError(f"{what} does not reach the critic's weights: the penalty has no "
                                 f"gradient.\nHint: pass create_graph=True to torch.autograd.grad, so "
                                 f"that the penalty is a differentiable term of the critic's loss.")
        value.backward()
        results[norm] = (float(value.detach()), critic.weight.grad)
    expected = {n: (n - 1) ** 2 for n in results}
    if not all(math.isclose(results[n][0], expected[n], rel_tol=1e-4, abs_tol=1e-5) for n in results):
        got = (results[2.0][0], results[0.5][0])
        known = {
            "λ is applied inside the penalty; return the penalty alone, the caller multiplies by λ.":
                (10.0, 2.5),
            "the penalty is summed over the batch; it is a mean over samples.": (8.0, 2.0),
            "the square is missing: the penalty is (||grad|| - 1)², not |·|.": (1.0, 0.5),
            "the penalty is one-sided (only norms above 1); WGAN-GP penalises both sides.": (1.0, 0.0),
            "the squared norm is used; the penalty uses the L2 norm itself, ||grad||₂.": (9.0, 0.5625),
            "the gradient is taken of the *mean* of the scores, which divides each sample's gradient "
            "by the batch size. Differentiate the sum (or pass grad_outputs=torch.ones_like(scores)).":
                ((2 / batch - 1) ** 2, (0.5 / batch - 1) ** 2),
        }
        hint = next((h for h, v in known.items() if all(math.isclose(g, e, rel_tol=1e-3, abs_tol=1e-5)
                                                         for g, e in zip(got, v))), "")
        raise AssertionError(
            f"{what} gave {got[0]:.5g} and {got[1]:.5g} for linear critics f(x) = w·x with ||w|| = 2 "
            f"and 0.5, whose gradient is w everywhere; expected {expected[2.0]:.5g} and "
            f"{expected[0.5]:.5g} = (||w|| - 1)².\nHint: "
            + (hint or "take each sample's gradient norm over all its features (flatten from "
                       "dimension 1), subtract 1, square, and average over the batch."))
    for norm, (_, grad) in results.items():
        w = _LinearCritic(norm).weight.detach()
        if grad is None or not _close(grad, 2 * (norm - 1) * w / w.norm(), rtol=1e-3, atol=1e-5):
            raise AssertionError(f"{what} has the right value, but its gradient with respect to the "
                                 f"critic's weights is wrong.\nHint: keep the graph (create_graph=True) "
                                 f"and don't detach the gradients.")
    # 2. A critic whose gradient varies: real = u, fake = -u with ||u|| = 1 per sample; at
    #    x_hat = (2 eps - 1) u the penalty is (1 - |2 eps - 1|)², whose mean over eps ~ U(0, 1) is 1/3.
    #    At the real or fake points it is 0; with one eps per *feature* it is about 0.18.
    big = 4096
    u = torch.full((big, 4, 4, 4), 1 / 8.0)  # each sample has norm 1 (64 features of 1/8)
    for attempt in range(3):
        torch.manual_seed(1234 + attempt)
        value = float(_scalar(_call(fn, _QuadraticCritic(), u.clone(), (-u).clone(), what=what), what).detach())
        if not 0.30 < value < 0.37:
            if value < 0.02:
                hint = ("the penalty is taken at the real or the fake samples; it belongs at random "
                        "interpolates x_hat = eps·x + (1 - eps)·G(z).")
            elif 0.15 < value < 0.21:
                hint = ("eps is drawn per feature; draw one eps ~ U(0, 1) per sample, shape (B, 1, 1, 1), "
                        "so x_hat lies on the line between a real and a fake sample.")
            else:
                hint = ("draw one eps ~ U(0, 1) per sample (torch.rand), fresh on every call, and "
                        "interpolate x_hat = eps·x + (1 - eps)·G(z).")
            raise AssertionError(f"{what} gave {value:.4f} on a test where random interpolates with one "
                                 f"eps ~ U(0, 1) per sample give 1/3 on average.\nHint: {hint}")
    _ok("gradient_penalty matches mean (||∇f(x̂)||₂ - 1)² at per-sample interpolates, "
        "and its gradient reaches the critic")


@_learner_facing
def check_clip_weights(fn: Callable) -> None:
    """Check ``fn(module, c) -> None`` clamps every parameter to [-c, c] in place (lesson 05)."""
    what = "your clip_weights"
    for c in (0.01, 0.02):
        torch.manual_seed(3)
        module = nn.Sequential(nn.Linear(5, 6), nn.BatchNorm1d(6), nn.LeakyReLU(0.2), nn.Linear(6, 1))
        with torch.no_grad():
            for p in module.parameters():
                p.copy_(torch.linspace(-0.05, 0.05, p.numel())[torch.randperm(p.numel())].view_as(p))
        params = list(module.parameters())
        before = [p.detach().clone() for p in params]
        for p in params:
            p.grad = torch.full_like(p, 0.5)
        _call(fn, module, c, what=what)
        after = list(module.parameters())
        if any(a is not b for a, b in zip(after, params)):
            raise AssertionError(f"{what} replaced parameters with new tensors; clip them in place "
                                 f"(p.clamp_(-c, c) under torch.no_grad()), so the optimizer keeps "
                                 f"updating the same tensors.")
        if any(not torch.equal(p.grad, torch.full_like(p, 0.5)) for p in params):
            hint = " and the weights were not" if all(torch.equal(p, b) for p, b in zip(params, before)) else ""
            raise AssertionError(f"{what} changed the gradients{hint}. WGAN clips the *weights* after "
                                 f"each critic update; clipping gradients (clip_grad_value_/norm_) bounds "
                                 f"the size of an update, which is a different thing.")
        if all(torch.equal(p, b) for p, b in zip(params, before)):
            raise AssertionError(f"{what} left every parameter unchanged. Clamp in place: "
                                 f"`p.clamp_(-c, c)` for each p in module.parameters(), under "
                                 f"torch.no_grad(); `p = p.clamp(...)` only rebinds a name.")
        for (name, p), b in zip(module.named_parameters(), before):
            if not torch.equal(p, b.clamp(-c, c)):
                if torch.equal(p, b):
                    hint = f"{name} was not clipped: clip every parameter, biases and BatchNorm too."
                elif (p > c + 1e-12).any():
                    hint = f"values above c remain in {name}: clip both sides, to [-c, c]."
                elif (p < -c - 1e-12).any():
                    hint = f"values below -c remain in {name}: clip both sides, to [-c, c]."
                else:
                    hint = (f"values of {name} inside [-c, c] changed: clamp (leave them as they are), "
                            f"don't rescale. Was c = {c} used, or a fixed number?")
                raise AssertionError(f"{what}: {hint}")
        if not all(p.requires_grad for p in params):
            raise AssertionError(f"{what} turned off requires_grad on some parameters; leave it on.")
    _ok("clip_weights clamps every parameter to [-c, c] in place and leaves gradients alone")


# --- one training step ---------------------------------------------------------------------

class _Squeeze(nn.Module):
    def forward(self, x):
        return x.squeeze(1)


def _tiny_gan(seed: int) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    generator = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 8), nn.Tanh())
    discriminator = nn.Sequential(nn.Linear(8, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), _Squeeze())
    return generator, discriminator


def _reference_step(generator, discriminator, opt_g, opt_d, x_real, z, variant: str = ""):
    """The reference step (and, by ``variant``, the mistakes it diagnoses)."""
    x_fake = generator(z)
    loss_d = _ref.discriminator_loss(discriminator(x_real), discriminator(x_fake.detach()))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    logits_fake = discriminator(x_fake)  # through the updated discriminator
    if variant == "label0":  # also what training G on the discriminator's loss amounts to
        loss_g = _bce(logits_fake, 0)
    elif variant == "saturating":  # also what training G on minus the discriminator's loss amounts to
        loss_g = _ref.generator_loss(logits_fake, saturating=True)
    else:
        loss_g = _ref.generator_loss(logits_fake)
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.detach(), loss_g.detach()


def _params(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor], tol: float = 1e-5) -> bool:
    return all(torch.allclose(x, y, rtol=1e-4, atol=tol) for x, y in zip(a, b))


def _run(step_fn, variant: str | None = None, probes: dict | None = None):
    """Two steps from the same start; parameters after each, and the first step's losses."""
    generator, discriminator = _tiny_gan(0)
    opt_g = torch.optim.SGD(generator.parameters(), lr=0.1)
    opt_d = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    if probes is not None:
        _instrument(generator, discriminator, opt_g, opt_d, probes)
    gen = torch.Generator().manual_seed(5)
    states, returned = [], []
    for _ in range(2):
        x_real, z = torch.randn(16, 8, generator=gen), torch.randn(16, 4, generator=gen)
        if probes is not None:
            probes["g_grads_before"] = [None if p.grad is None else p.grad.clone()
                                        for p in generator.parameters()]
        if variant is None:
            out = _call(step_fn, generator, discriminator, opt_g, opt_d, x_real, z, what="your train_step")
        else:
            out = _reference_step(generator, discriminator, opt_g, opt_d, x_real, z, variant)
        returned.append(out)
        states.append((_params(generator), _params(discriminator)))
    return states, returned


def _instrument(generator, discriminator, opt_g, opt_d, probes: dict) -> None:
    """Record, at each optimizer step, the order and what the other network's state was."""
    probes.update(order=[], g_grad_at_d_step=False, d_moved_late=False, g_moved_by_d=False)
    step_d, step_g = opt_d.step, opt_g.step

    def d_step(*args, **kwargs):
        probes["order"].append("d")
        for p, old in zip(generator.parameters(), probes["g_grads_before"]):
            if p.grad is not None and (old is None or not torch.equal(p.grad, old)):
                probes["g_grad_at_d_step"] = True  # the discriminator's loss reached the generator
        g_before = _params(generator)
        result = step_d(*args, **kwargs)
        probes["g_moved_by_d"] |= not _same(g_before, _params(generator), tol=0)
        probes["d_after"] = _params(discriminator)
        return result

    def g_step(*args, **kwargs):
        probes["order"].append("g")
        d_before = _params(discriminator)
        result = step_g(*args, **kwargs)
        probes["d_moved_late"] |= not _same(d_before, _params(discriminator), tol=0)
        return result

    opt_d.step, opt_g.step = d_step, g_step


@_learner_facing
def check_train_step(fn: Callable) -> None:
    """Check ``fn(generator, discriminator, opt_g, opt_d, x_real, z) -> (loss_d, loss_g)``.

    Expected: one discriminator update on ``(x_real, G(z).detach())`` with the discriminator loss,
    then one non-saturating generator update through the *updated* discriminator (lesson 02).
    The check runs two steps of tiny networks with SGD and compares every parameter.
    """
    what = "your train_step"
    probes: dict = {}
    states, returned = _run(fn, probes=probes)
    ref_states, ref_returned = _run(None, variant="")
    order = probes["order"]
    if order.count("d") != 2 or order.count("g") != 2:
        raise AssertionError(f"{what} called opt_d.step() {order.count('d')} times and opt_g.step() "
                             f"{order.count('g')} times over two steps; each step calls each exactly once.")
    if order[:2] != ["d", "g"]:
        raise AssertionError(f"{what} updates the generator before the discriminator. Update the "
                             f"discriminator first, then the generator through the updated discriminator.")
    if probes["g_grad_at_d_step"]:
        raise AssertionError(f"{what}: when opt_d.step() ran, the generator already had gradients, so "
                             f"the discriminator's loss reached the generator.\nHint: the discriminator "
                             f"must see G(z).detach() (a missing detach).")
    if probes["g_moved_by_d"]:
        raise AssertionError(f"{what}: opt_d.step() moved the generator. opt_d must hold the "
                             f"discriminator's parameters only.")
    if probes["d_moved_late"]:
        raise AssertionError(f"{what}: the discriminator changed during the generator's update. The "
                             f"generator's step must move only the generator (opt_g.step(), and "
                             f"opt_g holds the generator's parameters only).")
    if not (isinstance(returned[0], (tuple, list)) and len(returned[0]) == 2):
        raise AssertionError(f"{what} should return (loss_d, loss_g), got {type(returned[0]).__name__}.")
    (g1, d1), (g2, d2) = states
    (rg1, rd1), (rg2, rd2) = ref_states
    if not _same(d1, rd1):
        raise AssertionError(f"{what}: after one step the discriminator differs from the reference.\n"
                             f"Hint: its loss is BCE(D(x), 1) + BCE(D(G(z).detach()), 0), with "
                             f"opt_d.zero_grad() before backward().")
    if not _same(g1, rg1):
        for variant, hint in [
            ("label0", "the generator was trained towards label 0 (BCE(D(G(z)), 0), which is also "
                       "what reusing the discriminator's loss does). G wants D(G(z)) = 1: "
                       "BCE(D(G(z)), 1)."),
            ("saturating", "this is the saturating loss mean log(1 - D(G(z))) (also what minus the "
                           "discriminator's loss amounts to); use the non-saturating BCE(D(G(z)), 1)."),
        ]:
            (vg1, _), _ = _run(None, variant=variant)[0]
            if _same(g1, vg1):
                raise AssertionError(f"{what}: the generator's update is wrong.\nHint: {hint}")
        raise AssertionError(f"{what}: after one step the generator differs from the reference.\nHint: "
                             f"call opt_g.zero_grad(), then backward() on BCE(D(G(z)), 1) computed "
                             f"through the updated discriminator, then opt_g.step().")
    if not (_same(d2, rd2) and _same(g2, rg2)):
        raise AssertionError(f"{what}: the first step is right but the second is not: gradients "
                             f"accumulate across steps.\nHint: call opt_d.zero_grad() and "
                             f"opt_g.zero_grad() before each backward().")
    loss_d, loss_g = (torch.as_tensor(v).detach().float() for v in returned[0])
    ref_d, ref_g = ref_returned[0]
    if not (_close(loss_d, ref_d) and _close(loss_g, ref_g)):
        swapped = _close(loss_d, ref_g) and _close(loss_g, ref_d)
        raise AssertionError(f"{what} updates correctly but returned ({float(loss_d):.4f}, "
                             f"{float(loss_g):.4f}); expected ({float(ref_d):.4f}, {float(ref_g):.4f}).\n"
                             + ("Hint: the order is (loss_d, loss_g)." if swapped else
                                "Hint: return the discriminator loss computed before its update and the "
                                "generator loss computed through the updated discriminator."))
    _ok("train_step: discriminator on detached fakes, then a non-saturating generator step through "
        "the updated discriminator; parameters match the reference over two steps")


# --- data (lesson 00) ----------------------------------------------------------------------

def _pixels() -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (4, 28, 28), generator=gen, dtype=torch.uint8)
    pixels[0, 0, :4] = torch.tensor([0, 255, 128, 127], dtype=torch.uint8)
    return pixels


@_learner_facing
def check_scale_to_tanh_range(fn: Callable) -> None:
    """Check ``fn(pixels_uint8) -> float32 images in [-1, 1]`` (0 -> -1, 255 -> 1)."""
    what = "your scale_to_tanh_range"
    pixels = _pixels()
    got = _call(fn, pixels.clone(), what=what)
    if not torch.is_tensor(got):
        raise AssertionError(f"{what} returned {type(got).__name__}; return a tensor.")
    if got.shape != pixels.shape:
        raise AssertionError(f"{what} changed the shape from {tuple(pixels.shape)} to {tuple(got.shape)}.")
    if got.dtype != torch.float32:
        raise AssertionError(f"{what} returned {got.dtype}; networks train in float32. Convert with "
                             f".float() (or .to(torch.float32)) before the arithmetic.")
    expected = _data.scale_to_tanh_range(pixels)
    if not torch.allclose(got, expected, atol=1e-6):
        p = pixels.to(torch.float32)
        hint = _diagnose(got, {
            "this maps pixels to [0, 1]; a tanh generator outputs [-1, 1], so the data must match: "
            "x / 127.5 - 1.": p / 255,
            "the arithmetic ran on uint8, which wraps around at 256 (255·2 = 254): convert to float "
            "first.": (pixels * 2 - 255).to(torch.float32) / 255,
            "(x - 128) / 128 maps 255 to 0.992, not 1; use x / 127.5 - 1.": (p - 128) / 128,
            "(x - 0.5) / 0.5 is the torchvision Normalize recipe for images already in [0, 1]; on raw "
            "0..255 pixels divide by 255 first (or use x / 127.5 - 1).": (p - 0.5) / 0.5,
        }) or "map 0 to -1 and 255 to 1 linearly: x / 127.5 - 1, in float32."
        raise AssertionError(f"{what} maps pixel values 0, 255, 128 to {got[0, 0, :3].tolist()}; expected "
                             f"{expected[0, 0, :3].tolist()}.\nHint: {hint}")
    _ok("scale_to_tanh_range maps 0..255 to [-1, 1] in float32")


@_learner_facing
def check_to_unit_range(fn: Callable) -> None:
    """Check ``fn(images) -> images in [0, 1]``: the inverse of scaling to [-1, 1], clamped."""
    what = "your to_unit_range"
    images = torch.tensor([[-1.0, 0.0, 1.0, 0.5, -1.3, 1.2]])
    got = _call(fn, images.clone(), what=what)
    if not torch.is_tensor(got) or got.shape != images.shape:
        raise AssertionError(f"{what} should return a tensor of the input's shape {tuple(images.shape)}.")
    expected = _data.to_unit_range(images)
    if not torch.allclose(got.float(), expected, atol=1e-6):
        hint = _diagnose(got.float(), {
            "the values outside [-1, 1] (a generator in training, or rounding) must be clamped to "
            "[0, 1] after rescaling: .clamp(0, 1).": (images + 1) / 2,
            "this clamps to [0, 1] without rescaling: first (x + 1) / 2, then clamp.": images.clamp(0, 1),
        }) or "rescale with (x + 1) / 2, then clamp to [0, 1]."
        raise AssertionError(f"{what} maps {images.tolist()[0]} to {got.tolist()[0]}; expected "
                             f"{expected.tolist()[0]}.\nHint: {hint}")
    _ok("to_unit_range maps [-1, 1] back to [0, 1] and clamps overshoot")


# --- networks and sampling (lesson 02) -----------------------------------------------------

@_learner_facing
def check_generator_spec(generator: nn.Module, latent_dim: int = 64, n_params: int = 550_416,
                         image_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
    """Check a generator instance: z (B, latent_dim) -> images (B, *image_shape) in [-1, 1] from
    ``tanh``, with the specified number of parameters (lesson 02's spec by default)."""
    what = "your generator"
    if not isinstance(generator, nn.Module):
        raise AssertionError(f"{what} should be an nn.Module instance (did you pass the class? call it).")
    torch.manual_seed(0)
    z = torch.randn(16, latent_dim) * 3  # large inputs drive the output to its range's edges
    out = _call(generator, z, what=what)
    if not torch.is_tensor(out) or tuple(out.shape) != (16, *image_shape):
        shape = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
        raise AssertionError(f"{what} maps z of shape (16, {latent_dim}) to {shape}; expected "
                             f"{(16, *image_shape)}.\nHint: reshape the last layer's output with "
                             f".view(-1, *{image_shape}).")
    if out.min() < -1 - 1e-6 or out.max() > 1 + 1e-6:
        raise AssertionError(f"{what}'s outputs range over [{out.min():.2f}, {out.max():.2f}]; the data "
                             f"is in [-1, 1].\nHint: end the generator with nn.Tanh().")
    if out.min() >= 0:
        raise AssertionError(f"{what} never outputs a negative value: it ends in a sigmoid (range [0, 1]) "
                             f"while the data is in [-1, 1].\nHint: end the generator with nn.Tanh().")
    got = count_parameters(generator)
    if got != n_params:
        raise AssertionError(f"{what} has {got:,} parameters; the spec gives {n_params:,}.\nHint: check "
                             f"the layer sizes ({latent_dim} -> hidden layers -> "
                             f"{math.prod(image_shape)}) and that every Linear layer keeps its bias.")
    _ok(f"generator: (B, {latent_dim}) -> (B, {', '.join(map(str, image_shape))}) in [-1, 1], "
        f"{n_params:,} parameters")


@_learner_facing
def check_discriminator_spec(discriminator: nn.Module, n_params: int = 533_505,
                             image_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
    """Check a discriminator instance: images (B, *image_shape) -> one raw logit per image, with
    the specified number of parameters (lesson 02's spec by default)."""
    what = "your discriminator"
    if not isinstance(discriminator, nn.Module):
        raise AssertionError(f"{what} should be an nn.Module instance (did you pass the class? call it).")
    torch.manual_seed(0)
    x = torch.rand(16, *image_shape) * 2 - 1
    discriminator.eval()
    try:
        out = _call(discriminator, x, what=what)
        with torch.no_grad():
            big = discriminator(x * 50)  # push the logits far from 0
    finally:
        discriminator.train()
    if not torch.is_tensor(out) or tuple(out.shape) not in ((16,), (16, 1)):
        shape = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
        raise AssertionError(f"{what} maps 16 images to {shape}; expected one score per image, (16,) "
                             f"or (16, 1).\nHint: flatten the image first (nn.Flatten()) and end with "
                             f"a Linear layer with 1 output.")
    if big.min() >= 0 and big.max() <= 1:
        raise AssertionError(f"{what}'s outputs stay in [0, 1] even for extreme inputs: it ends in a "
                             f"sigmoid.\nHint: return raw logits (no sigmoid); the loss "
                             f"binary_cross_entropy_with_logits applies the sigmoid stably.")
    got = count_parameters(discriminator)
    if got != n_params:
        raise AssertionError(f"{what} has {got:,} parameters; the spec gives {n_params:,}.\nHint: check "
                             f"the layer sizes ({math.prod(image_shape)} -> hidden layers -> 1).")
    _ok(f"discriminator: (B, {', '.join(map(str, image_shape))}) -> one logit per image, {n_params:,} parameters")


class _BatchNormGenerator(nn.Module):
    """A tiny generator with BatchNorm, to see whether sampling uses eval mode."""

    def __init__(self):
        super().__init__()
        self.latent_dim = 8
        self.net = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 784), nn.Tanh())

    def forward(self, z):
        return self.net(z).view(-1, 1, 28, 28)


@_learner_facing
def check_sample_images(fn: Callable) -> None:
    """Check ``fn(generator, n) -> images (n, 1, 28, 28)``: fresh noise, eval mode, no gradients,
    and the generator left in the mode it was in."""
    what = "your sample_images"
    torch.manual_seed(0)
    generator = _BatchNormGenerator()
    generator(torch.randn(64, 8))  # give BatchNorm some running statistics
    stats = generator.net[1].running_mean.clone()
    generator.train()
    images = _call(fn, generator, 10, what=what)
    if not torch.is_tensor(images) or tuple(images.shape) != (10, 1, 28, 28):
        shape = tuple(images.shape) if torch.is_tensor(images) else type(images).__name__
        raise AssertionError(f"{what}(generator, 10) returned {shape}; expected (10, 1, 28, 28).\nHint: draw "
                             f"z of shape (n, generator.latent_dim) and pass it through the generator.")
    if images.requires_grad:
        raise AssertionError(f"{what} returned images that track gradients.\nHint: sample under "
                             f"torch.no_grad(): nothing is being trained, and it saves memory.")
    if not torch.equal(generator.net[1].running_mean, stats):
        raise AssertionError(f"{what} changed the generator's BatchNorm statistics: it sampled in training "
                             f"mode.\nHint: call generator.eval() before sampling (BatchNorm then uses its "
                             f"running statistics), and generator.train() afterwards.")
    if not generator.training:
        raise AssertionError(f"{what} left the generator in eval mode.\nHint: put it back with "
                             f"generator.train() after sampling, or training would go on in eval mode.")
    if torch.allclose(images[0], images[1]):
        raise AssertionError(f"{what} returned the same image twice.\nHint: draw a different z for every "
                             f"sample: torch.randn(n, latent_dim).")
    again = _call(fn, generator, 10, what=what)
    if torch.allclose(images, again):
        raise AssertionError(f"{what} returns the same images on every call.\nHint: draw fresh noise each "
                             f"call instead of reusing a fixed z.")
    _ok("sample_images: fresh noise, eval mode, no gradients, the generator's mode restored")


@_learner_facing
def check_digit_histogram(fn: Callable) -> None:
    """Check ``fn(judge, images) -> (10,)`` share of images the judge assigns to each digit."""
    what = "your digit_histogram"
    judge = _metrics.load_judge()
    gen = torch.Generator().manual_seed(0)
    images = (torch.rand(300, 1, 28, 28, generator=gen) * 2 - 1) * torch.linspace(0.1, 1, 300).view(-1, 1, 1, 1)
    _, probs = judge.embed(images)
    expected = _metrics.digit_histogram(probs)
    got = _call(fn, judge, images.clone(), what=what)
    got = torch.as_tensor(got, dtype=torch.float64)
    if got.shape != (10,):
        raise AssertionError(f"{what} returned shape {tuple(got.shape)}; expected (10,), one share per "
                             f"digit.\nHint: torch.bincount(..., minlength=10) counts digits that never "
                             f"appear as 0.")
    if not _close(got, expected, atol=1e-6):
        _fail(what, got, expected, {
            "these are counts; divide by the number of images to get shares.": expected * len(images),
            "this averages the judge's probabilities; the histogram counts each image once, for its most "
            "likely digit (argmax).": probs.double().mean(0),
        }, "classify each image (argmax of the judge's logits), then count each digit's share.")
    _ok("digit_histogram: the share of images the judge assigns to each digit")


# --- DCGAN (lesson 03) ------------------------------------------------------------------------

@_learner_facing
def check_conv_transpose_output_size(fn: Callable) -> None:
    """Check ``fn(size, kernel, stride, padding) -> int`` against what nn.ConvTranspose2d does."""
    what = "your conv_transpose_output_size"
    cases = [(1, 7, 1, 0), (7, 4, 2, 1), (14, 4, 2, 1), (4, 4, 2, 1), (5, 3, 2, 1), (3, 5, 3, 2), (8, 3, 1, 1)]
    for size, kernel, stride, padding in cases:
        layer = nn.ConvTranspose2d(1, 1, kernel, stride, padding)
        expected = layer(torch.zeros(1, 1, size, size)).shape[-1]
        got = _call(fn, size, kernel, stride, padding, what=what)
        if got != expected:
            known = {
                "this is an ordinary convolution's formula, floor((size + 2·padding - kernel) / stride) + 1; "
                "a transposed convolution runs it backwards, growing the size.":
                    (size + 2 * padding - kernel) // stride + 1,
                "the padding is subtracted once; a transposed convolution removes padding from both sides "
                "(-2·padding).": (size - 1) * stride - padding + kernel,
                "the padding is ignored; it is removed from both sides (-2·padding).": (size - 1) * stride + kernel,
                "size·stride ignores the kernel's overhang: the last input position still spreads over a "
                "whole kernel.": size * stride,
            }
            hint = next((h for h, v in known.items() if v == got), "each input position spreads over "
                        "`kernel` outputs, `stride` apart; padding trims both sides.")
            raise AssertionError(f"{what}(size={size}, kernel={kernel}, stride={stride}, padding={padding}) "
                                 f"gave {got}; nn.ConvTranspose2d gives {expected}.\nHint: {hint}")
    _ok("conv_transpose_output_size matches nn.ConvTranspose2d (1 -> 7 -> 14 -> 28 for the DCGAN generator)")


@_learner_facing
def check_dcgan_init(fn: Callable) -> None:
    """Check ``fn(module)`` initialises in place as DCGAN does: (transposed) convolution and linear
    weights ~ N(0, 0.02), BatchNorm weights ~ N(1, 0.02), biases 0."""
    what = "your dcgan_init"
    torch.manual_seed(0)
    module = nn.Sequential(nn.ConvTranspose2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),
                           nn.Conv2d(128, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
                           nn.Flatten(), nn.Linear(512, 64))
    _call(fn, module, what=what)
    groups = {"ConvTranspose2d": (module[0], 0.0), "Conv2d": (module[3], 0.0), "Linear": (module[7], 0.0),
              "BatchNorm2d": (module[1], 1.0)}
    for name, (layer, mean) in groups.items():
        w = torch.cat([layer.weight.detach().flatten()] + ([module[4].weight.detach().flatten()] if name == "BatchNorm2d" else []))
        if abs(w.mean().item() - mean) > (0.004 if mean == 0 else 0.01) or not 0.015 < w.std().item() < 0.025:
            hint = {
                "BatchNorm2d": "BatchNorm weights (its scale, γ) start around 1: N(1, 0.02), not N(0, 0.02) — "
                               "a scale near 0 would silence every channel.",
            }.get(name, f"{name} weights ~ N(0, 0.02): normal_(0.0, 0.02) on the weight.")
            if abs(w.std().item() - 0.02) > 0.01 and name != "BatchNorm2d" and abs(w.mean().item()) < 0.01:
                hint = f"the {name} weights have standard deviation {w.std().item():.3f}; DCGAN uses 0.02."
            raise AssertionError(f"{what}: {name} weights have mean {w.mean().item():.3f} and standard "
                                 f"deviation {w.std().item():.3f}.\nHint: {hint} Did the function reach "
                                 f"every layer type (module.apply visits them all)?")
        if layer.bias is not None and layer.bias.detach().abs().max() > 0:
            raise AssertionError(f"{what}: {name} biases are not zero.\nHint: set them with bias.zero_() "
                                 f"(nn.init.zeros_).")
    _ok("dcgan_init: convolution, transposed-convolution and linear weights ~ N(0, 0.02), "
        "BatchNorm weights ~ N(1, 0.02), biases 0")


@_learner_facing
def check_interpolate(fn: Callable) -> None:
    """Check ``fn(z0, z1, t) -> z`` walks from z0 (t = 0) to z1 (t = 1), row by row, either along a
    straight line or along the great circle (slerp); says which one it found."""
    from gancourse.viz import interpolate as reference

    what = "your interpolate"
    gen = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(64, 100, generator=gen), torch.randn(64, 100, generator=gen)
    start = _call(fn, z0.clone(), z1.clone(), 0.0, what=what)
    end = _call(fn, z0.clone(), z1.clone(), 1.0, what=what)
    if not torch.is_tensor(start) or start.shape != z0.shape:
        raise AssertionError(f"{what} should return a tensor shaped like z0, {tuple(z0.shape)}.")
    if torch.allclose(start, z1, atol=1e-4) and torch.allclose(end, z0, atol=1e-4):
        raise AssertionError(f"{what} goes from z1 to z0: t = 0 should give z0 and t = 1 give z1.")
    if not (torch.allclose(start, z0, atol=1e-4) and torch.allclose(end, z1, atol=1e-4)):
        raise AssertionError(f"{what} should give z0 at t = 0 and z1 at t = 1.")
    mid = _call(fn, z0.clone(), z1.clone(), 0.5, what=what)
    for mode, explanation in [("linear", "a straight line: its midpoint is shorter than typical noise "
                                         "(about 0.71 of it in 100 dimensions)"),
                              ("slerp", "the great circle: every point keeps a typical norm")]:
        if torch.allclose(mid, reference(z0, z1, 0.5, mode), atol=1e-4):
            quarter = _call(fn, z0.clone(), z1.clone(), 0.25, what=what)
            if not torch.allclose(quarter, reference(z0, z1, 0.25, mode), atol=1e-4):
                raise AssertionError(f"{what} is right at t = 0, 0.5 and 1 but not at t = 0.25.")
            _ok(f"interpolate: {mode} interpolation, {explanation}")
            return
    if torch.allclose(mid.norm(dim=1), torch.ones(64), atol=1e-3):
        raise AssertionError(f"{what} returns unit vectors; the generator was trained on N(0, I) noise, "
                             f"whose norm is about √d = 10 here.\nHint: don't normalise the result.")
    raise AssertionError(f"{what} at t = 0.5 is neither the linear midpoint (z0 + z1) / 2 nor the slerp "
                         f"midpoint.\nHint: work row by row (dim=-1) and weight z0 by (1 - t) or "
                         f"sin((1 - t)Ω) / sin Ω.")


# --- lesson 04: mode collapse ---------------------------------------------------------------

def _coverage_cases():
    """Hand-made sample sets on the ring (σ = 0.01) with their (modes, high-quality share)."""
    from gancourse import toy

    ring = toy.ring()
    centers, std = ring.centers, ring.std
    gen = torch.Generator().manual_seed(0)
    on_three = centers[torch.tensor([0, 0, 0, 2, 5, 5])] + 0.5 * std * torch.randn(6, 2, generator=gen)
    direction = torch.tensor([0.6, 0.8])
    near_far = torch.stack([centers[1] + 2.9 * std * direction, centers[4] + 3.1 * std * direction,
                            centers[6] - 1.0 * std * direction, torch.zeros(2)])
    between = (centers[:4] + centers[1:5]) / 2  # halfway along the chords: far from every mode
    mixed = torch.cat([on_three, between])
    return ring, [("6 samples on 3 modes and 4 between modes", mixed, 3, 0.6),
                  ("6 samples on modes 0, 2 and 5", on_three, 3, 1.0),
                  ("samples at 2.9σ, 3.1σ and 1σ from a mode, and one at the centre", near_far, 2, 0.5),
                  ("4 samples halfway between neighbouring modes", between, 0, 0.0)]


@_learner_facing
def check_mode_coverage(fn: Callable) -> None:
    """Check ``fn(samples, centers, std) -> (modes_captured, high_quality_share)`` on hand-made sets
    of points around PacGAN's ring (lesson 04): high quality = within 3σ (Euclidean) of the nearest
    mode; a mode is captured when it is the nearest mode of at least one high-quality sample."""
    what = "your mode_coverage"
    ring, cases = _coverage_cases()
    for name, samples, modes, share in cases:
        got = _call(fn, samples.clone(), ring.centers.clone(), ring.std, what=what)
        try:
            got_modes, got_share = (float(v) for v in got)
        except (TypeError, ValueError):
            raise AssertionError(f"{what} returned {got!r}; return two numbers: (modes captured, "
                                 f"share of high-quality samples).") from None
        if got_modes == modes and abs(got_share - share) < 1e-6:
            continue
        distance, nearest = torch.cdist(samples, ring.centers).min(1)

        def variant(threshold, share_of=True, filter_modes=True, invert=False):
            good = (distance >= threshold) if invert else (distance < threshold)
            modes_v = len(set(nearest[good if filter_modes else slice(None)].tolist()))
            return modes_v, float(good.double().mean()) if share_of else float(good.sum())

        known = [
            (variant(3 * ring.std, share_of=False), "the high-quality value is a count; report a share "
                                                    "(divide by the number of samples)."),
            (variant(3.0), "the threshold is 3 in data units; it is 3 standard deviations, 3·std."),
            (variant(3 * ring.std ** 2), "std is already a standard deviation: the threshold is 3·std, not 3·std²."),
            (variant(3 * ring.std, filter_modes=False), "a mode only counts when a *high-quality* sample has it "
                                                        "as its nearest mode; samples far from every mode capture "
                                                        "nothing."),
            (variant(3 * ring.std, invert=True), "the share is inverted: high quality means *close* to a mode (distance < 3·std)."),
        ]
        hint = next((h for (m_v, s_v), h in known if m_v == got_modes and abs(s_v - got_share) < 1e-6),
                    "for each sample find its nearest centre (torch.cdist(...).min(1)); high quality when that "
                    "distance < 3·std; modes captured = distinct nearest centres among the high-quality samples.")
        raise AssertionError(f"{what} on {name}: got ({got_modes:g}, {got_share:.3g}), expected "
                             f"({modes}, {share:.3g}).\nHint: {hint}")
    _ok("mode_coverage: modes captured and high-quality share agree on 4 hand-made sample sets")


@_learner_facing
def check_pack(fn: Callable) -> None:
    """Check ``fn(x, m) -> packed`` turns (B, ...) into (B / m, m · features), consecutive groups:
    row i holds samples i·m, ..., i·m + m - 1 flattened and concatenated (lesson 04)."""
    from gancourse.models import pack as reference

    what = "your pack"
    for shape, m in [((6, 2), 2), ((12, 2), 3), ((8, 1, 4, 4), 4), ((5, 3), 1)]:
        x = torch.arange(math.prod(shape), dtype=torch.float32).reshape(shape)
        got = _call(fn, x.clone(), m, what=what)
        expected = reference(x, m)
        if not torch.is_tensor(got):
            raise AssertionError(f"{what} returned {type(got).__name__}; return a tensor.")
        if got.shape != expected.shape:
            hint = ("each row must hold m whole samples: (B, ...) -> (B / m, m · features)."
                    if got.numel() == expected.numel() else "keep every number of every sample.")
            if len(shape) > 2 and got.shape == (shape[0] // m, m, math.prod(shape[1:])):
                hint = "flatten each group into one row: reshape to (B / m, -1)."
            raise AssertionError(f"{what}(x of shape {shape}, m={m}) has shape {tuple(got.shape)}, "
                                 f"expected {tuple(expected.shape)}.\nHint: {hint}")
        if not torch.equal(got, expected):
            strided = torch.cat([chunk.flatten(1) for chunk in x.chunk(m)], 1)
            hint = ("this groups samples i, i + B/m, i + 2B/m, ... together; the course (and the "
                    "Trainer's batches) pack consecutive samples: x.reshape(B // m, -1)."
                    if torch.equal(got, strided) else
                    "row i should be samples i·m ... i·m + m - 1 flattened one after the other; "
                    "x.reshape(x.shape[0] // m, -1) does exactly that.")
            raise AssertionError(f"{what}(x of shape {shape}, m={m}) has the right shape but the wrong "
                                 f"samples in each row.\nHint: {hint}")
    x = torch.randn(8, 2, requires_grad=True)
    got = _call(fn, x, 2, what=what)
    if not got.requires_grad:
        raise AssertionError(f"{what} cut the result off the graph (no gradient reaches the generator)."
                             f"\nHint: reshape the tensor; don't go through .numpy(), .tolist() or .detach().")
    _ok("pack: (B, ...) -> (B / m, m · features), consecutive samples in each row, gradients flow")


# --- lesson 05: one critic update with the gradient penalty -----------------------------------

def _reference_critic_step(critic, opt, real, fake, gp_weight, variant: str = ""):
    """The reference update; ``variant`` reproduces a known mistake (or the other, equally
    valid, orientation of the interpolation: "eps_on_fake")."""
    if variant != "no_zero_grad":
        opt.zero_grad()
    fake = fake if variant == "no_detach" else fake.detach()
    loss = _ref.critic_loss(critic(real), critic(fake))
    if variant == "sign":
        loss = -loss
    if variant != "no_penalty":
        eps = torch.rand(real.shape[0], 1)
        a, b = (fake.detach(), real) if variant == "eps_on_fake" else (real, fake.detach())
        x_hat = (eps * a + (1 - eps) * b).requires_grad_(True)
        (grads,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=variant != "no_create_graph")
        loss = loss + gp_weight * (grads.norm(2, dim=1) - 1).pow(2).mean()
    loss.backward()
    opt.step()
    return loss


def _loss_value(loss, what: str) -> float:
    try:
        return float(loss.detach()) if torch.is_tensor(loss) else float(loss)
    except (TypeError, ValueError, RuntimeError):
        raise AssertionError(f"{what} returned {loss!r}; return the loss (a tensor or a float).") from None


@_learner_facing
def check_critic_step(fn: Callable) -> None:
    """Check ``fn(critic, opt, real, fake, gp_weight) -> loss``: one WGAN-GP critic update (lesson 05).

    It must zero the critic's gradients, compute E[f(fake)] - E[f(real)] + λ·penalty at random
    interpolates (one eps per sample, drawn with ``torch.rand``), backpropagate and step; the fakes
    come from a generator and must not receive gradients. Probed on a small 2-D critic with SGD:
    the updated weights are compared with the reference update under the same random numbers.
    """
    what = "your critic_step"

    def setup():
        torch.manual_seed(0)
        critic = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1), _Squeeze())
        generator = nn.Linear(2, 2)
        opt = torch.optim.SGD(critic.parameters(), lr=0.1)
        real = torch.randn(32, 2) + torch.tensor([2.0, 0.0])
        fake = generator(torch.randn(32, 2))
        for p in critic.parameters():  # stale gradients from an earlier step
            p.grad = torch.full_like(p, 0.5)
        return critic, generator, opt, real, fake

    critic, generator, opt, real, fake = setup()
    torch.manual_seed(1)
    loss = _call(fn, critic, opt, real, fake, 10.0, what=what)
    got = _params(critic)
    if generator.weight.grad is not None:
        raise AssertionError(f"{what} sent gradients into the generator.\nHint: the critic's update uses "
                             f"fake.detach(); the generator is trained in its own step.")
    results = {}
    for variant in ("", "eps_on_fake", "no_penalty", "no_create_graph", "sign", "no_zero_grad"):
        ref_critic, _, ref_opt, ref_real, ref_fake = setup()
        torch.manual_seed(1)
        ref_loss = _reference_critic_step(ref_critic, ref_opt, ref_real, ref_fake, 10.0, variant)
        results[variant] = (_params(ref_critic), float(ref_loss.detach()))
    if _same(got, results[""][0]) or _same(got, results["eps_on_fake"][0]):
        expected_loss = results[""][1] if _same(got, results[""][0]) else results["eps_on_fake"][1]
        loss_value = _loss_value(loss, what)
        if abs(loss_value - expected_loss) > 1e-4 * max(1.0, abs(expected_loss)):
            raise AssertionError(f"{what} updated the critic correctly but returned {loss_value:.6g}; the "
                                 f"critic's loss with the penalty was {expected_loss:.6g}.\nHint: return the "
                                 f"loss you called backward() on.")
        _ok("critic_step: zero_grad, E[f(fake)] - E[f(real)] + λ·penalty (through create_graph), backward, "
            "step; no gradient reaches the generator")
        return
    hints = {
        "no_penalty": "the update ignores the gradient penalty: add gp_weight · penalty to the critic's loss.",
        "no_create_graph": "the penalty does not reach the critic's weights: take its gradient with "
                           "torch.autograd.grad(..., create_graph=True), so the penalty itself can be differentiated.",
        "sign": "the signs are flipped: the critic minimises E[f(fake)] - E[f(real)] (it raises real scores).",
        "no_zero_grad": "gradients from an earlier step were added in: call opt.zero_grad() first.",
    }
    hint = next((h for v, h in hints.items() if _same(got, results[v][0])), None)
    if hint == hints["no_penalty"] and abs(_loss_value(loss, what) - results[""][1]) < 1e-4 * max(1.0, abs(results[""][1])):
        hint = hints["no_create_graph"]  # the penalty is in the loss's value but not in its gradient
    if hint is None and _same(got, _params(setup()[0])):
        hint = "the critic's weights did not change: call loss.backward() and opt.step()."
    raise AssertionError(f"{what} did not update the critic as one WGAN-GP step does.\nHint: "
                         f"{hint or 'zero the gradients, compute critic_loss + gp_weight * penalty (one eps per sample from torch.rand(B, 1)), backward, step.'}")
