"""MNIST for the course: one data directory, the real torchvision path, pixels in [-1, 1].

The whole training set is small (60,000 x 28 x 28), so the course keeps it as one tensor on the
training device instead of streaming it through a ``DataLoader`` (docs/design.md, Speed).
"""
from __future__ import annotations

import functools
import numbers
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


#: What each file's header must say: (magic number, dimensions). The magic number is 0x0803 for
#: a 3-dimensional uint8 array (images), 0x0801 for a 1-dimensional one (labels).
_MNIST_HEADERS = {
    "train-images-idx3-ubyte": (2051, (60_000, 28, 28)),
    "train-labels-idx1-ubyte": (2049, (60_000,)),
    "t10k-images-idx3-ubyte": (2051, (10_000, 28, 28)),
    "t10k-labels-idx1-ubyte": (2049, (10_000,)),
}

_REDOWNLOAD = "delete it and download it again (load_mnist(download=True)), or copy a good one there"


def data_dir() -> Path:
    """The course's one data directory.

    ``$GANCOURSE_DATA`` when set, else ``$XDG_CACHE_HOME/gancourse`` (``~/.cache/gancourse``).
    MNIST lives in ``<data dir>/MNIST/raw/``, torchvision's layout.
    """
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser().resolve()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser().resolve() / "gancourse"


def _misplaced_hint(root: Path) -> str:
    """Where MNIST's files are when they are near ``root`` but not in ``root/MNIST/raw``."""
    def holds(folder: Path) -> bool:
        return any((folder / name).exists() or (folder / f"{name}.gz").exists() for name in MNIST_FILES)

    raw = root / "MNIST" / "raw"
    if root.name == "raw" and root.parent.name == "MNIST" and holds(root):
        better = root.parent.parent
    elif root.name == "MNIST" and holds(root / "raw"):
        better = root.parent
    else:
        for folder in (root, root / "MNIST", root / "raw"):
            if holds(folder):
                return f" MNIST's files are in {folder}: move them into {raw}."
        return ""
    return (f" The data directory is the folder that holds MNIST/raw/: use root={str(better)!r} "
            f"(or {DATA_ENV}={better}), not {root}.")


def _missing_message(root: Path, reason: str) -> str:
    raw = root / "MNIST" / "raw"
    missing = [name for name in MNIST_FILES if not (raw / name).exists()]
    where = (f"MNIST is not in {raw}" if len(missing) == len(MNIST_FILES)
             else f"MNIST is incomplete in {raw} (missing {', '.join(missing)})")
    files = "\n".join(f"  {raw / name}  ({size:,} bytes)" for name, size in MNIST_FILES.items())
    return (f"{where} and {reason}.{_misplaced_hint(root)}\n"
            f"Place these four uncompressed files there (torchvision's layout):\n{files}\n"
            f"or point {DATA_ENV} at a folder that holds MNIST/raw/ with them.")


def _decompress_gz(raw: Path) -> None:
    """Decompress ``<name>.gz`` where only the compressed file is there (as ``gunzip -k`` would).

    Written atomically (:func:`gancourse.files.atomic_path`): a damaged archive or a full disk
    leaves no half file behind. The ``.gz`` file is kept.
    """
    import gzip
    import zlib

    from .files import atomic_path

    for name, size in MNIST_FILES.items():
        target, packed = raw / name, raw / f"{name}.gz"
        if target.exists() or not packed.is_file():
            continue
        advice = (f"decompress it by hand (gunzip -k {packed}), or delete it and download MNIST again "
                  f"(load_mnist(download=True))")
        try:
            with atomic_path(target) as tmp:
                with gzip.open(packed, "rb") as source, open(tmp, "wb") as sink:
                    sink.write(source.read(size))
                    extra = len(source.read(1))  # stop one byte past MNIST's size: no disk filled
                got = tmp.stat().st_size
                if got != size or extra:
                    more = "more than " if extra else ""
                    raise RuntimeError(f"{packed} decompresses to {more}{got:,} bytes, expected {size:,}: it "
                                       f"is damaged or not MNIST's; delete it and download MNIST again (load_mnist(download=True))")
        except (OSError, EOFError, zlib.error) as error:
            raise RuntimeError(f"found {packed} but not the uncompressed {name}, and decompressing it "
                               f"failed ({type(error).__name__}: {error}); {advice}") from None
        print(f"decompressed {packed.name} to {target} (the .gz file is kept)")


