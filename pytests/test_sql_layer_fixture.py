"""The SQL layer on a small hand-made export (pytests/fixtures/export_dirty) that plants one case of
every quirk and dirt kind: what each planted line becomes is known, so it is asserted exactly."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURE, SQL_LAYER, dbt_env, run_dbt

from journeys.urls.redaction import EMAIL_REGEX
from journeys.warehouse import connect


def build_sql_layer(raw_dir: Path, db_path: Path, command: str = "build"):
    """Run dbt on the SQL models only (tests whose parents are all selected run with them)."""
    args = [command, "--select", *SQL_LAYER, "--indirect-selection", "cautious"]
    return run_dbt(args, dbt_env(raw_dir, db_path, db_path.parent / "artifacts"))


@pytest.fixture(scope="module")
def fixture_db(fixture_export_db: Path) -> Path:
    """The fixture export built by `dbt build` (SQL models, their data and unit tests: conftest)."""
    return fixture_export_db


def query(db_path: Path, sql: str) -> list[tuple]:
    with connect(db_path) as con:
        return con.execute(sql).fetchall()


def test_every_planted_bad_record_is_quarantined_with_its_reason(fixture_db: Path) -> None:
    rows = query(
        fixture_db, "select source_file, record_number, line_number, quarantine_reason from quarantined_rows"
    )
    # lines: record 6 of the export (1006) and record 3 of the history (1003) span two lines; the
    # export's blank line 12 holds no record; both files end in a truncated record (open quote)
    assert sorted(rows) == [
        ("hubspot_export.csv", 4, 5, "duplicate_contact_id"),
        ("hubspot_export.csv", 8, 10, "missing_contact_id"),
        ("hubspot_export.csv", 9, 11, "wrong_field_count"),
        ("hubspot_export.csv", 10, 12, "invalid_contact_id"),
        ("hubspot_export.csv", 13, 15, "unterminated_quote"),
        ("pageview_hist.csv", 7, 9, "duplicate_contact_id"),
        ("pageview_hist.csv", 8, 10, "unknown_contact_id"),
        ("pageview_hist.csv", 9, 11, "missing_contact_id"),
        ("pageview_hist.csv", 11, 13, "unterminated_quote"),
    ]


def csv_records(path: Path, encoding: str = "utf-8") -> int:
    """Records of a CSV file by Python's own reader (a record may span lines; blank lines hold none)."""
    with path.open(encoding=encoding, newline="") as handle:
        return sum(1 for fields in csv.reader(handle) if fields) - 1


def test_raw_records_are_staged_or_quarantined(fixture_db: Path) -> None:
    for file_name, staged_model in [
        ("hubspot_export.csv", "stg_hubspot__contacts"),
        ("pageview_hist.csv", "stg_hubspot__page_history"),
    ]:
        (staged,) = query(fixture_db, f"select count(distinct record_number) from {staged_model}")[0]
        (quarantined,) = query(
            fixture_db, f"select count(*) from quarantined_rows where source_file = '{file_name}'"
        )[0]
        if file_name == "pageview_hist.csv":  # 1011's record holds no page: staged, with no page version
            assert query(fixture_db, "select count(*) from stg_hubspot__page_history where contact_id = 1011") == [(0,)]
            staged += 1
        assert staged + quarantined == csv_records(FIXTURE / file_name), file_name


def test_multi_line_quoted_fields_are_staged(fixture_db: Path) -> None:
    (name,) = query(fixture_db, "select last_email_name from stg_hubspot__contacts where contact_id = 1006")[0]
    assert name == "Pie & AI\nrecap, part 2"
    (url, category) = query(
        fixture_db,
        "select normalized_url, category from int_page_views_categorized where contact_id = 1003 and position = 2",
    )[0]
    assert (url, category) == ("google.com/search", "other")


def test_first_of_duplicate_ids_is_staged(fixture_db: Path) -> None:
    (name, sessions) = query(
        fixture_db, "select last_email_name, num_sessions from stg_hubspot__contacts where contact_id = 1001"
    )[0]
    assert (name, sessions) == ("2020.12.30 Newsletter", 2)


def test_bad_values_become_null_and_are_flagged(fixture_db: Path) -> None:
    row = query(
        fixture_db,
        """select became_lead_at, num_sessions, num_pageviews, avg_pageviews, emails_delivered,
                  opted_out_events, associated_company_id, invalid_fields
           from stg_hubspot__contacts where contact_id = 1003""",
    )[0]
    assert row[:7] == (None, None, None, None, None, None, None)
    flagged = dict(entry.split(":") for entry in row[7].split(", "))
    assert set(flagged) == {
        "became_lead_at", "num_sessions", "num_pageviews", "avg_pageviews", "emails_delivered",
        "opted_out_events", "associated_company_id",
    }
    assert flagged["opted_out_events"] == "not_a_flag"
    (clean_flags,) = query(fixture_db, "select invalid_fields from stg_hubspot__contacts where contact_id = 1001")[0]
    assert clean_flags is None


def test_countries_are_lower_case_and_known(fixture_db: Path) -> None:
    sql = "select contact_id, ip_country, ip_country_code from stg_hubspot__contacts"
    rows = {r[0]: r[1:] for r in query(fixture_db, sql)}
    assert rows[1005] == (None, None)  # atlantis / zz
    assert rows[1006] == ("brazil", "br")  # `Brazil ` / `BR`
    assert rows[1001] == ("united states", "us")


def test_text_with_quotes_commas_and_non_ascii_survives(fixture_db: Path) -> None:
    sql = "select contact_id, last_email_name, job_title, last_event from stg_hubspot__contacts"
    rows = {r[0]: r[1:] for r in query(fixture_db, sql)}
    assert rows[1007][0] == '2020.12.30 Newsletter, "special" edition'
    assert rows[1006][1:] == ("Ingénieur / Ingeniero", "Pie & AI: São Paulo")


