"""Checks for lesson 07, judging a GAN: k-nearest-neighbour precision, KID's unbiased estimator, a
bootstrap percentile interval, and judging four generators from their metric tables."""
from __future__ import annotations

import math
from typing import Callable

import torch

from gancourse import metrics
from gancourse.checks.core import (
    KnownAnswer, call, check_choice, diagnose, hint_over_probes as _hint_over_probes, learner_facing,
    need_number, passed, wrong_return,
)

__all__ = ["check_knn_precision", "check_kid", "check_bootstrap_interval", "check_metric_judgment"]


def _number_or_none(fn: Callable, inputs: tuple, what: str, expected: str) -> float | None:
    """The learner's number on one more probe (to tell known mistakes apart), None where their code
    raises or returns something else there: that probe then says nothing about the mistake."""
    try:
        return need_number(call(fn, *(x.clone() if torch.is_tensor(x) else x for x in inputs), what=what), what,
                           expected)
    except AssertionError:
        return None


# --- Exercise 1: precision from k-NN radii -------------------------------------------------------

def _precision_cases() -> list[tuple[str, torch.Tensor, torch.Tensor, int]]:
    """(name, real, fake, k), float32: one set by hand (real 0, 1, 3; fake 0.5, 2.5, 10), two random
    sets with no distance within 1e-4 of a radius (< and <= agree there), and last the edge probe:
    real 0, 1, 3 (radii 1, 1, 2 at k = 1) and fake -1, 0.5, 5, where -1 and 5 lie exactly on a
    ball's edge (integers: every distance is exact), so only < counts them out."""
    gen = torch.Generator().manual_seed(7)
    real = torch.randn(80, 3, generator=gen)
    fake = torch.randn(60, 3, generator=gen) * 1.3 + 0.5
    line = lambda *xs: torch.tensor(xs)[:, None]  # noqa: E731
    return [("3 real points (0, 1, 3) and 3 fake points (0.5, 2.5, 10) on a line, k = 1", line(0.0, 1.0, 3.0),
             line(0.5, 2.5, 10.0), 1),
            ("80 real and 60 fake points in 3-D, k = 3", real, fake, 3),
            ("the same points, k = 5", real, fake, 5),
            ("3 real points (0, 1, 3; radii 1, 1 and 2) and 3 fake points (-1, 0.5, 5) on a line, k = 1: -1 and 5 "
             "lie exactly on a ball's edge", line(0.0, 1.0, 3.0), line(-1.0, 0.5, 5.0), 1)]


def _precision_variant(rank: int = 0, self_included: bool = False, swap: bool = False, share: bool = True,
                       nearest_only: bool = False, edge_inside: bool = False, farthest: bool = False,
                       percent: bool = False, per_real_ball: bool = False, with_repeats: bool = False) -> Callable:
    """Precision with one thing done differently: the (k + rank)-th neighbour, the sample itself
    among its neighbours, the roles of the sets swapped (recall), a count, only the nearest ball,
    <= for <, the (k+1)-th *farthest* sample (topk without largest=False), a percentage, the share
    of real balls holding a fake (coverage), the balls counted with repeats over k·M (density)."""
    def precision(real, fake, k):
        if swap:
            real, fake = fake, real
        among_real = torch.cdist(real.double(), real.double())
        if farthest:
            radii = among_real.topk(k + 1, dim=1).values[:, -1]
        else:
            if not self_included:
                among_real.fill_diagonal_(math.inf)
            radii = among_real.kthvalue(k + rank, dim=1).values
        d = torch.cdist(fake.double(), real.double())
        within = (d <= radii[None, :]) if edge_inside else (d < radii[None, :])
        if per_real_ball:
            return (d.min(0).values < radii).double().mean()
        if with_repeats:
            return within.double().sum(1).mean() / k
        if nearest_only:
            inside = d.min(1).values < radii[d.argmin(1)]
        else:
            inside = within.any(1)
        if not share:
            return inside.double().sum()
        return inside.double().mean() * (100 if percent else 1)
    return precision


