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
        B = real.size(0)
        eps = {"sample": lambda: torch.rand(B, *([1] * (real.dim() - 1))), "element": lambda: torch.rand_like(real),
               "batch": lambda: torch.rand(1), "batch4d": lambda: torch.rand(1, 1, 1, 1),
               "(B, 1)": lambda: torch.rand(B, 1), "(B,)": lambda: torch.rand(B),
               "image": lambda: torch.rand(B, 1, 1, 1)}[eps_shape]()
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
              returns="dg", stale=False, g_on_d_loss=False, d_labels=(1.0, 0.0), zero_late=False,
              g_detached=False):
    bce = F.binary_cross_entropy_with_logits

    def d_update(generator, discriminator, opt_d, x_real, x_fake):
        fake_in = x_fake.detach() if detach else x_fake
        loss_d = (bce(discriminator(x_real), torch.full((len(x_real),), d_labels[0]))
                  + bce(discriminator(fake_in), torch.full((len(x_real),), d_labels[1])))
        if zero_d:
            opt_d.zero_grad()
        loss_d.backward(retain_graph=not detach)
        if zero_late:
            opt_d.zero_grad()  # between backward and step: the step finds no gradient
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
            logits = old_logits if stale else discriminator(x_fake.detach() if g_detached else x_fake)
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
    (step_with(stale=True), ["again after", "simultaneous"]),    # crashes: D changed in place
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
        if variant == "cross_entropy":
            loss = (F.binary_cross_entropy_with_logits(critic(real), torch.ones(len(real)))
                    + F.binary_cross_entropy_with_logits(critic(fake_in), torch.zeros(len(real))))
        if variant == "weight_on_critic_loss":
            loss, gp_weight = gp_weight * loss, 1.0
        if variant == "penalty_subtracted":
            gp_weight = -gp_weight
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
    "lesson00": ["check_scale_to_tanh_range", "check_to_unit_range", "check_tanh_pipeline"],
    "lesson01": ["check_value_estimate", "check_jensen_shannon", "check_optimal_discriminator",
                 "check_discriminator_loss", "check_generator_loss", "check_loss_when_d_wins"],
    "lesson02": ["check_train_step", "check_generator_spec", "check_discriminator_spec", "check_sample_images",
                 "check_digit_histogram", "check_run_verdicts"],
    "lesson03": ["check_conv_transpose_output_size", "check_dcgan_init", "check_interpolate", "check_run_to_continue"],
    "lesson04": ["check_mode_coverage", "check_pack", "check_coverage_prediction"],
    "lesson05": ["check_critic_loss", "check_wgan_generator_loss", "check_gradient_penalty", "check_clip_weights",
                 "check_critic_step", "check_lipschitz_critic"],
    "lesson06": ["check_conditional_generator", "check_projection_logit", "check_requested_accuracy",
                 "check_confusion_judgment"],
    "lesson07": ["check_knn_precision", "check_kid", "check_bootstrap_interval", "check_metric_judgment"],
    "lesson08": ["check_ema_update", "check_r1_penalty", "check_translation", "check_augment_both",
                 "check_ablation_judgment"],
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
        for name in re.findall(r"checks\.(check_[a-z0-9_]+)", notebook.read_text()):
            first_use.setdefault(name, f"lesson{notebook.name[:2]}")
    for name, lesson in first_use.items():
        assert name in LESSON_CHECKS[lesson], f"{name} is first used in {lesson}"


# --- every known mistake gets its own hint: one test per check over its whole catalogue ---------
# docs/design.md, Checks: "Every catalogue entry has a test that feeds the mistake and asserts its
# hint." Where a catalogue's answers are functions of the check's inputs, they *are* the mistaken
# answers, and are fed as they are; elsewhere each entry is paired with a mistaken function below.

from gancourse.checks import core, lesson00, lesson01, lesson02, lesson04, lesson05  # noqa: E402
from gancourse.checks import lesson03  # noqa: E402


def assert_hint(check, fn, hint, **kwargs):
    message = reject(check, fn, **kwargs)
    assert hint in message, f"expected the hint {hint!r}, got:\n{message}"
    return message


FUNCTION_CATALOGUES = [
    ("scale_to_tanh_range", checks.check_scale_to_tanh_range, lesson00.SCALE_MISTAKES, {}),
    ("to_unit_range", checks.check_to_unit_range, lesson00.UNIT_RANGE_MISTAKES, {}),
    ("value_estimate", checks.check_value_estimate, lesson01.VALUE_MISTAKES + lesson01.VALUE_UNSTABLE, {}),
    ("jensen_shannon", checks.check_jensen_shannon, lesson01.JSD_MISTAKES, {}),
    ("optimal_discriminator", checks.check_optimal_discriminator, lesson01.OPTIMAL_D_MISTAKES, {}),
    ("discriminator_loss", checks.check_discriminator_loss,
     lesson01.DISCRIMINATOR_LOSS_MISTAKES + lesson01.DISCRIMINATOR_LOSS_UNSTABLE, {}),
    ("generator_loss", checks.check_generator_loss,
     lesson01.GENERATOR_LOSS_MISTAKES + lesson01.GENERATOR_LOSS_UNSTABLE, {}),
    ("saturating_generator_loss", checks.check_generator_loss,
     lesson01.SATURATING_GENERATOR_LOSS_MISTAKES + lesson01.SATURATING_GENERATOR_LOSS_UNSTABLE, {"saturating": True}),
    ("digit_histogram", checks.check_digit_histogram, lesson02.HISTOGRAM_MISTAKES, {}),
    ("conv_transpose_output_size", checks.check_conv_transpose_output_size, lesson03.CONV_TRANSPOSE_MISTAKES, {}),
    ("mode_coverage", checks.check_mode_coverage, lesson04.MODE_COVERAGE_MISTAKES, {}),
    ("pack", checks.check_pack, lesson04.PACK_MISTAKES, {}),
    ("critic_loss", checks.check_critic_loss, lesson05.CRITIC_LOSS_MISTAKES, {}),
    ("wgan_generator_loss", checks.check_wgan_generator_loss, lesson05.WGAN_GENERATOR_LOSS_MISTAKES, {}),
]


@pytest.mark.parametrize("check, catalogue, kwargs", [pytest.param(c, cat, kw, id=name)
                                                      for name, c, cat, kw in FUNCTION_CATALOGUES])
def test_each_catalogued_mistake_gets_its_own_hint(check, catalogue, kwargs):
    assert catalogue, "an empty catalogue"
    for answer in catalogue:
        assert callable(answer.produce)
        assert_hint(check, answer.produce, answer.hint, **kwargs)


def test_catalogue_hints_are_distinct():
    for name, _, catalogue, _ in FUNCTION_CATALOGUES:
        hints = [answer.hint for answer in catalogue]
        assert len(set(hints)) == len(hints), name


def step_simultaneous(generator, discriminator, opt_g, opt_d, x_real, z):
    """Both losses through the same, not yet updated, discriminator; both backward; both steps."""
    bce = F.binary_cross_entropy_with_logits
    x_fake = generator(z)
    logits_real, logits_fake, logits_g = discriminator(x_real), discriminator(x_fake.detach()), discriminator(x_fake)
    loss_d = bce(logits_real, torch.ones_like(logits_real)) + bce(logits_fake, torch.zeros_like(logits_fake))
    loss_g = bce(logits_g, torch.ones_like(logits_g))
    opt_d.zero_grad()
    opt_g.zero_grad()
    loss_d.backward()
    loss_g.backward()
    opt_d.step()
    opt_g.step()
    return loss_d.item(), loss_g.item()


def step_with_optimizers_mixed(wrong):
    """A correct step whose opt_d also holds the generator ("d") or opt_g the discriminator ("g");
    each network's gradients are cleared through the network, not the optimizer."""
    bce = F.binary_cross_entropy_with_logits

    def fn(generator, discriminator, opt_g, opt_d, x_real, z):
        opt, other = (opt_d, generator) if wrong == "d" else (opt_g, discriminator)
        if len(opt.param_groups) == 1:
            opt.add_param_group({"params": list(other.parameters())})
        logits_real, logits_fake = discriminator(x_real), discriminator(generator(z).detach())
        loss_d = bce(logits_real, torch.ones_like(logits_real)) + bce(logits_fake, torch.zeros_like(logits_fake))
        discriminator.zero_grad()
        loss_d.backward()
        opt_d.step()
        logits = discriminator(generator(z))  # afresh: opt_d may have moved the generator
        loss_g = bce(logits, torch.ones_like(logits))
        generator.zero_grad()
        loss_g.backward()
        opt_g.step()
        return loss_d.item(), loss_g.item()
    return fn


def test_train_step_catalogue_each_gets_its_own_hint():
    mistaken = [step_simultaneous, step_with(detach=False), step_with_optimizers_mixed("d"),
                step_with_optimizers_mixed("g"), step_with(zero_late=True), step_with(g_detached=True)]
    for answer, fn in zip(lesson02.TRAIN_STEP_PROBED_MISTAKES, mistaken, strict=True):
        assert_hint(checks.check_train_step, fn, answer.hint.split("\nHint: ")[0])
    for answer, fn in zip(lesson02.TRAIN_STEP_GENERATOR_MISTAKES, [step_with(g_label=0.0), step_minimax],
                          strict=True):
        assert_hint(checks.check_train_step, fn, answer.hint)
    for answer, fn in zip(lesson02.TRAIN_STEP_DISCRIMINATOR_MISTAKES, [step_with(d_labels=(0.0, 1.0))], strict=True):
        assert_hint(checks.check_train_step, fn, answer.hint)


def step_minimax(generator, discriminator, opt_g, opt_d, x_real, z):
    """The generator minimises mean log(1 - D(G(z))), the saturating loss."""
    x_fake = generator(z)
    loss_d = F.softplus(-discriminator(x_real)).mean() + F.softplus(discriminator(x_fake.detach())).mean()
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = -F.softplus(discriminator(x_fake)).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


def test_train_step_simultaneous_update_is_not_called_a_missing_detach():
    message = reject(checks.check_train_step, step_simultaneous, "simultaneous", "updated discriminator")
    assert "detach" not in message


def gp_one_norm_for_the_batch(critic, real, fake):
    eps = torch.rand(real.size(0), *([1] * (real.dim() - 1)))
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grads,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (grads.norm() - 1) ** 2


def test_gradient_penalty_catalogue_each_gets_its_own_hint():
    mistaken = [gp_with(lam=10.0), gp_with(reduce="sum"), gp_with(square=False), gp_with(one_sided=True),
                gp_with(sq_norm=True), gp_with(grad_of="mean"), gp_one_norm_for_the_batch, gp_with(norm_dim=0)]
    for answer, fn in zip(lesson05.GRADIENT_PENALTY_MISTAKES, mistaken, strict=True):
        assert_hint(checks.check_gradient_penalty, fn, answer.hint)
    assert_hint(checks.check_gradient_penalty, gp_with(points="real"), lesson05._EPS_AT_ENDS)
    assert_hint(checks.check_gradient_penalty, gp_with(points="fake"), lesson05._EPS_AT_ENDS)
    assert_hint(checks.check_gradient_penalty, gp_with(eps_shape="element"), lesson05._EPS_PER_FEATURE)
    assert_hint(checks.check_gradient_penalty, gp_with(eps_shape="batch"), lesson05._EPS_ONE_FOR_BATCH)
    reject(checks.check_gradient_penalty, gp_with(eps_shape="batch4d"), "(1, 1, 8, 5)", "one eps per sample")
    reject(checks.check_gradient_penalty, gp_with(eps_shape="image"), "(8, 1, 8, 5)", "(B, 1) here")


@pytest.mark.parametrize("eps_shape", ["(B, 1)", "(B,)"])
def test_gradient_penalty_eps_of_the_wrong_rank_gets_its_own_hint(eps_shape):
    message = reject(checks.check_gradient_penalty, gp_with(eps_shape=eps_shape), "(B, 1, 1, 1)", "broadcast")
    assert "scalar" not in message and "x_hat = " in message  # the learner's line, not torch's


