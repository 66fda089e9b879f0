"""README's results tables, printed from the build's `model_metrics` (figures are read, never typed).

`journeys figures` (`make figures`) prints Markdown: the propensity models' test figures with their bootstrap
95% intervals, the BiLSTM's paired gain over each baseline, the order effect next to truth's, the setting the
validation search chose, and the segments' agreement with the planted truth when there is one.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

MODELS = (
    ("bilstm", "BiLSTM"),
    ("hist_gradient_boosting", "gradient-boosted trees (+ page at each position)"),
    ("logistic_regression_bigrams", "logistic regression + bigrams"),
    ("logistic_regression", "logistic regression"),
    ("majority", "majority class"),
    ("bayes_optimal", "truth's probabilities (Bayes-optimal, same contacts)"),
)


def read_metrics(db_path: Path | str) -> pd.DataFrame:
    """model_metrics of the build in `db_path` (read-only)."""
    with duckdb.connect(str(db_path), read_only=True) as connection:
        return connection.sql("select * from model_metrics").df()


def read_experiments(db_path: Path | str) -> pd.DataFrame:
    """propensity_experiments of the build in `db_path` (read-only); a clear error when it was not built."""
    with duckdb.connect(str(db_path), read_only=True) as connection:
        try:
            return connection.sql("select * from propensity_experiments").df()
        except duckdb.CatalogException as error:
            raise ValueError(f"{db_path} has no propensity_experiments: run `make experiments`") from error


def experiments_table(experiments: pd.DataFrame) -> str:
    """The experiment grid as Markdown: one row per length and encoding, both models side by side."""
    train = int(experiments["train_contacts"].iloc[0])
    lines = [(f"Sequence length x encoding x model (page sequence only; {train:,} training contacts, seeded "
             "subsample; test ROC AUC [bootstrap 95% interval], fit seconds):"), "",
             "| pages | encoding | BiLSTM | fit s | logistic | fit s |", "|---|---|---|---|---|---|"]
    grid = experiments.set_index(["sequence_length", "encoding", "model"])
    for (length, encoding), _ in experiments.groupby(["sequence_length", "encoding"], sort=False):
        cells = []
        for model in ("bilstm", "logistic"):
            row = grid.loc[(length, encoding, model)]
            cells += [f"{row['roc_auc']:.4f} [{row['ci_lower']:.4f}, {row['ci_upper']:.4f}]",
                      f"{row['fit_seconds']:.1f}"]
        lines.append(f"| {length} | {encoding} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def results_tables(metrics: pd.DataFrame) -> str:
    """The Markdown README shows under "What it measures", from one build's model_metrics."""
    values = metrics.set_index(["model_name", "split", "metric"])
    if ("bilstm", "test", "roc_auc") not in values.index:
        raise ValueError("model_metrics holds no propensity test figures: run `dbt build` first")

    def cell(model: str, metric: str, split: str = "test", digits: int = 4) -> str:
        if (model, split, metric) not in values.index:
            return "n/a"
        row = values.loc[(model, split, metric)]
        text = f"{row['value']:.{digits}f}"
        if pd.notna(row.get("ci_lower")):
            text += f" [{row['ci_lower']:.{digits}f}, {row['ci_upper']:.{digits}f}]"
        return text

    test_size = int(values.loc[("bilstm", "test", "test_size"), "value"])
    positives = int(values.loc[("bilstm", "test", "positives"), "value"])
    lines = [(f"Propensity, test split ({test_size:,} contacts with page history, {positives:,} buyers); "
             "[bootstrap 95% interval]:"), "",
             "| model | ROC AUC | PR AUC | BiLSTM's ROC AUC gain over it (paired) |", "|---|---|---|---|"]
    for name, label in MODELS:
        if (name, "test", "roc_auc") not in values.index:
            continue
        gain = cell("bilstm", f"roc_auc_gain_over_{name}")
        lines.append(f"| {label} | {cell(name, 'roc_auc')} | {cell(name, 'pr_auc')} | "
                     f"{'' if gain == 'n/a' else gain} |")
    lines += ["", "Does order matter? ROC AUC with each contact's pages in order minus with them shuffled:", "",
              "| model | ROC AUC, pages shuffled | order effect |", "|---|---|---|"]
    for name, label in (("bilstm", "BiLSTM (retrained on shuffled pages)"), ("bayes_optimal", "truth")):
        if (name, "test", "order_effect") in values.index:
            lines.append(f"| {label} | {cell(name, 'roc_auc_shuffled_order')} | {cell(name, 'order_effect')} |")
    search = sorted(m for (model, split, m) in values.index if model == "bilstm" and split == "validation"
                    and m.startswith("search_"))
    if search:
        chosen = int(values.loc[("bilstm", "validation", "chosen_setting"), "value"])
        scores = ", ".join(f"{values.loc[('bilstm', 'validation', m), 'value']:.4f}" for m in search)
        settings = ", ".join(f"{name} {values.loc[('bilstm', 'validation', name), 'value']:g}"
                             for name in ("dropout", "recurrent_dropout", "embedding_l2"))
        lines += ["", (f"Validation search: ROC AUC {scores} for the {len(search)} settings of "
                      f"`propensity_search`; chosen: setting {chosen} ({settings}).")]
    if ("segments", "truth", "adjusted_rand_index") in values.index:
        k = int(values.loc[("segments", "all", "k"), "value"])
        lines += ["", (f"Segments: adjusted Rand index against the planted segments "
                      f"{values.loc[('segments', 'truth', 'adjusted_rand_index'), 'value']:.3f} (k = {k}).")]
    return "\n".join(lines)
