"""Benchmark: kmodes' KPrototypes against journeys.kprototypes on contact-like features.

Same data (4 numeric + 6 categorical columns, 6 planted segments), k=6, Cao init and n_init=1 for both;
prints wall times, the speed ratio and both costs (goal: >= 50x faster at a cost <= 1.01 x
kmodes'). Then ours alone on 1M rows with n_init=10 on 2 threads, wall and CPU seconds (goal:
under 20 s on 2 cores). Run with `make bench`; `--quick` shrinks the sizes for a smoke run. On a shared
machine the wall times are upper bounds; the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from kmodes.kprototypes import KPrototypes as KModesKPrototypes

from journeys.kprototypes import KPrototypes

N_CLUSTERS = 6
INIT = "Cao"
NUMERIC = ["log_sessions", "log_pageviews", "log_emails_opened", "days_since_subscriber"]
CATEGORICAL = ["ip_country_code", "job_title", "last_event", "last_email_name", "opted_out_batch", "course"]
CATEGORY_COUNTS = [40, 20, 30, 30, 2, 12]
SEGMENT_SHARES = [0.3, 0.22, 0.18, 0.12, 0.1, 0.08]


def contact_features(n_rows: int, seed: int) -> tuple[np.ndarray, list[int]]:
    """Contact-like features with six planted segments: 4 standardised numerics, 6 categoricals."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(N_CLUSTERS, size=n_rows, p=SEGMENT_SHARES)
    centres = rng.normal(0.0, 1.2, size=(N_CLUSTERS, len(NUMERIC)))
    numeric = centres[segment] + rng.normal(0.0, 1.0, size=(n_rows, len(NUMERIC)))
    columns = {name: numeric[:, i] for i, name in enumerate(NUMERIC)}
    for name, n_values in zip(CATEGORICAL, CATEGORY_COUNTS, strict=True):
        favourite = rng.integers(0, n_values, size=N_CLUSTERS)
        noise = rng.integers(0, n_values, size=n_rows)
        keep = rng.random(n_rows) < 0.55
        columns[name] = np.where(keep, favourite[segment], noise).astype(str)
        columns[name] = np.char.add(f"{name}_", columns[name])
    frame = pd.DataFrame(columns)
    categorical = [frame.columns.get_loc(name) for name in CATEGORICAL]
    return frame.to_numpy(dtype=object), categorical


def timed_fit(model, X: np.ndarray, categorical: list[int]) -> tuple[float, float, int]:
    start = time.perf_counter()
    model.fit(X, categorical=categorical)
    return time.perf_counter() - start, float(model.cost_), int(model.n_iter_)


def compare(n_rows: int, seeds: list[int]) -> None:
    X, categorical = contact_features(n_rows, seed=1234)
    rows = []
    for seed in seeds:
        theirs = timed_fit(
            KModesKPrototypes(n_clusters=N_CLUSTERS, init=INIT, n_init=1, random_state=seed), X, categorical
        )
        ours = timed_fit(
            KPrototypes(n_clusters=N_CLUSTERS, init=INIT, n_init=1, random_state=seed), X, categorical
        )
        rows.append((seed, *theirs, *ours))
        print(
            f"  n={n_rows:>9,} seed={seed}: kmodes {theirs[0]:8.2f} s cost {theirs[1]:14.2f} ({theirs[2]} iter) | "
            f"ours {ours[0]:7.3f} s cost {ours[1]:14.2f} ({ours[2]} iter) | {theirs[0] / ours[0]:7.1f}x",
            flush=True,
        )
    table = np.array([row[1:] for row in rows])
    their_time, their_cost, our_time, our_cost = table[:, 0], table[:, 1], table[:, 3], table[:, 4]
    ratio = their_time.sum() / our_time.sum()
    cost_ratio = our_cost.mean() / their_cost.mean()
    verdict = "MET" if ratio >= 50 and cost_ratio <= 1.01 else "NOT MET"
    print(
        f"  n={n_rows:,} summary: kmodes mean {their_time.mean():.2f} s, ours mean {our_time.mean():.3f} s, "
        f"speed ratio {ratio:.1f}x; mean cost kmodes {their_cost.mean():.2f}, ours {our_cost.mean():.2f} "
        f"(ours / kmodes = {cost_ratio:.4f}); goal >=50x at <=1.01: {verdict}",
        flush=True,
    )


def ours_alone(n_rows: int, n_init: int, n_jobs: int) -> None:
    X, categorical = contact_features(n_rows, seed=99)
    model = KPrototypes(n_clusters=N_CLUSTERS, init=INIT, n_init=n_init, random_state=0, n_jobs=n_jobs)
    cpu = time.process_time()
    seconds, cost, n_iter = timed_fit(model, X, categorical)
    cpu = time.process_time() - cpu
    verdict = "MET" if seconds < 20 else "NOT MET"
    print(
        f"  ours alone n={n_rows:,} x {len(NUMERIC) + len(CATEGORICAL)} features, k={N_CLUSTERS}, "
        f"n_init={n_init}, n_jobs={n_jobs}: {seconds:.2f} s wall, {cpu:.2f} s CPU (/ {n_jobs} cores = "
        f"{cpu / n_jobs:.2f} s), cost {cost:.2f}, "
        f"best run {n_iter} iter; goal < 20 s wall on 2 cores: {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2k / 5k / 50k rows instead of 10k / 90k / 1M")
    args = parser.parse_args()
    small, large, huge = (2_000, 5_000, 50_000) if args.quick else (10_000, 90_000, 1_000_000)
    load = os.getloadavg()
    print(f"k={N_CLUSTERS}, init={INIT}, {len(NUMERIC)} numeric + {len(CATEGORICAL)} categorical columns")
    print(
        f"load average before start (1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores"
    )
    warm_up, categorical = contact_features(200, seed=0)
    KPrototypes(n_clusters=N_CLUSTERS, n_init=1).fit(warm_up, categorical=categorical)  # numba compiles once
    compare(small, seeds=[0, 1, 2])
    compare(large, seeds=[0])
    ours_alone(huge, n_init=10, n_jobs=2)
    load = os.getloadavg()
    print(f"load average at the end (1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
