import json

import pytest

from gancourse import cli


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("argv, words", [
    (["train", "--steps", "0"], "at least 1"),
    (["train", "--loss", "wasserstein"], "invalid choice"),
    (["modes", "--dataset", "spiral"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, argv, words):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and words in err and err.count("\n") == 1


def test_unavailable_device_is_a_one_line_error(capsys, monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, out, err = run(capsys, "modes", "--device", "cuda", "--seeds", "1", "--steps", "1")
    assert code == 2 and out == "" and "not available" in err and err.count("\n") == 1


def test_modes_prints_a_table_as_json(capsys):
    code, out, _ = run(capsys, "modes", "--dataset", "grid", "--seeds", "2", "--steps", "20", "--pack", "2")
    result = json.loads(out)
    assert code == 0 and result["max_modes"] == 25 and result["samples"] == 2500 and len(result["runs"]) == 2
    assert 0 <= result["summary"]["modes"]["mean"] <= 25 and result["pack"] == 2


def test_train_then_evaluate(capsys, tmp_path, mnist_root, monkeypatch):
    monkeypatch.setenv("GANCOURSE_DATA", str(mnist_root))
    code, out, err = run(capsys, "train", "--model", "mlp", "--steps", "5", "--out", str(tmp_path),
                         "--samples", "200", "--batch-size", "32")
    result = json.loads(out)
    assert code == 0 and result["steps"] == 5 and (tmp_path / "checkpoint.pt").exists()
    assert len(result["judge"]["histogram"]) == 10 and result["judge"]["frechet_distance"] > 0
    code, out, _ = run(capsys, "evaluate", str(tmp_path / "generator.pt"), "--samples", "200")
    again = json.loads(out)
    assert code == 0 and again["judge"]["frechet_distance"] == pytest.approx(result["judge"]["frechet_distance"])


def test_evaluate_refuses_other_files(tmp_path):
    import torch
    torch.save({"weights": 1}, tmp_path / "x.pt")
    with pytest.raises(SystemExit, match="not a generator"):
        cli.main(["evaluate", str(tmp_path / "x.pt")])
