"""Every check accepts a correct answer written independently of gancourse.losses, and rejects
the mistakes learners and tutorials make, with a hint that names the mistake."""
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gancourse import checks


def reject(check, fn, *hint_words, **kwargs):
    with pytest.raises(AssertionError) as info:
        check(fn, **kwargs)
    message = str(info.value)
    for word in hint_words:
        assert word.lower() in message.lower(), f"hint should mention {word!r}: {message}"
    return message


# --- optimal discriminator --------------------------------------------------------------

def test_optimal_discriminator_accepts_numpy_style_answer(capsys):
    checks.check_optimal_discriminator(lambda p_data, p_g: p_data.numpy() / (p_data.numpy() + p_g.numpy()))
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (lambda pd, pg: pg / (pd + pg), ["fake"]),
    (lambda pd, pg: pd / pg, ["ratio"]),
    (lambda pd, pg: torch.full_like(pd, 0.5), ["1/2"]),
    (lambda pd, pg: pd / (pd + pg)[:5], ["shape"]),
])
def test_optimal_discriminator_rejects(wrong, words):
    reject(checks.check_optimal_discriminator, wrong, *words)


# --- discriminator loss -------------------------------------------------------------------

def d_loss_softplus(real, fake):
    # -log sigmoid(t) = softplus(-t); -log(1 - sigmoid(t)) = softplus(t)
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def d_loss_bce(real, fake):
    bce = nn.BCEWithLogitsLoss()
    return bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))


@pytest.mark.parametrize("correct", [d_loss_softplus, d_loss_bce])
def test_discriminator_loss_accepts(correct, capsys):
    checks.check_discriminator_loss(correct)
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (lambda r, f: d_loss_bce(f, r), ["flipped"]),                                  # labels flipped
    (lambda r, f: r.mean() - f.mean(), ["real - fake"]),                            # seed tutorial's D loss
    (lambda r, f: -d_loss_bce(r, f), ["sign"]),
    (lambda r, f: -(torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean()),
     ["stable"]),                                                                    # log(sigmoid): -inf at ±100
    (lambda r, f: d_loss_bce(torch.sigmoid(r), torch.sigmoid(f)), ["probabilities passed as logits"]),
    (lambda r, f: d_loss_bce(r, f) / 2, ["sum"]),
    (lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(), ["sums over the batch"]),
    (lambda r, f: F.softplus(-r).mean(), ["only the real term"]),
    (lambda r, f: torch.tensor(d_loss_bce(r, f).item()), ["no gradient"]),
    (lambda r, f: d_loss_bce(r, f).item(), ["not a tensor"]),
    (lambda r, f: F.binary_cross_entropy(r, torch.ones_like(r)), ["raised"]),       # crashes: not probabilities
    (lambda r, f: F.softplus(-r) + F.softplus(f[:6]), ["shape"]),                   # no mean
])
def test_discriminator_loss_rejects(wrong, words):
    reject(checks.check_discriminator_loss, wrong, *words)


# --- generator losses ---------------------------------------------------------------------

def test_generator_loss_accepts(capsys):
    checks.check_generator_loss(lambda f: F.softplus(-f).mean())
    checks.check_generator_loss(lambda f: -F.logsigmoid(f).mean())
    checks.check_generator_loss(lambda f: -F.softplus(f).mean(), saturating=True)
    checks.check_generator_loss(lambda f: F.logsigmoid(-f).mean(), saturating=True)
    assert capsys.readouterr().out.count("✔") == 4


@pytest.mark.parametrize("wrong, words", [
    (lambda f: F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)), ["label 0"]),  # seed mistake
    (lambda f: torch.sigmoid(f).mean(), ["E[D(G(z))]"]),                                    # seed mistake
    (lambda f: F.logsigmoid(-f).mean(), ["saturating"]),
    (lambda f: F.logsigmoid(f).mean(), ["sign"]),
    (lambda f: -torch.log(torch.sigmoid(f)).mean(), ["stable"]),
    (lambda f: F.softplus(-f).sum(), ["sums over the batch"]),
    (lambda f: -torch.sigmoid(f).mean(), ["log is missing"]),
])
def test_generator_loss_rejects(wrong, words):
    reject(checks.check_generator_loss, wrong, *words)


@pytest.mark.parametrize("wrong, words", [
    (lambda f: F.softplus(-f).mean(), ["non-saturating"]),
    (lambda f: F.softplus(f).mean(), ["sign"]),
    (lambda f: torch.log(1 - torch.sigmoid(f)).mean(), ["stable"]),
])
def test_saturating_generator_loss_rejects(wrong, words):
    reject(checks.check_generator_loss, wrong, *words, saturating=True)


