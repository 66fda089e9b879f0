"""Benchmark: the whole build at a multiple of the spec's export, per-step time and peak memory, growth from 1x.

`make bench-scale SCALE=10` writes `journeys synth --contacts 336955*SCALE --seed 7 --no-events` (the HubSpot
export alone; EVENTS=1 adds page_events.csv, about 23 events per contact, in
a folder of its own) into a scratch folder,
then builds it as `make build` does (dbt build, then the report) with its own DuckDB file, artifacts, dbt
target and logs, so the project's own build is untouched. The SQL layer (everything but python_models and
what depends on them) is first built alone, so that its peak memory is measured on its own; then the DuckDB
file is deleted and the whole `dbt build` runs in one process, as `make build` runs it: its time and peak are
the build's. Each process runs under `/usr/bin/time -v` (peak resident memory); the time of each Python model
comes from dbt's run_results.json of the whole build.

Results are saved as `<folder>/scale_<SCALE>.json`; a run at another scale first runs 1x when its results
are missing, and prints the growth from 1x. On a shared machine the figures are upper bounds: the load
average at the start and the end is printed beside them.

With `--events`, the next day follows: one day of events is appended to the export's page_events.csv (`journeys
synth --append-days 1`) and the whole `dbt build` runs again on a copy of the warehouse and the saved models, as a
daily `make build` would (the page_events models add only the new records; the Python models score with the saved
models, training nothing): its time and peak, at 1x and at the scale, and its slowest nodes (`daily_<SCALE>.json`).

`--uncapped` then retrains the Python models on a copy of the same warehouse with the training caps off
(`journeys_segments.train_rows` and `journeys_propensity.train_rows` 0) and compares the two runs' quality: the segments' ARI
against the planted truth, and the propensity ROC AUC of both models on the same contacts (the capped run's
test split, which neither run trained on).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from sklearn.metrics import roc_auc_score

SPEC_CONTACTS = 336_955
SEED = 7  # the scale benchmark's export; `make bench` builds the default export (seed 0)
PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PYTHON_MODELS = "path:python_models+"
NO_CAPS = "{journeys_segments: {train_rows: 0}, journeys_propensity: {train_rows: 0}}"


def _measured(command: list[str], env: dict[str, str], log: Path) -> dict[str, float]:
    """Run `command` under /usr/bin/time -v (output to `log`); wall seconds and peak resident GB: the process's own
    peak, or for a command that starts processes of its own (journeys synth writes with two) the peak of the summed
    resident memory of all of them, sampled every 0.1 s, whichever is larger."""
    stats = log.with_suffix(".time")
    start = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(["/usr/bin/time", "-v", "-o", str(stats), *command], cwd=PROJECT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
        tree_peak_kb = 0
        while process.poll() is None:
            tree_peak_kb = max(tree_peak_kb, _tree_resident_kb(process.pid))
            time.sleep(0.1)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {process.returncode}); see {log}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", stats.read_text()).group(1))
    return {"seconds": round(seconds, 1), "peak_gb": round(max(peak_kb, tree_peak_kb) / 1024**2, 2)}


def _tree_resident_kb(root: int) -> int:
    """Resident kB of process `root` and every process it started, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        pending += children.get(pid, [])
        try:
            total += int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))
        except (OSError, AttributeError):
            continue
    return total


def _python_model_seconds(target: Path) -> dict[str, float]:
    """Execution time of every Python model of a dbt invocation, from its run_results.json and manifest."""
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {nodes[r["unique_id"]]["name"]: round(r["execution_time"], 1) for r in results
            if nodes.get(r["unique_id"], {}).get("language") == "python"}


