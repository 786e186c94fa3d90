"""Learner answers to lesson 06's four practice exercises, each with the verdict the exercise text gives it.

Every answer below was written from exercises/06_conditional_gan.ipynb's texts and lesson 06
(notebooks/06_conditional_gan.ipynb), as a learner who knows PyTorch would, without looking at how
the checks work (nothing under solutions/ or gancourse/checks/ was read). Correct answers were
verified independently before any check was called: the generator's forward against the lesson's
formula net(cat([z, embed(y)])) (and the orders / one-hot code the text allows) on the same
weights, the projection logit against ψ(φ(x)) + ⟨embed(y), φ(x)⟩ in float64 with its gradients,
requested-digit accuracy against `metrics.requested_accuracy` and a plain Python loop. Wrong
answers carry a `mistake` string saying what is wrong with them and a `hint`: a distinctive part
of the hint the check should give for that mistake. Where the check's message names the mistake
correctly in other words, the hint is a part of that message; no verdict was ever changed to what
the checks do.

Exercise 4 (a judgment) is judged from the matrix its cell shows
(`lesson06.example_confusion()`, row = digit asked for, column = the judge's label, 100
samples per row):

    asked 0:  97  2  .  .  .  1  .  .  .  .
    asked 1:   . 97  2  .  .  .  1  .  .  .
    asked 2:   .  . 97  2  .  .  .  1  .  .
    asked 3:   .  .  . 97  2  .  .  .  1  .
    asked 4:   .  .  .  . 66  2  .  .  . 32
    asked 5:   1  .  . 21  . 76  2  .  .  .
    asked 6:   .  1  .  .  .  . 97  2  .  .
    asked 7:   .  .  1  .  .  .  . 83  2 14
    asked 8:   .  .  .  1  .  .  .  . 97  2
    asked 9:   2  .  .  .  19 .  .  .  . 79

Confused (more than 10 of a row's 100): (4, 9) 32, (5, 3) 21, (7, 9) 14, (9, 4) 19. Fix first: B
(strengthen the conditioning): the diagonal is dark everywhere else, so the labels do reach the
generator (shuffled labels, A, give about 10 % everywhere, as lesson 06 section 5 measures); the
errors are pairs of similar shapes (4/9, 3/5, 7/9); C (a larger z) does not make the label
stronger; D blames the judge, which reads real test digits near its ceiling (Exercise 3's cell).

The single parametrized test calls the exercise's check exactly as the notebook's check cell
does: a "pass" answer must not raise, a "fail" answer must raise AssertionError (any other
exception type, or no exception, fails the test) whose hint (the text after "Hint:", or the whole
message where it has no such line) contains the case's `hint`.

    OMP_NUM_THREADS=1 GANCOURSE_QUICK=1 GANCOURSE_DATA=... pytest -q tests/test_learner_answers_06.py -p no:cacheprovider
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gancourse import metrics
from gancourse.checks import lesson06  # as the notebook imports it: the exercise's matrix

pytest.register_assert_rewrite("learner_cases")  # its asserts report as a test's own do
from learner_cases import Case, Registry, assert_verdict  # noqa: E402  (the shared harness, tests/learner_cases.py)

# Case.answer: the learner's function or class, or (confused, fix) for Exercise 4; decision=True
# (Exercise 4): the answer is the pair of the two names the check cell passes.
registry = Registry()
CASES: list[Case] = registry.cases
case, ok, bad = registry.case, registry.ok, registry.bad


UNCHANGED = "leave the tensors they are given unchanged"  # the rule every check applies (notebook's intro)


# =============================================================================================
# 06 · Exercise 1: ConditionalGenerator.forward(z (B, latent_dim), y (B,)) -> images (B, 1, 28, 28)
#      the layers are given (self.embed, self.net); embed + concatenate, either order, or one-hot of 10
# =============================================================================================
C = "check_conditional_generator"


class _Given(nn.Module):
    """The exercise's class as given: the learner writes only `forward` (each answer subclasses it)."""

    def __init__(self, latent_dim=64, num_classes=10, embed_dim=10):
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.net = nn.Sequential(nn.Linear(latent_dim + embed_dim, 256), nn.LeakyReLU(0.2),
                                 nn.Linear(256, 784), nn.Tanh())