# --- WGAN losses --------------------------------------------------------------------------

def test_wgan_losses_accept(capsys):
    checks.check_critic_loss(lambda real, fake: -(real.mean() - fake.mean()))
    checks.check_wgan_generator_loss(lambda fake: torch.mean(-fake))
    assert capsys.readouterr().out.count("✔") == 2


@pytest.mark.parametrize("wrong, words", [
    (lambda r, f: r.mean() - f.mean(), ["sign"]),
    (d_loss_bce, ["cross-entropy"]),
    (lambda r, f: f.sum() - r.sum(), ["sums"]),
    (lambda r, f: torch.sigmoid(f).mean() - torch.sigmoid(r).mean(), ["sigmoid"]),
])
def test_critic_loss_rejects(wrong, words):
    reject(checks.check_critic_loss, wrong, *words)


@pytest.mark.parametrize("wrong, words", [
    (lambda f: f.mean(), ["sign"]),
    (lambda f: F.softplus(-f).mean(), ["non-saturating"]),
    (lambda f: -f.sum(), ["sums"]),
])
def test_wgan_generator_loss_rejects(wrong, words):
    reject(checks.check_wgan_generator_loss, wrong, *words)


# --- gradient penalty ---------------------------------------------------------------------

def gp_reference_style(critic, real, fake):
    """Written the way Gulrajani et al.'s Algorithm 1 reads, independently of gancourse."""
    eps = torch.rand(real.size(0), *([1] * (real.dim() - 1)))
    x_hat = eps * real + (1 - eps) * fake
    x_hat.requires_grad_(True)
    scores = critic(x_hat)
    grads = torch.autograd.grad(scores, x_hat, grad_outputs=torch.ones_like(scores), create_graph=True)[0]
    return ((grads.reshape(len(grads), -1).norm(dim=1) - 1) ** 2).mean()


def gp_with(*, eps_shape="sample", points="interp", create_graph=True, square=True, one_sided=False,
            reduce="mean", lam=1.0, sq_norm=False, grad_of="sum", norm_dim=1):
    def fn(critic, real, fake):
        if eps_shape == "sample":
            eps = torch.rand(real.size(0), *([1] * (real.dim() - 1)))
        else:
            eps = torch.rand_like(real)
        x_hat = {"interp": eps * real + (1 - eps) * fake, "real": real, "fake": fake}[points]
        x_hat = x_hat.detach().requires_grad_(True)
        scores = critic(x_hat)
        out = scores.sum() if grad_of == "sum" else scores.mean()
        (grads,) = torch.autograd.grad(out, x_hat, create_graph=create_graph)
        flat = grads.flatten(1)
        norm = flat.pow(2).sum(1) if sq_norm else (flat.norm(dim=1) if norm_dim == 1 else grads.norm(dim=1))
        gap = norm - 1
        if one_sided:
            gap = gap.clamp_min(0)
        per = gap ** 2 if square else gap.abs()
        return lam * (per.mean() if reduce == "mean" else per.sum())
    return fn


def test_gradient_penalty_accepts(capsys):
    checks.check_gradient_penalty(gp_reference_style)
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (gp_with(create_graph=False), ["create_graph"]),
    (gp_with(points="real"), ["interpolates"]),
    (gp_with(points="fake"), ["interpolates"]),
    (gp_with(eps_shape="element"), ["per sample"]),
    (gp_with(square=False), ["square"]),
    (gp_with(one_sided=True), ["one-sided"]),
    (gp_with(reduce="sum"), ["summed"]),
    (gp_with(lam=10.0), ["λ"]),
    (gp_with(sq_norm=True), ["squared norm"]),
    (gp_with(grad_of="mean"), ["mean"]),
    (gp_with(norm_dim=0), ["flatten"]),                 # norm over channels only, not all features
])
def test_gradient_penalty_rejects(wrong, words):
    reject(checks.check_gradient_penalty, wrong, *words)


def test_gradient_penalty_rejects_missing_requires_grad():
    def forgot(critic, real, fake):
        eps = torch.rand(real.size(0), 1, 1, 1)
        x_hat = eps * real + (1 - eps) * fake
        grads = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)[0]
        return ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()
    reject(checks.check_gradient_penalty, forgot, "requires_grad")


# --- weight clipping ----------------------------------------------------------------------