def run_scale(scale: float, folder: Path, events: bool = False, seed: int = SEED) -> dict[str, object]:
    """Generate, build and report one scale in `folder / f"scale_{scale}"`; returns the figures."""
    work = folder / f"scale_{scale:g}"
    raw, target = work / "raw", work / "target"
    work.mkdir(parents=True, exist_ok=True)
    env = _environment(work)
    contacts = round(SPEC_CONTACTS * scale)
    print(f"scale {scale:g}: {contacts:,} contacts in {work}", flush=True)
    load = [os.getloadavg()[0]]
    steps = {"synth": _measured([str(BIN / "journeys"), "synth", "--contacts", str(contacts), "--seed", str(seed),
                                 "--out", str(raw), "--events" if events else "--no-events"], env, work / "synth.log")}
    dbt = [str(BIN / "dbt"), "build", "--target-path", str(target), "--log-path", str(work / "logs")]
    _first_build(work)
    steps["sql_layer"] = _measured([*dbt, "--exclude", PYTHON_MODELS], env, work / "dbt_sql.log")
    _first_build(work)
    steps["dbt_build"] = _measured(dbt, env, work / "dbt_build.log")
    models = _python_model_seconds(target)
    steps["report"] = _measured([str(BIN / "journeys"), "report", "--db", str(work / "journeys.duckdb"),
                                 "--out", str(work / "report.html")], env, work / "report.log")
    load.append(os.getloadavg()[0])
    result = {"scale": scale, "contacts": contacts, "events": events, "steps": steps, "python_model_seconds": models,
              "load_average": load}
    (folder / f"scale_{scale:g}.json").write_text(json.dumps(result, indent=1))
    return result


def run_daily(scale: float, folder: Path, seed: int = SEED) -> dict[str, object]:
    """The next day of `scale`'s build: one day of events appended to its page_events.csv (`journeys synth
    --append-days 1`), then the whole `dbt build` again on a copy of its warehouse and saved models, as a daily
    `make build` runs: the event models add only the new records, the Python models score with the saved models."""
    work = folder / f"scale_{scale:g}"
    daily_db, artifacts = work / "daily.duckdb", work / "artifacts_daily"
    shutil.copyfile(work / "journeys.duckdb", daily_db)
    shutil.rmtree(artifacts, ignore_errors=True)
    shutil.copytree(work / "artifacts", artifacts)
    env = {**_environment(work), "JOURNEYS_DUCKDB": str(daily_db), "JOURNEYS_ARTIFACTS": str(artifacts)}
    target = work / "target_daily"
    load = [os.getloadavg()[0]]
    steps = {"append": _measured([str(BIN / "journeys"), "synth", "--append-days", "1", "--seed", str(seed),
                                  "--out", str(work / "raw")], env, work / "append.log")}
    steps["daily_build"] = _measured([str(BIN / "dbt"), "build", "--target-path", str(target),
                                      "--log-path", str(work / "logs")], env, work / "dbt_daily.log")
    load.append(os.getloadavg()[0])
    log = (work / "dbt_daily.log").read_text()
    result = {"scale": scale, "steps": steps, "node_seconds": _node_seconds(target), "load_average": load,
              "rebuilt_in_full": "building it in full" in log,
              "scored_with_saved_models": "training (" not in log}
    (folder / f"daily_{scale:g}.json").write_text(json.dumps(result, indent=1))
    return result