@ok(C, "gen-cat-z-code-view", "torch.cat([z, self.embed(y)], dim=1), then .view(-1, 1, 28, 28)")
class _(_Given):
    def forward(self, z, y):
        h = torch.cat([z, self.embed(y)], dim=1)
        return self.net(h).view(-1, 1, 28, 28)


@ok(C, "gen-cat-code-first-reshape", "the code before z, torch.cat((code, z), 1), .reshape(len(z), 1, 28, 28)")
class _(_Given):
    def forward(self, z, y):
        code = self.embed(y)
        return self.net(torch.cat((code, z), 1)).reshape(len(z), 1, 28, 28)


@ok(C, "gen-one-hot-unflatten", "F.one_hot(y, num_classes=10).float() in place of the embedding, unflatten")
class _(_Given):
    def forward(self, z, y):
        one_hot = F.one_hot(y, num_classes=10).float()
        return self.net(torch.cat([z, one_hot], dim=-1)).unflatten(1, (1, 28, 28))


@ok(C, "gen-one-hot-int-promoted", "F.one_hot(y, 10) without .float(): torch.cat promotes int64 + float32 to float32")
class _(_Given):
    def forward(self, z, y):
        return self.net(torch.cat([z, F.one_hot(y, 10)], 1)).view(-1, 1, 28, 28)


@ok(C, "gen-eye-index-first", "torch.eye(self.num_classes)[y] (one-hot by indexing), before z, hstack")
class _(_Given):
    def forward(self, z, y):
        one_hot = torch.eye(self.num_classes, device=z.device, dtype=z.dtype)[y]
        return self.net(torch.hstack([one_hot, z])).view(z.size(0), 1, 28, 28)


@ok(C, "gen-weight-index-column-stack", "the embedding table indexed by hand, self.embed.weight[y], column_stack")
class _(_Given):
    def forward(self, z, y):
        x = torch.column_stack([z, self.embed.weight[y.long()]])
        out = self.net(x)
        return out.view(out.shape[0], 1, 28, 28)


@ok(C, "gen-functional-embedding-keywords", "F.embedding(y, self.embed.weight), torch.cat(tensors=..., dim=...)")
class _(_Given):
    def forward(self, z, y):
        code = F.embedding(input=y, weight=self.embed.weight)
        flat = self.net(torch.cat(tensors=[z, code], dim=1))
        return flat.reshape(shape=(-1, 1, 28, 28))


@ok(C, "gen-per-sample-loop", "a Python loop over the batch, one image at a time, stacked")
class _(_Given):
    def forward(self, z, y):
        images = []
        for zi, yi in zip(z, y):
            h = torch.cat([zi, self.embed(yi)])
            images.append(self.net(h.unsqueeze(0)).view(1, 28, 28))
        return torch.stack(images)


@ok(C, "gen-nn-unflatten-module", "nn.Unflatten(1, (1, 28, 28)) as a module after the net")
class _(_Given):
    def forward(self, z, y):
        return nn.Unflatten(1, (1, 28, 28))(self.net(torch.cat([z, self.embed(y)], 1)))


@bad(C, "gen-ignores-label", "zeros where the label's code goes: every digit gets the same input, y never used",
     hint="label")
class _(_Given):
    def forward(self, z, y):
        code = torch.zeros(len(z), self.embed.embedding_dim, device=z.device)
        return self.net(torch.cat([z, code], 1)).view(-1, 1, 28, 28)


@bad(C, "gen-raw-label-repeated", "the raw label, as a float, repeated 10 times where its embedding should go",
     hint="a digit is a category")
class _(_Given):
    def forward(self, z, y):
        code = y.float().unsqueeze(1).repeat(1, 10)
        return self.net(torch.cat([z, code], 1)).view(-1, 1, 28, 28)