#: Known wrong precisions, each a function of (real, fake, k).
PRECISION_MISTAKES = [
    KnownAnswer("each real sample counted itself as its own nearest neighbour (distance 0), so its ball reaches "
                "only its (k-1)-th neighbour. Leave the sample out: set the diagonal of the real-to-real "
                "distances to inf (or take the (k+1)-th smallest, the first being the 0 to itself).",
                _precision_variant(self_included=True)),
    KnownAnswer("the ball reaches the (k+1)-th neighbour: with the sample itself left out, the radius is the k-th "
                "smallest distance (kthvalue(k)); the (k+1)-th smallest is right only while the 0 to itself is "
                "still in the row.", _precision_variant(rank=1)),
    KnownAnswer("this is recall, the share of *real* samples inside the balls of the fake set. Precision is "
                "the share of *fake* samples inside at least one ball around a *real* sample (radii from the "
                "real set).", _precision_variant(swap=True)),
    KnownAnswer("this is a count; return the share: divide by the number of fake samples (or take the mean of "
                "the boolean mask).", _precision_variant(share=False)),
    KnownAnswer("only the ball of each fake sample's nearest real sample was tried. A fake sample counts when it "
                "lies inside *any* real ball: a farther real sample may have a larger ball.",
                _precision_variant(nearest_only=True)),
    KnownAnswer("a fake sample exactly on a ball's edge (distance = r_i) was counted as inside: inside means "
                "distance < r_i, strictly. Compare with <, not <=.", _precision_variant(edge_inside=True)),
    KnownAnswer("this is coverage: the share of *real* balls that hold at least one fake sample. Precision counts "
                "*fake* samples: the share of fake samples inside at least one real ball.",
                _precision_variant(per_real_ball=True)),
    KnownAnswer("this is density: every real ball holding a fake sample counted, with repeats, divided by k·M. "
                "Precision counts a fake sample once when it lies inside *any* real ball: .any(dim=1), then the "
                "mean over the fake samples.", _precision_variant(with_repeats=True)),
    KnownAnswer("the radius is the distance to the (k+1)-th *farthest* real sample: topk returns the largest "
                "values unless told otherwise. Pass largest=False (or use kthvalue or sort), so that the radius "
                "reaches the k-th *nearest* other sample.", _precision_variant(farthest=True)),
    KnownAnswer("this is a percentage (the share × 100); return the share itself, a number between 0 and 1.",
                _precision_variant(percent=True)),
]


@learner_facing
def check_knn_precision(fn: Callable) -> None:
    """Check ``fn(real, fake, k) -> precision``: the share of rows of ``fake`` (M, d) lying at a
    Euclidean distance < r_i from at least one row i of ``real`` (N, d), r_i being the distance
    from real sample i to its k-th nearest *other* real sample. float32 inputs; a float or a
    0-d tensor back."""
    what = "your knn_precision"
    number = "the precision, one number (a float or a 0-d tensor)"
    cases = _precision_cases()
    values: list[float | None] = []
    for index, (name, real, fake, k) in enumerate(cases):
        expected = metrics.prdc(real, fake, k=k)["precision"]
        got = need_number(call(fn, real.clone(), fake.clone(), k, what=what), what, number)
        values.append(got)
        if abs(got - expected) < 1e-6:
            continue
        values += [_number_or_none(fn, inputs, what, number) for _, *inputs in cases[index + 1:]]
        hint = _hint_over_probes(index, values, PRECISION_MISTAKES, [tuple(inputs) for _, *inputs in cases]) or (
            "radii: the k-th smallest distance from each real sample to the other real samples; then, for each "
            "fake sample, is its distance to some real sample i below r_i (strictly)? Return the share of fake "
            "samples for which it is.")
        raise AssertionError(f"{what} on {name}: got {got:.6g}, expected {expected:.6g}.\nHint: {hint}")
    passed(f"knn_precision: the share of fake samples inside the real samples' k-NN balls, on {len(cases)} sets "
           f"(one with fake samples on a ball's edge)")


