"""Segment pictures: sizes and buyer rates, profiles as heat maps, the pairwise matrix, the choice of k and
a 2-D projection of contacts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from journeys.contract import ACTIVITY_COLUMNS, DAYS_COLUMNS
from journeys.report.page import PALETTE, Chart, Section
from journeys.report.tables import Tables

PROJECTION_SAMPLE = 3_000
PROJECTION_SEED = 0
PROJECTED_FEATURES = (*ACTIVITY_COLUMNS, "page_count", *DAYS_COLUMNS)


def segment_section(tables: Tables) -> Section:
    names = tables.segment_names()
    return Section(
        "segments",
        "Segments",
        [
            _sizes(tables, names),
            _standardised_means(tables, names),
            _category_shares(tables, names),
            _pairwise(tables, names),
            _k_selection(tables),
            _projection(tables, names),
        ],
    )


def _sizes(tables: Tables, names: dict[int, str]) -> Chart:
    sizes = tables.df(
        "select segment_id, any_value(segment_size) as contacts, any_value(segment_share) as share, "
        "any_value(buyer_rate) as buyer_rate from segment_profiles group by segment_id order by segment_id",
        "segment_profiles",
    )
    labels = [names[int(s)] for s in sizes["segment_id"]]
    custom = sizes[["share", "buyer_rate", "contacts"]].to_numpy(float)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("contacts", "buyer rate"), horizontal_spacing=0.12)
    fig.add_bar(
        x=labels,
        y=sizes["contacts"].to_numpy(float),
        name="contacts",
        marker_color=PALETTE[0],
        customdata=custom,
        hovertemplate="%{x}<br>%{y:,} contacts (%{customdata[0]:.2%})<extra></extra>",
        row=1,
        col=1,
    )
    fig.add_bar(
        x=labels,
        y=sizes["buyer_rate"].to_numpy(float),
        name="buyer rate",
        marker_color=PALETTE[1],
        customdata=custom,
        row=1,
        col=2,
        hovertemplate="%{x}<br>buyer rate %{y:.2%} of %{customdata[2]:,}<extra></extra>",
    )
    fig.update_yaxes(tickformat=".0%", row=1, col=2)
    fig.update_layout(height=380, width=980, showlegend=False, margin={"b": 60})
    return Chart(
        "segment-sizes",
        "Contacts and buyer rate per segment",
        fig,
        note=f"{int(sizes['contacts'].sum()):,} segmented contacts; buyer = non-empty courses field "
        "(segment_profiles)",
    )


def standardised_means(tables: Tables) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each numeric feature's segment mean (segment_profiles) in standard deviations of all segmented contacts,
    and in its own units: two frames indexed by feature, one column per segment."""
    means = tables.df(
        "select segment_id, feature, value from segment_profiles where statistic = 'mean'", "segment_profiles"
    ).pivot(index="feature", columns="segment_id", values="value")
    overall = _overall_moments(tables, list(means.index))
    z = (means.to_numpy(float) - overall[:, :1]) / np.where(overall[:, 1:] > 0, overall[:, 1:], 1)
    return pd.DataFrame(z, index=means.index, columns=means.columns), means


def _standardised_means(tables: Tables, names: dict[int, str]) -> Chart:
    z, means = standardised_means(tables)
    labels = [names[int(s)] for s in z.columns]
    fig = go.Figure(
        go.Heatmap(
            z=z.to_numpy(float),
            x=labels,
            y=list(z.index),
            customdata=means.to_numpy(float),
            colorscale="RdBu",
            reversescale=True,
            zmid=0,
            texttemplate="%{z:+.2f}",
            colorbar={"title": "SD"},
            hovertemplate="%{x}<br>%{y}: mean %{customdata:,.4g}<br>%{z:+.3f} SD from all contacts<extra></extra>",
        )
    )
    fig.update_layout(height=120 + 44 * len(z), width=980, margin={"l": 180})
    return Chart(
        "segment-profile-means",
        "Segment profiles: numeric features (standardised means)",
        fig,
        note="colour: segment mean minus the mean of all contacts, in their standard deviations (red above, "
        "blue below); counts missing = 0, missing days left out, as in segment_profiles",
    )


