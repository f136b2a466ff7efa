"""Execute every chapter in a scratch copy and report, for each, the device it trained on and how long it took.

Each notebook runs top to bottom in a fresh kernel (nbclient), as nbval and ``make notebooks`` run it, but the
stored notebooks are left untouched: the executed copies are thrown away. After its last cell, the kernel is
asked what ``lrcourse.get_device()`` returned there, so the report says which device the chapter's PyTorch code
used (the NumPy chapters run on the CPU whatever that says). The script prints one line per chapter as it
finishes and a markdown table at the end, which ``--output`` also writes to a file.

    python benchmarks/notebooks.py                        # every chapter, on the device lrcourse picks
    python benchmarks/notebooks.py --device cuda          # LRCOURSE_DEVICE=cuda in every kernel
    python benchmarks/notebooks.py book/part2/adam.ipynb  # some chapters only

Not a test: nothing is compared with the stored outputs (that is nbval's job). The times depend on the machine,
on its load and on the number of BLAS threads (the Makefile sets one; set ``OMP_NUM_THREADS`` to compare).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parents[1]
PROBE = "import lrcourse\nprint(lrcourse.get_device())"


def chapters() -> list[Path]:
    """The chapters, in the order of the table of contents (``_toc.yml``)."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    found = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                path = ROOT / f"{node['file']}.ipynb"
                if path.exists():
                    found.append(path)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc)
    return found


def run(path: Path, timeout: int) -> dict:
    """Execute a copy of ``path`` in its own folder; return the device, the wall time and the outcome."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    status = "ok"
    try:
        client.execute()
    except CellTimeoutError:
        status = f"timed out after {timeout} s"
    except CellExecutionError as err:
        status = f"error: {err.ename}"
    seconds = time.perf_counter() - start
    probe = nb.cells[-1].get("outputs", [])
    device = "".join(o.get("text", "") for o in probe if o.get("output_type") == "stream").strip() or "?"
    name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    return dict(notebook=name, device=device, seconds=seconds, status=status)


def machine() -> str:
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA GPU"
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {gpu}; torch {torch.__version__}, "
            f"Python {platform.python_version()}; LRCOURSE_DEVICE={os.environ.get('LRCOURSE_DEVICE', 'unset')}, "
            f"OMP_NUM_THREADS={threads}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: every chapter)")
    parser.add_argument("--device", default=None,
                        help="set LRCOURSE_DEVICE to this in every kernel (cpu, cuda, mps); default: as set now")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed to one cell (default: 600)")
    parser.add_argument("--output", type=Path, default=None, help="also write the markdown table to this file")
    args = parser.parse_args(argv)

    if args.device is not None:
        os.environ["LRCOURSE_DEVICE"] = args.device  # kernels inherit this process's environment
    os.environ.setdefault("LRCOURSE_PROGRESS", "0")
    paths = [p.resolve() for p in args.notebooks] or chapters()
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")

    header = machine()
    print(header, flush=True)
    rows = []
    for path in paths:
        row = run(path, args.timeout)
        rows.append(row)
        print(f"{row['notebook']}: {row['device']}, {row['seconds']:.1f} s, {row['status']}", flush=True)

    total = sum(r["seconds"] for r in rows)
    table = [f"Machine: {header}", "", "| notebook | device | seconds | status |", "| --- | --- | ---: | --- |"]
    table += [f"| `{r['notebook']}` | {r['device']} | {r['seconds']:.1f} | {r['status']} |" for r in rows]
    table += [f"| all {len(rows)} | | {total:.1f} | |"]
    text = "\n".join(table) + "\n"
    print()
    print(text, end="")
    if args.output is not None:
        args.output.write_text(text)
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
