"""Dirt a real export carries, each kind at a documented small rate and switchable off (rate 0).

URL dirt is applied to the journey URLs before the files are assembled, so `Last Page Seen` and the
history's current value stay equal; cell dirt is applied to the formatted tables. The truth file is never
dirtied and stays keyed by the real contact ids (duplicates repeat a real id).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from journeys.synth.url_templates import random_tokens


@dataclass(frozen=True)
class DirtRates:
    """Probability of each kind of dirt; `DirtRates.off()` gives a clean export."""

    empty_cell: float = 0.003
    """Share of otherwise filled cells blanked in EMPTY_CELL_COLUMNS (export only)."""
    malformed_timestamp: float = 0.002
    """Share of filled timestamp cells (both files) replaced by one of MALFORMED_TIMESTAMPS."""
    bad_count: float = 0.002
    """Share of filled count cells (COUNT_COLUMNS) made negative (`-n`) or non-numeric (`n/a`, `12x`)."""
    duplicate_contact_id: float = 0.001
    """Share of export rows that appear again, as an exact copy at a random later position in its chunk."""
    unknown_country: float = 0.003
    """Share of filled `IP Country` cells replaced by a non-country (UNKNOWN_COUNTRIES), code to match."""
    foreign_url: float = 0.003
    """Share of journey URLs replaced by a page of another site (FOREIGN_URLS)."""
    long_url: float = 0.001
    """Share of journey URLs extended with a tracking token to more than 2,000 characters."""
    non_ascii: float = 0.002
    """Share of filled text cells (TEXT_COLUMNS) and journey URLs given non-ASCII characters."""
    stray_delimiter: float = 0.002
    """Share of filled text cells and journey URLs given a comma or a double quote (RFC-4180 quoted)."""
    broken_line: float = 0.00002
    """Share of export rows written truncated (fewer than 34 fields), as a hand-edited file can have.

    round(rate x rows) per chunk of the writer (one chunk is 200,000 contacts)."""

    @classmethod
    def off(cls) -> DirtRates:
        """No dirt at all."""
        return cls(**{f.name: 0.0 for f in fields(cls)})


TIMESTAMP_COLUMNS: tuple[str, ...] = (
    "Became a Lead Date",
    "Became a Subscriber Date",
    "First Conversion Date",
    "First marketing email click date",
    "First marketing email open date",
    "First marketing email send date",
    "Last Activity Date",
    "Last marketing email click date",
    "Last marketing email open date",
    "Last marketing email send date",
    "Last Registered Event Date",
)
HISTORY_DATE_COLUMNS: tuple[str, ...] = (
    "Last Page Seen Change Date",
    "Last Page Seen Change Date (1)",
    "Last Page Seen Change Date (2)",
)
COUNT_COLUMNS: tuple[str, ...] = (
    "Average Pageviews",
    "Number of Pageviews",
    "Number of Sessions",
    "Marketing emails opened",
    "Marketing emails delivered",
    "Marketing emails clicked",
)
EMPTY_CELL_COLUMNS: tuple[str, ...] = (
    "Number of Sessions",
    "Number of Pageviews",
    "Average Pageviews",
    "Marketing emails delivered",
    "Became a Subscriber Date",
    "Became a Lead Date",
    "First marketing email send date",
    "Last marketing email name",
    "IP Country",
    "Last Page Seen",
)
TEXT_COLUMNS: tuple[str, ...] = (
    "Last marketing email name",
    "Last Registered Event",
    "Job Title or Function",
    "Highest level of completed education",
)
MALFORMED_TIMESTAMPS: tuple[str, ...] = (
    "2020-13-45 25:61:00",
    "31/12/2020 10:59",
    "2020-02-30 10:00:00",
    "#VALUE!",
    "0000-00-00 00:00:00",
)
UNKNOWN_COUNTRIES: tuple[tuple[str, str], ...] = (
    ("unknown", "--"),
    ("europe", "eu"),
    ("asia/pacific region", "ap"),
    ("anonymous proxy", "a1"),
    ("satellite provider", "a2"),
)
FOREIGN_URLS: tuple[str, ...] = (
    "https://www.coursera.org/specializations/deep-learning",
    "https://www.google.com/search?q=deeplearning",
    "https://www.youtube.com/watch?v=",
    "https://github.com/",
    "https://www.linkedin.com/feed/",
    "https://medium.com/@",
    "https://t.co/",
)
_NON_ASCII = np.array(["é", "ü", "ñ", "ç", "ø", "–", "✉", "データ", "Студент", "é🎉"], dtype=object)


def _mask(rng: np.random.Generator, filled: np.ndarray, rate: float) -> np.ndarray:
    """Bernoulli(rate) among `filled` entries."""
    return filled & (rng.random(filled.shape) < rate)


def dirty_urls(
    rng: np.random.Generator, url: np.ndarray, rates: DirtRates
) -> tuple[np.ndarray, dict[str, int]]:
    """Apply URL dirt to an object array of URLs (None = empty slot); returns a new array and counts."""
    url = url.copy()
    filled = url != None
    counts: dict[str, int] = {}
    foreign = _mask(rng, filled, rates.foreign_url)
    k = int(foreign.sum())
    url[foreign] = np.array(FOREIGN_URLS, dtype=object)[
        rng.integers(0, len(FOREIGN_URLS), k)
    ] + random_tokens(rng, k, 11, "abcdefghijklmnopqrstuvwxyz0123456789")
    counts["foreign_url"] = k
    rest = filled & ~foreign
    long = _mask(rng, rest, rates.long_url)
    k = int(long.sum())
    joiner = np.where(
        pd.Series(url[long], dtype=object).str.contains("?", regex=False).to_numpy(bool), "&", "?"
    )
    url[long] = (
        url[long]
        + joiner.astype(object)
        + "_hsenc=p2ANqtz-"
        + random_tokens(rng, k, 2100, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    )
    counts["long_url"] = k
    odd = _mask(rng, rest & ~long, rates.non_ascii)
    url[odd] = url[odd] + "#" + _NON_ASCII[rng.integers(0, len(_NON_ASCII), int(odd.sum()))]
    counts["non_ascii_url"] = int(odd.sum())
    stray = _mask(rng, rest & ~long & ~odd, rates.stray_delimiter)
    k = int(stray.sum())
    url[stray] = url[stray] + np.where(rng.random(k) < 0.5, "#a,b", '#say-"hi"').astype(object)
    counts["stray_delimiter_url"] = k
    return url, counts


def dirty_export(
    rng: np.random.Generator, export: pd.DataFrame, rates: DirtRates
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Apply cell dirt and duplicate rows to the formatted export (object columns, None = empty)."""
    counts: dict[str, int] = {}
    n = len(export)
    counts["malformed_timestamp"] = _malform_timestamps(rng, export, TIMESTAMP_COLUMNS, rates)

    bad = 0
    for column in COUNT_COLUMNS:
        values = export[column].to_numpy(object, copy=True)
        hit = _mask(rng, values != None, rates.bad_count)
        k = int(hit.sum())
        kind = rng.integers(0, 3, k)
        original = values[hit].astype(str)
        negative = np.where(original == "0", "-1", np.char.add("-", original)).astype(object)
        values[hit] = np.select(
            [kind == 0, kind == 1],
            [negative, np.full(k, "n/a", dtype=object)],
            np.char.add(original, "x").astype(object),
        )
        export[column] = values
        bad += k
    counts["bad_count"] = bad

    country = export["IP Country"].to_numpy(object, copy=True)
    code = export["IP Country Code"].to_numpy(object, copy=True)
    hit = _mask(rng, country != None, rates.unknown_country)
    pick = rng.integers(0, len(UNKNOWN_COUNTRIES), int(hit.sum()))
    country[hit] = np.array([c for c, _ in UNKNOWN_COUNTRIES], dtype=object)[pick]
    code[hit] = np.array([c for _, c in UNKNOWN_COUNTRIES], dtype=object)[pick]
    export["IP Country"], export["IP Country Code"] = country, code
    counts["unknown_country"] = int(hit.sum())

    odd = stray = 0
    for column in TEXT_COLUMNS:
        values = export[column].to_numpy(object, copy=True)
        filled = values != None
        hit = _mask(rng, filled, rates.non_ascii)
        values[hit] = values[hit] + " " + _NON_ASCII[rng.integers(0, len(_NON_ASCII), int(hit.sum()))]
        odd += int(hit.sum())
        hit = _mask(rng, filled & ~hit, rates.stray_delimiter)
        k = int(hit.sum())
        values[hit] = np.where(rng.random(k) < 0.5, values[hit] + ", Inc.", '"' + values[hit] + '" (2)')
        stray += k
        export[column] = values
    counts["non_ascii"], counts["stray_delimiter"] = odd, stray

    blank = 0
    for column in EMPTY_CELL_COLUMNS:
        values = export[column].to_numpy(object, copy=True)
        hit = _mask(rng, values != None, rates.empty_cell)
        values[hit] = None
        export[column] = values
        blank += int(hit.sum())
    counts["empty_cell"] = blank

    duplicated = np.flatnonzero(rng.random(n) < rates.duplicate_contact_id)
    counts["duplicate_contact_id"] = len(duplicated)
    if len(duplicated):
        # Each copy lands at a random position after its original.
        position = np.r_[
            np.arange(n, dtype=float), duplicated + 0.5 + rng.random(len(duplicated)) * (n - duplicated)
        ]
        rows = np.r_[np.arange(n), duplicated][np.argsort(position, kind="stable")]
        export = export.iloc[rows].reset_index(drop=True)
    return export, counts


def dirty_history(rng: np.random.Generator, history: pd.DataFrame, rates: DirtRates) -> dict[str, int]:
    """Malformed change dates in the page history (in place); URL dirt came with the journey URLs."""
    return {"malformed_timestamp": _malform_timestamps(rng, history, HISTORY_DATE_COLUMNS, rates)}


def _malform_timestamps(
    rng: np.random.Generator, table: pd.DataFrame, columns: tuple[str, ...], rates: DirtRates
) -> int:
    total = 0
    for column in columns:
        values = table[column].to_numpy(object, copy=True)
        hit = _mask(rng, values != None, rates.malformed_timestamp)
        values[hit] = np.array(MALFORMED_TIMESTAMPS, dtype=object)[
            rng.integers(0, len(MALFORMED_TIMESTAMPS), int(hit.sum()))
        ]
        table[column] = values
        total += int(hit.sum())
    return total


def broken_rows(rng: np.random.Generator, n_rows: int, rates: DirtRates) -> np.ndarray:
    """Sorted row positions of the export to write truncated: round(rate * rows) of them."""
    k = round(rates.broken_line * n_rows)
    return np.sort(rng.choice(n_rows, size=k, replace=False)) if k else np.zeros(0, dtype=np.int64)