# --- Exercise 2: KID's unbiased estimator ---------------------------------------------------------

def _kid_cases() -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """(name, x, y), float64, m ≠ n: y shifted and wider; one distribution (an estimate above 0);
    one distribution again, drawn so that the unbiased estimate is below 0 (about -0.068)."""
    gen = torch.Generator().manual_seed(8)
    cases = [("x (40, 6) and y (30, 6), y shifted and wider",
              torch.randn(40, 6, generator=gen, dtype=torch.float64),
              torch.randn(30, 6, generator=gen, dtype=torch.float64) * 1.2 + 0.3),
             ("x (25, 3) and y (35, 3) from one distribution",
              torch.randn(25, 3, generator=gen, dtype=torch.float64),
              torch.randn(35, 3, generator=gen, dtype=torch.float64))]
    gen = torch.Generator().manual_seed(1)
    return cases + [("x (20, 4) and y (28, 4) from one distribution, where the estimate is below 0",
                     torch.randn(20, 4, generator=gen, dtype=torch.float64),
                     torch.randn(28, 4, generator=gen, dtype=torch.float64))]


def _kernel(a, b, scale=True, offset=1.0, degree=3, by_samples=False, gaussian=None):
    """KID's kernel, or one thing done differently: no /d, another offset or degree, / the number
    of samples (len(a)) for d, or ``gaussian``: exp(-|a - b|² / (gaussian · d)), or / 2 when 0."""
    if gaussian is not None:
        return torch.exp(-torch.cdist(a, b) ** 2 / (gaussian * a.shape[1] if gaussian else 2.0))
    return (a @ b.T / (len(a) if by_samples else a.shape[1] if scale else 1) + offset) ** degree


def _mmd_variant(diagonal=False, divide_by_square=False, cross=2.0, same_size=False, cross_by_m2=False,
                 cross_diagonal_dropped=False, **kernel) -> Callable:
    """MMD² with one thing done differently: the kernel (``kernel``: see :func:`_kernel`), the
    diagonal kept, the off-diagonal sums divided by m² (or by x's size for y's too, and with
    ``cross_by_m2`` the cross sum by m², as torchmetrics' poly_mmd does), the cross term counted
    once, the cross matrix's diagonal k(x_i, y_i) left out."""
    def mmd2(x, y):
        total = 0.0
        for a in (x, y):
            k = _kernel(a, a, **kernel)
            m = len(x) if same_size else len(a)
            if diagonal:
                total = total + k.mean()
            else:
                total = total + (k.sum() - k.diagonal().sum()) / (m * m if divide_by_square else m * (m - 1))
        k_xy = _kernel(x, y, **kernel)
        if cross_by_m2:
            cross_mean = k_xy.sum() / len(x) ** 2
        elif cross_diagonal_dropped:
            cross_mean = (k_xy.sum() - k_xy.diagonal().sum()) / (k_xy.numel() - min(k_xy.shape))
        else:
            cross_mean = k_xy.mean()
        return total - cross * cross_mean
    return mmd2


