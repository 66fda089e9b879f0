"""customer-journeys inside another team's dbt project: a wheel built from the repository, installed into a fresh
virtual environment (the `journeys` package, its CLI and the pinned dependencies), is the dbt environment of
integration_tests/, a host project with a model, schemas, vars and a macro override of its own that installs the
package by path (`dbt deps`, no hub) and builds it on a small synthetic export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from conftest import ROOT

import journeys

HOST = ROOT / "integration_tests"
HOST_PROJECT = yaml.safe_load((HOST / "dbt_project.yml").read_text())
PACKAGE_VARS = HOST_PROJECT["vars"]["customer_journeys"]
CONTACTS, SEED = 2_000, 3
INSTALL_HINT = "pip install -c dbt_packages/customer_journeys/constraints.txt ./dbt_packages/customer_journeys"
PACKAGE_UNIT_TESTS = "package:customer_journeys,resource_type:unit_test"  # pinned to the macros the host overrides


@dataclass(frozen=True)
class Host:
    """The fresh environment and what the host project's runs in it printed."""

    venv: Path
    env: dict[str, str]
    raw_dir: Path
    duckdb_path: Path
    without_journeys: subprocess.CompletedProcess[str]
    build: subprocess.CompletedProcess[str]

    def run(self, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
        return run(self.venv, args, {**self.env, **env})

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.duckdb_path), read_only=True) as con:
            return con.execute(sql).df()


def run(venv: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A command of the fresh environment (dbt, journeys, python) in the host project's folder."""
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], cwd=HOST, env=env, capture_output=True,
                          text=True, check=False)


