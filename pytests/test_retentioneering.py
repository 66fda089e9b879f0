"""A real event log through the page_events source: Retentioneering's e-commerce demo data
(../shared/datasets/retentioneering_ecom.csv.gz, 600 users, 31,106 events, 3,605 sessions) converted to the
page_events shape (no url column: events only), categorised by a seed of its own, built end to end.

Sessions follow the source's session_id; transitions, the step matrix and the purchase cut are checked
against pandas computed straight from the file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT_VARS, ROOT, SHARED_DATASETS, Warehouse, dbt_env

from journeys.synth.writer import EXPORT_COLUMNS, HISTORY_COLUMNS

DATASET = SHARED_DATASETS / "retentioneering_ecom.csv.gz"
# The test's seed: the shop's 19 event names in 8 categories; `purchase` is the conversion. Every event is
# on-site, and the seed has no e-mail categories: journeys_off_site_categories is empty.
EVENT_CATEGORIES = {
    "home": "browse", "catalog": "browse", "search": "browse", "filter_results": "browse",
    "promo_page": "browse", "compare": "browse", "review_page": "browse",
    "product_view": "product", "wishlist_add": "product",
    "add_to_cart": "cart", "cart": "cart",
    "shipping_details": "checkout", "payment_details": "checkout",
    "purchase": "purchase",
    "account_page": "account", "support_chat": "support",
    "error_page": "error", "payment_error": "error", "checkout_bug": "error",
}
CATEGORY_CODES = ["browse", "product", "cart", "checkout", "purchase", "account", "support", "error", "other"]
VARS = ("{journeys_reference_date: '2024-07-01', journeys_propensity_target_event: purchase, journeys_off_site_categories: [], "
        "journeys_propensity: {search: [], epochs: 10}}")


def contact_id(user_id: pd.Series) -> pd.Series:
    """user_0000 -> Contact ID 1."""
    return user_id.str.removeprefix("user_").astype(int) + 1


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    frame = pd.read_csv(DATASET)
    frame["contact_id"] = contact_id(frame["user_id"])
    frame["category"] = frame["event"].map(EVENT_CATEGORIES)
    # the build's order: time, then the record's place in the file
    return frame.reset_index(names="record").sort_values(["contact_id", "timestamp", "record"], kind="stable")


def copy_project(project: Path) -> None:
    """The project with the test's seed in place of the site's URL categories."""
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml", "models", "python_models", "macros", "seeds", "tests",
                 "selectors.yml"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, project / name, symlinks=True)
        else:
            shutil.copy(ROOT / name, project / name)
    rules = pd.DataFrame({"rule_id": [f"event_{name}" for name in EVENT_CATEGORIES],
                          "priority": range(1, len(EVENT_CATEGORIES) + 1), "match_type": "event",
                          "pattern": list(EVENT_CATEGORIES), "category": list(EVENT_CATEGORIES.values())})
    rules.to_csv(project / "seeds" / "url_categories.csv", index=False)
    pd.DataFrame({"category": CATEGORY_CODES, "category_code": range(1, len(CATEGORY_CODES) + 1),
                  "is_conversion": [c == "purchase" for c in CATEGORY_CODES]}).to_csv(
        project / "seeds" / "url_category_codes.csv", index=False)


def write_raw(raw: Path, events: pd.DataFrame) -> None:
    """One contact per user (Contact ID only), no 4-slot history, and the events as page_events.csv."""
    raw.mkdir()
    contacts = pd.DataFrame({name: "" for name in EXPORT_COLUMNS}, index=range(events["contact_id"].nunique()))
    contacts["Contact ID"] = np.sort(events["contact_id"].unique())
    contacts.to_csv(raw / "hubspot_export.csv", index=False)
    pd.DataFrame(columns=list(HISTORY_COLUMNS)).to_csv(raw / "pageview_hist.csv", index=False)
    events.sort_values("record").rename(columns={"timestamp": "occurred_at"})[
        ["contact_id", "session_id", "event", "occurred_at"]
    ].to_csv(raw / "page_events.csv", index=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, events: pd.DataFrame) -> Warehouse:
    base = tmp_path_factory.mktemp("retentioneering")
    project = base / "project"
    copy_project(project)
    write_raw(base / "raw", events)
    env = dbt_env(base / "raw", base / "journeys.duckdb", base / "artifacts")
    env["DBT_PROFILES_DIR"] = str(project)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "build", "--vars", VARS],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )
    log = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"dbt build failed on the Retentioneering events:\n{log[-8000:]}")
    return Warehouse(base / "raw", base / "journeys.duckdb", base / "artifacts", log)


def test_every_event_is_staged_and_categorised(built: Warehouse, events: pd.DataFrame) -> None:
    staged = built.query("select event_name, category, count(*) as n from int_page_events_categorized "
                         "group by all order by event_name")
    assert staged["n"].sum() == len(events) == 31_106
    assert dict(zip(staged["event_name"], staged["category"], strict=True)) == EVENT_CATEGORIES
    assert built.query("select count(*) as n from quarantined_rows").iloc[0, 0] == 0


def test_sessions_follow_the_source_session_id(built: Warehouse, events: pd.DataFrame) -> None:
    sessions = built.query("select * from sessions")
    assert len(sessions) == 3_605
    assert sessions["source_session_id"].notna().all()
    expected = events.groupby("session_id").agg(events=("event", "size"), landing=("category", "first"),
                                                exit=("category", "last"))
    got = sessions.set_index("source_session_id").loc[expected.index]
    assert (got["event_count"].to_numpy() == expected["events"].to_numpy()).all()
    assert (got["landing_category"].to_numpy() == expected["landing"].to_numpy()).all()
    assert (got["exit_category"].to_numpy() == expected["exit"].to_numpy()).all()
    assert got["has_conversion"].sum() == events.loc[events["event"] == "purchase", "session_id"].nunique()


def test_transitions_and_step_matrix_match_the_event_log(built: Warehouse, events: pd.DataFrame) -> None:
    nxt = events.groupby("session_id")["category"].shift(-1)
    expected = (pd.DataFrame({"from_category": events["category"], "to_category": nxt}).dropna()
                .value_counts().rename("transitions").reset_index())
    got = built.query("select * from category_transitions")
    merged = expected.merge(got, on=["from_category", "to_category"], how="outer", validate="1:1")
    assert (merged["transitions_x"] == merged["transitions_y"]).all()
    assert np.allclose(got.groupby("from_category")["probability"].sum(), 1.0)
    checkout = got.set_index(["from_category", "to_category"]).loc[("checkout", "purchase")]
    assert checkout["median_seconds_between"] > 0

    steps = built.query("select * from step_matrix")
    assert np.allclose(steps.groupby("step")["share"].sum(), 1.0)
    first = events.groupby("session_id")["category"].first().value_counts(normalize=True)
    step_one = steps[steps["step"] == 1].set_index("category")["share"]
    assert np.allclose(step_one.reindex(first.index).to_numpy(), first.to_numpy())


def test_propensity_learns_purchases_from_events_before_the_first_one(
    built: Warehouse, events: pd.DataFrame
) -> None:
    features = built.query("select contact_id, categories_before, is_converted, page_count from ("
                           "select f.*, s.categories as categories_before from contact_features f "
                           "join int_contact_sequences_collated s using (contact_id))")
    assert not features["categories_before"].map(lambda c: "purchase" in list(c)).any()
    first_purchase = events[events["event"] == "purchase"].groupby("contact_id")["timestamp"].min()
    before = events["timestamp"] < events["contact_id"].map(first_purchase).fillna("9999")
    expected = events[before].groupby("contact_id").size().clip(upper=PROJECT_VARS["journeys_max_sequence_length"])
    got = features.set_index("contact_id")
    assert (got["page_count"].reindex(expected.index) == expected).all()
    assert set(got.index[got["is_converted"]]) == set(first_purchase.index) & set(expected.index)

    metrics = built.query("select model_name, metric, value from propensity_metrics where split = 'test'")
    auc = metrics[(metrics["model_name"] == "bilstm") & (metrics["metric"] == "roc_auc")]["value"].iloc[0]
    print(f"Retentioneering purchase propensity, BiLSTM test ROC AUC {auc:.3f}")
    assert auc > 0.6, "the events before a first purchase say something about who buys"
    scored = built.query("select count(*) from purchase_propensity").iloc[0, 0]
    assert scored == len(expected)
