"""Monitoring across builds: `drift` (what `score_drift` records: propensity PSI, segment share changes)."""
