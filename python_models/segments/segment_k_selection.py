"""Cost and silhouette of every k evaluated for the model that scored contact_segments, and the choice."""

from journeys.segments.reports import segment_k_selection
from journeys.warehouse import read_distinct


def model(dbt, session):
    version = read_distinct(dbt.ref("contact_segments"), "model_version")  # all it needs of the scores
    return segment_k_selection(version, dbt.config.meta_get("segments"))
