"""Checks for lesson 02, the MLP GAN: the networks' specs, one training step, sampling and the
judge's digit histogram."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from gancourse import losses, metrics
from gancourse.checks.core import (
    KnownAnswer, Parameters, Squeeze, call, close, diagnose, fail_with_hint, learner_facing, parameters_of,
    passed, same_parameters,
)
from gancourse.models import count_parameters
from gancourse.training import TrainConfig, Trainer

__all__ = ["check_train_step", "check_generator_spec", "check_discriminator_spec", "check_sample_images",
           "check_digit_histogram"]


# --- one training step ------------------------------------------------------------------------

def _tiny_gan() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 8), nn.Tanh())
    discriminator = nn.Sequential(nn.Linear(8, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), Squeeze())
    return generator, discriminator


def _batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (x_real, z) of each of the two steps."""
    gen = torch.Generator().manual_seed(5)
    return [(torch.randn(16, 8, generator=gen), torch.randn(16, 4, generator=gen)) for _ in range(2)]


def _reference_run(loss: str = "non-saturating", generator_loss: Callable | None = None):
    """Two steps of the package's Trainer (SGD, lr 0.1) on the tiny GAN: parameters after each
    step, and each step's (loss_d, loss_g). ``loss`` and ``generator_loss`` make the mistakes."""
    generator, discriminator = _tiny_gan()
    config = TrainConfig(loss=loss, optimizer="sgd", lr_g=0.1, lr_d=0.1, momentum=0.0, batch_size=16,
                         latent_dim=4, snapshot_every=0, log_every=1)
    batches = _batches()
    trainer = Trainer(generator, discriminator, batches[0][0], config, "cpu", generator_loss=generator_loss)
    states, returned = [], []
    for x_real, z in batches:
        out = trainer.step_with(x_real, z)
        returned.append((out["loss_d"], out["loss_g"]))
        states.append((parameters_of(generator), parameters_of(discriminator)))
    return states, returned


def _learner_run(step_fn: Callable, probes: dict):
    """Two steps of the learner's ``step_fn`` from the reference's start, with ``probes``."""
    generator, discriminator = _tiny_gan()
    opt_g = torch.optim.SGD(generator.parameters(), lr=0.1)
    opt_d = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    _instrument(generator, discriminator, opt_g, opt_d, probes)
    states, returned = [], []
    for x_real, z in _batches():
        probes["g_grads_before"] = [None if p.grad is None else p.grad.clone() for p in generator.parameters()]
        returned.append(call(step_fn, generator, discriminator, opt_g, opt_d, x_real, z, what="your train_step"))
        states.append((parameters_of(generator), parameters_of(discriminator)))
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
        g_before = parameters_of(generator)
        result = step_d(*args, **kwargs)
        probes["g_moved_by_d"] |= not same_parameters(g_before, parameters_of(generator), tol=0)
        return result

    def g_step(*args, **kwargs):
        probes["order"].append("g")
        d_before = parameters_of(discriminator)
        result = step_g(*args, **kwargs)
        probes["d_moved_late"] |= not same_parameters(d_before, parameters_of(discriminator), tol=0)
        return result

    opt_d.step, opt_g.step = d_step, g_step


def _generator_after_one_step(**mistake) -> Parameters:
    return _reference_run(**mistake)[0][0][0]


# What the instrumented optimizers saw, in the order a learner should fix it.
_PROBED_MISTAKES = [
    KnownAnswer("when opt_d.step() ran, the generator already had gradients, so the discriminator's loss "
                "reached the generator.\nHint: the discriminator must see G(z).detach() (a missing detach).",
                "g_grad_at_d_step"),
    KnownAnswer("opt_d.step() moved the generator. opt_d must hold the discriminator's parameters only.",
                "g_moved_by_d"),
    KnownAnswer("the discriminator changed during the generator's update. The generator's step must move "
                "only the generator (opt_g.step(), and opt_g holds the generator's parameters only).",
                "d_moved_late"),
]

