"""The SQL layer on the shared synthetic warehouse (30k contacts with the generator's documented dirt):
raw files re-read independently in Python and compared with what staging kept or quarantined."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from journeys.synth import dirt

FILES = {
    "hubspot_export.csv": "stg_hubspot__contacts",
    "pageview_hist.csv": "stg_hubspot__page_history",
}
PARSE_REASONS = {"blank_line", "malformed_line", "wrong_field_count"}

# The contract of docs/architecture.md, as DuckDB names the types.
CONTRACT_TYPES = {
    "contact_id": "BIGINT",
    **dict.fromkeys(
        ["num_sessions", "num_pageviews", "emails_delivered", "emails_opened", "emails_clicked", "page_count"],
        "INTEGER",
    ),
    "avg_pageviews": "DOUBLE",
    **dict.fromkeys(
        ["ip_country", "ip_country_code", "last_email_name", "last_event", "job_title", "education"], "VARCHAR"
    ),
    **dict.fromkeys(
        [
            "opted_out_events", "opted_out_announcements", "opted_out_batch", "unsubscribed_all", "has_company",
            "is_bulk_import", "has_page_history", "is_buyer", "course_deep_learning_specialization",
            "course_ai_for_everyone", "course_natural_language_processing",
            "course_tensorflow_developer_certificate", "course_ai_for_medicine",
            "course_tensorflow_data_and_deployment",
        ],
        "BOOLEAN",
    ),
    **dict.fromkeys(
        [
            "days_since_lead", "days_since_subscriber", "days_since_first_conversion",
            "days_since_first_email_send", "days_since_first_email_open", "days_since_first_email_click",
            "days_since_last_email_send", "days_since_last_email_open", "days_since_last_email_click",
            "days_since_last_event",
        ],
        "DOUBLE",
    ),
    "category_codes": "INTEGER[]",
    "first_page_at": "TIMESTAMP",
    "last_page_at": "TIMESTAMP",
}  # fmt: skip


def raw_lines(path: Path) -> list[str]:
    """Physical lines (header first), as the SQL layer counts them: LF-separated, CR dropped."""
    lines = path.read_text(encoding="utf-8").replace("\r", "").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def parse_line(line: str) -> list[str] | None:
    """The fields of one line by Python's strict CSV reader; None when it is not a valid CSV line."""
    try:
        return next(csv.reader([line], strict=True))
    except (csv.Error, StopIteration):
        return None


def expected_quarantine(path: Path) -> dict[int, str]:
    """Line number -> reason for the parse and id problems, computed from the raw file alone."""
    lines = raw_lines(path)
    width = len(parse_line(lines[0]) or [])
    seen: set[int] = set()
    reasons: dict[int, str] = {}
    for number, line in enumerate(lines[1:], start=2):
        fields = parse_line(line)
        contact_id = fields[0].strip(" ") if fields else ""
        if not line.strip(" "):
            reasons[number] = "blank_line"
        elif fields is None or line.count('"') % 2:
            reasons[number] = "malformed_line"
        elif len(fields) != width:
            reasons[number] = "wrong_field_count"
        elif not contact_id:
            reasons[number] = "missing_contact_id"
        elif not re.fullmatch(r"[0-9]{1,18}", contact_id):
            reasons[number] = "invalid_contact_id"
        elif int(contact_id) in seen:
            reasons[number] = "duplicate_contact_id"
        else:
            seen.add(int(contact_id))
    return reasons


def test_every_raw_line_is_staged_or_quarantined_exactly_once(warehouse) -> None:
    for file_name, staged_model in FILES.items():
        data_lines = set(range(2, len(raw_lines(warehouse.raw_dir / file_name)) + 1))
        staged = warehouse.query(f"select line_number from {staged_model}")["line_number"]
        quarantined = warehouse.query(
            f"select line_number from quarantined_rows where source_file = '{file_name}'"
        )["line_number"]
        assert staged.is_unique and quarantined.is_unique
        assert not set(staged) & set(quarantined), file_name
        assert set(staged) | set(quarantined) == data_lines, file_name


def test_contact_lines_are_quarantined_for_the_reasons_the_raw_file_shows(warehouse) -> None:
    expected = expected_quarantine(warehouse.raw_dir / "hubspot_export.csv")
    got = warehouse.query(
        "select line_number, quarantine_reason from quarantined_rows where source_file = 'hubspot_export.csv'"
    )
    assert dict(zip(got["line_number"], got["quarantine_reason"], strict=True)) == expected
    # the generator plants duplicates and truncated lines at these rates: both must be present
    assert {"duplicate_contact_id", "wrong_field_count"} <= set(expected.values())


