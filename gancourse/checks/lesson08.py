"""Checks for lesson 08, a modern recipe: the generator's exponential moving average, the R1
penalty, DiffAugment's translation, where the augmentation goes in the discriminator's loss, and
reading an ablation table."""
from __future__ import annotations

import copy
import re
import statistics
from typing import Any, Callable

import torch
from torch import nn

from gancourse import augment, losses, training
from gancourse.checks.core import (
    KnownAnswer, Squeeze, as_scalar, call, check_choice, close, describe, diagnose, learner_facing, lettered,
    need_tensor, passed,
)

__all__ = ["check_ema_update", "check_r1_penalty", "check_translation", "check_augment_both",
           "check_ablation_judgment"]


class _TorchNotImplemented(RuntimeError):
    """torch's NotImplementedError (an operation missing for a dtype, e.g. lerp_ on a long tensor),
    raised again as a crash: ``core.call`` reads a NotImplementedError as an exercise's stub."""


_TorchNotImplemented.__name__ = _TorchNotImplemented.__qualname__ = "NotImplementedError"


def _crash_not_stub(fn: Callable) -> Callable:
    """``fn`` with torch's NotImplementedError turned into a crash (the learner's line and a hint);
    the exercise's own stub ('... is not done yet') passes through unchanged."""
    def run(*args):
        try:
            return fn(*args)
        except NotImplementedError as error:
            if "is not done yet" in str(error):
                raise
            raise _TorchNotImplemented(str(error)).with_traceback(error.__traceback__) from None
    return run


# --- Exercise 1: the generator's exponential moving average -----------------------------------------

def _ema_pair(seed: int) -> tuple[nn.Module, nn.Module]:
    """(ema_model, model): Linear(5, 8), BatchNorm1d(8), LeakyReLU, Linear(8, 3), with different
    weights, running statistics and step counters (model's 7 + seed, the EMA copy's 3); the EMA
    copy's parameters have requires_grad False, as ``copy.deepcopy(model).requires_grad_(False)``
    gives. Built without touching torch's global random state."""
    gen = torch.Generator().manual_seed(800 + seed)

    def build(counter: int) -> nn.Module:
        with torch.random.fork_rng(devices=[]):
            net = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.2), nn.Linear(8, 3))
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
            net[1].running_mean.copy_(torch.randn(8, generator=gen))
            net[1].running_var.copy_(torch.rand(8, generator=gen) + 0.5)
            net[1].num_batches_tracked.fill_(counter)
        return net

    model = build(7 + seed)
    ema_model = build(3).requires_grad_(False)
    return ema_model, model


def _ema_state(module: nn.Module) -> dict[str, list[torch.Tensor]]:
    """Copies of a module's parameters, floating-point buffers and integer buffers."""
    buffers = [b.detach().clone() for b in module.buffers()]
    return {"params": [p.detach().clone() for p in module.parameters()],
            "float_buffers": [b for b in buffers if b.is_floating_point()],
            "int_buffers": [b for b in buffers if not b.is_floating_point()]}


def _same_tensors(got: list[torch.Tensor], known: list[torch.Tensor]) -> bool:
    return len(got) == len(known) and all(close(g, k, rtol=1e-5, atol=1e-6) for g, k in zip(got, known))


def _same_state(a: dict, b: dict) -> bool:
    return all(_same_tensors(a[key], b[key]) for key in ("params", "float_buffers")) and \
        all(torch.equal(x, y) for x, y in zip(a["int_buffers"], b["int_buffers"]))


def _mix(ema_values, values, ema_share: float, share: float) -> list[torch.Tensor]:
    return [ema_share * e + share * v for e, v in zip(ema_values, values)]


REBIND_HINT = ("`p_ema = decay * p_ema + (1 - decay) * p` makes a new tensor and rebinds the name: the parameter "
               "inside ema_model keeps its old value. Update it in place: with torch.no_grad(): "
               "p_ema.mul_(decay).add_(p, alpha=1 - decay) (or p_ema.lerp_(p, 1 - decay)).")

#: Known wrong EMA parameters, each a function of (the EMA copy's state, the model's state, decay).
EMA_PARAMETER_MISTAKES = [
    KnownAnswer("decay and 1 - decay are swapped: the average must keep most of itself, p_ema <- decay·p_ema + "
                "(1 - decay)·p (at decay 0.999 the new weights count 0.1 %). With lerp_ the weight is p's share: "
                "p_ema.lerp_(p, 1 - decay).", lambda e, m, d: _mix(e["params"], m["params"], 1 - d, d)),
    KnownAnswer("ema_model's parameters became copies of model's (decay 0): the average forgets its past. "
                "p_ema <- decay·p_ema + (1 - decay)·p.", lambda e, m, d: m["params"]),
    KnownAnswer("only p_ema.mul_(decay): the (1 - decay)·p term is missing, so the average shrinks toward 0. "
                "p_ema.mul_(decay).add_(p, alpha=1 - decay).", lambda e, m, d: _mix(e["params"], m["params"], d, 0.0)),
    KnownAnswer("the (1 - decay)·p term was added without first multiplying p_ema by decay: p_ema <- "
                "decay·p_ema + (1 - decay)·p, i.e. p_ema.mul_(decay).add_(p, alpha=1 - decay).",
                lambda e, m, d: _mix(e["params"], m["params"], 1.0, 1 - d)),
    KnownAnswer("ema_model's parameters did not change. " + REBIND_HINT, lambda e, m, d: e["params"]),
]

