import math
import os
import signal
import time

import pytest
import torch
from torch import nn

from gancourse.models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, ToyDiscriminator,
                              ToyGenerator)
from gancourse.training import LOSS_FAMILIES, LOSSES, NonFiniteLossError, Trainer, TrainConfig, loss_family


def fake_images(n=64, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def small_mlp():
    torch.manual_seed(0)
    return MLPGenerator(latent_dim=8, hidden=(32,)), MLPDiscriminator(hidden=(32,))


def params(module):
    return [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize("loss", LOSSES)
def test_one_step_is_finite_and_moves_both_networks(loss):
    generator, discriminator = small_mlp()
    g0, d0 = params(generator), params(discriminator)
    trainer = Trainer(generator, discriminator, fake_images(),
                      TrainConfig.preset(loss, batch_size=16, log_every=1, snapshot_every=0), "cpu")
    history = trainer.train(1, progress=False)
    row = history.rows[-1]
    assert all(torch.isfinite(torch.tensor(row[k])) for k in ("loss_d", "loss_g", "grad_norm_d", "grad_norm_g"))
    assert any(not torch.equal(a, b) for a, b in zip(g0, params(generator)))
    assert any(not torch.equal(a, b) for a, b in zip(d0, params(discriminator)))
    if loss == "wgan-clip":
        assert all(p.abs().max() <= 0.01 for p in discriminator.parameters())


def test_dcgan_step_on_images_uses_channels_last_and_snapshots():
    torch.manual_seed(0)
    trainer = Trainer(DCGANGenerator(latent_dim=16, width=8), DCGANDiscriminator(width=8), fake_images(),
                      TrainConfig(batch_size=8, log_every=2, snapshot_every=2, n_snapshot=4), "cpu")
    history = trainer.train(4, progress=False)
    assert [row["step"] for row in history.rows] == [2, 4]
    assert [step for step, _ in history.snapshots] == [0, 2, 4]
    assert history.snapshots[-1][1].dtype == torch.uint8 and history.snapshots[-1][1].shape == (4, 1, 28, 28)
    assert trainer.data.is_contiguous(memory_format=torch.channels_last)


def test_same_seed_same_samples():
    runs = []
    for _ in range(2):
        generator, discriminator = small_mlp()
        trainer = Trainer(generator, discriminator, fake_images(), TrainConfig(batch_size=16, seed=3), "cpu")
        trainer.train(5, progress=False)
        runs.append(trainer.sample())
    torch.testing.assert_close(runs[0], runs[1], rtol=0, atol=0)


@pytest.mark.parametrize("loss", ["non-saturating", "wgan-gp"])
def test_resume_reproduces_an_uninterrupted_run(tmp_path, loss):
    config = TrainConfig.preset(loss, batch_size=16, log_every=3, snapshot_every=4, n_critic=2)
    generator, discriminator = small_mlp()
    straight = Trainer(generator, discriminator, fake_images(), config, "cpu")
    straight.train(10, progress=False)

    generator, discriminator = small_mlp()
    first = Trainer(generator, discriminator, fake_images(), config, "cpu")
    first.train(6, progress=False)
    first.save(tmp_path / "run.pt")
    assert not (tmp_path / "run.pt.tmp").exists()
    generator, discriminator = small_mlp()
    resumed = Trainer.load(tmp_path / "run.pt", generator, discriminator, fake_images(), "cpu")
    assert resumed.step == 6
    resumed.train(4, progress=False)
    for a, b in zip(params(straight.generator) + params(straight.discriminator),
                    params(resumed.generator) + params(resumed.discriminator)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert [s for s, _ in resumed.history.snapshots] == [s for s, _ in straight.history.snapshots]


def test_load_refuses_other_files(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    generator, discriminator = small_mlp()
    with pytest.raises(ValueError, match="not a gancourse checkpoint"):
        Trainer.load(tmp_path / "other.pt", generator, discriminator, fake_images(), "cpu")


def test_nan_stops_with_the_step_and_the_loss():
    class Explodes(nn.Module):
        """A discriminator whose scores turn NaN from its 15th call on (step 5 with n_critic 1)."""
        def __init__(self):
            super().__init__()
            self.inner, self.calls = MLPDiscriminator(hidden=(8,)), 0

        def forward(self, x):
            self.calls += 1
            out = self.inner(x)
            return out * float("nan") if self.calls > 12 else out  # 3 calls per step
    generator, _ = small_mlp()
    trainer = Trainer(generator, Explodes(), fake_images(), TrainConfig(batch_size=8, log_every=4), "cpu")
    with pytest.raises(NonFiniteLossError, match="loss_d became nan at step 5"):
        trainer.train(8, progress=False)


def test_ctrl_c_stops_cleanly_after_the_current_step(capsys):
    class InterruptsOnce(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner, self.calls = MLPGenerator(latent_dim=8, hidden=(16,)), 0
            self.latent_dim = 8

        def forward(self, z):
            self.calls += 1
            if self.calls == 3:  # during step 3 (snapshot at step 0 was call 1)
                os.kill(os.getpid(), signal.SIGINT)
            return self.inner(z)
    _, discriminator = small_mlp()
    trainer = Trainer(InterruptsOnce(), discriminator, fake_images(), TrainConfig(batch_size=8, log_every=50), "cpu")
    before = signal.getsignal(signal.SIGINT)  # Python's default, or SIG_IGN under `nohup ... &`
    history = trainer.train(100, progress=False)
    assert trainer.step == 2 and history.rows[-1]["step"] == 2
    assert "stopped cleanly after step 2" in capsys.readouterr().out
    assert all(torch.isfinite(p).all() for p in trainer.generator.parameters())
    assert signal.getsignal(signal.SIGINT) == before  # the previous handler is restored
    trainer.train(3, progress=False)  # and training goes on from there
    assert trainer.step == 5


def test_history_table_and_plot():
    generator, discriminator = small_mlp()
    trainer = Trainer(generator, discriminator, fake_images(), TrainConfig(batch_size=8, log_every=2), "cpu")
    history = trainer.train(6, progress=False)
    table = history.table()
    assert table.splitlines()[0].split() == list(history.COLUMNS) and len(table.splitlines()) == 4
    fig = history.plot(smooth=2)
    assert len(fig.axes) == 3 and fig.axes[0].get_xlabel() == "generator step"


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="unknown loss"):
        TrainConfig(loss="wasserstein")
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    for bad, message in [(dict(batch_size=1.5), "batch_size must be a whole number, not 1.5"),
                         (dict(n_critic=True), "n_critic must be a whole number"),
                         (dict(lr_d="fast"), "lr_d must be a number >= 0, not 'fast'"),
                         (dict(lr_g=float("nan")), "lr_g must be a number"),
                         (dict(betas=(0.5,)), "betas must be two numbers in"),
                         (dict(betas=(0.5, 1.0)), "betas must be two numbers in"),
                         (dict(snapshot_every=-1), "snapshot_every must be at least 0"),
                         (dict(latent_dim=0), "latent_dim must be at least 1"),
                         (dict(amp="yes"), "amp must be True, False or None")]:
        with pytest.raises(ValueError, match=message):
            TrainConfig(**bad)
    assert TrainConfig(betas=[0.5, 0.9], lr_g=1, grad_clip_norm=1).betas == (0.5, 0.9)  # ints and lists are fine


def test_a_checkpoint_continues_only_in_a_trainer_like_its_own(tmp_path):
    generator, discriminator = small_mlp()
    trainer = Trainer(generator, discriminator, fake_images(), TrainConfig(batch_size=8, snapshot_every=0), "cpu")
    trainer.train(2, progress=False)
    path = trainer.save(tmp_path / "run.pt")
    state = torch.load(path, weights_only=True)
    other = Trainer(*small_mlp(), fake_images(), TrainConfig(loss="hinge", batch_size=8, snapshot_every=0), "cpu")
    with pytest.raises(ValueError, match="loss 'non-saturating' \\(checkpoint\\) vs 'hinge' \\(this trainer\\)"):
        other.load_state_dict(state)
    sgd = Trainer(*small_mlp(), fake_images(), TrainConfig(optimizer="sgd", batch_size=8, snapshot_every=0), "cpu")
    with pytest.raises(ValueError, match="optimizer 'adam' \\(checkpoint\\) vs 'sgd'"):
        sgd.load_state_dict(state)
    wider = Trainer(MLPGenerator(latent_dim=8, hidden=(64,)), MLPDiscriminator(hidden=(32,)), fake_images(),
                    TrainConfig(batch_size=8, snapshot_every=0), "cpu")
    with pytest.raises(ValueError, match="does not fit these models or optimizers"):
        wider.load_state_dict(state)
    same = Trainer(*small_mlp(), fake_images(), TrainConfig(batch_size=8, snapshot_every=0), "cpu")
    same.load_state_dict(state)
    assert same.step == 2


def test_custom_losses_replace_the_configured_ones():
    calls = []

    def my_loss_d(real, fake):
        calls.append("d")
        return torch.nn.functional.softplus(-real).mean() + torch.nn.functional.softplus(fake).mean()

    def my_loss_g(fake):
        calls.append("g")
        return -fake.mean()
    generator, discriminator = small_mlp()
    trainer = Trainer(generator, discriminator, fake_images(), TrainConfig(batch_size=8, log_every=1), "cpu",
                      discriminator_loss=my_loss_d, generator_loss=my_loss_g)
    history = trainer.train(2, progress=False)
    assert calls == ["d", "g", "d", "g"] and all(torch.isfinite(torch.tensor(r["loss_g"])) for r in history.rows)


def test_sgd_momentum_carries_the_previous_update_into_the_next():
    # Heavy ball: v <- m·v + g; w <- w - lr·v. The first step of SGD with and without momentum is
    # the same; in the second, the discriminator (whose gradient is the same in both runs, since
    # both start the step from the same weights and batch) moves m times its first step further.
    batches = [(fake_images(8, seed=10 + i), torch.randn(8, 8, generator=torch.Generator().manual_seed(i)))
               for i in range(2)]
    runs = {}
    for momentum in (0.0, 0.5):
        generator, discriminator = small_mlp()
        trainer = Trainer(generator, discriminator, fake_images(), TrainConfig(
            optimizer="sgd", lr_g=0.05, lr_d=0.05, momentum=momentum, batch_size=8, amp=False), "cpu")
        assert isinstance(trainer.opt_d, torch.optim.SGD)
        states = [params(discriminator)]
        for x_real, z in batches:
            trainer.step_with(x_real, z)
            states.append(params(discriminator))
        runs[momentum] = states
    (d0, d1_plain, d2_plain), (_, d1_momentum, d2_momentum) = runs[0.0], runs[0.5]
    for a, b in zip(d1_plain, d1_momentum):
        torch.testing.assert_close(a, b)  # step 1: the buffer is just the gradient
    moved = sum(float((b - a).abs().sum()) for a, b in zip(d1_plain, d2_plain))
    assert moved > 0
    for w0, w1, plain, heavy in zip(d0, d1_plain, d2_plain, d2_momentum):
        torch.testing.assert_close(heavy - plain, 0.5 * (w1 - w0), rtol=1e-4, atol=1e-6)


def test_step_with_matches_a_step_written_by_hand():
    import copy
    generator, discriminator = small_mlp()
    g2, d2 = copy.deepcopy(generator), copy.deepcopy(discriminator)
    trainer = Trainer(generator, discriminator, fake_images(), TrainConfig(batch_size=8, amp=False), "cpu")
    x_real, z = fake_images(8, seed=5), torch.randn(8, 8)
    out = trainer.step_with(x_real, z)
    opt_g = torch.optim.Adam(g2.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d2.parameters(), lr=2e-4, betas=(0.5, 0.999))
    from gancourse import losses
    x_fake = g2(z)
    loss_d = losses.discriminator_loss(d2(x_real), d2(x_fake.detach()))
    opt_d.zero_grad(); loss_d.backward(); opt_d.step()
    loss_g = losses.generator_loss(d2(x_fake))
    opt_g.zero_grad(); loss_g.backward(); opt_g.step()
    assert out["loss_d"] == pytest.approx(loss_d.item(), rel=1e-5) and trainer.step == 1
    for a, b in zip(list(generator.parameters()) + list(discriminator.parameters()),
                    list(g2.parameters()) + list(d2.parameters())):
        torch.testing.assert_close(a, b)


def test_mixed_precision_only_for_images_where_bfloat16_is_fast(monkeypatch):
    import gancourse.training as training
    generator, discriminator = small_mlp()
    monkeypatch.setattr(training, "fast_bfloat16", lambda device: True)
    assert Trainer(generator, discriminator, fake_images(), TrainConfig(), "cpu").amp
    toy = Trainer(generator, discriminator, torch.randn(32, 784), TrainConfig(latent_dim=8), "cpu")
    assert not toy.amp  # toy data stays float32
    monkeypatch.setattr(training, "fast_bfloat16", lambda device: False)
    assert not Trainer(generator, discriminator, fake_images(), TrainConfig(), "cpu").amp
    assert Trainer(generator, discriminator, fake_images(), TrainConfig(amp=True), "cpu").amp


def test_bfloat16_training_step_is_finite_and_moves():
    generator, discriminator = small_mlp()
    g0 = params(generator)
    trainer = Trainer(generator, discriminator, fake_images(), TrainConfig(amp=True, batch_size=8, log_every=1), "cpu")
    row = trainer.train(2, progress=False).rows[-1]
    assert torch.isfinite(torch.tensor([row["loss_d"], row["loss_g"]])).all()
    assert any(not torch.equal(a, b) for a, b in zip(g0, params(generator)))
    assert trainer.sample().dtype == torch.float32


def test_gradient_norm_clipping_bounds_each_update():
    generator, discriminator = small_mlp()
    g0, d0 = params(generator), params(discriminator)
    config = TrainConfig(optimizer="sgd", lr_g=1.0, lr_d=1.0, grad_clip_norm=1e-3, batch_size=8, log_every=1)
    trainer = Trainer(generator, discriminator, fake_images(), config, "cpu")
    row = trainer.train(1, progress=False).rows[-1]
    moved_g = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(g0, params(generator))))
    moved_d = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(d0, params(discriminator))))
    assert 0 < moved_g <= 1e-3 + 1e-7 and 0 < moved_d <= 1e-3 + 1e-7
    assert row["grad_norm_d"] > 1e-3  # the history records the norm before clipping


