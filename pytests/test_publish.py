"""Write-audit-publish on a copy of a real build: readers keep answering through a build and see the new one
after it; a build whose test fails, or that is killed, leaves the published warehouse as it was, and the next
build publishes; an older DuckDB, as BI tools embed it, reads what is published."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import ROOT, Warehouse, dbt_env

from journeys.runs import publish, registry

READER = ROOT / "scripts" / "warehouse_reader.py"
# The oldest DuckDB the published file is for: Apache Superset 6.1 pins duckdb >= 1.4.2, < 2.
OLD_DUCKDB = "duckdb==1.4.2"


@pytest.fixture
def site(warehouse: Warehouse, tmp_path: Path) -> Warehouse:
    """The session warehouse copied: its published file, raw export and saved models, as a team's server has."""
    for part in ("raw", "artifacts"):
        shutil.copytree(getattr(warehouse, f"{part}_dir"), tmp_path / part)
    shutil.copy(warehouse.duckdb_path, tmp_path / "journeys.duckdb")
    return Warehouse(tmp_path / "raw", tmp_path / "journeys.duckdb", tmp_path / "artifacts", "")


def journeys_build(site: Warehouse, *dbt_args: str, project: Path = ROOT, **popen) -> subprocess.Popen:
    """`journeys build` as the Makefile runs it, from the project's root."""
    env = {**dbt_env(site.raw_dir, site.duckdb_path, site.artifacts_dir), "DBT_PROFILES_DIR": str(project)}
    return subprocess.Popen([str(Path(sys.executable).with_name("journeys")), "build", *dbt_args], cwd=project,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def project_with_a_failing_test(folder: Path) -> Path:
    """A copy of the dbt project with one more singular test, which fails once contact_segments is rebuilt:
    late in the build, after models were replaced in the staging copy."""
    project = folder / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".*", "data", "artifacts", "target", "logs",
                                                                  "pytests", "integration_tests", "build", "dist",
                                                                  "*.duckdb", "*.egg-info"))
    (project / "tests" / "assert_planted_failure.sql").write_text(
        "select contact_id from {{ ref('contact_segments') }} limit 1\n")
    return project


def finished(process: subprocess.Popen) -> tuple[int, str]:
    output, _ = process.communicate(timeout=1800)
    return process.returncode, output


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failed_and_a_killed_build_leave_the_warehouse_as_it_was_and_the_next_build_publishes(
        site, tmp_path) -> None:
    before, currents = sha256(site.duckdb_path), {m: registry.current_version(site.artifacts_dir, m)
                                                   for m in ("segments", "propensity")}
    # an error-severity test fails after the segment model was retrained and its tables rebuilt
    code, output = finished(journeys_build(site, "--vars", "{journeys_retrain: true}",
                                           project=project_with_a_failing_test(tmp_path)))
    assert code != 0
    last = output.strip().splitlines()[-1]
    assert last.startswith("journeys build: dbt build failed at assert_planted_failure"), output[-3000:]
    assert f"{site.duckdb_path} is unchanged, still the build published" in last
    assert sha256(site.duckdb_path) == before
    # killed in the middle: the copy is being built, the models may be training
    running = journeys_build(site, "--vars", "{journeys_retrain: true}", start_new_session=True)
    staging = publish.staging_path(site.duckdb_path)
    deadline = time.monotonic() + 600
    while not staging.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(20)
    os.killpg(running.pid, signal.SIGKILL)
    running.wait()
    assert sha256(site.duckdb_path) == before and staging.exists()
    assert {m: registry.current_version(site.artifacts_dir, m) for m in currents} == currents
    code, output = finished(journeys_build(site))
    assert code == 0, output[-4000:]
    assert "journeys build: removed what an unfinished build left" in output
    assert output.strip().splitlines()[-1].startswith(f"journeys build: published {site.duckdb_path}")
    assert not staging.exists() and sha256(site.duckdb_path) != before
    assert {m: registry.current_version(site.artifacts_dir, m) for m in currents} == currents, "only scored"
    assert publish.storage_version(site.duckdb_path).startswith(publish.STORAGE_VERSION)


def test_readers_answer_through_a_build_and_see_the_new_one_after(site, tmp_path) -> None:
    stop = tmp_path / "stop"
    readers = {mode: subprocess.Popen([sys.executable, str(READER), str(site.duckdb_path), mode, str(stop)],
                                      stdout=subprocess.PIPE, text=True) for mode in ("hold", "reconnect")}
    time.sleep(3)
    code, output = finished(journeys_build(site))
    assert code == 0, output[-4000:]
    time.sleep(2)
    stop.touch()
    reads = {mode: [json.loads(line) for line in reader.communicate(timeout=60)[0].splitlines()]
             for mode, reader in readers.items()}
    for mode, lines in reads.items():
        assert len(lines) > 20 and not [line for line in lines if "error" in line], (mode, lines[:5])
    first = reads["reconnect"][0]["build"]
    assert {line["build"] for line in reads["hold"]} == {first}, "an open connection keeps the build it opened"
    assert reads["reconnect"][-1]["build"] == first + 1, "a new connection sees the new build"


def test_an_older_duckdb_reads_the_published_marts(site, tmp_path) -> None:
    code, output = finished(journeys_build(site, "--select", "contact_features"))
    assert code == 0, output[-4000:]
    venv = tmp_path / "old-duckdb"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-qq", OLD_DUCKDB], check=True)
    read = ("import duckdb, json, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
            "tables = con.execute(\"select table_name from information_schema.tables where table_schema = 'marts' "
            "order by 1\").fetchall(); print(json.dumps({t: con.execute(f'select count(*) from marts.{t}')"
            ".fetchone()[0] for (t,) in tables} | {'version': duckdb.__version__}))")
    old = json.loads(subprocess.run([str(venv / "bin" / "python"), "-c", read, str(site.duckdb_path)],
                                    capture_output=True, text=True, check=True).stdout)
    assert old.pop("version") == OLD_DUCKDB.split("==")[1]
    with duckdb.connect(str(site.duckdb_path), read_only=True) as con:
        tables = con.execute("select table_name from information_schema.tables where table_schema = 'marts'").fetchall()
        counts = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for (t,) in tables}
    assert old == counts and len(counts) >= 20 and counts["contact_segments"] > 0
