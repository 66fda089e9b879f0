"""HubSpot as the ELT tools land it (journeys_raw_source: fivetran, airbyte, dlt): the synthetic contacts written as
each tool's tables (typed columns, Airbyte's JSON properties, epoch-millisecond history, appended repeats, deleted
contacts, the portal's own property names by Fivetran's property table or by var) each build with every active
contact staged as the CSV export of the same contacts stages it, the export's four slots as the newest versions of
a longer history that contact_journeys shows whole, the same marts from every tool, deleted contacts and repeated
rows left out and counted, bad rows quarantined with their reason, and no e-mail past staging."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import PROJECT_VARS, RECONCILIATION, SQL_LAYER, build_or_fail, dbt_env, run_dbt

from journeys.report.figures import source_counts
from journeys.synth import DirtRates, write_export
from journeys.synth.elt import LAST_URL, PORTAL_PROPERTIES, TOOLS, warehouse_rates, write_elt_export
from journeys.warehouse import connect

ELT_CONTACTS = 2_500
ELT_SEED = 5
# Airbyte's properties read from its JSON column `properties`: these flattened columns are dropped.
FROM_JSON = ("properties_job_function", "properties_hs_analytics_num_visits", "properties_hs_email_optout_9487213")
MARTS = ("contact_features", "contact_journeys", "unmapped_urls", "url_category_coverage",
         "int_contact_sequences_collated", "stg_hubspot__page_history")


def tool_vars(tool: str, **extra: object) -> str:
    """--vars for a tool's build: the source, and for Airbyte and dlt the portal's own property names."""
    names = {} if tool == "fivetran" else PORTAL_PROPERTIES
    mapping = ", ".join(f'"{display}": "{name}"' for display, name in names.items())
    more = "".join(f", {key}: {value}" for key, value in extra.items())
    return f"{{journeys_raw_source: {tool}, journeys_hubspot_property_names: {{{mapping}}}{more}}}"


def build(db_path: Path, *extra: str) -> str:
    """The SQL layer and the reconciliation test on `db_path`; fails the test with the log on error."""
    args = ["build", "--select", *SQL_LAYER, *RECONCILIATION, "--indirect-selection", "cautious", *extra]
    return build_or_fail(args, dbt_env(db_path.parent / "no-raw-files", db_path, db_path.parent / "artifacts"),
                         str(db_path))


@pytest.fixture(scope="module")
def csv_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CSV export of the same contacts (the dirt a warehouse table can hold), built from its files."""
    base = tmp_path_factory.mktemp("elt_csv")
    write_export(base / "raw", n_contacts=ELT_CONTACTS, seed=ELT_SEED, dirt=warehouse_rates(DirtRates()))
    db_path = base / "journeys.duckdb"
    args = ["build", "--select", *SQL_LAYER, *RECONCILIATION, "--indirect-selection", "cautious"]
    build_or_fail(args, dbt_env(base / "raw", db_path, base / "artifacts"), "the CSV export")
    return db_path


@pytest.fixture(scope="module")
def raw_copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """Each tool's tables as written, and the generator's summary; read-only (copy to change)."""
    written = {}
    for tool in TOOLS:
        path = tmp_path_factory.mktemp(f"elt_raw_{tool}") / "raw.duckdb"
        summary = write_elt_export(path, tool, n_contacts=ELT_CONTACTS, seed=ELT_SEED)
        if tool == "airbyte":
            with duckdb.connect(str(path)) as con:
                for column in FROM_JSON:
                    con.execute(f'alter table raw_hubspot.contacts drop column "{column}"')
        written[tool] = (path, summary)
    return written