def test_critic_step_with_an_image_shaped_eps_gets_its_own_hint():
    def step(critic, opt, real, fake, gp_weight):
        opt.zero_grad()
        loss = critic(fake.detach()).mean() - critic(real).mean()
        eps = torch.rand(real.shape[0], 1, 1, 1)  # right for images, wrong for (B, 2)
        x_hat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
        (grads,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        loss = loss + gp_weight * (grads.flatten(1).norm(dim=1) - 1).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    reject(checks.check_critic_step, step, "(32, 1, 32, 2)", "torch.rand(B, *[1] * (real.dim() - 1))")


def test_critic_step_catalogue_each_gets_its_own_hint():
    _, mistakes = lesson05._known_updates()
    mistaken = [_critic_step_with("no_create_graph"), _critic_step_with("no_penalty"), _critic_step_with("sign"),
                _critic_step_with("no_zero_grad"), lambda c, o, r, f, w: torch.tensor(0.0),
                _critic_step_with("penalty_subtracted"), _critic_step_with("weight_on_critic_loss"),
                _critic_step_with("cross_entropy")]
    for answer, fn in zip(mistakes, mistaken, strict=True):
        assert_hint(checks.check_critic_step, fn, answer.hint)


# --- the 12 answers the issue found misjudged ------------------------------------------------------

def test_critic_loss_accepts_the_difference_of_equal_batches(capsys):
    checks.check_critic_loss(lambda real_scores, fake_scores: (fake_scores - real_scores).mean())
    assert "✔" in capsys.readouterr().out


def step_labels_b1(generator, discriminator, opt_g, opt_d, x_real, z):
    """Labels of shape (B, 1), as the spec's discriminator (last layer Linear(256, 1)) needs."""
    B = x_real.shape[0]
    bce = F.binary_cross_entropy_with_logits
    x_fake = generator(z)
    loss_d = bce(discriminator(x_real), torch.ones(B, 1)) + bce(discriminator(x_fake.detach()), torch.zeros(B, 1))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = bce(discriminator(x_fake), torch.ones(B, 1))
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d, loss_g  # 0-d tensors are as good as floats


def test_train_step_accepts_labels_of_shape_b1_and_b(capsys):
    checks.check_train_step(step_labels_b1)  # the discriminator returns (B, 1), like the spec's
    checks.check_train_step(step_with())     # labels (B,): the check retries with a (B,) discriminator
    assert capsys.readouterr().out.count("✔") == 2


def test_train_step_crash_names_the_learners_line_not_torchs():
    def step_bad_labels(generator, discriminator, opt_g, opt_d, x_real, z):
        logits = discriminator(x_real)
        loss_d = F.binary_cross_entropy_with_logits(logits, torch.ones(len(x_real), 2))
        loss_d.backward()
        return loss_d, loss_d
    message = reject(checks.check_train_step, step_bad_labels, "torch.ones(len(x_real), 2)", "ones_like")
    assert "functional.py" not in message


def bce_on_sigmoid(t, label):
    return F.binary_cross_entropy(torch.sigmoid(t), torch.full_like(t, label))


@pytest.mark.parametrize("check, fn, kwargs", [
    (checks.check_value_estimate, lambda r, f: -(bce_on_sigmoid(r, 1) + bce_on_sigmoid(f, 0)), {}),
    (checks.check_discriminator_loss, lambda r, f: bce_on_sigmoid(r, 1) + bce_on_sigmoid(f, 0), {}),
    (checks.check_generator_loss, lambda f: bce_on_sigmoid(f, 1), {}),
    (checks.check_generator_loss, lambda f: -bce_on_sigmoid(f, 0), {"saturating": True}),
    (checks.check_discriminator_loss,   # nn.BCELoss is the same function
     lambda r, f: nn.BCELoss()(torch.sigmoid(r), torch.ones_like(r)) + nn.BCELoss()(torch.sigmoid(f), torch.zeros_like(f)), {}),
], ids=["value_estimate", "discriminator_loss", "generator_loss", "saturating", "BCELoss"])
def test_bce_on_sigmoid_is_caught_by_every_loss_check(check, fn, kwargs):
    reject(check, fn, "not numerically stable", "clamps its log at -100", "binary_cross_entropy_with_logits", **kwargs)


def test_log_of_sigmoid_plus_eps_is_caught_as_a_vanishing_gradient():
    reject(checks.check_generator_loss, lambda f: -torch.log(torch.sigmoid(f) + 1e-8).mean(),
           "not numerically stable", "vanishes")


def mlp_generator(activation=lambda: nn.LeakyReLU(0.2), first_in=None, bias=True, extra=False):
    class Generator(nn.Module):
        def __init__(self, latent_dim=64):
            super().__init__()
            self.latent_dim = latent_dim
            layers = [nn.Linear(first_in or latent_dim, 256, bias=bias), activation(),
                      nn.Linear(256, 512), activation(), nn.Linear(512, 784)]
            self.net = nn.Sequential(*layers, *([activation()] if extra else []), nn.Tanh())

        def forward(self, z):
            return self.net(z).view(-1, 1, 28, 28)
    return Generator()


class FunctionalGenerator(nn.Module):
    """The spec written with F.leaky_relu in forward: the check sees functional activations too."""

    def __init__(self, slope=0.2):
        super().__init__()
        self.latent_dim, self.slope = 64, slope
        self.fc1, self.fc2, self.fc3 = nn.Linear(64, 256), nn.Linear(256, 512), nn.Linear(512, 784)

    def forward(self, z):
        x = F.leaky_relu(self.fc1(z), self.slope)
        x = F.leaky_relu(self.fc2(x), negative_slope=self.slope)
        return torch.tanh(self.fc3(x)).view(-1, 1, 28, 28)


def test_generator_spec_accepts_functional_activations(capsys):
    checks.check_generator_spec(FunctionalGenerator())
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("generator, words", [
    (mlp_generator(nn.ReLU), ["uses ReLU", "LeakyReLU(0.2)"]),
    (mlp_generator(nn.LeakyReLU), ["slope 0.01", "default", "nn.LeakyReLU(0.2)"]),
    (mlp_generator(lambda: nn.LeakyReLU(0.1)), ["slope 0.1", "LeakyReLU(0.2)"]),
    (FunctionalGenerator(slope=0.01), ["slope 0.01"]),
    (mlp_generator(extra=True), ["3 hidden activations", "has 2"]),
    (mlp_generator(bias=False), ["Linear layer 1 has no bias"]),
    (mlp_generator(first_in=100), ["takes 100 inputs", "latent_dim = 64", "nn.Linear(latent_dim"]),
], ids=["relu", "default-slope", "slope-0.1", "functional-slope", "extra-activation", "no-bias", "latent-100"])
def test_generator_spec_pins_what_the_spec_states(generator, words):
    message = reject(checks.check_generator_spec, generator, *words)
    assert "(B,)" not in message


class SpecDiscriminator(nn.Module):
    def __init__(self, activation=lambda: nn.LeakyReLU(0.2), squeeze=False):
        super().__init__()
        self.squeeze = squeeze
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), activation(), nn.Linear(512, 256), activation(),
                                 nn.Linear(256, 1))

    def forward(self, x):
        out = self.net(x)
        return out.squeeze(1) if self.squeeze else out


def test_discriminator_spec_accepts_b1_and_b(capsys):
    checks.check_discriminator_spec(SpecDiscriminator())
    checks.check_discriminator_spec(SpecDiscriminator(squeeze=True))
    assert capsys.readouterr().out.count("✔") == 2


@pytest.mark.parametrize("discriminator, words", [
    (SpecDiscriminator(nn.LeakyReLU), ["slope 0.01", "nn.LeakyReLU(0.2)"]),
    (SpecDiscriminator(nn.ReLU), ["uses ReLU"]),
])
def test_discriminator_spec_pins_its_activations(discriminator, words):
    reject(checks.check_discriminator_spec, discriminator, *words)


class DCGANGen(nn.Module):
    def __init__(self, latent_dim=100, bias=False, view=True, activation=nn.ReLU, last_bias=True, kernel=4, width=128):
        super().__init__()
        self.latent_dim, self.view = latent_dim, view
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, width, 7, 1, 0, bias=bias), nn.BatchNorm2d(width), activation(),
            nn.ConvTranspose2d(width, 64, kernel, 2, 1 if kernel == 4 else 0, bias=bias), nn.BatchNorm2d(64), activation(),
            nn.ConvTranspose2d(64, 1, 4, 2, 1, bias=last_bias), nn.Tanh())

    def forward(self, z):
        return self.net(z.view(-1, self.latent_dim, 1, 1) if self.view else z)


DCGAN_SPEC = dict(latent_dim=100, n_params=759_681)


def test_dcgan_generator_spec_accepts(capsys):
    checks.check_generator_spec(DCGANGen(), **DCGAN_SPEC)
    checks.check_generator_spec(DCGANGen(), spec="dcgan")
    assert capsys.readouterr().out.count("✔") == 2


@pytest.mark.parametrize("generator, words", [
    (DCGANGen(bias=True), ["bias=True", "bias=False", "BatchNorm"]),
    (DCGANGen(last_bias=False), ["ConvTranspose2d layer 3 has no bias"]),
    (DCGANGen(view=False), ["(B, latent_dim, 1, 1)", "z.view("]),
    (DCGANGen(activation=lambda: nn.LeakyReLU(0.2)), ["uses LeakyReLU", "ReLU"]),
    (DCGANGen(kernel=3), ["(16, 1, 30, 30)", "1×1 -> 7×7 -> 14×14 -> 28×28", "conv_transpose_output_size"]),
    (DCGANGen(width=96), ["parameters", "channels 100 -> 128 -> 64 -> 1"]),
], ids=["hidden-bias", "no-last-bias", "no-view", "leaky", "kernel", "width"])
def test_dcgan_generator_spec_hints(generator, words):
    message = reject(checks.check_generator_spec, generator, *words, **DCGAN_SPEC)
    assert "(B,)" not in message and "100 -> hidden layers -> 784" not in message


def test_sample_images_hard_coded_latent_size_gets_its_own_hint():
    def sample_64(generator, n):
        generator.eval()
        with torch.no_grad():
            images = generator(torch.randn(n, 64))
        generator.train()
        return images
    message = reject(checks.check_sample_images, sample_64, "generator.latent_dim", "torch.randn(n, 64)")
    assert "(B,)" not in message


def unit_range_in_place(images):
    return images.add_(1).div_(2).clamp_(0, 1)


def init_replacing(module):
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            layer.weight = nn.Parameter(torch.randn_like(layer.weight) * 0.02)
            if layer.bias is not None:
                layer.bias = nn.Parameter(torch.zeros_like(layer.bias))
        elif isinstance(layer, nn.BatchNorm2d):
            layer.weight = nn.Parameter(1 + 0.02 * torch.randn_like(layer.weight))
            layer.bias = nn.Parameter(torch.zeros_like(layer.bias))


def test_dcgan_init_and_clip_weights_share_the_in_place_rule():
    reject(checks.check_dcgan_init, init_replacing, "replaced parameters", "in place")
    reject(checks.check_clip_weights, clip_replaces, "replaced parameters", "in place")

    def init_returns_copy(module):
        import copy
        new = copy.deepcopy(module)
        init_with()(new)
        return new
    reject(checks.check_dcgan_init, init_returns_copy, "returned a new module")


# --- one in-place rule: a function leaves the tensors it is given unchanged -------------------------

