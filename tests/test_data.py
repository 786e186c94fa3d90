import pytest
import torch

from gancourse import data


def test_data_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path))
    assert data.data_dir() == tmp_path.resolve()
    monkeypatch.delenv("GANCOURSE_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.data_dir() == (tmp_path / "cache" / "gancourse").resolve()


def test_missing_files_error_names_directory_and_files(tmp_path):
    with pytest.raises(data.MNISTNotFoundError) as info:
        data.load_mnist(root=tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert all(name in message for name in data.MNIST_FILES) and "GANCOURSE_DATA" in message


def test_failed_download_becomes_a_clear_error(tmp_path, monkeypatch):
    from torchvision.datasets import MNIST

    def offline(self):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")
    monkeypatch.setattr(MNIST, "download", offline)
    with pytest.raises(data.MNISTNotFoundError, match="downloading it failed"):
        data.load_mnist(root=tmp_path / "offline", download=True)


def test_truncated_file_is_named(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"\x00" * 10)
    with pytest.raises(RuntimeError, match="t10k-labels-idx1-ubyte has 10 bytes"):
        data.load_mnist(train=False, root=tmp_path, download=False)


def test_scaling_round_trip():
    pixels = torch.arange(256, dtype=torch.uint8)
    scaled = data.scale_to_tanh_range(pixels)
    assert scaled.dtype == torch.float32 and scaled[0] == -1 and scaled[-1] == 1
    torch.testing.assert_close(data.to_unit_range(scaled), pixels.float() / 255)
    assert data.to_unit_range(torch.tensor([-3.0, 3.0])).tolist() == [0.0, 1.0]


def test_mnist_through_torchvision(mnist_root):
    """The real files (staged by .ci/run or `make test`), through the real torchvision path."""
    images, labels = data.load_mnist(train=False, root=mnist_root)
    assert images.shape == (10_000, 1, 28, 28) and images.dtype == torch.float32
    assert images.min() == -1 and images.max() == 1
    counts = torch.bincount(labels, minlength=10).tolist()
    assert counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]  # MNIST's published test-set label counts


def test_demo_image_folder_round_trip(tmp_path):
    root = data.make_demo_image_folder(tmp_path / "demo", n=6, size=40)
    images = data.load_image_folder(root, image_size=32)
    assert images.shape == (6, 3, 32, 32) and images.std() > 0.1


# --- MNIST files: every fault is one line naming the file, what is wrong and what to do -------------

def _write_fake_mnist(raw, gz=(), labels=0):
    """The four files in MNIST's format (headers right, pixels 0, labels ``labels``), small to
    make; the names in ``gz`` are written only as ``<name>.gz``."""
    import gzip

    raw.mkdir(parents=True, exist_ok=True)
    for name, (magic, shape) in data._MNIST_HEADERS.items():
        count = 1
        for n in shape:
            count *= n
        body = bytes([labels]) * count if "labels" in name else bytes(count)
        blob = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in shape) + body
        assert len(blob) == data.MNIST_FILES[name]
        if name in gz:
            (raw / f"{name}.gz").write_bytes(gzip.compress(blob, compresslevel=1))
        else:
            (raw / name).write_bytes(blob)
    return raw


@pytest.mark.parametrize("name, content, expected", [
    ("t10k-images-idx3-ubyte", "zeros", "t10k-images-idx3-ubyte: magic number 0, expected 2051"),
    ("t10k-labels-idx1-ubyte", "image magic", "t10k-labels-idx1-ubyte: magic number 2051, expected 2049"),
    ("t10k-images-idx3-ubyte", "bad count", r"header says 9999 x 28 x 28, expected 10000 x 28 x 28"),
    ("train-images-idx3-ubyte", "gzip", "is gzip-compressed though its name has no .gz"),
])
def test_damaged_mnist_file_is_named_with_reason(tmp_path, name, content, expected):
    import gzip

    raw = _write_fake_mnist(tmp_path / "MNIST" / "raw")
    path = raw / name
    good = path.read_bytes()
    bad = {"zeros": bytes(len(good)),
           "image magic": (2051).to_bytes(4, "big") + good[4:],
           "bad count": good[:4] + (9999).to_bytes(4, "big") + good[8:],
           "gzip": gzip.compress(good[:1000])}[content]
    path.write_bytes(bad)
    for download in (False, True):  # refused before torchvision reads or downloads anything
        with pytest.raises(RuntimeError, match=expected) as info:
            data.load_mnist(train=False, root=tmp_path, download=download)
        message = str(info.value)
        assert str(path) in message and "\n" not in message
        assert "delete it" in message or "rename it" in message


