"""The SQL layer on Spark: one dirty synthetic export with its page_events.csv built on DuckDB and on
local Spark (dbt-spark, `method: session`) gives the same rows in every SQL mart (the path marts
included), in contact_features (sequences from the events) and in the sessionised event stream,
and contact_segments_sql scores every contact on Spark from the segment model trained on DuckDB.
The same synthetic contacts as Fivetran lands them (`journeys_raw_source: fivetran`: typed tables,
the whole Last Page Seen history, deleted contacts, repeated and bad history rows) give the same
staged contacts and history, quarantined rows and marts on both engines.

The Spark build is `dbt build --target spark --selector sql_layer`: every seed, SQL model, data
test and unit test, reading the raw CSV files with Spark's CSV reader. From Fivetran's tables, copied
into Spark's warehouse as a Fivetran destination holds them, it builds the selector's seeds and models:
the tests are the CSV build's, compiled the same, and they pass on DuckDB over the same tables."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import EVENTS_CONTACTS, ROOT, Warehouse, build_or_fail, dbt_env, run_dbt

from journeys.synth.elt import LAST_URL, write_elt_export

SEGMENT_MODEL_TABLES = ["marts.segment_centroids", "marts.segment_feature_scaling"]
# Every SQL mart (model_metrics only unions the Python models' metrics) and its key, and the event stream
# as sessionised (each event's session, step and next category: what sessions and the path marts read).
COMPARED_TABLES = {
    "marts.contact_features": ["contact_id"],
    "marts.contact_journeys": ["contact_id"],
    "marts.contact_segments_sql": ["contact_id"],
    "marts.quarantined_rows": ["source_file", "record_number"],
    "marts.unmapped_urls": ["normalized_url"],
    "marts.url_category_coverage": ["category"],
    "marts.sessions": ["session_id"],
    "marts.category_transitions": ["from_category", "to_category"],
    "marts.top_paths": ["path"],
    "marts.step_matrix": ["step", "category"],
    "marts.path_dropoff": ["step"],
    "intermediate.int_page_events_sessionized": ["record_number"],
}
FLOAT_TOLERANCE = 1e-9
# The Fivetran shape: its raw tables, and what is compared (no page_events: no sessions or path marts).
FIVETRAN_CONTACTS = 2_000
FIVETRAN_SEED = 13
FIVETRAN_TABLES = ["raw_hubspot.contact", "raw_hubspot.contact_property_history", "raw_hubspot.property"]
FIVETRAN_VARS = "{journeys_raw_source: fivetran}"
FIVETRAN_COMPARED = {
    "staging.stg_hubspot__contacts": ["contact_id"],
    "staging.stg_hubspot__page_history": ["contact_id", "recency"],
    "staging.base_hubspot__property_history_records": ["record_number"],
    "marts.contact_features": ["contact_id"],
    "marts.contact_journeys": ["contact_id"],
    "marts.contact_segments_sql": ["contact_id"],
    "marts.quarantined_rows": ["source_file", "record_number"],
    "marts.unmapped_urls": ["normalized_url"],
    "marts.url_category_coverage": ["category"],
}


@dataclass(frozen=True)
class ParityBuilds:
    duckdb_path: Path
    spark_tables: Path
    spark_log: str
    spark_returncode: int
    spark_seconds: float


def spark_tables(command: list[str], env: dict[str, str]) -> None:
    """Run scripts/spark_tables.py (a process of its own: the Derby metastore allows one)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "spark_tables.py"), *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"spark_tables.py {command[0]} failed:\n{result.stderr[-4000:]}")


