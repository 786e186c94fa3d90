"""Viewers in plain pytest: moving a slider (what dragging it does) changes the image bytes."""
import torch

from gancourse import toy, viz
from gancourse.models import MLPDiscriminator, MLPGenerator, ToyDiscriminator, ToyGenerator
from gancourse.training import Trainer, TrainConfig

PNG = b"\x89PNG\r\n\x1a\n"


def image_run():
    torch.manual_seed(0)
    data = torch.rand(64, 1, 28, 28) * 2 - 1
    trainer = Trainer(MLPGenerator(latent_dim=8, hidden=(16,)), MLPDiscriminator(hidden=(16,)), data,
                      TrainConfig(batch_size=8, log_every=2, snapshot_every=2, n_snapshot=16), "cpu")
    trainer.train(6, progress=False)
    return trainer


def test_images_to_png_is_a_native_resolution_grid():
    from PIL import Image
    import io
    png = viz.images_to_png(torch.zeros(16, 1, 28, 28), nrow=8)
    assert png.startswith(PNG)
    assert Image.open(io.BytesIO(png)).size == (8 * 30 + 2, 2 * 30 + 2)  # 2 px padding


def test_snapshot_viewer_slider_changes_image_and_info():
    history = image_run().history
    viewer = viz.SnapshotViewer(history, nrow=4)
    assert viewer.slider.max == 3 and viewer.slider.value == 3  # snapshots at steps 0, 2, 4, 6
    last, info = bytes(viewer.image.value), viewer.info.value
    assert last.startswith(PNG) and "step 6" in info and "loss_d" in info
    viewer.slider.value = 0
    assert bytes(viewer.image.value) != last and "step 0" in viewer.info.value and "before training" in viewer.info.value
    assert len(viewer.figure(count=3).axes) == 3


def test_latent_explorer_slider_and_button_change_image():
    generator = image_run().generator
    explorer = viz.LatentExplorer(generator, n=4, steps=10)
    start = bytes(explorer.image.value)
    explorer.slider.value = 10
    end = bytes(explorer.image.value)
    assert end != start
    explorer.button.click()
    assert bytes(explorer.image.value) != end
    # the static figure: one walk per row, 5 frames from z0 (left) through t = 0.5 to z1 (right)
    figure = explorer.figure(columns=5)
    (ax,) = figure.axes
    shown = torch.as_tensor(ax.images[0].get_array())
    assert shown.shape == (4 * 30 + 2, 5 * 30 + 2, 3)  # 28-px tiles with 2-px padding
    generator.eval()
    for column, t in [(0, 0.0), (2, 0.5), (4, 1.0)]:
        with torch.no_grad():
            frame = generator(viz.interpolate(explorer.z0, explorer.z1, t, "slerp"))  # (4, 1, 28, 28)
        tiles = viz._grid(frame, nrow=1)  # the 4 walks stacked: one column of the figure
        assert torch.equal(shown[:, column * 30:column * 30 + 32], tiles), f"column {column} is not t = {t}"
    assert not torch.equal(shown[2:30, 2:30], shown[2:30, -30:-2])  # the walk goes somewhere
    assert ax.get_title() == "slerp interpolation, z0 → z1"


def test_interpolate_endpoints_and_slerp_norm():
    gen = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(500, 100, generator=gen), torch.randn(500, 100, generator=gen)
    for mode in ("slerp", "linear"):
        torch.testing.assert_close(viz.interpolate(z0, z1, 0.0, mode), z0)
        torch.testing.assert_close(viz.interpolate(z0, z1, 1.0, mode), z1, atol=1e-5, rtol=1e-5)
    typical = (z0.norm(dim=1) + z1.norm(dim=1)) / 2
    mid_linear = (viz.interpolate(z0, z1, 0.5, "linear").norm(dim=1) / typical).mean()
    mid_slerp = (viz.interpolate(z0, z1, 0.5, "slerp").norm(dim=1) / typical).mean()
    assert abs(mid_linear - 2 ** -0.5) < 0.02  # 1/√2 for independent Gaussians
    assert abs(mid_slerp - 1) < 0.02


def toy_run(dim):
    torch.manual_seed(0)
    if dim == 2:
        mixture = toy.ring()
        data, extent = mixture.sample(512), mixture.extent()
    else:
        mixture = toy.Mixture1D(means=(-1.0, 2.0), stds=(0.3, 0.5))
        data, extent = mixture.sample(512), (-4.0, 5.0)
    recorder = viz.ToyRecorder(extent, n_points=200, resolution=30, n_arrows=16)
    trainer = Trainer(ToyGenerator(latent_dim=2, out_dim=dim, hidden=(16,)), ToyDiscriminator(dim, hidden=(16,)),
                      data, TrainConfig(batch_size=32, snapshot_every=3, log_every=3), "cpu", on_snapshot=recorder)
    trainer.train(6, progress=False)
    return recorder, data, mixture


def test_toy_viewer_2d_records_field_and_arrows_and_slider_changes_image():
    recorder, data, _ = toy_run(2)
    assert [f["step"] for f in recorder.frames] == [0, 3, 6]
    frame = recorder.frames[-1]
    assert frame["field"].shape == (30, 30) and 0 <= frame["field"].min() and frame["field"].max() <= 1
    assert frame["arrows"][1].shape == (16, 2)
    viewer = viz.Toy2DViewer(recorder, data)
    last = bytes(viewer.image.value)
    viewer.slider.value = 0
    assert bytes(viewer.image.value).startswith(PNG) and bytes(viewer.image.value) != last
    assert len(viewer.figure(count=2).axes) >= 2


def test_toy_viewer_1d():
    recorder, data, mixture = toy_run(1)
    assert recorder.frames[0]["field"].shape == (30,)
    viewer = viz.ToyViewer(recorder, data, mixture=mixture)
    last = bytes(viewer.image.value)
    viewer.slider.value = 1
    assert bytes(viewer.image.value) != last


def test_digit_explorer_digit_and_walk_sliders_change_the_image():
    from gancourse.models import ConditionalMLPGenerator

    torch.manual_seed(0)
    generator = ConditionalMLPGenerator(latent_dim=8, hidden=(16,))
    explorer = viz.DigitExplorer(generator, digit=3, n=4, steps=10)
    assert explorer.digit_slider.max == 9 and explorer.digit_slider.value == 3
    start = bytes(explorer.image.value)
    explorer.digit_slider.value = 7
    seven = bytes(explorer.image.value)
    assert seven.startswith(PNG) and seven != start and explorer.digit == 7
    explorer.slider.value = 10
    assert bytes(explorer.image.value) != seven
    generator.eval()
    with torch.no_grad():  # the image is the generator's at the chosen digit and z1
        expected = viz.images_to_png(generator(explorer.z1, torch.full((4,), 7)), nrow=4)
    assert bytes(explorer.image.value) == expected
    assert explorer.figure(columns=3).axes[0].get_title() == "slerp interpolation, z0 → z1, digit 7"
