"""The course's one training loop: every lesson, every loss family, checkpoints and resume.

    trainer = Trainer(generator, discriminator, images, TrainConfig(loss="non-saturating"), device)
    history = trainer.train(steps=2000)      # progress bar; Ctrl-C stops cleanly after a step
    history.plot(); trainer.save("run.pt")   # ... later: Trainer.load("run.pt", G, D, images)

Speed (docs/design.md, Speed): on the CPU, subnormal floats are flushed to zero (process-wide);
the data is one tensor on the device and batches are drawn by index;
per-step losses stay on the device and are copied to the host once every ``log_every`` steps,
which is also when NaN/Inf is detected (and the exact step is found); convolution models use
``channels_last``; for image data the forward passes run under bfloat16 autocast on CUDA and on
CPUs with native bfloat16 (AMX or AVX-512 BF16: 2x for DCGAN on such a 2-core Xeon). Toy data
stays in float32: bfloat16's resolution near 1 (0.008) is coarser than the 2-D ring's σ = 0.01.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import nn

from gancourse import augment, health, losses

@dataclass(frozen=True)
class LossFamily:
    """One loss family, read in one place by the Trainer, the toy experiments and the viewers.

    ``discriminator_loss(scores_real, scores_fake)`` and ``generator_loss(scores_fake)`` come from
    :mod:`gancourse.losses`; ``penalty(discriminator, x_real, x_fake, config, rng)`` is added to the
    discriminator's loss; ``after_discriminator_step(discriminator, config)`` runs after each of its
    optimizer steps. ``critic``: the scores are raw critic values (Wasserstein), not logits, so the
    history logs their means instead of mean probabilities. ``preset``: the published settings
    (:meth:`TrainConfig.preset`), from ``source``.
    """

    name: str
    discriminator_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    generator_loss: Callable[[torch.Tensor], torch.Tensor]
    critic: bool = False
    penalty: Callable | None = None
    after_discriminator_step: Callable[[nn.Module, "TrainConfig"], None] | None = None
    preset: dict = field(default_factory=dict)
    source: str = ""


def _gradient_penalty(discriminator, x_real, x_fake, config, rng) -> torch.Tensor:
    return config.gp_weight * losses.gradient_penalty(discriminator, x_real, x_fake, generator=rng)


def _one_sided_penalty(discriminator, x_real, x_fake, config, rng) -> torch.Tensor:
    return config.gp_weight * losses.gradient_penalty(discriminator, x_real, x_fake, generator=rng, one_sided=True)


def _r1(discriminator, x_real, x_fake, config, rng) -> torch.Tensor:
    return losses.r1_penalty(discriminator, x_real, config.r1_gamma)


def _clip(discriminator, config) -> None:
    losses.clip_weights_(discriminator, config.clip_value)


LOSS_FAMILIES: dict[str, LossFamily] = {family.name: family for family in (
    LossFamily("minimax", losses.discriminator_loss,
               lambda scores_fake: losses.generator_loss(scores_fake, saturating=True),
               source="Goodfellow et al. 2014, eq. 1; Adam settings of Radford et al. 2016"),
    LossFamily("non-saturating", losses.discriminator_loss, losses.generator_loss,
               source="Goodfellow et al. 2014, section 3; Adam 2e-4, β (0.5, 0.999) of Radford et al. 2016"),
    LossFamily("wgan-clip", losses.critic_loss, losses.wgan_generator_loss, critic=True,
               after_discriminator_step=_clip,
               preset=dict(optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, n_critic=5, clip_value=0.01),
               source="Arjovsky et al. 2017, Algorithm 1"),
    LossFamily("wgan-gp", losses.critic_loss, losses.wgan_generator_loss, critic=True,
               penalty=_gradient_penalty,
               preset=dict(lr_g=1e-4, lr_d=1e-4, betas=(0.0, 0.9), n_critic=5, gp_weight=10.0),
               source="Gulrajani et al. 2017, Algorithm 1"),
    LossFamily("wgan-lp", losses.critic_loss, losses.wgan_generator_loss, critic=True,
               penalty=_one_sided_penalty,
               preset=dict(lr_g=1e-4, lr_d=1e-4, betas=(0.0, 0.9), n_critic=5, gp_weight=10.0),
               source="Petzka et al. 2018 (one-sided penalty), with WGAN-GP's Algorithm 1 settings"),
    LossFamily("hinge", losses.hinge_discriminator_loss, losses.hinge_generator_loss,
               preset=dict(betas=(0.0, 0.9)), source="Miyato et al. 2018, eq. 16"),
)}
LOSSES = tuple(LOSS_FAMILIES)


@torch.no_grad()
def ema_update_(ema_model: nn.Module, model: nn.Module, decay: float) -> None:
    """One step of an exponential moving average of ``model``'s weights, in place in ``ema_model``:
    ``p_ema = decay * p_ema + (1 - decay) * p`` for every parameter (decay 0.999: the last ~1,000
    steps count). Buffers (BatchNorm's running statistics, its step counter) are copied, not
    averaged, as StyleGAN2-ADA does: they describe the activations of the current weights, and a
    counter is no weight. (BigGAN instead recomputes "standing statistics" for its EMA generator.)

    The averaged generator samples better than the last iterate, which circles around the
    equilibrium (Yazıcı et al. 2019; used by ProGAN, BigGAN and StyleGAN). Lesson 08.
    """
    for p_ema, p in zip(ema_model.parameters(), model.parameters(), strict=True):
        p_ema.lerp_(p.detach(), 1 - decay)
    for b_ema, b in zip(ema_model.buffers(), model.buffers(), strict=True):
        b_ema.copy_(b)


def loss_family(name: str) -> LossFamily:
    """The :class:`LossFamily` called ``name``; a ValueError listing the families otherwise."""
    if name not in LOSS_FAMILIES:
        raise ValueError(f"unknown loss {name!r}; choose one of {LOSSES}")
    return LOSS_FAMILIES[name]


@dataclass
class TrainConfig:
    """Everything that decides how a GAN trains. Defaults are DCGAN's (Radford et al. 2016)."""

    loss: str = "non-saturating"  # one of LOSSES
    batch_size: int = 128
    n_critic: int = 1  # discriminator/critic updates per generator update (WGAN: 5)
    optimizer: str = "adam"  # "adam", "rmsprop" (WGAN with clipping) or "sgd" (lesson 01)
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # Adam only
    momentum: float = 0.0  # SGD only
    clip_value: float = 0.01  # "wgan-clip": critic weights clamped to [-c, c]
    gp_weight: float = 10.0  # "wgan-gp" and "wgan-lp": λ
    grad_clip_norm: float | None = None  # clip each network's update to this global norm
    latent_dim: int | None = None  # None: read from generator.latent_dim
    log_every: int = 20  # steps between host syncs: history rows, progress bar, NaN check
    snapshot_every: int = 200  # steps between fixed-noise sample snapshots (0: none)
    n_snapshot: int = 64  # samples per snapshot (an 8 x 8 grid)
    seed: int = 0
    amp: bool | None = None  # bfloat16 autocast; None: for image data where bf16 is fast (see Trainer)
    channels_last: bool | None = None  # None: on for image (4-D) data
    ema_decay: float = 0.0  # > 0: keep an exponential moving average of G (e.g. 0.999) for sampling
    ema_warmup: bool = True  # decay min(ema_decay, (1 + t) / (10 + t)) at step t: early averages forget the init
    r1_gamma: float = 0.0  # > 0: add the R1 penalty γ/2 E||∇D(x_real)||² to the discriminator's loss
    r1_every: int = 1  # lazy regularisation: R1 every k discriminator steps, scaled by k (StyleGAN2: 16)
    augment: str = ""  # DiffAugment policy for both batches before every D call, e.g. "translation,cutout"
    augment_fakes: bool = True  # False: augment only the real images, the classic mistake lesson 08 measures

    def __post_init__(self):
        loss_family(self.loss)  # a ValueError naming the families when unknown
        if self.optimizer not in ("adam", "rmsprop", "sgd"):
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose 'adam', 'rmsprop' or 'sgd'")
        for name, least in (("batch_size", 1), ("n_critic", 1), ("log_every", 1), ("n_snapshot", 1),
                            ("snapshot_every", 0), ("seed", None), ("latent_dim", 1), ("r1_every", 1)):
            value = getattr(self, name)
            if name == "latent_dim" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number, not {value!r}")
            if least is not None and value < least:
                raise ValueError(f"{name} must be at least {least}, not {value}")
            if abs(value) >= 2**63:
                raise ValueError(f"{name} must be below 2**63, not {value}")
        for name in ("lr_g", "lr_d", "momentum", "clip_value", "gp_weight", "grad_clip_norm", "r1_gamma", "ema_decay"):
            value = getattr(self, name)
            if name == "grad_clip_norm" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, not {value!r}")
        try:
            self.betas = tuple(float(b) for b in self.betas)
        except (TypeError, ValueError):
            self.betas = ()
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), like (0.5, 0.999), not {self.betas!r}")
        for name in ("ema_warmup", "augment_fakes"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, not {getattr(self, name)!r}")
        for name in ("amp", "channels_last"):
            if getattr(self, name) not in (None, True, False):
                raise ValueError(f"{name} must be True, False or None (automatic), not {getattr(self, name)!r}")
        if not self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1) (0: no EMA; 0.999 is usual), not {self.ema_decay!r}")
        self.augment = ",".join(augment.parse_policy(self.augment))  # a ValueError naming the policies

    @classmethod
    def preset(cls, loss: str, **overrides) -> "TrainConfig":
        """The published settings of a loss family (``LOSS_FAMILIES[loss].preset`` on top of the
        defaults, which are DCGAN's Adam 2e-4, β (0.5, 0.999)), with ``overrides`` on top."""
        return cls(loss=loss, **{**loss_family(loss).preset, **overrides})