#: Known wrong MMD² estimates, each a function of (x, y).
KID_MISTAKES = [
    KnownAnswer("the within-set means include the diagonal k(x_i, x_i): that is the biased estimate, too large by "
                "about (mean k(x, x) - mean k(x, x'))/m. Leave the diagonal out and divide by m(m-1).",
                _mmd_variant(diagonal=True)),
    KnownAnswer("the diagonal is left out, but the sum is divided by m²; m(m-1) pairs remain, so divide by m(m-1).",
                _mmd_variant(divide_by_square=True)),
    KnownAnswer("the within-y mean is divided using x's size; y has its own: n(n-1) for y, m(m-1) for x.",
                _mmd_variant(same_size=True)),
    KnownAnswer("the kernel lacks the division by the feature dimension d: k(x, y) = (x·y / d + 1)³.",
                _mmd_variant(scale=False)),
    KnownAnswer("the kernel lacks the + 1: k(x, y) = (x·y / d + 1)³.", _mmd_variant(offset=0.0)),
    KnownAnswer("the kernel is squared; KID's polynomial kernel is cubed: (x·y / d + 1)³.", _mmd_variant(degree=2)),
    KnownAnswer("the cross term counts once; MMD² = mean k(x, x') + mean k(y, y') - 2 · mean k(x, y).",
                _mmd_variant(cross=1.0)),
    KnownAnswer("the estimate is clamped at 0 (clamp_min, max(..., 0) or relu): the unbiased estimate can be "
                "below 0 when x and y come from one distribution; KID keeps it as it is (clamping would bias "
                "its average upward). Return it unclamped, negative or not.",
                lambda x, y: _mmd_variant()(x, y).clamp_min(0)),
    KnownAnswer("this is MMD, the square root; KID is the MMD² estimate itself (it may be slightly negative).",
                lambda x, y: _mmd_variant()(x, y).clamp_min(0).sqrt()),
    KnownAnswer("this is MMD, the square root (NaN where the estimate is below 0); KID is the MMD² estimate "
                "itself, which may be slightly negative.", lambda x, y: _mmd_variant()(x, y).sqrt()),
    KnownAnswer("the kernel divides by the number of samples; d is the feature dimension, x.shape[1] (the same "
                "d for every pair of sets): k(a, b) = (a·b / d + 1)³.", _mmd_variant(by_samples=True)),
    KnownAnswer("every term is divided using x's size, as torchmetrics' poly_mmd does (it is written for m = n: "
                "m(m-1) for y's pairs, m² for the cross pairs). Here m ≠ n: divide y's sum by n(n-1) and the cross "
                "sum by m·n.", _mmd_variant(same_size=True, cross_by_m2=True)),
    KnownAnswer("the cross term left out k(x_i, y_i), as if x_i and y_i were one sample. They are different "
                "samples (the sets even have different sizes): the cross mean keeps every pair, all m·n of them.",
                _mmd_variant(cross_diagonal_dropped=True)),
    KnownAnswer("this is a Gaussian (RBF) kernel, exp(-|a-b|²/d); KID uses the cubic polynomial kernel "
                "k(a, b) = (a·b / d + 1)³.", _mmd_variant(gaussian=1.0)),
    KnownAnswer("this is a Gaussian (RBF) kernel, exp(-|a-b|²/2d); KID uses the cubic polynomial kernel "
                "k(a, b) = (a·b / d + 1)³.", _mmd_variant(gaussian=2.0)),
    KnownAnswer("this is a Gaussian (RBF) kernel, exp(-|a-b|²/2); KID uses the cubic polynomial kernel "
                "k(a, b) = (a·b / d + 1)³.", _mmd_variant(gaussian=0.0)),
]


@learner_facing
def check_kid(fn: Callable) -> None:
    """Check ``fn(x, y) -> mmd2``: the unbiased MMD² estimate between the rows of x (m, d) and y
    (n, d), float64, m ≠ n, with the kernel k(a, b) = (a·b / d + 1)³; a float or a 0-d tensor back."""
    what = "your kid"
    number = "the MMD² estimate, one number (a float or a 0-d tensor)"
    cases = _kid_cases()
    values: list[float | None] = []
    for index, (name, x, y) in enumerate(cases):
        expected = metrics.mmd2_unbiased(x, y)
        got = need_number(call(fn, x.clone(), y.clone(), what=what), what, number)
        values.append(got)
        if abs(got - expected) <= 1e-4 * abs(expected) + 1e-6:
            continue
        values += [_number_or_none(fn, inputs, what, number) for _, *inputs in cases[index + 1:]]
        hint = _hint_over_probes(index, values, KID_MISTAKES, [tuple(inputs) for _, *inputs in cases]) or (
            "mean of k over pairs i ≠ j within x, plus the same within y, minus twice the mean of k over "
            "all pairs (x_i, y_j), with k(a, b) = (a·b / d + 1)³.")
        raise AssertionError(f"{what} on {name}: got {got:.6g}, expected {expected:.6g}.\nHint: {hint}")
    passed(f"kid: the unbiased MMD² with the cubic polynomial kernel, on {len(cases)} pairs of sets (m ≠ n, one "
           f"estimate below 0)")


