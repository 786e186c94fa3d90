"""GAN losses on logits (raw discriminator scores), as docs/design.md ("Logits everywhere") defines them.

Every function takes batch tensors of shape (B,) or (B, 1) and returns a 0-dim tensor. The
sigmoid never appears explicitly: ``log sigmoid(t) = -softplus(-t)`` and
``log(1 - sigmoid(t)) = -softplus(t)`` keep the losses finite for logits of +-100, where
``torch.log(torch.sigmoid(t))`` returns -inf.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "value_estimate", "discriminator_loss", "generator_loss", "critic_loss", "wgan_generator_loss",
    "gradient_penalty", "clip_weights_", "hinge_discriminator_loss", "hinge_generator_loss",
    "optimal_discriminator", "r1_penalty",
]


def value_estimate(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    """Monte Carlo estimate of the GAN value function from logits (Goodfellow et al. 2014, eq. 1):

        V(D, G) ≈ mean log D(x) + mean log(1 - D(G(z))),  D = sigmoid(logit)

    computed as ``-softplus(-t)`` and ``-softplus(t)`` so it stays finite for logits of +-100.
    The discriminator maximises it; :func:`discriminator_loss` is its negative. Lesson 01.
    """
    return -F.softplus(-logits_real).mean() - F.softplus(logits_fake).mean()


def discriminator_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    """``BCE(D(x), 1) + BCE(D(G(z)), 0)``: minus the Monte Carlo estimate of V(D, G).

    Goodfellow et al. (2014), eq. 1: the discriminator maximises
    ``E log D(x) + E log(1 - D(G(z)))``; we minimise its negative, the **sum** of two batch means
    (the two batches may differ in size). Taught in lesson 01.
    """
    loss_real = F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
    loss_fake = F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
    return loss_real + loss_fake


def generator_loss(logits_fake: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """The generator's loss on the discriminator's logits for generated samples.

    Non-saturating (default): ``BCE(D(G(z)), 1) = -mean log sigmoid(D(G(z)))`` — Goodfellow et al.
    (2014), section 3: "maximize log D(G(z))" instead, for strong gradients early in training.

    Saturating (``saturating=True``): ``mean log(1 - sigmoid(D(G(z))))``, the minimax game's own
    objective for G, minimised. Its gradient with respect to the logit is ``-sigmoid(logit)``,
    which vanishes when the discriminator confidently rejects the fakes. Lesson 01 plots both.
    """
    if saturating:
        return -F.softplus(logits_fake).mean()  # log(1 - sigmoid(t)) = -softplus(t)
    return F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))


def critic_loss(scores_real: torch.Tensor, scores_fake: torch.Tensor) -> torch.Tensor:
    """WGAN critic loss ``mean f(G(z)) - mean f(x)``, minimised by the critic.

    Arjovsky et al. (2017), Algorithm 1: the critic maximises ``E f(x) - E f(G(z))``, the
    Kantorovich-Rubinstein estimate of W1. Taught in lesson 05.
    """
    return scores_fake.mean() - scores_real.mean()


def wgan_generator_loss(scores_fake: torch.Tensor) -> torch.Tensor:
    """WGAN generator loss ``-mean f(G(z))`` (Arjovsky et al. 2017, Algorithm 1)."""
    return -scores_fake.mean()


def gradient_penalty(
    critic: nn.Module,
    x_real: torch.Tensor,
    x_fake: torch.Tensor,
    generator: torch.Generator | None = None,
    one_sided: bool = False,
) -> torch.Tensor:
    """WGAN-GP penalty ``mean (||grad f(x_hat)||_2 - 1)^2`` at random interpolates (λ not applied).

    Gulrajani et al. (2017), Algorithm 1: ``x_hat = eps * x + (1 - eps) * x_tilde`` with one
    ``eps ~ U(0, 1)`` per sample; the gradient norm is taken per sample over all of its features.
    ``create_graph=True`` keeps the penalty differentiable with respect to the critic's weights,
    which is the whole point: it is a term of the critic's loss. The caller multiplies by λ
    (10 in the paper). The fakes are detached: the penalty trains the critic only.

    Args:
        critic: maps (B, ...) to (B,) or (B, 1) scores.
        x_real, x_fake: (B, ...) batches of the same shape.
        generator: optional random generator for ``eps`` (the training loop passes its own so
            that a resumed run draws the same numbers).
        one_sided: penalise only norms above 1, ``mean max(0, ||grad f(x_hat)|| - 1)^2``: the
            Lipschitz constraint itself, which allows flatter regions (mentioned by Gulrajani et al.;
            argued for by Petzka et al. 2018, WGAN-LP). Default: the two-sided penalty.
    """
    batch = x_real.shape[0]
    eps_shape = (batch,) + (1,) * (x_real.dim() - 1)  # (B, 1, 1, 1): one eps per sample
    eps = torch.rand(eps_shape, device=x_real.device, dtype=x_real.dtype, generator=generator)
    x_hat = (eps * x_real.detach() + (1 - eps) * x_fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grads,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = grads.flatten(start_dim=1).norm(2, dim=1)  # (B,)
    excess = (norms - 1).clamp(min=0) if one_sided else norms - 1
    return excess.pow(2).mean()


def r1_penalty(discriminator, x_real: torch.Tensor, gamma: float,
               labels: torch.Tensor | None = None) -> torch.Tensor:
    """R1 penalty ``gamma / 2 * mean ||grad_x D(x)||^2`` on **real** images (γ applied).

    Mescheder et al. (2018), eq. 9: penalising the discriminator's gradient on the data alone
    makes the game converge locally where unregularised GANs circle. The squared norm is taken per
    sample over all of its features (no square root, no target 1: not WGAN-GP's penalty), then
    averaged over the batch. ``create_graph=True`` makes it differentiable with respect to the
    discriminator's weights: it is a term of the discriminator's loss. The images are detached (it
    trains the discriminator only). ``labels``: for a conditional discriminator, called ``D(x, labels)``.
    """
    x = x_real.detach().requires_grad_(True)
    scores = discriminator(x) if labels is None else discriminator(x, labels)
    (grads,) = torch.autograd.grad(scores.float().sum(), x, create_graph=True)
    return gamma / 2 * grads.float().pow(2).flatten(start_dim=1).sum(dim=1).mean()


@torch.no_grad()
def clip_weights_(module: nn.Module, c: float) -> None:
    """Clamp every parameter of ``module`` to [-c, c] in place (WGAN weight clipping).

    Arjovsky et al. (2017), Algorithm 1, line 7, with c = 0.01. This clips *weights* after each
    critic update; it is not gradient clipping, which bounds the size of an update.
    """
    for parameter in module.parameters():
        parameter.clamp_(-c, c)


def hinge_discriminator_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    """Hinge loss ``mean relu(1 - D(x)) + mean relu(1 + D(G(z)))`` (Miyato et al. 2018, eq. 16)."""
    return F.relu(1 - logits_real).mean() + F.relu(1 + logits_fake).mean()


def hinge_generator_loss(logits_fake: torch.Tensor) -> torch.Tensor:
    """Generator loss paired with the hinge loss: ``-mean D(G(z))``."""
    return -logits_fake.mean()


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """``D*(x) = p_data(x) / (p_data(x) + p_g(x))`` on densities evaluated at the same points.

    Goodfellow et al. (2014), Proposition 1. Where both densities are zero D* is undefined; we
    return 1/2 there (nothing to tell apart). Lesson 01 derives it and checks it by training.
    """
    p_data = torch.as_tensor(p_data, dtype=torch.float64 if not torch.is_tensor(p_data) else None)
    p_g = torch.as_tensor(p_g, dtype=p_data.dtype, device=p_data.device)
    total = p_data + p_g
    return torch.where(total > 0, p_data / total.clamp_min(torch.finfo(total.dtype).tiny), 0.5)