@pytest.fixture(scope="module")
def tool_dbs(raw_copies, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each tool's tables built by the SQL layer in the same DuckDB file, as a warehouse holds them."""
    built = {}
    for tool, (raw, _) in raw_copies.items():
        db_path = tmp_path_factory.mktemp(f"elt_{tool}") / "journeys.duckdb"
        shutil.copy(raw, db_path)
        build(db_path, "--vars", tool_vars(tool))
        built[tool] = db_path
    return built


def rows(db_path: Path, sql: str) -> pd.DataFrame:
    with connect(db_path) as con:
        return con.execute(sql).df()


@pytest.mark.parametrize("tool", TOOLS)
def test_each_tool_stages_every_active_contact_as_the_csv_export_does(tool_dbs, csv_db: Path, tool: str) -> None:
    """Every typed column, flag, count, date (with a zone, without, ISO text) and invalid_fields entry."""
    sql = "select * exclude (record_number, line_number) from stg_hubspot__contacts order by contact_id"
    from_csv, from_tool = rows(csv_db, sql), rows(tool_dbs[tool], sql)
    assert len(from_csv) == ELT_CONTACTS
    pd.testing.assert_frame_equal(from_tool, from_csv)
    assert from_csv["invalid_fields"].notna().any()  # the dirt (unknown countries) is in both


@pytest.mark.parametrize("tool", TOOLS)
def test_the_newest_four_versions_are_the_exports_four_slots(tool_dbs, csv_db: Path, tool: str) -> None:
    sql = "select contact_id, recency, url, changed_at from stg_hubspot__page_history order by contact_id, recency"
    from_csv, from_tool = rows(csv_db, sql), rows(tool_dbs[tool], sql)
    newest = from_tool[from_tool["recency"] <= 4].reset_index(drop=True)
    pd.testing.assert_frame_equal(newest[["contact_id", "recency", "url"]], from_csv[["contact_id", "recency", "url"]])
    dated = from_csv["changed_at"].notna()
    assert (newest.loc[dated, "changed_at"] == from_csv.loc[dated, "changed_at"]).all()
    assert (~dated == (from_csv["recency"] == 4)).all()  # only the export's `...` slot is undated
    assert newest["changed_at"].notna().all()


@pytest.mark.parametrize("tool", TOOLS)
def test_contact_journeys_hold_every_recorded_version(tool_dbs, raw_copies, tool: str) -> None:
    """Each staged contact's versions, counted once (an appended repeat is the same version), all in
    contact_journeys up to journeys_max_sequence_length."""
    raw, summary = raw_copies[tool]
    contact, value, stamp, table = {
        "fivetran": ("contact_id", "value", "timestamp", "contact_property_history"),
        "airbyte": ("vid", "value", "timestamp", "contacts_property_history"),
        "dlt": ("object_id", "value", "timestamp", "contacts_property_history"),
    }[tool]
    name = {"fivetran": "name", "airbyte": "property", "dlt": "property_name"}[tool]
    with duckdb.connect(str(raw), read_only=True) as con:
        versions = con.execute(
            f"select cast({contact} as bigint) as contact_id, count(distinct ({value}, {stamp})) as versions "
            f"from raw_hubspot.{table} where {name} = '{LAST_URL}' group by 1").df()
    journeys = rows(tool_dbs[tool], "select contact_id, page_count, total_page_count from contact_journeys")
    joined = journeys.merge(versions, on="contact_id", how="left")
    assert len(joined) == summary["contacts_with_history"]
    assert (joined["total_page_count"] == joined["versions"]).all()
    longest = PROJECT_VARS["journeys_max_sequence_length"]
    assert (joined["page_count"] == joined["versions"].clip(upper=longest)).all()
    assert (joined["page_count"] > 4).sum() == summary["contacts_with_more_than_4_versions"] > 20


def test_the_three_tools_give_the_same_history_sequences_and_marts(tool_dbs) -> None:
    for table in MARTS:
        columns = " exclude (record_number, line_number)" if table.startswith("stg_") else ""
        sql = f"select *{columns} from {table} order by all"
        fivetran = rows(tool_dbs["fivetran"], sql)
        assert len(fivetran) > 0, table
        for tool in ("airbyte", "dlt"):
            pd.testing.assert_frame_equal(rows(tool_dbs[tool], sql), fivetran, obj=f"{tool} {table}")


def test_buyers_are_found_as_in_the_csv_export(tool_dbs, csv_db: Path) -> None:
    sql = "select contact_id from contact_features where is_buyer order by 1"
    buyers = rows(csv_db, sql)
    assert len(buyers) > 20
    for tool in TOOLS:
        assert rows(tool_dbs[tool], sql).equals(buyers), tool


@pytest.mark.parametrize("tool", TOOLS)
def test_deleted_contacts_and_repeated_rows_are_left_out_and_counted(tool_dbs, raw_copies, tool: str) -> None:
    """Counted from the raw tables alone: contacts the tool flags deleted and their history rows, and every repeat
    of a (contact, URL, time) row; none is staged or quarantined, and `journeys figures` counts them."""
    raw, summary = raw_copies[tool]
    contact, flag, table, name, history_flag = {
        "fivetran": ("contact_id", "_fivetran_deleted", "contact", "name", "false"),
        "airbyte": ("vid", "archived", "contacts", "property", "archived"),
        "dlt": ("object_id", "is_deleted", "contacts", "property_name", "false"),
    }[tool]
    history = "contact_property_history" if tool == "fivetran" else "contacts_property_history"
    with duckdb.connect(str(raw), read_only=True) as con:
        deleted = {i for (i,) in con.execute(f"select cast(id as bigint) from raw_hubspot.{table} where {flag}").fetchall()}
        last_url = con.execute(
            f"select cast({contact} as bigint) as contact_id, value, timestamp, {history_flag} as archived "
            f"from raw_hubspot.{history} where {name} = '{LAST_URL}'").df()
    of_deleted = last_url["contact_id"].isin(deleted) | last_url["archived"]
    repeated = last_url[~of_deleted].duplicated(["contact_id", "value", "timestamp"]).sum()
    assert len(deleted) == summary["deleted_contacts"] > 0
    assert repeated > 0
    db = tool_dbs[tool]
    with connect(db) as con:
        counts = {part: (count, left_out) for part, _, count, left_out in source_counts(con)}
    assert counts["hubspot_export.csv"] == (ELT_CONTACTS, {"deleted_in_hubspot": len(deleted)})
    assert counts["pageview_hist.csv"][1] == {"deleted_in_hubspot": int(of_deleted.sum()), "repeated_row": repeated}
    staged = set(rows(db, "select contact_id from stg_hubspot__contacts")["contact_id"])
    assert not staged & deleted
    assert rows(db, "select count(*) as n from quarantined_rows")["n"].iloc[0] == 0


def test_bad_rows_are_quarantined_with_their_reason(raw_copies, tmp_path: Path) -> None:
    """dlt's text ids and times: a contact row without an id or with an invalid one, history rows of an unknown
    contact, without a time, with one outside the plausible window. Every raw row is still staged, quarantined or
    left out (the reconciliation test runs in the build)."""
    raw, _ = raw_copies["dlt"]
    db_path = tmp_path / "journeys.duckdb"
    shutil.copy(raw, db_path)
    with duckdb.connect(str(db_path)) as con:
        (known,) = con.execute("select min(id) from raw_hubspot.contacts where not is_deleted").fetchone()
        con.execute("insert into raw_hubspot.contacts (id, is_deleted) values (' ', false), ('12x', false)")
        con.execute(
            "insert into raw_hubspot.contacts_property_history (object_id, property_name, value, timestamp) values "
            f"('99999999', '{LAST_URL}', 'https://www.deeplearning.ai/', timestamptz '2020-05-01 10:00:00+00'), "
            f"('{known}', '{LAST_URL}', 'https://www.deeplearning.ai/blog/', null), "
            f"('{known}', '{LAST_URL}', 'https://www.deeplearning.ai/press/', timestamptz '2999-01-01 00:00:00+00'), "
            f"('{known}', '{LAST_URL}', null, timestamptz '2020-05-01 10:00:00+00')")
    build(db_path, "--vars", tool_vars("dlt"))
    with connect(db_path) as con:
        got = con.execute("select source_file, contact_id, quarantine_reason from quarantined_rows").fetchall()
    assert set(got) == {
        ("raw_hubspot.contacts", None, "missing_contact_id"),
        ("raw_hubspot.contacts", "12x", "invalid_contact_id"),
        ("raw_hubspot.contacts_property_history", "99999999", "unknown_contact_id"),
        ("raw_hubspot.contacts_property_history", str(known), "missing_timestamp"),
        ("raw_hubspot.contacts_property_history", str(known), "timestamp_out_of_window"),
    }
    assert len(got) == 5
    left_out = rows(db_path, "select count(*) as n from base_hubspot__property_history_records "
                             "where left_out_reason = 'empty_value'")
    assert left_out["n"].iloc[0] == 1


@pytest.mark.parametrize("tool", TOOLS)
def test_no_email_reaches_a_relation_of_ours(tool_dbs, tool: str) -> None:
    """The raw contacts table holds every address; the personal-data test reads only the project's schemas."""
    db_path = tool_dbs[tool]
    email = {"fivetran": "property_email", "airbyte": "properties_email", "dlt": "email"}[tool]
    table = "contact" if tool == "fivetran" else "contacts"
    assert rows(db_path, f"select count(*) as n from raw_hubspot.{table} where {email} like '%@%'")["n"].iloc[0] > 0
    env = dbt_env(db_path.parent / "no-raw-files", db_path, db_path.parent / "artifacts")
    result = run_dbt(["test", "--select", "assert_no_email_outside_base", "--vars", tool_vars(tool)], env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def one_line_error(db_path: Path, *vars_: str) -> str:
    """The one line that stops the contacts' base model."""
    env = dbt_env(db_path.parent / "no-raw-files", db_path, db_path.parent / "artifacts")
    result = run_dbt(["run", "--select", "base_hubspot__contact_records", "--vars", *vars_], env)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output, output[-3000:]
    lines = [line.strip() for line in output.splitlines() if line.strip().startswith(("Raw table", "dbt var"))]
    assert len(lines) == 1, output[-3000:]
    return lines[0]


def test_a_property_that_cannot_be_found_stops_the_build_with_one_line(raw_copies, tmp_path: Path) -> None:
    fivetran = tmp_path / "fivetran" / "journeys.duckdb"
    fivetran.parent.mkdir()
    shutil.copy(raw_copies["fivetran"][0], fivetran)
    with duckdb.connect(str(fivetran)) as con:
        con.execute("delete from raw_hubspot.property where name = 'job_function'")
        con.execute("alter table raw_hubspot.contact drop column property_hs_analytics_num_visits")
    assert one_line_error(fivetran, "{journeys_raw_source: fivetran}") == (
        'Raw table raw_hubspot.contact: HubSpot contact properties not found: "Number of Sessions" (HubSpot internal '
        'name hs_analytics_num_visits: no column property_hs_analytics_num_visits); "Job Title or Function" (the '
        "portal's own, no contact property has the label in raw_hubspot.property). Map each display name to the "
        "portal's internal name, e.g. --vars '{journeys_hubspot_property_names: {\"Number of Sessions\": <internal "
        "name>}}'"
    )
    dlt = tmp_path / "dlt" / "journeys.duckdb"
    dlt.parent.mkdir()
    shutil.copy(raw_copies["dlt"][0], dlt)
    line = one_line_error(dlt, "{journeys_raw_source: dlt}")
    assert line.startswith('Raw table raw_hubspot.contacts: HubSpot contact properties not found: "Opted out of '
                           'email: Events and Community", ')
    assert line.count('"') == 2 * len(PORTAL_PROPERTIES) + 2
    assert "(the portal's own, dlt has no property table to find it by label)" in line
    assert one_line_error(dlt, '{journeys_raw_source: dlt, journeys_hubspot_property_names: {"Job title": x}}') == (
        'dbt var journeys_hubspot_property_names names "Job title", which is no property staging reads: use the '
        "export's display names (columns of hubspot_export.csv), e.g. \"Job Title or Function\""
    )


def table_types(raw: Path, table: str) -> dict[str, str]:
    with duckdb.connect(str(raw), read_only=True) as con:
        return dict(con.execute("select column_name, data_type from information_schema.columns "
                                "where table_schema = 'raw_hubspot' and table_name = ?", [table]).fetchall())


def test_fivetran_tables_have_the_column_names_and_types_of_fivetrans_seeds(raw_copies) -> None:
    """The columns of fivetran/dbt_hubspot's integration-test seeds (spec): contact (integer id, typed property_
    columns, the deleted flag), contact_property_history (every value text), property (name, label, object, type)."""
    raw, _ = raw_copies["fivetran"]
    contact = table_types(raw, "contact")
    assert {contact["id"], contact["_fivetran_deleted"], contact["_fivetran_synced"]} == {"BIGINT", "BOOLEAN",
                                                                                          "TIMESTAMP"}
    assert contact["property_hs_analytics_num_visits"] == "DOUBLE"
    assert contact["property_hs_lifecyclestage_lead_date"] == "TIMESTAMP"
    assert contact["property_hs_email_optout"] == "BOOLEAN"
    assert contact["property_email"] == contact["property_hs_email_optout_9487213"] == "VARCHAR"
    assert all(name == "id" or name.startswith(("property_", "_fivetran_")) for name in contact)
    assert table_types(raw, "contact_property_history") == {
        "contact_id": "BIGINT", "name": "VARCHAR", "value": "VARCHAR", "timestamp": "TIMESTAMP", "source": "VARCHAR",
        "source_id": "VARCHAR", "_fivetran_synced": "TIMESTAMP"}
    assert {"name", "label", "hubspot_object", "type"} <= set(table_types(raw, "property"))


def test_airbyte_and_dlt_deliver_their_own_types(raw_copies) -> None:
    """Airbyte: text ids, ISO-8601 text datetimes with a zone, a JSON properties column, epoch milliseconds in the
    history; dlt: text ids and numbers, datetimes with a zone, columns in its snake case."""
    airbyte, _ = raw_copies["airbyte"]
    contacts = table_types(airbyte, "contacts")
    assert (contacts["id"], contacts["properties"], contacts["properties_hs_lifecyclestage_lead_date"],
            contacts["archived"]) == ("VARCHAR", "JSON", "VARCHAR", "BOOLEAN")
    assert table_types(airbyte, "contacts_property_history")["timestamp"] == "BIGINT"
    dlt, _ = raw_copies["dlt"]
    contacts = table_types(dlt, "contacts")
    assert (contacts["id"], contacts["hs_analytics_num_visits"], contacts["hs_lifecyclestage_lead_date"],
            contacts["is_deleted"]) == ("VARCHAR", "VARCHAR", "TIMESTAMP WITH TIME ZONE", "BOOLEAN")
    assert "last_registered_event_date" in contacts  # the portal's `last-registered-event-date`
    assert table_types(dlt, "contacts_property_history")["timestamp"] == "TIMESTAMP WITH TIME ZONE"