def fast_bfloat16(device: torch.device) -> bool:
    """Whether bfloat16 autocast speeds training up on ``device``: CUDA with bf16 support, or a
    CPU with AMX or AVX-512 BF16 instructions (elsewhere bf16 on the CPU is emulated, slower)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:
            return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
        except AttributeError:  # older PyTorch without these probes
            return False
    return False


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or Inf; the message names the step and the loss."""


@dataclass
class History:
    """What happened during training: a row every ``log_every`` steps, and sample snapshots.

    Each row holds the step, the mean losses and mean discriminator outputs over the steps since
    the previous row (``d_real``/``d_fake``: mean sigmoid(D) for GAN losses, mean critic score for
    WGAN losses), both networks' gradient norms at that step, and the seconds spent training.
    """

    rows: list[dict] = field(default_factory=list)
    # (step, samples from the fixed noise): images as uint8 (N, C, H, W), other data as float (N, ...)
    snapshots: list[tuple[int, torch.Tensor]] = field(default_factory=list)
    # training-health warnings as they started: {"step", "kind", "message"} (gancourse.health)
    warnings: list[dict] = field(default_factory=list)

    COLUMNS = ("step", "loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g", "seconds")

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[float]:
        """One column as a list, e.g. ``history.column("loss_d")``."""
        return [row[name] for row in self.rows]

    def table(self, last: int | None = 10) -> str:
        """The last ``last`` rows (all when ``None``) as a fixed-width text table."""
        rows = self.rows if last is None else self.rows[-last:]
        header = " ".join(f"{name:>11}" for name in self.COLUMNS)
        lines = [header] + [" ".join(_fmt(row[name]) for name in self.COLUMNS) for row in rows]
        return "\n".join(lines)

    def plot(self, smooth: int = 1):
        """Losses, D outputs and gradient norms against steps, one figure with three panels."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
        steps = self.column("step")
        panels = [("losses", ("loss_d", "loss_g"), "loss"),
                  ("discriminator outputs", ("d_real", "d_fake"), "mean D(x) / D(G(z))"),
                  ("gradient norms", ("grad_norm_d", "grad_norm_g"), "global L2 norm")]
        for ax, (title, names, ylabel) in zip(axes, panels):
            for name in names:
                ax.plot(steps, _moving_average(self.column(name), smooth), label=name)
            ax.set(title=title, xlabel="generator step", ylabel=ylabel)
            ax.legend()
        axes[2].set_yscale("log")
        fig.tight_layout()
        return fig

    def state_dict(self) -> dict:
        return {"rows": [dict(row) for row in self.rows],
                "snapshot_steps": [step for step, _ in self.snapshots],
                "snapshot_images": [images for _, images in self.snapshots],
                "warnings": [dict(warning) for warning in self.warnings]}

    @classmethod
    def from_state_dict(cls, state: dict) -> "History":
        return cls(rows=[dict(row) for row in state["rows"]],
                   snapshots=list(zip(state["snapshot_steps"], state["snapshot_images"])),
                   warnings=[dict(warning) for warning in state.get("warnings", [])])


def _fmt(value) -> str:
    if isinstance(value, int):
        return f"{value:>11d}"
    return f"{value:>11.4g}"


def _moving_average(values: list[float], window: int) -> list[float]:
    if window <= 1:
        return values
    out, total = [], 0.0
    for i, value in enumerate(values):
        total += value
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float images -> uint8 on the CPU (what snapshots store: 4x smaller)."""
    return images.detach().float().add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8).cpu()


