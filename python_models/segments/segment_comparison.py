"""Every pair of segments: prototype dissimilarity and the features that separate them most."""

from journeys.segments.reports import segment_comparison


def model(dbt, session):
    contacts = dbt.ref("contact_features").df()
    scored = dbt.ref("contact_segments").df()
    return segment_comparison(contacts, scored, dbt.config.meta_get("segments"))
