"""Incremental page_events models: a build on days 1..N, then an incremental build once day N+1 is appended to
page_events.csv, gives every event mart, contact_features and the event tables of a full refresh on days 1..N+1
(rows and values, floats to 1e-9), on DuckDB and on Spark. The new day is the generator's next day (`journeys synth
--append-days`) plus planted records: a late event inside a session, late events that join two sessions, a late
event before a user's first session (its sessions renumbered), a late purchase that cuts a contact's sequence, a new
user, a quarantined record, a record the reader rejects and one spanning two lines."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import ROOT, build_or_fail, dbt_env
from test_spark_parity import normalized, same_value

from journeys.synth import append_days, write_export

CONTACTS = 1_500
SEED = 13
# The event models, what they feed (contact_features and its upstream) and their tests.
SELECT = ["+sessions", "+category_transitions", "+step_matrix", "+path_dropoff", "+top_paths", "+contact_features",
          "+contact_journeys", "+quarantined_rows", "assert_raw_records_staged_or_quarantined",
          "--indirect-selection", "cautious"]
COMPARED_TABLES = {
    "marts.contact_features": ["contact_id"],
    "marts.contact_journeys": ["contact_id"],
    "marts.quarantined_rows": ["source_file", "record_number"],
    "marts.sessions": ["session_id"],
    "marts.category_transitions": ["from_category", "to_category"],
    "marts.top_paths": ["path"],
    "marts.step_matrix": ["step", "category"],
    "marts.path_dropoff": ["step"],
    "intermediate.int_contact_sequences_collated": ["contact_id"],
    "intermediate.int_page_events_sessionized": ["record_number"],
    "intermediate.int_page_events_categorized": ["record_number"],
    "staging.stg_hubspot__page_events": ["record_number"],
    "staging.base_hubspot__page_event_records": ["record_number"],
}
BUILD_TIME_COLUMNS = ["processed_at"]  # when the build that wrote the row ran: differs between builds by design
FULL_REBUILD_LINE = "building it in full"


@dataclass(frozen=True)
class Planted:
    """The planted records' users and what a right build does with them."""

    late_in_session: str  # user key of an event 30 s after the first event of a session of day N
    late_session_number: int
    joined_user: str  # user whose two sessions late events join into one
    joined_sessions: int  # that user's sessions on day N
    renumbered_user: str  # user with a late event days before its first session
    renumbered_sessions: int
    cut_contact: int  # contact whose late purchase comes before its last page
    records: int  # planted records


def build_folder(base: Path, name: str, raw_from: Path) -> Path:
    folder = base / name
    shutil.copytree(raw_from, folder / "raw")
    return folder


def env(folder: Path) -> dict[str, str]:
    values = dbt_env(folder / "raw", folder / "journeys.duckdb", folder / "artifacts")
    values["JOURNEYS_SPARK_DIR"] = str(folder / "spark")
    return values


def query(folder: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(folder / "journeys.duckdb"), read_only=True) as con:
        return con.execute(sql).df()


