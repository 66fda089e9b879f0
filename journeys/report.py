"""`journeys report`: one self-contained HTML file (inline CSS, SVG and a small script; no network).

Reads the tables the last `dbt build` wrote and draws them with `journeys.report_charts`. The page's
script checks every chart holds data and records the outcome in `body[data-report-status]`, which the
headless-browser test reads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from journeys.report_charts import PALETTE, Series, bar_chart, heatmap, line_chart, scatter_chart
from journeys.warehouse import connect

log = logging.getLogger(__name__)

PROJECTION_SAMPLE = 3_000
PROJECTION_SEED = 0
TOP_UNMAPPED = 25
COUNT_FEATURES = (
    "num_sessions", "num_pageviews", "avg_pageviews", "emails_delivered", "emails_opened", "emails_clicked",
    "page_count",
)  # fmt: skip
DAY_FEATURES = (
    "days_since_lead", "days_since_subscriber", "days_since_first_conversion", "days_since_first_email_send",
    "days_since_last_email_open", "days_since_last_email_click", "days_since_last_event",
)  # fmt: skip


@dataclass(frozen=True)
class Section:
    """One titled block of the page."""

    anchor: str
    title: str
    body: str


class Warehouse:
    """Read-only access to the built tables, with a clear error when one is missing."""

    def __init__(self, con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
        self.con = con
        self.db_path = db_path
        self.tables = set(con.execute("select table_name from information_schema.tables").df()["table_name"])

    def has(self, table: str) -> bool:
        return table in self.tables

    def df(self, sql: str, *tables: str) -> pd.DataFrame:
        missing = [table for table in tables if table not in self.tables]
        if missing:
            raise ValueError(
                f"{self.db_path}: table(s) {', '.join(missing)} not found; run `dbt build` first"
            )
        return self.con.execute(sql).df()

    def columns(self, table: str) -> list[str]:
        return self.con.execute(f"select * from {table} limit 0").df().columns.tolist()


def write_report(db_path: Path, out_path: Path) -> Path:
    """Render the report of the database at `db_path` into the single file `out_path`."""
    db_path, out_path = Path(db_path), Path(out_path)
    if not db_path.exists():
        raise FileNotFoundError(f"{db_path}: no DuckDB database; run `make build` first")
    with connect(db_path) as con:
        wh = Warehouse(con, db_path)
        sections = [
            segment_section(wh),
            projection_section(wh),
            propensity_section(wh),
            training_section(wh),
            url_section(wh),
            metrics_section(wh),
        ]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render_page(sections, db_path), encoding="utf-8")
    log.info("report written to %s (%d bytes)", out_path, out_path.stat().st_size)
    return out_path


def scaled_numeric(frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Counts (HubSpot leaves a zero count empty: missing = 0) as log1p, days as they are; both z-scored
    over the given rows, a missing day then set to the mean (0). Returns the matrix and its column names."""
    counts = [c for c in COUNT_FEATURES if c in frame.columns]
    days = [c for c in DAY_FEATURES if c in frame.columns]
    values = np.hstack([
        np.log1p(np.clip(frame[counts].to_numpy(dtype=float, na_value=np.nan), 0, None)),
        frame[days].to_numpy(dtype=float, na_value=np.nan),
    ])  # fmt: skip
    values[:, : len(counts)] = np.nan_to_num(values[:, : len(counts)])
    mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    scaled = (values - mean) / np.where(std > 0, std, 1)
    return np.nan_to_num(scaled), [*counts, *days]


