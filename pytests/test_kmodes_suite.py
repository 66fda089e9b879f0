"""kmodes 0.12.2's own k-prototypes test suite, run against journeys.kprototypes.KPrototypes as a drop-in.

kmodes' sdist and wheel leave its tests out, so its two test files are kept, unchanged, in
`pytests/fixtures/kmodes-0.12.2/` (from kmodes' 0.12.2 tag, with its MIT licence; conftest keeps pytest from
collecting them) and checked by SHA-256. The suite runs as kmodes ships it with two textual changes:
`from kmodes import kprototypes` imports ours (journeys.kprototypes exports KPrototypes), and NumPy 1's alias
`np.NaN` (gone in NumPy 2) is written `np.nan`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import types
import unittest
from pathlib import Path

import pytest

SUITE_DIR = Path(__file__).resolve().parent / "fixtures" / "kmodes-0.12.2"
FILES = {
    "test_kprototypes.py": "aba4a41d9f4ae5d82742de58d4a7a8c2b4e0e59b9c78cd81e848b5a04a012e14",
    "test_kmodes.py": "93f892cac4a2b5b9b3e394f5672509f412fc15ce1983633e7b495c723b3d3a16",  # cluster-split helper
}
SUITE_SIZE = 30  # test methods of kmodes 0.12.2's TestKProtoTypes
ADAPTATIONS = (("from kmodes import kprototypes", "from journeys import kprototypes"), ("np.NaN", "np.nan"))


def kmodes_test_file(name: str) -> Path:
    """One of kmodes 0.12.2's test files, checked against its SHA-256."""
    path = SUITE_DIR / name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == FILES[name], f"{path} is not kmodes 0.12.2's {name} (sha256 {digest})"
    return path


def load_module(name: str, path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """`path`, adapted and written to `folder`, imported as module `name` (in sys.modules for the test only)."""
    source = path.read_text(encoding="utf-8")
    for old, new in ADAPTATIONS:
        source = source.replace(old, new)
    adapted = folder / f"{name.replace('.', '_')}.py"
    adapted.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, adapted)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore:X has only 2 distinct rows")  # a test of the suite, as kmodes warns too
def test_kmodes_own_kprototypes_suite_passes_against_ours(monkeypatch, capsys, tmp_path):
    package = types.ModuleType("kmodes.tests")
    package.__path__ = []
    monkeypatch.setitem(sys.modules, "kmodes.tests", package)
    load_module("kmodes.tests.test_kmodes", kmodes_test_file("test_kmodes.py"), tmp_path, monkeypatch)
    suite_module = load_module("kmodes_kprototypes_suite", kmodes_test_file("test_kprototypes.py"), tmp_path,
                               monkeypatch)
    assert suite_module.kprototypes.KPrototypes.__module__ == "journeys.kprototypes.estimator"

    suite = unittest.defaultTestLoader.loadTestsFromModule(suite_module)
    result = unittest.TestResult()
    suite.run(result)
    capsys.readouterr()  # the suite's verbose=2 fits print every iteration
    failed = {test.id().rsplit(".", 1)[-1]: trace.strip().splitlines()[-1]
              for test, trace in result.failures + result.errors}
    assert result.testsRun == SUITE_SIZE
    assert failed == {}, f"{len(failed)} of kmodes' {SUITE_SIZE} k-prototypes tests fail against ours: {failed}"
