"""MNIST for the course: one data directory, the real torchvision path, pixels in [-1, 1].

The whole training set is small (60,000 x 28 x 28), so the course keeps it as one tensor on the
training device instead of streaming it through a ``DataLoader`` (docs/design.md, Speed).
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import torch

DATA_ENV = "GANCOURSE_DATA"

#: The four files torchvision keeps in ``<data dir>/MNIST/raw/``, with their sizes in bytes.
MNIST_FILES = {
    "train-images-idx3-ubyte": 47_040_016,
    "train-labels-idx1-ubyte": 60_008,
    "t10k-images-idx3-ubyte": 7_840_016,
    "t10k-labels-idx1-ubyte": 10_008,
}


class MNISTNotFoundError(FileNotFoundError):
    """MNIST is not in the data directory and could not be downloaded."""


def data_dir() -> Path:
    """The course's one data directory.

    ``$GANCOURSE_DATA`` when set, else ``$XDG_CACHE_HOME/gancourse`` (``~/.cache/gancourse``).
    MNIST lives in ``<data dir>/MNIST/raw/``, torchvision's layout.
    """
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser().resolve()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser().resolve() / "gancourse"


def _missing_message(root: Path, reason: str) -> str:
    raw = root / "MNIST" / "raw"
    files = "\n".join(f"  {raw / name}  ({size:,} bytes)" for name, size in MNIST_FILES.items())
    return (f"MNIST is not in {raw} and {reason}.\n"
            f"Place these four uncompressed files there (torchvision's layout):\n{files}\n"
            f"or point {DATA_ENV} at a folder that holds MNIST/raw/ with them.")


def _check_sizes(raw: Path) -> None:
    for name, size in MNIST_FILES.items():
        path = raw / name
        if path.exists() and path.stat().st_size != size:
            raise RuntimeError(f"{path} has {path.stat().st_size:,} bytes, expected {size:,}: "
                               f"it is truncated or not an uncompressed MNIST file. Delete it and "
                               f"copy or download it again.")


@functools.lru_cache(maxsize=4)
def _mnist_uint8(root: str, train: bool, download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision.datasets import MNIST

    root_path = Path(root)
    raw = root_path / "MNIST" / "raw"
    _check_sizes(raw)
    have_all = all((raw / name).exists() for name in MNIST_FILES)
    if not have_all and not download:
        raise MNISTNotFoundError(_missing_message(root_path, "download=False"))
    try:
        dataset = MNIST(root=root, train=train, download=download)
    except Exception as error:  # offline: URLError, RuntimeError("Error downloading ...")
        if have_all:
            raise RuntimeError(f"could not read MNIST from {raw}: {error}") from error
        raise MNISTNotFoundError(
            _missing_message(root_path, f"downloading it failed ({type(error).__name__}: {error})")
        ) from None
    return dataset.data, dataset.targets  # (N, 28, 28) uint8, (N,) int64


def scale_to_tanh_range(pixels: torch.Tensor) -> torch.Tensor:
    """Map uint8 pixels 0..255 to float32 in [-1, 1], the range of a ``tanh`` generator.

    Computed in float32: arithmetic on the uint8 tensor itself would wrap around at 256.
    """
    return pixels.to(torch.float32).div(127.5).sub(1.0)


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """Map images in [-1, 1] back to [0, 1] for display, clamping what a generator overshoots."""
    return images.add(1.0).div(2.0).clamp(0.0, 1.0)


def load_mnist(
    train: bool = True,
    device: torch.device | str = "cpu",
    root: str | os.PathLike | None = None,
    download: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as two tensors on ``device``: images (N, 1, 28, 28) float32 in [-1, 1], labels (N,).

    Args:
        train: the 60,000 training images, or the 10,000 test images.
        device: where the tensors should live (the whole set fits easily on any GPU).
        root: the data directory; :func:`data_dir` when ``None``.
        download: let torchvision download the files when they are missing.

    Raises:
        MNISTNotFoundError: the files are missing and could not be downloaded; the message names
            the directory and the four files to put there.
    """
    root_path = Path(root).expanduser().resolve() if root is not None else data_dir()
    pixels, labels = _mnist_uint8(str(root_path), bool(train), bool(download))
    images = scale_to_tanh_range(pixels).unsqueeze(1)  # (N, 1, 28, 28)
    return images.to(device), labels.to(device)