def plant_records(day_n: Path, raw: Path) -> Planted:
    """Append the planted records of day N+1 to `raw`/page_events.csv, chosen from day N's sessions."""
    sessions = query(day_n, "select user_key, contact_id, session_number, started_at, ended_at, event_count "
                            "from marts.sessions order by user_key, session_number")
    inside = sessions[(sessions["event_count"] >= 2) & sessions["contact_id"].notna()].iloc[0]
    pairs = sessions.merge(sessions.assign(session_number=sessions["session_number"] - 1),
                           on=["user_key", "session_number"], suffixes=("", "_next"))
    pairs = pairs[pairs["user_key"] != inside["user_key"]]
    pair = pairs.assign(gap=pairs["started_at_next"] - pairs["ended_at"]).sort_values(["gap", "user_key"]).iloc[0]
    counts = sessions.groupby("user_key").size()
    taken = {inside["user_key"], pair["user_key"]}
    renumbered = next(u for u in counts[counts >= 2].index if u not in taken)
    taken.add(renumbered)
    events = query(day_n, "select contact_id, max(occurred_at) as last_at, count(*) as events "
                          "from intermediate.int_page_events_sessionized where contact_id is not null "
                          "and contact_id not in (select contact_id from intermediate.int_page_events_categorized "
                          "where is_target_event and contact_id is not null) "
                          "group by contact_id having count(*) >= 3 order by contact_id")
    cut = events[~events["contact_id"].astype(str).isin(taken)].iloc[0]

    def stamp(at) -> str:
        return pd.Timestamp(at).strftime("%Y-%m-%d %H:%M:%S")

    steps = int(pair["gap"] / pd.Timedelta(minutes=25)) + 1
    first_of_renumbered = sessions.loc[sessions["user_key"] == renumbered, "started_at"].min()
    rows = [
        [inside["user_key"], stamp(inside["started_at"] + pd.Timedelta(seconds=30)), "https://www.deeplearning.ai/blog/", ""],
        *[[pair["user_key"], stamp(pair["ended_at"] + k * pair["gap"] / steps), "https://www.deeplearning.ai/events/", ""]
          for k in range(1, steps)],
        [renumbered, stamp(first_of_renumbered - pd.Timedelta(days=3)), "https://www.deeplearning.ai/", ""],
        [str(int(cut["contact_id"])), stamp(cut["last_at"] - pd.Timedelta(minutes=1)), "", "purchase"],
        ["visitor-1", "2021-01-05 10:00:00", "https://www.deeplearning.ai/courses/", ""],
        ["visitor-1", "2021-01-05 10:04:00", "https://www.deeplearning.ai/course-signup/", ""],
        ["someone@example.com", "2021-01-05 11:00:00", "https://www.deeplearning.ai/", ""],
        [inside["user_key"], "2021-01-05 12:00:00", "https://www.deeplearning.ai/two\nlines/", ""],
    ]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    with (raw / "page_events.csv").open("a", encoding="utf-8", newline="") as handle:
        handle.write(text.getvalue() + "88,2021-01-05 10:00:00\n"
                     + f"{inside['user_key']},2021-01-05 12:30:00,https://www.deeplearning.ai/about/,\n")
    return Planted(inside["user_key"], int(inside["session_number"]), pair["user_key"], int(counts[pair["user_key"]]),
                   renumbered, int(counts[renumbered]), int(cut["contact_id"]), len(rows) + 2)


@dataclass(frozen=True)
class Builds:
    day_n: Path
    incremental: Path
    full: Path
    planted: Planted
    incremental_log: str


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    """Day N built in full; a copy of it built incrementally once day N+1 is appended; day N+1 built in full."""
    base = tmp_path_factory.mktemp("incremental_events")
    write_export(base / "export", n_contacts=CONTACTS, seed=SEED, dirt=True, page_events=True)
    day_n = build_folder(base, "day_n", base / "export")
    build_or_fail(["build", "--select", *SELECT], env(day_n), "days 1..N")
    incremental = build_folder(base, "incremental", day_n / "raw")
    shutil.copy(day_n / "journeys.duckdb", incremental / "journeys.duckdb")
    append_days(incremental / "raw", days=1, seed=SEED)
    planted = plant_records(day_n, incremental / "raw")
    log = build_or_fail(["build", "--select", *SELECT], env(incremental), "day N+1, incrementally")
    full = build_folder(base, "full", incremental / "raw")
    build_or_fail(["build", "--select", *SELECT], env(full), "days 1..N+1 in full")
    return Builds(day_n, incremental, full, planted, log)