def segment_section(wh: Warehouse) -> Section:
    """Segment sizes and buyer rates, prototypes, profiles, what separates each pair, and the choice of k."""
    sizes = wh.df(
        "select segment_id, any_value(segment_size) as contacts, any_value(segment_share) as share, "
        "any_value(buyer_rate) as buyer_rate from segment_profiles group by segment_id order by segment_id",
        "segment_profiles",
    )
    labels = [f"segment {s}" for s in sizes["segment_id"]]
    ids = sizes["segment_id"].to_numpy(float)
    parts = [
        bar_chart(
            "segment-sizes", "Contacts per segment", labels,
            [Series("contacts", ids, sizes["contacts"].to_numpy(float))], "contacts",
            note=f"{int(sizes['contacts'].sum()):,} segmented contacts; shares "
            + ", ".join(f"{share:.0%}" for share in sizes["share"]),
        ),
        bar_chart(
            "segment-buyer-rates", "Buyer rate per segment (non-empty courses field)", labels,
            [Series("buyer rate", ids, sizes["buyer_rate"].to_numpy(float), color=PALETTE[1])], "buyer rate",
        ),
        _prototype_heatmap(wh),
        _affinity_heatmap(wh),
        *_k_selection_charts(wh),
        _profile_tables(wh),
        html_table(
            "table-segment-comparison", "What separates each pair of segments (top 3 features)",
            wh.df(
                "select segment_a, segment_b, prototype_dissimilarity, rank, feature, separation, detail "
                "from segment_comparison order by segment_a, segment_b, rank",
                "segment_comparison",
            ),
        ),
    ]  # fmt: skip
    return Section("segments", "Segments", "".join(parts))


def _prototype_heatmap(wh: Warehouse) -> str:
    """Numeric prototype values in z-score units (colour) and own units (text); categorical modes below."""
    centroids = wh.df(
        "select segment_id, feature, feature_type, scaled_value, value, category from segment_centroids "
        "order by segment_id, feature",
        "segment_centroids",
    )
    numeric = centroids[centroids["feature_type"] != "categorical"]
    scaled = numeric.pivot(index="segment_id", columns="feature", values="scaled_value")
    own = numeric.pivot(index="segment_id", columns="feature", values="value")[scaled.columns]
    categorical = centroids[centroids["feature_type"] == "categorical"]
    modes = categorical.pivot(index="feature", columns="segment_id", values="category")
    modes.columns = [f"segment {s}" for s in modes.columns]
    return heatmap(
        "segment-prototypes", "Segment prototypes: numeric features (colour: z-score; text: own units)",
        [f"segment {s}" for s in scaled.index], list(scaled.columns), scaled.to_numpy(float),
        text=np.vectorize(_fmt_value)(own.to_numpy(float)),
        note="red: above the average contact, blue: below (segment_centroids)",
    ) + html_table("table-segment-modes", "Segment prototypes: categorical features (mode)", modes.reset_index())  # fmt: skip


def _affinity_heatmap(wh: Warehouse) -> str:
    """Dissimilarity between every pair of prototypes: small = segments that are alike."""
    pairs = wh.df(
        "select distinct segment_a, segment_b, prototype_dissimilarity from segment_comparison",
        "segment_comparison",
    )
    segments = np.union1d(pairs["segment_a"], pairs["segment_b"])
    matrix = np.zeros((len(segments), len(segments)))
    a, b = np.searchsorted(segments, pairs["segment_a"]), np.searchsorted(segments, pairs["segment_b"])
    matrix[a, b] = matrix[b, a] = pairs["prototype_dissimilarity"].to_numpy(float)
    names = [f"segment {s}" for s in segments]
    return heatmap(
        "segment-affinity", "Dissimilarity between segment prototypes", names, names, matrix,
        text=np.vectorize(_fmt_value)(matrix), diverging=False, note="k-prototypes dissimilarity; 0 on the diagonal",
    )  # fmt: skip


def _k_selection_charts(wh: Warehouse) -> list[str]:
    frame = wh.df(
        "select k, cost, silhouette, is_chosen from segment_k_selection order by k", "segment_k_selection"
    )
    chosen = frame[frame["is_chosen"].astype(bool)]
    charts = []
    for i, metric in enumerate(("cost", "silhouette")):
        known = frame[frame[metric].notna()]
        series = [Series(metric, known["k"].to_numpy(float), known[metric].to_numpy(float), color=PALETTE[i])]
        series.append(Series(f"chosen k = {', '.join(map(str, chosen['k']))}", chosen["k"].to_numpy(float),
                             chosen[metric].to_numpy(float), color=PALETTE[2]))  # fmt: skip
        charts.append(
            line_chart(f"k-selection-{metric}", f"Choice of k: {metric}", series, "k", metric, points=True)
        )
    return charts