@bad(C, "gen-raw-label-one-column", "the raw label concatenated as one column (width latent_dim + 1, not + 10)",
     hint="a digit is a category")
class _(_Given):
    def forward(self, z, y):
        return self.net(torch.cat([z, y.float()[:, None]], 1)).view(-1, 1, 28, 28)


@bad(C, "gen-one-hot-no-num-classes", "F.one_hot(y) without num_classes: 9 columns for a batch without any 9",
     hint="num_classes")
class _(_Given):
    def forward(self, z, y):
        return self.net(torch.cat([z, F.one_hot(y).float()], 1)).view(-1, 1, 28, 28)


@bad(C, "gen-flat-output", "returns the net's flat (B, 784) output, not images (B, 1, 28, 28)",
     hint="reshape self.net's output")
class _(_Given):
    def forward(self, z, y):
        return self.net(torch.cat([z, self.embed(y)], 1))


@bad(C, "gen-no-channel", "returns (B, 28, 28): the channel axis is missing",
     hint=".view(z.shape[0], 1, 28, 28)")
class _(_Given):
    def forward(self, z, y):
        return self.net(torch.cat([z, self.embed(y)], 1)).view(-1, 28, 28)


@bad(C, "gen-first-label-for-all", "every sample gets the first sample's code, not its own label's",
     hint="Sample i must get y[i]")
class _(_Given):
    def forward(self, z, y):
        code = self.embed(y[:1]).expand(len(z), -1)
        return self.net(torch.cat([z, code], 1)).view(-1, 1, 28, 28)


@bad(C, "gen-labels-shuffled", "the labels reordered (sorted) before embedding: codes no longer match their samples",
     hint="the labels were sorted apart from z")
class _(_Given):
    def forward(self, z, y):
        code = self.embed(torch.sort(y).values)
        return self.net(torch.cat([z, code], 1)).view(-1, 1, 28, 28)


@bad(C, "gen-code-detached", "the embedding detached: its vectors get no gradient and never learn",
     hint="grad")
class _(_Given):
    def forward(self, z, y):
        code = self.embed(y).detach()
        return self.net(torch.cat([z, code], 1)).view(-1, 1, 28, 28)


@bad(C, "gen-clamps-z-in-place", "clips the noise in place (z.clamp_): changes the caller's z, and the images",
     hint=UNCHANGED)
class _(_Given):
    def forward(self, z, y):
        z.clamp_(-2, 2)
        return self.net(torch.cat([z, self.embed(y)], 1)).view(-1, 1, 28, 28)


# =============================================================================================
# 06 · Exercise 2: projection_logit(features (B, F), psi Linear(F, 1), embed Embedding(10, F), y (B,))
#      -> ψ(φ(x)) + ⟨embed(y), φ(x)⟩, shape (B,) or (B, 1); gradients compared
# =============================================================================================
C = "check_projection_logit"


@ok(C, "proj-mul-sum-squeeze", "psi(features).squeeze(1) + (embed(y) * features).sum(1), shape (B,)")
def _(features, psi, embed, y):
    return psi(features).squeeze(1) + (embed(y) * features).sum(1)


@ok(C, "proj-einsum", "torch.einsum('bf,bf->b', ...) for the inner product, psi(...)[:, 0]")
def _(features, psi, embed, y):
    return psi(features)[:, 0] + torch.einsum("bf,bf->b", embed(y), features)


@ok(C, "proj-keepdim-b1", "shape (B, 1): psi(features) + sum(dim=1, keepdim=True)")
def _(features, psi, embed, y):
    return psi(features) + (embed(y) * features).sum(dim=1, keepdim=True)


@ok(C, "proj-bmm", "batched matrix product (B, 1, F) @ (B, F, 1), shape (B, 1)")
def _(features, psi, embed, y):
    inner = torch.bmm(embed(y).unsqueeze(1), features.unsqueeze(2)).squeeze(2)
    return psi(features) + inner