# --- Exercise 3: a bootstrap percentile interval ---------------------------------------------------

BOOTSTRAP_PROBES = [(10_000, 0.95), (10_000, 0.8)]  # (n_boot, level)


def bootstrap_values() -> torch.Tensor:
    """The check's per-sample values: 30 skewed numbers (log-normal), float64, whose resampled means
    have a lopsided distribution, so a percentile interval is not mean ± z·std."""
    return torch.exp(1.5 * torch.randn(30, generator=torch.Generator().manual_seed(9), dtype=torch.float64))


def _resampled_means(values, n_boot, replace=True, transposed=False):
    """``n_boot`` means of resamples of ``values`` (generator seed 123); without ``replace`` every
    resample is the data itself; ``transposed``: indices (N, n_boot) averaged over dim 1, N means
    of n_boot values each."""
    gen = torch.Generator().manual_seed(123)
    if not replace:
        return values.mean().repeat(n_boot)
    if transposed:
        return values[torch.randint(len(values), (len(values), n_boot), generator=gen)].mean(1)
    return values[torch.randint(len(values), (n_boot, len(values)), generator=gen)].mean(1)


def _z(level):
    return math.sqrt(2) * torch.erfinv(torch.tensor(level, dtype=torch.float64)).item()


def _quantiles(means, low_q, high_q):
    return torch.quantile(means, torch.tensor([low_q, high_q], dtype=torch.float64))


#: Known wrong intervals, each a function of (values, n_boot, level): answers from 200,000 replicates.
BOOTSTRAP_MISTAKES = [
    KnownAnswer("the resamples were drawn as an (N, n_boot) index matrix and averaged over dim 1: that gives N "
                "means of n_boot values each, whose spread is tiny, so the interval is far too narrow. Each of the "
                "n_boot resamples holds N values: draw indices of shape (n_boot, N), then .mean(dim=1).",
                lambda v, b, level: _quantiles(_resampled_means(v, b, transposed=True), (1 - level) / 2,
                                               (1 + level) / 2)),
    KnownAnswer("every resample is the data itself (a permutation, or drawn without replacement), so every "
                "replicate's mean is the same and the interval has no width. Draw n indices *with* replacement: "
                "torch.randint(n, (n,), generator=generator).",
                lambda v, b, level: _quantiles(_resampled_means(v, b, replace=False), 0.1, 0.9)),
    KnownAnswer("this is mean ± z · std of the replicates (a normal approximation): symmetric around the mean. The "
                "exercise asks for the percentile interval: the (1-level)/2 and (1+level)/2 quantiles of the "
                "replicates' means, which follow the skew of the data.",
                lambda v, b, level: v.mean() + _z(level) * _resampled_means(v, 200_000).std() * torch.tensor([-1.0, 1.0])),
    KnownAnswer("this is mean ± z · std of the *data*: the spread of single values, not of their mean. The interval "
                "comes from the means of the resamples.",
                lambda v, b, level: v.mean() + _z(level) * v.std() * torch.tensor([-1.0, 1.0])),
    KnownAnswer("the quantiles are 1-level and level, which leaves 1-level in *each* tail: a narrower interval. "
                "Split the rest between the two tails: (1-level)/2 and (1+level)/2.",
                lambda v, b, level: _quantiles(_resampled_means(v, 200_000), 1 - level, level)),
    KnownAnswer("the pair is (high, low); return (low, high).",
                lambda v, b, level: _quantiles(_resampled_means(v, 200_000), (1 - level) / 2, (1 + level) / 2).flip(0)),
    KnownAnswer("the quantiles are 0.025 and 0.975 whatever the level: right for level 0.95 only. Take them from "
                "`level`: (1-level)/2 and (1+level)/2.",
                lambda v, b, level: _quantiles(_resampled_means(v, 200_000), 0.025, 0.975)),
    KnownAnswer("these are quantiles of the values themselves: the spread of single values, not of their mean. "
                "Take the quantiles of the n_boot resamples' means.",
                lambda v, b, level: _quantiles(v, (1 - level) / 2, (1 + level) / 2)),
    KnownAnswer("this is the basic (reverse percentile) interval, 2·mean - q_high to 2·mean - q_low: mirrored "
                "around the mean. The exercise asks for the percentile interval: the quantiles q_low and q_high of "
                "the replicates' means themselves.",
                lambda v, b, level: 2 * v.mean() - _quantiles(_resampled_means(v, 200_000), (1 - level) / 2,
                                                              (1 + level) / 2).flip(0)),
]


