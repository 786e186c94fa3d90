"""Checks for lesson 05, the Wasserstein GAN: the critic's and the generator's losses, the
gradient penalty, weight clipping, one WGAN-GP critic update, and judging which of three critics
is 1-Lipschitz from its gradient norms."""
from __future__ import annotations

import math
import re
from typing import Callable

import torch
from torch import nn

from gancourse import losses
from gancourse.checks.core import (
    KnownAnswer, Parameters, Squeeze, as_scalar, bce_with_label, call, check_choice, close, compare_loss, diagnose,
    has_gradient, learner_facing, lettered, match, need_number, parameters_of, passed, random_logits,
    same_parameters,
)
from gancourse.training import TrainConfig, Trainer

__all__ = ["check_critic_loss", "check_wgan_generator_loss", "check_gradient_penalty", "check_clip_weights",
           "check_critic_step", "check_lipschitz_critic"]


#: Known wrong critic losses, each a function of (scores_real, scores_fake).
CRITIC_LOSS_MISTAKES = [
    KnownAnswer("the sign is flipped: the critic *maximises* mean f(x) - mean f(G(z)), so it minimises "
                "mean f(G(z)) - mean f(x).", lambda r, f: r.mean() - f.mean()),
    KnownAnswer("this is the standard GAN's cross-entropy loss; the WGAN critic's scores are not "
                "probabilities: no sigmoid, no log.", lambda r, f: bce_with_label(r, 1) + bce_with_label(f, 0)),
    KnownAnswer("a sigmoid squashes the scores; the critic's scores are used raw.",
                lambda r, f: torch.sigmoid(f).mean() - torch.sigmoid(r).mean()),
    KnownAnswer("this sums over the batch; each term is a batch mean.", lambda r, f: f.sum() - r.sum()),
    KnownAnswer("this is half the loss (one mean over both batches side by side, or the two terms "
                "averaged); the loss is mean f(G(z)) - mean f(x).", lambda r, f: (f.mean() - r.mean()) / 2),
    KnownAnswer("the real term is missing.", lambda r, f: f.mean()),
    KnownAnswer("the fake term is missing.", lambda r, f: -r.mean()),
    KnownAnswer("this takes the absolute value of the difference, so the loss can never go below 0 and its "
                "gradient flips sign whenever real and fake scores cross. Return the difference itself: "
                "mean f(G(z)) - mean f(x).", lambda r, f: (f.mean() - r.mean()).abs()),
]


@learner_facing
def check_critic_loss(fn: Callable) -> None:
    """Check ``fn(scores_real, scores_fake) -> 0-d tensor`` = mean f(G(z)) - mean f(x), on float32
    scores of the same shape (8,), with its gradients (lesson 05)."""
    real, fake = random_logits(4, 8, 3.0), random_logits(5, 8, 3.0)
    compare_loss(fn, losses.critic_loss, [real, fake], CRITIC_LOSS_MISTAKES, "your critic_loss",
                 "the critic loss is mean f(G(z)) - mean f(x).", also=[[fake, real]])
    passed("critic_loss matches mean f(G(z)) - mean f(x): value and gradients")


#: Known wrong WGAN generator losses, each a function of scores_fake.
WGAN_GENERATOR_LOSS_MISTAKES = [
    KnownAnswer("the sign is flipped: the generator wants the critic to score its samples *high*, so it "
                "minimises -mean f(G(z)).", lambda f: f.mean()),
    KnownAnswer("this is the standard GAN's non-saturating loss; WGAN scores are used raw, no log.",
                lambda f: bce_with_label(f, 1)),
    KnownAnswer("a sigmoid squashes the scores; use them raw.", lambda f: -torch.sigmoid(f).mean()),
    KnownAnswer("this sums over the batch; use the mean.", lambda f: -f.sum()),
    KnownAnswer("the log of the scores treats them as probabilities (NaN where a score is negative); WGAN "
                "scores are used raw, no log: -mean f(G(z)).", lambda f: -torch.log(f).mean()),
]


@learner_facing
def check_wgan_generator_loss(fn: Callable) -> None:
    """Check ``fn(scores_fake) -> 0-d tensor`` = -mean f(G(z)) on float32 scores of shape (12,),
    with its gradient (lesson 05)."""
    fake = random_logits(6, 12, 3.0)
    compare_loss(fn, losses.wgan_generator_loss, [fake], WGAN_GENERATOR_LOSS_MISTAKES, "your wgan_generator_loss",
                 "the WGAN generator loss is -mean f(G(z)).")
    passed("wgan_generator_loss matches -mean f(G(z)): value and gradient")


