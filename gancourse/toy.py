"""Toy distributions for lessons 01, 04 and 05, and the mode-coverage metrics of PacGAN/VEEGAN.

- :class:`Mixture1D`: a 1-D Gaussian mixture with an exact density (lesson 01's p_data).
- :func:`ring` and :func:`grid`: PacGAN's 2-D benchmarks, exactly as its code defines them
  (Lin et al. 2018, ``synthetic_data_experiments/*/config.py``): 8 modes at
  ``(cos 2πi/8, sin 2πi/8)`` with σ = 0.01, and 25 modes at {-4, -2, 0, 2, 4}² with σ = 0.05.
  (The angles exclude 2π: a popular notebook's ``linspace(0, 2π, 8)`` gives only 7 modes.)
- :func:`swiss_roll`: as in WGAN-GP's ``gan_toy.py`` (no scikit-learn needed).
- :func:`mode_coverage`: modes captured, share of high-quality samples, KL of the mode histogram
  to uniform, on 2,500 samples by convention (VEEGAN section 5; PacGAN's ``MetricLogger``).
- :func:`mode_experiment`: several seeds of a toy GAN trained as one batched model, measured
  with :func:`mode_coverage` (lesson 04's and 05's tables).
- :func:`dirac_gan`: Mescheder et al.'s two-parameter GAN, where plain training circles and R1
  converges (lesson 08).
"""
from __future__ import annotations

import math
import signal
import statistics
from dataclasses import dataclass

import torch

__all__ = ["Mixture1D", "Mixture2D", "ring", "grid", "swiss_roll", "mode_coverage", "ModeCoverage",
           "mode_experiment", "dirac_gan"]


@dataclass(frozen=True)
class Mixture1D:
    """A mixture of 1-D Gaussians with exact density, for lesson 01."""

    means: tuple[float, ...]
    stds: tuple[float, ...]
    weights: tuple[float, ...] | None = None  # None: equal weights

    def _w(self) -> torch.Tensor:
        w = torch.tensor(self.weights if self.weights is not None else [1.0] * len(self.means),
                         dtype=torch.float64)
        return w / w.sum()

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n samples, shape (n, 1), float32."""
        component = torch.multinomial(self._w(), n, replacement=True, generator=generator)
        noise = torch.randn(n, generator=generator, dtype=torch.float64)
        x = torch.tensor(self.means, dtype=torch.float64)[component] + \
            torch.tensor(self.stds, dtype=torch.float64)[component] * noise
        return x.float().unsqueeze(1)

    def pdf(self, x: torch.Tensor) -> torch.Tensor:
        """Density at x (any shape), float64."""
        x = torch.as_tensor(x, dtype=torch.float64).unsqueeze(-1)
        mu = torch.tensor(self.means, dtype=torch.float64)
        sd = torch.tensor(self.stds, dtype=torch.float64)
        densities = torch.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
        return (densities * self._w()).sum(-1)


@dataclass(frozen=True)
class Mixture2D:
    """Equal-weight isotropic 2-D Gaussians: ``centers`` (K, 2) and one ``std`` per axis."""

    centers: torch.Tensor
    std: float
    name: str = "mixture"

    @property
    def n_modes(self) -> int:
        return self.centers.shape[0]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n samples, shape (n, 2), float32."""
        component = torch.randint(self.n_modes, (n,), generator=generator)
        return self.centers[component] + self.std * torch.randn(n, 2, generator=generator)

    def extent(self, margin: float = 0.5) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) around the modes, for plots."""
        lo, hi = self.centers.min(0).values - margin, self.centers.max(0).values + margin
        return lo[0].item(), hi[0].item(), lo[1].item(), hi[1].item()


def ring(n_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> Mixture2D:
    """PacGAN's 2-D ring: 8 modes at angles 2πi/8 on a circle of radius 1, σ = 0.01."""
    angles = 2 * math.pi * torch.arange(n_modes, dtype=torch.float64) / n_modes  # excludes 2π
    centers = radius * torch.stack([torch.cos(angles), torch.sin(angles)], 1)
    return Mixture2D(centers.float(), std, "ring")


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> Mixture2D:
    """PacGAN's 2-D grid: 25 modes at {-4, -2, 0, 2, 4}², σ = 0.05."""
    axis = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    xs, ys = torch.meshgrid(axis, axis, indexing="ij")
    return Mixture2D(torch.stack([xs.flatten(), ys.flatten()], 1), std, "grid")


def swiss_roll(n: int, noise: float = 0.25, generator: torch.Generator | None = None) -> torch.Tensor:
    """A 2-D swiss roll, as ``make_swiss_roll(n, noise)[:, [0, 2]] / 7.5`` in WGAN-GP's gan_toy.py."""
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator))
    points = torch.stack([t * torch.cos(t), t * torch.sin(t)], 1)
    return (points + noise * torch.randn(n, 2, generator=generator)) / 7.5