#: Known wrong buffers (BatchNorm's running mean and variance), functions of the same.
EMA_BUFFER_MISTAKES = [
    KnownAnswer("the buffers (BatchNorm's running mean and variance) were averaged like the weights (as timm's "
                "ModelEmaV2 does); here they are copied, as training.ema_update_ and StyleGAN2-ADA do: they "
                "describe the activations of the current weights. Average the parameters only, then "
                "b_ema.copy_(b) for every buffer.",
                lambda e, m, d: _mix(e["float_buffers"], m["float_buffers"], d, 1 - d)),
    KnownAnswer("the buffers (BatchNorm's running mean and variance) were left as they were: copy them from "
                "model, for b_ema, b in zip(ema_model.buffers(), model.buffers()): b_ema.copy_(b).",
                lambda e, m, d: e["float_buffers"]),
]

COUNTER_HINT = ("num_batches_tracked, BatchNorm's step counter, is an integer buffer: lerp_ and mul_ need floating "
                "point tensors, and a counter is no weight. The buffers are not averaged: copy every one "
                "(b_ema.copy_(b) over ema_model.buffers() and model.buffers()), and average the parameters alone.")


def _ema_crash_hint(text: str) -> str:
    if "Long" in text and ("not implemented" in text or "can't be cast" in text or "lerp" in text):
        return COUNTER_HINT
    if "leaf Variable that requires grad" in text:  # ema_model's parameters do not require grad: model's were hit
        return ("a parameter of `model` (the network being trained, requires_grad True) was changed in place: the "
                "EMA writes into ema_model only and reads model's weights. Mind the order of the arguments, "
                "ema_update(ema_model, model, decay).")
    return ""


@learner_facing
def check_ema_update(fn: Callable) -> None:
    """Check ``fn(ema_model, model, decay)``, which updates ``ema_model`` in place: every parameter
    p_ema <- decay·p_ema + (1 - decay)·p, every buffer (BatchNorm's running statistics and its
    integer counter num_batches_tracked) copied from ``model``; ``model`` unchanged; the EMA copy's
    parameters keep requires_grad False and carry no graph. Both models are Linear(5, 8),
    BatchNorm1d(8), LeakyReLU, Linear(8, 3) with different weights; decay 0.999, 0.9, then 0.5.
    Compared with ``training.ema_update_``. The return value is not used."""
    what = "your ema_update"
    for seed, decay in enumerate((0.999, 0.9, 0.5)):
        ema_model, model = _ema_pair(seed)
        before, trained = _ema_state(ema_model), _ema_state(model)
        reference = copy.deepcopy(ema_model)
        training.ema_update_(reference, model, decay)
        expected = _ema_state(reference)
        objects = [id(p) for p in ema_model.parameters()]
        result = call(_crash_not_stub(fn), ema_model, model, decay, what=what, hints=[_ema_crash_hint], in_place=True)
        if not _same_state(_ema_state(model), trained):
            raise AssertionError(
                f"{what} changed `model`, the network being trained (decay {decay}).\nHint: the EMA is not a step of "
                f"the optimizer: model's weights must stay as the optimizer left them, and only ema_model moves "
                f"toward them. Write into ema_model's tensors (p_ema.mul_(...), b_ema.copy_(...)); only read "
                f"model's (mind the order of the arguments: ema_update(ema_model, model, decay)).")
        if [id(p) for p in ema_model.parameters()] != objects:
            raise AssertionError(f"{what} replaced ema_model's Parameter objects.\nHint: update them in place (same "
                                 f"objects, new values): with torch.no_grad(): p_ema.mul_(decay).add_(p, "
                                 f"alpha=1 - decay), or p_ema.copy_(...).")
        after = _ema_state(ema_model)
        if any(p.requires_grad or p.grad_fn is not None for p in ema_model.parameters()):
            raise AssertionError(
                f"after {what}, ema_model's parameters require grad and carry an autograd graph (given with "
                f"requires_grad False).\nHint: the update ran outside torch.no_grad(), so each step's average "
                f"would hold on to the graph of every step before it. Wrap the loop in `with torch.no_grad():` "
                f"(or use p.detach()); the EMA copy is never trained by backward().")
        if _same_state(after, before):
            if result is not None and result is not ema_model and isinstance(result, (nn.Module, dict)):
                raise AssertionError(
                    f"ema_model is unchanged and {what} returned {describe(result)}.\nHint: update ema_model in "
                    f"place (whoever holds it, the Trainer or your sampler, keeps that object): with "
                    f"torch.no_grad(): p_ema.mul_(decay).add_(p, alpha=1 - decay) or p_ema.lerp_(p, 1 - decay), "
                    f"then copy the buffers.")
            raise AssertionError(f"ema_model is unchanged after {what}.\nHint: {REBIND_HINT}")
        if not _same_tensors(after["params"], expected["params"]):
            hint = diagnose(after["params"], EMA_PARAMETER_MISTAKES, before, trained, decay, same=_same_tensors) or (
                "every parameter: p_ema <- decay·p_ema + (1 - decay)·p, ema_model's and model's parameters "
                "paired in order (zip(ema_model.parameters(), model.parameters())).")
            raise AssertionError(f"{what} with decay {decay}: ema_model's parameters are not decay·p_ema + "
                                 f"(1 - decay)·p.\nHint: {hint}")
        if not _same_tensors(after["float_buffers"], expected["float_buffers"]):
            hint = diagnose(after["float_buffers"], EMA_BUFFER_MISTAKES, before, trained, decay,
                            same=_same_tensors) or "copy every buffer from model: b_ema.copy_(b)."
            raise AssertionError(f"{what} with decay {decay}: the parameters are right, BatchNorm's running mean "
                                 f"and variance are not copies of model's.\nHint: {hint}")
        if not all(torch.equal(x, y) for x, y in zip(after["int_buffers"], expected["int_buffers"])):
            raise AssertionError(f"{what}: BatchNorm's counter num_batches_tracked is "
                                 f"{[int(b) for b in after['int_buffers']]}, model's is "
                                 f"{[int(b) for b in expected['int_buffers']]}.\nHint: {COUNTER_HINT}")
    passed("ema_update: parameters averaged in place (decay 0.999, 0.9, 0.5), buffers copied, model untouched, no "
           "graph")