def _check_file(path: Path) -> None:
    """Refuse a damaged MNIST file in one line: its name, what is wrong, what to do."""
    magic, shape = _MNIST_HEADERS[path.name]
    size = MNIST_FILES[path.name]
    with open(path, "rb") as handle:
        head = handle.read(4 * (1 + len(shape)))
    if head[:2] == b"\x1f\x8b":
        raise RuntimeError(f"{path} is gzip-compressed though its name has no .gz: rename it to "
                           f"{path.name}.gz (load_mnist then decompresses it) or decompress it with gunzip")
    actual = path.stat().st_size
    if actual != size:
        raise RuntimeError(f"{path} has {actual:,} bytes, expected {size:,}: it is truncated or not an "
                           f"uncompressed MNIST file; {_REDOWNLOAD}.")
    found = int.from_bytes(head[:4], "big")
    if found != magic:
        raise RuntimeError(f"{path}: magic number {found}, expected {magic}: the file is damaged or not "
                           f"MNIST's {path.name}; {_REDOWNLOAD}.")
    dims = tuple(int.from_bytes(head[4 * (i + 1):4 * (i + 2)], "big") for i in range(len(shape)))
    if dims != shape:
        raise RuntimeError(f"{path}: its header says {' x '.join(map(str, dims))}, expected "
                           f"{' x '.join(map(str, shape))}: the file is damaged; {_REDOWNLOAD}.")


