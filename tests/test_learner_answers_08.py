"""Learner answers to lesson 08's five practice exercises, each with the verdict the exercise text gives it.

Every answer below was written from exercises/08_modern_recipe.ipynb's texts, as a learner who
knows PyTorch would, without looking at how the checks work (nothing under solutions/ or
gancourse/checks/ was read; lesson 08 has no notebook under notebooks/ yet). Correct answers were
verified independently before any check was called (a throwaway script, on inputs of its own):
the EMA update against `training.ema_update_` on two Linear/BatchNorm1d/LeakyReLU/Linear networks
with different weights and running statistics, at decay 0.999, 0.9 and 0.5 (same values, same
Parameter objects, requires_grad False and no grad_fn afterwards, the model unchanged); the R1
penalty against `losses.r1_penalty` in value and in its gradient with respect to D's weights, for
an MLP scoring (B, 1) and a small convolutional D scoring (B,); the translation against
`augment.translation` run on a seeded generator whose shifts were redrawn from the same seed (and
against a plain Python loop over pixels), with its gradient; the augmented loss against
`losses.discriminator_loss(D(augment(x_real)), D(augment(x_fake)))` in value and gradient. Wrong
answers carry a `mistake` string saying what is wrong with them and a `hint`: a distinctive part
of the hint the check should give for that mistake. Where the check's message names the mistake
correctly in other words, the hint is a part of that message; no verdict was ever changed to what
the checks do.

Exercise 5 (a decision) is judged from the table its cell prints
(`checks.lesson08.ablation_table()`; constructed, the same on every machine):

    stage  change                                         seed 0  seed 1  seed 2      mean ± sd  vs above
    A      baseline: non-saturating loss, one lr (2e-4)     24.1    27.3    22.6   24.67 ± 2.40
    B      A + two learning rates (G 4e-4, D 1e-4)          15.2    16.8    14.1   15.37 ± 1.36     -9.30
    C      B + EMA of the generator (decay 0.999)           14.0    16.9    13.6   14.83 ± 1.80     -0.53
    D      C + translation on the real images only          31.5    29.8    33.0   31.43 ± 1.60    +16.60

Helped: B (-9.30, several times the seed-to-seed sd of 1.4 to 2.4). Noise: C (-0.53, well inside
its sd of 1.80, although its best seed, 13.6, is the table's best). D's +16.60 is a clear change
too, for the worse (augmenting the real images only: Exercise 4's mistake); A is the baseline, no
change at all.

Two answers were changed after this independent verification, before any check ran: the
translation by F.affine_grid samples with mode="nearest" (with "bilinear" at integer positions
its float32 grid put the values off by up to 5e-6, and leaked tiny gradients to neighbouring
pixels: not "input pixel (i + ty, j + tx)" exactly). `ema-data-assign` (p_ema.data = ...) is
kept as a right answer: the text's "in place" is glossed as "the same Parameter objects get new
values", which it does.

The single parametrized test calls the exercise's check exactly as the notebook's check cell
does: a "pass" answer must not raise, a "fail" answer must raise AssertionError (any other
exception type, or no exception, fails the test) whose hint (the text after "Hint:", or the whole
message where it has no such line) contains the case's `hint`.

    OMP_NUM_THREADS=1 GANCOURSE_QUICK=1 GANCOURSE_DATA=... pytest -q tests/test_learner_answers_08.py -p no:cacheprovider
"""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gancourse import losses

pytest.register_assert_rewrite("learner_cases")  # its asserts report as a test's own do
from learner_cases import Case, Registry, assert_verdict  # noqa: E402  (the shared harness, tests/learner_cases.py)

# Case.answer: the learner's function, or (helped, noise) for Exercise 5; decision=True
# (Exercise 5): the answer is the pair of the two variables the check cell passes.
registry = Registry()
CASES: list[Case] = registry.cases
case, ok, bad = registry.case, registry.ok, registry.bad


UNCHANGED = "leave the tensors they are given unchanged"  # the rule every check applies (notebook's intro)


# =============================================================================================
# 08 · Exercise 1: ema_update(ema_model, model, decay), in place, under no_grad:
#      p_ema <- decay * p_ema + (1 - decay) * p for parameters; buffers copied from model
# =============================================================================================
C = "check_ema_update"


@ok(C, "ema-params-lerp-buffers-copy", "zip of parameters() with lerp_(p, 1 - decay), zip of buffers() with copy_")
def _(ema_model, model, decay):
    with torch.no_grad():
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p_ema.lerp_(p, 1 - decay)
        for b_ema, b in zip(ema_model.buffers(), model.buffers()):
            b_ema.copy_(b)