IN_PLACE_MISTAKES = [
    ("to_unit_range", checks.check_to_unit_range, unit_range_in_place),
    ("scale_to_tanh_range", checks.check_scale_to_tanh_range,
     lambda pixels: pixels.clamp_(max=254).float() / 127.5 - 1),
    ("discriminator_loss", checks.check_discriminator_loss,
     lambda r, f: (r.data.clamp_(-1, 1), d_loss_softplus(r, f))[1]),
    ("critic_loss", checks.check_critic_loss, lambda r, f: (f.data.mul_(2), f.mean() - r.mean())[1]),
    ("pack", checks.check_pack, lambda x, m: x.mul_(2).reshape(x.shape[0] // m, -1)),
    ("interpolate", checks.check_interpolate, lambda z0, z1, t: z0.mul_(1 - t).add_(t * z1)),
    ("digit_histogram", checks.check_digit_histogram,
     lambda judge, images: torch.bincount(judge(images.mul_(0.5)).argmax(1), minlength=10).float() / len(images)),
    ("mode_coverage", checks.check_mode_coverage, lambda s, c, std: _coverage_with()(s.sub_(0.001), c, std)),
    ("gradient_penalty", checks.check_gradient_penalty, lambda critic, real, fake: gp_reference_style(
        critic, real.mul_(1.0).add_(0.5), fake)),
    ("train_step", checks.check_train_step,
     lambda g, d, opt_g, opt_d, x_real, z: step_correct(g, d, opt_g, opt_d, x_real.mul_(0.5), z)),
    ("critic_step", checks.check_critic_step,
     lambda critic, opt, real, fake, w: _critic_step_with("")(critic, opt, real.add_(0.1), fake, w)),
]


@pytest.mark.parametrize("check, fn", [pytest.param(c, f, id=n) for n, c, f in IN_PLACE_MISTAKES])
def test_changing_an_input_in_place_is_rejected_by_every_check(check, fn):
    reject(check, fn, "in place", "unchanged")


def test_a_loss_changing_its_input_in_place_on_the_graph_gets_the_in_place_hint():
    message = reject(checks.check_generator_loss, lambda f: F.softplus(-f.mul_(1.0)).mean(), "in place", "unchanged")
    assert "no_grad" not in message


# --- robustness: wrong kinds of return values, endless loops, exits ----------------------------------

class _Returns(nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, x):
        return self.value


#: The checks whose answer is a decision (a string or a set of strings), not a function:
#: judged in the section on judgment exercises below.
DECISION_CHECKS = ("check_tanh_pipeline", "check_loss_when_d_wins", "check_run_verdicts", "check_run_to_continue",
                   "check_coverage_prediction", "check_lipschitz_critic", "check_metric_judgment",
                   "check_confusion_judgment", "check_ablation_judgment")


def _forgot_return(value):
    """The learner's function for each check, returning ``value`` (for the steps: after doing the work)."""
    def train_step(generator, discriminator, opt_g, opt_d, x_real, z):
        step_correct(generator, discriminator, opt_g, opt_d, x_real, z)
        return value

    def critic_step(critic, opt, real, fake, gp_weight):
        _critic_step_with("")(critic, opt, real, fake, gp_weight)
        return value
    class ConditionalGenerator(nn.Module):  # lesson 06: the check takes the class
        def __init__(self, latent_dim=64, num_classes=10, embed_dim=10):
            super().__init__()
            self.embed, self.net = nn.Embedding(num_classes, embed_dim), nn.Identity()

        def forward(self, z, y):
            return value
    special = {"check_train_step": train_step, "check_critic_step": critic_step,
               "check_generator_spec": _Returns(value), "check_discriminator_spec": _Returns(value),
               "check_conditional_generator": ConditionalGenerator}
    return {name: special.get(name, lambda *args: value) for name in checks.__all__
            if name not in ("check_dcgan_init", "check_clip_weights", "check_ema_update")  # these return nothing
            and name not in DECISION_CHECKS}  # these take a decision, not a function (tests below)


@pytest.mark.parametrize("name", sorted(_forgot_return(None)))
def test_none_is_reported_as_a_forgotten_return(name):
    message = reject(getattr(checks, name), _forgot_return(None)[name], "returned None", "forget `return`")
    assert "TypeError" not in message


@pytest.mark.parametrize("name", sorted(_forgot_return(None)))
def test_a_string_is_reported_as_a_string(name):
    message = reject(getattr(checks, name), _forgot_return("0.5")[name], "returned the string '0.5'")
    assert "TypeError" not in message


def test_endless_loop_is_stopped_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(core, "TIME_LIMIT_S", 0.5)

    def spins(logits_fake):
        while True:
            pass
    reject(checks.check_generator_loss, spins, "did not return within 0.5 s", "endless loop")

    def swallows(logits_fake):  # an `except Exception` in learner code does not hide the limit
        while True:
            try:
                pass
            except Exception:
                pass
    reject(checks.check_generator_loss, swallows, "did not return within 0.5 s")


def test_time_limit_outside_the_main_thread(monkeypatch):
    import threading
    monkeypatch.setattr(core, "TIME_LIMIT_S", 0.5)
    outcome = []

    def spins(logits_fake):
        while True:
            pass

    def run():
        try:
            checks.check_generator_loss(spins)
        except AssertionError as error:
            outcome.append(str(error))
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive() and outcome and "did not return within 0.5 s" in outcome[0]


def test_time_limit_keeps_an_outer_alarm(monkeypatch):
    import signal
    fired = []

    def outer(*args):
        fired.append(True)
    previous = signal.signal(signal.SIGALRM, outer)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        checks.check_generator_loss(lambda f: F.softplus(-f).mean())
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < remaining < 30.0 and not fired
        assert signal.getsignal(signal.SIGALRM) is outer  # the outer handler is back, its alarm still set
        signal.setitimer(signal.ITIMER_REAL, 0.2)  # an outer alarm due during learner code still fires

        def slow(f):
            import time
            time.sleep(0.5)
            return F.softplus(-f).mean()
        checks.check_generator_loss(slow)
        assert fired
        monkeypatch.setattr(core, "TIME_LIMIT_S", 1.0)  # after the outer alarm, the limit still holds
        signal.setitimer(signal.ITIMER_REAL, 0.2)

        def spins(f):
            while True:
                pass
        reject(checks.check_generator_loss, spins, "did not return within 1 s")
        assert len(fired) == 2
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("exits, shown", [
    (lambda f: sys.exit(3), "sys.exit(3)"),
    (lambda f: sys.exit(), "sys.exit()"),
    (lambda f: exit(), "sys.exit()"),  # noqa: F821 — site's exit(), as in a script
    (lambda f: quit(), "sys.exit()"),  # noqa: F821
])
def test_exit_is_reported_not_obeyed(exits, shown):
    reject(checks.check_generator_loss, exits, f"called {shown}", "raise")


def test_ipython_exit_is_refused_while_learner_code_runs(monkeypatch):
    import types

    class Shell:
        def __init__(self):
            self.asked = 0

        def ask_exit(self):  # what IPython's exit() and quit() call; the kernel then shuts down
            self.asked += 1

        def run_line_magic(self, name, value):
            pass
    shell = Shell()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    reject(checks.check_generator_loss, lambda f: shell.ask_exit(), "called exit() or quit()")
    assert shell.asked == 0
    shell.ask_exit()
    assert shell.asked == 1 and "ask_exit" not in vars(shell)  # the shell's own method is back


def test_failing_check_turns_ipython_colours_off(monkeypatch):
    import types
    calls = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, value: calls.append((name, value)))
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    reject(checks.check_generator_loss, lambda f: f.mean(), "raw logit")
    assert ("colors", "nocolor") in calls


def test_crash_hints_look_at_the_error_and_the_inputs():
    hint = core.crash_hint(RuntimeError("mat1 and mat2 shapes cannot be multiplied (16x64 and 100x256)"),
                           [torch.zeros(16, 64)])
    assert "built for 100 input features was given 64" in hint and "(16, 64)" in hint
    hint = core.crash_hint(RuntimeError("The size of tensor a (8) must match the size of tensor b (3) at "
                                        "non-singleton dimension 2"), [torch.zeros(8, 2, 3, 3)])
    assert "broadcast" in hint and "(8, 2, 3, 3)" in hint and "scalar" not in hint
    hint = core.crash_hint(ValueError("Target size (torch.Size([16])) must be the same as input size "
                                      "(torch.Size([16, 1]))"))
    assert "ones_like" in hint
    assert "no_grad" in core.crash_hint(RuntimeError("a leaf Variable that requires grad is being used in an "
                                                     "in-place operation."), in_place=True)
    assert "unchanged" in core.crash_hint(RuntimeError("a leaf Variable that requires grad is being used in an "
                                                       "in-place operation."))


# --- the texts say what the checks feed; the self-check is plain text wherever it runs ---------------

SOLUTIONS_DIR = __import__("pathlib").Path(__file__).resolve().parents[1] / "solutions"


@pytest.mark.parametrize("path", sorted(SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.name)
def test_each_notebook_states_the_rules_and_a_plain_self_check(path):
    import nbformat
    notebook = nbformat.read(path, as_version=4)
    intro = notebook.cells[0].source
    assert "unchanged" in intro and "*in place*" in intro and f"{int(core.TIME_LIMIT_S)} seconds" in intro
    assert f"pytest --nbval-lax --color=no exercises/{path.name}" in intro
    cells = notebook.cells
    for i, cell in enumerate(cells):
        if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source:
            text = cells[i - 1].source
            assert cells[i - 1].cell_type == "markdown" and "**Return" in text or "The check feeds" in text, \
                f"{path.name}: the exercise before cell {i} does not say what comes in and what goes back"


def test_lesson_00_reads_mnist_through_the_course():
    import nbformat
    sources = [c.source for c in nbformat.read(SOLUTIONS_DIR / "00_setup_and_data.ipynb", as_version=4).cells]
    practice = next(s for s in sources if "datasets.MNIST" in s)
    assert "download=True" not in practice
    assert practice.index("data.load_mnist") < practice.index("datasets.MNIST")


def test_self_check_outside_the_course_folder_is_plain_text(tmp_path):
    """A learner's copy of an exercise notebook, run where no conftest.py of the course applies."""
    import os
    import shutil
    import subprocess
    exercise = SOLUTIONS_DIR.parent / "exercises" / "00_setup_and_data.ipynb"
    shutil.copy(exercise, tmp_path / exercise.name)
    env = {k: v for k, v in os.environ.items() if k != "IPYTHONDIR"}  # the course conftest's no-colour profile
    env.update(GANCOURSE_QUICK="1", IPYTHONDIR=str(tmp_path / "ipython"))
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--color=no", "-p", "no:cacheprovider",
                             "--rootdir", str(tmp_path), exercise.name], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    report = result.stdout + result.stderr
    assert result.returncode == 1 and "is not done yet" in report, report[-2000:]
    assert "\x1b[" not in report


# --- more of what the texts state: choices accepted, specs pinned ------------------------------------

def test_value_estimate_accepts_a_number_or_a_tensor(capsys):
    checks.check_value_estimate(lambda r, f: (F.logsigmoid(r).mean() + F.logsigmoid(-f).mean()).item())
    checks.check_value_estimate(lambda r, f: (F.logsigmoid(r).mean() + F.logsigmoid(-f).mean()).detach())
    assert capsys.readouterr().out.count("✔") == 2
    reject(checks.check_value_estimate, lambda r, f: -(bce_on_sigmoid(r, 1) + bce_on_sigmoid(f, 0)).item(),
           "clamps its log at -100")  # a float is compared by its value: the clamp still shows


def test_jensen_shannon_with_zeros_in_both_at_the_same_entries():
    def kl_div_jsd(p, q):
        m = (p + q) / 2
        return 0.5 * F.kl_div(m.log(), p, reduction="sum") + 0.5 * F.kl_div(m.log(), q, reduction="sum")
    reject(checks.check_jensen_shannon, kl_div_jsd, "both 0 at the same entries", "skip those entries")


class HandWrittenLeakyGenerator(nn.Module):
    """LeakyReLU written with torch.where: not seen as an activation call, and not affine either."""

    def __init__(self):
        super().__init__()
        self.latent_dim = 64
        self.fc1, self.fc2, self.fc3 = nn.Linear(64, 256), nn.Linear(256, 512), nn.Linear(512, 784)

    def forward(self, z):
        leaky = lambda x: torch.where(x > 0, x, 0.2 * x)  # noqa: E731
        return torch.tanh(self.fc3(leaky(self.fc2(leaky(self.fc1(z)))))).view(-1, 1, 28, 28)


def test_spec_checks_accept_hand_written_activations_and_reject_none(capsys):
    checks.check_generator_spec(HandWrittenLeakyGenerator())
    assert "✔" in capsys.readouterr().out
    no_activation = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.Linear(512, 256), nn.Linear(256, 1))
    reject(checks.check_discriminator_spec, no_activation, "no hidden activation", "nn.LeakyReLU(0.2)")
    reject(checks.check_generator_spec, mlp_generator(nn.Identity), "no hidden activation")


def test_sample_images_needs_the_gaussian_prior():
    def uniform(generator, n):
        generator.eval()
        with torch.no_grad():
            images = generator(torch.rand(n, generator.latent_dim))
        generator.train()
        return images

    def too_wide(generator, n):
        generator.eval()
        with torch.no_grad():
            images = generator(5 * torch.randn(n, generator.latent_dim))
        generator.train()
        return images
    reject(checks.check_sample_images, uniform, "torch.rand draws U(0, 1)", "torch.randn")
    reject(checks.check_sample_images, too_wide, "standard deviation", "N(0, I)")


def test_digit_histogram_must_be_a_tensor():
    def as_list(judge, images):
        with torch.no_grad():
            predicted = judge(images).argmax(1).tolist()
        return [predicted.count(d) / len(predicted) for d in range(10)]
    reject(checks.check_digit_histogram, as_list, "returned a list of 10 items", "a tensor of shape (10,)")


class DCGANOrder(nn.Module):
    def __init__(self, order="bn-relu", latent_dim=100):
        super().__init__()
        self.latent_dim = latent_dim

        def block(conv, channels):
            norm, act = nn.BatchNorm2d(channels), nn.ReLU()
            return [conv, act, norm] if order == "relu-bn" else [conv, act] if order == "no-bn" else [conv, norm, act]
        self.net = nn.Sequential(*block(nn.ConvTranspose2d(latent_dim, 128, 7, 1, 0, bias=False), 128),
                                 *block(nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), 64),
                                 nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(z.view(-1, self.latent_dim, 1, 1))


def test_dcgan_generator_spec_pins_batchnorm_before_relu(capsys):
    checks.check_generator_spec(DCGANOrder(), **DCGAN_SPEC)
    assert "✔" in capsys.readouterr().out
    reject(checks.check_generator_spec, DCGANOrder("relu-bn"), "BatchNorm after the ReLU", **DCGAN_SPEC)
    reject(checks.check_generator_spec, DCGANOrder("no-bn"), "has no BatchNorm", **DCGAN_SPEC)


def test_dcgan_init_reaches_nested_layers():
    def children_only(module):  # module.children() lists the direct children only
        for layer in module.children():
            if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.normal_(layer.weight, 0.0, 0.02)
                nn.init.zeros_(layer.bias)
            elif isinstance(layer, nn.BatchNorm2d):
                nn.init.normal_(layer.weight, 1.0, 0.02)
                nn.init.zeros_(layer.bias)
    reject(checks.check_dcgan_init, children_only, "nested inside a Sequential", "module.modules()")
    reject(checks.check_dcgan_init, init_with(types=(nn.Conv2d, nn.Linear)), "ConvTranspose2d",
           "not a subclass of nn.Conv2d")