def differences(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> list:
    """(column, key, left, right) of every value that differs; the column lists and row counts must be equal."""
    left = left.drop(columns=BUILD_TIME_COLUMNS, errors="ignore")
    right = right.drop(columns=BUILD_TIME_COLUMNS, errors="ignore")
    assert list(left.columns) == list(right.columns)
    left_rows, right_rows = normalized(left, keys), normalized(right, keys)
    assert len(left_rows) == len(right_rows)
    columns = list(left.columns)
    return [(columns[j], a[: len(keys)], a[j], b[j]) for a, b in zip(left_rows, right_rows, strict=True)
            for j in range(len(columns)) if not same_value(a[j], b[j])]


@pytest.mark.parametrize("table", list(COMPARED_TABLES))
def test_incremental_build_equals_a_full_refresh_on_duckdb(builds: Builds, table: str) -> None:
    incremental, full = query(builds.incremental, f"select * from {table}"), query(builds.full, f"select * from {table}")
    assert len(full) > 0
    found = differences(incremental, full, COMPARED_TABLES[table])
    assert not found, f"{len(found)} values differ, e.g. (column, key, incremental, full): {found[:5]}"


def test_the_incremental_build_reads_only_what_is_new(builds: Builds) -> None:
    """Nothing is rebuilt in full; the users sessionised again are the users with new on-site events, a small share
    of all; every other row keeps the build time of day N."""
    assert FULL_REBUILD_LINE not in builds.incremental_log
    held = query(builds.day_n, "select max(record_number) from staging.base_hubspot__page_event_records").iloc[0, 0]
    new_users = query(builds.incremental, "select count(distinct user_key) from intermediate.int_page_events_categorized "
                                          f"where is_on_site and record_number > {held}")
    rebuilt = query(builds.incremental, "select count(distinct user_key) as users, count(*) as rows "
                                        "from intermediate.int_page_events_sessionized "
                                        "where processed_at = (select max(processed_at) from "
                                        "intermediate.int_page_events_sessionized)")
    all_users = query(builds.incremental, "select count(distinct user_key) from intermediate.int_page_events_sessionized")
    assert 0 < rebuilt["users"].item() == new_users.iloc[0, 0] < 0.2 * all_users.iloc[0, 0]


def test_late_events_land_in_the_right_sessions(builds: Builds) -> None:
    """The late event joins the session it falls in; late events between two sessions join them into one; a late
    event before a user's first session opens session 1 and renumbers the others, as a full refresh does."""
    planted = builds.planted

    def sessions(folder: Path, user: str) -> pd.DataFrame:
        return query(folder, f"select session_number, event_count, started_at from marts.sessions "
                             f"where user_key = '{user}' order by session_number")

    before, after = sessions(builds.day_n, planted.late_in_session), sessions(builds.incremental, planted.late_in_session)
    number = planted.late_session_number
    grown = after.set_index("session_number").loc[number]
    assert grown["event_count"] == before.set_index("session_number").loc[number, "event_count"] + 1
    assert grown["started_at"] == before.set_index("session_number").loc[number, "started_at"]
    assert len(sessions(builds.incremental, planted.joined_user)) == planted.joined_sessions - 1
    renumbered = sessions(builds.incremental, planted.renumbered_user)
    assert len(renumbered) == planted.renumbered_sessions + 1 and renumbered["event_count"].iloc[0] == 1
    old_first = sessions(builds.day_n, planted.renumbered_user)["started_at"].iloc[0]
    assert renumbered["started_at"].iloc[1] == old_first, "the old first session is session 2 now"
    for user in (planted.late_in_session, planted.joined_user, planted.renumbered_user):
        pd.testing.assert_frame_equal(sessions(builds.incremental, user), sessions(builds.full, user))


def test_a_late_purchase_cuts_the_sequence_and_labels_the_contact(builds: Builds) -> None:
    sql = f"select page_count, is_converted from marts.contact_features where contact_id = {builds.planted.cut_contact}"
    before, after = query(builds.day_n, sql).iloc[0], query(builds.incremental, sql).iloc[0]
    assert not before["is_converted"] and after["is_converted"]
    assert after["page_count"] < before["page_count"]


def test_every_raw_record_is_staged_or_quarantined_once_after_the_increment(builds: Builds) -> None:
    assert "PASS assert_raw_records_staged_or_quarantined" in builds.incremental_log
    reasons = query(builds.incremental, "select quarantine_reason, line_number from marts.quarantined_rows "
                                        "where source_file = 'page_events.csv' order by record_number")
    assert reasons["quarantine_reason"].tolist()[-2:] == ["email_as_user_key", "wrong_field_count"]
    lines = query(builds.incremental, "select count(*) from staging.base_hubspot__page_event_records")
    physical = (builds.incremental / "raw" / "page_events.csv").read_text(encoding="utf-8").count("\n")
    last = query(builds.incremental, "select max(line_number + line_span) - 1 as line from "
                                     "staging.base_hubspot__page_event_records")
    assert last["line"].item() == physical == lines.iloc[0, 0] + 2, "one record spans two lines; the header is line 1"


def test_other_rules_rebuild_the_event_models_in_full(builds: Builds, tmp_path: Path) -> None:
    """A var the event models depend on changes between builds: each model empties its table and builds it again,
    to the rows of a full build with that var."""
    other = {"journeys_session_gap_minutes": 10}
    changed = build_folder(tmp_path, "changed", builds.incremental / "raw")
    shutil.copy(builds.incremental / "journeys.duckdb", changed / "journeys.duckdb")
    log = build_or_fail(["build", "--select", *SELECT, "--vars", str(other)], env(changed), "another session gap")
    rebuilt = [line for line in log.splitlines() if FULL_REBUILD_LINE in line]
    assert len(rebuilt) == 6, rebuilt
    fresh = build_folder(tmp_path, "fresh", builds.incremental / "raw")
    build_or_fail(["build", "--select", "+sessions", "--indirect-selection", "cautious", "--vars", str(other)], env(fresh),
                  "another session gap, in full")
    found = differences(query(changed, "select * from marts.sessions"), query(fresh, "select * from marts.sessions"),
                        ["session_id"])
    assert not found and len(query(changed, "select * from marts.sessions")) > len(
        query(builds.incremental, "select * from marts.sessions"))


# --- Spark -------------------------------------------------------------------------------------------------------

SPARK_SELECT = [*SELECT, "--exclude-resource-type", "test", "unit_test"]


def spark_dump(folder: Path) -> Path:
    """The compared tables of `folder`'s Spark warehouse as Parquet (scripts/spark_tables.py, a process of its own:
    the Derby metastore allows one)."""
    out = folder / "dump"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "spark_tables.py"), "dump", "--out", str(out),
                             *COMPARED_TABLES], cwd=ROOT, env=env(folder), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"spark_tables.py dump failed:\n{result.stderr[-4000:]}")
    return out


