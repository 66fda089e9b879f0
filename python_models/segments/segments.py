"""The segments dimension: stable id, readable name and description, size and share of every segment."""

from journeys.segments.reports import segments_dimension


def model(dbt, session):
    return segments_dimension(dbt.ref("contact_segments").df(), dbt.config.meta_get("segments"))
