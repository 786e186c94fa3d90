"""Checks for lesson 02, the MLP GAN: the networks' specs, one training step, sampling, the
judge's digit histogram, and reading three training histories."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from gancourse import losses, metrics
from gancourse.checks.core import (
    KnownAnswer, Parameters, Squeeze, call, check_choice, close, describe, diagnose, fail_with_hint, has_gradient,
    learner_facing, need_number, need_tensor, parameters_of, passed, same_parameters, wrong_return,
)
from gancourse.models import count_parameters
from gancourse.training import TrainConfig, Trainer

__all__ = ["check_train_step", "check_generator_spec", "check_discriminator_spec", "check_sample_images",
           "check_digit_histogram", "check_run_verdicts"]


# --- one training step ------------------------------------------------------------------------

def _tiny_gan(squeeze: bool = False) -> tuple[nn.Module, nn.Module]:
    """A tiny generator and discriminator; the discriminator returns (B, 1) logits like the
    spec's (its last layer is a Linear with one output), or (B,) with ``squeeze``."""
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 8), nn.Tanh())
    discriminator = nn.Sequential(nn.Linear(8, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1),
                                  *([Squeeze()] if squeeze else []))
    return generator, discriminator


def _batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (x_real, z) of each of the two steps."""
    gen = torch.Generator().manual_seed(5)
    return [(torch.randn(16, 8, generator=gen), torch.randn(16, 4, generator=gen)) for _ in range(2)]


def _reference_run(loss: str = "non-saturating", generator_loss: Callable | None = None,
                   discriminator_loss: Callable | None = None):
    """Two steps of the package's Trainer (SGD, lr 0.1) on the tiny GAN: parameters after each
    step, and each step's (loss_d, loss_g). ``loss`` and the two losses make the mistakes."""
    generator, discriminator = _tiny_gan(squeeze=True)
    config = TrainConfig(loss=loss, optimizer="sgd", lr_g=0.1, lr_d=0.1, momentum=0.0, batch_size=16,
                         latent_dim=4, snapshot_every=0, log_every=1)
    batches = _batches()
    trainer = Trainer(generator, discriminator, batches[0][0], config, "cpu", generator_loss=generator_loss,
                      discriminator_loss=discriminator_loss)
    states, returned = [], []
    for x_real, z in batches:
        out = trainer.step_with(x_real, z)
        returned.append((out["loss_d"], out["loss_g"]))
        states.append((parameters_of(generator), parameters_of(discriminator)))
    return states, returned


_STEP = "your train_step"


def _learner_run(step_fn: Callable, probes: dict, squeeze: bool):
    """Two steps of the learner's ``step_fn`` from the reference's start, with ``probes``."""
    generator, discriminator = _tiny_gan(squeeze)
    opt_g = torch.optim.SGD(generator.parameters(), lr=0.1)
    opt_d = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    _instrument(generator, discriminator, opt_g, opt_d, probes)
    states, returned = [], []
    for x_real, z in _batches():
        probes["z"] = z
        probes["g_grads_before"] = [None if p.grad is None else p.grad.clone() for p in generator.parameters()]
        returned.append(call(step_fn, generator, discriminator, opt_g, opt_d, x_real, z, what=_STEP,
                             hints=[_stale_logits_hint]))
        states.append((parameters_of(generator), parameters_of(discriminator)))
    return states, returned


def _stale_logits_hint(text: str) -> str:
    if "modified by an inplace operation" in text:
        return ("D(G(z)) for the generator's loss was computed before opt_d.step() changed the discriminator in "
                "place (a simultaneous update). Compute D(G(z)) again after the discriminator's update, through "
                "the updated discriminator.")
    return ""


def _learner_runs(step_fn: Callable) -> tuple[tuple, dict]:
    """The learner's two steps with a discriminator returning (B, 1); when that crashes (labels of
    shape (B,), say), with one returning (B,). When both crash, the crash reported is the one
    that is not about the labels' shape (the first, if both are)."""
    probes: dict = {}
    try:
        return _learner_run(step_fn, probes, squeeze=False), probes
    except AssertionError as crash:
        if not str(crash).startswith(f"{_STEP} raised"):
            raise
        probes = {}
        try:
            return _learner_run(step_fn, probes, squeeze=True), probes
        except AssertionError as second:
            if _about_label_shape(crash) and not _about_label_shape(second):
                raise second from None
            raise crash from None


def _about_label_shape(crash: AssertionError) -> bool:
    text = str(crash)
    return ("arget size" in text and "input size" in text) or "must match the size of tensor" in text


def _generator_loss_gradient(generator: nn.Module, discriminator: nn.Module, z: torch.Tensor) -> list[torch.Tensor]:
    """The non-saturating generator loss's gradient with respect to the generator's parameters,
    through the discriminator as it is now."""
    with torch.enable_grad():
        logits = discriminator(generator(z))
        loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        return list(torch.autograd.grad(loss, list(generator.parameters())))


