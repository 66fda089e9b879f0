"""Model versions on disk: every training in a folder of its own, one pointer that says which is current.

    $JOURNEYS_ARTIFACTS/<model>/
        versions/<version>/       one training's files, renamed here only once written completely
        versions/.incoming-<id>/  a training being written (a kill leaves it; the next build removes it)
        CURRENT                   the current version's name, replaced by rename: one atomic step
        staged-<build id>         a version a build trained, made current when that build is published
        history.jsonl             every change of CURRENT (when, from, to, why), which model_runs records

A version becomes current only when it is complete, and only by replacing CURRENT, so a kill at any moment
leaves the previous version current and loadable. A build run by `journeys build` (environment variable
JOURNEYS_BUILD_ID) stages what it trains and the publish step makes it current together with the warehouse;
a plain `dbt build` makes it current at once. Versions that never became current are removed by the next build,
and of the others the newest `keep` are kept; the current one is never removed.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CURRENT, VERSIONS, HISTORY = "CURRENT", "versions", "history.jsonl"
INCOMING_PREFIX, STAGED_PREFIX = ".incoming-", "staged-"
PUBLISHED = ".published"  # in a version folder: it has been current once (a candidate for rollback)
RUN_FILE = "training_run.json"  # the training record written into every version folder
BUILD_ID = "JOURNEYS_BUILD_ID"
DEFAULT_KEEP = 5


class NoModel(FileNotFoundError):
    """No current version of a model (or not the version asked for)."""


def model_root(artifacts_dir: Path | str, model: str) -> Path:
    return Path(artifacts_dir) / model


def current_version(artifacts_dir: Path | str, model: str) -> str | None:
    """The current version's name, or None before the first model is current."""
    pointer = model_root(artifacts_dir, model) / CURRENT
    return pointer.read_text().strip() or None if pointer.exists() else None


def version_folder(artifacts_dir: Path | str, model: str, version: str | None = None) -> Path:
    """The folder of `version` (the current one by default); NoModel when there is none."""
    version = version or current_version(artifacts_dir, model)
    if version is None:
        raise NoModel(f"no current {model} model in {Path(artifacts_dir)}: run `make build` first")
    folder = model_root(artifacts_dir, model) / VERSIONS / version
    if not folder.is_dir():
        raise NoModel(f"{model} version {version} is not in {model_root(artifacts_dir, model) / VERSIONS}")
    return folder


def incoming_folder(artifacts_dir: Path | str, model: str) -> Path:
    """A new, empty folder to write a training into, before its version is known."""
    folder = model_root(artifacts_dir, model) / VERSIONS / f"{INCOMING_PREFIX}{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    return folder


def commit(artifacts_dir: Path | str, model: str, incoming: Path, version: str) -> Path:
    """Move a completely written training into versions/<version>. The version names its training data and
    settings, so an existing folder of that name holds the same model: it is kept and the new copy dropped."""
    target = model_root(artifacts_dir, model) / VERSIONS / version
    if target.exists():
        shutil.rmtree(incoming)
    else:
        os.replace(incoming, target)
    return target


