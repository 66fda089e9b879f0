"""Request bodies that describe warehouse contacts as a client would send them (parity test, benchmark)."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np

from journeys.contract import COURSE_COLUMNS
from journeys.service.schemas import ContactBase

# The staged page history (the one layer past the base models that keeps raw URLs) as a client sends it: each
# contact's "Last Page Seen" versions, oldest first.
STAGED_PAGES_SQL = """
    select contact_id, url, changed_at,
        cast(row_number() over (partition by contact_id order by recency desc) as integer) as position
    from stg_hubspot__page_history
"""

# The staged on-site events before each contact's conversion event, numbered as the sequences number them.
STAGED_EVENTS_SQL = """
    select e.contact_id, e.url, e.occurred_at as changed_at, 'page_events' as source,
        cast(row_number() over (partition by e.contact_id order by e.occurred_at, e.record_number) as integer)
            as position
    from stg_hubspot__page_events as e
    join int_page_events_categorized as c using (record_number)
    join int_contact_sequences_collated as s on e.contact_id = s.contact_id
    where c.is_on_site and (s.converted_at is null or e.occurred_at < s.converted_at)
"""


def warehouse_contacts(
    con: duckdb.DuckDBPyConnection, contact_ids: list[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Request contacts (segments, propensity) describing warehouse contacts as a client sends them:
    features from `contact_features`, raw page URLs oldest first from the staged page history (raw URLs
    stop in staging), those the cutoff keeps (var journeys_propensity_cutoff: by default the pages seen before the
    First Conversion Date; a client sends the same), and the recorded history cut the same way
    (`recorded_pages`). Used by the parity test and the benchmark."""
    con.execute("create or replace temporary table wanted_contacts (contact_id bigint)")
    con.executemany("insert into wanted_contacts values (?)", [[int(i)] for i in contact_ids])
    features = con.execute(
        "select f.* from contact_features as f join wanted_contacts using (contact_id) "
        "order by contact_id"
    ).df()
    # the pages the model may read (var journeys_propensity_cutoff): the oldest input_page_count of the history,
    # or of the on-site events before the conversion event when the sequences come from page_events, and of
    # those the most recent page_count (var journeys_max_sequence_length), as the collated sequence keeps
    pages = con.execute(
        "select p.contact_id, p.url, strftime(p.changed_at, '%Y-%m-%dT%H:%M:%S') as seen_at "
        f"from (select *, 'page_history' as source from ({STAGED_PAGES_SQL}) union all by name {STAGED_EVENTS_SQL}) "
        "as p join wanted_contacts using (contact_id) "
        "join int_contact_sequences_collated as s using (contact_id) "
        "where p.source = s.sequence_source and p.position <= s.input_page_count "
        "and p.position > s.input_page_count - s.page_count "
        "order by p.contact_id, p.position"
    ).df()
    # the recorded history under the same cutoff: the oldest len(recorded_category_codes) of its versions
    recorded = con.execute(
        "select p.contact_id, p.url, strftime(p.changed_at, '%Y-%m-%dT%H:%M:%S') as seen_at "
        f"from ({STAGED_PAGES_SQL}) as p join wanted_contacts using (contact_id) "
        "join contact_features as f using (contact_id) "
        "where p.position <= len(f.recorded_category_codes) "
        "order by p.contact_id, p.position"
    ).df()
    by_contact, recorded_by_contact = _pages_by_contact(pages), _pages_by_contact(recorded)
    base_fields = [name for name in ContactBase.model_fields if name not in ("pages",)]
    records = (
        features[base_fields]
        .astype(object)
        .where(features[base_fields].notna(), None)
        .to_dict(orient="records")
    )
    courses = features[list(COURSE_COLUMNS)].fillna(False).astype(bool).to_dict(orient="records")
    propensity, segments = [], []
    for record, course_flags in zip(records, courses, strict=True):
        record = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in record.items()}
        record["pages"] = by_contact.get(record["contact_id"], [])
        propensity.append({**record, "recorded_pages": recorded_by_contact.get(record["contact_id"], [])})
        segments.append({**record, **course_flags})
    return segments, propensity


def _pages_by_contact(pages: Any) -> dict[int, list[dict[str, Any]]]:
    """contact_id -> its pages as request objects (url, seen_at or None), in the frame's order."""
    pages["seen_at"] = pages["seen_at"].astype(object).where(pages["seen_at"].notna(), None)
    return {int(contact_id): group[["url", "seen_at"]].to_dict(orient="records")
            for contact_id, group in pages.groupby("contact_id", sort=False)}