def test_labels_outside_0_to_9_are_refused(tmp_path):
    _write_fake_mnist(tmp_path / "MNIST" / "raw", labels=200)
    with pytest.raises(RuntimeError, match=r"t10k-labels-idx1-ubyte holds labels outside 0\.\.9"):
        data.load_mnist(train=False, root=tmp_path, download=False)


def test_torchvision_failure_without_a_message_still_has_a_reason(tmp_path, monkeypatch):
    from torchvision.datasets import MNIST

    def fail(self):
        raise AssertionError()  # what torchvision's reader raises on a bad header: no text
    monkeypatch.setattr(MNIST, "_load_data", fail)
    _write_fake_mnist(tmp_path / "MNIST" / "raw")
    with pytest.raises(RuntimeError, match=r"could not read MNIST from .*\(AssertionError\): .*download them again"):
        data.load_mnist(train=False, root=tmp_path, download=False)


def test_gz_only_files_are_decompressed(tmp_path, capsys):
    raw = _write_fake_mnist(tmp_path / "MNIST" / "raw", gz=tuple(data.MNIST_FILES))
    images, labels = data.load_mnist(train=False, root=tmp_path, download=False)
    assert images.shape == (10_000, 1, 28, 28) and bool((images == -1).all()) and bool((labels == 0).all())
    printed = capsys.readouterr().out
    assert printed.count("decompressed") == 4 and "t10k-images-idx3-ubyte.gz" in printed
    for name, size in data.MNIST_FILES.items():  # decompressed next to the .gz, which is kept
        assert (raw / name).stat().st_size == size and (raw / f"{name}.gz").exists()
    assert not [p for p in raw.iterdir() if p.name.startswith(".")]  # no temporary left behind


def test_gz_of_the_real_file_gives_the_real_data(tmp_path, mnist_root):
    import gzip
    import shutil

    real = mnist_root / "MNIST" / "raw"
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in data.MNIST_FILES:
        if name == "t10k-images-idx3-ubyte":
            with open(real / name, "rb") as source, gzip.open(raw / f"{name}.gz", "wb", compresslevel=1) as sink:
                shutil.copyfileobj(source, sink)
        else:
            (raw / name).symlink_to(real / name)
    images, _ = data.load_mnist(train=False, root=tmp_path, download=False)
    expected, _ = data.load_mnist(train=False, root=mnist_root)
    assert torch.equal(images, expected)


def test_damaged_gz_is_named_and_leaves_nothing_behind(tmp_path):
    raw = _write_fake_mnist(tmp_path / "MNIST" / "raw", gz=("train-images-idx3-ubyte",))
    packed = raw / "train-images-idx3-ubyte.gz"
    packed.write_bytes(packed.read_bytes()[:300])
    with pytest.raises(RuntimeError, match=r"found .*train-images-idx3-ubyte\.gz but not the uncompressed "
                                           r"train-images-idx3-ubyte.*gunzip -k") as info:
        data.load_mnist(train=False, root=tmp_path, download=False)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in raw.iterdir()) == sorted(["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte",
                                                            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])


@pytest.mark.parametrize("mistake", ["raw", "MNIST"])
def test_data_dir_pointing_inside_mnist_names_the_right_one(tmp_path, monkeypatch, mistake):
    _write_fake_mnist(tmp_path / "MNIST" / "raw")
    wrong = tmp_path / "MNIST" / "raw" if mistake == "raw" else tmp_path / "MNIST"
    monkeypatch.setenv("GANCOURSE_DATA", str(wrong))
    with pytest.raises(data.MNISTNotFoundError) as info:
        data.load_mnist(train=False, download=False)
    first_line = str(info.value).splitlines()[0]
    assert f"use root='{tmp_path.resolve()}'" in first_line and f"GANCOURSE_DATA={tmp_path.resolve()}" in first_line


