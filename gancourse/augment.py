"""DiffAugment (Zhao et al. 2020): differentiable augmentations for data-efficient GAN training.

The same random transformation family is applied to real *and* generated batches before every
call of the discriminator, in its update and in the generator's; every operation is differentiable
with respect to the images, so the generator learns through it. With few training images the
discriminator then cannot memorise them, and the generator is not taught the augmentations
(both sides see augmented images). Lesson 08.

    x_aug = diff_augment(x, "translation,cutout", generator=rng)   # (B, C, H, W) -> same shape

Follows the authors' code (github.com/mit-han-lab/data-efficient-gans, DiffAugment_pytorch.py):

- ``translation``: shift each image by whole pixels, up to 1/8 of its size each way, filling
  with zeros (mid-grey for images in [-1, 1], as in the official code);
- ``cutout``: zero a square of half the image size centred at a random pixel (clipped by the border);
- ``color``: random brightness (± 0.5), saturation (× [0, 2] around the per-pixel channel mean)
  and contrast (× [0.5, 1.5] around the image mean). For 1-channel images the saturation step is
  the identity (a pixel's channel mean is the pixel), so ``color`` changes brightness and contrast.

Each image draws its own parameters from ``generator`` (a ``torch.Generator`` on ``x``'s device;
the global RNG when None), so a seeded generator gives the same augmentation twice.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["diff_augment", "parse_policy", "translation", "cutout", "color", "POLICIES"]


def _rand(x: torch.Tensor, generator) -> torch.Tensor:
    """One uniform number per image, (B, 1, 1, 1), in ``x``'s dtype."""
    return torch.rand(x.shape[0], 1, 1, 1, device=x.device, generator=generator).to(x.dtype)


def color(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random brightness, saturation and contrast per image (the official ``color`` policy)."""
    x = x + (_rand(x, generator) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(x, generator) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(x, generator) + 0.5) + mean


def translation(x: torch.Tensor, generator: torch.Generator | None = None, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by whole pixels, at most ``ratio`` of its height/width each way; zeros fill in."""
    batch, _, height, width = x.shape
    shift_h, shift_w = int(height * ratio), int(width * ratio)
    ty = torch.randint(-shift_h, shift_h + 1, (batch, 1, 1), device=x.device, generator=generator)
    tx = torch.randint(-shift_w, shift_w + 1, (batch, 1, 1), device=x.device, generator=generator)
    b, i, j = torch.meshgrid(torch.arange(batch, device=x.device), torch.arange(height, device=x.device),
                             torch.arange(width, device=x.device), indexing="ij")
    i = (i + ty + 1).clamp(0, height + 1)  # +1: the padding; the padded border is where zeros come from
    j = (j + tx + 1).clamp(0, width + 1)
    padded = F.pad(x, [1, 1, 1, 1])
    return padded[b, :, i, j].permute(0, 3, 1, 2)  # output pixel (i, j) shows input pixel (i + ty, j + tx)


def cutout(x: torch.Tensor, generator: torch.Generator | None = None, ratio: float = 0.5) -> torch.Tensor:
    """Zero a square of ``ratio`` times the image size per image, centred at a random pixel
    (a centre near the border cuts the square short there)."""
    batch, _, height, width = x.shape
    size_h, size_w = int(height * ratio), int(width * ratio)
    cy = torch.randint(0, height + (1 - size_h % 2), (batch, 1, 1), device=x.device, generator=generator)
    cx = torch.randint(0, width + (1 - size_w % 2), (batch, 1, 1), device=x.device, generator=generator)
    b, i, j = torch.meshgrid(torch.arange(batch, device=x.device), torch.arange(size_h, device=x.device),
                             torch.arange(size_w, device=x.device), indexing="ij")
    i = (i + cy - size_h // 2).clamp(0, height - 1)
    j = (j + cx - size_w // 2).clamp(0, width - 1)
    mask = torch.ones(batch, height, width, dtype=x.dtype, device=x.device)
    mask[b, i, j] = 0
    return x * mask.unsqueeze(1)


POLICIES = {"color": color, "translation": translation, "cutout": cutout}


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"translation,cutout"`` -> ``("translation", "cutout")``; ``""`` -> ``()``; a ValueError
    naming the choices for an unknown name."""
    if not isinstance(policy, str):
        raise ValueError(f"the augmentation policy is a string like 'translation,cutout', not {policy!r}")
    names = tuple(name.strip() for name in policy.split(",") if name.strip())
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise ValueError(f"unknown augmentation {unknown[0]!r}; choose from {', '.join(POLICIES)} "
                         f"(comma-separated, e.g. 'translation,cutout'), or '' for none")
    return names


def diff_augment(x: torch.Tensor, policy: str = "translation,cutout",
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply the policy's augmentations in order to a batch of images (B, C, H, W); differentiable
    with respect to ``x``. ``""`` returns ``x`` itself."""
    names = parse_policy(policy)
    if names and x.dim() != 4:
        raise ValueError(f"DiffAugment works on image batches (B, C, H, W), not a tensor of shape {tuple(x.shape)}")
    for name in names:
        x = POLICIES[name](x, generator)
    return x
