"""Synthetic export: exact schema, value conventions, internal consistency, marginals, determinism, URLs.

One clean export of N contacts is generated per module, in three chunks (as a large export is), so every
band below also checks that chunks join into one population; spec counts are scaled by N / 336,955 and
compared with the tolerances stated next to each check.
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SPEC_HOSTS

from journeys.synth import buying, catalog, url_templates, write_export
from journeys.synth.planted_segments import SEGMENT_NAMES
from journeys.synth.writer import EXPORT_COLUMNS, HISTORY_COLUMNS

N = 30_000
CHUNK = 12_000
SEED = 11
SCALE = N / catalog.SPEC_CONTACTS
EXPORT_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:00$")
HISTORY_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
EXPORT_DATE_COLUMNS = [c for c in EXPORT_COLUMNS if c.endswith(("Date", "date"))]
SLOTS = (
    "Last Page Seen Current Value",
    "Last Page Seen Previous Value (1)",
    "Last Page Seen Previous Value (2)",
    "...",
)
SLOT_DATES = (
    "Last Page Seen Change Date",
    "Last Page Seen Change Date (1)",
    "Last Page Seen Change Date (2)",
)


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth_clean")
    write_export(out, n_contacts=N, seed=SEED, dirt=False, chunk_contacts=CHUNK, page_events=True)
    return out


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def export(export_dir: Path) -> pd.DataFrame:
    return _read(export_dir / "hubspot_export.csv")


@pytest.fixture(scope="module")
def history(export_dir: Path) -> pd.DataFrame:
    return _read(export_dir / "pageview_hist.csv")


@pytest.fixture(scope="module")
def truth(export_dir: Path) -> pd.DataFrame:
    return pd.read_csv(export_dir / "truth.csv")


def _stamp(column: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(column.replace("", None), format=fmt, errors="raise")


def _num(column: pd.Series) -> pd.Series:
    """A count column: empty means zero (HubSpot leaves zero email counts empty)."""
    return pd.to_numeric(column.replace("", "0"), errors="raise").astype(int)


def _near(actual: float, spec: float, tolerance: float) -> bool:
    return abs(actual - spec * SCALE) <= tolerance * spec * SCALE


# --- schema and value conventions -------------------------------------------------------------


def test_headers_are_exactly_the_specs(export_dir: Path):
    with (export_dir / "hubspot_export.csv").open(newline="") as handle:
        assert next(csv.reader(handle)) == list(EXPORT_COLUMNS)
    with (export_dir / "pageview_hist.csv").open(newline="") as handle:
        assert next(csv.reader(handle)) == list(HISTORY_COLUMNS)
    assert len(EXPORT_COLUMNS) == 34 and HISTORY_COLUMNS[-1] == "..."
    with (export_dir / "truth.csv").open(newline="") as handle:
        assert next(csv.reader(handle)) == [
            "contact_id",
            "segment",
            "buy_probability",
            "buy_probability_shuffled",
            "is_buyer",
            "purchased_at",
        ]


def test_one_row_per_contact_and_every_line_has_all_fields(export_dir: Path, export, history, truth):
    assert len(export) == N and export["Contact ID"].is_unique
    assert history["Contact ID"].is_unique and set(history["Contact ID"]) <= set(export["Contact ID"])
    assert truth["contact_id"].astype(str).tolist() == export["Contact ID"].tolist()
    for name, width in (("hubspot_export.csv", 34), ("pageview_hist.csv", 9)):
        with (export_dir / name).open(newline="") as handle:
            assert {len(row) for row in csv.reader(handle)} == {width}


def test_timestamps_follow_the_two_formats(export, history):
    for column in EXPORT_DATE_COLUMNS:
        filled = export[column][export[column] != ""]
        assert filled.str.match(EXPORT_STAMP).all(), column
        _stamp(filled, "%Y-%m-%d %H:%M:%S")
    for column in SLOT_DATES:
        filled = history[column][history[column] != ""]
        assert len(filled) > 0 and filled.str.match(HISTORY_STAMP).all(), column
        _stamp(filled, "%Y-%m-%d %H:%M")


def test_flags_countries_company_and_courses_use_the_specs_conventions(export):
    for column in [c for c in EXPORT_COLUMNS if c.startswith("Opted out")]:
        assert set(export[column]) == {"Yes", ""}
    assert set(export["Unsubscribed from all email"]) == {"True", ""}
    known = dict(catalog.COUNTRIES)
    country, code = export["IP Country"], export["IP Country Code"]
    assert ((country == "") == (code == "")).all()
    filled = country != ""
    assert (country[filled] == country[filled].str.lower()).all()
    assert (country[filled].map(known) == code[filled]).all()
    assert code[filled].str.fullmatch(r"[a-z]{2}").all()
    company = export["Associated Company ID"][export["Associated Company ID"] != ""]
    assert company.str.fullmatch(r"\d\.\d{6}e\+09").all()
    courses = export["Which of the following online courses have you taken from deeplearning.ai?"]
    names = {name for name, _ in catalog.COURSES}
    taken = courses[courses != ""].str.split("; ")
    assert taken.map(lambda values: set(values) <= names and len(values) == len(set(values))).all()
    assert (taken.str.len() == 2).any()
    assert set(export["Number of event completions"]) == {"0"}
    assert set(export["Became an Opportunity Date"]) == {""}


def test_counts_are_non_negative_integers(export):
    for column in (
        "Number of Sessions",
        "Number of Pageviews",
        "Average Pageviews",
        "Marketing emails delivered",
        "Marketing emails opened",
        "Marketing emails clicked",
    ):
        filled = export[column][export[column] != ""]
        assert filled.str.fullmatch(r"\d+").all(), column


def test_emails_look_real_and_reach_no_other_file(export_dir: Path, history):
    emails = history["Email"]
    assert emails.str.fullmatch(r"[a-z0-9._]+@([a-z]+\.)*example\.(com|org|net)").all()
    for name in ("hubspot_export.csv", "truth.csv"):
        text = (export_dir / name).read_text()
        assert "@" not in text
        assert not any(email in text for email in emails.sample(200, random_state=0))


# --- consistency a real export has ------------------------------------------------------------


def test_page_slots_fill_from_current_and_never_exceed_sessions(export, history):
    filled = np.column_stack([(history[s] != "").to_numpy() for s in SLOTS])
    # Slots fill from the current value backwards: no gap before an older page.
    assert (np.diff(filled.astype(int), axis=1) <= 0).all()
    sessions = history["Contact ID"].map(export.set_index("Contact ID")["Number of Sessions"]).astype(int)
    assert (filled.sum(axis=1) <= sessions.to_numpy()).all()
    dated = np.column_stack([(history[d] != "").to_numpy() for d in SLOT_DATES])
    assert (dated == filled[:, :3]).all()


def test_last_page_seen_is_the_current_value_and_first_page_seen_is_plausible(export, history):
    merged = history.merge(export, on="Contact ID")
    current = merged["Last Page Seen Current Value"] != ""
    assert (
        merged.loc[current, "Last Page Seen"] == merged.loc[current, "Last Page Seen Current Value"]
    ).all()
    sessions = export["Number of Sessions"].astype(int)
    assert ((export["Last Page Seen"] != "") == (sessions > 0)).all()
    assert (export.loc[sessions == 0, "First Page Seen"] == "").all()
    # With at most four sessions the first page seen is the oldest recorded page.
    pages = np.column_stack([merged[s].to_numpy(object) for s in SLOTS])
    count = (pages != "").sum(axis=1)
    oldest = pages[np.arange(len(pages)), np.maximum(count - 1, 0)]
    short = (count > 0) & (merged["Number of Sessions"].astype(int) <= 4) & (merged["First Page Seen"] != "")
    assert short.sum() > 100
    assert (merged.loc[short, "First Page Seen"] == oldest[short]).all()


def test_change_dates_strictly_decrease_from_current(history):
    stamps = [_stamp(history[d], "%Y-%m-%d %H:%M") for d in SLOT_DATES]
    for newer, older in ((0, 1), (1, 2)):
        both = stamps[newer].notna() & stamps[older].notna()
        assert both.sum() > 100
        assert (stamps[newer][both] > stamps[older][both]).all()


def test_email_counts_and_dates_are_ordered(export):
    delivered = _num(export["Marketing emails delivered"])
    opened = _num(export["Marketing emails opened"])
    clicked = _num(export["Marketing emails clicked"])
    assert ((clicked <= opened) & (opened <= delivered)).all()
    assert delivered.max() <= 119
    for kind, count in (("send", delivered), ("open", opened), ("click", clicked)):
        first = _stamp(export[f"First marketing email {kind} date"], "%Y-%m-%d %H:%M:%S")
        last = _stamp(export[f"Last marketing email {kind} date"], "%Y-%m-%d %H:%M:%S")
        assert ((count > 0) == first.notna()).all() and (first.notna() == last.notna()).all()
        assert (first[first.notna()] <= last[first.notna()]).all()
    send = _stamp(export["First marketing email send date"], "%Y-%m-%d %H:%M:%S")
    first_open = _stamp(export["First marketing email open date"], "%Y-%m-%d %H:%M:%S")
    both = send.notna() & first_open.notna()
    assert (send[both] <= first_open[both]).all()
    assert ((export["Last marketing email name"] != "") == (delivered > 0)).all()


def test_dates_lie_in_the_export_window_and_the_bulk_import_is_there(export):
    for column in EXPORT_DATE_COLUMNS:
        stamps = _stamp(export[column], "%Y-%m-%d %H:%M:%S").dropna()
        assert (stamps >= "2019-01-01").all() and (stamps < "2021-01-05").all(), column
    conversion = _stamp(export["First Conversion Date"], "%Y-%m-%d %H:%M:%S").dropna()
    assert conversion.min() >= pd.Timestamp("2019-08-07") and conversion.max() < pd.Timestamp("2021-01-05")
    subscriber = _stamp(export["Became a Subscriber Date"], "%Y-%m-%d %H:%M:%S")
    bulk = (subscriber.dt.normalize() == pd.Timestamp("2019-07-19")).sum()
    assert _near(bulk, 177_259, 0.05)
    assert _near(subscriber.notna().sum(), 230_453, 0.05)
    lead = (export["Became a Lead Date"] != "").sum()
    assert _near(lead, 89_826, 0.05)
    assert _near((export["First Conversion Date"] != "").sum(), 89_822, 0.05)


# --- marginals close to the spec --------------------------------------------------------------


def test_history_rows_and_slot_fills_match_the_spec(history):
    assert _near(len(history), 325_025, 0.02)
    fills = [(history[s] != "").sum() for s in SLOTS]
    # Tolerances: current 5%, the older slots 25% (consistency with sessions shapes them, see report).
    assert _near(fills[0], 90_533, 0.05)
    for fill, spec in zip(fills[1:], (37_642, 24_318, 16_463), strict=True):
        assert _near(fill, spec, 0.25)
    assert fills[0] > fills[1] > fills[2] > fills[3]


def test_sessions_and_pageviews_distributions(export):
    sessions = export["Number of Sessions"].astype(int)
    pageviews = export["Number of Pageviews"].astype(int)
    average = export["Average Pageviews"].astype(int)
    assert abs((sessions == 0).mean() - 234_654 / 336_955) < 0.02
    assert abs((pageviews == 0).mean() - 247_986 / 336_955) < 0.02
    assert abs((average == 0).mean() - 249_658 / 336_955) < 0.02
    assert _near((sessions == 1).sum(), 63_303, 0.25)
    assert _near((pageviews == 1).sum(), 27_709, 0.25)
    assert (sessions.value_counts().sort_index().index[:5] == [0, 1, 2, 3, 4]).all()
    assert _near((export["Last Page Seen"] != "").sum(), 102_304, 0.06)
    assert _near((export["First Page Seen"] != "").sum(), 100_695, 0.06)


def test_countries_emails_events_and_profile_fields(export):
    country = export["IP Country"][export["IP Country"] != ""]
    assert _near(len(country), catalog.SPEC_COUNTRY_NON_NULL, 0.04)
    top = country.value_counts()
    assert top.index[0] == "united states" and top.index[1] == "india"
    assert set(top.index[:4]) == {"united states", "india", "germany", "united kingdom"}
    assert _near(top["united states"], 66_838, 0.10) and _near(top["india"], 29_260, 0.15)
    names = export["Last marketing email name"][export["Last marketing email name"] != ""].value_counts()
    assert names.index[0] == "2020.12.30 Newsletter" and _near(names.iloc[0], 185_105, 0.10)
    assert _near(names.sum(), 321_386, 0.03)
    events = export["Last Registered Event"][export["Last Registered Event"] != ""].value_counts()
    assert events.index[0] == "GANs for Good" and _near(events.iloc[0], 22_760, 0.15)
    assert _near(events.sum(), 65_136, 0.15)
    assert _near((export["Job Title or Function"] != "").sum(), 33_122, 0.15)
    assert _near((export["Associated Company ID"] != "").sum(), 60_123, 0.15)
    assert export["Job Title or Function"].nunique() - 1 == 20
    assert _near((export["Marketing emails delivered"] != "").sum(), 320_205, 0.03)
    assert _near((export["Marketing emails opened"] != "").sum(), 298_070, 0.05)
    assert _near((export["Marketing emails clicked"] != "").sum(), 140_700, 0.10)
    clicked = export["Marketing emails clicked"]
    assert _near((clicked == "1").sum(), 70_162, 0.10)
    delivered = export["Marketing emails delivered"][export["Marketing emails delivered"] != ""].astype(int)
    assert 82 <= delivered.mode().iloc[0] <= 88


def test_buyers_and_courses(export):
    courses = export["Which of the following online courses have you taken from deeplearning.ai?"]
    assert _near((courses != "").sum(), catalog.SPEC_BUYERS, 0.12)
    per_course = {name: courses.str.contains(name, regex=False).sum() for name, _ in catalog.COURSES}
    ranked = sorted(per_course, key=per_course.get, reverse=True)
    assert ranked[:2] == ["Deep Learning Specialization", "AI For Everyone"]
    assert _near(per_course["Deep Learning Specialization"], 10_209, 0.15)
    assert _near(per_course["AI For Everyone"], 2_955, 0.25)
    small = sum(per_course[name] for name, _ in catalog.COURSES[2:])
    assert small < 0.05 * (courses != "").sum()


def test_current_page_shares_follow_the_spec_ordering(history):
    current = url_templates.page_type_of(
        history["Last Page Seen Current Value"].replace("", None).dropna().to_numpy(object)
    )
    shares = pd.Series(
        np.bincount(current, minlength=len(catalog.PAGE_TYPES)) / len(current), catalog.PAGE_TYPES
    )
    assert shares.idxmax() == "yearning" and 0.25 <= shares["yearning"] <= 0.40
    assert set(shares.nlargest(6).index) >= {"yearning", "specialization", "course", "home"}
    assert (current >= 0).all()


# --- purchase times and post-purchase browsing ------------------------------------------------


def _history_with_dates(export, history, truth) -> pd.DataFrame:
    merged = history.merge(export, on="Contact ID").merge(
        truth.assign(**{"Contact ID": truth["contact_id"].astype(str)}), on="Contact ID")
    return merged


def test_every_buyer_has_a_purchase_time_after_its_first_conversion(export, truth):
    merged = export.merge(truth.assign(**{"Contact ID": truth["contact_id"].astype(str)}), on="Contact ID")
    bought = pd.to_datetime(merged["purchased_at"], format="%Y-%m-%d %H:%M:%S")
    assert (bought.notna() == merged["is_buyer"]).all()
    converted = _stamp(merged["First Conversion Date"], "%Y-%m-%d %H:%M:%S")
    buyers = merged["is_buyer"].to_numpy()
    assert converted[buyers].notna().all()
    assert (converted[buyers] <= bought[buyers]).all()
    assert (bought[buyers] < pd.Timestamp("2021-01-05")).all()


def test_truth_is_a_function_of_the_pages_seen_before_the_first_conversion(export, history, truth):
    """Recompute the planted probability from the export alone, keeping the recorded pages dated before the
    First Conversion Date (the undated oldest slot always precedes it): it must equal truth.csv's."""
    merged = _history_with_dates(export, history, truth)
    converted = _stamp(merged["First Conversion Date"], "%Y-%m-%d %H:%M:%S")
    newest_first = np.column_stack([url_templates.page_type_of(merged[s].replace("", None).to_numpy(object))
                                    for s in SLOTS])
    dated = np.column_stack([_stamp(merged[d], "%Y-%m-%d %H:%M") for d in SLOT_DATES]
                            + [np.full(len(merged), np.datetime64("NaT"), dtype="datetime64[ns]")])
    before = (dated < converted.to_numpy()[:, None]) | converted.isna().to_numpy()[:, None]
    before[:, 3] = True
    kept = np.where(before, newest_first, -1)
    # chronological, left-aligned: drop the cut newest slots, then reverse
    order = np.argsort(np.where(kept >= 0, -np.arange(4)[None, :], 9), axis=1, kind="stable")
    chronological = np.take_along_axis(kept, order, axis=1)
    chronological = np.where(np.take_along_axis(kept >= 0, order, axis=1), chronological, -1)
    segment = merged["segment"].map({name: i for i, name in enumerate(SEGMENT_NAMES)}).to_numpy()
    codes = {code: i for i, code in enumerate(catalog.COUNTRY_CODES)}
    country = merged["IP Country Code"].map(codes).fillna(-1).astype(int).to_numpy()
    probability = buying.buy_probability(segment, country, merged["Number of Sessions"].astype(int).to_numpy(),
                                         chronological)
    np.testing.assert_allclose(probability, merged["buy_probability"].to_numpy(), atol=2e-6)
    # planted, not vacuous: the pages after the conversion would change truth for many contacts
    everything = np.take_along_axis(newest_first, order, axis=1)
    every = buying.buy_probability(segment, country, merged["Number of Sessions"].astype(int).to_numpy(),
                                   np.where(np.take_along_axis(newest_first >= 0, order, axis=1), everything, -1))
    assert (np.abs(every - merged["buy_probability"].to_numpy()) > 1e-3).mean() > 0.05