def test_train_for_a_time_budget():
    generator, discriminator = small_mlp()
    trainer = Trainer(generator, discriminator, fake_images(), TrainConfig(batch_size=8, log_every=5), "cpu")
    trainer.train(seconds=0.3, progress=False)
    assert trainer.step > 0 and trainer.step % 5 == 0 and 0.3 <= trainer.seconds < 5
    steps = trainer.step
    trainer.train(steps=10, seconds=100, progress=False)  # whichever ends first
    assert trainer.step == steps + 10
    with pytest.raises(ValueError, match="steps, seconds"):
        trainer.train()
    assert trainer.images_per_second == pytest.approx(trainer.step * 8 / trainer.seconds)
    fresh = Trainer(*small_mlp(), fake_images(), TrainConfig(batch_size=8, n_critic=2), "cpu")
    assert fresh.images_per_second != fresh.images_per_second  # NaN before any training
    fresh.train(4, progress=False)
    assert fresh.images_per_second == pytest.approx(4 * 8 * 2 / fresh.seconds)


def test_several_snapshot_callbacks_run_in_order_outside_training_time():
    calls = []

    def slow(trainer):
        calls.append(("slow", trainer.step))
        time.sleep(0.2)

    data = torch.randn(64, 2)
    trainer = Trainer(ToyGenerator(), ToyDiscriminator(), data,
                      TrainConfig(batch_size=16, snapshot_every=2, log_every=1), "cpu",
                      on_snapshot=[slow, lambda t: calls.append(("fast", t.step))])
    start = time.perf_counter()
    trainer.train(4, progress=False)
    wall = time.perf_counter() - start
    assert calls == [("slow", 0), ("fast", 0), ("slow", 2), ("fast", 2), ("slow", 4), ("fast", 4)]
    assert wall >= 0.6 and trainer.seconds < wall - 0.5  # the three 0.2 s callbacks are not training time


