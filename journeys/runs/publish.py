"""Write-audit-publish: a build writes and tests a staging copy of the warehouse; only a build whose every
error-severity test passed replaces the published file, in one rename.

BI tools, notebooks and the report open `$JOURNEYS_DUCKDB` read-only. DuckDB lets one process write a file or
many read it, so a build never opens that file: it copies it to `<file>.building` (the tables kept across builds,
model_runs and score_drift, carry over with it), runs `dbt build` there, and on success renames the copy over
the published path. A reader's open connection keeps the file it opened until it reconnects, and then sees the
new build; a build that fails, or is killed, leaves the published file exactly as it was, and the next build
removes its leftovers (journeys.runs.registry.clean removes the model versions it trained). The models trained
by the build become current in the same step (JOURNEYS_BUILD_ID).

The published file is written in DuckDB's storage format `STORAGE_VERSION`, so the DuckDB that BI tools embed
(Apache Superset 6.1 pins duckdb >= 1.4.2, < 2) opens it: one file for every reader, no second copy of the marts.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from journeys.runs import registry

STORAGE_VERSION = "v1.4.0"
BUILDING_SUFFIX, LOCK_SUFFIX = ".building", ".lock"


def staging_path(db_path: Path) -> Path:
    """Where a build writes: beside the published file, so the final rename stays on one file system."""
    return db_path.with_name(db_path.name + BUILDING_SUFFIX)


def build(db_path: Path, artifacts_dir: Path, dbt_args: Sequence[str], dbt: str = "dbt") -> int:
    """`dbt build <dbt_args>` into a staging copy of `db_path`, published on success; dbt's exit code."""
    db_path, artifacts_dir = Path(db_path), Path(artifacts_dir)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with db_path.with_name(db_path.name + LOCK_SUFFIX).open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"journeys build: another build of {db_path} is running; {db_path} is unchanged", flush=True)
            return 1
        staging = staging_path(db_path)
        _remove_leftovers(staging, artifacts_dir)
        started = time.perf_counter()
        prepare_staging(db_path, staging)
        staged_s = time.perf_counter() - started
        build_id = uuid.uuid4().hex[:12]
        env = {**os.environ, "JOURNEYS_DUCKDB": str(staging), registry.BUILD_ID: build_id}
        dbt_started = time.time()
        code = subprocess.run([dbt, "build", *dbt_args], env=env, check=False).returncode
        if code != 0:
            print(f"journeys build: {failure(since=dbt_started)}: {db_path} is unchanged, still the build published "
                  f"{_published_at(db_path)} (this build's tables stay in {staging} until the next build)",
                  flush=True)
            return code
        started = time.perf_counter()
        changes = publish(staging, db_path, artifacts_dir, build_id)
        models = "; ".join(f"{model} {before or 'none'} -> {after}" for model, before, after in changes)
        print(f"journeys build: published {db_path} ({db_path.stat().st_size / 1e9:.2f} GB; staging copy "
              f"{staged_s:.1f} s, publish {time.perf_counter() - started:.2f} s)"
              + (f"; current models: {models}" if models else ""), flush=True)
        return 0


def _remove_leftovers(staging: Path, artifacts_dir: Path) -> None:
    """What a failed or killed build left: its staging copy (and DuckDB's side files), its model versions."""
    leftovers = [path for path in (staging, Path(f"{staging}.wal"), Path(f"{staging}.tmp")) if path.exists()]
    for path in leftovers:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    removed = registry.clean(artifacts_dir)
    if leftovers or removed:
        print(f"journeys build: removed what an unfinished build left ({len(leftovers)} warehouse file(s), "
              f"{len(removed)} model file(s) or version(s))", flush=True)


def prepare_staging(db_path: Path, staging: Path) -> None:
    """The staging copy: the published file copied, or a new file; always in STORAGE_VERSION's format (a file
    in another format, from an older release of this project, is rewritten into it)."""
    if not db_path.exists():
        with duckdb.connect() as con:
            con.execute(f"attach '{_sql(staging)}' as staging (storage_version '{STORAGE_VERSION}')")
        return
    if storage_version(db_path).startswith(STORAGE_VERSION):
        shutil.copyfile(db_path, staging)
        return
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach '{_sql(db_path)}' as published (read_only)")
        con.execute(f"attach '{_sql(staging)}' as staging (storage_version '{STORAGE_VERSION}')")
        con.execute("copy from database published to staging")


def storage_version(db_path: Path) -> str:
    """The storage format of a DuckDB file, e.g. `v1.4.0+`."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        tags = con.execute("select tags from duckdb_databases() where database_name = current_database()").fetchone()
    return tags[0].get("storage_version", "")


def publish(staging: Path, db_path: Path, artifacts_dir: Path, build_id: str) -> list[tuple[str, str | None, str]]:
    """Rename the tested copy over the published file, then make the build's models current."""
    if Path(f"{staging}.wal").exists():  # dbt checkpoints on close; a WAL left over is folded in first
        duckdb.connect(str(staging)).close()
    Path(f"{db_path}.wal").unlink(missing_ok=True)  # a WAL of the old file must never meet the new one
    os.replace(staging, db_path)
    return registry.publish_build(artifacts_dir, build_id)


def failure(since: float, run_results: Path = Path("target") / "run_results.json") -> str:
    """What failed, in a few words: dbt's first erroring or failing node of the run that started at `since`."""
    try:
        if run_results.stat().st_mtime < since:
            return "dbt build failed before it ran a node"
        results = json.loads(run_results.read_text())["results"]
    except (OSError, ValueError, KeyError):
        return "dbt build failed"
    failed = [r["unique_id"].split(".")[2] for r in results if r.get("status") in ("error", "fail")]
    if not failed:
        return "dbt build failed"
    return f"dbt build failed at {failed[0]}" + (f" and {len(failed) - 1} more" if len(failed) > 1 else "")


def _published_at(db_path: Path) -> str:
    if not db_path.exists():
        return "(none yet)"
    return datetime.fromtimestamp(db_path.stat().st_mtime, UTC).strftime("at %Y-%m-%d %H:%M UTC")


def _sql(path: Path) -> str:
    return str(path).replace("'", "''")


def main(argv: Sequence[str]) -> int:
    """`journeys build [dbt build arguments]`, with the Makefile's environment."""
    return build(Path(os.environ.get("JOURNEYS_DUCKDB", "data/journeys.duckdb")),
                 Path(os.environ.get("JOURNEYS_ARTIFACTS", "artifacts")), list(argv),
                 dbt=str(Path(sys.executable).with_name("dbt")))
