"""Write-audit-publish on whole builds (`make bench-publish`): what staging and publishing cost in time and disk,
and that readers, a failing test and a kill never see or leave a half-built warehouse.

In a scratch folder, on a synthetic export of --scale x the spec's 336,955 contacts (--events adds page_events):
1. a first `journeys build` (it trains the models), and the same build run in place by plain `dbt build` on a
   copy: the time and file size without write-audit-publish;
2. --builds scoring `journeys build`s in a row, each under two readers of the published file (one connection
   held, one new connection per read, every 0.5 s): build time, staging copy and publish seconds, the published
   file's size (and the staging file beside it while a build runs: the extra disk), read errors, and whether
   the reconnecting reader saw the new build;
3. a build whose planted error-severity test fails and a build killed after --kill-after seconds: the published
   file's SHA-256 before and after, and the next build.

    .venv/bin/python scripts/bench_publish.py [--scale 1] [--events] [--builds 3] [--kill-after 45] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from journeys.runs import publish
from journeys.synth import write_export

PROJECT = Path(__file__).resolve().parents[1]
READER = PROJECT / "scripts" / "warehouse_reader.py"
BIN = Path(sys.executable).parent
SPEC_CONTACTS = 336_955
PUBLISHED_LINE = re.compile(r"journeys build: published .*staging copy ([0-9.]+) s, publish ([0-9.]+) s")


def environment(site: Path, db_path: Path, project: Path = PROJECT) -> dict[str, str]:
    return {**os.environ, "JOURNEYS_RAW_DIR": str(site / "raw"), "JOURNEYS_DUCKDB": str(db_path),
            "JOURNEYS_ARTIFACTS": str(site / "artifacts"), "DBT_PROFILES_DIR": str(project), "PYTHONHASHSEED": "0",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}


def journeys_build(site: Path, *args: str, project: Path = PROJECT, **popen) -> subprocess.Popen:
    popen = {"stdout": subprocess.PIPE, **popen}
    return subprocess.Popen([str(BIN / "journeys"), "build", *args], cwd=project,
                            env=environment(site, site / "journeys.duckdb", project), stderr=subprocess.STDOUT,
                            text=True, **popen)


def finished(process: subprocess.Popen) -> tuple[int, str, float]:
    started = time.perf_counter()
    output, _ = process.communicate()
    return process.returncode, output, time.perf_counter() - started


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


def gb(path: Path) -> float:
    return path.stat().st_size / 1e9


def dbt_seconds(output: str) -> float:
    """dbt's own time for its nodes (its `Finished running ... (N s)` line), without its start-up and parse."""
    return sum(float(x) for x in re.findall(r"Finished running .* in .*\(([0-9.]+)s\)", output))


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1] if output.strip() else ""


def first_build(site: Path) -> None:
    code, output, seconds = finished(journeys_build(site))
    if code != 0:
        sys.exit(f"the first build failed:\n{output[-4000:]}")
    print(f"first build (trains): {seconds:.0f} s, published {gb(site / 'journeys.duckdb'):.2f} GB")


def in_place_build(site: Path) -> None:
    """The same scoring build without write-audit-publish: plain `dbt build` on a copy, in DuckDB's default
    storage format."""
    copy = site / "in_place.duckdb"
    with duckdb.connect(str(copy)) as con:
        con.execute("attach ? as published (read_only)", [str(site / "journeys.duckdb")])
        con.execute("copy from database published to in_place")
    started = time.perf_counter()
    result = subprocess.run([str(BIN / "dbt"), "build"], cwd=PROJECT, env=environment(site, copy),
                            capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"the in-place build failed:\n{result.stdout[-4000:]}")
    print(f"in place (plain dbt build, no staging): {seconds:.0f} s in all, "
          f"dbt {dbt_seconds(result.stdout):.0f} s; file {gb(copy):.2f} GB")
    copy.unlink()


