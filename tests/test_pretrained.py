import shutil

import pytest
import torch

from gancourse import metrics, pretrained, viz
from gancourse.training import TrainConfig

NAMES = pretrained.names()


def test_the_recipes_are_the_lessons():
    assert NAMES == ["conditional-gan", "dcgan", "mlp-gan", "modern-mlp", "wgan-gp"]
    assert [name for name in NAMES if pretrained.recipe(name).conditional] == ["conditional-gan"]
    for name in NAMES:
        assert pretrained.recipe(name).name == name and pretrained.describe(name)["seed"] == 0


@pytest.mark.parametrize("name", NAMES)
def test_each_generator_ships_as_its_manifest_describes(name):
    entry = pretrained.manifest(name)
    assert entry is not None, f"{name} is not shipped: run python -m gancourse pretrain {name}"
    path = pretrained._folder(None) / entry["file"]
    assert pretrained._sha256(path) == entry["sha256"] and path.stat().st_size == entry["bytes"]
    described = pretrained.describe(name)  # the recipe in the code is the one trained:
    assert {key: entry[key] for key in described if key != "config"} == {
        key: value for key, value in described.items() if key != "config"}
    assert TrainConfig(**entry["config"]) == pretrained.recipe(name).config  # fields added since take defaults
    assert [figure["n"] for figure in entry["figures"]] == list(pretrained.FIGURE_SAMPLES)
    saved = torch.load(path, weights_only=True)["state_dict"]
    assert {tensor.dtype for tensor in saved.values() if tensor.is_floating_point()} == {torch.float16}


def test_sizes():
    sizes = {name: (pretrained._folder(None) / f"{name}.pt").stat().st_size for name in NAMES}
    assert all(size <= 3_000_000 for size in sizes.values()), sizes
    assert sum(sizes.values()) <= 10_000_000, sizes


@pytest.mark.parametrize("name", NAMES)
def test_each_generator_loads_with_the_manifests_architecture(name):
    entry = pretrained.manifest(name)
    generator = pretrained.load(name)
    assert type(generator).__name__ == entry["generator"]["class"] and not generator.training
    assert sum(p.numel() for p in generator.parameters()) == entry["parameters"]
    assert all(p.dtype == torch.float32 for p in generator.parameters())
    images, requested = pretrained.sample(generator, 4, conditional=pretrained.recipe(name).conditional)
    assert images.shape == (4, 1, 28, 28) and images.abs().max() <= 1
    assert (requested is not None) == pretrained.recipe(name).conditional


@pytest.mark.parametrize("name", NAMES)
def test_judge_figures_at_small_n_match_the_manifest(name, mnist_root):
    from gancourse.data import load_mnist

    expected = next(figure for figure in pretrained.manifest(name)["figures"] if figure["n"] == 1000)
    generator = pretrained.load(name)
    z = torch.randn(1000, generator.latent_dim, generator=torch.Generator().manual_seed(0))
    conditional = pretrained.recipe(name).conditional
    requested = torch.arange(1000) % 10  # a conditional generator is asked for 0..9 in turn
    with torch.no_grad():
        images = generator(z, requested) if conditional else generator(z)
    judge = metrics.load_judge()
    test_images, test_labels = load_mnist(train=False, root=mnist_root)
    report = metrics.judge_report(images, judge, judge.embed(test_images[:1000])[0])
    if conditional:
        report["requested"] = metrics.conditional_report(images, requested, judge, test_images, test_labels)
    assert pretrained.differences(report, expected) == []
    assert pretrained.manifest(name)["figures"][0]["frechet_distance"] < 100  # a trained generator, not noise
    assert ("requested" in expected) == conditional


