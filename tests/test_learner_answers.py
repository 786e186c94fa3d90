"""Learner answers to the 27 practice exercises, each with the verdict the exercise text gives it.

Every answer below was written from the exercise notebooks' texts (exercises/*.ipynb) and the
lessons, as a learner who knows PyTorch would, without looking at how the checks work. Correct
answers were verified independently (against torch built-ins, gancourse.losses / gancourse.models
/ gancourse.metrics / gancourse.data functions, or by the math); wrong answers carry a `mistake`
string saying what is wrong with them. Each wrong answer also carries a `hint`, added later (the
answers and verdicts unchanged): a distinctive part of the hint that names *that* mistake, since
each known mistake gets its own diagnosis (docs/design.md, Checks).

The single parametrized test calls the exercise's check on the answer exactly as the exercise
notebook does: a "pass" answer must not raise, a "fail" answer must raise AssertionError (any
other exception type, or no exception, fails the test) whose hint (the text after "Hint:", or
the whole message where it has no such line) contains the case's `hint`. The verdicts come from
the exercise texts only; none is adjusted to what the checks currently do.

    GANCOURSE_QUICK=1 GANCOURSE_DATA=... pytest -q tests/test_learner_answers.py -p no:cacheprovider
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

pytest.register_assert_rewrite("learner_cases")  # its asserts report as a test's own do
from learner_cases import Case, Registry, assert_verdict  # noqa: E402  (the shared harness, tests/learner_cases.py)

# Case.answer: the learner's function or nn.Module class; instantiate=True: spec checks receive an
# instance, answer() as in `Generator()`.
registry = Registry()
CASES: list[Case] = registry.cases
case, ok, bad = registry.case, registry.ok, registry.bad


# =============================================================================================
# 00 · Exercise 1: scale_to_tanh_range (uint8 any shape -> float32 in [-1, 1], 0 -> -1, 255 -> 1)
# =============================================================================================
C = "check_scale_to_tanh_range"


@ok(C, "scale-float-div-127.5", "convert with .float(), then / 127.5 - 1")
def _(pixels):
    return pixels.float() / 127.5 - 1


@ok(C, "scale-to-div-sub", "method chain .to(float32).div().sub()")
def _(pixels):
    return pixels.to(torch.float32).div(127.5).sub(1.0)


@ok(C, "scale-unit-then-affine", "to [0, 1] first, then * 2 - 1")
def _(pixels):
    x = pixels.to(dtype=torch.float32) / 255.0
    return x * 2 - 1


@ok(C, "scale-true-division-promotes", "uint8 / float: true division promotes to float32 first")
def _(pixels):
    return pixels / 127.5 - 1.0


@ok(C, "scale-lookup-table", "a 256-entry lookup table indexed by the pixel values")
def _(pixels):
    table = torch.arange(256, dtype=torch.float32) / 127.5 - 1
    return table[pixels.long()]


@ok(C, "scale-normalize-mean-std", "torchvision Normalize((0.5,), (0.5,)) written out")
def _(pixels):
    return (pixels.float() / 255 - 0.5) / 0.5


@bad(C, "scale-uint8-overflow", "multiplies the uint8 tensor by 2 before converting: 128..255 wrap around at 256",
     hint="wraps around at 256")
def _(pixels):
    return (pixels * 2).float() / 255 - 1


@bad(C, "scale-uint8-underflow", "subtracts 128 in uint8: pixels below 128 wrap around to large values",
     hint="wraps around at 256")
def _(pixels):
    return (pixels - 128).float() / 127.5


@bad(C, "scale-unit-range", "scales to [0, 1], not [-1, 1], while the generator ends in tanh",
     hint="this maps pixels to [0, 1]")
def _(pixels):
    return pixels.float() / 255


@bad(C, "scale-float64", "returns float64, not float32",
     hint="returned torch.float64; networks train in float32")
def _(pixels):
    return pixels.double() / 127.5 - 1


@bad(C, "scale-div-128", "divides by 128: 255 maps to 0.992, not 1",
     hint="maps 255 to 0.992")
def _(pixels):
    return pixels.float() / 128 - 1


@bad(C, "scale-half-range", "centres but divides by 255: range [-0.5, 0.5]",
     hint="this maps pixels to [-0.5, 0.5]")
def _(pixels):
    return (pixels.float() - 127.5) / 255


@bad(C, "scale-forgot-return", "computes the result but forgets to return it (returns None)",
     hint="did you forget `return`?")
def _(pixels):
    scaled = pixels.float() / 127.5 - 1  # noqa: F841


# =============================================================================================
# 00 · Exercise 2: to_unit_range (images in [-1, 1] -> (x + 1) / 2, clamped to [0, 1])
# =============================================================================================
C = "check_to_unit_range"


@ok(C, "unit-add-div-clamp", "((x + 1) / 2).clamp(0, 1)")
def _(images):
    return ((images + 1) / 2).clamp(0, 1)


@ok(C, "unit-torch-clamp-kwargs", "torch.clamp(x * 0.5 + 0.5, min=0, max=1)")
def _(images):
    return torch.clamp(images * 0.5 + 0.5, min=0.0, max=1.0)


@ok(C, "unit-clamp-first", "clamp to [-1, 1] first, then shift and scale")
def _(images):
    return (images.clamp(-1, 1) + 1) / 2


@ok(C, "unit-inplace-on-copy", "out-of-place add, then in-place ops on the new tensor only")
def _(images):
    out = images.add(1.0)
    out.mul_(0.5).clamp_(0.0, 1.0)
    return out


@ok(C, "unit-where", "torch.where for the two bounds")
def _(images):
    y = (images + 1) / 2
    y = torch.where(y < 0, torch.zeros_like(y), y)
    return torch.where(y > 1, torch.ones_like(y), y)


@bad(C, "unit-no-clamp", "does not clamp: an overshooting generator gives values outside [0, 1]",
     hint="must be clamped to [0, 1] after rescaling")
def _(images):
    return (images + 1) / 2


@bad(C, "unit-precedence", "operator precedence: x / 2 + 1 instead of (x + 1) / 2",
     hint="operator precedence")
def _(images):
    return (images / 2 + 1).clamp(0, 1)


@bad(C, "unit-sigmoid", "squashes with a sigmoid instead of undoing the linear scaling",
     hint="a sigmoid squashes the values")
def _(images):
    return torch.sigmoid(images)


@bad(C, "unit-minmax", "min-max normalises each batch instead of applying (x + 1) / 2",
     hint="min-max normalisation")
def _(images):
    return (images - images.min()) / (images.max() - images.min())


@bad(C, "unit-inplace-input", "modifies the caller's images in place (add_/div_/clamp_ on the input)",
     hint="leave the tensors they are given unchanged")
def _(images):
    return images.add_(1).div_(2).clamp_(0, 1)


@bad(C, "unit-uint8-255", "returns uint8 0..255 instead of floats in [0, 1]",
     hint="no * 255 and no .to(torch.uint8)")
def _(images):
    return ((images + 1) * 127.5).clamp(0, 255).to(torch.uint8)


@bad(C, "unit-clamp-only", "only clamps to [0, 1], without shifting: every value below 0 becomes 0",
     hint="clamps to [0, 1] without rescaling")
def _(images):
    return images.clamp(0, 1)


# =============================================================================================
# 01 · Exercise 1: value_estimate (E log D(x) + E log(1 - D(G(z))), D = sigmoid(logit), finite at +-100)
# =============================================================================================
C = "check_value_estimate"


@ok(C, "value-logsigmoid", "F.logsigmoid on t and -t")
def value_estimate_logsigmoid(logits_real, logits_fake):
    return F.logsigmoid(logits_real).mean() + F.logsigmoid(-logits_fake).mean()


@ok(C, "value-softplus", "-softplus(-t), -softplus(t)")
def _(logits_real, logits_fake):
    return -F.softplus(-logits_real).mean() - F.softplus(logits_fake).mean()


@ok(C, "value-minus-bce", "minus the BCE-with-logits discriminator loss")
def _(logits_real, logits_fake):
    bce = F.binary_cross_entropy_with_logits
    return -(bce(logits_real, torch.ones_like(logits_real)) + bce(logits_fake, torch.zeros_like(logits_fake)))


@ok(C, "value-manual-stable", "log sigmoid(t) = min(t, 0) - log1p(exp(-|t|)) written by hand")
def _(logits_real, logits_fake):
    def log_sigmoid(t):
        return torch.clamp(t, max=0) - torch.log1p(torch.exp(-t.abs()))
    return torch.mean(log_sigmoid(logits_real)) + torch.mean(log_sigmoid(-logits_fake))


@ok(C, "value-logaddexp", "log sigmoid(t) = -logaddexp(0, -t)")
def _(logits_real, logits_fake):
    zero_r, zero_f = torch.zeros_like(logits_real), torch.zeros_like(logits_fake)
    return (-torch.logaddexp(zero_r, -logits_real)).mean() + (-torch.logaddexp(zero_f, logits_fake)).mean()


@ok(C, "value-float-item", "returns a Python float (the text asks for the estimate, not a tensor)")
def _(logits_real, logits_fake):
    return (F.logsigmoid(logits_real).mean() + F.logsigmoid(-logits_fake).mean()).item()


@bad(C, "value-log-sigmoid-naive", "torch.log(torch.sigmoid(t)): -inf for confident logits (+-100)",
     hint="so log(1 - sigmoid(t))")
def _(logits_real, logits_fake):
    return torch.log(torch.sigmoid(logits_real)).mean() + torch.log(1 - torch.sigmoid(logits_fake)).mean()


@bad(C, "value-log1p-sigmoid", "log1p(-sigmoid(t)) is still -inf at t = 100 (sigmoid rounds to 1)",
     hint="torch.log1p(-torch.sigmoid(t)) too")
def _(logits_real, logits_fake):
    return F.logsigmoid(logits_real).mean() + torch.log1p(-torch.sigmoid(logits_fake)).mean()


@bad(C, "value-bce-on-sigmoid", "BCE on sigmoid outputs: log clamped at -100, wrong for confident logits (fake logit 20 gives -100)",
     hint="clamps its log at -100")
def _(logits_real, logits_fake):
    pr, pf = torch.sigmoid(logits_real), torch.sigmoid(logits_fake)
    return -(F.binary_cross_entropy(pr, torch.ones_like(pr)) + F.binary_cross_entropy(pf, torch.zeros_like(pf)))


@bad(C, "value-sign-flipped", "returns the discriminator's loss (-V), not V",
     hint="this is -V, the discriminator's *loss*")
def _(logits_real, logits_fake):
    return F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean()


@bad(C, "value-averaged", "averages the two expectations instead of adding them",
     hint="the two expectations are averaged")
def _(logits_real, logits_fake):
    return (F.logsigmoid(logits_real).mean() + F.logsigmoid(-logits_fake).mean()) / 2


@bad(C, "value-sum", "sums over the batch instead of averaging (not a Monte Carlo mean)",
     hint="this sums over the samples")
def _(logits_real, logits_fake):
    return F.logsigmoid(logits_real).sum() + F.logsigmoid(-logits_fake).sum()


@bad(C, "value-log-d-fake", "uses log D(G(z)) for the second term instead of log(1 - D(G(z)))",
     hint="log(1 - D(G(z))), not log D(G(z))")
def _(logits_real, logits_fake):
    return F.logsigmoid(logits_real).mean() + F.logsigmoid(logits_fake).mean()


@bad(C, "value-logits-as-probs", "treats the logits as probabilities: log(t) and log(1 - t), NaN for most logits",
     hint="the logits went into the log as if they were probabilities")
def _(logits_real, logits_fake):
    return torch.log(logits_real).mean() + torch.log(1 - logits_fake).mean()


# =============================================================================================
# 01 · Exercise 2: optimal_discriminator (D* = p_data / (p_data + p_g))
# =============================================================================================
C = "check_optimal_discriminator"


@ok(C, "dstar-ratio", "p_data / (p_data + p_g)")
def _(p_data, p_g):
    return p_data / (p_data + p_g)


@ok(C, "dstar-where-half", "torch.where: 1/2 where both densities are 0")
def _(p_data, p_g):
    p_data, p_g = torch.as_tensor(p_data), torch.as_tensor(p_g)
    total = p_data + p_g
    return torch.where(total > 0, p_data / torch.where(total > 0, total, torch.ones_like(total)),
                       torch.full_like(total, 0.5))


@ok(C, "dstar-one-over", "1 / (1 + p_g / p_data)")
def _(p_data, p_g):
    return 1 / (1 + p_g / p_data)


@ok(C, "dstar-sigmoid-log-ratio", "sigmoid of the log density ratio")
def _(p_data, p_g):
    p_data, p_g = torch.as_tensor(p_data), torch.as_tensor(p_g)
    return torch.sigmoid(torch.log(p_data) - torch.log(p_g))


@ok(C, "dstar-div-method", "tensor methods .div(.add())")
def _(p_data, p_g):
    p_data = torch.as_tensor(p_data)
    return p_data.div(p_data.add(torch.as_tensor(p_g)))


@bad(C, "dstar-flipped", "returns the probability of 'generated': p_g / (p_data + p_g)",
     hint="the probability that x is fake")
def _(p_data, p_g):
    return p_g / (p_data + p_g)


@bad(C, "dstar-likelihood-ratio", "returns the density ratio p_data / p_g, not a probability",
     hint="the density ratio p_data / p_g")
def _(p_data, p_g):
    return p_data / p_g


@bad(C, "dstar-always-half", "returns 1/2 everywhere (the value only at equilibrium)",
     hint="D* = 1/2 only where p_g = p_data")
def _(p_data, p_g):
    return torch.full_like(torch.as_tensor(p_data), 0.5)


@bad(C, "dstar-hard-decision", "returns the hard Bayes decision (p_data > p_g) instead of the probability",
     hint="the hard decision p_data > p_g")
def _(p_data, p_g):
    return (torch.as_tensor(p_data) > torch.as_tensor(p_g)).to(torch.as_tensor(p_data).dtype)


@bad(C, "dstar-over-mixture", "divides by the mixture m = (p_data + p_g) / 2: values up to 2",
     hint="divides by the mixture m = (p_data + p_g) / 2")
def _(p_data, p_g):
    return p_data / ((p_data + p_g) / 2)


@bad(C, "dstar-sigmoid-difference", "sigmoid of the density difference instead of the density ratio",
     hint="this is sigmoid(p_data - p_g)")
def _(p_data, p_g):
    return torch.sigmoid(torch.as_tensor(p_data) - torch.as_tensor(p_g))


# =============================================================================================
# 01 · Exercise 3: jensen_shannon (discrete p, q with zeros; nats; symmetric; <= log 2)
# =============================================================================================
C = "check_jensen_shannon"


@ok(C, "jsd-masked-kl", "0.5 KL(p||m) + 0.5 KL(q||m), terms with p_i = 0 skipped by a mask")
def _(p, q):
    p, q = torch.as_tensor(p, dtype=torch.float64), torch.as_tensor(q, dtype=torch.float64)
    m = (p + q) / 2

    def kl(a):
        keep = a > 0
        return (a[keep] * (a[keep] / m[keep]).log()).sum()
    return 0.5 * kl(p) + 0.5 * kl(q)


@ok(C, "jsd-xlogy", "torch.xlogy (0 log 0 = 0) for the KL terms")
def _(p, q):
    m = 0.5 * (p + q)
    kl_pm = (torch.xlogy(p, p) - torch.xlogy(p, m)).sum()
    kl_qm = (torch.xlogy(q, q) - torch.xlogy(q, m)).sum()
    return 0.5 * (kl_pm + kl_qm)


@ok(C, "jsd-entropies", "H(m) - (H(p) + H(q)) / 2 with xlogy entropies")
def _(p, q):
    def entropy(a):
        return -torch.xlogy(a, a).sum()
    return entropy((p + q) / 2) - 0.5 * (entropy(p) + entropy(q))


@ok(C, "jsd-python-loop", "plain Python loop with math.log, returns a float")
def _(p, q):
    total = 0.0
    for a, b in zip(p.tolist(), q.tolist()):
        m = (a + b) / 2
        if a > 0:
            total += 0.5 * a * math.log(a / m)
        if b > 0:
            total += 0.5 * b * math.log(b / m)
    return total


@ok(C, "jsd-where", "torch.where to zero the p_i = 0 terms, computed in the input's dtype")
def _(p, q):
    m = (p + q) / 2
    safe_m = torch.where(m > 0, m, torch.ones_like(m))
    term_p = torch.where(p > 0, p * torch.log(torch.where(p > 0, p, torch.ones_like(p)) / safe_m), torch.zeros_like(p))
    term_q = torch.where(q > 0, q * torch.log(torch.where(q > 0, q, torch.ones_like(q)) / safe_m), torch.zeros_like(q))
    return 0.5 * term_p.sum() + 0.5 * term_q.sum()


@bad(C, "jsd-no-mask", "p log(p / m) without handling zeros: 0 * log 0 gives NaN",
     hint="not 0·log 0 = nan")
def _(p, q):
    m = (p + q) / 2
    return 0.5 * (p * torch.log(p / m)).sum() + 0.5 * (q * torch.log(q / m)).sum()


@bad(C, "jsd-kl-p-q", "returns KL(p || q): not symmetric, infinite where q = 0 < p",
     hint="this is KL(p || q)")
def _(p, q):
    keep = p > 0
    return (p[keep] * torch.log(p[keep] / q[keep])).sum()


@bad(C, "jsd-bits", "uses log2: result in bits, not nats",
     hint="this is in bits")
def _(p, q):
    m = (p + q) / 2
    return 0.5 * (torch.xlogy(p, p) - torch.xlogy(p, m)).sum() / math.log(2) \
        + 0.5 * (torch.xlogy(q, q) - torch.xlogy(q, m)).sum() / math.log(2)


@bad(C, "jsd-missing-half", "KL(p||m) + KL(q||m) without the factor 1/2: up to 2 log 2",
     hint="the ½ in front of each KL term is missing")
def _(p, q):
    m = (p + q) / 2
    return (torch.xlogy(p, p) - torch.xlogy(p, m)).sum() + (torch.xlogy(q, q) - torch.xlogy(q, m)).sum()


@bad(C, "jsd-symmetric-kl", "averages KL(p||q) and KL(q||p) instead of comparing each with the mixture",
     hint="this averages KL(p || q) and KL(q || p)")
def _(p, q):
    eps = 1e-12
    return 0.5 * (p * torch.log((p + eps) / (q + eps))).sum() + 0.5 * (q * torch.log((q + eps) / (p + eps))).sum()


@bad(C, "jsd-distance-sqrt", "returns the Jensen-Shannon distance sqrt(JSD) (as scipy's jensenshannon), not the divergence",
     hint="the Jensen-Shannon *distance*")
def _(p, q):
    m = (p + q) / 2
    jsd = 0.5 * (torch.xlogy(p, p) - torch.xlogy(p, m)).sum() + 0.5 * (torch.xlogy(q, q) - torch.xlogy(q, m)).sum()
    return torch.sqrt(jsd)


@bad(C, "jsd-kl-div-shared-zero", "F.kl_div(log m, p): NaN where p and q are both 0 (0 * log 0 in the input)",
     hint="even where m = 0")
def _(p, q):
    m = (p + q) / 2
    return 0.5 * F.kl_div(m.log(), p, reduction="sum") + 0.5 * F.kl_div(m.log(), q, reduction="sum")


# =============================================================================================
# 01 · Exercise 4: discriminator_loss (minimised by D: -V = BCE(real, 1) + BCE(fake, 0))
# =============================================================================================
C = "check_discriminator_loss"


@ok(C, "dloss-bce-ones-zeros-like", "F.binary_cross_entropy_with_logits with ones_like / zeros_like")
def discriminator_loss_bce(logits_real, logits_fake):
    loss_real = F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
    loss_fake = F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
    return loss_real + loss_fake


@ok(C, "dloss-softplus", "softplus(-t) for real, softplus(t) for fake")
def _(logits_real, logits_fake):
    return F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean()


@ok(C, "dloss-minus-logsigmoid", "-(mean logsigmoid(t_real) + mean logsigmoid(-t_fake))")
def _(logits_real, logits_fake):
    return -(torch.mean(F.logsigmoid(logits_real)) + torch.mean(F.logsigmoid(-logits_fake)))


@ok(C, "dloss-module-full", "nn.BCEWithLogitsLoss module with torch.full labels")
def _(logits_real, logits_fake):
    criterion = nn.BCEWithLogitsLoss()
    real_labels = torch.full(logits_real.shape, 1.0, dtype=logits_real.dtype, device=logits_real.device)
    fake_labels = torch.full(logits_fake.shape, 0.0, dtype=logits_fake.dtype, device=logits_fake.device)
    return criterion(logits_real, real_labels) + criterion(logits_fake, fake_labels)


@ok(C, "dloss-column-labels", "logits reshaped to (B, 1), labels built as (B, 1)")
def _(logits_real, logits_fake):
    r, f = logits_real.reshape(-1, 1), logits_fake.reshape(-1, 1)
    return (F.binary_cross_entropy_with_logits(r, torch.ones(r.shape[0], 1, device=r.device, dtype=r.dtype))
            + F.binary_cross_entropy_with_logits(f, torch.zeros(f.shape[0], 1, device=f.device, dtype=f.dtype)))


@ok(C, "dloss-minus-value", "minus my value_estimate (the lesson's -V)")
def _(logits_real, logits_fake):
    return -value_estimate_logsigmoid(logits_real, logits_fake)


@ok(C, "dloss-per-sample-then-mean", "reduction='none' per-sample losses, each batch averaged separately")
def _(logits_real, logits_fake):
    per_real = F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real), reduction="none")
    per_fake = F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake), reduction="none")
    return per_real.mean() + per_fake.mean()


@bad(C, "dloss-flipped-labels", "labels flipped: real -> 0, fake -> 1",
     hint="the labels are flipped")
def _(logits_real, logits_fake):
    return (F.binary_cross_entropy_with_logits(logits_real, torch.zeros_like(logits_real))
            + F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake)))


@bad(C, "dloss-averaged", "averages the two terms instead of adding them (the loss is -V, a sum)",
     hint="this averages the two terms")
def _(logits_real, logits_fake):
    return 0.5 * (F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean())


@bad(C, "dloss-real-minus-fake", "real - fake on raw scores: pushes real scores down, unbounded",
     hint="the loss is `real - fake` on raw scores")
def _(logits_real, logits_fake):
    return logits_real.mean() - logits_fake.mean()


@bad(C, "dloss-bce-on-sigmoid", "BCE applied to sigmoid outputs: unstable/clamped for large logits",
     hint="clamps its log at -100")
def _(logits_real, logits_fake):
    d_real, d_fake = torch.sigmoid(logits_real), torch.sigmoid(logits_fake)
    return F.binary_cross_entropy(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake))


@bad(C, "dloss-log-sigmoid-naive", "-log(sigmoid) written out: inf/NaN for confident logits",
     hint="so log(1 - sigmoid(t))")
def _(logits_real, logits_fake):
    return -torch.log(torch.sigmoid(logits_real)).mean() - torch.log(1 - torch.sigmoid(logits_fake)).mean()


@bad(C, "dloss-double-sigmoid", "double sigmoid: sigmoid applied before binary_cross_entropy_with_logits",
     hint="sigmoid was applied before a loss that expects logits")
def _(logits_real, logits_fake):
    return (F.binary_cross_entropy_with_logits(torch.sigmoid(logits_real), torch.ones_like(logits_real))
            + F.binary_cross_entropy_with_logits(torch.sigmoid(logits_fake), torch.zeros_like(logits_fake)))


@bad(C, "dloss-sum-reduction", "sum over the batch instead of the mean",
     hint="this sums over the batch")
def _(logits_real, logits_fake):
    return (F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real), reduction="sum")
            + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake), reduction="sum"))


@bad(C, "dloss-returns-value", "returns V itself, which the discriminator maximises, not its negative",
     hint="this is V(D, G), which the discriminator maximises")
def _(logits_real, logits_fake):
    return F.logsigmoid(logits_real).mean() + F.logsigmoid(-logits_fake).mean()


@bad(C, "dloss-concatenated", "one BCE over the concatenated batch: the mean of the two terms, wrong weights when sizes differ",
     hint="one mean over the concatenated batch")
def _(logits_real, logits_fake):
    logits = torch.cat([logits_real.flatten(), logits_fake.flatten()])
    labels = torch.cat([torch.ones(logits_real.numel()), torch.zeros(logits_fake.numel())]).to(logits)
    return F.binary_cross_entropy_with_logits(logits, labels)


# =============================================================================================
# 01 · Exercise 5: generator_loss, non-saturating (BCE(D(G(z)), 1) = -mean log sigmoid(t))
# =============================================================================================
C = "check_generator_loss"


@ok(C, "gloss-bce-ones-like", "F.binary_cross_entropy_with_logits against ones_like")
def generator_loss_bce(logits_fake):
    return F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))


@ok(C, "gloss-softplus", "softplus(-t).mean()")
def _(logits_fake):
    return F.softplus(-logits_fake).mean()


@ok(C, "gloss-minus-logsigmoid", "-torch.mean(F.logsigmoid(t))")
def _(logits_fake):
    return -torch.mean(F.logsigmoid(logits_fake))


@ok(C, "gloss-module-full", "nn.BCEWithLogitsLoss with torch.full labels")
def _(logits_fake):
    return nn.BCEWithLogitsLoss()(logits_fake, torch.full_like(logits_fake, 1.0))


@ok(C, "gloss-column-labels", "(B, 1) labels with the logits viewed as (B, 1)")
def _(logits_fake):
    t = logits_fake.view(-1, 1)
    return F.binary_cross_entropy_with_logits(t, torch.ones(len(t), 1, dtype=t.dtype, device=t.device))


@ok(C, "gloss-logaddexp", "-log sigmoid(t) = logaddexp(0, -t)")
def _(logits_fake):
    return torch.logaddexp(torch.zeros_like(logits_fake), -logits_fake).mean()


@bad(C, "gloss-label-0", "generator loss against label 0: trains G to make D reject its samples",
     hint="scored against label 0")
def _(logits_fake):
    return F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))


@bad(C, "gloss-mean-d-of-g", "L_G = E[D(G(z))]: minimising it drives samples away from the data",
     hint="`L_G = E[D(G(z))]`")
def _(logits_fake):
    return torch.sigmoid(logits_fake).mean()


@bad(C, "gloss-saturating-instead", "returns the saturating loss mean log(1 - D(G(z))) instead of the non-saturating one",
     hint="this is the saturating loss")
def _(logits_fake):
    return -F.softplus(logits_fake).mean()


@bad(C, "gloss-log-sigmoid-naive", "-log(sigmoid(t)): inf and NaN gradients when D rejects confidently",
     hint="log(sigmoid(t)) underflows")
def _(logits_fake):
    return -torch.log(torch.sigmoid(logits_fake)).mean()


@bad(C, "gloss-bce-on-sigmoid", "BCE on sigmoid outputs: clamped at 100, zero gradient for confident rejections",
     hint="clamps its log at -100")
def _(logits_fake):
    d = torch.sigmoid(logits_fake)
    return F.binary_cross_entropy(d, torch.ones_like(d))


@bad(C, "gloss-minus-logits", "-mean(logit) (the hinge/WGAN generator loss), not the non-saturating BCE",
     hint="this is -mean logit")
def _(logits_fake):
    return -logits_fake.mean()


@bad(C, "gloss-sum", "sum over the batch instead of the mean",
     hint="this sums over the batch")
def _(logits_fake):
    return F.softplus(-logits_fake).sum()


@bad(C, "gloss-log1p-exp-overflow", "softplus written as log1p(exp(-t)): exp overflows to inf at t = -100",
     hint="exp overflows")
def _(logits_fake):
    return torch.log1p(torch.exp(-logits_fake)).mean()


# =============================================================================================
# 01 · Exercise 6: generator_loss_saturating (mean log(1 - sigmoid(t)), minimised by G)
# =============================================================================================
C = "check_generator_loss"
SAT = {"saturating": True}


@ok(C, "satloss-minus-softplus", "-softplus(t).mean()", kwargs=SAT)
def _(logits_fake):
    return -F.softplus(logits_fake).mean()


@ok(C, "satloss-logsigmoid-neg", "mean logsigmoid(-t)", kwargs=SAT)
def _(logits_fake):
    return F.logsigmoid(-logits_fake).mean()


@ok(C, "satloss-minus-bce-zero", "minus BCE-with-logits against label 0", kwargs=SAT)
def _(logits_fake):
    return -F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))


@ok(C, "satloss-logaddexp", "-logaddexp(0, t), torch.mean", kwargs=SAT)
def _(logits_fake):
    return torch.mean(-torch.logaddexp(torch.zeros_like(logits_fake), logits_fake))


@ok(C, "satloss-softplus-module", "nn.Softplus module, negated", kwargs=SAT)
def _(logits_fake):
    softplus = nn.Softplus()
    return -softplus(logits_fake).mean()


@bad(C, "satloss-log-one-minus-sigmoid", "torch.log(1 - sigmoid(t)): -inf when D(G(z)) rounds to 1", kwargs=SAT,
     hint="so log(1 - sigmoid(t))")
def _(logits_fake):
    return torch.log(1 - torch.sigmoid(logits_fake)).mean()


@bad(C, "satloss-log1p-sigmoid", "log1p(-sigmoid(t)) is still -inf at t = 100", kwargs=SAT,
     hint="torch.log1p(-torch.sigmoid(t)) too")
def _(logits_fake):
    return torch.log1p(-torch.sigmoid(logits_fake)).mean()


@bad(C, "satloss-non-saturating-instead", "returns the non-saturating loss, not the minimax game's own", kwargs=SAT,
     hint="this is the non-saturating loss")
def _(logits_fake):
    return F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))


@bad(C, "satloss-sign", "sign flipped: minimising -log(1 - D(G(z))) makes G help D", kwargs=SAT,
     hint="the sign is flipped")
def _(logits_fake):
    return F.softplus(logits_fake).mean()


@bad(C, "satloss-log-d", "minimises log D(G(z)): pushes the samples away from the data", kwargs=SAT,
     hint="this is mean log D(G(z))")
def _(logits_fake):
    return F.logsigmoid(logits_fake).mean()


@bad(C, "satloss-sum", "sum over the batch instead of the mean", kwargs=SAT,
     hint="this sums over the batch")
def _(logits_fake):
    return -F.softplus(logits_fake).sum()


@bad(C, "satloss-bce-on-sigmoid", "minus BCE on sigmoid outputs: clamped at -100, wrong for confident logits", kwargs=SAT,
     hint="clamps its log at -100")
def _(logits_fake):
    d = torch.sigmoid(logits_fake)
    return -F.binary_cross_entropy(d, torch.zeros_like(d))


# =============================================================================================
# 02 · Exercise 1a: Generator to a spec (Generator.__init__ / Generator.forward)
#   z (B, 64) -> Linear 64->256 -> LeakyReLU(0.2) -> Linear 256->512 -> LeakyReLU(0.2)
#   -> Linear 512->784 -> tanh, reshaped to (B, 1, 28, 28)
# =============================================================================================
C = "check_generator_spec"


@ok(C, "mlpgen-sequential-view", "nn.Sequential, .view(-1, 1, 28, 28) in forward", instantiate=True)
class MLPGenSequential(nn.Module):
    def __init__(self, latent_dim=64):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 256), nn.LeakyReLU(0.2),
            nn.Linear(256, 512), nn.LeakyReLU(0.2),
            nn.Linear(512, 784), nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z).view(-1, 1, 28, 28)


@ok(C, "mlpgen-functional-forward", "named Linear layers, F.leaky_relu and torch.tanh in forward", instantiate=True)
class _(nn.Module):
    def __init__(self, latent_dim=64):
        super().__init__()
        self.latent_dim = latent_dim
        self.fc1 = nn.Linear(latent_dim, 256)
        self.fc2 = nn.Linear(256, 512)
        self.fc3 = nn.Linear(512, 28 * 28)

    def forward(self, z):
        h = F.leaky_relu(self.fc1(z), 0.2)
        h = F.leaky_relu(self.fc2(h), negative_slope=0.2)
        return torch.tanh(self.fc3(h)).reshape(z.shape[0], 1, 28, 28)


@ok(C, "mlpgen-unflatten", "nn.Unflatten inside the Sequential", instantiate=True)
class _(nn.Module):
    def __init__(self, latent_dim=64):
        super().__init__()
        self.latent_dim = latent_dim
        self.model = nn.Sequential(
            nn.Linear(latent_dim, 256), nn.LeakyReLU(negative_slope=0.2, inplace=True),
            nn.Linear(256, 512), nn.LeakyReLU(negative_slope=0.2, inplace=True),
            nn.Linear(512, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)),
        )

    def forward(self, z):
        return self.model(z)


@ok(C, "mlpgen-modulelist-loop", "ModuleList built from a width list, loop in forward", instantiate=True)
class _(nn.Module):
    def __init__(self, latent_dim=64):
        super().__init__()
        self.latent_dim = latent_dim
        widths = [latent_dim, 256, 512, 784]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        self.act = nn.LeakyReLU(0.2)

    def forward(self, z):
        x = z
        for i, layer in enumerate(self.layers):
            x = layer(x)
            x = self.act(x) if i < len(self.layers) - 1 else torch.tanh(x)
        return x.view(len(z), 1, 28, 28)


@ok(C, "mlpgen-add-module", "layers registered with add_module and called in order", instantiate=True)
class _(nn.Module):
    def __init__(self, latent_dim=64):
        super().__init__()
        self.latent_dim = latent_dim
        for i, (a, b) in enumerate([(latent_dim, 256), (256, 512), (512, 784)]):
            self.add_module(f"linear{i}", nn.Linear(a, b))

    def forward(self, z):
        x = F.leaky_relu(self.linear0(z), 0.2)
        x = F.leaky_relu(self.linear1(x), 0.2)
        x = self.linear2(x).tanh()
        return x.unflatten(1, (1, 28, 28))


def _mlp_gen(act=lambda: nn.LeakyReLU(0.2), widths=(256, 512), out=nn.Tanh, reshape=True, bn=False, latent_in=None,
             batch=None):
    """A small factory for the wrong generators below (each one deviates from the spec in one way)."""
    class Gen(nn.Module):
        def __init__(self, latent_dim=64):
            super().__init__()
            self.latent_dim = latent_dim
            layers, width = [], latent_in or latent_dim
            for size in widths:
                layers += [nn.Linear(width, size)] + ([nn.BatchNorm1d(size)] if bn else []) + [act()]
                width = size
            layers += [nn.Linear(width, 784)] + ([out()] if out else [])
            self.net = nn.Sequential(*layers)

        def forward(self, z):
            x = self.net(z)
            if not reshape:
                return x
            return x.view(batch or z.shape[0], 1, 28, 28)
    return Gen


case(C, _mlp_gen(act=nn.ReLU), "fail", "mlpgen-relu", "ReLU instead of LeakyReLU(0.2)", instantiate=True,
     hint="use nn.LeakyReLU(0.2)")
case(C, _mlp_gen(act=nn.LeakyReLU), "fail", "mlpgen-leaky-default-slope",
     "nn.LeakyReLU() with its default slope 0.01 instead of 0.2", instantiate=True,
     hint="pass the slope")
case(C, _mlp_gen(out=None), "fail", "mlpgen-no-tanh", "no tanh at the output: unbounded images", instantiate=True,
     hint="end the generator with nn.Tanh()")
case(C, _mlp_gen(out=nn.Sigmoid), "fail", "mlpgen-sigmoid-output", "sigmoid output: images in [0, 1], data in [-1, 1]",
     instantiate=True, hint="replace the final sigmoid with nn.Tanh()")
case(C, _mlp_gen(widths=(512, 256)), "fail", "mlpgen-widths-swapped", "hidden widths 512 then 256 (the discriminator's order)",
     instantiate=True, hint="your Linear layers go 64 -> 512 -> 256 -> 784")
case(C, _mlp_gen(reshape=False), "fail", "mlpgen-flat-output", "returns (B, 784), not reshaped to (B, 1, 28, 28)",
     instantiate=True, hint="reshape the last layer's output")
case(C, _mlp_gen(bn=True), "fail", "mlpgen-extra-batchnorm", "adds BatchNorm1d layers the spec does not have",
     instantiate=True, hint="BatchNorm layers the spec does not have")
case(C, _mlp_gen(batch=128), "fail", "mlpgen-hardcoded-batch", "reshape hard-codes the batch size 128", instantiate=True,
     hint="a batch size written into the code")
case(C, _mlp_gen(latent_in=100), "fail", "mlpgen-latent-100", "first layer takes 100 inputs (DCGAN habit), not latent_dim = 64",
     instantiate=True, hint="the first Linear layer takes 100 inputs")


@bad(C, "mlpgen-forward-no-channel", "forward reshapes to (B, 28, 28), dropping the channel dimension", instantiate=True,
     hint="the channel dimension is missing")
class _(MLPGenSequential):
    def forward(self, z):
        return self.net(z).view(-1, 28, 28)


# =============================================================================================
# 02 · Exercise 1b: Discriminator to a spec (Discriminator.__init__ / Discriminator.forward)
#   (B, 1, 28, 28) -> flatten -> Linear 784->512 -> LeakyReLU(0.2) -> Linear 512->256
#   -> LeakyReLU(0.2) -> Linear 256->1: one raw logit per image (no sigmoid)
# =============================================================================================
C = "check_discriminator_spec"


@ok(C, "mlpdisc-sequential-flatten", "nn.Sequential with nn.Flatten, output (B, 1)", instantiate=True)
class _(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 512), nn.LeakyReLU(0.2),
            nn.Linear(512, 256), nn.LeakyReLU(0.2),
            nn.Linear(256, 1),
        )

    def forward(self, x):
        return self.net(x)


@ok(C, "mlpdisc-view-squeeze", "x.view(B, -1), functional activations, squeezed to (B,)", instantiate=True)
class _(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 512), nn.Linear(512, 256), nn.Linear(256, 1)

    def forward(self, x):
        h = x.view(x.size(0), -1)
        h = F.leaky_relu(self.fc1(h), 0.2)
        h = F.leaky_relu(self.fc2(h), 0.2)
        return self.fc3(h).squeeze(1)


@ok(C, "mlpdisc-flatten1-inplace", "x.flatten(1), LeakyReLU(0.2, inplace=True), .squeeze(-1)", instantiate=True)
class _(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(28 * 28, 512), nn.LeakyReLU(0.2, inplace=True),
                                  nn.Linear(512, 256), nn.LeakyReLU(0.2, inplace=True))
        self.head = nn.Linear(256, 1)

    def forward(self, x):
        return self.head(self.body(x.flatten(1))).squeeze(-1)


@ok(C, "mlpdisc-modulelist", "ModuleList from a width list, loop with activations between layers", instantiate=True)
class _(nn.Module):
    def __init__(self):
        super().__init__()
        widths = [784, 512, 256, 1]
        self.layers = nn.ModuleList([nn.Linear(widths[i], widths[i + 1]) for i in range(3)])

    def forward(self, x):
        h = torch.reshape(x, (x.shape[0], -1))
        for layer in self.layers[:-1]:
            h = F.leaky_relu(layer(h), negative_slope=0.2)
        return self.layers[-1](h)


def _mlp_disc(act=lambda: nn.LeakyReLU(0.2), widths=(512, 256), out_features=1, sigmoid=False, flatten="batch"):
    class Disc(nn.Module):
        def __init__(self):
            super().__init__()
            layers, width = [], 784
            for size in widths:
                layers += [nn.Linear(width, size)] + ([act()] if act else [])
                width = size
            layers.append(nn.Linear(width, out_features))
            if sigmoid:
                layers.append(nn.Sigmoid())
            self.net = nn.Sequential(*layers)

        def forward(self, x):
            if flatten == "batch":
                x = x.view(x.shape[0], -1)
            elif flatten == "all":
                x = x.view(-1)
            else:
                x = x.view(flatten, -1)
            return self.net(x)
    return Disc


case(C, _mlp_disc(sigmoid=True), "fail", "mlpdisc-sigmoid", "sigmoid at the end: returns probabilities, not raw logits",
     instantiate=True, hint="return raw logits (no sigmoid)")
case(C, _mlp_disc(act=nn.ReLU), "fail", "mlpdisc-relu", "ReLU instead of LeakyReLU(0.2)", instantiate=True,
     hint="use nn.LeakyReLU(0.2)")
case(C, _mlp_disc(act=nn.LeakyReLU), "fail", "mlpdisc-leaky-default-slope", "LeakyReLU with the default slope 0.01",
     instantiate=True, hint="pass the slope")
case(C, _mlp_disc(widths=(256, 512)), "fail", "mlpdisc-widths-mirrored", "hidden widths 256 then 512 (the generator's order)",
     instantiate=True, hint="your Linear layers go 784 -> 256 -> 512 -> 1")
case(C, _mlp_disc(out_features=2), "fail", "mlpdisc-two-logits", "two output logits (a softmax classifier head), not one",
     instantiate=True, hint="a Linear layer with 1 output")
case(C, _mlp_disc(flatten="all"), "fail", "mlpdisc-flatten-batch-too", "x.view(-1) flattens the batch dimension too",
     instantiate=True, hint="the whole batch was flattened into one row")
case(C, _mlp_disc(flatten=128), "fail", "mlpdisc-hardcoded-batch", "x.view(128, -1): hard-coded batch size", instantiate=True,
     hint="a batch size written into the code")
case(C, _mlp_disc(act=None), "fail", "mlpdisc-no-activations", "no activations between the Linear layers: a linear model",
     instantiate=True, hint="the spec puts nn.LeakyReLU(0.2) after each hidden layer")


@bad(C, "mlpdisc-forward-no-flatten", "forward never flattens the image: the first Linear is applied to the last axis (28 values)",
     instantiate=True, hint="without being flattened")
class _(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2),
                                 nn.Linear(256, 1))

    def forward(self, x):
        return self.net(x)


# =============================================================================================
# 02 · Exercise 2: train_step (D on real + detached fakes, then non-saturating G through updated D)
# =============================================================================================
C = "check_train_step"


def _d_loss(real_logits, fake_logits):
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def _g_loss(fake_logits):
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


@ok(C, "step-lesson-style", "fakes once, detach for D, reuse for G through the updated D, returns floats")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    fake = generator(z)
    loss_d = _d_loss(discriminator(x_real), discriminator(fake.detach()))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = _g_loss(discriminator(fake))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


@ok(C, "step-detached-tensors", "returns detached 0-d tensors; softplus losses")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    opt_d.zero_grad()
    x_fake = generator(z)
    loss_d = F.softplus(-discriminator(x_real)).mean() + F.softplus(discriminator(x_fake.detach())).mean()
    loss_d.backward()
    opt_d.step()
    opt_g.zero_grad()
    loss_g = F.softplus(-discriminator(x_fake)).mean()
    loss_g.backward()
    opt_g.step()
    return loss_d.detach(), loss_g.detach()


@ok(C, "step-two-backwards-tutorial", "PyTorch-tutorial style: real and fake D losses backpropagated separately")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    discriminator.zero_grad()
    out_real = discriminator(x_real)
    err_real = F.binary_cross_entropy_with_logits(out_real, torch.full_like(out_real, 1.0))
    err_real.backward()
    fake = generator(z)
    out_fake = discriminator(fake.detach())
    err_fake = F.binary_cross_entropy_with_logits(out_fake, torch.full_like(out_fake, 0.0))
    err_fake.backward()
    opt_d.step()
    generator.zero_grad()
    out = discriminator(fake)
    err_g = F.binary_cross_entropy_with_logits(out, torch.full_like(out, 1.0))
    err_g.backward()
    opt_g.step()
    return (err_real + err_fake).item(), err_g.item()


@ok(C, "step-no-grad-fakes-regenerate", "fakes for D made under no_grad, generated again for G's step")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    with torch.no_grad():
        fake_for_d = generator(z)
    loss_d = _d_loss(discriminator(x_real), discriminator(fake_for_d))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    loss_g = _g_loss(discriminator(generator(z)))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return float(loss_d), float(loss_g)


@ok(C, "step-freeze-d-for-g", "D's parameters frozen (requires_grad_(False)) during G's update, then restored")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    fake = generator(z)
    opt_d.zero_grad()
    loss_d = discriminator_loss_bce(discriminator(x_real), discriminator(fake.detach()))
    loss_d.backward()
    opt_d.step()
    for p in discriminator.parameters():
        p.requires_grad_(False)
    try:
        opt_g.zero_grad()
        loss_g = generator_loss_bce(discriminator(fake))
        loss_g.backward()
        opt_g.step()
    finally:
        for p in discriminator.parameters():
            p.requires_grad_(True)
    return loss_d.item(), loss_g.item()


@bad(C, "step-no-detach-retain-graph", "no detach (retain_graph=True to silence the error): G's update includes the D loss's gradient",
     hint="a missing detach")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    opt_d.zero_grad()
    opt_g.zero_grad()
    fake = generator(z)
    loss_d = _d_loss(discriminator(x_real), discriminator(fake))
    loss_d.backward(retain_graph=True)
    opt_d.step()
    loss_g = _g_loss(discriminator(fake))
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


@bad(C, "step-simultaneous", "simultaneous update: G's loss computed through the discriminator before its update",
     hint="update the discriminator first")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    fake = generator(z)
    loss_d = _d_loss(discriminator(x_real), discriminator(fake.detach()))
    loss_g = _g_loss(discriminator(fake))
    opt_d.zero_grad()
    opt_g.zero_grad()
    loss_d.backward()
    loss_g.backward()
    opt_d.step()
    opt_g.step()
    return loss_d.item(), loss_g.item()


@bad(C, "step-g-label-0", "generator trained against label 0",
     hint="trained towards label 0")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    fake = generator(z)
    loss_d = _d_loss(discriminator(x_real), discriminator(fake.detach()))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    out = discriminator(fake)
    loss_g = F.binary_cross_entropy_with_logits(out, torch.zeros_like(out))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


@bad(C, "step-saturating-g", "uses the saturating generator loss, not the non-saturating one",
     hint="this is the saturating loss")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    fake = generator(z)
    loss_d = _d_loss(discriminator(x_real), discriminator(fake.detach()))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = -F.softplus(discriminator(fake)).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


@bad(C, "step-no-zero-grad", "never zeroes gradients: they accumulate across steps (and G's backward leaves grads in D)",
     hint="zero_grad() before each backward()")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    fake = generator(z)
    loss_d = _d_loss(discriminator(x_real), discriminator(fake.detach()))
    loss_d.backward()
    opt_d.step()
    loss_g = _g_loss(discriminator(fake))
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


@bad(C, "step-zero-grad-before-step", "zero_grad() between backward() and step(): the optimizers step with no gradient",
     hint="the order is zero_grad(), backward(), step()")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    fake = generator(z)
    loss_d = _d_loss(discriminator(x_real), discriminator(fake.detach()))
    loss_d.backward()
    opt_d.zero_grad()
    opt_d.step()
    loss_g = _g_loss(discriminator(fake))
    loss_g.backward()
    opt_g.zero_grad()
    opt_g.step()
    return loss_d.item(), loss_g.item()


@bad(C, "step-d-labels-flipped", "discriminator trained with flipped labels (real 0, fake 1)",
     hint="trained with the labels flipped")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    fake = generator(z)
    loss_d = _d_loss(discriminator(fake.detach()), discriminator(x_real))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = _g_loss(discriminator(fake))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


@bad(C, "step-wrong-optimizer", "typo: steps opt_d after the generator's backward, so G never moves and D gets G's gradient",
     hint="opt_g.step() 0 times")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    fake = generator(z)
    loss_d = _d_loss(discriminator(x_real), discriminator(fake.detach()))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = _g_loss(discriminator(fake))
    opt_g.zero_grad()
    loss_g.backward()
    opt_d.step()
    return loss_d.item(), loss_g.item()


@bad(C, "step-g-on-detached-fake", "G's loss computed on the detached fakes: no gradient reaches the generator",
     hint="G(z).detach() is for the discriminator's loss only")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    fake = generator(z).detach()
    loss_d = _d_loss(discriminator(x_real), discriminator(fake))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = _g_loss(discriminator(fake))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


@bad(C, "step-no-return", "does both updates but forgets to return (loss_d, loss_g)",
     hint="did you forget `return`?")
def _(generator, discriminator, opt_g, opt_d, x_real, z):
    fake = generator(z)
    loss_d = _d_loss(discriminator(x_real), discriminator(fake.detach()))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = _g_loss(discriminator(fake))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()


# =============================================================================================
# 02 · Exercise 3: sample_images (n samples (n, 1, 28, 28); nothing trained; BatchNorm untouched;
#   generator left in the mode it was found in, assumed training mode)
# =============================================================================================
C = "check_sample_images"


def _device_of(module):
    return next(module.parameters()).device


@ok(C, "sample-eval-nograd-restore", "eval() + no_grad, restores the previous mode")
def _(generator, n):
    was_training = generator.training
    generator.eval()
    with torch.no_grad():
        images = generator(torch.randn(n, generator.latent_dim, device=_device_of(generator)))
    generator.train(was_training)
    return images


@ok(C, "sample-try-finally-inference", "try/finally, torch.inference_mode")
def _(generator, n):
    mode = generator.training
    generator.train(False)
    try:
        with torch.inference_mode():
            return generator(torch.randn(n, generator.latent_dim, device=_device_of(generator)))
    finally:
        generator.train(mode)


@ok(C, "sample-detach-assume-train", "eval(), .detach() on the output, back to train() (the text says assume training mode)")
def _(generator, n):
    generator.eval()
    z = torch.randn(n, generator.latent_dim).to(_device_of(generator))
    images = generator(z).detach()
    generator.train()
    return images


@ok(C, "sample-chunks", "samples in chunks of 256 under no_grad and concatenates")
def _(generator, n):
    was = generator.training
    generator.eval()
    chunks = []
    with torch.no_grad():
        for start in range(0, n, 256):
            size = min(256, n - start)
            chunks.append(generator(torch.randn(size, generator.latent_dim, device=_device_of(generator))))
    generator.train(was)
    return torch.cat(chunks)


@ok(C, "sample-decorator-dtype", "@torch.no_grad() helper; noise in the generator's dtype and device")
@torch.no_grad()
def _(generator, n):
    first = next(generator.parameters())
    training = generator.training
    generator.eval()
    out = generator(torch.randn(n, generator.latent_dim, dtype=first.dtype, device=first.device))
    if training:
        generator.train()
    return out


@bad(C, "sample-train-mode", "samples in training mode: BatchNorm uses batch statistics and updates its running averages",
     hint="call generator.eval() before sampling")
def _(generator, n):
    with torch.no_grad():
        return generator(torch.randn(n, generator.latent_dim, device=_device_of(generator)))


@bad(C, "sample-left-in-eval", "switches to eval() and never switches back to training mode",
     hint="put it back with generator.train()")
def _(generator, n):
    generator.eval()
    with torch.no_grad():
        return generator(torch.randn(n, generator.latent_dim, device=_device_of(generator)))


@bad(C, "sample-with-grad", "no no_grad/detach: the samples carry an autograd graph into the generator",
     hint="sample under torch.no_grad()")
def _(generator, n):
    was = generator.training
    generator.eval()
    images = generator(torch.randn(n, generator.latent_dim, device=_device_of(generator)))
    generator.train(was)
    return images


@bad(C, "sample-eval-too-late", "calls eval() after the forward pass: BatchNorm statistics already updated",
     hint="call generator.eval() before sampling")
def _(generator, n):
    with torch.no_grad():
        images = generator(torch.randn(n, generator.latent_dim, device=_device_of(generator)))
    generator.eval()
    generator.train()
    return images


@bad(C, "sample-hardcoded-latent-64", "noise size hard-coded to 64 instead of generator.latent_dim",
     hint="generator.latent_dim = 8")
def _(generator, n):
    was = generator.training
    generator.eval()
    with torch.no_grad():
        images = generator(torch.randn(n, 64, device=_device_of(generator)))
    generator.train(was)
    return images


@bad(C, "sample-uniform-noise", "uniform noise torch.rand instead of the Gaussian prior the generator was trained on",
     hint="draw z with torch.randn")
def _(generator, n):
    was = generator.training
    generator.eval()
    with torch.no_grad():
        images = generator(torch.rand(n, generator.latent_dim, device=_device_of(generator)))
    generator.train(was)
    return images


@bad(C, "sample-reseeds", "torch.manual_seed(0) inside: the same 'new' samples on every call (and the global RNG reset)",
     hint="torch.manual_seed inside the function")
def _(generator, n):
    torch.manual_seed(0)
    was = generator.training
    generator.eval()
    with torch.no_grad():
        images = generator(torch.randn(n, generator.latent_dim, device=_device_of(generator)))
    generator.train(was)
    return images


# =============================================================================================
# 02 · Exercise 4: digit_histogram (share of images classified as each digit: 10 numbers)
# =============================================================================================
C = "check_digit_histogram"


@ok(C, "hist-bincount", "argmax, bincount(minlength=10) / N")
def _(judge, images):
    with torch.no_grad():
        predictions = judge(images).argmax(dim=1)
    return torch.bincount(predictions, minlength=10).float() / len(images)


@ok(C, "hist-one-hot-mean", "F.one_hot of the predictions, mean over images")
def _(judge, images):
    with torch.no_grad():
        logits = judge(images)
    return F.one_hot(logits.argmax(1), num_classes=10).float().mean(0)


@ok(C, "hist-loop-digits", "loop over the ten digits, (pred == d).float().mean()")
def _(judge, images):
    pred = judge(images).detach().argmax(-1)
    return torch.stack([(pred == digit).float().mean() for digit in range(10)])


@ok(C, "hist-histc", "torch.histc over the predicted classes")
def _(judge, images):
    with torch.no_grad():
        pred = torch.softmax(judge(images), dim=1).argmax(dim=1)
    return torch.histc(pred.float(), bins=10, min=0, max=9) / pred.numel()


@ok(C, "hist-batched-scatter", "batches of 500 through the judge, counts with scatter_add_")
def _(judge, images):
    counts = torch.zeros(10)
    with torch.no_grad():
        for start in range(0, len(images), 500):
            pred = judge(images[start:start + 500]).argmax(1).cpu()
            counts.scatter_add_(0, pred, torch.ones(len(pred)))
    return counts / counts.sum()


@bad(C, "hist-mean-softmax", "averages the softmax probabilities instead of counting classified images",
     hint="this averages the judge's probabilities")
def _(judge, images):
    with torch.no_grad():
        return torch.softmax(judge(images), dim=1).mean(0)


@bad(C, "hist-counts", "returns counts, not shares (forgets to divide by the number of images)",
     hint="these are counts")
def _(judge, images):
    with torch.no_grad():
        return torch.bincount(judge(images).argmax(1), minlength=10).float()


@bad(C, "hist-no-minlength", "bincount without minlength=10: fewer than 10 numbers when the top digits are missing",
     hint="minlength=10")
def _(judge, images):
    with torch.no_grad():
        pred = judge(images).argmax(1)
    return torch.bincount(pred).float() / len(pred)


@bad(C, "hist-argmax-dim0", "argmax over the batch dimension (dim=0) instead of the classes",
     hint="the argmax ran over dimension 0")
def _(judge, images):
    with torch.no_grad():
        pred = judge(images).argmax(0)
    return torch.bincount(pred, minlength=10)[:10].float() / len(images)


@bad(C, "hist-sigmoid-threshold", "multi-label reading: share of images whose sigmoid(logit) > 0.5 for each digit",
     hint="whose sigmoid passes 0.5")
def _(judge, images):
    with torch.no_grad():
        return (torch.sigmoid(judge(images)) > 0.5).float().mean(0)


@bad(C, "hist-python-list", "returns a Python list, not a tensor",
     hint="returned a list of 10 items")
def _(judge, images):
    with torch.no_grad():
        pred = judge(images).argmax(1).tolist()
    return [pred.count(d) / len(pred) for d in range(10)]


@bad(C, "hist-percent", "shares as percentages (x 100), not fractions",
     hint="these are percentages")
def _(judge, images):
    with torch.no_grad():
        pred = judge(images).argmax(1)
    return 100 * torch.bincount(pred, minlength=10).float() / len(pred)


# =============================================================================================
# 03 · Exercise 1: conv_transpose_output_size (no output padding, no dilation)
# =============================================================================================
C = "check_conv_transpose_output_size"


@ok(C, "convt-formula", "(size - 1) * stride - 2 * padding + kernel")
def _(size, kernel, stride, padding):
    return (size - 1) * stride - 2 * padding + kernel


@ok(C, "convt-formula-reordered", "stride * (size - 1) + kernel - 2 * padding")
def _(size, kernel, stride, padding):
    return stride * (size - 1) + kernel - 2 * padding


@ok(C, "convt-measured-1d", "measured with F.conv_transpose1d on a zero input")
def _(size, kernel, stride, padding):
    out = F.conv_transpose1d(torch.zeros(1, 1, size), torch.zeros(1, 1, kernel), stride=stride, padding=padding)
    return out.shape[-1]


@ok(C, "convt-derivation", "derivation: dilate the input by the stride, pad by k - 1 - p, valid convolution")
def _(size, kernel, stride, padding):
    dilated = (size - 1) * stride + 1
    padded = dilated + 2 * (kernel - 1 - padding)
    return padded - kernel + 1


@ok(C, "convt-dilation-general", "PyTorch's documented formula with dilation = 1 and output_padding = 0 spelled out")
def _(size, kernel, stride, padding):
    dilation, output_padding = 1, 0
    return int((size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1)


@bad(C, "convt-conv-formula", "the ordinary convolution's formula (size + 2p - k) // s + 1",
     hint="an ordinary convolution's formula")
def _(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


@bad(C, "convt-missing-minus-one", "size * stride instead of (size - 1) * stride",
     hint="counts one stride too many")
def _(size, kernel, stride, padding):
    return size * stride - 2 * padding + kernel


@bad(C, "convt-padding-once", "subtracts the padding once, not on both sides",
     hint="the padding is subtracted once")
def _(size, kernel, stride, padding):
    return (size - 1) * stride - padding + kernel


@bad(C, "convt-padding-sign", "adds the padding (2p) instead of subtracting it",
     hint="the padding is added")
def _(size, kernel, stride, padding):
    return (size - 1) * stride + 2 * padding + kernel


@bad(C, "convt-off-by-one", "(size - 1) * stride - 2p + k - 1: off by one",
     hint="not + kernel - 1")
def _(size, kernel, stride, padding):
    return (size - 1) * stride - 2 * padding + kernel - 1


@bad(C, "convt-just-scale", "size * stride: right only for kernel 4, stride 2, padding 1",
     hint="ignores the kernel's overhang")
def _(size, kernel, stride, padding):
    return size * stride


# =============================================================================================
# 03 · Exercise 2: DCGANGenerator to a spec
#   z (B, 100) -> (B, 100, 1, 1) -> ConvT to 128 ch at 7x7 (no bias) -> BN -> ReLU -> ConvT to 64 ch
#   at 14x14 (no bias) -> BN -> ReLU -> ConvT to 1 ch at 28x28 (with bias) -> tanh
# =============================================================================================
C = "check_generator_spec"
DC = {"latent_dim": 100, "n_params": 759_681}


@ok(C, "dcgen-sequential-view", "nn.Sequential, z.view(B, latent, 1, 1)", kwargs=DC, instantiate=True)
class DCGenSequential(nn.Module):
    def __init__(self, latent_dim=100):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 128, 7, 1, 0, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z.view(z.shape[0], self.latent_dim, 1, 1))


@ok(C, "dcgen-named-layers-functional", "named layers, F.relu / torch.tanh, z[:, :, None, None]", kwargs=DC,
    instantiate=True)
class _(nn.Module):
    def __init__(self, latent_dim=100):
        super().__init__()
        self.latent_dim = latent_dim
        self.up1 = nn.ConvTranspose2d(latent_dim, 128, kernel_size=7, stride=1, padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(128)
        self.up2 = nn.ConvTranspose2d(128, 64, kernel_size=4, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.up3 = nn.ConvTranspose2d(64, 1, kernel_size=4, stride=2, padding=1, bias=True)

    def forward(self, z):
        x = z[:, :, None, None]
        x = F.relu(self.bn1(self.up1(x)))
        x = F.relu(self.bn2(self.up2(x)))
        return torch.tanh(self.up3(x))


@ok(C, "dcgen-unflatten", "nn.Unflatten as the first layer of the Sequential", kwargs=DC, instantiate=True)
class _(nn.Module):
    def __init__(self, latent_dim=100):
        super().__init__()
        self.latent_dim = latent_dim
        self.main = nn.Sequential(
            nn.Unflatten(1, (latent_dim, 1, 1)),
            nn.ConvTranspose2d(latent_dim, 128, 7, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1), nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


@ok(C, "dcgen-blocks-helper", "a block() helper for ConvT-BN-ReLU, reshape(-1, latent, 1, 1)", kwargs=DC, instantiate=True)
class _(nn.Module):
    def __init__(self, latent_dim=100):
        super().__init__()
        self.latent_dim = latent_dim

        def block(cin, cout, k, s, p):
            return [nn.ConvTranspose2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*block(latent_dim, 128, 7, 1, 0), *block(128, 64, 4, 2, 1))
        self.to_image = nn.ConvTranspose2d(64, 1, 4, 2, 1)

    def forward(self, z):
        return torch.tanh(self.to_image(self.body(z.reshape(-1, self.latent_dim, 1, 1))))


def _dcgen(act=lambda: nn.ReLU(True), bias=False, bn=True, out=nn.Tanh, reshape=True, k2=(4, 2, 1), bn_out=False,
           bn_after_act=False, batch=None):
    class Gen(nn.Module):
        def __init__(self, latent_dim=100):
            super().__init__()
            self.latent_dim = latent_dim

            def block(cin, cout, k, s, p):
                conv = nn.ConvTranspose2d(cin, cout, k, s, p, bias=bias)
                norm = [nn.BatchNorm2d(cout)] if bn else []
                return [conv, act()] + norm if bn_after_act else [conv] + norm + [act()]
            layers = block(latent_dim, 128, 7, 1, 0) + block(128, 64, *k2)
            layers.append(nn.ConvTranspose2d(64, 1, *k2))
            layers += [nn.BatchNorm2d(1)] if bn_out else []
            layers += [out()] if out else []
            self.net = nn.Sequential(*layers)

        def forward(self, z):
            if reshape:
                z = z.view(batch or z.shape[0], self.latent_dim, 1, 1)
            return self.net(z)
    return Gen


case(C, _dcgen(reshape=False), "fail", "dcgen-no-reshape", "forgets to reshape z to (B, 100, 1, 1) before the first ConvT",
     kwargs=DC, instantiate=True,
     hint="reshape it to (B, latent_dim, 1, 1)")
case(C, _dcgen(bias=True), "fail", "dcgen-bias-everywhere", "bias in the hidden transposed convolutions (spec: no bias)",
     kwargs=DC, instantiate=True,
     hint="the hidden transposed convolutions have bias=True")
case(C, _dcgen(act=lambda: nn.LeakyReLU(0.2)), "fail", "dcgen-leakyrelu", "LeakyReLU(0.2) in the generator instead of ReLU",
     kwargs=DC, instantiate=True,
     hint="use nn.ReLU()")
case(C, _dcgen(out=nn.Sigmoid), "fail", "dcgen-sigmoid-output", "sigmoid output instead of tanh", kwargs=DC, instantiate=True,
     hint="replace the final sigmoid with nn.Tanh()")
case(C, _dcgen(k2=(4, 2, 0)), "fail", "dcgen-padding-0", "padding 0 in the doubling layers: 7 -> 16 -> 34, not 14 -> 28",
     kwargs=DC, instantiate=True,
     hint="kernel, stride and padding set its output size")
case(C, _dcgen(bn_out=True), "fail", "dcgen-bn-on-output", "BatchNorm on the output layer (before tanh)", kwargs=DC,
     instantiate=True, hint="BatchNorm layers the spec does not have")
case(C, _dcgen(bn=False), "fail", "dcgen-no-batchnorm", "no BatchNorm layers", kwargs=DC, instantiate=True,
     hint="the spec puts a BatchNorm (nn.BatchNorm2d) between")
case(C, _dcgen(bn_after_act=True), "fail", "dcgen-bn-after-relu", "BatchNorm after ReLU instead of before it", kwargs=DC,
     instantiate=True, hint="transposed convolution -> BatchNorm -> ReLU")
case(C, _dcgen(batch=128), "fail", "dcgen-hardcoded-batch", "z.view(128, 100, 1, 1): hard-coded batch size", kwargs=DC,
     instantiate=True, hint="a batch size written into the code")


@bad(C, "dcgen-forward-skips-tanh", "tanh defined in __init__ but never called in forward: unbounded output", kwargs=DC,
     instantiate=True, hint="forward never applies it")
class _(nn.Module):
    def __init__(self, latent_dim=100):
        super().__init__()
        self.latent_dim = latent_dim
        self.body = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 128, 7, 1, 0, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
            nn.ConvTranspose2d(64, 1, 4, 2, 1))
        self.tanh = nn.Tanh()

    def forward(self, z):
        return self.body(z.view(-1, self.latent_dim, 1, 1))


# =============================================================================================
# 03 · Exercise 3: dcgan_init (in place: conv / convT / linear weights N(0, 0.02), BatchNorm weights
#   N(1, 0.02), all biases 0)
# =============================================================================================
C = "check_dcgan_init"
_CONV = nn.modules.conv._ConvNd
_BN = nn.modules.batchnorm._BatchNorm


@ok(C, "init-modules-isinstance", "loop over module.modules(), isinstance, nn.init")
def _(module):
    for m in module.modules():
        if isinstance(m, (_CONV, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _BN):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


@ok(C, "init-apply-classname", "module.apply with a classname test (tutorial style, extended to Linear and biases)")
def _(module):
    def weights_init(m):
        name = m.__class__.__name__
        if "Conv" in name or name == "Linear":
            m.weight.data.normal_(0.0, 0.02)
            if m.bias is not None:
                m.bias.data.fill_(0)
        elif "BatchNorm" in name:
            m.weight.data.normal_(1.0, 0.02)
            m.bias.data.fill_(0)
    module.apply(weights_init)


@ok(C, "init-no-grad-tensor-methods", "under torch.no_grad, tensor methods normal_ / zero_, returns the module")
def _(module):
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                                  nn.ConvTranspose3d, nn.Linear)):
                layer.weight.normal_(mean=0.0, std=0.02)
                if layer.bias is not None:
                    layer.bias.zero_()
            elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
                layer.weight.normal_(mean=1.0, std=0.02)
                layer.bias.zero_()
    return module


@ok(C, "init-copy-generated", "draws new values with torch.randn and copies them into the existing tensors")
def _(module):
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (_CONV, nn.Linear)):
                m.weight.copy_(torch.randn_like(m.weight) * 0.02)
                if m.bias is not None:
                    m.bias.copy_(torch.zeros_like(m.bias))
            elif isinstance(m, _BN):
                m.weight.copy_(1.0 + 0.02 * torch.randn_like(m.weight))
                m.bias.copy_(torch.zeros_like(m.bias))


@ok(C, "init-apply-constant", "module.apply with nn.init.normal_ / nn.init.constant_")
def _(module):
    def init(m):
        if isinstance(m, (_CONV, nn.Linear)):
            nn.init.normal_(m.weight, mean=0, std=0.02)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.0)
        if isinstance(m, _BN):
            nn.init.normal_(m.weight, mean=1, std=0.02)
            nn.init.constant_(m.bias, 0.0)
    module.apply(init)


@bad(C, "init-pytorch-tutorial", "PyTorch DCGAN tutorial's weights_init: Linear layers ignored, conv biases left at their default",
     hint="every layer type needs its initialisation")
def _(module):
    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif classname.find("BatchNorm") != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)
    module.apply(weights_init)


@bad(C, "init-bn-mean-0", "BatchNorm weights from N(0, 0.02) instead of N(1, 0.02)",
     hint="N(1, 0.02), not N(0, 0.02)")
def _(module):
    for m in module.modules():
        if isinstance(m, (_CONV, nn.Linear, _BN)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


@bad(C, "init-bn-constant-1", "BatchNorm weights set to exactly 1 instead of drawn from N(1, 0.02)",
     hint="a constant (fill_, ones_, constant_)")
def _(module):
    for m in module.modules():
        if isinstance(m, (_CONV, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _BN):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


@bad(C, "init-std-0.2", "standard deviation 0.2 instead of 0.02",
     hint="standard deviation 0.200; DCGAN uses 0.02")
def _(module):
    for m in module.modules():
        if isinstance(m, (_CONV, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.2)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _BN):
            nn.init.normal_(m.weight, 1.0, 0.2)
            nn.init.zeros_(m.bias)


@bad(C, "init-variance-0.02", "reads 0.02 as a variance: std sqrt(0.02) = 0.14",
     hint="standard deviation 0.142; DCGAN uses 0.02")
def _(module):
    std = math.sqrt(0.02)
    for m in module.modules():
        if isinstance(m, (_CONV, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _BN):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


@bad(C, "init-uniform", "uniform on [-0.02, 0.02] instead of a normal distribution",
     hint="a uniform distribution")
def _(module):
    for m in module.modules():
        if isinstance(m, (_CONV, nn.Linear)):
            nn.init.uniform_(m.weight, -0.02, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _BN):
            nn.init.uniform_(m.weight, 0.98, 1.02)
            nn.init.zeros_(m.bias)


@bad(C, "init-biases-untouched", "initialises the weights only; biases keep PyTorch's default values",
     hint="bias.zero_()")
def _(module):
    for m in module.modules():
        if isinstance(m, (_CONV, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, _BN):
            nn.init.normal_(m.weight, 1.0, 0.02)


@bad(C, "init-new-parameters", "replaces the Parameters with new ones (not in place): an optimizer made before keeps the old tensors",
     hint="replaced parameters with new ones")
def _(module):
    for m in module.modules():
        if isinstance(m, (_CONV, nn.Linear)):
            m.weight = nn.Parameter(torch.randn_like(m.weight) * 0.02)
            if m.bias is not None:
                m.bias = nn.Parameter(torch.zeros_like(m.bias))
        elif isinstance(m, _BN):
            m.weight = nn.Parameter(1 + 0.02 * torch.randn_like(m.weight))
            m.bias = nn.Parameter(torch.zeros_like(m.bias))


@bad(C, "init-children-only", "iterates module.children(): layers nested in a Sequential are never reached",
     hint="module.children() lists only the direct children")
def _(module):
    for m in module.children():
        if isinstance(m, (_CONV, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, _BN):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


@bad(C, "init-all-parameters-by-name", "by parameter name: every 'weight' (BatchNorm's too) from N(0, 0.02)",
     hint="N(1, 0.02), not N(0, 0.02)")
def _(module):
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("weight"):
                p.normal_(0.0, 0.02)
            else:
                p.zero_()


# =============================================================================================
# 03 · Exercise 4: interpolate (point at fraction t between z0 and z1 (B, d), row by row;
#   straight line or great circle)
# =============================================================================================
C = "check_interpolate"


@ok(C, "interp-linear", "(1 - t) * z0 + t * z1")
def _(z0, z1, t):
    return (1 - t) * z0 + t * z1


@ok(C, "interp-torch-lerp", "torch.lerp")
def _(z0, z1, t):
    return torch.lerp(z0, z1, t)


@ok(C, "interp-linear-offset", "z0 + t * (z1 - z0)")
def _(z0, z1, t):
    return z0 + t * (z1 - z0)


@ok(C, "interp-slerp-vectorised", "slerp per row with acos of the cosine, vectorised")
def _(z0, z1, t):
    cos = (z0 * z1).sum(dim=1, keepdim=True) / (z0.norm(dim=1, keepdim=True) * z1.norm(dim=1, keepdim=True))
    omega = torch.acos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


@ok(C, "interp-slerp-loop", "slerp row by row in a Python loop with F.normalize")
def _(z0, z1, t):
    rows = []
    for a, b in zip(z0, z1):
        dot = torch.dot(F.normalize(a, dim=0), F.normalize(b, dim=0)).clamp(-1 + 1e-7, 1 - 1e-7)
        omega = torch.arccos(dot)
        rows.append((math.sin((1 - t) * omega.item()) * a + math.sin(t * omega.item()) * b) / math.sin(omega.item()))
    return torch.stack(rows)


@ok(C, "interp-slerp-einsum", "slerp with einsum for the row-wise dot products")
def _(z0, z1, t):
    dots = torch.einsum("bd,bd->b", z0, z1) / (torch.linalg.vector_norm(z0, dim=1) * torch.linalg.vector_norm(z1, dim=1))
    omega = torch.arccos(torch.clamp(dots, -0.9999999, 0.9999999)).unsqueeze(1)
    s = torch.sin(omega)
    return torch.sin((1.0 - t) * omega) / s * z0 + torch.sin(t * omega) / s * z1


@bad(C, "interp-reversed", "t weights z0: at t = 0 it returns z1",
     hint="goes from z1 to z0")
def _(z0, z1, t):
    return t * z0 + (1 - t) * z1


@bad(C, "interp-slerp-batch-angle", "slerp with one angle for the whole batch (dot product over all rows)",
     hint="one angle Ω for the whole batch")
def _(z0, z1, t):
    cos = (z0 * z1).sum() / (z0.norm() * z1.norm())
    omega = torch.acos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


@bad(C, "interp-slerp-unit-sphere", "slerp of the normalised vectors: every point has norm 1, not the endpoints' norms",
     hint="the points were normalised")
def _(z0, z1, t):
    a, b = F.normalize(z0, dim=1), F.normalize(z1, dim=1)
    omega = torch.acos((a * b).sum(1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


@bad(C, "interp-slerp-no-division", "slerp without dividing by sin(omega): the path shrinks to zero at the ends' neighbours",
     hint="slerp divides by sin Ω")
def _(z0, z1, t):
    cos = F.cosine_similarity(z0, z1, dim=1).unsqueeze(1)
    omega = torch.acos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    return torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1


@bad(C, "interp-missing-t", "z0 * (1 - t) + z1: forgets to weight z1 by t",
     hint="z1 must be weighted by t")
def _(z0, z1, t):
    return z0 * (1 - t) + z1


@bad(C, "interp-nlerp-unit", "linear interpolation renormalised to unit norm: neither the line nor the great circle",
     hint="the points were normalised")
def _(z0, z1, t):
    return F.normalize((1 - t) * z0 + t * z1, dim=1)


# =============================================================================================
# 04 · Exercise 1: mode_coverage (high quality: distance to the nearest centre < 3 std; captured:
#   nearest centre of >= 1 high-quality sample). Returns (modes_captured: int, share in [0, 1])
# =============================================================================================
C = "check_mode_coverage"


@ok(C, "cover-cdist-unique", "torch.cdist, min over centres, unique nearest indices")
def _(samples, centers, std):
    dist = torch.cdist(samples.float(), centers.float())
    nearest_dist, nearest = dist.min(dim=1)
    good = nearest_dist < 3 * std
    return len(torch.unique(nearest[good])), good.float().mean().item()


@ok(C, "cover-broadcast-bincount", "broadcast distances, bincount(minlength=K)")
def _(samples, centers, std):
    diff = samples[:, None, :] - centers[None, :, :]
    dist = diff.pow(2).sum(-1).sqrt()
    nearest = dist.argmin(1)
    good = dist.gather(1, nearest[:, None]).squeeze(1) < 3 * std
    counts = torch.bincount(nearest[good], minlength=len(centers))
    return int((counts > 0).sum()), float(good.sum()) / len(samples)


@ok(C, "cover-squared-distances", "compares squared distances with (3 std)^2, a Python set for the modes")
def _(samples, centers, std):
    d2 = ((samples.unsqueeze(1) - centers.unsqueeze(0)) ** 2).sum(dim=2)
    best, idx = torch.min(d2, dim=1)
    high = best < (3 * std) ** 2
    modes = set(idx[high].tolist())
    return len(modes), high.double().mean().item()


@ok(C, "cover-loop-centres", "loop over the centres, a running best distance per sample")
def _(samples, centers, std):
    best = torch.full((len(samples),), float("inf"))
    which = torch.zeros(len(samples), dtype=torch.long)
    for k, c in enumerate(centers):
        d = torch.linalg.vector_norm(samples - c, dim=1)
        closer = d < best
        best = torch.where(closer, d, best)
        which = torch.where(closer, torch.full_like(which, k), which)
    high = best < 3 * std
    return int(which[high].unique().numel()), float(high.float().mean())


@ok(C, "cover-numpy", "NumPy version with np.linalg.norm")
def _(samples, centers, std):
    import numpy as np
    s, c = np.asarray(samples, dtype=np.float64), np.asarray(centers, dtype=np.float64)
    d = np.linalg.norm(s[:, None, :] - c[None, :, :], axis=2)
    nearest = d.argmin(axis=1)
    good = d.min(axis=1) < 3 * std
    return int(len(np.unique(nearest[good]))), float(good.mean())


@bad(C, "cover-threshold-3", "threshold 3 instead of 3 * std",
     hint="the threshold is 3 in data units")
def _(samples, centers, std):
    dist, nearest = torch.cdist(samples, centers).min(1)
    good = dist < 3
    return len(torch.unique(nearest[good])), good.float().mean().item()


@bad(C, "cover-any-sample-captures", "counts every mode that is the nearest centre of any sample, high quality or not",
     hint="a *high-quality* sample")
def _(samples, centers, std):
    dist, nearest = torch.cdist(samples, centers).min(1)
    good = dist < 3 * std
    return len(torch.unique(nearest)), good.float().mean().item()


@bad(C, "cover-count-not-share", "returns the number of high-quality samples, not their share",
     hint="the high-quality value is a count")
def _(samples, centers, std):
    dist, nearest = torch.cdist(samples, centers).min(1)
    good = dist < 3 * std
    return len(torch.unique(nearest[good])), int(good.sum())


@bad(C, "cover-share-per-mode", "divides the high-quality count by the number of modes instead of the number of samples",
     hint="divided by the number of modes")
def _(samples, centers, std):
    dist, nearest = torch.cdist(samples, centers).min(1)
    good = dist < 3 * std
    return len(torch.unique(nearest[good])), good.sum().item() / len(centers)


@bad(C, "cover-variance-threshold", "threshold 3 * std**2 (variance instead of standard deviation)",
     hint="not 3·std²")
def _(samples, centers, std):
    dist, nearest = torch.cdist(samples, centers).min(1)
    good = dist < 3 * std ** 2
    return len(torch.unique(nearest[good])), good.float().mean().item()


@bad(C, "cover-squared-vs-3std", "compares the squared distance with 3 * std (forgets to square the threshold)",
     hint="the squared distance is compared with 3·std")
def _(samples, centers, std):
    d2 = ((samples[:, None] - centers[None]) ** 2).sum(-1)
    best, idx = d2.min(1)
    good = best < 3 * std
    return len(set(idx[good].tolist())), good.float().mean().item()


@bad(C, "cover-swapped-order", "returns (share, modes) in the wrong order",
     hint="the pair is in the wrong order")
def _(samples, centers, std):
    dist, nearest = torch.cdist(samples, centers).min(1)
    good = dist < 3 * std
    return good.float().mean().item(), len(torch.unique(nearest[good]))


@bad(C, "cover-argmin-dim0", "argmin over the samples (dim 0): the nearest sample of each centre, not the nearest centre of each sample",
     hint="the minimum ran over dimension 0")
def _(samples, centers, std):
    dist = torch.cdist(samples, centers)
    nearest_sample_dist = dist.min(0).values
    good_modes = nearest_sample_dist < 3 * std
    return int(good_modes.sum()), good_modes.float().mean().item()


# =============================================================================================
# 04 · Exercise 2: pack (B, ...) -> (B / m, m * features), row i = samples i*m ... i*m + m - 1
#   flattened one after the other; differentiable
# =============================================================================================
C = "check_pack"


@ok(C, "pack-reshape", "x.reshape(B // m, -1)")
def _(x, m):
    return x.reshape(x.shape[0] // m, -1)


@ok(C, "pack-flatten-view", "flatten(1) then view(-1, m * features)")
def _(x, m):
    flat = x.flatten(start_dim=1)
    return flat.view(-1, m * flat.shape[1])


@ok(C, "pack-strided-cat", "torch.cat of the strided slices x[j::m], j = 0..m-1")
def _(x, m):
    flat = x.reshape(len(x), -1)
    return torch.cat([flat[j::m] for j in range(m)], dim=1)


@ok(C, "pack-stack-groups", "loop over groups, stack the flattened groups")
def _(x, m):
    groups = [x[i * m:(i + 1) * m].flatten() for i in range(x.shape[0] // m)]
    return torch.stack(groups)


@ok(C, "pack-unflatten", "x.unflatten(0, (-1, m)).flatten(1)")
def _(x, m):
    return x.unflatten(0, (-1, m)).flatten(1)


@bad(C, "pack-view-m-rows", "x.view(m, -1): m rows instead of B / m",
     hint="this makes m = 2 rows")
def _(x, m):
    return x.reshape(m, -1)


@bad(C, "pack-block-interleave", "groups sample i with sample i + B/m (view(m, B/m, F).permute), not consecutive samples",
     hint="groups samples i, i + B/m")
def _(x, m):
    b = x.shape[0]
    return x.reshape(m, b // m, -1).permute(1, 0, 2).reshape(b // m, -1)


@bad(C, "pack-numpy-roundtrip", "goes through NumPy: the result is cut off from autograd",
     hint="don't go through .numpy()")
def _(x, m):
    return torch.from_numpy(x.detach().cpu().numpy().reshape(x.shape[0] // m, -1))


@bad(C, "pack-detach", "detaches the input: no gradient flows back to the generator",
     hint="don't go through .numpy(), .tolist() or .detach()")
def _(x, m):
    return x.detach().reshape(x.shape[0] // m, -1)


@bad(C, "pack-hardcoded-2-features", "hard-codes 2 features per sample (the toy data): wrong for images",
     hint="the 2 features of the toy data are written into the code")
def _(x, m):
    return x.view(-1, 2 * m)


@bad(C, "pack-shape1-features", "takes x.shape[1] as the feature count: wrong for (B, C, H, W) images",
     hint="x.shape[1] is the channel count")
def _(x, m):
    return x.reshape(-1, m * x.shape[1])


@bad(C, "pack-not-flattened", "returns (B / m, m, ...) without concatenating the m samples into one row",
     hint="must be flattened into one row")
def _(x, m):
    return x.reshape(x.shape[0] // m, m, -1)


# =============================================================================================
# 05 · Exercise 1: critic_loss (the critic maximises E f(real) - E f(fake); return what it minimises)
# =============================================================================================
C = "check_critic_loss"


@ok(C, "critic-fake-minus-real", "fake.mean() - real.mean()")
def critic_loss_mine(real_scores, fake_scores):
    return fake_scores.mean() - real_scores.mean()


@ok(C, "critic-negated", "-(real.mean() - fake.mean())")
def _(real_scores, fake_scores):
    return -(real_scores.mean() - fake_scores.mean())


@ok(C, "critic-torch-mean", "torch.mean(fake) - torch.mean(real)")
def _(real_scores, fake_scores):
    return torch.mean(fake_scores) - torch.mean(real_scores)


@ok(C, "critic-elementwise-mean", "(fake - real).mean(): same batch size (B,) as the text says")
def _(real_scores, fake_scores):
    return (fake_scores - real_scores).mean()


@ok(C, "critic-sum-over-len", "sums divided by the batch sizes")
def _(real_scores, fake_scores):
    return fake_scores.sum() / fake_scores.numel() - real_scores.sum() / real_scores.numel()


@bad(C, "critic-sign-flipped", "returns E f(real) - E f(fake), the quantity the critic maximises",
     hint="the sign is flipped")
def _(real_scores, fake_scores):
    return real_scores.mean() - fake_scores.mean()


@bad(C, "critic-bce", "uses the standard GAN's BCE loss on the critic's scores",
     hint="the standard GAN's cross-entropy loss")
def _(real_scores, fake_scores):
    return (F.binary_cross_entropy_with_logits(real_scores, torch.ones_like(real_scores))
            + F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores)))


@bad(C, "critic-sigmoid", "applies a sigmoid to the critic's scores",
     hint="a sigmoid squashes the scores")
def _(real_scores, fake_scores):
    return torch.sigmoid(fake_scores).mean() - torch.sigmoid(real_scores).mean()


@bad(C, "critic-sum", "sum over the batch instead of the mean",
     hint="this sums over the batch")
def _(real_scores, fake_scores):
    return fake_scores.sum() - real_scores.sum()


@bad(C, "critic-abs", "absolute value of the difference: not the critic's objective",
     hint="takes the absolute value of the difference")
def _(real_scores, fake_scores):
    return (fake_scores.mean() - real_scores.mean()).abs()


@bad(C, "critic-per-sample", "returns the per-sample vector fake - real, not a scalar",
     hint="a loss is one number")
def _(real_scores, fake_scores):
    return fake_scores - real_scores


@bad(C, "critic-string", "returns a formatted string for printing instead of the loss tensor",
     hint="returned the string")
def _(real_scores, fake_scores):
    return f"{(fake_scores.mean() - real_scores.mean()).item():.4f}"


# =============================================================================================
# 05 · Exercise 2: wgan_generator_loss (-E f(fake))
# =============================================================================================
C = "check_wgan_generator_loss"


@ok(C, "wgen-minus-mean", "-fake.mean()")
def _(fake_scores):
    return -fake_scores.mean()


@ok(C, "wgen-mean-of-negated", "torch.mean(-fake)")
def _(fake_scores):
    return torch.mean(-fake_scores)


@ok(C, "wgen-neg-method", "fake.mean().neg()")
def _(fake_scores):
    return fake_scores.mean().neg()


@ok(C, "wgen-sum-over-numel", "-(sum / numel)")
def _(fake_scores):
    return -(fake_scores.sum() / fake_scores.numel())


@bad(C, "wgen-sign", "minimises E f(fake): the generator pushes its scores down",
     hint="the sign is flipped")
def _(fake_scores):
    return fake_scores.mean()


@bad(C, "wgen-bce", "non-saturating BCE on the critic's scores, as in a standard GAN",
     hint="the standard GAN's non-saturating loss")
def _(fake_scores):
    return F.binary_cross_entropy_with_logits(fake_scores, torch.ones_like(fake_scores))


@bad(C, "wgen-sum", "-sum instead of -mean",
     hint="this sums over the batch")
def _(fake_scores):
    return -fake_scores.sum()


@bad(C, "wgen-log", "-log of the scores, as if they were probabilities (NaN for negative scores)",
     hint="the log of the scores treats them as probabilities")
def _(fake_scores):
    return -torch.log(fake_scores).mean()


@bad(C, "wgen-sigmoid", "-mean sigmoid(score): a sigmoid on the critic",
     hint="a sigmoid squashes the scores")
def _(fake_scores):
    return -torch.sigmoid(fake_scores).mean()


@bad(C, "wgen-per-sample", "returns the per-sample vector -f(fake), not a scalar",
     hint="a loss is one number")
def _(fake_scores):
    return -fake_scores


# =============================================================================================
# 05 · Exercise 3: clip_weights (every parameter clamped to [-c, c], in place, same tensors)
# =============================================================================================
C = "check_clip_weights"


@ok(C, "clip-no-grad-clamp_", "torch.no_grad, p.clamp_(-c, c)")
def _(module, c):
    with torch.no_grad():
        for p in module.parameters():
            p.clamp_(-c, c)


@ok(C, "clip-data-clamp_", "p.data.clamp_(-c, c)")
def _(module, c):
    for p in module.parameters():
        p.data.clamp_(-c, c)


@ok(C, "clip-copy_", "p.copy_(p.clamp(-c, c)) under no_grad")
def _(module, c):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.clamp(-c, c))


@ok(C, "clip-clamp-out", "torch.clamp(..., out=p.data)")
def _(module, c):
    for p in module.parameters():
        torch.clamp(p.data, min=-c, max=c, out=p.data)


@ok(C, "clip-apply-recurse-false", "module.apply over each module's own parameters (recurse=False)")
def _(module, c):
    def clip(m):
        for p in m.parameters(recurse=False):
            p.data.clamp_(min=-c, max=c)
    with torch.no_grad():
        module.apply(clip)


@bad(C, "clip-gradients", "clips the gradients (clip_grad_value_) instead of the weights",
     hint="changed the gradients")
def _(module, c):
    nn.utils.clip_grad_value_(module.parameters(), c)


@bad(C, "clip-rebind-local", "p = p.clamp(-c, c) rebinds a local name: nothing changes",
     hint="only rebinds a name")
def _(module, c):
    for p in module.parameters():
        p = p.clamp(-c, c)  # noqa: F841


@bad(C, "clip-new-parameters", "replaces each Parameter with a new one: the optimizer keeps updating the old tensors",
     hint="replaced parameters with new tensors")
def _(module, c):
    for m in module.modules():
        for name, p in list(m.named_parameters(recurse=False)):
            setattr(m, name, nn.Parameter(p.detach().clamp(-c, c)))


@bad(C, "clip-weights-only", "clamps only the 'weight' tensors; biases are left unclipped",
     hint="0.bias was not clipped")
def _(module, c):
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "weight" in name:
                p.clamp_(-c, c)


@bad(C, "clip-zero-to-c", "clamps to [0, c] instead of [-c, c]",
     hint="the lower bound is -c, not 0")
def _(module, c):
    with torch.no_grad():
        for p in module.parameters():
            p.clamp_(0, c)


@bad(C, "clip-grad-norm", "clip_grad_norm_ of the update (gradient norm), not the weights",
     hint="changed the gradients")
def _(module, c):
    nn.utils.clip_grad_norm_(module.parameters(), c)


@bad(C, "clip-vector-copy", "clamps parameters_to_vector(...), a copy: the module's weights are unchanged",
     hint="clamping a copy")
def _(module, c):
    nn.utils.parameters_to_vector(module.parameters()).detach().clamp_(-c, c)


@bad(C, "clip-leaf-inplace-no-grad-guard", "p.clamp_ on a leaf that requires grad without torch.no_grad: raises a RuntimeError",
     hint="inside `with torch.no_grad():`")
def _(module, c):
    for p in module.parameters():
        p.clamp_(-c, c)


# =============================================================================================
# 05 · Exercise 4: gradient_penalty (E[(||grad f(x_hat)||_2 - 1)^2], x_hat = eps real + (1 - eps) fake,
#   one eps ~ U[0, 1] per sample, norm per sample over all features, differentiable w.r.t. the critic)
# =============================================================================================
C = "check_gradient_penalty"


def _eps_like(x):
    return torch.rand(x.shape[0], *([1] * (x.dim() - 1)), device=x.device, dtype=x.dtype)


@ok(C, "gp-reference-style", "eps (B, 1, ..., 1), detach + requires_grad_, autograd.grad of sum, create_graph")
def gradient_penalty_mine(critic, real, fake):
    eps = _eps_like(real)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grads,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grads.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


@ok(C, "gp-grad-outputs-ones", "grad_outputs=ones_like(scores), view(B, -1), sqrt of the sum of squares")
def _(critic, real, fake):
    b = real.size(0)
    eps = torch.rand(b, device=real.device).view(b, *([1] * (real.ndim - 1)))
    x_hat = eps * real + (1 - eps) * fake
    x_hat = x_hat.detach().requires_grad_()
    scores = critic(x_hat)
    grads = torch.autograd.grad(outputs=scores, inputs=x_hat, grad_outputs=torch.ones_like(scores),
                                create_graph=True, retain_graph=True)[0]
    norms = torch.sqrt(grads.reshape(b, -1).pow(2).sum(dim=1) + 1e-12)
    return torch.mean((norms - 1) ** 2)


@ok(C, "gp-lerp-vector-norm", "torch.lerp(fake, real, eps), linalg.vector_norm over all non-batch dims")
def _(critic, real, fake):
    eps = _eps_like(real)
    x_hat = torch.lerp(fake.detach(), real.detach(), eps).requires_grad_(True)
    grads = torch.autograd.grad(critic(x_hat).sum(), [x_hat], create_graph=True)[0]
    norms = torch.linalg.vector_norm(grads, ord=2, dim=tuple(range(1, grads.dim())))
    return (norms - 1).square().mean()


@ok(C, "gp-eps-roles-swapped", "(1 - eps) real + eps fake: the same distribution of interpolates since 1 - eps ~ U[0, 1]")
def _(critic, real, fake):
    eps = _eps_like(real)
    x_hat = ((1 - eps) * real + eps * fake).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((g.reshape(len(g), -1).norm(dim=1) - 1) ** 2).mean()


@ok(C, "gp-einsum-norm", "norm via einsum of the flattened gradients, torch.rand_like on a (B, 1) slice of ones")
def _(critic, real, fake):
    flat_shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    eps = torch.rand_like(torch.ones(flat_shape, dtype=real.dtype, device=real.device))
    x_hat = (eps * real + (1 - eps) * fake).detach()
    x_hat.requires_grad = True
    (grads,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    flat = grads.reshape(grads.shape[0], -1)
    norms = torch.einsum("bi,bi->b", flat, flat).sqrt()
    return ((norms - 1) ** 2).mean()


@bad(C, "gp-one-eps-batch", "one eps for the whole batch instead of one per sample",
     hint="one eps for the whole batch")
def _(critic, real, fake):
    eps = torch.rand(1, device=real.device)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()


@bad(C, "gp-eps-per-element", "eps drawn per element (rand_like(real)), not per sample: points off the lines",
     hint="eps is drawn per feature")
def _(critic, real, fake):
    eps = torch.rand_like(real)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()


@bad(C, "gp-no-create-graph", "forgets create_graph=True: the penalty is not differentiable w.r.t. the critic's weights",
     hint="create_graph=True")
def _(critic, real, fake):
    eps = _eps_like(real)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
    return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()


@bad(C, "gp-batch-norm", "one norm over the whole batch's gradient instead of one per sample",
     hint="one norm over the whole batch's gradient")
def _(critic, real, fake):
    eps = _eps_like(real)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (g.norm() - 1) ** 2


@bad(C, "gp-norm-dim1-only", "norm over dim 1 only (channels), not over all of a sample's features",
     hint="the norm runs over dimension 1 only")
def _(critic, real, fake):
    eps = _eps_like(real)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((g.norm(2, dim=1) - 1) ** 2).mean()


@bad(C, "gp-sum", "sums the per-sample penalties instead of averaging",
     hint="the penalty is summed over the batch")
def _(critic, real, fake):
    eps = _eps_like(real)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((g.flatten(1).norm(dim=1) - 1) ** 2).sum()


@bad(C, "gp-one-sided", "one-sided penalty relu(norm - 1)^2, not (norm - 1)^2",
     hint="the penalty is one-sided")
def _(critic, real, fake):
    eps = _eps_like(real)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (F.relu(g.flatten(1).norm(dim=1) - 1) ** 2).mean()


@bad(C, "gp-squared-norm", "(||g||^2 - 1)^2: squared norm instead of the norm",
     hint="the squared norm is used")
def _(critic, real, fake):
    eps = _eps_like(real)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((g.flatten(1).pow(2).sum(1) - 1) ** 2).mean()


@bad(C, "gp-at-real", "penalty at the real samples instead of at random interpolates",
     hint="taken at the real or the fake samples")
def _(critic, real, fake):
    x = real.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()


@bad(C, "gp-eps-image-shape", "eps hard-coded to shape (B, 1, 1, 1): for (B, F) inputs it broadcasts into a (B, 1, B, F) tensor",
     hint="as many dimensions as real")
def _(critic, real, fake):
    eps = torch.rand(real.size(0), 1, 1, 1, device=real.device)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    scores = critic(x_hat.reshape(-1, *real.shape[1:]))
    (g,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return ((g.reshape(real.size(0), -1).norm(dim=1) - 1) ** 2).mean()


@bad(C, "gp-normal-eps", "eps from torch.randn (normal) instead of U[0, 1]",
     hint="eps falls outside [0, 1]")
def _(critic, real, fake):
    eps = torch.randn(real.shape[0], *([1] * (real.dim() - 1)), device=real.device)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()


# =============================================================================================
# 05 · Exercise 5: critic_step (zero grads, critic loss + gp_weight * penalty, backward, step,
#   return the loss; no gradient may reach `fake`)
# =============================================================================================
C = "check_critic_step"


@ok(C, "cstep-detach-returns-tensor", "my critic_loss and gradient_penalty, fake.detach(), returns the loss tensor")
def _(critic, opt, real, fake, gp_weight):
    fake = fake.detach()
    opt.zero_grad()
    loss = critic_loss_mine(critic(real), critic(fake)) + gp_weight * gradient_penalty_mine(critic, real, fake)
    loss.backward()
    opt.step()
    return loss


@ok(C, "cstep-item", "returns loss.item(); zero_grad(set_to_none=True)")
def _(critic, opt, real, fake, gp_weight):
    opt.zero_grad(set_to_none=True)
    real_scores, fake_scores = critic(real), critic(fake.detach())
    gp = gradient_penalty_mine(critic, real, fake.detach())
    loss = fake_scores.mean() - real_scores.mean() + gp_weight * gp
    loss.backward()
    opt.step()
    return loss.item()


@ok(C, "cstep-critic-zero-grad", "critic.zero_grad(), penalty added only when gp_weight is nonzero, returns a detached tensor")
def _(critic, opt, real, fake, gp_weight):
    critic.zero_grad()
    fake_d = fake.detach()
    loss = torch.mean(critic(fake_d)) - torch.mean(critic(real))
    if gp_weight:
        loss = loss + gp_weight * gradient_penalty_mine(critic, real, fake_d)
    loss.backward()
    opt.step()
    return loss.detach()


@ok(C, "cstep-no-grad-clone", "fake copied under no_grad; penalty computed inline")
def _(critic, opt, real, fake, gp_weight):
    with torch.no_grad():
        fake = fake.clone()
    opt.zero_grad()
    wasserstein = critic(fake).mean() - critic(real).mean()
    eps = _eps_like(real)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    penalty = ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()
    loss = wasserstein + gp_weight * penalty
    loss.backward()
    opt.step()
    return loss


@bad(C, "cstep-fake-not-detached", "fake is not detached: the critic's backward reaches the generator's output",
     hint="fake.detach()")
def _(critic, opt, real, fake, gp_weight):
    opt.zero_grad()
    eps = _eps_like(real)
    x_hat = eps * real + (1 - eps) * fake
    if not x_hat.requires_grad:
        x_hat.requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    loss = critic(fake).mean() - critic(real).mean() + gp_weight * ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()
    loss.backward()
    opt.step()
    return loss


@bad(C, "cstep-no-zero-grad", "never zeroes the critic's gradients: they accumulate across steps",
     hint="gradients from an earlier step were added in")
def _(critic, opt, real, fake, gp_weight):
    fake = fake.detach()
    loss = critic_loss_mine(critic(real), critic(fake)) + gp_weight * gradient_penalty_mine(critic, real, fake)
    loss.backward()
    opt.step()
    return loss


@bad(C, "cstep-zero-grad-after-backward", "zero_grad() after backward(): the optimizer steps with no gradient",
     hint="zero_grad() ran after backward() and before step()")
def _(critic, opt, real, fake, gp_weight):
    fake = fake.detach()
    loss = critic_loss_mine(critic(real), critic(fake)) + gp_weight * gradient_penalty_mine(critic, real, fake)
    loss.backward()
    opt.zero_grad()
    opt.step()
    return loss


@bad(C, "cstep-penalty-subtracted", "subtracts the penalty instead of adding it",
     hint="the penalty is subtracted")
def _(critic, opt, real, fake, gp_weight):
    fake = fake.detach()
    opt.zero_grad()
    loss = critic_loss_mine(critic(real), critic(fake)) - gp_weight * gradient_penalty_mine(critic, real, fake)
    loss.backward()
    opt.step()
    return loss


@bad(C, "cstep-sign-flipped", "critic loss with the sign flipped (real - fake)",
     hint="the signs are flipped")
def _(critic, opt, real, fake, gp_weight):
    fake = fake.detach()
    opt.zero_grad()
    loss = critic(real).mean() - critic(fake).mean() + gp_weight * gradient_penalty_mine(critic, real, fake)
    loss.backward()
    opt.step()
    return loss


@bad(C, "cstep-no-step", "never calls opt.step(): the critic does not change",
     hint="opt.step() was never called")
def _(critic, opt, real, fake, gp_weight):
    fake = fake.detach()
    opt.zero_grad()
    loss = critic_loss_mine(critic(real), critic(fake)) + gp_weight * gradient_penalty_mine(critic, real, fake)
    loss.backward()
    return loss


@bad(C, "cstep-weight-on-wrong-term", "multiplies the critic loss by gp_weight instead of the penalty",
     hint="gp_weight multiplies the critic loss instead of the penalty")
def _(critic, opt, real, fake, gp_weight):
    fake = fake.detach()
    opt.zero_grad()
    loss = gp_weight * critic_loss_mine(critic(real), critic(fake)) + gradient_penalty_mine(critic, real, fake)
    loss.backward()
    opt.step()
    return loss


@bad(C, "cstep-penalty-no-create-graph", "penalty computed without create_graph: it does not train the critic",
     hint="create_graph=True")
def _(critic, opt, real, fake, gp_weight):
    fake = fake.detach()
    opt.zero_grad()
    eps = _eps_like(real)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
    loss = critic_loss_mine(critic(real), critic(fake)) + gp_weight * ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()
    loss.backward()
    opt.step()
    return loss


@bad(C, "cstep-bce", "standard GAN BCE loss instead of the critic loss",
     hint="the standard GAN's cross-entropy loss")
def _(critic, opt, real, fake, gp_weight):
    fake = fake.detach()
    opt.zero_grad()
    loss = discriminator_loss_bce(critic(real), critic(fake)) + gp_weight * gradient_penalty_mine(critic, real, fake)
    loss.backward()
    opt.step()
    return loss


# =============================================================================================
# The test
# =============================================================================================

@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar")  # a learner's float()
@pytest.mark.parametrize("case", CASES, ids=registry.ids())
def test_learner_answer(case: Case):
    assert_verdict(case)