# --- the gradient penalty ----------------------------------------------------------------------

class _LinearCritic(nn.Module):
    """f(x) = w·x + b on (B, *shape) inputs: grad f = w everywhere, so the penalty is (||w|| - 1)²."""

    def __init__(self, norm: float, shape: tuple[int, ...] = (2, 3, 3)):
        super().__init__()
        w = torch.randn(*shape, generator=torch.Generator().manual_seed(7))
        self.weight = nn.Parameter(w / w.norm() * norm)
        self.bias = nn.Parameter(torch.tensor(0.3))

    def forward(self, x):
        return (x * self.weight).flatten(1).sum(1) + self.bias  # (B,)


class _QuadraticCritic(nn.Module):
    """f(x) = ||x||² / 2 per sample: grad f(x) = x, so the penalty depends on where it is taken.
    It records the inputs it is given that require grad (the interpolates)."""

    def __init__(self):
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        if x.requires_grad:
            self.seen.append(x.detach().clone())
        return 0.5 * x.pow(2).flatten(1).sum(1)  # (B,)


def _same_penalties(got: tuple[float, ...], known: tuple[float, ...]) -> bool:
    return all(math.isclose(g, k, rel_tol=1e-3, abs_tol=1e-5) for g, k in zip(got, known))


#: Wrong penalties on the linear critics, each (penalty for ||w|| = 2, penalty for ||w|| = 0.5).
GRADIENT_PENALTY_MISTAKES = [
    KnownAnswer("λ is applied inside the penalty; return the penalty alone, the caller multiplies "
                "by λ.", (10.0, 2.5)),
    KnownAnswer("the penalty is summed over the batch; it is a mean over samples.", (8.0, 2.0)),
    KnownAnswer("the square is missing: the penalty is (||grad|| - 1)², not |·|.", (1.0, 0.5)),
    KnownAnswer("the penalty is one-sided (only norms above 1); WGAN-GP penalises both sides.", (1.0, 0.0)),
    KnownAnswer("the squared norm is used; the penalty uses the L2 norm itself, ||grad||₂.", (9.0, 0.5625)),
    KnownAnswer("the gradient is taken of the *mean* of the scores, which divides each sample's "
                "gradient by the batch size. Differentiate the sum (or pass "
                "grad_outputs=torch.ones_like(scores)).", ((2 / 8 - 1) ** 2, (0.5 / 8 - 1) ** 2)),
    KnownAnswer("one norm over the whole batch's gradient (g.norm()), which is √B times a sample's here: take "
                "one norm per sample, g.flatten(1).norm(dim=1), then average (norm - 1)² over the batch.",
                ((8 ** 0.5 * 2 - 1) ** 2, (8 ** 0.5 * 0.5 - 1) ** 2)),
    KnownAnswer("the norm runs over dimension 1 only (the channels), one norm per pixel; each sample's norm "
                "runs over all its features: g.flatten(1).norm(dim=1).",
                lambda: tuple(float(((_LinearCritic(n).weight.detach().norm(dim=0) - 1) ** 2).mean())
                              for n in (2.0, 0.5))),
]

_EPS_AT_ENDS = ("the penalty is taken at the real or the fake samples; it belongs at random "
                "interpolates x_hat = eps·x + (1 - eps)·G(z).")
_EPS_ONE_FOR_BATCH = ("one eps for the whole batch: every sample is interpolated at the same point of its "
                      "line. Draw one eps per sample, shape (B, 1, 1, 1) for image batches: "
                      "torch.rand(B, *[1] * (real.dim() - 1)).")
_EPS_PER_FEATURE = ("eps is drawn per feature; draw one eps ~ U(0, 1) per sample, shape (B, 1, 1, 1), "
                    "so x_hat lies on the line between a real and a fake sample.")
_EPS_OUTSIDE = ("eps falls outside [0, 1] (torch.randn draws a normal), so x_hat leaves the segment between the real "
                "and the fake sample. Draw eps ~ U(0, 1) with torch.rand.")


