"""Checks for lesson 04, mode collapse: counting the modes a sample covers, PacGAN's packing, and
predicting which of two discriminators covers more of the grid."""
from __future__ import annotations

import math
from typing import Callable

import torch

from gancourse.checks.core import (
    KnownAnswer, call, check_choice, diagnose, describe, learner_facing, need_number, need_tensor, passed,
    wrong_return,
)

__all__ = ["check_mode_coverage", "check_pack", "check_coverage_prediction"]


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
    return abs(known[0] - got[0]) < 1e-6 and abs(known[1] - got[1]) < 1e-6


def _coverage_variant(threshold: Callable[[float], float] = lambda std: 3 * std, share_of: str = "samples",
                      filter_modes: bool = True, invert: bool = False, squared: bool = False) -> Callable:
    """A mode-coverage function with one thing done differently (``threshold`` of std; the
    high-quality count divided by the number of "samples", of "centers", or by "nothing"; the
    squared distance compared with the threshold)."""
    def coverage(samples, centers, std):
        distance, nearest = torch.cdist(samples, centers).min(1)
        distance = distance ** 2 if squared else distance
        good = (distance >= threshold(std)) if invert else (distance < threshold(std))
        modes = len(set(nearest[good if filter_modes else slice(None)].tolist()))
        divisor = {"samples": len(samples), "centers": len(centers), "nothing": 1}[share_of]
        return modes, float(good.sum()) / divisor
    return coverage


def _nearest_sample_per_mode(samples, centers, std):
    """Distances minimised over the samples (dim 0): each centre's nearest sample."""
    good_modes = torch.cdist(samples, centers).min(0).values < 3 * std
    return int(good_modes.sum()), float(good_modes.double().mean())


#: Known wrong coverages, each a function of (samples, centers, std).
MODE_COVERAGE_MISTAKES = [
    KnownAnswer("the high-quality value is a count; report a share (divide by the number of samples).",
                _coverage_variant(share_of="nothing")),
    KnownAnswer("the threshold is 3 in data units; it is 3 standard deviations, 3·std.",
                _coverage_variant(lambda std: 3.0)),
    KnownAnswer("std is already a standard deviation: the threshold is 3·std, not 3·std².",
                _coverage_variant(lambda std: 3 * std ** 2)),
    KnownAnswer("a mode only counts when a *high-quality* sample has it as its nearest mode; samples "
                "far from every mode capture nothing.", _coverage_variant(filter_modes=False)),
    KnownAnswer("the share is inverted: high quality means *close* to a mode (distance < 3·std).",
                _coverage_variant(invert=True)),
    KnownAnswer("the high-quality count is divided by the number of modes; the share is over the samples: "
                "divide by the number of samples (or take the mean of the boolean mask).",
                _coverage_variant(share_of="centers")),
    KnownAnswer("the squared distance is compared with 3·std: square both sides, distance² < (3·std)², or "
                "compare the distance itself (torch.cdist gives it) with 3·std.", _coverage_variant(squared=True)),
    KnownAnswer("the pair is in the wrong order: return (modes_captured, high_quality_share).",
                lambda samples, centers, std: _coverage_variant()(samples, centers, std)[::-1]),
    KnownAnswer("the minimum ran over dimension 0, the samples: that finds each centre's nearest sample. The "
                "exercise wants each sample's nearest centre: torch.cdist(samples, centers).min(dim=1).",
                _nearest_sample_per_mode),
]


