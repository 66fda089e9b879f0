"""Every propensity model's score on each test contact, for ROC / PR curves (binary targets)."""

from journeys.propensity.dbt import saved_run_table


def model(dbt, session):
    scored = dbt.ref("purchase_propensity").df()
    return saved_run_table(scored, dbt.config.meta_get("propensity"), "test_predictions")
