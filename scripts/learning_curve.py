"""Learning curves behind the defaults of journeys_segments.train_rows and journeys_propensity.train_rows.

On a built warehouse of the synthetic export (`make build`, or `make bench-scale`'s folder), with the
dbt_project.yml defaults: the segment model trained on seeded, stratified samples of growing size, each
scoring every contact, its ARI against the planted segments; the BiLSTM (the first setting of
journeys_propensity.search) trained on capped training splits of growing size, its ROC AUC on the same test contacts
(those of the default journeys_propensity.train_rows, as in the build's model_metrics).
Prints one table per model and the smallest cap after which no larger one gains more than 0.002.

    .venv/bin/python scripts/learning_curve.py --db /tmp/journeys-bench-scale/scale_1/journeys.duckdb \
        --raw /tmp/journeys-bench-scale/scale_1/raw

On a shared machine the seconds are upper bounds.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml
from sklearn.metrics import adjusted_rand_score, roc_auc_score

from journeys.propensity.config import PropensityConfig
from journeys.propensity.data import fit_sequence_length
from journeys.segments.config import SegmentSettings
from journeys.segments.dbt import contact_columns
from journeys.segments.training import train_segment_model
from journeys.warehouse import connect, read_columns

PROJECT = Path(__file__).resolve().parent.parent
GAIN = 0.002


def _vars() -> dict:
    return yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"]


def plateau(rows: list[tuple[int, float]]) -> int:
    """The smallest cap from which no larger cap improves the metric by more than GAIN."""
    for i, (cap, value) in enumerate(rows):
        if all(later <= value + GAIN for _, later in rows[i + 1:]):
            return cap
    return rows[-1][0]


def segment_curve(con, raw: Path, caps: list[int]) -> list[tuple[int, float, float]]:
    values = _vars()
    meta = {"overrides": values["journeys_segments"], "artifacts_dir": tempfile.mkdtemp(), "raw_dir": str(raw),
            "retrain": "true"}
    contacts = read_columns(con.table("contact_features"), contact_columns(meta)).sort_values(
        "contact_id", ignore_index=True)
    truth = pd.read_csv(raw / "truth.csv").set_index("contact_id")["segment"]
    planted = truth.loc[contacts["contact_id"]].to_numpy()
    settings = SegmentSettings.from_meta(meta)
    rows = []
    for cap in caps:
        start = time.perf_counter()
        model = train_segment_model(contacts, dataclasses.replace(settings, train_rows=cap))
        ari = adjusted_rand_score(planted, model.score(contacts)["segment_id"])
        rows.append((model.training["train_rows"], ari, time.perf_counter() - start))
        print(f"segments: train_rows {rows[-1][0]}: ARI {ari:.4f} ({rows[-1][2]:.0f} s)", flush=True)
    return rows


def propensity_curve(con, caps: list[int]) -> list[tuple[int, float, float]]:
    """The BiLSTM at each training cap, all scored on the same test contacts: the test split of the default
    journeys_propensity.train_rows (the build's own test contacts), which no cap's training split overlaps."""
    from journeys.propensity.data import Encoder, label_contacts, model_columns, split_contacts
    from journeys.propensity.dbt import HAS_HISTORY
    from journeys.propensity.network import build_network, make_deterministic, predict, train_network

    values = _vars()
    config = PropensityConfig.from_meta({"overrides": values["journeys_propensity"],
                                         "target": values["journeys_propensity_target"], "cutoff": values["journeys_propensity_cutoff"]})
    config = config.with_setting(config.settings()[0])
    features = read_columns(con.table("contact_features"), model_columns(config), where=HAS_HISTORY)
    config = fit_sequence_length(config, features)
    codes = con.table("url_category_codes").df()
    labelled = label_contacts(features, config)
    vocabulary = int(pd.to_numeric(codes["category_code"]).max()) + 1
    test = split_contacts(labelled.labels, config).test
    print(f"propensity: {len(test):,} test contacts (the split of journeys_propensity.train_rows {config.train_rows})")
    rows = []
    for cap in caps:
        start = time.perf_counter()
        capped = dataclasses.replace(config, train_rows=cap)
        split = split_contacts(labelled.labels, capped)
        encoder = Encoder.fit(labelled.features.iloc[split.train], capped, vocabulary)
        part = {name: encoder.transform(labelled.features.iloc[index]).as_keras(encoder.categorical_features)
                for name, index in (("train", split.train), ("validation", split.validation), ("test", test))}
        make_deterministic(config.seed)
        network = build_network(encoder, 2, capped)
        train_network(network, (part["train"], labelled.labels[split.train]),
                      (part["validation"], labelled.labels[split.validation]), capped)
        auc = roc_auc_score(labelled.labels[test], predict(network, part["test"], config.batch_size)[:, 1])
        rows.append((len(split.train), auc, time.perf_counter() - start))
        print(f"propensity: train_rows {len(split.train)}: test ROC AUC {auc:.4f} ({rows[-1][2]:.0f} s)", flush=True)
    return rows


def _print(title: str, rows: list[tuple[int, float, float]], metric: str) -> None:
    print(f"\n{title}\n| train_rows | {metric} | seconds |\n|---|---|---|")
    for cap, value, seconds in rows:
        print(f"| {cap:,} | {value:.4f} | {seconds:.0f} |")
    cap = plateau([(c, v) for c, v, _ in rows])
    print(f"no cap above {cap:,} gains more than {GAIN}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="built DuckDB file of a synthetic export")
    parser.add_argument("--raw", type=Path, required=True, help="its raw folder (truth.csv)")
    parser.add_argument("--segment-caps", default="5000,10000,20000,40000,80000,160000,0")
    parser.add_argument("--propensity-caps", default="5000,10000,20000,40000,0")
    parser.add_argument("--only", choices=["segments", "propensity"])
    args = parser.parse_args()
    con = connect(args.db)
    if args.only != "propensity":
        rows = segment_curve(con, args.raw, [int(c) for c in args.segment_caps.split(",")])
        _print("segments (ARI against the planted segments, every contact scored)", rows, "ARI")
    if args.only != "segments":
        rows = propensity_curve(con, [int(c) for c in args.propensity_caps.split(",")])
        _print("propensity (BiLSTM test ROC AUC, same test contacts)", rows, "ROC AUC")


if __name__ == "__main__":
    main()
