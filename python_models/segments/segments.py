"""The segments dimension: stable id, readable name and description, size and share of every segment."""

from journeys.segments.reports import segments_dimension
from journeys.warehouse import read_columns


def model(dbt, session):
    scored = read_columns(dbt.ref("contact_segments"), ["segment_id", "model_version"])
    return segments_dimension(scored, dbt.config.meta_get("segments"))
