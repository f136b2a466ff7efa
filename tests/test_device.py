"""lrcourse.get_device: the order CUDA, MPS, CPU, and the LRCOURSE_DEVICE override; resolve_device for the
``device`` arguments."""

import pytest
import torch

import lrcourse
from lrcourse.device import resolve_device


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
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv("LRCOURSE_DEVICE", "cuda:7")  # one GPU: index 7 does not exist
    with pytest.raises(ValueError, match="not available.*cuda:7"):
        lrcourse.get_device()


def test_resolve_device_argument(monkeypatch):
    monkeypatch.setenv("LRCOURSE_DEVICE", "cpu")
    assert resolve_device(None) == torch.device("cpu")  # None: get_device's choice
    assert resolve_device(torch.device("cpu")) == resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    for name in ("cuda", "cuda:0", "mps"):
        with pytest.raises(ValueError, match=f"where names a device that is not available here, got '{name}'"):
            resolve_device(name, "where")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(ValueError, match="device names a device that is not available here, got 'cuda:2'"):
        resolve_device("cuda:2")
    with pytest.raises(ValueError, match="device must name a torch device, got 'gpu'"):
        resolve_device("gpu")
    with pytest.raises(TypeError, match="device must be a torch.device, a string such as 'cpu', or None, got 0"):
        resolve_device(0)
