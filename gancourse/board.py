"""TensorBoard for a training run: losses, D outputs, gradient norms, the judge's numbers and
digit histogram, sample grids and training-health warnings, written while the Trainer runs.

    pip install "gancourse[tensorboard]"
    board = TensorBoard("runs/mlp_gan").attach(trainer)   # writes at every log row and snapshot
    curve = metrics.judged_run(trainer, judge, real_features, steps=2000)
    board.add_judge(curve.rows)                           # the judge's final row (after training)
    board.close()
    # then, in JupyterLab or Colab:  %load_ext tensorboard   and   %tensorboard --logdir runs
    # or in a terminal:  tensorboard --logdir runs

Layer 2 (docs/design.md, Layers): it reaches the Trainer only through the object it is given.
Everything goes through ``torch.utils.tensorboard``, imported when a board is made.
"""
from __future__ import annotations

import math
import os

import torch

__all__ = ["TensorBoard", "find_tensorboard"]

#: History columns and the TensorBoard tags they are written under (one chart group each).
TAGS = {"loss_d": "losses/loss_d", "loss_g": "losses/loss_g", "d_real": "discriminator/d_real",
        "d_fake": "discriminator/d_fake", "grad_norm_d": "gradient norms/grad_norm_d",
        "grad_norm_g": "gradient norms/grad_norm_g"}
#: The judge's numbers (metrics.judge_report) written as scalars.
JUDGE_TAGS = ("frechet_distance", "kl_to_uniform", "confident_share")


def _summary_writer():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ImportError('TensorBoard is not installed: pip install "gancourse[tensorboard]" '
                          '(or pip install tensorboard)') from None
    return SummaryWriter


class TensorBoard:
    """A Trainer callback that writes what training records to a TensorBoard log folder.

    ``attach(trainer)`` adds it to the trainer's ``on_log`` and ``on_snapshot`` callbacks; each
    call writes what is new since the last: history rows (losses, mean D(x) and D(G(z)), or a
    critic's mean scores, gradient norms), sample snapshots (an image grid; a scatter plot for 2-D
    data, a histogram for 1-D), rows of any snapshot callback that scores with the judge (a
    ``metrics.JudgeCurve``: its Fréchet distance, KL to uniform, confident share and a bar chart of
    the digit histogram) and health warnings (as text). Its time is not training time.

    Args:
        logdir: the run's folder, e.g. ``runs/mlp_gan``; point TensorBoard at its parent to compare runs.
        flush_secs: how often the writer flushes to disk (what TensorBoard sees live).
    """

    def __init__(self, logdir: str | os.PathLike, flush_secs: int = 10):
        self.logdir = str(logdir)
        self.writer = _summary_writer()(self.logdir, flush_secs=flush_secs)
        self._rows = self._snapshots = self._warnings = 0  # how much of the history is written
        self._judged: set[int] = set()

    def attach(self, trainer) -> "TensorBoard":
        """Write ``trainer``'s run from now on (and what it already recorded); returns self."""
        trainer.on_log.append(self)
        trainer.on_snapshot.append(self)
        return self

    def __call__(self, trainer) -> None:
        history = trainer.history
        for row in history.rows[self._rows:]:
            for column, tag in TAGS.items():
                if math.isfinite(row[column]):  # gradient norms are NaN between log steps
                    self.writer.add_scalar(tag, row[column], row["step"])
        self._rows = len(history.rows)
        for step, samples in history.snapshots[self._snapshots:]:
            self.add_samples(samples, step)
        self._snapshots = len(history.snapshots)
        for warning in history.warnings[self._warnings:]:
            self.writer.add_text("health", f"**{warning['kind']}** (step {warning['step']}): {warning['message']}",
                                 warning["step"])
        self._warnings = len(history.warnings)
        for callback in trainer.on_snapshot:
            rows = getattr(callback, "rows", None)
            if isinstance(rows, list) and rows and isinstance(rows[-1], dict) and "histogram" in rows[-1]:
                self.add_judge(rows)

    def add_samples(self, samples: torch.Tensor, step: int) -> None:
        """Images (N, C, H, W), uint8 or in [-1, 1], as a grid; 2-D points as a scatter plot."""
        if samples.dim() == 4:
            from torchvision.utils import make_grid

            images = samples.float() / 255 if samples.dtype == torch.uint8 else samples.float().add(1).div(2)
            grid = make_grid(images.clamp(0, 1).cpu(), nrow=8, padding=2, pad_value=1.0)
            self.writer.add_image("samples", grid, step)
        elif samples.dim() == 2 and samples.shape[1] == 2:
            figure, ax = _figure()
            points = samples.detach().float().cpu()
            ax.scatter(points[:, 0], points[:, 1], s=2)
            ax.set(title=f"generated points, step {step}", aspect="equal")
            self.writer.add_figure("samples", figure, step, close=False)
        else:
            self.writer.add_histogram("samples", samples.detach().float().cpu().flatten(), step)

    def add_judge(self, rows: list[dict]) -> None:
        """The judge's rows (``metrics.JudgeCurve.rows``) not written yet: scalars and the digit histogram."""
        for row in rows:
            if row["step"] in self._judged:
                continue
            self._judged.add(row["step"])
            for name in JUDGE_TAGS:
                if name in row and math.isfinite(row[name]):
                    self.writer.add_scalar(f"judge/{name}", row[name], row["step"])
            figure, ax = _figure(figsize=(4.5, 2.6))
            ax.bar(range(len(row["histogram"])), row["histogram"])
            ax.axhline(1 / len(row["histogram"]), color="gray", linewidth=1, linestyle="--")
            ax.set(title=f"the judge's digit histogram, step {row['step']}", xticks=range(len(row["histogram"])),
                   xlabel="digit", ylabel="share of samples")
            figure.tight_layout()
            self.writer.add_figure("judge/digit histogram", figure, row["step"], close=False)

    def close(self) -> None:
        """Flush and close the log; TensorBoard shows everything written."""
        self.writer.close()


def find_tensorboard() -> str | None:
    """Let ``%tensorboard`` find the ``tensorboard`` program installed beside this Python (a kernel
    started from a virtual environment often lacks its ``bin`` folder on PATH): sets
    ``TENSORBOARD_BINARY`` unless already set. Returns the program's path, or None if not found."""
    import shutil
    import sys
    from pathlib import Path

    if os.environ.get("TENSORBOARD_BINARY"):
        return os.environ["TENSORBOARD_BINARY"]
    beside = Path(sys.executable).with_name("tensorboard")
    found = str(beside) if beside.is_file() else shutil.which("tensorboard")
    if found:
        os.environ["TENSORBOARD_BINARY"] = found
    return found


def _figure(figsize=(4, 4)):
    """A matplotlib figure that never shows up in a notebook (no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, dpi=100)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()
