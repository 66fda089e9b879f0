"""FastAPI scoring service over the models the last `dbt build` saved.

The service never re-implements a model: it turns request bodies into DataFrames shaped like
`contact_features` (through DuckDB, so the dtypes are those the dbt Python models saw)
and calls the loaders' `.score`. Page URLs are normalised and categorised by `journeys.urls`, the
Python twin of the SQL rules, read from the same seeds.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import duckdb
import numpy as np
import pandas as pd
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from journeys.contract import COURSE_COLUMNS, DAYS_COLUMNS, FLAG_COLUMNS, INTEGER_COUNT_COLUMNS, TEXT_COLUMNS
from journeys.urls import DEFAULT_SEEDS_DIR, UrlCategorizer, max_sequence_length

log = logging.getLogger(__name__)

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
        default=None, ge=-MAX_DAYS, le=MAX_DAYS, allow_inf_nan=False, description="days before reference_date"
    ),
]
Text = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=500), Field(default=None)]


class SegmentModel(Protocol):
    """What `journeys.segments.load_segment_model` returns (see docs/architecture.md)."""

    version: str

    def score(self, features: pd.DataFrame) -> pd.DataFrame: ...


class PropensityModel(Protocol):
    """What `journeys.propensity.load_propensity_model` returns (see docs/architecture.md)."""

    version: str
    threshold: float

    def score(self, features: pd.DataFrame) -> pd.DataFrame: ...


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
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value


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
        description="pages seen, oldest first; only the most recent `max_sequence_length` are used",
    )

    @field_validator("pages")
    @classmethod
    def _dates_in_visit_order(cls, pages: list[PageView]) -> list[PageView]:
        """Dated pages must not go back in time: the list is the visit order."""
        dated = [page.seen_at for page in pages if page.seen_at is not None]
        for position, (earlier, later) in enumerate(itertools.pairwise(dated), start=1):
            if later < earlier:
                raise ValueError(
                    f"pages are not in visit order: dated page {position + 1} is older than {position}"
                )
        return pages


class SegmentContact(ContactBase):
    """A contact to segment: the course flags are segment features."""

    course_deep_learning_specialization: bool = False
    course_ai_for_everyone: bool = False
    course_natural_language_processing: bool = False
    course_tensorflow_developer_certificate: bool = False
    course_ai_for_medicine: bool = False
    course_tensorflow_data_and_deployment: bool = False


class PropensityContact(ContactBase):
    """A contact to score for purchase propensity: course flags are the label, so they are refused."""


C = TypeVar("C", bound=ContactBase)


def _unique_ids(contacts: list[C]) -> list[C]:
    """Scores are keyed by contact_id, so a batch holds each contact once."""
    ids = np.array([contact.contact_id for contact in contacts], dtype=np.int64)
    values, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"duplicate contact_id {int(values[counts > 1][0])}: each contact once per batch")
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
    segment_id: int
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
    version: str
    loaded_at: datetime


class Health(BaseModel):
    status: str
    segments: ModelInfo
    propensity: ModelInfo
    max_contacts_per_request: int
    max_body_bytes: int


class ErrorDetail(BaseModel):
    field: str = Field(description="where the fault is, e.g. contacts[3].num_sessions")
    message: str
    type: str


class ErrorResponse(BaseModel):
    detail: list[ErrorDetail] | str


@dataclass(frozen=True)
class Countries:
    """Known country names and ISO-2 codes (seeds/countries.csv), as the staging layer accepts them."""

    names: frozenset[str]
    codes: frozenset[str]

    @classmethod
    def from_seed(cls, seeds_dir: Path | None = None) -> Countries:
        path = Path(seeds_dir or DEFAULT_SEEDS_DIR) / "countries.csv"
        seed = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = {"country_name", "country_code"} - set(seed.columns)
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        return cls(frozenset(seed["country_name"].str.lower()), frozenset(seed["country_code"].str.lower()))

    def check(self, contacts: list[ContactBase]) -> None:
        """422 naming each unknown country: the warehouse would store NULL, the service says so instead."""
        errors = [
            {"loc": ("body", "contacts", i, field), "msg": f"{value!r} is not a known {what} (seeds/countries.csv)",
             "type": "value_error"}
            for i, contact in enumerate(contacts)
            for field, value, known, what in (
                ("ip_country", contact.ip_country, self.names, "country name"),
                ("ip_country_code", contact.ip_country_code, self.codes, "country code"),
            )
            if value is not None and value.strip().lower() not in known
        ]  # fmt: skip
        if errors:
            raise RequestValidationError(errors)


@dataclass(frozen=True)
class LoadedModels:
    """The models, URL rules and known countries one service instance scores with."""

    segments: SegmentModel
    propensity: PropensityModel
    categorizer: UrlCategorizer
    countries: Countries
    max_sequence_length: int
    loaded_at: datetime


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, f"request body larger than {MAX_BODY_BYTES} bytes; send smaller batches")


class BodySizeLimit:
    """ASGI middleware: 413 before reading a body that announces, or turns out, too large."""

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            status = 413 if declared.isdigit() else 400
            message = BodyTooLarge().detail if status == 413 else "invalid Content-Length header"
            await JSONResponse({"detail": message}, status_code=status)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLarge()
            return message

        await self.app(scope, limited_receive, send)


def _field_path(loc: tuple[Any, ...]) -> str:
    """`("body", "contacts", 3, "num_sessions")` -> `contacts[3].num_sessions`."""
    path = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each field at fault; the offending value is not echoed (it may be personal data)."""
    detail = [
        {"field": _field_path(tuple(error["loc"])), "message": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def features_frame(
    contacts: list[ContactBase], categorizer: UrlCategorizer, sequence_length: int
) -> pd.DataFrame:
    """Request contacts -> DataFrame with the columns and dtypes of `contact_features`."""
    rows = [contact.model_dump(exclude={"pages"}) for contact in contacts]
    frame = pd.DataFrame(rows)
    urls = [page.url for contact in contacts for page in contact.pages]
    lengths = [len(contact.pages) for contact in contacts]
    codes = categorizer.category_codes(urls) if urls else np.empty(0, dtype=np.int64)
    sequences = [chunk[-sequence_length:].tolist() for chunk in np.split(codes, np.cumsum(lengths)[:-1])]
    dates = [[page.seen_at for page in contact.pages if page.seen_at is not None] for contact in contacts]
    frame["page_count"] = [len(contact.pages[-sequence_length:]) for contact in contacts]
    frame["category_codes"] = [",".join(map(str, sequence)) for sequence in sequences]
    frame["first_page_at"] = pd.to_datetime([d[0] if d else None for d in dates]).astype("datetime64[us]")
    frame["last_page_at"] = pd.to_datetime([d[-1] if d else None for d in dates]).astype("datetime64[us]")
    for column in INTEGER_COUNT_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    for column in ("avg_pageviews", *DAYS_COLUMNS):
        frame[column] = frame[column].astype("Float64")
    for column in ("ip_country", "ip_country_code", *TEXT_COLUMNS):
        frame[column] = frame[column].astype("string")
    courses = [column for column in COURSE_COLUMNS if column in frame.columns]
    select_courses = "".join(f", {column}" for column in courses)
    is_buyer = f", ({' or '.join(courses)}) as is_buyer" if courses else ""
    with duckdb.connect() as con:
        con.register("request_contacts", frame)
        return con.execute(
            f"""
            select
                cast(contact_id as bigint) as contact_id,
                {", ".join(f"cast({c} as integer) as {c}" for c in INTEGER_COUNT_COLUMNS)},
                cast(avg_pageviews as double) as avg_pageviews,
                nullif(lower(trim(ip_country)), '') as ip_country,
                lower(ip_country_code) as ip_country_code,
                {", ".join(f"nullif({c}, '') as {c}" for c in TEXT_COLUMNS)},
                {", ".join(f"cast({c} as boolean) as {c}" for c in FLAG_COLUMNS)},
                {", ".join(f"cast({c} as double) as {c}" for c in DAYS_COLUMNS)},
                page_count > 0 as has_page_history,
                cast(page_count as integer) as page_count,
                case when category_codes = '' then []::integer[]
                    else cast(string_split(category_codes, ',') as integer[]) end as category_codes,
                cast(first_page_at as timestamp) as first_page_at,
                cast(last_page_at as timestamp) as last_page_at
                {is_buyer}{select_courses}
            from request_contacts
            """
        ).df()


def create_app(models: LoadedModels) -> FastAPI:
    """The application over already loaded models (tests pass their own)."""
    app = FastAPI(
        title="customer-journeys scoring service",
        version="1",
        description=(
            f"Scores contacts with the segment and purchase-propensity models of the last `dbt build`. "
            f"At most {MAX_CONTACTS_PER_REQUEST} contacts per request and {MAX_BODY_BYTES} bytes per body "
            f"(413 beyond); invalid input gets 422 naming the field at fault. Page URLs are normalised and "
            f"categorised by the same seed rules as the warehouse."
        ),
    )
    app.add_middleware(BodySizeLimit)
    app.add_exception_handler(RequestValidationError, _validation_error)
    errors = {413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}}

    @app.get("/health", response_model=Health)
    def health() -> Health:
        """Model versions and when they were loaded."""
        return Health(
            status="ok",
            segments=ModelInfo(version=models.segments.version, loaded_at=models.loaded_at),
            propensity=ModelInfo(version=models.propensity.version, loaded_at=models.loaded_at),
            max_contacts_per_request=MAX_CONTACTS_PER_REQUEST,
            max_body_bytes=MAX_BODY_BYTES,
        )

    @app.post("/v1/segments", response_model=SegmentResponse, responses=errors)
    def segments(request: SegmentRequest) -> SegmentResponse:
        """Segment id and dissimilarity to its centroid for each contact."""
        models.countries.check(request.contacts)
        features = features_frame(request.contacts, models.categorizer, models.max_sequence_length)
        scores = models.segments.score(features).set_index("contact_id").loc[features["contact_id"]]
        return SegmentResponse(
            model_version=models.segments.version,
            results=[
                SegmentScore(
                    contact_id=int(i), segment_id=int(s), dissimilarity=None if pd.isna(d) else float(d)
                )
                for i, s, d in zip(scores.index, scores["segment_id"], scores["dissimilarity"], strict=True)
            ],
        )

    @app.post("/v1/propensity", response_model=PropensityResponse, responses=errors)
    def propensity(request: PropensityRequest) -> PropensityResponse:
        """Purchase propensity and the flag at the model's threshold for each contact."""
        models.countries.check(request.contacts)
        features = features_frame(request.contacts, models.categorizer, models.max_sequence_length)
        scores = models.propensity.score(features).set_index("contact_id").loc[features["contact_id"]]
        classes = (
            scores["predicted_class"] if "predicted_class" in scores else pd.Series(pd.NA, index=scores.index)
        )
        threshold = models.propensity.threshold
        return PropensityResponse(
            model_version=models.propensity.version,
            threshold=None if threshold is None else float(threshold),
            results=[
                PropensityScore(
                    contact_id=int(i),
                    propensity=None if pd.isna(p) else float(p),
                    predicted_flag=None if pd.isna(f) else bool(f),
                    predicted_class=None if pd.isna(k) else str(k),
                    category_codes=[int(code) for code in c],
                )
                for i, p, f, k, c in zip(
                    scores.index,
                    scores["propensity"],
                    scores["predicted_flag"],
                    classes,
                    features["category_codes"],
                    strict=True,
                )
            ],
        )

    return app


def warehouse_contacts(
    con: duckdb.DuckDBPyConnection, contact_ids: list[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Request contacts (segments, propensity) describing warehouse contacts as a client sends them:
    features from `contact_features`, raw page URLs oldest first from
    `int_page_views_categorized`. Used by the parity test and the benchmark."""
    con.execute("create or replace temporary table wanted_contacts (contact_id bigint)")
    con.executemany("insert into wanted_contacts values (?)", [[int(i)] for i in contact_ids])
    features = con.execute(
        "select f.* from contact_features as f join wanted_contacts using (contact_id) "
        "order by contact_id"
    ).df()
    pages = con.execute(
        "select p.contact_id, p.raw_url as url, strftime(p.changed_at, '%Y-%m-%dT%H:%M:%S') as seen_at "
        "from int_page_views_categorized as p join wanted_contacts using (contact_id) "
        "order by p.contact_id, p.position"
    ).df()
    pages["seen_at"] = pages["seen_at"].astype(object).where(pages["seen_at"].notna(), None)
    by_contact = {
        int(contact_id): group[["url", "seen_at"]].to_dict(orient="records")
        for contact_id, group in pages.groupby("contact_id", sort=False)
    }
    base_fields = [name for name in ContactBase.model_fields if name not in ("pages",)]
    records = (
        features[base_fields]
        .astype(object)
        .where(features[base_fields].notna(), None)
        .to_dict(orient="records")
    )
    courses = features[list(COURSE_COLUMNS)].fillna(False).astype(bool).to_dict(orient="records")
    propensity, segments = [], []
    for record, course_flags in zip(records, courses, strict=True):
        record = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in record.items()}
        record["pages"] = by_contact.get(record["contact_id"], [])
        propensity.append(record)
        segments.append({**record, **course_flags})
    return segments, propensity


def load_models(artifacts_dir: Path, seeds_dir: Path | None = None) -> LoadedModels:
    """Load both model families from `artifacts_dir` and the URL rules from the seeds."""
    from journeys.propensity import load_propensity_model
    from journeys.segments import load_segment_model

    propensity = load_propensity_model(artifacts_dir)
    categorizer = UrlCategorizer.from_seeds(seeds_dir)
    _check_category_codes(propensity.category_names, categorizer.codes)
    return LoadedModels(
        segments=load_segment_model(artifacts_dir),
        propensity=propensity,
        categorizer=categorizer,
        countries=Countries.from_seed(seeds_dir),
        max_sequence_length=max_sequence_length(),
        loaded_at=datetime.now(UTC),
    )


def _check_category_codes(trained: dict[int, str], seed_codes: dict[str, int]) -> None:
    """Refuse to serve when url_category_codes.csv no longer holds the codes the model was trained on."""
    current = {code: category for category, code in seed_codes.items()}
    changed = sorted(
        f"{code}: trained {trained.get(code)!r}, seed {current.get(code)!r}"
        for code in set(trained) | set(current)
        if trained.get(code) != current.get(code)
    )
    if changed:
        raise ValueError(
            "seeds/url_category_codes.csv differs from the category codes the propensity model was trained "
            f"with ({'; '.join(changed)}): run `make build` again before serving"
        )


def run(host: str, port: int, artifacts_dir: Path) -> None:
    """`journeys serve`: load the artifacts, then serve on host:port with uvicorn."""
    import uvicorn

    models = load_models(Path(artifacts_dir))
    log.info("loaded segments %s and propensity %s", models.segments.version, models.propensity.version)
    uvicorn.run(create_app(models), host=host, port=port, log_level="info")