# --- Exercise 2: the R1 penalty ----------------------------------------------------------------------

def _r1_probes() -> list[tuple[str, nn.Module, torch.Tensor, torch.Tensor, float]]:
    """(name, discriminator, x_real, x_fake, gamma): an MLP scoring (B, 1) with γ = 10 and a small
    convolutional one scoring (B,) with γ = 1; images float32 (B, 1, 28, 28) in [-1, 1]."""
    gen = torch.Generator().manual_seed(808)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(808)
        mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.Tanh(), nn.Linear(32, 1))
        conv = nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 14 * 14, 1),
                             Squeeze())

    def images(n, scale):
        return (torch.rand(n, 1, 28, 28, generator=gen) * 2 - 1) * scale

    return [("an MLP discriminator scoring (B, 1), 6 images, gamma 10", mlp, images(6, 1.0), images(6, 0.6), 10.0),
            ("a convolutional discriminator scoring (B,), 5 images, gamma 1", conv, images(5, 1.0), images(5, 0.6),
             1.0)]


_R1_SEED = 88


def _input_gradients(discriminator, x, grad_of="sum"):
    x = x.detach().requires_grad_(True)
    scores = discriminator(x)
    (grads,) = torch.autograd.grad(scores.sum() if grad_of == "sum" else scores.mean(), x)
    return grads.flatten(1)


def _r1_variant(points="real", factor=0.5, norm="squared", reduce="mean", grad_of="sum",
                sigmoid=False) -> Callable:
    """R1 with one thing done differently: the points (fake images, interpolates with ε from the
    global generator seeded with _R1_SEED), the factor on γ, the norm (unsquared, (‖g‖ - 1)², a
    mean over the features), the reduction over the batch, the gradient of the mean score."""
    def penalty(discriminator, x_real, x_fake, gamma):
        if points == "both":
            return (_r1_variant(factor=factor, sigmoid=sigmoid)(discriminator, x_real, x_fake, gamma)
                    + _r1_variant("fake", factor=factor, sigmoid=sigmoid)(discriminator, x_real, x_fake, gamma))
        if sigmoid:
            discriminator = (lambda d: lambda x: torch.sigmoid(d(x)))(discriminator)
        x = {"real": x_real, "fake": x_fake}.get(points)
        if points == "interpolates":
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(_R1_SEED)
                eps = torch.rand(len(x_real), 1, 1, 1)
            x = eps * x_real + (1 - eps) * x_fake
        g = _input_gradients(discriminator, x, grad_of)
        per_sample = {"squared": g.pow(2).sum(1), "plain": g.norm(dim=1), "minus_one": (g.norm(dim=1) - 1) ** 2,
                      "feature_mean": g.pow(2).mean(1)}[norm]
        return factor * gamma * (per_sample.mean() if reduce == "mean" else per_sample.sum())
    return penalty


INTERPOLATES_HINT = ("the penalty was taken at random points between real and fake images (WGAN-GP's interpolates): "
                     "R1 is taken at the real images themselves, x = x_real.detach().requires_grad_(True), nothing "
                     "random.")

