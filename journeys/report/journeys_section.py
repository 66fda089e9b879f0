"""Journey pictures, drawn when the build made their tables: page-category transitions as a Sankey diagram
and the category share at each step of the journey as a heat map."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from journeys.report.page import PALETTE, Chart, Section
from journeys.report.tables import Tables

TRANSITION_COLUMNS = ("from_category", "to_category", "transitions", "probability", "median_seconds_between")
STEP_COLUMNS = ("step", "category", "share")
SANKEY_LINKS = 60


def journeys_section(tables: Tables) -> Section | None:
    """None when the build has neither table with rows (they are empty without the page_events source)."""
    parts = []
    if _has_rows(tables, "category_transitions", TRANSITION_COLUMNS):
        parts.append(_transitions(tables))
    if _has_rows(tables, "step_matrix", STEP_COLUMNS):
        parts.append(_step_matrix(tables))
    return Section("journeys", "Journeys", parts) if parts else None


def _transitions(tables: Tables) -> Chart:
    """The most frequent transitions, from the category on the left to the next page's on the right."""
    links = tables.df(
        f"select {', '.join(TRANSITION_COLUMNS)} from category_transitions order by transitions desc, "
        f"from_category, to_category",
        "category_transitions",
    )
    total = float(links["transitions"].sum())
    shown = links.head(SANKEY_LINKS)
    sources = sorted(set(shown["from_category"]))
    targets = sorted(set(shown["to_category"]))
    labels = [f"{c} →" for c in sources] + [f"→ {c}" for c in targets]
    colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(sorted(set(sources) | set(targets)))}
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "pad": 8,
                "color": [colors[c] for c in (*sources, *targets)],
                "hovertemplate": "%{label}<br>%{value:,} transitions<extra></extra>",
            },
            link={
                "source": [sources.index(c) for c in shown["from_category"]],
                "target": [len(sources) + targets.index(c) for c in shown["to_category"]],
                "value": shown["transitions"].to_numpy(float),
                "color": [_transparent(colors[c]) for c in shown["from_category"]],
                "customdata": shown[["probability", "median_seconds_between"]].to_numpy(float),
                "hovertemplate": "%{source.label} %{target.label}<br>%{value:,} transitions<br>"
                "P(next | from) %{customdata[0]:.2%}<br>median %{customdata[1]:,.0f} s between<extra></extra>",
            },
        )
    )
    fig.update_layout(height=620, width=1180)
    return Chart(
        "transitions",
        "Where journeys go next: page-category transitions",
        fig,
        note=f"the {len(shown)} most frequent of {len(links)} transitions ({shown['transitions'].sum() / total:.1%} "
        "of all), category_transitions; hover a link for its probability and the median time between pages",
    )


def _step_matrix(tables: Tables) -> Chart:
    steps = tables.df(
        f"select {', '.join(STEP_COLUMNS)} from step_matrix order by step, category", "step_matrix"
    ).pivot(index="category", columns="step", values="share")
    fig = go.Figure(
        go.Heatmap(
            z=steps.to_numpy(float),
            x=[str(s) for s in steps.columns],
            y=list(steps.index),
            colorscale="Blues",
            zmin=0,
            zmax=float(np.nanmax(steps.to_numpy(float))),
            texttemplate="%{z:.0%}",
            colorbar={"title": "share", "tickformat": ".0%"},
            hovertemplate="step %{x}<br>%{y}: %{z:.2%} of journeys at this step<extra></extra>",
        )
    )
    fig.update_layout(
        height=160 + 24 * len(steps), width=980, xaxis_title="step of the journey", margin={"l": 180}
    )
    return Chart(
        "step-matrix",
        "Page category at each step of the journey",
        fig,
        note="share of journeys whose page at that step is in the category (step_matrix)",
    )


def _has_rows(tables: Tables, table: str, columns: tuple[str, ...]) -> bool:
    return tables.has(table, *columns) and bool(tables.df(f"select count(*) as n from {table}", table)["n"].iloc[0])


def _transparent(color: str, alpha: float = 0.35) -> str:
    return f"rgba({int(color[1:3], 16)},{int(color[3:5], 16)},{int(color[5:7], 16)},{alpha})"