def _pair(got, what) -> torch.Tensor:
    expected = "two numbers (low, high): a tuple, a list or a tensor of shape (2,)"
    if torch.is_tensor(got):
        if got.numel() != 2:
            raise wrong_return(got, what, expected)
        return got.detach().double().flatten()
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise wrong_return(got, what, expected)
    return torch.tensor([need_number(v, what, expected) for v in got], dtype=torch.float64)


def _drawn_from(generator: torch.Generator, seed: int) -> bool:
    """Whether ``generator``, seeded with ``seed``, has been drawn from since (its state moved)."""
    return not torch.equal(generator.get_state(), torch.Generator().manual_seed(seed).get_state())


def _call_seeded(fn: Callable, values, n_boot, level, seed: int, global_seed: int, what: str):
    """``fn`` with a fresh generator seeded with ``seed``, torch's global generator seeded with
    ``global_seed`` meanwhile (and restored after: the learner's global random state is left as it
    was), so that an answer driven by the global generator gives different intervals. Returns the
    pair and the generator."""
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(global_seed)
        got = call(fn, values.clone(), n_boot, level, generator, what=what)
    return _pair(got, what), generator


GENERATOR_HINT = ("draw every random number from the `generator` given (torch.randint(..., generator=generator)), not "
                  "from torch's global generator nor from a generator of your own, so that a seed reproduces the "
                  "interval and another seed gives another one.")


