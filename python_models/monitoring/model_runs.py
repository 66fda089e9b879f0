"""One row per model training, kept across builds: the training records saved beside the models."""

from journeys.runs.retraining import new_training_runs


def model(dbt, session):
    dbt.config(materialized="incremental")  # appended every build
    dbt.ref("contact_segments")  # both models have trained or scored before their records are read
    dbt.ref("purchase_propensity")
    recorded = session.sql(f"select model_name, trained_at from {dbt.this}").df() if dbt.is_incremental else None
    return new_training_runs(dbt.config.meta_get("artifacts_dir"), recorded)
