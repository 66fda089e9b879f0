"""The synthetic export as an ELT tool lands it in a warehouse: Fivetran's, Airbyte's or dlt's HubSpot tables in a
DuckDB file (shapes: ../shared/spec/hubspot-elt-tables.md).

The contacts are `write_export`'s for the same seed and chunking, with the dirt a typed table can hold
(`warehouse_rates`: no malformed timestamps, counts that are not numbers, truncated lines or repeated contact
rows), so the CSV export written with those rates stages the same contacts. The tables add what only they show:
- every "Last Page Seen" version: a contact with more sessions than the export's four slots has older versions,
  one per earlier session (up to MAX_VERSIONS), on its segment's page chain, days apart;
- contacts deleted in HubSpot: DELETED_SHARE of the contacts has a deleted twin in the gap of ids before it
  (the same properties and page history), flagged as the tool flags it;
- repeated history rows (REPEATED_SHARE of the rows again, as a later run appends them: dlt does on every run),
  history rows of another property, each contact's e-mail address;
- the tool's types: ids as integers or text, numbers as floats or text, datetimes as timestamps with or without
  a zone, ISO-8601 text or epoch milliseconds, flags as booleans or "true"/"false" text.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from journeys.synth import browsing, url_templates
from journeys.synth.contacts import Population
from journeys.synth.dirt import DirtRates
from journeys.synth.planted_segments import SESSIONS_START
from journeys.synth.truth import TRUTH_FILE
from journeys.synth.writer import (
    CHUNK_CONTACTS,
    dirt_rates,
    dirt_stream,
    dirty_contacts,
    simulated_chunks,
    truth_table,
)

TOOLS = ("fivetran", "airbyte", "dlt")
MAX_VERSIONS = 40
"""Most "Last Page Seen" versions of a contact (one per session)."""
DELETED_SHARE = 0.01
REPEATED_SHARE = {"fivetran": 0.01, "airbyte": 0.01, "dlt": 0.3}
LAST_URL = "hs_analytics_last_url"
_MINUTE_GAP = 31  # minutes between two sessions' versions, at least
_SESSION_GAP_DAYS = 21

# (export header, the synthetic portal's internal name, HubSpot type): HubSpot's standard names (spec) and the
# portal's own properties (the opt-outs per subscription, the courses field, events, education, job).
PROPERTIES: tuple[tuple[str, str, str], ...] = (
    ("Became a Lead Date", "hs_lifecyclestage_lead_date", "datetime"),
    ("Became a Subscriber Date", "hs_lifecyclestage_subscriber_date", "datetime"),
    ("Became an Opportunity Date", "hs_lifecyclestage_opportunity_date", "datetime"),
    ("First Conversion Date", "first_conversion_date", "datetime"),
    ("First marketing email click date", "hs_email_first_click_date", "datetime"),
    ("First marketing email open date", "hs_email_first_open_date", "datetime"),
    ("First marketing email send date", "hs_email_first_send_date", "datetime"),
    ("Last Activity Date", "notes_last_updated", "datetime"),
    ("Last marketing email click date", "hs_email_last_click_date", "datetime"),
    ("Last marketing email name", "hs_email_last_email_name", "string"),
    ("Last marketing email open date", "hs_email_last_open_date", "datetime"),
    ("Last marketing email send date", "hs_email_last_send_date", "datetime"),
    ("Average Pageviews", "hs_analytics_average_page_views", "number"),
    ("First Page Seen", "hs_analytics_first_url", "string"),
    ("Last Page Seen", LAST_URL, "string"),
    ("Number of Pageviews", "hs_analytics_num_page_views", "number"),
    ("Number of Sessions", "hs_analytics_num_visits", "number"),
    ("Marketing emails opened", "hs_email_open", "number"),
    ("Marketing emails delivered", "hs_email_delivered", "number"),
    ("Marketing emails clicked", "hs_email_click", "number"),
    ("Opted out of email: Events and Community", "hs_email_optout_8313094", "enumeration"),
    ("Opted out of email: Program Announcements", "hs_email_optout_8313095", "enumeration"),
    ("Opted out of email: The Batch", "hs_email_optout_9487213", "enumeration"),
    ("Unsubscribed from all email", "hs_email_optout", "bool"),
    ("Which of the following online courses have you taken from deeplearning.ai?", "online_courses_taken",
     "enumeration"),
    ("Last Registered Event", "last_registered_event", "string"),
    ("Last Registered Event Date", "last-registered-event-date", "datetime"),
    ("Number of event completions", "hs_analytics_num_event_completions", "number"),
    ("Highest level of completed education", "highest_education_level", "enumeration"),
    ("Job Title or Function", "job_function", "enumeration"),
    ("IP Country", "ip_country", "string"),
    ("IP Country Code", "ip_country_code", "string"),
    ("Associated Company ID", "associatedcompanyid", "number"),
)
PORTAL_PROPERTIES = {
    header: name
    for header, name, _ in PROPERTIES
    if name.startswith("hs_email_optout_") or not name.startswith(("hs_", "first_", "notes_", "ip_", "associated"))
}
"""The portal's own properties: what var journeys_hubspot_property_names maps where no property table has them."""
# HubSpot relabelled the company id; the property table says so (the spec's display-name table).
_LABELS = {"associatedcompanyid": "Primary Associated Company ID"}


