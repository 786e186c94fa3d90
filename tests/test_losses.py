"""Losses against hand formulas and closed forms."""
import math

import pytest
import torch
from torch import nn

from gancourse import losses


def test_discriminator_loss_is_minus_v_hat():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0, 1.0])
    sig = torch.sigmoid
    v_hat = torch.log(sig(real)).mean() + torch.log(1 - sig(fake)).mean()
    torch.testing.assert_close(losses.discriminator_loss(real, fake), -v_hat)


def test_at_equilibrium_the_loss_is_log_4():
    zeros = torch.zeros(7)  # D = 1/2 everywhere: V = -log 4
    torch.testing.assert_close(losses.discriminator_loss(zeros, zeros), torch.tensor(math.log(4)))


def test_generator_losses_match_hand_formulas():
    fake = torch.tensor([1.5, -0.5, -4.0])
    sig = torch.sigmoid(fake)
    torch.testing.assert_close(losses.generator_loss(fake), -torch.log(sig).mean())
    torch.testing.assert_close(losses.generator_loss(fake, saturating=True), torch.log(1 - sig).mean())


@pytest.mark.parametrize("fn", [
    lambda t: losses.discriminator_loss(t, -t), lambda t: losses.generator_loss(t),
    lambda t: losses.generator_loss(t, saturating=True), lambda t: losses.hinge_discriminator_loss(t, t),
])
def test_stable_for_logits_of_100(fn):
    t = torch.tensor([100.0, -100.0], requires_grad=True)
    value = fn(t)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(t.grad).all()


def test_saturating_gradient_vanishes_where_non_saturating_does_not():
    # The discriminator confidently rejects the fakes: D(G(z)) = sigmoid(-10) ≈ 4.5e-5.
    t = torch.tensor([-10.0], requires_grad=True)
    (g_sat,) = torch.autograd.grad(losses.generator_loss(t, saturating=True), t)
    (g_ns,) = torch.autograd.grad(losses.generator_loss(t), t)
    assert abs(g_sat.item()) < 1e-4          # -sigmoid(t): vanishes
    assert abs(g_ns.item()) > 0.99           # -(1 - sigmoid(t)): about -1


def test_wgan_losses():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-2.0, 0.0, 2.0])
    assert losses.critic_loss(real, fake).item() == pytest.approx(0.0 - 2.0)
    assert losses.wgan_generator_loss(fake).item() == pytest.approx(0.0)


class Linear(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1)


@pytest.mark.parametrize("norm", [0.3, 1.0, 2.5])
def test_gradient_penalty_of_a_linear_critic_is_closed_form(norm):
    w = torch.randn(3, 4, 4)
    critic = Linear(w / w.norm() * norm)
    real, fake = torch.randn(16, 3, 4, 4), torch.randn(16, 3, 4, 4)
    penalty = losses.gradient_penalty(critic, real, fake)
    torch.testing.assert_close(penalty, torch.tensor((norm - 1) ** 2))
    penalty.backward()  # differentiable with respect to the critic
    expected = 2 * (norm - 1) * critic.w.detach() / norm
    torch.testing.assert_close(critic.w.grad, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("norm", [0.3, 1.0, 2.5])
def test_one_sided_gradient_penalty_only_penalises_norms_above_one(norm):
    w = torch.randn(3, 4, 4)
    critic = Linear(w / w.norm() * norm)
    real, fake = torch.randn(16, 3, 4, 4), torch.randn(16, 3, 4, 4)
    penalty = losses.gradient_penalty(critic, real, fake, one_sided=True)
    torch.testing.assert_close(penalty, torch.tensor(max(0.0, norm - 1) ** 2))
    penalty.backward()
    expected = 2 * max(0.0, norm - 1) * critic.w.detach() / norm
    torch.testing.assert_close(critic.w.grad, expected, rtol=1e-4, atol=1e-6)


def test_gradient_penalty_is_drawn_from_the_given_generator():
    class Quadratic(nn.Module):
        def forward(self, x):
            return 0.5 * x.pow(2).flatten(1).sum(1)
    real, fake = torch.ones(32, 2), -torch.ones(32, 2)
    a = losses.gradient_penalty(Quadratic(), real, fake, generator=torch.Generator().manual_seed(1))
    b = losses.gradient_penalty(Quadratic(), real, fake, generator=torch.Generator().manual_seed(1))
    c = losses.gradient_penalty(Quadratic(), real, fake, generator=torch.Generator().manual_seed(2))
    assert a == b and a != c


def test_clip_weights_clamps_every_parameter():
    module = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0, 1)
    losses.clip_weights_(module, 0.05)
    assert all(p.abs().max() <= 0.05 for p in module.parameters())


def test_optimal_discriminator():
    p_data, p_g = torch.tensor([0.2, 0.0, 0.0, 1.0]), torch.tensor([0.2, 0.5, 0.0, 3.0])
    assert losses.optimal_discriminator(p_data, p_g).tolist() == [0.5, 0.0, 0.5, 0.25]


def test_value_estimate_is_minus_the_discriminator_loss():
    real, fake = torch.tensor([2.0, -1.0, 0.3]), torch.tensor([0.5, -3.0])
    torch.testing.assert_close(losses.value_estimate(real, fake), -losses.discriminator_loss(real, fake))


def test_r1_penalty_of_a_linear_discriminator_is_half_gamma_times_the_squared_weight_norm():
    torch.manual_seed(0)
    linear = nn.Sequential(nn.Flatten(), nn.Linear(12, 1))  # D(x) = w . x + b: the gradient is w everywhere
    x_real = torch.randn(5, 3, 2, 2)
    penalty = losses.r1_penalty(linear, x_real, gamma=10.0)
    w = linear[1].weight
    torch.testing.assert_close(penalty, 5.0 * w.pow(2).sum())  # γ/2 ||w||², no square root, no target 1
    (grad,) = torch.autograd.grad(penalty, w)  # create_graph: the penalty trains D's weights
    torch.testing.assert_close(grad, 10.0 * w)
    assert not x_real.requires_grad  # the images are not changed


def test_r1_penalty_averages_squared_norms_per_sample_and_passes_labels():
    class Quadratic(nn.Module):  # D(x, y) = (y + 1) * sum x² / 2: the gradient is (y + 1) x
        def forward(self, x, y):
            return (y + 1) * x.pow(2).flatten(1).sum(1) / 2

    x_real, y = torch.randn(4, 1, 3, 3), torch.tensor([0, 1, 2, 3])
    expected = ((y + 1).float() ** 2 * x_real.pow(2).flatten(1).sum(1)).mean()  # mean ||∇||², γ = 2
    torch.testing.assert_close(losses.r1_penalty(Quadratic(), x_real, 2.0, labels=y), expected)