#: Known wrong R1 penalties, each a function of (discriminator, x_real, x_fake, gamma).
R1_MISTAKES = [
    KnownAnswer("the penalty was taken on the fake images: R1 penalises D's gradient on the *real* data alone "
                "(Mescheder et al. 2018), x = x_real.detach().requires_grad_(True); x_fake is not used.",
                _r1_variant(points="fake")),
    KnownAnswer("the factor is γ; R1 is γ/2 · mean ‖∇ₓD(x)‖² (Mescheder et al. eq. 9, StyleGAN2, "
                "losses.r1_penalty).", _r1_variant(factor=1.0)),
    KnownAnswer("the norm is not squared (a square root, as in WGAN-GP's ‖∇D‖): R1 is the *squared* norm, "
                "grads.pow(2).flatten(1).sum(1), no square root.", _r1_variant(norm="plain")),
    KnownAnswer("(‖∇D‖ - 1)² is WGAN-GP's penalty with its target 1; R1 pushes D's gradient on real data to 0: the "
                "squared norm itself, γ/2 · ‖∇ₓD(x)‖², no - 1.", _r1_variant(norm="minus_one")),
    KnownAnswer("this is WGAN-GP's penalty, λ·(‖∇D‖ - 1)², with γ as λ: R1 is γ/2 · ‖∇ₓD(x)‖², no - 1 and a "
                "factor γ/2.", _r1_variant(norm="minus_one", factor=1.0)),
    KnownAnswer("summed over the batch (or the squared norm of the whole batch's gradient at once): take each "
                "sample's squared norm, grads.pow(2).flatten(1).sum(1), then the mean over the batch.",
                _r1_variant(reduce="sum")),
    KnownAnswer("the gradient of D's *mean* score divides each sample's gradient by B (B² in the square): "
                "differentiate the sum of the scores, D(x).sum(), so that each sample gets its own gradient.",
                _r1_variant(grad_of="mean")),
    KnownAnswer("the squared norm sums a sample's squared gradient over all its features; .pow(2).mean() also "
                "divides by the 784 pixels. Use grads.pow(2).flatten(1).sum(1), then the mean over the batch.",
                _r1_variant(norm="feature_mean")),
    KnownAnswer(INTERPOLATES_HINT, _r1_variant(points="interpolates")),
    KnownAnswer("the penalty was taken on the real *and* the fake images: R1 penalises D's gradient on the real "
                "data alone (Mescheder et al. 2018); drop the fake term, x_fake is not used.",
                _r1_variant(points="both")),
    KnownAnswer("the gradient is that of sigmoid(D(x)), a probability: R1 penalises the gradient of D's *logits*, "
                "D(x) as the discriminator returns them, with no sigmoid.", _r1_variant(sigmoid=True)),
]

NO_CREATE_GRAPH_HINT = ("the gradient was taken without create_graph=True, so it is a constant: the penalty gives no "
                        "gradient to D's weights and would not train D. torch.autograd.grad(D(x).sum(), x, "
                        "create_graph=True).")


def _r1_crash_hint(text: str) -> str:
    if "got an unexpected keyword argument" in text or "positional argument" in text:
        return "the discriminator takes the images alone: discriminator(x)."
    return ""


def _seeded_call(fn: Callable, args: tuple, seed: int, what: str, hints=()) -> Any:
    """``fn(*args)`` with torch's global generator seeded with ``seed`` meanwhile (the learner's
    global random state is restored after)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return call(fn, *args, what=what, hints=hints)


@learner_facing
def check_r1_penalty(fn: Callable) -> None:
    """Check ``fn(discriminator, x_real, x_fake, gamma) -> penalty``: γ/2 · the mean over the batch
    of ‖∇ₓD(x_real)‖² (each sample's squared L2 norm over all its features), a 0-d tensor
    differentiable with respect to D's weights (create_graph=True). Images float32 (B, 1, 28, 28);
    an MLP discriminator scoring (B, 1) and a convolutional one scoring (B,). Compared with
    ``losses.r1_penalty`` by value and by its gradient with respect to D's weights."""
    what = "your r1_penalty"
    for name, discriminator, x_real, x_fake, gamma in _r1_probes():
        args = (discriminator, x_real.clone(), x_fake.clone(), gamma)
        result = _seeded_call(fn, args, _R1_SEED, what, hints=[_r1_crash_hint])
        value = as_scalar(result, what)
        expected = losses.r1_penalty(discriminator, x_real, gamma)
        if not close(value, expected, rtol=1e-4, atol=1e-7):
            hint = diagnose(value.detach(), R1_MISTAKES, discriminator, x_real, x_fake, gamma)
            if not hint:
                again = need_tensor(_seeded_call(fn, (discriminator, x_real.clone(), x_fake.clone(), gamma),
                                                 _R1_SEED + 1, what), what)
                if not close(again.detach().reshape(-1), value.detach().reshape(-1), rtol=1e-6, atol=0):
                    hint = "it changes from one call to the next on the same inputs: " + INTERPOLATES_HINT
            raise AssertionError(f"{what} with {name}: got {float(value.detach()):.6g}, expected "
                                 f"{float(expected.detach()):.6g}."
                                 f"\nHint: " + (hint or "γ/2 times the mean over the batch of each real image's "
                                                        "squared gradient norm: torch.autograd.grad(D(x).sum(), x, "
                                                        "create_graph=True), then .pow(2).flatten(1).sum(1)."))
        weights = list(discriminator.parameters())
        if not value.requires_grad:
            raise AssertionError(f"{what} has the right value but no gradient with respect to D's weights.\nHint: "
                                 f"{NO_CREATE_GRAPH_HINT}")
        got = torch.autograd.grad(value, weights, allow_unused=True)
        want = [torch.zeros_like(w) if g is None else g  # the last bias does not move ∇ₓD
                for w, g in zip(weights, torch.autograd.grad(expected, weights, allow_unused=True))]
        got = [torch.zeros_like(w) if g is None else g for w, g in zip(weights, got)]
        if all(not bool(g.abs().max() > 0) for g in got):
            raise AssertionError(f"{what} has the right value but no gradient reaches D's weights.\nHint: "
                                 f"{NO_CREATE_GRAPH_HINT}")
        if not all(close(g, w, rtol=1e-3, atol=1e-6) for g, w in zip(got, want)):
            raise AssertionError(f"{what} has the right value but the wrong gradient with respect to D's weights."
                                 f"\nHint: build it from torch operations (no .detach() or .item() on the gradient), "
                                 f"with create_graph=True.")
    passed("r1_penalty = γ/2 · mean ‖∇ₓD(x_real)‖², differentiable w.r.t. D's weights, on D scoring (B, 1) and (B,)")


# --- Exercise 3: translation by whole pixels -----------------------------------------------------------

def _translation_probes() -> list[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor, int]]:
    """(name, x, ty, tx, seed): shifts drawn as ``augment.translation`` draws them (ty then tx,
    uniform integers up to 1/8 of the height and width), so that the expected images are the
    package's own ``augment.translation`` with a generator seeded with ``seed``. x float32 in [-1, 1]."""
    probes = []
    for seed, shape in ((3, (6, 1, 28, 28)), (13, (5, 3, 16, 24))):
        batch, _, height, width = shape
        x = torch.rand(shape, generator=torch.Generator().manual_seed(1000 + seed)) * 2 - 1
        gen = torch.Generator().manual_seed(seed)
        shift_h, shift_w = int(height * 0.125), int(width * 0.125)
        ty = torch.randint(-shift_h, shift_h + 1, (batch, 1, 1), generator=gen).view(batch)
        tx = torch.randint(-shift_w, shift_w + 1, (batch, 1, 1), generator=gen).view(batch)
        probes.append((f"{batch} images of shape {shape[1:]}, ty = {ty.tolist()}, tx = {tx.tolist()}", x, ty, tx,
                       seed))
    return probes