def _overall_moments(tables: Tables, features: list[str]) -> np.ndarray:
    """Mean and standard deviation over all segmented contacts, one row per feature, with the profiles'
    convention for missing values."""
    exprs = [f if f in DAYS_COLUMNS else f"coalesce({f}, 0)" for f in features]
    select = ", ".join(f"avg({e}), stddev_pop({e})" for e in exprs)
    row = tables.df(
        f"select {select} from contact_segments join contact_features using (contact_id)",
        "contact_segments",
        "contact_features",
    ).to_numpy(float)
    return row.reshape(len(features), 2)


def _category_shares(tables: Tables, names: dict[int, str]) -> Chart:
    """Share of each segment's contacts in each profiled category (a blank cell: not among its top categories)."""
    shares = tables.df(
        "select segment_id, feature || ' = ' || category as category, value from segment_profiles "
        "where statistic = 'share' order by feature, category",
        "segment_profiles",
    ).pivot(index="category", columns="segment_id", values="value")
    labels = [names[int(s)] for s in shares.columns]
    fig = go.Figure(
        go.Heatmap(
            z=shares.to_numpy(float),
            x=labels,
            y=list(shares.index),
            colorscale="Blues",
            zmin=0,
            zmax=1,
            texttemplate="%{z:.0%}",
            colorbar={"title": "share", "tickformat": ".0%"},
            hovertemplate="%{x}<br>%{y}: %{z:.2%} of the segment<extra></extra>",
        )
    )
    fig.update_layout(height=140 + 24 * len(shares), width=980, margin={"l": 260})
    fig.update_yaxes(autorange="reversed")
    return Chart(
        "segment-profile-categories",
        "Segment profiles: categorical features (share of the segment)",
        fig,
        note="top categories of each segment (segment_profiles); blank: not among that segment's top categories",
    )


def _pairwise(tables: Tables, names: dict[int, str]) -> Chart:
    """Prototype dissimilarity of every pair of segments; hover names the features that separate them most."""
    pairs = tables.df(
        "select segment_a, segment_b, prototype_dissimilarity, rank, feature, detail from segment_comparison "
        "order by segment_a, segment_b, rank",
        "segment_comparison",
    )
    ids = sorted(names)
    index = {s: i for i, s in enumerate(ids)}
    matrix = np.zeros((len(ids), len(ids)))
    hover = np.full((len(ids), len(ids)), "same segment", dtype=object)
    for (a, b), group in pairs.groupby(["segment_a", "segment_b"]):
        i, j = index[int(a)], index[int(b)]
        matrix[i, j] = matrix[j, i] = float(group["prototype_dissimilarity"].iloc[0])
        lines = [
            f"{r}. {f}: {d}" for r, f, d in zip(group["rank"], group["feature"], group["detail"], strict=True)
        ]
        hover[i, j] = "<br>".join(lines)
        hover[j, i] = "<br>".join(lines) + f"<br>(row: {names[int(b)]}, column: {names[int(a)]})"
    labels = [names[s] for s in ids]
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=labels,
            y=labels,
            customdata=hover,
            colorscale="Viridis",
            texttemplate="%{z:.2f}",
            colorbar={"title": "dissimilarity"},
            hovertemplate="%{y} vs %{x}<br>dissimilarity %{z:.4f}<br>%{customdata}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=220 + 45 * len(ids), width=260 + 60 * len(ids), margin={"l": 180})
    return Chart(
        "segment-pairs",
        "What separates each pair of segments",
        fig,
        note="colour: k-prototypes dissimilarity between the two prototypes (segment_comparison); hover a cell "
        "for the three features that separate the pair most",
    )


