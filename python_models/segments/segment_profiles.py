"""Size, share, buyer rate and feature statistics of every segment."""

from journeys.segments.reports import segment_profiles


def model(dbt, session):
    contacts = dbt.ref("contact_features").df()
    scored = dbt.ref("contact_segments").df()
    return segment_profiles(contacts, scored, dbt.config.meta_get("segments"))