# --- each known mistake gets its own diagnosis (tests/test_learner_answers.py's wrong answers) ------

def test_interpolate_start_mistakes_each_get_their_own_hint():
    hints = [answer.hint for answer in lesson03._start_mistakes(torch.ones(1, 2), torch.eye(2)[:1])]

    def slerp(z0, z1, t, divide=True, one_angle=False):
        if one_angle:
            omega = torch.acos((z0 * z1).sum() / (z0.norm() * z1.norm()))
        else:
            omega = torch.acos(F.cosine_similarity(z0, z1, dim=1).clamp(-1, 1)).unsqueeze(1)
        path = torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1
        return path / torch.sin(omega) if divide else path
    mistaken = [lambda z0, z1, t: F.normalize((1 - t) * z0 + t * z1, dim=1), lambda z0, z1, t: (1 - t) * z0 + z1,
                lambda z0, z1, t: slerp(z0, z1, t, divide=False)]
    for hint, fn in zip(hints, mistaken, strict=True):
        assert_hint(checks.check_interpolate, fn, hint)
    assert_hint(checks.check_interpolate, lambda z0, z1, t: slerp(z0, z1, t, one_angle=True), lesson03._ONE_ANGLE_HINT)


@pytest.mark.parametrize("fn, kwargs, hint", [
    (lambda f: torch.log1p(torch.exp(-f)).mean(), {}, core.EXP_OVERFLOW_HINT),
    (lambda f: -torch.log(torch.sigmoid(f)).mean(), {}, core.LOG_UNDERFLOW_HINT),
    (lambda f: torch.log(1 - torch.sigmoid(f)).mean(), {"saturating": True}, core.LOG_OF_ONE_HINT),
    (lambda f: torch.log1p(-torch.sigmoid(f)).mean(), {"saturating": True}, core.LOG_OF_ONE_HINT),
], ids=["log1p-exp", "log-sigmoid", "log-one-minus-sigmoid", "log1p-minus-sigmoid"])
def test_a_loss_that_is_not_finite_gets_its_cause(fn, kwargs, hint):
    assert_hint(checks.check_generator_loss, fn, hint, **kwargs)


class ViewDiscriminator(nn.Module):
    """The spec's discriminator, flattening its input with ``flatten``."""

    def __init__(self, flatten):
        super().__init__()
        self.flatten = flatten
        self.net = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2),
                                 nn.Linear(256, 1))

    def forward(self, x):
        return self.net(self.flatten(x))


@pytest.mark.parametrize("flatten, words", [
    (lambda x: x.view(-1), ["flattened into one row", "x.flatten(1)"]),
    (lambda x: x.view(128, -1), ["128 rows", "a batch size written into the code"]),
    (lambda x: x, ["without being flattened", "nn.Flatten()"]),
], ids=["whole-batch", "hard-coded-batch", "not-flattened"])
def test_a_discriminator_flattening_wrongly_gets_its_own_hint(flatten, words):
    reject(checks.check_discriminator_spec, ViewDiscriminator(flatten), *words)


