"""Segment model figures for model_metrics (cost, k, sizes; ARI against planted truth when present)."""

from journeys.segments.reports import segment_metrics


def model(dbt, session):
    return segment_metrics(dbt.ref("contact_segments").df(), dbt.config.meta_get("segments"))