def _node_seconds(target: Path) -> dict[str, float]:
    """Execution time of every node of a dbt invocation (models and tests), from its run_results.json."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".", 2)[-1]: round(r["execution_time"], 1) for r in results}


def _daily_table(daily: dict, base: dict | None) -> str:
    """Markdown table of the daily build: appending the day, the whole dbt build, its slowest nodes."""
    rows = [("journeys synth --append-days 1", daily["steps"]["append"]),
            ("daily dbt build (incremental events, saved models)", daily["steps"]["daily_build"])]
    lines = [f"| next day at {daily['scale']:g}x | time | peak GB | {'at 1x' if base else ''} |", "|---|---|---|---|"]
    for name, figures in rows:
        before = base["steps"]["daily_build" if "build" in name else "append"] if base else None
        at_1x = f"{before['seconds']:.1f} s, {before['peak_gb']:.2f} GB" if before else ""
        lines.append(f"| {name} | {figures['seconds']:.1f} s | {figures['peak_gb']:.2f} | {at_1x} |")
    slowest = sorted(daily["node_seconds"].items(), key=lambda item: -item[1])[:8]
    lines.append("\nslowest nodes of the daily build: " + ", ".join(f"{name} {sec:.1f} s" for name, sec in slowest))
    low, high = daily["load_average"]
    lines.append(f"event models rebuilt in full: {'yes' if daily['rebuilt_in_full'] else 'no'}; scored with the saved "
                 f"models: {'yes' if daily['scored_with_saved_models'] else 'no'}; load average (1 min) at start / "
                 f"end: {low:.2f} / {high:.2f}")
    return "\n".join(lines)


def _first_build(work: Path) -> None:
    """No warehouse and no saved models in `work`: the next dbt build starts as a first `make build`."""
    for stale in (work / "journeys.duckdb", work / "journeys.duckdb.wal"):
        stale.unlink(missing_ok=True)
    shutil.rmtree(work / "artifacts", ignore_errors=True)  # saved models would only score


def run_uncapped(scale: float, folder: Path, retrain: bool = True) -> dict[str, object]:
    """Retrain the Python models of `scale`'s build without training caps on a copy of its warehouse; the
    quality of both runs side by side. Without `retrain`, an uncapped warehouse saved by an earlier run is
    reused (it depends on the export and the model settings, not on the caps)."""
    work = folder / f"scale_{scale:g}"
    capped_db, uncapped_db = work / "journeys.duckdb", work / "uncapped.duckdb"
    saved = folder / f"uncapped_{scale:g}.json"
    if retrain or not uncapped_db.exists() or not saved.exists():
        shutil.copyfile(capped_db, uncapped_db)
        shutil.rmtree(work / "artifacts_uncapped", ignore_errors=True)
        env = {**_environment(work), "JOURNEYS_DUCKDB": str(uncapped_db),
               "JOURNEYS_ARTIFACTS": str(work / "artifacts_uncapped")}
        step = _measured([str(BIN / "dbt"), "build", "--select", PYTHON_MODELS, "--vars", NO_CAPS,
                          "--target-path", str(work / "target_uncapped"), "--log-path", str(work / "logs")],
                         env, work / "dbt_uncapped.log")
    else:  # the uncapped models do not depend on the caps: compare the rebuilt capped run with them
        step = json.loads(saved.read_text())["uncapped_python_models"]
    capped, uncapped = _quality(capped_db), _quality(uncapped_db)
    test = capped["test"]
    same = uncapped["scores"].reindex(test.index)
    result = {"scale": scale, "uncapped_python_models": step,
              "segments_ari": {"capped": capped["ari"], "uncapped": uncapped["ari"]},
              "propensity_test_contacts": len(test),
              "propensity_roc_auc": {"capped": float(roc_auc_score(test["label"], test["score"])),
                                     "uncapped": float(roc_auc_score(test["label"], same))}}
    (folder / f"uncapped_{scale:g}.json").write_text(json.dumps(result, indent=1))
    return result


def _quality(db: Path) -> dict[str, object]:
    """ARI against truth, the BiLSTM's test predictions and every contact's propensity, from one warehouse."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        ari = con.sql("select value from marts.model_metrics where model_name = 'segments' "
                      "and metric = 'adjusted_rand_index'").fetchall()
        test = con.sql("select contact_id, score, label from marts.propensity_test_predictions "
                       "where model_name = 'bilstm'").df().set_index("contact_id")
        scores = con.sql("select contact_id, propensity from marts.purchase_propensity").df()
    finally:
        con.close()
    return {"ari": float(ari[0][0]) if ari else None, "test": test,
            "scores": scores.set_index("contact_id")["propensity"]}


def _environment(work: Path) -> dict[str, str]:
    """The build's environment for one scale's folder: its own export, DuckDB file and artifacts."""
    return {**os.environ, "JOURNEYS_RAW_DIR": str(work / "raw"), "JOURNEYS_DUCKDB": str(work / "journeys.duckdb"),
            "JOURNEYS_ARTIFACTS": str(work / "artifacts"), "DBT_PROFILES_DIR": str(PROJECT),
            "PYTHONHASHSEED": "0",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}


def _rows(result: dict) -> list[tuple[str, dict]]:
    """(step, figures) in print order: synth, SQL layer alone, the whole dbt build and its Python models
    (slowest first), report."""
    steps, models = result["steps"], result["python_model_seconds"]
    return [("journeys synth", steps["synth"]), ("SQL layer alone (dbt, staging to marts)", steps["sql_layer"]),
            ("whole dbt build (one process, as make build)", steps["dbt_build"]),
            *[(f"- {name}", {"seconds": seconds}) for name, seconds in sorted(models.items(), key=lambda m: -m[1])],
            ("journeys report", steps["report"])]