def _profile_tables(wh: Warehouse) -> str:
    """Mean of each numeric feature per segment, and each categorical feature's most common value."""
    profiles = wh.df(
        "select segment_id, feature, statistic, category, rank, value from segment_profiles",
        "segment_profiles",
    )
    means = profiles[profiles["statistic"] == "mean"].pivot(
        index="feature", columns="segment_id", values="value"
    )
    means.columns = [f"segment {s}" for s in means.columns]
    top = profiles[(profiles["statistic"] == "share") & (profiles["rank"] == 1)].copy()
    top["shown"] = (
        top["category"].astype(str) + " (" + (top["value"] * 100).round(0).astype(int).astype(str) + "%)"
    )
    modes = top.pivot(index="feature", columns="segment_id", values="shown")
    modes.columns = [f"segment {s}" for s in modes.columns]
    return html_table(
        "table-segment-means", "Segment profiles: mean per segment", means.reset_index()
    ) + html_table(
        "table-segment-top-categories", "Segment profiles: most common category (share)", modes.reset_index()
    )


def _fmt_value(value: float) -> str:
    return "" if not np.isfinite(value) else f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2g}"


def projection_section(wh: Warehouse) -> Section:
    """PCA (SVD of the standardised, log-scaled numeric features) of a seeded sample, coloured by segment."""
    columns = set(wh.columns("contact_features"))
    numeric = [c for c in (*COUNT_FEATURES, *DAY_FEATURES) if c in columns]
    frame = wh.df(
        f"select s.segment_id, {', '.join('f.' + c for c in numeric)} from contact_segments as s "
        "join contact_features as f using (contact_id) order by s.contact_id",
        "contact_segments", "contact_features",
    )  # fmt: skip
    rng = np.random.default_rng(PROJECTION_SEED)
    sample = np.sort(rng.choice(len(frame), size=min(PROJECTION_SAMPLE, len(frame)), replace=False))
    scaled, _ = scaled_numeric(frame.iloc[sample])
    _, singular, vt = np.linalg.svd(scaled, full_matrices=False)
    coords = scaled @ vt[:2].T
    explained = singular**2 / np.sum(singular**2)
    chart = scatter_chart(
        "projection", "Contacts in the first two principal components, coloured by segment",
        coords[:, 0], coords[:, 1], np.array([f"segment {s}" for s in frame["segment_id"].to_numpy()[sample]]),
        f"PC1 ({explained[0]:.0%} of variance)", f"PC2 ({explained[1]:.0%} of variance)",
        note=f"seeded sample of {len(sample):,} of {len(frame):,} contacts; counts log1p (missing = 0), "
        "days as they are (missing = mean), all standardised",
    )  # fmt: skip
    return Section("projection", "2-D projection", chart)