def load_image_folder(
    root: str | os.PathLike,
    image_size: int = 64,
    channels: int = 3,
    device: torch.device | str = "cpu",
    max_images: int | None = None,
) -> torch.Tensor:
    """Your own images as one tensor (N, channels, image_size, image_size) in [-1, 1].

    ``root`` in torchvision's ``ImageFolder`` layout (``root/<class>/<image>``, e.g. an ImageNet
    subset), or a flat folder of images. Each image is resized so its shorter side is
    ``image_size`` and centre-cropped to a square. Files that cannot be read as images are skipped;
    how many, and the first few names, are printed. Lesson 03 trains a DCGAN on the result.

    Raises:
        FileNotFoundError: ``root`` does not exist.
        ValueError: no readable image in ``root``.
    """
    from PIL import Image, UnidentifiedImageError
    from torchvision import transforms
    from torchvision.datasets import ImageFolder
    from torchvision.datasets.folder import IMG_EXTENSIONS

    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"no such folder: {root}")
    if any(child.is_dir() for child in root.iterdir()):
        paths = [Path(path) for path, _ in ImageFolder(str(root), allow_empty=True).samples]
    else:
        paths = sorted(p for p in root.iterdir() if p.suffix.lower() in IMG_EXTENSIONS)
    if max_images is not None:
        paths = paths[:max_images]
    to_tensor = transforms.Compose([
        transforms.Resize(image_size), transforms.CenterCrop(image_size), transforms.ToTensor(),
        transforms.Normalize([0.5] * channels, [0.5] * channels),  # [0, 1] -> [-1, 1]
    ])
    mode = {1: "L", 3: "RGB"}.get(channels)
    if mode is None:
        raise ValueError(f"channels must be 1 or 3, not {channels}")
    images, unreadable = [], []
    for path in paths:
        try:
            with Image.open(path) as image:
                images.append(to_tensor(image.convert(mode)))
        except (UnidentifiedImageError, OSError, ValueError):
            unreadable.append(path.name)
    if unreadable:
        shown = ", ".join(unreadable[:5]) + (" ..." if len(unreadable) > 5 else "")
        print(f"skipped {len(unreadable)} of {len(paths)} files in {root} that are not readable images: {shown}")
    if not images:
        raise ValueError(f"no readable image in {root} (looked for {', '.join(sorted(IMG_EXTENSIONS))}, "
                         f"directly or one folder down)")
    return torch.stack(images).to(device)


def make_demo_image_folder(root: str | os.PathLike, n: int = 512, size: int = 64, seed: int = 0) -> Path:
    """Write ``n`` small synthetic photos (a coloured disc or square on a two-tone background,
    ImageFolder layout ``root/shapes/*.png``) for trying the image-folder pipeline without
    a dataset at hand; returns ``root``. Lesson 03 and the tests use it."""
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    folder = Path(root) / "shapes"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        sky = tuple(rng.randrange(120, 256) for _ in range(3))
        ground = tuple(rng.randrange(0, 120) for _ in range(3))
        image = Image.new("RGB", (size, size), sky)
        draw = ImageDraw.Draw(image)
        draw.rectangle([0, size * rng.uniform(0.55, 0.8), size, size], fill=ground)
        r = size * rng.uniform(0.12, 0.25)
        cx, cy = size * rng.uniform(0.25, 0.75), size * rng.uniform(0.25, 0.6)
        colour = tuple(rng.randrange(0, 256) for _ in range(3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape([cx - r, cy - r, cx + r, cy + r], fill=colour)
        image.save(folder / f"shape_{i:04d}.png")
    return Path(root)