@learner_facing
def check_mode_coverage(fn: Callable) -> None:
    """Check ``fn(samples, centers, std) -> (modes_captured, high_quality_share)`` on hand-made sets
    of points around PacGAN's ring (lesson 04): samples (N, 2) and centers (8, 2) float32, std a
    float; high quality = within 3σ (Euclidean) of the nearest mode; a mode is captured when it is
    the nearest mode of at least one high-quality sample. The pair may hold ints, floats or 0-d
    tensors."""
    what = "your mode_coverage"
    ring, cases = _coverage_cases()
    for name, samples, modes, share in cases:
        got = call(fn, samples.clone(), ring.centers.clone(), ring.std, what=what)
        expected = "two numbers: (modes captured, share of high-quality samples), an int and a float"
        if not (isinstance(got, (tuple, list)) or (torch.is_tensor(got) and got.numel() == 2)) or len(got) != 2:
            raise wrong_return(got, what, expected)
        got_modes, got_share = (need_number(v, what, expected) for v in got)
        if got_modes == modes and abs(got_share - share) < 1e-6:
            continue
        hint = diagnose((got_modes, got_share), MODE_COVERAGE_MISTAKES, samples, ring.centers, ring.std,
                        same=_same_coverage) or (
            "for each sample find its nearest centre (torch.cdist(...).min(1)); high quality when that "
            "distance < 3·std; modes captured = distinct nearest centres among the high-quality samples.")
        raise AssertionError(f"{what} on {name}: got ({got_modes:g}, {got_share:.3g}), expected "
                             f"({modes}, {share:.3g}).\nHint: {hint}")
    passed("mode_coverage: modes captured and high-quality share agree on 4 hand-made sample sets")


#: Known wrong packings of the right shape, each a function of (x, m).
PACK_MISTAKES = [
    KnownAnswer("this groups samples i, i + B/m, i + 2B/m, ... together; the course (and the "
                "Trainer's batches) pack consecutive samples: x.reshape(B // m, -1).",
                lambda x, m: torch.cat([chunk.flatten(1) for chunk in x.chunk(m)], 1)),
]