def _instrument(generator, discriminator, opt_g, opt_d, probes: dict) -> None:
    """Record, at each optimizer step, the order and what the other network's state was, and
    whether the step found gradients to use (and whether any had reached it since the last)."""
    probes.update(order=[], simultaneous=False, g_grad_at_d_step=False, d_moved_late=False, g_moved_by_d=False,
                  wiped_before_step=False, g_never_reached=False)
    step_d, step_g = opt_d.step, opt_g.step
    reached = {"d": False, "g": False}
    for key, network in (("d", discriminator), ("g", generator)):
        for p in network.parameters():
            p.register_hook(lambda grad, key=key: reached.__setitem__(key, True))

    def found_gradient(key: str, network: nn.Module) -> None:
        if not has_gradient(network):
            probes["wiped_before_step"] |= reached[key]
            probes["g_never_reached"] |= key == "g" and not reached[key]
        reached[key] = False

    def d_step(*args, **kwargs):
        probes["order"].append("d")
        found_gradient("d", discriminator)
        added = [None if p.grad is None else (p.grad if old is None else p.grad - old)
                 for p, old in zip(generator.parameters(), probes["g_grads_before"])]
        if any(a is not None and bool(a.abs().max() > 0) for a in added):
            # The generator has gradients before the discriminator's update: from the discriminator's
            # loss (a missing detach), or from its own loss through the old discriminator.
            own = _generator_loss_gradient(generator, discriminator, probes["z"])
            if all(a is not None and torch.allclose(a, g, rtol=1e-3, atol=1e-7) for a, g in zip(added, own)):
                probes["simultaneous"] = True
            else:
                probes["g_grad_at_d_step"] = True
        g_before = parameters_of(generator)
        result = step_d(*args, **kwargs)
        probes["g_moved_by_d"] |= not same_parameters(g_before, parameters_of(generator), tol=0)
        return result

    def g_step(*args, **kwargs):
        probes["order"].append("g")
        found_gradient("g", generator)
        d_before = parameters_of(discriminator)
        result = step_g(*args, **kwargs)
        probes["d_moved_late"] |= not same_parameters(d_before, parameters_of(discriminator), tol=0)
        return result

    opt_d.step, opt_g.step = d_step, g_step


def _generator_after_one_step(**mistake) -> Parameters:
    return _reference_run(**mistake)[0][0][0]


#: What the instrumented optimizers saw, in the order a learner should fix it.
TRAIN_STEP_PROBED_MISTAKES = [
    KnownAnswer("the generator's loss was computed through the discriminator *before* its update, and "
                "backpropagated before opt_d.step(): a simultaneous update (and that backward() also gave "
                "the discriminator gradients from the generator's loss).\nHint: update the discriminator "
                "first (zero_grad, backward, opt_d.step()); only then compute D(G(z)) afresh, through the "
                "updated discriminator, for the generator's loss.", "simultaneous"),
    KnownAnswer("when opt_d.step() ran, the generator already had gradients, so the discriminator's loss "
                "reached the generator.\nHint: the discriminator must see G(z).detach() (a missing detach).",
                "g_grad_at_d_step"),
    KnownAnswer("opt_d.step() moved the generator. opt_d must hold the discriminator's parameters only.",
                "g_moved_by_d"),
    KnownAnswer("the discriminator changed during the generator's update. The generator's step must move "
                "only the generator (opt_g.step(), and opt_g holds the generator's parameters only).",
                "d_moved_late"),
    KnownAnswer("an optimizer stepped with no gradient: zero_grad() ran after backward() and before step(), "
                "wiping the gradients the step needed.\nHint: the order is zero_grad(), backward(), step(), for "
                "each network.", "wiped_before_step"),
    KnownAnswer("opt_g.step() found no gradient on the generator: its loss never reached it.\nHint: compute the "
                "generator's loss on D(G(z)) with G(z) itself; G(z).detach() is for the discriminator's loss only.",
                "g_never_reached"),
]

