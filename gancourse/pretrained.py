"""Trained generators shipped with the package, so that a CPU learner can skip the wait.

    generator = pretrained.load("dcgan", device)      # float32, eval mode, SHA-256 checked

Each generator is made by one command, ``python -m gancourse pretrain NAME``, from its
:class:`Recipe` in :data:`RECIPES` (the models, the ``TrainConfig``, the steps; the seed is the
config's) through the one ``Trainer``. Its weights are stored in half precision in
``gancourse/weights/NAME.pt``; its manifest ``gancourse/weights/NAME.json`` (written by the same
command) records the file's SHA-256 and size, the recipe as trained, the training time and the
judge's figures at two sample sizes, which ``python -m gancourse evaluate --pretrained NAME``
reproduces (:func:`differences` says within what tolerance).
Files load with ``weights_only=True`` after their SHA-256 is checked (docs/design.md, Reliability).
A new lesson's generator is one more :class:`Recipe`, then the command.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch
from torch import nn

from gancourse import models
from gancourse.training import TrainConfig

__all__ = ["Recipe", "RECIPES", "names", "recipe", "manifest", "load", "load_into", "build", "save", "describe",
           "differences", "sample", "FIGURE_SAMPLES"]

FORMAT = "gancourse-pretrained-1"
#: The judge's figures are stored for these sample sizes (full, and small for fast tests), z seed 0.
FIGURE_SAMPLES = (10_000, 1000)


@dataclass(frozen=True)
class Recipe:
    """How one shipped generator is trained: ``generator`` and ``discriminator`` are (class in
    :mod:`gancourse.models`, keyword arguments); ``config`` holds the loss, optimiser and seed;
    ``steps`` generator updates; ``lesson``: the notebook that uses it; ``conditional``: trained
    with the labels, and judged on samples asked for the digits 0..9 in turn (:func:`sample`)."""

    name: str
    lesson: str
    generator: tuple[type[nn.Module], dict]
    discriminator: tuple[type[nn.Module], dict]
    config: TrainConfig
    steps: int
    #: a conditional GAN (lesson 06): trained with MNIST's labels, ``G(z, y)`` asked for 0..9 in turn
    conditional: bool = False


RECIPES: dict[str, Recipe] = {recipe.name: recipe for recipe in (
    # lesson 02, section 4: the same networks, settings and steps as the notebook's full mode
    Recipe("mlp-gan", "02_mlp_gan",
           (models.MLPGenerator, {"latent_dim": 64, "hidden": (256, 512), "batchnorm": True}),
           (models.MLPDiscriminator, {"hidden": (512, 256), "dropout": 0.3}),
           TrainConfig(loss="non-saturating", snapshot_every=0, log_every=50, seed=0), steps=12_000),
    # lesson 03, section 3: DCGAN as recommended (Adam 2e-4, β1 0.5, N(0, 0.02) initialisation)
    Recipe("dcgan", "03_dcgan",
           (models.DCGANGenerator, {"latent_dim": 100, "image_size": 28, "channels": 1, "width": 64}),
           (models.DCGANDiscriminator, {"image_size": 28, "channels": 1, "width": 64}),
           TrainConfig(loss="non-saturating", snapshot_every=0, log_every=50, seed=0), steps=2_000),
    # lesson 05, section 6: WGAN-GP with lesson 02's MLPs, the critic without dropout or BatchNorm
    Recipe("wgan-gp", "05_wgan",
           (models.MLPGenerator, {"latent_dim": 64}),
           (models.MLPDiscriminator, {}),
           TrainConfig.preset("wgan-gp", betas=(0.5, 0.9), snapshot_every=0, log_every=50, seed=0), steps=2_500),
    # lesson 06, section 3: the conditional MLPs, the projection discriminator without dropout
    Recipe("conditional-gan", "06_conditional_gan",
           (models.ConditionalMLPGenerator, {"latent_dim": 64, "embed_dim": 10}),
           (models.ConditionalMLPDiscriminator, {"conditioning": "projection", "dropout": 0.0}),
           TrainConfig(batch_size=128, snapshot_every=0, log_every=50, seed=0), steps=10_000, conditional=True),
    # lesson 08, section 5: the recipe for 15 minutes of 2-core CPU: lesson 02's generator, a discriminator
    # without dropout, two learning rates, the generator's EMA (the average is what ships)
    Recipe("modern-mlp", "08_modern_recipe",
           (models.MLPGenerator, {"latent_dim": 64, "hidden": (256, 512), "batchnorm": True}),
           (models.MLPDiscriminator, {"hidden": (512, 256), "dropout": 0.0}),
           TrainConfig(loss="non-saturating", lr_g=4e-4, lr_d=1e-4, ema_decay=0.995, snapshot_every=0, log_every=50,
                       seed=0), steps=60_000),
)}


def names() -> list[str]:
    """The names of the recipes, sorted."""
    return sorted(RECIPES)


def recipe(name: str) -> Recipe:
    """The :class:`Recipe` called ``name``; a ValueError listing the names otherwise."""
    if name not in RECIPES:
        raise ValueError(f"no pretrained generator is called {name!r}; choose one of {', '.join(names())}")
    return RECIPES[name]


def _folder(folder: str | Path | None) -> Path:
    return Path(folder) if folder is not None else Path(str(resources.files("gancourse") / "weights"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _jsonable(value):
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


def describe(name: str) -> dict:
    """The recipe of ``name`` as the manifest records it (tuples become lists)."""
    r = recipe(name)
    return _jsonable({"lesson": r.lesson, "steps": r.steps, "seed": r.config.seed,
                      "generator": {"class": r.generator[0].__name__, "kwargs": r.generator[1]},
                      "discriminator": {"class": r.discriminator[0].__name__, "kwargs": r.discriminator[1]},
                      "config": dataclasses.asdict(r.config)})


def manifest(name: str, folder: str | Path | None = None) -> dict | None:
    """The manifest of ``name`` (None when it has not been trained)."""
    path = _folder(folder) / f"{recipe(name).name}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def differences(report: dict, expected: dict) -> list[str]:
    """What differs between two judge reports (``metrics.judge_report``) beyond the tolerance of
    a different machine or thread count: each digit share and the confident share by more than
    2 samples in N, the Fréchet distance by more than 0.1 % (+ 1e-4), the KL by more than 1e-3;
    for a conditional generator also the requested-digit accuracy (overall, and per digit by more
    than 2 samples of that digit)."""
    n = expected["n"]
    if report["n"] != n:
        return [f"n {report['n']} vs {n}"]
    out = [f"digit {digit} share {a:.4f} vs {b:.4f}"
           for digit, (a, b) in enumerate(zip(report["histogram"], expected["histogram"])) if abs(a - b) > 2 / n + 1e-9]
    if abs(report["confident_share"] - expected["confident_share"]) > 2 / n + 1e-9:
        out.append(f"confident share {report['confident_share']:.4f} vs {expected['confident_share']:.4f}")
    fd, fd_expected = report["frechet_distance"], expected["frechet_distance"]
    if abs(fd - fd_expected) > 1e-3 * fd_expected + 1e-4:
        out.append(f"Fréchet distance {fd:.4f} vs {fd_expected:.4f}")
    if abs(report["kl_to_uniform"] - expected["kl_to_uniform"]) > 1e-3:
        out.append(f"KL to uniform {report['kl_to_uniform']:.4f} vs {expected['kl_to_uniform']:.4f}")
    if "requested" in expected:
        mine, theirs = report.get("requested", {}), expected["requested"]
        if "accuracy" not in mine:
            return out + ["requested-digit accuracy missing (judged without labels?)"]
        if abs(mine["accuracy"] - theirs["accuracy"]) > 2 / n + 1e-9:
            out.append(f"requested-digit accuracy {mine['accuracy']:.4f} vs {theirs['accuracy']:.4f}")
        out += [f"digit {digit} requested accuracy {a:.4f} vs {b:.4f}" for digit, (a, b, count) in enumerate(zip(
                    mine["accuracy_per_digit"], theirs["accuracy_per_digit"], theirs["n_per_digit"]))
                if abs(a - b) > 2 / count + 1e-9]
    return out


def sample(generator: nn.Module, n: int, seed: int = 0, conditional: bool = False,
           device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The samples the figures judge: (images (n, 1, 28, 28) in float32, the digits asked for).

    z ~ N(0, I) from ``torch.Generator`` seed ``seed`` on the CPU (the same z on any device); a
    ``conditional`` generator is asked for 0, 1, ..., 9 in turn (n / 10 times each), else the
    digits are None. ``generator`` is put in eval mode; ``device``: default its parameters'."""
    device = device if device is not None else next(generator.parameters()).device
    z = torch.randn(n, generator.latent_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    requested = torch.arange(n, device=device) % 10 if conditional else None
    generator.eval()
    with torch.no_grad():  # 1,000 at a time
        images = torch.cat([(generator(z[i:i + 1000], requested[i:i + 1000]) if conditional
                             else generator(z[i:i + 1000])).float() for i in range(0, n, 1000)])
    return images, requested


def build(name: str) -> tuple[nn.Module, nn.Module, TrainConfig]:
    """Fresh (generator, discriminator, config) of a recipe, initialised from the config's seed."""
    from gancourse.runtime import seed_everything

    r = recipe(name)
    seed_everything(r.config.seed)
    (make_g, g_kwargs), (make_d, d_kwargs) = r.generator, r.discriminator
    return make_g(**g_kwargs), make_d(**d_kwargs), dataclasses.replace(r.config)


def save(generator: nn.Module, path: str | Path, name: str) -> Path:
    """Write ``generator``'s weights in half precision (integer buffers as they are), atomically."""
    from gancourse.files import atomic_path

    state = {key: value.detach().cpu().half() if value.is_floating_point() else value.detach().cpu()
             for key, value in generator.state_dict().items()}
    broken = [key for key, value in state.items() if value.is_floating_point() and not bool(torch.isfinite(value).all())]
    if broken:
        raise ValueError(f"the weights {', '.join(broken[:3])} are not finite in half precision; not saved")
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, "name": name, "state_dict": state}, tmp)
    return Path(path)


