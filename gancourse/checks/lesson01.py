"""Checks for lesson 01, the minimax objective: the value function, the Jensen-Shannon
divergence, the optimal discriminator, the GAN losses on logits, and judging which generator loss
still has a gradient when the discriminator wins."""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from gancourse import losses, metrics
from gancourse.checks.core import (
    BCE_ON_SIGMOID_HINT, KnownAnswer, as_float_tensor, bce_on_sigmoid, bce_with_label, call, check_choice, close,
    compare_loss, diagnose, fail_with_hint, learner_facing, lettered, need_number, passed, random_logits,
)

__all__ = ["check_value_estimate", "check_jensen_shannon", "check_optimal_discriminator",
           "check_discriminator_loss", "check_generator_loss", "check_loss_when_d_wins"]


#: Known wrong estimates of V, each a function of (logits_real, logits_fake).
VALUE_MISTAKES = [
    KnownAnswer("this is -V, the discriminator's *loss*. V itself is what the discriminator maximises: "
                "the average log-probability it gives the right answer.",
                lambda r, f: losses.discriminator_loss(r, f)),
    KnownAnswer("the logits were used as if they were probabilities. D(x) = sigmoid(logit): take the "
                "log of the probability.", lambda r, f: r.mean() + (1 - f).mean()),
    KnownAnswer("the log is missing: V averages log-probabilities, not probabilities.",
                lambda r, f: torch.sigmoid(r).mean() + (1 - torch.sigmoid(f)).mean()),
    KnownAnswer("the fake term should score how sure D is that fakes are fake: log(1 - D(G(z))), "
                "not log D(G(z)).", lambda r, f: -F.softplus(-r).mean() - F.softplus(-f).mean()),
    KnownAnswer("this sums over the samples; an expectation is estimated by a *mean*.",
                lambda r, f: -F.softplus(-r).sum() - F.softplus(f).sum()),
    KnownAnswer("the two expectations are averaged; V is their sum.",
                lambda r, f: 0.5 * losses.value_estimate(r, f)),
    KnownAnswer("one mean over the concatenated batch weights the terms by batch size (the batches may "
                "differ in size); take the mean of each term, then add.",
                lambda r, f: torch.cat([-F.softplus(-r), -F.softplus(f)]).mean()),
    KnownAnswer("the logits went into the log as if they were probabilities: log(t) and log(1 - t) are NaN "
                "for logits outside (0, 1). D(x) = sigmoid(logit): log D(x) = F.logsigmoid(t) and "
                "log(1 - D(G(z))) = F.logsigmoid(-t).", lambda r, f: torch.log(r).mean() + torch.log(1 - f).mean()),
]

#: Right on ordinary logits, wrong far out (matched on core.STABILITY_PROBE).
VALUE_UNSTABLE = [
    KnownAnswer(BCE_ON_SIGMOID_HINT, lambda r, f: -(bce_on_sigmoid(r, 1) + bce_on_sigmoid(f, 0))),
]


@learner_facing
def check_value_estimate(fn: Callable) -> None:
    """Check ``fn(logits_real, logits_fake) -> V`` = mean log D(x) + mean log(1 - D(G(z))), on
    float32 logits of shape (6,) and (10,): a float or a 0-d tensor (one with a graph has its
    gradients checked too); exact for logits of ±1000."""
    real, fake = random_logits(7, 6), random_logits(8, 10)
    compare_loss(fn, losses.value_estimate, [real, fake], VALUE_MISTAKES, "your value_estimate",
                 "V is the expected log-probability D gives to 'real' on real data, plus the expected "
                 "log-probability it gives to 'fake' on generated data.", unstable=VALUE_UNSTABLE, number_ok=True)
    passed("value_estimate matches mean log D(x) + mean log(1 - D(G(z))): value, gradients, stable at ±1000")


def _kl(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a[a > 0] * torch.log(a[a > 0] / b[a > 0])).sum())