def build_under_readers(site: Path, number: int) -> None:
    db_path = site / "journeys.duckdb"
    stop = site / "stop-readers"
    stop.unlink(missing_ok=True)
    readers = {mode: subprocess.Popen([str(BIN / "python"), str(READER), str(db_path), mode, str(stop)],
                                      stdout=subprocess.PIPE, text=True) for mode in ("hold", "reconnect")}
    time.sleep(3)
    staging = publish.staging_path(db_path)
    log = site / f"scoring_build_{number}.log"
    with log.open("w") as out:  # a file, not a pipe: the build must never wait on a full pipe while it is sampled
        started = time.perf_counter()
        process = journeys_build(site, stdout=out)
        staging_gb = 0.0
        while process.poll() is None:
            if staging.exists():
                staging_gb = max(staging_gb, gb(staging))
            time.sleep(1)
    seconds = time.perf_counter() - started
    code, output = process.returncode, log.read_text()
    time.sleep(2)
    stop.touch()
    reads = {mode: [json.loads(line) for line in reader.communicate()[0].splitlines()]
             for mode, reader in readers.items()}
    match = PUBLISHED_LINE.search(output)
    if code != 0 or match is None:
        sys.exit(f"scoring build {number} failed:\n{output[-4000:]}")
    errors = {mode: sum("error" in line for line in lines) for mode, lines in reads.items()}
    builds = [line.get("build") for line in reads["reconnect"] if "build" in line]
    print(f"scoring build {number}: {seconds:.0f} s in all, dbt {dbt_seconds(output):.0f} s, staging copy "
          f"{match[1]} s, publish {match[2]} s; "
          f"published {gb(db_path):.2f} GB, staging file up to {staging_gb:.2f} GB while it ran; reads "
          f"{len(reads['hold'])} held / {len(reads['reconnect'])} reconnecting, errors {errors['hold']} / "
          f"{errors['reconnect']}; reconnecting reader saw build {builds[0]} then {builds[-1]}")


def failing_and_killed_builds(site: Path, kill_after: float) -> None:
    db_path = site / "journeys.duckdb"
    before = sha256(db_path)
    project = site / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns(
        ".*", "data", "artifacts", "target", "logs", "pytests", "integration_tests", "build", "dist", "*.duckdb",
        "*.egg-info"))
    (project / "tests" / "assert_planted_failure.sql").write_text(
        "select contact_id from {{ ref('contact_segments') }} limit 1\n")
    code, output, seconds = finished(journeys_build(site, project=project))
    print(f"build with a failing test: exit {code} after {seconds:.0f} s, published file "
          f"{'unchanged' if sha256(db_path) == before else 'CHANGED'}; its last line: {last_line(output)}")
    process = journeys_build(site, start_new_session=True, stdout=subprocess.DEVNULL)
    time.sleep(kill_after)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    print(f"build killed after {kill_after:.0f} s: published file "
          f"{'unchanged' if sha256(db_path) == before else 'CHANGED'}, "
          f"staging copy left: {publish.staging_path(db_path).exists()}")
    code, output, seconds = finished(journeys_build(site))
    print(f"next build: exit {code} after {seconds:.0f} s; {last_line(output)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--events", action="store_true", help="write page_events.csv too")
    parser.add_argument("--builds", type=int, default=3, help="scoring builds in a row under readers")
    parser.add_argument("--kill-after", type=float, default=45.0)
    parser.add_argument("--no-baseline", action="store_true", help="skip the in-place build")
    parser.add_argument("--keep", type=Path, help="scratch folder to use and keep (default: a temporary one)")
    args = parser.parse_args()
    site = args.keep or Path(tempfile.mkdtemp(prefix="bench_publish_"))
    site.mkdir(parents=True, exist_ok=True)
    contacts = round(SPEC_CONTACTS * args.scale)
    print(f"bench-publish: {contacts:,} contacts{' with page_events' if args.events else ''} in {site}")
    try:
        if not (site / "raw" / "hubspot_export.csv").exists():
            write_export(site / "raw", n_contacts=contacts, seed=0, page_events=args.events)
        if not (site / "journeys.duckdb").exists():
            first_build(site)
        if not args.no_baseline:
            in_place_build(site)
        for number in range(1, args.builds + 1):
            build_under_readers(site, number)
        failing_and_killed_builds(site, args.kill_after)
    finally:
        if args.keep is None:
            shutil.rmtree(site, ignore_errors=True)


if __name__ == "__main__":
    main()
