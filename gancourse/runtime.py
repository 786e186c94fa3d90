"""Where the course runs: device choice, seeding, quick-mode budgets and the setup line.

Every notebook's setup cell calls :func:`setup`, which seeds everything, picks the device and
prints one line saying what was chosen. Training budgets come from :func:`budget`, so that the
same cells run in full mode (the default) and in quick mode (``GANCOURSE_QUICK=1``, used by the
tests and CI on 2 CPU cores).
"""
from __future__ import annotations

import os
import platform
import random
from typing import TypeVar

import numpy as np
import torch

T = TypeVar("T")

QUICK_ENV = "GANCOURSE_QUICK"


def pick_device(prefer: str | None = None) -> torch.device:
    """Return the best available device: CUDA, then Apple MPS, then CPU.

    Args:
        prefer: force a device (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``); ``None`` picks
            automatically. The environment variable ``GANCOURSE_DEVICE`` does the same.

    Raises:
        ValueError: when the requested device is not available here.
    """
    source = "device" if prefer else "GANCOURSE_DEVICE"
    prefer = prefer or os.environ.get("GANCOURSE_DEVICE") or None
    if prefer is not None:
        try:
            device = torch.device(prefer)
        except (RuntimeError, ValueError, TypeError):
            raise ValueError(f"{source} {prefer!r} is not a device name; use one of {available_devices()} "
                             f"or leave it unset") from None
        available = {
            "cpu": True,
            "cuda": torch.cuda.is_available(),
            "mps": _mps_available(),
        }.get(device.type, False)
        if not available:
            raise ValueError(f"device {prefer!r} is not available on this machine; "
                             f"use one of {available_devices()} or leave it unset")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def available_devices() -> list[str]:
    """Names of the devices this machine offers, best first."""
    names = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    if _mps_available():
        names.append("mps")
    return names + ["cpu"]


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (all devices); return a CPU generator with that seed.

    Same seed and same device give the same samples. Across devices (CPU vs GPU) results
    differ in the last bits, so the course compares them with tolerances, never exactly.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def env_flag(name: str) -> bool:
    """An on/off setting from the environment: 1/true/yes/on or 0/false/no/off (any case;
    unset or empty is off). Anything else is a ValueError naming the variable."""
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={os.environ[name]!r} is not understood: set it to 1 (or true, yes, on) "
                     f"or 0 (or false, no, off), or unset it")


def is_quick() -> bool:
    """Whether quick mode is on: ``GANCOURSE_QUICK`` set to 1/true/yes/on (see :func:`env_flag`)."""
    return env_flag(QUICK_ENV)


def budget(full: T, quick: T) -> T:
    """Return ``quick`` in quick mode and ``full`` otherwise.

    The one place where a notebook's training size depends on the mode, for example
    ``steps = budget(full=3000, quick=30)``. Quick mode exists so the whole course runs on 2
    CPU cores in CI; its results are not meant to look good, only to exercise every cell.
    """
    return quick if is_quick() else full


def environment_summary(device: torch.device | str | None = None) -> str:
    """One line naming the versions, the device and the mode, for the setup cell to print."""
    import torchvision

    from gancourse import __version__

    device = torch.device(device) if device is not None else pick_device()
    if device.type == "cuda":
        where = f"cuda ({torch.cuda.get_device_name(device)})"
    elif device.type == "cpu":
        where = f"cpu ({torch.get_num_threads()} threads)"
    else:
        where = device.type
    mode = f"quick mode ({QUICK_ENV}=1)" if is_quick() else "full mode"
    return (f"gancourse {__version__} | python {platform.python_version()} | torch {torch.__version__}"
            f" | torchvision {torchvision.__version__} | device {where} | {mode}")


def setup(seed: int = 0, device: str | None = None) -> torch.device:
    """Seed everything, pick the device and print the environment line; return the device.

    This is what every notebook's setup cell calls.
    """
    seed_everything(seed)
    chosen = pick_device(device)
    print(environment_summary(chosen) + f" | seed {seed}")
    return chosen