@dataclass
class ModeCoverage:
    """Mode-coverage metrics of a set of samples against a :class:`Mixture2D`."""

    modes: int  # modes with at least one high-quality sample
    high_quality: float  # share of samples within 3σ of their nearest mode
    kl: float  # KL(mode histogram of high-quality samples || uniform), nats; 0 = perfectly even
    counts: list[int]  # high-quality samples per mode

    def as_dict(self) -> dict:
        return {"modes": self.modes, "high_quality": self.high_quality, "kl": self.kl}


def mode_coverage(samples: torch.Tensor, mixture: Mixture2D, threshold: float = 3.0) -> ModeCoverage:
    """Modes captured, high-quality share and KL to uniform (VEEGAN/PacGAN protocol).

    A sample is high quality when its distance to the nearest mode is below ``threshold``
    standard deviations; a mode is captured when it is the nearest mode of at least one
    high-quality sample. The KL is that of the high-quality samples' mode histogram to the
    uniform distribution over modes: 0 when even, log K when all sit on one mode (PacGAN's
    "reverse KL" is presumably this: its released code computes KL(generated mode histogram ||
    uniform) for Stacked MNIST, while the 2-D table's column is computed outside that code).
    Use 2,500 samples to compare with the papers.
    """
    samples = samples.detach().float().cpu().reshape(-1, 2)
    distances = torch.cdist(samples, mixture.centers.cpu())  # (N, K)
    nearest_distance, nearest = distances.min(1)
    good = nearest_distance < threshold * mixture.std
    counts = torch.bincount(nearest[good], minlength=mixture.n_modes)
    captured = int((counts > 0).sum())
    if counts.sum() > 0:
        p = counts.double() / counts.sum()
        nonzero = p > 0
        kl = float((p[nonzero] * torch.log(p[nonzero] * mixture.n_modes)).sum())
    else:
        kl = math.log(mixture.n_modes)  # nothing on any mode: report the worst case
    return ModeCoverage(captured, float(good.double().mean()) if len(samples) else 0.0, kl, counts.tolist())


def mode_experiment(dataset: str | Mixture2D = "ring", loss: str = "non-saturating", seeds: int = 5,
                    steps: int = 5000, pack: int = 1, minibatch_std: bool = False, norm: str = "none",
                    batch_size: int = 256, hidden: tuple[int, ...] = (128, 128), device=None,
                    progress: bool = True, batched: bool = True, **overrides) -> dict:
    """Train ``seeds`` toy GANs on PacGAN's ring or grid and measure each on 2,500 samples.

    All seeds train at once as one :class:`gancourse.models.Ensemble` through the ordinary
    Trainer (member k starts from ``torch.manual_seed(k)`` and draws its own batches of
    ``batch_size``), which is what makes tables of many runs affordable on a CPU. Models: toy MLPs
    with ``hidden`` layers; ``pack`` and ``minibatch_std`` are the discriminator's remedies;
    ``norm="spectral"`` gives a spectrally normalised discriminator, whose power-iteration buffers
    do not batch, so those seeds train one after another (same protocol, slower), as they also do
    with ``batched=False`` (to check that the ensemble trains the same way: lesson 04). The
    GAN losses use Adam 1e-3, β (0.5, 0.999) (2e-4 learns these small problems too slowly); the
    WGAN losses their published presets; ``overrides`` go to ``TrainConfig.preset``.

    Returns a JSON-ready dict: per-seed ``runs`` (modes, high_quality, kl), a ``summary`` with
    mean and sample standard deviation over seeds, the training ``seconds``, the ``steps``
    trained and ``interrupted`` (None, or the name of the signal, e.g. "SIGINT", that stopped
    training early: then ``steps`` is what was trained, and seed-by-seed runs stop at that seed).
    """
    from gancourse import models, runtime
    from gancourse.training import Trainer, TrainConfig, loss_family

    device = device if isinstance(device, torch.device) else runtime.pick_device(device)
    mixture = dataset if isinstance(dataset, Mixture2D) else {"ring": ring, "grid": grid}[dataset]()
    # The GAN families learn these small problems too slowly at their presets' 2e-4.
    defaults = {} if loss_family(loss).critic else dict(lr_g=1e-3, lr_d=1e-3)
    settings = {**defaults, "snapshot_every": 0, "log_every": 100, **overrides}
    data = mixture.sample(100_000, torch.Generator().manual_seed(0))
    pairs = []
    for seed in range(seeds):
        torch.manual_seed(seed)
        pairs.append((models.ToyGenerator(hidden=hidden),
                      models.ToyDiscriminator(hidden=hidden, pack=pack, minibatch_std=minibatch_std, norm=norm)))
    z = torch.randn(seeds, 2500, pairs[0][0].latent_dim, generator=torch.Generator().manual_seed(10_000))
    if batched and norm == "none":
        generator, discriminator = models.Ensemble(g for g, _ in pairs), models.Ensemble(d for _, d in pairs)
        config = TrainConfig.preset(loss, **{**settings, "batch_size": batch_size * seeds})
        trainer = Trainer(generator, discriminator, data, config, device)
        trainer.train(steps, progress=progress)
        samples = generator.split(trainer.sample(z=z.flatten(0, 1)))  # (seeds, 2500, 2)
        seconds, stopped, trained = trainer.seconds, trainer.stopped_by, trainer.step
    else:
        samples, seconds, stopped, trained = [], 0.0, None, steps
        for seed, (generator, discriminator) in enumerate(pairs):
            config = TrainConfig.preset(loss, **{**settings, "batch_size": batch_size, "seed": seed})
            trainer = Trainer(generator, discriminator, data, config, device)
            trainer.train(steps, progress=progress)
            samples.append(trainer.sample(z=z[seed]))
            seconds += trainer.seconds
            if trainer.stopped_by is not None:  # Ctrl-C or SIGTERM: report the seeds trained so far
                stopped, trained = trainer.stopped_by, trainer.step
                break
    runs = [{"seed": seed, **mode_coverage(samples[seed], mixture).as_dict()} for seed in range(len(samples))]
    summary = {}
    for key in ("modes", "high_quality", "kl"):
        values = [run[key] for run in runs]
        summary[key] = {"mean": statistics.fmean(values),
                        "std": statistics.stdev(values) if len(values) > 1 else 0.0}
    return {"dataset": mixture.name, "loss": loss, "pack": pack, "minibatch_std": minibatch_std, "norm": norm,
            "batched": batched and norm == "none",
            "steps": trained, "samples": 2500, "max_modes": mixture.n_modes, "seconds": round(seconds, 2),
            "interrupted": None if stopped is None else signal.Signals(stopped).name,
            "runs": runs, "summary": summary}


