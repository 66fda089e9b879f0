"""Column groups of `contact_features`, the table every model reads (docs/architecture.md).

One place for the names, so the models, the service and the evaluations cannot drift apart.
"""

from __future__ import annotations

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
# Timestamps as days before the dbt var `reference_date`.
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
