"""Build-to-build drift of the propensity distribution (PSI) and of segment shares; appended every build."""

from journeys.monitoring.drift import score_drift


def model(dbt, session):
    dbt.config(materialized="incremental")  # appended every build
    previous = session.sql(f"select * from {dbt.this}").df() if dbt.is_incremental else None
    return score_drift(dbt.ref("purchase_propensity").df(), dbt.ref("contact_segments").df(), previous)
