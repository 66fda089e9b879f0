"""Request contacts -> columns of NumPy arrays named like `contact_features`.

The values are those the SQL layer would store for the same contact (countries lower-cased, empty text
NULL, the most recent `max_sequence_length` page categories), so the models see what they saw in the build.
No DataFrame is built: a request of one contact must cost microseconds here, not the milliseconds of pandas.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from journeys.contract import ACTIVITY_COLUMNS, COURSE_COLUMNS, DAYS_COLUMNS
from journeys.contract import FLAG_COLUMNS as CONTRACT_FLAG_COLUMNS
from journeys.contract import TEXT_COLUMNS as CONTRACT_TEXT_COLUMNS
from journeys.service.schemas import ContactBase, PageView
from journeys.urls import UrlCategorizer
from journeys.urls.redaction import redact_text

# The contract columns the service builds from a request (first_page_at / last_page_at are not among them).
NUMERIC_COLUMNS = (*ACTIVITY_COLUMNS, *DAYS_COLUMNS, "page_count")
TEXT_COLUMNS = ("ip_country", "ip_country_code", *CONTRACT_TEXT_COLUMNS)
FLAG_COLUMNS = (*CONTRACT_FLAG_COLUMNS, "has_page_history")
SEGMENT_FLAG_COLUMNS = (*FLAG_COLUMNS, *COURSE_COLUMNS)  # course flags are segment inputs, propensity labels
DEFAULT_CACHED_URLS = 50_000


@dataclass(frozen=True)
class ContactBatch:
    """Contacts as columns. Numbers are float64 with NaN for missing, texts object arrays with None for
    missing, flags bool; `sequences` holds each contact's most recent category codes, oldest first,
    0-padded at the end, and `page_count` how many of them are real; `recorded` and `recorded_count` the same
    for its recorded Last Page Seen history (`recorded_pages`)."""

    contact_id: np.ndarray
    numbers: dict[str, np.ndarray]
    texts: dict[str, np.ndarray]
    flags: dict[str, np.ndarray]
    sequences: np.ndarray
    page_count: np.ndarray
    recorded: np.ndarray
    recorded_count: np.ndarray

    def __len__(self) -> int:
        return len(self.contact_id)

    @property
    def columns(self) -> set[str]:
        """Contract columns this batch holds, besides the page sequence."""
        return {"contact_id", *self.numbers, *self.texts, *self.flags}

    def rows(self, index: np.ndarray) -> ContactBatch:
        """The contacts at `index` (positions or a boolean mask)."""

        def pick(part: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {name: values[index] for name, values in part.items()}

        return ContactBatch(self.contact_id[index], pick(self.numbers), pick(self.texts), pick(self.flags),
                            self.sequences[index], self.page_count[index], self.recorded[index],
                            self.recorded_count[index])  # fmt: skip

    def category_codes(self) -> list[list[int]]:
        """Each contact's codes, oldest first (what the model saw)."""
        return _lists(self.sequences, self.page_count)

    def recorded_codes(self) -> list[list[int]]:
        """Each contact's recorded-history codes, oldest first."""
        return _lists(self.recorded, self.recorded_count)


def _lists(padded: np.ndarray, counts: np.ndarray) -> list[list[int]]:
    return [row[:count] for row, count in zip(padded.tolist(), counts.tolist(), strict=True)]


class CategoryCodes:
    """Raw page URL -> category code through the seed rules, remembering the last `capacity` distinct URLs.

    Normalising and matching a URL costs pandas string operations over every rule; the same pages come up
    again and again in traffic, so each is worked once. Thread-safe: both models' batcher threads use it.
    """

    def __init__(self, categorizer: UrlCategorizer, capacity: int = DEFAULT_CACHED_URLS) -> None:
        self.categorizer = categorizer
        self.capacity = capacity
        self._known: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, urls: list[str]) -> np.ndarray:
        with self._lock:
            unknown = list({url for url in urls if url not in self._known})
            fresh = (
                dict(zip(unknown, self.categorizer.category_codes(unknown).tolist(), strict=True))
                if unknown
                else {}
            )
            codes = np.fromiter(
                (fresh[url] if url in fresh else self._known[url] for url in urls),
                dtype=np.int64,
                count=len(urls),
            )
            overflow = len(self._known) + len(fresh) - self.capacity
            if overflow > 0:  # forget the URLs first seen longest ago
                for url in list(itertools.islice(self._known, min(overflow, len(self._known)))):
                    del self._known[url]
            self._known.update(itertools.islice(fresh.items(), self.capacity))
            return codes


def contact_batch(
    contacts: Sequence[ContactBase], category_codes: CategoryCodes, sequence_length: int
) -> ContactBatch:
    """The columns of `contacts`, as the SQL layer would hold them for the same export rows."""
    n = len(contacts)
    numbers = {name: np.array([getattr(c, name) for c in contacts], dtype=np.float64)
               for name in NUMERIC_COLUMNS if name != "page_count"}  # fmt: skip
    country = [c.ip_country.lower() if c.ip_country else None for c in contacts]
    country_code = [c.ip_country_code.lower() if c.ip_country_code else None for c in contacts]
    texts = {
        "ip_country": np.array(country, dtype=object),
        "ip_country_code": np.array(country_code, dtype=object),
    }
    for name in CONTRACT_TEXT_COLUMNS:  # nullif(..., ''), addresses redacted as in the warehouse's staging
        texts[name] = np.array([redact_text(getattr(c, name) or None) for c in contacts], dtype=object)
    flag_columns = [
        name
        for name in (*CONTRACT_FLAG_COLUMNS, *COURSE_COLUMNS)
        if n and name in type(contacts[0]).model_fields
    ]
    flags = {name: np.array([getattr(c, name) for c in contacts], dtype=bool) for name in flag_columns}

    sequences, kept = _page_codes([c.pages for c in contacts], category_codes, sequence_length)
    recorded, recorded_kept = _page_codes([getattr(c, "recorded_pages", []) for c in contacts], category_codes,
                                          sequence_length)
    numbers["page_count"] = kept.astype(np.float64)
    flags["has_page_history"] = kept > 0
    return ContactBatch(np.array([c.contact_id for c in contacts], dtype=np.int64), numbers, texts, flags,
                        sequences, kept, recorded, recorded_kept)  # fmt: skip


def _page_codes(pages: list[list[PageView]], category_codes: CategoryCodes, length: int,
                ) -> tuple[np.ndarray, np.ndarray]:
    """[n, length] category codes of each contact's most recent `length` pages, oldest first, 0-padded at the
    end, and how many are real."""
    kept = np.minimum(np.array([len(p) for p in pages], dtype=np.int64), length)
    codes = np.zeros((len(pages), length), dtype=np.int64)
    urls = [page.url for contact_pages in pages for page in contact_pages[-length:]]
    if urls:
        rows = np.repeat(np.arange(len(pages)), kept)
        positions = np.arange(len(urls)) - np.repeat(np.cumsum(kept) - kept, kept)
        codes[rows, positions] = category_codes(urls)
    return codes, kept
