import pytest

from gancourse import data


@pytest.fixture(scope="session")
def mnist_root():
    """The course data directory, when MNIST is there (CI stages it); else the test is skipped."""
    root = data.data_dir()
    raw = root / "MNIST" / "raw"
    if not all((raw / name).exists() for name in data.MNIST_FILES):
        pytest.skip(f"MNIST is not in {raw}; set GANCOURSE_DATA (.ci/run stages a copy there)")
    return root
