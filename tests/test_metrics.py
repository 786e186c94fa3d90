import math
import warnings

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


def test_row_at_takes_the_last_row_at_or_before_the_step_and_says_when_it_is_earlier(capsys):
    rows = [{"step": 0, "fd": 9.0}, {"step": 50, "fd": 5.0}, {"step": 100, "fd": 3.0}, {"step": 130, "fd": 2.0}]
    assert metrics.row_at(rows, 100) is rows[2]
    assert capsys.readouterr().out == ""  # the step asked for: nothing to say
    assert metrics.row_at(rows, 1000) is rows[3]  # a run stopped at step 130 (Ctrl-C or a time budget)
    out = capsys.readouterr().out
    assert "no row at step 1,000" in out and "end at step 130" in out and "step 130 is compared" in out
    assert metrics.row_at(rows, 99) is rows[1]
    out = capsys.readouterr().out
    assert "no row at step 99" in out and "step 50 is compared" in out
    with pytest.raises(ValueError, match="no row at or before step 7.*first row is at step 10"):
        metrics.row_at([{"step": 10}], 7)
    with pytest.raises(ValueError, match="no rows"):
        metrics.row_at([], 7)


# --- lesson 07: precision, recall, density, coverage, KID, bootstrap intervals -----------------

def points(*xs):
    return torch.tensor(xs, dtype=torch.float64)[:, None]


@pytest.mark.parametrize("k", [1, 2])
def test_prdc_on_a_case_computed_by_hand(k):
    # real 0, 1, 3; fake 0.5, 2.5, 10. k = 1: real radii 1, 1, 2; k = 2: 3, 2, 3. The fake at 10 lies
    # in no real ball; 0.5 lies in 2 (k=1) or 3 (k=2) balls, 2.5 in 1 or 3; every real point lies
    # within a fake ball (fake radii k=1: 2, 2, 7.5) and has a fake inside its own ball.
    got = metrics.prdc(points(0, 1, 3), points(0.5, 2.5, 10), k=k)
    density = {1: (2 + 1) / 3, 2: (3 + 3) / 6}[k]
    assert got == pytest.approx({"precision": 2 / 3, "recall": 1.0, "density": density, "coverage": 1.0})


def test_prdc_identical_far_and_chunked():
    gen = torch.Generator().manual_seed(0)
    real = torch.randn(300, 8, generator=gen, dtype=torch.float64)
    same = metrics.prdc(real, real.clone())
    assert same == pytest.approx({"precision": 1.0, "recall": 1.0, "density": 1.0, "coverage": 1.0})
    far = metrics.prdc(real, real + 100)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    fake = torch.randn(250, 8, generator=gen, dtype=torch.float64) * 1.3
    assert metrics.prdc(real, fake, block=7) == metrics.prdc(real, fake)  # blocks change nothing


def test_knn_radii_leave_out_self():
    assert metrics.knn_radii(points(0, 1, 3, 7), k=1).tolist() == [1, 1, 2, 4]
    assert metrics.knn_radii(points(0, 1, 3, 7), k=2).tolist() == [3, 2, 3, 6]
    assert metrics.knn_radii(points(0, 0, 3), k=1).tolist() == [0, 0, 3]  # a duplicate is a neighbour at 0
    with pytest.raises(ValueError, match="k = 3 needs more than k samples"):
        metrics.knn_radii(points(0, 1, 2), k=3)


def test_nearest_neighbours_agree_with_brute_force():
    gen = torch.Generator().manual_seed(1)
    queries, pool = torch.randn(50, 1, 4, 4, generator=gen), torch.randn(70, 1, 4, 4, generator=gen)
    distances, indices = metrics.nearest_neighbours(queries, pool, block=8)
    brute = torch.cdist(queries.flatten(1).double(), pool.flatten(1).double())
    assert torch.equal(indices, brute.argmin(1)) and torch.allclose(distances, brute.min(1).values)
    own, _ = metrics.nearest_neighbours(pool, pool, exclude_self=True)
    assert (own > 0).all() and torch.allclose(own, metrics.knn_radii(pool.flatten(1), k=1))


def test_mmd2_unbiased_by_hand_and_kid_subsets():
    x, y = points(0, 1, 2), points(1, 3)
    k = lambda a, b: (a * b + 1) ** 3  # noqa: E731  d = 1
    within_x = (k(0, 1) + k(0, 2) + k(1, 2)) * 2 / 6
    within_y = k(1, 3) * 2 / 2
    cross = sum(k(a, b) for a in (0, 1, 2) for b in (1, 3)) / 6
    assert metrics.mmd2_unbiased(x, y) == pytest.approx(within_x + within_y - 2 * cross)
    # subsets are at most the smaller set; one subset holding both whole sets is the plain estimate
    y3 = points(1, 3, 4)
    assert metrics.kid(x, y3, subsets=1, subset_size=10) == pytest.approx((metrics.mmd2_unbiased(x, y3), 0.0))
    assert metrics.kid(x, y3, subsets=3, subset_size=2)[1] > 0
    # with ids, the pair of copies of sample 0 leaves the within-set mean; the cross mean keeps all
    copies = (k(0, 2) + within_y - 2 * (2 * k(0, 1) + 2 * k(0, 3) + k(2, 1) + k(2, 3)) / 6)
    assert metrics.mmd2_unbiased(points(0, 0, 2), y, x_ids=torch.tensor([0, 0, 2])) == pytest.approx(copies)


