"""The URL rule loop: rule checks (dbt seed test and its Python twin say the same), the seed's order,
`url_rule_hits` and the change summary of `make categories`."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT_VARS, ROOT, dbt_env, project_categorizer, run_dbt

from journeys.synth import catalog, url_templates
from journeys.urls import categories, normalize_urls
from journeys.urls.rules import rule_problems

ALLOWLIST = PROJECT_VARS["journeys_url_query_allowlist"]

HEADER = "rule_id,priority,match_type,pattern,category\n"
# One rule per problem the checks know, plus rules that look odd but can match a normalised URL.
BROKEN_RULES = (
    "ok_regex,1,regex,^deeplearning\\.ai/(blog|events)(/|$),blog\n"
    "broken_regex,2,regex,(deep-learning[,course\n"
    "look_behind,3,regex,(?<=blog/)x,blog\n"
    "upper_case,4,contains,Deep-Learning,course\n"
    "upper_case_regex,5,regex,/Blog/,blog\n"
    "escaped_class_regex,6,regex,\\d+\\Sx\\pL,blog\n"
    "case_insensitive_regex,7,regex,(?i)BLOG,blog\n"
    "with_scheme,8,prefix,https://www.deeplearning.ai/blog,blog\n"
    "with_scheme_regex,9,regex,^https?://deeplearning,blog\n"
    "optional_scheme_regex,10,regex,^(https?://)?deeplearning,blog\n"
    "with_www,11,exact,www.deeplearning.ai/,home\n"
    "with_www_regex,12,regex,^www\\.deeplearning,home\n"
    "trailing_slash,13,exact,deeplearning.ai/blog/,blog\n"
    "trailing_slash_regex,14,regex,/blog/$,blog\n"
    "home_page,15,exact,deeplearning.ai/,home\n"
    "no_path,16,exact,deeplearning.ai,home\n"
    "fragment,17,contains,#faq,home\n"
    "glob,18,glob,*x*,blog\n"
    "empty_pattern,19,contains,,blog\n"
    "unknown_category,20,contains,foo,courses\n"
    "tie_b,21,contains,bar,blog\n"
    "tie_a,21,contains,baz,blog\n"
)


@pytest.fixture(scope="module")
def sql_rule_problems(tmp_path_factory: pytest.TempPathFactory):
    """The seed test's `url_rule_problems` macro compiled by dbt, run by DuckDB on a rules CSV."""
    base = tmp_path_factory.mktemp("rules_macro")
    result = run_dbt(
        [
            "compile",
            "--quiet",
            "--inline",
            "{{ url_rule_problems('rules', 'codes') }} order by priority, rule_id, check_order",
        ],
        dbt_env(base / "raw", base / "unused.duckdb", base / "artifacts"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sql = result.stdout.strip()

    def problems(rules_csv: Path) -> list[str]:
        with duckdb.connect() as con:
            con.execute(
                "create table rules as select * from read_csv(?, header = true, all_varchar = true)",
                [str(rules_csv)],
            )
            con.execute("alter table rules alter priority type integer")
            con.execute(
                "create table codes as select * from read_csv(?, header = true, all_varchar = true)",
                [str(ROOT / "seeds" / "url_category_codes.csv")],
            )
            return [row[-1] for row in con.execute(sql).fetchall()]

    return problems


def python_rule_problems(rules_csv: Path) -> list[str]:
    rules = pd.read_csv(rules_csv, dtype=str, keep_default_na=False)
    rules["priority"] = pd.Series([int(p) if p else None for p in rules["priority"]], dtype=object)
    codes = pd.read_csv(ROOT / "seeds" / "url_category_codes.csv", dtype=str)
    return rule_problems(rules, codes["category"])


def test_every_kind_of_broken_rule_is_named_on_one_line(tmp_path: Path, sql_rule_problems) -> None:
    rules_csv = tmp_path / "url_categories.csv"
    rules_csv.write_text(HEADER + BROKEN_RULES)
    lines = python_rule_problems(rules_csv)
    assert lines == sql_rule_problems(rules_csv), "the service and the seed test must find the same problems"
    named = {line.split(" ")[1] for line in lines}
    assert named == {
        "broken_regex", "look_behind", "upper_case", "upper_case_regex", "with_scheme", "with_scheme_regex",
        "with_www", "with_www_regex", "trailing_slash", "trailing_slash_regex", "no_path", "fragment", "glob",
        "empty_pattern", "unknown_category", "tie_a", "tie_b",
    }  # fmt: skip
    assert "rule broken_regex (regex '(deep-learning['): not a valid RE2 regular expression" in lines
    assert (
        "rule upper_case (contains 'Deep-Learning'): has upper-case letters, but normalised URLs are lower-case"
        in lines
    )
    assert (
        "rule unknown_category (contains 'foo'): category 'courses' has no code in url_category_codes"
        in lines
    )
    assert (
        "rule tie_a (contains 'baz'): priority 21 is also the priority of tie_b (the winner would be arbitrary)"
        in lines
    )


def test_the_shipped_seed_has_no_problem(sql_rule_problems) -> None:
    seed = ROOT / "seeds" / "url_categories.csv"
    assert python_rule_problems(seed) == [] == sql_rule_problems(seed)


def test_the_service_refuses_what_the_build_refuses(tmp_path: Path) -> None:
    shutil.copy(ROOT / "seeds" / "url_category_codes.csv", tmp_path)
    (tmp_path / "url_categories.csv").write_text(HEADER + "look_behind,3,regex,(?<=blog/)x,blog\n")
    with pytest.raises(
        ValueError, match=r"1 problem\(s\):\nrule look_behind \(regex '\(\?<=blog/\)x'\): not a valid"
    ):
        project_categorizer(tmp_path)


def test_regex_rules_match_as_re2_does(tmp_path: Path) -> None:
    """`\\pL` and POSIX classes are RE2 syntax Python's `re` lacks or reads as plain characters."""
    shutil.copy(ROOT / "seeds" / "url_category_codes.csv", tmp_path)
    (tmp_path / "url_categories.csv").write_text(
        HEADER + "letters,1,regex,^x\\.com/\\pL+$,blog\nposix,2,regex,^y\\.com/[[:digit:]]+$,events\n"
    )
    rules = dataclasses.replace(project_categorizer(tmp_path), hosts=("x.com", "y.com"))
    urls = pd.Series(["x.com/café", "x.com/caf3", "y.com/123", "y.com/:dig"], dtype="string")
    assert rules.categorize(urls).tolist() == ["blog", "other", "events", "other"]


@pytest.mark.parametrize(
    ("url", "category"),
    [
        ("https://www.deeplearning.ai/blog/registration-tips-for-our-events/", "blog"),
        ("https://www.deeplearning.ai/forums/deep-learning-specialization/", "forum"),
        ("https://www.deeplearning.ai/events/ai-for-medicine-launch/", "events"),
        ("https://www.deeplearning.ai/courses/tensorflow-in-practice-specialization/", "course"),
        ("https://blog.deeplearning.ai/blog/how-to-subscribe-to-our-newsletter", "blog"),
        ("https://blog.deeplearning.ai/blog/the-batch-issue-12", "batch"),
        ("https://info.deeplearning.ai/hs/manage-preferences/unsubscribe?d=x", "unsubscribe"),
        ("https://info.deeplearning.ai/event-registration", "register"),
        ("https://www.deeplearning.ai/subscribe/", "subscribe"),
        ("https://www.deeplearning.ai/deep-learning-specialization/", "specialization"),
    ],
)
def test_sections_decide_before_slug_keywords(url: str, category: str) -> None:
    """The service's categoriser on the shipped seed; the dbt unit test
    `url_rules_structural_paths_before_keywords` pins the same URLs in SQL."""
    rules = project_categorizer()
    assert rules.categorize(normalize_urls(pd.Series([url], dtype="string"), ALLOWLIST)).tolist() == [category]


def test_the_seed_recovers_every_planted_page_type() -> None:
    rng = np.random.default_rng(0)
    rendered = [
        (page_type.replace(" ", "_"), template.replace("{slug}", slug))
        for page_type in catalog.PAGE_TYPES
        for _, template in url_templates.URL_TEMPLATES[page_type]
        for slug in (url_templates.slug_pool(page_type, rng) if "{slug}" in template else [""])
    ]
    truth, urls = zip(*rendered, strict=True)
    found = project_categorizer().categorize(normalize_urls(pd.Series(urls, dtype="string"), ALLOWLIST))
    wrong = [(url, want, got) for url, want, got in zip(urls, truth, found, strict=True) if want != got]
    assert len(urls) > 300 and not wrong, wrong[:10]


def test_a_broken_rule_stops_dbt_build_at_the_seed(tmp_path: Path) -> None:
    """On a copy of the project: the seed's test names each broken rule and no model reads the rules."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml", "models", "python_models", "macros", "seeds", "tests"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, project / name, symlinks=True)
        else:
            shutil.copy(ROOT / name, project / name)
    seed = project / "seeds" / "url_categories.csv"
    seed.write_text(
        seed.read_text()
        + "typo,300,regex,(deep-learning[,course\nwith_www,301,prefix,www.deeplearning.ai/x,course\n"
        + "unknown,302,contains,foo,courses\n"
    )
    env = dbt_env(tmp_path / "raw", tmp_path / "journeys.duckdb", tmp_path / "artifacts")
    env["DBT_PROFILES_DIR"] = str(project)
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [str(dbt), "build", "--select", "url_categories", "url_category_codes", "int_urls_categorized"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "seeds/url_categories.csv has 3 problem(s):" in log
    for line in (
        "rule typo (regex '(deep-learning['): not a valid RE2 regular expression",
        "rule with_www (prefix 'www.deeplearning.ai/x'): has a www. host, but normalised URLs drop www.",
        "rule unknown (contains 'foo'): category 'courses' has no code in url_category_codes",
    ):
        assert line in log
    assert "SKIP relation intermediate.int_urls_categorized" in log, log[-3000:]


def test_url_rule_hits_lists_every_rule_with_its_status(warehouse) -> None:
    hits = warehouse.query("select * from url_rule_hits")
    seed = pd.read_csv(ROOT / "seeds" / "url_categories.csv", dtype=str, keep_default_na=False)
    url_rules = seed[seed["match_type"] != "event"]
    assert len(url_rules) < len(seed), "the seed names events too (rule purchase_event)"
    assert sorted(hits["rule_id"]) == sorted(url_rules["rule_id"])
    won = warehouse.query(
        "select rule_id, count(distinct normalized_url) as urls from int_urls_categorized "
        "where rule_id is not null group by rule_id"
    ).set_index("rule_id")["urls"]
    by_rule = hits.set_index("rule_id")
    assert (by_rule["urls_won"] == won.reindex(by_rule.index).fillna(0)).all()
    views = warehouse.query(
        "select count(*) from int_page_views_categorized join int_urls_categorized using (normalized_url) "
        "where int_urls_categorized.rule_id is not null"
    ).iloc[0, 0]
    assert by_rule["page_views_won"].sum() == views
    expected = np.where(by_rule["urls_won"] > 0, "ok", np.where(by_rule["urls_lost"] > 0, "shadowed", "dead"))
    assert (by_rule["status"] == expected).all()
    assert (by_rule["status"] == "ok").all(), "every rule of the shipped seed decides a page of the export"
    assert by_rule.loc["blog_host", "urls_lost"] > 0, "The Batch's blog issues go to batch_blog_post first"


def test_make_categories_reports_what_an_edit_changed(warehouse, tmp_path: Path) -> None:
    db = tmp_path / "journeys.duckdb"
    shutil.copy(warehouse.duckdb_path, db)
    assert categories.snapshot_categories(db) > 0
    previous = categories.previous_categories_path(db)
    with duckdb.connect() as con:  # as if the previous rules had sent every forum page to `specialization`
        con.execute(
            f"copy (select normalized_url, case when category = 'forum' then 'specialization' else category end "
            f"as category from read_parquet('{previous}')) to '{tmp_path / 'edited.parquet'}' (format parquet)"
        )
    (tmp_path / "edited.parquet").replace(previous)
    forum = warehouse.query(
        "select count(distinct normalized_url) as urls, count(*) as page_views "
        "from int_page_views_categorized where category = 'forum'"
    ).iloc[0]
    text = categories.report(db, top_unmapped=5)
    assert (
        f"Changed since the previous build: {forum['urls']:,} URL(s), {forum['page_views']:,} page views "
        "changed category" in text
    )
    assert "specialization" in text.split("Changed since the previous build")[1]
    unmapped = text.split("Top 5 unmapped URLs (unmapped_urls;")[1].split("\n\n")[0]
    assert "host" in unmapped and "normalized_url" in unmapped and "?" not in unmapped
    assert "Coverage (url_category_coverage):" in text


def test_the_loop_reuses_the_staged_export_unless_the_raw_files_are_newer(tmp_path: Path) -> None:
    raw, db = tmp_path / "raw", tmp_path / "journeys.duckdb"
    raw.mkdir()
    for name in categories.RAW_FILES:
        (raw / name).write_text("x\n")
    assert categories.selector_to_build(db, raw) == categories.URL_LAYER_RESTAGED, "no database yet"
    with duckdb.connect(str(db)) as con:
        for name in categories.staged_models():
            con.execute(f"create table {name} (x integer)")
    assert categories.selector_to_build(db, raw) == categories.URL_LAYER
    newer = db.stat().st_mtime + 10
    os.utime(raw / "pageview_hist.csv", (newer, newer))
    assert categories.selector_to_build(db, raw) == categories.URL_LAYER_RESTAGED, "a new export is restaged"
    env = dbt_env(raw, db, tmp_path / "artifacts")
    listed = {}
    for selector in (categories.URL_LAYER, categories.URL_LAYER_RESTAGED):
        result = run_dbt(["--quiet", "ls", "--selector", selector, "--resource-type", "model", "seed", "--output", "name"], env)
        assert result.returncode == 0, result.stdout[-2000:]
        listed[selector] = set(result.stdout.split())
    assert {"url_categories", "int_urls_categorized", "url_rule_hits", "unmapped_urls"} <= listed["url_layer"]
    assert not listed["url_layer"] & {"contact_features", "contact_segments", "purchase_propensity",
                                      *categories.staged_models()}, "no training, staging reused"
    assert listed["url_layer_restaged"] >= listed["url_layer"] | {
        *categories.staged_models(), "base_hubspot__page_history_records"}