def _eps_shape_hint(text: str) -> str:
    found = re.search(r"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\)", text)
    if found and {"8", "4096"} & set(found.groups()):
        return ("eps must broadcast against image batches (B, C, H, W): an eps of shape (B,) or (B, 1) lines up "
                "with the last dimensions, not the batch. Draw it with shape (B, 1, 1, 1): torch.rand(B, *[1] * "
                "(real.dim() - 1)) works for batches of any shape.")
    return ""


@learner_facing
def check_gradient_penalty(fn: Callable) -> None:
    """Check ``fn(critic, real, fake) -> 0-d tensor`` = mean (||grad f(x_hat)||₂ - 1)², x_hat random
    interpolates with one eps per sample, differentiable with respect to the critic (lesson 05).
    real and fake are float32 batches of images (B, C, H, W) or points (B, F): (8, 2, 3, 3), (8, 5)
    and (4096, 4, 4, 4); ``critic(x)`` returns scores of shape (B,); real and fake are left
    unchanged."""
    what = "your gradient_penalty"
    batch = 8
    hints = [_eps_shape_hint]
    gen = torch.Generator().manual_seed(11)
    real, fake = torch.randn(batch, 2, 3, 3, generator=gen), torch.randn(batch, 2, 3, 3, generator=gen)
    # 1. Linear critics: the penalty is known exactly whatever the interpolates, and so is its
    #    gradient with respect to w: d/dw (||w|| - 1)² = 2 (||w|| - 1) w / ||w||.
    results = {}
    for norm in (2.0, 0.5):
        critic = _LinearCritic(norm)
        value = as_scalar(call(fn, critic, real.clone(), fake.clone(), what=what, hints=hints), what)
        if not value.requires_grad:
            raise AssertionError(f"{what} does not reach the critic's weights: the penalty has no "
                                 f"gradient.\nHint: pass create_graph=True to torch.autograd.grad, so "
                                 f"that the penalty is a differentiable term of the critic's loss.")
        value.backward()
        results[norm] = (float(value.detach()), critic.weight.grad)
    expected = {n: (n - 1) ** 2 for n in results}
    if not all(math.isclose(results[n][0], expected[n], rel_tol=1e-4, abs_tol=1e-5) for n in results):
        got = (results[2.0][0], results[0.5][0])
        hint = diagnose(got, GRADIENT_PENALTY_MISTAKES, same=_same_penalties)
        raise AssertionError(
            f"{what} gave {got[0]:.5g} and {got[1]:.5g} for linear critics f(x) = w·x with ||w|| = 2 "
            f"and 0.5, whose gradient is w everywhere; expected {expected[2.0]:.5g} and "
            f"{expected[0.5]:.5g} = (||w|| - 1)².\nHint: "
            + (hint or "take each sample's gradient norm over all its features (flatten from "
                       "dimension 1), subtract 1, square, and average over the batch."))
    for norm, (_, grad) in results.items():
        w = _LinearCritic(norm).weight.detach()
        if grad is None or not close(grad, 2 * (norm - 1) * w / w.norm(), rtol=1e-3, atol=1e-5):
            raise AssertionError(f"{what} has the right value, but its gradient with respect to the "
                                 f"critic's weights is wrong.\nHint: keep the graph (create_graph=True) "
                                 f"and don't detach the gradients.")
    # 2. Points (B, F), as the critic update of Exercise 5 gives them: the same penalty, and the
    #    critic must see batches shaped like real and fake.
    real2, fake2 = torch.randn(batch, 5, generator=gen), torch.randn(batch, 5, generator=gen)
    critic = _LinearCritic(2.0, (5,))
    shapes: list[tuple[int, ...]] = []
    critic.register_forward_pre_hook(lambda module, inputs: shapes.append(tuple(inputs[0].shape)))
    value2 = float(as_scalar(call(fn, critic, real2.clone(), fake2.clone(), what=what, hints=hints), what).detach())
    odd = next((shape for shape in shapes if shape != tuple(real2.shape)), None)
    if odd is not None:
        raise AssertionError(f"{what} gave the critic a batch of shape {odd} when real and fake are points of "
                             f"shape {tuple(real2.shape)}: eps broadcast them to another shape.\nHint: draw one "
                             f"eps per sample, with as many dimensions as real: torch.rand(B, *[1] * (real.dim() - "
                             f"1)), shape (B, 1) here and (B, 1, 1, 1) for images.")
    if not math.isclose(value2, 1.0, rel_tol=1e-4, abs_tol=1e-5):
        raise AssertionError(f"{what} gave {value2:.5g} for a linear critic with ||w|| = 2 on points of shape "
                             f"{tuple(real2.shape)}; expected 1 = (||w|| - 1)².\nHint: make it work for batches "
                             f"of any shape: eps of shape (B, 1, ..., 1), and each sample's gradient flattened "
                             f"from dimension 1.")
    # 3. A critic whose gradient varies: real = u, fake = -u with ||u|| = 1 per sample; at
    #    x_hat = (2 eps - 1) u the penalty is (1 - |2 eps - 1|)², whose mean over eps ~ U(0, 1) is 1/3.
    #    At the real or fake points it is 0; with one eps per *feature* it is about 0.18. The
    #    critic records x_hat, which shows where eps was drawn.
    big = 4096
    u = torch.full((big, 4, 4, 4), 1 / 8.0)  # each sample has norm 1 (64 features of 1/8)
    for attempt in range(3):
        torch.manual_seed(1234 + attempt)
        critic = _QuadraticCritic()
        value = float(as_scalar(call(fn, critic, u.clone(), (-u).clone(), what=what, hints=hints), what).detach())
        x_hat = next((x for x in reversed(critic.seen) if x.shape == u.shape), None)
        hint = ""
        if x_hat is not None:
            flat = x_hat.flatten(1)
            if torch.allclose(flat.abs(), u.flatten(1), atol=1e-6):
                hint = _EPS_AT_ENDS
            elif flat.std(1).mean() > 1e-4:
                hint = _EPS_PER_FEATURE
            elif torch.allclose(flat, flat[:1].expand_as(flat), atol=1e-7) and flat.abs().max() > 1e-6:
                hint = _EPS_ONE_FOR_BATCH
            elif bool((flat[:, 0].abs() > u.flatten(1)[0, 0] * (1 + 1e-4)).any()):  # |2 eps - 1| > 1
                hint = _EPS_OUTSIDE
        if not hint and not 0.30 < value < 0.37:
            if value < 0.02:
                hint = _EPS_AT_ENDS
            elif 0.15 < value < 0.21:
                hint = _EPS_PER_FEATURE
            else:
                hint = ("draw one eps ~ U(0, 1) per sample (torch.rand), fresh on every call, and "
                        "interpolate x_hat = eps·x + (1 - eps)·G(z).")
        if hint:
            raise AssertionError(f"{what} gave {value:.4f} on a test where random interpolates with one "
                                 f"eps ~ U(0, 1) per sample give 1/3 on average.\nHint: {hint}")
    passed("gradient_penalty matches mean (||∇f(x̂)||₂ - 1)² at per-sample interpolates, "
           "and its gradient reaches the critic")