def propensity_section(wh: Warehouse) -> Section:
    """ROC and PR curves of every model (dots: the operating point at its threshold) against chance and
    prevalence, confusion matrices, deciles against observed buyer rates."""
    scores = test_scores(wh)
    test = _metrics(wh).query("split == 'test'")
    cells = test.pivot_table(index="model_name", columns="metric", values="value", aggfunc="first")
    prevalence = float(scores.groupby("model_name")["label"].mean().iloc[0])
    roc, pr = [], []
    for i, (model, group) in enumerate(scores.groupby("model_name", sort=True)):
        fpr, tpr, recall, precision = curves(group["label"].to_numpy(bool), group["score"].to_numpy(float))
        color = PALETTE[i % len(PALETTE)]
        roc.append(Series(f"{model} (ROC AUC {np.trapezoid(tpr, fpr):.3f})", fpr, tpr, color=color))
        pr.append(
            Series(
                f"{model} (AP {_average_precision(recall, precision):.3f})", recall, precision, color=color
            )
        )
        if model in cells.index and {"true_positives", "false_positives", "threshold"} <= set(cells.columns):
            tp, fp, tn, fn, cut = cells.loc[model, ["true_positives", "false_positives", "true_negatives",
                                                    "false_negatives", "threshold"]].to_numpy(float)  # fmt: skip
            if tp + fp > 0:
                name = f"{model} at threshold {cut:.3g}"
                roc.append(Series(name, np.array([fp / (fp + tn)]), np.array([tp / (tp + fn)]), color=color))
                pr.append(Series(name, np.array([tp / (tp + fn)]), np.array([tp / (tp + fp)]), color=color))
    roc.append(Series("chance", np.array([0.0, 1.0]), np.array([0.0, 1.0]), dashed=True, color="#777"))
    pr.append(Series(f"prevalence {prevalence:.3f}", np.array([0.0, 1.0]), np.array([prevalence] * 2),
                     dashed=True, color="#777"))  # fmt: skip
    note = (
        f"test split: {scores['contact_id'].nunique():,} contacts; majority = the training share for everyone"
    )
    parts = [
        line_chart("roc", "ROC curves", roc, "false positive rate", "true positive rate", (0, 1), (0, 1), note=note),
        line_chart("pr", "Precision-recall curves", pr, "recall", "precision", (0, 1), (0, 1), note=note),
        _confusion_matrices(test),
        _deciles(scores),
    ]  # fmt: skip
    return Section("propensity", "Purchase propensity", "".join(parts))


def _metrics(wh: Warehouse) -> pd.DataFrame:
    """model_metrics: one row per (model, split, metric) of every model family."""
    return wh.df("select model_name, model_version, split, metric, value from model_metrics", "model_metrics")


def test_scores(wh: Warehouse) -> pd.DataFrame:
    """Per-contact test-split scores and labels of every propensity model: model_name, contact_id, score, label."""
    scores = wh.df(
        "select model_name, contact_id, score, label from propensity_test_predictions",
        "propensity_test_predictions",
    )
    if scores.empty:
        raise ValueError(
            "propensity_test_predictions is empty (multi-class target?): no ROC / PR curves to draw"
        )
    return scores.assign(label=scores["label"].astype(bool))