def test_buyers_browse_courses_and_forums_after_buying(export, history, truth):
    merged = _history_with_dates(export, history, truth)
    converted = _stamp(merged["First Conversion Date"], "%Y-%m-%d %H:%M:%S").to_numpy()
    dated = np.column_stack([_stamp(merged[d], "%Y-%m-%d %H:%M") for d in SLOT_DATES])
    after = dated > converted[:, None]
    has_conversion = ~np.isnat(converted)
    buyers = merged["is_buyer"].to_numpy()
    # leads (converted before any purchase) with two pages or more: buyers and others browse after converting
    # at the same planted rate (buyers a little less: more pages before converting raise the buy probability)
    two_pages = (merged[SLOTS[1]] != "").to_numpy()
    leads = has_conversion & (merged["Became a Lead Date"] != "").to_numpy() & two_pages
    share_buyers, share_others = after[leads & buyers].any(axis=1).mean(), after[leads & ~buyers].any(axis=1).mean()
    assert 0.3 < share_buyers < share_others < 0.6
    newest = url_templates.page_type_of(merged["Last Page Seen Current Value"].replace("", None).to_numpy(object))
    post_buyer = newest[after[:, 0] & buyers]
    post_other = newest[after[:, 0] & ~buyers]
    course_like = [catalog.PAGE[t] for t in ("course", "forum", "specialization")]
    assert np.isin(post_buyer, course_like).mean() > 0.6 > np.isin(post_other, course_like).mean() + 0.2
    # buyers bought between their conversion and their first later page view
    bought = pd.to_datetime(merged["purchased_at"], format="%Y-%m-%d %H:%M:%S").to_numpy()
    later = np.where(after, dated, np.datetime64("2262-01-01"))
    assert (bought[buyers & after.any(axis=1)] < later[buyers & after.any(axis=1)].min(axis=1)).all()


