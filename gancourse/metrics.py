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
- :func:`prdc` (precision, recall, density, coverage), :func:`kid`, :func:`bootstrap_interval`,
  :func:`judge_metrics`, :func:`nearest_neighbours`: lesson 07's metrics on the judge's features,
  computed in blocks so that 10,000 x 10,000 fits in a laptop's memory.
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
           "frechet_distance", "judge_report", "requested_accuracy", "confusion_matrix", "conditional_report",
           "JudgeCurve", "judged_run", "row_at", "FEATURE_DIM"]

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


# --- conditional GANs (lesson 06): did the generator draw the digit it was asked for? ---------

def requested_accuracy(probs: torch.Tensor, requested: torch.Tensor, num_classes: int = 10
                       ) -> tuple[float, torch.Tensor]:
    """Share of samples the judge labels (argmax of ``probs`` (N, classes)) as the class
    ``requested`` (N,) asked for: (overall, per requested class (num_classes,), NaN where none)."""
    requested = requested.to(probs.device).long()
    hit = (probs.argmax(1) == requested).double()
    counts = torch.bincount(requested, minlength=num_classes).double()
    per_class = torch.bincount(requested, weights=hit, minlength=num_classes) / counts
    return float(hit.mean()), per_class


def confusion_matrix(probs: torch.Tensor, requested: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Counts (num_classes, num_classes): row = the class asked for, column = the judge's label."""
    judged = probs.argmax(1)
    pairs = requested.to(judged.device).long() * num_classes + judged
    return torch.bincount(pairs, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def conditional_report(images: torch.Tensor, requested: torch.Tensor, judge: MNISTJudge,
                       real_images: torch.Tensor, real_labels: torch.Tensor) -> dict:
    """How well a conditional generator draws the digit asked for, images (N, 1, 28, 28) of the
    classes ``requested`` (N,): requested-digit accuracy (overall and per digit), the confusion
    matrix (:func:`confusion_matrix`), the Fréchet distance pooled (all images against all real
    ones) and per digit (the images asked for digit k against the real images of digit k).
    Per-digit distances depend on N like every FD: compare them at the same N per digit."""
    features, probs = judge.embed(images)
    real_features = judge.embed(real_images)[0]
    requested, real_labels = requested.cpu().long(), real_labels.cpu().long()
    accuracy, per_digit = requested_accuracy(probs, requested)
    fd_per_digit = [frechet_distance(features[requested == k], real_features[real_labels == k])
                    if (requested == k).sum() > FEATURE_DIM and (real_labels == k).sum() > FEATURE_DIM
                    else math.nan for k in range(10)]
    return {"accuracy": accuracy, "accuracy_per_digit": per_digit.tolist(),
            "confusion": confusion_matrix(probs, requested).tolist(),
            "frechet_distance": frechet_distance(features, real_features),
            "frechet_distance_per_digit": fd_per_digit, "n": len(images),
            "n_per_digit": torch.bincount(requested, minlength=10).tolist()}


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


def row_at(rows: list[dict], step: int) -> dict:
    """The last of ``rows`` (a curve's or a ``History``'s, each with a ``"step"``) at or before ``step``.

    A run stopped early (Ctrl-C, a time budget) has no row at ``step``: the row is then an earlier
    one, and a printed line says which step is compared. A ValueError when no row is that early.
    """
    earlier = [row for row in rows if row["step"] <= step]
    if not earlier:
        first = f"its first row is at step {min(row['step'] for row in rows):,}" if rows else "it has no rows"
        raise ValueError(f"the run has no row at or before step {step:,} ({first}): run its training cell first")
    row = max(earlier, key=lambda row: row["step"])
    if row["step"] != step:
        print(f"(the run has no row at step {step:,}, its rows end at step {rows[-1]['step']:,}: "
              f"step {row['step']:,} is compared instead)")
    return row


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


# --- precision, recall, density, coverage, KID and bootstrap intervals (lesson 07) -------------
# On the judge's 64-d features. Distances are computed in row blocks, so 10,000 x 10,000 never
# holds more than ``block`` rows of a distance matrix at once (docs/design.md, "Measures").

__all__ += ["knn_radii", "nearest_neighbours", "prdc", "polynomial_kernel", "mmd2_unbiased", "kid",
            "Interval", "bootstrap_interval", "bootstrap_mean", "judge_metrics", "truncated_normal"]

BLOCK = 1024  # rows of a distance or kernel matrix held at once


def _same_source(ids: torch.Tensor | None, rows: torch.Tensor, n: int) -> torch.Tensor:
    """Mask (len(rows), n) of the pairs that are one sample: the diagonal, or equal ``ids`` (a
    bootstrap resample holds repeated copies, and a copy is not its own neighbour)."""
    if ids is None:
        return rows[:, None] == torch.arange(n)[None, :]
    return ids[rows][:, None] == ids[None, :]


def knn_radii(features: torch.Tensor, k: int = 5, block: int = BLOCK) -> torch.Tensor:
    """Distance from each row of ``features`` (N, d) to its k-th nearest neighbour in the same set,
    the row itself left out (prdc's (k+1)-th smallest distance, self included), (N,) float64."""
    x = features.double()
    if not 0 < k < len(x):
        raise ValueError(f"k = {k} needs more than k samples; got {len(x)}. Use 1 <= k < N (the course uses k = 5)")
    radii = []
    for start in range(0, len(x), block):
        rows = torch.arange(start, min(start + block, len(x)))
        distances = torch.cdist(x[rows], x).masked_fill_(_same_source(None, rows, len(x)), math.inf)
        radii.append(distances.kthvalue(k, dim=1).values)
    return torch.cat(radii)


def nearest_neighbours(queries: torch.Tensor, pool: torch.Tensor, block: int = BLOCK,
                       exclude_self: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query (N, ...) its Euclidean distance to the nearest row of ``pool`` (M, ...) and that
    row's index, both (N,); images are flattened. ``exclude_self``: queries are the pool itself."""
    q, p = queries.flatten(1).double(), pool.flatten(1).double()
    distances, indices = [], []
    for start in range(0, len(q), block):
        rows = torch.arange(start, min(start + block, len(q)))
        d = torch.cdist(q[rows], p)
        if exclude_self:
            d.masked_fill_(_same_source(None, rows, len(p)), math.inf)
        best = d.min(1)
        distances.append(best.values)
        indices.append(best.indices)
    return torch.cat(distances), torch.cat(indices)


def prdc(real: torch.Tensor, fake: torch.Tensor, k: int = 5, block: int = BLOCK,
         per_sample: bool = False) -> dict:
    """Precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020).

    Each real sample owns a ball reaching its k-th nearest real neighbour (each fake one, its k-th
    nearest fake neighbour); a point inside a ball means distance < radius, strictly, as in Naeem
    et al.'s ``prdc`` package:

    - precision: share of fake samples inside at least one real ball (quality);
    - recall: share of real samples inside at least one fake ball (diversity);
    - density: real balls containing a fake sample, counted with repeats, / (k · fakes): about 1
      when the two sets match, above 1 where fakes crowd the dense regions;
    - coverage: share of real balls containing at least one fake sample.

    Each is a mean over one set's samples; ``per_sample=True`` returns those per-sample values
    (precision and density per fake sample, recall and coverage per real sample) instead.
    """
    r, f = real.double(), fake.double()
    real_radii, fake_radii = knn_radii(r, k, block), knn_radii(f, k, block)
    inside_counts, reached = [], torch.zeros(len(r), dtype=torch.bool)
    nearest_fake = torch.full((len(r),), math.inf, dtype=torch.float64)
    for start in range(0, len(f), block):
        d = torch.cdist(f[start:start + block], r)  # (fakes in block, reals)
        inside_counts.append((d < real_radii[None, :]).sum(1))
        reached |= (d < fake_radii[start:start + block, None]).any(0)
        nearest_fake = torch.minimum(nearest_fake, d.min(0).values)
    counts = torch.cat(inside_counts).double()
    values = {"precision": (counts > 0).double(), "recall": reached.double(), "density": counts / k,
              "coverage": (nearest_fake < real_radii).double()}
    return values if per_sample else {name: float(v.mean()) for name, v in values.items()}


def polynomial_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """KID's kernel k(x, y) = (x·y / d + 1)³ for rows of a (N, d) and b (M, d), shape (N, M)."""
    return (a @ b.T / a.shape[1] + 1) ** 3


def mmd2_unbiased(x: torch.Tensor, y: torch.Tensor, x_ids: torch.Tensor | None = None,
                  y_ids: torch.Tensor | None = None) -> float:
    """Unbiased estimate of MMD² between the distributions of rows of x (m, d) and y (n, d) with
    :func:`polynomial_kernel`: the within-set means leave out k(x_i, x_i) (and, with ids, any pair
    that is one sample twice); the cross mean keeps every pair."""
    x, y = x.double(), y.double()
    total = 0.0
    for a, ids in ((x, x_ids), (y, y_ids)):
        keep = ~_same_source(ids, torch.arange(len(a)), len(a))
        total += float(polynomial_kernel(a, a)[keep].sum() / keep.sum())
    return total - 2 * float(polynomial_kernel(x, y).mean())


def kid(real: torch.Tensor, fake: torch.Tensor, subsets: int = 100, subset_size: int = 1000, seed: int = 0,
        real_ids: torch.Tensor | None = None, fake_ids: torch.Tensor | None = None) -> tuple[float, float]:
    """Kernel Inception Distance on the judge's features (Bińkowski et al. 2018): the unbiased MMD²
    (:func:`mmd2_unbiased`) averaged over ``subsets`` random subsets of ``subset_size`` samples of
    each set (drawn without replacement; at most the smaller set), returned as (mean, std over subsets).

    Unlike the Fréchet distance its expected value does not depend on the sample size; it can be
    slightly negative when the sets come from the same distribution. Subsets are drawn like
    torchmetrics' ``KernelInceptionDistance`` (a permutation of the real set, then of the fake
    set) from a ``torch.Generator`` seeded with ``seed``.
    """
    size = min(subset_size, len(real), len(fake))
    if size < 2:
        raise ValueError(f"KID needs at least 2 samples in each set; got {len(real)} and {len(fake)}")
    gen = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        i = torch.randperm(len(real), generator=gen)[:size]
        j = torch.randperm(len(fake), generator=gen)[:size]
        values.append(mmd2_unbiased(real[i], fake[j], None if real_ids is None else real_ids[i],
                                    None if fake_ids is None else fake_ids[j]))
    values = torch.tensor(values, dtype=torch.float64)
    return float(values.mean()), float(values.std(unbiased=False))


class Interval(tuple):
    """(value, low, high): an estimate and its bootstrap percentile interval; prints as
    ``value [low, high]``."""

    def __new__(cls, value: float, low: float, high: float):
        return super().__new__(cls, (float(value), float(low), float(high)))

    value = property(lambda self: self[0])
    low = property(lambda self: self[1])
    high = property(lambda self: self[2])

    def __format__(self, spec: str) -> str:
        spec = spec or ".3g"
        return f"{self.value:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"

    def __str__(self) -> str:
        return format(self)

    def __repr__(self) -> str:
        return f"Interval({self.value!r}, {self.low!r}, {self.high!r})"


def _percentiles(value: float, replicates, level: float) -> Interval:
    tail = (1 - level) / 2
    q = torch.quantile(torch.as_tensor(replicates, dtype=torch.float64), torch.tensor([tail, 1 - tail], dtype=torch.float64))
    return Interval(value, q[0], q[1])


def _check_bootstrap(n_boot, level) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 2 or not 0 < level < 1:
        raise ValueError(f"use n_boot >= 2 replicates and 0 < level < 1; got n_boot={n_boot!r}, level={level!r}")


def bootstrap_interval(statistic, real: torch.Tensor, fake: torch.Tensor, n_boot: int = 50, level: float = 0.95,
                       seed: int = 0, resample: str = "both") -> Interval:
    """``statistic(real, fake) -> float`` with its bootstrap percentile interval.

    Each of ``n_boot`` replicates draws ``resample`` ("both", "real" or "fake") sets again with
    replacement, at their own sizes, from a ``torch.Generator`` seeded with ``seed``; the interval
    holds the middle ``level`` of the replicates' values. A statistic that takes ``real_ids`` and
    ``fake_ids`` (:func:`kid`) is told which original sample each row is, so that a sample drawn
    twice is not paired with itself. A resample holds about 63 % distinct samples, so a statistic
    biased by small N (the Fréchet distance) shows its bias: its interval sits above the estimate.
    """
    import inspect

    if resample not in ("both", "real", "fake"):
        raise ValueError(f"resample must be 'both', 'real' or 'fake', not {resample!r}")
    _check_bootstrap(n_boot, level)
    takes_ids = "real_ids" in inspect.signature(statistic).parameters
    gen = torch.Generator().manual_seed(seed)
    replicates = []
    for _ in range(n_boot):
        i = torch.randint(len(real), (len(real),), generator=gen) if resample in ("both", "real") else None
        j = torch.randint(len(fake), (len(fake),), generator=gen) if resample in ("both", "fake") else None
        r, f = (real if i is None else real[i]), (fake if j is None else fake[j])
        replicates.append(statistic(r, f, real_ids=i, fake_ids=j) if takes_ids else statistic(r, f))
    return _percentiles(statistic(real, fake), replicates, level)


def bootstrap_mean(values: torch.Tensor, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> Interval:
    """The mean of per-sample ``values`` (N,) with its bootstrap percentile interval (resampling the
    N values with replacement, ``n_boot`` times, from a generator seeded with ``seed``)."""
    _check_bootstrap(n_boot, level)
    v = values.double().flatten()
    gen = torch.Generator().manual_seed(seed)
    rows = max(1, 2 ** 22 // len(v))  # replicates drawn at once: at most 4M indices in memory
    means = torch.cat([v[torch.randint(len(v), (min(rows, n_boot - done), len(v)), generator=gen)].mean(1)
                       for done in range(0, n_boot, rows)])
    return _percentiles(float(v.mean()), means, level)


def judge_metrics(real_features: torch.Tensor, fake_features: torch.Tensor, n_boot: int = 20, k: int = 5,
                  kid_subsets: int = 10, kid_subset_size: int = 1000, seed: int = 0) -> dict[str, Interval]:
    """Every lesson-07 metric of two feature sets with its 95 % bootstrap interval.

    Fréchet distance and KID (mean over ``kid_subsets`` subsets): both sets resampled, ``n_boot``
    times. Precision, recall, density and coverage are means of per-sample values over one set
    (:func:`prdc` with ``per_sample=True``): their intervals resample those values (1,000 times),
    the other set held fixed, so they show the noise of the averaged set only.
    """
    out = {"frechet_distance": bootstrap_interval(frechet_distance, real_features, fake_features, n_boot, seed=seed)}

    def kid_mean(real, fake, real_ids=None, fake_ids=None):
        return kid(real, fake, kid_subsets, kid_subset_size, seed, real_ids, fake_ids)[0]

    out["kid"] = bootstrap_interval(kid_mean, real_features, fake_features, n_boot, seed=seed)
    for name, values in prdc(real_features, fake_features, k, per_sample=True).items():
        out[name] = bootstrap_mean(values, seed=seed)
    return out


def truncated_normal(n: int, dim: int, threshold: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Latent vectors (n, dim) from N(0, I) truncated to [-threshold, threshold] in each coordinate
    (values outside are drawn again): the truncation trick (Brock et al. 2019)."""
    if not threshold > 0:
        raise ValueError(f"threshold must be > 0, not {threshold!r} (use torch.randn for no truncation)")
    z = torch.randn(n, dim, generator=generator)
    while (outside := z.abs() > threshold).any():
        z[outside] = torch.randn(int(outside.sum()), generator=generator)
    return z


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m gancourse.metrics")
    parser.add_argument("command", choices=["train"], help="train the MNIST judge and save its weights")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(train_judge(epochs=args.epochs, seed=args.seed), indent=2))