def _k_selection(tables: Tables) -> Chart:
    frame = tables.df(
        "select k, cost, silhouette, is_chosen from segment_k_selection order by k", "segment_k_selection"
    )
    chosen = frame[frame["is_chosen"].astype(bool)]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("cost", "silhouette"))
    for col, metric in enumerate(("cost", "silhouette"), start=1):
        known = frame[frame[metric].notna()]
        fig.add_scatter(
            x=known["k"],
            y=known[metric].to_numpy(float),
            mode="lines+markers",
            name=metric,
            marker_color=PALETTE[col - 1],
            row=1,
            col=col,
            hovertemplate=f"k = %{{x}}<br>{metric} %{{y:,.4f}}<extra></extra>",
        )
        fig.add_scatter(
            x=chosen["k"],
            y=chosen[metric].to_numpy(float),
            mode="markers",
            row=1,
            col=col,
            name=f"chosen k = {', '.join(map(str, chosen['k']))}",
            showlegend=col == 1,
            marker={"color": PALETTE[2], "size": 13, "symbol": "star"},
            hovertemplate=f"chosen k = %{{x}}<br>{metric} %{{y:,.4f}}<extra></extra>",
        )
    fig.update_xaxes(title_text="k", dtick=1)
    fig.update_layout(height=360, width=980)
    return Chart("k-selection", "Choice of k: cost and silhouette", fig, note="segment_k_selection")


def _projection(tables: Tables, names: dict[int, str]) -> Chart:
    """PCA (SVD of the standardised, log-scaled numeric features) of a seeded sample, coloured by segment."""
    columns = tables.columns("contact_features")
    numeric = [c for c in PROJECTED_FEATURES if c in columns]
    segmented = tables.df("select contact_id from contact_segments order by contact_id", "contact_segments")
    rng = np.random.default_rng(PROJECTION_SEED)
    size = min(PROJECTION_SAMPLE, len(segmented))
    tables.con.register(
        "projection_sample", segmented.iloc[np.sort(rng.choice(len(segmented), size, replace=False))]
    )
    frame = tables.df(
        f"select s.segment_id, {', '.join('f.' + c for c in numeric)} from projection_sample "
        "join contact_segments as s using (contact_id) join contact_features as f using (contact_id) "
        "order by contact_id",
        "contact_segments",
        "contact_features",
    )
    scaled = scaled_numeric(frame, numeric)
    _, singular, vt = np.linalg.svd(scaled, full_matrices=False)
    coords = (scaled @ vt[:2].T).astype(np.float32)
    explained = singular**2 / np.sum(singular**2)
    segments = frame["segment_id"].to_numpy()
    fig = go.Figure()
    for i, segment in enumerate(sorted(names)):
        mask = segments == segment
        fig.add_scatter(
            x=coords[mask, 0],
            y=coords[mask, 1],
            mode="markers",
            name=names[segment],
            marker={"size": 4, "opacity": 0.6, "color": PALETTE[i % len(PALETTE)]},
            hovertemplate=f"{names[segment]}<br>PC1 %{{x:.3f}}<br>PC2 %{{y:.3f}}<extra></extra>",
        )
    fig.update_layout(
        height=520,
        width=980,
        xaxis_title=f"PC1 ({explained[0]:.0%} of variance)",
        yaxis_title=f"PC2 ({explained[1]:.0%} of variance)",
    )
    return Chart(
        "projection",
        "Contacts in the first two principal components, coloured by segment",
        fig,
        note=f"seeded sample of {len(frame):,} of {len(segmented):,} contacts; counts log1p (missing = 0), days as "
        "they are (missing = mean), all standardised; click a legend entry to hide a segment",
    )


def scaled_numeric(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Counts (HubSpot leaves a zero count empty: missing = 0) as log1p, days as they are; both z-scored over
    the given rows, a missing day then set to the mean (0)."""
    values = frame[columns].to_numpy(dtype=float, na_value=np.nan)
    is_count = np.array([c not in DAYS_COLUMNS for c in columns])
    values[:, is_count] = np.log1p(np.clip(np.nan_to_num(values[:, is_count]), 0, None))
    mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    return np.nan_to_num((values - mean) / np.where(std > 0, std, 1))