def checked(result: subprocess.CompletedProcess[str], what: str) -> subprocess.CompletedProcess[str]:
    if result.returncode != 0:
        pytest.fail(f"{what} failed:\n{(result.stdout + result.stderr)[-6000:]}")
    return result


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Host:
    """The wheel, a fresh venv with dbt alone (the Python models' check runs there), then the wheel installed
    with the constraints and the host project built end to end."""
    from journeys.synth import write_export

    base = tmp_path_factory.mktemp("dbt_package")
    venv, wheels = base / "venv", base / "wheels"
    checked(subprocess.run([sys.executable, "-m", "pip", "wheel", "-qq", "--no-deps", "--no-build-isolation",
                            "-w", str(wheels), str(ROOT)], capture_output=True, text=True, check=False),
            "pip wheel")
    [wheel] = wheels.glob("customer_journeys-*.whl")
    checked(subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False),
            "python -m venv")  # on the base interpreter: nothing of this environment
    pip = ["python", "-m", "pip", "install", "-qq", "--no-compile", "-c", str(ROOT / "constraints.txt")]
    env = {name: value for name, value in os.environ.items() if name not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(PATH=f"{venv / 'bin'}:{env['PATH']}", DBT_PROFILES_DIR=str(HOST), HOST_DUCKDB=str(base / "host.duckdb"),
               JOURNEYS_RAW_DIR=str(base / "raw"), JOURNEYS_ARTIFACTS=str(base / "artifacts"),
               DBT_TARGET_PATH=str(base / "target"), DBT_LOG_PATH=str(base / "logs"), PYTHONHASHSEED="0",
               DBT_SEND_ANONYMOUS_USAGE_STATS="false", DO_NOT_TRACK="1")
    checked(run(venv, [*pip, "dbt-core", "dbt-duckdb"], env), "pip install dbt-core dbt-duckdb")
    checked(run(venv, ["dbt", "deps"], env), "dbt deps")
    without_journeys = run(venv, ["dbt", "run", "-s", "journeys_environment"], env)
    checked(run(venv, [*pip, str(wheel)], env), f"pip install {wheel.name}")
    write_export(base / "raw", n_contacts=CONTACTS, seed=SEED, dirt=True, page_events=True)
    build = run(venv, ["dbt", "build", "--exclude", PACKAGE_UNIT_TESTS], env)
    return Host(venv, env, base / "raw", base / "host.duckdb", without_journeys, build)


def test_the_wheel_brings_journeys_and_its_cli_into_the_fresh_environment(host: Host) -> None:
    imported = checked(host.run(["python", "-c", "import journeys; print(journeys.__version__, journeys.__file__)"]),
                       "import journeys")
    version, location = imported.stdout.split()
    assert version == journeys.__version__
    assert Path(location).is_relative_to(host.venv), "journeys must come from the wheel, not the repository"
    assert "settings" in checked(host.run(["journeys", "--help"]), "journeys --help").stdout


def test_without_journeys_the_python_models_stop_with_one_line_that_says_how_to_install_it(host: Host) -> None:
    log = host.without_journeys.stdout + host.without_journeys.stderr
    assert host.without_journeys.returncode != 0
    [line] = [line for line in log.splitlines() if "needs the Python package journeys" in line]
    assert line.strip().startswith("RuntimeError: customer_journeys needs")
    assert f"journeys {journeys.__version__}, which cannot be imported" in line and INSTALL_HINT in line


def test_an_incompatible_journeys_stops_the_python_models_with_one_line(host: Host, tmp_path: Path) -> None:
    (tmp_path / "journeys").mkdir()
    (tmp_path / "journeys" / "__init__.py").write_text('__version__ = "0.0.9"\n')
    result = host.run(["dbt", "run", "-s", "journeys_environment"], PYTHONPATH=str(tmp_path))
    assert result.returncode != 0
    [line] = [line for line in (result.stdout + result.stderr).splitlines() if "needs the Python package" in line]
    assert "but 0.0.9 is installed" in line and INSTALL_HINT in line


def test_the_host_project_builds_the_package_and_its_own_model(host: Host) -> None:
    log = host.build.stdout + host.build.stderr
    assert host.build.returncode == 0, log[-6000:]
    assert "ERROR=0 SKIP=0" in log
    version = host.query("select * from analytics_journeys_marts.journeys_environment")
    assert version.loc[0, "journeys_version"] == version.loc[0, "required_version"] == journeys.__version__
    summary = host.query("select * from analytics.segment_buyer_rates")
    assert summary["contacts"].sum() == host.query(
        "select count(*) as n from analytics_journeys_marts.contact_features")["n"][0] > 0
    assert summary["buyers"].sum() > 0 and summary["mean_propensity"].between(0, 1).all()


def test_the_package_lands_in_the_schemas_the_host_names(host: Host) -> None:
    schemas = set(host.query("select schema_name from information_schema.schemata")["schema_name"])
    own = {"analytics_journeys_staging", "analytics_journeys_intermediate", "analytics_journeys_marts"}
    assert own <= schemas
    assert not schemas & {"staging", "intermediate", "marts"}, "the package's own schema names leaked into the host"
    placed = host.query("select table_schema, table_name from information_schema.tables")
    assert set(placed.loc[placed["table_name"] == "purchase_propensity", "table_schema"]) == {
        "analytics_journeys_marts"}
    assert set(placed.loc[placed["table_name"] == "stg_hubspot__contacts", "table_schema"]) == {
        "analytics_journeys_staging"}


def test_the_hosts_vars_scoped_to_the_package_reach_its_sql_and_python_models(host: Host) -> None:
    segments = host.query("select count(*) as n from analytics_journeys_marts.segments")["n"][0]
    assert segments == PACKAGE_VARS["journeys_segments"]["k"]  # the package's default is k auto over 3..10
    top_paths = host.query("select count(*) as n from analytics_journeys_marts.top_paths")["n"][0]
    assert top_paths == PACKAGE_VARS["journeys_top_paths_count"]  # default 100; this export has more paths


def test_the_hosts_override_of_a_dispatched_macro_stages_its_time_zone(host: Host) -> None:
    """integration_tests/macros: naive export timestamps are New York time, staged as UTC."""
    raw = pd.read_csv(host.raw_dir / "hubspot_export.csv", dtype=str, keep_default_na=False,
                      usecols=["Contact ID", "Became a Subscriber Date"])
    raw = raw[raw["Became a Subscriber Date"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?")
              & raw["Contact ID"].str.fullmatch(r"\d+")].drop_duplicates("Contact ID", keep=False)
    naive = pd.to_datetime(raw["Became a Subscriber Date"], errors="coerce")  # the dirt plants impossible dates
    # the hour a clock change repeats or skips has no single reading: left out
    local = naive.dt.tz_localize("America/New_York", ambiguous="NaT", nonexistent="NaT")
    kept = local.notna()
    exported = pd.DataFrame({"contact_id": raw.loc[kept, "Contact ID"].astype("int64"), "naive": naive[kept],
                             "expected": local[kept].dt.tz_convert("UTC").dt.tz_localize(None)})
    staged = host.query("select contact_id, became_subscriber_at from analytics_journeys_staging.stg_hubspot__contacts")
    joined = exported.merge(staged, on="contact_id")
    assert len(joined) > CONTACTS // 4
    assert (joined["became_subscriber_at"] == joined["expected"]).all()
    assert (joined["expected"] - joined["naive"]).dt.total_seconds().isin([4 * 3600, 5 * 3600]).all()


def test_the_python_and_event_models_turn_off_and_the_sql_layer_and_its_checks_stay() -> None:
    from conftest import dbt_env, run_dbt

    listed = {}
    for enabled in ("true", "false"):
        result = run_dbt(["ls", "--output", "json", "--output-keys", "name resource_type original_file_path",
                          "--vars", f"{{journeys_enable_python_models: {enabled}, journeys_enable_event_models: {enabled}}}"],
                         dbt_env(ROOT / "data" / "raw", ROOT / "target" / "ls" / "journeys.duckdb", ROOT / "artifacts"))
        assert result.returncode == 0, result.stdout[-3000:]
        listed[enabled] = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    names = {enabled: {node["name"] for node in nodes} for enabled, nodes in listed.items()}
    python_models = {node["name"] for node in listed["true"] if node["original_file_path"].endswith(".py")}
    event_marts = {"sessions", "category_transitions", "top_paths", "step_matrix", "path_dropoff"}
    assert python_models and event_marts <= names["true"]
    assert not (python_models | event_marts) & names["false"]
    assert {"contact_features", "contact_journeys", "quarantined_rows", "assert_no_email_outside_base",
            "assert_raw_records_staged_or_quarantined"} <= names["false"]