def test_network_specs_name_what_differs_from_the_spec():
    class HardCodedBatch(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = spec_generator()[:-1]

        def forward(self, z):
            return self.net(z).view(128, 1, 28, 28)
    reject(checks.check_generator_spec, HardCodedBatch(), "asks for 128 samples", "batch size written into the code")
    reject(checks.check_generator_spec, spec_generator(hidden=(512, 256)), "your Linear layers go 64 -> 512 -> 256")
    reject(checks.check_discriminator_spec, spec_discriminator(hidden=(256, 512)), "784 -> 256 -> 512 -> 1")
    with_norms = nn.Sequential(nn.Linear(64, 256), nn.BatchNorm1d(256), nn.LeakyReLU(0.2), nn.Linear(256, 512),
                               nn.BatchNorm1d(512), nn.LeakyReLU(0.2), nn.Linear(512, 784), nn.Tanh(),
                               nn.Unflatten(1, (1, 28, 28)))
    reject(checks.check_generator_spec, with_norms, "BatchNorm layers the spec does not have", "no BatchNorm at all")
    no_channel = nn.Sequential(*spec_generator()[:-1], nn.Unflatten(1, (28, 28)))
    reject(checks.check_generator_spec, no_channel, "channel dimension is missing")

    class TanhUnused(nn.Module):
        def __init__(self):
            super().__init__()
            self.net, self.tanh = spec_generator()[:-2], nn.Tanh()

        def forward(self, z):
            return self.net(z).view(-1, 1, 28, 28) * 10
    reject(checks.check_generator_spec, TanhUnused(), "forward never applies it")

    class OutputNorm(DCGANGen):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(*self.net[:-1], nn.BatchNorm2d(1), self.net[-1])
    reject(checks.check_generator_spec, OutputNorm(), "BatchNorm layers the spec does not have", "over 1 features",
           **DCGAN_SPEC)

    class Padding0(DCGANGen):
        def __init__(self):
            super().__init__()
            self.net[3].padding, self.net[6].padding = (0, 0), (0, 0)
    reject(checks.check_generator_spec, Padding0(), "yours go 1×1 -> 7×7 -> 16×16 -> 34×34", "padding",
           **DCGAN_SPEC)


def test_data_checks_name_a_uint8_wrap_and_a_uint8_result():
    reject(checks.check_scale_to_tanh_range, lambda x: (x - 128).float() / 127.5, "wraps around at 256")
    reject(checks.check_to_unit_range, lambda x: ((x + 1) / 2).clamp(0, 1).mul(255).to(torch.uint8),
           "dtype uint8", "floats in [0, 1]")


def test_sample_images_names_a_seed_inside_the_function():
    def reseeds(generator, n):
        torch.manual_seed(0)
        return sample_correct(generator, n)
    reject(checks.check_sample_images, reseeds, "torch.manual_seed inside the function")


def test_dcgan_init_names_constant_uniform_and_untouched_weights():
    reject(checks.check_dcgan_init, _init_batchnorm_constant, "all 1, a constant", "N(1, 0.02)")
    reject(checks.check_dcgan_init, _init_uniform, "uniform distribution")
    reject(checks.check_dcgan_init, lambda module: None, "left every weight as it was", "every layer type")


def _init_batchnorm_constant(module):
    init_with()(module)
    for layer in module.modules():
        if isinstance(layer, nn.BatchNorm2d):
            nn.init.ones_(layer.weight)


def _init_uniform(module):
    init_with()(module)
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.uniform_(layer.weight, -0.02, 0.02)


def test_clip_weights_names_the_bounds_it_used():
    def zero_to_c(module, c):
        for p in module.parameters():
            p.data.clamp_(0, c)
    reject(checks.check_clip_weights, zero_to_c, "clamped to [0, 0.01]", "the lower bound is -c, not 0")


def test_gradient_penalty_names_an_eps_outside_0_1():
    def normal_eps(critic, real, fake):
        eps = torch.randn(real.size(0), *([1] * (real.dim() - 1)))
        x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
        (grads,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        return ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()
    assert_hint(checks.check_gradient_penalty, normal_eps, lesson05._EPS_OUTSIDE)


@pytest.mark.parametrize("late, words", [(True, ["zero_grad() ran after backward()"]),
                                         (False, ["call loss.backward() before opt.step()"])])
def test_critic_step_names_a_step_without_gradient(late, words):
    def step(critic, opt, real, fake, gp_weight):
        opt.zero_grad()
        loss = critic(fake.detach()).mean() - critic(real).mean()
        if late:
            loss.backward()
            opt.zero_grad()
        opt.step()
        return loss
    reject(checks.check_critic_step, step, "found no gradient", *words)


@pytest.mark.parametrize("fn, words", [
    (lambda x, m: x.reshape(m, -1), ["makes m = 2 rows"]),
    (lambda x, m: x.reshape(-1, m * x.shape[1]) if x.dim() > 2 else x.reshape(x.shape[0] // m, -1),
     ["x.shape[1] is the channel count"]),
    (lambda x, m: x.reshape(-1, m * 2), ["the 2 features of the toy data"]),
    (lambda x, m: x.reshape(x.shape[0] // m, m, *x.shape[1:]), ["flattened into one row"]),
], ids=["m-rows", "shape-1", "two-features", "not-flattened"])
def test_pack_names_how_its_shape_went_wrong(fn, words):
    reject(checks.check_pack, fn, *words)


# --- lesson 06: conditional GANs --------------------------------------------------------------------

def conditional_generator(combine):
    """The exercise's class with ``combine(self, z, y) -> the network's input`` as its forward."""
    class Generator(nn.Module):
        def __init__(self, latent_dim=64, num_classes=10, embed_dim=10):
            super().__init__()
            self.latent_dim, self.num_classes = latent_dim, num_classes
            self.embed = nn.Embedding(num_classes, embed_dim)
            self.net = nn.Sequential(nn.Linear(latent_dim + embed_dim, 32), nn.LeakyReLU(0.2),
                                     nn.Linear(32, 784), nn.Tanh())

        def forward(self, z, y):
            return self.net(combine(self, z, y)).view(z.shape[0], 1, 28, 28)
    return Generator


@pytest.mark.parametrize("combine", [
    lambda self, z, y: torch.cat([z, self.embed(y)], dim=1),
    lambda self, z, y: torch.cat((self.embed(y), z), 1),                        # the other order: also right
    lambda self, z, y: torch.cat([z, F.one_hot(y, num_classes=10).float()], -1),  # one-hot instead of the embedding
    lambda self, z, y: torch.hstack([z, self.embed.weight[y]]),
    lambda self, z, y: torch.cat([z, F.one_hot(y, 10).float().detach()], 1),   # a fixed code: nothing to learn
])
def test_conditional_generator_accepts(combine, capsys):
    checks.check_conditional_generator(conditional_generator(combine))
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("combine, words", [
    (lambda self, z, y: torch.cat([z, self.embed(torch.zeros_like(y))], 1), ["labels are ignored"]),
    (lambda self, z, y: torch.cat([z, self.embed(y.flip(0))], 1), ["another sample's label"]),
    (lambda self, z, y: torch.cat([z, self.embed(y[torch.randperm(len(y))])], 1), ["labels"]),  # shuffled apart
    (lambda self, z, y: torch.cat([z, self.embed(y).mean(0, keepdim=True).expand(len(y), -1)], 1), ["average"]),
    (lambda self, z, y: torch.cat([z, y.float().unsqueeze(1)], 1), ["one number", "self.embed(y)"]),
    (lambda self, z, y: torch.cat([z, F.one_hot(y).float()], 1), ["num_classes=10"]),
    (lambda self, z, y: torch.cat([z, self.embed(y)], 0), ["dim=1"]),
    (lambda self, z, y: z, ["labels never reached"]),
    (lambda self, z, y: torch.cat([z, y.float()[:, None].repeat(1, 10)], 1), ["a digit is a category"]),
    (lambda self, z, y: torch.cat([z, self.embed(y).detach()], 1), ["no gradient reaches self.embed", "grad"]),
])
def test_conditional_generator_rejects(combine, words):
    reject(checks.check_conditional_generator, conditional_generator(combine), *words)


def test_conditional_generator_rejects_a_flat_output():
    class Flat(conditional_generator(lambda self, z, y: torch.cat([z, self.embed(y)], 1))):
        def forward(self, z, y):
            return self.net(torch.cat([z, self.embed(y)], 1))
    reject(checks.check_conditional_generator, Flat, "(14, 1, 28, 28)")


@pytest.mark.parametrize("correct", [
    lambda f, psi, embed, y: psi(f).squeeze(1) + (embed(y) * f).sum(1),
    lambda f, psi, embed, y: psi(f) + (embed(y) * f).sum(1, keepdim=True),                 # (B, 1)
    lambda f, psi, embed, y: psi(f).flatten() + torch.einsum("bf,bf->b", embed.weight[y], f),
    lambda f, psi, embed, y: (psi(f).squeeze(-1) + torch.bmm(embed(y).unsqueeze(1), f.unsqueeze(2)).flatten()),
])
def test_projection_logit_accepts(correct, capsys):
    checks.check_projection_logit(correct)
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (lambda f, psi, embed, y: (embed(y) * f).sum(1), ["ψ(φ(x)) term is missing"]),
    (lambda f, psi, embed, y: psi(f).squeeze(1), ["inner product", "missing"]),
    (lambda f, psi, embed, y: psi(f).squeeze(1) + (f @ embed.weight.T).sum(1), ["all ten class embeddings"]),
    (lambda f, psi, embed, y: psi(f).squeeze(1) + (embed(y.flip(0)) * f).sum(1), ["another sample's class"]),
    (lambda f, psi, embed, y: psi(f).squeeze(1) + (embed(y) * f).mean(1), ["sum"]),
    (lambda f, psi, embed, y: psi(embed(y) * f).squeeze(1), ["ψ takes φ(x) alone"]),
    (lambda f, psi, embed, y: torch.sigmoid(psi(f).squeeze(1) + (embed(y) * f).sum(1)), ["sigmoid"]),
    (lambda f, psi, embed, y: psi(f).squeeze(1) + (embed.weight[:len(y)] * f).sum(1), ["requested classes"]),
    (lambda f, psi, embed, y: psi(f) + f @ embed.weight.T, ["every class"]),
    (lambda f, psi, embed, y: psi(f) + embed(y) * f, ["not summed"]),
    (lambda f, psi, embed, y: (psi(f).squeeze(1) + (embed(y) * f).sum(1)).detach(), ["gradient"]),
    (lambda f, psi, embed, y: psi(f) + (embed(y) * f).sum(1), ["(B, B)", "(B, 1) tensor to a (B,)"]),
    (lambda f, psi, embed, y: psi(f) + f @ embed(y).T, ["(B, B)", "diagonal"]),
    (lambda f, psi, embed, y: psi(f).squeeze(1) + (embed(y) * f).sum(0), ["over the batch", "dim=1"]),
    (lambda f, psi, embed, y: psi(f).squeeze(1) * (embed(y) * f).sum(1), ["multiplied", "adds them"]),
])
def test_projection_logit_rejects(wrong, words):
    reject(checks.check_projection_logit, wrong, *words)


def accuracy_by_loop(probs, requested):
    judged = probs.argmax(dim=-1)
    per = []
    for k in range(10):
        asked = requested == k
        per.append(float((judged[asked] == k).float().mean()))
    return float((judged == requested).float().mean()), per


def accuracy_numpy(probs, requested):
    import numpy as np
    hit = probs.numpy().argmax(1) == requested.numpy()
    return hit.mean(), np.array([hit[requested.numpy() == k].mean() for k in range(10)])


@pytest.mark.parametrize("correct", [
    accuracy_by_loop, accuracy_numpy,
    lambda p, r: ((p.argmax(1) == r).float().mean(),
                  torch.stack([(p.argmax(1)[r == k] == k).float().mean() for k in range(10)])),
])
def test_requested_accuracy_accepts(correct, capsys):
    checks.check_requested_accuracy(correct)
    assert "✔" in capsys.readouterr().out


def by_judged_label(p, r):
    judged = p.argmax(1)
    return (judged == r).float().mean(), torch.stack([(r[judged == k] == k).float().mean() for k in range(10)])


@pytest.mark.parametrize("wrong, words", [
    (lambda p, r: ((p.argmax(0) == r).float().mean(),
                   torch.stack([(p.argmax(0)[r == k] == k).float().mean() for k in range(10)])), ["wrong axis"]),
    (by_judged_label, ["grouped by the judge's label"]),
    (lambda p, r: (p[torch.arange(len(r)), r].mean(),
                   torch.stack([p[r == k, k].mean() for k in range(10)])), ["mean probability"]),
    (lambda p, r: ((p.argmax(1) == r).float().mean(),
                   torch.stack([((p.argmax(1) == r) & (r == k)).float().sum() / len(r) for k in range(10)])),
     ["divided by all N"]),
    (lambda p, r: tuple(100 * torch.as_tensor(v) for v in accuracy_by_loop(p, r)), ["percentages"]),
    (lambda p, r: (p.argmax(1) == r).float().mean(), ["a pair"]),
    (lambda p, r: ((p.argmax(1) == r).float().mean(), torch.zeros(9)), ["(10,)"]),
    (lambda p, r: (torch.tensor(accuracy_by_loop(p, r)[1]).mean(), accuracy_by_loop(p, r)[1]),   # right at N = 10
     ["mean of the ten per-digit shares", "all samples"]),
    (lambda p, r: ((p.argmax(1) == r).sum(), accuracy_by_loop(p, r)[1]), ["count of hits"]),
    (lambda p, r: ((p[torch.arange(len(r)), r] > 0.5).float().mean(),
                   [(p[r == k, k] > 0.5).float().mean() for k in range(10)]), ["most probable class"]),
    (lambda p, r: ((p.argmax(1) == r).float().mean(), torch.bincount(p.argmax(1), minlength=10) / len(r)),
     ["histogram", "asked for"]),
    (lambda p, r: ((p.argmax(1).sort().values == r.sort().values).float().mean(),
                   [(p.argmax(1).sort().values[r.sort().values == k] == k).float().mean() for k in range(10)]),
     ["same sample"]),
    (lambda p, r: tuple(reversed(accuracy_by_loop(p, r))), ["pair is reversed", "(overall, per_digit)"]),
])
def test_requested_accuracy_rejects(wrong, words):
    reject(checks.check_requested_accuracy, wrong, *words)


def test_confusion_judgment_accepts_the_pairs_in_any_order_and_the_fix_by_letter(capsys):
    checks.check_confusion_judgment([(9, 4), (4, 9), (5, 3), (7, 9)], "B")
    checks.check_confusion_judgment([[4, 9], [9, 4], [7, 9], [5, 3]], "fix b")
    assert capsys.readouterr().out.count("✔") == 2


def test_confusion_judgment_accepts_numpy_and_tensor_integers(capsys):
    import numpy as np
    right = [(4, 9), (9, 4), (7, 9), (5, 3)]
    checks.check_confusion_judgment([(np.int64(a), np.int32(b)) for a, b in right], "B")
    checks.check_confusion_judgment([(torch.tensor(a), torch.tensor(b)) for a, b in right], "B")
    checks.check_confusion_judgment(torch.tensor(right), "B")      # (K, 2), as torch.nonzero gives
    checks.check_confusion_judgment(list(np.array(right)), "B")    # rows of an array
    assert capsys.readouterr().out.count("✔") == 4


@pytest.mark.parametrize("confused, fix, words", [
    ([(4, 9), (9, 4), (7, 9)], "B", ["missing (5, 3)", "21%"]),
    ([(4, 9), (9, 4), (7, 9), (5, 3), (3, 5)], "B", ["not confused above 10 %", "(3, 5)", "row first"]),
    ([(4, 9), (9, 4), (7, 9), (5, 3)], "A", ["every row", "diagonal"]),
    ([(4, 9), (9, 4), (7, 9), (5, 3)], "C", ["z carries the style"]),
    ([(4, 9), (9, 4), (7, 9), (5, 3)], "D", ["99 %"]),
    ([(4, 9), (9, 4), (7, 9), (5, 3)], "E", ["none of the options"]),
    ("4 and 9", "B", ["list of (asked, judged) pairs"]),
    ([(4, 9, 1)], "B", ["pair of digits"]),
    ([(4.0, 9.0), (9, 4), (7, 9), (5, 3)], "B", ["pair of digits"]),
    ([(True, 9), (9, 4), (7, 9), (5, 3)], "B", ["pair of digits"]),
    (None, "B", ["your confused is None: set it to"]),
    ("", "B", ["your confused is the string ''; it should be a list"]),
    ([(4, 9), (9, 4), (7, 9), (5, 3), (4, 4)], "B", ["on the diagonal", "(4, 4)"]),
])
def test_confusion_judgment_rejects(confused, fix, words):
    with pytest.raises(AssertionError) as info:
        checks.check_confusion_judgment(confused, fix)
    for word in words:
        assert word.lower() in str(info.value).lower(), f"hint should mention {word!r}: {info.value}"


# --- judgment exercises (lessons 00-05): the answer is a decision, checked with evidence -------------

#: Each letter-answer check: its right letter, and for each wrong letter words of its evidence.
LETTER_DECISIONS = [
    (checks.check_tanh_pipeline, "B", {"A": ["[0, 1]", "free tell"], "C": ["[-0.424, 2.821]", "mean"]}),
    (checks.check_loss_when_d_wins, "C", {"A": ["1.0e-04", "as small as D(G(z))"], "B": ["1.0e-04", "shrinks"]}),
    (checks.check_run_to_continue, "B", {"A": ["lowest single point", "9.2", "26.4", "+8.8"],
                                         "C": ["flat", "+0.6", "-4.3"]}),
    (checks.check_lipschitz_critic, "C", {"A": ["largest 6.58", "96%"], "B": ["average 1.00", "largest 1.85", "61%"]}),
]


def test_choice_reads_case_spaces_punctuation_and_synonyms():
    options = {"discriminator wins": ["D wins"], "collapse": ["mode collapse"]}
    for said in ("D wins", "d-wins", " DWINS! ", "Discriminator_Wins", "the discriminator wins"[4:]):
        assert core.choice(said, "x", options) == "discriminator wins"
    assert core.choice("Mode Collapse.", "x", options) == "collapse"
    for wrong, words in [(None, ["is None", "'discriminator wins', 'collapse'"]), (2, ["the int 2", "a string"]),
                         (["collapse"], ["a list of 1 item"]), ("healthy", ["names none of the options"])]:
        with pytest.raises(AssertionError) as info:
            core.choice(wrong, "your verdict", options)
        assert all(word in str(info.value) for word in words), str(info.value)


def test_check_choice_names_the_evidence_against_the_option_chosen():
    evidence = [core.KnownAnswer("A is at 3", "A"), core.KnownAnswer("C is at 7", "C")]
    assert core.check_choice("b", "your pick", {"A": [], "B": [], "C": []}, "B", evidence) == "B"
    with pytest.raises(AssertionError, match="your pick is 'c'.*\nHint: C is at 7$"):
        core.check_choice("c", "your pick", {"A": [], "B": [], "C": []}, "B", evidence)


@pytest.mark.parametrize("check, right, wrong", [pytest.param(*d, id=d[0].__name__) for d in LETTER_DECISIONS])
def test_letter_decisions_accept_the_right_letter_in_any_spelling(check, right, wrong, capsys):
    noun = {"check_tanh_pipeline": "pipeline", "check_loss_when_d_wins": "loss", "check_run_to_continue": "run",
            "check_lipschitz_critic": "critic"}[check.__name__]
    spellings = (right, right.lower(), f" {right} ", f"'{right}'", f"{noun} {right.lower()}", f"{noun.title()} {right}.",
                 f"option {right}")
    for said in spellings:
        check(said)
    assert capsys.readouterr().out.count("✔") == len(spellings)


@pytest.mark.parametrize("check, right, wrong", [pytest.param(*d, id=d[0].__name__) for d in LETTER_DECISIONS])
def test_each_wrong_letter_is_answered_with_its_evidence(check, right, wrong):
    letters = {"A", "B", "C"}
    assert set(wrong) == letters - {right}, "every wrong option needs its evidence"
    for letter, words in wrong.items():
        message = reject(check, letter.lower(), "Hint:", *words)
        assert any(ch.isdigit() for ch in message.split("Hint:")[1]), "the evidence has numbers"
    reject(check, "D", "names none of the options")
    reject(check, None, "is None")


def test_exhibits_are_deterministic_and_leave_the_random_state_alone():
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    first = (lesson01.three_generator_losses(), lesson02.three_runs(), lesson03.three_fd_curves(),
             lesson05.three_critics())
    assert torch.equal(torch.rand(3), expected)
    second = (lesson02.three_runs(), lesson03.three_fd_curves(), lesson05.three_critics())
    assert [r["history"].rows for r in first[1].values()] == [r["history"].rows for r in second[0].values()]
    assert first[2] == second[1]
    for (name, a), b in zip(first[3][0].items(), second[2][0].values()):
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values())), name


def test_the_exhibits_support_their_answers():
    """The right answer follows from the exhibit by the lesson's criterion, and only that one."""
    ranges = lesson00._pipeline_ranges()
    assert [name for name, r in ranges.items() if r == pytest.approx((-1.0, 1.0))] == ["B"]
    alive = [name for name, loss in lesson01.three_generator_losses().items()
             if lesson01._gradient_at(loss, 1e-4) > 0.5]
    assert alive == ["C"]
    runs = lesson02.three_runs()
    wins = [name for name, run in runs.items()
            if all(row["d_real"] >= 0.95 and row["d_fake"] <= 0.05 for row in run["history"].rows[-5:])]
    assert wins == ["B"]
    two_digits = [name for name, run in runs.items() if run["histogram"].topk(2).values.sum() > 0.8]
    assert two_digits == ["A"] and runs["A"]["confident_share"] > 0.8 > runs["B"]["confident_share"]
    assert all(abs(float(run["histogram"].sum()) - 1) < 1e-6 for run in runs.values())
    facts = {name: lesson03._fd_facts(curve) for name, curve in lesson03.three_fd_curves().items()}
    assert [name for name, f in facts.items() if f["change"] < -2] == ["B"]   # falling by more than the noise
    assert min(facts, key=lambda name: facts[name]["best"]) == "A"            # the trap: A's lowest point
    critics, points = lesson05.three_critics()
    largest = {name: float(lesson05.gradient_norms(critic, points).max()) for name, critic in critics.items()}
    assert [name for name, value in largest.items() if value <= 1] == ["C"]
    assert float(lesson05.gradient_norms(critics["B"], points).mean()) == pytest.approx(1.0, rel=1e-4)


def test_run_verdicts_accept_a_dict_or_a_list_in_any_spelling(capsys):
    checks.check_run_verdicts({"A": "collapse", "B": "discriminator wins", "C": "healthy"})
    checks.check_run_verdicts({"c": "Healthy", "a": "Mode collapse", "b": "D wins"})
    checks.check_run_verdicts(["mode-collapse", "D WINS", "healthy."])
    checks.check_run_verdicts(("collapsed", "the discriminator wins", "ok"))
    checks.check_run_verdicts({"run A": "mode collapse", "Run B": "discriminator winning", "run c": "stable"})
    assert capsys.readouterr().out.count("✔") == 5


@pytest.mark.parametrize("verdicts, words", [
    (["healthy", "D wins", "healthy"], ["run A", "calm as a healthy run", "91%", "two digits (1 and 7)", "histogram"]),
    (["D wins", "D wins", "healthy"], ["run A", "D(x) 0.532", "not winning"]),
    (["collapse", "healthy", "healthy"], ["run B", "D(x) 0.982", "D(G(z)) 0.014", "6%"]),
    (["collapse", "collapse", "healthy"], ["run B", "discriminator winning", "sorts noise"]),
    (["collapse", "D wins", "D wins"], ["run C", "D(x) 0.589", "not winning", "8% to 12%"]),
    (["collapse", "D wins", "collapse"], ["run C", "every digit is drawn", "8% to 12%"]),
    (["collapse", "D wins", "oscillating"], ["run C", "names none of the options"]),
    (["collapse", "D wins"], ["a list of 2 items", "three verdicts"]),
    ({"A": "collapse", "B": "D wins"}, ["keys 'A', 'B' and 'C'"]),
    ({"A": "collapse", "B": "D wins", "C": "healthy", "D": "healthy"}, ["keys 'A', 'B' and 'C'"]),
    ("collapse, D wins, healthy", ["the string", "a dict"]),
    (None, ["None"]),
])
def test_run_verdicts_reject_with_the_runs_numbers(verdicts, words):
    reject(checks.check_run_verdicts, verdicts, *words)


def test_coverage_prediction_is_graded_against_published_results_and_shows_the_run(capsys):
    checks.check_coverage_prediction("PacGAN2")
    checks.check_coverage_prediction("packed", {"GAN": 14.0, "PacGAN2": 19.5})
    checks.check_coverage_prediction("pacgan 2", {"GAN": 14.0, "PacGAN2": 9.5})  # a short run may disagree
    out = capsys.readouterr().out
    assert out.count("✔") == 3 and "17.3 ± 0.8" in out and "23.8 ± 0.7" in out
    assert "GAN 14.0, PacGAN2 19.5" in out and "Your run agrees" in out and "does not show it" in out


@pytest.mark.parametrize("prediction, measured, words", [
    ("GAN", None, ["17.3 ± 0.8", "23.8 ± 0.7", "20.2 ± 1.6", "24.8 ± 0.4", "pair"]),
    ("ordinary GAN", {"GAN": 14.0, "PacGAN2": 19.5}, ["packing covers more", "GAN 14.0, PacGAN2 19.5"]),
    ("same", {"GAN": 14.0, "PacGAN2": 19.5}, ["many standard errors", "17.3 ± 0.8"]),
    ("WGAN", None, ["names none of the options"]),
    ("PacGAN2", [14.0, 19.5], ["measured is a list", "{'GAN': modes, 'PacGAN2': modes}"]),
])
def test_coverage_prediction_rejects_with_the_evidence(prediction, measured, words):
    with pytest.raises(AssertionError) as info:
        checks.check_coverage_prediction(prediction, measured)
    for word in words:
        assert word.lower() in str(info.value).lower(), f"message should mention {word!r}: {info.value}"


# --- lesson 07: judging a GAN ---------------------------------------------------------------------

from gancourse.checks import lesson07  # noqa: E402


def precision_by_sorting(real, fake, k):
    radii = torch.cdist(real, real).sort(dim=1).values[:, k]  # column 0 is the 0 to itself
    return (torch.cdist(fake, real) < radii).any(1).float().mean().item()


def precision_numpy_loops(real, fake, k):
    import numpy as np
    r, f = real.numpy().astype(np.float64), fake.numpy().astype(np.float64)
    radii = [sorted(np.linalg.norm(r - r[i], axis=1))[k] for i in range(len(r))]
    inside = [any(np.linalg.norm(x - r[i]) < radii[i] for i in range(len(r))) for x in f]
    return np.mean(inside)


def kid_masked(x, y):
    d = x.shape[1]
    def within(a):
        k = (a @ a.T / d + 1) ** 3
        off = ~torch.eye(len(a), dtype=torch.bool)
        return k[off].mean()
    return within(x) + within(y) - 2 * ((x @ y.T / d + 1) ** 3).mean()


def kid_float32_loops(x, y):
    import itertools
    x, y = x.float(), y.float()
    k = lambda a, b: (float(a @ b) / x.shape[1] + 1) ** 3  # noqa: E731
    xx = sum(k(a, b) for a, b in itertools.permutations(x, 2)) / (len(x) * (len(x) - 1))
    yy = sum(k(a, b) for a, b in itertools.permutations(y, 2)) / (len(y) * (len(y) - 1))
    return xx + yy - 2 * sum(k(a, b) for a in x for b in y) / (len(x) * len(y))


def bootstrap_torch_loop(values, n_boot, level, generator):
    means = torch.stack([values[torch.randint(len(values), (len(values),), generator=generator)].mean()
                         for _ in range(n_boot)])
    return torch.quantile(means, torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=means.dtype))


