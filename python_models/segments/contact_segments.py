"""Trains the segment model once (features, k, k-prototypes), saves it and scores every contact."""

from journeys.segments.dbt import build_contact_segments, contact_columns
from journeys.warehouse import read_columns


def model(dbt, session):
    dbt.ref("journeys_environment")  # runs after the check that journeys is installed and compatible
    meta = dbt.config.meta_get("segments")
    contacts = read_columns(dbt.ref("contact_features"), contact_columns(meta))
    return build_contact_segments(contacts, meta, countries=dbt.ref("countries").df())