@ok(C, "proj-diag-of-matmul-f-linear", "F.linear with psi's weight and bias; the diagonal of features @ embed(y).T")
def _(features, psi, embed, y):
    score = F.linear(features, psi.weight, psi.bias).view(-1)
    return score + torch.diagonal(features @ embed(y).T)


@ok(C, "proj-loop-dot", "a Python loop: torch.dot with the embedding table's row per sample, stacked")
def _(features, psi, embed, y):
    logits = []
    for i in range(len(y)):
        logits.append(psi(features[i]).squeeze() + torch.dot(embed.weight[y[i]], features[i]))
    return torch.stack(logits)


@ok(C, "proj-float64", "computed in float64 (the inputs cast with .double()), returned in float64")
def _(features, psi, embed, y):
    f = features.double()
    return psi(features).double().squeeze(1) + (embed(y).double() * f).sum(-1)


@ok(C, "proj-matmul-weight-gather", "all ten classes' inner products, then gather the asked one's column")
def _(features, psi, embed, y):
    all_classes = features @ embed.weight.T                      # (B, 10)
    return psi(features).flatten() + all_classes.gather(1, y[:, None]).flatten()


@bad(C, "proj-no-psi", "only the inner product: the ψ(φ(x)) term is missing",
     hint="ψ")
def _(features, psi, embed, y):
    return (embed(y) * features).sum(1)


@bad(C, "proj-no-label", "only ψ(φ(x)): the label never enters (no inner product with embed(y))",
     hint="embed(y)")
def _(features, psi, embed, y):
    return psi(features).squeeze(1)


@bad(C, "proj-broadcast-b-by-b", "psi(features) (B, 1) plus a (B,) inner product: broadcasts to (B, B)",
     hint="(B, B)")
def _(features, psi, embed, y):
    return psi(features) + (embed(y) * features).sum(1)


@bad(C, "proj-sum-wrong-axis", "sums the product over the batch (dim 0), not over the features",
     hint="dim=1")
def _(features, psi, embed, y):
    return psi(features).squeeze(1) + (embed(y) * features).sum(0)


@bad(C, "proj-embed-by-position", "embeds the sample's position (arange(B)), not its label y",
     hint="embed(y)")
def _(features, psi, embed, y):
    return psi(features).squeeze(1) + (embed(torch.arange(len(y))) * features).sum(1)


@bad(C, "proj-all-classes-summed", "inner product with every class's vector, summed: the label is lost",
     hint="embed(y)")
def _(features, psi, embed, y):
    return psi(features).squeeze(1) + (features @ embed.weight.T).sum(1)


@bad(C, "proj-mean-not-sum", "mean over the features instead of the inner product's sum (divides it by F)",
     hint="mean")
def _(features, psi, embed, y):
    return psi(features).squeeze(1) + (embed(y) * features).mean(1)


@bad(C, "proj-product-not-sum", "multiplies the two terms instead of adding them",
     hint="add")
def _(features, psi, embed, y):
    return psi(features).squeeze(1) * (embed(y) * features).sum(1)


@bad(C, "proj-sigmoid", "returns sigmoid(logit), a probability, where the logit is asked for",
     hint="sigmoid")
def _(features, psi, embed, y):
    return torch.sigmoid(psi(features).squeeze(1) + (embed(y) * features).sum(1))


@bad(C, "proj-detached", "the logit detached (.detach()): no gradient reaches φ(x), ψ or the embedding",
     hint="grad")
def _(features, psi, embed, y):
    return (psi(features).squeeze(1) + (embed(y) * features).sum(1)).detach()


@bad(C, "proj-in-place-alias", "aliases features, multiplies in place: the caller's features change, ψ sees it",
     hint=UNCHANGED)
def _(features, psi, embed, y):
    inner = features
    inner *= embed(y)
    return psi(features).squeeze(1) + inner.sum(1)


# =============================================================================================
# 06 · Exercise 3: requested_accuracy(probs (N, 10), requested (N,)) -> (overall, per_digit (10,))
#      share judged (argmax) as the digit asked for; entry k among the samples asked for k
# =============================================================================================
C = "check_requested_accuracy"


