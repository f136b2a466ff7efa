"""lrcourse.get_device: the order CUDA, MPS, CPU, and the LRCOURSE_DEVICE override."""

import pytest
import torch

import lrcourse


def test_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.delenv("LRCOURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert lrcourse.get_device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert lrcourse.get_device().type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert lrcourse.get_device() == torch.device("cpu")


def test_override(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("LRCOURSE_DEVICE", "cpu")
    assert lrcourse.get_device() == torch.device("cpu")


def test_override_rejects_unknown_or_missing_device(monkeypatch):
    monkeypatch.setenv("LRCOURSE_DEVICE", "tpu9")
    with pytest.raises(ValueError, match="LRCOURSE_DEVICE.*tpu9"):
        lrcourse.get_device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("LRCOURSE_DEVICE", "cuda")
    with pytest.raises(ValueError, match="not available.*cuda"):
        lrcourse.get_device()
