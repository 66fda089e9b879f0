"""Superset's configuration for `make bi` (SUPERSET_CONFIG_PATH points here): metadata in a local folder, served
on loopback only, the warehouse reachable as a DuckDB file opened read-only."""

import os
from pathlib import Path

HOME = Path(os.environ["SUPERSET_HOME"])
SQLALCHEMY_DATABASE_URI = f"sqlite:///{HOME / 'superset.db'}"
# made once by bi/run.py, kept in the local folder (never committed)
SECRET_KEY = (HOME / "secret_key").read_text().strip()
# a DuckDB file is a local database, which Superset refuses unless told: it is the warehouse BI reads
PREVENT_UNSAFE_DB_CONNECTIONS = False
# loopback only: no HTTPS to force, no public dashboards
TALISMAN_ENABLED = False
FEATURE_FLAGS = {"DASHBOARD_RBAC": False}
# every query opens its own read-only connection, so a dashboard sees each newly published build
SQLALCHEMY_EXAMPLES_URI = None
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
