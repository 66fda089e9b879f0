"""dbt runs the two Python models on two threads of one process: their first imports race. Each run is a fresh
process (pytests/first_imports.py), with one model or the other starting first, at a range of delays."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HARNESS = Path(__file__).with_name("first_imports.py")
RUNS = 12


def race(delays: tuple[float, float]) -> dict:
    result = subprocess.run([sys.executable, str(HARNESS), *map(str, delays)], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_first_imports_of_the_two_models_never_interleave_the_heavy_initialisations() -> None:
    rng = np.random.default_rng(0)
    # either model first, the other 0-3 s later (TensorFlow takes seconds to import)
    delays = [(0.0, float(d)) if i % 2 else (float(d), 0.0) for i, d in enumerate(rng.uniform(0, 3, RUNS))]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(race, delays))
    assert [r["errors"] for r in results] == [[]] * RUNS
    interleaved = [d for d, r in zip(delays, results, strict=True) if r["registration_during_tensorflow_import"]]
    assert interleaved == [], "numba's registration ran while TensorFlow was importing"
