"""Checks for lesson 00, setup and data: scaling pixels to the generator's range and back."""
from __future__ import annotations

from typing import Callable

import torch

from gancourse import data
from gancourse.checks.core import KnownAnswer, call, diagnose, learner_facing, passed

__all__ = ["check_scale_to_tanh_range", "check_to_unit_range"]


def _pixels() -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (4, 28, 28), generator=gen, dtype=torch.uint8)
    pixels[0, 0, :4] = torch.tensor([0, 255, 128, 127], dtype=torch.uint8)
    return pixels


@learner_facing
def check_scale_to_tanh_range(fn: Callable) -> None:
    """Check ``fn(pixels_uint8) -> float32 images in [-1, 1]`` (0 -> -1, 255 -> 1)."""
    what = "your scale_to_tanh_range"
    pixels = _pixels()
    got = call(fn, pixels.clone(), what=what)
    if not torch.is_tensor(got):
        raise AssertionError(f"{what} returned {type(got).__name__}; return a tensor.")
    if got.shape != pixels.shape:
        raise AssertionError(f"{what} changed the shape from {tuple(pixels.shape)} to {tuple(got.shape)}.")
    if got.dtype != torch.float32:
        raise AssertionError(f"{what} returned {got.dtype}; networks train in float32. Convert with "
                             f".float() (or .to(torch.float32)) before the arithmetic.")
    expected = data.scale_to_tanh_range(pixels)
    if not torch.allclose(got, expected, atol=1e-6):
        p = pixels.to(torch.float32)
        hint = diagnose(got, [
            KnownAnswer("this maps pixels to [0, 1]; a tanh generator outputs [-1, 1], so the data must "
                        "match: x / 127.5 - 1.", p / 255),
            KnownAnswer("the arithmetic ran on uint8, which wraps around at 256 (255·2 = 254): convert to "
                        "float first.", (pixels * 2 - 255).to(torch.float32) / 255),
            KnownAnswer("(x - 128) / 128 maps 255 to 0.992, not 1; use x / 127.5 - 1.", (p - 128) / 128),
            KnownAnswer("(x - 0.5) / 0.5 is the torchvision Normalize recipe for images already in [0, 1]; "
                        "on raw 0..255 pixels divide by 255 first (or use x / 127.5 - 1).", (p - 0.5) / 0.5),
        ]) or "map 0 to -1 and 255 to 1 linearly: x / 127.5 - 1, in float32."
        raise AssertionError(f"{what} maps pixel values 0, 255, 128 to {got[0, 0, :3].tolist()}; expected "
                             f"{expected[0, 0, :3].tolist()}.\nHint: {hint}")
    passed("scale_to_tanh_range maps 0..255 to [-1, 1] in float32")


@learner_facing
def check_to_unit_range(fn: Callable) -> None:
    """Check ``fn(images) -> images in [0, 1]``: the inverse of scaling to [-1, 1], clamped."""
    what = "your to_unit_range"
    images = torch.tensor([[-1.0, 0.0, 1.0, 0.5, -1.3, 1.2]])
    got = call(fn, images.clone(), what=what)
    if not torch.is_tensor(got) or got.shape != images.shape:
        raise AssertionError(f"{what} should return a tensor of the input's shape {tuple(images.shape)}.")
    expected = data.to_unit_range(images)
    if not torch.allclose(got.float(), expected, atol=1e-6):
        hint = diagnose(got.float(), [
            KnownAnswer("the values outside [-1, 1] (a generator in training, or rounding) must be clamped "
                        "to [0, 1] after rescaling: .clamp(0, 1).", (images + 1) / 2),
            KnownAnswer("this clamps to [0, 1] without rescaling: first (x + 1) / 2, then clamp.",
                        images.clamp(0, 1)),
        ]) or "rescale with (x + 1) / 2, then clamp to [0, 1]."
        raise AssertionError(f"{what} maps {images.tolist()[0]} to {got.tolist()[0]}; expected "
                             f"{expected.tolist()[0]}.\nHint: {hint}")
    passed("to_unit_range maps [-1, 1] back to [0, 1] and clamps overshoot")
