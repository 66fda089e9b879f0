"""Test-split metrics of the BiLSTM, its baselines and (on synthetic data) the Bayes-optimal truth."""

from journeys.propensity.dbt import saved_run_table


def model(dbt, session):
    scored = dbt.ref("purchase_propensity").df()
    return saved_run_table(scored, dbt.config.meta_get("propensity"), "metrics")