def test_contract_features_for_a_planted_contact(fixture_db: Path) -> None:
    row = query(
        fixture_db,
        """select days_since_lead, is_buyer, course_natural_language_processing,
                  course_tensorflow_developer_certificate, course_deep_learning_specialization,
                  has_page_history, page_count, category_codes
           from contact_features where contact_id = 1010""",
    )[0]
    # 2021-01-04 10:59 is 13 h 01 min before the reference date 2021-01-05.
    assert row[0] == pytest.approx((13 * 60 + 1) / 1440)
    assert row[1:6] == (True, True, True, False, True)
    # oldest first: forum (community forums), contact-us, an unknown page, course sign-up
    assert row[6:] == (4, [9, 11, 20, 12])


def test_page_history_is_chronological_and_categorised(fixture_db: Path) -> None:
    rows = query(
        fixture_db,
        """select position, normalized_url, changed_at is null, category
           from int_page_views_categorized where contact_id = 1001 order by position""",
    )
    assert rows == [
        (1, "deeplearning.ai/", True, "home"),
        (2, "deeplearning.ai/deep-learning-specialization", False, "specialization"),
        (3, "deeplearning.ai/ai-for-everyone", False, "course"),
        (4, "deeplearning.ai/thebatch", False, "batch"),
    ]
    (journey,) = query(fixture_db, "select journey from contact_journeys where contact_id = 1001")[0]
    assert journey == "home > specialization > course > batch"


def test_contact_without_pages_has_empty_sequence(fixture_db: Path) -> None:
    row = query(
        fixture_db,
        "select has_page_history, page_count, category_codes from contact_features "
        "where contact_id = 1011",
    )[0]
    assert row == (False, 0, [])


def test_bulk_import_and_flags(fixture_db: Path) -> None:
    row = query(
        fixture_db,
        "select is_bulk_import, opted_out_batch, unsubscribed_all, opted_out_events, has_company "
        "from contact_features where contact_id = 1002",
    )[0]
    assert row == (True, True, True, False, False)


def test_no_planted_email_reaches_a_relation_outside_the_base_layer(fixture_db: Path) -> None:
    with (FIXTURE / "pageview_hist.csv").open(encoding="utf-8", newline="") as handle:
        planted = {row["Email"] for row in csv.DictReader(handle) if row.get("Email")}
    planted |= {"jane.doe@example.com", "josé.núñez@exämple.com", "josé.núñez@example.com"}
    planted |= {"jos%c3%a9.n%c3%ba%c3%b1ez%40example.com", "ann%2blee%40example.com"}
    assert {"ann.lee@example.com", "é@example.org"} <= planted
    with connect(fixture_db) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            "where data_type in ('VARCHAR', 'VARCHAR[]') and table_name not like 'base_%'"
        ).fetchall()
        assert {schema for schema, *_ in columns} == {"staging", "intermediate", "marts"}
        for schema, table, column, data_type in columns:
            value = f'"{column}"' if data_type == "VARCHAR" else f"array_to_string(\"{column}\", ' ')"
            values = {v for (v,) in con.execute(f'select distinct {value} from {schema}."{table}"').fetchall() if v}
            leaked = [v for v in values if any(email in v.lower() for email in planted)]
            assert not leaked, f"{schema}.{table}.{column} holds a planted e-mail"
            assert not [v for v in values if re.search(EMAIL_REGEX, v)], f"{table}.{column} holds an e-mail"
    raw_texts = dict(
        query(fixture_db, "select source_file || ':' || record_number, raw_text from quarantined_rows")
    )
    assert raw_texts["hubspot_export.csv:13"] == '1008,"2020-01-01 10:00:00,redacted-email,,,'
    # the Email field blanked by its position, the percent-encoded address in the URL redacted
    assert raw_texts["pageview_hist.csv:7"] == (
        "1001,,https://www.deeplearning.ai/?ref=redacted-email,2020-01-01 01:01,,,,,"
    )
    assert raw_texts["pageview_hist.csv:11"].startswith("1007,,https://www.deeplearning.ai/press/")


def test_missing_file_fails_with_one_clear_line(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(FIXTURE / "hubspot_export.csv", raw / "hubspot_export.csv")
    result = build_sql_layer(raw, tmp_path / "db.duckdb", command="run")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    lines = [line.strip() for line in output.splitlines() if "pageview_hist.csv not found" in line]
    # the folder as dbt was given it: run_dbt passes it relative to the DuckDB file's folder (tmp_path)
    expected = (
        "Raw file pageview_hist.csv not found: expected it at raw/pageview_hist.csv "
        "(set JOURNEYS_RAW_DIR to the export folder)"
    )
    assert lines == [expected]
    assert "Traceback" not in output


def test_missing_column_fails_with_one_line_naming_file_and_column(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(FIXTURE / "pageview_hist.csv", raw / "pageview_hist.csv")
    text = (FIXTURE / "hubspot_export.csv").read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    (raw / "hubspot_export.csv").write_text(header.replace(",IP Country,", ",Country,") + "\n" + rest, "utf-8")
    result = build_sql_layer(raw, tmp_path / "db.duckdb", command="run")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    lines = [line.strip() for line in output.splitlines() if "lacks required column" in line]
    # the folder as dbt was given it: run_dbt passes it relative to the DuckDB file's folder (tmp_path)
    assert lines == ['Raw file hubspot_export.csv (raw/hubspot_export.csv) lacks required column(s): "IP Country"']
    assert "Traceback" not in output