def test_kid_is_unbiased_where_the_biased_mmd_is_not():
    gen = torch.Generator().manual_seed(2)
    unbiased, biased = [], []
    for _ in range(200):
        a, b = torch.randn(40, 4, generator=gen, dtype=torch.float64), torch.randn(40, 4, generator=gen, dtype=torch.float64)
        unbiased.append(metrics.mmd2_unbiased(a, b))
        biased.append(float(metrics.polynomial_kernel(a, a).mean() + metrics.polynomial_kernel(b, b).mean()
                            - 2 * metrics.polynomial_kernel(a, b).mean()))
    unbiased, biased = torch.tensor(unbiased), torch.tensor(biased)
    standard_error = unbiased.std() / math.sqrt(len(unbiased))
    assert abs(unbiased.mean()) < 3 * standard_error  # the same distribution: 0 in expectation
    assert biased.mean() > 10 * standard_error  # the diagonal adds a positive bias of order 1/N


def test_bootstrap_interval_of_a_mean_matches_the_normal_closed_form():
    gen = torch.Generator().manual_seed(3)
    fake = torch.randn(2000, 1, generator=gen, dtype=torch.float64)
    mean = lambda real, fake: float(fake.mean())  # noqa: E731
    interval = metrics.bootstrap_interval(mean, fake[:10], fake, n_boot=2000, resample="fake")
    half_width = 1.96 * float(fake.std()) / math.sqrt(len(fake))
    assert interval.value == float(fake.mean())
    assert interval.low == pytest.approx(interval.value - half_width, abs=0.15 * half_width)
    assert interval.high == pytest.approx(interval.value + half_width, abs=0.15 * half_width)
    again = metrics.bootstrap_interval(mean, fake[:10], fake, n_boot=2000, resample="fake")
    assert again == interval and f"{interval:.2f}".count("[") == 1
    with pytest.raises(ValueError, match="resample"):
        metrics.bootstrap_interval(mean, fake, fake, resample="neither")


def test_bootstrap_of_kid_tells_copies_apart_and_judge_metrics():
    """KID told which rows are one sample drawn twice stays centred on 0 for one distribution;
    per-sample values of prdc average to prdc; every interval holds its estimate's neighbourhood."""
    gen = torch.Generator().manual_seed(4)
    real, fake = torch.randn(300, 4, generator=gen), torch.randn(300, 4, generator=gen)
    seen = []

    def kid_mean(real, fake, real_ids=None, fake_ids=None):
        seen.append(real_ids is not None and fake_ids is not None)
        return metrics.kid(real, fake, subsets=2, subset_size=300, real_ids=real_ids, fake_ids=fake_ids)[0]

    interval = metrics.bootstrap_interval(kid_mean, real, fake, n_boot=60)
    assert seen == [True] * 60 + [False]
    assert interval.low < 0 < interval.high  # the same distribution: 0 inside
    per_sample = metrics.prdc(real, fake, per_sample=True)
    assert {name: float(v.mean()) for name, v in per_sample.items()} == metrics.prdc(real, fake)
    assert [len(per_sample[name]) for name in ("precision", "density", "recall", "coverage")] == [300] * 4
    table = metrics.judge_metrics(real, fake, n_boot=5, kid_subset_size=100)
    assert list(table) == ["frechet_distance", "kid", "precision", "recall", "density", "coverage"]
    for name in ("precision", "recall", "density", "coverage"):
        assert table[name].low <= table[name].value <= table[name].high, name
    assert table["frechet_distance"].low > 0


def test_bootstrap_mean_is_the_percentile_interval_of_resampled_means():
    values = torch.tensor([0.0, 0.0, 0.0, 1.0])
    interval = metrics.bootstrap_mean(values, n_boot=4000, level=0.8)
    assert interval.value == 0.25 and interval.low == 0.0 and interval.high == 0.5  # means are k/4
    with pytest.raises(ValueError, match="n_boot >= 2"):
        metrics.bootstrap_mean(values, n_boot=1)


