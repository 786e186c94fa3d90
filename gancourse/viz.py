"""Showing what a GAN learned: image grids, and ipywidgets viewers that scrub through training.

Viewers use only ipywidgets APIs common to 7.7 (what Colab ships) and 8 (docs/design.md, Tools):
``Image`` with PNG bytes, ``IntSlider``, ``Play``, ``Button``, ``HTML``, ``jslink``, ``observe``.
Images are encoded with PIL at native resolution (about 2 ms a grid) and scaled up by the
browser with a fixed layout size and crisp pixels; toy-data frames are drawn once with
matplotlib and cached. Each viewer has ``.figure()``, a static matplotlib fallback for places
where widgets do not render (a PDF export, GitHub's notebook preview).

- :class:`SnapshotViewer`: a training run's fixed-noise samples over steps, with the losses.
- :class:`LatentExplorer`: interpolation between two latent codes, with a resample button.
- :class:`DigitExplorer`: the same walk for a class-conditional generator, with a digit slider.
- :class:`ToyViewer` (alias ``Toy2DViewer``): 1-D or 2-D toy data over training, with the
  discriminator's output (GAN Lab's view) and the generator's gradient arrows, recorded during
  training by a :class:`ToyRecorder`.
"""
from __future__ import annotations

import io
import math

import torch

__all__ = ["images_to_png", "show_images", "interpolate", "SnapshotViewer", "LatentExplorer", "DigitExplorer",
           "ToyRecorder", "ToyViewer", "Toy2DViewer"]

_STYLE = "<style>.gancourse-pixelated img, img.gancourse-pixelated {image-rendering: pixelated;}</style>"


def _grid(images: torch.Tensor, nrow: int) -> torch.Tensor:
    """(N, C, H, W) uint8 or float in [-1, 1] -> (H', W', 3) uint8 grid via torchvision's make_grid."""
    from torchvision.utils import make_grid

    images = images.detach().cpu()
    if images.dtype == torch.uint8:
        images = images.float() / 255
    else:
        images = images.float().add(1).div(2).clamp(0, 1)
    grid = make_grid(images, nrow=nrow, padding=2, pad_value=1.0)  # (3, H', W')
    return grid.mul(255).round().to(torch.uint8).permute(1, 2, 0)


