"""Hostile and degenerate exports: each variant of a small valid export (pytests/hostile_exports.py)
either builds with the bad value flagged, or stops with one line naming the file and what to do, and
never shows a Python traceback."""

from __future__ import annotations

import math
import re
from pathlib import Path

import hostile_exports as hostile
import pandas as pd
import pytest
from conftest import PROJECT_VARS, RECONCILIATION, ROOT, SQL_LAYER, dbt_env, run_dbt

from journeys.runs import skipped
from journeys.urls import normalize_urls
from journeys.warehouse import connect


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile.clean_export(tmp_path_factory.mktemp("hostile_clean") / "raw")


def dbt(raw: Path, db: Path, *args: str):
    result = run_dbt(list(args), dbt_env(raw, db, db.parent / "artifacts"))
    return result.returncode, result.stdout + result.stderr


def assert_stops_with(output: str, returncode: int, message: str) -> None:
    """The build failed, its error block ends with the one-line `message`, and no traceback shows."""
    assert returncode != 0, output[-3000:]
    lines = [line.strip() for line in output.splitlines()]
    hits = [i for i, line in enumerate(lines) if line.endswith(message)]
    assert hits, output[-3000:]
    # after the message come only dbt's pointers to the compiled code and its summary
    assert all(
        not line or "compiled code at" in line or line.startswith(("Done.", "\x1b[0m"))
        for line in lines[hits[0] + 1 :]
    ), output[-3000:]
    assert "Traceback" not in output


@pytest.fixture(scope="module")
def value_batch(clean: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int], str]:
    """Every value, e-mail and other-site case, the padded and repeated headers: one SQL-layer build."""
    base = tmp_path_factory.mktemp("hostile_values")
    planted = hostile.value_batch(clean, base / "raw")
    db = base / "db.duckdb"
    code, output = dbt(base / "raw", db, "build", "--select", *SQL_LAYER, "--indirect-selection", "cautious")
    assert code == 0, output[-6000:]
    return db, planted, output


def query(db: Path, sql: str, *params) -> list[tuple]:
    with connect(db) as con:
        return con.execute(sql, params).fetchall()


@pytest.mark.parametrize("case", hostile.VALUE_CASES, ids=lambda case: case.name)
def test_a_bad_value_is_flagged_with_its_reason(value_batch, case: hostile.ValueCase) -> None:
    db, planted, _ = value_batch
    # the history's current value is its newest version (recency 1)
    model = ("stg_hubspot__page_history where recency = 1 and" if case.file == hostile.HISTORY
             else "stg_hubspot__contacts where")
    ((value, flags),) = query(
        db, f"select {case.column}, invalid_fields from {model} contact_id = ?", planted[case.name]
    )
    flagged = dict(entry.split(":") for entry in (flags or "").split(", ") if entry)
    if case.reason is None:
        assert case.column not in flagged
        assert str(value) == hostile.OFFSET_UTC
    else:
        assert value is None
        assert flagged[case.column] == case.reason


def test_nothing_downstream_sees_non_finite_or_implausible_values(value_batch) -> None:
    db, _, _ = value_batch
    doubles = [
        name
        for (name,) in query(
            db,
            "select column_name from information_schema.columns "
            "where table_name = 'contact_features' and data_type = 'DOUBLE'",
        )
    ]
    assert "avg_pageviews" in doubles and "days_since_lead" in doubles
    for name in doubles:
        values = [v for (v,) in query(db, f"select {name} from contact_features") if v is not None]
        assert all(math.isfinite(v) for v in values), name
        if name.startswith("days_since_"):  # within [reference date + 1 day, earliest plausible date]
            assert all(-1 <= v <= 366 * 22 for v in values), name


def test_free_text_addresses_are_redacted_before_leaving_staging(value_batch) -> None:
    db, planted, output = value_batch
    for number, (_, column, text) in enumerate(hostile.EMAIL_CASES):
        ((staged,),) = query(
            db, f"select {column} from stg_hubspot__contacts where contact_id = ?", planted[f"email_{number}"]
        )
        assert "redacted-email" in staged and "@" not in staged and "%2540" not in staged, (text, staged)
        ((feature,),) = query(
            db, f"select {column} from contact_features where contact_id = ?", planted[f"email_{number}"]
        )
        assert feature == staged
    assert "no_email_addresses_stg_hubspot__contacts" in output  # the staging test ran