# --- URLs -------------------------------------------------------------------------------------


def test_urls_use_the_spec_hosts_and_variants(history):
    pages = pd.concat([history[s] for s in SLOTS])
    pages = pages[pages != ""]
    hosts = pages.str.extract(r"^https?://([^/?#]+)")[0].str.lower()
    assert set(hosts) == SPEC_HOSTS
    share = {
        "tracked": pages.str.contains(r"[?&](?:utm_|_hsmi|hsCtaTracking|hsLang)").mean(),
        "translate": pages.str.contains("translate.googleusercontent.com/translate_c?", regex=False).mean(),
        "mixed_case": pages.str.replace(r"[?#].*$", "", regex=True).str.contains("[A-Z]").mean(),
        "no_trailing_slash": pages.str.fullmatch(r"https?://[^?#]+/[^/?#]+").mean(),
    }
    assert 0.2 < share["tracked"] < 0.4
    assert 0.003 < share["translate"] < 0.02
    assert 0.01 < share["mixed_case"] < 0.1
    assert share["no_trailing_slash"] > 0.05
    proxied = pages[pages.str.contains("translate_c?", regex=False)]
    assert proxied.str.contains("&u=http", regex=False).all()


def test_every_template_renders_back_to_its_page_type():
    rng = np.random.default_rng(3)
    page_type = np.repeat(np.arange(len(catalog.PAGE_TYPES)), 400)
    rendered = url_templates.render_urls(rng, page_type)
    assert (url_templates.page_type_of(rendered) == page_type).all()
    assert (url_templates.page_type_of(np.array(["https://example.org/x", None], dtype=object)) == -1).all()


