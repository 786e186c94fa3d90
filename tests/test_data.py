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