def test_the_no_email_test_runs_on_staging_before_any_intermediate_model(value_batch) -> None:
    """Each staging model's no-e-mail test passes before any intermediate model that reads the staging model
    starts: a leak stops the build before its text travels further."""
    _, _, output = value_batch
    lines = output.splitlines()
    tests_done = {
        model: min(i for i, line in enumerate(lines) if f"PASS no_email_addresses_{model}_" in line)
        for model in ("stg_hubspot__contacts", "stg_hubspot__page_history", "stg_hubspot__page_events")
    }
    readers = {  # the intermediate models that read staging, and the staging models each reads
        path.stem: set(re.findall(r"ref\('(stg_hubspot__\w+)'\)", path.read_text()))
        for path in (ROOT / "models" / "intermediate").glob("*.sql") if "ref('stg_hubspot" in path.read_text()
    }
    started = {
        name: min(i for i, line in enumerate(lines)
                  if re.search(rf"START sql (table|incremental) model intermediate\.{name} ", line))
        for name in readers
    }
    assert len(readers) >= 4 and set().union(*readers.values()) == set(tests_done)
    late = [(name, model) for name, models in readers.items() for model in models
            if started[name] < tests_done[model]]
    assert late == []


def test_the_no_email_test_on_staging_fails_on_a_leak(clean: Path, tmp_path: Path) -> None:
    """The redaction and the test share one pattern, so a leak is planted in the built view itself."""
    raw, db = tmp_path / "raw", tmp_path / "db.duckdb"
    hostile.first_contacts(clean, raw, 20)
    code, output = dbt(
        raw, db, "build", "--select", "path:models/staging", "path:seeds", "--indirect-selection", "cautious"
    )
    assert code == 0, output[-3000:]
    with connect(db, read_only=False) as con:
        con.execute(
            "create or replace view staging.stg_hubspot__contacts as "
            "select 1 as contact_id, 'josé.núñez@exämple.com' as job_title"
        )
    code, output = dbt(raw, db, "test", "--select", "stg_hubspot__contacts,test_name:no_email_addresses")
    assert code != 0
    assert "Got 1 result" in output


def test_padded_and_repeated_headers_are_resolved_with_a_one_line_warning(value_batch) -> None:
    _, _, output = value_batch
    assert (
        'hubspot_export.csv): header name(s) "Job Title or Function\\t" padded with whitespace; read trimmed'
        in output
    )
    assert '"Internal notes" appear more than once in the header' in output


def test_pages_on_other_sites_are_other(value_batch) -> None:
    db, _, _ = value_batch
    rows = dict(query(db, "select normalized_url, category from int_urls_categorized"))
    for url, normalized in zip(hostile.OTHER_SITE_URLS, normalize_urls(pd.Series(hostile.OTHER_SITE_URLS), PROJECT_VARS["journeys_url_query_allowlist"]), strict=True):
        assert rows[normalized] == "other", url


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        (
            lambda clean, raw: hostile.empty_file(clean, raw, hostile.EXPORT),
            "hubspot_export.csv) is empty: it needs at least its header row (export it again)",
        ),
        (
            lambda clean, raw: hostile.empty_file(clean, raw, hostile.HISTORY),
            "pageview_hist.csv) is empty: it needs at least its header row (export it again)",
        ),
        (
            lambda clean, raw: hostile.header_only(clean, raw, hostile.EXPORT),
            (
                "the export holds no contacts (0 record(s), none with a usable Contact ID): "
                "export the contacts with their Contact ID column"
            ),
        ),
        (
            hostile.repeated_required_header,
            'has column(s) "Number of Sessions" more than once in its header: keep one copy of each and export again',
        ),
    ],
    ids=["empty_export", "empty_history", "no_contacts", "repeated_required_header"],
)
def test_a_broken_export_stops_with_one_line(clean: Path, tmp_path: Path, variant, message: str) -> None:
    raw = tmp_path / "raw"
    variant(clean, raw)
    code, output = dbt(raw, tmp_path / "db.duckdb", "build", "--select", "path:models/staging/base")
    assert_stops_with(output, code, message)


# Degenerate exports: one full `dbt build` each; the build passes, the model the data cannot train is
# skipped with one warning line and its tables are empty with their usual columns.
SEGMENT_TABLES = ["contact_segments", "segment_centroids", "segment_profiles", "segment_comparison",
                  "segment_k_selection", "segment_metrics", "segments", "segment_feature_scaling"]  # fmt: skip
PROPENSITY_TABLES = {"purchase_propensity": "purchase_propensity", "propensity_metrics": "metrics",
                     "training_history": "history", "propensity_audit": "audit",
                     "propensity_test_predictions": "test_predictions"}  # fmt: skip