def clip_data(module, c):
    for p in module.parameters():
        p.data.clamp_(-c, c)


def clip_no_grad(module, c):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.clamp(-c, c))


@pytest.mark.parametrize("correct", [clip_data, clip_no_grad])
def test_clip_weights_accepts(correct, capsys):
    checks.check_clip_weights(correct)
    assert "✔" in capsys.readouterr().out


def clip_gradients(module, c):
    nn.utils.clip_grad_value_(module.parameters(), c)


def clip_one_side(module, c):
    for p in module.parameters():
        p.data.clamp_(max=c)


def clip_weights_only(module, c):
    for name, p in module.named_parameters():
        if name.endswith("weight"):
            p.data.clamp_(-c, c)


def clip_rebinds(module, c):
    for p in module.parameters():
        p = p.clamp(-c, c)  # noqa: F841 — the classic no-op


def clip_hard_coded(module, c):
    for p in module.parameters():
        p.data.clamp_(-0.01, 0.01)


def clip_in_place_with_grad(module, c):
    for p in module.parameters():
        p.clamp_(-c, c)  # in place on a leaf that requires grad: RuntimeError


def clip_replaces(module, c):
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            layer.weight = nn.Parameter(layer.weight.clamp(-c, c))
            layer.bias = nn.Parameter(layer.bias.clamp(-c, c))


def clip_rescale(module, c):
    for p in module.parameters():
        p.data.mul_(c / p.data.abs().max())


@pytest.mark.parametrize("wrong, words", [
    (clip_gradients, ["gradients"]),
    (clip_one_side, ["below -c"]),
    (clip_weights_only, ["every parameter"]),
    (clip_rebinds, ["unchanged"]),
    (clip_hard_coded, ["fixed number"]),
    (clip_in_place_with_grad, ["no_grad"]),
    (clip_replaces, ["in place"]),
    (clip_rescale, ["rescale"]),
])
def test_clip_weights_rejects(wrong, words):
    reject(checks.check_clip_weights, wrong, *words)


# --- one training step --------------------------------------------------------------------

def step_correct(generator, discriminator, opt_g, opt_d, x_real, z):
    bce = F.binary_cross_entropy_with_logits
    x_fake = generator(z)
    logits_real, logits_fake = discriminator(x_real), discriminator(x_fake.detach())
    loss_d = bce(logits_real, torch.ones_like(logits_real)) + bce(logits_fake, torch.zeros_like(logits_fake))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    logits = discriminator(x_fake)
    loss_g = bce(logits, torch.ones_like(logits))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


def step_with(*, detach=True, g_label=1.0, zero_d=True, zero_g=True, order="dg", g_step_moves="g",
              returns="dg", stale=False, g_on_d_loss=False):
    bce = F.binary_cross_entropy_with_logits

    def d_update(generator, discriminator, opt_d, x_real, x_fake):
        fake_in = x_fake.detach() if detach else x_fake
        loss_d = bce(discriminator(x_real), torch.ones(len(x_real))) + bce(discriminator(fake_in), torch.zeros(len(x_real)))
        if zero_d:
            opt_d.zero_grad()
        loss_d.backward(retain_graph=not detach)
        opt_d.step()
        return loss_d

    def fn(generator, discriminator, opt_g, opt_d, x_real, z):
        x_fake = generator(z)
        old_logits = discriminator(x_fake)
        if order == "gd":
            loss_g = bce(discriminator(x_fake), torch.ones(len(z)))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            loss_d = d_update(generator, discriminator, opt_d, x_real, generator(z))
        else:
            loss_d = d_update(generator, discriminator, opt_d, x_real, x_fake)
            logits = old_logits if stale else discriminator(x_fake)
            if g_on_d_loss:
                loss_g = bce(discriminator(x_real), torch.ones(len(z))) + bce(logits, torch.zeros(len(z)))
            else:
                loss_g = bce(logits, torch.full((len(z),), g_label))
            if zero_g:
                opt_g.zero_grad()
            loss_g.backward()
            (opt_g if g_step_moves == "g" else opt_d).step()
        return (loss_d, loss_g) if returns == "dg" else (loss_g, loss_d)
    return fn


def test_train_step_accepts(capsys):
    checks.check_train_step(step_correct)
    checks.check_train_step(step_with())
    assert capsys.readouterr().out.count("✔") == 2


