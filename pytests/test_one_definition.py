"""Lists and rules written in two languages stay one definition: each twin is held to its source here."""

from __future__ import annotations

import re

import pandas as pd
import yaml
from conftest import PROJECT_VARS, ROOT

from journeys.contract import ACTIVITY_COLUMNS, COURSE_COLUMNS, DAYS_COLUMNS, FLAG_COLUMNS, TEXT_COLUMNS
from journeys.service.examples import STAGED_PAGES_SQL
from journeys.service.schemas import ContactBase, PropensityContact, SegmentContact
from journeys.synth import catalog
from journeys.urls import normalize_urls


def macro_courses() -> list[tuple[str, str]]:
    """(course name, flag suffix) pairs of macros/hubspot_courses.sql, the SQL's list of courses."""
    text = (ROOT / "macros" / "hubspot_courses.sql").read_text()
    body = text[text.index("macro hubspot_courses"):text.index("endmacro")]
    return re.findall(r"\('([^']+)', '([a-z_]+)'\)", body)


def test_the_course_list_is_the_macros_in_the_contract_the_service_and_the_generator() -> None:
    courses = macro_courses()
    assert len(courses) == 6
    assert tuple(f"course_{suffix}" for _, suffix in courses) == COURSE_COLUMNS
    assert [name for name, _ in courses] == [name for name, _ in catalog.COURSES], "the courses the export names"
    segment_only = set(SegmentContact.model_fields) - set(ContactBase.model_fields)
    assert segment_only == set(COURSE_COLUMNS), "course flags are segment inputs"
    assert not set(COURSE_COLUMNS) & set(PropensityContact.model_fields), "and the propensity label, never an input"


def test_the_service_takes_the_contract_columns_a_client_knows() -> None:
    contract = {"contact_id", *ACTIVITY_COLUMNS, *DAYS_COLUMNS, *TEXT_COLUMNS, *FLAG_COLUMNS,
                "ip_country", "ip_country_code"}
    assert set(ContactBase.model_fields) == contract | {"pages"}


def test_the_service_examples_order_the_page_versions_as_the_sql_does(warehouse) -> None:
    """service.examples reads raw URLs from the staged history (they stop there) in its own order, oldest
    first: positions, dates and URLs must be int_page_views_normalized's, contact by contact."""
    examples = warehouse.query(f"select * from ({STAGED_PAGES_SQL}) order by contact_id, position")
    sql = warehouse.query("select contact_id, position, normalized_url, changed_at from int_page_views_normalized "
                          "order by contact_id, position")
    assert len(examples) == len(sql) > 10_000
    assert (examples["contact_id"].to_numpy() == sql["contact_id"].to_numpy()).all()
    assert (examples["position"].to_numpy() == sql["position"].to_numpy()).all()
    pd.testing.assert_series_equal(examples["changed_at"], sql["changed_at"], check_names=False)
    normalized = normalize_urls(examples["url"].astype("string"), PROJECT_VARS["journeys_url_query_allowlist"])
    assert normalized.fillna("").tolist() == sql["normalized_url"].fillna("").tolist()


def test_every_duckdb_read_of_a_raw_file_has_the_options_of_csv_read_options() -> None:
    """The source's external_location cannot call a macro: its reader options repeat csv_read_options."""
    macro = (ROOT / "macros" / "raw_files.sql").read_text()
    body = macro[macro.index("macro csv_read_options"):]
    body = body[:body.index("endmacro")]
    returned = body[body.index("return("):]
    source = (ROOT / "models" / "staging" / "_hubspot__sources.yml").read_text()
    location = source[source.index("read_csv("):source.index("store_rejects")]
    names = ["delim", "quote", "escape", "encoding", "max_line_size"]
    assert re.findall(r"(\w+) = ", returned) == names
    assert re.findall(r"(\w+) = ", location)[-len(names):] == names
    for name, value in (("delim", "','"), ("quote", "'\"'"), ("escape", "'\"'")):
        assert f"{name} = {value}" in location and f"{name} = {value}".replace('"', '\\"') in returned
    assert "var('journeys_raw_encoding', 'utf-8')" in location and "var('journeys_raw_encoding', 'utf-8')" in body
    assert "var('journeys_raw_max_record_bytes', 2000000)" in location and "raw_max_record_bytes()" in returned
    assert PROJECT_VARS["journeys_raw_max_record_bytes"] == 2000000, "the default the two name"


def test_one_version_for_the_python_package_the_dbt_package_and_its_check() -> None:
    import tomllib

    import journeys

    python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    dbt_package = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["version"]
    [check] = [model for model in yaml.safe_load((ROOT / "python_models" / "monitoring" / "_monitoring.yml")
                                                 .read_text())["models"] if model["name"] == "journeys_environment"]
    assert python == dbt_package == journeys.__version__ == check["config"]["meta"]["journeys_version"]
