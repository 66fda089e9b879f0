"""README's results tables, printed from the build's tables (figures are read, never typed).

`journeys figures` (`make figures`) prints Markdown: what the export gave (records staged and quarantined per
file and reason, the page views no URL rule maps), the segments' quality without truth, then the propensity
models' test figures with their bootstrap 95% intervals, the BiLSTM's paired gain over each baseline, the order effect next to truth's, the setting the
validation search chose, and the segments' agreement with the planted truth when there is one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from journeys.warehouse import connect

MODELS = (
    ("bilstm", "BiLSTM"),
    ("hist_gradient_boosting", "gradient-boosted trees (+ page at each position)"),
    ("logistic_regression_bigrams", "logistic regression + bigrams"),
    ("logistic_regression", "logistic regression"),
    ("majority", "majority class"),
    ("bayes_optimal", "truth's probabilities (Bayes-optimal, same contacts)"),
)


def read_metrics(db_path: Path | str) -> pd.DataFrame:
    """model_metrics of the build in `db_path` (read-only)."""
    with connect(db_path) as connection:
        return connection.sql("select * from model_metrics").df()


def read_experiments(db_path: Path | str) -> pd.DataFrame:
    """propensity_experiments of the build in `db_path` (read-only); a clear error when it was not built."""
    with connect(db_path) as connection:
        try:
            return connection.sql("select * from propensity_experiments").df()
        except duckdb.CatalogException as error:
            raise ValueError(f"{db_path} has no propensity_experiments: run `make experiments`") from error


# The source records of each part of the export (the export's files, or an ELT tool's tables): the base models
# name the source (`source_file`) and set aside the records left out on purpose (`left_out_reason`).
BASE_MODELS = {
    "hubspot_export.csv": ("base_hubspot__contact_records",),
    "pageview_hist.csv": ("base_hubspot__page_history_records", "base_hubspot__property_history_records"),
    "page_events.csv": ("base_hubspot__page_event_records",),
}
# Contacts and events staged count one record each; the history is staged as page versions (none for a record
# without a URL), so its staged records are the records read less those quarantined or left out.
STAGED_MODELS = {"hubspot_export.csv": "stg_hubspot__contacts", "page_events.csv": "stg_hubspot__page_events"}


def _records(models: tuple[str, ...]) -> str:
    return " union all ".join(f"select source_file, left_out_reason from {model}" for model in models)


def source_counts(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int, dict[str, int]]]:
    """Per part of the export: its default file name, the source's name (the file, or the ELT tool's table),
    records staged, and records left out on purpose by reason."""
    counts = []
    for part, models in BASE_MODELS.items():
        rows = connection.execute(
            f"select source_file, left_out_reason, count(*) from ({_records(models)}) group by all"
        ).fetchall()
        name = next((source for source, _, _ in rows if source), part)
        left_out = {reason: n for _, reason, n in rows if reason}
        if part in STAGED_MODELS:
            staged = connection.execute(f"select count(*) from {STAGED_MODELS[part]}").fetchall()[0][0]
        else:
            (quarantined,) = connection.execute(
                "select count(*) from quarantined_rows where source_file = ?", [name]).fetchall()[0]
            staged = sum(n for _, _, n in rows) - sum(left_out.values()) - quarantined
        counts.append((part, name, staged, left_out))
    return counts


def data_tables(db_path: Path | str) -> str:
    """The export's figures as Markdown: records per file (or ELT table) and quarantine reason, the records
    left out on purpose (deleted contacts, repeated history rows), the unmapped share of page views, the segments' quality without truth (k, gamma, cost share, stability, silhouette) and, on a synthetic
    export, their ARI against the planted truth."""
    with connect(db_path) as connection:
        quarantined = connection.sql(
            "select source_file, quarantine_reason, count(*) as records from quarantined_rows "
            "group by all order by source_file, records desc"
        ).df()
        sources = source_counts(connection)
        unmatched = connection.execute(
            "select sum(page_views) filter (where is_unmatched), sum(page_views) from url_category_coverage"
        ).fetchall()[0]
        segments = (
            connection.sql(
                "select metric, value from model_metrics where model_name = 'segments' "
                "and split in ('all', 'sample', 'truth')"
            )
            .df()
            .set_index("metric")["value"]
        )
        journeys = journey_figures(connection) if sources[-1][2] else None
    lines = ["| file | records staged | quarantined (reason: records) |", "|---|---|---|"]
    left_out = []
    for part, name, count, reasons_left_out in sources:
        reasons = quarantined[quarantined["source_file"] == name]
        if part == "page_events.csv" and not count and reasons.empty:
            continue  # the optional source is absent
        text = ", ".join(f"{r.quarantine_reason}: {r.records:,}" for r in reasons.itertuples()) or "none"
        lines.append(f"| {name} | {count:,} | {text} |")
        if reasons_left_out:
            left_out.append(f"{name} " + ", ".join(f"{reason} {n:,}" for reason, n in sorted(reasons_left_out.items())))
    if left_out:
        lines += ["", "Left out on purpose, not quarantined (contacts deleted in HubSpot, repeated or empty history "
                      "rows): " + "; ".join(left_out) + "."]
    lines += ["", f"Page views no URL rule maps: {unmatched[0] / unmatched[1]:.2%} of {unmatched[1]:,.0f}."]
    if journeys:
        lines += ["", journeys]
    if "stability_ari" in segments.index:
        lines += [
            "",
            (
                f"Segments without truth: k = {int(segments['k'])}, gamma {segments['gamma']:.3f} (numeric share "
                f"of the cost {segments['cost_share_numeric']:.3f}), stability (mean adjusted Rand index of "
                f"bootstrap refits) {segments['stability_ari']:.3f}, silhouette {segments['silhouette']:.3f}."
            ),
        ]
    if "adjusted_rand_index" in segments.index:
        lines += [
            "",
            f"Outcome against the planted truth (never read to choose): ARI {segments['adjusted_rand_index']:.3f}.",
        ]
    return "\n".join(lines)


def journey_figures(connection: duckdb.DuckDBPyConnection) -> str:
    """One line on the page_events source: events (off-site ones, var journeys_off_site_categories, are in no session),
    users, sessions and the models' sequences."""
    off_site = connection.sql(
        "select category, count(*) as events from int_page_events_categorized where not is_on_site "
        "group by all order by events desc"
    ).fetchall()
    events, users, sessions, median_events, conversions = connection.execute(
        "select sum(event_count), count(distinct user_key), count(*), median(event_count), "
        "count(*) filter (where has_target_event) from sessions"
    ).fetchall()[0]
    contacts, median_length, longest, converted = connection.execute(
        "select count(*), median(page_count), max(page_count), count(*) filter (where is_converted) "
        "from contact_features where has_page_history"
    ).fetchall()[0]
    left_out = ", ".join(f"{category} {count:,}" for category, count in off_site) or "none"
    return (
        f"Off-site events (staged, in no session or sequence): {left_out}. "
        f"On-site events: {events:,.0f} of {users:,} users in {sessions:,} sessions (median "
        f"{median_events:.0f} per session; {conversions:,} sessions hold the propensity conversion). Model sequences: "
        f"{contacts:,} contacts, median {median_length:.0f} and at most {longest} categories before the first "
        f"conversion; {converted:,} of them convert."
    )


