"""Request and response bodies of the scoring service, with the limits they enforce.

Every feature is optional (missing = NULL, as in the export); bad values get a 422 naming the field.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, field_validator

from journeys.contract import COURSE_COLUMNS

MAX_CONTACTS_PER_REQUEST = 1_000
MAX_PAGES_PER_CONTACT = 100
MAX_URL_LENGTH = 4_096
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_COUNT = 10_000_000
MAX_DAYS = 100_000.0


Count = Annotated[int | None, Field(default=None, ge=0, le=MAX_COUNT)]
Days = Annotated[
    float | None,
    Field(
        default=None, ge=-MAX_DAYS, le=MAX_DAYS, allow_inf_nan=False, description="days before journeys_reference_date"
    ),
]
Text = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=500), Field(default=None)]


class PageView(BaseModel):
    """One page the contact saw; pages are listed in visit order, oldest first."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL_LENGTH, pattern=r"[^ ]")] = Field(
        description="the page URL as HubSpot recorded it (tracking parameters are removed by the service)"
    )
    seen_at: datetime | None = Field(
        default=None, description="when HubSpot recorded the page (UTC when a zone is given); optional"
    )

    @field_validator("seen_at")
    @classmethod
    def _naive_utc(cls, value: datetime | None) -> datetime | None:
        """The warehouse holds naive timestamps: aware ones are converted to UTC."""
        if value is not None and value.tzinfo is not None:
            try:
                value = value.astimezone(UTC).replace(tzinfo=None)
            except OverflowError:  # e.g. 0001-01-01 at +05:00 is before year 1 in UTC
                raise ValueError("seen_at is outside the years 1-9999 once converted to UTC") from None
        return value


def _in_visit_order(pages: list[PageView]) -> list[PageView]:
    """Dated pages must not go back in time: the list is the visit order."""
    dated = [page.seen_at for page in pages if page.seen_at is not None]
    for position, (earlier, later) in enumerate(itertools.pairwise(dated), start=1):
        if later < earlier:
            raise ValueError(f"pages are not in visit order: dated page {position + 1} is older than {position}")
    return pages


class ContactBase(BaseModel):
    """Features of one contact, as the export holds them; every feature is optional (missing = NULL)."""

    model_config = ConfigDict(extra="forbid")

    contact_id: int = Field(ge=1, le=2**63 - 1, description="HubSpot Contact ID")
    num_sessions: Count
    num_pageviews: Count
    emails_delivered: Count
    emails_opened: Count
    emails_clicked: Count
    avg_pageviews: Annotated[float | None, Field(default=None, ge=0, le=MAX_COUNT, allow_inf_nan=False)]
    ip_country: Text
    ip_country_code: Annotated[str | None, Field(default=None, pattern=r"^[A-Za-z]{2}$")]
    last_email_name: Text
    last_event: Text
    job_title: Text
    education: Text
    opted_out_events: bool = False
    opted_out_announcements: bool = False
    opted_out_batch: bool = False
    unsubscribed_all: bool = False
    has_company: bool = False
    is_bulk_import: bool = False
    days_since_lead: Days
    days_since_subscriber: Days
    days_since_first_conversion: Days
    days_since_first_email_send: Days
    days_since_first_email_open: Days
    days_since_first_email_click: Days
    days_since_last_email_send: Days
    days_since_last_email_open: Days
    days_since_last_email_click: Days
    days_since_last_event: Days
    pages: list[PageView] = Field(
        default_factory=list,
        max_length=MAX_PAGES_PER_CONTACT,
        description="pages seen, oldest first; only the most recent `journeys_max_sequence_length` (of the build the model came from) are used",
    )

    _pages_in_visit_order = field_validator("pages")(_in_visit_order)


# A contact to segment: the course flags (one per course of the contract) are segment features.
SegmentContact = create_model(
    "SegmentContact", __base__=ContactBase, __doc__="A contact to segment: the course flags are segment features.",
    **{name: (bool, False) for name in COURSE_COLUMNS},
)


class PropensityContact(ContactBase):
    """A contact to score for purchase propensity: course flags are the label, so they are refused."""

    recorded_pages: list[PageView] = Field(
        default_factory=list,
        max_length=MAX_PAGES_PER_CONTACT,
        description="the contact's recorded Last Page Seen history (HubSpot's page history, at most its four "
        "slots), oldest first, cut like `pages`; a model trained on an export with page_events reads it beside "
        "`pages` (which then hold the on-site events), one trained on that history alone ignores it",
    )

    _recorded_in_visit_order = field_validator("recorded_pages")(_in_visit_order)


C = TypeVar("C", bound=ContactBase)


def _unique_ids(contacts: list[C]) -> list[C]:
    """Scores are keyed by contact_id, so a batch holds each contact once."""
    seen: set[int] = set()
    for contact in contacts:
        if contact.contact_id in seen:
            raise ValueError(f"duplicate contact_id {contact.contact_id}: each contact once per batch")
        seen.add(contact.contact_id)
    return contacts


class SegmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contacts: list[SegmentContact] = Field(min_length=1, max_length=MAX_CONTACTS_PER_REQUEST)

    @field_validator("contacts")
    @classmethod
    def _unique(cls, contacts: list[SegmentContact]) -> list[SegmentContact]:
        return _unique_ids(contacts)


class PropensityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contacts: list[PropensityContact] = Field(min_length=1, max_length=MAX_CONTACTS_PER_REQUEST)

    @field_validator("contacts")
    @classmethod
    def _unique(cls, contacts: list[PropensityContact]) -> list[PropensityContact]:
        return _unique_ids(contacts)


class SegmentScore(BaseModel):
    contact_id: int
    segment_id: int = Field(description="stable segment id (contact_segments.segment_id)")
    segment_name: str = Field(description="the segment's short name (segments.segment_name)")
    segment_description: str = Field(
        description="one line on what sets it apart (segments.segment_description)"
    )
    dissimilarity: float | None = Field(description="distance to the segment's centroid; null if undefined")


class PropensityScore(BaseModel):
    contact_id: int
    propensity: float | None = Field(
        description="null for a contact without pages (outside the model's question)"
    )
    predicted_flag: bool | None = Field(
        description="propensity >= threshold; null without pages or threshold"
    )
    predicted_class: str | None = Field(
        default=None, description="the predicted class when the model names one"
    )
    category_codes: list[int] = Field(description="the category codes the model saw, oldest first")


class SegmentResponse(BaseModel):
    model_version: str
    results: list[SegmentScore]


class PropensityResponse(BaseModel):
    model_version: str
    threshold: float | None
    results: list[PropensityScore]


class ModelInfo(BaseModel):
    version: str = Field(description="the version served")
    loaded_at: datetime = Field(description="when it was loaded (the first load, or its swap)")
    refused: str | None = Field(default=None, description="a newer current version that failed to load, and why")


class Health(BaseModel):
    status: Literal["ok", "loading", "failed"] = Field(
        description="`ok` once both models are loaded (200); `loading` or `failed` before (503)"
    )
    ready: bool = Field(description="whether the scoring endpoints take traffic")
    segments: ModelInfo | None = Field(description="the loaded segment model; null until loaded")
    propensity: ModelInfo | None = Field(description="the loaded propensity model; null until loaded")
    error: str | None = Field(default=None, description="why loading failed")
    max_contacts_per_request: int
    max_body_bytes: int


class ErrorDetail(BaseModel):
    field: str = Field(description="where the fault is, e.g. contacts[3].num_sessions")
    message: str
    type: str


class ErrorResponse(BaseModel):
    detail: list[ErrorDetail] | str