def bootstrap_numpy(values, n_boot, level, generator):
    import numpy as np
    idx = torch.randint(len(values), (n_boot, len(values)), generator=generator).numpy()
    means = values.numpy()[idx].mean(1)
    return list(np.percentile(means, [50 * (1 - level), 50 * (1 + level)]))


def bootstrap_sorted(values, n_boot, level, generator):
    means = sorted(float(values[torch.randint(len(values), (len(values),), generator=generator)].mean())
                   for _ in range(n_boot))
    tail = int(n_boot * (1 - level) / 2)
    return means[tail], means[n_boot - 1 - tail]


@pytest.mark.parametrize("check, fn", [
    (checks.check_knn_precision, precision_by_sorting), (checks.check_knn_precision, precision_numpy_loops),
    (checks.check_knn_precision, lambda real, fake, k: lesson07.metrics.prdc(real, fake, k)["precision"]),
    (checks.check_kid, kid_masked), (checks.check_kid, kid_float32_loops),
    (checks.check_bootstrap_interval, bootstrap_torch_loop), (checks.check_bootstrap_interval, bootstrap_numpy),
    (checks.check_bootstrap_interval, bootstrap_sorted),
])
def test_lesson07_checks_accept_correct_answers_in_several_styles(check, fn, capsys):
    check(fn)
    assert "✔" in capsys.readouterr().out


@pytest.mark.parametrize("check, catalogue", [(checks.check_knn_precision, lesson07.PRECISION_MISTAKES),
                                              (checks.check_kid, lesson07.KID_MISTAKES)], ids=["precision", "kid"])
def test_lesson07_each_catalogued_mistake_gets_its_own_hint(check, catalogue):
    hints = [answer.hint for answer in catalogue]
    assert len(set(hints)) == len(hints)
    for answer in catalogue:
        assert_hint(check, answer.produce, answer.hint)


def test_lesson07_each_bootstrap_mistake_gets_its_own_hint():
    hints = [answer.hint for answer in lesson07.BOOTSTRAP_MISTAKES]
    assert len(set(hints)) == len(hints)
    for answer in lesson07.BOOTSTRAP_MISTAKES:
        assert_hint(checks.check_bootstrap_interval,
                    lambda values, n_boot, level, generator, a=answer: a.produce(values, n_boot, level), answer.hint)


def test_lesson07_precision_probes_have_no_ties_but_the_edge_probe():
    """< and <= agree on every probe but the last: no fake-to-real distance within 1e-4 of that real
    sample's radius. The last puts fake samples exactly on a ball's edge (in float32 too), where only
    < is right."""
    *others, edge = lesson07._precision_cases()
    for _, real, fake, k in others:
        radii = lesson07.metrics.knn_radii(real, k)
        gaps = (torch.cdist(fake.double(), real.double()) - radii).abs()
        assert gaps.min() > 1e-4
    _, real, fake, k = edge
    radii = torch.cdist(real, real).sort(dim=1).values[:, k]  # float32, as a learner computes them
    d = torch.cdist(fake, real)
    assert bool((d == radii).any()) and (d < radii).any(1).float().mean() < (d <= radii).any(1).float().mean()


def test_lesson07_precision_names_edge_coverage_density_topk_and_percent():
    """Float32 answers as a learner writes them, each with its own hint; recall, coverage and density
    are all 1 on the first (small) probe, so the other probes tell them apart."""
    def radii(real, k):
        return torch.cdist(real, real).kthvalue(k + 1, dim=1).values

    answers = {
        "strictly": lambda real, fake, k: (torch.cdist(fake, real) <= radii(real, k)).any(1).float().mean(),
        "this is recall": lambda real, fake, k: (torch.cdist(real, fake) < radii(fake, k)).any(1).float().mean(),
        "this is coverage": lambda real, fake, k: (torch.cdist(real, fake).min(1).values
                                                   < radii(real, k)).float().mean(),
        "this is density": lambda real, fake, k: (torch.cdist(fake, real) < radii(real, k)).sum(1).float().mean() / k,
        "largest=False": lambda real, fake, k: (torch.cdist(fake, real) < torch.cdist(real, real).topk(k + 1, dim=1)
                                                .values[:, -1]).any(1).float().mean(),
        "percentage": lambda real, fake, k: 100 * (torch.cdist(fake, real) < radii(real, k)).any(1).float().mean(),
    }
    for words, answer in answers.items():
        message = reject(checks.check_knn_precision, answer, words)
        others = [w for w in answers if w != words]
        assert not any(f"Hint: {w}" in message for w in others), message


def test_lesson07_kid_has_a_negative_probe_and_names_the_clamp():
    assert min(lesson07.metrics.mmd2_unbiased(x, y) for _, x, y in lesson07._kid_cases()) < -0.01
    clamped = lambda x, y: torch.clamp(lesson07.metrics.mmd2_unbiased(x, y) * torch.ones(()), min=0)  # noqa: E731
    message = reject(checks.check_kid, clamped, "clamped at 0", "below 0")
    assert "square root" not in message
    reject(checks.check_kid, lambda x, y: max(lesson07.metrics.mmd2_unbiased(x, y), 0.0) ** 0.5,
           "this is MMD, the square root")
    reject(checks.check_kid, lambda x, y: torch.tensor(lesson07.metrics.mmd2_unbiased(x, y)).sqrt(), "NaN")


def test_lesson07_kid_names_samples_for_d_poly_mmd_cross_diagonal_and_gaussian():
    def kernel(a, b):
        return (a @ b.T / a.shape[1] + 1) ** 3

    def within(k):
        return (k.sum() - k.trace()) / (len(k) * (len(k) - 1))

    def by_samples(x, y):
        k = lambda a, b: (a @ b.T / len(a) + 1) ** 3  # noqa: E731
        return within(k(x, x)) + within(k(y, y)) - 2 * k(x, y).mean()

    def poly_mmd(x, y):  # torchmetrics' formula, written for m = n
        m = len(x)
        k_xx, k_yy = kernel(x, x), kernel(y, y)
        return (k_xx.sum() - k_xx.trace() + k_yy.sum() - k_yy.trace()) / (m * (m - 1)) - 2 * kernel(x, y).sum() / m ** 2

    def cross_diagonal(x, y):
        k = kernel(x, y)
        cross = (k.sum() - k.diagonal().sum()) / (k.numel() - min(k.shape))
        return within(kernel(x, x)) + within(kernel(y, y)) - 2 * cross

    def gaussian(x, y):
        k = lambda a, b: torch.exp(-torch.cdist(a, b) ** 2 / 2)  # noqa: E731
        return within(k(x, x)) + within(k(y, y)) - 2 * k(x, y).mean()

    reject(checks.check_kid, by_samples, "divides by the number of samples")
    reject(checks.check_kid, poly_mmd, "poly_mmd", "m ≠ n")
    reject(checks.check_kid, cross_diagonal, "keeps every pair")
    reject(checks.check_kid, gaussian, "Gaussian", "polynomial")


def test_lesson07_bootstrap_needs_the_generator_and_the_pair():
    def global_rng(values, n_boot, level, generator):
        return bootstrap_torch_loop(values, n_boot, level, None)
    state = torch.get_rng_state()
    reject(checks.check_bootstrap_interval, global_rng, "same generator seed", "generator=generator")
    assert torch.equal(torch.get_rng_state(), state), "the check leaves torch's global random state as it was"
    reject(checks.check_bootstrap_interval, lambda v, b, level, g: (1.0, 2.0, 3.0), "a tuple of 3", "(low, high)")
    reject(checks.check_bootstrap_interval, lambda v, b, level, g: v.clamp_(max=1.0) and (0.0, 1.0), "in place")