def _shifted(x, ty, tx, fill=0.0, wrap=False, clamp=False):
    """A translation done one way or another (for the known mistakes): output (i, j) shows input
    (i + ty, j + tx); outside, ``fill``, or the opposite edge (``wrap``), or the nearest edge
    pixel (``clamp``)."""
    batch, _, height, width = x.shape
    rows = torch.arange(height)[None, :] + ty[:, None]
    cols = torch.arange(width)[None, :] + tx[:, None]
    if wrap:
        rows, cols = rows % height, cols % width
    inside = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[:, None, :]
    r, c = rows.clamp(0, height - 1), cols.clamp(0, width - 1)
    out = x[torch.arange(batch)[:, None, None], :, r[:, :, None], c[:, None, :]].permute(0, 3, 1, 2)
    if wrap or clamp:
        return out
    return torch.where(inside[:, None], out, torch.full_like(out, fill))


#: Known wrong translations, each a function of (x, ty, tx).
TRANSLATION_MISTAKES = [
    KnownAnswer("the images moved the opposite way: output pixel (i, j) shows input pixel (i + ty, j + tx), so "
                "a positive ty moves the picture *up* (as augment.translation does). Index the input at i + ty, "
                "not i - ty.", lambda x, ty, tx: _shifted(x, -ty, -tx)),
    KnownAnswer("rows and columns are swapped: ty shifts the rows (dimension 2, the height), tx the columns "
                "(dimension 3, the width).", lambda x, ty, tx: _shifted(x, tx, ty)),
    KnownAnswer("the picture wraps around (torch.roll): what leaves one edge comes back at the other. DiffAugment "
                "fills the uncovered border with zeros: pad, then crop (or zero the rolled-in rows and columns).",
                lambda x, ty, tx: _shifted(x, ty, tx, wrap=True)),
    KnownAnswer("the picture wraps around (torch.roll) and moves the opposite way: torch.roll(x, ty) puts input "
                "row i at i + ty. Output (i, j) shows input (i + ty, j + tx), and the uncovered border is zeros "
                "(pad, then crop).", lambda x, ty, tx: _shifted(x, -ty, -tx, wrap=True)),
    KnownAnswer("the uncovered border is filled with -1 (black for images in [-1, 1]); the package and the "
                "DiffAugment paper's code fill with 0, which is mid-grey in [-1, 1]: F.pad's default value.",
                lambda x, ty, tx: _shifted(x, ty, tx, fill=-1.0)),
    KnownAnswer("the border repeats the edge pixels (indices clamped into the image): it is filled with zeros. "
                "Pad with zeros first (F.pad), or zero where i + ty or j + tx falls outside the image.",
                lambda x, ty, tx: _shifted(x, ty, tx, clamp=True)),
    KnownAnswer("every shift is one pixel short, up and left (output (i, j) shows input (i + ty - 1, j + tx - 1)): "
                "after padding by p, output (i, j) is padded pixel (i + ty + p, j + tx + p); the + p was left out.",
                lambda x, ty, tx: _shifted(x, ty - 1, tx - 1)),
    KnownAnswer("every image got the first image's shift: ty and tx hold one shift per image, ty[b] and tx[b] "
                "for image b (DiffAugment draws a shift per image).",
                lambda x, ty, tx: _shifted(x, ty[:1].expand_as(ty), tx[:1].expand_as(tx))),
]