@ok(C, "ema-named-mul-add", "named_parameters dicts, mul_(decay).add_(p, alpha=1 - decay); named_buffers")
def _(ema_model, model, decay):
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    with torch.no_grad():
        for name, p_ema in ema_model.named_parameters():
            p_ema.mul_(decay).add_(params[name], alpha=1 - decay)
        for name, b_ema in ema_model.named_buffers():
            b_ema.copy_(buffers[name])


@ok(C, "ema-state-dict-float-check", "state_dict entries (views of the same storage), parameter names from "
    "named_parameters, everything else copied")
def _(ema_model, model, decay):
    param_names = {name for name, _ in model.named_parameters()}
    src = model.state_dict()
    with torch.no_grad():
        for key, value in ema_model.state_dict().items():
            if key in param_names:
                value.mul_(decay).add_((1 - decay) * src[key])
            else:
                value.copy_(src[key])


@ok(C, "ema-foreach", "torch._foreach_mul_ / _foreach_add_ on lists of parameters, buffers copied in a loop")
@torch.no_grad()
def _(ema_model, model, decay):
    ema_params = list(ema_model.parameters())
    params = [p.detach() for p in model.parameters()]
    torch._foreach_mul_(ema_params, decay)
    torch._foreach_add_(ema_params, params, alpha=1 - decay)
    for b_ema, b in zip(ema_model.buffers(), model.buffers()):
        b_ema.copy_(b)


@ok(C, "ema-copy-of-expression", "p_ema.copy_(decay * p_ema + (1 - decay) * p), the decorator torch.no_grad()")
@torch.no_grad()
def _(ema_model, model, decay):
    for p_ema, p in zip(ema_model.parameters(), model.parameters()):
        p_ema.copy_(decay * p_ema + (1 - decay) * p)
    for b_ema, b in zip(ema_model.buffers(), model.buffers()):
        b_ema.copy_(b)


@ok(C, "ema-sub-difference", "p_ema -= (1 - decay) * (p_ema - p), the same update written as a step towards p")
def _(ema_model, model, decay):
    with torch.no_grad():
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p_ema -= (1 - decay) * (p_ema - p)
        for b_ema, b in zip(ema_model.buffers(), model.buffers()):
            b_ema[...] = b


@ok(C, "ema-load-state-dict", "a new averaged state dict (ints and buffers taken from the model), loaded with "
    "load_state_dict (which copies into the existing tensors)")
def _(ema_model, model, decay):
    param_names = {name for name, _ in model.named_parameters()}
    with torch.no_grad():
        e, m = ema_model.state_dict(), model.state_dict()
        new = {k: (decay * e[k] + (1 - decay) * m[k]) if k in param_names else m[k].clone() for k in e}
        ema_model.load_state_dict(new)


@ok(C, "ema-modules-batchnorm", "parameters by lerp, then BatchNorm modules' running_mean, running_var and "
    "num_batches_tracked copied by name")
def _(ema_model, model, decay):
    with torch.no_grad():
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p_ema.lerp_(p.detach(), 1.0 - decay)
        for m_ema, m in zip(ema_model.modules(), model.modules()):
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m_ema.running_mean.copy_(m.running_mean)
                m_ema.running_var.copy_(m.running_var)
                m_ema.num_batches_tracked.copy_(m.num_batches_tracked)


@ok(C, "ema-data-assign", "p_ema.data = ... (the same Parameter object, its data replaced), buffers' .data too")
def _(ema_model, model, decay):
    for p_ema, p in zip(ema_model.parameters(), model.parameters()):
        p_ema.data = decay * p_ema.data + (1 - decay) * p.data
    for b_ema, b in zip(ema_model.buffers(), model.buffers()):
        b_ema.data = b.data.clone()


@bad(C, "ema-weights-swapped", "lerp_(p, decay): decay on the model and 1 - decay on the average, so the average "
     "is mostly the last iterate", hint="1 - decay")
def _(ema_model, model, decay):
    with torch.no_grad():
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p_ema.lerp_(p, decay)
        for b_ema, b in zip(ema_model.buffers(), model.buffers()):
            b_ema.copy_(b)


@bad(C, "ema-no-one-minus-decay", "p_ema * decay + p: forgets the factor (1 - decay) on the model's weights",
     hint="1 - decay")
def _(ema_model, model, decay):
    with torch.no_grad():
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p_ema.mul_(decay).add_(p)
        for b_ema, b in zip(ema_model.buffers(), model.buffers()):
            b_ema.copy_(b)


@bad(C, "ema-averages-float-buffers", "averages the running mean and variance like weights (only the integer "
     "counter copied): the text says buffers are copied", hint="copied")
def _(ema_model, model, decay):
    with torch.no_grad():
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p_ema.lerp_(p, 1 - decay)
        for b_ema, b in zip(ema_model.buffers(), model.buffers()):
            if b.is_floating_point():
                b_ema.lerp_(b, 1 - decay)
            else:
                b_ema.copy_(b)


