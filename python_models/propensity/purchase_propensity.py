"""Trains the propensity model once (audit, baselines, BiLSTM), saves its artifacts and scores contacts."""

from journeys.propensity.dbt import build_purchase_propensity


def model(dbt, session):
    dbt.ref("journeys_environment")  # runs after the check that journeys is installed and compatible
    return build_purchase_propensity(
        contact_features=dbt.ref("contact_features"),
        category_codes=dbt.ref("url_category_codes").df(),
        settings=dbt.config.meta_get("propensity"),
        segments=dbt.ref("int_contact_segment_labels"),
        url_rules=dbt.ref("url_categories").df(),
        countries=dbt.ref("countries").df(),
    )