def _flipped_labels(scores_real: torch.Tensor, scores_fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss with real labelled 0 and fake labelled 1."""
    return losses.discriminator_loss(scores_fake, scores_real)


#: Wrong discriminator updates, each the discriminator's parameters after one step.
TRAIN_STEP_DISCRIMINATOR_MISTAKES = [
    KnownAnswer("the discriminator was trained with the labels flipped (real 0, fake 1). Its loss is "
                "BCE(D(x), 1) + BCE(D(G(z).detach()), 0).",
                lambda: _reference_run(discriminator_loss=_flipped_labels)[0][0][1]),
]

#: Wrong generator updates, each the generator's parameters after one step.
TRAIN_STEP_GENERATOR_MISTAKES = [
    KnownAnswer("the generator was trained towards label 0 (BCE(D(G(z)), 0), which is also what reusing "
                "the discriminator's loss does). G wants D(G(z)) = 1: BCE(D(G(z)), 1).",
                lambda: _generator_after_one_step(
                    generator_loss=lambda scores: -losses.generator_loss(scores, saturating=True))),
    KnownAnswer("this is the saturating loss mean log(1 - D(G(z))) (also what minus the discriminator's "
                "loss amounts to); use the non-saturating BCE(D(G(z)), 1).",
                lambda: _generator_after_one_step(loss="minimax")),
]


def _check_first_step(what: str, name: str, got: Parameters, reference: Parameters,
                      mistakes: list[KnownAnswer], otherwise: str) -> None:
    """A network's parameters after the first step against the reference's: the known mistake
    they match, else ``otherwise``."""
    if same_parameters(got, reference):
        return
    hint = diagnose(got, mistakes, same=same_parameters)
    if hint:
        raise AssertionError(f"{what}: the {name}'s update is wrong.\nHint: {hint}")
    raise AssertionError(f"{what}: after one step the {name} differs from the reference.\nHint: {otherwise}")


def _two_losses(value, what: str) -> tuple[float, float]:
    expected = "(loss_d, loss_g), two floats or 0-d tensors"
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise wrong_return(value, what, expected)
    return tuple(need_number(v, what + " (in its pair)", expected) for v in value)


@learner_facing
def check_train_step(fn: Callable) -> None:
    """Check ``fn(generator, discriminator, opt_g, opt_d, x_real, z) -> (loss_d, loss_g)``.

    Expected: one discriminator update on ``(x_real, G(z).detach())`` with the discriminator loss,
    then one non-saturating generator update through the *updated* discriminator (lesson 02).
    The check runs two steps of tiny networks with SGD (x_real (16, 8), z (16, 4); the
    discriminator returns (16, 1) logits, or (16,) when labels of that shape need it) and compares
    every parameter with the package's Trainer making the same two steps. The losses come back as
    floats or 0-d tensors; x_real and z are left unchanged.
    """
    what = _STEP
    (states, returned), probes = _learner_runs(fn)
    reference_states, reference_returned = _reference_run()
    order = probes["order"]
    if order.count("d") != 2 or order.count("g") != 2:
        raise AssertionError(f"{what} called opt_d.step() {order.count('d')} times and opt_g.step() "
                             f"{order.count('g')} times over two steps; each step calls each exactly once.")
    if order[:2] != ["d", "g"]:
        raise AssertionError(f"{what} updates the generator before the discriminator. Update the "
                             f"discriminator first, then the generator through the updated discriminator.")
    seen = diagnose(probes, TRAIN_STEP_PROBED_MISTAKES, same=lambda recorded, probe: recorded[probe])
    if seen:
        raise AssertionError(f"{what}: {seen}")
    loss_d, loss_g = _two_losses(returned[0], what)
    (g1, d1), (g2, d2) = states
    (rg1, rd1), (rg2, rd2) = reference_states
    _check_first_step(what, "discriminator", d1, rd1, TRAIN_STEP_DISCRIMINATOR_MISTAKES,
                      "its loss is BCE(D(x), 1) + BCE(D(G(z).detach()), 0), with opt_d.zero_grad() before backward().")
    _check_first_step(what, "generator", g1, rg1, TRAIN_STEP_GENERATOR_MISTAKES,
                      "call opt_g.zero_grad(), then backward() on BCE(D(G(z)), 1) computed through the updated "
                      "discriminator, then opt_g.step().")
    if not (same_parameters(d2, rd2) and same_parameters(g2, rg2)):
        raise AssertionError(f"{what}: the first step is right but the second is not: gradients "
                             f"accumulate across steps.\nHint: call opt_d.zero_grad() and "
                             f"opt_g.zero_grad() before each backward().")
    reference_d, reference_g = reference_returned[0]
    if not (close(loss_d, reference_d) and close(loss_g, reference_g)):
        swapped = close(loss_d, reference_g) and close(loss_g, reference_d)
        raise AssertionError(f"{what} updates correctly but returned ({loss_d:.4f}, "
                             f"{loss_g:.4f}); expected ({reference_d:.4f}, {reference_g:.4f}).\n"
                             + ("Hint: the order is (loss_d, loss_g)." if swapped else
                                "Hint: return the discriminator loss computed before its update and the "
                                "generator loss computed through the updated discriminator."))
    passed("train_step: discriminator on detached fakes, then a non-saturating generator step through "
           "the updated discriminator; parameters match the reference over two steps")


# --- the networks' specs -----------------------------------------------------------------------

#: Hidden activations, by the name of the torch function a forward pass calls.
_HIDDEN_ACTIVATIONS = {"relu", "relu_", "leaky_relu", "leaky_relu_", "elu", "selu", "celu", "gelu", "silu",
                       "mish", "rrelu", "prelu", "hardswish", "softplus", "relu6"}
_ACTIVATION_NAMES = {"relu": "ReLU", "relu_": "ReLU", "leaky_relu": "LeakyReLU", "leaky_relu_": "LeakyReLU",
                     "elu": "ELU", "selu": "SELU", "gelu": "GELU", "silu": "SiLU", "softplus": "Softplus"}


class _ActivationRecorder(TorchFunctionMode):
    """Records the hidden activations a forward pass calls, as (name, negative slope or None),
    whether written as modules (nn.LeakyReLU) or functions (F.leaky_relu, torch.relu); and the
    order of layers and activations (``sequence``), to see where BatchNorm sits."""

    _LAYERS = {"linear", "conv2d", "conv_transpose2d", "batch_norm"}

    def __init__(self):
        super().__init__()
        self.calls: list[tuple[str, float | None]] = []
        self.sequence: list[str] = []
        self.names: set[str] = set()           # every torch function called
        self.upsampled: list[tuple[int, ...]] = []  # (H, W) into the first transposed convolution, then out of each

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        self.names.add(name)
        if name in _HIDDEN_ACTIVATIONS:
            slope = None
            if name.startswith("leaky_relu"):
                slope = kwargs.get("negative_slope", args[1] if len(args) > 1 else 0.01)
            self.calls.append((name, None if slope is None else float(slope)))
            self.sequence.append(name.rstrip("_"))
        elif name in self._LAYERS:
            self.sequence.append(name)
        result = func(*args, **kwargs)
        if name == "conv_transpose2d" and torch.is_tensor(result) and torch.is_tensor(args[0]):
            if not self.upsampled:
                self.upsampled.append(tuple(args[0].shape[-2:]))
            self.upsampled.append(tuple(result.shape[-2:]))
        return result


def _is_affine(network: nn.Module, shape: tuple[int, ...], scale: float, post: Callable = lambda y: y) -> bool:
    """Whether ``post(network(x))`` is affine in x (no hidden activation at all), in eval mode:
    f(a + b) - f(a) - f(b) + f(0) = 0 for an affine f."""
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            gen = torch.Generator().manual_seed(3)
            a, b = (torch.randn(4, *shape, generator=gen) * scale for _ in range(2))
            f = lambda x: post(network(x)).double()  # noqa: E731
            residual = f(a + b) - f(a) - f(b) + f(torch.zeros_like(a))
            return bool(residual.abs().max() <= 1e-4 * (f(a).abs().max() + f(b).abs().max() + 1e-12))
    except Exception:  # noqa: BLE001 — a network the probe cannot run: nothing to say
        return False
    finally:
        network.train(was_training)


@dataclass(frozen=True)
class NetworkSpec:
    """What an exercise's text specifies about a network, as far as a check can see it."""

    layer: type                    # the layers whose bias the spec fixes (nn.Linear, nn.ConvTranspose2d)
    biases: tuple[bool, ...]       # each such layer's bias, in order
    activation: str                # the hidden activation's function name ("leaky_relu", "relu")
    slope: float | None            # LeakyReLU's negative slope
    sizes: str                     # the sizes, for the parameter-count hint
    latent_dim: int = 0
    n_params: int = 0
    batch_norm: tuple[int, ...] = ()  # the features of the BatchNorm between each hidden layer and its activation


GENERATOR_SPECS = {
    "mlp": NetworkSpec(nn.Linear, (True, True, True), "leaky_relu", 0.2, "64 -> 256 -> 512 -> 784",
                       latent_dim=64, n_params=550_416),
    "dcgan": NetworkSpec(nn.ConvTranspose2d, (False, False, True), "relu", None,
                         "channels 100 -> 128 -> 64 -> 1 at 1×1 -> 7×7 -> 14×14 -> 28×28, a BatchNorm after each "
                         "hidden transposed convolution", latent_dim=100, n_params=759_681, batch_norm=(128, 64)),
}
DISCRIMINATOR_SPECS = {
    "mlp": NetworkSpec(nn.Linear, (True, True, True), "leaky_relu", 0.2, "784 -> 512 -> 256 -> 1",
                       n_params=533_505),
}


def _spec_for(specs: dict[str, NetworkSpec], name: str | None, **given) -> NetworkSpec | None:
    if name is not None:
        return specs[name]
    for spec in specs.values():
        if all(getattr(spec, key) == value for key, value in given.items()):
            return spec
    return None


def _check_structure(network: nn.Module, spec: NetworkSpec, recorder: _ActivationRecorder, what: str,
                     affine: Callable[[], bool]) -> None:
    """The hidden activations (type, slope, count, place) and the biases the spec states;
    ``affine()`` tells whether the network has no hidden activation at all (asked only when no
    activation function was seen: one written by hand, with torch.where, is not recorded)."""
    calls = recorder.calls
    layer_name = spec.layer.__name__
    if not calls and affine():
        slope = f"({spec.slope:g})" if spec.slope is not None else "()"
        raise AssertionError(f"{what} has no hidden activation: without one, its layers compose into a single "
                             f"linear map.\nHint: the spec puts nn.{_ACTIVATION_NAMES[spec.activation]}{slope} "
                             f"after each hidden layer.")
    expected_name = _ACTIVATION_NAMES.get(spec.activation, spec.activation)
    expected_text = f"{expected_name}({spec.slope:g})" if spec.slope is not None else f"{expected_name}"
    n_hidden = len(spec.biases) - 1
    for name, slope in calls:
        if name.rstrip("_") != spec.activation:
            found = _ACTIVATION_NAMES.get(name, name)
            extra = (" (LeakyReLU belongs to the DCGAN discriminator; its generator uses ReLU)"
                     if spec.activation == "relu" and name.startswith("leaky") else "")
            raise AssertionError(f"{what} uses {found} as a hidden activation; the spec says {expected_text}"
                                 f"{extra}.\nHint: use nn.{expected_name}"
                                 f"({'' if spec.slope is None else f'{spec.slope:g}'}) after each hidden layer.")
        if spec.slope is not None and slope is not None and not math.isclose(slope, spec.slope):
            default = " (nn.LeakyReLU() and F.leaky_relu default to 0.01)" if math.isclose(slope, 0.01) else ""
            raise AssertionError(f"{what}'s LeakyReLU has negative slope {slope:g}{default}; the spec says "
                                 f"{expected_text}.\nHint: pass the slope: nn.LeakyReLU({spec.slope:g}).")
    if calls and len(calls) != n_hidden:
        raise AssertionError(f"{what} applies {len(calls)} hidden activations; the spec has {n_hidden}, one "
                             f"after each hidden layer (none after the last).")
    if spec.batch_norm and calls:
        sequence = recorder.sequence
        before = [sequence[i - 1] if i > 0 else "" for i, op in enumerate(sequence) if op == spec.activation]
        if "batch_norm" not in sequence:
            raise AssertionError(f"{what} has no BatchNorm.\nHint: the spec puts a BatchNorm (nn.BatchNorm2d) "
                                 f"between each hidden transposed convolution and its ReLU.")
        if any(op != "batch_norm" for op in before):
            raise AssertionError(f"{what} applies its BatchNorm after the ReLU (or not after every hidden "
                                 f"layer).\nHint: the spec's order is transposed convolution -> BatchNorm -> ReLU: "
                                 f"BatchNorm normalises the convolution's output, then ReLU.")
    layers = [m for m in network.modules() if isinstance(m, spec.layer)]
    biases = tuple(m.bias is not None for m in layers)
    if len(layers) == len(spec.biases) and biases != spec.biases:
        wrong = [i + 1 for i, (b, e) in enumerate(zip(biases, spec.biases)) if b != e]
        if spec.layer is nn.ConvTranspose2d and any(biases[:-1]):
            hint = (f"the hidden transposed convolutions have bias=True; the spec says bias=False there: the "
                    f"BatchNorm right after each subtracts the batch mean, which cancels any bias. Write "
                    f"nn.ConvTranspose2d(..., bias=False), and keep the bias of the last one (no BatchNorm "
                    f"follows it).")
        elif any(not b and e for b, e in zip(biases, spec.biases)):
            hint = (f"{layer_name} layer {', '.join(map(str, wrong))} has no bias; the spec's keeps it "
                    f"(bias=True, the default).")
        else:
            hint = f"{layer_name} layer {', '.join(map(str, wrong))} has a bias; the spec's has none (bias=False)."
        raise AssertionError(f"{what}'s biases differ from the spec.\nHint: {hint}")


def _size_hint(network: nn.Module, spec: NetworkSpec, got: int) -> str:
    """What the module tree says about a wrong parameter count: Linear widths other than the
    spec's, or BatchNorm layers the spec does not have (when they account for the difference)."""
    linears = [m for m in network.modules() if isinstance(m, nn.Linear)]
    widths = [linears[0].in_features] + [m.out_features for m in linears] if linears else []
    spec_widths = [int(w) for w in re.findall(r"\d+", spec.sizes)] if spec.layer is nn.Linear else []
    if spec_widths and widths and widths != spec_widths:
        return (f"your Linear layers go {' -> '.join(map(str, widths))}; the spec's go "
                f"{' -> '.join(map(str, spec_widths))}.")
    norms = [m for m in network.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d))]
    extra = [m.num_features for m in norms]
    for features in spec.batch_norm:
        if features in extra:
            extra.remove(features)
    norm_parameters = sum(p.numel() for m in norms for p in m.parameters())
    if extra and got - spec.n_params == norm_parameters - 2 * sum(spec.batch_norm):
        where = (f"BatchNorm only after the hidden layers (over {', '.join(map(str, spec.batch_norm))} channels), "
                 f"none on the output layer" if spec.batch_norm else "no BatchNorm at all")
        return (f"the {got - spec.n_params:,} extra parameters are those of BatchNorm layers the spec does not have "
                f"(over {', '.join(map(str, extra))} features); the spec has {where}. Remove them.")
    return ""