def test_lesson07_bootstrap_needs_the_generator_given_to_drive_it():
    """Reproducible from a seed, and still wrong: the generator given is ignored, or drives the
    global one, or is seeded again inside."""
    def own_generator(values, n_boot, level, generator):
        return bootstrap_torch_loop(values, n_boot, level, torch.Generator().manual_seed(0))

    def global_seeded_from_it(values, n_boot, level, generator):
        torch.manual_seed(generator.initial_seed())
        return bootstrap_torch_loop(values, n_boot, level, None)

    def seeded_again(values, n_boot, level, generator):
        return bootstrap_torch_loop(values, n_boot, level, generator.manual_seed(0))

    reject(checks.check_bootstrap_interval, own_generator, "never drew", "generator=generator")
    reject(checks.check_bootstrap_interval, global_seeded_from_it, "never drew", "generator=generator")
    reject(checks.check_bootstrap_interval, seeded_again, "seeds 1 and 2", "generator=generator")


def test_lesson07_bootstrap_tells_narrow_from_empty_and_names_level_and_basic_mistakes():
    def draws(values, n_boot, generator, shape=None):
        return values[torch.randint(len(values), shape or (n_boot, len(values)), generator=generator)].mean(1)

    def quantiles(means, low, high):
        return torch.quantile(means, torch.tensor([low, high], dtype=means.dtype))

    def tails(means, level):
        return quantiles(means, (1 - level) / 2, (1 + level) / 2)

    def transposed(v, b, level, g):
        return tails(draws(v, b, g, (len(v), b)), level)

    def empty(v, b, level, g):
        return quantiles(v[torch.randperm(len(v), generator=g)].mean().repeat(b), 0.1, 0.9)

    def fixed(v, b, level, g):
        return quantiles(draws(v, b, g), 0.025, 0.975)

    def of_values(v, b, level, g):
        return tails(v, level)

    def basic(v, b, level, g):
        return 2 * v.mean() - tails(draws(v, b, g), level).flip(0)

    assert "without replacement" not in reject(checks.check_bootstrap_interval, transposed, "N means of n_boot values")
    reject(checks.check_bootstrap_interval, empty, "drawn without replacement")
    reject(checks.check_bootstrap_interval, fixed, "level = 0.8", "0.025 and 0.975 whatever the level")
    reject(checks.check_bootstrap_interval, of_values, "quantiles of the values themselves")
    reject(checks.check_bootstrap_interval, basic, "basic (reverse percentile)")


def test_lesson07_precision_and_kid_reject_in_place_and_wrong_kinds():
    reject(checks.check_knn_precision, lambda real, fake, k: (real.mul_(2), 0.5)[1], "in place", "unchanged")
    reject(checks.check_kid, lambda x, y: (x.add_(1), 0.0)[1], "in place", "unchanged")
    reject(checks.check_kid, lambda x, y: torch.zeros(3), "(a float or a 0-d tensor)")


def test_metric_judgment_accepts_letters_in_any_spelling(capsys):
    checks.check_metric_judgment("D", "B", "C")
    checks.check_metric_judgment("generator d", " b ", "Table C.")
    assert capsys.readouterr().out.count("✔") == 2


@pytest.mark.parametrize("answer, words", [
    (("B", "D", "C"), ["your `collapsed`", "precision and density", "0.716"]),
    (("A", "B", "C"), ["your `collapsed`", "all the variety", "0.938"]),
    (("D", "A", "C"), ["your `noisy`", "where real data lies"]),
    (("D", "B", "A"), ["your `memorising`", "ratio 0", "0.99"]),
    (("D", "B", "D"), ["your `memorising`", "lost recall and coverage"]),
    (("D", "B", "E"), ["names none of the options"]),
    (("D", "B", None), ["is None"]),
])
def test_metric_judgment_rejects_with_the_tables_numbers(answer, words):
    with pytest.raises(AssertionError) as info:
        checks.check_metric_judgment(*answer)
    for word in words:
        assert word.lower() in str(info.value).lower(), f"message should mention {word!r}: {info.value}"


def test_metric_judgment_exhibit_supports_its_answer():
    """By the lesson's reading, and only for the right letters: collapse = high precision, low
    recall; noise = low precision and density; memorising = real-like metrics with nn_ratio 0."""
    rows = lesson07.four_generators()
    collapsed = [n for n, r in rows.items() if r["precision"] > 0.9 and r["recall"] < 0.5]
    noisy = [n for n, r in rows.items() if r["precision"] < 0.8 and r["density"] < 0.5]
    memorising = [n for n, r in rows.items() if r["recall"] > 0.9 and r["nn_ratio"] < 0.1]
    assert (collapsed, noisy, memorising) == (["D"], ["B"], ["C"])
    assert "nn_ratio" in lesson07.metric_table() and rows is not lesson07.FOUR_GENERATORS


# --- lesson 08: a modern recipe ---------------------------------------------------------------------

from gancourse.checks import lesson08  # noqa: E402
from gancourse import losses as course_losses  # noqa: E402


def ema_mul_add(ema_model, model, decay):
    with torch.no_grad():
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p_ema.mul_(decay).add_(p, alpha=1 - decay)
        for b_ema, b in zip(ema_model.buffers(), model.buffers()):
            b_ema.copy_(b)


def ema_lerp_named(ema_model, model, decay):
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    with torch.no_grad():
        for name, p_ema in ema_model.named_parameters():
            p_ema.lerp_(params[name], 1 - decay)
        for name, b_ema in ema_model.named_buffers():
            b_ema.copy_(buffers[name])


def ema_state_dict(ema_model, model, decay):
    names = {name for name, _ in model.named_parameters()}
    own = model.state_dict()
    with torch.no_grad():
        for name, value in ema_model.state_dict().items():
            if name in names:
                value.copy_(decay * value + (1 - decay) * own[name])
            else:
                value.copy_(own[name])


def ema_foreach(ema_model, model, decay):
    with torch.no_grad():
        mine, theirs = list(ema_model.parameters()), list(model.parameters())
        torch._foreach_mul_(mine, decay)
        torch._foreach_add_(mine, theirs, alpha=1 - decay)
        for b_ema, b in zip(ema_model.buffers(), model.buffers()):
            b_ema.copy_(b)


def ema_data(ema_model, model, decay):
    for p_ema, p in zip(ema_model.parameters(), model.parameters()):
        p_ema.data = decay * p_ema.data + (1 - decay) * p.data
    for b_ema, b in zip(ema_model.buffers(), model.buffers()):
        b_ema.data.copy_(b.data)
    return ema_model


def ema_load_state_dict(ema_model, model, decay):
    params = dict(model.named_parameters())
    new = {name: (decay * value + (1 - decay) * params[name].detach()) if name in params else model.state_dict()[name]
           for name, value in ema_model.state_dict().items()}
    ema_model.load_state_dict(new)


@pytest.mark.parametrize("fn", [ema_mul_add, ema_lerp_named, ema_state_dict, ema_foreach, ema_data,
                                ema_load_state_dict, lambda e, m, d: lesson08.training.ema_update_(e, m, d)])
def test_lesson08_ema_update_accepts_correct_answers_in_several_styles(fn, capsys):
    checks.check_ema_update(fn)
    assert "✔" in capsys.readouterr().out


def ema_with(params="right", buffers="copy", counter="copy", no_grad=True):
    """An EMA update with its parameters, float buffers or integer counter done another way."""
    def update(ema_model, model, decay):
        context = torch.no_grad() if no_grad else __import__("contextlib").nullcontext()
        with context:
            for p_ema, p in zip(ema_model.parameters(), model.parameters()):
                if params == "right":
                    p_ema.mul_(decay).add_(p, alpha=1 - decay)
                elif params == "swapped":
                    p_ema.lerp_(p, decay)
                elif params == "copied":
                    p_ema.copy_(p)
                elif params == "mul only":
                    p_ema.mul_(decay)
                elif params == "add only":
                    p_ema.add_(p, alpha=1 - decay)
                elif params == "rebound":
                    p_ema = decay * p_ema + (1 - decay) * p  # noqa: F841
            for b_ema, b in zip(ema_model.buffers(), model.buffers()):
                if not b.is_floating_point():
                    if counter == "copy":
                        b_ema.copy_(b)
                    elif counter == "lerp":
                        b_ema.lerp_(b, 1 - decay)
                elif buffers == "copy":
                    b_ema.copy_(b)
                elif buffers in ("average", "lerp"):
                    b_ema.lerp_(b, 1 - decay)
    return update


def test_lesson08_each_ema_mistake_gets_its_own_hint():
    catalogue = lesson08.EMA_PARAMETER_MISTAKES + lesson08.EMA_BUFFER_MISTAKES
    hints = [answer.hint for answer in catalogue]
    assert len(set(hints)) == len(hints)
    mistaken = [ema_with(params="swapped"), ema_with(params="copied"), ema_with(params="mul only"),
                ema_with(params="add only"), ema_with(params="rebound"),
                ema_with(buffers="average"), ema_with(buffers="untouched")]
    for answer, fn in zip(catalogue, mistaken, strict=True):
        assert_hint(checks.check_ema_update, fn, answer.hint)


def test_lesson08_ema_names_the_counter_the_graph_and_the_model():
    assert_hint(checks.check_ema_update, ema_with(counter="skip"), lesson08.COUNTER_HINT)
    message = assert_hint(checks.check_ema_update, ema_with(counter="lerp"), lesson08.COUNTER_HINT)
    assert "NotImplementedError at line" in message and "b_ema.lerp_(b, 1 - decay)" in message
    reject(checks.check_ema_update, ema_with(no_grad=False), "autograd graph", "torch.no_grad()")
    reject(checks.check_ema_update, lambda ema_model, model, decay: ema_mul_add(model, ema_model, decay),
           "changed `model`", "not a step of the optimizer")

    def training_weights_moved(ema_model, model, decay):  # the average written into the model being trained
        with torch.no_grad():
            for p_ema, p in zip(ema_model.parameters(), model.parameters()):
                p.copy_(decay * p_ema + (1 - decay) * p)
    reject(checks.check_ema_update, training_weights_moved, "changed `model`")

    def model_moved_outside_no_grad(ema_model, model, decay):
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p.mul_(decay).add_(p_ema, alpha=1 - decay)
    reject(checks.check_ema_update, model_moved_outside_no_grad, "a parameter of `model`", "order of the arguments")


def test_lesson08_ema_must_update_in_place():
    def new_model(ema_model, model, decay):
        import copy
        average = copy.deepcopy(ema_model)
        ema_mul_add(average, model, decay)
        return average

    def rebinding(ema_model, model, decay):
        for p_ema, p in zip(ema_model.parameters(), model.parameters()):
            p_ema = decay * p_ema + (1 - decay) * p  # noqa: F841

    def new_parameters(ema_model, model, decay):
        for module_ema, module in zip(ema_model.modules(), model.modules()):
            for name, p in list(module.named_parameters(recurse=False)):
                average = decay * getattr(module_ema, name).detach() + (1 - decay) * p.detach()
                setattr(module_ema, name, nn.Parameter(average, requires_grad=False))
        for b_ema, b in zip(ema_model.buffers(), model.buffers()):
            b_ema.copy_(b)

    reject(checks.check_ema_update, new_model, "unchanged", "returned a module", "in place", "p_ema.mul_(decay)")
    reject(checks.check_ema_update, rebinding, "unchanged", "rebinds the name")
    reject(checks.check_ema_update, new_parameters, "replaced ema_model's Parameter objects")


def test_lesson08_ema_probes_leave_the_global_random_state_alone():
    state = torch.get_rng_state()
    checks.check_ema_update(ema_mul_add)
    ema_model, model = lesson08._ema_pair(0)
    assert torch.equal(torch.get_rng_state(), state)
    assert not any(p.requires_grad for p in ema_model.parameters())
    assert int(ema_model[1].num_batches_tracked) != int(model[1].num_batches_tracked)


