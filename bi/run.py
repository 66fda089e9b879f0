"""`make bi`: Apache Superset on 127.0.0.1 over the published warehouse, with the Customer journeys dashboard.

Runs with Superset's own virtual environment (.venv-bi: its pins clash with the project's). Keeps Superset's
metadata in data/bi, prepares it once (schema, the `admin` user with the password of JOURNEYS_BI_PASSWORD, roles),
starts the server on port JOURNEYS_BI_PORT (default 8088), waits for /health, provisions the dashboard from
bi/dashboard.yml and serves until stopped. Refuses to start without a password: there is no default one.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def superset(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "superset"), *args], env=env, capture_output=True, text=True, check=False)


def prepare(env: dict[str, str], password: str) -> None:
    """The metadata schema, the admin user (its password set to the given one) and the default roles."""
    for step in (("db", "upgrade"), ("init",)):
        done = superset(env, *step)
        if done.returncode != 0:
            raise SystemExit(f"make bi: superset {' '.join(step)} failed:\n{done.stderr[-3000:]}")
    created = superset(env, "fab", "create-admin", "--username", "admin", "--firstname", "Admin", "--lastname",
                       "User", "--email", "admin@localhost", "--password", password)
    if "already exists" in created.stdout + created.stderr:
        superset(env, "fab", "reset-password", "--username", "admin", "--password", password)


def wait_healthy(url: str, server: subprocess.Popen, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"make bi: superset exited with code {server.returncode}")
        try:
            if requests.get(f"{url}/health", timeout=5).text.strip() == "OK":
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise SystemExit(f"make bi: superset did not answer {url}/health within {timeout_s:.0f} s")


def main() -> int:
    password = os.environ.get("JOURNEYS_BI_PASSWORD", "")
    if not password:
        print("make bi: set JOURNEYS_BI_PASSWORD to the password of Superset's admin user (there is no default)")
        return 2
    port = int(os.environ.get("JOURNEYS_BI_PORT", "8088"))
    warehouse = Path(os.environ.get("JOURNEYS_DUCKDB", "data/journeys.duckdb"))
    if not warehouse.exists():
        print(f"make bi: {warehouse} does not exist yet: run `make build` first")
        return 2
    home = Path(os.environ.get("SUPERSET_HOME", "data/bi")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    key = home / "secret_key"
    if not key.exists():
        key.write_text(secrets.token_urlsafe(48))
    env = {**os.environ, "SUPERSET_HOME": str(home), "SUPERSET_CONFIG_PATH": str(HERE / "superset_config.py"),
           "FLASK_APP": "superset"}
    prepare(env, password)
    url = f"http://{HOST}:{port}"
    # a stop (Ctrl-C, or SIGTERM from a supervisor) stops the server too: SIGTERM unwinds like Ctrl-C
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = subprocess.Popen([str(BIN / "superset"), "run", "-h", HOST, "-p", str(port), "--with-threads"], env=env)
    try:
        wait_healthy(url, server)
        sys.path.insert(0, str(HERE))
        from provision import provision

        made = provision(url, password, warehouse)
        print(f"make bi: Superset at {url}/superset/dashboard/{made['dashboard']}/ (user admin); "
              f"{len(made['charts'])} charts over {warehouse.resolve()}", flush=True)
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
