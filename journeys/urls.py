"""Python twin of the SQL URL normalisation macro and of the seed rule matching.

The service categorises page URLs itself, so it must give every URL the category the warehouse
gives it: the rules are read from the same seeds at run time and the normalisation repeats the
macro step by step (a parity test runs every URL of the synthetic export through both).
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import yaml

from journeys.redaction import redact_emails
from journeys.url_rules import compile_rule_regex, rule_problems

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEEDS_DIR = ROOT / "seeds"
UNMATCHED_CATEGORY = "other"


def max_sequence_length(project_file: Path = ROOT / "dbt_project.yml") -> int:
    """The dbt var `max_sequence_length`: pages kept per contact, the most recent ones."""
    return int(yaml.safe_load(project_file.read_text())["vars"]["max_sequence_length"])


@functools.lru_cache(maxsize=8)
def url_query_allowlist(project_file: Path = ROOT / "dbt_project.yml") -> tuple[str, ...]:
    """The dbt var `url_query_allowlist`: query parameters normalised URLs keep (lower-case names).
    Read once per process (the service normalises URLs on every request)."""
    names = yaml.safe_load(project_file.read_text())["vars"].get("url_query_allowlist") or []
    return tuple(str(name).lower() for name in names)


@functools.lru_cache(maxsize=8)
def site_hosts(project_file: Path = ROOT / "dbt_project.yml") -> tuple[str, ...]:
    """The dbt var `site_hosts`: hosts of this site (lower-case, no `www.`); their subdomains count too."""
    names = yaml.safe_load(project_file.read_text())["vars"].get("site_hosts") or []
    if not names:
        raise ValueError(f"{project_file}: var site_hosts is empty: list the hosts of your site")
    return tuple(str(name).strip().lower() for name in names)


def is_site_url(normalized: pd.Series, hosts: tuple[str, ...]) -> np.ndarray:
    """Macro `is_site_url`: the normalised URL's host, without `:port`, is one of `hosts` or a subdomain of
    one. False for NULL and for every other host (IDN, punycode, IP literals, look-alikes)."""
    host = _extract(normalized.astype("string"), r"^([^/?]*)").str.replace(r":[0-9]*\Z", "", regex=True)
    on_site = host.isin(hosts) | host.str.endswith(tuple("." + name for name in hosts))
    return on_site.to_numpy(dtype=bool, na_value=False)


# Regexes of macros/normalize_url.sql. DuckDB runs RE2, whose `$` (without the m flag) is the end of
# the text: Python's equivalent is `\Z`, which is the only change made to them. EMAIL_REGEX (macro
# email_regex) lives in journeys.redaction, shared with the service's free text.
TRANSLATE_PROXY_REGEX = r"^(https?://)?translate\.googleusercontent\.com/[^#]*[?&]u=[^&#]"


def normalize_urls(raw: pd.Series, query_allowlist: tuple[str, ...] | None = None) -> pd.Series:
    """Normalise raw URLs exactly as the `normalize_url` macro does; NA where the SQL gives NULL.
    `query_allowlist` defaults to the dbt var `url_query_allowlist`."""
    allowlist = url_query_allowlist() if query_allowlist is None else tuple(query_allowlist)
    with warnings.catch_warnings():  # the macro's groups are for alternation, not extraction
        warnings.filterwarnings("ignore", "This pattern is interpreted", UserWarning)
        return _normalize(raw.astype("string"), allowlist)


def _percent_decode(value: str) -> str:
    """`unquote`, but a value whose bytes are not valid UTF-8 is kept as it is, like the SQL macro."""
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        return value


def _normalize(raw: pd.Series, allowlist: tuple[str, ...]) -> pd.Series:
    lowered = raw.str.strip(" ").mask(lambda s: s.str.strip(" ") == "").str.lower()
    # 1. unwrap translate-proxy URLs: the original is the `u` query parameter (DuckDB's url_decode
    #    keeps `+` and invalid escapes; a value that does not decode to UTF-8 stays encoded)
    proxied = lowered.str.contains(TRANSLATE_PROXY_REGEX, regex=True).fillna(False).astype(bool)
    unwrapped = lowered.copy()
    inner = lowered[proxied].str.extract(r"[?&]u=([^&#]*)", expand=False).fillna("")
    unwrapped[proxied] = inner.map(_percent_decode).astype("string")
    # 2. drop the fragment and the scheme
    without_scheme = unwrapped.str.replace(r"#.*\Z", "", regex=True)
    without_scheme = without_scheme.str.replace(r"^([a-z][a-z0-9+.-]*:)?//", "", regex=True)
    # 3. host without `www.`; path without trailing slashes (root stays `/`)
    host = _extract(without_scheme, r"^([^/?]*)").str.replace(r"^www\.", "", regex=True)
    path = _extract(without_scheme, r"^[^/?]*([^?]*)").str.replace(r"/+\Z", "", regex=True)
    path = path.mask(path == "", "/")
    # 4. query: only the allow-listed parameters, in their order, each piece wrapped as `&piece&`
    if allowlist:
        allowed = "|".join(re.escape(name) for name in allowlist)
        query = "&" + _extract(without_scheme, r"^[^?]*\?(.*)\Z").str.replace("&", "&&", regex=False) + "&"
        query = query.str.findall(rf"&(({allowed})(=[^&]*)?)&").map(
            lambda pieces: "&".join(piece[0] for piece in pieces), na_action="ignore"
        ).astype("string")
    else:
        query = pd.Series("", index=without_scheme.index, dtype="string").mask(without_scheme.isna())
    # 5. reassemble, then redact e-mail addresses
    assembled = host + path + ("?" + query).mask(query == "", "")
    return redact_emails(assembled)


def _extract(values: pd.Series, pattern: str) -> pd.Series:
    """DuckDB's regexp_extract: group 1 of the first match, '' when nothing matches (NULL stays NULL)."""
    extracted = values.str.extract(pattern, expand=False).astype("string")
    return extracted.mask(extracted.isna() & values.notna(), "")