def r1_autograd(discriminator, x_real, x_fake, gamma):
    x = x_real.detach().requires_grad_(True)
    (grads,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
    return gamma / 2 * grads.pow(2).flatten(1).sum(1).mean()


def r1_backward(discriminator, x_real, x_fake, gamma):
    x = x_real.detach().clone().requires_grad_(True)
    discriminator(x).sum().backward(create_graph=True)
    penalty = 0.5 * gamma * (x.grad ** 2).sum(dim=[1, 2, 3]).mean()
    discriminator.zero_grad(set_to_none=True)
    return penalty


def r1_grad_outputs(discriminator, x_real, x_fake, gamma):
    x = x_real.clone().requires_grad_()
    scores = discriminator(x).view(-1)
    (grads,) = torch.autograd.grad(scores, x, grad_outputs=torch.ones_like(scores), create_graph=True)
    return gamma * 0.5 * grads.view(len(x), -1).norm(dim=1).pow(2).mean()


@pytest.mark.parametrize("fn", [r1_autograd, r1_backward, r1_grad_outputs,
                                lambda d, xr, xf, g: course_losses.r1_penalty(d, xr, g)])
def test_lesson08_r1_penalty_accepts_correct_answers_in_several_styles(fn, capsys):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # backward(create_graph=True) warns about a reference cycle
        checks.check_r1_penalty(fn)
    assert "✔" in capsys.readouterr().out


def test_lesson08_each_r1_mistake_gets_its_own_hint():
    hints = [answer.hint for answer in lesson08.R1_MISTAKES]
    assert len(set(hints)) == len(hints)
    for answer in lesson08.R1_MISTAKES:
        assert_hint(checks.check_r1_penalty, answer.produce, answer.hint)


def test_lesson08_r1_names_create_graph_and_interpolates_written_by_hand():
    def no_create_graph(discriminator, x_real, x_fake, gamma):
        x = x_real.detach().requires_grad_(True)
        (grads,) = torch.autograd.grad(discriminator(x).sum(), x)
        return gamma / 2 * grads.pow(2).flatten(1).sum(1).mean()

    def interpolates(discriminator, x_real, x_fake, gamma, swap=False):
        eps = torch.rand(x_real.size(0), 1, 1, 1)
        if swap:
            eps = 1 - eps
        x = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
        (grads,) = torch.autograd.grad(discriminator(x).sum(), x, create_graph=True)
        return gamma / 2 * grads.pow(2).flatten(1).sum(1).mean()

    def detached(discriminator, x_real, x_fake, gamma):
        return r1_autograd(discriminator, x_real, x_fake, gamma).detach().requires_grad_(True)

    reject(checks.check_r1_penalty, no_create_graph, "no gradient", "create_graph=True")
    assert_hint(checks.check_r1_penalty, interpolates, lesson08.INTERPOLATES_HINT)
    message = assert_hint(checks.check_r1_penalty, lambda *a: interpolates(*a, swap=True), lesson08.INTERPOLATES_HINT)
    assert "changes from one call to the next" in message
    reject(checks.check_r1_penalty, detached, "no gradient reaches D's weights")
    reject(checks.check_r1_penalty, lambda d, xr, xf, g: r1_autograd(d, xr, xf, g).item(), "not a tensor")
    reject(checks.check_r1_penalty, lambda d, xr, xf, g: (xr.mul_(2), r1_autograd(d, xr, xf, g))[1], "in place")
    state = torch.get_rng_state()
    reject(checks.check_r1_penalty, interpolates)
    assert torch.equal(torch.get_rng_state(), state), "the check leaves torch's global random state as it was"


def translate_pad_slice(x, ty, tx):
    batch, _, height, width = x.shape
    pad = max(height, width) // 8
    padded = F.pad(x, [pad, pad, pad, pad])
    return torch.stack([padded[b, :, pad + int(ty[b]):pad + int(ty[b]) + height,
                               pad + int(tx[b]):pad + int(tx[b]) + width] for b in range(batch)])


def translate_indexing(x, ty, tx):
    batch, _, height, width = x.shape
    rows = torch.arange(height)[None, :] + ty[:, None]                       # (B, H)
    cols = torch.arange(width)[None, :] + tx[:, None]                        # (B, W)
    padded = F.pad(x, [1, 1, 1, 1])
    r, c = (rows + 1).clamp(0, height + 1), (cols + 1).clamp(0, width + 1)
    return padded[torch.arange(batch)[:, None, None], :, r[:, :, None], c[:, None, :]].permute(0, 3, 1, 2)


def translate_roll_and_mask(x, ty, tx):
    out = []
    for b in range(x.shape[0]):
        dy, dx = int(ty[b]), int(tx[b])
        image = torch.roll(x[b], shifts=(-dy, -dx), dims=(1, 2))
        mask = torch.ones_like(image)
        if dy > 0:
            mask[:, -dy:, :] = 0
        elif dy < 0:
            mask[:, :-dy, :] = 0
        if dx > 0:
            mask[:, :, -dx:] = 0
        elif dx < 0:
            mask[:, :, :-dx] = 0
        out.append(image * mask)
    return torch.stack(out)


def translate_into_zeros(x, ty, tx):
    out = torch.zeros_like(x)
    _, _, height, width = x.shape
    for b in range(x.shape[0]):
        dy, dx = ty[b].item(), tx[b].item()
        out[b, :, max(0, -dy):height - max(0, dy), max(0, -dx):width - max(0, dx)] = \
            x[b, :, max(0, dy):height - max(0, -dy), max(0, dx):width - max(0, -dx)]
    return out


def translate_grid_sample(x, ty, tx):
    """Bilinear sampling at the shifted pixel centres (exact up to rounding, ~1e-6)."""
    batch, _, height, width = x.shape
    rows = torch.arange(height).float()[None, :, None] + ty[:, None, None]
    cols = torch.arange(width).float()[None, None, :] + tx[:, None, None]
    grid = torch.stack([(2 * cols.expand(batch, height, width) + 1) / width - 1,
                        (2 * rows.expand(batch, height, width) + 1) / height - 1], dim=-1)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@pytest.mark.parametrize("fn", [translate_pad_slice, translate_indexing, translate_roll_and_mask, translate_into_zeros,
                                translate_grid_sample])
def test_lesson08_translation_accepts_correct_answers_in_several_styles(fn, capsys):
    checks.check_translation(fn)
    assert "✔" in capsys.readouterr().out


def test_lesson08_translation_probes_are_the_packages_own_draws():
    """The check's shifts are the ones augment.translation draws with the probe's seed, so its
    reference is the package's function; the shifts take both signs, vary over the batch, and one
    probe is not square (rows and columns told apart)."""
    shapes = set()
    for _, x, ty, tx, seed in lesson08._translation_probes():
        expected = lesson08.augment.translation(x, generator=torch.Generator().manual_seed(seed))
        assert torch.equal(translate_indexing(x, ty, tx), expected)
        assert ty.dtype == tx.dtype == torch.int64 and x.dtype == torch.float32
        assert len(set(ty.tolist())) > 2 and len(set(tx.tolist())) > 2 and (ty != tx).any()
        assert int(ty.abs().max()) <= x.shape[2] // 8 and int(tx.abs().max()) <= x.shape[3] // 8
        shapes.add(x.shape[2] == x.shape[3])
    assert shapes == {True, False}


def test_lesson08_each_translation_mistake_gets_its_own_hint():
    hints = [answer.hint for answer in lesson08.TRANSLATION_MISTAKES]
    assert len(set(hints)) == len(hints)
    for answer in lesson08.TRANSLATION_MISTAKES:
        assert_hint(checks.check_translation, answer.produce, answer.hint)


def test_lesson08_translation_names_roll_numpy_detach_and_the_batch_of_shifts():
    import numpy as np

    def rolled(x, ty, tx):  # wrap-around, and torch.roll moves the picture the other way
        return torch.stack([torch.roll(x[b], shifts=(int(ty[b]), int(tx[b])), dims=(1, 2)) for b in range(len(x))])

    def numpy_shift(x, ty, tx):
        a = x.numpy()
        out = np.zeros_like(a)
        for b in range(len(a)):
            out[b] = translate_pad_slice(torch.from_numpy(a[b:b + 1]), ty[b:b + 1], tx[b:b + 1]).numpy()[0]
        return torch.from_numpy(out)

    def under_no_grad(x, ty, tx):
        with torch.no_grad():
            return translate_into_zeros(x, ty, tx)

    assert_hint(checks.check_translation, rolled, lesson08.TRANSLATION_MISTAKES[3].hint)
    reject(checks.check_translation, numpy_shift, "numpy()", "differentiable")
    reject(checks.check_translation, lambda x, ty, tx: translate_pad_slice(x, ty, tx).detach(), "no gradient",
           "differentiable")
    reject(checks.check_translation, under_no_grad, "no gradient", "torch.no_grad()")
    reject(checks.check_translation, lambda x, ty, tx: translate_pad_slice(x, ty, tx).numpy(), "NumPy")
    reject(checks.check_translation, lambda x, ty, tx: translate_pad_slice(x, torch.full_like(ty, int(ty)), tx),
           "one shift per image")
    reject(checks.check_translation, lambda x, ty, tx: F.pad(x, [3, 3, 3, 3]), "x's shape", "crop")
    reject(checks.check_translation, lambda x, ty, tx: (x.mul_(1.5), translate_pad_slice(x, ty, tx))[1], "in place")


def augmented_separately(discriminator, x_real, x_fake, augment):
    return course_losses.discriminator_loss(discriminator(augment(x_real)), discriminator(augment(x_fake)))


def augmented_together(discriminator, x_real, x_fake, augment):
    scores = discriminator(augment(torch.cat([x_real, x_fake.detach()]))).view(-1)
    real, fake = scores[:len(x_real)], scores[len(x_real):]
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def augmented_bce(discriminator, x_real, x_fake, augment):
    bce = nn.BCEWithLogitsLoss()
    real, fake = discriminator(augment(x_real)), discriminator(augment(x_fake.detach()))
    return bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))


@pytest.mark.parametrize("fn", [augmented_separately, augmented_together, augmented_bce])
def test_lesson08_augment_both_accepts_correct_answers_in_several_styles(fn, capsys):
    checks.check_augment_both(fn)
    assert "✔" in capsys.readouterr().out


def test_lesson08_each_augment_mistake_gets_its_own_hint():
    def loss(d, real, fake, flipped=False, halved=False):
        value = course_losses.discriminator_loss(d(fake), d(real)) if flipped else course_losses.discriminator_loss(
            d(real), d(fake))
        return value / 2 if halved else value

    mistaken = [lambda d, r, f, a: loss(d, a(r), f), lambda d, r, f, a: loss(d, r, a(f)),
                lambda d, r, f, a: loss(d, r, f), lambda d, r, f, a: loss(d, a(r), a(f), flipped=True),
                lambda d, r, f, a: loss(d, a(r), a(f), halved=True)]
    hints = [answer.hint for answer in lesson08.AUGMENT_MISTAKES]
    assert len(set(hints)) == len(hints)
    for answer, fn in zip(lesson08.AUGMENT_MISTAKES, mistaken, strict=True):
        assert_hint(checks.check_augment_both, fn, answer.hint)
    assert "the augmentation itself" in lesson08.AUGMENT_MISTAKES[0].hint


def test_lesson08_augment_both_names_augmenting_after_d_and_a_policy_argument():
    def after_d(d, real, fake, augment):
        return course_losses.discriminator_loss(augment(d(real)), augment(d(fake)))

    def with_policy(d, real, fake, augment):
        return course_losses.discriminator_loss(d(augment(real, "translation")), d(augment(fake, "translation")))

    reject(checks.check_augment_both, after_d, "applied after D", "D(augment(x_real))")
    reject(checks.check_augment_both, with_policy, "function of the images alone")
    reject(checks.check_augment_both, lambda d, r, f, a: augmented_separately(d, r, f, a).item(), "not a tensor")
    reject(checks.check_augment_both, lambda d, r, f, a: augmented_separately(d, r, f, a).detach().requires_grad_(),
           "no gradient")
    reject(checks.check_augment_both, lambda d, r, f, a: augmented_separately(d, r.clamp_(-0.5, 0.5), f, a),
           "in place")


def test_ablation_judgment_accepts_letters_in_any_spelling(capsys):
    checks.check_ablation_judgment("B", "C")
    checks.check_ablation_judgment("stage b", " c. ")
    checks.check_ablation_judgment("Option B", "'C'")
    assert capsys.readouterr().out.count("✔") == 3


@pytest.mark.parametrize("answer, words", [
    (("A", "C"), ["your `helped`", "baseline"]),
    (("C", "C"), ["your `helped`", "0.53", "1.80", "13.6", "lucky seed"]),
    (("D", "C"), ["your `helped`", "+16.60", "hurt"]),
    (("B", "A"), ["your `noise`", "baseline"]),
    (("B", "B"), ["your `noise`", "-9.30", "16.8", "22.6", "clear gain"]),
    (("B", "D"), ["your `noise`", "+16.60", "clear loss"]),
    (("B", "E"), ["names none of the options"]),
    ((None, "C"), ["is None"]),
])
def test_ablation_judgment_rejects_with_the_tables_numbers(answer, words):
    with pytest.raises(AssertionError) as info:
        checks.check_ablation_judgment(*answer)
    for word in words:
        assert word.lower() in str(info.value).lower(), f"message should mention {word!r}: {info.value}"


def test_ablation_exhibit_is_deterministic_and_supports_its_answer():
    """Clear: the change of means is more than twice the larger seed sd of the two stages (and the
    seeds do not overlap); noise: less than the smaller sd. Exactly B is a clear gain, exactly C noise."""
    state = torch.get_rng_state()
    table, rows = lesson08.ablation_table(), lesson08.ablation()
    assert table == lesson08.ablation_table() and rows == lesson08.ablation()
    assert torch.equal(torch.get_rng_state(), state)
    assert "CONSTRUCTED" in table and "mean ± sd" in table and rows is not lesson08.ABLATION
    stages = list(rows)
    clear_gain, noise = [], []
    for before, stage in zip(stages, stages[1:]):
        a, b = rows[before], rows[stage]
        change = b["mean"] - a["mean"]
        if change < -2 * max(a["sd"], b["sd"]) and max(b["fd"]) < min(a["fd"]):
            clear_gain.append(stage)
        if abs(change) < min(a["sd"], b["sd"]):
            noise.append(stage)
    assert (clear_gain, noise) == (["B"], ["C"])