def _translation_crash_hint(text: str) -> str:
    if "converted to Python scalar" in text or "cannot be converted to Scalar" in text:
        return ("ty and tx hold one shift per image, (B,): use ty[b] and tx[b] for image b (int(ty[b])), not "
                "ty.item() or int(ty) for the whole batch.")
    if "numpy() on Tensor that requires grad" in text:
        return ("translate must be differentiable with respect to x (the generator learns through DiffAugment): "
                "stay in torch (slicing, F.pad, indexing), no .numpy().")
    return ""


NO_GRADIENT_HINT = ("translate must be differentiable with respect to x: the generator's gradient passes through "
                    "DiffAugment. Build the output from torch operations on x (F.pad, slicing, indexing, torch.cat); "
                    "no .detach(), .numpy(), torch.tensor(...) or writing into a new tensor under torch.no_grad().")


@learner_facing
def check_translation(fn: Callable) -> None:
    """Check ``fn(x, ty, tx) -> shifted``: x float32 (B, C, H, W), ty and tx int64 (B,) with |ty| ≤
    H/8, |tx| ≤ W/8; output pixel (i, j) of image b shows input pixel (i + ty[b], j + tx[b]), 0 where
    that lies outside the image; same shape as x; differentiable with respect to x. Compared with
    ``augment.translation`` on the same shifts, by value and by gradient."""
    what = "your translate"
    for name, x, ty, tx, seed in _translation_probes():
        expected = augment.translation(x, generator=torch.Generator().manual_seed(seed))
        out = call(fn, x.clone(), ty.clone(), tx.clone(), what=what, hints=[_translation_crash_hint])
        if type(out).__module__ == "numpy":
            raise AssertionError(f"{what} returned {describe(out)}; it should return a tensor of x's shape.\nHint: "
                                 f"{NO_GRADIENT_HINT}")
        out = need_tensor(out, what, f"the shifted images, a tensor of x's shape {tuple(x.shape)}")
        if tuple(out.shape) != tuple(x.shape):
            raise AssertionError(f"{what} returned {describe(out)} for {name}; expected x's shape "
                                 f"{tuple(x.shape)}.\nHint: a shift keeps the image size: pad by the shift, then "
                                 f"crop back to H x W.")
        if not close(out.detach(), expected, rtol=0, atol=1e-5):  # bilinear grid_sample at pixel centres: ~1e-6
            hint = diagnose(out.detach(), TRANSLATION_MISTAKES, x, ty, tx) or (
                "output pixel (i, j) of image b shows input pixel (i + ty[b], j + tx[b]); where that lies outside "
                "the image, 0. For example F.pad(x[b], [pad] * 4), then the window starting at (pad + ty[b], "
                "pad + tx[b]).")
            raise AssertionError(f"{what} on {name}: the shifted images differ from augment.translation's.\nHint: "
                                 f"{hint}")
        leaf = x.clone().requires_grad_(True)
        out = need_tensor(call(fn, leaf, ty.clone(), tx.clone(), what=what, hints=[_translation_crash_hint]), what,
                          f"the shifted images, a tensor of x's shape {tuple(x.shape)}")
        weights = torch.linspace(-1, 1, x.numel()).view(x.shape)
        if not out.requires_grad:
            raise AssertionError(f"{what} returned images with no gradient with respect to x.\nHint: "
                                 f"{NO_GRADIENT_HINT}")
        (got,) = torch.autograd.grad((out * weights).sum(), leaf, allow_unused=True)
        reference = x.clone().requires_grad_(True)
        (want,) = torch.autograd.grad((augment.translation(reference, torch.Generator().manual_seed(seed))
                                       * weights).sum(), reference)
        if got is None or not close(got, want, rtol=1e-4, atol=1e-5):
            raise AssertionError(f"{what} has the right values but the wrong gradient with respect to x.\nHint: "
                                 f"{NO_GRADIENT_HINT}")
    passed("translate: each image shifted by its own (ty, tx), zeros filling in, differentiable with respect to x")


# --- Exercise 4: augment both sides ----------------------------------------------------------------------

