"""Checks for lesson 00, setup and data: scaling pixels to the generator's range and back, and
judging which of three preprocessing pipelines a tanh generator needs."""
from __future__ import annotations

from typing import Callable

import torch

from gancourse import data
from gancourse.checks.core import (
    KnownAnswer, call, check_choice, describe, diagnose, learner_facing, lettered, need_tensor, passed,
)

__all__ = ["check_scale_to_tanh_range", "check_to_unit_range", "check_tanh_pipeline"]


def _pixels() -> torch.Tensor:
    """(4, 28, 28) uint8 pixels; the first row starts 0, 255, 128, 127."""
    gen = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (4, 28, 28), generator=gen, dtype=torch.uint8)
    pixels[0, 0, :4] = torch.tensor([0, 255, 128, 127], dtype=torch.uint8)
    return pixels


UINT8_WRAP_HINT = ("the arithmetic ran on uint8, which wraps around at 256 (128·2 = 0, 0 - 128 = 128): larger "
                   "pixels do not always map to larger values. Convert to float first: x.float() / 127.5 - 1.")

#: Known wrong scalings, each a function of the uint8 pixels.
SCALE_MISTAKES = [
    KnownAnswer("this maps pixels to [0, 1]; a tanh generator outputs [-1, 1], so the data must "
                "match: x / 127.5 - 1.", lambda pixels: pixels.float() / 255),
    KnownAnswer(UINT8_WRAP_HINT, lambda pixels: (pixels * 2 - 255).to(torch.float32) / 255),
    KnownAnswer("(x - 128) / 128 maps 255 to 0.992, not 1; use x / 127.5 - 1.",
                lambda pixels: (pixels.float() - 128) / 128),
    KnownAnswer("(x - 0.5) / 0.5 is the torchvision Normalize recipe for images already in [0, 1]; "
                "on raw 0..255 pixels divide by 255 first (or use x / 127.5 - 1).",
                lambda pixels: (pixels.float() - 0.5) / 0.5),
    KnownAnswer("this maps pixels to [-0.5, 0.5]: centring at 127.5 is right, but the range 255 must be "
                "halved too: (x - 127.5) / 127.5, that is x / 127.5 - 1.",
                lambda pixels: (pixels.float() - 127.5) / 255),
]


def _not_increasing(pixels: torch.Tensor, got: torch.Tensor) -> bool:
    """Whether some larger pixel value maps to a smaller value (a uint8 wrap-around)."""
    order = pixels.flatten().argsort(stable=True)
    return bool((got.flatten()[order].diff() < -1e-6).any())


@learner_facing
def check_scale_to_tanh_range(fn: Callable) -> None:
    """Check ``fn(pixels) -> images``: uint8 pixels (4, 28, 28) to a new float32 tensor of the same
    shape in [-1, 1] (0 -> -1, 255 -> 1), the pixels left unchanged."""
    what = "your scale_to_tanh_range"
    pixels = _pixels()
    got = need_tensor(call(fn, pixels.clone(), what=what), what,
                      "a float32 tensor of the pixels' shape (4, 28, 28)")
    if got.shape != pixels.shape:
        raise AssertionError(f"{what} changed the shape from {tuple(pixels.shape)} to {tuple(got.shape)}.")
    if got.dtype != torch.float32:
        raise AssertionError(f"{what} returned {got.dtype}; networks train in float32. Convert with "
                             f".float() (or .to(torch.float32)) before the arithmetic.")
    expected = data.scale_to_tanh_range(pixels)
    if not torch.allclose(got, expected, atol=1e-6):
        hint = (diagnose(got, SCALE_MISTAKES, pixels) or (UINT8_WRAP_HINT if _not_increasing(pixels, got) else "")
                or "map 0 to -1 and 255 to 1 linearly: x / 127.5 - 1, in float32.")
        raise AssertionError(f"{what} maps pixel values 0, 255, 128 to {got[0, 0, :3].tolist()}; expected "
                             f"{expected[0, 0, :3].tolist()}.\nHint: {hint}")
    passed("scale_to_tanh_range maps 0..255 to [-1, 1] in float32")


