"""Model versions on disk: a kill at any moment of a save leaves the current version loadable, the next build
removes what was half written, older versions are kept for rollback (and past the limit removed), and
`journeys models use` switches only to a version that can score."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from journeys.propensity import load_propensity_model
from journeys.runs import registry, retraining

SAVER = Path(__file__).with_name("model_saver.py")
KILLS = 4


def test_a_kill_at_any_moment_of_a_save_leaves_the_current_version_loadable(tmp_path) -> None:
    rng = np.random.default_rng(1)
    for _ in range(KILLS):
        saver = subprocess.Popen([sys.executable, str(SAVER), str(tmp_path)], stdout=subprocess.PIPE, text=True)
        assert saver.stdout.readline().strip() == "ready"
        assert saver.stdout.readline().startswith("bilstm-")  # one version is current; kill it amid the next ones
        time.sleep(float(rng.uniform(0, 1.0)))
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        current = registry.current_version(tmp_path, "propensity")
        assert current is not None
        model = load_propensity_model(tmp_path)
        assert model.version == current, "the current version's files are its own, complete"
        registry.clean(tmp_path)
        left = sorted(path.name for path in (tmp_path / "propensity" / "versions").iterdir())
        assert all((tmp_path / "propensity" / "versions" / name / registry.PUBLISHED).exists() for name in left)
        assert not any(name.startswith(registry.INCOMING_PREFIX) for name in left)
        assert current in left and len(left) <= 3 + 1, "retention keeps the newest 3 (and the current one)"


def version(tmp_path: Path, name: str, contract: str, trained_at: str, current: bool = True) -> None:
    """A finished segments version with the feature contract `contract`, made current (or left staged)."""
    folder = registry.commit(tmp_path, "segments", registry.incoming_folder(tmp_path, "segments"), name)
    (folder / "segment_model.json").write_text("{}")
    retraining.record_training(folder, "segments", name, {"feature_contract": contract}, "test", 10, "f", {},
                               {"silhouette": 0.5})
    run = json.loads((folder / registry.RUN_FILE).read_text())
    registry.write_json(folder / registry.RUN_FILE, {**run, "trained_at": trained_at})
    if current:
        registry.make_current(tmp_path, "segments", name, "test")


def test_rollback_retention_and_refusals(tmp_path) -> None:
    version(tmp_path, "kproto-a", "same", "2026-01-01T00:00:00")
    version(tmp_path, "kproto-b", "same", "2026-01-02T00:00:00")
    version(tmp_path, "kproto-old-contract", "other", "2025-12-01T00:00:00", current=False)
    (tmp_path / "segments" / "versions" / "kproto-old-contract" / registry.PUBLISHED).touch()
    assert registry.current_version(tmp_path, "segments") == "kproto-b"
    assert registry.refusal(tmp_path, "segments", "kproto-zz").startswith("segments has no version kproto-zz")
    assert "feature_contract changed" in registry.refusal(tmp_path, "segments", "kproto-old-contract")
    assert registry.refusal(tmp_path, "segments", "kproto-a") is None
    assert registry.use(tmp_path, "segments", "kproto-a") == (
        "segments: current version kproto-b -> kproto-a; the next build scores with it and the running service "
        "swaps to it")
    assert registry.current_version(tmp_path, "segments") == "kproto-a"
    assert [event["to"] for event in registry.history(tmp_path)] == ["kproto-a", "kproto-b", "kproto-a"]
    removed = registry.apply_retention(tmp_path, "segments", keep=1)
    assert set(removed) == {"kproto-old-contract"}, "the newest one and the current one stay"
    assert {info.version for info in registry.versions(tmp_path, "segments")} == {"kproto-a", "kproto-b"}


def test_the_next_build_removes_what_a_failed_one_trained(tmp_path, monkeypatch) -> None:
    version(tmp_path, "kproto-a", "same", "2026-01-01T00:00:00")
    monkeypatch.setenv(registry.BUILD_ID, "build1")
    version(tmp_path, "kproto-b", "same", "2026-01-02T00:00:00", current=False)
    registry.adopt(tmp_path, "segments", "kproto-b", "trained")
    assert registry.current_version(tmp_path, "segments") == "kproto-a", "staged until the build is published"
    assert registry.clean(tmp_path), "the build failed: the next one removes what it staged"
    assert registry.current_version(tmp_path, "segments") == "kproto-a"
    assert [info.version for info in registry.versions(tmp_path, "segments")] == ["kproto-a"]
    version(tmp_path, "kproto-c", "same", "2026-01-03T00:00:00", current=False)
    registry.adopt(tmp_path, "segments", "kproto-c", "trained")
    assert registry.publish_build(tmp_path, "build1") == [("segments", "kproto-a", "kproto-c")]
    assert registry.current_version(tmp_path, "segments") == "kproto-c"


def test_journeys_models_lists_and_refuses_with_one_line(tmp_path) -> None:
    version(tmp_path, "kproto-a", "same", "2026-01-01T00:00:00")
    journeys = Path(sys.executable).with_name("journeys")
    listed = subprocess.run([str(journeys), "models", "list", "--artifacts", str(tmp_path)], capture_output=True,
                            text=True, check=True).stdout
    assert "kproto-a" in listed and "silhouette 0.5000" in listed and "current" in listed
    refused = subprocess.run([str(journeys), "models", "use", "segments", "kproto-nope", "--artifacts",
                              str(tmp_path)], capture_output=True, text=True, check=False)
    assert refused.returncode == 1 and refused.stdout.count("\n") == 1
    assert refused.stdout.startswith("refused: segments has no version kproto-nope")


def test_an_unloadable_version_is_refused(tmp_path) -> None:
    version(tmp_path, "kproto-a", "same", "2026-01-01T00:00:00")
    version(tmp_path, "kproto-broken", "same", "2026-01-02T00:00:00", current=False)
    (tmp_path / "segments" / "versions" / "kproto-broken" / "segment_model.json").write_text("{not json")
    journeys = Path(sys.executable).with_name("journeys")
    refused = subprocess.run([str(journeys), "models", "use", "segments", "kproto-broken", "--artifacts",
                              str(tmp_path)], capture_output=True, text=True, check=False)
    assert refused.returncode == 1 and "does not load" in refused.stdout, refused.stdout + refused.stderr
    assert registry.current_version(tmp_path, "segments") == "kproto-a"