def test_one_table_of_loss_families():
    assert LOSSES == tuple(LOSS_FAMILIES) == ("minimax", "non-saturating", "wgan-clip", "wgan-gp", "wgan-lp", "hinge")
    assert [name for name, family in LOSS_FAMILIES.items() if family.critic] == ["wgan-clip", "wgan-gp", "wgan-lp"]
    lp = TrainConfig.preset("wgan-lp")  # WGAN-GP's settings, one-sided penalty
    assert (lp.optimizer, lp.lr_d, lp.betas, lp.n_critic, lp.gp_weight) == ("adam", 1e-4, (0.0, 0.9), 5, 10.0)
    gp = TrainConfig.preset("wgan-gp")
    assert (gp.optimizer, gp.lr_d, gp.betas, gp.n_critic, gp.gp_weight) == ("adam", 1e-4, (0.0, 0.9), 5, 10.0)
    clip = TrainConfig.preset("wgan-clip", lr_d=1e-3)  # overrides win over the preset
    assert (clip.optimizer, clip.lr_d, clip.lr_g, clip.clip_value) == ("rmsprop", 1e-3, 5e-5, 0.01)
    with pytest.raises(ValueError, match="unknown loss 'wgan'.*hinge"):
        loss_family("wgan")


def test_discriminator_step_applies_the_familys_penalty_and_clipping():
    torch.manual_seed(0)
    real, fake = torch.randn(32, 2) + 2, torch.randn(32, 2)
    steps = {}
    for name, overrides in [("wgan-clip", {}), ("wgan-gp", {}), ("wgan-gp-0", {"gp_weight": 0.0})]:
        torch.manual_seed(1)
        critic = ToyDiscriminator(hidden=(16,))
        config = TrainConfig.preset(name.removesuffix("-0"), optimizer="sgd", lr_d=0.5, latent_dim=2, **overrides)
        trainer = Trainer(nn.Linear(2, 2), critic, real, config, "cpu")
        before = [p.detach().clone() for p in critic.parameters()]
        steps[name] = (trainer.discriminator_step(real, fake), before, [p.detach().clone() for p in critic.parameters()])
    assert max(p.abs().max() for p in steps["wgan-clip"][2]) <= 0.01  # clipped after the step
    assert max(p.abs().max() for p in steps["wgan-gp"][2]) > 0.01
    assert steps["wgan-gp"][0] > steps["wgan-gp-0"][0]  # the penalty is part of the loss...
    assert not all(torch.equal(a, b) for a, b in zip(steps["wgan-gp"][2], steps["wgan-gp-0"][2]))  # ...and of its gradient