def images_to_png(images: torch.Tensor, nrow: int = 8) -> bytes:
    """PNG bytes of an image grid at native resolution (for ``widgets.Image``)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(_grid(images, nrow).numpy()).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def show_images(images: torch.Tensor, nrow: int = 8, title: str | None = None, ax=None):
    """Draw a grid of images (uint8, or float in [-1, 1]) with matplotlib; return the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        side = min(8.0, 1.0 * nrow)
        _, ax = plt.subplots(figsize=(side, side * math.ceil(len(images) / nrow) / nrow + 0.4))
    ax.imshow(_grid(images, nrow).numpy(), interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def _image_widget(png: bytes, width: int, height: int):
    import ipywidgets as widgets

    image = widgets.Image(value=png, format="png",
                          layout=widgets.Layout(width=f"{width}px", height=f"{height}px"))
    image.add_class("gancourse-pixelated")
    return image


def _player(n: int, description: str, interval_ms: int = 300):
    """A Play button linked to a slider over 0..n-1 (both ipywidgets 7 and 8)."""
    import ipywidgets as widgets

    slider = widgets.IntSlider(value=n - 1, min=0, max=max(n - 1, 0), description=description,
                               continuous_update=True, layout=widgets.Layout(width="420px"))
    play = widgets.Play(value=n - 1, min=0, max=max(n - 1, 0), interval=interval_ms)
    widgets.jslink((play, "value"), (slider, "value"))
    return play, slider


class _Viewer:
    """Shared plumbing: a VBox made once, shown by ``display(viewer)`` or as the cell's value."""

    widget = None

    def _ipython_display_(self):
        from IPython.display import HTML, display

        display(HTML(_STYLE))
        display(self.widget)


# --- training snapshots ----------------------------------------------------------------------

class SnapshotViewer(_Viewer):
    """Scrub through a run's fixed-noise samples: slider and play button, step and losses beside.

    Args:
        history: a :class:`gancourse.training.History` with image snapshots.
        nrow: images per row of the grid.
        scale: browser upscaling of the grid (pixels stay crisp).
    """

    def __init__(self, history, nrow: int = 8, scale: int = 3):
        import ipywidgets as widgets

        self.snapshots = [(step, images) for step, images in history.snapshots if images.dim() == 4]
        if not self.snapshots:
            raise ValueError("the history holds no image snapshots: train with snapshot_every > 0")
        self.rows, self.nrow = history.rows, nrow
        self._cache: dict[int, bytes] = {}
        first = self._png(len(self.snapshots) - 1)
        height, width = _grid(self.snapshots[0][1], nrow).shape[:2]
        self.image = _image_widget(first, width * scale, height * scale)
        self.play, self.slider = _player(len(self.snapshots), "snapshot")
        self.info = widgets.HTML(value=self._info(len(self.snapshots) - 1))
        self.slider.observe(self._on_change, names="value")
        self.widget = widgets.VBox([widgets.HBox([self.play, self.slider]),
                                    widgets.HBox([self.image, self.info])])

    def _png(self, index: int) -> bytes:
        if index not in self._cache:
            self._cache[index] = images_to_png(self.snapshots[index][1], self.nrow)
        return self._cache[index]

    def _row(self, step: int) -> dict | None:
        before = [row for row in self.rows if row["step"] <= step]
        return before[-1] if before else None

    def _info(self, index: int) -> str:
        step = self.snapshots[index][0]
        row = self._row(step)
        lines = [f"<b>step {step:,}</b>"]
        if row is not None:
            lines += [f"loss_d {row['loss_d']:.3f}", f"loss_g {row['loss_g']:.3f}",
                      f"D(x) {row['d_real']:.2f}", f"D(G(z)) {row['d_fake']:.2f}"]
        else:
            lines.append("before training")
        return "<div style='padding-left:1em;font-family:monospace'>" + "<br>".join(lines) + "</div>"

    def _on_change(self, change) -> None:
        self.image.value = self._png(change["new"])
        self.info.value = self._info(change["new"])

    def figure(self, count: int = 6, nrow: int = 4):
        """Static fallback: ``count`` snapshots, evenly spaced, side by side (first ``nrow**2``)."""
        import matplotlib.pyplot as plt

        picks = sorted({round(i * (len(self.snapshots) - 1) / max(count - 1, 1)) for i in range(count)})
        fig, axes = plt.subplots(1, len(picks), figsize=(2.6 * len(picks), 2.9), squeeze=False)
        for ax, index in zip(axes[0], picks):
            step, images = self.snapshots[index]
            show_images(images[: nrow * nrow], nrow=nrow, title=f"step {step:,}", ax=ax)
        fig.suptitle("samples from fixed noise during training")
        fig.tight_layout()
        return fig


# --- latent space ----------------------------------------------------------------------------

def interpolate(z0: torch.Tensor, z1: torch.Tensor, t: float, mode: str = "slerp") -> torch.Tensor:
    """Point at fraction ``t`` between latents ``z0`` and ``z1`` (B, d), row by row.

    ``"linear"``: (1 - t) z0 + t z1. Its midpoint has a smaller norm than typical Gaussian
    samples (in 100 dimensions, about 0.71 of it), so a generator sees unusual inputs mid-way.
    ``"slerp"``: along the great circle, keeping the norm typical (White 2016, "Sampling
    Generative Networks"). Lesson 03.
    """
    if mode == "linear":
        return (1 - t) * z0 + t * z1
    if mode != "slerp":
        raise ValueError(f"mode must be 'slerp' or 'linear', not {mode!r}")
    cos = ((z0 * z1).sum(-1, keepdim=True) / (z0.norm(dim=-1, keepdim=True) * z1.norm(dim=-1, keepdim=True)))
    omega = torch.acos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    sin = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / sin) * z0 + (torch.sin(t * omega) / sin) * z1