def test_page_history_lines_are_quarantined_for_the_reasons_the_raw_files_show(warehouse) -> None:
    expected = expected_quarantine(warehouse.raw_dir / "pageview_hist.csv")
    staged_contacts = set(warehouse.query("select contact_id from stg_hubspot__contacts")["contact_id"])
    lines = raw_lines(warehouse.raw_dir / "pageview_hist.csv")
    for number, line in enumerate(lines[1:], start=2):
        if number not in expected and int(parse_line(line)[0]) not in staged_contacts:
            expected[number] = "unknown_contact_id"
    got = warehouse.query(
        "select line_number, quarantine_reason from quarantined_rows where source_file = 'pageview_hist.csv'"
    )
    assert dict(zip(got["line_number"], got["quarantine_reason"], strict=True)) == expected


def raw_export(warehouse) -> pd.DataFrame:
    """The export's staged lines as raw text, keyed by line number (Python's own CSV parse)."""
    lines = raw_lines(warehouse.raw_dir / "hubspot_export.csv")
    header = parse_line(lines[0])
    staged = set(warehouse.query("select line_number from stg_hubspot__contacts")["line_number"])
    rows = {n: parse_line(lines[n - 1]) for n in staged}
    return pd.DataFrame.from_dict(rows, orient="index", columns=header)


def test_planted_bad_values_become_null_and_are_flagged(warehouse) -> None:
    raw = raw_export(warehouse)
    staged = warehouse.query(
        "select line_number, became_lead_at, num_sessions, ip_country, ip_country_code, invalid_fields "
        "from stg_hubspot__contacts"
    ).set_index("line_number").loc[raw.index]
    flags = staged["invalid_fields"].fillna("")

    malformed = raw["Became a Lead Date"].isin(dirt.MALFORMED_TIMESTAMPS)
    assert malformed.any()
    assert staged.loc[malformed, "became_lead_at"].isna().all()
    assert flags[malformed].str.contains("became_lead_at").all()
    assert not flags[~malformed & (raw["Became a Lead Date"] != "")].str.contains("became_lead_at").any()

    sessions = raw["Number of Sessions"]
    bad_count = (sessions != "") & ~sessions.str.fullmatch(r"[0-9]+")
    assert bad_count.any()
    assert staged.loc[bad_count, "num_sessions"].isna().all()
    assert flags[bad_count].str.contains("num_sessions").all()
    good = sessions.str.fullmatch(r"[0-9]+")
    assert (staged.loc[good, "num_sessions"] == sessions[good].astype(int)).all()

    unknown = raw["IP Country"].isin([name for name, _ in dirt.UNKNOWN_COUNTRIES])
    assert unknown.any()
    assert staged.loc[unknown, ["ip_country", "ip_country_code"]].isna().all().all()
    known = (raw["IP Country"] != "") & ~unknown
    assert (staged.loc[known, "ip_country"] == raw.loc[known, "IP Country"].str.strip().str.lower()).all()


def test_buyer_label_matches_the_planted_truth(warehouse) -> None:
    truth = pd.read_csv(warehouse.raw_dir / "truth.csv")
    features = warehouse.query("select contact_id, is_buyer from contact_features")
    joined = features.merge(truth, on="contact_id", suffixes=("", "_truth"), validate="one_to_one")
    assert len(joined) == len(features)
    assert (joined["is_buyer"] == joined["is_buyer_truth"]).all()


def test_feature_contract_columns_and_types(warehouse) -> None:
    columns = warehouse.query(
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'contact_features'"
    )
    assert dict(zip(columns["column_name"], columns["data_type"], strict=True)) == CONTRACT_TYPES


def test_sequences_are_consistent_with_the_page_history(warehouse) -> None:
    features = warehouse.query(
        "select contact_id, has_page_history, page_count, category_codes from contact_features"
    )
    lengths = features["category_codes"].map(len)
    assert (lengths == features["page_count"]).all()
    assert lengths.max() <= 4
    assert (features["has_page_history"] == (features["page_count"] > 0)).all()
    assert not features["category_codes"].map(lambda codes: 0 in codes).any()
    with_pages = warehouse.query(
        "select contact_id from stg_hubspot__page_history where coalesce("
        "url_current, url_previous_1, url_previous_2, url_previous_3) is not null"
    )
    assert set(features.loc[features["has_page_history"], "contact_id"]) == set(with_pages["contact_id"])


def test_unmatched_share_of_page_views_is_small(warehouse) -> None:
    coverage = warehouse.query("select category, page_views, share_of_page_views from url_category_coverage")
    shares = coverage.set_index("category")["share_of_page_views"]
    assert shares.sum() == pytest.approx(1.0)
    # only the generator's other-site URLs (0.3% of journey URLs) should be left unmatched
    assert shares["other"] < 0.01
    unmapped = warehouse.query("select normalized_url from unmapped_urls")["normalized_url"]
    assert not unmapped.str.contains("deeplearning.ai").any()
