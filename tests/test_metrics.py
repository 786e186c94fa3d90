import math

import numpy as np
import pytest
import torch
from scipy import linalg

from gancourse import metrics


def gaussian_features(mean, cov, n, seed):
    gen = torch.Generator().manual_seed(seed)
    chol = torch.linalg.cholesky(torch.as_tensor(cov, dtype=torch.float64))
    return torch.as_tensor(mean, dtype=torch.float64) + torch.randn(n, len(mean), generator=gen, dtype=torch.float64) @ chol.T


def test_frechet_distance_closed_form_equal_covariances():
    # equal covariances: the distance is ||μa - μb||²
    cov = np.diag([1.0, 2.0, 0.5])
    a = gaussian_features([0, 0, 0], cov, 200_000, 0)
    b = gaussian_features([1, 2, 0], cov, 200_000, 1)
    assert metrics.frechet_distance(a, b) == pytest.approx(5.0, abs=0.05)


def test_frechet_distance_closed_form_known_covariances():
    # commuting diagonal covariances: Tr(Σa + Σb - 2 (ΣaΣb)^½) = Σ (√a_i - √b_i)²
    a = gaussian_features([0, 0], np.diag([4.0, 1.0]), 400_000, 2)
    b = gaussian_features([0, 0], np.diag([1.0, 9.0]), 400_000, 3)
    assert metrics.frechet_distance(a, b) == pytest.approx((2 - 1) ** 2 + (1 - 3) ** 2, rel=0.02)


def test_frechet_distance_agrees_with_scipy_and_is_zero_for_identical_sets():
    gen = torch.Generator().manual_seed(4)
    a, b = torch.randn(500, 8, generator=gen), torch.randn(500, 8, generator=gen) * 1.5 + 0.3
    ca, cb = np.cov(a.numpy().T), np.cov(b.numpy().T)
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum().item() + np.trace(ca + cb - 2 * linalg.sqrtm(ca @ cb).real)
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-4)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_refuses_too_few_samples():
    with pytest.raises(ValueError, match="more samples than feature dimensions"):
        metrics.frechet_distance(torch.randn(64, 64), torch.randn(500, 64))


def test_histogram_kl_and_confidence():
    probs = torch.eye(10)[torch.tensor([3] * 8 + [5, 5])]
    hist = metrics.digit_histogram(probs)
    assert hist[3] == 0.8 and hist[5] == 0.2 and hist.sum() == 1
    assert metrics.kl_to_uniform(torch.full((10,), 0.1)) == pytest.approx(0.0, abs=1e-6)
    assert metrics.kl_to_uniform(torch.eye(10)[0]) == pytest.approx(math.log(10))
    assert metrics.confident_share(torch.tensor([[0.95, 0.05], [0.6, 0.4]])) == 0.5


def test_shipped_weights_are_verified(tmp_path, monkeypatch):
    judge = metrics.load_judge()
    assert sum(p.numel() for p in judge.parameters()) < 250_000
    assert metrics._weights_path().stat().st_size < 1_000_000
    broken = tmp_path / "mnist_judge.pt"
    broken.write_bytes(metrics._weights_path().read_bytes()[:-10] + b"0123456789")
    monkeypatch.setattr(metrics, "_weights_path", lambda: broken)
    with pytest.raises(RuntimeError, match="SHA-256"):
        metrics.load_judge()


def test_judge_accuracy_on_mnist_test_set(mnist_root):
    from gancourse.data import load_mnist

    images, labels = load_mnist(train=False, root=mnist_root)
    assert metrics.test_accuracy(metrics.load_judge(), images, labels) >= 0.99


def test_reference_distances(mnist_root):
    """Real test images are close to real training images; noise is far."""
    from gancourse.data import load_mnist

    judge = metrics.load_judge()
    train, _ = load_mnist(train=True, root=mnist_root)
    test, _ = load_mnist(train=False, root=mnist_root)
    real = judge.embed(train[:5000])[0]
    report = metrics.judge_report(test[:5000], judge, real)
    noise = torch.rand(5000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    noise_report = metrics.judge_report(noise, judge, real)
    assert report["frechet_distance"] < 5 and noise_report["frechet_distance"] > 100
    assert report["kl_to_uniform"] < 0.01 and report["confident_share"] > 0.95


def test_jensen_shannon_bounds_and_symmetry():
    p, q = torch.tensor([0.2, 0.8, 0.0]), torch.tensor([0.5, 0.25, 0.25])
    assert metrics.jensen_shannon(p, q) == pytest.approx(metrics.jensen_shannon(q, p).item())
    assert 0 < metrics.jensen_shannon(p, q) < math.log(2)
    assert metrics.jensen_shannon(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])) == pytest.approx(math.log(2))


def test_judge_curve_scores_each_snapshot_outside_training_time():
    from gancourse.models import MLPDiscriminator, MLPGenerator
    from gancourse.training import Trainer, TrainConfig

    judge = metrics.load_judge()
    real = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    curve = metrics.JudgeCurve(judge, judge.embed(real)[0], n=100,
                               extra=lambda trainer, samples: {"mean_pixel": samples.mean().item()})
    trainer = Trainer(MLPGenerator(hidden=(32,)), MLPDiscriminator(hidden=(32,)), real,
                      TrainConfig(batch_size=16, snapshot_every=2, log_every=1), "cpu", on_snapshot=curve)
    trainer.train(4, progress=False)
    assert curve.column("step") == [0, 2, 4]
    curve(trainer)  # the "once more at the end" call, after a run that ended on a snapshot
    assert curve.column("step") == [0, 2, 4]
    row = curve.rows[-1]
    assert row["n"] == 100 and len(row["histogram"]) == 10 and row["frechet_distance"] > 0
    assert -1 <= row["mean_pixel"] <= 1 and row["seconds"] <= trainer.seconds


def _tiny_mnist_trainer(snapshot_every: int, on_snapshot=None):  # noqa: D103
    from gancourse.models import MLPDiscriminator, MLPGenerator
    from gancourse.training import Trainer, TrainConfig

    real = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    trainer = Trainer(MLPGenerator(hidden=(32,)), MLPDiscriminator(hidden=(32,)), real,
                      TrainConfig(batch_size=16, snapshot_every=snapshot_every, log_every=1), "cpu",
                      on_snapshot=on_snapshot)
    return trainer, real


def test_judged_run_scores_start_snapshots_and_end_once_each():
    judge = metrics.load_judge()
    seen = []
    record = lambda trainer: seen.append(trainer.step)  # noqa: E731
    trainer, real = _tiny_mnist_trainer(snapshot_every=2, on_snapshot=record)
    features = judge.embed(real)[0]
    curve = metrics.judged_run(trainer, judge, features, steps=5, n=100, progress=False)
    assert curve.column("step") == [0, 2, 4, 5]  # the start, every snapshot, the end
    assert seen == [0, 2, 4]  # the trainer's own callbacks still run beside the judge
    assert trainer.on_snapshot == [record]  # the judge was there for that call only
    # continuing the same trainer: its start is scored explicitly (train() snapshots only step 0)
    more = metrics.judged_run(trainer, judge, features, steps=2, n=100, progress=False)
    assert more.column("step") == [5, 6, 7]
    assert all(row["n"] == 100 and 0 < row["frechet_distance"] for row in more.rows)
