"""Checks for lesson 04, mode collapse: counting the modes a sample covers, and PacGAN's packing."""
from __future__ import annotations

import math
from typing import Callable

import torch

from gancourse.checks.core import KnownAnswer, call, diagnose, learner_facing, passed

__all__ = ["check_mode_coverage", "check_pack"]


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


def _same_coverage(got: tuple[float, float], known: tuple[float, float]) -> bool:
    return known[0] == got[0] and abs(known[1] - got[1]) < 1e-6


@learner_facing
def check_mode_coverage(fn: Callable) -> None:
    """Check ``fn(samples, centers, std) -> (modes_captured, high_quality_share)`` on hand-made sets
    of points around PacGAN's ring (lesson 04): high quality = within 3σ (Euclidean) of the nearest
    mode; a mode is captured when it is the nearest mode of at least one high-quality sample."""
    what = "your mode_coverage"
    ring, cases = _coverage_cases()
    for name, samples, modes, share in cases:
        got = call(fn, samples.clone(), ring.centers.clone(), ring.std, what=what)
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

        mistakes = [
            KnownAnswer("the high-quality value is a count; report a share (divide by the number of samples).",
                        lambda: variant(3 * ring.std, share_of=False)),
            KnownAnswer("the threshold is 3 in data units; it is 3 standard deviations, 3·std.",
                        lambda: variant(3.0)),
            KnownAnswer("std is already a standard deviation: the threshold is 3·std, not 3·std².",
                        lambda: variant(3 * ring.std ** 2)),
            KnownAnswer("a mode only counts when a *high-quality* sample has it as its nearest mode; samples "
                        "far from every mode capture nothing.", lambda: variant(3 * ring.std, filter_modes=False)),
            KnownAnswer("the share is inverted: high quality means *close* to a mode (distance < 3·std).",
                        lambda: variant(3 * ring.std, invert=True)),
        ]
        hint = diagnose((got_modes, got_share), mistakes, same=_same_coverage) or (
            "for each sample find its nearest centre (torch.cdist(...).min(1)); high quality when that "
            "distance < 3·std; modes captured = distinct nearest centres among the high-quality samples.")
        raise AssertionError(f"{what} on {name}: got ({got_modes:g}, {got_share:.3g}), expected "
                             f"({modes}, {share:.3g}).\nHint: {hint}")
    passed("mode_coverage: modes captured and high-quality share agree on 4 hand-made sample sets")


@learner_facing
def check_pack(fn: Callable) -> None:
    """Check ``fn(x, m) -> packed`` turns (B, ...) into (B / m, m · features), consecutive groups:
    row i holds samples i·m, ..., i·m + m - 1 flattened and concatenated (lesson 04)."""
    from gancourse.models import pack as reference

    what = "your pack"
    for shape, m in [((6, 2), 2), ((12, 2), 3), ((8, 1, 4, 4), 4), ((5, 3), 1)]:
        x = torch.arange(math.prod(shape), dtype=torch.float32).reshape(shape)
        got = call(fn, x.clone(), m, what=what)
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
            hint = diagnose(got, [
                KnownAnswer("this groups samples i, i + B/m, i + 2B/m, ... together; the course (and the "
                            "Trainer's batches) pack consecutive samples: x.reshape(B // m, -1).",
                            torch.cat([chunk.flatten(1) for chunk in x.chunk(m)], 1)),
            ], same=torch.equal) or ("row i should be samples i·m ... i·m + m - 1 flattened one after the "
                                     "other; x.reshape(x.shape[0] // m, -1) does exactly that.")
            raise AssertionError(f"{what}(x of shape {shape}, m={m}) has the right shape but the wrong "
                                 f"samples in each row.\nHint: {hint}")
    x = torch.randn(8, 2, requires_grad=True)
    got = call(fn, x, 2, what=what)
    if not got.requires_grad:
        raise AssertionError(f"{what} cut the result off the graph (no gradient reaches the generator)."
                             f"\nHint: reshape the tensor; don't go through .numpy(), .tolist() or .detach().")
    passed("pack: (B, ...) -> (B / m, m · features), consecutive samples in each row, gradients flow")
