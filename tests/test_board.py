"""The TensorBoard callback: what it writes is read back from the event files."""
import builtins
import math

import pytest
import torch

from gancourse.models import MLPDiscriminator, MLPGenerator, ToyDiscriminator, ToyGenerator
from gancourse.training import Trainer, TrainConfig

pytest.importorskip("tensorboard", reason='TensorBoard is an optional extra: pip install "gancourse[tensorboard]"')
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from gancourse import board  # noqa: E402


def read_back(logdir):
    events = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    events.Reload()
    return events


class FakeJudgeCurve:
    """Scores like metrics.JudgeCurve (rows with a histogram), without the judge."""

    def __init__(self):
        self.rows = []

    def __call__(self, trainer):
        histogram = [0.1] * 10 if trainer.step < 20 else [0.5, 0.5] + [0.0] * 8
        self.rows.append({"step": trainer.step, "seconds": trainer.seconds, "histogram": histogram,
                          "kl_to_uniform": 0.1 * trainer.step, "confident_share": 0.5,
                          "frechet_distance": 100.0 - trainer.step})


def test_images_losses_judge_and_warnings_read_back(tmp_path):
    torch.manual_seed(0)
    images = torch.rand(256, 1, 28, 28) * 2 - 1
    trainer = Trainer(MLPGenerator(latent_dim=8, hidden=(32,)), MLPDiscriminator(hidden=(32,)), images,
                      TrainConfig(batch_size=16, log_every=5, snapshot_every=10, n_snapshot=16), "cpu")
    curve = FakeJudgeCurve()
    trainer.on_snapshot.append(curve)
    tb = board.TensorBoard(tmp_path / "run").attach(trainer)
    trainer.train(30, progress=False)
    trainer.history.warnings.append({"step": 30, "kind": "collapse suspected", "message": "constructed"})
    tb(trainer)
    curve.rows.append({**curve.rows[-1], "step": 31})  # a final row after training, as judged_run adds
    tb.add_judge(curve.rows)
    tb.close()

    events = read_back(tmp_path / "run")
    rows = trainer.history.rows
    for column, tag in board.TAGS.items():
        written = events.Scalars(tag)
        assert [e.step for e in written] == [row["step"] for row in rows]
        assert [e.value for e in written] == pytest.approx([row[column] for row in rows])
    assert [e.step for e in events.Images("samples")] == [0, 10, 20, 30]
    grid = events.Images("samples")[-1]
    assert (grid.width, grid.height) == (8 * 30 + 2, 2 * 30 + 2)  # 16 samples, 8 per row, 2 px padding
    assert [(e.step, e.value) for e in events.Scalars("judge/frechet_distance")] == \
        [(0, 100.0), (10, 90.0), (20, 80.0), (30, 70.0), (31, 70.0)]
    assert len(events.Images("judge/digit histogram")) == 5
    [text] = events.Tensors("health/text_summary")
    assert text.step == 30 and b"collapse suspected" in text.tensor_proto.string_val[0]


def test_toy_data_scatter_and_gradient_norms_only_where_measured(tmp_path):
    torch.manual_seed(0)
    trainer = Trainer(ToyGenerator(), ToyDiscriminator(), torch.randn(512, 2),
                      TrainConfig(batch_size=32, log_every=4, snapshot_every=8), "cpu")
    tb = board.TensorBoard(tmp_path).attach(trainer)
    trainer.train(10, progress=False)  # rows at 4, 8, 10; the last is a log step too
    trainer.train(0, progress=False)
    tb.close()
    events = read_back(tmp_path)
    assert [e.step for e in events.Scalars("losses/loss_d")] == [4, 8, 10]
    assert [e.step for e in events.Images("samples")] == [0, 8]
    assert all(math.isfinite(e.value) for e in events.Scalars("gradient norms/grad_norm_g"))


def test_without_tensorboard_one_line_names_the_extra(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith("torch.utils.tensorboard") or name.startswith("tensorboard"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(ImportError, match=r'pip install "gancourse\[tensorboard\]"') as error:
        board.TensorBoard(tmp_path)
    assert "\n" not in str(error.value)


def test_find_tensorboard_points_the_magic_at_this_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TENSORBOARD_BINARY", "")  # recorded, so that the test leaves the variable as it was
    monkeypatch.delenv("TENSORBOARD_BINARY")
    found = board.find_tensorboard()
    assert found and found.endswith("tensorboard") and board.os.environ["TENSORBOARD_BINARY"] == found
    monkeypatch.setenv("TENSORBOARD_BINARY", str(tmp_path / "mine"))
    assert board.find_tensorboard() == str(tmp_path / "mine")  # a setting of your own is kept
