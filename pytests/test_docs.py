"""The docs say what the code is: every module, path, environment variable and dbt var they name exists, every
existing one is named, and README's settings tables are the settings classes' own."""

from __future__ import annotations

import re
import subprocess

from conftest import PROJECT_VARS, ROOT

from journeys.runs.settings import settings_tables

ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()
README = (ROOT / "README.md").read_text()
TRACKED = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
# Words that point at the project's tracker or its history, which a new reader cannot decode.
TRACKER_WORDS = re.compile(r"\bissue \d+|\bissues? \(?#?\d+|the scale issue|later issues|the issue's|"
                           r"seed's experiment|\bthe original\b", re.IGNORECASE)


def named_paths(text: str) -> set[str]:
    """Paths of the repository named in backticks (`journeys/urls/rules.py`, `scripts/bench_scale.py`)."""
    return set(re.findall(r"`((?:journeys|scripts|pytests|macros|models|python_models|seeds|tests|docs)/[\w./-]*)`",
                          text))


def table_rows(text: str, heading: str) -> list[list[str]]:
    """The cells of the first markdown table after `heading`."""
    section = text[text.index(heading):]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def test_every_module_is_in_the_layout_table_and_every_named_path_exists() -> None:
    modules = {str(path.relative_to(ROOT)) for path in (ROOT / "journeys").rglob("*.py")
               if path.name not in ("__init__.py", "__main__.py")}
    layout = named_paths(ARCHITECTURE.split("## Layout")[1].split("\n## ")[0])
    assert modules - layout == set(), "modules the layout table of docs/architecture.md does not name"
    named = named_paths(ARCHITECTURE) | named_paths(README)
    missing = sorted(path for path in named if not (ROOT / path.rstrip("/")).exists())
    assert missing == [], "paths the docs name that do not exist"


def test_the_package_top_level_holds_subpackages_and_a_handful_of_entry_modules() -> None:
    top = sorted(path.name for path in (ROOT / "journeys").glob("*.py"))
    assert len(top) <= 6, top


def test_every_environment_variable_is_documented_and_every_documented_one_is_read() -> None:
    code = [path for path in TRACKED if path.startswith(("journeys/", "python_models/", "models/", "macros/",
                                                         "scripts/", "bi/"))
            or path in ("Makefile", "profiles.yml", "dbt_project.yml")]
    read = set()
    for path in code:
        read |= set(re.findall(r"\bJOURNEYS_[A-Z_]+\b", (ROOT / path).read_text()))
    documented = {row[0].strip("`") for row in table_rows(README, "Environment variables")}
    assert read == documented


def test_readme_lists_every_dbt_var_and_no_other() -> None:
    rows = table_rows(README, "dbt vars read by the SQL layer")
    documented = {name.strip().strip("`") for row in rows for name in row[0].split(",")}
    assert documented == set(PROJECT_VARS)


def test_readme_settings_tables_are_the_settings_classes() -> None:
    block = README.split("<!-- settings: journeys settings -->\n")[1].split("\n<!-- /settings -->")[0]
    assert block.strip() == settings_tables().strip(), "run `journeys settings` and paste its output"


def test_no_code_or_doc_speaks_of_the_tracker() -> None:
    texts = [path for path in TRACKED if (path.endswith((".py", ".sql", ".yml", ".md", ".toml")) or path == "Makefile")
             and path != "pytests/test_docs.py"]  # which holds the words, to look for them
    found = [f"{path}: {match.group(0)}" for path in texts
             for match in TRACKER_WORDS.finditer((ROOT / path).read_text())]
    assert found == []
