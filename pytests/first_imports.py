"""Run as a script in a fresh process: the two Python models' first imports racing on two threads, as dbt-duckdb
runs contact_segments and purchase_propensity. Prints one JSON line: errors, and whether numba's one-time
registration (it iterates builtins.__dict__) ran while TensorFlow was being imported on the other thread.

Usage: python first_imports.py SEGMENTS_DELAY PROPENSITY_DELAY [--segments-after-tensorflow]
(seconds each thread waits before starting; with the flag, the segments thread's delay counts from the moment
TensorFlow's import begins on the other thread: the window in which the race bites).
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback

import numba.core.base  # only to observe its registration below; importing it registers nothing

events: dict[str, float] = {}
tensorflow_started = threading.Event()
errors: list[str] = []
registration = numba.core.base._load_global_helpers


def observed_registration() -> None:
    events.setdefault("registration_start", time.perf_counter())
    registration()
    events.setdefault("registration_end", time.perf_counter())


numba.core.base._load_global_helpers = observed_registration


def observe_imports(event: str, args: tuple) -> None:
    """When TensorFlow's own import begins (not the statement that leads to it)."""
    if event == "import" and args[0] == "tensorflow":
        events.setdefault("tensorflow_start", time.perf_counter())
        tensorflow_started.set()


sys.addaudithook(observe_imports)


def segments(delay: float, after_tensorflow: bool) -> None:
    """contact_segments: import its entry, then fit k-prototypes (the first numba compile)."""
    if after_tensorflow:
        tensorflow_started.wait(timeout=120)
    time.sleep(delay)
    try:
        import numpy as np

        from journeys.kprototypes import KPrototypes
        from journeys.segments.dbt import build_contact_segments  # noqa: F401

        rows = np.column_stack([np.arange(40.0), np.arange(40) % 3]).astype(object)
        KPrototypes(n_clusters=2, init="Cao", n_init=1, random_state=0).fit(rows, categorical=[1])
    except Exception:  # noqa: BLE001 - reported, not raised: the other thread goes on
        errors.append("segments: " + traceback.format_exc().strip().splitlines()[-1])


def propensity(delay: float) -> None:
    """purchase_propensity: import its entry (TensorFlow)."""
    time.sleep(delay)
    try:
        from journeys.propensity.dbt import build_purchase_propensity  # noqa: F401
    except Exception:  # noqa: BLE001
        errors.append("propensity: " + traceback.format_exc().strip().splitlines()[-1])
    events["tensorflow_end"] = time.perf_counter()


threads = [threading.Thread(target=segments, args=(float(sys.argv[1]), "--segments-after-tensorflow" in sys.argv)),
           threading.Thread(target=propensity, args=(float(sys.argv[2]),))]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
overlap = (events.get("registration_start", 0) < events["tensorflow_end"]
           and events.get("registration_end", 0) > events["tensorflow_start"])
print(json.dumps({"errors": errors, "registration_during_tensorflow_import": overlap}))
