"""Size, share, buyer rate and feature statistics of every segment."""

from journeys.segments.dbt import contact_columns
from journeys.segments.reports import segment_profiles
from journeys.warehouse import read_columns


def model(dbt, session):
    meta = dbt.config.meta_get("segments")
    contacts = read_columns(dbt.ref("contact_features"), contact_columns(meta, "is_buyer"))
    scored = dbt.ref("contact_segments").df()
    return segment_profiles(contacts, scored, meta)
