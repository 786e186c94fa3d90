import pytest
import torch

from gancourse.models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
                              count_parameters, init_dcgan_weights_)


def test_mlp_shapes_range_and_sizes():
    generator, discriminator = MLPGenerator(latent_dim=64), MLPDiscriminator()
    x = generator(torch.randn(5, 64))
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1
    assert discriminator(x).shape == (5,)
    assert count_parameters(generator) == 550_416
    assert count_parameters(discriminator) == 533_505


@pytest.mark.parametrize("size, channels, g_params, d_params", [
    (28, 1, 759_681, 138_689), (32, 3, 1_068_931, 663_361), (64, 3, 3_576_707, 2_765_633),
])
def test_dcgan_shapes_range_and_sizes(size, channels, g_params, d_params):
    generator = DCGANGenerator(latent_dim=100, image_size=size, channels=channels)
    discriminator = DCGANDiscriminator(image_size=size, channels=channels)
    x = generator(torch.randn(3, 100))
    assert x.shape == (3, channels, size, size) and x.abs().max() <= 1
    assert discriminator(x).shape == (3,)
    assert (count_parameters(generator), count_parameters(discriminator)) == (g_params, d_params)


def test_dcgan_generator_shape_trace_28():
    generator = DCGANGenerator(latent_dim=100)
    x = torch.randn(2, 100).view(2, 100, 1, 1)
    sizes = []
    for layer in generator.net:
        x = layer(x)
        if isinstance(layer, torch.nn.ConvTranspose2d):
            sizes.append(x.shape[-1])
    assert sizes == [7, 14, 28]


@pytest.mark.parametrize("norm", ["none", "spectral"])
def test_critic_variants_have_no_batchnorm(norm):
    critic = DCGANDiscriminator(norm=norm)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in critic.modules())
    assert critic(torch.randn(4, 1, 28, 28)).shape == (4,)


def test_spectral_norm_bounds_each_layer():
    critic = DCGANDiscriminator(norm="spectral", width=16)
    for _ in range(30):  # power iterations run in training-mode forwards
        critic(torch.randn(8, 1, 28, 28))
    critic.eval()
    conv = critic.net[0]
    sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2).item()
    assert sigma == pytest.approx(1.0, abs=0.05)


def test_dcgan_init_statistics():
    generator = init_dcgan_weights_(DCGANGenerator(width=64, dcgan_init=False))
    conv = torch.cat([m.weight.flatten() for m in generator.modules() if isinstance(m, torch.nn.ConvTranspose2d)])
    bn = torch.cat([m.weight.flatten() for m in generator.modules() if isinstance(m, torch.nn.BatchNorm2d)])
    assert conv.mean().abs() < 1e-3 and conv.std().item() == pytest.approx(0.02, rel=0.02)
    assert bn.mean().item() == pytest.approx(1.0, abs=0.01) and bn.std().item() == pytest.approx(0.02, rel=0.2)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="image_size"):
        DCGANGenerator(image_size=48)
    with pytest.raises(ValueError, match="norm"):
        DCGANDiscriminator(norm="layer")
