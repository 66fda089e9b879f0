"""Python twin of the seed rule matching (int_urls_categorized): normalised URL -> page category.

The rules are read from the same seeds at run time; `journeys.urls.rules` refuses what the seed's test refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from journeys.urls.normalize import is_site_url, normalize_urls
from journeys.urls.rules import compile_rule_regex, rule_problems

UNMATCHED_CATEGORY = "other"
RULE_COLUMNS = ("rule_id", "priority", "match_type", "pattern", "category")


@dataclass(frozen=True)
class UrlCategorizer:
    """Seed rules (lowest priority number wins, no match -> `other`), the category codes, and the two vars that
    decide which URLs the rules see and how they read: the site's hosts and the query allowlist."""

    rules: pd.DataFrame
    codes: dict[str, int]
    hosts: tuple[str, ...]
    query_allowlist: tuple[str, ...] = ()

    @classmethod
    def from_seeds(cls, seeds_dir: Path, hosts: Sequence[str], query_allowlist: Sequence[str]) -> UrlCategorizer:
        """Read `url_categories.csv` and `url_category_codes.csv` from `seeds_dir`; refuse rules the dbt
        build's seed test would refuse (journeys.urls.rules), with the same lines."""
        rules_file, codes_file = Path(seeds_dir) / "url_categories.csv", Path(seeds_dir) / "url_category_codes.csv"
        return cls.from_frames(pd.read_csv(rules_file, dtype=str, keep_default_na=False),
                               pd.read_csv(codes_file, dtype=str, keep_default_na=False), hosts, query_allowlist,
                               rules_file, codes_file)

    @classmethod
    def from_frames(cls, rules: pd.DataFrame, codes: pd.DataFrame, hosts: Sequence[str],
                    query_allowlist: Sequence[str], rules_name: Path | str = "url_categories",
                    codes_name: Path | str = "url_category_codes") -> UrlCategorizer:
        """The rules and codes as tables (the seeds' columns, any types); checked as `from_seeds` checks them."""
        rules = rules.astype(str).replace({"None": "", "nan": "", "<NA>": ""})
        codes = codes.astype(str)
        _require_columns(rules, rules_name, ("rule_id", "priority", "match_type", "pattern", "category"))
        _require_columns(codes, codes_name, ("category", "category_code"))
        priority = pd.to_numeric(rules["priority"], errors="coerce")
        bad_priority = priority.isna() & (rules["priority"] != "")
        if bad_priority.any():
            row = int(np.flatnonzero(bad_priority)[0])
            raise ValueError(
                f"{rules_name}: row {row + 2}, field priority: {rules['priority'].iloc[row]!r} is not a number"
            )
        rules["priority"] = pd.Series(
            [None if pd.isna(value) else int(value) for value in priority], index=rules.index, dtype=object
        )
        problems = rule_problems(rules, codes["category"])
        if problems:
            raise ValueError(f"{rules_name} has {len(problems)} problem(s):\n" + "\n".join(problems))
        if UNMATCHED_CATEGORY not in set(codes["category"]):
            raise ValueError(
                f"{codes_name}: no row for category {UNMATCHED_CATEGORY!r} (URLs no rule matches)"
            )
        if not hosts:
            raise ValueError("var journeys_site_hosts is empty: list the hosts of your site")
        code_values = pd.to_numeric(codes["category_code"], errors="raise").astype(np.int64)
        rules["priority"] = rules["priority"].astype(np.int64)
        rules = rules[rules["match_type"] != "event"]  # event names are not URLs (int_event_names_categorized)
        rules = rules.sort_values(["priority", "rule_id"], kind="stable").reset_index(drop=True)
        return cls(rules=rules[list(RULE_COLUMNS)], codes=dict(zip(codes["category"], code_values.tolist(), strict=True)),
                   hosts=tuple(str(h).strip().lower() for h in hosts),
                   query_allowlist=tuple(str(name).lower() for name in query_allowlist))

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: saved with a model, so a service scores URLs as the build that trained it did."""
        return {"rules": self.rules.to_dict(orient="records"), "codes": self.codes, "hosts": list(self.hosts),
                "query_allowlist": list(self.query_allowlist)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UrlCategorizer:
        """Inverse of `to_json`."""
        rules = pd.DataFrame(data["rules"], columns=list(RULE_COLUMNS)).astype({"priority": np.int64})
        return cls(rules, {str(k): int(v) for k, v in data["codes"].items()}, tuple(data["hosts"]),
                   tuple(data["query_allowlist"]))

    def categorize(self, normalized: pd.Series) -> pd.Series:
        """Category of each normalised URL: the first rule by (priority, rule_id) that matches, else `other`
        (also for a NULL URL, as the SQL's left join + coalesce gives, and for a page on another site than
        `hosts`). Each rule only sees the URLs no earlier rule matched."""
        values = normalized.astype("string")
        category = np.full(len(values), UNMATCHED_CATEGORY, dtype=object)
        undecided = np.flatnonzero(is_site_url(values, self.hosts))
        for rule in self.rules.itertuples(index=False):
            if undecided.size == 0:
                break
            candidates = values.iloc[undecided]
            if rule.match_type == "exact":
                hit = candidates == rule.pattern
            elif rule.match_type == "prefix":
                hit = candidates.str.startswith(rule.pattern)
            elif rule.match_type == "contains":
                hit = candidates.str.contains(rule.pattern, regex=False)
            else:  # RE2, as in the warehouse
                regex = compile_rule_regex(rule.pattern)
                hit = pd.Series([regex.search(url) is not None for url in candidates], dtype=bool)
            matched = hit.to_numpy(dtype=bool, na_value=False)
            category[undecided[matched]] = rule.category
            undecided = undecided[~matched]
        return pd.Series(category, index=normalized.index, dtype="string")

    def category_codes(self, raw_urls: list[str]) -> np.ndarray:
        """Raw URLs -> integer category codes (the model's input alphabet); each distinct URL is worked once."""
        unique, inverse = np.unique(np.asarray(raw_urls, dtype=object).astype(str), return_inverse=True)
        categories = self.categorize(normalize_urls(pd.Series(unique, dtype="string"), self.query_allowlist))
        return categories.map(self.codes).to_numpy(dtype=np.int64)[inverse]


def _require_columns(frame: pd.DataFrame, path: Path | str, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
