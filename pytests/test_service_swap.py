"""The running service swaps in new model versions without failing a request (scripts/bench_swap.py, run on a
copy of the session warehouse with a short retraining): a retrain published by `journeys build`, a rollback by
`journeys models use`, and a corrupt version, refused while the old one keeps serving."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import bench_swap


def test_retrain_rollback_and_a_corrupt_version_under_steady_requests(warehouse, tmp_path) -> None:
    for part in ("raw", "artifacts"):
        shutil.copytree(getattr(warehouse, f"{part}_dir"), tmp_path / part)
    shutil.copy(warehouse.duckdb_path, tmp_path / "journeys.duckdb")
    result = bench_swap.run(Path(tmp_path), swaps=2, retrain_overrides=", epochs: 2, search: []")
    first, second = result["versions"]
    assert first != second, "the retrain trained another version"
    assert result["requests"] > 100 and result["failed"] == [], result["failed"][:5]
    assert result["retrain_served_s"] < bench_swap.SERVED_WITHIN_S
    assert result["rollback_served_s"] < bench_swap.SERVED_WITHIN_S
    assert result["corrupt_refused"].startswith(f"{result['corrupt']}:"), result["corrupt_refused"]
    assert result["served_after_corrupt"] == first, "the old version keeps serving"
    assert set(result["answered_by"]) == {first, second}, "every answer came from a good version"
    assert len(result["swap_s"]) == 2 and max(result["swap_s"]) < bench_swap.SERVED_WITHIN_S
