"""Model versions under a running service (`make bench-swap`): retrain, rollback and a corrupt version while one
request every 50 ms is served, then many swaps; prints how long each change took to be served, every failed
request (the goal is none) and the server's memory after the swaps.

On a scratch copy of a build (DuckDB file, raw export, saved models): starts `journeys serve` on 127.0.0.1, sends
one /v1/propensity request every 50 ms throughout, and
1. retrains the propensity model with `journeys build -s purchase_propensity+` and var journeys_retrain true
   (another seed), and waits until /health reports the new version;
2. rolls back with `journeys models use propensity <previous>` and waits for it;
3. makes a corrupt version current (a truncated network file) and checks that it is refused while the old one
   keeps serving, then rolls back again;
4. switches between the two versions `--swaps` times, sampling the server's resident memory after each.

    .venv/bin/python scripts/bench_swap.py [--db data/journeys.duckdb] [--raw data/raw] [--artifacts artifacts]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb

from journeys.runs import registry
from journeys.service import warehouse_contacts
from journeys.warehouse import connect

HOST = "127.0.0.1"
PERIOD_S = 0.05
SERVED_WITHIN_S = 60
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def get_json(url: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {"error": error.read().decode(errors="replace")[:300]}


class SteadyLoad(threading.Thread):
    """One request every PERIOD_S; records (seconds, status, model_version, error or None) of each."""

    def __init__(self, url: str, body: dict) -> None:
        super().__init__(daemon=True)
        self.url, self.body, self.results, self.stopping = url, body, [], threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        while not self.stopping.is_set():
            sent = time.monotonic()
            try:
                status, answer = get_json(self.url, self.body)
            except OSError as error:
                status, answer = 0, {"error": str(error)}
            self.results.append((round(sent - self.started, 3), status, answer.get("model_version"),
                                 answer.get("error") if status != 200 else None))
            self.stopping.wait(max(0.0, PERIOD_S - (time.monotonic() - sent)))


def served(port: int, model: str) -> tuple[str, str | None]:
    _, health = get_json(f"http://{HOST}:{port}/health")
    info = health.get(model) or {}
    return info.get("version", ""), info.get("refused")


def wait_served(port: int, model: str, version: str, timeout_s: float = 4 * SERVED_WITHIN_S) -> float:
    """Seconds until /health reports `version` of `model` (a refused connection: the service is starting)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if served(port, model)[0] == version:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{model} {version} was not served within {timeout_s:.0f} s")


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES / 2**20


def use(artifacts: Path, model: str, version: str) -> float:
    """`journeys models use`; the wall time of the command itself."""
    started = time.monotonic()
    subprocess.run([str(BIN / "journeys"), "models", "use", model, version, "--artifacts", str(artifacts)],
                   check=True, capture_output=True)
    return time.monotonic() - started