class LatentExplorer(_Viewer):
    """Walk between two random latent codes: a row of ``n`` pairs, a slider for the fraction, a
    button that draws new endpoints.

    Args:
        generator: maps (B, latent_dim) to images in [-1, 1].
        latent_dim: the generator's input size (read from ``generator.latent_dim`` if omitted).
        n: how many walks to show side by side.
        steps: slider positions from z0 (0) to z1 (steps).
        mode: ``"slerp"`` or ``"linear"`` (see :func:`interpolate`).
    """

    def __init__(self, generator, latent_dim: int | None = None, n: int = 8, steps: int = 20,
                 mode: str = "slerp", seed: int = 0, scale: int = 3):
        import ipywidgets as widgets

        self.generator, self.n, self.steps, self.mode = generator, n, steps, mode
        self.latent_dim = latent_dim or generator.latent_dim
        self.device = next(generator.parameters()).device
        self.rng = torch.Generator().manual_seed(seed)
        self._resample()
        png = self._png(0)
        image = self._render(0)
        height, width = _grid(image, n).shape[:2]
        self.image = _image_widget(png, width * scale, height * scale)
        self.slider = widgets.IntSlider(value=0, min=0, max=steps, description="z0 → z1",
                                        continuous_update=True, layout=widgets.Layout(width="420px"))
        self.button = widgets.Button(description="new endpoints")
        self.slider.observe(lambda change: self._update(), names="value")
        self.button.on_click(lambda _: (self._resample(), self._update()))
        self.widget = widgets.VBox([widgets.HBox([self.slider, self.button]), self.image])

    def _resample(self) -> None:
        self.z0 = torch.randn(self.n, self.latent_dim, generator=self.rng)
        self.z1 = torch.randn(self.n, self.latent_dim, generator=self.rng)

    @torch.no_grad()
    def _render(self, position: int) -> torch.Tensor:
        z = interpolate(self.z0, self.z1, position / self.steps, self.mode).to(self.device)
        was_training = self.generator.training
        self.generator.eval()
        try:
            return self._generate(z).float().cpu()
        finally:
            self.generator.train(was_training)

    def _generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)

    def _png(self, position: int) -> bytes:
        return images_to_png(self._render(position), nrow=self.n)

    def _update(self) -> None:
        self.image.value = self._png(self.slider.value)

    def figure(self, columns: int = 9):
        """Static fallback: each walk as a row, from z0 (left) to z1 (right)."""
        import matplotlib.pyplot as plt

        frames = [self._render(round(i * self.steps / (columns - 1))) for i in range(columns)]
        walks = torch.stack(frames, 1).flatten(0, 1)  # (n * columns, C, H, W), row = one walk
        fig, ax = plt.subplots(figsize=(columns * 0.9, self.n * 0.9 + 0.5))
        show_images(walks, nrow=columns, title=f"{self.mode} interpolation, z0 → z1{self._title()}", ax=ax)
        return fig

    def _title(self) -> str:
        return ""


class DigitExplorer(LatentExplorer):
    """A class-conditional generator's viewer (lesson 06): choose a digit with one slider, walk in
    z with the other; the same ``n`` walks are drawn for every digit, so the style stays while
    the digit changes. The generator is called as ``generator(z, y)``.

    Args: as :class:`LatentExplorer`, plus ``digit``, the class shown first, and ``num_classes``.
    """

    def __init__(self, generator, digit: int = 0, num_classes: int | None = None, **kwargs):
        import ipywidgets as widgets

        self.digit = digit
        super().__init__(generator, **kwargs)
        classes = num_classes or getattr(generator, "num_classes", 10)
        self.digit_slider = widgets.IntSlider(value=digit, min=0, max=classes - 1, description="digit",
                                              continuous_update=True, layout=widgets.Layout(width="420px"))
        self.digit_slider.observe(self._on_digit, names="value")
        self.widget.children = (self.digit_slider,) + tuple(self.widget.children)

    def _on_digit(self, change) -> None:
        self.digit = change["new"]
        self._update()

    def _generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z, torch.full((len(z),), self.digit, dtype=torch.long, device=z.device))

    def _title(self) -> str:
        return f", digit {self.digit}"