@learner_facing
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
        call(fn, module, c, what=what, in_place=True)
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
                                 f"torch.no_grad(); `p = p.clamp(...)` only rebinds a name, and clamping a copy "
                                 f"(parameters_to_vector(...) or p.clone()) leaves the "
                                 f"parameters as they were.")
        for (name, p), b in zip(module.named_parameters(), before):
            if not torch.equal(p, b.clamp(-c, c)):
                if torch.equal(p, b):
                    hint = f"{name} was not clipped: clip every parameter, biases and BatchNorm too."
                elif (p > c + 1e-12).any():
                    hint = f"values above c remain in {name}: clip both sides, to [-c, c]."
                elif (p < -c - 1e-12).any():
                    hint = f"values below -c remain in {name}: clip both sides, to [-c, c]."
                elif torch.equal(p, b.clamp(*(float(v) for v in p.detach().aminmax()))):
                    low, high = (float(v) for v in p.detach().aminmax())
                    hint = (f"{name} was clamped to [{low:g}, {high:g}]; the bounds are [-c, c] = [{-c:g}, {c:g}]"
                            + (": the lower bound is -c, not 0." if low == 0 else
                               ": use the c it is given, not a fixed number."))
                else:
                    hint = (f"values of {name} inside [-c, c] changed: clamp (leave them as they are), "
                            f"don't rescale. Was c = {c} used, or a fixed number?")
                raise AssertionError(f"{what}: {hint}")
        if not all(p.requires_grad for p in params):
            raise AssertionError(f"{what} turned off requires_grad on some parameters; leave it on.")
    passed("clip_weights clamps every parameter to [-c, c] in place and leaves gradients alone")