def experiments_table(experiments: pd.DataFrame) -> str:
    """The experiment grid as Markdown: one row per length and encoding, both models side by side."""
    train = int(experiments["train_contacts"].iloc[0])
    lines = [
        (
            f"Sequence length x encoding x model (page sequence only; {train:,} training contacts, seeded "
            "subsample; test ROC AUC [bootstrap 95% interval], fit seconds):"
        ),
        "",
        "| pages | encoding | BiLSTM | fit s | logistic | fit s |",
        "|---|---|---|---|---|---|",
    ]
    grid = experiments.set_index(["sequence_length", "encoding", "model"])
    for (length, encoding), _ in experiments.groupby(["sequence_length", "encoding"], sort=False):
        cells = []
        for model in ("bilstm", "logistic"):
            row = grid.loc[(length, encoding, model)]
            cells += [
                f"{row['roc_auc']:.4f} [{row['ci_lower']:.4f}, {row['ci_upper']:.4f}]",
                f"{row['fit_seconds']:.1f}",
            ]
        lines.append(f"| {length} | {encoding} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def results_tables(metrics: pd.DataFrame) -> str:
    """The Markdown README shows under "What it measures", from one build's model_metrics."""
    values = metrics.set_index(["model_name", "split", "metric"])
    if ("bilstm", "test", "roc_auc") not in values.index:
        raise ValueError("model_metrics holds no propensity test figures: run `dbt build` first")

    def cell(model: str, metric: str, split: str = "test", digits: int = 4) -> str:
        if (model, split, metric) not in values.index:
            return "n/a"
        row = values.loc[(model, split, metric)]
        text = f"{row['value']:.{digits}f}"
        if pd.notna(row.get("ci_lower")):
            text += f" [{row['ci_lower']:.{digits}f}, {row['ci_upper']:.{digits}f}]"
        return text

    test_size = int(values.loc[("bilstm", "test", "test_size"), "value"])
    positives = int(values.loc[("bilstm", "test", "positives"), "value"])
    lines = [
        (
            f"Propensity, test split ({test_size:,} contacts with page history, {positives:,} buyers); "
            "[bootstrap 95% interval]:"
        ),
        "",
        "| model | ROC AUC | PR AUC | BiLSTM's ROC AUC gain over it (paired) |",
        "|---|---|---|---|",
    ]
    for name, label in MODELS:
        if (name, "test", "roc_auc") not in values.index:
            continue
        gain = cell("bilstm", f"roc_auc_gain_over_{name}")
        lines.append(
            f"| {label} | {cell(name, 'roc_auc')} | {cell(name, 'pr_auc')} | "
            f"{'' if gain == 'n/a' else gain} |"
        )
    lines += [
        "",
        "Does order matter? ROC AUC with each contact's pages in order minus with them shuffled:",
        "",
        "| model | ROC AUC, pages shuffled | order effect |",
        "|---|---|---|",
    ]
    for name, label in (("bilstm", "BiLSTM (retrained on shuffled pages)"), ("bayes_optimal", "truth")):
        if (name, "test", "order_effect") in values.index:
            lines.append(
                f"| {label} | {cell(name, 'roc_auc_shuffled_order')} | {cell(name, 'order_effect')} |"
            )
    lines += _cutoff_lines(values, cell)
    search = sorted(
        m
        for (model, split, m) in values.index
        if model == "bilstm" and split == "validation" and m.startswith("search_")
    )
    if search:
        chosen = int(values.loc[("bilstm", "validation", "chosen_setting"), "value"])
        scores = ", ".join(f"{values.loc[('bilstm', 'validation', m), 'value']:.4f}" for m in search)
        settings = ", ".join(
            f"{name} {values.loc[('bilstm', 'validation', name), 'value']:g}"
            for name in ("dropout", "recurrent_dropout", "embedding_l2")
        )
        line = (f"Validation search: ROC AUC {scores} for the {len(search)} settings of `journeys_propensity.search`; "
                f"chosen: setting {chosen} ({settings}).")
        if len(search) == 1:  # no search: the single configured setting, trained once
            line = f"Validation ROC AUC {scores} of the single setting ({settings}; `journeys_propensity.search` empty)."
        lines += ["", line]
    return "\n".join(lines)


def _cutoff_lines(values: pd.DataFrame, cell: Callable[[str, str], str]) -> list[str]:
    """The best baseline's test ROC AUC with and without the pages and dates after the First Conversion
    Date (var journeys_propensity_cutoff): a leak by timing shows as a jump."""
    leak = [model for (model, split, m) in values.index if split == "test" and m == "cutoff_leak"]
    if not leak:
        return []
    model = leak[0]
    own = values.loc[(model, "test", "roc_auc"), "value"]
    used = "first_conversion" if values.loc[(model, "test", "roc_auc_cutoff_first_conversion"), "value"] == own \
        else "none"
    label = dict(MODELS).get(model, model)
    return [
        "",
        (
            f"Time-correct inputs: {label} refitted with and without the pages and dates after each "
            f"contact's First Conversion Date; this build's inputs: "
            f"`journeys_propensity_cutoff: {used}`."
        ),
        "",
        "| inputs | ROC AUC |",
        "|---|---|",
        f"| before the First Conversion Date (`first_conversion`) | {cell(model, 'roc_auc_cutoff_first_conversion')} |",
        f"| every page and date (`none`) | {cell(model, 'roc_auc_cutoff_none')} |",
        f"| jump from what follows the conversion (paired) | {cell(model, 'cutoff_leak')} |",
    ]
