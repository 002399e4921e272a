"""Measure how far A/A comparisons stray from 1 on this machine, to choose lecture_utils.NOISE_THRESHOLD.

Usage: make noise-threshold   (or .venv/bin/python scripts/noise_threshold.py [--trials N])

An A/A comparison times one function against itself with lecture_utils.compare:
any ratio other than 1 is noise. For several kinds of work (pure Python, a NumPy
sort, a memory-bound NumPy add, a threaded BLAS product), on a quiet machine and
while another process keeps one core busy, it prints the spread of the A/A ratios
and how often each candidate threshold would have produced a false verdict.
A threshold is safe when, with the confidence interval, it gives false verdicts
in well under 5 % of A/A trials in both conditions.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lectures"))
import lecture_utils as lu  # noqa: E402

CANDIDATES = [0.01, 0.02, 0.03, 0.05, 0.10]


def workloads():
    rng = np.random.default_rng(0)
    x = rng.random(20_000)
    big_a, big_b = rng.random(4_000_000), rng.random(4_000_000)
    m = rng.random((300, 300))
    return {
        "pure Python, 30 µs": lambda: sum(range(3000)),
        "NumPy sort, 0.15 ms": lambda: np.sort(x),
        "NumPy add, memory-bound, 10 ms": lambda: np.add(big_a, big_b),
        "BLAS matmul, all cores, 1 ms": lambda: m @ m,
    }


def aa_trials(work, trials, max_time):
    verdicts = []
    for _ in range(trials):
        cmp = lu.compare({"A": work, "A again": work}, max_time=max_time)
        verdicts.append(cmp["A again"])
    return verdicts


def report(condition, results):
    print(f"\n{condition}")
    print(
        f"  {'work':34} {'median |r-1|':>12} {'95th':>7} {'max':>7}  false verdicts at threshold "
        + " ".join(f"{100 * c:.0f}%" for c in CANDIDATES)
    )
    for name, verdicts in results.items():
        dev = np.array([abs(v.ratio - 1) for v in verdicts])
        false = [
            sum(
                lu.Verdict(v.version, v.baseline, v.ratio, v.low, v.high, c).verdict != "no measurable difference"
                for v in verdicts
            )
            for c in CANDIDATES
        ]
        print(
            f"  {name:34} {100 * np.median(dev):11.2f}% {100 * np.percentile(dev, 95):6.2f}% "
            f"{100 * dev.max():6.2f}%  " + " ".join(f"{f:>3}" for f in false) + f"  (of {len(verdicts)})"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40, help="A/A comparisons per kind of work and condition")
    parser.add_argument("--max-time", type=float, default=0.5, help="max_time of each compare call, seconds")
    args = parser.parse_args()
    print(f"{lu.cores()} cores; {args.trials} A/A comparisons of {args.max_time} s per kind of work and condition")
    report("Quiet machine", {name: aa_trials(w, args.trials, args.max_time) for name, w in workloads().items()})
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.5)
    try:
        report(
            "Another process keeps one core busy",
            {name: aa_trials(w, args.trials, args.max_time) for name, w in workloads().items()},
        )
    finally:
        spinner.kill()
        spinner.wait()


if __name__ == "__main__":
    main()
