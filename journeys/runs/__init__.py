"""The run lifecycle of a build's models: train or score, skip what the data cannot train, sample, log to dbt.

`retraining` (var `journeys_retrain`: fingerprints, training records), `skipped` (models the data cannot train),
`sampling` (seeded, stratified training samples), `dbt_logging` (the package's lines in dbt's log).
"""
