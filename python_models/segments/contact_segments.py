"""Trains the segment model once (features, k, k-prototypes), saves it and scores every contact."""

from journeys.segments.training import build_contact_segments


def model(dbt, session):
    contacts = dbt.ref("contact_features").df()
    return build_contact_segments(contacts, dbt.config.meta_get("segments"))
