"""Command-line interface: `journeys synth | build | serve | report | categories | figures | models | settings`.

Each sub-command imports its module lazily, so `journeys synth` does not pay for TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

DEFAULT_CONTACTS = 336_955


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journeys", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="dbt build (its arguments follow) into a staging copy of the warehouse, "
                                      "published at $JOURNEYS_DUCKDB only when every error-severity test passed",
                        add_help=False)

    synth = commands.add_parser("synth", help="write a synthetic HubSpot export with planted truth")
    synth.add_argument("--contacts", type=int, default=DEFAULT_CONTACTS, help="number of contacts")
    synth.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files)")
    synth.add_argument("--format", choices=["csv", "fivetran", "airbyte", "dlt"], default="csv",
                       help="csv: the HubSpot export's files in --out; fivetran, airbyte, dlt: the same contacts as "
                            "that ELT tool loads them, tables in schema --schema of the DuckDB file --duckdb (and "
                            "truth.csv in --out when given)")
    synth.add_argument("--out", type=Path, help="output folder (csv: required)")
    synth.add_argument("--duckdb", type=Path, help="DuckDB file the ELT tables are written into")
    synth.add_argument("--schema", default="raw_hubspot", help="schema of the ELT tables")
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
    models = commands.add_parser("models", help="the saved model versions: `list`, or `use MODEL VERSION` to make "
                                                "an older one current (a rollback)")
    models.add_argument("action", choices=["list", "use"])
    models.add_argument("model", nargs="?", choices=["segments", "propensity"])
    models.add_argument("version", nargs="?")
    models.add_argument(
        "--artifacts", type=Path, default=Path(os.environ.get("JOURNEYS_ARTIFACTS", "artifacts"))
    )
    commands.add_parser("settings", help="print the models' settings (vars journeys_segments, journeys_propensity): "
                                         "each key, its default and what it sets")
    return parser


def models_command(args: argparse.Namespace) -> int:
    """`journeys models list | use MODEL VERSION`; a refused switch prints one line and exits 1."""
    from journeys.runs import registry

    if args.action == "list":
        print(registry.list_table(args.artifacts))
        return 0
    if not args.model or not args.version:
        print("journeys models use needs MODEL VERSION, e.g. `journeys models use propensity bilstm-0123abcd4567`")
        return 2
    reason = registry.refusal(args.artifacts, args.model, args.version) or _unloadable(args)
    if reason:
        print(f"refused: {reason}")
        return 1
    print(registry.use(args.artifacts, args.model, args.version))
    return 0


def _unloadable(args: argparse.Namespace) -> str | None:
    """Why the version's files do not load, or None: a version the service would refuse is not made current."""
    try:
        if args.model == "segments":
            from journeys.segments import load_segment_model

            load_segment_model(args.artifacts, args.version)
        else:
            from journeys.propensity import load_propensity_model

            load_propensity_model(args.artifacts, args.version)
    except Exception as error:  # noqa: BLE001 - any load failure refuses the switch, with its reason
        return f"{args.model} version {args.version} does not load ({type(error).__name__}: {str(error).splitlines()[0]})"
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["build"]:  # every other argument is dbt build's
        from journeys.runs import publish

        return publish.main(argv[1:])
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "synth" and args.append_days is not None:
        from journeys.synth import append_days

        if args.out is None:
            parser.error("synth --append-days needs --out, the export's folder")
        print(json.dumps(append_days(args.out, days=args.append_days, seed=args.seed)))
    elif args.command == "synth":
        from journeys.synth import write_elt_export, write_export

        if args.format == "csv":
            if args.out is None:
                parser.error("synth --format csv needs --out")
            summary = write_export(
                args.out, n_contacts=args.contacts, seed=args.seed, dirt=not args.no_dirt, page_events=args.events
            )
        else:
            if args.duckdb is None:
                parser.error(f"synth --format {args.format} needs --duckdb")
            summary = write_elt_export(args.duckdb, args.format, n_contacts=args.contacts, seed=args.seed,
                                       dirt=not args.no_dirt, schema=args.schema, truth_dir=args.out)
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
    elif args.command == "models":
        return models_command(args)
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
