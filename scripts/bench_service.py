"""Latency and throughput of the scoring service under load, on loopback (`make bench-service`).

Starts `journeys serve` on 127.0.0.1 (a free port) over the last build, waits until /health says the models
are loaded, then runs closed-loop loads with a small asyncio HTTP/1.1 client (keep-alive, pre-encoded
bodies, so the generator costs little of the machine's two cores): 1, 8 and 32 concurrent clients sending one
contact per request, 2 clients sending batches of 1,000, and a soak at 32 clients over both endpoints while
the server's resident memory is sampled. Every load stops after its duration (requests in flight get
`--timeout` seconds) and the server is stopped at the end. Bodies describe warehouse contacts with page
history, raw page URLs included, so URL normalisation is part of the cost. Prints one markdown table.

    .venv/bin/python scripts/bench_service.py [--db data/journeys.duckdb] [--artifacts artifacts]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from journeys.service import warehouse_contacts
from journeys.warehouse import connect

HOST = "127.0.0.1"
ENDPOINTS = ("/v1/segments", "/v1/propensity")
BATCH = 1_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Outcome:
    """What one load measured: latencies of successful requests, errors, and the server's CPU time."""

    name: str
    target: str
    clients: int
    latencies_s: list[float] = field(default_factory=list)
    contacts: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    server_cpu_s: float = 0.0
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies_s) / self.elapsed_s if self.elapsed_s else 0.0

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_s, q) * 1e3) if self.latencies_s else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def request_bytes(path: str, port: int, contacts: list[dict]) -> bytes:
    body = json.dumps({"contacts": contacts}, separators=(",", ":")).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")  # fmt: skip
    return head.encode() + body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """Send one request on a keep-alive connection; status and body of the response."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        None,
    )
    if length is None:
        raise ConnectionError("response without Content-Length")
    return status, await reader.readexactly(length)


async def client(
    port: int,
    requests: list[tuple[bytes, int]],
    offset: int,
    stop_at: float,
    timeout_s: float,
    outcome: Outcome,
) -> None:
    """One closed-loop client: next request as soon as the last answer arrived, until `stop_at`."""
    connection = None
    i = offset
    while time.monotonic() < stop_at:
        request, expected = requests[i % len(requests)]
        i += 1
        started = time.perf_counter()
        try:
            if connection is None:
                connection = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout_s)
            status, body = await asyncio.wait_for(exchange(*connection, request), timeout_s)
            if status != 200 or len(json.loads(body)["results"]) != expected:
                raise ValueError(f"status {status}")
        except (TimeoutError, OSError, ValueError, KeyError, asyncio.IncompleteReadError):
            outcome.errors += 1
            if connection is not None:
                connection[1].close()
            connection = None
            continue
        outcome.latencies_s.append(time.perf_counter() - started)
        outcome.contacts += expected
    if connection is not None:
        connection[1].close()


def process_tree(pid: int) -> list[int]:
    """The server process and its descendants (uvicorn workers)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            todo.extend(int(child) for child in children)
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server and its workers."""
    total = 0
    for p in process_tree(pid):
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """Resident memory of the server and its workers."""
    return (
        sum(int(Path(f"/proc/{p}/statm").read_text().split()[1]) for p in process_tree(pid))
        * PAGE_BYTES
        / 2**20
    )


async def run_load(
    outcome: Outcome,
    port: int,
    server_pid: int,
    requests: list[tuple[bytes, int]],
    seconds: float,
    timeout_s: float,
) -> Outcome:
    """`outcome.clients` clients for `seconds`; the server's CPU time and RSS around the load."""
    cpu, outcome.rss_start_mb = cpu_seconds(server_pid), rss_mb(server_pid)
    started = time.perf_counter()
    stop_at = time.monotonic() + seconds
    step = max(1, len(requests) // outcome.clients)
    await asyncio.gather(*(client(port, requests, c * step, stop_at, timeout_s, outcome)
                           for c in range(outcome.clients)))  # fmt: skip
    outcome.elapsed_s = time.perf_counter() - started
    outcome.server_cpu_s = cpu_seconds(server_pid) - cpu
    outcome.rss_end_mb = rss_mb(server_pid)
    return outcome


def wait_until_ready(port: int, server: subprocess.Popen, timeout_s: float) -> dict:
    """Poll /health until it answers 200 (the models are loaded)."""
    deadline = time.monotonic() + timeout_s
    request = f"GET /health HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode()

    async def probe() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            return await asyncio.wait_for(exchange(reader, writer, request), 5)
        finally:
            writer.close()

    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"journeys serve exited with code {server.returncode}")
        try:
            status, body = asyncio.run(probe())
            if status == 200:
                return json.loads(body)
        except (TimeoutError, OSError, asyncio.IncompleteReadError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"journeys serve was not ready on port {port} within {timeout_s:.0f} s")