@bad(C, "ema-state-dict-averages-all", "averages every state_dict entry, buffers included (the integer counter "
     "with a float expression copied back)", hint="copied")
def _(ema_model, model, decay):
    src = model.state_dict()
    with torch.no_grad():
        for key, value in ema_model.state_dict().items():
            value.copy_(decay * value + (1 - decay) * src[key])


@bad(C, "ema-buffers-not-copied", "averages the parameters but leaves the average's buffers (running statistics, "
     "counter) as they were", hint="buffers")
def _(ema_model, model, decay):
    with torch.no_grad():
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p_ema.lerp_(p, 1 - decay)


@bad(C, "ema-updates-model", "moves the model towards the average (arguments' roles swapped): the model changes, "
     "the average does not", hint="ema_model")
def _(ema_model, model, decay):
    with torch.no_grad():
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p.lerp_(p_ema, 1 - decay)
        for b_ema, b in zip(ema_model.buffers(), model.buffers()):
            b.copy_(b_ema)


@bad(C, "ema-returns-copy", "averages into a deepcopy of ema_model and returns it; ema_model itself is unchanged",
     hint="in place")
def _(ema_model, model, decay):
    new = copy.deepcopy(ema_model)
    with torch.no_grad():
        for p_new, p in zip(new.parameters(), model.parameters()):
            p_new.lerp_(p, 1 - decay)
        for b_new, b in zip(new.buffers(), model.buffers()):
            b_new.copy_(b)
    return new


@bad(C, "ema-new-parameter-objects", "replaces each Parameter of ema_model by a new nn.Parameter holding the average "
     "(the text: the same Parameter objects get new values)", hint="same objects, new values")
def _(ema_model, model, decay):
    params = dict(model.named_parameters())
    for module_name, module in ema_model.named_modules():
        for name, p_ema in list(module.named_parameters(recurse=False)):
            full = f"{module_name}.{name}" if module_name else name
            averaged = decay * p_ema.detach() + (1 - decay) * params[full].detach()
            setattr(module, name, nn.Parameter(averaged, requires_grad=False))
    with torch.no_grad():
        for b_ema, b in zip(ema_model.buffers(), model.buffers()):
            b_ema.copy_(b)


@bad(C, "ema-no-no-grad", "in-place arithmetic outside torch.no_grad(): the average's parameters now require grad "
     "and carry the model's graph", hint="torch.no_grad()")
def _(ema_model, model, decay):
    for p_ema, p in zip(ema_model.parameters(), model.parameters()):
        p_ema.mul_(decay).add_((1 - decay) * p)
    for b_ema, b in zip(ema_model.buffers(), model.buffers()):
        b_ema.data.copy_(b)


@bad(C, "ema-decay-hardcoded", "decay 0.999 written in, whatever decay is passed", hint="decay")
def _(ema_model, model, decay):
    with torch.no_grad():
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p_ema.lerp_(p, 1 - 0.999)
        for b_ema, b in zip(ema_model.buffers(), model.buffers()):
            b_ema.copy_(b)


@bad(C, "ema-scales-model-in-place", "scales the model's parameters in place by (1 - decay) and adds them: the "
     "average is right, the model is changed", hint="only read model's")
def _(ema_model, model, decay):
    with torch.no_grad():
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p.mul_(1 - decay)
            p_ema.mul_(decay).add_(p)
        for b_ema, b in zip(ema_model.buffers(), model.buffers()):
            b_ema.copy_(b)


# =============================================================================================
# 08 · Exercise 2: r1_penalty(discriminator, x_real, x_fake, gamma) -> gamma/2 * mean_b ||grad_x D(x_b)||²
#      on the real images, create_graph=True; logits (B,) or (B, 1)
# =============================================================================================
C = "check_r1_penalty"


@ok(C, "r1-detach-requires-grad-sum", "x_real.detach().requires_grad_(), grad of scores.sum(), flatten(1) sum, mean")
def _(discriminator, x_real, x_fake, gamma):
    x = x_real.detach().requires_grad_(True)
    scores = discriminator(x)
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return gamma / 2 * grad.pow(2).flatten(1).sum(1).mean()


@ok(C, "r1-clone-grad-outputs", "x_real.clone().requires_grad_(), grad_outputs=ones_like(scores), sum over "
    "dims (1, 2, 3)")
def _(discriminator, x_real, x_fake, gamma):
    x = x_real.clone().requires_grad_()
    scores = discriminator(x)
    grad = torch.autograd.grad(outputs=scores, inputs=x, grad_outputs=torch.ones_like(scores),
                               create_graph=True, retain_graph=True)[0]
    return 0.5 * gamma * (grad ** 2).sum(dim=[1, 2, 3]).mean()