# --- determinism ------------------------------------------------------------------------------


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.csv"))}


def test_same_seed_same_bytes_different_seed_different_files(tmp_path: Path):
    first = write_export(tmp_path / "a", n_contacts=4_000, seed=5, dirt=True, chunk_contacts=1_500, page_events=True)
    second = write_export(tmp_path / "b", n_contacts=4_000, seed=5, dirt=True, chunk_contacts=1_500, page_events=True)
    other = write_export(tmp_path / "c", n_contacts=4_000, seed=6, dirt=True, chunk_contacts=1_500, page_events=True)
    assert first == second
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert len(_digest(tmp_path / "a")) == 4
    differing = {k for k, v in _digest(tmp_path / "a").items() if _digest(tmp_path / "c")[k] != v}
    assert differing == {"hubspot_export.csv", "pageview_hist.csv", "truth.csv", "page_events.csv"}
    assert other["contacts"] == first["contacts"]


def test_chunks_continue_the_ids_and_the_first_chunk_is_the_smaller_export(tmp_path: Path):
    chunked = write_export(tmp_path / "chunked", n_contacts=5_000, seed=5, dirt=True, chunk_contacts=2_000,
                           page_events=True)
    small = write_export(tmp_path / "small", n_contacts=2_000, seed=5, dirt=True, page_events=True)
    truth = pd.read_csv(tmp_path / "chunked" / "truth.csv")
    assert len(truth) == chunked["contacts"] == 5_000
    assert truth["contact_id"].is_monotonic_increasing and truth["contact_id"].is_unique
    for name in ("hubspot_export.csv", "pageview_hist.csv", "truth.csv", "page_events.csv"):
        assert (tmp_path / "chunked" / name).read_bytes().startswith((tmp_path / "small" / name).read_bytes())
    # Each chunk is a fresh draw (seeded by its index), not a copy of the first one.
    assert not np.array_equal(truth["segment"][:2_000], truth["segment"][2_000:4_000])
    assert chunked["export_rows"] > small["export_rows"] * 2


