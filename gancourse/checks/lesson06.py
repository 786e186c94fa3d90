"""Checks for lesson 06, conditional GANs: the conditional generator's forward pass, the
projection discriminator's logit, requested-digit accuracy, and reading a confusion matrix."""
from __future__ import annotations

import operator
import re
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from gancourse import metrics, models
from gancourse.checks.core import (
    KnownAnswer, as_float_tensor, call, check_choice, close, describe, diagnose, hint_over_probes, learner_facing,
    lettered, need_number, need_tensor, passed, wrong_return, wrong_setting,
)

__all__ = ["check_conditional_generator", "check_projection_logit", "check_requested_accuracy",
           "check_confusion_judgment"]

LATENT, CLASSES, EMBED = 8, 10, 10
_LABELS = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 0, 7])  # every digit, some twice
_NO_NINE = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5])  # F.one_hot(y) alone makes 8 columns


# --- the conditional generator -------------------------------------------------------------------

def _inputs(seed: int, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    z = torch.randn(len(labels), LATENT, generator=torch.Generator().manual_seed(seed))
    return z, labels.clone()


def _body(model: nn.Module, h: torch.Tensor) -> torch.Tensor:
    return model.net(h).view(h.shape[0], 1, 28, 28)


def _correct_generators(model: nn.Module, z: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every right forward pass: the embedding or a one-hot code, on either side of z (a learned
    layer does not care which columns come first, so both orders are right)."""
    embedded, one_hot = model.embed(y), F.one_hot(y, CLASSES).float()
    return {"embedding after z": _body(model, torch.cat([z, embedded], 1)),
            "embedding before z": _body(model, torch.cat([embedded, z], 1)),
            "one-hot after z": _body(model, torch.cat([z, one_hot], 1)),
            "one-hot before z": _body(model, torch.cat([one_hot, z], 1))}


GENERATOR_MISTAKES = [
    KnownAnswer("each sample got another sample's label (the labels were reordered, e.g. flipped or sorted, "
                "apart from z): sample i must get y[i]. Concatenate z and self.embed(y) as they come.",
                lambda m, z, y: _body(m, torch.cat([z, m.embed(y.flip(0))], 1))),
    KnownAnswer("each sample got another sample's label (the labels were sorted apart from z): sample i must get "
                "y[i]. Concatenate z and self.embed(y) as they come.",
                lambda m, z, y: _body(m, torch.cat([z, m.embed(y.sort().values)], 1))),
    KnownAnswer("the label entered as a number (y.float(), repeated to fill the code's place): a digit is a "
                "category, not a quantity (a 9 is not 'three times a 3'). Give each digit its own vector: its row "
                "of the embedding, or a one-hot code.",
                lambda m, z, y: _body(m, torch.cat([z, y.float()[:, None].expand(-1, EMBED)], 1))),
    KnownAnswer("the label entered as a number (y.float(), repeated to fill the code's place): a digit is a "
                "category, not a quantity (a 9 is not 'three times a 3'). Give each digit its own vector: its row "
                "of the embedding, or a one-hot code.",
                lambda m, z, y: _body(m, torch.cat([y.float()[:, None].expand(-1, EMBED), z], 1))),
    KnownAnswer("every sample got the batch's average label embedding: the labels no longer choose a digit. "
                "Use each sample's own embedding, self.embed(y), shape (B, embed_dim).",
                lambda m, z, y: _body(m, torch.cat([z, m.embed(y).mean(0, keepdim=True).expand(len(y), -1)], 1))),
]


def _generator_crash_hint(text: str) -> str:
    found = re.search(r"\((\d+)x(\d+) and (\d+)x\d+\)", text)
    if found:
        given, wanted = int(found.group(2)), int(found.group(3))
        if given == LATENT + 1:
            return ("the label entered as one number (y.float()): a digit is a category, not a quantity. "
                    "Embed it, self.embed(y) (B, embed_dim), and concatenate that to z.")
        if LATENT < given < wanted:
            return ("F.one_hot(y) without num_classes makes only as many columns as the largest label in the batch "
                    "+ 1 (here the batch has no 9): pass num_classes=10, or use self.embed(y).")
        if given == LATENT:
            return ("the network got z alone: the labels never reached it. Concatenate the label's embedding: "
                    "torch.cat([z, self.embed(y)], dim=1).")
        return (f"the first Linear layer takes latent_dim + embed_dim = {wanted} features, and got {given}: "
                f"concatenate z (B, latent_dim) and self.embed(y) (B, embed_dim) along dim=1.")
    if "Sizes of tensors must match except in dimension 0" in text:
        return "torch.cat joined z and the embedding along the batch (dim 0); join them along the features: dim=1."
    if "Expected tensor for argument #1 'indices' to have" in text or "Long" in text and "Embedding" in text:
        return "nn.Embedding takes integer class indices (y as it comes, dtype long), not floats."
    return ""


def _batch_mixing_hint(model: nn.Module, z: torch.Tensor, y: torch.Tensor, what: str) -> str:
    """A hint when each sample alone comes out right but the batch does not: samples are mixed."""
    singles = [call(model, z[i:i + 1], y[i:i + 1], what=what) for i in range(len(y))]
    if all(torch.is_tensor(s) and any(close(s.reshape(1, 1, 28, 28), image[i:i + 1])
                                      for image in _correct_generators(model, z, y).values())
           for i, s in enumerate(singles)):
        return ("one sample at a time comes out right, a batch does not: each sample got another sample's label "
                "(the labels were reordered or shuffled apart from z). Sample i must get y[i]: concatenate z and "
                "self.embed(y) as they come.")
    return ""


def _check_embedding_learns(model: nn.Module, what: str) -> None:
    """The text's code is self.embed(y), a *learned* vector per digit (or a fixed one-hot code):
    when the images use the embedding's values, its gradient must reach self.embed."""
    z, y = _inputs(len(_LABELS), _LABELS)
    out = call(model, z, y, what=what)
    if not out.requires_grad:
        raise AssertionError(f"{what} returned images with no gradient (detached, or computed under "
                             f"torch.no_grad()): the generator could not learn from them.\nHint: build the "
                             f"images from torch operations on z and the code, with no .detach().")
    with torch.no_grad():
        one_hot = any(close(out, image) for name, image in _correct_generators(model, z, y).items()
                      if name.startswith("one-hot"))
    if one_hot:
        return  # a fixed one-hot code: nothing to learn
    grad, = torch.autograd.grad(out.sum(), model.embed.weight, allow_unused=True)
    if grad is None or not bool(grad.abs().sum() > 0):
        raise AssertionError(f"{what} gives the right images, but no gradient reaches self.embed.\nHint: the "
                             f"label's code was detached (.detach(), or its values copied into a new tensor), so "
                             f"the embedding gets no grad and its vectors never learn: the text asks for one "
                             f"learned vector per digit. Keep self.embed(y) in the graph (a fixed one-hot code "
                             f"is the other right choice).")


@learner_facing
def check_conditional_generator(cls: Callable) -> None:
    """Check the forward pass of ``cls(latent_dim=8, num_classes=10, embed_dim=10)``, whose layers
    are the exercise's ``self.embed`` (nn.Embedding(10, 10)) and ``self.net``: ``forward(z, y)``
    with z float32 (B, 8) and y int64 (B,) must return images (B, 1, 28, 28) from
    self.net(z concatenated with the label's code), the code being self.embed(y) or a one-hot
    vector of 10 (either order of z and the code is right)."""
    what = "your conditional generator's forward"
    torch.manual_seed(0)
    model = call(cls, LATENT, CLASSES, EMBED, what="building your generator class")
    if not isinstance(model, nn.Module) or not hasattr(model, "embed") or not hasattr(model, "net"):
        raise AssertionError(f"building your class gave {describe(model)} without `self.embed` and `self.net`; "
                             f"keep the exercise's __init__ and write forward only.")
    model.eval()
    for labels in (_LABELS, _NO_NINE):
        z, y = _inputs(len(labels), labels)
        out = need_tensor(call(model, z, y, what=what, hints=[_generator_crash_hint]), what,
                          "images, a tensor of shape (B, 1, 28, 28)")
        if tuple(out.shape) != (len(y), 1, 28, 28):
            raise AssertionError(f"{what} returned {describe(out)}; expected images of shape ({len(y)}, 1, 28, 28)."
                                 f"\nHint: reshape self.net's output: .view(z.shape[0], 1, 28, 28).")
        with torch.no_grad():
            right = _correct_generators(model, z, y)
            if any(close(out, image) for image in right.values()):
                continue
            same_for_all_labels = close(model(z, torch.zeros_like(y)), model(z, (y + 3) % CLASSES))
            hint = diagnose(out, GENERATOR_MISTAKES, model, z, y) or _batch_mixing_hint(model, z, y, what)
        if same_for_all_labels:
            hint = ("the labels are ignored: the same z gives the same image whatever digit is asked for. "
                    "Concatenate the label's embedding to z: torch.cat([z, self.embed(y)], dim=1).")
        raise AssertionError(f"{what} does not give self.net(z concatenated with the label's code) for the batch "
                             f"y = {y.tolist()}.\nHint: " + (hint or "each sample's network input is its own noise "
                                                             "z[i] next to its own label's code (its embedding "
                                                             "row), side by side along the features; the network's "
                                                             "784 outputs per sample are then one 28 x 28 image."))
    _check_embedding_learns(model, what)
    passed("the conditional generator concatenates z with its own label's code, sample by sample")


# --- the projection discriminator --------------------------------------------------------------

FEATURES = 6


def _projection_inputs(seed: int, batch: int = 7):
    gen = torch.Generator().manual_seed(seed)
    features = torch.randn(batch, FEATURES, generator=gen)
    torch.manual_seed(seed)
    psi, embedding = nn.Linear(FEATURES, 1), nn.Embedding(CLASSES, FEATURES)
    y = torch.randint(CLASSES, (batch,), generator=gen)
    return features, psi, embedding, y


def _projection(features, psi, embedding, y):
    return models.projection_logit(features, psi, embedding, y)


PROJECTION_MISTAKES = [
    KnownAnswer("the ψ(φ(x)) term is missing: the logit is ψ(φ(x)) + ⟨embed(y), φ(x)⟩; without ψ the "
                "discriminator cannot say 'real' apart from the class.",
                lambda f, p, e, y: (e(y) * f).sum(1)),
    KnownAnswer("the inner product ⟨embed(y), φ(x)⟩ is missing: without it the label never reaches the logit.",
                lambda f, p, e, y: p(f).squeeze(1)),
    KnownAnswer("the inner product uses the sum of all ten class embeddings (φ @ embed.weight.T summed over "
                "classes); it takes the requested class's row only: embed(y), shape (B, F).",
                lambda f, p, e, y: p(f).squeeze(1) + (f @ e.weight.T).sum(1)),
    KnownAnswer("each sample's features met another sample's class embedding (the labels reordered); "
                "sample i uses embed(y[i]).", lambda f, p, e, y: p(f).squeeze(1) + (e(y.flip(0)) * f).sum(1)),
    KnownAnswer("the inner product is a mean over features; it is a sum: (embed(y) * φ).sum(1).",
                lambda f, p, e, y: p(f).squeeze(1) + (e(y) * f).mean(1)),
    KnownAnswer("ψ is applied to the product embed(y)·φ(x); ψ takes φ(x) alone, and the inner product is "
                "added to it.", lambda f, p, e, y: p(e(y) * f).squeeze(1)),
    KnownAnswer("a sigmoid was applied: the discriminator returns logits; the losses apply the sigmoid.",
                lambda f, p, e, y: torch.sigmoid(_projection(f, p, e, y))),
    KnownAnswer("the two terms were multiplied: the logit adds them, ψ(φ(x)) + ⟨embed(y), φ(x)⟩ (a score for "
                "'looks real' plus a score for 'looks like class y').",
                lambda f, p, e, y: p(f).squeeze(1) * (e(y) * f).sum(1)),
    KnownAnswer("the inner product is taken with the embedding's weight rows 0..B-1, not with the rows of "
                "the requested classes: embed(y) (or embed.weight[y]).",
                lambda f, p, e, y: p(f).squeeze(1) + (e.weight[:len(y)] * f).sum(1)),
]


#: Results of shape (B, B): every sample's term met every other sample's.
SQUARE_MISTAKES = [
    KnownAnswer("psi(features) has shape (B, 1) and the inner product (B,): adding a (B, 1) tensor to a (B,) "
                "one broadcasts to (B, B), every sample's ψ with every sample's inner product. Give both terms "
                "the same shape first: squeeze ψ's output to (B,), or keep the sum's dimension (keepdim=True).",
                lambda f, p, e, y: p(f) + (e(y) * f).sum(1)),
    KnownAnswer("the inner products were taken between every sample's features and every sample's class "
                "embedding, (B, B) (a matrix product); each sample needs its own pair only: the diagonal of that "
                "matrix, or the elementwise product summed over the features.",
                lambda f, p, e, y: p(f) + f @ e(y).T),
]


def _projection_crash_hint(text: str) -> str:
    found = re.search(r"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\)", text)
    if found and {int(found.group(1)), int(found.group(2))} == {7, FEATURES}:
        return (f"a tensor of F = {FEATURES} values met one of B = 7: the product embed(y) * φ(x) was summed "
                f"over the batch (dim 0), which leaves one number per feature. The inner product sums over the "
                f"features, dim=1, leaving one number per sample.")
    return ""


@learner_facing
def check_projection_logit(fn: Callable) -> None:
    """Check ``fn(features, psi, embed, y) -> logits``: features φ(x) float32 (B, 6), psi an
    nn.Linear(6, 1), embed an nn.Embedding(10, 6), y int64 (B,); the logits ψ(φ(x)) + ⟨embed(y),
    φ(x)⟩, shape (B,) or (B, 1), with their gradients (Miyato & Koyama 2018)."""
    what = "your projection_logit"
    for seed in (0, 1):
        features, psi, embedding, y = _projection_inputs(seed)
        features = features.requires_grad_(True)
        out = need_tensor(call(fn, features, psi, embedding, y, what=what, hints=[_projection_crash_hint]), what,
                          "logits, a tensor of shape (B,)")
        batch = len(y)
        if tuple(out.shape) == (batch, CLASSES):
            raise AssertionError(f"{what} returned {describe(out)}: a score for every class. The projection takes "
                                 f"the requested class only: (embed(y) * features).sum(1), shape (B,).")
        if tuple(out.shape) == (batch, FEATURES):
            raise AssertionError(f"{what} returned {describe(out)}: the product embed(y) * features was not "
                                 f"summed over the features. An inner product is .sum(1).")
        if tuple(out.shape) == (batch, batch):
            with torch.no_grad():
                hint = diagnose(out.detach(), SQUARE_MISTAKES, features.detach(), psi, embedding, y)
            raise AssertionError(f"{what} returned {describe(out)}: (B, B), one logit for every pair of samples; "
                                 f"expected ({batch},) or ({batch}, 1), one per sample.\nHint: " + (
                                     hint or "two terms of shapes (B, 1) and (B,) broadcast to (B, B) when "
                                             "added: give both the same shape before adding them."))
        if tuple(out.shape) not in ((batch,), (batch, 1)):
            raise wrong_return(out, what, f"logits of shape ({batch},) or ({batch}, 1)")
        out = out.reshape(batch)
        expected = _projection(features, psi, embedding, y)
        if not close(out.detach(), expected.detach()):
            with torch.no_grad():
                hint = diagnose(out.detach(), PROJECTION_MISTAKES, features.detach(), psi, embedding, y)
            raise AssertionError(f"{what} gave {[round(v, 4) for v in out.detach().tolist()]}, expected "
                                 f"{[round(v, 4) for v in expected.detach().tolist()]} = ψ(φ(x)) + ⟨embed(y), "
                                 f"φ(x)⟩.\nHint: " + (hint or "the logit adds two terms, one number each "
                                                              "per sample: ψ applied to the sample's features, and "
                                                              "the inner product of those features with the "
                                                              "embedding row of the sample's own class y[i]. "
                                                              "Compare each term on its own with yours."))
        if not out.requires_grad:
            raise AssertionError(f"{what} returned logits with no gradient (detached, .item() or a new tensor): "
                                 f"build them from torch operations on the inputs.")
        got = torch.autograd.grad(out.sum(), [features, embedding.weight, psi.weight], allow_unused=True)
        want = torch.autograd.grad(expected.sum(), [features, embedding.weight, psi.weight])
        if not all(g is not None and close(g, w) for g, w in zip(got, want)):
            raise AssertionError(f"{what} has the right values but not the right gradients: build it from torch "
                                 f"operations on features, psi and embed (no .detach(), no torch.tensor(...)).")
    passed("projection_logit = ψ(φ(x)) + ⟨embed(y), φ(x)⟩: values and gradients")


# --- requested-digit accuracy -------------------------------------------------------------------

def _accuracy_probes():
    """Judge's probabilities (N, 10) and requested digits (N,): N = 10 (square, so an argmax over
    the wrong axis does not crash) and N = 47, with unequal counts per digit."""
    probes = []
    for seed, n in ((0, 10), (1, 47)):
        gen = torch.Generator().manual_seed(seed)
        requested = torch.arange(n) % CLASSES if n == 10 else torch.cat([torch.arange(CLASSES),
                                                                         torch.randint(CLASSES, (n - CLASSES,),
                                                                                       generator=gen)])
        logits = torch.randn(n, CLASSES, generator=gen) * 2
        logits[torch.arange(n), requested] += torch.rand(n, generator=gen) * 5  # mostly right, not always
        probes.append((torch.softmax(logits, 1), requested))
    return probes


def _by_judged(probs, requested):
    judged = probs.argmax(1)
    hit = (judged == requested).double()
    per = torch.bincount(judged, weights=hit, minlength=CLASSES) / torch.bincount(judged, minlength=CLASSES)
    return float(hit.mean()), per


def _soft(probs, requested):
    p = probs[torch.arange(len(requested)), requested].double()
    per = torch.bincount(requested, weights=p, minlength=CLASSES) / torch.bincount(requested, minlength=CLASSES)
    return float(p.mean()), per


def _wrong_axis(probs, requested):
    if len(requested) != probs.shape[1]:
        return None  # (10,) against (N,): the learner's code crashes there, so this matches nothing
    hit = (probs.argmax(0) == requested).double()
    per = torch.bincount(requested, weights=hit, minlength=CLASSES) / torch.bincount(requested, minlength=CLASSES)
    return float(hit.mean()), per


def _over_all(probs, requested):
    hit = (probs.argmax(1) == requested).double()
    return float(hit.mean()), torch.bincount(requested, weights=hit, minlength=CLASSES) / len(requested)


def _per_requested(hit, requested):
    hit = hit.double()
    return torch.bincount(requested, weights=hit, minlength=CLASSES) / torch.bincount(requested, minlength=CLASSES)


def _hits(probs, requested):
    return probs.argmax(1) == requested


def _macro(probs, requested):
    per = _per_requested(_hits(probs, requested), requested)
    return float(per.mean()), per


def _count(probs, requested):
    hit = _hits(probs, requested)
    return float(hit.sum()), _per_requested(hit, requested)


def _threshold(probs, requested):
    hit = probs[torch.arange(len(requested)), requested] > 0.5
    return float(hit.double().mean()), _per_requested(hit, requested)


def _judged_histogram(probs, requested):
    judged = probs.argmax(1)
    return float(_hits(probs, requested).double().mean()), torch.bincount(judged, minlength=CLASSES).double() / len(
        judged)


def _sorted_match(probs, requested):
    asked = requested.sort().values
    hit = probs.argmax(1).sort().values == asked
    return float(hit.double().mean()), _per_requested(hit, asked)


ACCURACY_MISTAKES = [
    KnownAnswer("the argmax runs over the wrong axis: probs.argmax(0) gives, for each class, the sample it is "
                "most sure of. The judged digit of each sample is probs.argmax(1) (or dim=-1).", _wrong_axis),
    KnownAnswer("the per-digit shares are grouped by the judge's label (of the samples judged k, how many were "
                "asked for k); group by the requested digit: of the samples asked for k, the share judged k.",
                _by_judged),
    KnownAnswer("this is the mean probability the judge gives the requested digit, not the share of samples "
                "it labels as that digit: compare probs.argmax(1) with requested.", _soft),
    KnownAnswer("each digit's hits are divided by all N samples, not by the samples asked for that digit (the "
                "ten shares then add up to the overall accuracy).", _over_all),
    KnownAnswer("overall is the mean of the ten per-digit shares; it is the share of hits among all samples. "
                "The digits are asked for unequal numbers of times (N = 47), so the two differ.", _macro),
    KnownAnswer("overall is the count of hits, not a share: divide it by the number of samples.", _count),
    KnownAnswer("a sample counted when the judge gives the requested digit a probability above 0.5; it counts "
                "when the requested digit is the judge's most probable class (its argmax), whatever its "
                "probability.", _threshold),
    KnownAnswer("each per-digit entry is the share of all samples judged k (the histogram of the judge's labels); "
                "group by the digit asked for: of the samples asked for k, the share judged k.", _judged_histogram),
    KnownAnswer("the judged digits and the requested digits were sorted apart, so they are no longer the same "
                "sample's: compare each sample's judged digit with the digit asked for that same sample, in the "
                "order they come.", _sorted_match),
    KnownAnswer("these are percentages; return shares in [0, 1].",
                lambda p, r: tuple(v * 100 for v in metrics.requested_accuracy(p, r))),
]


def _same_accuracy(got, known) -> bool:
    return close(got[0], known[0], rtol=1e-4, atol=1e-6) and close(got[1], known[1], rtol=1e-4, atol=1e-6,
                                                                    equal_nan=True)


def _ten_values(value: Any) -> bool:
    """Whether ``value`` holds ten numbers (a per-digit answer): a (10,) tensor or array, or a list of ten."""
    if torch.is_tensor(value) or hasattr(value, "shape"):
        return tuple(value.shape) == (CLASSES,)
    return isinstance(value, (list, tuple)) and len(value) == CLASSES


def _read_accuracy(result: Any, what: str) -> tuple[float, torch.Tensor]:
    expected = "a pair (overall accuracy, per-digit accuracy of shape (10,))"
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise wrong_return(result, what, expected)
    if _ten_values(result[0]) and not _ten_values(result[1]):
        raise AssertionError(f"{what} returned ten values first and {describe(result[1])} second.\nHint: the pair "
                             f"is reversed: return (overall, per_digit), the overall share first.")
    overall = need_number(result[0], what + "'s overall accuracy", "one number (a float or a 0-d tensor)")
    per = as_float_tensor(result[1], what + "'s per-digit accuracy", "ten shares, a tensor of shape (10,)")
    if tuple(per.shape) != (CLASSES,):
        raise AssertionError(f"{what}'s per-digit accuracy has shape {tuple(per.shape)}; expected (10,): one share "
                             f"per requested digit, 0 to 9.")
    return overall, per


def _accuracy_or_none(fn: Callable, probs: torch.Tensor, requested: torch.Tensor, what: str):
    """The learner's pair on one more probe (to tell known mistakes apart), None where their code
    raises or returns something else there."""
    try:
        return _read_accuracy(call(fn, probs.clone(), requested.clone(), what=what), what)
    except AssertionError:
        return None


@learner_facing
def check_requested_accuracy(fn: Callable) -> None:
    """Check ``fn(probs, requested) -> (overall, per_digit)``: probs float32 (N, 10), the judge's
    class probabilities, requested int64 (N,), every digit at least once; overall a float or 0-d
    tensor (the share of samples whose argmax is the requested digit), per_digit ten shares
    (tensor, array or list; digit k's share among the samples asked for k)."""
    what = "your requested_accuracy"
    probes = _accuracy_probes()
    for index, (probs, requested) in enumerate(probes):
        got = _read_accuracy(call(fn, probs, requested, what=what), what)
        expected = metrics.requested_accuracy(probs, requested)
        if not _same_accuracy(got, expected):
            values = [got if i == index else _accuracy_or_none(fn, *probe, what) for i, probe in enumerate(probes)]
            hint = hint_over_probes(index, values, ACCURACY_MISTAKES, probes, same=_same_accuracy)
            raise AssertionError(
                f"{what} gave overall {got[0]:.4f} and per digit {[round(v, 3) for v in got[1].tolist()]} for "
                f"N = {len(requested)}; expected {expected[0]:.4f} and "
                f"{[round(v, 3) for v in expected[1].tolist()]}.\nHint: "
                + (hint or "a sample is a hit when the judge's most probable class (the argmax over the ten "
                           "classes) is the digit asked for; overall is the share of hits among all N samples, "
                           "entry k the share of hits among the samples asked for k."))
    passed("requested_accuracy: overall and per requested digit, as metrics.requested_accuracy")


# --- judgment: reading a confusion matrix ----------------------------------------------------------

def example_confusion() -> torch.Tensor:
    """The exhibit of the judgment exercise: a made-up confusion matrix (rows: the digit asked for,
    100 samples each; columns: the judge's label) of a generator that gets most digits right."""
    matrix = torch.diag(torch.full((CLASSES,), 97))
    for digit in range(CLASSES):
        matrix[digit, (digit + 1) % CLASSES] += 2
        matrix[digit, (digit + 5) % CLASSES] += 1
    for asked, judged, count in ((4, 9, 31), (9, 4, 18), (7, 9, 14), (5, 3, 21)):
        matrix[asked, asked] -= count
        matrix[asked, judged] += count
    return matrix


#: The fixes to choose from, by letter.
FIXES = {
    "A": "check that each label travels with its image in the data pipeline (no separate shuffling)",
    "B": "strengthen the conditioning: a projection discriminator (or longer training) so D tells similar digits apart",
    "C": "give the generator a larger latent_dim",
    "D": "retrain the judge: it must be mistaken about these digits",
}


def _confused_pairs(matrix: torch.Tensor, threshold: float = 0.10) -> set[tuple[int, int]]:
    share = matrix.double() / matrix.sum(1, keepdim=True)
    return {(a, b) for a in range(CLASSES) for b in range(CLASSES) if a != b and share[a, b] > threshold}


def _digit(value: Any) -> int | None:
    """``value`` as a digit 0-9 when it is an integer (int, NumPy integer, one-element integer
    tensor), else None."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return None
    if torch.is_tensor(value) and (value.numel() != 1 or value.is_floating_point() or value.dtype == torch.bool):
        return None
    try:
        digit = operator.index(value.reshape(()) if torch.is_tensor(value) else value)
    except TypeError:
        return None
    return digit if 0 <= digit < CLASSES else None


def _read_pairs(answer: Any, what: str) -> set[tuple[int, int]]:
    expected = "a list of (asked, judged) pairs of digits, e.g. [(1, 7), (7, 1)]"
    if (torch.is_tensor(answer) or type(answer).__module__ == "numpy") and getattr(answer, "ndim", 0) == 2:
        answer = list(answer)  # a (K, 2) tensor or array of pairs, e.g. from torch.nonzero
    if not isinstance(answer, (list, tuple, set)):
        raise wrong_setting(answer, what, expected, f"your pairs, {expected}")
    pairs = set()
    for pair in answer:
        if torch.is_tensor(pair) or type(pair).__module__ == "numpy":
            pair = list(pair) if getattr(pair, "ndim", 0) == 1 else pair
        digits = [_digit(d) for d in pair] if isinstance(pair, (list, tuple)) and len(pair) == 2 else [None]
        if None in digits:
            raise AssertionError(f"{what} holds {pair!r}; each entry should be a pair of digits (asked, judged), "
                                 f"like (1, 7).")
        pairs.add((digits[0], digits[1]))
    return pairs


@learner_facing
def check_confusion_judgment(confused: Any, fix: Any) -> None:
    """Check the reading of :func:`example_confusion`: ``confused``, the (asked, judged) pairs in
    which more than 10 % of the samples asked for one digit were judged another (a list of pairs
    of digits, any order; ints, NumPy integers or one-element integer tensors); ``fix``, the letter
    of :data:`FIXES` to try first."""
    matrix = example_confusion()
    share = matrix.double() / matrix.sum(1, keepdim=True)
    truth = _confused_pairs(matrix)
    got = _read_pairs(confused, "your confused")
    if got != truth:
        missing, extra = sorted(truth - got), sorted(got - truth)
        parts = []
        if missing:
            parts.append("missing " + ", ".join(f"({a}, {b}): {share[a, b]:.0%} of the {a}s asked for were judged "
                                                f"{b}" for a, b in missing))
        diagonal = [(a, b) for a, b in extra if a == b]
        extra = [(a, b) for a, b in extra if a != b]
        if extra:
            flipped = [(a, b) for a, b in extra if (b, a) in truth]
            parts.append("not confused above 10 %: " + ", ".join(f"({a}, {b}): {share[a, b]:.0%}" for a, b in extra)
                         + (" (the pair is (asked, judged): row first, then column)" if flipped else ""))
        if diagonal:
            parts.append("on the diagonal, a digit judged as itself (right, not a confusion): "
                         + ", ".join(f"({a}, {b})" for a, b in diagonal))
        raise AssertionError(f"your confused is {sorted(got)}: " + "; ".join(parts)
                             + ".\nHint: read each row (the digit asked for) and list the off-diagonal cells "
                               "above 10 % of the row.")
    overall = float(matrix.diag().sum()) / float(matrix.sum())
    evidence = [
        KnownAnswer(f"labels separated from their images would spread every row, and the diagonal holds "
                    f"{overall:.0%} of all samples: the labels reach their images. Only pairs of similar shapes "
                    f"are confused.", "A"),
        KnownAnswer("z carries the style, not which digit: a larger z does not teach D or G to tell 4 from 9. "
                    "The confusions are between digits of similar shape, a question of how well the label "
                    "steers the generator.", "C"),
        KnownAnswer("the judge labels real MNIST test digits right 99 % of the time (Exercise 3 measures it on "
                    "them); the confusions are the generator's: its 4s look like 9s.", "D"),
    ]
    check_choice(fix, "your fix", lettered("fix", FIXES), "B", evidence)
    passed(f"pairs {sorted(truth)}: digits of similar shape; the labels reach their images ({overall:.0%} on the "
           f"diagonal), so strengthen the conditioning first")