@pytest.fixture(scope="module")
def spark_builds(builds: Builds, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The same days on Spark: days 1..N, then day N+1 incrementally; and days 1..N+1 in full. Dumped as Parquet."""
    base = tmp_path_factory.mktemp("incremental_events_spark")
    incremental = build_folder(base, "incremental", builds.day_n / "raw")
    build_or_fail(["build", "--target", "spark", "--select", *SPARK_SELECT], env(incremental), "days 1..N on Spark")
    shutil.copy(builds.incremental / "raw" / "page_events.csv", incremental / "raw" / "page_events.csv")
    log = build_or_fail(["build", "--target", "spark", "--select", *SPARK_SELECT], env(incremental),
                        "day N+1 on Spark, incrementally")
    full = build_folder(base, "full", builds.incremental / "raw")
    build_or_fail(["build", "--target", "spark", "--select", *SPARK_SELECT], env(full), "days 1..N+1 on Spark in full")
    return spark_dump(incremental), spark_dump(full), log


@pytest.mark.parametrize("table", list(COMPARED_TABLES))
def test_incremental_build_equals_a_full_refresh_on_spark(spark_builds: tuple[Path, Path, str], table: str) -> None:
    incremental_dump, full_dump, log = spark_builds
    assert FULL_REBUILD_LINE not in log
    with duckdb.connect() as con:
        incremental = con.execute(f"select * from read_parquet('{incremental_dump / table}/*.parquet')").df()
        full = con.execute(f"select * from read_parquet('{full_dump / table}/*.parquet')").df()
    assert len(full) > 0
    found = differences(incremental, full, COMPARED_TABLES[table])
    assert not found, f"{len(found)} values differ, e.g. (column, key, incremental, full): {found[:5]}"