def test_rejects_an_empty_population(tmp_path: Path):
    with pytest.raises(ValueError, match="n_contacts"):
        write_export(tmp_path, n_contacts=0)
    with pytest.raises(ValueError, match="chunk_contacts"):
        write_export(tmp_path, n_contacts=10, chunk_contacts=0)


# --- page_events.csv ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def events(export_dir: Path) -> pd.DataFrame:
    return _read(export_dir / "page_events.csv")


def test_the_last_four_page_views_of_each_stream_are_its_history(events, history):
    views = events[events["url"] != ""]
    at = views["occurred_at"].str[:16]  # the history's minute precision
    assert (views["occurred_at"].str[16:] == ":00").all() and events["occurred_at"].str.match(EXPORT_STAMP).all()
    latest = views.assign(at=at).groupby("contact_id").tail(4).groupby("contact_id")
    recorded = history[history[SLOTS[0]] != ""].set_index("Contact ID")
    urls_newest_first = latest["url"].agg(lambda u: list(u)[::-1])
    times_newest_first = latest["at"].agg(lambda t: list(t)[::-1])
    checked = 0
    for contact, row in recorded.iterrows():
        slots = [row[s] for s in SLOTS if row[s] != ""]
        assert urls_newest_first[contact][: len(slots)] == slots, contact
        dates = [row[d] for d in SLOT_DATES[: len(slots)] if row[d] != ""]
        assert times_newest_first[contact][: len(dates)] == dates, contact
        checked += 1
    assert checked == len(recorded) > 1_000