def sample_bodies(db: Path, n: int, seed: int) -> dict[str, list[dict]]:
    """Request contacts (per endpoint) for `n` seeded warehouse contacts with page history."""
    with connect(db) as con:
        ids = con.execute(
            "select contact_id from contact_features where has_page_history order by contact_id"
        ).fetchnumpy()["contact_id"]
        chosen = np.random.default_rng(seed).choice(ids, size=min(n, len(ids)), replace=False).tolist()
        segments, propensity = warehouse_contacts(con, chosen)
    return {"/v1/segments": segments, "/v1/propensity": propensity}


def format_table(outcomes: list[Outcome]) -> str:
    lines = [
        "| load | requests/s | contacts/s | p50 ms | p99 ms | max ms | errors | server CPU ms/request | target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        cpu = o.server_cpu_s * 1e3 / len(o.latencies_s) if o.latencies_s else float("nan")
        lines.append(
            f"| {o.name} | {o.requests_per_s:,.0f} | {o.contacts / o.elapsed_s:,.0f} | {o.percentile_ms(50):.1f} | "
            f"{o.percentile_ms(99):.1f} | {o.percentile_ms(100):.1f} | {o.errors} | {cpu:.2f} | {o.target} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--db", type=Path, default=Path(os.environ.get("JOURNEYS_DUCKDB", "data/journeys.duckdb"))
    )
    parser.add_argument(
        "--artifacts", type=Path, default=Path(os.environ.get("JOURNEYS_ARTIFACTS", "artifacts"))
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each load")
    parser.add_argument("--soak-seconds", type=float, default=60.0)
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds a request may take before it counts as an error"
    )
    parser.add_argument("--contacts", type=int, default=4 * BATCH, help="distinct warehouse contacts sent")
    parser.add_argument("--workers", type=int, default=None, help="passed to `journeys serve --workers`")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    bodies = sample_bodies(args.db, args.contacts, args.seed)
    port = free_port()
    single = {
        path: [(request_bytes(path, port, [c]), 1) for c in contacts] for path, contacts in bodies.items()
    }
    batched = {path: [(request_bytes(path, port, contacts[i : i + BATCH]), len(contacts[i : i + BATCH]))
                      for i in range(0, len(contacts), BATCH)] for path, contacts in bodies.items()}  # fmt: skip
    mixed = [request for pair in zip(*single.values(), strict=True) for request in pair]

    command = [str(Path(sys.executable).with_name("journeys")), "serve", "--host", HOST, "--port", str(port),
               "--artifacts", str(args.artifacts)]  # fmt: skip
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    started = time.perf_counter()
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        health = wait_until_ready(port, server, timeout_s=300)
        print(f"server ready in {time.perf_counter() - started:.1f} s; load average {os.getloadavg()[0]:.1f}; "
              f"{os.cpu_count()} cores; /health: {json.dumps(health)}", flush=True)  # fmt: skip

        def load(name: str, target: str, clients: int, requests: list, seconds: float) -> Outcome:
            outcome = asyncio.run(run_load(Outcome(name, target, clients), port, server.pid, requests, seconds,
                                           args.timeout))  # fmt: skip
            print(format_table([outcome]).splitlines()[-1], flush=True)
            return outcome

        for path in ENDPOINTS:  # warm-up: first calls trace functions and fill caches
            load(f"warm-up {path}", "-", 8, single[path], 3)
        outcomes = []
        for path in ENDPOINTS:
            outcomes += [
                load(f"{path}: 1 client, 1 contact/request", "-", 1, single[path], args.seconds),
                load(f"{path}: 8 clients, 1 contact/request", "p50 < 10 ms, p99 < 50 ms", 8, single[path],
                     args.seconds),
                load(f"{path}: 32 clients, 1 contact/request", ">= 300 requests/s, no error", 32, single[path],
                     args.seconds),
                load(f"{path}: 2 clients, {BATCH:,} contacts/request", ">= 5,000 contacts/s", 2, batched[path],
                     args.seconds),
            ]  # fmt: skip
        soak = load(f"soak, both endpoints: 32 clients, 1 contact/request, {args.soak_seconds:.0f} s",
                    "no error, RSS growth < 50 MB", 32, mixed, args.soak_seconds)  # fmt: skip
        outcomes.append(soak)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    print()
    print(format_table(outcomes))
    print(f"\nsoak: server RSS {soak.rss_start_mb:,.0f} MB -> {soak.rss_end_mb:,.0f} MB "
          f"(growth {soak.rss_end_mb - soak.rss_start_mb:+,.1f} MB); load average at the end "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