def test_a_record_past_the_readers_limit_is_quarantined_and_the_rest_builds(clean: Path, tmp_path: Path) -> None:
    raw, db = tmp_path / "raw", tmp_path / "db.duckdb"
    contact = hostile.huge_field(clean, raw)
    code, output = dbt(raw, db, "build", "--select", *SQL_LAYER, *RECONCILIATION, "--indirect-selection", "cautious")
    assert code == 0, output[-6000:]
    assert "assert_raw_records_staged_or_quarantined" in output and "Traceback" not in output
    quarantined = query(db, "select source_file, quarantine_reason, reader_error, length(raw_text) "
                            "from quarantined_rows where quarantine_reason = 'record_too_long'")
    assert quarantined == [("hubspot_export.csv", "record_too_long",
                            "record longer than the 2000000-byte limit (var journeys_raw_max_record_bytes)",
                            PROJECT_VARS["journeys_quarantine_raw_text_chars"])]
    assert query(db, "select count(*) from stg_hubspot__contacts where contact_id = ?", contact) == [(0,)]
    clean_rows = len(hostile.read_table(clean / hostile.EXPORT)[1])
    assert rows(db, "stg_hubspot__contacts") == clean_rows - 1, "every other record is staged"


def full_build(variant, clean: Path, tmp_path: Path) -> tuple[Path, str]:
    raw, db = tmp_path / "raw", tmp_path / "db.duckdb"
    variant(clean, raw)
    code, output = dbt(raw, db, "build")
    assert code == 0, output[-6000:]
    assert "Traceback" not in output
    return db, output


def rows(db: Path, table: str) -> int:
    return query(db, f"select count(*) from {table}")[0][0]


def test_five_contacts_shrink_the_k_range_and_build(clean: Path, tmp_path: Path) -> None:
    db, output = full_build(lambda c, r: hostile.first_contacts(c, r, 5), clean, tmp_path)
    assert "segments: k range [3, 10] shrunk to [3, 4] to fit 5 distinct feature rows" in output
    assert rows(db, "contact_segments") == 5
    assert {k for (k,) in query(db, "select k from segment_k_selection")} == {3, 4}
    assert "propensity skipped:" in output  # 5 contacts cannot fill a stratified split


def test_identical_contacts_without_history_skip_both_models(clean: Path, tmp_path: Path) -> None:
    db, output = full_build(hostile.identical_contacts, clean, tmp_path)
    assert (
        "segments skipped: no categorical segment feature has at least 1% of the contacts off its commonest "
        "value, and k-prototypes needs one ("
    ) in output
    assert "its tables are left empty and the build goes on" in output
    assert "propensity skipped: no contact has a page history to learn from" in output
    for table in SEGMENT_TABLES + list(PROPENSITY_TABLES):
        assert rows(db, table) == 0, table
    assert rows(db, "contact_features") == rows(db, "stg_hubspot__contacts") > 0


def test_no_buyers_skip_the_propensity_model_only(clean: Path, tmp_path: Path) -> None:
    db, output = full_build(hostile.no_buyers, clean, tmp_path)
    assert "contacts with page history hold a single class, nothing to predict" in output
    assert rows(db, "purchase_propensity") == 0
    assert rows(db, "contact_segments") == rows(db, "contact_features") > 0


def test_one_contact_with_history_skips_the_propensity_model(clean: Path, tmp_path: Path) -> None:
    db, output = full_build(hostile.one_contact_with_history, clean, tmp_path)
    assert "propensity skipped:" in output
    assert rows(db, "purchase_propensity") == 0
    assert rows(db, "contact_segments") > 0


def test_skipped_tables_have_a_trained_runs_columns(warehouse) -> None:
    """journeys.runs.skipped.EMPTY_TABLES against the tables of a real build."""
    names = {**{table: table for table in SEGMENT_TABLES}, **PROPENSITY_TABLES}
    with connect(warehouse.duckdb_path) as con:
        for table, key in names.items():
            real = con.execute(f"select * from {table} limit 0").df()
            con.register("empty_frame", skipped.empty_table(key))
            empty = con.execute("select * from empty_frame").df()
            assert list(empty.columns) == list(real.columns), table
            real_types = [t for (_, t, *_) in con.execute(f"describe select * from {table}").fetchall()]
            empty_types = [t for (_, t, *_) in con.execute("describe select * from empty_frame").fetchall()]
            assert empty_types == real_types, table


def test_the_propensity_model_needs_the_segments_only_for_target_segment(tmp_path: Path) -> None:
    env = dbt_env(tmp_path / "raw", tmp_path / "db.duckdb", tmp_path / "artifacts")
    default = run_dbt(["ls", "--quiet", "--select", "+purchase_propensity", "--resource-type", "model"], env)
    segment = run_dbt(
        ["ls", "--quiet", "--select", "+purchase_propensity", "--resource-type", "model",
         "--vars", "{journeys_propensity_target: segment}"], env,
    )  # fmt: skip
    assert default.returncode == 0 and segment.returncode == 0, default.stdout + segment.stdout
    assert "contact_segments" not in default.stdout and "int_contact_segment_labels" in default.stdout
    assert "contact_segments" in segment.stdout