def dirac_gan(steps: int = 2000, lr: float = 0.1, r1_gamma: float = 0.0, ema_decay: float = 0.0,
              theta: float = 1.0, psi: float = 1.0) -> dict[str, torch.Tensor]:
    """Mescheder et al.'s (2018) Dirac-GAN: the data is the point 0, the generator the point θ, the
    discriminator the logit D(x) = ψ·x. Its only equilibrium is θ = ψ = 0. Lesson 08.

    Alternating gradient steps of size ``lr``, as :class:`gancourse.training.Trainer` takes them:
    D ascends log σ(D(0)) + log(1 − σ(D(θ))) − γ/2·ψ² (R1: ∇ₓD at the data is ψ, so the penalty is
    γ/2·ψ²), then G descends the non-saturating loss −log σ(D(θ)) through the updated D. Without R1
    the pair circles the equilibrium without reaching it (their section 2.2); with γ > 0 it
    converges. ``ema_decay`` > 0 also returns the exponential moving average of θ with the
    Trainer's warm-up, ``min(decay, (1 + t)/(10 + t))``.

    Returns float64 tensors: ``"theta"`` and ``"psi"`` of shape (steps + 1,) (the start first), and
    ``"theta_ema"`` when ``ema_decay`` > 0.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a whole number >= 1, not {steps!r}")
    for name, value in (("lr", lr), ("r1_gamma", r1_gamma), ("ema_decay", ema_decay)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a number >= 0, not {value!r}")
    if ema_decay >= 1:
        raise ValueError(f"ema_decay must be below 1, not {ema_decay!r}")
    thetas, psis, averages = [float(theta)], [float(psi)], [float(theta)]
    sigmoid = lambda t: 1 / (1 + math.exp(-t)) if t >= 0 else math.exp(t) / (1 + math.exp(t))  # noqa: E731
    for t in range(steps):
        psi += lr * (-sigmoid(psi * theta) * theta - r1_gamma * psi)  # d/dψ [−softplus(ψθ) − γ/2 ψ²]
        theta += lr * sigmoid(-psi * theta) * psi  # −d/dθ softplus(−ψθ)
        decay = min(ema_decay, (1 + t) / (10 + t))
        averages.append(decay * averages[-1] + (1 - decay) * theta)
        thetas.append(theta)
        psis.append(psi)
    out = {"theta": torch.tensor(thetas, dtype=torch.float64), "psi": torch.tensor(psis, dtype=torch.float64)}
    if ema_decay > 0:
        out["theta_ema"] = torch.tensor(averages, dtype=torch.float64)
    return out