#: Known wrong divergences, each a function of (p, q).
JSD_MISTAKES = [
    KnownAnswer("this is KL(p || q), which is asymmetric and unbounded. The JSD compares both p "
                "and q to their average m = (p + q) / 2.", lambda p, q: _kl(p, q.clamp_min(1e-300))),
    KnownAnswer("only KL(p || m) is there; the JSD is symmetric, so q contributes too.",
                lambda p, q: _kl(p, (p + q) / 2)),
    KnownAnswer("the ½ in front of each KL term is missing (the JSD of disjoint distributions is "
                "log 2).", lambda p, q: _kl(p, (p + q) / 2) + _kl(q, (p + q) / 2)),
    KnownAnswer("this is in bits (log base 2); the course works in nats (natural log), like the "
                "log 4 in C(G) = -log 4 + 2 JSD.",
                lambda p, q: (0.5 * _kl(p, (p + q) / 2) + 0.5 * _kl(q, (p + q) / 2)) / math.log(2)),
    KnownAnswer("this averages KL(p || q) and KL(q || p) (the symmetrised KL, infinite where one distribution "
                "is 0 and the other is not). The JSD compares each with the mixture m = (p + q) / 2: "
                "½ KL(p || m) + ½ KL(q || m).",
                lambda p, q: 0.5 * (_kl(p + 1e-12, q + 1e-12) + _kl(q + 1e-12, p + 1e-12))),
    KnownAnswer("this is the Jensen-Shannon *distance*, the square root of the divergence (scipy's "
                "jensenshannon returns it); return the divergence itself, without the square root.",
                lambda p, q: math.sqrt(metrics.jensen_shannon(p, q))),
]

#: Two distributions without zeros, where every formula above is finite, to name a mistake that
#: handles zeros its own way (an eps of its own, say).
_POSITIVE = (torch.tensor([0.4, 0.3, 0.2, 0.1], dtype=torch.float64),
             torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64))


def _divergence(fn: Callable, p: torch.Tensor, q: torch.Tensor, what: str) -> float:
    return need_number(call(fn, p.clone(), q.clone(), what=what), what, "one number (a float or a 0-d tensor)")


@learner_facing
def check_jensen_shannon(fn: Callable) -> None:
    """Check ``fn(p, q) -> JSD(p || q)`` in nats, a float or a 0-d tensor, for float64
    distributions of shape (4,) that may contain zeros, in one or both; 0 for p = q, log 2 for
    disjoint supports."""
    what = "your jensen_shannon"
    p = torch.tensor([0.5, 0.3, 0.2, 0.0], dtype=torch.float64)
    q = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    got = _divergence(fn, p, q, what)
    expected = metrics.jensen_shannon(p, q)
    if not math.isfinite(got):
        raise AssertionError(f"{what} returned {got} when one distribution has a zero entry.\nHint: "
                             f"a term p·log(p/m) with p = 0 is 0 (its limit), not 0·log 0 = nan: skip it.")
    if not close(got, expected, atol=1e-8):
        fail_with_hint(what, got, expected, diagnose(got, JSD_MISTAKES, p, q) or
                       diagnose(_divergence(fn, *_POSITIVE, what), JSD_MISTAKES, *_POSITIVE) or
                       "JSD(p || q) = ½ KL(p || m) + ½ KL(q || m) with m the average of p and q.")
    disjoint = _divergence(fn, torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64),
                           torch.tensor([0.0, 0.0, 0.3, 0.7], dtype=torch.float64), what)
    if not close(disjoint, math.log(2), atol=1e-8):
        raise AssertionError(f"{what} gave {disjoint:.6g} for distributions with disjoint supports; "
                             f"the JSD is then at its maximum, log 2 = {math.log(2):.6g}.")
    same = _divergence(fn, q, q, what)
    if not close(same, 0.0, atol=1e-10):
        raise AssertionError(f"{what} should be 0 for identical distributions, got {same:.6g}.")
    p2 = torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64)
    q2 = torch.tensor([0.25, 0.75, 0.0, 0.0], dtype=torch.float64)
    shared = _divergence(fn, p2, q2, what)
    if not close(shared, metrics.jensen_shannon(p2, q2), atol=1e-8):
        raise AssertionError(f"{what} gave {shared} for distributions that are both 0 at the same entries "
                             f"(so m is 0 there too); expected {float(metrics.jensen_shannon(p2, q2)):.6g}.\nHint: "
                             f"a term p·log(p/m) with p = 0 is 0, even where m = 0: skip those entries (a mask "
                             f"p > 0) rather than computing 0·log(0/0) = nan.")
    passed("jensen_shannon matches ½ KL(p || m) + ½ KL(q || m): 0 for p = q, log 2 for disjoint supports")