#: Known wrong inverses, each a function of the images.
UNIT_RANGE_MISTAKES = [
    KnownAnswer("the values outside [-1, 1] (a generator in training, or rounding) must be clamped "
                "to [0, 1] after rescaling: .clamp(0, 1).", lambda images: (images + 1) / 2),
    KnownAnswer("this clamps to [0, 1] without rescaling: first (x + 1) / 2, then clamp.",
                lambda images: images.clamp(0, 1)),
    KnownAnswer("this clamps before rescaling, to [0, 1] in the [-1, 1] scale; rescale with (x + 1) / 2 "
                "first, then clamp to [0, 1].", lambda images: (images.clamp(0, 1) + 1) / 2),
    KnownAnswer("operator precedence: x / 2 + 1 divides before it adds. Write the parentheses: (x + 1) / 2, "
                "then clamp to [0, 1].", lambda images: (images / 2 + 1).clamp(0, 1)),
    KnownAnswer("a sigmoid squashes the values into (0, 1) but does not undo the scaling x / 127.5 - 1: -1 "
                "should come back as 0, and sigmoid(-1) = 0.27. Use (x + 1) / 2, clamped to [0, 1].",
                lambda images: torch.sigmoid(images)),
    KnownAnswer("min-max normalisation stretches each batch by its own minimum and maximum, so the same "
                "image comes back differently from batch to batch. The mapping is fixed: (x + 1) / 2, "
                "clamped to [0, 1].", lambda images: (images - images.min()) / (images.max() - images.min())),
]


@learner_facing
def check_to_unit_range(fn: Callable) -> None:
    """Check ``fn(images) -> images``: float32 images (1, 6), some beyond [-1, 1], to a new tensor
    of the same shape, (x + 1) / 2 clamped to [0, 1], the input left unchanged."""
    what = "your to_unit_range"
    images = torch.tensor([[-1.0, 0.0, 1.0, 0.5, -1.3, 1.2]])
    got = need_tensor(call(fn, images.clone(), what=what), what,
                      f"a tensor of the input's shape {tuple(images.shape)}")
    if got.shape != images.shape:
        raise AssertionError(f"{what} returned shape {tuple(got.shape)}; it should keep the input's shape "
                             f"{tuple(images.shape)}.")
    if not got.is_floating_point():
        raise AssertionError(f"{what} returned {describe(got)}; it should return floats in [0, 1].\nHint: "
                             f"stop at (x + 1) / 2 clamped to [0, 1], in floating point: no * 255 and no "
                             f".to(torch.uint8).")
    expected = data.to_unit_range(images)
    if not torch.allclose(got.float(), expected, atol=1e-6):
        hint = diagnose(got.float(), UNIT_RANGE_MISTAKES, images) or "rescale with (x + 1) / 2, then clamp to [0, 1]."
        raise AssertionError(f"{what} maps {images.tolist()[0]} to {got.tolist()[0]}; expected "
                             f"{expected.tolist()[0]}.\nHint: {hint}")
    passed("to_unit_range maps [-1, 1] back to [0, 1], clamps overshoot, and leaves its input as it was")


# --- judgment: which pipeline feeds a tanh generator ------------------------------------------

def preprocessing_pipelines() -> dict:
    """Three torchvision pipelines from tutorials, 'A' to 'C', each from uint8 pixels (H, W) to a
    float32 image (1, H, W); exactly one gives [-1, 1]. The exhibit of Exercise 3."""
    from torchvision import transforms

    return {"A": transforms.Compose([transforms.ToTensor()]),
            "B": transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]),
            "C": transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])}


def _pipeline_ranges() -> dict[str, tuple[float, float]]:
    """Each pipeline's values for the darkest and the brightest pixel, 0 and 255."""
    import numpy as np

    ends = np.array([[0, 255]], dtype=np.uint8)
    return {name: tuple(pipeline(ends).flatten().tolist()) for name, pipeline in preprocessing_pipelines().items()}


@learner_facing
def check_tanh_pipeline(answer: str) -> None:
    """Check ``answer``, the letter of the pipeline whose values match a tanh generator's range
    [-1, 1] ('A', 'B' or 'C', any case, 'pipeline B' too)."""
    ranges = _pipeline_ranges()
    (a_low, a_high), (c_low, c_high) = ranges["A"], ranges["C"]
    evidence = [
        KnownAnswer(f"pipeline A gives values in [{a_low:g}, {a_high:g}]: no real pixel is below 0, while a tanh "
                    f"generator draws half of its range there, so the discriminator gets a free tell (any negative "
                    f"value is fake). Look for the pipeline whose darkest pixel is -1 and brightest 1.", "A"),
        KnownAnswer(f"pipeline C standardises with MNIST's mean and standard deviation: values in [{c_low:.3f}, "
                    f"{c_high:.3f}]. tanh never exceeds 1, so the generator can never draw the stroke pixels between 1 "
                    f"and {c_high:.3f}, and the discriminator gets a free tell. Look for the pipeline whose darkest "
                    f"pixel is -1 and brightest 1.", "C"),
    ]
    check_choice(answer, "your tanh_pipeline", lettered("pipeline", ranges), "B", evidence)
    low, high = ranges["B"]
    passed(f"pipeline B: ToTensor's [0, 1], then (x - 0.5) / 0.5, gives [{low:g}, {high:g}], the range of tanh")