# --- toy data --------------------------------------------------------------------------------

class ToyRecorder:
    """Records, at every snapshot of a toy-data :class:`~gancourse.training.Trainer`, generated
    points, the discriminator's output over a grid (sigmoid for GAN losses, raw scores for
    critics) and the generator's gradient at a few points. Pass it as ``on_snapshot``.

    Args:
        extent: (xmin, xmax) for 1-D data, (xmin, xmax, ymin, ymax) for 2-D.
        n_points: generated points drawn from fixed noise at each snapshot.
        resolution: grid points per axis for the discriminator's field.
        n_arrows: generated points that get a gradient arrow (2-D only; 0 for none).
    """

    def __init__(self, extent: tuple[float, ...], n_points: int = 1000, resolution: int = 100,
                 n_arrows: int = 64, seed: int = 0):
        self.extent, self.n_points, self.resolution, self.n_arrows = extent, n_points, resolution, n_arrows
        self.seed = seed
        self.frames: list[dict] = []
        self._z: torch.Tensor | None = None

    def _axes(self) -> list[torch.Tensor]:
        pairs = list(zip(self.extent[::2], self.extent[1::2]))
        return [torch.linspace(lo, hi, self.resolution) for lo, hi in pairs]

    def __call__(self, trainer) -> None:
        if self._z is None:
            gen = torch.Generator().manual_seed(self.seed)
            self._z = torch.randn(self.n_points, trainer.latent_dim, generator=gen)
        critic = trainer.family.critic
        discriminator = trainer.discriminator
        points = trainer.sample(z=self._z).cpu()
        axes = self._axes()
        if len(axes) == 1:
            where = axes[0].unsqueeze(1)  # (R, 1)
        else:
            xs, ys = torch.meshgrid(axes[0], axes[1], indexing="xy")
            where = torch.stack([xs.flatten(), ys.flatten()], 1)  # (R*R, 2)
        device = trainer.device
        was_training = discriminator.training
        discriminator.eval()
        try:
            with torch.no_grad():
                scores = discriminator(where.to(device)).float().cpu()
            field = scores if critic else torch.sigmoid(scores)
            arrows = None
            if len(axes) == 2 and self.n_arrows:
                x = points[: self.n_arrows].to(device).requires_grad_(True)
                loss_g = trainer.loss_g(discriminator(x).float())
                (grad,) = torch.autograd.grad(loss_g, x)
                arrows = (x.detach().cpu(), -grad.cpu())  # the direction G's update moves them
        finally:
            discriminator.train(was_training)
        shape = (self.resolution,) if len(axes) == 1 else (self.resolution, self.resolution)
        self.frames.append({"step": trainer.step, "points": points, "field": field.view(shape),
                            "critic": critic, "arrows": arrows})