@ok(C, "r1-norm-squared", "per-image gradient norm (view(B, -1).norm(dim=1)), squared")
def _(discriminator, x_real, x_fake, gamma):
    x = x_real.detach().requires_grad_()
    out = discriminator(x).view(-1)
    g = torch.autograd.grad(out.sum(), [x], create_graph=True)[0]
    return gamma / 2 * g.view(g.size(0), -1).norm(dim=1).pow(2).mean()


@ok(C, "r1-total-sum-over-B", "sum of every squared entry divided by the batch size")
def _(discriminator, x_real, x_fake, gamma):
    B = x_real.shape[0]
    x = x_real.detach().requires_grad_(True)
    g, = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
    return gamma * (g * g).sum() / (2 * B)


@ok(C, "r1-einsum", "squared norms with einsum on the flattened gradient, .mean() and gamma * 0.5 last")
def _(discriminator, x_real, x_fake, gamma):
    x = x_real.detach()
    x.requires_grad = True
    logits = discriminator(x).squeeze(-1) if discriminator(x).dim() == 2 else discriminator(x)
    grad = torch.autograd.grad(logits.sum(), x, create_graph=True)[0].reshape(len(x), -1)
    return torch.einsum("bi,bi->b", grad, grad).mean() * gamma * 0.5


@ok(C, "r1-torch-func", "torch.func.vmap(torch.func.grad(...)) per image, composed with ordinary autograd")
def _(discriminator, x_real, x_fake, gamma):
    def score(image):
        return discriminator(image.unsqueeze(0)).sum()
    grads = torch.func.vmap(torch.func.grad(score))(x_real.detach())
    return gamma / 2 * grads.square().sum(dim=(1, 2, 3)).mean()


@ok(C, "r1-float64-accumulate", "the squared norms summed in float64, returned as float32")
def _(discriminator, x_real, x_fake, gamma):
    x = x_real.detach().requires_grad_(True)
    grad = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)[0]
    sq = grad.double().pow(2).reshape(grad.shape[0], -1).sum(1)
    return (gamma / 2 * sq.mean()).float()


@bad(C, "r1-on-fakes", "the penalty on x_fake instead of the real images", hint="taken on the fake images")
def _(discriminator, x_real, x_fake, gamma):
    x = x_fake.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
    return gamma / 2 * grad.pow(2).flatten(1).sum(1).mean()


@bad(C, "r1-real-and-fake", "penalises the gradient on the real and on the fake images, and adds the two",
     hint="x_fake is not used")
def _(discriminator, x_real, x_fake, gamma):
    total = 0
    for images in (x_real, x_fake):
        x = images.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
        total = total + gamma / 2 * grad.pow(2).flatten(1).sum(1).mean()
    return total


@bad(C, "r1-no-create-graph", "autograd.grad without create_graph=True: the right value, but no gradient with "
     "respect to D's weights", hint="create_graph")
def _(discriminator, x_real, x_fake, gamma):
    x = x_real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x)
    return gamma / 2 * grad.pow(2).flatten(1).sum(1).mean()


@bad(C, "r1-gamma-not-halved", "gamma times the mean squared norm: forgets the 1/2", hint="γ/2")
def _(discriminator, x_real, x_fake, gamma):
    x = x_real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
    return gamma * grad.pow(2).flatten(1).sum(1).mean()


@bad(C, "r1-norm-not-squared", "the gradient's norm, not its square", hint="squared")
def _(discriminator, x_real, x_fake, gamma):
    x = x_real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
    return gamma / 2 * grad.flatten(1).norm(dim=1).mean()


