"""The BiLSTM's training curves and every row of model_metrics as a table."""

from __future__ import annotations

import pandas as pd
from plotly.subplots import make_subplots

from journeys.report.page import PALETTE, Chart, Section, html_table
from journeys.report.tables import Tables


def training_section(tables: Tables) -> Section:
    """Loss and metric curves per epoch, train against validation; the kept epoch is marked, not drawn."""
    frame = tables.df("select * from training_history order by epoch", "training_history")
    metrics = [
        c
        for c in frame.columns
        if c != "epoch" and not c.startswith(("val_", "is_")) and pd.api.types.is_float_dtype(frame[c])
    ]
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=metrics)
    epochs = frame["epoch"].to_numpy(int)
    best = (
        frame.loc[frame["is_best_epoch"].astype(bool), "epoch"] if "is_best_epoch" in frame else pd.Series([])
    )
    for col, metric in enumerate(metrics, start=1):
        for j, (name, column) in enumerate((("train", metric), ("validation", f"val_{metric}"))):
            if column in frame.columns:
                fig.add_scatter(
                    x=epochs,
                    y=frame[column].to_numpy(float),
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    line={"color": PALETTE[j]},
                    row=1,
                    col=col,
                    hovertemplate=f"{name} {metric}<br>epoch %{{x}}: %{{y:.5f}}<extra></extra>",
                )
        for epoch in best:
            fig.add_vline(x=int(epoch), line_dash="dash", line_color=PALETTE[2], row=1, col=col)
    fig.update_xaxes(title_text="epoch", dtick=1)
    fig.update_layout(height=380, width=min(1180, 480 * len(metrics)))
    kept = ", ".join(str(int(e)) for e in best)
    note = (
        f"dashed line: epoch {kept}, whose weights were kept (training_history.is_best_epoch)" if kept else ""
    )
    return Section(
        "training", "Training curves", [Chart("training", "BiLSTM training curves", fig, note=note)]
    )


def metrics_section(tables: Tables) -> Section:
    """Every row of model_metrics, one line per (model, split), for readers who want the numbers."""
    frame = tables.df("select model_name, split, metric, value from model_metrics", "model_metrics")
    wide = frame.pivot_table(index=["model_name", "split"], columns="metric", values="value", aggfunc="first")
    return Section(
        "metrics", "Model metrics", [html_table("table-model-metrics", "model_metrics", wide.reset_index())]
    )
