"""Planted-signal figures of a synthetic export, for the tests of the generator and the models.

- `bayes_auc`: the ROC AUC that the planted buy probabilities reach on the buyer flag, the
  ceiling a propensity model can approach (overall, or on a subset such as a test split).
- `achievable_ari`: the adjusted Rand index of k-prototypes started at the planted segments' own
  prototypes on contract-style features, the ARI that is possible from those features.
- `observable_baseline`: a gradient-boosting check that the buying signal is visible through what the
  propensity model sees (page-type order, country, counts): its test AUC next to truth's on the same rows.
- `planted_signal`: the figures above in one dict.

Features follow `contact_features` (docs/architecture.md); `features_from_export` builds
the columns used here straight from the raw files, for tests that run without the dbt build. Page
journeys are PAGE_COLUMNS (chronological synth page-type indices, -1 padding) rather than the
contract's `category_codes` lists, because the seed's codes are the SQL layer's choice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from conftest import PROJECT_VARS
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import adjusted_rand_score, roc_auc_score
from sklearn.model_selection import train_test_split

from journeys.contract import ACTIVITY_COLUMNS, DAYS_COLUMNS, FLAG_COLUMNS, TEXT_COLUMNS
from journeys.synth import catalog
from journeys.synth.url_templates import page_type_of

REFERENCE_DATE = pd.Timestamp(PROJECT_VARS["journeys_reference_date"])
BULK_IMPORT_DAY = pd.Timestamp(PROJECT_VARS["journeys_bulk_import_date"])
COUNT_FEATURES = ACTIVITY_COLUMNS
DAYS_FEATURES = DAYS_COLUMNS
CATEGORICAL_FEATURES = ("ip_country", *TEXT_COLUMNS, *FLAG_COLUMNS)
_EXPORT_COUNTS = {
    "Number of Sessions": "num_sessions",
    "Number of Pageviews": "num_pageviews",
    "Average Pageviews": "avg_pageviews",
    "Marketing emails delivered": "emails_delivered",
    "Marketing emails opened": "emails_opened",
    "Marketing emails clicked": "emails_clicked",
}
_EXPORT_DATES = {
    "Became a Lead Date": "days_since_lead",
    "Became a Subscriber Date": "days_since_subscriber",
    "First Conversion Date": "days_since_first_conversion",
    "First marketing email send date": "days_since_first_email_send",
    "First marketing email open date": "days_since_first_email_open",
    "First marketing email click date": "days_since_first_email_click",
    "Last marketing email send date": "days_since_last_email_send",
    "Last marketing email open date": "days_since_last_email_open",
    "Last marketing email click date": "days_since_last_email_click",
    "Last Registered Event Date": "days_since_last_event",
}
_EXPORT_TEXT = {
    "IP Country": "ip_country",
    "IP Country Code": "ip_country_code",
    "Last marketing email name": "last_email_name",
    "Last Registered Event": "last_event",
    "Job Title or Function": "job_title",
    "Highest level of completed education": "education",
}
_EXPORT_FLAGS = {
    "Opted out of email: Events and Community": "opted_out_events",
    "Opted out of email: Program Announcements": "opted_out_announcements",
    "Opted out of email: The Batch": "opted_out_batch",
    "Unsubscribed from all email": "unsubscribed_all",
}
PAGE_COLUMNS: tuple[str, ...] = ("page_type_1", "page_type_2", "page_type_3", "page_type_4")
_HISTORY_NEWEST_FIRST = (
    "Last Page Seen Current Value",
    "Last Page Seen Previous Value (1)",
    "Last Page Seen Previous Value (2)",
    "...",
)


def _read(path: Path) -> pd.DataFrame:
    """Raw file as strings, first row per Contact ID (the export's duplicates are exact copies)."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    ids = pd.to_numeric(table["Contact ID"], errors="coerce")
    table = table[ids.notna()].assign(contact_id=ids[ids.notna()].astype(np.int64))
    return table.drop_duplicates("contact_id").set_index("contact_id")


def features_from_export(raw_dir: Path | str, reference_date: pd.Timestamp = REFERENCE_DATE) -> pd.DataFrame:
    """Contract-named features from hubspot_export.csv and pageview_hist.csv, one row per contact id.

    Invalid counts (non-numeric, negative) and timestamps become NaN, unknown text stays as written; the
    SQL layer is stricter, this is only what the evaluation needs.
    """
    raw_dir = Path(raw_dir)
    export = _read(raw_dir / "hubspot_export.csv")
    out = pd.DataFrame(index=export.index)
    for source, name in _EXPORT_COUNTS.items():
        value = pd.to_numeric(export[source], errors="coerce")
        out[name] = value.where(value >= 0)
    for source, name in _EXPORT_DATES.items():
        stamp = pd.to_datetime(export[source], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        out[name] = (reference_date - stamp).dt.total_seconds() / 86_400
    for source, name in _EXPORT_TEXT.items():
        out[name] = export[source].str.strip()
    for source, name in _EXPORT_FLAGS.items():
        out[name] = export[source].notna()
    out["has_company"] = export["Associated Company ID"].notna()
    subscriber = pd.to_datetime(
        export["Became a Subscriber Date"], format="%Y-%m-%d %H:%M:%S", errors="coerce"
    )
    out["is_bulk_import"] = subscriber.dt.normalize() == BULK_IMPORT_DAY
    courses = export["Which of the following online courses have you taken from deeplearning.ai?"]
    out["is_buyer"] = courses.notna()
    pages = page_sequences(raw_dir).reindex(out.index, fill_value=-1)
    out[list(PAGE_COLUMNS)] = pages
    out["page_count"] = (pages >= 0).sum(axis=1)
    out["has_page_history"] = out["page_count"] > 0
    return out.reset_index()


def page_sequences(raw_dir: Path | str) -> pd.DataFrame:
    """Chronological page types per contact id of pageview_hist.csv: PAGE_COLUMNS, oldest first, -1 pad.

    Empty slots and URLs that no template matches are skipped (the SQL layer maps the latter to `other`).
    """
    history = _read(Path(raw_dir) / "pageview_hist.csv")
    types = np.column_stack([page_type_of(history[c].to_numpy(object)) for c in _HISTORY_NEWEST_FIRST[::-1]])
    aligned = np.take_along_axis(types, np.argsort(types < 0, axis=1, kind="stable"), axis=1)
    return pd.DataFrame(aligned, index=history.index, columns=list(PAGE_COLUMNS))


def bayes_auc(truth: pd.DataFrame, contact_ids: np.ndarray | pd.Index | None = None) -> float:
    """ROC AUC of truth's buy probability on its buyer flag, optionally on a subset of contact ids."""
    rows = truth if contact_ids is None else truth[truth["contact_id"].isin(np.asarray(contact_ids))]
    if rows["is_buyer"].nunique() < 2:
        raise ValueError(f"AUC needs buyers and non-buyers; the {len(rows)} selected rows have one class")
    return float(roc_auc_score(rows["is_buyer"].astype(bool), rows["buy_probability"]))



def truth_order_effect(truth: pd.DataFrame, contact_ids: np.ndarray | pd.Index) -> float:
    """Truth's ROC AUC minus the same model's on each contact's pages shuffled (`buy_probability_shuffled`).

    How much of the planted buying signal lives in the order of the pages, on the given contacts.
    """
    rows = truth[truth["contact_id"].isin(np.asarray(contact_ids))]
    labels = rows["is_buyer"].astype(bool)
    return float(roc_auc_score(labels, rows["buy_probability"]) - roc_auc_score(labels,
                                                                               rows["buy_probability_shuffled"]))


def _kprototypes_matrices(features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Standardised numerics (log1p counts, days) and integer-coded categoricals.

    Missingness of each day feature is a categorical of its own: "never became a lead" is informative.
    """
    numeric = []
    for name in COUNT_FEATURES:
        # HubSpot leaves zero email counts empty, so a missing count is a zero here.
        numeric.append(np.log1p(features[name].astype(float).clip(lower=0).fillna(0)))
    for name in DAYS_FEATURES:
        numeric.append(features[name].astype(float))
    values = np.column_stack(numeric)
    # Standardised on observed values; a missing date sits at the mean, its absence is a categorical.
    mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    values = np.nan_to_num((values - mean) / np.where(std > 0, std, 1.0))
    categorical = [
        features[name].astype(object).fillna("<missing>").astype(str) for name in CATEGORICAL_FEATURES
    ]
    categorical += [features[name].isna().astype(str) for name in DAYS_FEATURES]
    codes = np.column_stack([pd.factorize(column)[0] for column in categorical])
    return values, codes


def _assign(
    values: np.ndarray, codes: np.ndarray, centres: np.ndarray, modes: np.ndarray, gamma: float
) -> np.ndarray:
    numeric_cost = (values**2).sum(1)[:, None] - 2 * values @ centres.T + (centres**2).sum(1)[None, :]
    mismatch = np.zeros_like(numeric_cost)
    for j in range(codes.shape[1]):
        mismatch += codes[:, j][:, None] != modes[None, :, j]
    return np.argmin(numeric_cost + gamma * mismatch, axis=1)


def _prototypes(
    values: np.ndarray, codes: np.ndarray, labels: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    centres = np.zeros((k, values.shape[1]))
    modes = np.zeros((k, codes.shape[1]), dtype=np.int64)
    for c in range(k):
        members = labels == c
        if not members.any():
            continue
        centres[c] = values[members].mean(axis=0)
        modes[c] = [np.bincount(codes[members, j]).argmax() for j in range(codes.shape[1])]
    return centres, modes


def achievable_ari(features: pd.DataFrame, truth: pd.DataFrame, max_iter: int = 20) -> dict[str, float]:
    """ARI between planted segments and k-prototypes started at the planted prototypes.

    `ari_planted_prototypes`: every contact assigned to the nearest planted prototype; `ari_refit`: after
    k-prototypes iterations from there (Huang's gamma, half the mean numeric std). The refit figure is
    what a k-prototypes fit on these features can reach at best from a perfect start.
    """
    merged = features.merge(truth[["contact_id", "segment"]], on="contact_id", how="inner")
    planted = pd.factorize(merged["segment"], sort=True)[0]
    k = int(planted.max()) + 1
    values, codes = _kprototypes_matrices(merged)
    gamma = 0.5 * float(values.std(axis=0).mean())
    centres, modes = _prototypes(values, codes, planted, k)
    labels = _assign(values, codes, centres, modes, gamma)
    first = adjusted_rand_score(planted, labels)
    for _ in range(max_iter):
        centres, modes = _prototypes(values, codes, labels, k)
        updated = _assign(values, codes, centres, modes, gamma)
        if np.array_equal(updated, labels):
            break
        labels = updated
    return {"ari_planted_prototypes": float(first), "ari_refit": float(adjusted_rand_score(planted, labels))}


def _observable_matrix(features: pd.DataFrame) -> np.ndarray:
    """Counts, country and hand-made order features (position types, type counts, ordered bigrams)."""
    n_types = len(catalog.PAGE_TYPES)
    n = len(features)
    counts = features[list(COUNT_FEATURES)].astype(float).to_numpy()
    country = pd.Series(pd.factorize(features["ip_country_code"].fillna("<missing>"))[0]).to_numpy()[:, None]
    padded = features[list(PAGE_COLUMNS)].to_numpy(np.int64)
    unigrams = np.zeros((n, n_types))
    bigrams = np.zeros((n, n_types * n_types))
    rows = np.arange(n)
    for position in range(4):
        valid = padded[:, position] >= 0
        unigrams[rows[valid], padded[valid, position]] += 1
        if position < 3:
            pair = valid & (padded[:, position + 1] >= 0)
            bigrams[rows[pair], padded[pair, position] * n_types + padded[pair, position + 1]] += 1
    length = (padded >= 0).sum(axis=1)
    last = np.where(length > 0, padded[rows, np.maximum(length - 1, 0)], -1)[:, None]
    return np.hstack([counts, country, padded, last, unigrams, bigrams])


def observable_baseline(features: pd.DataFrame, truth: pd.DataFrame, seed: int = 0) -> dict[str, float]:
    """Test AUC of gradient boosting on what the propensity model may see, and truth's AUC on the same rows.

    A 70/30 stratified split; the gap (truth minus model) shows how much of the planted signal is
    hidden from those observables (segment effects not visible through counts or country, for example).
    """
    merged = features.merge(truth[["contact_id", "buy_probability"]], on="contact_id", how="inner")
    x = _observable_matrix(merged)
    y = merged["is_buyer"].astype(bool).to_numpy()
    categorical = np.zeros(x.shape[1], dtype=bool)
    categorical[len(COUNT_FEATURES) : len(COUNT_FEATURES) + 6] = True
    x[:, categorical] = np.where(x[:, categorical] < 0, np.nan, x[:, categorical])
    train, test = train_test_split(np.arange(len(y)), test_size=0.3, random_state=seed, stratify=y)
    # Shallow, regularised trees: buyers are few, deeper trees overfit the sparse bigram columns.
    model = HistGradientBoostingClassifier(
        categorical_features=categorical,
        max_iter=600,
        learning_rate=0.05,
        max_leaf_nodes=8,
        min_samples_leaf=100,
        l2_regularization=1.0,
        max_features=0.5,
        early_stopping=True,
        random_state=seed,
    )
    model.fit(x[train], y[train])
    model_auc = roc_auc_score(y[test], model.predict_proba(x[test])[:, 1])
    test_ids = merged["contact_id"].to_numpy()[test]
    reference = bayes_auc(truth, test_ids)
    return {
        "model_test_auc": float(model_auc),
        "truth_test_auc": reference,
        "gap": reference - float(model_auc),
    }


def planted_signal(
    truth: pd.DataFrame, features: pd.DataFrame | None = None, history_ids: np.ndarray | None = None
) -> dict[str, float]:
    """Truth AUC and buyer rates (overall and among contacts with page history), and the achievable ARI.

    `history_ids` are the contacts with page history; taken from `features.has_page_history` when omitted.
    """
    if history_ids is None and features is not None:
        history_ids = features.loc[features["has_page_history"].astype(bool), "contact_id"].to_numpy()
    result = {"truth_auc": bayes_auc(truth), "buyer_rate": float(truth["is_buyer"].mean())}
    if history_ids is not None:
        with_history = truth["contact_id"].isin(history_ids)
        result["truth_auc_with_history"] = bayes_auc(truth, history_ids)
        result["buyer_rate_with_history"] = float(truth.loc[with_history, "is_buyer"].mean())
    if features is not None:
        result.update(achievable_ari(features, truth))
    return result