def corrupt_copy(artifacts: Path, version: str) -> str:
    """A copy of `version` whose network file is cut in half, made current as a broken build would."""
    name = f"{version}-corrupt"
    source = registry.version_folder(artifacts, "propensity", version)
    target = source.with_name(name)
    shutil.copytree(source, target, dirs_exist_ok=True)
    network = target / "propensity.keras"
    network.write_bytes(network.read_bytes()[: network.stat().st_size // 2])
    registry.make_current(artifacts, "propensity", name, "a corrupt version, planted by bench_swap")
    return name


def run(work: Path, swaps: int, retrain_overrides: str) -> dict:
    artifacts, db = work / "artifacts", work / "journeys.duckdb"
    with connect(db) as con:
        contact = con.execute("select contact_id from purchase_propensity order by contact_id limit 1").fetchone()[0]
        _, body = warehouse_contacts(con, [int(contact)])
    env = {**os.environ, "JOURNEYS_DUCKDB": str(db), "JOURNEYS_RAW_DIR": str(work / "raw"),
           "JOURNEYS_ARTIFACTS": str(artifacts), "DBT_PROFILES_DIR": str(PROJECT), "PYTHONHASHSEED": "0"}
    port = free_port()
    server = subprocess.Popen([str(BIN / "journeys"), "serve", "--port", str(port), "--artifacts", str(artifacts)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result: dict = {}
    try:
        first = registry.current_version(artifacts, "propensity")
        result["start_s"] = wait_served(port, "propensity", first)
        load = SteadyLoad(f"http://{HOST}:{port}/v1/propensity", {"contacts": body})
        load.start()
        vars_ = "{journeys_retrain: true, journeys_propensity: {seed: 1" + retrain_overrides + "}}"
        started = time.monotonic()
        subprocess.run([str(BIN / "journeys"), "build", "-s", "purchase_propensity+", "--vars", vars_], cwd=PROJECT,
                       env=env, check=True, capture_output=True)
        result["retrain_build_s"] = time.monotonic() - started
        second = registry.current_version(artifacts, "propensity")
        result["retrain_served_s"] = wait_served(port, "propensity", second)
        use(artifacts, "propensity", first)
        result["rollback_served_s"] = wait_served(port, "propensity", first)
        corrupt = corrupt_copy(artifacts, second)
        deadline = time.monotonic() + SERVED_WITHIN_S
        while served(port, "propensity")[1] is None and time.monotonic() < deadline:
            time.sleep(0.2)
        result["corrupt_refused"] = served(port, "propensity")[1] or ""
        result["served_after_corrupt"] = served(port, "propensity")[0]
        use(artifacts, "propensity", first)
        rss, swap_s = [rss_mb(server.pid)], []
        for i in range(swaps):
            target = second if i % 2 == 0 else first
            started = time.monotonic()
            use(artifacts, "propensity", target)
            wait_served(port, "propensity", target)
            swap_s.append(time.monotonic() - started)
            rss.append(rss_mb(server.pid))
        load.stopping.set()
        load.join()
        failed = [r for r in load.results if r[1] != 200]
        result.update(versions=[first, second], corrupt=corrupt, swap_s=swap_s, rss_mb=rss,
                      requests=len(load.results), failed=failed,
                      answered_by=sorted({r[2] for r in load.results if r[1] == 200}))
    finally:
        server.terminate()
        server.wait(timeout=60)
    return result


def report(result: dict) -> str:
    swap = sorted(result["swap_s"])
    lines = [
        (f"service ready in {result['start_s']:.1f} s; {result['requests']:,} requests at one per "
         f"{PERIOD_S * 1000:.0f} ms, {len(result['failed'])} failed"),
        (f"retrain (journeys build -s purchase_propensity+): build {result['retrain_build_s']:.1f} s, then served "
         f"{result['retrain_served_s']:.1f} s after its publish (goal: within {SERVED_WITHIN_S} s)"),
        f"rollback (journeys models use): served after {result['rollback_served_s']:.1f} s",
        (f"corrupt version {result['corrupt']}: refused ({result['corrupt_refused']}); still serving "
         f"{result['served_after_corrupt']}"),
    ]
    if result["failed"]:
        lines.append("failed requests (seconds after the first, status, error): "
                     + "; ".join(f"{t:.1f} s, {status}, {error}" for t, status, _, error in result["failed"][:5]))
    if swap:
        lines.append(f"{len(swap)} swaps: median {swap[len(swap) // 2]:.1f} s, max {swap[-1]:.1f} s from "
                     "`journeys models use` to served")
        lines.append(f"server memory: {result['rss_mb'][0]:,.0f} MB before the swaps, "
                     f"{result['rss_mb'][-1]:,.0f} MB after {len(swap)} (after each: "
                     + ", ".join(f"{value:,.0f}" for value in result["rss_mb"][1:]) + ")")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path(os.environ.get("JOURNEYS_DUCKDB", "data/journeys.duckdb")))
    parser.add_argument("--raw", type=Path, default=Path(os.environ.get("JOURNEYS_RAW_DIR", "data/raw")))
    parser.add_argument("--artifacts", type=Path, default=Path(os.environ.get("JOURNEYS_ARTIFACTS", "artifacts")))
    parser.add_argument("--swaps", type=int, default=20)
    parser.add_argument("--retrain-overrides", default="", help="more journeys_propensity keys, e.g. ', epochs: 2'")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_swap_") as scratch:
        work = Path(scratch)
        shutil.copytree(args.raw, work / "raw")
        shutil.copytree(args.artifacts, work / "artifacts")
        with duckdb.connect(str(args.db), read_only=True):
            shutil.copy(args.db, work / "journeys.duckdb")
        result = run(work, args.swaps, args.retrain_overrides)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(report(result))


if __name__ == "__main__":
    main()
