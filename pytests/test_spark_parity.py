"""The SQL layer on Spark: one dirty synthetic export with its page_events.csv built on DuckDB and on
local Spark (dbt-spark, `method: session`) gives the same rows in every SQL mart (the path marts
included), in contact_features (sequences from the events) and in the sessionised event stream,
and contact_segments_sql scores every contact on Spark from the segment model trained on DuckDB.

The Spark build is `dbt build --target spark --selector sql_layer`: every seed, SQL model, data
test and unit test, reading the raw CSV files with Spark's CSV reader."""

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
from conftest import EVENTS_CONTACTS, ROOT, Warehouse, dbt_env, run_dbt

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


def test_sql_layer_builds_on_spark(parity_builds: ParityBuilds) -> None:
    """Every seed, SQL model, data test and unit test of the selector passes on Spark."""
    log = parity_builds.spark_log
    assert parity_builds.spark_returncode == 0, log[-6000:]
    assert re.search(r"Done\. PASS=\d+ WARN=\d+ ERROR=0 ", log), log[-3000:]
    for unit_test in ["normalize_url_real_world_cases", "sequence_collation_oldest_first",
                      "sequence_collation_events_cut_at_first_conversion",
                      "sessionization_by_gap_and_source_session_id"]:
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
    assert parity_builds.spark_returncode == 0, parity_builds.spark_log[-3000:]
    keys = COMPARED_TABLES[table]
    with duckdb.connect(str(parity_builds.duckdb_path), read_only=True) as con:
        on_duckdb = con.execute(f"select * from {table}").df()
    on_spark = spark_table(parity_builds, table)
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