def _latent_size_hint(latent_dim: int) -> Callable[[str], str]:
    def hint(text: str) -> str:
        found = re.search(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)", text)
        if found and int(found.group(2)) == latent_dim and int(found.group(3)) != latent_dim:
            return (f"the first Linear layer takes {found.group(3)} inputs, but z has latent_dim = {latent_dim} "
                    f"numbers per sample: build it from the constructor's argument, nn.Linear(latent_dim, ...), "
                    f"not a fixed size.")
        found = re.search(r"expected input\[[^\]]*\] to have (\d+) channels, but got (\d+) channels", text)
        if found and int(found.group(2)) == latent_dim:
            return (f"the first transposed convolution takes {found.group(1)} channels, but z has latent_dim = "
                    f"{latent_dim}: build it from the constructor's argument, not a fixed size.")
        return ""
    return hint


@learner_facing
def check_generator_spec(generator: nn.Module, latent_dim: int = 64, n_params: int = 550_416,
                         image_shape: tuple[int, int, int] = (1, 28, 28), spec: str | None = None) -> None:
    """Check a generator instance: z (16, latent_dim) -> images (16, *image_shape) in [-1, 1] from
    ``tanh``, with the specified number of parameters and, for a known spec (lesson 02's MLP,
    "mlp", the default; lesson 03's DCGAN, "dcgan", picked by its latent_dim and parameter
    count), the specified hidden activations and biases."""
    what = "your generator"
    if not isinstance(generator, nn.Module):
        raise AssertionError(f"{what} should be an nn.Module instance (did you pass the class? call it).")
    known = _spec_for(GENERATOR_SPECS, spec, latent_dim=latent_dim, n_params=n_params)
    if spec is not None:
        latent_dim, n_params = known.latent_dim, known.n_params
    torch.manual_seed(0)
    z = torch.randn(16, latent_dim) * 3  # large inputs drive the output to its range's edges
    with _ActivationRecorder() as recorder:
        out = call(generator, z, what=what, hints=[_latent_size_hint(latent_dim)])
    if not torch.is_tensor(out):
        raise wrong_return(out, f"{what}'s forward", f"images of shape {(16, *image_shape)}")
    if tuple(out.shape) != (16, *image_shape):
        if tuple(out.shape) == (16, *image_shape[1:]):
            hint = (f"the channel dimension is missing: images are (B, {', '.join(map(str, image_shape))}), with "
                    f"{image_shape[0]} channel: view the output with .view(-1, *{image_shape}).")
        elif out.numel() == 16 * math.prod(image_shape):
            hint = f"reshape the last layer's output with .view(-1, *{image_shape})."
        elif known is not None and known.layer is nn.ConvTranspose2d and out.dim() == 4:
            yours = " -> ".join("×".join(map(str, size)) for size in recorder.upsampled)
            hint = (f"each transposed convolution's kernel, stride and padding set its output size, "
                    f"(size - 1)·stride - 2·padding + kernel: yours go {yours}, the spec's "
                    f"{known.sizes.split(', ')[0].split(' at ')[1]} (your conv_transpose_output_size finds "
                    f"the kernel, stride and padding that do).")
        else:
            hint = f"the last layer must produce {math.prod(image_shape)} values per sample; check the layer sizes."
        raise AssertionError(f"{what} maps z of shape (16, {latent_dim}) to {tuple(out.shape)}; expected "
                             f"{(16, *image_shape)}.\nHint: {hint}")
    if out.min() < -1 - 1e-6 or out.max() > 1 + 1e-6:
        unused = any(isinstance(m, nn.Tanh) for m in generator.modules()) and "tanh" not in recorder.names
        raise AssertionError(f"{what}'s outputs range over [{out.min():.2f}, {out.max():.2f}]; the data "
                             f"is in [-1, 1].\nHint: " + ("it has an nn.Tanh, but forward never applies it: "
                                                         "call it on the last layer's output." if unused else
                                                         "end the generator with nn.Tanh()."))
    if out.min() >= 0:
        raise AssertionError(f"{what} never outputs a negative value: it ends in a sigmoid (range [0, 1]) "
                             f"while the data is in [-1, 1].\nHint: replace the final sigmoid with nn.Tanh().")
    if known is not None:
        _check_structure(generator, known, recorder, what, lambda: _is_affine(
            generator, (latent_dim,), 0.05, lambda y: torch.atanh(y.clamp(-0.999999, 0.999999))))
    got = count_parameters(generator)
    if got != n_params:
        hint = known is not None and _size_hint(generator, known, got)
        if hint:
            pass
        elif known is not None and known.layer is nn.ConvTranspose2d:
            hint = f"check the {known.sizes}, and each layer's kernel size."
        elif known is not None:
            hint = f"check the layer sizes ({known.sizes})."
        else:
            hint = (f"check the layer sizes ({latent_dim} -> hidden layers -> {math.prod(image_shape)}) and "
                    f"that every Linear layer keeps its bias.")
        raise AssertionError(f"{what} has {got:,} parameters; the spec gives {n_params:,}.\nHint: {hint}")
    passed(f"generator: (B, {latent_dim}) -> (B, {', '.join(map(str, image_shape))}) in [-1, 1], "
           f"{n_params:,} parameters" + (", activations and biases as specified" if known is not None else ""))