class ToyViewer(_Viewer):
    """Scrub through a toy-data run: real data, generated points and the discriminator.

    1-D: the data density (when ``mixture`` has a ``pdf``) or a histogram of ``real``, a
    histogram of generated samples, and D(x) (GAN) or the critic's scores. 2-D: the
    discriminator's field as a heatmap, real points, generated points and arrows showing where
    the generator's update pushes them.

    Args:
        recorder: the :class:`ToyRecorder` that was passed to the trainer.
        real: samples of the data (N, 1) or (N, 2).
        mixture: optional :class:`gancourse.toy.Mixture1D` for the exact density.
    """

    def __init__(self, recorder: ToyRecorder, real: torch.Tensor, mixture=None, size: int = 420):
        import ipywidgets as widgets

        if not recorder.frames:
            raise ValueError("the recorder holds no frames: pass it as on_snapshot and train with snapshot_every > 0")
        self.recorder, self.real, self.mixture = recorder, real.detach().cpu(), mixture
        self._cache: dict[int, bytes] = {}
        n = len(recorder.frames)
        self.image = widgets.Image(value=self._png(n - 1), format="png",
                                   layout=widgets.Layout(width=f"{size * 4 // 3}px", height=f"{size}px"))
        self.play, self.slider = _player(n, "snapshot")
        self.slider.observe(lambda change: setattr(self.image, "value", self._png(change["new"])), names="value")
        self.widget = widgets.VBox([widgets.HBox([self.play, self.slider]), self.image])

    def draw(self, index: int, ax) -> None:
        """Draw frame ``index`` on a matplotlib axes."""
        frame = self.recorder.frames[index]
        extent = self.recorder.extent
        label = "critic score" if frame["critic"] else "D(x)"
        if len(extent) == 2:
            x = torch.linspace(extent[0], extent[1], self.recorder.resolution)
            bins = torch.linspace(extent[0], extent[1], 61).numpy()
            if self.mixture is not None and hasattr(self.mixture, "pdf"):
                ax.plot(x, self.mixture.pdf(x), color="k", lw=2, label="p_data")
            else:
                ax.hist(self.real.flatten().numpy(), bins=bins, density=True, color="0.7", label="data")
            ax.hist(frame["points"].flatten().numpy(), bins=bins, density=True, alpha=0.5, color="C1",
                    label="generator samples")
            ax.set(xlim=extent[:2], xlabel="x", ylabel="density")
            twin = ax.twinx()
            twin.plot(x, frame["field"], color="C0", lw=2, label=label)
            twin.set_ylabel(label, color="C0")
            if not frame["critic"]:
                twin.set_ylim(0, 1)
                twin.axhline(0.5, color="C0", ls=":", lw=1)
            ax.legend(loc="upper left", fontsize=8)
        else:
            image = ax.imshow(frame["field"].numpy(), origin="lower", extent=extent, cmap="RdBu_r",
                              aspect="auto", vmin=0 if not frame["critic"] else None,
                              vmax=1 if not frame["critic"] else None)
            ax.figure.colorbar(image, ax=ax, label=label)
            real = self.real[:2000]
            ax.scatter(real[:, 0], real[:, 1], s=4, c="k", label="data")
            points = frame["points"]
            ax.scatter(points[:, 0], points[:, 1], s=4, c="C2", alpha=0.6, label="generator")
            if frame["arrows"] is not None:
                where, push = frame["arrows"]
                ax.quiver(where[:, 0], where[:, 1], push[:, 0], push[:, 1], color="C1", width=0.003)
            ax.set(xlim=extent[:2], ylim=extent[2:], xlabel="x₁", ylabel="x₂")
            ax.legend(loc="upper right", fontsize=8)
        ax.set_title(f"step {frame['step']:,}")

    def _png(self, index: int) -> bytes:
        if index not in self._cache:
            from matplotlib.figure import Figure

            fig = Figure(figsize=(6.4, 4.8), dpi=80)
            self.draw(index, fig.add_subplot())
            fig.tight_layout()
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png")
            self._cache[index] = buffer.getvalue()
        return self._cache[index]

    def figure(self, count: int = 4):
        """Static fallback: ``count`` frames, evenly spaced, side by side."""
        import matplotlib.pyplot as plt

        frames = self.recorder.frames
        picks = sorted({round(i * (len(frames) - 1) / max(count - 1, 1)) for i in range(count)})
        fig, axes = plt.subplots(1, len(picks), figsize=(5 * len(picks), 4), squeeze=False)
        for ax, index in zip(axes[0], picks):
            self.draw(index, ax)
        fig.tight_layout()
        return fig


Toy2DViewer = ToyViewer
