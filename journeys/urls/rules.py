"""Checks of the URL category rules: the twin of `macros/url_rules.sql`, which stops `dbt build` at the
rules seed. The service runs the same checks on the same files and words each problem the same way, one
line per problem naming the rule and its pattern.

Regex rules are compiled by RE2, the engine DuckDB matches them with, so the warehouse and the service
accept and match exactly the same patterns (Python's `re` would accept look-behinds RE2 rejects).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd
import re2

MATCH_TYPES = ("exact", "prefix", "contains", "regex", "event")  # `event`: an event name, never a URL
_TEXT_TYPES = ("exact", "prefix", "contains")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad pattern is reported once, by rule_problems, not on stderr


def compile_rule_regex(pattern: str) -> re2._Regexp | None:
    """The pattern compiled by RE2, or None when RE2 rejects it."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error:
        return None


def _found(regex: str, text: str) -> bool:
    return re.search(regex, text) is not None


def _unmatchable(match_type: str, pattern: str, valid_regex: bool) -> list[tuple[int, str]]:
    """Why a (valid) pattern can never match a normalised URL, as (check order, problem)."""
    text, regex = match_type in _TEXT_TYPES, match_type == "regex" and valid_regex
    lowered = pattern.lower()
    checks = (
        (
            4,
            ((text or match_type == "event") and _found("[A-Z]", pattern))
            or (
                regex
                and _found("[A-Z]", re.sub(r"\\([pP](\{[^}]*\}|.)|.)", "", pattern))
                and not _found(r"\(\?[a-z]*i", pattern)
            ),
            "has upper-case letters, but normalised URLs are lower-case",
        ),
        (
            5,
            (text and _found(r"^([a-z][a-z0-9+.-]*:)?//", lowered))
            or (regex and _found(r"^\^?https?\??:", lowered)),
            "starts with a scheme (http://), but normalised URLs have none",
        ),
        (
            6,
            (match_type in ("exact", "prefix") and _found(r"^([a-z][a-z0-9+.-]*:)?(//)?www\.", lowered))
            or (regex and _found(r"^\^www\\?\.", lowered)),
            "has a www. host, but normalised URLs drop www.",
        ),
        (
            7,
            (match_type == "exact" and _found(r"^[^/?]*/[^?]*/(\?.*)?\Z", pattern))
            or (regex and _found(r"/.*/\$\Z", pattern)),
            "ends its path with /, but normalised URLs have no trailing slash (only the home page is host/)",
        ),
        (
            8,
            match_type == "exact" and pattern != "" and "/" not in pattern,
            "has no /, but a normalised URL always has a path (host/ at least)",
        ),
        (9, text and "#" in pattern, "has a #fragment, but normalised URLs have none"),
    )
    return [(order, problem) for order, failed, problem in checks if failed]


def rule_problems(rules: pd.DataFrame, categories: Iterable[str]) -> list[str]:
    """One line per problem of a rule, ordered like the dbt test's: by priority, rule_id, check.

    `rules` has the seed's columns as text ('' = empty) except `priority`, an integer or None.
    """
    known = set(categories)
    priorities = rules["priority"].tolist()
    found: list[tuple[float, str, int, str]] = []
    for rule in rules.itertuples(index=False):
        rule_id, match_type, pattern, category = rule.rule_id, rule.match_type, rule.pattern, rule.category
        problems: list[tuple[int, str]] = []
        if match_type not in MATCH_TYPES:
            problems.append((1, f"match_type '{match_type}' is not one of {', '.join(MATCH_TYPES)}"))
        if pattern == "":
            problems.append((2, "the pattern is empty"))
        valid_regex = match_type == "regex" and pattern != "" and compile_rule_regex(pattern) is not None
        if match_type == "regex" and pattern != "" and not valid_regex:
            problems.append((3, "not a valid RE2 regular expression"))
        problems += _unmatchable(match_type, pattern, valid_regex)
        if category not in known:
            problems.append((10, f"category '{category}' has no code in url_category_codes"))
        if rule.priority is None:
            problems.append((11, "the priority is empty"))
        else:
            others = sorted(
                other.rule_id
                for other, priority in zip(rules.itertuples(index=False), priorities, strict=True)
                if priority == rule.priority and other.rule_id != rule_id
            )
            if others:
                problems.append(
                    (
                        12,
                        f"priority {rule.priority} is also the priority of {', '.join(others)}"
                        + " (the winner would be arbitrary)",
                    )
                )
        sort_priority = float("inf") if rule.priority is None else rule.priority
        found += [
            (sort_priority, rule_id, order, f"rule {rule_id} ({match_type} '{pattern}'): {problem}")
            for order, problem in problems
        ]
    return [line for *_, line in sorted(found)]