#: Known wrong D*, each a function of (p_data, p_g).
OPTIMAL_D_MISTAKES = [
    KnownAnswer("this is p_g / (p_data + p_g), the probability that x is fake. D(x) is the "
                "probability that x is real: p_data on top.", lambda p_data, p_g: p_g / (p_data + p_g)),
    KnownAnswer("this is the density ratio p_data / p_g; D* divides by the sum p_data + p_g.",
                lambda p_data, p_g: p_data / p_g),
    KnownAnswer("D* = 1/2 only where p_g = p_data; elsewhere it follows the ratio of the densities.",
                lambda p_data, p_g: torch.full_like(p_data, 0.5)),
    KnownAnswer("this is the hard decision p_data > p_g, 0 or 1; D* is the probability that x is real, "
                "anywhere between: p_data / (p_data + p_g).", lambda p_data, p_g: (p_data > p_g).double()),
    KnownAnswer("this divides by the mixture m = (p_data + p_g) / 2, so it reaches 2; D* divides by the sum "
                "p_data + p_g and stays in [0, 1].", lambda p_data, p_g: p_data / ((p_data + p_g) / 2)),
    KnownAnswer("this is sigmoid(p_data - p_g), a sigmoid of the difference of the densities; D* is "
                "sigmoid(log p_data - log p_g), a sigmoid of the difference of their logs, which is "
                "p_data / (p_data + p_g).", lambda p_data, p_g: torch.sigmoid(p_data - p_g)),
]


@learner_facing
def check_optimal_discriminator(fn: Callable) -> None:
    """Check ``fn(p_data, p_g) -> D*``: float64 densities of shape (41,) at the same points to a
    tensor (or NumPy array) of shape (41,); 1/2 everywhere when p_g = p_data (lesson 01)."""
    what = "your optimal_discriminator"
    expected_kind = "a tensor of shape (41,), one value per point"
    x = torch.linspace(-4, 4, 41, dtype=torch.float64)
    p_data = torch.exp(-0.5 * (x - 1) ** 2) / math.sqrt(2 * math.pi)
    p_g = torch.exp(-0.5 * ((x + 0.5) / 1.5) ** 2) / (1.5 * math.sqrt(2 * math.pi))
    got = as_float_tensor(call(fn, p_data.clone(), p_g.clone(), what=what), what, expected_kind)
    expected = losses.optimal_discriminator(p_data, p_g)
    if got.shape != expected.shape:
        raise AssertionError(f"{what} returned shape {tuple(got.shape)}; expected one value per point, "
                             f"shape {tuple(expected.shape)}.")
    if not close(got, expected, atol=1e-6):
        hint = (diagnose(got, OPTIMAL_D_MISTAKES, p_data, p_g)
                or "D*(x) = p_data(x) / (p_data(x) + p_g(x)), point by point.")
        raise AssertionError(f"{what} does not match D* = p_data / (p_data + p_g).\nHint: {hint}")
    same = as_float_tensor(call(fn, p_data.clone(), p_data.clone(), what=what), what, expected_kind)
    if not close(same, torch.full_like(p_data, 0.5), atol=1e-6):
        raise AssertionError(f"{what} should give 1/2 everywhere when p_g = p_data.")
    passed("optimal_discriminator matches D* = p_data / (p_data + p_g), and gives 1/2 when p_g = p_data")


_bce = bce_with_label

#: Known wrong discriminator losses, each a function of (logits_real, logits_fake).
DISCRIMINATOR_LOSS_MISTAKES = [
    KnownAnswer("the labels are flipped: real samples get label 1, fakes label 0.",
                lambda r, f: _bce(r, 0) + _bce(f, 1)),
    KnownAnswer("the loss is `real - fake` on raw scores: that is a WGAN critic's objective, with the "
                "wrong sign for minimisation, and without the log. Use BCE(D(x), 1) + BCE(D(G(z)), 0).",
                lambda r, f: r.mean() - f.mean()),
    KnownAnswer("this is mean D(G(z)) - mean D(x), the WGAN critic loss; the standard GAN uses "
                "log-likelihoods (binary cross-entropy on logits).", lambda r, f: f.mean() - r.mean()),
    KnownAnswer("the sign is flipped: this is V(D, G), which the discriminator maximises; minimise -V.",
                lambda r, f: -(_bce(r, 1) + _bce(f, 0))),
    KnownAnswer("sigmoid was applied before a loss that expects logits (probabilities passed as "
                "logits). The discriminator returns logits; give them to binary_cross_entropy_with_logits "
                "as they are.", lambda r, f: _bce(torch.sigmoid(r), 1) + _bce(torch.sigmoid(f), 0)),
    KnownAnswer("this averages the two terms; the loss is their sum, -V(D, G).",
                lambda r, f: 0.5 * (_bce(r, 1) + _bce(f, 0))),
    KnownAnswer("this sums over the batch; each term is a batch mean.",
                lambda r, f: F.binary_cross_entropy_with_logits(r, torch.ones_like(r), reduction="sum")
                + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f), reduction="sum")),
    KnownAnswer("one mean over the concatenated batch weights the terms by batch size (the batches may "
                "differ in size); take the mean of each term, then add.",
                lambda r, f: F.binary_cross_entropy_with_logits(
                    torch.cat([r, f]), torch.cat([torch.ones_like(r), torch.zeros_like(f)]))),
    KnownAnswer("only the real term is there; add BCE(D(G(z)), 0) for the fakes.", lambda r, f: _bce(r, 1)),
    KnownAnswer("only the fake term is there; add BCE(D(x), 1) for the real samples.",
                lambda r, f: _bce(f, 0)),
    KnownAnswer("the log is missing: this uses probabilities directly. Use binary cross-entropy on "
                "logits.", lambda r, f: (1 - torch.sigmoid(r)).mean() + torch.sigmoid(f).mean()),
]