@ok(C, "acc-argmax-mean-list", "argmax(1), mean of booleans as float, a list of per-digit means (0-d tensors)")
def _(probs, requested):
    hit = (probs.argmax(dim=1) == requested).float()
    return hit.mean(), [hit[requested == k].mean() for k in range(10)]


@ok(C, "acc-bincount", "bincount with weights over bincount of the requested digits")
def _(probs, requested):
    hit = (probs.argmax(1) == requested).double()
    per_digit = torch.bincount(requested, weights=hit, minlength=10) / torch.bincount(requested, minlength=10)
    return hit.sum() / len(hit), per_digit


@ok(C, "acc-max-indices-count-len", "probs.max(dim=1).indices; counts and len in plain Python, floats")
def _(probs, requested):
    judged = probs.max(dim=1).indices
    correct = int((judged == requested).sum())
    per_digit = []
    for k in range(10):
        asked = requested == k
        per_digit.append(int((judged[asked] == k).sum()) / int(asked.sum()))
    return correct / len(requested), per_digit


@ok(C, "acc-numpy", "numpy: np.argmax, np.mean, a numpy array per digit")
def _(probs, requested):
    p, r = probs.detach().cpu().numpy(), requested.cpu().numpy()
    hit = np.argmax(p, axis=1) == r
    return float(np.mean(hit)), np.array([hit[r == k].mean() for k in range(10)])


@ok(C, "acc-confusion-diagonal", "a confusion matrix by index_put_ (accumulate), diagonal over row sums")
def _(probs, requested):
    confusion = torch.zeros(10, 10)
    confusion.index_put_((requested, probs.argmax(1)), torch.ones(len(requested)), accumulate=True)
    return confusion.diag().sum() / confusion.sum(), confusion.diag() / confusion.sum(1)


@ok(C, "acc-pure-python", "pure Python on .tolist(): max(range(10), key=row.__getitem__), dict counts")
def _(probs, requested):
    rows, asked = probs.tolist(), requested.tolist()
    hits, totals = {k: 0 for k in range(10)}, {k: 0 for k in range(10)}
    for row, digit in zip(rows, asked):
        totals[digit] += 1
        hits[digit] += max(range(10), key=row.__getitem__) == digit
    return sum(hits.values()) / len(asked), [hits[k] / totals[k] for k in range(10)]


@ok(C, "acc-scatter-add-float64", "scatter_add in float64, torch.max(probs, 1)[1]")
def _(probs, requested):
    hit = (torch.max(probs, 1)[1] == requested).to(torch.float64)
    sums = torch.zeros(10, dtype=torch.float64).scatter_add(0, requested, hit)
    counts = torch.zeros(10, dtype=torch.float64).scatter_add(0, requested, torch.ones_like(hit))
    return hit.mean(), sums / counts


@ok(C, "acc-package-confusion-matrix", "the package's metrics.confusion_matrix, then its diagonal")
def _(probs, requested):
    confusion = metrics.confusion_matrix(probs, requested).double()
    return float(confusion.trace() / confusion.sum()), confusion.diag() / confusion.sum(1)


@bad(C, "acc-per-judged-label", "entry k is the share asked for k among the samples *judged* k (column, not row)",
     hint="asked for")
def _(probs, requested):
    judged = probs.argmax(1)
    hit = (judged == requested).double()
    return hit.mean(), torch.bincount(judged, weights=hit, minlength=10) / torch.bincount(judged, minlength=10)


@bad(C, "acc-argmax-axis-0", "argmax over the samples (dim 0), not over the classes",
     hint="the argmax runs over the wrong axis")
def _(probs, requested):
    hit = (probs.argmax(0) == requested).double()     # (10,) against (N,): right size only when N = 10
    return hit.mean(), torch.bincount(requested, weights=hit, minlength=10) / torch.bincount(requested, minlength=10)


@bad(C, "acc-overall-count", "overall is the count of hits (sum), not a share",
     hint="share")