def test_streams_match_the_exports_counts_dates_and_buyers(events, export, truth):
    by_contact = export.set_index("Contact ID")
    views = events[events["url"] != ""].groupby("contact_id").size()
    pageviews = _num(by_contact["Number of Pageviews"])
    assert (views <= pageviews.reindex(views.index).clip(lower=4)).all()
    assert (views >= pageviews.reindex(views.index).clip(upper=4)).all()
    assert views.sum() >= 0.9 * pageviews.sum()
    for name, count, first, last in (
        ("email_open", "Marketing emails opened", "First marketing email open date", "Last marketing email open date"),
        ("email_click", "Marketing emails clicked", "First marketing email click date",
         "Last marketing email click date"),
    ):
        kind = events[events["event"] == name].groupby("contact_id")["occurred_at"]
        expected = _num(by_contact[count])
        assert kind.size().reindex(expected.index, fill_value=0).equals(expected), name
        assert (kind.min() == by_contact.loc[kind.min().index, first]).all(), name
        assert (kind.max() == by_contact.loc[kind.max().index, last]).all(), name
    purchases = events[events["event"] == "purchase"].groupby("contact_id").size()
    buyers = set(truth.loc[truth["is_buyer"], "contact_id"].astype(str))
    assert set(purchases.index) == buyers and (purchases == 1).all()
    ordered = events.assign(key=events["contact_id"].astype(int)).reset_index()
    assert ordered.sort_values(["key", "occurred_at"], kind="stable")["index"].is_monotonic_increasing


