"""What changed between builds: the summary's lines and the drift-over-builds picture.

Reads `score_drift` (one set of rows per build: the propensity PSI against the previous build's deciles and
each segment's share) and `model_runs` (one row per training, and per change of a current version). A model was retrained since the previous
build when it has a training recorded after that build's `built_at`; otherwise the build scored with the
saved model.
"""

from __future__ import annotations

from html import escape

import pandas as pd
from plotly.subplots import make_subplots

from journeys.report.page import PALETTE, Chart, Section, figure
from journeys.report.tables import Tables

MODELS = ("segments", "propensity")
SHARE_MOVES = 3
MIN_SHARE_MOVE = 0.001  # smaller moves are not listed
# journeys.monitoring.drift's rule of thumb for the PSI
PSI_STABLE, PSI_MOVED = 0.1, 0.2


def _builds(tables: Tables) -> pd.DataFrame:
    """One row per build of score_drift: number and time, oldest first."""
    return tables.df(
        "select build_number, min(built_at) as built_at from score_drift group by 1 order by 1", "score_drift"
    )


def psi_verdict(psi: float) -> str:
    if psi < PSI_STABLE:
        return "stable"
    return "moved" if psi > PSI_MOVED else "shifting"


def changes_summary(tables: Tables, names: dict[int, str]) -> str:
    """The summary's "since the previous build" block; on the first recorded build, a line saying so."""
    if not tables.has("score_drift", "build_number"):
        return ""
    builds = _builds(tables)
    if builds.empty:
        return ""
    if len(builds) < 2:
        return (
            "<h3>Since the previous build</h3><p>This is the first build recorded in score_drift "
            f"({figure('builds-recorded', str(len(builds)))} build): nothing to compare yet.</p>"
        )
    latest, previous = builds.iloc[-1], builds.iloc[-2]
    drift = tables.df(
        f"select measure, segment_id, value, previous_value, change from score_drift "
        f"where build_number = {int(latest.build_number)}",
        "score_drift",
    )
    items = [_psi_line(drift)]
    items.append(_share_line(drift, names))
    items += [_model_line(tables, model, previous.built_at, latest.built_at) for model in MODELS]
    head = (
        f"<h3>Since the previous build (build {figure('builds-recorded', str(len(builds)))} "
        f"against build {int(previous.build_number)}, {previous.built_at:%Y-%m-%d %H:%M} UTC)</h3>"
    )
    return head + "<ul>" + "".join(f"<li>{item}</li>" for item in items if item) + "</ul>"


def _psi_line(drift: pd.DataFrame) -> str:
    psi = drift.loc[drift["measure"] == "propensity_psi", "value"].dropna()
    if psi.empty:
        return "propensity scores: no PSI (no scores to compare)"
    value = float(psi.iloc[0])
    return (
        f"propensity scores: PSI {figure('psi', f'{value:.3f}')} over the previous build's deciles, "
        f"{figure('psi-verdict', psi_verdict(value))} (under {PSI_STABLE} stable, over {PSI_MOVED} moved)"
    )


def _share_line(drift: pd.DataFrame, names: dict[int, str]) -> str:
    """The segments whose share of contacts moved most, at most SHARE_MOVES of those that moved by
    MIN_SHARE_MOVE or more (a new segment, without a previous share, first)."""
    shares = drift[drift["measure"] == "segment_share"].copy()
    if shares.empty:
        return ""
    shares["size"] = shares["change"].abs().fillna(float("inf"))
    moves = shares[shares["size"] >= MIN_SHARE_MOVE]
    if moves.empty:
        largest = figure("largest-share-move", f"{100 * shares['size'].max():.2f} points")
        return f"segment shares: none moved by {100 * MIN_SHARE_MOVE:.1f} points or more (largest {largest})"
    moves = moves.sort_values(["size", "segment_id"], ascending=[False, True]).head(SHARE_MOVES)
    parts = []
    for row in moves.itertuples(index=False):
        segment = int(row.segment_id)
        name = escape(names.get(segment, f"segment {segment}"))
        if pd.isna(row.previous_value):
            parts.append(f"{name} new at {figure(f'share-{segment}', f'{row.value:.1%}')}")
        else:
            text = f"{row.previous_value:.1%} to {row.value:.1%} ({100 * row.change:+.1f} points)"
            parts.append(f"{name} {figure(f'share-{segment}', text)}")
    return "largest segment share moves: " + "; ".join(parts)


def _model_line(tables: Tables, model: str, since: pd.Timestamp, until: pd.Timestamp) -> str:
    """Retrained (with the reason and the new version) or scored with the saved model (its version)."""
    runs = tables.df(
        "select model_version, trained_at, reason from model_runs "
        f"where model_name = '{model}' and event = 'trained' and trained_at <= '{until}' order by trained_at",
        "model_runs",
    )
    if runs.empty:
        return ""
    last = runs.iloc[-1]
    if last.trained_at > since:
        status = figure(f"model-{model}", "retrained")
        return (
            f"{model} model: {status} ({escape(str(last.reason))}), now version {escape(last.model_version)}"
        )
    status = figure(f"model-{model}", "scored with the saved model")
    return (
        f"{model} model: {status}, version {escape(last.model_version)} "
        f"trained {last.trained_at:%Y-%m-%d %H:%M} UTC"
    )


def drift_section(tables: Tables, names: dict[int, str]) -> Section | None:
    """PSI and segment shares over the recorded builds; left out before there are two builds."""
    if not tables.has("score_drift", "build_number") or len(_builds(tables)) < 2:
        return None
    drift = tables.df(
        "select build_number, built_at, measure, segment_id, value from score_drift order by build_number",
        "score_drift",
    )
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("propensity PSI against the previous build", "segment share")
    )
    psi = drift[drift["measure"] == "propensity_psi"]
    fig.add_scatter(
        x=psi["build_number"].to_numpy(int),
        y=psi["value"].to_numpy(float),
        customdata=psi["built_at"].dt.strftime("%Y-%m-%d %H:%M").to_numpy(object),
        mode="lines+markers",
        name="PSI",
        line={"color": "#222"},
        hovertemplate="build %{x} (%{customdata} UTC)<br>PSI %{y:.4f}<extra></extra>",
        row=1,
        col=1,
    )
    fig.add_hline(y=PSI_MOVED, line_dash="dash", line_color=PALETTE[1], row=1, col=1)
    highest = float(psi["value"].max()) if psi["value"].notna().any() else 0.0
    top = 1.25 * max(PSI_MOVED, highest)
    fig.update_yaxes(range=[-0.04 * top, top], row=1, col=1)  # a PSI of 0 stays visible above the axis
    shares = drift[drift["measure"] == "segment_share"]
    for j, (segment, rows) in enumerate(shares.groupby("segment_id", sort=True)):
        name = names.get(int(segment), f"segment {segment}")
        fig.add_scatter(
            x=rows["build_number"].to_numpy(int),
            y=rows["value"].to_numpy(float),
            mode="lines+markers",
            name=name,
            line={"color": PALETTE[j % len(PALETTE)]},
            hovertemplate=f"{escape(name)}<br>build %{{x}}: %{{y:.2%}}<extra></extra>",
            row=1,
            col=2,
        )
    fig.update_xaxes(title_text="build", dtick=1)
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    fig.update_layout(height=400, width=1180)
    note = (
        f"score_drift, one point per build; dashed line: PSI {PSI_MOVED}, above which the dbt test warns. "
        "The first build has no PSI (nothing to compare with)."
    )
    return Section(
        "drift", "Drift over builds", [Chart("drift", "What moved between builds", fig, note=note)]
    )
