"""The SQL layer on the shared synthetic warehouse (30k contacts with the generator's documented dirt):
raw files re-read independently by Python's CSV reader and compared with what staging kept or quarantined."""

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

# The contract of docs/architecture.md, as DuckDB names the types.
CONTRACT_TYPES = {
    "category_codes_uncut": "INTEGER[]",
    "category_codes_before_conversion": "INTEGER[]",
    "recorded_category_codes": "INTEGER[]",
    "is_converted": "BOOLEAN",
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


def raw_records(path: Path) -> tuple[list[str], dict[int, tuple[int, list[str]]]]:
    """The header and record number -> (first physical line, fields), by Python's strict CSV reader
    (RFC 4180: a record may span lines; blank lines hold no record), apart from the SQL layer."""
    records: dict[int, tuple[int, list[str]]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        header = next(reader)
        line = reader.line_num + 1
        for fields in reader:
            if fields:
                records[len(records) + 1] = (line, fields)
            line = reader.line_num + 1
    return header, records


def expected_quarantine(path: Path) -> dict[int, tuple[int, str]]:
    """Record number -> (line, reason) for the field-count and id problems, from the raw file alone."""
    header, records = raw_records(path)
    seen: set[int] = set()
    reasons: dict[int, tuple[int, str]] = {}
    for number, (line, fields) in records.items():
        contact_id = fields[0].strip()
        if len(fields) != len(header):
            reasons[number] = (line, "wrong_field_count")
        elif not contact_id:
            reasons[number] = (line, "missing_contact_id")
        elif not re.fullmatch(r"[0-9]{1,18}", contact_id):
            reasons[number] = (line, "invalid_contact_id")
        elif int(contact_id) in seen:
            reasons[number] = (line, "duplicate_contact_id")
        else:
            seen.add(int(contact_id))
    return reasons


def quarantined(warehouse, file_name: str) -> dict[int, tuple[int, str]]:
    got = warehouse.query(
        "select record_number, line_number, quarantine_reason from quarantined_rows "
        f"where source_file = '{file_name}'"
    )
    return {
        int(r): (int(n), reason)
        for r, n, reason in zip(got["record_number"], got["line_number"], got["quarantine_reason"], strict=True)
    }


# The history's URL columns: a pageview_hist record with none of them filled is staged without a page version.
HISTORY_URLS = ("Last Page Seen Current Value", "Last Page Seen Previous Value (1)",
                "Last Page Seen Previous Value (2)", "...")


def test_every_raw_record_is_staged_or_quarantined_exactly_once(warehouse) -> None:
    for file_name, staged_model in FILES.items():
        header, raw = raw_records(warehouse.raw_dir / file_name)
        records = set(raw)
        staged = warehouse.query(f"select distinct record_number from {staged_model}")["record_number"]
        quarantined = warehouse.query(
            f"select record_number from quarantined_rows where source_file = '{file_name}'"
        )["record_number"]
        assert quarantined.is_unique
        assert not set(staged) & set(quarantined), file_name
        if file_name == "pageview_hist.csv":  # one staged row per page version: records without a page have none
            url_columns = [header.index(name) for name in HISTORY_URLS]
            no_page = {n for n, (_, fields) in raw.items()
                       if len(fields) == len(header) and not any(fields[i].strip() for i in url_columns)}
            assert no_page and not no_page & set(staged)
            staged = set(staged) | (no_page - set(quarantined))
        assert set(staged) | set(quarantined) == records, file_name


def test_contact_records_are_quarantined_for_the_reasons_the_raw_file_shows(warehouse) -> None:
    expected = expected_quarantine(warehouse.raw_dir / "hubspot_export.csv")
    assert quarantined(warehouse, "hubspot_export.csv") == expected
    # the generator plants duplicates and truncated lines at these rates: both must be present
    assert {"duplicate_contact_id", "wrong_field_count"} <= {reason for _, reason in expected.values()}


def test_page_history_records_are_quarantined_for_the_reasons_the_raw_files_show(warehouse) -> None:
    expected = expected_quarantine(warehouse.raw_dir / "pageview_hist.csv")
    staged_contacts = set(warehouse.query("select contact_id from stg_hubspot__contacts")["contact_id"])
    for number, (line, fields) in raw_records(warehouse.raw_dir / "pageview_hist.csv")[1].items():
        if number not in expected and int(fields[0]) not in staged_contacts:
            expected[number] = (line, "unknown_contact_id")
    assert quarantined(warehouse, "pageview_hist.csv") == expected


def raw_export(warehouse) -> pd.DataFrame:
    """The export's staged records as raw text, keyed by record number (Python's own CSV parse)."""
    header, records = raw_records(warehouse.raw_dir / "hubspot_export.csv")
    staged = set(warehouse.query("select record_number from stg_hubspot__contacts")["record_number"])
    rows = {n: records[n][1] for n in staged}
    return pd.DataFrame.from_dict(rows, orient="index", columns=header)


def test_planted_bad_values_become_null_and_are_flagged(warehouse) -> None:
    raw = raw_export(warehouse)
    staged = warehouse.query(
        "select record_number, became_lead_at, num_sessions, ip_country, ip_country_code, invalid_fields "
        "from stg_hubspot__contacts"
    ).set_index("record_number").loc[raw.index]
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
    with_pages = warehouse.query("select distinct contact_id from stg_hubspot__page_history")
    # the uncut sequence covers every staged history; the model's input (the default journeys_propensity_cutoff) is
    # the part seen before the First Conversion Date, so some contacts with a history have no input pages
    uncut = warehouse.query("select contact_id from contact_features where len(category_codes_uncut) > 0")
    assert set(uncut["contact_id"]) == set(with_pages["contact_id"])
    assert set(features.loc[features["has_page_history"], "contact_id"]) < set(with_pages["contact_id"])


def test_unmatched_share_of_page_views_is_small(warehouse) -> None:
    coverage = warehouse.query("select category, page_views, share_of_page_views from url_category_coverage")
    shares = coverage.set_index("category")["share_of_page_views"]
    assert shares.sum() == pytest.approx(1.0)
    # only the generator's other-site URLs (0.3% of journey URLs) should be left unmatched
    assert shares["other"] < 0.01
    unmapped = warehouse.query("select normalized_url from unmapped_urls")["normalized_url"]
    assert not unmapped.str.contains("deeplearning.ai").any()
