"""Checks for lesson 03, the DCGAN: transposed-convolution sizes, DCGAN's initialisation,
walking through the latent space, and judging three Fréchet-distance curves."""
from __future__ import annotations

import operator
from typing import Callable

import torch
from torch import nn

from gancourse.checks.core import (
    KnownAnswer, call, check_choice, describe, diagnose, learner_facing, lettered, match, need_tensor, passed,
    wrong_return,
)

__all__ = ["check_conv_transpose_output_size", "check_dcgan_init", "check_interpolate", "check_run_to_continue"]


#: Known wrong formulas, each a function of (size, kernel, stride, padding).
CONV_TRANSPOSE_MISTAKES = [
    KnownAnswer("this is an ordinary convolution's formula, floor((size + 2·padding - kernel) / stride) "
                "+ 1; a transposed convolution runs it backwards, growing the size.",
                lambda size, kernel, stride, padding: (size + 2 * padding - kernel) // stride + 1),
    KnownAnswer("the padding is subtracted once; a transposed convolution removes padding from both "
                "sides (-2·padding).", lambda size, kernel, stride, padding: (size - 1) * stride - padding + kernel),
    KnownAnswer("the padding is ignored; it is removed from both sides (-2·padding).",
                lambda size, kernel, stride, padding: (size - 1) * stride + kernel),
    KnownAnswer("size·stride ignores the kernel's overhang: the last input position still spreads over a "
                "whole kernel.", lambda size, kernel, stride, padding: size * stride),
    KnownAnswer("size·stride counts one stride too many: n inputs are n - 1 strides apart, so the formula "
                "starts (size - 1)·stride.",
                lambda size, kernel, stride, padding: size * stride - 2 * padding + kernel),
    KnownAnswer("the padding is added; in a transposed convolution it is trimmed from both sides: "
                "-2·padding.", lambda size, kernel, stride, padding: (size - 1) * stride + 2 * padding + kernel),
    KnownAnswer("one short: the last input position covers `kernel` outputs, so the formula ends in + kernel, "
                "not + kernel - 1: (size - 1)·stride - 2·padding + kernel.",
                lambda size, kernel, stride, padding: (size - 1) * stride - 2 * padding + kernel - 1),
]


@learner_facing
def check_conv_transpose_output_size(fn: Callable) -> None:
    """Check ``fn(size, kernel, stride, padding) -> int`` (four ints in) against what
    nn.ConvTranspose2d does, on 7 cases."""
    what = "your conv_transpose_output_size"
    cases = [(1, 7, 1, 0), (7, 4, 2, 1), (14, 4, 2, 1), (4, 4, 2, 1), (5, 3, 2, 1), (3, 5, 3, 2), (8, 3, 1, 1)]
    for size, kernel, stride, padding in cases:
        layer = nn.ConvTranspose2d(1, 1, kernel, stride, padding)
        expected = layer(torch.zeros(1, 1, size, size)).shape[-1]
        got = call(fn, size, kernel, stride, padding, what=what)
        if got is None or isinstance(got, (str, bytes, tuple, list, dict)) or isinstance(got, nn.Module):
            raise wrong_return(got, what, "an int, the output size")
        if got != expected:
            hint = diagnose(got, CONV_TRANSPOSE_MISTAKES, size, kernel, stride, padding, same=operator.eq)
            raise AssertionError(f"{what}(size={size}, kernel={kernel}, stride={stride}, padding={padding}) "
                                 f"gave {got}; nn.ConvTranspose2d gives {expected}.\nHint: "
                                 + (hint or "each input position spreads over `kernel` outputs, `stride` "
                                            "apart; padding trims both sides."))
    passed("conv_transpose_output_size matches nn.ConvTranspose2d (1 -> 7 -> 14 -> 28 for the DCGAN generator)")


@learner_facing
def check_dcgan_init(fn: Callable) -> None:
    """Check ``fn(module)`` initialises in place as DCGAN does, keeping the module's Parameter
    objects: (transposed) convolution and linear weights ~ N(0, 0.02), BatchNorm weights
    ~ N(1, 0.02), biases 0. The module mixes ConvTranspose2d, BatchNorm2d, Conv2d and Linear
    layers, some nested in Sequentials."""
    what = "your dcgan_init"
    torch.manual_seed(0)
    module = nn.Sequential(nn.Sequential(nn.ConvTranspose2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.ReLU()),
                           nn.Sequential(nn.Conv2d(128, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2)),
                           nn.Flatten(), nn.Linear(512, 64))
    with torch.no_grad():  # BatchNorm's scales start at exactly 1: move them, so that setting them to 1 shows
        for norm in (module[0][1], module[1][1]):
            norm.weight.uniform_(0.5, 1.5)
    params = list(module.parameters())
    before = [p.detach().clone() for p in params]
    returned = call(fn, module, what=what, in_place=True)
    if any(a is not b for a, b in zip(module.parameters(), params)) or len(list(module.parameters())) != len(params):
        raise AssertionError(f"{what} replaced parameters with new ones (`layer.weight = nn.Parameter(...)`); "
                             f"initialise them in place (nn.init.normal_(layer.weight, 0.0, 0.02), "
                             f"nn.init.zeros_(layer.bias)), so that an optimizer built on the module before "
                             f"keeps updating the same tensors.")
    if isinstance(returned, nn.Module) and returned is not module:
        raise AssertionError(f"{what} returned a new module; change the module it is given, in place, and "
                             f"return nothing (module.apply(...) or a loop over module.modules()).")
    layers = {"ConvTranspose2d": [module[0][0]], "BatchNorm2d": [module[0][1], module[1][1]],
              "Conv2d": [module[1][0]], "Linear": [module[3]]}
    untouched = {id(p) for p, b in zip(params, before) if torch.equal(p.detach(), b)}
    left = [name for name, group in layers.items() if all(id(layer.weight) in untouched for layer in group)]
    if len(left) == len(layers):
        raise AssertionError(f"{what} left every weight as it was.\nHint: change the layers in place, and reach "
                             f"every layer type: module.apply(fn), or a loop over module.modules().")
    if left:
        if left == ["ConvTranspose2d", "BatchNorm2d", "Conv2d"]:
            hint = ("the layers nested inside a Sequential were not reached: module.children() lists only the "
                    "direct children. Loop over module.modules(), or use module.apply(fn): both visit every "
                    "layer, however deep (your DCGANGenerator keeps its layers in self.net).")
        else:
            hint = (f"every layer type needs its initialisation: check the isinstance tests "
                    f"(nn.ConvTranspose2d is not a subclass of nn.Conv2d; BatchNorm2d needs its own branch).")
        raise AssertionError(f"{what} left the {', '.join(left)} weights as they were.\nHint: {hint}")
    groups = {"ConvTranspose2d": (module[0][0], 0.0), "Conv2d": (module[1][0], 0.0), "Linear": (module[3], 0.0),
              "BatchNorm2d": (module[0][1], 1.0)}
    for name, (layer, mean) in groups.items():
        w = torch.cat([layer.weight.detach().flatten()]
                      + ([module[1][1].weight.detach().flatten()] if name == "BatchNorm2d" else []))
        if abs(w.mean().item() - mean) > (0.004 if mean == 0 else 0.01) or not 0.015 < w.std().item() < 0.025:
            raise AssertionError(f"{what}: {name} weights have mean {w.mean().item():.3f} and standard "
                                 f"deviation {w.std().item():.3f}.\nHint: {_init_hint(name, w, mean)}")
        if layer.bias is not None and layer.bias.detach().abs().max() > 0:
            raise AssertionError(f"{what}: {name} biases are not zero.\nHint: set them with bias.zero_() "
                                 f"(nn.init.zeros_).")
    passed("dcgan_init: convolution, transposed-convolution and linear weights ~ N(0, 0.02), "
           "BatchNorm weights ~ N(1, 0.02), biases 0")


def _init_hint(name: str, w: torch.Tensor, mean: float) -> str:
    """What a layer type's weights, drawn wrongly, say about how they were drawn."""
    std, spread = w.std().item(), (w - mean).abs().max().item()
    if std < 1e-6:
        return (f"the {name} weights are all {w[0].item():g}, a constant (fill_, ones_, constant_); DCGAN draws "
                f"them from N({mean:g}, 0.02): nn.init.normal_(layer.weight, {mean:.1f}, 0.02).")
    if spread <= 0.02 * (1 + 1e-4) and std < 0.015:
        return (f"the {name} weights lie within ±0.02 of {mean:g} with standard deviation {std:.3f}: a uniform "
                f"distribution (uniform_(-0.02, 0.02)). DCGAN draws from a normal one, standard deviation 0.02: "
                f"nn.init.normal_(layer.weight, {mean:.1f}, 0.02).")
    if name == "BatchNorm2d":
        return ("BatchNorm weights (its scale, γ) start around 1: N(1, 0.02), not N(0, 0.02) — a scale near 0 "
                "would silence every channel.")
    if abs(std - 0.02) > 0.01 and abs(w.mean().item()) < 0.01:
        return f"the {name} weights have standard deviation {std:.3f}; DCGAN uses 0.02."
    return (f"{name} weights ~ N(0, 0.02): normal_(0.0, 0.02) on the weight. Did the function reach every layer "
            f"type (module.apply visits them all)?")


def _within(tolerance: float) -> Callable[[torch.Tensor, torch.Tensor], bool]:
    return lambda got, known: torch.allclose(got, known, atol=tolerance)


@learner_facing
def check_interpolate(fn: Callable) -> None:
    """Check ``fn(z0, z1, t) -> z`` walks from z0 (t = 0) to z1 (t = 1), row by row, either along a
    straight line or along the great circle (slerp); says which one it found. z0 and z1 are
    float32 (64, 100), t a float; z0 and z1 are left unchanged."""
    from gancourse.viz import interpolate as reference

    what = "your interpolate"
    gen = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(64, 100, generator=gen), torch.randn(64, 100, generator=gen)
    expected = f"a tensor shaped like z0, {tuple(z0.shape)}"
    start = need_tensor(call(fn, z0.clone(), z1.clone(), 0.0, what=what), what, expected)
    end = need_tensor(call(fn, z0.clone(), z1.clone(), 1.0, what=what), what, expected)
    if start.shape != z0.shape or end.shape != z0.shape:
        raise AssertionError(f"{what} returned {describe(start)}; it should return {expected}.")
    if torch.allclose(start, z1, atol=1e-4) and torch.allclose(end, z0, atol=1e-4):
        raise AssertionError(f"{what} goes from z1 to z0: t = 0 should give z0 and t = 1 give z1.")
    if not (torch.allclose(start, z0, atol=1e-4) and torch.allclose(end, z1, atol=1e-4)):
        hint = diagnose(start, _start_mistakes(z0, z1), same=_within(1e-4))
        raise AssertionError(f"{what} should give z0 at t = 0 and z1 at t = 1." + (f"\nHint: {hint}" if hint else ""))
    mid = need_tensor(call(fn, z0.clone(), z1.clone(), 0.5, what=what), what, expected)
    paths = [KnownAnswer("linear interpolation, a straight line: its midpoint is shorter than typical noise "
                         "(about 0.71 of it in 100 dimensions)", lambda t: reference(z0, z1, t, "linear")),
             KnownAnswer("slerp interpolation, the great circle: every point keeps a typical norm",
                         lambda t: reference(z0, z1, t, "slerp"))]
    path = match(mid, paths, 0.5, same=_within(1e-4))
    if path is not None:
        quarter = need_tensor(call(fn, z0.clone(), z1.clone(), 0.25, what=what), what, expected)
        if not torch.allclose(quarter, path.produce(0.25), atol=1e-4):
            raise AssertionError(f"{what} is right at t = 0, 0.5 and 1 but not at t = 0.25.")
        passed(f"interpolate: {path.hint}")
        return
    if torch.allclose(mid.norm(dim=1), torch.ones(64), atol=1e-3):
        raise AssertionError(f"{what} returns unit vectors; the generator was trained on N(0, I) noise, "
                             f"whose norm is about √d = 10 here.\nHint: don't normalise the result.")
    hint = diagnose(mid, [KnownAnswer(_ONE_ANGLE_HINT, lambda: _slerp_one_angle(z0, z1, 0.5))], same=_within(1e-4))
    raise AssertionError(f"{what} at t = 0.5 is neither the linear midpoint (z0 + z1) / 2 nor the slerp "
                         f"midpoint.\nHint: " + (hint or "work row by row (dim=-1) and weight z0 by (1 - t) or "
                                                         "sin((1 - t)Ω) / sin Ω."))


_ONE_ANGLE_HINT = ("one angle Ω for the whole batch: the dot product ran over every row at once. Each row is its own "
                   "pair of points: Ω = arccos of (z0 * z1).sum(dim=-1, keepdim=True) / (|z0| |z1|) per row.")


def _slerp_one_angle(z0: torch.Tensor, z1: torch.Tensor, t: float) -> torch.Tensor:
    """Slerp with a single angle, from the whole batch's dot product."""
    omega = torch.acos(((z0 * z1).sum() / (z0.norm() * z1.norm())).clamp(-1, 1))
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


def _start_mistakes(z0: torch.Tensor, z1: torch.Tensor) -> list[KnownAnswer]:
    """Known wrong paths, each what it gives at t = 0."""
    omega = torch.acos(torch.nn.functional.cosine_similarity(z0, z1, dim=1).clamp(-1, 1)).unsqueeze(1)
    return [
        KnownAnswer("at t = 0 it gives unit vectors: the points were normalised (F.normalize, or dividing by the "
                    "norm). The generator was trained on N(0, I) noise, whose norm is about √d = 10 here: slerp "
                    "turns the direction but keeps the lengths; don't normalise z0, z1 or the result.",
                    lambda: torch.nn.functional.normalize(z0, dim=1)),
        KnownAnswer("at t = 0 it gives z0 + z1: z1 must be weighted by t too, (1 - t)·z0 + t·z1.",
                    lambda: z0 + z1),
        KnownAnswer("at t = 0 it gives sin(Ω)·z0: slerp divides by sin Ω, "
                    "(sin((1 - t)Ω)·z0 + sin(tΩ)·z1) / sin Ω.", lambda: torch.sin(omega) * z0),
    ]


# --- judgment: which run to continue, from its Fréchet-distance curve --------------------------

def three_fd_curves() -> dict[str, list[tuple[int, float]]]:
    """Three constructed (not trained) curves of the judge's Fréchet distance, 'A' to 'C': (step,
    FD) every 1,000 steps to 20,000, smooth curves plus noise of standard deviation 0.5. One is
    still falling at the end, one has flattened out, one rose after its best point. The exhibit of
    Exercise 5; deterministic (seeded noise)."""
    gen = torch.Generator().manual_seed(3)
    steps = torch.arange(0, 20_001, 1000, dtype=torch.float64)
    k = steps / 1000
    curves = {"A": 9.5 + 60 * torch.exp(-k / 1.6) + 0.12 * torch.relu(k - 8) ** 2,  # best near 8k, then worse
              "B": 4.0 + 60 * torch.exp(-k / 9.0),                                   # slow, still falling
              "C": 10.0 + 60 * torch.exp(-k / 1.2)}                                  # fast, then flat
    return {name: [(int(step), round(float(fd + 0.5 * torch.randn((), generator=gen, dtype=torch.float64)), 2))
                   for step, fd in zip(steps, curve)] for name, curve in curves.items()}


def _fd_facts(curve: list[tuple[int, float]]) -> dict:
    """What a curve says: its best point, its last value, and its change over the last 5 points."""
    best_step, best = min(curve, key=lambda point: point[1])
    return {"best": best, "best_step": best_step, "last": curve[-1][1], "last_step": curve[-1][0],
            "change": curve[-1][1] - curve[-5][1], "since": curve[-5][0]}


@learner_facing
def check_run_to_continue(answer: str) -> None:
    """Check ``answer``, the letter of the run of :func:`three_fd_curves` worth training further:
    the one whose Fréchet distance is still falling at the end ('B', any case, 'run B' too)."""
    facts = {name: _fd_facts(curve) for name, curve in three_fd_curves().items()}
    a, b, c = facts["A"], facts["B"], facts["C"]
    since = f"since step {a['since']:,}"
    evidence = [
        KnownAnswer(f"run A has the lowest single point, {a['best']:.1f} at step {a['best_step']:,}, but it has "
                    f"risen since, to {a['last']:.1f} at step {a['last_step']:,} ({a['change']:+.1f} {since}): more "
                    f"training makes it worse. Its best checkpoint is worth keeping; its training is not worth "
                    f"continuing. Compare where each curve is heading at the end, not its lowest point.", "A"),
        KnownAnswer(f"run C fell fastest and ends about level with B ({c['last']:.1f} against {b['last']:.1f}), but it "
                    f"has been flat for the second half: {c['change']:+.1f} {since}, within the noise of its points, "
                    f"while B moved {b['change']:+.1f}. More steps will not move C. Compare where each curve is "
                    f"heading at the end.", "C"),
    ]
    check_choice(answer, "your run_to_continue", lettered("run", facts), "B", evidence)
    passed(f"run B: the only curve still falling at the end ({b['change']:+.1f} {since}, against C's "
           f"{c['change']:+.1f} and A's {a['change']:+.1f})")