@pytest.mark.parametrize("wrong, words", [
    (step_with(g_label=0.0), ["label 0"]),                       # the seed tutorial's mistake
    (step_with(g_on_d_loss=True), ["label 0"]),                  # G trained on D's loss
    (step_with(detach=False, zero_g=False), ["detach"]),
    (step_with(detach=False), ["detach"]),                       # harmless value, still wasteful & flagged
    (step_with(zero_d=False), ["accumulate"]),
    (step_with(zero_g=False), ["accumulate"]),
    (step_with(order="gd"), ["before the discriminator"]),
    (step_with(g_step_moves="d"), ["opt_d.step()"]),
    (step_with(returns="gd"), ["(loss_d, loss_g)"]),
    (step_with(stale=True), ["again after"]),                    # crashes: D changed in place
])
def test_train_step_rejects(wrong, words):
    reject(checks.check_train_step, wrong, *words)


def test_train_step_reports_unfinished_exercise_by_name():
    def stub(*args):
        raise NotImplementedError("Exercise 'train_step' is not done yet")
    message = reject(checks.check_train_step, stub, "train_step", "not done yet")
    assert "Traceback" not in message


# --- data ---------------------------------------------------------------------------------

def test_data_checks_accept(capsys):
    checks.check_scale_to_tanh_range(lambda x: x.float() / 255 * 2 - 1)
    checks.check_to_unit_range(lambda x: torch.clamp((x + 1) / 2, 0, 1))
    assert capsys.readouterr().out.count("✔") == 2


@pytest.mark.parametrize("wrong, words", [
    (lambda x: x.float() / 255, ["[0, 1]"]),
    (lambda x: (x * 2 - 255).float() / 255, ["uint8"]),
    (lambda x: (x.float() - 128) / 128, ["0.992"]),
    (lambda x: x.double() / 127.5 - 1, ["float32"]),
    (lambda x: (x.float() - 0.5) / 0.5, ["Normalize"]),
])
def test_scale_to_tanh_range_rejects(wrong, words):
    reject(checks.check_scale_to_tanh_range, wrong, *words)


def test_to_unit_range_rejects():
    reject(checks.check_to_unit_range, lambda x: (x + 1) / 2, "clamp")
    reject(checks.check_to_unit_range, lambda x: x.clamp(0, 1), "rescaling")


# --- value function and JSD (lesson 01) ----------------------------------------------------

def test_value_estimate_and_jsd_accept(capsys):
    checks.check_value_estimate(lambda r, f: F.logsigmoid(r).mean() + F.logsigmoid(-f).mean())

    def jsd(p, q):
        m = (p + q) / 2
        kl = lambda a: torch.where(a > 0, a * torch.log(a / m), torch.zeros_like(a)).sum()
        return 0.5 * kl(p) + 0.5 * kl(q)
    checks.check_jensen_shannon(jsd)
    assert capsys.readouterr().out.count("✔") == 2


@pytest.mark.parametrize("wrong, words", [
    (lambda r, f: -(F.logsigmoid(r).mean() + F.logsigmoid(-f).mean()), ["loss"]),
    (lambda r, f: torch.sigmoid(r).mean() + (1 - torch.sigmoid(f)).mean(), ["log is missing"]),
    (lambda r, f: torch.log(torch.sigmoid(r)).mean() + torch.log(1 - torch.sigmoid(f)).mean(), ["stable"]),
    (lambda r, f: F.logsigmoid(r).sum() + F.logsigmoid(-f).sum(), ["mean"]),
    (lambda r, f: F.logsigmoid(r).mean() + F.logsigmoid(f).mean(), ["log(1 - D(G(z)))"]),
])
def test_value_estimate_rejects(wrong, words):
    reject(checks.check_value_estimate, wrong, *words)


def kl(a, b):
    return (a * torch.log(a / b)).nansum()


@pytest.mark.parametrize("wrong, words", [
    (lambda p, q: kl(p, q), ["KL(p || q)"]),
    (lambda p, q: kl(p, (p + q) / 2), ["only KL(p || m)"]),
    (lambda p, q: kl(p, (p + q) / 2) + kl(q, (p + q) / 2), ["½"]),
    (lambda p, q: (0.5 * kl(p, (p + q) / 2) + 0.5 * kl(q, (p + q) / 2)) / torch.log(torch.tensor(2.0)), ["bits"]),
    (lambda p, q: 0.5 * (p * torch.log(p / ((p + q) / 2))).sum() + 0.5 * (q * torch.log(q / ((p + q) / 2))).sum(),
     ["nan"]),
])
def test_jensen_shannon_rejects(wrong, words):
    reject(checks.check_jensen_shannon, wrong, *words)