@bad(C, "r1-wgan-gp-target-1", "lesson 05's (||grad|| - 1)² on the real images", hint="target 1")
def _(discriminator, x_real, x_fake, gamma):
    x = x_real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
    return gamma / 2 * (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


@bad(C, "r1-interpolates", "the gradient at random interpolates between real and fake images (WGAN-GP's points)",
     hint="interpolates")
def _(discriminator, x_real, x_fake, gamma):
    eps = torch.rand(x_real.shape[0], 1, 1, 1)
    x = (eps * x_real + (1 - eps) * x_fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
    return gamma / 2 * grad.pow(2).flatten(1).sum(1).mean()


@bad(C, "r1-mean-over-features", "grad.pow(2).mean(): averages over the pixels instead of summing each image's",
     hint="over all its features")
def _(discriminator, x_real, x_fake, gamma):
    x = x_real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
    return gamma / 2 * grad.pow(2).mean()


@bad(C, "r1-sum-over-batch", "sums the squared norms over the batch instead of averaging", hint="mean over the batch")
def _(discriminator, x_real, x_fake, gamma):
    x = x_real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
    return gamma / 2 * grad.pow(2).sum()


@bad(C, "r1-grad-of-mean-score", "the gradient of scores.mean(): each image's gradient divided by B", hint="sum")
def _(discriminator, x_real, x_fake, gamma):
    x = x_real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(x).mean(), x, create_graph=True)
    return gamma / 2 * grad.pow(2).flatten(1).sum(1).mean()


@bad(C, "r1-sigmoid", "the gradient of sigmoid(D(x)), a probability, instead of the logit", hint="logit")
def _(discriminator, x_real, x_fake, gamma):
    x = x_real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(torch.sigmoid(discriminator(x)).sum(), x, create_graph=True)
    return gamma / 2 * grad.pow(2).flatten(1).sum(1).mean()


# =============================================================================================
# 08 · Exercise 3: translate(x (B, C, H, W), ty (B,), tx (B,)): out[b, :, i, j] = x[b, :, i + ty[b], j + tx[b]],
#      0 outside; differentiable with respect to x
# =============================================================================================
C = "check_translation"


@ok(C, "tr-index-arith-mask", "meshgrid of source indices, clamped for indexing, a validity mask for the zeros")
def _(x, ty, tx):
    B, C, H, W = x.shape
    i = torch.arange(H).view(1, H, 1) + ty.view(B, 1, 1)
    j = torch.arange(W).view(1, 1, W) + tx.view(B, 1, 1)
    valid = (i >= 0) & (i < H) & (j >= 0) & (j < W)
    b = torch.arange(B).view(B, 1, 1)
    picked = x[b, :, i.clamp(0, H - 1), j.clamp(0, W - 1)]  # (B, H, W, C)
    return picked.permute(0, 3, 1, 2) * valid.unsqueeze(1).to(x.dtype)


@ok(C, "tr-pad-slice-loop", "F.pad by the largest shift, one slice per image, torch.stack")
def _(x, ty, tx):
    B, C, H, W = x.shape
    p = max(H, W)
    padded = F.pad(x, (p, p, p, p))
    out = []
    for b in range(B):
        dy, dx = int(ty[b]), int(tx[b])
        out.append(padded[b, :, p + dy:p + dy + H, p + dx:p + dx + W])
    return torch.stack(out)


@ok(C, "tr-gather", "torch.gather on the flattened padded image with linear indices")
def _(x, ty, tx):
    B, C, H, W = x.shape
    padded = F.pad(x, (1, 1, 1, 1))  # a zero border; out-of-range sources are sent there
    Hp, Wp = H + 2, W + 2
    i = (torch.arange(H).view(1, H, 1) + ty.view(B, 1, 1) + 1).clamp(0, Hp - 1)
    j = (torch.arange(W).view(1, 1, W) + tx.view(B, 1, 1) + 1).clamp(0, Wp - 1)
    index = (i * Wp + j).view(B, 1, H * W).expand(B, C, H * W)
    return padded.reshape(B, C, Hp * Wp).gather(2, index).view(B, C, H, W)


@ok(C, "tr-grid-sample", "F.grid_sample, mode='nearest', padding_mode='zeros', align_corners=True, a pixel grid "
    "built in float64")
def _(x, ty, tx):
    B, C, H, W = x.shape
    ys = torch.arange(H, dtype=torch.float64).view(1, H, 1) + ty.view(B, 1, 1).double()
    xs = torch.arange(W, dtype=torch.float64).view(1, 1, W) + tx.view(B, 1, 1).double()
    gy = (2 * ys / (H - 1) - 1).expand(B, H, W)
    gx = (2 * xs / (W - 1) - 1).expand(B, H, W)
    grid = torch.stack([gx, gy], dim=-1).to(x.dtype)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=True)


@ok(C, "tr-roll-and-mask", "torch.roll per image by (-ty, -tx), then the wrapped rows and columns zeroed by a mask")
def _(x, ty, tx):
    B, C, H, W = x.shape
    rows = torch.arange(H).view(H, 1)
    cols = torch.arange(W).view(1, W)
    out = []
    for b in range(B):
        dy, dx = int(ty[b]), int(tx[b])
        rolled = torch.roll(x[b], shifts=(-dy, -dx), dims=(1, 2))
        keep = (rows + dy >= 0) & (rows + dy < H) & (cols + dx >= 0) & (cols + dx < W)
        out.append(rolled * keep)
    return torch.stack(out)


@ok(C, "tr-zeros-slice-assign", "a zeros tensor, destination and source slices computed per image and assigned")
def _(x, ty, tx):
    B, C, H, W = x.shape
    out = torch.zeros_like(x)
    for b in range(B):
        dy, dx = ty[b].item(), tx[b].item()
        y0, y1 = max(0, -dy), min(H, H - dy)
        x0, x1 = max(0, -dx), min(W, W - dx)
        out[b, :, y0:y1, x0:x1] = x[b, :, y0 + dy:y1 + dy, x0 + dx:x1 + dx]
    return out


