"""Propensity pictures: ROC and PR curves with bootstrap bands, calibration, confusion matrices, the leakage
audit's strongest inputs, the training curves and, when the build ran them, the experiments grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from journeys.report.curves import (
    BAND_GRID,
    BOOTSTRAP_REPLICATES,
    CALIBRATION_BINS,
    bootstrap_bands,
    bootstrap_weights,
    calibration_bins,
    corners,
    curves,
    run_ends,
)
from journeys.report.page import PALETTE, Chart, Section
from journeys.report.tables import Tables

AUDIT_TOP = 15
CONFUSION_CELLS = ("true_negatives", "false_positives", "false_negatives", "true_positives")
EXPERIMENT_COLUMNS = (
    "sequence_length",
    "encoding",
    "model",
    "roc_auc",
    "ci_lower",
    "ci_upper",
    "fit_seconds",
)


def propensity_section(tables: Tables) -> Section:
    scores = test_scores(tables)
    metrics = test_metrics(tables)
    parts: list[Chart | str] = [
        _roc_pr(scores, metrics),
        _calibration(scores, metrics),
        _confusion(metrics),
        _audit(tables),
    ]
    cutoff = _cutoff(tables)
    if cutoff is not None:
        parts.append(cutoff)
    if tables.has("propensity_experiments", *EXPERIMENT_COLUMNS):
        parts.append(_experiments(tables))
    return Section("propensity", "Purchase propensity", parts)


def test_scores(tables: Tables) -> pd.DataFrame:
    """Per-contact test-split scores and labels of every propensity model: model_name, contact_id, score, label."""
    scores = tables.df(
        "select model_name, contact_id, score, label from propensity_test_predictions",
        "propensity_test_predictions",
    )
    if scores.empty:
        raise ValueError(
            "propensity_test_predictions is empty (multi-class target?): no ROC / PR curves to draw"
        )
    return scores.assign(label=scores["label"].astype(bool))


def test_metrics(tables: Tables) -> pd.DataFrame:
    """Test-split propensity metrics, one row per model, one column per metric (plus ci_lower / ci_upper of
    roc_auc when the build records intervals)."""
    extra = f", {tables.interval_columns()}"
    long = tables.df(
        f"select model_name, metric, value{extra} from model_metrics "
        "where split = 'test' and model_name in (select distinct model_name from propensity_test_predictions)",
        "model_metrics",
        "propensity_test_predictions",
    )
    wide = long.pivot_table(index="model_name", columns="metric", values="value", aggfunc="first")
    auc = long[long["metric"] == "roc_auc"].set_index("model_name")[["ci_lower", "ci_upper"]].astype(float)
    return wide.join(auc.rename(columns=lambda c: f"roc_auc_{c}"))


def _roc_pr(scores: pd.DataFrame, metrics: pd.DataFrame) -> Chart:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("ROC", "precision-recall"), horizontal_spacing=0.1)
    prevalence = float(scores.groupby("model_name")["label"].mean().iloc[0])
    scores = scores.sort_values(["model_name", "contact_id"])
    weights = bootstrap_weights(int(scores.groupby("model_name").size().iloc[0]))
    for i, (model, group) in enumerate(scores.groupby("model_name", sort=True)):
        labels, values = group["label"].to_numpy(bool), group["score"].to_numpy(float)
        c, color = curves(labels, values), PALETTE[i % len(PALETTE)]
        legend = _auc_label(model, metrics)
        if values.min() < values.max():
            same_contacts = weights if len(group) == weights.shape[1] else bootstrap_weights(len(group))
            bands = bootstrap_bands(labels, values, same_contacts)
            _band(fig, BAND_GRID, bands["tpr_low"], bands["tpr_high"], color, model, col=1)
            _band(fig, BAND_GRID, bands["precision_low"], bands["precision_high"], color, model, col=2)
        roc = corners(c["fp"], c["tp"])
        fig.add_scatter(
            x=c["fpr"][roc].astype(np.float32),
            y=c["tpr"][roc].astype(np.float32),
            mode="lines",
            name=legend,
            legendgroup=model,
            line={"color": color},
            customdata=c["threshold"][roc].astype(np.float32),
            row=1,
            col=1,
            hovertemplate=f"{model}<br>FPR %{{x:.4f}}<br>TPR %{{y:.4f}}<br>threshold %{{customdata:.4f}}<extra></extra>",
        )
        pr = np.unique(np.r_[corners(c["tp"], c["fp"]), run_ends(c["recall"])])
        fig.add_scatter(
            x=c["recall"][pr].astype(np.float32),
            y=c["precision"][pr].astype(np.float32),
            mode="lines",
            name=legend,
            legendgroup=model,
            showlegend=False,
            line={"color": color, "shape": "linear"},
            customdata=c["threshold"][pr].astype(np.float32),
            row=1,
            col=2,
            hovertemplate=f"{model}<br>recall %{{x:.4f}}<br>precision %{{y:.4f}}<br>threshold %{{customdata:.4f}}"
            "<extra></extra>",
        )
        if {"true_positives", "false_positives", "threshold"} <= set(
            metrics.columns
        ) and model in metrics.index:
            _operating_point(fig, metrics.loc[model], model, color)
    fig.add_scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        name="chance",
        line={"dash": "dash", "color": "#777"},
        hoverinfo="skip",
        row=1,
        col=1,
    )
    fig.add_scatter(
        x=[0, 1],
        y=[prevalence] * 2,
        mode="lines",
        name=f"prevalence {prevalence:.4f}",
        line={"dash": "dot", "color": "#777"},
        hoverinfo="skip",
        row=1,
        col=2,
    )
    fig.update_xaxes(range=[0, 1], row=1, col=1, title_text="false positive rate")
    fig.update_yaxes(range=[0, 1.01], row=1, col=1, title_text="true positive rate")
    fig.update_xaxes(range=[0, 1], row=1, col=2, title_text="recall")
    fig.update_yaxes(range=[0, 1.01], row=1, col=2, title_text="precision")
    fig.update_layout(height=520, width=1180, legend={"orientation": "h", "y": -0.18})
    return Chart(
        "roc-pr",
        "ROC and precision-recall curves, test split",
        fig,
        note=f"{scores['contact_id'].nunique():,} test contacts (propensity_test_predictions); every distinct "
        "score is a vertex (only points inside straight runs are left out, so the curves are exact); shaded: "
        f"pointwise 95% bootstrap band ({BOOTSTRAP_REPLICATES} seeded resamples of the test contacts, the same "
        "for every model); dots: each model's "
        "operating point at its threshold; click a legend entry to hide a model",
    )


def _auc_label(model: str, metrics: pd.DataFrame) -> str:
    if model not in metrics.index or "roc_auc" not in metrics.columns:
        return model
    row = metrics.loc[model]
    interval = ""
    if pd.notna(row.get("roc_auc_ci_lower")) and pd.notna(row.get("roc_auc_ci_upper")):
        interval = f" [{row['roc_auc_ci_lower']:.3f}, {row['roc_auc_ci_upper']:.3f}]"
    return f"{model} (ROC AUC {row['roc_auc']:.3f}{interval})"


def _band(
    fig: go.Figure, x: np.ndarray, low: np.ndarray, high: np.ndarray, color: str, model: str, col: int
) -> None:
    fill = f"rgba({int(color[1:3], 16)},{int(color[3:5], 16)},{int(color[5:7], 16)},0.15)"
    fig.add_scatter(
        x=x,
        y=low.astype(np.float32),
        mode="lines",
        line={"width": 0},
        legendgroup=model,
        showlegend=False,
        hoverinfo="skip",
        row=1,
        col=col,
    )
    fig.add_scatter(
        x=x,
        y=high.astype(np.float32),
        mode="lines",
        line={"width": 0},
        fill="tonexty",
        fillcolor=fill,
        legendgroup=model,
        showlegend=False,
        hoverinfo="skip",
        row=1,
        col=col,
    )


def _operating_point(fig: go.Figure, row: pd.Series, model: str, color: str) -> None:
    tp, fp, tn, fn = (
        float(row[c]) for c in ("true_positives", "false_positives", "true_negatives", "false_negatives")
    )
    if tp + fp == 0 or pd.isna(tp):
        return
    marker = {"color": color, "size": 10, "line": {"color": "#fff", "width": 1}}
    text = f"{model} at threshold {row['threshold']:.4g}"
    recall = tp / (tp + fn)
    panels = ((1, fp / (fp + tn), recall, "FPR", "TPR"), (2, recall, tp / (tp + fp), "recall", "precision"))
    for col, x, y, x_name, y_name in panels:
        fig.add_scatter(
            x=[x], y=[y], mode="markers", marker=marker, legendgroup=model, showlegend=False, row=1, col=col,
            hovertemplate=f"{text}<br>{x_name} %{{x:.4f}}<br>{y_name} %{{y:.4f}}<extra></extra>",
        )  # fmt: skip


def _calibration(scores: pd.DataFrame, metrics: pd.DataFrame) -> Chart:
    fig = go.Figure()
    top = 0.0
    constant = []
    for i, (model, group) in enumerate(scores.groupby("model_name", sort=True)):
        if group["score"].nunique() == 1:
            constant.append(model)
            continue
        bins = calibration_bins(group["label"].to_numpy(bool), group["score"].to_numpy(float))
        top = max(top, float((bins["observed"] + bins["half_width"]).max()), float(bins["predicted"].max()))
        brier = (
            f" (Brier {metrics.loc[model, 'brier']:.4f})"
            if "brier" in metrics.columns and model in metrics.index
            else ""
        )
        fig.add_scatter(
            x=bins["predicted"],
            y=bins["observed"],
            mode="lines+markers",
            name=f"{model}{brier}",
            line={"color": PALETTE[i % len(PALETTE)]},
            customdata=bins[["n", "half_width"]].to_numpy(float),
            error_y={"type": "data", "array": bins["half_width"].to_numpy(float), "thickness": 1},
            hovertemplate=f"{model}<br>mean predicted %{{x:.4f}}<br>observed %{{y:.4f}} ± %{{customdata[1]:.4f}}"
            "<br>%{customdata[0]:,} contacts<extra></extra>",
        )
    fig.add_scatter(
        x=[0, top],
        y=[0, top],
        mode="lines",
        name="perfect calibration",
        line={"dash": "dash", "color": "#777"},
        hoverinfo="skip",
    )
    fig.update_layout(
        height=480, width=780, xaxis_title="mean predicted propensity", yaxis_title="observed buyer rate"
    )
    return Chart(
        "calibration",
        "Calibration: predicted against observed buyer rate, test split",
        fig,
        note=f"{CALIBRATION_BINS} equal-count score bins per model; bars: 95% interval of the observed rate"
        + (f"; not drawn: {', '.join(constant)} (one score for everyone)" if constant else ""),
    )


def _confusion(metrics: pd.DataFrame) -> Chart:
    models = [
        m
        for m in metrics.index
        if set(CONFUSION_CELLS) <= set(metrics.columns)
        and metrics.loc[m, list(CONFUSION_CELLS)].notna().all()
    ]
    fig = make_subplots(rows=1, cols=len(models), subplot_titles=models, horizontal_spacing=0.06)
    for col, model in enumerate(models, start=1):
        counts = metrics.loc[model, list(CONFUSION_CELLS)].to_numpy(float).reshape(2, 2)
        share = counts / max(counts.sum(), 1)
        fig.add_heatmap(
            z=share,
            x=["predicted: no", "predicted: buyer"],
            y=["actual: no", "actual: buyer"],
            customdata=counts,
            text=[
                [f"{n:,.0f}<br>{q:.1%}" for n, q in zip(r, p, strict=True)]
                for r, p in zip(counts, share, strict=True)
            ],
            colorscale="Blues",
            zmin=0,
            zmax=1,
            showscale=False,
            texttemplate="%{text}",
            hovertemplate=f"{model}<br>%{{y}}, %{{x}}: %{{customdata:,}} (%{{z:.2%}})<extra></extra>",
            row=1,
            col=col,
        )
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_yaxes(showticklabels=True, row=1, col=1)
    fig.update_layout(height=300, width=min(1180, max(420, 230 * len(models))), margin={"l": 100})
    return Chart(
        "confusion",
        "Confusion matrices at each model's threshold, test split",
        fig,
        note="thresholds chosen on the validation split (model_metrics)",
    )


def _audit(tables: Tables) -> Chart:
    audit = tables.df(
        f"select feature, feature_kind, roc_auc, separation, flagged, threshold from propensity_audit "
        f"where feature_kind != 'timing' order by separation desc, feature limit {AUDIT_TOP}",
        "propensity_audit",
    ).iloc[::-1]
    colors = [PALETTE[1] if flagged else PALETTE[0] for flagged in audit["flagged"].astype(bool)]
    fig = go.Figure(
        go.Bar(
            x=audit["separation"].to_numpy(float),
            y=audit["feature"],
            orientation="h",
            marker_color=colors,
            customdata=audit[["feature_kind", "roc_auc"]].to_numpy(object),
            name="separation",
            hovertemplate="%{y} (%{customdata[0]})<br>separation %{x:.4f}<br>ROC AUC %{customdata[1]:.4f}<extra></extra>",
        )
    )
    threshold = float(audit["threshold"].iloc[0])
    fig.add_vline(
        x=threshold,
        line_dash="dash",
        line_color=PALETTE[1],
        annotation_text=f"leakage threshold {threshold}",
        annotation_position="bottom left",
    )
    fig.update_layout(
        height=160 + 24 * len(audit),
        width=780,
        xaxis={"range": [0.5, 1.0], "title": "separation"},
        margin={"l": 220},
    )
    return Chart(
        "audit",
        f"Strongest single inputs (leakage audit, top {len(audit)})",
        fig,
        note="each input's own ROC AUC against the label on the training contacts, separation = max(AUC, 1 - AUC) "
        "(propensity_audit); red: flagged as a likely leak",
    )


def _cutoff(tables: Tables) -> Chart | None:
    """The best baseline's test ROC AUC with and without the pages and dates after the First Conversion Date
    (model_metrics' roc_auc_cutoff_*; a jump is a leak by timing), when the build measured it."""
    rows = tables.df(
        f"select model_name, metric, value, {tables.interval_columns()} from model_metrics "
        "where split = 'test' and metric in ('roc_auc_cutoff_first_conversion', 'roc_auc_cutoff_none', "
        "'cutoff_leak') order by metric",
        "model_metrics",
    )
    if len(rows) < 3:
        return None
    values = rows.set_index("metric")
    bars = values.loc[["roc_auc_cutoff_first_conversion", "roc_auc_cutoff_none"]]
    auc = bars["value"].to_numpy(float)
    fig = go.Figure(
        go.Bar(
            x=["before the First Conversion Date", "every page and date"],
            y=auc,
            marker_color=[PALETTE[0], PALETTE[1]],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": bars["ci_upper"].to_numpy(float) - auc,
                "arrayminus": auc - bars["ci_lower"].to_numpy(float),
            },
            hovertemplate="%{x}<br>ROC AUC %{y:.4f}<extra></extra>",
        )
    )
    fig.update_layout(height=360, width=560, yaxis={"title": "test ROC AUC", "range": [0.5, 1.0]})
    leak = values.loc["cutoff_leak"]
    return Chart(
        "cutoff",
        f"Time-correct inputs: {rows['model_name'].iloc[0]} with and without what follows the conversion",
        fig,
        note=f"jump {leak['value']:+.4f} (95% CI {leak['ci_lower']:+.4f} to {leak['ci_upper']:+.4f}): the pages "
        "and dates after each contact's First Conversion Date (var journeys_propensity_cutoff); propensity_audit's "
        "after_first_conversion line warns from +0.01",
    )