def test_missing_some_files_names_them(tmp_path):
    raw = _write_fake_mnist(tmp_path / "MNIST" / "raw")
    (raw / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(data.MNISTNotFoundError, match=r"incomplete in .* \(missing train-labels-idx1-ubyte\)"):
        data.load_mnist(train=False, root=tmp_path, download=False)


@pytest.mark.parametrize("argument", ["train", "download"])
def test_load_mnist_flags_must_be_bools(tmp_path, argument):
    with pytest.raises(ValueError, match=f"{argument} must be True or False, not 'test'"):
        data.load_mnist(root=tmp_path, **{argument: "test"})


# --- Your own images: the layout is explicit, a bad file never aborts the load ----------------------

def _grey_png(path, level, size=(24, 20)):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, level).save(path)


def test_top_level_and_class_folders_are_loaded_hidden_ones_never(tmp_path, capsys):
    root = tmp_path / "photos"
    _grey_png(root / "a.png", 0)
    _grey_png(root / "b.png", 0)
    _grey_png(root / "cats" / "c.png", 255)
    _grey_png(root / "cats" / "kittens" / "d.png", 255)
    _grey_png(root / ".ipynb_checkpoints" / "a-checkpoint.png", 128)  # Jupyter's copies: never loaded
    _grey_png(root / "cats" / ".hidden" / "e.png", 128)
    _grey_png(root / "._a.png", 128)  # macOS resource-fork file
    (root / "notes.txt").write_text("where the photos came from")
    images = data.load_image_folder(root, image_size=8, channels=1)
    assert sorted(images.mean(dim=(1, 2, 3)).tolist()) == [-1, -1, 1, 1]
    printed = capsys.readouterr().out
    assert "ignored 1 files" in printed and "notes.txt" in printed and "checkpoint" not in printed
    assert data.load_image_folder(root, image_size=8, channels=1, max_images=2).mean() == -1  # top level first


def test_only_hidden_images_is_a_clear_error(tmp_path):
    _grey_png(tmp_path / ".ipynb_checkpoints" / "a-checkpoint.png", 0)
    with pytest.raises(ValueError, match=r"no readable image .*hidden ones, such as \.ipynb_checkpoints, are ignored"):
        data.load_image_folder(tmp_path)


@pytest.mark.parametrize("channels", [1, 3])
def test_16_bit_png_keeps_its_full_range(tmp_path, channels):
    import numpy as np
    from PIL import Image

    ramp = np.linspace(0, 65535, 32 * 32).round().astype(np.uint16).reshape(32, 32)
    Image.fromarray(ramp).save(tmp_path / "ramp16.png")
    assert Image.open(tmp_path / "ramp16.png").mode.startswith("I")  # really 16-bit on disk
    images = data.load_image_folder(tmp_path, image_size=32, channels=channels)
    expected = torch.from_numpy(ramp.astype(np.float32) / 65535 * 2 - 1).expand(channels, 32, 32)
    torch.testing.assert_close(images[0], expected, atol=1 / 127.5 + 1e-4, rtol=0)
    assert images.min() == -1 and images.max() == 1 and (images == 1).float().mean() < 0.01


def test_16_and_32_bit_modes_scale_by_bit_depth():
    import numpy as np
    from PIL import Image

    ramp = np.array([[0, 257, 32896, 65535]])
    for image in (Image.frombytes("I;16B", (4, 1), ramp.astype(">u2").tobytes()),
                  Image.frombytes("I;16", (4, 1), ramp.astype("<u2").tobytes()),
                  Image.fromarray(ramp.astype(np.int32))):  # mode "I"
        assert np.asarray(data._to_8bit(image)).tolist() == [[0, 1, 128, 255]], image.mode
    unit = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32))  # mode "F" in [0, 1]
    assert np.asarray(data._to_8bit(unit)).tolist() == [[0, 128, 255]]
    wide = Image.fromarray(np.array([[-10, 0, 1_000_000]], dtype=np.int32))  # beyond 16 bits: stretched
    assert np.asarray(data._to_8bit(wide)).tolist() == [[0, 0, 255]]


