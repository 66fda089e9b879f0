"""Command-line interface: `journeys synth | serve | report | categories | figures | settings`.

Each sub-command imports its module lazily, so `journeys synth` does not pay for TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

DEFAULT_CONTACTS = 336_955


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journeys", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    synth = commands.add_parser("synth", help="write a synthetic HubSpot export with planted truth")
    synth.add_argument("--contacts", type=int, default=DEFAULT_CONTACTS, help="number of contacts")
    synth.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files)")
    synth.add_argument("--out", type=Path, required=True, help="output folder")
    synth.add_argument("--no-dirt", action="store_true", help="switch off every kind of dirt")
    synth.add_argument("--events", action=argparse.BooleanOptionalAction, default=True,
                       help="also write page_events.csv, every contact's event stream, from which the build "
                            "makes sessions, path marts and long sequences (default: on; --no-events writes "
                            "the export alone, whose history is the last 4 pages)")
    synth.add_argument("--append-days", type=int, metavar="N",
                       help="instead of writing an export, append N next days of events for the contacts of the "
                            "export in --out to its page_events.csv (the other files stay as they are)")

    serve = commands.add_parser("serve", help="serve the last build's models over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--artifacts", type=Path, default=Path(os.environ.get("JOURNEYS_ARTIFACTS", "artifacts"))
    )

    report = commands.add_parser("report", help="render the self-contained HTML report")
    report.add_argument(
        "--db", type=Path, default=Path(os.environ.get("JOURNEYS_DUCKDB", "data/journeys.duckdb"))
    )
    report.add_argument("--out", type=Path, default=Path("data/report.html"))

    categories = commands.add_parser(
        "categories",
        help="the URL rule loop: `prepare` keeps the previous categories and prints the dbt selector, "
        "`report` prints coverage, unmapped URLs, idle rules and changes",
    )
    categories.add_argument("step", choices=["prepare", "report"])
    categories.add_argument(
        "--raw-dir", type=Path, default=Path(os.environ.get("JOURNEYS_RAW_DIR", "data/raw"))
    )
    categories.add_argument(
        "--db", type=Path, default=Path(os.environ.get("JOURNEYS_DUCKDB", "data/journeys.duckdb"))
    )
    categories.add_argument("--top", type=int, default=15, help="unmapped URLs listed")
    figures = commands.add_parser("figures", help="print README's results tables from model_metrics")
    figures.add_argument(
        "--db", type=Path, default=Path(os.environ.get("JOURNEYS_DUCKDB", "data/journeys.duckdb"))
    )
    figures.add_argument("--experiments", action="store_true", help="print the propensity_experiments grid")
    commands.add_parser("settings", help="print the models' settings (vars journeys_segments, journeys_propensity): "
                                         "each key, its default and what it sets")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command == "synth" and args.append_days is not None:
        from journeys.synth import append_days

        print(json.dumps(append_days(args.out, days=args.append_days, seed=args.seed)))
    elif args.command == "synth":
        from journeys.synth import write_export

        summary = write_export(
            args.out, n_contacts=args.contacts, seed=args.seed, dirt=not args.no_dirt, page_events=args.events
        )
        print(json.dumps(summary))
    elif args.command == "serve":
        from journeys.service import run

        run(host=args.host, port=args.port, artifacts_dir=args.artifacts)
    elif args.command == "report":
        from journeys.report import write_report

        write_report(db_path=args.db, out_path=args.out)
    elif args.command == "categories":
        from journeys.urls import categories as loop

        if args.step == "prepare":
            loop.snapshot_categories(args.db)
            print(loop.selector_to_build(args.db, args.raw_dir))
        else:
            print(loop.report(args.db, top_unmapped=args.top))
    elif args.command == "settings":
        from journeys.runs.settings import settings_tables

        print(settings_tables())
    elif args.command == "figures":
        from journeys.report.figures import (
            data_tables,
            experiments_table,
            read_experiments,
            read_metrics,
            results_tables,
        )

        if args.experiments:
            print(experiments_table(read_experiments(args.db)))
        else:
            print(data_tables(args.db), results_tables(read_metrics(args.db)), sep="\n\n")
    return 0