def test_no_events_writes_the_same_other_files(tmp_path: Path, export_dir: Path):
    write_export(tmp_path, n_contacts=N, seed=SEED, dirt=False, chunk_contacts=CHUNK, page_events=False)
    assert not (tmp_path / "page_events.csv").exists()
    for name in ("hubspot_export.csv", "pageview_hist.csv", "truth.csv"):
        assert (tmp_path / name).read_bytes() == (export_dir / name).read_bytes(), name


# --- appended days ----------------------------------------------------------------------------------


def test_appended_days_add_events_of_existing_contacts_after_the_file(tmp_path: Path, export_dir: Path):
    """`journeys synth --append-days`: the file's bytes stay its first bytes; each day's rows are that day's events
    (some of them late, from the evening before) of contacts the file already holds, in arrival order, and the
    same file, seed and days give the same rows."""
    from journeys.synth import append_days
    from journeys.synth.appended_days import LATE_HOURS

    before = (export_dir / "page_events.csv").read_bytes()
    copies, blocks = [], []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for file in ("page_events.csv", "truth.csv"):
            (tmp_path / name / file).write_bytes((export_dir / file).read_bytes())
        blocks = [append_days(tmp_path / name, days=1, seed=3) for _ in range(3)]
        copies.append((tmp_path / name / "page_events.csv").read_bytes())
    assert copies[0] == copies[1] and copies[0].startswith(before)
    old = _read(export_dir / "page_events.csv")
    new = _read(tmp_path / "a" / "page_events.csv").iloc[len(old):]
    assert set(new["contact_id"]) <= set(old["contact_id"])
    day = pd.to_datetime(old["occurred_at"]).max().normalize()
    late_rows = 0
    for block in blocks:
        rows, new = new.iloc[: block["rows"]], new.iloc[block["rows"]:]
        day += pd.Timedelta(days=1)
        at = pd.to_datetime(rows["occurred_at"])
        assert block["days"] == [str(day.date())] and len(rows) == block["rows"] > N * 0.01
        assert ((at >= day - pd.Timedelta(hours=LATE_HOURS)) & (at < day + pd.Timedelta(days=1))).all()
        late_rows += int((at < day).sum())
        counts = rows["event"].replace("", "page_view").value_counts()
        assert {k: int(counts.get(k, 0)) for k in block["events"]} == block["events"]
        assert counts["email_open"] > counts["page_view"] > 0
        arrival = list(zip(at, rows["contact_id"].astype(int), strict=True))
        assert arrival == sorted(arrival)
    assert 0 < late_rows < 0.3 * sum(b["events"]["page_view"] + b["events"]["purchase"] for b in blocks)