def load(name: str, device: torch.device | str = "cpu", folder: str | Path | None = None) -> nn.Module:
    """The pretrained generator ``name`` in float32 and eval mode on ``device``.

    The file must match the SHA-256 the manifest records and is read with ``weights_only=True``.
    ``folder``: where the weights and the manifest are (default: the package's ``weights``).

    Raises:
        ValueError: for an unknown name (the message lists the names).
        FileNotFoundError: when the generator has not been trained (the message says how).
        RuntimeError: when the file's SHA-256 differs from the manifest's, or it does not fit.
    """
    r = recipe(name)
    entry = manifest(name, folder)
    path = _folder(folder) / f"{name}.pt"
    if entry is None or not path.exists():
        raise FileNotFoundError(f"the pretrained generator {name!r} is not in {path.parent}; train it with "
                                f"`python -m gancourse pretrain {name}` or reinstall gancourse")
    digest = _sha256(path)
    if digest != entry["sha256"]:
        raise RuntimeError(f"{path} has SHA-256 {digest}, expected {entry['sha256']}: the file is corrupt "
                           f"or was replaced. Reinstall gancourse or run `python -m gancourse pretrain {name}`")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    make, kwargs = r.generator
    generator = make(**kwargs)
    try:
        generator.load_state_dict({key: value.float() if value.is_floating_point() else value
                                   for key, value in saved["state_dict"].items()})
    except (RuntimeError, KeyError, TypeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RuntimeError(f"{path} does not fit the recipe's {make.__name__} ({first[:160]}): retrain it "
                           f"with `python -m gancourse pretrain {name}`") from None
    return generator.to(device).eval()


def load_into(generator: nn.Module, name: str, folder: str | Path | None = None) -> dict:
    """Replace ``generator``'s weights by the pretrained ``name``'s (same architecture, any device)
    and print one line saying what it now is; return the manifest. The notebooks' "skip the wait"."""
    shipped = load(name, folder=folder)
    try:
        generator.load_state_dict(shipped.state_dict())
    except RuntimeError:
        make, kwargs = recipe(name).generator
        raise ValueError(f"this generator is not the recipe's {make.__name__}(**{kwargs}): "
                         f"load {name!r} into a generator built that way") from None
    entry = manifest(name, folder)
    full = entry["figures"][0]
    asked = (f", requested digit drawn {full['requested']['accuracy']:.1%} of the time"
             if "requested" in full else "")
    print(f"generator replaced by the pretrained {name!r}: {entry['steps']:,} steps "
          f"(`{entry['command']}`); the judge's Fréchet distance {full['frechet_distance']:.1f}, "
          f"confident {full['confident_share']:.0%}{asked} at N = {full['n']:,} (its manifest)")
    return entry