def warehouse_rates(rates: DirtRates) -> DirtRates:
    """The dirt of `rates` a typed warehouse table can hold: no malformed timestamps, no counts that are not
    numbers, no truncated lines, no repeated contact rows."""
    return dataclasses.replace(rates, malformed_timestamp=0.0, bad_count=0.0, broken_line=0.0,
                               duplicate_contact_id=0.0)


def write_elt_export(
    duckdb_path: Path | str,
    tool: str,
    n_contacts: int = 336_955,
    seed: int = 0,
    dirt: bool | DirtRates = True,
    schema: str = "raw_hubspot",
    chunk_contacts: int = CHUNK_CONTACTS,
    truth_dir: Path | str | None = None,
) -> dict[str, Any]:
    """Write `tool`'s HubSpot tables for the synthetic contacts into schema `schema` of the DuckDB file (replacing
    them), and truth.csv into `truth_dir` when given; return a summary (counts, and the var mapping the portal's
    own properties need: `hubspot_property_names`). Never an e-mail or a URL in the summary."""
    if tool not in TOOLS:
        raise ValueError(f"tool must be one of {', '.join(TOOLS)}, got {tool!r}")
    rates = warehouse_rates(dirt_rates(dirt))
    totals = {"contact_rows": 0, "deleted_contacts": 0, "history_rows": 0, "repeated_rows": 0,
              "contacts_with_history": 0, "contacts_with_more_than_4_versions": 0, "most_versions": 0}
    truth_path = Path(truth_dir) / TRUTH_FILE if truth_dir is not None else None
    if truth_path is not None:
        truth_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(duckdb_path)) as con:
        con.execute(f'create schema if not exists "{schema}"')
        for chunk, pop in simulated_chunks(n_contacts, seed, chunk_contacts):
            page_urls, export, _ = dirty_contacts(pop, dirt_stream(seed, chunk), rates)
            rng = np.random.default_rng(np.random.SeedSequence((seed, 4, chunk)))
            counts = _write_chunk(con, schema, tool, pop, page_urls, export, rng, first=chunk == 0)
            totals = {k: max(v, counts[k]) if k == "most_versions" else v + counts[k] for k, v in totals.items()}
            if truth_path is not None:
                truth_table(pop).to_csv(truth_path, mode="w" if chunk == 0 else "a", header=chunk == 0,
                                        index=False, lineterminator="\n")
        if tool == "fivetran":
            _write_table(con, schema, "property", _property_table(), _PROPERTY_TYPES, first=True)
    return {"tool": tool, "contacts": n_contacts, "seed": seed, "schema": schema, **totals,
            "hubspot_property_names": {} if tool == "fivetran" else dict(PORTAL_PROPERTIES)}