@ok(C, "tr-conv-delta", "conv2d with a one-hot (delta) kernel per image, padding by the largest shift")
def _(x, ty, tx):
    B, C, H, W = x.shape
    s = max(H // 8, W // 8, 1)
    out = []
    for b in range(B):
        kernel = x.new_zeros(C, 1, 2 * s + 1, 2 * s + 1)
        kernel[:, 0, s + int(ty[b]), s + int(tx[b])] = 1.0
        out.append(F.conv2d(x[b:b + 1], kernel, padding=s, groups=C))
    return torch.cat(out)


@ok(C, "tr-affine-grid", "F.affine_grid in float64 with a translation of 2t/(size-1), grid_sample nearest, "
    "align_corners=True")
def _(x, ty, tx):
    B, C, H, W = x.shape
    theta = torch.zeros(B, 2, 3, dtype=torch.float64)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = 1
    theta[:, 0, 2] = 2 * tx.double() / (W - 1)
    theta[:, 1, 2] = 2 * ty.double() / (H - 1)
    grid = F.affine_grid(theta, [B, C, H, W], align_corners=True).to(x.dtype)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=True)


@bad(C, "tr-direction-swapped", "output pixel (i, j) shows input (i - ty, j - tx): the image moves the other way",
     hint="i + ty")
def _(x, ty, tx):
    B, C, H, W = x.shape
    out = torch.zeros_like(x)
    for b in range(B):
        dy, dx = -int(ty[b]), -int(tx[b])
        y0, y1 = max(0, -dy), min(H, H - dy)
        x0, x1 = max(0, -dx), min(W, W - dx)
        out[b, :, y0:y1, x0:x1] = x[b, :, y0 + dy:y1 + dy, x0 + dx:x1 + dx]
    return out


@bad(C, "tr-wrap-around", "torch.roll alone: what leaves one side comes back on the other instead of zeros",
     hint="wrap")
def _(x, ty, tx):
    return torch.stack([torch.roll(x[b], shifts=(-int(ty[b]), -int(tx[b])), dims=(1, 2)) for b in range(len(x))])


@bad(C, "tr-ty-tx-swapped", "ty used for the columns and tx for the rows", hint="tx")
def _(x, ty, tx):
    B, C, H, W = x.shape
    p = max(H, W)
    padded = F.pad(x, (p, p, p, p))
    return torch.stack([padded[b, :, p + int(tx[b]):p + int(tx[b]) + H, p + int(ty[b]):p + int(ty[b]) + W]
                        for b in range(B)])


@bad(C, "tr-fill-minus-1", "fills the border with -1 (black in [-1, 1]) instead of 0 (mid-grey)", hint="mid-grey")
def _(x, ty, tx):
    B, C, H, W = x.shape
    p = max(H, W)
    padded = F.pad(x, (p, p, p, p), value=-1.0)
    return torch.stack([padded[b, :, p + int(ty[b]):p + int(ty[b]) + H, p + int(tx[b]):p + int(tx[b]) + W]
                        for b in range(B)])


@bad(C, "tr-replicate-border", "clamps the source indices without a mask: the edge pixels repeat instead of zeros",
     hint="border")
def _(x, ty, tx):
    B, C, H, W = x.shape
    i = (torch.arange(H).view(1, H, 1) + ty.view(B, 1, 1)).clamp(0, H - 1)
    j = (torch.arange(W).view(1, 1, W) + tx.view(B, 1, 1)).clamp(0, W - 1)
    return x[torch.arange(B).view(B, 1, 1), :, i, j].permute(0, 3, 1, 2)


@bad(C, "tr-detached", "builds the result from x.detach() (numpy-style copying): right values, no gradient to x",
     hint="differentiable")
def _(x, ty, tx):
    B, C, H, W = x.shape
    src = x.detach()
    out = torch.zeros_like(src)
    for b in range(B):
        dy, dx = int(ty[b]), int(tx[b])
        y0, y1 = max(0, -dy), min(H, H - dy)
        x0, x1 = max(0, -dx), min(W, W - dx)
        out[b, :, y0:y1, x0:x1] = src[b, :, y0 + dy:y1 + dy, x0 + dx:x1 + dx]
    return out


@bad(C, "tr-off-by-one", "pads by 1 for the zeros but forgets to add the 1 back to the indices: shifted one pixel "
     "up and left too far", hint="one pixel")
def _(x, ty, tx):
    B, C, H, W = x.shape
    padded = F.pad(x, [1, 1, 1, 1])
    i = (torch.arange(H).view(1, H, 1) + ty.view(B, 1, 1)).clamp(0, H + 1)
    j = (torch.arange(W).view(1, 1, W) + tx.view(B, 1, 1)).clamp(0, W + 1)
    return padded[torch.arange(B).view(B, 1, 1), :, i, j].permute(0, 3, 1, 2)


