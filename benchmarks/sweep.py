"""Time a learning-rate sweep two ways: K runs of ``train_mlp`` one after the other, and one ``sweep_mlp``.

The workload of issue 6: scikit-learn's digits (1797 examples, 64 pixels), a 64-128-10 network, Adam,
5 epochs of mini-batches of 64, K = 64 runs (16 learning rates from 1e-4 to 1e-1 times 4 seeds). Both ways
run in this process on the same data; the script prints both times, the speed-up ratio, and the largest
relative difference between the two sets of losses (they are the same runs). On a machine with CUDA it
then does the same on the GPU.

    python benchmarks/sweep.py            # CPU, then the GPU if there is one
    python benchmarks/sweep.py --help     # options

Not a test: nothing here is asserted. The figures depend on the machine and on its load (``uptime``).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from lrcourse.data import load_digits
from lrcourse.sweep import OPTIMIZERS, sweep_mlp, train_mlp


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench(X, y, device, lrs, seeds, args) -> dict:
    common = dict(hidden=tuple(args.hidden), optimizer=args.optimizer, epochs=args.epochs,
                  batch_size=args.batch_size, device=device, progress=False)
    # warm up both code paths (allocator, kernels, lazy initialization) on a short run
    warm = dict(common, epochs=1)
    train_mlp(X, y, lr=lrs[0], seed=seeds[0], **warm)
    sweep_mlp(X, y, lrs=lrs[:2], seeds=seeds[:2], **warm)

    best = {"sequential": (float("inf"), 0.0), "batched": (float("inf"), 0.0)}
    for _ in range(args.repeats):
        _sync(device)
        wall, cpu = time.perf_counter(), time.process_time()
        sequential = np.array([[train_mlp(X, y, lr=lr, seed=seed, **common).loss for seed in seeds] for lr in lrs])
        _sync(device)
        best["sequential"] = min(best["sequential"], (time.perf_counter() - wall, time.process_time() - cpu))

        wall, cpu = time.perf_counter(), time.process_time()
        batched = sweep_mlp(X, y, lrs=lrs, seeds=seeds, **common).loss
        _sync(device)
        best["batched"] = min(best["batched"], (time.perf_counter() - wall, time.process_time() - cpu))

    # the same runs: count those whose losses agree to float32 round-off at every step
    with np.errstate(all="ignore"):
        rel = np.abs(batched - sequential) / np.abs(sequential)
    agree = np.all(rel <= 1e-4, axis=-1)
    return dict(best, agree=int(agree.sum()), worst=float(np.nanmax(rel)),
                disagree_lrs=sorted({lrs[i] for i in np.nonzero(~agree)[0]}))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--lrs", type=int, default=16, help="number of learning rates, log-spaced in [1e-4, 1e-1]")
    parser.add_argument("--seeds", type=int, default=4, help="number of seeds (0, 1, ...)")
    parser.add_argument("--hidden", type=int, nargs="*", default=[128], help="hidden layer widths")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1, help="time each way this many times, keep the best")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads for the CPU runs (default: torch's own choice)")
    parser.add_argument("--device", action="append", default=None,
                        help="device(s) to time; default: cpu, plus cuda when available")
    args = parser.parse_args(argv)

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    devices = args.device or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    X, y = load_digits()
    lrs = np.logspace(-4, -1, args.lrs).tolist()
    seeds = list(range(args.seeds))
    K = len(lrs) * len(seeds)
    print(f"digits {X.shape}, network {X.shape[1]}-{'-'.join(map(str, args.hidden))}-10, {args.optimizer}, "
          f"{args.epochs} epochs, batch {args.batch_size}, K = {len(lrs)} rates x {len(seeds)} seeds = {K} runs")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for name in devices:
        device = torch.device(name)
        label = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        r = bench(X, y, device, lrs, seeds, args)
        (seq_wall, seq_cpu), (bat_wall, bat_cpu) = r["sequential"], r["batched"]
        print(f"[{label}] sequential train_mlp x {K}: {seq_wall:.2f} s   sweep_mlp: {bat_wall:.3f} s   "
              f"speed-up: {seq_wall / bat_wall:.1f}x")
        if device.type == "cpu":
            print(f"[{label}] CPU time of this process: {seq_cpu:.2f} s vs {bat_cpu:.3f} s, "
                  f"ratio {seq_cpu / bat_cpu:.1f}x (less sensitive to other processes on a shared machine)")
        note = "" if r["agree"] == K else (
            f"; the others have rates {', '.join(f'{lr:.2g}' for lr in r['disagree_lrs'])}, where round-off "
            f"grows along an unstable path (largest relative difference {r['worst']:.1e})")
        print(f"[{label}] runs whose losses agree with the sequential ones to 1e-4 at every step: "
              f"{r['agree']} of {K}{note}")
    print(f"load average at the end {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