class _StopFlag:
    """Turns the first Ctrl-C (SIGINT, also Jupyter's "interrupt kernel") or SIGTERM (what `kill`
    and job schedulers send) into a request to stop after the current step, so that no update is
    left half-applied; a second one interrupts at once (KeyboardInterrupt)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested = False
        self.signal: int | None = None  # the signal that asked to stop
        self._previous: dict = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for number in self.SIGNALS:
                previous = signal.getsignal(number)
                self._previous[number] = signal.SIG_DFL if previous is None else previous
                signal.signal(number, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested, self.signal = True, signum

    def __exit__(self, *exc):
        for number, previous in self._previous.items():
            signal.signal(number, previous)
        return False


class Trainer:
    """Trains a generator against a discriminator (or critic) on a tensor of data.

    Args:
        generator: maps z (B, latent_dim) to samples shaped like ``data[i]``.
        discriminator: maps samples to scores (B,) or (B, 1).
        data: the whole training set, (N, ...), in the generator's output range. It is moved to
            ``device`` once; batches are drawn from it by index, with replacement.
        config: a :class:`TrainConfig`.
        device: where to train; from ``gancourse.runtime.pick_device()`` when ``None``.
        on_snapshot: a callable, or a list of them, each called with the trainer after every
            snapshot, e.g. a ``gancourse.viz.ToyRecorder`` that records the discriminator's field
            for a viewer and a ``gancourse.metrics.JudgeCurve`` that scores samples. Their time is
            not training time.
        discriminator_loss, generator_loss: replace the configured family's losses with your
            own: ``f(scores_real, scores_fake)`` and ``f(scores_fake)`` (an exercise's answer, or
            a deliberately wrong loss to see what it does). They are not saved in checkpoints.
        labels: class indices (N,) of ``data``, for a conditional GAN (lesson 06): a batch draws
            images and their labels by one index, the generator is called as ``G(z, y)`` and the
            discriminator as ``D(x, y)``, and the fakes are asked for the real batch's labels.

    ``train`` can be called repeatedly and continues where it stopped; ``save`` and ``load``
    make a checkpoint that continues exactly as an uninterrupted run would (same device).
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, data: torch.Tensor,
                 config: TrainConfig | None = None, device: torch.device | str | None = None,
                 on_snapshot: Callable[["Trainer"], None] | Iterable[Callable[["Trainer"], None]] | None = None,
                 discriminator_loss: Callable | None = None, generator_loss: Callable | None = None,
                 labels: torch.Tensor | None = None):
        from gancourse.runtime import pick_device

        self.config = config or TrainConfig()
        self.device = torch.device(device) if device is not None else pick_device()
        if self.device.type == "cpu":
            # Subnormal floats (below 1.2e-38) are up to ~10x slower on x86 CPUs, and a GAN's first
            # thousand steps make many (Adam's second moments of tiny gradients): flushing them to
            # zero took lesson 02's MLP GAN from 7-29 to 76-89 steps/s in its first 15 s (2-core
            # EPYC). Process-wide, like torch.set_num_threads; negligible for the results.
            torch.set_flush_denormal(True)
        cfg = self.config
        self.latent_dim = cfg.latent_dim or getattr(generator, "latent_dim", None)
        if self.latent_dim is None:
            raise ValueError("set TrainConfig.latent_dim: the generator has no latent_dim attribute")
        if data.shape[0] < 1:
            raise ValueError("the training data is empty")
        self.channels_last = cfg.channels_last if cfg.channels_last is not None else data.dim() == 4
        self.amp = cfg.amp if cfg.amp is not None else (data.dim() == 4 and fast_bfloat16(self.device))
        memory = torch.channels_last if self.channels_last else torch.contiguous_format
        self.generator = generator.to(self.device, memory_format=memory)
        self.discriminator = discriminator.to(self.device, memory_format=memory)
        self.data = data.to(self.device, memory_format=memory) if data.dim() == 4 else data.to(self.device)
        self.opt_g, self.opt_d = self._optimizers()
        self.rng = torch.Generator(device=self.device).manual_seed(cfg.seed)
        self.fixed_z = torch.randn(cfg.n_snapshot, self.latent_dim, device=self.device, generator=self.rng)
        self.labels, self.num_classes = self._check_labels(labels, generator, data)
        if self.labels is not None:  # the snapshot grid asks for 0, 1, ..., 9, 0, 1, ...
            self.fixed_labels = torch.arange(cfg.n_snapshot, device=self.device) % self.num_classes
        self.on_snapshot: list[Callable[["Trainer"], None]] = (
            [] if on_snapshot is None else [on_snapshot] if callable(on_snapshot) else list(on_snapshot))
        self.family = loss_family(cfg.loss)
        # (penalty, every): each added to D's loss every `every` D steps, times `every` (lazy regularisation)
        self.penalties = [] if self.family.penalty is None else [(self.family.penalty, 1)]
        if cfg.r1_gamma > 0:
            self.penalties.append((_r1, cfg.r1_every))
        if cfg.augment and data.dim() != 4:
            raise ValueError(f"augment={cfg.augment!r} needs image data (N, C, H, W), not shape {tuple(data.shape)}")
        # the averaged generator that samples when ema_decay > 0 (ema_update_ after every G step)
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False).eval() if cfg.ema_decay else None
        self.on_log: list[Callable[["Trainer"], None]] = []  # called after each history row, e.g. board.TensorBoard
        self.health = health.Monitor(critic=self.family.critic)
        self.custom_loss_d, self.custom_loss_g = discriminator_loss, generator_loss
        self.step = 0  # generator updates done
        self.seconds = 0.0
        self.history = History()
        self._clock: float | None = None  # perf_counter at the last clock reading, while train() runs
        self.stopped_by: int | None = None  # the signal that stopped the last train() call early, if any

    def _check_labels(self, labels, generator, data) -> tuple[torch.Tensor | None, int | None]:
        """Labels on the device and the class count, or (None, None) for an unconditional GAN."""
        num_classes = getattr(generator, "num_classes", None)
        if labels is None:
            if num_classes is not None:
                raise ValueError("this generator is conditional (it has num_classes): pass the images' "
                                 "labels, Trainer(..., labels=labels)")
            return None, None
        if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or labels.shape[0] != data.shape[0] \
                or labels.dtype.is_floating_point or labels.dtype == torch.bool:
            raise ValueError(f"labels must be one class index per image: an integer tensor of shape "
                             f"({data.shape[0]},), not {getattr(labels, 'shape', type(labels).__name__)}")
        num_classes = num_classes or int(labels.max()) + 1
        if int(labels.min()) < 0 or int(labels.max()) >= num_classes:
            raise ValueError(f"labels must lie in 0..{num_classes - 1} (the generator's num_classes), "
                             f"found {int(labels.min())}..{int(labels.max())}")
        return labels.to(self.device, torch.long), num_classes

    def _optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        cfg = self.config
        fused = {"fused": True} if self.device.type == "cuda" else {}
        if cfg.optimizer == "adam":
            make = lambda params, lr: torch.optim.Adam(params, lr=lr, betas=cfg.betas, **fused)
        elif cfg.optimizer == "rmsprop":
            make = lambda params, lr: torch.optim.RMSprop(params, lr=lr)
        else:
            make = lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=cfg.momentum)
        return make(self.generator.parameters(), cfg.lr_g), make(self.discriminator.parameters(), cfg.lr_d)

    # --- one step -------------------------------------------------------------------------

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp)

    def _sample_z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, device=self.device, generator=self.rng)

    def _batch_index(self) -> torch.Tensor:
        return torch.randint(self.data.shape[0], (self.config.batch_size,), device=self.device, generator=self.rng)

    def _real_batch(self) -> torch.Tensor:
        return self.data[self._batch_index()]

    def _labelled_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Real images and their labels, drawn by one index: a label never leaves its image."""
        index = self._batch_index()
        return self.data[index], self.labels[index]

    def _discriminator(self, y: torch.Tensor | None, fake: bool = False):
        """The discriminator as the method sees it, the one way the Trainer calls it: ``x -> D(x)``,
        ``D(x, y)`` for a conditional GAN, and with ``config.augment`` ``D(diff_augment(x))``, so that
        real and generated batches, in D's update, its penalties and G's update, are augmented alike
        (``fake``: the call is for generated images, left alone when ``config.augment_fakes`` is False)."""
        D, policy = self.discriminator, self.config.augment
        if fake and not self.config.augment_fakes:
            policy = ""
        if not policy:
            return D if y is None else (lambda x: D(x, y))
        return lambda x: D(augment.diff_augment(x, policy, self.rng), *(() if y is None else (y,)))

    def loss_g(self, scores_fake) -> torch.Tensor:
        """The generator's loss on the discriminator's scores for generated samples."""
        if self.custom_loss_g is not None:
            return self.custom_loss_g(scores_fake)
        return self.family.generator_loss(scores_fake)

    def _clip_or_norm(self, module: nn.Module, want_norm: bool) -> torch.Tensor | None:
        """Clip the update's global norm when configured; return the norm when asked (no sync)."""
        if self.config.grad_clip_norm is not None:
            return nn.utils.clip_grad_norm_(module.parameters(), self.config.grad_clip_norm)
        if want_norm:
            grads = [p.grad for p in module.parameters() if p.grad is not None]
            return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        return None

    def step_with(self, x_real: torch.Tensor, z: torch.Tensor, labels: torch.Tensor | None = None) -> dict:
        """One training step on a given real batch and noise (``n_critic`` must be 1); returns
        the step's losses and D outputs as floats. ``train`` draws both from the trainer's own
        random generator; this is for comparing the loop with a step written by hand. A
        conditional trainer also takes the batch's ``labels`` (the fakes are asked for them too)."""
        if self.config.n_critic != 1:
            raise ValueError("step_with takes one batch; it needs n_critic = 1")
        self.generator.train()
        self.discriminator.train()
        batch = (x_real.to(self.device), z.to(self.device))
        if self.labels is not None:
            if labels is None:
                raise ValueError("this trainer is conditional: pass the batch's labels, step_with(x_real, z, labels)")
            batch += (labels.to(self.device),)
        values = self._one_step(want_norms=True, batch=batch)
        self.step += 1
        return dict(zip(("loss_d", "loss_g", "d_real", "d_fake", "grad_norm_d", "grad_norm_g"),
                        values.tolist()))

    def discriminator_step(self, x_real: torch.Tensor, x_fake: torch.Tensor,
                           labels: torch.Tensor | None = None) -> float:
        """One discriminator (critic) update on given batches, exactly as ``train`` makes it: the
        family's loss (with its penalty), the optimizer's step, then the family's post-step hook
        (WGAN's weight clipping). Returns the loss. For checking an update written by hand. A
        conditional trainer also takes the ``labels`` of both batches."""
        self.discriminator.train()
        if (labels is None) != (self.labels is None):
            raise ValueError("pass labels to a conditional trainer's discriminator_step, and only to one")
        y = None if labels is None else labels.to(self.device)
        loss_d, _, _, _ = self._update_discriminator(x_real.to(self.device), x_fake.to(self.device), False, y,
                                                     self.step * self.config.n_critic)
        return float(loss_d.detach())

    def _update_discriminator(self, x_real, x_fake, want_norm: bool, y: torch.Tensor | None = None,
                              d_step: int = 0):
        """One discriminator update; returns (loss, scores on real, scores on fake, grad norm or None).
        ``y``: the labels of both batches (a conditional GAN), else None. ``d_step``: how many D
        updates came before (lazy penalties apply when it is a multiple of their interval)."""
        cfg, D = self.config, self._discriminator(y)
        with self._autocast():
            scores_real = D(x_real).float()
            scores_fake = self._discriminator(y, fake=True)(x_fake.detach()).float()
        if self.custom_loss_d is not None:
            loss_d = self.custom_loss_d(scores_real, scores_fake)
        else:
            loss_d = self.family.discriminator_loss(scores_real, scores_fake)
            for penalty, every in self.penalties:  # the family's (WGAN-GP), then R1 when configured
                if d_step % every == 0:
                    loss_d = loss_d + every * penalty(D, x_real, x_fake, cfg, self.rng)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        norm_d = self._clip_or_norm(self.discriminator, want_norm)
        self.opt_d.step()
        if self.family.after_discriminator_step is not None:
            self.family.after_discriminator_step(self.discriminator, cfg)
        return loss_d, scores_real, scores_fake, norm_d

    def _one_step(self, want_norms: bool, batch: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """n_critic discriminator updates, then one generator update. Returns a device tensor
        [loss_d, loss_g, d_real, d_fake, grad_norm_d, grad_norm_g] (norms NaN when not asked)."""
        cfg, G, D = self.config, self.generator, self.discriminator
        D.requires_grad_(True)
        for i in range(cfg.n_critic):
            if batch is not None:
                x_real, z, y = batch if len(batch) == 3 else (*batch, None)
            elif self.labels is None:
                x_real, z, y = self._real_batch(), self._sample_z(cfg.batch_size), None
            else:  # the fakes are asked for the real batch's labels
                (x_real, y), z = self._labelled_batch(), self._sample_z(cfg.batch_size)
            last = i == cfg.n_critic - 1
            with self._autocast(), torch.set_grad_enabled(last):  # keep G's graph only for the G step's reuse
                x_fake = G(z) if y is None else G(z, y)
            loss_d, scores_real, scores_fake, norm_d = self._update_discriminator(
                x_real, x_fake, want_norms and last, y, self.step * cfg.n_critic + i)
        # Generator update through the updated discriminator; D's weights need no gradient here.
        D.requires_grad_(False)
        with self._autocast():
            scores_g = self._discriminator(y, fake=True)(x_fake).float()
        loss_g = self.loss_g(scores_g)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        norm_g = self._clip_or_norm(G, want_norms)
        self.opt_g.step()
        if self.generator_ema is not None:
            ema_update_(self.generator_ema, G, self.ema_decay_at(self.step))
        D.requires_grad_(True)
        with torch.no_grad():
            to_prob = (lambda s: s.mean()) if self.family.critic else (lambda s: torch.sigmoid(s).mean())
            nan = torch.full((), float("nan"), device=self.device)
            return torch.stack([loss_d.detach(), loss_g.detach(), to_prob(scores_real), to_prob(scores_fake),
                                norm_d if norm_d is not None else nan, norm_g if norm_g is not None else nan])

    def ema_decay_at(self, step: int) -> float:
        """The EMA decay used after generator update ``step`` (0-based): ``config.ema_decay``, or with
        ``ema_warmup`` ``min(ema_decay, (1 + step) / (10 + step))``, the warm-up of TensorFlow's
        ``ExponentialMovingAverage(num_updates=step)``. Without it, decay 0.999 keeps
        0.999^3000 = 5 % of the random initial weights after 3,000 steps (measured: FD 297 vs 145 of
        the last iterate); with it, that share is below 1e-12 by step 100. Lesson 08."""
        decay = self.config.ema_decay
        return min(decay, (1 + step) / (10 + step)) if self.config.ema_warmup else decay

    @property
    def images_per_second(self) -> float:
        """Real images the discriminator has seen per second of training so far."""
        if self.seconds <= 0:
            return math.nan
        return self.step * self.config.batch_size * self.config.n_critic / self.seconds

    @torch.no_grad()
    def sample(self, n: int | None = None, z: torch.Tensor | None = None,
               labels: torch.Tensor | None = None, ema: bool | None = None) -> torch.Tensor:
        """Samples from the generator in eval mode (BatchNorm uses its running statistics).

        From the fixed snapshot noise when neither ``n`` nor ``z`` is given. A conditional GAN
        draws the digits ``labels`` asks for (B,); by default 0, 1, ..., 9, 0, 1, ... in turn, so
        n = 10,000 asks for each of ten classes 1,000 times (:meth:`requested_labels`).
        ``ema``: sample the averaged generator (``config.ema_decay > 0``); by default it does when
        there is one, so snapshots, ``metrics.JudgeCurve`` and ``judged_run`` judge the average.
        """
        if ema and self.generator_ema is None:
            raise ValueError("this trainer keeps no EMA generator: set TrainConfig(ema_decay=0.999) to have one")
        generator = self.generator_ema if ema is not False and self.generator_ema is not None else self.generator
        if z is None:
            z = self.fixed_z if n is None else torch.randn(n, self.latent_dim, device=self.device)
        if self.labels is None and labels is not None:
            raise ValueError("this trainer is unconditional: it was built without labels, so it cannot draw a class")
        if self.labels is not None and labels is None:
            labels = self.fixed_labels if n is None and z is self.fixed_z else self.requested_labels(len(z))
        was_training = generator.training
        generator.eval()
        try:
            with self._autocast():
                if labels is not None:
                    return generator(z.to(self.device), labels.to(self.device)).float()
                return generator(z.to(self.device)).float()
        finally:
            generator.train(was_training)

    def requested_labels(self, n: int) -> torch.Tensor:
        """The classes :meth:`sample` asks for by default: 0, 1, ..., num_classes - 1, 0, 1, ... (n,)."""
        if self.labels is None:
            raise ValueError("this trainer is unconditional: it was built without labels")
        return torch.arange(n, device=self.device) % self.num_classes

    # --- the loop -------------------------------------------------------------------------

    def train(self, steps: int | None = None, progress: bool = True, seconds: float | None = None) -> History:
        """Run ``steps`` more generator updates, or train for ``seconds`` of training time (checked
        every ``log_every`` steps), whichever ends first; return the (growing) history.

        Ctrl-C (or Jupyter's interrupt) stops after the current step and returns what was
        trained so far. A NaN or Inf loss raises :class:`NonFiniteLossError` naming the step.
        """
        from tqdm.auto import tqdm

        if steps is None and seconds is None:
            raise ValueError("give steps, seconds or both")
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)):
            raise ValueError(f"steps must be a whole number, not {steps!r}")
        if (steps is not None and steps < 0) or (seconds is not None and seconds < 0):
            raise ValueError(f"steps and seconds must be >= 0, not {steps} and {seconds}")
        cfg = self.config
        self.generator.train()
        self.discriminator.train()
        end = self.step + steps if steps is not None else math.inf
        deadline = self.seconds + seconds if seconds is not None else math.inf
        if self.step == 0 and cfg.snapshot_every:
            self._snapshot()
        bar = tqdm(total=steps, desc=f"{cfg.loss} GAN" + (f", {seconds:.0f} s" if seconds else ""),
                   unit="step", disable=not progress, dynamic_ncols=True)
        buffer: list[torch.Tensor] = []
        self._clock = time.perf_counter()
        try:
            with _StopFlag() as stop:
                while self.step < end and self.seconds < deadline and not stop.requested:
                    at_log = (self.step + 1) % cfg.log_every == 0 or self.step + 1 == end
                    buffer.append(self._one_step(want_norms=at_log))
                    self.step += 1
                    if at_log:
                        self._log(buffer, bar, measured=True)
                        buffer = []
                    if cfg.snapshot_every and self.step % cfg.snapshot_every == 0:
                        self._snapshot()
                if buffer:  # stopped between log steps: the last step computed no gradient norms
                    self._log(buffer, bar, measured=False)
                self.stopped_by = stop.signal
                if stop.requested:
                    name = signal.Signals(stop.signal).name
                    print(f"Interrupted ({name}): stopped cleanly after step {self.step}; "
                          f"the models hold what was trained so far.")
        finally:
            self._clock = None
            bar.close()
        return self.history

    def _log(self, buffer: list[torch.Tensor], bar, measured: bool) -> None:
        """One history row from ``buffer``; ``measured``: the last step computed gradient norms."""
        values = torch.stack(buffer).cpu()  # the only host sync: once per log_every steps
        now = time.perf_counter()
        self.seconds += now - self._clock
        self._clock = now
        first_step = self.step - len(buffer) + 1
        finite = torch.isfinite(values[:, :2])
        if not bool(finite.all()):
            row, col = (~finite).nonzero()[0].tolist()
            name = ("loss_d", "loss_g")[col]
            raise NonFiniteLossError(
                f"{name} became {values[row, col].item()} at step {first_step + row}; training stopped. "
                f"Lower the learning rate, check the data range and the loss, or resume from a checkpoint.")
        means = values[:, :4].mean(0).tolist()
        last = values[-1, 4:].tolist()
        row = {"step": self.step, "loss_d": means[0], "loss_g": means[1], "d_real": means[2],
               "d_fake": means[3], "grad_norm_d": last[0], "grad_norm_g": last[1],
               "seconds": round(self.seconds, 3)}
        self.history.rows.append(row)
        start = time.perf_counter()  # health checks and on_log callbacks are not training time
        for warning in self.health.update(self.history.rows, self.on_snapshot, measured):
            self.history.warnings.append(warning)
            if not bar.disable:
                bar.write(f"warning at step {warning['step']}: {warning['message']}", file=sys.stderr)
        for callback in self.on_log:
            callback(self)
        self._clock += time.perf_counter() - start
        bar.update(len(buffer))
        bar.set_postfix(loss_d=f"{means[0]:.3f}", loss_g=f"{means[1]:.3f}",
                        d_real=f"{means[2]:.2f}", d_fake=f"{means[3]:.2f}", **self.health.postfix())

    def _snapshot(self) -> None:
        start = time.perf_counter()
        samples = self.sample()
        stored = _to_uint8(samples) if samples.dim() == 4 else samples.detach().cpu()
        self.history.snapshots.append((self.step, stored))
        for callback in self.on_snapshot:
            callback(self)
        if self._clock is not None:  # snapshots and their callbacks are not training time
            self._clock += time.perf_counter() - start

    # --- checkpoints ----------------------------------------------------------------------

    def state_dict(self) -> dict:
        conditional = {} if self.labels is None else {"num_classes": self.num_classes}
        return {
            **conditional,
            "format": "gancourse-checkpoint-1",
            "config": dataclasses.asdict(self.config),
            "step": self.step,
            "seconds": self.seconds,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": self.rng.get_state(),
            "fixed_z": self.fixed_z,
            "history": self.history.state_dict(),
            **({} if self.generator_ema is None else {"generator_ema": self.generator_ema.state_dict()}),
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Write a checkpoint atomically (:func:`gancourse.files.atomic_path`): a crash, a kill or
        a full disk mid-write never leaves a broken file in place of a good one, and two saves to
        one path never mix."""
        from gancourse.files import atomic_path

        with atomic_path(path) as tmp:
            torch.save(self.state_dict(), tmp)
        return Path(path)

    def load_state_dict(self, state: dict) -> None:
        """Continue from a checkpoint made by a trainer with the same config; refused otherwise
        (a hinge trainer cannot continue a non-saturating run), naming the fields that differ."""
        if state.get("format") != "gancourse-checkpoint-1":
            raise ValueError("not a gancourse checkpoint (expected format 'gancourse-checkpoint-1')")
        defaults = dataclasses.asdict(TrainConfig())  # fields added since the checkpoint take their defaults
        saved = {**defaults, **state["config"], "betas": tuple(state["config"].get("betas", ()))}
        mine = dataclasses.asdict(self.config)
        differ = [f"{name} {saved.get(name)!r} (checkpoint) vs {mine[name]!r} (this trainer)"
                  for name in mine if saved.get(name) != mine[name]]
        if differ:
            raise ValueError("the checkpoint was trained with another config: " + "; ".join(differ)
                             + ". Use Trainer.load(path, ...), which rebuilds the trainer with the saved config.")
        if state.get("num_classes") != self.num_classes:
            kind = lambda n: "unconditional" if n is None else f"conditional on {n} classes"  # noqa: E731
            raise ValueError(f"the checkpoint is {kind(state.get('num_classes'))} but this trainer is "
                             f"{kind(self.num_classes)}; build the trainer the run was trained with")
        try:
            self.generator.load_state_dict(state["generator"])
            self.discriminator.load_state_dict(state["discriminator"])
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
            if self.generator_ema is not None:
                self.generator_ema.load_state_dict(state["generator_ema"])
        except (RuntimeError, KeyError, ValueError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ValueError(f"the checkpoint does not fit these models or optimizers ({first}); "
                             f"build the same architectures it was trained with") from None
        self.rng.set_state(state["rng"])
        self.fixed_z = state["fixed_z"].to(self.device)
        self.step, self.seconds = state["step"], state["seconds"]
        self.history = History.from_state_dict(state["history"])

    @classmethod
    def load(cls, path: str | os.PathLike, generator: nn.Module, discriminator: nn.Module,
             data: torch.Tensor, device: torch.device | str | None = None,
             labels: torch.Tensor | None = None) -> "Trainer":
        """Rebuild a trainer from a checkpoint written by :meth:`save` (``weights_only`` load:
        a checkpoint cannot run code). Pass freshly built models of the same architecture (and
        the data's ``labels`` for a conditional GAN)."""
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise
        except Exception as error:  # empty, truncated, zeroed, text, or not only tensors
            raise ValueError(f"{path} is damaged or not a checkpoint: torch.load could not read it "
                             f"({type(error).__name__})") from None
        keys = ("format", "config", "step", "seconds", "generator", "discriminator", "opt_g", "opt_d", "rng",
                "fixed_z", "history")
        if not isinstance(state, dict) or state.get("format") != "gancourse-checkpoint-1":
            raise ValueError(f"{path} is not a gancourse checkpoint (written by Trainer.save)")
        missing = [key for key in keys if key not in state]
        if missing:
            raise ValueError(f"{path} is an incomplete checkpoint (no {', '.join(missing)}): it is damaged")
        config = TrainConfig(**state["config"])
        trainer = cls(generator, discriminator, data, config, device, labels=labels)
        trainer.load_state_dict(state)
        return trainer