_GENERATOR_MISTAKES = [
    KnownAnswer("the generator was trained towards label 0 (BCE(D(G(z)), 0), which is also what reusing "
                "the discriminator's loss does). G wants D(G(z)) = 1: BCE(D(G(z)), 1).",
                lambda: _generator_after_one_step(
                    generator_loss=lambda scores: -losses.generator_loss(scores, saturating=True))),
    KnownAnswer("this is the saturating loss mean log(1 - D(G(z))) (also what minus the discriminator's "
                "loss amounts to); use the non-saturating BCE(D(G(z)), 1).",
                lambda: _generator_after_one_step(loss="minimax")),
]


@learner_facing
def check_train_step(fn: Callable) -> None:
    """Check ``fn(generator, discriminator, opt_g, opt_d, x_real, z) -> (loss_d, loss_g)``.

    Expected: one discriminator update on ``(x_real, G(z).detach())`` with the discriminator loss,
    then one non-saturating generator update through the *updated* discriminator (lesson 02).
    The check runs two steps of tiny networks with SGD and compares every parameter with the
    package's Trainer making the same two steps.
    """
    what = "your train_step"
    probes: dict = {}
    states, returned = _learner_run(fn, probes)
    reference_states, reference_returned = _reference_run()
    order = probes["order"]
    if order.count("d") != 2 or order.count("g") != 2:
        raise AssertionError(f"{what} called opt_d.step() {order.count('d')} times and opt_g.step() "
                             f"{order.count('g')} times over two steps; each step calls each exactly once.")
    if order[:2] != ["d", "g"]:
        raise AssertionError(f"{what} updates the generator before the discriminator. Update the "
                             f"discriminator first, then the generator through the updated discriminator.")
    seen = diagnose(probes, _PROBED_MISTAKES, same=lambda recorded, probe: recorded[probe])
    if seen:
        raise AssertionError(f"{what}: {seen}")
    if not (isinstance(returned[0], (tuple, list)) and len(returned[0]) == 2):
        raise AssertionError(f"{what} should return (loss_d, loss_g), got {type(returned[0]).__name__}.")
    (g1, d1), (g2, d2) = states
    (rg1, rd1), (rg2, rd2) = reference_states
    if not same_parameters(d1, rd1):
        raise AssertionError(f"{what}: after one step the discriminator differs from the reference.\n"
                             f"Hint: its loss is BCE(D(x), 1) + BCE(D(G(z).detach()), 0), with "
                             f"opt_d.zero_grad() before backward().")
    if not same_parameters(g1, rg1):
        hint = diagnose(g1, _GENERATOR_MISTAKES, same=same_parameters)
        if hint:
            raise AssertionError(f"{what}: the generator's update is wrong.\nHint: {hint}")
        raise AssertionError(f"{what}: after one step the generator differs from the reference.\nHint: "
                             f"call opt_g.zero_grad(), then backward() on BCE(D(G(z)), 1) computed "
                             f"through the updated discriminator, then opt_g.step().")
    if not (same_parameters(d2, rd2) and same_parameters(g2, rg2)):
        raise AssertionError(f"{what}: the first step is right but the second is not: gradients "
                             f"accumulate across steps.\nHint: call opt_d.zero_grad() and "
                             f"opt_g.zero_grad() before each backward().")
    loss_d, loss_g = (torch.as_tensor(v).detach().float() for v in returned[0])
    reference_d, reference_g = reference_returned[0]
    if not (close(loss_d, reference_d) and close(loss_g, reference_g)):
        swapped = close(loss_d, reference_g) and close(loss_g, reference_d)
        raise AssertionError(f"{what} updates correctly but returned ({float(loss_d):.4f}, "
                             f"{float(loss_g):.4f}); expected ({reference_d:.4f}, {reference_g:.4f}).\n"
                             + ("Hint: the order is (loss_d, loss_g)." if swapped else
                                "Hint: return the discriminator loss computed before its update and the "
                                "generator loss computed through the updated discriminator."))
    passed("train_step: discriminator on detached fakes, then a non-saturating generator step through "
           "the updated discriminator; parameters match the reference over two steps")


