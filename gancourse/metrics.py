"""Judging generated MNIST digits with a small classifier shipped in the package (docs/design.md,
"Measures").

- :class:`MNISTJudge`: a 4-layer CNN trained on MNIST's training set by
  ``python -m gancourse.metrics train`` (the weights ship in ``gancourse/weights``, with a
  SHA-256 checked on load; its test accuracy is asserted by the test suite).
- :func:`digit_histogram`, :func:`kl_to_uniform`, :func:`confident_share`: what digits a
  generator draws, and how sure the judge is of them.
- :func:`frechet_distance`: the Fréchet distance between Gaussians fitted to the judge's 64-d
  features of two image sets (Heusel et al. 2017's FID formula, on MNIST-classifier features
  instead of Inception's, so its values are on a different scale from published FIDs).
- :class:`JudgeCurve` and :func:`judged_run`: the judge's figures over a training run, the one
  way every MNIST lesson trains and measures.
"""
from __future__ import annotations

import hashlib
import math
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["jensen_shannon", "MNISTJudge", "load_judge", "digit_histogram", "kl_to_uniform", "confident_share",
           "frechet_distance", "judge_report", "JudgeCurve", "judged_run", "FEATURE_DIM"]

WEIGHTS = "mnist_judge.pt"
#: SHA-256 of the shipped weights; ``python -m gancourse.metrics train`` prints the new one.
WEIGHTS_SHA256 = "7d99fd125f8c616e095e5909e9ea750542370d21ef7fa73d9a61aea76c5dbbb6"
FEATURE_DIM = 64


class MNISTJudge(nn.Module):
    """Small CNN for 28×28 digits in [-1, 1]: two conv blocks, a 64-d feature layer, 10 logits."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),  # (B, 16, 14, 14)
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 7, 7)
            nn.Conv2d(32, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 2, 2)
            nn.Flatten(), nn.Linear(128, FEATURE_DIM), nn.ReLU(),  # (B, 64)
        )
        self.classifier = nn.Linear(FEATURE_DIM, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch_size: int = 2000) -> tuple[torch.Tensor, torch.Tensor]:
        """(features (N, 64), class probabilities (N, 10)) for images (N, 1, 28, 28) in [-1, 1]."""
        self.eval()
        device = next(self.parameters()).device
        feats, probs = [], []
        for start in range(0, len(images), batch_size):
            f = self.features(images[start:start + batch_size].to(device).float())
            feats.append(f.cpu())
            probs.append(torch.softmax(self.classifier(f), 1).cpu())
        return torch.cat(feats), torch.cat(probs)


def _weights_path() -> Path:
    return Path(str(resources.files("gancourse") / "weights" / WEIGHTS))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_judge(device: torch.device | str = "cpu") -> MNISTJudge:
    """The shipped judge, verified against its SHA-256 and loaded with ``weights_only=True``."""
    path = _weights_path()
    if not path.exists():
        raise FileNotFoundError(f"the judge's weights are missing ({path}); reinstall gancourse or run "
                                f"`python -m gancourse.metrics train`")
    digest = _sha256(path)
    if digest != WEIGHTS_SHA256:
        raise RuntimeError(f"{path} has SHA-256 {digest}, expected {WEIGHTS_SHA256}: the file is "
                           f"corrupt or was replaced. Reinstall gancourse.")
    judge = MNISTJudge()
    judge.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return judge.to(device).eval()


def digit_histogram(probs: torch.Tensor) -> torch.Tensor:
    """Share of samples the judge assigns to each digit (argmax), shape (10,), sums to 1."""
    return torch.bincount(probs.argmax(1), minlength=10).double() / len(probs)


def kl_to_uniform(histogram: torch.Tensor) -> float:
    """KL(histogram || uniform) in nats: 0 for an even spread, log 10 = 2.30 for one digit only."""
    p = histogram.double() / histogram.sum()
    p = p[p > 0]
    return float((p * torch.log(p * len(histogram))).sum())


def jensen_shannon(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon divergence of two discrete distributions, in nats (0 to log 2).

    JSD(p || q) = ½ KL(p || m) + ½ KL(q || m) with m = ½ (p + q); terms with p_i = 0 count 0.
    Applied to densities on a fine grid times the grid step, it approximates the JSD of
    continuous distributions (lesson 01's quadrature check of C(G) = -log 4 + 2 JSD).
    """
    p, q = torch.as_tensor(p, dtype=torch.float64), torch.as_tensor(q, dtype=torch.float64)
    m = (p + q) / 2

    def kl_to_m(a: torch.Tensor) -> torch.Tensor:
        mask = a > 0
        return (a[mask] * torch.log(a[mask] / m[mask])).sum()

    return 0.5 * kl_to_m(p) + 0.5 * kl_to_m(q)