# --- networks, sampling and the judge (lesson 02) ------------------------------------------

def spec_generator(last=nn.Tanh, hidden=(256, 512), bias=True):
    layers, width = [], 64
    for size in hidden:
        layers += [nn.Linear(width, size, bias=bias), nn.LeakyReLU(0.2)]
        width = size
    layers += [nn.Linear(width, 784), last(), nn.Unflatten(1, (1, 28, 28))]
    return nn.Sequential(*layers)


def spec_discriminator(sigmoid=False, hidden=(512, 256)):
    layers, width = [nn.Flatten()], 784
    for size in hidden:
        layers += [nn.Linear(width, size), nn.LeakyReLU(0.2)]
        width = size
    layers += [nn.Linear(width, 1)] + ([nn.Sigmoid()] if sigmoid else [])
    return nn.Sequential(*layers)


def test_spec_checks_accept(capsys):
    checks.check_generator_spec(spec_generator())
    checks.check_discriminator_spec(spec_discriminator())
    assert capsys.readouterr().out.count("✔") == 2


@pytest.mark.parametrize("wrong, words", [
    (spec_generator(last=nn.Sigmoid), ["tanh"]),
    (spec_generator(last=nn.Identity), ["tanh"]),
    (spec_generator(hidden=(256, 256)), ["parameters"]),
    (spec_generator(bias=False), ["bias"]),
    (nn.Sequential(nn.Linear(64, 784), nn.Tanh()), ["shape"]),
    (spec_generator, ["instance"]),
])
def test_generator_spec_rejects(wrong, words):
    reject(checks.check_generator_spec, wrong, *words)


@pytest.mark.parametrize("wrong, words", [
    (spec_discriminator(sigmoid=True), ["sigmoid"]),
    (spec_discriminator(hidden=(256, 256)), ["parameters"]),
    (nn.Sequential(nn.Flatten(), nn.Linear(784, 2)), ["one score per image"]),
])
def test_discriminator_spec_rejects(wrong, words):
    reject(checks.check_discriminator_spec, wrong, *words)


def sample_correct(generator, n):
    generator.eval()
    with torch.no_grad():
        images = generator(torch.randn(n, generator.latent_dim))
    generator.train()
    return images


FIXED_Z = torch.randn(10, 8)


def sample_train_mode(generator, n):
    with torch.no_grad():
        return generator(torch.randn(n, generator.latent_dim))


def sample_with_grad(generator, n):
    generator.eval()
    images = generator(torch.randn(n, generator.latent_dim))
    generator.train()
    return images


def sample_stays_eval(generator, n):
    generator.eval()
    with torch.no_grad():
        return generator(torch.randn(n, generator.latent_dim))


def sample_fixed(generator, n):
    generator.eval()
    with torch.no_grad():
        images = generator(FIXED_Z[:n])
    generator.train()
    return images


def sample_one_z(generator, n):
    generator.eval()
    with torch.no_grad():
        images = generator(torch.randn(1, generator.latent_dim).repeat(n, 1))
    generator.train()
    return images


def test_sample_images_accepts(capsys):
    checks.check_sample_images(sample_correct)
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (sample_train_mode, ["eval"]),
    (sample_with_grad, ["no_grad"]),
    (sample_stays_eval, ["generator.train()"]),
    (sample_fixed, ["fresh noise"]),
    (sample_one_z, ["same image twice"]),
    (lambda g, n: g(torch.randn(n, g.latent_dim)).flatten(1).detach(), ["(10, 1, 28, 28)"]),
])
def test_sample_images_rejects(wrong, words):
    reject(checks.check_sample_images, wrong, *words)


def test_digit_histogram_accepts_and_rejects(capsys):
    def correct(judge, images):
        with torch.no_grad():
            predicted = judge(images).argmax(dim=1)
        return torch.bincount(predicted, minlength=10).float() / len(images)
    checks.check_digit_histogram(correct)
    assert "✔" in capsys.readouterr().out

    def counts(judge, images):
        with torch.no_grad():
            return torch.bincount(judge(images).argmax(1), minlength=10)

    def mean_probs(judge, images):
        with torch.no_grad():
            return torch.softmax(judge(images), 1).mean(0)

    def no_minlength(judge, images):
        with torch.no_grad():
            predicted = judge(images).argmax(1)
        return torch.bincount(predicted).float() / len(images)
    reject(checks.check_digit_histogram, counts, "counts")
    reject(checks.check_digit_histogram, mean_probs, "argmax")
    reject(checks.check_digit_histogram, no_minlength, "minlength")