def test_differences_name_what_moved():
    report = {"n": 1000, "histogram": [0.1] * 10, "confident_share": 0.9, "frechet_distance": 10.0,
              "kl_to_uniform": 0.0}
    assert pretrained.differences(report, dict(report)) == []
    assert pretrained.differences(dict(report, frechet_distance=10.005), report) == []
    moved = dict(report, frechet_distance=10.5, histogram=[0.105] + [0.1] * 9, confident_share=0.8)
    found = pretrained.differences(moved, report)
    assert len(found) == 3 and "Fréchet distance 10.5000 vs 10.0000" in found
    assert pretrained.differences(dict(report, n=500), report) == ["n 500 vs 1000"]
    asked = dict(report, requested={"accuracy": 0.9, "accuracy_per_digit": [0.9] * 10, "n_per_digit": [100] * 10})
    assert pretrained.differences(asked, asked) == []
    moved = dict(asked, requested={**asked["requested"], "accuracy": 0.95, "accuracy_per_digit": [0.95] + [0.9] * 9})
    assert pretrained.differences(moved, asked) == ["requested-digit accuracy 0.9500 vs 0.9000",
                                                    "digit 0 requested accuracy 0.9500 vs 0.9000"]
    assert pretrained.differences(report, asked) == ["requested-digit accuracy missing (judged without labels?)"]


def test_a_changed_file_is_refused_with_one_line(tmp_path):
    for suffix in (".pt", ".json"):
        shutil.copy(pretrained._folder(None) / f"mlp-gan{suffix}", tmp_path)
    assert pretrained.load("mlp-gan", folder=tmp_path) is not None
    data = bytearray((tmp_path / "mlp-gan.pt").read_bytes())
    data[-100] ^= 1
    (tmp_path / "mlp-gan.pt").write_bytes(bytes(data))
    with pytest.raises(RuntimeError) as info:
        pretrained.load("mlp-gan", folder=tmp_path)
    assert "SHA-256" in str(info.value) and "\n" not in str(info.value)


def test_unknown_and_untrained_names_are_one_line_errors(tmp_path):
    with pytest.raises(ValueError, match="choose one of conditional-gan, dcgan, mlp-gan, modern-mlp, wgan-gp"):
        pretrained.load("stylegan")
    with pytest.raises(FileNotFoundError, match="python -m gancourse pretrain dcgan") as info:
        pretrained.load("dcgan", folder=tmp_path)
    assert "\n" not in str(info.value)


def test_weights_that_do_not_fit_the_recipe_are_refused(tmp_path):
    from gancourse.models import MLPGenerator

    path = pretrained.save(MLPGenerator(latent_dim=8), tmp_path / "mlp-gan.pt", "mlp-gan")
    entry = dict(pretrained.manifest("mlp-gan"), sha256=pretrained._sha256(path))
    (tmp_path / "mlp-gan.json").write_text(__import__("json").dumps(entry))
    with pytest.raises(RuntimeError, match="does not fit the recipe's MLPGenerator"):
        pretrained.load("mlp-gan", folder=tmp_path)


def test_the_latent_explorer_takes_a_pretrained_generator():
    explorer = viz.LatentExplorer(pretrained.load("dcgan"), n=3, steps=4)
    before = explorer.image.value
    explorer.slider.value = 4
    assert explorer.image.value != before


def test_load_into_replaces_a_trainers_generator_and_refuses_another_architecture(capsys):
    from gancourse.models import DCGANGenerator, MLPGenerator

    generator = DCGANGenerator().to(memory_format=torch.channels_last)
    entry = pretrained.load_into(generator, "dcgan")
    assert "generator replaced by the pretrained 'dcgan'" in capsys.readouterr().out
    assert entry["steps"] == pretrained.recipe("dcgan").steps
    generator.eval()
    z = torch.randn(3, 100)
    with torch.no_grad():
        torch.testing.assert_close(generator(z), pretrained.load("dcgan")(z))
    with pytest.raises(ValueError, match="not the recipe's MLPGenerator"):
        pretrained.load_into(MLPGenerator(latent_dim=64), "mlp-gan")  # no BatchNorm: another architecture


def test_load_into_a_conditional_generator_prints_its_requested_digit_accuracy(capsys):
    from gancourse.models import ConditionalMLPGenerator

    generator = ConditionalMLPGenerator(latent_dim=64, embed_dim=10)  # lesson 06's, section 3
    entry = pretrained.load_into(generator, "conditional-gan")
    accuracy = entry["figures"][0]["requested"]["accuracy"]
    assert f"requested digit drawn {accuracy:.1%} of the time" in capsys.readouterr().out
    generator.eval()
    z, digits = torch.randn(10, 64), torch.arange(10)
    with torch.no_grad():
        torch.testing.assert_close(generator(z, digits), pretrained.load("conditional-gan")(z, digits))