def _experiments(tables: Tables) -> Chart:
    grid = tables.df(
        f"select {', '.join(EXPERIMENT_COLUMNS)} from propensity_experiments order by model, encoding, sequence_length",
        "propensity_experiments",
    )
    fig = go.Figure()
    for i, ((model, encoding), group) in enumerate(grid.groupby(["model", "encoding"], sort=True)):
        auc = group["roc_auc"].to_numpy(float)
        fig.add_scatter(
            x=group["sequence_length"].to_numpy(float),
            y=auc,
            mode="lines+markers",
            name=f"{model}, {encoding}",
            line={"color": PALETTE[i % len(PALETTE)]},
            customdata=group[["ci_lower", "ci_upper", "fit_seconds"]].to_numpy(float),
            error_y={
                "type": "data",
                "symmetric": False,
                "array": group["ci_upper"].to_numpy(float) - auc,
                "arrayminus": auc - group["ci_lower"].to_numpy(float),
                "thickness": 1,
            },
            hovertemplate=f"{model}, {encoding}<br>sequence length %{{x}}<br>ROC AUC %{{y:.4f}} "
            "[%{customdata[0]:.4f}, %{customdata[1]:.4f}]<br>fit %{customdata[2]:.1f} s<extra></extra>",
        )
    fig.update_layout(
        height=460,
        width=880,
        xaxis_title="pages kept per contact (sequence length)",
        yaxis_title="test ROC AUC",
    )
    return Chart(
        "experiments",
        "Experiments: test ROC AUC by sequence length, encoding and model",
        fig,
        note="propensity_experiments; bars: 95% interval",
    )