def curves(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ROC (fpr, tpr) and PR (recall, precision) points at every distinct score, vectorised."""
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_labels = scores[order], labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(scores) - 1]
    tp = np.cumsum(sorted_labels)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    positives, negatives = max(int(labels.sum()), 1), max(int((~labels).sum()), 1)
    fpr, tpr = np.r_[0.0, fp / negatives], np.r_[0.0, tp / positives]
    recall = tp / positives
    precision = tp / (tp + fp)
    return fpr, tpr, np.r_[0.0, recall], np.r_[precision[0], precision]


def _average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """Step-wise area under the PR curve (sklearn's average precision)."""
    return float(np.sum(np.diff(recall) * precision[1:]))


def _confusion_matrices(test: pd.DataFrame) -> str:
    cells = ["true_negatives", "false_positives", "false_negatives", "true_positives"]
    metrics = test[test["metric"].isin(cells)]
    parts = []
    for model, group in metrics.groupby("model_name", sort=True):
        values = group.set_index("metric")["value"].reindex(cells).to_numpy(dtype=float)
        matrix = values.reshape(2, 2)
        share = matrix / max(matrix.sum(), 1)
        text = np.array(
            [
                [f"{v:,.0f} ({s:.1%})" for v, s in zip(r, q, strict=True)]
                for r, q in zip(matrix, share, strict=True)
            ]
        )
        parts.append(heatmap(
            f"confusion-{_slug(model)}", f"Confusion matrix: {model} (test split)",
            ["actual: no purchase", "actual: buyer"], ["predicted: no", "predicted: buyer"],
            share, text=text, diverging=False, cell_width=120,
        ))  # fmt: skip
    return "".join(parts)


def _deciles(scores: pd.DataFrame) -> str:
    """Mean predicted propensity and observed buyer rate in each test-split score decile of the BiLSTM."""
    model = "bilstm" if "bilstm" in set(scores["model_name"]) else min(scores["model_name"])
    main = scores[scores["model_name"] == model]
    ranks = main["score"].rank(method="first").to_numpy()
    decile = (np.minimum((ranks - 1) * 10 // len(main), 9) + 1).astype(int)
    grouped = (
        main.assign(decile=decile)
        .groupby("decile")
        .agg(predicted=("score", "mean"), observed=("label", "mean"))
    )
    x = grouped.index.to_numpy(dtype=float)
    return line_chart(
        "deciles", f"Propensity deciles against observed buyer rates ({model}, test split)",
        [Series("mean predicted propensity", x, grouped["predicted"].to_numpy(float)),
         Series("observed buyer rate", x, grouped["observed"].to_numpy(float))],
        "decile (1 = lowest scores)", "rate", (0.5, 10.5), None, points=True,
        note=f"{len(main):,} test contacts, about {len(main) // 10:,} per decile",
    )  # fmt: skip


def training_section(wh: Warehouse) -> Section:
    """Loss and metric curves per epoch, train against validation."""
    frame = wh.df("select * from training_history order by epoch", "training_history")
    metrics = [c for c in frame.columns if c != "epoch" and not c.startswith("val_")
               and pd.api.types.is_numeric_dtype(frame[c])]  # fmt: skip
    charts = []
    for i, metric in enumerate(metrics):
        series = [Series(f"train {metric}", frame["epoch"].to_numpy(float), frame[metric].to_numpy(float))]
        if f"val_{metric}" in frame.columns:
            series.append(Series(f"validation {metric}", frame["epoch"].to_numpy(float),
                                 frame[f"val_{metric}"].to_numpy(float)))  # fmt: skip
        charts.append(
            line_chart(f"training-{i}", f"Training curve: {metric}", series, "epoch", metric, points=True)
        )
    return Section("training", "Training curves", "".join(charts))


def url_section(wh: Warehouse) -> Section:
    """Page views per category (with the unmatched `other`) and the most viewed URLs no rule matched.

    Only normalised URLs are shown: they have e-mail addresses redacted, raw URLs may not."""
    coverage = wh.df(
        "select category, category_code, is_unmatched, page_views, contacts, distinct_urls, share_of_page_views "
        "from url_category_coverage order by page_views desc",
        "url_category_coverage",
    )
    labels = [f"{c} (unmatched)" if u else str(c) for c, u in zip(coverage["category"], coverage["is_unmatched"],
                                                                   strict=True)]  # fmt: skip
    unmatched_share = float(coverage.loc[coverage["is_unmatched"].astype(bool), "share_of_page_views"].sum())
    chart = bar_chart(
        "category-coverage", "Page views per URL category", labels,
        [Series("page views", np.arange(len(coverage)), coverage["page_views"].to_numpy(float))], "page views",
        note=f"{unmatched_share:.1%} of page views match no rule",
    )  # fmt: skip
    unmapped = wh.df(
        f"select view_rank, normalized_url, views, contacts from unmapped_urls order by view_rank limit {TOP_UNMAPPED}",
        "unmapped_urls",
    )
    top = unmapped.head(15)
    unmapped_chart = bar_chart(
        "unmapped-urls", "Most viewed unmapped URLs (normalised)", top["normalized_url"].tolist(),
        [Series("views", top["view_rank"].to_numpy(float), top["views"].to_numpy(float), color=PALETTE[2])], "views",
    )  # fmt: skip
    table = html_table(
        "table-unmapped-urls", f"Top {TOP_UNMAPPED} unmapped URLs", unmapped, max_rows=TOP_UNMAPPED
    )
    return Section(
        "urls",
        "URL categories",
        chart + unmapped_chart + html_table("table-coverage", "Coverage", coverage) + table,
    )


def metrics_section(wh: Warehouse) -> Section:
    frame = _metrics(wh)
    wide = frame.pivot_table(index=["model_name", "split"], columns="metric", values="value", aggfunc="first")
    return Section(
        "metrics", "Model metrics", html_table("table-model-metrics", "model_metrics", wide.reset_index())
    )


def html_table(table_id: str, title: str, frame: pd.DataFrame, max_rows: int = 200) -> str:
    """A plain HTML table of the first `max_rows` rows (the caption says when rows were left out)."""
    shown = frame.head(max_rows)
    head = "".join(f"<th>{escape(str(c))}</th>" for c in shown.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in shown.itertuples(index=False)
    )
    more = f" (first {max_rows} of {len(frame):,} rows)" if len(frame) > max_rows else ""
    return (
        f'<div class="table-wrap"><table class="data" id="{table_id}"><caption>{escape(title)}{more}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(text).lower())


def render_page(sections: list[Section], db_path: Path) -> str:
    nav = "".join(f'<a href="#{s.anchor}">{escape(s.title)}</a>' for s in sections)
    body = "".join(f'<section id="{s.anchor}"><h2>{escape(s.title)}</h2>{s.body}</section>' for s in sections)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return PAGE.format(nav=nav, body=body, source=escape(db_path.name), generated=generated, css=CSS, js=JS)


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f3b57;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;opacity:.8}nav{padding:8px 24px;background:#e8edf2;position:sticky;top:0}
nav a{margin-right:16px;color:#1f3b57;text-decoration:none;font-weight:600}
main{padding:8px 24px}section{margin:18px 0}h2{border-bottom:2px solid #1f3b57;padding-bottom:4px}
figure.chart{display:inline-block;vertical-align:top;margin:8px 12px 16px 0;background:#fff;border:1px solid #ddd;
padding:8px}figcaption{font-weight:600;margin-bottom:4px;max-width:560px}
svg text{font-size:11px;fill:#333}svg .label{font-size:12px}svg .cell{font-size:10px}
svg .grid{stroke:#eee}svg .axis{stroke:#888}.legend{max-width:560px}.key{margin-right:12px;white-space:nowrap}
.key i{display:inline-block;width:14px;height:4px;margin:0 4px 3px 0}.key i.dashed{opacity:.6}
.note{color:#666;font-size:12px;max-width:560px;margin:4px 0 0}
.table-wrap{overflow-x:auto;margin:8px 0 16px}table.data{border-collapse:collapse;background:#fff;font-size:12px}
table.data caption{text-align:left;font-weight:600;padding:4px 0}
table.data th,table.data td{border:1px solid #ddd;padding:3px 6px;text-align:right;white-space:nowrap}
table.data th{background:#f0f3f6}
"""

JS = """
(function () {
  var empty = [];
  var charts = document.querySelectorAll("figure.chart");
  charts.forEach(function (chart) {
    if (chart.querySelectorAll(".mark").length === 0) { empty.push(chart.id); }
  });
  document.querySelectorAll("table.data").forEach(function (table) {
    if (table.tBodies[0].rows.length === 0) { empty.push(table.id); }
  });
  document.body.setAttribute("data-charts", String(charts.length));
  document.body.setAttribute("data-report-status", empty.length ? "empty: " + empty.join(" ") : "ok");
  if (empty.length) { console.error("report: empty charts or tables: " + empty.join(", ")); }
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Customer journeys: segments and purchase propensity</title><style>{css}</style></head>
<body data-report-status="pending"><header><h1>Customer journeys: segments and purchase propensity</h1>
<p>Built from {source} on {generated}. Self-contained: no network needed.</p></header>
<nav>{nav}</nav><main>{body}</main><script>{js}</script></body></html>
"""