# --- the networks, sampling and the judge --------------------------------------------------------

@learner_facing
def check_generator_spec(generator: nn.Module, latent_dim: int = 64, n_params: int = 550_416,
                         image_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
    """Check a generator instance: z (B, latent_dim) -> images (B, *image_shape) in [-1, 1] from
    ``tanh``, with the specified number of parameters (lesson 02's spec by default)."""
    what = "your generator"
    if not isinstance(generator, nn.Module):
        raise AssertionError(f"{what} should be an nn.Module instance (did you pass the class? call it).")
    torch.manual_seed(0)
    z = torch.randn(16, latent_dim) * 3  # large inputs drive the output to its range's edges
    out = call(generator, z, what=what)
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
    passed(f"generator: (B, {latent_dim}) -> (B, {', '.join(map(str, image_shape))}) in [-1, 1], "
           f"{n_params:,} parameters")


@learner_facing
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
        out = call(discriminator, x, what=what)
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
    passed(f"discriminator: (B, {', '.join(map(str, image_shape))}) -> one logit per image, {n_params:,} parameters")


class _BatchNormGenerator(nn.Module):
    """A tiny generator with BatchNorm, to see whether sampling uses eval mode."""

    def __init__(self):
        super().__init__()
        self.latent_dim = 8
        self.net = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 784), nn.Tanh())

    def forward(self, z):
        return self.net(z).view(-1, 1, 28, 28)


@learner_facing
def check_sample_images(fn: Callable) -> None:
    """Check ``fn(generator, n) -> images (n, 1, 28, 28)``: fresh noise, eval mode, no gradients,
    and the generator left in the mode it was in."""
    what = "your sample_images"
    torch.manual_seed(0)
    generator = _BatchNormGenerator()
    generator(torch.randn(64, 8))  # give BatchNorm some running statistics
    stats = generator.net[1].running_mean.clone()
    generator.train()
    images = call(fn, generator, 10, what=what)
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
    again = call(fn, generator, 10, what=what)
    if torch.allclose(images, again):
        raise AssertionError(f"{what} returns the same images on every call.\nHint: draw fresh noise each "
                             f"call instead of reusing a fixed z.")
    passed("sample_images: fresh noise, eval mode, no gradients, the generator's mode restored")


@learner_facing
def check_digit_histogram(fn: Callable) -> None:
    """Check ``fn(judge, images) -> (10,)`` share of images the judge assigns to each digit, each
    image counted once, for its most likely digit."""
    what = "your digit_histogram"
    judge = metrics.load_judge()
    gen = torch.Generator().manual_seed(0)
    images = (torch.rand(300, 1, 28, 28, generator=gen) * 2 - 1) * torch.linspace(0.1, 1, 300).view(-1, 1, 1, 1)
    _, probs = judge.embed(images)
    expected = metrics.digit_histogram(probs)
    got = call(fn, judge, images.clone(), what=what)
    got = torch.as_tensor(got, dtype=torch.float64)
    if got.shape != (10,):
        raise AssertionError(f"{what} returned shape {tuple(got.shape)}; expected (10,), one share per "
                             f"digit.\nHint: torch.bincount(..., minlength=10) counts digits that never "
                             f"appear as 0.")
    if not close(got, expected, atol=1e-6):
        fail_with_hint(what, got, expected, diagnose(got, [
            KnownAnswer("these are counts; divide by the number of images to get shares.", expected * len(images)),
            KnownAnswer("this averages the judge's probabilities; the histogram counts each image once, for "
                        "its most likely digit (argmax).", probs.double().mean(0)),
        ]) or "classify each image (argmax of the judge's logits), then count each digit's share.")
    passed("digit_histogram: the share of images the judge assigns to each digit")