# --- DCGAN (lesson 03) ------------------------------------------------------------------------

def test_conv_transpose_output_size_check():
    checks.check_conv_transpose_output_size(lambda n, k, s, p: (n - 1) * s - 2 * p + k)
    reject(checks.check_conv_transpose_output_size, lambda n, k, s, p: (n + 2 * p - k) // s + 1, "ordinary convolution")
    reject(checks.check_conv_transpose_output_size, lambda n, k, s, p: (n - 1) * s - p + k, "both sides")
    reject(checks.check_conv_transpose_output_size, lambda n, k, s, p: n * s, "overhang")


def init_with(weight_std=0.02, bn_mean=1.0, bias=0.0, types=(nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
    def fn(module):
        for layer in module.modules():
            if isinstance(layer, types):
                nn.init.normal_(layer.weight, 0.0, weight_std)
                if layer.bias is not None:
                    nn.init.constant_(layer.bias, bias)
            elif isinstance(layer, nn.BatchNorm2d):
                nn.init.normal_(layer.weight, bn_mean, 0.02)
                nn.init.zeros_(layer.bias)
    return fn


def test_dcgan_init_check(capsys):
    checks.check_dcgan_init(init_with())
    from gancourse.models import init_dcgan_weights_
    checks.check_dcgan_init(init_dcgan_weights_)
    assert capsys.readouterr().out.count("✔") == 2
    reject(checks.check_dcgan_init, init_with(bn_mean=0.0), "BatchNorm")
    reject(checks.check_dcgan_init, init_with(weight_std=0.2), "0.02")
    reject(checks.check_dcgan_init, init_with(bias=0.1), "biases")
    reject(checks.check_dcgan_init, init_with(types=(nn.Conv2d, nn.Linear)), "ConvTranspose2d")
    reject(checks.check_dcgan_init, lambda module: None, "every layer type")


def test_interpolate_check(capsys):
    checks.check_interpolate(lambda z0, z1, t: (1 - t) * z0 + t * z1)
    from gancourse.viz import interpolate
    checks.check_interpolate(lambda z0, z1, t: interpolate(z0, z1, t, "slerp"))
    out = capsys.readouterr().out
    assert "linear" in out and "slerp" in out
    reject(checks.check_interpolate, lambda z0, z1, t: t * z0 + (1 - t) * z1, "from z1 to z0")
    reject(checks.check_interpolate, lambda z0, z1, t: torch.nn.functional.normalize((1 - t) * z0 + t * z1, dim=1),
           "z0 at t = 0")
    reject(checks.check_interpolate, lambda z0, z1, t: (1 - t ** 2) * z0 + t ** 2 * z1, "neither")


def test_load_image_folder(tmp_path, capsys):
    from PIL import Image
    from gancourse.data import load_image_folder
    folder = tmp_path / "photos" / "cats"
    folder.mkdir(parents=True)
    for i in range(3):
        Image.new("RGB", (80 + 10 * i, 60), color=(40 * i, 100, 200)).save(folder / f"cat{i}.png")
    (folder / "broken.jpg").write_bytes(b"not an image")
    images = load_image_folder(tmp_path / "photos", image_size=32)
    assert images.shape == (3, 3, 32, 32) and images.min() >= -1 and images.max() <= 1
    printed = capsys.readouterr().out
    assert "skipped 1 of 4" in printed and "broken.jpg" in printed
    # the 32 px, 3-channel DCGAN trains on it
    from gancourse.models import DCGANDiscriminator, DCGANGenerator
    from gancourse.training import Trainer, TrainConfig
    trainer = Trainer(DCGANGenerator(image_size=32, channels=3, width=8), DCGANDiscriminator(image_size=32, channels=3, width=8),
                      images, TrainConfig(batch_size=4, log_every=1, n_snapshot=4), "cpu")
    row = trainer.train(1, progress=False).rows[-1]
    assert torch.isfinite(torch.tensor([row["loss_d"], row["loss_g"]])).all()
    assert trainer.history.snapshots[-1][1].shape == (4, 3, 32, 32)
    flat = load_image_folder(folder, image_size=16, channels=1)
    assert flat.shape == (3, 1, 16, 16)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_image_folder(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no readable image"):
        load_image_folder(empty)


def _coverage_with(threshold="3std", share=True, filter_modes=True, invert=False):
    def fn(samples, centers, std):
        distance, nearest = torch.cdist(samples, centers).min(1)
        limit = {"3std": 3 * std, "3": 3.0, "3var": 3 * std ** 2}[threshold]
        good = distance < limit
        if invert:
            good = ~good
        modes = len(set(nearest[good if filter_modes else slice(None)].tolist()))
        return modes, (good.double().mean().item() if share else int(good.sum()))
    return fn


def test_mode_coverage_check(capsys):
    from gancourse import toy
    checks.check_mode_coverage(_coverage_with())
    checks.check_mode_coverage(lambda s, c, std: (lambda r: (r.modes, r.high_quality))(
        toy.mode_coverage(s, toy.Mixture2D(c, std, "ring"))))
    assert "✔ mode_coverage" in capsys.readouterr().out
    reject(checks.check_mode_coverage, _coverage_with(threshold="3"), "3 in data units")
    reject(checks.check_mode_coverage, _coverage_with(threshold="3var"), "not 3·std²")
    reject(checks.check_mode_coverage, _coverage_with(share=False), "is a count")
    reject(checks.check_mode_coverage, _coverage_with(filter_modes=False), "*high-quality* sample")
    reject(checks.check_mode_coverage, _coverage_with(invert=True), "inverted")
    reject(checks.check_mode_coverage, lambda s, c, std: 3, "return two numbers")
    reject(checks.check_mode_coverage, lambda s, c, std: (8, 1.0), "expected (3, 0.6)")


def test_pack_check(capsys):
    from gancourse.models import pack
    checks.check_pack(pack)
    checks.check_pack(lambda x, m: torch.cat([x[i::m].flatten(1) for i in range(m)], 1))  # the same rows
    assert "✔ pack" in capsys.readouterr().out
    reject(checks.check_pack, lambda x, m: torch.cat([c.flatten(1) for c in x.chunk(m)], 1), "i + B/m")
    reject(checks.check_pack, lambda x, m: x.reshape(x.shape[0] // m, m, -1), "m whole samples")
    reject(checks.check_pack, lambda x, m: x.reshape(-1, m), "m whole samples")
    reject(checks.check_pack, lambda x, m: torch.tensor(x.reshape(x.shape[0] // m, -1).tolist()), "off the graph")
    reject(checks.check_pack, lambda x, m: x.flip(0).reshape(x.shape[0] // m, -1), "wrong samples")
    reject(checks.check_pack, lambda x, m: x.numpy().reshape(x.shape[0] // m, -1), "return a tensor")


def _critic_step_with(variant=""):
    """One critic update written by hand; ``variant`` makes a known mistake (or, "eps_on_fake",
    the other, equally valid, orientation of the interpolation)."""
    def step(critic, opt, real, fake, gp_weight):
        if variant != "no_zero_grad":
            opt.zero_grad()
        fake_in = fake if variant == "no_detach" else fake.detach()
        loss = critic(fake_in).mean() - critic(real).mean()
        if variant == "sign":
            loss = -loss
        if variant != "no_penalty":
            eps = torch.rand(real.shape[0], 1)
            a, b = (fake.detach(), real) if variant == "eps_on_fake" else (real, fake.detach())
            x_hat = (eps * a + (1 - eps) * b).requires_grad_(True)
            (grads,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=variant != "no_create_graph")
            loss = loss + gp_weight * (grads.norm(2, dim=1) - 1).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    return step


def test_critic_step_check(capsys):
    from gancourse import losses

    def package_step(critic, opt, real, fake, gp_weight):
        opt.zero_grad()
        loss = losses.critic_loss(critic(real), critic(fake.detach()))
        loss = loss + gp_weight * losses.gradient_penalty(critic, real, fake)
        loss.backward()
        opt.step()
        return loss.item()

    checks.check_critic_step(package_step)
    checks.check_critic_step(_critic_step_with("eps_on_fake"))
    assert "✔ critic_step" in capsys.readouterr().out
    reject(checks.check_critic_step, _critic_step_with("no_penalty"), "ignores the gradient penalty")
    reject(checks.check_critic_step, _critic_step_with("no_create_graph"), "create_graph=True")
    reject(checks.check_critic_step, _critic_step_with("sign"), "signs are flipped")
    reject(checks.check_critic_step, _critic_step_with("no_zero_grad"), "zero_grad")
    reject(checks.check_critic_step, _critic_step_with("no_detach"), "generator", "detach")
    reject(checks.check_critic_step, lambda c, o, r, f, w: torch.tensor(0.0), "did not change")
    reject(checks.check_critic_step, lambda c, o, r, f, w: (_ for _ in ()).throw(
        NotImplementedError("Exercise 'critic_step' is not done yet")), "not done yet")

    def wrong_return(critic, opt, real, fake, gp_weight):
        _critic_step_with("")(critic, opt, real, fake, gp_weight)
        return 0.0
    reject(checks.check_critic_step, wrong_return, "return the loss")


# --- the package: one diagnosis mechanism, one module per lesson ------------------------------

def test_diagnose_returns_the_first_matching_hint():
    from gancourse.checks.core import KnownAnswer, diagnose, match
    catalogue = [KnownAnswer("doubled", lambda x: 2 * x), KnownAnswer("negated", lambda x: -x),
                 KnownAnswer("also negated", lambda x: -x), KnownAnswer("a fixed value", torch.tensor([7.0]))]
    x = torch.tensor([1.0, 2.0])
    assert diagnose(torch.tensor([-1.0, -2.0]), catalogue, x) == "negated"       # the first match wins
    assert diagnose(torch.tensor([2.0, 4.0 + 1e-7]), catalogue, x) == "doubled"  # within the tolerance
    assert diagnose(torch.tensor([7.0]), catalogue, x) == "a fixed value"        # a value, not a function
    assert diagnose(torch.tensor([3.0, 3.0]), catalogue, x) == ""
    assert diagnose(torch.tensor([1.0, 2.0, 3.0]), catalogue, x) == ""            # another shape matches nothing
    assert match(torch.tensor([-1.0, -2.0]), catalogue, x) is catalogue[1]
    counts = [KnownAnswer("a count", 3), KnownAnswer("a share", 0.5)]
    assert diagnose(3.0000001, counts, same=lambda got, known: got == known) == ""  # the comparison is pluggable
    assert diagnose(3, counts, same=lambda got, known: got == known) == "a count"


LESSON_CHECKS = {
    "lesson00": ["check_scale_to_tanh_range", "check_to_unit_range"],
    "lesson01": ["check_value_estimate", "check_jensen_shannon", "check_optimal_discriminator",
                 "check_discriminator_loss", "check_generator_loss"],
    "lesson02": ["check_train_step", "check_generator_spec", "check_discriminator_spec", "check_sample_images",
                 "check_digit_histogram"],
    "lesson03": ["check_conv_transpose_output_size", "check_dcgan_init", "check_interpolate"],
    "lesson04": ["check_mode_coverage", "check_pack"],
    "lesson05": ["check_critic_loss", "check_wgan_generator_loss", "check_gradient_penalty", "check_clip_weights",
                 "check_critic_step"],
}


@pytest.mark.parametrize("lesson", sorted(LESSON_CHECKS))
def test_lesson_module_exposes_its_checks(lesson):
    import importlib
    module = importlib.import_module(f"gancourse.checks.{lesson}")
    assert sorted(module.__all__) == sorted(LESSON_CHECKS[lesson])
    for name in LESSON_CHECKS[lesson]:
        assert getattr(checks, name) is getattr(module, name)
        assert getattr(module, name).__module__ == module.__name__


def _lesson_modules():
    import importlib
    import pkgutil
    return [importlib.import_module(f"gancourse.checks.{info.name}")
            for info in pkgutil.iter_modules(checks.__path__) if info.name.startswith("lesson")]


def test_every_check_is_defined_in_exactly_one_lesson_module():
    modules = _lesson_modules()
    assert sorted(checks.__all__) == sorted(name for names in LESSON_CHECKS.values() for name in names)
    for name in checks.__all__:
        defined_in = [m.__name__ for m in modules if name in vars(m) and vars(m)[name].__module__ == m.__name__]
        assert len(defined_in) == 1, f"{name} is defined in {defined_in}"
        assert name in vars(sys.modules[defined_in[0]])["__all__"]
    assert sum(len(m.__all__) for m in modules) == len(checks.__all__)


def test_each_check_lives_in_the_lesson_that_first_uses_it():
    import re
    from pathlib import Path
    first_use = {}
    for notebook in sorted((Path(__file__).parent.parent / "solutions").glob("[0-9][0-9]_*.ipynb")):
        for name in re.findall(r"checks\.(check_[a-z_]+)", notebook.read_text()):
            first_use.setdefault(name, f"lesson{notebook.name[:2]}")
    for name, lesson in first_use.items():
        assert name in LESSON_CHECKS[lesson], f"{name} is first used in {lesson}"
