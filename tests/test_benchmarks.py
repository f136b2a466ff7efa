"""The benchmark scripts run and report what they promise (on tiny workloads; no time is asserted)."""

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sweep_benchmark_prints_both_times_the_ratio_and_the_agreement(capsys):
    load("sweep").main(["--lrs", "2", "--seeds", "2", "--epochs", "1", "--hidden", "8", "--device", "cpu"])
    out = capsys.readouterr().out
    assert "K = 2 rates x 2 seeds = 4 runs" in out
    assert "[cpu] sequential train_mlp x 4:" in out and "speed-up:" in out
    assert "agree with the sequential ones to 1e-4 at every step: 4 of 4" in out


def test_notebook_report_names_device_time_and_outcome(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LRCOURSE_DEVICE", raising=False)
    bad = tmp_path / "bad.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise RuntimeError('boom')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, bad)
    before = (ROOT / "book/part2/ewa.ipynb").read_bytes()
    report = tmp_path / "report.md"
    code = load("notebooks").main([str(ROOT / "book/part2/ewa.ipynb"), str(bad), "--device", "cpu", "--output", str(report)])
    assert code == 1  # one notebook failed
    table = report.read_text()
    assert "| `book/part2/ewa.ipynb` | cpu |" in table and table.count("| ok |") == 1
    assert "error: RuntimeError" in table
    assert "LRCOURSE_DEVICE=cpu" in table
    assert (ROOT / "book/part2/ewa.ipynb").read_bytes() == before  # the stored notebook is untouched


def test_notebook_report_refuses_missing_files():
    with pytest.raises(SystemExit):
        load("notebooks").main(["book/no-such-chapter.ipynb"])