DISCRIMINATOR_LOSS_UNSTABLE = [
    KnownAnswer(BCE_ON_SIGMOID_HINT, lambda r, f: bce_on_sigmoid(r, 1) + bce_on_sigmoid(f, 0)),
]


@learner_facing
def check_discriminator_loss(fn: Callable) -> None:
    """Check ``fn(logits_real, logits_fake) -> 0-d tensor`` = BCE(D(x), 1) + BCE(D(G(z)), 0), on
    float32 logits of shape (6,) and (10,), with its gradients; exact for logits of ±1000."""
    real, fake = random_logits(1, 6), random_logits(2, 10)  # different batch sizes on purpose
    compare_loss(fn, losses.discriminator_loss, [real, fake], DISCRIMINATOR_LOSS_MISTAKES, "your discriminator_loss",
                 "the loss is BCE(D(x), 1) + BCE(D(G(z)), 0), each a mean over its batch.",
                 unstable=DISCRIMINATOR_LOSS_UNSTABLE)
    passed("discriminator_loss matches BCE(D(x), 1) + BCE(D(G(z)), 0): value, gradients, stable at ±1000")


def _generator_common(saturating: bool) -> list[KnownAnswer]:
    return [
        KnownAnswer("`L_G = E[D(G(z))]` (a popular tutorial's formula) has no log, and minimising it "
                    "pushes fakes towards *fake*. Use -mean log D(G(z)) = BCE(D(G(z)), 1).",
                    lambda f: torch.sigmoid(f).mean()),
        KnownAnswer("this is the mean raw logit; the loss needs the log of the probability.", lambda f: f.mean()),
        KnownAnswer("the log is missing: -mean D(G(z)) on probabilities is not the GAN generator loss.",
                    lambda f: -torch.sigmoid(f).mean()),
        KnownAnswer("sigmoid was applied before a loss that expects logits (probabilities passed as logits).",
                    (lambda f: -_bce(torch.sigmoid(f), 0)) if saturating else (lambda f: _bce(torch.sigmoid(f), 1))),
        KnownAnswer("this sums over the batch; the loss is a batch mean.",
                    (lambda f: -F.softplus(f).sum()) if saturating else
                    (lambda f: F.binary_cross_entropy_with_logits(f, torch.ones_like(f), reduction="sum"))),
    ]


#: Known wrong non-saturating generator losses, each a function of logits_fake.
GENERATOR_LOSS_MISTAKES = [
    KnownAnswer("the generator's fakes are scored against label 0: that trains G to make D *reject* "
                "them. The generator wants D(G(z)) = 1: BCE(D(G(z)), 1).", lambda f: _bce(f, 0)),
    KnownAnswer("this is the saturating loss mean log(1 - D(G(z))); the non-saturating one is "
                "-mean log D(G(z)).", lambda f: -F.softplus(f).mean()),
    KnownAnswer("the sign is flipped: the generator minimises -mean log D(G(z)).", lambda f: -_bce(f, 1)),
    KnownAnswer("this is -mean logit, the WGAN (and hinge) generator loss, on raw scores; the non-saturating "
                "GAN loss takes the log of the probability: BCE(D(G(z)), 1) = -mean log sigmoid(logit).",
                lambda f: -f.mean()),
    *_generator_common(saturating=False),
]