def page_versions(
    rng: np.random.Generator, pop: Population, page_urls: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every contact's "Last Page Seen" versions, as flat (contact row, URL, minute) arrays, oldest first: the
    pages of pageview_hist.csv (the journey URLs as dirtied there) and, for a contact with more sessions than
    its four slots, one older version per earlier session (up to MAX_VERSIONS), after SESSIONS_START."""
    recorded = (pop.recorded_pages >= 0) & pop.in_history_file[:, None]
    length = recorded.sum(axis=1)
    room = np.where(length > 0, np.nan_to_num(pop.page_times[:, 0] - SESSIONS_START), 0)
    older = np.where(length == browsing.MAX_PAGES, np.clip(pop.sessions - browsing.MAX_PAGES, 0, None), 0)
    older = np.minimum(older, MAX_VERSIONS - browsing.MAX_PAGES)
    older = np.minimum(older, np.floor(room / _MINUTE_GAP).astype(np.int64) - 1).clip(0).astype(np.int64)

    row = np.repeat(np.arange(len(length)), older)
    start = np.cumsum(older) - older
    back = np.arange(len(row)) - np.repeat(start, older)  # 0 = the version just before the first slot
    initial, transition = browsing.transition_matrices()
    trans_cdf = np.cumsum(transition, axis=2)
    page = np.zeros(len(row), dtype=np.int64)
    first = back == 0
    page[first] = _draw(rng, np.cumsum(initial, axis=1)[pop.segment[row[first]]])
    for k in range(1, int(older.max(initial=0))):
        at = np.flatnonzero(back == k)
        page[at] = _draw(rng, trans_cdf[pop.segment[row[at]], page[at - 1]])
    gap = np.floor(_MINUTE_GAP + rng.exponential(_SESSION_GAP_DAYS * 1440, len(row)))
    total = np.bincount(row, weights=gap, minlength=len(length))
    scale = np.where(total > room - _MINUTE_GAP, (room - _MINUTE_GAP) / np.maximum(total, 1), 1.0)[row]
    gap = np.maximum(np.floor(gap * scale), 1)
    minute = pop.page_times[row, 0] - (np.cumsum(gap) - np.repeat(np.concatenate([[0.0], np.cumsum(gap)])[start],
                                                                   older))
    old_urls = url_templates.render_urls(rng, page)

    slot_row, slot = np.nonzero(recorded)
    rows = np.concatenate([row, slot_row])
    urls = np.concatenate([old_urls, page_urls[slot_row, slot]]).astype(object)
    minutes = np.floor(np.concatenate([minute, pop.page_times[slot_row, slot]]))
    order = np.lexsort((minutes, rows))
    return rows[order], urls[order], minutes[order]


def _draw(rng: np.random.Generator, cdf_rows: np.ndarray) -> np.ndarray:
    u = rng.random(len(cdf_rows))
    return np.minimum((cdf_rows < u[:, None]).sum(axis=1), cdf_rows.shape[1] - 1)


def _write_chunk(con: duckdb.DuckDBPyConnection, schema: str, tool: str, pop: Population, page_urls: np.ndarray,
                 export: pd.DataFrame, rng: np.random.Generator, first: bool) -> dict[str, int]:
    """One chunk's contact and history rows, with deleted twins and repeated rows, appended to the tool's tables."""
    ids = export["Contact ID"].astype(np.int64).to_numpy()
    gaps = np.diff(ids, prepend=ids[0])  # the chunk's first id may follow the previous chunk's last
    twins = np.flatnonzero((gaps > 1) & (rng.random(len(ids)) < DELETED_SHARE))
    contacts = pd.concat([export, export.iloc[twins]], ignore_index=True)
    contacts["Contact ID"] = np.concatenate([ids, ids[twins] - 1])
    deleted = np.r_[np.zeros(len(ids), bool), np.ones(len(twins), bool)]
    emails = np.concatenate([pop.email_address, pop.email_address[twins]])

    rows, urls, minutes = page_versions(rng, pop, page_urls)
    history = pd.DataFrame({"contact_id": ids[rows], "name": LAST_URL, "value": urls, "minute": minutes,
                            "deleted": False})
    of_twin = np.isin(rows, twins)
    twin_of = dict(zip(twins.tolist(), (ids[twins] - 1).tolist(), strict=True))
    twin_history = history[of_twin].assign(contact_id=pd.Series(rows[of_twin]).map(twin_of).to_numpy(),
                                           deleted=True)
    sent = pd.to_datetime(export["Last marketing email send date"], format="%Y-%m-%d %H:%M:%S")
    named = (export["Last marketing email name"].notna() & sent.notna()).to_numpy()
    other = pd.DataFrame({"contact_id": ids[named], "name": "hs_email_last_email_name",
                          "value": export.loc[named, "Last marketing email name"].to_numpy(),
                          "minute": ((sent[named] - pd.Timestamp(0)) / pd.Timedelta(minutes=1)).to_numpy(),
                          "deleted": False})
    history = pd.concat([history, twin_history, other], ignore_index=True)
    repeated = np.flatnonzero(rng.random(len(history)) < REPEATED_SHARE[tool])
    history = pd.concat([history, history.iloc[repeated]], ignore_index=True)
    run = np.r_[np.zeros(len(history) - len(repeated), np.int64), np.ones(len(repeated), np.int64)]

    contact_frame, contact_types = _contacts(tool, contacts, deleted, emails)
    history_frame, history_types = _history(tool, history, run)
    _write_table(con, schema, _TABLES[tool][0], contact_frame, contact_types, first)
    _write_table(con, schema, _TABLES[tool][1], history_frame, history_types, first)
    versions = np.bincount(rows, minlength=len(ids))
    return {"contact_rows": len(contacts), "deleted_contacts": len(twins),
            "history_rows": int((history["name"] == LAST_URL).sum()),
            "repeated_rows": int((history["name"].to_numpy()[repeated] == LAST_URL).sum()),
            "contacts_with_history": int((versions > 0).sum()),
            "contacts_with_more_than_4_versions": int((versions > browsing.MAX_PAGES).sum()),
            "most_versions": int(versions.max(initial=0))}


_TABLES = {
    "fivetran": ("contact", "contact_property_history"),
    "airbyte": ("contacts", "contacts_property_history"),
    "dlt": ("contacts", "contacts_property_history"),
}
_PROPERTY_TYPES = {"_fivetran_id": "VARCHAR", "_fivetran_synced": "TIMESTAMP", "name": "VARCHAR", "label": "VARCHAR",
                   "hubspot_object": "VARCHAR", "type": "VARCHAR", "field_type": "VARCHAR", "group_name": "VARCHAR",
                   "description": "VARCHAR", "hubspot_defined": "BOOLEAN"}
_SYNCED = np.datetime64("2021-01-05T03:00:00", "ns")


def _column_name(tool: str, name: str) -> str:
    """The contacts table's column of a property: Fivetran `property_<name>`, Airbyte `properties_<name>`, dlt the
    name in its snake case."""
    if tool == "dlt":
        return "".join(c if c.isalnum() else "_" for c in name.lower())
    return ("property_" if tool == "fivetran" else "properties_") + name


def _contacts(tool: str, contacts: pd.DataFrame, deleted: np.ndarray, emails: np.ndarray
              ) -> tuple[pd.DataFrame, dict[str, str]]:
    """The tool's contacts table (columns and DuckDB types) from the export's rows."""
    ids = contacts["Contact ID"].to_numpy()
    frame: dict[str, Any] = {}
    types: dict[str, str] = {}
    if tool == "fivetran":
        frame["_fivetran_synced"], types["_fivetran_synced"] = np.full(len(ids), _SYNCED), "TIMESTAMP"
        frame["id"], types["id"] = ids, "BIGINT"
    else:
        frame["id"], types["id"] = ids.astype(str).astype(object), "VARCHAR"
        if tool == "dlt":
            frame["hs_object_id"], types["hs_object_id"] = frame["id"], "VARCHAR"
    for header, name, kind in PROPERTIES:
        column = _column_name(tool, name)
        frame[column], types[column] = _typed(tool, kind, name, contacts[header])
    frame[_column_name(tool, "email")], types[_column_name(tool, "email")] = emails, "VARCHAR"
    flag = {"fivetran": "_fivetran_deleted", "airbyte": "archived", "dlt": "is_deleted"}[tool]
    frame[flag], types[flag] = deleted, "BOOLEAN"
    if tool == "airbyte":
        frame["createdAt"] = frame["updatedAt"] = np.full(len(ids), "2021-01-05T03:00:00.000Z", dtype=object)
        types["createdAt"] = types["updatedAt"] = "VARCHAR"
        types["properties"] = "JSON"  # filled from the properties_ columns as HubSpot's API returns them: text
    if tool == "dlt":
        frame["_dlt_load_id"], types["_dlt_load_id"] = np.full(len(ids), "1609815600.0", dtype=object), "VARCHAR"
        frame["_dlt_id"], types["_dlt_id"] = _dlt_ids(ids, 0), "VARCHAR"
    return pd.DataFrame({k: v for k, v in frame.items()}), types


def _typed(tool: str, kind: str, name: str, text: pd.Series) -> tuple[Any, str]:
    """A property's export text as the tool delivers it, and its DuckDB type."""
    values = text.to_numpy(dtype=object)
    if kind == "datetime":
        stamps = pd.to_datetime(text, format="%Y-%m-%d %H:%M:%S")
        if tool == "fivetran":
            return stamps.to_numpy(), "TIMESTAMP"
        if tool == "airbyte":
            return np.where(stamps.isna(), None, stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")), "VARCHAR"
        return stamps.dt.tz_localize("UTC"), "TIMESTAMPTZ"
    if kind == "number":
        numbers = pd.to_numeric(text).to_numpy(dtype=float)
        if tool == "dlt":
            return np.where(np.isnan(numbers), None, np.char.mod("%.15g", np.nan_to_num(numbers))), "VARCHAR"
        return numbers, "DOUBLE"
    if kind == "bool":
        flag = values != None  # the export writes True or leaves it empty
        if tool == "dlt":
            return np.where(flag, "true", "false").astype(object), "VARCHAR"
        return flag, "BOOLEAN"
    if name.startswith("hs_email_optout_"):  # the export writes Yes or leaves it empty; HubSpot "true" / "false"
        return np.where(values != None, "true", "false").astype(object), "VARCHAR"
    if name == "online_courses_taken":  # HubSpot's API separates a multi-checkbox's values with `;`
        return text.str.replace("; ", ";", regex=False).to_numpy(dtype=object), "VARCHAR"
    return values, "VARCHAR"


def _history(tool: str, history: pd.DataFrame, run: np.ndarray) -> tuple[pd.DataFrame, dict[str, str]]:
    """The tool's property history table (columns and DuckDB types); `run` numbers the load that wrote each row."""
    minute = history["minute"].to_numpy(dtype=np.int64)
    stamps = pd.Series(minute.astype("datetime64[m]").astype("datetime64[ns]"))
    n = len(history)
    source = np.full(n, "ANALYTICS", dtype=object)
    empty = np.full(n, None, dtype=object)
    if tool == "fivetran":
        frame = {"contact_id": history["contact_id"].to_numpy(np.int64), "name": history["name"].to_numpy(object),
                 "value": history["value"].to_numpy(object), "timestamp": stamps.to_numpy(), "source": source,
                 "source_id": empty, "_fivetran_synced": np.full(n, _SYNCED)}
        types = {"contact_id": "BIGINT", "name": "VARCHAR", "value": "VARCHAR", "timestamp": "TIMESTAMP",
                 "source": "VARCHAR", "source_id": "VARCHAR", "_fivetran_synced": "TIMESTAMP"}
    elif tool == "airbyte":
        frame = {"vid": history["contact_id"].to_numpy(np.int64), "property": history["name"].to_numpy(object),
                 "value": history["value"].to_numpy(object), "timestamp": minute * 60_000, "source-type": source,
                 "source-id": empty, "source-label": empty, "archived": history["deleted"].to_numpy(bool)}
        types = {"vid": "BIGINT", "property": "VARCHAR", "value": "VARCHAR", "timestamp": "BIGINT",
                 "source-type": "VARCHAR", "source-id": "VARCHAR", "source-label": "VARCHAR", "archived": "BOOLEAN"}
    else:
        frame = {"object_id": history["contact_id"].astype(str).to_numpy(object),
                 "property_name": history["name"].to_numpy(object), "value": history["value"].to_numpy(object),
                 "timestamp": stamps.dt.tz_localize("UTC"), "source_type": source, "source_id": empty,
                 "updated_by_user_id": empty,
                 "_dlt_load_id": np.where(run == 0, "1609815600.0", "1609902000.0").astype(object),
                 "_dlt_id": _dlt_ids(history["contact_id"].to_numpy(np.int64), np.arange(n))}
        types = {"object_id": "VARCHAR", "property_name": "VARCHAR", "value": "VARCHAR", "timestamp": "TIMESTAMPTZ",
                 "source_type": "VARCHAR", "source_id": "VARCHAR", "updated_by_user_id": "VARCHAR",
                 "_dlt_load_id": "VARCHAR", "_dlt_id": "VARCHAR"}
    return pd.DataFrame(frame), types


def _dlt_ids(ids: np.ndarray, salt: np.ndarray | int) -> np.ndarray:
    """dlt's row ids: a distinct opaque text per row."""
    return np.char.mod("%014x", (ids.astype(np.int64) * 7_919 + np.asarray(salt) * 104_729) % (16**14)).astype(object)


def _property_table() -> pd.DataFrame:
    """Fivetran's property table: each contact property with its label, and a company property whose label is a
    contact property's (only contact properties are matched)."""
    names = [name for _, name, _ in PROPERTIES] + ["email"]
    labels = [_LABELS.get(name, header) for header, name, _ in PROPERTIES] + ["Email"]
    kinds = [kind for _, _, kind in PROPERTIES] + ["string"]
    frame = pd.DataFrame({"name": names + ["last_event_attended"], "label": labels + ["Last Registered Event"],
                          "hubspot_object": ["contact"] * len(names) + ["company"], "type": kinds + ["string"]})
    frame.insert(0, "_fivetran_synced", _SYNCED)
    frame.insert(0, "_fivetran_id", frame["hubspot_object"] + ":" + frame["name"])
    frame["field_type"] = np.where(frame["type"] == "datetime", "date", "text")
    frame["group_name"] = "contactinformation"
    frame["description"] = ""
    frame["hubspot_defined"] = ~frame["name"].isin(list(PORTAL_PROPERTIES.values()))
    return frame[list(_PROPERTY_TYPES)]


def _write_table(con: duckdb.DuckDBPyConnection, schema: str, name: str, frame: pd.DataFrame,
                 types: dict[str, str], first: bool) -> None:
    """Create (first chunk) or append to `schema.name` with each column cast to its type."""
    con.register("chunk_frame", frame)
    select = ", ".join(_select_item(column, sql_type) for column, sql_type in types.items())
    target = f'"{schema}"."{name}"'
    if first:
        con.execute(f"create or replace table {target} as select {select} from chunk_frame")
    else:
        con.execute(f"insert into {target} select {select} from chunk_frame")
    con.unregister("chunk_frame")


def _select_item(column: str, sql_type: str) -> str:
    if column == "properties":  # Airbyte: the same properties as a JSON object of text values
        pairs = ", ".join(f"'{name}', {_api_text(_column_name('airbyte', name))}"
                          for name in [n for _, n, _ in PROPERTIES] + ["email"])
        return f"json_object({pairs}) as properties"
    return f'cast("{column}" as {sql_type}) as "{column}"'


def _api_text(column: str) -> str:
    """A typed column's value as HubSpot's API writes it in text: whole numbers without `.0`."""
    return f"""regexp_replace(cast("{column}" as varchar), '[.]0$', '')"""
