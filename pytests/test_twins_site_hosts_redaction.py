"""The Python twins of two SQL macros, against the macros compiled by dbt and run by DuckDB: `is_site_url`
(journeys.urls: which pages the category rules see) and `redact_emails` (journeys.urls.redaction: free text and
URLs leaving the base layer)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from conftest import PROJECT_VARS, dbt_env, project_categorizer, run_dbt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys.urls import is_site_url
from journeys.urls.redaction import redact_emails

HOSTS = [
    "deeplearning.ai/", "blog.deeplearning.ai/blog/x", "deeplearning.ai:443/courses", "share.hsforms.com/1abc",
    "bücher.example/ai-for-everyone", "xn--bcher-kva.example/ai-for-everyone", "[2001:db8::1]:8080/courses",
    "[::1]/", "10.0.0.1/courses", "deeplearning.ai.evil.com/courses", "notdeeplearning.ai/", "hsforms.com/x",
    "deeplearning.ai?x=1", "", None,
]  # fmt: skip
TEXTS = [
    "jane.doe@example.com", "root@localhost", "user@[10.0.0.1]", "news for ann%2540example.com",
    "josé.núñez@exämple.com (CTO)", "a%40b.co", "Data Scientist", "@handle", "medium.com/@ng/post", "x@y", None,
]  # fmt: skip
PIECES = st.sampled_from(
    [*"aZ.:/?@%[]-_ 19é", "deeplearning.ai", "blog.", "www.", "%40", "%25", "localhost", ".com", "::", "xn--"]
)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory):
    """`sql` -> a function running the dbt-compiled `select <sql> as out from values_table` over values."""
    base = tmp_path_factory.mktemp("twins")
    env = dbt_env(base / "raw", base / "unused.duckdb", base / "artifacts")
    con = duckdb.connect()

    def compile_and_run(expression: str):
        result = run_dbt(
            ["compile", "--quiet", "--inline", f"select {expression} as out from values_table"], env
        )
        assert result.returncode == 0, result.stdout + result.stderr
        sql = result.stdout.strip()

        def run(values: list[str | None]) -> list:
            con.register("values_table", pd.DataFrame({"v": pd.Series(values, dtype="string")}))
            return [None if pd.isna(v) else v for v in con.execute(sql).df()["out"].tolist()]

        return run

    return compile_and_run


@pytest.fixture(scope="module")
def site_sql(compiled):
    return compiled("{{ is_site_url('v') }}")


@pytest.fixture(scope="module")
def redact_sql(compiled):
    return compiled("{{ redact_emails('v') }}")


def test_only_this_sites_hosts_are_site_pages(site_sql) -> None:
    python = is_site_url(pd.Series(HOSTS, dtype="string"), tuple(PROJECT_VARS["journeys_site_hosts"])).tolist()
    assert python == [True] * 4 + [False] * 8 + [True, False, False]
    assert [bool(v) for v in site_sql(HOSTS)] == python


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(PIECES, max_size=10).map("".join), min_size=1, max_size=20))
def test_site_hosts_twin_matches_the_macro(site_sql, values: list[str]) -> None:
    assert [bool(v) for v in site_sql(values)] == is_site_url(
        pd.Series(values, dtype="string"), tuple(PROJECT_VARS["journeys_site_hosts"])
    ).tolist()


def test_addresses_in_free_text_are_redacted(redact_sql) -> None:
    python = [None if pd.isna(v) else v for v in redact_emails(pd.Series(TEXTS, dtype="string"))]
    assert python[:6] == ["redacted-email"] * 3 + [
        "news for redacted-email",
        "redacted-email (CTO)",
        "redacted-email",
    ]
    assert python[6:] == TEXTS[6:], "text without an address is kept as it is"
    assert redact_sql(TEXTS) == python


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(PIECES, max_size=12).map("".join), min_size=1, max_size=20))
def test_redaction_twin_matches_the_macro(redact_sql, values: list[str]) -> None:
    assert redact_sql(values) == [
        None if pd.isna(v) else v for v in redact_emails(pd.Series(values, dtype="string"))
    ]


def test_the_service_redacts_free_text_as_the_warehouse_does() -> None:
    from journeys.service.features import CategoryCodes, contact_batch
    from journeys.service.schemas import SegmentContact

    contact = SegmentContact(contact_id=1, job_title="CTO, ann.lee@example.com", last_event="root@localhost")
    batch = contact_batch([contact], CategoryCodes(project_categorizer()), sequence_length=4)
    assert batch.texts["job_title"].tolist() == ["CTO, redacted-email"]
    assert batch.texts["last_event"].tolist() == ["redacted-email"]
