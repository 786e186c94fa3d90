"""Generators, discriminators and critics for the course.

All discriminators and critics return raw scores of shape (B,): logits for the GAN losses,
unbounded values for the WGAN critic. Generators end in ``tanh`` to match data in [-1, 1].

``norm`` selects the discriminator's flavour (lessons 03 and 05):
- ``"batch"``: BatchNorm after every hidden convolution but the first (Radford et al. 2016);
- ``"none"``: no normalisation, as WGAN-GP needs (Gulrajani et al. 2017, section 4: BatchNorm
  makes the per-sample gradient penalty invalid);
- ``"spectral"``: every linear and convolution layer wrapped in PyTorch's spectral-norm
  parametrization (Miyato et al. 2018), no BatchNorm.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

__all__ = [
    "conv_transpose_output_size", "ToyGenerator", "ToyDiscriminator", "MLPGenerator", "MLPDiscriminator", "DCGANGenerator", "DCGANDiscriminator",
    "init_dcgan_weights_", "count_parameters", "pack", "MinibatchStd", "Ensemble",
    "ConditionalMLPGenerator", "ConditionalMLPDiscriminator", "ConditionalDCGANGenerator",
    "ConditionalDCGANDiscriminator",
]

NORMS = ("batch", "none", "spectral")


def conv_transpose_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """Output size of ``nn.ConvTranspose2d`` along one axis (PyTorch's documented formula):

        (size - 1)·stride - 2·padding + dilation·(kernel - 1) + output_padding + 1

    Kernel 4, stride 2, padding 1 doubles the size exactly; kernel 3 (not divisible by the
    stride) makes the kernel's footprints overlap unevenly: the checkerboard artefact. Lesson 03.
    """
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars in ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@torch.no_grad()
def init_dcgan_weights_(module: nn.Module) -> nn.Module:
    """DCGAN initialisation (Radford et al. 2016, section 4), in place; returns ``module``.

    Convolution, transposed-convolution and linear weights ~ N(0, 0.02), biases 0;
    BatchNorm weights ~ N(1, 0.02), biases 0. Spectral-normalised layers are initialised
    through their ``original`` weight.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight = layer.parametrizations.weight.original if _is_parametrized(layer) else layer.weight
            weight.normal_(0.0, 0.02)
            if layer.bias is not None:
                layer.bias.zero_()
        elif isinstance(layer, nn.BatchNorm2d | nn.BatchNorm1d):
            layer.weight.normal_(1.0, 0.02)
            layer.bias.zero_()
    return module


def _is_parametrized(layer: nn.Module) -> bool:
    return hasattr(layer, "parametrizations") and "weight" in layer.parametrizations


def _check_norm(norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; choose one of {NORMS}")


class ToyGenerator(nn.Module):
    """MLP generator for 1-D and 2-D toy data: z (B, latent_dim) -> x (B, out_dim), linear output.

    Lessons 01, 04 and 05. ReLU hidden layers; no ``tanh`` (the 2-D grid spans [-4, 4]).
    """

    def __init__(self, latent_dim: int = 2, out_dim: int = 2, hidden: tuple[int, ...] = (128, 128)):
        super().__init__()
        self.latent_dim = latent_dim
        layers: list[nn.Module] = []
        width = latent_dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """PacGAN's packing (Lin et al. 2018): (B, ...) -> (B / m, m · features).

    Consecutive groups of ``m`` samples are flattened and concatenated into one input, so the
    discriminator judges ``m`` samples at once: a generator that puts them all on one mode gives
    itself away, because real groups are diverse. ``m = 1`` only flattens. Lesson 04.
    """
    if x.shape[0] % m:
        raise ValueError(f"a batch of {x.shape[0]} samples cannot be packed in groups of {m}; "
                         f"use a batch size that is a multiple of {m}")
    return x.reshape(x.shape[0] // m, -1)


class MinibatchStd(nn.Module):
    """Minibatch standard deviation (Karras et al. 2018): (B, F) -> (B, F + 1).

    Appends to every sample one feature shared by the whole batch: the standard deviation of each
    feature over the batch, averaged over features. A batch of near-identical (collapsed) samples
    has a small value, which the discriminator can learn to call fake. Lesson 04.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        std = x.float().std(dim=0, unbiased=False).mean().to(x.dtype)
        return torch.cat([x, std.expand(x.shape[0], 1)], dim=1)


def _scoring_mlp(width: int, hidden: tuple[int, ...], wrap, dropout: float = 0.0,
                 minibatch_std: bool = False) -> nn.Sequential:
    """The fully connected discriminators' body: (Linear, LeakyReLU(0.2)[, Dropout]) per hidden
    layer, an optional MinibatchStd feature after the first, and a Linear to one score."""
    layers: list[nn.Module] = []
    for i, size in enumerate(hidden):
        layers += [wrap(nn.Linear(width, size)), nn.LeakyReLU(0.2)]
        layers += [nn.Dropout(dropout)] if dropout > 0 else []
        width = size
        if minibatch_std and i == 0:
            layers.append(MinibatchStd())
            width += 1
    layers.append(wrap(nn.Linear(width, 1)))
    return nn.Sequential(*layers)


class ToyDiscriminator(nn.Module):
    """MLP discriminator or critic for toy data: x (B, in_dim) -> scores (B / pack,).

    ``pack`` > 1 makes it a PacGAN discriminator (Lin et al. 2018): it scores groups of ``pack``
    samples concatenated (see :func:`pack`), so a batch of B samples gives B / pack scores.
    ``minibatch_std=True`` appends a :class:`MinibatchStd` feature after the first hidden layer.
    ``norm="spectral"`` wraps every layer in spectral normalisation (lesson 05).
    """

    def __init__(self, in_dim: int = 2, hidden: tuple[int, ...] = (128, 128), pack: int = 1,
                 norm: str = "none", minibatch_std: bool = False):
        super().__init__()
        if norm not in ("none", "spectral"):
            raise ValueError(f"ToyDiscriminator supports norm 'none' or 'spectral', not {norm!r}")
        wrap = spectral_norm if norm == "spectral" else (lambda layer: layer)
        self.pack = pack
        self.net = _scoring_mlp(in_dim * pack, hidden, wrap, minibatch_std=minibatch_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(pack(x, self.pack)).squeeze(1)


class Ensemble(nn.Module):
    """K copies of one architecture with their own weights, run as one batched model. Lesson 04.

    Build it from K modules (e.g. the same class under K seeds). A batch of K·B inputs is split
    into K consecutive blocks of B, member k runs on block k (``torch.func.vmap`` over the
    stacked weights: one set of large matrix products instead of K small ones), and the outputs
    come back concatenated in the same order. Pass an ensemble of generators and one of
    discriminators to the ordinary :class:`gancourse.training.Trainer` with ``batch_size = K·B``:
    each member then trains exactly as it would alone with batch B (same gradients: the
    ensemble's gradients are scaled by K to undo the loss's mean over K blocks; Adam is
    per-element, so the members stay independent). ``split`` turns outputs into (K, B, ...).
    Over hundreds of steps members drift from lone runs by rounding, which a GAN amplifies, so
    compare distributions over seeds, not single seeds (lesson 04 does, over 20 seeds).

    Members must not hold buffers (no BatchNorm, no spectral norm): their in-place updates do
    not batch. The toy MLPs qualify.
    """

    def __init__(self, members):
        from torch.func import stack_module_state

        super().__init__()
        members = list(members)
        if not members:
            raise ValueError("an Ensemble needs at least one member")
        params, buffers = stack_module_state(members)
        if buffers:
            raise ValueError(f"Ensemble members must have no buffers (found {sorted(buffers)[:3]}): "
                             f"BatchNorm and spectral norm update them in place, which does not batch")
        self.size = len(members)
        self._names = list(params)
        self.weights = nn.ParameterList(nn.Parameter(params[name].detach().clone()) for name in self._names)
        for weight in self.weights:  # undo the 1/K of a loss averaged over all K blocks
            weight.register_hook(lambda grad: grad * self.size)
        self._template = [copy.deepcopy(members[0]).to("meta")]  # in a list: not a submodule
        if hasattr(members[0], "latent_dim"):
            self.latent_dim = members[0].latent_dim

    def _member_call(self, weights: tuple[torch.Tensor, ...], x: torch.Tensor) -> torch.Tensor:
        from torch.func import functional_call

        return functional_call(self._template[0], dict(zip(self._names, weights)), (x,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from torch.func import vmap

        if x.shape[0] % self.size:
            raise ValueError(f"a batch of {x.shape[0]} cannot be split among {self.size} members; "
                             f"use a multiple of {self.size}")
        blocks = x.reshape(self.size, x.shape[0] // self.size, *x.shape[1:])  # (K, B, ...)
        out = vmap(self._member_call)(tuple(self.weights), blocks)
        return out.reshape(-1, *out.shape[2:])

    def split(self, outputs: torch.Tensor) -> torch.Tensor:
        """(K·B, ...) outputs -> (K, B, ...): member k's outputs at index k."""
        return outputs.reshape(self.size, -1, *outputs.shape[1:])

    def member(self, k: int) -> nn.Module:
        """Member ``k`` as an ordinary module (a copy of its current weights)."""
        module = copy.deepcopy(self._template[0]).to_empty(device=self.weights[0].device)
        module.load_state_dict({name: weight[k].detach().clone()
                                for name, weight in zip(self._names, self.weights)})
        return module


class MLPGenerator(nn.Module):
    """Fully connected generator: z (B, latent_dim) -> images (B, C, H, W) in [-1, 1].

    Lesson 02. Hidden layers use LeakyReLU(0.2), optionally after BatchNorm (``batchnorm=True``);
    the output is ``tanh`` to match the data range.
    """

    def __init__(self, latent_dim: int = 64, hidden: tuple[int, ...] = (256, 512),
                 image_shape: tuple[int, int, int] = (1, 28, 28), batchnorm: bool = False):
        super().__init__()
        self.latent_dim, self.image_shape = latent_dim, tuple(image_shape)
        layers: list[nn.Module] = []
        width = latent_dim
        for size in hidden:
            layers += [nn.Linear(width, size, bias=not batchnorm)]
            layers += [nn.BatchNorm1d(size)] if batchnorm else []
            layers += [nn.LeakyReLU(0.2)]
            width = size
        layers += [nn.Linear(width, math.prod(image_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.image_shape)  # (B, C, H, W)


class MLPDiscriminator(nn.Module):
    """Fully connected discriminator: images (B, C, H, W) -> logits (B,).

    Lesson 02. ``dropout`` after each hidden activation makes the discriminator's job noisier,
    which keeps it from overpowering the generator. ``norm="spectral"`` turns it into a
    spectrally normalised critic (lesson 05); ``"batch"`` is not offered here. ``pack`` and
    ``minibatch_std`` are lesson 04's remedies for mode collapse, as in :class:`ToyDiscriminator`
    (with ``pack`` = m, a batch of B images gives B / m scores).
    """

    def __init__(self, hidden: tuple[int, ...] = (512, 256),
                 image_shape: tuple[int, int, int] = (1, 28, 28), norm: str = "none",
                 dropout: float = 0.0, pack: int = 1, minibatch_std: bool = False):
        super().__init__()
        if norm not in ("none", "spectral"):
            raise ValueError(f"MLPDiscriminator supports norm 'none' or 'spectral', not {norm!r}")
        wrap = spectral_norm if norm == "spectral" else (lambda layer: layer)
        self.pack = pack
        self.net = _scoring_mlp(math.prod(image_shape) * pack, hidden, wrap, dropout, minibatch_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(pack(x, self.pack)).squeeze(1)  # (B / pack,)


def _spatial_plan(image_size: int) -> tuple[int, int]:
    """Start size and number of stride-2 doublings: 28 = 7·2², 32 = 4·2³, 64 = 4·2⁴."""
    plans = {28: (7, 2), 32: (4, 3), 64: (4, 4)}
    if image_size not in plans:
        raise ValueError(f"image_size must be one of {sorted(plans)}, not {image_size}")
    return plans[image_size]


class DCGANGenerator(nn.Module):
    """DCGAN generator (Radford et al. 2016): z (B, latent_dim) -> images (B, C, S, S) in [-1, 1].

    A transposed convolution turns z into a (start x start) map, then each kernel-4 / stride-2 /
    padding-1 transposed convolution doubles the size: (in - 1)·2 - 2·1 + 4 = 2·in.
    For 28 px: 1 -> 7 -> 14 -> 28. For 32 px: 1 -> 4 -> 8 -> 16 -> 32; 64 px adds one more step.
    BatchNorm and ReLU in hidden layers, ``tanh`` at the output, DCGAN initialisation unless
    ``dcgan_init=False``. Lesson 03.
    """

    def __init__(self, latent_dim: int = 100, image_size: int = 28, channels: int = 1,
                 width: int = 64, dcgan_init: bool = True):
        super().__init__()
        start, doublings = _spatial_plan(image_size)
        self.latent_dim, self.image_size, self.channels = latent_dim, image_size, channels
        mult = 2 ** (doublings - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, width * mult, start, 1, 0, bias=False),  # (B, w·m, start, start)
            nn.BatchNorm2d(width * mult), nn.ReLU(True),
        ]
        for _ in range(doublings - 1):
            layers += [nn.ConvTranspose2d(width * mult, width * mult // 2, 4, 2, 1, bias=False),  # size x2
                       nn.BatchNorm2d(width * mult // 2), nn.ReLU(True)]
            mult //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]  # (B, C, S, S)
        self.net = nn.Sequential(*layers)
        if dcgan_init:
            init_dcgan_weights_(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], self.latent_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator or critic: images (B, C, S, S) -> scores (B,).

    Kernel-4 / stride-2 convolutions halve the size (28 -> 14 -> 7; 32 -> 16 -> 8 -> 4), LeakyReLU
    0.2, and a last convolution covering the remaining map gives one score. ``norm`` is ``"batch"``
    (DCGAN), ``"none"`` (WGAN-GP critic) or ``"spectral"`` (SN-GAN). Lesson 03 and 05.
    """

    def __init__(self, image_size: int = 28, channels: int = 1, width: int = 64,
                 norm: str = "batch", dcgan_init: bool = True):
        super().__init__()
        _check_norm(norm)
        start, doublings = _spatial_plan(image_size)
        wrap = spectral_norm if norm == "spectral" else (lambda layer: layer)
        layers: list[nn.Module] = [wrap(nn.Conv2d(channels, width, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        mult = 1
        for _ in range(doublings - 1):
            layers.append(wrap(nn.Conv2d(width * mult, width * mult * 2, 4, 2, 1, bias=norm != "batch")))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(width * mult * 2))
            layers.append(nn.LeakyReLU(0.2, True))
            mult *= 2
        layers.append(wrap(nn.Conv2d(width * mult, 1, start, 1, 0)))  # (B, 1, 1, 1)
        self.net = nn.Sequential(*layers)
        if dcgan_init:
            init_dcgan_weights_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()  # (B,)


# --- conditional GANs (lesson 06) ---------------------------------------------------------------

CONDITIONINGS = ("concat", "projection")


def projection_logit(features: torch.Tensor, psi: nn.Module, embed: nn.Module, y: torch.Tensor) -> torch.Tensor:
    """The projection discriminator's logit (Miyato & Koyama 2018): ψ(φ(x)) + ⟨embed(y), φ(x)⟩.

    ``features`` is φ(x), (B, F); ``psi`` maps F to one score; ``embed(y)`` is (B, F). Returns (B,).
    """
    return psi(features).squeeze(1) + (embed(y) * features).sum(1)


def _check_labels(y: torch.Tensor, batch: int) -> None:
    if y.dim() != 1 or y.shape[0] != batch:
        raise ValueError(f"labels must have shape ({batch},), one class index per sample, not {tuple(y.shape)}")


class ConditionalMLPGenerator(nn.Module):
    """Class-conditional fully connected generator: (z (B, latent_dim), y (B,)) -> images in [-1, 1].

    Lesson 06. The label's learned embedding (width ``embed_dim``) is concatenated to z, and the
    result goes through :class:`MLPGenerator`'s layers: input width latent_dim + embed_dim.
    """

    def __init__(self, latent_dim: int = 64, num_classes: int = 10, embed_dim: int = 10,
                 hidden: tuple[int, ...] = (256, 512), image_shape: tuple[int, int, int] = (1, 28, 28),
                 batchnorm: bool = True):
        super().__init__()
        self.latent_dim, self.num_classes, self.image_shape = latent_dim, num_classes, tuple(image_shape)
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.body = MLPGenerator(latent_dim + embed_dim, hidden, image_shape, batchnorm)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        _check_labels(y, z.shape[0])
        return self.body(torch.cat([z, self.embed(y)], dim=1))  # (B, C, H, W)


class ConditionalMLPDiscriminator(nn.Module):
    """Class-conditional fully connected discriminator: (images (B, C, H, W), y (B,)) -> logits (B,).

    Lesson 06. ``conditioning``:
    - ``"concat"``: the label's embedding is concatenated to the flattened image before the first
      layer (Mirza & Osindero 2014);
    - ``"projection"``: logit = ψ(φ(x)) + ⟨embed(y), φ(x)⟩, φ the hidden layers, ψ a linear
      layer to one score, embed a learned vector per class of φ's width (Miyato & Koyama 2018).
    """

    def __init__(self, num_classes: int = 10, conditioning: str = "projection",
                 hidden: tuple[int, ...] = (512, 256), image_shape: tuple[int, int, int] = (1, 28, 28),
                 embed_dim: int = 10, dropout: float = 0.3, norm: str = "none"):
        super().__init__()
        if conditioning not in CONDITIONINGS:
            raise ValueError(f"unknown conditioning {conditioning!r}; choose one of {CONDITIONINGS}")
        if norm not in ("none", "spectral"):
            raise ValueError(f"ConditionalMLPDiscriminator supports norm 'none' or 'spectral', not {norm!r}")
        wrap = spectral_norm if norm == "spectral" else (lambda layer: layer)
        self.num_classes, self.conditioning = num_classes, conditioning
        width = math.prod(image_shape)
        if conditioning == "concat":
            self.embed = nn.Embedding(num_classes, embed_dim)
            self.net = _scoring_mlp(width + embed_dim, hidden, wrap, dropout)
        else:
            body = _scoring_mlp(width, hidden, wrap, dropout)
            self.phi, self.psi = body[:-1], body[-1]  # φ: hidden layers; ψ: Linear(hidden[-1], 1)
            self.embed = nn.Embedding(num_classes, hidden[-1])

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        _check_labels(y, x.shape[0])
        flat = x.flatten(1)
        if self.conditioning == "concat":
            return self.net(torch.cat([flat, self.embed(y)], dim=1)).squeeze(1)
        return projection_logit(self.phi(flat), self.psi, self.embed, y)  # φ(x): (B, hidden[-1])


class ConditionalDCGANGenerator(nn.Module):
    """Class-conditional DCGAN generator: (z, y (B,)) -> images (B, C, S, S) in [-1, 1]. Lesson 06.

    The label's embedding is concatenated to z, as in :class:`ConditionalMLPGenerator`; the body
    is a :class:`DCGANGenerator` with input width latent_dim + embed_dim.
    """

    def __init__(self, latent_dim: int = 100, num_classes: int = 10, embed_dim: int = 10,
                 image_size: int = 28, channels: int = 1, width: int = 64):
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.body = DCGANGenerator(latent_dim + embed_dim, image_size, channels, width)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        _check_labels(y, z.shape[0])
        return self.body(torch.cat([z, self.embed(y)], dim=1))


class ConditionalDCGANDiscriminator(nn.Module):
    """Class-conditional DCGAN discriminator: (images (B, C, S, S), y (B,)) -> logits (B,). Lesson 06.

    ``"concat"``: the label's embedding is broadcast to ``embed_dim`` constant image channels and
    concatenated to the image. ``"projection"``: φ(x) is the last feature map summed over space,
    logit = ψ(φ(x)) + ⟨embed(y), φ(x)⟩ (Miyato & Koyama 2018). ``norm`` as :class:`DCGANDiscriminator`.
    """

    def __init__(self, num_classes: int = 10, conditioning: str = "projection", image_size: int = 28,
                 channels: int = 1, width: int = 64, norm: str = "batch", embed_dim: int = 10):
        super().__init__()
        if conditioning not in CONDITIONINGS:
            raise ValueError(f"unknown conditioning {conditioning!r}; choose one of {CONDITIONINGS}")
        self.num_classes, self.conditioning = num_classes, conditioning
        extra = embed_dim if conditioning == "concat" else 0
        body = DCGANDiscriminator(image_size, channels + extra, width, norm).net
        self.phi, last = body[:-1], body[-1]  # φ: the convolutions; last: the score convolution
        if conditioning == "concat":
            self.embed, self.score = nn.Embedding(num_classes, embed_dim), last
        else:
            features = last.in_channels
            wrap = spectral_norm if norm == "spectral" else (lambda layer: layer)
            self.psi = wrap(nn.Linear(features, 1))
            self.embed = nn.Embedding(num_classes, features)
            init_dcgan_weights_(self.psi)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        _check_labels(y, x.shape[0])
        if self.conditioning == "concat":
            maps = self.embed(y)[:, :, None, None].expand(-1, -1, *x.shape[2:]).to(x.dtype)
            return self.score(self.phi(torch.cat([x, maps], dim=1))).flatten()
        return projection_logit(self.phi(x).sum(dim=(2, 3)), self.psi, self.embed, y)  # φ(x): (B, features)
