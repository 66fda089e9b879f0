"""Shared fixtures: one real `dbt build` over a small synthetic export, reused by every pipeline test."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# The project's own vars (dbt_project.yml): what a build without --vars runs with. The package never reads them;
# tests that compare Python twins with the SQL built under them do.
PROJECT_VARS = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
WAREHOUSE_CONTACTS = 30_000
WAREHOUSE_SEED = 7
# The paths run_dbt hands dbt relative to the DuckDB file's folder.
RELATIVE_PATHS = ("JOURNEYS_RAW_DIR", "JOURNEYS_DUCKDB", "JOURNEYS_ARTIFACTS")
# A small hand-made export that plants one case of every quirk and dirt kind (test_sql_layer_fixture.py).
FIXTURE = Path(__file__).parent / "fixtures" / "export_dirty"
# The SQL models (no Python model) and the test that every raw record is staged or quarantined.
SQL_LAYER = [
    "path:models/staging",
    "path:models/intermediate",
    "path:seeds",
    "quarantined_rows",
    "contact_features",
    "contact_journeys",
    "unmapped_urls",
    "url_category_coverage",
]
RECONCILIATION = ["assert_raw_records_staged_or_quarantined"]
# The synthetic export with page_events.csv that the Spark parity test, the report and the warehouse boundary read.
EVENTS_CONTACTS = 5_000
EVENTS_SEED = 11
# Hosts the spec saw in the real export's URLs (../shared/spec/hubspot-export.md).
SPEC_HOSTS = {
    "www.deeplearning.ai",
    "blog.deeplearning.ai",
    "deeplearning.ai",
    "info.deeplearning.ai",
    "share.hsforms.com",
    "translate.googleusercontent.com",
}

# kmodes' own test files, run by test_kmodes_suite.py against our KPrototypes, not collected as ours
collect_ignore = ["fixtures/kmodes-0.12.2"]


def project_categorizer(seeds_dir: Path | None = None):
    """The URL rules of `seeds_dir` (the project's seeds by default) under the project's journeys_site_hosts and query
    allowlist: what a default build categorises with."""
    from journeys.urls import UrlCategorizer

    return UrlCategorizer.from_seeds(seeds_dir or ROOT / "seeds", PROJECT_VARS["journeys_site_hosts"],
                                     PROJECT_VARS["journeys_url_query_allowlist"])


def project_countries():
    """The known countries of the project's seed, as the service checks them."""
    import pandas as pd

    from journeys.service import Countries

    seed = pd.read_csv(ROOT / "seeds" / "countries.csv", dtype=str, keep_default_na=False)
    return Countries(frozenset(seed["country_name"].str.lower()), frozenset(seed["country_code"].str.lower()))


@dataclass(frozen=True)
class Warehouse:
    """Paths of a built pipeline: raw export, DuckDB file and model artifacts."""

    raw_dir: Path
    duckdb_path: Path
    artifacts_dir: Path
    build_log: str

    def query(self, sql: str):
        """Run read-only SQL against the built database and return a pandas DataFrame."""
        from journeys.warehouse import connect

        with connect(self.duckdb_path) as con:
            return con.execute(sql).df()


def dbt_env(raw_dir: Path, duckdb_path: Path, artifacts_dir: Path) -> dict[str, str]:
    """Environment the Makefile gives dbt, pointed at the given folders."""
    env = dict(os.environ)
    env.update(
        JOURNEYS_RAW_DIR=str(raw_dir),
        JOURNEYS_DUCKDB=str(duckdb_path),
        JOURNEYS_ARTIFACTS=str(artifacts_dir),
        DBT_PROFILES_DIR=str(ROOT),
        PYTHONHASHSEED="0",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
    )
    return env


def run_dbt(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the project's dbt with `args`; the caller decides what a failure means.

    dbt runs in the DuckDB file's folder with the JOURNEYS_* paths relative to it, as the Makefile runs it with
    `data/...`: builds laid out alike (raw/, the DuckDB file, artifacts/ side by side) then have the same profile
    and env vars, and dbt reuses the parse it saved in target/ instead of parsing the project again (about 4 s)."""
    folder = Path(env["JOURNEYS_DUCKDB"]).parent
    folder.mkdir(parents=True, exist_ok=True)
    relative = {name: os.path.relpath(env[name], folder) for name in RELATIVE_PATHS}
    dbt = Path(os.sys.executable).with_name("dbt")
    return subprocess.run(
        [str(dbt), *args, "--project-dir", str(ROOT)],
        cwd=folder,
        env={**env, **relative},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A synthetic export of WAREHOUSE_CONTACTS contacts, built end to end by `dbt build`."""
    from journeys.synth import write_export

    base = tmp_path_factory.mktemp("warehouse")
    raw_dir, duckdb_path, artifacts_dir = base / "raw", base / "journeys.duckdb", base / "artifacts"
    write_export(raw_dir, n_contacts=WAREHOUSE_CONTACTS, seed=WAREHOUSE_SEED, dirt=True)
    log = build_or_fail(["build"], dbt_env(raw_dir, duckdb_path, artifacts_dir), "the synthetic export")
    return Warehouse(raw_dir, duckdb_path, artifacts_dir, log)


def build_or_fail(args: list[str], env: dict[str, str], what: str) -> str:
    """Run dbt; fail the test with the log's end when it fails, else return the log."""
    result = run_dbt(args, env)
    log = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"dbt {' '.join(args)} failed on {what}:\n{log[-8000:]}")
    return log


@pytest.fixture(scope="session")
def fixture_export_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """FIXTURE built by `dbt build` of SQL_LAYER (its data and unit tests) and RECONCILIATION, for the modules
    that read it; read-only (copy it to change it)."""
    db_path = tmp_path_factory.mktemp("fixture_export") / "journeys.duckdb"
    args = ["build", "--select", *SQL_LAYER, *RECONCILIATION, "--indirect-selection", "cautious"]
    build_or_fail(args, dbt_env(FIXTURE, db_path, db_path.parent / "artifacts"), "the fixture export")
    return db_path


@pytest.fixture(scope="session")
def events_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A dirty synthetic export with page_events.csv on DuckDB: the segment model trained (5 segments, 2 inits:
    SQL scoring needs a model, not a good one), then every seed, SQL model and test (`--selector sql_layer`,
    the path marts included); read-only."""
    from journeys.synth import write_export

    base = tmp_path_factory.mktemp("events_warehouse")
    raw_dir, duckdb_path, artifacts_dir = base / "raw", base / "journeys.duckdb", base / "artifacts"
    write_export(raw_dir, n_contacts=EVENTS_CONTACTS, seed=EVENTS_SEED, dirt=True, page_events=True)
    env = dbt_env(raw_dir, duckdb_path, artifacts_dir)
    segments = ["build", "-s", "+segment_centroids", "+segment_feature_scaling", "--indirect-selection", "cautious",
                "--vars", "{journeys_segments: {k: 5, n_init: 2}}"]
    log = build_or_fail(segments, env, "the events export")
    log += build_or_fail(["build", "--selector", "sql_layer"], env, "the events export")
    return Warehouse(raw_dir, duckdb_path, artifacts_dir, log)
