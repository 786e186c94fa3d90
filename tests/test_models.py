import copy

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


def test_pack_concatenates_consecutive_samples():
    from gancourse.models import pack

    x = torch.arange(12.0).reshape(6, 2)
    assert torch.equal(pack(x, 2), torch.tensor([[0.0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]))
    assert pack(torch.zeros(8, 1, 28, 28), 4).shape == (2, 4 * 784)
    with pytest.raises(ValueError, match="multiple of 4"):
        pack(torch.zeros(6, 2), 4)


def test_packed_discriminators_score_groups():
    from gancourse.models import ToyDiscriminator

    assert ToyDiscriminator(pack=4)(torch.randn(12, 2)).shape == (3,)
    assert MLPDiscriminator(pack=2)(torch.randn(6, 1, 28, 28)).shape == (3,)
    # a group's score depends on every member of the group, and only on it
    d = ToyDiscriminator(pack=2)
    x = torch.randn(4, 2)
    y = x.clone()
    y[1] += 1.0
    assert d(x)[0] != d(y)[0] and d(x)[1] == d(y)[1]


def test_minibatch_std_feature_sees_the_batch():
    from gancourse.models import MinibatchStd, ToyDiscriminator

    x = torch.randn(64, 5)
    out = MinibatchStd()(x)
    assert out.shape == (64, 6) and torch.equal(out[:, :5], x)
    assert torch.allclose(out[:, 5], x.std(0, unbiased=False).mean().expand(64))
    assert MinibatchStd()(torch.ones(8, 5))[:, 5].abs().max() == 0  # a collapsed batch: zero spread
    # with the feature, one sample's score depends on the rest of the batch
    d = ToyDiscriminator(minibatch_std=True)
    x = torch.randn(16, 2)
    y = x.clone()
    y[5:] = 0.0
    assert d(x)[0] != d(y)[0]
    assert MLPDiscriminator(minibatch_std=True)(torch.randn(4, 1, 28, 28)).shape == (4,)


def test_ensemble_members_match_their_originals_and_train_independently():
    from gancourse.models import Ensemble, ToyDiscriminator, ToyGenerator
    from gancourse.training import Trainer, TrainConfig

    torch.manual_seed(0)
    gs = [ToyGenerator() for _ in range(3)]
    ds = [ToyDiscriminator(pack=2) for _ in range(3)]
    G, D = Ensemble(copy.deepcopy(m) for m in gs), Ensemble(copy.deepcopy(m) for m in ds)
    z = torch.randn(3 * 8, 2)
    assert torch.allclose(G(z), torch.cat([g(zk) for g, zk in zip(gs, z.chunk(3))]), atol=1e-6)
    assert D(z).shape == (12,) and G.latent_dim == 2 and G.split(G(z)).shape == (3, 8, 2)
    # three training steps of the ensemble = three steps of member 1 alone on its block (Adam)
    config = dict(lr_g=1e-3, lr_d=1e-3, snapshot_every=0)
    ensemble = Trainer(G, D, torch.zeros(10, 2), TrainConfig(batch_size=24, **config), "cpu")
    alone = Trainer(gs[1], ds[1], torch.zeros(10, 2), TrainConfig(batch_size=8, **config), "cpu")
    for _ in range(3):
        x, z = torch.randn(24, 2), torch.randn(24, 2)
        ensemble.step_with(x, z)
        alone.step_with(x[8:16], z[8:16])
    for name, weight in G.member(1).state_dict().items():
        assert torch.allclose(weight, gs[1].state_dict()[name], atol=1e-6), name
    for name, weight in D.member(1).state_dict().items():
        assert torch.allclose(weight, ds[1].state_dict()[name], atol=1e-6), name
    with pytest.raises(ValueError, match="no buffers"):
        Ensemble([MLPGenerator(batchnorm=True), MLPGenerator(batchnorm=True)])
    with pytest.raises(ValueError, match="multiple of 3"):
        G(torch.randn(4, 2))


# --- conditional models (lesson 06) ----------------------------------------------------------------

from gancourse.models import (ConditionalDCGANDiscriminator, ConditionalDCGANGenerator,  # noqa: E402
                              ConditionalMLPDiscriminator, ConditionalMLPGenerator)


def test_conditional_models_shapes_and_labels_steer_the_output():
    torch.manual_seed(0)
    z, y = torch.randn(6, 64), torch.tensor([0, 1, 2, 3, 4, 9])
    for generator in (ConditionalMLPGenerator(latent_dim=64).eval(), ConditionalDCGANGenerator(latent_dim=64, width=8).eval()):
        images = generator(z, y)
        assert images.shape == (6, 1, 28, 28) and images.abs().max() <= 1
        assert not torch.allclose(generator(z, y), generator(z, (y + 1) % 10))  # the label changes the image
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    for conditioning in ("concat", "projection"):
        for discriminator in (ConditionalMLPDiscriminator(conditioning=conditioning, dropout=0.0),
                              ConditionalDCGANDiscriminator(conditioning=conditioning, width=8).eval()):
            logits = discriminator(x, y)
            assert logits.shape == (6,)
            assert not torch.allclose(logits, discriminator(x, (y + 1) % 10))


def test_projection_logit_is_psi_plus_inner_product():
    torch.manual_seed(0)
    discriminator = ConditionalMLPDiscriminator(conditioning="projection", dropout=0.0, hidden=(32, 16))
    x, y = torch.rand(5, 1, 28, 28), torch.tensor([1, 1, 7, 0, 3])
    features = discriminator.phi(x.flatten(1))
    expected = discriminator.psi(features).squeeze(1) + (discriminator.embed.weight[y] * features).sum(1)
    torch.testing.assert_close(discriminator(x, y), expected)
    assert discriminator.embed.weight.shape == (10, 16)  # one vector per class, φ's width


def test_conditional_models_refuse_bad_arguments():
    with pytest.raises(ValueError, match="conditioning"):
        ConditionalMLPDiscriminator(conditioning="add")
    with pytest.raises(ValueError, match="conditioning"):
        ConditionalDCGANDiscriminator(conditioning="add")
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        ConditionalMLPGenerator(latent_dim=8)(torch.randn(4, 8), torch.tensor([[1], [2], [3], [4]]))


def test_ensemble_train_matches_each_member_trained_alone_on_its_block():
    # Trainer.train on an ensemble of K = 3 draws K·B real points and K·B noise vectors per step
    # from its own random generator; member k must end where a lone Trainer ends after stepping
    # on block k of the same draws (same init, same Adam settings), to float tolerance. A bug in
    # the gradient scale, the block order or the batch split makes them differ at the first step.
    from gancourse import toy
    from gancourse.models import Ensemble, ToyDiscriminator, ToyGenerator
    from gancourse.training import Trainer, TrainConfig

    K, B, steps = 3, 32, 25
    data = toy.ring().sample(5000, torch.Generator().manual_seed(0))
    pairs = []
    for seed in range(K):
        torch.manual_seed(seed)
        pairs.append((ToyGenerator(hidden=(32, 32)), ToyDiscriminator(hidden=(32, 32))))
    G, D = Ensemble(copy.deepcopy(g) for g, _ in pairs), Ensemble(copy.deepcopy(d) for _, d in pairs)
    config = dict(lr_g=1e-3, lr_d=1e-3, snapshot_every=0, seed=7)
    ensemble = Trainer(G, D, data, TrainConfig(batch_size=K * B, **config), "cpu")
    ensemble.train(steps, progress=False)
    rng = torch.Generator().manual_seed(7)  # replay the ensemble trainer's draws: fixed noise, then per step
    torch.randn(64, 2, generator=rng)       # real indices and noise
    draws = [(data[torch.randint(len(data), (K * B,), generator=rng)], torch.randn(K * B, 2, generator=rng))
             for _ in range(steps)]
    for k, (g, d) in enumerate(pairs):
        alone = Trainer(g, d, data, TrainConfig(batch_size=B, **config), "cpu")
        for x, z in draws:
            alone.step_with(x[k * B:(k + 1) * B], z[k * B:(k + 1) * B])
        for ours, theirs in ((G.member(k), g), (D.member(k), d)):
            for name, weight in ours.state_dict().items():
                torch.testing.assert_close(weight, theirs.state_dict()[name], rtol=0, atol=1e-5, msg=f"member {k} {name}")
