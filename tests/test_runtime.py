import re

import pytest
import torch

from gancourse import runtime


def test_budget_follows_quick_mode(monkeypatch):
    monkeypatch.setenv("GANCOURSE_QUICK", "1")
    assert runtime.is_quick() and runtime.budget(full=3000, quick=30) == 30
    for off in ("", "0", "false", "No", "off", "OFF", " no "):
        monkeypatch.setenv("GANCOURSE_QUICK", off)
        assert not runtime.is_quick() and runtime.budget(full=3000, quick=30) == 3000
    for on in ("true", "YES", "On"):
        monkeypatch.setenv("GANCOURSE_QUICK", on)
        assert runtime.is_quick()
    for nonsense in ("2", "quick", "of"):
        monkeypatch.setenv("GANCOURSE_QUICK", nonsense)
        with pytest.raises(ValueError, match=f"GANCOURSE_QUICK='{nonsense}' is not understood"):
            runtime.is_quick()
    monkeypatch.delenv("GANCOURSE_QUICK")
    assert runtime.budget(full=(1, 2), quick=(0,)) == (1, 2)


def test_pick_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.delenv("GANCOURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(runtime, "_mps_available", lambda: False)
    assert runtime.pick_device().type == "cpu"
    monkeypatch.setattr(runtime, "_mps_available", lambda: True)
    assert runtime.pick_device().type == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.pick_device().type == "cuda"


def test_pick_device_refuses_unavailable_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="not available"):
        runtime.pick_device("cuda")
    monkeypatch.setenv("GANCOURSE_DEVICE", "cpu")
    assert runtime.pick_device() == torch.device("cpu")
    monkeypatch.setenv("GANCOURSE_DEVICE", "nonsense")
    with pytest.raises(ValueError, match="GANCOURSE_DEVICE 'nonsense' is not a device name; use one of"):
        runtime.pick_device()
    with pytest.raises(ValueError, match="device 'gpu' is not a device name"):
        runtime.pick_device("gpu")


def test_seed_everything_repeats_samples():
    runtime.seed_everything(3)
    a = torch.randn(5)
    runtime.seed_everything(3)
    assert torch.equal(a, torch.randn(5))


def test_setup_prints_one_line_with_versions_device_and_mode(monkeypatch, capsys):
    monkeypatch.setenv("GANCOURSE_QUICK", "1")
    device = runtime.setup(seed=7, device="cpu")
    out = capsys.readouterr().out
    assert device == torch.device("cpu") and out.count("\n") == 1
    assert torch.__version__ in out and "device cpu" in out and "quick mode" in out and "seed 7" in out
    assert re.search(r"python 3\.\d+", out)
