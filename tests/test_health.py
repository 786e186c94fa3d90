"""Training-health warnings on constructed histories, and through the Trainer."""
import math

import pytest
import torch

from gancourse import health
from gancourse.models import ToyDiscriminator, ToyGenerator
from gancourse.training import History, Trainer, TrainConfig


def rows(d_real, d_fake, grad_norm_d=1.0, grad_norm_g=1.0, loss=1.0, every=20):
    """Constructed history rows, one per (d_real, d_fake) pair."""
    return [{"step": every * (i + 1), "loss_d": loss, "loss_g": loss, "d_real": r, "d_fake": f,
             "grad_norm_d": grad_norm_d, "grad_norm_g": grad_norm_g, "seconds": float(i)}
            for i, (r, f) in enumerate(zip(d_real, d_fake))]


def kinds(warnings):
    return [warning["kind"] for warning in warnings]


def test_healthy_history_is_silent():
    healthy = rows([0.7, 0.65, 0.72, 0.68, 0.7, 0.66], [0.3, 0.35, 0.28, 0.33, 0.3, 0.31])
    entropy = [(0, 0.8), (200, 2.1), (400, 2.2), (600, 2.15)]  # rising from an untrained start is fine
    assert health.check(healthy, diversity={"the judge's digit entropy": entropy}) == []


def test_discriminator_wins_needs_several_rows():
    winning = rows([0.7] + [0.99] * 5, [0.3] + [0.01] * 5)
    [warning] = health.check(winning)
    assert warning["kind"] == "discriminator wins" and warning["step"] == 120
    assert "steps 40-120" in warning["message"]
    assert health.check(winning[:-1]) == []  # four winning rows are not yet a trend
    assert health.check(rows([0.99] * 4 + [0.85], [0.01] * 5)) == []  # the last row recovered
    assert health.check(rows([0.99] * 5, [0.01] * 4 + [0.15])) == []
    assert health.check(winning, critic=True) == []  # critic scores are not probabilities


def test_collapse_on_digit_entropy_and_on_mode_count():
    entropy = [(0, 0.5), (500, 2.2), (1000, 2.25), (1500, 1.5), (2000, 1.2)]
    [warning] = health.check(rows([0.7], [0.3]), diversity={"the judge's digit entropy": entropy})
    assert warning["kind"] == "collapse suspected" and "2.25" in warning["message"] and "1.2" in warning["message"]
    assert health.collapse(entropy[:-1], "e") is None  # one low point is noise, not a trend
    modes = [(0, 8), (100, 8), (200, 6), (300, 5)]
    assert "mode count" in health.check(rows([0.7], [0.3]), diversity={"the mode count": modes})[0]["message"]
    assert health.collapse([(0, 8), (100, 8), (200, 7), (300, 7)], "modes") is None  # 8 -> 7: within noise
    # an untrained generator's blobs read as one digit, then as another: not diverse yet, no collapse
    assert health.collapse([(0, 0.57), (50, 0.0), (100, 0.0)], "the judge's digit entropy") is None
    assert health.collapse([(0, 2), (100, 1), (200, 1)], "the mode count") is None


def test_nonfinite_gradients_before_the_loss_turns_nan():
    [warning] = health.check(rows([0.7], [0.3], grad_norm_g=math.inf))
    assert warning["kind"] == "non-finite gradients" and "generator's gradient norm is inf" in warning["message"]
    assert kinds(health.check(rows([0.7], [0.3], grad_norm_d=math.nan))) == ["non-finite gradients"]
    assert health.check(rows([0.7], [0.3], grad_norm_d=math.nan), gradients_measured=False) == []
    assert health.check(rows([0.7], [0.3], grad_norm_d=math.nan, loss=math.nan)) == []  # the loss check reports that


def test_digit_entropy_and_series_from_snapshot_callbacks():
    assert health.digit_entropy([0.1] * 10) == pytest.approx(math.log(10))
    assert health.digit_entropy([0, 0, 1.0] + [0] * 7) == 0.0

    class JudgeLike:
        rows = [{"step": 0, "histogram": [0.1] * 10, "frechet_distance": 1.0}]

    class ModesLike:
        rows = [{"step": 0, "modes": 8}, {"step": 100, "modes": 3}]

    series = health.diversity_series([JudgeLike(), ModesLike(), print, object()])
    assert series == {"the judge's digit entropy": [(0, pytest.approx(math.log(10)))],
                      "the mode count": [(0, 8.0), (100, 3.0)]}


def test_monitor_reports_a_warning_once_until_it_clears():
    monitor = health.Monitor()
    history = rows([0.99] * 7 + [0.6], [0.01] * 7 + [0.4])
    fired = [monitor.update(history[:n]) for n in range(1, len(history) + 1)]
    assert [kinds(f) for f in fired] == [[]] * 4 + [["discriminator wins"]] + [[]] * 3
    assert monitor.active == set() and monitor.postfix() == {}
    monitor.update(history[:6])
    assert monitor.postfix() == {"warn": "discriminator wins"}


def toy_trainer(**config):
    torch.manual_seed(0)
    data = torch.randn(512, 2)
    return Trainer(ToyGenerator(), ToyDiscriminator(), data,
                   TrainConfig(batch_size=32, snapshot_every=0, log_every=5, **config), "cpu")


def test_trainer_records_warnings_in_history_and_checkpoint(tmp_path, capsys):
    trainer = toy_trainer()
    trainer.train(10, progress=False)
    assert trainer.history.warnings == []
    calls = []
    trainer.on_log.append(lambda t: calls.append(t.step))

    class Collapsing:  # a snapshot callback whose rows carry a mode count, as a mode-coverage recorder's would
        rows = [{"step": 0, "modes": 8}, {"step": 5, "modes": 8}, {"step": 10, "modes": 2}, {"step": 15, "modes": 1}]

    trainer.on_snapshot.append(Collapsing())
    trainer.train(10, progress=True)
    assert calls == [15, 20]
    assert kinds(trainer.history.warnings) == ["collapse suspected"] and trainer.history.warnings[0]["step"] == 15
    assert "warning at step 15: collapse suspected" in capsys.readouterr().err
    trainer.save(tmp_path / "run.pt")
    state = torch.load(tmp_path / "run.pt", weights_only=True)
    assert History.from_state_dict(state["history"]).warnings == trainer.history.warnings
    assert History.from_state_dict({**state["history"], "warnings": []}).warnings == []
    old = {key: value for key, value in state["history"].items() if key != "warnings"}  # older checkpoints
    assert History.from_state_dict(old).warnings == []


def test_trainer_warns_of_nonfinite_gradients_before_the_nan_loss():
    trainer = toy_trainer(lr_g=1e-3)

    def broken_at_step_10(scores_fake):  # a finite loss whose gradient is not: sqrt at 0, at a log step
        loss = -scores_fake.mean()
        if trainer.step + 1 == 10:
            return loss + torch.sqrt(scores_fake - scores_fake.detach()).sum()
        return loss

    trainer.custom_loss_g = broken_at_step_10
    with pytest.raises(FloatingPointError, match="at step 11"):
        trainer.train(20, progress=False)
    assert kinds(trainer.history.warnings) == ["non-finite gradients"]
    assert trainer.history.warnings[0]["step"] == 10
    assert "the generator's gradient norm is" in trainer.history.warnings[0]["message"]