# --- one critic update with the gradient penalty -------------------------------------------------

_LEARNING_RATE, _GP_WEIGHT, _STALE_GRADIENT = 0.1, 10.0, 0.5


def _critic_setup():
    """The critic (with stale gradients), a generator, the critic's optimizer, real and fake
    batches: where the learner's update and every reference update start."""
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1), Squeeze())
    generator = nn.Linear(2, 2)
    opt = torch.optim.SGD(critic.parameters(), lr=_LEARNING_RATE)
    real = torch.randn(32, 2) + torch.tensor([2.0, 0.0])
    fake = generator(torch.randn(32, 2))
    for p in critic.parameters():  # stale gradients from an earlier step
        p.grad = torch.full_like(p, _STALE_GRADIENT)
    return critic, generator, opt, real, fake


def _trainer_update(gp_weight: float, swap: bool = False, loss: str = "wgan-gp") -> tuple[Parameters, float]:
    """The critic's parameters after one update by the package's Trainer (SGD; ``loss``, WGAN-GP
    by default), and the loss; ``swap`` exchanges the real and the fake batch."""
    critic, generator, _, real, fake = _critic_setup()
    config = TrainConfig(loss=loss, optimizer="sgd", lr_d=_LEARNING_RATE, gp_weight=gp_weight,
                         n_critic=1, latent_dim=2, snapshot_every=0)
    trainer = Trainer(generator, critic, real, config, "cpu")
    first, second = (fake.detach(), real) if swap else (real, fake.detach())
    trainer.rng.manual_seed(1)  # its eps is then the learner's torch.rand(B, 1) after torch.manual_seed(1)
    loss = trainer.discriminator_step(first, second)
    return parameters_of(critic), loss


def _combine(*terms: tuple[float, Parameters]) -> Parameters:
    """The sum of coefficient · parameters, tensor by tensor."""
    return [sum(coefficient * tensors[i] for coefficient, tensors in terms) for i in range(len(terms[0][1]))]


def _known_updates() -> tuple[list[KnownAnswer], list[KnownAnswer]]:
    """(the two accepted updates, the known mistakes), each producing (parameters, loss or None).

    SGD without momentum moves the weights by -lr·gradient, which is linear in the loss, so with
    C the critic loss and P, P' the penalty with eps on the real or on the fake samples, three
    Trainer updates give them all: w + Δ(C + λP), w + Δ(C) and, real and fake swapped,
    w + Δ(-C + λP'). No create_graph: the penalty's value, but no gradient from it. A fourth,
    w + Δ(B) with B the standard GAN's cross-entropy loss, gives that mistake.
    """
    start = parameters_of(_critic_setup()[0])
    correct, correct_loss = _trainer_update(_GP_WEIGHT)
    plain, plain_loss = _trainer_update(0.0)
    swapped, swapped_loss = _trainer_update(_GP_WEIGHT, swap=True)
    cross_entropy, _ = _trainer_update(0.0, loss="non-saturating")
    lam = _GP_WEIGHT
    accepted = [
        KnownAnswer("eps on the real samples", (correct, correct_loss)),
        KnownAnswer("eps on the fakes", (_combine((1, swapped), (2, plain), (-2, start)), swapped_loss + 2 * plain_loss)),
    ]
    mistakes = [
        KnownAnswer("the penalty does not reach the critic's weights: take its gradient with "
                    "torch.autograd.grad(..., create_graph=True), so the penalty itself can be differentiated.",
                    (plain, correct_loss)),
        KnownAnswer("the update ignores the gradient penalty: add gp_weight · penalty to the critic's loss.",
                    (plain, None)),
        KnownAnswer("the signs are flipped: the critic minimises E[f(fake)] - E[f(real)] (it raises real scores).",
                    (_combine((1, correct), (-2, plain), (2, start)), None)),
        KnownAnswer("gradients from an earlier step were added in: call opt.zero_grad() first.",
                    ([p - _LEARNING_RATE * _STALE_GRADIENT for p in correct], None)),
        KnownAnswer("the critic's weights did not change: opt.step() was never called. Call it after "
                    "loss.backward().", (start, None)),
        KnownAnswer("the penalty is subtracted; it is added: critic_loss + gp_weight · penalty.",
                    (_combine((2, plain), (-1, correct)), None)),
        KnownAnswer("gp_weight multiplies the critic loss instead of the penalty: critic_loss + gp_weight · penalty.",
                    (_combine((lam - 1 / lam, plain), (1 / lam, correct), (1 - lam, start)), None)),
        KnownAnswer("this is the standard GAN's cross-entropy loss on the critic's scores; the WGAN critic "
                    "minimises mean f(fake) - mean f(real), raw scores, no sigmoid, no log (plus gp_weight · "
                    "penalty).",
                    (_combine((1, cross_entropy), (1, correct), (-1, plain)), None)),
    ]
    return accepted, mistakes


