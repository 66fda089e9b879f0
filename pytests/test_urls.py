"""`journeys.urls` against the SQL it twins: the compiled macro on generated URLs, and the built
warehouse on every distinct URL of the synthetic export."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import PROJECT_VARS, ROOT, dbt_env, project_categorizer, run_dbt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys.service.examples import STAGED_PAGES_SQL
from journeys.urls import normalize_urls

PROJECT_ALLOWLIST = PROJECT_VARS["journeys_url_query_allowlist"]

URL_PIECES = st.sampled_from(
    [*"aAwW.:/?#&=%_-@+ 12uthsxzéñ\n\t;,", "utm_", "http://", "https://", "www.", "translate.googleusercontent.com/",
     "u=", "%40", "_hsenc", "hsLang", ".com", "%2f", "%41", "%c3", "%28", "deeplearning.ai/", "blog", "events", "?a=1",
     "josé.núñez", "email=", "ref=", "%2B", ".co.uk", "ä"]
)  # fmt: skip
ALLOWLIST = ("a", "u", "email", "hslang")


def as_python(values: list) -> list[str | None]:
    return [
        None if value is None or value is pd.NA or isinstance(value, float) else value for value in values
    ]


@pytest.fixture(scope="module", params=[(), ALLOWLIST], ids=["default", "allowlist"])
def sql_normalize(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The `normalize_url` macro compiled by dbt (var journeys_url_query_allowlist = the param), run by DuckDB
    over a list of raw URLs; `normalize.allowlist` is the param."""
    base = tmp_path_factory.mktemp("macro")
    env = dbt_env(base / "raw", base / "unused.duckdb", base / "artifacts")
    result = run_dbt(
        [
            "compile",
            "--quiet",
            "--vars",
            "{journeys_url_query_allowlist: [" + ", ".join(request.param) + "]}",
            "--inline",
            "select {{ normalize_url('raw_url') }} as normalized_url from urls",
        ],
        env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sql = result.stdout.strip()
    con = duckdb.connect()

    def normalize(urls: list[str | None]) -> list[str | None]:
        con.register("urls", pd.DataFrame({"raw_url": pd.Series(urls, dtype="string")}))
        return as_python(con.execute(sql).df()["normalized_url"].tolist())

    normalize.allowlist = request.param
    yield normalize
    con.close()


def test_known_urls() -> None:
    raw = pd.Series(
        [
            " https://www.deeplearning.ai/?utm_source=x&utm_medium=y",
            "HTTPS://blog.deeplearning.ai/blog/foo/?hsLang=en#top",
            "https://translate.googleusercontent.com/translate_c?depth=1&u=https%3A%2F%2Fwww.deeplearning.ai%2Fai-for-everyone%2F",
            "http://x.com/?email=a.b@c.com&&b=1",
            "https://x.com/u/jos%C3%A9.n%C3%BA%C3%B1ez%40exämple.com/?e=josé+tag@exämple.co.uk#a@b.com",
            "https://translate.googleusercontent.com/translate_c?u=https%3A%2F%2Fdeeplearning.ai%2Fcaf%C3%28",
            "",
            None,
        ],
        dtype="string",
    )
    assert as_python(normalize_urls(raw, PROJECT_ALLOWLIST).tolist()) == [
        "deeplearning.ai/",
        "blog.deeplearning.ai/blog/foo",
        "deeplearning.ai/ai-for-everyone",
        "x.com/",
        "x.com/u/redacted-email",
        "https%3a%2f%2fdeeplearning.ai%2fcaf%c3%28/",
        None,
        None,
    ]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(URL_PIECES, max_size=14).map("".join), min_size=1, max_size=25))
def test_normalisation_matches_the_compiled_macro(sql_normalize, urls: list[str]) -> None:
    python = normalize_urls(pd.Series(urls, dtype="string"), query_allowlist=sql_normalize.allowlist)
    assert as_python(python.tolist()) == sql_normalize(urls)


def test_allowlisted_parameters_are_kept_in_order_and_addresses_redacted() -> None:
    raw = pd.Series(["https://x.com/p/?utm_source=z&b=2&A=1&email=josé%40exämple.com&a=#f"], dtype="string")
    assert normalize_urls(raw, query_allowlist=("a", "email")).tolist() == [
        "x.com/p?a=1&email=redacted-email&a="
    ]


