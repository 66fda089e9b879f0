"""The warehouse boundary: the same export fed as files written differently (columns reordered plus an
extra property, a BOM, CRLF, latin-1) or as warehouse tables gives the same staged and quarantined
records; a wrong encoding stops the build with one line; the project compiles and documents itself
with no data; the no-e-mail test fails on a leak."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURE, RECONCILIATION, ROOT, SQL_LAYER, Warehouse, build_or_fail, dbt_env, run_dbt

from journeys.warehouse import connect

LATIN_1 = "--vars", "{journeys_raw_encoding: latin-1}"


def build(raw_dir: Path, db_path: Path, *extra: str) -> str:
    """`dbt build` of the SQL layer and the reconciliation test; fails the test with the log on error."""
    args = ["build", "--select", *SQL_LAYER, *RECONCILIATION, "--indirect-selection", "cautious", *extra]
    return build_or_fail(args, dbt_env(raw_dir, db_path, db_path.parent / "artifacts"), str(raw_dir))


def rewritten_export(source: Path, target: Path, encoding: str) -> None:
    """The fixture export written by another tool: columns reversed plus an extra property column
    holding commas and a line break, a BOM, CRLF line ends, `encoding`; records (also the malformed
    ones) kept in order; the truncated last record (an open quote) copied as it was."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("hubspot_export.csv", "pageview_hist.csv"):
        text = (source / name).read_text(encoding="utf-8")
        body, truncated = text.rsplit("\n", 1)
        records = [fields for fields in csv.reader(body.splitlines(keepends=True)) if fields]
        header = records[0]
        order = list(reversed(range(len(header))))
        with (target / name).open("w", encoding=encoding, newline="") as handle:
            handle.write("\ufeff" if encoding == "utf-8" else "")
            writer = csv.writer(handle, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
            writer.writerow(["Extra, property"] + [header[i] for i in order])
            for number, fields in enumerate(records[1:], start=1):
                extra = f"note {number},\nsecond line"
                if len(fields) == len(header):
                    writer.writerow([extra] + [fields[i] for i in order])
                else:  # a record with the wrong field count stays wrong
                    writer.writerow([extra] + fields)
            handle.write(truncated)


def staged_and_quarantined(db_path: Path) -> dict[str, object]:
    with connect(db_path) as con:
        return {
            "contacts": con.execute(
                "select contact_id, last_email_name, job_title, last_event, num_sessions "
                "from stg_hubspot__contacts order by contact_id"
            ).fetchall(),
            "history": con.execute(
                "select contact_id, recency, url, changed_at from stg_hubspot__page_history order by contact_id, recency"
            ).fetchall(),
            "quarantined": con.execute(
                "select source_file, record_number, quarantine_reason from quarantined_rows order by all"
            ).fetchall(),
            "features": con.execute("select * from contact_features order by contact_id").fetchall(),
        }


@pytest.fixture(scope="module")
def fixture_tables(fixture_export_db: Path) -> dict[str, object]:
    return staged_and_quarantined(fixture_export_db)


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_a_rewritten_export_stages_the_same_records(fixture_tables, tmp_path: Path, encoding: str) -> None:
    raw = tmp_path / "raw"
    rewritten_export(FIXTURE, raw, encoding)
    db_path = tmp_path / "db.duckdb"
    build(raw, db_path, *(LATIN_1 if encoding == "latin-1" else ()))
    assert staged_and_quarantined(db_path) == fixture_tables


def test_bytes_invalid_in_the_encoding_stop_the_build_with_one_line(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    rewritten_export(FIXTURE, raw, "latin-1")
    result = run_dbt(
        ["run", "--select", "path:models/staging/base"], dbt_env(raw, tmp_path / "db.duckdb", tmp_path)
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    lines = {line.strip() for line in output.splitlines() if "not valid utf-8" in line}
    # the export's first non-ASCII byte is in record 6 (1006's "São Paulo"); it starts on line 12:
    # the header is line 1 and each of the five records before it spans two lines (the extra
    # column's line break)
    assert any(
        line.endswith(
            "Raw file hubspot_export.csv has bytes that are not valid utf-8 from line 12: set dbt var "
            "journeys_raw_encoding to the file's encoding (utf-8 or latin-1), e.g. --vars '{journeys_raw_encoding: latin-1}'"
        )
        for line in lines
    ), output[-3000:]
    assert "Traceback" not in output


def test_warehouse_tables_give_the_same_tables_as_files(events_warehouse: Warehouse, tmp_path: Path) -> None:
    """The conftest's export with page_events.csv built from its files, and loaded as tables and built again."""
    raw, files_db, tables_db = events_warehouse.raw_dir, events_warehouse.duckdb_path, tmp_path / "journeys.duckdb"
    with duckdb.connect(str(tables_db)) as con:  # what an ELT tool loaded: every column as text
        con.execute("create schema raw_hubspot")
        for name in ("hubspot_export", "pageview_hist", "page_events"):
            con.execute(
                f"create table raw_hubspot.{name} as select * from read_csv(?, header = true, all_varchar = true)",
                [str(raw / f"{name}.csv")],
            )
    build(tmp_path / "no-files-here", tables_db, "--vars", "{journeys_raw_source: tables}")
    counts = "select (select count(*) from {0}) as n"
    for table in ("contact_journeys", "contact_features", "quarantined_rows", "stg_hubspot__page_history",
                  "stg_hubspot__page_events", "int_page_events_sessionized"):
        with connect(files_db) as con:
            (from_files,) = con.execute(counts.format(table)).fetchone()
        with connect(tables_db) as con:
            (from_tables,) = con.execute(counts.format(table)).fetchone()
        assert from_files == from_tables > 0, table
    with connect(tables_db) as con:
        reasons = dict(con.execute("select quarantine_reason, count(*) from quarantined_rows group by 1").fetchall())
    assert reasons.get("duplicate_contact_id", 0) > 0


def test_tables_typed_by_the_loader_stage_every_contact_and_keep_the_email_check(
    events_warehouse: Warehouse, tmp_path: Path
) -> None:
    """The export loaded as an ELT tool or a new user loads it: each column typed from its values (ids and counts
    as integers, dates as timestamps, the unsubscribe flag as a boolean, the company id as a float), the lines
    the loader cannot type left out. Every contact the files build stages is staged with the same values, and
    the no-e-mail test passes though the raw schema holds pageview_hist's Email column."""
    tables_db = tmp_path / "journeys.duckdb"
    raw = events_warehouse.raw_dir
    with duckdb.connect(str(tables_db)) as con:
        con.execute("create schema raw_hubspot")
        for name in ("hubspot_export", "pageview_hist", "page_events"):
            con.execute(
                f"create table raw_hubspot.{name} as select * from read_csv(?, header = true, sample_size = -1, "
                "ignore_errors = true)",
                [str(raw / f"{name}.csv")],
            )
        types = dict(con.execute("select column_name, data_type from information_schema.columns "
                                 "where table_name = 'hubspot_export'").fetchall())
    assert {types["Contact ID"], types["Unsubscribed from all email"], types["Associated Company ID"]} == {
        "BIGINT", "BOOLEAN", "DOUBLE"}
    env = dbt_env(tmp_path / "no-files-here", tables_db, tmp_path / "artifacts")
    build(tmp_path / "no-files-here", tables_db, "--vars", "{journeys_raw_source: tables}")
    contacts = "select * exclude (record_number, line_number) from stg_hubspot__contacts order by contact_id"
    with connect(events_warehouse.duckdb_path) as con:
        from_files = con.execute(contacts).fetchall()
    with connect(tables_db) as con:
        from_tables = con.execute(contacts).fetchall()
    assert len(from_tables) == len(from_files) > 0
    assert from_tables == from_files
    check = run_dbt(["test", "--select", "assert_no_email_outside_base", "--vars", "{journeys_raw_source: tables}"],
                    env)
    assert check.returncode == 0, (check.stdout + check.stderr)[-3000:]


def test_parse_compile_and_docs_need_no_data(tmp_path: Path) -> None:
    env = dbt_env(tmp_path / "no-raw-files", tmp_path / "db.duckdb", tmp_path / "artifacts")
    target = ["--target-path", str(tmp_path / "target")]
    for command in (["parse"], ["compile"], ["docs", "generate"]):
        result = run_dbt([*command, *target], env)
        assert result.returncode == 0, (command, (result.stdout + result.stderr)[-3000:])
    assert not (tmp_path / "no-raw-files").exists()
    assert (tmp_path / "target" / "catalog.json").exists()
    assert ROOT.exists()


def test_the_no_email_test_fails_on_a_leak(fixture_export_db: Path, tmp_path: Path) -> None:
    """Addresses in the user's raw schema are not ours to check; one in a staging view past the base layer or in a
    mart fails the test."""
    db_path = tmp_path / "journeys.duckdb"
    shutil.copy(fixture_export_db, db_path)
    env = dbt_env(FIXTURE, db_path, tmp_path / "artifacts")
    check = ["test", "--select", "assert_no_email_outside_base"]
    assert run_dbt(check, env).returncode == 0
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema raw_hubspot")
        con.execute("create table raw_hubspot.contact as select 'ann.lee@example.com' as property_email")
    assert run_dbt(check, env).returncode == 0
    leaks = {
        "staging": "create view staging.stg_leak_probe as select 'see jane.doe@example.com' as note",
        "marts": "create table marts.leak_probe as select 'fine' as note, "
                 "['deeplearning.ai/?e=josé.núñez%40exämple.com'] as pages",
    }
    for schema, plant in leaks.items():
        with duckdb.connect(str(db_path)) as con:
            con.execute(plant)
        result = run_dbt(check, env)
        assert result.returncode != 0, schema
        assert "Failure in test assert_no_email_outside_base" in result.stdout + result.stderr
        with duckdb.connect(str(db_path)) as con:
            con.execute("drop view if exists staging.stg_leak_probe")
            con.execute("drop table if exists marts.leak_probe")