def _loss_value(loss) -> float:
    return need_number(loss, "your critic_step", "the loss (a 0-d tensor or a float)")


def _same_update(got: tuple[Parameters, object], known: tuple[Parameters, float | None]) -> bool:
    """Same parameters, and the same loss where the known update names one."""
    (params, loss), (known_params, known_loss) = got, known
    return same_parameters(params, known_params) and (
        known_loss is None or abs(_loss_value(loss) - known_loss) < 1e-4 * max(1.0, abs(known_loss)))


def _watch_steps(critic: nn.Module, opt: torch.optim.Optimizer) -> list[tuple[bool, bool]]:
    """For each opt.step() to come: (whether the critic had a gradient then, whether one had reached
    it through backward since the previous step)."""
    steps: list[tuple[bool, bool]] = []
    reached = [False]
    for p in critic.parameters():
        p.register_hook(lambda grad: reached.__setitem__(0, True))
    step = opt.step

    def watched(*args, **kwargs):
        steps.append((has_gradient(critic), reached[0]))
        reached[0] = False
        return step(*args, **kwargs)

    opt.step = watched
    return steps


@learner_facing
def check_critic_step(fn: Callable) -> None:
    """Check ``fn(critic, opt, real, fake, gp_weight) -> loss``: one WGAN-GP critic update (lesson 05).

    It must zero the critic's gradients, compute E[f(fake)] - E[f(real)] + λ·penalty at random
    interpolates (one eps per sample, drawn with ``torch.rand``), backpropagate and step; the fakes
    come from a generator and must not receive gradients. Probed on a small 2-D critic with SGD
    (real and fake (32, 2), scores (32,), gp_weight 10): the updated weights are compared with the
    package's Trainer making the same update under the same random numbers. The loss comes back
    as a 0-d tensor or a float.
    """
    what = "your critic_step"
    critic, generator, opt, real, fake = _critic_setup()
    shapes: list[tuple[int, ...]] = []
    critic.register_forward_pre_hook(lambda module, inputs: shapes.append(tuple(inputs[0].shape)))
    steps = _watch_steps(critic, opt)
    torch.manual_seed(1)
    loss = call(fn, critic, opt, real, fake, _GP_WEIGHT, what=what)
    got = parameters_of(critic)
    if generator.weight.grad is not None:
        raise AssertionError(f"{what} sent gradients into the generator.\nHint: the critic's update uses "
                             f"fake.detach(); the generator is trained in its own step.")
    wrong_rank = next((shape for shape in shapes if len(shape) != real.dim()), None)
    if wrong_rank is not None:
        raise AssertionError(f"{what} gave the critic a batch of shape {wrong_rank}; real and fake are "
                             f"{tuple(real.shape)}.\nHint: an eps of shape (B, 1, 1, 1), right for image "
                             f"batches, broadcasts these (B, 2) batches to 4-D. Draw one eps per sample with "
                             f"as many dimensions as real: torch.rand(B, *[1] * (real.dim() - 1)).")
    accepted, mistakes = _known_updates()
    found = match(got, accepted, same=lambda params, known: same_parameters(params, known[0]))
    if found is not None:
        expected_loss = found.produce[1]
        loss_value = _loss_value(loss)
        if abs(loss_value - expected_loss) > 1e-4 * max(1.0, abs(expected_loss)):
            raise AssertionError(f"{what} updated the critic correctly but returned {loss_value:.6g}; the "
                                 f"critic's loss with the penalty was {expected_loss:.6g}.\nHint: return the "
                                 f"loss you called backward() on.")
        passed("critic_step: zero_grad, E[f(fake)] - E[f(real)] + λ·penalty (through create_graph), backward, "
               "step; no gradient reaches the generator")
        return
    if steps and not any(found for found, _ in steps):
        reached = any(reached for _, reached in steps)
        raise AssertionError(f"{what}: opt.step() found no gradient on the critic.\nHint: " + (
            "zero_grad() ran after backward() and before step(), wiping the gradients the step needed: the order "
            "is opt.zero_grad(), loss.backward(), opt.step()." if reached else
            "call loss.backward() before opt.step()."))
    hint = diagnose((got, loss), mistakes, same=_same_update) or (
        "zero the gradients, compute critic_loss + gp_weight * penalty (one eps per sample from "
        "torch.rand(B, 1)), backward, step.")
    raise AssertionError(f"{what} did not update the critic as one WGAN-GP step does.\nHint: {hint}")


