"""Throughput of the scoring service on loopback: contacts scored per second, batches of 1,000.

Starts `journeys serve` on 127.0.0.1 (a free port) over the given build, sends batches made of
warehouse contacts (raw page URLs included, so URL normalisation is part of the cost) and prints
contacts/second per endpoint. Usage:

    .venv/bin/python scripts/bench_service.py [--db data/journeys.duckdb] [--artifacts artifacts]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

from journeys.service import MAX_CONTACTS_PER_REQUEST, warehouse_contacts
from journeys.warehouse import connect

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(base: str, server: subprocess.Popen, timeout_s: float = 300) -> dict:
    """Poll /health until the models are loaded (TensorFlow import dominates start-up)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"journeys serve exited with code {server.returncode}")
        try:
            return httpx.get(f"{base}/health", timeout=2).json()
        except httpx.TransportError:
            time.sleep(0.5)
    raise TimeoutError(f"journeys serve did not answer on {base} within {timeout_s:.0f} s")


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
    parser.add_argument("--batches", type=int, default=5, help="timed batches per endpoint")
    parser.add_argument("--batch-size", type=int, default=MAX_CONTACTS_PER_REQUEST)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    needed = args.batch_size * args.batches
    with connect(args.db) as con:
        ids = con.execute(
            "select contact_id from contact_features where has_page_history order by contact_id"
        ).df()["contact_id"]
        rng = np.random.default_rng(args.seed)
        chosen = rng.choice(ids.to_numpy(), size=min(needed, len(ids)), replace=False).tolist()
        segments, propensity = warehouse_contacts(con, chosen)
    batches = {
        "/v1/segments": [segments[i : i + args.batch_size] for i in range(0, len(segments), args.batch_size)],
        "/v1/propensity": [
            propensity[i : i + args.batch_size] for i in range(0, len(propensity), args.batch_size)
        ],
    }

    port = free_port()
    base = f"http://{HOST}:{port}"
    command = [Path(sys.executable).with_name("journeys"), "serve", "--host", HOST, "--port", str(port),
               "--artifacts", str(args.artifacts)]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        health = wait_until_healthy(base, server)
        print(f"service on {base}: segments {health['segments']['version']}, "
              f"propensity {health['propensity']['version']}")  # fmt: skip
        with httpx.Client(base_url=base, timeout=300) as client:
            for path, chunks in batches.items():
                warm = client.post(path, json={"contacts": chunks[0]})
                warm.raise_for_status()
                started = time.perf_counter()
                scored = 0
                for chunk in chunks:
                    response = client.post(path, json={"contacts": chunk})
                    response.raise_for_status()
                    scored += len(response.json()["results"])
                elapsed = time.perf_counter() - started
                print(f"{path}: {scored:,} contacts in {len(chunks)} batches of {args.batch_size:,}: "
                      f"{elapsed:.2f} s, {scored / elapsed:,.0f} contacts/s")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
