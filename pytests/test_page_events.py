"""The optional page_events source on a small synthetic export: staged or quarantined with reasons, read with
or without its optional columns, sessionised by the inactivity gap, and turned into the models' sequences
with the conversion cut. Expectations are computed with pandas from the file the test writes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT_VARS, Warehouse, dbt_env, run_dbt

EVENTS_CONTACTS = 3_000
EVENTS_SEED = 5
SELECT = ["+sessions", "+category_transitions", "+step_matrix", "+path_dropoff", "+top_paths",
          "+contact_features", "+contact_journeys", "+quarantined_rows", "assert_raw_records_staged_or_quarantined"]
# Planted records no rule can stage, with the reason each must get (appended after the good events).
BAD_RECORDS = [
    ("someone@example.com", "2020-05-01 10:00:00", "https://www.deeplearning.ai/", "", "email_as_user_key"),
    ("77", "", "https://www.deeplearning.ai/", "", "missing_occurred_at"),
    ("77", "yesterday", "https://www.deeplearning.ai/", "", "occurred_at_not_a_timestamp"),
    ("77", "1900-01-01 00:00:00", "https://www.deeplearning.ai/", "", "occurred_at_out_of_window"),
    ("77", "2020-05-01 10:00:00", "", "", "missing_url_and_event"),
    # a blank key: the header is the staged name itself (contact_id), and the trimmed copy must win
    ("   ", "2020-05-01 10:00:00", "https://www.deeplearning.ai/", "", "missing_contact_id"),
]


OFF_SITE = ["email_open", "email_click"]  # dbt var journeys_off_site_categories' default


def event_stream(raw_dir, seed: int) -> pd.DataFrame:
    """Each contact's 4-slot pages plus earlier views of the same pages, a purchase for buyers at a random
    time among their views (so the cut has something to cut), and e-mail opens and clicks within an hour of
    half the views (off-site: they must change no session, path or sequence)."""
    rng = np.random.default_rng(seed)
    history = pd.read_csv(raw_dir / "pageview_hist.csv", dtype=str)
    slots = [("Last Page Seen Current Value", "Last Page Seen Change Date"),
             ("Last Page Seen Previous Value (1)", "Last Page Seen Change Date (1)"),
             ("Last Page Seen Previous Value (2)", "Last Page Seen Change Date (2)")]
    views = pd.concat([
        history[["Contact ID", url, date]].set_axis(["contact_id", "url", "occurred_at"], axis=1) for url, date in slots
    ]).dropna()
    views = views[pd.to_datetime(views["occurred_at"], errors="coerce").notna()]
    views = views[views["contact_id"].str.fullmatch(r"\d+")]
    earlier = views.sample(frac=3, replace=True, random_state=seed)
    earlier["occurred_at"] = (pd.to_datetime(earlier["occurred_at"])
                              - pd.to_timedelta(rng.integers(1, 20_000, len(earlier)), unit="min"))
    views["occurred_at"] = pd.to_datetime(views["occurred_at"])
    views = pd.concat([views, earlier]).assign(event="")
    truth = pd.read_csv(raw_dir / "truth.csv", dtype={"contact_id": str})
    buyers = views[views["contact_id"].isin(truth.loc[truth["is_buyer"], "contact_id"])]
    purchases = buyers.groupby("contact_id").sample(1, random_state=seed).assign(url="", event="purchase")
    purchases["occurred_at"] += pd.Timedelta(seconds=30)
    emails = views.sample(frac=0.5, random_state=seed).assign(url="", event=lambda e: rng.choice(OFF_SITE, len(e)))
    emails["occurred_at"] += pd.to_timedelta(rng.integers(-60, 61, len(emails)), unit="min")
    stream = pd.concat([views, purchases, emails]).sample(frac=1, random_state=seed).reset_index(drop=True)
    stream["occurred_at"] = stream["occurred_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return stream[["contact_id", "occurred_at", "url", "event"]]


@pytest.fixture(scope="module")
def events_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, pd.DataFrame]:
    from journeys.synth import write_export

    base = tmp_path_factory.mktemp("page_events")
    raw_dir = base / "raw"
    write_export(raw_dir, n_contacts=EVENTS_CONTACTS, seed=EVENTS_SEED, dirt=False)
    stream = event_stream(raw_dir, EVENTS_SEED)
    bad = pd.DataFrame([r[:4] for r in BAD_RECORDS], columns=stream.columns)
    stream_with_bad = pd.concat([stream, bad], ignore_index=True)
    text = stream_with_bad.to_csv(index=False, lineterminator="\n")
    (raw_dir / "page_events.csv").write_text(text + "88,2020-05-01 10:00:00\n")  # too few fields
    result = run_dbt(["build", "-s", *SELECT, "--indirect-selection", "cautious"],
                     dbt_env(raw_dir, base / "journeys.duckdb", base / "artifacts"))
    log = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"dbt build failed with page_events.csv:\n{log[-8000:]}")
    return Warehouse(raw_dir, base / "journeys.duckdb", base / "artifacts", log), stream


def test_bad_event_records_are_quarantined_with_their_reason(events_build) -> None:
    built, stream = events_build
    quarantined = built.query("select record_number, line_number, contact_id, quarantine_reason "
                              "from quarantined_rows where source_file = 'page_events.csv' order by record_number")
    first_bad = len(stream) + 1
    expected = [reason for *_, reason in BAD_RECORDS] + ["wrong_field_count"]
    assert quarantined["quarantine_reason"].tolist() == expected
    assert quarantined["record_number"].tolist() == list(range(first_bad, first_bad + len(expected)))
    assert quarantined["line_number"].tolist() == [r + 1 for r in quarantined["record_number"]]
    assert quarantined["contact_id"].iloc[0] == "redacted-email", "an e-mail key never leaves the base layer"
    staged = built.query("select count(*) from stg_hubspot__page_events").iloc[0, 0]
    assert staged == len(stream)


def on_site(stream: pd.DataFrame) -> pd.DataFrame:
    return stream[~stream["event"].isin(OFF_SITE)]


def test_off_site_events_are_staged_but_join_no_session(events_build) -> None:
    built, stream = events_build
    flags = built.query("select event_name, category, is_on_site, count(*) as n from int_page_events_categorized "
                        "group by all")
    off = flags[~flags["is_on_site"]]
    assert set(off["category"]) == set(OFF_SITE)
    assert off["n"].sum() == stream["event"].isin(OFF_SITE).sum() > 0
    in_sessions = built.query("select distinct category from int_page_events_sessionized")["category"]
    assert not set(in_sessions) & set(OFF_SITE)


def test_sessions_split_at_the_inactivity_gap(events_build) -> None:
    built, stream = events_build
    stream = on_site(stream)
    times = stream.assign(at=pd.to_datetime(stream["occurred_at"])).sort_values(["contact_id", "at"])
    gap = times.groupby("contact_id")["at"].diff() > pd.Timedelta(minutes=30)
    first = times["contact_id"] != times["contact_id"].shift()
    sessions = built.query("select * from sessions")
    assert len(sessions) == int((gap | first).sum())
    assert sessions["source_session_id"].isna().all()
    assert sessions["event_count"].sum() == len(stream)
    dropoff = built.query("select * from path_dropoff order by step")
    assert dropoff["sessions_reaching"].iloc[0] == len(sessions)
    assert (dropoff["sessions_reaching"].diff().dropna() <= 0).all()


def test_sequences_come_from_events_and_stop_before_the_first_purchase(events_build) -> None:
    built, stream = events_build
    email_codes = set(built.query("select category_code from url_category_codes where category in "
                                  "('email_open', 'email_click')")["category_code"])
    features = built.query("select contact_id, page_count, category_codes, is_converted, is_buyer "
                           "from contact_features where has_page_history")
    purchase_code = built.query("select category_code from url_category_codes where category = 'purchase'").iloc[0, 0]
    assert features["page_count"].max() > 4, "event sequences are longer than the 4-slot history"
    assert not features["category_codes"].map(lambda codes: purchase_code in list(codes)).any()
    assert not features["category_codes"].map(lambda codes: bool(email_codes & set(codes))).any()
    at = pd.to_datetime(stream["occurred_at"])
    first_purchase = at[stream["event"] == "purchase"].groupby(stream["contact_id"]).min()
    purchase_at = stream["contact_id"].map(first_purchase)
    cut = purchase_at.isna() | (at < purchase_at)
    # and the default journeys_propensity_cutoff (first_conversion): only events before the First Conversion Date
    conversions = built.query("select contact_id, first_conversion_at from stg_hubspot__contacts")
    first_conversion = pd.to_datetime(
        stream["contact_id"].astype(int).map(conversions.set_index("contact_id")["first_conversion_at"])
    )
    cut &= first_conversion.isna() | (at < first_conversion)
    cut &= ~stream["event"].isin(OFF_SITE)
    expected = stream[cut].groupby(stream["contact_id"].astype(int)).size().clip(upper=PROJECT_VARS["journeys_max_sequence_length"])
    got = features.set_index("contact_id")["page_count"]
    assert got.sort_index().equals(expected.sort_index().rename("page_count").astype(got.dtype))
    converted = features.set_index("contact_id")["is_converted"]
    assert set(converted.index[converted]) == set(first_purchase.index.astype(int)) & set(expected.index)


def test_contact_journeys_are_the_event_journeys_with_the_conversion_marked(events_build) -> None:
    """The readable journey comes from the events the models read: the most recent max_sequence_length on-site
    events, the first purchase at conversion_position, and the input the part contact_features holds."""
    built, _ = events_build
    journeys = built.query("select * from contact_journeys").set_index("contact_id")
    events = built.query("select contact_id, category, occurred_at, is_target_event from int_page_events_categorized "
                         "where contact_id is not null and is_on_site order by contact_id, occurred_at, record_number")
    longest = PROJECT_VARS["journeys_max_sequence_length"]
    assert (journeys["sequence_source"] == "page_events").all()
    assert journeys["page_count"].max() > 4, "journeys longer than the 4-slot history"
    assert sorted(journeys.index) == sorted(events["contact_id"].unique())
    converted_at = events[events["is_target_event"]].groupby("contact_id")["occurred_at"].min()
    marked = 0
    for contact, group in events.groupby("contact_id"):
        shown = group.tail(longest)
        row = journeys.loc[contact]
        assert row["journey"] == " > ".join(shown["category"]) and row["total_page_count"] == len(group)
        after = np.flatnonzero(shown["occurred_at"].to_numpy() >= converted_at.get(contact, pd.Timestamp.max))
        expected = after[0] + 1 if len(after) else None
        assert (pd.isna(row["conversion_position"]) and expected is None) or row["conversion_position"] == expected
        if expected is not None and shown["is_target_event"].iloc[expected - 1]:
            marked += 1
            assert row["journey"].split(" > ")[expected - 1] == "purchase"
    assert marked > 50, "purchases are marked in the journeys"
    features = built.query("select contact_id, page_count from contact_features").set_index("contact_id")["page_count"]
    assert (journeys["input_page_count"] == features.reindex(journeys.index).fillna(0)).all()
    whole = journeys[(journeys["total_page_count"] <= longest) & journeys["conversion_position"].notna()]
    assert len(whole) > 50 and (whole["input_page_count"] <= whole["conversion_position"] - 1).all(), (
        "the models read only pages before the conversion")
