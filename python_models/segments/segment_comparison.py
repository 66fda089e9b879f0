"""Every pair of segments: prototype dissimilarity and the features that separate them most."""

from journeys.segments.dbt import contact_columns
from journeys.segments.reports import segment_comparison
from journeys.warehouse import read_columns


def model(dbt, session):
    meta = dbt.config.meta_get("segments")
    contacts = read_columns(dbt.ref("contact_features"), contact_columns(meta))
    scored = dbt.ref("contact_segments").df()
    return segment_comparison(contacts, scored, meta)
