"""The summary that opens the report: what a reader came for, generated from the build's tables.

Every figure sits in a `<span class="figure" data-figure="...">` so the browser test can compare it with
the tables."""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from journeys.report.drift import changes_summary
from journeys.report.page import Section, figure
from journeys.report.tables import Tables

MAIN_MODEL = "bilstm"
TRUTH_MODELS = ("bayes_optimal", "truth")
NOT_BASELINES = (MAIN_MODEL, *TRUTH_MODELS)
TOP_DRIVERS = 3


def summary_section(tables: Tables) -> Section:
    parts = [
        _segments(tables),
        _propensity(tables),
        changes_summary(tables, tables.segment_names()),
        _data_quality(tables),
    ]
    return Section("summary", "Summary", [part for part in parts if part])


def _segments(tables: Tables) -> str:
    """One row per segment: name, contacts, share, buyer rate and the line that describes it."""
    sizes = tables.df(
        "select segment_id, any_value(segment_size) as contacts, any_value(segment_share) as share, "
        "any_value(buyer_rate) as buyer_rate from segment_profiles group by segment_id order by segment_id",
        "segment_profiles",
    ).set_index("segment_id")
    names = tables.segment_names()
    described = tables.df("select segment_id, segment_description from segments", "segments")
    descriptions = dict(
        zip(described["segment_id"].astype(int), described["segment_description"], strict=True)
    )
    rows = "".join(
        f"<tr><td>{escape(names[int(s)])}</td><td>{figure(f'segment-{s}-contacts', f'{int(r.contacts):,}')}</td>"
        f"<td>{figure(f'segment-{s}-share', f'{r.share:.1%}')}</td>"
        f"<td>{figure(f'segment-{s}-buyer-rate', f'{r.buyer_rate:.1%}')}</td>"
        f"<td>{escape(str(descriptions.get(int(s), '')))}</td></tr>"
        for s, r in sizes.iterrows()
    )
    total = int(sizes["contacts"].sum())
    return (
        f"<h3>{figure('segments', str(len(sizes)))} segments of {figure('segmented-contacts', f'{total:,}')} "
        "contacts</h3>"
        '<div class="table-wrap"><table class="data" id="summary-segments"><thead><tr><th>segment</th>'
        "<th>contacts</th><th>share</th><th>buyer rate</th><th>what sets it apart</th></tr></thead>"
        f'<tbody>{rows}</tbody></table></div><p class="note">names and descriptions: the segments table, '
        "from what sets each segment apart (journeys.segments.naming)</p>"
    )


def _propensity(tables: Tables) -> str:
    metrics = _auc_table(tables)
    if MAIN_MODEL not in metrics.index:
        return ""
    items = []
    baselines = metrics.drop(index=[m for m in NOT_BASELINES if m in metrics.index])
    line = f"{MAIN_MODEL}: test ROC AUC {_auc(metrics, MAIN_MODEL)}"
    if not baselines.empty:
        best = str(baselines["value"].idxmax())
        line += f", against the best baseline {escape(best)} {_auc(metrics, best)}"
    truth = [m for m in TRUTH_MODELS if m in metrics.index]
    if truth:
        line += f" and truth (planted probabilities) {_auc(metrics, truth[0])}"
    items.append(line)
    order = _order_effect(tables)
    if order:
        items.append(order)
    drivers = tables.df(
        f"select feature, roc_auc, separation from propensity_audit order by separation desc, feature "
        f"limit {TOP_DRIVERS}",
        "propensity_audit",
    )
    if not drivers.empty:
        items.append(
            "strongest single inputs (single-input ROC AUC, leakage audit): "
            + ", ".join(
                f"{escape(f)} {figure(f'driver-{f}', f'{auc:.3f}')}"
                for f, auc in zip(drivers["feature"], drivers["roc_auc"], strict=True)
            )
        )
    return "<h3>Who will buy a course</h3><ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _auc_table(tables: Tables) -> pd.DataFrame:
    extra = f", {tables.interval_columns()}"
    return tables.df(
        f"select model_name, value{extra} from model_metrics where split = 'test' and metric = 'roc_auc' "
        "and model_name in (select distinct model_name from propensity_test_predictions)",
        "model_metrics",
        "propensity_test_predictions",
    ).set_index("model_name")


def _auc(metrics: pd.DataFrame, model: str) -> str:
    row = metrics.loc[model]
    text = figure(f"roc-auc-{model}", f"{row['value']:.3f}")
    if pd.notna(row["ci_lower"]) and pd.notna(row["ci_upper"]):
        text += (
            f" ({figure(f'roc-auc-{model}-interval', f'95% CI {row.ci_lower:.3f} to {row.ci_upper:.3f}')})"
        )
    return text


def _order_effect(tables: Tables) -> str:
    """ROC AUC lost when each contact's pages are shuffled, for the model and for truth (model_metrics)."""
    extra = f", {tables.interval_columns()}"
    effects = tables.df(
        f"select model_name, value{extra} from model_metrics where metric = 'order_effect' order by model_name",
        "model_metrics",
    )
    if effects.empty:
        return ""
    parts = []
    for row in effects.itertuples(index=False):
        text = figure(f"order-effect-{row.model_name}", f"{row.value:+.3f}")
        if pd.notna(row.ci_lower) and pd.notna(row.ci_upper):
            text += f" ({figure(f'order-effect-{row.model_name}-interval', f'{row.ci_lower:+.3f} to {row.ci_upper:+.3f}')})"
        parts.append(f"{escape(row.model_name)} {text}")
    return "order effect (ROC AUC with pages in order minus shuffled): " + ", ".join(parts)


def _data_quality(tables: Tables) -> str:
    quarantined = tables.df(
        "select source_file, count(*) as rows from quarantined_rows group by 1 order by 1", "quarantined_rows"
    )
    staged = int(tables.df("select count(*) as n from contact_features", "contact_features")["n"].iloc[0])
    unmatched = tables.df(
        "select coalesce(sum(share_of_page_views), 0) as share from url_category_coverage where is_unmatched",
        "url_category_coverage",
    )["share"].iloc[0]
    by_file = ", ".join(
        f"{escape(f)} {int(n):,}"
        for f, n in zip(quarantined["source_file"], quarantined["rows"], strict=True)
    )
    total = int(quarantined["rows"].sum()) if not quarantined.empty else 0
    items = [
        f"{figure('staged-contacts', f'{staged:,}')} contacts staged; "
        f"{figure('quarantined-rows', f'{total:,}')} raw lines quarantined with their reason"
        + (f" ({by_file})" if by_file else ""),
        f"{figure('unmatched-share', f'{float(np.nan_to_num(unmatched)):.2%}')} of page views match no URL rule",
    ]
    return "<h3>Data quality</h3><ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"