class _Marker:
    """The ``augment`` the check passes: a known, differentiable change of the images (0.25 - 0.75·x)
    that, like DiffAugment, takes image batches (B, C, H, W) only; it counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        if not torch.is_tensor(x) or x.dim() != 4:
            shape = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
            raise ValueError(f"augment takes a batch of images (B, C, H, W); it was given {shape}")
        return 0.25 - 0.75 * x


def _marked(x):
    return 0.25 - 0.75 * x


def _augment_probes() -> list[tuple[str, nn.Module, torch.Tensor, torch.Tensor]]:
    """(name, discriminator, x_real, x_fake): a discriminator scoring (B, 1), then one scoring (B,);
    6 real and 6 fake images (B, 1, 28, 28), float32."""
    gen = torch.Generator().manual_seed(818)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(818)
        first = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Tanh(), nn.Linear(16, 1))
        second = nn.Sequential(nn.Flatten(), nn.Linear(784, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1), Squeeze())

    def images(scale, shift):
        return (torch.rand(6, 1, 28, 28, generator=gen) * 2 - 1) * scale + shift

    return [("a discriminator scoring (B, 1)", first, images(1.0, 0.0), images(0.7, 0.2)),
            ("a discriminator scoring (B,)", second, images(1.0, 0.0), images(0.7, -0.2))]


def _augmented_loss(real_augmented=True, fake_augmented=True, flipped=False, halved=False) -> Callable:
    def loss(discriminator, x_real, x_fake):
        real = discriminator(_marked(x_real) if real_augmented else x_real)
        fake = discriminator(_marked(x_fake) if fake_augmented else x_fake)
        value = losses.discriminator_loss(fake, real) if flipped else losses.discriminator_loss(real, fake)
        return value / 2 if halved else value
    return loss


#: Known wrong augmented discriminator losses, each a function of (discriminator, x_real, x_fake).
AUGMENT_MISTAKES = [
    KnownAnswer("only the real images were augmented: D then tells real from fake by the augmentation itself "
                "(shifted or cut out means real), and the generator is pushed to draw shifted, cut-out images: the "
                "augmentation leaks into its samples. DiffAugment applies the same augment to both: "
                "D(augment(x_real)) and D(augment(x_fake)).",
                _augmented_loss(fake_augmented=False)),
    KnownAnswer("only the fake images were augmented: D then tells real from fake by the augmentation itself "
                "(an un-augmented image is real). Augment both: D(augment(x_real)) and D(augment(x_fake)).",
                _augmented_loss(real_augmented=False)),
    KnownAnswer("nothing was augmented: D saw x_real and x_fake as they are. Pass both through augment before D: "
                "D(augment(x_real)) and D(augment(x_fake)).", _augmented_loss(False, False)),
    KnownAnswer("the labels are flipped: the real images' scores go with label 1 and the fakes' with 0: "
                "losses.discriminator_loss(D(augment(x_real)), D(augment(x_fake))).", _augmented_loss(flipped=True)),
    KnownAnswer("the loss is halved: the discriminator's loss is the *sum* of the two batch means, "
                "BCE(D(x), 1) + BCE(D(G(z)), 0) (losses.discriminator_loss).", _augmented_loss(halved=True)),
]


def _augment_crash_hint(text: str) -> str:
    if "augment takes a batch of images" in text:
        if re.search(r"given \(\d+, \d+, \d+\)", text):  # one image (C, H, W)
            return ("augment was called on one image at a time: it takes the whole batch (B, C, H, W), "
                    "augment(x_real) and augment(x_fake), as DiffAugment does.")
        return ("augment was applied after D, to its scores: it augments the *images* before D sees them, "
                "D(augment(x_real)) and D(augment(x_fake)).")
    if "positional argument" in text and "were given" in text:
        return "augment is given ready to use, a function of the images alone: augment(x_real), augment(x_fake)."
    return ""


@learner_facing
def check_augment_both(fn: Callable) -> None:
    """Check ``fn(discriminator, x_real, x_fake, augment) -> loss``: the non-saturating discriminator
    loss (``losses.discriminator_loss``) on D(augment(x_real)) and D(augment(x_fake)), a 0-d tensor
    with its gradient with respect to D's weights. ``augment`` is a function of an image batch
    (B, C, H, W) (the check passes one that changes the images in a known way and, like DiffAugment,
    takes image batches only); images float32 (6, 1, 28, 28); a discriminator scoring (B, 1), then
    one scoring (B,)."""
    what = "your discriminator_loss_augmented"
    for name, discriminator, x_real, x_fake in _augment_probes():
        marker = _Marker()
        result = call(fn, discriminator, x_real.clone(), x_fake.clone(), marker, what=what,
                      hints=[_augment_crash_hint])
        value = as_scalar(result, what)
        expected = _augmented_loss()(discriminator, x_real, x_fake)
        if not close(value, expected):
            hint = diagnose(value.detach(), AUGMENT_MISTAKES, discriminator, x_real, x_fake) or (
                "the discriminator's loss on augmented images: losses.discriminator_loss(D(augment(x_real)), "
                "D(augment(x_fake))).")
            raise AssertionError(f"{what} with {name}: got {float(value.detach()):.6g}, expected "
                                 f"{float(expected.detach()):.6g} "
                                 f"(augment was called {marker.calls} time{'s' * (marker.calls != 1)}).\nHint: {hint}")
        weights = list(discriminator.parameters())
        if not value.requires_grad:
            raise AssertionError(f"{what} has the right value but no gradient with respect to D's weights.\nHint: "
                                 f"build it from torch operations, outside torch.no_grad() (no .item(), .detach() or torch.tensor(...)).")
        got = torch.autograd.grad(value, weights, allow_unused=True)
        want = torch.autograd.grad(expected, weights)
        if all(g is None or not bool(g.abs().max() > 0) for g in got):
            raise AssertionError(f"{what} has the right value but no gradient reaches D's weights: it was detached "
                                 f"from D's scores.\nHint: build it from torch operations on D's scores, outside torch.no_grad() (no .item(), "
                                 f".detach() or torch.tensor(...)).")
        if not all(g is not None and close(g, w) for g, w in zip(got, want)):
            raise AssertionError(f"{what} has the right value but the wrong gradient with respect to D's weights."
                                 f"\nHint: build it from torch operations on D's scores.")
    passed("discriminator_loss_augmented: real and fake images both augmented before D")


# --- Exercise 5: reading an ablation ---------------------------------------------------------------------

#: A constructed ablation (made up for the exercise, the same on every machine): each stage adds one
#: change to the stage before; judge-FD of three seeds per stage (lower is better).
ABLATION = {
    "A": ("baseline: non-saturating loss, one learning rate (2e-4)", (24.1, 27.3, 22.6)),
    "B": ("A + two learning rates (G 4e-4, D 1e-4)", (15.2, 16.8, 14.1)),
    "C": ("B + EMA of the generator (decay 0.999)", (14.0, 16.9, 13.6)),
    "D": ("C + translation on the real images only", (31.5, 29.8, 33.0)),
}
_ABLATION_RIGHT = {"helped": "B", "noise": "C"}


def ablation() -> dict[str, dict[str, Any]]:
    """The exhibit of Exercise 5: stage letter -> its change, the three seeds' judge-FD, their mean
    and sample standard deviation (n - 1) (a copy)."""
    return {stage: {"change": change, "fd": list(seeds), "mean": statistics.mean(seeds),
                    "sd": statistics.stdev(seeds)} for stage, (change, seeds) in ABLATION.items()}


def ablation_table() -> str:
    """The exhibit as a printed table."""
    rows = ablation()
    lines = ["CONSTRUCTED for this exercise (not measured; the same on every machine): judge-FD, lower is better,",
             "3 seeds per stage; each stage adds one change to the stage above.",
             f"{'stage':5}  {'change':55} {'seed 0':>7} {'seed 1':>7} {'seed 2':>7}  {'mean ± sd':>13}  "
             f"{'vs above':>8}"]
    previous = None
    for stage, row in rows.items():
        delta = "" if previous is None else f"{row['mean'] - previous:+8.2f}"
        lines.append(f"{stage:5}  {row['change']:55} " + " ".join(f"{v:7.1f}" for v in row["fd"])
                     + f"  {row['mean']:6.2f} ± {row['sd']:4.2f}  {delta:>8}")
        previous = row["mean"]
    return "\n".join(line.rstrip() for line in lines)


def _ablation_evidence(role: str) -> list[KnownAnswer]:
    rows = ablation()

    def says(stage):
        r = rows[stage]
        return f"stage {stage} ({r['change']}): FD {r['mean']:.2f} ± {r['sd']:.2f} over seeds {r['fd']}"

    def delta(stage, before):
        return rows[stage]["mean"] - rows[before]["mean"]

    baseline = "A is the baseline: no change was added there, so it has no effect to judge."
    why = {
        "helped": {
            "A": baseline,
            "C": f"{says('C')}: its mean is only {-delta('C', 'B'):.2f} below B's ({rows['B']['mean']:.2f} ± "
                 f"{rows['B']['sd']:.2f}), less than one seed-to-seed sd ({rows['C']['sd']:.2f}); its seeds and B's "
                 f"overlap. Its best seed ({min(rows['C']['fd']):.1f}) is the lowest in the table, but one lucky seed "
                 f"is not a gain.",
            "D": f"{says('D')}: {delta('D', 'C'):+.2f} against C, FD went *up*: this change clearly hurt.",
        },
        "noise": {
            "A": baseline,
            "B": f"{says('B')}: {delta('B', 'A'):+.2f} against A ({rows['A']['mean']:.2f} ± {rows['A']['sd']:.2f}), "
                 f"several seed sds; B's worst seed ({max(rows['B']['fd']):.1f}) beats A's best "
                 f"({min(rows['A']['fd']):.1f}). That is a clear gain, not noise.",
            "D": f"{says('D')}: {delta('D', 'C'):+.2f} against C, about ten seed sds, and every seed of D is worse "
                 f"than every seed of C: a clear loss, not noise.",
        },
    }[role]
    return [KnownAnswer(hint, letter) for letter, hint in why.items()]


@learner_facing
def check_ablation_judgment(helped: Any, noise: Any) -> None:
    """Check two letters for the stages of :func:`ablation_table`: ``helped``, the change that
    clearly improved FD, beyond the seed-to-seed spread; ``noise``, the change whose effect is
    within that spread. Any case; 'stage B' and 'option B' are read as 'B'."""
    options = lettered("stage", ABLATION)
    for role, answer in (("helped", helped), ("noise", noise)):
        check_choice(answer, f"your `{role}`", options, _ABLATION_RIGHT[role], _ablation_evidence(role))
    rows = ablation()
    passed(f"ablation: B's gain ({rows['B']['mean'] - rows['A']['mean']:+.2f}) is several seed sds, C's "
           f"({rows['C']['mean'] - rows['B']['mean']:+.2f}) is within one: with 3 seeds, only B's gain is shown")