@dataclass(frozen=True)
class UrlCategorizer:
    """Seed rules (lowest priority number wins, no match -> `other`) and the category codes."""

    rules: pd.DataFrame
    codes: dict[str, int]
    hosts: tuple[str, ...] = field(default_factory=site_hosts)

    @classmethod
    def from_seeds(cls, seeds_dir: Path | None = None) -> UrlCategorizer:
        """Read `url_categories.csv` and `url_category_codes.csv`; refuse rules the dbt build's seed test
        would refuse (journeys.url_rules), with the same lines."""
        seeds_dir = Path(seeds_dir) if seeds_dir is not None else DEFAULT_SEEDS_DIR
        rules_file, codes_file = seeds_dir / "url_categories.csv", seeds_dir / "url_category_codes.csv"
        rules = pd.read_csv(rules_file, dtype=str, keep_default_na=False)
        codes = pd.read_csv(codes_file, dtype=str, keep_default_na=False)
        _require_columns(rules, rules_file, ("rule_id", "priority", "match_type", "pattern", "category"))
        _require_columns(codes, codes_file, ("category", "category_code"))
        priority = pd.to_numeric(rules["priority"], errors="coerce")
        bad_priority = priority.isna() & (rules["priority"] != "")
        if bad_priority.any():
            row = int(np.flatnonzero(bad_priority)[0])
            raise ValueError(
                f"{rules_file}: row {row + 2}, field priority: {rules['priority'].iloc[row]!r} is not a number"
            )
        rules["priority"] = pd.Series(
            [None if pd.isna(value) else int(value) for value in priority], index=rules.index, dtype=object
        )
        problems = rule_problems(rules, codes["category"])
        if problems:
            raise ValueError(f"{rules_file} has {len(problems)} problem(s):\n" + "\n".join(problems))
        if UNMATCHED_CATEGORY not in set(codes["category"]):
            raise ValueError(
                f"{codes_file}: no row for category {UNMATCHED_CATEGORY!r} (URLs no rule matches)"
            )
        code_values = pd.to_numeric(codes["category_code"], errors="raise").astype(np.int64)
        rules["priority"] = rules["priority"].astype(np.int64)
        rules = rules[rules["match_type"] != "event"]  # event names are not URLs (int_event_names_categorized)
        rules = rules.sort_values(["priority", "rule_id"], kind="stable").reset_index(drop=True)
        return cls(rules=rules, codes=dict(zip(codes["category"], code_values.tolist(), strict=True)))

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
        categories = self.categorize(normalize_urls(pd.Series(unique, dtype="string")))
        return categories.map(self.codes).to_numpy(dtype=np.int64)[inverse]


def _require_columns(frame: pd.DataFrame, path: Path, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