@learner_facing
def check_discriminator_spec(discriminator: nn.Module, n_params: int = 533_505,
                             image_shape: tuple[int, int, int] = (1, 28, 28), spec: str | None = None) -> None:
    """Check a discriminator instance: images (16, *image_shape) -> one raw logit per image, (16,)
    or (16, 1), with the specified number of parameters and, for lesson 02's spec, its
    LeakyReLU(0.2) activations and biases."""
    what = "your discriminator"
    if not isinstance(discriminator, nn.Module):
        raise AssertionError(f"{what} should be an nn.Module instance (did you pass the class? call it).")
    known = _spec_for(DISCRIMINATOR_SPECS, spec, n_params=n_params)
    if spec is not None:
        n_params = known.n_params
    torch.manual_seed(0)
    x = torch.rand(16, *image_shape) * 2 - 1
    discriminator.eval()
    try:
        with _ActivationRecorder() as recorder:
            out = call(discriminator, x, what=what)
        with torch.no_grad():
            big = call(discriminator, x * 50, what=what)  # push the logits far from 0
    finally:
        discriminator.train()
    if not torch.is_tensor(out):
        raise wrong_return(out, f"{what}'s forward", "one logit per image, a tensor of shape (16,) or (16, 1)")
    if tuple(out.shape) not in ((16,), (16, 1)):
        raise AssertionError(f"{what} maps 16 images to {tuple(out.shape)}; expected one score per image, (16,) "
                             f"or (16, 1).\nHint: flatten the image first (nn.Flatten()) and end with "
                             f"a Linear layer with 1 output.")
    if torch.is_tensor(big) and big.min() >= 0 and big.max() <= 1:
        raise AssertionError(f"{what}'s outputs stay in [0, 1] even for extreme inputs: it ends in a "
                             f"sigmoid.\nHint: return raw logits (no sigmoid); the loss "
                             f"binary_cross_entropy_with_logits applies the sigmoid stably.")
    if known is not None:
        _check_structure(discriminator, known, recorder, what, lambda: _is_affine(discriminator, image_shape, 1.0))
    got = count_parameters(discriminator)
    if got != n_params:
        sizes = known.sizes if known is not None else f"{math.prod(image_shape)} -> hidden layers -> 1"
        hint = (known is not None and _size_hint(discriminator, known, got)) or f"check the layer sizes ({sizes})."
        raise AssertionError(f"{what} has {got:,} parameters; the spec gives {n_params:,}.\nHint: {hint}")
    passed(f"discriminator: (B, {', '.join(map(str, image_shape))}) -> one logit per image, {n_params:,} parameters"
           + (", LeakyReLU(0.2) and biases as specified" if known is not None else ""))


