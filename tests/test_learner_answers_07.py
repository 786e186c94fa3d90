"""Learner answers to lesson 07's four practice exercises, each with the verdict the exercise text gives it.

Every answer below was written from exercises/07_judging_gans.ipynb's texts and lesson 07
(notebooks/07_judging_gans.ipynb), as a learner who knows PyTorch would, without looking at how
the checks work (nothing under solutions/ or gancourse/checks/ was read). Correct answers were
verified independently before any check was called: precision against `metrics.prdc` and Naeem
et al.'s `prdc` package, KID against `metrics.mmd2_unbiased` and the formula in float64 loops,
the bootstrap interval against `metrics.bootstrap_mean` with 200,000 replicates (within 5 % of its
width, as the text says). Wrong answers carry a `mistake` string saying what is wrong with them
and a `hint`: a distinctive part of the hint the check should give for that mistake. Where the
check's message names the mistake correctly in other words, the hint is a part of that message;
no verdict was ever changed to what the checks do.

Exercise 4 (a decision) is judged from the table its cell prints
(`checks.lesson07.metric_table()`):

    generator frechet_distance   kid   precision  recall  density  coverage  nn_ratio
    A                     2.05  0.83       0.951   0.938    0.964      0.94      0.99
    B                      155  99.8       0.716       0    0.266     0.049      1.77
    C                     2.08   0.7       0.941   0.952    0.913     0.926         0
    D                      197   140       0.945   0.329      0.9     0.337         0

Collapsed: D (precision 0.945 and density 0.9 stay, recall 0.329 and coverage 0.337 fall: a
third of the data). Noisy: B (precision 0.716, density 0.266: off the data; nn_ratio 1.77: farther
from the training set than test images). Memorising: C (real-data numbers everywhere, nn_ratio 0).
(D's nn_ratio is 0 too: lesson 07 builds its collapsed generator from training images of three
digits; but D's recall rules it out as "all the data, copied", and one letter per role.)

The single parametrized test calls the exercise's check exactly as the notebook's check cell
does: a "pass" answer must not raise, a "fail" answer must raise AssertionError (any other
exception type, or no exception, fails the test) whose hint (the text after "Hint:", or the whole
message where it has no such line) contains the case's `hint`.

    OMP_NUM_THREADS=1 GANCOURSE_QUICK=1 GANCOURSE_DATA=... pytest -q tests/test_learner_answers_07.py -p no:cacheprovider
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gancourse import metrics

pytest.register_assert_rewrite("learner_cases")  # its asserts report as a test's own do
from learner_cases import Case, Registry, assert_verdict  # noqa: E402  (the shared harness, tests/learner_cases.py)

# Case.answer: the learner's function, or (collapsed, noisy, memorising) for Exercise 4;
# decision=True (Exercise 4): the answer is the tuple of the three variables the check cell passes.
registry = Registry()
CASES: list[Case] = registry.cases
case, ok, bad = registry.case, registry.ok, registry.bad


UNCHANGED = "leave the tensors they are given unchanged"  # the rule every check applies (notebook's intro)


# =============================================================================================
# 07 · Exercise 1: knn_precision(real (N, d), fake (M, d), k) -> share of fakes inside a real ball
#      radius r_i = distance to the k-th nearest *other* real sample; inside means distance < r_i
# =============================================================================================
C = "check_knn_precision"


@ok(C, "prec-cdist-kthvalue-k-plus-1", "cdist, kthvalue(k + 1) (the 0 to itself is the smallest), any/mean")
def _(real, fake, k):
    radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
    return (torch.cdist(fake, real) < radii[None, :]).any(dim=1).float().mean()


@ok(C, "prec-diag-inf-kthvalue", "the diagonal set to inf on the new distance matrix, then kthvalue(k)")
def _(real, fake, k):
    d = torch.cdist(real, real)
    d.fill_diagonal_(float("inf"))
    radii = d.kthvalue(k, dim=1).values
    inside = torch.cdist(fake, real) < radii
    return inside.any(1).sum().item() / len(fake)


@ok(C, "prec-topk-smallest", "topk(k + 1, largest=False), last column")
def _(real, fake, k):
    radii = torch.cdist(real, real).topk(k + 1, dim=1, largest=False).values[:, -1]
    return float((torch.cdist(fake, real) < radii.unsqueeze(0)).any(dim=1).double().mean())


@ok(C, "prec-sort-index-k", "sort each row, column k (column 0 is the sample itself)")
def _(real, fake, k):
    radii = torch.sort(torch.cdist(real, real), dim=1).values[:, k]
    hits = (torch.cdist(fake, real) - radii).lt(0).any(1)
    return hits.float().mean()


@ok(C, "prec-python-loops", "plain Python loops over points, math.dist, a list sorted without the point itself")
def _(real, fake, k):
    r, f = real.tolist(), fake.tolist()
    radii = []
    for i, a in enumerate(r):
        others = sorted(math.dist(a, b) for j, b in enumerate(r) if j != i)
        radii.append(others[k - 1])
    inside = 0
    for p in f:
        if any(math.dist(p, a) < radius for a, radius in zip(r, radii)):
            inside += 1
    return inside / len(f)


@ok(C, "prec-numpy-partition", "numpy: broadcast norms in float64, np.partition for the (k+1)-th smallest")
def _(real, fake, k):
    r, f = real.detach().cpu().numpy().astype(np.float64), fake.detach().cpu().numpy().astype(np.float64)
    drr = np.linalg.norm(r[:, None, :] - r[None, :, :], axis=-1)
    radii = np.partition(drr, k, axis=1)[:, k]
    dfr = np.linalg.norm(f[:, None, :] - r[None, :, :], axis=-1)
    return float(np.mean(np.any(dfr < radii[None, :], axis=1)))


@ok(C, "prec-float64-explicit-norms", "float64, explicit differences and sqrt, eye mask of inf")
def _(real, fake, k):
    r, f = real.double(), fake.double()
    drr = ((r[:, None] - r[None]) ** 2).sum(-1).sqrt()
    drr = drr.masked_fill(torch.eye(len(r), dtype=torch.bool), math.inf)
    radii = drr.kthvalue(k, 1).values
    dfr = ((f[:, None] - r[None]) ** 2).sum(-1).sqrt()
    return (dfr < radii).any(1).double().mean()


@ok(C, "prec-ratio-min", "the smallest distance-to-radius ratio per fake sample, below 1")
def _(real, fake, k):
    radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
    ratio = torch.cdist(fake, real) / radii
    return (ratio.min(dim=1).values < 1).float().mean()


@ok(C, "prec-numpy-float64-scalar", "numpy throughout, np.float64 returned as it comes (a float subclass)")
def _(real, fake, k):
    r, f = real.numpy(), fake.numpy()
    drr = np.sqrt(((r[:, None, :] - r[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(drr, np.inf)
    radii = np.sort(drr, axis=1)[:, k - 1]
    dfr = np.sqrt(((f[:, None, :] - r[None, :, :]) ** 2).sum(-1))
    return (dfr < radii).any(axis=1).mean()


@bad(C, "prec-self-neighbour", "kthvalue(k) on the full distance matrix: each real sample counted as its own "
     "neighbour, so the radius is the (k-1)-th other sample",
     hint="counted itself as its own nearest neighbour")
def _(real, fake, k):
    radii = torch.cdist(real, real).kthvalue(k, dim=1).values
    return (torch.cdist(fake, real) < radii).any(1).float().mean()


@bad(C, "prec-k-plus-1-other", "diagonal set to inf and then kthvalue(k + 1): the (k+1)-th other sample, "
     "balls one neighbour too large", hint="the ball reaches the (k+1)-th neighbour")
def _(real, fake, k):
    d = torch.cdist(real, real)
    d.fill_diagonal_(float("inf"))
    radii = d.kthvalue(k + 1, dim=1).values
    return (torch.cdist(fake, real) < radii).any(1).float().mean()


@bad(C, "prec-less-or-equal", "distance <= r_i: the text says inside means distance < r_i (strictly)",
     hint="strictly")
def _(real, fake, k):
    radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
    return (torch.cdist(fake, real) <= radii).any(1).float().mean()


@bad(C, "prec-recall-swapped", "computes recall: balls around the fake samples, share of real samples inside one",
     hint="this is recall")
def _(real, fake, k):
    radii = torch.cdist(fake, fake).kthvalue(k + 1, dim=1).values
    return (torch.cdist(real, fake) < radii).any(1).float().mean()


@bad(C, "prec-coverage", "computes coverage: the share of real balls that hold a fake sample", hint="coverage")
def _(real, fake, k):
    radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
    return (torch.cdist(real, fake).min(1).values < radii).float().mean()


@bad(C, "prec-density", "computes density: balls holding each fake, counted with repeats, / (k * M)",
     hint="density")
def _(real, fake, k):
    radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
    return (torch.cdist(fake, real) < radii).sum(1).float().mean() / k


@bad(C, "prec-nearest-ball-only", "tests each fake against the ball of its nearest real sample only; a farther "
     "real sample's larger ball can hold it", hint="nearest real sample")
def _(real, fake, k):
    radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
    nearest = torch.cdist(fake, real).min(1)
    return (nearest.values < radii[nearest.indices]).float().mean()


@bad(C, "prec-topk-largest", "topk without largest=False: the (k+1)-th *farthest* real sample, huge balls",
     hint="largest=False")
def _(real, fake, k):
    radii = torch.cdist(real, real).topk(k + 1, dim=1).values[:, -1]
    return (torch.cdist(fake, real) < radii).any(1).float().mean()


@bad(C, "prec-count-not-share", "returns the number of fake samples inside, not the share", hint="this is a count")
def _(real, fake, k):
    radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
    return (torch.cdist(fake, real) < radii).any(1).sum()


@bad(C, "prec-percent", "returns the share as a percentage (x 100)", hint="percent")
def _(real, fake, k):
    radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
    return 100 * (torch.cdist(fake, real) < radii).any(1).float().mean()


@bad(C, "prec-inplace-centre", "centres both sets in place (sub_ of the real mean): distances are unchanged, "
     "but the caller's tensors are modified", hint=UNCHANGED)
def _(real, fake, k):
    centre = real.mean(0)
    real.sub_(centre)
    fake.sub_(centre)
    radii = torch.cdist(real, real).kthvalue(k + 1, dim=1).values
    return (torch.cdist(fake, real) < radii).any(1).float().mean()


# =============================================================================================
# 07 · Exercise 2: kid(x (m, d), y (n, d)) -> unbiased MMD² with k(a, b) = (a·b / d + 1)³, m != n
# =============================================================================================
C = "check_kid"


def _kernel(a, b):
    return (a @ b.T / a.shape[1] + 1) ** 3


@ok(C, "kid-sum-minus-diag", "kernel matrices, sum minus trace over m(m - 1)")
def _(x, y):
    m, n = len(x), len(y)
    kxx, kyy, kxy = _kernel(x, x), _kernel(y, y), _kernel(x, y)
    return ((kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (n * (n - 1))
            - 2 * kxy.mean())


@ok(C, "kid-offdiag-mask", "boolean ~eye masks, mean of the off-diagonal entries")
def _(x, y):
    d = x.shape[1]
    kxx = (x @ x.T / d + 1).pow(3)
    kyy = (y @ y.T / d + 1).pow(3)
    kxy = (x @ y.T / d + 1).pow(3)
    off_x = ~torch.eye(len(x), dtype=torch.bool)
    off_y = ~torch.eye(len(y), dtype=torch.bool)
    return float(kxx[off_x].mean() + kyy[off_y].mean() - 2 * kxy.mean())


@ok(C, "kid-python-loops", "plain Python loops over index pairs, i != j")
def _(x, y):
    X, Y = x.tolist(), y.tolist()
    d = len(X[0])

    def k(a, b):
        return (sum(p * q for p, q in zip(a, b)) / d + 1) ** 3

    m, n = len(X), len(Y)
    sxx = sum(k(X[i], X[j]) for i in range(m) for j in range(m) if i != j)
    syy = sum(k(Y[i], Y[j]) for i in range(n) for j in range(n) if i != j)
    sxy = sum(k(a, b) for a in X for b in Y)
    return sxx / (m * (m - 1)) + syy / (n * (n - 1)) - 2 * sxy / (m * n)


@ok(C, "kid-numpy", "numpy, fill_diagonal on copies of the kernel matrices")
def _(x, y):
    X, Y = x.detach().cpu().numpy(), y.detach().cpu().numpy()
    d = X.shape[1]
    kxx, kyy, kxy = (X @ X.T / d + 1) ** 3, (Y @ Y.T / d + 1) ** 3, (X @ Y.T / d + 1) ** 3
    np.fill_diagonal(kxx, 0)
    np.fill_diagonal(kyy, 0)
    m, n = len(X), len(Y)
    return float(kxx.sum() / (m * (m - 1)) + kyy.sum() / (n * (n - 1)) - 2 * kxy.sum() / (m * n))


@ok(C, "kid-einsum-triu", "einsum for the Gram matrices, the strict upper triangle doubled")
def _(x, y):
    d = x.size(1)
    kxx = (torch.einsum("id,jd->ij", x, x) / d + 1) ** 3
    kyy = (torch.einsum("id,jd->ij", y, y) / d + 1) ** 3
    kxy = (torch.einsum("id,jd->ij", x, y) / d + 1) ** 3
    m, n = len(x), len(y)
    within_x = 2 * torch.triu(kxx, diagonal=1).sum() / (m * (m - 1))
    within_y = 2 * torch.triu(kyy, diagonal=1).sum() / (n * (n - 1))
    return within_x + within_y - 2 * kxy.sum() / (m * n)


@ok(C, "kid-diag-from-norms", "diagonal k(x_i, x_i) from the squared norms, subtracted from the full sum")
def _(x, y):
    d = x.shape[-1]
    m, n = x.shape[0], y.shape[0]
    diag_x = (x.pow(2).sum(1) / d + 1) ** 3
    diag_y = (y.pow(2).sum(1) / d + 1) ** 3
    xx = ((x @ x.T / d + 1) ** 3).sum() - diag_x.sum()
    yy = ((y @ y.T / d + 1) ** 3).sum() - diag_y.sum()
    xy = ((x @ y.T / d + 1) ** 3).sum()
    return xx / (m * m - m) + yy / (n * n - n) - xy * 2 / (m * n)


@ok(C, "kid-package", "the package's own metrics.mmd2_unbiased (the lesson names it)")
def _(x, y):
    return metrics.mmd2_unbiased(x, y)


@bad(C, "kid-biased-diagonal", "keeps the diagonal k(x_i, x_i): the biased MMD², kernel means over m² and n²",
     hint="the biased estimate")
def _(x, y):
    return _kernel(x, x).mean() + _kernel(y, y).mean() - 2 * _kernel(x, y).mean()


@bad(C, "kid-diag-removed-divided-by-m2", "leaves the diagonal out of the sums but still divides by m² and n²",
     hint="divided by m²; m(m-1) pairs remain")
def _(x, y):
    m, n = len(x), len(y)
    kxx, kyy = _kernel(x, x), _kernel(y, y)
    return ((kxx.sum() - kxx.trace()) / m ** 2 + (kyy.sum() - kyy.trace()) / n ** 2
            - 2 * _kernel(x, y).mean())


@bad(C, "kid-no-div-d", "kernel (a·b + 1)³: forgets to divide the dot product by d", hint="/ d")
def _(x, y):
    def k(a, b):
        return (a @ b.T + 1) ** 3
    kxx, kyy = k(x, x), k(y, y)
    m, n = len(x), len(y)
    return ((kxx.sum() - kxx.trace()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (n * (n - 1))
            - 2 * k(x, y).mean())


@bad(C, "kid-no-plus-1", "kernel (a·b / d)³: forgets the + 1", hint="+ 1")
def _(x, y):
    def k(a, b):
        return (a @ b.T / a.shape[1]) ** 3
    kxx, kyy = k(x, x), k(y, y)
    m, n = len(x), len(y)
    return ((kxx.sum() - kxx.trace()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (n * (n - 1))
            - 2 * k(x, y).mean())


@bad(C, "kid-squared-kernel", "kernel to the power 2 instead of 3", hint="³")
def _(x, y):
    def k(a, b):
        return (a @ b.T / a.shape[1] + 1) ** 2
    kxx, kyy = k(x, x), k(y, y)
    m, n = len(x), len(y)
    return ((kxx.sum() - kxx.trace()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (n * (n - 1))
            - 2 * k(x, y).mean())


@bad(C, "kid-d-is-samples", "divides the dot product by the number of samples (len(a)), not the feature dimension d",
     hint="feature dimension")
def _(x, y):
    def k(a, b):
        return (a @ b.T / len(a) + 1) ** 3
    kxx, kyy = k(x, x), k(y, y)
    m, n = len(x), len(y)
    return ((kxx.sum() - kxx.trace()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (n * (n - 1))
            - 2 * k(x, y).mean())


@bad(C, "kid-cross-no-2", "cross term without its factor 2", hint="the cross term counts once")
def _(x, y):
    m, n = len(x), len(y)
    kxx, kyy = _kernel(x, x), _kernel(y, y)
    return (kxx.sum() - kxx.trace()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (n * (n - 1)) - _kernel(x, y).mean()


@bad(C, "kid-torchmetrics-poly-mmd", "torchmetrics' poly_mmd: written for m == n, it divides every term by the "
     "first set's size (m(m-1) for y's sum too, m² for the cross sum)", hint="m ≠ n")
def _(x, y):
    from torchmetrics.image.kid import poly_mmd
    return poly_mmd(x, y)


@bad(C, "kid-cross-diagonal-dropped", "drops the 'diagonal' k(x_i, y_i) of the rectangular cross matrix too, as "
     "if x_i and y_i were one sample: the cross mean keeps every pair", hint="keeps every pair")
def _(x, y):
    m, n = len(x), len(y)
    kxx, kyy, kxy = _kernel(x, x), _kernel(y, y), _kernel(x, y)
    cross = (kxy.sum() - kxy.diagonal().sum()) / (m * n - min(m, n))
    return (kxx.sum() - kxx.trace()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (n * (n - 1)) - 2 * cross


@bad(C, "kid-sqrt", "returns the MMD (square root of the estimate, clamped at 0), not MMD²", hint="square root")
def _(x, y):
    value = metrics.mmd2_unbiased(x, y)
    return math.sqrt(max(value, 0.0))


@bad(C, "kid-clamped-at-0", "clamps the estimate at 0: the unbiased estimate may be negative (the text says so)",
     hint="negative")
def _(x, y):
    m, n = len(x), len(y)
    kxx, kyy = _kernel(x, x), _kernel(y, y)
    value = (kxx.sum() - kxx.trace()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (n * (n - 1)) - 2 * _kernel(x, y).mean()
    return value.clamp_min(0)


@bad(C, "kid-inplace-scale", "divides x and y by sqrt(d) in place (x /= ...), so that a·b is a·b/d: right value, "
     "but the caller's tensors are changed", hint=UNCHANGED)
def _(x, y):
    s = math.sqrt(x.shape[1])
    x /= s
    y /= s
    m, n = len(x), len(y)
    kxx, kyy, kxy = (x @ x.T + 1) ** 3, (y @ y.T + 1) ** 3, (x @ y.T + 1) ** 3
    return (kxx.sum() - kxx.trace()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (n * (n - 1)) - 2 * kxy.mean()


@bad(C, "kid-gaussian-kernel", "a Gaussian (RBF) kernel exp(-|a-b|²/d) instead of KID's cubic polynomial",
     hint="polynomial")
def _(x, y):
    d = x.shape[1]

    def k(a, b):
        return torch.exp(-torch.cdist(a, b) ** 2 / d)
    m, n = len(x), len(y)
    kxx, kyy = k(x, x), k(y, y)
    return (kxx.sum() - kxx.trace()) / (m * (m - 1)) + (kyy.sum() - kyy.trace()) / (n * (n - 1)) - 2 * k(x, y).mean()


# =============================================================================================
# 07 · Exercise 3: bootstrap_interval(values (N,), n_boot, level, generator) -> (low, high)
#      means of N values drawn with replacement, n_boot times; (1 - level)/2 and (1 + level)/2 quantiles
# =============================================================================================
C = "check_bootstrap_interval"


@ok(C, "boot-loop-quantile", "a Python loop of n_boot resamples, torch.quantile at the two levels")
def _(values, n_boot, level, generator):
    N = len(values)
    means = torch.empty(n_boot, dtype=torch.float64)
    for b in range(n_boot):
        means[b] = values[torch.randint(N, (N,), generator=generator)].mean()
    q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64)
    low, high = torch.quantile(means, q)
    return low, high


@ok(C, "boot-vectorised", "one (n_boot, N) index matrix, mean over dim 1, a shape (2,) tensor back")
def _(values, n_boot, level, generator):
    N = values.shape[0]
    idx = torch.randint(0, N, (n_boot, N), generator=generator)
    means = values[idx].mean(dim=1)
    return torch.quantile(means, torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=means.dtype))


@ok(C, "boot-sort-index", "sorted means, indexed at the two percentile positions (nearest rank)")
def _(values, n_boot, level, generator):
    N = len(values)
    means = values[torch.randint(N, (n_boot, N), generator=generator)].mean(1).sort().values
    lo = int(round((1 - level) / 2 * (n_boot - 1)))
    hi = int(round((1 + level) / 2 * (n_boot - 1)))
    return float(means[lo]), float(means[hi])


@ok(C, "boot-numpy-percentile", "indices from the torch generator, means and np.percentile in numpy")
def _(values, n_boot, level, generator):
    v = values.cpu().numpy()
    idx = torch.randint(len(v), (n_boot, len(v)), generator=generator).numpy()
    means = v[idx].mean(axis=1)
    low, high = np.percentile(means, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)


@ok(C, "boot-kthvalue", "kthvalue at ceil(q * n_boot)")
def _(values, n_boot, level, generator):
    N = len(values)
    means = torch.stack([values[torch.randint(N, (N,), generator=generator)].mean() for _ in range(n_boot)])
    lo = max(1, math.ceil((1 - level) / 2 * n_boot))
    hi = min(n_boot, math.ceil((1 + level) / 2 * n_boot))
    return means.kthvalue(lo).values, means.kthvalue(hi).values


@ok(C, "boot-multinomial", "torch.multinomial with replacement on uniform weights, from the generator")
def _(values, n_boot, level, generator):
    N = len(values)
    weights = torch.ones(n_boot, N)
    idx = torch.multinomial(weights, N, replacement=True, generator=generator)
    means = values[idx].mean(1)
    alpha = 1 - level
    return torch.quantile(means, alpha / 2), torch.quantile(means, 1 - alpha / 2)


@ok(C, "boot-chunked-float64-nearest", "replicates drawn in chunks of 1,000, quantile(interpolation='nearest')")
def _(values, n_boot, level, generator):
    v = values.double()
    N = len(v)
    chunks = []
    for start in range(0, n_boot, 1000):
        size = min(1000, n_boot - start)
        chunks.append(v[torch.randint(N, (size, N), generator=generator)].mean(1))
    means = torch.cat(chunks)
    tail = (1 - level) / 2
    return (torch.quantile(means, tail, interpolation="nearest").item(),
            torch.quantile(means, 1 - tail, interpolation="nearest").item())


@ok(C, "boot-counts", "bootstrap weights: multinomial counts of each value (bincount of the draws), weighted means")
def _(values, n_boot, level, generator):
    N = len(values)
    idx = torch.randint(N, (n_boot, N), generator=generator)
    counts = torch.zeros(n_boot, N, dtype=values.dtype).scatter_add_(1, idx, torch.ones(n_boot, N, dtype=values.dtype))
    means = counts @ values / N
    q = torch.quantile(means, torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=means.dtype))
    return q[0], q[1]


@ok(C, "boot-list", "a list [low, high] of Python floats (a pair, as the text asks, but a list)")
def _(values, n_boot, level, generator):
    N = len(values)
    means = values[torch.randint(N, (n_boot, N), generator=generator)].mean(1)
    return [torch.quantile(means, (1 - level) / 2).item(), torch.quantile(means, (1 + level) / 2).item()]


@bad(C, "boot-without-replacement", "draws with randperm: every resample is the data itself, every mean the same",
     hint="drawn without replacement")
def _(values, n_boot, level, generator):
    N = len(values)
    means = torch.stack([values[torch.randperm(N, generator=generator)].mean() for _ in range(n_boot)])
    q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=means.dtype)
    return tuple(torch.quantile(means, q))


@bad(C, "boot-global-rng", "torch.randint without generator=: the global RNG, so a seed does not give the same "
     "interval", hint="generator=generator")
def _(values, n_boot, level, generator):
    N = len(values)
    means = values[torch.randint(N, (n_boot, N))].mean(1)
    q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=means.dtype)
    return tuple(torch.quantile(means, q))


@bad(C, "boot-own-generator", "makes its own torch.Generator().manual_seed(0) and ignores the one it is given",
     hint="generator=generator")
def _(values, n_boot, level, generator):
    g = torch.Generator().manual_seed(0)
    N = len(values)
    means = values[torch.randint(N, (n_boot, N), generator=g)].mean(1)
    q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=means.dtype)
    return tuple(torch.quantile(means, q))


@bad(C, "boot-quantiles-1-minus-level", "quantiles 1 - level and level (0.05 and 0.95): a 90 % interval for level 0.95",
     hint="the quantiles are 1-level and level")
def _(values, n_boot, level, generator):
    N = len(values)
    means = values[torch.randint(N, (n_boot, N), generator=generator)].mean(1)
    return torch.quantile(means, 1 - level), torch.quantile(means, level)


@bad(C, "boot-hardcoded-95", "quantiles 0.025 and 0.975 whatever level is: wrong at level 0.8",
     hint="0.025 and 0.975")
def _(values, n_boot, level, generator):
    N = len(values)
    means = values[torch.randint(N, (n_boot, N), generator=generator)].mean(1)
    return torch.quantile(means, 0.025), torch.quantile(means, 0.975)


@bad(C, "boot-normal-interval", "mean ± z·std of the bootstrap means: a normal interval, not the percentile "
     "interval (the values are skewed)", hint="normal approximation")
def _(values, n_boot, level, generator):
    N = len(values)
    means = values[torch.randint(N, (n_boot, N), generator=generator)].mean(1)
    z = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor((1 + level) / 2)).item()
    centre, spread = float(values.mean()), float(means.std())
    return centre - z * spread, centre + z * spread


@bad(C, "boot-quantiles-of-values", "quantiles of the values themselves, not of the resampled means",
     hint="quantiles of the values")
def _(values, n_boot, level, generator):
    q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=values.dtype)
    return tuple(torch.quantile(values, q))


@bad(C, "boot-transposed-draws", "index matrix (N, n_boot) averaged over dim 1: N means of n_boot values each, "
     "far too narrow", hint="N values")
def _(values, n_boot, level, generator):
    N = len(values)
    means = values[torch.randint(N, (N, n_boot), generator=generator)].mean(1)
    q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=means.dtype)
    return tuple(torch.quantile(means, q))


@bad(C, "boot-high-low", "returns (high, low)", hint="the pair is (high, low)")
def _(values, n_boot, level, generator):
    N = len(values)
    means = values[torch.randint(N, (n_boot, N), generator=generator)].mean(1)
    q = torch.tensor([(1 + level) / 2, (1 - level) / 2], dtype=means.dtype)
    return tuple(torch.quantile(means, q))


@bad(C, "boot-percent-to-quantile", "percentages (2.5, 97.5) passed to torch.quantile, which takes [0, 1]: it raises",
     hint="[0, 1]")
def _(values, n_boot, level, generator):
    N = len(values)
    means = values[torch.randint(N, (n_boot, N), generator=generator)].mean(1)
    q = torch.tensor([50 * (1 - level), 50 * (1 + level)], dtype=means.dtype)
    return tuple(torch.quantile(means, q))


@bad(C, "boot-basic-interval", "the basic (reverse percentile) interval 2·mean − q_high, 2·mean − q_low, not the "
     "percentile interval the text asks for", hint="percentile")
def _(values, n_boot, level, generator):
    N = len(values)
    means = values[torch.randint(N, (n_boot, N), generator=generator)].mean(1)
    q_low, q_high = torch.quantile(means, torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=means.dtype))
    centre = values.mean()
    return 2 * centre - q_high, 2 * centre - q_low


@bad(C, "boot-inplace-sort", "sorts the caller's values in place (values.copy_(values.sort().values)) before resampling",
     hint=UNCHANGED)
def _(values, n_boot, level, generator):
    values.copy_(values.sort().values)
    N = len(values)
    means = values[torch.randint(N, (n_boot, N), generator=generator)].mean(1)
    q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=means.dtype)
    return tuple(torch.quantile(means, q))


# =============================================================================================
# 07 · Exercise 4: which generator is collapsed, noisy, memorising ('A'..'D'); see the table above
# =============================================================================================
C = "check_metric_judgment"
ABCD = "one of 'A', 'B', 'C', 'D'"  # a guess at the check's wording (the prompt: "'A', 'B', 'C' or 'D'")


def decide(id, collapsed, noisy, memorising, style="", mistake="", hint=""):
    case(C, (collapsed, noisy, memorising), "fail" if mistake else "pass", id, mistake=mistake, style=style,
         hint=hint, decision=True)


decide("judge-DBC", "D", "B", "C", style="the capital letters")
decide("judge-dbc-lower", "d", "b", "c", style="lower case")
decide("judge-DBC-spaces", " D", "B ", "  c\n", style="stray spaces, a newline, mixed case")
decide("judge-DBC-tab", "\tD", "b", "C", style="a tab")

decide("judge-collapsed-C-memorising-D", "C", "B", "D",
       mistake="read nn_ratio 0 as D memorising and put C as collapsed; C's recall 0.952 and coverage 0.926 are "
       "real data's: C draws every digit", hint="0.952")
decide("judge-collapsed-B-recall-0", "B", "D", "C",
       mistake="B's recall 0 read as collapse, D's FD 197 read as noise; but B's precision 0.716 and density 0.266 "
       "put its samples off the data (noise), while D's precision 0.945 says its samples look real",
       hint="0.716")
decide("judge-noisy-D", "D", "D", "C",
       mistake="D for noisy (largest FD, 197); D's precision 0.945 and density 0.9 say its samples look real",
       hint="0.945")
decide("judge-memorising-D-twice", "D", "B", "D",
       mistake="D for both collapsed and memorising (nn_ratio 0 for D too); C is the one with real data's numbers "
       "everywhere and nn_ratio 0", hint="its ratio is 0 too, but it also lost recall and coverage")
decide("judge-memorising-A", "D", "B", "A",
       mistake="A's nn_ratio 0.99: its samples are as far from the training set as test images are",
       hint="0.99")
decide("judge-noisy-A", "D", "A", "C",
       mistake="A's precision 0.951 and density 0.964 are real data's: not noisy", hint="0.951")
decide("judge-collapsed-A", "A", "B", "C",
       mistake="A's recall 0.938 and coverage 0.94: every digit is drawn", hint="0.938")
decide("judge-memorising-B", "D", "C", "B",
       mistake="B's nn_ratio 1.77: farther from the training set than test images, no copies; C is noisy-free "
       "(precision 0.941)", hint="0.941")
decide("judge-none", None, None, None, mistake="left the placeholders None: no decision", hint=ABCD)
decide("judge-empty", "", "B", "C", mistake="an empty string for collapsed", hint=ABCD)
decide("judge-E", "D", "E", "C", mistake="there is no generator E", hint=ABCD)
decide("judge-int", 3, 1, 2, mistake="positions (0-based) instead of letters, not strings", hint=ABCD)
decide("judge-list", ["D"], "B", "C", mistake="a list holding the letter, not the string the prompt asks for",
       hint=ABCD)
decide("judge-hedge", "D or B", "B", "C", mistake="hedges between two generators for collapsed", hint=ABCD)
decide("judge-word", "collapsed", "noisy", "memorising", mistake="the role names instead of the letters", hint=ABCD)


# =============================================================================================
# The test
# =============================================================================================

@pytest.mark.parametrize("case", CASES, ids=registry.ids())
def test_learner_answer_07(case: Case):
    assert_verdict(case)