def _(probs, requested):
    hit = (probs.argmax(1) == requested).double()
    return hit.sum(), torch.bincount(requested, weights=hit, minlength=10) / torch.bincount(requested, minlength=10)


@bad(C, "acc-per-digit-over-n", "per digit: hits of digit k divided by N, not by the number asked for k",
     hint="asked for")
def _(probs, requested):
    hit = (probs.argmax(1) == requested).double()
    return hit.mean(), torch.bincount(requested, weights=hit, minlength=10) / len(requested)


@bad(C, "acc-mean-prob-of-requested", "the mean probability given to the requested digit, not the share labelled it",
     hint="mean probability the judge gives the requested digit")
def _(probs, requested):
    p = probs[torch.arange(len(requested)), requested].double()
    return p.mean(), torch.bincount(requested, weights=p, minlength=10) / torch.bincount(requested, minlength=10)


@bad(C, "acc-threshold-half", "counts a sample if the requested digit's probability is > 0.5, not if it is the argmax",
     hint="most probable")
def _(probs, requested):
    hit = (probs[torch.arange(len(requested)), requested] > 0.5).double()
    return hit.mean(), torch.bincount(requested, weights=hit, minlength=10) / torch.bincount(requested, minlength=10)


@bad(C, "acc-overall-macro", "overall as the mean of the ten per-digit shares, not the share of all samples",
     hint="all samples")
def _(probs, requested):
    hit = (probs.argmax(1) == requested).double()
    per_digit = torch.bincount(requested, weights=hit, minlength=10) / torch.bincount(requested, minlength=10)
    return per_digit.mean(), per_digit


@bad(C, "acc-judged-distribution", "per digit: the share of all samples judged k (the judged digits' histogram)",
     hint="asked for")
def _(probs, requested):
    judged = probs.argmax(1)
    return (judged == requested).double().mean(), torch.bincount(judged, minlength=10).double() / len(judged)


@bad(C, "acc-sorted-match", "compares sorted judged labels with sorted requests: matches histograms, not samples",
     hint="same sample")
def _(probs, requested):
    judged, asked = probs.argmax(1).sort().values, requested.sort().values
    hit = (judged == asked).double()
    return hit.mean(), torch.bincount(asked, weights=hit, minlength=10) / torch.bincount(asked, minlength=10)


@bad(C, "acc-pair-reversed", "returns (per_digit, overall), the pair the other way round",
     hint="(overall, per_digit)")
def _(probs, requested):
    hit = (probs.argmax(1) == requested).double()
    return torch.bincount(requested, weights=hit, minlength=10) / torch.bincount(requested, minlength=10), hit.mean()


@bad(C, "acc-log-in-place", "takes log-probabilities in place (probs.log_()): the caller's probs change",
     hint=UNCHANGED)
def _(probs, requested):
    hit = (probs.log_().argmax(1) == requested).double()
    return hit.mean(), torch.bincount(requested, weights=hit, minlength=10) / torch.bincount(requested, minlength=10)


# =============================================================================================
# 06 · Exercise 4 (judgment): confused = [(asked, judged), ...] above 10 % of a row; fix = a letter
#      right: {(4, 9), (5, 3), (7, 9), (9, 4)} and "B" (see the module's docstring)
# =============================================================================================
C = "check_confusion_judgment"
RIGHT = [(4, 9), (5, 3), (7, 9), (9, 4)]


def judge(id, confused, fix, mistake="", style="", hint=""):
    case(C, (confused, fix), "fail" if mistake else "pass", id, mistake=mistake, style=style, hint=hint,
         decision=True)


def _from_matrix():
    matrix = lesson06.example_confusion()
    off = matrix.clone()
    off.fill_diagonal_(0)
    return [tuple(pair) for pair in torch.nonzero(off > 10).tolist()]


def _from_numpy():
    matrix = np.asarray(lesson06.example_confusion().tolist())
    share = matrix / matrix.sum(1, keepdims=True)
    return [(i, j) for i, j in zip(*np.nonzero(share > 0.10)) if i != j]   # numpy int64 pairs


