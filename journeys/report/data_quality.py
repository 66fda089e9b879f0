"""Data-quality pictures: rows quarantined by reason, page views per URL category, the unmapped URLs.

Only normalised URLs are shown: they have e-mail addresses redacted, raw URLs may not."""

from __future__ import annotations

import plotly.graph_objects as go

from journeys.report.page import PALETTE, Chart, Section, html_table
from journeys.report.tables import Tables

TOP_UNMAPPED = 25


def data_quality_section(tables: Tables) -> Section:
    return Section(
        "data-quality",
        "Data quality",
        [
            _quarantine(tables),
            _coverage(tables),
            *_unmapped(tables),
        ],
    )


def _quarantine(tables: Tables) -> Chart | str:
    reasons = tables.df(
        "select source_file, quarantine_reason, count(*) as rows from quarantined_rows group by all "
        "order by source_file, rows desc",
        "quarantined_rows",
    )
    left_out = _left_out(tables)
    if reasons.empty:
        return f'<p class="note" id="no-quarantine">No raw line was quarantined.{left_out}</p>'
    fig = go.Figure()
    for i, (source, group) in enumerate(reasons.groupby("source_file", sort=True)):
        fig.add_bar(
            x=group["rows"].to_numpy(float),
            y=group["quarantine_reason"],
            orientation="h",
            name=source,
            marker_color=PALETTE[i % len(PALETTE)],
            hovertemplate=f"{source}<br>%{{y}}: %{{x:,}} rows<extra></extra>",
        )
    fig.update_layout(height=160 + 30 * len(reasons), width=780, margin={"l": 200}, xaxis_title="rows")
    return Chart(
        "quarantine",
        "Raw lines quarantined, by file and reason",
        fig,
        note=f"{int(reasons['rows'].sum()):,} lines kept aside with their reason (quarantined_rows).{left_out}",
    )


def _left_out(tables: Tables) -> str:
    """A sentence on the records an ELT tool's tables hold that are left out on purpose, not quarantined (contacts
    deleted in HubSpot, repeated or empty history rows); '' when there are none."""
    bases = ("base_hubspot__contact_records", "base_hubspot__property_history_records")
    if not all(tables.has(base, "left_out_reason") for base in bases):
        return ""
    records = " union all ".join(f"select left_out_reason from {base} where left_out_reason is not null"
                                 for base in bases)
    counts = tables.df(
        f"select left_out_reason, count(*) as records from ({records}) group by all order by records desc", *bases
    )
    if counts.empty:
        return ""
    listed = ", ".join(f"{row.left_out_reason} {row.records:,}" for row in counts.itertuples())
    return f" Left out on purpose (not quarantined): {listed}."


def _coverage(tables: Tables) -> Chart:
    coverage = tables.df(
        "select category, is_unmatched, page_views, contacts, distinct_urls, share_of_page_views "
        "from url_category_coverage order by page_views desc",
        "url_category_coverage",
    )
    matched = ~coverage["is_unmatched"].astype(bool)
    unmatched_share = float(coverage.loc[~matched, "share_of_page_views"].sum())
    fig = go.Figure()
    for name, mask, color in (
        ("matched by a rule", matched, PALETTE[0]),
        ("unmatched", ~matched, PALETTE[1]),
    ):
        part = coverage[mask]
        fig.add_bar(
            x=part["category"],
            y=part["page_views"].to_numpy(float),
            name=name,
            marker_color=color,
            customdata=part[["share_of_page_views", "contacts", "distinct_urls"]].to_numpy(float),
            hovertemplate="%{x}<br>%{y:,} page views (%{customdata[0]:.2%})<br>%{customdata[1]:,} contacts, "
            "%{customdata[2]:,} distinct URLs<extra></extra>",
        )
    fig.update_layout(
        height=420, width=980, yaxis_title="page views", xaxis={"categoryorder": "total descending"}
    )
    return Chart(
        "category-coverage",
        "Page views per URL category",
        fig,
        note=f"{unmatched_share:.2%} of page views match no rule (url_category_coverage)",
    )


def _unmapped(tables: Tables) -> list[Chart | str]:
    unmapped = tables.df(
        f"select view_rank, normalized_url, views, contacts from unmapped_urls order by view_rank limit {TOP_UNMAPPED}",
        "unmapped_urls",
    )
    if unmapped.empty:
        return ['<p class="note" id="no-unmapped">Every URL matched a category rule.</p>']
    shown = unmapped.iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=shown["views"].to_numpy(float),
            y=shown["normalized_url"],
            orientation="h",
            marker_color=PALETTE[2],
            customdata=shown["contacts"].to_numpy(float),
            name="views",
            hovertemplate="%{y}<br>%{x:,} views by %{customdata:,} contacts<extra></extra>",
        )
    )
    fig.update_layout(height=160 + 22 * len(shown), width=1180, margin={"l": 520}, xaxis_title="views")
    return [
        Chart(
            "unmapped-urls",
            f"Most viewed URLs no rule matches (top {len(unmapped)})",
            fig,
            note="add a rule to seeds/url_categories.csv to map them (unmapped_urls)",
        ),
        html_table(
            "table-unmapped-urls", f"Top {TOP_UNMAPPED} unmapped URLs", unmapped, max_rows=TOP_UNMAPPED
        ),
    ]