def test_oversized_image_is_skipped_not_fatal(tmp_path, monkeypatch, capsys):
    from PIL import Image

    _grey_png(tmp_path / "small.png", 0, size=(10, 10))
    _grey_png(tmp_path / "huge.png", 0, size=(100, 100))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow refuses over twice this
    images = data.load_image_folder(tmp_path, image_size=8)
    assert images.shape == (1, 3, 8, 8)
    printed = capsys.readouterr().out
    assert "skipped 1 of 2" in printed and "huge.png (too large" in printed and "MAX_IMAGE_PIXELS" in printed


def test_unreadable_files_are_skipped_with_their_reasons(tmp_path, capsys):
    _grey_png(tmp_path / "good.png", 0)
    (tmp_path / "fake.jpg").write_bytes(b"not an image")
    good = (tmp_path / "good.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(good[: len(good) // 2])
    images = data.load_image_folder(tmp_path, image_size=8)
    assert images.shape == (1, 3, 8, 8)
    printed = capsys.readouterr().out
    assert "skipped 2 of 3 image files" in printed and "fake.jpg (not an image Pillow can read)" in printed
    assert "cut.png (" in printed
    (tmp_path / "good.png").unlink()
    with pytest.raises(ValueError, match=r"no readable image .*all 2 image files were skipped .*fake\.jpg"):
        data.load_image_folder(tmp_path, image_size=8)


@pytest.mark.parametrize("arguments, expected", [
    ({"image_size": 0}, "image_size must be a whole number >= 1, not 0"),
    ({"image_size": -4}, "image_size must be"),
    ({"image_size": 1.5}, "image_size must be"),
    ({"image_size": "64"}, "image_size must be .* not '64'"),
    ({"image_size": True}, "image_size must be"),
    ({"image_size": None}, "image_size must be"),
    ({"channels": 2}, "channels must be 1 .* or 3 .* not 2"),
    ({"max_images": 0}, "max_images must be a whole number >= 1 or None"),
])
def test_bad_arguments_are_refused_before_any_file_is_read(tmp_path, monkeypatch, arguments, expected):
    from PIL import Image

    _grey_png(tmp_path / "a.png", 0)

    def no_reading(*args, **kwargs):
        raise AssertionError("a file was opened")
    monkeypatch.setattr(Image, "open", no_reading)
    with pytest.raises(ValueError, match=expected):
        data.load_image_folder(tmp_path, **arguments)


def test_root_that_is_a_file_is_named(tmp_path):
    _grey_png(tmp_path / "a.png", 0)
    with pytest.raises(NotADirectoryError, match="a.png is a file, not a folder"):
        data.load_image_folder(tmp_path / "a.png")


def test_labels_come_in_the_order_of_their_images(mnist_root):
    """Lesson 06 trains on (image, label) pairs: the i-th label belongs to the i-th image."""
    from gancourse import metrics

    images, labels = data.load_mnist(train=True, root=mnist_root)
    assert labels.shape == (60_000,) and labels.dtype == torch.int64
    _, probs = metrics.load_judge().embed(images[:2000])
    assert (probs.argmax(1) == labels[:2000]).double().mean() > 0.98
    assert (probs.argmax(1) == labels[:2000].roll(1)).double().mean() < 0.2  # one place off: chance


def test_subset_is_a_fixed_random_choice_with_labels_kept():
    images, labels = torch.arange(100.0).view(100, 1, 1, 1), torch.arange(100)
    chosen, chosen_labels = data.subset(images, 10, seed=3, labels=labels)
    assert chosen.shape == (10, 1, 1, 1) and torch.equal(chosen.flatten().long(), chosen_labels)
    assert torch.equal(chosen, data.subset(images, 10, seed=3)) and chosen_labels.unique().numel() == 10
    assert not torch.equal(chosen, data.subset(images, 10, seed=4))
    assert not torch.equal(chosen.flatten(), torch.arange(10.0))  # random, not the first ten
    with pytest.raises(ValueError, match="at most the 100 images"):
        data.subset(images, 101)
    with pytest.raises(ValueError, match="n must be a whole number >= 1"):
        data.subset(images, 0)