def test_truncated_normal_stays_inside_and_is_seeded():
    z = metrics.truncated_normal(5000, 8, 0.5, torch.Generator().manual_seed(0))
    assert z.shape == (5000, 8) and z.abs().max() <= 0.5 and z.std() < 0.3
    assert torch.equal(z, metrics.truncated_normal(5000, 8, 0.5, torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError, match="threshold"):
        metrics.truncated_normal(4, 2, 0.0)


# cross-checks against well-kept implementations (test-only dependencies: prdc, torchmetrics)

def _judge_features(mnist_root, n):
    """The judge's features of n training images and of n blurred test images, float64."""
    from gancourse.data import load_mnist

    judge = metrics.load_judge()
    train, _ = load_mnist(train=True, root=mnist_root)
    test, _ = load_mnist(train=False, root=mnist_root)
    blurred = torch.nn.functional.avg_pool2d(test[:n], 3, stride=1, padding=1, count_include_pad=False)
    return judge, train[:n], blurred, judge.embed(train[:n])[0].double(), judge.embed(blurred)[0].double()


def test_prdc_agrees_with_the_prdc_package(mnist_root, capsys):
    prdc = pytest.importorskip("prdc")
    _, _, _, real, fake = _judge_features(mnist_root, 1500)
    gen = torch.Generator().manual_seed(5)
    for a, b, k in [(real, fake, 5), (real, fake[:900], 3), (torch.randn(400, 16, generator=gen, dtype=torch.float64),
                                                            torch.randn(300, 16, generator=gen, dtype=torch.float64) + 0.3, 5)]:
        theirs = prdc.compute_prdc(a.numpy(), b.numpy(), nearest_k=k)
        ours = metrics.prdc(a, b, k=k, block=256)
        for name in ours:
            assert ours[name] == pytest.approx(float(theirs[name]), abs=1e-4), name


def test_kid_agrees_with_torchmetrics_using_the_judge(mnist_root):
    kid_module = pytest.importorskip("torchmetrics.image.kid")
    judge, real_images, fake_images, real, fake = _judge_features(mnist_root, 1200)
    extractor = torch.nn.Sequential(judge.features, metrics_double()).eval()
    for subsets, size in [(5, 1000), (1, 1200)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "will save all extracted features in buffer"
            theirs = kid_module.KernelInceptionDistance(feature=extractor, subsets=subsets, subset_size=size)
        with torch.no_grad():
            theirs.update(real_images, real=True)
            theirs.update(fake_images, real=False)
        torch.manual_seed(7)  # torchmetrics draws its subsets from the global generator
        mean, std = (float(v) for v in theirs.compute())
        ours = metrics.kid(real, fake, subsets=subsets, subset_size=size, seed=7)
        assert ours[0] == pytest.approx(mean, rel=1e-4, abs=1e-8) and ours[0] > 0
        assert ours[1] == pytest.approx(std, rel=1e-4, abs=1e-8)


def metrics_double():
    class Double(torch.nn.Module):
        def forward(self, x):
            return x.double()
    return Double()


# --- lesson 06: requested-digit accuracy, confusion matrix, FD per digit ----------------------------

def test_requested_accuracy_and_confusion_on_a_case_computed_by_hand():
    requested = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 4, 5, 6, 7, 8, 9])
    judged = torch.tensor([0, 0, 1, 1, 7, 2, 2, 2, 3, 3, 4, 5, 6, 7, 8, 4])
    probs = torch.nn.functional.one_hot(judged, 10).float() * 0.9 + 0.01
    overall, per_digit = metrics.requested_accuracy(probs, requested)
    assert overall == pytest.approx(12 / 16)
    assert per_digit[:3].tolist() == pytest.approx([2 / 3, 1 / 2, 3 / 4]) and per_digit[9] == 0
    matrix = metrics.confusion_matrix(probs, requested)
    assert matrix.sum() == 16 and matrix.trace() == 12
    assert matrix[0, 1] == 1 and matrix[1, 7] == 1 and matrix[9, 4] == 1 and matrix[4, 9] == 0  # row: asked
    assert matrix.sum(1).tolist() == torch.bincount(requested, minlength=10).tolist()


def test_conditional_report_of_real_digits(mnist_root):
    """Real test digits 'asked for' as their own labels: accuracy is the judge's test accuracy; FD per
    digit against the same digits is 0; asked for the wrong digit, accuracy is 0 and FD is large."""
    from gancourse import data

    images, labels = data.load_mnist(train=False, root=mnist_root)
    judge = metrics.load_judge()
    right = metrics.conditional_report(images[:3000], labels[:3000], judge, images[:3000], labels[:3000])
    assert right["accuracy"] >= 0.99 and min(right["accuracy_per_digit"]) >= 0.97
    assert max(right["frechet_distance_per_digit"]) < 1e-3 and right["frechet_distance"] < 1e-3
    assert right["n_per_digit"] == torch.bincount(labels[:3000], minlength=10).tolist()
    shifted = metrics.conditional_report(images[:3000], (labels[:3000] + 1) % 10, judge, images[:3000], labels[:3000])
    assert shifted["accuracy"] < 0.01 and min(shifted["frechet_distance_per_digit"]) > 10
    assert shifted["frechet_distance"] < 1e-3  # pooled, the same images: only per digit shows the mix-up
