"""DiffAugment: shapes, seeds, gradients, and what each augmentation does to the pixels."""
import pytest
import torch

from gancourse import augment
from gancourse.augment import cutout, diff_augment, translation


def images(n=8, channels=1, size=28, seed=0):
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("policy", ["translation", "cutout", "color", "translation,cutout", "color,translation,cutout"])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_seeds_and_gradients(policy, channels):
    x = images(channels=channels).requires_grad_(True)
    out = diff_augment(x, policy, seeded(1))
    assert out.shape == x.shape and out.dtype == x.dtype
    torch.testing.assert_close(out, diff_augment(x, policy, seeded(1)), rtol=0, atol=0)  # same seed, same images
    assert not torch.equal(out, diff_augment(x, policy, seeded(2)))
    (grad,) = torch.autograd.grad((out * torch.randn_like(out)).sum(), x)
    assert grad.abs().sum() > 0  # differentiable with respect to the images: G learns through it


def test_empty_policy_is_the_identity_and_unknown_names_are_refused():
    x = images()
    assert diff_augment(x, "") is x
    assert augment.parse_policy(" translation , cutout ") == ("translation", "cutout")
    with pytest.raises(ValueError, match="unknown augmentation 'blur'; choose from color, translation, cutout"):
        diff_augment(x, "translation,blur")
    with pytest.raises(ValueError, match=r"image batches \(B, C, H, W\)"):
        diff_augment(torch.zeros(4, 2), "translation")


def test_translation_moves_content_by_whole_pixels_with_zero_fill():
    x = images(n=64, channels=2) + 3  # no pixel is 0, so zeros can only come from the fill
    out = translation(x, seeded(0))
    shifts = set()
    for image, moved in zip(x, out):
        found = [(dy, dx) for dy in range(-3, 4) for dx in range(-3, 4)  # 28 // 8 = 3 pixels at most
                 if torch.equal(moved, _shifted(image, dy, dx))]
        assert len(found) == 1, "each image is its own shift by whole pixels, zeros filling in"
        shifts.add(found[0])
    assert len(shifts) > 20  # the shifts vary between images (49 possible)


def _shifted(image, dy, dx):
    """Output pixel (i, j) shows input pixel (i + dy, j + dx); zero outside the image."""
    out = torch.zeros_like(image)
    h, w = image.shape[-2:]
    out[:, max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)] = \
        image[:, max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)]
    return out


def test_cutout_zeroes_a_square_of_half_the_size():
    x = images(n=200, channels=3) + 3
    out = cutout(x, seeded(0))
    sizes = set()
    for image, cut in zip(x, out):
        zero = cut == 0
        assert torch.equal(zero[0], zero[1]) and torch.equal(zero[0], zero[2])  # all channels alike
        rows, cols = zero[0].any(1).nonzero().flatten(), zero[0].any(0).nonzero().flatten()
        box = zero[0][rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        assert box.all() and zero[0].sum() == box.numel()  # one axis-aligned rectangle
        assert torch.equal(cut[~zero], image[~zero])  # the rest unchanged
        sizes.add(tuple(box.shape))
    assert max(sizes) == (14, 14) and all(h <= 14 and w <= 14 for h, w in sizes)  # 28 // 2, cut short at borders


def test_color_on_one_channel_changes_brightness_and_contrast_only():
    x = images(n=4)
    out = augment.color(x, seeded(0))
    # per image an affine map a * x + b of its pixels (saturation is the identity on one channel)
    for image, coloured in zip(x.flatten(1), out.flatten(1)):
        design = torch.stack([image, torch.ones_like(image)], 1)
        solution = torch.linalg.lstsq(design, coloured.unsqueeze(1)).solution
        torch.testing.assert_close(design @ solution, coloured.unsqueeze(1), atol=1e-5, rtol=0)


def test_the_global_rng_is_used_without_a_generator():
    torch.manual_seed(3)
    first = diff_augment(images(), "translation,cutout")
    torch.manual_seed(3)
    torch.testing.assert_close(first, diff_augment(images(), "translation,cutout"), rtol=0, atol=0)