@bad(C, "tr-one-shift-for-all", "uses the first image's shift for the whole batch", hint="the first image's shift")
def _(x, ty, tx):
    B, C, H, W = x.shape
    p = max(H, W)
    padded = F.pad(x, (p, p, p, p))
    dy, dx = int(ty[0]), int(tx[0])
    return padded[:, :, p + dy:p + dy + H, p + dx:p + dx + W]


@bad(C, "tr-in-place", "shifts x in place (x.copy_ of the shifted images) and returns x", hint=UNCHANGED)
def _(x, ty, tx):
    B, C, H, W = x.shape
    p = max(H, W)
    padded = F.pad(x, (p, p, p, p))
    shifted = torch.stack([padded[b, :, p + int(ty[b]):p + int(ty[b]) + H, p + int(tx[b]):p + int(tx[b]) + W]
                           for b in range(B)])
    with torch.no_grad():
        x.copy_(shifted)
    return x


@bad(C, "tr-not-cropped", "returns the padded, shifted canvas (B, C, H + 2p, W + 2p), not x's shape", hint="crop back")
def _(x, ty, tx):
    B, C, H, W = x.shape
    p = max(H // 8, W // 8)
    out = torch.zeros(B, C, H + 2 * p, W + 2 * p, dtype=x.dtype)
    for b in range(B):
        dy, dx = int(ty[b]), int(tx[b])
        out[b, :, p - dy:p - dy + H, p - dx:p - dx + W] = x[b]
    return out


# =============================================================================================
# 08 · Exercise 4: discriminator_loss_augmented(discriminator, x_real, x_fake, augment)
#      -> losses.discriminator_loss(D(augment(x_real)), D(augment(x_fake)))
# =============================================================================================
C = "check_augment_both"


@ok(C, "aug-direct", "losses.discriminator_loss(D(augment(x_real)), D(augment(x_fake)))")
def _(discriminator, x_real, x_fake, augment):
    return losses.discriminator_loss(discriminator(augment(x_real)), discriminator(augment(x_fake)))


@ok(C, "aug-fake-detached", "x_fake.detach() before augmenting (D's update: no gradient to G needed)")
def _(discriminator, x_real, x_fake, augment):
    real_logits = discriminator(augment(x_real))
    fake_logits = discriminator(augment(x_fake.detach()))
    return losses.discriminator_loss(real_logits, fake_logits)


@ok(C, "aug-bce-by-hand", "F.binary_cross_entropy_with_logits with ones_like / zeros_like, added")
def _(discriminator, x_real, x_fake, augment):
    lr = discriminator(augment(x_real))
    lf = discriminator(augment(x_fake))
    return (F.binary_cross_entropy_with_logits(lr, torch.ones_like(lr))
            + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf)))


@ok(C, "aug-softplus", "softplus(-real).mean() + softplus(fake).mean() on flattened logits")
def _(discriminator, x_real, x_fake, augment):
    lr = discriminator(augment(x_real)).reshape(-1)
    lf = discriminator(augment(x_fake)).reshape(-1)
    return F.softplus(-lr).mean() + F.softplus(lf).mean()


@ok(C, "aug-logsigmoid", "-(logsigmoid(real) + logsigmoid(-fake)) as two batch means")
def _(discriminator, x_real, x_fake, augment):
    real_aug, fake_aug = augment(x_real), augment(x_fake)
    return -(F.logsigmoid(discriminator(real_aug)).mean() + F.logsigmoid(-discriminator(fake_aug)).mean())


@ok(C, "aug-bce-module-squeezed", "nn.BCEWithLogitsLoss on logits squeezed to (B,)")
def _(discriminator, x_real, x_fake, augment):
    bce = nn.BCEWithLogitsLoss()
    lr = discriminator(augment(x_real)).view(-1)
    lf = discriminator(augment(x_fake)).view(-1)
    return bce(lr, torch.ones(lr.shape[0])) + bce(lf, torch.zeros(lf.shape[0]))


@ok(C, "aug-separate-calls-cat-d", "each batch augmented on its own, one D call on the concatenation, split back")
def _(discriminator, x_real, x_fake, augment):
    n = x_real.shape[0]
    logits = discriminator(torch.cat([augment(x_real), augment(x_fake)]))
    return losses.discriminator_loss(logits[:n], logits[n:])


@bad(C, "aug-real-only", "augments the real images only (the table's stage D)", hint="both")
def _(discriminator, x_real, x_fake, augment):
    return losses.discriminator_loss(discriminator(augment(x_real)), discriminator(x_fake))