def write_json(path: Path, value: Any) -> None:
    """A JSON file written whole or not at all (temporary file, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True, default=str))
    os.replace(tmp, path)


def adopt(artifacts_dir: Path | str, model: str, version: str, reason: str, keep: int = DEFAULT_KEEP) -> None:
    """After a training: stage the version for the running `journeys build`, or make it current now; then
    remove the oldest versions past `keep`."""
    build_id = os.environ.get(BUILD_ID)
    root = model_root(artifacts_dir, model)
    if build_id:
        write_json(root / f"{STAGED_PREFIX}{build_id}", {"version": version, "reason": reason})
    else:
        make_current(artifacts_dir, model, version, reason)
    apply_retention(artifacts_dir, model, keep)


def make_current(artifacts_dir: Path | str, model: str, version: str, reason: str) -> str | None:
    """Point CURRENT at `version` (one rename) and log the change; returns the version it replaced."""
    root = model_root(artifacts_dir, model)
    folder = version_folder(artifacts_dir, model, version)
    before = current_version(artifacts_dir, model)
    (folder / PUBLISHED).touch()
    tmp = root / (CURRENT + ".tmp")
    tmp.write_text(version + "\n")
    os.replace(tmp, root / CURRENT)
    with (root / HISTORY).open("a") as history:
        history.write(json.dumps({"at": datetime.now(UTC).isoformat(timespec="microseconds"), "model": model,
                                  "from": before, "to": version, "reason": reason}) + "\n")
    return before


def publish_build(artifacts_dir: Path | str, build_id: str) -> list[tuple[str, str | None, str]]:
    """Make current what the build `build_id` staged: (model, previous, new) for each model it trained."""
    changes = []
    for staged in sorted(Path(artifacts_dir).glob(f"*/{STAGED_PREFIX}{build_id}")):
        model, record = staged.parent.name, json.loads(staged.read_text())
        previous = make_current(artifacts_dir, model, record["version"], record["reason"])
        staged.unlink()
        changes.append((model, previous, record["version"]))
    return changes


def clean(artifacts_dir: Path | str) -> list[Path]:
    """Remove what no finished build left current: half-written trainings, staged pointers and the versions
    that never became current (a failed or killed build's). Run before a build, under its lock."""
    removed = []
    for root in (path for path in Path(artifacts_dir).glob("*") if (path / VERSIONS).is_dir()):
        removed += list(root.glob(f"{STAGED_PREFIX}*"))
        for staged in root.glob(f"{STAGED_PREFIX}*"):
            staged.unlink()
        current = current_version(artifacts_dir, root.name)
        for folder in (root / VERSIONS).iterdir():
            if folder.name != current and not (folder / PUBLISHED).exists():
                shutil.rmtree(folder)
                removed.append(folder)
    return removed


def apply_retention(artifacts_dir: Path | str, model: str, keep: int) -> list[str]:
    """Remove the oldest versions that have been current, past the newest `keep`; never the current one nor a
    staged one. Returns the removed versions."""
    root = model_root(artifacts_dir, model)
    protected = {current_version(artifacts_dir, model)} | {
        json.loads(path.read_text())["version"] for path in root.glob(f"{STAGED_PREFIX}*")}
    published = [info for info in versions(artifacts_dir, model) if info.published]
    published.sort(key=lambda info: info.trained_at or "", reverse=True)
    removed = [info.version for info in published[keep:] if info.version not in protected]
    for version in removed:
        shutil.rmtree(root / VERSIONS / version)
    return removed


@dataclass(frozen=True)
class VersionInfo:
    """One saved version as `journeys models list` shows it."""

    model: str
    version: str
    trained_at: str | None
    rows: int | None
    metrics: dict[str, float]
    current: bool
    published: bool


def versions(artifacts_dir: Path | str, model: str) -> list[VersionInfo]:
    """Every complete version of a model, newest training first."""
    root = model_root(artifacts_dir, model)
    current = current_version(artifacts_dir, model)
    found = []
    for folder in sorted((root / VERSIONS).glob("*")) if (root / VERSIONS).is_dir() else []:
        if folder.name.startswith(INCOMING_PREFIX):
            continue
        run = read_run(folder) or {}
        found.append(VersionInfo(model, folder.name, run.get("trained_at"), run.get("rows"), run.get("metrics", {}),
                                 folder.name == current, (folder / PUBLISHED).exists()))
    return sorted(found, key=lambda info: info.trained_at or "", reverse=True)


def read_run(folder: Path) -> dict[str, Any] | None:
    """The training record of a version folder, or None."""
    path = Path(folder) / RUN_FILE
    return json.loads(path.read_text()) if path.exists() else None


def history(artifacts_dir: Path | str) -> list[dict[str, Any]]:
    """Every change of any model's CURRENT pointer, oldest first."""
    events = []
    for path in sorted(Path(artifacts_dir).glob(f"*/{HISTORY}")):
        events += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return sorted(events, key=lambda event: event["at"])


# The figure `journeys models list` shows for each model, from its training record's metrics.
HEADLINE = {"segments": "silhouette", "propensity": "test_roc_auc"}
# Parts of a version's compatibility record that describe the data it reads: a version trained on other data
# shapes cannot score today's warehouse, so it cannot become current by hand.
DATA_PARTS = ("feature_contract", "category_codes", "scoring_context")


def list_table(artifacts_dir: Path | str) -> str:
    """`journeys models list`: every version of every model, the current one marked."""
    lines = ["model       version                 trained at (UTC)     rows      headline metric       current"]
    for root in sorted(path for path in Path(artifacts_dir).glob("*") if (path / VERSIONS).is_dir()):
        for info in versions(artifacts_dir, root.name):
            name = HEADLINE.get(info.model, "")
            value = info.metrics.get(name)
            metric = f"{name} {value:.4f}" if isinstance(value, float) else "-"
            lines.append(f"{info.model:<11} {info.version:<23} {(info.trained_at or '-')[:19]:<20} "
                         f"{info.rows if info.rows is not None else '-':<9} {metric:<21} "
                         f"{'current' if info.current else ''}")
    return "\n".join(lines) if len(lines) > 1 else f"no saved model in {Path(artifacts_dir)}"


def refusal(artifacts_dir: Path | str, model: str, version: str) -> str | None:
    """Why `version` cannot become the current version of `model` (one line), or None."""
    known = [info.version for info in versions(artifacts_dir, model)]
    if version not in known:
        return (f"{model} has no version {version} in {model_root(artifacts_dir, model) / VERSIONS}"
                + (f" (saved: {', '.join(known)})" if known else ""))
    run = read_run(version_folder(artifacts_dir, model, version))
    if run is None:
        return f"{model} version {version} has no training record: it was never finished"
    current = current_version(artifacts_dir, model)
    if current is not None and current != version:
        now = (read_run(version_folder(artifacts_dir, model, current)) or {}).get("compatibility", {})
        changed = [part for part in DATA_PARTS if part in now and now[part] != run["compatibility"].get(part)]
        if changed:
            return (f"{model} version {version} read other inputs than today's models ({', '.join(changed)} "
                    "changed): it cannot score this warehouse; retrain instead")
    return None


def use(artifacts_dir: Path | str, model: str, version: str) -> str:
    """`journeys models use`: make `version` current (a rollback); one line saying what changed."""
    previous = make_current(artifacts_dir, model, version, "journeys models use")
    if previous == version:
        return f"{model}: {version} is already the current version"
    return (f"{model}: current version {previous or 'none'} -> {version}; the next build scores with it and the "
            "running service swaps to it")