judge("judge-right-tuples", RIGHT, "B", style="a list of tuples, sorted")
judge("judge-right-lists-any-order", [[9, 4], [7, 9], [4, 9], [5, 3]], "B", style="a list of lists, any order")
judge("judge-right-from-matrix", _from_matrix(), "B", style="computed from the matrix with torch.nonzero")
judge("judge-right-numpy-ints", _from_numpy(), "B", style="computed with numpy: pairs of numpy int64")
judge("judge-right-lowercase", RIGHT, "b", style="the letter in lower case")
judge("judge-right-spaces", list(reversed(RIGHT)), " B ", style="the letter with spaces around it")

judge("judge-fix-A-shuffle", RIGHT, "A", hint="labels separated from their images would spread every row",
      mistake="A: shuffled labels would put every row near 10 %, not a dark diagonal with a few similar-shape pairs")
judge("judge-fix-C-latent", RIGHT, "C", hint="a larger z does not teach",
      mistake="C: a larger z gives more style, not a stronger label; the confusion is between similar digits")
judge("judge-fix-D-judge", RIGHT, "D", hint="judge",
      mistake="D: blames the judge, which reads real test digits near its ceiling (Exercise 3's cell)")
judge("judge-fix-unknown-E", RIGHT, "E", hint="names none of the options",
      mistake="E is none of the options printed")
judge("judge-fix-none", RIGHT, None, hint="your fix is None",
      mistake="fix left None")
judge("judge-fix-empty", RIGHT, "", hint="names none of the options",
      mistake="fix is the empty string")
judge("judge-fix-int", RIGHT, 2, hint="it should be a string",
      mistake="fix given as the option's number, not its letter")
judge("judge-missing-7-9", [(4, 9), (5, 3), (9, 4)], "B", hint="off-diagonal cells above 10 % of the row",
      mistake="misses (7, 9): 14 of the 100 asked for 7 were judged 9")
judge("judge-pair-reversed-3-5", [(4, 9), (3, 5), (7, 9), (9, 4)], "B", hint="read each row (the digit asked for)",
      mistake="(3, 5) for (5, 3): 5s were judged 3, not the other way round (pairs are (asked, judged))")
judge("judge-all-transposed", [(9, 4), (3, 5), (9, 7), (4, 9)], "B", hint="read each row (the digit asked for)",
      mistake="every pair written (judged, asked): the matrix read by columns")
judge("judge-unordered-dedup", [(4, 9), (3, 5), (7, 9)], "B", hint="read each row (the digit asked for)",
      mistake="pairs treated as unordered: (9, 4) dropped as a duplicate of (4, 9), (5, 3) written (3, 5)")
judge("judge-every-off-diagonal", [(i, j) for i in range(10) for j in range(10)
                                   if i != j and lesson06.example_confusion()[i, j] > 0], "B",
      hint="10 %", mistake="every nonzero off-diagonal cell, not those above 10 %")
judge("judge-with-diagonal", RIGHT + [(k, k) for k in range(10)], "B", hint="off-diagonal cells",
      mistake="adds (k, k): a digit judged as itself is not a confusion")
judge("judge-triples-with-counts", [(4, 9, 32), (5, 3, 21), (7, 9, 14), (9, 4, 19)], "B",
      hint="should be a pair of digits",
      mistake="triples (asked, judged, count), not pairs")
judge("judge-confused-none", None, "B", hint="your confused is None",
      mistake="confused left None")
judge("judge-confused-empty-string", "", "B", hint="list",
      mistake="confused is the empty string")
judge("judge-confused-strings", ["4->9", "5->3", "7->9", "9->4"], "B", hint="should be a pair of digits",
      mistake="pairs written as strings, not pairs of ints")


# =============================================================================================
# The test
# =============================================================================================

@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar")  # a learner's float()
@pytest.mark.parametrize("case", CASES, ids=registry.ids())
def test_learner_answer_06(case: Case):
    assert_verdict(case)
