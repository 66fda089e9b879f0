"""Per-epoch loss and ROC AUC (train and validation) of the BiLSTM that scored purchase_propensity."""

from journeys.propensity.dbt import saved_run_table


def model(dbt, session):
    scored = dbt.ref("purchase_propensity").df()
    return saved_run_table(scored, dbt.config.meta_get("propensity"), "history")