def test_seed_errors_name_file_and_rule(tmp_path: Path) -> None:
    codes = (ROOT / "seeds" / "url_category_codes.csv").read_text()
    (tmp_path / "url_category_codes.csv").write_text(codes)
    (tmp_path / "url_categories.csv").write_text(
        "rule_id,priority,match_type,pattern,category\nok,1,contains,blog,blog\nbad,2,glob,*x*,blog\n"
    )
    with pytest.raises(ValueError, match=r"url_categories.csv has 1 problem\(s\):\nrule bad \(glob '\*x\*'\): match_type"):
        project_categorizer(tmp_path)
    (tmp_path / "url_categories.csv").write_text(
        "rule_id,priority,match_type,pattern,category\nok,1,contains,blog,nowhere\n"
    )
    with pytest.raises(ValueError, match=r"rule ok \(contains 'blog'\): category 'nowhere' has no code"):
        project_categorizer(tmp_path)
    (tmp_path / "url_categories.csv").write_text(
        "rule_id,priority,match_type,pattern,category\nok,first,contains,blog,blog\n"
    )
    with pytest.raises(ValueError, match=r"url_categories.csv: row 2, field priority: 'first' is not a number"):
        project_categorizer(tmp_path)


def test_lowest_priority_wins_and_unmatched_is_other(tmp_path: Path) -> None:
    (tmp_path / "url_category_codes.csv").write_text(
        "category,category_code,is_conversion\nblog,2,false\nevents,1,false\nother,20,false\n"
    )
    (tmp_path / "url_categories.csv").write_text(
        "rule_id,priority,match_type,pattern,category\n"
        "late,50,contains,blog,blog\nearly,5,regex,/events?(/|$),events\nhome,1,exact,x.com/,blog\n"
    )
    rules = dataclasses.replace(project_categorizer(tmp_path), hosts=("x.com",))
    urls = ["https://x.com/events/blog/", "https://x.com/blog", "https://y.com/", "https://x.com", ""]
    assert rules.category_codes(urls).tolist() == [1, 2, 20, 2, 20], "NULL URLs are `other`, as in SQL"
    other_sites = ["https://y.com/blog", "https://x.com.evil.org/blog", "http://[::1]/blog", "https://bücher.x/blog"]
    assert rules.category_codes(other_sites).tolist() == [20] * 4, "rules see only the site's hosts"


def test_every_url_of_the_export_gets_the_warehouse_category(warehouse) -> None:
    """Parity on the built warehouse: every staged page view (raw URL, read from staging: raw URLs stop there)
    has the same normalised URL and category in int_page_views_categorized as journeys.urls gives it."""
    staged = warehouse.query(f"select contact_id, position, url from ({STAGED_PAGES_SQL})")
    built = warehouse.query(
        "select contact_id, position, normalized_url, category, category_code from int_page_views_categorized"
    )
    views = staged.merge(built, on=["contact_id", "position"], how="outer", validate="1:1", indicator=True)
    assert (views["_merge"] == "both").all(), views[views["_merge"] != "both"].head(10).to_string()
    sql = views.drop_duplicates("url")
    assert len(sql) > 100, "the synthetic export should hold many distinct URLs"
    rules = project_categorizer()
    normalized = normalize_urls(sql["url"].astype("string"), PROJECT_ALLOWLIST)
    mismatched = sql[normalized.fillna("<null>") != sql["normalized_url"].astype("string").fillna("<null>")]
    assert mismatched.empty, mismatched.head(10).to_string()
    categories = rules.categorize(normalized)
    wrong = sql[categories.fillna("<null>") != sql["category"].astype("string").fillna("<null>")]
    assert wrong.empty, wrong.head(10).to_string()
    codes = rules.category_codes(sql["url"].tolist())
    assert (codes == sql["category_code"].fillna(0).to_numpy()).all()


def test_no_table_past_staging_keeps_a_raw_url(warehouse) -> None:
    """Raw URLs stop in staging: no intermediate or mart column is named like one, and every URL column there
    holds normalised URLs only (no scheme, no `www.`, no query string or fragment: var journeys_url_query_allowlist is
    empty by default)."""
    columns = warehouse.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('intermediate', 'marts') and column_name like '%url%' and data_type = 'VARCHAR'"
    )
    assert not columns["column_name"].str.contains("raw").any(), columns.to_string()
    assert "int_page_views_normalized" in set(columns["table_name"])
    for row in columns.itertuples(index=False):
        raw_like = warehouse.query(
            f'select "{row.column_name}" as url from {row.table_schema}.{row.table_name} '
            f"where regexp_matches(\"{row.column_name}\", '^(https?:|www[.])|[?#]') limit 3"
        )
        assert raw_like.empty, (row.table_name, row.column_name, raw_like["url"].tolist())
    staged = warehouse.query(f"select count(*) as n from ({STAGED_PAGES_SQL}) where regexp_matches(url, '[?#]')")
    assert staged["n"].iloc[0] > 0, "the synthetic export has URLs with query strings: the check above can fail"