@bad(C, "aug-fake-only", "augments the generated images only", hint="both")
def _(discriminator, x_real, x_fake, augment):
    return losses.discriminator_loss(discriminator(x_real), discriminator(augment(x_fake)))


@bad(C, "aug-none", "forgets the augmentation altogether", hint="augment")
def _(discriminator, x_real, x_fake, augment):
    return losses.discriminator_loss(discriminator(x_real), discriminator(x_fake))


@bad(C, "aug-labels-swapped", "the arguments swapped: fakes labelled real and reals labelled fake",
     hint="labels are flipped")
def _(discriminator, x_real, x_fake, augment):
    return losses.discriminator_loss(discriminator(augment(x_fake)), discriminator(augment(x_real)))


@bad(C, "aug-average-of-terms", "the mean of the two BCE terms instead of their sum", hint="sum")
def _(discriminator, x_real, x_fake, augment):
    lr, lf = discriminator(augment(x_real)), discriminator(augment(x_fake))
    return (F.binary_cross_entropy_with_logits(lr, torch.ones_like(lr))
            + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))) / 2


@bad(C, "aug-generator-loss", "losses.generator_loss on the augmented fakes: G's loss, not D's",
     hint="discriminator_loss")
def _(discriminator, x_real, x_fake, augment):
    return losses.generator_loss(discriminator(augment(x_fake)))


@bad(C, "aug-no-grad", "computes the logits under torch.no_grad(): the loss has no gradient for D's weights",
     hint="no_grad")
def _(discriminator, x_real, x_fake, augment):
    with torch.no_grad():
        lr, lf = discriminator(augment(x_real)), discriminator(augment(x_fake))
    return losses.discriminator_loss(lr, lf)


@bad(C, "aug-real-twice", "augments the real images twice (augment(augment(x_real))), the fakes once",
     hint="D(augment(x_real)), D(augment(x_fake))")
def _(discriminator, x_real, x_fake, augment):
    return losses.discriminator_loss(discriminator(augment(augment(x_real))), discriminator(augment(x_fake)))


@bad(C, "aug-per-image", "calls augment on each image (C, H, W) on its own: the text says it takes image batches",
     hint="batch")
def _(discriminator, x_real, x_fake, augment):
    real_aug = torch.stack([augment(image) for image in x_real])
    fake_aug = torch.stack([augment(image) for image in x_fake])
    return losses.discriminator_loss(discriminator(real_aug), discriminator(fake_aug))


# =============================================================================================
# 08 · Exercise 5: helped, noise ('A'..'D'); see the table above
# =============================================================================================
C = "check_ablation_judgment"
ABCD = "one of 'A', 'B', 'C', 'D'"  # the check's wording (the prompt has "'A', 'B', 'C' or 'D'")


def decide(id, helped, noise, style="", mistake="", hint=""):
    case(C, (helped, noise), "fail" if mistake else "pass", id, mistake=mistake, style=style, hint=hint,
         decision=True)


decide("judge-BC", "B", "C", style="the capital letters")
decide("judge-bc-lower", "b", "c", style="lower case")
decide("judge-BC-spaces", " B ", "c\n", style="stray spaces, a newline, mixed case")
decide("judge-BC-tab", "B\t", "  C", style="a tab, leading spaces")

decide("judge-helped-C-best-seed", "C", "C",
       mistake="C for helped because its best seed (13.6) is the table's best; its mean moved -0.53, inside "
       "its sd 1.80", hint="0.53")
decide("judge-swapped", "C", "B",
       mistake="helped and noise swapped: B's -9.30 is far beyond the spread, C's -0.53 within it", hint="0.53")
decide("judge-helped-D", "D", "C",
       mistake="D for helped: its FD went up by 16.60 (lower is better): it hurt", hint="16.60")
decide("judge-noise-D", "B", "D",
       mistake="D for noise: +16.60 is a clear change (for the worse), far beyond the spread", hint="16.60")
decide("judge-noise-A", "B", "A",
       mistake="A for noise: A is the baseline, it adds no change", hint="baseline")
decide("judge-helped-A", "A", "C",
       mistake="A for helped: the baseline is no change", hint="baseline")
decide("judge-same-letter", "B", "B", mistake="B for both", hint="9.30")
decide("judge-none", None, None, mistake="left the placeholders None: no decision", hint=ABCD)
decide("judge-E", "B", "E", mistake="there is no stage E", hint=ABCD)
decide("judge-int", 1, 2, mistake="positions (0-based) instead of letters, not strings", hint=ABCD)
decide("judge-hedge", "B or C", "C", mistake="hedges between two stages for helped", hint=ABCD)


# =============================================================================================
# The test
# =============================================================================================

@pytest.mark.parametrize("case", CASES, ids=registry.ids())
def test_learner_answer_08(case: Case):
    assert_verdict(case)