def _pack_shape_hint(got: tuple[int, ...], shape: tuple[int, ...], m: int) -> str:
    """What a packed shape with the right number of values says about how it was made."""
    batch, features = shape[0], math.prod(shape[1:])
    if got[:2] == (batch // m, m):
        return ("the m samples of each group must be flattened into one row (each row holds m whole samples): "
                "reshape to (B / m, -1).")
    if len(got) == 2 and got[0] == m and m != batch // m:
        return (f"this makes m = {m} rows; pack makes B / m = {batch // m} rows, each holding m whole samples: "
                f"x.reshape(B // m, -1).")
    if len(got) == 2 and got[1] == m * shape[1] and shape[1] != features:
        return (f"each row holds m · x.shape[1] = {got[1]} numbers, but a sample of shape {shape[1:]} has {features}: "
                f"x.shape[1] is the channel count for images. Flatten everything after the batch dimension: "
                f"x.reshape(B // m, -1).")
    if len(got) == 2 and got[1] == 2 * m and features != 2:
        return (f"each row holds m · 2 numbers: the 2 features of the toy data are written into the code, but a "
                f"sample here has {features}. x.reshape(B // m, -1) works for any shape.")
    return "each row must hold m whole samples: (B, ...) -> (B / m, m · features)."


@learner_facing
def check_pack(fn: Callable) -> None:
    """Check ``fn(x, m) -> packed`` turns float32 (B, ...) into (B / m, m · features), consecutive
    groups: row i holds samples i·m, ..., i·m + m - 1 flattened and concatenated (lesson 04). B is a
    multiple of m (x (6, 2), (12, 2), (8, 1, 4, 4), (5, 3)); x is left unchanged; gradients flow."""
    from gancourse.models import pack as reference

    what = "your pack"
    for shape, m in [((6, 2), 2), ((12, 2), 3), ((8, 1, 4, 4), 4), ((5, 3), 1)]:
        x = torch.arange(math.prod(shape), dtype=torch.float32).reshape(shape)
        expected = reference(x, m)
        got = need_tensor(call(fn, x.clone(), m, what=what), what, f"a tensor of shape {tuple(expected.shape)}")
        if got.shape != expected.shape:
            hint = _pack_shape_hint(tuple(got.shape), shape, m) if got.numel() == expected.numel() else (
                "keep every number of every sample.")
            raise AssertionError(f"{what}(x of shape {shape}, m={m}) has shape {tuple(got.shape)}, "
                                 f"expected {tuple(expected.shape)}.\nHint: {hint}")
        if not torch.equal(got, expected):
            hint = diagnose(got, PACK_MISTAKES, x, m, same=torch.equal) or (
                "row i should be samples i·m ... i·m + m - 1 flattened one after the "
                "other; x.reshape(x.shape[0] // m, -1) does exactly that.")
            raise AssertionError(f"{what}(x of shape {shape}, m={m}) has the right shape but the wrong "
                                 f"samples in each row.\nHint: {hint}")
    x = torch.randn(8, 2, requires_grad=True)
    got = need_tensor(call(fn, x, 2, what=what), what, "a tensor of shape (4, 4)")
    if not got.requires_grad:
        raise AssertionError(f"{what} cut the result off the graph (no gradient reaches the generator)."
                             f"\nHint: reshape the tensor; don't go through .numpy(), .tolist() or .detach().")
    passed("pack: (B, ...) -> (B / m, m · features), consecutive samples in each row, gradients flow")


# --- judgment: predict which discriminator covers more of the grid, then run it -----------------

#: Modes of the grid's 25 captured, mean ± spread over runs: PacGAN's Table 1 (Lin et al. 2018, 10
#: trials, ± standard error) and lesson 04's full-mode run (5 seeds, 5,000 steps, ± sd, one run).
PUBLISHED_GRID = {"GAN": (17.3, 0.8), "PacGAN2": (23.8, 0.7)}
LESSON_GRID = {"GAN": (20.2, 1.6), "PacGAN2": (24.8, 0.4)}

PREDICTIONS = {
    "PacGAN2": ["PacGAN", "PacGAN 2", "packed", "packing", "pack", "pack 2", "m 2", "m = 2", "the packed one",
                "packed discriminator", "the packed discriminator", "PacGAN2 covers more"],
    "GAN": ["ordinary", "ordinary GAN", "standard", "standard GAN", "vanilla", "vanilla GAN", "unpacked",
            "the ordinary GAN", "m 1", "m = 1", "GAN covers more"],
    "same": ["equal", "tie", "no difference", "neither", "both", "about the same", "the same"],
}


def _measured_text(measured: dict | None) -> str:
    """" This notebook's run (its mean over seeds): GAN 14.0, PacGAN2 19.5 modes.", or '' without a run."""
    if not measured:
        return ""
    shown = ", ".join(f"{name} {need_number(value, 'measured', 'a number of modes'):.1f}"
                      for name, value in measured.items())
    return f" This notebook's run (its mean over seeds): {shown} modes."


@learner_facing
def check_coverage_prediction(prediction: str, measured: dict | None = None) -> None:
    """Check ``prediction``: which covers more of the grid's 25 modes after the same training, an
    ordinary discriminator ('GAN') or one packing 2 samples ('PacGAN2'), or 'same'. Graded against
    published results (PacGAN's Table 1) and the lesson's full-mode run, never against one short
    run; ``measured`` ({'GAN': modes, 'PacGAN2': modes}, the notebook's run) is shown as feedback."""
    if measured is not None and not (isinstance(measured, dict) and set(measured) == {"GAN", "PacGAN2"}):
        raise AssertionError(f"measured is {describe(measured)}; pass the run's result, a dict "
                             f"{{'GAN': modes, 'PacGAN2': modes}}, or leave it out.")
    published = ", ".join(f"{name} {mean} ± {spread}" for name, (mean, spread) in PUBLISHED_GRID.items())
    lesson = ", ".join(f"{name} {mean} ± {spread}" for name, (mean, spread) in LESSON_GRID.items())
    evidence_text = (f"PacGAN's Table 1 (mean ± s.e. over 10 trials): {published} of 25 modes; lesson 04's full-mode "
                     f"run (mean ± sd over 5 seeds, one run): {lesson}.")
    why = ("A collapsed generator's single samples can each look real; a pair of samples on the same mode does not "
           "look like two independent real samples, and only a packed discriminator sees the pair.")
    run = _measured_text(measured)
    evidence = [
        KnownAnswer(f"packing covers more: {evidence_text} {why}{run}", "GAN"),
        KnownAnswer(f"the gap is many standard errors wide: {evidence_text} {why}{run}", "same"),
    ]
    check_choice(prediction, "your prediction", PREDICTIONS, "PacGAN2", evidence)
    agrees = ""
    if measured:
        gan, packed = (need_number(measured[name], "measured", "a number of modes") for name in ("GAN", "PacGAN2"))
        agrees = (" Your run agrees." if packed > gan else
                  " Your run does not show it: a short run with few seeds (quick mode trains a few dozen steps) "
                  "is too noisy to separate them; the published figures average 10 long runs.")
    passed(f"PacGAN2 covers more of the grid: {evidence_text}{run}{agrees}")