def test_wgan_lp_penalises_only_gradient_norms_above_one():
    # A linear critic f(x) = w·x has gradient norm ||w|| everywhere: the one-sided penalty
    # ("wgan-lp") leaves a 0.5-Lipschitz critic alone, the two-sided one ("wgan-gp") pushes it up.
    from gancourse import losses

    real, fake = torch.randn(32, 2) + 2, torch.randn(32, 2)
    losses_by_family = {}
    for loss in ("wgan-gp", "wgan-lp"):
        for norm in (0.5, 2.0):
            critic = nn.Linear(2, 1)
            with torch.no_grad():
                critic.weight.copy_(torch.tensor([[0.6, 0.8]]) * norm)
            config = TrainConfig.preset(loss, optimizer="sgd", lr_d=0.0, latent_dim=2)
            trainer = Trainer(nn.Linear(2, 2), critic, real, config, "cpu")
            plain = losses.critic_loss(critic(real), critic(fake)).item()
            losses_by_family[loss, norm] = trainer.discriminator_step(real, fake) - plain
    assert losses_by_family["wgan-lp", 0.5] == pytest.approx(0.0, abs=1e-6)
    assert losses_by_family["wgan-gp", 0.5] == pytest.approx(10 * 0.25, rel=1e-4)
    assert losses_by_family["wgan-lp", 2.0] == pytest.approx(losses_by_family["wgan-gp", 2.0], rel=1e-5)
    assert losses_by_family["wgan-lp", 2.0] == pytest.approx(10 * 1.0, rel=1e-4)


# --- conditional GANs (lesson 06): labels travel with their images -------------------------------

from gancourse.models import ConditionalMLPDiscriminator, ConditionalMLPGenerator  # noqa: E402


def labelled_images(n=64, seed=0):
    """Images whose label is written in their pixels: image i is filled with label i / 10."""
    labels = torch.randint(10, (n,), generator=torch.Generator().manual_seed(seed))
    return labels.float().div(10).view(n, 1, 1, 1).expand(n, 1, 28, 28).clone(), labels