# --- sampling and the judge --------------------------------------------------------------------

class _BatchNormGenerator(nn.Module):
    """A tiny generator with BatchNorm, to see whether sampling uses eval mode."""

    def __init__(self):
        super().__init__()
        self.latent_dim = 8
        self.net = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 784), nn.Tanh())
        self.seen: list[torch.Tensor] = []

    def forward(self, z):
        self.seen.append(z.detach().clone())
        return self.net(z).view(-1, 1, 28, 28)


def _sampling_latent_hint(text: str) -> str:
    found = re.search(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)", text)
    if found and int(found.group(2)) != 8 and int(found.group(3)) == 8:
        return (f"z has {found.group(2)} numbers per sample, but this generator takes generator.latent_dim = 8 "
                f"(the check's generator is a small one): draw torch.randn(n, generator.latent_dim) instead of "
                f"a fixed size.")
    return ""


@learner_facing
def check_sample_images(fn: Callable) -> None:
    """Check ``fn(generator, n) -> images (n, 1, 28, 28)``: fresh Gaussian noise N(0, I) of size
    ``generator.latent_dim`` (8 for the check's small BatchNorm generator), eval mode, no
    gradients, and the generator left in the mode it was in (training)."""
    what = "your sample_images"
    torch.manual_seed(0)
    generator = _BatchNormGenerator()
    generator(torch.randn(64, 8))  # give BatchNorm some running statistics
    stats = generator.net[1].running_mean.clone()
    generator.train()
    generator.seen.clear()
    rng_states = [torch.random.get_rng_state()]
    images = call(fn, generator, 10, what=what, hints=[_sampling_latent_hint])
    rng_states.append(torch.random.get_rng_state())
    noise = torch.cat([z.flatten() for z in generator.seen]) if generator.seen else None
    if noise is not None and noise.numel() >= 20 and ((noise >= 0).all() or not 0.5 < float(noise.std()) < 2.0):
        drawn = ("no negative values: torch.rand draws U(0, 1)" if (noise >= 0).all()
                 else f"a standard deviation of {float(noise.std()):.2f}")
        raise AssertionError(f"{what} fed the generator noise with {drawn}; the generator was trained on "
                             f"Gaussian noise N(0, I).\nHint: draw z with torch.randn(n, generator.latent_dim).")
    if not torch.is_tensor(images) or tuple(images.shape) != (10, 1, 28, 28):
        if not torch.is_tensor(images):
            raise wrong_return(images, f"{what}(generator, 10)", "a tensor of shape (10, 1, 28, 28)")
        raise AssertionError(f"{what}(generator, 10) returned {tuple(images.shape)}; expected (10, 1, 28, 28).\n"
                             f"Hint: draw z of shape (n, generator.latent_dim) and pass it through the generator.")
    if images.requires_grad:
        raise AssertionError(f"{what} returned images that track gradients.\nHint: sample under "
                             f"torch.no_grad(): nothing is being trained, and it saves memory.")
    if not torch.equal(generator.net[1].running_mean, stats):
        raise AssertionError(f"{what} changed the generator's BatchNorm statistics: it sampled in training "
                             f"mode.\nHint: call generator.eval() before sampling (BatchNorm then uses its "
                             f"running statistics), and generator.train() afterwards.")
    if not generator.training:
        raise AssertionError(f"{what} left the generator in eval mode.\nHint: put it back with "
                             f"generator.train() after sampling, or training would go on in eval mode.")
    if torch.allclose(images[0], images[1]):
        raise AssertionError(f"{what} returned the same image twice.\nHint: draw a different z for every "
                             f"sample: torch.randn(n, latent_dim).")
    again = call(fn, generator, 10, what=what)
    rng_states.append(torch.random.get_rng_state())
    if torch.allclose(images, need_tensor(again, what, "a tensor of shape (10, 1, 28, 28)")):
        reseeds = not torch.equal(rng_states[0], rng_states[1]) and torch.equal(rng_states[1], rng_states[2])
        raise AssertionError(f"{what} returns the same images on every call.\nHint: " + (
            "it seeds the random number generator itself (torch.manual_seed inside the function), so every call "
            "draws the same z, and the notebook's random stream starts over each time. Seed once, outside, if at "
            "all." if reseeds else "draw fresh noise each call instead of reusing a fixed z."))
    passed("sample_images: fresh noise, eval mode, no gradients, the generator's mode restored")