def _table(result: dict, base: dict | None) -> str:
    """Markdown table: every step's time and peak memory, with the growth from 1x when known."""
    before = dict(_rows(base)) if base else {}
    lines = [f"| step | {result['scale']:g}x ({result['contacts']:,} contacts) | peak GB | growth from 1x |",
             "|---|---|---|---|"]
    for name, figures in _rows(result):
        growth = ""
        if before.get(name, {}).get("seconds"):
            growth = f"{figures['seconds'] / before[name]['seconds']:.1f}x time"
            if "peak_gb" in figures:
                growth += f", {figures['peak_gb'] / before[name]['peak_gb']:.1f}x memory"
        peak = f"{figures['peak_gb']:.2f}" if "peak_gb" in figures else ""
        lines.append(f"| {name} | {figures['seconds']:.1f} s | {peak} | {growth} |")
    low, high = result["load_average"]
    lines.append(f"\nload average (1 min) at start / end: {low:.2f} / {high:.2f} (2 cores; shared machine: "
                 "times are upper bounds)")
    return "\n".join(lines)


def _saved(folder: Path, scale: float) -> dict | None:
    """The saved figures of `scale`, or None when missing or written by an older version of this script."""
    path = folder / f"scale_{scale:g}.json"
    result = json.loads(path.read_text()) if path.exists() else None
    return result if result and "dbt_build" in result["steps"] else None


def _saved_daily(folder: Path, scale: float) -> dict | None:
    """The saved figures of `scale`'s daily build, or None."""
    path = folder / f"daily_{scale:g}.json"
    return json.loads(path.read_text()) if path.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0, help="multiple of the spec's 336,955 contacts")
    parser.add_argument("--uncapped", action="store_true",
                        help="then retrain without training caps and compare ARI and ROC AUC (point 1's check)")
    parser.add_argument("--reuse", action="store_true",
                        help="use this scale's saved build, and with --uncapped its saved uncapped run, instead of "
                        "building them again")
    parser.add_argument("--events", action="store_true", help="the export with page_events.csv")
    parser.add_argument("--seed", type=int, default=SEED, help="the export's seed (`make bench`: 0, the default export)")
    parser.add_argument("--folder", type=Path, help="scratch folder (exports, DuckDB files, artifacts, results); "
                        "default data/bench-scale[-events] of this clone")
    args = parser.parse_args()
    args.folder = args.folder or PROJECT / "data" / ("bench-scale" + "-events" * args.events)
    args.folder.mkdir(parents=True, exist_ok=True)
    base = None if args.scale == 1 else _saved(args.folder, 1.0) or run_scale(1.0, args.folder, args.events, args.seed)
    result = (args.reuse and _saved(args.folder, args.scale)) or run_scale(args.scale, args.folder, args.events,
                                                                           args.seed)
    print(_table(result, base))
    if args.uncapped:
        quality = run_uncapped(args.scale, args.folder, retrain=not args.reuse)
        ari, auc = quality["segments_ari"], quality["propensity_roc_auc"]
        step = quality["uncapped_python_models"]
        print(f"\nwithout training caps (Python models retrained in {step['seconds']:.0f} s, "
              f"peak {step['peak_gb']:.2f} GB):")
        print("| figure | capped | uncapped | difference |\n|---|---|---|---|")
        if ari["capped"] is not None:
            print(f"| segments ARI against truth | {ari['capped']:.4f} | {ari['uncapped']:.4f} | "
                  f"{ari['capped'] - ari['uncapped']:+.4f} |")
        print(f"| BiLSTM ROC AUC, same {quality['propensity_test_contacts']:,} test contacts | {auc['capped']:.4f} | "
              f"{auc['uncapped']:.4f} | {auc['capped'] - auc['uncapped']:+.4f} |")
    if args.events:
        base_daily = None if args.scale == 1 else _saved_daily(args.folder, 1.0) or run_daily(1.0, args.folder,
                                                                                               args.seed)
        daily = (args.reuse and _saved_daily(args.folder, args.scale)) or run_daily(args.scale, args.folder, args.seed)
        print()
        print(_daily_table(daily, base_daily))


if __name__ == "__main__":
    main()