def small_conditional(conditioning="projection"):
    torch.manual_seed(0)
    return (ConditionalMLPGenerator(latent_dim=8, hidden=(32,)),
            ConditionalMLPDiscriminator(conditioning=conditioning, hidden=(32,), dropout=0.0))


class Recorder(torch.nn.Module):
    """Wraps a conditional discriminator and records the (image, label) pairs it is given."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.seen = inner, []

    def forward(self, x, y):
        self.seen.append((x.detach().clone(), y.detach().clone()))
        return self.inner(x, y)


def test_conditional_batches_keep_each_label_with_its_image():
    images, labels = labelled_images()
    generator, discriminator = small_conditional()
    recorder = Recorder(discriminator)
    trainer = Trainer(generator, recorder, images, TrainConfig(batch_size=16, snapshot_every=0, amp=False), "cpu",
                      labels=labels)
    trainer.train(3, progress=False)
    real_batches = recorder.seen[0::3]  # per step: real, fake (for D), fake (for G)
    assert len(real_batches) == 3
    for x, y in real_batches:
        torch.testing.assert_close(x[:, 0, 0, 0], y.float() / 10)  # every image came with its own label
    for (_, y_real), (_, y_fake) in zip(recorder.seen[0::3], recorder.seen[1::3]):
        assert torch.equal(y_real, y_fake)  # the fakes are asked for the real batch's labels


def test_conditional_trainer_samples_the_requested_digits_and_refuses_mismatches():
    images, labels = labelled_images()
    generator, discriminator = small_conditional()
    with pytest.raises(ValueError, match="pass the images' labels"):
        Trainer(generator, discriminator, images, TrainConfig(batch_size=8), "cpu")
    with pytest.raises(ValueError, match="one class index per image"):
        Trainer(generator, discriminator, images, TrainConfig(batch_size=8), "cpu", labels=labels[:10])
    with pytest.raises(ValueError, match="one class index per image"):
        Trainer(generator, discriminator, images, TrainConfig(batch_size=8), "cpu", labels=labels.float())
    with pytest.raises(ValueError, match="must lie in 0..9"):
        Trainer(generator, discriminator, images, TrainConfig(batch_size=8), "cpu", labels=labels + 5)
    trainer = Trainer(generator, discriminator, images, TrainConfig(batch_size=8, n_snapshot=12, amp=False), "cpu",
                      labels=labels)
    assert trainer.requested_labels(12).tolist() == list(range(10)) + [0, 1]
    assert trainer.sample().shape == (12, 1, 28, 28)
    z = torch.randn(3, 8)
    sevens = trainer.sample(z=z, labels=torch.tensor([7, 7, 7]))
    generator.eval()
    with torch.no_grad():
        torch.testing.assert_close(sevens, generator(z, torch.tensor([7, 7, 7])))
    plain = Trainer(*small_mlp(), fake_images(), TrainConfig(batch_size=8), "cpu")
    with pytest.raises(ValueError, match="unconditional"):
        plain.sample(3, labels=torch.tensor([1, 2, 3]))


def test_conditional_step_with_matches_a_step_written_by_hand():
    import copy
    from gancourse import losses
    images, labels = labelled_images()
    generator, discriminator = small_conditional()
    g2, d2 = copy.deepcopy(generator), copy.deepcopy(discriminator)
    trainer = Trainer(generator, discriminator, images, TrainConfig(batch_size=8, amp=False), "cpu", labels=labels)
    x_real, y, z = images[:8], labels[:8], torch.randn(8, 8)
    with pytest.raises(ValueError, match="pass the batch's labels"):
        trainer.step_with(x_real, z)
    out = trainer.step_with(x_real, z, y)
    opt_g = torch.optim.Adam(g2.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d2.parameters(), lr=2e-4, betas=(0.5, 0.999))
    x_fake = g2(z, y)
    loss_d = losses.discriminator_loss(d2(x_real, y), d2(x_fake.detach(), y))
    opt_d.zero_grad(); loss_d.backward(); opt_d.step()
    loss_g = losses.generator_loss(d2(x_fake, y))
    opt_g.zero_grad(); loss_g.backward(); opt_g.step()
    assert out["loss_d"] == pytest.approx(loss_d.item(), rel=1e-5)
    for a, b in zip(list(generator.parameters()) + list(discriminator.parameters()),
                    list(g2.parameters()) + list(d2.parameters())):
        torch.testing.assert_close(a, b)


def test_conditional_resume_reproduces_an_uninterrupted_run_and_refuses_an_unconditional_one(tmp_path):
    images, labels = labelled_images()
    config = TrainConfig(loss="wgan-gp", batch_size=8, n_critic=2, snapshot_every=2, log_every=1)
    whole = Trainer(*small_conditional("concat"), images, config, "cpu", labels=labels)
    whole.train(4, progress=False)
    first = Trainer(*small_conditional("concat"), images, config, "cpu", labels=labels)
    first.train(2, progress=False)
    first.save(tmp_path / "run.pt")
    resumed = Trainer.load(tmp_path / "run.pt", *small_conditional("concat"), images, "cpu", labels=labels)
    resumed.train(2, progress=False)
    for a, b in zip(whole.generator.parameters(), resumed.generator.parameters()):
        torch.testing.assert_close(a, b)
    state = torch.load(tmp_path / "run.pt", weights_only=True)
    assert state["num_classes"] == 10
    unconditional = Trainer(*small_mlp(), fake_images(), config, "cpu")
    with pytest.raises(ValueError, match="conditional on 10 classes but this trainer is unconditional"):
        unconditional.load_state_dict(state)


def test_unconditional_checkpoints_are_unchanged():
    trainer = Trainer(*small_mlp(), fake_images(), TrainConfig(batch_size=8, snapshot_every=0), "cpu")
    assert "num_classes" not in trainer.state_dict() and trainer.labels is None


def test_trainer_ends_where_lesson_01s_hand_written_loop_ends():
    # Lesson 01 trains its first GAN with a plain loop, then checks the Trainer against it: from the
    # same weights and batches, many steps (Adam's state carried along) give the same weights.
    from gancourse import losses

    def pair():
        torch.manual_seed(0)
        return ToyGenerator(latent_dim=1, out_dim=1, hidden=(16, 16)), ToyDiscriminator(in_dim=1, hidden=(16, 16))

    data, steps = torch.randn(1000, 1) * 0.5 + 2, 40
    batches = [(data[torch.randint(1000, (32,))], torch.randn(32, 1)) for _ in range(steps)]
    G, D = pair()
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    for x_real, z in batches:
        x_fake = G(z)
        loss_d = losses.discriminator_loss(D(x_real), D(x_fake.detach()))
        opt_d.zero_grad(); loss_d.backward(); opt_d.step()
        loss_g = losses.generator_loss(D(x_fake))
        opt_g.zero_grad(); loss_g.backward(); opt_g.step()
    G2, D2 = pair()
    trainer = Trainer(G2, D2, data, TrainConfig(lr_g=1e-3, lr_d=1e-3, batch_size=32, snapshot_every=0), "cpu")
    for x_real, z in batches:
        trainer.step_with(x_real, z)
    for a, b in zip([*G.parameters(), *D.parameters()], [*G2.parameters(), *D2.parameters()]):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_conditional_dcgan_trains_a_step_in_channels_last(conditioning):
    from gancourse.models import ConditionalDCGANDiscriminator, ConditionalDCGANGenerator
    images, labels = labelled_images(32)
    torch.manual_seed(0)
    generator = ConditionalDCGANGenerator(latent_dim=8, width=8)
    discriminator = ConditionalDCGANDiscriminator(conditioning=conditioning, width=8)
    g0, d0 = params(generator), params(discriminator)
    trainer = Trainer(generator, discriminator, images, TrainConfig(batch_size=8, log_every=1, snapshot_every=1), "cpu",
                      labels=labels)
    row = trainer.train(2, progress=False).rows[-1]
    assert trainer.channels_last and all(torch.isfinite(torch.tensor(row[k])) for k in ("loss_d", "loss_g"))
    assert any(not torch.equal(a, b) for a, b in zip(g0, params(generator)))
    assert any(not torch.equal(a, b) for a, b in zip(d0, params(discriminator)))
    assert trainer.history.snapshots[-1][1].shape == (64, 1, 28, 28)


# --- lesson 08: generator EMA, R1, DiffAugment ---------------------------------------------------

from gancourse import losses  # noqa: E402
from gancourse.training import _to_uint8, ema_update_  # noqa: E402


def test_ema_update_moves_the_average_towards_the_model_and_copies_buffers():
    model, average = (nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)) for _ in range(2))
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
        for p in average.parameters():
            p.fill_(0.0)
    model[1].running_mean.fill_(4.0)
    model[1].num_batches_tracked.fill_(7)
    ema_update_(average, model, 0.9)
    for p in average.parameters():
        torch.testing.assert_close(p, torch.full_like(p, 0.1))  # 0.9 * 0 + 0.1 * 1: towards the model, by 1 - decay
    assert all(torch.equal(p, torch.ones_like(p)) for p in model.parameters())  # the model is not touched
    assert torch.equal(average[1].running_mean, torch.full((2,), 4.0))  # buffers copied, not averaged
    assert int(average[1].num_batches_tracked) == 7
    ema_update_(average, model, 0.9)
    for p in average.parameters():
        torch.testing.assert_close(p, torch.full_like(p, 0.19))
        assert p.grad is None and p.grad_fn is None


def test_ema_leaves_training_unchanged_and_averages_the_generator_after_every_step():
    trained = {}
    for decay in (0.0, 0.8):
        generator, discriminator = small_mlp()
        config = TrainConfig(batch_size=16, log_every=2, snapshot_every=5, ema_decay=decay, amp=False)
        trainer = Trainer(generator, discriminator, fake_images(), config, "cpu")
        expected = params(generator)
        torch.manual_seed(1)
        for step in range(5):
            trainer.train(1, progress=False)
            warm = min(decay, (1 + step) / (10 + step))  # the warm-up: 0.1, 0.18, 0.25, 0.31, 0.36
            expected = [warm * e + (1 - warm) * p for e, p in zip(expected, params(generator))]
        trained[decay] = trainer, expected
    plain, (averaged, expected) = trained[0.0][0], trained[0.8]
    assert plain.generator_ema is None and plain.history.rows == [
        {**row, "seconds": r["seconds"]} for row, r in zip(averaged.history.rows, plain.history.rows)]
    for a, b in zip(params(plain.generator) + params(plain.discriminator),
                    params(averaged.generator) + params(averaged.discriminator)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)  # the EMA never takes the optimizer's place
    for e, p in zip(expected, params(averaged.generator_ema)):
        torch.testing.assert_close(p, e)
    assert not any(p.requires_grad for p in averaged.generator_ema.parameters())
    z = torch.randn(6, 8)
    with torch.no_grad():
        torch.testing.assert_close(averaged.sample(z=z), averaged.generator_ema.eval()(z))  # EMA by default
        torch.testing.assert_close(averaged.sample(z=z, ema=False), averaged.generator.eval()(z))
        assert not torch.equal(averaged.sample(z=z), averaged.sample(z=z, ema=False))
        assert averaged.history.snapshots[-1][0] == 5  # snapshots show the EMA
        assert torch.equal(averaged.history.snapshots[-1][1], _to_uint8(averaged.sample()))
    with pytest.raises(ValueError, match="keeps no EMA generator"):
        plain.sample(4, ema=True)


def test_a_cpu_trainer_flushes_subnormal_floats_to_zero():
    torch.set_flush_denormal(False)
    tiny = torch.tensor([1e-40], dtype=torch.float32)
    if float(tiny * 1) == 0:
        pytest.skip("this CPU flushes subnormals already")
    Trainer(*small_mlp(), fake_images(), TrainConfig(batch_size=8), "cpu")
    assert float(tiny * 1) == 0.0  # flushed: subnormal arithmetic is ~10x slower on x86


def test_ema_warm_up_forgets_the_initial_weights_and_can_be_turned_off():
    generator, discriminator = small_mlp()
    warm = Trainer(generator, discriminator, fake_images(), TrainConfig(ema_decay=0.999), "cpu")
    assert [round(warm.ema_decay_at(t), 4) for t in (0, 1, 10, 90, 5000, 10**6)] == [0.1, 0.1818, 0.55, 0.91, 0.9982, 0.999]
    weight_of_init = math.prod(warm.ema_decay_at(t) for t in range(100))
    assert weight_of_init < 1e-12 < 0.999 ** 100  # what the docstring claims
    cold = Trainer(*small_mlp(), fake_images(), TrainConfig(ema_decay=0.999, ema_warmup=False), "cpu")
    assert cold.ema_decay_at(0) == cold.ema_decay_at(10**6) == 0.999
    with pytest.raises(ValueError, match="ema_warmup must be True or False"):
        TrainConfig(ema_decay=0.9, ema_warmup="yes")


def test_resume_with_ema_r1_and_augmentation_reproduces_an_uninterrupted_run(tmp_path):
    config = TrainConfig.preset("hinge", batch_size=16, log_every=3, snapshot_every=4, ema_decay=0.9, r1_gamma=1.0,
                                r1_every=3, augment="translation,cutout,color")
    straight = Trainer(*small_mlp(), fake_images(), config, "cpu")
    torch.manual_seed(1)
    straight.train(8, progress=False)
    first = Trainer(*small_mlp(), fake_images(), config, "cpu")
    torch.manual_seed(1)
    first.train(5, progress=False)
    first.save(tmp_path / "run.pt")
    resumed = Trainer.load(tmp_path / "run.pt", *small_mlp(), fake_images(), "cpu")
    resumed.train(3, progress=False)
    for a, b in zip(params(straight.generator) + params(straight.discriminator) + params(straight.generator_ema),
                    params(resumed.generator) + params(resumed.discriminator) + params(resumed.generator_ema)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    state = first.state_dict()  # a checkpoint from before these settings existed loads with their defaults
    plain = Trainer(*small_mlp(), fake_images(), TrainConfig.preset("hinge", batch_size=16), "cpu")
    state = {**plain.state_dict(), "config": {key: value for key, value in plain.state_dict()["config"].items()
                                              if key not in ("ema_decay", "r1_gamma", "r1_every", "augment")}}
    plain.load_state_dict(state)
    assert "generator_ema" not in state


def test_r1_joins_the_familys_penalty_and_lazy_r1_is_scaled_by_its_interval():
    torch.manual_seed(0)
    real, fake = torch.randn(32, 2) + 2, torch.randn(32, 2)
    for loss, every, step, scale in [("non-saturating", 1, 0, 1), ("hinge", 4, 0, 4), ("hinge", 4, 1, 0),
                                     ("hinge", 4, 4, 4)]:
        torch.manual_seed(1)
        critic = ToyDiscriminator(hidden=(16,))
        config = TrainConfig.preset(loss, latent_dim=2, r1_gamma=10.0, r1_every=every)
        trainer = Trainer(nn.Linear(2, 2), critic, real, config, "cpu")
        trainer.step = step  # the step's first discriminator update is number step * n_critic
        family = trainer.family.discriminator_loss(critic(real), critic(fake))
        r1 = losses.r1_penalty(critic, real, 10.0)
        assert trainer.discriminator_step(real, fake) == pytest.approx((family + scale * r1).item(), rel=1e-5)
    gp = Trainer(nn.Linear(2, 2), critic, real, TrainConfig.preset("wgan-gp", latent_dim=2, r1_gamma=1.0), "cpu")
    assert [every for _, every in gp.penalties] == [1, 1] and len(trainer.penalties) == 1
    assert Trainer(nn.Linear(2, 2), critic, real, TrainConfig(latent_dim=2), "cpu").penalties == []


def test_r1_in_training_runs_on_every_kth_discriminator_update(monkeypatch):
    calls = []

    def recording_r1(discriminator, x_real, gamma):
        calls.append(gamma)
        return torch.zeros(())

    monkeypatch.setattr(losses, "r1_penalty", recording_r1)
    trainer = Trainer(*small_mlp(), fake_images(), TrainConfig(batch_size=8, snapshot_every=0, n_critic=2,
                                                               r1_gamma=5.0, r1_every=3), "cpu")
    trainer.train(6, progress=False)  # D updates 0..11: R1 at 0, 3, 6, 9
    assert calls == [5.0] * 4


class Probe(nn.Module):
    """A discriminator that records the images it is given."""

    def __init__(self):
        super().__init__()
        self.linear, self.seen = nn.Linear(28 * 28, 1), []

    def forward(self, x, y=None):
        self.seen.append(x.detach().clone())
        return self.linear(x.flatten(1))


class Constant(nn.Module):
    """A generator whose images are all 0.5 (and differentiable in its bias)."""

    latent_dim = 4

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.tensor(0.5))

    def forward(self, z):
        return self.bias.expand(z.shape[0], 1, 28, 28) + 0 * z.sum()


@pytest.mark.parametrize("policy", ["", "cutout"])
def test_augmentation_reaches_every_discriminator_call_real_and_fake(policy):
    probe = Probe()
    data = torch.full((16, 1, 28, 28), 0.5)  # no zeros: a zero can only come from cutout
    trainer = Trainer(Constant(), probe, data, TrainConfig(batch_size=8, augment=policy, r1_gamma=1.0,
                                                           snapshot_every=0, amp=False), "cpu")
    trainer.step_with(data[:8], torch.randn(8, 4))
    assert len(probe.seen) == 4  # real and fake for D, R1 on the reals, the fakes for G
    for x in probe.seen:
        assert bool((x == 0).any()) == bool(policy)
    assert trainer.generator.bias.grad is not None and trainer.generator.bias.grad != 0  # G learns through it


def test_augmenting_only_the_real_images_leaves_every_fake_call_alone():
    probe = Probe()
    data = torch.full((16, 1, 28, 28), 0.5)
    config = TrainConfig(batch_size=8, augment="cutout", augment_fakes=False, snapshot_every=0, amp=False)
    Trainer(Constant(), probe, data, config, "cpu").step_with(data[:8], torch.randn(8, 4))
    real, fake_for_d, fake_for_g = probe.seen
    assert bool((real == 0).any()) and not bool((fake_for_d == 0).any()) and not bool((fake_for_g == 0).any())
    with pytest.raises(ValueError, match="augment_fakes must be True or False"):
        TrainConfig(augment="cutout", augment_fakes=0)


def test_conditional_training_with_the_whole_recipe_keeps_labels():
    images, labels = labelled_images()
    generator, discriminator = small_conditional()
    recorder = Recorder(discriminator)
    config = TrainConfig(batch_size=16, snapshot_every=2, amp=False, ema_decay=0.9, r1_gamma=1.0, augment="cutout")
    trainer = Trainer(generator, recorder, images, config, "cpu", labels=labels)
    trainer.train(2, progress=False)
    assert len(recorder.seen) == 8 and trainer.generator_ema.num_classes == 10
    assert trainer.sample(20).shape == (20, 1, 28, 28)


def test_recipe_settings_are_checked():
    for bad, words in [({"ema_decay": 1.0}, "ema_decay must be in"), ({"ema_decay": -0.1}, "ema_decay must be"),
                       ({"r1_gamma": -1}, "r1_gamma must be"), ({"r1_every": 0}, "r1_every must be at least 1"),
                       ({"augment": "translation,blur"}, "unknown augmentation 'blur'")]:
        with pytest.raises(ValueError, match=words):
            TrainConfig(**bad)
    assert TrainConfig(augment=" cutout, translation").augment == "cutout,translation"
    with pytest.raises(ValueError, match="needs image data"):
        Trainer(nn.Linear(2, 2), ToyDiscriminator(), torch.randn(8, 2), TrainConfig(latent_dim=2, augment="cutout"),
                "cpu")


def test_health_checks_gradient_norms_whenever_the_row_measured_them():
    """A run that ends between multiples of log_every still measured the last step's gradient
    norms: the health check is told so (the non-finite-gradient warning can fire there)."""
    generator, discriminator = small_mlp()
    trainer = Trainer(generator, discriminator, fake_images(), TrainConfig(batch_size=16, log_every=20,
                                                                            snapshot_every=0), "cpu")
    told = []
    update = trainer.health.update
    trainer.health.update = lambda rows, callbacks, measured: told.append(measured) or update(rows, callbacks,
                                                                                              measured)
    trainer.train(25, progress=False)
    assert [row["step"] for row in trainer.history.rows] == [20, 25]
    assert told == [True, True]
    assert torch.isfinite(torch.tensor(trainer.history.rows[-1]["grad_norm_d"]))
