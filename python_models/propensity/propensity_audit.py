"""Leakage audit of the propensity inputs: each input's and page category's single-feature ROC AUC."""

from journeys.propensity.dbt import saved_run_table


def model(dbt, session):
    scored = dbt.ref("purchase_propensity").df()
    return saved_run_table(scored, dbt.config.meta_get("propensity"), "audit")
