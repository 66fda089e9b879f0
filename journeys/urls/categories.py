"""The analyst's loop on the URL category rules (`make categories`): keep the URL categories of the
previous build, then, after dbt rebuilt the URL layer, print the coverage, the top unmapped URLs, the
rules that decide nothing and what the rule edit changed.

Everything is computed by DuckDB from the build's tables; the previous categories are kept in a
Parquet file beside the database (one row per normalised URL, no personal data: no query string, addresses
redacted).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import yaml

from journeys.warehouse import connect

SELECTORS_FILE = Path(__file__).resolve().parents[2] / "selectors.yml"

PREVIOUS_FILE_NAME = "url_categories_previous.parquet"
# The dbt selectors of the loop (selectors.yml): the URL layer, and the same with the staged export rebuilt.
URL_LAYER, URL_LAYER_RESTAGED = "url_layer", "url_layer_restaged"
RAW_FILES = ("hubspot_export.csv", "pageview_hist.csv")
OPTIONAL_RAW_FILES = ("page_events.csv",)


def staged_models(selectors_file: Path = SELECTORS_FILE) -> list[str]:
    """The staging models url_layer_restaged rebuilds (selectors.yml), whose tables url_layer reads."""
    selectors = {s["name"]: s for s in yaml.safe_load(Path(selectors_file).read_text())["selectors"]}
    return [part["value"] for part in selectors[URL_LAYER_RESTAGED]["definition"]["union"]
            if part.get("method") == "fqn"]


def previous_categories_path(db_path: Path) -> Path:
    """Where the previous build's URL categories are kept: beside the DuckDB file."""
    return Path(db_path).with_name(PREVIOUS_FILE_NAME)


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute("select count(*) from duckdb_tables() where table_name = ?", [name]).fetchone()[0]
    )


def selector_to_build(db_path: Path, raw_dir: Path) -> str:
    """The dbt selector of the loop: url_layer, or url_layer_restaged when the database lacks the staged export
    or a raw file is newer than the database (a new export)."""
    db_path, raw_dir = Path(db_path), Path(raw_dir)
    raw_paths = [raw_dir / name for name in RAW_FILES]
    raw_paths += [path for path in (raw_dir / name for name in OPTIONAL_RAW_FILES) if path.exists()]
    if not db_path.exists() or any(
        not path.exists() or path.stat().st_mtime > db_path.stat().st_mtime for path in raw_paths
    ):
        return URL_LAYER_RESTAGED
    staging = staged_models()
    with connect(db_path) as con:
        staged = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where list_contains(?, table_name)",
                [staging],
            ).fetchall()
        }
    return URL_LAYER if staged == set(staging) else URL_LAYER_RESTAGED


def snapshot_categories(db_path: Path) -> int:
    """Copy (normalized_url, category) of the last build to the Parquet file; 0 rows (and no file) on a first
    build."""
    target = previous_categories_path(db_path)
    target.unlink(missing_ok=True)
    if not Path(db_path).exists():
        return 0
    with connect(db_path) as con:
        if not _has_table(con, "int_urls_categorized"):
            return 0
        con.execute(
            f"copy (select normalized_url, category from int_urls_categorized) to '{target}' (format parquet)"
        )
        return con.execute(f"select count(*) from '{target}'").fetchone()[0]


def category_changes(con: duckdb.DuckDBPyConnection, previous: Path) -> pd.DataFrame:
    """Per (previous category -> category): distinct normalised URLs and page views that moved.

    Normalised URLs (what rules match) are compared; URLs absent from the previous build (a new export, or
    a changed var journeys_url_query_allowlist) are not changes.
    """
    return con.execute(
        f"""
        with previous as (select * from read_parquet('{previous}')),
        views_per_url as (
            select normalized_url, count(*) as page_views from int_page_views_categorized group by normalized_url
        )
        select
            previous.category as previous_category,
            current.category,
            count(distinct current.normalized_url) as urls,
            cast(coalesce(sum(views_per_url.page_views), 0) as bigint) as page_views,
        from int_urls_categorized as current
        inner join previous on current.normalized_url = previous.normalized_url
        left join views_per_url on current.normalized_url = views_per_url.normalized_url
        where current.category != previous.category
        group by all
        order by page_views desc, urls desc, previous_category, category
        """
    ).df()


def report(db_path: Path, top_unmapped: int = 15) -> str:
    """The text `make categories` prints after the build."""
    previous = previous_categories_path(db_path)
    with connect(db_path) as con:
        coverage = con.execute(
            "select category, page_views, share_of_page_views, distinct_urls from url_category_coverage "
            "order by page_views desc, category"
        ).df()
        unmapped = con.execute(
            "select views, contacts, case when is_site_page then 'site' else 'other site' end as host, "
            "normalized_url from unmapped_urls order by view_rank limit ?",
            [top_unmapped],
        ).df()
        idle_rules = con.execute(
            "select status, rule_id, match_type, pattern, urls_lost, lost_most_to_rule_id from url_rule_hits "
            "where status != 'ok' order by status, priority"
        ).df()
        changes = category_changes(con, previous) if previous.exists() else None
    lines = [
        _coverage_text(coverage),
        "",
        _unmapped_text(unmapped, top_unmapped),
        "",
        _idle_rules_text(idle_rules),
    ]
    lines += ["", _changes_text(changes)]
    return "\n".join(lines)


def _coverage_text(coverage: pd.DataFrame) -> str:
    views = int(coverage["page_views"].sum())
    other = coverage.loc[coverage["category"] == "other", "share_of_page_views"].sum()
    table = coverage.assign(share=(100 * coverage["share_of_page_views"]).map("{:.2f}%".format))
    table = table[["category", "page_views", "share", "distinct_urls"]].rename(
        columns={"distinct_urls": "urls"}
    )
    return (
        f"Coverage (url_category_coverage): {views:,} page views, {100 * other:.2f}% unmatched (other)\n"
        + table.to_string(index=False)
    )


def _unmapped_text(unmapped: pd.DataFrame, top: int) -> str:
    if unmapped.empty:
        return "Unmapped URLs (unmapped_urls): none"
    return (
        f"Top {top} unmapped URLs (unmapped_urls; rules match them as shown, and see `other site` hosts only once "
        "they are in var journeys_site_hosts):\n" + unmapped.to_string(index=False)
    )


def _idle_rules_text(idle: pd.DataFrame) -> str:
    if idle.empty:
        return "Rules (url_rule_hits): every rule decides the category of at least one URL"
    rows = [
        f"  {row.status:<8} {row.rule_id} ({row.match_type} '{row.pattern}'): "
        + (
            "matches no URL"
            if row.status == "dead"
            else f"its {row.urls_lost} URL(s) are all taken first, most by {row.lost_most_to_rule_id}"
        )
        for row in idle.itertuples(index=False)
    ]
    return f"Rules that decide nothing (url_rule_hits, {len(idle)}):\n" + "\n".join(rows)


def _changes_text(changes: pd.DataFrame | None) -> str:
    if changes is None:
        return "Changed since the previous build: no previous build to compare with"
    if changes.empty:
        return "Changed since the previous build: no URL changed category"
    head = (
        f"Changed since the previous build: {int(changes['urls'].sum()):,} URL(s), "
        f"{int(changes['page_views'].sum()):,} page views changed category"
    )
    table = changes.rename(columns={"previous_category": "from", "category": "to"})
    return head + "\n" + table.to_string(index=False)