@pytest.fixture(scope="module")
def parity_builds(events_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> ParityBuilds:
    """The events export built on DuckDB (segment model trained there: conftest), then the SQL layer on Spark."""
    base = tmp_path_factory.mktemp("spark_parity")
    built = events_warehouse
    env = dbt_env(built.raw_dir, base / "journeys.duckdb", built.artifacts_dir)
    env["JOURNEYS_SPARK_DIR"] = str(base / "spark")

    spark_tables(["load", "--duckdb", str(built.duckdb_path), *SEGMENT_MODEL_TABLES], env)
    start = time.perf_counter()
    result = run_dbt(["build", "--target", "spark", "--selector", "sql_layer"], env)
    seconds = time.perf_counter() - start
    print(f"dbt build --target spark --selector sql_layer: {seconds:.0f} s ({EVENTS_CONTACTS} contacts)")
    if result.returncode == 0:
        spark_tables(["dump", "--out", str(base / "spark_tables"), *COMPARED_TABLES], env)
    return ParityBuilds(
        built.duckdb_path, base / "spark_tables", result.stdout + result.stderr, result.returncode, seconds
    )


@pytest.fixture(scope="module")
def fivetran_builds(events_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> ParityBuilds:
    """Fivetran's tables of the synthetic contacts, with history rows of an unknown contact and outside the
    plausible window, built on DuckDB in the same file and on Spark from copies of the tables; the segment model is
    the events export's (SQL scoring reads any contact's features)."""
    base = tmp_path_factory.mktemp("spark_fivetran")
    db_path = base / "journeys.duckdb"
    write_elt_export(db_path, "fivetran", n_contacts=FIVETRAN_CONTACTS, seed=FIVETRAN_SEED)
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "insert into raw_hubspot.contact_property_history (contact_id, name, value, timestamp) values "
            f"(99999999, '{LAST_URL}', 'https://www.deeplearning.ai/', timestamp '2020-05-01 10:00:00'), "
            f"((select min(id) from raw_hubspot.contact), '{LAST_URL}', 'https://www.deeplearning.ai/press/', "
            "timestamp '2999-01-01 00:00:00')")
        con.execute(f"attach '{events_warehouse.duckdb_path}' as events (read_only)")
        con.execute("create schema marts")
        for table in SEGMENT_MODEL_TABLES:
            con.execute(f"create table {table} as select * from events.{table}")
    env = dbt_env(base / "no-raw-files", db_path, events_warehouse.artifacts_dir)
    env["JOURNEYS_SPARK_DIR"] = str(base / "spark")
    build_or_fail(["build", "--selector", "sql_layer", "--vars", FIVETRAN_VARS], env, "Fivetran's tables on DuckDB")
    spark_tables(["load", "--duckdb", str(db_path), *FIVETRAN_TABLES, *SEGMENT_MODEL_TABLES], env)
    start = time.perf_counter()
    result = run_dbt(["build", "--target", "spark", "--selector", "sql_layer", "--vars", FIVETRAN_VARS,
                      "--exclude-resource-type", "test", "unit_test"], env)
    seconds = time.perf_counter() - start
    print(f"dbt build --target spark --selector sql_layer (Fivetran): {seconds:.0f} s ({FIVETRAN_CONTACTS} contacts)")
    if result.returncode == 0:
        spark_tables(["dump", "--out", str(base / "spark_tables"), *FIVETRAN_COMPARED], env)
    return ParityBuilds(db_path, base / "spark_tables", result.stdout + result.stderr, result.returncode, seconds)


def test_sql_layer_builds_on_spark(parity_builds: ParityBuilds) -> None:
    """Every seed, SQL model, data test and unit test of the selector passes on Spark."""
    log = parity_builds.spark_log
    assert parity_builds.spark_returncode == 0, log[-6000:]
    assert re.search(r"Done\. PASS=\d+ WARN=\d+ ERROR=0 ", log), log[-3000:]
    for unit_test in ["normalize_url_real_world_cases", "sequence_collation_oldest_first",
                      "sequence_collation_events_cut_at_first_conversion",
                      "sessionization_by_gap_and_source_session_id", "page_history_tool_versions_by_time"]:
        assert unit_test in log


def spark_table(builds: ParityBuilds, table: str) -> pd.DataFrame:
    """A table of the Spark build, as dumped to Parquet."""
    with duckdb.connect() as con:
        return con.execute(f"select * from read_parquet('{builds.spark_tables / table}/*.parquet')").df()


def normalized(frame: pd.DataFrame, keys: list[str]) -> list[tuple]:
    """Rows as tuples of plain Python values, sorted by key: lists as tuples, NaN/NaT as None."""

    def plain(value):
        if isinstance(value, (list, tuple, np.ndarray)):
            return tuple(plain(v) for v in value)
        if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, (np.bool_, bool)):
            return bool(value)
        if isinstance(value, (np.integer,)):
            return int(value)
        if isinstance(value, (np.floating,)):
            return float(value)
        if isinstance(value, pd.Timestamp):
            return value.tz_localize(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
        return value

    def plain_column(column: pd.Series) -> list:
        """The column's values as `plain` makes them, a whole column at a time unless it holds lists (the
        event tables have 100,000 rows)."""
        if column.dtype == object and column.map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any():
            return [plain(v) for v in column]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            column = column.dt.tz_localize(None)
        if pd.api.types.is_datetime64_any_dtype(column):
            values = np.array(column.dt.to_pydatetime(), dtype=object)
        else:
            values = column.to_numpy(dtype=object, copy=True)
        values[column.isna().to_numpy()] = None
        return [plain(v) if isinstance(v, np.generic) else v for v in values.tolist()]

    frame = frame.sort_values(keys).reset_index(drop=True)
    return list(zip(*(plain_column(frame[column]) for column in frame.columns), strict=True))


def same_value(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=0, abs_tol=FLOAT_TOLERANCE)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("table", list(COMPARED_TABLES))
def test_spark_rows_equal_duckdb_rows(parity_builds: ParityBuilds, table: str) -> None:
    """Same keys, same columns, same values (floats to 1e-9) on both engines."""
    assert_same_rows(parity_builds, table, COMPARED_TABLES[table])


def test_fivetran_tables_build_on_spark(fivetran_builds: ParityBuilds) -> None:
    """Every model of the selector builds on Spark from Fivetran's tables. Their data tests ran on DuckDB over the
    same tables (the fixture's build), and on Spark, compiled the same, in the CSV export's build."""
    log = fivetran_builds.spark_log
    assert fivetran_builds.spark_returncode == 0, log[-6000:]
    assert re.search(r"Done\. PASS=\d+ WARN=\d+ ERROR=0 ", log), log[-3000:]
    assert re.search(r"OK created sql \w+ model staging\.stg_hubspot__page_history ", log), log[-3000:]


@pytest.mark.parametrize("table", list(FIVETRAN_COMPARED))
def test_fivetran_rows_on_spark_equal_duckdb_rows(fivetran_builds: ParityBuilds, table: str) -> None:
    assert_same_rows(fivetran_builds, table, FIVETRAN_COMPARED[table])


def test_the_fivetran_build_holds_what_the_comparison_needs(fivetran_builds: ParityBuilds) -> None:
    """The compared tables hold histories longer than four versions, deleted and repeated rows left out, and the
    planted bad rows quarantined: the equalities above cover them."""
    with duckdb.connect(str(fivetran_builds.duckdb_path), read_only=True) as con:
        (longest,) = con.execute("select max(total_page_count) from marts.contact_journeys").fetchone()
        left_out = dict(con.execute("select left_out_reason, count(*) from staging.base_hubspot__property_history_records "
                                    "where left_out_reason is not null group by 1").fetchall())
        reasons = {r for (r,) in con.execute("select quarantine_reason from marts.quarantined_rows").fetchall()}
    assert longest > 4
    assert set(left_out) == {"deleted_in_hubspot", "repeated_row"}
    assert reasons == {"unknown_contact_id", "timestamp_out_of_window"}


def assert_same_rows(builds: ParityBuilds, table: str, keys: list[str]) -> None:
    """Same keys, same columns, same values (floats to 1e-9) on both engines."""
    assert builds.spark_returncode == 0, builds.spark_log[-3000:]
    with duckdb.connect(str(builds.duckdb_path), read_only=True) as con:
        on_duckdb = con.execute(f"select * from {table}").df()
    on_spark = spark_table(builds, table)
    # when the build that wrote a row ran (int_page_events_sessionized.processed_at): each engine's own build
    on_duckdb, on_spark = (frame.drop(columns=["processed_at"], errors="ignore") for frame in (on_duckdb, on_spark))
    assert list(on_spark.columns) == list(on_duckdb.columns)
    assert len(on_duckdb) > 0
    duckdb_rows, spark_rows = normalized(on_duckdb, keys), normalized(on_spark, keys)
    assert len(spark_rows) == len(duckdb_rows)
    columns = list(on_duckdb.columns)
    differences = [
        (columns[j], d[: len(keys)], d[j], s[j])
        for d, s in zip(duckdb_rows, spark_rows)
        for j in range(len(columns))
        if not same_value(d[j], s[j])
    ]
    assert not differences, f"{len(differences)} values differ, e.g. (column, key, duckdb, spark): {differences[:5]}"


def test_spark_scores_every_contact_with_the_duckdb_model(parity_builds: ParityBuilds) -> None:
    """contact_segments_sql on Spark assigns every contact, with the model version trained on DuckDB."""
    with duckdb.connect(str(parity_builds.duckdb_path), read_only=True) as con:
        contacts = con.execute("select count(*) from marts.contact_features").fetchone()[0]
        python_scores = con.execute("select * from marts.contact_segments").df()
    on_spark = spark_table(parity_builds, "marts.contact_segments_sql")
    assert len(on_spark) == contacts == len(python_scores)
    joined = python_scores.merge(on_spark, on="contact_id", suffixes=("_python", "_spark"))
    assert len(joined) == contacts
    assert (joined["segment_id_python"] == joined["segment_id_spark"]).all()
    assert (joined["model_version_python"] == joined["model_version_spark"]).all()
    assert np.allclose(joined["dissimilarity_python"], joined["dissimilarity_spark"], rtol=0, atol=1e-9)
    assert joined["segment_id_spark"].nunique() > 1