def confident_share(probs: torch.Tensor, threshold: float = 0.9) -> float:
    """Share of samples whose top class probability exceeds ``threshold``."""
    return float((probs.max(1).values > threshold).double().mean())


def _sqrtm_psd(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix by eigendecomposition (float64)."""
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp_min(0).sqrt()) @ vectors.T


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, d):

        ||μa - μb||² + Tr(Σa + Σb - 2 (Σa^½ Σb Σa^½)^½)

    The trace term uses symmetric square roots of positive semi-definite matrices (eigh in
    float64), which stays real and stable where ``scipy.linalg.sqrtm(Σa Σb)`` can return complex
    values or NaN for nearly singular covariances.

    Raises:
        ValueError: with fewer samples than feature dimensions + 1 in either set, where the
            covariance is singular and the distance meaningless.
    """
    for name, f in (("first", features_a), ("second", features_b)):
        if f.dim() != 2 or f.shape[0] <= f.shape[1]:
            raise ValueError(f"the {name} feature set has shape {tuple(f.shape)}: the Fréchet distance "
                             f"needs more samples than feature dimensions ({f.shape[-1]}); use at least "
                             f"{f.shape[-1] + 1}, and the same number for every comparison (it depends on N)")
    a, b = features_a.double(), features_b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    root_a = _sqrtm_psd(cov_a)
    cross = _sqrtm_psd(root_a @ cov_b @ root_a)
    value = (mu_a - mu_b).pow(2).sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * torch.trace(cross)
    return max(float(value), 0.0)


def judge_report(images: torch.Tensor, judge: MNISTJudge, real_features: torch.Tensor) -> dict:
    """Digit histogram, its KL to uniform, the confident share and the Fréchet distance to
    ``real_features`` (from ``judge.embed(real_images)[0]``), for images (N, 1, 28, 28)."""
    features, probs = judge.embed(images)
    histogram = digit_histogram(probs)
    return {"histogram": histogram.tolist(), "kl_to_uniform": kl_to_uniform(histogram),
            "confident_share": confident_share(probs),
            "frechet_distance": frechet_distance(features, real_features), "n": len(images)}


class JudgeCurve:
    """Scores a generator with the judge during training: pass it as a Trainer's ``on_snapshot``.

    At every snapshot it draws ``n`` samples and appends a row ``{"step", "seconds", **report}``
    (:func:`judge_report`) to ``rows``; call it once more after training for the final point
    (a step already scored is not scored again, so that call is safe when training ended on a snapshot).
    ``extra(trainer, samples) -> dict`` adds columns, e.g. the critic's estimate (lesson 05).
    Snapshot time is not training time: the Trainer's clock stops while it runs.
    """

    def __init__(self, judge: MNISTJudge, real_features: torch.Tensor, n: int = 2000, extra=None):
        self.judge, self.real_features, self.n, self.extra = judge, real_features, n, extra
        self.rows: list[dict] = []

    def __call__(self, trainer) -> None:
        if self.rows and self.rows[-1]["step"] == trainer.step:
            return
        samples = trainer.sample(self.n)
        row = {"step": trainer.step, "seconds": trainer.seconds}
        if self.extra is not None:
            row.update(self.extra(trainer, samples))
        row.update(judge_report(samples, self.judge, self.real_features))
        self.rows.append(row)

    def column(self, name: str) -> list:
        return [row[name] for row in self.rows]


def judged_run(trainer, judge: MNISTJudge, real_features: torch.Tensor, *, steps: int | None = None,
               seconds: float | None = None, n: int = 2000, extra=None, progress: bool = True) -> JudgeCurve:
    """Train ``trainer`` while the judge scores every snapshot, then score the end once more.

    The one judged MNIST run of the course (lessons 02 to 05): a :class:`JudgeCurve` of ``n``
    samples joins the trainer's ``on_snapshot`` callbacks for this call only, ``trainer.train``
    runs for ``steps`` and/or ``seconds`` (continuing where the trainer stands), and the returned
    curve's ``rows`` hold the start, every snapshot and the end, each step once. The judge's time
    is not training time. Seed the global RNG before calling for reproducible samples (and dropout).

    Args:
        trainer: a :class:`gancourse.training.Trainer` on MNIST-shaped images (N, 1, 28, 28).
        judge, real_features: from :func:`load_judge` and ``judge.embed(real_images)[0]``.
        extra: ``extra(trainer, samples) -> dict`` adds columns to each row.
    """
    curve = JudgeCurve(judge, real_features, n=n, extra=extra)
    if trainer.step > 0 or not trainer.config.snapshot_every:  # train() snapshots only a fresh run
        curve(trainer)
    trainer.on_snapshot.append(curve)
    try:
        trainer.train(steps=steps, seconds=seconds, progress=progress)
    finally:
        trainer.on_snapshot.remove(curve)
    curve(trainer)  # the end, unless training ended on a snapshot
    return curve


# --- training the judge (run once; the result ships with the package) ------------------------

def train_judge(epochs: int = 6, seed: int = 0, device: str = "cpu", out: Path | None = None) -> dict:
    """Train the judge on MNIST's training set with small random shifts; save its weights.

    Returns the test accuracy and the weights' SHA-256 (paste it into ``WEIGHTS_SHA256``).
    """
    from tqdm.auto import tqdm

    from gancourse.data import load_mnist

    torch.manual_seed(seed)
    x_train, y_train = load_mnist(train=True, device=device)
    x_test, y_test = load_mnist(train=False, device=device)
    judge = MNISTJudge().to(device)
    optimizer = torch.optim.Adam(judge.parameters(), lr=2e-3)
    steps_per_epoch = math.ceil(len(x_train) / 128)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 4e-3, total_steps=epochs * steps_per_epoch)
    for epoch in range(epochs):
        judge.train()
        order = torch.randperm(len(x_train), device=device)
        for i in tqdm(range(steps_per_epoch), desc=f"judge epoch {epoch + 1}/{epochs}"):
            index = order[i * 128:(i + 1) * 128]
            x = x_train[index]
            shift = torch.randint(-2, 3, (2,)).tolist()  # up to 2 px: robustness to off-centre digits
            x = torch.roll(F.pad(x, (2, 2, 2, 2), value=-1.0), shifts=shift, dims=(2, 3))[:, :, 2:30, 2:30]
            loss = F.cross_entropy(judge(x), y_train[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    accuracy = test_accuracy(judge, x_test, y_test)
    out = out or _weights_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    judge = judge.cpu()
    from gancourse.files import atomic_path

    with atomic_path(out) as tmp:
        torch.save({k: v.clone() for k, v in judge.state_dict().items()}, tmp)
    return {"test_accuracy": accuracy, "sha256": _sha256(out), "path": str(out),
            "bytes": out.stat().st_size}


@torch.no_grad()
def test_accuracy(judge: MNISTJudge, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of ``images`` the judge classifies as ``labels``."""
    _, probs = judge.embed(images)
    return float((probs.argmax(1) == labels.cpu()).double().mean())


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m gancourse.metrics")
    parser.add_argument("command", choices=["train"], help="train the MNIST judge and save its weights")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(train_judge(epochs=args.epochs, seed=args.seed), indent=2))
