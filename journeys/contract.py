"""Column groups of `contact_features`, the table every model reads (docs/architecture.md), and the context
that shaped them (`ScoringContext`, saved with each model).

One place for the names, so the models, the service and the evaluations cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from journeys.urls import UrlCategorizer

# Activity measures, in the contract's order: integer counts plus `avg_pageviews` (a double).
ACTIVITY_COLUMNS: tuple[str, ...] = (
    "num_sessions",
    "num_pageviews",
    "avg_pageviews",
    "emails_delivered",
    "emails_opened",
    "emails_clicked",
)
INTEGER_COUNT_COLUMNS: tuple[str, ...] = tuple(c for c in ACTIVITY_COLUMNS if c != "avg_pageviews")
# Timestamps as days before the dbt var `journeys_reference_date`.
DAYS_COLUMNS: tuple[str, ...] = (
    "days_since_lead",
    "days_since_subscriber",
    "days_since_first_conversion",
    "days_since_first_email_send",
    "days_since_first_email_open",
    "days_since_first_email_click",
    "days_since_last_email_send",
    "days_since_last_email_open",
    "days_since_last_email_click",
    "days_since_last_event",
)
TEXT_COLUMNS: tuple[str, ...] = ("last_email_name", "last_event", "job_title", "education")
FLAG_COLUMNS: tuple[str, ...] = (
    "opted_out_events",
    "opted_out_announcements",
    "opted_out_batch",
    "unsubscribed_all",
    "has_company",
    "is_bulk_import",
)
# One flag per course of the courses field: the labels, never model inputs.
COURSE_COLUMNS: tuple[str, ...] = (
    "course_deep_learning_specialization",
    "course_ai_for_everyone",
    "course_natural_language_processing",
    "course_tensorflow_developer_certificate",
    "course_ai_for_medicine",
    "course_tensorflow_data_and_deployment",
)


@dataclass(frozen=True)
class ScoringContext:
    """What the build's seeds and vars did to a contact's raw inputs, saved with each model it trained: the
    known countries (a country the seed lacks is NULL), and for the page sequences the URL rules, category
    codes, site hosts and query allowlist (`journeys.urls.UrlCategorizer`) and the collated length (var
    `journeys_max_sequence_length`). The service scores with this, never with the repository's current seeds or vars."""

    country_names: frozenset[str]
    country_codes: frozenset[str]
    urls: UrlCategorizer | None = None
    max_sequence_length: int | None = None

    @classmethod
    def from_build(cls, countries: pd.DataFrame, url_rules: pd.DataFrame | None = None,
                   category_codes: pd.DataFrame | None = None, site_hosts: Sequence[str] = (),
                   url_query_allowlist: Sequence[str] = (), max_sequence_length: int | None = None) -> ScoringContext:
        """From the seeds as dbt read them (countries; url_categories and url_category_codes) and the vars."""
        urls = None if url_rules is None else UrlCategorizer.from_frames(url_rules, category_codes, site_hosts,
                                                                         url_query_allowlist)
        return cls(frozenset(countries["country_name"].astype(str).str.lower()),
                   frozenset(countries["country_code"].astype(str).str.lower()), urls,
                   None if max_sequence_length is None else int(max_sequence_length))

    def to_json(self) -> dict[str, Any]:
        return {"country_names": sorted(self.country_names), "country_codes": sorted(self.country_codes),
                "urls": None if self.urls is None else self.urls.to_json(),
                "max_sequence_length": self.max_sequence_length}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScoringContext:
        return cls(frozenset(data["country_names"]), frozenset(data["country_codes"]),
                   None if data["urls"] is None else UrlCategorizer.from_json(data["urls"]),
                   data["max_sequence_length"])