@learner_facing
def check_bootstrap_interval(fn: Callable) -> None:
    """Check ``fn(values, n_boot, level, generator) -> (low, high)``: the bootstrap percentile interval
    of the mean of ``values`` (30 float64 values): ``n_boot`` resamples of the values with
    replacement drawn with ``generator``, their means, and those means' (1-level)/2 and (1+level)/2
    quantiles. Compared with the package's 200,000-replicate interval (``metrics.bootstrap_mean``)
    within 5 % of its width. The generator must drive it: the same seed gives the same interval
    whatever torch's global random state, the generator given is drawn from, and another seed gives
    another interval."""
    what = "your bootstrap_interval"
    values = bootstrap_values()
    first = None  # (interval, generator, n_boot, level) of the first probe, for the generator's checks
    for n_boot, level in BOOTSTRAP_PROBES:
        reference = metrics.bootstrap_mean(values, n_boot=200_000, level=level)
        width = reference.high - reference.low
        expected = torch.tensor([reference.low, reference.high], dtype=torch.float64)
        got, generator = _call_seeded(fn, values, n_boot, level, 1, 11, what)
        first = first or (got, generator, n_boot, level)
        same = lambda a, b: bool((torch.as_tensor(a, dtype=torch.float64) - b).abs().max() < 0.05 * width)  # noqa: E731

        def alike(a, b):
            """A known answer is named when its ends are within 5 % of the width and the two widths are
            within a factor of 4 of each other (an empty interval is not a narrow one)."""
            a, b = torch.as_tensor(a, dtype=torch.float64).flatten(), torch.as_tensor(b, dtype=torch.float64).flatten()
            width_a, width_b = a[1] - a[0], b[1] - b[0]
            return same(a, b) and bool((width_a - width_b).abs() <= 0.75 * max(width_a.abs(), width_b.abs()) + 1e-9)

        if not same(got, expected):
            hint = diagnose(got, BOOTSTRAP_MISTAKES, values, n_boot, level, same=alike) or (
                "draw n_boot resamples of the values with replacement (torch.randint with the generator), take "
                "each one's mean, and return the (1-level)/2 and (1+level)/2 quantiles of those means.")
            raise AssertionError(f"{what} with n_boot = {n_boot}, level = {level}: got ({got[0]:.4g}, {got[1]:.4g}), "
                                 f"expected about ({reference.low:.4g}, {reference.high:.4g}) (the mean is "
                                 f"{reference.value:.4g}).\nHint: {hint}")
    # The intervals are right; now the generator given must be what drives them.
    got, generator, n_boot, level = first
    again, _ = _call_seeded(fn, values, n_boot, level, 1, 12, what)
    if not torch.equal(again, got):
        raise AssertionError(f"{what} gave ({got[0]:.6g}, {got[1]:.6g}) and then ({again[0]:.6g}, {again[1]:.6g}) "
                             f"for the same generator seed.\nHint: {GENERATOR_HINT}")
    if not _drawn_from(generator, 1):
        raise AssertionError(f"{what} never drew a random number from the `generator` it was given (its state is "
                             f"unchanged after the call): the resamples came from somewhere else.\nHint: "
                             f"{GENERATOR_HINT}")
    other, _ = _call_seeded(fn, values, n_boot, level, 2, 11, what)
    if torch.equal(other, got):
        raise AssertionError(f"{what} gave the same interval ({got[0]:.6g}, {got[1]:.6g}) for generator seeds 1 and "
                             f"2: the seed given does not drive the resamples (a generator seeded again inside the "
                             f"function?).\nHint: {GENERATOR_HINT}")
    passed("bootstrap_interval: percentile intervals at levels 0.95 and 0.8, driven by the generator given")


# --- Exercise 4: which generator is which -----------------------------------------------------------

#: Four "generators" of 2,000 images each, scored against the first 2,000 MNIST test images on the
#: judge's features (metrics.judge_metrics, k = 5, seed 0; one run, values rounded): A, test images
#: 4,000-5,999; B, test images 2,000-3,999 blurred (3 x 3 mean) plus N(0, 0.35²) noise, clamped to
#: [-1, 1]; C, 2,000 random training images; D, 2,000 random training images of the digits 1, 4 and
#: 7 (random draws from torch.Generator seed 0). ``nn_ratio``: the median distance from the first
#: 1,000 images to their nearest training image (judge features, all 60,000), divided by the same
#: median for test images 6,000-6,999. Fixed here so that the exercise is the same on every machine.
FOUR_GENERATORS = {
    "A": {"frechet_distance": 2.05, "kid": 0.83, "precision": 0.951, "recall": 0.938, "density": 0.964,
          "coverage": 0.940, "nn_ratio": 0.99},
    "B": {"frechet_distance": 155.0, "kid": 99.8, "precision": 0.716, "recall": 0.000, "density": 0.266,
          "coverage": 0.049, "nn_ratio": 1.77},
    "C": {"frechet_distance": 2.08, "kid": 0.70, "precision": 0.941, "recall": 0.952, "density": 0.913,
          "coverage": 0.926, "nn_ratio": 0.00},
    "D": {"frechet_distance": 197.0, "kid": 140.0, "precision": 0.945, "recall": 0.329, "density": 0.900,
          "coverage": 0.337, "nn_ratio": 0.00},
}
_RIGHT = {"collapsed": "D", "noisy": "B", "memorising": "C"}


