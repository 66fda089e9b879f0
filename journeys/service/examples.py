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


def warehouse_contacts(
    con: duckdb.DuckDBPyConnection, contact_ids: list[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Request contacts (segments, propensity) describing warehouse contacts as a client sends them:
    features from `contact_features`, raw page URLs oldest first from the staged page history (raw URLs
    stop in staging), those the cutoff keeps (var journeys_propensity_cutoff: by default the pages seen before the
    First Conversion Date; a client sends the same). Used by the parity test and the benchmark."""
    con.execute("create or replace temporary table wanted_contacts (contact_id bigint)")
    con.executemany("insert into wanted_contacts values (?)", [[int(i)] for i in contact_ids])
    features = con.execute(
        "select f.* from contact_features as f join wanted_contacts using (contact_id) "
        "order by contact_id"
    ).df()
    # the pages the model may read (var journeys_propensity_cutoff): the oldest input_page_count of the history
    pages = con.execute(
        "select p.contact_id, p.url, strftime(p.changed_at, '%Y-%m-%dT%H:%M:%S') as seen_at "
        f"from ({STAGED_PAGES_SQL}) as p join wanted_contacts using (contact_id) "
        "join int_contact_sequences_collated as s using (contact_id) "
        "where p.position <= s.input_page_count "
        "order by p.contact_id, p.position"
    ).df()
    pages["seen_at"] = pages["seen_at"].astype(object).where(pages["seen_at"].notna(), None)
    by_contact = {
        int(contact_id): group[["url", "seen_at"]].to_dict(orient="records")
        for contact_id, group in pages.groupby("contact_id", sort=False)
    }
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
        propensity.append(record)
        segments.append({**record, **course_flags})
    return segments, propensity
