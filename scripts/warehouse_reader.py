"""Run as a script (pytests/test_publish.py, scripts/bench_publish.py): a BI tool's reads of the published
warehouse, every half second until STOP_FILE appears.

Mode `hold` keeps one read-only connection open the whole time; `reconnect` opens a new one for every read.
Prints one JSON line per read: seconds since start, the newest score_drift build number, or the error.

Usage: python warehouse_reader.py DB_PATH MODE STOP_FILE
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

db_path, mode, stop = sys.argv[1], sys.argv[2], Path(sys.argv[3])
QUERY = "select max(build_number) from marts.score_drift"
started = time.monotonic()
held = duckdb.connect(db_path, read_only=True) if mode == "hold" else None
while not stop.exists():
    try:
        if held is not None:
            build = held.execute(QUERY).fetchone()[0]
        else:
            with duckdb.connect(db_path, read_only=True) as con:
                build = con.execute(QUERY).fetchone()[0]
        print(json.dumps({"at": round(time.monotonic() - started, 2), "build": build}), flush=True)
    except Exception as error:  # noqa: BLE001 - every failure is a finding, printed for the test
        print(json.dumps({"at": round(time.monotonic() - started, 2), "error": str(error)}), flush=True)
    time.sleep(0.5)