# --- judgment: which critic is 1-Lipschitz, from its gradient norms ------------------------------

def three_critics() -> tuple[dict[str, nn.Module], torch.Tensor]:
    """Three critics on 2-D points, 'A' to 'C', and the 2,000 points (2,000, 2) to probe them at
    (uniform on [-5, 5]², the grid's square). All three are the same seeded MLP (2 -> 64 -> 64 -> 1,
    LeakyReLU 0.2), changed after construction: one is exactly 1-Lipschitz, one is not constrained,
    and one is rescaled so that its gradient norms average 1 over the points. Which is which is for
    the learner to find (the exhibit of Exercise 6); deterministic."""
    from gancourse.models import ToyDiscriminator

    with torch.random.fork_rng(devices=[]):  # the caller's random state stays as it was
        torch.manual_seed(0)
        critics = {name: ToyDiscriminator(hidden=(64, 64)) for name in "ABC"}
    for critic in critics.values():
        critic.load_state_dict(critics["A"].state_dict())
    points = torch.rand(2000, 2, generator=torch.Generator().manual_seed(1)) * 10 - 5
    linears = {name: [m for m in critic.modules() if isinstance(m, nn.Linear)] for name, critic in critics.items()}
    with torch.no_grad():
        for layer in linears["A"]:                                  # not constrained: larger weights
            layer.weight.mul_(3.0)
        for layer in linears["C"]:                                  # each layer divided by its largest singular value
            layer.weight.div_(torch.linalg.matrix_norm(layer.weight, ord=2))
        scale = gradient_norms(critics["B"], points).mean()        # gradient norms averaging 1
        linears["B"][-1].weight.div_(scale)
        linears["B"][-1].bias.div_(scale)
    for critic in critics.values():
        critic.requires_grad_(False)
    return critics, points


def gradient_norms(critic: nn.Module, points: torch.Tensor) -> torch.Tensor:
    """‖∇ₓ f(x)‖₂ at each of the points (N, 2): one norm per point, shape (N,)."""
    with torch.enable_grad():
        x = points.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x).sum(), x)
    return grad.norm(dim=1)


@learner_facing
def check_lipschitz_critic(answer: str) -> None:
    """Check ``answer``, the letter of the critic of :func:`three_critics` whose gradient norms show
    a Lipschitz constraint, ‖∇f‖ ≤ 1 at every point ('C', any case, 'critic C' too)."""
    critics, points = three_critics()
    norms = {name: gradient_norms(critic, points) for name, critic in critics.items()}
    facts = {name: (float(n.median()), float(n.max()), float((n > 1).double().mean()), float(n.mean()))
             for name, n in norms.items()}

    def shown(name: str) -> str:
        median, largest, above, _ = facts[name]
        return f"median {median:.2f}, largest {largest:.2f}, {above:.0%} of the {len(points):,} points above 1"

    evidence = [
        KnownAnswer(f"critic A's gradient norms: {shown('A')}. A 1-Lipschitz function has ‖∇f‖ ≤ 1 at every point; "
                    f"this critic is steeper than that almost everywhere: nothing bounds it.", "A"),
        KnownAnswer(f"critic B's gradient norms average {facts['B'][3]:.2f}, but: {shown('B')}. An average near 1 is "
                    f"what a penalty pulling norms towards 1 produces; a Lipschitz constraint means no norm above 1 "
                    f"anywhere. Look at the largest norm of each critic.", "B"),
    ]
    check_choice(answer, "your lipschitz_critic", lettered("critic", critics), "C", evidence)
    passed(f"critic C: {shown('C')}; its layers were each divided by their largest singular value (spectral "
           f"normalisation, exactly), so ‖∇f‖ ≤ 1 holds everywhere, not only at these points")