def four_generators() -> dict[str, dict[str, float]]:
    """The exhibit of Exercise 4: generator letter -> its metrics (a copy)."""
    return {name: dict(row) for name, row in FOUR_GENERATORS.items()}


def metric_table() -> str:
    """The exhibit as a printed table."""
    columns = ["frechet_distance", "kid", "precision", "recall", "density", "coverage", "nn_ratio"]
    lines = ["generator " + " ".join(f"{c:>16}" for c in columns)]
    for name, row in FOUR_GENERATORS.items():
        lines.append(f"{name:9} " + " ".join(f"{row[c]:16.3g}" for c in columns))
    return "\n".join(lines)


def _evidence(role: str) -> list[KnownAnswer]:
    """Why each wrong letter is wrong for ``role``, with the exhibit's numbers."""
    rows = FOUR_GENERATORS

    def says(name):
        r = rows[name]
        return (f"generator {name} has precision {r['precision']:.3g}, recall {r['recall']:.3g}, density "
                f"{r['density']:.3g}, coverage {r['coverage']:.3g} and nn_ratio {r['nn_ratio']:.2f}")

    why = {
        "collapsed": {
            "A": f"{says('A')}: as high as real data on every count, so it draws all the variety of the data.",
            "B": f"{says('B')}: its *precision and density* are low, its samples lie off the data: that is the noisy "
                 f"one. A collapsed generator keeps precision high (its few digits look right) and loses recall "
                 f"and coverage.",
            "C": f"{says('C')}: recall and coverage as high as real data, nothing is missing.",
        },
        "noisy": {
            "A": f"{says('A')}: its samples lie where real data lies.",
            "C": f"{says('C')}: its samples lie where real data lies (they are training images).",
            "D": f"{says('D')}: precision {rows['D']['precision']:.3g} says its samples look right; what it lacks is "
                 f"variety (recall, coverage): collapse. Noise and blur push samples off the data: low precision "
                 f"and density.",
        },
        "memorising": {
            "A": f"{says('A')}: A and C are alike on every quality and diversity metric, but A's samples are as far "
                 f"from their nearest training image as new test images are (ratio about 1). A memoriser's samples "
                 f"*are* training images: ratio 0.",
            "B": f"{says('B')}: its samples are farther from the training images than test images are.",
            "D": f"{says('D')}: its ratio is 0 too, but it also lost recall and coverage: it draws a few digits "
                 f"(training images of them). The memoriser looks like real data on every other metric.",
        },
    }[role]
    return [KnownAnswer(hint, letter) for letter, hint in why.items()]


_OPTIONS = {name: [f"generator {name}", f"table {name}", f"row {name}"] for name in FOUR_GENERATORS}


@learner_facing
def check_metric_judgment(collapsed, noisy, memorising) -> None:
    """Check three letters, 'A' to 'D', for the generators of :func:`four_generators`: the collapsed
    one (a few digits), the noisy one (all digits, blurred and noisy) and the memorising one (copies
    of training images spread over the training set; the collapsed one outputs training images too,
    of three digits). Any case; 'generator B' is read as 'B'."""
    for role, answer in (("collapsed", collapsed), ("noisy", noisy), ("memorising", memorising)):
        check_choice(answer, f"your `{role}`", _OPTIONS, _RIGHT[role], _evidence(role))
    passed("metric judgment: collapse loses recall and coverage, noise loses precision and density, and a "
           "memoriser looks perfect until its samples are compared with the training images")