def _predicted(judge: nn.Module, images: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return judge(images).argmax(1)


#: Known wrong histograms, each a function of (judge, images).
HISTOGRAM_MISTAKES = [
    KnownAnswer("these are counts; divide by the number of images to get shares.",
                lambda judge, images: torch.bincount(_predicted(judge, images), minlength=10).double()),
    KnownAnswer("this averages the judge's probabilities; the histogram counts each image once, for "
                "its most likely digit (argmax).",
                lambda judge, images: torch.softmax(judge(images).detach(), 1).double().mean(0)),
    KnownAnswer("the argmax ran over dimension 0, the images: it found, for each digit, the image that scores "
                "it highest. Take it over the digits, dimension 1: judge(images).argmax(dim=1).",
                lambda judge, images: torch.bincount(judge(images).detach().argmax(0), minlength=10)[:10].double()
                / len(images)),
    KnownAnswer("this counts every digit whose sigmoid passes 0.5, as if an image could be several digits; the "
                "judge's 10 logits are one softmax: count each image once, for its argmax.",
                lambda judge, images: (torch.sigmoid(judge(images).detach()) > 0.5).double().mean(0)),
    KnownAnswer("these are percentages; the shares are fractions that sum to 1 (don't multiply by 100).",
                lambda judge, images: 100 * torch.bincount(_predicted(judge, images), minlength=10).double()
                / len(images)),
]


@learner_facing
def check_digit_histogram(fn: Callable) -> None:
    """Check ``fn(judge, images) -> (10,)`` share of images the judge assigns to each digit, each
    image counted once, for its most likely digit; ``judge(images)`` gives (N, 10) logits for
    float32 images (300, 1, 28, 28) in [-1, 1]."""
    what = "your digit_histogram"
    judge = metrics.load_judge()
    gen = torch.Generator().manual_seed(0)
    images = (torch.rand(300, 1, 28, 28, generator=gen) * 2 - 1) * torch.linspace(0.1, 1, 300).view(-1, 1, 1, 1)
    _, probs = judge.embed(images)
    expected = metrics.digit_histogram(probs)
    got = need_tensor(call(fn, judge, images.clone(), what=what), what,
                      "a tensor of shape (10,): the share of each digit").detach().to(torch.float64)
    if got.shape != (10,):
        raise AssertionError(f"{what} returned shape {tuple(got.shape)}; expected (10,), one share per "
                             f"digit.\nHint: torch.bincount(..., minlength=10) counts digits that never "
                             f"appear as 0.")
    if not close(got, expected, atol=1e-6):
        fail_with_hint(what, got, expected, diagnose(got, HISTOGRAM_MISTAKES, judge, images) or
                       "classify each image (argmax of the judge's logits), then count each digit's share.")
    passed("digit_histogram: the share of images the judge assigns to each digit")


# --- judgment: three training histories --------------------------------------------------------

def three_runs() -> dict[str, dict]:
    """Three constructed (not trained) MNIST GAN runs, 'A' to 'C', each a ``History`` (a row every
    50 steps to step 3,000, the columns the Trainer logs), the judge's digit histogram of 2,000
    final samples (10 shares) and its confident share. One is healthy, one collapsed and in one
    the discriminator wins. The exhibit of Exercise 5; deterministic (seeded noise)."""
    from gancourse.training import History

    gen = torch.Generator().manual_seed(5)
    steps = torch.arange(50, 3001, 50, dtype=torch.float64)
    progress = steps / 3000

    def noisy(curve: torch.Tensor, scale: float) -> list[float]:
        return (curve + scale * torch.randn(len(steps), generator=gen, dtype=torch.float64)).tolist()

    def history(loss_d, loss_g, d_real, d_fake, grad_d, grad_g) -> History:
        columns = zip(steps.long().tolist(), loss_d, loss_g, d_real, d_fake, grad_d, grad_g, (0.02 * steps).tolist())
        return History(rows=[dict(zip(History.COLUMNS, row)) for row in columns])

    flat = torch.ones(len(steps), dtype=torch.float64)
    settle = torch.exp(-progress * 12)                                    # the first few hundred steps
    wins = 1 - torch.exp(-progress * 4)                                   # D pulls away over the run
    runs = {
        "A": (history(noisy(1.24 + 0.15 * settle, 0.04), noisy(0.86 - 0.1 * settle, 0.05),
                      noisy(0.55 + 0.05 * settle, 0.015), noisy(0.45 - 0.05 * settle, 0.015),
                      noisy(1.6 * flat, 0.1), noisy(0.9 * flat, 0.08)),
              [0.01, 0.58, 0.01, 0.02, 0.01, 0.01, 0.01, 0.33, 0.01, 0.01], 0.93),
        "B": (history(noisy(1.3 - 1.27 * wins, 0.01), noisy(0.9 + 5.6 * wins, 0.15),
                      noisy(0.6 + 0.39 * wins, 0.003), noisy(0.4 - 0.396 * wins, 0.002),
                      noisy(1.2 - 1.1 * wins, 0.02), noisy(1.0 - 0.97 * wins, 0.005)),
              [0.07, 0.03, 0.14, 0.18, 0.05, 0.12, 0.06, 0.04, 0.22, 0.09], 0.06),
        "C": (history(noisy(1.18 + 0.2 * settle, 0.05), noisy(0.95 - 0.1 * settle, 0.06),
                      noisy(0.6 - 0.05 * settle, 0.015), noisy(0.37 + 0.05 * settle, 0.015),
                      noisy(1.8 * flat, 0.1), noisy(1.1 * flat, 0.08)),
              [0.10, 0.12, 0.09, 0.10, 0.09, 0.08, 0.11, 0.11, 0.09, 0.11], 0.84),
    }
    return {name: {"history": h, "histogram": torch.tensor(shares), "confident_share": confident}
            for name, (h, shares, confident) in runs.items()}


VERDICTS = {
    "healthy": ["healthy run", "healthy training", "ok", "fine", "good", "normal", "stable", "converging"],
    "discriminator wins": ["D wins", "discriminator wins", "the discriminator wins", "D dominates",
                           "discriminator dominates", "D too strong", "discriminator too strong", "strong D",
                           "D won", "discriminator won", "D winning", "discriminator winning", "D is winning",
                           "the discriminator is winning"],
    "collapse": ["mode collapse", "collapsed", "collapsing", "mode collapsed", "partial collapse",
                 "partial mode collapse", "mode dropping", "generator collapse", "the generator collapsed"],
}
_RIGHT_VERDICTS = {"A": "collapse", "B": "discriminator wins", "C": "healthy"}


def _run_evidence(name: str, run: dict) -> list[KnownAnswer]:
    """Why each wrong verdict on run ``name`` is wrong, with its numbers: its last 3 log rows
    (the ones the exercise prints) and its digit histogram."""
    last = run["history"].rows[-3:]
    mean = {key: sum(row[key] for row in last) / len(last) for key in ("loss_d", "loss_g", "d_real", "d_fake")}
    shares = run["histogram"]
    top2 = shares.topk(2)
    end = (f"over its last 3 log rows (printed above) loss_d is {mean['loss_d']:.2f}, D(x) {mean['d_real']:.3f} and D(G(z)) "
           f"{mean['d_fake']:.3f}")
    spread = (f"its digit shares run from {float(shares.min()):.0%} to {float(shares.max()):.0%} with "
              f"{run['confident_share']:.0%} of samples confident")
    calm = f"run {name}: {end}"
    not_winning = "nowhere near D(x) -> 1 and D(G(z)) -> 0: the discriminator is not winning"
    collapsed = (f"the judge puts {float(top2.values.sum()):.0%} of its samples on two digits ({int(top2.indices[0])} "
                 f"and {int(top2.indices[1])}), {run['confident_share']:.0%} of them confident: the generator draws a "
                 f"few digits well and drops the rest. Losses do not show collapse; the digit histogram does.")
    first_loss_g = run["history"].rows[0]["loss_g"]
    wins = (f"{calm}, loss_g {mean['loss_g']:.1f} (from {first_loss_g:.1f} at the start): D(x) -> 1 and "
            f"D(G(z)) -> 0 is the discriminator winning. Only {run['confident_share']:.0%} of its samples are "
            f"confident digits, so its digit histogram sorts noise, not digits.")
    return {"A": [KnownAnswer(f"{calm}, calm as a healthy run, but {collapsed}", "healthy"),
                  KnownAnswer(f"{calm}: {not_winning}. But {collapsed}", "discriminator wins")],
            "B": [KnownAnswer(wins, "healthy"), KnownAnswer(wins, "collapse")],
            "C": [KnownAnswer(f"{calm}: {not_winning}; and {spread}.", "discriminator wins"),
                  KnownAnswer(f"{calm}, a calm band, and {spread}: every digit is drawn, nothing collapsed.",
                              "collapse")]}[name]


def _run_name(key) -> str:
    """'A' for a dict key 'A', 'a', ' a ' or 'run A'."""
    text = str(key).strip().upper()
    return text[4:].strip() if text.startswith("RUN ") else text


@learner_facing
def check_run_verdicts(verdicts) -> None:
    """Check ``verdicts``: for the runs of :func:`three_runs`, a dict {'A': verdict, 'B': ...,
    'C': ...} or a list or tuple of three verdicts in the order A, B, C; each verdict 'healthy',
    'discriminator wins' (or 'D wins') or 'collapse' (or 'mode collapse'), in any case."""
    what = "your run_verdicts"
    names = list(_RIGHT_VERDICTS)
    expected = "a dict {'A': ..., 'B': ..., 'C': ...} (or a list of three verdicts, in the order A, B, C)"
    if isinstance(verdicts, dict):
        verdicts = {_run_name(key): verdict for key, verdict in verdicts.items()}
        if sorted(verdicts) != names:
            raise AssertionError(f"{what} has the keys {sorted(verdicts)}; it should have one verdict per run, "
                                 f"keys 'A', 'B' and 'C'.")
    elif isinstance(verdicts, (list, tuple)) and len(verdicts) == 3:
        verdicts = dict(zip(names, verdicts))
    else:
        raise AssertionError(f"{what} is {describe(verdicts)}; it should be {expected}.")
    runs = three_runs()
    for name in names:
        check_choice(verdicts[name], f"your verdict on run {name}", VERDICTS, _RIGHT_VERDICTS[name],
                     _run_evidence(name, runs[name]))
    passed("run A collapsed (calm losses, two digits), in run B the discriminator wins (D(x) -> 1, "
           "D(G(z)) -> 0), run C is healthy")