@functools.lru_cache(maxsize=4)
def _mnist_uint8(root: str, train: bool, download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision.datasets import MNIST

    root_path = Path(root)
    if root_path.exists() and not root_path.is_dir():
        raise NotADirectoryError(f"the data directory {root_path} is a file, not a folder: point root "
                                 f"(or {DATA_ENV}) at the folder that holds MNIST/raw/")
    raw = root_path / "MNIST" / "raw"
    _decompress_gz(raw)
    for name in MNIST_FILES:
        if (raw / name).exists():
            _check_file(raw / name)
    have_all = all((raw / name).exists() for name in MNIST_FILES)
    if not have_all and not download:
        raise MNISTNotFoundError(_missing_message(root_path, "download=False"))
    try:
        dataset = MNIST(root=root, train=train, download=download)
    except Exception as error:  # offline: URLError, RuntimeError("Error downloading ...")
        reason = f"{type(error).__name__}: {error}".rstrip(": ")
        if have_all:
            raise RuntimeError(f"could not read MNIST from {raw} ({reason}): a file is damaged; delete the "
                               f"four files and download them again (load_mnist(download=True))") from error
        raise MNISTNotFoundError(_missing_message(root_path, f"downloading it failed ({reason})")) from None
    labels = dataset.targets
    if labels.numel() and not 0 <= int(labels.min()) <= int(labels.max()) <= 9:
        name = f"{'train' if train else 't10k'}-labels-idx1-ubyte"
        raise RuntimeError(f"{raw / name} holds labels outside 0..9 (from {int(labels.min())} to "
                           f"{int(labels.max())}): the file is damaged; {_REDOWNLOAD}.")
    return dataset.data, labels  # (N, 28, 28) uint8, (N,) int64


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

    Files that are there only compressed (``train-images-idx3-ubyte.gz``) are decompressed next to
    the ``.gz`` (which is kept). Every file is checked (size, header) before it is read.

    Raises:
        MNISTNotFoundError: the files are missing and could not be downloaded; the message names
            the directory and the four files to put there.
        RuntimeError: a file is damaged (truncated, zeroed, not MNIST); the message names it.
        ValueError: ``train`` or ``download`` is not a bool.
    """
    for name, value in (("train", train), ("download", download)):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False, not {value!r}")
    root_path = Path(root).expanduser().resolve() if root is not None else data_dir()
    pixels, labels = _mnist_uint8(str(root_path), train, download)
    images = scale_to_tanh_range(pixels).unsqueeze(1)  # (N, 1, 28, 28)
    return images.to(device), labels.to(device)


def subset(images: torch.Tensor, n: int, seed: int = 0, labels: torch.Tensor | None = None):
    """A fixed random subset of ``n`` of the images (and their labels, when given, by the same index):
    the same ``seed`` gives the same images on every machine (lesson 08 trains on 1 % of MNIST).
    Returns the images, or (images, labels)."""
    _whole_number("n", n)
    if n > images.shape[0]:
        raise ValueError(f"n must be at most the {images.shape[0]:,} images there are, not {n:,}")
    index = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(seed))[:n].sort().values
    chosen = images[index.to(images.device)]
    return chosen if labels is None else (chosen, labels[index.to(labels.device)])


def _whole_number(name: str, value, allow_none: bool = False) -> None:
    """Refuse, in one line naming the argument, anything but a whole number >= 1 (or ``None``)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        also = " or None" if allow_none else ""
        raise ValueError(f"{name} must be a whole number >= 1{also}, not {value!r}")


def _image_files(root: Path, extensions: tuple[str, ...]) -> tuple[list[Path], list[Path], list[str]]:
    """Every image file under ``root`` (top level and all non-hidden subfolders, sorted), the
    other non-hidden files, and the folders that could not be listed. Names starting with "."
    (``.ipynb_checkpoints/``, ``.DS_Store``, macOS's ``._photo.jpg``) are never looked at."""
    images, others, unlisted, seen = [], [], [], set()

    def on_error(error: OSError) -> None:
        unlisted.append(f"{error.filename} ({error.strerror or error})")

    for folder, subfolders, files in os.walk(root, onerror=on_error, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:  # a symbolic link back up the tree
            subfolders[:] = []
            continue
        seen.add(real)
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in files:
            if not name.startswith("."):
                path = Path(folder) / name
                (images if path.suffix.lower() in extensions else others).append(path)
    key = lambda path: path.relative_to(root).parts  # noqa: E731
    return sorted(images, key=key), sorted(others, key=key), unlisted


def _to_8bit(image):
    """16-bit and 32-bit greyscale ("I;16", "I;16B", "I", "F") as 8-bit "L", scaled by the bit
    depth: Pillow's own ``convert`` clips at 255, which turns a 16-bit photo almost all white.

    "I;16*" is 16-bit (divided by 257, so 65535 -> 255). "I" (how older Pillow opens 16-bit PNG
    and PGM) is taken as 16-bit when its values lie in 0..65535, "F" as unit-range when in [0, 1];
    anything else is stretched from its own minimum to its maximum."""
    import numpy as np
    from PIL import Image

    if not (image.mode.startswith("I;16") or image.mode in ("I", "F")):
        return image
    values = np.nan_to_num(np.asarray(image).astype(np.float64))
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if image.mode.startswith("I;16") or (image.mode == "I" and low >= 0 and high <= 65535):
        low, top = 0.0, 65535.0
    elif image.mode == "F" and low >= 0 and high <= 1:
        low, top = 0.0, 1.0
    else:
        top = max(high - low, 1e-12)
    scaled = np.clip(np.rint((values - low) * (255.0 / top)), 0, 255).astype(np.uint8)
    return Image.fromarray(scaled)  # uint8, two dimensions: mode "L"


def _unreadable_reason(error: Exception) -> str:
    from PIL import Image, UnidentifiedImageError

    if isinstance(error, Image.DecompressionBombError):
        return (f"too large for Pillow's safety limit ({str(error).split(',')[0]}); if you trust it, raise "
                f"PIL.Image.MAX_IMAGE_PIXELS or shrink the image")
    if isinstance(error, UnidentifiedImageError):
        return "not an image Pillow can read"
    text = str(error) or type(error).__name__
    return text if len(text) <= 100 else text[:97] + "..."


def _list_some(items: list[str], limit: int = 5) -> str:
    return "; ".join(items[:limit]) + (f"; ... ({len(items) - limit} more)" if len(items) > limit else "")


def load_image_folder(
    root: str | os.PathLike,
    image_size: int = 64,
    channels: int = 3,
    device: torch.device | str = "cpu",
    max_images: int | None = None,
) -> torch.Tensor:
    """Your own images as one tensor (N, channels, image_size, image_size) in [-1, 1].

    Which files are read: every image file (by extension: .jpg, .jpeg, .png, .bmp, .ppm, .pgm,
    .tif, .tiff, .webp) directly in ``root`` and in all its subfolders, at any depth, in sorted
    order. So a flat folder of photos, torchvision's ``ImageFolder`` layout (``root/<class>/<image>``,
    e.g. an ImageNet subset) and a mix of both all work; the class folders are not labels here.
    Hidden files and folders (names starting with ".", such as Jupyter's ``.ipynb_checkpoints/``)
    are always ignored. ``max_images`` keeps the first ones in that order.

    Each image is turned upright by its EXIF orientation, converted to greyscale (``channels=1``)
    or RGB (16-bit images scaled by their bit depth, not clipped), resized so its shorter side is
    ``image_size`` and centre-cropped to a square. A file that cannot be read (damaged, not really
    an image, too large for Pillow's decompression-bomb limit) is skipped, never the whole load:
    one printed line says how many were skipped and why, naming the first few. Another printed
    line names files ignored for not having an image extension. Lesson 03 trains a DCGAN on the result.

    Raises:
        ValueError: a bad argument (``image_size`` or ``max_images`` not a whole number >= 1,
            ``channels`` not 1 or 3), before any file is read; or no readable image in ``root``.
        FileNotFoundError: ``root`` does not exist (``NotADirectoryError``: it is a file).
    """
    _whole_number("image_size", image_size)
    _whole_number("max_images", max_images, allow_none=True)
    mode = {1: "L", 3: "RGB"}.get(channels) if not isinstance(channels, bool) else None
    if mode is None:
        raise ValueError(f"channels must be 1 (greyscale) or 3 (RGB), not {channels!r}")
    image_size = int(image_size)

    from PIL import Image, ImageOps
    from torchvision import transforms
    from torchvision.datasets.folder import IMG_EXTENSIONS

    root = Path(root).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"no such folder: {root}")
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is a file, not a folder: pass the folder that holds the images")
    paths, others, unlisted = _image_files(root, IMG_EXTENSIONS)
    if max_images is not None:
        paths = paths[:max_images]
    to_tensor = transforms.Compose([
        transforms.Resize(image_size), transforms.CenterCrop(image_size), transforms.ToTensor(),
        transforms.Normalize([0.5] * channels, [0.5] * channels),  # [0, 1] -> [-1, 1]
    ])
    images, skipped = [], []
    for path in paths:
        try:
            with Image.open(path) as image:
                try:
                    upright = ImageOps.exif_transpose(image)
                except Exception:  # noqa: BLE001 - damaged EXIF: the pixels are still good
                    upright = image
                images.append(to_tensor(_to_8bit(upright).convert(mode)))
        except Exception as error:  # noqa: BLE001 - any file that cannot be read is skipped, with its reason
            skipped.append(f"{path.relative_to(root)} ({_unreadable_reason(error)})")
    if skipped:
        print(f"skipped {len(skipped)} of {len(paths)} image files in {root} that could not be read: "
              f"{_list_some(skipped)}")
    if others:
        print(f"ignored {len(others)} files in {root} without an image extension: "
              f"{_list_some([str(p.relative_to(root)) for p in others])}")
    if unlisted:
        print(f"could not list {len(unlisted)} folders under {root}: {_list_some(unlisted)}")
    if not images:
        if paths:
            raise ValueError(f"no readable image in {root}: all {len(paths)} image files were skipped "
                             f"({_list_some(skipped, 3)})")
        raise ValueError(f"no readable image in {root}: no file ending in {', '.join(sorted(IMG_EXTENSIONS))} "
                         f"there or in its subfolders (hidden ones, such as .ipynb_checkpoints, are ignored)")
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
