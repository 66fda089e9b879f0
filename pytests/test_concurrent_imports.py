"""dbt runs the two Python models on two threads of one process: their first imports race. Each run is a fresh
process (pytests/first_imports.py), with one model or the other starting first, at a range of delays, or the
segments model starting while TensorFlow's import is under way on the other thread (where the race bites)."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HARNESS = Path(__file__).with_name("first_imports.py")
RUNS = 12


def race(run: tuple[float, float, bool]) -> dict:
    *delays, after_tensorflow = run
    flags = ["--segments-after-tensorflow"] if after_tensorflow else []
    result = subprocess.run([sys.executable, str(HARNESS), *map(str, delays), *flags], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_first_imports_of_the_two_models_never_interleave_the_heavy_initialisations() -> None:
    rng = np.random.default_rng(0)
    # either model first, the other 0-3 s later (TensorFlow takes seconds to import), or the segments model
    # 0-1 s after TensorFlow's import began
    runs = [[(0.0, d, False), (d, 0.0, False), (d / 3, 0.0, True)][i % 3]
            for i, d in enumerate(rng.uniform(0, 3, RUNS).tolist())]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(race, runs))
    assert [r["errors"] for r in results] == [[]] * RUNS
    interleaved = [run for run, r in zip(runs, results, strict=True) if r["registration_during_tensorflow_import"]]
    assert interleaved == [], "numba's registration ran while TensorFlow was importing"