#: Known wrong saturating generator losses, each a function of logits_fake.
SATURATING_GENERATOR_LOSS_MISTAKES = [
    KnownAnswer("this is the non-saturating loss -mean log D(G(z)); the saturating (minimax) one "
                "is mean log(1 - D(G(z))).", lambda f: _bce(f, 1)),
    KnownAnswer("the sign is flipped: this is -mean log(1 - D(G(z))) = BCE(D(G(z)), 0), the "
                "discriminator's loss on fakes. The generator *minimises* mean log(1 - D(G(z))).",
                lambda f: F.softplus(f).mean()),
    KnownAnswer("this is mean log D(G(z)): minimising it makes D(G(z)) small, pushing the fakes towards "
                "*fake*. The saturating loss is mean log(1 - D(G(z))), with 1 - D(G(z)) = sigmoid(-logit).",
                lambda f: F.logsigmoid(f).mean()),
    *_generator_common(saturating=True),
]

GENERATOR_LOSS_UNSTABLE = [KnownAnswer(BCE_ON_SIGMOID_HINT, lambda f: bce_on_sigmoid(f, 1))]
SATURATING_GENERATOR_LOSS_UNSTABLE = [KnownAnswer(BCE_ON_SIGMOID_HINT, lambda f: -bce_on_sigmoid(f, 0))]


@learner_facing
def check_generator_loss(fn: Callable, saturating: bool = False) -> None:
    """Check ``fn(logits_fake) -> 0-d tensor`` on float32 logits of shape (12,): non-saturating
    ``BCE(D(G(z)), 1)`` (default) or saturating ``mean log(1 - sigmoid(D(G(z))))`` when
    ``saturating=True``; with its gradient, exact for logits of ±1000."""
    fake = random_logits(3, 12)
    if saturating:
        reference = lambda f: losses.generator_loss(f, saturating=True)  # noqa: E731
        mistakes, unstable = SATURATING_GENERATOR_LOSS_MISTAKES, SATURATING_GENERATOR_LOSS_UNSTABLE
        name, formula = "your saturating generator_loss", "mean log(1 - sigmoid(D(G(z))))"
    else:
        reference = losses.generator_loss
        mistakes, unstable = GENERATOR_LOSS_MISTAKES, GENERATOR_LOSS_UNSTABLE
        name, formula = "your generator_loss", "BCE(D(G(z)), 1) = -mean log sigmoid(D(G(z)))"
    compare_loss(fn, reference, [fake], mistakes, name, f"the loss is {formula}.", unstable=unstable)
    passed(f"{name[5:]} matches {formula}: value, gradient, stable at ±1000")


# --- judgment: which generator loss still learns when D is confident ---------------------------

def three_generator_losses() -> dict[str, Callable]:
    """Three generator losses, 'A' to 'C', each a function of the logits D(G(z)) (B,) returning a
    0-d tensor minimised by G. The exhibit of Exercise 7: judge them by their gradients."""
    return {"A": lambda logits: losses.generator_loss(logits, saturating=True),
            "B": lambda logits: -torch.sigmoid(logits).mean(),
            "C": lambda logits: losses.generator_loss(logits)}


def _gradient_at(loss: Callable, d_fake: float) -> float:
    """|d loss / d logit| for one generated sample that D scores ``d_fake``."""
    logit = torch.tensor([math.log(d_fake / (1 - d_fake))], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(loss(logit), logit)
    return abs(float(grad))


@learner_facing
def check_loss_when_d_wins(answer: str) -> None:
    """Check ``answer``, the letter of the generator loss of :func:`three_generator_losses` whose
    gradient does not vanish when D confidently rejects the fakes ('C', any case, 'loss C' too)."""
    confident = 1e-4
    grads = {name: _gradient_at(loss, confident) for name, loss in three_generator_losses().items()}
    halfway = {name: _gradient_at(loss, 0.5) for name, loss in three_generator_losses().items()}
    at = f"at D(G(z)) = {confident:g}"
    evidence = [
        KnownAnswer(f"loss A's gradient {at} is {grads['A']:.1e}, as small as D(G(z)) itself ({halfway['A']:.2f} at "
                    f"D(G(z)) = 0.5): the generator gets almost nothing exactly when its samples are worst. Compare "
                    f"the three gradients in the row where D is confident.", "A"),
        KnownAnswer(f"loss B's gradient {at} is {grads['B']:.1e} ({halfway['B']:.2f} at D(G(z)) = 0.5): it shrinks "
                    f"with D(G(z)) as D gets confident, so a generator that D rejects stops learning. Compare the "
                    f"three gradients in the row where D is confident.", "B"),
    ]
    check_choice(answer, "your loss_when_d_wins", lettered("loss", grads), "C", evidence)
    passed(f"loss C, the non-saturating -log D(G(z)): its gradient {at} is {grads['C']:.2f}, against "
           f"{grads['A']:.0e} for A (the saturating loss) and {grads['B']:.0e} for B (-E[D(G(z))])")
