"""Dirt: every kind shows up in the files at its documented rate, and none of it with dirt off.

Rates are measured in the written files (not taken from the summary) on a 50k-contact export; the
tolerance is about four binomial standard deviations of each count.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SPEC_HOSTS

from journeys.synth import DirtRates, catalog, write_export
from journeys.synth import dirt as dirt_kinds

N = 50_000
SEED = 4
RATES = DirtRates()
SLOTS = (
    "Last Page Seen Current Value",
    "Last Page Seen Previous Value (1)",
    "Last Page Seen Previous Value (2)",
    "...",
)
EXPORT_STAMP = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:00"


def _files(out: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[list[str]]]:
    with (out / "hubspot_export.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    export = pd.DataFrame([r for r in rows[1:] if len(r) == len(rows[0])], columns=rows[0], dtype=object)
    history = pd.read_csv(out / "pageview_hist.csv", dtype=str, keep_default_na=False)
    return export, history, pd.read_csv(out / "truth.csv"), rows


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("synth_dirty")
    summary = write_export(out, n_contacts=N, seed=SEED, dirt=True)
    return (summary, *_files(out))


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("synth_clean_same_seed")
    summary = write_export(out, n_contacts=N, seed=SEED, dirt=False)
    return (summary, *_files(out))


def _within(hits: int, cells: int, rate: float) -> bool:
    expected = rate * cells
    return abs(hits - expected) <= 4 * np.sqrt(expected) + 2


def _measure(export: pd.DataFrame, history: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """(hits, cells) per dirt kind as seen in the files."""
    out: dict[str, tuple[int, int]] = {}
    stamps = pd.concat([export[c] for c in dirt_kinds.TIMESTAMP_COLUMNS])
    stamps = stamps[stamps != ""]
    valid = (
        stamps.str.fullmatch(EXPORT_STAMP)
        & pd.to_datetime(stamps, format="%Y-%m-%d %H:%M:%S", errors="coerce").notna()
    )
    out["malformed_timestamp"] = (int((~valid).sum()), len(stamps))
    counts = pd.concat([export[c] for c in dirt_kinds.COUNT_COLUMNS])
    counts = counts[counts != ""]
    out["bad_count"] = (int((~counts.str.fullmatch(r"\d+")).sum()), len(counts))
    out["empty_cell"] = (int((export["Number of Sessions"] == "").sum()), len(export))
    ids = export["Contact ID"]
    out["duplicate_contact_id"] = (int(ids.duplicated().sum()), int(ids.nunique()))
    country = export["IP Country"][export["IP Country"] != ""]
    out["unknown_country"] = (int((~country.isin(catalog.COUNTRY_NAMES)).sum()), len(country))
    text = pd.concat([export[c] for c in dirt_kinds.TEXT_COLUMNS])
    text = text[text != ""]
    out["non_ascii"] = (int((~text.map(str.isascii)).sum()), len(text))
    out["stray_delimiter"] = (int(text.str.contains(r'[,"]').sum()), len(text))
    pages = pd.concat([history[s] for s in SLOTS])
    pages = pages[pages != ""]
    hosts = pages.str.extract(r"^https?://([^/?#]+)")[0].str.lower()
    out["foreign_url"] = (int((~hosts.isin(SPEC_HOSTS)).sum()), len(pages))
    out["long_url"] = (int((pages.str.len() > 2000).sum()), len(pages))
    return out


def test_each_kind_of_dirt_appears_at_its_documented_rate(dirty):
    _, export, history, _, _ = dirty
    measured = _measure(export, history)
    for kind, (hits, cells) in measured.items():
        rate = getattr(RATES, kind)
        # Empty cells blank one of several columns, so Number of Sessions sees the per-column rate.
        assert hits > 0, kind
        assert _within(hits, cells, rate), (kind, hits, cells, rate)


def test_no_dirt_at_all_when_switched_off(clean):
    summary, export, history, _, rows = clean
    measured = _measure(export, history)
    assert {kind: hits for kind, (hits, _) in measured.items()} == dict.fromkeys(measured, 0)
    assert set(summary["dirt"].values()) == {0}
    assert {len(row) for row in rows} == {34}


def test_dirty_export_still_parses_and_quotes_stray_delimiters(dirty):
    summary, export, _, _, rows = dirty
    short = [row for row in rows if len(row) != 34]
    # Broken lines are the only rows with fewer fields; everything else is RFC-4180 clean.
    assert len(short) == summary["dirt"]["broken_line"] == round(RATES.broken_line * len(rows[1:]))
    assert all(3 <= len(row) < 34 for row in short)
    assert len(export) + len(short) == summary["export_rows"] == N + summary["dirt"]["duplicate_contact_id"]
    quoted = export["Job Title or Function"].str.contains('"', regex=False)
    assert quoted.any()


def test_duplicates_repeat_real_contacts_and_truth_stays_clean(dirty, clean):
    _, export, _, truth, _ = dirty
    _, clean_export, _, clean_truth, _ = clean
    repeated = export[export["Contact ID"].duplicated(keep=False)]
    assert len(repeated) > 0
    # Duplicates are exact copies of a real contact's row.
    assert (repeated.groupby("Contact ID").nunique(dropna=False) == 1).all().all()
    assert truth["contact_id"].is_unique and len(truth) == N
    assert set(export["Contact ID"].astype(int)) <= set(truth["contact_id"])
    pd.testing.assert_frame_equal(truth, clean_truth)
    assert set(clean_export["Contact ID"].astype(int)) == set(truth["contact_id"])


def test_url_dirt_keeps_last_page_seen_equal_to_the_current_value(dirty):
    _, export, history, _, _ = dirty
    merged = history.merge(export.drop_duplicates("Contact ID"), on="Contact ID")
    current = merged["Last Page Seen Current Value"] != ""
    kept = current & (merged["Last Page Seen"] != "")
    assert (merged.loc[kept, "Last Page Seen"] == merged.loc[kept, "Last Page Seen Current Value"]).all()
    assert (merged.loc[kept, "Last Page Seen"].str.len() > 2000).any()


def test_unknown_countries_carry_non_iso_codes(dirty):
    _, export, _, _, _ = dirty
    unknown = export[(export["IP Country"] != "") & ~export["IP Country"].isin(catalog.COUNTRY_NAMES)]
    pairs = set(zip(unknown["IP Country"], unknown["IP Country Code"], strict=True))
    assert pairs <= set(dirt_kinds.UNKNOWN_COUNTRIES)
    assert not set(unknown["IP Country Code"]) & set(catalog.COUNTRY_CODES)


def test_each_kind_switches_off_on_its_own(tmp_path: Path):
    rates = DirtRates(foreign_url=0.0, duplicate_contact_id=0.0)
    summary = write_export(tmp_path, n_contacts=20_000, seed=SEED, dirt=rates)
    export, history, _, _ = _files(tmp_path)
    measured = _measure(export, history)
    assert measured["foreign_url"][0] == 0 and measured["duplicate_contact_id"][0] == 0
    assert measured["malformed_timestamp"][0] > 0 and summary["dirt"]["long_url"] > 0


def test_every_kind_of_dirt_reaches_every_chunk(tmp_path: Path):
    """Dirt is drawn per chunk: each chunk of a chunked export has every kind, duplicates stay in theirs."""
    rates = DirtRates(**{**dict.fromkeys(DirtRates.__dataclass_fields__, 0.01), "broken_line": 0.002})
    summary = write_export(tmp_path, n_contacts=9_000, seed=SEED, dirt=rates, chunk_contacts=3_000)
    export, history, truth, rows = _files(tmp_path)
    bounds = truth["contact_id"].to_numpy()[[0, 3_000, 6_000]]

    def chunk_of(ids) -> np.ndarray:
        return np.searchsorted(bounds, np.asarray(ids).astype(int), side="right") - 1

    broken = [row for row in rows[1:] if len(row) != 34]
    assert len(broken) == summary["dirt"]["broken_line"]
    assert sorted(set(chunk_of([row[0] for row in broken]))) == [0, 1, 2]
    ids = [row[0] for row in rows[1:]]
    assert len(ids) - len(set(ids)) == summary["dirt"]["duplicate_contact_id"] > 0
    assert set(ids) == set(truth["contact_id"].astype(str))
    for chunk in range(3):
        in_chunk = chunk_of(export["Contact ID"]) == chunk
        measured = _measure(export[in_chunk], history[chunk_of(history["Contact ID"]) == chunk])
        assert all(hits > 0 for hits, _ in measured.values()), (chunk, measured)
    # A copy lands after the row it copies, inside that row's chunk: file order is chunk order.
    file_chunks = chunk_of(ids)
    assert (np.diff(file_chunks) >= 0).all()
