"""Model history, kept across builds: every training and every change of a model's current version."""

from journeys.runs.retraining import new_training_runs


def model(dbt, session):
    dbt.config(materialized="incremental", on_schema_change="append_new_columns")  # appended every build
    dbt.ref("contact_segments")  # both models have trained or scored before their records are read
    dbt.ref("purchase_propensity")
    recorded = session.sql(f"select * from {dbt.this}").df() if dbt.is_incremental else None
    return new_training_runs(dbt.config.meta_get("artifacts_dir"), recorded)
